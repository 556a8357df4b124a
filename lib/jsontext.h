/* JSON text to jansson values and back, for the documents a container's
 * start reads and writes several times (its record, its config.json):
 * jansson reads its input a character at a time through a stream and
 * writes through a callback per token, several times slower than a scan
 * over the bytes.  The results are jansson values and texts that jansson
 * itself would give. */
#ifndef BERTH_LIB_JSONTEXT_H
#define BERTH_LIB_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Why a text was refused: where (1-based line and column, in bytes) and
 * what, and whether the only fault was a number too large to hold. */
struct jsontext_error {
	int line;
	int column;
	bool numeric_overflow;
	char text[96];
};

/* Parses LEN bytes of TEXT as json_loadb(TEXT, LEN, 0, ...) does: an
 * object or an array, nothing after it but white space, strings of valid
 * UTF-8 without NUL, integers that fit in a long long, at most 2048 levels.
 * Returns the new value (one reference), or NULL with *E filled in. */
json_t *jsontext_parse(const char *text, size_t len, struct jsontext_error *e);

/* The compact text of V as json_dumps(V, JSON_COMPACT) writes it: members
 * in their order, strings as UTF-8 with only quotes, backslashes and
 * control characters escaped.  The caller frees it; NULL for a NULL V or
 * when memory runs out. */
char *jsontext_dump(const json_t *v);

#endif
