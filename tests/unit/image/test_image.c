/* Unit tests for image/image (run as root, in a temporary data root): the
 * chain id rule, lookups by name, id and prefix with Docker's errors, tag
 * moves, and rmi's rules: untag versus delete, forced delete of an image
 * with several references, refusal while a container uses it, and freed
 * layers losing their directory and blob. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_testutil.h"

#include "image/image.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"

#define TAR_MAX (64 * 1024)

/* Imports a one-file layer holding CONTENT under reference REF (may be NULL). */
static void import(struct image_store *st, const char *content, const char *ref,
		   char id[DIGEST_STRING_SIZE])
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char *buf = malloc(TAR_MAX);
	struct berr *err = NULL;
	size_t used = 0;
	int fd;

	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
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
	if (image_import(st, fd, NULL, 0, ref, NULL, id, &err) < 0)
		fail_msg("import: %s", err->msg);
	close(fd);
	free(buf);
}

static void assert_lookup(struct image_store *st, const char *name, const char *id)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	struct berr *err = NULL;

	if (image_store_lookup(st, name, &img, &err) < 0)
		fail_msg("lookup %s: %s", name, err->msg);
	assert_string_equal(img->id, id);
}

static void assert_lookup_fails(struct image_store *st, const char *name, enum berr_kind kind,
				const char *msg_part)
{
	struct store_image *img = NULL;
	struct berr *err = NULL;

	assert_int_equal(image_store_lookup(st, name, &img, &err), -1);
	assert_null(img);
	assert_int_equal(err->kind, kind);
	if (!strstr(err->msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg_part);
	berr_free(err);
}

static size_t image_count(struct image_store *st)
{
	struct store_image **imgs = NULL;
	size_t n = 0;

	assert_int_equal(image_store_list(st, &imgs, &n, NULL), 0);
	store_image_list_free(imgs, n);
	return n;
}

/* The one layer directory of image NAME. */
static char *layer_dir(struct image_store *st, const char *name)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_strv_ char **dirs = NULL;

	assert_int_equal(image_store_lookup(st, name, &img, NULL), 0);
	assert_int_equal(image_store_layer_dirs(st, img, &dirs, NULL), 0);
	assert_int_equal(strv_length(dirs), 1);
	return strdup(dirs[0]);
}

static void test_chain_id(void **state)
{
	const char *a = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *b = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	char out[DIGEST_STRING_SIZE], want[DIGEST_STRING_SIZE];
	_cleanup_free_ char *text = str_printf("%s %s", a, b);

	(void)state;
	image_chain_id(NULL, a, out);
	assert_string_equal(out, a);
	image_chain_id(a, b, out);
	digest_bytes(text, strlen(text), want);
	assert_string_equal(out, want);
	assert_string_not_equal(out, b);
}

static void test_lookup_rules(void **state)
{
	struct fixture *f = *state;
	char ids[20][DIGEST_STRING_SIZE];
	char prefix[2] = { 0 };
	size_t n = 0;
	bool shared = false;

	import(f->st, "one", "localhost:5000/app:1", ids[n++]);
	assert_lookup(f->st, "localhost:5000/app:1", ids[0]);
	assert_lookup_fails(f->st, "localhost:5000/app", BERR_NOT_FOUND,
			    "No such image: localhost:5000/app");
	assert_lookup_fails(f->st, "nope:1", BERR_NOT_FOUND, "No such image: nope:1");
	assert_lookup_fails(
		f->st, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		BERR_NOT_FOUND, "No such image");
	/* Import until two ids share their first digit: a one-digit prefix is
	 * then ambiguous (17 images always suffice). */
	while (!shared && n < 17) {
		char content[16];

		snprintf(content, sizeof(content), "c%zu", n);
		import(f->st, content, NULL, ids[n]);
		for (size_t i = 0; i < n && !shared; i++)
			if (ids[i][7] == ids[n][7]) {
				shared = true;
				prefix[0] = ids[n][7];
			}
		n++;
	}
	assert_true(shared);
	assert_int_equal(image_count(f->st), n);
	assert_lookup_fails(f->st, prefix, BERR_CONFLICT, "");
	for (size_t i = 0; i < n; i++)
		assert_lookup(f->st, ids[i] + strlen("sha256:"), ids[i]);
}

