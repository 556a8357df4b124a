/* The container commands: run, create, start, ps, rm, diff, commit, export
 * and container inspect, each over the container engine (daemon/), printing
 * what docker prints.  Until the daemon exists, the process that waits for a
 * container is berth itself: in the foreground for `run` and `start -a`, and
 * a detached monitor process (a small stand-in for a shim) for `start` and
 * `run -d`, which records the container's end. */
#include <ctype.h>
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
		    daemon_container_remove(d, c->id, true, &err) < 0)
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
 * run and create.
 */

void create_flags_clear(struct create_flags *f)
{
	strv_free(f->env);
	strv_free(f->cap_add);
	strv_free(f->cap_drop);
	strv_free(f->security_opt);
	strv_free(f->binds);
	strv_free(f->tmpfs);
	strv_free(f->env_file);
	json_decref(f->more_config);
	json_decref(f->more_host);
}

static int create_usage(const char *command)
{
	bool run = strcmp(command, "run") == 0;

	printf("\nUsage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n%s\n\nOptions:\n", command,
	       run ? "Create and run a new container from an image" : "Create a new container");
	printf("      --add-host list             Add a custom host-to-IP mapping (host:ip)\n"
	       "      --cap-add list              Add Linux capabilities\n"
	       "      --cap-drop list             Drop Linux capabilities\n"
	       "  -c, --cpu-shares int            CPU shares (relative weight)\n"
	       "      --cpus decimal              Number of CPUs\n"
	       "      --cpuset-cpus string        CPUs in which to allow execution (0-3, 0,1)\n");
	if (run)
		printf("  -d, --detach                    Run container in background and print "
		       "container ID\n");
	printf("      --detach-keys string        Override the key sequence for detaching a "
	       "container\n"
	       "      --device list               Add a host device to the container\n"
	       "      --dns list                  Set custom DNS servers\n"
	       "      --entrypoint string         Overwrite the default ENTRYPOINT of the image\n"
	       "  -e, --env list                  Set environment variables\n"
	       "      --env-file list             Read in a file of environment variables\n"
	       "      --health-cmd string         Command to run to check health\n"
	       "      --health-interval duration  Time between running the check (ms|s|m|h)\n"
	       "      --health-retries int        Consecutive failures needed to report "
	       "unhealthy\n"
	       "      --health-start-period duration  Start period for the container to "
	       "initialize before starting health-retries countdown (ms|s|m|h)\n"
	       "      --health-timeout duration   Maximum time to allow one check to run "
	       "(ms|s|m|h)\n"
	       "  -h, --hostname string           Container host name\n"
	       "      --init                      Run an init inside the container that forwards "
	       "signals and reaps processes\n"
	       "  -i, --interactive               Keep STDIN open even if not attached\n"
	       "  -l, --label list                Set meta data on a container\n"
	       "      --label-file list           Read in a line delimited file of labels\n"
	       "      --link list                 Add link to another container\n"
	       "  -m, --memory bytes              Memory limit\n"
	       "      --memory-swap bytes         Swap limit equal to memory plus swap: '-1' to "
	       "enable unlimited swap\n"
	       "      --mount mount               Attach a filesystem mount to the container\n"
	       "      --name string               Assign a name to the container\n"
	       "      --network string            Connect a container to a network (none, host, "
	       "bridge)\n"
	       "      --no-healthcheck            Disable any container-specified HEALTHCHECK\n"
	       "      --oom-kill-disable          Disable OOM Killer\n"
	       "      --pids-limit int            Tune container pids limit (set -1 for "
	       "unlimited)\n"
	       "      --privileged                Give extended privileges to this container\n"
	       "  -p, --publish list              Publish a container's port(s) to the host\n"
	       "  -P, --publish-all               Publish all exposed ports to random ports\n"
	       "      --read-only                 Mount the container's root filesystem as read "
	       "only\n"
	       "      --restart string            Restart policy to apply when a container exits "
	       "(default \"no\")\n"
	       "      --rm                        Automatically remove the container when it "
	       "exits\n"
	       "      --security-opt list         Security Options\n");
	if (run)
		printf("      --sig-proxy                 Proxy received signals to the process "
		       "(default true)\n");
	printf("      --stop-signal string        Signal to stop the container\n"
	       "      --stop-timeout int          Timeout (in seconds) to stop a container\n"
	       "      --tmpfs list                Mount a tmpfs directory\n"
	       "  -t, --tty                       Allocate a pseudo-TTY\n"
	       "      --ulimit ulimit             Ulimit options\n"
	       "  -u, --user string               Username or UID (format: "
	       "<name|uid>[:<group|gid>])\n"
	       "  -v, --volume list               Bind mount a volume\n"
	       "      --volumes-from list         Mount volumes from the specified container(s)\n"
	       "  -w, --workdir string            Working directory inside the container\n");
	return 0;
}

