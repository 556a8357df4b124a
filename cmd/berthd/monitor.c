/* What the loop holds for containers: the shim of each running one,
 * watched through a pidfd (a shim's end is its container's end), the
 * clients waiting for an end or a removal, the clients attached before a
 * start, stops in progress, and restart policies with Docker's backoff.
 * Nothing here blocks: recording an end runs as a thread-pool job. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/log.h"

/* Docker's restart backoff: 100 ms, doubled after each run shorter than
 * 10 s, at most a minute. */
#define RESTART_DELAY_FIRST_MS 100
#define RESTART_DELAY_MAX_MS   (60 * 1000)
#define RESTART_RESET_MS       (10 * 1000)

enum wait_condition {
	WAIT_NOT_RUNNING,
	WAIT_NEXT_EXIT,
	WAIT_REMOVED
};

struct waiter {
	struct api_request *req;
	enum wait_condition cond;
	struct berthd_ctr *ctr;
	struct waiter *next;
};

struct stopper {
	struct api_request *req;
	bool restart; /* start it again, then answer */
	struct stopper *next;
};

struct berthd_ctr {
	char id[65];
	struct berthd *d;
	pid_t shim;
	uv_poll_t *poll; /* the shim's pidfd, while watched */
	/* The pipe its shim reported on, when this berthd started it: it
	 * ends once the shim has recorded the end, before the shim does. */
	uv_poll_t *end_poll;
	bool ending;	  /* its end is being recorded: settled after */
	uv_timer_t timer; /* the stop's SIGKILL, or the restart's delay */
	bool timer_ready;
	bool timer_is_restart;
	struct waiter *waiters;
	struct stopper *stoppers;
	struct daemon_attach *attaches;
	size_t n_attaches;
	bool manual_stop;
	uint64_t started_ms;
	uint64_t restart_delay_ms;
	int closing; /* handles still closing */
	struct berthd_ctr *next;
};

