/* The container's /dev: the default device nodes every container has, the
 * devices of the spec, the symlinks programs expect (/dev/fd, /dev/stdin...,
 * /dev/ptmx) and the /dev/console target of the terminal.  Nodes are made
 * with mknod, or in a user namespace bind mounted from the host.  A process
 * made ahead of its container makes Docker's /dev ahead too, as a detached
 * mount that its container's /dev mount then moves in. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/safepath.h"
#include "runtime/rootfs_internal.h"

/* The devices of every container, as runc and Docker give them. */
static const struct runtime_device default_devices[] = {
	{ .type = 'c', .path = "/dev/null", .major = 1, .minor = 3 },
	{ .type = 'c', .path = "/dev/zero", .major = 1, .minor = 5 },
	{ .type = 'c', .path = "/dev/full", .major = 1, .minor = 7 },
	{ .type = 'c', .path = "/dev/random", .major = 1, .minor = 8 },
	{ .type = 'c', .path = "/dev/urandom", .major = 1, .minor = 9 },
	{ .type = 'c', .path = "/dev/tty", .major = 5, .minor = 0 },
};

static const struct {
	const char *target;
	const char *name;
} dev_links[] = {
	{ "/proc/self/fd", "fd" },
	{ "/proc/self/fd/0", "stdin" },
	{ "/proc/self/fd/1", "stdout" },
	{ "/proc/self/fd/2", "stderr" },
};

static void umask_restore(mode_t *old)
{
	umask(*old);
}

/* Splits PATH into its directory and a last component that names
 * something: not empty, ".", "..". */
static int split_path(const char *path, char **dir, char **base, struct berr **err)
{
	_cleanup_free_ char *clean = safepath_clean(path, err);
	char *slash;

	if (clean == NULL)
		return -1;
	slash = strrchr(clean, '/');
	if (slash[1] == '\0')
		return berr_set(err, BERR_INVALID, 0, "device path \"%s\" names no file", path);
	*base = strdup(slash + 1);
	*dir = slash == clean ? strdup("/") : strndup(clean, (size_t)(slash - clean));
	if (*base == NULL || *dir == NULL) {
		free(*base);
		free(*dir);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "device %s", path);
	}
	return 0;
}

/* Removes what is at NAME in PARENT, so a device can take its place. */
static int remove_existing(int parent, const char *name, const char *path, struct berr **err)
{
	struct stat st;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "device %s: stat",
				path);
	}
	if (unlinkat(parent, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"device %s: remove what is there", path);
	return 0;
}

/* The host's node at the same path, bind mounted on an empty file: a user
 * namespace may not mknod. */
static int bind_device(int parent, const char *name, const char *path, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *desc = str_printf("bind mount %s on %s", path, path);

	if (desc == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "device %s", path);
	fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"device %s: create the bind target", path);
	close(fd);
	fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "device %s: open",
				path);
	return runtime_rootfs_bind_fd(path, fd, desc, err);
}

/* The S_IF* type of D, its numbers checked. */
static int device_type(const struct runtime_device *d, mode_t *type, struct berr **err)
{
	switch (d->type) {
	case 'c':
	case 'u':
		*type = S_IFCHR;
		break;
	case 'b':
		*type = S_IFBLK;
		break;
	case 'p':
		*type = S_IFIFO;
		break;
	default:
		return berr_set(err, BERR_INVALID, 0, "device %s: unknown type '%c'", d->path,
				d->type);
	}
	if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
		return berr_set(err, BERR_INVALID, 0, "device %s: bad number %lld:%lld", d->path,
				(long long)d->major, (long long)d->minor);
	return 0;
}

/* Makes D, of TYPE, as NAME in PARENT in place of what is there. */
static int make_node(int parent, const char *name, const struct runtime_device *d, mode_t type,
		     bool bind, struct berr **err)
{
	mode_t mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;

	if (remove_existing(parent, name, d->path, err) < 0)
		return -1;
	/* A fifo needs no privilege; a device node does. */
	if (type != S_IFIFO && bind)
		return bind_device(parent, name, d->path, err);
	if (mknodat(parent, name, type | mode,
		    makedev((unsigned int)d->major, (unsigned int)d->minor)) < 0) {
		if (errno == EPERM && type != S_IFIFO) {
			blog_debug("device %s: mknod refused, binding the host's", d->path);
			return bind_device(parent, name, d->path, err);
		}
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "device %s: mknod",
				d->path);
	}
	if (fchownat(parent, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "device %s: chown",
				d->path);
	return 0;
}

