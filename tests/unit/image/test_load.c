/* Unit tests for image/load (run as root, in a temporary data root).  The
 * archives are built here with libarchive's writer: docker-archives as
 * Docker 20.10 and Docker 25+ write them, OCI layouts with annotations and
 * nested indexes, whole-archive gzip and zstd and compressed OCI layers.
 * Loads share layers, move tags and print Docker's lines; hostile or
 * broken archives are refused leaving the data root exactly as it was; a
 * load killed mid-stream leaves nothing after the next open; and a load of
 * eight layers unpacks them all.  Also store_blob_digests_in_use(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_testutil.h"

#include "image/archive.h"
#include "image/image.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* ---- building archives ---- */

/* Bytes with their digest. */
struct blob {
	char *data;
	size_t len;
	char digest[DIGEST_STRING_SIZE];
};

static struct blob blob_take(char *data, size_t len)
{
	struct blob b = { .data = data, .len = len };

	digest_bytes(data, len, b.digest);
	return b;
}

static struct blob blob_str(char *text)
{
	return blob_take(text, strlen(text));
}

static const char *hex(const char *digest)
{
	return digest + strlen("sha256:");
}

/* A tar being written into memory. */
struct tw {
	struct archive *a;
	char *data;
	size_t len, cap;
	char **names; /* written already: a shared file goes in once */
};

static la_ssize_t tw_write_cb(struct archive *a, void *opaque, const void *buf, size_t n)
{
	struct tw *t = opaque;

	(void)a;
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->data = realloc(t->data, t->cap);
		assert_non_null(t->data);
	}
	memcpy(t->data + t->len, buf, n);
	t->len += n;
	return (la_ssize_t)n;
}

static void tw_open(struct tw *t, int filter)
{
	memset(t, 0, sizeof(*t));
	t->a = archive_write_new();
	assert_non_null(t->a);
	assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(t->a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(t->a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(t->a, t, NULL, tw_write_cb, NULL), ARCHIVE_OK);
}

/* Adds an entry: TYPE 'f' a file of LEN bytes at DATA, 'd' a directory,
 * 'l' a symlink and 'h' a hardlink to DATA. */
static void tw_add(struct tw *t, char type, const char *name, const void *data, size_t len)
{
	struct archive_entry *ae = archive_entry_new();

	if (strv_contains(t->names, name)) {
		archive_entry_free(ae);
		return;
	}
	assert_int_equal(strv_append(&t->names, name), 0);
	archive_entry_set_pathname(ae, name);
	archive_entry_set_mtime(ae, 1600000000, 0);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	switch (type) {
	case 'f':
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)len);
		break;
	case 'd':
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
		break;
	case 'l':
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_set_perm(ae, 0777);
		archive_entry_set_symlink(ae, data);
		break;
	case 'h':
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_hardlink(ae, data);
		archive_entry_set_size(ae, 0);
		break;
	}
	assert_int_equal(archive_write_header(t->a, ae), ARCHIVE_OK);
	if (type == 'f' && len)
		assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
	archive_entry_free(ae);
}

static void tw_file(struct tw *t, const char *name, const struct blob *b)
{
	tw_add(t, 'f', name, b->data, b->len);
}

static void tw_text(struct tw *t, const char *name, const char *text)
{
	tw_add(t, 'f', name, text, strlen(text));
}

static struct blob tw_close(struct tw *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	strv_free(t->names);
	return blob_take(t->data, t->len);
}

/* PLAIN (taken) compressed with FILTER. */
static struct blob compress(struct blob *plain, int filter)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct tw t = { 0 };

	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, &t, NULL, tw_write_cb, NULL), ARCHIVE_OK);
	archive_entry_set_pathname(ae, "data");
	archive_entry_set_filetype(ae, AE_IFREG);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, plain->data, plain->len), (la_ssize_t)plain->len);
	archive_entry_free(ae);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(plain->data);
	return blob_take(t.data, t.len);
}

/* One entry of a layer made here. */
struct tentry {
	char type; /* as tw_add() */
	const char *name;
	const char *data; /* content or link target */
};

/* A layer of the N entries ENTS, compressed with FILTER; its DiffID (of
 * the uncompressed tar) goes to DIFF. */
static struct blob make_layer(const struct tentry *ents, size_t n, int filter,
			      char diff[DIGEST_STRING_SIZE])
{
	struct tw t;
	struct blob plain;

	tw_open(&t, ARCHIVE_FILTER_NONE);
	for (size_t i = 0; i < n; i++)
		tw_add(&t, ents[i].type, ents[i].name, ents[i].data,
		       ents[i].data ? strlen(ents[i].data) : 0);
	plain = tw_close(&t);
	memcpy(diff, plain.digest, DIGEST_STRING_SIZE);
	if (filter == ARCHIVE_FILTER_NONE)
		return plain;
	return compress(&plain, filter);
}

/* A layer holding the file NAME with CONTENT. */
static struct blob simple_layer(const char *name, const char *content, int filter,
				char diff[DIGEST_STRING_SIZE])
{
	const struct tentry ents[] = { { 'd', "etc/", NULL }, { 'f', name, content } };

	return make_layer(ents, 2, filter, diff);
}

/* An image config with the N DiffIDs DIFFS; COMMENT makes it unique. */
static struct blob make_config(char diffs[][DIGEST_STRING_SIZE], size_t n, const char *comment)
{
	_cleanup_json_ json_t *ids = json_array();
	_cleanup_(image_config_free_cleanup) struct image_config *here = image_config_new(NULL);
	json_t *doc;
	char *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_string(diffs[i]));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:O}}", "architecture",
			here->architecture, "os", "linux", "created", "2024-05-01T10:00:00Z",
			"comment", comment, "config", "Cmd", "sh", "rootfs", "type", "layers",
			"diff_ids", ids);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return blob_str(text);
}

