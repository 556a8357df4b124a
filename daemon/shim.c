/* The engine's side of berth-shim, the small process that holds a running
 * container's stdio, log and exit status so that they outlive the daemon:
 * spawning it (for a container or for an exec), reading its one-line
 * report, its control socket (attach, resize, close stdin) and the exit
 * record it leaves in the container's directory. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/log.h"
#include "lib/unixsock.h"

/* The fds a shim is given: its report pipe, the waiter's lock, then the
 * clients to attach. */
#define SHIM_FD_REPORT 3
#define SHIM_FD_LOCK   4
#define SHIM_FD_ATTACH 5

/* Largest report or control answer read. */
#define SHIM_MSG_MAX 65536
/* Most clients a standby takes with its order (the shim's own bound). */
#define SHIM_ATTACH_MAX 64
/* How long a standby may take to get ready before it is given up. */
#define STANDBY_READY_MS 10000
/* How long after a start took the standby the next one is made. */
#define STANDBY_AFTER_TAKE_MS 50

extern char **environ;

static enum berr_kind kind_named(const char *name)
{
	for (int k = BERR_INTERNAL; k <= BERR_NOT_IMPLEMENTED; k++)
		if (name && strcmp(berr_kind_name((enum berr_kind)k), name) == 0)
			return (enum berr_kind)k;
	return BERR_INTERNAL;
}

/* "stdin,stdout,stderr,raw" of A. */
static void streams_of(const struct daemon_attach *a, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s", a->in ? "stdin," : "", a->out ? "stdout," : "",
		 a->err ? "stderr," : "", a->raw ? "raw" : "");
	size_t len = strlen(out);

	if (len > 0 && out[len - 1] == ',')
		out[len - 1] = '\0';
}

/* Reads the shim's report from FD, one line: its pids, or the error it
 * met.  A container's shim keeps the pipe open until it has recorded the
 * end; an exec's closes it after the line. */
