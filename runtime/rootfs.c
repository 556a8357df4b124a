/* The container's file system view, built by its init inside its own mount
 * namespace: the propagation of "/", the rootfs bind, the mounts of the
 * spec, pivot_root (or a move and chroot), then the masked and read-only
 * paths.  Every destination is resolved inside the rootfs with safepath and
 * reached through /proc/self/fd/N, never through a joined host path. */
#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/magic.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/safepath.h"
#include "runtime/rootfs_internal.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/* /proc/self/mountinfo of a host with many containers is large. */
#define MOUNTINFO_MAX	(16 * 1024 * 1024)
#define SELF_CGROUP_MAX (64 * 1024)

/* Flags that say how to mount, not what the mount is. */
#define MOUNT_HOW_FLAGS                                                                \
	(MS_BIND | MS_REC | MS_REMOUNT | MS_MOVE | MS_SHARED | MS_SLAVE | MS_PRIVATE | \
	 MS_UNBINDABLE)

enum berr_kind runtime_rootfs_errno_kind(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return BERR_FORBIDDEN;
	case ENOENT:
		return BERR_NOT_FOUND;
	case EINVAL:
	case ENOTDIR:
	case ENODEV:
	case ELOOP:
		return BERR_INVALID;
	case EBUSY:
		return BERR_CONFLICT;
	default:
		return BERR_INTERNAL;
	}
}

bool runtime_rootfs_mount_is_bind(const struct runtime_mount *m)
{
	return m->bind || (m->flags & MS_BIND) || (m->type != NULL && strcmp(m->type, "bind") == 0);
}

unsigned long runtime_rootfs_vfs_flags(unsigned long f_flag)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV },	      { ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME },   { ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
	};
	unsigned long ms = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f_flag & map[i].st)
			ms |= map[i].ms;
	return ms;
}

