/* The clean-up routes: POST /containers/prune, POST /images/prune,
 * POST /volumes/prune and GET /system/df, each a thread-pool job over the
 * stores. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berthd/berthd.h"
#include "daemon/events.h"
#include "daemon/query.h"
#include "daemon/volumes.h"
#include "image/query.h"
#include "lib/cleanup.h"
#include "lib/json.h"

/* The prune filters Docker takes: until, label and label!. */
struct prune_filters {
	int64_t until; /* unix seconds; 0: none */
	char **labels, **not_labels;
	int dangling; /* images: -1 not given, else 0 or 1 */
};

static void prune_filters_clear(struct prune_filters *f)
{
	strv_free(f->labels);
	strv_free(f->not_labels);
}

static int parse_prune_filters(const char *text, struct prune_filters *f, struct berr **err)
{
	static const char *const known[] = { "until", "label", "label!", "dangling", NULL };
	_cleanup_json_ json_t *keys = NULL;
	const char *key;
	json_t *vals;

	f->dangling = -1;
	if (bjson_filters_parse(text, known, &keys, err) < 0)
		return -1;
	json_object_foreach (keys, key, vals) {
		size_t i;
		json_t *v;

		json_array_foreach (vals, i, v) {
			const char *s = json_string_value(v);
			struct timespec now;
			int64_t ns;

			if (strcmp(key, "until") == 0) {
				clock_gettime(CLOCK_REALTIME, &now);
				if (event_time_parse(s,
						     (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
						     &ns, err) < 0)
					return -1;
				f->until = ns / 1000000000;
			} else if (strcmp(key, "label") == 0) {
				strv_append(&f->labels, s);
			} else if (strcmp(key, "label!") == 0) {
				strv_append(&f->not_labels, s);
			} else {
				f->dangling = strcmp(s, "false") != 0 && strcmp(s, "0") != 0;
			}
		}
	}
	return 0;
}

static int containers_prune_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(prune_filters_clear) struct prune_filters f = { 0 };
	struct daemon_container **list = NULL;
	json_t *deleted;
	size_t n = 0;

	if (parse_prune_filters(job->names[0], &f, err) < 0 ||
	    daemon_container_list(e->engine, &list, &n, err) < 0)
		return -1;
	deleted = json_array();
	for (size_t i = 0; i < n; i++) {
		const json_t *labels =
			json_object_get(json_object_get(list[i]->doc, "Config"), "Labels");
		bool keep = daemon_container_is_running(list[i]) ||
			    (f.until && list[i]->created >= f.until);

		for (size_t k = 0; f.labels && f.labels[k]; k++)
			keep |= !bjson_label_matches(labels, f.labels[k]);
		for (size_t k = 0; f.not_labels && f.not_labels[k]; k++)
			keep |= bjson_label_matches(labels, f.not_labels[k]);
		if (!keep &&
		    daemon_container_remove(e->engine, list[i]->id, false, false, NULL, NULL) == 0)
			json_array_append_new(deleted, json_string(list[i]->id));
	}
	daemon_container_list_free(list, n);
	job->result =
		json_pack("{s:o, s:i}", "ContainersDeleted",
			  json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()),
			  "SpaceReclaimed", 0);
	return job->result ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "prune");
}

static void containers_prune_done(struct berthd_job *job)
{
	size_t i;
	json_t *id;

	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	json_array_foreach (json_object_get(job->result, "ContainersDeleted"), i, id) {
		berthd_container_removed(job->d, json_string_value(id), 0);
		berthd_container_event(job->d, "destroy", json_string_value(id), NULL, NULL, NULL);
	}
	berthd_event_emit(job->d, "container", "prune", "", NULL);
	api_reply_json(job->req, 200, job->result);
}

void berthd_containers_prune(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "filters") };

	berthd_job_start(ctx, req, containers_prune_job, containers_prune_done, args, 1);
}

