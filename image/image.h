/* The image store: one data root holding content-addressed blobs
 * (<root>/blobs), unpacked layers shared by chain id (<root>/layers/<hex>)
 * and the metadata database (<root>/berth.db).  Images are looked up, listed,
 * tagged, removed and imported here with Docker's rules, and a failed
 * operation leaves the store as it was. */
#ifndef BERTH_IMAGE_IMAGE_H
#define BERTH_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "image/blob.h"
#include "image/config.h"
#include "lib/berr.h"
#include "lib/cleanup.h"
#include "lib/digest.h"
#include "store/store.h"

/* The data root when none is given. */
#define IMAGE_STORE_DEFAULT_ROOT "/var/lib/berth"

/* Largest archive `docker import` accepts. */
#define IMAGE_IMPORT_MAX ((uint64_t)64 * 1024 * 1024 * 1024)

struct image_store;

/* Opens the store at ROOT (NULL for IMAGE_STORE_DEFAULT_ROOT), creating its
 * directories and database when missing.  Every open store holds the lock
 * file <root>/lock shared (flock(2)) until image_store_free().  When no
 * other process has the store open (the lock can be taken exclusively), it
 * first removes what killed operations left: blob temp files,
 * layers/<name>.tmp-* directories, layer directories the database does not
 * know and blobs the database does not refer to; otherwise the clean-up is
 * left for a later open.  The path is copied.  On success *out owns the
 * store.  Sets the kinds of store_open() and BERR_INTERNAL. */
int image_store_open(const char *root, struct image_store **out, struct berr **err);
void image_store_free(struct image_store *st);
DEFINE_CLEANUP(struct image_store *, image_store_free)

/* The data root and the metadata database; borrowed from ST. */
const char *image_store_root(const struct image_store *st);
struct store *image_store_db(struct image_store *st);
struct image_blob_store *image_store_blobs(struct image_store *st);

/* The chain id of layer DIFF_ID on top of PARENT (NULL for the bottom
 * layer), per the OCI image spec: the bottom layer's diff id, else
 * sha256(parent + " " + diff_id) of the text. */
void image_chain_id(const char *parent, const char *diff_id, char out[DIGEST_STRING_SIZE]);

/* Finds the image NAME names as Docker does: a full id ("sha256:<hex>" or
 * the 64 hex digits), else a reference ("busybox" means
 * docker.io/library/busybox:latest), else a unique id prefix.  NAME is
 * borrowed; on success *out owns the image (store_image_free()).  Sets
 * BERR_NOT_FOUND "No such image: NAME", BERR_CONFLICT for an ambiguous
 * prefix, BERR_INTERNAL. */
int image_store_lookup(struct image_store *st, const char *name, struct store_image **out,
		       struct berr **err);

/* Every image, newest first, in a new array (store_image_list_free()). */
int image_store_list(struct image_store *st, struct store_image ***out, size_t *n,
		     struct berr **err);

/* Points reference NEW_REF (a tag, "busybox" meaning busybox:latest) at the
 * image TARGET names.  When the tag pointed at another image, *old_id (when
 * OLD_ID is not NULL) receives that image's id, owned by the caller; NULL
 * otherwise.  Sets BERR_INVALID for a malformed reference or one with a
 * digest, BERR_NOT_FOUND when TARGET does not exist. */
int image_store_tag(struct image_store *st, const char *target, const char *new_ref, char **old_id,
		    struct berr **err);

/* What image_store_remove() did. */
struct image_remove_result {
	char **untagged; /* familiar references removed; owned */
	char *deleted;	 /* the image id when the image itself went; owned */
};
void image_remove_result_clear(struct image_remove_result *res);

/* Whether container USER_ID, which uses an image, is running; ARG is the
 * caller's.  Lets rmi tell Docker's hard conflicts from soft ones. */
typedef bool (*image_user_running_fn)(const char *user_id, void *arg);

/* `docker rmi NAME` with Docker's rules: by a reference that is one of
 * several of its image, only that reference goes.  Otherwise the image goes
 * with all its references, and the layers no other image uses lose their
 * directories and blobs after the database commit; by id, an image with
 * references in several repositories needs FORCE.  An image that
 * containers use (RUNNING tells which of them run; NULL counts them all as
 * running) is refused: always while one runs, else unless FORCE, and then
 * only its references go, the image staying for its containers.  *res (may
 * be NULL) says what happened and is the caller's to clear.  Sets
 * BERR_NOT_FOUND, BERR_CONFLICT with Docker's messages, BERR_INTERNAL. */
int image_store_remove(struct image_store *st, const char *name, bool force,
		       image_user_running_fn running, void *arg, struct image_remove_result *res,
		       struct berr **err);

/* The unpacked layer directories of IMG, lowest first, in a new string
 * vector the caller owns (strv_free()).  Sets BERR_NOT_FOUND when a layer
 * is missing from the database, BERR_INTERNAL. */
int image_store_layer_dirs(struct image_store *st, const struct store_image *img, char ***out,
			   struct berr **err);

/* The parsed config of IMG into *out (image_config_free()).  Sets
 * BERR_INVALID for a broken config. */
int image_store_config(const struct store_image *img, struct image_config **out, struct berr **err);

/* `docker image inspect` of IMG as a new JSON object *out owns: Id,
 * RepoTags, RepoDigests, Parent, Comment, Created, Container,
 * ContainerConfig, DockerVersion, Author, Config, Architecture, Os, Size,
 * VirtualSize, GraphDriver, RootFS, Metadata.  Sets BERR_INVALID for a
 * broken config, BERR_INTERNAL. */
int image_inspect_json(struct image_store *st, const struct store_image *img, json_t **out,
		       struct berr **err);

/* `docker import`: reads a rootfs archive (tar, tar.gz or tar.zst) from FD
 * (borrowed, read to its end), stores it as a blob and as an unpacked
 * layer, builds a config with the N_CHANGES Dockerfile instructions CHANGES
 * and MESSAGE (may be NULL) as its comment, and records the image with
 * REFERENCE (may be NULL) in one transaction.  The new image id goes to
 * OUT.  Any failure leaves the store as it was.  Sets BERR_INVALID for a
 * bad change, reference or archive, BERR_CONFLICT, BERR_INTERNAL. */
int image_import(struct image_store *st, int fd, const char *const *changes, size_t n_changes,
		 const char *reference, const char *message, char out[DIGEST_STRING_SIZE],
		 struct berr **err);

#endif
