/* Health checks with Docker's semantics (Config.Healthcheck: Test,
 * Interval, Timeout, StartPeriod, Retries), run without a thread per
 * probe: a timer per checked container on the loop, each probe an exec
 * under a shim whose output comes back through a socket pair the loop
 * reads and whose end its pidfd tells; the result is recorded by a job. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/timefmt.h"

/* Docker's defaults and its limit on what a probe's output keeps. */
#define HEALTH_INTERVAL_MS_DEFAULT (30 * 1000)
#define HEALTH_TIMEOUT_MS_DEFAULT  (30 * 1000)
#define HEALTH_RETRIES_DEFAULT	   3
#define HEALTH_OUTPUT_MAX	   4096

struct berthd_health {
	char id[65];
	char *name, *image; /* for the events */
	struct berthd *d;
	json_t *test; /* the command, as an exec's Cmd */
	uint64_t interval_ms, timeout_ms, start_period_ms;
	int retries;
	uint64_t started_ms;
	unsigned serial;
	uv_timer_t timer;
	/* The probe under way. */
	bool probing, timed_out, out_done, shim_done;
	pid_t pid, shim;
	int shim_status;
	uv_poll_t *shim_poll; /* the probe's shim, while it runs */
	uv_pipe_t out;
	char output[HEALTH_OUTPUT_MAX];
	size_t output_len;
	char start[TIME_RFC3339_SIZE];
	uv_timer_t timeout;
	int handles; /* open handles; freed at zero once stopped */
	bool stopped;
	struct berthd_health *next;
};

static struct berthd_health *health_find(struct berthd *d, const char *id)
{
	for (struct berthd_health *h = d->health; h; h = h->next)
		if (strcmp(h->id, id) == 0)
			return h;
	return NULL;
}

/* Drops one of H's holds (a handle, or the watch of a probe's shim). */
static void health_unref(struct berthd_health *h)
{
	if (--h->handles == 0) {
		json_decref(h->test);
		free(h->name);
		free(h->image);
		free(h);
	}
}

static void on_handle_closed(uv_handle_t *handle)
{
	health_unref(handle->data);
}

static void schedule(struct berthd_health *h);

/* The command of TEST as an exec runs it; NULL for none or "NONE". */
static json_t *command_of(const json_t *test)
{
	const char *kind = json_string_value(json_array_get(test, 0));
	json_t *cmd;

	if (!kind || strcmp(kind, "NONE") == 0 || json_array_size(test) < 2)
		return NULL;
	if (strcmp(kind, "CMD-SHELL") == 0)
		return json_pack("[s, s, O]", "/bin/sh", "-c", json_array_get(test, 1));
	if (strcmp(kind, "CMD") != 0)
		return NULL;
	cmd = json_array();
	for (size_t i = 1; cmd && i < json_array_size(test); i++)
		json_array_append(cmd, json_array_get(test, i));
	return cmd;
}

static uint64_t ms_of(const json_t *ns, uint64_t fallback)
{
	json_int_t v = json_integer_value(ns);

	return v > 0 ? (uint64_t)v / 1000000 : fallback;
}

/*
 * A probe's result.
 */

static int record_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	const char *status = NULL;
	bool changed = false;

	if (daemon_container_record_probe(e->engine, job->names[0], job->result,
					  atoi(job->names[1]), job->flags, &status, &changed,
					  err) < 0)
		return -1;
	json_object_set_new(job->result, "NewStatus", json_string(status));
	json_object_set_new(job->result, "Changed", json_boolean(changed));
	return 0;
}

static void record_done(struct berthd_job *job)
{
	struct berthd_health *h = health_find(job->d, job->names[0]);
	const char *status = json_string_value(json_object_get(job->result, "NewStatus"));
	_cleanup_free_ char *action = NULL;

	if (job->err) {
		blog_debug("container %s: health: %s", job->names[0], job->err->msg);
	} else if (json_is_true(json_object_get(job->result, "Changed"))) {
		/* As Docker: an event when the status changes. */
		action = str_printf("health_status: %s", status);
		if (action && h)
			berthd_container_event(job->d, action, job->names[0], h->name, h->image,
					       NULL);
	}
	if (h && !h->stopped)
		schedule(h);
}

