/* Unit tests for lib/digest: the known sha256 vectors and the form check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/digest.h"

static void test_known_vectors(void **state)
{
	char out[DIGEST_STRING_SIZE];
	struct digest_ctx *ctx = digest_new();

	digest_bytes("", 0, out);
	assert_string_equal(
		out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_non_null(ctx);
	digest_update(ctx, "a", 1);
	digest_update(ctx, "bc", 2);
	digest_final(ctx, out);
	digest_free(ctx);
	assert_string_equal(
		out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(digest_is_valid(out));
}

static void test_form(void **state)
{
	assert_false(digest_is_valid(NULL));
	assert_false(digest_is_valid("sha256:"));
	assert_false(digest_is_valid(
		"sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	assert_false(digest_is_valid(
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_false(digest_is_valid(
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
	assert_false(digest_is_valid("sha256:../../../../etc/passwd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
