/* Layer unpacking with libarchive.  One archive object only decompresses
 * (any filter, raw format) and feeds a second one that parses the tar, so
 * the uncompressed bytes pass through one place where the DiffID is
 * hashed.  Entries are made with *at() calls relative to directory fds of
 * the layer, opened with O_NOFOLLOW, so nothing is ever written through a
 * symlink and no name can lead out of the layer. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/layer.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/safepath.h"

#define LAYER_CHUNK (64 * 1024)

/* Docker/OCI whiteout names (image-spec layer.md, "Whiteouts"). */
#define WHITEOUT_PREFIX	 ".wh."
#define WHITEOUT_META	 ".wh..wh."
#define WHITEOUT_OPAQUE	 ".wh..wh..opq"
#define OVERLAY_OPAQUE_X "trusted.overlay.opaque"

/* A directory whose times are set at the end, once nothing is added to it. */
struct dir_time {
	char *path; /* clean, relative to the layer; "" for its root */
	struct timespec ts[2];
};

struct unpack {
	struct archive *raw; /* decompresses */
	struct archive *tar; /* parses what raw gives */
	struct digest_ctx *ctx;
	uint64_t size;
	uint64_t content_size; /* regular files and symlink targets written */
	bool raw_eof;
	char *buf;	       /* LAYER_CHUNK bytes for raw -> tar */
	char *data;	       /* LAYER_CHUNK bytes for file contents */
	const char *root_path; /* the layer being built */
	int root_fd;
	/* The parent directory of the last entry, kept open since most entries
	 * follow a sibling; anything removed from the layer drops it. */
	char *last_parent;
	int last_parent_fd;
	struct dir_time *dirs;
	size_t n_dirs, cap_dirs;
	unsigned flags; /* enum image_extract_flags */
	/* Every entry's owner, whatever the archive says (docker cp -a). */
	bool chown;
	uid_t uid;
	gid_t gid;
};

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* Takes the next decompressed bytes from the raw reader and hashes them;
 * returns their count, 0 at the end, -1 on error (message in raw). */
static la_ssize_t pull(struct unpack *u)
{
	la_ssize_t n;

	if (u->raw_eof)
		return 0;
	n = archive_read_data(u->raw, u->buf, LAYER_CHUNK);
	if (n < 0)
		return -1;
	if (n == 0)
		u->raw_eof = true;
	digest_update(u->ctx, u->buf, (size_t)n);
	u->size += (uint64_t)n;
	return n;
}

static const char *archive_msg(struct archive *a)
{
	const char *msg = archive_error_string(a);

	return msg ? msg : "truncated or malformed archive";
}

static la_ssize_t tar_read(struct archive *a, void *opaque, const void **buf)
{
	struct unpack *u = opaque;
	la_ssize_t n = pull(u);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", archive_msg(u->raw));
		return -1;
	}
	*buf = u->buf;
	return n;
}

int image_entry_name_clean(const char *what, const char *name, char **out, struct berr **err)
{
	_cleanup_free_ char *s = NULL;
	size_t len = 0;
	const char *p = name;

	if (name == NULL)
		return berr_set(err, BERR_INVALID, 0, "%s without a name", what);
	if (strlen(name) >= PATH_MAX)
		return berr_set(err, BERR_INVALID, 0, "%s name is too long", what);
	if (name[0] == '/')
		return berr_set(err, BERR_INVALID, 0, "%s \"%s\": absolute path", what, name);
	s = malloc(strlen(name) + 1);
	if (s == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "allocate entry name");
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return berr_set(err, BERR_INVALID, 0, "%s \"%s\": path contains \"..\"",
					what, name);
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (len > 0)
				s[len++] = '/';
			memcpy(s + len, p, n);
			len += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	s[len] = '\0';
	*out = steal_ptr(&s);
	return 0;
}

/* Opens the directory that holds PATH (a clean name, not "") inside the
 * layer and points *base at its last component.  Missing directories are
 * made when CREATE is set; a symlink or a non-directory on the way is
 * refused, since writing under it would write through it.  Returns a new
 * fd.  PATH is modified (cut at its last slash while walking). */
static void forget_parent(struct unpack *u)
{
	cleanup_closep(&u->last_parent_fd);
	u->last_parent_fd = -1;
	free(u->last_parent);
	u->last_parent = NULL;
}

