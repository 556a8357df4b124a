/* The HTTP/1.1 connections of berthd: accepting on unix and TCP sockets,
 * parsing requests with http-parser, handing them to route handlers one at
 * a time per connection (pipelined requests wait, parsed, in order), and
 * writing responses, whole or streamed from a pipe.  Everything runs on one
 * libuv loop; nothing here blocks, and a connection only reads from its
 * client when it has room for what comes (back-pressure), so a slow or
 * hostile client costs its own buffers and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "api/http.h"
#include "api/tls.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"

/* Socket reads are this big. */
#define READ_SIZE (64 * 1024)
/* A client that is not reading what it asked for stops the source of the
 * response (a pipe) once this much waits to be written; an uploaded body
 * stops the socket once this much waits to enter its pipe. */
#define WRITE_QUEUE_HIGH (1024 * 1024)
#define WRITE_QUEUE_LOW	 (256 * 1024)
/* Most request headers: the parser's own limit is set above our count so
 * that we answer 431 ourselves. */
#define MAX_HEADER_COUNT 1024

/* fd_state bits. */
#define FD_EOF	1
#define FD_DONE 2

struct listener {
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} h;
	struct api_server *srv;
	char *path;	     /* unix socket file to remove; NULL for TCP */
	struct api_tls *tls; /* the server's, for a TCP listener with TLS */
	struct listener *next;
};

struct api_server {
	uv_loop_t *loop;
	const struct api_route *routes;
	size_t n_routes;
	char *server_version;
	void *ctx;
	http_parser_settings settings;
	struct listener *listeners;
	struct api_conn *conns;
	size_t n_conns;
	struct api_tls *tls; /* borrowed: TCP listeners serve TLS */
	/* What every read of the loop lands in: a read's callback is done
	 * with it (copied what it keeps) before libuv reads again. */
	char *read_buf;
	bool stopping;
};

struct api_conn {
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} h;
	uv_timer_t timer;
	http_parser parser;
	struct api_server *srv;
	struct api_conn *prev, *next;
	int refs;
	bool closing;
	bool reading;
	bool read_eof;
	bool close_after; /* no keep-alive after the current response */
	bool in_process;
	bool dispatch_pending;
	/* The request asked for an upgrade (attach, exec start): nothing
	 * after it is HTTP; what its handler does not take over is closed. */
	bool upgraded;
	int fatal_status; /* answer this and close: 400, 413, 431 */
	/* Bytes read but not parsed yet: a pipelined request waiting for
	 * the answer to the one before it. */
	char *pending;
	size_t pending_len, pending_off;
	/* The request being read or answered. */
	struct api_request *req;
	size_t header_bytes;
	bool last_was_value;
	/* The body pipe of a streamed request (write end). */
	uv_pipe_t *body_pipe;
	bool body_paused;
	size_t body_bytes;
	/* Extra response headers ("Name: value\r\n"...) for the next reply. */
	char *extra_headers;
	/* The TLS session of a TLS listener's connection: what is read goes
	 * through api_tls_conn_decrypt(), what is written through
	 * api_tls_conn_encrypt(). */
	struct api_tls_conn *tls;
	bool tls_logged;
	/* A hijacked TLS connection: the plain text goes to and from the
	 * loop's end of a socket pair whose other end the handler took. */
	uv_pipe_t *tunnel;
};

struct write_req {
	uv_write_t w;
	struct api_conn *conn;
	char data[];
};

