/* The container routes of the Engine API: create, inspect, start, stop,
 * restart, kill, wait, delete, attach, resize, pause, changes, export and
 * commit.  Store and runtime work runs as thread-pool jobs; ends, waits and
 * stops are the loop's (monitor.c); a container's stdio belongs to its
 * shim, which takes attached clients over. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "daemon/query.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "runtime/runtime.h"

/* Docker's default stop timeout, in seconds. */
#define STOP_TIMEOUT_DEFAULT 10

static const char *param(struct api_request *req)
{
	return api_params_get(&req->params, "name");
}

/* Docker's attributes of a container's events: its name and image (and
 * its labels, added by the caller). */
void berthd_container_event(struct berthd *d, const char *action, const char *id, const char *name,
			    const char *image, json_t *attributes)
{
	json_t *attrs = attributes ? attributes : json_object();

	if (attrs && name)
		json_object_set_new(attrs, "name", json_string(name));
	if (attrs && image)
		json_object_set_new(attrs, "image", json_string(image));
	berthd_event_emit(d, "container", action, id, attrs);
}

/* The event of a job whose result holds the container's Id, Name and
 * Image. */
static void event_of(struct berthd *d, const char *action, const json_t *who, json_t *attrs)
{
	berthd_container_event(d, action, json_string_value(json_object_get(who, "Id")),
			       json_string_value(json_object_get(who, "Name")),
			       json_string_value(json_object_get(who, "Image")), attrs);
}

json_t *berthd_container_who(const struct daemon_container *c)
{
	const json_t *config = json_object_get(c->doc, "Config");
	const char *image = json_string_value(json_object_get(config, "Image"));

	return json_pack("{s:s, s:s, s:s, s:b, s:i}", "Id", c->id, "Name", c->name + 1, "Image",
			 image ? image : "", "Running", daemon_container_is_running(c), "ExitCode",
			 daemon_container_exit_code(c));
}

/*
 * Create.
 */

static int create_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_json_ json_t *body = NULL;
	_cleanup_json_ json_t *warnings = NULL;
	const char *name = *job->names[0] ? job->names[0] : NULL;
	const char *text = job->req->body ? job->req->body : "";

	if (bjson_load(text, job->req->body_len, SIZE_MAX, &body, err) < 0 ||
	    bjson_as_object(body, NULL, err) < 0)
		return -1;
	if (daemon_container_create_api(e->engine, name, body, &c, &warnings, err) < 0)
		return -1;
	job->status = 201;
	job->result = json_pack("{s:s, s:O}", "Id", c->id, "Warnings",
				warnings ? warnings : json_array());
	json_object_set_new(job->result, "Who", berthd_container_who(c));
	json_object_set_new(job->result, "VolumesNamed", bjson_from_strv(c->volumes_named));
	return 0;
}

static void create_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	berthd_volume_events(job->d, "create", json_object_get(job->result, "VolumesNamed"));
	event_of(job->d, "create", json_object_get(job->result, "Who"), NULL);
	json_object_del(job->result, "Who");
	json_object_del(job->result, "VolumesNamed");
	api_reply_json(job->req, 201, job->result);
}

void berthd_container_create(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "name") };

	if (!req->body || !*req->body) {
		api_reply_errorf(req, BERR_INVALID, "invalid JSON: request body is empty");
		return;
	}
	berthd_job_start(ctx, req, create_job, create_done, args, 1);
}

/*
 * Inspect, changes, export, commit.
 */

static int inspect_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	return daemon_container_inspect(e->engine, c, &job->result, err);
}

void berthd_container_inspect(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req) };

	berthd_job_start(ctx, req, inspect_job, NULL, args, 1);
}

static int changes_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	struct image_change *changes = NULL;
	size_t n = 0;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0 ||
	    daemon_container_changes(e->engine, c, &changes, &n, err) < 0)
		return -1;
	job->result = n ? json_array() : json_null();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(job->result, json_pack("{s:s, s:i}", "Path", changes[i].path,
							     "Kind", (int)changes[i].kind));
	image_changes_free(changes, n);
	return 0;
}

