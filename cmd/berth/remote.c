/* The container commands over berthd's Engine API (create, run, start,
 * stop, restart, kill, pause, unpause, wait, rm, rename, ps, inspect), and
 * the helpers the commands over the API share.  Each command parses
 * Docker's flags, makes the calls the docker CLI makes, and prints what it
 * prints. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/berth/remote.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/*
 * Shared helpers.
 */

int api_report(struct berr *err, int status)
{
	fprintf(stderr, "%s\n", err ? err->msg : "unknown error");
	berr_free(err);
	return status;
}

bool api_wants_help(int argc, char **argv, bool short_h)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || (short_h && strcmp(argv[i], "-h") == 0))
			return true;
	}
	return false;
}

int api_help(const char *usage, const char *summary)
{
	printf("\nUsage:  berth %s\n\n%s\n", usage, summary);
	return 0;
}

int api_args_error(const char *command, const char *what)
{
	return cli_usage_error(command, "%s", what);
}

char *api_path(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int api_filter_add(json_t *filters, const char *kv)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *key = NULL;
	json_t *values;

	if (!eq)
		return -1;
	key = strndup(kv, (size_t)(eq - kv));
	if (!key)
		return -1;
	values = json_object_get(filters, key);
	if (!values) {
		values = json_object();
		if (json_object_set_new(filters, key, values) < 0)
			return -1;
	}
	return json_object_set_new(values, eq + 1, json_true());
}

char *api_filters_query(const json_t *filters)
{
	_cleanup_free_ char *s = NULL;
	_cleanup_free_ char *e = NULL;

	if (json_object_size(filters) == 0)
		return strdup("");
	s = json_dumps(filters, JSON_COMPACT);
	e = s ? client_escape(s) : NULL;
	return e ? str_printf("&filters=%s", e) : NULL;
}

void api_time_string(int64_t when, char *out, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}

int api_sink_fd(void *arg, const char *data, size_t len)
{
	return fs_write_all(*(int *)arg, data, len) < 0 ? -1 : 0;
}

int api_sink_demux(void *arg, const char *data, size_t len)
{
	struct api_demux_sink *s = arg;

	if (s->raw)
		return fs_write_all(STDOUT_FILENO, data, len) < 0 ? -1 : 0;
	return client_demux_feed(&s->d, data, len, STDOUT_FILENO, STDERR_FILENO);
}

int api_download(struct cli *cli, const char *command, struct client_req *req, const char *output)
{
	_cleanup_free_ char *tmp = NULL;
	struct client_resp resp;
	struct berr *err = NULL;
	int fd = STDOUT_FILENO, rc;

	if (!output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag or "
				"redirect\n");
		return 1;
	}
	if (output) {
		tmp = str_printf("%s.tmp-XXXXXX", output);
		if (!tmp)
			return 1;
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "failed to %s: open %s: %s\n", command, output,
				strerror(errno));
			return 1;
		}
		fchmod(fd, 0644);
	}
	req->sink = api_sink_fd;
	req->sink_arg = &fd;
	rc = client_do(cli->api, req, &resp, &err);
	if (rc == 0)
		rc = client_check(&resp, &err);
	client_resp_clear(&resp);
	if (output) {
		if (rc == 0 && (fsync(fd) < 0 || rename(tmp, output) < 0))
			rc = berr_set(&err, BERR_INTERNAL, errno, "failed to %s: write %s", command,
				      output);
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	return rc < 0 ? api_report(err, 1) : 0;
}

static int expand_row(const char *fmt, const json_t *row, const char *row_type, char **out,
		      struct berr **err)
{
	if (row_type)
		return cli_template_expand_row_of(fmt, row, row_type, out, err);
	return cli_template_expand_row(fmt, row, out, err);
}

/* FORMAT with docker's replacements: "json" is "{{json .}}", "\t" and
 * "\n" as written by a user become a tab and a newline, spaces around it
 * go. */
static char *prepare_format(const char *format, bool *table)
{
	size_t n;
	char *s, *o;

	if (strcmp(format, "json") == 0)
		format = "{{json .}}";
	*table = strncmp(format, "table", 5) == 0 && (format[5] == '\0' || format[5] == ' ');
	if (*table)
		format += 5;
	while (*format == ' ')
		format++;
	s = strdup(format);
	if (!s)
		return NULL;
	n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	o = s;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			*o++ = p[1] == 't' ? '\t' : '\n';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return s;
}

int api_template_error(struct berr *err)
{
	const char *msg = err->msg;
	static const char prefix[] = "template parsing error: ";

	if (strncmp(msg, prefix, sizeof(prefix) - 1) == 0)
		msg += sizeof(prefix) - 1;
	fprintf(stderr, "failed to parse template: %s\n", msg);
	berr_free(err);
	return 1;
}

/* Splits LINE at its tabs into N cells of CELLS (the rest in the last). */
static void split_cells(char *line, const char **cells, size_t n)
{
	size_t i = 0;

	cells[i++] = line;
	for (char *p = line; *p && i < n; p++)
		if (*p == '\t') {
			*p = '\0';
			cells[i++] = p + 1;
		}
	while (i < n)
		cells[i++] = "";
}

int api_expand_format(const char *format, const json_t *value, char **out, struct berr **err)
{
	_cleanup_free_ char *fmt = NULL;
	bool table;

	fmt = prepare_format(format, &table);
	if (!fmt)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "format");
	return cli_template_expand_rows(fmt, value, out, err);
}

