/* Tests for the cgroup v1 back end and layout detection.  Pure logic
 * (which hierarchies exist, cpuset filling, refused swap) runs on a fake
 * tree in a temporary directory; limits, devices, freezing, OOM counting
 * and removal run on the host's real v1 hierarchies, under a cgroup
 * named after the test's pid that the test removes. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"
#include "runtime/runtime.h"

#define REAL_ROOT "/sys/fs/cgroup"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-cgv1-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;

	fs_remove_tree(f->dir, &err);
	free(f);
	return 0;
}

static void put_file(const char *root, const char *rel, const char *content)
{
	_cleanup_free_ char *path = str_printf("%s/%s", root, rel);
	_cleanup_close_ int fd = -1;

	assert_non_null(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, content, strlen(content)), 0);
}

static void make_dir(const char *root, const char *rel)
{
	_cleanup_free_ char *path = str_printf("%s/%s", root, rel);
	_cleanup_berr_ struct berr *err = NULL;

	assert_non_null(path);
	assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
}

static char *get_file(const char *root, const char *rel)
{
	_cleanup_free_ char *path = str_printf("%s/%s", root, rel);
	_cleanup_berr_ struct berr *err = NULL;
	char *data = NULL;
	size_t len = 0;

	assert_non_null(path);
	assert_int_equal(fs_read_file(path, 1 << 20, &data, &len, &err), 0);
	while (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	return data;
}

static void assert_file(const char *root, const char *rel, const char *want)
{
	_cleanup_free_ char *got = get_file(root, rel);

	assert_string_equal(got, want);
}

static bool path_exists(const char *root, const char *rel)
{
	_cleanup_free_ char *path = str_printf("%s/%s", root, rel);

	return path && fs_exists(path);
}

/* ---- detection ---- */

static const char hybrid_mountinfo[] =
	"24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
	"31 24 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char unified_mountinfo[] =
	"24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
	"31 24 0:28 / /sys/fs/cgroup rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n"
	"90 31 0:50 / /sys/fs/cgroup/memoryx/deeper rw - cgroup cgroup rw,memory\n";

