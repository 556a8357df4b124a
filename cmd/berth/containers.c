/* The container commands: run, create, start, ps, rm, diff, commit, export
 * and container inspect, each over the container engine (daemon/), printing
 * what docker prints.  Until the daemon exists, the process that waits for a
 * container is berth itself: in the foreground for `run` and `start -a`, and
 * a detached monitor process (a small stand-in for a shim) for `start` and
 * `run -d`, which records the container's end. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/berth/cli.h"
#include "daemon/container.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

/* docker run's status for its own errors, before the container ran. */
#define RUN_ERROR_STATUS 125

/* The signals a foreground run passes on to the container, as docker's
 * sig-proxy does. */
static const int forwarded[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT,
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static struct daemon_container *one_container(struct daemon *d, const char *ref);

/* Prints ERR as docker prints a daemon's error and returns STATUS. */
static int report(struct berr *err, int status)
{
	cli_report(err);
	return status;
}

/*
 * Waiting in the foreground.
 */

static void waited_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < N_OF(forwarded); i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
}

/* Waits for PID, passing on the signals berth gets; *status gets its wait
 * status.  The signals must be blocked since before PID was made. */
static int wait_forwarding(pid_t pid, int *status)
{
	_cleanup_close_ int sfd = -1;
	sigset_t set;

	waited_set(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return -1;
	for (;;) {
		struct signalfd_siginfo si;
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.ssi_signo != SIGCHLD)
			kill(pid, (int)si.ssi_signo);
	}
}

/* Starts C with berth's standard streams and waits for its end; returns
 * the exit status to leave with.  STATUS_ON_ERROR is what a failure of
 * berth's own means. */
static int run_foreground(struct daemon *d, struct daemon_container *c, int status_on_error)
{
	struct berr *err = NULL;
	sigset_t set;
	pid_t pid = 0;
	int status = 0, code;

	waited_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (daemon_container_start(d, c, &pid, &err) < 0) {
		/* Docker's codes for a command that cannot run, which the
		 * failed start recorded. */
		code = daemon_container_exit_code(c);
		if (!err || (err->kind != BERR_NOT_FOUND && err->kind != BERR_FORBIDDEN) ||
		    (code != DAEMON_EXIT_NOT_FOUND && code != DAEMON_EXIT_NOT_EXECUTABLE))
			code = status_on_error;
		cli_report(err);
		if (json_is_true(
			    json_object_get(json_object_get(c->doc, "HostConfig"), "AutoRemove")) &&
		    daemon_container_remove(d, c->id, true, true, NULL, &err) < 0)
			cli_report(err);
		return code;
	}
	if (wait_forwarding(pid, &status) < 0) {
		berr_set(&err, BERR_INTERNAL, errno, "wait for container %s", c->id);
		return report(err, status_on_error);
	}
	if (daemon_container_exited(d, c, status, &err) < 0)
		cli_report(err);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return status_on_error;
}

/*
 * The detached monitor.
 *
 * The monitor is forked before the command opens the store: SQLite's state
 * of open files does not survive a fork (a connection opened in a child
 * that inherited one fails with "locking protocol"), so the command that
 * makes a monitor never opens the store itself; the monitor does the work
 * and reports.
 */

/* What the monitor tells the command that made it, through a pipe. */
struct monitor_report {
	int32_t failed;
	int32_t kind;
	char id[65];
	uint32_t msg_len;
};

/* What the monitor is to do: start REF, or first create it from the create
 * BODY, named NAME. */
struct monitor_job {
	const char *ref;
	const json_t *body;
	const char *name;
};

static void monitor_send(int fd, const char *id, struct berr *err)
{
	struct monitor_report r = { 0 };

	if (id)
		snprintf(r.id, sizeof(r.id), "%s", id);
	if (err) {
		r.failed = 1;
		r.kind = (int32_t)err->kind;
		r.msg_len = (uint32_t)strlen(err->msg);
	}
	if (fs_write_all(fd, &r, sizeof(r)) == 0 && err)
		fs_write_all(fd, err->msg, r.msg_len);
	close(fd);
}

