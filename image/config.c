/* The image config document: parsing with typed, bounded reads that name
 * the path of a wrong value, building it back with jansson in the member
 * order Docker writes, and the Dockerfile instructions `docker import
 * --change` accepts, applied to the run config. */
#include "image/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/timefmt.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"

static void run_config_clear(struct image_run_config *rc)
{
	free(rc->user);
	strv_free(rc->env);
	strv_free(rc->cmd);
	strv_free(rc->entrypoint);
	free(rc->working_dir);
	strv_free(rc->label_keys);
	strv_free(rc->label_values);
	strv_free(rc->exposed_ports);
	strv_free(rc->volumes);
	free(rc->stop_signal);
	if (rc->extra)
		json_decref(rc->extra);
	memset(rc, 0, sizeof(*rc));
}

static void history_clear(struct image_history *h)
{
	free(h->created);
	free(h->created_by);
	free(h->comment);
	free(h->author);
}

void image_config_free(struct image_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->architecture);
	free(cfg->os);
	free(cfg->created);
	free(cfg->author);
	free(cfg->comment);
	run_config_clear(&cfg->config);
	strv_free(cfg->diff_ids);
	for (size_t i = 0; i < cfg->n_history; i++)
		history_clear(&cfg->history[i]);
	free(cfg->history);
	if (cfg->extra)
		json_decref(cfg->extra);
	free(cfg);
}

/* A copy of OBJ without the members named in MODELLED (NULL-terminated);
 * NULL when nothing is left, *oom set when out of memory. */
static json_t *unmodelled(const json_t *obj, const char *const *modelled, bool *oom)
{
	json_t *extra = json_object();
	const char *key;
	json_t *value;

	if (!extra) {
		*oom = true;
		return NULL;
	}
	json_object_foreach ((json_t *)obj, key, value) {
		bool known = false;

		for (size_t i = 0; modelled[i] && !known; i++)
			known = strcmp(key, modelled[i]) == 0;
		if (!known && json_object_set(extra, key, value) < 0)
			*oom = true;
	}
	if (json_object_size(extra) == 0) {
		json_decref(extra);
		return NULL;
	}
	return extra;
}

/* Adds to OBJ each member of EXTRA (may be NULL) it does not have. */
static int add_unmodelled(json_t *obj, const json_t *extra)
{
	const char *key;
	json_t *value;

	if (!extra)
		return 0;
	json_object_foreach ((json_t *)extra, key, value)
		if (!json_object_get(obj, key) && json_object_set(obj, key, value) < 0)
			return -1;
	return 0;
}

static const char *const config_members[] = {
	"architecture", "os", "created", "author", "comment", "config", "rootfs", "history", NULL,
};
static const char *const run_config_members[] = {
	"User",	  "Env",	  "Cmd",     "Entrypoint", "WorkingDir",
	"Labels", "ExposedPorts", "Volumes", "StopSignal", NULL,
};

/* Docker's name of this machine's architecture; may point into U. */
static const char *host_architecture(struct utsname *u)
{
	static const struct {
		const char *uname;
		const char *docker;
	} names[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" },	 { "i686", "386" },
		{ "i386", "386" },     { "armv7l", "arm" },	 { "ppc64le", "ppc64le" },
		{ "s390x", "s390x" },  { "riscv64", "riscv64" },
	};
	if (uname(u) < 0)
		return "amd64";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(u->machine, names[i].uname) == 0)
			return names[i].docker;
	return u->machine;
}

struct image_config *image_config_new(struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = calloc(1, sizeof(*cfg));
	char now[TIME_RFC3339_SIZE];
	struct timespec ts;
	struct utsname u;

	if (!cfg) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "new image config");
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_rfc3339(&ts, now);
	cfg->architecture = strdup(host_architecture(&u));
	cfg->os = strdup("linux");
	cfg->created = strdup(now);
	cfg->diff_ids = strv_dup(NULL);
	if (!cfg->architecture || !cfg->os || !cfg->created || !cfg->diff_ids) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "new image config");
		return NULL;
	}
	return steal_ptr(&cfg);
}

