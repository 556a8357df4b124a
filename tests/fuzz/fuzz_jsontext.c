/* Fuzz target for berth's JSON reader and writer (lib/jsontext), which
 * every request body, record and config goes through: any input is read
 * by both it and jansson, and they must agree (both refuse, or both give
 * equal values); what is read is written back as jansson writes it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/jsontext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct jsontext_error e;
	json_error_t je;
	json_t *ours, *theirs;
	char *a, *b;

	ours = jsontext_parse(text, size, &e);
	/* jansson passes over a NUL byte between tokens; berth refuses it. */
	if (memchr(text, '\0', size) != NULL) {
		json_decref(ours);
		return 0;
	}
	theirs = json_loadb(text, size, 0, &je);
	if ((ours == NULL) != (theirs == NULL) || (ours && !json_equal(ours, theirs)))
		__builtin_trap();
	if (ours == NULL) {
		if (e.line < 1 || e.column < 1 || e.text[0] == '\0')
			__builtin_trap();
		return 0;
	}
	a = jsontext_dump(ours);
	b = json_dumps(ours, JSON_COMPACT);
	if (!a || !b || strcmp(a, b) != 0)
		__builtin_trap();
	free(a);
	free(b);
	json_decref(ours);
	json_decref(theirs);
	return 0;
}
