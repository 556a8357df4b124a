/* The commands over the Engine API that move a container's output, files
 * and processes: logs, exec, top, diff, commit, export and cp. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/berth/remote.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

/* A --since or --until value as the daemon takes it: a Go duration
 * ("10m", "1h30m") back from now, an RFC 3339 time, or unix seconds as
 * given. */
static char *timestamp(const char *s)
{
	struct timespec ts;
	double total = 0;
	const char *p = s;

	if (time_parse_rfc3339(s, &ts) == 0)
		return str_printf("%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		double unit;

		if (end == p)
			break;
		p = end;
		if (strncmp(p, "ms", 2) == 0)
			unit = 1e-3, p += 2;
		else if (strncmp(p, "us", 2) == 0)
			unit = 1e-6, p += 2;
		else if (strncmp(p, "ns", 2) == 0)
			unit = 1e-9, p += 2;
		else if (*p == 'h')
			unit = 3600, p++;
		else if (*p == 'm')
			unit = 60, p++;
		else if (*p == 's')
			unit = 1, p++;
		else
			break;
		total += v * unit;
		if (!*p) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			return str_printf("%.9f", (double)now.tv_sec + now.tv_nsec / 1e9 - total);
		}
	}
	return strdup(s);
}

int api_cmd_logs(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_SINCE = 256,
		OPT_UNTIL,
		OPT_TAIL
	};
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "details", no_argument, NULL, 'd' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "tail", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *since = NULL;
	_cleanup_free_ char *until = NULL;
	_cleanup_free_ char *since_e = NULL;
	_cleanup_free_ char *until_e = NULL;
	_cleanup_free_ char *tail_e = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *ipath = NULL;
	_cleanup_json_ json_t *doc = NULL;
	struct api_demux_sink sink = { 0 };
	struct client_req req = {
		.method = "GET", .body_fd = -1, .sink = api_sink_demux, .sink_arg = &sink
	};
	struct client_resp resp;
	const char *tail = "all";
	bool follow = false, ts = false, details = false;
	struct berr *err = NULL;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+ftn:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 't':
			ts = true;
			break;
		case 'd':
			details = true;
			break;
		case OPT_SINCE:
			free(since);
			since = timestamp(optarg);
			break;
		case OPT_UNTIL:
			free(until);
			until = timestamp(optarg);
			break;
		case 'n':
			tail = optarg;
			break;
		case 'h':
			return api_help(
				"logs [OPTIONS] CONTAINER",
				"Fetch the logs of a container\n\nOptions:\n"
				"      --details        Show extra details provided to logs\n"
				"  -f, --follow         Follow log output\n"
				"      --since string   Show logs since timestamp (e.g. "
				"\"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 "
				"minutes)\n"
				"  -n, --tail string    Number of lines to show from the end "
				"of the logs (default \"all\")\n"
				"  -t, --timestamps     Show timestamps\n"
				"      --until string   Show logs before a timestamp (e.g. "
				"\"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 "
				"minutes)");
		default:
			return cli_flag_error("logs", argv, "+ftn:");
		}
	}
	if (argc - optind != 1)
		return api_args_error("logs", "requires exactly 1 argument.");
	ipath = api_obj_path("/containers/", argv[optind], "/json");
	if (!ipath || client_json(cli->api, "GET", ipath, NULL, &doc, &err) < 0)
		return api_report(err, 1);
	sink.raw = json_is_true(json_object_get(json_object_get(doc, "Config"), "Tty"));
	since_e = since ? client_escape(since) : strdup("");
	until_e = until ? client_escape(until) : strdup("");
	tail_e = client_escape(tail);
	if (!since_e || !until_e || !tail_e)
		return 1;
	path = api_obj_path("/containers/", argv[optind],
			    "/logs?stdout=1&stderr=1&follow=%d&timestamps=%d&details=%d&tail=%s"
			    "%s%s%s%s",
			    follow, ts, details, tail_e, since ? "&since=" : "", since_e,
			    until ? "&until=" : "", until_e);
	if (!path)
		return 1;
	req.path = path;
	fflush(stdout);
	rc = client_do(cli->api, &req, &resp, &err);
	if (rc == 0)
		rc = client_check(&resp, &err);
	client_resp_clear(&resp);
	return rc < 0 ? api_report(err, 1) : 0;
}

/*
 * exec.
 */

