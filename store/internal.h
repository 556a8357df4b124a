/* What the files of the store module share: the handle, statement helpers
 * that turn SQLite failures into berr errors naming the operation, and the
 * scoped transactions every public call runs in. */
#ifndef BERTH_STORE_INTERNAL_H
#define BERTH_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* How many prepared statements a handle keeps for its next use. */
#define STORE_STMT_CACHE_MAX 64

struct store_cached_stmt {
	const char *sql; /* the constant text it was prepared from */
	sqlite3_stmt *stmt;
	bool in_use;
};

struct store {
	sqlite3 *db;
	char *path;
	/* Parsing SQL cost berthd a tenth of its time: statements are kept,
	 * keyed by their text's address (callers pass constant text). */
	pthread_mutex_t stmts_lock;
	struct store_cached_stmt stmts[STORE_STMT_CACHE_MAX];
	size_t n_stmts;
};

/* Gives back a statement of store_prepare(): reset and kept for the next
 * use of its text, or finalized. */
void store_stmt_release(sqlite3_stmt *stmt);
DEFINE_CLEANUP(sqlite3_stmt *, store_stmt_release)
#define _cleanup_stmt_ _cleanup_(store_stmt_release_cleanup)

/* Sets *err from SQLite result RC and the handle's message, naming WHAT;
 * returns -1.  BUSY/LOCKED become BERR_UNAVAILABLE, CONSTRAINT BERR_CONFLICT. */
int store_db_error(struct store *st, int rc, const char *what, struct berr **err);

/* Prepares SQL (constant text: user data only ever goes through binds), or
 * takes the statement kept for it; give it back with store_stmt_release(). */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out, struct berr **err);
int store_bind_text(struct store *st, sqlite3_stmt *stmt, int idx, const char *value,
		    struct berr **err);
int store_bind_int64(struct store *st, sqlite3_stmt *stmt, int idx, int64_t value,
		     struct berr **err);
/* Steps a statement that returns no row. */
int store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what, struct berr **err);
/* Runs constant SQL without parameters or rows. */
int store_exec(struct store *st, const char *sql, struct berr **err);
/* A copy of column IDX as text; NULL for SQL NULL (then *failed stays 0) or
 * when out of memory (then *failed is set to 1). */
char *store_column_dup(sqlite3_stmt *stmt, int idx, int *failed);
/* Steps STMT to its end, collecting its first column's text into a new
 * NULL-terminated vector *out (strv_free; empty when no row). */
int store_column_strv(struct store *st, sqlite3_stmt *stmt, char ***out, struct berr **err);

/* Sets BERR_INVALID, naming WHAT, unless DIGEST is a valid sha256 digest. */
int store_check_digest(const char *what, const char *digest, struct berr **err);
/* Sets BERR_NOT_FOUND when image ID is not stored. */
int store_image_must_exist(struct store *st, const char *id, struct berr **err);
/* The image id reference NAME points at, in *out (the caller's); sets
 * BERR_NOT_FOUND. */
int store_ref_target(struct store *st, const char *name, char **out, struct berr **err);

/* A scoped transaction: a top-level one (BEGIN IMMEDIATE when WRITE, a
 * deferred BEGIN for reads) when none is open,
 * a savepoint inside the caller's otherwise.  store_tx_end() commits when
 * OK is nonzero and undoes this scope's work otherwise. */
struct store_tx {
	struct store *st;
	int nested;
	int open;
	int synced;
};

/* What store_tx_begin()'s WRITE asks. */
enum {
	STORE_TX_READ = 0,
	/* A write synced to disk by its commit (and with it every commit
	 * before); store_begin()'s transactions are too. */
	STORE_TX_WRITE = 1,
	/* A write whose commit is not synced to disk: a power cut may lose it
	 * (the database stays whole), so only for what nothing else on disk
	 * depends on. */
	STORE_TX_WRITE_UNSYNCED = 2,
};

int store_tx_begin(struct store *st, struct store_tx *tx, int write, struct berr **err);
int store_tx_commit(struct store_tx *tx, struct berr **err);
/* Undoes the scope when it is still open; for _cleanup_. */
void store_tx_abort(struct store_tx *tx);
#define _cleanup_tx_ _cleanup_(store_tx_abort)

#endif
