/* The image routes of the Engine API over the image store: list, inspect,
 * history, tag, delete, load, save (get) and import (create).  Every store
 * operation runs as a thread-pool job; uploads are read from the request's
 * body pipe and downloads written into a pipe the server streams out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "image/archive.h"
#include "image/query.h"
#include "image/reference.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* Reads the filters parameter, {"dangling":["true"]} (or the older
 * {"dangling":{"true":true}}), into F. */
static int parse_filters(const char *text, struct image_filters *f, struct berr **err)
{
	static const char *const known[] = { "dangling", "reference", "label",
					     "before",	 "since",     NULL };
	_cleanup_json_ json_t *keys = NULL;
	const char *key;
	json_t *vals;

	if (bjson_filters_parse(text, known, &keys, err) < 0)
		return -1;
	json_object_foreach (keys, key, vals) {
		size_t i;
		json_t *v;

		json_array_foreach (vals, i, v)
			if (image_filters_add_kv(f, key, json_string_value(v), err) < 0)
				return -1;
	}
	return 0;
}

static int list_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct image_filters f = { .dangling = -1 };
	int rc = -1;

	/* names: the filters parameter, then the legacy filter one. */
	if (parse_filters(job->names[0], &f, err) < 0)
		goto out;
	if (*job->names[1] && image_filters_add_kv(&f, "reference", job->names[1], err) < 0)
		goto out;
	rc = image_list_json(e->images, &f, &job->result, err);
out:
	image_filters_clear(&f);
	return rc;
}

/* A new job for REQ with the strings of ARGS (NULL-terminated; a NULL
 * value becomes "") as its names. */
static struct berthd_job *job_with(void *ctx, struct api_request *req, berthd_job_fn fn,
				   berthd_done_fn done, const char *const *args, size_t n)
{
	struct berthd_job *job = berthd_job_new(ctx, req, fn, done);

	if (!job)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strv_append(&job->names, args[i] ? args[i] : "") < 0) {
			berr_set(&job->err, BERR_INTERNAL, 0, "out of memory");
			break;
		}
	}
	return job;
}

static void queue_or_fail(struct berthd_job *job)
{
	if (job)
		berthd_job_queue(job);
}

void berthd_images_list(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "filters"),
			       api_query_get(&req->query, "filter") };

	queue_or_fail(job_with(ctx, req, list_job, NULL, args, 2));
}

static int inspect_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

	if (image_store_lookup(e->images, job->names[0], &img, err) < 0)
		return -1;
	return image_inspect_json(e->images, img, &job->result, err);
}

static int history_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

	if (image_store_lookup(e->images, job->names[0], &img, err) < 0)
		return -1;
	return image_history_json(e->images, img, &job->result, err);
}

void berthd_image_inspect(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };

	queue_or_fail(job_with(ctx, req, inspect_job, NULL, args, 1));
}

void berthd_image_history(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };

	queue_or_fail(job_with(ctx, req, history_job, NULL, args, 1));
}

/* {"Id": the id of the image NAME names} (empty when there is none). */
static json_t *image_id_json(struct berthd_engine *e, const char *name)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

	image_store_lookup(e->images, name, &img, NULL);
	return json_pack("{s:s}", "Id", img ? img->id : "");
}

/* An image event on the image WHO's Id names, with NAME as its "name". */
static void image_event(struct berthd *d, const char *action, const json_t *who, const char *name)
{
	const char *id = json_string_value(json_object_get(who, "Id"));

	berthd_event_emit(d, "image", action, id && *id ? id : name,
			  name ? json_pack("{s:s}", "name", name) : NULL);
}

static int tag_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *parsed = NULL;
	_cleanup_free_ char *familiar = NULL;
	_cleanup_free_ char *ref = NULL;
	char *old = NULL;

	if (!*job->names[1])
		return berr_set(err, BERR_INVALID, 0,
				"repository name must have at least one component");
	ref = *job->names[2] ? str_printf("%s:%s", job->names[1], job->names[2])
			     : strdup(job->names[1]);
	if (!ref)
		return berr_set(err, BERR_INTERNAL, 0, "out of memory");
	if (image_store_tag(e->images, job->names[0], ref, &old, err) < 0)
		return -1;
	free(old);
	/* Events name references as Docker shows them. */
	if (image_reference_parse(ref, &parsed, NULL) == 0)
		familiar = image_reference_format_familiar(parsed, NULL);
	job->result = image_id_json(e, ref);
	json_object_set_new(job->result, "Ref", json_string(familiar ? familiar : ref));
	return 0;
}

