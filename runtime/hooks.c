/* OCI lifecycle hooks: each hook is spawned with only stdin, stdout and
 * stderr open, is fed the container state JSON on stdin, and is watched
 * through a pidfd until it exits or its timeout kills it.  What it prints
 * is kept (the last few KiB) so a failure can say why it failed. */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

/* A hook that fails usually says why in its last lines; keep that much. */
#define HOOK_OUTPUT_MAX 4096
/* Reads after the hook exited, in case a process it left behind keeps the
 * output pipe open and keeps writing. */
#define HOOK_DRAIN_MAX_READS 64

/* One running hook.  It owns the child: until the child is reaped, pid is
 * positive and the cleanup kills and reaps it. */
struct hook_child {
	pid_t pid;
	int pidfd;
	int in_fd;  /* our end of the hook's stdin, non-blocking */
	int out_fd; /* our end of the hook's stdout and stderr, non-blocking */
	const char *input;
	size_t input_len, input_done;
	char output[HOOK_OUTPUT_MAX + 1]; /* + 1 for the NUL of the message */
	size_t output_len;
};

static void hook_child_release(struct hook_child *c)
{
	int saved = errno;

	if (c->pid > 0) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->pidfd = c->in_fd = c->out_fd = -1;
	errno = saved;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblock(int fd, struct berr **err)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "fcntl O_NONBLOCK");
	return 0;
}

/* write(2) that cannot raise SIGPIPE: the signal is blocked for the call
 * and, when the write produced it, taken off the pending set again.  A
 * SIGPIPE that was already pending is left for its owner. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/* Keeps the last HOOK_OUTPUT_MAX bytes of what the hook wrote. */
static void output_append(struct hook_child *c, const char *buf, size_t n)
{
	if (n >= HOOK_OUTPUT_MAX) {
		memcpy(c->output, buf + n - HOOK_OUTPUT_MAX, HOOK_OUTPUT_MAX);
		c->output_len = HOOK_OUTPUT_MAX;
		return;
	}
	if (c->output_len + n > HOOK_OUTPUT_MAX) {
		size_t drop = c->output_len + n - HOOK_OUTPUT_MAX;

		memmove(c->output, c->output + drop, c->output_len - drop);
		c->output_len -= drop;
	}
	memcpy(c->output + c->output_len, buf, n);
	c->output_len += n;
}

/* Reads what is available; closes out_fd at end of file.  A hook that
 * writes more than we keep only loses its older lines.  Returns false
 * when nothing more is to be had now. */
static bool output_read(struct hook_child *c)
{
	char buf[4096];
	ssize_t n;

	n = read(c->out_fd, buf, sizeof(buf));
	if (n > 0) {
		output_append(c, buf, (size_t)n);
		return true;
	}
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0 && errno == EAGAIN)
		return false;
	close(c->out_fd);
	c->out_fd = -1;
	return false;
}

/* Writes what the pipe takes; closes in_fd when all is written or the
 * hook closed its stdin (EPIPE: a hook need not read the state). */
static void input_write(struct hook_child *c)
{
	ssize_t n = 0;

	if (c->input_done < c->input_len)
		n = write_nosigpipe(c->in_fd, c->input + c->input_done,
				    c->input_len - c->input_done);
	if (n > 0)
		c->input_done += (size_t)n;
	if (c->input_done == c->input_len || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(c->in_fd);
		c->in_fd = -1;
	}
}

/* Starts HOOK in its own process group with a clean signal state, stdin
 * and output on pipes, and every other fd closed. */
static int hook_spawn(const struct runtime_hook *hook, struct hook_child *c, struct berr **err)
{
	static char *empty_env[] = { NULL };
	char *default_argv[] = { hook->path, NULL };
	char **argv = hook->args && hook->args[0] ? hook->args : default_argv;
	char **envp = hook->env ? hook->env : empty_env;
	_cleanup_close_ int in_r = -1;
	_cleanup_close_ int out_w = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int fds[2];
	int r;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "pipe");
	in_r = fds[0];
	c->in_fd = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "pipe");
	c->out_fd = fds[0];
	out_w = fds[1];
	if (set_nonblock(c->in_fd, err) < 0 || set_nonblock(c->out_fd, err) < 0)
		return -1;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_r, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_w, STDERR_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	/* posix_spawn (vfork-like) reports a failed execve as its result. */
	r = posix_spawn(&c->pid, hook->path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		c->pid = 0;
		return berr_set(err, BERR_INTERNAL, r, "exec");
	}
	c->pidfd = pidfd_open(c->pid, 0);
	if (c->pidfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "pidfd_open");
	return 0;
}

/* Feeds stdin and collects output until the hook exits or DEADLINE (ms on
 * the monotonic clock, -1 for none) passes.  Returns 1 when it exited, 0
 * on timeout. */