/* api_print_list(), and api_print_rows() with ROW_TYPE. */
static int print_list(const json_t *rows, const json_t *header, const char *format,
		      const char *row_type)
{
	_cleanup_(cli_table_free_cleanup) struct cli_table *t = NULL;
	_cleanup_free_ char *fmt = NULL;
	_cleanup_free_ char *head = NULL;
	_cleanup_free_ const char **cells = NULL;
	struct berr *err = NULL;
	size_t n_cols = 1, i;
	bool table;
	json_t *row;

	fmt = prepare_format(format, &table);
	if (!fmt)
		return 1;
	/* The header also checks the template when there are no rows. */
	if (cli_template_expand_header(fmt, header, &head, &err) < 0)
		return row_type ? api_report(err, 1) : api_template_error(err);
	if (!table) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		/* All or nothing, as docker writes it. */
		if (!f)
			return 1;
		json_array_foreach (rows, i, row) {
			_cleanup_free_ char *line = NULL;

			if (expand_row(fmt, row, row_type, &line, &err) < 0) {
				fclose(f);
				return row_type ? api_report(err, 1) : api_template_error(err);
			}
			fprintf(f, "%s\n", line);
		}
		if (fclose(f) != 0)
			return 1;
		fputs(text, stdout);
		return 0;
	}
	for (const char *p = head; *p; p++)
		n_cols += *p == '\t';
	t = cli_table_new(n_cols);
	cells = calloc(n_cols, sizeof(*cells));
	if (!t || !cells)
		return 1;
	split_cells(head, cells, n_cols);
	cli_table_add(t, cells);
	json_array_foreach (rows, i, row) {
		_cleanup_free_ char *line = NULL;

		if (expand_row(fmt, row, row_type, &line, &err) < 0)
			return row_type ? api_report(err, 1) : api_template_error(err);
		split_cells(line, cells, n_cols);
		if (cli_table_add(t, cells) < 0)
			return 1;
	}
	cli_table_print(t, stdout);
	return 0;
}

int api_print_list(const json_t *rows, const json_t *header, const char *format)
{
	return print_list(rows, header, format, NULL);
}

int api_print_rows(const json_t *rows, const json_t *header, const char *format,
		   const char *row_type)
{
	return print_list(rows, header, format, row_type);
}

char *api_obj_path(const char *prefix, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *e = client_escape(name);
	_cleanup_free_ char *rest = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&rest, fmt, ap);
	va_end(ap);
	if (n < 0) {
		rest = NULL;
		return NULL;
	}
	return e ? str_printf("%s%s%s", prefix, e, rest) : NULL;
}

int each_object(struct cli *cli, const char *prefix, int n, char **names, const char *method,
		const char *suffix)
{
	int status = 0;

	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = api_obj_path(prefix, names[i], "%s", suffix);
		struct berr *err = NULL;

		if (!path || client_json(cli->api, method, path, NULL, NULL, &err) < 0) {
			status = api_report(err, 1);
			continue;
		}
		printf("%s\n", names[i]);
	}
	return status;
}

/*
 * run and create.
 */

/* The error of a create or run as docker prints it. */
static int run_error(const char *command, struct berr *err, int status)
{
	fprintf(stderr, "berth: %s\n\nRun 'berth %s --help' for more information\n",
		err ? err->msg : "unknown error", command);
	berr_free(err);
	return status;
}

/* Docker's status for a start that failed: 127 for a command not found,
 * 126 for one that cannot be run, else 125. */
static int start_status(const struct berr *err)
{
	const char *m = err ? err->msg : "";

	if (strstr(m, "executable file not found") || strstr(m, "no such file or directory") ||
	    strstr(m, "system cannot find the file specified"))
		return 127;
	if (strstr(m, "permission denied") || strstr(m, "is a directory"))
		return 126;
	return API_CLI_STATUS;
}

/* POST /containers/create; *id gets the new container's id (the caller
 * frees it).  Prints the daemon's warnings. */
static int create_container(struct cli *cli, const char *name, const char *image,
			    const json_t *body, char **id, struct berr **err)
{
	_cleanup_free_ char *path = name ? api_obj_path("/containers/create?name=", name, "%s", "")
					 : strdup("/containers/create");
	_cleanup_json_ json_t *out = NULL;
	struct berr *e = NULL;
	size_t i;
	json_t *w;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	if (client_json(cli->api, "POST", path, body, &out, &e) < 0) {
		if (e->kind == BERR_NOT_FOUND && strstr(e->msg, "No such image")) {
			const char *slash = strrchr(image, '/');
			bool tagged = strchr(slash ? slash : image, ':') || strchr(image, '@');

			fprintf(stderr, "Unable to find image '%s%s' locally\n", image,
				tagged ? "" : ":latest");
		}
		*err = e;
		return -1;
	}
	json_array_foreach (json_object_get(out, "Warnings"), i, w)
		fprintf(stderr, "WARNING: %s\n", json_string_value(w));
	*id = strdup(json_string_value(json_object_get(out, "Id")) ?: "");
	return *id ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "create");
}

/* Attaches to container ID (stdin when IN), sends a wait for its next end
 * (or its removal), starts it (when START), copies the streams until they
 * end and returns the container's status; COMMAND names the command for
 * messages. */
