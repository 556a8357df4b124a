/* Docker's events: their JSON, their filters, their timestamps and their
 * log on disk (JSON lines, bounded).  See events.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/events.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/timefmt.h"

/* Largest line read back from the log. */
#define EVENT_LINE_MAX (64 * 1024)

json_t *event_new(const char *type, const char *action, const char *id, json_t *attributes,
		  int64_t time_ns)
{
	json_t *attrs = attributes ? attributes : json_object();
	json_t *ev;

	ev = json_pack("{s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "Type", type, "Action", action,
		       "Actor", "ID", id ? id : "", "Attributes", attrs, "scope", "local", "time",
		       (json_int_t)(time_ns / 1000000000), "timeNano", (json_int_t)time_ns);
	if (!ev)
		return NULL;
	/* The fields older clients read. */
	if (strcmp(type, "container") == 0 || strcmp(type, "image") == 0) {
		const char *from = json_string_value(json_object_get(attrs, "image"));

		json_object_set_new(ev, "status", json_string(action));
		json_object_set_new(ev, "id", json_string(id ? id : ""));
		if (from && strcmp(type, "container") == 0)
			json_object_set_new(ev, "from", json_string(from));
	}
	return ev;
}

/*
 * Filters.
 */

struct event_filters {
	json_t *keys; /* key -> array of values */
};

static const char *const filter_keys[] = { "type",   "event",	"container", "image",  "label",
					   "volume", "network", "daemon",    "scope",  "plugin",
					   "node",   "service", "secret",    "config", NULL };

void event_filters_free(struct event_filters *f)
{
	if (!f)
		return;
	json_decref(f->keys);
	free(f);
}

int event_filters_parse(const char *text, struct event_filters **out, struct berr **err)
{
	struct event_filters *f;
	json_t *keys = NULL;

	*out = NULL;
	if (!text || !*text)
		return 0;
	if (bjson_filters_parse(text, filter_keys, &keys, err) < 0)
		return -1;
	f = calloc(1, sizeof(*f));
	if (!f) {
		json_decref(keys);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "filters");
	}
	f->keys = keys;
	*out = f;
	return 0;
}

/* Whether any value of KEY equals S (or, with PREFIX, starts S). */
static bool any_equal(const json_t *values, const char *s, bool prefix)
{
	size_t i;
	json_t *v;

	if (!s)
		return false;
	json_array_foreach (values, i, v) {
		const char *x = json_string_value(v);

		if (strcmp(x, s) == 0 || (prefix && *x && strncmp(s, x, strlen(x)) == 0))
			return true;
	}
	return false;
}

/* S without its ":tag" (a ':' after the last '/'). */
static char *strip_tag(const char *s)
{
	const char *slash = strrchr(s, '/');
	const char *colon = strrchr(slash ? slash : s, ':');

	return colon ? strndup(s, (size_t)(colon - s)) : strdup(s);
}

static bool image_matches(const json_t *values, const char *name)
{
	_cleanup_free_ char *bare = NULL;

	if (!name)
		return false;
	if (any_equal(values, name, false))
		return true;
	bare = strip_tag(name);
	return bare && any_equal(values, bare, false);
}

static bool key_matches(const char *key, const json_t *values, const json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "Type"));
	const char *action = json_string_value(json_object_get(ev, "Action"));
	const json_t *actor = json_object_get(ev, "Actor");
	const char *id = json_string_value(json_object_get(actor, "ID"));
	const json_t *attrs = json_object_get(actor, "Attributes");

	if (strcmp(key, "type") == 0)
		return any_equal(values, type, false);
	if (strcmp(key, "event") == 0) {
		/* "exec_start: sh -c x" and "health_status: healthy" match
		 * their first word too. */
		_cleanup_free_ char *word = strndup(action, strcspn(action, ":"));

		return any_equal(values, action, false) || (word && any_equal(values, word, false));
	}
	if (strcmp(key, "container") == 0)
		return strcmp(type, "container") == 0 &&
		       (any_equal(values, id, true) ||
			any_equal(values, json_string_value(json_object_get(attrs, "name")),
				  false));
	if (strcmp(key, "image") == 0)
		return strcmp(type, "image") == 0
			       ? image_matches(values, id) ||
					 image_matches(values, json_string_value(json_object_get(
								       attrs, "name")))
			       : image_matches(values,
					       json_string_value(json_object_get(attrs, "image")));
	if (strcmp(key, "label") == 0) {
		size_t i;
		json_t *v;

		json_array_foreach (values, i, v)
			if (bjson_label_matches(attrs, json_string_value(v)))
				return true;
		return false;
	}
	if (strcmp(key, "scope") == 0)
		return any_equal(values, json_string_value(json_object_get(ev, "scope")), false);
	/* volume, network, daemon...: their events' actor. */
	return strcmp(type, key) == 0 && any_equal(values, id, false);
}

bool event_filters_match(const struct event_filters *f, const json_t *event)
{
	const char *key;
	json_t *values;

	if (!f)
		return true;
	json_object_foreach (f->keys, key, values)
		if (json_array_size(values) && !key_matches(key, values, event))
			return false;
	return true;
}

