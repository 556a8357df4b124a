/* GET /containers/{id}/logs over the json-file logs the shims write:
 * the rotated files oldest first, then the live one; stdout/stderr
 * selection, since/until, tail, timestamps, Docker's multiplexed framing
 * (raw with a TTY), and follow, which goes on until the container has
 * ended and its log is read to the end, or the client leaves.  Runs as a
 * thread-pool job writing into the response's pipe. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsonlog.h"
#include "lib/timefmt.h"

/* Most rotated files looked at (json-file's max-file is small). */
#define LOG_FILES_MAX 100
/* How often a follower looks whether the container still runs. */
#define FOLLOW_CHECK_MS 250

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

/* Whether the reader of the response pipe has left. */
static bool client_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP));
}

static bool container_running(struct berthd_engine *e, const char *id)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	return daemon_container_lookup(e->engine, id, &c, NULL) == 0 &&
	       daemon_container_is_running(c);
}

/* Follows PATH past *offset until the container ID has ended and every
 * line is read, or the client leaves.  A rotation (PATH renamed away and
 * made anew) is followed to the new file. */
static int follow(struct berthd_engine *e, const char *id, const char *path,
		  const struct logs_opts *o, off_t offset)
{
	_cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	struct stat st, now;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f || fstat(fileno(f), &st) < 0) {
		if (f)
			fclose(f);
		return 0;
	}
	if (in >= 0)
		inotify_add_watch(in, path, IN_MODIFY);
	for (;;) {
		bool running = container_running(e, id);
		struct pollfd p = { .fd = in, .events = POLLIN };
		char drain[4096];

		if (read_from(f, o, NULL, &offset) < 0)
			break;
		if (stat(path, &now) == 0 && now.st_ino != st.st_ino) {
			/* Rotated: the old file is read to its end above;
			 * the new one from its start. */
			FILE *g = fopen(path, "re");

			if (g) {
				fclose(f);
				f = g;
				fstat(fileno(f), &st);
				offset = 0;
				if (in >= 0)
					inotify_add_watch(in, path, IN_MODIFY);
				continue;
			}
		}
		if (!running) {
			/* Ended: what it wrote before is in the file now. */
			read_from(f, o, NULL, &offset);
			break;
		}
		if (client_gone(o->fd))
			break;
		if (in < 0 || poll(&p, 1, FOLLOW_CHECK_MS) < 0)
			usleep(FOLLOW_CHECK_MS * 1000);
		while (in >= 0 && read(in, drain, sizeof(drain)) > 0)
			;
	}
	fclose(f);
	return rc;
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
	/* The rotated files, oldest (highest number) first. */
	for (int i = LOG_FILES_MAX; i >= 0 && rc == 0; i--) {
		_cleanup_free_ char *name = i ? str_printf("%s.%d", path, i) : strdup(path);
		FILE *f;

		if (!name)
			break;
		f = fopen(name, "re");
		if (!f)
			continue;
		offset = 0;
		rc = read_from(f, &o, o.tail >= 0 ? &ring : NULL, &offset);
		fclose(f);
	}
	for (size_t i = 0; i < ring.n; i++) {
		struct jsonlog_entry *x = &ring.e[(ring.next + ring.cap - ring.n + i) % ring.cap];

		if (rc == 0)
			rc = emit(&o, x);
		jsonlog_entry_clear(x);
	}
	free(ring.e);
	if (rc == 0 && o.follow && daemon_container_is_running(c))
		follow(e, c->id, path, &o, offset);
	return 0;
}

static void logs_done(struct berthd_job *job)
{
	api_reply_fd_end(job->req, job->err);
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
