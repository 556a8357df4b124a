/* Tests for the container's /dev: device nodes made with mknod (numbers,
 * modes whatever the umask, owners, replacement of what was there, paths
 * through symlinks kept inside the root), the symlinks and the console
 * target, the bind mounts used in a user namespace, and the /dev made ahead
 * by a seed, which must be what a fresh /dev would have been. */
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
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "runtime/rootfs.h"
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
	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, false, &err), 0);
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
	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, false, &err), 0);
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

	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, false, &err), 0);
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

	assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, false, &err), 0);
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

		assert_int_equal(runtime_rootfs_setup_dev(f->rootfd, &spec, &opts, false, &err),
				 -1);
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
	CHILD_OK(runtime_rootfs_setup_dev(rootfd, &spec, &opts, false, &err), err);
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

/* ----- the /dev made ahead ----- */

/* One prepare of a root with Docker's mounts around /dev, whose /dev mount
 * has DEV_DATA and whose spec has DEVICES, in a child; KEEP makes the /dev
 * ahead first, as a seed does.  What /dev holds then is written to DUMP. */
struct dev_case {
	const struct fixture *f;
	const char *dev_data;
	const struct runtime_device *devices;
	size_t n_devices;
	bool keep;
	bool two_dev_mounts;
	bool in_user_ns;
	bool want_premade; /* the /dev made ahead is the one the root has */
	const char *dump;
};

/* The device number of the /dev made ahead, found among the fds of this
 * process, or 0 when none is open. */