struct attach_run {
	const char *command;
	const char *id;
	bool in, tty, auto_remove, start;
	const char *detach_keys;
	bool sig_proxy;
	bool *detached; /* may be NULL */
};

static int attach_and_run(struct cli *cli, const struct attach_run *a)
{
	_cleanup_free_ char *keys_q = a->detach_keys ? client_escape(a->detach_keys) : NULL;
	_cleanup_free_ char *keys_e = keys_q ? str_printf("&detachKeys=%s", keys_q) : NULL;
	_cleanup_free_ char *resize = api_obj_path("/containers/", a->id, "/resize%s", "");
	_cleanup_free_ char *kill = api_obj_path("/containers/", a->id, "/kill%s", "");
	_cleanup_free_ char *attach =
		api_obj_path("/containers/", a->id, "/attach?stream=1&stdout=1&stderr=1%s%s",
			     a->in ? "&stdin=1" : "", keys_e ? keys_e : "");
	_cleanup_free_ char *wait = api_obj_path("/containers/", a->id, "/wait?condition=%s",
						 a->auto_remove ? "removed" : "next-exit");
	_cleanup_free_ char *start = api_obj_path("/containers/", a->id, "/start");
	struct client_req areq = {
		.method = "POST", .path = attach, .body_fd = -1, .upgrade = true
	};
	struct client_req wreq = { .method = "POST", .path = wait, .body_fd = -1 };
	struct client_resp aresp = { .fd = -1 }, wresp = { .fd = -1 };
	_cleanup_json_ json_t *status = NULL;
	struct berr *err = NULL;
	int wfd = -1, code;

	if (!attach || !wait || !start || !resize || !kill)
		return API_CLI_STATUS;
	if (client_do(cli->api, &areq, &aresp, &err) < 0 || client_check(&aresp, &err) < 0 ||
	    aresp.fd < 0) {
		if (!err)
			berr_set(&err, BERR_INTERNAL, 0,
				 "attach: the daemon did not hand over "
				 "the connection");
		client_resp_clear(&aresp);
		return run_error(a->command, err, API_CLI_STATUS);
	}
	if (client_send(cli->api, &wreq, &wfd, &err) < 0) {
		client_resp_clear(&aresp);
		return run_error(a->command, err, API_CLI_STATUS);
	}
	if (a->start && client_json(cli->api, "POST", start, NULL, NULL, &err) < 0) {
		code = start_status(err);
		client_resp_clear(&aresp);
		close(wfd);
		if (a->auto_remove) {
			_cleanup_free_ char *rm = api_obj_path("/containers/", a->id, "?force=1");

			client_json(cli->api, "DELETE", rm, NULL, NULL, NULL);
		}
		return run_error(a->command, err, code);
	}
	fflush(stdout);
	{
		struct api_stream st = {
			.cli = cli,
			.fd = aresp.fd,
			.early = aresp.early,
			.early_len = aresp.early_len,
			.in = a->in,
			.tty = a->tty,
			.resize = resize,
			.detach_keys = a->detach_keys,
			.kill = a->sig_proxy && !a->tty ? kill : NULL,
		};

		if (api_pump(&st) == 1) {
			/* Detached: the container goes on. */
			client_resp_clear(&aresp);
			close(wfd);
			if (a->detached)
				*a->detached = true;
			return 0;
		}
	}
	client_resp_clear(&aresp);
	if (client_finish(cli->api, wfd, &wreq, &wresp, &err) < 0 ||
	    client_check(&wresp, &err) < 0) {
		client_resp_clear(&wresp);
		return api_report(err, API_CLI_STATUS);
	}
	status = json_loadb(wresp.body, wresp.len, 0, NULL);
	client_resp_clear(&wresp);
	code = (int)json_integer_value(json_object_get(status, "StatusCode"));
	return code;
}

/* The create body of F for the API: streams attached as docker attaches
 * them. */
static json_t *api_create_body(const char *command, struct create_flags *f, bool attach)
{
	json_t *body = create_body(command, f);

	if (!body)
		return NULL;
	if (attach) {
		json_object_set_new(body, "AttachStdout", json_true());
		json_object_set_new(body, "AttachStderr", json_true());
	}
	if (f->interactive) {
		json_object_set_new(body, "AttachStdin", json_boolean(attach));
		json_object_set_new(body, "OpenStdin", json_true());
		json_object_set_new(body, "StdinOnce", json_boolean(attach));
	}
	return body;
}

int api_cmd_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_(create_flags_clear) struct create_flags f = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *id = NULL;
	struct berr *err = NULL;
	int parsed = parse_create("create", argc, argv, &f);

	if (parsed >= 0)
		return parsed;
	body = api_create_body("create", &f, true);
	if (!body)
		return API_CLI_STATUS;
	/* docker's create fails with 1 where run fails with 125. */
	if (create_container(cli, f.opts.name, f.opts.image, body, &id, &err) < 0)
		return run_error("create", err, 1);
	printf("%s\n", id);
	return 0;
}

