/* berthd's engines and jobs: store connections lent to thread-pool jobs,
 * and the one finish path of a job (answer, free). */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"

int berthd_engine_get(struct berthd *d, struct berthd_engine **out, struct berr **err)
{
	struct berthd_engine *e;

	pthread_mutex_lock(&d->lock);
	e = d->idle;
	if (e)
		d->idle = e->next;
	pthread_mutex_unlock(&d->lock);
	if (e) {
		e->next = NULL;
		*out = e;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "open the stores");
	if (image_store_open(d->data_root, &e->images, err) < 0 ||
	    daemon_new(e->images, d->exec_root, &e->engine, err) < 0) {
		image_store_free(e->images);
		free(e);
		return -1;
	}
	daemon_defer_dir_removal(e->engine);
	daemon_set_cgroup_keeper(e->engine, d->cgroup_keeper);
	daemon_set_shim_pool(e->engine, d->shim_pool);
	*out = e;
	return 0;
}

void berthd_engine_put(struct berthd *d, struct berthd_engine *e)
{
	pthread_mutex_lock(&d->lock);
	e->next = d->idle;
	d->idle = e;
	pthread_mutex_unlock(&d->lock);
}

void berthd_engines_free(struct berthd *d)
{
	if (d->idle)
		daemon_spare_release(d->idle->engine);
	while (d->idle) {
		struct berthd_engine *e = d->idle;

		d->idle = e->next;
		daemon_free(e->engine);
		image_store_free(e->images);
		free(e);
	}
}

static void job_work(uv_work_t *w)
{
	struct berthd_job *job = w->data;
	struct berthd_engine *e = NULL;

	if (job->err)
		goto out;
	if (job->storeless) {
		job->fn(job, NULL, &job->err);
		goto out;
	}
	if (berthd_engine_get(job->d, &e, &job->err) < 0)
		goto out;
	job->fn(job, e, &job->err);
	job->tidy = daemon_tidy_take(e->engine);
	berthd_engine_put(job->d, e);
out:
	/* The reader of a pipe the job wrote sees its end now. */
	if (job->fd >= 0) {
		close(job->fd);
		job->fd = -1;
	}
}

/* Memory given back to the kernel this long after the last job: a burst
 * of jobs (1,000 containers listed) leaves none of its peak behind. */
#define TRIM_DELAY_MS 1000

static void on_trim(uv_timer_t *t)
{
	malloc_trim(0);
}

/*
 * The containers' trash, directories renamed there by removals, and their
 * spare, made ahead for the next create: seen to by one job at a time
 * once the removals and creates were answered.
 */

static int tidy_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	int rc;

	/* After the answer, while the next start may be running: where the
	 * CPUs would idle. */
	sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){ 0 });
	rc = daemon_tidy(e->engine, err);
	sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 });
	return rc;
}

static void tidy_done(struct berthd_job *job)
{
	struct berthd *d = job->d;

	if (job->err)
		blog_warn("tidy the containers' directories: %s", job->err->msg);
	d->tidying = false;
	if (d->tidy_again) {
		d->tidy_again = false;
		berthd_tidy(d);
	}
}

/* How long after a create or removal the tidy starts: a `run --rm` asks
 * for it at its create, and is over by then, so that the tidy's mounts
 * and inodes do not take the CPUs from the run's start. */
#define TIDY_DELAY_MS 50

static void on_tidy_timer(uv_timer_t *t)
{
	struct berthd *d = t->data;
	struct berthd_job *job = berthd_job_new(d, NULL, tidy_job, tidy_done);

	if (!job)
		return;
	d->tidying = true;
	berthd_job_queue(job);
}

void berthd_tidy_flush(struct berthd *d)
{
	if (!uv_is_active((uv_handle_t *)&d->tidy_timer))
		return;
	uv_timer_stop(&d->tidy_timer);
	on_tidy_timer(&d->tidy_timer);
}

void berthd_tidy(struct berthd *d)
{
	if (d->tidying) {
		d->tidy_again = true;
		return;
	}
	/* Not put off again by later calls: a steady stream of runs still
	 * gets its spares. */
	if (!uv_is_active((uv_handle_t *)&d->tidy_timer))
		uv_timer_start(&d->tidy_timer, on_tidy_timer, TIDY_DELAY_MS, 0);
}