static void conn_process(struct api_conn *c);
static void conn_teardown(struct api_conn *c, bool now);
#define conn_close(c) conn_teardown((c), true)
static void conn_update(struct api_conn *c);
static void request_answered(struct api_request *req);
static void on_alloc_conn(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_alloc_fd(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_fd_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_tunnel_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void tunnel_close(struct api_conn *c);

static void conn_unref(struct api_conn *c)
{
	if (--c->refs > 0)
		return;
	free(c->pending);
	free(c->extra_headers);
	api_tls_conn_free(c->tls);
	free(c);
}

static void on_handle_closed_unref(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void request_free(struct api_request *req)
{
	if (!req)
		return;
	free(req->method);
	free(req->url);
	free(req->path);
	api_query_clear(&req->query);
	api_params_clear(&req->params);
	for (size_t i = 0; i < req->n_headers; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	free(req->body);
	if (req->body_fd >= 0)
		close(req->body_fd);
	berr_free(req->fd_err);
	free(req);
}

const char *api_request_header(const struct api_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value ? req->headers[i].value : "";
	return NULL;
}

void api_request_on_gone(struct api_request *req, api_gone_fn fn, void *data)
{
	req->gone_fn = fn;
	req->gone_data = data;
}

bool api_request_connected(const struct api_request *req)
{
	/* A client that ended its side while its request is answered has
	 * left, as Go's server counts it. */
	return req->conn && !req->conn->closing && !(req->conn->read_eof && req->message_done);
}

int api_status_of(enum berr_kind kind)
{
	switch (kind) {
	case BERR_NOT_FOUND:
		return 404;
	case BERR_CONFLICT:
		return 409;
	case BERR_INVALID:
		return 400;
	case BERR_FORBIDDEN:
		return 403;
	case BERR_UNAVAILABLE:
		return 503;
	case BERR_NOT_IMPLEMENTED:
		return 501;
	case BERR_INTERNAL:
		break;
	}
	return 500;
}

static const char *status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Request Entity Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	}
	return "Unknown";
}

/*
 * Writing.
 */

static void on_written(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct api_conn *c = wr->conn;

	free(wr);
	if (status < 0 && !c->closing) {
		conn_close(c);
	} else if (!c->closing) {
		/* A response streamed from a pipe goes on once the client
		 * has taken most of what waits. */
		if (c->req && c->req->fd_pipe &&
		    uv_stream_get_write_queue_size(&c->h.stream) < WRITE_QUEUE_LOW)
			uv_read_start((uv_stream_t *)c->req->fd_pipe, on_alloc_fd, on_fd_read);
		if (c->tunnel && uv_stream_get_write_queue_size(&c->h.stream) < WRITE_QUEUE_LOW)
			uv_read_start((uv_stream_t *)c->tunnel, on_alloc_conn, on_tunnel_read);
		conn_update(c);
	}
	conn_unref(c);
}

/* Queues WR, whose LEN bytes of data are filled in, to the socket. */
static void conn_queue(struct api_conn *c, struct write_req *wr, size_t len)
{
	uv_buf_t buf = uv_buf_init(wr->data, (unsigned int)len);

	wr->conn = c;
	c->refs++;
	if (uv_write(&wr->w, &c->h.stream, &buf, 1, on_written) < 0) {
		free(wr);
		c->refs--;
		conn_close(c);
	}
}

/* Sends the TLS records that wait, even on a connection being closed:
 * a failed handshake's alert goes out before the shutdown. */
static void conn_flush_tls(struct api_conn *c)
{
	size_t len = c->tls ? api_tls_conn_pending(c->tls) : 0;
	struct write_req *wr;

	if (len == 0 || uv_is_closing(&c->h.handle))
		return;
	wr = malloc(sizeof(*wr) + len);
	if (!wr) {
		conn_close(c);
		return;
	}
	len = api_tls_conn_take(c->tls, wr->data, len);
	if (len == 0) {
		free(wr);
		return;
	}
	conn_queue(c, wr, len);
}

/* Queues the LEN bytes of DATA (copied; encrypted on a TLS connection)
 * to the client. */
static void conn_write(struct api_conn *c, const void *data, size_t len)
{
	struct write_req *wr;

	if (c->closing || len == 0)
		return;
	if (c->tls) {
		struct berr *err = NULL;

		if (api_tls_conn_encrypt(c->tls, data, len, &err) < 0) {
			blog_debug("closing a connection: %s", err->msg);
			berr_free(err);
			conn_close(c);
			return;
		}
		conn_flush_tls(c);
		return;
	}
	wr = malloc(sizeof(*wr) + len);
	if (!wr) {
		conn_close(c);
		return;
	}
	memcpy(wr->data, data, len);
	conn_queue(c, wr, len);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
	struct api_conn *c = s->data;

	free(s);
	if (!uv_is_closing(&c->h.handle))
		uv_close(&c->h.handle, on_handle_closed_unref);
	conn_unref(c);
}

/* Ends the connection once what is queued has been written. */
static void conn_close_graceful(struct api_conn *c)
{
	uv_shutdown_t *s;

	if (c->closing)
		return;
	if (c->tls) {
		api_tls_conn_close_notify(c->tls);
		conn_flush_tls(c);
		if (c->closing)
			return;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		conn_close(c);
		return;
	}
	s->data = c;
	c->refs++;
	if (uv_shutdown(s, &c->h.stream, on_shutdown) < 0) {
		free(s);
		c->refs--;
		conn_close(c);
		return;
	}
	/* Everything but the socket goes now; the socket after the flush. */
	conn_teardown(c, false);
}

/* Writes the status line and headers.  LENGTH < 0 means chunked (or, for
 * an HTTP/1.0 client, a body that ends with the connection). */
static void write_head(struct api_request *req, int status, const char *content_type,
		       long long length)
{
	struct api_conn *c = req->conn;
	char date[64], head[2048];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (length < 0 && req->http_minor == 0)
		c->close_after = true;
	if (!req->keep_alive || !req->message_done || c->srv->stopping)
		c->close_after = true;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.%d %d %s\r\n"
		     "Api-Version: " API_VERSION "\r\n"
		     "%s%s%s"
		     "Date: %s\r\n"
		     "Docker-Experimental: false\r\n"
		     "Ostype: linux\r\n"
		     "Server: %s\r\n"
		     "%s",
		     req->http_minor ? 1 : 0, status, status_text(status),
		     content_type ? "Content-Type: " : "", content_type ? content_type : "",
		     content_type ? "\r\n" : "", date, c->srv->server_version,
		     c->extra_headers ? c->extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		conn_close(c);
		return;
	}
	if (length >= 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %lld\r\n",
			      length);
	else if (req->http_minor > 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Transfer-Encoding: chunked\r\n");
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n",
		      c->close_after ? "Connection: close\r\n" : "");
	conn_write(c, head, (size_t)n);
	free(c->extra_headers);
	c->extra_headers = NULL;
}

static void write_chunk(struct api_request *req, const void *data, size_t len)
{
	char line[32];

	if (len == 0)
		return;
	if (req->http_minor == 0) {
		conn_write(req->conn, data, len);
		return;
	}
	snprintf(line, sizeof(line), "%zx\r\n", len);
	if (req->conn->tls) {
		/* One record for the chunk, not three. */
		size_t n = strlen(line);
		_cleanup_free_ char *all = malloc(n + len + 2);

		if (!all) {
			conn_close(req->conn);
			return;
		}
		memcpy(all, line, n);
		memcpy(all + n, data, len);
		memcpy(all + n + len, "\r\n", 2);
		conn_write(req->conn, all, n + len + 2);
		return;
	}
	conn_write(req->conn, line, strlen(line));
	conn_write(req->conn, data, len);
	conn_write(req->conn, "\r\n", 2);
}

void api_request_add_header(struct api_request *req, const char *name, const char *value)
{
	struct api_conn *c = req->conn;
	char *more = NULL;

	if (asprintf(&more, "%s%s: %s\r\n", c->extra_headers ? c->extra_headers : "", name, value) <
	    0)
		return;
	free(c->extra_headers);
	c->extra_headers = more;
}

void api_reply(struct api_request *req, int status, const char *content_type, const void *body,
	       size_t len)
{
	if (req->answered)
		return;
	if (!req->conn->closing) {
		write_head(req, status, content_type, (long long)len);
		if (!req->head)
			conn_write(req->conn, body, len);
	}
	request_answered(req);
}

void api_reply_json(struct api_request *req, int status, const json_t *json)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (json) {
		text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text) {
			api_reply_errorf(req, BERR_INTERNAL, "out of memory");
			return;
		}
		len = strlen(text);
		/* Go's encoder ends a document with a newline. */
		text[len] = '\0';
	}
	if (text) {
		char *nl = realloc(text, len + 2);

		if (nl) {
			text = nl;
			text[len++] = '\n';
			text[len] = '\0';
		}
	}
	api_reply(req, status, "application/json", text, len);
}

void api_reply_error(struct api_request *req, const struct berr *err)
{
	_cleanup_json_ json_t *body = NULL;
	const char *msg = err && err->msg ? err->msg : "internal error";

	body = json_pack("{s:s}", "message", msg);
	api_reply_json(req, api_status_of(err ? err->kind : BERR_INTERNAL), body);
}

void api_reply_errorf(struct api_request *req, enum berr_kind kind, const char *fmt, ...)
{
	struct berr *err = NULL;
	va_list ap;

	va_start(ap, fmt);
	berr_setv(&err, kind, 0, fmt, ap);
	va_end(ap);
	api_reply_error(req, err);
	berr_free(err);
}

/*
 * Responses streamed from the loop.
 */

void api_reply_stream_begin(struct api_request *req, int status, const char *content_type)
{
	if (req->answered || req->fd_started)
		return;
	req->fd_started = true;
	if (!req->conn->closing)
		write_head(req, status, content_type, -1);
}

bool api_reply_stream_write(struct api_request *req, const void *data, size_t len)
{
	struct api_conn *c = req->conn;

	if (req->answered || c->closing)
		return false;
	if (!req->head)
		write_chunk(req, data, len);
	return !c->closing && uv_stream_get_write_queue_size(&c->h.stream) <= WRITE_QUEUE_HIGH;
}

