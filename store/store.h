/* berth's metadata store: images, their layers, references and users, and
 * containers, kept in SQLite at <data-root>/berth.db.  Every change runs in
 * a transaction, so a crash leaves either the previous or the next state,
 * and layers shared by several images are stored once with a reference
 * count. */
#ifndef BERTH_STORE_STORE_H
#define BERTH_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

/* The schema version this berth writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 5

/* The database file inside the data root. */
#define STORE_DB_NAME "berth.db"

struct store;

/* A layer as stored: an unpacked directory shared by every image whose
 * chain holds it. */
struct store_layer {
	char *chain_id;	   /* "sha256:..": the layer together with its parents */
	char *diff_id;	   /* digest of the uncompressed tar */
	char *blob_digest; /* digest of the compressed blob; NULL when unknown */
	char *path;	   /* the unpacked directory (an overlay lower dir) */
	int64_t size;	   /* bytes of the uncompressed tar */
	/* Bytes of file content once unpacked, as Docker counts a layer's size
	 * (regular files once per inode, symlink targets); 0 when unknown. */
	int64_t content_size;
	int64_t refcount; /* images using it; filled by lookups, ignored on add */
};

/* A name that points at an image: NAME is the full normalised reference
 * ("docker.io/library/alpine:3.19" or "...@sha256:.."), REPO its repository
 * ("docker.io/library/alpine"), and exactly one of TAG and DIGEST is set. */
struct store_ref {
	char *name;
	char *repo;
	char *tag;
	char *digest;
};

/* An image as stored; every field is owned by the struct. */
struct store_image {
	char *id;     /* the config digest */
	char *config; /* the config JSON text */
	int64_t created;
	int64_t size;
	int64_t last_used; /* 0 when never used */
	char **layers;	   /* chain ids, bottom layer first */
	size_t n_layers;
	struct store_ref *refs; /* sorted by name */
	size_t n_refs;
};

/* What store_image_add() records; everything is borrowed. */
struct store_image_spec {
	const char *id;
	const char *config;
	int64_t created;
	int64_t size;
	const struct store_layer *layers; /* bottom layer first */
	size_t n_layers;
};

/* Opens (creating when missing) DATA_ROOT/berth.db, brings its schema up to
 * STORE_SCHEMA_VERSION and turns on WAL, foreign keys and a busy timeout.
 * DATA_ROOT must exist.  Several handles, in one process or several, may be
 * open at once.  On success *out owns the handle (store_close()).  Sets
 * BERR_INVALID for a database that is not berth's or has a newer schema,
 * BERR_UNAVAILABLE when it stays locked, BERR_INTERNAL otherwise. */
int store_open(const char *data_root, struct store **out, struct berr **err);
void store_close(struct store *st);
DEFINE_CLEANUP(struct store *, store_close)

/* A transaction the caller spans over several calls.  Calls made inside it
 * join it (a failing call undoes only its own part); store_commit() makes it
 * all durable (and rolls it back when it cannot), store_rollback() drops it.  BEGIN takes the write
 * lock at once so that a later write cannot fail on a stale snapshot.  Sets BERR_UNAVAILABLE when
 * the database stays locked, BERR_CONFLICT when a transaction is already open, BERR_INTERNAL
 * otherwise. */
int store_begin(struct store *st, struct berr **err);
int store_commit(struct store *st, struct berr **err);
/* Never fails from the caller's point of view: a transaction that cannot be
 * rolled back is rolled back by SQLite when the handle closes. */
void store_rollback(struct store *st);

/* Records image SPEC and its layers in one transaction: a layer already
 * stored (same chain id) gains one reference instead of a second row, and
 * keeps its recorded path.  Sets
 * BERR_INVALID for a malformed id, digest or missing field, BERR_CONFLICT when
 * the image already exists or a constraint fails; nothing is recorded then. */
int store_image_add(struct store *st, const struct store_image_spec *spec, struct berr **err);

/* Loads the image with the full id ID into *out (owned by the caller,
 * store_image_free()).  Sets BERR_NOT_FOUND or BERR_INVALID. */
int store_image_lookup(struct store *st, const char *id, struct store_image **out,
		       struct berr **err);
/* Loads the one image whose id starts with PREFIX: hex digits, with or
 * without "sha256:".  Sets BERR_CONFLICT when several images match,
 * BERR_NOT_FOUND when none does, BERR_INVALID for a malformed prefix. */
int store_image_lookup_prefix(struct store *st, const char *prefix, struct store_image **out,
			      struct berr **err);
/* Loads the image the normalised reference NAME points at.  Sets
 * BERR_NOT_FOUND. */