/* "KEY" alone takes berth's own value of KEY, as the docker CLI does. */
static int add_env(struct create_flags *f, const char *e)
{
	const char *v = strchr(e, '=') ? NULL : getenv(e);
	_cleanup_free_ char *kv = v ? str_printf("%s=%s", e, v) : NULL;

	return strv_append(&f->env, kv ? kv : e);
}

/* Appends NAME as the docker CLI sends it: "CAP_" and upper case, but
 * "ALL". */
static int add_cap(char ***list, const char *name)
{
	bool all = strcasecmp(name, "ALL") == 0;
	_cleanup_free_ char *s =
		str_printf("%s%s", all || strncasecmp(name, "CAP_", 4) == 0 ? "" : "CAP_", name);

	if (!s)
		return -1;
	for (char *p = s; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return strv_append(list, s);
}

/* "64m", "1g", "1048576": the docker CLI's memory sizes (units.RAMInBytes). */
static int parse_bytes(const char *s, int64_t *out)
{
	char *end;
	double v;
	int64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'b':
	case 'B':
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*end && *end != 'b' && *end != 'B')
		end++;
	if ((*end == 'b' || *end == 'B') && end[1] == '\0')
		end++;
	if (*end)
		return -1;
	*out = (int64_t)(v * (double)mult);
	return 0;
}

