/* The copy of a hijacked attach or exec stream, as the docker CLI does
 * it: stdin to the daemon, the (demultiplexed) output to stdout and
 * stderr; for a terminal's stream the local terminal in raw mode (given
 * back on every way out), its size sent at once and at each SIGWINCH, and
 * the detach keys read from the input; without a terminal the signals
 * berth receives sent on to the container (--sig-proxy). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/berth/remote.h"
#include "lib/fsutil.h"

/*
 * The local terminal.
 */

static struct termios saved_termios;
static bool term_is_raw;

static void term_restore(void)
{
	if (term_is_raw) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
		term_is_raw = false;
	}
}

/* Raw mode on stdin, as Go's term.MakeRaw sets it; restored by
 * term_restore(), which exit() also runs. */
static int term_make_raw(void)
{
	static bool registered;
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return -1;
	if (!registered && atexit(term_restore) == 0)
		registered = true;
	t = saved_termios;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
		return -1;
	term_is_raw = true;
	return 0;
}

/*
 * Signals, through a pipe to the copy's poll.
 */

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* full: the signal is dropped, as a coalesced one is */
	}
	errno = saved;
}

/* The signals the docker CLI sends on with --sig-proxy (all it can catch
 * but SIGCHLD, SIGPIPE, SIGURG and the window's). */
static const int proxied[] = { SIGHUP,	SIGINT,	 SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM,
			       SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGXCPU, SIGXFSZ, SIGVTALRM };

static int catch_signal(int sig, struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, old);
}

/*
 * Detach keys, read from the input as the docker CLI's escape proxy reads
 * them.
 */

/* Docker's detach keys ("ctrl-p,ctrl-q", "ctrl-x,y", "ctrl-@"); 0 for a
 * spec it does not take. */
static size_t parse_detach_keys(const char *spec, unsigned char *out, size_t max)
{
	size_t n = 0;
	const char *p = spec;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (n == max)
			return 0;
		if (len == 6 && strncmp(p, "ctrl-", 5) == 0) {
			char c = p[5];

			if (c >= 'a' && c <= 'z')
				out[n++] = (unsigned char)(c - 'a' + 1);
			else if (c == '@')
				out[n++] = 0;
			else if (c >= '[' && c <= '_')
				out[n++] = (unsigned char)(c - '[' + 27);
			else
				return 0;
		} else if (len == 1) {
			out[n++] = (unsigned char)p[0];
		} else {
			return 0;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

int api_detach_keys_check(const char *spec)
{
	unsigned char keys[16];

	return spec && parse_detach_keys(spec, keys, sizeof(keys)) == 0 ? -1 : 0;
}

struct escape {
	unsigned char keys[16];
	size_t n, matched;
};

/* Copies BUF to FD but for the detach keys (a prefix of them held until
 * the next byte tells); true when they all came. */
static bool escape_feed(struct escape *e, int fd, const unsigned char *buf, size_t len)
{
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == e->keys[e->matched]) {
			if (e->matched == 0 && i > from)
				fs_write_all(fd, buf + from, i - from);
			if (++e->matched == e->n)
				return true;
			from = i + 1;
			continue;
		}
		if (e->matched) {
			/* Not the sequence: what was held goes on. */
			fs_write_all(fd, e->keys, e->matched);
			e->matched = 0;
			from = i;
			if (buf[i] == e->keys[0]) {
				e->matched = 1;
				from = i + 1;
			}
		}
	}
	if (e->matched == 0 && len > from)
		fs_write_all(fd, buf + from, len - from);
	return false;
}

/*
 * The copy.
 */

/* Sends the window's size; the first time (RETRY) tried again for a
 * while as docker does, since the process may not run yet. */
