/* Resolution of paths inside a root directory.  openat2(2) with
 * RESOLVE_IN_ROOT does it in the kernel; where that is missing, a walk opens
 * one component at a time with O_PATH|O_NOFOLLOW, reads symlinks itself and
 * keeps the chain of directories from the root, so that ".." pops that chain
 * and can never leave the root, even when a directory is moved meanwhile. */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "cleanup.h"
#include "fsutil.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* How often an open is tried again when a rename raced with it. */
#define RACE_RETRIES 16

/* Cleared for good when the kernel answers ENOSYS. */
static bool use_openat2 = true;

void safepath_set_openat2(bool enabled)
{
	use_openat2 = enabled;
}

static enum berr_kind kind_of_errno(int e)
{
	switch (e) {
	case ENOENT:
		return BERR_NOT_FOUND;
	case ENOTDIR:
	case ELOOP:
	case EINVAL:
	case ENAMETOOLONG:
		return BERR_INVALID;
	case EACCES:
	case EPERM:
	case EXDEV:
		return BERR_FORBIDDEN;
	default:
		return BERR_INTERNAL;
	}
}

/* openat2 answers these when it cannot serve the call at all: too old a
 * kernel, a seccomp filter that does not know it, a smaller struct. */
static bool openat2_unusable(int e)
{
	return e == ENOSYS || e == EPERM || e == E2BIG;
}

/* Returns the new fd, or -1 with errno set. */
static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	/* RESOLVE_IN_ROOT fails with EAGAIN when a rename elsewhere in the
	 * tree might have let ".." escape; trying again is the remedy. */
	for (int i = 0; i < RACE_RETRIES; i++) {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0 && errno == ENOSYS)
		use_openat2 = false;
	return fd;
}

enum walk_mode {
	WALK_OPEN,  /* every component must exist */
	WALK_MKDIR, /* missing components become directories */
	WALK_FILE,  /* ... and a missing last one an empty file */
};

/* One resolution in progress: the chain of directories from the root (fds
 * opened O_PATH) and, once the walk is over, the object it ended on at the
 * top.  NAME is the last component pushed, for reopening that object in its
 * parent; it is empty when the walk ended at a directory it reached through
 * "..", or at the root. */
struct walk {
	int *fds;
	size_t n, cap;
	char name[NAME_MAX + 1];
};

static void walk_clear(struct walk *w)
{
	while (w->n > 0)
		close(w->fds[--w->n]);
	free(w->fds);
	w->fds = NULL;
	w->cap = 0;
}

/* Takes FD; returns -1 with errno on ENOMEM (FD closed). */
static int walk_push(struct walk *w, int fd)
{
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		int *nfds = realloc(w->fds, ncap * sizeof(*nfds));

		if (nfds == NULL) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		w->fds = nfds;
		w->cap = ncap;
	}
	w->fds[w->n++] = fd;
	return 0;
}

static void walk_pop_to(struct walk *w, size_t n)
{
	while (w->n > n)
		close(w->fds[--w->n]);
}

static int walk_top(const struct walk *w)
{
	return w->fds[w->n - 1];
}

/* Makes the missing component NAME in the directory CUR as the mode asks;
 * errors are set on ERR.  A component made by someone else meanwhile is
 * fine: the caller opens whatever is there. */
