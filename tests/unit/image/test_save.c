/* Unit tests for image/save (run as root, in a temporary data root): images
 * imported (one from a gzip tar, whose layer must come out uncompressed),
 * committed on top of another and tagged are saved as a docker-archive and
 * as an OCI layout, read back with libarchive and checked as a loader
 * checks them: the file list, manifest.json, repositories and index.json,
 * layer.tar digests against the config's DiffIDs, config bytes against the
 * image id, OCI blobs against their names and the sizes the manifests give,
 * and a layer shared by several images written once.  A golden image shows
 * the v1 ids and legacy JSON are byte for byte those of Docker 20.10's own
 * `docker save`.  What is saved loads into a second store as the same
 * images.  A missing image or a damaged store writes nothing; a layer whose
 * bytes changed is never passed on. */
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

#include "image/archive.h"
#include "image/changes.h"
#include "image/image.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"

#define TAR_MAX (1024 * 1024)

struct fixture {
	char root[64];
	struct image_store *st;
	char other[64]; /* a second data root when a test makes one, else "" */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/berth-save-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	if (image_store_open(f->root, &f->st, &err) < 0)
		fail_msg("open: %s", err->msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	image_store_free(f->st);
	assert_int_equal(fs_remove_tree(f->root, NULL), 0);
	if (f->other[0])
		assert_int_equal(fs_remove_tree(f->other, NULL), 0);
	free(f);
	return 0;
}

/* A tar holding bin/hello with CONTENT, compressed with FILTER; the same
 * CONTENT always gives the same uncompressed tar. */
static char *make_tar(const char *content, int filter, size_t *len)
{
	struct archive *a = archive_write_new();
	char *buf = malloc(TAR_MAX);
	size_t used = 0;

	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	for (int i = 0; i < 2; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t dlen = i ? strlen(content) : 0;

		archive_entry_set_pathname(ae, i ? "bin/hello" : "bin/");
		archive_entry_set_filetype(ae, i ? AE_IFREG : AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
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

static int memfd(void)
{
	int fd = memfd_create("save", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void import_ok(struct image_store *st, const char *content, int filter, const char *change,
		      const char *ref, char id[DIGEST_STRING_SIZE])
{
	_cleanup_free_ char *tar = NULL;
	_cleanup_close_ int fd = memfd();
	struct berr *err = NULL;
	size_t len;

	tar = make_tar(content, filter, &len);
	assert_int_equal(fs_write_all(fd, tar, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (image_import(st, fd, &change, change ? 1 : 0, ref, NULL, id, &err) < 0)
		fail_msg("import: %s", err->msg);
}

/* The four images the tests save: A (busybox:latest) imported from a gzip
 * tar, B (localhost:5000/app:1) from the same tar uncompressed, so sharing
 * A's layer, C (layered:2) A plus a committed layer, D from another tar
 * and without a tag. */
struct images {
	char a[DIGEST_STRING_SIZE], b[DIGEST_STRING_SIZE];
	char c[DIGEST_STRING_SIZE], d[DIGEST_STRING_SIZE];
};

static void make_images(struct fixture *f, struct images *im)
{
	_cleanup_free_ char *upper = str_printf("%s/upper", f->root);
	_cleanup_free_ char *etc = str_printf("%s/etc", upper);
	_cleanup_free_ char *motd = str_printf("%s/motd", etc);
	struct image_commit_opts opts = { .reference = "layered:2" };
	struct berr *err = NULL;

	import_ok(f->st, "alpha", ARCHIVE_FILTER_GZIP, "CMD echo a && echo b", "busybox", im->a);
	import_ok(f->st, "alpha", ARCHIVE_FILTER_NONE, NULL, "localhost:5000/app:1", im->b);
	assert_int_equal(fs_mkdir_p(etc, 0755, NULL), 0);
	assert_int_equal(fs_write_file_atomic(motd, "layered\n", 8, 0644, NULL), 0);
	if (image_commit(f->st, im->a, upper, &opts, im->c, &err) < 0)
		fail_msg("commit: %s", err->msg);
	import_ok(f->st, "delta", ARCHIVE_FILTER_NONE, NULL, NULL, im->d);
}

/* Saves the N NAMES into a new memfd, which must succeed. */
static int save_ok(struct image_store *st, const char *const *names, size_t n,
		   enum image_archive_format format)
{
	int fd = memfd();
	struct berr *err = NULL;

	if (image_save(st, names, n, format, fd, &err) < 0)
		fail_msg("save: %s", err->msg);
	return fd;
}

/* What an archive holds, in its order. */
struct entry {
	char *name;
	mode_t type;
	char *data; /* NUL-terminated */
	size_t len;
	char *link;
};

struct listing {
	struct entry *e;
	size_t n;
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].data);
		free(l->e[i].link);
	}
	free(l->e);
}

static void read_archive(int fd, struct listing *l)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r;

	memset(l, 0, sizeof(*l));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		struct entry *e;
		size_t got = 0;

		l->e = realloc(l->e, (l->n + 1) * sizeof(*l->e));
		assert_non_null(l->e);
		e = &l->e[l->n++];
		e->name = strdup(archive_entry_pathname(ae));
		e->type = archive_entry_filetype(ae);
		e->link = archive_entry_symlink(ae) ? strdup(archive_entry_symlink(ae)) : NULL;
		e->len = (size_t)archive_entry_size(ae);
		e->data = malloc(e->len + 1);
		assert_non_null(e->data);
		while (got < e->len) {
			la_ssize_t n = archive_read_data(a, e->data + got, e->len - got);

			assert_true(n > 0);
			got += (size_t)n;
		}
		e->data[e->len] = '\0';
	}
	assert_int_equal(r, ARCHIVE_EOF);
	archive_read_free(a);
}

static const struct entry *find(const struct listing *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

static const struct entry *must(const struct listing *l, const char *name)
{
	const struct entry *e = find(l, name);

	if (!e)
		fail_msg("the archive lacks %s", name);
	return e;
}

static json_t *parse(const struct entry *e)
{
	json_t *j = json_loadb(e->data, e->len, 0, NULL);

	if (!j)
		fail_msg("%s is not JSON: %s", e->name, e->data);
	return j;
}

static void assert_digest(const void *data, size_t len, const char *want)
{
	char got[DIGEST_STRING_SIZE];

	digest_bytes(data, len, got);
	assert_string_equal(got, want);
}

static const char *str_at(const json_t *arr, size_t i)
{
	const char *s = json_string_value(json_array_get(arr, i));

	assert_non_null(s);
	return s;
}

/* The layer.tar at PATH, following a symlink to another directory's as a
 * loader does. */
static const struct entry *layer_tar(const struct listing *l, const char *path)
{
	const struct entry *e = must(l, path);

	if (e->type != AE_IFLNK)
		return e;
	assert_true(str_has_prefix(e->link, "../"));
	e = must(l, e->link + 3);
	assert_int_equal(e->type, AE_IFREG);
	return e;
}

/* The v1 id (directory name) of a manifest layer path "<id>/layer.tar". */
static char *dir_of(const char *path)
{
	assert_true(str_has_suffix(path, "/layer.tar"));
	return strndup(path, strlen(path) - strlen("/layer.tar"));
}

/* Checks one manifest.json item as `docker load` would use it: its config
 * is the image ID's, every layer.tar hashes to its DiffID, and each layer's
 * legacy JSON names its directory and the one below.  Returns the v1 id of
 * the top layer. */
static char *check_docker_item(const struct listing *l, const json_t *item, const char *id)
{
	const char *config = json_string_value(json_object_get(item, "Config"));
	const json_t *layers = json_object_get(item, "Layers");
	_cleanup_json_ json_t *cfg = NULL;
	const json_t *diff_ids;
	char *prev = NULL;
	const struct entry *c;

	assert_non_null(config);
	assert_true(str_has_suffix(config, ".json"));
	assert_int_equal(strncmp(config, id + 7, 64), 0);
	c = must(l, config);
	assert_int_equal(c->type, AE_IFREG);
	assert_digest(c->data, c->len, id);
	cfg = parse(c);
	diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	assert_int_equal(json_array_size(layers), json_array_size(diff_ids));
	for (size_t k = 0; k < json_array_size(layers); k++) {
		const char *path = str_at(layers, k);
		const struct entry *tar = layer_tar(l, path);
		char *dir = dir_of(path);
		_cleanup_free_ char *vpath = str_printf("%s/VERSION", dir);
		_cleanup_free_ char *jpath = str_printf("%s/json", dir);
		_cleanup_free_ char *dpath = str_printf("%s/", dir);
		_cleanup_json_ json_t *v1 = NULL;

		assert_digest(tar->data, tar->len, str_at(diff_ids, k));
		assert_int_equal(must(l, dpath)->type, AE_IFDIR);
		assert_string_equal(must(l, vpath)->data, "1.0");
		v1 = parse(must(l, jpath));
		assert_string_equal(json_string_value(json_object_get(v1, "id")), dir);
		assert_string_equal(json_string_value(json_object_get(v1, "os")), "linux");
		if (prev)
			assert_string_equal(json_string_value(json_object_get(v1, "parent")), prev);
		else
			assert_null(json_object_get(v1, "parent"));
		free(prev);
		prev = dir;
	}
	return prev;
}

static void assert_tags(const json_t *item, const char *tag)
{
	const json_t *tags = json_object_get(item, "RepoTags");

	if (!tag) {
		assert_true(json_is_null(tags));
		return;
	}
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(str_at(tags, 0), tag);
}

/* Docker's v1 id of a layer below an image's top, written out: the digest
 * of the empty v1 image of 1970 with the layer's chain id, names sorted. */
static void docker_bottom_v1_id(const char *chain, char out[DIGEST_STRING_SIZE])
{
	_cleanup_free_ char *text = str_printf(
		"{\"container_config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","
		"\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
		"\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,"
		"\"Cmd\":null,\"Image\":\"\",\"Volumes\":null,\"WorkingDir\":\"\","
		"\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null},"
		"\"created\":\"1970-01-01T00:00:00Z\",\"layer_id\":\"%s\"}",
		chain);

	digest_bytes(text, strlen(text), out);
}

static void test_docker_archive(void **state)
{
	struct fixture *f = *state;
	struct images im;
	char prefix[16], want[DIGEST_STRING_SIZE];
	_cleanup_close_ int fd = -1;
	_cleanup_json_ json_t *manifest = NULL;
	_cleanup_json_ json_t *repos = NULL;
	_cleanup_free_ char *top_a = NULL;
	_cleanup_free_ char *top_b = NULL;
	_cleanup_free_ char *top_c = NULL;
	_cleanup_free_ char *top_d = NULL;
	_cleanup_free_ char *bottom_c = NULL;
	_cleanup_free_ char *json_a = NULL;
	struct listing l;
	const struct entry *m;
	size_t tars = 0, links = 0;

	make_images(f, &im);
	snprintf(prefix, sizeof(prefix), "%.12s", im.d + 7);
	{
		/* Each image once, whatever names it: busybox twice and by id. */
		const char *names[] = { "busybox",   "localhost:5000/app:1",
					"layered:2", "busybox:latest",
					im.a,	     prefix };

		fd = save_ok(f->st, names, 6, IMAGE_ARCHIVE_DOCKER);
	}
	read_archive(fd, &l);

	/* Docker's order (the walk of a directory), each name once. */
	for (size_t i = 1; i < l.n; i++)
		if (strcmp(l.e[i - 1].name, l.e[i].name) >= 0)
			fail_msg("%s comes before %s", l.e[i - 1].name, l.e[i].name);
	assert_string_equal(l.e[l.n - 2].name, "manifest.json");
	assert_string_equal(l.e[l.n - 1].name, "repositories");
	/* Five layer directories (A, B, C's two, D) of four entries, four
	 * configs, manifest.json and repositories. */
	assert_int_equal(l.n, 5 * 4 + 4 + 2);

	m = must(&l, "manifest.json");
	assert_true(str_has_suffix(m->data, "]\n"));
	manifest = parse(m);
	assert_int_equal(json_array_size(manifest), 4);
	assert_tags(json_array_get(manifest, 0), "busybox:latest");
	assert_tags(json_array_get(manifest, 1), "localhost:5000/app:1");
	assert_tags(json_array_get(manifest, 2), "layered:2");
	assert_tags(json_array_get(manifest, 3), NULL);
	top_a = check_docker_item(&l, json_array_get(manifest, 0), im.a);
	top_b = check_docker_item(&l, json_array_get(manifest, 1), im.b);
	top_c = check_docker_item(&l, json_array_get(manifest, 2), im.c);
	top_d = check_docker_item(&l, json_array_get(manifest, 3), im.d);

	/* C's bottom layer is A's, with the v1 id Docker gives a layer below
	 * the top: the same for every image that has it there. */
	bottom_c = dir_of(str_at(json_object_get(json_array_get(manifest, 2), "Layers"), 0));
	{
		_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

		assert_int_equal(image_store_lookup(f->st, im.a, &img, NULL), 0);
		docker_bottom_v1_id(img->layers[0], want);
		assert_string_equal(bottom_c, want + 7);
	}
	assert_string_not_equal(bottom_c, top_a);
	assert_string_not_equal(top_a, top_b);

	/* The one tar of A's, B's and C's shared layer is written once; the
	 * others link to it. */
	for (size_t i = 0; i < l.n; i++) {
		if (!str_has_suffix(l.e[i].name, "/layer.tar"))
			continue;
		if (l.e[i].type == AE_IFREG)
			tars++;
		else if (l.e[i].type == AE_IFLNK)
			links++;
	}
	assert_int_equal(tars, 3);
	assert_int_equal(links, 2);

	repos = parse(must(&l, "repositories"));
	assert_int_equal(json_object_size(repos), 3);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(repos, "busybox"), "latest")),
		top_a);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(repos, "localhost:5000/app"), "1")),
			    top_b);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(repos, "layered"), "2")), top_c);

	/* The legacy JSON escapes as Go does. */
	json_a = str_printf("%s/json", top_a);
	assert_non_null(strstr(must(&l, json_a)->data, "\"echo a \\u0026\\u0026 echo b\""));
	listing_free(&l);
}