void berthd_container_changes(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req) };

	berthd_job_start(ctx, req, changes_job, NULL, args, 1);
}

static int export_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	return daemon_container_export(e->engine, c, job->fd, err);
}

static void stream_done(struct berthd_job *job)
{
	api_reply_fd_end(job->req, job->err);
}

void berthd_container_export(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req) };
	struct berthd_job *job = berthd_job_with(ctx, req, export_job, stream_done, args, 1);
	int fds[2];

	if (!job)
		return;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		berr_set(&job->err, BERR_INTERNAL, errno, "export");
		job->done = NULL;
		berthd_job_queue(job);
		return;
	}
	job->fd = fds[1];
	api_reply_fd_begin(req, "application/x-tar", fds[0]);
	berthd_job_queue(job);
}

static int commit_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_free_ char *reference = NULL;
	_cleanup_strv_ char **changes = NULL;
	struct daemon_commit_opts o = { 0 };
	char id[DIGEST_STRING_SIZE];
	const char *repo = job->names[1], *tag = job->names[2];

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	if (*repo)
		reference = *tag ? str_printf("%s:%s", repo, tag) : strdup(repo);
	for (size_t i = 5; job->names[i]; i++)
		if (strv_append(&changes, job->names[i]) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "commit");
	o.reference = reference;
	o.comment = *job->names[3] ? job->names[3] : NULL;
	o.author = *job->names[4] ? job->names[4] : NULL;
	o.changes = (const char *const *)changes;
	o.n_changes = strv_length(changes);
	if (daemon_container_commit(e->engine, c, &o, id, err) < 0)
		return -1;
	job->status = 201;
	job->result = json_pack("{s:s}", "Id", id);
	return 0;
}

void berthd_commit(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "container"),
			       api_query_get(&req->query, "repo"),
			       api_query_get(&req->query, "tag"),
			       api_query_get(&req->query, "comment"),
			       api_query_get(&req->query, "author") };
	struct berthd_job *job = berthd_job_with(ctx, req, commit_job, NULL, args, 5);

	if (!job)
		return;
	for (size_t i = 0; i < req->query.n; i++)
		if (strcmp(req->query.keys[i], "changes") == 0 && *req->query.values[i] &&
		    strv_append(&job->names, req->query.values[i]) < 0)
			berr_set(&job->err, BERR_INTERNAL, ENOMEM, "commit");
	berthd_job_queue(job);
}

/*
 * Start, stop, restart, kill, wait, pause.
 */

/* Routes that act on the loop look the container up first, then go on
 * (then_fn) with what who_of() tells. */
typedef berthd_then_fn then_fn;

/* A container's full ID, what docker run sends (the one create gave):
 * routes take it as it is, one hop through the thread pool less. */
static bool is_full_id(const char *ref)
{
	size_t n = 0;

	for (; ref[n]; n++)
		if (!((ref[n] >= '0' && ref[n] <= '9') || (ref[n] >= 'a' && ref[n] <= 'f')))
			return false;
	return n == 64;
}

static int who_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	job->result = berthd_container_who(c);
	json_object_set_new(job->result, "StopSignal",
			    json_string(json_string_value(json_object_get(
						json_object_get(c->doc, "Config"), "StopSignal"))
						?: ""));
	json_object_set_new(
		job->result, "StopTimeout",
		json_incref(json_object_get(json_object_get(c->doc, "Config"), "StopTimeout")));
	return 0;
}

static void who_done(struct berthd_job *job)
{
	if (job->err && !job->req) {
		blog_warn("container %s: %s", job->names[0], job->err->msg);
		return;
	}
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	job->then(job->d, job->req, job->result);
}

static void with_container(struct berthd *d, struct api_request *req, then_fn then)
{
	const char *args[] = { param(req) };
	struct berthd_job *job = berthd_job_with(d, req, who_job, who_done, args, 1);

	if (!job)
		return;
	job->then = then;
	berthd_job_queue(job);
}

