/* Tests for the cgroup v2 back end and the path rules of the front end.
 * The value conversions run on a fake tree in a temporary directory whose
 * files the test creates and reads back; freezing and the eBPF device
 * program run on the host's real (empty) cgroup2 tree, in a cgroup the
 * test makes and removes. */
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
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/magic.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"

#define REAL_V2_ROOT "/sys/fs/cgroup/unified"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-cgv2-XXXXXX");
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

/* Creates (or empties) ROOT/REL with CONTENT. */
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

/* The content of ROOT/REL, owned by the caller. */
static char *get_file(const char *root, const char *rel)
{
	_cleanup_free_ char *path = str_printf("%s/%s", root, rel);
	_cleanup_berr_ struct berr *err = NULL;
	char *data = NULL;

	assert_non_null(path);
	assert_int_equal(fs_read_file(path, 1 << 20, &data, NULL, &err), 0);
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

static const char *leaf_files[] = {
	"memory.max",  "memory.low",   "memory.swap.max", "cpu.weight",
	"cpu.max",     "io.weight",    "pids.max",	  "cpuset.cpus",
	"cpuset.mems", "cgroup.procs", "memory.high",	  "cgroup.freeze",
	NULL,
};

/* A fake unified tree: ROOT offers controllers, LEAF has empty files. */
static void fake_tree(const char *root, const char *leaf)
{
	size_t i;

	put_file(root, "cgroup.controllers", "cpuset cpu io memory pids\n");
	put_file(root, "cgroup.subtree_control", "");
	make_dir(root, leaf);
	for (i = 0; leaf_files[i]; i++) {
		_cleanup_free_ char *rel = str_printf("%s/%s", leaf, leaf_files[i]);

		put_file(root, rel, "");
	}
}

static void empty_leaf_files(const char *root, const char *leaf)
{
	size_t i;

	for (i = 0; leaf_files[i]; i++) {
		_cleanup_free_ char *rel = str_printf("%s/%s", leaf, leaf_files[i]);

		put_file(root, rel, "");
	}
}

static void test_fake_values(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	char *keys[] = { "memory.high" }, *values[] = { "104857600" };
	struct runtime_resources res = {
		.has_memory_limit = true,
		.memory_limit = 64 << 20,
		.has_memory_swap = true,
		.memory_swap = 96 << 20,
		.has_memory_reservation = true,
		.memory_reservation = 32 << 20,
		.has_cpu_shares = true,
		.cpu_shares = 1024,
		.has_cpu_quota = true,
		.cpu_quota = 50000,
		.has_cpu_period = true,
		.cpu_period = 100000,
		.has_blkio_weight = true,
		.blkio_weight = 500,
		.has_pids_limit = true,
		.pids_limit = 0,
		.cpuset_cpus = "0-1",
		.cpuset_mems = "0",
		.unified_keys = keys,
		.unified_values = values,
		.n_unified = 1,
	};

	fake_tree(f->dir, "c1");
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V2, "c1", &res, &cg, &err),
			 0);
	assert_file(f->dir, "c1/memory.max", "67108864");
	/* swap.max is swap alone: (memory+swap) - memory. */
	assert_file(f->dir, "c1/memory.swap.max", "33554432");
	assert_file(f->dir, "c1/memory.low", "33554432");
	/* 1 + (1024 - 2) * 9999 / 262142 */
	assert_file(f->dir, "c1/cpu.weight", "39");
	assert_file(f->dir, "c1/cpu.max", "50000 100000");
	/* 1 + (500 - 10) * 9999 / 990 */
	assert_file(f->dir, "c1/io.weight", "4950");
	assert_file(f->dir, "c1/pids.max", "max");
	assert_file(f->dir, "c1/cpuset.cpus", "0-1");
	assert_file(f->dir, "c1/cpuset.mems", "0");
	assert_file(f->dir, "c1/memory.high", "104857600");
	assert_file(f->dir, "cgroup.subtree_control", "+cpuset +cpu +io +memory +pids");
	{
		_cleanup_free_ char *want = str_printf("%s/c1", f->dir);

		/* v2 has one directory, whatever the controller. */
		assert_string_equal(runtime_cgroup_dir(cg, "memory"), want);
		assert_string_equal(runtime_cgroup_dir(cg, "pids"), want);
	}
}

