/* jsontext against jansson itself: every text either both read, to equal
 * values, or both refuse; every value both write to the same text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/jsontext.h"

/* Parses TEXT both ways; true when both accepted (and agree). */
static bool agree(const char *text, size_t len)
{
	struct jsontext_error e = { 0 };
	json_error_t je;
	json_t *ours = jsontext_parse(text, len, &e);
	json_t *theirs = json_loadb(text, len, 0, &je);

	if ((ours == NULL) != (theirs == NULL))
		fail_msg("%.*s: jsontext %s, jansson %s", (int)len, text, ours ? "accepts" : e.text,
			 theirs ? "accepts" : je.text);
	if (ours == NULL) {
		assert_true(e.line >= 1 && e.column >= 1 && e.text[0] != '\0');
		return false;
	}
	if (!json_equal(ours, theirs))
		fail_msg("%.*s: the values differ", (int)len, text);
	json_decref(ours);
	json_decref(theirs);
	return true;
}

static void check_dump(const json_t *v)
{
	char *ours = jsontext_dump(v);
	char *theirs = json_dumps(v, JSON_COMPACT);

	assert_non_null(ours);
	assert_non_null(theirs);
	assert_string_equal(ours, theirs);
	free(ours);
	free(theirs);
}

static const char *const accepted[] = {
	"{}",
	"[]",
	" \t\r\n[ 1 , -0, 0, -1 ]\n",
	"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
	"{\"a\":1,\"a\":2}",
	"[1.5,-0.0,1e5,1E+5,1e-5,2.5e-300,123456789012345678e3,0.1]",
	"[9223372036854775807,-9223372036854775808]",
	"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"]",
	"[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"]",
	"{\"k\\u00e9y\":\"v\",\"\":\"\"}",
	"[[[[[[[[[[]]]]]]]]]]",
	"[\"a\\u0001b\"]",
	"{\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":null,\"Labels\":{}}",
};

static const char *const refused[] = {
	"",
	"   ",
	"1",
	"\"s\"",
	"true",
	"[1,]",
	"[,1]",
	"{\"a\"}",
	"{\"a\":}",
	"{a:1}",
	"{\"a\":1,}",
	"[01]",
	"[-]",
	"[1.]",
	"[.5]",
	"[1e]",
	"[1e+]",
	"[+1]",
	"[0x10]",
	"[truex]",
	"[nul]",
	"[True]",
	"[\"a\nb\"]",
	"[\"\\x\"]",
	"[\"\\u12\"]",
	"[\"\\u0000\"]",
	"[\"\\ud800\"]",
	"[\"\\ud800\\u0041\"]",
	"[\"\\udc00\"]",
	"[\"\xc0\xaf\"]",
	"[\"\xed\xa0\x80\"]",
	"[\"\xf4\x90\x80\x80\"]",
	"[\"\xe2\x82\"]",
	"[\"\xff\"]",
	"[\"abc",
	"[1,2",
	"{\"a\":1",
	"[] []",
	"[]x",
	"[1e400]",
	"[9223372036854775808]",
	"[-9223372036854775809]",
	"[123456789012345678901234567890]",
	"[\xc3\xa9]",
};

static void test_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		assert_true(agree(accepted[i], strlen(accepted[i])));
}

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_false(agree(refused[i], strlen(refused[i])));
	/* Only a number too large is an overflow (bjson_load() reads big
	 * unsigned ones again). */
	{
		static const char *const big[] = { "[9223372036854775808]",
						   "{\"a\":-9223372036854775809}", "[1e400]" };
		struct jsontext_error e = { 0 };

		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			assert_null(jsontext_parse(big[i], strlen(big[i]), &e));
			assert_true(e.numeric_overflow);
		}
		assert_null(jsontext_parse("[1,]", 4, &e));
		assert_false(e.numeric_overflow);
	}
	/* A NUL byte in a string; outside one, where jansson passes over it,
	 * it is refused too. */
	assert_false(agree("[\"a\0b\"]", 7));
	{
		struct jsontext_error e = { 0 };

		assert_null(jsontext_parse("[1\0]", 4, &e));
		assert_null(jsontext_parse("[\0]", 3, &e));
	}
}

/* jansson's limit: 2048 levels, counting the innermost scalar. */
static void test_depth(void **state)
{
	enum {
		N = 2050
	};
	char text[2 * N + 2];

	(void)state;
	for (size_t levels = 2046; levels <= N; levels++) {
		size_t n = 0;

		for (size_t i = 0; i < levels; i++)
			text[n++] = '[';
		text[n++] = '1';
		for (size_t i = 0; i < levels; i++)
			text[n++] = ']';
		agree(text, n);
	}
}

static void test_error_position(void **state)
{
	struct jsontext_error e = { 0 };

	(void)state;
	assert_null(jsontext_parse("{\n  \"a\": 1,\n  \"b\" 2}", 20, &e));
	assert_int_equal(e.line, 3);
	assert_int_equal(e.column, 7);
	assert_false(e.numeric_overflow);
}

/* Bytes changed, dropped and repeated in a document shaped like a
 * container's record: whatever comes out, both readers agree. */
static void test_mutations(void **state)
{
	static const char base[] =
		"{\"Id\":\"6b33db9e\",\"Created\":\"2026-12-07T22:04:59.153005198Z\",\"Path\":"
		"\"true\","
		"\"Args\":[],\"State\":{\"Status\":\"created\",\"Running\":false,\"Pid\":0,"
		"\"ExitCode\":-1,\"Ratio\":0.25},\"HostConfig\":{\"Binds\":null,\"ShmSize\":"
		"67108864,"
		"\"MaskedPaths\":[\"/proc/asound\",\"/proc/"
		"acpi\"]},\"Name\":\"caf\xc3\xa9\\u00e9\\n\"}";
	static const char bytes[] = "{}[]\",:\\u0123456789.eE+-tfnal \n\x80\xc3\xa9";
	char text[sizeof(base) + 8];
	unsigned seed = 12345;
	size_t accepted_count = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = sizeof(base) - 1, at;

		memcpy(text, base, len);
		seed = seed * 1103515245u + 12345u;
		at = (seed >> 8) % len;
		switch ((seed >> 4) % 3) {
		case 0:
			text[at] = bytes[(seed >> 16) % (sizeof(bytes) - 1)];
			break;
		case 1:
			memmove(text + at, text + at + 1, len - at - 1);
			len--;
			break;
		default:
			memmove(text + at + 1, text + at, len - at);
			len++;
		}
		accepted_count += agree(text, len);
	}
	/* Some mutations keep the document whole (a digit for a digit). */
	assert_true(accepted_count > 0);
}

static void test_dump(void **state)
{
	json_t *v;

	(void)state;
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		v = json_loads(accepted[i], 0, NULL);
		assert_non_null(v);
		check_dump(v);
		json_decref(v);
	}
	v = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:s,s:s#}", "a", 1.0, "b", -2.5, "c", 1e300,
		      "d", 1e-7, "e", 123456789.0, "f", 0.1, "g", -0.0, "h", (json_int_t)INT64_MIN,
		      "i", "\x01\x1f\"\\/\x7f caf\xc3\xa9", "j", "a\0b", (size_t)3);
	assert_non_null(v);
	check_dump(v);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),  cmocka_unit_test(test_refused),
		cmocka_unit_test(test_depth),	  cmocka_unit_test(test_error_position),
		cmocka_unit_test(test_mutations), cmocka_unit_test(test_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
