/* Files in and out of a container, as `docker cp` asks for them: the stat
 * of a path, a tar of it, and a tar extracted into a directory.  Paths
 * are resolved inside the container's root as the container would see
 * them: symlinks followed in its scope, never out of it.  A running
 * container is reached through its init's root (/proc/PID/root), which
 * shows its volumes too; a stopped one gets its overlay mounted for the
 * time of the call, under its lock so that no start mounts it meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "image/layer.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/safepath.h"
#include "lib/timefmt.h"

/* The root of a container's file system, held for one call. */
struct ctr_root {
	int fd;
	int lock;     /* the container's lock while its overlay is ours */
	char *merged; /* where we mounted it, or NULL */
};

static void ctr_root_release(struct ctr_root *r)
{
	cleanup_closep(&r->fd);
	if (r->merged)
		image_unmount(r->merged, NULL);
	free(r->merged);
	cleanup_closep(&r->lock);
}

/* The root of running container C through its process, or -1 (errno
 * ENOENT) when that process is gone. */
static int open_process_root(const struct daemon_container *c)
{
	const json_t *state = json_object_get(c->doc, "State");
	int pid = (int)json_integer_value(json_object_get(state, "Pid"));
	char path[64];

	if (pid <= 0) {
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int ctr_root_open(struct daemon *d, struct daemon_container *c, struct ctr_root *r,
			 struct berr **err)
{
	_cleanup_strv_ char **lower = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *upper = NULL;
	_cleanup_free_ char *work = NULL;

	*r = (struct ctr_root){ .fd = -1, .lock = -1 };
	if (daemon_container_is_running(c)) {
		r->fd = open_process_root(c);
		if (r->fd >= 0)
			return 0;
		if (errno != ENOENT && errno != ESRCH)
			return berr_set(err, BERR_INTERNAL, errno, "container %s: open its root",
					c->id);
	}
	/* Stopped, or ending right now: its end is recorded under the lock. */
	r->lock = daemon_container_lock(d, c->id, err);
	if (r->lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	if (daemon_container_is_running(c)) {
		r->fd = open_process_root(c);
		if (r->fd < 0)
			return berr_set(err, BERR_INTERNAL, errno, "container %s: open its root",
					c->id);
		cleanup_closep(&r->lock);
		return 0;
	}
	dir = daemon_container_dir(d, c->id);
	upper = str_printf("%s/upper", dir ? dir : "");
	work = str_printf("%s/work", dir ? dir : "");
	r->merged = str_printf("%s/merged", dir ? dir : "");
	if (!dir || !upper || !work || !r->merged)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	if (daemon_container_lower_dirs(d, c, &lower, err) < 0 ||
	    image_mount_overlay_flags((const char *const *)lower, strv_length(lower), upper, work,
				      r->merged, daemon_container_mount_flags(c), err) < 0) {
		free(r->merged);
		r->merged = NULL;
		return berr_prefix(err, "container %s: root file system", c->id);
	}
	r->fd = open(r->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", r->merged);
	return 0;
}

static int not_found(const struct daemon_container *c, const char *path, struct berr **err)
{
	return berr_set(err, BERR_NOT_FOUND, 0, "Could not find the file %s in container %s", path,
			c->name + 1);
}

/* Appends component NAME (LEN bytes) to the clean absolute path *PATH. */
static int path_push(char **path, const char *name, size_t len)
{
	char *grown = str_printf("%s/%.*s", strcmp(*path, "/") == 0 ? "" : *path, (int)len, name);

	if (!grown)
		return -1;
	free(*path);
	*path = grown;
	return 0;
}

static void path_pop(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == path)
		path[1] = '\0';
	else if (slash)
		*slash = '\0';
}

/* PATH with every symlink on it followed inside ROOTFD, as the container
 * would resolve it (Docker's FollowSymlinkInScope): a clean absolute path;
 * from the first missing component on, the rest is kept as it is.  The
 * caller frees it. */
static char *resolve_in_root(int rootfd, const char *path, struct berr **err)
{
	_cleanup_free_ char *todo = strdup(path);
	_cleanup_free_ char *done = strdup("/");
	int links = 0;
	char *p;

	if (!todo || !done) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "resolve %s", path);
		return NULL;
	}
	p = todo;
	while (*p) {
		size_t len = strcspn(p, "/");
		_cleanup_close_ int fd = -1;
		_cleanup_berr_ struct berr *oerr = NULL;
		char target[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (len == 0 || (len == 1 && p[0] == '.')) {
			p += len + (p[len] == '/');
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			path_pop(done);
			p += len + (p[len] == '/');
			continue;
		}
		if (path_push(&done, p, len) < 0) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "resolve %s", path);
			return NULL;
		}
		p += len + (p[len] == '/');
		fd = safepath_open(rootfd, done, O_PATH | O_NOFOLLOW, &oerr);
		if (fd < 0 && oerr->kind == BERR_NOT_FOUND) {
			_cleanup_free_ char *rest = str_printf("%s/%s", done, p);

			return rest ? safepath_clean(rest, err) : NULL;
		}
		if (fd < 0) {
			berr_move(err, &oerr);
			return NULL;
		}
		if (fstat(fd, &st) < 0) {
			berr_set(err, BERR_INTERNAL, errno, "stat %s", done);
			return NULL;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++links > SAFEPATH_MAX_SYMLINKS) {
			berr_set(err, BERR_INVALID, ELOOP, "resolve %s", path);
			return NULL;
		}
		n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0) {
			berr_set(err, BERR_INTERNAL, errno, "readlink %s", done);
			return NULL;
		}
		target[n] = '\0';
		path_pop(done);
		if (target[0] == '/')
			strcpy(done, "/");
		{
			char *next = str_printf("%s/%s", target, p);

			if (!next) {
				berr_set(err, BERR_INTERNAL, ENOMEM, "resolve %s", path);
				return NULL;
			}
			free(todo);
			todo = next;
			p = todo;
		}
	}
	return steal_ptr(&done);
}

