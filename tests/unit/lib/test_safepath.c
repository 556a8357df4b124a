/* Tests for safepath: a root in a temporary directory holds symlinks that
 * try to get out (absolute, climbing with "..", dangling, looping) and every
 * open, mkdir -p and file creation must stay inside it.  Each test runs
 * twice: with openat2 and with the component walk of older kernels. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/safepath.h"

struct fixture {
	char base[64];	  /* holds root/ */
	char hostdir[64]; /* what the symlinks point at, on the host */
	char *root;
	int rootfd;
};

/* The prestate of each test: true runs it with the component walk. */
static bool mode_openat2 = false;
static bool mode_walk = true;
/* The mode of the running test. */
static bool with_walk;

static void mkfile(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, data, strlen(data)), 0);
}

static char *in_root(const struct fixture *f, const char *rel)
{
	char *p = str_printf("%s/%s", f->root, rel);

	assert_non_null(p);
	return p;
}

static int count_entries(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	return n;
}

/* root/: evil -> HOSTDIR, evil2 -> ../../../HOSTDIR, loop1 <-> loop2,
 * dangle -> /made/by/link, f (a file), d/ (a directory), d/up -> ../..,
 * d/abs -> HOSTDIR;
 * HOSTDIR holds only "secret". */
static int setup(void **state)
{
	const bool *walk = *state;
	struct fixture *f = calloc(1, sizeof(*f));
	_cleanup_free_ char *p = NULL;

	assert_non_null(f);
	with_walk = *walk;
	safepath_set_openat2(!with_walk);
	snprintf(f->base, sizeof(f->base), "/tmp/berth-safepath-XXXXXX");
	snprintf(f->hostdir, sizeof(f->hostdir), "/tmp/berth-hostdir-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	assert_non_null(mkdtemp(f->hostdir));
	f->root = str_printf("%s/root", f->base);
	assert_non_null(f->root);
	assert_int_equal(mkdir(f->root, 0755), 0);

	p = str_printf("%s/secret", f->hostdir);
	mkfile(p, "host secret");
	free(p);
	p = in_root(f, "evil");
	assert_int_equal(symlink(f->hostdir, p), 0);
	free(p);
	p = in_root(f, "evil2");
	{
		_cleanup_free_ char *target = str_printf("../../..%s", f->hostdir);

		assert_int_equal(symlink(target, p), 0);
	}
	free(p);
	p = in_root(f, "loop1");
	assert_int_equal(symlink("loop2", p), 0);
	free(p);
	p = in_root(f, "loop2");
	assert_int_equal(symlink("loop1", p), 0);
	free(p);
	p = in_root(f, "dangle");
	assert_int_equal(symlink("/made/by/link", p), 0);
	free(p);
	p = in_root(f, "f");
	mkfile(p, "root file");
	free(p);
	p = in_root(f, "d");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = in_root(f, "d/up");
	assert_int_equal(symlink("../..", p), 0);
	free(p);
	p = in_root(f, "d/abs");
	assert_int_equal(symlink(f->hostdir, p), 0);
	free(p);
	p = NULL;

	f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;

	close(f->rootfd);
	fs_remove_tree(f->base, &err);
	fs_remove_tree(f->hostdir, &err);
	free(f->root);
	free(f);
	safepath_set_openat2(true);
	return 0;
}

/* True when FD is the object at the host path PATH. */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void assert_host_untouched(const struct fixture *f)
{
	assert_int_equal(count_entries(f->hostdir), 1);
}

static void test_open_plain(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_close_ int fd = safepath_open(f->rootfd, "/f", O_RDONLY, &err);
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ char *d = in_root(f, "d");
	_cleanup_close_ int dfd = -1;

	assert_true(fd >= 0);
	assert_int_equal(fs_read_all_fd(fd, 100, &data, NULL, &err), 0);
	assert_string_equal(data, "root file");
	/* Relative paths start at the root too. */
	dfd = safepath_open(f->rootfd, "d", O_RDONLY | O_DIRECTORY, &err);
	assert_true(dfd >= 0);
	assert_true(same_file(dfd, d));
}

static void test_open_root_itself(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_close_ int a = safepath_open(f->rootfd, "/", O_PATH, &err);
	_cleanup_close_ int b = safepath_open(f->rootfd, "../../..", O_PATH, &err);
	_cleanup_close_ int c = safepath_open(f->rootfd, "d/up", O_PATH, &err);

	assert_true(a >= 0 && b >= 0 && c >= 0);
	assert_true(same_file(a, f->root));
	assert_true(same_file(b, f->root));
	/* d/up -> ../.. climbs to the root and stops there. */
	assert_true(same_file(c, f->root));
}

static void test_open_absolute_symlink_stays_inside(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *inside = str_printf("%s%s", f->root, f->hostdir);
	_cleanup_free_ char *secret = NULL;
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int fd = -1;

	/* The host's HOSTDIR/secret is not reachable ... */
	fd = safepath_open(f->rootfd, "/evil/secret", O_RDONLY, &err);
	assert_int_equal(fd, -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
	fd = safepath_open(f->rootfd, "/evil2/secret", O_RDONLY, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
	fd = safepath_open(f->rootfd, "/d/abs/secret", O_RDONLY, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
	fd = safepath_open(f->rootfd, "/../../..//d/../d/../..", O_PATH, &err);
	assert_true(fd >= 0);
	assert_true(same_file(fd, f->root));
	close(fd);

	/* ... but root/HOSTDIR/secret is. */
	assert_int_equal(fs_mkdir_p(inside, 0755, &err), 0);
	secret = str_printf("%s/secret", inside);
	mkfile(secret, "inside");
	fd = safepath_open(f->rootfd, "/evil2/secret", O_RDONLY, &err);
	assert_true(fd >= 0);
	assert_int_equal(fs_read_all_fd(fd, 100, &data, NULL, &err), 0);
	assert_string_equal(data, "inside");
	close(fd);
	free(data);
	data = NULL;
	/* An absolute target below the top starts again at the root. */
	fd = safepath_open(f->rootfd, "/d/abs/secret", O_RDONLY, &err);
	assert_true(fd >= 0);
	assert_int_equal(fs_read_all_fd(fd, 100, &data, NULL, &err), 0);
	assert_string_equal(data, "inside");
	assert_host_untouched(f);
}

static void test_open_dotdot_through_symlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *tmp = in_root(f, "tmp");
	_cleanup_free_ char *inside = str_printf("%s%s", f->root, f->hostdir);
	_cleanup_close_ int fd = -1;

	assert_int_equal(fs_mkdir_p(inside, 0755, &err), 0);
	/* ".." after a symlink is the parent of its target, as in the
	 * kernel: root/tmp. */
	fd = safepath_open(f->rootfd, "evil/..", O_PATH, &err);
	assert_true(fd >= 0);
	assert_true(same_file(fd, tmp));
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;

	assert_int_equal(safepath_open(f->rootfd, "/loop1", O_PATH, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_int_equal(err->sys_errno, ELOOP);
	berr_clear(&err);
	assert_int_equal(safepath_open(f->rootfd, "/f/x", O_PATH, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_int_equal(err->sys_errno, ENOTDIR);
	berr_clear(&err);
	assert_int_equal(safepath_open(f->rootfd, "/f", O_RDONLY | O_DIRECTORY, &err), -1);
	assert_int_equal(err->sys_errno, ENOTDIR);
	berr_clear(&err);
	assert_int_equal(safepath_open(f->rootfd, "/d/x", O_RDONLY | O_CREAT, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(safepath_open(f->rootfd, "/dangle", O_PATH, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
}

static void test_open_nofollow(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_close_ int fd = safepath_open(f->rootfd, "/evil", O_PATH | O_NOFOLLOW, &err);
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void test_mkdir_p_stays_inside(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *sub = str_printf("%s%s/sub", f->root, f->hostdir);
	_cleanup_free_ char *sub2 = str_printf("%s%s/sub2/deeper", f->root, f->hostdir);
	_cleanup_close_ int fd = safepath_mkdir_p(f->rootfd, "/evil/sub", 0755, &err);
	_cleanup_close_ int fd2 = -1;
	struct stat st;

	assert_true(fd >= 0);
	assert_true(same_file(fd, sub));
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	fd2 = safepath_mkdir_p(f->rootfd, "evil2/./sub2//deeper/", 0700, &err);
	assert_true(fd2 >= 0);
	assert_true(same_file(fd2, sub2));
	assert_int_equal(stat(sub2, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700 & ~(mode_t)022 & 0777);
	assert_host_untouched(f);
}

static void test_mkdir_p_existing_and_errors(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *d = in_root(f, "d");
	_cleanup_close_ int fd = safepath_mkdir_p(f->rootfd, "/d", 0755, &err);

	assert_true(fd >= 0);
	assert_true(same_file(fd, d));
	assert_int_equal(safepath_mkdir_p(f->rootfd, "/f", 0755, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(safepath_mkdir_p(f->rootfd, "/f/below", 0755, &err), -1);
	assert_int_equal(err->sys_errno, ENOTDIR);
	berr_clear(&err);
	assert_int_equal(safepath_mkdir_p(f->rootfd, "/loop1/x", 0755, &err), -1);
	assert_int_equal(err->sys_errno, ELOOP);
}

static void test_mkdir_p_dangling_symlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *made = in_root(f, "made/by/link/x");
	_cleanup_close_ int fd = safepath_mkdir_p(f->rootfd, "/dangle/x", 0755, &err);

	assert_true(fd >= 0);
	assert_true(same_file(fd, made));
	assert_false(fs_exists("/made/by/link"));
}

static void test_create_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *inside = str_printf("%s%s/newfile", f->root, f->hostdir);
	_cleanup_free_ char *at_link = in_root(f, "made/by/link");
	_cleanup_free_ char *existing = in_root(f, "f");
	_cleanup_close_ int a = safepath_create_file(f->rootfd, "/evil/newfile", 0600, &err);
	_cleanup_close_ int b = -1, c = -1;
	_cleanup_free_ char *data = NULL;
	struct stat st;

	assert_true(a >= 0);
	assert_true(same_file(a, inside));
	assert_int_equal(stat(inside, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	assert_host_untouched(f);

	/* A dangling symlink at the end: the file is made at its target,
	 * inside the root. */
	b = safepath_create_file(f->rootfd, "/dangle", 0644, &err);
	assert_true(b >= 0);
	assert_true(same_file(b, at_link));
	assert_false(fs_exists("/made/by/link"));

	/* What is there stays. */
	c = safepath_create_file(f->rootfd, "/f", 0644, &err);
	assert_true(c >= 0);
	assert_true(same_file(c, existing));
	assert_int_equal(fs_read_file(existing, 100, &data, NULL, &err), 0);
	assert_string_equal(data, "root file");
}

/* openat2 refuses magic links; the walk reads them as text, inside the
 * root.  Either way /proc/self/root cannot lead to the host's "/". */
static void test_magic_link(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_close_ int hostroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *proc = in_root(f, "proc/self");

	assert_true(hostroot >= 0);
	if (!with_walk) {
		fd = safepath_open(hostroot, "/proc/self/root/etc", O_PATH, &err);
		assert_int_equal(fd, -1);
		assert_int_equal(err->sys_errno, ELOOP);
		return;
	}
	/* A fake /proc/self/root -> / in the root. */
	assert_int_equal(fs_mkdir_p(proc, 0755, &err), 0);
	{
		_cleanup_free_ char *link = in_root(f, "proc/self/root");

		assert_int_equal(symlink("/", link), 0);
	}
	fd = safepath_open(f->rootfd, "/proc/self/root/f", O_PATH, &err);
	assert_true(fd >= 0);
	{
		_cleanup_free_ char *file = in_root(f, "f");

		assert_true(same_file(fd, file));
	}
}

static void test_fd_path(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	char buf[SAFEPATH_FD_PATH_MAX];
	char small[8];

	(void)state;
	assert_int_equal(safepath_fd_path(7, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/proc/self/fd/7");
	assert_int_equal(safepath_fd_path(INT_MAX, buf, sizeof(buf), &err), 0);
	assert_int_equal(safepath_fd_path(-1, buf, sizeof(buf), &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(safepath_fd_path(7, small, sizeof(small), &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
}

static void test_clean(void **state)
{
	static const char *const cases[][2] = {
		{ "", "/" },
		{ "/", "/" },
		{ "//a/./b/../c/", "/a/c" },
		{ "..", "/" },
		{ "/../../x", "/x" },
		{ "a/b", "/a/b" },
		{ "/a/b/..", "/a" },
		{ "/a/..", "/" },
		{ "/...", "/..." },
		{ "/a/.b/..c", "/a/.b/..c" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_free_ char *c = safepath_clean(cases[i][0], NULL);

		assert_non_null(c);
		assert_string_equal(c, cases[i][1]);
	}
}

#define BOTH(fn)                                                                      \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &mode_openat2), \
		cmocka_unit_test_prestate_setup_teardown(fn##_walk, setup, teardown, &mode_walk)

/* The same test under its own name for the walk. */
#define WALK_VARIANT(fn)                    \
	static void fn##_walk(void **state) \
	{                                   \
		fn(state);                  \
	}

WALK_VARIANT(test_open_plain)
WALK_VARIANT(test_open_root_itself)
WALK_VARIANT(test_open_absolute_symlink_stays_inside)
WALK_VARIANT(test_open_dotdot_through_symlink)
WALK_VARIANT(test_open_errors)
WALK_VARIANT(test_open_nofollow)
WALK_VARIANT(test_mkdir_p_stays_inside)
WALK_VARIANT(test_mkdir_p_existing_and_errors)
WALK_VARIANT(test_mkdir_p_dangling_symlink)
WALK_VARIANT(test_create_file)
WALK_VARIANT(test_magic_link)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_open_plain),
		BOTH(test_open_root_itself),
		BOTH(test_open_absolute_symlink_stays_inside),
		BOTH(test_open_dotdot_through_symlink),
		BOTH(test_open_errors),
		BOTH(test_open_nofollow),
		BOTH(test_mkdir_p_stays_inside),
		BOTH(test_mkdir_p_existing_and_errors),
		BOTH(test_mkdir_p_dangling_symlink),
		BOTH(test_create_file),
		BOTH(test_magic_link),
		cmocka_unit_test(test_fd_path),
		cmocka_unit_test(test_clean),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
