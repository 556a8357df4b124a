/* Fuzz target for berthd's request parsing: raw bytes from a client go to
 * an api server on its own loop through a socketpair, with routes that
 * buffer a body, stream one into a pipe read by a pool job, and stream a
 * response out of a pipe.  Whatever arrives, the server must answer or
 * close, never crash or leak, and end when the client has gone. */
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http.h"
#include "lib/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct drain_job {
	uv_work_t w;
	struct api_request *req;
	int fd;
	bool write;
};

static void job_work(uv_work_t *w)
{
	struct drain_job *j = w->data;
	char buf[4096];

	if (j->write) {
		if (write(j->fd, "data", 4) < 0) {
		}
	} else {
		while (read(j->fd, buf, sizeof(buf)) > 0) {
		}
	}
	close(j->fd);
}

static void job_after(uv_work_t *w, int status)
{
	struct drain_job *j = w->data;

	if (j->write)
		api_reply_fd_end(j->req, NULL);
	else
		api_reply(j->req, 200, "text/plain", "done", 4);
	free(j);
}

static void h_upload(struct api_request *req, void *ctx)
{
	struct drain_job *j = calloc(1, sizeof(*j));

	if (!j) {
		api_reply_errorf(req, BERR_INTERNAL, "no memory");
		return;
	}
	j->w.data = j;
	j->req = req;
	j->fd = steal_fd(&req->body_fd);
	uv_queue_work(ctx, &j->w, job_work, job_after);
}

static void h_download(struct api_request *req, void *ctx)
{
	struct drain_job *j = calloc(1, sizeof(*j));
	int fds[2];

	if (!j || pipe2(fds, O_CLOEXEC) < 0) {
		free(j);
		api_reply_errorf(req, BERR_INTERNAL, "no pipe");
		return;
	}
	j->w.data = j;
	j->req = req;
	j->fd = fds[1];
	j->write = true;
	api_reply_fd_begin(req, "application/x-tar", fds[0]);
	uv_queue_work(ctx, &j->w, job_work, job_after);
}

static void h_json(struct api_request *req, void *ctx)
{
	const char *name = api_params_get(&req->params, "name");
	json_t *v = json_pack("{s:s?,s:s?,s:b}", "name", name, "q", api_query_get(&req->query, "q"),
			      "f", api_query_bool(&req->query, "force"));

	api_reply_json(req, 200, v);
	json_decref(v);
}

static const struct api_route routes[] = {
	{ "GET", "/_ping", h_json, 0, 0 },
	{ "POST", "/images/load", h_upload, API_ROUTE_STREAM_BODY, 1024 * 1024 },
	{ "GET", "/images/get", h_download, 0, 0 },
	{ "POST", "/images/{name}/tag", h_json, 0, 64 },
	{ "GET", "/images/{name}/json", h_json, 0, 0 },
	{ "DELETE", "/images/{name}", h_json, 0, 0 },
};

struct peer {
	int fd;
	const uint8_t *data;
	size_t size;
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	char buf[65536];
	size_t off = 0;

	while (off < p->size) {
		ssize_t n = send(p->fd, p->data + off, p->size - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(p->fd, SHUT_WR);
	while (read(p->fd, buf, sizeof(buf)) > 0) {
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_server *srv = NULL;
	struct peer p = { .data = data, .size = size };
	uv_loop_t loop;
	pthread_t t;
	int sv[2];

	if (uv_loop_init(&loop) < 0)
		abort();
	if (api_server_new(&loop, routes, sizeof(routes) / sizeof(routes[0]), "berth/fuzz (linux)",
			   &loop, &srv, NULL) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	p.fd = sv[0];
	if (api_server_adopt(srv, sv[1], NULL) < 0)
		abort();
	if (pthread_create(&t, NULL, peer_main, &p) != 0)
		abort();
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	close(sv[0]);
	if (api_server_connections(srv) != 0)
		abort();
	api_server_stop(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	api_server_free(srv);
	if (uv_loop_close(&loop) != 0)
		abort();
	return 0;
}