/* What PATH names in the container: the directory that holds it (DIRFD)
 * and its NAME there ("." for the directory itself), the name Docker
 * gives it (the last element of the path: "etc" for "/etc/", "." for
 * "/etc/.") and its absolute form. */
struct ctr_path {
	int dirfd;
	char *name;
	char *base;
	char *abs;
};

static void ctr_path_release(struct ctr_path *p)
{
	cleanup_closep(&p->dirfd);
	free(p->name);
	free(p->base);
	free(p->abs);
}

static int ctr_path_open(int rootfd, const struct daemon_container *c, const char *path,
			 struct ctr_path *out, struct berr **err)
{
	size_t len = strlen(path);
	bool dot = (len >= 2 && strcmp(path + len - 2, "/.") == 0) || strcmp(path, ".") == 0;
	bool slash = len > 0 && path[len - 1] == '/';
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *resolved = NULL;
	_cleanup_berr_ struct berr *oerr = NULL;
	bool whole;
	char *last;

	*out = (struct ctr_path){ .dirfd = -1 };
	out->abs = safepath_clean(path, err);
	if (!out->abs)
		return -1;
	last = strrchr(out->abs, '/');
	dir = strndup(out->abs, last == out->abs ? 1 : (size_t)(last - out->abs));
	out->base = strdup(dot ? "." : last[1] ? last + 1 : "/");
	if (!dir || !out->base)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "path %s", path);
	/* Only the directory is resolved: a symlink at the end is the object
	 * itself, unless the path goes on past it with "/" or "/.". */
	whole = dot || slash || !last[1];
	resolved = resolve_in_root(rootfd, whole ? out->abs : dir, err);
	if (!resolved)
		return -1;
	out->name = strdup(whole ? "." : last + 1);
	out->dirfd = safepath_open(rootfd, resolved, O_RDONLY | O_DIRECTORY, &oerr);
	if (out->dirfd < 0 && oerr->kind == BERR_NOT_FOUND)
		return not_found(c, path, err);
	if (out->dirfd < 0) {
		berr_move(err, &oerr);
		return berr_prefix(err, "%s", path);
	}
	if (!out->name)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "path %s", path);
	return 0;
}

/* Go's os.FileMode of a stat mode, which the stat header carries. */
static uint32_t go_file_mode(mode_t m)
{
	uint32_t g = m & 0777;

	switch (m & S_IFMT) {
	case S_IFDIR:
		g |= 1u << 31;
		break;
	case S_IFLNK:
		g |= 1u << 27;
		break;
	case S_IFBLK:
		g |= 1u << 26;
		break;
	case S_IFCHR:
		g |= 1u << 26 | 1u << 21;
		break;
	case S_IFIFO:
		g |= 1u << 25;
		break;
	case S_IFSOCK:
		g |= 1u << 24;
		break;
	}
	if (m & S_ISUID)
		g |= 1u << 23;
	if (m & S_ISGID)
		g |= 1u << 22;
	if (m & S_ISVTX)
		g |= 1u << 20;
	return g;
}

static int path_stat(int rootfd, const struct daemon_container *c, const char *path,
		     const struct ctr_path *p, json_t **out, struct berr **err)
{
	_cleanup_free_ char *link = NULL;
	char mtime[TIME_RFC3339_SIZE];
	struct stat st;

	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return not_found(c, path, err);
		return berr_set(err, BERR_INTERNAL, errno, "stat %s", path);
	}
	if (S_ISLNK(st.st_mode)) {
		link = resolve_in_root(rootfd, p->abs, err);
		if (!link)
			return -1;
	}
	time_format_rfc3339(&st.st_mtim, mtime);
	*out = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", p->base, "size",
			 (json_int_t)st.st_size, "mode", (json_int_t)go_file_mode(st.st_mode),
			 "mtime", mtime, "linkTarget", link ? link : "");
	if (!*out)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "stat %s", path);
	return 0;
}

