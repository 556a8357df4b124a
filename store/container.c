/* Containers in the store: one row per container with the columns lookups
 * need (id, name, image, creation time) and the engine's JSON document, and
 * the container's use of its image recorded in image_users, so that rmi can
 * name the container that holds an image. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define CONTAINER_ID_LEN 64

void store_container_free(struct store_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image_id);
	free(c->doc);
	free(c);
}

void store_container_list_free(struct store_container **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_container_free(list[i]);
	free(list);
}

static bool is_hex(const char *s, size_t len)
{
	return strspn(s, "0123456789abcdef") == len && s[len] == '\0';
}

static int check_id(const char *id, struct berr **err)
{
	if (!id || strlen(id) != CONTAINER_ID_LEN || !is_hex(id, CONTAINER_ID_LEN))
		return berr_set(err, BERR_INVALID, 0, "invalid container id \"%s\"",
				id ? id : "(null)");
	return 0;
}

/* The container a row of (id, name, image_id, created, doc) holds. */
static int row_to_container(sqlite3_stmt *stmt, struct store_container **out, struct berr **err)
{
	_cleanup_(store_container_free_cleanup) struct store_container *c = NULL;
	int failed = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container");
	c->id = store_column_dup(stmt, 0, &failed);
	c->name = store_column_dup(stmt, 1, &failed);
	c->image_id = store_column_dup(stmt, 2, &failed);
	c->created = sqlite3_column_int64(stmt, 3);
	c->doc = store_column_dup(stmt, 4, &failed);
	if (failed || !c->id || !c->name || !c->image_id || !c->doc)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container");
	*out = steal_ptr(&c);
	return 0;
}

#define CONTAINER_COLUMNS "id, name, image_id, created, doc"

/* Loads the container SQL (selecting CONTAINER_COLUMNS by ?1 = VALUE)
 * finds into *out; *out stays NULL when there is none. */
static int load_by(struct store *st, const char *sql, const char *value,
		   struct store_container **out, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int rc;

	if (store_prepare(st, sql, &stmt, err) < 0 || store_bind_text(st, stmt, 1, value, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "look up container", err);
	return row_to_container(stmt, out, err);
}

/* Refuses NAME when another container holds it, with Docker's message. */
static int name_must_be_free(struct store *st, const char *name, struct berr **err)
{
	_cleanup_(store_container_free_cleanup) struct store_container *holder = NULL;

	if (load_by(st, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE name = ?1", name,
		    &holder, err) < 0)
		return -1;
	if (holder)
		return berr_set(err, BERR_CONFLICT, 0,
				"Conflict. The container name \"/%s\" is already in use by "
				"container \"%s\". You have to remove (or rename) that container "
				"to be able to reuse that name.",
				name, holder->id);
	return 0;
}

int store_container_add(struct store *st, const struct store_container *c, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	if (check_id(c->id, err) < 0 || store_check_digest("image id", c->image_id, err) < 0)
		return berr_prefix(err, "add container");
	if (!c->name || !*c->name || c->name[0] == '/')
		return berr_set(err, BERR_INVALID, 0, "add container %s: invalid name \"%s\"",
				c->id, c->name ? c->name : "");
	if (!c->doc || !*c->doc)
		return berr_set(err, BERR_INVALID, 0, "add container %s: no document", c->id);
	/* Container records are not synced: a power cut that loses the
	 * newest ends their containers' processes too. */
	if (store_tx_begin(st, &tx, STORE_TX_WRITE_UNSYNCED, err) < 0)
		return berr_prefix(err, "add container %s", c->id);
	/* The name is checked here, inside the write transaction, so that two
	 * creates of one name cannot both pass: the second sees the first. */
	if (name_must_be_free(st, c->name, err) < 0)
		return -1;
	if (store_image_must_exist(st, c->image_id, err) < 0)
		return berr_prefix(err, "add container %s", c->id);
	if (store_prepare(st,
			  "INSERT INTO containers (id, name, image_id, created, doc)"
			  " VALUES (?1, ?2, ?3, ?4, ?5)",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, c->id, err) < 0 ||
	    store_bind_text(st, stmt, 2, c->name, err) < 0 ||
	    store_bind_text(st, stmt, 3, c->image_id, err) < 0 ||
	    store_bind_int64(st, stmt, 4, c->created, err) < 0 ||
	    store_bind_text(st, stmt, 5, c->doc, err) < 0 ||
	    store_step_done(st, stmt, "record container", err) < 0 ||
	    store_image_user_add(st, c->image_id, c->id, err) < 0 || store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "add container %s", c->id);
	return 0;
}

int store_container_update_doc(struct store *st, const char *id, const char *doc, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	if (check_id(id, err) < 0)
		return -1;
	if (!doc || !*doc)
		return berr_set(err, BERR_INVALID, 0, "container %s: empty document", id);
	if (store_tx_begin(st, &tx, STORE_TX_WRITE_UNSYNCED, err) < 0 ||
	    store_prepare(st, "UPDATE containers SET doc = ?1 WHERE id = ?2", &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, doc, err) < 0 ||
	    store_bind_text(st, stmt, 2, id, err) < 0 ||
	    store_step_done(st, stmt, "update container", err) < 0)
		return berr_prefix(err, "container %s", id);
	if (sqlite3_changes(st->db) == 0)
		return berr_set(err, BERR_NOT_FOUND, 0, "No such container: %s", id);
	if (store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "container %s", id);
	return 0;
}

int store_container_rename(struct store *st, const char *id, const char *name, const char *doc,
			   struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;

	if (check_id(id, err) < 0)
		return -1;
	if (!name || !*name || !doc || !*doc)
		return berr_set(err, BERR_INVALID, 0, "container %s: empty name or document", id);
	if (store_begin(st, err) < 0)
		return -1;
	if (name_must_be_free(st, name, err) < 0 ||
	    store_prepare(st, "UPDATE containers SET name = ?1, doc = ?2 WHERE id = ?3", &stmt,
			  err) < 0 ||
	    store_bind_text(st, stmt, 1, name, err) < 0 ||
	    store_bind_text(st, stmt, 2, doc, err) < 0 ||
	    store_bind_text(st, stmt, 3, id, err) < 0 ||
	    store_step_done(st, stmt, "rename container", err) < 0)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		berr_set(err, BERR_NOT_FOUND, 0, "No such container: %s", id);
		goto fail;
	}
	return store_commit(st, err);
fail:
	store_rollback(st);
	return -1;
}

