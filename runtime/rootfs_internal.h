/* What rootfs.c and devices.c share, and what their tests reach: the mount
 * helpers that work on objects resolved inside the rootfs, the setup of
 * /dev, and the reading of the cgroup v1 hierarchies a process is in.  Not
 * for other modules. */
#ifndef BERTH_RUNTIME_ROOTFS_INTERNAL_H
#define BERTH_RUNTIME_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>

#include "lib/berr.h"
#include "lib/safepath.h"
#include "runtime/rootfs.h"
#include "runtime/spec.h"

/* The per-mount flags that a bind remount sets or keeps. */
#define RUNTIME_ROOTFS_ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
#define RUNTIME_ROOTFS_LOCKABLE_FLAGS \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | RUNTIME_ROOTFS_ATIME_FLAGS)

/* The error kind for the errno of mount(2) and its kin. */
enum berr_kind runtime_rootfs_errno_kind(int e);

/* A bind mount: "bind"/"rbind" in the options or the type "bind". */
bool runtime_rootfs_mount_is_bind(const struct runtime_mount *m);

/* The MS_* flags of statvfs() f_flag that a bind remount can carry. */
unsigned long runtime_rootfs_vfs_flags(unsigned long f_flag);

/* Remounts the bind mount whose root TARGET names (a path, or the
 * /proc/self/fd name of an fd resolved to it) with the flags it has now,
 * plus SET, less CLEAR.  KEEP_LOCKED keeps read-only, nosuid, nodev, noexec
 * and the atime flags it has now whatever CLEAR says: a user namespace
 * cannot drop them (the kernel locks them) and would fail.  Errors read
 * "DESC: remount: ...". */
int runtime_rootfs_remount(const char *target, unsigned long set, unsigned long clear,
			   bool keep_locked, const char *desc, struct berr **err);

/* Bind mounts the host path SOURCE on the object FD refers to (no MS_REC).
 * Sets BERR_FORBIDDEN, BERR_NOT_FOUND or BERR_INTERNAL as "DESC: ...". */
int runtime_rootfs_bind_fd(const char *source, int fd, const char *desc, struct berr **err);

/* Makes the device nodes of the spec in the rootfs ROOTFD and, when the spec
 * mounts a fresh /dev (a tmpfs, not a bind), the default devices (null,
 * zero, full, random, urandom, tty), the /dev symlinks, /dev/ptmx ->
 * pts/ptmx and an empty /dev/console for the terminal.  PREMADE: that /dev
 * is the one runtime_rootfs_keep_dev() made, which has all that already:
 * only the spec's devices and /dev/core are made.  In a user namespace (or
 * where mknod is refused) the host's device is bind mounted on an empty
 * file.  The umask is 0 meanwhile and restored.  Sets BERR_INVALID for a
 * bad device, else the kinds of the failing call. */
int runtime_rootfs_setup_dev(int rootfd, const struct runtime_spec *spec,
			     const struct runtime_rootfs_opts *opts, bool premade,
			     struct berr **err);

/* The /dev mount that runtime_rootfs_keep_dev() makes ahead: Docker's
 * ("nosuid", "strictatime", "mode=755", "size=65536k"), as flags and data
 * of a parsed mount and as mount attributes. */
#define RUNTIME_PREMADE_DEV_FLAGS (MS_NOSUID | MS_STRICTATIME)
#define RUNTIME_PREMADE_DEV_DATA  "mode=755,size=65536k"
#define RUNTIME_PREMADE_DEV_ATTRS (MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME)

/* The /dev that runtime_rootfs_keep_dev() made, for a prepare of SPEC with
 * OPTS: an fd of the detached mount, which the caller owns; -1 when none
 * was made, in a user namespace (opts->in_user_ns), or when SPEC has more
 * than one /dev mount, or a device or another mount on one of its entries.
 * The kept /dev is let go either way: it serves one prepare at most. */
int runtime_rootfs_kept_dev_take(const struct runtime_spec *spec,
				 const struct runtime_rootfs_opts *opts);

/* One cgroup v1 hierarchy the process is in. */
struct runtime_cgroup_hier {
	char *controllers; /* as in /proc/self/cgroup: "cpu,cpuacct", "name=systemd" */
	char *dir;	   /* its directory name: the host's mount point's base name */
	char *host_path;   /* the process's cgroup there on the host; NULL when the
			    * hierarchy is not mounted where it can be reached */
};

/* Lists the v1 hierarchies of SELF_CGROUP (the text of /proc/self/cgroup)
 * and finds each one's mount in MOUNTINFO (the text of
 * /proc/self/mountinfo).  The v2 line ("0::/...") is left out.  On success
 * *out (owned, free with runtime_cgroup_hier_free) has *n entries.  Sets
 * BERR_INVALID for a malformed line. */
int runtime_cgroup_hier_list(const char *self_cgroup, const char *mountinfo,
			     struct runtime_cgroup_hier **out, size_t *n, struct berr **err);
void runtime_cgroup_hier_free(struct runtime_cgroup_hier *h, size_t n);

/* Mounts the N hierarchies H in the directory DEST of the rootfs ROOTFD
 * (the cgroup tmpfs): with opts->new_cgroup_ns a fresh cgroup mount of
 * each, else a bind of its host_path (one without is left an empty
 * directory), with FLAGS (ro, nosuid...); then symlinks for co-mounted
 * controllers (cpu -> cpu,cpuacct).  Errors name the mount. */
int runtime_rootfs_cgroup_v1_mount(int rootfd, const char *dest,
				   const struct runtime_cgroup_hier *h, size_t n,
				   unsigned long flags, const struct runtime_rootfs_opts *opts,
				   struct berr **err);

/* One line of /proc/self/mountinfo, split in place with its octal escapes
 * ("\040") undone. */
struct runtime_mountinfo {
	char *root;
	char *mount_point;
	char *fstype;
	char *source;
	char *super_opts;
};

/* Splits LINE (without its newline) in place; false when it is malformed. */
bool runtime_mountinfo_parse(char *line, struct runtime_mountinfo *mi);

#endif
