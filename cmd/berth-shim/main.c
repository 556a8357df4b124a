/* berth-shim: the small process that holds one container's (or one exec's)
 * stdio, json-file log and exit status, so that none of them depends on
 * berthd: the daemon can stop, crash or restart while the container runs.
 *
 *   berth-shim start --root R --id ID --bundle DIR [--log-path F
 *              [--log-max-size N] [--log-max-file N]] [--tty] [--stdin]
 *              [--stdin-once] [--attach FD:STREAMS]... [--cgroups-kept-warm]
 *   berth-shim exec --root R --id ID --process FILE [--tty] [--stdin]
 *              [--attach FD:STREAMS]...
 *   berth-shim standby
 *
 * fd 3 is the report pipe: one JSON line, {"pid": P, "shim": S} or
 * {"error": MSG, "kind": KIND}.  fd 4 (start) is the container's waiter
 * lock, held until the end is recorded.  A start forks first so that the
 * shim is nobody's child, creates and starts the container through the
 * in-process runtime (its init is the shim's child), then serves: output
 * goes to the log and to attached clients (Docker's multiplexed framing
 * unless raw), clients' input to the container's stdin, control messages
 * on DIR/attach.sock (attach with an fd, resize, close-stdin); at the
 * init's end it writes DIR/exit.json, lets go of the lock, closes the
 * report pipe (kept open for that word) and exits.  An exec runs one
 * process and exits with its exit code.  A standby is a start's shim made
 * before the start is known: fd 3 is a socket on which it says "r" when it
 * is ready, and on which one order comes, a start's arguments with the fds
 * it would have been given. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/jsonlog.h"
#include "lib/jsontext.h"
#include "lib/timefmt.h"
#include "lib/unixsock.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

#define FD_REPORT 3
#define FD_LOCK	  4

#define CONTROL_SOCK "attach.sock"
#define EXIT_FILE    "exit.json"
#define MAX_CLIENTS  64
/* What a client that does not read may have waiting before it is
 * dropped: the container never waits for a client. */
#define CLIENT_BUF_MAX (1024 * 1024)
#define READ_SIZE      (32 * 1024)
#define MSG_MAX	       4096
/* A standby's order: its arguments, each ending with a NUL, and the fds
 * for 3 (report), 4 (lock) and 5... (attached clients).  Received fds
 * move above the targets first. */
#define ORDER_MAX     65536
#define ORDER_ARGS    (24 + 2 * MAX_CLIENTS)
#define ORDER_FDS     (2 + MAX_CLIENTS)
#define ORDER_FD_HIGH 128
/* A container's shim serves this long as it is before it goes on as a
 * new image of itself: a short-lived container ends first, and nobody
 * waits for the re-execution. */
#define REEXEC_AFTER_MS 100
/* After the process ends, output still in the pipes is read this long
 * (its orphans may hold the pipes open). */
#define DRAIN_MS 200

/* How long a container's shim stays after the word of its end, holding
 * the container's namespaces, so that their teardown (and the shim's own
 * exit) does not take the CPU from the daemon's answer. */
#define SHIM_LINGER_MS 50

/* The runtime's defaults (the host's cgroup root), for what the shim does
 * outside a create. */
static const struct runtime_config runtime_defaults;

struct client {
	int fd;
	bool in, out, err, raw;
	bool read_done; /* the client has closed its side: output only */
	char *buf;	/* output waiting for the client */
	size_t len;
	/* Detach keys and how far the client's input has matched them. */
	unsigned char keys[16];
	size_t n_keys, matched;
};

struct shim {
	const char *root, *id, *bundle, *process_file, *log_path;
	const char *spare_cgroup; /* a standby's, for its container */
	int spare_netns;	  /* a standby's, for its container; -1: none */
	struct runtime_seed seed; /* a standby's, for its container; pid 0: none */
	/* The container's mount and network namespaces, held from its start
	 * until a while after the daemon knows of its end (SHIM_LINGER_MS):
	 * their teardown (every mount of the container unmounted, the network
	 * namespace dismantled) comes once the daemon has answered, not
	 * before.  -1: none. */
	int mnt_ns, net_ns;
	long long log_max_size;
	int log_max_file;
	bool exec, tty, in, in_once;
	bool cgroups_kept_warm;	   /* by the daemon, which keeps a keeper */
	int out_fd, err_fd, in_fd; /* container side: ours to read / write */
	int control_fd, sig_fd, log_fd;
	long long log_size;
	pid_t pid;
	int status;
	bool exited;
	/* When serve() returns for the re-execution (ms, 0: never). */
	int64_t reexec_at;
	struct client clients[MAX_CLIENTS];
	size_t n_clients;
	/* A partial last line of each stream, for the log. */
	char *partial[2];
	size_t partial_len[2];
};

/* One write, so that the daemon reads the line whole. */
static void report(const char *json)
{
	_cleanup_free_ char *line = str_printf("%s\n", json);

	if (line)
		(void)fs_write_all(FD_REPORT, line, strlen(line));
}

