/* The container list of `docker ps` and the words it shows; see query.h.
 * The list reads no container's document: it works on the entries the
 * store keeps beside each document (store_container_entries()), filters
 * them, and writes Docker's JSON as text in one buffer. */
#include <errno.h>
#include <fts.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
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

/* Docker's Command: PATH and the strings of ARGS (an array; may be NULL),
 * an argument holding a space in single quotes. */
static char *command_line(const char *path, const json_t *args)
{
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

char *daemon_container_command_line(const struct daemon_container *c)
{
	return command_line(json_string_value(json_object_get(c->doc, "Path")),
			    json_object_get(c->doc, "Args"));
}

/* What the Status words are made of, from a document or a list entry. */
struct state_view {
	const char *status; /* State.Status; never NULL */
	const char *started;
	const char *finished;
	const char *health; /* "none" without a health check; never NULL */
	int exit_code;
};

static bool view_is_running(const struct state_view *v)
{
	return strcmp(v->status, "running") == 0 || strcmp(v->status, "paused") == 0;
}

static int64_t seconds_since(const char *rfc3339, time_t now)
{
	struct timespec ts;

	if (!rfc3339 || time_parse_rfc3339(rfc3339, &ts) < 0)
		return 0;
	return (int64_t)now - ts.tv_sec;
}

static void status_text(const struct state_view *v, time_t now, char out[DAEMON_STATUS_TEXT_SIZE])
{
	char d[TIME_HUMAN_SIZE], h[32] = "";

	if (strcmp(v->health, "none") != 0)
		snprintf(h, sizeof(h), " (%s)",
			 strcmp(v->health, "starting") == 0 ? "health: starting" : v->health);
	if (strcmp(v->status, "restarting") == 0) {
		time_human_duration(seconds_since(v->finished, now), d);
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Restarting (%d) %s ago", v->exit_code, d);
	} else if (view_is_running(v)) {
		time_human_duration(seconds_since(v->started, now), d);
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Up %s%s", d,
			 strcmp(v->status, "paused") == 0 ? " (Paused)" : h);
	} else if (!v->started || strcmp(v->started, DAEMON_ZERO_TIME) == 0) {
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Created");
	} else if (!v->finished || strcmp(v->finished, DAEMON_ZERO_TIME) == 0) {
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "%s", "");
	} else {
		time_human_duration(seconds_since(v->finished, now), d);
		snprintf(out, DAEMON_STATUS_TEXT_SIZE, "Exited (%d) %s ago", v->exit_code, d);
	}
}