static int make_device(int rootfd, const struct runtime_device *d, bool bind, struct berr **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *base = NULL;
	_cleanup_close_ int parent = -1;
	mode_t type;

	if (device_type(d, &type, err) < 0 || split_path(d->path, &dir, &base, err) < 0)
		return -1;
	parent = safepath_mkdir_p(rootfd, dir, 0755, err);
	if (parent < 0)
		return berr_prefix(err, "device %s", d->path);
	return make_node(parent, base, d, type, bind, err);
}

/* The spec's own mount of /dev, or NULL. */
static const struct runtime_mount *dev_mount(const struct runtime_spec *spec)
{
	const struct runtime_mount *found = NULL;

	for (size_t i = 0; i < spec->n_mounts; i++) {
		_cleanup_free_ char *clean = safepath_clean(spec->mounts[i].destination, NULL);

		if (clean != NULL && strcmp(clean, "/dev") == 0)
			found = &spec->mounts[i];
	}
	return found;
}

static bool spec_has_device(const struct runtime_spec *spec, const char *path)
{
	for (size_t i = 0; i < spec->n_devices; i++) {
		_cleanup_free_ char *clean = safepath_clean(spec->devices[i].path, NULL);

		if (clean != NULL && strcmp(clean, path) == 0)
			return true;
	}
	return false;
}

/* /dev/core only when the container has a proc with a kcore in it. */
static bool has_kcore(int rootfd)
{
	_cleanup_close_ int proc = safepath_open(rootfd, "/proc", O_PATH | O_DIRECTORY, NULL);
	_cleanup_close_ int kcore = -1;
	struct statfs sfs;

	if (proc < 0 || fstatfs(proc, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return false;
	kcore = safepath_open(rootfd, "/proc/kcore", O_PATH, NULL);
	return kcore >= 0;
}

/* In the /dev DEV: the symlinks programs expect, /dev/ptmx and the empty
 * /dev/console. */
static int make_links(int dev, struct berr **err)
{
	_cleanup_close_ int console = -1;

	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0 && errno != EEXIST)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"symlink /dev/%s", dev_links[i].name);

	/* Each container has its own devpts; its ptmx is the one to use. */
	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "remove /dev/ptmx");
	if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "symlink /dev/ptmx");

	/* The terminal's pty is bound here later. */
	console = openat(dev, "console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (console < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
				"create /dev/console");
	return 0;
}

/* The links of the fresh /dev of the rootfs ROOTFD, unless it has them
 * (PREMADE), and /dev/core, which depends on the container's /proc. */
static int finish_dev(int rootfd, bool premade, struct berr **err)
{
	_cleanup_close_ int dev = safepath_open(rootfd, "/dev", O_PATH | O_DIRECTORY, err);

	if (dev < 0)
		return -1;
	if (!premade && make_links(dev, err) < 0)
		return -1;
	if (has_kcore(rootfd) && symlinkat("/proc/kcore", dev, "core") < 0 && errno != EEXIST)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "symlink /dev/core");
	return 0;
}

int runtime_rootfs_setup_dev(int rootfd, const struct runtime_spec *spec,
			     const struct runtime_rootfs_opts *opts, bool premade,
			     struct berr **err)
{
	const struct runtime_mount *devm = dev_mount(spec);
	bool fresh = devm != NULL && !runtime_rootfs_mount_is_bind(devm);
	_cleanup_(umask_restore) __attribute__((unused)) mode_t old_umask = umask(0);

	/* A /dev bound from elsewhere is the caller's own: leave it alone. */
	if (devm != NULL && !fresh)
		return 0;
	if (fresh && !premade) {
		for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
			const struct runtime_device *d = &default_devices[i];

			if (spec_has_device(spec, d->path))
				continue;
			if (make_device(rootfd, d, opts->in_user_ns, err) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < spec->n_devices; i++)
		if (make_device(rootfd, &spec->devices[i], opts->in_user_ns, err) < 0)
			return -1;
	return fresh ? finish_dev(rootfd, premade, err) : 0;
}

/* ----- the /dev made ahead ----- */

/* A /dev made by runtime_rootfs_keep_dev(): a tmpfs mount attached
 * nowhere, with what a fresh /dev gets but /dev/core; -1 once taken or let
 * go. */
static int kept_dev = -1;

/* Whether the LEN bytes at NAME are WANT. */
static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncmp(name, want, len) == 0;
}