static json_t *strv_to_json(char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* The create body of F: its options, then the HostConfig members of its
 * flags.  NULL (reported) on failure. */
json_t *create_body(const char *command, const struct create_flags *f)
{
	struct berr *err = NULL;
	json_t *body = daemon_create_opts_body(&f->opts, &err);
	json_t *hc = json_object_get(body, "HostConfig");
	int64_t memory = 0;
	bool ok = true;

	if (!body) {
		cli_report(err);
		return NULL;
	}
	if (f->memory && parse_bytes(f->memory, &memory) < 0) {
		fprintf(stderr,
			"invalid argument \"%s\" for \"-m, --memory\" flag: invalid size: '%s'\n"
			"See 'berth %s --help'.\n",
			f->memory, f->memory, command);
		json_decref(body);
		return NULL;
	}
	if (f->cap_add)
		ok &= json_object_set_new(hc, "CapAdd", strv_to_json(f->cap_add)) == 0;
	if (f->cap_drop)
		ok &= json_object_set_new(hc, "CapDrop", strv_to_json(f->cap_drop)) == 0;
	if (f->security_opt)
		ok &= json_object_set_new(hc, "SecurityOpt", strv_to_json(f->security_opt)) == 0;
	if (f->binds)
		ok &= json_object_set_new(hc, "Binds", strv_to_json(f->binds)) == 0;
	if (f->memory)
		ok &= json_object_set_new(hc, "Memory", json_integer(memory)) == 0;
	if (f->network)
		ok &= json_object_set_new(hc, "NetworkMode", json_string(f->network)) == 0;
	if (f->read_only)
		ok &= json_object_set_new(hc, "ReadonlyRootfs", json_true()) == 0;
	if (f->privileged)
		ok &= json_object_set_new(hc, "Privileged", json_true()) == 0;
	if (f->init)
		ok &= json_object_set_new(hc, "Init", json_true()) == 0;
	if (f->tmpfs) {
		json_t *t = json_object();

		/* "/run:rw,size=64m": the path, then its mount options. */
		for (size_t i = 0; t && f->tmpfs[i]; i++) {
			_cleanup_free_ char *path = strdup(f->tmpfs[i]);
			char *colon = path ? strchr(path, ':') : NULL;

			if (colon)
				*colon++ = '\0';
			ok &= path &&
			      json_object_set_new(t, path, json_string(colon ? colon : "")) == 0;
		}
		ok &= json_object_set_new(hc, "Tmpfs", t) == 0;
	}
	if (ok)
		ok &= create_more_merge(f, body) == 0;
	if (!ok) {
		berr_set(&err, BERR_INTERNAL, ENOMEM, "create body");
		cli_report(err);
		json_decref(body);
		return NULL;
	}
	return body;
}

/* Parses the flags of run and create; returns -1 when the command goes on
 * (IMAGE at argv[optind]), else the status to leave with. */
int parse_create(const char *command, int argc, char **argv, struct create_flags *f)
{
	enum {
		OPT_NAME = 256,
		OPT_RM,
		OPT_ENTRYPOINT,
		OPT_CAP_ADD,
		OPT_CAP_DROP,
		OPT_SECURITY_OPT,
		OPT_READ_ONLY,
		OPT_INIT,
		OPT_TMPFS,
		OPT_NETWORK,
		OPT_PRIVILEGED,
		OPT_DETACH_KEYS,
		OPT_SIG_PROXY,
		OPT_HELP
	};
	static const struct option opts[] = {
		{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
		{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
		{ "detach", no_argument, NULL, 'd' },
		{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "env", required_argument, NULL, 'e' },
		{ "hostname", required_argument, NULL, 'h' },
		{ "init", no_argument, NULL, OPT_INIT },
		{ "interactive", no_argument, NULL, 'i' },
		{ "memory", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "net", required_argument, NULL, OPT_NETWORK },
		{ "privileged", no_argument, NULL, OPT_PRIVILEGED },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
		{ "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
		{ "tmpfs", required_argument, NULL, OPT_TMPFS },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "volume", required_argument, NULL, 'v' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool run = strcmp(command, "run") == 0;
	const char *shortopts = run ? "+de:h:im:tu:v:w:p:Pl:c:" : "+e:h:im:tu:v:w:p:Pl:c:";
	struct option all[sizeof(opts) / sizeof(opts[0]) + 40];
	size_t n_all = 0;
	int c, r = 0;

	for (size_t i = 0; opts[i].name; i++)
		all[n_all++] = opts[i];
	for (size_t i = 0; create_more_opts[i].name && n_all + 1 < sizeof(all) / sizeof(all[0]);
	     i++)
		all[n_all++] = create_more_opts[i];
	all[n_all] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0; /* the errors are docker's, below */
	while ((c = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!run)
				return cli_usage_error(command, "unknown flag: --detach");
			f->detach = true;
			break;
		case OPT_ENTRYPOINT:
			f->opts.entrypoint = optarg;
			break;
		case 'e':
			r = add_env(f, optarg);
			break;
		case 'h':
			f->opts.hostname = optarg;
			break;
		case 'i':
			f->interactive = true;
			break;
		case 'm':
			f->memory = optarg;
			break;
		case OPT_NAME:
			f->opts.name = optarg;
			break;
		case OPT_RM:
			f->opts.auto_remove = true;
			break;
		case 't':
			f->opts.tty = true;
			break;
		case 'u':
			f->opts.user = optarg;
			break;
		case 'v':
			r = strv_append(&f->binds, optarg);
			break;
		case 'w':
			f->opts.working_dir = optarg;
			break;
		case OPT_CAP_ADD:
			r = add_cap(&f->cap_add, optarg);
			break;
		case OPT_CAP_DROP:
			r = add_cap(&f->cap_drop, optarg);
			break;
		case OPT_SECURITY_OPT:
			r = strv_append(&f->security_opt, optarg);
			break;
		case OPT_TMPFS:
			r = strv_append(&f->tmpfs, optarg);
			break;
		case OPT_READ_ONLY:
			f->read_only = true;
			break;
		case OPT_INIT:
			f->init = true;
			break;
		case OPT_NETWORK:
			f->network = optarg;
			break;
		case OPT_PRIVILEGED:
			f->privileged = true;
			break;
		case OPT_DETACH_KEYS:
			f->detach_keys = optarg;
			break;
		case OPT_SIG_PROXY:
			if (!run)
				return cli_usage_error(command, "unknown flag: --sig-proxy");
			f->no_sig_proxy = optarg && strcmp(optarg, "false") == 0;
			break;
		case OPT_HELP:
			return create_usage(command);
		default:
			r = create_more_flag(f, command, c, optarg);
			if (r == 1)
				return cli_flag_error(command, argv, shortopts);
			if (r > 0)
				return r;
		}
		if (r < 0)
			return RUN_ERROR_STATUS;
	}
	if (optind >= argc) {
		cli_usage_error(command, "requires at least 1 argument.");
		return RUN_ERROR_STATUS;
	}
	r = create_more_finish(f, command);
	if (r > 0)
		return r;
	f->opts.image = argv[optind];
	f->opts.cmd = argv + optind + 1;
	f->opts.env = f->env;
	return -1;
}

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

/* Go's strconv.Quote of S, for the COMMAND column; the caller frees it. */
char *cli_go_quote(const char *s)
{
	size_t size = 0;
	char *out = NULL;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* docker's Ellipsis: at most MAX characters, the last one "…" when cut. */
char *cli_ellipsis(const char *s, size_t max)
{
	size_t chars = 0, cut = 0;

	for (size_t i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			cut = i;
		chars++;
	}
	if (chars <= max)
		return strdup(s);
	return str_printf("%.*s…", (int)cut, s);
}

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
	bool force = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'v':
			break; /* no volumes yet */
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
		if (daemon_container_remove(d, argv[i], force, &err) < 0) {
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
