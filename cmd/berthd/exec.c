/* The exec routes: create (a record the loop keeps), start (a shim that is
 * berthd's child runs the process, the client's connection handed to it),
 * inspect.  An exec's end is seen through its shim's pidfd; the shim's exit
 * status is the process's exit code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"

struct berthd_exec {
	char id[65];
	char container[65];
	json_t *config; /* Docker's exec config, as created */
	bool started, running, ended;
	uint64_t ended_ms;
	int exit_code;
	pid_t pid, shim;
	/* The daemon's copy of the client's connection: the client sees
	 * its end only once the exit code is known here, so that the
	 * inspect that follows has it. */
	int client_fd;
	char *process_file;
	uv_poll_t *poll; /* the shim's pidfd, while it runs */
	struct berthd *d;
	struct berthd_exec *next;
};

/* How long an ended exec stays for inspection (Docker keeps them a few
 * minutes too). */
#define EXEC_KEEP_MS (5 * 60 * 1000)

static void exec_free(struct berthd_exec *e)
{
	if (e->client_fd >= 0)
		close(e->client_fd);
	json_decref(e->config);
	free(e->process_file);
	free(e);
}

/* Drops the execs that ended long enough ago. */
static void execs_prune(struct berthd *d)
{
	uint64_t now = uv_now(d->loop);
	struct berthd_exec **pp = &d->execs;

	while (*pp) {
		struct berthd_exec *e = *pp;

		if (e->ended && now - e->ended_ms > EXEC_KEEP_MS) {
			*pp = e->next;
			exec_free(e);
		} else {
			pp = &e->next;
		}
	}
}

static struct berthd_exec *exec_find(struct berthd *d, const char *id)
{
	for (struct berthd_exec *e = d->execs; e; e = e->next)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* Docker's "exec_start: sh -c x" form of the exec's command. */
static char *action_of(const char *action, const json_t *config)
{
	const json_t *cmd = json_object_get(config, "Cmd");
	char *text = strdup(action);
	size_t i;
	json_t *v;

	json_array_foreach (cmd, i, v) {
		char *more = str_printf("%s%s%s", text ? text : "", i ? " " : ": ",
					json_string_value(v));

		free(text);
		text = more;
	}
	return text;
}

static void exec_event(struct berthd *d, const char *action, const struct berthd_exec *e,
		       json_t *attrs)
{
	_cleanup_free_ char *name = action_of(action, e->config);
	json_t *a = attrs ? attrs : json_object();

	json_object_set_new(a, "execID", json_string(e->id));
	berthd_container_event(d, name ? name : action, e->container, NULL, NULL, a);
}

/*
 * Create.
 */

static int create_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_json_ json_t *body = NULL;
	const json_t *cmd, *keys;
	const char *text = job->req->body ? job->req->body : "";

