/* The container engine: containers made from images with Docker's rules
 * (ids, names, the merge of the image's run config with the caller's
 * options), their OCI runtime config, their life (start, exit, removal)
 * over the in-process OCI runtime, and what they changed (diff, commit,
 * export).  Each container is a row of the metadata store holding a JSON
 * document in the shape of `docker container inspect`, a directory under
 * <data-root>/containers/<id> (overlay upper, work and merged dirs, an init
 * layer, hostname, hosts, resolv.conf and its log), a run directory under
 * <exec-root>/containers/<id> once started (the bundle's config.json, the
 * shim's sockets and record of the end) and, while it runs, a runtime
 * container under <exec-root>/runtime.  Nothing here prints or
 * exits: errors go up as berr, with Docker's messages. */
#ifndef BERTH_DAEMON_CONTAINER_H
#define BERTH_DAEMON_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "image/changes.h"
#include "image/image.h"
#include "lib/berr.h"
#include "lib/cleanup.h"

/* The PATH a container gets when neither the image nor the caller sets
 * one (Docker's system.DefaultPathEnv). */
#define DAEMON_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Where the OCI runtime keeps its state, under the exec root: what
 * `berth-runc --root <exec-root>/runtime list` shows. */
#define DAEMON_RUNTIME_DIR "runtime"

/* Where containers live, under the data root, and where what belongs to
 * one run of a container lives, under the exec root (see
 * daemon_container_run_dir()). */
#define DAEMON_CONTAINERS_DIR "containers"

/* Docker's exit statuses of a container whose command could not run
 * (State.ExitCode after a failed start): not found, not executable, any
 * other start failure. */
#define DAEMON_EXIT_NOT_FOUND	   127
#define DAEMON_EXIT_NOT_EXECUTABLE 126
#define DAEMON_EXIT_UNKNOWN	   128

/* The exit code recorded for a container whose end nobody saw (the process
 * waiting for it was killed, or the machine rebooted). */
#define DAEMON_EXIT_LOST 255

struct daemon;
struct daemon_container;

/* The engine over the image store IMAGES (borrowed: it must outlive the
 * engine), with containers under <its data root>/containers and runtime
 * state under EXEC_ROOT/runtime (copied).  On success *out owns the engine.
 * Sets BERR_INTERNAL. */
int daemon_new(struct image_store *images, const char *exec_root, struct daemon **out,
	       struct berr **err);
void daemon_free(struct daemon *d);
DEFINE_CLEANUP(struct daemon *, daemon_free)

/* Makes removals of containers by D leave their directories in a trash
 * (a rename), for daemon_tidy() to remove after whoever waits for
 * the removal was answered. */
void daemon_defer_dir_removal(struct daemon *d);
struct runtime_cgroup_keeper;
struct daemon_shim_pool;

/* Lends D a keeper of the kernel's cgroup-move lock (see
 * runtime_cgroup_keeper_new()), touched as containers are made, started
 * and exec'd into; it must outlive D. */
void daemon_set_cgroup_keeper(struct daemon *d, struct runtime_cgroup_keeper *keeper);

/* Keeps one berth-shim (the program at SHIM, run in DIR) started ahead of
 * the next container start, as a standby that takes the start's arguments
 * when it comes: the start then waits for no program to load.  NULL when
 * it cannot; starts spawn their shim then, as they do when none waits. */
struct daemon_shim_pool *daemon_shim_pool_new(const char *shim, const char *dir);
/* Stops making standbys; the one waiting exits. */
void daemon_shim_pool_free(struct daemon_shim_pool *p);
/* Lends D the pool, which must outlive D; its starts take standbys that
 * run SHIM (their daemon_start_opts' shim must be the same program). */
void daemon_set_shim_pool(struct daemon *d, struct daemon_shim_pool *pool);
/* Whether D left something for daemon_tidy() since the last call: a
 * removal's directory in the trash, or a create's spare to make again. */
bool daemon_tidy_take(struct daemon *d);
/* Removes what is in the trash and makes the next create's directories
 * ahead (image_container_spare_make()), with the root file system of the
 * last start in this process mounted ahead on them. */