static void test_detect_mountinfo(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	enum runtime_cgroup_mode mode = RUNTIME_CGROUP_V2;

	/* Hybrid: the v1 controllers win over the cgroup2 tree beside them. */
	assert_int_equal(
		runtime_cgroup_detect_mountinfo(hybrid_mountinfo, "/sys/fs/cgroup", &mode, &err),
		0);
	assert_int_equal(mode, RUNTIME_CGROUP_V1);
	assert_int_equal(
		runtime_cgroup_detect_mountinfo(hybrid_mountinfo, "/sys/fs/cgroup/", &mode, &err),
		0);
	assert_int_equal(mode, RUNTIME_CGROUP_V1);
	assert_int_equal(runtime_cgroup_detect_mountinfo(hybrid_mountinfo, "/sys/fs/cgroup/unified",
							 &mode, &err),
			 0);
	assert_int_equal(mode, RUNTIME_CGROUP_V2);

	/* A v1 mount two levels down does not make ROOT v1. */
	assert_int_equal(
		runtime_cgroup_detect_mountinfo(unified_mountinfo, "/sys/fs/cgroup", &mode, &err),
		0);
	assert_int_equal(mode, RUNTIME_CGROUP_V2);

	assert_int_equal(runtime_cgroup_detect_mountinfo(hybrid_mountinfo, "/sys", &mode, &err),
			 -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
	berr_clear(&err);

	/* Escaped mount points. */
	assert_int_equal(
		runtime_cgroup_detect_mountinfo("1 0 0:1 / /my\\040root rw - cgroup2 none rw\n",
						"/my root", &mode, &err),
		0);
	assert_int_equal(mode, RUNTIME_CGROUP_V2);
}

static void test_detect_host(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	enum runtime_cgroup_mode mode = RUNTIME_CGROUP_V2;
	struct statfs sfs;

	if (statfs(REAL_ROOT "/memory", &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
		skip();
	assert_int_equal(runtime_cgroup_detect(REAL_ROOT, &mode, &err), 0);
	assert_int_equal(mode, RUNTIME_CGROUP_V1);
	assert_int_equal(runtime_cgroup_detect("/tmp", &mode, &err), -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
}

/* ---- fake tree ---- */

static void test_fake_hierarchies(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *cpu = str_printf("%s/cpu,cpuacct/c1", f->dir);
	_cleanup_free_ char *sd = str_printf("%s/systemd/c1", f->dir);
	_cleanup_free_ char *link = str_printf("%s/cpu", f->dir);
	_cleanup_free_ char *link2 = str_printf("%s/cpuacct", f->dir);

	make_dir(f->dir, "cpu,cpuacct");
	make_dir(f->dir, "memory");
	make_dir(f->dir, "systemd");
	put_file(f->dir, "not-a-hierarchy", "");
	assert_int_equal(symlink("cpu,cpuacct", link), 0);
	assert_int_equal(symlink("cpu,cpuacct", link2), 0);

	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "c1", NULL, &cg, &err),
			 0);
	/* Each hierarchy once, through its real name. */
	assert_int_equal(cg->n_dirs, 3);
	assert_string_equal(runtime_cgroup_dir(cg, "cpu"), cpu);
	assert_string_equal(runtime_cgroup_dir(cg, "cpuacct"), cpu);
	assert_string_equal(runtime_cgroup_dir(cg, "name=systemd"), sd);
	assert_null(runtime_cgroup_dir(cg, "pids"));
	assert_true(path_exists(f->dir, "memory/c1"));
	assert_true(path_exists(f->dir, "systemd/c1"));

	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
	assert_false(path_exists(f->dir, "memory/c1"));
	assert_false(path_exists(f->dir, "cpu,cpuacct/c1"));
	assert_false(path_exists(f->dir, "systemd/c1"));
}

/* The hierarchies found under a root are kept, and looked for again once
 * the root changes. */
static void test_fake_hierarchy_added_later(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *one = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *two = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *again = NULL;
	_cleanup_berr_ struct berr *err = NULL;

	make_dir(f->dir, "memory");
	assert_int_equal(runtime_cgroup_open(f->dir, RUNTIME_CGROUP_V1, "c1", &one, &err), 0);
	assert_int_equal(one->n_dirs, 1);
	make_dir(f->dir, "pids");
	assert_int_equal(runtime_cgroup_open(f->dir, RUNTIME_CGROUP_V1, "c1", &two, &err), 0);
	assert_int_equal(two->n_dirs, 2);
	assert_non_null(runtime_cgroup_dir(two, "pids"));
	assert_int_equal(runtime_cgroup_open(f->dir, RUNTIME_CGROUP_V1, "c2", &again, &err), 0);
	assert_int_equal(again->n_dirs, 2);
	assert_non_null(strstr(runtime_cgroup_dir(again, "memory"), "/memory/c2"));
}

static void test_fake_no_hierarchy(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;

	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "c1", NULL, &cg, &err),
			 -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
}

/* The cgroup.procs a keeper of a fake v1 tree at ROOT writes to: the one
 * of the pids cgroup this process is in.  NULL when it is in none. */
static char *fake_own_procs(const char *root)
{
	_cleanup_free_ char *self = NULL, *dir = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	char *line, *save = NULL;

	assert_int_equal(fs_read_file("/proc/self/cgroup", 65536, &self, NULL, &err), 0);
	for (line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = strstr(line, ":pids:");

		if (path == NULL)
			continue;
		dir = str_printf("%s/pids%s", root, path + strlen(":pids:"));
		assert_non_null(dir);
		assert_int_equal(fs_mkdir_p(dir, 0755, &err), 0);
		return str_printf("%s/cgroup.procs", dir);
	}
	return NULL;
}

/* Empties PATH, making it when missing. */
static void empty_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	close(fd);
}

static char *read_text(const char *path)
{
	_cleanup_berr_ struct berr *err = NULL;
	char *text = NULL;

	assert_int_equal(fs_read_file(path, 4096, &text, NULL, &err), 0);
	return text;
}

