/* What a container changed, and keeping it: the container diff (`docker
 * diff`), `docker commit` of the changes as a new layer and image, and
 * `docker export` of a whole container file system.  A container's changes
 * are its overlay upper directory; its image's layers are the lower ones. */
#ifndef BERTH_IMAGE_CHANGES_H
#define BERTH_IMAGE_CHANGES_H

#include <stddef.h>

#include "image/image.h"
#include "lib/berr.h"

/* Docker's change kinds, with Docker's numbers ("Kind" in the API). */
enum image_change_kind {
	IMAGE_CHANGE_MODIFY = 0, /* "C" */
	IMAGE_CHANGE_ADD = 1,	 /* "A" */
	IMAGE_CHANGE_DELETE = 2, /* "D" */
};

struct image_change {
	char *path; /* absolute inside the container: "/etc/hostname" */
	enum image_change_kind kind;
};

void image_changes_free(struct image_change *changes, size_t n);

/* The changes of the upper directory UPPER over the N lower directories
 * LOWER_DIRS (lowest first), as `docker diff` lists them, sorted by path.
 * Docker compares the container's file system with the image's: an entry
 * absent from the image is an addition, and so is everything below it; an
 * overlay whiteout of an image entry is a deletion, as is every image entry
 * an opaque directory no longer holds (what is below a deleted directory is
 * not listed); an entry in both is a modification when its type, mode,
 * owner, device, file capabilities or, not for a directory, size or mtime
 * differ; a directory with any change below it is a modification.  *out is
 * a new array of *n_out changes (image_changes_free()).  Sets
 * BERR_NOT_FOUND when UPPER or a lower dir is missing, BERR_INTERNAL
 * otherwise. */
int image_changes_list(const char *const *lower_dirs, size_t n, const char *upper,
		       struct image_change **out, size_t *n_out, struct berr **err);

/* The letter `docker diff` prints for KIND: 'C', 'A' or 'D'. */
char image_change_letter(enum image_change_kind kind);

/* What `docker commit` records beside the new layer; every field is
 * borrowed and may be NULL (N_CHANGES 0). */
struct image_commit_opts {
	const char *reference;	    /* the new tag: "repo:tag", "repo" */
	const char *comment;	    /* --message */
	const char *author;	    /* --author */
	const char *const *changes; /* --change Dockerfile instructions */
	size_t n_changes;
	/* The container's own run config (the "config" object of an image
	 * config: Cmd, Env, Entrypoint...), which replaces the parent's before
	 * the changes apply; NULL keeps the parent's. */
	const char *run_config_json;
	const char *container_id; /* recorded as "container" */
	/* The history line; NULL for the container's Cmd (from
	 * run_config_json), or "/bin/sh" when there is none. */
	const char *created_by;
};

/* `docker commit`: packs UPPER (the container's changes, overlay whiteouts
 * turned back into ".wh." entries) into a new uncompressed layer on top of
 * the image PARENT_ID (a full id), whose config, extended with the layer's
 * DiffID, a history entry and OPTS, becomes the new image, recorded with
 * OPTS->reference in one transaction.  An UPPER that packs to an empty tar
 * adds no layer, as in Docker's commit: the image has its parent's layers
 * and a history entry marked empty_layer.  OPTS may be NULL.  The new id
 * goes to OUT.  A failure leaves the store as it was.  Sets BERR_NOT_FOUND
 * when the parent or UPPER is missing, BERR_INVALID for a bad change,
 * reference or run config, BERR_INTERNAL otherwise. */
int image_commit(struct image_store *st, const char *parent_id, const char *upper,
		 const struct image_commit_opts *opts, char out[DIGEST_STRING_SIZE],
		 struct berr **err);

/* `docker export`: writes the whole file system of a container to FD
 * (borrowed) as one tar: the N LOWER_DIRS with UPPER on top, mounted
 * read-only at a private temporary place for the time it takes (UPPER NULL
 * exports the image's layers alone; a single directory is packed as it
 * is).  Nothing stays mounted afterwards.  Sets BERR_NOT_FOUND for a
 * missing directory, BERR_INVALID when there is none at all, BERR_INTERNAL
 * otherwise. */
int image_export(const char *const *lower_dirs, size_t n, const char *upper, int fd,
		 struct berr **err);

#endif