static void tag_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	image_event(job->d, "tag", job->result,
		    json_string_value(json_object_get(job->result, "Ref")));
	api_reply(job->req, 201, NULL, NULL, 0);
}

void berthd_image_tag(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name"),
			       api_query_get(&req->query, "repo"),
			       api_query_get(&req->query, "tag") };

	queue_or_fail(job_with(ctx, req, tag_job, tag_done, args, 3));
}

static int delete_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct image_remove_result res = { 0 };
	json_t *out;

	job->data = image_id_json(e, job->names[0]);
	if (image_store_remove(e->images, job->names[0], job->flags & 1,
			       daemon_container_id_running, e->engine, &res, err) < 0)
		return -1;
	out = json_array();
	for (size_t i = 0; out && res.untagged && res.untagged[i]; i++)
		json_array_append_new(out, json_pack("{s:s}", "Untagged", res.untagged[i]));
	if (out && res.deleted)
		json_array_append_new(out, json_pack("{s:s}", "Deleted", res.deleted));
	image_remove_result_clear(&res);
	if (!out)
		return berr_set(err, BERR_INTERNAL, 0, "out of memory");
	job->result = out;
	return 0;
}

static void delete_done(struct berthd_job *job)
{
	_cleanup_json_ json_t *who = job->data;
	size_t i;
	json_t *m;

	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	json_array_foreach (job->result, i, m) {
		const char *untagged = json_string_value(json_object_get(m, "Untagged"));
		const char *deleted = json_string_value(json_object_get(m, "Deleted"));

		if (untagged)
			image_event(job->d, "untag", who, untagged);
		if (deleted)
			image_event(job->d, "delete", who, deleted);
	}
	api_reply_json(job->req, 200, job->result);
}

void berthd_image_delete(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };
	struct berthd_job *job = job_with(ctx, req, delete_job, delete_done, args, 1);

	/* noprune: untagged parents are never removed here anyway. */
	if (job && api_query_bool(&req->query, "force"))
		job->flags |= 1;
	queue_or_fail(job);
}

/* Answers a JSON message stream: the messages of the job's result (an
 * array), then Docker's error object when the job failed.  The error
 * goes in the stream, with status 200, as dockerd does once it has
 * started its answer. */
static void stream_done(struct berthd_job *job)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t i;
	json_t *m;

	if (!f) {
		api_reply_errorf(job->req, BERR_INTERNAL, "out of memory");
		return;
	}
	json_array_foreach (job->result, i, m) {
		json_dumpf(m, f, JSON_COMPACT);
		fputs("\r\n", f);
	}
	if (job->err) {
		_cleanup_json_ json_t *e = json_pack("{s:{s:s},s:s}", "errorDetail", "message",
						     job->err->msg, "error", job->err->msg);

		json_dumpf(e, f, JSON_COMPACT);
		fputs("\r\n", f);
	}
	fclose(f);
	api_reply(job->req, 200, "application/json", text, len);
}

static int load_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct image_load_result res = { 0 };

	job->result = json_array();
	if (!job->result)
		return berr_set(err, BERR_INTERNAL, 0, "out of memory");
	if (image_load(e->images, job->fd, &res, err) < 0)
		return -1;
	for (size_t i = 0; res.lines && res.lines[i]; i++) {
		_cleanup_free_ char *line = str_printf("%s\n", res.lines[i]);

		if (line)
			json_array_append_new(job->result, json_pack("{s:s}", "stream", line));
	}
	image_load_result_clear(&res);
	return 0;
}

/* Docker's load event for each image a load brought ("Loaded image: X"). */
static void load_done(struct berthd_job *job)
{
	size_t i;
	json_t *m;

	json_array_foreach (job->result, i, m) {
		const char *line = json_string_value(json_object_get(m, "stream"));
		const char *name = line ? strstr(line, ": ") : NULL;

		if (name && !job->err) {
			_cleanup_free_ char *clean = strndup(name + 2, strcspn(name + 2, "\n"));

			if (clean)
				berthd_event_emit(job->d, "image", "load", clean,
						  json_pack("{s:s}", "name", clean));
		}
	}
	stream_done(job);
}