static struct berthd_ctr *ctr_find(struct berthd *d, const char *id)
{
	for (struct berthd_ctr *c = d->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static struct berthd_ctr *ctr_get(struct berthd *d, const char *id)
{
	struct berthd_ctr *c = ctr_find(d, id);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->d = d;
	uv_timer_init(d->loop, &c->timer);
	c->timer.data = c;
	c->timer_ready = true;
	c->next = d->containers;
	d->containers = c;
	return c;
}

static void answer_wait(struct api_request *req, int exit_code, const char *error)
{
	_cleanup_json_ json_t *body =
		json_pack("{s:i, s:o}", "StatusCode", exit_code, "Error",
			  error ? json_pack("{s:s}", "Message", error) : json_null());
	_cleanup_free_ char *text = body ? jsontext_dump(body) : NULL;

	if (text) {
		api_reply_stream_write(req, text, strlen(text));
		api_reply_stream_write(req, "\n", 1);
	}
	api_reply_stream_end(req);
}

/* Answers the waiters of C whose condition an end (REMOVED false) or a
 * removal met. */
static void wake_waiters(struct berthd_ctr *c, bool removed, int exit_code)
{
	struct waiter **pp = &c->waiters;

	while (*pp) {
		struct waiter *w = *pp;

		if (w->cond == WAIT_REMOVED && !removed) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		answer_wait(w->req, exit_code, NULL);
		free(w);
	}
}

static void ctr_maybe_free(struct berthd_ctr *c);

/* The client of waiter DATA left: it waits no more. */
static void waiter_gone(struct api_request *req, void *data)
{
	struct waiter *w = data;
	struct berthd_ctr *c = w->ctr;
	struct waiter **pp;

	for (pp = &c->waiters; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = w->next;
	free(w);
	api_reply_stream_end(req);
	ctr_maybe_free(c);
}

static void answer_stoppers(struct berthd_ctr *c)
{
	bool started = false;

	while (c->stoppers) {
		struct stopper *s = c->stoppers;

		c->stoppers = s->next;
		if (s->restart && !started) {
			c->manual_stop = false;
			berthd_container_start_job(c->d, s->req, c->id, "restart");
			started = true;
		} else {
			api_reply(s->req, 204, NULL, NULL, 0);
		}
		free(s);
	}
}

static void on_ctr_closed(uv_handle_t *h)
{
	struct berthd_ctr *c = h->data;

	if (--c->closing > 0)
		return;
	free(c);
}

static void ctr_unwatch(struct berthd_ctr *c)
{
	berthd_unwatch(steal_ptr(&c->poll));
	berthd_unwatch(steal_ptr(&c->end_poll));
}

/* Frees C once nothing waits on it. */
static void ctr_maybe_free(struct berthd_ctr *c)
{
	struct berthd_ctr **pp;

	if (c->shim || c->ending || c->waiters || c->stoppers || c->n_attaches ||
	    c->timer_is_restart || c->manual_stop)
		return;
	for (pp = &c->d->containers; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->timer, on_ctr_closed);
}

static uint64_t now_ms(struct berthd *d)
{
	return uv_now(d->loop);
}

/*
 * Restart policies.
 */

struct restart_decision {
	bool restart;
	int exit_code;
};

static void on_restart_timer(uv_timer_t *t);

static int start_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err);
static void start_done(struct berthd_job *job);

/* What an end means under C's policy POLICY with RETRIES done.  As
 * Docker's, a user's kill brings back an "always" container, not an
 * "unless-stopped" one. */
static bool policy_restarts(const char *policy, int max_retries, int restart_count, int exit_code,
			    bool manually_stopped)
{
	if (!policy || !*policy || strcmp(policy, "no") == 0)
		return false;
	if (strcmp(policy, "always") == 0)
		return true;
	if (strcmp(policy, "unless-stopped") == 0)
		return !manually_stopped;
	if (strcmp(policy, "on-failure") == 0)
		return exit_code != 0 && (max_retries == 0 || restart_count < max_retries);
	return false;
}

/*
 * Ends.
 */

/* The job that records a container's end. */
static int exited_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	const json_t *hc, *rp;
	int count, code;
	bool restart;

	if (daemon_container_lookup_recorded(e->engine, job->names[0], &c, err) < 0)
		return -1;
	if (daemon_container_exited_shim(e->engine, c, err) < 0)
		return -1;
	code = daemon_container_exit_code(c);
	hc = json_object_get(c->doc, "HostConfig");
	rp = json_object_get(hc, "RestartPolicy");
	count = (int)json_integer_value(json_object_get(c->doc, "RestartCount"));
	restart = !job->flags &&
		  policy_restarts(json_string_value(json_object_get(rp, "Name")),
				  (int)json_integer_value(json_object_get(rp, "MaximumRetryCount")),
				  count, code, daemon_container_manually_stopped(c));
	job->result = json_pack(
		"{s:i, s:b, s:b, s:s, s:s}", "ExitCode", code, "Restart", restart, "OOMKilled",
		json_is_true(json_object_get(json_object_get(c->doc, "State"), "OOMKilled")),
		"Name", c->name + 1, "Image",
		json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Image"))
			?: "");
	if (restart && daemon_container_set_restarting(e->engine, c, count + 1, err) < 0)
		return -1;
	if (c->removed)
		json_object_set_new(job->result, "Removed", json_true());
	json_object_set_new(job->result, "Volumes", berthd_volume_mounts(c->doc));
	if (c->volumes_removed)
		json_object_set_new(job->result, "VolumesRemoved",
				    bjson_from_strv(c->volumes_removed));
	return 0;
}

/* The end of a container is recorded: a draining daemon goes on once it
 * was the last. */
static void drain_check(struct berthd *d)
{
	void (*drained)(void *arg) = d->drained;

	if (!d->draining || !drained || d->ending > 0)
		return;
	for (struct berthd_ctr *c = d->containers; c; c = c->next)
		if (c->shim)
			return;
	d->drained = NULL;
	drained(d->drained_arg);
}

bool berthd_containers_stop_all(struct berthd *d, void (*drained)(void *arg), void *arg)
{
	bool any = false;

	d->draining = true;
	/* No restart policy brings anything back meanwhile. */
	d->stopping = true;
	for (struct berthd_ctr *c = d->containers; c; c = c->next) {
		if (!c->shim)
			continue;
		berthd_container_shutdown_stop(d, c->id);
		any = true;
	}
	if (any || d->ending > 0) {
		d->drained = drained;
		d->drained_arg = arg;
	}
	return any || d->ending > 0;
}

static void exited_settle(struct berthd_job *job);

static void exited_done(struct berthd_job *job)
{
	job->d->ending--;
	exited_settle(job);
	drain_check(job->d);
}

static void exited_settle(struct berthd_job *job)
{
	struct berthd *d = job->d;
	struct berthd_ctr *c = ctr_find(d, job->names[0]);
	int code = (int)json_integer_value(json_object_get(job->result, "ExitCode"));
	bool restart = json_is_true(json_object_get(job->result, "Restart"));
	bool removed = json_is_true(json_object_get(job->result, "Removed"));
	const char *name = json_string_value(json_object_get(job->result, "Name"));
	const char *image = json_string_value(json_object_get(job->result, "Image"));
	char code_text[16];
	bool stopped;

	if (job->err) {
		blog_warn("container %s: record its end: %s", job->names[0], job->err->msg);
		code = 255;
	} else {
		snprintf(code_text, sizeof(code_text), "%d", code);
		if (json_is_true(json_object_get(job->result, "OOMKilled")))
			berthd_container_event(d, "oom", job->names[0], name, image, NULL);
		berthd_container_event(d, "die", job->names[0], name, image,
				       json_pack("{s:s}", "exitCode", code_text));
		berthd_volume_mount_events(d, "unmount", job->names[0],
					   json_object_get(job->result, "Volumes"));
	}
	berthd_health_stop(d, job->names[0]);
	if (!c)
		return;
	c->ending = false;
	uv_timer_stop(&c->timer);
	/* A stop, or a restart's stop: no policy restarts it. */
	stopped = c->stoppers || c->manual_stop;
	if (c->stoppers)
		berthd_container_event(d, "stop", c->id, name, image, NULL);
	answer_stoppers(c);
	wake_waiters(c, removed, code);
	if (removed) {
		berthd_container_event(d, "destroy", c->id, name, image, NULL);
		berthd_volume_events(d, "destroy", json_object_get(job->result, "VolumesRemoved"));
		wake_waiters(c, true, code);
	}
	if (restart && !stopped && !d->stopping) {
		/* Docker's backoff: doubled after each short run. */
		if (now_ms(d) - c->started_ms >= RESTART_RESET_MS || !c->restart_delay_ms)
			c->restart_delay_ms = RESTART_DELAY_FIRST_MS;
		else if (c->restart_delay_ms * 2 <= RESTART_DELAY_MAX_MS)
			c->restart_delay_ms *= 2;
		else
			c->restart_delay_ms = RESTART_DELAY_MAX_MS;
		c->timer_is_restart = true;
		uv_timer_start(&c->timer, on_restart_timer, c->restart_delay_ms, 0);
		return;
	}
	ctr_maybe_free(c);
}

/* The shim of C has ended, or was gone already: its end is recorded. */
static void shim_ended(struct berthd_ctr *c)
{
	const char *args[] = { c->id };
	struct berthd_job *job;

	ctr_unwatch(c);
	c->shim = 0;
	/* All it logged is in the file now. */
	berthd_logs_container_ended(c->d, c->id);
	job = berthd_job_with(c->d, NULL, exited_job, exited_done, args, 1);
	if (job) {
		job->flags = c->manual_stop;
		c->d->ending++;
		/* Kept until the end is settled: a waiter that leaves meanwhile
		 * must not take the restart policy's state with it. */
		c->ending = true;
		berthd_job_queue(job);
	}
}

static void on_shim_exit(uv_poll_t *p, int status, int events)
{
	shim_ended(p->data);
}

/* Watches C's SHIM and, when given, END_FD (taken), whichever tells the
 * end first. */
static void watch(struct berthd_ctr *c, pid_t shim, int end_fd)
{
	ctr_unwatch(c);
	c->shim = shim;
	c->started_ms = now_ms(c->d);
	c->end_poll = berthd_fd_watch(c->d->loop, end_fd, on_shim_exit, c);
	c->poll = berthd_pidfd_watch(c->d->loop, shim, on_shim_exit, c);
	/* Already gone: its end is recorded at once. */
	if (!c->poll)
		shim_ended(c);
}

bool berthd_container_shim_running(struct berthd *d, const char *id)
{
	struct berthd_ctr *c = ctr_find(d, id);

	return c && c->shim;
}

void berthd_container_started(struct berthd *d, const char *id, pid_t shim, int end_fd)
{
	struct berthd_ctr *c = ctr_get(d, id);

	if (!c) {
		blog_warn("container %s: cannot watch it: out of memory", id);
		if (end_fd >= 0)
			close(end_fd);
		return;
	}
	c->manual_stop = false;
	c->timer_is_restart = false;
	watch(c, shim, end_fd);
}

/*
 * Restarts.
 */

static void on_restart_timer(uv_timer_t *t)
{
	struct berthd_ctr *c = t->data;
	const char *args[] = { c->id };
	struct berthd_job *job;

	c->timer_is_restart = false;
	if (c->manual_stop || c->d->stopping) {
		ctr_maybe_free(c);
		return;
	}
	job = berthd_job_with(c->d, NULL, start_job, start_done, args, 1);
	if (job)
		berthd_job_queue(job);
}

/* Starts the container of job->names[0] under a shim, with the clients
 * parked for it; the result holds the shim's pid. */
static int start_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	struct daemon_start_opts o = { .shim = job->d->shim };
	pid_t pid = 0, shim = 0;
	int rc;

