/* Tests for the container's /dev: device nodes made with mknod (numbers,
 * modes whatever the umask, owners, replacement of what was there, paths
 * through symlinks kept inside the root), the symlinks and the console
 * target, and the bind mounts used in a user namespace. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "runtime/rootfs_internal.h"
#include "runtime/spec.h"
#include "rootfs_testutil.h"

struct fixture {
	char root[64];
	char hostdir[64];
	int rootfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	_cleanup_free_ char *dev = NULL;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/berth-devtest-XXXXXX");
	snprintf(f->hostdir, sizeof(f->hostdir), "/tmp/berth-devhost-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_non_null(mkdtemp(f->hostdir));
	dev = str_printf("%s/dev", f->root);
	assert_non_null(dev);
	assert_int_equal(mkdir(dev, 0755), 0);
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
	fs_remove_tree(f->root, &err);
	fs_remove_tree(f->hostdir, &err);
	free(f);
	return 0;
}

static char *in_root(const struct fixture *f, const char *rel)
{
	char *p = str_printf("%s%s", f->root, rel);

	assert_non_null(p);
	return p;
}

static void assert_node(const struct fixture *f, const char *rel, mode_t type, unsigned int maj,
			unsigned int min, mode_t mode, uid_t uid, gid_t gid)
{
	_cleanup_free_ char *p = in_root(f, rel);
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & S_IFMT, type);
	if (type != S_IFIFO) {
		assert_int_equal(major(st.st_rdev), maj);
		assert_int_equal(minor(st.st_rdev), min);
	}
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
}

static void assert_link(const struct fixture *f, const char *rel, const char *want)
{
	_cleanup_free_ char *p = in_root(f, rel);
	char buf[PATH_MAX];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static struct runtime_mount dev_tmpfs = {
	.destination = (char *)"/dev",
	.type = (char *)"tmpfs",
	.source = (char *)"tmpfs",
};

static void test_defaults_links_and_spec_devices(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *existing = in_root(f, "/dev/existing");
	_cleanup_free_ char *evil = in_root(f, "/dev/evil");
	_cleanup_free_ char *ptmx = in_root(f, "/dev/ptmx");
	_cleanup_free_ char *landed = str_printf("%s%s/node", f->root, f->hostdir);
	_cleanup_free_ char *console = in_root(f, "/dev/console");
	_cleanup_free_ char *core = in_root(f, "/dev/core");
	struct runtime_device devices[] = {
		{ .type = 'c',
		  .path = (char *)"/dev/full",
		  .major = 1,
		  .minor = 7,
		  .has_file_mode = true,
		  .file_mode = 0600 },
		{ .type = 'c',
		  .path = (char *)"/dev/net/tun",
		  .major = 10,
		  .minor = 200,
		  .has_uid = true,
		  .uid = 1000,
		  .has_gid = true,
		  .gid = 1001 },
		{ .type = 'b', .path = (char *)"/dev/existing", .major = 7, .minor = 0 },
		{ .type = 'u', .path = (char *)"dev/evil/node", .major = 1, .minor = 5 },
		{ .type = 'p',
		  .path = (char *)"/dev/fifo",
		  .has_file_mode = true,
		  .file_mode = 0640 },
	};
	struct runtime_spec spec = {
		.mounts = &dev_tmpfs,
		.n_mounts = 1,
		.devices = devices,
		.n_devices = sizeof(devices) / sizeof(devices[0]),
	};
	struct runtime_rootfs_opts opts = { .rootfs = f->root, .bundle = f->root };
	struct stat st;

	assert_int_equal(testutil_write(existing, "a file in the way"), 0);
	assert_int_equal(testutil_write(ptmx, "an image's ptmx"), 0);
	assert_int_equal(symlink(f->hostdir, evil), 0);

	umask(027);
	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, &err), 0);
	/* The umask is back. */
	assert_int_equal(umask(022), 027);

	/* Modes are exact whatever the umask was. */
	assert_node(f, "/dev/null", S_IFCHR, 1, 3, 0666, 0, 0);
	assert_node(f, "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0);
	assert_node(f, "/dev/random", S_IFCHR, 1, 8, 0666, 0, 0);
	assert_node(f, "/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0);
	assert_node(f, "/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0);
	/* The spec's /dev/full wins over the default. */
	assert_node(f, "/dev/full", S_IFCHR, 1, 7, 0600, 0, 0);
	assert_node(f, "/dev/net/tun", S_IFCHR, 10, 200, 0666, 1000, 1001);
	assert_node(f, "/dev/existing", S_IFBLK, 7, 0, 0666, 0, 0);
	assert_node(f, "/dev/fifo", S_IFIFO, 0, 0, 0640, 0, 0);
	/* Through dev/evil -> HOSTDIR, inside the root. */
	assert_int_equal(lstat(landed, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(testutil_count_entries(f->hostdir), 0);

	assert_link(f, "/dev/fd", "/proc/self/fd");
	assert_link(f, "/dev/stdin", "/proc/self/fd/0");
	assert_link(f, "/dev/stdout", "/proc/self/fd/1");
	assert_link(f, "/dev/stderr", "/proc/self/fd/2");
	assert_link(f, "/dev/ptmx", "pts/ptmx");
	/* No proc in this root: no /dev/core. */
	assert_int_equal(lstat(core, &st), -1);
	assert_int_equal(lstat(console, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);

	/* Doing it again replaces the nodes and keeps the links. */
	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, &err), 0);
	assert_node(f, "/dev/null", S_IFCHR, 1, 3, 0666, 0, 0);
	assert_link(f, "/dev/ptmx", "pts/ptmx");
}

static void test_bound_dev_left_alone(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *dev = in_root(f, "/dev");
	struct runtime_mount bound = { .destination = (char *)"/dev/",
				       .type = (char *)"bind",
				       .source = (char *)"/dev",
				       .flags = MS_BIND | MS_REC,
				       .bind = true,
				       .recursive = true };
	struct runtime_device tun = {
		.type = 'c', .path = (char *)"/dev/net/tun", .major = 10, .minor = 200
	};
	struct runtime_spec spec = {
		.mounts = &bound, .n_mounts = 1, .devices = &tun, .n_devices = 1
	};
	struct runtime_rootfs_opts opts = { .rootfs = f->root, .bundle = f->root };

	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, &err), 0);
	assert_int_equal(testutil_count_entries(dev), 0);
}

static void test_no_dev_mount_only_spec_devices(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *dev = in_root(f, "/dev");
	struct runtime_device tun = {
		.type = 'c', .path = (char *)"/dev/net/tun", .major = 10, .minor = 200
	};
	struct runtime_spec spec = { .devices = &tun, .n_devices = 1 };
	struct runtime_rootfs_opts opts = { .rootfs = f->root, .bundle = f->root };

	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, &err), 0);
	assert_node(f, "/dev/net/tun", S_IFCHR, 10, 200, 0666, 0, 0);
	/* Only dev/net: no defaults, no links. */
	assert_int_equal(testutil_count_entries(dev), 1);
}

