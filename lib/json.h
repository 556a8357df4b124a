/* Typed reads of JSON documents for berth's parsers (config.json, state.json,
 * features): each accessor checks the type and range of one value and, when
 * it is wrong, sets BERR_INVALID naming the value's JSON path
 * ("process.rlimits[1].hard: expected an unsigned integer").  Also home of the
 * NULL-terminated string vectors ("strv") those parsers fill. */
#ifndef BERTH_LIB_JSON_H
#define BERTH_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "berr.h"
#include "cleanup.h"

static inline void cleanup_json_decrefp(json_t **p)
{
	if (*p)
		json_decref(*p);
}

#define _cleanup_json_ _cleanup_(cleanup_json_decrefp)

/* Where a value sits in a document: a chain of frames that live on the
 * parser's stack, innermost first.  The document itself is the NULL path. */
struct bjson_path {
	const struct bjson_path *up;
	const char *key; /* member name, or NULL for an array element */
	size_t index;	 /* array index when key is NULL */
};

/* Paths of a member and of an array element; the frame lives until the end
 * of the enclosing block. */
#define BJSON_KEY(parent, name) (&(const struct bjson_path){ .up = (parent), .key = (name) })
#define BJSON_INDEX(parent, i)	(&(const struct bjson_path){ .up = (parent), .index = (i) })

enum bjson_need {
	BJSON_OPTIONAL,
	BJSON_REQUIRED,
};

/* Parses LEN bytes of TEXT into a new value that *out owns (one reference).
 * More than MAX bytes, malformed JSON (the message gives line and column) or
 * trailing garbage are BERR_INVALID.  Integers above INT64_MAX (up to
 * UINT64_MAX) are kept in a private form that only bjson_as_uint64() reads,
 * so a document with them is for reading, not for writing back. */
int bjson_load(const char *text, size_t len, size_t max, json_t **out, struct berr **err);

/* "process.rlimits[1].hard"; "" for the document itself.  The caller frees
 * the result; NULL when memory runs out. */
char *bjson_path_format(const struct bjson_path *path);

/* Sets BERR_INVALID "PATH: message" (just the message for the NULL path);
 * returns -1. */