/* The one container whose id starts with PREFIX, into *out; *out stays
 * NULL when none does. */
static int load_by_prefix(struct store *st, const char *ref, const char *prefix,
			  struct store_container **out, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	_cleanup_free_ char *id = NULL;
	int failed = 0;
	int rc;

	if (store_prepare(st,
			  "SELECT id FROM containers WHERE substr(id, 1, length(?1)) = ?1"
			  " ORDER BY id LIMIT 2",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, prefix, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "look up container id prefix", err);
	id = store_column_dup(stmt, 0, &failed);
	if (!id)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "look up container");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return berr_set(err, BERR_CONFLICT, 0,
				"Multiple IDs found with provided prefix: %s", ref);
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "look up container id prefix", err);
	return load_by(st, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE id = ?1", id, out,
		       err);
}

int store_container_lookup(struct store *st, const char *ref, struct store_container **out,
			   struct berr **err)
{
	struct store_tx tx _cleanup_tx_ = { 0 };
	struct store_container *c = NULL;
	const char *name;
	size_t len;

	if (!ref || !*ref || strcmp(ref, "/") == 0)
		return berr_set(err, BERR_INVALID, 0, "No container name or ID supplied");
	name = ref[0] == '/' ? ref + 1 : ref;
	len = strlen(ref);
	if (store_tx_begin(st, &tx, 0, err) < 0)
		return -1;
	/* Docker's order: a full id, then a name, then an id prefix. */
	if (len == CONTAINER_ID_LEN && is_hex(ref, len) &&
	    load_by(st, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE id = ?1", ref, &c,
		    err) < 0)
		return -1;
	if (!c && load_by(st, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE name = ?1", name,
			  &c, err) < 0)
		return -1;
	if (!c && len < CONTAINER_ID_LEN && is_hex(ref, len) &&
	    load_by_prefix(st, ref, ref, &c, err) < 0)
		return -1;
	if (store_tx_commit(&tx, err) < 0) {
		store_container_free(c);
		return -1;
	}
	if (!c)
		return berr_set(err, BERR_NOT_FOUND, 0, "No such container: %s", ref);
	*out = c;
	return 0;
}

int store_container_list(struct store *st, struct store_container ***out, size_t *n,
			 struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_container **list = NULL;
	size_t count = 0, cap = 0;
	int rc;

	/* rowid breaks ties between containers made in the same second. */
	if (store_prepare(st,
			  "SELECT " CONTAINER_COLUMNS " FROM containers"
			  " ORDER BY created DESC, rowid DESC",
			  &stmt, err) < 0)
		return berr_prefix(err, "list containers");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t want = cap ? cap * 2 : 8;
			struct store_container **bigger = reallocarray(list, want, sizeof(*list));

			if (!bigger) {
				berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
				goto fail;
			}
			list = bigger;
			cap = want;
		}
		if (row_to_container(stmt, &list[count], err) < 0)
			goto fail;
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_db_error(st, rc, "list containers", err);
		goto fail;
	}
	*out = list;
	*n = count;
	return 0;