/* Appends the variables of env file PATH to ENV as docker reads them
 * (comments and empty lines skipped, a name alone takes berth's value or
 * is left out); -1 with docker's message printed. */
static int read_env_file(const char *path, json_t *env)
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!in) {
		const char *why = strerror(errno);

		fprintf(stderr, "open %s: %c%s\n", path, tolower((unsigned char)why[0]), why + 1);
		return -1;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		char *s = line;

		while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		if (strchr(s, '=')) {
			json_array_append_new(env, json_string(s));
		} else if (getenv(s)) {
			_cleanup_free_ char *kv = str_printf("%s=%s", s, getenv(s));

			if (kv)
				json_array_append_new(env, json_string(kv));
		}
	}
	free(line);
	fclose(in);
	return 0;
}

int api_cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, 'E' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "privileged", no_argument, NULL, 'P' },
		{ "detach-keys", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = "+die:tu:w:";
	_cleanup_json_ json_t *env = json_array();
	_cleanup_json_ json_t *file_env = json_array();
	_cleanup_json_ json_t *cmd = json_array();
	_cleanup_json_ json_t *body = NULL;
	_cleanup_json_ json_t *created = NULL;
	_cleanup_json_ json_t *info = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *start = NULL;
	_cleanup_free_ char *ipath = NULL;
	_cleanup_free_ char *start_body = NULL;
	_cleanup_free_ char *resize = NULL;
	const char *workdir = NULL, *user = NULL, *exec_id, *keys = NULL;
	bool detach = false, in = false, tty = false, privileged = false;
	struct berr *err = NULL;
	int c;

	if (!env || !file_env || !cmd)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			detach = true;
			break;
		case 'i':
			in = true;
			break;
		case 't':
			tty = true;
			break;
		case 'e': {
			const char *v = strchr(optarg, '=') ? NULL : getenv(optarg);
			_cleanup_free_ char *kv = v ? str_printf("%s=%s", optarg, v) : NULL;

			json_array_append_new(env, json_string(kv ? kv : optarg));
			break;
		}
		case 'w':
			workdir = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'P':
			privileged = true;
			break;
		case 'k':
			keys = optarg;
			break;
		case 'E':
			if (read_env_file(optarg, file_env) < 0)
				return 1;
			break;
		case 'h':
			return api_help(
				"exec [OPTIONS] CONTAINER COMMAND [ARG...]",
				"Execute a command in a running container\n\nOptions:\n"
				"  -d, --detach           Detached mode: run command in the "
				"background\n"
				"      --detach-keys string   Override the key sequence "
				"for detaching a container\n"
				"  -e, --env list         Set environment variables\n"
				"      --env-file list    Read in a file of environment "
				"variables\n"
				"  -i, --interactive      Keep STDIN open even if not "
				"attached\n"
				"      --privileged       Give extended privileges to the "
				"command\n"
				"  -t, --tty              Allocate a pseudo-TTY\n"
				"  -u, --user string      Username or UID (format: "
				"\"<name|uid>[:<group|gid>]\")\n"
				"  -w, --workdir string   Working directory inside the "
				"container");
		default:
			return cli_flag_error("exec", argv, shortopts);
		}
	}
	if (argc - optind < 2)
		return api_args_error("exec", "requires at least 2 arguments.");
	if (tty && in && !detach && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "the input device is not a TTY\n");
		return 1;
	}
	for (int i = optind + 1; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	/* docker puts the files' variables before those of -e. */
	if (json_array_extend(file_env, env) < 0 || json_array_clear(env) < 0 ||
	    json_array_extend(env, file_env) < 0)
		return 1;
	body = json_pack("{s:b, s:b, s:b, s:b, s:O, s:O, s:b}", "AttachStdin", in && !detach,
			 "AttachStdout", !detach, "AttachStderr", !detach, "Tty", tty, "Cmd", cmd,
			 "Env", env, "Privileged", privileged);
	if (!body)
		return 1;
	if (workdir)
		json_object_set_new(body, "WorkingDir", json_string(workdir));
	if (user)
		json_object_set_new(body, "User", json_string(user));
	if (keys)
		json_object_set_new(body, "DetachKeys", json_string(keys));
	path = api_obj_path("/containers/", argv[optind], "/exec");
	if (!path || client_json(cli->api, "POST", path, body, &created, &err) < 0)
		return api_report(err, 1);
	exec_id = json_string_value(json_object_get(created, "Id"));
	if (!exec_id)
		return 1;
	start = api_obj_path("/exec/", exec_id, "/start");
	ipath = api_obj_path("/exec/", exec_id, "/json");
	resize = api_obj_path("/exec/", exec_id, "/resize%s", "");
	if (!start || !ipath || !resize)
		return 1;
	if (detach) {
		_cleanup_json_ json_t *sb = json_pack("{s:b, s:b}", "Detach", 1, "Tty", tty);

		if (client_json(cli->api, "POST", start, sb, NULL, &err) < 0)
			return api_report(err, 1);
		return 0;
	}
	start_body = str_printf("{\"Detach\":false,\"Tty\":%s}", tty ? "true" : "false");
	{
		struct client_req req = { .method = "POST",
					  .path = start,
					  .body = start_body,
					  .body_len = start_body ? strlen(start_body) : 0,
					  .content_type = "application/json",
					  .body_fd = -1,
					  .upgrade = true };
		struct client_resp resp;
		struct api_demux_sink out = { .raw = tty };
		int rc;

		if (!start_body)
			return 1;
		rc = client_do(cli->api, &req, &resp, &err);
		if (rc == 0)
			rc = client_check(&resp, &err);
		if (rc < 0) {
			client_resp_clear(&resp);
			return api_report(err, 1);
		}
		fflush(stdout);
		if (resp.fd >= 0) {
			struct api_stream st = {
				.cli = cli,
				.fd = resp.fd,
				.early = resp.early,
				.early_len = resp.early_len,
				.in = in,
				.tty = tty,
				.resize = resize,
				.detach_keys = keys,
			};

			if (api_pump(&st) == 1) {
				/* docker exec ends with the escape as its error. */
				client_resp_clear(&resp);
				fprintf(stderr, "read escape sequence\n");
				return 1;
			}
		} else if (resp.len) {
			api_sink_demux(&out, resp.body, resp.len);
		}
		client_resp_clear(&resp);
	}
	if (client_json(cli->api, "GET", ipath, NULL, &info, &err) < 0)
		return api_report(err, 1);
	return (int)json_integer_value(json_object_get(info, "ExitCode"));
}