int bjson_error(struct berr **err, const struct bjson_path *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A double-quoted copy of S for messages, with control characters, quotes
 * and backslashes escaped and cut after 64 bytes, so a value taken from a
 * document cannot forge log lines.  The caller frees it; NULL on no memory. */
char *bjson_quote(const char *s);

/* Writes S to F as the body of a JSON string, without the quotes: quotes,
 * backslashes and control characters escaped, other bytes as they are
 * (S is UTF-8).  For answers written as text rather than built as values. */
void bjson_fput_escaped(FILE *f, const char *s);
/* The same within double quotes. */
void bjson_fput_string(FILE *f, const char *s);

/*
 * Conversions of one value V found at PATH.  Each returns 0 and writes *out,
 * or sets BERR_INVALID naming PATH and returns -1 leaving *out untouched.
 */
int bjson_as_object(const json_t *v, const struct bjson_path *path, struct berr **err);
int bjson_as_array(const json_t *v, const struct bjson_path *path, struct berr **err);
/* *out is borrowed from V.  Strings with NUL bytes are rejected. */
int bjson_as_string(const json_t *v, const struct bjson_path *path, const char **out,
		    struct berr **err);
int bjson_as_bool(const json_t *v, const struct bjson_path *path, bool *out, struct berr **err);
/* Integers only (1.0 is not one), within [MIN, MAX]. */
int bjson_as_int64(const json_t *v, const struct bjson_path *path, int64_t min, int64_t max,
		   int64_t *out, struct berr **err);
int bjson_as_uint64(const json_t *v, const struct bjson_path *path, uint64_t max, uint64_t *out,
		    struct berr **err);
/* An array of strings into a new vector that *out owns. */
int bjson_as_strv(const json_t *v, const struct bjson_path *path, char ***out, struct berr **err);
/* A new array of the strings of V (NULL-terminated; NULL gives []); NULL
 * when out of memory. */
json_t *bjson_from_strv(char *const *v);
/* An object of string values into two new vectors, names and values in the
 * document's order, that the caller owns; *n is their length. */
int bjson_as_strmap(const json_t *v, const struct bjson_path *path, char ***keys, char ***values,
		    size_t *n, struct berr **err);

/*
 * Members KEY of the object OBJ found at PATH.  Each returns 1 when the member
 * is there (and writes *out), 0 when it is absent or null (Go's encoder writes
 * null for empty slices; *out is untouched), and -1 with BERR_INVALID when it
 * has the wrong type or is absent but BJSON_REQUIRED ("PATH.KEY: required
 * field is missing").
 */
int bjson_get(const json_t *obj, const struct bjson_path *path, const char *key,
	      enum bjson_need need, json_t **out, struct berr **err);
/* *out borrows from OBJ. */
int bjson_get_object(const json_t *obj, const struct bjson_path *path, const char *key,
		     enum bjson_need need, json_t **out, struct berr **err);
int bjson_get_array(const json_t *obj, const struct bjson_path *path, const char *key,
		    enum bjson_need need, json_t **out, struct berr **err);
int bjson_get_string(const json_t *obj, const struct bjson_path *path, const char *key,
		     enum bjson_need need, const char **out, struct berr **err);
/* As bjson_get_string(), but *out is a copy the caller owns. */
int bjson_get_string_dup(const json_t *obj, const struct bjson_path *path, const char *key,
			 enum bjson_need need, char **out, struct berr **err);
int bjson_get_bool(const json_t *obj, const struct bjson_path *path, const char *key,
		   enum bjson_need need, bool *out, struct berr **err);
int bjson_get_int64(const json_t *obj, const struct bjson_path *path, const char *key,
		    enum bjson_need need, int64_t min, int64_t max, int64_t *out,
		    struct berr **err);
int bjson_get_uint64(const json_t *obj, const struct bjson_path *path, const char *key,
		     enum bjson_need need, uint64_t max, uint64_t *out, struct berr **err);
int bjson_get_strv(const json_t *obj, const struct bjson_path *path, const char *key,
		   enum bjson_need need, char ***out, struct berr **err);

/*
 * String vectors: arrays of owned strings ended by NULL.
 */

/* Frees V and its strings; NULL is fine. */
void strv_free(char **v);
/* The number of strings before the NULL; 0 for a NULL V. */
size_t strv_length(char *const *v);
/* A deep copy the caller owns; a NULL V gives an empty vector, so NULL
 * means only that memory ran out. */
char **strv_dup(char *const *v);
/* Appends a copy of S to *V (which may be NULL); -1 on no memory, *V
 * unchanged then. */
int strv_append(char ***v, const char *s);

/* Docker's filters parameter TEXT (a JSON object of arrays of strings,
 * or the old map form {"key": {"value": true}}) as a new object of arrays
 * in *out; NULL or "" gives an empty one.  A key not in KNOWN
 * (NULL-terminated; NULL: any key is taken) is refused.  Sets BERR_INVALID ("invalid filter
 * 'x'"), BERR_INTERNAL. */
int bjson_filters_parse(const char *text, const char *const *known, json_t **out,
			struct berr **err);
bool strv_contains(char *const *v, const char *s);
/* Whether LABELS (an object of strings) passes Docker's label filter
 * FILTER: "key" (present) or "key=value". */
bool bjson_label_matches(const json_t *labels, const char *filter);
/* V's strings with SEP between them, as a new string; NULL on no memory. */
char *strv_join(char *const *v, const char *sep);

DEFINE_CLEANUP(char **, strv_free)
#define _cleanup_strv_ _cleanup_(strv_free_cleanup)

#endif
