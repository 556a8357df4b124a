/* Unix stream sockets that carry file descriptors: connecting to a path,
 * and sending or receiving one fd with SCM_RIGHTS along with a message.
 * Console sockets and seccomp listeners both work this way. */
#ifndef BERTH_LIB_UNIXSOCK_H
#define BERTH_LIB_UNIXSOCK_H

#include <stddef.h>

#include "lib/berr.h"

/* Connects to the unix stream socket at PATH (borrowed).  Returns the fd
 * (O_CLOEXEC), owned by the caller, or -1 with BERR_INVALID. */
int unixsock_connect(const char *path, struct berr **err);

/* Sends FD (still the caller's) with the LEN bytes of DATA (one NUL when
 * LEN is 0) over the connected stream socket SOCK.  Sets BERR_UNAVAILABLE
 * when the peer is gone. */
int unixsock_send_fd(int sock, int fd, const void *data, size_t len, struct berr **err);

/* Receives one fd sent that way; extra fds are closed and the message is
 * dropped.  Returns the fd (O_CLOEXEC), owned by the caller; -1 with
 * BERR_UNAVAILABLE when the peer closed, BERR_INVALID when the message
 * carried no fd. */
int unixsock_recv_fd(int sock, struct berr **err);

#endif