/* An image to put in an archive. */
struct timage {
	struct blob config;
	struct blob layers[8];
	const char *media[8]; /* OCI layer media types */
	size_t n;
	const char *tags;	 /* RepoTags as JSON: "[\"a:1\"]" or "null" */
	const char *annotations; /* an index.json entry's, as JSON, or NULL */
};

static void timage_free(struct timage *img)
{
	free(img->config.data);
	for (size_t i = 0; i < img->n; i++)
		free(img->layers[i].data);
}

/* An image of the layers holding the files NAMES[i] (content: the name
 * and SALT), with TAGS. */
static struct timage image_of(const char *const *names, size_t n, const char *salt,
			      const char *tags, int layer_filter)
{
	struct timage img = { .n = n, .tags = tags };
	char diffs[8][DIGEST_STRING_SIZE];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *content = str_printf("%s %s\n", names[i], salt);

		img.layers[i] = simple_layer(names[i], content, layer_filter, diffs[i]);
		img.media[i] = layer_filter == ARCHIVE_FILTER_GZIP   ? IMAGE_MEDIA_OCI_LAYER_GZIP
			       : layer_filter == ARCHIVE_FILTER_ZSTD ? IMAGE_MEDIA_OCI_LAYER_ZSTD
								     : IMAGE_MEDIA_OCI_LAYER;
	}
	img.config = make_config(diffs, n, salt);
	return img;
}

enum dstyle {
	DOCKER_2010,	   /* <hex>.json, <id>/layer.tar, repositories */
	DOCKER_25,	   /* blobs/sha256/ named by manifest.json, legacy paths as links */
	DOCKER_25_LEGACY,  /* the same, manifest.json naming the legacy links */
	DOCKER_NO_LAYERS,  /* like DOCKER_2010, without the layer files */
	DOCKER_NO_CONTENT, /* manifest.json and nothing else */
};

static char *json_list(char **items)
{
	_cleanup_json_ json_t *arr = json_array();

	for (size_t i = 0; items && items[i]; i++)
		json_array_append_new(arr, json_string(items[i]));
	return json_dumps(arr, JSON_COMPACT);
}

/* A docker-archive of the N images IMGS in STYLE, compressed with FILTER. */
static struct blob docker_archive(struct timage *imgs, size_t n, enum dstyle style, int filter)
{
	_cleanup_free_ char *manifest = strdup("[");
	struct tw t;

	tw_open(&t, filter);
	if (style == DOCKER_25)
		tw_text(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	for (size_t i = 0; i < n; i++) {
		struct timage *img = &imgs[i];
		_cleanup_strv_ char **layers = NULL;
		_cleanup_free_ char *cfgname = NULL;
		_cleanup_free_ char *list = NULL;
		char *next;

		if (style == DOCKER_25 || style == DOCKER_25_LEGACY) {
			_cleanup_free_ char *blob =
				str_printf("blobs/sha256/%s", hex(img->config.digest));
			_cleanup_free_ char *legacy =
				str_printf("%s.json", hex(img->config.digest));

			tw_file(&t, blob, &img->config);
			tw_add(&t, 'l', legacy, blob, 0);
			cfgname = strdup(style == DOCKER_25 ? blob : legacy);
		} else {
			cfgname = str_printf("%s.json", hex(img->config.digest));
			if (style != DOCKER_NO_CONTENT)
				tw_file(&t, cfgname, &img->config);
		}
		for (size_t l = 0; l < img->n; l++) {
			const char *h = hex(img->layers[l].digest);
			_cleanup_free_ char *dir = str_printf("%s/", h);
			_cleanup_free_ char *legacy = str_printf("%s/layer.tar", h);
			_cleanup_free_ char *json = str_printf("%s/json", h);
			_cleanup_free_ char *version = str_printf("%s/VERSION", h);

			if (style == DOCKER_25 || style == DOCKER_25_LEGACY) {
				_cleanup_free_ char *blob = str_printf("blobs/sha256/%s", h);
				_cleanup_free_ char *up = str_printf("../blobs/sha256/%s", h);

				tw_file(&t, blob, &img->layers[l]);
				tw_add(&t, 'd', dir, NULL, 0);
				tw_add(&t, 'l', legacy, up, 0);
				strv_append(&layers, style == DOCKER_25 ? blob : legacy);
			} else {
				if (style == DOCKER_2010) {
					tw_add(&t, 'd', dir, NULL, 0);
					tw_text(&t, version, "1.0");
					tw_file(&t, legacy, &img->layers[l]);
					tw_text(&t, json, "{\"id\":\"x\"}");
				}
				strv_append(&layers, legacy);
			}
		}
		list = json_list(layers);
		next = str_printf("%s%s{\"Config\":\"%s\",\"RepoTags\":%s,\"Layers\":%s}", manifest,
				  i ? "," : "", cfgname, img->tags, list);
		free(manifest);
		manifest = next;
	}
	{
		char *closed = str_printf("%s]", manifest);

		free(manifest);
		manifest = closed;
	}
	tw_text(&t, "manifest.json", manifest);
	if (style == DOCKER_2010)
		tw_text(&t, "repositories", "{}");
	return tw_close(&t);
}

/* The OCI manifest of IMG as a blob. */
static struct blob oci_manifest(const struct timage *img)
{
	json_t *layers = json_array();
	json_t *doc;

