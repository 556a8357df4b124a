/* berthd's shared state: the daemon's settings, the handles on the image
 * store and the container engine that thread-pool jobs borrow, and the
 * route handlers of each topic (system.c, images.c). */
#ifndef BERTH_CMD_BERTHD_H
#define BERTH_CMD_BERTHD_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "api/http.h"
#include "daemon/container.h"
#include "image/image.h"
#include "lib/berr.h"

/* One connection to the stores.  Each job that touches them holds one for
 * its time, so that the database transactions of concurrent jobs never
 * share a connection. */
struct berthd_engine {
	struct image_store *images;
	struct daemon *engine;
	struct berthd_engine *next;
};

struct berthd {
	uv_loop_t *loop;
	struct api_server *server;
	char *data_root;
	char *exec_root;
	char *id; /* the engine's ID in /info, kept in the data root */
	bool live_restore;
	time_t started;
	pthread_mutex_t lock; /* guards idle */
	struct berthd_engine *idle;
};

/* Takes an idle engine, or opens a new one (image_store_open(),
 * daemon_new()).  Called from thread-pool jobs and at start.  Sets the
 * kinds of those. */
int berthd_engine_get(struct berthd *d, struct berthd_engine **out, struct berr **err);
void berthd_engine_put(struct berthd *d, struct berthd_engine *e);
void berthd_engines_free(struct berthd *d);

struct berthd_job;

/* Runs on a pool thread with engine E; fills job->result or returns -1
 * with *err. */
typedef int (*berthd_job_fn)(struct berthd_job *job, struct berthd_engine *e, struct berr **err);
/* Runs on the loop once the job is done; it answers job->req. */
typedef void (*berthd_done_fn)(struct berthd_job *job);

struct berthd_job {
	uv_work_t work;
	struct berthd *d;
	struct api_request *req;
	berthd_job_fn fn;
	berthd_done_fn done;
	int status;	/* for the default answer */
	json_t *result; /* owned */
	struct berr *err;
	int fd;	      /* a pipe end the job owns, or -1 */
	char **names; /* what the handler took from the request; owned */
	unsigned flags;
};

/* A job for REQ that runs FN on the loop's thread pool, then DONE (NULL:
 * answers job->status with job->result, or the error).  The handler fills
 * in what the job needs (names, fd, flags: all the job's to free) and
 * calls berthd_job_queue().  NULL when memory ran out: REQ is answered. */
struct berthd_job *berthd_job_new(struct berthd *d, struct api_request *req, berthd_job_fn fn,
				  berthd_done_fn done);
void berthd_job_queue(struct berthd_job *job);

/* Handlers. */
void berthd_ping(struct api_request *req, void *ctx);
void berthd_version(struct api_request *req, void *ctx);
void berthd_info(struct api_request *req, void *ctx);
void berthd_images_list(struct api_request *req, void *ctx);
void berthd_image_inspect(struct api_request *req, void *ctx);
void berthd_image_history(struct api_request *req, void *ctx);
void berthd_image_tag(struct api_request *req, void *ctx);
void berthd_image_delete(struct api_request *req, void *ctx);
void berthd_images_load(struct api_request *req, void *ctx);
void berthd_images_get(struct api_request *req, void *ctx);
void berthd_image_get(struct api_request *req, void *ctx);
void berthd_images_create(struct api_request *req, void *ctx);

#endif
