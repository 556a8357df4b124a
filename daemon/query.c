/* The container list of `docker ps` and the words it shows; see query.h. */
#include <errno.h>
#include <fts.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/internal.h"
#include "daemon/query.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

static const char *const filter_keys[] = { "id",     "name",	  "label",   "exited",
					   "status", "ancestor",  "before",  "since",
					   "health", "volume",	  "network", "publish",
					   "expose", "isolation", "is-task", NULL };

static const char *const statuses[] = { "created", "restarting", "running", "removing",
					"paused",  "exited",	 "dead",    NULL };

static const char *const healths[] = { "starting", "healthy", "unhealthy", "none", NULL };

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

char *daemon_container_command_line(const struct daemon_container *c)
{
	const char *path = json_string_value(json_object_get(c->doc, "Path"));
	const json_t *args = json_object_get(c->doc, "Args");
	char *line = NULL;
	size_t size = 0, i;
	json_t *a;
	FILE *f = open_memstream(&line, &size);

	if (!f)
		return NULL;
	fputs(path ? path : "", f);
	json_array_foreach (args, i, a) {
		const char *s = json_string_value(a) ? json_string_value(a) : "";

		fprintf(f, strchr(s, ' ') ? " '%s'" : " %s", s);
	}
	if (fclose(f) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

static int64_t seconds_since(const char *rfc3339)
{
	struct timespec ts;

	if (!rfc3339 || time_parse_rfc3339(rfc3339, &ts) < 0)
		return 0;
	return (int64_t)time(NULL) - ts.tv_sec;
}

static const char *health_of(const struct daemon_container *c)
{
	const json_t *health = json_object_get(json_object_get(c->doc, "State"), "Health");
	const char *s = json_string_value(json_object_get(health, "Status"));

	return s ? s : "none";
}

void daemon_container_status_text(const struct daemon_container *c,
				  char out[DAEMON_STATUS_TEXT_SIZE])
{
	const json_t *st = json_object_get(c->doc, "State");
	const char *started = json_string_value(json_object_get(st, "StartedAt"));
	const char *finished = json_string_value(json_object_get(st, "FinishedAt"));
	const char *status = daemon_container_status(c);
	const char *health = health_of(c);
	char d[TIME_HUMAN_SIZE], h[32] = "";

	if (strcmp(health, "none") != 0)
		snprintf(h, sizeof(h), " (%s)",
			 strcmp(health, "starting") == 0 ? "health: starting" : health);
	if (strcmp(status, "restarting") == 0) {
		time_human_duration(seconds_since(finished), d);
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Restarting (%d) %s ago",
			 daemon_container_exit_code(c), d);
	} else if (daemon_container_is_running(c)) {
		time_human_duration(seconds_since(started), d);
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Up %s%s", d,
			 strcmp(status, "paused") == 0 ? " (Paused)" : h);
	} else if (!started || strcmp(started, DAEMON_ZERO_TIME) == 0) {
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Created");
	} else if (!finished || strcmp(finished, DAEMON_ZERO_TIME) == 0) {
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "%s", "");
	} else {
		time_human_duration(seconds_since(finished), d);
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Exited (%d) %s ago",
			 daemon_container_exit_code(c), d);
	}
}

/*
 * Filters.
 */

static int check_values(const json_t *f, struct berr **err)
{
	size_t i;
	json_t *v;

	json_array_foreach (json_object_get(f, "status"), i, v)
		if (!in_list(statuses, json_string_value(v)))
			return berr_set(err, BERR_INVALID, 0, "Invalid filter 'status=%s'",
					json_string_value(v));
	json_array_foreach (json_object_get(f, "health"), i, v)
		if (!in_list(healths, json_string_value(v)))
			return berr_set(err, BERR_INVALID, 0,
					"Unrecognised filter value for health: %s",
					json_string_value(v));
	json_array_foreach (json_object_get(f, "exited"), i, v) {
		char *end;

		strtol(json_string_value(v), &end, 10);
		if (!*json_string_value(v) || *end)
			return berr_set(err, BERR_INVALID, 0, "invalid filter 'exited=%s'",
					json_string_value(v));
	}
	json_array_foreach (json_object_get(f, "is-task"), i, v)
		if (strcmp(json_string_value(v), "true") != 0 &&
		    strcmp(json_string_value(v), "false") != 0)
			return berr_set(err, BERR_INVALID, 0, "Invalid filter 'is-task=%s'",
					json_string_value(v));
	return 0;
}