static int read_report(int fd, pid_t *pid, pid_t *shim, struct berr **err)
{
	_cleanup_free_ char *text = malloc(SHIM_MSG_MAX);
	_cleanup_json_ json_t *report = NULL;
	const char *msg = NULL, *kind = NULL;
	json_int_t p = 0, s = 0;
	size_t len = 0;

	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read the shim's report");
	while (len < SHIM_MSG_MAX && !memchr(text, '\n', len)) {
		ssize_t n = read(fd, text + len, SHIM_MSG_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(err, BERR_INTERNAL, errno, "read the shim's report");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	report = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, NULL);
	if (!report)
		return berr_set(err, BERR_INTERNAL, 0, "the shim ended without a report");
	if (json_unpack(report, "{s:s, s?s}", "error", &msg, "kind", &kind) == 0)
		return berr_set(err, kind_named(kind), 0, "%s", msg);
	if (json_unpack(report, "{s:I, s?I}", "pid", &p, "shim", &s) < 0 || p <= 0)
		return berr_set(err, BERR_INTERNAL, 0, "the shim's report is not understood");
	*pid = (pid_t)p;
	if (shim)
		*shim = (pid_t)s;
	return 0;
}

/* Sets up FA and ATTR for a shim: no signal mask or handlers of the
 * daemon's, /dev/null for stdio. */
static void spawn_attrs(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr)
{
	sigset_t none, all;

	posix_spawn_file_actions_init(fa);
	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigfillset(&all);
	/* The daemon's signal mask and handlers are not the shim's. */
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_addopen(fa, STDOUT_FILENO, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_addopen(fa, STDERR_FILENO, "/dev/null", O_RDWR, 0);
}

/* Spawns ARGV with the report pipe's write end, LOCK (may be -1) and the
 * clients of ATTACH as fds 3, 4 and 5...; *child gets its pid and *report
 * the pipe's read end. */
static int spawn_shim(char *const *argv, int lock, const struct daemon_attach *attach,
		      size_t n_attach, pid_t *child, int *report, struct berr **err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start the shim");
	spawn_attrs(&fa, &attr);
	/* Every source is close-on-exec and above the targets' range, so no
	 * dup2 below overwrites one still to be used. */
	posix_spawn_file_actions_adddup2(&fa, fds[1], SHIM_FD_REPORT);
	if (lock >= 0)
		posix_spawn_file_actions_adddup2(&fa, lock, SHIM_FD_LOCK);
	else
		posix_spawn_file_actions_addopen(&fa, SHIM_FD_LOCK, "/dev/null", O_RDONLY, 0);
	for (size_t i = 0; i < n_attach; i++)
		posix_spawn_file_actions_adddup2(&fa, attach[i].fd, SHIM_FD_ATTACH + (int)i);
	rc = posix_spawn(child, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return berr_set(err, BERR_INTERNAL, rc, "start the shim %s", argv[0]);
	}
	*report = fds[0];
	return 0;
}

/* The standby shim made ahead for the next start (berth-shim standby):
 * one at a time, made again on the pool's thread once taken. */
struct daemon_shim_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	char *shim;  /* berth-shim's path */
	char *dir;   /* where standbys run */
	int order;   /* the standby's socket, -1 while none waits */
	int stop[2]; /* written at the pool's end: no standby is waited for */
	bool stopping;
	bool taken;		  /* since the last standby was made */
	struct timespec taken_at; /* CLOCK_REALTIME, as the condition's waits */
};

/* Starts a standby: *ORDER gets the socket its order goes on. */
static int spawn_standby(const char *shim, const char *dir, int stop, int *order, struct berr **err)
{
	char *argv[] = { (char *)shim, "standby", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct pollfd pfd[2] = { { .events = POLLIN }, { .fd = stop, .events = POLLIN } };
	int sv[2], rc, status;
	pid_t child;
	char ready = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start a standby shim");
	spawn_attrs(&fa, &attr);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SHIM_FD_REPORT);
	/* Not wherever berthd was started: nothing there is kept busy. */
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	rc = posix_spawn(&child, shim, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return berr_set(err, BERR_INTERNAL, rc, "start the shim %s", shim);
	}
	/* It forks at once, as a start's shim: its first half ends now. */
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	/* Offered to starts only once it is ready (warmed up, at the usual
	 * priority, waiting for its order). */
	pfd[0].fd = sv[0];
	do
		rc = poll(pfd, 2, STANDBY_READY_MS);
	while (rc < 0 && errno == EINTR);
	if (rc < 1 || pfd[1].revents || recv(sv[0], &ready, 1, 0) != 1 || ready != 'r') {
		close(sv[0]);
		return berr_set(err, BERR_INTERNAL, 0, "the standby shim did not get ready");
	}
	*order = sv[0];
	return 0;
}

static void *pool_run(void *arg)
{
	struct daemon_shim_pool *p = arg;

	/* A standby is made while a start runs: where the CPUs would idle,
	 * not in the start's way.  The standby inherits this and leaves it
	 * before it says it is ready. */
	sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){ 0 });
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		struct berr *err = NULL;
		struct timespec retry;
		int order = -1;

		if (p->order >= 0) {
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		/* The start that took the last one, and the first moments of
		 * its container, go first: made meanwhile, the next would
		 * take a CPU and kernel locks from them. */
		if (p->taken) {
			struct timespec after = p->taken_at;

			after.tv_nsec += STANDBY_AFTER_TAKE_MS * 1000000L;
			after.tv_sec += after.tv_nsec / 1000000000L;
			after.tv_nsec %= 1000000000L;
			while (!p->stopping &&
			       pthread_cond_timedwait(&p->wake, &p->lock, &after) == 0)
				;
			p->taken = false;
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		if (spawn_standby(p->shim, p->dir, p->stop[0], &order, &err) < 0) {
			blog_warn("%s", err->msg);
			berr_free(err);
		}
		pthread_mutex_lock(&p->lock);
		if (order >= 0) {
			p->order = order;
			continue;
		}
		/* Starts spawn their own shim meanwhile. */
		clock_gettime(CLOCK_REALTIME, &retry);
		retry.tv_sec += 5;
		while (!p->stopping && pthread_cond_timedwait(&p->wake, &p->lock, &retry) == 0)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct daemon_shim_pool *daemon_shim_pool_new(const char *shim, const char *dir)
{
	struct daemon_shim_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->order = -1;
	p->shim = strdup(shim);
	p->dir = strdup(dir);
	if (!p->shim || !p->dir || pipe2(p->stop, O_CLOEXEC) < 0)
		goto fail;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto fail_pipe;
	if (pthread_cond_init(&p->wake, NULL) != 0)
		goto fail_lock;
	if (pthread_create(&p->thread, NULL, pool_run, p) != 0)
		goto fail_cond;
	return p;
fail_cond:
	pthread_cond_destroy(&p->wake);
fail_lock:
	pthread_mutex_destroy(&p->lock);
fail_pipe:
	close(p->stop[0]);
	close(p->stop[1]);
fail:
	free(p->shim);
	free(p->dir);
	free(p);
	return NULL;
}

void daemon_shim_pool_free(struct daemon_shim_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	/* A standby being waited for is given up at once. */
	if (write(p->stop[1], "x", 1) < 0)
		blog_debug("shim pool: %s", strerror(errno));
	pthread_join(p->thread, NULL);
	close(p->stop[0]);
	close(p->stop[1]);
	/* The standby sees its socket's end and exits. */
	if (p->order >= 0)
		close(p->order);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->shim);
	free(p->dir);
	free(p);
}

/* The waiting standby's socket, owned by the caller, or -1; the pool
 * makes the next one. */
static int pool_take(struct daemon_shim_pool *p)
{
	int order;

	if (!p)
		return -1;
	pthread_mutex_lock(&p->lock);
	order = p->order;
	p->order = -1;
	if (order >= 0) {
		p->taken = true;
		clock_gettime(CLOCK_REALTIME, &p->taken_at);
	}
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return order;
}

/* Gives the standby at ORDER a start's ARGV with the fds a spawn would
 * have given it; *report gets the report pipe's read end. */
static int order_standby(int order, char *const *argv, int lock, const struct daemon_attach *attach,
			 size_t n_attach, int *report, struct berr **err)
{
	int fds[2 + SHIM_ATTACH_MAX], pipe_fds[2];
	_cleanup_close_ int null_fd = -1;
	_cleanup_free_ char *body = NULL;
	size_t len = 0, n = 0;

	if (n_attach > SHIM_ATTACH_MAX)
		return berr_set(err, BERR_INVALID, 0, "too many attached clients");
	for (size_t i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	body = malloc(len ? len : 1);
	if (!body)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "start the shim");
	for (size_t i = 0, at = 0; argv[i]; i++) {
		size_t l = strlen(argv[i]) + 1;

		memcpy(body + at, argv[i], l);
		at += l;
	}
	if (lock < 0) {
		null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0)
			return berr_set(err, BERR_INTERNAL, errno, "open /dev/null");
	}
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start the shim");
	fds[n++] = pipe_fds[1];
	fds[n++] = lock >= 0 ? lock : null_fd;
	for (size_t i = 0; i < n_attach; i++)
		fds[n++] = attach[i].fd;
	if (unixsock_send_fds(order, fds, n, body, len, err) < 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return -1;
	}
	close(pipe_fds[1]);
	*report = pipe_fds[0];
	return 0;
}

