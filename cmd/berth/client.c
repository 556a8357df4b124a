/* The Engine API client: connections, requests and answers (see
 * client.h). */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <http_parser.h>

#include "cmd/berth/client.h"
#include "cmd/berth/tls.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"

#define CLIENT_API_VERSION "1.41"

int client_init(struct client *c, const char *host, struct berr **err)
{
	const char *rest;
	char *colon;

	memset(c, 0, sizeof(*c));
	snprintf(c->version, sizeof(c->version), "%s", CLIENT_API_VERSION);
	c->host = strdup(host);
	if (!c->host)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "host");
	if (strncmp(host, "unix://", 7) == 0 || host[0] == '/') {
		rest = host[0] == '/' ? host : host + 7;
		if (!*rest || strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			goto bad;
		c->path = strdup(rest);
		return c->path ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "host");
	}
	if (strncmp(host, "tcp://", 6) == 0) {
		rest = host + 6;
		c->node = strdup(rest);
		if (!c->node)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "host");
		colon = strrchr(c->node, ':');
		if (colon && !strchr(colon, ']')) {
			*colon = '\0';
			c->service = strdup(colon[1] ? colon + 1 : "2375");
		} else {
			c->service = strdup("2375");
		}
		if (!c->service)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "host");
		/* "[::1]" */
		if (c->node[0] == '[') {
			size_t n = strlen(c->node);

			memmove(c->node, c->node + 1, n);
			if (n > 1 && c->node[n - 2] == ']')
				c->node[n - 2] = '\0';
		}
		if (!*c->node)
			goto bad;
		return 0;
	}
bad:
	return berr_set(err, BERR_INVALID, 0, "unable to parse docker host `%s`", host);
}

void client_clear(struct client *c)
{
	free(c->host);
	free(c->path);
	free(c->node);
	free(c->service);
	memset(c, 0, sizeof(*c));
}

static int cannot_connect(const struct client *c, struct berr **err)
{
	return berr_set(err, BERR_UNAVAILABLE, 0,
			"Cannot connect to the berth daemon at %s. Is berthd running?", c->host);
}

/* Puts in front of *err what the docker client says of a request REQ
 * that failed in TLS: 'error during connect: Get
 * "https://host:port/v1.41/path": CAUSE'; returns -1. */
static int connect_error(const struct client *c, const struct client_req *req, struct berr **err)
{
	bool v6 = c->node && strchr(c->node, ':');
	char op[8];
	size_t i;

	for (i = 0; req->method[i] && i + 1 < sizeof(op); i++)
		op[i] = i ? (char)tolower((unsigned char)req->method[i]) : req->method[i];
	op[i] = '\0';
	return berr_prefix(err, "error during connect: %s \"https://%s%s%s:%s%s%s%s\"", op,
			   v6 ? "[" : "", c->node ? c->node : "localhost", v6 ? "]" : "",
			   c->service ? c->service : "2376", c->version[0] ? "/v" : "", c->version,
			   req->path);
}

