/* Tests of the seccomp module: every filter is loaded for real, in a forked
 * child, and judged by what the child's syscalls did (its exit code) or by
 * the signal that killed it.  Profiles are built in C, as the spec parser
 * would hand them over. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "lib/berr.h"
#include "runtime/seccomp.h"

/* mkdir of this path fails with ENOENT when no filter stops it. */
#define MISSING_DIR "/nonexistent-berth-seccomp-test/dir"

/* Exit codes of children that could not do what the test wanted. */
#define CHILD_LOAD_FAILED  120
#define CHILD_SETUP_FAILED 121

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static char *mkdir_names[] = { "mkdir", "mkdirat", NULL };
static char *socket_names[] = { "socket", NULL };
/* Enough for a child under a deny-by-default filter to exit; the sanitizer
 * runtimes also release their signal stack on the way out. */
static char *exit_names[] = { "exit_group", "exit", "rt_sigreturn", "sigaltstack", "munmap", NULL };

static struct runtime_seccomp spec_with(const char *default_action,
					struct runtime_seccomp_rule *rules, size_t n_rules)
{
	return (struct runtime_seccomp){
		.default_action = (char *)default_action,
		.rules = rules,
		.n_rules = n_rules,
	};
}

static struct runtime_seccomp_rule rule_errno(char **names, uint32_t errno_ret)
{
	return (struct runtime_seccomp_rule){
		.names = names,
		.action = "SCMP_ACT_ERRNO",
		.has_errno_ret = true,
		.errno_ret = errno_ret,
	};
}

static struct runtime_seccomp_rule rule_action(char **names, const char *action)
{
	return (struct runtime_seccomp_rule){ .names = names, .action = (char *)action };
}

static struct runtime_seccomp_filter *prepare_ok(const struct runtime_seccomp *spec)
{
	struct runtime_seccomp_filter *filter = NULL;
	struct berr *err = NULL;
	int rc = runtime_seccomp_prepare(spec, &filter, &err);

	if (rc < 0)
		print_error("prepare: %s\n", err->msg);
	assert_int_equal(rc, 0);
	assert_null(err);
	assert_non_null(filter);
	return filter;
}

/* Asserts that preparing SPEC fails with BERR_INVALID and a message that
 * contains NEEDLE. */
static void prepare_invalid(const struct runtime_seccomp *spec, const char *needle)
{
	struct runtime_seccomp_filter *filter = NULL;
	struct berr *err = NULL;

	assert_int_equal(runtime_seccomp_prepare(spec, &filter, &err), -1);
	assert_null(filter);
	assert_non_null(err);
	if (strstr(err->msg, needle) == NULL)
		print_error("message \"%s\" lacks \"%s\"\n", err->msg, needle);
	assert_non_null(strstr(err->msg, needle));
	assert_int_equal(err->kind, BERR_INVALID);
	berr_free(err);
}

/* Forks a child that loads FILTER (unless NULL: then BODY does) and exits
 * with what BODY returns.  Returns the wait status. */
static int run_child(struct runtime_seccomp_filter *filter, int (*body)(void *), void *arg)
{
	struct rlimit no_core = { 0, 0 };
	int status = 0;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int listener = -1;

		/* Killed children must not leave core files behind. */
		if (setrlimit(RLIMIT_CORE, &no_core) < 0)
			_exit(CHILD_SETUP_FAILED);
		if (filter != NULL && runtime_seccomp_load(filter, &listener, NULL) < 0)
			_exit(CHILD_LOAD_FAILED);
		_exit(body(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exit_code(int status, int code)
{
	if (!WIFEXITED(status))
		print_error("child did not exit: status 0x%x\n", status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

static void assert_killed_by(int status, int sig)
{
	if (!WIFSIGNALED(status))
		print_error("child was not killed: status 0x%x\n", status);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), sig);
}

/* Child bodies: they return an errno or a code of what went wrong. */

static int mkdir_errno(void *arg)
{
	if (mkdir(MISSING_DIR, 0700) == 0)
		return 100;
	return errno;
}

/* mkdir's errno, after checking that other syscalls still work. */
static int mkdir_errno_others_work(void *arg)
{
	int e;
	int fd;

	if (mkdir(MISSING_DIR, 0700) == 0)
		return 100;
	e = errno;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || close(fd) < 0 || getpid() <= 0)
		return 101;
	return e;
}

static int socket_errno(int domain, int type)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

static void test_errno_rule(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = prepare_ok(&spec);

	assert_false(runtime_seccomp_wants_listener(filter));
	assert_exit_code(run_child(filter, mkdir_errno_others_work, NULL), 38);
	/* Without a filter the same child sees the real error. */
	assert_exit_code(run_child(NULL, mkdir_errno_others_work, NULL), ENOENT);
	runtime_seccomp_filter_free(filter);

	/* No errnoRet means EPERM. */
	rules[0].has_errno_ret = false;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), EPERM);
	runtime_seccomp_filter_free(filter);
}

