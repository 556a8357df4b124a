/* The image config: the JSON document an image ID is the digest of
 * (application/vnd.docker.container.image.v1+json, the shape of OCI's image
 * config).  Parsing it with bounded size, building and formatting it, and
 * the `--change` instructions of `docker import` that edit its run config. */
#ifndef BERTH_IMAGE_CONFIG_H
#define BERTH_IMAGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

/* Largest config document accepted. */
#define IMAGE_CONFIG_MAX (4 * 1024 * 1024)

/* The run config a container starts from ("config" in the document).
 * NULL vectors and strings mean "not set". */
struct image_run_config {
	char *user;
	char **env; /* "KEY=value" */
	char **cmd;
	char **entrypoint;
	char *working_dir;
	char **label_keys; /* labels, in the order they were set */
	char **label_values;
	size_t n_labels;
	char **exposed_ports; /* "80/tcp" */
	char **volumes;	      /* "/data" */
	char *stop_signal;
	/* The members this struct does not model (Healthcheck, OnBuild,
	 * Shell...), kept as they came so that a config read and written
	 * again loses nothing; NULL when none. */
	json_t *extra;
};

/* One step of how the image was made. */
struct image_history {
	char *created;
	char *created_by;
	char *comment;
	char *author;
	bool empty_layer;
};

/* A parsed config; every field is owned by the struct. */
struct image_config {
	char *architecture;
	char *os;
	char *created; /* RFC 3339 with nanoseconds */
	char *author;
	char *comment;
	struct image_run_config config;
	char **diff_ids; /* "sha256:..", bottom layer first */
	struct image_history *history;
	size_t n_history;
	json_t *extra; /* unmodelled members, as for the run config */
};

/* A new config for this machine: its architecture ("amd64" on x86_64), os
 * "linux", created now, no layers.  The caller owns it.  Sets BERR_INTERNAL
 * when out of memory. */
struct image_config *image_config_new(struct berr **err);
void image_config_free(struct image_config *cfg);
DEFINE_CLEANUP(struct image_config *, image_config_free)

/* Parses LEN bytes of TEXT.  On success *out owns a new config.  Sets
 * BERR_INVALID naming the JSON path of a wrong value (or for more than
 * IMAGE_CONFIG_MAX bytes), BERR_INTERNAL when out of memory. */
int image_config_parse(const char *text, size_t len, struct image_config **out, struct berr **err);

/* The document as a new JSON object the caller owns (one reference). Sets
 * BERR_INTERNAL when out of memory. */
json_t *image_config_to_json(const struct image_config *cfg, struct berr **err);
/* Just the run config, as `docker image inspect` shows it in "Config". */
json_t *image_run_config_to_json(const struct image_run_config *rc, struct berr **err);

/* The document as compact JSON text that *out owns, *len bytes long: the
 * bytes to store, whose digest is the image ID.  Sets BERR_INTERNAL. */
int image_config_format(const struct image_config *cfg, char **out, size_t *len, struct berr **err);

/* Appends DIFF_ID to rootfs.diff_ids.  Sets BERR_INVALID for a malformed
 * digest, BERR_INTERNAL when out of memory. */
int image_config_add_diff_id(struct image_config *cfg, const char *diff_id, struct berr **err);

/* Appends a history entry; the strings are copied, COMMENT may be NULL.
 * Sets BERR_INTERNAL when out of memory. */
int image_config_add_history(struct image_config *cfg, const char *created, const char *created_by,
			     const char *comment, bool empty_layer, struct berr **err);

/* Applies one Dockerfile instruction of `docker import --change` (CMD,
 * ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL) to the
 * run config.  CHANGE is borrowed.  Sets BERR_INVALID with Docker's message
 * ("dockerfile parse error line 1: unknown instruction: FOO") for anything
 * else or a malformed argument; the config is unchanged then. */
int image_config_apply_change(struct image_config *cfg, const char *change, struct berr **err);

#endif