int api_cmd_run(struct cli *cli, int argc, char **argv)
{
	_cleanup_(create_flags_clear) struct create_flags f = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *id = NULL;
	struct berr *err = NULL;
	int parsed = parse_create("run", argc, argv, &f);

	if (parsed >= 0)
		return parsed;
	if (f.opts.tty && f.interactive && !f.detach && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "the input device is not a TTY\n");
		return 1;
	}
	body = api_create_body("run", &f, !f.detach);
	if (!body)
		return API_CLI_STATUS;
	if (create_container(cli, f.opts.name, f.opts.image, body, &id, &err) < 0)
		return run_error("run", err, API_CLI_STATUS);
	if (f.detach) {
		_cleanup_free_ char *start = api_obj_path("/containers/", id, "/start");

		if (!start)
			return API_CLI_STATUS;
		if (client_json(cli->api, "POST", start, NULL, NULL, &err) < 0)
			return run_error("run", err, start_status(err));
		printf("%s\n", id);
		return 0;
	}
	{
		struct attach_run a = {
			.command = "run",
			.id = id,
			.in = f.interactive,
			.tty = f.opts.tty,
			.auto_remove = f.opts.auto_remove,
			.start = true,
			.detach_keys = f.detach_keys,
			.sig_proxy = !f.no_sig_proxy,
		};

		return attach_and_run(cli, &a);
	}
}

/*
 * start, stop, restart, kill, pause, unpause, wait, rm, rename.
 */

/* The container document of REF; NULL with the error set. */
static json_t *inspect_container(struct cli *cli, const char *ref, bool size, struct berr **err)
{
	_cleanup_free_ char *path =
		api_obj_path("/containers/", ref, "/json%s", size ? "?size=1" : "");
	json_t *doc = NULL;

	if (!path) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "inspect");
		return NULL;
	}
	if (client_json(cli->api, "GET", path, NULL, &doc, err) < 0)
		return NULL;
	return doc;
}

int api_cmd_start(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "detach-keys", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool attach = false, in = false;
	const char *keys = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+ai", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			attach = true;
			break;
		case 'i':
			in = true;
			break;
		case 'k':
			keys = optarg;
			break;
		case 'h':
			return api_help(
				"start [OPTIONS] CONTAINER [CONTAINER...]",
				"Start one or more stopped containers\n\nOptions:\n"
				"  -a, --attach               Attach STDOUT/STDERR and "
				"forward signals\n"
				"      --detach-keys string   Override the key sequence for "
				"detaching a container\n"
				"  -i, --interactive          Attach container's STDIN");
		default:
			return cli_flag_error("start", argv, "+ai");
		}
	}
	if (optind >= argc)
		return api_args_error("start", "requires at least 1 argument.");
	if ((attach || in) && argc - optind > 1) {
		fprintf(stderr, "you cannot start and attach multiple containers at once\n");
		return 1;
	}
	if (attach || in) {
		_cleanup_json_ json_t *doc = NULL;
		struct berr *err = NULL;
		const json_t *cfg;
		struct attach_run a = { .command = "start", .start = true };

		doc = inspect_container(cli, argv[optind], false, &err);
		if (!doc)
			return api_report(err, 1);
		cfg = json_object_get(doc, "Config");
		a.id = json_string_value(json_object_get(doc, "Id"));
		a.tty = json_is_true(json_object_get(cfg, "Tty"));
		a.in = in && json_is_true(json_object_get(cfg, "OpenStdin"));
		a.auto_remove = json_is_true(
			json_object_get(json_object_get(doc, "HostConfig"), "AutoRemove"));
		a.sig_proxy = true;
		a.detach_keys = keys;
		if (a.tty && a.in && !isatty(STDIN_FILENO)) {
			fprintf(stderr, "the input device is not a TTY\n");
			return 1;
		}
		return attach_and_run(cli, &a);
	}
	return each_object(cli, "/containers/", argc - optind, argv + optind, "POST", "/start");
}

int api_cmd_attach(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach-keys", required_argument, NULL, 'k' },
		{ "no-stdin", no_argument, NULL, 'n' },
		{ "sig-proxy", optional_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *doc = NULL;
	struct attach_run a = { .command = "attach", .sig_proxy = true };
	struct berr *err = NULL;
	const json_t *st, *cfg;
	bool no_stdin = false, detached = false;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			a.detach_keys = optarg;
			break;
		case 'n':
			no_stdin = true;
			break;
		case 's':
			a.sig_proxy = !optarg || strcmp(optarg, "false") != 0;
			break;
		case 'h':
			return api_help(
				"attach [OPTIONS] CONTAINER",
				"Attach local standard input, output, and error streams "
				"to a running container\n\nOptions:\n"
				"      --detach-keys string   Override the key sequence for "
				"detaching a container\n"
				"      --no-stdin             Do not attach STDIN\n"
				"      --sig-proxy            Proxy all received signals to "
				"the process (default true)");
		default:
			return cli_flag_error("attach", argv, "+");
		}
	}
	if (argc - optind != 1)
		return api_args_error("attach", "requires exactly 1 argument.");
	doc = inspect_container(cli, argv[optind], false, &err);
	if (!doc)
		return api_report(err, 1);
	st = json_object_get(doc, "State");
	cfg = json_object_get(doc, "Config");
	if (!json_is_true(json_object_get(st, "Running"))) {
		fprintf(stderr, "You cannot attach to a stopped container, start it first\n");
		return 1;
	}
	if (json_is_true(json_object_get(st, "Paused"))) {
		fprintf(stderr, "You cannot attach to a paused container, unpause it first\n");
		return 1;
	}
	a.id = json_string_value(json_object_get(doc, "Id"));
	a.tty = json_is_true(json_object_get(cfg, "Tty"));
	a.in = !no_stdin && json_is_true(json_object_get(cfg, "OpenStdin"));
	a.detached = &detached;
	if (a.tty && a.in && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "the input device is not a TTY\n");
		return 1;
	}
	rc = attach_and_run(cli, &a);
	if (detached) {
		/* docker attach ends with the escape as its error. */
		fprintf(stderr, "read escape sequence\n");
		return 1;
	}
	return rc;
}