/* The names of an object used as a set ({"80/tcp": {}}). */
static int get_set(const json_t *obj, const struct bjson_path *path, const char *key, char ***out,
		   struct berr **err)
{
	const struct bjson_path *p = BJSON_KEY(path, key);
	_cleanup_strv_ char **v = NULL;
	json_t *set = NULL;
	const char *name;
	json_t *val;
	size_t i = 0;
	int r;

	r = bjson_get_object(obj, path, key, BJSON_OPTIONAL, &set, err);
	if (r <= 0)
		return r;
	v = calloc(json_object_size(set) + 1, sizeof(*v));
	if (!v)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse %s", key);
	json_object_foreach (set, name, val) {
		if (bjson_as_object(val, BJSON_KEY(p, name), err) < 0)
			return -1;
		v[i] = strdup(name);
		if (!v[i++])
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse %s", key);
	}
	*out = steal_ptr(&v);
	return 1;
}

static int parse_run_config(const json_t *obj, const struct bjson_path *p,
			    struct image_run_config *rc, struct berr **err)
{
	json_t *labels = NULL;
	int r;

	if (bjson_get_string_dup(obj, p, "User", BJSON_OPTIONAL, &rc->user, err) < 0 ||
	    bjson_get_strv(obj, p, "Env", BJSON_OPTIONAL, &rc->env, err) < 0 ||
	    bjson_get_strv(obj, p, "Cmd", BJSON_OPTIONAL, &rc->cmd, err) < 0 ||
	    bjson_get_strv(obj, p, "Entrypoint", BJSON_OPTIONAL, &rc->entrypoint, err) < 0 ||
	    bjson_get_string_dup(obj, p, "WorkingDir", BJSON_OPTIONAL, &rc->working_dir, err) < 0 ||
	    bjson_get_string_dup(obj, p, "StopSignal", BJSON_OPTIONAL, &rc->stop_signal, err) < 0 ||
	    get_set(obj, p, "ExposedPorts", &rc->exposed_ports, err) < 0 ||
	    get_set(obj, p, "Volumes", &rc->volumes, err) < 0)
		return -1;
	r = bjson_get(obj, p, "Labels", BJSON_OPTIONAL, &labels, err);
	if (r < 0)
		return -1;
	if (r > 0 && bjson_as_strmap(labels, BJSON_KEY(p, "Labels"), &rc->label_keys,
				     &rc->label_values, &rc->n_labels, err) < 0)
		return -1;
	return 0;
}

static int parse_history(const json_t *arr, const struct bjson_path *p, struct image_config *cfg,
			 struct berr **err)
{
	size_t n = json_array_size(arr);

	cfg->history = calloc(n ? n : 1, sizeof(*cfg->history));
	if (!cfg->history)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse history");
	for (size_t i = 0; i < n; i++) {
		const struct bjson_path *ip = BJSON_INDEX(p, i);
		const json_t *h = json_array_get(arr, i);
		struct image_history *e = &cfg->history[i];

		cfg->n_history++;
		if (bjson_as_object(h, ip, err) < 0 ||
		    bjson_get_string_dup(h, ip, "created", BJSON_OPTIONAL, &e->created, err) < 0 ||
		    bjson_get_string_dup(h, ip, "created_by", BJSON_OPTIONAL, &e->created_by, err) <
			    0 ||
		    bjson_get_string_dup(h, ip, "comment", BJSON_OPTIONAL, &e->comment, err) < 0 ||
		    bjson_get_string_dup(h, ip, "author", BJSON_OPTIONAL, &e->author, err) < 0 ||
		    bjson_get_bool(h, ip, "empty_layer", BJSON_OPTIONAL, &e->empty_layer, err) < 0)
			return -1;
	}
	return 0;
}