/*
 * top, diff, commit, export.
 */

int api_cmd_top(struct cli *cli, int argc, char **argv)
{
	_cleanup_(cli_table_free_cleanup) struct cli_table *t = NULL;
	_cleanup_json_ json_t *out = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *args = NULL;
	_cleanup_free_ const char **cells = NULL;
	struct berr *err = NULL;
	json_t *titles, *row;
	size_t n, i;

	if (api_wants_help(argc, argv, false))
		return api_help("top CONTAINER [ps OPTIONS]",
				"Display the running processes of a container");
	if (argc < 2)
		return api_args_error("top", "requires at least 1 argument.");
	if (argc > 2) {
		size_t size = 0;
		FILE *f = open_memstream(&args, &size);

		if (!f)
			return 1;
		for (int k = 2; k < argc; k++)
			fprintf(f, "%s%s", k > 2 ? " " : "", argv[k]);
		if (fclose(f) != 0)
			return 1;
	}
	{
		_cleanup_free_ char *e = args ? client_escape(args) : NULL;

		path = api_obj_path("/containers/", argv[1], "/top%s%s", e ? "?ps_args=" : "",
				    e ? e : "");
	}
	if (!path || client_json(cli->api, "GET", path, NULL, &out, &err) < 0)
		return api_report(err, 1);
	titles = json_object_get(out, "Titles");
	n = json_array_size(titles);
	t = cli_table_new(n ? n : 1);
	cells = calloc(n + 1, sizeof(*cells));
	if (!t || !cells)
		return 1;
	for (i = 0; i < n; i++)
		cells[i] = json_string_value(json_array_get(titles, i)) ?: "";
	cli_table_add(t, cells);
	json_array_foreach (json_object_get(out, "Processes"), i, row) {
		for (size_t k = 0; k < n; k++)
			cells[k] = json_string_value(json_array_get(row, k)) ?: "";
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	return 0;
}

int api_cmd_diff(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *out = NULL;
	_cleanup_free_ char *path = NULL;
	struct berr *err = NULL;
	size_t i;
	json_t *ch;

	if (api_wants_help(argc, argv, false))
		return api_help("diff CONTAINER", "Inspect changes to files or directories on a "
						  "container's filesystem");
	if (argc != 2)
		return api_args_error("diff", "requires exactly 1 argument.");
	path = api_obj_path("/containers/", argv[1], "/changes");
	if (!path || client_json(cli->api, "GET", path, NULL, &out, &err) < 0)
		return api_report(err, 1);
	json_array_foreach (out, i, ch) {
		static const char kinds[] = "CAD";
		json_int_t k = json_integer_value(json_object_get(ch, "Kind"));

		printf("%c %s\n", k >= 0 && k < 3 ? kinds[k] : '?',
		       json_string_value(json_object_get(ch, "Path")) ?: "");
	}
	return 0;
}

/* Appends "&KEY=VALUE" (escaped) to *Q. */
static int query_add(char **q, const char *key, const char *value)
{
	_cleanup_free_ char *e = client_escape(value);
	char *n = e ? str_printf("%s&%s=%s", *q ? *q : "", key, e) : NULL;

	if (!n)
		return -1;
	free(*q);
	*q = n;
	return 0;
}

/* Splits "repo:tag" (a ':' after the last '/'); TAG is NULL without. */
static char *split_tag(const char *ref, const char **tag)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');

	*tag = colon ? colon + 1 : NULL;
	return colon ? strndup(ref, (size_t)(colon - ref)) : strdup(ref);
}