static void report_error(const struct berr *err)
{
	json_t *o = json_pack("{s:s, s:s}", "error", err && err->msg ? err->msg : "shim failed",
			      "kind", berr_kind_name(err ? err->kind : BERR_INTERNAL));
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	report(text ? text : "{\"error\":\"shim failed\",\"kind\":\"internal error\"}");
	free(text);
	json_decref(o);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/*
 * The log.
 */

/* json-file's rotation: FILE -> FILE.1 -> FILE.2 ..., MAX files in all. */
static void log_rotate(struct shim *s)
{
	char from[4096], to[4096];

	if (s->log_max_file <= 1) {
		/* One file: it starts over. */
		if (ftruncate(s->log_fd, 0) == 0)
			s->log_size = 0;
		return;
	}
	for (int i = s->log_max_file - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", s->log_path);
		else
			snprintf(from, sizeof(from), "%s.%d", s->log_path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", s->log_path, i);
		rename(from, to);
	}
	close(s->log_fd);
	s->log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	s->log_size = 0;
}

static void log_entry(struct shim *s, int stream, const char *data, size_t len)
{
	char *line = NULL;
	size_t n = 0;

	if (s->log_fd < 0 || len == 0)
		return;
	if (jsonlog_encode(data, len, (enum jsonlog_stream)stream, now_ns(), &line, &n) < 0)
		return;
	if (s->log_max_size > 0 && s->log_size > 0 && s->log_size + (long long)n > s->log_max_size)
		log_rotate(s);
	if (s->log_fd >= 0 && fs_write_all(s->log_fd, line, n) == 0)
		s->log_size += (long long)n;
	free(line);
}

/* Logs DATA of STREAM line by line; a line without its end waits for the
 * rest, unless it grew past JSONLOG_LINE_MAX (Docker's partial entry). */
static void log_output(struct shim *s, int stream, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) + 1 : len;
		char *p = realloc(s->partial[stream], s->partial_len[stream] + take);

		if (!p)
			return;
		memcpy(p + s->partial_len[stream], data, take);
		s->partial[stream] = p;
		s->partial_len[stream] += take;
		data += take;
		len -= take;
		while (s->partial_len[stream] > JSONLOG_LINE_MAX) {
			log_entry(s, stream, s->partial[stream], JSONLOG_LINE_MAX);
			memmove(s->partial[stream], s->partial[stream] + JSONLOG_LINE_MAX,
				s->partial_len[stream] - JSONLOG_LINE_MAX);
			s->partial_len[stream] -= JSONLOG_LINE_MAX;
		}
		if (nl) {
			log_entry(s, stream, s->partial[stream], s->partial_len[stream]);
			s->partial_len[stream] = 0;
		}
	}
}

static void log_flush(struct shim *s)
{
	for (int i = 0; i < 2; i++) {
		log_entry(s, i, s->partial[i], s->partial_len[i]);
		s->partial_len[i] = 0;
	}
}

/*
 * Clients.
 */

/* Docker's detach keys: "ctrl-p,ctrl-q", letters, "ctrl-@" ... */
static size_t parse_keys(const char *spec, unsigned char *out, size_t max)
{
	char copy[128], *save = NULL;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", spec ? spec : "ctrl-p,ctrl-q");
	for (char *k = strtok_r(copy, ",", &save); k && n < max; k = strtok_r(NULL, ",", &save)) {
		if (strncmp(k, "ctrl-", 5) == 0 && strlen(k) == 6) {
			char c = k[5];

			if (c >= 'a' && c <= 'z')
				out[n++] = (unsigned char)(c - 'a' + 1);
			else if (c == '@')
				out[n++] = 0;
			else if (c >= '[' && c <= '_')
				out[n++] = (unsigned char)(c - '[' + 27);
			else
				return 0;
		} else if (strlen(k) == 1) {
			out[n++] = (unsigned char)k[0];
		} else {
			return 0;
		}
	}
	return n;
}

static void client_drop(struct shim *s, size_t i)
{
	close(s->clients[i].fd);
	free(s->clients[i].buf);
	s->clients[i] = s->clients[--s->n_clients];
}

static int client_add(struct shim *s, int fd, bool in, bool out, bool err, bool raw,
		      const char *keys)
{
	struct client *c;

	if (s->n_clients == MAX_CLIENTS) {
		close(fd);
		return -1;
	}
	set_nonblock(fd);
	c = &s->clients[s->n_clients++];
	*c = (struct client){ .fd = fd, .in = in, .out = out, .err = err, .raw = raw || s->tty };
	/* As in Docker, only a terminal has detach keys: piped input is
	 * data, every byte of it. */
	c->n_keys = s->tty ? parse_keys(keys, c->keys, sizeof(c->keys)) : 0;
	return 0;
}

/* Queues LEN bytes for client C; false when it has too much waiting. */
static bool client_queue(struct client *c, const void *data, size_t len)
{
	char *p;

	if (c->len + len > CLIENT_BUF_MAX)
		return false;
	p = realloc(c->buf, c->len + len);
	if (!p)
		return false;
	memcpy(p + c->len, data, len);
	c->buf = p;
	c->len += len;
	return true;
}

