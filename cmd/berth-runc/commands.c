/* The container commands of berth-runc: flags in, one runtime call, the
 * result out in runc's formats. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/berth-runc/cli.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"

/* Reads the one container id a command takes after its flags. */
static const char *need_id(const char *command, int argc, char **argv)
{
	if (optind >= argc) {
		cli_usage_error(command, "requires exactly 1 argument (a container id)");
		return NULL;
	}
	return argv[optind];
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

int cli_print_json(json_t *obj, size_t flags)
{
	char *text;

	if (obj == NULL)
		return cli_report(NULL);
	text = json_dumps(obj, flags);
	json_decref(obj);
	if (text == NULL)
		return 1;
	puts(text);
	free(text);
	return 0;
}

/* parse_create's answer when it printed the usage. */
#define PARSE_HELP (-1)

/* Flags shared by create and run. */
struct create_flags {
	struct runtime_create_opts opts;
	bool detach;
};

static int parse_create(const char *command, int argc, char **argv, struct create_flags *f)
{
	enum {
		OPT_PID_FILE = 256,
		OPT_CONSOLE,
		OPT_NO_PIVOT,
		OPT_PRESERVE,
		OPT_IGNORED
	};
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, OPT_PID_FILE },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
		{ "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
		{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
		{ "detach", no_argument, NULL, 'd' },
		{ "no-new-keyring", no_argument, NULL, OPT_IGNORED },
		{ "no-subreaper", no_argument, NULL, OPT_IGNORED },
		{ "keep", no_argument, NULL, OPT_IGNORED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long_only(argc, argv, "+b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			f->opts.bundle = optarg;
			break;
		case OPT_PID_FILE:
			f->opts.pid_file = optarg;
			break;
		case OPT_CONSOLE:
			f->opts.console_socket = optarg;
			break;
		case OPT_NO_PIVOT:
			f->opts.no_pivot = true;
			break;
		case OPT_PRESERVE:
			f->opts.preserve_fds = atoi(optarg);
			if (f->opts.preserve_fds < 0)
				return cli_usage_error(command, "invalid --preserve-fds \"%s\"",
						       optarg);
			break;
		case 'd':
			f->detach = true;
			break;
		case OPT_IGNORED:
			break;
		case 'h':
			printf("usage: berth-runc %s [--bundle DIR] [--pid-file FILE] "
			       "[--console-socket SOCK] [--no-pivot] [--preserve-fds N]%s ID\n",
			       command, strcmp(command, "run") == 0 ? " [--detach]" : "");
			return PARSE_HELP;
		default:
			return cli_usage_error(command, "unknown flag");
		}
	}
	f->opts.id = need_id(command, argc, argv);
	return f->opts.id ? 0 : 1;
}

/* Makes this process safe to be seen from the container it creates: not
 * dumpable, and running from a sealed copy of the binary when the
 * container could get past that (see runtime_bundle_needs_sealed_binary). */
static int seal_for_bundle(struct cli *cli, const char *bundle)
{
	struct berr *err = NULL;

	prctl(PR_SET_DUMPABLE, 0);
	if (runtime_bundle_needs_sealed_binary(bundle) &&
	    runtime_reexec_sealed(cli->argv, &err) < 0)
		return cli_report(err);
	return 0;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct create_flags f = { 0 };
	struct berr *err = NULL;
	int parsed = parse_create("create", argc, argv, &f);

	if (parsed != 0)
		return parsed == PARSE_HELP ? 0 : 1;
	if (seal_for_bundle(cli, f.opts.bundle) != 0)
		return 1;
	if (runtime_container_create(&cli->cfg, &f.opts, NULL, &err) < 0)
		return cli_report(err);
	return 0;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct create_flags f = { 0 };
	struct berr *err = NULL;
	_cleanup_free_ char *console_path = NULL;
	_cleanup_close_ int listen_fd = -1;
	_cleanup_close_ int master = -1;
	pid_t pid = 0;
	int status;
	int parsed = parse_create("run", argc, argv, &f);

	if (parsed != 0)
		return parsed == PARSE_HELP ? 0 : 1;
	if (seal_for_bundle(cli, f.opts.bundle) != 0)
		return 1;
	if (!f.detach) {
		/* The container's process is our child: wait for it. */
		cli_block_signals();
		if (f.opts.console_socket == NULL) {
			listen_fd = cli_console_listen(runtime_config_root(&cli->cfg),
						       &console_path, &err);
			if (listen_fd < 0)
				return cli_report(err);
			f.opts.console_socket = console_path;
		}
	}
	if (runtime_container_create(&cli->cfg, &f.opts, &pid, &err) < 0) {
		if (console_path)
			unlink(console_path);
		return cli_report(err);
	}
	if (console_path) {
		unlink(console_path);
		/* Only a terminal process connected to the socket. */
		master = cli_console_receive(listen_fd, NULL);
	}
	if (runtime_container_start(&cli->cfg, f.opts.id, &err) < 0) {
		runtime_container_delete(&cli->cfg, f.opts.id, true, NULL);
		return cli_report(err);
	}
	if (f.detach)
		return 0;
	blog_debug("run %s: started, waiting", f.opts.id);
	status = cli_wait_forwarding(pid, master);
	blog_debug("run %s: exited with %d, deleting", f.opts.id, status);
	if (runtime_container_delete(&cli->cfg, f.opts.id, true, &err) < 0)
		cli_report(err);
	blog_debug("run %s: deleted", f.opts.id);
	return status;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	struct berr *err = NULL;
	const char *id;

	if (wants_help(argc, argv)) {
		puts("usage: berth-runc start ID");
		return 0;
	}
	optind = 1;
	id = need_id("start", argc, argv);
	if (id == NULL)
		return 1;
	if (runtime_container_start(&cli->cfg, id, &err) < 0)
		return cli_report(err);
	return 0;
}

int cmd_state(struct cli *cli, int argc, char **argv)
{
	struct runtime_state *st = NULL;
	struct berr *err = NULL;
	const char *id;
	json_t *obj;

	if (wants_help(argc, argv)) {
		puts("usage: berth-runc state ID");
		return 0;
	}
	optind = 1;
	id = need_id("state", argc, argv);
	if (id == NULL)
		return 1;
	if (runtime_container_state(&cli->cfg, id, &st, &err) < 0)
		return cli_report(err);
	obj = runtime_state_to_json(st);
	runtime_state_free(st);
	return cli_print_json(obj, JSON_INDENT(2));
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct berr *err = NULL;
	bool all = false;
	const char *id;
	int sig = SIGTERM;
	int c;

	while ((c = getopt_long_only(argc, argv, "+ah", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'h') {
			puts("usage: berth-runc kill [--all] ID [SIGNAL]");
			return 0;
		} else
			return cli_usage_error("kill", "unknown flag");
	}
	id = need_id("kill", argc, argv);
	if (id == NULL)
		return 1;
	if (optind + 1 < argc) {
		sig = cli_parse_signal(argv[optind + 1]);
		if (sig < 0)
			return cli_usage_error("kill", "unknown signal \"%s\"", argv[optind + 1]);
	}
	/* runc takes --all after the id too. */
	if (optind + 2 < argc && strcmp(argv[optind + 2], "--all") == 0)
		all = true;
	if (runtime_container_kill(&cli->cfg, id, sig, all, &err) < 0)
		return cli_report(err);
	return 0;
}

int cmd_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct berr *err = NULL;
	bool force = false;
	int c, status = 0;

	while ((c = getopt_long_only(argc, argv, "+fh", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h') {
			puts("usage: berth-runc delete [--force] ID...");
			return 0;
		} else
			return cli_usage_error("delete", "unknown flag");
	}
	if (need_id("delete", argc, argv) == NULL)
		return 1;
	for (int i = optind; i < argc; i++)
		if (runtime_container_delete(&cli->cfg, argv[i], force, &err) < 0)
			status = cli_report(steal_ptr(&err));
	return status;
}

static int simple_op(struct cli *cli, const char *command, int argc, char **argv,
		     int (*op)(const struct runtime_config *, const char *, struct berr **))
{
	struct berr *err = NULL;
	const char *id;

	if (wants_help(argc, argv)) {
		printf("usage: berth-runc %s ID\n", command);
		return 0;
	}
	optind = 1;
	id = need_id(command, argc, argv);
	if (id == NULL)
		return 1;
	if (op(&cli->cfg, id, &err) < 0)
		return cli_report(err);
	return 0;
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return simple_op(cli, "pause", argc, argv, runtime_container_pause);
}

int cmd_resume(struct cli *cli, int argc, char **argv)
{
	return simple_op(cli, "resume", argc, argv, runtime_container_resume);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct runtime_state **states = NULL;
	struct berr *err = NULL;
	const char *format = "table";
	bool quiet = false;
	size_t n = 0;
	int c;

	while ((c = getopt_long_only(argc, argv, "+f:qh", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'q')
			quiet = true;
		else if (c == 'h') {
			puts("usage: berth-runc list [--format table|json] [--quiet]");
			return 0;
		} else
			return cli_usage_error("list", "unknown flag");
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return cli_usage_error("list", "invalid format \"%s\"", format);
	if (runtime_container_list(&cli->cfg, &states, &n, &err) < 0)
		return cli_report(err);
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			puts(states[i]->id);
	} else if (strcmp(format, "json") == 0) {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, runtime_state_to_json(states[i]));
		cli_print_json(arr, JSON_COMPACT);
	} else {
		printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
		for (size_t i = 0; i < n; i++)
			printf("%-12s %-8d %-10s %-40s %-32s %s\n", states[i]->id,
			       (int)states[i]->pid, runtime_status_name(states[i]->status),
			       states[i]->bundle, states[i]->created, states[i]->owner);
	}
	for (size_t i = 0; i < n; i++)
		runtime_state_free(states[i]);
	free(states);
	return 0;
}

int cmd_features(struct cli *cli, int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		puts("usage: berth-runc features");
		return 0;
	}
	return cli_print_json(runtime_features(), JSON_INDENT(2));
}

int cmd_spec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *path = NULL;
	const char *bundle = ".";
	struct berr *err = NULL;
	bool rootless = false;
	int c;

	while ((c = getopt_long_only(argc, argv, "+b:h", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else if (c == 'h') {
			puts("usage: berth-runc spec [--bundle DIR] [--rootless]");
			return 0;
		} else
			return cli_usage_error("spec", "unknown flag");
	}
	path = str_printf("%s/config.json", bundle);
	text = runtime_spec_default_json(rootless);
	if (path == NULL || text == NULL)
		return cli_report(NULL);
	if (fs_exists(path)) {
		berr_set(&err, BERR_CONFLICT, 0, "File %s exists. Remove it first", path);
		return cli_report(err);
	}
	if (fs_write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
		return cli_report(err);
	return 0;
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ char *doc = NULL;
	struct runtime_spec *spec = NULL;
	const char *resources = NULL;
	struct berr *err = NULL;
	const char *id;
	size_t len = 0;
	int c, ret;

	while ((c = getopt_long_only(argc, argv, "+r:h", opts, NULL)) != -1) {
		if (c == 'r')
			resources = optarg;
		else if (c == 'h') {
			puts("usage: berth-runc update --resources FILE|- ID");
			return 0;
		} else
			return cli_usage_error("update", "unknown flag");
	}
	id = need_id("update", argc, argv);
	if (id == NULL)
		return 1;
	if (resources == NULL)
		return cli_usage_error("update", "--resources is required");
	if (strcmp(resources, "-") == 0
		    ? fs_read_all_fd(0, RUNTIME_SPEC_MAX_SIZE, &data, &len, &err) < 0
		    : fs_read_file(resources, RUNTIME_SPEC_MAX_SIZE, &data, &len, &err) < 0)
		return cli_report(err);
	/* The resources object is parsed as part of a minimal config, so the
	 * parser and its checks are the same as for create. */
	doc = str_printf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
			 "\"linux\":{\"resources\":%.*s}}",
			 (int)len, data);
	if (doc == NULL)
		return cli_report(NULL);
	if (runtime_spec_parse(doc, strlen(doc), &spec, &err) < 0)
		return cli_report(err);
	ret = runtime_container_update(&cli->cfg, id, &spec->resources, &err);
	runtime_spec_free(spec);
	if (ret < 0)
		return cli_report(err);
	return 0;
}
