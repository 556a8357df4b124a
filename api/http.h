/* berthd's HTTP/1.1 server on libuv: unix-socket and TCP listeners,
 * keep-alive and pipelined requests answered in order, bounded headers and
 * bodies, timeouts for idle and stalled clients, and responses with the
 * headers every Docker daemon sends.  Handlers are found through the
 * routes of api/router.h; they answer on the loop, or hand blocking work to
 * the loop's thread pool and answer when it is done.  A request body is
 * either buffered (JSON, bounded per route) or streamed into a pipe whose
 * read end a thread-pool job reads (tar uploads); a response body is
 * either whole, or streamed chunked from a pipe a job writes into. */
#ifndef BERTH_API_HTTP_H
#define BERTH_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "api/router.h"
#include "lib/berr.h"

/* Limits on what a client may send. */
#define API_HEADERS_MAX	     (1024 * 1024) /* request line and headers in total */
#define API_BODY_MAX_DEFAULT (1024 * 1024) /* a buffered body, unless the route says */
#define API_IDLE_TIMEOUT_MS  (120 * 1000)  /* keep-alive between requests */
#define API_STALL_TIMEOUT_MS (60 * 1000)   /* a request that stopped half way */
/* Past its limit a body is still read and dropped this far, so that a
 * client that sends before it reads gets the 413; beyond, it is cut. */
#define API_BODY_DISCARD_MAX (16 * 1024 * 1024)

struct api_server;
struct api_conn;
struct api_request;
struct api_tls;

/* A handler owns REQ from the call until it answers through exactly one
 * of the api_reply*() functions (or api_reply_fd_begin() then
 * api_reply_fd_end()).  CTX is the server's. */
typedef void (*api_handler_fn)(struct api_request *req, void *ctx);

/* See api_request_on_gone(). */
typedef void (*api_gone_fn)(struct api_request *req, void *data);

enum api_route_flags {
	/* The body goes into a pipe (req->body_fd) while the handler runs,
	 * instead of being buffered before it is called. */
	API_ROUTE_STREAM_BODY = 1 << 0,
};

struct api_route {
	const char *method; /* "GET", "POST"... */
	const char *pattern;
	api_handler_fn handler;
	unsigned flags;
	size_t body_max; /* 0 for API_BODY_MAX_DEFAULT; streamed bodies too */
};

struct api_header {
	char *name;
	char *value;
};

struct api_request {
	char *method;
	char *url;     /* as sent: "/v1.41/images/json?all=1" */
	char *path;    /* without the query and the version prefix, not decoded */
	int api_major; /* the version asked, API_VERSION without a prefix */
	int api_minor;
	struct api_query query;
	struct api_params params;
	struct api_header *headers;
	size_t n_headers;
	const struct api_route *route;
	/* A buffered body (NUL-terminated); NULL when there was none. */
	char *body;
	size_t body_len;
	/* For API_ROUTE_STREAM_BODY: the read end of the body's pipe, which
	 * the handler may take (steal_fd()); closed with the request
	 * otherwise.  EOF is the end of the body; a client that went away
	 * half way closes the pipe early, and the reader sees a truncated
	 * stream. */
	int body_fd;

	/* The rest belongs to the server. */
	struct api_conn *conn;
	int http_minor;
	bool head; /* a HEAD request: no body is sent */
	bool keep_alive;
	bool message_done; /* the whole request was read */
	bool dispatched;   /* given to its handler */
	bool answered;	   /* the handler gave its answer */
	bool too_big;	   /* the body passed body_max: answered 413 */
	size_t body_max;
	size_t body_cap;
	int fd_state; /* api_reply_fd_*(): bits of what has ended */
	struct berr *fd_err;
	uv_pipe_t *fd_pipe;
	bool fd_started;
	const char *fd_content_type;
	api_gone_fn gone_fn;
	void *gone_data;
};

/* The value of header NAME (any case), or NULL; borrowed from REQ. */
const char *api_request_header(const struct api_request *req, const char *name);

/* Whether the client still listens (its connection is open). */
bool api_request_connected(const struct api_request *req);

/* What a handler that answers late (wait) does when the client of REQ
 * leaves before: it ends its answer, which goes nowhere.  Called at most
 * once, on the loop; DATA is the handler's. */
void api_request_on_gone(struct api_request *req, api_gone_fn fn, void *data);

/* Adds a header to the response REQ is about to get. */
void api_request_add_header(struct api_request *req, const char *name, const char *value);

/* Answers with STATUS, CONTENT_TYPE (NULL: none) and the LEN bytes of BODY
 * (copied). */
