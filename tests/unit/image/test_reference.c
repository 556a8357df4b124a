/* Unit tests for image/reference: valid references and their normalised and
 * familiar forms, invalid ones with Docker's messages, digests, length
 * limits and image ID detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/reference.h"
#include "lib/digest.h"
#include "lib/fsutil.h"

#define HEX64	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST64 "sha256:" HEX64

struct valid_case {
	const char *in;
	const char *full;	   /* image_reference_format */
	const char *familiar;	   /* image_reference_format_familiar */
	const char *familiar_name; /* image_reference_familiar_name */
	const char *repository;	   /* image_reference_repository */
};

static const struct valid_case valid_cases[] = {
	{ "busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
	  "docker.io/library/busybox" },
	{ "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "busybox",
	  "docker.io/library/busybox" },
	{ "library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
	  "docker.io/library/busybox" },
	{ "docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest",
	  "busybox", "docker.io/library/busybox" },
	{ "docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
	  "docker.io/library/busybox" },
	{ "index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1",
	  "busybox", "docker.io/library/busybox" },
	{ "index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest",
	  "busybox", "docker.io/library/busybox" },
	{ "user/app", "docker.io/user/app:latest", "user/app:latest", "user/app",
	  "docker.io/user/app" },
	{ "library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest", "library/a/b",
	  "docker.io/library/a/b" },
	{ "localhost/app", "localhost/app:latest", "localhost/app:latest", "localhost/app",
	  "localhost/app" },
	{ "localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest",
	  "localhost:5000/app", "localhost:5000/app" },
	{ "registry.example.com:443/a/b/c:tag", "registry.example.com:443/a/b/c:tag",
	  "registry.example.com:443/a/b/c:tag", "registry.example.com:443/a/b/c",
	  "registry.example.com:443/a/b/c" },
	{ "127.0.0.1:5000/x/y:1", "127.0.0.1:5000/x/y:1", "127.0.0.1:5000/x/y:1",
	  "127.0.0.1:5000/x/y", "127.0.0.1:5000/x/y" },
	{ "[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest", "[::1]:5000/app",
	  "[::1]:5000/app" },
	{ "my-registry.io/team/app", "my-registry.io/team/app:latest",
	  "my-registry.io/team/app:latest", "my-registry.io/team/app", "my-registry.io/team/app" },
	/* An uppercase first component can only be a domain. */
	{ "Registry/app", "Registry/app:latest", "Registry/app:latest", "Registry/app",
	  "Registry/app" },
	/* Every separator the grammar allows. */
	{ "user/a.b-c__d---e_f", "docker.io/user/a.b-c__d---e_f:latest",
	  "user/a.b-c__d---e_f:latest", "user/a.b-c__d---e_f", "docker.io/user/a.b-c__d---e_f" },
	{ "busybox:Tag_1.x-Y", "docker.io/library/busybox:Tag_1.x-Y", "busybox:Tag_1.x-Y",
	  "busybox", "docker.io/library/busybox" },
	{ "busybox:_x", "docker.io/library/busybox:_x", "busybox:_x", "busybox",
	  "docker.io/library/busybox" },
	/* Without a slash "localhost:5000" is an image with a tag, as in Docker. */
	{ "localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "localhost",
	  "docker.io/library/localhost" },
	{ "busybox@" DIGEST64, "docker.io/library/busybox@" DIGEST64, "busybox@" DIGEST64,
	  "busybox", "docker.io/library/busybox" },
	{ "busybox:1.36@" DIGEST64, "docker.io/library/busybox:1.36@" DIGEST64,
	  "busybox:1.36@" DIGEST64, "busybox", "docker.io/library/busybox" },
	{ "localhost:5000/app@" DIGEST64, "localhost:5000/app@" DIGEST64,
	  "localhost:5000/app@" DIGEST64, "localhost:5000/app", "localhost:5000/app" },
	/* 64 hex digits are a name when they are not the whole string. */
	{ "user/" HEX64, "docker.io/user/" HEX64 ":latest", "user/" HEX64 ":latest", "user/" HEX64,
	  "docker.io/user/" HEX64 },
	{ "abc123", "docker.io/library/abc123:latest", "abc123:latest", "abc123",
	  "docker.io/library/abc123" },
};

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];
		struct image_reference *ref = NULL;
		struct berr *err = NULL;
		char *s;

		if (image_reference_parse(c->in, &ref, &err) < 0)
			fail_msg("\"%s\": %s", c->in, err->msg);
		assert_null(err);
		s = image_reference_format(ref, &err);
		assert_non_null(s);
		if (strcmp(s, c->full) != 0)
			fail_msg("\"%s\": full \"%s\", want \"%s\"", c->in, s, c->full);
		free(s);
		s = image_reference_format_familiar(ref, &err);
		assert_non_null(s);
		if (strcmp(s, c->familiar) != 0)
			fail_msg("\"%s\": familiar \"%s\", want \"%s\"", c->in, s, c->familiar);
		free(s);
		s = image_reference_familiar_name(ref, &err);
		assert_non_null(s);
		if (strcmp(s, c->familiar_name) != 0)
			fail_msg("\"%s\": name \"%s\", want \"%s\"", c->in, s, c->familiar_name);
		free(s);
		s = image_reference_repository(ref, &err);
		assert_non_null(s);
		if (strcmp(s, c->repository) != 0)
			fail_msg("\"%s\": repository \"%s\", want \"%s\"", c->in, s, c->repository);
		free(s);
		image_reference_free(ref);
	}
}

