/* Fuzz target for the image reference parser: any byte string must parse
 * or fail with a message, and a parsed reference must format back into a
 * string that parses to the same reference, with nothing leaked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"
#include "lib/berr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats REF every way; the full form must parse again to itself. */
static void check(const struct image_reference *ref, bool named_only)
{
	struct image_reference *again = NULL;
	struct berr *err = NULL;
	char *full = image_reference_format(ref, &err);
	char *familiar = image_reference_format_familiar(ref, &err);
	char *repo = image_reference_repository(ref, &err);
	char *name = image_reference_familiar_name(ref, &err);
	char *full2 = NULL;
	int r;

	if (!full || !familiar || !repo || !name)
		__builtin_trap();
	r = named_only ? image_reference_parse_name(full, &again, &err)
		       : image_reference_parse(full, &again, &err);
	if (r < 0)
		__builtin_trap(); /* a formatted reference must be valid */
	full2 = image_reference_format(again, &err);
	if (!full2 || strcmp(full, full2) != 0)
		__builtin_trap();
	image_reference_free(again);
	free(full);
	free(full2);
	free(familiar);
	free(repo);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_reference *ref = NULL;
	struct berr *err = NULL;
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (image_reference_parse(s, &ref, &err) == 0) {
		if (ref->tag == NULL && ref->digest == NULL)
			__builtin_trap(); /* the default tag was not added */
		check(ref, false);
		image_reference_free(ref);
		ref = NULL;
	} else if (err == NULL || err->msg == NULL || err->kind != BERR_INVALID) {
		__builtin_trap();
	}
	berr_clear(&err);

	if (image_reference_parse_name(s, &ref, &err) == 0) {
		check(ref, true);
		image_reference_free(ref);
	} else if (err == NULL || err->msg == NULL) {
		__builtin_trap();
	}
	berr_clear(&err);

	(void)image_reference_is_id(s);
	(void)image_reference_is_id_prefix(s);
	free(s);
	return 0;
}
