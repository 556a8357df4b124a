/* The container's /dev: the default device nodes every container has, the
 * devices of the spec, the symlinks programs expect (/dev/fd, /dev/stdin...,
 * /dev/ptmx) and the /dev/console target of the terminal.  Nodes are made
 * with mknod, or in a user namespace bind mounted from the host. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

static int make_device(int rootfd, const struct runtime_device *d, bool bind, struct berr **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *base = NULL;
	_cleanup_close_ int parent = -1;
	mode_t mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;
	mode_t type;

	switch (d->type) {
	case 'c':
	case 'u':
		type = S_IFCHR;
		break;
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		return berr_set(err, BERR_INVALID, 0, "device %s: unknown type '%c'", d->path,
				d->type);
	}
	if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
		return berr_set(err, BERR_INVALID, 0, "device %s: bad number %lld:%lld", d->path,
				(long long)d->major, (long long)d->minor);
	if (split_path(d->path, &dir, &base, err) < 0)
		return -1;
	parent = safepath_mkdir_p(rootfd, dir, 0755, err);
	if (parent < 0)
		return berr_prefix(err, "device %s", d->path);
	if (remove_existing(parent, base, d->path, err) < 0)
		return -1;

	/* A fifo needs no privilege; a device node does. */
	if (type != S_IFIFO && bind)
		return bind_device(parent, base, d->path, err);
	if (mknodat(parent, base, type | mode,
		    makedev((unsigned int)d->major, (unsigned int)d->minor)) < 0) {
		if (errno == EPERM && type != S_IFIFO) {
			blog_debug("device %s: mknod refused, binding the host's", d->path);
			return bind_device(parent, base, d->path, err);
		}
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "device %s: mknod",
				d->path);
	}
	if (fchownat(parent, base, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "device %s: chown",
				d->path);
	return 0;
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

static int make_links(int rootfd, struct berr **err)
{
	_cleanup_close_ int dev = safepath_open(rootfd, "/dev", O_PATH | O_DIRECTORY, err);
	_cleanup_close_ int console = -1;

	if (dev < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0 && errno != EEXIST)
			return berr_set(err, runtime_rootfs_errno_kind(errno), errno,
					"symlink /dev/%s", dev_links[i].name);
	if (has_kcore(rootfd) && symlinkat("/proc/kcore", dev, "core") < 0 && errno != EEXIST)
		return berr_set(err, runtime_rootfs_errno_kind(errno), errno, "symlink /dev/core");

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

int runtime_rootfs_setup_dev(int rootfd, const struct runtime_spec *spec,
			     const struct runtime_rootfs_opts *opts, struct berr **err)
{
	const struct runtime_mount *devm = dev_mount(spec);
	bool fresh = devm != NULL && !runtime_rootfs_mount_is_bind(devm);
	_cleanup_(umask_restore) __attribute__((unused)) mode_t old_umask = umask(0);

	/* A /dev bound from elsewhere is the caller's own: leave it alone. */
	if (devm != NULL && !fresh)
		return 0;
	if (fresh) {
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
	return fresh ? make_links(rootfd, err) : 0;
}
