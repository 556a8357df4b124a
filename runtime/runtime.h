/* Containers from OCI bundles: the operations of the OCI runtime (create,
 * start, state, kill, delete, exec, pause, resume, list, ps), callable
 * in-process by the daemon and behind runc's command line by berth-runc.
 * A container's state lives in a directory under the state root
 * (<root>/<id>), its processes in its namespaces and cgroup; nothing of it
 * stays in the calling process, so the caller may exit after create. */
#ifndef BERTH_RUNTIME_RUNTIME_H
#define BERTH_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "lib/berr.h"
#include "runtime/spec.h"

#define RUNTIME_DEFAULT_ROOT	    "/run/berth-runc"
#define RUNTIME_DEFAULT_CGROUP_ROOT "/sys/fs/cgroup"
#define RUNTIME_ID_MAX		    1024

/* Global options; NULL members take the defaults above. */
struct runtime_config {
	const char *state_root;
	const char *cgroup_root;
};

/* The state root and cgroup root CFG names, or the defaults. */
const char *runtime_config_root(const struct runtime_config *cfg);
const char *runtime_config_cgroup_root(const struct runtime_config *cfg);

struct runtime_create_opts {
	const char *id;
	const char *bundle;	    /* directory holding config.json */
	const char *pid_file;	    /* NULL: none */
	const char *console_socket; /* required when process.terminal */
	bool no_pivot;
	int preserve_fds; /* fds 3 .. 3+N-1 pass into the container */
	/* A cgroup made ahead (runtime_spare_cgroup_make()) that becomes the
	 * container's by a rename where it can; NULL: none. */
	const char *spare_cgroup;
	/* Set when the create took SPARE_CGROUP (may be NULL): the caller
	 * has no spare left to drop. */
	bool *spare_cgroup_taken;
	/* A network namespace made ahead (runtime_spare_netns_make()), the
	 * container's when its config asks for a new one (and no user
	 * namespace); NULL: none.  Still the caller's to close. */
	const int *spare_netns;
	/* A container process made ahead (runtime_seed_make()), taken when
	 * the config fits it, killed otherwise; NULL: none.  Either way the
	 * create leaves it empty (pid 0, sync_fd -1). */
	struct runtime_seed *seed;
	/* The caller keeps the cgroup-move lock out of its slow mode
	 * (runtime_cgroup_keeper_new()): the create needs no keeper of its
	 * own, whose thread would cost more than it saves. */
	bool cgroups_kept_warm;
};

/* A container's process made ahead of its container by a runtime that
 * waits for its order (a standby shim): pid 1 of new UTS, IPC and PID
 * namespaces, in the network namespace NETNS_FD and in the cgroup
 * SPARE_CGROUP (runtime_spare_cgroup_make(); NULL: the caller's), a child
 * of the caller.  A create whose config asks for no other
 * namespaces than those and a mount (and a cgroup) one, with no terminal
 * and no fds to pass on, makes it its container's process instead of
 * forking one; the seed reads the config itself meanwhile.  It dies with
 * the caller. */
struct runtime_seed {
	pid_t pid;   /* 0: none */
	int sync_fd; /* the runtime's end of the seed's socket */
};
int runtime_seed_make(const struct runtime_config *cfg, int netns_fd, const char *spare_cgroup,
		      struct runtime_seed *out, struct berr **err);
/* Kills and reaps the seed, if any, and closes its socket. */
void runtime_seed_discard(struct runtime_seed *seed);

enum runtime_status {
	RUNTIME_STATUS_CREATING,
	RUNTIME_STATUS_CREATED,
	RUNTIME_STATUS_RUNNING,
	RUNTIME_STATUS_PAUSED,
	RUNTIME_STATUS_STOPPED,
};

/* What `state` reports. */
struct runtime_state {
	char *id;
	char *oci_version;
	enum runtime_status status;
	pid_t pid; /* 0 when stopped */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 with nanoseconds */
	char *owner;
	json_t *annotations; /* object, owned */
	bool oom_killed;
};

/* Validates ID as runc does: letters, digits, "_", "+", "-", "."; not "."
 * or ".."; at most RUNTIME_ID_MAX bytes.  Sets BERR_INVALID. */
int runtime_id_validate(const char *id, struct berr **err);

/* Creates the container: namespaces, cgroup, root file system, and an init
 * that waits for start.  *pid_out (may be NULL) gets the init's host pid.
 * On failure nothing is left: no state directory, cgroup, mount or process.
 * BERR_INVALID: bad id or config; BERR_NOT_FOUND: missing bundle, config or
 * rootfs; BERR_CONFLICT: the id is in use. */
int runtime_container_create(const struct runtime_config *cfg,
			     const struct runtime_create_opts *opts, pid_t *pid_out,
			     struct berr **err);

/* Lets a created container run its process; runs the poststart hooks.
 * BERR_NOT_FOUND: no such container; BERR_CONFLICT: not in created state. */
int runtime_container_start(const struct runtime_config *cfg, const char *id, struct berr **err);