static void test_fake_conversions(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_resources res = { 0 };

	fake_tree(f->dir, "c1");
	/* Controllers already on are not asked for again. */
	put_file(f->dir, "cgroup.subtree_control", "cpu memory");
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V2, "c1", NULL, &cg, &err),
			 0);
	assert_file(f->dir, "cgroup.subtree_control", "+cpuset +io +pids");

	res = (struct runtime_resources){ .has_cpu_shares = true,
					  .cpu_shares = 2,
					  .has_blkio_weight = true,
					  .blkio_weight = 10,
					  .has_pids_limit = true,
					  .pids_limit = 42,
					  .has_cpu_quota = true,
					  .cpu_quota = -1,
					  .has_cpu_period = true,
					  .cpu_period = 100000,
					  .has_memory_limit = true,
					  .memory_limit = -1 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "c1/cpu.weight", "1");
	assert_file(f->dir, "c1/io.weight", "1");
	assert_file(f->dir, "c1/pids.max", "42");
	assert_file(f->dir, "c1/cpu.max", "max 100000");
	assert_file(f->dir, "c1/memory.max", "max");

	empty_leaf_files(f->dir, "c1");
	res = (struct runtime_resources){ .has_cpu_shares = true,
					  .cpu_shares = 262144,
					  .has_blkio_weight = true,
					  .blkio_weight = 1000,
					  .has_pids_limit = true,
					  .pids_limit = -1 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "c1/cpu.weight", "10000");
	assert_file(f->dir, "c1/io.weight", "10000");
	assert_file(f->dir, "c1/pids.max", "max");
	/* Nothing asked, nothing written. */
	assert_file(f->dir, "c1/cpu.max", "");
	assert_file(f->dir, "c1/memory.max", "");

	/* A new period alone keeps the quota. */
	/* (The same length as the new value: a fake file is not truncated
	 * by the write, unlike a cgroup file.) */
	put_file(f->dir, "c1/cpu.max", "25000 1000\n");
	res = (struct runtime_resources){ .has_cpu_period = true, .cpu_period = 50000 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "c1/cpu.max", "25000 50000");

	/* BFQ's file takes the v1 scale as it is. */
	{
		_cleanup_free_ char *p = str_printf("%s/c1/io.weight", f->dir);

		assert_int_equal(unlink(p), 0);
	}
	put_file(f->dir, "c1/io.bfq.weight", "");
	res = (struct runtime_resources){ .has_blkio_weight = true, .blkio_weight = 300 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "c1/io.bfq.weight", "300");
	{
		_cleanup_free_ char *p = str_printf("%s/c1/io.bfq.weight", f->dir);

		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "io.weight"));
}

static void test_fake_swap_rules(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_resources res;

	fake_tree(f->dir, "c1");
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V2, "c1", NULL, &cg, &err),
			 0);
	/* memory+swap below memory */
	res = (struct runtime_resources){ .has_memory_limit = true,
					  .memory_limit = 100,
					  .has_memory_swap = true,
					  .memory_swap = 50 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	/* swap without a memory limit */
	res = (struct runtime_resources){ .has_memory_swap = true, .memory_swap = 1 << 20 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	/* unlimited swap */
	empty_leaf_files(f->dir, "c1");
	res = (struct runtime_resources){ .has_memory_limit = true,
					  .memory_limit = 1 << 20,
					  .has_memory_swap = true,
					  .memory_swap = -1 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_file(f->dir, "c1/memory.swap.max", "max");

	/* No swap accounting: only "no swap" or "unlimited" can be had. */
	{
		_cleanup_free_ char *p = str_printf("%s/c1/memory.swap.max", f->dir);

		assert_int_equal(unlink(p), 0);
	}
	res = (struct runtime_resources){ .has_memory_limit = true,
					  .memory_limit = 1 << 20,
					  .has_memory_swap = true,
					  .memory_swap = 2 << 20 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "swap"));
	berr_clear(&err);
	res.memory_swap = 1 << 20;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	res.memory_swap = -1;
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
}

static void test_fake_unified_keys(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	const char *bad[] = { "../escape", "a/b", "..", "", "/etc/passwd", NULL };
	char *value = "1";
	size_t i;

	fake_tree(f->dir, "c1");
	put_file(f->dir, "escape", "untouched");
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V2, "c1", NULL, &cg, &err),
			 0);
	for (i = 0; bad[i]; i++) {
		char *key = (char *)bad[i];
		struct runtime_resources res = { .unified_keys = &key,
						 .unified_values = &value,
						 .n_unified = 1 };

		assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		berr_clear(&err);
	}
	assert_file(f->dir, "escape", "untouched");
	assert_file(f->dir, "cgroup.subtree_control", "+cpuset +cpu +io +memory +pids");
	/* A file the kernel does not offer. */
	{
		char *key = "memory.nonexistent";
		struct runtime_resources res = { .unified_keys = &key,
						 .unified_values = &value,
						 .n_unified = 1 };

		assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		assert_non_null(strstr(err->msg, "memory.nonexistent"));
	}
}