int daemon_tidy(struct daemon *d, struct berr **err);
/* Detaches the root file systems daemon_tidy() mounted ahead that no start
 * took (on the spare, on containers created since), and those of removed
 * containers that wait in the trash: for a daemon that stops, which leaves
 * no mount behind. */
void daemon_spare_release(struct daemon *d);

/* What `docker create` takes; everything is borrowed and may be NULL. */
struct daemon_create_opts {
	const char *image;	 /* required: a name, id or id prefix */
	const char *name;	 /* NULL: a random adjective_surname */
	char *const *cmd;	 /* NULL or empty: the image's Cmd (unless ENTRYPOINT is set) */
	const char *entrypoint;	 /* NULL: the image's; "" resets it */
	char *const *env;	 /* "KEY=value"; "KEY" alone removes KEY */
	const char *working_dir; /* absolute */
	const char *user;	 /* "uid[:gid]" or names from the container's files */
	const char *hostname;	 /* NULL: the first 12 hex digits of the id */
	bool auto_remove;	 /* --rm: removed once it exits */
	bool tty;
	/* The Engine API's create body, for what it holds beyond the
	 * members above (Labels, Healthcheck, Tty, OpenStdin, StopSignal,
	 * HostConfig...); NULL for none. */
	const json_t *body;
	/* An entrypoint given as a vector (the Engine API's), which wins
	 * over entrypoint; an empty one resets the image's. */
	char *const *entrypoint_argv;
	bool entrypoint_argv_set;
};

/* `docker create` through the Engine API: BODY is the JSON of POST
 * /containers/create (Config at the top level, HostConfig...), NAME its
 * name parameter (NULL: a random one).  *warnings gets Docker's Warnings
 * array.  Sets what daemon_container_create() sets, and BERR_INVALID for a
 * member of the wrong type (naming it) or a HostConfig Docker refuses. */
int daemon_container_create_api(struct daemon *d, const char *name, const json_t *body,
				struct daemon_container **out, json_t **warnings,
				struct berr **err);

/* One container: its record and its document, all owned.  DOC has Docker's
 * inspect shape: Id, Created, Path, Args, State (Status, Running, Pid,
 * ExitCode, Error, StartedAt, FinishedAt...), Image, Name, HostConfig,
 * Config... */
struct daemon_container {
	char *id;	/* 64 hex digits */
	char *name;	/* Docker's "/name" */
	char *image_id; /* "sha256:.." */
	int64_t created;
	json_t *doc;
	/* The waiter's lock: held from daemon_container_start() to
	 * daemon_container_exited() by the process that waits for the
	 * container, so that others tell a process whose end is about to be
	 * recorded from one whose waiter is gone; -1 when not held here. */
	int waiter_fd;
	/* Recorded as running, shown as exited: its end happened unseen
	 * (see daemon_container_lookup()) and is still to be recorded. */
	bool end_unrecorded;
	/* Of the stored text doc was read from: a reload of an unchanged
	 * record parses nothing. */
	uint64_t doc_hash;
	/* Found gone when its end was recorded: removed then, as --rm asks,
	 * or by someone else meanwhile. */
	bool removed;
	/* The volumes its create named or made, and the ones its removal
	 * removed: their events are the caller's to emit. */
	char **volumes_named;
	char **volumes_removed;
};

void daemon_container_free(struct daemon_container *c);
void daemon_container_list_free(struct daemon_container **list, size_t n);
DEFINE_CLEANUP(struct daemon_container *, daemon_container_free)

/* `docker create` of the body of Docker's `POST /containers/create` BODY
 * (borrowed): its Config members (Hostname, User, Env, Cmd, Entrypoint,
 * Image, WorkingDir, Labels, ExposedPorts, Healthcheck...) at the top
 * level, HostConfig and NetworkingConfig.  NAME (may be NULL: a random
 * one) is the ?name= of the request.  Looks the image up, merges its run
 * config with the body as Docker does, keeps HostConfig in Docker's inspect
 * shape, makes the container's directories and files and records it (as a
 * user of its image).  Nothing is left when it fails.  On success *out owns
 * the new container, in state "created", and *warnings (may be NULL) a new
 * array of Docker's warnings.  Sets BERR_INVALID (a wrongly typed member,
 * named; Docker's validation messages: "Minimum memory limit allowed is
 * 6MB", "invalid restart policy ...", "No command specified"...),
 * BERR_NOT_FOUND ("No such image: X", an unknown network), BERR_CONFLICT (a
 * name in use, with Docker's message), BERR_NOT_IMPLEMENTED (a terminal,
 * named volumes, another container's IPC namespace), BERR_INTERNAL. */