static void test_bad_devices(void **state)
{
	struct fixture *f = *state;
	struct runtime_device bad[] = {
		{ .type = 'x', .path = (char *)"/dev/x", .major = 1, .minor = 3 },
		{ .type = 'c', .path = (char *)"/dev/..", .major = 1, .minor = 3 },
		{ .type = 'c', .path = (char *)"/", .major = 1, .minor = 3 },
		{ .type = 'c', .path = (char *)"/dev/big", .major = 1 << 20, .minor = 3 },
		{ .type = 'c', .path = (char *)"/dev/neg", .major = 1, .minor = -1 },
	};
	struct runtime_rootfs_opts opts = { .rootfs = f->root, .bundle = f->root };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_berr_ struct berr *err = NULL;
		struct runtime_spec spec = { .devices = &bad[i], .n_devices = 1 };

		assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		assert_non_null(strstr(err->msg, bad[i].path));
	}
}

/* In a user namespace the host's nodes are bind mounted on empty files. */
static int child_bind(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	struct runtime_spec spec = { .mounts = &dev_tmpfs, .n_mounts = 1 };
	struct runtime_rootfs_opts opts = { .rootfs = f->root,
					    .bundle = f->root,
					    .in_user_ns = true };
	static const char *const names[] = { "null", "zero", "full", "random", "urandom", "tty" };
	/* An fd of the parent's mount namespace cannot be a mount target
	 * here. */
	int rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	CHILD_CHECK(rootfd >= 0);
	CHILD_OK(runtime_rootfs_setup_dev(rootfd, &spec, &opts, &err), err);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		_cleanup_free_ char *p = str_printf("%s/dev/%s", f->root, names[i]);
		_cleanup_free_ char *host = str_printf("/dev/%s", names[i]);
		struct stat a, b;
		struct statx stx;

		CHILD_CHECK(p != NULL && host != NULL);
		CHILD_CHECK(stat(p, &a) == 0 && stat(host, &b) == 0);
		CHILD_CHECK(S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev && a.st_ino == b.st_ino);
		CHILD_CHECK(statx(AT_FDCWD, p, 0, 0, &stx) == 0);
		CHILD_CHECK(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	}
	return 0;
}

static void test_user_ns_binds_host_devices(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *null = in_root(f, "/dev/null");
	struct stat st;

	assert_int_equal(run_in_mount_ns(child_bind, f, 0), 0);
	/* Under the mount, gone with the child's namespace, an empty file. */
	assert_int_equal(lstat(null, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_links_and_spec_devices, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bound_dev_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dev_mount_only_spec_devices, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_ns_binds_host_devices, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