/* The blob NAME names, checked against its name and SIZE. */
static const struct entry *oci_blob(const struct listing *l, const char *digest, json_int_t size)
{
	_cleanup_free_ char *name = str_printf("blobs/sha256/%s", digest + 7);
	const struct entry *e = must(l, name);

	assert_int_equal(e->type, AE_IFREG);
	assert_int_equal(e->len, (size_t)size);
	assert_digest(e->data, e->len, digest);
	return e;
}

/* Checks manifest descriptor D of image ID with the layer media types
 * TYPES (NULL-terminated) and the annotations of TAG ("" for none). */
static void check_oci_manifest(const struct listing *l, const json_t *d, const char *id,
			       const char *full, const char *tag, const char *const *types)
{
	const json_t *ann = json_object_get(d, "annotations");
	_cleanup_json_ json_t *m = NULL;
	const json_t *config, *layers;
	size_t n = 0;

	assert_string_equal(json_string_value(json_object_get(d, "mediaType")),
			    IMAGE_MEDIA_OCI_MANIFEST);
	m = parse(oci_blob(l, json_string_value(json_object_get(d, "digest")),
			   json_integer_value(json_object_get(d, "size"))));
	if (tag) {
		assert_int_equal(json_object_size(ann), 2);
		assert_string_equal(json_string_value(json_object_get(
					    ann, "org.opencontainers.image.ref.name")),
				    tag);
		assert_string_equal(
			json_string_value(json_object_get(ann, "io.containerd.image.name")), full);
	} else {
		assert_null(ann);
	}
	assert_int_equal(json_integer_value(json_object_get(m, "schemaVersion")), 2);
	assert_string_equal(json_string_value(json_object_get(m, "mediaType")),
			    IMAGE_MEDIA_OCI_MANIFEST);
	config = json_object_get(m, "config");
	assert_string_equal(json_string_value(json_object_get(config, "mediaType")),
			    IMAGE_MEDIA_OCI_CONFIG);
	assert_string_equal(json_string_value(json_object_get(config, "digest")), id);
	oci_blob(l, id, json_integer_value(json_object_get(config, "size")));
	layers = json_object_get(m, "layers");
	while (types[n])
		n++;
	assert_int_equal(json_array_size(layers), n);
	for (size_t i = 0; i < n; i++) {
		const json_t *ld = json_array_get(layers, i);

		assert_string_equal(json_string_value(json_object_get(ld, "mediaType")), types[i]);
		oci_blob(l, json_string_value(json_object_get(ld, "digest")),
			 json_integer_value(json_object_get(ld, "size")));
	}
}

