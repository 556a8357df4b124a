/* Local volumes: directories under the volumes root, records in the
 * store.  A volume's directory is made before its record and removed after
 * it, so that a recorded volume always has one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/json.h"
#include "volume/volume.h"

/* How deep a copied tree may go: the copy recurses. */
#define COPY_DEPTH_MAX 256

int volume_name_check(const char *name, struct berr **err)
{
	static const char first[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char rest[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	if (!name)
		name = "";
	if (strlen(name) < 2)
		return berr_set(err, BERR_INVALID, 0,
				"create %s: volume name is too short, names should be at least two "
				"alphanumeric characters",
				name);
	if (!strchr(first, name[0]) || strspn(name + 1, rest) != strlen(name + 1))
		return berr_set(err, BERR_INVALID, 0,
				"create %s: \"%s\" includes invalid characters for a local volume "
				"name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
				"intended to pass a host directory, use absolute path",
				name, name);
	return 0;
}

char *volume_mountpoint(const char *root, const char *name)
{
	return str_printf("%s/%s/_data", root, name);
}

/* A JSON value as the text a record keeps: "null" for none. */
static char *record_text(const json_t *v)
{
	return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT) : strdup("null");
}

/* Refuses options of the local driver other than its own, and any: a
 * local volume on a device or a tmpfs is not made here yet. */
static int check_options(const char *name, const json_t *options, struct berr **err)
{
	const char *key;
	json_t *value;

	if (options && !json_is_null(options) && !json_is_object(options))
		return berr_set(err, BERR_INVALID, 0, "create %s: DriverOpts must be an object",
				name);
	json_object_foreach ((json_t *)options, key, value) {
		if (strcmp(key, "type") != 0 && strcmp(key, "o") != 0 && strcmp(key, "device") != 0)
			return berr_set(err, BERR_INVALID, 0, "create %s: invalid option: \"%s\"",
					name, key);
		return berr_set(err, BERR_NOT_IMPLEMENTED, 0,
				"create %s: local volumes with driver options are not supported",
				name);
	}
	return 0;
}

int volume_create(struct store *db, const char *root, const struct volume_spec *spec,
		  struct store_volume **out, bool *created, struct berr **err)
{
	_cleanup_free_ char *dir = NULL, *data = NULL, *labels = NULL, *options = NULL;
	const char *driver = spec->driver && *spec->driver ? spec->driver : VOLUME_DRIVER_LOCAL;
	struct store_volume rec = { 0 };
	bool made = false;

	*created = false;
	if (volume_name_check(spec->name, err) < 0)
		return -1;
	if (strcmp(driver, VOLUME_DRIVER_LOCAL) != 0)
		return berr_set(err, BERR_NOT_FOUND, 0,
				"create %s: error looking up volume plugin %s: plugin \"%s\" not "
				"found",
				spec->name, driver, driver);
	if (check_options(spec->name, spec->options, err) < 0)
		return -1;
	dir = str_printf("%s/%s", root, spec->name);
	data = volume_mountpoint(root, spec->name);
	labels = record_text(spec->labels);
	options = record_text(spec->options);
	if (!dir || !data || !labels || !options)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create %s", spec->name);
	if (mkdir(root, 0701) < 0 && errno != EEXIST)
		return berr_set(err, BERR_INTERNAL, errno, "create %s", root);
	if (mkdir(dir, 0701) == 0)
		made = true;
	else if (errno != EEXIST)
		return berr_set(err, BERR_INTERNAL, errno, "create %s", dir);
	if (mkdir(data, 0755) < 0 && errno != EEXIST) {
		berr_set(err, BERR_INTERNAL, errno, "create %s", data);
		goto undo;
	}
	rec = (struct store_volume){ .name = (char *)spec->name,
				     .driver = (char *)driver,
				     .created = time(NULL),
				     .labels = labels,
				     .options = options,
				     .anonymous = spec->anonymous };
	if (store_volume_add(db, &rec, created, err) < 0)
		goto undo;
	if (out && store_volume_lookup(db, spec->name, out, err) < 0)
		return -1;
	return 0;
undo:
	/* Only what this call made: a recorded volume keeps its directory. */
	if (made)
		fs_remove_tree(dir, NULL);
	return -1;
}

int volume_remove(struct store *db, const char *root, const char *name, struct berr **err)
{
	_cleanup_free_ char *dir = NULL;

	if (volume_name_check(name, NULL) < 0)
		return berr_set(err, BERR_NOT_FOUND, 0, "get %s: no such volume", name);
	dir = str_printf("%s/%s", root, name);
	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "remove %s", name);
	if (store_volume_delete(db, name, err) < 0)
		return -1;
	if (fs_remove_tree(dir, err) < 0)
		return berr_prefix(err, "remove %s", name);
	return 0;
}