int api_cmd_commit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "author", required_argument, NULL, 'a' },
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "pause", optional_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *q = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *out = NULL;
	struct berr *err = NULL;
	bool pause = true;
	int c, r = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+a:c:m:p", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			r = query_add(&q, "author", optarg);
			break;
		case 'c':
			r = query_add(&q, "changes", optarg);
			break;
		case 'm':
			r = query_add(&q, "comment", optarg);
			break;
		case 'p':
			pause = !optarg || strcmp(optarg, "false") != 0;
			break;
		case 'h':
			return api_help(
				"commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
				"Create a new image from a container's changes\n\n"
				"Options:\n"
				"  -a, --author string    Author\n"
				"  -c, --change list      Apply Dockerfile instruction to the "
				"created image\n"
				"  -m, --message string   Commit message\n"
				"  -p, --pause            Pause container during commit "
				"(default true)");
		default:
			return cli_flag_error("commit", argv, "+a:c:m:p");
		}
		if (r < 0)
			return 1;
	}
	if (argc - optind < 1 || argc - optind > 2)
		return api_args_error("commit", "requires at least 1 and at most 2 arguments.");
	if (query_add(&q, "container", argv[optind]) < 0 ||
	    query_add(&q, "pause", pause ? "1" : "0") < 0)
		return 1;
	if (argc - optind == 2) {
		const char *tag;
		_cleanup_free_ char *repo = split_tag(argv[optind + 1], &tag);

		if (!repo || query_add(&q, "repo", repo) < 0 ||
		    (tag && query_add(&q, "tag", tag) < 0))
			return 1;
	}
	path = str_printf("/commit?%s", q + 1);
	if (!path || client_json(cli->api, "POST", path, NULL, &out, &err) < 0)
		return api_report(err, 1);
	printf("%s\n", json_string_value(json_object_get(out, "Id")) ?: "");
	return 0;
}

int api_cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *path = NULL;
	struct client_req req = { .method = "GET", .body_fd = -1 };
	const char *output = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			return api_help(
				"export [OPTIONS] CONTAINER",
				"Export a container's filesystem as a tar archive\n\n"
				"Options:\n"
				"  -o, --output string   Write to a file, instead of STDOUT");
		default:
			return cli_flag_error("export", argv, "+o:");
		}
	}
	if (argc - optind != 1)
		return api_args_error("export", "requires exactly 1 argument.");
	path = api_obj_path("/containers/", argv[optind], "/export");
	if (!path)
		return 1;
	req.path = path;
	return api_download(cli, "export", &req, output);
}

/*
 * cp: the archives go through tar(1).
 */

/* Runs tar with ARGV, its stdin (TO_TAR) or stdout (FROM_TAR) a pipe
 * whose other end *fd gets. */