void api_reply_stream_end(struct api_request *req)
{
	struct api_conn *c = req->conn;

	if (req->answered)
		return;
	if (!c->closing && req->http_minor > 0 && !req->head)
		conn_write(c, "0\r\n\r\n", 5);
	request_answered(req);
}

/*
 * Responses streamed from a pipe.
 */

static void fd_maybe_finish(struct api_request *req)
{
	struct api_conn *c = req->conn;

	if ((req->fd_state & (FD_EOF | FD_DONE)) != (FD_EOF | FD_DONE))
		return;
	if (req->fd_err && !req->fd_started) {
		api_reply_error(req, req->fd_err);
		return;
	}
	if (req->fd_err) {
		/* Half a body: cut it off so that the client cannot take it
		 * for a whole one. */
		blog_warn("response to %s %s cut off: %s", req->method, req->url, req->fd_err->msg);
		conn_close(c);
	} else if (!c->closing) {
		if (!req->fd_started)
			write_head(req, 200, req->fd_content_type, -1);
		if (req->http_minor > 0 && !req->head)
			conn_write(c, "0\r\n\r\n", 5);
	}
	request_answered(req);
}

static void on_fd_pipe_closed(uv_handle_t *h)
{
	struct api_conn *c = h->data;

	free(h);
	conn_unref(c);
}

static void fd_pipe_close(struct api_request *req)
{
	if (!req->fd_pipe)
		return;
	req->fd_pipe->data = req->conn;
	uv_close((uv_handle_t *)req->fd_pipe, on_fd_pipe_closed);
	req->fd_pipe = NULL;
}

/* For a connection's socket and its tunnel, whose data is the connection. */
static void on_alloc_conn(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct api_conn *c = h->data;

	*buf = uv_buf_init(c->srv->read_buf, READ_SIZE);
}

/* For a request's fd pipe, whose data is the request. */
static void on_alloc_fd(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct api_request *req = h->data;

	*buf = uv_buf_init(req->conn->srv->read_buf, READ_SIZE);
}

static void on_fd_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct api_request *req = s->data;
	struct api_conn *c = req->conn;

	if (nread > 0 && !c->closing) {
		if (!req->fd_started) {
			req->fd_started = true;
			write_head(req, 200, req->fd_content_type, -1);
		}
		if (!req->head)
			write_chunk(req, buf->base, (size_t)nread);
		if (uv_stream_get_write_queue_size(&c->h.stream) > WRITE_QUEUE_HIGH)
			uv_read_stop(s);
	}
	if (nread < 0 || c->closing) {
		fd_pipe_close(req);
		req->fd_state |= FD_EOF;
		fd_maybe_finish(req);
	}
}

void api_reply_fd_begin(struct api_request *req, const char *content_type, int fd)
{
	struct api_conn *c = req->conn;
	uv_pipe_t *p = calloc(1, sizeof(*p));

	req->fd_content_type = content_type;
	if (!p || uv_pipe_init(c->srv->loop, p, 0) < 0) {
		free(p);
		close(fd);
		req->fd_state |= FD_EOF;
		return;
	}
	p->data = c;
	c->refs++;
	if (uv_pipe_open(p, fd) < 0) {
		close(fd);
		uv_close((uv_handle_t *)p, on_fd_pipe_closed);
		req->fd_state |= FD_EOF;
		return;
	}
	req->fd_pipe = p;
	p->data = req;
	if (c->closing || uv_read_start((uv_stream_t *)p, on_alloc_fd, on_fd_read) < 0) {
		fd_pipe_close(req);
		req->fd_state |= FD_EOF;
	}
}

void api_reply_fd_end(struct api_request *req, const struct berr *err)
{
	if (err && !req->fd_err) {
		req->fd_err = calloc(1, sizeof(*req->fd_err));
		if (req->fd_err) {
			req->fd_err->kind = err->kind;
			req->fd_err->msg = strdup(err->msg ? err->msg : "internal error");
		}
	}
	req->fd_state |= FD_DONE;
	fd_maybe_finish(req);
}

/*
 * Connections taken over (attach, exec start).
 */

/* Writes all LEN bytes of DATA to the blocking FD. */
static int write_all_fd(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Lets go of the connection of REQ, answered, without a shutdown, which
 * would end the stream for a new owner too. */
static void conn_release(struct api_request *req)
{
	struct api_conn *c = req->conn;

	req->answered = true;
	if (c->req == req)
		c->req = NULL;
	conn_close(c);
	request_free(req);
	conn_unref(c);
}

/* Docker's answer to an attach or exec start, in HEAD of SIZE bytes;
 * its length, or -1 when it does not fit. */
static int hijack_head(const struct api_conn *c, const char *content_type, char *head, size_t size)
{
	int n = snprintf(head, size,
			 "HTTP/1.1 %s\r\n"
			 "Content-Type: %s\r\n"
			 "%s"
			 "Api-Version: " API_VERSION "\r\n"
			 "Docker-Experimental: false\r\n"
			 "Ostype: linux\r\n"
			 "Server: %s\r\n\r\n",
			 c->upgraded ? "101 UPGRADED" : "200 OK", content_type,
			 c->upgraded ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "",
			 c->srv->server_version);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* What the client sent after its request, for the taker: *early (the
 * caller's) of *early_len bytes. */
static int take_early(struct api_conn *c, char **early, size_t *early_len, struct berr **err)
{
	if (c->pending_off >= c->pending_len)
		return 0;
	*early = malloc(c->pending_len - c->pending_off);
	if (!*early)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "take the connection");
	*early_len = c->pending_len - c->pending_off;
	memcpy(*early, c->pending + c->pending_off, *early_len);
	return 0;
}

/* The hijack proper; REQ stays the caller's. */
static int take_over(struct api_request *req, const char *content_type, int *out_fd, char **early,
		     size_t *early_len, struct berr **err)
{
	struct api_conn *c = req->conn;
	_cleanup_close_ int fd = -1;
	char head[1024];
	uv_os_fd_t own;
	int n, flags;

	if (c->closing || uv_fileno(&c->h.handle, &own) < 0)
		return berr_set(err, BERR_INTERNAL, 0, "the client went away");
	/* The answer goes on the socket itself: nothing may wait in the
	 * loop's queue before it. */
	if (uv_stream_get_write_queue_size(&c->h.stream) > 0)
		return berr_set(err, BERR_INTERNAL, 0, "the connection is still busy");
	fd = fcntl(own, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "take the connection");
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "take the connection");
	n = hijack_head(c, content_type, head, sizeof(head));
	if (n < 0 || write_all_fd(fd, head, (size_t)n) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "answer the client");
	if (take_early(c, early, early_len, err) < 0)
		return -1;
	*out_fd = steal_fd(&fd);
	return 0;
}

/*
 * Tunnels.  A TLS connection cannot be handed over as a socket: the
 * taker gets one end of a socket pair instead, and the loop carries the
 * plain text between the other end and the TLS session, with the same
 * back-pressure as a streamed response: each side is read only while the
 * other keeps up.
 */

static void on_tunnel_closed(uv_handle_t *h)
{
	struct api_conn *c = h->data;

	free(h);
	conn_unref(c);
}

static void tunnel_close(struct api_conn *c)
{
	if (!c->tunnel)
		return;
	uv_close((uv_handle_t *)steal_ptr(&c->tunnel), on_tunnel_closed);
}

/* What the taker writes goes to the client. */
static void on_tunnel_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct api_conn *c = s->data;

	if (nread > 0 && !c->closing) {
		conn_write(c, buf->base, (size_t)nread);
		if (!c->closing && uv_stream_get_write_queue_size(&c->h.stream) > WRITE_QUEUE_HIGH)
			uv_read_stop(s);
	}
	if (nread < 0 && !c->closing) {
		/* The taker is done: the session ends cleanly once what it
		 * wrote is sent. */
		tunnel_close(c);
		conn_close_graceful(c);
	}
}