static int monitor_open(const char *data_root, const char *exec_root, struct image_store **images,
			struct daemon **d, struct berr **err)
{
	if (image_store_open(data_root, images, err) < 0)
		return -1;
	if (daemon_new(*images, exec_root, d, err) < 0) {
		image_store_free(steal_ptr(images));
		return -1;
	}
	return 0;
}

static void monitor_close(struct image_store **images, struct daemon **d)
{
	daemon_free(steal_ptr(d));
	image_store_free(steal_ptr(images));
}

/* The monitor: creates (when asked) and starts the container, reports to
 * REPORT_FD, then waits for the container's end and records it.  Never
 * returns. */
static void monitor_main(struct cli *cli, const struct monitor_job *job, int report_fd)
{
	struct image_store *images = NULL;
	struct daemon_container *c = NULL;
	struct daemon *d = NULL;
	struct berr *err = NULL;
	int null_fd, status = 0;
	pid_t pid = 0;

	setsid();
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
	}
	if (monitor_open(cli->data_root, cli->exec_root, &images, &d, &err) < 0 ||
	    (job->body ? daemon_container_create_api(d, job->name, job->body, &c, NULL, &err)
		       : daemon_container_lookup(d, job->ref, &c, &err)) < 0) {
		monitor_send(report_fd, NULL, err);
		_exit(1);
	}
	/* Docker starts a running container without a word. */
	if (daemon_container_is_running(c)) {
		monitor_send(report_fd, c->id, NULL);
		_exit(0);
	}
	if (daemon_container_start(d, c, &pid, &err) < 0) {
		monitor_send(report_fd, c->id, err);
		_exit(1);
	}
	monitor_send(report_fd, c->id, NULL);
	/* The store stays closed while the container runs, so that its
	 * clean-ups are not held off by this process. */
	monitor_close(&images, &d);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (monitor_open(cli->data_root, cli->exec_root, &images, &d, &err) == 0)
		daemon_container_exited(d, c, status, &err);
	_exit(0);
}

/* Runs JOB under a detached monitor; ID (may be NULL) gets the container's
 * id.  Sets the error the monitor reports. */
