/* Tests of the last steps of a container process (limits, cwd, fds, exec)
 * and of its terminal.  Every case that changes process state runs in a
 * forked child, which reports what the kernel shows to the parent; mounts
 * happen only in mount namespaces the children create. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "tests/unit/child_testutil.h"
#include "lib/unixsock.h"
#include "runtime/caps_internal.h"
#include "runtime/process.h"
#include "runtime/terminal.h"

#define CAP_SYS_RESOURCE_NR 24

/* Takes CAP_SYS_RESOURCE out of the effective set, as on a host whose
 * bounding set lacks it. */
static int drop_sys_resource(int out)
{
	struct runtime_caps caps;
	struct berr *err = NULL;

	if (runtime_caps_get(&caps, &err) < 0)
		return report_error(out, err);
	caps.effective &= ~(UINT64_C(1) << CAP_SYS_RESOURCE_NR);
	if (runtime_caps_set(&caps, &err) < 0)
		return report_error(out, err);
	return 0;
}

/* A scratch directory per test, removed by the teardown even when an
 * assertion fails half way. */
static int tmpdir_setup(void **state)
{
	char *dir = strdup("/tmp/berth-process-XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	struct berr *err = NULL;
	int r = fs_remove_tree(*state, &err);

	berr_free(err);
	free(*state);
	return r;
}

/* ---- limits ---- */

static int child_limits(int out, void *arg)
{
	const struct runtime_process *proc = arg;
	struct berr *err = NULL;
	struct rlimit nofile, core;
	char *adj = NULL;
	mode_t mask;

	if (runtime_process_apply_limits(proc, &err) < 0)
		return report_error(out, err);
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || getrlimit(RLIMIT_CORE, &core) < 0)
		return 2;
	if (fs_read_file("/proc/self/oom_score_adj", 64, &adj, NULL, &err) < 0)
		return report_error(out, err);
	mask = umask(0);
	dprintf(out, "nofile %llu %llu\ncore %llu %llu\numask %04o\noom %s",
		(unsigned long long)nofile.rlim_cur, (unsigned long long)nofile.rlim_max,
		(unsigned long long)core.rlim_cur, (unsigned long long)core.rlim_max,
		(unsigned)mask, adj);
	free(adj);
	return 0;
}

static void test_limits_applied(void **state)
{
	struct runtime_rlimit rl[] = {
		{ .resource = RLIMIT_NOFILE, .soft = 256, .hard = 512 },
		{ .resource = RLIMIT_CORE, .soft = 0, .hard = 0 },
	};
	struct runtime_process proc = { .rlimits = rl,
					.n_rlimits = 2,
					.has_umask = true,
					.umask = 027,
					.has_oom_score_adj = true,
					.oom_score_adj = 500 };
	struct child_result res;

	(void)state;
	run_child(child_limits, &proc, &res);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.text, "nofile 256 512\n"));
	assert_non_null(strstr(res.text, "core 0 0\n"));
	assert_non_null(strstr(res.text, "umask 0027\n"));
	assert_non_null(strstr(res.text, "oom 500\n"));
}

/* Without has_umask and has_oom_score_adj both stay as inherited. */
static void test_limits_optional_fields(void **state)
{
	struct runtime_process proc = { 0 };
	struct child_result res;
	mode_t old = umask(022);
	_cleanup_free_ char *adj = NULL;
	struct berr *err = NULL;
	char expect[64];

	(void)state;
	assert_int_equal(fs_read_file("/proc/self/oom_score_adj", 64, &adj, NULL, &err), 0);
	run_child(child_limits, &proc, &res);
	umask(old);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.text, "umask 0022\n"));
	snprintf(expect, sizeof(expect), "oom %s", adj);
	assert_non_null(strstr(res.text, expect));
}

struct raise_case {
	struct runtime_process proc;
};

