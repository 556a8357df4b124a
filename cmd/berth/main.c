/* berth: the global flags, the command table (Docker's top-level commands
 * and the "image" and "container" management commands), and the helpers
 * every command shares. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth-config.h"
#include "cmd/berth/cli.h"
#include "cmd/berth/client.h"
#include "daemon/container.h"
#include "lib/log.h"

struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

static int cmd_image(struct cli *cli, int argc, char **argv);
static int cmd_container(struct cli *cli, int argc, char **argv);
static int cmd_inspect(struct cli *cli, int argc, char **argv);
static int cmd_version(struct cli *cli, int argc, char **argv);

static const struct command commands[] = {
	{ "run", cmd_run, "Create and run a new container from an image" },
	{ "create", cmd_create, "Create a new container" },
	{ "start", cmd_start, "Start one or more stopped containers" },
	{ "ps", cmd_ps, "List containers" },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
	{ "commit", cmd_commit, "Create a new image from a container's changes" },
	{ "export", cmd_export, "Export a container's filesystem as a tar archive" },
	{ "images", cmd_images, "List images" },
	{ "import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
	{ "load", cmd_load, "Load an image from a tar archive or STDIN" },
	{ "save", cmd_save, "Save one or more images to a tar archive" },
	{ "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "rmi", cmd_rmi, "Remove one or more images" },
	{ "history", cmd_history, "Show the history of an image" },
	{ "inspect", cmd_inspect, "Return low-level information on Docker objects" },
	{ "image", cmd_image, "Manage images" },
	{ "container", cmd_container, "Manage containers" },
	{ "version", cmd_version, "Show the berth version information" },
};

static const struct command image_commands[] = {
	{ "ls", cmd_images, "List images" },
	{ "list", cmd_images, NULL },
	{ "inspect", cmd_image_inspect, "Display detailed information on one or more images" },
	{ "history", cmd_history, "Show the history of an image" },
	{ "import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
	{ "load", cmd_load, "Load an image from a tar archive or STDIN" },
	{ "save", cmd_save, "Save one or more images to a tar archive" },
	{ "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "rm", cmd_rmi, "Remove one or more images" },
	{ "remove", cmd_rmi, NULL },
};

static const struct command container_commands[] = {
	{ "run", cmd_run, "Create and run a new container from an image" },
	{ "create", cmd_create, "Create a new container" },
	{ "start", cmd_start, "Start one or more stopped containers" },
	{ "ls", cmd_ps, "List containers" },
	{ "list", cmd_ps, NULL },
	{ "ps", cmd_ps, NULL },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "remove", cmd_rm, NULL },
	{ "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
	{ "commit", cmd_commit, "Create a new image from a container's changes" },
	{ "export", cmd_export, "Export a container's filesystem as a tar archive" },
	{ "inspect", cmd_container_inspect,
	  "Display detailed information on one or more containers" },
};

/* The same commands over berthd's Engine API. */
static int api_cmd_image(struct cli *cli, int argc, char **argv);
static int api_cmd_container(struct cli *cli, int argc, char **argv);
static int api_cmd_system(struct cli *cli, int argc, char **argv);

static const struct command api_commands[] = {
	{ "run", api_cmd_run, "Create and run a new container from an image" },
	{ "exec", api_cmd_exec, "Execute a command in a running container" },
	{ "ps", api_cmd_ps, "List containers" },
	{ "create", api_cmd_create, "Create a new container" },
	{ "start", api_cmd_start, "Start one or more stopped containers" },
	{ "attach", api_cmd_attach,
	  "Attach local standard input, output, and error streams to a running container" },
	{ "stop", api_cmd_stop, "Stop one or more running containers" },
	{ "restart", api_cmd_restart, "Restart one or more containers" },
	{ "kill", api_cmd_kill, "Kill one or more running containers" },
	{ "pause", api_cmd_pause, "Pause all processes within one or more containers" },
	{ "unpause", api_cmd_unpause, "Unpause all processes within one or more containers" },
	{ "wait", api_cmd_wait,
	  "Block until one or more containers stop, then print their exit codes" },
	{ "rm", api_cmd_rm, "Remove one or more containers" },
	{ "rename", api_cmd_rename, "Rename a container" },
	{ "logs", api_cmd_logs, "Fetch the logs of a container" },
	{ "top", api_cmd_top, "Display the running processes of a container" },
	{ "diff", api_cmd_diff,
	  "Inspect changes to files or directories on a container's filesystem" },
	{ "commit", api_cmd_commit, "Create a new image from a container's changes" },
	{ "export", api_cmd_export, "Export a container's filesystem as a tar archive" },
	{ "cp", api_cmd_cp, "Copy files/folders between a container and the local filesystem" },
	{ "port", api_cmd_port, "List port mappings or a specific mapping for the container" },
	{ "update", api_cmd_update, "Update configuration of one or more containers" },
	{ "stats", api_cmd_stats,
	  "Display a live stream of container(s) resource usage statistics" },
	{ "images", api_cmd_images, "List images" },
	{ "import", api_cmd_import,
	  "Import the contents from a tarball to create a filesystem image" },
	{ "load", api_cmd_load, "Load an image from a tar archive or STDIN" },
	{ "save", api_cmd_save, "Save one or more images to a tar archive" },
	{ "tag", api_cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "rmi", api_cmd_rmi, "Remove one or more images" },
	{ "history", api_cmd_history, "Show the history of an image" },
	{ "inspect", api_cmd_inspect, "Return low-level information on Docker objects" },
	{ "events", api_cmd_events, "Get real time events from the server" },
	{ "info", api_cmd_info, "Display system-wide information" },
	{ "version", api_cmd_version, "Show the berth version information" },
	{ "image", api_cmd_image, "Manage images" },
	{ "container", api_cmd_container, "Manage containers" },
	{ "system", api_cmd_system, "Manage berth" },
};

