/* berth, the client: the global flags, the command table over berthd's
 * Engine API (Docker's top-level commands and the "image", "container",
 * "system" and "volume" management commands), and TLS as the docker
 * client sets it up.
 * Given a data root it executes berth-local, the daemon-less program, with
 * the same arguments: this one needs no shared library but libc (jansson
 * and http_parser are linked in, OpenSSL is loaded only for TLS), so that
 * a command costs little more than its round trip to the daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berth/cli.h"
#include "cmd/berth/client.h"
#include "cmd/berth/tls.h"
#include "lib/fsutil.h"

static int api_cmd_image(struct cli *cli, int argc, char **argv);
static int api_cmd_container(struct cli *cli, int argc, char **argv);
static int api_cmd_system(struct cli *cli, int argc, char **argv);
static int api_cmd_volume(struct cli *cli, int argc, char **argv);

static const struct cli_command api_commands[] = {
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
	{ "volume", api_cmd_volume, "Manage volumes" },
};

static const struct cli_command api_image_commands[] = {
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

static const struct cli_command api_container_commands[] = {
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

static const struct cli_command api_system_commands[] = {
	{ "events", api_cmd_events, "Get real time events from the server" },
	{ "info", api_cmd_info, "Display system-wide information" },
	{ "df", api_cmd_system_df, "Show berth disk usage" },
	{ "prune", api_cmd_system_prune, "Remove unused data" },
};

static const struct cli_command api_volume_commands[] = {
	{ "create", api_cmd_volume_create, "Create a volume" },
	{ "inspect", api_cmd_volume_inspect,
	  "Display detailed information on one or more volumes" },
	{ "ls", api_cmd_volume_ls, "List volumes" },
	{ "list", api_cmd_volume_ls, NULL },
	{ "prune", api_cmd_volume_prune, "Remove unused local volumes" },
	{ "rm", api_cmd_volume_rm, "Remove one or more volumes" },
	{ "remove", api_cmd_volume_rm, NULL },
	/* docker's cluster volumes: refused below API 1.42, unlisted. */
	{ "update", api_cmd_volume_update, NULL },
};

static int api_cmd_image(struct cli *cli, int argc, char **argv)
{
	return cli_management(cli, "image", "Manage images", api_image_commands,
			      CLI_N_OF(api_image_commands), argc, argv);
}

static int api_cmd_container(struct cli *cli, int argc, char **argv)
{
	return cli_management(cli, "container", "Manage containers", api_container_commands,
			      CLI_N_OF(api_container_commands), argc, argv);
}

static int api_cmd_system(struct cli *cli, int argc, char **argv)
{
	return cli_management(cli, "system", "Manage berth", api_system_commands,
			      CLI_N_OF(api_system_commands), argc, argv);
}

static int api_cmd_volume(struct cli *cli, int argc, char **argv)
{
	return cli_management(cli, "volume", "Manage volumes", api_volume_commands,
			      CLI_N_OF(api_volume_commands), argc, argv);
}

/* Executes berth-local, installed (and built) beside this program, with
 * ARGV; returns only on failure, with the status to leave with. */
static int exec_local(char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	_cleanup_free_ char *path = NULL;

	if (n <= 0)
		n = 0;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	path = str_printf("%s/berth-local", slash ? self : "/usr/local/bin");
	if (!path)
		return 125;
	execv(path, argv);
	fprintf(stderr, "berth: --data-root needs %s: %s\n", path, strerror(errno));
	return 125;
}

/* The docker client's TLS files: those given, else ca.pem, cert.pem and
 * key.pem of the certificate directory, a missing cert.pem or key.pem
 * meaning no client certificate; with the files read, *out is set. */
static int tls_setup(const struct cli_globals *g, struct client_tls **out)
{
	_cleanup_free_ char *dir = cli_cert_dir();
	_cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL;
	struct client_tls_files files = { .verify = g->tls_verify };
	struct berr *err = NULL;
	struct stat st;

	if (!dir)
		return cli_report(NULL);
	ca = g->tls_ca ? strdup(g->tls_ca) : str_printf("%s/ca.pem", dir);
	cert = g->tls_cert ? strdup(g->tls_cert) : str_printf("%s/cert.pem", dir);
	key = g->tls_key ? strdup(g->tls_key) : str_printf("%s/key.pem", dir);
	if (!ca || !cert || !key)
		return cli_report(NULL);
	files.ca = ca;
	/* As the docker client: a default file that does not exist is none,
	 * one it cannot read is an error. */
	files.cert = g->tls_cert || stat(cert, &st) == 0 || errno != ENOENT ? cert : NULL;
	files.key = g->tls_key || stat(key, &st) == 0 || errno != ENOENT ? key : NULL;
	if (client_tls_new(&files, out, &err) < 0) {
		fprintf(stderr, "Failed to initialize: %s\n", err->msg);
		berr_free(err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_globals g;
	struct cli cli = { .prog = "berth" };
	struct client api = { 0 };
	struct client_tls *tls = NULL;
	const char *host;
	struct berr *err = NULL;
	int status;

	status = cli_globals_parse(argc, argv, &g, api_commands, CLI_N_OF(api_commands));
	if (status >= 0)
		return status;
	/* Without a daemon: the program that links the engine. */
	if (g.data_root && *g.data_root)
		return exec_local(argv);
	host = g.host;
	if (!host || !*host)
		host = getenv("BERTH_HOST");
	if (!host || !*host)
		host = getenv("DOCKER_HOST");
	if (!host || !*host)
		host = g.tls ? CLIENT_DEFAULT_TLS_HOST : CLIENT_DEFAULT_HOST;
	if (g.tls && (status = tls_setup(&g, &tls)) != 0)
		return status;
	if (client_init(&api, host, &err) < 0) {
		client_clear(&api);
		client_tls_free(tls);
		return api_report(err, 125);
	}
	api.tls = tls;
	cli.api = &api;
	status = cli_dispatch(&cli, NULL, api_commands, CLI_N_OF(api_commands), argc - optind,
			      argv + optind);
	fflush(stdout);
	client_clear(&api);
	client_tls_free(tls);
	return status;
}