	o.attach = job->attach;
	o.n_attach = job->n_attach;
	job->status = 204;
	rc = daemon_container_lookup(e->engine, job->names[0], &c, err);
	if (rc == 0 && daemon_container_is_running(c)) {
		job->status = 304;
	} else if (rc == 0) {
		const json_t *hc;

		rc = daemon_container_start_shim(e->engine, c, &o, &pid, &shim, &job->kept_fd, err);
		/* The start reloads the document: what it holds is read after. */
		hc = json_object_get(json_object_get(c->doc, "Config"), "Healthcheck");
		if (rc < 0 && json_is_true(json_object_get(json_object_get(c->doc, "HostConfig"),
							   "AutoRemove"))) {
			/* As Docker: a --rm container that cannot start is
			 * removed, which is what its client waits for. */
			daemon_container_remove(e->engine, c->id, true, true, NULL, NULL);
			job->flags = 1;
		}
		if (rc == 0 && json_is_object(hc))
			daemon_container_reset_health(e->engine, c, NULL);
		if (rc == 0)
			job->result = json_pack("{s:s, s:I, s:s, s:s, s:O}", "Id", c->id, "Shim",
						(json_int_t)shim, "Name", c->name + 1, "Image",
						json_string_value(json_object_get(
							json_object_get(c->doc, "Config"), "Image"))
							?: "",
						"Healthcheck", hc ? hc : json_null());
		if (rc == 0)
			json_object_set_new(job->result, "Volumes", berthd_volume_mounts(c->doc));
	}
	return rc;
}