/* Whether any value of VALUES passes TEST for C. */
typedef bool (*value_test)(const struct daemon_container *c, const char *value, void *arg);

static bool any(const json_t *values, const struct daemon_container *c, value_test test, void *arg)
{
	size_t i;
	json_t *v;

	if (!json_array_size(values))
		return true;
	json_array_foreach (values, i, v)
		if (test(c, json_string_value(v), arg))
			return true;
	return false;
}

static bool test_id(const struct daemon_container *c, const char *v, void *arg)
{
	return strncmp(c->id, v, strlen(v)) == 0;
}

static bool test_name(const struct daemon_container *c, const char *v, void *arg)
{
	regex_t re;
	bool match;

	/* Docker matches names as regular expressions. */
	if (regcomp(&re, v, REG_EXTENDED | REG_NOSUB) != 0)
		return strstr(c->name, v) != NULL;
	match = regexec(&re, c->name, 0, NULL, 0) == 0;
	regfree(&re);
	return match;
}

static bool test_label(const struct daemon_container *c, const char *v, void *arg)
{
	const json_t *labels = json_object_get(json_object_get(c->doc, "Config"), "Labels");
	const char *eq = strchr(v, '=');
	_cleanup_free_ char *key = eq ? strndup(v, (size_t)(eq - v)) : strdup(v);
	const char *have = key ? json_string_value(json_object_get(labels, key)) : NULL;

	return have && (!eq || strcmp(have, eq + 1) == 0);
}

static bool test_status(const struct daemon_container *c, const char *v, void *arg)
{
	return strcmp(daemon_container_status(c), v) == 0;
}

static bool test_exited(const struct daemon_container *c, const char *v, void *arg)
{
	return strcmp(daemon_container_status(c), "exited") == 0 &&
	       daemon_container_exit_code(c) == atoi(v);
}

static bool test_health(const struct daemon_container *c, const char *v, void *arg)
{
	return strcmp(health_of(c), v) == 0;
}

static bool test_is_task(const struct daemon_container *c, const char *v, void *arg)
{
	/* No swarm tasks here. */
	return strcmp(v, "false") == 0;
}

/* ancestor: the container's image given by name, name:tag, id or id
 * prefix. */
static bool test_ancestor(const struct daemon_container *c, const char *v, void *arg)
{
	struct daemon *d = arg;
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	const char *image =
		json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Image"));

	if (image && strcmp(image, v) == 0)
		return true;
	if (image_store_lookup(d->images, v, &img, NULL) < 0)
		return false;
	return strcmp(img->id, c->image_id) == 0;
}

/* Things berth has no notion of yet (volumes, networks, published
 * ports) match no container when asked for. */
static bool test_none(const struct daemon_container *c, const char *v, void *arg)
{
	return false;
}

static bool test_expose(const struct daemon_container *c, const char *v, void *arg)
{
	const json_t *ports = json_object_get(json_object_get(c->doc, "Config"), "ExposedPorts");
	_cleanup_free_ char *full = strchr(v, '/') ? strdup(v) : str_printf("%s/tcp", v);

	return full && json_object_get(ports, full) != NULL;
}

static bool test_network(const struct daemon_container *c, const char *v, void *arg)
{
	const char *mode = json_string_value(
		json_object_get(json_object_get(c->doc, "HostConfig"), "NetworkMode"));

	return mode &&
	       (strcmp(mode, v) == 0 || (strcmp(v, "bridge") == 0 && strcmp(mode, "default") == 0));
}

static bool matches(struct daemon *d, const json_t *f, const struct daemon_container *c)
{
	static const struct {
		const char *key;
		value_test test;
	} tests[] = {
		{ "id", test_id },
		{ "name", test_name },
		{ "status", test_status },
		{ "exited", test_exited },
		{ "health", test_health },
		{ "is-task", test_is_task },
		{ "ancestor", test_ancestor },
		{ "volume", test_none },
		{ "publish", test_none },
		{ "expose", test_expose },
		{ "network", test_network },
	};
	size_t i;
	json_t *v;

	for (size_t k = 0; k < sizeof(tests) / sizeof(tests[0]); k++)
		if (!any(json_object_get(f, tests[k].key), c, tests[k].test, d))
			return false;
	/* Labels: each must be there. */
	json_array_foreach (json_object_get(f, "label"), i, v)
		if (!test_label(c, json_string_value(v), NULL))
			return false;
	return true;
}

