/* GET /containers/{id}/logs over the json-file logs the shims write:
 * the rotated files oldest first, then the live one; stdout/stderr
 * selection, since/until, tail, timestamps, Docker's multiplexed framing
 * (raw with a TTY), and follow, which goes on until the container has
 * ended and its log is read to the end, or the client leaves.  What is in
 * the files already is read by a thread-pool job writing into the
 * response's pipe; a follower then waits on the loop (inotify on the
 * container's directory) and each change is read by a short job, so that
 * no thread waits for a container that logs nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsonlog.h"
#include "lib/log.h"
#include "lib/timefmt.h"

/* Most rotated files looked at (json-file's max-file is small). */
#define LOG_FILES_MAX 100
/* How often a follower looks whether its client is still there (and,
 * without inotify, for new lines). */
#define FOLLOW_CHECK_MS 1000

struct logs_opts {
	bool out, err, timestamps, follow, tty;
	int64_t since_ns, until_ns; /* 0: unbounded */
	long tail;		    /* -1: all */
	int fd;			    /* the response pipe */
};

/* Docker's since/until: seconds with an optional fraction. */
static int64_t parse_time_ns(const char *s)
{
	char *end;
	long long sec;
	int64_t ns = 0;

	if (!s || !*s)
		return 0;
	sec = strtoll(s, &end, 10);
	if (*end == '.') {
		int64_t scale = 100000000;

		for (end++; *end >= '0' && *end <= '9' && scale > 0; end++, scale /= 10)
			ns += (*end - '0') * scale;
	}
	return (int64_t)sec * 1000000000 + ns;
}

/* Writes one entry as the client gets it; -1 when the client is gone. */
static int emit(const struct logs_opts *o, const struct jsonlog_entry *e)
{
	char head[8], stamp[TIME_RFC3339_SIZE + 1];
	size_t stamp_len = 0, len;
	struct timespec ts;

	if (o->timestamps) {
		ts.tv_sec = e->time_ns / 1000000000;
		ts.tv_nsec = e->time_ns % 1000000000;
		time_format_rfc3339(&ts, stamp);
		stamp_len = strlen(stamp);
		stamp[stamp_len++] = ' ';
	}
	len = stamp_len + e->len;
	if (!o->tty) {
		head[0] = e->stream == JSONLOG_STDERR ? 2 : 1;
		head[1] = head[2] = head[3] = 0;
		head[4] = (char)(len >> 24);
		head[5] = (char)(len >> 16);
		head[6] = (char)(len >> 8);
		head[7] = (char)len;
		if (fs_write_all(o->fd, head, sizeof(head)) < 0)
			return -1;
	}
	if (stamp_len && fs_write_all(o->fd, stamp, stamp_len) < 0)
		return -1;
	return fs_write_all(o->fd, e->data, e->len);
}

static bool wanted(const struct logs_opts *o, const struct jsonlog_entry *e)
{
	if (e->stream == JSONLOG_STDERR ? !o->err : !o->out)
		return false;
	if (o->since_ns && e->time_ns < o->since_ns)
		return false;
	return !(o->until_ns && e->time_ns > o->until_ns);
}

/* The last o->tail entries seen, for tail. */
struct tail_ring {
	struct jsonlog_entry *e;
	size_t cap, n, next;
};

static void ring_put(struct tail_ring *r, struct jsonlog_entry *e)
{
	if (r->cap == 0) {
		jsonlog_entry_clear(e);
		return;
	}
	if (r->n == r->cap)
		jsonlog_entry_clear(&r->e[r->next]);
	else
		r->n++;
	r->e[r->next] = *e;
	r->next = (r->next + 1) % r->cap;
	memset(e, 0, sizeof(*e));
}

/* Reads the lines of FILE from *offset on, emitting (or, with RING,
 * keeping) the wanted ones; *offset moves past every whole line read.  A
 * torn last line (the shim is writing it) waits for the next read. */
