/* `docker image prune`: the images nobody needs (dangling ones, or with
 * ALL every image no container uses), removed with Docker's rules and
 * reported in the Engine API's shape. */
#include <errno.h>
#include <string.h>

#include "image/image_internal.h"
#include "image/query.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/timefmt.h"

/* Whether the run config labels of CFG pass LABELS ("key", "key=value")
 * and none of NOT_LABELS. */
static bool label_present(const struct image_config *cfg, const char *filter)
{
	const struct image_run_config *rc = &cfg->config;
	const char *eq = strchr(filter, '=');
	size_t klen = eq ? (size_t)(eq - filter) : strlen(filter);

	for (size_t k = 0; k < rc->n_labels; k++)
		if (strlen(rc->label_keys[k]) == klen &&
		    strncmp(rc->label_keys[k], filter, klen) == 0 &&
		    (!eq || strcmp(rc->label_values[k], eq + 1) == 0))
			return true;
	return false;
}

static bool prunable(struct image_store *st, const struct store_image *img,
		     const struct image_prune_opts *o)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_strv_ char **users = NULL;
	struct timespec ts;
	bool tagged = false;

	for (size_t k = 0; k < img->n_refs; k++)
		tagged |= img->refs[k].tag != NULL;
	if (tagged && !o->all)
		return false;
	if (store_image_users(st->db, img->id, &users, NULL) < 0 || strv_length(users) > 0)
		return false;
	image_store_config(img, &cfg, NULL);
	if (o->until) {
		int64_t created = img->created;

		if (cfg && cfg->created && time_parse_rfc3339(cfg->created, &ts) == 0)
			created = ts.tv_sec;
		if (created >= o->until)
			return false;
	}
	for (size_t i = 0; o->labels && o->labels[i]; i++)
		if (!cfg || !label_present(cfg, o->labels[i]))
			return false;
	for (size_t i = 0; o->not_labels && o->not_labels[i]; i++)
		if (cfg && label_present(cfg, o->not_labels[i]))
			return false;
	return true;
}

int image_prune(struct image_store *st, const struct image_prune_opts *o, json_t **out,
		struct berr **err)
{
	_cleanup_json_ json_t *deleted = json_array();
	struct store_image **imgs = NULL;
	int64_t reclaimed = 0;
	size_t n = 0;

	if (!deleted)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "prune images");
	if (image_store_list(st, &imgs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct image_remove_result res = { 0 };

		if (!prunable(st, imgs[i], o))
			continue;
		/* By id, forced: every reference goes with it (nothing uses
		 * it, so force only allows several repositories). */
		if (image_store_remove(st, imgs[i]->id, true, NULL, NULL, &res, NULL) < 0)
			continue;
		for (size_t k = 0; res.untagged && res.untagged[k]; k++)
			json_array_append_new(deleted,
					      json_pack("{s:s}", "Untagged", res.untagged[k]));
		if (res.deleted) {
			json_array_append_new(deleted, json_pack("{s:s}", "Deleted", res.deleted));
			reclaimed += imgs[i]->size;
		}
		image_remove_result_clear(&res);
	}
	store_image_list_free(imgs, n);
	*out = json_pack("{s:O, s:I}", "ImagesDeleted",
			 json_array_size(deleted) ? deleted : json_null(), "SpaceReclaimed",
			 (json_int_t)reclaimed);
	if (!*out)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "prune images");
	return 0;
}
