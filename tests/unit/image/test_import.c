/* Unit tests for image/import (run as root, in a temporary data root): a
 * tar made here, plain or gzip, becomes an image found by name, id and id
 * prefix, whose inspect shape, layer directory and config are right; two
 * imports of the same content share one layer; a hostile or truncated
 * archive and a bad change are refused leaving the data root exactly as it
 * was; and opening the store removes what a killed import left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
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

#define TAR_MAX (1024 * 1024)

/* A tar holding bin/hello (the text CONTENT) and, when ESCAPE, an entry
 * named ../escape; compressed with FILTER. */
static char *make_tar(const char *content, bool escape, int filter, size_t *len)
{
	struct archive *a = archive_write_new();
	char *buf = malloc(TAR_MAX);
	const char *names[] = { "bin/", "bin/hello", escape ? "../escape" : NULL };
	size_t used = 0;

	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	for (size_t i = 0; i < 3 && names[i]; i++) {
		struct archive_entry *ae = archive_entry_new();
		bool dir = i == 0;
		size_t dlen = dir ? 0 : strlen(content);

		archive_entry_set_pathname(ae, names[i]);
		archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ae, dir ? 0755 : 0755);
		archive_entry_set_mtime(ae, 1600000000, 0);
		archive_entry_set_size(ae, (la_int64_t)dlen);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (dlen)
			assert_int_equal(archive_write_data(a, content, dlen), (la_ssize_t)dlen);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = used;
	return buf;
}

static int do_import(struct image_store *st, const void *tar, size_t len,
		     const char *const *changes, size_t n, const char *ref, const char *msg,
		     char id[DIGEST_STRING_SIZE], struct berr **err)
{
	int fd = data_fd(tar, len);
	int r = image_import(st, fd, changes, n, ref, msg, id, err);

	close(fd);
	return r;
}

static void import_ok(struct image_store *st, const void *tar, size_t len,
		      const char *const *changes, size_t n, const char *ref,
		      char id[DIGEST_STRING_SIZE])
{
	struct berr *err = NULL;

	if (do_import(st, tar, len, changes, n, ref, "imported", id, &err) < 0)
		fail_msg("import: %s", err->msg);
	assert_true(digest_is_valid(id));
}

/* A listing of everything under the data root but the database files:
 * "path mode size" lines in walk order, sorted afterwards by the caller's
 * comparison of whole strings. */
static char *listing_buf;
static size_t listing_len;

static int list_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	if (strstr(path, "berth.db"))
		return 0;
	char *line = str_printf("%s %o %lld\n", path, sb->st_mode, (long long)sb->st_size);
	size_t n = strlen(line);

	listing_buf = realloc(listing_buf, listing_len + n + 1);
	memcpy(listing_buf + listing_len, line, n + 1);
	listing_len += n;
	free(line);
	return 0;
}

static char *snapshot(const char *root, struct image_store *st)
{
	struct store_image **imgs = NULL;
	size_t n = 0;
	char *out;

	listing_buf = strdup("");
	listing_len = 0;
	assert_int_equal(nftw(root, list_one, 16, FTW_PHYS), 0);
	assert_int_equal(image_store_list(st, &imgs, &n, NULL), 0);
	store_image_list_free(imgs, n);
	out = str_printf("%simages %zu\n", listing_buf, n);
	free(listing_buf);
	listing_buf = NULL;
	return out;
}

static json_t *inspect(struct image_store *st, const char *name)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	struct berr *err = NULL;
	json_t *j = NULL;

	if (image_store_lookup(st, name, &img, &err) < 0)
		fail_msg("lookup %s: %s", name, err->msg);
	if (image_inspect_json(st, img, &j, &err) < 0)
		fail_msg("inspect %s: %s", name, err->msg);
	return j;
}

static void assert_lookup(struct image_store *st, const char *name, const char *id)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	struct berr *err = NULL;

	if (image_store_lookup(st, name, &img, &err) < 0)
		fail_msg("lookup %s: %s", name, err->msg);
	assert_string_equal(img->id, id);
}

