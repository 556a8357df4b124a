/* A client of berthd's Engine API: one blocking connection per request
 * over a unix socket or TCP, plain or TLS (tls.h), HTTP/1.1 with JSON bodies, answers read
 * by http_parser (Content-Length, chunked or to the end), streamed answers
 * handed to a callback, Docker's multiplexed stream framing, and the
 * hijacked "Upgrade: tcp" connection of attach and exec. */
#ifndef BERTH_CMD_BERTH_CLIENT_H
#define BERTH_CMD_BERTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lib/berr.h"

/* The host when neither -H, $BERTH_HOST nor $DOCKER_HOST names one. */
#define CLIENT_DEFAULT_HOST "unix:///run/berth.sock"
/* The same with TLS, as the docker client has it. */
#define CLIENT_DEFAULT_TLS_HOST "tcp://localhost:2376"

struct client_tls;

struct client {
	char *host; /* as given: "unix:///run/berth.sock", "tcp://h:2375" */
	char *path; /* the socket's path, or NULL for TCP */
	char *node; /* TCP host and port */
	char *service;
	char version[16];	/* "1.41": the API version of the paths */
	struct client_tls *tls; /* TLS settings (borrowed); NULL for plain */
};

/* Parses HOST ("unix://PATH", "tcp://HOST:PORT", "PATH" with a "/"; the
 * port 2375 when not given, as the docker client); BERR_INVALID for
 * another form.  The caller sets c->tls after, for TLS. */
int client_init(struct client *c, const char *host, struct berr **err);
void client_clear(struct client *c);

/* Asks /_ping for the daemon's API version and keeps the lower of it and
 * 1.41.  BERR_UNAVAILABLE "Cannot connect to the berth daemon at HOST. Is
 * berthd running?" when nobody answers. */
int client_ping(struct client *c, struct berr **err);

/* A body's bytes as they arrive; non-zero stops the request. */
typedef int (*client_sink)(void *arg, const char *data, size_t len);

/* A streamed body taken a line at a time (JSON message streams: load,
 * import, events): client_lines_sink() as the sink with a struct
 * client_lines as its argument gives LINE each whole line, without its
 * newline; non-zero from LINE stops the request.  client_lines_end() gives
 * LINE what is left after the last newline, then frees the buffer. */
struct client_lines {
	int (*line)(void *arg, const char *s, size_t len);
	void *arg;
	char *pending;
	size_t len;
};
int client_lines_sink(void *arg, const char *data, size_t len);
void client_lines_end(struct client_lines *l);

struct client_req {
	const char *method;
	const char *path; /* "/containers/json?all=1", sent under "/v1.41" */
	const json_t *json;
	/* or a body of bytes, or one read from BODY_FD (sent chunked) */
	const void *body;
	size_t body_len;
	int body_fd; /* -1 for none; 0 is stdin */
	const char *content_type;
	/* The body of a successful answer goes to SINK when set. */
	client_sink sink;
	void *sink_arg;
	bool upgrade; /* ask for the raw connection (attach, exec start) */
};

struct client_resp {
	int status;
	char *body; /* NUL-terminated; not the part given to a sink */
	size_t len;
	char *content_type;
	char api_version[16]; /* the Api-Version header */
	/* With upgrade, the connection now carries the raw stream and
	 * EARLY holds what already came of it. */
	int fd;
	char *early;
	size_t early_len;
};

void client_resp_clear(struct client_resp *r);

/* Sends REQ and reads its answer into *resp.  An answer that is not 2xx is
 * not an error here: see client_check(). */
int client_do(struct client *c, const struct client_req *req, struct client_resp *resp,
	      struct berr **err);

/* Sends REQ and returns the connection, whose answer client_finish()
 * reads later (the wait of run, held while the container runs). */
int client_send(struct client *c, const struct client_req *req, int *fd, struct berr **err);
int client_finish(struct client *c, int fd, const struct client_req *req, struct client_resp *resp,
		  struct berr **err);

/* Sets the daemon's error of a failed answer ("Error response from daemon:
 * MESSAGE", its kind from the status) and returns -1; 0 for 2xx. */
int client_check(const struct client_resp *resp, struct berr **err);

/* A JSON request whose JSON answer (NULL for an empty one) goes to *out
 * (may be NULL); -1 with the daemon's error for a failed one. */
int client_json(struct client *c, const char *method, const char *path, const json_t *body,
		json_t **out, struct berr **err);

/* Docker's multiplexed stream: 8-byte headers (stream, 0, 0, 0, length as
 * 32-bit big endian) each before its frame. */
struct client_demux {
	unsigned char head[8];
	size_t have;
	size_t left;
	int stream; /* 1 stdout, 2 stderr */
};

/* Writes the frames of DATA to OUT (stdout) and ERR_FD (stderr) as they
 * come, across calls; -1 with errno when a write fails. */
int client_demux_feed(struct client_demux *d, const char *data, size_t len, int out, int err_fd);

/* "a b" as a query value. */
char *client_escape(const char *s);

#endif