static void import_done(struct berthd_job *job)
{
	const char *id =
		json_string_value(json_object_get(json_array_get(job->result, 0), "status"));

	if (id && !job->err)
		berthd_event_emit(job->d, "image", "import", id, json_pack("{s:s}", "name", id));
	stream_done(job);
}

void berthd_images_load(struct api_request *req, void *ctx)
{
	struct berthd_job *job = berthd_job_new(ctx, req, load_job, load_done);

	if (!job)
		return;
	job->fd = steal_fd(&req->body_fd);
	berthd_job_queue(job);
}

static int import_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	/* names: repo, tag, message, then the changes. */
	_cleanup_free_ char *ref = NULL;
	char id[DIGEST_STRING_SIZE];

	job->result = json_array();
	if (!job->result)
		return berr_set(err, BERR_INTERNAL, 0, "out of memory");
	if (*job->names[0])
		ref = *job->names[1] ? str_printf("%s:%s", job->names[0], job->names[1])
				     : strdup(job->names[0]);
	if (image_import(e->images, job->fd, (const char *const *)job->names + 3,
			 strv_length(job->names + 3), ref, *job->names[2] ? job->names[2] : NULL,
			 id, err) < 0)
		return -1;
	json_array_append_new(job->result, json_pack("{s:s}", "status", id));
	return 0;
}

void berthd_images_create(struct api_request *req, void *ctx)
{
	const char *src = api_query_get(&req->query, "fromSrc");
	const char *args[] = { api_query_get(&req->query, "repo"),
			       api_query_get(&req->query, "tag"),
			       api_query_get(&req->query, "message") };
	struct berthd_job *job;

	if (api_query_get(&req->query, "fromImage")) {
		api_reply_errorf(req, BERR_NOT_IMPLEMENTED,
				 "pulling images is not supported yet: berthd has no registry "
				 "client; use docker load or docker import");
		return;
	}
	if (!src) {
		api_reply_errorf(req, BERR_INVALID, "fromImage or fromSrc is required");
		return;
	}
	if (strcmp(src, "-") != 0) {
		api_reply_errorf(req, BERR_NOT_IMPLEMENTED,
				 "importing from a URL is not supported: %s", src);
		return;
	}
	job = job_with(ctx, req, import_job, import_done, args, 3);
	if (!job)
		return;
	for (size_t i = 0; i < req->query.n; i++)
		if (strcmp(req->query.keys[i], "changes") == 0 &&
		    strv_append(&job->names, req->query.values[i]) < 0)
			berr_set(&job->err, BERR_INTERNAL, 0, "out of memory");
	job->fd = steal_fd(&req->body_fd);
	berthd_job_queue(job);
}

static int save_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	return image_save(e->images, (const char *const *)job->names, strv_length(job->names),
			  IMAGE_ARCHIVE_DOCKER, job->fd, err);
}

static void save_done(struct berthd_job *job)
{
	for (size_t i = 0; !job->err && job->names && job->names[i]; i++)
		berthd_event_emit(job->d, "image", "save", job->names[i],
				  json_pack("{s:s}", "name", job->names[i]));
	api_reply_fd_end(job->req, job->err);
}

/* Starts a save of the job's names into a pipe the server streams out. */
static void save_start(struct berthd_job *job)
{
	int fds[2];

	if (job->err || pipe2(fds, O_CLOEXEC) < 0) {
		if (!job->err)
			berr_set(&job->err, BERR_INTERNAL, errno, "pipe");
		api_reply_error(job->req, job->err);
		berr_free(job->err);
		strv_free(job->names);
		free(job);
		return;
	}
	api_reply_fd_begin(job->req, "application/x-tar", fds[0]);
	job->fd = fds[1];
	berthd_job_queue(job);
}

void berthd_images_get(struct api_request *req, void *ctx)
{
	struct berthd_job *job = berthd_job_new(ctx, req, save_job, save_done);

	if (!job)
		return;
	for (size_t i = 0; i < req->query.n; i++)
		if (strcmp(req->query.keys[i], "names") == 0 &&
		    strv_append(&job->names, req->query.values[i]) < 0)
			berr_set(&job->err, BERR_INTERNAL, 0, "out of memory");
	if (!job->err && !job->names)
		berr_set(&job->err, BERR_INVALID, 0, "no image names given: use ?names=IMAGE");
	save_start(job);
}

void berthd_image_get(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };
	struct berthd_job *job = job_with(ctx, req, save_job, save_done, args, 1);

	if (job)
		save_start(job);
}
