/* Images in the store: adding one with its layers, loading, listing,
 * deleting with layer reference counts, and the record of which containers
 * use which image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "store/internal.h"

static void str_array_free(char **strs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strs[i]);
	free(strs);
}

static void ref_clear(struct store_ref *ref)
{
	free(ref->name);
	free(ref->repo);
	free(ref->tag);
	free(ref->digest);
}

static void layer_clear(struct store_layer *layer)
{
	free(layer->chain_id);
	free(layer->diff_id);
	free(layer->blob_digest);
	free(layer->path);
}

void store_image_free(struct store_image *img)
{
	if (!img)
		return;
	free(img->id);
	free(img->config);
	str_array_free(img->layers, img->n_layers);
	for (size_t i = 0; i < img->n_refs; i++)
		ref_clear(&img->refs[i]);
	free(img->refs);
	free(img);
}

void store_image_list_free(struct store_image **imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_image_free(imgs[i]);
	free(imgs);
}

void store_layer_free(struct store_layer *layer)
{
	if (!layer)
		return;
	layer_clear(layer);
	free(layer);
}

void store_layer_list_free(struct store_layer *layers, size_t n)
{
	for (size_t i = 0; i < n; i++)
		layer_clear(&layers[i]);
	free(layers);
}

int store_check_digest(const char *what, const char *digest, struct berr **err)
{
	if (!digest_is_valid(digest))
		return berr_set(err, BERR_INVALID, 0, "invalid %s \"%s\"", what,
				digest ? digest : "(null)");
	return 0;
}

/* Sets *exists to whether image ID is stored. */
static int image_exists(struct store *st, const char *id, bool *exists, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int rc;

	if (store_prepare(st, "SELECT 1 FROM images WHERE id = ?1", &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, id, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(st, rc, "look up image", err);
	*exists = rc == SQLITE_ROW;
	return 0;
}

/* Sets BERR_NOT_FOUND when image ID is not stored. */
int store_image_must_exist(struct store *st, const char *id, struct berr **err)
{
	bool exists = false;

	if (image_exists(st, id, &exists, err) < 0)
		return -1;
	if (!exists)
		return berr_set(err, BERR_NOT_FOUND, 0, "no such image: %s", id);
	return 0;
}

static int check_layer(const struct store_layer *layer, struct berr **err)
{
	if (store_check_digest("layer chain id", layer->chain_id, err) < 0 ||
	    store_check_digest("layer diff id", layer->diff_id, err) < 0)
		return -1;
	if (layer->blob_digest &&
	    store_check_digest("layer blob digest", layer->blob_digest, err) < 0)
		return -1;
	if (!layer->path || layer->path[0] != '/')
		return berr_set(err, BERR_INVALID, 0, "layer %s: path must be absolute",
				layer->chain_id);
	return 0;
}

static int add_layers(struct store *st, const struct store_image_spec *spec, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *layer = NULL;
	_cleanup_stmt_ sqlite3_stmt *link = NULL;

	/* A layer already stored gains a reference; a blob digest learnt later
	 * fills the one that was unknown. */
	if (store_prepare(
		    st,
		    "INSERT INTO layers (chain_id, diff_id, blob_digest, size, path, refcount,"
		    " content_size) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)"
		    " ON CONFLICT (chain_id) DO UPDATE SET refcount = refcount + 1,"
		    " blob_digest = coalesce(blob_digest, excluded.blob_digest),"
		    " content_size = max(content_size, excluded.content_size)",
		    &layer, err) < 0 ||
	    store_prepare(st,
			  "INSERT INTO image_layers (image_id, position, chain_id)"
			  " VALUES (?1, ?2, ?3)",
			  &link, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->n_layers; i++) {
		const struct store_layer *l = &spec->layers[i];

		sqlite3_reset(layer);
		sqlite3_reset(link);
		if (store_bind_text(st, layer, 1, l->chain_id, err) < 0 ||
		    store_bind_text(st, layer, 2, l->diff_id, err) < 0 ||
		    store_bind_text(st, layer, 3, l->blob_digest, err) < 0 ||
		    store_bind_int64(st, layer, 4, l->size, err) < 0 ||
		    store_bind_text(st, layer, 5, l->path, err) < 0 ||
		    store_bind_int64(st, layer, 6, l->content_size, err) < 0 ||
		    store_step_done(st, layer, "record layer", err) < 0 ||
		    store_bind_text(st, link, 1, spec->id, err) < 0 ||
		    store_bind_int64(st, link, 2, (int64_t)i, err) < 0 ||
		    store_bind_text(st, link, 3, l->chain_id, err) < 0 ||
		    store_step_done(st, link, "link layer", err) < 0)
			return berr_prefix(err, "layer %zu (%s)", i, l->chain_id);
	}
	return 0;
}

int store_image_add(struct store *st, const struct store_image_spec *spec, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };
	bool exists = false;

	if (store_check_digest("image id", spec->id, err) < 0)
		return berr_prefix(err, "add image");
	if (!spec->config)
		return berr_set(err, BERR_INVALID, 0, "add image %s: no config", spec->id);
	for (size_t i = 0; i < spec->n_layers; i++)
		if (check_layer(&spec->layers[i], err) < 0)
			return berr_prefix(err, "add image %s", spec->id);

	if (store_tx_begin(st, &tx, 1, err) < 0)
		return berr_prefix(err, "add image %s", spec->id);
	if (image_exists(st, spec->id, &exists, err) < 0)
		return berr_prefix(err, "add image %s", spec->id);
	if (exists)
		return berr_set(err, BERR_CONFLICT, 0, "add image %s: it already exists", spec->id);
	if (store_prepare(st,
			  "INSERT INTO images (id, config, created, size, last_used)"
			  " VALUES (?1, ?2, ?3, ?4, NULL)",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, spec->id, err) < 0 ||
	    store_bind_text(st, stmt, 2, spec->config, err) < 0 ||
	    store_bind_int64(st, stmt, 3, spec->created, err) < 0 ||
	    store_bind_int64(st, stmt, 4, spec->size, err) < 0 ||
	    store_step_done(st, stmt, "record image", err) < 0 || add_layers(st, spec, err) < 0 ||
	    store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "add image %s", spec->id);
	return 0;
}

static int load_layer_ids(struct store *st, struct store_image *img, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	size_t cap = 0;
	int rc;

	if (store_prepare(st,
			  "SELECT chain_id FROM image_layers WHERE image_id = ?1 ORDER BY position",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, img->id, err) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int failed = 0;

		if (array_grow(&img->layers, &cap, img->n_layers, sizeof(*img->layers)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load layers");
		img->layers[img->n_layers] = store_column_dup(stmt, 0, &failed);
		if (failed)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load layers");
		img->n_layers++;
	}
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "load layers", err);
	return 0;
}

static int load_refs(struct store *st, struct store_image *img, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	size_t cap = 0;
	int rc;

	if (store_prepare(st,
			  "SELECT name, repo, tag, digest FROM image_references"
			  " WHERE image_id = ?1 ORDER BY name",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, img->id, err) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_ref *ref;
		int failed = 0;

		if (array_grow(&img->refs, &cap, img->n_refs, sizeof(*img->refs)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load references");
		ref = &img->refs[img->n_refs++];
		ref->name = store_column_dup(stmt, 0, &failed);
		ref->repo = store_column_dup(stmt, 1, &failed);
		ref->tag = store_column_dup(stmt, 2, &failed);
		ref->digest = store_column_dup(stmt, 3, &failed);
		if (failed)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load references");
	}
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "load references", err);
	return 0;
}

/* Loads image ID with its layers and references; the caller holds a
 * transaction so the three reads agree. */
static int image_load(struct store *st, const char *id, struct store_image **out, struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int failed = 0;
	int rc;

	if (store_prepare(st,
			  "SELECT config, created, size, coalesce(last_used, 0)"
			  " FROM images WHERE id = ?1",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, id, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return berr_set(err, BERR_NOT_FOUND, 0, "no such image: %s", id);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "load image", err);
	img = calloc(1, sizeof(*img));
	if (!img)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load image");
	img->id = strdup(id);
	img->config = store_column_dup(stmt, 0, &failed);
	if (!img->id || failed)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load image");
	img->created = sqlite3_column_int64(stmt, 1);
	img->size = sqlite3_column_int64(stmt, 2);
	img->last_used = sqlite3_column_int64(stmt, 3);
	if (load_layer_ids(st, img, err) < 0 || load_refs(st, img, err) < 0)
		return -1;
	*out = steal_ptr(&img);
	return 0;
}

int store_image_lookup(struct store *st, const char *id, struct store_image **out,
		       struct berr **err)
{
	struct store_tx tx _cleanup_tx_ = { 0 };
	struct store_image *img = NULL;

	if (store_check_digest("image id", id, err) < 0)
		return -1;
	if (store_tx_begin(st, &tx, 0, err) < 0 || image_load(st, id, &img, err) < 0)
		return -1;
	if (store_tx_commit(&tx, err) < 0) {
		store_image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

/* The full id prefix "sha256:<hex>" for a user's PREFIX, or NULL. */
static char *id_prefix(const char *prefix, struct berr **err)
{
	const char *hex = prefix;
	size_t len;
	char *full;

	if (str_has_prefix(hex, "sha256:"))
		hex += strlen("sha256:");
	len = strlen(hex);
	if (len == 0 || len > 64 || strspn(hex, "0123456789abcdef") != len) {
		berr_set(err, BERR_INVALID, 0, "invalid image id prefix \"%s\"", prefix);
		return NULL;
	}
	full = str_printf("sha256:%s", hex);
	if (!full)
		berr_set(err, BERR_INTERNAL, ENOMEM, "image id prefix");
	return full;
}

int store_image_lookup_prefix(struct store *st, const char *prefix, struct store_image **out,
			      struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	_cleanup_free_ char *full = NULL;
	_cleanup_free_ char *id = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };
	struct store_image *img = NULL;
	int failed = 0;
	int rc;

	full = id_prefix(prefix, err);
	if (!full)
		return -1;
	if (store_tx_begin(st, &tx, 0, err) < 0 ||
	    store_prepare(st,
			  "SELECT id FROM images WHERE substr(id, 1, length(?1)) = ?1"
			  " ORDER BY id LIMIT 2",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, full, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return berr_set(err, BERR_NOT_FOUND, 0, "no such image: %s", prefix);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "look up image prefix", err);
	id = store_column_dup(stmt, 0, &failed);
	if (!id)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "look up image prefix");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return berr_set(err, BERR_CONFLICT, 0,
				"image id prefix %s is ambiguous: several images match", prefix);
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "look up image prefix", err);
	if (image_load(st, id, &img, err) < 0)
		return -1;
	if (store_tx_commit(&tx, err) < 0) {
		store_image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

int store_image_lookup_ref(struct store *st, const char *name, struct store_image **out,
			   struct berr **err)
{
	_cleanup_free_ char *id = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };
	struct store_image *img = NULL;

	if (!name || !*name)
		return berr_set(err, BERR_INVALID, 0, "empty reference");
	if (store_tx_begin(st, &tx, 0, err) < 0 || store_ref_target(st, name, &id, err) < 0 ||
	    image_load(st, id, &img, err) < 0)
		return -1;
	if (store_tx_commit(&tx, err) < 0) {
		store_image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

int store_image_list(struct store *st, struct store_image ***out, size_t *n, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };
	struct store_image **imgs = NULL;
	size_t count = 0, cap = 0;
	int rc;

	if (store_tx_begin(st, &tx, 0, err) < 0 ||
	    store_prepare(st, "SELECT id FROM images ORDER BY created DESC, id", &stmt, err) < 0)
		return berr_prefix(err, "list images");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(stmt, 0);

		if (array_grow(&imgs, &cap, count, sizeof(*imgs)) < 0) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list images");
			goto fail;
		}
		if (!id || image_load(st, id, &imgs[count], err) < 0) {
			berr_prefix(err, "list images");
			goto fail;
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_db_error(st, rc, "list images", err);
		goto fail;
	}
	if (store_tx_commit(&tx, err) < 0)
		goto fail;
	*out = imgs;
	*n = count;
	return 0;
fail:
	store_image_list_free(imgs, count);
	return -1;
}

/* Moves every layer whose refcount is 0 out of the store into a new array. */
static int take_unused_layers(struct store *st, struct store_layer **out, size_t *n,
			      struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_layer *layers = NULL;
	size_t count = 0, cap = 0;
	int rc;

	if (store_prepare(st,
			  "SELECT chain_id, diff_id, blob_digest, path, size FROM layers"
			  " WHERE refcount = 0 ORDER BY chain_id",
			  &stmt, err) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_layer *l;
		int failed = 0;

		if (array_grow(&layers, &cap, count, sizeof(*layers)) < 0) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "collect unused layers");
			goto fail;
		}
		l = &layers[count++];
		memset(l, 0, sizeof(*l));
		l->chain_id = store_column_dup(stmt, 0, &failed);
		l->diff_id = store_column_dup(stmt, 1, &failed);
		l->blob_digest = store_column_dup(stmt, 2, &failed);
		l->path = store_column_dup(stmt, 3, &failed);
		l->size = sqlite3_column_int64(stmt, 4);
		if (failed) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "collect unused layers");
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		store_db_error(st, rc, "collect unused layers", err);
		goto fail;
	}
	store_stmt_release(steal_ptr(&stmt));
	if (store_prepare(st, "DELETE FROM layers WHERE refcount = 0", &stmt, err) < 0 ||
	    store_step_done(st, stmt, "remove unused layers", err) < 0)
		goto fail;
	*out = layers;
	*n = count;
	return 0;
fail:
	store_layer_list_free(layers, count);
	return -1;
}

int store_image_users(struct store *st, const char *image_id, char ***users, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;

	if (store_prepare(st,
			  "SELECT user_id FROM image_users WHERE image_id = ?1 ORDER BY user_id",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, image_id, err) < 0 ||
	    store_column_strv(st, stmt, users, err) < 0)
		return berr_prefix(err, "users of image %s", image_id);
	return 0;
}

/* Refuses with BERR_CONFLICT when a container uses image ID. */
static int image_must_be_unused(struct store *st, const char *id, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int rc;

	if (store_prepare(st,
			  "SELECT user_id FROM image_users WHERE image_id = ?1"
			  " ORDER BY user_id LIMIT 1",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, id, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return berr_set(err, BERR_CONFLICT, 0,
				"image is in use by container %s (must be forced)",
				(const char *)sqlite3_column_text(stmt, 0));
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "look up image users", err);
	return 0;
}

int store_image_delete(struct store *st, const char *id, bool force, struct store_layer **freed,
		       size_t *n_freed, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *unref = NULL;
	_cleanup_stmt_ sqlite3_stmt *del = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };
	struct store_layer *layers = NULL;
	size_t count = 0;

	if (store_check_digest("image id", id, err) < 0)
		return berr_prefix(err, "delete image");
	if (store_tx_begin(st, &tx, 1, err) < 0 || store_image_must_exist(st, id, err) < 0 ||
	    (!force && image_must_be_unused(st, id, err) < 0))
		return berr_prefix(err, "delete image %s", id);
	/* Users, references and image_layers rows go with the image
	 * (ON DELETE CASCADE); the layers' counts are dropped first, while
	 * image_layers still says which they are. */
	if (store_prepare(st,
			  "UPDATE layers SET refcount = refcount - 1 WHERE chain_id IN"
			  " (SELECT chain_id FROM image_layers WHERE image_id = ?1)",
			  &unref, err) < 0 ||
	    store_bind_text(st, unref, 1, id, err) < 0 ||
	    store_step_done(st, unref, "release layers", err) < 0 ||
	    store_prepare(st, "DELETE FROM images WHERE id = ?1", &del, err) < 0 ||
	    store_bind_text(st, del, 1, id, err) < 0 ||
	    store_step_done(st, del, "remove image", err) < 0 ||
	    take_unused_layers(st, &layers, &count, err) < 0)
		return berr_prefix(err, "delete image %s", id);
	if (store_tx_commit(&tx, err) < 0) {
		store_layer_list_free(layers, count);
		return berr_prefix(err, "delete image %s", id);
	}
	*freed = layers;
	*n_freed = count;
	return 0;
}

int store_image_touch(struct store *st, const char *id, int64_t when, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;

	if (store_check_digest("image id", id, err) < 0)
		return -1;
	if (store_prepare(st, "UPDATE images SET last_used = ?1 WHERE id = ?2", &stmt, err) < 0 ||
	    store_bind_int64(st, stmt, 1, when, err) < 0 ||
	    store_bind_text(st, stmt, 2, id, err) < 0 ||
	    store_step_done(st, stmt, "touch image", err) < 0)
		return berr_prefix(err, "image %s", id);
	if (sqlite3_changes(st->db) == 0)
		return berr_set(err, BERR_NOT_FOUND, 0, "no such image: %s", id);
	return 0;
}

int store_image_user_add(struct store *st, const char *image_id, const char *user_id,
			 struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	if (store_check_digest("image id", image_id, err) < 0)
		return -1;
	if (!user_id || !*user_id)
		return berr_set(err, BERR_INVALID, 0, "image %s: empty user id", image_id);
	if (store_tx_begin(st, &tx, 1, err) < 0 || store_image_must_exist(st, image_id, err) < 0 ||
	    store_prepare(st,
			  "INSERT OR IGNORE INTO image_users (image_id, user_id) VALUES (?1, ?2)",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, image_id, err) < 0 ||
	    store_bind_text(st, stmt, 2, user_id, err) < 0 ||
	    store_step_done(st, stmt, "record image user", err) < 0 ||
	    store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "record %s as user of image %s", user_id, image_id);
	return 0;
}

int store_image_user_remove(struct store *st, const char *user_id, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;

	if (store_prepare(st, "DELETE FROM image_users WHERE user_id = ?1", &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, user_id, err) < 0 ||
	    store_step_done(st, stmt, "forget image user", err) < 0)
		return berr_prefix(err, "user %s", user_id);
	return 0;
}

int store_layer_lookup(struct store *st, const char *chain_id, struct store_layer **out,
		       struct berr **err)
{
	_cleanup_(store_layer_free_cleanup) struct store_layer *l = NULL;
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int failed = 0;
	int rc;

	if (store_check_digest("layer chain id", chain_id, err) < 0)
		return -1;
	if (store_prepare(
		    st,
		    "SELECT diff_id, blob_digest, path, size, refcount, content_size FROM layers"
		    " WHERE chain_id = ?1",
		    &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, chain_id, err) < 0)
		return berr_prefix(err, "layer %s", chain_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return berr_set(err, BERR_NOT_FOUND, 0, "no such layer: %s", chain_id);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "look up layer", err);
	l = calloc(1, sizeof(*l));
	if (!l)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "look up layer");
	l->chain_id = strdup(chain_id);
	l->diff_id = store_column_dup(stmt, 0, &failed);
	l->blob_digest = store_column_dup(stmt, 1, &failed);
	l->path = store_column_dup(stmt, 2, &failed);
	l->size = sqlite3_column_int64(stmt, 3);
	l->refcount = sqlite3_column_int64(stmt, 4);
	l->content_size = sqlite3_column_int64(stmt, 5);
	if (!l->chain_id || failed)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "look up layer");
	*out = steal_ptr(&l);
	return 0;
}
