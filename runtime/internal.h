/* Pieces shared by the runtime's operations (container.c, init.c, exec.c,
 * state.c): the container record kept in the state directory, and the
 * messages the runtime's processes exchange while a container is made. */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/berr.h"
#include "lib/cleanup.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

#define RUNTIME_STATE_FILE  "state.json"
#define RUNTIME_CONFIG_FILE "config.json"
#define RUNTIME_EXEC_FIFO   "exec.fifo"
/* Under the root, beside the containers' directories; `list` passes over
 * names that start with a dot. */
#define RUNTIME_SECCOMP_CACHE_DIR ".seccomp-programs"
/* Under the state root: containers whose delete was put off. */
#define RUNTIME_TRASH_DIR ".trash"

/* Parses the config.json TEXT (LEN bytes) into *spec and its seccomp
 * profile's program into *seccomp (NULL without one), through the program
 * cache in CACHE: a profile whose very text was made into a program before
 * (Docker's default, for one) is not parsed at all (*spec then has no
 * seccomp), the rest of the config is; a profile seen for the first time
 * keeps its program under its text.  Both results are the caller's. */
int runtime_config_parse_cached(const char *text, size_t len, const char *cache,
				struct runtime_spec **spec, struct runtime_seccomp_filter **seccomp,
				struct berr **err);

/* Reads the config at CONFIG_PATH as create does: its text (*text, *len),
 * parsed through the program cache under the state ROOT (see
 * runtime_config_parse_cached()); a parse error names CONFIG_PATH.  The
 * results are the caller's, *text even on failure. */
int runtime_config_load(const char *config_path, const char *root, char **text, size_t *len,
			struct runtime_spec **spec, struct runtime_seccomp_filter **seccomp,
			struct berr **err);
/* The real path of SPEC's root directory (relative to BUNDLE when it is
 * relative), the caller's; NULL with BERR_NOT_FOUND, or BERR_INVALID when
 * it is not a directory. */
char *runtime_rootfs_real_path(const struct runtime_spec *spec, const char *bundle,
			       struct berr **err);

/* What the state directory <root>/<id> records of a container. */
struct runtime_record {
	char *id;
	char *dir; /* <root>/<id> */
	pid_t pid;
	unsigned long long pid_start; /* start time of pid, against pid reuse */
	char *bundle;
	char *rootfs;
	char *created;
	char *owner;
	char *cgroup_root;
	enum runtime_cgroup_mode cgroup_mode;
	char *cgroup_path;
	/* What state and hooks need of the config, kept in state.json so
	 * that a load need not parse the whole config (a seccomp profile
	 * makes it large). */
	char *oci_version;
	json_t *annotations; /* object, owned */
	unsigned hook_kinds; /* bit (1 << RUNTIME_HOOK_x) per non-empty kind */
	/* The config as it was at create: set by create, and after a load
	 * by runtime_record_load_spec(). */
	struct runtime_spec *spec;
};

/* Loads <root>/<id> without its config.  BERR_INVALID for a bad id,
 * BERR_NOT_FOUND when there is no such container. */
int runtime_record_load(const struct runtime_config *cfg, const char *id,
			struct runtime_record **out, struct berr **err);
/* Gives SPEC to REC and takes its state and hook fields; -1 when out of
 * memory. */
int runtime_record_set_spec(struct runtime_record *rec, struct runtime_spec *spec);
/* Parses the record's copy of the config into rec->spec, once. */
int runtime_record_load_spec(struct runtime_record *rec, struct berr **err);
/* Whether the container has hooks of KIND. */
bool runtime_record_has_hooks(const struct runtime_record *rec, enum runtime_hook_kind kind);
/* Writes state.json atomically. */
int runtime_record_save(const struct runtime_record *rec, struct berr **err);
void runtime_record_free(struct runtime_record *rec);
DEFINE_CLEANUP(struct runtime_record *, runtime_record_free)

/* The status now: stopped when the init is gone (or a zombie), created
 * while the exec fifo exists, paused when the cgroup is frozen. */
enum runtime_status runtime_record_status(const struct runtime_record *rec,
					  struct runtime_cgroup *cg);
/* Opens the record's cgroup. */
int runtime_record_cgroup(const struct runtime_record *rec, struct runtime_cgroup **out,
			  struct berr **err);
/* Builds the state the record describes, for `state` and for hooks. */
int runtime_record_state(const struct runtime_record *rec, enum runtime_status status,
			 struct runtime_state **out, struct berr **err);
/* The state JSON given to hooks, as a string the caller frees (NULL when
 * out of memory). */
char *runtime_record_hook_state(const struct runtime_record *rec, enum runtime_status status);
char *runtime_hook_state_json(const struct runtime_spec *spec, const char *id,
			      enum runtime_status status, pid_t pid, const char *bundle);
/* The container process state sent with a seccomp notification fd to
 * linux.seccomp.listenerPath; the caller frees it. */
char *runtime_listener_state_json(const struct runtime_spec *spec, const char *id,
				  enum runtime_status status, pid_t pid, const char *bundle);

/* Start time of PID (field 22 of /proc/PID/stat), 0 when gone. */
unsigned long long runtime_pid_start_time(pid_t pid);
/* Whether PID is still the process started at START and not a zombie. */
bool runtime_pid_alive(pid_t pid, unsigned long long start);

/* Messages on the socketpair between the runtime and the container's
 * processes while a container or an exec is made. */
enum runtime_sync_type {
	RUNTIME_SYNC_GO = 1,  /* parent -> child: carry on */
	RUNTIME_SYNC_USERMAP, /* child -> parent: write my uid/gid maps */
	RUNTIME_SYNC_PID,     /* stage -> parent: value is the init's pid */
	RUNTIME_SYNC_HOOKS,   /* init -> parent: run prestart/createRuntime */
	RUNTIME_SYNC_CREATED, /* init -> parent: ready, waiting for start (and, after the
				 parent's GO, no longer dying with the parent) */
	RUNTIME_SYNC_ERROR,   /* child -> parent: value is the kind, text the message */
};