int image_config_parse(const char *text, size_t len, struct image_config **out, struct berr **err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = calloc(1, sizeof(*cfg));
	json_t *rc = NULL, *rootfs = NULL, *history = NULL;
	const struct bjson_path *rp = BJSON_KEY(NULL, "rootfs");
	const char *type = NULL;

	if (!cfg)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse image config");
	if (bjson_load(text, len, IMAGE_CONFIG_MAX, &doc, err) < 0)
		return berr_prefix(err, "image config");
	if (bjson_as_object(doc, NULL, err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "architecture", BJSON_REQUIRED, &cfg->architecture,
				 err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "os", BJSON_REQUIRED, &cfg->os, err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "created", BJSON_OPTIONAL, &cfg->created, err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "author", BJSON_OPTIONAL, &cfg->author, err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "comment", BJSON_OPTIONAL, &cfg->comment, err) < 0 ||
	    bjson_get_object(doc, NULL, "config", BJSON_OPTIONAL, &rc, err) < 0 ||
	    bjson_get_object(doc, NULL, "rootfs", BJSON_REQUIRED, &rootfs, err) < 0 ||
	    bjson_get_array(doc, NULL, "history", BJSON_OPTIONAL, &history, err) < 0)
		return berr_prefix(err, "image config");
	if (rc && parse_run_config(rc, BJSON_KEY(NULL, "config"), &cfg->config, err) < 0)
		return berr_prefix(err, "image config");
	{
		bool oom = false;

		cfg->extra = unmodelled(doc, config_members, &oom);
		if (rc)
			cfg->config.extra = unmodelled(rc, run_config_members, &oom);
		if (oom)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse image config");
	}
	if (bjson_get_string(rootfs, rp, "type", BJSON_REQUIRED, &type, err) < 0)
		return berr_prefix(err, "image config");
	if (strcmp(type, "layers") != 0) {
		bjson_error(err, BJSON_KEY(rp, "type"), "expected \"layers\"");
		return berr_prefix(err, "image config");
	}
	if (bjson_get_strv(rootfs, rp, "diff_ids", BJSON_OPTIONAL, &cfg->diff_ids, err) < 0)
		return berr_prefix(err, "image config");
	if (!cfg->diff_ids && !(cfg->diff_ids = strv_dup(NULL)))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse image config");
	for (size_t i = 0; cfg->diff_ids[i]; i++)
		if (!digest_is_valid(cfg->diff_ids[i])) {
			bjson_error(err, BJSON_INDEX(BJSON_KEY(rp, "diff_ids"), i),
				    "expected a sha256 digest");
			return berr_prefix(err, "image config");
		}
	if (history && parse_history(history, BJSON_KEY(NULL, "history"), cfg, err) < 0)
		return berr_prefix(err, "image config");
	*out = steal_ptr(&cfg);
	return 0;
}

/* Adds KEY: a copy of S when S is set. */
static int set_str(json_t *obj, const char *key, const char *s)
{
	return s ? json_object_set_new(obj, key, json_string(s)) : 0;
}

static int set_strv(json_t *obj, const char *key, char *const *v)
{
	return v ? json_object_set_new(obj, key, bjson_from_strv(v)) : 0;
}

static int set_set(json_t *obj, const char *key, char *const *v)
{
	json_t *set;

	if (!v)
		return 0;
	set = json_object();
	if (json_object_set_new(obj, key, set) < 0)
		return -1;
	for (size_t i = 0; v[i]; i++)
		if (json_object_set_new(set, v[i], json_object()) < 0)
			return -1;
	return 0;
}

/* KEY from the unmodelled members EXTRA, else DEFAULT_VALUE (a new value,
 * taken; NULL leaves KEY out, as Go's omitempty does). */
static int set_kept(json_t *obj, const json_t *extra, const char *key, json_t *default_value)
{
	json_t *kept = json_object_get(extra, key);

	if (kept) {
		if (default_value)
			json_decref(default_value);
		return json_object_set(obj, key, kept);
	}
	return default_value ? json_object_set_new(obj, key, default_value) : 0;
}

/* V as a JSON array, or null when unset (Go's nil slice). */
static json_t *strv_or_null(char *const *v)
{
	return v ? bjson_from_strv(v) : json_null();
}