static int client_dial(struct client *c, struct berr **err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int fd = -1;

	if (c->path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return berr_set(err, BERR_INTERNAL, errno, "socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(fd);
			return cannot_connect(c, err);
		}
		return fd;
	}
	if (getaddrinfo(c->node, c->service, &hints, &res) != 0)
		return cannot_connect(c, err);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			/* No Nagle, as Go's clients: a request body and the
			 * records of TLS go out at once. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cannot_connect(c, err);
	return fd;
}

/* A connection to the daemon, plain or TLS. */
static int client_connect(struct client *c, const struct client_req *req, struct berr **err)
{
	int fd = client_dial(c, err), pair = -1;

	if (fd < 0 || !c->tls)
		return fd;
	/* A unix socket's name is not the daemon's: nothing to check. */
	if (client_tls_connect(c->tls, fd, c->path ? NULL : c->node, &pair, err) < 0)
		return connect_error(c, req, err);
	return pair;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The body of BODY_FD as chunks. */
static int send_chunked(int fd, int body_fd)
{
	char buf[65536 + 32];

	for (;;) {
		ssize_t n = read(body_fd, buf + 16, 65536);
		int h;
		char head[16];

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		h = snprintf(head, sizeof(head), "%zx\r\n", (size_t)n);
		memcpy(buf + 16 - h, head, (size_t)h);
		memcpy(buf + 16 + n, "\r\n", 2);
		if (send_all(fd, buf + 16 - h, (size_t)h + (size_t)n + 2) < 0)
			return -1;
		if (n == 0)
			return 0;
	}
}

int client_send(struct client *c, const struct client_req *req, int *out, struct berr **err)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_free_ char *head = NULL;
	_cleanup_close_ int fd = -1;
	const void *body = req->body;
	size_t body_len = req->body_len;
	const char *type = req->content_type;
	bool has_body = req->json || req->body || req->body_fd >= 0;
	char tail[64];

	if (req->json) {
		json = json_dumps(req->json, JSON_COMPACT);
		if (!json)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "request body");
		body = json;
		body_len = strlen(json);
		type = "application/json";
	}
	if (req->body_fd >= 0)
		snprintf(tail, sizeof(tail), "Transfer-Encoding: chunked\r\n\r\n");
	else if (has_body || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0)
		snprintf(tail, sizeof(tail), "Content-Length: %zu\r\n\r\n", body_len);
	else
		snprintf(tail, sizeof(tail), "\r\n");
	head = str_printf("%s %s%s%s HTTP/1.1\r\n"
			  "Host: %s\r\n"
			  "User-Agent: berth-cli\r\n"
			  "%s%s%s"
			  "%s%s",
			  req->method, c->version[0] ? "/v" : "", c->version, req->path,
			  c->path ? "api.moby.localhost" : c->node, type ? "Content-Type: " : "",
			  type ? type : "", type ? "\r\n" : "",
			  req->upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "", tail);
	if (!head)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "request");
	fd = client_connect(c, req, err);
	if (fd < 0)
		return -1;
	/* The head in one write: a request in pieces costs round trips. */
	if (send_all(fd, head, strlen(head)) < 0)
		return berr_set(err, BERR_UNAVAILABLE, errno, "send to %s", c->host);
	if (body_len && send_all(fd, body, body_len) < 0)
		return berr_set(err, BERR_UNAVAILABLE, errno, "send to %s", c->host);
	if (req->body_fd >= 0 && send_chunked(fd, req->body_fd) < 0)
		return berr_set(err, BERR_UNAVAILABLE, errno, "send to %s", c->host);
	*out = steal_fd(&fd);
	return 0;
}

/* The state of one answer's parse. */
struct reading {
	const struct client_req *req;
	struct client_resp *resp;
	char *field;	   /* the header being read */
	bool want_type;	   /* its value is Content-Type's */
	bool want_version; /* Api-Version's */
	bool done;
	bool stopped; /* the sink asked to stop */
};