static const char *who_id(const json_t *who)
{
	return json_string_value(json_object_get(who, "Id"));
}

static void start_then(struct berthd *d, struct api_request *req, const json_t *who)
{
	berthd_container_start_job(d, req, who_id(who), NULL);
}

void berthd_container_start(struct api_request *req, void *ctx)
{
	if (is_full_id(param(req)))
		berthd_container_start_job(ctx, req, param(req), NULL);
	else
		with_container(ctx, req, start_then);
}

static void stop_params(struct api_request *req, const json_t *who, int *sig, int *timeout);

static void shutdown_stop_then(struct berthd *d, struct api_request *req, const json_t *who)
{
	int sig, timeout;

	stop_params(NULL, who, &sig, &timeout);
	berthd_container_stop(d, NULL, who_id(who), sig, timeout, false);
}

void berthd_container_shutdown_stop(struct berthd *d, const char *id)
{
	const char *args[] = { id };
	struct berthd_job *job = berthd_job_with(d, NULL, who_job, who_done, args, 1);

	if (!job)
		return;
	job->then = shutdown_stop_then;
	berthd_job_queue(job);
}

/* The stop signal and timeout of a container: the request's t, else
 * Config.StopTimeout, else Docker's 10 s. */
static void stop_params(struct api_request *req, const json_t *who, int *sig, int *timeout)
{
	const char *t = req ? api_query_get(&req->query, "t") : NULL;
	const json_t *st = json_object_get(who, "StopTimeout");

	*sig = sig_parse(json_string_value(json_object_get(who, "StopSignal")));
	if (!*sig)
		*sig = SIGTERM;
	*timeout = STOP_TIMEOUT_DEFAULT;
	if (json_is_integer(st))
		*timeout = (int)json_integer_value(st);
	if (t && *t)
		*timeout = atoi(t);
}

static void stop_then(struct berthd *d, struct api_request *req, const json_t *who)
{
	int sig, timeout;

	if (!json_is_true(json_object_get(who, "Running"))) {
		berthd_container_set_manual_stop(d, who_id(who), true);
		api_reply(req, 304, NULL, NULL, 0);
		return;
	}
	stop_params(req, who, &sig, &timeout);
	berthd_container_stop(d, req, who_id(who), sig, timeout, false);
}

void berthd_container_stop_route(struct api_request *req, void *ctx)
{
	with_container(ctx, req, stop_then);
}

static void restart_then(struct berthd *d, struct api_request *req, const json_t *who)
{
	int sig, timeout;

	if (json_is_true(json_object_get(who, "Running"))) {
		stop_params(req, who, &sig, &timeout);
		berthd_container_stop(d, req, who_id(who), sig, timeout, true);
		return;
	}
	berthd_container_start_job(d, req, who_id(who), "restart");
}

void berthd_container_restart(struct api_request *req, void *ctx)
{
	with_container(ctx, req, restart_then);
}

static int kill_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0 ||
	    daemon_container_kill(e->engine, c, atoi(job->names[1]), true, err) < 0)
		return -1;
	job->status = 204;
	job->result = berthd_container_who(c);
	return 0;
}

static void kill_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	event_of(job->d, "kill", job->result, json_pack("{s:s}", "signal", job->names[1]));
	api_reply(job->req, 204, NULL, NULL, 0);
}

void berthd_container_kill(struct api_request *req, void *ctx)
{
	const char *spec = api_query_get(&req->query, "signal");
	int sig = spec && *spec ? sig_parse(spec) : SIGKILL;
	char num[16];
	const char *args[] = { param(req), num };

	if (!sig) {
		api_reply_errorf(req, BERR_INVALID, "Invalid signal: %s", spec);
		return;
	}
	snprintf(num, sizeof(num), "%d", sig);
	berthd_job_start(ctx, req, kill_job, kill_done, args, 2);
}

