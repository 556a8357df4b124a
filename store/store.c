/* Opening berth.db: the schema and its migrations, the connection settings
 * (WAL, foreign keys, busy timeout, full sync), transactions, and the small
 * helpers every statement of the store goes through. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/json.h"
#include "store/internal.h"

/* How long a statement waits for another handle's write lock. */
#define STORE_BUSY_TIMEOUT_MS 5000

int store_db_error(struct store *st, int rc, const char *what, struct berr **err)
{
	enum berr_kind kind = BERR_INTERNAL;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		kind = BERR_UNAVAILABLE;
		break;
	case SQLITE_CONSTRAINT:
		kind = BERR_CONFLICT;
		break;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		kind = BERR_INVALID;
		break;
	default:
		break;
	}
	return berr_set(err, kind, 0, "%s: %s", what, st->db ? sqlite3_errmsg(st->db) : "");
}

/* The open handles, for store_stmt_release() to find a statement's. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store **handles;
static size_t n_handles;

static int handle_add(struct store *st)
{
	struct store **more;
	int ret = -1;

	pthread_mutex_lock(&handles_lock);
	more = realloc(handles, (n_handles + 1) * sizeof(*more));
	if (more) {
		handles = more;
		handles[n_handles++] = st;
		ret = 0;
	}
	pthread_mutex_unlock(&handles_lock);
	return ret;
}

static void handle_remove(struct store *st)
{
	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < n_handles; i++) {
		if (handles[i] == st) {
			handles[i] = handles[--n_handles];
			break;
		}
	}
	if (n_handles == 0) {
		free(handles);
		handles = NULL;
	}
	pthread_mutex_unlock(&handles_lock);
}

static struct store *handle_of(sqlite3 *db)
{
	struct store *st = NULL;

	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < n_handles && !st; i++)
		if (handles[i]->db == db)
			st = handles[i];
	pthread_mutex_unlock(&handles_lock);
	return st;
}

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out, struct berr **err)
{
	int rc;

	pthread_mutex_lock(&st->stmts_lock);
	for (size_t i = 0; i < st->n_stmts; i++) {
		struct store_cached_stmt *c = &st->stmts[i];

		if (c->sql == sql && !c->in_use) {
			c->in_use = true;
			*out = c->stmt;
			pthread_mutex_unlock(&st->stmts_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&st->stmts_lock);
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
	if (rc != SQLITE_OK)
		return store_db_error(st, rc, "prepare statement", err);
	pthread_mutex_lock(&st->stmts_lock);
	if (st->n_stmts < STORE_STMT_CACHE_MAX)
		st->stmts[st->n_stmts++] = (struct store_cached_stmt){ sql, *out, true };
	pthread_mutex_unlock(&st->stmts_lock);
	return 0;
}

void store_stmt_release(sqlite3_stmt *stmt)
{
	struct store *st = handle_of(sqlite3_db_handle(stmt));

	if (st) {
		pthread_mutex_lock(&st->stmts_lock);
		for (size_t i = 0; i < st->n_stmts; i++) {
			struct store_cached_stmt *c = &st->stmts[i];

			if (c->stmt == stmt) {
				sqlite3_reset(stmt);
				sqlite3_clear_bindings(stmt);
				c->in_use = false;
				pthread_mutex_unlock(&st->stmts_lock);
				return;
			}
		}
		pthread_mutex_unlock(&st->stmts_lock);
	}
	sqlite3_finalize(stmt);
}

int store_bind_text(struct store *st, sqlite3_stmt *stmt, int idx, const char *value,
		    struct berr **err)
{
	int rc = value ? sqlite3_bind_text(stmt, idx, value, -1, SQLITE_TRANSIENT)
		       : sqlite3_bind_null(stmt, idx);

	if (rc != SQLITE_OK)
		return store_db_error(st, rc, "bind parameter", err);
	return 0;
}

int store_bind_int64(struct store *st, sqlite3_stmt *stmt, int idx, int64_t value,
		     struct berr **err)
{
	int rc = sqlite3_bind_int64(stmt, idx, value);

	if (rc != SQLITE_OK)
		return store_db_error(st, rc, "bind parameter", err);
	return 0;
}

int store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what, struct berr **err)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, what, err);
	return 0;
}

int store_exec(struct store *st, const char *sql, struct berr **err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_db_error(st, rc, sql, err);
	return 0;
}

char *store_column_dup(sqlite3_stmt *stmt, int idx, int *failed)
{
	const unsigned char *text = sqlite3_column_text(stmt, idx);
	char *copy;

	if (!text)
		return NULL;
	copy = strdup((const char *)text);
	if (!copy)
		*failed = 1;
	return copy;
}

int store_column_strv(struct store *st, sqlite3_stmt *stmt, char ***out, struct berr **err)
{
	_cleanup_strv_ char **list = strv_dup(NULL);
	size_t n = 0;
	int rc;

	if (!list)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read rows");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char **grown = reallocarray(list, n + 2, sizeof(*list));
		int failed = 0;

		if (!grown)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "read rows");
		list = grown;
		list[n] = store_column_dup(stmt, 0, &failed);
		list[n + 1] = NULL;
		if (!list[n++])
			return berr_set(err, BERR_INTERNAL, ENOMEM, "read rows");
	}
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "read rows", err);
	*out = steal_ptr(&list);
	return 0;
}

/* Runs the one statement SQL (constant text) through the kept ones. */
static int run_kept(struct store *st, const char *sql, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;

	if (store_prepare(st, sql, &stmt, err) < 0)
		return -1;
	return store_step_done(st, stmt, sql, err);
}

