/* cgroups for one container, on v1 (one hierarchy per controller, as on a
 * hybrid host) and on v2 (the unified tree).  The manager detects the layout
 * once; a container's cgroup is created with its resources applied, joined
 * by the container's processes, frozen for pause, read for pids and OOM
 * kills, and removed on delete. */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/berr.h"
#include "lib/cleanup.h"
#include "runtime/spec.h"

enum runtime_cgroup_mode {
	RUNTIME_CGROUP_V1, /* legacy or hybrid: controllers in v1 hierarchies */
	RUNTIME_CGROUP_V2, /* unified: controllers in the cgroup2 tree */
};

struct runtime_cgroup;

/* Detects the layout under ROOT (normally "/sys/fs/cgroup") from the
 * mounts, once per process and root; on a hybrid host the v1 controllers
 * win.  Sets BERR_UNAVAILABLE when no cgroup file system is mounted
 * there. */
int runtime_cgroup_detect(const char *root, enum runtime_cgroup_mode *mode, struct berr **err);

/* Where a container's cgroup goes when its config names none:
 * <parent>/<id>. */
#define RUNTIME_CGROUP_PARENT "berth"

/* The relative cgroup path a container uses: CGROUPS_PATH as given in
 * config.json (absolute paths are taken from the hierarchy root, relative
 * ones below it, "slice:prefix:name" as systemd's "slice/prefix-name.scope"),
 * or "berth/<id>" when CGROUPS_PATH is NULL or empty.  The result is owned
 * by the caller.  Sets BERR_INVALID for a path with ".." components. */
char *runtime_cgroup_resolve_path(const char *cgroups_path, const char *id, struct berr **err);

/* Creates the container's cgroup REL_PATH (from runtime_cgroup_resolve_path)
 * under ROOT in MODE, with RES applied (RES may be NULL).  In v1 every
 * mounted controller gets a directory (cpuset ones are first filled from
 * the parent).  On failure nothing it created is left. *out owns the
 * handle.  Sets BERR_INVALID when a resource value is refused by the
 * kernel, naming the file and value. */
int runtime_cgroup_create(const char *root, enum runtime_cgroup_mode mode, const char *rel_path,
			  const struct runtime_resources *res, struct runtime_cgroup **out,
			  struct berr **err);

/* Opens an existing container cgroup (for state, kill, pause, delete).
 * A cgroup that is already gone is not an error: the handle works and
 * reports no pids. */
int runtime_cgroup_open(const char *root, enum runtime_cgroup_mode mode, const char *rel_path,
			struct runtime_cgroup **out, struct berr **err);

/* Moves PID into the cgroup (every v1 hierarchy, or the v2 directory). */
int runtime_cgroup_add_pid(struct runtime_cgroup *cg, pid_t pid, struct berr **err);

/* Applies RES to an existing cgroup (`update`). */
int runtime_cgroup_update(struct runtime_cgroup *cg, const struct runtime_resources *res,
			  struct berr **err);

/* Freezes (pause) or thaws (resume) every process; returns when the kernel
 * reports the new state.  Sets BERR_UNAVAILABLE when there is no freezer. */
int runtime_cgroup_freeze(struct runtime_cgroup *cg, bool frozen, struct berr **err);
bool runtime_cgroup_is_frozen(struct runtime_cgroup *cg);

/* The pids in the cgroup; *pids is owned by the caller (NULL when none). */
int runtime_cgroup_get_pids(struct runtime_cgroup *cg, pid_t **pids, size_t *n, struct berr **err);

/* Number of OOM kills the memory controller has counted, 0 when unknown. */
unsigned long runtime_cgroup_oom_kills(struct runtime_cgroup *cg);

/* Renames the cgroup FROM to TO (both relative, under one parent) in every
 * hierarchy, all or none.  v1 only: BERR_UNAVAILABLE on v2, which cannot;
 * BERR_CONFLICT when TO exists. */
int runtime_cgroup_rename(const char *root, enum runtime_cgroup_mode mode, const char *from,
			  const char *to, struct berr **err);

/* Removes the cgroup directories, retrying while the last processes are
 * still leaving.  Missing directories are fine. */
int runtime_cgroup_destroy(struct runtime_cgroup *cg, struct berr **err);

/* The path of the container's cgroup in the hierarchy of CONTROLLER (v1:
 * "memory", "pids"...; v2: ignored), NULL when not mounted.  Borrowed. */
const char *runtime_cgroup_dir(struct runtime_cgroup *cg, const char *controller);

void runtime_cgroup_free(struct runtime_cgroup *cg);
DEFINE_CLEANUP(struct runtime_cgroup *, runtime_cgroup_free)

struct runtime_cgroup_keeper;

/* The first move of a process between cgroups waits for an RCU grace
 * period in the kernel (the lock every move takes leaves its fast mode
 * only through one: about 10 ms on a v1 host), moves soon after another
 * do not.  A keeper is a thread that makes no-op moves of the calling
 * process into the cgroup it is already in, so that the wait overlaps
 * with the caller's work, or, while moves keep coming, never happens.
 * Returns NULL when it cannot help; never fails. */
struct runtime_cgroup_keeper *runtime_cgroup_keeper_new(const char *root,
							enum runtime_cgroup_mode mode);
/* Makes K move at once (when it is idle) and then every few milliseconds
 * for HOLD_MS more (0: the one move).  NULL is fine. */
void runtime_cgroup_keeper_touch(struct runtime_cgroup_keeper *k, unsigned int hold_ms);
/* Lets a move asked for finish, stops the thread and frees K (NULL is
 * fine). */
void runtime_cgroup_keeper_free(struct runtime_cgroup_keeper *k);
DEFINE_CLEANUP(struct runtime_cgroup_keeper *, runtime_cgroup_keeper_free)

#endif