int runtime_rootfs_remount(const char *target, unsigned long set, unsigned long clear,
			   bool keep_locked, const char *desc, struct berr **err)
{
	const unsigned long plain = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	struct statvfs sv;
	unsigned long cur, flags;

	if (statvfs(target, &sv) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s: statvfs", desc);
	cur = runtime_rootfs_vfs_flags(sv.f_flag);
	/* The atime flags are left out unless asked for: the kernel then
	 * keeps what the mount has. */
	flags = ((cur & plain) & ~clear) | (set & RUNTIME_ROOTFS_LOCKABLE_FLAGS);
	if (keep_locked)
		flags |= cur & plain;
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s: remount", desc);
	return 0;
}

int runtime_rootfs_bind_fd(const char *source, int fd, const char *desc, struct berr **err)
{
	char target[SAFEPATH_FD_PATH_MAX];

	if (safepath_fd_path(fd, target, sizeof(target), err) < 0)
		return berr_prefix(err, "%s", desc);
	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s", desc);
	return 0;
}

/* True when the comma-separated LIST has OPT, or an option starting with it
 * when PREFIX. */
static bool opt_find(const char *list, const char *opt, bool prefix)
{
	size_t n = strlen(opt);

	while (list != NULL && *list != '\0') {
		size_t len = strcspn(list, ",");

		if (prefix ? (len >= n && strncmp(list, opt, n) == 0)
			   : (len == n && strncmp(list, opt, n) == 0))
			return true;
		list += len;
		if (*list == ',')
			list++;
	}
	return false;
}

/* ----- /proc/self/mountinfo and the cgroup v1 hierarchies ----- */

static void unescape_octal(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0';) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

bool runtime_mountinfo_parse(char *line, struct runtime_mountinfo *mi)
{
	char *fields[6];
	char *p = line;
	char *tok;

	/* id parent major:minor root mount-point options [optional...] -
	 * fstype source super-options */
	for (int i = 0; i < 6; i++) {
		fields[i] = strsep(&p, " ");
		if (fields[i] == NULL)
			return false;
	}
	do
		tok = strsep(&p, " ");
	while (tok != NULL && strcmp(tok, "-") != 0);
	if (tok == NULL)
		return false;
	mi->fstype = strsep(&p, " ");
	mi->source = strsep(&p, " ");
	mi->super_opts = strsep(&p, " ");
	if (mi->super_opts == NULL)
		return false;
	mi->root = fields[3];
	mi->mount_point = fields[4];
	unescape_octal(mi->root);
	unescape_octal(mi->mount_point);
	unescape_octal(mi->source);
	return true;
}

/* True when every controller of CONTROLLERS is an option of SUPER_OPTS. */
static bool has_controllers(const char *super_opts, const char *controllers)
{
	_cleanup_free_ char *copy = strdup(controllers);
	char *p = copy;
	char *c;

	if (copy == NULL)
		return false;
	while ((c = strsep(&p, ",")) != NULL)
		if (*c != '\0' && !opt_find(super_opts, c, false))
			return false;
	return true;
}

/* Fills DIR and HOST_PATH of H (whose cgroup is PATH) from the first of the
 * N cgroup v1 mounts MOUNTS that holds its controllers. */
static int find_hierarchy(const struct runtime_mountinfo *mounts, size_t n, const char *path,
			  struct runtime_cgroup_hier *h, struct berr **err)
{
	for (size_t i = 0; i < n; i++) {
		const struct runtime_mountinfo *mi = &mounts[i];
		size_t rl;

		if (!has_controllers(mi->super_opts, h->controllers))
			continue;
		if (h->dir == NULL) {
			const char *base = strrchr(mi->mount_point, '/');

			h->dir =
				strdup(base != NULL && base[1] != '\0' ? base + 1 : h->controllers);
			if (h->dir == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "mountinfo");
		}
		/* A mount shows the hierarchy from its root: the cgroup must
		 * be under that to be reached there. */
		rl = strcmp(mi->root, "/") == 0 ? 0 : strlen(mi->root);
		if (strncmp(path, mi->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
			continue;
		h->host_path = str_printf("%s%s", mi->mount_point, path + rl);
		if (h->host_path == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "mountinfo");
		return 0;
	}
	return 0;
}

void runtime_cgroup_hier_free(struct runtime_cgroup_hier *h, size_t n)
{
	for (size_t i = 0; h != NULL && i < n; i++) {
		free(h[i].controllers);
		free(h[i].dir);
		free(h[i].host_path);
	}
	free(h);
}

struct hier_list {
	struct runtime_cgroup_hier *h;
	size_t n;
};

static void hier_list_clear(struct hier_list *l)
{
	runtime_cgroup_hier_free(l->h, l->n);
	l->h = NULL;
	l->n = 0;
}

/* The cgroup v1 mounts of MOUNTINFO, split in place. */
static int cgroup_mounts(char *mountinfo, struct runtime_mountinfo **out, size_t *n,
			 struct berr **err)
{
	struct runtime_mountinfo *list = NULL;
	size_t count = 0;
	char *p = mountinfo;
	char *line;

	while ((line = strsep(&p, "\n")) != NULL) {
		struct runtime_mountinfo mi, *nl;

		if (!runtime_mountinfo_parse(line, &mi) || strcmp(mi.fstype, "cgroup") != 0)
			continue;
		nl = realloc(list, (count + 1) * sizeof(*nl));
		if (nl == NULL) {
			free(list);
			return berr_set(err, BERR_INTERNAL, ENOMEM, "mountinfo");
		}
		list = nl;
		list[count++] = mi;
	}
	*out = list;
	*n = count;
	return 0;
}

int runtime_cgroup_hier_list(const char *self_cgroup, const char *mountinfo,
			     struct runtime_cgroup_hier **out, size_t *n, struct berr **err)
{
	_cleanup_(hier_list_clear) struct hier_list l = { 0 };
	_cleanup_free_ char *copy = strdup(self_cgroup);
	_cleanup_free_ char *info = strdup(mountinfo);
	_cleanup_free_ struct runtime_mountinfo *mounts = NULL;
	size_t n_mounts = 0;
	char *p = copy;
	char *line;

	if (copy == NULL || info == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroups");
	if (cgroup_mounts(info, &mounts, &n_mounts, err) < 0)
		return -1;
	while ((line = strsep(&p, "\n")) != NULL) {
		char *controllers, *path;
		struct runtime_cgroup_hier *nh, *h;

		if (*line == '\0')
			continue;
		controllers = strchr(line, ':');
		path = controllers != NULL ? strchr(controllers + 1, ':') : NULL;
		if (path == NULL)
			return berr_set(err, BERR_INVALID, 0, "/proc/self/cgroup: bad line \"%s\"",
					line);
		*controllers++ = '\0';
		*path++ = '\0';
		if (*controllers == '\0')
			continue; /* the v2 hierarchy, "0::/..." */
		nh = realloc(l.h, (l.n + 1) * sizeof(*nh));
		if (nh == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroups");
		l.h = nh;
		h = &l.h[l.n++];
		*h = (struct runtime_cgroup_hier){ .controllers = strdup(controllers) };
		if (h->controllers == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroups");
		if (find_hierarchy(mounts, n_mounts, path, h, err) < 0)
			return -1;
		if (h->dir == NULL) {
			/* Not mounted here: the name a mount would have. */
			const char *name = h->controllers;

			if (str_has_prefix(name, "name="))
				name += strlen("name=");
			h->dir = strdup(name);
			if (h->dir == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroups");
		}
	}
	*out = steal_ptr(&l.h);
	*n = l.n;
	l.n = 0;
	return 0;
}

/* ----- the mounts of the spec ----- */

static unsigned long mount_flags(const struct runtime_mount *m)
{
	return m->flags & ~MOUNT_HOW_FLAGS;
}

/* "mount proc on /proc", "mount tmpfs (shm) on /dev/shm",
 * "bind mount /src on /dst": the start of every error of one mount. */
static char *mount_desc(const struct runtime_mount *m, const char *source)
{
	if (runtime_rootfs_mount_is_bind(m))
		return str_printf("bind mount %s on %s", source ? source : "(none)",
				  m->destination);
	if (source == NULL || (m->type != NULL && strcmp(source, m->type) == 0))
		return str_printf("mount %s on %s", m->type ? m->type : "(none)", m->destination);
	return str_printf("mount %s (%s) on %s", m->type ? m->type : "(none)", source,
			  m->destination);
}

/* Applies PROPAGATION to the mount now at DEST.  DEST is resolved again: a
 * fd taken before the mount names the directory under it. */
static int set_propagation(int rootfd, const char *dest, unsigned long propagation,
			   const char *desc, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	char target[SAFEPATH_FD_PATH_MAX];

	if (propagation == 0)
		return 0;
	fd = safepath_open(rootfd, dest, O_PATH, err);
	if (fd < 0 || safepath_fd_path(fd, target, sizeof(target), err) < 0)
		return berr_prefix(err, "%s", desc);
	if (mount(NULL, target, NULL, propagation, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s: propagation",
				desc);
	return 0;
}

/* A new file system TYPE from SOURCE at DEST, made as a directory. */
static int mount_new_fs(int rootfd, const char *dest, const char *source, const char *type,
			unsigned long flags, const char *data, unsigned long propagation,
			const char *desc, struct berr **err)
{
	_cleanup_close_ int fd = safepath_mkdir_p(rootfd, dest, 0755, err);
	char target[SAFEPATH_FD_PATH_MAX];

	if (fd < 0)
		return berr_prefix(err, "%s: destination", desc);
	if (safepath_fd_path(fd, target, sizeof(target), err) < 0)
		return berr_prefix(err, "%s", desc);
	if (mount(source != NULL ? source : type, target, type, flags, data) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s", desc);
	return set_propagation(rootfd, dest, propagation, desc, err);
}

/* Binds the host path SOURCE at DEST (a directory or an empty file, as the
 * source is), then remounts it with SET and CLEAR when there are any. */
static int mount_bind(int rootfd, const char *dest, const char *source, bool rec, unsigned long set,
		      unsigned long clear, unsigned long propagation, bool in_user_ns,
		      const char *desc, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	char target[SAFEPATH_FD_PATH_MAX];
	struct stat st;

	if (stat(source, &st) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s: source", desc);
	if (S_ISDIR(st.st_mode))
		fd = safepath_mkdir_p(rootfd, dest, 0755, err);
	else
		fd = safepath_create_file(rootfd, dest, 0644, err);
	if (fd < 0)
		return berr_prefix(err, "%s: destination", desc);
	if (safepath_fd_path(fd, target, sizeof(target), err) < 0)
		return berr_prefix(err, "%s", desc);
	if (mount(source, target, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s", desc);
	if ((set & ~MOUNT_HOW_FLAGS) != 0 || clear != 0) {
		/* A bind takes the flags of its source; others need a remount
		 * of the new mount, which the old fd does not reach. */
		close(fd);
		fd = safepath_open(rootfd, dest, O_PATH, err);
		if (fd < 0 || safepath_fd_path(fd, target, sizeof(target), err) < 0)
			return berr_prefix(err, "%s", desc);
		if (runtime_rootfs_remount(target, set, clear, in_user_ns, desc, err) < 0)
			return -1;
	}
	return set_propagation(rootfd, dest, propagation, desc, err);
}

static char *append_opt(char *list, const char *opt)
{
	char *joined = *list != '\0' ? str_printf("%s,%s", list, opt) : strdup(opt);

	free(list);
	return joined;
}

/* devpts: a private instance, and a /dev/pts/ptmx that others can open. */
static char *devpts_data(const char *data)
{
	char *out = strdup(data != NULL ? data : "");

	if (out != NULL && !opt_find(out, "newinstance", false))
		out = append_opt(out, "newinstance");
	if (out != NULL && !opt_find(out, "ptmxmode=", true))
		out = append_opt(out, "ptmxmode=0666");
	return out;
}

static int read_proc(const char *path, size_t max, char **out, struct berr **err)
{
	return fs_read_file(path, max, out, NULL, err);
}

/* cpu,cpuacct is reached as cpu and as cpuacct too: symlinks in DIRFD. */
static int link_comounted(int dirfd, const char *dir, const char *desc, struct berr **err)
{
	for (const char *c = dir; *c != '\0';) {
		size_t len = strcspn(c, ",");
		_cleanup_free_ char *name = strndup(c, len);

		if (name == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "%s", desc);
		if (*name != '\0' && strcmp(name, dir) != 0 && !str_has_prefix(name, "name=") &&
		    symlinkat(dir, dirfd, name) < 0 && errno != EEXIST)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"%s: symlink %s", desc, name);
		c += len;
		if (*c == ',')
			c++;
	}
	return 0;
}

/* The mount attributes of the plain mount FLAGS. */
static uint64_t mount_attrs(unsigned long flags)
{
	return ((flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0) |
	       ((flags & MS_NOSUID) ? MOUNT_ATTR_NOSUID : 0) |
	       ((flags & MS_NODEV) ? MOUNT_ATTR_NODEV : 0) |
	       ((flags & MS_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0);
}

/* Binds SOURCE (a host directory) with FLAGS at NAME in DIRFD, a directory
 * this process made (no symlink in it to fear): a clone of the source's
 * tree gets the flags while it is detached, then moves in, three system
 * calls where a bind and its remount walk the path twice more.  Returns
 * 1 when the kernel has not this mount API (or the caller may not use
 * it): the caller binds the usual way. */
static int bind_detached(int dirfd, const char *name, const char *source, unsigned long flags,
			 const char *desc, struct berr **err)
{
	struct mount_attr attr = { .attr_set = mount_attrs(flags) };
	_cleanup_close_ int tree = -1;

	tree = (int)syscall(SYS_open_tree, AT_FDCWD, source,
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return errno == ENOSYS || errno == EPERM
			       ? 1
			       : berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s", desc);
	if (attr.attr_set != 0 && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
					  &attr, sizeof(attr)) < 0)
		return errno == ENOSYS || errno == EPERM
			       ? 1
			       : berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					  "%s: remount", desc);
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s: destination",
				desc);
	if (syscall(SYS_move_mount, tree, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return errno == ENOSYS || errno == EPERM
			       ? 1
			       : berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s", desc);
	return 0;
}

/* Docker's cgroup mount: read-only, and nothing to run or open devices. */
#define KEPT_BIND_FLAGS (MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV)

/* Clones of this process's cgroup v1 hierarchies made ahead, with
 * KEPT_BIND_FLAGS, by runtime_rootfs_keep_cgroup_mounts(): each the tree to
 * bind in a container whose cgroup is the one this process was in then (a
 * spare, since renamed); -1 once used or let go. */
static struct kept_bind {
	char *dir;
	int tree;
} * kept_binds;
static size_t n_kept_binds;
static bool kept_binds_usable; /* runtime_rootfs_use_kept_cgroups(true) */

/* The kept clone for the hierarchy at DIR (taken), or -1. */
static int kept_bind_take(const char *dir)
{
	for (size_t i = 0; kept_binds_usable && i < n_kept_binds; i++) {
		if (kept_binds[i].tree >= 0 && strcmp(kept_binds[i].dir, dir) == 0) {
			int tree = kept_binds[i].tree;

			kept_binds[i].tree = -1;
			return tree;
		}
	}
	return -1;
}

void runtime_rootfs_use_kept_cgroups(bool same_cgroup)
{
	kept_binds_usable = same_cgroup;
	if (same_cgroup)
		return;
	for (size_t i = 0; i < n_kept_binds; i++) {
		if (kept_binds[i].tree >= 0)
			close(kept_binds[i].tree);
		kept_binds[i].tree = -1;
	}
}

static int mount_cgroup_hier(int rootfd, int dirfd, const char *dest,
			     const struct runtime_cgroup_hier *h, unsigned long flags,
			     const struct runtime_rootfs_opts *opts, struct berr **err)
{
	_cleanup_free_ char *sub = str_printf("%s/%s", dest, h->dir);
	_cleanup_free_ char *desc = NULL;
	_cleanup_close_ int fd = -1;

	if (sub == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup %s", h->controllers);
	if (opts->new_cgroup_ns) {
		/* A fresh mount in the new cgroup namespace shows its root. */
		desc = str_printf("mount cgroup (%s) on %s", h->controllers, sub);
		if (desc == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup %s", h->controllers);
		return mount_new_fs(rootfd, sub, "cgroup", "cgroup", flags, h->controllers, 0, desc,
				    err);
	}
	if (h->host_path == NULL) {
		blog_warn("cgroup %s is not mounted where it can be reached; %s stays empty",
			  h->controllers, sub);
		fd = safepath_mkdir_p(rootfd, sub, 0755, err);
		return fd < 0 ? berr_prefix(err, "cgroup %s", h->controllers) : 0;
	}
	desc = str_printf("bind mount %s on %s", h->host_path, sub);
	if (desc == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup %s", h->controllers);
	/* In a user namespace the source's locked flags need the remount's
	 * care. */
	if (!opts->in_user_ns && strchr(h->dir, '/') == NULL) {
		_cleanup_close_ int kept = flags == KEPT_BIND_FLAGS ? kept_bind_take(h->dir) : -1;
		int rc;

		if (kept >= 0) {
			if ((mkdirat(dirfd, h->dir, 0755) == 0 || errno == EEXIST) &&
			    syscall(SYS_move_mount, kept, "", dirfd, h->dir,
				    MOVE_MOUNT_F_EMPTY_PATH) == 0)
				return 0;
			blog_debug("%s: the clone made ahead: %s", desc, strerror(errno));
		}
		rc = bind_detached(dirfd, h->dir, h->host_path, flags, desc, err);
		if (rc <= 0)
			return rc;
	}
	return mount_bind(rootfd, sub, h->host_path, true, flags, 0, 0, opts->in_user_ns, desc,
			  err);
}

int runtime_rootfs_cgroup_v1_mount(int rootfd, const char *dest,
				   const struct runtime_cgroup_hier *h, size_t n,
				   unsigned long flags, const struct runtime_rootfs_opts *opts,
				   struct berr **err)
{
	_cleanup_close_ int dirfd = safepath_open(rootfd, dest, O_PATH | O_DIRECTORY, err);

	if (dirfd < 0)
		return berr_prefix(err, "cgroups in %s", dest);
	for (size_t i = 0; i < n; i++)
		if (mount_cgroup_hier(rootfd, dirfd, dest, &h[i], flags, opts, err) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (strchr(h[i].dir, ',') != NULL && link_comounted(dirfd, h[i].dir, dest, err) < 0)
			return -1;
	return 0;
}

/* The cgroup lines of /proc/self/mountinfo as runtime_rootfs_keep_cgroup_
 * mounts() read them; NULL: none kept. */
static char *kept_cgroup_mounts;

/* Clones each v1 hierarchy this process is in, with KEPT_BIND_FLAGS, for
 * the binds of its container's cgroup mount. */
static void keep_cgroup_binds(void)
{
	_cleanup_(hier_list_clear) struct hier_list l = { 0 };
	_cleanup_free_ char *self = NULL;
	struct mount_attr attr = { .attr_set = mount_attrs(KEPT_BIND_FLAGS) };

	if (read_proc("/proc/self/cgroup", SELF_CGROUP_MAX, &self, NULL) < 0 ||
	    runtime_cgroup_hier_list(self, kept_cgroup_mounts, &l.h, &l.n, NULL) < 0)
		return;
	kept_binds = calloc(l.n + 1, sizeof(*kept_binds));
	for (size_t i = 0; kept_binds && i < l.n; i++) {
		const struct runtime_cgroup_hier *h = &l.h[i];
		int tree;

		if (h->host_path == NULL || strchr(h->dir, '/') != NULL)
			continue;
		tree = (int)syscall(SYS_open_tree, AT_FDCWD, h->host_path,
				    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (tree < 0)
			continue;
		if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) < 0 ||
		    !(kept_binds[n_kept_binds].dir = strdup(h->dir))) {
			close(tree);
			continue;
		}
		kept_binds[n_kept_binds++].tree = tree;
	}
}

void runtime_rootfs_keep_cgroup_mounts(void)
{
	_cleanup_free_ char *info = NULL;
	size_t size = 0;
	FILE *kept;
	char *p, *line;

	if (kept_cgroup_mounts || read_proc("/proc/self/mountinfo", MOUNTINFO_MAX, &info, NULL) < 0)
		return;
	kept = open_memstream(&kept_cgroup_mounts, &size);
	if (!kept)
		return;
	p = info;
	while ((line = strsep(&p, "\n")) != NULL) {
		_cleanup_free_ char *copy = strdup(line);
		struct runtime_mountinfo mi;

		if (copy && runtime_mountinfo_parse(copy, &mi) && strcmp(mi.fstype, "cgroup") == 0)
			fprintf(kept, "%s\n", line);
	}
	if (fclose(kept) != 0) {
		free(steal_ptr(&kept_cgroup_mounts));
		return;
	}
	keep_cgroup_binds();
}

/* Whether every hierarchy of the N of H was found mounted. */
static bool hierarchies_found(const struct runtime_cgroup_hier *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].host_path == NULL)
			return false;
	return true;
}

/* The v1 hierarchies of this process, from the kept cgroup mounts when
 * they show them all, else from /proc/self/mountinfo. */
static int cgroup_hierarchies(struct hier_list *l, struct berr **err)
{
	_cleanup_free_ char *self = NULL;
	_cleanup_free_ char *info = NULL;

	if (read_proc("/proc/self/cgroup", SELF_CGROUP_MAX, &self, err) < 0)
		return -1;
	if (kept_cgroup_mounts) {
		if (runtime_cgroup_hier_list(self, kept_cgroup_mounts, &l->h, &l->n, err) < 0)
			return -1;
		if (hierarchies_found(l->h, l->n))
			return 0;
		/* Mounted since, or never: the whole table. */
		hier_list_clear(l);
	}
	if (read_proc("/proc/self/mountinfo", MOUNTINFO_MAX, &info, err) < 0)
		return -1;
	return runtime_cgroup_hier_list(self, info, &l->h, &l->n, err);
}

/* On a v1 or hybrid host: a tmpfs at DEST and in it every v1 hierarchy the
 * process is in, read-only at the end when the mount asks. */
static int mount_cgroup_v1(int rootfd, const struct runtime_mount *m, const char *dest,
			   const struct runtime_rootfs_opts *opts, const char *desc,
			   struct berr **err)
{
	_cleanup_(hier_list_clear) struct hier_list l = { 0 };
	_cleanup_close_ int fd = -1;
	unsigned long flags = mount_flags(m);
	char target[SAFEPATH_FD_PATH_MAX];

	if (mount_new_fs(rootfd, dest, "tmpfs", "tmpfs", flags & ~MS_RDONLY, "mode=755", 0, desc,
			 err) < 0)
		return -1;
	if (cgroup_hierarchies(&l, err) < 0)
		return berr_prefix(err, "%s", desc);
	if (runtime_rootfs_cgroup_v1_mount(rootfd, dest, l.h, l.n, flags, opts, err) < 0)
		return -1;
	if (flags & MS_RDONLY) {
		fd = safepath_open(rootfd, dest, O_PATH, err);
		if (fd < 0 || safepath_fd_path(fd, target, sizeof(target), err) < 0)
			return berr_prefix(err, "%s", desc);
		if (runtime_rootfs_remount(target, MS_RDONLY, 0, opts->in_user_ns, desc, err) < 0)
			return -1;
	}
	return set_propagation(rootfd, dest, m->propagation, desc, err);
}

/* The cgroup of this process in the v2 hierarchy, from /proc/self/cgroup. */
static char *cgroup_v2_path(struct berr **err)
{
	_cleanup_free_ char *self = NULL;
	char *line;

	if (read_proc("/proc/self/cgroup", SELF_CGROUP_MAX, &self, err) < 0)
		return NULL;
	line = strstr(self, "0::");
	if (line == NULL || (line != self && line[-1] != '\n')) {
		berr_set(err, BERR_NOT_FOUND, 0, "/proc/self/cgroup: no v2 entry");
		return NULL;
	}
	line += 3;
	line[strcspn(line, "\n")] = '\0';
	return str_printf("/sys/fs/cgroup%s", line);
}

/* On a v2 host: cgroup2, or in a user namespace that may not mount it (no
 * cgroup namespace of its own) a bind of the process's own cgroup. */
static int mount_cgroup_v2(int rootfd, const struct runtime_mount *m, const char *dest,
			   const struct runtime_rootfs_opts *opts, const char *desc,
			   struct berr **err)
{
	_cleanup_berr_ struct berr *first = NULL;
	_cleanup_free_ char *own = NULL;

	if (mount_new_fs(rootfd, dest, "cgroup2", "cgroup2", mount_flags(m), NULL, m->propagation,
			 desc, &first) == 0)
		return 0;
	if (!opts->in_user_ns || (first->sys_errno != EPERM && first->sys_errno != EBUSY)) {
		berr_move(err, &first);
		return -1;
	}
	own = cgroup_v2_path(err);
	if (own == NULL)
		return berr_prefix(err, "%s", desc);
	return mount_bind(rootfd, dest, own, true, mount_flags(m), m->clear_flags, m->propagation,
			  true, desc, err);
}

static int mount_cgroup(int rootfd, const struct runtime_mount *m, const char *dest,
			const struct runtime_rootfs_opts *opts, const char *desc, struct berr **err)
{
	struct statfs sfs;

	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		return mount_cgroup_v2(rootfd, m, dest, opts, desc, err);
	return mount_cgroup_v1(rootfd, m, dest, opts, desc, err);
}

/* A new sysfs or mqueue, or in a user namespace that may not make one (it
 * does not own the network or IPC namespace) a bind of the host's, as
 * runc does. */
static int mount_or_bind_host(int rootfd, const struct runtime_mount *m, const char *dest,
			      const char *host, const struct runtime_rootfs_opts *opts,
			      const char *desc, struct berr **err)
{
	_cleanup_berr_ struct berr *first = NULL;

	if (mount_new_fs(rootfd, dest, m->source, m->type, mount_flags(m), m->data, m->propagation,
			 desc, &first) == 0)
		return 0;
	if (!opts->in_user_ns || (first->sys_errno != EPERM && first->sys_errno != EBUSY)) {
		berr_move(err, &first);
		return -1;
	}
	blog_debug("%s: %s, binding the host's %s", desc, first->msg, host);
	return mount_bind(rootfd, dest, host, true, mount_flags(m), m->clear_flags, m->propagation,
			  true, desc, err);
}

/* The /dev made ahead (runtime_rootfs_keep_dev()) on its way into the
 * rootfs of one prepare. */
struct premade_dev {
	int fd;	       /* the detached mount; -1 when there is none, or once used */
	bool attached; /* it is the /dev of the rootfs */
};

static void premade_dev_release(struct premade_dev *p)
{
	if (p->fd >= 0)
		close(p->fd);
}

/* Whether M, on DEST, asks for the very /dev made ahead: nothing else in
 * its options, propagation included. */
static bool is_premade_dev(const struct runtime_mount *m, const char *dest)
{
	return strcmp(dest, "/dev") == 0 && m->type != NULL && strcmp(m->type, "tmpfs") == 0 &&
	       m->source != NULL && strcmp(m->source, "tmpfs") == 0 &&
	       m->flags == RUNTIME_PREMADE_DEV_FLAGS && m->clear_flags == 0 &&
	       m->propagation == 0 && m->data != NULL &&
	       strcmp(m->data, RUNTIME_PREMADE_DEV_DATA) == 0;
}

/* Moves the /dev made ahead to DEST, made as a directory: one call where a
 * new /dev takes a mount and a dozen calls to fill.  Returns 1 when the
 * kernel refuses the move: the caller mounts a new one. */
static int attach_premade_dev(int rootfd, const char *dest, struct premade_dev *p, const char *desc,
			      struct berr **err)
{
	_cleanup_close_ int dev = steal_fd(&p->fd);
	_cleanup_close_ int fd = safepath_mkdir_p(rootfd, dest, 0755, err);

	if (fd < 0)
		return berr_prefix(err, "%s: destination", desc);
	if (syscall(SYS_move_mount, dev, "", fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		blog_debug("%s: the /dev made ahead: %s", desc, strerror(errno));
		return 1;
	}
	p->attached = true;
	return 0;
}

static int mount_one(int rootfd, const struct runtime_mount *m,
		     const struct runtime_rootfs_opts *opts, struct premade_dev *premade,
		     struct berr **err)
{
	_cleanup_free_ char *source = NULL;
	_cleanup_free_ char *desc = NULL;
	_cleanup_free_ char *dest = NULL;
	bool bind = runtime_rootfs_mount_is_bind(m);

	if (m->destination == NULL)
		return berr_set(err, BERR_INVALID, 0, "mount %s: no destination",
				m->type != NULL ? m->type : "(none)");
	/* A relative bind source is in the bundle. */
	if (m->source != NULL && bind && m->source[0] != '/' && opts->bundle != NULL)
		source = str_printf("%s/%s", opts->bundle, m->source);
	else if (m->source != NULL)
		source = strdup(m->source);
	desc = mount_desc(m, source);
	dest = safepath_clean(m->destination, err);
	if (desc == NULL || dest == NULL || (m->source != NULL && source == NULL))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mount on %s", m->destination);
	if (strcmp(dest, "/") == 0)
		return berr_set(err, BERR_INVALID, 0, "%s: the destination is the root", desc);

	if (bind) {
		if (source == NULL)
			return berr_set(err, BERR_INVALID, 0, "%s: no source", desc);
		return mount_bind(rootfd, dest, source, m->recursive || (m->flags & MS_REC),
				  mount_flags(m), m->clear_flags, m->propagation, opts->in_user_ns,
				  desc, err);
	}
	if (m->type == NULL)
		return berr_set(err, BERR_INVALID, 0, "%s: no type", desc);
	if (strcmp(m->type, "cgroup") == 0)
		return mount_cgroup(rootfd, m, dest, opts, desc, err);
	if (strcmp(m->type, "sysfs") == 0)
		return mount_or_bind_host(rootfd, m, dest, "/sys", opts, desc, err);
	if (strcmp(m->type, "mqueue") == 0)
		return mount_or_bind_host(rootfd, m, dest, "/dev/mqueue", opts, desc, err);
	if (strcmp(m->type, "devpts") == 0) {
		_cleanup_free_ char *data = devpts_data(m->data);

		if (data == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "%s", desc);
		return mount_new_fs(rootfd, dest, source, m->type, mount_flags(m), data,
				    m->propagation, desc, err);
	}
	if (premade->fd >= 0 && is_premade_dev(m, dest)) {
		int rc = attach_premade_dev(rootfd, dest, premade, desc, err);

		if (rc <= 0)
			return rc;
	}
	return mount_new_fs(rootfd, dest, source, m->type, mount_flags(m), m->data, m->propagation,
			    desc, err);
}

/* ----- prepare ----- */

static int propagation_parse(const char *name, unsigned long *out, struct berr **err)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} table[] = {
		{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
		{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
		{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(name, table[i].name) == 0) {
			*out = table[i].flags;
			return 0;
		}
	}
	return berr_set(err, BERR_INVALID, 0, "rootfsPropagation: unknown \"%s\"", name);
}

static bool is_mount_root(const char *path)
{
	struct statx stx;

	return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 &&
	       (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* The mount that holds the rootfs becomes private: the rootfs bind then
 * cannot propagate to the host, and pivot_root, which refuses a shared
 * parent, accepts it (runc does the same). */
static int make_parent_mount_private(const char *rootfs, struct berr **err)
{
	_cleanup_free_ char *p = realpath(rootfs, NULL);

	if (p == NULL)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "rootfs %s", rootfs);
	while (strcmp(p, "/") != 0 && !is_mount_root(p)) {
		char *slash = strrchr(p, '/');

		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
	if (mount(NULL, p, NULL, MS_PRIVATE, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"make the mount %s private", p);
	return 0;
}

int runtime_rootfs_prepare(const struct runtime_spec *spec, const struct runtime_rootfs_opts *opts,
			   struct berr **err)
{
	unsigned long propagation = MS_SLAVE | MS_REC;
	_cleanup_close_ int rootfd = -1;
	_cleanup_(premade_dev_release) struct premade_dev premade = {
		.fd = runtime_rootfs_kept_dev_take(spec, opts),
	};

	if (spec->rootfs_propagation != NULL &&
	    propagation_parse(spec->rootfs_propagation, &propagation, err) < 0)
		return -1;
	/* From here on nothing done in this namespace reaches the host. */
	if (mount(NULL, "/", NULL, propagation, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"set the propagation of /");
	if (make_parent_mount_private(opts->rootfs, err) < 0)
		return -1;
	/* pivot_root wants a mount point. */
	if (mount(opts->rootfs, opts->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"bind mount the rootfs %s on itself", opts->rootfs);
	/* Opened after the bind, so that it is the root of the bind mount. */
	rootfd = open(opts->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "open the rootfs %s",
				opts->rootfs);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (mount_one(rootfd, &spec->mounts[i], opts, &premade, err) < 0)
			return -1;
	return runtime_rootfs_setup_dev(rootfd, spec, opts, premade.attached, err);
}

/* ----- pivot ----- */

/* True when PATH is DIR or lies under it. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A chroot leaves the host's mounts in the namespace, within reach of a
 * process that gets out of it.  Every mount that is neither the rootfs, in
 * it, nor on the way to it is detached; one that cannot be (locked in a
 * user namespace) is covered with an empty read-only tmpfs, as runc's
 * msMoveRoot does. */
static int detach_host_mounts(const char *rootfs, struct berr **err)
{
	_cleanup_free_ char *info = NULL;
	_cleanup_free_ char **points = NULL;
	size_t n = 0, cap = 0;
	char *p, *line;

	if (read_proc("/proc/self/mountinfo", MOUNTINFO_MAX, &info, err) < 0)
		return -1;
	p = info;
	while ((line = strsep(&p, "\n")) != NULL) {
		struct runtime_mountinfo mi;

		if (!runtime_mountinfo_parse(line, &mi))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **np = realloc(points, ncap * sizeof(*np));

			if (np == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "mountinfo");
			points = np;
			cap = ncap;
		}
		points[n++] = mi.mount_point;
	}
	/* Children come after their parents in mountinfo: undo backwards. */
	for (size_t i = n; i-- > 0;) {
		const char *mp = points[i];

		if (path_within(mp, rootfs) || path_within(rootfs, mp))
			continue;
		if (umount2(mp, MNT_DETACH) == 0 || (errno != EINVAL && errno != EPERM))
			continue;
		if (!is_mount_root(mp))
			continue;
		if (mount("tmpfs", mp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=0") < 0)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"cover the host mount %s", mp);
	}
	return 0;
}

/* The fallback for a root that cannot be pivoted (ramfs): the rootfs moved
 * onto "/" and a chroot into it.  The cwd is the rootfs. */
static int move_root(const char *rootfs, struct berr **err)
{
	_cleanup_free_ char *real = realpath(rootfs, NULL);

	if (real == NULL)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "rootfs %s", rootfs);
	if (detach_host_mounts(real, err) < 0)
		return -1;
	if (mount(real, "/", NULL, MS_MOVE, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "move %s to /", real);
	if (chroot(".") < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "chroot %s", real);
	if (chdir("/") < 0)
		return berr_set(err, BERR_INTERNAL, errno, "chdir /");
	return 0;
}

int runtime_rootfs_pivot(const struct runtime_spec *spec, const struct runtime_rootfs_opts *opts,
			 struct berr **err)
{
	_cleanup_close_ int newroot = open(opts->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (newroot < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "open the rootfs %s",
				opts->rootfs);
	if (fchdir(newroot) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "chdir %s", opts->rootfs);
	if (!opts->no_pivot) {
		/* pivot_root(".", ".") puts the old root on top of the new one,
		 * where it can be unmounted without a directory for it. */
		if (syscall(SYS_pivot_root, ".", ".") == 0) {
			/* A slave first, so that the unmount does not
			 * propagate to the host. */
			if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
				return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
						"make the old root a slave");
			if (umount2(".", MNT_DETACH) < 0)
				return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
						"detach the old root");
			if (chdir("/") < 0)
				return berr_set(err, BERR_INTERNAL, errno, "chdir /");
			return 0;
		}
		if (errno != EINVAL)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"pivot_root into %s", opts->rootfs);
		blog_debug("pivot_root into %s: %s; moving the root instead", opts->rootfs,
			   strerror(errno));
	}
	return move_root(opts->rootfs, err);
}

/* ----- finalize ----- */

/* How mount(2) reaches FD, resolved from PATH: its /proc/self/fd name, or
 * without a proc in the new root the path itself, which after pivot_root
 * cannot lead out of it. */
static const char *target_of(int fd, const char *path, bool have_proc, char *buf, size_t size)
{
	if (!have_proc || safepath_fd_path(fd, buf, size, NULL) < 0)
		return path;
	return buf;
}

static int write_sysctl(int rootfd, const struct runtime_sysctl *s, struct berr **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	const char *k = s->key;

	/* The key becomes a path: nothing in it may climb or jump. */
	if (k == NULL || *k == '\0' || strchr(k, '/') != NULL || strstr(k, "..") != NULL ||
	    k[0] == '.' || k[strlen(k) - 1] == '.')
		return berr_set(err, BERR_INVALID, 0, "sysctl \"%s\": not a valid key",
				k != NULL ? k : "");
	path = str_printf("/proc/sys/%s", k);
	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "sysctl %s", k);
	for (char *c = path + strlen("/proc/sys/"); *c != '\0'; c++)
		if (*c == '.')
			*c = '/';
	fd = safepath_open(rootfd, path, O_WRONLY, err);
	if (fd < 0)
		return berr_prefix(err, "sysctl %s", k);
	if (fs_write_all(fd, s->value, strlen(s->value)) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"sysctl %s: write \"%s\"", k, s->value);
	return 0;
}

/* Opens PATH inside ROOTFD; a missing path gives -1 with no error. */
static int open_if_there(int rootfd, const char *path, struct berr **err)
{
	_cleanup_berr_ struct berr *e = NULL;
	int fd = safepath_open(rootfd, path, O_PATH, &e);

	if (fd < 0 && e->kind != BERR_NOT_FOUND)
		berr_move(err, &e);
	return fd;
}

/* A directory gets an empty read-only tmpfs, anything else /dev/null. */
static int mask_path(int rootfd, const char *path, bool have_proc, struct berr **err)
{
	_cleanup_close_ int fd = open_if_there(rootfd, path, err);
	char buf[SAFEPATH_FD_PATH_MAX];
	const char *target;
	struct stat st;
	int r;

	if (fd < 0)
		return *err != NULL ? berr_prefix(err, "masked path %s", path) : 0;
	if (fstat(fd, &st) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "masked path %s: stat", path);
	target = target_of(fd, path, have_proc, buf, sizeof(buf));
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL);
	else
		r = mount("/dev/null", target, NULL, MS_BIND, NULL);
	if (r < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "masked path %s",
				path);
	return 0;
}

/* A bind of PATH onto itself, remounted read-only with its other flags. */
static int readonly_path(int rootfd, const char *path, bool have_proc, struct berr **err)
{
	_cleanup_close_ int fd = open_if_there(rootfd, path, err);
	_cleanup_free_ char *desc = str_printf("read-only path %s", path);
	char buf[SAFEPATH_FD_PATH_MAX];
	const char *target;

	if (desc == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read-only path %s", path);
	if (fd < 0)
		return *err != NULL ? berr_prefix(err, "%s", desc) : 0;
	target = target_of(fd, path, have_proc, buf, sizeof(buf));
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "%s", desc);
	/* The remount is for the new mount, which the old fd does not reach. */
	close(fd);
	fd = safepath_open(rootfd, path, O_PATH, err);
	if (fd < 0)
		return berr_prefix(err, "%s", desc);
	target = target_of(fd, path, have_proc, buf, sizeof(buf));
	return runtime_rootfs_remount(target, MS_RDONLY, 0, true, desc, err);
}

int runtime_rootfs_finalize(const struct runtime_spec *spec, const struct runtime_rootfs_opts *opts,
			    struct berr **err)
{
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sfs;
	bool have_proc;

	if (rootfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open /");
	have_proc = statfs("/proc", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;

	/* Sysctls before the read-only paths: /proc/sys is one of them. */
	for (size_t i = 0; i < spec->n_sysctls; i++)
		if (write_sysctl(rootfd, &spec->sysctls[i], err) < 0)
			return -1;
	for (size_t i = 0; spec->readonly_paths != NULL && spec->readonly_paths[i]; i++)
		if (readonly_path(rootfd, spec->readonly_paths[i], have_proc, err) < 0)
			return -1;
	for (size_t i = 0; spec->masked_paths != NULL && spec->masked_paths[i]; i++)
		if (mask_path(rootfd, spec->masked_paths[i], have_proc, err) < 0)
			return -1;
	if (spec->root_readonly &&
	    runtime_rootfs_remount("/", MS_RDONLY, 0, true, "read-only root", err) < 0)
		return -1;
	if (spec->rootfs_propagation != NULL) {
		unsigned long propagation = 0;

		if (propagation_parse(spec->rootfs_propagation, &propagation, err) < 0)
			return -1;
		if (mount(NULL, "/", NULL, propagation, NULL) < 0)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"rootfsPropagation %s", spec->rootfs_propagation);
	}
	return 0;
}