bool daemon_detach_keys_valid(const char *spec)
{
	if (strlen(spec) >= DAEMON_DETACH_KEYS_MAX)
		return false;
	if (!*spec)
		return true;
	for (const char *k = spec;;) {
		size_t len = strcspn(k, ",");

		if (len != 1 && !(len == 6 && strncmp(k, "ctrl-", 5) == 0 &&
				  ((k[5] >= 'a' && k[5] <= 'z') || k[5] == '@' ||
				   (k[5] >= '[' && k[5] <= '_'))))
			return false;
		if (!k[len])
			return true;
		k += len + 1;
	}
}

/* The --attach arguments of ATTACH, appended to ARGS: "FD:STREAMS", and
 * ":KEYS" for detach keys of the client's own. */
static int attach_args(char ***args, const struct daemon_attach *attach, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *arg = NULL;
		char streams[64];

		streams_of(&attach[i], streams, sizeof(streams));
		arg = str_printf("%d:%s%s%s", SHIM_FD_ATTACH + (int)i, streams,
				 attach[i].detach_keys[0] ? ":" : "", attach[i].detach_keys);
		if (!arg || strv_append(args, "--attach") < 0 || strv_append(args, arg) < 0)
			return -1;
	}
	return 0;
}

/* The log options of the document's HostConfig.LogConfig, as shim
 * arguments; none for the "none" driver. */
