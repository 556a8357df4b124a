/* TLS to the daemon (see tls.h).
 *
 * Why OpenSSL is loaded with dlopen() rather than linked: libssl and
 * libcrypto are megabytes of code with thousands of relocations, and a
 * program linked to them pays for mapping and relocating them (and for
 * their constructors) at every start, TLS or not: about 2 ms of the
 * client's few.  Loaded here, on the first TLS connection's behalf, only a
 * client given --tls or --tlsverify pays.  The functions are looked up by
 * the names of OpenSSL's own headers, their types taken from the
 * declarations, so the compiler checks every call as if linked.
 *
 * Why a relay thread: the client reads and writes its connections as file
 * descriptors (http_parser over read(), poll() over stdin, the daemon and
 * signals for attach and exec, shutdown() for the end of stdin).  Each TLS
 * session gets a thread that moves plain text between one end of a socket
 * pair, which the client uses as its connection, and OpenSSL over the TCP
 * socket; the client's code stays the same.  The relays block no signal
 * the client handles (they block all of them), never block on a full pair
 * (both sockets are non-blocking, with a buffer each way), and take a
 * lock around their OpenSSL calls that exit() takes for good first, so
 * that no relay is inside OpenSSL while the process ends. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cmd/berth/tls.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"

/* "libssl.so.3": the soname of the OpenSSL the headers are of. */
#define TLS_LIBRARY "libssl.so." OPENSSL_MSTR(OPENSSL_VERSION_MAJOR)

/* A certificate or key file larger than this is not one. */
#define TLS_FILE_MAX (1024 * 1024)

/* Each direction's buffer: one TLS record's plain text. */
#define TLS_RELAY_BUF 16384

#define TLS_FUNCTIONS(X)                 \
	X(OPENSSL_init_ssl)              \
	X(TLS_client_method)             \
	X(SSL_CTX_new)                   \
	X(SSL_CTX_free)                  \
	X(SSL_CTX_ctrl)                  \
	X(SSL_CTX_set_verify)            \
	X(SSL_CTX_get_cert_store)        \
	X(SSL_CTX_use_certificate)       \
	X(SSL_CTX_use_PrivateKey)        \
	X(SSL_CTX_check_private_key)     \
	X(SSL_CTX_set_info_callback)     \
	X(SSL_new)                       \
	X(SSL_free)                      \
	X(SSL_set_fd)                    \
	X(SSL_ctrl)                      \
	X(SSL_set_ex_data)               \
	X(SSL_get_ex_data)               \
	X(SSL_get0_param)                \
	X(SSL_connect)                   \
	X(SSL_read)                      \
	X(SSL_write)                     \
	X(SSL_shutdown)                  \
	X(SSL_get_error)                 \
	X(SSL_get_verify_result)         \
	X(BIO_new_mem_buf)               \
	X(BIO_free)                      \
	X(PEM_read_bio_X509)             \
	X(PEM_read_bio_PrivateKey)       \
	X(X509_free)                     \
	X(EVP_PKEY_free)                 \
	X(X509_STORE_add_cert)           \
	X(X509_VERIFY_PARAM_set1_host)   \
	X(X509_VERIFY_PARAM_set1_ip_asc) \
	X(X509_verify_cert_error_string) \
	X(ERR_get_error)                 \
	X(ERR_clear_error)               \
	X(ERR_reason_error_string)

static struct {
#define TLS_MEMBER(name) __typeof__(&name) name;
	TLS_FUNCTIONS(TLS_MEMBER)
#undef TLS_MEMBER
} ossl;

/* A call through the table; the parentheses keep a function-like macro
 * of the same name from expanding. */
#define OSSL(name) (ossl.name)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

/* Held by a relay around each OpenSSL call, and taken for good at exit. */
static pthread_mutex_t ssl_lock = PTHREAD_MUTEX_INITIALIZER;

static void quiesce(void)
{
	pthread_mutex_lock(&ssl_lock);
}