static int child_raise_hard(int out, void *arg)
{
	struct raise_case *c = arg;
	struct berr *err = NULL;

	if (drop_sys_resource(out) != 0)
		return 2;
	if (runtime_process_apply_limits(&c->proc, &err) < 0)
		return report_error(out, err);
	return 0;
}

/* This host cannot raise a hard limit: the error must say why. */
static void test_raise_hard_limit_clear_error(void **state)
{
	struct runtime_rlimit rl = { .resource = RLIMIT_NOFILE };
	struct raise_case c = { .proc = { .rlimits = &rl, .n_rlimits = 1 } };
	struct child_result res;
	struct rlimit now;
	char expect[256];

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
	if (now.rlim_max == RLIM_INFINITY)
		skip();
	rl.soft = rl.hard = (uint64_t)now.rlim_max + 1;
	run_child(child_raise_hard, &c, &res);
	assert_int_equal(res.status, 1);
	assert_int_equal(error_kind(&res), BERR_FORBIDDEN);
	snprintf(expect, sizeof(expect),
		 "setrlimit RLIMIT_NOFILE %llu: the hard limit cannot be raised above the current "
		 "%llu without CAP_SYS_RESOURCE: %s\n",
		 (unsigned long long)now.rlim_max + 1, (unsigned long long)now.rlim_max,
		 strerror(EPERM));
	assert_non_null(strstr(res.text, expect));
}

static void test_soft_above_hard_invalid(void **state)
{
	struct runtime_rlimit rl = { .resource = RLIMIT_NOFILE, .soft = 200, .hard = 100 };
	struct raise_case c = { .proc = { .rlimits = &rl, .n_rlimits = 1 } };
	struct child_result res;

	(void)state;
	run_child(child_raise_hard, &c, &res);
	assert_int_equal(res.status, 1);
	assert_int_equal(error_kind(&res), BERR_INVALID);
	assert_non_null(strstr(res.text, "setrlimit RLIMIT_NOFILE 200:100"));
}

/* ---- cwd ---- */

struct cwd_case {
	char *root;    /* the container root the child chroots into */
	char *outside; /* a host directory the child holds an fd to */
};

static void cwd_try(int out, const char *label, const char *cwd)
{
	struct runtime_process proc = { .cwd = (char *)cwd };
	struct berr *err = NULL;
	char buf[PATH_MAX];

	if (runtime_process_enter_cwd(&proc, &err) < 0) {
		dprintf(out, "%s ERR %d %s\n", label, (int)err->kind, err->msg);
		berr_free(err);
		return;
	}
	dprintf(out, "%s OK %s\n", label, getcwd(buf, sizeof(buf)) ? buf : "?");
}

/* In its own mount namespace: proc inside the root, an fd to a host
 * directory kept across chroot, then the cwd variants. */
static int child_cwd(int out, void *arg)
{
	struct cwd_case *c = arg;
	_cleanup_free_ char *proc_dir = str_printf("%s/proc", c->root);
	_cleanup_free_ char *leak = NULL;
	_cleanup_free_ char *leak_new = NULL;
	int fd;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", proc_dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		dprintf(out, "setup: %s\n", strerror(errno));
		return 2;
	}
	fd = open(c->outside, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || chroot(c->root) < 0 || chdir("/") < 0) {
		dprintf(out, "setup: %s\n", strerror(errno));
		return 2;
	}
	leak = str_printf("/proc/self/fd/%d", fd);
	leak_new = str_printf("/proc/self/fd/%d/created", fd);
	cwd_try(out, "leak", leak);
	cwd_try(out, "leaknew", leak_new);
	cwd_try(out, "inside", "/work/dir");
	cwd_try(out, "relative", "work");
	cwd_try(out, "root", "/");
	return 0;
}

/* CVE-2024-21626: a cwd through an fd leaked from outside the root is
 * refused, and nothing is created outside on the way. */
