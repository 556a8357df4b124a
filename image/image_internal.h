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

#endif