static void wait_then(struct berthd *d, struct api_request *req, const json_t *who)
{
	berthd_container_wait(d, req, who_id(who), api_query_get(&req->query, "condition"),
			      json_is_true(json_object_get(who, "Running")),
			      (int)json_integer_value(json_object_get(who, "ExitCode")));
}

/* Whether the container of full ID ID exists: its directory does from its
 * create to its removal. */
static bool exists(struct berthd *d, const char *id)
{
	_cleanup_free_ char *dir = str_printf("%s/" DAEMON_CONTAINERS_DIR "/%s", d->data_root, id);
	struct stat st;

	return dir && stat(dir, &st) == 0;
}

void berthd_container_wait_route(struct api_request *req, void *ctx)
{
	const char *cond = api_query_get(&req->query, "condition");

	/* Its next exit or its removal (docker run's waits) needs nothing of
	 * the container's record. */
	if (cond && (strcmp(cond, "next-exit") == 0 || strcmp(cond, "removed") == 0) &&
	    is_full_id(param(req)) && exists(ctx, param(req))) {
		berthd_container_wait(ctx, req, param(req), cond, false, 0);
		return;
	}
	with_container(ctx, req, wait_then);
}

static int pause_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0 ||
	    daemon_container_pause(e->engine, c, job->flags, err) < 0)
		return -1;
	job->result = berthd_container_who(c);
	return 0;
}

static void pause_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	event_of(job->d, job->flags ? "pause" : "unpause", job->result, NULL);
	api_reply(job->req, 204, NULL, NULL, 0);
}

static void pause_route(struct api_request *req, void *ctx, bool pause)
{
	const char *args[] = { param(req) };
	struct berthd_job *job = berthd_job_with(ctx, req, pause_job, pause_done, args, 1);

	if (job) {
		job->flags = pause;
		berthd_job_queue(job);
	}
}

void berthd_container_pause(struct api_request *req, void *ctx)
{
	pause_route(req, ctx, true);
}

void berthd_container_unpause(struct api_request *req, void *ctx)
{
	pause_route(req, ctx, false);
}

/*
 * Delete.
 */

/* Flags of a delete job. */
enum {
	DELETE_FORCE = 1,
	DELETE_VOLUMES = 2,
};

static int delete_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_strv_ char **volumes = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	job->result = berthd_container_who(c);
	if (daemon_container_remove(e->engine, c->id, job->flags & DELETE_FORCE,
				    job->flags & DELETE_VOLUMES, &volumes, err) < 0)
		return -1;
	json_object_set_new(job->result, "VolumesRemoved", bjson_from_strv(volumes));
	job->status = 204;
	return 0;
}

static void delete_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	if (json_is_true(json_object_get(job->result, "Running")))
		event_of(job->d, "kill", job->result, json_pack("{s:s}", "signal", "9"));
	event_of(job->d, "destroy", job->result, NULL);
	berthd_volume_events(job->d, "destroy", json_object_get(job->result, "VolumesRemoved"));
	/* Its waiters get its last exit code, as Docker's: a running one's
	 * is SIGKILL's. */
	berthd_container_removed(
		job->d, who_id(job->result),
		json_is_true(json_object_get(job->result, "Running"))
			? 128 + SIGKILL
			: (int)json_integer_value(json_object_get(job->result, "ExitCode")));
	api_reply(job->req, 204, NULL, NULL, 0);
}

void berthd_container_delete(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req) };
	struct berthd_job *job = berthd_job_with(ctx, req, delete_job, delete_done, args, 1);

	if (job) {
		job->flags = (api_query_bool(&req->query, "force") ? DELETE_FORCE : 0) |
			     (api_query_bool(&req->query, "v") ? DELETE_VOLUMES : 0);
		berthd_job_queue(job);
	}
}

/*
 * Attach and resize.
 */

struct attach_ctx {
	struct daemon_attach a;
	char *detach_keys;
};

/* Flags of an attach job. */
enum {
	ATTACH_LOGS = 1,
	ATTACH_STREAM = 2
};

