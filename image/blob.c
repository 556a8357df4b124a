/* The blob store: content-addressed files under <root>/blobs/sha256/.
 * Writers hash while they stream into <root>/tmp/, then check, fsync and
 * rename, so that a blob under its name is always whole and verified, and
 * a failure or a mismatch leaves no file behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/blob.h"
#include "lib/fsutil.h"

#define BLOB_COPY_CHUNK	  (64 * 1024)
#define BLOB_TMP_TEMPLATE "blob-XXXXXX"

struct image_blob_store {
	char *root;
	char *tmp_path; /* <root>/tmp */
	int blobs_fd;	/* <root>/blobs/sha256 */
	int tmp_fd;
};

struct image_blob_writer {
	struct image_blob_store *st; /* borrowed */
	int fd;
	char *tmp_name; /* under st->tmp_fd; NULL once gone */
	struct digest_ctx *ctx;
	uint64_t size;
	char expected[DIGEST_STRING_SIZE]; /* "" when none */
	int64_t expected_size;
	uint64_t max_size;
	bool failed;
};

static int open_dir(const char *path, int *out, struct berr **err)
{
	int fd;

	if (fs_mkdir_p(path, 0700, err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	*out = fd;
	return 0;
}

int image_blob_store_open(const char *root, struct image_blob_store **out, struct berr **err)
{
	_cleanup_(image_blob_store_free_cleanup) struct image_blob_store *st = NULL;
	_cleanup_free_ char *blobs = NULL;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "allocate blob store");
	st->blobs_fd = -1;
	st->tmp_fd = -1;
	st->root = strdup(root);
	st->tmp_path = str_printf("%s/tmp", root);
	blobs = str_printf("%s/blobs/sha256", root);
	if (st->root == NULL || st->tmp_path == NULL || blobs == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate blob store");
	if (open_dir(blobs, &st->blobs_fd, err) < 0 || open_dir(st->tmp_path, &st->tmp_fd, err) < 0)
		return berr_prefix(err, "blob store %s", root);
	*out = steal_ptr(&st);
	return 0;
}

void image_blob_store_free(struct image_blob_store *st)
{
	if (st == NULL)
		return;
	cleanup_closep(&st->blobs_fd);
	cleanup_closep(&st->tmp_fd);
	free(st->root);
	free(st->tmp_path);
	free(st);
}

int image_blob_store_clean_tmp(struct image_blob_store *st, struct berr **err)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int fd;

	fd = openat(st->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", st->tmp_path);
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "open %s", st->tmp_path);
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "blob-", strlen("blob-")) != 0)
			continue;
		if (unlinkat(st->tmp_fd, de->d_name, 0) < 0 && errno != ENOENT)
			return berr_set(err, BERR_INTERNAL, errno, "remove %s/%s", st->tmp_path,
					de->d_name);
		errno = 0;
	}
	if (errno != 0)
		return berr_set(err, BERR_INTERNAL, errno, "read %s", st->tmp_path);
	return 0;
}

/* The file name of a blob: the hex part of a digest checked beforehand. */
static const char *digest_hex(const char *digest)
{
	return digest + strlen("sha256:");
}

int image_blob_writer_open(struct image_blob_store *st, const char *expected, int64_t expected_size,
			   uint64_t max_size, struct image_blob_writer **out, struct berr **err)
{
	_cleanup_(image_blob_writer_abort_cleanup) struct image_blob_writer *w = NULL;
	_cleanup_free_ char *path = NULL;

	if (expected != NULL && !digest_is_valid(expected))
		return berr_set(err, BERR_INVALID, 0, "invalid digest \"%s\"", expected);
	if (expected_size < IMAGE_BLOB_SIZE_UNKNOWN)
		return berr_set(err, BERR_INVALID, 0, "invalid blob size %" PRId64, expected_size);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "allocate blob writer");
	w->st = st;
	w->fd = -1;
	w->expected_size = expected_size;
	w->max_size = max_size;
	if (expected != NULL)
		memcpy(w->expected, expected, DIGEST_STRING_SIZE);
	w->ctx = digest_new();
	path = str_printf("%s/" BLOB_TMP_TEMPLATE, st->tmp_path);
	if (w->ctx == NULL || path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate blob writer");
	w->fd = mkostemp(path, O_CLOEXEC);
	if (w->fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "create temporary blob in %s",
				st->tmp_path);
	w->tmp_name = strdup(strrchr(path, '/') + 1);
	if (w->tmp_name == NULL) {
		unlink(path);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "allocate blob writer");
	}
	*out = steal_ptr(&w);
	return 0;
}