static void start_done(struct berthd_job *job)
{
	struct berthd *d = job->d;
	json_t *r = job->result;

	if (!job->err && r) {
		const char *id = json_string_value(json_object_get(r, "Id"));

		berthd_container_started(d, id,
					 (pid_t)json_integer_value(json_object_get(r, "Shim")),
					 steal_fd(&job->kept_fd));
		berthd_health_start(d, id, json_string_value(json_object_get(r, "Name")),
				    json_string_value(json_object_get(r, "Image")),
				    json_object_get(r, "Healthcheck"));
		berthd_volume_mount_events(d, "mount", id, json_object_get(r, "Volumes"));
		berthd_container_event(d, "start", id,
				       json_string_value(json_object_get(r, "Name")),
				       json_string_value(json_object_get(r, "Image")), NULL);
		if (job->event)
			berthd_container_event(
				d, job->event, id, json_string_value(json_object_get(r, "Name")),
				json_string_value(json_object_get(r, "Image")), NULL);
	} else if (job->err && !job->req) {
		blog_warn("container %s: restart: %s", job->names[0], job->err->msg);
	}
	if (job->err && job->flags)
		berthd_container_removed(d, job->names[0], 0);
	if (!job->req)
		return;
	if (job->err)
		api_reply_error(job->req, job->err);
	else
		api_reply(job->req, job->status, NULL, NULL, 0);
}

void berthd_container_start_job(struct berthd *d, struct api_request *req, const char *id,
				const char *event)
{
	const char *args[] = { id };
	struct berthd_job *job = berthd_job_with(d, req, start_job, start_done, args, 1);
	struct daemon_attach *attach = NULL;
	size_t n = 0;

	if (!job)
		return;
	job->event = event;
	berthd_container_take_attaches(d, id, &attach, &n);
	job->attach = attach;
	job->n_attach = n;
	berthd_job_queue(job);
}

/*
 * Waits, stops, attaches.
 */