/*
 * The connection's level is NORMAL, where a commit reaches the disk with a
 * later sync (the WAL's next synced commit or checkpoint); a synced write
 * raises it to FULL for its own commit.  Each change of level is a PRAGMA
 * that SQLite parses anew, so the frequent writes (container records) are
 * the ones that leave it alone.
 */
static int sync_full(struct store *st, struct berr **err)
{
	return run_kept(st, "PRAGMA synchronous = FULL", err);
}

static void sync_normal(struct store *st)
{
	run_kept(st, "PRAGMA synchronous = NORMAL", NULL);
}

static void tx_unsync(struct store_tx *tx)
{
	if (!tx->synced)
		return;
	tx->synced = 0;
	sync_normal(tx->st);
}

int store_tx_begin(struct store *st, struct store_tx *tx, int write, struct berr **err)
{
	const char *sql;

	tx->st = st;
	tx->open = 0;
	tx->synced = 0;
	tx->nested = !sqlite3_get_autocommit(st->db);
	/* IMMEDIATE takes the write lock up front: a deferred transaction that
	 * read first and writes later fails with SQLITE_BUSY_SNAPSHOT, without
	 * waiting, when another handle committed in between. */
	if (tx->nested)
		sql = "SAVEPOINT store_op";
	else
		sql = write ? "BEGIN IMMEDIATE" : "BEGIN";
	if (write == STORE_TX_WRITE && !tx->nested) {
		if (sync_full(st, err) < 0)
			return berr_prefix(err, "begin transaction");
		tx->synced = 1;
	}
	if (run_kept(st, sql, err) < 0) {
		tx_unsync(tx);
		return berr_prefix(err, "begin transaction");
	}
	tx->open = 1;
	return 0;
}

int store_tx_commit(struct store_tx *tx, struct berr **err)
{
	if (run_kept(tx->st, tx->nested ? "RELEASE store_op" : "COMMIT", err) < 0) {
		store_tx_abort(tx);
		return berr_prefix(err, "commit");
	}
	tx->open = 0;
	tx_unsync(tx);
	return 0;
}

void store_tx_abort(struct store_tx *tx)
{
	if (!tx->open)
		return;
	tx->open = 0;
	if (tx->nested)
		sqlite3_exec(tx->st->db, "ROLLBACK TO store_op; RELEASE store_op", NULL, NULL,
			     NULL);
	else if (!sqlite3_get_autocommit(tx->st->db))
		sqlite3_exec(tx->st->db, "ROLLBACK", NULL, NULL, NULL);
	tx_unsync(tx);
}