static pid_t spawn_tar(char *const *argv, bool to_tar, int *fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(to_tar ? p[0] : p[1], to_tar ? STDIN_FILENO : STDOUT_FILENO);
		execvp("tar", argv);
		_exit(127);
	}
	close(to_tar ? p[0] : p[1]);
	*fd = to_tar ? p[1] : p[0];
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The stat of PATH in container CTR (X-Docker-Container-Path-Stat is not
 * needed: a HEAD's status says whether it is there). */
static int container_path_exists(struct cli *cli, const char *ctr, const char *path, bool *is_dir,
				 struct berr **err)
{
	_cleanup_free_ char *e = client_escape(path);
	_cleanup_free_ char *p =
		e ? api_obj_path("/containers/", ctr, "/archive?path=%s", e) : NULL;
	struct client_req req = { .method = "HEAD", .path = p, .body_fd = -1 };
	struct client_resp resp;
	int rc;

	*is_dir = false;
	if (!p)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cp");
	if (client_do(cli->api, &req, &resp, err) < 0)
		return -1;
	rc = resp.status == 200 ? 1 : resp.status == 404 ? 0 : -1;
	if (rc < 0)
		client_check(&resp, err);
	client_resp_clear(&resp);
	if (rc == 1) {
		/* Whether it is a directory: GET of "path/." answers only for
		 * one. */
		_cleanup_free_ char *d = str_printf("%s/.", path);
		_cleanup_free_ char *de = d ? client_escape(d) : NULL;
		_cleanup_free_ char *dp =
			de ? api_obj_path("/containers/", ctr, "/archive?path=%s", de) : NULL;
		struct client_req dreq = { .method = "HEAD", .path = dp, .body_fd = -1 };

		if (dp && client_do(cli->api, &dreq, &resp, NULL) == 0) {
			*is_dir = resp.status == 200;
			client_resp_clear(&resp);
		}
	}
	return rc;
}

static int copy_from(struct cli *cli, const char *ctr, const char *src, const char *dst)
{
	_cleanup_free_ char *e = client_escape(src);
	_cleanup_free_ char *p =
		e ? api_obj_path("/containers/", ctr, "/archive?path=%s", e) : NULL;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_free_ char *dst_copy = strdup(dst);
	_cleanup_free_ char *src_copy = strdup(src);
	struct client_req req = { .method = "GET", .path = p, .body_fd = -1 };
	struct client_resp resp;
	struct berr *err = NULL;
	struct stat st;
	const char *into;
	bool rename_to = false;
	int fd = -1, rc;
	pid_t pid;

	if (!p || !dst_copy || !src_copy)
		return 1;
	if (strcmp(dst, "-") == 0) {
		req.sink = api_sink_fd;
		fd = STDOUT_FILENO;
		req.sink_arg = &fd;
		rc = client_do(cli->api, &req, &resp, &err);
		if (rc == 0)
			rc = client_check(&resp, &err);
		client_resp_clear(&resp);
		return rc < 0 ? api_report(err, 1) : 0;
	}
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		into = dst;
	} else {
		/* Extracted beside DST, then renamed to it. */
		tmp = str_printf("%s/.berth-cp-XXXXXX", dirname(dst_copy));
		if (!tmp || !mkdtemp(tmp)) {
			fprintf(stderr, "Error: cannot write %s: %s\n", dst, strerror(errno));
			return 1;
		}
		into = tmp;
		rename_to = true;
	}
	{
		char *targv[] = { "tar", "-x", "-f", "-", "-C", (char *)into, "--no-same-owner",
				  NULL };

		if (geteuid() == 0)
			targv[6] = NULL;
		pid = spawn_tar(targv, true, &fd);
	}
	if (pid < 0) {
		if (tmp)
			rmdir(tmp);
		return api_report(NULL, 1);
	}
	req.sink = api_sink_fd;
	req.sink_arg = &fd;
	rc = client_do(cli->api, &req, &resp, &err);
	if (rc == 0)
		rc = client_check(&resp, &err);
	client_resp_clear(&resp);
	close(fd);
	if (reap(pid) < 0 && rc == 0)
		rc = berr_set(&err, BERR_INTERNAL, 0, "Error: extracting the archive failed");
	if (rc == 0 && rename_to) {
		_cleanup_free_ char *from = str_printf("%s/%s", tmp, basename(src_copy));

		if (!from || rename(from, dst) < 0)
			rc = berr_set(&err, BERR_INTERNAL, errno, "Error: cannot write %s", dst);
	}
	if (tmp) {
		char *rmargv[] = { "rm", "-rf", tmp, NULL };
		pid_t rp = fork();

		if (rp == 0) {
			execvp("rm", rmargv);
			_exit(127);
		}
		if (rp > 0)
			reap(rp);
	}
	return rc < 0 ? api_report(err, 1) : 0;
}