static void on_tunnel_written(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct api_conn *c = wr->conn;

	free(wr);
	if (status < 0 && !c->closing)
		conn_close(c);
	else
		conn_update(c);
	conn_unref(c);
}

/* What the client sends goes to the taker. */
static void tunnel_send(struct api_conn *c, const char *data, size_t len)
{
	struct write_req *wr = malloc(sizeof(*wr) + len);
	uv_buf_t buf;

	if (!wr) {
		conn_close(c);
		return;
	}
	memcpy(wr->data, data, len);
	wr->conn = c;
	buf = uv_buf_init(wr->data, (unsigned int)len);
	c->refs++;
	if (uv_write(&wr->w, (uv_stream_t *)c->tunnel, &buf, 1, on_tunnel_written) < 0) {
		free(wr);
		c->refs--;
		conn_close(c);
	}
}

static void on_tunnel_shutdown(uv_shutdown_t *sr, int status)
{
	struct api_conn *c = sr->data;

	free(sr);
	conn_unref(c);
}

/* The client has no more to send: the taker reads its end. */
static void tunnel_send_eof(struct api_conn *c)
{
	uv_shutdown_t *sr = malloc(sizeof(*sr));

	if (!sr)
		return;
	sr->data = c;
	c->refs++;
	if (uv_shutdown(sr, (uv_stream_t *)c->tunnel, on_tunnel_shutdown) < 0) {
		free(sr);
		c->refs--;
	}
}

/* take_over() for a TLS connection: the answer goes through the session
 * and the taker gets its end of a new tunnel. */
static int take_over_tls(struct api_request *req, const char *content_type, int *out_fd,
			 char **early, size_t *early_len, struct berr **err)
{
	struct api_conn *c = req->conn;
	_cleanup_close_ int inner = -1;
	char head[1024];
	int pair[2], n;

	if (c->closing)
		return berr_set(err, BERR_INTERNAL, 0, "the client went away");
	n = hijack_head(c, content_type, head, sizeof(head));
	if (n < 0)
		return berr_set(err, BERR_INTERNAL, 0, "answer the client");
	if (take_early(c, early, early_len, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "take the connection");
	inner = pair[0];
	c->tunnel = malloc(sizeof(*c->tunnel));
	if (!c->tunnel || uv_pipe_init(c->srv->loop, c->tunnel, 0) < 0) {
		free(steal_ptr(&c->tunnel));
		close(pair[1]);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "take the connection");
	}
	c->tunnel->data = c;
	c->refs++;
	if (uv_pipe_open(c->tunnel, pair[1]) < 0 ||
	    uv_read_start((uv_stream_t *)c->tunnel, on_alloc_conn, on_tunnel_read) < 0) {
		close(pair[1]);
		tunnel_close(c);
		return berr_set(err, BERR_INTERNAL, 0, "take the connection");
	}
	conn_write(c, head, (size_t)n);
	*out_fd = steal_fd(&inner);
	return 0;
}

int api_request_hijack(struct api_request *req, const char *content_type, int *out_fd, char **early,
		       size_t *early_len, struct berr **err)
{
	int rc;

	*out_fd = -1;
	*early = NULL;
	*early_len = 0;
	if (req->conn->tls) {
		struct api_conn *c = req->conn;

		rc = take_over_tls(req, content_type, out_fd, early, early_len, err);
		if (rc < 0) {
			conn_release(req);
			return rc;
		}
		/* The connection stays, as the tunnel's other side; the
		 * request lets go of it. */
		req->answered = true;
		c->req = NULL;
		request_free(req);
		free(steal_ptr(&c->pending));
		c->pending_len = c->pending_off = 0;
		conn_update(c);
		conn_unref(c);
		return 0;
	}
	rc = take_over(req, content_type, out_fd, early, early_len, err);
	conn_release(req);
	return rc;
}

/*
 * Streamed request bodies.
 */

static void on_body_pipe_closed(uv_handle_t *h)
{
	struct api_conn *c = h->data;

	free(h);
	conn_unref(c);
}

static void body_pipe_close(struct api_conn *c)
{
	if (!c->body_pipe)
		return;
	c->body_pipe->data = c;
	uv_close((uv_handle_t *)c->body_pipe, on_body_pipe_closed);
	c->body_pipe = NULL;
	c->body_paused = false;
}

static void on_body_shutdown(uv_shutdown_t *sr, int status)
{
	uv_pipe_t *p = sr->data;

	free(sr);
	uv_close((uv_handle_t *)p, on_body_pipe_closed);
}

/* The body is complete: the reader gets EOF once the queued writes are
 * in the pipe. */
static void body_pipe_finish(struct api_conn *c)
{
	uv_shutdown_t *sr;

	if (!c->body_pipe)
		return;
	sr = malloc(sizeof(*sr));
	if (!sr) {
		body_pipe_close(c);
		return;
	}
	sr->data = c->body_pipe;
	c->body_pipe->data = c;
	if (uv_shutdown(sr, (uv_stream_t *)c->body_pipe, on_body_shutdown) < 0) {
		free(sr);
		body_pipe_close(c);
		return;
	}
	c->body_pipe = NULL;
	c->body_paused = false;
}

static void on_body_written(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct api_conn *c = wr->conn;

	free(wr);
	/* The reader went away (the job ended): the rest of the body is
	 * read and dropped. */
	if (status < 0)
		body_pipe_close(c);
	if (c->body_paused &&
	    (!c->body_pipe ||
	     uv_stream_get_write_queue_size((uv_stream_t *)c->body_pipe) < WRITE_QUEUE_LOW)) {
		c->body_paused = false;
		conn_update(c);
	}
	conn_unref(c);
}

