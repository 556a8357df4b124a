/* Local volumes: a directory per volume under the volumes root
 * (<data-root>/volumes/<name>/_data, as Docker keeps them), recorded in
 * the metadata store, and the copy of an image's content into a new one. */
#ifndef BERTH_VOLUME_VOLUME_H
#define BERTH_VOLUME_VOLUME_H

#include <stdbool.h>

#include <jansson.h>

#include "lib/berr.h"
#include "store/store.h"

/* Under the data root. */
#define VOLUME_DIR "volumes"
/* The only driver. */
#define VOLUME_DRIVER_LOCAL "local"

/* Refuses NAME unless it is a local volume's: "[a-zA-Z0-9][a-zA-Z0-9_.-]+",
 * with Docker's message.  Sets BERR_INVALID. */
int volume_name_check(const char *name, struct berr **err);

/* The directory containers mount for volume NAME under ROOT (the volumes
 * root), as a new string; NULL on no memory. */
char *volume_mountpoint(const char *root, const char *name);

/* What volume_create() makes. */
struct volume_spec {
	const char *name;
	const char *driver;   /* NULL: local */
	const json_t *labels; /* an object of strings; NULL: none */
	const json_t *options;
	bool anonymous;
};

/* Makes volume SPEC under ROOT, its directory and its record, or finds it
 * made already (*created false then; as Docker, the same name gives the same
 * volume).  *out (optional) receives the record.  Sets BERR_INVALID for a
 * bad name or option, BERR_NOT_FOUND for another driver, BERR_INTERNAL. */
int volume_create(struct store *db, const char *root, const struct volume_spec *spec,
		  struct store_volume **out, bool *created, struct berr **err);

/* Removes volume NAME, its record and its directory, when no container
 * uses it.  Sets BERR_NOT_FOUND, BERR_CONFLICT (in use), BERR_INTERNAL. */
int volume_remove(struct store *db, const char *root, const char *name, struct berr **err);

/* Docker's JSON of volume V under ROOT (Name, Driver, Mountpoint,
 * CreatedAt, Labels, Options, Scope); NULL on no memory. */
json_t *volume_json(const struct store_volume *v, const char *root);

/* The bytes the files under volume NAME's directory take; 0 when it cannot
 * be read. */
int64_t volume_size(const char *root, const char *name);

/* Whether the directory FD holds nothing. */
bool volume_dir_is_empty(int fd);

/* Copies what the directory FROM (an fd inside a container's root file
 * system) holds into the volume directory MOUNTPOINT when that is empty,
 * as Docker fills a new volume from the image: files, directories,
 * symlinks and special files with their owners, modes and times, and
 * FROM's owner and mode onto MOUNTPOINT.  Symlinks are copied, never
 * followed. */
int volume_populate(int from, const char *mountpoint, struct berr **err);

#endif