/* stop and restart: -t/--time (or docker's newer --timeout) and -s. */
static int stop_like(struct cli *cli, const char *command, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *query = NULL;
	const char *timeout = NULL, *signal = NULL;
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+t:s:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			strtol(optarg, &end, 10);
			if (!*optarg || *end) {
				return cli_flag_value_error(
					command,
					"invalid argument \"%s\" for \"-t, --timeout\" flag: "
					"strconv.ParseInt: parsing \"%s\": invalid syntax",
					optarg, optarg);
			}
			timeout = optarg;
			break;
		case 's':
			signal = optarg;
			break;
		case 'h':
			return api_help(strcmp(command, "stop") == 0
						? "stop [OPTIONS] CONTAINER [CONTAINER...]"
						: "restart [OPTIONS] CONTAINER [CONTAINER...]",
					strcmp(command, "stop") == 0
						? "Stop one or more running containers"
						: "Restart one or more containers");
		default:
			return cli_flag_error(command, argv, "+t:s:");
		}
	}
	if (optind >= argc)
		return api_args_error(command, "requires at least 1 argument.");
	{
		_cleanup_free_ char *sig_e = signal ? client_escape(signal) : NULL;

		query = str_printf("/%s%s%s%s%s%s", command, timeout || signal ? "?" : "",
				   timeout ? "t=" : "", timeout ? timeout : "",
				   signal ? (timeout ? "&signal=" : "signal=") : "",
				   sig_e ? sig_e : "");
	}
	if (!query)
		return 1;
	return each_object(cli, "/containers/", argc - optind, argv + optind, "POST", query);
}

int api_cmd_stop(struct cli *cli, int argc, char **argv)
{
	return stop_like(cli, "stop", argc, argv);
}

int api_cmd_restart(struct cli *cli, int argc, char **argv)
{
	return stop_like(cli, "restart", argc, argv);
}

int api_cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *query = NULL;
	const char *signal = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			signal = optarg;
			break;
		case 'h':
			return api_help("kill [OPTIONS] CONTAINER [CONTAINER...]",
					"Kill one or more running containers\n\nOptions:\n"
					"  -s, --signal string   Signal to send to the container");
		default:
			return cli_flag_error("kill", argv, "+s:");
		}
	}
	if (optind >= argc)
		return api_args_error("kill", "requires at least 1 argument.");
	if (signal) {
		_cleanup_free_ char *e = client_escape(signal);

		query = e ? str_printf("/kill?signal=%s", e) : NULL;
	} else {
		query = strdup("/kill");
	}
	if (!query)
		return 1;
	return each_object(cli, "/containers/", argc - optind, argv + optind, "POST", query);
}

/* A command of containers only, without flags: pause, unpause. */
static int plain(struct cli *cli, const char *command, const char *summary, int argc, char **argv,
		 const char *suffix)
{
	if (api_wants_help(argc, argv, false)) {
		_cleanup_free_ char *u = str_printf("%s CONTAINER [CONTAINER...]", command);

		return api_help(u ? u : command, summary);
	}
	if (argc > 1 && argv[1][0] == '-' && argv[1][1]) {
		if (argv[1][1] == '-')
			return cli_flag_value_error(command, "unknown flag: %.*s",
						    (int)strcspn(argv[1], "="), argv[1]);
		return cli_flag_value_error(command, "unknown shorthand flag: '%c' in %s",
					    argv[1][1], argv[1]);
	}
	if (argc < 2)
		return api_args_error(command, "requires at least 1 argument.");
	return each_object(cli, "/containers/", argc - 1, argv + 1, "POST", suffix);
}

int api_cmd_pause(struct cli *cli, int argc, char **argv)
{
	return plain(cli, "pause", "Pause all processes within one or more containers", argc, argv,
		     "/pause");
}

int api_cmd_unpause(struct cli *cli, int argc, char **argv)
{
	return plain(cli, "unpause", "Unpause all processes within one or more containers", argc,
		     argv, "/unpause");
}

int api_cmd_wait(struct cli *cli, int argc, char **argv)
{
	int status = 0;

	if (api_wants_help(argc, argv, false))
		return api_help("wait CONTAINER [CONTAINER...]",
				"Block until one or more containers stop, then print their exit "
				"codes");
	if (argc < 2)
		return api_args_error("wait", "requires at least 1 argument.");
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *path = api_obj_path("/containers/", argv[i], "/wait");
		_cleanup_json_ json_t *out = NULL;
		struct berr *err = NULL;

		if (!path || client_json(cli->api, "POST", path, NULL, &out, &err) < 0) {
			status = api_report(err, 1);
			continue;
		}
		printf("%lld\n", (long long)json_integer_value(json_object_get(out, "StatusCode")));
		fflush(stdout);
	}
	return status;
}

