/* Tests for the OCI hook runner: each hook is a small shell script written
 * into a temporary directory, and what it saw (argv, env, stdin, open fds)
 * is written to files the test reads back. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "runtime/hooks.h"

static const char state_json[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\","
				 "\"pid\":42,\"bundle\":\"/tmp/bundle\"}";

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-hooks-XXXXXX");
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

/* DIR/NAME, which the caller frees. */
static char *path_in(const struct fixture *f, const char *name)
{
	char *p = str_printf("%s/%s", f->dir, name);

	assert_non_null(p);
	return p;
}

/* Writes an executable /bin/sh script DIR/NAME with BODY (printf format). */
__attribute__((format(printf, 3, 4))) static char *
write_script(const struct fixture *f, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *body = NULL;
	_cleanup_free_ char *text = NULL;
	char *path = path_in(f, name);
	_cleanup_close_ int fd = -1;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&body, fmt, ap) >= 0);
	va_end(ap);
	text = str_printf("#!/bin/sh\n%s\n", body);
	assert_non_null(text);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, text, strlen(text)), 0);
	return path;
}

static char *read_text(const char *path)
{
	_cleanup_berr_ struct berr *err = NULL;
	char *data = NULL;

	assert_int_equal(fs_read_file(path, 16 * 1024 * 1024, &data, NULL, &err), 0);
	return data;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when PID is gone or a zombie within about two seconds. */
static bool process_ends(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		char path[64];
		char *stat = NULL;
		const char *rp;
		bool dead;
		_cleanup_berr_ struct berr *err = NULL;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (fs_read_file(path, 4096, &stat, NULL, &err) < 0)
			return true;
		rp = strrchr(stat, ')');
		dead = rp != NULL && (rp[2] == 'Z' || rp[2] == 'X');
		free(stat);
		if (dead)
			return true;
		usleep(10000);
	}
	return false;
}

static pid_t read_pid(const char *path)
{
	_cleanup_free_ char *text = NULL;

	for (int i = 0; i < 200 && !fs_exists(path); i++)
		usleep(10000);
	text = read_text(path);
	return (pid_t)atoi(text);
}

static void test_empty_list(void **state)
{
	struct runtime_hook_list empty = { NULL, 0 };
	_cleanup_berr_ struct berr *err = NULL;

	assert_int_equal(runtime_hooks_run(&empty, state_json, &err), 0);
	assert_int_equal(runtime_hooks_run(NULL, state_json, &err), 0);
	assert_null(err);
	runtime_hooks_run_all(&empty, state_json);
}

static void test_hooks_run_in_order(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *out = path_in(f, "order");
	_cleanup_free_ char *script = write_script(f, "append.sh", "echo \"$1\" >> \"$2\"");
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	char *args[3][4] = {
		{ script, "first", out, NULL },
		{ script, "second", out, NULL },
		{ script, "third", out, NULL },
	};
	struct runtime_hook hooks[3];
	struct runtime_hook_list list = { hooks, 3 };

	for (int i = 0; i < 3; i++)
		hooks[i] = (struct runtime_hook){ .path = script, .args = args[i] };
	assert_int_equal(runtime_hooks_run(&list, state_json, &err), 0);
	text = read_text(out);
	assert_string_equal(text, "first\nsecond\nthird\n");
}

static void test_state_arrives_on_stdin(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *out = path_in(f, "stdin");
	_cleanup_free_ char *script = write_script(f, "cat.sh", "cat > '%s'", out);
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script };
	struct runtime_hook_list list = { &hook, 1 };

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), 0);
	text = read_text(out);
	assert_string_equal(text, state_json);
}

/* More than a pipe holds: the runner must keep feeding while it waits. */
static void test_large_state_arrives_intact(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *out = path_in(f, "stdin");
	_cleanup_free_ char *script = write_script(f, "cat.sh", "cat > '%s'", out);
	_cleanup_free_ char *big = malloc(300 * 1024 + 1);
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script, .timeout = 10 };
	struct runtime_hook_list list = { &hook, 1 };

	assert_non_null(big);
	for (size_t i = 0; i < 300 * 1024; i++)
		big[i] = (char)('a' + i % 26);
	big[300 * 1024] = '\0';
	assert_int_equal(runtime_hooks_run(&list, big, &err), 0);
	text = read_text(out);
	assert_string_equal(text, big);
}

/* A hook that never reads its stdin is fine, and its closed pipe must not
 * kill the runtime with SIGPIPE. */
