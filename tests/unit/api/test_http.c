/* Unit tests for api/http: a server on its own loop serving connections
 * made with socketpair(2), a client thread writing raw bytes and reading
 * everything back.  Covers Docker's headers, pipelined requests answered
 * in order, unknown routes and versions, the header and body limits,
 * garbage, streamed request bodies read by a pool job, and responses
 * streamed from a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/http.h"
#include "lib/cleanup.h"

struct client {
	int fd;
	const char *data;
	size_t len;
	char *out;
	size_t out_len;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	size_t off = 0, cap = 0;

	while (off < c->len) {
		ssize_t n = send(c->fd, c->data + off, c->len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	for (;;) {
		ssize_t n;

		if (c->out_len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			c->out = realloc(c->out, cap);
		}
		n = read(c->fd, c->out + c->out_len, cap - c->out_len - 1);
		if (n <= 0)
			break;
		c->out_len += (size_t)n;
	}
	if (c->out)
		c->out[c->out_len] = '\0';
	else
		c->out = strdup("");
	return NULL;
}

/* The streamed-body route: a pool job counts the body's bytes. */
struct count_job {
	uv_work_t w;
	struct api_request *req;
	int fd;
	size_t n;
};

static void count_work(uv_work_t *w)
{
	struct count_job *j = w->data;
	char buf[4096];
	ssize_t n;

	while ((n = read(j->fd, buf, sizeof(buf))) > 0)
		j->n += (size_t)n;
	close(j->fd);
}

static void count_after(uv_work_t *w, int status)
{
	struct count_job *j = w->data;
	char text[64];

	snprintf(text, sizeof(text), "%zu", j->n);
	api_reply(j->req, 200, "text/plain", text, strlen(text));
	free(j);
}

static void h_count(struct api_request *req, void *ctx)
{
	struct count_job *j = calloc(1, sizeof(*j));

	j->w.data = j;
	j->req = req;
	j->fd = steal_fd(&req->body_fd);
	uv_queue_work(ctx, &j->w, count_work, count_after);
}

/* The streamed-response route: a pool job writes into a pipe. */
struct write_job {
	uv_work_t w;
	struct api_request *req;
	int fd;
	bool fail;
};

static void write_work(uv_work_t *w)
{
	struct write_job *j = w->data;

	if (!j->fail && write(j->fd, "hello ", 6) == 6 && write(j->fd, "world", 5) == 5) {
	}
	close(j->fd);
}

static void write_after(uv_work_t *w, int status)
{
	struct write_job *j = w->data;
	struct berr *err = NULL;

	if (j->fail)
		berr_set(&err, BERR_NOT_FOUND, 0, "No such image: x");
	api_reply_fd_end(j->req, err);
	berr_free(err);
	free(j);
}

static void h_stream(struct api_request *req, void *ctx)
{
	struct write_job *j = calloc(1, sizeof(*j));
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	j->w.data = j;
	j->req = req;
	j->fd = fds[1];
	j->fail = api_query_bool(&req->query, "fail");
	api_reply_fd_begin(req, "application/x-tar", fds[0]);
	uv_queue_work(ctx, &j->w, write_work, write_after);
}

static void h_echo(struct api_request *req, void *ctx)
{
	char text[256];
	const char *x = api_query_get(&req->query, "x");

	snprintf(text, sizeof(text), "%s %s x=%s body=%zu v=%d.%d", req->method, req->path,
		 x ? x : "-", req->body_len, req->api_major, req->api_minor);
	api_reply(req, 200, "text/plain", text, strlen(text));
}

static void h_name(struct api_request *req, void *ctx)
{
	const char *name = api_params_get(&req->params, "name");

	api_reply(req, 200, "text/plain", name, strlen(name));
}

static void h_error(struct api_request *req, void *ctx)
{
	api_reply_errorf(req, BERR_CONFLICT, "conflict: %s", "in use");
}