/* Writes what waits for client I; false when the client is gone. */
static bool client_flush(struct shim *s, size_t i)
{
	struct client *c = &s->clients[i];

	while (c->len > 0) {
		ssize_t n = send(c->fd, c->buf, c->len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		memmove(c->buf, c->buf + n, c->len - (size_t)n);
		c->len -= (size_t)n;
	}
	return true;
}

static void clients_output(struct shim *s, int stream, const char *data, size_t len)
{
	for (size_t i = 0; i < s->n_clients;) {
		struct client *c = &s->clients[i];
		bool ok = true;

		if (stream == 1 ? c->out : c->err) {
			if (!c->raw) {
				unsigned char head[8] = { (unsigned char)stream,
							  0,
							  0,
							  0,
							  (unsigned char)(len >> 24),
							  (unsigned char)(len >> 16),
							  (unsigned char)(len >> 8),
							  (unsigned char)len };

				ok = client_queue(c, head, sizeof(head));
			}
			ok = ok && client_queue(c, data, len) && client_flush(s, i);
		}
		if (ok)
			i++;
		else
			client_drop(s, i);
	}
}

static void close_stdin(struct shim *s)
{
	if (s->in_fd >= 0 && !s->tty) {
		close(s->in_fd);
		s->in_fd = -1;
	}
}

/* Input from client I: to the container's stdin, minus a detach
 * sequence, which ends the client. */
static void client_input(struct shim *s, size_t i)
{
	struct client *c = &s->clients[i];
	unsigned char buf[READ_SIZE];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_drop(s, i);
		return;
	}
	if (n == 0) {
		/* A client without input closes its writing side at once
		 * (docker run does): it still gets the output. */
		if (c->in && s->in_once)
			close_stdin(s);
		c->in = false;
		c->read_done = true;
		if (!c->out && !c->err)
			client_drop(s, i);
		return;
	}
	if (!c->in || s->in_fd < 0)
		return;
	for (size_t k = 0; k < (size_t)n && c->n_keys; k++) {
		if (buf[k] != c->keys[c->matched]) {
			c->matched = buf[k] == c->keys[0];
			continue;
		}
		if (++c->matched == c->n_keys) {
			/* What came before the sequence still goes in. */
			size_t keep = k + 1 >= c->n_keys ? k + 1 - c->n_keys : 0;

			if (keep && fs_write_all(s->in_fd, buf, keep) < 0)
				close_stdin(s);
			/* The session ends for the client even while the
			 * daemon holds the connection too (an exec's, kept
			 * until its end is recorded). */
			shutdown(c->fd, SHUT_RDWR);
			client_drop(s, i);
			return;
		}
	}
	if (fs_write_all(s->in_fd, buf, (size_t)n) < 0)
		close_stdin(s);
}

/*
 * Control messages.
 */

static void control_answer(int sock, const char *error)
{
	char msg[MSG_MAX];
	int n = error ? snprintf(msg, sizeof(msg), "{\"error\":\"%s\"}", error)
		      : snprintf(msg, sizeof(msg), "{\"ok\":true}");

	if (n > 0)
		send(sock, msg, (size_t)n, MSG_NOSIGNAL);
}

static void resize(struct shim *s, unsigned short rows, unsigned short cols)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	if (s->tty && s->out_fd >= 0)
		ioctl(s->out_fd, TIOCSWINSZ, &ws);
}

/* Serves one control connection: a message, maybe an fd, an answer. */
static void control_serve(struct shim *s, int sock)
{
	char msg[MSG_MAX], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	json_t *o = NULL;
	const char *op;
	ssize_t n;
	int fd = -1;

	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return;
	msg[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	o = json_loads(msg, 0, NULL);
	op = json_string_value(json_object_get(o, "op"));
	if (op && strcmp(op, "attach") == 0 && fd >= 0) {
		if (client_add(s, fd, json_is_true(json_object_get(o, "stdin")),
			       json_is_true(json_object_get(o, "stdout")),
			       json_is_true(json_object_get(o, "stderr")),
			       json_is_true(json_object_get(o, "raw")),
			       json_string_value(json_object_get(o, "detach_keys"))) < 0)
			control_answer(sock, "too many clients");
		else
			control_answer(sock, NULL);
		fd = -1;
	} else if (op && strcmp(op, "resize") == 0) {
		resize(s, (unsigned short)json_integer_value(json_object_get(o, "height")),
		       (unsigned short)json_integer_value(json_object_get(o, "width")));
		control_answer(sock, NULL);
	} else if (op && strcmp(op, "close-stdin") == 0) {
		close_stdin(s);
		control_answer(sock, NULL);
	} else {
		control_answer(sock, "unknown request");
	}
	if (fd >= 0)
		close(fd);
	json_decref(o);
}

/*
 * The container.
 */

/* A listening socket bound to NAME in the current directory. */
static int listen_here(const char *name, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	unlink(name);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(name, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Receives the terminal's master from the runtime's connection on the
 * console socket LISTEN_FD. */
static int take_console(int listen_fd, struct berr **err)
{
	_cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0)
		return berr_set(err, BERR_INTERNAL, errno, "console socket");
	return unixsock_recv_fd(conn, err);
}

/* Makes the container's stdio and points the shim's own 0, 1 and 2 at it
 * for the runtime to hand on; the shim's ends go to S. */
static int make_stdio(struct shim *s, int *console_listen, const char *console_name,
		      struct berr **err)
{
	int out[2], errp[2], in[2] = { -1, -1 };
	int null_fd;

	if (s->tty) {
		*console_listen = listen_here(console_name, SOCK_STREAM);
		if (*console_listen < 0)
			return berr_set(err, BERR_INTERNAL, errno, "console socket");
		return 0;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (s->in && pipe2(in, O_CLOEXEC) < 0))
		return berr_set(err, BERR_INTERNAL, errno, "container stdio");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(s->in ? in[0] : null_fd, STDIN_FILENO);
	dup2(out[1], STDOUT_FILENO);
	dup2(errp[1], STDERR_FILENO);
	close(null_fd);
	close(out[1]);
	close(errp[1]);
	if (s->in)
		close(in[0]);
	s->out_fd = out[0];
	s->err_fd = errp[0];
	s->in_fd = in[1];
	return 0;
}

/* Points the shim's own stdio back at /dev/null, so that the container's
 * pipes end with the container. */
static void drop_stdio(void)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null_fd < 0)
		return;
	dup2(null_fd, STDIN_FILENO);
	dup2(null_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);
	close(null_fd);
}