json_t *image_run_config_to_json(const struct image_run_config *rc, struct berr **err)
{
	_cleanup_json_ json_t *o = json_object();
	const json_t *x = rc->extra;
	json_t *labels = json_null(), *volumes = json_null();

	if (!o)
		goto nomem;
	if (rc->label_keys) {
		labels = json_object();
		for (size_t i = 0; labels && i < rc->n_labels; i++)
			if (json_object_set_new(labels, rc->label_keys[i],
						json_string(rc->label_values[i])) < 0)
				goto nomem;
	}
	if (rc->volumes) {
		volumes = json_object();
		for (size_t i = 0; volumes && rc->volumes[i]; i++)
			if (json_object_set_new(volumes, rc->volumes[i], json_object()) < 0)
				goto nomem;
	}
	/* Every member of Docker's container.Config, in its order, with the
	 * zero values Docker writes for the ones not set. */
	if (set_kept(o, x, "Hostname", json_string("")) < 0 ||
	    set_kept(o, x, "Domainname", json_string("")) < 0 ||
	    json_object_set_new(o, "User", json_string(rc->user ? rc->user : "")) < 0 ||
	    set_kept(o, x, "AttachStdin", json_false()) < 0 ||
	    set_kept(o, x, "AttachStdout", json_false()) < 0 ||
	    set_kept(o, x, "AttachStderr", json_false()) < 0 ||
	    set_set(o, "ExposedPorts", rc->exposed_ports) < 0 ||
	    set_kept(o, x, "Tty", json_false()) < 0 ||
	    set_kept(o, x, "OpenStdin", json_false()) < 0 ||
	    set_kept(o, x, "StdinOnce", json_false()) < 0 ||
	    json_object_set_new(o, "Env", strv_or_null(rc->env)) < 0 ||
	    json_object_set_new(o, "Cmd", strv_or_null(rc->cmd)) < 0 ||
	    set_kept(o, x, "Healthcheck", NULL) < 0 || set_kept(o, x, "ArgsEscaped", NULL) < 0 ||
	    set_kept(o, x, "Image", json_string("")) < 0 ||
	    json_object_set_new(o, "Volumes", volumes) < 0 ||
	    json_object_set_new(o, "WorkingDir",
				json_string(rc->working_dir ? rc->working_dir : "")) < 0 ||
	    json_object_set_new(o, "Entrypoint", strv_or_null(rc->entrypoint)) < 0 ||
	    set_kept(o, x, "OnBuild", json_null()) < 0 ||
	    json_object_set_new(o, "Labels", labels) < 0 ||
	    set_str(o, "StopSignal", rc->stop_signal) < 0 || add_unmodelled(o, x) < 0)
		goto nomem_taken;
	return steal_ptr(&o);
nomem:
	json_decref(labels);
	json_decref(volumes);
nomem_taken:
	berr_set(err, BERR_INTERNAL, ENOMEM, "format run config");
	return NULL;
}

json_t *image_config_to_json(const struct image_config *cfg, struct berr **err)
{
	_cleanup_json_ json_t *o = json_object();
	json_t *rc, *rootfs, *hist;

	if (!o)
		goto nomem;
	rc = image_run_config_to_json(&cfg->config, err);
	if (!rc)
		return NULL;
	if (set_str(o, "architecture", cfg->architecture) < 0 ||
	    set_str(o, "author", cfg->author) < 0 || set_str(o, "comment", cfg->comment) < 0 ||
	    json_object_set_new(o, "config", rc) < 0 || set_str(o, "created", cfg->created) < 0)
		goto nomem;
	hist = json_array();
	if (json_object_set_new(o, "history", hist) < 0)
		goto nomem;
	for (size_t i = 0; i < cfg->n_history; i++) {
		const struct image_history *h = &cfg->history[i];
		json_t *e = json_object();

		if (json_array_append_new(hist, e) < 0 || set_str(e, "created", h->created) < 0 ||
		    set_str(e, "author", h->author) < 0 ||
		    set_str(e, "created_by", h->created_by) < 0 ||
		    set_str(e, "comment", h->comment) < 0 ||
		    (h->empty_layer && json_object_set_new(e, "empty_layer", json_true()) < 0))
			goto nomem;
	}
	rootfs = json_object();
	if (set_str(o, "os", cfg->os) < 0 || json_object_set_new(o, "rootfs", rootfs) < 0 ||
	    set_str(rootfs, "type", "layers") < 0 ||
	    set_strv(rootfs, "diff_ids", cfg->diff_ids) < 0 || add_unmodelled(o, cfg->extra) < 0)
		goto nomem;
	return steal_ptr(&o);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "format image config");
	return NULL;
}

int image_config_format(const struct image_config *cfg, char **out, size_t *len, struct berr **err)
{
	_cleanup_json_ json_t *o = image_config_to_json(cfg, err);
	char *text;

	if (!o)
		return -1;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "format image config");
	*out = text;
	*len = strlen(text);
	return 0;
}