static int read_from(FILE *f, const struct logs_opts *o, struct tail_ring *ring, off_t *offset)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (fseeko(f, *offset, SEEK_SET) < 0)
		return 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct jsonlog_entry e = { 0 };

		if (line[n - 1] != '\n')
			break;
		*offset += n;
		if (jsonlog_decode(line, (size_t)n, &e) < 0 || !wanted(o, &e)) {
			jsonlog_entry_clear(&e);
			continue;
		}
		if (ring) {
			ring_put(ring, &e);
			continue;
		}
		rc = emit(o, &e);
		jsonlog_entry_clear(&e);
		if (rc < 0)
			break;
	}
	clearerr(f);
	free(line);
	return rc;
}

/*
 * Followers.
 */

struct berthd_follower {
	struct berthd *d;
	struct api_request *req;
	char id[65];
	char *path;	    /* the live log file, absolute */
	const char *base;   /* its name in the container's directory, in PATH */
	FILE *file;	    /* the file being read: the read job's alone */
	ino_t ino;	    /* FILE's inode */
	off_t offset;	    /* in FILE, past the last whole line sent */
	struct logs_opts o; /* o.fd: the response pipe's write end, ours */
	uv_fs_event_t watch;
	uv_timer_t timer;
	bool watching; /* inotify tells of changes (else the timer looks) */
	int closing;   /* handles still closing */
	bool busy;     /* a read job runs */
	bool dirty;    /* something changed while it ran */
	bool ended;    /* the container has ended: one last read */
	bool gone;     /* the client left, or a write failed */
	struct berthd_follower *next;
};

/* Reads what is new for F, following a rotation (the live file renamed
 * away and made anew) to the new file.  On a pool thread. */
static void follow_read(struct berthd_follower *f)
{
	for (;;) {
		struct stat now;
		FILE *g;

		if (read_from(f->file, &f->o, NULL, &f->offset) < 0) {
			f->gone = true;
			return;
		}
		if (stat(f->path, &now) < 0 || now.st_ino == f->ino)
			return;
		g = fopen(f->path, "re");
		if (!g)
			return;
		/* Rotated: what was written before the rename is read
		 * first. */
		if (read_from(f->file, &f->o, NULL, &f->offset) < 0) {
			fclose(g);
			f->gone = true;
			return;
		}
		fclose(f->file);
		f->file = g;
		f->offset = 0;
		f->ino = fstat(fileno(g), &now) == 0 ? now.st_ino : 0;
	}
}

static int follow_read_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	follow_read(job->data);
	return 0;
}

static void follower_closed(uv_handle_t *h)
{
	struct berthd_follower *f = h->data;

	if (--f->closing > 0)
		return;
	free(f->path);
	free(f);
}