/* The namespace NAME ("mnt", "net") of process PID; -1 when it cannot be
 * had. */
static int open_ns(pid_t pid, const char *name)
{
	char path[48];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int run_container(struct shim *s, struct berr **err)
{
	struct runtime_config cfg = { .state_root = s->root };
	bool spare_cgroup_taken = false;
	struct runtime_create_opts opts = { .id = s->id,
					    .bundle = s->bundle,
					    .spare_cgroup = s->spare_cgroup,
					    .spare_cgroup_taken = &spare_cgroup_taken,
					    .spare_netns = &s->spare_netns,
					    .seed = &s->seed,
					    .cgroups_kept_warm = s->cgroups_kept_warm };
	_cleanup_close_ int console_listen = -1;
	int rc;

	if (s->tty)
		opts.console_socket = "console.sock";
	if (make_stdio(s, &console_listen, "console.sock", err) < 0)
		return -1;
	rc = runtime_container_create(&cfg, &opts, &s->pid, err);
	if (rc == 0) {
		s->mnt_ns = open_ns(s->pid, "mnt");
		s->net_ns = open_ns(s->pid, "net");
	}
	if (spare_cgroup_taken)
		s->spare_cgroup = NULL;
	/* The container holds it now, or does not need it. */
	if (s->spare_netns >= 0) {
		close(s->spare_netns);
		s->spare_netns = -1;
	}
	drop_stdio();
	if (s->tty)
		unlink("console.sock");
	if (rc < 0)
		return -1;
	if (s->tty) {
		int master = take_console(console_listen, err);

		if (master < 0) {
			runtime_container_delete(&cfg, s->id, true, NULL);
			return -1;
		}
		s->out_fd = master;
		s->in_fd = s->in ? master : -1;
	}
	if (runtime_container_start(&cfg, s->id, err) < 0) {
		runtime_container_delete(&cfg, s->id, true, NULL);
		return -1;
	}
	return 0;
}

static int run_exec(struct shim *s, struct berr **err)
{
	struct runtime_config cfg = { .state_root = s->root };
	_cleanup_(runtime_process_free_cleanup) struct runtime_process *proc = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int console_listen = -1;
	struct runtime_exec_opts opts = { 0 };
	char console_name[64];
	size_t len = 0;
	int rc;

	if (fs_read_file(s->process_file, 1024 * 1024, &text, &len, err) < 0 ||
	    runtime_process_parse(text, len, &proc, err) < 0)
		return -1;
	s->tty = proc->terminal;
	snprintf(console_name, sizeof(console_name), "console-%d.sock", (int)getpid());
	if (s->tty)
		opts.console_socket = console_name;
	if (make_stdio(s, &console_listen, console_name, err) < 0)
		return -1;
	opts.process = proc;
	rc = runtime_container_exec(&cfg, s->id, &opts, &s->pid, err);
	drop_stdio();
	if (s->tty)
		unlink(console_name);
	if (rc < 0)
		return -1;
	if (s->tty) {
		int master = take_console(console_listen, err);

		if (master < 0) {
			kill(s->pid, SIGKILL);
			return -1;
		}
		s->out_fd = master;
		s->in_fd = s->in ? master : -1;
	}
	return 0;
}

/* Reads what FD holds (STREAM 1 or 2) into the log and the clients; false
 * at its end. */
static bool pump_output(struct shim *s, int *fd, int stream)
{
	char buf[READ_SIZE];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		if (*fd == s->in_fd)
			s->in_fd = -1;
		close(*fd);
		*fd = -1;
		return false;
	}
	log_output(s, stream - 1, buf, (size_t)n);
	clients_output(s, stream, buf, (size_t)n);
	return true;
}

static void reap(struct shim *s)
{
	struct signalfd_siginfo si;
	int status;
	pid_t p;

	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM && s->pid > 0 && !s->exited)
			kill(s->pid, SIGTERM);
	}
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p == s->pid) {
			s->status = status;
			s->exited = true;
		}
	}
}