void berthd_container_wait(struct berthd *d, struct api_request *req, const char *id,
			   const char *condition, bool running, int exit_code)
{
	enum wait_condition cond = WAIT_NOT_RUNNING;
	struct berthd_ctr *c;
	struct waiter *w;

	if (condition && strcmp(condition, "next-exit") == 0)
		cond = WAIT_NEXT_EXIT;
	else if (condition && strcmp(condition, "removed") == 0)
		cond = WAIT_REMOVED;
	else if (condition && *condition && strcmp(condition, "not-running") != 0) {
		api_reply_errorf(req, BERR_INVALID, "invalid condition: \"%s\"", condition);
		return;
	}
	/* The headers go at once: clients wait for them before they start
	 * the container. */
	api_reply_stream_begin(req, 200, "application/json");
	c = ctr_find(d, id);
	if (cond == WAIT_NOT_RUNNING && !running && !(c && c->timer_is_restart)) {
		answer_wait(req, exit_code, NULL);
		return;
	}
	c = ctr_get(d, id);
	w = calloc(1, sizeof(*w));
	if (!c || !w) {
		free(w);
		answer_wait(req, exit_code, "out of memory");
		return;
	}
	w->req = req;
	w->cond = cond;
	w->ctr = c;
	w->next = c->waiters;
	c->waiters = w;
	api_request_on_gone(req, waiter_gone, w);
}

static int kill_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	if (!daemon_container_is_running(c))
		return 0;
	/* A user's stop is manual, not the daemon's own at its shutdown. */
	if (daemon_container_kill(e->engine, c, atoi(job->names[1]), job->flags, err) < 0)
		return -1;
	/* A stop's signals show as Docker shows them: "kill" events. */
	job->who = berthd_container_who(c);
	job->event = "kill";
	job->event_attrs = json_pack("{s:s}", "signal", job->names[1]);
	return 0;
}

static void kill_done(struct berthd_job *job)
{
	if (job->err)
		blog_warn("container %s: kill: %s", job->names[0], job->err->msg);
	berthd_job_emit_event(job);
}

static void kill_quietly(struct berthd *d, const char *id, int signal)
{
	char sig[16];
	const char *args[] = { id, sig };
	struct berthd_job *job;

	snprintf(sig, sizeof(sig), "%d", signal);
	job = berthd_job_with(d, NULL, kill_job, kill_done, args, 2);
	if (job) {
		job->flags = !d->draining; /* manual */
		berthd_job_queue(job);
	}
}

static void on_stop_timeout(uv_timer_t *t)
{
	struct berthd_ctr *c = t->data;

	kill_quietly(c->d, c->id, SIGKILL);
}

void berthd_container_stop(struct berthd *d, struct api_request *req, const char *id, int signal,
			   int timeout, bool restart)
{
	struct berthd_ctr *c = ctr_get(d, id);
	struct stopper *s = calloc(1, sizeof(*s));

	if (!c || !s) {
		free(s);
		if (req)
			api_reply_errorf(req, BERR_INTERNAL, "out of memory");
		return;
	}
	c->manual_stop = true;
	if (c->timer_is_restart) {
		/* Waiting to restart: it simply stays stopped. */
		uv_timer_stop(&c->timer);
		c->timer_is_restart = false;
	}
	if (!c->shim) {
		free(s);
		if (req && restart)
			berthd_container_start_job(d, req, id, "restart");
		else if (req)
			api_reply(req, 204, NULL, NULL, 0);
		return;
	}
	if (req) {
		s->req = req;
		s->restart = restart;
		s->next = c->stoppers;
		c->stoppers = s;
	} else {
		free(s);
	}
	kill_quietly(d, id, signal);
	if (timeout >= 0)
		uv_timer_start(&c->timer, on_stop_timeout, (uint64_t)timeout * 1000, 0);
}

void berthd_container_set_manual_stop(struct berthd *d, const char *id, bool stopped)
{
	struct berthd_ctr *c = stopped ? ctr_get(d, id) : ctr_find(d, id);

	if (c) {
		c->manual_stop = stopped;
		ctr_maybe_free(c);
	}
}

int berthd_container_park_attach(struct berthd *d, const char *id, const struct daemon_attach *a,
				 struct berr **err)
{
	struct berthd_ctr *c = ctr_get(d, id);
	struct daemon_attach *more;

	if (!c)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "attach");
	more = realloc(c->attaches, (c->n_attaches + 1) * sizeof(*more));
	if (!more)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "attach");
	c->attaches = more;
	c->attaches[c->n_attaches++] = *a;
	return 0;
}

void berthd_container_take_attaches(struct berthd *d, const char *id, struct daemon_attach **out,
				    size_t *n)
{
	struct berthd_ctr *c = ctr_find(d, id);

	*out = NULL;
	*n = 0;
	if (!c)
		return;
	*out = c->attaches;
	*n = c->n_attaches;
	c->attaches = NULL;
	c->n_attaches = 0;
}