static int start_detached(struct cli *cli, const struct monitor_job *job, char id[65],
			  struct berr **err)
{
	struct monitor_report r = { 0 };
	_cleanup_free_ char *msg = NULL;
	int fds[2], status;
	pid_t child;
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start container");
	child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return berr_set(err, BERR_INTERNAL, errno, "start container");
	}
	if (child == 0) {
		/* Forked twice, so that the monitor is nobody's child here. */
		close(fds[0]);
		if (fork() == 0)
			monitor_main(cli, job, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	n = read(fds[0], &r, sizeof(r));
	if (n == sizeof(r) && r.failed) {
		msg = calloc(1, (size_t)r.msg_len + 1);
		if (msg && read(fds[0], msg, r.msg_len) < 0)
			msg[0] = '\0';
	}
	close(fds[0]);
	if (n != sizeof(r))
		return berr_set(err, BERR_INTERNAL, 0, "start container: the monitor failed");
	if (id) {
		r.id[sizeof(r.id) - 1] = '\0';
		memcpy(id, r.id, sizeof(r.id));
	}
	if (r.failed)
		return berr_set(err, (enum berr_kind)r.kind, 0, "%s", msg ? msg : "start failed");
	return 0;
}

/*
 * run and create (their flags: create_flags.c).
 */

/* The docker CLI prints the daemon's warnings before the id. */
static void print_warnings(json_t *warnings)
{
	size_t i;
	json_t *w;

	json_array_foreach (warnings, i, w)
		fprintf(stderr, "WARNING: %s\n", json_string_value(w));
	json_decref(warnings);
}

/* Without a daemon nothing holds a terminal for the container. */
static int no_terminal(const char *command)
{
	fprintf(stderr,
		"berth: %s -t: a terminal needs berthd; run it through the daemon "
		"(DOCKER_HOST=unix:///run/berth.sock docker %s -t ...)\n",
		command, command);
	return 125;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_(create_flags_clear) struct create_flags f = { 0 };
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_json_ json_t *body = NULL;
	json_t *warnings = NULL;
	struct berr *err = NULL;
	int parsed = parse_create("create", argc, argv, &f);

	if (parsed >= 0)
		return parsed;
	if (f.opts.tty)
		return no_terminal("create");
	body = create_body("create", &f);
	if (!body)
		return RUN_ERROR_STATUS;
	d = cli_engine_open(cli);
	if (!d)
		return RUN_ERROR_STATUS;
	if (daemon_container_create_api(d, f.opts.name, body, &c, &warnings, &err) < 0)
		return report(err, RUN_ERROR_STATUS);
	print_warnings(warnings);
	printf("%s\n", c->id);
	return 0;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	_cleanup_(create_flags_clear) struct create_flags f = { 0 };
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_json_ json_t *body = NULL;
	json_t *warnings = NULL;
	struct berr *err = NULL;
	int parsed = parse_create("run", argc, argv, &f);

	if (parsed >= 0)
		return parsed;
	if (f.opts.tty)
		return no_terminal("run");
	body = create_body("run", &f);
	if (!body)
		return RUN_ERROR_STATUS;
	if (f.detach) {
		struct monitor_job job = { .body = body, .name = f.opts.name };
		char id[65] = "";

		if (start_detached(cli, &job, id, &err) < 0) {
			/* A container made but not started stays, as in docker. */
			return report(err, RUN_ERROR_STATUS);
		}
		printf("%s\n", id);
		return 0;
	}
	d = cli_engine_open(cli);
	if (!d)
		return RUN_ERROR_STATUS;
	if (daemon_container_create_api(d, f.opts.name, body, &c, &warnings, &err) < 0)
		return report(err, RUN_ERROR_STATUS);
	print_warnings(warnings);
	/* Without -i the container's input is empty, as docker gives it. */
	if (!f.interactive) {
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null_fd >= 0) {
			dup2(null_fd, STDIN_FILENO);
			close(null_fd);
		}
	}
	fflush(stdout);
	return run_foreground(d, c, RUN_ERROR_STATUS);
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	bool attach = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+aih", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			attach = true;
			break;
		case 'i':
			break;
		case 'h':
			printf("\nUsage:  berth start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
			       "Start one or more stopped containers\n\nOptions:\n"
			       "  -a, --attach   Attach STDOUT/STDERR and forward signals\n");
			return 0;
		default:
			return cli_usage_error("start", "got an unknown flag.");
		}
	}
	if (optind >= argc)
		return cli_usage_error("start", "requires at least 1 argument.");
	if (attach && argc - optind > 1) {
		fprintf(stderr, "Error: you cannot start and attach multiple containers at once\n");
		return 1;
	}
	if (attach) {
		_cleanup_(daemon_container_free_cleanup) struct daemon_container *ctr = NULL;

		d = cli_engine_open(cli);
		if (!d || !(ctr = one_container(d, argv[optind])))
			return 1;
		fflush(stdout);
		return run_foreground(d, ctr, 1);
	}
	/* Without -a the store is opened by the monitors only (see above). */
	for (int i = optind; i < argc; i++) {
		struct monitor_job job = { .ref = argv[i] };
		struct berr *err = NULL;

		if (start_detached(cli, &job, NULL, &err) < 0) {
			status = report(err, 1);
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return status;
}

/*
 * ps.
 */

/* The COMMAND of `docker ps`: Path and Args, an argument with a space in
 * single quotes, as the daemon's list makes it. */
static char *command_of(const json_t *doc, bool trunc)
{
	const json_t *args = json_object_get(doc, "Args");
	const char *path = json_string_value(json_object_get(doc, "Path"));
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ char *cut = NULL;
	size_t size = 0, i;
	json_t *a;
	FILE *f = open_memstream(&line, &size);

	if (!f)
		return NULL;
	fputs(path ? path : "", f);
	json_array_foreach (args, i, a) {
		const char *s = json_string_value(a);

		fprintf(f, strchr(s ? s : "", ' ') ? " '%s'" : " %s", s ? s : "");
	}
	if (fclose(f) != 0)
		return NULL;
	if (trunc) {
		cut = cli_ellipsis(line, 20);
		return cut ? cli_go_quote(cut) : NULL;
	}
	return cli_go_quote(line);
}

static int64_t seconds_since(const char *rfc3339)
{
	struct timespec t;

	if (!rfc3339 || time_parse_rfc3339(rfc3339, &t) < 0)
		return 0;
	return (int64_t)time(NULL) - (int64_t)t.tv_sec;
}

/* The STATUS of `docker ps` (container/state.go's String). */
static void status_text(const struct daemon_container *c, char *out, size_t size)
{
	const json_t *st = json_object_get(c->doc, "State");
	const char *started = json_string_value(json_object_get(st, "StartedAt"));
	const char *finished = json_string_value(json_object_get(st, "FinishedAt"));
	const char *status = daemon_container_status(c);
	char d[CLI_HUMAN_SIZE];

	if (daemon_container_is_running(c)) {
		cli_human_duration(seconds_since(started), d);
		snprintf(out, size, "Up %s%s", d, strcmp(status, "paused") == 0 ? " (Paused)" : "");
	} else if (!started || strcmp(started, "0001-01-01T00:00:00Z") == 0) {
		snprintf(out, size, "Created");
	} else if (!finished || strcmp(finished, "0001-01-01T00:00:00Z") == 0) {
		snprintf(out, size, "%s", "");
	} else {
		cli_human_duration(seconds_since(finished), d);
		snprintf(out, size, "Exited (%d) %s ago", daemon_container_exit_code(c), d);
	}
}

/* One container as `docker ps --format` sees it. */
static json_t *ps_json(const struct daemon_container *c, bool trunc)
{
	const char *image =
		json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Image"));
	_cleanup_free_ char *command = command_of(c->doc, trunc);
	char since[CLI_HUMAN_SIZE + 8], status[64], created[64];
	time_t when = (time_t)c->created;
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	cli_human_since(c->created, since);
	status_text(c, status, sizeof(status));
	return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
			 c->id, (size_t)(trunc ? 12 : 64), "Image", image ? image : c->image_id,
			 "Command", command ? command : "", "CreatedAt", created, "RunningFor",
			 since, "Ports", "", "State", daemon_container_status(c), "Status", status,
			 "Names", c->name + 1, "Labels", "", "Mounts", "", "Networks", "none");
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_NO_TRUNC = 256,
		OPT_FORMAT
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_(cli_table_free_cleanup) struct cli_table *t = NULL;
	struct daemon_container **list = NULL;
	bool all = false, quiet = false, trunc = true;
	const char *format = NULL;
	struct berr *err = NULL;
	size_t n = 0;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+aqh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_NO_TRUNC:
			trunc = false;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'h':
			printf("\nUsage:  berth ps [OPTIONS]\n\nList containers\n\nOptions:\n"
			       "  -a, --all             Show all containers (default shows just "
			       "running)\n"
			       "      --format string   Format output using a custom template\n"
			       "      --no-trunc        Don't truncate output\n"
			       "  -q, --quiet           Only display container IDs\n");
			return 0;
		default:
			return cli_usage_error("ps", "got an unknown flag.");
		}
	}
	if (optind < argc)
		return cli_usage_error("ps", "accepts no arguments.");
	d = cli_engine_open(cli);
	if (!d)
		return 1;
	if (daemon_container_list(d, &list, &n, &err) < 0)
		return cli_report(err);
	t = cli_table_new(quiet ? 1 : 7);
	if (!t)
		goto out;
	if (!quiet && !format) {
		const char *head[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
				       "STATUS",       "PORTS", "NAMES" };

		cli_table_add(t, head);
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_json_ json_t *row = NULL;

		if (!all && !daemon_container_is_running(list[i]))
			continue;
		row = ps_json(list[i], trunc);
		if (!row) {
			status = 1;
			goto out;
		}
		if (format) {
			_cleanup_free_ char *line = NULL;

			if (cli_template_expand(format, row, &line, &err) < 0) {
				status = cli_report(err);
				goto out;
			}
			printf("%s\n", line);
		} else if (quiet) {
			const char *cells[] = { json_string_value(json_object_get(row, "ID")) };

			cli_table_add(t, cells);
		} else {
			const char *cells[7];
			static const char *const keys[] = { "ID",	  "Image",  "Command",
							    "RunningFor", "Status", "Ports",
							    "Names" };

			for (size_t k = 0; k < 7; k++)
				cells[k] = json_string_value(json_object_get(row, keys[k]));
			cli_table_add(t, cells);
		}
	}
	if (!format)
		cli_table_print(t, stdout);
