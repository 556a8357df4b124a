/* Unit tests for lib/berr: creation with errno, prefixes, moves. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

static void test_set_includes_strerror(void **state)
{
	struct berr *err = NULL;

	assert_int_equal(berr_set(&err, BERR_NOT_FOUND, ENOENT, "open %s", "/x"), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_int_equal(err->sys_errno, ENOENT);
	assert_string_equal(err->msg, "open /x: No such file or directory");
	berr_free(err);
}

static void test_set_without_errno(void **state)
{
	struct berr *err = NULL;

	berr_set(&err, BERR_INVALID, 0, "bad value %d", 7);
	assert_string_equal(err->msg, "bad value 7");
	berr_free(err);
}

static void test_prefix_chains(void **state)
{
	struct berr *err = NULL;

	berr_set(&err, BERR_CONFLICT, 0, "in use");
	assert_int_equal(berr_prefix(&err, "create %s", "c1"), -1);
	berr_prefix(&err, "run");
	assert_string_equal(err->msg, "run: create c1: in use");
	assert_int_equal(err->kind, BERR_CONFLICT);
	berr_free(err);
}

static void test_prefix_without_error_creates_one(void **state)
{
	struct berr *err = NULL;

	berr_prefix(&err, "step");
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INTERNAL);
	assert_non_null(strstr(err->msg, "step"));
	berr_free(err);
}

static void test_null_err_is_allowed(void **state)
{
	assert_int_equal(berr_set(NULL, BERR_INVALID, 0, "ignored"), -1);
	assert_int_equal(berr_prefix(NULL, "ignored"), -1);
}

static void test_set_replaces_and_move(void **state)
{
	struct berr *a = NULL, *b = NULL;

	berr_set(&a, BERR_INVALID, 0, "first");
	berr_set(&a, BERR_NOT_FOUND, 0, "second");
	assert_string_equal(a->msg, "second");
	berr_move(&b, &a);
	assert_null(a);
	assert_string_equal(b->msg, "second");
	berr_free(b);
}

static void test_cleanup_macro_frees(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;

	berr_set(&err, BERR_INTERNAL, EIO, "io");
	assert_string_equal(berr_kind_name(err->kind), "internal error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_includes_strerror),
		cmocka_unit_test(test_set_without_errno),
		cmocka_unit_test(test_prefix_chains),
		cmocka_unit_test(test_prefix_without_error_creates_one),
		cmocka_unit_test(test_null_err_is_allowed),
		cmocka_unit_test(test_set_replaces_and_move),
		cmocka_unit_test(test_cleanup_macro_frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