/* A program kept in the cache comes back for the same spec (the canonical
 * text the parser records), and works; another text, a torn file or a
 * spec with a listener never gets it. */
static void test_program_cache(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = NULL;
	char dir[] = "/tmp/berth-seccomp-cache-XXXXXX";
	char cache[sizeof(dir) + 16], path[512];
	struct berr *err = NULL;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	spec.canonical = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"rule\":1}";
	assert_int_equal(runtime_seccomp_prepare_cached(&spec, cache, &filter, &err), 0);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 38);
	runtime_seccomp_filter_free(filter);
	d = opendir(cache);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL && de->d_name[0] == '.')
		;
	assert_non_null(de);
	snprintf(path, sizeof(path), "%s/%s", cache, de->d_name);
	closedir(d);
	assert_int_equal(stat(path, &st), 0);

	/* Served from the file: the rules given now are not looked at. */
	rules[0].errno_ret = 39;
	assert_int_equal(runtime_seccomp_prepare_cached(&spec, cache, &filter, &err), 0);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 38);
	runtime_seccomp_filter_free(filter);

	/* A torn file is made again from the spec. */
	assert_int_equal(truncate(path, st.st_size - 3), 0);
	assert_int_equal(runtime_seccomp_prepare_cached(&spec, cache, &filter, &err), 0);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 39);
	runtime_seccomp_filter_free(filter);

	/* A file changed under the same name is not trusted. */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 8), 1);
	close(fd);
	rules[0].errno_ret = 40;
	assert_int_equal(runtime_seccomp_prepare_cached(&spec, cache, &filter, &err), 0);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 40);
	runtime_seccomp_filter_free(filter);

	/* A listener's spec is built every time. */
	spec.listener_path = "/nonexistent.sock";
	rules[0].errno_ret = 41;
	assert_int_equal(runtime_seccomp_prepare_cached(&spec, cache, &filter, &err), 0);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 41);
	runtime_seccomp_filter_free(filter);
	assert_null(err);
	unlink(path);
	rmdir(cache);
	rmdir(dir);
}

static void test_default_errno_ret(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_action(exit_names, "SCMP_ACT_ALLOW") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ERRNO", rules, 1);
	struct runtime_seccomp_filter *filter;

	spec.has_default_errno_ret = true;
	spec.default_errno_ret = EOPNOTSUPP;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), EOPNOTSUPP);
	runtime_seccomp_filter_free(filter);

	spec.has_default_errno_ret = false;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), EPERM);
	runtime_seccomp_filter_free(filter);
}

static int socket_inet6_denied(void *arg)
{
	if (socket_errno(AF_INET6, SOCK_STREAM) != 42)
		return 1;
	if (socket_errno(AF_UNIX, SOCK_STREAM) != 0)
		return 2;
	return 0;
}

static void test_arg_condition(void **state)
{
	struct runtime_seccomp_arg args[] = {
		{ .index = 0, .value = AF_INET6, .op = RUNTIME_SECCOMP_OP_EQ },
	};
	struct runtime_seccomp_rule rules[] = { rule_errno(socket_names, 42) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	rules[0].args = args;
	rules[0].n_args = 1;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, socket_inet6_denied, NULL), 0);
	runtime_seccomp_filter_free(filter);
}

static int socket_unix_dgram_denied(void *arg)
{
	/* SOCK_CLOEXEC sits outside the mask, so it does not matter. */
	if (socket_errno(AF_UNIX, SOCK_DGRAM) != 43)
		return 1;
	if (socket_errno(AF_UNIX, SOCK_STREAM) != 0)
		return 2;
	/* Conditions on different arguments are ANDed. */
	if (socket_errno(AF_INET, SOCK_DGRAM) != 0)
		return 3;
	return 0;
}

static void test_masked_eq_and(void **state)
{
	struct runtime_seccomp_arg args[] = {
		{ .index = 0, .value = AF_UNIX, .op = RUNTIME_SECCOMP_OP_EQ },
		{ .index = 1,
		  .value = 0xf,
		  .value_two = SOCK_DGRAM,
		  .op = RUNTIME_SECCOMP_OP_MASKED_EQ },
	};
	struct runtime_seccomp_rule rules[] = { rule_errno(socket_names, 43) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	rules[0].args = args;
	rules[0].n_args = N_ELEMENTS(args);
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, socket_unix_dgram_denied, NULL), 0);
	runtime_seccomp_filter_free(filter);
}

static int socket_inet_both_denied(void *arg)
{
	if (socket_errno(AF_INET, SOCK_DGRAM) != 44)
		return 1;
	if (socket_errno(AF_INET6, SOCK_DGRAM) != 44)
		return 2;
	if (socket_errno(AF_UNIX, SOCK_DGRAM) != 0)
		return 3;
	return 0;
}

/* Two conditions on argument 0 cannot both hold: ANDed they would deny
 * nothing, split into two rules they deny either family. */