static void test_oci_layout(void **state)
{
	struct fixture *f = *state;
	struct images im;
	_cleanup_close_ int fd = -1;
	_cleanup_json_ json_t *layout = NULL;
	_cleanup_json_ json_t *index = NULL;
	const char *gz[] = { IMAGE_MEDIA_OCI_LAYER_GZIP, NULL };
	const char *gz_tar[] = { IMAGE_MEDIA_OCI_LAYER_GZIP, IMAGE_MEDIA_OCI_LAYER, NULL };
	const char *tar[] = { IMAGE_MEDIA_OCI_LAYER, NULL };
	const json_t *manifests;
	struct listing l;
	size_t blobs = 0;

	make_images(f, &im);
	{
		const char *names[] = { "busybox", "localhost:5000/app:1", "layered:2", im.d + 7,
					"busybox" };

		fd = save_ok(f->st, names, 5, IMAGE_ARCHIVE_OCI);
	}
	read_archive(fd, &l);

	assert_string_equal(l.e[0].name, "oci-layout");
	assert_string_equal(l.e[1].name, "blobs/");
	assert_int_equal(l.e[1].type, AE_IFDIR);
	assert_string_equal(l.e[2].name, "blobs/sha256/");
	assert_string_equal(l.e[l.n - 1].name, "index.json");
	layout = parse(&l.e[0]);
	assert_string_equal(json_string_value(json_object_get(layout, "imageLayoutVersion")),
			    "1.0.0");
	/* Every blob once, named by its digest. */
	for (size_t i = 3; i + 1 < l.n; i++) {
		char want[DIGEST_STRING_SIZE];

		assert_true(str_has_prefix(l.e[i].name, "blobs/sha256/"));
		snprintf(want, sizeof(want), "sha256:%s", l.e[i].name + strlen("blobs/sha256/"));
		assert_digest(l.e[i].data, l.e[i].len, want);
		for (size_t k = 3; k < i; k++)
			assert_string_not_equal(l.e[k].name, l.e[i].name);
		blobs++;
	}
	/* Four configs, four manifests, three layer blobs: A's gzip one is
	 * also B's and C's bottom. */
	assert_int_equal(blobs, 4 + 4 + 3);

	index = parse(&l.e[l.n - 1]);
	assert_int_equal(json_integer_value(json_object_get(index, "schemaVersion")), 2);
	assert_string_equal(json_string_value(json_object_get(index, "mediaType")),
			    IMAGE_MEDIA_OCI_INDEX);
	manifests = json_object_get(index, "manifests");
	assert_int_equal(json_array_size(manifests), 4);
	check_oci_manifest(&l, json_array_get(manifests, 0), im.a,
			   "docker.io/library/busybox:latest", "latest", gz);
	check_oci_manifest(&l, json_array_get(manifests, 1), im.b, "localhost:5000/app:1", "1", gz);
	check_oci_manifest(&l, json_array_get(manifests, 2), im.c, "docker.io/library/layered:2",
			   "2", gz_tar);
	check_oci_manifest(&l, json_array_get(manifests, 3), im.d, NULL, NULL, tar);
	listing_free(&l);
}

