/* The container's terminal, as runc does it: the pty is opened inside the
 * container (its own devpts), the master travels to the caller's console
 * socket with SCM_RIGHTS, and the slave becomes the controlling terminal
 * and the stdio of the process (and /dev/console, when the rootfs has one). */
#include "runtime/terminal.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"

/* The longest name a message may carry: a /dev/pts path is far shorter. */
#define TERMINAL_NAME_MAX 4096

/* PATH is borrowed; the caller owns the returned fd. */
int runtime_terminal_connect(const char *path, struct berr **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(addr.sun_path))
		return berr_set(err, BERR_INVALID, 0,
				"console socket path \"%s\" must be 1 to %zu bytes long", path,
				sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return berr_set(err, BERR_INVALID, errno, "connect to console socket %s", path);
	return steal_fd(&fd);
}

/* FD stays owned by the caller.  Sets BERR_UNAVAILABLE when the peer is
 * gone. */
int runtime_terminal_send_fd(int sock, int fd, const char *name, struct berr **err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	/* The name goes without its NUL, as runc sends it; with no name, one
	 * NUL byte, as a stream socket carries ancillary data only along with
	 * at least one byte. */
	bool has_name = name != NULL && name[0] != '\0';
	struct iovec iov = {
		.iov_base = (void *)(has_name ? name : ""),
		.iov_len = has_name ? strlen(name) : 1,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_set(err, BERR_UNAVAILABLE, errno, "send fd over socket");
	if ((size_t)n != iov.iov_len)
		return berr_set(err, BERR_UNAVAILABLE, 0, "send fd over socket: short write");
	return 0;
}

/* The caller owns the returned fd (O_CLOEXEC).  Sets BERR_UNAVAILABLE when
 * the peer closed or failed, BERR_INVALID when the message carried no fd. */
int runtime_terminal_recv_fd(int sock, struct berr **err)
{
	union {
		/* Room for a few fds: extra ones a peer sends are closed. */
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} control;
	_cleanup_free_ char *name = malloc(TERMINAL_NAME_MAX);
	struct iovec iov = { .iov_base = name, .iov_len = TERMINAL_NAME_MAX };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	int received = -1;
	ssize_t n;

	if (name == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "receive fd");
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
			if (received < 0)
				received = fd;
			else
				close(fd);
		}
	}
	if (received < 0) {
		if (n == 0)
			return berr_set(err, BERR_UNAVAILABLE, 0,
					"receive fd: the peer closed the socket");
		return berr_set(err, BERR_INVALID, 0, "receive fd: the message carries none");
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		close(received);
		return berr_set(err, BERR_INVALID, 0, "receive fd: control data truncated");
	}
	return received;
}

/* runc and crun also put the pty behind /dev/console, which some inits
 * (systemd, getty) write to.  The rootfs must provide the mount point;
 * a refused mount only costs that convenience, so it is a warning. */
static void bind_console(const char *pts)
{
	struct stat st;

	if (lstat("/dev/console", &st) < 0)
		return;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		blog_warn("/dev/console is neither a file nor a device: not binding %s", pts);
		return;
	}
	if (mount(pts, "/dev/console", NULL, MS_BIND, NULL) < 0)
		blog_warn("bind %s on /dev/console: %s", pts, strerror(errno));
}

/* SOCK stays owned by the caller; the master is closed here once sent.
 * Sets BERR_UNAVAILABLE when the console socket fails, BERR_INTERNAL for the
 * pty itself. */
int runtime_terminal_setup(int sock, unsigned short width, unsigned short height, struct berr **err)
{
	_cleanup_close_ int master = -1;
	_cleanup_close_ int slave = -1;
	char pts[256];
	int e;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open /dev/ptmx");
	if (grantpt(master) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "grantpt");
	if (unlockpt(master) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "unlockpt");
	e = ptsname_r(master, pts, sizeof(pts));
	if (e != 0)
		return berr_set(err, BERR_INTERNAL, e, "ptsname");
	if (width != 0 && height != 0) {
		struct winsize ws = { .ws_row = height, .ws_col = width };

		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "set terminal size %ux%u",
					(unsigned)width, (unsigned)height);
	}
	if (runtime_terminal_send_fd(sock, master, pts, err) < 0)
		return berr_prefix(err, "console socket");
	close(steal_fd(&master));

	if (setsid() < 0)
		return berr_set(err, BERR_INTERNAL, errno, "setsid");
	slave = open(pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", pts);
	/* With stdio closed the slave may land on 0..2, where dup2 over itself
	 * would keep O_CLOEXEC and the cleanup would close it again. */
	if (slave <= 2) {
		int high = fcntl(slave, F_DUPFD_CLOEXEC, 3);

		if (high < 0)
			return berr_set(err, BERR_INTERNAL, errno, "dup %s", pts);
		close(slave);
		slave = high;
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "make %s the controlling terminal", pts);
	bind_console(pts);
	for (int fd = 0; fd <= 2; fd++) {
		if (dup2(slave, fd) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "dup2 %s to fd %d", pts, fd);
	}
	return 0;
}
