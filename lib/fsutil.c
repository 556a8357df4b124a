/* File and string helpers shared by every module. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "cleanup.h"

int fs_read_all_fd(int fd, size_t max, char **out, size_t *len, struct berr **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t used = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (cap - used < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nbuf;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= used)
				return berr_set(err, BERR_INVALID, 0,
						"content larger than %zu bytes", max);
			nbuf = realloc(buf, ncap + 1);
			if (nbuf == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "read");
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berr_set(err, BERR_INTERNAL, errno, "read");
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max)
			return berr_set(err, BERR_INVALID, 0, "content larger than %zu bytes", max);
	}
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "read");
	}
	buf[used] = '\0';
	*out = steal_ptr(&buf);
	if (len)
		*len = used;
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"open %s", path);
	if (fs_read_all_fd(fd, max, out, len, err) < 0)
		return berr_prefix(err, "%s", path);
	return 0;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_string_at(int dirfd, const char *name, const char *data, struct berr **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(data);
	ssize_t n;

	if (fd < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"open %s", name);
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_set(err, BERR_INTERNAL, errno, "write \"%s\" to %s", data, name);
	if ((size_t)n != len)
		return berr_set(err, BERR_INTERNAL, 0, "short write to %s", name);
	return 0;
}

int fs_write_string(const char *path, const char *data, struct berr **err)
{
	return fs_write_string_at(AT_FDCWD, path, data, err);
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode, bool sync,
			 struct berr **err)
{
	_cleanup_free_ char *tmp = str_printf("%s.tmp-%d", path, (int)getpid());
	_cleanup_close_ int fd = -1;

	if (tmp == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "write %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "create %s", tmp);
	if (fs_write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		int saved = errno;

		unlink(tmp);
		return berr_set(err, BERR_INTERNAL, saved, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return berr_set(err, BERR_INTERNAL, saved, "rename %s to %s", tmp, path);
	}
	return 0;
}

int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct berr **err)
{
	return write_replace(path, data, len, mode, true, err);
}

int fs_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
			  struct berr **err)
{
	return write_replace(path, data, len, mode, false, err);
}

int fs_mkdir_p(const char *path, mode_t mode, struct berr **err)
{
	_cleanup_free_ char *copy = NULL;
	char *p;

	/* Most paths lack only their last part, if anything: the walk from
	 * the root is for the rest. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return berr_set(err, BERR_INTERNAL, errno, "mkdir %s", path);
	copy = strdup(path);
	if (copy == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mkdir %s", path);
	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return berr_set(err, BERR_INTERNAL, errno, "mkdir %s", copy);
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

void fs_spread_subdirs(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int flags = 0;

	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 || (flags & FS_TOPDIR_FL))
		return;
	flags |= FS_TOPDIR_FL;
	/* A file system that will not take it places directories its way. */
	(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

static int remove_tree_at(int parent, const char *name, dev_t dev, struct berr **err)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	struct stat st;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berr_set(err, BERR_INTERNAL, errno, "stat %s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return berr_set(err, BERR_INTERNAL, errno, "unlink %s", name);
		return 0;
	}
	if (st.st_dev != dev)
		return berr_set(err, BERR_CONFLICT, EBUSY, "%s is a mount point", name);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", name);
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "opendir %s", name);
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_tree_at(dirfd(dir), de->d_name, dev, err) < 0)
			return berr_prefix(err, "%s", name);
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return berr_set(err, BERR_INTERNAL, errno, "rmdir %s", name);
	return 0;
}

int fs_remove_tree(const char *path, struct berr **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berr_set(err, BERR_INTERNAL, errno, "stat %s", path);
	return remove_tree_at(AT_FDCWD, path, st.st_dev, err);
}

bool fs_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *str_printf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}