void daemon_container_status_text(const struct daemon_container *c,
				  char out[DAEMON_STATUS_TEXT_SIZE])
{
	const json_t *st = json_object_get(c->doc, "State");
	const char *health =
		json_string_value(json_object_get(json_object_get(st, "Health"), "Status"));
	struct state_view v = {
		.status = daemon_container_status(c),
		.started = json_string_value(json_object_get(st, "StartedAt")),
		.finished = json_string_value(json_object_get(st, "FinishedAt")),
		.health = health ? health : "none",
		.exit_code = daemon_container_exit_code(c),
	};

	status_text(&v, time(NULL), out);
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

/* When this boot began, in wall-clock seconds. */
static time_t boot_time(void)
{
	struct timespec wall, up;

	if (clock_gettime(CLOCK_REALTIME, &wall) < 0 || clock_gettime(CLOCK_BOOTTIME, &up) < 0)
		return 0;
	return wall.tv_sec - up.tv_sec;
}

/* A container as the list sees it: its entry, with an end that happened
 * unseen shown as daemon_container_lookup() shows it. */
struct row {
	const struct store_container_entry *e;
	struct state_view st;
	char *full_name;     /* Docker's "/name", made for the name filter; owned */
	char *lost_finished; /* owned */
	char lost_now[TIME_RFC3339_SIZE];
	/* Members parsed for the filters that need them; owned. */
	json_t *labels, *exposed, *mounts;
};

/* What a list asks, worked out once for every container. */
struct list_ctx {
	struct daemon *d;
	const json_t *f;
	const json_t *names; /* the name filter's values */
	regex_t *name_res;   /* compiled names */
	bool *name_compiled;
	char **ancestor_ids; /* per ancestor value: the image it names; NULL for none */
	time_t now;
	time_t booted; /* boot_time() */
	/* The image of the last SizeRootFs. */
	char *size_image;
	int64_t size_image_bytes;
};

static void list_ctx_clear(struct list_ctx *x)
{
	size_t n = json_array_size(x->names);

	for (size_t i = 0; x->name_res && x->name_compiled && i < n; i++)
		if (x->name_compiled[i])
			regfree(&x->name_res[i]);
	free(x->name_res);
	free(x->name_compiled);
	for (size_t i = 0;
	     x->ancestor_ids && i < json_array_size(json_object_get(x->f, "ancestor")); i++)
		free(x->ancestor_ids[i]);
	free(x->ancestor_ids);
	free(x->size_image);
}

/* Compiles the name filter's expressions and looks up the ancestor
 * filter's images, once. */
static int list_ctx_prepare(struct list_ctx *x, struct berr **err)
{
	const json_t *ancestors = json_object_get(x->f, "ancestor");
	size_t n = json_array_size(x->names);
	size_t i;
	json_t *v;

	x->now = time(NULL);
	x->booted = boot_time();
	if (n) {
		x->name_res = calloc(n, sizeof(*x->name_res));
		x->name_compiled = calloc(n, sizeof(*x->name_compiled));
		if (!x->name_res || !x->name_compiled)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
		/* Docker matches names as regular expressions. */
		json_array_foreach (x->names, i, v)
			x->name_compiled[i] = regcomp(&x->name_res[i], json_string_value(v),
						      REG_EXTENDED | REG_NOSUB) == 0;
	}
	if (json_array_size(ancestors)) {
		x->ancestor_ids = calloc(json_array_size(ancestors), sizeof(*x->ancestor_ids));
		if (!x->ancestor_ids)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
		json_array_foreach (ancestors, i, v) {
			_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

			if (image_store_lookup(x->d->images, json_string_value(v), &img, NULL) == 0)
				x->ancestor_ids[i] = steal_ptr(&img->id);
		}
	}
	return 0;
}

/* Member TEXT (JSON text or NULL) of a row, parsed once into *slot; NULL
 * when there is none. */
static const json_t *parsed(json_t **slot, const char *text)
{
	if (!*slot && text)
		*slot = json_loads(text, 0, NULL);
	return *slot;
}

/* Whether any value of VALUES passes TEST (I is the value's index). */
typedef bool (*value_test)(struct list_ctx *x, struct row *r, size_t i, const char *value);

static bool any(struct list_ctx *x, const json_t *values, struct row *r, value_test test)
{
	size_t i;
	json_t *v;

	if (!json_array_size(values))
		return true;
	json_array_foreach (values, i, v)
		if (test(x, r, i, json_string_value(v)))
			return true;
	return false;
}

static bool test_id(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	return strncmp(r->e->id, v, strlen(v)) == 0;
}

static bool test_name(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	if (!r->full_name)
		r->full_name = str_printf("/%s", r->e->name);
	if (!r->full_name)
		return false;
	if (!x->name_compiled[i])
		return strstr(r->full_name, v) != NULL;
	return regexec(&x->name_res[i], r->full_name, 0, NULL, 0) == 0;
}

/* Labels: "key" or "key=value". */
static bool test_label(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	return bjson_label_matches(parsed(&r->labels, r->e->labels), v);
}

static bool test_status(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	return strcmp(r->st.status, v) == 0;
}

static bool test_exited(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	return strcmp(r->st.status, "exited") == 0 && r->st.exit_code == atoi(v);
}

static bool test_health(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	return strcmp(r->st.health, v) == 0;
}

static bool test_is_task(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	/* No swarm tasks here. */
	return strcmp(v, "false") == 0;
}

/* ancestor: the container's image given by name, name:tag, id or id
 * prefix. */
static bool test_ancestor(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	if (r->e->image && strcmp(r->e->image, v) == 0)
		return true;
	return x->ancestor_ids[i] && strcmp(x->ancestor_ids[i], r->e->image_id) == 0;
}

/* Published ports: berth publishes none yet. */
static bool test_none(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	return false;
}

static bool test_expose(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	const json_t *ports = parsed(&r->exposed, r->e->exposed_ports);
	_cleanup_free_ char *full = strchr(v, '/') ? strdup(v) : str_printf("%s/tcp", v);

	return full && json_object_get(ports, full) != NULL;
}

/* volume: as Docker, a mount whose destination is V, or whose volume name
 * (its source for a bind) is V. */
static bool test_volume(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	const json_t *mounts = parsed(&r->mounts, r->e->mounts);
	size_t k;
	json_t *m;

	json_array_foreach (mounts, k, m) {
		const char *dest = json_string_value(json_object_get(m, "Destination"));
		const char *name = json_string_value(json_object_get(m, "Name"));
		const char *source = json_string_value(json_object_get(m, "Source"));

		if (dest && strcmp(dest, v) == 0)
			return true;
		if (name && *name ? strcmp(name, v) == 0 : source && strcmp(source, v) == 0)
			return true;
	}
	return false;
}

static bool test_network(struct list_ctx *x, struct row *r, size_t i, const char *v)
{
	const char *mode = r->e->network_mode;

	return mode &&
	       (strcmp(mode, v) == 0 || (strcmp(v, "bridge") == 0 && strcmp(mode, "default") == 0));
}

/* Whether R passes every filter: any value of each, every label. */
static bool matches(struct list_ctx *x, struct row *r)
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
		{ "volume", test_volume },
		{ "publish", test_none },
		{ "expose", test_expose },
		{ "network", test_network },
	};
	size_t i;
	json_t *v;

	for (size_t k = 0; k < sizeof(tests) / sizeof(tests[0]); k++)
		if (!any(x, json_object_get(x->f, tests[k].key), r, tests[k].test))
			return false;
	/* Labels: each must be there. */
	json_array_foreach (json_object_get(x->f, "label"), i, v)
		if (!test_label(x, r, i, json_string_value(v)))
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