void api_reply(struct api_request *req, int status, const char *content_type, const void *body,
	       size_t len);

/* Answers with STATUS and the JSON value JSON (borrowed; NULL for no
 * body). */
void api_reply_json(struct api_request *req, int status, const json_t *json);

/* Answers with the status of ERR's kind and Docker's {"message": ...}.
 * ERR is borrowed. */
void api_reply_error(struct api_request *req, const struct berr *err);

/* As api_reply_error() for a new error of KIND. */
void api_reply_errorf(struct api_request *req, enum berr_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The status Docker gives errors of KIND: 404, 409, 400, 403, 503, 501 or
 * 500. */
int api_status_of(enum berr_kind kind);

/* Starts a response of status 200 whose body is read from FD (taken: the
 * server closes it), sent chunked as it comes.  The headers go only with
 * the first byte, so that a writer that fails before it has written
 * anything still gets a plain error response.  The writer (a thread-pool
 * job) ends by closing its end of the pipe and calling api_reply_fd_end()
 * on the loop with its error (borrowed; NULL on success): an error before
 * the first byte becomes the response, an error after it cuts the
 * connection so that the client sees a truncated body. */
void api_reply_fd_begin(struct api_request *req, const char *content_type, int fd);
void api_reply_fd_end(struct api_request *req, const struct berr *err);

/* A response written from the loop as things happen (wait, events,
 * stats): begin sends STATUS and the headers at once (chunked), write
 * sends a chunk and says whether the client still keeps up (false: it is
 * gone or more than API's write queue limit waits for it), end finishes
 * the response.  REQ must be ended even when the client went away. */
void api_reply_stream_begin(struct api_request *req, int status, const char *content_type);
bool api_reply_stream_write(struct api_request *req, const void *data, size_t len);
void api_reply_stream_end(struct api_request *req);

/* Answers an attach or exec start by taking the connection over: writes
 * Docker's answer (101 UPGRADED with "Upgrade: tcp" when the client asked
 * for an upgrade, 200 OK otherwise) with CONTENT_TYPE
 * ("application/vnd.docker.raw-stream" or
 * "application/vnd.docker.multiplexed-stream"), then lets go of the
 * connection: *out_fd gets its socket (blocking, close-on-exec, the
 * caller's), *early (the caller frees it) the *early_len bytes the client
 * sent after the request.  REQ is answered and freed either way; on
 * failure the connection is closed.  On a TLS connection *out_fd is one
 * end of a socket pair instead, whose other end the loop carries through
 * the TLS session (the connection stays the server's until either side
 * ends).  Sets BERR_INTERNAL. */
int api_request_hijack(struct api_request *req, const char *content_type, int *out_fd, char **early,
		       size_t *early_len, struct berr **err);

/* Server side. */

/* A server on LOOP (borrowed) serving the N ROUTES (borrowed; tried in
 * order, so specific patterns go before ones with parameters) with
 * handlers called with CTX.  SERVER_VERSION goes in the Server header
 * ("berth/0.1.0 (linux)"); copied. */
int api_server_new(uv_loop_t *loop, const struct api_route *routes, size_t n,
		   const char *server_version, void *ctx, struct api_server **out,
		   struct berr **err);

/* Listens on ADDR: "unix:///run/berth.sock" (a stale socket file is
 * replaced; the socket gets mode 0660 and goes away at api_server_stop())
 * or "tcp://host:port" (TLS when api_server_set_tls() was called before,
 * plain HTTP otherwise).  Sets BERR_INVALID for a bad address,
 * BERR_CONFLICT when a daemon answers on the unix socket already,
 * BERR_INTERNAL. */
int api_server_listen(struct api_server *srv, const char *addr, struct berr **err);

/* Makes the TCP listeners opened from now on serve TLS (api/tls.h): TLS
 * is borrowed and must outlive the server; unix sockets stay plain. */
void api_server_set_tls(struct api_server *srv, struct api_tls *tls);

/* Serves a connected stream socket FD (taken), as if it had been
 * accepted: socket activation and tests use it. */
int api_server_adopt(struct api_server *srv, int fd, struct berr **err);

/* Closes the listeners (removing unix socket files) and every connection,
 * cutting responses in flight; jobs still running end on their own (their
 * pipes are closed) and their answers are dropped.  The loop ends once
 * they have; then api_server_free(). */
void api_server_stop(struct api_server *srv);
void api_server_free(struct api_server *srv);

/* How many connections are open. */
size_t api_server_connections(const struct api_server *srv);

#endif