/* A touch with no hold is one no-op move ("0": the writer's own process)
 * into the cgroup the process is in, done before the keeper is freed. */
static void test_fake_keeper_moves_once(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *procs = fake_own_procs(f->dir);
	_cleanup_free_ char *text = NULL;
	struct runtime_cgroup_keeper *k;

	if (procs == NULL)
		skip();
	empty_file(procs);
	k = runtime_cgroup_keeper_new(f->dir, RUNTIME_CGROUP_V1);
	assert_non_null(k);
	runtime_cgroup_keeper_touch(k, 0);
	runtime_cgroup_keeper_free(k);
	text = read_text(procs);
	assert_string_equal(text, "0");
}

/* While a hold lasts the keeper moves again and again; freeing it ends a
 * long hold at once. */
static void test_fake_keeper_holds(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *procs = fake_own_procs(f->dir);
	struct timespec pause = { .tv_nsec = 50 * 1000000L };
	struct runtime_cgroup_keeper *k;
	bool moved_again = false;
	time_t t0;

	if (procs == NULL)
		skip();
	empty_file(procs);
	k = runtime_cgroup_keeper_new(f->dir, RUNTIME_CGROUP_V1);
	assert_non_null(k);
	runtime_cgroup_keeper_touch(k, 60 * 1000);
	/* The first move, then another. */
	for (int i = 0; i < 20 && !moved_again; i++) {
		_cleanup_free_ char *text = read_text(procs);

		moved_again = strcmp(text, "0") == 0;
		if (!moved_again)
			nanosleep(&pause, NULL);
	}
	assert_true(moved_again);
	moved_again = false;
	for (int i = 0; i < 20 && !moved_again; i++) {
		_cleanup_free_ char *text = NULL;

		/* Emptied: a move after this writes "0" again. */
		empty_file(procs);
		nanosleep(&pause, NULL);
		text = read_text(procs);
		moved_again = strcmp(text, "0") == 0;
	}
	assert_true(moved_again);
	t0 = time(NULL);
	runtime_cgroup_keeper_free(k);
	assert_true(time(NULL) - t0 <= 1);
}

/* No cgroup to move into: no keeper, and touching or freeing none is
 * fine. */
static void test_fake_keeper_without_hierarchy(void **state)
{
	assert_null(runtime_cgroup_keeper_new("/nonexistent", RUNTIME_CGROUP_V1));
	assert_null(runtime_cgroup_keeper_new("/nonexistent", RUNTIME_CGROUP_V2));
	runtime_cgroup_keeper_touch(NULL, 1000);
	runtime_cgroup_keeper_free(NULL);
}

/* Each new cpuset level gets the parent's cpus and mems before anyone
 * joins it; a level that has its own keeps them. */
static void test_fake_cpuset_fill(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;

	make_dir(f->dir, "cpuset/p/c");
	put_file(f->dir, "cpuset/cpuset.cpus", "0-3\n");
	put_file(f->dir, "cpuset/cpuset.mems", "0-1\n");
	put_file(f->dir, "cpuset/p/cpuset.cpus", "\n");
	put_file(f->dir, "cpuset/p/cpuset.mems", "");
	put_file(f->dir, "cpuset/p/c/cpuset.cpus", "2");
	put_file(f->dir, "cpuset/p/c/cpuset.mems", "");

	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "p/c", NULL, &cg, &err),
			 0);
	assert_file(f->dir, "cpuset/p/cpuset.cpus", "0-3");
	assert_file(f->dir, "cpuset/p/cpuset.mems", "0-1");
	assert_file(f->dir, "cpuset/p/c/cpuset.cpus", "2");
	assert_file(f->dir, "cpuset/p/c/cpuset.mems", "0-1");
}