int api_cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "link", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false, volumes = false, link = false;
	char query[64];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+fvl", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'v':
			volumes = true;
			break;
		case 'l':
			link = true;
			break;
		case 'h':
			return api_help(
				"rm [OPTIONS] CONTAINER [CONTAINER...]",
				"Remove one or more containers\n\nOptions:\n"
				"  -f, --force     Force the removal of a running container "
				"(uses SIGKILL)\n"
				"  -l, --link      Remove the specified link\n"
				"  -v, --volumes   Remove anonymous volumes associated with "
				"the container");
		default:
			return cli_flag_error("rm", argv, "+fvl");
		}
	}
	if (optind >= argc)
		return api_args_error("rm", "requires at least 1 argument.");
	snprintf(query, sizeof(query), "?force=%d&v=%d&link=%d", force, volumes, link);
	return each_object(cli, "/containers/", argc - optind, argv + optind, "DELETE", query);
}

int api_cmd_rename(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *path = NULL;
	struct berr *err = NULL;

	if (api_wants_help(argc, argv, false))
		return api_help("rename CONTAINER NEW_NAME", "Rename a container");
	if (argc != 3)
		return api_args_error("rename", "requires exactly 2 arguments.");
	if (!*argv[2]) {
		fprintf(stderr, "Error: neither old nor new names may be empty\n");
		return 1;
	}
	name = client_escape(argv[2]);
	path = name ? api_obj_path("/containers/", argv[1], "/rename?name=%s", name) : NULL;
	if (!path || client_json(cli->api, "POST", path, NULL, NULL, &err) < 0)
		return api_report(err, 1);
	return 0;
}

/*
 * ps.
 */

/* "0.0.0.0:8080->80/tcp, 443/tcp", as docker's DisplayablePorts. */
static char *ports_text(const json_t *ports)
{
	_cleanup_free_ char *out = NULL;
	size_t size = 0, i;
	json_t *p;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	json_array_foreach (ports, i, p) {
		const char *ip = json_string_value(json_object_get(p, "IP"));
		const char *type = json_string_value(json_object_get(p, "Type"));
		json_int_t priv = json_integer_value(json_object_get(p, "PrivatePort"));
		json_int_t pub = json_integer_value(json_object_get(p, "PublicPort"));

		if (i)
			fputs(", ", f);
		if (pub)
			fprintf(f, "%s:%lld->%lld/%s", ip ? ip : "0.0.0.0", (long long)pub,
				(long long)priv, type ? type : "tcp");
		else
			fprintf(f, "%lld/%s", (long long)priv, type ? type : "tcp");
	}
	if (fclose(f) != 0)
		return NULL;
	return steal_ptr(&out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of OBJ (or "k=v" of its string members) joined by ", ". */
static char *joined(const json_t *obj, bool with_values, const char *sep)
{
	const char **keys = calloc(json_object_size(obj) + 1, sizeof(*keys));
	_cleanup_free_ char *out = NULL;
	size_t size = 0, n = 0;
	const char *k;
	json_t *v;
	FILE *f;

	if (!keys)
		return NULL;
	json_object_foreach ((json_t *)obj, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	f = open_memstream(&out, &size);
	for (size_t i = 0; f && i < n; i++) {
		fprintf(f, "%s%s", i ? sep : "", keys[i]);
		if (with_values)
			fprintf(f, "=%s", json_string_value(json_object_get(obj, keys[i])) ?: "");
	}
	free(keys);
	if (!f || fclose(f) != 0)
		return NULL;
	return steal_ptr(&out);
}

json_t *api_container_row(const json_t *c, bool trunc)
{
	const char *id = json_string_value(json_object_get(c, "Id")) ?: "";
	const char *image = json_string_value(json_object_get(c, "Image")) ?: "";
	const char *command = json_string_value(json_object_get(c, "Command")) ?: "";
	int64_t created = json_integer_value(json_object_get(c, "Created"));
	_cleanup_free_ char *cmd_cut = trunc ? cli_ellipsis(command, 20) : NULL;
	_cleanup_free_ char *cmd = cli_go_quote(cmd_cut ? cmd_cut : command);
	_cleanup_free_ char *ports = ports_text(json_object_get(c, "Ports"));
	_cleanup_free_ char *labels = joined(json_object_get(c, "Labels"), true, ",");
	_cleanup_free_ char *networks = joined(
		json_object_get(json_object_get(c, "NetworkSettings"), "Networks"), false, ",");
	_cleanup_free_ char *names = NULL;
	_cleanup_free_ char *mounts = NULL;
	char since[CLI_HUMAN_SIZE + 8], at[64], img[80], size[2 * CLI_HUMAN_SIZE + 16], local[24];
	size_t nsize = 0, n_local = 0, i;
	json_t *v;
	FILE *f;

	f = open_memstream(&names, &nsize);
	if (!f)
		return NULL;
	json_array_foreach (json_object_get(c, "Names"), i, v) {
		const char *n = json_string_value(v) ?: "";

		if (*n == '/')
			n++;
		if (strchr(n, '/'))
			continue; /* a link's name */
		fprintf(f, "%s%s", ftell(f) ? "," : "", n);
	}
	if (fclose(f) != 0)
		return NULL;
	f = open_memstream(&mounts, &nsize);
	if (!f)
		return NULL;
	json_array_foreach (json_object_get(c, "Mounts"), i, v) {
		const char *n = json_string_value(json_object_get(v, "Name"));
		_cleanup_free_ char *cut = NULL;

		if (!n || !*n)
			n = json_string_value(json_object_get(v, "Source")) ?: "";
		cut = trunc ? cli_ellipsis(n, 15) : NULL;
		fprintf(f, "%s%s", i ? "," : "", cut ? cut : n);
	}
	if (fclose(f) != 0)
		return NULL;
	if (trunc && strncmp(image, "sha256:", 7) == 0)
		snprintf(img, sizeof(img), "%.12s", image + 7);
	else if (trunc && strchr(image, '@'))
		snprintf(img, sizeof(img), "%.*s", (int)strcspn(image, "@"), image);
	else
		snprintf(img, sizeof(img), "%s", image);
	cli_human_since(created, since);
	api_time_string(created, at, sizeof(at));
	{
		char rw[CLI_HUMAN_SIZE], root[CLI_HUMAN_SIZE];
		int64_t srw = json_integer_value(json_object_get(c, "SizeRw"));
		int64_t sroot = json_integer_value(json_object_get(c, "SizeRootFs"));

		cli_human_size(srw, rw);
		cli_human_size(sroot, root);
		if (sroot > 0)
			snprintf(size, sizeof(size), "%s (virtual %s)", rw, root);
		else
			snprintf(size, sizeof(size), "%s", rw);
	}
	if (!cmd || !ports || !labels || !networks || !names || !mounts)
		return NULL;
	json_array_foreach (json_object_get(c, "Mounts"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "Driver")) ?: "", "local") == 0)
			n_local++;
	snprintf(local, sizeof(local), "%zu", n_local);
	/* Keys in order: docker marshals a row's methods as a map. */
	return json_pack("{s:s, s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:s, "
			 "s:s}",
			 "Command", cmd, "CreatedAt", at, "ID", id,
			 (size_t)(trunc ? (strlen(id) < 12 ? strlen(id) : 12) : strlen(id)),
			 "Image", img, "Labels", labels, "LocalVolumes", local, "Mounts", mounts,
			 "Names", names, "Networks", networks, "Platform", "Ports", ports,
			 "RunningFor", since, "Size", size, "State",
			 json_string_value(json_object_get(c, "State")) ?: "", "Status",
			 json_string_value(json_object_get(c, "Status")) ?: "");
}

json_t *api_container_header(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
			 "s:s}",
			 "ID", "CONTAINER ID", "Image", "IMAGE", "Command", "COMMAND", "CreatedAt",
			 "CREATED AT", "RunningFor", "CREATED", "Ports", "PORTS", "State", "STATE",
			 "Status", "STATUS", "Size", "SIZE", "Names", "NAMES", "Labels", "LABELS",
			 "Mounts", "MOUNTS", "Networks", "NETWORKS", "LocalVolumes",
			 "LOCAL VOLUMES", "Platform", "PLATFORM");
}