static off_t fd_size(int fd)
{
	struct stat sb;

	assert_int_equal(fstat(fd, &sb), 0);
	return sb.st_size;
}

/* A save that fails with KIND and a message holding PART.  When NOTHING,
 * not a byte may have been written. */
static void save_fails(struct image_store *st, const char *const *names, size_t n,
		       enum image_archive_format format, enum berr_kind kind, const char *part,
		       bool nothing)
{
	_cleanup_close_ int fd = memfd();
	struct berr *err = NULL;

	assert_int_equal(image_save(st, names, n, format, fd, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, kind);
	if (!strstr(err->msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, part);
	if (nothing)
		assert_int_equal(fd_size(fd), 0);
	berr_free(err);
}

static void test_missing_image_writes_nothing(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "busybox", "nope" };
	char id[DIGEST_STRING_SIZE];
	struct berr *err = NULL;

	import_ok(f->st, "alpha", ARCHIVE_FILTER_NONE, NULL, "busybox", id);
	for (int fmt = IMAGE_ARCHIVE_DOCKER; fmt <= IMAGE_ARCHIVE_OCI; fmt++) {
		_cleanup_close_ int fd = memfd();

		assert_int_equal(image_save(f->st, names, 2, fmt, fd, &err), -1);
		assert_int_equal(err->kind, BERR_NOT_FOUND);
		assert_string_equal(err->msg, "No such image: nope");
		berr_clear(&err);
		assert_int_equal(fd_size(fd), 0);
		save_fails(f->st, names, 0, fmt, BERR_INVALID, "", true);
	}
}

/* Whether a tar reader gets through the whole of FD without an error. */
static bool reads_whole(int fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char buf[4096];
	int r;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		la_ssize_t n;

		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			break;
	}
	archive_read_free(a);
	return r == ARCHIVE_EOF;
}

