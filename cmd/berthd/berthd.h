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

struct berthd_ctr;
struct berthd_exec;
struct berthd_health;
struct berthd_sub;
struct berthd_follower;
struct events_log;

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
	char *shim;		       /* berth-shim's path */
	struct berthd_ctr *containers; /* what the loop holds per container */
	struct berthd_exec *execs;
	struct berthd_health *health;
	struct events_log *events;	   /* <data-root>/events.log */
	struct berthd_sub *subs;	   /* clients following events */
	struct berthd_follower *followers; /* clients following logs */
	bool stopping;
	/* Live restore off: the daemon's stop first stops its containers;
	 * DRAINED(DRAINED_ARG) goes on once the last end is recorded. */
	bool draining;
	int ending; /* ends being recorded */
	void (*drained)(void *arg);
	void *drained_arg;
	uv_timer_t trim; /* gives freed memory back once jobs are done */
	bool trim_ready;
	bool tidying, tidy_again;		     /* see berthd_tidy() */
	uv_timer_t tidy_timer;			     /* starts the tidy's job */
	struct runtime_cgroup_keeper *cgroup_keeper; /* lent to every engine */
	struct daemon_shim_pool *shim_pool;	     /* lent to every engine */
};

/* Takes an idle engine, or opens a new one (image_store_open(),
 * daemon_new()).  Called from thread-pool jobs and at start.  Sets the
 * kinds of those. */
int berthd_engine_get(struct berthd *d, struct berthd_engine **out, struct berr **err);
void berthd_engine_put(struct berthd *d, struct berthd_engine *e);
void berthd_engines_free(struct berthd *d);

struct berthd_job;

/* What a route does on the loop once a job looked its container up; WHO
 * holds the container's Id, Name, Image, Running, ExitCode... */
typedef void (*berthd_then_fn)(struct berthd *d, struct api_request *req, const json_t *who);

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
	/* An answer written as JSON text already (owned), which the default
	 * answer sends instead of RESULT. */
	char *body;
	size_t body_len;
	struct berr *err;
	int fd;	      /* a pipe end the job owns, or -1 */
	int kept_fd;  /* an fd FN leaves to DONE (closed after, if left); -1: none */
	char **names; /* what the handler took from the request; owned */
	unsigned flags;
	/* Clients for a start to attach (their fds the job's to close). */
	struct daemon_attach *attach;
	size_t n_attach;
	berthd_then_fn then;
	void *data;	/* what the loop's side gave the job; borrowed */
	bool storeless; /* FN needs no engine: it gets NULL */
	bool tidy;	/* FN left the containers' trash or spare to see to */
	/* For berthd_job_event_done(): the container event to emit on
	 * success, and its subject (Id, Name, Image; owned) and attributes
	 * (owned). */
	const char *event;
	json_t *who;
	json_t *event_attrs;
};

/* A job for REQ (NULL: the daemon's own, whose DONE answers nobody) that runs FN on the loop's
 * thread pool, then DONE (NULL: answers job->status with job->result, or the error).  The handler
 * fills in what the job needs (names, fd, flags: all the job's to free) and calls
 * berthd_job_queue().  NULL when memory ran out: REQ is answered. */
struct berthd_job *berthd_job_new(struct berthd *d, struct api_request *req, berthd_job_fn fn,
				  berthd_done_fn done);
void berthd_job_queue(struct berthd_job *job);

/* berthd_job_with() and berthd_job_queue() in one, for a job that needs
 * nothing more. */
void berthd_job_start(struct berthd *d, struct api_request *req, berthd_job_fn fn,
		      berthd_done_fn done, const char *const *args, size_t n);

/* Emits job->event of job->who, when the job set it and did not fail. */
void berthd_job_emit_event(struct berthd_job *job);
/* A DONE that emits the job's event, then answers as the default does. */
void berthd_job_event_done(struct berthd_job *job);

/* Removes, on a job, the container directories that removals left in the
 * trash (see daemon_defer_dir_removal()) and makes the next create's
 * (daemon_tidy()), a moment after the first call since the last one; one
 * job at a time, another after it when asked meanwhile.  Called after each
 * job that left it something, and at start-up for what a stopped daemon
 * left. */
void berthd_tidy(struct berthd *d);
/* Starts the tidy berthd_tidy() put off, now: for a daemon that stops,
 * which leaves no removed container's cgroups behind. */
void berthd_tidy_flush(struct berthd *d);

/* berthd_job_new() with the N strings of ARGS (a NULL one becomes "") as
 * job->names; NULL when memory ran out (REQ is answered then). */