static void probe_finish(struct berthd_health *h)
{
	char end[TIME_RFC3339_SIZE], retries[16];
	const char *args[2] = { h->id, retries };
	int code;
	json_t *probe;
	struct berthd_job *job;

	if (!h->out_done || !h->shim_done)
		return;
	h->probing = false;
	uv_timer_stop(&h->timeout);
	if (h->stopped)
		return;
	time_now_rfc3339(end);
	code = h->timed_out		   ? -1
	       : WIFEXITED(h->shim_status) ? WEXITSTATUS(h->shim_status)
					   : 128 + WTERMSIG(h->shim_status);
	/* Docker: 0 healthy, 1 unhealthy, anything else reserved and
	 * counted as unhealthy. */
	probe = json_pack("{s:s, s:s, s:i, s:s%}", "Start", h->start, "End", end, "ExitCode", code,
			  "Output", h->timed_out ? "Health check exceeded timeout" : h->output,
			  h->timed_out ? strlen("Health check exceeded timeout") : h->output_len);
	snprintf(retries, sizeof(retries), "%d", h->retries);
	job = berthd_job_with(h->d, NULL, record_job, record_done, args, 2);
	if (!job || !probe) {
		json_decref(probe);
		if (job)
			berr_set(&job->err, BERR_INTERNAL, ENOMEM, "health");
		else
			schedule(h);
		if (!job)
			return;
	}
	job->result = probe;
	job->flags = uv_now(h->d->loop) - h->started_ms < h->start_period_ms;
	berthd_job_queue(job);
}

static void on_out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct berthd_health *h = s->data;

	if (n > 0) {
		size_t room = sizeof(h->output) - h->output_len;
		size_t take = (size_t)n < room ? (size_t)n : room;

		memcpy(h->output + h->output_len, buf->base, take);
		h->output_len += take;
	}
	free(buf->base);
	if (n < 0) {
		uv_read_stop(s);
		uv_close((uv_handle_t *)s, on_handle_closed);
		h->out_done = true;
		probe_finish(h);
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	buf->base = malloc(4096);
	buf->len = buf->base ? 4096 : 0;
}

static void on_probe_exit(uv_poll_t *p, int status, int events)
{
	struct berthd_health *h = p->data;

	berthd_unwatch(steal_ptr(&h->shim_poll));
	while (waitpid(h->shim, &h->shim_status, 0) < 0 && errno == EINTR)
		;
	h->shim_done = true;
	probe_finish(h);
	health_unref(h);
}

static void on_probe_timeout(uv_timer_t *t)
{
	struct berthd_health *h = t->data;

	h->timed_out = true;
	if (h->pid > 0)
		kill(h->pid, SIGKILL);
}

/*
 * Running a probe.
 */

static int probe_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_free_ char *file = NULL;
	struct daemon_start_opts o = { .shim = job->d->shim, .attach = job->attach, .n_attach = 1 };
	_cleanup_json_ json_t *config = json_pack("{s:O}", "Cmd", job->result);
	pid_t pid = 0, shim = 0;

	json_decref(job->result);
	job->result = NULL;
	if (!config)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "health");
	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0 ||
	    daemon_exec_prepare(e->engine, c, job->names[1], config, &file, err) < 0)
		return -1;
	if (daemon_exec_start(e->engine, c, file, &o, false, false, &pid, &shim, err) < 0) {
		unlink(file);
		return -1;
	}
	/* The shim has read its process; the file is not needed again. */
	unlink(file);
	job->result = json_pack("{s:I, s:I}", "Pid", (json_int_t)pid, "Shim", (json_int_t)shim);
	return 0;
}

static void probe_done(struct berthd_job *job)
{
	struct berthd_health *h = job->data;

	if (job->err) {
		/* The container ended, or the probe could not run: Docker
		 * counts the latter as a failed probe; an ended container
		 * stops its checks through berthd_health_stop(). */
		blog_debug("container %s: health probe: %s", h->id, job->err->msg);
		uv_close((uv_handle_t *)&h->out, on_handle_closed);
		h->probing = false;
		if (!h->stopped)
			schedule(h);
		return;
	}
	h->pid = (pid_t)json_integer_value(json_object_get(job->result, "Pid"));
	h->shim = (pid_t)json_integer_value(json_object_get(job->result, "Shim"));
	uv_read_start((uv_stream_t *)&h->out, on_alloc, on_out_read);
	h->shim_poll = berthd_pidfd_watch(h->d->loop, h->shim, on_probe_exit, h);
	if (!h->shim_poll) {
		while (waitpid(h->shim, &h->shim_status, 0) < 0 && errno == EINTR)
			;
		h->shim_done = true;
		probe_finish(h);
		return;
	}
	h->handles++;
	if (h->stopped)
		kill(h->pid, SIGKILL);
	else
		uv_timer_start(&h->timeout, on_probe_timeout, h->timeout_ms, 0);
}