	for (size_t i = 0; i < img->n; i++)
		json_array_append_new(layers,
				      json_pack("{s:s, s:s, s:I}", "mediaType", img->media[i],
						"digest", img->layers[i].digest, "size",
						(json_int_t)img->layers[i].len));
	doc = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			IMAGE_MEDIA_OCI_MANIFEST, "config", "mediaType", IMAGE_MEDIA_OCI_CONFIG,
			"digest", img->config.digest, "size", (json_int_t)img->config.len, "layers",
			layers);
	assert_non_null(doc);
	{
		char *text = json_dumps(doc, JSON_COMPACT);

		json_decref(doc);
		return blob_str(text);
	}
}

/* When set, oci_archive() writes the second layer's content under the
 * first layer's blob name. */
static bool oci_swap_layer;

static void tw_blob(struct tw *t, const struct blob *b)
{
	_cleanup_free_ char *name = str_printf("blobs/sha256/%s", hex(b->digest));

	tw_file(t, name, b);
}

/* An OCI layout of the N images IMGS.  With NESTED each index.json entry
 * is an image index holding an arm64 manifest the archive lacks, the
 * image for this machine and an attestation. */
static struct blob oci_archive(struct timage *imgs, size_t n, bool nested, int filter)
{
	json_t *entries = json_array();
	_cleanup_(image_config_free_cleanup) struct image_config *here = image_config_new(NULL);
	struct tw t;
	char *text;

	tw_open(&t, filter);
	tw_text(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	for (size_t i = 0; i < n; i++) {
		struct blob m = oci_manifest(&imgs[i]);
		json_t *desc, *ann = NULL;

		tw_blob(&t, &imgs[i].config);
		for (size_t l = 0; l < imgs[i].n; l++) {
			_cleanup_free_ char *name =
				str_printf("blobs/sha256/%s", hex(imgs[i].layers[l].digest));

			tw_file(&t, name, &imgs[i].layers[oci_swap_layer && l == 0 ? 1 : l]);
		}
		tw_blob(&t, &m);
		if (nested) {
			json_t *idx = json_pack(
				"{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s, s:s}},"
				" {s:s, s:s, s:I, s:{s:s, s:s}}, {s:s, s:s, s:I, s:{s:s, s:s}}]}",
				"schemaVersion", 2, "mediaType", IMAGE_MEDIA_OCI_INDEX, "manifests",
				"mediaType", IMAGE_MEDIA_OCI_MANIFEST, "digest",
				"sha256:"
				"1111111111111111111111111111111111111111111111111111111111111111",
				"size", (json_int_t)10, "platform", "os", "linux", "architecture",
				strcmp(here->architecture, "arm64") ? "arm64" : "s390x",
				"mediaType", IMAGE_MEDIA_OCI_MANIFEST, "digest", m.digest, "size",
				(json_int_t)m.len, "platform", "os", "linux", "architecture",
				here->architecture, "mediaType", IMAGE_MEDIA_OCI_MANIFEST, "digest",
				m.digest, "size", (json_int_t)m.len, "platform", "os", "unknown",
				"architecture", "unknown");
			struct blob ib;

			assert_non_null(idx);
			ib = blob_str(json_dumps(idx, JSON_COMPACT));
			json_decref(idx);
			tw_blob(&t, &ib);
			desc = json_pack("{s:s, s:s, s:I}", "mediaType", IMAGE_MEDIA_OCI_INDEX,
					 "digest", ib.digest, "size", (json_int_t)ib.len);
			free(ib.data);
		} else {
			desc = json_pack("{s:s, s:s, s:I}", "mediaType", IMAGE_MEDIA_OCI_MANIFEST,
					 "digest", m.digest, "size", (json_int_t)m.len);
		}
		if (imgs[i].annotations) {
			ann = json_loads(imgs[i].annotations, 0, NULL);
			assert_non_null(ann);
			json_object_set_new(desc, "annotations", ann);
		}
		json_array_append_new(entries, desc);
		free(m.data);
	}
	{
		json_t *index = json_pack("{s:i, s:o}", "schemaVersion", 2, "manifests", entries);

		text = json_dumps(index, JSON_COMPACT);
		json_decref(index);
	}
	tw_text(&t, "index.json", text);
	free(text);
	return tw_close(&t);
}

/* ---- loading and looking ---- */

static int do_load(struct image_store *st, const struct blob *b, size_t len,
		   struct image_load_result *res, struct berr **err)
{
	int fd = data_fd(b->data, len);
	int r = image_load(st, fd, res, err);