static void remember_parent(struct unpack *u, const char *path, size_t len, int dir)
{
	forget_parent(u);
	u->last_parent = strndup(path, len);
	u->last_parent_fd = u->last_parent ? fcntl(dir, F_DUPFD_CLOEXEC, 0) : -1;
	if (u->last_parent_fd < 0)
		forget_parent(u);
}

static int open_parent(struct unpack *u, const char *entry, char *path, bool create,
		       const char **base, struct berr **err)
{
	_cleanup_close_ int dir = -1;
	const char *last = strrchr(path, '/');
	size_t parent_len = last ? (size_t)(last - path) : 0;
	char *p = path;
	char *slash;

	if (u->last_parent && strlen(u->last_parent) == parent_len &&
	    strncmp(u->last_parent, path, parent_len) == 0) {
		dir = fcntl(u->last_parent_fd, F_DUPFD_CLOEXEC, 0);
		if (dir >= 0) {
			*base = last ? last + 1 : path;
			return steal_fd(&dir);
		}
	}
	dir = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open layer root");
	while ((slash = strchr(p, '/')) != NULL) {
		int next;

		*slash = '\0';
		next = openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(dir, p, 0755) < 0)
				return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": mkdir %s",
						entry, path);
			next = openat(dir, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0 && (errno == ELOOP || errno == ENOTDIR))
			return berr_set(err, BERR_INVALID, errno,
					"entry \"%s\": %s is a symlink or not a directory", entry,
					path);
		if (next < 0 && errno == ENOENT)
			return berr_set(err, BERR_INVALID, errno,
					"entry \"%s\": %s is not in the layer", entry, path);
		if (next < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": open %s", entry,
					path);
		*slash = '/';
		close(dir);
		dir = next;
		p = slash + 1;
	}
	*base = p;
	remember_parent(u, path, parent_len, dir);
	return steal_fd(&dir);
}

/* Makes room for a new object at BASE: what is there goes, except a
 * directory when KEEP_DIR is set (a later entry for a directory updates
 * it).  Returns 1 when a directory was kept, 0 otherwise. */
static int clear_slot(struct unpack *u, int parent, const char *base, const char *clean,
		      bool keep_dir, struct berr **err)
{
	struct stat sb;
	_cleanup_free_ char *full = NULL;

	if (fstatat(parent, base, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": stat", clean);
	}
	if ((u->flags & IMAGE_EXTRACT_NO_OVERWRITE_DIR_NON_DIR) && S_ISDIR(sb.st_mode) != keep_dir)
		return berr_set(err, BERR_INVALID, 0,
				keep_dir ? "cannot overwrite non-directory \"%s\" with directory"
					 : "cannot overwrite directory \"%s\" with non-directory",
				clean);
	if (S_ISDIR(sb.st_mode) && keep_dir)
		return 1;
	forget_parent(u);
	if (!S_ISDIR(sb.st_mode)) {
		if (unlinkat(parent, base, 0) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": remove", clean);
		return 0;
	}
	/* The parents were opened with O_NOFOLLOW, so this path is inside the
	 * layer; the removal follows no symlink either. */
	full = str_printf("%s/%s", u->root_path, clean);
	if (full == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate path");
	if (fs_remove_tree(full, err) < 0)
		return berr_prefix(err, "entry \"%s\"", clean);
	return 0;
}

static int set_xattrs(int parent, const char *base, const char *clean, struct archive_entry *e,
		      struct berr **err)
{
	_cleanup_close_ int fd = -1;
	char proc[SAFEPATH_FD_PATH_MAX];
	const char *name;
	const void *value;
	size_t size;

	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	fd = openat(parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": open", clean);
	if (safepath_fd_path(fd, proc, sizeof(proc), err) < 0)
		return -1;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* The path names the very inode fd holds, devices included. */
		if (setxattr(proc, name, value, size, 0) == 0)
			continue;
		if (errno == ENOTSUP) {
			blog_warn("entry \"%s\": xattr %s not supported here, skipped", clean,
				  name);
			continue;
		}
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": set xattr %s", clean,
				name);
	}
	return 0;
}

