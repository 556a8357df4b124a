/* Unit tests for lib/timefmt: Go's RFC3339Nano output and parsing RFC 3339
 * times with fractions and zone offsets back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/timefmt.h"

static void test_format_drops_trailing_zeros(void **state)
{
	char out[TIME_RFC3339_SIZE];
	struct timespec t = { .tv_sec = 1795000000, .tv_nsec = 120000000 };

	time_format_rfc3339(&t, out);
	assert_string_equal(out, "2026-11-18T11:06:40.12Z");
	t.tv_nsec = 0;
	time_format_rfc3339(&t, out);
	assert_string_equal(out, "2026-11-18T11:06:40Z");
}

static void test_parse_round_trip_and_offsets(void **state)
{
	struct timespec t;

	assert_int_equal(time_parse_rfc3339("2026-11-18T11:06:40.12Z", &t), 0);
	assert_int_equal(t.tv_sec, 1795000000);
	assert_int_equal(t.tv_nsec, 120000000);
	assert_int_equal(time_parse_rfc3339("2026-11-18T12:06:40+01:00", &t), 0);
	assert_int_equal(t.tv_sec, 1795000000);
	assert_int_equal(t.tv_nsec, 0);
	assert_int_equal(time_parse_rfc3339("2026-11-18T06:36:40.123456789123-04:30", &t), 0);
	assert_int_equal(t.tv_sec, 1795000000);
	assert_int_equal(t.tv_nsec, 123456789);
}

static void test_parse_rejects_what_is_not_rfc3339(void **state)
{
	struct timespec t;

	assert_int_equal(time_parse_rfc3339(NULL, &t), -1);
	assert_int_equal(time_parse_rfc3339("", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-18 20:26:40Z", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-18T11:06:40", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-18T11:06:40.Z", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-18T11:06:40+1:00", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-18T11:06:40Zjunk", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_drops_trailing_zeros),
		cmocka_unit_test(test_parse_round_trip_and_offsets),
		cmocka_unit_test(test_parse_rejects_what_is_not_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
