/* Unit tests for the containers of the metadata store: add and the lookups
 * Docker allows (full id, name with or without "/", unique id prefix, a
 * name before a prefix), Docker's messages for a taken name, a missing or
 * ambiguous container, the document update, the list order, the image user
 * that keeps rmi off the image, deletion, the migration of a version 1
 * database that keeps its images, and the list's entries: kept from the
 * document by every write, and made for the containers of a version 3
 * database. */
#include <limits.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct store *st;
	char image[DIGEST_STRING_SIZE];
	char layer[DIGEST_STRING_SIZE];
};

/* Ids that share their first 60 hex digits. */
#define ID_A "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345aaaa"
#define ID_B "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345bbbb"
#define ID_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;
	struct store_layer layer = { 0 };
	struct store_image_spec spec = { 0 };

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-store-ctr-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (store_open(f->dir, &f->st, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return -1;
	}
	digest_bytes("a config", 8, f->image);
	digest_bytes("a layer", 7, f->layer);
	layer.chain_id = f->layer;
	layer.diff_id = f->layer;
	layer.path = "/var/lib/berth/layers/x";
	layer.size = 10;
	spec.id = f->image;
	spec.config = "{}";
	spec.created = 1;
	spec.size = 10;
	spec.layers = &layer;
	spec.n_layers = 1;
	if (store_image_add(f->st, &spec, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return -1;
	}
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

static void expect_error(struct berr **err, enum berr_kind kind, const char *msg)
{
	assert_non_null(*err);
	if ((*err)->kind != kind || (msg && strcmp((*err)->msg, msg) != 0))
		fprintf(stderr, "unexpected error: %s\n", (*err)->msg);
	assert_int_equal((*err)->kind, kind);
	if (msg)
		assert_string_equal((*err)->msg, msg);
	berr_clear(err);
}

static int add(struct fixture *f, const char *id, const char *name, int64_t created,
	       struct berr **err)
{
	struct store_container c = {
		.id = (char *)id,
		.name = (char *)name,
		.image_id = f->image,
		.created = created,
		.doc = "{\"State\":{\"Status\":\"created\"}}",
	};

	return store_container_add(f->st, &c, err);
}

/* The id of the container REF finds, or NULL with *err set. */
static char *lookup_id(struct fixture *f, const char *ref, struct berr **err)
{
	struct store_container *c = NULL;
	char *id;

	if (store_container_lookup(f->st, ref, &c, err) < 0)
		return NULL;
	id = strdup(c->id);
	store_container_free(c);
	return id;
}

static void expect_lookup(struct fixture *f, const char *ref, const char *want)
{
	struct berr *err = NULL;
	char *id = lookup_id(f, ref, &err);

	if (!id)
		fprintf(stderr, "lookup %s: %s\n", ref, err->msg);
	assert_non_null(id);
	assert_string_equal(id, want);
	free(id);
}

static void test_add_and_lookup(void **state)
{
	struct fixture *f = *state;
	struct store_container *c = NULL;
	struct berr *err = NULL;

	assert_int_equal(add(f, ID_A, "web", 100, &err), 0);
	assert_int_equal(add(f, ID_B, "db", 101, &err), 0);

	assert_int_equal(store_container_lookup(f->st, ID_A, &c, &err), 0);
	assert_string_equal(c->id, ID_A);
	assert_string_equal(c->name, "web");
	assert_string_equal(c->image_id, f->image);
	assert_int_equal(c->created, 100);
	assert_string_equal(c->doc, "{\"State\":{\"Status\":\"created\"}}");
	store_container_free(c);

	expect_lookup(f, "web", ID_A);
	expect_lookup(f, "/db", ID_B);
	expect_lookup(f, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345b", ID_B);

	/* Docker's messages, with the name as the user gave it. */
	assert_null(lookup_id(f, "nosuch", &err));
	expect_error(&err, BERR_NOT_FOUND, "No such container: nosuch");
	assert_null(lookup_id(f, "abcdef", &err));
	expect_error(&err, BERR_CONFLICT, "Multiple IDs found with provided prefix: abcdef");
	assert_null(lookup_id(f, "", &err));
	expect_error(&err, BERR_INVALID, NULL);
	/* A prefix is only ever made of hex digits. */
	assert_null(lookup_id(f, "ABCDEF0123", &err));
	expect_error(&err, BERR_NOT_FOUND, NULL);
}

static void test_name_before_prefix(void **state)
{
	struct fixture *f = *state;
	struct berr *err = NULL;

	/* "0123" is both C's name-looking id prefix and A's name: the name
	 * wins, as in Docker. */
	assert_int_equal(add(f, ID_C, "other", 1, &err), 0);
	assert_int_equal(add(f, ID_A, "0123", 2, &err), 0);
	expect_lookup(f, "0123", ID_A);
	expect_lookup(f, "01234", ID_C);
	/* A name that is a full id of another container does not hide it. */
	assert_int_equal(add(f, ID_B, ID_C, 3, &err), 0);
	expect_lookup(f, ID_C, ID_C);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct store_container c = {
		.id = ID_B,
		.name = "x",
		.image_id = NULL,
		.created = 1,
		.doc = "{}",
	};
	char other[DIGEST_STRING_SIZE];
	struct berr *err = NULL;
	struct store_container **list = NULL;
	size_t n = 0;

	assert_int_equal(add(f, ID_A, "web", 1, &err), 0);
	assert_int_equal(add(f, ID_B, "web", 2, &err), -1);
	expect_error(&err, BERR_CONFLICT,
		     "Conflict. The container name \"/web\" is already in use by container "
		     "\"" ID_A "\". You have to remove (or rename) that container to be able "
		     "to reuse that name.");
	assert_int_equal(add(f, ID_A, "web2", 2, &err), -1);
	expect_error(&err, BERR_CONFLICT, NULL);
	assert_int_equal(add(f, "abc", "short", 2, &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(add(f, "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
			     "upper", 2, &err),
			 -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(add(f, ID_B, "", 2, &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(add(f, ID_B, "/slash", 2, &err), -1);
	expect_error(&err, BERR_INVALID, NULL);

	digest_bytes("no such image", 13, other);
	c.image_id = other;
	assert_int_equal(store_container_add(f->st, &c, &err), -1);
	expect_error(&err, BERR_NOT_FOUND, NULL);

	/* Nothing of the refused ones was kept. */
	assert_int_equal(store_container_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->id, ID_A);
	store_container_list_free(list, n);
}

static void test_update_and_list(void **state)
{
	struct fixture *f = *state;
	struct store_container **list = NULL;
	struct store_container *c = NULL;
	struct berr *err = NULL;
	size_t n = 0;

	assert_int_equal(store_container_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	store_container_list_free(list, n);

	assert_int_equal(add(f, ID_A, "old", 100, &err), 0);
	assert_int_equal(add(f, ID_C, "same-second-1", 200, &err), 0);
	assert_int_equal(add(f, ID_B, "same-second-2", 200, &err), 0);
	assert_int_equal(store_container_update_doc(f->st, ID_A, "{\"n\":2}", &err), 0);
	assert_int_equal(store_container_lookup(f->st, "old", &c, &err), 0);
	assert_string_equal(c->doc, "{\"n\":2}");
	store_container_free(c);
	assert_int_equal(store_container_update_doc(f->st, ID_B, "", &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(store_container_update_doc(
				 f->st,
				 "1111111111111111111111111111111111111111111111111111111111111111",
				 "{}", &err),
			 -1);
	expect_error(&err, BERR_NOT_FOUND, NULL);

	/* Newest first; the later of two made in one second first. */
	assert_int_equal(store_container_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->name, "same-second-2");
	assert_string_equal(list[1]->name, "same-second-1");
	assert_string_equal(list[2]->name, "old");
	assert_string_equal(list[2]->doc, "{\"n\":2}");
	store_container_list_free(list, n);
}

static void test_image_in_use(void **state)
{
	struct fixture *f = *state;
	struct store_layer *freed = NULL;
	size_t n_freed = 0;
	struct berr *err = NULL;
	char **users = NULL;

	assert_int_equal(add(f, ID_A, "web", 1, &err), 0);
	assert_int_equal(store_image_users(f->st, f->image, &users, &err), 0);
	assert_non_null(users[0]);
	assert_string_equal(users[0], ID_A);
	assert_null(users[1]);
	strv_free(users);

	assert_int_equal(store_image_delete(f->st, f->image, false, &freed, &n_freed, &err), -1);
	expect_error(&err, BERR_CONFLICT, NULL);
	/* Not even by force: the container's lower dirs are the image's. */
	assert_int_equal(store_image_delete(f->st, f->image, true, &freed, &n_freed, &err), -1);
	expect_error(&err, BERR_CONFLICT, NULL);

	assert_int_equal(store_container_delete(f->st, ID_A, &err), 0);
	assert_int_equal(store_image_users(f->st, f->image, &users, &err), 0);
	assert_null(users[0]);
	strv_free(users);
	assert_null(lookup_id(f, ID_A, &err));
	expect_error(&err, BERR_NOT_FOUND, NULL);
	assert_int_equal(store_container_delete(f->st, ID_A, &err), -1);
	expect_error(&err, BERR_NOT_FOUND, "No such container: " ID_A);

	assert_int_equal(store_image_delete(f->st, f->image, false, &freed, &n_freed, &err), 0);
	assert_int_equal(n_freed, 1);
	store_layer_list_free(freed, n_freed);
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

static void test_migration_from_v1(void **state)
{
	struct fixture *f = *state;
	struct store_image *img = NULL;
	struct store_container *c = NULL;
	struct berr *err = NULL;

	/* A database as version 1 left it: images, no containers table. */
	store_close(f->st);
	f->st = NULL;
	exec_raw(f->dir, "DROP TABLE containers; PRAGMA user_version = 1");
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);
	assert_int_equal(store_image_lookup(f->st, f->image, &img, &err), 0);
	assert_int_equal(img->n_layers, 1);
	store_image_free(img);
	assert_int_equal(add(f, ID_A, "web", 1, &err), 0);

	/* Reopening a current database changes nothing. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);
	assert_int_equal(store_container_lookup(f->st, "web", &c, &err), 0);
	assert_string_equal(c->id, ID_A);
	store_container_free(c);
}

/* A document with what the list reads of it. */
#define DOC_FULL                                                                                  \
	"{\"Path\":\"sh\",\"Args\":[\"-c\",\"echo x\"],"                                          \
	"\"State\":{\"Status\":\"exited\",\"ExitCode\":3,\"StartedAt\":\"2026-01-02T03:04:05Z\"," \
	"\"FinishedAt\":\"2026-01-02T03:04:06Z\",\"Health\":{\"Status\":\"unhealthy\"}},"         \
	"\"Config\":{\"Image\":\"busybox\",\"Labels\":{\"a\\\"b\":\"\\u00e9\\n\"},"               \
	"\"ExposedPorts\":{\"80/tcp\":{}}},\"HostConfig\":{\"NetworkMode\":\"host\"},"            \
	"\"Mounts\":[{\"Type\":\"bind\",\"Destination\":\"/data\"}]}"

static struct store_container_entry *entry_of(struct fixture *f, const char *id)
{
	struct store_container_entry **list = NULL, *e = NULL;
	struct berr *err = NULL;
	size_t n = 0;

	assert_int_equal(store_container_entries(f->st, &list, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i]->id, id) == 0) {
			e = list[i];
			list[i] = NULL;
		}
	}
	store_container_entries_free(list, n);
	assert_non_null(e);
	return e;
}

/* JSON texts A and B hold the same value. */
static void expect_same_json(const char *a, const char *b)
{
	json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);

	assert_non_null(x);
	assert_non_null(y);
	if (!json_equal(x, y))
		fprintf(stderr, "%s\n!=\n%s\n", a, b);
	assert_true(json_equal(x, y));
	json_decref(x);
	json_decref(y);
}

/* The list's entries follow the document through every write: add,
 * update and rename; a member that is missing, of another type, or a
 * document that is not JSON, gives NULL; the order is the list's. */
static void test_entries_follow_document(void **state)
{
	struct fixture *f = *state;
	struct store_container_entry **list = NULL, *e;
	struct berr *err = NULL;
	size_t n = 0;

	assert_int_equal(add(f, ID_A, "old", 100, &err), 0);
	assert_int_equal(add(f, ID_C, "same-second-1", 200, &err), 0);
	assert_int_equal(add(f, ID_B, "same-second-2", 200, &err), 0);
	assert_int_equal(store_container_entries(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->name, "same-second-2");
	assert_string_equal(list[1]->name, "same-second-1");
	assert_string_equal(list[2]->name, "old");
	assert_string_equal(list[2]->id, ID_A);
	assert_string_equal(list[2]->image_id, f->image);
	assert_int_equal(list[2]->created, 100);
	assert_string_equal(list[2]->status, "created");
	assert_null(list[2]->started_at);
	assert_null(list[2]->labels);
	assert_null(list[2]->path);
	assert_int_equal(list[2]->exit_code, 0);
	store_container_entries_free(list, n);

	assert_int_equal(store_container_update_doc(f->st, ID_A, DOC_FULL, &err), 0);
	e = entry_of(f, ID_A);
	assert_string_equal(e->status, "exited");
	assert_int_equal(e->exit_code, 3);
	assert_string_equal(e->started_at, "2026-01-02T03:04:05Z");
	assert_string_equal(e->finished_at, "2026-01-02T03:04:06Z");
	assert_string_equal(e->health, "unhealthy");
	assert_string_equal(e->path, "sh");
	expect_same_json(e->args, "[\"-c\",\"echo x\"]");
	assert_string_equal(e->image, "busybox");
	expect_same_json(e->labels, "{\"a\\\"b\":\"\\u00e9\\n\"}");
	expect_same_json(e->exposed_ports, "{\"80/tcp\":{}}");
	assert_string_equal(e->network_mode, "host");
	expect_same_json(e->mounts, "[{\"Type\":\"bind\",\"Destination\":\"/data\"}]");
	free(e);

	assert_int_equal(store_container_rename(f->st, ID_A, "new",
						"{\"State\":{\"Status\":\"running\"},"
						"\"Config\":{\"Labels\":[\"not\",\"an object\"]}}",
						&err),
			 0);
	e = entry_of(f, ID_A);
	assert_string_equal(e->name, "new");
	assert_string_equal(e->status, "running");
	assert_null(e->labels);
	assert_null(e->finished_at);
	free(e);

	/* Not JSON: the write stands, the entry has nothing of it. */
	assert_int_equal(store_container_update_doc(f->st, ID_A, "{not json", &err), 0);
	e = entry_of(f, ID_A);
	assert_string_equal(e->name, "new");
	assert_null(e->status);
	free(e);

	assert_int_equal(store_container_delete(f->st, ID_C, &err), 0);
	assert_int_equal(store_container_entries(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	store_container_entries_free(list, n);
}

/* A database of version 3 (containers without the list's columns) gets
 * them from the documents it holds, keeping the order of containers made
 * in the same second, and the writes after that keep them. */
static void test_migration_from_v3(void **state)
{
	struct fixture *f = *state;
	struct store_container_entry **list = NULL, *e;
	struct store_container *c = NULL;
	struct berr *err = NULL;
	size_t n = 0;
	char sql[2048];

	store_close(f->st);
	f->st = NULL;
	snprintf(sql, sizeof(sql),
		 "DROP TABLE containers;"
		 "CREATE TABLE containers ("
		 " id TEXT PRIMARY KEY NOT NULL"
		 "  CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),"
		 " name TEXT NOT NULL UNIQUE CHECK (name <> ''),"
		 " image_id TEXT NOT NULL REFERENCES images(id),"
		 " created INTEGER NOT NULL,"
		 " doc TEXT NOT NULL);"
		 "CREATE INDEX containers_image ON containers(image_id);"
		 "INSERT INTO containers VALUES ('%s', 'b', '%s', 7, '%s');"
		 "INSERT INTO containers VALUES ('%s', 'a', '%s', 7, '{\"State\":{}}');"
		 "INSERT INTO image_users VALUES ('%s', '%s'), ('%s', '%s');"
		 "PRAGMA user_version = 3",
		 ID_B, f->image, DOC_FULL, ID_A, f->image, f->image, ID_A, f->image, ID_B);
	exec_raw(f->dir, sql);
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);

	assert_int_equal(store_container_entries(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "a");
	assert_null(list[0]->status);
	assert_string_equal(list[1]->name, "b");
	assert_string_equal(list[1]->status, "exited");
	assert_int_equal(list[1]->exit_code, 3);
	expect_same_json(list[1]->labels, "{\"a\\\"b\":\"\\u00e9\\n\"}");
	store_container_entries_free(list, n);
	assert_int_equal(store_container_lookup(f->st, "b", &c, &err), 0);
	assert_string_equal(c->doc, DOC_FULL);
	store_container_free(c);

	assert_int_equal(store_container_update_doc(f->st, ID_A,
						    "{\"State\":{\"Status\":\"paused\"}}", &err),
			 0);
	e = entry_of(f, ID_A);
	assert_string_equal(e->status, "paused");
	free(e);
	/* The name and the image's users came along. */
	assert_int_equal(add(f, ID_C, "a", 8, &err), -1);
	expect_error(&err, BERR_CONFLICT, NULL);
}

/* Volumes: recorded once by name; their users are the containers whose
 * Mounts name them, and a used one is not deleted. */
static void test_volumes_and_their_users(void **state)
{
	struct fixture *f = *state;
	struct store_volume v = { .name = "data",
				  .driver = "local",
				  .created = 7,
				  .labels = "{\"a\":\"b\"}",
				  .options = "null" };
	struct store_container c = {
		.id = ID_A,
		.name = "user",
		.image_id = f->image,
		.created = 1,
		.doc = "{\"Mounts\":[{\"Type\":\"bind\",\"Name\":\"data\"},"
		       "{\"Type\":\"volume\",\"Name\":\"data\",\"Destination\":\"/d\"}]}",
	};
	struct store_volume *got = NULL, **list = NULL;
	struct berr *err = NULL;
	char **users = NULL;
	bool added = false;
	size_t n = 0;

	assert_int_equal(store_volume_add(f->st, &v, &added, &err), 0);
	assert_true(added);
	v.created = 9;
	assert_int_equal(store_volume_add(f->st, &v, &added, &err), 0);
	assert_false(added);
	v.name = "other";
	v.anonymous = true;
	assert_int_equal(store_volume_add(f->st, &v, &added, &err), 0);

	assert_int_equal(store_volume_lookup(f->st, "data", &got, &err), 0);
	assert_int_equal(got->created, 7);
	assert_string_equal(got->labels, "{\"a\":\"b\"}");
	assert_false(got->anonymous);
	store_volume_free(got);
	assert_int_equal(store_volume_lookup(f->st, "nosuch", &got, &err), -1);
	expect_error(&err, BERR_NOT_FOUND, "get nosuch: no such volume");
	assert_int_equal(store_volume_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "data");
	assert_true(list[1]->anonymous);
	store_volume_list_free(list, n);

	/* Only a volume entry is a use, not a bind of the same name. */
	assert_int_equal(store_container_add(f->st, &c, &err), 0);
	assert_int_equal(store_volume_users(f->st, "data", &users, &err), 0);
	assert_int_equal(strv_length(users), 1);
	assert_string_equal(users[0], ID_A);
	strv_free(users);
	assert_int_equal(store_volume_delete(f->st, "data", &err), -1);
	expect_error(&err, BERR_CONFLICT, "remove data: volume is in use - [" ID_A "]");
	assert_int_equal(store_volume_delete(f->st, "other", &err), 0);
	assert_int_equal(store_volume_delete(f->st, "other", &err), -1);
	expect_error(&err, BERR_NOT_FOUND, "get other: no such volume");

	assert_int_equal(store_container_delete(f->st, ID_A, &err), 0);
	assert_int_equal(store_volume_delete(f->st, "data", &err), 0);
	assert_int_equal(store_volume_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	store_volume_list_free(list, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_before_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_follow_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volumes_and_their_users, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