int api_cmd_ps(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_NO_TRUNC = 256,
		OPT_FORMAT
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "last", required_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' },
		{ "size", no_argument, NULL, 's' },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = "+aqn:lsf:";
	_cleanup_json_ json_t *filters = json_object();
	_cleanup_json_ json_t *list = NULL;
	_cleanup_json_ json_t *rows = json_array();
	_cleanup_json_ json_t *header = NULL;
	_cleanup_free_ char *fq = NULL;
	_cleanup_free_ char *path = NULL;
	bool all = false, quiet = false, size = false, trunc = true;
	const char *format = NULL;
	struct berr *err = NULL;
	long last = -1;
	char *end;
	size_t i;
	json_t *c;
	int opt;

	if (!filters || !rows)
		return 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'n':
			last = strtol(optarg, &end, 10);
			if (!*optarg || *end) {
				return cli_flag_value_error(
					"ps",
					"invalid argument \"%s\" for \"-n, --last\" flag: "
					"strconv.ParseInt: parsing \"%s\": invalid syntax",
					optarg, optarg);
			}
			break;
		case 'l':
			last = 1;
			break;
		case 's':
			size = true;
			break;
		case OPT_NO_TRUNC:
			trunc = false;
			break;
		case 'f':
			if (api_filter_add(filters, optarg) < 0) {
				fprintf(stderr, "bad format of filter (expected name=value)\n");
				return API_CLI_STATUS;
			}
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'h':
			return api_help(
				"ps [OPTIONS]",
				"List containers\n\nOptions:\n"
				"  -a, --all             Show all containers (default shows "
				"just running)\n"
				"  -f, --filter filter   Filter output based on conditions "
				"provided\n"
				"      --format string   Format output using a custom "
				"template\n"
				"  -n, --last int        Show n last created containers "
				"(includes all states) (default -1)\n"
				"  -l, --latest          Show the latest created container "
				"(includes all states)\n"
				"      --no-trunc        Don't truncate output\n"
				"  -q, --quiet           Only display container IDs\n"
				"  -s, --size            Display total file sizes");
		default:
			return cli_flag_error("ps", argv, shortopts);
		}
	}
	if (optind < argc)
		return api_args_error("ps", "accepts no arguments.");
	if (format && strstr(format, ".Size"))
		size = true;
	fq = api_filters_query(filters);
	if (!fq)
		return 1;
	{
		char limit[32] = "";

		if (last > 0)
			snprintf(limit, sizeof(limit), "&limit=%ld", last);
		path = str_printf("/containers/json?all=%d&size=%d%s%s", all, size, limit, fq);
	}
	if (!path)
		return 1;
	if (client_json(cli->api, "GET", path, NULL, &list, &err) < 0)
		return api_report(err, 1);
	json_array_foreach (list, i, c)
		if (json_array_append_new(rows, api_container_row(c, trunc)) < 0)
			return 1;
	header = api_container_header();
	if (!header)
		return 1;
	if (!format && quiet)
		format = "{{.ID}}";
	if (!format)
		format = size ? "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{."
				"Status}}\\t{{.Ports}}\\t{{.Names}}\\t{{.Size}}"
			      : "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{."
				"Status}}\\t{{.Ports}}\\t{{.Names}}";
	return api_print_list(rows, header, format);
}