static int log_args(char ***args, const json_t *doc, const char *log_path)
{
	const json_t *lc = json_object_get(json_object_get(doc, "HostConfig"), "LogConfig");
	const char *type = json_string_value(json_object_get(lc, "Type"));
	const json_t *cfg = json_object_get(lc, "Config");
	const char *size = json_string_value(json_object_get(cfg, "max-size"));
	const char *files = json_string_value(json_object_get(cfg, "max-file"));

	if (type && strcmp(type, "none") == 0)
		return 0;
	if (strv_append(args, "--log-path") < 0 || strv_append(args, log_path) < 0)
		return -1;
	if (size && (strv_append(args, "--log-max-size") < 0 || strv_append(args, size) < 0))
		return -1;
	if (files && (strv_append(args, "--log-max-file") < 0 || strv_append(args, files) < 0))
		return -1;
	return 0;
}

int daemon_shim_start(struct daemon *d, const struct daemon_container *c, const char *run_dir,
		      const char *log_path, int lock, const struct daemon_start_opts *o, pid_t *pid,
		      pid_t *shim, int *end_fd, struct berr **err)
{
	const json_t *config = json_object_get(c->doc, "Config");
	_cleanup_strv_ char **args = NULL;
	_cleanup_close_ int report = -1;
	_cleanup_close_ int order = -1;
	pid_t child;
	int status;

	if (strv_append(&args, o->shim) < 0 || strv_append(&args, "start") < 0 ||
	    strv_append(&args, "--root") < 0 || strv_append(&args, d->runtime_root) < 0 ||
	    strv_append(&args, "--id") < 0 || strv_append(&args, c->id) < 0 ||
	    strv_append(&args, "--bundle") < 0 || strv_append(&args, run_dir) < 0 ||
	    log_args(&args, c->doc, log_path) < 0 ||
	    (json_is_true(json_object_get(config, "Tty")) && strv_append(&args, "--tty") < 0) ||
	    (json_is_true(json_object_get(config, "OpenStdin")) &&
	     strv_append(&args, "--stdin") < 0) ||
	    (json_is_true(json_object_get(config, "StdinOnce")) &&
	     strv_append(&args, "--stdin-once") < 0) ||
	    attach_args(&args, o->attach, o->n_attach) < 0 ||
	    /* Touched at each create and start (daemon_cgroup_move_ahead()). */
	    (d->cgroup_keeper && strv_append(&args, "--cgroups-kept-warm") < 0))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "start container %s", c->id);
	order = pool_take(d->shim_pool);
	if (order >= 0) {
		struct berr *lerr = NULL;

		if (order_standby(order, args, lock, o->attach, o->n_attach, &report, &lerr) == 0)
			goto read;
		/* Gone meanwhile (killed): a shim of its own, as without one. */
		blog_warn("container %s: the standby shim: %s", c->id, lerr->msg);
		berr_free(lerr);
	}
	if (spawn_shim(args, lock, o->attach, o->n_attach, &child, &report, err) < 0)
		return -1;
	/* The shim forks at once so that it is nobody's child here; its
	 * first half ends now. */
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
read:
	if (read_report(report, pid, shim, err) < 0)
		return -1;
	*end_fd = steal_fd(&report);
	return 0;
}

int daemon_shim_exec(struct daemon *d, const char *id, const char *process_file,
		     const struct daemon_start_opts *o, bool tty, bool in, pid_t *pid, pid_t *shim,
		     struct berr **err)
{
	_cleanup_strv_ char **args = NULL;
	_cleanup_close_ int report = -1;

