/* A container's terminal: a pty made inside the container (on its own
 * devpts), its master sent to the caller's console socket with SCM_RIGHTS,
 * its slave made the controlling terminal and stdio of the process. */
#ifndef BERTH_RUNTIME_TERMINAL_H
#define BERTH_RUNTIME_TERMINAL_H

#include "lib/berr.h"

/* Connects to the unix socket at PATH (the --console-socket), before the
 * process leaves the host's mount namespace.  Returns the fd (O_CLOEXEC) or
 * -1 with BERR_INVALID. */
int runtime_terminal_connect(const char *path, struct berr **err);

/* Opens a new pty from /dev/ptmx (of the current root), sets its size when
 * WIDTH and HEIGHT are non-zero, sends the master over SOCK and closes it
 * locally, then makes the slave the controlling terminal (setsid, TIOCSCTTY)
 * and dup2s it over 0, 1 and 2. */
int runtime_terminal_setup(int sock, unsigned short width, unsigned short height,
			   struct berr **err);

/* Sends FD over the connected unix socket SOCK as SCM_RIGHTS with NAME as
 * the message bytes (runc sends the pty's path). */
int runtime_terminal_send_fd(int sock, int fd, const char *name, struct berr **err);

/* Receives one fd sent with runtime_terminal_send_fd (for tests and the
 * daemon).  Returns the fd or -1. */
int runtime_terminal_recv_fd(int sock, struct berr **err);

#endif
