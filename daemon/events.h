/* Docker's events: the JSON of one event (Type, Action, Actor, scope,
 * time, timeNano and the legacy status, id, from), the filters of
 * `docker events --filter`, the since/until timestamps, and the bounded
 * log on disk that lets `--since` look back, across restarts too.  Nothing
 * here knows of sockets: the daemon streams what this builds. */
#ifndef BERTH_DAEMON_EVENTS_H
#define BERTH_DAEMON_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

/* How many events the log keeps; past it the oldest half goes. */
#define EVENTS_LOG_MAX 10000

/* A new event of TYPE ("container", "image"...) and ACTION on the object
 * ID, with ATTRIBUTES (an object of strings, stolen; NULL: none) at
 * TIME_NS.  NULL when out of memory. */
json_t *event_new(const char *type, const char *action, const char *id, json_t *attributes,
		  int64_t time_ns);

struct event_filters;

/* Parses Docker's filters parameter TEXT (a JSON object of arrays, or the
 * old map form); NULL or "" passes everything.  Keys: type, event,
 * container, image, label, volume, network, daemon, scope.  Sets
 * BERR_INVALID ("invalid filter 'x'"). */
int event_filters_parse(const char *text, struct event_filters **out, struct berr **err);
void event_filters_free(struct event_filters *f);
DEFINE_CLEANUP(struct event_filters *, event_filters_free)

/* Whether EVENT passes F (NULL passes all): values of a key are
 * alternatives, keys must all match. */
bool event_filters_match(const struct event_filters *f, const json_t *event);

/* Docker's timestamps for since and until: seconds with an optional
 * fraction ("1700000000.5"), RFC 3339, or a duration before NOW_NS
 * ("10m", "1h30m").  Sets BERR_INVALID. */
int event_time_parse(const char *text, int64_t now_ns, int64_t *out_ns, struct berr **err);

struct events_log;

/* Opens (or makes) the log at PATH.  Sets BERR_INTERNAL. */
int events_log_open(const char *path, struct events_log **out, struct berr **err);
void events_log_free(struct events_log *log);

/* Appends EVENT (borrowed): one line, one write.  The oldest half goes
 * once EVENTS_LOG_MAX is passed. */
int events_log_append(struct events_log *log, const json_t *event, struct berr **err);

/* The logged events from SINCE_NS to UNTIL_NS (0: no bound) that F passes,
 * oldest first, as a new array *out.  A torn line (a crash mid-write) is
 * skipped.  Reads the file at PATH, so that it runs off the loop. */
int events_log_read(const char *path, int64_t since_ns, int64_t until_ns,
		    const struct event_filters *f, json_t **out, struct berr **err);

#endif