json_t *volume_json(const struct store_volume *v, const char *root)
{
	_cleanup_free_ char *mountpoint = volume_mountpoint(root, v->name);
	json_t *labels = json_loads(v->labels, JSON_DECODE_ANY, NULL);
	json_t *options = json_loads(v->options, JSON_DECODE_ANY, NULL);
	time_t created = (time_t)v->created;
	char at[32];
	struct tm tm;

	if (!gmtime_r(&created, &tm) || !strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm))
		at[0] = '\0';
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "CreatedAt", at, "Driver",
			 v->driver, "Labels", labels ? labels : json_null(), "Mountpoint",
			 mountpoint ? mountpoint : "", "Name", v->name, "Options",
			 options ? options : json_null(), "Scope", "local");
}

static __thread int64_t size_total;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		size_total += st->st_size;
	return 0;
}

int64_t volume_size(const char *root, const char *name)
{
	_cleanup_free_ char *data = volume_mountpoint(root, name);

	size_total = 0;
	if (data)
		nftw(data, add_size, 16, FTW_PHYS | FTW_MOUNT);
	return size_total;
}

/*
 * The copy of an image's content into a new volume.
 */

/* FROM's owner, mode and times onto TO (an fd of the same kind): the mode
 * after the owner, whose change clears set-id bits. */
static int copy_attrs(int to, const struct stat *st, const char *what, struct berr **err)
{
	const struct timespec times[2] = { st->st_atim, st->st_mtim };

	if (fchown(to, st->st_uid, st->st_gid) < 0 || fchmod(to, st->st_mode & 07777) < 0 ||
	    futimens(to, times) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy %s", what);
	return 0;
}

static int copy_file(int from_dir, int to_dir, const char *name, const struct stat *st,
		     struct berr **err)
{
	_cleanup_close_ int from = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int to = -1;
	off_t left = st->st_size;
	bool ranges = true;

	if (from < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
	to = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (to < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
	while (left > 0) {
		/* Across file systems (overlay to the data root's) the kernel
		 * may refuse copy_file_range; sendfile copies in the kernel too. */
		ssize_t n = ranges ? copy_file_range(from, NULL, to, NULL, (size_t)left, 0)
				   : sendfile(to, from, NULL, (size_t)left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && ranges &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
			ranges = false;
			continue;
		}
		if (n < 0)
			return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
		if (n == 0)
			break; /* it shrank meanwhile */
		left -= n;
	}
	return copy_attrs(to, st, name, err);
}

static int copy_tree(int from, int to, int depth, struct berr **err);

static int copy_entry(int from_dir, int to_dir, const char *name, int depth, struct berr **err)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;

	if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
	if (S_ISREG(st.st_mode))
		return copy_file(from_dir, to_dir, name, &st, err);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int from = -1, to = -1;

		if (depth >= COPY_DEPTH_MAX)
			return berr_set(err, BERR_INVALID, ELOOP, "copy %s: too deep", name);
		if (mkdirat(to_dir, name, 0700) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
		from = openat(from_dir, name, flags);
		to = openat(to_dir, name, flags);
		if (from < 0 || to < 0)
			return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
		if (copy_tree(from, to, depth + 1, err) < 0)
			return -1;
		return copy_attrs(to, &st, name, err);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		const struct timespec times[2] = { st.st_atim, st.st_mtim };
		ssize_t n = readlinkat(from_dir, name, target, sizeof(target) - 1);

		if (n < 0)
			return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
		target[n] = '\0';
		if (symlinkat(target, to_dir, name) < 0 ||
		    fchownat(to_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    utimensat(to_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
		return 0;
	}
	{
		const struct timespec times[2] = { st.st_atim, st.st_mtim };

		if (mknodat(to_dir, name, st.st_mode, st.st_rdev) < 0 ||
		    fchownat(to_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(to_dir, name, st.st_mode & 07777, 0) < 0 ||
		    utimensat(to_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "copy %s", name);
	}
	return 0;
}

/* Copies what the directory FROM holds into the directory TO. */
static int copy_tree(int from, int to, int depth, struct berr **err)
{
	_cleanup_closedir_ DIR *dir = NULL;
	int fd = dup(from);
	struct dirent *de;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "copy into a volume");
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (copy_entry(from, to, de->d_name, depth, err) < 0)
			return -1;
	}
	return 0;
}

bool volume_dir_is_empty(int fd)
{
	_cleanup_closedir_ DIR *dir = NULL;
	int copy = dup(fd);
	struct dirent *de;

	if (copy < 0 || !(dir = fdopendir(copy))) {
		if (copy >= 0)
			close(copy);
		return false;
	}
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return false;
	return true;
}

int volume_populate(int from, const char *mountpoint, struct berr **err)
{
	_cleanup_close_ int to = open(mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (to < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", mountpoint);
	if (!volume_dir_is_empty(to))
		return 0;
	if (fstat(from, &st) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "copy into %s", mountpoint);
	if (copy_tree(from, to, 0, err) < 0 || copy_attrs(to, &st, mountpoint, err) < 0)
		return berr_prefix(err, "copy into %s", mountpoint);
	return 0;
}