	if (bjson_load(text, job->req->body_len, SIZE_MAX, &body, err) < 0 ||
	    bjson_as_object(body, NULL, err) < 0)
		return -1;
	cmd = json_object_get(body, "Cmd");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return berr_set(err, BERR_INVALID, 0, "No exec command specified");
	for (size_t i = 0; i < json_array_size(cmd); i++)
		if (!json_is_string(json_array_get(cmd, i)))
			return berr_set(err, BERR_INVALID, 0, "Cmd: expected strings");
	keys = json_object_get(body, "DetachKeys");
	if (keys && !json_is_null(keys) &&
	    (!json_is_string(keys) || !daemon_detach_keys_valid(json_string_value(keys))))
		return berr_set(err, BERR_INVALID, 0, "Invalid escape keys (%s) provided",
				json_is_string(keys) ? json_string_value(keys) : "");
	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	if (!daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
	if (json_is_true(json_object_get(json_object_get(c->doc, "State"), "Paused")))
		return berr_set(err, BERR_CONFLICT, 0,
				"Container %s is paused, unpause the container before exec", c->id);
	json_object_set_new(body, "ContainerID", json_string(c->id));
	job->result = json_incref(body);
	return 0;
}

static void create_done(struct berthd_job *job)
{
	struct berthd *d = job->d;
	unsigned char raw[32];
	struct berthd_exec *e;

	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	execs_prune(d);
	e = calloc(1, sizeof(*e));
	if (!e || getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
		free(e);
		api_reply_errorf(job->req, BERR_INTERNAL, "exec: out of memory");
		return;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(e->id + 2 * i, 3, "%02x", raw[i]);
	snprintf(e->container, sizeof(e->container), "%s",
		 json_string_value(json_object_get(job->result, "ContainerID")));
	e->config = json_incref(job->result);
	e->client_fd = -1;
	e->d = d;
	e->next = d->execs;
	d->execs = e;
	exec_event(d, "exec_create", e, NULL);
	_cleanup_json_ json_t *answer = json_pack("{s:s}", "Id", e->id);
	api_reply_json(job->req, 201, answer);
}

void berthd_exec_create(struct api_request *req, void *ctx)
{
	const char *args[] = { api_params_get(&req->params, "name") };
	struct berthd_job *job = berthd_job_with(ctx, req, create_job, create_done, args, 1);

	if (job)
		berthd_job_queue(job);
}

/*
 * Start.
 */

static void on_exec_exit(uv_poll_t *p, int status, int events)
{
	struct berthd_exec *e = p->data;
	int ws = 0;
	char code[16];

	berthd_unwatch(steal_ptr(&e->poll));
	while (waitpid(e->shim, &ws, 0) < 0 && errno == EINTR)
		;
	e->running = false;
	e->ended = true;
	e->ended_ms = uv_now(e->d->loop);
	if (e->client_fd >= 0) {
		close(e->client_fd);
		e->client_fd = -1;
	}
	e->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (e->process_file)
		unlink(e->process_file);
	snprintf(code, sizeof(code), "%d", e->exit_code);
	exec_event(e->d, "exec_die", e, json_pack("{s:s}", "exitCode", code));
}

static int start_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	const json_t *config = job->result;
	struct daemon_start_opts o = { .shim = job->d->shim };
	_cleanup_free_ char *file = NULL;
	pid_t pid = 0, shim = 0;

	job->result = NULL;
	o.attach = job->attach;
	o.n_attach = job->n_attach;
	if (daemon_container_lookup(e->engine, job->names[1], &c, err) < 0 ||
	    daemon_exec_prepare(e->engine, c, job->names[0], config, &file, err) < 0)
		goto fail;
	if (daemon_exec_start(e->engine, c, file, &o, json_is_true(json_object_get(config, "Tty")),
			      json_is_true(json_object_get(config, "AttachStdin")), &pid, &shim,
			      err) < 0) {
		unlink(file);
		goto fail;
	}
	job->result = json_pack("{s:I, s:I, s:s}", "Pid", (json_int_t)pid, "Shim", (json_int_t)shim,
				"File", file);
	json_decref((json_t *)config);
	return 0;
fail:
	json_decref((json_t *)config);
	return -1;
}

/* Docker's exit code of an exec whose command could not run: 127 when
 * it is not there, 126 when it cannot be run. */
static int failed_start_code(const char *msg)
{
	if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
	    strstr(msg, "No such file or directory"))
		return 127;
	return 126;
}

/* Writes MSG to the client's stream FD as Docker does: a line on stdout,
 * framed unless the stream is a terminal's. */
static void stream_error(int fd, bool tty, const char *msg)
{
	size_t len = strlen(msg) + 2;
	unsigned char head[8] = { 1,
				  0,
				  0,
				  0,
				  (unsigned char)(len >> 24),
				  (unsigned char)(len >> 16),
				  (unsigned char)(len >> 8),
				  (unsigned char)len };

	if ((!tty && fs_write_all(fd, head, sizeof(head)) < 0) ||
	    fs_write_all(fd, msg, len - 2) < 0 || fs_write_all(fd, "\r\n", 2) < 0)
		blog_debug("exec: tell the client: %s", strerror(errno));
}

