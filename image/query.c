/* The image list with Docker's filters and an image's history, built from
 * the stored images and their configs in the Engine API's JSON shapes. */
#include "image/query.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"
#include "lib/json.h"
#include "lib/timefmt.h"

void image_filters_clear(struct image_filters *f)
{
	strv_free(f->references);
	strv_free(f->labels);
	free(f->before);
	free(f->since);
	*f = (struct image_filters){ .dangling = -1 };
}

/* Replaces *slot by a copy of VALUE: before and since take one image. */
static int set_name(char **slot, const char *value, struct berr **err)
{
	char *copy = strdup(value);

	if (!copy)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "image filter");
	free(*slot);
	*slot = copy;
	return 0;
}

int image_filters_add_kv(struct image_filters *f, const char *key, const char *value,
			 struct berr **err)
{
	if (strcmp(key, "dangling") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			f->dangling = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			f->dangling = 0;
		else
			return berr_set(err, BERR_INVALID, 0, "Invalid filter 'dangling=%s'",
					value);
		return 0;
	}
	if (strcmp(key, "reference") == 0)
		return strv_append(&f->references, value) < 0
			       ? berr_set(err, BERR_INTERNAL, ENOMEM, "image filter")
			       : 0;
	if (strcmp(key, "label") == 0)
		return strv_append(&f->labels, value) < 0
			       ? berr_set(err, BERR_INTERNAL, ENOMEM, "image filter")
			       : 0;
	if (strcmp(key, "before") == 0)
		return set_name(&f->before, value, err);
	if (strcmp(key, "since") == 0)
		return set_name(&f->since, value, err);
	return berr_set(err, BERR_INVALID, 0, "invalid filter '%s'", key);
}

int image_filters_add(struct image_filters *f, const char *filter, struct berr **err)
{
	const char *eq = strchr(filter, '=');
	_cleanup_free_ char *key = NULL;

	if (!eq)
		return berr_set(err, BERR_INVALID, 0, "bad format of filter (expected name=value)");
	key = strndup(filter, (size_t)(eq - filter));
	if (!key)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "image filter");
	return image_filters_add_kv(f, key, eq + 1, err);
}

/* The familiar form of the normalised reference NAME; NULL on no memory. */
static char *familiar(const char *name)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;

	if (image_reference_parse(name, &ref, NULL) < 0)
		return strdup(name);
	return image_reference_format_familiar(ref, NULL);
}

/* Docker's reference filter: PATTERN matches the familiar string
 * ("busybox:latest") or the familiar repository ("busybox"), '*' not
 * crossing '/'. */
static bool reference_matches(const char *pattern, const struct store_ref *r)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_free_ char *full = NULL;
	_cleanup_free_ char *repo = NULL;

	if (image_reference_parse(r->name, &ref, NULL) < 0)
		return false;
	full = image_reference_format_familiar(ref, NULL);
	repo = image_reference_familiar_name(ref, NULL);
	return (full && fnmatch(pattern, full, FNM_PATHNAME) == 0) ||
	       (repo && fnmatch(pattern, repo, FNM_PATHNAME) == 0);
}

/* Whether the run config labels of CFG hold every label filter. */
static bool labels_match(const struct image_config *cfg, char *const *filters)
{
	const struct image_run_config *rc = &cfg->config;

	for (size_t i = 0; filters && filters[i]; i++) {
		const char *eq = strchr(filters[i], '=');
		size_t klen = eq ? (size_t)(eq - filters[i]) : strlen(filters[i]);
		bool found = false;

		for (size_t k = 0; k < rc->n_labels && !found; k++)
			found = strlen(rc->label_keys[k]) == klen &&
				strncmp(rc->label_keys[k], filters[i], klen) == 0 &&
				(!eq || strcmp(rc->label_values[k], eq + 1) == 0);
		if (!found)
			return false;
	}
	return true;
}

/* The creation time of an image as Docker shows it: the config's "created",
 * else when the store recorded the image. */
static int64_t created_of(const struct store_image *img, const struct image_config *cfg)
{
	struct timespec ts;

	if (cfg && cfg->created && time_parse_rfc3339(cfg->created, &ts) == 0)
		return ts.tv_sec;
	return img->created;
}

/* The creation time of the image NAME names, for before and since. */
static int filter_time(struct image_store *st, const char *name, int64_t *out, struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;

	if (image_store_lookup(st, name, &img, err) < 0)
		return -1;
	image_store_config(img, &cfg, NULL);
	*out = created_of(img, cfg);
	return 0;
}

static json_t *labels_json(const struct image_run_config *rc)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < rc->n_labels; i++)
		json_object_set_new(o, rc->label_keys[i], json_string(rc->label_values[i]));
	return o;
}

/* The summary of IMG with the tags and digests that pass REFS (NULL: all);
 * NULL when a reference filter leaves no name, or on no memory (*oom). */