static size_t count_dir(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static void test_import_and_inspect(void **state)
{
	struct fixture *f = *state;
	const char *changes[] = { "CMD [\"/bin/hello\", \"-v\"]", "ENV A=1" };
	char id[DIGEST_STRING_SIZE], diff[DIGEST_STRING_SIZE], cfgd[DIGEST_STRING_SIZE];
	_cleanup_free_ char *tar = NULL;
	_cleanup_free_ char *cfgtext = NULL;
	_cleanup_free_ char *hello = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_close_ int cfd = -1;
	size_t len, clen;
	json_t *data, *layers, *tags, *cmd;
	const char *lower;

	tar = make_tar("#!/bin/sh\necho hello\n", false, ARCHIVE_FILTER_NONE, &len);
	digest_bytes(tar, len, diff);
	import_ok(f->st, tar, len, changes, 2, "busybox", id);

	/* The id is the digest of the config as stored. */
	cfd = image_blob_open(image_store_blobs(f->st), id, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(fs_read_all_fd(cfd, IMAGE_CONFIG_MAX, &cfgtext, &clen, NULL), 0);
	digest_bytes(cfgtext, clen, cfgd);
	assert_string_equal(cfgd, id);
	/* The archive is a blob too. */
	assert_true(image_blob_exists(image_store_blobs(f->st), diff));

	assert_lookup(f->st, "busybox:latest", id);
	assert_lookup(f->st, "busybox", id);
	assert_lookup(f->st, "docker.io/library/busybox:latest", id);
	assert_lookup(f->st, id, id);
	assert_lookup(f->st, id + strlen("sha256:"), id);
	{
		char prefix[16];

		snprintf(prefix, sizeof(prefix), "%.12s", id + strlen("sha256:"));
		assert_lookup(f->st, prefix, id);
	}

	j = inspect(f->st, "busybox");
	assert_string_equal(json_string_value(json_object_get(j, "Id")), id);
	tags = json_object_get(j, "RepoTags");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_array_get(tags, 0)), "busybox:latest");
	assert_int_equal(json_array_size(json_object_get(j, "RepoDigests")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "Comment")), "imported");
	assert_string_equal(json_string_value(json_object_get(j, "Os")), "linux");
	assert_string_equal(json_string_value(json_object_get(j, "Parent")), "");
	assert_true(json_is_object(json_object_get(j, "ContainerConfig")));
	assert_true(json_integer_value(json_object_get(j, "Size")) > 0);
	layers = json_object_get(json_object_get(j, "RootFS"), "Layers");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "RootFS"), "Type")), "layers");
	assert_int_equal(json_array_size(layers), 1);
	assert_string_equal(json_string_value(json_array_get(layers, 0)), diff);
	cmd = json_object_get(json_object_get(j, "Config"), "Cmd");
	assert_int_equal(json_array_size(cmd), 2);
	assert_string_equal(json_string_value(json_array_get(cmd, 0)), "/bin/hello");
	assert_string_equal(json_string_value(json_array_get(cmd, 1)), "-v");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(j, "Config"), "Env"), 0)),
			    "A=1");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "GraphDriver"), "Name")),
		"overlay2");
	data = json_object_get(json_object_get(j, "GraphDriver"), "Data");
	lower = json_string_value(json_object_get(data, "LowerDir"));
	assert_non_null(lower);
	assert_true(str_has_prefix(lower, f->root));
	path = str_printf("%s/bin/hello", lower);
	assert_int_equal(fs_read_file(path, 1024, &hello, &clen, NULL), 0);
	assert_string_equal(hello, "#!/bin/sh\necho hello\n");
	/* The layer directory is named by the chain id, here the DiffID. */
	assert_string_equal(strrchr(lower, '/') + 1, diff + strlen("sha256:"));
	assert_non_null(json_object_get(json_object_get(j, "Metadata"), "LastTagTime"));
}

static void test_gzip_shares_layer(void **state)
{
	struct fixture *f = *state;
	char id1[DIGEST_STRING_SIZE], id2[DIGEST_STRING_SIZE], diff[DIGEST_STRING_SIZE];
	_cleanup_free_ char *tar = NULL;
	_cleanup_free_ char *gz = NULL;
	_cleanup_free_ char *layers = str_printf("%s/layers", f->root);
	_cleanup_free_ char *blobs = str_printf("%s/blobs/sha256", f->root);
	struct image_remove_result res = { 0 };
	size_t len, gzlen;
	json_t *j;

	tar = make_tar("same", false, ARCHIVE_FILTER_NONE, &len);
	gz = make_tar("same", false, ARCHIVE_FILTER_GZIP, &gzlen);
	assert_true(gzlen != len || memcmp(tar, gz, len) != 0);
	digest_bytes(tar, len, diff);
	import_ok(f->st, gz, gzlen, NULL, 0, "first:1", id1);
	/* The DiffID is of the uncompressed tar. */
	j = inspect(f->st, "first:1");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(j, "RootFS"), "Layers"), 0)),
			    diff);
	json_decref(j);
	sleep(0); /* the second config differs by its created time anyway */
	import_ok(f->st, tar, len, NULL, 0, "second:1", id2);
	assert_string_not_equal(id1, id2);
	assert_int_equal(count_dir(layers), 1);
	/* The store kept the layer's first blob; the plain tar was not kept. */
	assert_int_equal(count_dir(blobs), 3);

	assert_int_equal(image_store_remove(f->st, "first:1", false, NULL, NULL, &res, NULL), 0);
	assert_non_null(res.deleted);
	image_remove_result_clear(&res);
	assert_int_equal(count_dir(layers), 1);
	assert_int_equal(count_dir(blobs), 2);
	assert_lookup(f->st, "second:1", id2);
	assert_int_equal(image_store_remove(f->st, "second:1", false, NULL, NULL, &res, NULL), 0);
	image_remove_result_clear(&res);
	assert_int_equal(count_dir(layers), 0);
	assert_int_equal(count_dir(blobs), 0);
}

