/* TLS sessions over memory buffers (OpenSSL): the read buffer takes what
 * the client sent, the write buffer collects the records to send, and the
 * server's socket code moves bytes between them and its stream.  TLS 1.2
 * at least, as dockerd; no renegotiation and no session resumption, so
 * every connection's client certificate is checked in full. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "api/tls.h"

/* What Go's HTTP server answers a plain HTTP request on its TLS port. */
#define PLAIN_HTTP_ANSWER                  \
	"HTTP/1.0 400 Bad Request\r\n\r\n" \
	"Client sent an HTTP request to an HTTPS server.\n"

/* Room kept for a record's plain text while decrypting. */
#define RECORD_ROOM (16 * 1024 + 256)

struct api_tls {
	SSL_CTX *ctx;
};

struct api_tls_conn {
	SSL *ssl;
	BIO *rbio, *wbio; /* the SSL's */
	bool failed;	  /* a fatal error: no more reads, writes or notify */
	bool notified;
	char *desc;
};

/* The reason of the oldest error OpenSSL queued ("no start line",
 * "certificate verify failed"...), and clears the queue. */
static const char *ssl_reason(char *buf, size_t size)
{
	unsigned long code = ERR_peek_error();
	const char *r = code ? ERR_reason_error_string(code) : NULL;

	if (r)
		snprintf(buf, size, "%s", r);
	else if (code)
		ERR_error_string_n(code, buf, size);
	else
		snprintf(buf, size, "unknown error");
	ERR_clear_error();
	return buf;
}

/* Whether PATH can be opened, for an error that names it and says why. */
static int check_file(const char *what, const char *path, struct berr **err)
{
	int fd;

	if (!path || !*path)
		return berr_set(err, BERR_INVALID, 0, "no %s given", what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INVALID, errno, "could not read the %s %s", what, path);
	close(fd);
	return 0;
}

static int load(SSL_CTX *ctx, const struct api_tls_config *cfg, struct berr **err)
{
	static const char ca_what[] = "TLS CA certificate (--tlscacert)";
	static const char cert_what[] = "TLS certificate (--tlscert)";
	static const char key_what[] = "TLS key (--tlskey)";
	char why[256];

	if (check_file(cert_what, cfg->cert_file, err) < 0 ||
	    check_file(key_what, cfg->key_file, err) < 0 ||
	    (cfg->verify && check_file(ca_what, cfg->ca_file, err) < 0))
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
		return berr_set(err, BERR_INVALID, 0, "could not load the %s %s: %s", cert_what,
				cfg->cert_file, ssl_reason(why, sizeof(why)));
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1)
		return berr_set(err, BERR_INVALID, 0, "could not load the %s %s: %s", key_what,
				cfg->key_file, ssl_reason(why, sizeof(why)));
	if (SSL_CTX_check_private_key(ctx) != 1)
		return berr_set(err, BERR_INVALID, 0,
				"the TLS key %s does not match the certificate %s: %s",
				cfg->key_file, cfg->cert_file, ssl_reason(why, sizeof(why)));
	if (!cfg->verify)
		return 0;
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
		return berr_set(err, BERR_INVALID, 0, "could not load the %s %s: %s", ca_what,
				cfg->ca_file, ssl_reason(why, sizeof(why)));
	/* The CAs a client's certificate must come from, as Go's server
	 * names them in its request. */
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
	if (!names)
		return berr_set(err, BERR_INVALID, 0, "could not load the %s %s: %s", ca_what,
				cfg->ca_file, ssl_reason(why, sizeof(why)));
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

int api_tls_new(const struct api_tls_config *cfg, struct api_tls **out, struct berr **err)
{
	struct api_tls *tls = calloc(1, sizeof(*tls));
	char why[256];

	if (!tls)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
	ERR_clear_error();
	tls->ctx = SSL_CTX_new(TLS_server_method());
	if (!tls->ctx) {
		free(tls);
		return berr_set(err, BERR_INTERNAL, 0, "TLS: %s", ssl_reason(why, sizeof(why)));
	}
	SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(tls->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
					      SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(tls->ctx, 0);
	SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_OFF);
	/* An idle connection keeps no record buffers. */
	SSL_CTX_set_mode(tls->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (load(tls->ctx, cfg, err) < 0) {
		api_tls_free(tls);
		return -1;
	}
	*out = tls;
	return 0;
}

void api_tls_free(struct api_tls *tls)
{
	if (!tls)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls);
}

