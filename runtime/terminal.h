/* A container's terminal: a pty made inside the container (on its own
 * devpts), its master sent to the caller's console socket with SCM_RIGHTS,
 * its slave made the controlling terminal and stdio of the process.  The
 * console socket itself is connected with unixsock_connect(). */
#ifndef BERTH_RUNTIME_TERMINAL_H
#define BERTH_RUNTIME_TERMINAL_H

#include "lib/berr.h"

/* Opens a new pty from /dev/ptmx (of the current root), sets its size when
 * WIDTH and HEIGHT are non-zero, sends the master over SOCK and closes it
 * locally, then makes the slave the controlling terminal (setsid, TIOCSCTTY)
 * and dup2s it over 0, 1 and 2. */
int runtime_terminal_setup(int sock, unsigned short width, unsigned short height,
			   struct berr **err);

#endif