static const struct api_route routes[] = {
	{ "GET", "/_ping", h_echo, 0, 0 },
	{ "POST", "/small", h_echo, 0, 16 },
	{ "GET", "/echo", h_echo, 0, 0 },
	{ "POST", "/count", h_count, API_ROUTE_STREAM_BODY, 64 * 1024 * 1024 },
	{ "GET", "/stream", h_stream, 0, 0 },
	{ "GET", "/conflict", h_error, 0, 0 },
	{ "GET", "/images/{name}/json", h_name, 0, 0 },
};

/* Serves one connection that gets DATA, and returns all it answered. */
static char *exchange(const char *data, size_t len)
{
	struct api_server *srv = NULL;
	struct client c = { .data = data, .len = len };
	uv_loop_t loop;
	pthread_t t;
	int sv[2];

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(api_server_new(&loop, routes, sizeof(routes) / sizeof(routes[0]),
					"berth/test (linux)", &loop, &srv, NULL),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c.fd = sv[0];
	assert_int_equal(api_server_adopt(srv, sv[1], NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, client_main, &c), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	close(sv[0]);
	assert_int_equal(api_server_connections(srv), 0);
	api_server_stop(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	api_server_free(srv);
	assert_int_equal(uv_loop_close(&loop), 0);
	return c.out;
}

static char *exchange_str(const char *data)
{
	return exchange(data, strlen(data));
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_docker_headers(void **state)
{
	_cleanup_free_ char *out = exchange_str("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");

	assert_true(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(out, "\r\nApi-Version: 1.41\r\n"));
	assert_non_null(strstr(out, "\r\nDocker-Experimental: false\r\n"));
	assert_non_null(strstr(out, "\r\nOstype: linux\r\n"));
	assert_non_null(strstr(out, "\r\nServer: berth/test (linux)\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nGET /_ping x=- body=0 v=1.41"));
}

static void test_pipelined_in_order(void **state)
{
	_cleanup_free_ char *out =
		exchange_str("GET /echo?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
			     "POST /v1.30/small HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
			     "GET /v1.41/images/localhost:5000/a/b:1/json HTTP/1.1\r\n\r\n");
	char *a = strstr(out, "GET /echo x=1 body=0 v=1.41");
	char *b = strstr(out, "POST /small x=- body=3 v=1.30");
	char *c = strstr(out, "localhost:5000/a/b:1");

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a < b && b < c);
	assert_int_equal(count_of(out, "HTTP/1.1 200 OK"), 3);
}

static void test_not_found_and_versions(void **state)
{
	_cleanup_free_ char *out = exchange_str("GET /nope HTTP/1.1\r\n\r\n"
						"GET /v1.12/echo HTTP/1.1\r\n\r\n"
						"GET /v1.99/echo HTTP/1.1\r\n\r\n"
						"GET /conflict HTTP/1.1\r\n\r\n");

	assert_non_null(strstr(out, "HTTP/1.1 404 Not Found\r\n"));
	assert_non_null(strstr(out, "{\"message\":\"page not found\"}\n"));
	assert_non_null(strstr(out, "client version 1.12 is too old. Minimum supported API "
				    "version is 1.24, please upgrade your client to a newer "
				    "version"));
	assert_non_null(strstr(out, "client version 1.99 is too new. Maximum supported API "
				    "version is 1.41"));
	assert_int_equal(count_of(out, "HTTP/1.1 400 Bad Request"), 2);
	assert_non_null(strstr(out, "HTTP/1.1 409 Conflict"));
	assert_non_null(strstr(out, "{\"message\":\"conflict: in use\"}"));
	assert_non_null(strstr(out, "Content-Type: application/json"));
}

static const char big_prefix[] = "GET /echo HTTP/1.1\r\nX-Big: ";

static void test_header_limit(void **state)
{
	size_t big = API_HEADERS_MAX + 4096;
	char *req = malloc(big + 64);
	_cleanup_free_ char *out = NULL;
	size_t n;

	assert_non_null(req);
	n = strlen(big_prefix);
	memcpy(req, big_prefix, n);
	memset(req + n, 'a', big);
	n += big;
	memcpy(req + n, "\r\n\r\n", 4);
	n += 4;
	out = exchange(req, n);
	free(req);
	assert_true(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
	assert_null(strstr(out, "GET /echo"));

	/* Just under the limit passes. */
	req = malloc(API_HEADERS_MAX);
	assert_non_null(req);
	n = strlen(big_prefix);
	memcpy(req, big_prefix, n);
	memset(req + n, 'a', 512 * 1024);
	n += 512 * 1024;
	memcpy(req + n, "\r\n\r\n", 4);
	free(out);
	out = exchange(req, n + 4);
	free(req);
	assert_non_null(strstr(out, "GET /echo x=- body=0"));
}

static void test_body_limit(void **state)
{
	_cleanup_free_ char *out =
		exchange_str("POST /small HTTP/1.1\r\nContent-Length: 17\r\n\r\n01234567890123456");
	_cleanup_free_ char *chunked =
		exchange_str("POST /small HTTP/1.1\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n"
			     "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");

	assert_true(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
	assert_true(strncmp(chunked, "HTTP/1.1 413 ", 13) == 0);
}

static void test_garbage(void **state)
{
	_cleanup_free_ char *out = exchange_str("\x01\x02garbage\r\n\r\n");
	_cleanup_free_ char *after = exchange_str("GET /echo HTTP/1.1\r\n\r\n\x01\x02 nonsense");

	assert_true(strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	/* The good request is answered before the bad bytes close it. */
	assert_non_null(strstr(after, "GET /echo x=- body=0"));
	assert_non_null(strstr(after, "HTTP/1.1 400 "));
}

static void test_streamed_body(void **state)
{
	size_t body = 5 * 1024 * 1024 + 7;
	size_t head = 128;
	char *req = malloc(body + head);
	_cleanup_free_ char *out = NULL;
	int n;

	assert_non_null(req);
	n = snprintf(req, head, "POST /count HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body);

	memset(req + n, 'z', body);
	out = exchange(req, (size_t)n + body);
	free(req);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(out, "\r\n\r\n5242887"));
}

static void test_streamed_response(void **state)
{
	_cleanup_free_ char *out = exchange_str("GET /stream HTTP/1.1\r\n\r\n"
						"GET /stream?fail=1 HTTP/1.1\r\n\r\n");
	char *ok = strstr(out, "HTTP/1.1 200 OK");
	char *err = strstr(out, "HTTP/1.1 404 Not Found");

	assert_non_null(ok);
	assert_non_null(err);
	assert_true(ok < err);
	assert_non_null(strstr(out, "Transfer-Encoding: chunked"));
	assert_non_null(strstr(out, "Content-Type: application/x-tar"));
	/* Chunks as written, then the end; the failure before any byte is
	 * a plain error answer. */
	assert_non_null(strstr(out, "hello "));
	assert_non_null(strstr(out, "world\r\n0\r\n\r\n"));
	assert_non_null(strstr(out, "{\"message\":\"No such image: x\"}"));
}

static void test_http10(void **state)
{
	_cleanup_free_ char *out =
		exchange_str("GET /echo HTTP/1.0\r\n\r\nGET /echo HTTP/1.0\r\n\r\n");

	/* No keep-alive: one answer, then the connection ends. */
	assert_int_equal(count_of(out, "HTTP/1.0 200 OK"), 1);
	assert_non_null(strstr(out, "Connection: close"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_headers),
		cmocka_unit_test(test_pipelined_in_order),
		cmocka_unit_test(test_not_found_and_versions),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_streamed_body),
		cmocka_unit_test(test_streamed_response),
		cmocka_unit_test(test_http10),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
