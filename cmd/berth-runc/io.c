/* The foreground side of run and exec: signals a user sends are passed to
 * the container's process, and a terminal is relayed between the local tty
 * and the container's pty until the process exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/berth-runc/cli.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/unixsock.h"

static const int forwarded[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGPIPE,
};

int cli_parse_signal(const char *name)
{
	char *end;
	long n;

	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	n = strtol(name, &end, 10);
	if (end != name && *end == '\0')
		return n > 0 && n < NSIG ? (int)n : -1;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);

		if (abbrev && strcasecmp(abbrev, name) == 0)
			return sig;
	}
	if (strncasecmp(name, "RTMIN", 5) == 0) {
		n = name[5] == '+' ? strtol(name + 6, &end, 10) : 0;
		if (name[5] == '\0' || (name[5] == '+' && *end == '\0'))
			return SIGRTMIN + (int)n <= SIGRTMAX ? SIGRTMIN + (int)n : -1;
	}
	if (strncasecmp(name, "RTMAX", 5) == 0) {
		n = name[5] == '-' ? strtol(name + 6, &end, 10) : 0;
		if (name[5] == '\0' || (name[5] == '-' && *end == '\0'))
			return SIGRTMAX - (int)n >= SIGRTMIN ? SIGRTMAX - (int)n : -1;
	}
	return -1;
}

static void waited_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGWINCH);
}

void cli_block_signals(void)
{
	sigset_t set;

	waited_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Moves what is readable on FROM to TO; returns false at end of input. */
static bool relay(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	return fs_write_all(to, buf, (size_t)n) == 0;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int cli_wait_forwarding(pid_t pid, int master)
{
	struct termios saved, raw;
	bool restore = false, in_open = master >= 0, out_open = master >= 0;
	bool exited = false;
	int status = 0, result = 1;
	sigset_t set;
	_cleanup_close_ int sfd = -1;

	waited_set(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return 1;
	if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		copy_winsize(STDIN_FILENO, master);
	}
	while (!exited || out_open) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = out_open ? master : -1, .events = POLLIN },
		};

		/* Once the process is gone, only drain what its pty holds. */
		if (poll(p, 3, exited ? 100 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (exited && !(p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					pid_t w;
					int st;

					while ((w = waitpid(-1, &st, WNOHANG)) > 0)
						if (w == pid) {
							exited = true;
							status = st;
						}
				} else if (si.ssi_signo == SIGWINCH) {
					if (master >= 0)
						copy_winsize(STDIN_FILENO, master);
				} else {
					kill(pid, (int)si.ssi_signo);
				}
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			if (!relay(STDIN_FILENO, master))
				in_open = false;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (!relay(master, STDOUT_FILENO))
				out_open = false;
		}
	}
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (exited)
		result = exit_status(status);
	return result;
}

int cli_console_listen(const char *state_root, char **path, struct berr **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;

	if (fs_mkdir_p(state_root, 0700, err) < 0)
		return -1;
	p = str_printf("%s/.console-%d.sock", state_root, (int)getpid());
	if (p == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "console socket");
	if (strlen(p) >= sizeof(addr.sun_path))
		return berr_set(err, BERR_INVALID, 0, "console socket path %s is too long", p);
	memcpy(addr.sun_path, p, strlen(p) + 1);
	unlink(p);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "console socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "console socket %s", p);
	*path = steal_ptr(&p);
	return steal_fd(&fd);
}

int cli_console_receive(int listen_fd, struct berr **err)
{
	_cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	int flags;

	/* No connection: the process has no terminal. */
	if (conn < 0)
		return -1;
	flags = fcntl(conn, F_GETFL);
	if (flags >= 0)
		fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
	return unixsock_recv_fd(conn, err);
}
