/* The volume routes: GET /volumes, POST /volumes/create, GET and DELETE
 * /volumes/{name} and POST /volumes/prune, each a thread-pool job over
 * the engine's volumes, and their events. */
#include <stdlib.h>
#include <string.h>

#include "cmd/berthd/berthd.h"
#include "daemon/volumes.h"
#include "lib/cleanup.h"
#include "lib/json.h"

void berthd_volume_events(struct berthd *d, const char *action, const json_t *names)
{
	size_t i;
	json_t *name;

	json_array_foreach (names, i, name)
		berthd_event_emit(d, "volume", action, json_string_value(name),
				  json_pack("{s:s}", "driver", "local"));
}

json_t *berthd_volume_mounts(const json_t *doc)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;

	json_array_foreach (json_object_get(doc, "Mounts"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "Type")) ?: "", "volume") == 0)
			json_array_append_new(out,
					      json_pack("{s:O, s:O, s:b}", "Name",
							json_object_get(m, "Name"), "Destination",
							json_object_get(m, "Destination"), "RW",
							json_is_true(json_object_get(m, "RW"))));
	return out;
}

void berthd_volume_mount_events(struct berthd *d, const char *action, const char *container,
				const json_t *mounts)
{
	size_t i;
	json_t *m;

	json_array_foreach (mounts, i, m) {
		json_t *attrs = json_pack("{s:s, s:s}", "container", container, "driver", "local");

		if (attrs && strcmp(action, "mount") == 0) {
			json_object_set(attrs, "destination", json_object_get(m, "Destination"));
			json_object_set_new(attrs, "propagation", json_string(""));
			json_object_set_new(attrs, "read/write",
					    json_string(json_is_true(json_object_get(m, "RW"))
								? "true"
								: "false"));
		}
		berthd_event_emit(d, "volume", action,
				  json_string_value(json_object_get(m, "Name")), attrs);
	}
}

static int list_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_json_ json_t *filters = NULL;
	json_t *volumes = NULL;

	if (bjson_filters_parse(job->names[0], NULL, &filters, err) < 0 ||
	    daemon_volume_list(e->engine, filters, false, &volumes, err) < 0)
		return -1;
	job->status = 200;
	job->result = json_pack("{s:o, s:n}", "Volumes", volumes, "Warnings");
	return 0;
}

void berthd_volumes_list(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "filters") };

	berthd_job_start(ctx, req, list_job, NULL, args, 1);
}

static int create_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_json_ json_t *body = NULL;
	const char *text = job->req->body ? job->req->body : "";
	bool created = false;

	if (bjson_load(text, job->req->body_len, SIZE_MAX, &body, err) < 0 ||
	    bjson_as_object(body, NULL, err) < 0 ||
	    daemon_volume_create(e->engine, body, &job->result, &created, err) < 0)
		return -1;
	job->status = 201;
	return 0;
}

/* As Docker's: a "create" event for a volume that was there too. */
static void create_done(struct berthd_job *job)
{
	if (!job->err) {
		json_t *name = json_pack("[O]", json_object_get(job->result, "Name"));

		berthd_volume_events(job->d, "create", name);
		json_decref(name);
	}
	berthd_job_event_done(job);
}

void berthd_volumes_create(struct api_request *req, void *ctx)
{
	if (!req->body || !*req->body) {
		api_reply_errorf(req, BERR_INVALID, "invalid JSON: request body is empty");
		return;
	}
	berthd_job_start(ctx, req, create_job, create_done, NULL, 0);
}

static int inspect_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	job->status = 200;
	return daemon_volume_inspect(e->engine, job->names[0], &job->result, err);
}

void berthd_volume_inspect(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };

	berthd_job_start(ctx, req, inspect_job, NULL, args, 1);
}

static int delete_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_berr_ struct berr *lerr = NULL;

	job->status = 204;
	if (daemon_volume_remove(e->engine, job->names[0], NULL, &lerr) == 0) {
		job->result = json_pack("[s]", job->names[0]);
		return 0;
	}
	/* Forced, a volume already gone is no error. */
	if (job->flags && lerr->kind == BERR_NOT_FOUND)
		return 0;
	berr_move(err, &lerr);
	return -1;
}

static void delete_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	berthd_volume_events(job->d, "destroy", job->result);
	api_reply(job->req, 204, NULL, NULL, 0);
}

void berthd_volume_delete(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };
	struct berthd_job *job = berthd_job_with(ctx, req, delete_job, delete_done, args, 1);

	if (job) {
		job->flags = api_query_bool(&req->query, "force");
		berthd_job_queue(job);
	}
}
