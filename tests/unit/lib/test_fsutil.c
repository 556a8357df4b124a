/* Unit tests for lib/fsutil: bounded reads, atomic writes, mkdir -p and
 * tree removal that stops at mount points and symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"

static int make_tmpdir(void **state)
{
	char *dir = strdup("/tmp/berth-test-fsutil-XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int remove_tmpdir(void **state)
{
	struct berr *err = NULL;
	int ret = fs_remove_tree(*state, &err);

	berr_free(err);
	free(*state);
	return ret;
}

static void test_write_atomic_then_read(void **state)
{
	_cleanup_free_ char *path = str_printf("%s/f", (char *)*state);
	_cleanup_free_ char *data = NULL;
	struct berr *err = NULL;
	size_t len = 0;

	assert_int_equal(fs_write_file_atomic(path, "hello", 5, 0600, &err), 0);
	assert_int_equal(fs_read_file(path, 100, &data, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
}

static void test_read_respects_bound(void **state)
{
	_cleanup_free_ char *path = str_printf("%s/big", (char *)*state);
	_cleanup_free_ char *data = NULL;
	char buf[10000];
	struct berr *err = NULL;

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(fs_write_file_atomic(path, buf, sizeof(buf), 0600, &err), 0);
	assert_int_equal(fs_read_file(path, 9999, &data, NULL, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_null(data);
	berr_free(err);
	err = NULL;
	assert_int_equal(fs_read_file(path, 10000, &data, NULL, &err), 0);
	assert_int_equal(strlen(data), 10000);
}

static void test_read_missing_is_not_found(void **state)
{
	_cleanup_free_ char *path = str_printf("%s/missing", (char *)*state);
	char *data = NULL;
	struct berr *err = NULL;

	assert_int_equal(fs_read_file(path, 10, &data, NULL, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_non_null(strstr(err->msg, "missing"));
	berr_free(err);
}

static void test_mkdir_p_and_remove_tree(void **state)
{
	_cleanup_free_ char *deep = str_printf("%s/a/b/c", (char *)*state);
	_cleanup_free_ char *top = str_printf("%s/a", (char *)*state);
	_cleanup_free_ char *file = str_printf("%s/a/b/file", (char *)*state);
	_cleanup_free_ char *link = str_printf("%s/a/link", (char *)*state);
	_cleanup_free_ char *outside = str_printf("%s/outside", (char *)*state);
	struct berr *err = NULL;
	struct stat st;

	assert_int_equal(fs_mkdir_p(deep, 0755, &err), 0);
	assert_int_equal(fs_mkdir_p(deep, 0755, &err), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fs_write_file_atomic(file, "x", 1, 0600, &err), 0);
	/* A symlink in the tree is removed, not followed. */
	assert_int_equal(fs_mkdir_p(outside, 0755, &err), 0);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(fs_remove_tree(top, &err), 0);
	assert_false(fs_exists(top));
	assert_true(fs_exists(outside));
	assert_int_equal(fs_remove_tree(top, &err), 0);
}

static void test_string_helpers(void **state)
{
	_cleanup_free_ char *s = str_printf("%s-%d", "id", 3);

	assert_string_equal(s, "id-3");
	assert_true(str_has_prefix("berth/x", "berth/"));
	assert_false(str_has_prefix("ber", "berth"));
	assert_true(str_has_suffix("a.json", ".json"));
	assert_false(str_has_suffix("json", ".json"));
}

/* Where the file system has the flag (ext4), a spread directory gets it
 * and keeps its others; elsewhere nothing happens and nothing fails. */
static void test_spread_subdirs(void **state)
{
	const char *dir = *state;
	int before = 0, after = 0, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &before) < 0) {
		close(fd);
		fs_spread_subdirs(dir);
		skip();
	}
	fs_spread_subdirs(dir);
	fs_spread_subdirs(dir);
	assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &after), 0);
	assert_true(after & FS_TOPDIR_FL);
	assert_int_equal(after & ~FS_TOPDIR_FL, before & ~FS_TOPDIR_FL);
	close(fd);
	fs_spread_subdirs("/nonexistent/dir");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic_then_read, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_read_respects_bound, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_read_missing_is_not_found, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_spread_subdirs, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_mkdir_p_and_remove_tree, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test(test_string_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
