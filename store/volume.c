/* Volumes in the store: one row per volume (name, driver, creation time,
 * labels and the driver's options as JSON text, whether berth named it).
 * A volume's users are read from the containers' documents, which name it
 * in their Mounts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "store/internal.h"

#define VOLUME_COLUMNS "name, driver, created, labels, options, anonymous"

void store_volume_free(struct store_volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->driver);
	free(v->labels);
	free(v->options);
	free(v);
}

void store_volume_list_free(struct store_volume **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_volume_free(list[i]);
	free(list);
}

/* The volume a row of VOLUME_COLUMNS holds. */
static int row_to_volume(sqlite3_stmt *stmt, struct store_volume **out, struct berr **err)
{
	_cleanup_(store_volume_free_cleanup) struct store_volume *v = calloc(1, sizeof(*v));
	int failed = 0;

	if (!v)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load volume");
	v->name = store_column_dup(stmt, 0, &failed);
	v->driver = store_column_dup(stmt, 1, &failed);
	v->created = sqlite3_column_int64(stmt, 2);
	v->labels = store_column_dup(stmt, 3, &failed);
	v->options = store_column_dup(stmt, 4, &failed);
	v->anonymous = sqlite3_column_int(stmt, 5) != 0;
	if (failed || !v->name || !v->driver || !v->labels || !v->options)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load volume");
	*out = steal_ptr(&v);
	return 0;
}

int store_volume_add(struct store *st, const struct store_volume *v, bool *added, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	*added = false;
	if (!v->name || !*v->name)
		return berr_set(err, BERR_INVALID, 0, "add volume: empty name");
	if (store_tx_begin(st, &tx, STORE_TX_WRITE, err) < 0 ||
	    store_prepare(st,
			  "INSERT OR IGNORE INTO volumes (" VOLUME_COLUMNS ")"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, v->name, err) < 0 ||
	    store_bind_text(st, stmt, 2, v->driver ? v->driver : "local", err) < 0 ||
	    store_bind_int64(st, stmt, 3, v->created, err) < 0 ||
	    store_bind_text(st, stmt, 4, v->labels ? v->labels : "{}", err) < 0 ||
	    store_bind_text(st, stmt, 5, v->options ? v->options : "{}", err) < 0 ||
	    store_bind_int64(st, stmt, 6, v->anonymous, err) < 0 ||
	    store_step_done(st, stmt, "record volume", err) < 0)
		return berr_prefix(err, "add volume %s", v->name);
	*added = sqlite3_changes(st->db) > 0;
	if (store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "add volume %s", v->name);
	return 0;
}

int store_volume_lookup(struct store *st, const char *name, struct store_volume **out,
			struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int rc;

	if (store_prepare(st, "SELECT " VOLUME_COLUMNS " FROM volumes WHERE name = ?1", &stmt,
			  err) < 0 ||
	    store_bind_text(st, stmt, 1, name, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return berr_set(err, BERR_NOT_FOUND, 0, "get %s: no such volume", name);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "look up volume", err);
	return row_to_volume(stmt, out, err);
}

int store_volume_list(struct store *st, struct store_volume ***out, size_t *n, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_volume **list = NULL;
	size_t count = 0;
	int rc;

	if (store_prepare(st, "SELECT " VOLUME_COLUMNS " FROM volumes ORDER BY name", &stmt, err) <
	    0)
		return berr_prefix(err, "list volumes");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_volume **grown = reallocarray(list, count + 1, sizeof(*list));

		if (!grown) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list volumes");
			goto fail;
		}
		list = grown;
		if (row_to_volume(stmt, &list[count], err) < 0)
			goto fail;
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_db_error(st, rc, "list volumes", err);
		goto fail;
	}
	*out = list;
	*n = count;
	return 0;
fail:
	store_volume_list_free(list, count);
	return -1;
}

#define VOLUME_USERS_SQL                                                \
	"SELECT DISTINCT c.id FROM containers c, json_each(c.mounts) m" \
	" WHERE json_extract(m.value, '$.Type') = 'volume'"             \
	" AND json_extract(m.value, '$.Name') = ?1 ORDER BY c.id"

int store_volume_users(struct store *st, const char *name, char ***users, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;

	if (store_prepare(st, VOLUME_USERS_SQL, &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, name, err) < 0 ||
	    store_column_strv(st, stmt, users, err) < 0)
		return berr_prefix(err, "users of volume %s", name);
	return 0;
}

int store_volume_delete(struct store *st, const char *name, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	_cleanup_strv_ char **users = NULL;
	_cleanup_free_ char *list = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	/* The check and the delete in one write transaction: a create that
	 * names the volume meanwhile waits, or is seen. */
	if (store_tx_begin(st, &tx, STORE_TX_WRITE, err) < 0 ||
	    store_volume_users(st, name, &users, err) < 0)
		return berr_prefix(err, "remove %s", name);
	if (users[0]) {
		list = strv_join(users, ", ");
		return berr_set(err, BERR_CONFLICT, 0, "remove %s: volume is in use - [%s]", name,
				list ? list : "");
	}
	if (store_prepare(st, "DELETE FROM volumes WHERE name = ?1", &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, name, err) < 0 ||
	    store_step_done(st, stmt, "remove volume", err) < 0)
		return berr_prefix(err, "remove %s", name);
	if (sqlite3_changes(st->db) == 0)
		return berr_set(err, BERR_NOT_FOUND, 0, "get %s: no such volume", name);
	return store_tx_commit(&tx, err) < 0 ? berr_prefix(err, "remove %s", name) : 0;
}