/* Whether the process of E, recorded as running, is still there: its pid
 * exists (a zombie too: its shim, which holds the waiter's lock, reaps it
 * and records its end at once) and was given in this boot, so that it
 * cannot be another's pid that a process of an earlier boot left. */
static bool process_exists(const struct store_container_entry *e, time_t booted)
{
	struct timespec started;

	if (e->pid <= 0 || e->pid > INT_MAX || !e->started_at ||
	    time_parse_rfc3339(e->started_at, &started) < 0 || started.tv_sec < booted - 1)
		return false;
	return kill((pid_t)e->pid, 0) == 0 || errno == EPERM;
}

/* R for the entry E as daemon_container_lookup() shows the container: a
 * process that is still there has not ended; one that is not gets the
 * full look (the waiter's lock, the runtime's state) that tells an end
 * about to be recorded from one nobody will record.  BOOTED is
 * boot_time(). */
static void row_init(struct daemon *d, time_t booted, struct row *r,
		     const struct store_container_entry *e)
{
	int code = 0;

	*r = (struct row){
		.e = e,
		.st = {
			.status = e->status ? e->status : "created",
			.started = e->started_at,
			.finished = e->finished_at,
			.health = e->health ? e->health : "none",
			.exit_code = (int)e->exit_code,
		},
	};
	if (view_is_running(&r->st) && !process_exists(e, booted) &&
	    daemon_container_end_unseen(d, e->id, &code, &r->lost_finished)) {
		r->st.status = "exited";
		r->st.exit_code = code;
		if (!r->lost_finished)
			time_now_rfc3339(r->lost_now);
		r->st.finished = r->lost_finished ? r->lost_finished : r->lost_now;
	}
}

static void row_clear(struct row *r)
{
	free(r->full_name);
	free(r->lost_finished);
	json_decref(r->labels);
	json_decref(r->exposed);
	json_decref(r->mounts);
}

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

/* The size of image ID, looked up once for a run of containers of it. */
static int64_t image_size(struct list_ctx *x, const char *id)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

	if (x->size_image && strcmp(x->size_image, id) == 0)
		return x->size_image_bytes;
	free(x->size_image);
	x->size_image = strdup(id);
	x->size_image_bytes = 0;
	if (image_store_lookup(x->d->images, id, &img, NULL) == 0)
		x->size_image_bytes = img->size;
	return x->size_image_bytes;
}

/* Writes R's summary in Docker's shape (types.Container) to F. */
static void put_summary(struct list_ctx *x, const struct row *r, bool size, FILE *f)
{
	const struct store_container_entry *e = r->e;
	_cleanup_json_ json_t *args = e->args ? json_loads(e->args, 0, NULL) : NULL;
	_cleanup_free_ char *command = command_line(e->path, args);
	char status[DAEMON_STATUS_TEXT_SIZE];

	status_text(&r->st, x->now, status);
	fputs("{\"Id\":", f);
	bjson_fput_string(f, e->id);
	fputs(",\"Names\":[\"/", f);
	bjson_fput_escaped(f, e->name);
	fputs("\"],\"Image\":", f);
	bjson_fput_string(f, e->image ? e->image : e->image_id);
	fputs(",\"ImageID\":", f);
	bjson_fput_string(f, e->image_id);
	fputs(",\"Command\":", f);
	bjson_fput_string(f, command ? command : "");
	/* Labels and Mounts are JSON text already, of the right type. */
	fprintf(f, ",\"Created\":%lld,\"Ports\":[],\"Labels\":%s,\"State\":", (long long)e->created,
		e->labels ? e->labels : "{}");
	bjson_fput_string(f, r->st.status);
	fputs(",\"Status\":", f);
	bjson_fput_string(f, status);
	fputs(",\"HostConfig\":{\"NetworkMode\":", f);
	bjson_fput_string(f, e->network_mode ? e->network_mode : "default");
	fprintf(f, "},\"NetworkSettings\":{\"Networks\":{}},\"Mounts\":%s",
		e->mounts ? e->mounts : "[]");
	if (size) {
		_cleanup_free_ char *upper =
			str_printf("%s/%s/upper", x->d->containers_root, e->id);
		int64_t rw = upper ? dir_size(upper) : 0;

		fprintf(f, ",\"SizeRw\":%lld,\"SizeRootFs\":%lld", (long long)rw,
			(long long)(rw + image_size(x, e->image_id)));
	}
	fputc('}', f);
}