static dev_t kept_dev_number(void)
{
	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	dev_t found = 0;

	while (d != NULL && (de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);
		struct statfs sfs;
		struct stat st;

		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fstatfs(fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC &&
		    fstatat(fd, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    fstatat(fd, "null", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
		    fstat(fd, &st) == 0)
			found = st.st_dev;
	}
	return found;
}

/* Every entry under DIR, sorted, with its type, numbers, mode, owner, size
 * and symlink target. */
static int dump_dir(FILE *out, const char *dir, const char *rel)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	int rc = n < 0 ? -1 : 0;

	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = str_printf("%s/%s", dir, names[i]->d_name);
		_cleanup_free_ char *sub = str_printf("%s%s/", rel, names[i]->d_name);
		char target[PATH_MAX] = "";
		struct stat st;

		if (rc == 0 && strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			if (path == NULL || sub == NULL || lstat(path, &st) < 0)
				rc = -1;
			else if (S_ISLNK(st.st_mode) &&
				 readlink(path, target, sizeof(target) - 1) < 0)
				rc = -1;
			else
				fprintf(out, "%s%s %o %u:%u %u:%u %lld %s\n", rel, names[i]->d_name,
					(unsigned int)st.st_mode, major(st.st_rdev),
					minor(st.st_rdev), (unsigned int)st.st_uid,
					(unsigned int)st.st_gid, (long long)st.st_size, target);
			if (rc == 0 && S_ISDIR(st.st_mode))
				rc = dump_dir(out, path, sub);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The line of MOUNTINFO for the mount on POINT less its ids and numbers:
 * its options, type, source and super options. */
static int dump_mount(FILE *out, const char *point)
{
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *info = NULL;
	char *p, *line;

	if (fs_read_file("/proc/self/mountinfo", 16 << 20, &info, NULL, &err) < 0)
		return -1;
	p = info;
	while ((line = strsep(&p, "\n")) != NULL) {
		char *fields[6], *rest = line, *tail;

		for (int i = 0; i < 6; i++)
			fields[i] = strsep(&rest, " ");
		if (rest == NULL || strcmp(fields[4], point) != 0)
			continue;
		tail = strstr(rest, "- ");
		fprintf(out, "mount %s %s\n", fields[5], tail != NULL ? tail : "(no type)");
		return 0;
	}
	return -1;
}

static int child_dev_case(void *arg)
{
	const struct dev_case *c = arg;
	struct berr *err = NULL;
	struct runtime_mount mounts[] = {
		{ .destination = (char *)"/proc",
		  .type = (char *)"proc",
		  .source = (char *)"proc",
		  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV },
		{ .destination = (char *)"/dev",
		  .type = (char *)"tmpfs",
		  .source = (char *)"tmpfs",
		  .flags = MS_NOSUID | MS_STRICTATIME,
		  .data = (char *)c->dev_data },
		{ .destination = (char *)"/dev/pts",
		  .type = (char *)"devpts",
		  .source = (char *)"devpts",
		  .flags = MS_NOSUID | MS_NOEXEC,
		  .data = (char *)"newinstance,ptmxmode=0666,mode=0620,gid=5" },
		{ .destination = (char *)"/dev/shm",
		  .type = (char *)"tmpfs",
		  .source = (char *)"shm",
		  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV,
		  .data = (char *)"mode=1777,size=65536k" },
		{ .destination = (char *)"/dev/mqueue",
		  .type = (char *)"mqueue",
		  .source = (char *)"mqueue",
		  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV },
		{ .destination = (char *)"/dev/",
		  .type = (char *)"tmpfs",
		  .source = (char *)"tmpfs",
		  .flags = MS_NOSUID | MS_STRICTATIME,
		  .data = (char *)c->dev_data },
	};
	struct runtime_spec spec = {
		.mounts = mounts,
		.n_mounts = c->two_dev_mounts ? 6 : 5,
		.devices = (struct runtime_device *)c->devices,
		.n_devices = c->n_devices,
	};
	struct runtime_rootfs_opts opts = { .rootfs = c->f->root,
					    .bundle = c->f->root,
					    .in_user_ns = c->in_user_ns };
	_cleanup_free_ char *dev = str_printf("%s/dev", c->f->root);
	_cleanup_fclose_ FILE *out = NULL;
	dev_t premade = 0;
	struct stat st;

	CHILD_CHECK(dev != NULL);
	if (c->keep) {
		runtime_rootfs_keep_dev();
		premade = kept_dev_number();
		CHILD_CHECK(premade != 0);
	}
	CHILD_OK(runtime_rootfs_prepare(&spec, &opts, &err), err);
	/* Used or not, it is let go. */
	CHILD_CHECK(kept_dev_number() == 0);
	CHILD_CHECK(stat(dev, &st) == 0);
	CHILD_CHECK((st.st_dev == premade) == c->want_premade);
	if (c->dump == NULL)
		return 0;
	out = fopen(c->dump, "we");
	CHILD_CHECK(out != NULL);
	CHILD_CHECK(dump_dir(out, dev, "") == 0);
	CHILD_CHECK(dump_mount(out, dev) == 0);
	return 0;
}

/* The text of the dump CASE's child wrote. */
static char *run_dev_case(struct dev_case *c, const char *name)
{
	_cleanup_berr_ struct berr *err = NULL;
	char *text = NULL;

	c->dump = str_printf("%s/%s", c->f->hostdir, name);
	assert_non_null(c->dump);
	assert_int_equal(run_in_mount_ns(child_dev_case, c, 0), 0);
	assert_int_equal(fs_read_file(c->dump, 1 << 20, &text, NULL, &err), 0);
	free((char *)c->dump);
	c->dump = NULL;
	return text;
}

/* Docker's /dev made ahead is what a new one gets: nodes, links, console,
 * /dev/core, the mount's options, and the spec's own devices in it. */
static void test_premade_dev_is_a_fresh_one(void **state)
{
	struct fixture *f = *state;
	struct runtime_device tun = {
		.type = 'c', .path = (char *)"/dev/net/tun", .major = 10, .minor = 200
	};
	struct dev_case fresh = { .f = f, .dev_data = "mode=755,size=65536k" };
	struct dev_case premade = {
		.f = f, .dev_data = "mode=755,size=65536k", .keep = true, .want_premade = true
	};
	_cleanup_free_ char *want = run_dev_case(&fresh, "fresh");
	_cleanup_free_ char *got = run_dev_case(&premade, "premade");
	_cleanup_free_ char *want_tun = NULL;
	_cleanup_free_ char *got_tun = NULL;

	assert_non_null(strstr(want, "null 20666 1:3 0:0 0 \n"));
	assert_non_null(strstr(want, "ptmx 120777 0:0 0:0 8 pts/ptmx\n"));
	assert_non_null(strstr(want, "console 100600 0:0 0:0 0 \n"));
	assert_non_null(strstr(want, "mount rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755"));
	assert_string_equal(got, want);

	fresh.devices = premade.devices = &tun;
	fresh.n_devices = premade.n_devices = 1;
	want_tun = run_dev_case(&fresh, "fresh-tun");
	got_tun = run_dev_case(&premade, "premade-tun");
	assert_non_null(strstr(want_tun, "net/tun 20666 10:200 0:0 0 \n"));
	assert_string_equal(got_tun, want_tun);
}

/* A /dev mount with other options gets a new tmpfs, as without one made
 * ahead. */
static void test_premade_dev_other_options(void **state)
{
	struct fixture *f = *state;
	struct dev_case fresh = { .f = f, .dev_data = "mode=755,size=1m" };
	struct dev_case kept = { .f = f, .dev_data = "mode=755,size=1m", .keep = true };
	_cleanup_free_ char *want = run_dev_case(&fresh, "fresh");
	_cleanup_free_ char *got = run_dev_case(&kept, "kept");

	assert_non_null(strstr(want, "size=1024k"));
	assert_string_equal(got, want);
}

/* A spec device in the place of a default one wins, and the /dev made
 * ahead is not used. */
static void test_premade_dev_spec_device_wins(void **state)
{
	struct fixture *f = *state;
	struct runtime_device null_as_zero = {
		.type = 'c', .path = (char *)"/dev/null", .major = 1, .minor = 5
	};
	struct dev_case fresh = {
		.f = f, .dev_data = "mode=755,size=65536k", .devices = &null_as_zero, .n_devices = 1
	};
	struct dev_case kept = fresh;
	_cleanup_free_ char *want = NULL;
	_cleanup_free_ char *got = NULL;

	kept.keep = true;
	want = run_dev_case(&fresh, "fresh");
	got = run_dev_case(&kept, "kept");
	assert_non_null(strstr(want, "null 20666 1:5 0:0 0 \n"));
	assert_string_equal(got, want);
}

/* Nor is it with two /dev mounts, or in a user namespace. */
static void test_premade_dev_not_used(void **state)
{
	struct fixture *f = *state;
	struct dev_case twice = {
		.f = f, .dev_data = "mode=755,size=65536k", .keep = true, .two_dev_mounts = true
	};
	struct dev_case user_ns = {
		.f = f, .dev_data = "mode=755,size=65536k", .keep = true, .in_user_ns = true
	};

	assert_int_equal(run_in_mount_ns(child_dev_case, &twice, 0), 0);
	assert_int_equal(run_in_mount_ns(child_dev_case, &user_ns, 0), 0);
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
		cmocka_unit_test_setup_teardown(test_premade_dev_is_a_fresh_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_premade_dev_other_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_premade_dev_spec_device_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_premade_dev_not_used, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
