/* What the files of the image store share and nothing outside them sees:
 * the layout of struct image_store. */
#ifndef BERTH_IMAGE_IMAGE_INTERNAL_H
#define BERTH_IMAGE_IMAGE_INTERNAL_H

#include "image/image.h"

struct image_store {
	char *root;
	char *layers_dir; /* <root>/layers */
	struct image_blob_store *blobs;
	struct store *db;
	int lock_fd; /* <root>/lock, held shared while the store is open */
};

struct image_reference;

/* What an operation that adds an image made so far, undone on failure by
 * image_undo_run() in the reverse order. */
struct image_undo {
	struct image_store *st;
	char layer_blob[DIGEST_STRING_SIZE]; /* "" unless this operation added it */
	char config_blob[DIGEST_STRING_SIZE];
	char *tmp_dir; /* the unpacked layer before it has its name */
	char *final_dir;
	bool renamed;			     /* tmp_dir went to final_dir, not yet committed */
	bool layer_known;		     /* the store had the layer before */
	char known_blob[DIGEST_STRING_SIZE]; /* its recorded blob, "" when none */
	bool in_tx;
};

/* Rolls back the open transaction, removes the layer directory and the
 * blobs the operation added, and frees the paths. */
void image_undo_run(struct image_undo *u);

/* Writes the bytes read from FD, or the LEN bytes at DATA when FD is -1,
 * as a new blob of at most IMAGE_IMPORT_MAX bytes; its digest goes to OUT,
 * and to CREATED as well when the blob was not there before (so an undo
 * removes only what was added). */
int image_put_blob(struct image_store *st, int fd, const void *data, size_t len,
		   char out[DIGEST_STRING_SIZE], char created[DIGEST_STRING_SIZE],
		   struct berr **err);

/* Parses REFERENCE, the tag a new image gets, into *out (the caller's);
 * a digest reference is BERR_INVALID as in Docker. */
int image_parse_tag(const char *reference, struct image_reference **out, struct berr **err);

#endif
