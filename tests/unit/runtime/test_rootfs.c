/* Tests for the rootfs module on the real kernel: a busybox root in a
 * temporary directory is prepared, pivoted into and finalized by a forked
 * child in its own mount namespace, which then checks what it sees; the
 * parent checks that nothing reached the host. */
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
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
	char base[64];	  /* the bundle: rootfs/, src/, hostfile */
	char hostdir[64]; /* where rootfs/evil points; must stay empty */
	char *rootfs;
	char *src;
	char *hostfile;
	/* the memory cgroup of this process, on the host */
	dev_t memcg_dev;
	ino_t memcg_ino;
	int n_v1_hierarchies;
};

static char *join(const char *a, const char *b)
{
	char *p = str_printf("%s/%s", a, b);

	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	_cleanup_free_ char *p = NULL;

	assert_non_null(f);
	snprintf(f->base, sizeof(f->base), "/tmp/berth-rootfstest-XXXXXX");
	snprintf(f->hostdir, sizeof(f->hostdir), "/tmp/berth-rootfshost-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	assert_non_null(mkdtemp(f->hostdir));
	f->rootfs = join(f->base, "rootfs");
	f->src = join(f->base, "src");
	f->hostfile = join(f->base, "hostfile");
	assert_int_equal(testutil_make_busybox_rootfs(f->rootfs), 0);
	assert_int_equal(mkdir(f->src, 0755), 0);
	p = join(f->src, "marker");
	assert_int_equal(testutil_write(p, "marker"), 0);
	free(p);
	assert_int_equal(testutil_write(f->hostfile, "from the host"), 0);

	p = join(f->rootfs, "evil");
	assert_int_equal(symlink(f->hostdir, p), 0);
	free(p);
	p = join(f->rootfs, "masked_dir");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = join(f->rootfs, "masked_dir/inner");
	assert_int_equal(testutil_write(p, "hidden"), 0);
	free(p);
	p = join(f->rootfs, "ro_path");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = join(f->rootfs, "ro_path/file");
	assert_int_equal(testutil_write(p, "ro"), 0);
	free(p);
	p = NULL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;

	fs_remove_tree(f->base, &err);
	fs_remove_tree(f->hostdir, &err);
	free(f->rootfs);
	free(f->src);
	free(f->hostfile);
	free(f);
	return 0;
}

static struct runtime_mount mnt(const char *dest, const char *type, const char *source,
				unsigned long flags, const char *data)
{
	return (struct runtime_mount){
		.destination = (char *)dest,
		.type = (char *)type,
		.source = (char *)source,
		.flags = flags,
		.data = (char *)data,
	};
}

static struct runtime_mount bind_mnt(const char *dest, const char *source, unsigned long flags,
				     unsigned long clear)
{
	struct runtime_mount m = mnt(dest, "bind", source, MS_BIND | flags, NULL);

	m.bind = true;
	m.recursive = (flags & MS_REC) != 0;
	m.clear_flags = clear;
	return m;
}

/* Nothing of the test may show in the host's mount table. */
static void assert_host_mounts_clean(const struct fixture *f)
{
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *info = NULL;

	assert_int_equal(fs_read_file("/proc/self/mountinfo", 16 << 20, &info, NULL, &err), 0);
	assert_null(strstr(info, f->base));
	assert_null(strstr(info, f->hostdir));
}

/* Runs SCRIPT with the rootfs's busybox sh; returns its exit status. */
static int run_sh(const char *script)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/busybox", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_node(const char *path, mode_t type, unsigned int maj, unsigned int min,
		       mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st) < 0 || (st.st_mode & S_IFMT) != type ||
	    (type != S_IFIFO && (major(st.st_rdev) != maj || minor(st.st_rdev) != min)) ||
	    (st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid) {
		fprintf(stderr, "device %s: wrong node (mode %o, %u:%u, owner %u:%u)\n", path,
			(unsigned int)st.st_mode, major(st.st_rdev), minor(st.st_rdev),
			(unsigned int)st.st_uid, (unsigned int)st.st_gid);
		_exit(1);
	}
}