static int remember_dir_time(struct unpack *u, const char *clean, const struct timespec ts[2],
			     struct berr **err)
{
	if (u->n_dirs == u->cap_dirs) {
		size_t cap = u->cap_dirs ? u->cap_dirs * 2 : 64;
		struct dir_time *d = reallocarray(u->dirs, cap, sizeof(*d));

		if (d == NULL)
			return berr_set(err, BERR_INTERNAL, errno, "allocate directory list");
		u->dirs = d;
		u->cap_dirs = cap;
	}
	u->dirs[u->n_dirs].path = strdup(clean);
	if (u->dirs[u->n_dirs].path == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "allocate directory list");
	memcpy(u->dirs[u->n_dirs].ts, ts, sizeof(u->dirs[0].ts));
	u->n_dirs++;
	return 0;
}

/* Owner, then mode (chown clears set-id bits), then xattrs (a chown would
 * drop security.capability), then times. */
static int apply_meta(struct unpack *u, int parent, const char *base, const char *clean,
		      struct archive_entry *e, struct berr **err)
{
	mode_t type = archive_entry_filetype(e);
	struct timespec ts[2];

	if (fchownat(parent, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
		     AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": chown", clean);
	if (type != AE_IFLNK) {
		if (fchmodat(parent, base, archive_entry_perm(e) & 07777, 0) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": chmod", clean);
		if (set_xattrs(parent, base, clean, e, err) < 0)
			return -1;
	}
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
	if (type == AE_IFDIR)
		return remember_dir_time(u, clean, ts, err);
	if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": set times", clean);
	return 0;
}

/* apply_meta() for a regular file through its open FD, sparing a path
 * lookup per step. */
static int apply_file_meta(int fd, const char *clean, struct archive_entry *e, struct berr **err)
{
	struct timespec ts[2];
	const char *name;
	const void *value;
	size_t size;

	if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": chown", clean);
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": chmod", clean);
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (fsetxattr(fd, name, value, size, 0) == 0)
			continue;
		if (errno == ENOTSUP) {
			blog_warn("entry \"%s\": xattr %s not supported here, skipped", clean,
				  name);
			continue;
		}
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": set xattr %s", clean,
				name);
	}
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
	if (futimens(fd, ts) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": set times", clean);
	return 0;
}

static int write_file(struct unpack *u, int parent, const char *base, const char *clean,
		      struct archive_entry *e, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	la_ssize_t n;

	fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": create", clean);
	while ((n = archive_read_data(u->tar, u->data, LAYER_CHUNK)) > 0) {
		if (fs_write_all(fd, u->data, (size_t)n) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": write", clean);
	}
	if (n < 0)
		return berr_set(err, BERR_INVALID, archive_errno(u->tar), "entry \"%s\": %s", clean,
				archive_msg(u->tar));
	return apply_file_meta(fd, clean, e, err);
}

