/* Files in and out of a container, as `docker cp` asks for them: the stat
 * of a path, a tar of it, and a tar extracted into a directory.  Paths
 * are resolved inside the container's root as the container would see
 * them: symlinks followed in its scope, never out of it.  A running
 * container is reached through its init's root (/proc/PID/root), which
 * shows its volumes too.  For a stopped one, the copying thread, in a
 * mount namespace of its own, mounts its overlay and binds its volumes and
 * its hostname, hosts and resolv.conf where the container has them (as
 * Docker mounts them for the copy), under the container's lock so that no
 * start mounts it meanwhile; the mounts end with that namespace, whatever
 * happens to the copy or the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "image/layer.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/safepath.h"
#include "lib/timefmt.h"

/* One call's work in the container's root ROOTFD. */
struct ctr_op {
	int (*fn)(int rootfd, struct ctr_op *op, struct berr **err);
	const struct daemon_container *c;
	const char *path;
	int fd;		/* the tar's (borrowed), or -1 */
	unsigned flags; /* enum daemon_archive_flags */
	json_t *result; /* a stat's, owned */
};

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

/* What a stopped container's copy mounts: its overlay, then each mount
 * point, parents before what they hold. */
struct ctr_mounts {
	char **lower;
	char *upper, *work, *merged;
	unsigned flags;
	json_t *points; /* [{"Source", "Destination", "RW"}] */
};

static void ctr_mounts_release(struct ctr_mounts *m)
{
	strv_free(m->lower);
	free(m->upper);
	free(m->work);
	free(m->merged);
	json_decref(m->points);
}

static size_t path_depth(const json_t *point)
{
	const char *p = json_string_value(json_object_get(point, "Destination"));
	size_t n = 0;

	for (; p && *p; p++)
		n += *p == '/';
	return n;
}

static int by_depth(const void *a, const void *b)
{
	size_t da = path_depth(*(json_t *const *)a), db = path_depth(*(json_t *const *)b);

	return da < db ? -1 : da > db;
}

/* The files of the container's directory DIR bound over the image's, as
 * at its start, unless a mount of its own takes the place. */
static const char *const bound_files[][2] = {
	{ "/etc/hostname", DAEMON_FILE_HOSTNAME },
	{ "/etc/hosts", DAEMON_FILE_HOSTS },
	{ "/etc/resolv.conf", DAEMON_FILE_RESOLV },
};

static bool has_point(const json_t *points, const char *dst)
{
	size_t i;
	json_t *m;

	json_array_foreach (points, i, m)
		if (strcmp(json_string_value(json_object_get(m, "Destination")) ?: "", dst) == 0)
			return true;
	return false;
}

