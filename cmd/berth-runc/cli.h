/* berth-runc: runc's command line over the runtime library.  Each command
 * parses its flags, calls one runtime operation and prints the result;
 * nothing of the container logic lives here. */
#ifndef BERTH_CMD_RUNC_CLI_H
#define BERTH_CMD_RUNC_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "lib/berr.h"
#include "runtime/runtime.h"

struct cli {
	struct runtime_config cfg;
	const char *prog;
	char **argv; /* the whole command line, to re-execute it */
};

/* Each returns the process exit status; errors are printed by
 * cli_report(). */
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_state(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_delete(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_resume(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_features(struct cli *cli, int argc, char **argv);
int cmd_spec(struct cli *cli, int argc, char **argv);

/* Prints ERR once (stderr, and the log when one is set); returns 1. */
int cli_report(struct berr *err);
/* Prints a usage error for COMMAND; returns 1. */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints OBJ (a new reference, taken) as JSON with jansson's FLAGS. */
int cli_print_json(json_t *obj, size_t flags);

/* "KILL", "SIGKILL", "9", "RTMIN+2" -> the signal number, -1 if unknown. */
int cli_parse_signal(const char *name);

/* Waits for PID (a child of this process), forwarding the signals a user
 * sends to it, and when MASTER >= 0 copying between the local terminal and
 * the pty master.  Returns the exit status as a shell reports it. */
int cli_wait_forwarding(pid_t pid, int master);

/* Blocks the signals cli_wait_forwarding forwards; call before the child
 * exists so none is lost. */
void cli_block_signals(void);

/* A listening console socket at a new temporary path for run/exec without
 * --console-socket; *path is owned by the caller.  Returns the fd or -1. */
int cli_console_listen(const char *state_root, char **path, struct berr **err);
/* Accepts on LISTEN_FD and receives the pty master. */
int cli_console_receive(int listen_fd, struct berr **err);

#endif