static void fake_memory(const char *root, bool memsw)
{
	make_dir(root, "memory/c1");
	put_file(root, "memory/c1/memory.limit_in_bytes", "");
	put_file(root, "memory/c1/memory.soft_limit_in_bytes", "");
	put_file(root, "memory/c1/memory.swappiness", "");
	put_file(root, "memory/c1/memory.oom_control", "");
	if (memsw)
		put_file(root, "memory/c1/memory.memsw.limit_in_bytes", "");
}

static void test_fake_swap_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_resources res = { .has_memory_limit = true,
					 .memory_limit = 64 << 20,
					 .has_memory_swap = true,
					 .memory_swap = 128 << 20 };

	fake_memory(f->dir, false);
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "c1", &res, &cg, &err),
			 -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "memory.memsw.limit_in_bytes"));
	/* The failed create left the leaf it did not make. */
	assert_true(path_exists(f->dir, "memory/c1"));
	assert_file(f->dir, "memory/c1/memory.limit_in_bytes", "");
	berr_clear(&err);

	/* No swap beyond the memory (swap == limit) or unlimited swap is
	 * fine without swap accounting. */
	res.memory_swap = 64 << 20;
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "c1", &res, &cg, &err),
			 0);
	assert_file(f->dir, "memory/c1/memory.limit_in_bytes", "67108864");
	res.memory_swap = -1;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);

	/* memory+swap below memory is refused whatever the kernel. */
	res.memory_swap = 32 << 20;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
}

static void test_fake_memory_values(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_resources res = {
		.has_memory_limit = true,
		.memory_limit = 64 << 20,
		.has_memory_swap = true,
		.memory_swap = 96 << 20,
		.has_memory_reservation = true,
		.memory_reservation = 16 << 20,
		.has_memory_swappiness = true,
		.memory_swappiness = 7,
		.disable_oom_killer = true,
	};

	fake_memory(f->dir, true);
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "c1", &res, &cg, &err),
			 0);
	assert_file(f->dir, "memory/c1/memory.limit_in_bytes", "67108864");
	assert_file(f->dir, "memory/c1/memory.memsw.limit_in_bytes", "100663296");
	assert_file(f->dir, "memory/c1/memory.soft_limit_in_bytes", "16777216");
	assert_file(f->dir, "memory/c1/memory.swappiness", "7");
	assert_file(f->dir, "memory/c1/memory.oom_control", "1");

	res = (struct runtime_resources){ .has_memory_swappiness = true, .memory_swappiness = 101 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);

	/* No pids hierarchy here: a pids limit cannot be had. */
	res = (struct runtime_resources){ .has_pids_limit = true, .pids_limit = 10 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "pids"));
	berr_clear(&err);

	/* unified is a v2 thing. */
	{
		char *k = "memory.high", *v = "1";

		res = (struct runtime_resources){ .unified_keys = &k,
						  .unified_values = &v,
						  .n_unified = 1 };
		assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		berr_clear(&err);
	}
	/* No freezer hierarchy. */
	assert_int_equal(runtime_cgroup_freeze(cg, true, &err), -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
	assert_false(runtime_cgroup_is_frozen(cg));

	put_file(f->dir, "memory/c1/memory.oom_control",
		 "oom_kill_disable 1\nunder_oom 0\noom_kill 3\n");
	assert_int_equal(runtime_cgroup_oom_kills(cg), 3);
}

static void test_fake_blkio(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_resources res = { .has_blkio_weight = true, .blkio_weight = 0 };
	_cleanup_free_ char *bfq = str_printf("%s/blkio/c1/blkio.bfq.weight", f->dir);

	make_dir(f->dir, "blkio/c1");
	put_file(f->dir, "blkio/c1/blkio.bfq.weight", "");
	/* 0 is "not set", as Docker sends it. */
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V1, "c1", &res, &cg, &err),
			 0);
	assert_file(f->dir, "blkio/c1/blkio.bfq.weight", "");
	res.blkio_weight = 300;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "blkio/c1/blkio.bfq.weight", "300");
	put_file(f->dir, "blkio/c1/blkio.weight", "");
	res.blkio_weight = 200;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "blkio/c1/blkio.weight", "200");
	assert_file(f->dir, "blkio/c1/blkio.bfq.weight", "300");

	/* Neither file: the weight cannot be had. */
	assert_int_equal(unlink(bfq), 0);
	{
		_cleanup_free_ char *w = str_printf("%s/blkio/c1/blkio.weight", f->dir);

		assert_int_equal(unlink(w), 0);
	}
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "blkio.weight"));
}