/* Loads the state; *out is owned by the caller.  BERR_NOT_FOUND. */
int runtime_container_state(const struct runtime_config *cfg, const char *id,
			    struct runtime_state **out, struct berr **err);

/* Sends SIG to the init, or with ALL to every process of the container.
 * BERR_CONFLICT when the container is stopped. */
int runtime_container_kill(const struct runtime_config *cfg, const char *id, int sig, bool all,
			   struct berr **err);

/* Removes a stopped (or created) container; FORCE kills a running one
 * first.  Runs the poststop hooks, removes the cgroup and the state. */
int runtime_container_delete(const struct runtime_config *cfg, const char *id, bool force,
			     struct berr **err);
/* Does ahead, in the calling process, what a create does first: looks up
 * the host's cgroup layout, which the process keeps for its creates.  For
 * a process made before its container is known.  Never fails. */
void runtime_warm_up(const struct runtime_config *cfg);

/* Makes a cgroup ahead for a container not known yet, beside where
 * containers get theirs by default ("berth/.spare-PID"), on a host where a
 * cgroup can be renamed (v1): a create given it skips making its own.
 * Spares whose process is gone are removed first.  Returns the spare's
 * relative path (owned), NULL when none was made. */
char *runtime_spare_cgroup_make(const struct runtime_config *cfg);
/* Removes SPARE unless a create took it.  NULL is fine. */
void runtime_spare_cgroup_drop(const struct runtime_config *cfg, const char *spare);
/* Makes a new network namespace ahead, its loopback up, for a container not
 * known yet: an fd of it (the caller's), or -1.  The calling thread stays in
 * its own namespace. */
int runtime_spare_netns_make(void);

/* A delete put off: the state of ID moves aside in one rename (*MOVED
 * tells; a missing state is nothing to do) for runtime_trash_empty() to
 * delete, with force, later.  For a container whose process has ended and
 * that nobody will start again. */
int runtime_container_discard(const struct runtime_config *cfg, const char *id, bool *moved,
			      struct berr **err);
/* Deletes every container runtime_container_discard() moved aside. */
int runtime_trash_empty(const struct runtime_config *cfg, struct berr **err);

int runtime_container_pause(const struct runtime_config *cfg, const char *id, struct berr **err);
int runtime_container_resume(const struct runtime_config *cfg, const char *id, struct berr **err);

/* The host pids of every process of the container (from its cgroup). */
int runtime_container_pids(const struct runtime_config *cfg, const char *id, pid_t **pids,
			   size_t *n, struct berr **err);

/* Every container under the state root, sorted by id.  *out owns an array
 * of N states. */
int runtime_container_list(const struct runtime_config *cfg, struct runtime_state ***out, size_t *n,
			   struct berr **err);

/* Applies new resources to a running container's cgroup. */
int runtime_container_update(const struct runtime_config *cfg, const char *id,
			     const struct runtime_resources *res, struct berr **err);

struct runtime_exec_opts {
	const struct runtime_process *process; /* full process; see runtime_exec_process_from */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
};

/* Starts PROCESS inside the running (or created) container ID, in all its
 * namespaces and its cgroup, with its seccomp filter and the process's own
 * identity and capabilities.  *pid_out gets the host pid; the process is a
 * child of the caller, which reaps it.  BERR_CONFLICT when the container is
 * stopped or paused. */
int runtime_container_exec(const struct runtime_config *cfg, const char *id,
			   const struct runtime_exec_opts *opts, pid_t *pid_out, struct berr **err);

/* A process for exec built from the container's own process (env, cwd,
 * user, capabilities, rlimits, noNewPrivileges) with ARGS instead of its
 * args.  *out is owned by the caller. */
int runtime_exec_process_from(const struct runtime_config *cfg, const char *id, char *const *args,
			      struct runtime_process **out, struct berr **err);

const char *runtime_status_name(enum runtime_status status);

/* The OCI state object (for hooks and `state`); new reference. */
json_t *runtime_state_to_json(const struct runtime_state *st);

void runtime_state_free(struct runtime_state *st);

/* The features document of the runtime spec; new reference. */
json_t *runtime_features(void);

/* Re-executes the running program from a sealed in-memory copy of itself
 * unless it already runs from one, so that a process in a container can
 * never write to the binary on the host through /proc/<pid>/exe (the
 * CVE-2019-5736 class).  Returns only on failure, or 0 when already
 * sealed. */
int runtime_reexec_sealed(char **argv, struct berr **err);

/* Whether a container made from BUNDLE needs the runtime to run from the
 * sealed copy.  The runtime's processes that a container can see are not
 * dumpable, so /proc/<pid>/exe of them opens only with CAP_SYS_PTRACE in
 * the host's user namespace: a container without its own user namespace
 * whose bounding set holds CAP_SYS_PTRACE.  Any doubt (a config that
 * does not load) answers true. */
bool runtime_bundle_needs_sealed_binary(const char *bundle);

#endif