static int attach_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	struct daemon_attach *a = &job->attach[0];

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	/* logs=1: what it logged so far comes first. */
	if ((job->flags & ATTACH_LOGS) && berthd_logs_copy(c->doc, a->fd, a->out, a->err) < 0)
		return 0;
	if (!(job->flags & ATTACH_STREAM))
		return 0;
	if (!daemon_container_is_running(c)) {
		job->result = json_pack("{s:b}", "Park", 1);
		return 0;
	}
	return daemon_container_attach(e->engine, c, a, *job->names[1] ? job->names[1] : NULL, err);
}

static void attach_done(struct berthd_job *job)
{
	struct berr *err = NULL;

	/* The client has its 101 already: an error goes in the stream, as
	 * Docker writes it. */
	if (job->err && write(job->attach[0].fd, job->err->msg, strlen(job->err->msg)) < 0)
		blog_debug("attach: %s", strerror(errno));
	/* Not running: kept for its next start, as a client without logs
	 * is at once. */
	if (!job->err && json_is_true(json_object_get(job->result, "Park")) &&
	    berthd_container_park_attach(job->d, job->names[0], &job->attach[0], &err) == 0) {
		job->n_attach = 0; /* the loop's now */
		return;
	}
	if (err) {
		blog_warn("attach: %s", err->msg);
		berr_free(err);
	}
}

static int attach_lookup_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	job->result =
		json_pack("{s:s, s:b, s:b}", "Id", c->id, "Tty",
			  json_is_true(json_object_get(json_object_get(c->doc, "Config"), "Tty")),
			  "Running", daemon_container_is_running(c));
	return 0;
}

/* The container exists: the connection is taken over, then given to the
 * shim (or kept for the next start). */
static void attach_lookup_done(struct berthd_job *job)
{
	struct api_request *req = job->req;
	bool tty = json_is_true(json_object_get(job->result, "Tty"));
	/* Copied: the hijack below frees the request. */
	_cleanup_free_ char *keys = api_query_get(&req->query, "detachKeys")
					    ? strdup(api_query_get(&req->query, "detachKeys"))
					    : NULL;
	const char *args[] = { json_string_value(json_object_get(job->result, "Id")), keys };
	struct daemon_attach a = {
		.fd = -1,
		.in = api_query_bool(&req->query, "stdin"),
		.out = api_query_bool(&req->query, "stdout"),
		.err = api_query_bool(&req->query, "stderr"),
		.raw = tty,
	};
	bool logs = api_query_bool(&req->query, "logs");
	/* Docker 20.10 streams unless told not to... by clients that all
	 * send stream=1; a bare logs=1 is the logs alone. */
	bool stream = api_query_bool(&req->query, "stream") || !logs;
	_cleanup_free_ char *early = NULL;
	struct berthd_job *next;
	struct berr *err = NULL;
	size_t early_len = 0;

	if (job->err) {
		api_reply_error(req, job->err);
		return;
	}
	if (keys && !daemon_detach_keys_valid(keys)) {
		api_reply_errorf(req, BERR_INVALID, "Invalid detach keys (%s) provided", keys);
		return;
	}
	/* Kept with the client: one parked for the next start takes them
	 * to the shim that will serve it. */
	if (keys)
		snprintf(a.detach_keys, sizeof(a.detach_keys), "%s", keys);
	if (api_request_hijack(req,
			       tty ? "application/vnd.docker.raw-stream"
				   : "application/vnd.docker.multiplexed-stream",
			       &a.fd, &early, &early_len, &err) < 0) {
		blog_debug("attach: %s", err->msg);
		berr_free(err);
		return;
	}
	/* Input a client sends before it has the answer is not expected;
	 * it would be lost to the shim, so say so. */
	if (early_len)
		blog_warn("attach: %zu bytes sent before the answer were dropped", early_len);
	if (!logs && !json_is_true(json_object_get(job->result, "Running"))) {
		/* Kept on the loop at once, so that a start that follows
		 * finds it. */
		if (berthd_container_park_attach(job->d, args[0], &a, &err) < 0) {
			blog_warn("attach: %s", err->msg);
			berr_free(err);
			close(a.fd);
		}
		return;
	}
	next = berthd_job_with(job->d, NULL, attach_job, attach_done, args, 2);
	if (!next) {
		close(a.fd);
		return;
	}
	next->flags = (logs ? ATTACH_LOGS : 0) | (stream ? ATTACH_STREAM : 0);
	next->attach = calloc(1, sizeof(*next->attach));
	if (!next->attach) {
		close(a.fd);
		berr_set(&next->err, BERR_INTERNAL, ENOMEM, "attach");
	} else {
		next->attach[0] = a;
		next->n_attach = 1;
	}
	berthd_job_queue(next);
}