static const struct command api_image_commands[] = {
	{ "ls", api_cmd_images, "List images" },
	{ "list", api_cmd_images, NULL },
	{ "inspect", api_cmd_image_inspect, "Display detailed information on one or more images" },
	{ "history", api_cmd_history, "Show the history of an image" },
	{ "import", api_cmd_import,
	  "Import the contents from a tarball to create a filesystem image" },
	{ "load", api_cmd_load, "Load an image from a tar archive or STDIN" },
	{ "save", api_cmd_save, "Save one or more images to a tar archive" },
	{ "tag", api_cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "rm", api_cmd_rmi, "Remove one or more images" },
	{ "remove", api_cmd_rmi, NULL },
	{ "prune", api_cmd_image_prune, "Remove unused images" },
};

static const struct command api_container_commands[] = {
	{ "run", api_cmd_run, "Create and run a new container from an image" },
	{ "create", api_cmd_create, "Create a new container" },
	{ "start", api_cmd_start, "Start one or more stopped containers" },
	{ "attach", api_cmd_attach,
	  "Attach local standard input, output, and error streams to a running container" },
	{ "stop", api_cmd_stop, "Stop one or more running containers" },
	{ "restart", api_cmd_restart, "Restart one or more containers" },
	{ "kill", api_cmd_kill, "Kill one or more running containers" },
	{ "pause", api_cmd_pause, "Pause all processes within one or more containers" },
	{ "unpause", api_cmd_unpause, "Unpause all processes within one or more containers" },
	{ "wait", api_cmd_wait,
	  "Block until one or more containers stop, then print their exit codes" },
	{ "ls", api_cmd_ps, "List containers" },
	{ "list", api_cmd_ps, NULL },
	{ "ps", api_cmd_ps, NULL },
	{ "rm", api_cmd_rm, "Remove one or more containers" },
	{ "remove", api_cmd_rm, NULL },
	{ "rename", api_cmd_rename, "Rename a container" },
	{ "logs", api_cmd_logs, "Fetch the logs of a container" },
	{ "exec", api_cmd_exec, "Execute a command in a running container" },
	{ "top", api_cmd_top, "Display the running processes of a container" },
	{ "diff", api_cmd_diff,
	  "Inspect changes to files or directories on a container's filesystem" },
	{ "commit", api_cmd_commit, "Create a new image from a container's changes" },
	{ "export", api_cmd_export, "Export a container's filesystem as a tar archive" },
	{ "cp", api_cmd_cp, "Copy files/folders between a container and the local filesystem" },
	{ "inspect", api_cmd_container_inspect,
	  "Display detailed information on one or more containers" },
	{ "attach", api_cmd_attach,
	  "Attach local standard input, output, and error streams to a running container" },
	{ "port", api_cmd_port, "List port mappings or a specific mapping for the container" },
	{ "update", api_cmd_update, "Update configuration of one or more containers" },
	{ "stats", api_cmd_stats,
	  "Display a live stream of container(s) resource usage statistics" },
	{ "prune", api_cmd_container_prune, "Remove all stopped containers" },
};

static const struct command api_system_commands[] = {
	{ "events", api_cmd_events, "Get real time events from the server" },
	{ "info", api_cmd_info, "Display system-wide information" },
	{ "df", api_cmd_system_df, "Show berth disk usage" },
	{ "prune", api_cmd_system_prune, "Remove unused data" },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void list_commands(FILE *out, const struct command *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].summary)
			fprintf(out, "  %-10s %s\n", table[i].name, table[i].summary);
}