struct berthd_job *berthd_job_with(struct berthd *d, struct api_request *req, berthd_job_fn fn,
				   berthd_done_fn done, const char *const *args, size_t n);

/* Watches process PID through a pidfd: CB runs with DATA (the handle's
 * data) once it has ended.  NULL when it is gone already (or out of
 * fds).  berthd_unwatch() closes the handle, then the fd, and frees it. */
uv_poll_t *berthd_pidfd_watch(uv_loop_t *loop, pid_t pid, uv_poll_cb cb, void *data);
/* Watches FD (taken; closed on failure): CB runs with DATA once it reads
 * or hangs up.  NULL when FD is -1 or on failure. */
uv_poll_t *berthd_fd_watch(uv_loop_t *loop, int fd, uv_poll_cb cb, void *data);
void berthd_unwatch(uv_poll_t *p);

/* monitor.c: the containers the loop watches. */

/* Picks up every container at start: running ones are watched again
 * through their shims, ones whose shim ended meanwhile get their end
 * recorded and their restart policy applied. */
void berthd_containers_restore(struct berthd *d);
/* Watches the shim SHIM of the container ID that has just started, and
 * END_FD (taken; -1 for none), the pipe that ends when it recorded the
 * end (daemon_container_start_shim()). */
void berthd_container_started(struct berthd *d, const char *id, pid_t shim, int end_fd);
/* Forgets what the loop holds for container ID, which is gone: "removed"
 * waiters are answered with EXIT_CODE, its last. */
void berthd_container_removed(struct berthd *d, const char *id, int exit_code);
/* Answers REQ once container ID is not running (CONDITION
 * "not-running"), has ended its next run ("next-exit") or is removed
 * ("removed"); RUNNING and EXIT_CODE tell where it stands now. */
void berthd_container_wait(struct berthd *d, struct api_request *req, const char *id,
			   const char *condition, bool running, int exit_code);
/* Stops the running container ID: SIGNAL, then SIGKILL after TIMEOUT
 * seconds (-1: never); REQ (may be NULL) is answered 204 once it ended,
 * or, with RESTART, once it has been started again.  A manual stop keeps
 * restart policies from restarting it. */
void berthd_container_stop(struct berthd *d, struct api_request *req, const char *id, int signal,
			   int timeout, bool restart);
/* Starts container ID under a shim with the clients parked for it, and
 * answers REQ (NULL: nobody) 204, or 304 when it runs already; EVENT (NULL:
 * none) is emitted after "start" ("restart" for docker restart). */
void berthd_container_start_job(struct berthd *d, struct api_request *req, const char *id,
				const char *event);
/* Keeps client A (taken) for the next start of container ID. */
int berthd_container_park_attach(struct berthd *d, const char *id, const struct daemon_attach *a,
				 struct berr **err);
/* Hands the clients parked for container ID to the caller: *out (owned)
 * of *n. */
void berthd_container_take_attaches(struct berthd *d, const char *id, struct daemon_attach **out,
				    size_t *n);
/* Whether a manual stop of ID is under way or done (restart policies
 * keep off). */
void berthd_container_set_manual_stop(struct berthd *d, const char *id, bool stopped);
void berthd_containers_free(struct berthd *d);
/* Stops every running container as the daemon's own stop (not a user's:
 * "unless-stopped" brings it back at the next start), then calls DRAINED
 * with ARG once every end is recorded.  False when none runs (DRAINED is
 * not called). */
bool berthd_containers_stop_all(struct berthd *d, void (*drained)(void *arg), void *arg);
/* The daemon's own stop of container ID, with its stop signal and
 * timeout (containers.c). */
void berthd_container_shutdown_stop(struct berthd *d, const char *id);
/* Whether the loop watches the shim of container ID (it runs). */
bool berthd_container_shim_running(struct berthd *d, const char *id);

/* logs.c: the clients following the logs of container ID get its last
 * lines, then the end of their response, now that its shim has ended. */
void berthd_logs_container_ended(struct berthd *d, const char *id);
/* Ends every response following logs (the daemon stops). */
void berthd_logs_close(struct berthd *d);
/* Writes what the json-file log of the container of DOC holds (its OUT
 * and ERR streams) to FD as an attached client gets it: framed, or raw
 * with a TTY.  -1 when FD's reader is gone.  On a pool thread. */
int berthd_logs_copy(const json_t *doc, int fd, bool out, bool err);
/* Forgets the execs; running ones go on unwatched. */
void berthd_execs_free(struct berthd *d);

