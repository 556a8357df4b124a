/* File descriptors over unix stream sockets, with SCM_RIGHTS. */
#include "lib/unixsock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"

/* Room for the message that comes with an fd: a pty path or a state. */
#define UNIXSOCK_MESSAGE_MAX 4096

int unixsock_connect(const char *path, struct berr **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(addr.sun_path))
		return berr_set(err, BERR_INVALID, 0,
				"socket path \"%s\" must be 1 to %zu bytes long", path,
				sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return berr_set(err, BERR_INVALID, errno, "connect to %s", path);
	return steal_fd(&fd);
}

int unixsock_send_fds(int sock, const int *fds, size_t n_fds, const void *data, size_t len,
		      struct berr **err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * UNIXSOCK_FDS_MAX)];
		struct cmsghdr align;
	} control;
	/* A stream socket carries ancillary data only along with at least
	 * one byte: with no data, one NUL goes. */
	struct iovec iov = {
		.iov_base = (void *)(len > 0 ? data : ""),
		.iov_len = len > 0 ? len : 1,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds),
	};
	struct cmsghdr *cmsg;
	size_t sent;
	ssize_t n;

	if (n_fds == 0 || n_fds > UNIXSOCK_FDS_MAX)
		return berr_set(err, BERR_INVALID, 0, "send %zu fds over a socket: 1 to %d go",
				n_fds, UNIXSOCK_FDS_MAX);
	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_set(err, BERR_UNAVAILABLE, errno, "send fd over socket");
	/* The fds went with the first bytes; the rest may need more writes. */
	for (sent = (size_t)n; sent < iov.iov_len; sent += (size_t)n) {
		n = send(sock, (const char *)iov.iov_base + sent, iov.iov_len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			return berr_set(err, BERR_UNAVAILABLE, errno, "send over socket");
	}
	return 0;
}

int unixsock_send_fd(int sock, int fd, const void *data, size_t len, struct berr **err)
{
	return unixsock_send_fds(sock, &fd, 1, data, len, err);
}

int unixsock_recv_fds(int sock, void *buf, size_t size, size_t *len, int *fds, size_t max,
		      size_t *n_fds, struct berr **err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * UNIXSOCK_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	size_t got = 0;
	ssize_t n;

	*n_fds = 0;
	memset(&control, 0, sizeof(control));
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_set(err, BERR_UNAVAILABLE, errno, "receive fd from socket");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		size_t count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			/* Extra fds are closed. */
			if (got < max)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (got == 0) {
		if (n == 0)
			return berr_set(err, BERR_UNAVAILABLE, 0,
					"receive fd: the peer closed the socket");
		return berr_set(err, BERR_INVALID, 0, "receive fd: the message carries none");
	}
	if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		return berr_set(err, BERR_INVALID, 0, "receive fd: message truncated");
	}
	*n_fds = got;
	if (len)
		*len = (size_t)n;
	return 0;
}

int unixsock_recv_fd(int sock, struct berr **err)
{
	_cleanup_free_ char *message = malloc(UNIXSOCK_MESSAGE_MAX);
	size_t n_fds = 0;
	int fd = -1;

	if (message == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "receive fd");
	if (unixsock_recv_fds(sock, message, UNIXSOCK_MESSAGE_MAX, NULL, &fd, 1, &n_fds, err) < 0)
		return -1;
	return fd;
}
