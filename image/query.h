/* Questions about the stored images, answered in the Engine API's shapes:
 * the image list with Docker's filters (`docker images`, GET /images/json)
 * and an image's history (`docker history`, GET /images/{name}/history). */
#ifndef BERTH_IMAGE_QUERY_H
#define BERTH_IMAGE_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "image/image.h"
#include "lib/berr.h"
#include "lib/cleanup.h"

/* The filters of `docker images -f KEY=VALUE`.  Values of one key are
 * alternatives (any may match), different keys must all match, as in the
 * Engine API. */
struct image_filters {
	int dangling;	   /* -1 when not given, else 0 or 1 */
	char **references; /* patterns ("busybox", "bu*:1.*"); any matches */
	char **labels;	   /* "key" or "key=value"; all must match */
	char *before;	   /* an image name: only images created before it */
	char *since;	   /* an image name: only images created after it */
};

void image_filters_clear(struct image_filters *f);

/* Adds one "KEY=VALUE" filter (keys: dangling, reference, label, before,
 * since).  Sets BERR_INVALID with Docker's messages ("invalid filter
 * 'KEY'", "Invalid filter 'dangling=VALUE'", "bad format of filter
 * (expected name=value)"). */
int image_filters_add(struct image_filters *f, const char *filter, struct berr **err);

/* As image_filters_add() for a KEY with one VALUE, as the Engine API's
 * filters parameter holds them. */
int image_filters_add_kv(struct image_filters *f, const char *key, const char *value,
			 struct berr **err);

/* The images F lets through (F may be NULL), newest first, as a new JSON
 * array of Engine API image summaries (Id, ParentId, RepoTags,
 * RepoDigests, Created, Size, SharedSize, VirtualSize, Labels,
 * Containers).  With a reference filter an image shows only the tags that
 * match it.  Sets BERR_NOT_FOUND when before or since names no image,
 * BERR_INTERNAL. */
int image_list_json(struct image_store *st, const struct image_filters *f, json_t **out,
		    struct berr **err);

/* `docker history` of IMG: a new JSON array, newest step first, of {Id,
 * Created, CreatedBy, Tags, Size, Comment}.  The top step carries the
 * image id and its tags, the others "<missing>"; Size is the layer's size
 * for a step that made one.  Sets BERR_INVALID for a broken config,
 * BERR_INTERNAL. */
int image_history_json(struct image_store *st, const struct store_image *img, json_t **out,
		       struct berr **err);

/* What `docker image prune` removes. */
struct image_prune_opts {
	bool all;	   /* every image no container uses, not only dangling ones */
	int64_t until;	   /* unix seconds; 0: any age.  Only images created before */
	char **labels;	   /* "key" or "key=value": all must be there */
	char **not_labels; /* label!=...: none may be there */
};

/* `docker image prune`: removes the images O lets through that no
 * container uses, with their layers.  *out gets the Engine API's answer,
 * {"ImagesDeleted": [{"Untagged": ..}, {"Deleted": ..}] or null,
 * "SpaceReclaimed": bytes}.  An image that cannot go is left.  Sets
 * BERR_INTERNAL. */
int image_prune(struct image_store *st, const struct image_prune_opts *o, json_t **out,
		struct berr **err);

#endif