void berthd_container_attach(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req) };

	berthd_job_start(ctx, req, attach_lookup_job, attach_lookup_done, args, 1);
}

static int resize_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	if (!daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
	if (daemon_container_resize(e->engine, c, (unsigned)atoi(job->names[1]),
				    (unsigned)atoi(job->names[2]), err) < 0)
		return -1;
	job->who = berthd_container_who(c);
	job->event_attrs = json_pack("{s:s, s:s}", "height", job->names[1], "width", job->names[2]);
	return 0;
}

void berthd_container_resize(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req), api_query_get(&req->query, "h"),
			       api_query_get(&req->query, "w") };
	struct berthd_job *job =
		berthd_job_with(ctx, req, resize_job, berthd_job_event_done, args, 3);

	if (!job)
		return;
	job->event = "resize";
	berthd_job_queue(job);
}

/*
 * Rename.
 */

static int rename_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_free_ char *old = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	old = strdup(c->name);
	if (!old)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "rename");
	if (daemon_container_rename(e->engine, c, job->names[1], err) < 0)
		return -1;
	job->result = berthd_container_who(c);
	json_object_set_new(job->result, "OldName", json_string(old));
	return 0;
}

static void rename_done(struct berthd_job *job)
{
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	event_of(job->d, "rename", job->result,
		 json_pack("{s:O}", "oldName", json_object_get(job->result, "OldName")));
	api_reply(job->req, 204, NULL, NULL, 0);
}

void berthd_container_rename(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req), api_query_get(&req->query, "name") };

	berthd_job_start(ctx, req, rename_job, rename_done, args, 2);
}

/*
 * List.
 */

static int list_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct daemon_list_opts o = {
		.all = job->flags & 1,
		.size = job->flags & 2,
		.limit = atol(job->names[1]),
		.filters = job->names[0],
	};

	return daemon_container_list_text(e->engine, &o, &job->body, &job->body_len, err);
}

void berthd_containers_list(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "filters"),
			       api_query_get(&req->query, "limit") };
	struct berthd_job *job = berthd_job_with(ctx, req, list_job, NULL, args, 2);

	if (job) {
		job->flags = (api_query_bool(&req->query, "all") ? 1 : 0) |
			     (api_query_bool(&req->query, "size") ? 2 : 0);
		berthd_job_queue(job);
	}
}

/*
 * Stats and top.
 */

/* One client's stats: samples taken by jobs, one a second, written from
 * the loop. */
struct stats_req {
	struct api_request *req;
	struct berthd *d;
	char id[65];
	json_t *previous;
	bool stream, one_shot, sent_one;
	uv_timer_t timer;
};

static void stats_sample(struct stats_req *s);

static void on_stats_closed(uv_handle_t *h)
{
	struct stats_req *s = h->data;

	json_decref(s->previous);
	free(s);
}

static void stats_end(struct stats_req *s)
{
	api_reply_stream_end(s->req);
	uv_close((uv_handle_t *)&s->timer, on_stats_closed);
}

static void on_stats_timer(uv_timer_t *t)
{
	stats_sample(t->data);
}