int store_image_lookup_ref(struct store *st, const char *name, struct store_image **out,
			   struct berr **err);
/* Loads every image, newest first, into a new array *out of *n images
 * (store_image_list_free()). */
int store_image_list(struct store *st, struct store_image ***out, size_t *n, struct berr **err);

/* Deletes image ID with its references and users.  Refuses with
 * BERR_CONFLICT when a container uses it, unless FORCE.  Every layer whose
 * reference count drops to 0 is removed from the store and returned in a new
 * array *freed of *n_freed layers (store_layer_list_free()): its directory and
 * blob are the caller's to remove once the deletion is committed (when this
 * call returns, or after store_commit() inside the caller's transaction).  Sets
 * BERR_NOT_FOUND, BERR_CONFLICT, BERR_INVALID. */
int store_image_delete(struct store *st, const char *id, bool force, struct store_layer **freed,
		       size_t *n_freed, struct berr **err);

/* Sets the last-used time of image ID to WHEN (unix seconds).  Sets
 * BERR_NOT_FOUND. */
int store_image_touch(struct store *st, const char *id, int64_t when, struct berr **err);

/* Records that USER_ID (a container id) uses image IMAGE_ID; recording it
 * twice is harmless.  Sets BERR_NOT_FOUND when the image does not exist. */
int store_image_user_add(struct store *st, const char *image_id, const char *user_id,
			 struct berr **err);
/* The ids of the containers that use image IMAGE_ID, sorted; *users is a
 * NULL-terminated vector the caller frees with strv_free (empty when none). */
int store_image_users(struct store *st, const char *image_id, char ***users, struct berr **err);
/* Forgets USER_ID's use of every image; no use at all is not an error. */
int store_image_user_remove(struct store *st, const char *user_id, struct berr **err);

/* Points REF at image IMAGE_ID.  When REF pointed at another image it moves,
 * and *old_id (when OLD_ID is not NULL) receives that image's id, owned by the
 * caller, so the caller can report the untag; otherwise *old_id is NULL.
 * Sets BERR_INVALID for a malformed reference, BERR_NOT_FOUND when the image
 * does not exist. */
int store_ref_add(struct store *st, const struct store_ref *ref, const char *image_id,
		  char **old_id, struct berr **err);
/* Removes reference NAME; *image_id (when IMAGE_ID is not NULL) receives the
 * id it pointed at, owned by the caller.  Sets BERR_NOT_FOUND. */
int store_ref_remove(struct store *st, const char *name, char **image_id, struct berr **err);

/* Loads layer CHAIN_ID into *out (store_layer_free()).  Sets BERR_NOT_FOUND. */
int store_layer_lookup(struct store *st, const char *chain_id, struct store_layer **out,
		       struct berr **err);

/* Every blob digest the database refers to (image configs and layer blobs),
 * sorted, as a NULL-terminated vector the caller frees with strv_free:
 * what a blob store clean-up must keep. */
int store_blob_digests_in_use(struct store *st, char ***out, struct berr **err);

void store_image_free(struct store_image *img);
void store_image_list_free(struct store_image **imgs, size_t n);
void store_layer_free(struct store_layer *layer);
void store_layer_list_free(struct store_layer *layers, size_t n);
DEFINE_CLEANUP(struct store_image *, store_image_free)
DEFINE_CLEANUP(struct store_layer *, store_layer_free)

/*
 * Containers.  The engine owns each container's document (DOC: Config,
 * HostConfig, State... as JSON text); the store keeps it with the columns a
 * lookup needs, and records the container as a user of its image so that
 * the image cannot be removed under it.
 */

/* A container as stored; every field is owned by the struct. */
struct store_container {
	char *id;	 /* 64 lowercase hex digits */
	char *name;	 /* without Docker's leading "/" */
	char *image_id;	 /* "sha256:.." */
	int64_t created; /* unix seconds */
	char *doc;	 /* JSON text */
};

/* Records container C (borrowed) and its use of image C->image_id in one
 * transaction.  Sets BERR_INVALID for a malformed id, image id or empty
 * name or document, BERR_NOT_FOUND when the image is not stored,
 * BERR_CONFLICT with Docker's message when the name is taken ("Conflict. The
 * container name \"/x\" is already in use by container \"<id>\". You have
 * to remove (or rename) that container to be able to reuse that name.") or
 * the id exists. */
int store_container_add(struct store *st, const struct store_container *c, struct berr **err);

/* Replaces the document of container ID by DOC.  Sets BERR_NOT_FOUND. */
int store_container_update_doc(struct store *st, const char *id, const char *doc,
			       struct berr **err);

