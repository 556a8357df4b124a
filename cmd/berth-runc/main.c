/* berth-runc: an OCI runtime with runc's command line.  main() reads the
 * global flags, sets up logging, and hands the rest to one command. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth-config.h"
#include "cmd/berth-runc/cli.h"
#include "lib/log.h"

struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	bool enters_container; /* always runs from a sealed copy of the binary */
	const char *summary;
};

static const struct command commands[] = {
	{ "create", cmd_create, false, "create a container" },
	{ "start", cmd_start, false, "start the process of a created container" },
	{ "run", cmd_run, false, "create and start a container" },
	{ "state", cmd_state, false, "print the state of a container" },
	{ "kill", cmd_kill, false, "send a signal to a container's init or all its processes" },
	{ "delete", cmd_delete, false, "delete a container and what it holds" },
	{ "exec", cmd_exec, true, "run a new process inside a container" },
	{ "list", cmd_list, false, "list containers" },
	{ "ps", cmd_ps, false, "list the processes of a container" },
	{ "pause", cmd_pause, false, "freeze every process of a container" },
	{ "resume", cmd_resume, false, "thaw a paused container" },
	{ "update", cmd_update, false, "change the resources of a container" },
	{ "features", cmd_features, false, "print the features this runtime supports" },
	{ "spec", cmd_spec, false, "write a default config.json" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: berth-runc [global options] COMMAND [options] [args]\n\n"
		     "An OCI runtime with runc's command line.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nGlobal options:\n"
		     "  --root DIR          state directory (default " RUNTIME_DEFAULT_ROOT ")\n"
		     "  --log FILE          log file (default stderr)\n"
		     "  --log-format FMT    text or json\n"
		     "  --debug             log debug messages\n"
		     "  --systemd-cgroup    accepted for compatibility; cgroupfs is used\n"
		     "  -v, --version       print the version\n");
}

int cli_report(struct berr *err)
{
	const char *msg = err ? err->msg : "unknown error";

	/* The log, when there is one, is what containerd and conmon show;
	 * stderr is what a person at a terminal reads. */
	if (blog_fd() >= 0)
		blog_error("%s", msg);
	fprintf(stderr, "berth-runc: %s\n", msg);
	berr_free(err);
	return 1;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "berth-runc %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'berth-runc %s --help' for usage.\n", command);
	return 1;
}

int main(int argc, char **argv)
{
	enum {
		OPT_ROOT = 256,
		OPT_LOG,
		OPT_LOG_FORMAT,
		OPT_DEBUG,
		OPT_IGNORED,
		OPT_IGNORED_ARG
	};
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "systemd-cgroup", no_argument, NULL, OPT_IGNORED },
		{ "rootless", required_argument, NULL, OPT_IGNORED_ARG },
		{ "criu", required_argument, NULL, OPT_IGNORED_ARG },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .prog = "berth-runc", .argv = argv };
	const char *log_path = NULL;
	enum blog_format format = BLOG_FORMAT_TEXT;
	enum blog_level level = BLOG_WARN;
	struct berr *err = NULL;
	int c;

	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			cli.cfg.state_root = optarg;
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") == 0)
				format = BLOG_FORMAT_JSON;
			else if (strcmp(optarg, "text") == 0)
				format = BLOG_FORMAT_TEXT;
			else
				return cli_usage_error("", "unknown log format \"%s\"", optarg);
			break;
		case OPT_DEBUG:
			level = BLOG_DEBUG;
			break;
		case OPT_IGNORED:
		case OPT_IGNORED_ARG:
			break;
		case 'v':
			printf("berth-runc version %s\ncommit: %s\nspec: 1.2.0\n", BERTH_VERSION,
			       BERTH_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (blog_open(log_path, format, level, &err) < 0)
		return cli_report(err);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[optind], cmd->name) != 0)
			continue;
		blog_debug("%s", cmd->name);
		if (cmd->enters_container && runtime_reexec_sealed(argv, &err) < 0)
			return cli_report(err);
		argv += optind;
		argc -= optind;
		optind = 0; /* a full reset of getopt for the command's flags */
		return cmd->fn(&cli, argc, argv);
	}
	fprintf(stderr, "berth-runc: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return 1;
}