static void body_write(struct api_conn *c, const char *data, size_t len)
{
	struct write_req *wr;
	uv_buf_t buf;

	if (!c->body_pipe)
		return;
	wr = malloc(sizeof(*wr) + len);
	if (!wr) {
		body_pipe_close(c);
		return;
	}
	memcpy(wr->data, data, len);
	wr->conn = c;
	buf = uv_buf_init(wr->data, (unsigned int)len);
	c->refs++;
	if (uv_write(&wr->w, (uv_stream_t *)c->body_pipe, &buf, 1, on_body_written) < 0) {
		free(wr);
		c->refs--;
		body_pipe_close(c);
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)c->body_pipe) > WRITE_QUEUE_HIGH)
		c->body_paused = true;
}

static int body_pipe_open(struct api_conn *c, struct api_request *req)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	c->body_pipe = calloc(1, sizeof(*c->body_pipe));
	if (!c->body_pipe || uv_pipe_init(c->srv->loop, c->body_pipe, 0) < 0) {
		free(c->body_pipe);
		c->body_pipe = NULL;
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	c->refs++;
	c->body_pipe->data = c;
	if (uv_pipe_open(c->body_pipe, fds[1]) < 0) {
		close(fds[1]);
		body_pipe_close(c);
		close(fds[0]);
		return -1;
	}
	req->body_fd = fds[0];
	return 0;
}

/*
 * Parsing.
 */

static struct api_conn *conn_of(http_parser *p)
{
	return p->data;
}

static int add_bytes(struct api_conn *c, size_t len)
{
	c->header_bytes += len;
	if (c->header_bytes > API_HEADERS_MAX) {
		c->fatal_status = 431;
		return -1;
	}
	return 0;
}

static int append(char **dst, const char *at, size_t len)
{
	size_t old = *dst ? strlen(*dst) : 0;
	char *n = realloc(*dst, old + len + 1);

	if (!n)
		return -1;
	memcpy(n + old, at, len);
	n[old + len] = '\0';
	*dst = n;
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct api_conn *c = conn_of(p);
	struct api_request *req = calloc(1, sizeof(*req));

	if (!req)
		return -1;
	req->body_fd = -1;
	req->conn = c;
	c->req = req;
	c->header_bytes = 0;
	c->last_was_value = false;
	c->body_bytes = 0;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct api_conn *c = conn_of(p);

	if (add_bytes(c, len) < 0)
		return -1;
	return append(&c->req->url, at, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct api_conn *c = conn_of(p);
	struct api_request *req = c->req;

	if (add_bytes(c, len) < 0)
		return -1;
	if (c->last_was_value || req->n_headers == 0) {
		struct api_header *h;

		if (req->n_headers >= MAX_HEADER_COUNT) {
			c->fatal_status = 431;
			return -1;
		}
		h = realloc(req->headers, (req->n_headers + 1) * sizeof(*h));
		if (!h)
			return -1;
		req->headers = h;
		h[req->n_headers].name = NULL;
		h[req->n_headers].value = NULL;
		req->n_headers++;
		c->last_was_value = false;
	}
	return append(&req->headers[req->n_headers - 1].name, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct api_conn *c = conn_of(p);
	struct api_request *req = c->req;

	if (add_bytes(c, len) < 0)
		return -1;
	if (req->n_headers == 0)
		return -1;
	c->last_was_value = true;
	return append(&req->headers[req->n_headers - 1].value, at, len);
}

/* Finds the route of REQ; on failure the request is answered with an
 * error when it is dispatched (its body is read and dropped). */
static void route_request(struct api_conn *c, struct api_request *req, struct berr **err)
{
	struct http_parser_url u;
	const char *rest;
	_cleanup_free_ char *path = NULL;
	bool path_matched = false;

	http_parser_url_init(&u);
	if (!req->url || http_parser_parse_url(req->url, strlen(req->url), 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH))) {
		berr_set(err, BERR_INVALID, 0, "invalid request URI");
		return;
	}
	path = strndup(req->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
	if (!path) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "out of memory");
		return;
	}
	if ((u.field_set & (1 << UF_QUERY)) &&
	    api_query_parse(req->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len,
			    &req->query, err) < 0)
		return;
	if (api_path_version(path, &rest, &req->api_major, &req->api_minor, err) < 0)
		return;
	req->path = strdup(rest);
	if (!req->path) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < c->srv->n_routes; i++) {
		const struct api_route *r = &c->srv->routes[i];
		struct api_params params = { 0 };
		int m;

		/* HEAD is answered by the GET route unless one is given. */
		if (strcmp(r->method, req->method) != 0 &&
		    !(req->head && strcmp(r->method, "GET") == 0))
			continue;
		m = api_pattern_match(r->pattern, req->path, &params, err);
		if (m < 0)
			return;
		if (m == 0)
			continue;
		path_matched = true;
		req->route = r;
		req->params = params;
		break;
	}
	if (!path_matched)
		berr_set(err, BERR_NOT_FOUND, 0, "page not found");
}