int daemon_container_create_api(struct daemon *d, const char *name, const json_t *body,
				struct daemon_container **out, json_t **warnings,
				struct berr **err);

/* The create body of OPTS (as the docker CLI would send it); a new object
 * the caller owns, NULL with BERR_INTERNAL. */
json_t *daemon_create_opts_body(const struct daemon_create_opts *opts, struct berr **err);

/* daemon_container_create_api() of the body of OPTS. */
int daemon_container_create(struct daemon *d, const struct daemon_create_opts *opts,
			    struct daemon_container **out, struct berr **err);

/* The berth-init binary that containers with HostConfig.Init get (bound at
 * /sbin/docker-init); NULL or "" for the one next to the running program.
 * Sets BERR_INVALID for a path too long. */
int daemon_set_init_path(struct daemon *d, const char *path, struct berr **err);

/* Finds the container REF names (full id, name with or without "/", or a
 * unique id prefix).  A container recorded as running whose process is
 * gone without anyone recording its end shows as exited with
 * DAEMON_EXIT_LOST.  On success *out owns it.  Sets BERR_NOT_FOUND ("No
 * such container: REF"), BERR_CONFLICT for an ambiguous prefix,
 * BERR_INVALID. */
int daemon_container_lookup(struct daemon *d, const char *ref, struct daemon_container **out,
			    struct berr **err);
/* The same, as recorded: an end gone unseen is not shown, for a caller
 * about to record it (daemon_container_exited_shim()). */
int daemon_container_lookup_recorded(struct daemon *d, const char *ref,
				     struct daemon_container **out, struct berr **err);

/* Every container, newest first, in a new array *out of *n
 * (daemon_container_list_free()), each as daemon_container_lookup() shows
 * it. */
int daemon_container_list(struct daemon *d, struct daemon_container ***out, size_t *n,
			  struct berr **err);

/* Docker's State.Status of C: "created", "running", "paused" or
 * "exited"; borrowed from C. */
const char *daemon_container_status(const struct daemon_container *c);
bool daemon_container_is_running(const struct daemon_container *c);
/* An image_user_running_fn for image_store_remove(): whether container
 * USER_ID of the daemon ARG is running (an unknown one is not). */
bool daemon_container_id_running(const char *user_id, void *arg);
/* State.ExitCode of C. */
int daemon_container_exit_code(const struct daemon_container *c);

/* Starts C: mounts its root file system, writes its OCI config (the user
 * resolved in the container's /etc/passwd and /etc/group), and creates and
 * starts it in the runtime.  The container's process inherits the caller's
 * standard input, output and error, and is a child of the caller, who
 * waits for it (waitpid) and then calls daemon_container_exited().  *pid
 * gets its host pid.  C's document is updated (State running, Pid,
 * StartedAt).  On failure nothing stays mounted or created, and the
 * document records the error with Docker's exit code (State.Error,
 * State.ExitCode: DAEMON_EXIT_NOT_FOUND for a command that does not exist,
 * DAEMON_EXIT_NOT_EXECUTABLE for one that cannot be run,
 * DAEMON_EXIT_UNKNOWN otherwise), as daemon_container_exit_code() reads
 * it.  Sets BERR_CONFLICT when C runs already, BERR_NOT_FOUND, BERR_INVALID
 * (no such user or group), BERR_FORBIDDEN, BERR_INTERNAL. */
int daemon_container_start(struct daemon *d, struct daemon_container *c, pid_t *pid,
			   struct berr **err);

/* The longest detach keys accepted ("ctrl-p,ctrl-q"...). */
#define DAEMON_DETACH_KEYS_MAX 128

/* A client to attach to a container's stdio: a connected stream socket
 * (an HTTP connection taken over) and the streams it gets. */