static void test_hook_ignoring_stdin_succeeds(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *script = write_script(f, "noread.sh", "exec 0<&-; exit 0");
	_cleanup_free_ char *big = malloc(1024 * 1024 + 1);
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script, .timeout = 10 };
	struct runtime_hook_list list = { &hook, 1 };

	assert_non_null(big);
	memset(big, 'x', 1024 * 1024);
	big[1024 * 1024] = '\0';
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(runtime_hooks_run(&list, big, &err), 0);
	assert_null(err);
}

static void test_args_and_env_are_passed(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *out = path_in(f, "seen");
	_cleanup_free_ char *cmd = str_printf("tr '\\000' '\\n' < /proc/$$/cmdline > '%s'; "
					      "tr '\\000' '\\n' < /proc/$$/environ >> '%s'",
					      out, out);
	_cleanup_free_ char *expect = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	char *args[] = { "custom-argv0", "-c", cmd, NULL };
	char *env[] = { "FOO=bar baz", "HOOK_STAGE=prestart", NULL };
	struct runtime_hook hook = { .path = "/bin/sh", .args = args, .env = env };
	struct runtime_hook_list list = { &hook, 1 };

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), 0);
	text = read_text(out);
	expect = str_printf("custom-argv0\n-c\n%s\nFOO=bar baz\nHOOK_STAGE=prestart\n", cmd);
	assert_string_equal(text, expect);
}

/* No args: argv is just the path; no env: the environment is empty. */
static void test_null_args_and_env(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *out = path_in(f, "seen");
	_cleanup_free_ char *script = write_script(
		f, "noargs.sh",
		"printf '%%s|%%s|' \"$0\" \"$#\" > '%s'; cat /proc/$$/environ >> '%s'", out, out);
	_cleanup_free_ char *expect = str_printf("%s|0|", script);
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script };
	struct runtime_hook_list list = { &hook, 1 };

	setenv("BERTH_TEST_LEAK", "1", 1);
	assert_int_equal(runtime_hooks_run(&list, state_json, &err), 0);
	unsetenv("BERTH_TEST_LEAK");
	text = read_text(out);
	assert_string_equal(text, expect);
}

/* Only 0, 1 and 2 reach the hook, even from an fd without O_CLOEXEC. */
static void test_hook_sees_only_stdio_fds(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *out = path_in(f, "fds");
	/* `exec >` rather than `ls >`: for a one-command redirection the shell
	 * keeps a copy of its stdout on fd 10. */
	_cleanup_free_ char *cmd = str_printf("exec > '%s'; ls /proc/$$/fd; true", out);
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	char *args[] = { "sh", "-c", cmd, NULL };
	struct runtime_hook hook = { .path = "/bin/sh", .args = args };
	struct runtime_hook_list list = { &hook, 1 };
	int leaked = open("/dev/null", O_RDONLY);
	int r;

	assert_true(leaked >= 0);
	assert_int_equal(dup2(leaked, 77), 77);
	r = runtime_hooks_run(&list, state_json, &err);
	close(77);
	close(leaked);
	assert_int_equal(r, 0);
	text = read_text(out);
	assert_string_equal(text, "0\n1\n2\n");
}

static void test_failure_stops_and_names_hook(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *marker = path_in(f, "marker");
	_cleanup_free_ char *bad = write_script(f, "bad.sh", "echo 'disk on fire' >&2; exit 3");
	_cleanup_free_ char *good = write_script(f, "good.sh", "touch '%s'", marker);
	_cleanup_free_ char *ok = write_script(f, "ok.sh", "exit 0");
	_cleanup_free_ char *expect = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hooks[] = { { .path = ok }, { .path = bad }, { .path = good } };
	struct runtime_hook_list list = { hooks, 3 };

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INTERNAL);
	expect = str_printf("hook #1 (%s) exited with status 3: disk on fire", bad);
	assert_string_equal(err->msg, expect);
	assert_false(fs_exists(marker));
}

static void test_killed_hook_fails(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *script = write_script(f, "die.sh", "kill -KILL $$");
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script };
	struct runtime_hook_list list = { &hook, 1 };

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), -1);
	assert_non_null(strstr(err->msg, "killed by signal 9"));
	assert_non_null(strstr(err->msg, script));
}