/*
 * inspect.
 */

/* The flags of the inspect commands; the names follow at argv[optind]. */
static int inspect_flags(const char *command, int argc, char **argv, const char **format,
			 const char **type, bool *size)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "type", required_argument, NULL, 't' },
		{ "size", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:s", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*format = optarg;
			break;
		case 't':
			if (!type)
				return cli_flag_error(command, argv, "+f:s");
			*type = optarg;
			break;
		case 's':
			*size = true;
			break;
		case 'h':
			return api_help(
				"inspect [OPTIONS] NAME|ID [NAME|ID...]",
				"Return low-level information on Docker objects\n\n"
				"Options:\n"
				"  -f, --format string   Format output using a custom "
				"template\n"
				"  -s, --size            Display total file sizes if the type "
				"is container\n"
				"      --type string     Return JSON for specified type");
		default:
			return cli_flag_error(command, argv, "+f:s");
		}
	}
	if (optind >= argc)
		return api_args_error(command, "requires at least 1 argument.");
	return -1;
}

/* Inspects each name as TYPE ("container", "image", "volume" or NULL for
 * the first that has it, in docker's order) and prints the documents
 * found, then the errors. */
static int inspect_all(struct cli *cli, int n, char **names, const char *type, const char *format,
		       bool size)
{
	_cleanup_json_ json_t *all = json_array();
	_cleanup_strv_ char **errors = NULL;
	int status = 0;

	if (!all)
		return 1;
	if (format) {
		/* A template that does not parse fails before any call. */
		struct berr *err = NULL;

		/* docker's status for a template of inspect that does not parse. */
		if (cli_template_check(format, &err) < 0)
			return api_report(err, 64);
	}
	for (int i = 0; i < n; i++) {
		json_t *doc = NULL;
		struct berr *err = NULL;

		if (!type || strcmp(type, "container") == 0) {
			doc = inspect_container(cli, names[i], size, &err);
			if (!doc && err->kind != BERR_NOT_FOUND) {
				strv_append(&errors, err->msg);
				berr_free(err);
				continue;
			}
		}
		if (!doc && (!type || strcmp(type, "image") == 0)) {
			_cleanup_free_ char *path = api_obj_path("/images/", names[i], "/json");

			berr_free(steal_ptr(&err));
			if (path && client_json(cli->api, "GET", path, NULL, &doc, &err) < 0 &&
			    err->kind != BERR_NOT_FOUND) {
				strv_append(&errors, err->msg);
				berr_free(err);
				continue;
			}
		}
		if (!doc && (!type || strcmp(type, "volume") == 0)) {
			_cleanup_free_ char *path = api_obj_path("/volumes/", names[i], "%s", "");

			berr_free(steal_ptr(&err));
			/* With --type volume, the daemon's own words, as
			 * docker prints them. */
			if (path && client_json(cli->api, "GET", path, NULL, &doc, &err) < 0 &&
			    (type || err->kind != BERR_NOT_FOUND)) {
				strv_append(&errors, err->msg);
				berr_free(err);
				continue;
			}
		}
		if (!doc) {
			_cleanup_free_ char *msg = NULL;

			berr_free(err);
			msg = type ? str_printf("Error: No such %s: %s", type, names[i])
				   : str_printf("Error: No such object: %s", names[i]);
			strv_append(&errors, msg ? msg : "Error: no memory");
			continue;
		}
		json_array_append_new(all, doc);
	}
	/* A template with nothing to expand prints nothing; "json" prints
	 * "[]". */
	if (!(format && strcmp(format, "json") != 0 && json_array_size(all) == 0) &&
	    cli_print_inspect(all, format) != 0)
		status = 1;
	for (size_t i = 0; errors && errors[i]; i++) {
		fprintf(stderr, "%s\n", errors[i]);
		status = 1;
	}
	return status;
}

int api_cmd_inspect(struct cli *cli, int argc, char **argv)
{
	const char *format = NULL, *type = NULL;
	bool size = false;
	int r = inspect_flags("inspect", argc, argv, &format, &type, &size);

	if (r >= 0)
		return r;
	if (type && strcmp(type, "container") != 0 && strcmp(type, "image") != 0 &&
	    strcmp(type, "volume") != 0) {
		fprintf(stderr, "\"%s\" is not a valid value for --type\n", type);
		return 1;
	}
	return inspect_all(cli, argc - optind, argv + optind, type, format, size);
}

int api_cmd_container_inspect(struct cli *cli, int argc, char **argv)
{
	const char *format = NULL;
	bool size = false;
	int r = inspect_flags("container inspect", argc, argv, &format, NULL, &size);

	if (r >= 0)
		return r;
	return inspect_all(cli, argc - optind, argv + optind, "container", format, size);
}

int api_cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
	const char *format = NULL;
	bool size = false;
	int r = inspect_flags("image inspect", argc, argv, &format, NULL, &size);

	if (r >= 0)
		return r;
	return inspect_all(cli, argc - optind, argv + optind, "image", format, size);
}
