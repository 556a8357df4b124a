/* Unit tests of the JSON helpers: loading with limits and big integers, the
 * path in every error message, optional and required members, strings
 * written as JSON text, and the string vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/fsutil.h"
#include "lib/json.h"

static json_t *load(const char *text)
{
	struct berr *err = NULL;
	json_t *doc = NULL;

	if (bjson_load(text, strlen(text), 1 << 20, &doc, &err) < 0)
		fail_msg("load failed: %s", err->msg);
	return doc;
}

static void expect_msg(struct berr *err, const char *msg)
{
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_string_equal(err->msg, msg);
}

static void test_load_malformed(void **state)
{
	const char *text = "{\n  \"a\": 1,\n  \"b\": }\n";
	_cleanup_berr_ struct berr *err = NULL;
	json_t *doc = NULL;

	assert_int_equal(bjson_load(text, strlen(text), 1024, &doc, &err), -1);
	assert_null(doc);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "line 3, column"));
}

static void test_load_trailing_garbage(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	json_t *doc = NULL;

	assert_int_equal(bjson_load("{} x", 4, 1024, &doc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
}

static void test_load_too_large(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	json_t *doc = NULL;

	assert_int_equal(bjson_load("{\"a\": 1}", 8, 7, &doc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "too large"));
	assert_null(doc);
}

/* jansson holds integers as long long: values above INT64_MAX still read as
 * uint64, exactly, and strings that look like them stay strings. */
static void test_load_big_uint(void **state)
{
	_cleanup_json_ json_t *doc = load("{\"s\": \"18446744073709551615\", \"big\": "
					  "18446744073709551615, \"mid\": 9223372036854775808,"
					  " \"arr\": [1, 18446744073709551614]}");
	_cleanup_berr_ struct berr *err = NULL;
	const char *s = NULL;
	uint64_t v = 0;
	int64_t i = 0;

	assert_int_equal(bjson_get_uint64(doc, NULL, "big", BJSON_REQUIRED, UINT64_MAX, &v, &err),
			 1);
	assert_true(v == UINT64_MAX);
	assert_int_equal(bjson_get_uint64(doc, NULL, "mid", BJSON_REQUIRED, UINT64_MAX, &v, &err),
			 1);
	assert_true(v == (uint64_t)INT64_MAX + 1);
	assert_int_equal(bjson_as_uint64(json_array_get(json_object_get(doc, "arr"), 1), NULL,
					 UINT64_MAX, &v, &err),
			 0);
	assert_true(v == UINT64_MAX - 1);
	assert_int_equal(bjson_get_string(doc, NULL, "s", BJSON_REQUIRED, &s, &err), 1);
	assert_string_equal(s, "18446744073709551615");

	/* The big value is not a string, nor a signed integer in range. */
	assert_int_equal(bjson_get_string(doc, NULL, "big", BJSON_REQUIRED, &s, &err), -1);
	expect_msg(err, "big: expected a string");
	assert_int_equal(bjson_get_int64(doc, NULL, "big", BJSON_REQUIRED, 0, INT64_MAX, &i, &err),
			 -1);
	assert_non_null(strstr(err->msg, "big: 18446744073709551615 is out of range"));
	assert_int_equal(bjson_get_uint64(doc, NULL, "big", BJSON_REQUIRED, 100, &v, &err), -1);
	expect_msg(err, "big: 18446744073709551615 is out of range (0 to 100)");
}

static void test_load_overflow_beyond_uint64(void **state)
{
	const char *text = "{\"a\": 18446744073709551616}";
	_cleanup_berr_ struct berr *err = NULL;
	json_t *doc = NULL;

	assert_int_equal(bjson_load(text, strlen(text), 1024, &doc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "line 1"));
}