fail:
	store_container_list_free(list, count);
	return -1;
}

void store_container_entries_free(struct store_container_entry **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* The columns of an entry: its texts first, in the order of entry_texts,
 * then created, exit_code and pid. */
#define ENTRY_COLUMNS                                                                     \
	"id, name, image_id, status, started_at, finished_at, health, path, args, image," \
	" labels, exposed_ports, network_mode, mounts, created, exit_code, pid"

#define ENTRY_FIELD(f) offsetof(struct store_container_entry, f)
static const size_t entry_texts[] = {
	ENTRY_FIELD(id),	   ENTRY_FIELD(name),	    ENTRY_FIELD(image_id),
	ENTRY_FIELD(status),	   ENTRY_FIELD(started_at), ENTRY_FIELD(finished_at),
	ENTRY_FIELD(health),	   ENTRY_FIELD(path),	    ENTRY_FIELD(args),
	ENTRY_FIELD(image),	   ENTRY_FIELD(labels),	    ENTRY_FIELD(exposed_ports),
	ENTRY_FIELD(network_mode), ENTRY_FIELD(mounts),
};
#define ENTRY_TEXTS (sizeof(entry_texts) / sizeof(entry_texts[0]))

/* The entry the current row of STMT (selecting ENTRY_COLUMNS) holds, in
 * one allocation; NULL when out of memory. */
static struct store_container_entry *row_to_entry(sqlite3_stmt *stmt)
{
	const unsigned char *texts[ENTRY_TEXTS];
	size_t lens[ENTRY_TEXTS], size = sizeof(struct store_container_entry);
	struct store_container_entry *e;
	char *p;

	for (size_t i = 0; i < ENTRY_TEXTS; i++) {
		texts[i] = sqlite3_column_text(stmt, (int)i);
		lens[i] = (size_t)sqlite3_column_bytes(stmt, (int)i);
		size += lens[i] + 1;
	}
	e = malloc(size);
	if (!e)
		return NULL;
	p = (char *)(e + 1);
	for (size_t i = 0; i < ENTRY_TEXTS; i++) {
		const char **field = (const char **)((char *)e + entry_texts[i]);

		*field = NULL;
		if (!texts[i])
			continue;
		memcpy(p, texts[i], lens[i]);
		p[lens[i]] = '\0';
		*field = p;
		p += lens[i] + 1;
	}
	e->created = sqlite3_column_int64(stmt, ENTRY_TEXTS);
	e->exit_code = sqlite3_column_int64(stmt, ENTRY_TEXTS + 1);
	e->pid = sqlite3_column_int64(stmt, ENTRY_TEXTS + 2);
	return e;
}

int store_container_entries(struct store *st, struct store_container_entry ***out, size_t *n,
			    struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_container_entry **list = NULL;
	size_t count = 0, cap = 0;
	int rc;

	/* The index containers_list holds every column, in this order but for
	 * the rowids of containers made in one second. */
	if (store_prepare(st,
			  "SELECT " ENTRY_COLUMNS " FROM containers"
			  " ORDER BY created DESC, rowid DESC",
			  &stmt, err) < 0)
		return berr_prefix(err, "list containers");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			size_t want = cap ? cap * 2 : 64;
			struct store_container_entry **bigger =
				reallocarray(list, want, sizeof(*list));

			if (!bigger)
				goto oom;
			list = bigger;
			cap = want;
		}
		list[count] = row_to_entry(stmt);
		if (!list[count])
			goto oom;
		count++;
	}
	if (rc != SQLITE_DONE) {
		store_db_error(st, rc, "list containers", err);
		goto fail;
	}
	*out = list;
	*n = count;
	return 0;
oom:
	berr_set(err, BERR_INTERNAL, ENOMEM, "list containers");
fail:
	store_container_entries_free(list, count);
	return -1;
}

int store_container_delete(struct store *st, const char *id, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	if (check_id(id, err) < 0)
		return berr_prefix(err, "delete container");
	if (store_tx_begin(st, &tx, STORE_TX_WRITE_UNSYNCED, err) < 0 ||
	    store_prepare(st, "DELETE FROM containers WHERE id = ?1", &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, id, err) < 0 ||
	    store_step_done(st, stmt, "remove container", err) < 0)
		return berr_prefix(err, "delete container %s", id);
	if (sqlite3_changes(st->db) == 0)
		return berr_set(err, BERR_NOT_FOUND, 0, "No such container: %s", id);
	if (store_image_user_remove(st, id, err) < 0 || store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "delete container %s", id);
	return 0;
}