/* "dir/.wh..wh..opq" and "dir/.wh.name"; BASE starts with ".wh.". */
static int make_whiteout(int parent, const char *base, char *clean, struct unpack *u,
			 struct archive_entry *e, struct berr **err)
{
	/* The marker's time: packing the tree again gives the same tar. */
	const struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
	};
	const char *name = base + strlen(WHITEOUT_PREFIX);
	_cleanup_free_ char *target = NULL;
	size_t dir_len = (size_t)(base - clean);

	if (strcmp(base, WHITEOUT_OPAQUE) == 0) {
		if (fsetxattr(parent, OVERLAY_OPAQUE_X, "y", 1, 0) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": mark opaque",
					clean);
		return 0;
	}
	/* Other .wh..wh. names are aufs bookkeeping with no meaning here. */
	if (str_has_prefix(base, WHITEOUT_META))
		return 0;
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return berr_set(err, BERR_INVALID, 0, "entry \"%s\": invalid whiteout", clean);
	target = str_printf("%.*s%s", (int)dir_len, clean, name);
	if (target == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate path");
	if (clear_slot(u, parent, name, target, false, err) < 0)
		return -1;
	if (mknodat(parent, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": make whiteout", clean);
	if (fchownat(parent, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": chown", clean);
	if (utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": set times", clean);
	return 0;
}

static int make_hardlink(struct unpack *u, int parent, const char *base, const char *clean,
			 const char *link, struct berr **err)
{
	_cleanup_free_ char *target = NULL;
	_cleanup_close_ int tparent = -1;
	const char *tbase;
	struct stat sb;

	if (image_entry_name_clean("hardlink target", link, &target, err) < 0)
		return berr_prefix(err, "entry \"%s\"", clean);
	if (target[0] == '\0' || strcmp(target, clean) == 0)
		return berr_set(err, BERR_INVALID, 0, "entry \"%s\": hardlink to \"%s\"", clean,
				link);
	tparent = open_parent(u, clean, target, false, &tbase, err);
	if (tparent < 0)
		return berr_prefix(err, "hardlink target \"%s\"", link);
	if (fstatat(tparent, tbase, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, BERR_INVALID, errno,
				"entry \"%s\": hardlink target \"%s\" is not in the layer", clean,
				link);
	if (S_ISDIR(sb.st_mode))
		return berr_set(err, BERR_INVALID, 0,
				"entry \"%s\": hardlink target \"%s\" is a directory", clean, link);
	if (clear_slot(u, parent, base, clean, false, err) < 0)
		return -1;
	/* Flags 0: a link to a symlink links the symlink itself. */
	if (linkat(tparent, tbase, parent, base, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": link", clean);
	return 0;
}

static int make_object(struct unpack *u, struct archive_entry *e, int parent, const char *base,
		       const char *clean, struct berr **err)
{
	mode_t type = archive_entry_filetype(e);
	int kept;

	kept = clear_slot(u, parent, base, clean, type == AE_IFDIR, err);
	if (kept < 0)
		return -1;
	switch (type) {
	case AE_IFDIR:
		if (!kept && mkdirat(parent, base, 0700) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": mkdir", clean);
		break;
	case AE_IFREG:
		u->content_size += (uint64_t)archive_entry_size(e);
		return write_file(u, parent, base, clean, e, err);
	case AE_IFLNK:
		if (archive_entry_symlink(e) == NULL)
			return berr_set(err, BERR_INVALID, 0,
					"entry \"%s\": symlink without target", clean);
		/* The target is data of the layer: kept as it is, never followed. */
		if (symlinkat(archive_entry_symlink(e), parent, base) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": symlink", clean);
		u->content_size += strlen(archive_entry_symlink(e));
		break;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(parent, base, type | 0600, archive_entry_rdev(e)) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "entry \"%s\": mknod", clean);
		break;
	default:
		return berr_set(err, BERR_INVALID, 0, "entry \"%s\": unsupported type 0%o", clean,
				(unsigned)type);
	}
	return apply_meta(u, parent, base, clean, e, err);
}

static int unpack_entry(struct unpack *u, struct archive_entry *e, struct berr **err)
{
	_cleanup_free_ char *clean = NULL;
	_cleanup_free_ char *walk = NULL;
	_cleanup_close_ int parent = -1;
	const char *link = archive_entry_hardlink(e);
	const char *base;

	if (image_entry_name_clean("entry", archive_entry_pathname(e), &clean, err) < 0)
		return -1;
	if (clean[0] == '\0') {
		if (link != NULL || archive_entry_filetype(e) != AE_IFDIR)
			return berr_set(err, BERR_INVALID, 0,
					"entry \"%s\": the layer root must be a directory",
					archive_entry_pathname(e));
		return apply_meta(u, u->root_fd, ".", "", e, err);
	}
	walk = strdup(clean);
	if (walk == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "allocate path");
	parent = open_parent(u, clean, walk, true, &base, err);
	if (parent < 0)
		return -1;
	/* BASE points into WALK at the same offset as in CLEAN. */
	base = clean + (base - walk);
	if (!(u->flags & IMAGE_EXTRACT_PLAIN) && str_has_prefix(base, WHITEOUT_PREFIX))
		return make_whiteout(parent, base, clean, u, e, err);
	if (link != NULL)
		return make_hardlink(u, parent, base, clean, link, err);
	return make_object(u, e, parent, base, clean, err);
}

/* Directory times last: making entries inside a directory changes them. */
static void apply_dir_times(struct unpack *u)
{
	for (size_t i = u->n_dirs; i-- > 0;) {
		struct dir_time *d = &u->dirs[i];
		_cleanup_close_ int parent = -1;
		const char *base = ".";

		if (d->path[0] == '\0') {
			futimens(u->root_fd, d->ts);
			continue;
		}
		parent = open_parent(u, d->path, d->path, false, &base, NULL);
		/* Gone or replaced by a later entry: nothing to set. */
		if (parent >= 0)
			utimensat(parent, base, d->ts, AT_SYMLINK_NOFOLLOW);
	}
}

static void unpack_release(struct unpack *u)
{
	archive_freep(&u->tar);
	archive_freep(&u->raw);
	digest_free(u->ctx);
	free(u->buf);
	free(u->data);
	cleanup_closep(&u->root_fd);
	forget_parent(u);
	for (size_t i = 0; i < u->n_dirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
}

static int unpack_run(struct unpack *u, int fd, struct berr **err)
{
	struct archive_entry *e;
	size_t count = 0;
	int r;

	u->raw = archive_read_new();
	u->tar = archive_read_new();
	u->ctx = digest_new();
	u->buf = malloc(LAYER_CHUNK);
	u->data = malloc(LAYER_CHUNK);
	if (u->raw == NULL || u->tar == NULL || u->ctx == NULL || u->buf == NULL || u->data == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate archive reader");
	image_layer_read_filters(u->raw);
	archive_read_support_format_raw(u->raw);
	archive_read_support_format_empty(u->raw);
	if (archive_read_open_fd(u->raw, fd, LAYER_CHUNK) != ARCHIVE_OK)
		return berr_set(err, BERR_INVALID, 0, "%s", archive_msg(u->raw));
	r = archive_read_next_header(u->raw, &e);
	if (r == ARCHIVE_EOF)
		u->raw_eof = true;
	else if (r < ARCHIVE_WARN)
		return berr_set(err, BERR_INVALID, 0, "%s", archive_msg(u->raw));

	archive_read_support_format_tar(u->tar);
	if (archive_read_open(u->tar, u, NULL, tar_read, NULL) != ARCHIVE_OK)
		return berr_set(err, BERR_INVALID, 0, "%s", archive_msg(u->tar));
	for (;;) {
		r = archive_read_next_header(u->tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return berr_set(err, BERR_INVALID, 0, "%s", archive_msg(u->tar));
		if (++count > IMAGE_LAYER_MAX_ENTRIES)
			return berr_set(err, BERR_INVALID, 0, "more than %d entries",
					IMAGE_LAYER_MAX_ENTRIES);
		if (u->chown) {
			archive_entry_set_uid(e, u->uid);
			archive_entry_set_gid(e, u->gid);
		}
		if (unpack_entry(u, e, err) < 0)
			return -1;
	}
	/* The DiffID covers the whole stream, padding after the tar's end
	 * included, and a stream broken there is still broken. */
	for (;;) {
		la_ssize_t n = pull(u);

		if (n < 0)
			return berr_set(err, BERR_INVALID, 0, "%s", archive_msg(u->raw));
		if (n == 0)
			break;
	}
	apply_dir_times(u);
	return 0;
}

int image_layer_unpack(int fd, const char *dest, struct image_layer_info *info, struct berr **err)
{
	_cleanup_free_ char *tmp = NULL;
	struct unpack u = { .root_fd = -1, .last_parent_fd = -1 };
	struct stat sb;
	int r;

	if (lstat(dest, &sb) == 0)
		return berr_set(err, BERR_CONFLICT, EEXIST, "layer directory %s exists", dest);
	if (errno != ENOENT)
		return berr_set(err, BERR_INTERNAL, errno, "stat %s", dest);
	tmp = str_printf("%s.tmp-XXXXXX", dest);
	if (tmp == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate path");
	if (mkdtemp(tmp) == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "create %s", tmp);
	u.root_path = tmp;
	u.root_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.root_fd < 0 || fchmod(u.root_fd, 0755) < 0)
		r = berr_set(err, BERR_INTERNAL, errno, "open %s", tmp);
	else
		r = unpack_run(&u, fd, err);
	if (r == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) < 0)
		r = berr_set(err, errno == EEXIST ? BERR_CONFLICT : BERR_INTERNAL, errno,
			     "rename %s to %s", tmp, dest);
	if (r == 0 && info != NULL) {
		digest_final(u.ctx, info->diff_id);
		info->size = u.size;
		info->content_size = u.content_size;
	}
	unpack_release(&u);
	if (r < 0) {
		fs_remove_tree(tmp, NULL);
		return berr_prefix(err, "unpack layer %s", dest);
	}
	return 0;
}

static int tar_extract(int fd, int dirfd, unsigned flags, const uid_t *uid, const gid_t *gid,
		       struct berr **err)
{
	struct unpack u = { .root_fd = -1,
			    .last_parent_fd = -1,
			    .flags = flags,
			    .chown = uid != NULL,
			    .uid = uid ? *uid : 0,
			    .gid = gid ? *gid : 0 };
	char root_path[SAFEPATH_FD_PATH_MAX];
	int r;

	u.root_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (u.root_fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "extract: duplicate directory fd");
	/* The path under which a directory in the way is removed: the very
	 * directory the fd holds, however it was reached. */
	if (safepath_fd_path(u.root_fd, root_path, sizeof(root_path), err) < 0) {
		unpack_release(&u);
		return -1;
	}
	u.root_path = root_path;
	r = unpack_run(&u, fd, err);
	unpack_release(&u);
	return r;
}

int image_tar_extract(int fd, int dirfd, unsigned flags, struct berr **err)
{
	return tar_extract(fd, dirfd, flags, NULL, NULL, err);
}

int image_tar_extract_owned(int fd, int dirfd, unsigned flags, uid_t uid, gid_t gid,
			    struct berr **err)
{
	return tar_extract(fd, dirfd, flags, &uid, &gid, err);
}

/* Packing: the way back from a directory to a layer tar, as Docker writes
 * one: names relative without "./", directories with a trailing slash,
 * numeric owners only, no atime/ctime, mtimes in whole seconds, hardlinks
 * as links to their first name, overlay whiteouts turned back into ".wh."
 * files and opaque directories into ".wh..wh..opq" entries. */

#define PACK_XATTR_MAX (64 * 1024)

struct pack {
	struct archive *a;
	struct archive_entry_linkresolver *links;
	char *data; /* LAYER_CHUNK bytes */
	char *xattr_list;
	char *xattr_value;
};

static int pack_write(struct pack *p, struct archive_entry *e, int fd, const char *rel,
		      struct berr **err)
{
	struct archive_entry *sparse = NULL;
	la_int64_t left;

	/* Later names of an inode become hardlinks with no data. */
	archive_entry_linkify(p->links, &e, &sparse);
	if (archive_write_header(p->a, e) < ARCHIVE_WARN)
		return berr_set(err, BERR_INTERNAL, archive_errno(p->a), "%s: %s", rel,
				archive_msg(p->a));
	left = archive_entry_size(e);
	while (fd >= 0 && left > 0) {
		ssize_t n = read(fd, p->data, left < LAYER_CHUNK ? (size_t)left : LAYER_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(err, BERR_INTERNAL, errno, "read %s", rel);
		if (n == 0)
			break; /* shrunk meanwhile: the writer pads with zeros */
		if (archive_write_data(p->a, p->data, (size_t)n) < 0)
			return berr_set(err, BERR_INTERNAL, archive_errno(p->a), "%s: %s", rel,
					archive_msg(p->a));
		left -= n;
	}
	return 0;
}

/* An empty regular file entry: the tar form of whiteouts. */
static int pack_marker(struct pack *p, const char *name, mode_t perm, const struct stat *sb,
		       struct berr **err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (e == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate entry");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, sb->st_uid);
	archive_entry_set_gid(e, sb->st_gid);
	archive_entry_set_mtime(e, sb->st_mtime, 0);
	archive_entry_set_size(e, 0);
	archive_entry_set_nlink(e, 1); /* never taken for a hardlink */
	r = pack_write(p, e, -1, name, err);
	archive_entry_free(e);
	return r;
}

/* Copies the xattrs of FD's object into E, except overlay's own; sets
 * *opaque when overlay marks it opaque. */
static int pack_xattrs(struct pack *p, int fd, const char *rel, struct archive_entry *e,
		       bool *opaque, struct berr **err)
{
	char proc[SAFEPATH_FD_PATH_MAX];
	ssize_t len;

	if (safepath_fd_path(fd, proc, sizeof(proc), err) < 0)
		return -1;
	len = listxattr(proc, p->xattr_list, PACK_XATTR_MAX);
	if (len < 0 && errno == ENOTSUP)
		return 0;
	if (len < 0)
		return berr_set(err, BERR_INTERNAL, errno, "list xattrs of %s", rel);
	for (char *name = p->xattr_list; name < p->xattr_list + len; name += strlen(name) + 1) {
		ssize_t vlen = getxattr(proc, name, p->xattr_value, PACK_XATTR_MAX);

		if (vlen < 0 && errno == ENODATA)
			continue;
		if (vlen < 0)
			return berr_set(err, BERR_INTERNAL, errno, "get xattr %s of %s", name, rel);
		if (strcmp(name, OVERLAY_OPAQUE_X) == 0) {
			*opaque = vlen == 1 && p->xattr_value[0] == 'y';
			continue;
		}
		if (str_has_prefix(name, "trusted.overlay."))
			continue;
		archive_entry_xattr_add_entry(e, name, p->xattr_value, (size_t)vlen);
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The names in DIRFD, sorted so that a tree always packs the same way. */
static int list_dir(int dirfd, const char *rel, char ***out, size_t *count, struct berr **err)
{
	_cleanup_closedir_ DIR *dir = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", rel);
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "open %s", rel);
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **grown = reallocarray(names, cap ? cap * 2 : 32, sizeof(*names));

			if (grown == NULL) {
				free_names(names, n);
				return berr_set(err, BERR_INTERNAL, ENOMEM, "list %s", rel);
			}
			names = grown;
			cap = cap ? cap * 2 : 32;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			free_names(names, n);
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list %s", rel);
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*count = n;
	return 0;
}

static int pack_dir(struct pack *p, int dirfd, const char *rel, struct berr **err);

/* One object NAME in DIRFD, whose path in the tar is PATH. */
static int pack_one(struct pack *p, int dirfd, const char *name, const char *path,
		    struct berr **err)
{
	struct archive_entry *e = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *tar_name = NULL;
	_cleanup_free_ char *marker = NULL;
	char target[PATH_MAX];
	bool opaque = false;
	struct stat sb;
	int r = -1;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"stat %s", path);
	if (S_ISSOCK(sb.st_mode))
		return 0; /* a tar cannot hold one; Docker skips them too */
	if (S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0)) {
		size_t dir_len = strlen(path) - strlen(name);

		marker = str_printf("%.*s" WHITEOUT_PREFIX "%s", (int)dir_len, path, name);
		if (marker == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate path");
		return pack_marker(p, marker, 0600, &sb, err);
	}
	if (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))
		fd = openat(dirfd, name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
				    (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
	else
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);

	tar_name = S_ISDIR(sb.st_mode) ? str_printf("%s/", path) : strdup(path);
	e = archive_entry_new();
	if (tar_name == NULL || e == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "allocate entry");
		goto out;
	}
	archive_entry_copy_stat(e, &sb);
	archive_entry_set_pathname(e, tar_name);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_mtime(e, sb.st_mtime, 0);
	if (!S_ISREG(sb.st_mode))
		archive_entry_set_size(e, 0);
	if (S_ISLNK(sb.st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

		if (n < 0) {
			berr_set(err, BERR_INTERNAL, errno, "readlink %s", path);
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	} else if (pack_xattrs(p, fd, path, e, &opaque, err) < 0) {
		goto out;
	}
	if (pack_write(p, e, S_ISREG(sb.st_mode) ? fd : -1, path, err) < 0)
		goto out;
	if (S_ISDIR(sb.st_mode)) {
		if (opaque) {
			marker = str_printf("%s" WHITEOUT_OPAQUE, tar_name);
			if (marker == NULL) {
				berr_set(err, BERR_INTERNAL, ENOMEM, "allocate path");
				goto out;
			}
			if (pack_marker(p, marker, sb.st_mode & 0777, &sb, err) < 0)
				goto out;
		}
		if (pack_dir(p, fd, tar_name, err) < 0)
			goto out;
	}
	r = 0;
out:
	archive_entry_free(e);
	return r;
}

/* The contents of DIRFD, whose path in the tar is REL ("" or "a/b/"). */
static int pack_dir(struct pack *p, int dirfd, const char *rel, struct berr **err)
{
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (list_dir(dirfd, rel[0] ? rel : ".", &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *path = str_printf("%s%s", rel, names[i]);

		if (path == NULL)
			r = berr_set(err, BERR_INTERNAL, ENOMEM, "allocate path");
		else
			r = pack_one(p, dirfd, names[i], path, err);
	}
	free_names(names, n);
	return r;
}

static void pack_release(struct pack *p)
{
	if (p->a)
		archive_write_free(p->a);
	if (p->links)
		archive_entry_linkresolver_free(p->links);
	free(p->data);
	free(p->xattr_list);
	free(p->xattr_value);
}

/* A tar writer on FD, fed by pack_one() and pack_dir(). */
static int pack_open(struct pack *p, int fd, struct berr **err)
{
	p->a = archive_write_new();
	p->links = archive_entry_linkresolver_new();
	p->data = malloc(LAYER_CHUNK);
	p->xattr_list = malloc(PACK_XATTR_MAX);
	p->xattr_value = malloc(PACK_XATTR_MAX);
	if (p->a == NULL || p->links == NULL || p->data == NULL || p->xattr_list == NULL ||
	    p->xattr_value == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate archive writer");
	archive_entry_linkresolver_set_strategy(p->links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
	if (archive_write_set_format_pax_restricted(p->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(p->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(p->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(p->a, fd) != ARCHIVE_OK)
		return berr_set(err, BERR_INTERNAL, archive_errno(p->a), "%s", archive_msg(p->a));
	return 0;
}

static int pack_close(struct pack *p, struct berr **err)
{
	if (archive_write_close(p->a) != ARCHIVE_OK)
		return berr_set(err, BERR_INTERNAL, archive_errno(p->a), "%s", archive_msg(p->a));
	return 0;
}

int image_layer_pack(const char *dir, int fd, struct berr **err)
{
	struct pack p = { 0 };
	_cleanup_close_ int dirfd = -1;
	int r;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"open %s", dir);
	r = pack_open(&p, fd, err) < 0 || pack_dir(&p, dirfd, "", err) < 0 ||
			    pack_close(&p, err) < 0
		    ? -1
		    : 0;
	pack_release(&p);
	if (r < 0)
		return berr_prefix(err, "pack %s", dir);
	return 0;
}

int image_tar_entry(int dirfd, const char *name, const char *as, int fd, struct berr **err)
{
	struct pack p = { 0 };
	int r;

	r = pack_open(&p, fd, err) < 0 || pack_one(&p, dirfd, name, as, err) < 0 ||
			    pack_close(&p, err) < 0
		    ? -1
		    : 0;
	pack_release(&p);
	return r;
}

int image_layer_diff_id(int fd, struct image_layer_info *info, struct berr **err)
{
	_cleanup_(archive_freep) struct archive *a = archive_read_new();
	_cleanup_free_ char *buf = malloc(LAYER_CHUNK);
	struct digest_ctx *ctx = digest_new();
	struct archive_entry *e;
	uint64_t size = 0;
	int r;

	if (!a || !buf || !ctx) {
		digest_free(ctx);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate archive reader");
	}
	image_layer_read_filters(a);
	archive_read_support_format_raw(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, fd, LAYER_CHUNK) != ARCHIVE_OK)
		goto broken;
	r = archive_read_next_header(a, &e);
	if (r < ARCHIVE_WARN && r != ARCHIVE_EOF)
		goto broken;
	while (r != ARCHIVE_EOF) {
		la_ssize_t n = archive_read_data(a, buf, LAYER_CHUNK);

		if (n < 0)
			goto broken;
		if (n == 0)
			break;
		digest_update(ctx, buf, (size_t)n);
		size += (uint64_t)n;
	}
	digest_final(ctx, info->diff_id);
	digest_free(ctx);
	info->size = size;
	info->content_size = 0;
	return 0;
broken:
	digest_free(ctx);
	return berr_set(err, BERR_INVALID, 0, "%s", archive_msg(a));
}

void image_layer_read_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
}