int daemon_container_path_stat(struct daemon *d, struct daemon_container *c, const char *path,
			       json_t **out, struct berr **err)
{
	_cleanup_(ctr_root_release) struct ctr_root r = { .fd = -1, .lock = -1 };
	_cleanup_(ctr_path_release) struct ctr_path p = { .dirfd = -1 };

	if (ctr_root_open(d, c, &r, err) < 0 || ctr_path_open(r.fd, c, path, &p, err) < 0)
		return -1;
	return path_stat(r.fd, c, path, &p, out, err);
}

int daemon_container_archive_get(struct daemon *d, struct daemon_container *c, const char *path,
				 int fd, struct berr **err)
{
	_cleanup_(ctr_root_release) struct ctr_root r = { .fd = -1, .lock = -1 };
	_cleanup_(ctr_path_release) struct ctr_path p = { .dirfd = -1 };
	_cleanup_berr_ struct berr *perr = NULL;

	if (ctr_root_open(d, c, &r, err) < 0 || ctr_path_open(r.fd, c, path, &p, err) < 0)
		return -1;
	/* The root goes as "./", as its contents would. */
	if (image_tar_entry(p.dirfd, p.name, strcmp(p.base, "/") == 0 ? "." : p.base, fd, &perr) <
	    0) {
		if (perr->kind == BERR_NOT_FOUND && perr->sys_errno == ENOENT &&
		    strcmp(p.name, ".") != 0)
			return not_found(c, path, err);
		berr_move(err, &perr);
		return berr_prefix(err, "copy %s from container %s", path, c->name + 1);
	}
	return 0;
}

/* Whether the container path PATH (clean, absolute) is under mount
 * point DEST. */
static bool path_under(const char *path, const char *dest)
{
	size_t n = strlen(dest);

	if (strcmp(dest, "/") == 0)
		return true;
	return strncmp(path, dest, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Docker's refusals of a copy into a read-only place: a read-only volume
 * at PATH, or a read-only root file system outside any volume. */
static int check_writable(const struct daemon_container *c, const char *path, struct berr **err)
{
	const json_t *hc = json_object_get(c->doc, "HostConfig");
	const json_t *mounts = json_object_get(c->doc, "Mounts");
	const json_t *m, *best = NULL;
	size_t i, best_len = 0;

	json_array_foreach (mounts, i, m) {
		const char *dest = json_string_value(json_object_get(m, "Destination"));

		if (dest && path_under(path, dest) && strlen(dest) >= best_len) {
			best = m;
			best_len = strlen(dest);
		}
	}
	if (best && !json_is_true(json_object_get(best, "RW")))
		return berr_set(err, BERR_FORBIDDEN, 0, "mounted volume is marked read-only");
	if (!best && json_is_true(json_object_get(hc, "ReadonlyRootfs")))
		return berr_set(err, BERR_FORBIDDEN, 0, "container rootfs is marked read-only");
	return 0;
}

int daemon_container_archive_put(struct daemon *d, struct daemon_container *c, const char *path,
				 int fd, bool no_overwrite_dir_non_dir, struct berr **err)
{
	_cleanup_(ctr_root_release) struct ctr_root r = { .fd = -1, .lock = -1 };
	_cleanup_free_ char *clean = NULL;
	_cleanup_free_ char *resolved = NULL;
	_cleanup_close_ int dirfd = -1;
	_cleanup_berr_ struct berr *oerr = NULL;
	unsigned flags = IMAGE_EXTRACT_PLAIN;

	clean = safepath_clean(path, err);
	if (!clean || ctr_root_open(d, c, &r, err) < 0)
		return -1;
	resolved = resolve_in_root(r.fd, clean, err);
	if (!resolved)
		return -1;
	dirfd = safepath_open(r.fd, resolved, O_RDONLY | O_DIRECTORY, &oerr);
	if (dirfd < 0 && oerr->kind == BERR_NOT_FOUND)
		return not_found(c, path, err);
	if (dirfd < 0 && oerr->sys_errno == ENOTDIR)
		return berr_set(err, BERR_INVALID, 0, "extraction point is not a directory");
	if (dirfd < 0) {
		berr_move(err, &oerr);
		return berr_prefix(err, "%s", path);
	}
	if (check_writable(c, resolved, err) < 0)
		return -1;
	if (no_overwrite_dir_non_dir)
		flags |= IMAGE_EXTRACT_NO_OVERWRITE_DIR_NON_DIR;
	if (image_tar_extract(fd, dirfd, flags, err) < 0) {
		if ((*err)->sys_errno == EROFS)
			(*err)->kind = BERR_FORBIDDEN;
		return berr_prefix(err, "copy to %s in container %s", path, c->name + 1);
	}
	return 0;
}