/* Renames container ID to NAME (without "/") and stores DOC with it, in
 * one transaction.  Sets BERR_CONFLICT with Docker's message when NAME is
 * taken, BERR_NOT_FOUND. */
int store_container_rename(struct store *st, const char *id, const char *name, const char *doc,
			   struct berr **err);

/* Loads the container REF names as Docker finds it: its full id, else its
 * exact name (with or without the leading "/"), else a unique prefix of its
 * id.  On success *out owns the container (store_container_free()).  Sets
 * BERR_NOT_FOUND "No such container: REF", BERR_CONFLICT "Multiple IDs found
 * with provided prefix: REF", BERR_INVALID for an empty REF. */
int store_container_lookup(struct store *st, const char *ref, struct store_container **out,
			   struct berr **err);

/* Loads every container, newest first, into a new array *out of *n
 * (store_container_list_free()). */
int store_container_list(struct store *st, struct store_container ***out, size_t *n,
			 struct berr **err);

/* What the container list (`docker ps`) shows of a container and filters
 * it on, without its document: the row's columns and the members SQLite
 * keeps in columns of their own as it writes the document, so that they
 * always agree with it.  A member the document lacks (or a document that
 * is not JSON) is NULL; objects and arrays are JSON text, NULL when the
 * member has another type.  One allocation holds the struct and its
 * strings: free() frees it. */
struct store_container_entry {
	const char *id;
	const char *name; /* without Docker's leading "/" */
	const char *image_id;
	int64_t created;
	const char *status;	   /* State.Status */
	int64_t exit_code;	   /* State.ExitCode (0 when missing) */
	int64_t pid;		   /* State.Pid (0 when missing) */
	const char *started_at;	   /* State.StartedAt */
	const char *finished_at;   /* State.FinishedAt */
	const char *health;	   /* State.Health.Status */
	const char *path;	   /* Path */
	const char *args;	   /* Args: an array */
	const char *image;	   /* Config.Image: the reference it was made from */
	const char *labels;	   /* Config.Labels: an object */
	const char *exposed_ports; /* Config.ExposedPorts: an object */
	const char *network_mode;  /* HostConfig.NetworkMode */
	const char *mounts;	   /* Mounts: an array */
};

/* Every container's entry, newest first (as store_container_list()), in a
 * new array *out of *n (store_container_entries_free()). */
int store_container_entries(struct store *st, struct store_container_entry ***out, size_t *n,
			    struct berr **err);
void store_container_entries_free(struct store_container_entry **list, size_t n);

/* Deletes container ID and its use of its image.  Sets BERR_NOT_FOUND. */
int store_container_delete(struct store *st, const char *id, struct berr **err);

/*
 * Volumes.  The engine owns a volume's directory; the store keeps its
 * record.  Its users are the containers whose document's Mounts name it
 * (an entry of Type "volume" and that Name).
 */

/* A volume as stored; every field is owned by the struct. */
struct store_volume {
	char *name;
	char *driver;	 /* "local" */
	int64_t created; /* unix seconds */
	char *labels;	 /* a JSON object's text */
	char *options;	 /* a JSON object's text: the driver's options */
	bool anonymous;	 /* named by berth, not by its user */
};

/* Records volume V (borrowed) unless one of its name is recorded already;
 * *added tells which.  Sets BERR_INVALID for an empty name. */
int store_volume_add(struct store *st, const struct store_volume *v, bool *added,
		     struct berr **err);

/* Loads volume NAME into *out (store_volume_free()).  Sets BERR_NOT_FOUND
 * "get NAME: no such volume". */
int store_volume_lookup(struct store *st, const char *name, struct store_volume **out,
			struct berr **err);

/* Loads every volume, by name, into a new array *out of *n
 * (store_volume_list_free()). */
int store_volume_list(struct store *st, struct store_volume ***out, size_t *n, struct berr **err);

/* The ids of the containers that use volume NAME, sorted, as a
 * NULL-terminated vector (strv_free; empty when none). */
int store_volume_users(struct store *st, const char *name, char ***users, struct berr **err);

/* Deletes the record of volume NAME when no container uses it.  Sets
 * BERR_NOT_FOUND, BERR_CONFLICT with Docker's message ("remove NAME: volume
 * is in use - [ID, ...]"). */
int store_volume_delete(struct store *st, const char *name, struct berr **err);

void store_volume_free(struct store_volume *v);
void store_volume_list_free(struct store_volume **list, size_t n);
DEFINE_CLEANUP(struct store_volume *, store_volume_free)

void store_container_free(struct store_container *c);
void store_container_list_free(struct store_container **list, size_t n);
DEFINE_CLEANUP(struct store_container *, store_container_free)

#endif