int daemon_container_list_text(struct daemon *d, const struct daemon_list_opts *o, char **out,
			       size_t *len, struct berr **err)
{
	_cleanup_json_ json_t *f = NULL;
	struct store_container_entry **list = NULL;
	struct list_ctx x = { .d = d };
	_cleanup_free_ char *before = NULL;
	_cleanup_free_ char *since = NULL;
	/* The list is newest first: "since" keeps what comes before its
	 * container, "before" what comes after it. */
	bool past_before = false;
	bool all = o->all || o->limit > 0;
	size_t n = 0, kept = 0;
	char *text = NULL;
	size_t size = 0;
	FILE *w = NULL;
	int rc = -1;

	if (bjson_filters_parse(o->filters, filter_keys, &f, err) < 0 || check_values(f, err) < 0)
		return -1;
	if (id_of(d, f, "before", &before, err) < 0 || id_of(d, f, "since", &since, err) < 0)
		return -1;
	/* As Docker: a status or exited filter looks at stopped containers
	 * too, and before/since imply all. */
	if (json_array_size(json_object_get(f, "status")) ||
	    json_array_size(json_object_get(f, "exited")) ||
	    json_array_size(json_object_get(f, "before")) ||
	    json_array_size(json_object_get(f, "since")))
		all = true;
	x.f = f;
	x.names = json_object_get(f, "name");
	if (list_ctx_prepare(&x, err) < 0)
		goto out;
	if (store_container_entries(d->db, &list, &n, err) < 0)
		goto out;
	w = open_memstream(&text, &size);
	if (!w) {
		berr_set(err, BERR_INTERNAL, errno, "list containers");
		goto out;
	}
	fputc('[', w);
	for (size_t i = 0; i < n; i++) {
		const struct store_container_entry *e = list[i];
		struct row r;
		bool keep;

		if (since && strcmp(e->id, since) == 0)
			break;
		if (before && !past_before) {
			past_before = strcmp(e->id, before) == 0;
			continue;
		}
		/* A stopped container is out before anything costs. */
		if (!all && (!e->status || (strcmp(e->status, "running") != 0 &&
					    strcmp(e->status, "paused") != 0)))
			continue;
		row_init(d, x.booted, &r, e);
		keep = (all || view_is_running(&r.st)) && matches(&x, &r);
		if (keep && o->limit > 0 && kept >= (size_t)o->limit) {
			row_clear(&r);
			break;
		}
		if (keep) {
			if (kept++)
				fputc(',', w);
			put_summary(&x, &r, o->size, w);
		}
		row_clear(&r);
	}
	fputs("]\n", w);
	if (fclose(w) != 0) {
		w = NULL;
		berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
		goto out;
	}
	w = NULL;
	*out = steal_ptr(&text);
	*len = size;
	rc = 0;
out:
	if (w)
		fclose(w);
	free(text);
	list_ctx_clear(&x);
	store_container_entries_free(list, n);
	return rc;
}

int daemon_container_list_json(struct daemon *d, const struct daemon_list_opts *o, json_t **out,
			       struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (daemon_container_list_text(d, o, &text, &len, err) < 0)
		return -1;
	return bjson_load(text, len, SIZE_MAX, out, err);
}

int daemon_container_count(struct daemon *d, size_t *running, size_t *paused, size_t *stopped,
			   struct berr **err)
{
	struct store_container_entry **list = NULL;
	time_t booted = boot_time();
	size_t n = 0;

	if (store_container_entries(d->db, &list, &n, err) < 0)
		return -1;
	*running = *paused = *stopped = 0;
	for (size_t i = 0; i < n; i++) {
		struct row r;

		row_init(d, booted, &r, list[i]);
		if (strcmp(r.st.status, "running") == 0)
			(*running)++;
		else if (strcmp(r.st.status, "paused") == 0)
			(*paused)++;
		else
			(*stopped)++;
		row_clear(&r);
	}
	store_container_entries_free(list, n);
	return 0;
}
