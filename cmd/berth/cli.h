/* berth: Docker's command line.  Until the daemon serves the Engine API the
 * commands call the engine's libraries directly on the data root; each
 * command parses its flags, calls one library operation and prints what
 * `docker` prints. */
#ifndef BERTH_CMD_BERTH_CLI_H
#define BERTH_CMD_BERTH_CLI_H

#include <stdbool.h>

#include "image/image.h"
#include "lib/berr.h"

/* The directory for runtime state (container state, mounts) when none is
 * given. */
#define CLI_DEFAULT_EXEC_ROOT "/run/berth"

struct cli {
	const char *prog;
	const char *data_root; /* --data-root, $BERTH_DATA_ROOT */
	const char *exec_root; /* --exec-root, $BERTH_EXEC_ROOT */
	struct image_store *images; /* opened on first use by cli_images() */
};

/* The image store of the data root, opened on first use and owned by
 * CLI; NULL with the error printed when it cannot be opened. */
struct image_store *cli_images(struct cli *cli);

/* Each command returns the process exit status; errors are printed by
 * cli_report().  ARGV[0] is the command's own name. */

/* images.c */
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_image_inspect(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);

/* containers.c */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_commit(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_container_inspect(struct cli *cli, int argc, char **argv);

/* Prints ERR as docker does ("Error response from daemon: ..." is the
 * daemon's; here "Error: MESSAGE") on stderr; returns the exit status
 * for it (1). */
int cli_report(struct berr *err);
/* Prints a usage error for COMMAND ("\"berth COMMAND\" requires ...")
 * with a pointer to --help; returns 1. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