	if (strv_append(&args, o->shim) < 0 || strv_append(&args, "exec") < 0 ||
	    strv_append(&args, "--root") < 0 || strv_append(&args, d->runtime_root) < 0 ||
	    strv_append(&args, "--id") < 0 || strv_append(&args, id) < 0 ||
	    strv_append(&args, "--process") < 0 || strv_append(&args, process_file) < 0 ||
	    (tty && strv_append(&args, "--tty") < 0) ||
	    /* An exec's input ends with its client's, as in Docker. */
	    (in && (strv_append(&args, "--stdin") < 0 || strv_append(&args, "--stdin-once") < 0)) ||
	    attach_args(&args, o->attach, o->n_attach) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec in container %s", id);
	if (spawn_shim(args, -1, o->attach, o->n_attach, shim, &report, err) < 0)
		return -1;
	if (read_report(report, pid, NULL, err) < 0) {
		/* The shim is the caller's child: reaped here when it failed. */
		while (waitpid(*shim, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	return 0;
}

int daemon_shim_exit_record(const char *run_dir, bool *found, int *wait_status, char **finished,
			    struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/" DAEMON_FILE_EXIT, run_dir);
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ json_t *rec = NULL;
	struct jsontext_error jerr;
	const char *when = NULL;
	json_int_t status = 0;
	size_t len = 0;

	*found = false;
	if (finished)
		*finished = NULL;
	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exit record");
	if (!fs_exists(path))
		return 0;
	if (fs_read_file(path, SHIM_MSG_MAX, &text, &len, err) < 0)
		return -1;
	rec = jsontext_parse(text, len, &jerr);
	if (!rec || json_unpack(rec, "{s:I, s?s}", "status", &status, "finished", &when) < 0)
		return berr_set(err, BERR_INTERNAL, 0, "%s: not an exit record", path);
	*found = true;
	*wait_status = (int)status;
	if (finished && when)
		*finished = strdup(when);
	return 0;
}

/* Sends MSG (and FD, unless -1) to the control socket of the shim in DIR
 * and reads its answer. */
static int shim_call(const char *run_dir, const char *sock_name, const json_t *msg, int fd,
		     struct berr **err)
{
	_cleanup_free_ char *text = jsontext_dump(msg);
	_cleanup_close_ int dirfd = open(run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int sock = -1;
	_cleanup_json_ json_t *answer = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *emsg = NULL;
	char buf[4096];
	ssize_t n;

	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "shim message");
	if (dirfd < 0)
		return berr_set(err, BERR_NOT_FOUND, errno, "open %s", run_dir);
	/* Through the directory's fd: the socket's own path may be longer
	 * than a socket address holds. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, sock_name);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return berr_set(err, BERR_INTERNAL, errno, "shim socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berr_set(err,
				errno == ENOENT || errno == ECONNREFUSED ? BERR_CONFLICT
									 : BERR_INTERNAL,
				errno, "the container's shim does not answer");
	if (fd >= 0) {
		if (unixsock_send_fd(sock, fd, text, strlen(text), err) < 0)
			return -1;
	} else if (send(sock, text, strlen(text), MSG_NOSIGNAL) < 0) {
		return berr_set(err, BERR_INTERNAL, errno, "talk to the shim");
	}
	do
		n = recv(sock, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return berr_set(err, BERR_INTERNAL, n < 0 ? errno : 0, "the shim did not answer");
	answer = json_loadb(buf, (size_t)n, 0, NULL);
	if (!answer)
		return berr_set(err, BERR_INTERNAL, 0, "the shim's answer is not understood");
	if (json_unpack(answer, "{s:s}", "error", &emsg) == 0)
		return berr_set(err, BERR_INTERNAL, 0, "%s", emsg);
	return 0;
}

int daemon_shim_attach(const char *run_dir, const struct daemon_attach *a, const char *detach_keys,
		       struct berr **err)
{
	_cleanup_json_ json_t *msg =
		json_pack("{s:s, s:b, s:b, s:b, s:b}", "op", "attach", "stdin", a->in, "stdout",
			  a->out, "stderr", a->err, "raw", a->raw);

	if (!detach_keys && a->detach_keys[0])
		detach_keys = a->detach_keys;
	if (!msg ||
	    (detach_keys && json_object_set_new(msg, "detach_keys", json_string(detach_keys)) < 0))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "attach");
	return shim_call(run_dir, DAEMON_FILE_ATTACH_SOCK, msg, a->fd, err);
}

int daemon_shim_resize(const char *run_dir, const char *sock_name, unsigned height, unsigned width,
		       struct berr **err)
{
	_cleanup_json_ json_t *msg = json_pack("{s:s, s:I, s:I}", "op", "resize", "height",
					       (json_int_t)height, "width", (json_int_t)width);

	if (!msg)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "resize");
	return shim_call(run_dir, sock_name ? sock_name : DAEMON_FILE_ATTACH_SOCK, msg, -1, err);
}