static void send_size(const struct api_stream *s, bool retry)
{
	struct winsize ws;
	_cleanup_free_ char *path = NULL;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	if (ws.ws_row == 0 && ws.ws_col == 0)
		return;
	path = api_path("%s?h=%u&w=%u", s->resize, ws.ws_row, ws.ws_col);
	for (int i = 0; path && i < (retry ? 10 : 1); i++) {
		struct berr *err = NULL;

		if (client_json(s->cli->api, "POST", path, NULL, NULL, &err) == 0)
			return;
		if (!retry || i == 9)
			fprintf(stderr, "failed to resize tty, using default size\n");
		berr_free(err);
		if (retry)
			usleep((useconds_t)(i + 1) * 10000);
	}
}

static void send_signal(const struct api_stream *s, int sig)
{
	_cleanup_free_ char *path = api_path("%s?signal=%d", s->kill, sig);
	struct berr *err = NULL;

	if (path && client_json(s->cli->api, "POST", path, NULL, NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		berr_free(err);
	}
}

/* What a signal does when the copy has it: the window's size sent, a
 * signal proxied, or berth ended as the signal ends it (the terminal given
 * back first).  True when the copy goes on. */
static bool handle_signal(const struct api_stream *s, int sig)
{
	if (sig == SIGWINCH) {
		if (s->resize)
			send_size(s, false);
		return true;
	}
	if (s->kill) {
		send_signal(s, sig);
		return true;
	}
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
	return true;
}

static int pump(const struct api_stream *s, struct escape *esc)
{
	struct api_demux_sink out = { .raw = s->tty };
	struct pollfd p[3] = {
		{ .fd = s->fd, .events = POLLIN },
		{ .fd = s->in ? STDIN_FILENO : -1, .events = POLLIN },
		{ .fd = sig_pipe[0], .events = POLLIN },
	};
	char buf[65536];

	if (!s->in)
		shutdown(s->fd, SHUT_WR);
	if (s->early_len && api_sink_demux(&out, s->early, s->early_len) < 0)
		return -1;
	for (;;) {
		ssize_t n;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[2].revents) {
			unsigned char sigs[16];

			n = read(sig_pipe[0], sigs, sizeof(sigs));
			for (ssize_t i = 0; i < n; i++)
				handle_signal(s, sigs[i]);
		}
		if (p[1].fd >= 0 && p[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				shutdown(s->fd, SHUT_WR);
				p[1].fd = -1;
			} else if (esc) {
				if (escape_feed(esc, s->fd, (unsigned char *)buf, (size_t)n))
					return 1;
			} else if (fs_write_all(s->fd, buf, (size_t)n) < 0) {
				p[1].fd = -1;
			}
		}
		if (p[0].revents) {
			n = read(s->fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 0;
			if (api_sink_demux(&out, buf, (size_t)n) < 0)
				return -1;
		}
	}
}

int api_pump(const struct api_stream *s)
{
	struct sigaction old[sizeof(proxied) / sizeof(proxied[0])], old_winch;
	struct escape esc = { .n = 0 };
	bool term = s->tty && s->in && isatty(STDIN_FILENO);
	bool caught = false;
	int rc;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (s->tty && s->resize && catch_signal(SIGWINCH, &old_winch) == 0)
		caught = true;
	/* A terminal's client ends on a signal, but gives the terminal back
	 * first; a proxy sends them on. */
	if (s->kill || term)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			catch_signal(proxied[i], &old[i]);
	if (term) {
		esc.n = parse_detach_keys(s->detach_keys ? s->detach_keys : "ctrl-p,ctrl-q",
					  esc.keys, sizeof(esc.keys));
		if (esc.n == 0)
			esc.n = parse_detach_keys("ctrl-p,ctrl-q", esc.keys, sizeof(esc.keys));
		if (term_make_raw() < 0) {
			fprintf(stderr, "unable to set IO streams as raw terminal: %s\n",
				strerror(errno));
			term = false;
		}
	}
	if (s->tty && s->resize)
		send_size(s, true);
	rc = pump(s, term ? &esc : NULL);
	term_restore();
	if (s->kill || term)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaction(proxied[i], &old[i], NULL);
	if (caught)
		sigaction(SIGWINCH, &old_winch, NULL);
	return rc;
}