/* The hook and what it started are killed once the timeout passes. */
static void test_timeout_kills_hook(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *pidfile = path_in(f, "sleep.pid");
	_cleanup_free_ char *script =
		write_script(f, "slow.sh", "sleep 100 & echo $! > '%s'; wait", pidfile);
	_cleanup_free_ char *expect = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script, .timeout = 1 };
	struct runtime_hook_list list = { &hook, 1 };
	int64_t start = now_ms(), elapsed;

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), -1);
	elapsed = now_ms() - start;
	assert_true(elapsed >= 900);
	assert_true(elapsed < 3000);
	expect = str_printf("hook #0 (%s) timed out after 1 s", script);
	assert_string_equal(err->msg, expect);
	assert_true(process_ends(read_pid(pidfile)));
}

/* A background process that keeps the hook's stderr open must not keep
 * the runner waiting once the hook itself has exited. */
static void test_lingering_child_does_not_block(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *pidfile = path_in(f, "bg.pid");
	_cleanup_free_ char *script =
		write_script(f, "bg.sh", "sleep 100 >&2 & echo $! > '%s'; exit 0", pidfile);
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script, .timeout = 20 };
	struct runtime_hook_list list = { &hook, 1 };
	int64_t start = now_ms();
	pid_t bg;

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), 0);
	assert_true(now_ms() - start < 3000);
	bg = read_pid(pidfile);
	assert_true(bg > 0);
	kill(bg, SIGKILL);
	assert_true(process_ends(bg));
}

/* Only the tail of a long output reaches the message. */
static void test_output_is_bounded(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *script =
		write_script(f, "loud.sh",
			     "i=0; while [ $i -lt 3000 ]; do echo \"noise line $i\" >&2; "
			     "i=$((i+1)); done; echo 'the real reason' >&2; exit 1");
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script, .timeout = 20 };
	struct runtime_hook_list list = { &hook, 1 };

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), -1);
	assert_true(str_has_suffix(err->msg, "noise line 2999\nthe real reason"));
	assert_null(strstr(err->msg, "noise line 0\n"));
	assert_true(strlen(err->msg) < 4096 + strlen(script) + 64);
}

static void test_missing_hook_fails(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = "/nonexistent/berth-hook" };
	struct runtime_hook_list list = { &hook, 1 };

	assert_int_equal(runtime_hooks_run(&list, state_json, &err), -1);
	assert_int_equal(err->kind, BERR_INTERNAL);
	assert_int_equal(err->sys_errno, ENOENT);
	assert_non_null(strstr(err->msg, "hook #0 (/nonexistent/berth-hook)"));
	assert_non_null(strstr(err->msg, "No such file or directory"));
}

static void test_not_executable_hook_fails(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *script = write_script(f, "plain.sh", "exit 0");
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hook = { .path = script };
	struct runtime_hook_list list = { &hook, 1 };

	assert_int_equal(chmod(script, 0644), 0);
	assert_int_equal(runtime_hooks_run(&list, state_json, &err), -1);
	assert_int_equal(err->sys_errno, EACCES);
	assert_non_null(strstr(err->msg, script));
}

static void test_run_all_continues_past_failure(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *log_path = path_in(f, "log");
	_cleanup_free_ char *marker = path_in(f, "marker");
	_cleanup_free_ char *bad = write_script(f, "bad.sh", "echo nope >&2; exit 1");
	_cleanup_free_ char *good = write_script(f, "good.sh", "touch '%s'", marker);
	_cleanup_free_ char *log_text = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_hook hooks[] = { { .path = bad },
					{ .path = "/nonexistent/hook" },
					{ .path = good } };
	struct runtime_hook_list list = { hooks, 3 };

	assert_int_equal(blog_open(log_path, BLOG_FORMAT_TEXT, BLOG_WARN, &err), 0);
	runtime_hooks_run_all(&list, state_json);
	blog_close();
	assert_true(fs_exists(marker));
	log_text = read_text(log_path);
	assert_non_null(strstr(log_text, bad));
	assert_non_null(strstr(log_text, "/nonexistent/hook"));
	assert_null(strstr(log_text, good));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test_setup_teardown(test_hooks_run_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_arrives_on_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_state_arrives_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_ignoring_stdin_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_and_env_are_passed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_args_and_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_sees_only_stdio_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_stops_and_names_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_hook_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lingering_child_does_not_block, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_output_is_bounded, setup, teardown),
		cmocka_unit_test(test_missing_hook_fails),
		cmocka_unit_test_setup_teardown(test_not_executable_hook_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_all_continues_past_failure, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
