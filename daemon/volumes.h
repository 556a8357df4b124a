/* Volumes over the engine: what the Engine API's volume routes do (create,
 * inspect, list, remove), over the local volumes of volume/ and the
 * containers that use them. */
#ifndef BERTH_DAEMON_VOLUMES_H
#define BERTH_DAEMON_VOLUMES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/berr.h"

struct daemon;

/* POST /volumes/create of BODY (Name, Driver, DriverOpts, Labels; no Name:
 * one berth draws): the volume's JSON in *out, *created false when one of
 * that name was there (and is what *out shows).  Sets BERR_INVALID with
 * Docker's messages, BERR_NOT_FOUND for a driver other than "local". */
int daemon_volume_create(struct daemon *d, const json_t *body, json_t **out, bool *created,
			 struct berr **err);

/* GET /volumes/NAME.  Sets BERR_NOT_FOUND "get NAME: no such volume". */
int daemon_volume_inspect(struct daemon *d, const char *name, json_t **out, struct berr **err);

/* Refuses, with Docker's messages for volumes, a key of FILTERS (parsed: an
 * object of arrays) not in KNOWN (NULL-terminated) and a dangling value
 * other than true, false, 1 and 0.  Sets BERR_INVALID. */
int daemon_volume_filters_check(const json_t *filters, const char *const *known, struct berr **err);

/* The volumes FILTERS (parsed: an object of arrays of name, label,
 * dangling, driver; NULL: none) keeps, by name, as a new array of their
 * JSON in *out; with USAGE each has Docker's UsageData (Size, RefCount).
 * Sets BERR_INVALID for another key or a bad dangling value. */
int daemon_volume_list(struct daemon *d, const json_t *filters, bool usage, json_t **out,
		       struct berr **err);

/* DELETE /volumes/NAME: *size (optional) receives the bytes it held.  Sets
 * BERR_NOT_FOUND, BERR_CONFLICT "remove NAME: volume is in use - [ID ...]". */
int daemon_volume_remove(struct daemon *d, const char *name, int64_t *size, struct berr **err);

#endif