static void start_done(struct berthd_job *job)
{
	struct berthd_exec *e = exec_find(job->d, job->names[0]);

	if (!e)
		return;
	if (job->err) {
		e->started = false;
		if (job->req) {
			api_reply_error(job->req, job->err);
		} else if (job->n_attach) {
			/* The client has its answer already: the error goes in
			 * the stream, and the end with Docker's exit code is
			 * there for the inspect that follows the stream's end. */
			e->started = true;
			e->ended = true;
			e->ended_ms = uv_now(job->d->loop);
			e->exit_code = failed_start_code(job->err->msg);
			stream_error(job->attach[0].fd,
				     json_is_true(json_object_get(e->config, "Tty")),
				     job->err->msg);
		}
		return;
	}
	e->pid = (pid_t)json_integer_value(json_object_get(job->result, "Pid"));
	e->shim = (pid_t)json_integer_value(json_object_get(job->result, "Shim"));
	e->process_file = strdup(json_string_value(json_object_get(job->result, "File")));
	e->running = true;
	if (job->n_attach) {
		e->client_fd = job->attach[0].fd;
		job->n_attach = 0;
	}
	exec_event(job->d, "exec_start", e, NULL);
	if (job->req)
		api_reply(job->req, 200, NULL, NULL, 0);
	e->poll = berthd_pidfd_watch(job->d->loop, e->shim, on_exec_exit, e);
	/* Gone already: its end is taken now. */
	if (!e->poll)
		on_exec_exit(&(uv_poll_t){ .data = e }, 0, 0);
}

void berthd_exec_start(struct api_request *req, void *ctx)
{
	struct berthd *d = ctx;
	struct berthd_exec *e = exec_find(d, api_params_get(&req->params, "name"));
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *early = NULL;
	const char *args[2];
	struct berthd_job *job;
	struct berr *err = NULL;
	bool detach, tty;
	size_t early_len;
	int fd = -1;

	if (!e) {
		api_reply_errorf(req, BERR_NOT_FOUND, "No such exec instance: %s",
				 api_params_get(&req->params, "name"));
		return;
	}
	if (e->started) {
		api_reply_errorf(req, BERR_CONFLICT, "Error: Exec command %s %s", e->id,
				 e->running ? "is already running" : "has already run");
		return;
	}
	if (req->body && *req->body &&
	    (bjson_load(req->body, req->body_len, SIZE_MAX, &body, &err) < 0 ||
	     bjson_as_object(body, NULL, &err) < 0)) {
		api_reply_error(req, err);
		berr_free(err);
		return;
	}
	detach = json_is_true(json_object_get(body, "Detach"));
	tty = json_is_true(json_object_get(e->config, "Tty")) ||
	      json_is_true(json_object_get(body, "Tty"));
	json_object_set_new(e->config, "Tty", json_boolean(tty));
	args[0] = e->id;
	args[1] = e->container;
	e->started = true;
	if (!detach) {
		if (api_request_hijack(req,
				       tty ? "application/vnd.docker.raw-stream"
					   : "application/vnd.docker.multiplexed-stream",
				       &fd, &early, &early_len, &err) < 0) {
			blog_debug("exec: %s", err->msg);
			berr_free(err);
			e->started = false;
			return;
		}
		req = NULL;
	}
	job = berthd_job_with(d, req, start_job, start_done, args, 2);
	if (!job) {
		if (fd >= 0)
			close(fd);
		e->started = false;
		return;
	}
	job->result = json_incref(e->config);
	if (fd >= 0) {
		job->attach = calloc(1, sizeof(*job->attach));
		if (!job->attach) {
			close(fd);
			berr_set(&job->err, BERR_INTERNAL, ENOMEM, "exec");
		} else {
			job->attach[0] = (struct daemon_attach){
				.fd = fd,
				.in = json_is_true(json_object_get(e->config, "AttachStdin")),
				.out = json_is_true(json_object_get(e->config, "AttachStdout")),
				.err = json_is_true(json_object_get(e->config, "AttachStderr")),
				.raw = tty,
			};
			/* The exec's own detach keys (Docker's DetachKeys of
			 * exec create), for its shim. */
			snprintf(job->attach[0].detach_keys, sizeof(job->attach[0].detach_keys),
				 "%s",
				 json_string_value(json_object_get(e->config, "DetachKeys")) ?: "");
			job->n_attach = 1;
		}
	}
	berthd_job_queue(job);
}

