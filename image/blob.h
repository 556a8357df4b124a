/* The content-addressed blob store: every blob (layer archive, config,
 * manifest) lives at <root>/blobs/sha256/<hex> under the name of its own
 * sha256.  A blob is streamed into <root>/tmp/, hashed on the way, checked,
 * synced and renamed into place, so a blob that is present is complete and
 * correct, and a failed write leaves nothing. */
#ifndef BERTH_IMAGE_BLOB_H
#define BERTH_IMAGE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/berr.h"
#include "lib/cleanup.h"
#include "lib/digest.h"

/* A size that is not known in advance (for the expected size of a write). */
#define IMAGE_BLOB_SIZE_UNKNOWN (-1)

struct image_blob_store;
struct image_blob_writer;

/* Opens the store under ROOT (the data root), creating <root>/blobs/sha256
 * and <root>/tmp when missing.  The root path is copied.  On success *out
 * owns the new store.  Sets BERR_INTERNAL when the directories cannot be
 * made or opened. */
int image_blob_store_open(const char *root, struct image_blob_store **out, struct berr **err);
void image_blob_store_free(struct image_blob_store *st);
DEFINE_CLEANUP(struct image_blob_store *, image_blob_store_free)

/* Removes the temporary files a killed writer left in <root>/tmp/.  Meant
 * for start-up, before any writer of this store is open.  Sets
 * BERR_INTERNAL. */
int image_blob_store_clean_tmp(struct image_blob_store *st, struct berr **err);

/* Starts a new blob.  EXPECTED is a digest the content must have, or NULL;
 * EXPECTED_SIZE the exact size it must have, or IMAGE_BLOB_SIZE_UNKNOWN;
 * MAX_SIZE bounds the bytes accepted (0 for no bound).  The store is
 * borrowed and must outlive the writer.  On success *out owns the writer,
 * released by image_blob_writer_abort() whether or not it was committed.
 * Sets BERR_INVALID for a malformed EXPECTED, BERR_INTERNAL otherwise. */
int image_blob_writer_open(struct image_blob_store *st, const char *expected, int64_t expected_size,
			   uint64_t max_size, struct image_blob_writer **out, struct berr **err);

/* Appends LEN bytes.  Passing the expected size or the bound is
 * BERR_INVALID; a write error BERR_INTERNAL.  After a failure the writer
 * can only be aborted. */
int image_blob_writer_write(struct image_blob_writer *w, const void *buf, size_t len,
			    struct berr **err);

/* Checks size and digest, syncs the data and moves it to its place; the
 * digest is written to OUT.  A blob that is already present is kept (its
 * content is the same).  A mismatch is BERR_INVALID ("digest mismatch:
 * expected ..., got ..."), other failures BERR_INTERNAL; on any failure the
 * temporary file is removed.  The writer is still to be released with
 * image_blob_writer_abort(). */
int image_blob_writer_commit(struct image_blob_writer *w, char out[DIGEST_STRING_SIZE],
			     struct berr **err);

/* Releases W (NULL is fine) and removes its temporary file unless it was
 * committed. */
void image_blob_writer_abort(struct image_blob_writer *w);
DEFINE_CLEANUP(struct image_blob_writer *, image_blob_writer_abort)

/* Reads FD to its end into a new blob, with the checks of
 * image_blob_writer_open(); FD is borrowed and not closed.  The digest is
 * written to OUT.  Sets the kinds of the writer functions. */
int image_blob_put_fd(struct image_blob_store *st, int fd, const char *expected,
		      int64_t expected_size, uint64_t max_size, char out[DIGEST_STRING_SIZE],
		      struct berr **err);

/* Opens blob DIGEST for reading; the caller owns the returned fd.  Sets
 * BERR_INVALID for a malformed digest, BERR_NOT_FOUND when the blob is
 * absent, BERR_INTERNAL otherwise. */
int image_blob_open(struct image_blob_store *st, const char *digest, struct berr **err);

/* Whether blob DIGEST is present; false for a malformed digest. */
bool image_blob_exists(struct image_blob_store *st, const char *digest);

/* The size in bytes of blob DIGEST in *size.  Sets the kinds of
 * image_blob_open(). */
int image_blob_size(struct image_blob_store *st, const char *digest, uint64_t *size,
		    struct berr **err);

/* Removes blob DIGEST.  Sets BERR_INVALID for a malformed digest,
 * BERR_NOT_FOUND when it is absent, BERR_INTERNAL otherwise. */
int image_blob_delete(struct image_blob_store *st, const char *digest, struct berr **err);

#endif