	close(fd);
	return r;
}

/* Loads B and checks the lines printed are the N given. */
static void load_ok(struct image_store *st, const struct blob *b, size_t n, ...)
{
	struct image_load_result res = { 0 };
	struct berr *err = NULL;
	va_list ap;

	if (do_load(st, b, b->len, &res, &err) < 0)
		fail_msg("load: %s", err->msg);
	assert_int_equal(strv_length(res.lines), n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(res.lines[i], va_arg(ap, const char *));
	va_end(ap);
	image_load_result_clear(&res);
	assert_null(res.lines);
}

static char *listing_buf;

static int list_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char *line, *next;

	(void)type;
	(void)ftw;
	if (strstr(path, "berth.db"))
		return 0;
	line = str_printf("%s %o %lld\n", path, sb->st_mode, (long long)sb->st_size);
	next = str_printf("%s%s", listing_buf, line);
	free(line);
	free(listing_buf);
	listing_buf = next;
	return 0;
}

/* Every file under the data root but the database, and every image with
 * its references. */
static char *snapshot(const char *root, struct image_store *st)
{
	struct store_image **imgs = NULL;
	size_t n = 0;
	char *out;

	listing_buf = strdup("");
	assert_int_equal(nftw(root, list_one, 16, FTW_PHYS), 0);
	assert_int_equal(image_store_list(st, &imgs, &n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		char *next = str_printf("%simage %s:", listing_buf, imgs[i]->id);

		free(listing_buf);
		listing_buf = next;
		for (size_t r = 0; r < imgs[i]->n_refs; r++) {
			next = str_printf("%s %s", listing_buf, imgs[i]->refs[r].name);
			free(listing_buf);
			listing_buf = next;
		}
	}
	store_image_list_free(imgs, n);
	out = str_printf("%simages %zu\n", listing_buf, n);
	free(listing_buf);
	listing_buf = NULL;
	return out;
}

static size_t count_dir(const char *root, const char *sub)
{
	_cleanup_free_ char *path = str_printf("%s/%s", root, sub);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static struct store_image *lookup(struct image_store *st, const char *name)
{
	struct store_image *img = NULL;
	struct berr *err = NULL;

	if (image_store_lookup(st, name, &img, &err) < 0)
		fail_msg("lookup %s: %s", name, err->msg);
	return img;
}

static void assert_points_at(struct image_store *st, const char *name, const char *id)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = lookup(st, name);

	assert_string_equal(img->id, id);
}

/* Checks that image ID's layer I holds the file NAME with CONTENT. */
static void assert_layer_file(struct image_store *st, const char *id, size_t i, const char *name,
			      const char *content)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = lookup(st, id);
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *got = NULL;
	size_t len;

	assert_int_equal(image_store_layer_dirs(st, img, &dirs, NULL), 0);
	assert_true(i < strv_length(dirs));
	path = str_printf("%s/%s", dirs[i], name);
	if (fs_read_file(path, 4096, &got, &len, NULL) < 0)
		fail_msg("%s is missing", path);
	assert_string_equal(got, content);
}

/* ---- the tests ---- */

static void test_docker_archive_shares_layers(void **state)
{
	struct fixture *f = *state;
	const char *one[] = { "etc/base", "etc/one" };
	const char *two[] = { "etc/base", "etc/two" };
	struct timage imgs[2];
	struct blob ar;
	_cleanup_(store_layer_free_cleanup) struct store_layer *base = NULL;
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_free_ char *before = NULL;
	_cleanup_free_ char *after = NULL;

	imgs[0] = image_of(one, 2, "s", "[\"one:1\"]", ARCHIVE_FILTER_NONE);
	imgs[1] = image_of(two, 2, "s", "[\"two:latest\",\"example.com/two:extra\"]",
			   ARCHIVE_FILTER_NONE);
	/* Different configs, the same bottom layer. */
	assert_string_not_equal(imgs[0].config.digest, imgs[1].config.digest);
	assert_string_equal(imgs[0].layers[0].digest, imgs[1].layers[0].digest);
	ar = docker_archive(imgs, 2, DOCKER_2010, ARCHIVE_FILTER_NONE);
	load_ok(f->st, &ar, 3, "Loaded image: one:1", "Loaded image: two:latest",
		"Loaded image: example.com/two:extra");

	assert_points_at(f->st, "one:1", imgs[0].config.digest);
	assert_points_at(f->st, "two", imgs[1].config.digest);
	assert_points_at(f->st, "example.com/two:extra", imgs[1].config.digest);
	assert_layer_file(f->st, "one:1", 0, "etc/base", "etc/base s\n");
	assert_layer_file(f->st, "one:1", 1, "etc/one", "etc/one s\n");
	assert_layer_file(f->st, "two", 1, "etc/two", "etc/two s\n");
	/* Three layers: base once, with two references. */
	assert_int_equal(count_dir(f->root, "layers"), 3);
	img = lookup(f->st, "one:1");
	assert_int_equal(img->n_layers, 2);
	assert_int_equal(store_layer_lookup(image_store_db(f->st), img->layers[0], &base, NULL), 0);
	assert_int_equal(base->refcount, 2);
	assert_string_equal(base->blob_digest, imgs[0].layers[0].digest);
	assert_true(img->size > 0);
	/* Two configs and three layer blobs; manifest.json, json, VERSION
	 * and repositories were not kept. */
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 5);
	assert_int_equal(count_dir(f->root, "tmp"), 0);

	/* Loading it again changes nothing and is no error. */
	before = snapshot(f->root, f->st);
	load_ok(f->st, &ar, 3, "Loaded image: one:1", "Loaded image: two:latest",
		"Loaded image: example.com/two:extra");
	after = snapshot(f->root, f->st);
	assert_string_equal(before, after);

	free(ar.data);
	timage_free(&imgs[0]);
	timage_free(&imgs[1]);
}

static void test_blob_digests_in_use(void **state)
{
	struct fixture *f = *state;
	const char *one[] = { "etc/base", "etc/one" };
	const char *two[] = { "etc/base", "etc/two" };
	struct timage imgs[2];
	struct blob ar;
	_cleanup_strv_ char **used = NULL;
	_cleanup_free_ char *line0 = NULL;
	_cleanup_free_ char *line1 = NULL;
	const char *want[5];

	assert_int_equal(store_blob_digests_in_use(image_store_db(f->st), &used, NULL), 0);
	assert_non_null(used);
	assert_null(used[0]);
	strv_free(steal_ptr(&used));

	imgs[0] = image_of(one, 2, "u", "null", ARCHIVE_FILTER_NONE);
	imgs[1] = image_of(two, 2, "u", "null", ARCHIVE_FILTER_NONE);
	ar = docker_archive(imgs, 2, DOCKER_2010, ARCHIVE_FILTER_NONE);
	line0 = str_printf("Loaded image ID: %s", imgs[0].config.digest);
	line1 = str_printf("Loaded image ID: %s", imgs[1].config.digest);
	load_ok(f->st, &ar, 2, line0, line1);
	assert_int_equal(store_blob_digests_in_use(image_store_db(f->st), &used, NULL), 0);
	/* Distinct (the shared layer once) and sorted. */
	want[0] = imgs[0].config.digest;
	want[1] = imgs[1].config.digest;
	want[2] = imgs[0].layers[0].digest;
	want[3] = imgs[0].layers[1].digest;
	want[4] = imgs[1].layers[1].digest;
	assert_int_equal(strv_length(used), 5);
	for (size_t i = 0; i < 5; i++)
		assert_true(strv_contains(used, want[i]));
	for (size_t i = 1; i < 5; i++)
		assert_true(strcmp(used[i - 1], used[i]) < 0);
	free(ar.data);
	timage_free(&imgs[0]);
	timage_free(&imgs[1]);
}