/* The id of the container REF names, for before and since. */
static int id_of(struct daemon *d, const json_t *f, const char *key, char **out, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	const char *ref = json_string_value(json_array_get(json_object_get(f, key), 0));

	*out = NULL;
	if (!ref)
		return 0;
	if (daemon_container_lookup(d, ref, &c, err) < 0)
		return -1;
	*out = steal_ptr(&c->id);
	return 0;
}

/*
 * The list.
 */

/* Bytes of the regular files under DIR: what Docker's SizeRw counts of a
 * container's upper dir. */
static int64_t dir_size(const char *dir)
{
	char *const roots[] = { (char *)dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	int64_t total = 0;
	FTSENT *e;

	if (!fts)
		return 0;
	while ((e = fts_read(fts)))
		if (e->fts_info == FTS_F)
			total += e->fts_statp->st_size;
	fts_close(fts);
	return total;
}

static json_t *summary(struct daemon *d, const struct daemon_container *c, bool size)
{
	const json_t *config = json_object_get(c->doc, "Config");
	const json_t *hc = json_object_get(c->doc, "HostConfig");
	const char *image = json_string_value(json_object_get(config, "Image"));
	const char *mode = json_string_value(json_object_get(hc, "NetworkMode"));
	const json_t *labels = json_object_get(config, "Labels");
	_cleanup_free_ char *command = daemon_container_command_line(c);
	char status[DAEMON_STATUS_TEXT_SIZE];
	json_t *s;

	daemon_container_status_text(c, status);
	s = json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:O, s:s, s:s, s:{s:s}, s:{s:{}}, "
		      "s:[]}",
		      "Id", c->id, "Names", c->name, "Image", image ? image : c->image_id,
		      "ImageID", c->image_id, "Command", command ? command : "", "Created",
		      (json_int_t)c->created, "Ports", "Labels",
		      json_is_object(labels) ? labels : json_object(), "State",
		      daemon_container_status(c), "Status", status, "HostConfig", "NetworkMode",
		      mode ? mode : "default", "NetworkSettings", "Networks", "Mounts");
	if (s && size) {
		_cleanup_free_ char *upper = str_printf("%s/%s/upper", d->containers_root, c->id);
		_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
		int64_t rw = upper ? dir_size(upper) : 0;

		image_store_lookup(d->images, c->image_id, &img, NULL);
		json_object_set_new(s, "SizeRw", json_integer(rw));
		json_object_set_new(s, "SizeRootFs", json_integer(rw + (img ? img->size : 0)));
	}
	return s;
}

int daemon_container_list_json(struct daemon *d, const struct daemon_list_opts *o, json_t **out,
			       struct berr **err)
{
	_cleanup_json_ json_t *f = NULL;
	_cleanup_json_ json_t *arr = json_array();
	struct daemon_container **list = NULL;
	_cleanup_free_ char *before = NULL;
	_cleanup_free_ char *since = NULL;
	/* The list is newest first: "since" keeps what comes before its
	 * container, "before" what comes after it. */
	bool past_before = false, reached_since = false;
	const json_t *status = NULL;
	bool all = o->all || o->limit > 0;
	size_t n = 0, kept = 0;
	int rc = -1;

	if (!arr)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
	if (bjson_filters_parse(o->filters, filter_keys, &f, err) < 0 || check_values(f, err) < 0)
		return -1;
	if (id_of(d, f, "before", &before, err) < 0 || id_of(d, f, "since", &since, err) < 0)
		return -1;
	/* As Docker: a status or exited filter looks at stopped containers
	 * too, and before/since imply all. */
	status = json_object_get(f, "status");
	if (json_array_size(status) || json_array_size(json_object_get(f, "exited")) ||
	    json_array_size(json_object_get(f, "before")) ||
	    json_array_size(json_object_get(f, "since")))
		all = true;
	if (daemon_container_list(d, &list, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct daemon_container *c = list[i];
		json_t *s;

		if (since && strcmp(c->id, since) == 0)
			reached_since = true;
		if (before && !past_before) {
			past_before = strcmp(c->id, before) == 0;
			continue;
		}
		if (reached_since)
			continue;
		if (!all && !daemon_container_is_running(c))
			continue;
		if (!matches(d, f, c))
			continue;
		if (o->limit > 0 && kept >= (size_t)o->limit)
			break;
		s = summary(d, c, o->size);
		if (!s || json_array_append_new(arr, s) < 0) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
			goto out;
		}
		kept++;
	}
	*out = steal_ptr(&arr);
	rc = 0;
out:
	daemon_container_list_free(list, n);
	return rc;
}