int image_config_add_diff_id(struct image_config *cfg, const char *diff_id, struct berr **err)
{
	if (!digest_is_valid(diff_id))
		return berr_set(err, BERR_INVALID, 0, "invalid diff id \"%s\"", diff_id);
	if (strv_append(&cfg->diff_ids, diff_id) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "add diff id");
	return 0;
}

int image_config_add_history(struct image_config *cfg, const char *created, const char *created_by,
			     const char *comment, bool empty_layer, struct berr **err)
{
	struct image_history *nh = realloc(cfg->history, (cfg->n_history + 1) * sizeof(*nh));
	struct image_history *h;

	if (!nh)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "add history");
	cfg->history = nh;
	h = &nh[cfg->n_history];
	memset(h, 0, sizeof(*h));
	h->created = created ? strdup(created) : NULL;
	h->created_by = created_by ? strdup(created_by) : NULL;
	h->comment = comment && *comment ? strdup(comment) : NULL;
	h->empty_layer = empty_layer;
	if ((created && !h->created) || (created_by && !h->created_by) ||
	    (comment && *comment && !h->comment)) {
		history_clear(h);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "add history");
	}
	cfg->n_history++;
	return 0;
}

/*
 * The --change instructions.
 */

static int change_error(struct berr **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int change_error(struct berr **err, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	return berr_set(err, BERR_INVALID, 0, "dockerfile parse error line 1: %s", msg);
}

/* Splits S into words at unquoted white space; quotes ("..." and '...')
 * group and are removed, a backslash outside single quotes escapes the next
 * character. */
static int split_words(const char *s, char ***out, struct berr **err)
{
	_cleanup_strv_ char **v = strv_dup(NULL);
	_cleanup_free_ char *word = malloc(strlen(s) + 1);

	if (!v || !word)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "split words");
	while (*s) {
		size_t n = 0;
		char quote = 0;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
			if (quote && *s == quote) {
				quote = 0;
			} else if (!quote && (*s == '"' || *s == '\'')) {
				quote = *s;
			} else if (*s == '\\' && quote != '\'' && s[1]) {
				word[n++] = *++s;
			} else {
				word[n++] = *s;
			}
		}
		if (quote)
			return change_error(
				err, "unexpected end of statement while looking for matching %c",
				quote);
		word[n] = '\0';
		if (strv_append(&v, word) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "split words");
	}
	*out = steal_ptr(&v);
	return 0;
}

/* The JSON array form ["a", "b"]: 1 and *out when ARG is one, 0 when ARG is
 * not a JSON array of strings (Docker then takes the shell form). */
static int json_form(const char *arg, char ***out)
{
	_cleanup_json_ json_t *doc = NULL;
	char **v = NULL;

	if (arg[0] != '[')
		return 0;
	doc = json_loads(arg, 0, NULL);
	if (!doc || !json_is_array(doc) || bjson_as_strv(doc, NULL, &v, NULL) < 0)
		return 0;
	*out = v;
	return 1;
}

/* CMD and ENTRYPOINT: the JSON form, or the shell form run by /bin/sh -c. */
static int command_form(const char *arg, char ***out, struct berr **err)
{
	char *sh[] = { "/bin/sh", "-c", (char *)arg, NULL };

	if (json_form(arg, out))
		return 0;
	*out = strv_dup(sh);
	if (!*out)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	return 0;
}

/* "k=v k2=v2" or the legacy "k v": new vectors of keys and values. */
static int key_values(const char *name, const char *arg, char ***keys, char ***values,
		      struct berr **err)
{
	_cleanup_strv_ char **words = NULL;
	_cleanup_strv_ char **k = strv_dup(NULL);
	_cleanup_strv_ char **v = strv_dup(NULL);
	const char *sp = arg + strcspn(arg, " \t");