/* events.c: emits an event of TYPE and ACTION on object ID with
 * ATTRIBUTES (stolen; NULL: none) to the log and the clients following
 * events.  On the loop. */
void berthd_event_emit(struct berthd *d, const char *type, const char *action, const char *id,
		       json_t *attributes);
/* Opens the events log under the data root; closes it and ends the
 * clients' responses. */
int berthd_events_open(struct berthd *d, struct berr **err);
void berthd_events_close(struct berthd *d);
void berthd_events(struct api_request *req, void *ctx);
/* How many clients follow events now. */
size_t berthd_events_listeners(const struct berthd *d);
int daemon_container_create_api(struct daemon *d, const char *name, const json_t *body,
				struct daemon_container **out, json_t **warnings,
				struct berr **err);

/* health.c: health checks of running containers. */

/* Starts the checks of HEALTHCHECK (Docker's Config.Healthcheck) for the
 * running container ID (NAME and IMAGE for its events); none for a
 * missing or "NONE" test. */
void berthd_health_start(struct berthd *d, const char *id, const char *name, const char *image,
			 const json_t *healthcheck);
/* Stops the checks of container ID. */
void berthd_health_stop(struct berthd *d, const char *id);
void berthd_health_free(struct berthd *d);

/* What events and the loop need to know of C: its Id, Name, Image,
 * Running and ExitCode, as a new object. */
json_t *berthd_container_who(const struct daemon_container *c);

/* Emits an event; see events.c. */
void berthd_container_event(struct berthd *d, const char *action, const char *id, const char *name,
			    const char *image, json_t *attributes);

/* volumes.c: emits an event ACTION of type "volume" for each name of the
 * array NAMES (NULL: none). */
void berthd_volume_events(struct berthd *d, const char *action, const json_t *names);
/* The volumes a container's document DOC mounts (Name, Destination, RW), as
 * a new array; on a pool thread. */
json_t *berthd_volume_mounts(const json_t *doc);
/* Emits Docker's "mount" or "unmount" ACTION for each of MOUNTS
 * (berthd_volume_mounts()') of container CONTAINER. */
void berthd_volume_mount_events(struct berthd *d, const char *action, const char *container,
				const json_t *mounts);

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
void berthd_container_create(struct api_request *req, void *ctx);
void berthd_containers_list(struct api_request *req, void *ctx);
void berthd_container_stats(struct api_request *req, void *ctx);
void berthd_container_top(struct api_request *req, void *ctx);
void berthd_container_update(struct api_request *req, void *ctx);
void berthd_containers_prune(struct api_request *req, void *ctx);
void berthd_images_prune(struct api_request *req, void *ctx);
void berthd_networks_prune(struct api_request *req, void *ctx);
void berthd_build_prune(struct api_request *req, void *ctx);
void berthd_system_df(struct api_request *req, void *ctx);
void berthd_container_inspect(struct api_request *req, void *ctx);
void berthd_container_archive_head(struct api_request *req, void *ctx);
void berthd_container_archive_get(struct api_request *req, void *ctx);
void berthd_container_archive_put(struct api_request *req, void *ctx);
void berthd_container_start(struct api_request *req, void *ctx);
void berthd_container_stop_route(struct api_request *req, void *ctx);
void berthd_container_restart(struct api_request *req, void *ctx);
void berthd_container_kill(struct api_request *req, void *ctx);
void berthd_container_wait_route(struct api_request *req, void *ctx);
void berthd_container_delete(struct api_request *req, void *ctx);
void berthd_container_attach(struct api_request *req, void *ctx);
void berthd_container_resize(struct api_request *req, void *ctx);
void berthd_container_pause(struct api_request *req, void *ctx);
void berthd_container_unpause(struct api_request *req, void *ctx);
void berthd_container_rename(struct api_request *req, void *ctx);
void berthd_container_changes(struct api_request *req, void *ctx);
void berthd_container_export(struct api_request *req, void *ctx);
void berthd_commit(struct api_request *req, void *ctx);
void berthd_container_logs(struct api_request *req, void *ctx);
void berthd_exec_create(struct api_request *req, void *ctx);
void berthd_exec_start(struct api_request *req, void *ctx);
void berthd_exec_inspect(struct api_request *req, void *ctx);
void berthd_exec_resize(struct api_request *req, void *ctx);
void berthd_volumes_list(struct api_request *req, void *ctx);
void berthd_volumes_create(struct api_request *req, void *ctx);
void berthd_volume_inspect(struct api_request *req, void *ctx);
void berthd_volume_delete(struct api_request *req, void *ctx);
void berthd_volumes_prune(struct api_request *req, void *ctx);

#endif