static void write_exit(struct shim *s)
{
	char finished[TIME_RFC3339_SIZE];
	json_t *o;
	char *text;
	int code = WIFEXITED(s->status) ? WEXITSTATUS(s->status) : 128 + WTERMSIG(s->status);

	time_now_rfc3339(finished);
	o = json_pack("{s:i, s:i, s:s}", "status", s->status, "exit_code", code, "finished",
		      finished);
	text = jsontext_dump(o);
	/* Renamed into place, not synced: it outlives a daemon's restart,
	 * and a machine's crash ends the container's story anyway. */
	if (text)
		fs_write_file_replace(EXIT_FILE, text, strlen(text), 0600, NULL);
	free(text);
	json_decref(o);
}

/* Nothing held in memory that a re-execution would lose: no partial log
 * line, no output waiting for a client. */
static bool holds_nothing(const struct shim *s)
{
	if (s->partial_len[0] || s->partial_len[1])
		return false;
	for (size_t i = 0; i < s->n_clients; i++)
		if (s->clients[i].len)
			return false;
	return true;
}

/* Serves until the process ended and its output is drained, or, while it
 * runs, until s->reexec_at when that comes with nothing held. */
static void serve(struct shim *s)
{
	struct pollfd fds[4 + MAX_CLIENTS];
	int64_t drain_until = 0;

	for (;;) {
		size_t n = 0, first_client;
		int timeout = -1;

		if (!s->exited && s->reexec_at) {
			int64_t now = now_ns() / 1000000;

			if (now >= s->reexec_at && holds_nothing(s))
				return;
			timeout = now >= s->reexec_at ? 10 : (int)(s->reexec_at - now);
		}
		if (s->exited) {
			int64_t now = now_ns() / 1000000;

			if (!drain_until)
				drain_until = now + DRAIN_MS;
			if ((s->out_fd < 0 && s->err_fd < 0) || now >= drain_until)
				break;
			timeout = (int)(drain_until - now);
		}
		fds[n++] = (struct pollfd){ .fd = s->sig_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->err_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->control_fd, .events = POLLIN };
		first_client = n;
		for (size_t i = 0; i < s->n_clients; i++)
			fds[n++] = (struct pollfd){
				.fd = s->clients[i].fd,
				.events = (short)((s->clients[i].read_done ? 0 : POLLIN) |
						  (s->clients[i].len ? POLLOUT : 0)),
			};
		if (poll(fds, n, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			reap(s);
		if (fds[1].revents)
			pump_output(s, &s->out_fd, 1);
		if (fds[2].revents)
			pump_output(s, &s->err_fd, 2);
		if (fds[3].revents) {
			int conn = accept4(s->control_fd, NULL, NULL, SOCK_CLOEXEC);

			if (conn >= 0) {
				control_serve(s, conn);
				close(conn);
			}
		}
		/* Clients may have come or gone above: match by fd. */
		for (size_t k = first_client; k < n; k++) {
			for (size_t i = 0; i < s->n_clients; i++) {
				if (s->clients[i].fd != fds[k].fd)
					continue;
				if (fds[k].revents & POLLOUT && !client_flush(s, i))
					client_drop(s, i);
				else if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
					client_input(s, i);
				break;
			}
		}
	}
	log_flush(s);
	/* What clients still have waiting goes out, briefly. */
	for (size_t i = 0; i < s->n_clients; i++) {
		int flags = fcntl(s->clients[i].fd, F_GETFL);

		if (flags >= 0)
			fcntl(s->clients[i].fd, F_SETFL, flags & ~O_NONBLOCK);
		client_flush(s, i);
		/* An exec's client sees the end when the daemon, which holds
		 * the connection too, has its exit code. */
		if (!s->exec)
			shutdown(s->clients[i].fd, SHUT_WR);
	}
}

/* Lets go of what the shim holds at its end: clients and log buffers. */
static void shim_clear(struct shim *s)
{
	while (s->n_clients > 0)
		client_drop(s, 0);
	for (int i = 0; i < 2; i++) {
		free(s->partial[i]);
		s->partial[i] = NULL;
	}
}

/* Docker's spec of C's detach keys, as parse_keys() reads it back. */
static void format_keys(const struct client *c, char *out, size_t size)
{
	static const char ctrl[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->n_keys && used < size; i++) {
		int n = c->keys[i] < 32 ? snprintf(out + used, size - used, "%sctrl-%c",
						   i ? "," : "", ctrl[c->keys[i]])
					: snprintf(out + used, size - used, "%s%c", i ? "," : "",
						   c->keys[i]);

		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/* Parses "FD:stdin,stdout,stderr,raw[:KEYS]", KEYS the client's detach
 * keys (the default without them). */
static int parse_attach(struct shim *s, const char *arg)
{
	char *end;
	long fd = strtol(arg, &end, 10);
	bool in = false, out = false, err = false, raw = false;
	const char *keys = NULL;

	if (*end != ':' || fd < 3)
		return -1;
	keys = strchr(end + 1, ':');
	for (char *p = end + 1; *p && p != keys;) {
		size_t len = strcspn(p, ",:");

		if (len == 5 && strncmp(p, "stdin", 5) == 0)
			in = true;
		else if (len == 6 && strncmp(p, "stdout", 6) == 0)
			out = true;
		else if (len == 6 && strncmp(p, "stderr", 6) == 0)
			err = true;
		else if (len == 3 && strncmp(p, "raw", 3) == 0)
			raw = true;
		p += len + (p[len] == ',');
	}
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return client_add(s, (int)fd, in, out, err, raw, keys ? keys + 1 : NULL);
}

/* Docker's sizes for max-size: a number with an optional k, m or g
 * (binary units); -1 when it is not one. */
static long long parse_size(const char *text)
{
	char *end;
	long long n = strtoll(text, &end, 10);

	if (end == text || n < 0)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		n <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	return *end ? -1 : n;
}

/* Clears close-on-exec of FD (may be -1), so that it survives execve. */
static void keep_fd(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
}

/* Re-executes the shim as `serve` with the state S holds: its fds (kept
 * open) and its settings.  The container stays its child, and SIGCHLD
 * stays blocked, so no end is missed.  Returns only when execve failed:
 * the shim then serves as it is. */
static void reexec_serve(struct shim *s, const char *self)
{
	char pid[16], fds[96], size[32], files[16], attach[MAX_CLIENTS][192];
	const char *argv[24 + 2 * MAX_CLIENTS];
	size_t n = 0;

	snprintf(pid, sizeof(pid), "%d", (int)s->pid);
	snprintf(fds, sizeof(fds), "%d,%d,%d,%d,%d", s->out_fd, s->err_fd, s->in_fd, s->control_fd,
		 s->log_fd);
	snprintf(size, sizeof(size), "%lld", s->log_max_size);
	snprintf(files, sizeof(files), "%d", s->log_max_file);
	argv[n++] = self;
	argv[n++] = "serve";
	argv[n++] = "--pid";
	argv[n++] = pid;
	argv[n++] = "--fds";
	argv[n++] = fds;
	if (s->log_path) {
		argv[n++] = "--log-path";
		argv[n++] = s->log_path;
		argv[n++] = "--log-max-size";
		argv[n++] = size;
		argv[n++] = "--log-max-file";
		argv[n++] = files;
	}
	if (s->tty)
		argv[n++] = "--tty";
	if (s->in_once)
		argv[n++] = "--stdin-once";
	for (size_t i = 0; i < s->n_clients; i++) {
		const struct client *c = &s->clients[i];
		char keys[128];

		/* A terminal's client keeps its detach keys, none as well. */
		format_keys(c, keys, sizeof(keys));
		snprintf(attach[i], sizeof(attach[i]), "%d:%s%s%s%s%s%s", c->fd,
			 c->in ? "stdin," : "", c->out ? "stdout," : "", c->err ? "stderr," : "",
			 c->raw ? "raw" : "", s->tty ? ":" : "", s->tty ? keys : "");
		argv[n++] = "--attach";
		argv[n++] = attach[i];
		keep_fd(c->fd);
	}
	argv[n] = NULL;
	keep_fd(s->out_fd);
	keep_fd(s->err_fd);
	keep_fd(s->in_fd);
	keep_fd(s->control_fd);
	keep_fd(s->log_fd);
	keep_fd(FD_REPORT);
	keep_fd(FD_LOCK);
	/* By its own path: the daemon knows a shim by its name. */
	execv(self, (char *const *)argv);
	execv("/proc/self/exe", (char *const *)argv);
}

/* `serve`: the shim after its re-execution, with the container running. */
static int serve_again(struct shim *s)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	fcntl(FD_LOCK, F_SETFD, FD_CLOEXEC);
	prctl(PR_SET_NAME, "berth-shim");
	if (s->log_fd >= 0)
		s->log_size = lseek(s->log_fd, 0, SEEK_END);
	/* An end that came before the re-execution is still a zombie. */
	reap(s);
	serve(s);
	shim_clear(s);
	write_exit(s);
	unlink(CONTROL_SOCK);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: berth-shim start|exec --root DIR --id ID (--bundle DIR | --process "
			"FILE) [options]\n");
	return 2;
}

/* Makes the shim nobody's child: a fork whose first half exits, for the
 * caller to reap now, and a session of its own. */
static int detach(void)
{
	pid_t child = fork();

	if (child < 0)
		return -1;
	if (child > 0)
		_exit(0);
	setsid();
	return 0;
}

/* What a standby made for its container: none of them (NULL, -1, no
 * seed) for a shim that was spawned. */
struct spares {
	const char *cgroup;
	int netns;
	struct runtime_seed seed;
};

/* Runs the shim of ARGV; DETACHED when it is nobody's child already,
 * with SPARES made for its container. */
static int shim_main(int argc, char **argv, bool detached, const struct spares *spares)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, 'i' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "process", required_argument, NULL, 'p' },
		{ "log-path", required_argument, NULL, 'l' },
		{ "log-max-size", required_argument, NULL, 's' },
		{ "log-max-file", required_argument, NULL, 'f' },
		{ "tty", no_argument, NULL, 't' },
		{ "stdin", no_argument, NULL, 'I' },
		{ "stdin-once", no_argument, NULL, 'o' },
		{ "attach", required_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'P' },
		{ "fds", required_argument, NULL, 'F' },
		{ "cgroups-kept-warm", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	struct shim s = { .spare_cgroup = spares->cgroup,
			  .spare_netns = spares->netns,
			  .seed = spares->seed,
			  .out_fd = -1,
			  .err_fd = -1,
			  .in_fd = -1,
			  .control_fd = -1,
			  .log_fd = -1,
			  .mnt_ns = -1,
			  .net_ns = -1,
			  .log_max_file = 1 };
	struct berr *err = NULL;
	char exec_sock[128] = "";
	const char *attach[MAX_CLIENTS];
	size_t n_attach = 0;
	bool serving;
	sigset_t mask;
	char pids[64];
	int opt, rc;

	if (argc < 2)
		return usage();
	s.exec = strcmp(argv[1], "exec") == 0;
	serving = strcmp(argv[1], "serve") == 0;
	if (!s.exec && !serving && strcmp(argv[1], "start") != 0)
		return usage();
	fcntl(FD_REPORT, F_SETFD, FD_CLOEXEC);
	fcntl(FD_LOCK, F_SETFD, FD_CLOEXEC);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			s.root = optarg;
			break;
		case 'i':
			s.id = optarg;
			break;
		case 'b':
			s.bundle = optarg;
			break;
		case 'p':
			s.process_file = optarg;
			break;
		case 'l':
			s.log_path = optarg;
			break;
		case 's':
			s.log_max_size = parse_size(optarg);
			break;
		case 'f':
			s.log_max_file = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 't':
			s.tty = true;
			break;
		case 'I':
			s.in = true;
			break;
		case 'o':
			s.in_once = true;
			break;
		case 'a':
			if (n_attach == MAX_CLIENTS)
				return usage();
			attach[n_attach++] = optarg;
			break;
		case 'P':
			s.pid = (pid_t)atoi(optarg);
			break;
		case 'W':
			s.cgroups_kept_warm = true;
			break;
		case 'F':
			if (sscanf(optarg, "%d,%d,%d,%d,%d", &s.out_fd, &s.err_fd, &s.in_fd,
				   &s.control_fd, &s.log_fd) != 5)
				return usage();
			break;
		default:
			return usage();
		}
	}
	/* Once --tty is known, whatever its place: only a terminal's
	 * clients have detach keys. */
	for (size_t i = 0; i < n_attach; i++)
		if (parse_attach(&s, attach[i]) < 0)
			return usage();
	if (serving)
		return serve_again(&s);
	if (!s.root || !s.id || (s.exec ? !s.process_file : !s.bundle))
		return usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (!s.exec && !detached && detach() < 0)
		return 1;
	drop_stdio();
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	/* Orphans of the container that land on the shim are reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (chdir(s.exec ? "/" : s.bundle) < 0) {
		berr_set(&err, BERR_NOT_FOUND, errno, "bundle %s", s.bundle);
		goto fail;
	}
	if (s.exec) {
		_cleanup_free_ char *dir = strdup(s.process_file);
		char *slash = dir ? strrchr(dir, '/') : NULL;

		/* Its console socket goes next to the process file. */
		if (slash)
			*slash = '\0';
		if (dir && slash && *dir && chdir(dir) < 0) {
			berr_set(&err, BERR_INTERNAL, errno, "%s", dir);
			goto fail;
		}
	}
	if (s.log_path) {
		s.log_fd = open(s.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (s.log_fd < 0) {
			berr_set(&err, BERR_INTERNAL, errno, "open %s", s.log_path);
			goto fail;
		}
		s.log_size = lseek(s.log_fd, 0, SEEK_END);
	}
	if (!s.exec) {
		s.control_fd = listen_here(CONTROL_SOCK, SOCK_SEQPACKET);
		if (s.control_fd < 0) {
			berr_set(&err, BERR_INTERNAL, errno, "control socket");
			goto fail;
		}
	}
	if (s.exec) {
		/* exec-<id>.json's control socket is exec-<id>.sock, beside it. */
		const char *base = strrchr(s.process_file, '/');
		size_t len;

		base = base ? base + 1 : s.process_file;
		len = strcspn(base, ".");
		snprintf(exec_sock, sizeof(exec_sock), "%.*s.sock", (int)len, base);
		s.control_fd = listen_here(exec_sock, SOCK_SEQPACKET);
	}
	rc = s.exec ? run_exec(&s, &err) : run_container(&s, &err);
	/* The create took the seed or killed it; one that never came to a
	 * create goes now. */
	runtime_seed_discard(&s.seed);
	if (rc < 0)
		goto fail;
	snprintf(pids, sizeof(pids), "{\"pid\":%d,\"shim\":%d}", (int)s.pid, (int)getpid());
	report(pids);
	/* A container's shim keeps it for the word of the end. */
	if (s.exec)
		close(FD_REPORT);
	/* Not taken (another cgroup parent): it goes. */
	runtime_spare_cgroup_drop(&runtime_defaults, s.spare_cgroup);
	if (s.out_fd >= 0)
		set_nonblock(s.out_fd);
	if (s.err_fd >= 0)
		set_nonblock(s.err_fd);
	/* What create and start needed is not needed again: a container's
	 * shim that still runs after a while goes on as a new image of
	 * itself, with nothing but its fds. */
	if (!s.exec) {
		s.reexec_at = now_ns() / 1000000 + REEXEC_AFTER_MS;
		serve(&s);
	}
	if (!s.exec && !s.exited) {
		reexec_serve(&s, argv[0]);
		/* Not re-executed: serves as it is. */
		s.reexec_at = 0;
		malloc_trim(0);
		serve(&s);
	} else if (s.exec) {
		malloc_trim(0);
		serve(&s);
	}
	shim_clear(&s);
	if (s.exec) {
		unlink(exec_sock);
		return WIFEXITED(s.status) ? WEXITSTATUS(s.status) : 128 + WTERMSIG(s.status);
	}
	write_exit(&s);
	unlink(CONTROL_SOCK);
	/* The daemon's word of the end: the waiter's lock goes first, for a
	 * start that follows at once (a restart) to take it; the container's
	 * mounts after. */
	close(FD_LOCK);
	close(FD_REPORT);
	nanosleep(&(struct timespec){ .tv_nsec = SHIM_LINGER_MS * 1000000L }, NULL);
	if (s.mnt_ns >= 0)
		close(s.mnt_ns);
	if (s.net_ns >= 0)
		close(s.net_ns);
	return 0;
fail:
	report_error(err);
	berr_free(err);
	if (s.control_fd >= 0)
		unlink(s.exec ? exec_sock : CONTROL_SOCK);
	return 1;
}