static int stats_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	struct stats_req *s = job->data;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	if (daemon_container_stats_json(e->engine, c, s->previous, &job->result, err) < 0)
		return -1;
	job->flags = daemon_container_is_running(c);
	return 0;
}

static void stats_done(struct berthd_job *job)
{
	struct stats_req *s = job->data;
	_cleanup_free_ char *text = NULL;
	bool last;

	if (job->err) {
		if (!s->sent_one)
			api_reply_error(s->req, job->err);
		else
			api_reply_stream_end(s->req);
		uv_close((uv_handle_t *)&s->timer, on_stats_closed);
		return;
	}
	/* Without stream, Docker answers its second sample, whose precpu
	 * the first one filled; one-shot answers the first. */
	last = !s->stream && (s->one_shot || s->previous || !job->flags);
	if (s->stream || last) {
		if (!s->sent_one)
			api_reply_stream_begin(s->req, 200, "application/json");
		s->sent_one = true;
		text = jsontext_dump(job->result);
		if (text && (!api_reply_stream_write(s->req, text, strlen(text)) ||
			     !api_reply_stream_write(s->req, "\n", 1)))
			last = true;
	}
	json_decref(s->previous);
	s->previous = json_incref(job->result);
	if (last || !api_request_connected(s->req) || !job->flags) {
		stats_end(s);
		return;
	}
	uv_timer_start(&s->timer, on_stats_timer, 1000, 0);
}

static void stats_sample(struct stats_req *s)
{
	const char *args[] = { s->id };
	struct berthd_job *job = berthd_job_with(s->d, NULL, stats_job, stats_done, args, 1);

	if (!job) {
		stats_end(s);
		return;
	}
	job->data = s;
	berthd_job_queue(job);
}

static void stats_then(struct berthd *d, struct api_request *req, const json_t *who)
{
	const char *stream = api_query_get(&req->query, "stream");
	struct stats_req *s = calloc(1, sizeof(*s));

	if (!s) {
		api_reply_errorf(req, BERR_INTERNAL, "out of memory");
		return;
	}
	s->req = req;
	s->d = d;
	snprintf(s->id, sizeof(s->id), "%s", who_id(who));
	/* Docker streams unless told not to. */
	s->stream = !stream || api_query_bool(&req->query, "stream");
	s->one_shot = api_query_bool(&req->query, "one-shot");
	uv_timer_init(d->loop, &s->timer);
	s->timer.data = s;
	stats_sample(s);
}

void berthd_container_stats(struct api_request *req, void *ctx)
{
	with_container(ctx, req, stats_then);
}

static int top_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0 ||
	    daemon_container_top_json(e->engine, c, *job->names[1] ? job->names[1] : NULL,
				      &job->result, err) < 0)
		return -1;
	job->who = berthd_container_who(c);
	return 0;
}

void berthd_container_top(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req), api_query_get(&req->query, "ps_args") };
	struct berthd_job *job = berthd_job_with(ctx, req, top_job, berthd_job_event_done, args, 2);

	if (!job)
		return;
	job->event = "top";
	berthd_job_queue(job);
}

/*
 * Update.
 */

static int update_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_json_ json_t *body = NULL;
	json_t *warnings = NULL;
	const char *text = job->req->body ? job->req->body : "{}";

	if (bjson_load(text, strlen(text), SIZE_MAX, &body, err) < 0 ||
	    daemon_container_lookup(e->engine, job->names[0], &c, err) < 0 ||
	    daemon_container_update(e->engine, c, body, &warnings, err) < 0) {
		json_decref(warnings);
		return -1;
	}
	job->result = json_pack("{s:o}", "Warnings", warnings);
	job->who = berthd_container_who(c);
	return 0;
}

void berthd_container_update(struct api_request *req, void *ctx)
{
	const char *args[] = { param(req) };
	struct berthd_job *job =
		berthd_job_with(ctx, req, update_job, berthd_job_event_done, args, 1);

	if (!job)
		return;
	job->event = "update";
	berthd_job_queue(job);
}