/* A blob of the store changed behind its back: the save refuses to pass
 * on bytes that are not the layer. */
static void test_damaged_layer_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "d:1" };
	char id[DIGEST_STRING_SIZE];
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_free_ char *blob = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len;

	import_ok(f->st, "delta", ARCHIVE_FILTER_NONE, NULL, "d:1", id);
	assert_int_equal(image_store_lookup(f->st, "d:1", &img, NULL), 0);
	/* The blob of a plain tar import is named by its DiffID. */
	blob = str_printf("%s/blobs/sha256/%s", f->root, img->layers[0] + 7);
	assert_int_equal(fs_read_file(blob, TAR_MAX, &data, &len, NULL), 0);

	/* The same length, another byte. */
	data[520] ^= 1;
	assert_int_equal(fs_write_file_atomic(blob, data, len, 0644, NULL), 0);
	save_fails(f->st, names, 1, IMAGE_ARCHIVE_DOCKER, BERR_INTERNAL, "digest", false);
	save_fails(f->st, names, 1, IMAGE_ARCHIVE_OCI, BERR_INTERNAL, "digest", false);
	/* Longer than recorded. */
	data = realloc(data, len + 512);
	assert_non_null(data);
	memset(data + len, 0, 512);
	assert_int_equal(fs_write_file_atomic(blob, data, len + 512, 0644, NULL), 0);
	save_fails(f->st, names, 1, IMAGE_ARCHIVE_DOCKER, BERR_INTERNAL, "more than the recorded",
		   false);
	/* Shorter than recorded: the archive stops inside the layer.tar, never
	 * a whole archive with a zero-padded layer. */
	assert_int_equal(fs_write_file_atomic(blob, data, len - 512, 0644, NULL), 0);
	{
		_cleanup_close_ int fd = memfd();
		struct berr *err = NULL;

		assert_int_equal(image_save(f->st, names, 1, IMAGE_ARCHIVE_DOCKER, fd, &err), -1);
		assert_int_equal(err->kind, BERR_INTERNAL);
		assert_non_null(strstr(err->msg, "instead of the recorded"));
		berr_free(err);
		assert_true(fd_size(fd) > 0);
		assert_false(reads_whole(fd));
	}
	/* Gone: found before anything is written. */
	assert_int_equal(unlink(blob), 0);
	save_fails(f->st, names, 1, IMAGE_ARCHIVE_DOCKER, BERR_INTERNAL, "missing", true);
	save_fails(f->st, names, 1, IMAGE_ARCHIVE_OCI, BERR_INTERNAL, "missing", true);
}