static void test_fields(void **state)
{
	struct image_reference *ref = NULL;
	struct berr *err = NULL;

	(void)state;
	assert_int_equal(image_reference_parse("registry.example.com:443/a/b/c:tag", &ref, &err),
			 0);
	assert_string_equal(ref->domain, "registry.example.com:443");
	assert_string_equal(ref->path, "a/b/c");
	assert_string_equal(ref->tag, "tag");
	assert_null(ref->digest);
	image_reference_free(ref);

	assert_int_equal(image_reference_parse("busybox", &ref, &err), 0);
	assert_string_equal(ref->domain, "docker.io");
	assert_string_equal(ref->path, "library/busybox");
	assert_string_equal(ref->tag, "latest");
	assert_null(ref->digest);
	image_reference_free(ref);
}

struct invalid_case {
	const char *in;
	const char *msg;
};

#define BAD   "invalid reference format"
#define LOWER "invalid reference format: repository name must be lowercase"

static const struct invalid_case invalid_cases[] = {
	{ "", BAD },
	{ ":", BAD },
	{ "@", BAD },
	{ "/", BAD },
	{ "busybox:", BAD },
	{ "busybox@", BAD },
	{ "busybox:tag@", BAD },
	{ "busybox:a:b", BAD },
	{ "busybox:.tag", BAD },
	{ "busybox:-tag", BAD },
	{ "busybox:t/a", BAD },
	{ "-busybox", BAD },
	{ "busybox-", BAD },
	{ "busybox.", BAD },
	{ "_busybox", BAD },
	{ "a___b", BAD },
	{ "a._b", BAD },
	{ "a//b", BAD },
	{ "/busybox", BAD },
	{ "busybox/", BAD },
	{ "bad name", BAD },
	{ "busy\tbox", BAD },
	{ "a/b/../c", BAD },
	{ "localhost:5000/", BAD },
	{ "localhost:/app", BAD },
	{ "localhost:50a0/app", BAD },
	{ "-host.com/app", BAD },
	{ "host-.com/app", BAD },
	{ "host_x.com/app", BAD },
	{ "host..com/app", BAD },
	{ "[::1/app", BAD },
	{ "[]:5000/app", BAD },
	{ "[::1]x/app", BAD },
	{ "docker.io/", BAD },
	{ "Busybox", LOWER },
	{ "busyBox:latest", LOWER },
	{ "user/App", LOWER },
	{ "Registry/App", LOWER },
	{ "localhost:5000/App", LOWER },
	/* The case is reported before the rest of the grammar, as Docker does. */
	{ "Bad Name", LOWER },
	{ HEX64,
	  "invalid repository name (" HEX64 "), cannot specify 64-byte hexadecimal strings" },
	{ "busybox@sha256:abc", BAD },
	{ "busybox@sha256", BAD },
	{ "busybox@:" HEX64, BAD },
	{ "busybox@sha256:" HEX64 "x", BAD },
	{ "busybox@sha256:" HEX64 "@" DIGEST64, BAD },
	{ "busybox@sha512:" HEX64 HEX64, BAD ": unsupported digest algorithm" },
	{ "busybox@md5:0123456789abcdef0123456789abcdef", BAD ": unsupported digest algorithm" },
	{ "busybox@sha256:0123456789abcdef0123456789abcdef",
	  BAD ": invalid checksum digest length" },
	{ "busybox@sha256:" HEX64 "00", BAD ": invalid checksum digest length" },
	{ "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  BAD ": invalid checksum digest format" },
};

static void test_invalid(void **state)
{
	struct image_reference *null_ref = NULL;
	struct berr *null_err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct image_reference *sentinel = (struct image_reference *)&sentinel;
		struct image_reference *ref = sentinel;
		struct berr *err = NULL;

		if (image_reference_parse(c->in, &ref, &err) == 0)
			fail_msg("\"%s\" was accepted", c->in);
		assert_ptr_equal(ref, sentinel);
		assert_non_null(err);
		assert_int_equal(err->kind, BERR_INVALID);
		if (strcmp(err->msg, c->msg) != 0)
			fail_msg("\"%s\": \"%s\", want \"%s\"", c->in, err->msg, c->msg);
		berr_clear(&err);

		assert_int_equal(image_reference_parse_name(c->in, &ref, &err), -1);
		assert_ptr_equal(ref, sentinel);
		assert_string_equal(err->msg, c->msg);
		berr_clear(&err);
	}

	assert_int_equal(image_reference_parse(NULL, &null_ref, &null_err), -1);
	assert_null(null_ref);
	assert_int_equal(null_err->kind, BERR_INVALID);
	berr_clear(&null_err);
}

