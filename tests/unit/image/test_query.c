/* Unit tests for image/query (run as root, in a temporary data root): the
 * image list with each of Docker's filters and their errors, a reference
 * filter showing only the tags that match, and an image's history newest
 * first with the layer's size and the image's tags on the top step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_testutil.h"

#include "image/image.h"
#include "image/query.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* Imports a one-file layer holding CONTENT with CHANGES (NULL-terminated)
 * as REF (may be NULL); the id goes to ID. */
static void import(struct image_store *st, const char *content, const char *const *changes,
		   const char *ref, char id[DIGEST_STRING_SIZE])
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	static char buf[64 * 1024];
	struct berr *err = NULL;
	size_t used = 0, n = 0;
	int fd;

	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf), &used), ARCHIVE_OK);
	archive_entry_set_pathname(ae, "file");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, (la_int64_t)strlen(content));
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, content, strlen(content)),
			 (la_ssize_t)strlen(content));
	archive_entry_free(ae);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);

	fd = memfd_create("tar", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, buf, used), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while (changes && changes[n])
		n++;
	if (image_import(st, fd, changes, n, ref, "test", id, &err) < 0)
		fail_msg("import: %s", err->msg);
	close(fd);
}

/* The ids the list with FILTERS (NULL-terminated "k=v") holds, as one
 * space-separated string in list order. */
static char *list_ids(struct image_store *st, const char *const *filters)
{
	struct image_filters f = { .dangling = -1 };
	struct berr *err = NULL;
	json_t *arr = NULL, *img;
	char *out = calloc(1, 4096);
	size_t i;

	assert_non_null(out);
	for (size_t k = 0; filters && filters[k]; k++)
		if (image_filters_add(&f, filters[k], &err) < 0)
			fail_msg("filter %s: %s", filters[k], err->msg);
	if (image_list_json(st, &f, &arr, &err) < 0)
		fail_msg("list: %s", err->msg);
	json_array_foreach (arr, i, img) {
		if (i)
			strcat(out, " ");
		strncat(out, json_string_value(json_object_get(img, "Id")), 80);
	}
	json_decref(arr);
	image_filters_clear(&f);
	return out;
}

static void expect_ids(struct image_store *st, const char *const *filters, const char *want)
{
	char *got = list_ids(st, filters);

	assert_string_equal(got, want);
	free(got);
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	char a[DIGEST_STRING_SIZE], b[DIGEST_STRING_SIZE], c[DIGEST_STRING_SIZE];
	char want[512];

	import(f->st, "a", (const char *const[]){ "LABEL tier=front", "LABEL env=prod", NULL },
	       "app:1", a);
	sleep(1); /* created times one second apart, for before and since */
	import(f->st, "b", (const char *const[]){ "LABEL tier=back", NULL }, "app:2", b);
	sleep(1);
	import(f->st, "c", (const char *const[]){ "LABEL tier=front", NULL }, NULL, c);

	snprintf(want, sizeof(want), "%s %s %s", c, b, a);
	expect_ids(f->st, NULL, want);
	expect_ids(f->st, (const char *const[]){ "dangling=true", NULL }, c);
	snprintf(want, sizeof(want), "%s %s", b, a);
	expect_ids(f->st, (const char *const[]){ "dangling=false", NULL }, want);
	expect_ids(f->st, (const char *const[]){ "reference=app", NULL }, want);
	expect_ids(f->st, (const char *const[]){ "reference=app:1", "reference=app:2", NULL },
		   want);
	expect_ids(f->st, (const char *const[]){ "reference=a*:1", NULL }, a);
	expect_ids(f->st, (const char *const[]){ "reference=*/app", NULL }, "");
	expect_ids(f->st, (const char *const[]){ "label=tier=front", "label=env", NULL }, a);
	snprintf(want, sizeof(want), "%s %s", c, a);
	expect_ids(f->st, (const char *const[]){ "label=tier=front", NULL }, want);
	expect_ids(f->st, (const char *const[]){ "before=app:2", NULL }, a);
	snprintf(want, sizeof(want), "%s %s", c, b);
	expect_ids(f->st, (const char *const[]){ "since=app:1", NULL }, want);
}

static void test_reference_filter_shows_matching_tags(void **state)
{
	struct fixture *f = *state;
	struct image_filters flt = { .dangling = -1 };
	char id[DIGEST_STRING_SIZE];
	struct berr *err = NULL;
	json_t *arr = NULL, *tags;

	import(f->st, "x", NULL, "web:1", id);
	assert_int_equal(image_store_tag(f->st, "web:1", "localhost:5000/web:1", NULL, &err), 0);
	assert_int_equal(image_filters_add(&flt, "reference=web", &err), 0);
	assert_int_equal(image_list_json(f->st, &flt, &arr, &err), 0);
	assert_int_equal(json_array_size(arr), 1);
	tags = json_object_get(json_array_get(arr, 0), "RepoTags");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_array_get(tags, 0)), "web:1");
	json_decref(arr);
	image_filters_clear(&flt);
}

static void test_filter_errors(void **state)
{
	struct image_filters flt = { .dangling = -1 };
	struct fixture *f = *state;
	struct berr *err = NULL;
	json_t *arr = NULL;

	assert_int_equal(image_filters_add(&flt, "colour=red", &err), -1);
	assert_string_equal(err->msg, "invalid filter 'colour'");
	berr_free(err);
	err = NULL;
	assert_int_equal(image_filters_add(&flt, "dangling=maybe", &err), -1);
	assert_string_equal(err->msg, "Invalid filter 'dangling=maybe'");
	berr_free(err);
	err = NULL;
	assert_int_equal(image_filters_add(&flt, "dangling", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_free(err);
	err = NULL;
	assert_int_equal(image_filters_add(&flt, "since=nosuch", &err), 0);
	assert_int_equal(image_list_json(f->st, &flt, &arr, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_string_equal(err->msg, "No such image: nosuch");
	berr_free(err);
	image_filters_clear(&flt);
}

static void test_history(void **state)
{
	struct fixture *f = *state;
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	char id[DIGEST_STRING_SIZE];
	struct berr *err = NULL;
	json_t *steps = NULL, *top;

	import(f->st, "hello", NULL, "hist:1", id);
	assert_int_equal(image_store_lookup(f->st, "hist:1", &img, &err), 0);
	assert_int_equal(image_history_json(f->st, img, &steps, &err), 0);
	assert_int_equal(json_array_size(steps), 1);
	top = json_array_get(steps, 0);
	assert_string_equal(json_string_value(json_object_get(top, "Id")), id);
	assert_string_equal(json_string_value(json_object_get(top, "CreatedBy")), "import");
	assert_string_equal(json_string_value(json_object_get(top, "Comment")), "test");
	assert_string_equal(json_string_value(json_array_get(json_object_get(top, "Tags"), 0)),
			    "hist:1");
	/* The step made the layer: its size is the layer's content, as
	 * Docker counts it: the one file of 5 bytes. */
	assert_int_equal(json_integer_value(json_object_get(top, "Size")), 5);
	assert_true(json_integer_value(json_object_get(top, "Created")) > 1700000000);
	json_decref(steps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_reference_filter_shows_matching_tags,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_filter_errors, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_history, store_setup, store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
