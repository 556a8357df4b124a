/* Unit tests for api/router: route patterns with parameters that span
 * '/', the /v1.NN prefix with Docker's too-old and too-new messages, and
 * query strings decoded with repeated keys and Docker's booleans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/router.h"

static void test_pattern_fixed(void **state)
{
	assert_int_equal(api_pattern_match("/images/json", "/images/json", NULL, NULL), 1);
	assert_int_equal(api_pattern_match("/images/json", "/images/json/", NULL, NULL), 0);
	assert_int_equal(api_pattern_match("/images/json", "/images", NULL, NULL), 0);
	assert_int_equal(api_pattern_match("/_ping", "/_pingx", NULL, NULL), 0);
}

static void test_pattern_params(void **state)
{
	struct api_params p = { 0 };

	assert_int_equal(api_pattern_match("/images/{name}/json", "/images/busybox/json", &p, NULL),
			 1);
	assert_string_equal(api_params_get(&p, "name"), "busybox");
	api_params_clear(&p);

	/* Docker allows '/' in image names: the suffix decides. */
	assert_int_equal(api_pattern_match("/images/{name}/json",
					   "/images/localhost:5000/app:1/json", &p, NULL),
			 1);
	assert_string_equal(api_params_get(&p, "name"), "localhost:5000/app:1");
	api_params_clear(&p);

	assert_int_equal(api_pattern_match("/images/{name}", "/images/a/b/c", &p, NULL), 1);
	assert_string_equal(api_params_get(&p, "name"), "a/b/c");
	assert_null(api_params_get(&p, "other"));
	api_params_clear(&p);

	/* A parameter is never empty. */
	assert_int_equal(api_pattern_match("/images/{name}/json", "/images//json", NULL, NULL), 0);
	assert_int_equal(api_pattern_match("/images/{name}/json", "/images/json", NULL, NULL), 0);
	assert_int_equal(api_pattern_match("/images/{name}/tag", "/images/x/json", NULL, NULL), 0);
}

static void test_pattern_escapes(void **state)
{
	struct api_params p = { 0 };
	struct berr *err = NULL;

	assert_int_equal(
		api_pattern_match("/images/{name}/json", "/images/a%2Fb%3A1/json", &p, NULL), 1);
	assert_string_equal(api_params_get(&p, "name"), "a/b:1");
	api_params_clear(&p);
	assert_int_equal(api_pattern_match("/images/{name}/json", "/images/a%zz/json", &p, &err),
			 -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_free(err);
	err = NULL;
	assert_int_equal(api_pattern_match("/images/{name}/json", "/images/a%00/json", &p, &err),
			 -1);
	berr_free(err);
}

static void test_version_prefix(void **state)
{
	const char *rest;
	int ma, mi;

	assert_int_equal(api_path_version("/v1.41/images/json", &rest, &ma, &mi, NULL), 0);
	assert_string_equal(rest, "/images/json");
	assert_int_equal(ma, 1);
	assert_int_equal(mi, 41);

	assert_int_equal(api_path_version("/v1.24/_ping", &rest, &ma, &mi, NULL), 0);
	assert_string_equal(rest, "/_ping");
	assert_int_equal(mi, 24);

	/* No prefix: the current version. */
	assert_int_equal(api_path_version("/images/json", &rest, &ma, &mi, NULL), 0);
	assert_string_equal(rest, "/images/json");
	assert_int_equal(mi, API_VERSION_MINOR);

	/* "/version" is a route, not a version. */
	assert_int_equal(api_path_version("/version", &rest, &ma, &mi, NULL), 0);
	assert_string_equal(rest, "/version");
	assert_int_equal(api_path_version("/v1x/version", &rest, &ma, &mi, NULL), 0);
	assert_string_equal(rest, "/v1x/version");
}

static void test_version_too_old_new(void **state)
{
	struct berr *err = NULL;
	const char *rest;
	int ma, mi;

	assert_int_equal(api_path_version("/v1.12/version", &rest, &ma, &mi, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_string_equal(
		err->msg, "client version 1.12 is too old. Minimum supported API version is 1.24, "
			  "please upgrade your client to a newer version");
	berr_free(err);
	err = NULL;
	assert_int_equal(api_path_version("/v1.99/version", &rest, &ma, &mi, &err), -1);
	assert_string_equal(
		err->msg, "client version 1.99 is too new. Maximum supported API version is 1.41");
	berr_free(err);
	err = NULL;
	assert_int_equal(api_path_version("/v2.0/info", &rest, &ma, &mi, &err), -1);
	assert_non_null(strstr(err->msg, "too new"));
	berr_free(err);
	err = NULL;
	/* A huge number must neither overflow nor pass. */
	assert_int_equal(api_path_version("/v1.99999999999999999999/info", &rest, &ma, &mi, &err),
			 -1);
	berr_free(err);
}

static void test_query(void **state)
{
	const char qs[] = "names=a&names=b%3A1&quiet=1&message=hello+world&empty&filters=%7B%7D";
	struct api_query q = { 0 };
	size_t names = 0;

	assert_int_equal(api_query_parse(qs, strlen(qs), &q, NULL), 0);
	for (size_t i = 0; i < q.n; i++)
		if (strcmp(q.keys[i], "names") == 0)
			names++;
	assert_int_equal(names, 2);
	assert_string_equal(api_query_get(&q, "names"), "a");
	assert_string_equal(q.values[1], "b:1");
	assert_string_equal(api_query_get(&q, "message"), "hello world");
	assert_string_equal(api_query_get(&q, "empty"), "");
	assert_string_equal(api_query_get(&q, "filters"), "{}");
	assert_null(api_query_get(&q, "absent"));
	assert_true(api_query_bool(&q, "quiet"));
	assert_false(api_query_bool(&q, "empty"));
	assert_false(api_query_bool(&q, "absent"));
	api_query_clear(&q);
}

static void test_query_bools(void **state)
{
	static const char *const no[] = { "force=0",	"force=false", "force=FALSE", "force=no",
					  "force=none", "force=",      "force=+0+" };
	static const char *const yes[] = { "force=1", "force=true", "force=yes", "force=x" };
	struct api_query q = { 0 };

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(api_query_parse(no[i], strlen(no[i]), &q, NULL), 0);
		assert_false(api_query_bool(&q, "force"));
		api_query_clear(&q);
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(api_query_parse(yes[i], strlen(yes[i]), &q, NULL), 0);
		assert_true(api_query_bool(&q, "force"));
		api_query_clear(&q);
	}
}

static void test_query_bad(void **state)
{
	static const char *const bad[] = { "a=%", "a=%4", "a=%gg", "%zz=1", "a=%00" };
	struct api_query q = { 0 };
	struct berr *err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_query_parse(bad[i], strlen(bad[i]), &q, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		assert_int_equal(q.n, 0);
		berr_clear(&err);
	}
	/* Empty parts are skipped. */
	assert_int_equal(api_query_parse("&&a=1&", 6, &q, NULL), 0);
	assert_int_equal(q.n, 1);
	api_query_clear(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_fixed),	    cmocka_unit_test(test_pattern_params),
		cmocka_unit_test(test_pattern_escapes),	    cmocka_unit_test(test_version_prefix),
		cmocka_unit_test(test_version_too_old_new), cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_bools),	    cmocka_unit_test(test_query_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
