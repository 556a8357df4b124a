/* The Engine API's request routing, independent of any socket: the
 * /v1.NN version prefix and Docker's checks of it, routes of a method and
 * a pattern with {name} parameters, and the decoding of query strings.
 * Everything here is a pure function of its input, so the server and its
 * tests share one implementation. */
#ifndef BERTH_API_ROUTER_H
#define BERTH_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/berr.h"

/* The API versions served (Docker 20.10). */
#define API_VERSION	    "1.41"
#define API_VERSION_MAJOR   1
#define API_VERSION_MINOR   41
#define API_MIN_VERSION	    "1.24"
#define API_MIN_VERSION_MIN 24

/* Most {name} parameters one pattern may hold. */
#define API_MAX_PARAMS 4

/* Decoded query parameters in the order of the query string; a key given
 * several times appears several times (?names=a&names=b). */
struct api_query {
	char **keys;
	char **values;
	size_t n;
};

/* Decodes LEN bytes of QS ("a=1&b=x%20y", without the '?'): '+' is a
 * space, %XX a byte; a key without '=' has the value "".  Fills *Q, which
 * the caller clears with api_query_clear().  Sets BERR_INVALID for a bad
 * escape or a NUL byte. */
int api_query_parse(const char *qs, size_t len, struct api_query *q, struct berr **err);
void api_query_clear(struct api_query *q);

/* The first value of KEY, or NULL when it is absent; borrowed from Q. */
const char *api_query_get(const struct api_query *q, const char *key);

/* Docker's httputils.BoolValue: KEY is true unless it is absent, empty,
 * "0", "no", "false" or "none" (in any case). */
bool api_query_bool(const struct api_query *q, const char *key);

/* Decodes %XX escapes of LEN bytes of S into a new string the caller owns
 * ('+' stays '+', as in a path).  NULL for a bad escape, a NUL byte or no
 * memory. */
char *api_path_unescape(const char *s, size_t len);

/* Splits PATH ("/v1.41/images/json" or "/images/json") into the API
 * version asked (the default API_VERSION when there is no prefix) and the
 * rest of the path, which *rest borrows from PATH.  Sets BERR_INVALID with
 * Docker's messages for a version below API_MIN_VERSION ("client version
 * 1.12 is too old. Minimum supported API version is 1.24, please upgrade
 * your client to a newer version") or above API_VERSION ("client version
 * 1.99 is too new. Maximum supported API version is 1.41").  A path that
 * starts with "/v" but holds no version is not a version prefix. */
int api_path_version(const char *path, const char **rest, int *major, int *minor,
		     struct berr **err);

/* Parameters a pattern took from a path; values decoded and owned. */
struct api_params {
	const char *names[API_MAX_PARAMS]; /* borrowed from the route */
	size_t name_len[API_MAX_PARAMS];
	char *values[API_MAX_PARAMS];
	size_t n;
};
void api_params_clear(struct api_params *p);
const char *api_params_get(const struct api_params *p, const char *name);

/* Whether PATH (without a version prefix or query) matches PATTERN, e.g.
 * "/images/{name}/json".  A parameter takes at least one byte and may
 * hold '/', as Docker allows in image names
 * (/images/localhost:5000/app:1/json): the fixed text after it must match
 * the end of what remains.  On a match *P (may be NULL) gets the decoded
 * parameters, which the caller clears; returns 1, 0 for no match, -1 with
 * BERR_INVALID for a parameter with a bad escape. */
int api_pattern_match(const char *pattern, const char *path, struct api_params *p,
		      struct berr **err);

#endif