/* As Docker's API 1.41: every volume no container uses, named or not. */
static int volumes_prune_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	static const char *const known[] = { "label", "label!", NULL };
	_cleanup_(prune_filters_clear) struct prune_filters f = { 0 };
	_cleanup_json_ json_t *volumes = NULL, *keys = NULL;
	json_t *deleted, *v;
	int64_t reclaimed = 0;
	size_t i;

	if (bjson_filters_parse(job->names[0], NULL, &keys, err) < 0 ||
	    daemon_volume_filters_check(keys, known, err) < 0 ||
	    parse_prune_filters(job->names[0], &f, err) < 0 ||
	    daemon_volume_list(e->engine, NULL, true, &volumes, err) < 0)
		return -1;
	deleted = json_array();
	json_array_foreach (volumes, i, v) {
		const json_t *labels = json_object_get(v, "Labels");
		const char *name = json_string_value(json_object_get(v, "Name"));
		bool keep = json_integer_value(json_object_get(json_object_get(v, "UsageData"),
							       "RefCount")) > 0;
		int64_t size = 0;

		for (size_t k = 0; f.labels && f.labels[k]; k++)
			keep |= !bjson_label_matches(labels, f.labels[k]);
		for (size_t k = 0; f.not_labels && f.not_labels[k]; k++)
			keep |= bjson_label_matches(labels, f.not_labels[k]);
		if (!keep && daemon_volume_remove(e->engine, name, &size, NULL) == 0) {
			json_array_append_new(deleted, json_string(name));
			reclaimed += size;
		}
	}
	job->result = json_pack("{s:o, s:I}", "VolumesDeleted", deleted, "SpaceReclaimed",
				(json_int_t)reclaimed);
	return job->result ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "prune");
}

/* As Docker's: one event of what it reclaimed, none of each removal. */
static void volumes_prune_done(struct berthd_job *job)
{
	char reclaimed[24];

	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	snprintf(reclaimed, sizeof(reclaimed), "%lld",
		 (long long)json_integer_value(json_object_get(job->result, "SpaceReclaimed")));
	berthd_event_emit(job->d, "volume", "prune", "",
			  json_pack("{s:s}", "reclaimed", reclaimed));
	api_reply_json(job->req, 200, job->result);
}

void berthd_volumes_prune(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "filters") };

	berthd_job_start(ctx, req, volumes_prune_job, volumes_prune_done, args, 1);
}

static int images_prune_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	_cleanup_(prune_filters_clear) struct prune_filters f = { 0 };
	struct image_prune_opts o = { 0 };

	if (parse_prune_filters(job->names[0], &f, err) < 0)
		return -1;
	o.all = f.dangling == 0;
	o.until = f.until;
	o.labels = f.labels;
	o.not_labels = f.not_labels;
	return image_prune(e->images, &o, &job->result, err);
}

static void images_prune_done(struct berthd_job *job)
{
	size_t i;
	json_t *v;

	if (job->err) {
		api_reply_error(job->req, job->err);
		return;
	}
	json_array_foreach (json_object_get(job->result, "ImagesDeleted"), i, v) {
		const char *untagged = json_string_value(json_object_get(v, "Untagged"));
		const char *deleted = json_string_value(json_object_get(v, "Deleted"));

		if (untagged)
			berthd_event_emit(job->d, "image", "untag", untagged,
					  json_pack("{s:s}", "name", untagged));
		if (deleted)
			berthd_event_emit(job->d, "image", "delete", deleted,
					  json_pack("{s:s}", "name", deleted));
	}
	berthd_event_emit(job->d, "image", "prune", "", NULL);
	api_reply_json(job->req, 200, job->result);
}

void berthd_images_prune(struct api_request *req, void *ctx)
{
	const char *args[] = { api_query_get(&req->query, "filters") };

	berthd_job_start(ctx, req, images_prune_job, images_prune_done, args, 1);
}

/* What dockerd's df adds to the image list: each image's Containers (the
 * containers made from it) and SharedSize (the bytes of its layers other
 * images use too), and in *layers each layer's size counted once. */