static void test_enter_cwd_refuses_leaked_fd(void **state)
{
	_cleanup_free_ char *root = str_printf("%s/root", (char *)*state);
	_cleanup_free_ char *outside = str_printf("%s/outside", (char *)*state);
	struct cwd_case c = { .root = root, .outside = outside };
	struct child_result res;
	char line[256], path[PATH_MAX];

	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc", root);
	assert_int_equal(mkdir(path, 0755), 0);

	run_child(child_cwd, &c, &res);

	assert_int_equal(res.status, 0);
	snprintf(line, sizeof(line), "leak ERR %d cwd /proc/self/fd/", BERR_FORBIDDEN);
	assert_non_null(strstr(res.text, line));
	assert_non_null(strstr(res.text, "is outside the container root\n"));
	snprintf(line, sizeof(line), "leaknew ERR %d", BERR_FORBIDDEN);
	assert_non_null(strstr(res.text, line));
	snprintf(path, sizeof(path), "%s/created", outside);
	assert_false(fs_exists(path));
	/* A missing cwd inside the root is created, as runc does. */
	assert_non_null(strstr(res.text, "inside OK /work/dir\n"));
	snprintf(path, sizeof(path), "%s/work/dir", root);
	assert_true(fs_exists(path));
	snprintf(line, sizeof(line), "relative ERR %d", BERR_INVALID);
	assert_non_null(strstr(res.text, line));
	assert_non_null(strstr(res.text, "root OK /\n"));
}

/* ---- fds ---- */

/* /dev/null on fd 100, out of the way of the fds under test. */
static int high_devnull(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int high;

	if (fd < 0)
		return -1;
	high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	close(fd);
	return high;
}

static int child_fd_flags(int out, void *arg)
{
	int devnull = high_devnull();
	int targets[] = { 3, 4, 5, 50, 0 };
	struct berr *err = NULL;

	(void)arg;
	/* Keep the report pipe out of the way too. */
	out = fcntl(out, F_DUPFD_CLOEXEC, 200);
	if (devnull < 0 || out < 0)
		return 2;
	for (size_t i = 0; targets[i] != 0; i++) {
		if (dup2(devnull, targets[i]) < 0)
			return 2;
	}
	if (runtime_process_close_fds(2, &err) < 0)
		return report_error(out, err);
	for (int fd = 0; fd <= 50; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags >= 0)
			dprintf(out, "%d:%d\n", fd, (flags & FD_CLOEXEC) ? 1 : 0);
	}
	return 0;
}

static void test_close_fds_marks_cloexec(void **state)
{
	struct child_result res;

	(void)state;
	run_child(child_fd_flags, NULL, &res);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.text, "0:0\n"));
	assert_non_null(strstr(res.text, "1:0\n"));
	assert_non_null(strstr(res.text, "2:0\n"));
	assert_non_null(strstr(res.text, "3:0\n")); /* preserved */
	assert_non_null(strstr(res.text, "4:0\n")); /* preserved */
	assert_non_null(strstr(res.text, "5:1\n"));
	assert_non_null(strstr(res.text, "50:1\n"));
}

static int child_ls_fds(int out, void *arg)
{
	int devnull = high_devnull();
	int preserve = *(int *)arg;
	struct berr *err = NULL;

	/* The report pipe becomes ls's stdout; its own fd may be overwritten. */
	if (devnull < 0 || dup2(out, 1) != 1)
		return 2;
	for (int fd = 3; fd <= 7; fd++) {
		if (dup2(devnull, fd) < 0)
			return 2;
	}
	if (runtime_process_close_fds(preserve, &err) < 0)
		return report_error(1, err);
	execl("/bin/ls", "ls", "/proc/self/fd", (char *)NULL);
	return 127;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	}
	return false;
}

/* After execve only stdio and the preserved fds are left (ls adds its own
 * directory fd, the lowest free one). */