int runtime_sync_send(int fd, enum runtime_sync_type type, int32_t value, const char *text);
/* Sends ERR as a RUNTIME_SYNC_ERROR message. */
void runtime_sync_send_error(int fd, const struct berr *err);
/* Receives the next message; it must be of TYPE.  An error message turns
 * into *err with its kind and text; end of stream is BERR_INTERNAL naming
 * WHAT the parent was waiting for. */
int runtime_sync_expect(int fd, enum runtime_sync_type type, int32_t *value, const char *what,
			struct berr **err);

/* Waits for the other side to close the socket (its execve succeeded, as
 * the socket is close-on-exec); an error message it sent instead becomes
 * *err. */
int runtime_sync_expect_eof(int fd, const char *what, struct berr **err);

/* Namespaces (namespaces.c). */

/* Opens every namespace path of SPEC (O_CLOEXEC) into fds[type], -1 for
 * the others, so a bad path fails before anything exists. */
int runtime_ns_open_paths(const struct runtime_spec *spec, int fds[RUNTIME_NS_COUNT],
			  struct berr **err);
void runtime_ns_close_all(int fds[RUNTIME_NS_COUNT]);
/* Opens the /proc/PID/ns files of every namespace type that PID does not share
 * with the calling process. */
int runtime_ns_open_of_pid(pid_t pid, int fds[RUNTIME_NS_COUNT], struct berr **err);
/* setns into FD of TYPE. */
int runtime_ns_join(int fd, enum runtime_ns_type type, struct berr **err);
/* Writes the uid and gid maps of SPEC for PID (which unshared its user
 * namespace). */
int runtime_ns_write_id_maps(pid_t pid, const struct runtime_spec *spec, struct berr **err);
/* CLONE_NEW* flags of the namespaces SPEC creates (enabled, no path). */
int runtime_ns_new_flags(const struct runtime_spec *spec);

/* The stage process: joins and unshares namespaces in order, then waits
 * for the caller's GO (sent once the stage is in the container's cgroup;
 * before it, a USERMAP request when it makes a user namespace), makes the
 * cgroup namespace, and forks the final process as a sibling (a child of
 * the caller).  Used by create and exec.  Called in a forked single-threaded child; never returns
 * in the stage; returns 0 in the final process, which continues the caller's code. */
struct runtime_stage {
	int sync_fd;
	int ns_fds[RUNTIME_NS_COUNT]; /* namespaces to join, -1 for none */
	int new_flags;		      /* CLONE_NEW* to create */
};
int runtime_stage_run(const struct runtime_stage *stage, struct berr **err);

/* The container's init (init.c): everything from the new namespaces to the
 * execve of the user process.  Runs in the init; never returns. */
struct runtime_init_args {
	const struct runtime_spec *spec;
	const struct runtime_create_opts *opts;
	struct runtime_seccomp_filter *seccomp;
	const char *rootfs;
	const char *bundle;
	const char *id;
	int sync_fd;
	int fifo_fd;	/* exec fifo, opened O_RDWR before pivot */
	int console_fd; /* connected console socket, or -1 */
	bool new_user_ns;
	/* A seed (seed.c): its host pid known, its mount namespace made,
	 * a GO to wait for that tells its cgroup is the container's, and
	 * its exec fifo opened at FIFO_PATH once the runtime made it
	 * (fifo_fd is -1). */
	bool seeded;
	pid_t host_pid;
	char *fifo_path;
};
__attribute__((noreturn)) void runtime_init_main(const struct runtime_init_args *args);

/* Seeds (seed.c). */

/* Whether a seed can be the process of a container of SPEC: new mount, UTS,
 * IPC, PID and network namespaces (a cgroup one or not), nothing joined,
 * no terminal, no CONSOLE socket. */
bool runtime_seed_fits(const struct runtime_spec *spec, bool console);
/* Tells SEED its container (OPTS' id, CFG's state root, the real path of
 * the BUNDLE), so that it reads the config while the runtime does. */
int runtime_seed_order(struct runtime_seed *seed, const struct runtime_config *cfg,
		       const struct runtime_create_opts *opts, const char *bundle);

/* Where the notification fd of a seccomp filter goes once it is loaded:
 * a socket connected to linux.seccomp.listenerPath (while the host's paths
 * were still reachable) and the state to send with it. */
struct runtime_seccomp_handoff {
	int sock;
	char *state;
};

/* Connects HANDOFF to the listener of SPEC's seccomp profile, if it has
 * one (sock stays -1 otherwise), with the state of process PID. */
int runtime_seccomp_handoff_prepare(struct runtime_seccomp_handoff *handoff,
				    const struct runtime_spec *spec, const char *id,
				    enum runtime_status status, pid_t pid, const char *bundle,
				    struct berr **err);
void runtime_seccomp_handoff_release(struct runtime_seccomp_handoff *handoff);

/* Applies everything of PROC after the namespaces (limits, terminal,
 * identity, seccomp, cwd, fds) and execs it; used by the init after start
 * and by exec.  HANDOFF may be NULL.  Returns only on failure. */
int runtime_process_finish(const struct runtime_process *proc,
			   struct runtime_seccomp_filter *seccomp,
			   const struct runtime_seccomp_handoff *handoff, int console_fd,
			   bool setgroups_allowed, int preserve_fds, struct berr **err);

/* Whether /proc/self/setgroups allows setgroups (not "deny"). */
bool runtime_setgroups_allowed(void);

#endif
