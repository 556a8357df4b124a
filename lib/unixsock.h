/* Unix sockets that carry file descriptors: connecting to a path, and
 * sending or receiving fds with SCM_RIGHTS along with a message.
 * Console sockets and seccomp listeners both work this way. */
#ifndef BERTH_LIB_UNIXSOCK_H
#define BERTH_LIB_UNIXSOCK_H

#include <stddef.h>

#include "lib/berr.h"

/* Connects to the unix stream socket at PATH (borrowed).  Returns the fd
 * (O_CLOEXEC), owned by the caller, or -1 with BERR_INVALID. */
int unixsock_connect(const char *path, struct berr **err);

/* Most fds one message carries. */
#define UNIXSOCK_FDS_MAX 128

/* Sends the N_FDS (1 to UNIXSOCK_FDS_MAX) FDS, still the caller's, with
 * the LEN bytes of DATA (one NUL when LEN is 0) over the connected socket
 * SOCK (stream or seqpacket).  Sets BERR_UNAVAILABLE when the peer is
 * gone. */
int unixsock_send_fds(int sock, const int *fds, size_t n_fds, const void *data, size_t len,
		      struct berr **err);

/* Sends FD (still the caller's) with the LEN bytes of DATA (one NUL when
 * LEN is 0) over the connected stream socket SOCK.  Sets BERR_UNAVAILABLE
 * when the peer is gone. */
int unixsock_send_fd(int sock, int fd, const void *data, size_t len, struct berr **err);

/* Receives a message of at most SIZE bytes into BUF (*LEN gets its
 * length; LEN may be NULL) and the fds it carries into FDS (O_CLOEXEC,
 * owned by the caller; *N_FDS tells how many, extra ones past MAX are
 * closed).  -1 with BERR_UNAVAILABLE when the peer closed, BERR_INVALID
 * when the message carried no fd or did not fit. */
int unixsock_recv_fds(int sock, void *buf, size_t size, size_t *len, int *fds, size_t max,
		      size_t *n_fds, struct berr **err);

/* Receives one fd sent that way; extra fds are closed and the message is
 * dropped.  Returns the fd (O_CLOEXEC), owned by the caller; -1 with
 * BERR_UNAVAILABLE when the peer closed, BERR_INVALID when the message
 * carried no fd. */
int unixsock_recv_fd(int sock, struct berr **err);

#endif