static int on_headers_complete(http_parser *p)
{
	struct api_conn *c = conn_of(p);
	struct api_request *req = c->req;
	struct berr *err = NULL;

	req->method = strdup(http_method_str((enum http_method)p->method));
	if (!req->method)
		return -1;
	req->head = p->method == HTTP_HEAD;
	req->http_minor = p->http_major == 1 ? p->http_minor : 0;
	req->keep_alive = http_should_keep_alive(p);
	route_request(c, req, &err);
	if (err) {
		/* Answered once the (dropped) body is read. */
		req->route = NULL;
		req->fd_err = err;
		req->body_max = API_BODY_MAX_DEFAULT;
		return 0;
	}
	req->body_max = req->route->body_max ? req->route->body_max : API_BODY_MAX_DEFAULT;
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > req->body_max) {
		if (p->content_length - req->body_max > API_BODY_DISCARD_MAX) {
			c->fatal_status = 413;
			return -1;
		}
		req->too_big = true;
		req->route = NULL;
		return 0;
	}
	if (req->route->flags & API_ROUTE_STREAM_BODY) {
		if (body_pipe_open(c, req) < 0)
			return -1;
		c->dispatch_pending = true;
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct api_conn *c = conn_of(p);
	struct api_request *req = c->req;

	c->body_bytes += len;
	if (c->body_bytes > req->body_max + API_BODY_DISCARD_MAX ||
	    (c->body_bytes > req->body_max && req->dispatched)) {
		c->fatal_status = 413;
		return -1;
	}
	if (c->body_bytes > req->body_max && !req->too_big) {
		/* Answered 413 once the rest is read and dropped. */
		req->too_big = true;
		req->route = NULL;
		free(req->body);
		req->body = NULL;
		req->body_len = req->body_cap = 0;
	}
	if (!req->route)
		return 0;
	if (req->route->flags & API_ROUTE_STREAM_BODY) {
		body_write(c, at, len);
		return 0;
	}
	if (req->body_len + len + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;
		char *n;

		while (cap < req->body_len + len + 1)
			cap *= 2;
		n = realloc(req->body, cap);
		if (!n)
			return -1;
		req->body = n;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, at, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct api_conn *c = conn_of(p);
	struct api_request *req = c->req;

	req->message_done = true;
	if (p->upgrade) {
		/* What follows is the raw stream of attach or exec: kept
		 * unparsed for the handler that takes the connection over. */
		c->upgraded = true;
		c->close_after = true;
	}
	if (req->route && (req->route->flags & API_ROUTE_STREAM_BODY))
		body_pipe_finish(c);
	else
		c->dispatch_pending = true;
	/* One request at a time: what follows waits for this answer. */
	http_parser_pause(p, 1);
	return 0;
}

/*
 * Requests.
 */

static void dispatch(struct api_conn *c)
{
	struct api_request *req = c->req;
	const char *expect;

	c->dispatch_pending = false;
	req->dispatched = true;
	c->refs++; /* the handler's, given back by request_answered() */
	if (req->too_big) {
		char msg[128];
		int n = snprintf(
			msg, sizeof(msg),
			"{\"message\":\"request body too large: the limit is %zu bytes\"}\n",
			req->body_max);

		c->close_after = true;
		api_reply(req, 413, "application/json", msg, (size_t)n);
		return;
	}
	if (!req->route) {
		struct berr *err = steal_ptr(&req->fd_err);

		api_reply_error(req, err);
		berr_free(err);
		return;
	}
	expect = api_request_header(req, "Expect");
	if (!req->message_done && expect && strcasecmp(expect, "100-continue") == 0)
		conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	blog_debug("%s %s", req->method, req->url);
	req->route->handler(req, c->srv->ctx);
}

/* Ends a request whose answer is written and whose body is read, and goes
 * on with the next one. */
static void request_done(struct api_conn *c, struct api_request *req)
{
	if (c->req == req)
		c->req = NULL;
	request_free(req);
	if (c->closing)
		return;
	if (c->close_after) {
		conn_close_graceful(c);
	} else {
		http_parser_pause(&c->parser, 0);
		conn_process(c);
	}
}

static void request_answered(struct api_request *req)
{
	struct api_conn *c = req->conn;
	bool dispatched = req->dispatched;

	if (req->answered)
		return;
	req->answered = true;
	fd_pipe_close(req);
	if (req->body_fd >= 0) {
		close(req->body_fd);
		req->body_fd = -1;
	}
	if (c->req == req && !req->message_done && !c->closing) {
		/* The client is still sending a body nobody wants any more:
		 * read and drop the rest, then close (conn_process). */
		c->close_after = true;
		body_pipe_close(c);
		conn_update(c);
	} else {
		request_done(c, req);
	}
	if (dispatched)
		conn_unref(c);
}

/* Answers a request the parser gave up on, and closes. */
static void reply_fatal(struct api_conn *c, int status)
{
	const char *text = status_text(status);
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Connection: close\r\nContent-Length: %zu\r\n\r\n%d %s",
		     status, text, strlen(text) + 4, status, text);
	conn_write(c, msg, (size_t)n);
	conn_close_graceful(c);
}

/* Adds the LEN bytes of DATA to what waits to be parsed; -1 (the
 * connection closed) when memory ran out. */
static int keep_more(struct api_conn *c, const char *data, size_t len)
{
	size_t waiting = c->pending_len - c->pending_off;
	char *grown = malloc(waiting + len);

	if (!grown) {
		conn_close(c);
		return -1;
	}
	if (waiting)
		memcpy(grown, c->pending + c->pending_off, waiting);
	memcpy(grown + waiting, data, len);
	free(c->pending);
	c->pending = grown;
	c->pending_len = waiting + len;
	c->pending_off = 0;
	return 0;
}

/* Keeps the LEN bytes of DATA the parser did not take: the next request
 * of a pipelining client, or the raw stream after an upgrade. */
static void keep_rest(struct api_conn *c, const char *data, size_t len)
{
	char *rest;

	if (len == 0)
		return;
	rest = malloc(len);
	if (!rest) {
		conn_close(c);
		return;
	}
	memcpy(rest, data, len);
	free(c->pending);
	c->pending = rest;
	c->pending_len = len;
	c->pending_off = 0;
}

static void conn_feed(struct api_conn *c, const char *data, size_t len)
{
	size_t n = http_parser_execute(&c->parser, &c->srv->settings, data, len);
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

	/* Paused at the end of a request, or at the end of an upgrade's
	 * request (see on_message_complete). */
	if (e == HPE_PAUSED || (e == HPE_OK && c->upgraded)) {
		keep_rest(c, data + n, len - n);
		return;
	}
	/* An upgrade's body may still be coming: the parser flags the
	 * upgrade as soon as it has the headers. */
	if (e == HPE_OK)
		return;
	c->dispatch_pending = false;
	if (c->req && c->req->dispatched) {
		/* Its handler has it (or answered it): the body is cut off,
		 * and there is no way to answer twice. */
		conn_close(c);
		return;
	}
	blog_debug("bad request: %s", http_errno_description(e));
	reply_fatal(c, c->fatal_status ? c->fatal_status : 400);
}

/* Parses what is pending and dispatches what is complete, one request at
 * a time. */
static void conn_process(struct api_conn *c)
{
	if (c->in_process)
		return;
	c->in_process = true;
	while (!c->closing) {
		if (c->req && c->req->answered && c->req->message_done) {
			/* Answered while its body was still coming. */
			c->in_process = false;
			request_done(c, c->req);
			return;
		}
		if (c->dispatch_pending) {
			dispatch(c);
			continue;
		}
		if (c->req && c->req->message_done)
			break;
		if (c->pending_off >= c->pending_len || c->upgraded)
			break;

		char *buf = steal_ptr(&c->pending);
		size_t off = c->pending_off, len = c->pending_len;

		c->pending_len = c->pending_off = 0;
		conn_feed(c, buf + off, len - off);
		free(buf);
	}
	c->in_process = false;
	if (c->closing)
		return;
	if (c->read_eof && !c->req && c->pending_off >= c->pending_len)
		conn_close_graceful(c);
	else
		conn_update(c);
}

/* "127.0.0.1:41234", for the log. */
static const char *conn_peer(struct api_conn *c, char *buf, size_t size)
{
	struct sockaddr_storage sa;
	int len = sizeof(sa);
	char host[64] = "?";
	int port = 0;

	if (c->h.handle.type != UV_TCP ||
	    uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&sa, &len) < 0) {
		snprintf(buf, size, "a client");
		return buf;
	}
	if (sa.ss_family == AF_INET) {
		uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
		snprintf(buf, size, "%s:%d", host, port);
	} else {
		uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
		snprintf(buf, size, "[%s]:%d", host, port);
	}
	return buf;
}

/* Turns the LEN bytes of records at DATA into plain text (*plain, the
 * caller's, *plain_len bytes), sending what the session answers (the
 * handshake).  A session that fails is logged and closed: -1. */