/* The text of FILE in the top layer directory of image NAME in ST. */
static char *top_layer_file(struct image_store *st, const char *name, const char *file)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *path = NULL;
	char *text = NULL;
	size_t len;

	assert_int_equal(image_store_lookup(st, name, &img, NULL), 0);
	assert_int_equal(image_store_layer_dirs(st, img, &dirs, NULL), 0);
	path = str_printf("%s/%s", dirs[img->n_layers - 1], file);
	assert_int_equal(fs_read_file(path, 4096, &text, &len, NULL), 0);
	return text;
}

static void assert_same_image(struct image_store *a, struct image_store *b, const char *name)
{
	_cleanup_(store_image_free_cleanup) struct store_image *ia = NULL;
	_cleanup_(store_image_free_cleanup) struct store_image *ib = NULL;
	struct berr *err = NULL;

	assert_int_equal(image_store_lookup(a, name, &ia, NULL), 0);
	if (image_store_lookup(b, name, &ib, &err) < 0)
		fail_msg("loaded %s: %s", name, err->msg);
	assert_string_equal(ia->id, ib->id);
	assert_string_equal(ia->config, ib->config);
	assert_int_equal(ia->n_layers, ib->n_layers);
	for (size_t i = 0; i < ia->n_layers; i++)
		assert_string_equal(ia->layers[i], ib->layers[i]);
}

/* What one store saves, another loads: the same images, ids, tags and
 * files, in either format. */