/* Ends F's response and lets it go; never while a read job runs. */
static void follower_finish(struct berthd_follower *f)
{
	struct berthd_follower **pp;

	for (pp = &f->d->followers; *pp && *pp != f; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = f->next;
	if (f->file)
		fclose(f->file);
	f->file = NULL;
	/* The reader of the pipe sees its end, then the response ends. */
	cleanup_closep(&f->o.fd);
	api_reply_fd_end(f->req, NULL);
	f->closing = 2;
	uv_close((uv_handle_t *)&f->watch, follower_closed);
	uv_close((uv_handle_t *)&f->timer, follower_closed);
}

static void follow_read_done(struct berthd_job *job);

/* Reads what changed for F now, or once the read under way is done. */
static void follower_kick(struct berthd_follower *f)
{
	struct berthd_job *job;

	if (f->busy) {
		f->dirty = true;
		return;
	}
	job = berthd_job_new(f->d, NULL, follow_read_job, follow_read_done);
	if (!job) {
		f->gone = true;
		follower_finish(f);
		return;
	}
	job->data = f;
	job->storeless = true;
	f->busy = true;
	f->dirty = false;
	berthd_job_queue(job);
}

static void follow_read_done(struct berthd_job *job)
{
	struct berthd_follower *f = job->data;

	f->busy = false;
	if (f->gone || (f->ended && !f->dirty))
		follower_finish(f);
	else if (f->dirty)
		follower_kick(f);
}

static void on_log_change(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct berthd_follower *f = h->data;

	/* The live file or a rotated one; not the container's other files. */
	if (!name || strncmp(name, f->base, strlen(f->base)) == 0)
		follower_kick(f);
}

static void on_follow_timer(uv_timer_t *t)
{
	struct berthd_follower *f = t->data;

	if (!api_request_connected(f->req))
		f->gone = true;
	if (f->gone) {
		if (!f->busy)
			follower_finish(f);
		return;
	}
	if (!f->watching)
		follower_kick(f);
}

/* Hands F, which the catch-up job made, to the loop. */
static void follower_start(struct berthd *d, struct berthd_follower *f)
{
	_cleanup_free_ char *dir = strndup(f->path, (size_t)(f->base - 1 - f->path));

	f->d = d;
	f->next = d->followers;
	d->followers = f;
	uv_timer_init(d->loop, &f->timer);
	f->timer.data = f;
	uv_timer_start(&f->timer, on_follow_timer, FOLLOW_CHECK_MS, FOLLOW_CHECK_MS);
	uv_fs_event_init(d->loop, &f->watch);
	f->watch.data = f;
	f->watching = dir && uv_fs_event_start(&f->watch, on_log_change, dir, 0) == 0;
	if (!f->watching)
		blog_warn("container %s: logs followed without inotify", f->id);
	/* It may have ended since the job looked. */
	f->ended = !berthd_container_shim_running(d, f->id);
	follower_kick(f);
}

void berthd_logs_container_ended(struct berthd *d, const char *id)
{
	for (struct berthd_follower *f = d->followers, *next; f; f = next) {
		next = f->next;
		if (strcmp(f->id, id) == 0 && !f->ended) {
			f->ended = true;
			follower_kick(f);
		}
	}
}

void berthd_logs_close(struct berthd *d)
{
	for (struct berthd_follower *f = d->followers, *next; f; f = next) {
		next = f->next;
		f->gone = true;
		if (!f->busy)
			follower_finish(f);
	}
}

/* Reads the log at PATH from its oldest rotated file (the highest
 * number) to the live one, as read_from() does; *live (NULL: closed) gets
 * the live file, read to *offset. */
static int read_files(const char *path, const struct logs_opts *o, struct tail_ring *ring,
		      FILE **live, off_t *offset)
{
	int rc = 0;

	for (int i = LOG_FILES_MAX; i >= 0 && rc == 0; i--) {
		_cleanup_free_ char *name = i ? str_printf("%s.%d", path, i) : strdup(path);
		FILE *f;

		if (!name)
			break;
		f = fopen(name, "re");
		if (!f)
			continue;
		*offset = 0;
		rc = read_from(f, o, ring, offset);
		if (i == 0 && live)
			*live = f;
		else
			fclose(f);
	}
	return rc;
}

int berthd_logs_copy(const json_t *doc, int fd, bool out, bool err)
{
	const char *path = json_string_value(json_object_get(doc, "LogPath"));
	struct logs_opts o = {
		.out = out,
		.err = err,
		.tail = -1,
		.fd = fd,
		.tty = json_is_true(json_object_get(json_object_get(doc, "Config"), "Tty")),
	};
	off_t offset = 0;

	if (!path || !*path)
		return 0;
	return read_files(path, &o, NULL, NULL, &offset);
}

static int logs_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	const json_t *lc;
	const char *path, *type;
	struct logs_opts o = {
		.out = job->flags & 1,
		.err = job->flags & 2,
		.timestamps = job->flags & 4,
		.follow = job->flags & 8,
		.since_ns = parse_time_ns(job->names[1]),
		.until_ns = parse_time_ns(job->names[2]),
		.tail = -1,
		.fd = job->fd,
	};
	struct tail_ring ring = { 0 };
	FILE *live = NULL; /* the live file, kept for a follower */
	off_t offset = 0;
	int rc = 0;

	if (*job->names[3] && strcmp(job->names[3], "all") != 0) {
		char *end;

		o.tail = strtol(job->names[3], &end, 10);
		if (*end || o.tail < 0)
			o.tail = -1;
	}
	if (daemon_container_lookup(e->engine, job->names[0], &c, err) < 0)
		return -1;
	lc = json_object_get(json_object_get(c->doc, "HostConfig"), "LogConfig");
	type = json_string_value(json_object_get(lc, "Type"));
	if (type && strcmp(type, "none") == 0)
		return berr_set(err, BERR_INVALID, 0,
				"configured logging driver does not support reading");
	o.tty = json_is_true(json_object_get(json_object_get(c->doc, "Config"), "Tty"));
	path = json_string_value(json_object_get(c->doc, "LogPath"));
	if (!path || !*path)
		return 0; /* never started: nothing logged */
	if (o.tail >= 0) {
		ring.cap = (size_t)o.tail;
		ring.e = calloc(ring.cap ? ring.cap : 1, sizeof(*ring.e));
		if (!ring.e)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "logs");
	}
	rc = read_files(path, &o, o.tail >= 0 ? &ring : NULL, &live, &offset);
	for (size_t i = 0; i < ring.n; i++) {
		struct jsonlog_entry *x = &ring.e[(ring.next + ring.cap - ring.n + i) % ring.cap];

		if (rc == 0)
			rc = emit(&o, x);
		jsonlog_entry_clear(x);
	}
	free(ring.e);
	if (rc == 0 && o.follow && live && daemon_container_is_running(c)) {
		struct berthd_follower *f = calloc(1, sizeof(*f));
		struct stat st;

		/* The shims write it at an absolute path. */
		if (f && path[0] == '/' && fstat(fileno(live), &st) == 0 &&
		    (f->path = strdup(path))) {
			f->base = strrchr(f->path, '/') + 1;
			snprintf(f->id, sizeof(f->id), "%s", c->id);
			f->file = steal_ptr(&live);
			f->ino = st.st_ino;
			f->offset = offset;
			f->o = o;
			f->o.fd = steal_fd(&job->fd);
			job->data = steal_ptr(&f);
		}
		if (f) {
			free(f->path);
			free(f);
		}
	}
	if (live)
		fclose(live);
	return 0;
}