/* Tagging big integers must not turn one in key position into valid JSON. */
static void test_load_big_uint_as_key(void **state)
{
	const char *text = "{18446744073709551615 : 1, \"a\": 18446744073709551615}";
	_cleanup_berr_ struct berr *err = NULL;
	json_t *doc = NULL;

	assert_int_equal(bjson_load(text, strlen(text), 1024, &doc, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_null(doc);
}

static void test_path_format(void **state)
{
	const struct bjson_path *p = BJSON_KEY(NULL, "process");
	const struct bjson_path *q = BJSON_KEY(BJSON_INDEX(BJSON_KEY(p, "rlimits"), 1), "hard");
	_cleanup_free_ char *s = bjson_path_format(q);
	_cleanup_free_ char *root = bjson_path_format(NULL);
	_cleanup_free_ char *odd =
		bjson_path_format(BJSON_KEY(BJSON_KEY(NULL, "annotations"), "io.berth/x\"y"));

	assert_string_equal(s, "process.rlimits[1].hard");
	assert_string_equal(root, "");
	assert_string_equal(odd, "annotations[\"io.berth/x\\\"y\"]");
}

static void test_error_names_path(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;

	assert_int_equal(bjson_error(&err, BJSON_INDEX(BJSON_KEY(NULL, "a"), 3), "bad %d", 7), -1);
	expect_msg(err, "a[3]: bad 7");
	assert_int_equal(bjson_error(&err, NULL, "whole"), -1);
	expect_msg(err, "whole");
}

static void test_quote(void **state)
{
	char long_s[100];
	_cleanup_free_ char *a = bjson_quote("a\"b\\c\nd");
	_cleanup_free_ char *b = NULL;

	assert_string_equal(a, "\"a\\\"b\\\\c\\x0ad\"");
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	b = bjson_quote(long_s);
	assert_int_equal(strlen(b), 64 + 2 + 3);
	assert_true(str_has_suffix(b, "\"..."));
}

/* What bjson_fput_string() writes reads back as the string it was given:
 * quotes, backslashes, every control character, UTF-8 as it is. */
static void test_fput_string(void **state)
{
	char in[64], *out = NULL;
	size_t size = 0, n = 0;
	FILE *f = open_memstream(&out, &size);
	json_t *back;

	assert_non_null(f);
	for (int c = 1; c < 0x20; c++)
		in[n++] = (char)c;
	/* With its NUL. */
	memcpy(in + n, "\"\\/\xc3\xa9<", 7);
	bjson_fput_string(f, in);
	fputc(' ', f);
	bjson_fput_string(f, "");
	assert_int_equal(fclose(f), 0);
	assert_true(str_has_prefix(out, "\"\\u0001\\u0002"));
	assert_non_null(strstr(out, "\\t\\n\\u000b\\u000c\\r"));
	assert_true(str_has_suffix(out, "\\\"\\\\/\xc3\xa9<\" \"\""));
	back = json_loads(out, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(back), in);
	json_decref(back);
	free(out);
}

static void test_get_required_and_null(void **state)
{
	_cleanup_json_ json_t *doc = load("{\"o\": {\"n\": null, \"s\": \"x\"}}");
	const struct bjson_path *op = BJSON_KEY(NULL, "o");
	json_t *o = json_object_get(doc, "o");
	_cleanup_berr_ struct berr *err = NULL;
	const char *s = "untouched";
	bool b = true;

	/* null reads as absent: optional is fine, required is missing. */
	assert_int_equal(bjson_get_string(o, op, "n", BJSON_OPTIONAL, &s, &err), 0);
	assert_string_equal(s, "untouched");
	assert_null(err);
	assert_int_equal(bjson_get_string(o, op, "n", BJSON_REQUIRED, &s, &err), -1);
	expect_msg(err, "o.n: required field is missing");
	assert_int_equal(bjson_get_bool(o, op, "none", BJSON_REQUIRED, &b, &err), -1);
	expect_msg(err, "o.none: required field is missing");
	assert_int_equal(bjson_get_bool(o, op, "none", BJSON_OPTIONAL, &b, &err), 0);
	assert_true(b);
	assert_int_equal(bjson_get_string(o, op, "s", BJSON_REQUIRED, &s, &err), 1);
	assert_string_equal(s, "x");
}

static void test_get_wrong_types(void **state)
{
	_cleanup_json_ json_t *doc =
		load("{\"s\": \"x\", \"i\": -3, \"f\": 1.0, \"b\": true, \"a\": [], \"o\": {}}");
	_cleanup_berr_ struct berr *err = NULL;
	json_t *v = NULL;
	const char *s = NULL;
	uint64_t u = 0;
	int64_t i = 0;
	bool b = false;

	assert_int_equal(bjson_get_bool(doc, NULL, "s", BJSON_OPTIONAL, &b, &err), -1);
	expect_msg(err, "s: expected a boolean");
	assert_int_equal(bjson_get_string(doc, NULL, "i", BJSON_OPTIONAL, &s, &err), -1);
	expect_msg(err, "i: expected a string");
	assert_int_equal(bjson_get_uint64(doc, NULL, "i", BJSON_OPTIONAL, UINT64_MAX, &u, &err),
			 -1);
	expect_msg(err, "i: expected an unsigned integer");
	assert_int_equal(
		bjson_get_int64(doc, NULL, "f", BJSON_OPTIONAL, INT64_MIN, INT64_MAX, &i, &err),
		-1);
	expect_msg(err, "f: expected an integer");
	assert_int_equal(bjson_get_int64(doc, NULL, "i", BJSON_OPTIONAL, -1, 10, &i, &err), -1);
	expect_msg(err, "i: -3 is out of range (-1 to 10)");
	assert_int_equal(bjson_get_int64(doc, NULL, "i", BJSON_OPTIONAL, -5, 10, &i, &err), 1);
	assert_int_equal(i, -3);
	assert_int_equal(bjson_get_object(doc, NULL, "a", BJSON_OPTIONAL, &v, &err), -1);
	expect_msg(err, "a: expected an object");
	assert_int_equal(bjson_get_array(doc, NULL, "o", BJSON_OPTIONAL, &v, &err), -1);
	expect_msg(err, "o: expected an array");
	assert_int_equal(bjson_get_array(doc, NULL, "a", BJSON_OPTIONAL, &v, &err), 1);
	assert_true(json_is_array(v));
	assert_int_equal(bjson_as_object(json_object_get(doc, "s"), NULL, &err), -1);
	expect_msg(err, "expected an object");
}

static void test_string_with_nul(void **state)
{
	_cleanup_json_ json_t *v = json_stringn("a\0b", 3);
	_cleanup_berr_ struct berr *err = NULL;
	const char *s = NULL;

	assert_int_equal(bjson_as_string(v, BJSON_KEY(NULL, "k"), &s, &err), -1);
	expect_msg(err, "k: string contains a NUL byte");
	assert_null(s);
}

static void test_string_dup(void **state)
{
	_cleanup_json_ json_t *doc = load("{\"s\": \"hello\"}");
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *s = NULL;

	assert_int_equal(bjson_get_string_dup(doc, NULL, "s", BJSON_REQUIRED, &s, &err), 1);
	assert_string_equal(s, "hello");
	assert_ptr_not_equal(s, json_string_value(json_object_get(doc, "s")));
}

static void test_strv(void **state)
{
	_cleanup_json_ json_t *doc =
		load("{\"v\": [\"a\", \"b\"], \"bad\": [\"a\", 2], \"e\": []}");
	const struct bjson_path *top = BJSON_KEY(NULL, "top");
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_strv_ char **v = NULL;
	_cleanup_strv_ char **e = NULL;
	_cleanup_strv_ char **copy = NULL;
	_cleanup_strv_ char **empty = strv_dup(NULL);
	char **bad = NULL;

	assert_int_equal(bjson_get_strv(doc, top, "v", BJSON_REQUIRED, &v, &err), 1);
	assert_int_equal(strv_length(v), 2);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	assert_int_equal(bjson_get_strv(doc, top, "bad", BJSON_REQUIRED, &bad, &err), -1);
	expect_msg(err, "top.bad[1]: expected a string");
	assert_null(bad);
	assert_int_equal(bjson_get_strv(doc, top, "e", BJSON_REQUIRED, &e, &err), 1);
	assert_int_equal(strv_length(e), 0);
	assert_non_null(e);

	copy = strv_dup(v);
	assert_int_equal(strv_length(copy), 2);
	assert_ptr_not_equal(copy[0], v[0]);
	assert_string_equal(copy[1], "b");
	assert_true(strv_contains(copy, "a"));
	assert_false(strv_contains(copy, "c"));
	assert_false(strv_contains(NULL, "a"));
	assert_non_null(empty);
	assert_null(empty[0]);
	assert_int_equal(strv_length(NULL), 0);
	strv_free(NULL);
}

static void test_strmap(void **state)
{
	_cleanup_json_ json_t *doc =
		load("{\"m\": {\"x\": \"1\", \"y\": \"2\"}, \"bad\": {\"x\": 1}}");
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_strv_ char **keys = NULL;
	_cleanup_strv_ char **values = NULL;
	char **k2 = NULL, **v2 = NULL;
	size_t n = 0;

	assert_int_equal(bjson_as_strmap(json_object_get(doc, "m"), BJSON_KEY(NULL, "m"), &keys,
					 &values, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(keys[0], "x");
	assert_string_equal(values[0], "1");
	assert_string_equal(keys[1], "y");
	assert_string_equal(values[1], "2");
	assert_null(keys[2]);
	assert_int_equal(bjson_as_strmap(json_object_get(doc, "bad"), BJSON_KEY(NULL, "bad"), &k2,
					 &v2, &n, &err),
			 -1);
	expect_msg(err, "bad.x: expected a string");
	assert_null(k2);
}

static void test_from_strv(void **state)
{
	char *v[] = { "a", "b c", NULL };
	json_t *arr = bjson_from_strv(v);
	char *text = json_dumps(arr, JSON_COMPACT);

	assert_string_equal(text, "[\"a\",\"b c\"]");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_array_get(arr, 1)), "b c");
	free(text);
	json_decref(arr);
	arr = bjson_from_strv(NULL);
	assert_true(json_is_array(arr) && json_array_size(arr) == 0);
	json_decref(arr);
}

/* Docker's label filters, and a vector joined. */
static void test_labels_and_join(void **state)
{
	json_t *labels = json_pack("{s:s, s:s, s:i}", "a", "b", "ab", "", "n", 1);
	char *v[] = { "x", "y", "z", NULL };
	char *joined;

	assert_true(bjson_label_matches(labels, "a"));
	assert_true(bjson_label_matches(labels, "a=b"));
	assert_false(bjson_label_matches(labels, "a=c"));
	assert_false(bjson_label_matches(labels, "a="));
	assert_true(bjson_label_matches(labels, "ab="));
	assert_true(bjson_label_matches(labels, "ab"));
	assert_false(bjson_label_matches(labels, "abc"));
	/* Only strings are labels. */
	assert_false(bjson_label_matches(labels, "n"));
	assert_false(bjson_label_matches(NULL, "a"));
	json_decref(labels);

	joined = strv_join(v, ", ");
	assert_string_equal(joined, "x, y, z");
	free(joined);
	joined = strv_join(NULL, ", ");
	assert_string_equal(joined, "");
	free(joined);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_malformed),
		cmocka_unit_test(test_load_trailing_garbage),
		cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_load_big_uint),
		cmocka_unit_test(test_load_overflow_beyond_uint64),
		cmocka_unit_test(test_load_big_uint_as_key),
		cmocka_unit_test(test_path_format),
		cmocka_unit_test(test_error_names_path),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_fput_string),
		cmocka_unit_test(test_get_required_and_null),
		cmocka_unit_test(test_get_wrong_types),
		cmocka_unit_test(test_string_with_nul),
		cmocka_unit_test(test_string_dup),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_from_strv),
		cmocka_unit_test(test_labels_and_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
