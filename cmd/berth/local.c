/* berth-local: berth's commands without a daemon, on a data root
 * (--data-root, $BERTH_DATA_ROOT, else /var/lib/berth), through the
 * engine's libraries, as scripts and image builds use them.  `berth`
 * executes it, with the same arguments, when given a data root: so the
 * client, the program of every other command, does not load the engine's
 * libraries (SQLite, libarchive, libseccomp, OpenSSL...). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth-config.h"
#include "cmd/berth/cli.h"
#include "daemon/container.h"
#include "lib/log.h"

static int cmd_image(struct cli *cli, int argc, char **argv);
static int cmd_container(struct cli *cli, int argc, char **argv);
static int cmd_inspect(struct cli *cli, int argc, char **argv);
static int cmd_version(struct cli *cli, int argc, char **argv);

static const struct cli_command local_commands[] = {
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

static const struct cli_command image_commands[] = {
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

static const struct cli_command container_commands[] = {
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

static int cmd_image(struct cli *cli, int argc, char **argv)
{
	return cli_management(cli, "image", "Manage images", image_commands,
			      CLI_N_OF(image_commands), argc, argv);
}

static int cmd_container(struct cli *cli, int argc, char **argv)
{
	return cli_management(cli, "container", "Manage containers", container_commands,
			      CLI_N_OF(container_commands), argc, argv);
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
	struct cli_globals g;
	struct cli cli = { .prog = "berth" };
	struct berr *err = NULL;
	int status;

	status = cli_globals_parse(argc, argv, &g, local_commands, CLI_N_OF(local_commands));
	if (status >= 0)
		return status;
	if (g.host) {
		fprintf(stderr, "berth: -H needs the client, berth, not berth-local\n");
		return 125;
	}
	cli.data_root = g.data_root && *g.data_root ? g.data_root : IMAGE_STORE_DEFAULT_ROOT;
	cli.exec_root = g.exec_root && *g.exec_root ? g.exec_root : CLI_DEFAULT_EXEC_ROOT;
	if (blog_open(NULL, BLOG_FORMAT_TEXT, (enum blog_level)g.log_level, &err) < 0)
		return cli_report(err);
	status = cli_dispatch(&cli, NULL, local_commands, CLI_N_OF(local_commands), argc - optind,
			      argv + optind);
	fflush(stdout);
	image_store_free(cli.images);
	return status;
}
