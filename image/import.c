/* `docker import`: a rootfs archive becomes a one-layer image.  The archive
 * is stored as a blob (hashed on the way), unpacked from that blob into a
 * temporary layer directory, described by a new config, and recorded in one
 * transaction; every step has an undo entry, so a failure leaves the store
 * as it was. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "image/reference.h"
#include "lib/fsutil.h"
#include "lib/log.h"

/* Records the image and its reference in one transaction and gives the
 * layer directory its name; the undo covers every step. */
static int record(struct image_undo *u, const struct store_image_spec *spec,
		  const struct image_reference *ref, struct berr **err)
{
	struct store *db = u->st->db;
	_cleanup_(store_layer_free_cleanup) struct store_layer *known = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *repo = NULL;
	_cleanup_free_ char *old_id = NULL;

	if (ref) {
		name = image_reference_format(ref, err);
		repo = name ? image_reference_repository(ref, err) : NULL;
		if (!repo)
			return -1;
	}
	if (store_begin(db, err) < 0)
		return -1;
	u->in_tx = true;
	if (store_layer_lookup(db, spec->layers[0].chain_id, &known, &lerr) < 0 &&
	    lerr->kind != BERR_NOT_FOUND) {
		berr_move(err, &lerr);
		return -1;
	}
	if (known) {
		u->layer_known = true;
		if (known->blob_digest)
			snprintf(u->known_blob, sizeof(u->known_blob), "%s", known->blob_digest);
	}
	if (store_image_add(db, spec, err) < 0)
		return -1;
	if (ref) {
		struct store_ref sref = { .name = name, .repo = repo, .tag = ref->tag };

		if (store_ref_add(db, &sref, spec->id, &old_id, err) < 0)
			return -1;
	}
	/* The directory gets its name before the commit: killed in between,
	 * the next open removes a layer directory the database does not know;
	 * killed after, everything is in place. */
	if (!known) {
		if (rename(u->tmp_dir, u->final_dir) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "rename layer to %s",
					u->final_dir);
		u->renamed = true;
	}
	if (store_commit(db, err) < 0)
		return -1;
	u->in_tx = false;
	u->renamed = false;
	if (old_id)
		blog_msg(BLOG_INFO, "%s moved from %s to %s", name, old_id, spec->id);
	return 0;
}

int image_import(struct image_store *st, int fd, const char *const *changes, size_t n_changes,
		 const char *reference, const char *message, char out[DIGEST_STRING_SIZE],
		 struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int bfd = -1;
	struct image_undo u = { .st = st };
	struct image_layer_info info;
	struct store_layer layer;
	struct store_image_spec spec;
	char blob[DIGEST_STRING_SIZE], id[DIGEST_STRING_SIZE], chain[DIGEST_STRING_SIZE];
	struct timespec now;
	size_t len;

	/* What can be refused without touching the store comes first. */
	cfg = image_config_new(err);
	if (!cfg)
		return berr_prefix(err, "import");
	for (size_t i = 0; i < n_changes; i++)
		if (image_config_apply_change(cfg, changes[i], err) < 0)
			return berr_prefix(err, "import");
	if (reference && image_parse_tag(reference, &ref, err) < 0)
		return berr_prefix(err, "import");
	if (message && *message && !(cfg->comment = strdup(message)))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "import");

	clock_gettime(CLOCK_REALTIME, &now);
	if (image_put_blob(st, fd, NULL, 0, blob, u.layer_blob, err) < 0)
		goto fail;
	u.tmp_dir = str_printf("%s/import-%d-%ld.tmp-%.12s", st->layers_dir, (int)getpid(),
			       (long)now.tv_nsec, blob + strlen("sha256:"));
	if (!u.tmp_dir) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "import");
		goto fail;
	}
	bfd = image_blob_open(st->blobs, blob, err);
	if (bfd < 0 || image_layer_unpack(bfd, u.tmp_dir, &info, err) < 0)
		goto fail;

	image_chain_id(NULL, info.diff_id, chain);
	u.final_dir = str_printf("%s/%s", st->layers_dir, chain + strlen("sha256:"));
	if (!u.final_dir) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "import");
		goto fail;
	}
	if (image_config_add_diff_id(cfg, info.diff_id, err) < 0 ||
	    image_config_add_history(cfg, cfg->created, "import", message, false, err) < 0 ||
	    image_config_format(cfg, &text, &len, err) < 0 ||
	    image_put_blob(st, -1, text, len, id, u.config_blob, err) < 0)
		goto fail;

	layer = (struct store_layer){ .chain_id = chain,
				      .diff_id = info.diff_id,
				      .blob_digest = blob,
				      .path = u.final_dir,
				      .size = (int64_t)info.size,
				      .content_size = (int64_t)info.content_size };
	spec = (struct store_image_spec){ .id = id,
					  .config = text,
					  .created = now.tv_sec,
					  .size = (int64_t)info.content_size,
					  .layers = &layer,
					  .n_layers = 1 };
	if (record(&u, &spec, ref, err) < 0)
		goto fail;

	/* Committed: the blobs are the image's now, and a layer the store
	 * already had makes this unpack a spare copy.  A known layer without a
	 * blob took this one as its blob in the commit. */
	u.config_blob[0] = '\0';
	if (!u.layer_known || !u.known_blob[0] || strcmp(u.known_blob, blob) == 0)
		u.layer_blob[0] = '\0';
	/* Else the store keeps the layer with the blob it had (the same tar
	 * compressed another way), and this one, if it is new, goes. */
	image_undo_run(&u);
	memcpy(out, id, DIGEST_STRING_SIZE);
	return 0;
fail:
	image_undo_run(&u);
	return berr_prefix(err, "import");
}