static void usage(FILE *out)
{
	fprintf(out, "\nUsage:  berth [OPTIONS] COMMAND\n\n"
		     "A container engine with Docker's commands.\n\n"
		     "Options:\n"
		     "  -H, --host string        Daemon socket to connect to (default "
		     "\"" CLIENT_DEFAULT_HOST "\")\n"
		     "      --data-root string   Root directory of persistent state (default "
		     "\"" IMAGE_STORE_DEFAULT_ROOT "\")\n"
		     "      --exec-root string   Root directory for execution state (default "
		     "\"" CLI_DEFAULT_EXEC_ROOT "\")\n"
		     "  -D, --debug              Enable debug mode\n"
		     "  -l, --log-level string   Set the logging level "
		     "(\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\") (default \"warn\")\n"
		     "  -v, --version            Print version information and quit\n\n"
		     "Commands:\n");
	list_commands(out, commands, N_OF(commands));
	fprintf(out, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

struct image_store *cli_images(struct cli *cli)
{
	struct berr *err = NULL;

	if (!cli->images && image_store_open(cli->data_root, &cli->images, &err) < 0) {
		cli_report(err);
		return NULL;
	}
	return cli->images;
}

struct daemon *cli_engine_open(struct cli *cli)
{
	struct daemon *d = NULL;
	struct berr *err = NULL;

	if (!cli_images(cli))
		return NULL;
	if (daemon_new(cli->images, cli->exec_root, &d, &err) < 0) {
		cli_report(err);
		return NULL;
	}
	return d;
}

int cli_report(struct berr *err)
{
	fprintf(stderr, "Error: %s\n", err ? err->msg : "unknown error");
	berr_free(err);
	return 1;
}

int cli_flag_error(const char *command, char **argv, const char *shortopts)
{
	const char *arg = argv[optind - 1];
	const char *opt = optopt > 0 && optopt < 256 ? strchr(shortopts, optopt) : NULL;

	if (strncmp(arg, "--", 2) == 0 && optopt == 0)
		fprintf(stderr, "unknown flag: %.*s\n", (int)strcspn(arg, "="), arg);
	else if (strncmp(arg, "--", 2) == 0)
		fprintf(stderr, "flag needs an argument: %s\n", arg);
	else if (opt && opt[1] == ':')
		fprintf(stderr, "flag needs an argument: '%c' in -%c\n", optopt, optopt);
	else
		fprintf(stderr, "unknown shorthand flag: '%c' in %s\n", optopt, arg);
	fprintf(stderr, "See 'berth %s --help'.\n", command);
	return 125;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\"berth %s\" ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nSee 'berth %s --help'.\n", command);
	return 1;
}

/* Runs the command ARGV[0] names from TABLE; GROUP names the management
 * command ("image") for messages, NULL at the top level. */
static int dispatch(struct cli *cli, const char *group, const struct command *table, size_t n,
		    int argc, char **argv)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[0], table[i].name) != 0)
			continue;
		optind = 0; /* a full reset of getopt for the command's flags */
		return table[i].fn(cli, argc, argv);
	}
	if (group)
		fprintf(stderr, "berth: 'berth %s %s' is not a berth command.\n", group, argv[0]);
	else
		fprintf(stderr, "berth: '%s' is not a berth command.\n", argv[0]);
	fprintf(stderr, "See 'berth --help'\n");
	return 1;
}

static int management(struct cli *cli, const char *group, const struct command *table, size_t n,
		      int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;

		fprintf(out, "\nUsage:  berth %s COMMAND\n\nCommands:\n", group);
		list_commands(out, table, n);
		fprintf(out, "\nRun 'berth %s COMMAND --help' for more information on a command.\n",
			group);
		return argc < 2 ? 1 : 0;
	}
	return dispatch(cli, group, table, n, argc - 1, argv + 1);
}

static int cmd_image(struct cli *cli, int argc, char **argv)
{
	return management(cli, "image", image_commands, N_OF(image_commands), argc, argv);
}

static int cmd_container(struct cli *cli, int argc, char **argv)
{
	return management(cli, "container", container_commands, N_OF(container_commands), argc,
			  argv);
}

static int api_cmd_image(struct cli *cli, int argc, char **argv)
{
	return management(cli, "image", api_image_commands, N_OF(api_image_commands), argc, argv);
}

static int api_cmd_container(struct cli *cli, int argc, char **argv)
{
	return management(cli, "container", api_container_commands, N_OF(api_container_commands),
			  argc, argv);
}

static int api_cmd_system(struct cli *cli, int argc, char **argv)
{
	return management(cli, "system", api_system_commands, N_OF(api_system_commands), argc,
			  argv);
}

/* `docker inspect` without --type: an image when the name is one, else a
 * container. */