static void test_close_fds_after_exec(void **state)
{
	struct child_result res;
	int preserve = 0;

	(void)state;
	run_child(child_ls_fds, &preserve, &res);
	assert_int_equal(res.status, 0);
	assert_true(has_line(res.text, "0") && has_line(res.text, "1") && has_line(res.text, "2"));
	assert_true(has_line(res.text, "3")); /* ls's own */
	assert_false(has_line(res.text, "4"));
	assert_false(has_line(res.text, "6"));
	assert_false(has_line(res.text, "7"));

	preserve = 2;
	run_child(child_ls_fds, &preserve, &res);
	assert_int_equal(res.status, 0);
	assert_true(has_line(res.text, "3") && has_line(res.text, "4"));
	assert_true(has_line(res.text, "5")); /* ls's own */
	assert_false(has_line(res.text, "6"));
	assert_false(has_line(res.text, "7"));
}

static void test_close_fds_rejects_negative(void **state)
{
	struct berr *err = NULL;

	(void)state;
	assert_int_equal(runtime_process_close_fds(-1, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_free(err);
}

/* ---- exec ---- */

static int child_exec(int out, void *arg)
{
	const struct runtime_process *proc = arg;
	struct berr *err = NULL;

	runtime_process_exec(proc, &err);
	return report_error(out, err);
}

static void exec_case(char **args, char **env, struct child_result *res)
{
	struct runtime_process proc = { .args = args, .env = env };

	run_child(child_exec, &proc, res);
}

static void test_exec_path_lookup(void **state)
{
	char *args[] = { "sh", "-c", "exit 7", NULL };
	char *env[] = { "PATH=/nonexistent::/bin", NULL };
	char *args_env[] = { "sh", "-c", "test \"$FOO\" = bar", NULL };
	char *env_foo[] = { "PATH=/bin", "FOO=bar", NULL };
	char *env_nofoo[] = { "PATH=/bin", NULL };
	char *args_nopath[] = { "sh", "-c", "exit 3", NULL };
	char *env_empty[] = { NULL };
	struct child_result res;

	(void)state;
	exec_case(args, env, &res);
	assert_int_equal(res.status, 7);
	/* The environment is the spec's, not the runtime's. */
	setenv("FOO", "bar", 1);
	exec_case(args_env, env_nofoo, &res);
	unsetenv("FOO");
	assert_int_equal(res.status, 1);
	exec_case(args_env, env_foo, &res);
	assert_int_equal(res.status, 0);
	/* No PATH at all: the usual default. */
	exec_case(args_nopath, env_empty, &res);
	assert_int_equal(res.status, 3);
}

static void test_exec_not_found(void **state)
{
	char *args[] = { "berth-no-such-cmd", NULL };
	char *env[] = { "PATH=/bin:/usr/bin", NULL };
	char *abs[] = { "/nonexistent/berth-cmd", NULL };
	char expect[128];
	struct child_result res;

	(void)state;
	exec_case(args, env, &res);
	assert_int_equal(res.status, 1);
	snprintf(expect, sizeof(expect),
		 "ERR %d exec: \"berth-no-such-cmd\": executable file not found in $PATH\n",
		 BERR_NOT_FOUND);
	assert_string_equal(res.text, expect);

	exec_case(abs, env, &res);
	assert_int_equal(res.status, 1);
	snprintf(expect, sizeof(expect), "ERR %d exec: \"/nonexistent/berth-cmd\": %s\n",
		 BERR_NOT_FOUND, strerror(ENOENT));
	assert_string_equal(res.text, expect);
}

/* Files without an execute bit and directories in PATH are passed over. */
static void test_exec_skips_non_executables(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *file = str_printf("%s/berth-nonexec", dir);
	_cleanup_free_ char *sub = str_printf("%s/berth-dir", dir);
	_cleanup_free_ char *path_env = str_printf("PATH=%s", dir);
	char *args[] = { "berth-nonexec", NULL };
	char *args_dir[] = { "berth-dir", NULL };
	char *env[] = { path_env, NULL };
	struct child_result res;
	int fd;

	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	assert_int_equal(mkdir(sub, 0755), 0);

	exec_case(args, env, &res);
	assert_int_equal(res.status, 1);
	assert_int_equal(error_kind(&res), BERR_NOT_FOUND);
	exec_case(args_dir, env, &res);
	assert_int_equal(res.status, 1);
	assert_int_equal(error_kind(&res), BERR_NOT_FOUND);

	/* With the execute bit it runs. */
	assert_int_equal(chmod(file, 0755), 0);
	exec_case(args, env, &res);
	assert_int_equal(res.status, 0);
}

static void test_exec_permission_denied(void **state)
{
	char *args[] = { "/etc", NULL };
	char *env[] = { NULL };
	char expect[128];
	struct child_result res;

	(void)state;
	exec_case(args, env, &res);
	assert_int_equal(res.status, 1);
	snprintf(expect, sizeof(expect), "ERR %d exec: \"/etc\": %s\n", BERR_FORBIDDEN,
		 strerror(EACCES));
	assert_string_equal(res.text, expect);
}

static void test_exec_empty_args(void **state)
{
	char *args[] = { NULL };
	char *empty[] = { "", NULL };
	struct runtime_process proc = { .args = args };
	struct berr *err = NULL;

	(void)state;
	/* Failing before execve, so it is safe in the test process itself. */
	assert_int_equal(runtime_process_exec(&proc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	proc.args = empty;
	assert_int_equal(runtime_process_exec(&proc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	proc.args = NULL;
	assert_int_equal(runtime_process_exec(&proc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
}

/* ---- terminal ---- */

/* In a child with its own mount namespace (the /dev/console bind must not
 * reach the host): the pty becomes stdio, then a shell reports the size,
 * the tty name and the major number behind /dev/console. */
static void test_terminal_setup(void **state)
{
	int sv[2];
	int master, ptn = -1;
	char out[4096];
	size_t used = 0;
	pid_t pid;
	int st;
	struct berr *err = NULL;
	struct stat console;
	bool has_console = stat("/dev/console", &console) == 0 && S_ISCHR(console.st_mode);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(2);
		if (runtime_terminal_setup(sv[1], 80, 24, &err) < 0) {
			dprintf(sv[1], "%s", err->msg);
			_exit(3);
		}
		execl("/bin/sh", "sh", "-c", "stty size; tty; stat -c 'console %t' /dev/console",
		      (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	master = unixsock_recv_fd(sv[0], &err);
	if (master < 0)
		fail_msg("recv_fd: %s", err->msg);
	close(sv[0]);
	/* It is a pty master: only masters answer TIOCGPTN. */
	assert_int_equal(ioctl(master, TIOCGPTN, &ptn), 0);
	assert_true(ptn >= 0);
	assert_true(fcntl(master, F_GETFD) & FD_CLOEXEC);
	for (;;) {
		ssize_t n = read(master, out + used, sizeof(out) - 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* EIO once the slave side is gone */
			break;
		used += (size_t)n;
	}
	out[used] = '\0';
	close(master);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(out, "24 80\r\n"));
	{
		char expect[64];

		snprintf(expect, sizeof(expect), "/dev/pts/%d\r\n", ptn);
		assert_non_null(strstr(out, expect));
	}
	/* /dev/console now shows the pty (major 136 is 0x88). */
	if (has_console)
		assert_non_null(strstr(out, "console 88\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_applied),
		cmocka_unit_test(test_limits_optional_fields),
		cmocka_unit_test(test_raise_hard_limit_clear_error),
		cmocka_unit_test(test_soft_above_hard_invalid),
		cmocka_unit_test_setup_teardown(test_enter_cwd_refuses_leaked_fd, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_close_fds_marks_cloexec),
		cmocka_unit_test(test_close_fds_after_exec),
		cmocka_unit_test(test_close_fds_rejects_negative),
		cmocka_unit_test(test_exec_path_lookup),
		cmocka_unit_test(test_exec_not_found),
		cmocka_unit_test_setup_teardown(test_exec_skips_non_executables, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_exec_permission_denied),
		cmocka_unit_test(test_exec_empty_args),
		cmocka_unit_test(test_terminal_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
