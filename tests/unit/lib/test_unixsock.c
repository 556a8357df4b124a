/* Unit tests for lib/unixsock: connecting, and fds with their messages
 * across a real listening socket. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/unixsock.h"

static int make_tmpdir(void **state)
{
	char *dir = strdup("/tmp/berth-test-unixsock-XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int remove_tmpdir(void **state)
{
	struct berr *err = NULL;
	int ret = fs_remove_tree(*state, &err);

	berr_free(err);
	free(*state);
	return ret;
}

static void test_connect_errors(void **state)
{
	char long_path[200];
	struct berr *err = NULL;

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(unixsock_connect(long_path, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "socket path"));
	berr_clear(&err);

	assert_int_equal(unixsock_connect("/nonexistent/berth.sock", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_int_equal(err->sys_errno, ENOENT);
	assert_non_null(strstr(err->msg, "/nonexistent/berth.sock"));
	berr_clear(&err);
}

static int listen_at(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

/* An fd round trip: the received fd is close-on-exec and reaches the same
 * pipe; the message travels whole even when it is large. */
static void test_pass_fd_with_message(void **state)
{
	_cleanup_free_ char *path = str_printf("%s/s.sock", (char *)*state);
	_cleanup_free_ char *big = malloc(300000);
	int listener, client, server, got, pipefd[2];
	struct berr *err = NULL;
	size_t total = 0;
	int status = -1;
	pid_t child;
	char c = 0;

	listener = listen_at(path);
	client = unixsock_connect(path, &err);
	assert_true(client >= 0);
	assert_true(fcntl(client, F_GETFD) & FD_CLOEXEC);
	server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	assert_true(server >= 0);

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	assert_int_equal(unixsock_send_fd(client, pipefd[1], "/dev/pts/9", 10, &err), 0);
	got = unixsock_recv_fd(server, &err);
	assert_true(got >= 0);
	assert_true(got != pipefd[1]);
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(got, "x", 1), 1);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(got);

	/* A message longer than a socket buffer: the sender finishes it. */
	memset(big, 'j', 300000);
	child = fork();
	if (child == 0)
		_exit(unixsock_send_fd(client, pipefd[1], big, 300000, NULL) == 0 ? 0 : 1);
	got = unixsock_recv_fd(server, &err);
	assert_true(got >= 0);
	close(got);
	while (total < 300000 - 4096) {
		char buf[65536];
		ssize_t n = read(server, buf, sizeof(buf));

		assert_true(n > 0);
		total += (size_t)n;
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(status, 0);

	/* A message without an fd, then a closed peer. */
	assert_int_equal(write(client, "plain", 5), 5);
	assert_int_equal(unixsock_recv_fd(server, &err), -1);
	berr_clear(&err);
	close(client);
	assert_int_equal(unixsock_recv_fd(server, &err), -1);
	berr_clear(&err);

	close(server);
	close(listener);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Several fds go with one seqpacket message, in order, and come out
 * close-on-exec; extra ones past the receiver's room are closed; a
 * message too big for the buffer is refused with nothing left open. */
static void test_pass_fds_over_seqpacket(void **state)
{
	int sv[2], pipes[3][2], got[3], few[2];
	char buf[64] = "", tiny[4];
	struct berr *err = NULL;
	size_t len = 0, n = 0;
	int sent[3];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pipe2(pipes[i], O_CLOEXEC), 0);
		sent[i] = pipes[i][1];
	}
	assert_int_equal(unixsock_send_fds(sv[0], sent, 3, "a\0bc\0", 5, &err), 0);
	assert_int_equal(unixsock_recv_fds(sv[1], buf, sizeof(buf), &len, got, 3, &n, &err), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "a\0bc\0", 5);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		char c = 0;

		assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		assert_int_equal(write(got[i], "x", 1), 1);
		assert_int_equal(read(pipes[i][0], &c, 1), 1);
		close(got[i]);
	}

	assert_int_equal(unixsock_send_fds(sv[0], sent, 3, "x", 1, &err), 0);
	assert_int_equal(unixsock_recv_fds(sv[1], buf, sizeof(buf), NULL, few, 2, &n, &err), 0);
	assert_int_equal(n, 2);
	close(few[0]);
	close(few[1]);

	assert_int_equal(unixsock_send_fds(sv[0], sent, 1, "too long", 8, &err), 0);
	assert_int_equal(unixsock_recv_fds(sv[1], tiny, sizeof(tiny), NULL, got, 3, &n, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);

	assert_int_equal(unixsock_send_fds(sv[0], sent, 0, "x", 1, &err), -1);
	berr_clear(&err);
	close(sv[0]);
	assert_int_equal(unixsock_recv_fds(sv[1], buf, sizeof(buf), NULL, got, 3, &n, &err), -1);
	assert_int_equal(err->kind, BERR_UNAVAILABLE);
	berr_clear(&err);
	close(sv[1]);
	for (int i = 0; i < 3; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test_setup_teardown(test_pass_fd_with_message, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test(test_pass_fds_over_seqpacket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