static void test_digest(void **state)
{
	char digest[DIGEST_STRING_SIZE];
	struct image_reference *ref = NULL;
	struct berr *err = NULL;
	char *in, *s;

	(void)state;
	digest_bytes("layer", 5, digest);
	in = str_printf("localhost:5000/app:v1@%s", digest);
	assert_non_null(in);
	assert_int_equal(image_reference_parse(in, &ref, &err), 0);
	assert_true(digest_is_valid(ref->digest));
	assert_string_equal(ref->digest, digest);
	assert_string_equal(ref->tag, "v1");
	s = image_reference_format(ref, &err);
	assert_string_equal(s, in);
	free(s);
	image_reference_free(ref);
	free(in);

	/* A digest alone gets no default tag. */
	in = str_printf("busybox@%s", digest);
	assert_int_equal(image_reference_parse(in, &ref, &err), 0);
	assert_null(ref->tag);
	assert_true(digest_is_valid(ref->digest));
	image_reference_free(ref);
	free(in);
}

static void test_parse_name(void **state)
{
	struct image_reference *ref = NULL;
	struct berr *err = NULL;
	char *s;

	(void)state;
	assert_int_equal(image_reference_parse_name("busybox", &ref, &err), 0);
	assert_null(ref->tag);
	assert_null(ref->digest);
	s = image_reference_format(ref, &err);
	assert_string_equal(s, "docker.io/library/busybox");
	free(s);
	s = image_reference_format_familiar(ref, &err);
	assert_string_equal(s, "busybox");
	free(s);
	image_reference_free(ref);

	assert_int_equal(image_reference_parse_name("localhost:5000/app:2", &ref, &err), 0);
	assert_string_equal(ref->tag, "2");
	image_reference_free(ref);
}