/* Whether PATH is at or under an entry of the /dev made ahead. */
static bool on_premade_entry(const char *path)
{
	static const char *const others[] = { "ptmx", "console" };
	_cleanup_free_ char *clean = safepath_clean(path, NULL);
	const char *name;
	size_t len;

	/* Without memory to tell, it might be. */
	if (clean == NULL)
		return true;
	if (!str_has_prefix(clean, "/dev/"))
		return false;
	name = clean + strlen("/dev/");
	len = strcspn(name, "/");
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
		if (name_is(name, len, default_devices[i].path + strlen("/dev/")))
			return true;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (name_is(name, len, dev_links[i].name))
			return true;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (name_is(name, len, others[i]))
			return true;
	return false;
}

/* Whether the /dev made ahead is what SPEC would get: one mount of /dev,
 * and no other mount nor device of SPEC on one of its entries, which would
 * find there what a fresh /dev does not have yet. */
static bool premade_dev_fits(const struct runtime_spec *spec)
{
	size_t n_dev = 0;

	for (size_t i = 0; i < spec->n_mounts; i++) {
		_cleanup_free_ char *clean = safepath_clean(spec->mounts[i].destination, NULL);

		if (clean == NULL)
			return false;
		if (strcmp(clean, "/dev") == 0)
			n_dev++;
		else if (on_premade_entry(clean))
			return false;
	}
	for (size_t i = 0; i < spec->n_devices; i++)
		if (on_premade_entry(spec->devices[i].path))
			return false;
	return n_dev == 1;
}

int runtime_rootfs_kept_dev_take(const struct runtime_spec *spec,
				 const struct runtime_rootfs_opts *opts)
{
	_cleanup_close_ int dev = steal_fd(&kept_dev);

	/* In a user namespace the nodes would be the host's, bound. */
	if (dev < 0 || opts->in_user_ns || !premade_dev_fits(spec))
		return -1;
	return steal_fd(&dev);
}

/* Sets each "key=value" or flag of the mount data DATA on the file system
 * context FSFD. */
static int fsconfig_data(int fsfd, const char *data, struct berr **err)
{
	_cleanup_free_ char *copy = strdup(data);
	char *p = copy;
	char *opt;

	if (copy == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mount data");
	while ((opt = strsep(&p, ",")) != NULL) {
		char *value = strchr(opt, '=');
		long rc;

		if (*opt == '\0')
			continue;
		if (value != NULL) {
			*value++ = '\0';
			rc = syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, opt, value, 0);
		} else {
			rc = syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (rc < 0)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"tmpfs: option %s", opt);
	}
	return 0;
}

/* A new tmpfs as the /dev mount RUNTIME_PREMADE_DEV_* describe, attached
 * nowhere. */
static int premade_dev_mount(struct berr **err)
{
	_cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	int dev;

	if (fsfd < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "tmpfs: fsopen");
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "tmpfs: source");
	if (fsconfig_data(fsfd, RUNTIME_PREMADE_DEV_DATA, err) < 0)
		return -1;
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "tmpfs: create");
	dev = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, RUNTIME_PREMADE_DEV_ATTRS);
	if (dev < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "tmpfs: fsmount");
	return dev;
}

/* Fills the /dev DEV as runtime_rootfs_setup_dev() does a fresh one, but
 * /dev/core. */
static int fill_premade_dev(int dev, struct berr **err)
{
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		const struct runtime_device *d = &default_devices[i];
		mode_t type;

		if (device_type(d, &type, err) < 0 ||
		    make_node(dev, d->path + strlen("/dev/"), d, type, false, err) < 0)
			return -1;
	}
	return make_links(dev, err);
}

void runtime_rootfs_keep_dev(void)
{
	_cleanup_(umask_restore) __attribute__((unused)) mode_t old_umask = umask(0);
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_close_ int dev = -1;

	if (kept_dev >= 0)
		return;
	dev = premade_dev_mount(&err);
	if (dev < 0 || fill_premade_dev(dev, &err) < 0) {
		blog_debug("the /dev made ahead: %s", err != NULL ? err->msg : "out of memory");
		return;
	}
	kept_dev = steal_fd(&dev);
}