static void on_probe_timer(uv_timer_t *t)
{
	struct berthd_health *h = t->data;
	char serial[32];
	const char *args[] = { h->id, serial };
	struct berthd_job *job;
	int sp[2];

	if (h->probing || h->stopped)
		return;
	snprintf(serial, sizeof(serial), "health-%u", h->serial++);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		schedule(h);
		return;
	}
	if (uv_pipe_init(h->d->loop, &h->out, 0) < 0 || uv_pipe_open(&h->out, sp[0]) < 0) {
		close(sp[0]);
		close(sp[1]);
		schedule(h);
		return;
	}
	h->handles++;
	h->out.data = h;
	job = berthd_job_with(h->d, NULL, probe_job, probe_done, args, 2);
	if (!job) {
		close(sp[1]);
		uv_close((uv_handle_t *)&h->out, on_handle_closed);
		schedule(h);
		return;
	}
	job->attach = calloc(1, sizeof(*job->attach));
	if (!job->attach) {
		close(sp[1]);
		berr_set(&job->err, BERR_INTERNAL, ENOMEM, "health");
	} else {
		job->attach[0] = (struct daemon_attach){
			.fd = sp[1], .out = true, .err = true, .raw = true
		};
		job->n_attach = 1;
	}
	job->result = json_incref(h->test);
	job->data = h;
	h->probing = true;
	h->timed_out = h->out_done = h->shim_done = false;
	h->output_len = 0;
	h->shim = h->pid = 0;
	time_now_rfc3339(h->start);
	berthd_job_queue(job);
}

static void schedule(struct berthd_health *h)
{
	uv_timer_start(&h->timer, on_probe_timer, h->interval_ms, 0);
}

void berthd_health_start(struct berthd *d, const char *id, const char *name, const char *image,
			 const json_t *healthcheck)
{
	_cleanup_json_ json_t *cmd = command_of(json_object_get(healthcheck, "Test"));
	struct berthd_health *h;
	json_int_t retries = json_integer_value(json_object_get(healthcheck, "Retries"));

	berthd_health_stop(d, id);
	if (!cmd)
		return;
	h = calloc(1, sizeof(*h));
	if (!h)
		return;
	snprintf(h->id, sizeof(h->id), "%s", id);
	h->name = strdup(name ? name : "");
	h->image = strdup(image ? image : "");
	h->d = d;
	h->test = json_incref(cmd);
	h->interval_ms =
		ms_of(json_object_get(healthcheck, "Interval"), HEALTH_INTERVAL_MS_DEFAULT);
	h->timeout_ms = ms_of(json_object_get(healthcheck, "Timeout"), HEALTH_TIMEOUT_MS_DEFAULT);
	h->start_period_ms = ms_of(json_object_get(healthcheck, "StartPeriod"), 0);
	h->retries = retries > 0 ? (int)retries : HEALTH_RETRIES_DEFAULT;
	h->started_ms = uv_now(d->loop);
	uv_timer_init(d->loop, &h->timer);
	uv_timer_init(d->loop, &h->timeout);
	h->timer.data = h->timeout.data = h;
	h->handles = 2;
	h->next = d->health;
	d->health = h;
	schedule(h);
}

void berthd_health_stop(struct berthd *d, const char *id)
{
	struct berthd_health **pp = &d->health;

	while (*pp && (id == NULL || strcmp((*pp)->id, id) != 0))
		pp = &(*pp)->next;
	if (!*pp)
		return;
	struct berthd_health *h = *pp;

	*pp = h->next;
	h->stopped = true;
	uv_timer_stop(&h->timeout);
	uv_close((uv_handle_t *)&h->timer, on_handle_closed);
	uv_close((uv_handle_t *)&h->timeout, on_handle_closed);
	/* A probe under way ends on its own (its container is gone or
	 * going), closing its handles. */
	if (h->probing && h->pid > 0)
		kill(h->pid, SIGKILL);
}

void berthd_health_free(struct berthd *d)
{
	while (d->health) {
		struct berthd_health *h = d->health;

		berthd_health_stop(d, h->id);
	}
}