static int cmd_inspect(struct cli *cli, int argc, char **argv)
{
	struct store_image *img = NULL;
	const char *type = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			type = argv[i + 1];
		else if (strncmp(argv[i], "--type=", 7) == 0)
			type = argv[i] + 7;
	}
	if (type && strcmp(type, "image") == 0)
		return cmd_image_inspect(cli, argc, argv);
	if (type && strcmp(type, "container") == 0)
		return cmd_container_inspect(cli, argc, argv);
	if (type) {
		fprintf(stderr, "Error: \"%s\" is not a valid value for --type\n", type);
		return 1;
	}
	/* The first name decides, as one JSON array holds one kind. */
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--format") == 0)
				i++;
			continue;
		}
		if (!cli_images(cli))
			return 1;
		if (image_store_lookup(cli->images, argv[i], &img, NULL) == 0) {
			store_image_free(img);
			return cmd_image_inspect(cli, argc, argv);
		}
		break;
	}
	return cmd_container_inspect(cli, argc, argv);
}

static int cmd_version(struct cli *cli, int argc, char **argv)
{
	printf("Client:\n Version:           %s\n Git commit:        %s\n OS/Arch:           "
	       "linux/%s\n",
	       BERTH_VERSION, BERTH_COMMIT,
#if defined(__x86_64__)
	       "amd64"
#elif defined(__aarch64__)
	       "arm64"
#else
	       "unknown"
#endif
	);
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		OPT_DATA_ROOT = 256,
		OPT_EXEC_ROOT,
		OPT_TLS
	};
	static const struct option opts[] = {
		{ "data-root", required_argument, NULL, OPT_DATA_ROOT },
		{ "exec-root", required_argument, NULL, OPT_EXEC_ROOT },
		{ "host", required_argument, NULL, 'H' },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "tlsverify", no_argument, NULL, OPT_TLS },
		{ "tlscacert", required_argument, NULL, OPT_TLS },
		{ "tlscert", required_argument, NULL, OPT_TLS },
		{ "tlskey", required_argument, NULL, OPT_TLS },
		{ "debug", no_argument, NULL, 'D' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = {
		.prog = "berth",
		.data_root = getenv("BERTH_DATA_ROOT"),
		.exec_root = getenv("BERTH_EXEC_ROOT"),
	};
	enum blog_level level = BLOG_WARN;
	struct client api = { 0 };
	const char *host = NULL;
	bool tls = false;
	struct berr *err = NULL;
	int c, status;

	while ((c = getopt_long(argc, argv, "+DH:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case OPT_TLS:
			tls = true;
			break;
		case OPT_DATA_ROOT:
			cli.data_root = optarg;
			break;
		case OPT_EXEC_ROOT:
			cli.exec_root = optarg;
			break;
		case 'D':
			level = BLOG_DEBUG;
			break;
		case 'l':
			if (strcmp(optarg, "debug") == 0)
				level = BLOG_DEBUG;
			else if (strcmp(optarg, "info") == 0)
				level = BLOG_INFO;
			else if (strcmp(optarg, "warn") == 0)
				level = BLOG_WARN;
			else if (strcmp(optarg, "error") == 0 || strcmp(optarg, "fatal") == 0)
				level = BLOG_ERROR;
			else {
				fprintf(stderr, "Unable to parse logging level: %s\n", optarg);
				return 1;
			}
			break;
		case 'v':
			printf("berth version %s, build %s\n", BERTH_VERSION, BERTH_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 125;
		}
	}
	/* Without a data root berth is a client of berthd. */
	if (cli.data_root && *cli.data_root && host) {
		fprintf(stderr, "berth: -H and --data-root exclude each other: -H talks to a "
				"daemon, --data-root works without one\n");
		return 125;
	}
	if (!cli.data_root || !*cli.data_root) {
		if (!host || !*host)
			host = getenv("BERTH_HOST");
		if (!host || !*host)
			host = getenv("DOCKER_HOST");
		if (!host || !*host)
			host = CLIENT_DEFAULT_HOST;
		if (tls || (getenv("DOCKER_TLS_VERIFY") && *getenv("DOCKER_TLS_VERIFY"))) {
			fprintf(stderr, "berth: TLS to the daemon is not supported yet\n");
			return 125;
		}
		if (client_init(&api, host, &err) < 0) {
			client_clear(&api);
			return api_report(err, 125);
		}
		cli.api = &api;
	}
	if (!cli.data_root || !*cli.data_root)
		cli.data_root = IMAGE_STORE_DEFAULT_ROOT;
	if (!cli.exec_root || !*cli.exec_root)
		cli.exec_root = CLI_DEFAULT_EXEC_ROOT;
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (blog_open(NULL, BLOG_FORMAT_TEXT, level, &err) < 0)
		return cli_report(err);
	if (cli.api)
		status = dispatch(&cli, NULL, api_commands, N_OF(api_commands), argc - optind,
				  argv + optind);
	else
		status = dispatch(&cli, NULL, commands, N_OF(commands), argc - optind,
				  argv + optind);
	fflush(stdout);
	client_clear(&api);
	image_store_free(cli.images);
	return status;
}
