/* What the operations that add an image (import, commit) share: the undo
 * log that puts the store back as it was when one of them fails, writing
 * a blob while remembering whether it is new, and the tag a new image
 * gets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "image/reference.h"
#include "lib/fsutil.h"

void image_undo_run(struct image_undo *u)
{
	if (u->in_tx)
		store_rollback(u->st->db);
	if (u->renamed && rename(u->final_dir, u->tmp_dir) < 0)
		fs_remove_tree(u->final_dir, NULL);
	if (u->tmp_dir)
		fs_remove_tree(u->tmp_dir, NULL);
	if (u->config_blob[0])
		image_blob_delete(u->st->blobs, u->config_blob, NULL);
	if (u->layer_blob[0])
		image_blob_delete(u->st->blobs, u->layer_blob, NULL);
	free(u->tmp_dir);
	free(u->final_dir);
}

int image_put_blob(struct image_store *st, int fd, const void *data, size_t len,
		   char out[DIGEST_STRING_SIZE], char created[DIGEST_STRING_SIZE],
		   struct berr **err)
{
	_cleanup_(image_blob_writer_abort_cleanup) struct image_blob_writer *w = NULL;
	struct digest_ctx *ctx = digest_new();
	char buf[64 * 1024];
	char digest[DIGEST_STRING_SIZE];
	bool existed;

	if (!ctx)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "store blob");
	if (image_blob_writer_open(st->blobs, NULL, IMAGE_BLOB_SIZE_UNKNOWN, IMAGE_IMPORT_MAX, &w,
				   err) < 0)
		goto fail;
	if (fd < 0) {
		digest_update(ctx, data, len);
		if (image_blob_writer_write(w, data, len, err) < 0)
			goto fail;
	} else {
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				berr_set(err, BERR_INTERNAL, errno, "read archive");
				goto fail;
			}
			if (n == 0)
				break;
			digest_update(ctx, buf, (size_t)n);
			if (image_blob_writer_write(w, buf, (size_t)n, err) < 0)
				goto fail;
		}
	}
	digest_final(ctx, digest);
	digest_free(ctx);
	ctx = NULL;
	existed = image_blob_exists(st->blobs, digest);
	if (image_blob_writer_commit(w, out, err) < 0)
		return -1;
	if (!existed)
		memcpy(created, out, DIGEST_STRING_SIZE);
	return 0;
fail:
	digest_free(ctx);
	return -1;
}

int image_parse_tag(const char *reference, struct image_reference **out, struct berr **err)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;

	if (image_reference_parse(reference, &ref, err) < 0)
		return -1;
	if (ref->digest)
		return berr_set(err, BERR_INVALID, 0,
				"refusing to create a tag with a digest reference");
	*out = steal_ptr(&ref);
	return 0;
}