static int create_missing(int cur, const char *name, enum walk_mode mode, bool last, mode_t perm,
			  const char *path, struct berr **err)
{
	int fd;

	if (mode == WALK_MKDIR || !last) {
		if (mkdirat(cur, name, mode == WALK_MKDIR ? perm : 0755) < 0 && errno != EEXIST)
			return berr_set(err, kind_of_errno(errno), errno, "%s: mkdir %s", path,
					name);
		return 0;
	}
	fd = openat(cur, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, perm);
	if (fd < 0 && errno != EEXIST)
		return berr_set(err, kind_of_errno(errno), errno, "%s: create %s", path, name);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Replaces *REST (positioned at P) with TARGET followed by what is left. */
static int splice_link(char **rest, char **p, const char *target)
{
	char *joined = **p ? str_printf("%s/%s", target, *p) : strdup(target);

	if (joined == NULL)
		return -1;
	free(*rest);
	*rest = joined;
	*p = joined;
	return 0;
}

/* Resolves PATH inside ROOTFD one component at a time.  On success W holds
 * the chain and its top is the object PATH names; a final symlink is kept
 * as it is when FOLLOW_LAST is false.  Magic links of /proc are read as
 * plain text like any other symlink, so they too stay inside the root. */
static int walk_path(int rootfd, const char *path, enum walk_mode mode, mode_t perm,
		     bool follow_last, struct walk *w, struct berr **err)
{
	_cleanup_free_ char *rest = strdup(path);
	char name[NAME_MAX + 1];
	int links = 0;
	char *p = rest;
	int fd;

	if (rest == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "%s", path);
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, kind_of_errno(errno), errno, "%s: open the root", path);
	if (walk_push(w, fd) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "%s", path);
	w->name[0] = '\0';

	for (;;) {
		struct stat st;
		size_t len;
		bool last;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX)
			return berr_set(err, BERR_INVALID, ENAMETOOLONG, "%s", path);
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		while (*p == '/')
			p++;
		last = *p == '\0';

		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			/* The root is its own parent, as in the kernel. */
			if (w->n > 1)
				walk_pop_to(w, w->n - 1);
			w->name[0] = '\0';
			continue;
		}

		fd = openat(walk_top(w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && mode != WALK_OPEN) {
			if (create_missing(walk_top(w), name, mode, last, perm, path, err) < 0)
				return -1;
			fd = openat(walk_top(w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			return berr_set(err, kind_of_errno(errno), errno, "%s: open %s", path,
					name);
		if (fstat(fd, &st) < 0) {
			int e = errno;

			close(fd);
			return berr_set(err, BERR_INTERNAL, e, "%s: stat %s", path, name);
		}

		if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target));
			int e = errno;

			close(fd);
			if (n < 0)
				return berr_set(err, kind_of_errno(e), e, "%s: readlink %s", path,
						name);
			if (n == 0)
				return berr_set(err, BERR_NOT_FOUND, ENOENT, "%s: empty symlink %s",
						path, name);
			if ((size_t)n >= sizeof(target))
				return berr_set(err, BERR_INVALID, ENAMETOOLONG, "%s: symlink %s",
						path, name);
			if (++links > SAFEPATH_MAX_SYMLINKS)
				return berr_set(err, BERR_INVALID, ELOOP, "%s", path);
			target[n] = '\0';
			/* An absolute target starts again at the root, never at
			 * the host's "/". */
			if (target[0] == '/')
				walk_pop_to(w, 1);
			if (splice_link(&rest, &p, target) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "%s", path);
			w->name[0] = '\0';
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			return berr_set(err, BERR_INVALID, ENOTDIR, "%s: %s", path, name);
		}
		if (walk_push(w, fd) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "%s", path);
		memcpy(w->name, name, len + 1);
	}
	return 0;
}

/* Hands the object at the top of W to the caller. */
static int walk_steal_top(struct walk *w)
{
	return w->fds[--w->n];
}

/* Opens the object at the top of W again with FLAGS (not O_PATH) and checks
 * that it is still the same one.  Returns the fd, -1 with errno, or -2 when
 * the tree changed under the walk and it should be done again. */