static void job_after(uv_work_t *w, int status)
{
	struct berthd_job *job = w->data;
	struct berthd *d = job->d;
	bool tidy = job->tidy;

	if (job->d->trim_ready)
		uv_timer_start(&job->d->trim, on_trim, TRIM_DELAY_MS, 0);

	if (status < 0 && !job->err)
		berr_set(&job->err, BERR_INTERNAL, -status, "job cancelled");
	if (job->done)
		job->done(job);
	else if (job->err)
		api_reply_error(job->req, job->err);
	else if (job->body)
		api_reply(job->req, job->status, "application/json", job->body, job->body_len);
	else
		api_reply_json(job->req, job->status, job->result);
	free(job->body);
	json_decref(job->result);
	json_decref(job->who);
	json_decref(job->event_attrs);
	berr_free(job->err);
	strv_free(job->names);
	if (job->fd >= 0)
		close(job->fd);
	if (job->kept_fd >= 0)
		close(job->kept_fd);
	for (size_t i = 0; i < job->n_attach; i++)
		close(job->attach[i].fd);
	free(job->attach);
	free(job);
	/* After the answer: the trash goes, and a spare comes, once nobody
	 * waits for it. */
	if (tidy)
		berthd_tidy(d);
}

struct berthd_job *berthd_job_new(struct berthd *d, struct api_request *req, berthd_job_fn fn,
				  berthd_done_fn done)
{
	struct berthd_job *job = calloc(1, sizeof(*job));

	if (!job) {
		if (req)
			api_reply_errorf(req, BERR_INTERNAL, "out of memory");
		return NULL;
	}
	job->work.data = job;
	job->d = d;
	job->req = req;
	job->fn = fn;
	job->done = done;
	job->status = 200;
	job->fd = -1;
	job->kept_fd = -1;
	return job;
}

void berthd_job_emit_event(struct berthd_job *job)
{
	if (!job->err && job->event && job->who)
		berthd_container_event(job->d, job->event,
				       json_string_value(json_object_get(job->who, "Id")),
				       json_string_value(json_object_get(job->who, "Name")),
				       json_string_value(json_object_get(job->who, "Image")),
				       steal_ptr(&job->event_attrs));
}

void berthd_job_event_done(struct berthd_job *job)
{
	berthd_job_emit_event(job);
	if (job->err)
		api_reply_error(job->req, job->err);
	else
		api_reply_json(job->req, job->status, job->result);
}

void berthd_job_queue(struct berthd_job *job)
{
	if (uv_queue_work(job->d->loop, &job->work, job_work, job_after) < 0) {
		berr_set(&job->err, BERR_INTERNAL, 0, "cannot queue work");
		job_after(&job->work, 0);
	}
}

struct berthd_job *berthd_job_with(struct berthd *d, struct api_request *req, berthd_job_fn fn,
				   berthd_done_fn done, const char *const *args, size_t n)
{
	struct berthd_job *job = berthd_job_new(d, req, fn, done);

	if (!job)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strv_append(&job->names, args[i] ? args[i] : "") < 0) {
			berr_set(&job->err, BERR_INTERNAL, ENOMEM, "out of memory");
			break;
		}
	}
	return job;
}

void berthd_job_start(struct berthd *d, struct api_request *req, berthd_job_fn fn,
		      berthd_done_fn done, const char *const *args, size_t n)
{
	struct berthd_job *job = berthd_job_with(d, req, fn, done, args, n);

	if (job)
		berthd_job_queue(job);
}

/*
 * Processes watched through pidfds, and pipes to their end.
 */

static void on_watch_closed(uv_handle_t *h)
{
	uv_os_fd_t fd = (uv_os_fd_t)(intptr_t)h->data;

	/* Only now: the loop no longer looks at the fd. */
	close(fd);
	free(h);
}

uv_poll_t *berthd_fd_watch(uv_loop_t *loop, int fd, uv_poll_cb cb, void *data)
{
	uv_poll_t *p;

	if (fd < 0)
		return NULL;
	p = malloc(sizeof(*p));
	if (!p || uv_poll_init(loop, p, fd) < 0) {
		free(p);
		close(fd);
		return NULL;
	}
	p->data = data;
	if (uv_poll_start(p, UV_READABLE | UV_DISCONNECT, cb) < 0) {
		berthd_unwatch(p);
		return NULL;
	}
	return p;
}

uv_poll_t *berthd_pidfd_watch(uv_loop_t *loop, pid_t pid, uv_poll_cb cb, void *data)
{
	return berthd_fd_watch(loop, (int)pidfd_open(pid, 0), cb, data);
}

void berthd_unwatch(uv_poll_t *p)
{
	uv_os_fd_t fd;

	if (!p)
		return;
	uv_poll_stop(p);
	if (uv_fileno((uv_handle_t *)p, &fd) < 0)
		fd = -1;
	p->data = (void *)(intptr_t)fd;
	uv_close((uv_handle_t *)p, on_watch_closed);
}