static int append(char **buf, size_t *len, const char *data, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (!nb)
		return -1;
	memcpy(nb + *len, data, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;

	r->want_type = len == 12 && strncasecmp(at, "Content-Type", 12) == 0;
	r->want_version = len == 11 && strncasecmp(at, "Api-Version", 11) == 0;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;
	size_t have = 0;

	if (r->want_version) {
		size_t used = strlen(r->resp->api_version);

		if (used + len < sizeof(r->resp->api_version)) {
			memcpy(r->resp->api_version + used, at, len);
			r->resp->api_version[used + len] = '\0';
		}
		return 0;
	}
	if (!r->want_type)
		return 0;
	if (r->resp->content_type)
		have = strlen(r->resp->content_type);
	return append(&r->resp->content_type, &have, at, len);
}

static int on_headers_complete(http_parser *p)
{
	struct reading *r = p->data;

	r->resp->status = p->status_code;
	if (r->req && strcmp(r->req->method, "HEAD") == 0)
		return 1; /* no body follows */
	return 0;
}

static bool successful(int status)
{
	return status >= 200 && status < 300;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct reading *r = p->data;

	if (r->req && r->req->sink && successful(r->resp->status)) {
		if (r->req->sink(r->req->sink_arg, at, len) != 0) {
			r->stopped = true;
			return -1;
		}
		return 0;
	}
	return append(&r->resp->body, &r->resp->len, at, len);
}

static int on_message_complete(http_parser *p)
{
	struct reading *r = p->data;

	r->done = true;
	http_parser_pause(p, 1);
	return 0;
}

/* The daemon closed the connection before it answered; with TLS, the
 * session may tell why (a client certificate refused after the handshake,
 * as TLS 1.3 has it). */
static int closed_error(const struct client *c, int fd, const struct client_req *req,
			struct berr **err)
{
	_cleanup_free_ char *why = c->tls ? client_tls_failure(fd) : NULL;

	if (why && req) {
		berr_set(err, BERR_UNAVAILABLE, 0, "%s", why);
		return connect_error(c, req, err);
	}
	return berr_set(err, BERR_UNAVAILABLE, 0, "the daemon at %s closed the connection",
			c->host);
}

int client_finish(struct client *c, int fd, const struct client_req *req, struct client_resp *resp,
		  struct berr **err)
{
	static const http_parser_settings settings = {
		.on_header_field = on_header_field,
		.on_header_value = on_header_value,
		.on_headers_complete = on_headers_complete,
		.on_body = on_body,
		.on_message_complete = on_message_complete,
	};
	struct reading r = { .req = req, .resp = resp };
	http_parser p;
	char buf[65536];
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	resp->fd = -1;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &r;
	while (!r.done) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t used;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = berr_set(err, BERR_UNAVAILABLE, errno, "read from %s", c->host);
			break;
		}
		used = http_parser_execute(&p, &settings, buf, (size_t)n);
		if (r.stopped)
			break;
		if (p.upgrade && req && req->upgrade) {
			resp->status = p.status_code;
			if (used < (size_t)n && append(&resp->early, &resp->early_len, buf + used,
						       (size_t)n - used) < 0) {
				rc = berr_set(err, BERR_INTERNAL, ENOMEM, "read");
				break;
			}
			resp->fd = fd;
			return 0;
		}
		if (r.done)
			break;
		if (HTTP_PARSER_ERRNO(&p) != HPE_OK) {
			rc = berr_set(err, BERR_UNAVAILABLE, 0, "a bad answer from %s: %s", c->host,
				      http_errno_description(HTTP_PARSER_ERRNO(&p)));
			break;
		}
		if (n == 0) {
			if (!r.done && resp->status == 0)
				rc = closed_error(c, fd, req, err);
			break;
		}
	}
	close(fd);
	if (rc < 0)
		return -1;
	if (!resp->body && append(&resp->body, &resp->len, "", 0) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read");
	return 0;
}

int client_do(struct client *c, const struct client_req *req, struct client_resp *resp,
	      struct berr **err)
{
	int fd = -1;

	memset(resp, 0, sizeof(*resp));
	resp->fd = -1;
	if (client_send(c, req, &fd, err) < 0)
		return -1;
	return client_finish(c, fd, req, resp, err);
}