/*
 * Inspect.
 */

void berthd_exec_inspect(struct api_request *req, void *ctx)
{
	struct berthd_exec *e = exec_find(ctx, api_params_get(&req->params, "name"));
	_cleanup_json_ json_t *out = NULL;
	const json_t *cmd;
	json_t *args;

	if (!e) {
		api_reply_errorf(req, BERR_NOT_FOUND, "No such exec instance: %s",
				 api_params_get(&req->params, "name"));
		return;
	}
	cmd = json_object_get(e->config, "Cmd");
	args = json_array();
	for (size_t i = 1; i < json_array_size(cmd); i++)
		json_array_append(args, json_array_get(cmd, i));
	out = json_pack(
		"{s:s, s:b, s:o, s:{s:b, s:s, s:o, s:b, s:s}, s:b, s:b, s:b, s:b, s:s, s:s, s:I}",
		"ID", e->id, "Running", e->running, "ExitCode",
		e->ended ? json_integer(e->exit_code) : json_null(), "ProcessConfig", "tty",
		json_is_true(json_object_get(e->config, "Tty")), "entrypoint",
		json_string_value(json_array_get(cmd, 0)) ?: "", "arguments", args, "privileged",
		json_is_true(json_object_get(e->config, "Privileged")), "user",
		json_string_value(json_object_get(e->config, "User")) ?: "", "OpenStdin",
		json_is_true(json_object_get(e->config, "AttachStdin")), "OpenStderr",
		json_is_true(json_object_get(e->config, "AttachStderr")), "OpenStdout",
		json_is_true(json_object_get(e->config, "AttachStdout")), "CanRemove", false,
		"ContainerID", e->container, "DetachKeys",
		json_string_value(json_object_get(e->config, "DetachKeys")) ?: "", "Pid",
		(json_int_t)(e->running ? e->pid : 0));
	if (!out) {
		api_reply_errorf(req, BERR_INTERNAL, "out of memory");
		return;
	}
	api_reply_json(req, 200, out);
}

void berthd_execs_free(struct berthd *d)
{
	while (d->execs) {
		struct berthd_exec *e = d->execs;

		d->execs = e->next;
		/* A running one goes on; its end is not seen any more. */
		berthd_unwatch(steal_ptr(&e->poll));
		exec_free(e);
	}
}

static int resize_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	return daemon_exec_resize(e->engine, job->names[0], job->names[1],
				  (unsigned)atoi(job->names[2]), (unsigned)atoi(job->names[3]),
				  err);
}

void berthd_exec_resize(struct api_request *req, void *ctx)
{
	struct berthd_exec *e = exec_find(ctx, api_params_get(&req->params, "name"));
	const char *args[4];
	struct berthd_job *job;

	if (!e) {
		api_reply_errorf(req, BERR_NOT_FOUND, "No such exec instance: %s",
				 api_params_get(&req->params, "name"));
		return;
	}
	if (!e->running) {
		api_reply_errorf(req, BERR_CONFLICT, "Exec %s is not running", e->id);
		return;
	}
	args[0] = e->container;
	args[1] = e->id;
	args[2] = api_query_get(&req->query, "h");
	args[3] = api_query_get(&req->query, "w");
	job = berthd_job_with(ctx, req, resize_job, NULL, args, 4);
	if (job)
		berthd_job_queue(job);
}