int store_begin(struct store *st, struct berr **err)
{
	if (!sqlite3_get_autocommit(st->db))
		return berr_set(err, BERR_CONFLICT, 0, "begin: a transaction is already open");
	if (sync_full(st, err) < 0)
		return berr_prefix(err, "begin transaction");
	if (store_exec(st, "BEGIN IMMEDIATE", err) < 0) {
		sync_normal(st);
		return berr_prefix(err, "begin transaction");
	}
	return 0;
}

int store_commit(struct store *st, struct berr **err)
{
	if (sqlite3_get_autocommit(st->db))
		return berr_set(err, BERR_INVALID, 0, "commit: no transaction is open");
	if (store_exec(st, "COMMIT", err) < 0) {
		store_rollback(st);
		return berr_prefix(err, "commit");
	}
	sync_normal(st);
	return 0;
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sync_normal(st);
}

/* Version 1: images, their layers, references and users.  A layer row lives
 * as long as some image_layers row names it; refcount counts those rows.
 * ("references" is an SQL keyword, hence image_references.) */
static const char schema_v1[] = "CREATE TABLE layers ("
				" chain_id TEXT PRIMARY KEY NOT NULL,"
				" diff_id TEXT NOT NULL,"
				" blob_digest TEXT,"
				" size INTEGER NOT NULL CHECK (size >= 0),"
				" path TEXT NOT NULL,"
				" refcount INTEGER NOT NULL CHECK (refcount >= 0));"
				"CREATE TABLE images ("
				" id TEXT PRIMARY KEY NOT NULL,"
				" config TEXT NOT NULL,"
				" created INTEGER NOT NULL,"
				" size INTEGER NOT NULL CHECK (size >= 0),"
				" last_used INTEGER);"
				"CREATE TABLE image_layers ("
				" image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
				" position INTEGER NOT NULL CHECK (position >= 0),"
				" chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
				" PRIMARY KEY (image_id, position),"
				" UNIQUE (image_id, chain_id));"
				"CREATE INDEX image_layers_chain ON image_layers(chain_id);"
				"CREATE TABLE image_references ("
				" name TEXT PRIMARY KEY NOT NULL,"
				" repo TEXT NOT NULL,"
				" tag TEXT,"
				" digest TEXT,"
				" image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
				" CHECK ((tag IS NULL) <> (digest IS NULL)));"
				"CREATE INDEX image_references_image ON image_references(image_id);"
				"CREATE TABLE image_users ("
				" image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
				" user_id TEXT NOT NULL,"
				" PRIMARY KEY (image_id, user_id));"
				"CREATE INDEX image_users_user ON image_users(user_id);";

static int migrate_to_v1(struct store *st, struct berr **err)
{
	return store_exec(st, schema_v1, err);
}