out:
	daemon_container_list_free(list, n);
	return status;
}

/*
 * rm, diff, commit, export, inspect.
 */

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	bool force = false, volumes = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'v':
			volumes = true;
			break;
		case 'h':
			printf("\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\n"
			       "Remove one or more containers\n\nOptions:\n"
			       "  -f, --force     Force the removal of a running container (uses "
			       "SIGKILL)\n"
			       "  -v, --volumes   Remove anonymous volumes associated with the "
			       "container\n");
			return 0;
		default:
			return cli_usage_error("rm", "got an unknown flag.");
		}
	}
	if (optind >= argc)
		return cli_usage_error("rm", "requires at least 1 argument.");
	d = cli_engine_open(cli);
	if (!d)
		return 1;
	for (int i = optind; i < argc; i++) {
		struct berr *err = NULL;

		/* Like docker: report, go on with the next name, fail at the end. */
		if (daemon_container_remove(d, argv[i], force, volumes, NULL, &err) < 0) {
			status = report(err, 1);
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return status;
}

/* Looks up the one container a command takes; NULL with the error
 * printed. */
static struct daemon_container *one_container(struct daemon *d, const char *ref)
{
	struct daemon_container *c = NULL;
	struct berr *err = NULL;

	if (daemon_container_lookup(d, ref, &c, &err) < 0)
		cli_report(err);
	return c;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	struct image_change *changes = NULL;
	struct berr *err = NULL;
	size_t n = 0;

	if (wants_help(argc, argv)) {
		printf("\nUsage:  berth diff CONTAINER\n\nInspect changes to files or directories "
		       "on a container's filesystem\n");
		return 0;
	}
	if (argc != 2)
		return cli_usage_error("diff", "requires exactly 1 argument.");
	d = cli_engine_open(cli);
	if (!d || !(c = one_container(d, argv[1])))
		return 1;
	if (daemon_container_changes(d, c, &changes, &n, &err) < 0)
		return cli_report(err);
	for (size_t i = 0; i < n; i++)
		printf("%c %s\n", image_change_letter(changes[i].kind), changes[i].path);
	image_changes_free(changes, n);
	return 0;
}

int cmd_commit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "author", required_argument, NULL, 'a' },
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "pause", optional_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *ctr = NULL;
	_cleanup_strv_ char **changes = strv_dup(NULL);
	struct daemon_commit_opts copts = { 0 };
	char id[DIGEST_STRING_SIZE];
	struct berr *err = NULL;
	int c;

	if (!changes)
		return 1;
	while ((c = getopt_long(argc, argv, "+a:c:m:ph", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			copts.author = optarg;
			break;
		case 'c':
			if (strv_append(&changes, optarg) < 0)
				return 1;
			break;
		case 'm':
			copts.comment = optarg;
			break;
		case 'p':
			break; /* a running container is always paused */
		case 'h':
			printf("\nUsage:  berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
			       "Create a new image from a container's changes\n\nOptions:\n"
			       "  -a, --author string    Author (e.g., \"John Hannibal Smith "
			       "<hannibal@a-team.com>\")\n"
			       "  -c, --change list      Apply Dockerfile instruction to the "
			       "created "
			       "image\n"
			       "  -m, --message string   Commit message\n");
			return 0;
		default:
			return cli_usage_error("commit", "got an unknown flag.");
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error("commit", "requires at least 1 and at most 2 arguments.");
	copts.reference = argc - optind == 2 ? argv[optind + 1] : NULL;
	copts.changes = (const char *const *)changes;
	copts.n_changes = strv_length(changes);
	d = cli_engine_open(cli);
	if (!d || !(ctr = one_container(d, argv[optind])))
		return 1;
	if (daemon_container_commit(d, ctr, &copts, id, &err) < 0)
		return cli_report(err);
	printf("%s\n", id);
	return 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *ctr = NULL;
	_cleanup_free_ char *tmp = NULL;
	const char *output = NULL;
	struct berr *err = NULL;
	int c, fd = STDOUT_FILENO, rc;

	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			printf("\nUsage:  berth export [OPTIONS] CONTAINER\n\n"
			       "Export a container's filesystem as a tar archive\n\nOptions:\n"
			       "  -o, --output string   Write to a file, instead of STDOUT\n");
			return 0;
		default:
			return cli_usage_error("export", "got an unknown flag.");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("export", "requires exactly 1 argument.");
	if (!output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "Error: cowardly refusing to save to a terminal. Use the -o flag "
				"or redirect\n");
		return 1;
	}
	d = cli_engine_open(cli);
	if (!d || !(ctr = one_container(d, argv[optind])))
		return 1;
	if (output) {
		/* The archive appears under its name only when complete. */
		tmp = str_printf("%s.tmp-XXXXXX", output);
		if (!tmp)
			return 1;
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "Error: failed to export container: create %s: %s\n",
				output, strerror(errno));
			return 1;
		}
		fchmod(fd, 0644);
	}
	rc = daemon_container_export(d, ctr, fd, &err);
	if (output) {
		if (rc == 0 && rename(tmp, output) < 0)
			rc = berr_set(&err, BERR_INTERNAL, errno, "export: write %s", output);
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	if (rc < 0)
		return cli_report(err);
	return 0;
}