static int copy_to(struct cli *cli, const char *src, const char *ctr, const char *dst)
{
	_cleanup_free_ char *src_dir = strdup(src);
	_cleanup_free_ char *src_base = strdup(src);
	_cleanup_free_ char *dst_dir = strdup(dst);
	_cleanup_free_ char *dst_base = strdup(dst);
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *transform = NULL;
	struct client_req req = { .method = "PUT",
				  .content_type = "application/x-tar",
				  .body_fd = -1 };
	struct client_resp resp;
	struct berr *err = NULL;
	const char *target;
	bool is_dir = false;
	struct stat st;
	int fd = -1, exists, rc;
	pid_t pid = -1;

	if (!src_dir || !src_base || !dst_dir || !dst_base)
		return 1;
	if (strcmp(src, "-") != 0 && lstat(src, &st) < 0) {
		fprintf(stderr, "lstat %s: %s\n", src, strerror(errno));
		return 1;
	}
	exists = container_path_exists(cli, ctr, dst, &is_dir, &err);
	if (exists < 0)
		return api_report(err, 1);
	if (strcmp(src, "-") == 0) {
		if (!exists || !is_dir) {
			fprintf(stderr,
				"Error response from daemon: destination \"%s:%s\" must "
				"be a directory\n",
				ctr, dst);
			return 1;
		}
		target = dst;
		fd = STDIN_FILENO;
	} else {
		const char *base = basename(src_base);
		char *targv[] = {
			"tar", "-c", "-f", "-", "-C", dirname(src_dir), NULL, NULL, NULL
		};

		if (exists && is_dir) {
			target = dst;
			targv[6] = (char *)base;
		} else {
			/* A new name: the entry is renamed as it goes. */
			target = dirname(dst_dir);
			transform = str_printf("--transform=s|^%s|%s|", base, basename(dst_base));
			if (!transform)
				return 1;
			targv[6] = transform;
			targv[7] = (char *)base;
		}
		pid = spawn_tar(targv, false, &fd);
		if (pid < 0)
			return 1;
	}
	{
		_cleanup_free_ char *e = client_escape(target);

		path = e ? api_obj_path("/containers/", ctr, "/archive?path=%s", e) : NULL;
	}
	if (!path) {
		if (pid > 0) {
			close(fd);
			reap(pid);
		}
		return 1;
	}
	req.path = path;
	req.body_fd = fd;
	rc = client_do(cli->api, &req, &resp, &err);
	if (rc == 0)
		rc = client_check(&resp, &err);
	client_resp_clear(&resp);
	if (pid > 0) {
		close(fd);
		if (reap(pid) < 0 && rc == 0)
			rc = berr_set(&err, BERR_INTERNAL, 0, "Error: archiving %s failed", src);
	}
	return rc < 0 ? api_report(err, 1) : 0;
}

/* "CONTAINER:PATH": *ctr gets the container (the caller frees it) and
 * *path the path; false for a local path. */
static bool container_ref(const char *arg, char **ctr, const char **path)
{
	const char *colon = strchr(arg, ':');

	if (!colon || arg[0] == '/' || arg[0] == '.' ||
	    (strchr(arg, '/') && strchr(arg, '/') < colon))
		return false;
	*ctr = strndup(arg, (size_t)(colon - arg));
	*path = colon + 1;
	return *ctr != NULL;
}

int api_cmd_cp(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "archive", no_argument, NULL, 'a' },
		{ "follow-link", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *src_ctr = NULL;
	_cleanup_free_ char *dst_ctr = NULL;
	const char *src_path = NULL, *dst_path = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+aLq", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'L':
		case 'q':
			break;
		case 'h':
			return api_help("cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
					"\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
					"Copy files/folders between a container and the local "
					"filesystem");
		default:
			return cli_flag_error("cp", argv, "+aLq");
		}
	}
	if (argc - optind != 2)
		return api_args_error("cp", "requires exactly 2 arguments.");
	container_ref(argv[optind], &src_ctr, &src_path);
	container_ref(argv[optind + 1], &dst_ctr, &dst_path);
	if (src_ctr && dst_ctr) {
		fprintf(stderr, "copying between containers is not supported\n");
		return 1;
	}
	if (!src_ctr && !dst_ctr) {
		fprintf(stderr, "must specify at least one container source\n");
		return 1;
	}
	if (src_ctr)
		return copy_from(cli, src_ctr, src_path, argv[optind + 1]);
	return copy_to(cli, argv[optind], dst_ctr, dst_path);
}
