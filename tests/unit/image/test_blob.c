/* Unit tests for image/blob: blobs are stored under their digest, checked
 * against what the caller expects, and a mismatch, an oversize write, an
 * abort or a killed writer leaves no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/blob.h"
#include "lib/fsutil.h"

#define HELLO_DIGEST "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define EMPTY_DIGEST "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fixture {
	char root[64];
	struct image_blob_store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/berth-blob-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(image_blob_store_open(f->root, &f->st, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	image_blob_store_free(f->st);
	assert_int_equal(fs_remove_tree(f->root, NULL), 0);
	free(f);
	return 0;
}

/* Entries in DIR other than "." and "..". */
static int count_entries(const char *root, const char *sub)
{
	char path[128];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	dir = opendir(path);
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

static void test_put_and_read(void **state)
{
	struct fixture *f = *state;
	struct image_blob_writer *w = NULL;
	struct berr *err = NULL;
	char digest[DIGEST_STRING_SIZE];
	char buf[16] = { 0 };
	char path[256];
	uint64_t size = 0;
	int fd;

	assert_int_equal(image_blob_writer_open(f->st, HELLO_DIGEST, 5, 0, &w, &err), 0);
	assert_int_equal(image_blob_writer_write(w, "he", 2, &err), 0);
	assert_int_equal(image_blob_writer_write(w, "llo", 3, &err), 0);
	assert_int_equal(image_blob_writer_commit(w, digest, &err), 0);
	image_blob_writer_abort(w);
	assert_string_equal(digest, HELLO_DIGEST);

	assert_true(image_blob_exists(f->st, HELLO_DIGEST));
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->root, HELLO_DIGEST + 7);
	assert_true(fs_exists(path));
	assert_int_equal(image_blob_size(f->st, HELLO_DIGEST, &size, &err), 0);
	assert_int_equal(size, 5);
	fd = image_blob_open(f->st, HELLO_DIGEST, &err);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	close(fd);
	assert_int_equal(count_entries(f->root, "tmp"), 0);

	assert_int_equal(image_blob_delete(f->st, HELLO_DIGEST, &err), 0);
	assert_false(image_blob_exists(f->st, HELLO_DIGEST));
	assert_int_equal(image_blob_delete(f->st, HELLO_DIGEST, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
	assert_int_equal(image_blob_open(f->st, HELLO_DIGEST, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
}

static void test_put_fd(void **state)
{
	struct fixture *f = *state;
	struct berr *err = NULL;
	char digest[DIGEST_STRING_SIZE];
	char expected[DIGEST_STRING_SIZE];
	size_t len = 300 * 1024;
	char *data = malloc(len);
	uint64_t size = 0;
	int fd;

	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7);
	digest_bytes(data, len, expected);
	fd = memfd_create("blob", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, data, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(
		image_blob_put_fd(f->st, fd, NULL, IMAGE_BLOB_SIZE_UNKNOWN, 0, digest, &err), 0);
	assert_string_equal(digest, expected);
	assert_int_equal(image_blob_size(f->st, expected, &size, &err), 0);
	assert_int_equal(size, len);

	/* Writing the same content again keeps one blob. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(image_blob_put_fd(f->st, fd, expected, (int64_t)len, len, digest, &err),
			 0);
	assert_int_equal(count_entries(f->root, "blobs/sha256"), 1);

	/* A bound below the size refuses it. */
	assert_int_equal(image_blob_delete(f->st, expected, &err), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(
		image_blob_put_fd(f->st, fd, NULL, IMAGE_BLOB_SIZE_UNKNOWN, 1000, digest, &err),
		-1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "larger than 1000"));
	berr_clear(&err);
	assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f->root, "tmp"), 0);
	close(fd);
	free(data);
}

static void test_digest_mismatch_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct image_blob_writer *w = NULL;
	struct berr *err = NULL;
	char digest[DIGEST_STRING_SIZE] = "";

	assert_int_equal(
		image_blob_writer_open(f->st, EMPTY_DIGEST, IMAGE_BLOB_SIZE_UNKNOWN, 0, &w, &err),
		0);
	assert_int_equal(image_blob_writer_write(w, "hello", 5, &err), 0);
	assert_int_equal(count_entries(f->root, "tmp"), 1);
	assert_int_equal(image_blob_writer_commit(w, digest, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_string_equal(err->msg,
			    "digest mismatch: expected " EMPTY_DIGEST ", got " HELLO_DIGEST);
	assert_string_equal(digest, "");
	berr_clear(&err);
	image_blob_writer_abort(w);
	assert_int_equal(count_entries(f->root, "tmp"), 0);
	assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
	assert_false(image_blob_exists(f->st, EMPTY_DIGEST));
	assert_false(image_blob_exists(f->st, HELLO_DIGEST));
}

static void test_size_mismatch(void **state)
{
	struct fixture *f = *state;
	struct image_blob_writer *w = NULL;
	struct berr *err = NULL;
	char digest[DIGEST_STRING_SIZE];

	/* Too short at commit. */
	assert_int_equal(image_blob_writer_open(f->st, NULL, 6, 0, &w, &err), 0);
	assert_int_equal(image_blob_writer_write(w, "hello", 5, &err), 0);
	assert_int_equal(image_blob_writer_commit(w, digest, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "size mismatch"));
	berr_clear(&err);
	image_blob_writer_abort(w);

	/* Too long at write. */
	assert_int_equal(image_blob_writer_open(f->st, NULL, 4, 0, &w, &err), 0);
	assert_int_equal(image_blob_writer_write(w, "hello", 5, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(image_blob_writer_commit(w, digest, &err), -1);
	berr_clear(&err);
	image_blob_writer_abort(w);
	assert_int_equal(count_entries(f->root, "tmp"), 0);
	assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
}

static void test_abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct image_blob_writer *w = NULL;
	struct berr *err = NULL;

	assert_int_equal(image_blob_writer_open(f->st, NULL, IMAGE_BLOB_SIZE_UNKNOWN, 0, &w, &err),
			 0);
	assert_int_equal(image_blob_writer_write(w, "hello", 5, &err), 0);
	assert_int_equal(count_entries(f->root, "tmp"), 1);
	image_blob_writer_abort(w);
	assert_int_equal(count_entries(f->root, "tmp"), 0);
	assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
}

static void test_invalid_digests(void **state)
{
	struct fixture *f = *state;
	struct image_blob_writer *w = NULL;
	struct berr *err = NULL;
	uint64_t size;

	assert_int_equal(image_blob_open(f->st, "sha256:../../etc/passwd", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(image_blob_size(f->st, "../x", &size, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(image_blob_delete(f->st, "sha256:abc", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_false(image_blob_exists(f->st, "sha256:"));
	assert_int_equal(
		image_blob_writer_open(f->st, "md5:abc", IMAGE_BLOB_SIZE_UNKNOWN, 0, &w, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_null(w);
	berr_clear(&err);
}

static void test_clean_tmp(void **state)
{
	struct fixture *f = *state;
	struct berr *err = NULL;
	char path[256];
	int fd;

	/* What a writer killed before its commit leaves. */
	snprintf(path, sizeof(path), "%s/tmp/blob-AbC123", f->root);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "partial", 7), 7);
	close(fd);
	snprintf(path, sizeof(path), "%s/tmp/blob-Zz9876", f->root);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(count_entries(f->root, "tmp"), 2);
	assert_int_equal(image_blob_store_clean_tmp(f->st, &err), 0);
	assert_int_equal(count_entries(f->root, "tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_mismatch_leaves_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_tmp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