static void test_tag_moves_and_untagged(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/a" };
	struct timage a =
		image_of(files, 1, "first", "[\"app:1\",\"app:keep\"]", ARCHIVE_FILTER_NONE);
	struct timage b = image_of(files, 1, "second", "[\"app:1\"]", ARCHIVE_FILTER_NONE);
	struct timage c = image_of(files, 1, "third", "null", ARCHIVE_FILTER_NONE);
	struct blob ar_a = docker_archive(&a, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	struct blob ar_b = docker_archive(&b, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	struct blob ar_c = docker_archive(&c, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	_cleanup_free_ char *id_line = str_printf("Loaded image ID: %s", c.config.digest);
	struct store_image *img;

	load_ok(f->st, &ar_a, 2, "Loaded image: app:1", "Loaded image: app:keep");
	load_ok(f->st, &ar_b, 1, "Loaded image: app:1");
	/* The tag moved; the first image stays with its other tag. */
	assert_points_at(f->st, "app:1", b.config.digest);
	assert_points_at(f->st, "app:keep", a.config.digest);
	load_ok(f->st, &ar_c, 1, id_line);
	img = lookup(f->st, c.config.digest);
	assert_int_equal(img->n_refs, 0);
	store_image_free(img);
	/* Loading a stored image with a tag only adds the tag. */
	{
		struct timage again = a;
		struct blob ar;

		again.tags = "[\"app:1\"]";
		ar = docker_archive(&again, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
		load_ok(f->st, &ar, 1, "Loaded image: app:1");
		free(ar.data);
	}
	assert_points_at(f->st, "app:1", a.config.digest);
	img = lookup(f->st, b.config.digest);
	assert_int_equal(img->n_refs, 0);
	store_image_free(img);
	/* Three images of one layer each. */
	assert_int_equal(count_dir(f->root, "layers"), 3);
	free(ar_a.data);
	free(ar_b.data);
	free(ar_c.data);
	timage_free(&a);
	timage_free(&b);
	timage_free(&c);
}

static void test_compressed_archives(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/packed", "etc/more" };
	const int filters[] = { ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD };
	const char *tags[] = { "[\"gz:1\"]", "[\"zst:1\"]" };
	const char *salts[] = { "gz", "zst" };

	for (size_t i = 0; i < 2; i++) {
		struct timage img = image_of(files, 2, salts[i], tags[i], ARCHIVE_FILTER_NONE);
		struct blob ar = docker_archive(&img, 1, DOCKER_2010, filters[i]);
		_cleanup_free_ char *line = str_printf("Loaded image: %s", i ? "zst:1" : "gz:1");
		_cleanup_free_ char *content = str_printf("etc/more %s\n", salts[i]);

		/* Really compressed: no tar header in the clear. */
		assert_null(memmem(ar.data, ar.len, "manifest.json", 13));
		load_ok(f->st, &ar, 1, line);
		assert_layer_file(f->st, i ? "zst:1" : "gz:1", 1, "etc/more", content);
		free(ar.data);
		timage_free(&img);
	}
}

static void test_oci_layouts(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/oci", "etc/top" };
	struct timage imgs[4];
	struct blob ar;
	_cleanup_free_ char *untagged = NULL;

	imgs[0] = image_of(files, 2, "gz", NULL, ARCHIVE_FILTER_GZIP);
	imgs[0].annotations = "{\""
			      "org.opencontainers.image.ref.name"
			      "\":\"example.com/app:2\"}";
	imgs[1] = image_of(files, 2, "zst", NULL, ARCHIVE_FILTER_ZSTD);
	imgs[1].annotations = "{\"org.opencontainers.image.ref.name\":\"latest\","
			      "\"io.containerd.image.name\":\"docker.io/library/busybox:latest\"}";
	imgs[2] = image_of(files, 2, "plain", NULL, ARCHIVE_FILTER_NONE);
	imgs[2].annotations = "{\"org.opencontainers.image.ref.name\":\"v1\"}";
	imgs[3] = image_of(files, 2, "mixed", NULL, ARCHIVE_FILTER_NONE);
	/* Docker's own media types too. */
	imgs[3].media[0] = IMAGE_MEDIA_DOCKER_LAYER;
	imgs[3].media[1] = IMAGE_MEDIA_DOCKER_LAYER;
	imgs[3].annotations = "{\"io.containerd.image.name\":\"docker.io/me/mixed:3\"}";
	untagged = str_printf("Loaded image ID: %s", imgs[2].config.digest);

	ar = oci_archive(imgs, 4, false, ARCHIVE_FILTER_NONE);
	load_ok(f->st, &ar, 4, "Loaded image: example.com/app:2", "Loaded image: busybox:latest",
		untagged, "Loaded image: me/mixed:3");
	assert_points_at(f->st, "example.com/app:2", imgs[0].config.digest);
	assert_points_at(f->st, "busybox", imgs[1].config.digest);
	assert_points_at(f->st, "me/mixed:3", imgs[3].config.digest);
	assert_layer_file(f->st, "example.com/app:2", 1, "etc/top", "etc/top gz\n");
	assert_layer_file(f->st, "busybox", 1, "etc/top", "etc/top zst\n");
	assert_int_equal(count_dir(f->root, "layers"), 8);
	/* The compressed blobs are the layers' blobs. */
	assert_true(fs_exists(f->root) &&
		    count_dir(f->root, "blobs/sha256") == 4 /* configs */ + 8 /* layers */);
	free(ar.data);
	for (size_t i = 0; i < 4; i++)
		timage_free(&imgs[i]);
}

static void test_oci_nested_index(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/multi" };
	struct timage img = image_of(files, 1, "multi", NULL, ARCHIVE_FILTER_GZIP);
	struct blob ar;

	img.annotations = "{\"io.containerd.image.name\":\"docker.io/library/multi:1\"}";
	/* The index lists an arm64 manifest the archive lacks, this
	 * machine's and an attestation; this machine's is taken. */
	ar = oci_archive(&img, 1, true, ARCHIVE_FILTER_GZIP);
	load_ok(f->st, &ar, 1, "Loaded image: multi:1");
	assert_points_at(f->st, "multi:1", img.config.digest);
	assert_layer_file(f->st, "multi:1", 0, "etc/multi", "etc/multi multi\n");
	free(ar.data);
	timage_free(&img);
}

static void test_docker25_links(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/new", "etc/newer" };
	struct timage a = image_of(files, 2, "25", "[\"docker25:blobs\"]", ARCHIVE_FILTER_NONE);
	struct timage b =
		image_of(files, 2, "25legacy", "[\"docker25:legacy\"]", ARCHIVE_FILTER_NONE);
	struct blob ar_a = docker_archive(&a, 1, DOCKER_25, ARCHIVE_FILTER_NONE);
	struct blob ar_b = docker_archive(&b, 1, DOCKER_25_LEGACY, ARCHIVE_FILTER_NONE);

	load_ok(f->st, &ar_a, 1, "Loaded image: docker25:blobs");
	assert_points_at(f->st, "docker25:blobs", a.config.digest);
	/* manifest.json names <hex>.json and <id>/layer.tar, links to
	 * blobs/sha256/ inside the archive. */
	load_ok(f->st, &ar_b, 1, "Loaded image: docker25:legacy");
	assert_points_at(f->st, "docker25:legacy", b.config.digest);
	assert_layer_file(f->st, "docker25:legacy", 1, "etc/newer", "etc/newer 25legacy\n");
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 6);
	free(ar_a.data);
	free(ar_b.data);
	timage_free(&a);
	timage_free(&b);
}

static void test_eight_layers_in_parallel(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/l0", "etc/l1", "etc/l2", "etc/l3",
				"etc/l4", "etc/l5", "etc/l6", "etc/l7" };
	struct timage img = image_of(files, 8, "p", "[\"eight:1\"]", ARCHIVE_FILTER_NONE);
	struct blob ar = docker_archive(&img, 1, DOCKER_2010, ARCHIVE_FILTER_GZIP);
	_cleanup_(store_image_free_cleanup) struct store_image *stored = NULL;
	_cleanup_strv_ char **dirs = NULL;

	load_ok(f->st, &ar, 1, "Loaded image: eight:1");
	stored = lookup(f->st, "eight:1");
	assert_int_equal(stored->n_layers, 8);
	assert_int_equal(image_store_layer_dirs(f->st, stored, &dirs, NULL), 0);
	for (size_t i = 0; i < 8; i++) {
		_cleanup_free_ char *content = str_printf("%s p\n", files[i]);

		assert_layer_file(f->st, "eight:1", i, files[i], content);
		/* Each layer holds only its own file. */
		for (size_t k = 0; k < 8; k++) {
			_cleanup_free_ char *other = str_printf("%s/%s", dirs[i], files[k]);

			assert_int_equal(fs_exists(other), k == i);
		}
	}
	assert_int_equal(count_dir(f->root, "layers"), 8);
	free(ar.data);
	timage_free(&img);
}

/* Loads B (LEN bytes of it) expecting KIND with MSG_PART in the message,
 * and the data root exactly as before. */
static void refused(struct fixture *f, const struct blob *b, size_t len, enum berr_kind kind,
		    const char *msg_part)
{
	_cleanup_free_ char *before = snapshot(f->root, f->st);
	_cleanup_free_ char *after = NULL;
	struct image_load_result res = { 0 };
	struct berr *err = NULL;

	assert_int_equal(do_load(f->st, b, len, &res, &err), -1);
	assert_null(res.lines);
	assert_non_null(err);
	if (err->kind != kind || !strstr(err->msg, msg_part))
		fail_msg("got kind %d \"%s\", want kind %d with \"%s\"", err->kind, err->msg, kind,
			 msg_part);
	berr_free(err);
	after = snapshot(f->root, f->st);
	assert_string_equal(before, after);
}

/* A docker-archive of one image whose only layer is the N entries ENTS. */
static struct blob evil_archive(const struct tentry *ents, size_t n)
{
	struct timage img = { .n = 1, .tags = "[\"evil:1\"]" };
	char diffs[1][DIGEST_STRING_SIZE];
	struct blob ar;

	img.layers[0] = make_layer(ents, n, ARCHIVE_FILTER_NONE, diffs[0]);
	img.config = make_config(diffs, 1, "evil");
	ar = docker_archive(&img, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	timage_free(&img);
	return ar;
}

static void test_unsafe_layers_refused(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/kept" };
	struct timage good = image_of(files, 1, "kept", "[\"kept:1\"]", ARCHIVE_FILTER_NONE);
	struct blob ar = docker_archive(&good, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	const struct tentry dotdot[] = { { 'f', "etc/ok", "fine" }, { 'f', "../escape", "x" } };
	const struct tentry absolute[] = { { 'f', "/abs", "x" } };
	const struct tentry through[] = { { 'l', "link", "/tmp" }, { 'f', "link/evil", "x" } };
	const struct tentry hardlink[] = { { 'h', "passwd", "/etc/passwd" } };
	const struct tentry hardlink_up[] = { { 'h', "passwd", "../../../../etc/passwd" } };
	struct {
		const struct tentry *ents;
		size_t n;
		const char *msg;
	} cases[] = {
		{ dotdot, 2, "\"..\"" },
		{ absolute, 1, "absolute path" },
		{ through, 2, "symlink" },
		{ hardlink, 1, "hardlink target" },
		{ hardlink_up, 1, "hardlink target" },
	};

	/* On an empty store and on one holding an image. */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct blob evil = evil_archive(cases[i].ents, cases[i].n);

			refused(f, &evil, evil.len, BERR_INVALID, cases[i].msg);
			free(evil.data);
		}
		if (round == 0)
			load_ok(f->st, &ar, 1, "Loaded image: kept:1");
	}
	assert_false(fs_exists("/tmp/evil"));
	assert_false(fs_exists("/escape"));
	assert_false(fs_exists("/abs"));
	assert_points_at(f->st, "kept:1", good.config.digest);
	free(ar.data);
	timage_free(&good);
}

static void test_broken_archives_refused(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/broken", "etc/more" };
	const char *kept_files[] = { "etc/kept" };
	struct timage kept = image_of(kept_files, 1, "kept", "[\"kept:1\"]", ARCHIVE_FILTER_NONE);
	struct blob kept_ar = docker_archive(&kept, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	struct timage img = image_of(files, 2, "broken", "[\"broken:1\"]", ARCHIVE_FILTER_NONE);
	struct blob good = docker_archive(&img, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	struct blob no_layers = docker_archive(&img, 1, DOCKER_NO_LAYERS, ARCHIVE_FILTER_NONE);
	struct blob nothing = docker_archive(&img, 1, DOCKER_NO_CONTENT, ARCHIVE_FILTER_NONE);
	struct blob mismatch, oci, renamed, malformed, diff, escaping, not_image;

	{
		/* A blob whose name is not its digest. */
		struct tw t;
		_cleanup_free_ char *fake = str_printf(
			"blobs/sha256/%s",
			"2222222222222222222222222222222222222222222222222222222222222222");

		oci = oci_archive(&img, 1, false, ARCHIVE_FILTER_NONE);
		tw_open(&t, ARCHIVE_FILTER_NONE);
		tw_file(&t, fake, &img.layers[1]);
		tw_text(&t, "index.json", "{\"manifests\":[]}");
		mismatch = tw_close(&t);
		/* The same inside a whole OCI layout. */
		oci_swap_layer = true;
		renamed = oci_archive(&img, 1, false, ARCHIVE_FILTER_GZIP);
		oci_swap_layer = false;
	}
	{
		struct tw t;

		tw_open(&t, ARCHIVE_FILTER_NONE);
		tw_file(&t, "etc/passwd", &img.config);
		tw_text(&t, "manifest.json", "[{\"Config\": 42}]");
		malformed = tw_close(&t);
	}
	{
		/* A config whose DiffIDs do not match the layers. */
		struct timage wrong = img;
		char diffs[2][DIGEST_STRING_SIZE];

		memcpy(diffs[0], img.layers[1].digest, DIGEST_STRING_SIZE);
		memcpy(diffs[1], img.layers[0].digest, DIGEST_STRING_SIZE);
		wrong.config = make_config(diffs, 2, "swapped");
		diff = docker_archive(&wrong, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
		free(wrong.config.data);
	}
	{
		/* A link out of the archive names nothing of the host. */
		struct tw t;

		tw_open(&t, ARCHIVE_FILTER_NONE);
		tw_add(&t, 'l', "cfg.json", "../../../../../../etc/passwd", 0);
		tw_text(&t, "manifest.json", "[{\"Config\":\"cfg.json\",\"Layers\":[]}]");
		escaping = tw_close(&t);
	}
	{
		struct tw t;

		tw_open(&t, ARCHIVE_FILTER_NONE);
		tw_file(&t, "data.bin", &img.layers[0]);
		not_image = tw_close(&t);
	}

	for (int round = 0; round < 2; round++) {
		refused(f, &mismatch, mismatch.len, BERR_INVALID, "digest mismatch");
		refused(f, &renamed, renamed.len, BERR_INVALID, "digest mismatch");
		/* Cut inside the second layer's data. */
		refused(f, &good, good.len / 2, BERR_INVALID, "");
		refused(f, &good, 700, BERR_INVALID, "");
		refused(f, &no_layers, no_layers.len, BERR_INVALID, "names a missing file");
		refused(f, &nothing, nothing.len, BERR_INVALID, "names a missing file");
		refused(f, &malformed, malformed.len, BERR_INVALID, "manifest.json");
		refused(f, &diff, diff.len, BERR_INVALID, "DiffID mismatch");
		refused(f, &escaping, escaping.len, BERR_INVALID, "missing file");
		refused(f, &not_image, not_image.len, BERR_INVALID, "neither manifest.json");
		{
			struct blob junk = { .data = "garbage garbage garbage", .len = 23 };

			refused(f, &junk, junk.len, BERR_INVALID, "");
		}
		if (round == 0)
			load_ok(f->st, &kept_ar, 1, "Loaded image: kept:1");
	}
	/* The good archive itself loads. */
	load_ok(f->st, &good, 1, "Loaded image: broken:1");
	{
		_cleanup_free_ char *line = str_printf("Loaded image ID: %s", img.config.digest);

		load_ok(f->st, &oci, 1, line);
	}
	free(good.data);
	free(no_layers.data);
	free(nothing.data);
	free(mismatch.data);
	free(oci.data);
	free(renamed.data);
	free(malformed.data);
	free(diff.data);
	free(escaping.data);
	free(not_image.data);
	free(kept_ar.data);
	timage_free(&img);
	timage_free(&kept);
}

/* A layer of SIZE bytes of one file that compresses badly. */
static struct blob big_layer(size_t size, const char *name, char diff[DIGEST_STRING_SIZE])
{
	char *content = malloc(size + 1);
	struct tentry ents[1] = { { 'f', name, content } };
	uint32_t x = 12345;
	struct blob b;

	for (size_t i = 0; i < size; i++) {
		x = x * 1103515245 + 12345;
		content[i] = (char)('a' + (x >> 16) % 26);
	}
	content[size] = '\0';
	b = make_layer(ents, 1, ARCHIVE_FILTER_NONE, diff);
	free(content);
	return b;
}

struct crash_arg {
	const char *root;
	int rfd;
};

static int crash_child(int out, void *opaque)
{
	struct crash_arg *a = opaque;
	struct image_store *st = NULL;
	struct image_load_result res = { 0 };
	struct berr *err = NULL;

	(void)out;
	if (image_store_open(a->root, &st, &err) < 0)
		return 2;
	image_load(st, a->rfd, &res, &err);
	return 3; /* never here: killed before the stream ends */
}

static void test_killed_load_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct timage img = { .n = 3, .tags = "[\"crash:1\"]" };
	char diffs[3][DIGEST_STRING_SIZE];
	_cleanup_free_ char *before = NULL;
	_cleanup_free_ char *after = NULL;
	struct crash_arg arg = { .root = f->root };
	struct blob ar;
	int pipefd[2], st;
	size_t sent = 0;
	pid_t pid;

	img.layers[0] = big_layer(3 * 1024 * 1024, "one", diffs[0]);
	img.layers[1] = big_layer(3 * 1024 * 1024, "two", diffs[1]);
	img.layers[2] = big_layer(3 * 1024 * 1024, "three", diffs[2]);
	img.config = make_config(diffs, 3, "crash");
	ar = docker_archive(&img, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	before = snapshot(f->root, f->st);

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	arg.rfd = pipefd[0];
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[1]);
		_exit(crash_child(-1, &arg));
	}
	close(pipefd[0]);
	/* Two and a half layers in: two blobs committed, one half written. */
	while (sent < 7 * 1024 * 1024) {
		ssize_t n = write(pipefd[1], ar.data + sent, 64 * 1024);

		assert_true(n > 0);
		sent += (size_t)n;
	}
	/* The child reads all but what the pipe holds. */
	for (int i = 0; i < 200 && count_dir(f->root, "tmp") == 0; i++)
		usleep(50 * 1000);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(pipefd[1]);
	/* What the child left is there until an open that is alone. */
	assert_true(count_dir(f->root, "blobs/sha256") > 0);
	assert_true(count_dir(f->root, "tmp") > 0);

	image_store_free(f->st);
	f->st = NULL;
	assert_int_equal(image_store_open(f->root, &f->st, NULL), 0);
	after = snapshot(f->root, f->st);
	assert_string_equal(before, after);
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 0);
	assert_int_equal(count_dir(f->root, "tmp"), 0);
	assert_int_equal(count_dir(f->root, "layers"), 0);

	/* And the whole archive loads afterwards. */
	load_ok(f->st, &ar, 1, "Loaded image: crash:1");
	free(ar.data);
	timage_free(&img);
}

static void test_clean_up_waits_for_other_users(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { "etc/kept" };
	struct timage img = image_of(files, 1, "k", "[\"kept:1\"]", ARCHIVE_FILTER_NONE);
	struct blob ar = docker_archive(&img, 1, DOCKER_2010, ARCHIVE_FILTER_NONE);
	_cleanup_free_ char *stray = str_printf(
		"%s/blobs/sha256/3333333333333333333333333333333333333333333333333333333333333333",
		f->root);
	_cleanup_free_ char *stray_dir = str_printf(
		"%s/layers/4444444444444444444444444444444444444444444444444444444444444444",
		f->root);
	_cleanup_free_ char *other = str_printf("%s/blobs/sha256/not-a-blob", f->root);
	struct image_store *second = NULL;

	load_ok(f->st, &ar, 1, "Loaded image: kept:1");
	assert_int_equal(fs_write_file_atomic(stray, "x", 1, 0644, NULL), 0);
	assert_int_equal(fs_write_file_atomic(other, "x", 1, 0644, NULL), 0);
	assert_int_equal(mkdir(stray_dir, 0700), 0);
	/* Another user has the store open: nothing is removed. */
	assert_int_equal(image_store_open(f->root, &second, NULL), 0);
	assert_true(fs_exists(stray));
	assert_true(fs_exists(stray_dir));
	image_store_free(second);
	image_store_free(f->st);
	f->st = NULL;
	/* Alone: what the database does not know goes, the rest stays. */
	assert_int_equal(image_store_open(f->root, &f->st, NULL), 0);
	assert_false(fs_exists(stray));
	assert_false(fs_exists(stray_dir));
	assert_true(fs_exists(other));
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 3);
	assert_layer_file(f->st, "kept:1", 0, "etc/kept", "etc/kept k\n");
	free(ar.data);
	timage_free(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_docker_archive_shares_layers, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_blob_digests_in_use, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_tag_moves_and_untagged, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_compressed_archives, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_oci_layouts, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_oci_nested_index, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_docker25_links, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_eight_layers_in_parallel, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_layers_refused, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_broken_archives_refused, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_killed_load_leaves_nothing, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_clean_up_waits_for_other_users, store_setup,
						store_teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_load needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