void client_resp_clear(struct client_resp *r)
{
	free(r->body);
	free(r->content_type);
	free(r->early);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int client_check(const struct client_resp *resp, struct berr **err)
{
	_cleanup_json_ json_t *j = NULL;
	const char *msg = NULL;
	enum berr_kind kind = BERR_INTERNAL;

	/* As the docker client: below 400 is no error (304 for a start of
	 * a running container). */
	if (resp->status >= 100 && resp->status < 400)
		return 0;
	if (resp->body && resp->len)
		j = json_loadb(resp->body, resp->len, 0, NULL);
	msg = json_string_value(json_object_get(j, "message"));
	switch (resp->status) {
	case 400:
		kind = BERR_INVALID;
		break;
	case 403:
		kind = BERR_FORBIDDEN;
		break;
	case 404:
		kind = BERR_NOT_FOUND;
		break;
	case 409:
		kind = BERR_CONFLICT;
		break;
	case 501:
		kind = BERR_NOT_IMPLEMENTED;
		break;
	}
	if (!msg) {
		/* A body that is not Docker's error document, trimmed. */
		size_t n = resp->len;

		while (n && (resp->body[n - 1] == '\n' || resp->body[n - 1] == '\r'))
			n--;
		return berr_set(err, kind, 0, "Error response from daemon: %.*s", (int)n,
				n ? resp->body : "");
	}
	return berr_set(err, kind, 0, "Error response from daemon: %s", msg);
}

int client_json(struct client *c, const char *method, const char *path, const json_t *body,
		json_t **out, struct berr **err)
{
	struct client_req req = { .method = method, .path = path, .json = body, .body_fd = -1 };
	struct client_resp resp;
	json_error_t jerr;
	int rc;

	if (out)
		*out = NULL;
	if (client_do(c, &req, &resp, err) < 0)
		return -1;
	rc = client_check(&resp, err);
	if (rc == 0 && out && resp.len) {
		*out = json_loadb(resp.body, resp.len, 0, &jerr);
		if (!*out)
			rc = berr_set(err, BERR_INTERNAL, 0, "a bad answer from the daemon: %s",
				      jerr.text);
	}
	client_resp_clear(&resp);
	return rc;
}

int client_ping(struct client *c, struct berr **err)
{
	struct client_req req = { .method = "GET", .path = "/_ping", .body_fd = -1 };
	struct client_resp resp;
	char saved[sizeof(c->version)];
	int rc;

	/* /_ping is asked for without a version. */
	memcpy(saved, c->version, sizeof(saved));
	c->version[0] = '\0';
	rc = client_do(c, &req, &resp, err);
	memcpy(c->version, saved, sizeof(saved));
	if (rc < 0)
		return -1;
	rc = resp.status == 200 ? 0 : client_check(&resp, err);
	/* The lower of the daemon's version and the client's. */
	if (rc == 0 && resp.api_version[0]) {
		unsigned sa = 0, sb = 0, ca = 0, cb = 0;

		if (sscanf(resp.api_version, "%u.%u", &sa, &sb) == 2 &&
		    sscanf(c->version, "%u.%u", &ca, &cb) == 2 &&
		    (sa < ca || (sa == ca && sb < cb)))
			snprintf(c->version, sizeof(c->version), "%u.%u", sa, sb);
	}
	client_resp_clear(&resp);
	return rc;
}

int client_demux_feed(struct client_demux *d, const char *data, size_t len, int out, int err_fd)
{
	while (len) {
		if (d->left == 0) {
			size_t take = sizeof(d->head) - d->have;

			if (take > len)
				take = len;
			memcpy(d->head + d->have, data, take);
			d->have += take;
			data += take;
			len -= take;
			if (d->have < sizeof(d->head))
				return 0;
			d->have = 0;
			d->stream = d->head[0];
			d->left = (size_t)d->head[4] << 24 | (size_t)d->head[5] << 16 |
				  (size_t)d->head[6] << 8 | d->head[7];
			continue;
		}
		{
			size_t take = d->left < len ? d->left : len;

			if (fs_write_all(d->stream == 2 ? err_fd : out, data, take) < 0)
				return -1;
			data += take;
			len -= take;
			d->left -= take;
		}
	}
	return 0;
}

char *client_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

int client_lines_sink(void *arg, const char *data, size_t len)
{
	struct client_lines *l = arg;
	char *grown = realloc(l->pending, l->len + len + 1);
	size_t start = 0;

	if (!grown)
		return -1;
	l->pending = grown;
	memcpy(l->pending + l->len, data, len);
	l->len += len;
	for (size_t i = 0; i < l->len; i++) {
		if (l->pending[i] != '\n')
			continue;
		if (l->line(l->arg, l->pending + start, i - start) != 0)
			return -1;
		start = i + 1;
	}
	memmove(l->pending, l->pending + start, l->len - start);
	l->len -= start;
	return 0;
}

void client_lines_end(struct client_lines *l)
{
	if (l->len)
		l->line(l->arg, l->pending, l->len);
	free(l->pending);
	l->pending = NULL;
	l->len = 0;
}
