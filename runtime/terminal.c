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
#include "lib/unixsock.h"

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
	if (unixsock_send_fd(sock, master, pts, strlen(pts), err) < 0)
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