/* Version 2: containers.  The image a container runs on cannot be deleted
 * under it (the reference has no ON DELETE), whatever force says: its
 * layers are the container's lower dirs.  IF NOT EXISTS, so that a database
 * whose version was set back by hand is brought forward again. */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS containers ("
	" id TEXT PRIMARY KEY NOT NULL"
	"  CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),"
	" name TEXT NOT NULL UNIQUE CHECK (name <> ''),"
	" image_id TEXT NOT NULL REFERENCES images(id),"
	" created INTEGER NOT NULL,"
	" doc TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);";

static int migrate_to_v2(struct store *st, struct berr **err)
{
	return store_exec(st, schema_v2, err);
}

/* Version 3: the content size of a layer, what `docker images` shows.  A
 * database whose version was set back by hand may have the column. */
static int migrate_to_v3(struct store *st, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int rc;

	if (store_prepare(st,
			  "SELECT count(*) FROM pragma_table_info('layers')"
			  " WHERE name = 'content_size'",
			  &stmt, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "read the layers table", err);
	if (sqlite3_column_int(stmt, 0) > 0)
		return 0;
	return store_exec(st,
			  "ALTER TABLE layers ADD COLUMN content_size INTEGER NOT NULL DEFAULT 0"
			  " CHECK (content_size >= 0);",
			  err);
}

/* Version 4: what the container list shows and filters on, kept by SQLite
 * in generated columns as the document is written, so that no writer can
 * leave them behind.  They come before the document in the row, so that
 * reading them never reads the pages the document overflows into, and an
 * index holds them all in the list's order: the list reads the index
 * alone.  A document that is not JSON gives NULL columns (its write must
 * not fail for that), and so does a member of another type than the one
 * kept as JSON text.  SQLite adds stored generated columns only to a new
 * table: the rows move to one, keeping their rowids (the order of
 * containers made in the same second). */
static const struct list_column {
	const char *name;
	const char *type;
	const char *path;      /* the member of the document */
	const char *json_type; /* kept as JSON text when of this type; NULL: a scalar */
} list_columns_v4[] = {
	{ "status", "TEXT", "$.State.Status", NULL },
	{ "exit_code", "INTEGER", "$.State.ExitCode", NULL },
	{ "pid", "INTEGER", "$.State.Pid", NULL },
	{ "started_at", "TEXT", "$.State.StartedAt", NULL },
	{ "finished_at", "TEXT", "$.State.FinishedAt", NULL },
	{ "health", "TEXT", "$.State.Health.Status", NULL },
	{ "path", "TEXT", "$.Path", NULL },
	{ "args", "TEXT", "$.Args", "array" },
	{ "image", "TEXT", "$.Config.Image", NULL },
	{ "labels", "TEXT", "$.Config.Labels", "object" },
	{ "exposed_ports", "TEXT", "$.Config.ExposedPorts", "object" },
	{ "network_mode", "TEXT", "$.HostConfig.NetworkMode", NULL },
	{ "mounts", "TEXT", "$.Mounts", "array" },
};

static int migrate_to_v4(struct store *st, struct berr **err)
{
	const size_t n = sizeof(list_columns_v4) / sizeof(list_columns_v4[0]);
	_cleanup_free_ char *sql = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&sql, &size);

	if (!f)
		return berr_set(err, BERR_INTERNAL, errno, "schema");
	fputs("CREATE TABLE containers_v4 ("
	      " id TEXT PRIMARY KEY NOT NULL"
	      "  CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),"
	      " name TEXT NOT NULL UNIQUE CHECK (name <> ''),"
	      " image_id TEXT NOT NULL REFERENCES images(id),"
	      " created INTEGER NOT NULL,",
	      f);
	for (size_t i = 0; i < n; i++) {
		const struct list_column *c = &list_columns_v4[i];

		if (c->json_type)
			fprintf(f,
				" %s %s AS (CASE WHEN json_valid(doc) THEN CASE json_type(doc, "
				"'%s')"
				" WHEN '%s' THEN json_extract(doc, '%s') END END) STORED,",
				c->name, c->type, c->path, c->json_type, c->path);
		else
			fprintf(f,
				" %s %s AS (CASE WHEN json_valid(doc) THEN json_extract(doc, '%s')"
				" END) STORED,",
				c->name, c->type, c->path);
	}
	fputs(" doc TEXT NOT NULL);"
	      "INSERT INTO containers_v4 (rowid, id, name, image_id, created, doc)"
	      " SELECT rowid, id, name, image_id, created, doc FROM containers ORDER BY rowid;"
	      "DROP TABLE containers;"
	      "ALTER TABLE containers_v4 RENAME TO containers;"
	      "CREATE INDEX containers_image ON containers(image_id);"
	      "CREATE INDEX containers_list ON containers(created, id, name, image_id",
	      f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, ", %s", list_columns_v4[i].name);
	fputs(");", f);
	if (fclose(f) != 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "schema");
	return store_exec(st, sql, err);
}

/* Version 5: volumes.  Which containers use one is read from their
 * documents' Mounts (the list's generated column), so no writer can leave
 * a use behind. */
static int migrate_to_v5(struct store *st, struct berr **err)
{
	return store_exec(st,
			  "CREATE TABLE IF NOT EXISTS volumes ("
			  " name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),"
			  " driver TEXT NOT NULL,"
			  " created INTEGER NOT NULL,"
			  " labels TEXT NOT NULL,"
			  " options TEXT NOT NULL,"
			  " anonymous INTEGER NOT NULL);",
			  err);
}

/* migrations[i] brings a database from version i to version i + 1. */
static int (*const migrations[STORE_SCHEMA_VERSION])(struct store *, struct berr **) = {
	migrate_to_v1, migrate_to_v2, migrate_to_v3, migrate_to_v4, migrate_to_v5,
};

static int schema_version(struct store *st, int *out, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int rc;

	if (store_prepare(st, "PRAGMA user_version", &stmt, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "read schema version", err);
	*out = sqlite3_column_int(stmt, 0);
	return 0;
}

/* Each step runs in its own transaction, and rereads the version inside it:
 * another handle opening the same database may have migrated meanwhile. */
static int migrate(struct store *st, struct berr **err)
{
	for (;;) {
		struct store_tx tx _cleanup_tx_ = { 0 };
		char sql[64];
		int version = 0;

		if (store_tx_begin(st, &tx, 1, err) < 0)
			return -1;
		if (schema_version(st, &version, err) < 0)
			return -1;
		if (version > STORE_SCHEMA_VERSION)
			return berr_set(err, BERR_INVALID, 0,
					"schema version %d is newer than this berth knows (%d)",
					version, STORE_SCHEMA_VERSION);
		if (version < 0)
			return berr_set(err, BERR_INVALID, 0, "bad schema version %d", version);
		if (version == STORE_SCHEMA_VERSION)
			return store_tx_commit(&tx, err);
		if (migrations[version](st, err) < 0)
			return berr_prefix(err, "migrate schema to version %d", version + 1);
		/* PRAGMA takes no parameters; the value is our own integer. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if (store_exec(st, sql, err) < 0 || store_tx_commit(&tx, err) < 0)
			return berr_prefix(err, "migrate schema to version %d", version + 1);
	}
}

static int set_journal_wal(struct store *st, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	const unsigned char *mode;
	int rc;

	if (store_prepare(st, "PRAGMA journal_mode = WAL", &stmt, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "set WAL mode", err);
	mode = sqlite3_column_text(stmt, 0);
	if (!mode || strcmp((const char *)mode, "wal") != 0)
		return berr_set(err, BERR_INTERNAL, 0, "set WAL mode: journal mode stays %s",
				mode ? (const char *)mode : "unknown");
	return 0;
}

static int configure(struct store *st, struct berr **err)
{
	int rc;

	rc = sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		return store_db_error(st, rc, "set busy timeout", err);
	if (set_journal_wal(st, err) < 0)
		return -1;
	/* NORMAL between synced writes (store_tx_begin()): callers delete
	 * layer directories right after the commit that forgot them, so that
	 * commit, synced, must not be lost to a power cut. */
	if (store_exec(st, "PRAGMA foreign_keys = ON", err) < 0 ||
	    store_exec(st, "PRAGMA synchronous = NORMAL", err) < 0)
		return -1;
	return 0;
}

/* How often open tries again while another opener holds the new file. */
#define STORE_OPEN_RETRIES 100

int store_open(const char *data_root, struct store **out, struct berr **err)
{
	_cleanup_(store_close_cleanup) struct store *st = NULL;
	int rc;

	st = calloc(1, sizeof(*st));
	if (!st)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "open store");
	pthread_mutex_init(&st->stmts_lock, NULL);
	st->path = str_printf("%s/%s", data_root, STORE_DB_NAME);
	if (!st->path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "open store");
	/* SQLite opens its files with O_CLOEXEC. */
	rc = sqlite3_open_v2(st->path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		store_db_error(st, rc, "open", err);
		return berr_prefix(err, "store %s", st->path);
	}
	if (handle_add(st) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "open store");
	/* Switching a new database to WAL needs an exclusive lock that
	 * SQLite's busy handler does not wait for: another process opening
	 * the same new database at that moment makes it fail at once. */
	for (int attempt = 0;; attempt++) {
		struct berr *local = NULL;

		if (configure(st, &local) == 0 && migrate(st, &local) == 0)
			break;
		if (local->kind != BERR_UNAVAILABLE || attempt == STORE_OPEN_RETRIES) {
			berr_move(err, &local);
			return berr_prefix(err, "store %s", st->path);
		}
		berr_free(local);
		usleep(10000);
	}
	*out = steal_ptr(&st);
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	handle_remove(st);
	for (size_t i = 0; i < st->n_stmts; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	if (st->db)
		sqlite3_close_v2(st->db);
	pthread_mutex_destroy(&st->stmts_lock);
	free(st->path);
	free(st);
}