static json_t *summary(const struct store_image *img, const struct image_config *cfg,
		       char *const *refs, bool *oom)
{
	_cleanup_json_ json_t *tags = json_array();
	_cleanup_json_ json_t *digests = json_array();
	struct image_run_config empty = { 0 };
	json_t *o;

	if (!tags || !digests)
		goto nomem;
	for (size_t i = 0; i < img->n_refs; i++) {
		const struct store_ref *r = &img->refs[i];
		_cleanup_free_ char *f = NULL;
		bool keep = !refs;

		for (size_t k = 0; refs && refs[k] && !keep; k++)
			keep = reference_matches(refs[k], r);
		if (!keep)
			continue;
		f = familiar(r->name);
		if (!f || json_array_append_new(r->tag ? tags : digests, json_string(f)) < 0)
			goto nomem;
	}
	if (refs && json_array_size(tags) == 0 && json_array_size(digests) == 0)
		return NULL;
	o = json_pack("{s:s, s:s, s:O, s:O, s:I, s:I, s:i, s:I, s:o, s:i}", "Id", img->id,
		      "ParentId", "", "RepoTags", tags, "RepoDigests", digests, "Created",
		      (json_int_t)created_of(img, cfg), "Size", (json_int_t)img->size, "SharedSize",
		      -1, "VirtualSize", (json_int_t)img->size, "Labels",
		      labels_json(cfg ? &cfg->config : &empty), "Containers", -1);
	if (!o)
		goto nomem;
	return o;
nomem:
	*oom = true;
	return NULL;
}

int image_list_json(struct image_store *st, const struct image_filters *f, json_t **out,
		    struct berr **err)
{
	struct store_image **imgs = NULL;
	_cleanup_json_ json_t *arr = json_array();
	int64_t before = INT64_MAX, since = INT64_MIN;
	size_t n = 0;
	int rc = -1;

	if (!arr)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list images");
	if (f && f->before && filter_time(st, f->before, &before, err) < 0)
		return -1;
	if (f && f->since && filter_time(st, f->since, &since, err) < 0)
		return -1;
	if (image_store_list(st, &imgs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
		const struct store_image *img = imgs[i];
		bool tagged = false, oom = false;
		int64_t created;
		json_t *s;

		/* A config that does not parse still lists, as Docker lists what
		 * it stores; only the label filter needs it. */
		image_store_config(img, &cfg, NULL);
		created = created_of(img, cfg);
		for (size_t k = 0; k < img->n_refs; k++)
			tagged |= img->refs[k].tag != NULL;
		if (f && f->dangling >= 0 && f->dangling == tagged)
			continue;
		if (created >= before || created <= since)
			continue;
		if (f && f->labels && (!cfg || !labels_match(cfg, f->labels)))
			continue;
		s = summary(img, cfg, f ? f->references : NULL, &oom);
		if (oom) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list images");
			goto out;
		}
		if (s && json_array_append_new(arr, s) < 0) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list images");
			goto out;
		}
	}
	*out = steal_ptr(&arr);
	rc = 0;
out:
	store_image_list_free(imgs, n);
	return rc;
}

int image_history_json(struct image_store *st, const struct store_image *img, json_t **out,
		       struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_json_ json_t *arr = json_array();
	_cleanup_json_ json_t *tags = json_array();
	size_t layer = 0;

	if (!arr || !tags)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "history of %s", img->id);
	if (image_store_config(img, &cfg, err) < 0)
		return -1;
	for (size_t i = 0; i < img->n_refs; i++) {
		_cleanup_free_ char *f = NULL;

		if (!img->refs[i].tag)
			continue;
		f = familiar(img->refs[i].name);
		if (!f || json_array_append_new(tags, json_string(f)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "history of %s", img->id);
	}
	for (size_t i = 0; i < cfg->n_history; i++) {
		const struct image_history *h = &cfg->history[i];
		struct timespec ts = { 0 };
		int64_t size = 0;
		json_t *step;

		if (h->created)
			time_parse_rfc3339(h->created, &ts);
		if (!h->empty_layer && layer < img->n_layers) {
			_cleanup_(store_layer_free_cleanup) struct store_layer *l = NULL;

			if (store_layer_lookup(image_store_db(st), img->layers[layer], &l, err) < 0)
				return berr_prefix(err, "history of %s", img->id);
			/* Docker's layer size: the content it holds. */
			size = l->content_size;
			layer++;
		}
		step = json_pack("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>", "Created",
				 (json_int_t)ts.tv_sec, "CreatedBy",
				 h->created_by ? h->created_by : "", "Tags", "Size",
				 (json_int_t)size, "Comment", h->comment ? h->comment : "");
		/* Newest first: each step goes in front. */
		if (!step || json_array_insert_new(arr, 0, step) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "history of %s", img->id);
	}
	if (json_array_size(arr) > 0) {
		json_t *top = json_array_get(arr, 0);

		json_object_set_new(top, "Id", json_string(img->id));
		json_object_set(top, "Tags", tags);
	}
	*out = steal_ptr(&arr);
	return 0;
}