static int df_images(struct berthd_engine *e, json_t *images, const json_t *containers,
		     int64_t *layers, struct berr **err)
{
	_cleanup_json_ json_t *by_id = json_object();
	_cleanup_json_ json_t *refs = json_object();
	struct store_image **imgs = NULL;
	size_t n = 0, i;
	json_t *v;
	int rc = -1;

	if (!by_id || !refs)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "df");
	json_array_foreach (images, i, v) {
		json_object_set_new(v, "Containers", json_integer(0));
		json_object_set(by_id, json_string_value(json_object_get(v, "Id")) ?: "", v);
	}
	json_array_foreach (containers, i, v) {
		json_t *img = json_object_get(
			by_id, json_string_value(json_object_get(v, "ImageID")) ?: "");

		if (img)
			json_object_set_new(img, "Containers",
					    json_integer(json_integer_value(json_object_get(
								 img, "Containers")) +
							 1));
	}
	if (image_store_list(e->images, &imgs, &n, err) < 0)
		return -1;
	/* refs: chain id -> [images using it, size]. */
	for (i = 0; i < n; i++)
		for (size_t k = 0; k < imgs[i]->n_layers; k++) {
			const char *chain = imgs[i]->layers[k];
			json_t *r = json_object_get(refs, chain);
			_cleanup_(store_layer_free_cleanup) struct store_layer *l = NULL;

			if (r) {
				json_array_set_new(
					r, 0,
					json_integer(json_integer_value(json_array_get(r, 0)) + 1));
				continue;
			}
			if (store_layer_lookup(image_store_db(e->images), chain, &l, err) < 0)
				goto out;
			*layers += l->content_size;
			json_object_set_new(refs, chain,
					    json_pack("[i, I]", 1, (json_int_t)l->content_size));
		}
	for (i = 0; i < n; i++) {
		json_t *img = json_object_get(by_id, imgs[i]->id);
		int64_t shared = 0;

		for (size_t k = 0; img && k < imgs[i]->n_layers; k++) {
			json_t *r = json_object_get(refs, imgs[i]->layers[k]);

			if (json_integer_value(json_array_get(r, 0)) > 1)
				shared += json_integer_value(json_array_get(r, 1));
		}
		if (img)
			json_object_set_new(img, "SharedSize", json_integer(shared));
	}
	rc = 0;
out:
	store_image_list_free(imgs, n);
	return rc;
}

static int df_job(struct berthd_job *job, struct berthd_engine *e, struct berr **err)
{
	struct daemon_list_opts o = { .all = true, .size = true };
	_cleanup_json_ json_t *containers = NULL;
	_cleanup_json_ json_t *images = NULL;
	_cleanup_json_ json_t *volumes = NULL;
	int64_t layers = 0;

	if (daemon_container_list_json(e->engine, &o, &containers, err) < 0 ||
	    image_list_json(e->images, NULL, &images, err) < 0 ||
	    df_images(e, images, containers, &layers, err) < 0 ||
	    daemon_volume_list(e->engine, NULL, true, &volumes, err) < 0)
		return -1;
	job->result =
		json_pack("{s:I, s:O, s:O, s:O, s:[]}", "LayersSize", (json_int_t)layers, "Images",
			  images, "Containers", containers, "Volumes", volumes, "BuildCache");
	return job->result ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "df");
}

void berthd_system_df(struct api_request *req, void *ctx)
{
	berthd_job_start(ctx, req, df_job, NULL, NULL, 0);
}

/* berthd has only the "host" and "none" networks and no build cache yet:
 * their prunes, which `docker system prune` calls, find nothing to remove. */
void berthd_networks_prune(struct api_request *req, void *ctx)
{
	_cleanup_json_ json_t *none = json_pack("{s:[]}", "NetworksDeleted");

	api_reply_json(req, 200, none);
}

void berthd_build_prune(struct api_request *req, void *ctx)
{
	_cleanup_json_ json_t *none =
		json_pack("{s:[], s:i}", "CachesDeleted", "SpaceReclaimed", 0);

	api_reply_json(req, 200, none);
}
