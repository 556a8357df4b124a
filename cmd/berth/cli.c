/* What berth's two programs (the client, berth, and the daemon-less
 * berth-local) share: the global flags, the command tables' dispatch, and
 * docker's messages for errors and bad flags. */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth-config.h"
#include "cmd/berth/cli.h"
#include "cmd/berth/client.h"
#include "lib/fsutil.h"
#include "lib/log.h"

static void list_commands(FILE *out, const struct cli_command *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].summary)
			fprintf(out, "  %-11s %s\n", table[i].name, table[i].summary);
}

char *cli_cert_dir(void)
{
	const char *dir = getenv("DOCKER_CERT_PATH");
	const char *home;
	struct passwd *pw;

	if (dir && *dir)
		return strdup(dir);
	dir = getenv("DOCKER_CONFIG");
	if (dir && *dir)
		return strdup(dir);
	home = getenv("HOME");
	if ((!home || !*home) && (pw = getpwuid(getuid())))
		home = pw->pw_dir;
	return str_printf("%s/.docker", home && *home ? home : "");
}

static void usage(FILE *out, const struct cli_command *table, size_t n)
{
	_cleanup_free_ char *certs = cli_cert_dir();
	const char *dir = certs ? certs : "~/.docker";

	fprintf(out,
		"\nUsage:  berth [OPTIONS] COMMAND\n\n"
		"A container engine with Docker's commands.\n\n"
		"Options:\n"
		"  -H, --host string        Daemon socket to connect to (default "
		"\"" CLIENT_DEFAULT_HOST "\")\n"
		"      --data-root string   Work without a daemon, on this root directory "
		"of persistent state\n"
		"      --exec-root string   Root directory for execution state (default "
		"\"" CLI_DEFAULT_EXEC_ROOT "\")\n"
		"  -D, --debug              Enable debug mode\n"
		"  -l, --log-level string   Set the logging level "
		"(\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\") (default \"warn\")\n"
		"      --tls                Use TLS; implied by --tlsverify\n"
		"      --tlscacert string   Trust certs signed only by this CA (default "
		"\"%s/ca.pem\")\n"
		"      --tlscert string     Path to TLS certificate file (default "
		"\"%s/cert.pem\")\n"
		"      --tlskey string      Path to TLS key file (default \"%s/key.pem\")\n"
		"      --tlsverify          Use TLS and verify the remote\n"
		"  -v, --version            Print version information and quit\n\n"
		"Commands:\n",
		dir, dir, dir);
	list_commands(out, table, n);
	fprintf(out, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

/* A boolean flag's optional "=value", as Go's strconv.ParseBool takes it;
 * -1 for another value. */
static int parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

	if (!s)
		return 1;
	for (size_t i = 0; i < CLI_N_OF(yes); i++) {
		if (strcmp(s, yes[i]) == 0)
			return 1;
		if (strcmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int cli_globals_parse(int argc, char **argv, struct cli_globals *g, const struct cli_command *table,
		      size_t n)
{
	enum {
		OPT_DATA_ROOT = 256,
		OPT_EXEC_ROOT,
		OPT_TLS,
		OPT_TLSVERIFY,
		OPT_TLSCACERT,
		OPT_TLSCERT,
		OPT_TLSKEY
	};
	static const struct option opts[] = {
		{ "data-root", required_argument, NULL, OPT_DATA_ROOT },
		{ "exec-root", required_argument, NULL, OPT_EXEC_ROOT },
		{ "host", required_argument, NULL, 'H' },
		{ "tls", optional_argument, NULL, OPT_TLS },
		{ "tlsverify", optional_argument, NULL, OPT_TLSVERIFY },
		{ "tlscacert", required_argument, NULL, OPT_TLSCACERT },
		{ "tlscert", required_argument, NULL, OPT_TLSCERT },
		{ "tlskey", required_argument, NULL, OPT_TLSKEY },
		{ "debug", no_argument, NULL, 'D' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env;
	int c, b;

	*g = (struct cli_globals){
		.data_root = getenv("BERTH_DATA_ROOT"),
		.exec_root = getenv("BERTH_EXEC_ROOT"),
		.log_level = BLOG_WARN,
	};
	/* The docker client's defaults of --tls and --tlsverify. */
	env = getenv("DOCKER_TLS");
	g->tls = env && *env;
	env = getenv("DOCKER_TLS_VERIFY");
	g->tls_verify = env && *env;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+DH:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			g->host = optarg;
			break;
		case OPT_TLS:
		case OPT_TLSVERIFY:
			b = parse_bool(optarg);
			if (b < 0) {
				return cli_flag_value_error(
					"",
					"invalid argument \"%s\" for \"--%s\" flag: "
					"strconv.ParseBool: parsing \"%s\": invalid syntax",
					optarg, c == OPT_TLS ? "tls" : "tlsverify", optarg);
			}
			if (c == OPT_TLS) {
				g->tls = b;
			} else {
				g->tls_verify = b;
				g->tls_verify_set = true;
			}
			break;
		case OPT_TLSCACERT:
			g->tls_ca = optarg;
			break;
		case OPT_TLSCERT:
			g->tls_cert = optarg;
			break;
		case OPT_TLSKEY:
			g->tls_key = optarg;
			break;
		case OPT_DATA_ROOT:
			g->data_root = optarg;
			break;
		case OPT_EXEC_ROOT:
			g->exec_root = optarg;
			break;
		case 'D':
			g->log_level = BLOG_DEBUG;
			break;
		case 'l':
			if (strcmp(optarg, "debug") == 0)
				g->log_level = BLOG_DEBUG;
			else if (strcmp(optarg, "info") == 0)
				g->log_level = BLOG_INFO;
			else if (strcmp(optarg, "warn") == 0)
				g->log_level = BLOG_WARN;
			else if (strcmp(optarg, "error") == 0 || strcmp(optarg, "fatal") == 0)
				g->log_level = BLOG_ERROR;
			else {
				fprintf(stderr, "Unable to parse logging level: %s\n", optarg);
				return 1;
			}
			break;
		case 'v':
			printf("berth version %s, build %s\n", BERTH_VERSION, BERTH_COMMIT);
			return 0;
		case 'h':
			usage(stdout, table, n);
			return 0;
		default:
			return cli_flag_error("", argv, "DH:l:vh");
		}
	}
	/* Whatever its value, --tlsverify given at all means TLS, as the
	 * docker client has it. */
	if (g->tls_verify || g->tls_verify_set)
		g->tls = true;
	if (g->data_root && *g->data_root && g->host) {
		fprintf(stderr, "berth: -H and --data-root exclude each other: -H talks to a "
				"daemon, --data-root works without one\n");
		return 125;
	}
	if (optind >= argc) {
		usage(stderr, table, n);
		return 1;
	}
	return -1;
}

int cli_report(struct berr *err)
{
	fprintf(stderr, "Error: %s\n", err ? err->msg : "unknown error");
	berr_free(err);
	return 1;
}

/* The command being run as the user named it ("container ls"), for
 * messages; set by cli_dispatch(). */
static char invoked[64];

/* What follows each command's name in its usage line, as docker 28's
 * commands declare it; COMMAND is the name a command gives itself (its
 * handler's: "images" for `image ls` too). */
static const char *usage_args(const char *command)
{
	static const struct {
		const char *command, *args;
	} uses[] = {
		{ "run", "[OPTIONS] IMAGE [COMMAND] [ARG...]" },
		{ "create", "[OPTIONS] IMAGE [COMMAND] [ARG...]" },
		{ "start", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "exec", "[OPTIONS] CONTAINER COMMAND [ARG...]" },
		{ "attach", "[OPTIONS] CONTAINER" },
		{ "ps", "[OPTIONS]" },
		{ "stop", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "restart", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "kill", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "pause", "CONTAINER [CONTAINER...]" },
		{ "unpause", "CONTAINER [CONTAINER...]" },
		{ "wait", "CONTAINER [CONTAINER...]" },
		{ "rm", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "rename", "CONTAINER NEW_NAME" },
		{ "logs", "[OPTIONS] CONTAINER" },
		{ "top", "CONTAINER [ps OPTIONS]" },
		{ "diff", "CONTAINER" },
		{ "commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]" },
		{ "export", "[OPTIONS] CONTAINER" },
		/* docker's second line names `docker cp` whatever the path. */
		{ "cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
			"\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH" },
		{ "port", "CONTAINER [PRIVATE_PORT[/PROTO]]" },
		{ "update", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "stats", "[OPTIONS] [CONTAINER...]" },
		{ "images", "[OPTIONS] [REPOSITORY[:TAG]]" },
		{ "import", "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]" },
		{ "load", "[OPTIONS]" },
		{ "save", "[OPTIONS] IMAGE [IMAGE...]" },
		{ "tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]" },
		{ "rmi", "[OPTIONS] IMAGE [IMAGE...]" },
		{ "history", "[OPTIONS] IMAGE" },
		{ "inspect", "[OPTIONS] NAME|ID [NAME|ID...]" },
		{ "image inspect", "[OPTIONS] IMAGE [IMAGE...]" },
		{ "container inspect", "[OPTIONS] CONTAINER [CONTAINER...]" },
		{ "events", "[OPTIONS]" },
		{ "info", "[OPTIONS]" },
		{ "version", "[OPTIONS]" },
		{ "container prune", "[OPTIONS]" },
		{ "image prune", "[OPTIONS]" },
		{ "system prune", "[OPTIONS]" },
		{ "system df", "[OPTIONS]" },
		/* The group whose usage line docker writes with its
		 * COMMAND. */
		{ "volume", "COMMAND" },
		{ "volume create", "[OPTIONS] [VOLUME]" },
		{ "volume ls", "[OPTIONS]" },
		{ "volume inspect", "[OPTIONS] VOLUME [VOLUME...]" },
		{ "volume rm", "[OPTIONS] VOLUME [VOLUME...]" },
		{ "volume prune", "[OPTIONS]" },
		{ "", "[OPTIONS] COMMAND [ARG...]" },
	};

	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (strcmp(command, uses[i].command) == 0)
			return uses[i].args;
	return "";
}

/* The command's path as the user gave it ("container ls"), else as it
 * names itself; "" at the top level. */
static const char *command_path(const char *command)
{
	if (!command || !*command)
		return "";
	return *invoked ? invoked : command;
}

void cli_usage_tail(const char *command, const char *verb)
{
	const char *path = command_path(command);
	const char *args = usage_args(command ? command : "");

	fprintf(stderr, "\nUsage:  berth%s%s%s%s\n\n%s 'berth%s%s --help' for more information\n",
		*path ? " " : "", path, *args ? " " : "", args, verb, *path ? " " : "", path);
}

int cli_flag_error(const char *command, char **argv, const char *shortopts)
{
	const char *arg = argv[optind - 1];
	const char *opt = optopt > 0 && optopt < 256 ? strchr(shortopts, optopt) : NULL;

	if (strncmp(arg, "--", 2) == 0 && optopt == 0)
		fprintf(stderr, "unknown flag: %.*s\n", (int)strcspn(arg, "="), arg);
	else if (strncmp(arg, "--", 2) == 0)
		fprintf(stderr, "flag needs an argument: %.*s\n", (int)strcspn(arg, "="), arg);
	else if (opt && opt[1] == ':')
		fprintf(stderr, "flag needs an argument: '%c' in -%c\n", optopt, optopt);
	else
		fprintf(stderr, "unknown shorthand flag: '%c' in %s\n", optopt, arg);
	cli_usage_tail(command, "Run");
	return 125;
}

int cli_flag_value_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_usage_tail(command, "Run");
	return 125;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	char what[256];
	const char *verb = "Run";
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	n = strlen(what);
	if (n && what[n - 1] == '.')
		what[--n] = '\0';
	if (strncmp(what, "unknown flag", 12) == 0 || strncmp(what, "unknown shorthand", 17) == 0) {
		fprintf(stderr, "%s\n", what);
		cli_usage_tail(command, "Run");
		return 125;
	}
	/* cobra's words: "requires 1 argument" for an exact count; "See"
	 * after a minimum, and docker 28's "SRun" after a maximum. */
	if (strncmp(what, "requires exactly ", 17) == 0)
		memmove(what + 9, what + 17, n - 17 + 1);
	else if (strncmp(what, "requires at least ", 18) == 0 && !strstr(what, " and at most "))
		verb = "See";
	else if (strncmp(what, "requires at most ", 17) == 0)
		verb = "SRun";
	fprintf(stderr, "berth: 'berth %s' %s\n", command_path(command), what);
	cli_usage_tail(command, verb);
	return 1;
}

int cli_dispatch(struct cli *cli, const char *group, const struct cli_command *table, size_t n,
		 int argc, char **argv)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = table[i].name;

		if (strcmp(argv[0], name) != 0)
			continue;
		/* An alias is named in messages by its command's name, as
		 * cobra does ("container list" is "container ls"). */
		for (size_t j = 0; group && !table[i].summary && j < n; j++)
			if (table[j].fn == table[i].fn && table[j].summary) {
				name = table[j].name;
				break;
			}
		snprintf(invoked, sizeof(invoked), "%s%s%s", group ? group : "", group ? " " : "",
			 name);
		optind = 0; /* a full reset of getopt for the command's flags */
		return table[i].fn(cli, argc, argv);
	}
	if (group)
		fprintf(stderr,
			"berth: unknown command: berth %s %s\n\nUsage:  berth %s%s%s\n\n"
			"Run 'berth %s --help' for more information\n",
			group, argv[0], group, *usage_args(group) ? " " : "", usage_args(group),
			group);
	else
		fprintf(stderr,
			"berth: unknown command: berth %s\n\nRun 'berth --help' for more "
			"information\n",
			argv[0]);
	return 1;
}

int cli_management(struct cli *cli, const char *group, const char *summary,
		   const struct cli_command *table, size_t n, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;

		fprintf(out, "\nUsage:  berth %s COMMAND\n\n%s\n\nCommands:\n", group, summary);
		list_commands(out, table, n);
		fprintf(out, "\nRun 'berth %s COMMAND --help' for more information on a command.\n",
			group);
		/* docker 28's status for a management command alone, its
		 * help on stderr. */
		return 0;
	}
	return cli_dispatch(cli, group, table, n, argc - 1, argv + 1);
}