struct daemon_attach {
	int fd; /* borrowed; the shim gets its own copy */
	bool in, out, err;
	bool raw; /* no multiplexed framing (always so with a TTY) */
	/* Docker's detach keys of a terminal session ("" for ctrl-p,ctrl-q),
	 * which end the client's attach; piped input has none. */
	char detach_keys[DAEMON_DETACH_KEYS_MAX];
};

/* Whether SPEC is detach keys as Docker takes them (term.ToBytes): keys
 * separated by commas, each one character or "ctrl-" and one of a-z, @,
 * [, \, ], ^ and _; at most DAEMON_DETACH_KEYS_MAX - 1 characters.  The
 * empty SPEC is the default. */
bool daemon_detach_keys_valid(const char *spec);

/* How daemon_container_start_shim() runs the process. */
struct daemon_start_opts {
	const char *shim; /* berth-shim's path */
	/* Clients attached before the process runs, so that they miss
	 * nothing of its output. */
	const struct daemon_attach *attach;
	size_t n_attach;
};

/* As daemon_container_start(), but the process runs under a berth-shim,
 * which holds its stdio, writes its log (HostConfig.LogConfig; the file
 * is the document's LogPath) and records its end in the container's
 * directory, so that nothing of it depends on the caller.  *pid gets the
 * container's pid and *shim the shim's, which the caller watches (its
 * end is the container's end) before calling
 * daemon_container_exited_shim().  *end_fd (the caller's to close) reads
 * end-of-file once the shim has recorded the end, which is sooner: the
 * shim lets go of the container's mounts only after. */
int daemon_container_start_shim(struct daemon *d, struct daemon_container *c,
				const struct daemon_start_opts *o, pid_t *pid, pid_t *shim,
				int *end_fd, struct berr **err);

/* Records the end of C, whose shim has ended: the status the shim
 * recorded, or DAEMON_EXIT_LOST when it recorded none; then as
 * daemon_container_exited(). */
int daemon_container_exited_shim(struct daemon *d, struct daemon_container *c, struct berr **err);

/* The pid of the shim of the running container C, found as the parent of
 * its process; 0 when there is none (the container runs under another
 * process or not at all). */
pid_t daemon_container_shim_pid(const struct daemon_container *c);

/* Gives the client A (its fd stays the caller's) to the shim of the
 * running container C; DETACH_KEYS (may be NULL) win over A's.  Sets
 * BERR_CONFLICT when no shim answers, BERR_INTERNAL. */
int daemon_container_attach(struct daemon *d, const struct daemon_container *c,
			    const struct daemon_attach *a, const char *detach_keys,
			    struct berr **err);
/* Resizes the terminal of the running container C. */
int daemon_container_resize(struct daemon *d, const struct daemon_container *c, unsigned height,
			    unsigned width, struct berr **err);

/* Records the end of C's process, whose waitpid() status is WAIT_STATUS:
 * State exited with its exit code (128 + signal for a signal), FinishedAt,
 * OOMKilled; then deletes the runtime container and unmounts the root file
 * system, and removes C when it was created with auto_remove.  A container
 * removed meanwhile is fine.  Sets BERR_INTERNAL. */
int daemon_container_exited(struct daemon *d, struct daemon_container *c, int wait_status,
			    struct berr **err);

/* Waits for PID (a child of the caller started by
 * daemon_container_start()) and records its end; *exit_code (may be NULL)
 * gets the container's exit code.  For callers without an event loop. */
int daemon_container_wait(struct daemon *d, struct daemon_container *c, pid_t pid, int *exit_code,
			  struct berr **err);

/* Records that C's restart policy restarts it soon (State.Status
 * "restarting", RestartCount RESTARTS). */
int daemon_container_set_restarting(struct daemon *d, struct daemon_container *c, int restarts,
				    struct berr **err);

/* `docker pause` (PAUSE) and `docker unpause` of C, with Docker's
 * conflicts: not running, already paused, not paused. */
int daemon_container_pause(struct daemon *d, struct daemon_container *c, bool pause,
			   struct berr **err);