	if (!k || !v)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	if (memchr(arg, '=', (size_t)(sp - arg)) == NULL) {
		/* The legacy form: the first word is the key, the rest the value. */
		_cleanup_free_ char *key = strndup(arg, (size_t)(sp - arg));

		while (isspace((unsigned char)*sp))
			sp++;
		if (!key)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
		if (!*sp)
			return change_error(err, "%s must have two arguments", name);
		if (strv_append(&k, key) < 0 || strv_append(&v, sp) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	} else {
		if (split_words(arg, &words, err) < 0)
			return -1;
		for (size_t i = 0; words[i]; i++) {
			char *eq = strchr(words[i], '=');

			if (!eq || eq == words[i])
				return change_error(err,
						    "Syntax error - can't find = in \"%s\". Must "
						    "be of the form: name=value",
						    words[i]);
			*eq = '\0';
			if (strv_append(&k, words[i]) < 0 || strv_append(&v, eq + 1) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
		}
	}
	*keys = steal_ptr(&k);
	*values = steal_ptr(&v);
	return 0;
}

static int apply_env(struct image_run_config *rc, const char *arg, struct berr **err)
{
	_cleanup_strv_ char **keys = NULL;
	_cleanup_strv_ char **values = NULL;
	_cleanup_strv_ char **env = NULL;

	if (key_values("ENV", arg, &keys, &values, err) < 0)
		return -1;
	env = strv_dup(rc->env);
	if (!env)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	for (size_t i = 0; keys[i]; i++) {
		_cleanup_free_ char *kv = str_printf("%s=%s", keys[i], values[i]);
		size_t klen = strlen(keys[i]);
		bool replaced = false;

		if (!kv)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
		for (size_t j = 0; env[j] && !replaced; j++)
			if (strncmp(env[j], keys[i], klen) == 0 && env[j][klen] == '=') {
				free(env[j]);
				env[j] = steal_ptr(&kv);
				replaced = true;
			}
		if (!replaced && strv_append(&env, kv) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	}
	strv_free(rc->env);
	rc->env = steal_ptr(&env);
	return 0;
}

static int apply_label(struct image_run_config *rc, const char *arg, struct berr **err)
{
	_cleanup_strv_ char **keys = NULL;
	_cleanup_strv_ char **values = NULL;
	_cleanup_strv_ char **nk = NULL;
	_cleanup_strv_ char **nv = NULL;
	size_t n;

	if (key_values("LABEL", arg, &keys, &values, err) < 0)
		return -1;
	nk = strv_dup(rc->label_keys);
	nv = strv_dup(rc->label_values);
	if (!nk || !nv)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	for (size_t i = 0; keys[i]; i++) {
		bool replaced = false;

		for (size_t j = 0; nk[j] && !replaced; j++)
			if (strcmp(nk[j], keys[i]) == 0) {
				char *val = strdup(values[i]);

				if (!val)
					return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
				free(nv[j]);
				nv[j] = val;
				replaced = true;
			}
		if (!replaced && (strv_append(&nk, keys[i]) < 0 || strv_append(&nv, values[i]) < 0))
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	}
	n = strv_length(nk);
	strv_free(rc->label_keys);
	strv_free(rc->label_values);
	rc->label_keys = steal_ptr(&nk);
	rc->label_values = steal_ptr(&nv);
	rc->n_labels = n;
	return 0;
}

/* One port number of EXPOSE; 0 when S is not one. */
static unsigned long port_number(const char *s, size_t len)
{
	unsigned long p = 0;

	if (len == 0 || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		p = p * 10 + (unsigned long)(s[i] - '0');
	}
	return p <= 65535 ? p : 0;
}

static int apply_expose(struct image_run_config *rc, const char *arg, struct berr **err)
{
	_cleanup_strv_ char **words = NULL;
	_cleanup_strv_ char **ports = NULL;

	if (split_words(arg, &words, err) < 0)
		return -1;
	ports = strv_dup(rc->exposed_ports);
	if (!ports)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	for (size_t i = 0; words[i]; i++) {
		const char *w = words[i];
		const char *slash = strchr(w, '/');
		const char *proto = slash ? slash + 1 : "tcp";
		size_t nlen = slash ? (size_t)(slash - w) : strlen(w);
		const char *dash = memchr(w, '-', nlen);
		unsigned long lo, hi;

		lo = port_number(w, dash ? (size_t)(dash - w) : nlen);
		hi = dash ? port_number(dash + 1, nlen - (size_t)(dash + 1 - w)) : lo;
		if (!lo || !hi || hi < lo)
			return change_error(err, "invalid containerPort: %s", w);
		if (strcasecmp(proto, "tcp") != 0 && strcasecmp(proto, "udp") != 0 &&
		    strcasecmp(proto, "sctp") != 0)
			return change_error(err, "invalid proto: %s", proto);
		if (hi - lo > 65535)
			return change_error(err, "invalid port range: %s", w);
		for (unsigned long p = lo; p <= hi; p++) {
			_cleanup_free_ char *name = str_printf("%lu/%s", p, proto);

			if (!name)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
			for (char *c = name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (!strv_contains(ports, name) && strv_append(&ports, name) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
		}
	}
	strv_free(rc->exposed_ports);
	rc->exposed_ports = steal_ptr(&ports);
	return 0;
}

static int apply_volume(struct image_run_config *rc, const char *arg, struct berr **err)
{
	_cleanup_strv_ char **words = NULL;
	_cleanup_strv_ char **vols = NULL;

	if (!json_form(arg, &words) && split_words(arg, &words, err) < 0)
		return -1;
	vols = strv_dup(rc->volumes);
	if (!vols)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	for (size_t i = 0; words[i]; i++) {
		if (!*words[i])
			return change_error(err, "VOLUME specified can not be an empty string");
		if (!strv_contains(vols, words[i]) && strv_append(&vols, words[i]) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	}
	strv_free(rc->volumes);
	rc->volumes = steal_ptr(&vols);
	return 0;
}

/* Replaces the string *DST with a copy of S. */
static int replace_str(char **dst, const char *s, struct berr **err)
{
	char *c = strdup(s);

	if (!c)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	free(*dst);
	*dst = c;
	return 0;
}

static int apply_workdir(struct image_run_config *rc, const char *arg, struct berr **err)
{
	_cleanup_free_ char *dir = NULL;

	/* A relative WORKDIR continues the one before, as in a Dockerfile. */
	if (arg[0] == '/')
		dir = strdup(arg);
	else
		dir = str_printf("%s/%s",
				 rc->working_dir && *rc->working_dir ? rc->working_dir : "", arg);
	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	free(rc->working_dir);
	rc->working_dir = steal_ptr(&dir);
	return 0;
}

int image_config_apply_change(struct image_config *cfg, const char *change, struct berr **err)
{
	struct image_run_config *rc = &cfg->config;
	_cleanup_free_ char *arg = NULL;
	char name[16];
	const char *s = change;
	const char *word;
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	word = s;
	n = strcspn(s, " \t\r\n");
	if (n == 0)
		return change_error(err, "empty instruction");
	if (n >= sizeof(name)) {
		return change_error(err, "unknown instruction: %.*s", (int)n, word);
	}
	for (size_t i = 0; i < n; i++)
		name[i] = (char)toupper((unsigned char)s[i]);
	name[n] = '\0';
	s += n;
	while (isspace((unsigned char)*s))
		s++;
	arg = strdup(s);
	if (!arg)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "parse change");
	for (n = strlen(arg); n > 0 && isspace((unsigned char)arg[n - 1]); n--)
		arg[n - 1] = '\0';

	static const char *const known[] = { "CMD",    "ENTRYPOINT", "ENV",    "WORKDIR",   "USER",
					     "EXPOSE", "LABEL",	     "VOLUME", "STOPSIGNAL" };
	bool is_known = false;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		is_known = is_known || strcmp(name, known[i]) == 0;
	if (!is_known)
		return change_error(err, "unknown instruction: %s", name);
	if (!*arg)
		return change_error(err, "%s requires at least one argument", name);

	if (strcmp(name, "CMD") == 0 || strcmp(name, "ENTRYPOINT") == 0) {
		char ***dst = name[0] == 'C' ? &rc->cmd : &rc->entrypoint;
		char **v = NULL;

		if (command_form(arg, &v, err) < 0)
			return -1;
		strv_free(*dst);
		*dst = v;
		return 0;
	}
	if (strcmp(name, "ENV") == 0)
		return apply_env(rc, arg, err);
	if (strcmp(name, "LABEL") == 0)
		return apply_label(rc, arg, err);
	if (strcmp(name, "EXPOSE") == 0)
		return apply_expose(rc, arg, err);
	if (strcmp(name, "VOLUME") == 0)
		return apply_volume(rc, arg, err);
	if (strcmp(name, "WORKDIR") == 0)
		return apply_workdir(rc, arg, err);
	if (strcmp(name, "USER") == 0)
		return replace_str(&rc->user, arg, err);
	return replace_str(&rc->stop_signal, arg, err);
}