struct api_tls_conn *api_tls_conn_new(struct api_tls *tls)
{
	struct api_tls_conn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ssl = SSL_new(tls->ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_accept_state(t->ssl);
	return t;
}

void api_tls_conn_free(struct api_tls_conn *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	free(t->desc);
	free(t);
}

/* Marks the session failed and sets ERR from what OpenSSL says. */
static int session_failed(struct api_tls_conn *t, int ssl_error, struct berr **err)
{
	unsigned long code = ERR_peek_error();
	bool handshake = !SSL_is_init_finished(t->ssl);
	char why[256];
	long verify;

	t->failed = true;
	if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST) {
		ERR_clear_error();
		/* No alert for a client that would not understand it: Go's
		 * plain-text answer instead. */
		(void)BIO_reset(t->wbio);
		BIO_write(t->wbio, PLAIN_HTTP_ANSWER, (int)strlen(PLAIN_HTTP_ANSWER));
		return berr_set(err, BERR_INVALID, 0, "the client sent plain HTTP to the TLS port");
	}
	if (!code && ssl_error == SSL_ERROR_SYSCALL) {
		snprintf(why, sizeof(why), "unexpected end of the stream");
	} else if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
		   ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
		   (verify = SSL_get_verify_result(t->ssl)) != X509_V_OK) {
		ERR_clear_error();
		snprintf(why, sizeof(why), "client certificate verify failed: %s",
			 X509_verify_cert_error_string(verify));
	} else {
		ssl_reason(why, sizeof(why));
	}
	if (handshake)
		return berr_set(err, BERR_FORBIDDEN, 0, "TLS handshake failed: %s", why);
	return berr_set(err, BERR_INVALID, 0, "TLS: %s", why);
}

int api_tls_conn_decrypt(struct api_tls_conn *t, const void *data, size_t len, char **out,
			 size_t *out_len, bool *eof, struct berr **err)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;

	*out = NULL;
	*out_len = 0;
	if (t->failed)
		return berr_set(err, BERR_INVALID, 0, "TLS: the session has failed");
	if (len > INT_MAX)
		return berr_set(err, BERR_INTERNAL, 0, "TLS: %zu bytes at once", len);
	ERR_clear_error();
	if (len > 0 && BIO_write(t->rbio, data, (int)len) != (int)len) {
		t->failed = true;
		ERR_clear_error();
		return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
	}
	for (;;) {
		size_t got = 0;
		int r, e;

		if (cap - n < RECORD_ROOM) {
			/* Plain text is never longer than its records. */
			size_t ncap = cap ? cap * 2 : len + RECORD_ROOM;
			char *nbuf = realloc(buf, ncap);

			if (!nbuf) {
				free(buf);
				t->failed = true;
				return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
			}
			buf = nbuf;
			cap = ncap;
		}
		r = SSL_read_ex(t->ssl, buf + n, cap - n, &got);
		if (r == 1) {
			n += got;
			continue;
		}
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			*eof = true;
			break;
		}
		free(buf);
		return session_failed(t, e, err);
	}
	ERR_clear_error();
	if (n == 0) {
		free(buf);
		return 0;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

int api_tls_conn_encrypt(struct api_tls_conn *t, const void *data, size_t len, struct berr **err)
{
	const char *p = data;
	char why[256];

	if (t->failed || !SSL_is_init_finished(t->ssl))
		return berr_set(err, BERR_INTERNAL, 0, "TLS: no session to write to");
	ERR_clear_error();
	while (len > 0) {
		size_t written = 0;

		if (SSL_write_ex(t->ssl, p, len, &written) != 1) {
			t->failed = true;
			return berr_set(err, BERR_INTERNAL, 0, "TLS: %s",
					ssl_reason(why, sizeof(why)));
		}
		p += written;
		len -= written;
	}
	return 0;
}

void api_tls_conn_close_notify(struct api_tls_conn *t)
{
	if (t->failed || t->notified || !SSL_is_init_finished(t->ssl))
		return;
	t->notified = true;
	ERR_clear_error();
	/* 0 (ours sent, theirs not seen) is all a server waits for. */
	SSL_shutdown(t->ssl);
	ERR_clear_error();
}

size_t api_tls_conn_pending(const struct api_tls_conn *t)
{
	return BIO_ctrl_pending(t->wbio);
}

size_t api_tls_conn_take(struct api_tls_conn *t, void *buf, size_t cap)
{
	int n = BIO_read(t->wbio, buf, cap > INT_MAX ? INT_MAX : (int)cap);

	return n > 0 ? (size_t)n : 0;
}

const char *api_tls_conn_describe(struct api_tls_conn *t)
{
	char subject[256] = "none";
	X509 *peer;

	if (t->desc || t->failed || !SSL_is_init_finished(t->ssl))
		return t->desc;
	peer = SSL_get1_peer_certificate(t->ssl);
	if (peer) {
		X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof(subject));
		X509_free(peer);
	}
	if (asprintf(&t->desc, "%s %s, client certificate %s", SSL_get_version(t->ssl),
		     SSL_get_cipher_name(t->ssl), subject) < 0)
		t->desc = NULL;
	return t->desc;
}
