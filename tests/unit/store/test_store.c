/* Unit tests for the metadata store: schema and reopen, layers shared by
 * images and freed with the last of them, references that move, id prefixes,
 * images in use, transactions that leave nothing behind, and two handles. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/digest.h"
#include "lib/fsutil.h"
#include "store/internal.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct store *st;
	char l1[DIGEST_STRING_SIZE], l2[DIGEST_STRING_SIZE], l3[DIGEST_STRING_SIZE];
	char a[DIGEST_STRING_SIZE], b[DIGEST_STRING_SIZE];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (store_open(f->dir, &f->st, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return -1;
	}
	digest_bytes("layer one", 9, f->l1);
	digest_bytes("layer two", 9, f->l2);
	digest_bytes("layer three", 11, f->l3);
	digest_bytes("config a", 8, f->a);
	digest_bytes("config b", 8, f->b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	fs_remove_tree(f->dir, NULL);
	free(f);
	return 0;
}

static void layer_init(struct store_layer *l, char *chain_id, int64_t size)
{
	memset(l, 0, sizeof(*l));
	l->chain_id = chain_id;
	l->diff_id = chain_id;
	l->path = "/var/lib/berth/layers/x";
	l->size = size;
}

/* Adds image ID made of the N chain ids in IDS. */
static int add_image(struct store *st, const char *id, int64_t created, char **ids, size_t n,
		     struct berr **err)
{
	struct store_layer layers[8];
	struct store_image_spec spec = {
		.id = id,
		.config = "{\"architecture\":\"amd64\"}",
		.created = created,
		.size = 100,
		.layers = layers,
		.n_layers = n,
	};

	for (size_t i = 0; i < n; i++)
		layer_init(&layers[i], ids[i], 10);
	return store_image_add(st, &spec, err);
}

/* Runs a query returning one integer on a separate connection. */
static long long query_int(const char *dir, const char *sql)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

static void exec_raw(const char *dir, const char *sql)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void expect_kind(struct berr **err, enum berr_kind kind)
{
	assert_non_null(*err);
	if ((*err)->kind != kind)
		fprintf(stderr, "unexpected error: %s\n", (*err)->msg);
	assert_int_equal((*err)->kind, kind);
	assert_non_null((*err)->msg);
	berr_clear(err);
}

static void test_schema_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_image *img = NULL;
	struct berr *err = NULL;
	char *layers[] = { f->l1 };
	char path[PATH_MAX];

	assert_int_equal(query_int(f->dir, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM sqlite_master WHERE type = "
					   "'table' AND name IN ('layers', 'images', "
					   "'image_layers', 'image_references', 'image_users')"),
			 5);
	snprintf(path, sizeof(path), "%s/%s-wal", f->dir, STORE_DB_NAME);
	assert_true(fs_exists(path));
	assert_int_equal(add_image(f->st, f->a, 1, layers, 1, &err), 0);

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);
	assert_int_equal(store_image_lookup(f->st, f->a, &img, &err), 0);
	assert_string_equal(img->id, f->a);
	assert_string_equal(img->config, "{\"architecture\":\"amd64\"}");
	assert_int_equal(img->n_layers, 1);
	assert_string_equal(img->layers[0], f->l1);
	store_image_free(img);

	/* A schema newer than this code is refused, not misread. */
	store_close(f->st);
	f->st = NULL;
	exec_raw(f->dir, "PRAGMA user_version = 99");
	assert_int_equal(store_open(f->dir, &f->st, &err), -1);
	assert_null(f->st);
	assert_non_null(strstr(err->msg, "99"));
	expect_kind(&err, BERR_INVALID);
	exec_raw(f->dir, "PRAGMA user_version = 1");
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);
}

static void test_not_a_database(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct berr *err = NULL;
	char dir[] = "/tmp/berth-store-bad-XXXXXX";
	FILE *bad;
	char path[PATH_MAX];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	bad = fopen(path, "we");
	assert_non_null(bad);
	for (int i = 0; i < 64; i++)
		fputs("this is not a database file\n", bad);
	assert_int_equal(fclose(bad), 0);
	assert_int_equal(store_open(dir, &st, &err), -1);
	assert_null(st);
	expect_kind(&err, BERR_INVALID);
	fs_remove_tree(dir, NULL);
	(void)f;
}