static void check_link(const char *path, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0 || (buf[n] = '\0', strcmp(buf, want) != 0)) {
		fprintf(stderr, "symlink %s: want %s\n", path, want);
		_exit(1);
	}
}

static bool is_fs(const char *path, long magic)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == (__typeof__(sfs.f_type))magic;
}

static bool is_readonly(const char *path)
{
	struct statvfs sv;

	return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/* errno of creating the file PATH, 0 when it could be made (and is gone). */
static int create_errno(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	unlink(path);
	return 0;
}

/* ----- the full sequence ----- */

static int child_full(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	_cleanup_free_ char *evil_x = str_printf("%s/x/marker", f->hostdir);
	_cleanup_free_ char *data = NULL;
	struct runtime_mount mounts[] = {
		mnt("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"),
		mnt("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620"),
		mnt("/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "size=65536k"),
		mnt("/run", "tmpfs", "tmpfs", 0, "size=1m"),
		mnt("/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		bind_mnt("/ro", "src", MS_RDONLY | MS_NOSUID, 0),
		bind_mnt("/rw", f->src, MS_REC, 0),
		bind_mnt("/etc/hostfile", f->hostfile, MS_RDONLY, 0),
		bind_mnt("/evil/x", f->src, 0, 0),
	};
	struct runtime_device devices[] = {
		{ .type = 'c',
		  .path = (char *)"/dev/net/tun",
		  .major = 10,
		  .minor = 200,
		  .has_file_mode = true,
		  .file_mode = 0620,
		  .has_uid = true,
		  .uid = 1,
		  .has_gid = true,
		  .gid = 2 },
		{ .type = 'p',
		  .path = (char *)"/dev/myfifo",
		  .has_file_mode = true,
		  .file_mode = 0600 },
		/* replaces the default /dev/full with other numbers */
		{ .type = 'c', .path = (char *)"/dev/full", .major = 1, .minor = 3 },
	};
	char *masked[] = { (char *)"/proc/kcore", (char *)"/proc/version", (char *)"/masked_dir",
			   (char *)"/not/there", NULL };
	char *readonly[] = { (char *)"/ro_path", (char *)"/missing", NULL };
	struct runtime_sysctl sysctls[] = { { (char *)"kernel.hostname", (char *)"berth-test" } };
	struct runtime_spec spec = {
		.mounts = mounts,
		.n_mounts = sizeof(mounts) / sizeof(mounts[0]),
		.devices = devices,
		.n_devices = sizeof(devices) / sizeof(devices[0]),
		.masked_paths = masked,
		.readonly_paths = readonly,
		.sysctls = sysctls,
		.n_sysctls = 1,
	};
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs, .bundle = f->base };
	bool kcore = fs_exists("/proc/kcore");
	char cwd[PATH_MAX];
	char host[64];
	int ptmx;

	CHILD_OK(runtime_rootfs_prepare(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_pivot(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_finalize(&spec, &opts, &err), err);

	/* The root is the rootfs, the host is gone. */
	CHILD_CHECK(getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, "/") == 0);
	CHILD_CHECK(fs_exists("/bin/busybox"));
	CHILD_CHECK(!fs_exists("/usr"));
	CHILD_CHECK(!fs_exists(f->base));

	/* File systems. */
	CHILD_CHECK(is_fs("/proc", PROC_SUPER_MAGIC));
	CHILD_CHECK(is_fs("/sys", SYSFS_MAGIC) && is_readonly("/sys"));
	CHILD_CHECK(is_fs("/dev", TMPFS_MAGIC) && is_fs("/dev/shm", TMPFS_MAGIC));
	CHILD_CHECK(is_fs("/dev/pts", DEVPTS_SUPER_MAGIC));
	{
		struct statvfs sv;

		CHILD_CHECK(statvfs("/run", &sv) == 0);
		CHILD_CHECK((unsigned long long)sv.f_blocks * sv.f_frsize == 1024 * 1024);
	}

	/* Binds: relative source, read-only, file, and one whose destination
	 * went through a symlink to the host's directory. */
	CHILD_CHECK(fs_read_file("/ro/marker", 100, &data, NULL, &err) == 0);
	CHILD_CHECK(strcmp(data, "marker") == 0);
	CHILD_CHECK(is_readonly("/ro") && create_errno("/ro/new") == EROFS);
	CHILD_CHECK(!is_readonly("/rw") && create_errno("/rw/new") == 0);
	free(data);
	data = NULL;
	CHILD_CHECK(fs_read_file("/etc/hostfile", 100, &data, NULL, &err) == 0);
	CHILD_CHECK(strcmp(data, "from the host") == 0);
	CHILD_CHECK(is_readonly("/etc/hostfile"));
	CHILD_CHECK(fs_exists(evil_x));

	/* Devices, with their numbers, modes and owners. */
	check_node("/dev/null", S_IFCHR, 1, 3, 0666, 0, 0);
	check_node("/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0);
	check_node("/dev/full", S_IFCHR, 1, 3, 0666, 0, 0);
	check_node("/dev/random", S_IFCHR, 1, 8, 0666, 0, 0);
	check_node("/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0);
	check_node("/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0);
	check_node("/dev/net/tun", S_IFCHR, 10, 200, 0620, 1, 2);
	check_node("/dev/myfifo", S_IFIFO, 0, 0, 0600, 0, 0);
	check_link("/dev/fd", "/proc/self/fd");
	check_link("/dev/stdin", "/proc/self/fd/0");
	check_link("/dev/stdout", "/proc/self/fd/1");
	check_link("/dev/stderr", "/proc/self/fd/2");
	check_link("/dev/ptmx", "pts/ptmx");
	if (kcore)
		check_link("/dev/core", "/proc/kcore");
	else
		CHILD_CHECK(access("/dev/core", F_OK) < 0 && errno == ENOENT);
	{
		struct stat st;

		CHILD_CHECK(lstat("/dev/console", &st) == 0 && S_ISREG(st.st_mode));
	}
	/* The container's own devpts answers /dev/ptmx. */
	ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHILD_CHECK(ptmx >= 0);
	close(ptmx);

	/* Masked and read-only paths. */
	free(data);
	data = NULL;
	CHILD_CHECK(fs_read_file("/proc/version", 4096, &data, NULL, &err) == 0);
	CHILD_CHECK(data[0] == '\0');
	check_node("/proc/version", S_IFCHR, 1, 3, 0666, 0, 0);
	CHILD_CHECK(testutil_count_entries("/masked_dir") == 0);
	CHILD_CHECK(create_errno("/masked_dir/new") == EROFS);
	CHILD_CHECK(open("/ro_path/file", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
	CHILD_CHECK(create_errno("/ro_path/new") == EROFS);
	CHILD_CHECK(fs_exists("/ro_path/file"));

	/* The sysctl, in this child's own UTS namespace. */
	CHILD_CHECK(gethostname(host, sizeof(host)) == 0 && strcmp(host, "berth-test") == 0);

	/* And a program runs in it. */
	CHILD_CHECK(run_sh("test -c /dev/null && test -L /dev/fd && test ! -s /proc/version && "
			   "test \"$(hostname)\" = berth-test && echo ok > /run/ok") == 0);
	CHILD_CHECK(fs_exists("/run/ok"));
	return 0;
}

static void test_prepare_pivot_finalize(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *landed = str_printf("%s%s/x", f->rootfs, f->hostdir);
	_cleanup_free_ char *target = join(f->rootfs, "etc/hostfile");
	struct stat st;

	assert_int_equal(run_in_mount_ns(child_full, f, CLONE_NEWUTS), 0);
	/* The bind through rootfs/evil landed inside the rootfs. */
	assert_int_equal(testutil_count_entries(f->hostdir), 0);
	assert_int_equal(stat(landed, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* The target of the file bind is an empty file in the rootfs. */
	assert_int_equal(stat(target, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	assert_host_mounts_clean(f);
}

/* ----- move + chroot instead of pivot_root ----- */

static int child_no_pivot(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	struct runtime_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755"),
	};
	struct runtime_spec spec = { .mounts = mounts, .n_mounts = 2 };
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs,
					    .bundle = f->base,
					    .no_pivot = true };
	_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char cwd[PATH_MAX];
	struct stat st;

	CHILD_CHECK(oldroot >= 0);
	CHILD_OK(runtime_rootfs_prepare(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_pivot(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_finalize(&spec, &opts, &err), err);
	CHILD_CHECK(getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, "/") == 0);
	CHILD_CHECK(fs_exists("/bin/busybox") && !fs_exists("/usr"));
	CHILD_CHECK(is_fs("/proc", PROC_SUPER_MAGIC));
	check_node("/dev/null", S_IFCHR, 1, 3, 0666, 0, 0);
	/* The host's mounts were detached: under the old root, /sys and
	 * /proc are the bare directories of its file system. */
	CHILD_CHECK(fstatat(oldroot, "sys/kernel", &st, 0) < 0 && errno == ENOENT);
	CHILD_CHECK(fstatat(oldroot, "proc/self", &st, 0) < 0 && errno == ENOENT);
	CHILD_CHECK(fstatat(oldroot, "usr", &st, 0) == 0);
	CHILD_CHECK(run_sh("test -c /dev/null && test -d /proc/self") == 0);
	return 0;
}

static void test_no_pivot(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run_in_mount_ns(child_no_pivot, f, 0), 0);
	assert_host_mounts_clean(f);
}

/* ----- the read-only root and rootfsPropagation ----- */

static int child_readonly_root(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	struct runtime_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/tmp", "tmpfs", "tmpfs", 0, NULL),
	};
	struct runtime_spec spec = { .mounts = mounts,
				     .n_mounts = 2,
				     .root_readonly = true,
				     .rootfs_propagation = (char *)"rshared" };
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs, .bundle = f->base };
	_cleanup_free_ char *info = NULL;
	char *line, *p;
	bool shared = false;

	CHILD_OK(runtime_rootfs_prepare(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_pivot(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_finalize(&spec, &opts, &err), err);
	CHILD_CHECK(is_readonly("/") && create_errno("/new") == EROFS);
	CHILD_CHECK(create_errno("/tmp/new") == 0);
	/* "/" is shared now. */
	CHILD_CHECK(fs_read_file("/proc/self/mountinfo", 1 << 20, &info, NULL, &err) == 0);
	p = info;
	while ((line = strsep(&p, "\n")) != NULL) {
		char *copy = strdup(line);
		struct runtime_mountinfo mi;

		CHILD_CHECK(copy != NULL);
		if (runtime_mountinfo_parse(copy, &mi) && strcmp(mi.mount_point, "/") == 0)
			shared = strstr(line, " shared:") != NULL;
		free(copy);
	}
	CHILD_CHECK(shared);
	return 0;
}

static void test_readonly_root_and_propagation(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *p = join(f->rootfs, "still-writable");

	assert_int_equal(run_in_mount_ns(child_readonly_root, f, 0), 0);
	/* Only the container's view was read-only. */
	assert_int_equal(testutil_write(p, "x"), 0);
	assert_host_mounts_clean(f);
}

/* ----- cgroup mounts on this v1/hybrid host ----- */

static void find_memory_cgroup(struct fixture *f)
{
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *self = NULL;
	_cleanup_free_ char *host = NULL;
	char *line, *p;
	struct stat st;

	assert_int_equal(fs_read_file("/proc/self/cgroup", 65536, &self, NULL, &err), 0);
	p = self;
	while ((line = strsep(&p, "\n")) != NULL) {
		char *c = strchr(line, ':');

		if (c == NULL || c[1] == ':')
			continue;
		f->n_v1_hierarchies++;
		if (strncmp(c, ":memory:", 8) == 0)
			host = str_printf("/sys/fs/cgroup/memory%s", c + 8);
	}
	assert_non_null(host);
	assert_int_equal(stat(host, &st), 0);
	f->memcg_dev = st.st_dev;
	f->memcg_ino = st.st_ino;
}

static int cgroup_child(struct fixture *f, bool new_ns)
{
	struct berr *err = NULL;
	struct runtime_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		mnt("/sys/fs/cgroup", "cgroup", "cgroup",
		    MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
	};
	struct runtime_spec spec = { .mounts = mounts, .n_mounts = 3 };
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs,
					    .bundle = f->base,
					    .new_cgroup_ns = new_ns };
	struct stat st;

	CHILD_OK(runtime_rootfs_prepare(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_pivot(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_finalize(&spec, &opts, &err), err);
	CHILD_CHECK(is_fs("/sys/fs/cgroup", TMPFS_MAGIC) && is_readonly("/sys/fs/cgroup"));
	CHILD_CHECK(testutil_count_entries("/sys/fs/cgroup") == f->n_v1_hierarchies);
	CHILD_CHECK(is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC));
	CHILD_CHECK(is_fs("/sys/fs/cgroup/systemd", CGROUP_SUPER_MAGIC));
	/* The container's cgroup is the root of what it sees. */
	CHILD_CHECK(stat("/sys/fs/cgroup/memory", &st) == 0);
	CHILD_CHECK(st.st_dev == f->memcg_dev && st.st_ino == f->memcg_ino);
	CHILD_CHECK(fs_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
	CHILD_CHECK(is_readonly("/sys/fs/cgroup/memory"));
	CHILD_CHECK(mkdir("/sys/fs/cgroup/memory/berth-test", 0755) < 0 && errno == EROFS);
	return 0;
}

static int child_cgroup_bind(void *arg)
{
	return cgroup_child(arg, false);
}

static int child_cgroup_ns(void *arg)
{
	return cgroup_child(arg, true);
}

/* As a seed does: the cgroup mounts kept ahead, and with them clones of
 * the hierarchies, bound when the process is still in that cgroup... */
static int child_cgroup_kept(void *arg)
{
	runtime_rootfs_keep_cgroup_mounts();
	runtime_rootfs_use_kept_cgroups(true);
	return cgroup_child(arg, false);
}

/* ...and let go when it is not. */
static int child_cgroup_kept_moved(void *arg)
{
	runtime_rootfs_keep_cgroup_mounts();
	runtime_rootfs_use_kept_cgroups(false);
	return cgroup_child(arg, false);
}

static void test_cgroup_v1_bind(void **state)
{
	struct fixture *f = *state;

	find_memory_cgroup(f);
	assert_int_equal(run_in_mount_ns(child_cgroup_bind, f, 0), 0);
	assert_host_mounts_clean(f);
}

static void test_cgroup_v1_kept_mounts(void **state)
{
	struct fixture *f = *state;

	find_memory_cgroup(f);
	assert_int_equal(run_in_mount_ns(child_cgroup_kept, f, 0), 0);
	assert_host_mounts_clean(f);
	assert_int_equal(run_in_mount_ns(child_cgroup_kept_moved, f, 0), 0);
	assert_host_mounts_clean(f);
}

static void test_cgroup_v1_new_namespace(void **state)
{
	struct fixture *f = *state;

	find_memory_cgroup(f);
	assert_int_equal(run_in_mount_ns(child_cgroup_ns, f, CLONE_NEWCGROUP), 0);
	assert_host_mounts_clean(f);
}

static void test_cgroup_hier_list(void **state)
{
	static const char self[] = "12:cpu,cpuacct:/c1\n"
				   "11:name=systemd:/c1\n"
				   "10:memory:/c1\n"
				   "9:pids:/c1\n"
				   "0::/c1\n";
	static const char info[] =
		"30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
		"31 25 0:27 / /sys/fs/cgroup/sys\\040temd rw shared:5 - cgroup cgroup "
		"rw,xattr,name=systemd\n"
		"32 25 0:28 /c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		"33 25 0:29 /other /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
		"34 25 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_cgroup_hier *h = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(runtime_cgroup_hier_list(self, info, &h, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(h[0].controllers, "cpu,cpuacct");
	assert_string_equal(h[0].dir, "cpu,cpuacct");
	assert_string_equal(h[0].host_path, "/sys/fs/cgroup/cpu,cpuacct/c1");
	assert_string_equal(h[1].controllers, "name=systemd");
	assert_string_equal(h[1].dir, "sys temd");
	assert_string_equal(h[1].host_path, "/sys/fs/cgroup/sys temd/c1");
	/* A mount of the cgroup itself. */
	assert_string_equal(h[2].host_path, "/sys/fs/cgroup/memory");
	/* A mount of another part of the hierarchy cannot show it. */
	assert_string_equal(h[3].dir, "pids");
	assert_null(h[3].host_path);
	runtime_cgroup_hier_free(h, n);

	assert_int_equal(runtime_cgroup_hier_list("garbage\n", info, &h, &n, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
}

/* Co-mounted controllers get symlinks; a hierarchy the host does not show
 * stays an empty directory. */
static int child_comounted(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	struct runtime_cgroup_hier h[] = {
		{ .controllers = (char *)"cpu,cpuacct",
		  .dir = (char *)"cpu,cpuacct",
		  .host_path = (char *)"/sys/fs/cgroup/cpu" },
		{ .controllers = (char *)"pids", .dir = (char *)"pids" },
	};
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs, .bundle = f->base };
	_cleanup_free_ char *cg = join(f->rootfs, "cg");
	_cleanup_free_ char *both = join(f->rootfs, "cg/cpu,cpuacct");
	_cleanup_free_ char *cpu = join(f->rootfs, "cg/cpu");
	_cleanup_free_ char *cpuacct = join(f->rootfs, "cg/cpuacct");
	_cleanup_free_ char *pids = join(f->rootfs, "cg/pids");
	int rootfd = open(f->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat a, b;

	CHILD_CHECK(rootfd >= 0 && mkdir(cg, 0755) == 0);
	CHILD_OK(runtime_rootfs_cgroup_v1_mount(rootfd, "/cg", h, 2, MS_RDONLY | MS_NOSUID, &opts,
						&err),
		 err);
	CHILD_CHECK(is_fs(both, CGROUP_SUPER_MAGIC) && is_readonly(both));
	CHILD_CHECK(stat(both, &a) == 0 && stat("/sys/fs/cgroup/cpu", &b) == 0);
	CHILD_CHECK(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	check_link(cpu, "cpu,cpuacct");
	check_link(cpuacct, "cpu,cpuacct");
	CHILD_CHECK(testutil_count_entries(pids) == 0 && !is_fs(pids, CGROUP_SUPER_MAGIC));
	CHILD_CHECK(testutil_count_entries(cg) == 4);
	return 0;
}

static void test_cgroup_comounted_links(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run_in_mount_ns(child_comounted, f, 0), 0);
	assert_host_mounts_clean(f);
}

/* ----- a real user namespace ----- */

static int write_file(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	return fd < 0 ? -1 : fs_write_all(fd, data, strlen(data));
}

static int child_user_ns(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	_cleanup_free_ char *locked = join(f->base, "locked");
	struct runtime_mount mounts[] = {
		mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755"),
		mnt("/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
		/* "ro,suid" of a nosuid source: the kernel keeps nosuid
		 * locked, and the remount must keep it to succeed. */
		bind_mnt("/locked", locked, MS_RDONLY, MS_NOSUID),
	};
	char *readonly[] = { (char *)"/ro_path", NULL };
	struct runtime_spec spec = { .mounts = mounts, .n_mounts = 3, .readonly_paths = readonly };
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs,
					    .bundle = f->base,
					    .in_user_ns = true };
	struct statvfs sv;
	struct stat st;

	/* A nosuid mount made here becomes locked in the user namespace. */
	CHILD_CHECK(mkdir(locked, 0755) == 0);
	CHILD_CHECK(mount("tmpfs", locked, "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0);
	CHILD_CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0);
	CHILD_CHECK(write_file("/proc/self/setgroups", "deny") == 0);
	CHILD_CHECK(write_file("/proc/self/uid_map", "0 0 1") == 0);
	CHILD_CHECK(write_file("/proc/self/gid_map", "0 0 1") == 0);

	CHILD_OK(runtime_rootfs_prepare(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_pivot(&spec, &opts, &err), err);
	CHILD_OK(runtime_rootfs_finalize(&spec, &opts, &err), err);

	CHILD_CHECK(statvfs("/locked", &sv) == 0);
	CHILD_CHECK((sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV));
	/* The host's device, bound: mknod is not allowed here. */
	check_node("/dev/null", S_IFCHR, 1, 3, 0666, 0, 0);
	CHILD_CHECK(write_file("/dev/null", "x") == 0);
	/* sysfs of a network namespace it does not own: the host's, bound. */
	CHILD_CHECK(is_fs("/sys", SYSFS_MAGIC) && is_readonly("/sys"));
	CHILD_CHECK(stat("/sys/kernel", &st) == 0);
	/* No proc here: the read-only path went by its name. */
	CHILD_CHECK(create_errno("/ro_path/new") == EROFS);
	return 0;
}

static void test_user_namespace(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run_in_mount_ns(child_user_ns, f, 0), 0);
	assert_host_mounts_clean(f);
}

/* ----- errors ----- */

static int child_errors(void *arg)
{
	struct fixture *f = arg;
	struct berr *err = NULL;
	_cleanup_free_ char *want = str_printf("bind mount %s/missing on /y: source: ", f->base);
	struct runtime_mount bad_type[] = { mnt("/x", "nosuchfs", "nosuchfs", 0, NULL) };
	struct runtime_mount bad_source[] = { bind_mnt("/y", "missing", 0, 0) };
	struct runtime_mount bad_proc[] = { mnt("/etc/passwd/proc", "proc", "proc", 0, NULL) };
	struct runtime_spec spec = { .mounts = bad_type, .n_mounts = 1 };
	struct runtime_rootfs_opts opts = { .rootfs = f->rootfs, .bundle = f->base };
	_cleanup_free_ char *passwd = join(f->rootfs, "etc/passwd");

	CHILD_CHECK(runtime_rootfs_prepare(&spec, &opts, &err) == -1);
	CHILD_CHECK(err->kind == BERR_INVALID);
	CHILD_CHECK(strcmp(err->msg, "mount nosuchfs on /x: No such device") == 0);
	berr_clear(&err);

	spec.mounts = bad_source;
	CHILD_CHECK(runtime_rootfs_prepare(&spec, &opts, &err) == -1);
	CHILD_CHECK(err->kind == BERR_NOT_FOUND);
	CHILD_CHECK(str_has_prefix(err->msg, want));
	berr_clear(&err);

	CHILD_CHECK(testutil_write(passwd, "root:x:0:0::/:/bin/sh\n") == 0);
	spec.mounts = bad_proc;
	CHILD_CHECK(runtime_rootfs_prepare(&spec, &opts, &err) == -1);
	CHILD_CHECK(str_has_prefix(err->msg, "mount proc on /etc/passwd/proc: destination: "));
	berr_clear(&err);
	return 0;
}

static void test_errors_name_the_mount(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run_in_mount_ns(child_errors, f, 0), 0);
	assert_host_mounts_clean(f);
}

static int child_sysctl_keys(void *arg)
{
	static const char *const bad[] = { "../../etc/x", "kernel/hostname", "kernel..hostname",
					   ".kernel",	  "kernel.",	     "" };
	struct berr *err = NULL;

	(void)arg;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct runtime_sysctl s = { (char *)bad[i], (char *)"1" };
		struct runtime_spec spec = { .sysctls = &s, .n_sysctls = 1 };
		struct runtime_rootfs_opts opts = { .rootfs = "/", .bundle = "/" };

		CHILD_CHECK(runtime_rootfs_finalize(&spec, &opts, &err) == -1);
		CHILD_CHECK(err->kind == BERR_INVALID);
		CHILD_CHECK(strstr(err->msg, bad[i]) != NULL);
		berr_clear(&err);
	}
	return 0;
}

static void test_sysctl_refuses_bad_keys(void **state)
{
	(void)state;
	assert_int_equal(run_in_mount_ns(child_sysctl_keys, NULL, CLONE_NEWUTS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prepare_pivot_finalize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pivot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_root_and_propagation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_v1_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_v1_kept_mounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_v1_new_namespace, setup, teardown),
		cmocka_unit_test(test_cgroup_hier_list),
		cmocka_unit_test_setup_teardown(test_cgroup_comounted_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_the_mount, setup, teardown),
		cmocka_unit_test(test_sysctl_refuses_bad_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