static void test_repeated_index_is_or(void **state)
{
	struct runtime_seccomp_arg args[] = {
		{ .index = 0, .value = AF_INET, .op = RUNTIME_SECCOMP_OP_EQ },
		{ .index = 0, .value = AF_INET6, .op = RUNTIME_SECCOMP_OP_EQ },
	};
	struct runtime_seccomp_rule rules[] = { rule_errno(socket_names, 44) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	rules[0].args = args;
	rules[0].n_args = N_ELEMENTS(args);
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, socket_inet_both_denied, NULL), 0);
	runtime_seccomp_filter_free(filter);
}

/* Returns 1 when close(FD) was denied by the filter, 0 when it ran (EBADF:
 * these fds are not open). */
static int close_denied(void *arg)
{
	int fd = *(int *)arg;

	if (close(fd) == 0)
		return 2;
	return errno == 50 ? 1 : 0;
}

static void test_operators(void **state)
{
	static const struct {
		enum runtime_seccomp_op op;
		uint64_t value, value_two;
		int denied_fd, allowed_fd;
	} cases[] = {
		{ RUNTIME_SECCOMP_OP_EQ, 700, 0, 700, 500 },
		{ RUNTIME_SECCOMP_OP_NE, 700, 0, 500, 700 },
		{ RUNTIME_SECCOMP_OP_LT, 600, 0, 500, 600 },
		{ RUNTIME_SECCOMP_OP_LE, 700, 0, 700, 701 },
		{ RUNTIME_SECCOMP_OP_GT, 600, 0, 601, 600 },
		{ RUNTIME_SECCOMP_OP_GE, 700, 0, 700, 699 },
		/* 700 is 0x2bc, 444 is 0x1bc, 500 is 0x1f4. */
		{ RUNTIME_SECCOMP_OP_MASKED_EQ, 0xff, 0xbc, 444, 500 },
	};
	static char *close_names[] = { "close", NULL };

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct runtime_seccomp_arg arg = {
			.index = 0,
			.value = cases[i].value,
			.value_two = cases[i].value_two,
			.op = cases[i].op,
		};
		struct runtime_seccomp_rule rules[] = { rule_errno(close_names, 50) };
		struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
		struct runtime_seccomp_filter *filter;
		int denied = cases[i].denied_fd, allowed = cases[i].allowed_fd;

		rules[0].args = &arg;
		rules[0].n_args = 1;
		filter = prepare_ok(&spec);
		assert_exit_code(run_child(filter, close_denied, &denied), 1);
		assert_exit_code(run_child(filter, close_denied, &allowed), 0);
		runtime_seccomp_filter_free(filter);
	}
}

static void *mkdir_thread(void *arg)
{
	int *result = arg;
	int fd = result[0];
	char c;

	/* Wait for the main thread's go, if it gives one. */
	if (fd >= 0 && read(fd, &c, 1) != 1) {
		result[1] = -1;
		return NULL;
	}
	result[1] = mkdir(MISSING_DIR, 0700) == 0 ? 0 : errno;
	return NULL;
}

static int mkdir_in_thread(void *arg)
{
	int result[2] = { -1, -1 };
	pthread_t thread;

	if (pthread_create(&thread, NULL, mkdir_thread, result) != 0)
		return CHILD_SETUP_FAILED;
	pthread_join(thread, NULL);
	return 7;
}

static void test_kill_actions(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_action(mkdir_names, "SCMP_ACT_KILL_PROCESS") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	filter = prepare_ok(&spec);
	assert_killed_by(run_child(filter, mkdir_errno, NULL), SIGSYS);
	/* The whole process dies, even when another thread made the call. */
	assert_killed_by(run_child(filter, mkdir_in_thread, NULL), SIGSYS);
	runtime_seccomp_filter_free(filter);

	/* Killing the thread only: the main thread goes on. */
	rules[0].action = "SCMP_ACT_KILL_THREAD";
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_in_thread, NULL), 7);
	runtime_seccomp_filter_free(filter);

	/* SCMP_ACT_KILL is the old name of KILL_THREAD. */
	rules[0].action = "SCMP_ACT_KILL";
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_in_thread, NULL), 7);
	assert_killed_by(run_child(filter, mkdir_errno, NULL), SIGSYS);
	runtime_seccomp_filter_free(filter);
}

static volatile sig_atomic_t trapped_syscall = -1;

static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	if (info->si_code == SYS_SECCOMP)
		trapped_syscall = info->si_syscall;
}

static int mkdir_trapped(void *arg)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return CHILD_SETUP_FAILED;
	mkdir(MISSING_DIR, 0700);
	if (trapped_syscall == SYS_mkdir || trapped_syscall == SYS_mkdirat)
		return 0;
	return 1;
}

static void test_trap(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_action(mkdir_names, "SCMP_ACT_TRAP") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = prepare_ok(&spec);

	assert_exit_code(run_child(filter, mkdir_trapped, NULL), 0);
	runtime_seccomp_filter_free(filter);
}

/* LOG lets the call run: under a deny-by-default filter mkdir still reaches
 * the kernel and reports the real ENOENT. */