static int conn_decrypt(struct api_conn *c, const char *data, size_t len, char **plain,
			size_t *plain_len, bool *eof)
{
	struct berr *err = NULL;
	const char *desc;
	char peer[80];
	int rc;

	rc = api_tls_conn_decrypt(c->tls, data, len, plain, plain_len, eof, &err);
	if (rc < 0) {
		blog_info("closing the connection from %s: %s", conn_peer(c, peer, sizeof(peer)),
			  err->msg);
		berr_free(err);
		/* The alert (or the plain-text answer) goes out first. */
		conn_flush_tls(c);
		c->close_after = true;
		conn_close_graceful(c);
		return -1;
	}
	conn_flush_tls(c);
	if (!c->tls_logged && (desc = api_tls_conn_describe(c->tls))) {
		c->tls_logged = true;
		blog_debug("TLS connection from %s: %s", conn_peer(c, peer, sizeof(peer)), desc);
	}
	return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct api_conn *c = s->data;
	_cleanup_free_ char *plain = NULL;
	const char *data = buf->base;
	size_t len = nread > 0 ? (size_t)nread : 0;
	bool eof = nread < 0;

	c->refs++;
	if (c->tls && len > 0 && !c->closing) {
		if (conn_decrypt(c, data, len, &plain, &len, &eof) < 0)
			len = 0;
		data = plain;
	}
	if (c->tunnel && !c->closing) {
		if (len > 0)
			tunnel_send(c, data, len);
		if (nread < 0 && nread != UV_EOF && !c->closing) {
			conn_close(c);
		} else if (eof && !c->closing) {
			/* Half closed: what the taker still writes goes out. */
			c->read_eof = true;
			uv_read_stop(s);
			c->reading = false;
			tunnel_send_eof(c);
		}
		conn_unref(c);
		return;
	}
	if (len > 0 && !c->closing && c->req && c->req->message_done) {
		/* Read only to see the client leave (see conn_update): what
		 * it sends meanwhile waits for its turn. */
		if (keep_more(c, data, len) == 0)
			conn_update(c);
	} else if (len > 0 && !c->closing) {
		c->in_process = true;
		conn_feed(c, data, len);
		c->in_process = false;
		if (!c->closing)
			conn_process(c);
	}
	if (eof && !c->closing) {
		c->read_eof = true;
		c->close_after = true;
		uv_read_stop(s);
		c->reading = false;
		if (!c->req || !c->req->message_done) {
			/* Nothing to answer, or a request cut off half way
			 * (its handler sees a truncated body). */
			conn_close(c);
		} else if (c->req->dispatched && !c->req->answered && c->req->gone_fn) {
			/* Gone while its answer waits: the handler lets go. */
			api_gone_fn fn = c->req->gone_fn;

			c->req->gone_fn = NULL;
			fn(c->req, c->req->gone_data);
		}
	}
	conn_unref(c);
}

static void on_timeout(uv_timer_t *t)
{
	struct api_conn *c = t->data;

	blog_debug("closing a connection: %s", c->req ? "request stalled" : "idle");
	conn_close(c);
}

/* Reads from the client only when what it sends has somewhere to go, and
 * arms the timer that fits the connection's state. */
static void conn_update(struct api_conn *c)
{
	bool want;

	if (c->closing)
		return;
	if (c->tunnel) {
		/* No timeout: an attached session may be quiet for days. */
		want = !c->read_eof &&
		       uv_stream_get_write_queue_size((uv_stream_t *)c->tunnel) < WRITE_QUEUE_HIGH;
		if (want && !c->reading && uv_read_start(&c->h.stream, on_alloc_conn, on_read) == 0)
			c->reading = true;
		else if (!want && c->reading) {
			uv_read_stop(&c->h.stream);
			c->reading = false;
		}
		uv_timer_stop(&c->timer);
		return;
	}
	want = !c->read_eof && !c->body_paused && !c->upgraded &&
	       c->pending_off >= c->pending_len && !(c->req && c->req->message_done) &&
	       !c->srv->stopping;
	/* While a request is answered, the connection is still read, so that
	 * a client that leaves a long answer (events, logs, stats, wait) is
	 * seen to go, as Go's server sees it: until the client sends
	 * anything (a pipelined request), whose end is then not looked for.
	 * Not for an upgrade, whose stream is its handler's. */
	want |= !c->read_eof && !c->upgraded && c->req && c->req->message_done &&
		c->pending_off >= c->pending_len && !c->srv->stopping;
	if (want && !c->reading) {
		if (uv_read_start(&c->h.stream, on_alloc_conn, on_read) == 0)
			c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop(&c->h.stream);
		c->reading = false;
	}
	if (!c->req)
		uv_timer_start(&c->timer, on_timeout, API_IDLE_TIMEOUT_MS, 0);
	else if (!c->req->message_done && !c->body_paused)
		uv_timer_start(&c->timer, on_timeout, API_STALL_TIMEOUT_MS, 0);
	else
		uv_timer_stop(&c->timer);
}

/* Takes the connection apart: at once (NOW), or all but the socket, which
 * a shutdown closes once what is queued is written.  A request its
 * handler holds stays until answered, and its answer goes nowhere. */
static void conn_teardown(struct api_conn *c, bool now)
{
	struct api_server *srv = c->srv;
	struct api_request *req = c->req;

	if (now && !uv_is_closing(&c->h.handle))
		uv_close(&c->h.handle, on_handle_closed_unref);
	if (c->closing)
		return;
	c->closing = true;
	c->reading = false;
	uv_read_stop(&c->h.stream);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed_unref);
	body_pipe_close(c);
	tunnel_close(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	srv->n_conns--;
	free(c->pending);
	c->pending = NULL;
	c->pending_len = c->pending_off = 0;
	c->req = NULL;
	if (req) {
		/* A pipe's writer sees EPIPE and ends. */
		fd_pipe_close(req);
		req->fd_state |= FD_EOF;
		if (!req->dispatched || req->answered)
			request_free(req);
	}
}

static int conn_new(struct api_server *srv, struct api_conn **out)
{
	struct api_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->srv = srv;
	c->h.handle.data = c;
	c->timer.data = c;
	uv_timer_init(srv->loop, &c->timer);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->refs = 2; /* the socket and the timer */
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	*out = c;
	return 0;
}

static void conn_start(struct api_conn *c)
{
	conn_update(c);
}