/* Sends SIGNAL to the process of the running container C.  MANUAL (a
 * user's kill or stop, not the daemon's own at its shutdown) marks it
 * manually stopped first: once signalled, a container removed at its end
 * may be gone before a later write.  Sets BERR_CONFLICT ("Container X is
 * not running"), BERR_NOT_FOUND. */
int daemon_container_kill(struct daemon *d, struct daemon_container *c, int signal, bool manual,
			  struct berr **err);

/* `docker exec`: writes the OCI process of exec EXEC_ID into C's
 * directory, built from C's own process and Docker's exec CONFIG (Cmd,
 * Env, WorkingDir, User resolved in C's files, Tty, Privileged); *path
 * (new) names the file.  Sets BERR_INVALID (no such user), BERR_INTERNAL. */
int daemon_exec_prepare(struct daemon *d, const struct daemon_container *c, const char *exec_id,
			const json_t *config, char **path, struct berr **err);
/* Runs the process in PROCESS_FILE in the running container C under a
 * shim that is the caller's child (*shim; it exits with the process's
 * exit code) with O's clients attached; *pid gets the process's pid.
 * Sets BERR_CONFLICT when C is not running, and the shim's errors. */
int daemon_exec_start(struct daemon *d, const struct daemon_container *c, const char *process_file,
		      const struct daemon_start_opts *o, bool tty, bool in, pid_t *pid, pid_t *shim,
		      struct berr **err);

/* `docker rename` of C to NAME (with or without "/"); C's Name follows.
 * Sets BERR_INVALID (Docker's name rule), BERR_CONFLICT (the name is
 * taken), BERR_NOT_FOUND. */
int daemon_container_rename(struct daemon *d, struct daemon_container *c, const char *name,
			    struct berr **err);

/* Records the result of a health probe of container ID: PROBE is a Log
 * entry ({Start, End, ExitCode, Output}); State.Health's Status and
 * FailingStreak follow Docker's rules (RETRIES failures in a row make it
 * unhealthy; failures IN_START_PERIOD do not count); the last five probes
 * are kept.  *status gets the new Status (a constant string), *changed
 * whether it differs from the one before. */
int daemon_container_record_probe(struct daemon *d, const char *id, const json_t *probe,
				  int retries, bool in_start_period, const char **status,
				  bool *changed, struct berr **err);
/* Sets State.Health of C to "starting", as a start does for a container
 * with a health check. */
int daemon_container_reset_health(struct daemon *d, struct daemon_container *c, struct berr **err);

/* `docker update` of C with BODY's resources (Memory, MemorySwap,
 * MemoryReservation, CpuShares, CpuQuota, CpuPeriod, NanoCpus,
 * CpusetCpus, CpusetMems, PidsLimit, BlkioWeight) and RestartPolicy,
 * checked as a create checks them, applied to its cgroup when it runs and
 * kept in its HostConfig.  *warnings gets Docker's Warnings.  Sets
 * BERR_INVALID with Docker's messages, BERR_INTERNAL. */
int daemon_container_update(struct daemon *d, struct daemon_container *c, const json_t *body,
			    json_t **warnings, struct berr **err);

/* Resizes the terminal of the running exec EXEC_ID of container
 * CONTAINER_ID.  Sets BERR_CONFLICT when its shim does not answer. */
int daemon_exec_resize(struct daemon *d, const char *container_id, const char *exec_id,
		       unsigned height, unsigned width, struct berr **err);

/* `docker rm`: removes the container REF names, its runtime state, its
 * directories and its record.  A running container is refused unless FORCE,
 * which kills it.  With VOLUMES (`rm -v`), the volumes berth named for it
 * go too, unless another container uses them; *removed (when REMOVED is not
 * NULL) receives their names.  Sets BERR_NOT_FOUND, BERR_CONFLICT ("You
 * cannot remove a running container <id>. Stop the container before
 * attempting removal or force remove"), BERR_INTERNAL. */
int daemon_container_remove(struct daemon *d, const char *ref, bool force, bool volumes,
			    char ***removed, struct berr **err);

/* `docker diff`: what C changed over its image, sorted by path, in a new
 * array *out of *n (image_changes_free()).  Sets BERR_NOT_FOUND,
 * BERR_INTERNAL. */
int daemon_container_changes(struct daemon *d, const struct daemon_container *c,
			     struct image_change **out, size_t *n, struct berr **err);

