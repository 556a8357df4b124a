/* The routes `docker cp` uses: HEAD, GET and PUT of
 * /containers/{name}/archive?path=P.  The stat of P travels base64-encoded
 * in the X-Docker-Container-Path-Stat header; a GET stats first, then
 * streams the tar from a second job once the header is set. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cmd/berthd/berthd.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/jsontext.h"

#define PATH_STAT_HEADER "X-Docker-Container-Path-Stat"

enum {
	ARCHIVE_NAME,
	ARCHIVE_PATH
};

/* The container and path of REQ as job names, and the extraction's flags
 * (enum daemon_archive_flags: Docker's boolean noOverwriteDirNonDir and
 * copyUIDGID) as its flags; NULL (REQ answered) for a missing path. */
static struct berthd_job *archive_job(struct berthd *d, struct api_request *req, berthd_job_fn fn,
				      berthd_done_fn done)
{
	const char *path = api_query_get(&req->query, "path");
	const char *args[] = { api_params_get(&req->params, "name"), path };
	struct berthd_job *job;

	if (!path || !*path) {
		api_reply_errorf(req, BERR_INVALID, "bad parameter: path cannot be empty");
		return NULL;
	}
	job = berthd_job_with(d, req, fn, done, args, 2);
	if (job)
		job->flags = (api_query_bool(&req->query, "noOverwriteDirNonDir")
				      ? DAEMON_ARCHIVE_NO_OVERWRITE_DIR_NON_DIR
				      : 0) |
			     (api_query_bool(&req->query, "copyUIDGID") ? DAEMON_ARCHIVE_COPY_UIDGID
									: 0);
	return job;
}

static int stat_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[ARCHIVE_NAME], &c, err) < 0 ||
	    daemon_container_path_stat(e->engine, c, job->names[ARCHIVE_PATH], &job->result, err) <
		    0)
		return -1;
	job->who = berthd_container_who(c);
	return 0;
}

/* Sets the stat header of REQ from STAT; false when memory ran out. */
static bool add_stat_header(struct api_request *req, const json_t *stat)
{
	_cleanup_free_ char *text = jsontext_dump(stat);
	_cleanup_free_ char *encoded = NULL;
	size_t len;

	if (!text)
		return false;
	len = strlen(text);
	encoded = malloc(4 * ((len + 2) / 3) + 1);
	if (!encoded)
		return false;
	EVP_EncodeBlock((unsigned char *)encoded, (const unsigned char *)text, (int)len);
	api_request_add_header(req, PATH_STAT_HEADER, encoded);
	return true;
}

static void head_done(struct berthd_job *job)
{
	if (!job->err && !add_stat_header(job->req, job->result))
		berr_set(&job->err, BERR_INTERNAL, ENOMEM, "out of memory");
	if (job->err)
		api_reply_error(job->req, job->err);
	else
		api_reply(job->req, 200, NULL, "", 0);
}

void berthd_container_archive_head(struct api_request *req, void *ctx)
{
	struct berthd_job *job = archive_job(ctx, req, stat_job, head_done);

	if (job)
		berthd_job_queue(job);
}

static int get_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[ARCHIVE_NAME], &c, err) < 0)
		return -1;
	return daemon_container_archive_get(e->engine, c, job->names[ARCHIVE_PATH], job->fd, err);
}

static void get_done(struct berthd_job *job)
{
	api_reply_fd_end(job->req, job->err);
}

/* The stat is known: its header goes with the tar that a second job
 * writes into a pipe the server streams out. */
static void get_stat_done(struct berthd_job *job)
{
	struct berthd_job *tar;
	int fds[2];

	if (!job->err && !add_stat_header(job->req, job->result))
		berr_set(&job->err, BERR_INTERNAL, ENOMEM, "out of memory");
	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	job->event = "archive-path";
	berthd_job_emit_event(job);
	tar = berthd_job_with(job->d, job->req, get_job, get_done, (const char *const *)job->names,
			      2);
	if (!tar)
		return;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		berr_set(&tar->err, BERR_INTERNAL, errno, "pipe");
		tar->done = NULL;
		berthd_job_queue(tar);
		return;
	}
	tar->fd = fds[1];
	api_reply_fd_begin(job->req, "application/x-tar", fds[0]);
	berthd_job_queue(tar);
}

void berthd_container_archive_get(struct api_request *req, void *ctx)
{
	struct berthd_job *job = archive_job(ctx, req, stat_job, get_stat_done);

	if (job)
		berthd_job_queue(job);
}

static int put_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;

	if (daemon_container_lookup(e->engine, job->names[ARCHIVE_NAME], &c, err) < 0 ||
	    daemon_container_archive_put(e->engine, c, job->names[ARCHIVE_PATH], job->fd,
					 job->flags, err) < 0)
		return -1;
	job->who = berthd_container_who(c);
	return 0;
}

static void put_done(struct berthd_job *job)
{
	job->event = "extract-to-dir";
	berthd_job_emit_event(job);
	if (job->err)
		api_reply_error(job->req, job->err);
	else
		api_reply(job->req, 200, NULL, "", 0);
}

void berthd_container_archive_put(struct api_request *req, void *ctx)
{
	struct berthd_job *job = archive_job(ctx, req, put_job, put_done);

	if (!job)
		return;
	job->fd = steal_fd(&req->body_fd);
	berthd_job_queue(job);
}