/* FD moved to ORDER_FD_HIGH or above (-1 when it cannot be). */
static int move_high(int fd)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, ORDER_FD_HIGH);

	close(fd);
	return high;
}

/* Removes what a standby made for a container that never came: its
 * seed first, which is in the spare cgroup. */
static void drop_spares(struct spares *spares)
{
	runtime_seed_discard(&spares->seed);
	runtime_spare_cgroup_drop(&runtime_defaults, spares->cgroup);
}

/* `standby`: nobody's child at once, as a start's shim; then waits for
 * its order and goes on as the start it tells.  The socket's end without
 * an order (berthd stopped) ends it. */
static int standby(void)
{
	static char order[ORDER_MAX];
	static char *args[ORDER_ARGS + 1];
	_cleanup_free_ char *spare = NULL;
	struct spares spares = { .netns = -1, .seed = { .sync_fd = -1 } };
	int fds[ORDER_FDS];
	size_t len = 0, n_fds = 0, argc = 0;
	struct berr *err = NULL;

	if (detach() < 0)
		return 1;
	runtime_warm_up(&runtime_defaults);
	spare = runtime_spare_cgroup_make(&runtime_defaults);
	spares.cgroup = spare;
	spares.netns = runtime_spare_netns_make();
	/* Out of the way of the fds its order will bring to 3, 4, 5... */
	if (spares.netns >= 0)
		spares.netns = move_high(spares.netns);
	if (spares.netns >= 0 &&
	    runtime_seed_make(&runtime_defaults, spares.netns, spare, &spares.seed, &err) == 0)
		spares.seed.sync_fd = move_high(spares.seed.sync_fd);
	berr_clear(&err);
	/* Made at idle priority (berthd's pool), it starts a container as
	 * any start does: back to the usual priority before it says it is
	 * ready, so that no start ever waits on an idle-priority process. */
	sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 });
	/* The seed too: it becomes the container's process, which must not
	 * run at idle priority (nor wait for an idle CPU to take its order). */
	if (spares.seed.pid > 0)
		sched_setscheduler(spares.seed.pid, SCHED_OTHER, &(struct sched_param){ 0 });
	if (send(FD_REPORT, "r", 1, MSG_NOSIGNAL) != 1 ||
	    unixsock_recv_fds(FD_REPORT, order, sizeof(order) - 1, &len, fds, ORDER_FDS, &n_fds,
			      &err) < 0) {
		drop_spares(&spares);
		berr_free(err);
		return 0;
	}
	order[len] = '\0';
	for (size_t i = 0; i < len && argc < ORDER_ARGS; i += strlen(order + i) + 1)
		args[argc++] = order + i;
	args[argc] = NULL;
	/* A start, with at least its report pipe and lock. */
	if (argc < 2 || strcmp(args[1], "start") != 0 || n_fds < 2) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		drop_spares(&spares);
		return 1;
	}
	for (size_t i = 0; i < n_fds; i++)
		fds[i] = move_high(fds[i]);
	/* The report pipe takes the socket's place at 3; like a spawn's, the
	 * fds stay open across exec until the shim says otherwise. */
	for (size_t i = 0; i < n_fds; i++) {
		if (fds[i] < 0 || dup2(fds[i], FD_REPORT + (int)i) < 0) {
			drop_spares(&spares);
			return 1;
		}
		close(fds[i]);
	}
	return shim_main((int)argc, args, true, &spares);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "standby") == 0)
		return standby();
	static const struct spares none = { .netns = -1, .seed = { .sync_fd = -1 } };

	return shim_main(argc, argv, false, &none);
}
