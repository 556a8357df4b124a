/* berth-runc exec and ps: a new process in a container, and the list of
 * the processes it holds. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/berth-runc/cli.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"

static int append_env(struct runtime_process *proc, const char *entry, struct berr **err)
{
	size_t n = 0, keylen = strcspn(entry, "=");
	char **grown;

	for (; proc->env && proc->env[n]; n++) {
		/* A variable given again replaces the container's value. */
		if (strncmp(proc->env[n], entry, keylen) == 0 && proc->env[n][keylen] == '=') {
			char *copy = strdup(entry);

			if (copy == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "--env");
			free(proc->env[n]);
			proc->env[n] = copy;
			return 0;
		}
	}
	grown = realloc(proc->env, (n + 2) * sizeof(*grown));
	if (grown == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "--env");
	proc->env = grown;
	proc->env[n] = strdup(entry);
	proc->env[n + 1] = NULL;
	if (proc->env[n] == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "--env");
	return 0;
}

static int parse_user(const char *spec, struct runtime_process *proc, struct berr **err)
{
	char *end;
	unsigned long uid, gid;

	errno = 0;
	uid = strtoul(spec, &end, 10);
	if (errno || end == spec || (*end != '\0' && *end != ':'))
		return berr_set(err, BERR_INVALID, 0, "invalid --user \"%s\": want UID[:GID]",
				spec);
	proc->uid = (uid_t)uid;
	if (*end == ':') {
		const char *g = end + 1;

		gid = strtoul(g, &end, 10);
		if (errno || end == g || *end != '\0')
			return berr_set(err, BERR_INVALID, 0,
					"invalid --user \"%s\": want UID[:GID]", spec);
		proc->gid = (gid_t)gid;
	}
	return 0;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_PID_FILE = 256,
		OPT_CONSOLE,
		OPT_PRESERVE,
		OPT_IGNORED_ARG,
		OPT_IGNORED
	};
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, OPT_PID_FILE },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
		{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
		{ "no-new-privs", no_argument, NULL, OPT_IGNORED },
		{ "process-label", required_argument, NULL, OPT_IGNORED_ARG },
		{ "apparmor", required_argument, NULL, OPT_IGNORED_ARG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(runtime_process_free_cleanup) struct runtime_process *proc = NULL;
	_cleanup_free_ char *process_json = NULL;
	_cleanup_free_ char *console_path = NULL;
	_cleanup_close_ int listen_fd = -1;
	_cleanup_close_ int master = -1;
	struct runtime_exec_opts eo = { 0 };
	const char *process_file = NULL, *cwd = NULL, *user = NULL;
	const char *envs[256];
	size_t n_envs = 0, len = 0;
	bool tty = false, detach = false;
	struct berr *err = NULL;
	const char *id;
	pid_t pid = 0;
	int c;

	while ((c = getopt_long_only(argc, argv, "+p:tw:e:u:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			process_file = optarg;
			break;
		case 't':
			tty = true;
			break;
		case 'w':
			cwd = optarg;
			break;
		case 'e':
			if (n_envs == sizeof(envs) / sizeof(envs[0]))
				return cli_usage_error("exec", "too many --env");
			envs[n_envs++] = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case OPT_PID_FILE:
			eo.pid_file = optarg;
			break;
		case OPT_CONSOLE:
			eo.console_socket = optarg;
			break;
		case OPT_PRESERVE:
			eo.preserve_fds = atoi(optarg);
			break;
		case OPT_IGNORED:
		case OPT_IGNORED_ARG:
			break;
		case 'h':
			puts("usage: berth-runc exec [--process FILE] [--tty] [--cwd DIR] "
			     "[--env K=V]... [--user UID[:GID]] [--detach] [--pid-file FILE] "
			     "[--console-socket SOCK] ID [COMMAND [ARGS...]]");
			return 0;
		default:
			return cli_usage_error("exec", "unknown flag");
		}
	}
	id = optind < argc ? argv[optind] : NULL;
	if (id == NULL)
		return cli_usage_error("exec", "requires a container id");
	if (process_file != NULL) {
		if (fs_read_file(process_file, RUNTIME_SPEC_MAX_SIZE, &process_json, &len, &err) <
			    0 ||
		    runtime_process_parse(process_json, len, &proc, &err) < 0)
			return cli_report(err);
	} else {
		if (optind + 1 >= argc)
			return cli_usage_error("exec", "requires a command (or --process)");
		if (runtime_exec_process_from(&cli->cfg, id, argv + optind + 1, &proc, &err) < 0)
			return cli_report(err);
	}
	if (tty)
		proc->terminal = true;
	if (cwd != NULL) {
		free(proc->cwd);
		proc->cwd = strdup(cwd);
	}
	if (user != NULL && parse_user(user, proc, &err) < 0)
		return cli_report(err);
	for (size_t i = 0; i < n_envs; i++)
		if (append_env(proc, envs[i], &err) < 0)
			return cli_report(err);
	if (detach && proc->terminal && eo.console_socket == NULL)
		return cli_usage_error("exec", "--detach with --tty needs a --console-socket");
	if (!detach) {
		cli_block_signals();
		if (proc->terminal && eo.console_socket == NULL) {
			listen_fd = cli_console_listen(runtime_config_root(&cli->cfg),
						       &console_path, &err);
			if (listen_fd < 0)
				return cli_report(err);
			eo.console_socket = console_path;
		}
	}
	eo.process = proc;
	if (runtime_container_exec(&cli->cfg, id, &eo, &pid, &err) < 0) {
		if (console_path)
			unlink(console_path);
		return cli_report(err);
	}
	if (console_path) {
		unlink(console_path);
		master = cli_console_receive(listen_fd, NULL);
	}
	if (detach)
		return 0;
	return cli_wait_forwarding(pid, master);
}

static bool pid_in(pid_t pid, const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Runs `ps ARGS` and keeps the header and the lines of PIDS, as runc does. */
static int ps_table(char **ps_args, const pid_t *pids, size_t n)
{
	_cleanup_free_ char *out = NULL;
	struct berr *err = NULL;
	int fds[2], status, pid_col = -1;
	char *line, *save = NULL;
	pid_t child;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return cli_report(NULL);
	child = fork();
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp("ps", ps_args);
		_exit(127);
	}
	close(fds[1]);
	if (child < 0 || fs_read_all_fd(fds[0], 16 * 1024 * 1024, &out, NULL, &err) < 0) {
		close(fds[0]);
		return cli_report(err);
	}
	close(fds[0]);
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		berr_set(&err, BERR_INTERNAL, 0, "ps failed");
		return cli_report(err);
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (pid_col < 0) {
			/* The header tells which column holds the pid. */
			_cleanup_free_ char *copy = strdup(line);
			char *tok, *s2 = NULL;
			int col = 0;

			for (tok = copy ? strtok_r(copy, " \t", &s2) : NULL; tok;
			     tok = strtok_r(NULL, " \t", &s2), col++)
				if (strcmp(tok, "PID") == 0)
					pid_col = col;
			if (pid_col < 0) {
				berr_set(&err, BERR_INVALID, 0, "ps output has no PID column");
				return cli_report(err);
			}
			puts(line);
			continue;
		}
		_cleanup_free_ char *copy = strdup(line);
		char *tok, *s2 = NULL;
		int col = 0;

		for (tok = copy ? strtok_r(copy, " \t", &s2) : NULL; tok && col < pid_col;
		     tok = strtok_r(NULL, " \t", &s2))
			col++;
		if (tok && pid_in((pid_t)atoi(tok), pids, n))
			puts(line);
	}
	return 0;
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ pid_t *pids = NULL;
	const char *format = "table";
	struct berr *err = NULL;
	char *ps_args[64] = { "ps" };
	size_t n = 0;
	int c, nargs = 1;

	while ((c = getopt_long_only(argc, argv, "+f:h", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h') {
			puts("usage: berth-runc ps [--format table|json] ID [PS OPTIONS]");
			return 0;
		} else
			return cli_usage_error("ps", "unknown flag");
	}
	if (optind >= argc)
		return cli_usage_error("ps", "requires a container id");
	if (runtime_container_pids(&cli->cfg, argv[optind], &pids, &n, &err) < 0)
		return cli_report(err);
	if (strcmp(format, "json") == 0) {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, json_integer(pids[i]));
		return cli_print_json(arr, JSON_COMPACT);
	}
	if (strcmp(format, "table") != 0)
		return cli_usage_error("ps", "invalid format \"%s\"", format);
	for (int i = optind + 1; i < argc && nargs < 62; i++)
		ps_args[nargs++] = argv[i];
	if (nargs == 1)
		ps_args[nargs++] = "-ef";
	ps_args[nargs] = NULL;
	return ps_table(ps_args, pids, n);
}