/*
 * Timestamps.
 */

/* A Go duration ("1h30m", "10m", "45s", "1.5h", "300ms", "-5s") in ns;
 * *ok false when TEXT is not one. */
static int64_t parse_duration(const char *text, bool *ok)
{
	/* Longer units first, so that "ms" is not read as "m". */
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 },     { "us", 1e3 }, { "ms", 1e6 },
		      { "h", 3600e9 }, { "m", 60e9 }, { "s", 1e9 } };
	const char *p = text;
	double total = 0;
	bool neg = false;

	*ok = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!*p)
		return 0;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		size_t k, n = sizeof(units) / sizeof(units[0]);

		if (end == p || *p == '-' || *p == '+')
			return 0;
		for (k = 0; k < n; k++)
			if (strncmp(end, units[k].unit, strlen(units[k].unit)) == 0)
				break;
		if (k == n)
			return 0;
		total += v * units[k].ns;
		p = end + strlen(units[k].unit);
	}
	*ok = true;
	return (int64_t)(neg ? -total : total);
}

int event_time_parse(const char *text, int64_t now_ns, int64_t *out_ns, struct berr **err)
{
	struct timespec ts;
	char *end;
	long long sec;
	bool ok;
	int64_t d;

	if (!text || !*text)
		return berr_set(err, BERR_INVALID, 0, "empty timestamp");
	sec = strtoll(text, &end, 10);
	if (end != text && (*end == '\0' || *end == '.')) {
		int64_t ns = 0, scale = 100000000;

		if (*end == '.') {
			for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
				if (scale > 0)
					ns += (*end - '0') * scale;
		}
		if (*end == '\0') {
			*out_ns = (int64_t)sec * 1000000000 + ns;
			return 0;
		}
	}
	if (time_parse_rfc3339(text, &ts) == 0) {
		*out_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		return 0;
	}
	d = parse_duration(text, &ok);
	if (ok) {
		*out_ns = now_ns - d;
		return 0;
	}
	return berr_set(err, BERR_INVALID, 0, "failed to parse value as time or duration: \"%s\"",
			text);
}

/*
 * The log.
 */

struct events_log {
	char *path;
	int fd;
	size_t lines;
};

static size_t count_lines(int fd)
{
	char buf[65536];
	size_t lines = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	return lines;
}

int events_log_open(const char *path, struct events_log **out, struct berr **err)
{
	struct events_log *log = calloc(1, sizeof(*log));

	if (!log || !(log->path = strdup(path))) {
		free(log);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "events log");
	}
	log->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log->fd < 0) {
		berr_set(err, BERR_INTERNAL, errno, "open %s", path);
		events_log_free(log);
		return -1;
	}
	log->lines = count_lines(log->fd);
	*out = log;
	return 0;
}

void events_log_free(struct events_log *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log->path);
	free(log);
}

/* Keeps the newest half of the log: a new file renamed over the old. */
static int trim(struct events_log *log, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *tmp = str_printf("%s.tmp", log->path);
	size_t len = 0, skip = log->lines - EVENTS_LOG_MAX / 2;
	const char *p;
	int fd;

	if (!tmp)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "events log");
	if (fs_read_file(log->path, (size_t)EVENTS_LOG_MAX * EVENT_LINE_MAX, &text, &len, err) < 0)
		return -1;
	p = text;
	for (size_t i = 0; i < skip && p < text + len; i++) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));

		p = nl ? nl + 1 : text + len;
	}
	if (fs_write_file_atomic(log->path, p, (size_t)(text + len - p), 0600, err) < 0)
		return -1;
	fd = open(log->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", log->path);
	close(log->fd);
	log->fd = fd;
	log->lines = EVENTS_LOG_MAX / 2;
	return 0;
}

int events_log_append(struct events_log *log, const json_t *event, struct berr **err)
{
	_cleanup_free_ char *text = jsontext_dump(event);
	size_t len;

	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "events log");
	len = strlen(text);
	text[len] = '\n';
	/* One write: lines of concurrent appenders never mix. */
	if (write(log->fd, text, len + 1) != (ssize_t)(len + 1))
		return berr_set(err, BERR_INTERNAL, errno, "write %s", log->path);
	text[len] = '\0';
	if (++log->lines > EVENTS_LOG_MAX)
		return trim(log, err);
	return 0;
}

int events_log_read(const char *path, int64_t since_ns, int64_t until_ns,
		    const struct event_filters *f, json_t **out, struct berr **err)
{
	_cleanup_json_ json_t *list = json_array();
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!list) {
		if (in)
			fclose(in);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "events");
	}
	while (in && getline(&line, &cap, in) > 0) {
		json_t *ev = json_loads(line, 0, NULL);
		int64_t t = json_integer_value(json_object_get(ev, "timeNano"));

		if (ev && t >= since_ns && (!until_ns || t <= until_ns) &&
		    event_filters_match(f, ev))
			json_array_append(list, ev);
		json_decref(ev);
	}
	free(line);
	if (in)
		fclose(in);
	*out = steal_ptr(&list);
	return 0;
}