int image_blob_writer_write(struct image_blob_writer *w, const void *buf, size_t len,
			    struct berr **err)
{
	if (w->failed || w->tmp_name == NULL)
		return berr_set(err, BERR_INTERNAL, 0, "blob writer is no longer usable");
	if (w->max_size > 0 && len > w->max_size - w->size) {
		w->failed = true;
		return berr_set(err, BERR_INVALID, 0, "blob is larger than %" PRIu64 " bytes",
				w->max_size);
	}
	if (w->expected_size >= 0 && len > (uint64_t)w->expected_size - w->size) {
		w->failed = true;
		return berr_set(err, BERR_INVALID, 0,
				"size mismatch: expected %" PRId64 " bytes, got more",
				w->expected_size);
	}
	if (fs_write_all(w->fd, buf, len) < 0) {
		w->failed = true;
		return berr_set(err, BERR_INTERNAL, errno, "write blob");
	}
	digest_update(w->ctx, buf, len);
	w->size += len;
	return 0;
}

static void writer_remove_tmp(struct image_blob_writer *w)
{
	if (w->tmp_name == NULL)
		return;
	unlinkat(w->st->tmp_fd, w->tmp_name, 0);
	free(w->tmp_name);
	w->tmp_name = NULL;
}

static int writer_finish(struct image_blob_writer *w, char out[DIGEST_STRING_SIZE],
			 struct berr **err)
{
	char got[DIGEST_STRING_SIZE];

	if (w->failed || w->tmp_name == NULL)
		return berr_set(err, BERR_INTERNAL, 0, "blob writer is no longer usable");
	if (w->expected_size >= 0 && w->size != (uint64_t)w->expected_size)
		return berr_set(err, BERR_INVALID, 0,
				"size mismatch: expected %" PRId64 " bytes, got %" PRIu64,
				w->expected_size, w->size);
	digest_final(w->ctx, got);
	if (w->expected[0] != '\0' && strcmp(got, w->expected) != 0)
		return berr_set(err, BERR_INVALID, 0, "digest mismatch: expected %s, got %s",
				w->expected, got);
	if (fchmod(w->fd, 0644) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "chmod blob");
	if (fsync(w->fd) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "sync blob");
	if (renameat(w->st->tmp_fd, w->tmp_name, w->st->blobs_fd, digest_hex(got)) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "store blob %s", got);
	free(w->tmp_name);
	w->tmp_name = NULL;
	/* The name must survive a crash too, not only the data. */
	if (fsync(w->st->blobs_fd) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "sync blob directory");
	memcpy(out, got, DIGEST_STRING_SIZE);
	return 0;
}

int image_blob_writer_commit(struct image_blob_writer *w, char out[DIGEST_STRING_SIZE],
			     struct berr **err)
{
	int r = writer_finish(w, out, err);

	w->failed = true;
	writer_remove_tmp(w);
	return r;
}

void image_blob_writer_abort(struct image_blob_writer *w)
{
	if (w == NULL)
		return;
	writer_remove_tmp(w);
	cleanup_closep(&w->fd);
	digest_free(w->ctx);
	free(w);
}

int image_blob_put_fd(struct image_blob_store *st, int fd, const char *expected,
		      int64_t expected_size, uint64_t max_size, char out[DIGEST_STRING_SIZE],
		      struct berr **err)
{
	_cleanup_(image_blob_writer_abort_cleanup) struct image_blob_writer *w = NULL;
	_cleanup_free_ char *buf = NULL;
	ssize_t n;

	buf = malloc(BLOB_COPY_CHUNK);
	if (buf == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "allocate copy buffer");
	if (image_blob_writer_open(st, expected, expected_size, max_size, &w, err) < 0)
		return -1;
	for (;;) {
		n = read(fd, buf, BLOB_COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(err, BERR_INTERNAL, errno, "read blob source");
		if (n == 0)
			break;
		if (image_blob_writer_write(w, buf, (size_t)n, err) < 0)
			return -1;
	}
	return image_blob_writer_commit(w, out, err);
}

int image_blob_open(struct image_blob_store *st, const char *digest, struct berr **err)
{
	int fd;

	if (!digest_is_valid(digest))
		return berr_set(err, BERR_INVALID, 0, "invalid digest \"%s\"", digest);
	fd = openat(st->blobs_fd, digest_hex(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return berr_set(err, BERR_NOT_FOUND, errno, "blob %s", digest);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open blob %s", digest);
	return fd;
}

bool image_blob_exists(struct image_blob_store *st, const char *digest)
{
	struct stat sb;

	if (!digest_is_valid(digest))
		return false;
	return fstatat(st->blobs_fd, digest_hex(digest), &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(sb.st_mode);
}

int image_blob_size(struct image_blob_store *st, const char *digest, uint64_t *size,
		    struct berr **err)
{
	struct stat sb;

	if (!digest_is_valid(digest))
		return berr_set(err, BERR_INVALID, 0, "invalid digest \"%s\"", digest);
	if (fstatat(st->blobs_fd, digest_hex(digest), &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"blob %s", digest);
	*size = (uint64_t)sb.st_size;
	return 0;
}

int image_blob_delete(struct image_blob_store *st, const char *digest, struct berr **err)
{
	if (!digest_is_valid(digest))
		return berr_set(err, BERR_INVALID, 0, "invalid digest \"%s\"", digest);
	if (unlinkat(st->blobs_fd, digest_hex(digest), 0) < 0)
		return berr_set(err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INTERNAL, errno,
				"remove blob %s", digest);
	return 0;
}