static void test_tag(void **state)
{
	struct fixture *f = *state;
	char a[DIGEST_STRING_SIZE], b[DIGEST_STRING_SIZE];
	char *old = (char *)"unset";
	struct berr *err = NULL;

	import(f->st, "a", "busybox", a);
	import(f->st, "b", "other", b);
	assert_int_equal(image_store_tag(f->st, "busybox", "myrepo/app:v1", &old, NULL), 0);
	assert_null(old);
	assert_lookup(f->st, "myrepo/app:v1", a);
	assert_lookup(f->st, "docker.io/myrepo/app:v1", a);
	/* Moving the tag reports the image it left. */
	assert_int_equal(image_store_tag(f->st, b, "myrepo/app:v1", &old, NULL), 0);
	assert_non_null(old);
	assert_string_equal(old, a);
	free(old);
	assert_lookup(f->st, "myrepo/app:v1", b);
	/* "busybox" as a new tag means busybox:latest. */
	assert_int_equal(image_store_tag(f->st, "other", "busybox", &old, NULL), 0);
	assert_string_equal(old, a);
	free(old);
	assert_lookup(f->st, "busybox:latest", b);

	assert_int_equal(image_store_tag(f->st, "other", "Bad:Name", NULL, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "invalid reference format"));
	berr_clear(&err);
	assert_int_equal(
		image_store_tag(
			f->st, "other",
			"x@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			NULL, &err),
		-1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(image_store_tag(f->st, "missing", "x:1", NULL, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_non_null(strstr(err->msg, "No such image: missing"));
	berr_clear(&err);
}

static void test_rmi_untag_then_delete(void **state)
{
	struct fixture *f = *state;
	char a[DIGEST_STRING_SIZE];
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *blobs = str_printf("%s/blobs/sha256", f->root);
	struct image_remove_result res = { 0 };
	struct berr *err = NULL;
	char want[128];

	import(f->st, "a", "busybox", a);
	assert_int_equal(image_store_tag(f->st, "busybox", "a:1", NULL, NULL), 0);
	assert_int_equal(image_store_tag(f->st, "busybox", "a:2", NULL, NULL), 0);
	dir = layer_dir(f->st, "busybox");
	assert_true(fs_exists(dir));

	/* One tag among several: only the tag goes. */
	assert_int_equal(image_store_remove(f->st, "a:1", false, NULL, NULL, &res, NULL), 0);
	assert_null(res.deleted);
	assert_int_equal(strv_length(res.untagged), 1);
	assert_string_equal(res.untagged[0], "a:1");
	image_remove_result_clear(&res);
	assert_lookup_fails(f->st, "a:1", BERR_NOT_FOUND, "No such image: a:1");
	assert_lookup(f->st, "a:2", a);

	/* By id with two references: must be forced. */
	assert_int_equal(image_store_remove(f->st, a, false, NULL, NULL, &res, &err), -1);
	assert_int_equal(err->kind, BERR_CONFLICT);
	snprintf(want, sizeof(want),
		 "conflict: unable to delete %.12s (must be forced) - image is referenced in "
		 "multiple repositories",
		 a + strlen("sha256:"));
	assert_string_equal(err->msg, want);
	berr_clear(&err);
	assert_lookup(f->st, "busybox", a);
	assert_true(fs_exists(dir));

	assert_int_equal(
		image_store_remove(f->st, a + strlen("sha256:"), true, NULL, NULL, &res, NULL), 0);
	assert_non_null(res.deleted);
	assert_string_equal(res.deleted, a);
	assert_int_equal(strv_length(res.untagged), 2);
	assert_true(strv_contains(res.untagged, "busybox:latest"));
	assert_true(strv_contains(res.untagged, "a:2"));
	image_remove_result_clear(&res);
	assert_int_equal(image_count(f->st), 0);
	assert_false(fs_exists(dir));
	/* The layer blob and the config blob went with it. */
	{
		_cleanup_closedir_ DIR *d = opendir(blobs);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d)))
			assert_int_equal(de->d_name[0], '.');
	}
	assert_int_equal(image_store_remove(f->st, "busybox", false, NULL, NULL, NULL, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
}

static void test_rmi_last_tag_deletes(void **state)
{
	struct fixture *f = *state;
	char a[DIGEST_STRING_SIZE];
	_cleanup_free_ char *dir = NULL;
	struct image_remove_result res = { 0 };

	import(f->st, "solo", "solo:1", a);
	dir = layer_dir(f->st, "solo:1");
	assert_int_equal(image_store_remove(f->st, "solo:1", false, NULL, NULL, &res, NULL), 0);
	assert_non_null(res.deleted);
	assert_string_equal(res.untagged[0], "solo:1");
	image_remove_result_clear(&res);
	assert_false(fs_exists(dir));
	assert_int_equal(image_count(f->st), 0);
}

static void test_rmi_by_id_one_repository(void **state)
{
	struct fixture *f = *state;
	char a[DIGEST_STRING_SIZE], name[160];
	const char *digest =
		"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	struct store_ref ref = { .name = name, .repo = (char *)"docker.io/library/busybox" };
	struct image_remove_result res = { 0 };
	struct berr *err = NULL;

	/* A tag and a digest of the same repository: one repository, so the id
	 * alone deletes it. */
	import(f->st, "pulled", "busybox", a);
	snprintf(name, sizeof(name), "docker.io/library/busybox@%s", digest);
	ref.digest = (char *)digest;
	assert_int_equal(store_ref_add(image_store_db(f->st), &ref, a, NULL, NULL), 0);
	assert_lookup(f->st, name, a);
	assert_int_equal(image_store_remove(f->st, a, false, NULL, NULL, &res, NULL), 0);
	assert_string_equal(res.deleted, a);
	assert_int_equal(strv_length(res.untagged), 2);
	assert_true(strv_contains(res.untagged, "busybox:latest"));
	image_remove_result_clear(&res);

	/* A digest of another repository: two repositories. */
	import(f->st, "pulled", "busybox", a);
	snprintf(name, sizeof(name), "docker.io/library/other@%s", digest);
	ref.repo = (char *)"docker.io/library/other";
	assert_int_equal(store_ref_add(image_store_db(f->st), &ref, a, NULL, NULL), 0);
	assert_int_equal(image_store_remove(f->st, a, false, NULL, NULL, &res, &err), -1);
	assert_int_equal(err->kind, BERR_CONFLICT);
	berr_clear(&err);
	assert_int_equal(image_count(f->st), 1);
}

static void test_two_layers(void **state)
{
	struct fixture *f = *state;
	const char *d0 = "sha256:0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *d1 = "sha256:1bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = image_config_new(NULL);
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *bottom = NULL;
	_cleanup_free_ char *top = NULL;
	_cleanup_free_ char *lower = NULL;
	_cleanup_json_ json_t *j = NULL;
	char c1[DIGEST_STRING_SIZE], id[DIGEST_STRING_SIZE];
	struct store_layer layers[2];
	struct store_image_spec spec;
	json_t *data, *diffs;
	size_t len;

	assert_non_null(cfg);
	assert_int_equal(image_config_add_diff_id(cfg, d0, NULL), 0);
	assert_int_equal(image_config_add_diff_id(cfg, d1, NULL), 0);
	assert_int_equal(image_config_format(cfg, &text, &len, NULL), 0);
	digest_bytes(text, len, id);
	image_chain_id(d0, d1, c1);
	bottom = str_printf("%s/layers/%s", f->root, d0 + strlen("sha256:"));
	top = str_printf("%s/layers/%s", f->root, c1 + strlen("sha256:"));
	assert_int_equal(mkdir(bottom, 0755), 0);
	assert_int_equal(mkdir(top, 0755), 0);
	layers[0] = (struct store_layer){
		.chain_id = (char *)d0, .diff_id = (char *)d0, .path = bottom, .size = 1
	};
	layers[1] = (struct store_layer){
		.chain_id = c1, .diff_id = (char *)d1, .path = top, .size = 1
	};
	spec = (struct store_image_spec){
		.id = id, .config = text, .created = 1, .size = 2, .layers = layers, .n_layers = 2
	};
	assert_int_equal(store_image_add(image_store_db(f->st), &spec, NULL), 0);

	assert_int_equal(image_store_lookup(f->st, id, &img, NULL), 0);
	assert_int_equal(image_store_layer_dirs(f->st, img, &dirs, NULL), 0);
	assert_int_equal(strv_length(dirs), 2);
	assert_string_equal(dirs[0], bottom);
	assert_string_equal(dirs[1], top);
	assert_int_equal(image_inspect_json(f->st, img, &j, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(j, "RepoTags")), 0);
	data = json_object_get(json_object_get(j, "GraphDriver"), "Data");
	lower = str_printf("%s:%s", top, bottom);
	assert_string_equal(json_string_value(json_object_get(data, "LowerDir")), lower);
	assert_string_equal(json_string_value(json_object_get(data, "UpperDir")), top);
	diffs = json_object_get(json_object_get(j, "RootFS"), "Layers");
	assert_int_equal(json_array_size(diffs), 2);
	assert_string_equal(json_string_value(json_array_get(diffs, 0)), d0);
	assert_string_equal(json_string_value(json_array_get(diffs, 1)), d1);
	assert_int_equal(json_integer_value(json_object_get(j, "Size")), 2);

	/* Both layers are freed with the image, and their directories go. */
	assert_int_equal(image_store_remove(f->st, id, false, NULL, NULL, NULL, NULL), 0);
	assert_false(fs_exists(bottom));
	assert_false(fs_exists(top));
}

static bool never_running(const char *user_id, void *arg)
{
	(*(int *)arg)++;
	return false;
}

static void test_rmi_in_use(void **state)
{
	struct fixture *f = *state;
	char a[DIGEST_STRING_SIZE], want[256];
	struct image_remove_result res = { 0 };
	_cleanup_free_ char *dir = NULL;
	struct berr *err = NULL;
	int asked = 0;

	import(f->st, "used", "used:1", a);
	dir = layer_dir(f->st, "used:1");
	assert_int_equal(store_image_user_add(image_store_db(f->st), a, "ctr123", NULL), 0);

	/* Untagging would leave the container's image dangling. */
	assert_int_equal(image_store_remove(f->st, "used:1", false, NULL, NULL, NULL, &err), -1);
	assert_int_equal(err->kind, BERR_CONFLICT);
	snprintf(want, sizeof(want),
		 "conflict: unable to remove repository reference \"used:1\" (must force) - "
		 "container ctr123 is using its referenced image %.12s",
		 a + strlen("sha256:"));
	assert_string_equal(err->msg, want);
	berr_clear(&err);

	/* A running user is a conflict even with force (NULL: all run). */
	assert_int_equal(image_store_remove(f->st, "used:1", true, NULL, NULL, NULL, &err), -1);
	snprintf(want, sizeof(want),
		 "conflict: unable to delete %.12s (cannot be forced) - image is being used by "
		 "running container ctr123",
		 a + strlen("sha256:"));
	assert_string_equal(err->msg, want);
	berr_clear(&err);

	/* A stopped one needs force by id... */
	assert_int_equal(image_store_remove(f->st, a, false, never_running, &asked, NULL, &err),
			 -1);
	snprintf(want, sizeof(want),
		 "conflict: unable to delete %.12s (must be forced) - image is being used by "
		 "stopped container ctr123",
		 a + strlen("sha256:"));
	assert_string_equal(err->msg, want);
	berr_clear(&err);
	assert_true(asked > 0);
	assert_lookup(f->st, "used:1", a);

	/* ...and with force only the references go: the container keeps
	 * the image and its layer. */
	assert_int_equal(
		image_store_remove(f->st, "used:1", true, never_running, &asked, &res, NULL), 0);
	assert_null(res.deleted);
	assert_string_equal(res.untagged[0], "used:1");
	image_remove_result_clear(&res);
	assert_int_equal(image_count(f->st), 1);
	assert_lookup(f->st, a, a);
	assert_true(fs_exists(dir));

	/* Once the container is gone, the image goes. */
	assert_int_equal(store_image_user_remove(image_store_db(f->st), "ctr123", NULL), 0);
	assert_int_equal(image_store_remove(f->st, a, false, NULL, NULL, &res, NULL), 0);
	assert_string_equal(res.deleted, a);
	image_remove_result_clear(&res);
	assert_int_equal(image_count(f->st), 0);
	assert_false(fs_exists(dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_id),
		cmocka_unit_test_setup_teardown(test_lookup_rules, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_tag, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_rmi_untag_then_delete, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_rmi_last_tag_deletes, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_rmi_by_id_one_repository, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_two_layers, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_rmi_in_use, store_setup, store_teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_image needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