int cmd_container_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "type", required_argument, NULL, 't' },
		{ "size", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	_cleanup_json_ json_t *all = json_array();
	const char *format = NULL;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+f:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 't':
		case 's':
			break;
		case 'h':
			printf("\nUsage:  berth container inspect [OPTIONS] CONTAINER "
			       "[CONTAINER...]\n\nDisplay detailed information on one or more "
			       "containers\n\nOptions:\n"
			       "  -f, --format string   Format the output using the given Go "
			       "template\n");
			return 0;
		default:
			return cli_usage_error("container inspect", "got an unknown flag.");
		}
	}
	if (optind >= argc)
		return cli_usage_error("container inspect", "requires at least 1 argument.");
	d = cli_engine_open(cli);
	if (!all || !d)
		return 1;
	for (int i = optind; i < argc; i++) {
		_cleanup_(daemon_container_free_cleanup) struct daemon_container *ctr = NULL;
		struct berr *err = NULL;
		json_t *one = NULL;

		if (daemon_container_lookup(d, argv[i], &ctr, &err) < 0 ||
		    daemon_container_inspect(d, ctr, &one, &err) < 0) {
			/* docker prints what it found, then the errors. */
			status = report(err, 1);
			continue;
		}
		json_array_append_new(all, one);
	}
	if (format && json_array_size(all) == 0)
		return status;
	if (cli_print_inspect(all, format) != 0)
		return 1;
	return status;
}