static void load(void)
{
	void *h = dlopen(TLS_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
	/* Symbols of libcrypto come through libssl's handle, which searches
	 * the libraries it loaded. */
#define TLS_LOOKUP(name)                                                                      \
	ossl.name = (__typeof__(ossl.name))dlsym(h, #name);                                   \
	if (!ossl.name) {                                                                     \
		snprintf(load_error, sizeof(load_error), "%s has no %s", TLS_LIBRARY, #name); \
		return;                                                                       \
	}
	TLS_FUNCTIONS(TLS_LOOKUP)
#undef TLS_LOOKUP
	/* No cleanup of OpenSSL's own at exit: relays may still hold
	 * sessions then. */
	if (!OSSL(OPENSSL_init_ssl)(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS |
					    OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
				    NULL)) {
		snprintf(load_error, sizeof(load_error), "%s: initialization failed", TLS_LIBRARY);
		return;
	}
	atexit(quiesce);
}

struct client_tls {
	SSL_CTX *ctx;
	bool verify;
};

/* Go's words for an errno: strerror() without its capital. */
static void go_strerror(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* Reads PATH whole; "unable to resolve berth endpoint: open PATH: ..." as
 * the docker client words it. */
static int read_pem(const char *path, char **out, size_t *len, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char why[128];

	if (fd < 0) {
		go_strerror(errno, why, sizeof(why));
		return berr_set(err, BERR_INVALID, 0,
				"unable to resolve berth endpoint: open %s: %s", path, why);
	}
	if (fs_read_all_fd(fd, TLS_FILE_MAX, out, len, NULL) < 0) {
		go_strerror(errno ? errno : EFBIG, why, sizeof(why));
		return berr_set(err, BERR_INVALID, 0,
				"unable to resolve berth endpoint: read %s: %s", path, why);
	}
	return 0;
}

static int add_ca(SSL_CTX *ctx, const char *pem, size_t len, struct berr **err)
{
	BIO *bio = OSSL(BIO_new_mem_buf)(pem, (int)len);
	X509_STORE *store = OSSL(SSL_CTX_get_cert_store)(ctx);
	X509 *x;
	int n = 0;

	if (!bio)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "CA certificate");
	while ((x = OSSL(PEM_read_bio_X509)(bio, NULL, NULL, NULL))) {
		if (OSSL(X509_STORE_add_cert)(store, x) == 1)
			n++;
		OSSL(X509_free)(x);
	}
	OSSL(BIO_free)(bio);
	OSSL(ERR_clear_error)();
	if (n == 0)
		return berr_set(err, BERR_INVALID, 0,
				"failed to retrieve context tls info: ca.pem seems invalid");
	return 0;
}

/* The client's certificate (and the chain after it) and its key, with
 * the messages of the docker client. */
static int add_pair(SSL_CTX *ctx, const char *cert, size_t cert_len, const char *key,
		    size_t key_len, struct berr **err)
{
	BIO *bio;
	X509 *x;
	EVP_PKEY *pkey;
	int rc = 0;

	if (!memmem(key, key_len, "-----BEGIN ", 11))
		return berr_set(err, BERR_INVALID, 0, "no valid private key found");
	bio = OSSL(BIO_new_mem_buf)(cert, (int)cert_len);
	if (!bio)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "certificate");
	x = OSSL(PEM_read_bio_X509)(bio, NULL, NULL, NULL);
	if (!x) {
		rc = berr_set(err, BERR_INVALID, 0,
			      "failed to retrieve context tls info: tls: failed to find any PEM "
			      "data in certificate input");
	} else if (OSSL(SSL_CTX_use_certificate)(ctx, x) != 1) {
		rc = berr_set(err, BERR_INVALID, 0,
			      "failed to retrieve context tls info: x509: malformed certificate");
	} else {
		X509 *more;

		while ((more = OSSL(PEM_read_bio_X509)(bio, NULL, NULL, NULL)))
			if (OSSL(SSL_CTX_ctrl)(ctx, SSL_CTRL_EXTRA_CHAIN_CERT, 0, more) != 1)
				OSSL(X509_free)(more);
	}
	OSSL(X509_free)(x);
	OSSL(BIO_free)(bio);
	OSSL(ERR_clear_error)();
	if (rc < 0)
		return rc;
	bio = OSSL(BIO_new_mem_buf)(key, (int)key_len);
	if (!bio)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "key");
	pkey = OSSL(PEM_read_bio_PrivateKey)(bio, NULL, NULL, NULL);
	OSSL(BIO_free)(bio);
	if (!pkey)
		rc = berr_set(err, BERR_INVALID, 0,
			      "failed to retrieve context tls info: tls: failed to parse private "
			      "key");
	else if (OSSL(SSL_CTX_use_PrivateKey)(ctx, pkey) != 1 ||
		 OSSL(SSL_CTX_check_private_key)(ctx) != 1)
		rc = berr_set(err, BERR_INVALID, 0,
			      "failed to retrieve context tls info: tls: private key does not "
			      "match public key");
	OSSL(EVP_PKEY_free)(pkey);
	OSSL(ERR_clear_error)();
	return rc;
}

static void info_callback(const SSL *ssl, int where, int ret);

int client_tls_new(const struct client_tls_files *files, struct client_tls **out, struct berr **err)
{
	_cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL;
	size_t ca_len = 0, cert_len = 0, key_len = 0;
	struct client_tls *t;
	bool pair = files->cert && files->key;

	/* The files first, as the docker client reads them before it
	 * parses any. */
	if (read_pem(files->ca, &ca, &ca_len, err) < 0 ||
	    (pair && read_pem(files->cert, &cert, &cert_len, err) < 0) ||
	    (pair && read_pem(files->key, &key, &key_len, err) < 0))
		return -1;
	pthread_once(&load_once, load);
	if (load_error[0])
		return berr_set(err, BERR_UNAVAILABLE, 0, "TLS: %s", load_error);
	t = calloc(1, sizeof(*t));
	if (!t)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
	t->verify = files->verify;
	t->ctx = OSSL(SSL_CTX_new)(OSSL(TLS_client_method)());
	if (!t->ctx) {
		free(t);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS context");
	}
	/* Go's client takes TLS 1.2 and later. */
	OSSL(SSL_CTX_ctrl)(t->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	OSSL(SSL_CTX_ctrl)(t->ctx, SSL_CTRL_MODE, SSL_MODE_AUTO_RETRY, NULL);
	OSSL(SSL_CTX_set_verify)(t->ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	OSSL(SSL_CTX_set_info_callback)(t->ctx, info_callback);
	if (add_ca(t->ctx, ca, ca_len, err) < 0 ||
	    (pair && add_pair(t->ctx, cert, cert_len, key, key_len, err) < 0)) {
		client_tls_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void client_tls_free(struct client_tls *t)
{
	/* The context stays: relays' sessions hold references of their
	 * own, and OpenSSL frees it with the last. */
	if (!t)
		return;
	OSSL(SSL_CTX_free)(t->ctx);
	free(t);
}

/*
 * One session: its handshake, its failures as Go words them, its relay.
 */

struct relay {
	struct relay *next;
	SSL *ssl;
	int sock;	  /* the daemon's TCP connection */
	int pair;	  /* the relay's end of the socket pair */
	int user_fd;	  /* the client's end: the key of client_tls_failure() */
	int alert;	  /* the last alert the daemon sent, -1 for none */
	const char *name; /* the daemon's name, during the handshake */
	char *failure;	  /* why the session ended early; NULL when it did not */
	/* The daemon's plain text on its way to the pair, the pair's on its
	 * way to the daemon; freed with the session, as a failed relay's
	 * entry stays. */
	char *in, *out;
};

/* The relays whose client's end is open, newest first, and those that
 * failed (kept with their cause). */
static pthread_mutex_t relays_lock = PTHREAD_MUTEX_INITIALIZER;
static struct relay *relays;

static void info_callback(const SSL *ssl, int where, int ret)
{
	struct relay *r;

	if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT)
		return;
	r = OSSL(SSL_get_ex_data)(ssl, 0);
	if (r)
		r->alert = ret & 0xff;
}

/* Go's crypto/tls names of the alerts. */
static const char *alert_text(int alert)
{
	static const struct {
		int code;
		const char *text;
	} names[] = {
		{ 0, "close notify" },
		{ 10, "unexpected message" },
		{ 20, "bad record MAC" },
		{ 21, "decryption failed" },
		{ 22, "record overflow" },
		{ 40, "handshake failure" },
		{ 42, "bad certificate" },
		{ 43, "unsupported certificate" },
		{ 44, "revoked certificate" },
		{ 45, "expired certificate" },
		{ 46, "unknown certificate" },
		{ 47, "illegal parameter" },
		{ 48, "unknown certificate authority" },
		{ 49, "access denied" },
		{ 50, "error decoding message" },
		{ 51, "error decrypting message" },
		{ 70, "protocol version not supported" },
		{ 71, "insufficient security level" },
		{ 80, "internal error" },
		{ 86, "inappropriate fallback" },
		{ 90, "user canceled" },
		{ 109, "missing extension" },
		{ 110, "unsupported extension" },
		{ 112, "unrecognized name" },
		{ 116, "certificate required" },
		{ 120, "no application protocol" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == alert)
			return names[i].text;
	return "alert";
}

/* Why the call that returned RET with SSL_get_error() CODE failed, in
 * Go's words; malloc'd (NULL when out of memory). */
static char *failure_text(struct relay *r, bool handshake, bool verify, int code, int saved_errno)
{
	unsigned long e = OSSL(ERR_get_error)();
	long v;
	char why[128];

	OSSL(ERR_clear_error)();
	if (r->alert > 0)
		return str_printf("remote error: tls: %s", alert_text(r->alert));
	if (handshake && verify && (v = OSSL(SSL_get_verify_result)(r->ssl)) != X509_V_OK) {
		const char *what;

		switch (v) {
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
			what = "certificate signed by unknown authority";
			break;
		case X509_V_ERR_CERT_HAS_EXPIRED:
		case X509_V_ERR_CERT_NOT_YET_VALID:
			what = "certificate has expired or is not yet valid";
			break;
		case X509_V_ERR_HOSTNAME_MISMATCH:
		case X509_V_ERR_IP_ADDRESS_MISMATCH:
			return str_printf("tls: failed to verify certificate: x509: certificate is "
					  "not valid for %s",
					  r->name ? r->name : "the daemon");
		default:
			what = OSSL(X509_verify_cert_error_string)(v);
		}
		return str_printf("tls: failed to verify certificate: x509: %s", what);
	}
	if (e && ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER)
		return strdup("tls: first record does not look like a TLS handshake");
	if (e && OSSL(ERR_reason_error_string)(e))
		return str_printf("tls: %s", OSSL(ERR_reason_error_string)(e));
	if (code == SSL_ERROR_SYSCALL && saved_errno) {
		go_strerror(saved_errno, why, sizeof(why));
		return strdup(why);
	}
	return strdup("EOF");
}

static void relay_fail(struct relay *r, char *text)
{
	pthread_mutex_lock(&relays_lock);
	if (!r->failure)
		r->failure = text ? text : strdup("EOF");
	else
		free(text);
	pthread_mutex_unlock(&relays_lock);
}

/* Takes R out of the list unless it failed (its cause stays to be
 * asked for), and frees what the session held. */
static void relay_end(struct relay *r)
{
	struct relay **p;
	bool keep;

	pthread_mutex_lock(&ssl_lock);
	OSSL(SSL_free)(r->ssl);
	pthread_mutex_unlock(&ssl_lock);
	r->ssl = NULL;
	close(r->sock);
	close(r->pair);
	free(r->in);
	free(r->out);
	r->in = r->out = NULL;
	pthread_mutex_lock(&relays_lock);
	keep = r->failure != NULL;
	if (!keep)
		for (p = &relays; *p; p = &(*p)->next)
			if (*p == r) {
				*p = r->next;
				break;
			}
	pthread_mutex_unlock(&relays_lock);
	if (!keep)
		free(r);
}

/* The relay: the daemon's plain text to the pair, the pair's to the
 * daemon, until the client closes its end (or both directions ended). */
static void *relay_main(void *arg)
{
	struct relay *r = arg;
	size_t in_len = 0, in_off = 0, out_len = 0;
	bool reading = true, writing = true, notify = false, failed = false, again = true;
	short read_wants = POLLIN, write_wants = POLLOUT;

	while (reading || writing || in_len) {
		struct pollfd p[2] = { { .fd = r->sock }, { .fd = r->pair } };
		int n, code = 0, saved = 0;

		if (reading && !in_len)
			p[0].events |= read_wants;
		if (out_len)
			p[0].events |= write_wants;
		if (in_len)
			p[1].events |= POLLOUT;
		if (writing && !out_len)
			p[1].events |= POLLIN;
		if (poll(p, 2, again ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		again = false;
		/* The client closed its end: nobody is left to serve. */
		if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[1].revents & POLLIN))
			break;
		if (in_len && (p[1].revents & POLLOUT)) {
			ssize_t w = send(r->pair, r->in + in_off, in_len - in_off, MSG_NOSIGNAL);

			if (w < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (w > 0 && (in_off += (size_t)w) == in_len)
				in_len = in_off = 0;
		}
		if (reading && !in_len) {
			pthread_mutex_lock(&ssl_lock);
			errno = 0;
			n = OSSL(SSL_read)(r->ssl, r->in, TLS_RELAY_BUF);
			saved = errno;
			if (n <= 0)
				code = OSSL(SSL_get_error)(r->ssl, n);
			pthread_mutex_unlock(&ssl_lock);
			if (n > 0) {
				in_len = (size_t)n;
				/* More may wait inside OpenSSL, where poll() does
				 * not see it. */
				again = true;
			} else if (code == SSL_ERROR_WANT_READ) {
				read_wants = POLLIN;
			} else if (code == SSL_ERROR_WANT_WRITE) {
				read_wants = POLLOUT;
			} else {
				if (code != SSL_ERROR_ZERO_RETURN) {
					pthread_mutex_lock(&ssl_lock);
					relay_fail(r, failure_text(r, false, false, code, saved));
					pthread_mutex_unlock(&ssl_lock);
					failed = true;
				}
				reading = false;
				shutdown(r->pair, SHUT_WR);
			}
		}
		if (writing && !out_len && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t got = read(r->pair, r->out, TLS_RELAY_BUF);

			if (got > 0 && !failed) {
				out_len = (size_t)got;
			} else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				writing = false;
				notify = !failed;
			}
		}
		if (out_len) {
			pthread_mutex_lock(&ssl_lock);
			n = OSSL(SSL_write)(r->ssl, r->out, (int)out_len);
			if (n <= 0)
				code = OSSL(SSL_get_error)(r->ssl, n);
			pthread_mutex_unlock(&ssl_lock);
			if (n > 0) {
				out_len = 0;
				write_wants = POLLOUT;
			} else if (code == SSL_ERROR_WANT_WRITE) {
				write_wants = POLLOUT;
			} else if (code == SSL_ERROR_WANT_READ) {
				write_wants = POLLIN;
			} else {
				/* The daemon is gone; what the client sends
				 * goes nowhere. */
				out_len = 0;
				failed = true;
				notify = false;
			}
		}
		if (notify && !out_len) {
			/* The end of the client's input: close_notify,
			 * which berthd takes as the end of stdin. */
			pthread_mutex_lock(&ssl_lock);
			OSSL(SSL_shutdown)(r->ssl);
			OSSL(ERR_clear_error)();
			pthread_mutex_unlock(&ssl_lock);
			notify = false;
		}
	}
	relay_end(r);
	return NULL;
}

static bool is_address(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* SSL_connect() on SSL, with the errno of its failure in *saved.  OpenSSL
 * writes to the socket with write(), and a daemon that closes in the
 * middle must be an error, not the SIGPIPE that would end the program:
 * the signal is blocked for the time of the call, and one it raised is
 * taken before it is unblocked. */
static int handshake(SSL *ssl, int *saved)
{
	static const struct timespec now = { 0, 0 };
	sigset_t pipe, old, pending;
	bool was_pending;
	int ret;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	errno = 0;
	ret = OSSL(SSL_connect)(ssl);
	*saved = errno;
	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE))
		sigtimedwait(&pipe, NULL, &now);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int client_tls_connect(struct client_tls *t, int fd, const char *name, int *out, struct berr **err)
{
	struct relay *r = calloc(1, sizeof(*r));
	int sv[2] = { -1, -1 }, ret, code, saved;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	char *why;

	if (!r) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "TLS");
	}
	r->sock = fd;
	r->alert = -1;
	r->name = name;
	r->in = malloc(TLS_RELAY_BUF);
	r->out = malloc(TLS_RELAY_BUF);
	r->ssl = OSSL(SSL_new)(t->ctx);
	if (!r->in || !r->out || !r->ssl || OSSL(SSL_set_fd)(r->ssl, fd) != 1) {
		why = strdup("tls: out of memory");
		goto fail;
	}
	OSSL(SSL_set_ex_data)(r->ssl, 0, r);
	/* SNI, for a name: SSL_set_tlsext_host_name(). */
	if (name && !is_address(name) &&
	    !OSSL(SSL_ctrl)(r->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
			    (void *)name)) {
		why = strdup("tls: out of memory");
		goto fail;
	}
	if (name && t->verify) {
		X509_VERIFY_PARAM *param = OSSL(SSL_get0_param)(r->ssl);

		if (is_address(name))
			OSSL(X509_VERIFY_PARAM_set1_ip_asc)(param, name);
		else
			OSSL(X509_VERIFY_PARAM_set1_host)(param, name, 0);
	}
	ret = handshake(r->ssl, &saved);
	if (ret != 1) {
		code = OSSL(SSL_get_error)(r->ssl, ret);
		why = failure_text(r, true, t->verify, code, saved);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		why = str_printf("socketpair: %s", strerror(errno));
		goto fail;
	}
	r->pair = sv[1];
	r->user_fd = sv[0];
	r->name = NULL;
	pthread_mutex_lock(&relays_lock);
	r->next = relays;
	relays = r;
	pthread_mutex_unlock(&relays_lock);
	/* The client's signal handlers run on its own thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&thread, &attr, relay_main, r);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		pthread_mutex_lock(&relays_lock);
		relays = r->next;
		pthread_mutex_unlock(&relays_lock);
		close(sv[0]);
		close(sv[1]);
		why = str_printf("thread: %s", strerror(ret));
		goto fail;
	}
	*out = sv[0];
	return 0;
fail:
	OSSL(ERR_clear_error)();
	OSSL(SSL_free)(r->ssl);
	close(fd);
	free(r->in);
	free(r->out);
	free(r);
	berr_set(err, BERR_UNAVAILABLE, 0, "%s", why ? why : "tls: out of memory");
	free(why);
	return -1;
}

char *client_tls_failure(int fd)
{
	char *text = NULL;

	pthread_mutex_lock(&relays_lock);
	for (struct relay *r = relays; r; r = r->next)
		if (r->user_fd == fd) {
			text = r->failure ? strdup(r->failure) : NULL;
			break;
		}
	pthread_mutex_unlock(&relays_lock);
	return text;
}
