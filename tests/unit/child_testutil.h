/* Helpers for unit tests that run code in a forked child, where cmocka's
 * asserts would jump into the child's copy of the runner: the child reports
 * through its exit status and a pipe, the parent asserts. */
#ifndef BERTH_TESTS_UNIT_CHILD_TESTUTIL_H
#define BERTH_TESTS_UNIT_CHILD_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/berr.h"

/* In a child: a failed check prints where and ends the child with 1. */
#define CHILD_CHECK(cond)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n", __FILE__, \
				__LINE__, #cond, strerror(errno));                         \
			_exit(1);                                                          \
		}                                                                          \
	} while (0)

/* CALL returns -1 and sets ERR (a struct berr *) on failure. */
#define CHILD_OK(call, err)                                                                  \
	do {                                                                                 \
		if ((call) < 0) {                                                            \
			fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
				(err) != NULL ? (err)->msg : "(no error)");                  \
			_exit(1);                                                            \
		}                                                                            \
	} while (0)

struct child_result {
	int status; /* exit code, or 128 + signal */
	char text[16384];
};

/* Runs FN(OUT, ARG) in a forked child; what it writes to OUT (O_CLOEXEC)
 * lands in RES->text.  The child leaves with _exit or execve. */
static inline void run_child(int (*fn)(int out, void *arg), void *arg, struct child_result *res)
{
	int pipefd[2];
	size_t used = 0;
	pid_t pid;
	int st;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		_exit(fn(pipefd[1], arg));
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], res->text + used, sizeof(res->text) - 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	res->text[used] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In a child: writes ERR as "ERR <kind> <message>" to OUT, frees it,
 * returns 1 for the child's exit status. */
static inline int report_error(int out, struct berr *err)
{
	dprintf(out, "ERR %d %s\n", (int)err->kind, err->msg);
	berr_free(err);
	return 1;
}

/* The kind of the error a child reported with report_error. */
static inline int error_kind(const struct child_result *res)
{
	int kind = -1;

	assert_true(sscanf(res->text, "ERR %d", &kind) == 1);
	return kind;
}

#endif