/* ---- the real v1 hierarchies ---- */

static bool have_real_v1(void)
{
	struct statfs sfs;
	const char *need[] = { "memory", "cpu", "cpuset", "pids", "devices", "freezer", NULL };
	size_t i;

	if (geteuid() != 0)
		return false;
	for (i = 0; need[i]; i++) {
		_cleanup_free_ char *p = str_printf(REAL_ROOT "/%s", need[i]);

		if (p == NULL || statfs(p, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
			return false;
	}
	return true;
}

/* The child a real test has running, killed by the teardown when an
 * assertion ends the test early; PDEATHSIG covers the test dying. */
static pid_t test_child = -1;

static pid_t fork_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return 0;
	}
	test_child = pid;
	return pid;
}

static pid_t reap(pid_t pid, int *status)
{
	pid_t got;

	while ((got = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	if (got == test_child)
		test_child = -1;
	return got;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	reap(pid, NULL);
}

/* Removes what a failed real test may have left: its child and its
 * cgroups (destroy takes the cgroups below a path too). */
static int real_teardown(void **state)
{
	const char *suffixes[] = { "/c1", "", "-q", "-oom" };
	struct runtime_cgroup *cgs[4] = { NULL };
	size_t i;

	for (i = 0; i < 4; i++) {
		_cleanup_free_ char *rel =
			str_printf("berth-test-%d%s", (int)getpid(), suffixes[i]);
		_cleanup_berr_ struct berr *err = NULL;

		if (rel &&
		    runtime_cgroup_open(REAL_ROOT, RUNTIME_CGROUP_V1, rel, &cgs[i], &err) == 0)
			/* A v1 frozen task does not die of SIGKILL until thawed. */
			runtime_cgroup_freeze(cgs[i], false, &err);
	}
	if (test_child > 0)
		kill_and_reap(test_child);
	for (i = 0; i < 4; i++) {
		_cleanup_berr_ struct berr *err = NULL;

		if (cgs[i])
			runtime_cgroup_destroy(cgs[i], &err);
		runtime_cgroup_free(cgs[i]);
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Forks a child that waits on a pipe, moves it into CG, then lets it open
 * PATH with FLAGS; returns 0 or the errno the child saw. */
static int probe(struct runtime_cgroup *cg, const char *path, int flags)
{
	_cleanup_berr_ struct berr *err = NULL;
	int go[2], status = 0;
	pid_t pid;

	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork_child();
	if (pid == 0) {
		char c;
		int fd;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(200);
		fd = open(path, flags | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	close(go[0]);
	assert_int_equal(runtime_cgroup_add_pid(cg, pid, &err), 0);
	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	assert_int_equal(reap(pid, &status), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_real_lifecycle(void **state)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *top = str_printf("berth-test-%d", (int)getpid());
	_cleanup_free_ char *rel = str_printf("%s/c1", top);
	_cleanup_free_ pid_t *pids = NULL;
	struct runtime_device_rule rules[] = {
		{ .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r" },
	};
	struct runtime_resources res = {
		.has_memory_limit = true,
		.memory_limit = 64 << 20,
		.has_memory_swap = true,
		.memory_swap = 128 << 20,
		.has_memory_reservation = true,
		.memory_reservation = 32 << 20,
		.has_memory_swappiness = true,
		.memory_swappiness = 10,
		.disable_oom_killer = true,
		.has_cpu_shares = true,
		.cpu_shares = 512,
		.has_cpu_quota = true,
		.cpu_quota = 50000,
		.has_cpu_period = true,
		.cpu_period = 100000,
		.cpuset_cpus = "0",
		.cpuset_mems = "0",
		.has_pids_limit = true,
		.pids_limit = 100,
		.devices = rules,
		.n_devices = 2,
	};
	const char *hier[] = { "memory", "cpu", "cpuset", "pids", "devices", "freezer", NULL };
	volatile unsigned long *counter;
	unsigned long a, b;
	size_t n = 0, i;
	pid_t child;
	char buf[32];

	if (!have_real_v1())
		skip();
	assert_int_equal(runtime_cgroup_create(REAL_ROOT, RUNTIME_CGROUP_V1, rel, &res, &cg, &err),
			 0);
	assert_file(runtime_cgroup_dir(cg, "memory"), "memory.limit_in_bytes", "67108864");
	assert_file(runtime_cgroup_dir(cg, "memory"), "memory.memsw.limit_in_bytes", "134217728");
	assert_file(runtime_cgroup_dir(cg, "memory"), "memory.soft_limit_in_bytes", "33554432");
	assert_file(runtime_cgroup_dir(cg, "memory"), "memory.swappiness", "10");
	{
		_cleanup_free_ char *oom =
			get_file(runtime_cgroup_dir(cg, "memory"), "memory.oom_control");

		assert_non_null(strstr(oom, "oom_kill_disable 1"));
	}
	assert_file(runtime_cgroup_dir(cg, "cpu"), "cpu.shares", "512");
	assert_file(runtime_cgroup_dir(cg, "cpu"), "cpu.cfs_quota_us", "50000");
	assert_file(runtime_cgroup_dir(cg, "cpu"), "cpu.cfs_period_us", "100000");
	assert_file(runtime_cgroup_dir(cg, "cpuset"), "cpuset.cpus", "0");
	assert_file(runtime_cgroup_dir(cg, "cpuset"), "cpuset.mems", "0");
	assert_file(runtime_cgroup_dir(cg, "pids"), "pids.max", "100");
	assert_file(runtime_cgroup_dir(cg, "devices"), "devices.list", "c 1:3 rwm\nc 1:5 r");
	/* The intermediate level got the root's cpus before c1 was made. */
	{
		_cleanup_free_ char *mid = str_printf(REAL_ROOT "/cpuset/%s", top);
		_cleanup_free_ char *root_cpus = get_file(REAL_ROOT "/cpuset", "cpuset.cpus");

		assert_file(mid, "cpuset.cpus", root_cpus);
	}
	/* Every hierarchy, named ones included. */
	if (fs_exists(REAL_ROOT "/systemd"))
		assert_non_null(runtime_cgroup_dir(cg, "name=systemd"));
	for (i = 0; hier[i]; i++)
		assert_true(fs_exists(runtime_cgroup_dir(cg, hier[i])));

	/* pids limit -1 and 0 both mean no limit. */
	{
		struct runtime_resources up = { .has_pids_limit = true, .pids_limit = -1 };

		assert_int_equal(runtime_cgroup_update(cg, &up, &err), 0);
		assert_file(runtime_cgroup_dir(cg, "pids"), "pids.max", "max");
	}

	/* Devices: /dev/null allowed, /dev/zero read only, /dev/full not. */
	assert_int_equal(probe(cg, "/dev/null", O_RDWR), 0);
	assert_int_equal(probe(cg, "/dev/zero", O_RDONLY), 0);
	assert_int_equal(probe(cg, "/dev/zero", O_WRONLY), EPERM);
	assert_int_equal(probe(cg, "/dev/full", O_RDONLY), EPERM);

	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(counter != MAP_FAILED);
	child = fork_child();
	if (child == 0) {
		for (;;)
			(*counter)++;
	}
	assert_int_equal(runtime_cgroup_add_pid(cg, child, &err), 0);
	assert_int_equal(runtime_cgroup_get_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], child);
	snprintf(buf, sizeof(buf), "%d", (int)child);
	for (i = 0; hier[i]; i++)
		assert_file(runtime_cgroup_dir(cg, hier[i]), "cgroup.procs", buf);

	assert_int_equal(runtime_cgroup_freeze(cg, true, &err), 0);
	assert_true(runtime_cgroup_is_frozen(cg));
	a = *counter;
	sleep_ms(100);
	b = *counter;
	assert_int_equal(a, b);
	assert_int_equal(runtime_cgroup_freeze(cg, false, &err), 0);
	assert_false(runtime_cgroup_is_frozen(cg));
	sleep_ms(50);
	assert_true(*counter != b);

	kill_and_reap(child);
	munmap((void *)counter, 4096);
	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
	for (i = 0; hier[i]; i++) {
		_cleanup_free_ char *p = str_printf(REAL_ROOT "/%s/%s", hier[i], top);

		assert_false(fs_exists(runtime_cgroup_dir(cg, hier[i])));
		/* The parent this create made is gone too. */
		assert_false(fs_exists(p));
	}
}

/* Moving period and quota together only works in one order when a parent
 * caps the ratio; both directions must succeed. */
static void test_real_cpu_order(void **state)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *top = str_printf("berth-test-%d-q", (int)getpid());
	_cleanup_free_ char *rel = str_printf("%s/c", top);
	_cleanup_free_ char *parent = str_printf(REAL_ROOT "/cpu/%s", top);
	struct runtime_resources res = { .has_cpu_quota = true,
					 .cpu_quota = 50000,
					 .has_cpu_period = true,
					 .cpu_period = 100000 };
	const char *dir;

	if (!have_real_v1())
		skip();
	assert_int_equal(runtime_cgroup_create(REAL_ROOT, RUNTIME_CGROUP_V1, rel, NULL, &cg, &err),
			 0);
	dir = runtime_cgroup_dir(cg, "cpu");
	/* The parent allows one cpu's worth. */
	assert_int_equal(runtime_cgroup_write(parent, "cpu.cfs_quota_us", "100000", &err), 0);
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);

	/* Period first would give 50000/20000 > 1: quota must go first. */
	res.cpu_quota = 20000;
	res.cpu_period = 20000;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(dir, "cpu.cfs_quota_us", "20000");
	assert_file(dir, "cpu.cfs_period_us", "20000");

	/* Back up: quota first would give 100000/20000 > 1. */
	res.cpu_quota = 100000;
	res.cpu_period = 100000;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(dir, "cpu.cfs_quota_us", "100000");
	assert_file(dir, "cpu.cfs_period_us", "100000");

	/* Beyond the parent is refused, naming the file and the value. */
	res.cpu_quota = 200000;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "200000"));
	berr_clear(&err);

	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
	assert_false(fs_exists(parent));
}

/* A cgroup with a live process cannot go; destroy retries about a second
 * and says so, then succeeds once the process is gone.  An OOM kill in
 * the cgroup is counted. */
static void test_real_busy_and_oom(void **state)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *opened = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *rel = str_printf("berth-test-%d-oom", (int)getpid());
	struct runtime_resources res = { .has_memory_limit = true,
					 .memory_limit = 16 << 20,
					 .has_memory_swap = true,
					 .memory_swap = 16 << 20 };
	int go[2], status = 0;
	pid_t child;

	if (!have_real_v1())
		skip();
	assert_int_equal(runtime_cgroup_create(REAL_ROOT, RUNTIME_CGROUP_V1, rel, &res, &cg, &err),
			 0);
	assert_int_equal(runtime_cgroup_oom_kills(cg), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	child = fork_child();
	if (child == 0) {
		char c;
		size_t size = 256 << 20;
		char *p;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		memset(p, 1, size);
		_exit(3);
	}
	close(go[0]);
	assert_int_equal(runtime_cgroup_add_pid(cg, child, &err), 0);

	/* Busy while the child lives. */
	assert_int_equal(runtime_cgroup_open(REAL_ROOT, RUNTIME_CGROUP_V1, rel, &opened, &err), 0);
	assert_int_equal(runtime_cgroup_destroy(opened, &err), -1);
	assert_int_equal(err->kind, BERR_CONFLICT);
	berr_clear(&err);

	/* Now let it eat more than its limit. */
	assert_int_equal(write(go[1], "m", 1), 1);
	close(go[1]);
	assert_int_equal(reap(child, &status), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(runtime_cgroup_oom_kills(opened), 1);

	assert_int_equal(runtime_cgroup_destroy(opened, &err), 0);
	assert_false(fs_exists(runtime_cgroup_dir(cg, "memory")));
	/* The creating handle sees it gone as well. */
	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
}

static bool real_dir_exists(const char *rel)
{
	_cleanup_free_ char *path = str_printf(REAL_ROOT "/pids/%s", rel);
	struct stat st;

	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A v1 cgroup renames in every hierarchy at once; onto one that exists it
 * is refused and nothing moves. */
static void test_real_rename(void **state)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *again = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *top = str_printf("berth-test-%d", (int)getpid());
	_cleanup_free_ char *spare = str_printf("%s/spare", top);
	_cleanup_free_ char *rel = str_printf("%s/c1", top);

	(void)state;
	if (!real_dir_exists(""))
		skip();
	assert_int_equal(
		runtime_cgroup_create(REAL_ROOT, RUNTIME_CGROUP_V1, spare, NULL, &cg, &err), 0);
	assert_int_equal(runtime_cgroup_rename(REAL_ROOT, RUNTIME_CGROUP_V1, spare, rel, &err), 0);
	assert_false(real_dir_exists(spare));
	assert_true(real_dir_exists(rel));
	assert_int_equal(
		runtime_cgroup_create(REAL_ROOT, RUNTIME_CGROUP_V1, spare, NULL, &again, &err), 0);
	assert_int_equal(runtime_cgroup_rename(REAL_ROOT, RUNTIME_CGROUP_V1, spare, rel, &err), -1);
	assert_int_equal(err->kind, BERR_CONFLICT);
	assert_true(real_dir_exists(spare) && real_dir_exists(rel));
	assert_int_equal(runtime_cgroup_destroy(again, &err), 0);
	assert_int_equal(runtime_cgroup_rename(REAL_ROOT, RUNTIME_CGROUP_V2, rel, spare, &err), -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
}

/* A spare is made beside the containers' cgroups, under the process's
 * pid; spares of processes that are gone go when another is made. */
static void test_real_spare(void **state)
{
	struct runtime_config cfg = { 0 };
	_cleanup_free_ char *spare = NULL;
	_cleanup_free_ char *mine = str_printf("berth/.spare-%d", (int)getpid());
	_cleanup_free_ char *dead = NULL;
	int status = 0;
	pid_t gone;

	(void)state;
	if (!real_dir_exists(""))
		skip();
	gone = fork();
	if (gone == 0)
		_exit(0);
	assert_int_equal(waitpid(gone, &status, 0), gone);
	dead = str_printf("berth/.spare-%d", (int)gone);
	{
		_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
		_cleanup_berr_ struct berr *err = NULL;

		assert_int_equal(
			runtime_cgroup_create(REAL_ROOT, RUNTIME_CGROUP_V1, dead, NULL, &cg, &err),
			0);
	}
	spare = runtime_spare_cgroup_make(&cfg);
	assert_non_null(spare);
	assert_string_equal(spare, mine);
	assert_true(real_dir_exists(spare));
	assert_false(real_dir_exists(dead));
	runtime_spare_cgroup_drop(&cfg, spare);
	assert_false(real_dir_exists(spare));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_mountinfo),
		cmocka_unit_test(test_detect_host),
		cmocka_unit_test_setup_teardown(test_fake_hierarchies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_no_hierarchy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_hierarchy_added_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_cpuset_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_swap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_memory_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_blkio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_keeper_moves_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_keeper_holds, setup, teardown),
		cmocka_unit_test(test_fake_keeper_without_hierarchy),
		cmocka_unit_test_teardown(test_real_lifecycle, real_teardown),
		cmocka_unit_test_teardown(test_real_cpu_order, real_teardown),
		cmocka_unit_test_teardown(test_real_busy_and_oom, real_teardown),
		cmocka_unit_test_teardown(test_real_rename, real_teardown),
		cmocka_unit_test(test_real_spare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
