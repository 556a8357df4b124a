/* TLS for berthd's TCP listeners, as dockerd's --tls and --tlsverify do
 * it: one server context made from PEM files at start, and per connection
 * an OpenSSL engine over memory buffers.  Nothing here touches a socket:
 * the HTTP server feeds in what it read from its client and gets the plain
 * text out, hands in its answers as plain text and sends the records that
 * come out.  A connection that fails its handshake (no client certificate,
 * one of another CA, plain HTTP) gets an error to log and, when there is
 * one to give, a last word to send before it is closed. */
#ifndef BERTH_API_TLS_H
#define BERTH_API_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/berr.h"

struct api_tls_config {
	const char *ca_file;   /* CA that signs clients' certificates (PEM) */
	const char *cert_file; /* the server's certificate chain (PEM) */
	const char *key_file;  /* its private key (PEM) */
	/* Require a client certificate signed by ca_file (--tlsverify);
	 * otherwise no client certificate is asked for (--tls). */
	bool verify;
};

/* A server context, shared by its connections. */
struct api_tls;
/* One connection's TLS session. */
struct api_tls_conn;

/* Loads the files of CFG (borrowed).  Sets BERR_INVALID naming the file
 * that cannot be read or used, BERR_INTERNAL. */
int api_tls_new(const struct api_tls_config *cfg, struct api_tls **out, struct berr **err);
void api_tls_free(struct api_tls *tls);

/* A new server-side session of TLS (borrowed: it must outlive the
 * session); NULL when out of memory. */
struct api_tls_conn *api_tls_conn_new(struct api_tls *tls);
void api_tls_conn_free(struct api_tls_conn *t);

/* Takes the LEN bytes of DATA the client sent: the handshake goes on, and
 * the plain text they complete is put in *out (malloc'd, the caller's;
 * NULL when there is none) and its length in *out_len.  *eof is set when
 * the client closed its side of the session (close_notify).  Afterwards,
 * records may wait to be sent (api_tls_conn_pending()) even on failure: a
 * failed handshake's alert, or Go's plain-text answer to a plain HTTP
 * request.  Sets BERR_FORBIDDEN when the handshake failed (no client
 * certificate, one of another CA, no TLS at all), BERR_INVALID for plain
 * HTTP or a broken session, BERR_INTERNAL. */
int api_tls_conn_decrypt(struct api_tls_conn *t, const void *data, size_t len, char **out,
			 size_t *out_len, bool *eof, struct berr **err);

/* Encrypts the LEN bytes of DATA into records to send.  Sets
 * BERR_INTERNAL (the handshake is not done, or the session failed). */
int api_tls_conn_encrypt(struct api_tls_conn *t, const void *data, size_t len, struct berr **err);

/* Ends the session cleanly: queues a close_notify, once, unless the
 * session failed. */
void api_tls_conn_close_notify(struct api_tls_conn *t);

/* How many bytes of records wait to be sent; moving them out (up to CAP
 * into BUF) returns how many were moved. */
size_t api_tls_conn_pending(const struct api_tls_conn *t);
size_t api_tls_conn_take(struct api_tls_conn *t, void *buf, size_t cap);

/* "TLSv1.3 TLS_AES_128_GCM_SHA256, client CN=..." once the handshake is
 * done, for the log; borrowed from T, NULL before. */
const char *api_tls_conn_describe(struct api_tls_conn *t);

#endif