static void test_round_trip_through_load(void **state)
{
	struct fixture *f = *state;
	struct images im;

	make_images(f, &im);
	for (int fmt = IMAGE_ARCHIVE_DOCKER; fmt <= IMAGE_ARCHIVE_OCI; fmt++) {
		const char *names[] = { "busybox", "localhost:5000/app:1", "layered:2", im.d };
		_cleanup_free_ char *id_line = str_printf("Loaded image ID: %s", im.d);
		_cleanup_free_ char *hello = NULL;
		_cleanup_free_ char *motd = NULL;
		_cleanup_close_ int fd = save_ok(f->st, names, 4, fmt);
		struct image_load_result res = { 0 };
		struct image_store *st = NULL;
		struct berr *err = NULL;

		snprintf(f->other, sizeof(f->other), "/tmp/berth-save-load-XXXXXX");
		assert_non_null(mkdtemp(f->other));
		assert_int_equal(image_store_open(f->other, &st, NULL), 0);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		if (image_load(st, fd, &res, &err) < 0)
			fail_msg("load of the %s format: %s", fmt ? "OCI" : "docker", err->msg);
		assert_int_equal(strv_length(res.lines), 4);
		assert_string_equal(res.lines[0], "Loaded image: busybox:latest");
		assert_string_equal(res.lines[1], "Loaded image: localhost:5000/app:1");
		assert_string_equal(res.lines[2], "Loaded image: layered:2");
		assert_string_equal(res.lines[3], id_line);
		image_load_result_clear(&res);

		assert_same_image(f->st, st, "busybox:latest");
		assert_same_image(f->st, st, "localhost:5000/app:1");
		assert_same_image(f->st, st, "layered:2");
		assert_same_image(f->st, st, im.d);
		hello = top_layer_file(st, "busybox", "bin/hello");
		assert_string_equal(hello, "alpha");
		motd = top_layer_file(st, "layered:2", "etc/motd");
		assert_string_equal(motd, "layered\n");

		image_store_free(st);
		assert_int_equal(fs_remove_tree(f->other, NULL), 0);
		f->other[0] = '\0';
	}
}

/*
 * A golden image: this config (with values Go's decoder must fold, drop,
 * sort or escape) and two empty layers were loaded into Docker 20.10.24,
 * whose `docker save` wrote the directories, legacy JSON, manifest.json and
 * repositories below.
 */
#define EMPTY_TAR_DIFF_ID "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

static const char golden_config[] =
	"{\"architecture\":\"arm64\",\"variant\":\"v8\",\"os\":\"linux\",\"author\":\"A <a@b>\","
	"\"created\":\"2020-01-02T03:04:05.120000000+02:00\",\"comment\":\"c&c\","
	"\"config\":{\"Cmd\":\"echo a && b\",\"Env\":[\"X=<y>\"],"
	"\"Labels\":{\"z\":\"1\",\"a\":\"\\u2028\"},\"ExposedPorts\":{\"80/tcp\":{}},"
	"\"Volumes\":{},\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Retries\":3},"
	"\"StopTimeout\":10,\"Shell\":[],\"Entrypoint\":[],\"unknown\":1,\"user\":\"u\"},"
	"\"container_config\":{\"Hostname\":\"h\",\"Tty\":true},\"docker_version\":\"1.2\","
	"\"Size\":5,\"id\":\"zzz\","
	"\"parent\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" EMPTY_TAR_DIFF_ID
	"\",\"" EMPTY_TAR_DIFF_ID "\"]},\"history\":[{\"created\":\"2020-01-02T03:04:05Z\"},"
	"{\"created\":\"2020-01-02T03:04:05Z\"}]}";

#define GOLDEN_ID     "sha256:f58aa6c251d57142ee7b621cf7456a84e93ad03bffab3bb1c63d7ce945ff2ecd"
#define GOLDEN_BOTTOM "3bf9dc6ca1042e8f1e9ce7b6a62bbe1ea0c224323b6fbc34e5e5e35905cd4206"
#define GOLDEN_TOP    "ffaa01d01d8ee806c96a3c907cb450c3e3b1f8940c7e7130dc2c8343c7674409"

#define EMPTY_CONFIG                                                                       \
	"{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"      \
	"\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false," \
	"\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"\",\"Volumes\":null,"   \
	"\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":null}"

static const char golden_bottom_json[] =
	"{\"id\":\"" GOLDEN_BOTTOM "\",\"created\":\"1970-01-01T00:00:00Z\","
	"\"container_config\":" EMPTY_CONFIG ",\"os\":\"linux\"}";