static void test_log_action(void **state)
{
	struct runtime_seccomp_rule rules[] = {
		rule_action(exit_names, "SCMP_ACT_ALLOW"),
		rule_action(mkdir_names, "SCMP_ACT_LOG"),
	};
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ERRNO", rules, 2);
	struct runtime_seccomp_filter *filter;

	spec.has_default_errno_ret = true;
	spec.default_errno_ret = 38;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), ENOENT);
	runtime_seccomp_filter_free(filter);
}

/* Without a tracer, the kernel fails a TRACE'd syscall with ENOSYS. */
static void test_trace_without_tracer(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_action(mkdir_names, "SCMP_ACT_TRACE") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = prepare_ok(&spec);

	assert_exit_code(run_child(filter, mkdir_errno, NULL), ENOSYS);
	runtime_seccomp_filter_free(filter);
}

/* A thread started before the filter is loaded calls mkdir afterwards: it
 * is filtered only when TSYNC spreads the filter to all threads. */
static int load_then_thread_mkdir(void *arg)
{
	struct runtime_seccomp_filter *filter = arg;
	int go[2];
	int result[2] = { -1, -1 };
	int listener = -1;
	pthread_t thread;

	if (pipe2(go, O_CLOEXEC) < 0)
		return CHILD_SETUP_FAILED;
	result[0] = go[0];
	if (pthread_create(&thread, NULL, mkdir_thread, result) != 0)
		return CHILD_SETUP_FAILED;
	if (runtime_seccomp_load(filter, &listener, NULL) < 0)
		return CHILD_LOAD_FAILED;
	if (write(go[1], "x", 1) != 1)
		return CHILD_SETUP_FAILED;
	pthread_join(thread, NULL);
	return result[1] < 0 ? CHILD_SETUP_FAILED : result[1];
}

static void test_tsync(void **state)
{
	static char *tsync[] = { "SECCOMP_FILTER_FLAG_TSYNC", NULL };
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	filter = prepare_ok(&spec);
	assert_exit_code(run_child(NULL, load_then_thread_mkdir, filter), ENOENT);
	runtime_seccomp_filter_free(filter);

	spec.flags = tsync;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(NULL, load_then_thread_mkdir, filter), 38);
	runtime_seccomp_filter_free(filter);
}

static void test_other_flags(void **state)
{
	static char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
				 NULL };
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	spec.flags = flags;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 38);
	runtime_seccomp_filter_free(filter);
}

static int no_new_privs(void *arg)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
}

/* no_new_privs is left to process.noNewPrivileges. */
static void test_load_keeps_privileges(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = prepare_ok(&spec);

	assert_exit_code(run_child(filter, no_new_privs, NULL), 0);
	runtime_seccomp_filter_free(filter);
}

struct nobody_load {
	struct runtime_seccomp_filter *filter;
	bool no_new_privs;
};

/* Loads as an unprivileged user.  Exit 0 when that fails with
 * BERR_FORBIDDEN, or, with no_new_privs set first, when it works. */
static int load_as_nobody(void *arg)
{
	const struct nobody_load *nl = arg;
	struct berr *err = NULL;
	int listener = -1;
	int rc;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return CHILD_SETUP_FAILED;
	if (nl->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return CHILD_SETUP_FAILED;
	rc = runtime_seccomp_load(nl->filter, &listener, &err);
	if (nl->no_new_privs)
		return rc == 0 && mkdir_errno(NULL) == 38 ? 0 : 1;
	return rc < 0 && err->kind == BERR_FORBIDDEN ? 0 : 2;
}

static void test_load_unprivileged(void **state)
{
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = prepare_ok(&spec);
	struct nobody_load without_nnp = { filter, false };
	struct nobody_load with_nnp = { filter, true };

	assert_exit_code(run_child(NULL, load_as_nobody, &without_nnp), 0);
	assert_exit_code(run_child(NULL, load_as_nobody, &with_nnp), 0);
	runtime_seccomp_filter_free(filter);
}

#define NOTIFY_STATE  "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":1}"
#define NOTIFY_ANSWER 4242

struct notify_child {
	struct runtime_seccomp_filter *filter;
	int sock;
};

static int notified_getppid(void *arg)
{
	struct notify_child *nc = arg;
	int listener = -1;
	long r;

	if (runtime_seccomp_load(nc->filter, &listener, NULL) < 0)
		return CHILD_LOAD_FAILED;
	if (listener < 0)
		return 101;
	if (!(fcntl(listener, F_GETFD) & FD_CLOEXEC))
		return 102;
	if (runtime_seccomp_send_listener(nc->sock, listener, NOTIFY_STATE, NULL) < 0)
		return 103;
	close(listener);
	r = syscall(SYS_getppid);
	return r == NOTIFY_ANSWER ? 0 : 104;
}

/* Receives one fd and the bytes that came with it. */
static int recv_fd(int sock, char *buf, size_t size, size_t *len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;
	int fd;

	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	*len = (size_t)n;
	return fd;
}

/* Answers one notification on LISTENER.  Returns the syscall number asked
 * about, or -1. */
static int answer_notification(int listener, pid_t child)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	struct pollfd pfd = { .fd = listener, .events = POLLIN };
	int nr = -1;

	if (poll(&pfd, 1, 10000) != 1)
		return -1;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		return -1;
	if (seccomp_notify_receive(listener, req) == 0 && (pid_t)req->pid == child) {
		resp->id = req->id;
		resp->val = NOTIFY_ANSWER;
		resp->error = 0;
		resp->flags = 0;
		if (seccomp_notify_respond(listener, resp) == 0)
			nr = req->data.nr;
	}
	seccomp_notify_free(req, resp);
	return nr;
}