void berthd_container_removed(struct berthd *d, const char *id, int exit_code)
{
	struct berthd_ctr *c = ctr_find(d, id);

	if (!c)
		return;
	wake_waiters(c, true, exit_code);
	for (size_t i = 0; i < c->n_attaches; i++)
		close(c->attaches[i].fd);
	free(c->attaches);
	c->attaches = NULL;
	c->n_attaches = 0;
	c->manual_stop = false;
	if (c->timer_is_restart) {
		uv_timer_stop(&c->timer);
		c->timer_is_restart = false;
	}
	ctr_maybe_free(c);
}

/*
 * Start-up and shut-down.
 */

static int restore_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct daemon_container **list = NULL;
	size_t n = 0;

	if (daemon_container_list(e->engine, &list, &n, err) < 0)
		return -1;
	job->result = json_array();
	for (size_t i = 0; i < n; i++) {
		const json_t *rp = json_object_get(json_object_get(list[i]->doc, "HostConfig"),
						   "RestartPolicy");
		const char *policy = json_string_value(json_object_get(rp, "Name"));
		pid_t shim = daemon_container_shim_pid(list[i]);
		bool running = daemon_container_is_running(list[i]) || list[i]->end_unrecorded;

		/* Running without a shim: its end is recorded below; an
		 * "always" container the daemon's stop ended comes back. */
		const json_t *hc =
			json_object_get(json_object_get(list[i]->doc, "Config"), "Healthcheck");

		/* Stopped: "always" comes back, and "unless-stopped" too when
		 * the daemon's own stop ended it (live restore off). */
		if (!running && !(policy && (strcmp(policy, "always") == 0 ||
					     (strcmp(policy, "unless-stopped") == 0 &&
					      !daemon_container_manually_stopped(list[i])))))
			continue;
		json_array_append_new(
			job->result,
			json_pack("{s:s, s:I, s:b, s:O, s:s, s:s}", "Id", list[i]->id, "Shim",
				  (json_int_t)shim, "Running", running, "Healthcheck",
				  hc ? hc : json_null(), "Name", list[i]->name + 1, "Image",
				  json_string_value(json_object_get(
					  json_object_get(list[i]->doc, "Config"), "Image"))
					  ?: ""));
	}
	daemon_container_list_free(list, n);
	return 0;
}

static void restore_done(struct berthd_job *job)
{
	struct berthd *d = job->d;
	size_t i;
	json_t *v;

	if (job->err) {
		blog_error("pick up the containers: %s", job->err->msg);
		return;
	}
	json_array_foreach (job->result, i, v) {
		const char *id = json_string_value(json_object_get(v, "Id"));
		pid_t shim = (pid_t)json_integer_value(json_object_get(v, "Shim"));
		struct berthd_ctr *c = ctr_get(d, id);

		if (!c)
			continue;
		if (!json_is_true(json_object_get(v, "Running"))) {
			/* An "always" container stopped with the daemon. */
			on_restart_timer(&c->timer);
			continue;
		}
		blog_info("container %s: %s", id,
			  shim ? "running, watched again" : "ended while the daemon was away");
		if (shim) {
			watch(c, shim, -1);
			berthd_health_start(d, id, json_string_value(json_object_get(v, "Name")),
					    json_string_value(json_object_get(v, "Image")),
					    json_object_get(v, "Healthcheck"));
		} else
			shim_ended(c);
	}
}

void berthd_containers_restore(struct berthd *d)
{
	struct berthd_job *job = berthd_job_with(d, NULL, restore_job, restore_done, NULL, 0);

	if (job)
		berthd_job_queue(job);
}

void berthd_containers_free(struct berthd *d)
{
	d->stopping = true;
	while (d->containers) {
		struct berthd_ctr *c = d->containers;

		d->containers = c->next;
		ctr_unwatch(c);
		while (c->waiters) {
			struct waiter *w = c->waiters;

			c->waiters = w->next;
			api_reply_stream_end(w->req);
			free(w);
		}
		while (c->stoppers) {
			struct stopper *s = c->stoppers;

			c->stoppers = s->next;
			api_reply(s->req, 204, NULL, NULL, 0);
			free(s);
		}
		for (size_t i = 0; i < c->n_attaches; i++)
			close(c->attaches[i].fd);
		free(c->attaches);
		c->closing = 1;
		uv_close((uv_handle_t *)&c->timer, on_ctr_closed);
	}
}