/* A failed create leaves nothing; a successful one is undone by destroy
 * down to the parents that existed before. */
static void test_fake_create_undo_and_destroy(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_resources res = { .has_memory_limit = true, .memory_limit = 1 << 20 };

	put_file(f->dir, "cgroup.controllers", "");
	assert_int_equal(runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V2, "x/y/z", &res, &cg, &err),
			 -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "memory.max"));
	assert_null(cg);
	assert_false(path_exists(f->dir, "x"));
	berr_clear(&err);

	make_dir(f->dir, "shared");
	assert_int_equal(
		runtime_cgroup_create(f->dir, RUNTIME_CGROUP_V2, "shared/p/c", NULL, &cg, &err), 0);
	assert_true(path_exists(f->dir, "shared/p/c"));
	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
	assert_false(path_exists(f->dir, "shared/p"));
	assert_true(path_exists(f->dir, "shared"));
	/* A second destroy, of what is gone, is fine. */
	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
}

static void test_fake_pids_and_gone(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *gone = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 99;

	fake_tree(f->dir, "c1");
	put_file(f->dir, "c1/cgroup.procs", "12\n345\n");
	put_file(f->dir, "c1/memory.events", "low 0\nhigh 0\nmax 4\noom 3\noom_kill 2\n");
	assert_int_equal(runtime_cgroup_open(f->dir, RUNTIME_CGROUP_V2, "/c1", &cg, &err), 0);
	assert_int_equal(runtime_cgroup_get_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pids[0], 12);
	assert_int_equal(pids[1], 345);
	assert_int_equal(runtime_cgroup_oom_kills(cg), 2);

	assert_int_equal(runtime_cgroup_open(f->dir, RUNTIME_CGROUP_V2, "nope", &gone, &err), 0);
	free(pids);
	pids = NULL;
	assert_int_equal(runtime_cgroup_get_pids(gone, &pids, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(pids);
	assert_int_equal(runtime_cgroup_oom_kills(gone), 0);
	assert_false(runtime_cgroup_is_frozen(gone));
	assert_int_equal(runtime_cgroup_destroy(gone, &err), 0);
	assert_int_equal(runtime_cgroup_freeze(gone, true, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
}

static void test_resolve_path(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	struct {
		const char *in, *id, *want;
	} ok[] = {
		{ NULL, "abc", "berth/abc" },
		{ "", "abc", "berth/abc" },
		{ "/docker/abc", "x", "docker/abc" },
		{ "//a//./b/", "x", "a/b" },
		{ "rel/path", "x", "rel/path" },
		{ "system.slice:berth:abc", "x", "system.slice/berth-abc.scope" },
		{ "machine-qemu.slice:libpod:c1", "x",
		  "machine.slice/machine-qemu.slice/libpod-c1.scope" },
		{ ":berth:abc", "x", "system.slice/berth-abc.scope" },
		{ "-.slice::abc", "x", "abc.scope" },
	};
	struct {
		const char *in, *id;
	} bad[] = {
		{ "/a/../b", "x" },
		{ "..", "x" },
		{ "/", "x" },
		{ NULL, "a/b" },
		{ NULL, ".." },
		{ NULL, "" },
		{ "bad-.slice:p:n", "x" },
		{ "a--b.slice:p:n", "x" },
		{ "nodot:p:n", "x" },
		{ "system.slice:p:", "x" },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		_cleanup_free_ char *got = runtime_cgroup_resolve_path(ok[i].in, ok[i].id, &err);

		assert_non_null(got);
		assert_string_equal(got, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_free_ char *got = runtime_cgroup_resolve_path(bad[i].in, bad[i].id, &err);

		assert_null(got);
		assert_int_equal(err->kind, BERR_INVALID);
		berr_clear(&err);
	}
}

static void test_devices_program_shape(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_device_rule all = {
		.allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm"
	};
	struct runtime_device_rule rules[] = {
		{ .allow = false, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
		all,
	};
	struct runtime_device_rule bad = {
		.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rx"
	};
	void *insns = NULL;
	struct bpf_insn *p;
	size_t n = 0;

	/* No rules: load the context, then deny. */
	assert_int_equal(runtime_cgroup_devices_program(NULL, 0, &insns, &n, &err), 0);
	assert_int_equal(n, 8);
	p = insns;
	assert_int_equal(p[6].code, BPF_ALU64 | BPF_MOV | BPF_K);
	assert_int_equal(p[6].imm, 0);
	assert_int_equal(p[7].code, BPF_JMP | BPF_EXIT);
	free(insns);

	/* The last rule allows everything: it alone decides, and nothing
	 * after it may remain (the verifier refuses dead code). */
	assert_int_equal(runtime_cgroup_devices_program(rules, 2, &insns, &n, &err), 0);
	assert_int_equal(n, 8);
	p = insns;
	assert_int_equal(p[6].imm, 1);
	free(insns);

	assert_int_equal(runtime_cgroup_devices_program(&bad, 1, &insns, &n, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
}

/* ---- the real cgroup2 tree ---- */

static bool have_real_v2(void)
{
	struct statfs sfs;

	return geteuid() == 0 && statfs(REAL_V2_ROOT, &sfs) == 0 &&
	       sfs.f_type == CGROUP2_SUPER_MAGIC;
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
	const char *suffixes[] = { "/freeze", "", "-dev", "-open" };
	struct runtime_cgroup *cgs[4] = { NULL };
	size_t i;

	for (i = 0; i < 4; i++) {
		_cleanup_free_ char *rel =
			str_printf("berth-test-%d%s", (int)getpid(), suffixes[i]);
		_cleanup_berr_ struct berr *err = NULL;

		if (rel &&
		    runtime_cgroup_open(REAL_V2_ROOT, RUNTIME_CGROUP_V2, rel, &cgs[i], &err) == 0)
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

/* A child that counts in shared memory until killed. */
static pid_t spawn_counter(volatile unsigned long *counter)
{
	pid_t pid = fork_child();

	if (pid == 0) {
		for (;;)
			(*counter)++;
	}
	return pid;
}

static int real_fixture_teardown(void **state)
{
	real_teardown(state);
	return teardown(state);
}

static void test_real_freeze(void **state)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *rel = str_printf("berth-test-%d/freeze", (int)getpid());
	_cleanup_free_ char *parent = str_printf(REAL_V2_ROOT "/berth-test-%d", (int)getpid());
	_cleanup_free_ pid_t *pids = NULL;
	volatile unsigned long *counter;
	unsigned long a, b;
	size_t n = 0;
	pid_t child;

	if (!have_real_v2())
		skip();
	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(counter != MAP_FAILED);
	assert_int_equal(
		runtime_cgroup_create(REAL_V2_ROOT, RUNTIME_CGROUP_V2, rel, NULL, &cg, &err), 0);
	child = spawn_counter(counter);
	assert_int_equal(runtime_cgroup_add_pid(cg, child, &err), 0);
	assert_int_equal(runtime_cgroup_get_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], child);

	assert_false(runtime_cgroup_is_frozen(cg));
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

	/* Busy: the child is still in it. */
	kill_and_reap(child);
	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
	assert_false(fs_exists(parent));
	munmap((void *)counter, 4096);
}

/* Forks a child, moves it into CG, and has it open PATH with FLAGS (or
 * mknod a character device MAJOR:MINOR when PATH is NULL); returns 0 or
 * the errno the child saw. */
static int probe(struct runtime_cgroup *cg, const char *path, int flags, unsigned int major,
		 unsigned int minor, const char *tmp)
{
	_cleanup_berr_ struct berr *err = NULL;
	int go[2], status = 0;
	pid_t pid;

	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork_child();
	if (pid == 0) {
		char c;
		int rc;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(200);
		if (path) {
			rc = open(path, flags | O_CLOEXEC);
		} else {
			char node[128];

			snprintf(node, sizeof(node), "%s/node", tmp);
			unlink(node);
			rc = mknod(node, S_IFCHR | 0600, makedev(major, minor));
			if (rc == 0)
				unlink(node);
		}
		_exit(rc < 0 ? errno : 0);
	}
	close(go[0]);
	assert_int_equal(runtime_cgroup_add_pid(cg, pid, &err), 0);
	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	assert_int_equal(reap(pid, &status), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_real_devices(void **state)
{
	struct fixture *f = *state;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *rel = str_printf("berth-test-%d-dev", (int)getpid());
	struct runtime_device_rule only_zero[] = {
		{ .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm" },
	};
	struct runtime_device_rule all_but_null[] = {
		{ .allow = true, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = false, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
	};
	struct runtime_device_rule null_read_only[] = {
		{ .allow = true, .type = 'c', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = false, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "r" },
		{ .allow = false, .type = 'c', .major = 1, .minor = 5, .access = "w" },
	};
	struct runtime_device_rule no_mknod[] = {
		{ .allow = true, .type = 'c', .major = 1, .minor = -1, .access = "rw" },
	};
	struct runtime_resources res = { .devices = only_zero, .n_devices = 1 };

	if (!have_real_v2())
		skip();
	assert_int_equal(
		runtime_cgroup_create(REAL_V2_ROOT, RUNTIME_CGROUP_V2, rel, &res, &cg, &err), 0);
	/* Deny by default: only /dev/zero is allowed. */
	assert_int_equal(probe(cg, "/dev/null", O_RDONLY, 0, 0, f->dir), EPERM);
	assert_int_equal(probe(cg, "/dev/zero", O_RDWR, 0, 0, f->dir), 0);

	/* The later rule wins: everything but /dev/null.  The old program
	 * is gone, or /dev/full would still be refused. */
	res = (struct runtime_resources){ .devices = all_but_null, .n_devices = 2 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_int_equal(probe(cg, "/dev/null", O_WRONLY, 0, 0, f->dir), EPERM);
	assert_int_equal(probe(cg, "/dev/full", O_RDONLY, 0, 0, f->dir), 0);
	assert_int_equal(probe(cg, "/dev/zero", O_RDONLY, 0, 0, f->dir), 0);

	/* Access bits: /dev/null readable only; /dev/zero not writable. */
	res = (struct runtime_resources){ .devices = null_read_only, .n_devices = 4 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_int_equal(probe(cg, "/dev/null", O_RDONLY, 0, 0, f->dir), 0);
	assert_int_equal(probe(cg, "/dev/null", O_WRONLY, 0, 0, f->dir), EPERM);
	assert_int_equal(probe(cg, "/dev/zero", O_RDONLY, 0, 0, f->dir), 0);
	assert_int_equal(probe(cg, "/dev/zero", O_RDWR, 0, 0, f->dir), EPERM);

	/* "rw" without "m": opening works, mknod does not. */
	res = (struct runtime_resources){ .devices = no_mknod, .n_devices = 1 };
	assert_int_equal(runtime_cgroup_update(cg, &res, &err), 0);
	assert_int_equal(probe(cg, "/dev/null", O_RDWR, 0, 0, f->dir), 0);
	assert_int_equal(probe(cg, NULL, 0, 1, 3, f->dir), EPERM);

	assert_int_equal(runtime_cgroup_destroy(cg, &err), 0);
	assert_false(fs_exists(runtime_cgroup_dir(cg, NULL)));
	/* Outside the cgroup nothing is restricted. */
	assert_int_equal(access("/dev/null", W_OK), 0);
}

static void test_real_open_existing(void **state)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *again = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *rel = str_printf("berth-test-%d-open", (int)getpid());
	enum runtime_cgroup_mode mode = RUNTIME_CGROUP_V1;

	if (!have_real_v2())
		skip();
	assert_int_equal(runtime_cgroup_detect(REAL_V2_ROOT, &mode, &err), 0);
	assert_int_equal(mode, RUNTIME_CGROUP_V2);
	assert_int_equal(runtime_cgroup_create(REAL_V2_ROOT, mode, rel, NULL, &cg, &err), 0);
	/* No controller is enabled in this tree: a limit names its file. */
	{
		struct runtime_resources res = { .has_pids_limit = true, .pids_limit = 5 };

		assert_int_equal(runtime_cgroup_update(cg, &res, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		assert_non_null(strstr(err->msg, "pids.max"));
		berr_clear(&err);
	}
	assert_int_equal(runtime_cgroup_open(REAL_V2_ROOT, mode, rel, &again, &err), 0);
	assert_string_equal(runtime_cgroup_dir(again, "memory"), runtime_cgroup_dir(cg, NULL));
	assert_int_equal(runtime_cgroup_destroy(again, &err), 0);
	assert_false(fs_exists(runtime_cgroup_dir(cg, NULL)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fake_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_conversions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_swap_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_unified_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_create_undo_and_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_pids_and_gone, setup, teardown),
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test(test_devices_program_shape),
		cmocka_unit_test_setup_teardown(test_real_freeze, setup, real_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_real_devices, setup, real_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_real_open_existing, setup,
						real_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