static void test_notify(void **state)
{
	static char *getppid_names[] = { "getppid", NULL };
	struct runtime_seccomp_rule rules[] = { rule_action(getppid_names, "SCMP_ACT_NOTIFY") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;
	struct notify_child nc;
	char buf[256];
	size_t len = 0;
	int sv[2];
	int listener, nr = -1, status = 0;
	pid_t pid;

	spec.listener_path = "/run/berth-test-agent.sock";
	filter = prepare_ok(&spec);
	assert_true(runtime_seccomp_wants_listener(filter));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	nc = (struct notify_child){ .filter = filter, .sock = sv[1] };

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(notified_getppid(&nc));
	close(sv[1]);

	/* Whatever goes wrong, closing the listener releases the child. */
	listener = recv_fd(sv[0], buf, sizeof(buf), &len);
	if (listener >= 0) {
		nr = answer_notification(listener, pid);
		close(listener);
	} else {
		kill(pid, SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(sv[0]);
	runtime_seccomp_filter_free(filter);

	assert_true(listener >= 0);
	assert_int_equal(len, strlen(NOTIFY_STATE));
	assert_memory_equal(buf, NOTIFY_STATE, len);
	assert_int_equal(nr, SYS_getppid);
	assert_exit_code(status, 0);
}

static int load_reports_no_listener(void *arg)
{
	int listener = 5;

	if (runtime_seccomp_load(arg, &listener, NULL) < 0)
		return CHILD_LOAD_FAILED;
	return listener == -1 ? 0 : 1;
}

static void test_notify_needs_resolved_rule(void **state)
{
	static char *names[] = { "berth_no_such_syscall", NULL };
	struct runtime_seccomp_rule rules[] = { rule_action(names, "SCMP_ACT_NOTIFY") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	/* The only NOTIFY rule was skipped: no listener to hand over. */
	spec.listener_path = "/run/berth-test-agent.sock";
	filter = prepare_ok(&spec);
	assert_false(runtime_seccomp_wants_listener(filter));
	runtime_seccomp_filter_free(filter);

	/* Loading without a listener writes -1 to *listener_fd. */
	rules[0] = rule_errno(mkdir_names, 38);
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(NULL, load_reports_no_listener, filter), 0);
	runtime_seccomp_filter_free(filter);
}

static void test_send_listener(void **state)
{
	static const char big_state[] = "{\"ociVersion\":\"1.2.0\",\"metadata\":\"agent-data\"}";
	char buf[128];
	struct stat sent_st, got_st;
	struct berr *err = NULL;
	size_t len = 0;
	int sv[2], pipefd[2];
	int got;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);

	assert_int_equal(runtime_seccomp_send_listener(sv[1], pipefd[1], big_state, &err), 0);
	assert_null(err);
	got = recv_fd(sv[0], buf, sizeof(buf), &len);
	assert_true(got >= 0);
	assert_int_equal(len, strlen(big_state));
	assert_memory_equal(buf, big_state, len);
	/* The received fd is the same pipe: what it writes, pipefd[0] reads. */
	assert_int_equal(fstat(pipefd[1], &sent_st), 0);
	assert_int_equal(fstat(got, &got_st), 0);
	assert_int_equal(sent_st.st_ino, got_st.st_ino);
	assert_int_equal(write(got, "z", 1), 1);
	assert_int_equal(read(pipefd[0], buf, 1), 1);
	assert_int_equal(buf[0], 'z');
	close(got);

	/* An empty state could not carry the fd. */
	assert_int_equal(runtime_seccomp_send_listener(sv[1], pipefd[1], "", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);

	/* A peer that went away: an error, not SIGPIPE. */
	close(sv[0]);
	assert_int_equal(runtime_seccomp_send_listener(sv[1], pipefd[1], big_state, &err), -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
	assert_int_equal(err->sys_errno, EPIPE);
	berr_clear(&err);

	close(sv[1]);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_unknown_syscall_skipped(void **state)
{
	static char *names[] = { "berth_no_such_syscall", "mkdir", "mkdirat", NULL };
	struct runtime_seccomp_rule rules[] = { rule_errno(names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter = prepare_ok(&spec);

	assert_exit_code(run_child(filter, mkdir_errno, NULL), 38);
	runtime_seccomp_filter_free(filter);
}

/* libseccomp refuses a rule with the default action; it is skipped. */
static void test_default_action_rule_skipped(void **state)
{
	static char *getpid_names[] = { "getpid", NULL };
	struct runtime_seccomp_rule rules[] = {
		rule_action(exit_names, "SCMP_ACT_ALLOW"),
		/* Same as the default: ERRNO without errnoRet is EPERM. */
		rule_action(getpid_names, "SCMP_ACT_ERRNO"),
		rule_errno(mkdir_names, 38),
	};
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ERRNO", rules, 3);
	struct runtime_seccomp_filter *filter;

	spec.has_default_errno_ret = true;
	spec.default_errno_ret = EPERM;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 38);
	runtime_seccomp_filter_free(filter);

	rules[1] = rule_action(getpid_names, "SCMP_ACT_ALLOW");
	spec.default_action = "SCMP_ACT_ALLOW";
	filter = prepare_ok(&spec);
	runtime_seccomp_filter_free(filter);
}

static void test_architectures(void **state)
{
#if defined(__x86_64__)
	static char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
#elif defined(__aarch64__)
	static char *archs[] = { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
#else
	static char *archs[] = { NULL };
#endif
	struct runtime_seccomp_rule rules[] = { rule_errno(mkdir_names, 38) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	struct runtime_seccomp_filter *filter;

	spec.architectures = archs;
	filter = prepare_ok(&spec);
	assert_exit_code(run_child(filter, mkdir_errno, NULL), 38);
	runtime_seccomp_filter_free(filter);
}

static void test_invalid_actions(void **state)
{
	static char *getpid_names[] = { "getpid", NULL };
	struct runtime_seccomp_rule rules[] = {
		rule_errno(mkdir_names, 38),
		rule_errno(socket_names, 42),
		rule_action(getpid_names, "SCMP_ACT_ALLOW"),
		rule_action(getpid_names, "SCMP_ACT_FOO"),
	};
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ERRNO", rules, 4);

	prepare_invalid(&spec, "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");

	spec.default_action = "SCMP_ACT_BAR";
	prepare_invalid(&spec, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BAR\"");

	spec.default_action = "SCMP_ACT_NOTIFY";
	prepare_invalid(&spec, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY");

	spec = spec_with("SCMP_ACT_ALLOW", rules, 1);
	rules[0].errno_ret = 70000;
	prepare_invalid(&spec, "linux.seccomp.syscalls[0].action: SCMP_ACT_ERRNO: errnoRet 70000");
}

static void test_invalid_notify(void **state)
{
	static char *write_names[] = { "read", "write", NULL };
	struct runtime_seccomp_rule rules[] = { rule_action(mkdir_names, "SCMP_ACT_NOTIFY") };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);

	prepare_invalid(&spec, "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY needs "
			       "linux.seccomp.listenerPath");

	spec.listener_path = "/run/berth-test-agent.sock";
	rules[0].names = write_names;
	prepare_invalid(&spec, "SCMP_ACT_NOTIFY cannot be used for \"write\"");
}

static void test_invalid_archs_and_flags(void **state)
{
	static char *bad_archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_FOO", NULL };
	static char *bad_flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO", NULL };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", NULL, 0);

	spec.architectures = bad_archs;
	prepare_invalid(&spec,
			"linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"");

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	{
		/* libseccomp cannot mix byte orders in one filter. */
		static char *mixed[] = { "SCMP_ARCH_S390X", NULL };

		spec.architectures = mixed;
		prepare_invalid(&spec, "linux.seccomp.architectures[0]: cannot add "
				       "\"SCMP_ARCH_S390X\"");
	}
#endif

	spec.architectures = NULL;
	spec.flags = bad_flags;
	prepare_invalid(&spec, "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
}

static void test_invalid_args(void **state)
{
	struct runtime_seccomp_arg args[] = {
		{ .index = 0, .value = AF_UNIX, .op = RUNTIME_SECCOMP_OP_EQ },
		{ .index = 1, .value = 1, .op = (enum runtime_seccomp_op)42 },
	};
	struct runtime_seccomp_rule rules[] = {
		rule_errno(mkdir_names, 38),
		rule_errno(socket_names, 42),
	};
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 2);

	rules[1].args = args;
	rules[1].n_args = N_ELEMENTS(args);
	prepare_invalid(&spec, "linux.seccomp.syscalls[1].args[1]: unknown operator 42");

	args[1].op = RUNTIME_SECCOMP_OP_EQ;
	args[1].index = 6;
	prepare_invalid(&spec, "linux.seccomp.syscalls[1].args[1]: index 6 is above 5");

	/* Checked even when the rule would be skipped. */
	rules[1].names = (char *[]){ "berth_no_such_syscall", NULL };
	prepare_invalid(&spec, "linux.seccomp.syscalls[1].args[1]: index 6 is above 5");
}

/* The kernel takes at most 4096 BPF instructions: a bigger filter fails in
 * prepare, not in the container process. */
static void test_filter_too_large(void **state)
{
	static char *close_names[] = { "close", NULL };
	enum {
		N = 5000
	};
	struct runtime_seccomp_arg *args = calloc(N, sizeof(*args));
	struct runtime_seccomp_rule rules[] = { rule_errno(close_names, 50) };
	struct runtime_seccomp spec = spec_with("SCMP_ACT_ALLOW", rules, 1);

	assert_non_null(args);
	for (size_t i = 0; i < N; i++)
		args[i] = (struct runtime_seccomp_arg){ .index = 0,
							.value = 10000 + i,
							.op = RUNTIME_SECCOMP_OP_EQ };
	rules[0].args = args;
	rules[0].n_args = N;
	prepare_invalid(&spec, "instructions, the kernel takes at most 4096");
	free(args);
}

static bool array_has(const json_t *array, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach (array, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	}
	return false;
}

static void test_features(void **state)
{
	static const char *const actions[] = {
		"SCMP_ACT_KILL",  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS",
		"SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",	  "SCMP_ACT_TRACE",
		"SCMP_ACT_ALLOW", "SCMP_ACT_LOG",	  "SCMP_ACT_NOTIFY",
	};
	json_t *f = runtime_seccomp_features();
	json_t *known, *supported, *v;
	size_t i;

	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f, "enabled")));
	for (i = 0; i < N_ELEMENTS(actions); i++)
		assert_true(array_has(json_object_get(f, "actions"), actions[i]));
	assert_int_equal(json_array_size(json_object_get(f, "operators")), 7);
	assert_true(array_has(json_object_get(f, "operators"), "SCMP_CMP_MASKED_EQ"));
	assert_true(array_has(json_object_get(f, "archs"), "SCMP_ARCH_X86_64"));
	assert_true(array_has(json_object_get(f, "archs"), "SCMP_ARCH_AARCH64"));
	assert_true(array_has(json_object_get(f, "archs"), "SCMP_ARCH_S390X"));

	known = json_object_get(f, "knownFlags");
	supported = json_object_get(f, "supportedFlags");
	assert_true(array_has(known, "SECCOMP_FILTER_FLAG_TSYNC"));
	assert_true(array_has(known, "SECCOMP_FILTER_FLAG_LOG"));
	assert_true(array_has(known, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
	assert_true(json_is_array(supported));
	json_array_foreach (supported, i, v) {
		assert_true(array_has(known, json_string_value(v)));
	}
	/* This host's kernel (6.x) has all three. */
	assert_true(array_has(supported, "SECCOMP_FILTER_FLAG_TSYNC"));
	assert_true(array_has(supported, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
	json_decref(f);
}

/* A classic BPF interpreter for seccomp programs, enough for what libseccomp
 * and the compact program emit: the answer of P (N instructions) to D. */
static uint32_t run_program(const struct sock_filter *p, size_t n, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];
		uint32_t k = f->k, v;

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(k + 4 <= sizeof(*d) && k % 4 == 0);
			memcpy(&a, (const char *)d + k, 4);
			break;
		case BPF_LD | BPF_IMM:
			a = k;
			break;
		case BPF_LDX | BPF_IMM:
			x = k;
			break;
		case BPF_LD | BPF_MEM:
			a = mem[k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[k];
			break;
		case BPF_ST:
			mem[k] = a;
			break;
		case BPF_STX:
			mem[k] = x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_ALU | BPF_OR | BPF_K:
			a |= k;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_X: {
			bool t;

			v = BPF_SRC(f->code) == BPF_X ? x : k;
			switch (BPF_OP(f->code)) {
			case BPF_JEQ:
				t = a == v;
				break;
			case BPF_JGT:
				t = a > v;
				break;
			case BPF_JGE:
				t = a >= v;
				break;
			default:
				t = (a & v) != 0;
			}
			pc += t ? f->jt : f->jf;
			break;
		}
		case BPF_RET | BPF_K:
			return k;
		default:
			fail_msg("instruction %zu: opcode 0x%x not interpreted", pc, f->code);
		}
	}
	fail_msg("the program ran off its end");
	return 0;
}

/* The program a plain filter loads answers every syscall of every
 * architecture as libseccomp's program of the whole profile does, for a
 * profile shaped like Docker's default one: hundreds of names allowed
 * outright on three architectures, some refused with their own errno, some
 * allowed only for certain arguments, names that x86 multiplexes, a name
 * given two actions, and gaps. */
static void test_compact_program(void **state)
{
	static char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
	static char *enosys[] = { "clone3", "open_tree", NULL };
	static char *killed[] = { "kexec_load", "reboot", NULL };
	static char *personality[] = { "personality", NULL };
	static char *clone_names[] = { "clone", NULL };
	static char *socket_family[] = { "socket", NULL };
	static char *twice[] = { "acct", NULL };
	struct runtime_seccomp_arg personality_args[] = {
		{ .index = 0, .value = 0, .op = RUNTIME_SECCOMP_OP_EQ },
		{ .index = 0, .value = 8, .op = RUNTIME_SECCOMP_OP_EQ },
	};
	struct runtime_seccomp_arg clone_args[] = {
		{ .index = 0,
		  .value = 0x7e020000,
		  .value_two = 0,
		  .op = RUNTIME_SECCOMP_OP_MASKED_EQ },
	};
	struct runtime_seccomp_arg socket_args[] = {
		{ .index = 0, .value = 40, .op = RUNTIME_SECCOMP_OP_NE },
	};
	const uint64_t arg0s[] = { 0, 8, 40, 0x10000, 0x20000 };
	const uint32_t tokens[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64 };
	char *allowed[520] = { 0 };
	size_t n_allowed = 0;
	struct runtime_seccomp_rule rules[8];
	struct runtime_seccomp spec;
	struct runtime_seccomp_filter *filter;
	const struct sock_filter *loaded;
	struct sock_filter *whole = NULL;
	size_t n_loaded, n_whole;
	struct berr *err = NULL;

	(void)state;
	/* Every native syscall but one in seven, and the multiplexers. */
	for (int nr = 0; nr < 460; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (!name)
			continue;
		if (nr % 7 == 3 || strcmp(name, "clone") == 0 || strcmp(name, "personality") == 0 ||
		    strcmp(name, "socket") == 0) {
			free(name);
			continue;
		}
		allowed[n_allowed++] = name;
	}
	allowed[n_allowed++] = strdup("socketcall");
	allowed[n_allowed++] = strdup("ipc");
	allowed[n_allowed] = NULL;
	rules[0] = rule_action(allowed, "SCMP_ACT_ALLOW");
	rules[1] = rule_errno(enosys, ENOSYS);
	rules[2] = rule_action(killed, "SCMP_ACT_KILL_PROCESS");
	rules[3] = rule_action(personality, "SCMP_ACT_ALLOW");
	rules[3].args = personality_args;
	rules[3].n_args = N_ELEMENTS(personality_args);
	rules[4] = rule_action(clone_names, "SCMP_ACT_ALLOW");
	rules[4].args = clone_args;
	rules[4].n_args = N_ELEMENTS(clone_args);
	rules[5] = rule_action(socket_family, "SCMP_ACT_ALLOW");
	rules[5].args = socket_args;
	rules[5].n_args = N_ELEMENTS(socket_args);
	rules[6] = rule_errno(twice, EACCES);
	rules[7] = rule_action(twice, "SCMP_ACT_LOG");
	spec = spec_with("SCMP_ACT_ERRNO", rules, N_ELEMENTS(rules));
	spec.architectures = archs;

	filter = prepare_ok(&spec);
	assert_int_equal(
		runtime_seccomp_programs(filter, &loaded, &n_loaded, &whole, &n_whole, &err), 0);
	assert_non_null(loaded);
	assert_true(n_loaded < n_whole);
	for (size_t t = 0; t < N_ELEMENTS(tokens); t++) {
		for (uint32_t base = 0; base <= 0x40000000u; base += 0x40000000u) {
			for (uint32_t nr = 0; nr < 600; nr++) {
				for (size_t i = 0; i < N_ELEMENTS(arg0s); i++) {
					struct seccomp_data d = { .nr = (int)(base + nr),
								  .arch = tokens[t],
								  .args = { arg0s[i] } };
					uint32_t want = run_program(whole, n_whole, &d);
					uint32_t got = run_program(loaded, n_loaded, &d);

					if (want != got)
						fail_msg("arch 0x%x nr 0x%x arg0 0x%llx: 0x%x, "
							 "libseccomp's 0x%x",
							 tokens[t], base + nr,
							 (unsigned long long)arg0s[i], got, want);
				}
			}
		}
	}
	free(whole);
	runtime_seccomp_filter_free(filter);
	for (size_t i = 0; i < n_allowed; i++)
		free(allowed[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_rule),
		cmocka_unit_test(test_default_errno_ret),
		cmocka_unit_test(test_arg_condition),
		cmocka_unit_test(test_masked_eq_and),
		cmocka_unit_test(test_repeated_index_is_or),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_kill_actions),
		cmocka_unit_test(test_trap),
		cmocka_unit_test(test_log_action),
		cmocka_unit_test(test_trace_without_tracer),
		cmocka_unit_test(test_tsync),
		cmocka_unit_test(test_other_flags),
		cmocka_unit_test(test_load_keeps_privileges),
		cmocka_unit_test(test_load_unprivileged),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_needs_resolved_rule),
		cmocka_unit_test(test_send_listener),
		cmocka_unit_test(test_unknown_syscall_skipped),
		cmocka_unit_test(test_default_action_rule_skipped),
		cmocka_unit_test(test_architectures),
		cmocka_unit_test(test_invalid_actions),
		cmocka_unit_test(test_invalid_notify),
		cmocka_unit_test(test_invalid_archs_and_flags),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_filter_too_large),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_program_cache),
		cmocka_unit_test(test_compact_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