static int walk_reopen(const struct walk *w, int flags)
{
	struct stat want, got;
	int fd;

	if (fstat(walk_top(w), &want) < 0)
		return -1;
	if (S_ISDIR(want.st_mode))
		fd = openat(walk_top(w), ".", flags | O_CLOEXEC);
	else
		fd = openat(w->fds[w->n - 2], w->name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return (errno == ENOENT || errno == ELOOP) ? -2 : -1;
	if (fstat(fd, &got) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		close(fd);
		return -2;
	}
	return fd;
}

static int walk_open(int rootfd, const char *path, int flags, struct berr **err)
{
	for (int i = 0; i < RACE_RETRIES; i++) {
		_cleanup_(walk_clear) struct walk w = { 0 };
		struct stat st;
		int fd;

		if (walk_path(rootfd, path, WALK_OPEN, 0, !(flags & O_NOFOLLOW), &w, err) < 0)
			return -1;
		if (fstat(walk_top(&w), &st) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "stat %s", path);
		if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))
			return berr_set(err, BERR_INVALID, ENOTDIR, "open %s", path);
		if (flags & O_PATH)
			return walk_steal_top(&w);
		fd = walk_reopen(&w, flags);
		if (fd >= 0)
			return fd;
		if (fd == -1)
			return berr_set(err, kind_of_errno(errno), errno, "open %s", path);
	}
	return berr_set(err, BERR_CONFLICT, EAGAIN, "open %s: the tree keeps changing", path);
}

int safepath_open(int rootfd, const char *path, int flags, struct berr **err)
{
	/* O_TMPFILE includes the bits of O_DIRECTORY. */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return berr_set(err, BERR_INVALID, EINVAL, "open %s: creating flags", path);
	if (*path == '\0')
		path = "/";
	if (use_openat2) {
		int fd = openat2_in_root(rootfd, path, flags);

		if (fd >= 0)
			return fd;
		if (!openat2_unusable(errno))
			return berr_set(err, kind_of_errno(errno), errno, "open %s", path);
	}
	return walk_open(rootfd, path, flags, err);
}

/* The walk for safepath_mkdir_p() and safepath_create_file(); an existing
 * object is found by openat2 first when the kernel has it. */
static int open_or_create(int rootfd, const char *path, enum walk_mode mode, mode_t perm,
			  struct berr **err)
{
	_cleanup_(walk_clear) struct walk w = { 0 };
	int want_dir = mode == WALK_MKDIR ? O_DIRECTORY : 0;
	struct stat st;

	if (*path == '\0')
		path = "/";
	if (use_openat2) {
		int fd = openat2_in_root(rootfd, path, O_PATH | want_dir);

		if (fd >= 0)
			return fd;
		if (errno != ENOENT && !openat2_unusable(errno))
			return berr_set(err, kind_of_errno(errno), errno, "open %s", path);
	}
	if (walk_path(rootfd, path, mode, perm, true, &w, err) < 0)
		return -1;
	if (want_dir) {
		if (fstat(walk_top(&w), &st) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "stat %s", path);
		if (!S_ISDIR(st.st_mode))
			return berr_set(err, BERR_INVALID, ENOTDIR, "mkdir %s", path);
	}
	return walk_steal_top(&w);
}

int safepath_mkdir_p(int rootfd, const char *path, mode_t mode, struct berr **err)
{
	return open_or_create(rootfd, path, WALK_MKDIR, mode, err);
}

int safepath_create_file(int rootfd, const char *path, mode_t mode, struct berr **err)
{
	return open_or_create(rootfd, path, WALK_FILE, mode, err);
}

int safepath_fd_path(int fd, char *buf, size_t size, struct berr **err)
{
	int n;

	if (fd < 0)
		return berr_set(err, BERR_INVALID, EBADF, "fd path of %d", fd);
	n = snprintf(buf, size, "/proc/self/fd/%d", fd);
	if (n < 0 || (size_t)n >= size)
		return berr_set(err, BERR_INVALID, ENAMETOOLONG, "fd path of %d", fd);
	return 0;
}

char *safepath_clean(const char *path, struct berr **err)
{
	size_t len = strlen(path);
	char *out = malloc(len + 2);
	size_t o = 0;
	const char *p = path;

	if (out == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "clean %s", path);
		return NULL;
	}
	out[o++] = '/';
	for (;;) {
		size_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
		} else {
			if (o > 1)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
	return out;
}