static const char golden_top_json[] =
	"{\"id\":\"" GOLDEN_TOP "\",\"parent\":\"" GOLDEN_BOTTOM "\",\"comment\":\"c\\u0026c\","
	"\"created\":\"2020-01-02T03:04:05.12+02:00\","
	"\"container_config\":{\"Hostname\":\"h\",\"Domainname\":\"\",\"User\":\"\","
	"\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":true,"
	"\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"\","
	"\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
	"\"Labels\":null},"
	"\"docker_version\":\"1.2\",\"author\":\"A \\u003ca@b\\u003e\","
	"\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"u\",\"AttachStdin\":false,"
	"\"AttachStdout\":false,\"AttachStderr\":false,\"ExposedPorts\":{\"80/tcp\":{}},"
	"\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"X=\\u003cy\\u003e\"],"
	"\"Cmd\":[\"echo a \\u0026\\u0026 b\"],"
	"\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Retries\":3},\"Image\":\"\","
	"\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":[],\"OnBuild\":null,"
	"\"Labels\":{\"a\":\"\\u2028\",\"z\":\"1\"},\"StopTimeout\":10},"
	"\"architecture\":\"arm64\",\"variant\":\"v8\",\"os\":\"linux\",\"Size\":5}";

static const char golden_manifest[] =
	"[{\"Config\":\"f58aa6c251d57142ee7b621cf7456a84e93ad03bffab3bb1c63d7ce945ff2ecd.json\","
	"\"RepoTags\":[\"golden:1\"],\"Layers\":[\"" GOLDEN_BOTTOM "/layer.tar\",\"" GOLDEN_TOP
	"/layer.tar\"]}]\n";

static const char golden_repositories[] = "{\"golden\":{\"1\":\"" GOLDEN_TOP "\"}}\n";

static void test_golden_docker_ids(void **state)
{
	struct fixture *f = *state;
	static const char empty_tar[1024];
	const char *names[] = { "golden:1" };
	char blob[DIGEST_STRING_SIZE], chain1[DIGEST_STRING_SIZE];
	_cleanup_free_ char *dir0 = str_printf("%s/layers/golden0", f->root);
	_cleanup_free_ char *dir1 = str_printf("%s/layers/golden1", f->root);
	_cleanup_close_ int in = memfd();
	_cleanup_close_ int fd = -1;
	struct store_layer layers[2];
	struct store_image_spec spec;
	struct berr *err = NULL;
	const struct entry *e;
	struct listing l;

	assert_digest(golden_config, strlen(golden_config), GOLDEN_ID);
	assert_int_equal(fs_write_all(in, empty_tar, sizeof(empty_tar)), 0);
	assert_int_equal(lseek(in, 0, SEEK_SET), 0);
	assert_int_equal(image_blob_put_fd(image_store_blobs(f->st), in, EMPTY_TAR_DIFF_ID,
					   IMAGE_BLOB_SIZE_UNKNOWN, 0, blob, NULL),
			 0);
	image_chain_id(EMPTY_TAR_DIFF_ID, EMPTY_TAR_DIFF_ID, chain1);
	layers[0] = (struct store_layer){ .chain_id = EMPTY_TAR_DIFF_ID,
					  .diff_id = EMPTY_TAR_DIFF_ID,
					  .blob_digest = EMPTY_TAR_DIFF_ID,
					  .path = dir0,
					  .size = 1024 };
	layers[1] = layers[0];
	layers[1].chain_id = chain1;
	layers[1].path = dir1;
	spec = (struct store_image_spec){ .id = GOLDEN_ID,
					  .config = golden_config,
					  .created = 1577927045,
					  .size = 0,
					  .layers = layers,
					  .n_layers = 2 };
	if (store_image_add(image_store_db(f->st), &spec, &err) < 0 ||
	    image_store_tag(f->st, GOLDEN_ID, "golden:1", NULL, &err) < 0)
		fail_msg("record: %s", err->msg);

	fd = save_ok(f->st, names, 1, IMAGE_ARCHIVE_DOCKER);
	read_archive(fd, &l);
	assert_string_equal(must(&l, GOLDEN_BOTTOM "/json")->data, golden_bottom_json);
	assert_string_equal(must(&l, GOLDEN_TOP "/json")->data, golden_top_json);
	assert_string_equal(must(&l, "manifest.json")->data, golden_manifest);
	assert_string_equal(must(&l, "repositories")->data, golden_repositories);
	e = must(&l, GOLDEN_TOP "/layer.tar");
	assert_int_equal(e->type, AE_IFLNK);
	assert_string_equal(e->link, "../" GOLDEN_BOTTOM "/layer.tar");
	e = must(&l, GOLDEN_BOTTOM "/layer.tar");
	assert_int_equal(e->len, sizeof(empty_tar));
	assert_memory_equal(e->data, empty_tar, sizeof(empty_tar));
	assert_int_equal(l.n, 2 * 4 + 3);
	listing_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_docker_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oci_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_image_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_layer_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_golden_docker_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_through_load, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_save needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