static void logs_done(struct berthd_job *job)
{
	struct berthd_follower *f = job->data;

	if (!f) {
		api_reply_fd_end(job->req, job->err);
		return;
	}
	f->req = job->req;
	follower_start(job->d, f);
}

void berthd_container_logs(struct api_request *req, void *ctx)
{
	const struct api_query *q = &req->query;
	const char *args[] = { api_params_get(&req->params, "name"), api_query_get(q, "since"),
			       api_query_get(q, "until"), api_query_get(q, "tail") };
	struct berthd_job *job;
	int fds[2];

	if (!api_query_bool(q, "stdout") && !api_query_bool(q, "stderr")) {
		api_reply_errorf(req, BERR_INVALID,
				 "Bad parameters: you must choose at least one stream");
		return;
	}
	job = berthd_job_with(ctx, req, logs_job, logs_done, args, 4);
	if (!job)
		return;
	job->flags = (api_query_bool(q, "stdout") ? 1 : 0) | (api_query_bool(q, "stderr") ? 2 : 0) |
		     (api_query_bool(q, "timestamps") ? 4 : 0) |
		     (api_query_bool(q, "follow") ? 8 : 0);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		berr_set(&job->err, BERR_INTERNAL, errno, "logs");
		job->done = NULL;
		berthd_job_queue(job);
		return;
	}
	job->fd = fds[1];
	/* Docker 20.10 names the stream raw even when it is multiplexed. */
	api_reply_fd_begin(req, "application/vnd.docker.raw-stream", fds[0]);
	berthd_job_queue(job);
}