/* A string of N copies of C. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_length_limits(void **state)
{
	/* "docker.io/library/" is 18 characters of the 255. */
	const size_t official_max = IMAGE_REFERENCE_NAME_MAX - strlen("docker.io/library/");
	struct image_reference *ref = NULL;
	struct berr *err = NULL;
	char *name, *in;

	(void)state;
	name = repeat('a', official_max);
	assert_int_equal(image_reference_parse(name, &ref, &err), 0);
	assert_int_equal(strlen(ref->domain) + 1 + strlen(ref->path), IMAGE_REFERENCE_NAME_MAX);
	image_reference_free(ref);
	ref = NULL;
	free(name);

	name = repeat('a', official_max + 1);
	assert_int_equal(image_reference_parse(name, &ref, &err), -1);
	assert_null(ref);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_string_equal(err->msg,
			    "invalid reference format: repository name must not be more than 255 "
			    "characters");
	berr_clear(&err);
	free(name);

	/* The limit counts the domain, whatever it is. */
	name = repeat('b', IMAGE_REFERENCE_NAME_MAX - strlen("example.com/"));
	in = str_printf("example.com/%s:tag", name);
	assert_int_equal(image_reference_parse(in, &ref, &err), 0);
	image_reference_free(ref);
	ref = NULL;
	free(in);
	in = str_printf("example.com/%sb:tag", name);
	assert_int_equal(image_reference_parse(in, &ref, &err), -1);
	assert_null(ref);
	berr_clear(&err);
	free(in);
	free(name);

	name = repeat('t', IMAGE_REFERENCE_TAG_MAX);
	in = str_printf("busybox:%s", name);
	assert_int_equal(image_reference_parse(in, &ref, &err), 0);
	assert_int_equal(strlen(ref->tag), IMAGE_REFERENCE_TAG_MAX);
	image_reference_free(ref);
	ref = NULL;
	free(in);
	in = str_printf("busybox:%st", name);
	assert_int_equal(image_reference_parse(in, &ref, &err), -1);
	assert_string_equal(err->msg, "invalid reference format");
	berr_clear(&err);
	free(in);
	free(name);
}

static void test_ids(void **state)
{
	(void)state;
	assert_true(image_reference_is_id(HEX64));
	assert_true(image_reference_is_id(DIGEST64));
	assert_false(image_reference_is_id(NULL));
	assert_false(image_reference_is_id(""));
	assert_false(image_reference_is_id("sha256:"));
	assert_false(image_reference_is_id("0123456789abcdef"));
	assert_false(image_reference_is_id(HEX64 "0"));
	assert_false(image_reference_is_id("0123456789ABCDEF0123456789abcdef0123456789abcdef"
					   "0123456789abcdef"));
	assert_false(image_reference_is_id("sha512:" HEX64));
	assert_false(image_reference_is_id("busybox"));

	assert_true(image_reference_is_id_prefix("a"));
	assert_true(image_reference_is_id_prefix("0123ab"));
	assert_true(image_reference_is_id_prefix("sha256:0123ab"));
	assert_true(image_reference_is_id_prefix(HEX64));
	assert_true(image_reference_is_id_prefix(DIGEST64));
	assert_false(image_reference_is_id_prefix(NULL));
	assert_false(image_reference_is_id_prefix(""));
	assert_false(image_reference_is_id_prefix("sha256:"));
	assert_false(image_reference_is_id_prefix(HEX64 "0"));
	assert_false(image_reference_is_id_prefix("0123AB"));
	assert_false(image_reference_is_id_prefix("busybox"));
	assert_false(image_reference_is_id_prefix("abc:latest"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),	   cmocka_unit_test(test_fields),
		cmocka_unit_test(test_invalid),	   cmocka_unit_test(test_digest),
		cmocka_unit_test(test_parse_name), cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