/* What `docker commit` takes beside the container; borrowed, may be
 * NULL. */
struct daemon_commit_opts {
	const char *reference; /* "repo[:tag]" */
	const char *comment;   /* --message */
	const char *author;    /* --author */
	const char *const *changes;
	size_t n_changes;
};

/* `docker commit`: C's changes as a new layer on its image, with C's Config
 * as the new image's run config (then OPTS's changes), C's id as
 * "container" and its command as the history line.  The new id goes to
 * OUT.  Sets BERR_NOT_FOUND, BERR_INVALID (a bad change or reference),
 * BERR_INTERNAL. */
int daemon_container_commit(struct daemon *d, const struct daemon_container *c,
			    const struct daemon_commit_opts *opts, char out[DIGEST_STRING_SIZE],
			    struct berr **err);

/* Docker's HasBeenManuallyStopped, kept in C's record (not shown by
 * inspect): a user stopped or killed it, so "unless-stopped" does not
 * bring it back when the daemon starts; its next start clears it.  Set
 * reloads C under its lock.  Sets BERR_NOT_FOUND, BERR_INTERNAL. */
int daemon_container_set_manually_stopped(struct daemon *d, struct daemon_container *c,
					  struct berr **err);
bool daemon_container_manually_stopped(const struct daemon_container *c);

/* `docker export`: C's whole file system as one tar to FD (borrowed).
 * Sets BERR_NOT_FOUND, BERR_INTERNAL. */
int daemon_container_export(struct daemon *d, const struct daemon_container *c, int fd,
			    struct berr **err);

/* How daemon_container_archive_put() extracts. */
enum daemon_archive_flags {
	/* Refuse to replace a directory by a non-directory and the other
	 * way round (noOverwriteDirNonDir). */
	DAEMON_ARCHIVE_NO_OVERWRITE_DIR_NON_DIR = 1 << 0,
	/* Every entry owned by the container's user (Config.User resolved
	 * in its own /etc/passwd and /etc/group), as `docker cp -a` asks
	 * (copyUIDGID); without a user the archive's owners stay, as in
	 * Docker. */
	DAEMON_ARCHIVE_COPY_UIDGID = 1 << 1,
};

/* What `docker cp` asks of C (archive.c); C's state is reread.  PATH is
 * a path in the container, resolved there as the container would, its
 * volumes included.
 *
 * Stat: Docker's container path stat ({"name", "size", "mode" as Go's
 * os.FileMode, "mtime", "linkTarget"}) of PATH, a symlink at its end not
 * followed, as a new object that *out owns.  Archive get: a tar of PATH to
 * FD (borrowed), its entries named after PATH's last element ("etc/...";
 * "./..." for "/etc/.").  Archive put: the tar read from FD (borrowed)
 * extracted into the directory PATH with FLAGS (enum
 * daemon_archive_flags).  A stopped container gets its volumes mounted for
 * the time of the call, in a mount namespace that ends with it.  Set
 * BERR_NOT_FOUND ("Could not find the file PATH in container NAME"),
 * BERR_INVALID (not a directory to extract into, a broken tar),
 * BERR_FORBIDDEN (a read-only root file system or volume), BERR_INTERNAL;
 * an unknown Config.User for DAEMON_ARCHIVE_COPY_UIDGID is BERR_INVALID. */
int daemon_container_path_stat(struct daemon *d, struct daemon_container *c, const char *path,
			       json_t **out, struct berr **err);
int daemon_container_archive_get(struct daemon *d, struct daemon_container *c, const char *path,
				 int fd, struct berr **err);
int daemon_container_archive_put(struct daemon *d, struct daemon_container *c, const char *path,
				 int fd, unsigned flags, struct berr **err);

/* `docker container inspect` of C as a new JSON object that *out owns:
 * the document with the paths of the container's files
 * (ResolvConfPath, HostnamePath, HostsPath) and its GraphDriver (overlay2
 * with LowerDir, UpperDir, MergedDir and WorkDir).  Sets BERR_INTERNAL. */
int daemon_container_inspect(struct daemon *d, const struct daemon_container *c, json_t **out,
			     struct berr **err);

#endif