static int hook_watch(struct hook_child *c, int64_t deadline, struct berr **err)
{
	for (;;) {
		struct pollfd p[3];
		nfds_t n = 0;
		int out_i = -1, in_i = -1;
		int timeout = -1;
		int r;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return 0;
			timeout = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		p[n++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
		if (c->out_fd >= 0) {
			out_i = (int)n;
			p[n++] = (struct pollfd){ .fd = c->out_fd, .events = POLLIN };
		}
		if (c->in_fd >= 0) {
			in_i = (int)n;
			p[n++] = (struct pollfd){ .fd = c->in_fd, .events = POLLOUT };
		}
		r = poll(p, n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return berr_set(err, BERR_INTERNAL, errno, "poll");
		}
		if (out_i >= 0 && p[out_i].revents != 0)
			output_read(c);
		if (in_i >= 0 && p[in_i].revents != 0)
			input_write(c);
		if (p[0].revents != 0)
			return 1;
	}
}

/* Reaps the exited hook and collects what output is still buffered; a
 * process it left running may hold the pipe, so this does not wait for
 * end of file. */
static int hook_reap(struct hook_child *c, int *status, struct berr **err)
{
	pid_t r;

	do
		r = waitpid(c->pid, status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return berr_set(err, BERR_INTERNAL, errno, "waitpid");
	c->pid = 0;
	for (int i = 0; i < HOOK_DRAIN_MAX_READS && c->out_fd >= 0; i++)
		if (!output_read(c))
			break;
	return 0;
}

/* The kept output without trailing blank space, for an error message. */
static const char *hook_output_text(struct hook_child *c)
{
	size_t len = c->output_len;

	while (len > 0 && (c->output[len - 1] == '\n' || c->output[len - 1] == ' ' ||
			   c->output[len - 1] == '\r' || c->output[len - 1] == '\t'))
		len--;
	c->output[len] = '\0';
	return c->output;
}

static int hook_run_one(const struct runtime_hook *hook, size_t index, const char *state_json,
			struct berr **err)
{
	_cleanup_(hook_child_release) struct hook_child c = {
		.pid = 0, .pidfd = -1, .in_fd = -1, .out_fd = -1
	};
	int64_t deadline = -1;
	const char *output;
	int status = 0;
	int r;

	c.input = state_json ? state_json : "";
	c.input_len = strlen(c.input);
	if (hook->path == NULL || hook->path[0] == '\0')
		return berr_set(err, BERR_INTERNAL, 0, "hook #%zu has no path", index);
	if (hook->timeout > 0)
		deadline = now_ms() + (int64_t)hook->timeout * 1000;
	if (hook_spawn(hook, &c, err) < 0)
		return berr_prefix(err, "hook #%zu (%s)", index, hook->path);
	r = hook_watch(&c, deadline, err);
	if (r < 0)
		return berr_prefix(err, "hook #%zu (%s)", index, hook->path);
	if (r == 0) {
		/* The whole group: a shell script's own children die with it. */
		hook_child_release(&c);
		output = hook_output_text(&c);
		return berr_set(err, BERR_INTERNAL, 0, "hook #%zu (%s) timed out after %d s%s%s",
				index, hook->path, hook->timeout, output[0] ? ": " : "", output);
	}
	if (hook_reap(&c, &status, err) < 0)
		return berr_prefix(err, "hook #%zu (%s)", index, hook->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	output = hook_output_text(&c);
	if (WIFSIGNALED(status))
		return berr_set(err, BERR_INTERNAL, 0, "hook #%zu (%s) killed by signal %d%s%s",
				index, hook->path, WTERMSIG(status), output[0] ? ": " : "", output);
	return berr_set(err, BERR_INTERNAL, 0, "hook #%zu (%s) exited with status %d%s%s", index,
			hook->path, WEXITSTATUS(status), output[0] ? ": " : "", output);
}

int runtime_hooks_run(const struct runtime_hook_list *list, const char *state_json,
		      struct berr **err)
{
	for (size_t i = 0; list && i < list->n; i++)
		if (hook_run_one(&list->hooks[i], i, state_json, err) < 0)
			return -1;
	return 0;
}

void runtime_hooks_run_all(const struct runtime_hook_list *list, const char *state_json)
{
	for (size_t i = 0; list && i < list->n; i++) {
		_cleanup_berr_ struct berr *err = NULL;

		if (hook_run_one(&list->hooks[i], i, state_json, &err) < 0)
			blog_warn("%s", err->msg);
	}
}

bool runtime_hooks_runtime_side(const struct runtime_spec *spec)
{
	return spec->hooks[RUNTIME_HOOK_PRESTART].n > 0 ||
	       spec->hooks[RUNTIME_HOOK_CREATE_RUNTIME].n > 0;
}
