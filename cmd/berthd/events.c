/* GET /events and the daemon's emitter: every event goes to the log on
 * disk and to the clients following events, each a response streamed from
 * the loop.  A client with since first gets the logged events (read by a
 * job), then the live ones; until ends its response. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berthd/berthd.h"
#include "daemon/events.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/log.h"

/* Live events a client gets while its logged ones are still being read. */
#define SUB_PENDING_MAX 1024

struct berthd_sub {
	struct api_request *req;
	struct event_filters *filters;
	int64_t until_ns; /* 0: none */
	int64_t replayed; /* timeNano of the last logged event sent */
	json_t *pending;  /* live events held while replaying; NULL after */
	uv_timer_t timer; /* ends the response at until */
	bool ending;	  /* ended while its logged events were read */
	struct berthd *d;
	struct berthd_sub *next;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *log_path(const struct berthd *d)
{
	return str_printf("%s/events.log", d->data_root);
}

int berthd_events_open(struct berthd *d, struct berr **err)
{
	_cleanup_free_ char *path = log_path(d);

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "events log");
	return events_log_open(path, &d->events, err);
}

static void on_sub_closed(uv_handle_t *h)
{
	struct berthd_sub *s = h->data;

	event_filters_free(s->filters);
	json_decref(s->pending);
	free(s);
}

/* Ends the response of S and frees it. */
static void sub_end(struct berthd_sub *s)
{
	struct berthd_sub **pp = &s->d->subs;

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	if (s->ending)
		return;
	api_reply_stream_end(s->req);
	if (s->pending) {
		/* Its job still reads the log: freed when it is done. */
		s->ending = true;
		return;
	}
	uv_close((uv_handle_t *)&s->timer, on_sub_closed);
}

/* Sends EVENT to S; false when S cannot keep up or is gone. */
static bool sub_send(struct berthd_sub *s, const json_t *event)
{
	_cleanup_free_ char *text = jsontext_dump(event);
	size_t len;

	if (!text)
		return true;
	len = strlen(text);
	text[len] = '\n';
	return api_reply_stream_write(s->req, text, len + 1);
}

void berthd_event_emit(struct berthd *d, const char *type, const char *action, const char *id,
		       json_t *attributes)
{
	_cleanup_json_ json_t *ev = event_new(type, action, id, attributes, now_ns());
	struct berr *err = NULL;
	struct berthd_sub *s, *next;

	if (!ev)
		return;
	if (d->events && events_log_append(d->events, ev, &err) < 0) {
		blog_warn("events: %s", err->msg);
		berr_free(err);
	}
	for (s = d->subs; s; s = next) {
		next = s->next;
		if (!event_filters_match(s->filters, ev))
			continue;
		if (s->pending) {
			if (json_array_size(s->pending) < SUB_PENDING_MAX)
				json_array_append(s->pending, ev);
			continue;
		}
		if (!sub_send(s, ev) || !api_request_connected(s->req))
			sub_end(s);
	}
}

static void on_until(uv_timer_t *t)
{
	sub_end(t->data);
}

/* The logged events of a since: read off the loop. */
static int replay_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct berthd_sub *s = job->data;
	_cleanup_free_ char *path = log_path(job->d);
	int64_t since = strtoll(job->names[0], NULL, 10);

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "events");
	return events_log_read(path, since, s->until_ns, s->filters, &job->result, err);
}

static void replay_done(struct berthd_job *job)
{
	struct berthd_sub *s = job->data;
	_cleanup_json_ json_t *pending = steal_ptr(&s->pending);
	int64_t last = 0;
	size_t i;
	json_t *ev;

	if (s->ending) {
		uv_close((uv_handle_t *)&s->timer, on_sub_closed);
		return;
	}
	json_array_foreach (job->result, i, ev) {
		last = json_integer_value(json_object_get(ev, "timeNano"));
		sub_send(s, ev);
	}
	/* Live events the log already held are not sent twice. */
	json_array_foreach (pending, i, ev)
		if (json_integer_value(json_object_get(ev, "timeNano")) > last)
			sub_send(s, ev);
	if ((s->until_ns && s->until_ns <= now_ns()) || !api_request_connected(s->req))
		sub_end(s);
}

void berthd_events(struct api_request *req, void *ctx)
{
	struct berthd *d = ctx;
	const char *since = api_query_get(&req->query, "since");
	const char *until = api_query_get(&req->query, "until");
	struct event_filters *filters = NULL;
	int64_t now = now_ns(), since_ns = 0, until_ns = 0;
	struct berr *err = NULL;
	struct berthd_sub *s;

	if (event_filters_parse(api_query_get(&req->query, "filters"), &filters, &err) < 0 ||
	    (since && *since && event_time_parse(since, now, &since_ns, &err) < 0) ||
	    (until && *until && event_time_parse(until, now, &until_ns, &err) < 0)) {
		event_filters_free(filters);
		api_reply_error(req, err);
		berr_free(err);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		event_filters_free(filters);
		api_reply_errorf(req, BERR_INTERNAL, "out of memory");
		return;
	}
	s->req = req;
	s->d = d;
	s->filters = filters;
	s->until_ns = until_ns;
	uv_timer_init(d->loop, &s->timer);
	s->timer.data = s;
	api_reply_stream_begin(req, 200, "application/json");
	s->next = d->subs;
	d->subs = s;
	if (until_ns && until_ns > now)
		uv_timer_start(&s->timer, on_until, (uint64_t)((until_ns - now) / 1000000) + 1, 0);
	if (since && *since) {
		char since_text[32];
		const char *args[] = { since_text };
		struct berthd_job *job;

		snprintf(since_text, sizeof(since_text), "%lld", (long long)since_ns);
		s->pending = json_array();
		job = berthd_job_with(d, NULL, replay_job, replay_done, args, 1);
		if (job) {
			job->data = s;
			berthd_job_queue(job);
			return;
		}
		json_decref(steal_ptr(&s->pending));
	}
	if (until_ns && until_ns <= now)
		sub_end(s);
}

void berthd_events_close(struct berthd *d)
{
	while (d->subs)
		sub_end(d->subs);
	events_log_free(d->events);
	d->events = NULL;
}

size_t berthd_events_listeners(const struct berthd *d)
{
	size_t n = 0;

	/* One that left is dropped at the next event; it is no listener now. */
	for (const struct berthd_sub *s = d->subs; s; s = s->next)
		n += api_request_connected(s->req);
	return n;
}