static int ctr_mounts_prepare(struct daemon *d, const struct daemon_container *c,
			      struct ctr_mounts *m, struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_dir(d, c->id);
	_cleanup_free_ json_t **sorted = NULL;
	const json_t *own = json_object_get(c->doc, "Mounts");
	size_t i, n = 0;
	json_t *p;

	*m = (struct ctr_mounts){ .flags = daemon_container_mount_flags(c) };
	m->points = json_array();
	if (!dir || !m->points || !(m->upper = str_printf("%s/upper", dir)) ||
	    !(m->work = str_printf("%s/work", dir)) || !(m->merged = str_printf("%s/merged", dir)))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	if (daemon_container_lower_dirs(d, c, &m->lower, err) < 0)
		return berr_prefix(err, "container %s: root file system", c->id);
	sorted = calloc(json_array_size(own) + 1, sizeof(*sorted));
	if (!sorted)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	/* A tmpfs has nothing in it while the container is stopped. */
	json_array_foreach (own, i, p)
		if (*(json_string_value(json_object_get(p, "Source")) ?: "") &&
		    json_string_value(json_object_get(p, "Destination")))
			sorted[n++] = p;
	qsort(sorted, n, sizeof(*sorted), by_depth);
	for (i = 0; i < sizeof(bound_files) / sizeof(bound_files[0]); i++) {
		_cleanup_free_ char *src = str_printf("%s/%s", dir, bound_files[i][1]);

		if (!src)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
		if (!has_point(own, bound_files[i][0]) && fs_exists(src) &&
		    json_array_append_new(m->points,
					  json_pack("{s:s, s:s, s:b}", "Source", src, "Destination",
						    bound_files[i][0], "RW", 1)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	}
	for (i = 0; i < n; i++)
		if (json_array_append(m->points, sorted[i]) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	return 0;
}

/* Binds host path SRC at DST inside ROOTFD (made when missing, as a
 * directory or a file like SRC), read-only when RO. */
static int bind_point(int rootfd, const char *src, const char *dst, bool ro, struct berr **err)
{
	_cleanup_close_ int target = -1;
	_cleanup_close_ int tree = -1;
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	struct stat st;

	if (stat(src, &st) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "stat %s", src);
	target = S_ISDIR(st.st_mode) ? safepath_mkdir_p(rootfd, dst, 0755, err)
				     : safepath_create_file(rootfd, dst, 0755, err);
	if (target < 0)
		return berr_prefix(err, "mount point %s", dst);
	tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return berr_set(err, BERR_INTERNAL, errno, "bind %s", src);
	if (ro && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "bind %s read-only", src);
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "bind %s on %s", src, dst);
	return 0;
}

/* In the mount namespace of this thread alone: mounts M and runs OP in
 * it.  What is mounted goes with the namespace. */
static int run_in_namespace(const struct ctr_mounts *m, struct ctr_op *op, struct berr **err)
{
	_cleanup_close_ int rootfd = -1;
	size_t i;
	json_t *p;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy: make mounts private");
	if (image_mount_overlay_flags((const char *const *)m->lower, strv_length(m->lower),
				      m->upper, m->work, m->merged, m->flags, err) < 0)
		return berr_prefix(err, "container %s: root file system", op->c->id);
	rootfd = open(m->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", m->merged);
	json_array_foreach (m->points, i, p)
		if (bind_point(rootfd, json_string_value(json_object_get(p, "Source")),
			       json_string_value(json_object_get(p, "Destination")),
			       !json_is_true(json_object_get(p, "RW")), err) < 0)
			return -1;
	return op->fn(rootfd, op, err);
}

/* OP in stopped container C, whose lock the caller holds.  This thread
 * (of the caller's pool) moves alone into a mount namespace of its own for
 * the time of OP, and comes back: the namespace, with every mount in it,
 * ends then, and the host's mount table never sees them.  A child process
 * would do it as well, but a fork of the threaded daemon may inherit a
 * lock another thread holds (the sanitizers' allocator's). */
static int run_mounted(struct daemon *d, struct daemon_container *c, struct ctr_op *op,
		       struct berr **err)
{
	_cleanup_(ctr_mounts_release) struct ctr_mounts m = { 0 };
	_cleanup_free_ char *dir = daemon_container_dir(d, c->id);
	_cleanup_close_ int host_ns = -1;
	_cleanup_close_ int cwd = -1;
	int r;

	if (ctr_mounts_prepare(d, c, &m, err) < 0)
		return -1;
	/* A root file system mounted ahead (see daemon_tidy()) would share
	 * the upper dir with the one mounted here, and miss what OP
	 * changes: its start mounts a fresh one. */
	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	image_container_premount_drop(dir);
	host_ns = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (host_ns < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy: open the mount namespace");
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy: open the working directory");
	/* Implies CLONE_FS: this thread gets its own root, working directory
	 * and umask, copies of the process's. */
	if (unshare(CLONE_NEWNS) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy: new mount namespace");
	r = run_in_namespace(&m, op, err);
	/* Joining a namespace moves to its root: the working directory is
	 * set back as well. */
	if (setns(host_ns, CLONE_NEWNS) < 0 || fchdir(cwd) < 0) {
		/* This thread serves other jobs, which must see the host's
		 * mounts (a start mounting a root file system): better no
		 * daemon than one that mounts where nobody looks.  Its
		 * containers outlive it. */
		blog_error("copy: back to the host's mount namespace: %s", strerror(errno));
		abort();
	}
	return r;
}

/* Runs OP in C's root: a running container's through its process, a
 * stopped one's mounted for the time of OP. */
static int ctr_op_run(struct daemon *d, struct daemon_container *c, struct ctr_op *op,
		      struct berr **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_close_ int rootfd = -1;

	op->c = c;
	if (daemon_container_is_running(c)) {
		rootfd = open_process_root(c);
		if (rootfd >= 0)
			return op->fn(rootfd, op, err);
		if (errno != ENOENT && errno != ESRCH)
			return berr_set(err, BERR_INTERNAL, errno, "container %s: open its root",
					c->id);
	}
	/* Stopped, or ending right now: its end is recorded under the lock. */
	lock = daemon_container_lock(d, c->id, err);
	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	if (daemon_container_is_running(c)) {
		rootfd = open_process_root(c);
		if (rootfd < 0)
			return berr_set(err, BERR_INTERNAL, errno, "container %s: open its root",
					c->id);
		close(steal_fd(&lock));
		return op->fn(rootfd, op, err);
	}
	return run_mounted(d, c, op, err);
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

static int stat_op(int rootfd, struct ctr_op *op, struct berr **err)
{
	_cleanup_(ctr_path_release) struct ctr_path p = { .dirfd = -1 };

	if (ctr_path_open(rootfd, op->c, op->path, &p, err) < 0)
		return -1;
	return path_stat(rootfd, op->c, op->path, &p, &op->result, err);
}

int daemon_container_path_stat(struct daemon *d, struct daemon_container *c, const char *path,
			       json_t **out, struct berr **err)
{
	struct ctr_op op = { .fn = stat_op, .path = path, .fd = -1 };

	if (ctr_op_run(d, c, &op, err) < 0) {
		json_decref(op.result);
		return -1;
	}
	if (!op.result)
		return berr_set(err, BERR_INTERNAL, 0, "stat %s: no answer", path);
	*out = op.result;
	return 0;
}

static int get_op(int rootfd, struct ctr_op *op, struct berr **err)
{
	_cleanup_(ctr_path_release) struct ctr_path p = { .dirfd = -1 };
	_cleanup_berr_ struct berr *perr = NULL;
	const struct daemon_container *c = op->c;

	if (ctr_path_open(rootfd, c, op->path, &p, err) < 0)
		return -1;
	/* The root goes as "./", as its contents would. */
	if (image_tar_entry(p.dirfd, p.name, strcmp(p.base, "/") == 0 ? "." : p.base, op->fd,
			    &perr) < 0) {
		if (perr->kind == BERR_NOT_FOUND && perr->sys_errno == ENOENT &&
		    strcmp(p.name, ".") != 0)
			return not_found(c, op->path, err);
		berr_move(err, &perr);
		return berr_prefix(err, "copy %s from container %s", op->path, c->name + 1);
	}
	return 0;
}

int daemon_container_archive_get(struct daemon *d, struct daemon_container *c, const char *path,
				 int fd, struct berr **err)
{
	struct ctr_op op = { .fn = get_op, .path = path, .fd = fd };

	return ctr_op_run(d, c, &op, err);
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

/* The owner of what `docker cp -a` extracts into C (rooted at ROOTFD):
 * its Config.User resolved with its own /etc/passwd and /etc/group; false
 * without a user, where Docker keeps the archive's owners. */
static int copy_owner(int rootfd, const struct daemon_container *c, bool *set, uid_t *uid,
		      gid_t *gid, struct berr **err)
{
	const char *user =
		json_string_value(json_object_get(json_object_get(c->doc, "Config"), "User"));
	struct daemon_user u = { 0 };

	*set = false;
	if (!user || !*user)
		return 0;
	if (daemon_user_resolve(rootfd, user, &u, err) < 0)
		return -1;
	*set = true;
	*uid = u.uid;
	*gid = u.gid;
	daemon_user_clear(&u);
	return 0;
}

static int put_op(int rootfd, struct ctr_op *op, struct berr **err)
{
	const struct daemon_container *c = op->c;
	_cleanup_free_ char *clean = NULL;
	_cleanup_free_ char *resolved = NULL;
	_cleanup_close_ int dirfd = -1;
	_cleanup_berr_ struct berr *oerr = NULL;
	unsigned flags = IMAGE_EXTRACT_PLAIN;
	bool owned = false;
	uid_t uid = 0;
	gid_t gid = 0;
	int r;

	clean = safepath_clean(op->path, err);
	if (!clean)
		return -1;
	resolved = resolve_in_root(rootfd, clean, err);
	if (!resolved)
		return -1;
	dirfd = safepath_open(rootfd, resolved, O_RDONLY | O_DIRECTORY, &oerr);
	if (dirfd < 0 && oerr->kind == BERR_NOT_FOUND)
		return not_found(c, op->path, err);
	if (dirfd < 0 && oerr->sys_errno == ENOTDIR)
		return berr_set(err, BERR_INVALID, 0, "extraction point is not a directory");
	if (dirfd < 0) {
		berr_move(err, &oerr);
		return berr_prefix(err, "%s", op->path);
	}
	if (check_writable(c, resolved, err) < 0)
		return -1;
	if ((op->flags & DAEMON_ARCHIVE_COPY_UIDGID) &&
	    copy_owner(rootfd, c, &owned, &uid, &gid, err) < 0)
		return -1;
	if (op->flags & DAEMON_ARCHIVE_NO_OVERWRITE_DIR_NON_DIR)
		flags |= IMAGE_EXTRACT_NO_OVERWRITE_DIR_NON_DIR;
	r = owned ? image_tar_extract_owned(op->fd, dirfd, flags, uid, gid, err)
		  : image_tar_extract(op->fd, dirfd, flags, err);
	if (r < 0) {
		if ((*err)->sys_errno == EROFS)
			(*err)->kind = BERR_FORBIDDEN;
		return berr_prefix(err, "copy to %s in container %s", op->path, c->name + 1);
	}
	return 0;
}

int daemon_container_archive_put(struct daemon *d, struct daemon_container *c, const char *path,
				 int fd, unsigned flags, struct berr **err)
{
	struct ctr_op op = { .fn = put_op, .path = path, .fd = fd, .flags = flags };

	return ctr_op_run(d, c, &op, err);
}