static void on_connection(uv_stream_t *ls, int status)
{
	struct listener *l = ls->data;
	struct api_server *srv = l->srv;
	struct api_conn *c;
	int r;

	if (status < 0 || srv->stopping)
		return;
	if (conn_new(srv, &c) < 0)
		return;
	if (l->path)
		r = uv_pipe_init(srv->loop, &c->h.pipe, 0);
	else
		r = uv_tcp_init(srv->loop, &c->h.tcp);
	c->h.handle.data = c;
	if (r < 0 || uv_accept(ls, &c->h.stream) < 0) {
		if (r < 0) {
			/* No handle to close: drop its reference by hand. */
			c->refs--;
		}
		conn_close(c);
		return;
	}
	/* No Nagle: an answer goes out as a few writes (the head, then the
	 * body; TLS records), and each would otherwise wait for the ACK of
	 * the one before, which the client delays by 40 ms.  Go's dockerd
	 * and its clients turn it off too. */
	if (!l->path)
		uv_tcp_nodelay(&c->h.tcp, 1);
	if (l->tls && !(c->tls = api_tls_conn_new(l->tls))) {
		conn_close(c);
		return;
	}
	conn_start(c);
}

int api_server_adopt(struct api_server *srv, int fd, struct berr **err)
{
	struct api_conn *c;

	if (conn_new(srv, &c) < 0) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "new connection");
	}
	uv_pipe_init(srv->loop, &c->h.pipe, 0);
	c->h.handle.data = c;
	if (uv_pipe_open(&c->h.pipe, fd) < 0) {
		close(fd);
		conn_close(c);
		return berr_set(err, BERR_INTERNAL, 0, "adopt connection");
	}
	conn_start(c);
	return 0;
}

/*
 * Listeners and the server.
 */

int api_server_new(uv_loop_t *loop, const struct api_route *routes, size_t n,
		   const char *server_version, void *ctx, struct api_server **out,
		   struct berr **err)
{
	struct api_server *srv = calloc(1, sizeof(*srv));

	if (!srv || !(srv->server_version = strdup(server_version)) ||
	    !(srv->read_buf = malloc(READ_SIZE))) {
		if (srv)
			free(srv->server_version);
		free(srv);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "new server");
	}
	srv->loop = loop;
	srv->routes = routes;
	srv->n_routes = n;
	srv->ctx = ctx;
	srv->settings.on_message_begin = on_message_begin;
	srv->settings.on_url = on_url;
	srv->settings.on_header_field = on_header_field;
	srv->settings.on_header_value = on_header_value;
	srv->settings.on_headers_complete = on_headers_complete;
	srv->settings.on_body = on_body;
	srv->settings.on_message_complete = on_message_complete;
	/* Our own count answers 431; the parser's limit (process-wide) must
	 * not cut in first. */
	http_parser_set_max_header_size(API_HEADERS_MAX + 64 * 1024);
	*out = srv;
	return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
	struct listener *l = h->data;

	free(l->path);
	free(l);
}

static void listener_close(struct listener *l)
{
	if (l->path)
		unlink(l->path);
	uv_close(&l->h.handle, on_listener_closed);
}

/* Whether a daemon answers on the unix socket PATH. */
static bool socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

static int listen_unix(struct api_server *srv, struct listener *l, const char *path,
		       struct berr **err)
{
	struct stat st;
	int r;

	if (*path != '/')
		return berr_set(err, BERR_INVALID, 0, "unix socket path must be absolute: %s",
				path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return berr_set(err, BERR_INVALID, 0,
					"%s exists and is not a socket; not replacing it", path);
		if (socket_in_use(path))
			return berr_set(err, BERR_CONFLICT, 0, "another daemon is listening on %s",
					path);
		/* A stale socket left by a daemon that did not stop cleanly. */
		unlink(path);
	}
	uv_pipe_init(srv->loop, &l->h.pipe, 0);
	l->h.handle.data = l;
	r = uv_pipe_bind(&l->h.pipe, path);
	if (r < 0) {
		uv_close(&l->h.handle, on_listener_closed);
		return berr_set(err, BERR_INTERNAL, -r, "listen on unix://%s", path);
	}
	l->path = strdup(path);
	if (!l->path || chmod(path, 0660) < 0 ||
	    (r = uv_listen(&l->h.stream, 511, on_connection)) < 0) {
		listener_close(l);
		return berr_set(err, BERR_INTERNAL, r < 0 ? -r : errno, "listen on unix://%s",
				path);
	}
	return 0;
}

static int listen_tcp(struct api_server *srv, struct listener *l, const char *hostport,
		      struct berr **err)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_storage sa;
	char *end;
	long port;
	int r;

	if (!colon)
		return berr_set(err, BERR_INVALID, 0, "invalid tcp address %s: no port", hostport);
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return berr_set(err, BERR_INVALID, 0, "invalid tcp address %s: bad port", hostport);
	host = strndup(hostport, (size_t)(colon - hostport));
	if (!host)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "listen");
	if (*host == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (!*host) {
		free(host);
		host = strdup("0.0.0.0");
		if (!host)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "listen");
	}
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&sa) < 0 &&
	    uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&sa) < 0)
		return berr_set(err, BERR_INVALID, 0, "invalid tcp address %s", hostport);
	/* Each accepted stream gets a TLS session of its own. */
	l->tls = srv->tls;
	uv_tcp_init(srv->loop, &l->h.tcp);
	l->h.handle.data = l;
	r = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&sa, 0);
	if (r == 0)
		r = uv_listen(&l->h.stream, 511, on_connection);
	if (r < 0) {
		uv_close(&l->h.handle, on_listener_closed);
		return berr_set(err, BERR_INTERNAL, -r, "listen on tcp://%s", hostport);
	}
	return 0;
}

int api_server_listen(struct api_server *srv, const char *addr, struct berr **err)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "listen");
	l->srv = srv;
	if (strncmp(addr, "unix://", 7) == 0)
		r = listen_unix(srv, l, addr + 7, err);
	else if (strncmp(addr, "tcp://", 6) == 0)
		r = listen_tcp(srv, l, addr + 6, err);
	else if (strncmp(addr, "fd://", 5) == 0) {
		free(l);
		return berr_set(err, BERR_NOT_IMPLEMENTED, 0,
				"socket activation (%s) is not supported", addr);
	} else {
		free(l);
		return berr_set(err, BERR_INVALID, 0,
				"invalid host %s: use unix:///path or tcp://host:port", addr);
	}
	if (r < 0) {
		/* A listener whose handle was initialised is freed on close. */
		if (!l->h.handle.loop)
			free(l);
		return -1;
	}
	l->next = srv->listeners;
	srv->listeners = l;
	return 0;
}

void api_server_set_tls(struct api_server *srv, struct api_tls *tls)
{
	srv->tls = tls;
}

size_t api_server_connections(const struct api_server *srv)
{
	return srv->n_conns;
}

void api_server_stop(struct api_server *srv)
{
	srv->stopping = true;
	while (srv->listeners) {
		struct listener *l = srv->listeners;

		srv->listeners = l->next;
		listener_close(l);
	}
	while (srv->conns)
		conn_close(srv->conns);
}

void api_server_free(struct api_server *srv)
{
	if (!srv)
		return;
	free(srv->server_version);
	free(srv->read_buf);
	free(srv);
}