static void test_fds_cloexec(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int seen = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char target[PATH_MAX];
		ssize_t len;
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (!strstr(target, f->dir))
			continue;
		seen++;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	closedir(d);
	assert_true(seen > 0);
}

static void test_shared_layer(void **state)
{
	struct fixture *f = *state;
	struct store_layer *layer = NULL, *freed = NULL;
	struct berr *err = NULL;
	char *la[] = { f->l1, f->l2 };
	char *lb[] = { f->l1, f->l3 };
	size_t n = 99;

	assert_int_equal(add_image(f->st, f->a, 1, la, 2, &err), 0);
	assert_int_equal(add_image(f->st, f->b, 2, lb, 2, &err), 0);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM layers"), 3);
	assert_int_equal(store_layer_lookup(f->st, f->l1, &layer, &err), 0);
	assert_int_equal(layer->refcount, 2);
	assert_string_equal(layer->path, "/var/lib/berth/layers/x");
	store_layer_free(layer);

	/* The same image twice is a conflict and changes no count. */
	assert_int_equal(add_image(f->st, f->a, 1, la, 2, &err), -1);
	expect_kind(&err, BERR_CONFLICT);
	assert_int_equal(query_int(f->dir,
				   "SELECT refcount FROM layers WHERE chain_id = (SELECT "
				   "chain_id FROM image_layers WHERE position = 0 LIMIT 1)"),
			 2);

	assert_int_equal(store_image_delete(f->st, f->a, false, &freed, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(freed[0].chain_id, f->l2);
	assert_string_equal(freed[0].path, "/var/lib/berth/layers/x");
	store_layer_list_free(freed, n);
	assert_int_equal(store_layer_lookup(f->st, f->l1, &layer, &err), 0);
	assert_int_equal(layer->refcount, 1);
	store_layer_free(layer);
	assert_int_equal(store_layer_lookup(f->st, f->l2, &layer, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);

	assert_int_equal(store_image_delete(f->st, f->b, false, &freed, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(
		(strcmp(freed[0].chain_id, f->l1) == 0 && strcmp(freed[1].chain_id, f->l3) == 0) ||
		(strcmp(freed[0].chain_id, f->l3) == 0 && strcmp(freed[1].chain_id, f->l1) == 0));
	store_layer_list_free(freed, n);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM layers"), 0);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM image_layers"), 0);

	assert_int_equal(store_image_delete(f->st, f->b, false, &freed, &n, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
}

static void test_reference_moves(void **state)
{
	struct fixture *f = *state;
	struct store_ref ref = {
		.name = "docker.io/library/alpine:latest",
		.repo = "docker.io/library/alpine",
		.tag = "latest",
	};
	struct store_ref bad = ref;
	struct store_image *img = NULL;
	struct berr *err = NULL;
	char *layers[] = { f->l1 };
	char *old = NULL;

	assert_int_equal(add_image(f->st, f->a, 1, layers, 1, &err), 0);
	assert_int_equal(add_image(f->st, f->b, 2, layers, 1, &err), 0);

	assert_int_equal(store_ref_add(f->st, &ref, f->a, &old, &err), 0);
	assert_null(old);
	assert_int_equal(store_ref_add(f->st, &ref, f->a, &old, &err), 0);
	assert_null(old);
	assert_int_equal(store_image_lookup_ref(f->st, ref.name, &img, &err), 0);
	assert_string_equal(img->id, f->a);
	assert_int_equal(img->n_refs, 1);
	assert_string_equal(img->refs[0].repo, "docker.io/library/alpine");
	assert_string_equal(img->refs[0].tag, "latest");
	assert_null(img->refs[0].digest);
	store_image_free(img);

	assert_int_equal(store_ref_add(f->st, &ref, f->b, &old, &err), 0);
	assert_non_null(old);
	assert_string_equal(old, f->a);
	free(old);
	assert_int_equal(store_image_lookup(f->st, f->a, &img, &err), 0);
	assert_int_equal(img->n_refs, 0);
	store_image_free(img);
	assert_int_equal(store_image_lookup_ref(f->st, ref.name, &img, &err), 0);
	assert_string_equal(img->id, f->b);
	store_image_free(img);

	/* A reference needs an existing image and exactly one of tag/digest. */
	assert_int_equal(store_ref_add(f->st, &ref, f->l3, &old, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	bad.digest = f->l1;
	assert_int_equal(store_ref_add(f->st, &bad, f->a, &old, &err), -1);
	expect_kind(&err, BERR_INVALID);
	bad.tag = NULL;
	bad.name = "docker.io/library/busybox@sha256:00";
	assert_int_equal(store_ref_add(f->st, &bad, f->a, &old, &err), -1);
	expect_kind(&err, BERR_INVALID);

	bad.name = "docker.io/library/alpinex:latest";
	bad.tag = "latest";
	bad.digest = NULL;
	assert_int_equal(store_ref_add(f->st, &bad, f->a, &old, &err), -1);
	expect_kind(&err, BERR_INVALID);

	/* Names travel as bound parameters: quotes are data, not SQL. */
	bad.name = "docker.io/library/alpine:x'; DROP TABLE images; --";
	bad.tag = "x'; DROP TABLE images; --";
	assert_int_equal(store_ref_add(f->st, &bad, f->a, &old, &err), 0);
	assert_int_equal(store_image_lookup_ref(f->st, bad.name, &img, &err), 0);
	assert_string_equal(img->id, f->a);
	assert_string_equal(img->refs[0].tag, bad.tag);
	store_image_free(img);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM images"), 2);
	assert_int_equal(store_ref_remove(f->st, bad.name, NULL, &err), 0);

	assert_int_equal(store_ref_remove(f->st, ref.name, &old, &err), 0);
	assert_string_equal(old, f->b);
	free(old);
	assert_int_equal(store_image_lookup_ref(f->st, ref.name, &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	assert_int_equal(store_ref_remove(f->st, ref.name, NULL, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);

	/* Deleting an image drops its references. */
	assert_int_equal(store_ref_add(f->st, &ref, f->a, NULL, &err), 0);
	{
		struct store_layer *freed = NULL;
		size_t n = 0;

		assert_int_equal(store_image_delete(f->st, f->a, false, &freed, &n, &err), 0);
		assert_int_equal(n, 0);
		store_layer_list_free(freed, n);
	}
	assert_int_equal(store_image_lookup_ref(f->st, ref.name, &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
}

static void test_prefix_lookup(void **state)
{
	struct fixture *f = *state;
	char id1[DIGEST_STRING_SIZE], id2[DIGEST_STRING_SIZE];
	struct store_image *img = NULL;
	struct berr *err = NULL;
	char *layers[] = { f->l1 };

	snprintf(id1, sizeof(id1), "sha256:abc1%060d", 0);
	snprintf(id2, sizeof(id2), "sha256:abc2%060d", 0);
	assert_int_equal(add_image(f->st, id1, 1, layers, 1, &err), 0);
	assert_int_equal(add_image(f->st, id2, 2, layers, 1, &err), 0);

	assert_int_equal(store_image_lookup_prefix(f->st, "abc", &img, &err), -1);
	expect_kind(&err, BERR_CONFLICT);
	assert_int_equal(store_image_lookup_prefix(f->st, "abc1", &img, &err), 0);
	assert_string_equal(img->id, id1);
	store_image_free(img);
	assert_int_equal(store_image_lookup_prefix(f->st, "sha256:abc2", &img, &err), 0);
	assert_string_equal(img->id, id2);
	store_image_free(img);
	assert_int_equal(store_image_lookup_prefix(f->st, id1, &img, &err), 0);
	assert_string_equal(img->id, id1);
	store_image_free(img);
	assert_int_equal(store_image_lookup_prefix(f->st, "abd", &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	/* LIKE-style wildcards are not hex and cannot widen the match. */
	assert_int_equal(store_image_lookup_prefix(f->st, "ab%", &img, &err), -1);
	expect_kind(&err, BERR_INVALID);
	assert_int_equal(store_image_lookup_prefix(f->st, "", &img, &err), -1);
	expect_kind(&err, BERR_INVALID);
	assert_int_equal(store_image_lookup_prefix(f->st, "sha256:", &img, &err), -1);
	expect_kind(&err, BERR_INVALID);
}

static void test_in_use(void **state)
{
	struct fixture *f = *state;
	struct store_layer *freed = NULL;
	struct store_image *img = NULL;
	struct berr *err = NULL;
	char *layers[] = { f->l1 };
	size_t n = 0;

	assert_int_equal(add_image(f->st, f->a, 1, layers, 1, &err), 0);
	assert_int_equal(add_image(f->st, f->b, 1, layers, 1, &err), 0);
	assert_int_equal(store_image_user_add(f->st, f->a, "c1", &err), 0);
	assert_int_equal(store_image_user_add(f->st, f->a, "c1", &err), 0);
	assert_int_equal(store_image_user_add(f->st, f->b, "c2", &err), 0);
	assert_int_equal(store_image_user_add(f->st, f->l3, "c1", &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);

	assert_int_equal(store_image_delete(f->st, f->a, false, &freed, &n, &err), -1);
	assert_non_null(strstr(err->msg, "c1"));
	expect_kind(&err, BERR_CONFLICT);
	assert_int_equal(store_image_lookup(f->st, f->a, &img, &err), 0);
	store_image_free(img);
	assert_int_equal(store_layer_lookup(f->st, f->l1, &freed, &err), 0);
	assert_int_equal(freed->refcount, 2);
	store_layer_free(freed);
	freed = NULL;

	assert_int_equal(store_image_delete(f->st, f->a, true, &freed, &n, &err), 0);
	assert_int_equal(n, 0);
	store_layer_list_free(freed, n);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM image_users"), 1);

	/* Once the container is gone, the plain delete succeeds. */
	assert_int_equal(store_image_user_remove(f->st, "c2", &err), 0);
	assert_int_equal(store_image_user_remove(f->st, "c2", &err), 0);
	assert_int_equal(store_image_delete(f->st, f->b, false, &freed, &n, &err), 0);
	assert_int_equal(n, 1);
	store_layer_list_free(freed, n);
}

static void test_failed_add_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_layer layers[3];
	struct store_image_spec spec = {
		.id = f->b,
		.config = "{}",
		.created = 5,
		.layers = layers,
		.n_layers = 3,
	};
	struct store_image *img = NULL;
	struct store_layer *layer = NULL;
	struct berr *err = NULL;
	char *la[] = { f->l1 };

	assert_int_equal(add_image(f->st, f->a, 1, la, 1, &err), 0);

	/* The third layer repeats the second: the UNIQUE constraint fails after
	 * the image row and two layers were written. */
	layer_init(&layers[0], f->l1, 1);
	layer_init(&layers[1], f->l2, 1);
	layer_init(&layers[2], f->l2, 1);
	assert_int_equal(store_image_add(f->st, &spec, &err), -1);
	assert_non_null(strstr(err->msg, f->b));
	expect_kind(&err, BERR_CONFLICT);
	assert_int_equal(store_image_lookup(f->st, f->b, &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	assert_int_equal(store_layer_lookup(f->st, f->l2, &layer, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	assert_int_equal(store_layer_lookup(f->st, f->l1, &layer, &err), 0);
	assert_int_equal(layer->refcount, 1);
	store_layer_free(layer);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM image_layers"), 1);

	/* A CHECK constraint (negative size) in the last layer: same result. */
	layer_init(&layers[2], f->l3, -1);
	assert_int_equal(store_image_add(f->st, &spec, &err), -1);
	berr_clear(&err);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM images"), 1);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM layers"), 1);

	/* Inside the caller's transaction a failed add undoes only itself. */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_begin(f->st, &err), -1);
	expect_kind(&err, BERR_CONFLICT);
	layer_init(&layers[2], f->l3, 1);
	spec.n_layers = 2;
	assert_int_equal(store_image_add(f->st, &spec, &err), 0);
	spec.id = f->l3;
	layer_init(&layers[1], f->l1, 1);
	assert_int_equal(store_image_add(f->st, &spec, &err), -1);
	expect_kind(&err, BERR_CONFLICT);
	assert_int_equal(store_commit(f->st, &err), 0);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM images"), 2);
	assert_int_equal(store_image_lookup(f->st, f->l3, &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);

	/* A rolled back transaction leaves nothing. */
	assert_int_equal(store_begin(f->st, &err), 0);
	spec.n_layers = 1;
	assert_int_equal(store_image_add(f->st, &spec, &err), 0);
	store_rollback(f->st);
	assert_int_equal(store_image_lookup(f->st, f->l3, &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	assert_int_equal(store_commit(f->st, &err), -1);
	expect_kind(&err, BERR_INVALID);
}

static void test_list_and_touch(void **state)
{
	struct fixture *f = *state;
	struct store_ref ref = {
		.name = "example.com/"
			"app@sha256:0000000000000000000000000000000000000000000000000000"
			"000000000000",
		.repo = "example.com/app",
		.digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	};
	struct store_image **imgs = NULL;
	struct store_image *img = NULL;
	struct berr *err = NULL;
	char *la[] = { f->l1, f->l2 };
	size_t n = 0;

	assert_int_equal(store_image_list(f->st, &imgs, &n, &err), 0);
	assert_int_equal(n, 0);
	store_image_list_free(imgs, n);

	assert_int_equal(add_image(f->st, f->a, 10, la, 2, &err), 0);
	assert_int_equal(add_image(f->st, f->b, 20, la, 1, &err), 0);
	assert_int_equal(store_ref_add(f->st, &ref, f->a, NULL, &err), 0);
	assert_int_equal(store_image_list(f->st, &imgs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(imgs[0]->id, f->b);
	assert_int_equal(imgs[0]->created, 20);
	assert_int_equal(imgs[0]->n_refs, 0);
	assert_string_equal(imgs[1]->id, f->a);
	assert_int_equal(imgs[1]->n_layers, 2);
	assert_string_equal(imgs[1]->layers[0], f->l1);
	assert_string_equal(imgs[1]->layers[1], f->l2);
	assert_int_equal(imgs[1]->n_refs, 1);
	assert_string_equal(imgs[1]->refs[0].name, ref.name);
	assert_string_equal(imgs[1]->refs[0].digest, ref.digest);
	assert_null(imgs[1]->refs[0].tag);
	store_image_list_free(imgs, n);

	assert_int_equal(store_image_lookup(f->st, f->a, &img, &err), 0);
	assert_int_equal(img->last_used, 0);
	store_image_free(img);
	assert_int_equal(store_image_touch(f->st, f->a, 12345, &err), 0);
	assert_int_equal(store_image_lookup(f->st, f->a, &img, &err), 0);
	assert_int_equal(img->last_used, 12345);
	store_image_free(img);
	assert_int_equal(store_image_touch(f->st, f->l3, 1, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	assert_int_equal(store_image_lookup(f->st, "sha256:nothex", &img, &err), -1);
	expect_kind(&err, BERR_INVALID);
}

static void test_two_handles(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct store_image *img = NULL;
	struct store_image **imgs = NULL;
	struct berr *err = NULL;
	char *layers[] = { f->l1 };
	size_t n = 0;

	assert_int_equal(store_open(f->dir, &other, &err), 0);

	/* While one handle writes, the other still reads the last commit. */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(add_image(f->st, f->a, 1, layers, 1, &err), 0);
	assert_int_equal(store_image_lookup(other, f->a, &img, &err), -1);
	expect_kind(&err, BERR_NOT_FOUND);
	assert_int_equal(store_commit(f->st, &err), 0);
	assert_int_equal(store_image_lookup(other, f->a, &img, &err), 0);
	assert_string_equal(img->id, f->a);
	store_image_free(img);

	/* Writes from the second handle share the layer row. */
	assert_int_equal(add_image(other, f->b, 2, layers, 1, &err), 0);
	assert_int_equal(store_image_list(f->st, &imgs, &n, &err), 0);
	assert_int_equal(n, 2);
	store_image_list_free(imgs, n);
	assert_int_equal(query_int(f->dir, "SELECT refcount FROM layers"), 2);

	/* A writer waits for the other's write lock, then gives up as
	 * unavailable, and the holder's work is unharmed. */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_image_touch(f->st, f->a, 7, &err), 0);
	assert_int_equal(store_image_touch(other, f->b, 7, &err), -1);
	expect_kind(&err, BERR_UNAVAILABLE);
	assert_int_equal(store_commit(f->st, &err), 0);
	assert_int_equal(store_image_lookup(other, f->a, &img, &err), 0);
	assert_int_equal(img->last_used, 7);
	store_image_free(img);
	store_close(other);
}

struct opener {
	const char *dir;
	int rc;
};

static void *open_close(void *arg)
{
	struct opener *o = arg;
	struct store *st = NULL;
	struct berr *err = NULL;

	o->rc = store_open(o->dir, &st, &err);
	if (o->rc < 0)
		fprintf(stderr, "open: %s\n", err->msg);
	berr_clear(&err);
	store_close(st);
	return NULL;
}

/* Handles that open a new database at once all see one schema, created
 * once: each migration step rereads the version under the write lock. */
static int synchronous_level(struct store *st)
{
	sqlite3_stmt *stmt = NULL;
	int level;

	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA synchronous", -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	level = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return level;
}

/* A synced write raises the connection's level for its own commit only:
 * whatever ends it, the next write is unsynced again unless it asks. */
static void test_synced_write_ends_synced(void **state)
{
	struct fixture *f = *state;
	struct store_tx tx = { 0 };
	struct berr *err = NULL;

	assert_int_equal(synchronous_level(f->st), 1);
	assert_int_equal(store_tx_begin(f->st, &tx, STORE_TX_WRITE_UNSYNCED, &err), 0);
	assert_int_equal(synchronous_level(f->st), 1);
	assert_int_equal(store_tx_commit(&tx, &err), 0);

	assert_int_equal(store_tx_begin(f->st, &tx, STORE_TX_WRITE, &err), 0);
	assert_int_equal(synchronous_level(f->st), 2);
	assert_int_equal(store_tx_commit(&tx, &err), 0);
	assert_int_equal(synchronous_level(f->st), 1);

	assert_int_equal(store_tx_begin(f->st, &tx, STORE_TX_WRITE, &err), 0);
	store_tx_abort(&tx);
	assert_int_equal(synchronous_level(f->st), 1);

	/* Inside another transaction it takes that one's level. */
	assert_int_equal(store_tx_begin(f->st, &tx, STORE_TX_WRITE, &err), 0);
	{
		struct store_tx inner = { 0 };

		assert_int_equal(store_tx_begin(f->st, &inner, STORE_TX_WRITE_UNSYNCED, &err), 0);
		assert_int_equal(synchronous_level(f->st), 2);
		assert_int_equal(store_tx_commit(&inner, &err), 0);
	}
	assert_int_equal(store_tx_commit(&tx, &err), 0);
	assert_int_equal(synchronous_level(f->st), 1);

	/* An explicit transaction is synced, committed or rolled back. */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(synchronous_level(f->st), 2);
	assert_int_equal(store_commit(f->st, &err), 0);
	assert_int_equal(synchronous_level(f->st), 1);
	assert_int_equal(store_begin(f->st, &err), 0);
	store_rollback(f->st);
	assert_int_equal(synchronous_level(f->st), 1);
}

/* A statement given back is kept for the next use of its text; one still
 * in use is not handed out twice. */
static void test_statements_are_kept(void **state)
{
	static const char sql[] = "SELECT ?1";
	struct fixture *f = *state;
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
	struct berr *err = NULL;

	assert_int_equal(store_prepare(f->st, sql, &a, &err), 0);
	assert_int_equal(store_bind_int64(f->st, a, 1, 7, &err), 0);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_int_equal(store_prepare(f->st, sql, &b, &err), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	/* The second one starts unbound. */
	assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
	assert_int_equal(sqlite3_column_int(a, 0), 7);
	store_stmt_release(a);
	store_stmt_release(b);
	assert_int_equal(store_prepare(f->st, sql, &c, &err), 0);
	assert_true(c == a || c == b);
	/* Reset and unbound when given back. */
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(c, 0), SQLITE_NULL);
	store_stmt_release(c);
}

static void test_concurrent_first_open(void **state)
{
	char dir[] = "/tmp/berth-store-race-XXXXXX";
	struct opener openers[6];
	pthread_t threads[6];

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < 6; i++) {
		openers[i] = (struct opener){ .dir = dir, .rc = 1 };
		assert_int_equal(pthread_create(&threads[i], NULL, open_close, &openers[i]), 0);
	}
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(openers[i].rc, 0);
	}
	assert_int_equal(query_int(dir, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(dir, "SELECT count(*) FROM sqlite_master WHERE name = 'images'"),
			 1);
	fs_remove_tree(dir, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fds_cloexec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_add_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synced_write_ends_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statements_are_kept, setup, teardown),
		cmocka_unit_test(test_concurrent_first_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
