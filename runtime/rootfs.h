/* The container's file system view, built by its init process inside its
 * new mount namespace: the rootfs bind, the mounts of config.json, the
 * devices and /dev symlinks, then pivot_root (or a move and chroot where
 * the root cannot be pivoted), masked and read-only paths, a read-only root
 * and sysctls.  Every destination is resolved inside the rootfs, so a
 * symlink in an image cannot send a mount to the host. */
#ifndef BERTH_RUNTIME_ROOTFS_H
#define BERTH_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "lib/berr.h"
#include "runtime/spec.h"

struct runtime_rootfs_opts {
	const char *rootfs; /* absolute host path of the root file system */
	const char *bundle; /* absolute path of the bundle; relative mount sources are in it */
	bool in_user_ns;    /* a new user namespace: devices are bind mounted, not made */
	bool new_cgroup_ns; /* cgroup mounts show the namespace root */
	bool no_pivot;	    /* `--no-pivot`: move the root and chroot instead */
};

/* Before pivot: propagation of "/", the rootfs bind mount, every mount of
 * the spec, /dev (devices, symlinks, /dev/pts/ptmx, /dev/console target).
 * Runs in the container's init, in its mount namespace, before the
 * createContainer hooks. */
int runtime_rootfs_prepare(const struct runtime_spec *spec, const struct runtime_rootfs_opts *opts,
			   struct berr **err);

/* pivot_root into opts->rootfs and detach the old root; falls back to
 * MS_MOVE + chroot when pivot_root fails with EINVAL (a ramfs root) or when
 * opts->no_pivot.  Leaves the cwd at "/". */
int runtime_rootfs_pivot(const struct runtime_spec *spec, const struct runtime_rootfs_opts *opts,
			 struct berr **err);

/* Keeps the cgroup v1 mounts of /proc/self/mountinfo, for the cgroup mounts
 * of a later runtime_rootfs_prepare() in this process: a process made ahead
 * of its container reads the table (long on a host with many containers)
 * while nothing waits.  A hierarchy missing from what was kept sends that
 * prepare to the whole table again. */
void runtime_rootfs_keep_cgroup_mounts(void);
/* Whether this process is still in the cgroup it was in when it kept the
 * cgroup mounts (SAME_CGROUP: its container's, renamed from the spare):
 * then its container's cgroup mount binds clones of the hierarchies made
 * then; otherwise they are let go. */
void runtime_rootfs_use_kept_cgroups(bool same_cgroup);

/* Makes Docker's /dev (a tmpfs "nosuid,strictatime,mode=755,size=65536k")
 * ahead, for a later runtime_rootfs_prepare() in this process whose spec
 * mounts that very /dev: a tmpfs attached nowhere, with the default
 * devices, the /dev symlinks, /dev/ptmx and /dev/console made as in a fresh
 * /dev.  The prepare moves it in instead of mounting and filling one.  A
 * process made ahead of its container makes it while nothing waits; when
 * it cannot, nothing is kept and the prepare does it all. */
void runtime_rootfs_keep_dev(void);

/* After pivot: sysctls, masked paths, read-only paths, the read-only root,
 * and the rootfsPropagation of the spec. */
int runtime_rootfs_finalize(const struct runtime_spec *spec, const struct runtime_rootfs_opts *opts,
			    struct berr **err);

#endif
