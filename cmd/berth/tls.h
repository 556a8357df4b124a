/* TLS to the daemon for berth, the client, as the docker client's --tls,
 * --tlsverify, --tlscacert, --tlscert and --tlskey make it: OpenSSL loaded
 * at run time (only a client that asks for TLS pays for it), and each
 * connection's session run by a relay thread behind a socket pair, so the
 * rest of the client reads and writes plain file descriptors. */
#ifndef BERTH_CMD_BERTH_TLS_H
#define BERTH_CMD_BERTH_TLS_H

#include <stdbool.h>

#include "lib/berr.h"

struct client_tls_files {
	const char *ca;	  /* read even without verify, as the docker client does */
	const char *cert; /* NULL (with key) for no client certificate */
	const char *key;
	bool verify; /* check the daemon's certificate against CA, and its name */
};

/* The client's TLS settings, shared by its connections. */
struct client_tls;

/* Loads OpenSSL and the files of FILES (borrowed).  Sets BERR_INVALID with
 * the docker client's messages ("open /x/ca.pem: no such file or
 * directory", "ca.pem seems invalid", "no valid private key found" ...),
 * BERR_UNAVAILABLE when OpenSSL cannot be loaded. */
int client_tls_new(const struct client_tls_files *files, struct client_tls **out,
		   struct berr **err);
void client_tls_free(struct client_tls *t);

/* Runs the handshake over FD (connected; taken, closed on failure) with
 * the daemon NAME (its host name or address, checked against its
 * certificate when verifying; NULL for none), then hands the session to a
 * relay thread: *out is the caller's end of a socket pair that carries
 * the plain text, shutdown(SHUT_WR) on it sends close_notify, and EOF on
 * it is the daemon's end.  Sets BERR_UNAVAILABLE with the cause as Go's
 * TLS words it ("remote error: tls: bad certificate", "tls: failed to
 * verify certificate: x509: certificate signed by unknown authority"). */
int client_tls_connect(struct client_tls *t, int fd, const char *name, int *out, struct berr **err);

/* Why the session behind FD (an *out of client_tls_connect(), still open)
 * ended early, as above ("remote error: tls: certificate required" when
 * the daemon refused the certificate after the handshake, as TLS 1.3
 * does); malloc'd, NULL when it did not fail. */
char *client_tls_failure(int fd);

#endif