static void refused(struct fixture *f, const void *tar, size_t len, const char *const *changes,
		    size_t n, const char *ref, enum berr_kind kind, const char *msg_part)
{
	_cleanup_free_ char *before = snapshot(f->root, f->st);
	_cleanup_free_ char *after = NULL;
	char id[DIGEST_STRING_SIZE] = "untouched";
	struct berr *err = NULL;

	assert_int_equal(do_import(f->st, tar, len, changes, n, ref, NULL, id, &err), -1);
	assert_string_equal(id, "untouched");
	assert_int_equal(err->kind, kind);
	if (!strstr(err->msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg_part);
	berr_free(err);
	after = snapshot(f->root, f->st);
	assert_string_equal(before, after);
}

static void test_bad_input_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char id[DIGEST_STRING_SIZE];
	_cleanup_free_ char *good = NULL;
	_cleanup_free_ char *evil = NULL;
	const char *bad_change[] = { "FOO bar" };
	size_t glen, elen;

	good = make_tar("good", false, ARCHIVE_FILTER_NONE, &glen);
	evil = make_tar("good", true, ARCHIVE_FILTER_NONE, &elen);
	/* On an empty store and on one that holds an image. */
	for (int round = 0; round < 2; round++) {
		refused(f, evil, elen, NULL, 0, "evil", BERR_INVALID, "escape");
		/* Cut inside the file's data: a truncated archive. */
		refused(f, good, 1024 + 2, NULL, 0, "cut", BERR_INVALID, "");
		refused(f, good, glen, bad_change, 1, "x", BERR_INVALID,
			"unknown instruction: FOO");
		refused(f, good, glen, NULL, 0, "UPPER", BERR_INVALID, "invalid reference format");
		refused(f, "garbage garbage garbage", 23, NULL, 0, NULL, BERR_INVALID, "");
		if (round == 0) {
			_cleanup_free_ char *snap = NULL;

			import_ok(f->st, good, glen, NULL, 0, "kept", id);
			snap = snapshot(f->root, f->st);
			/* The listing sees what an import adds. */
			assert_non_null(strstr(snap, "/layers/"));
			assert_non_null(strstr(snap, "/blobs/sha256/"));
			assert_non_null(strstr(snap, "images 1\n"));
		}
	}
	/* The same content refused after an import of it keeps the import's blob. */
	refused(f, good, glen, bad_change, 1, NULL, BERR_INVALID, "FOO");
	assert_lookup(f->st, "kept", id);
}

static void test_open_cleans_leftovers(void **state)
{
	struct fixture *f = *state;
	char id[DIGEST_STRING_SIZE];
	_cleanup_free_ char *tar = NULL;
	_cleanup_free_ char *tmpdir = str_printf("%s/layers/x.tmp-123", f->root);
	_cleanup_free_ char *unknown = str_printf(
		"%s/layers/1111111111111111111111111111111111111111111111111111111111111111",
		f->root);
	_cleanup_free_ char *blobtmp = str_printf("%s/tmp/blob-leftover", f->root);
	_cleanup_free_ char *tmpfile = str_printf("%s/file", tmpdir);
	struct store_image *img = NULL;
	char **dirs = NULL;
	size_t len;

	tar = make_tar("keep me", false, ARCHIVE_FILTER_NONE, &len);
	import_ok(f->st, tar, len, NULL, 0, "kept", id);
	image_store_free(f->st);
	f->st = NULL;
	assert_int_equal(mkdir(tmpdir, 0700), 0);
	assert_int_equal(fs_write_file_atomic(tmpfile, "x", 1, 0600, NULL), 0);
	assert_int_equal(mkdir(unknown, 0700), 0);
	assert_int_equal(fs_write_file_atomic(blobtmp, "partial", 7, 0600, NULL), 0);

	assert_int_equal(image_store_open(f->root, &f->st, NULL), 0);
	assert_false(fs_exists(tmpdir));
	assert_false(fs_exists(unknown));
	assert_false(fs_exists(blobtmp));
	/* What the database knows stays. */
	assert_int_equal(image_store_lookup(f->st, "kept", &img, NULL), 0);
	assert_int_equal(image_store_layer_dirs(f->st, img, &dirs, NULL), 0);
	assert_int_equal(strv_length(dirs), 1);
	assert_true(fs_exists(dirs[0]));
	strv_free(dirs);
	store_image_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_and_inspect, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_gzip_shares_layer, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_leaves_nothing, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_open_cleans_leftovers, store_setup,
						store_teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_import needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
