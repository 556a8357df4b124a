/* References in the store: the normalised names ("docker.io/library/alpine:3.19",
 * "...@sha256:..") that point at images, set, moved and removed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "store/internal.h"

/* The image id reference NAME points at, in *out (caller's), or NOT_FOUND. */
int store_ref_target(struct store *st, const char *name, char **out, struct berr **err)
{
	static const char sql[] = "SELECT image_id FROM image_references WHERE name = ?1";
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	int failed = 0;
	int rc;

	if (store_prepare(st, sql, &stmt, err) < 0 || store_bind_text(st, stmt, 1, name, err) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return berr_set(err, BERR_NOT_FOUND, 0, "no such reference: %s", name);
	if (rc != SQLITE_ROW)
		return store_db_error(st, rc, "look up reference", err);
	*out = store_column_dup(stmt, 0, &failed);
	if (!*out)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "look up reference");
	return 0;
}

static int check_ref(const struct store_ref *ref, struct berr **err)
{
	if (!ref->name || !*ref->name || !ref->repo || !*ref->repo)
		return berr_set(err, BERR_INVALID, 0, "reference without name or repository");
	if (!str_has_prefix(ref->name, ref->repo) ||
	    (ref->name[strlen(ref->repo)] != ':' && ref->name[strlen(ref->repo)] != '@'))
		return berr_set(err, BERR_INVALID, 0, "reference %s is not in repository %s",
				ref->name, ref->repo);
	if (!ref->tag == !ref->digest)
		return berr_set(err, BERR_INVALID, 0,
				"reference %s needs exactly one of tag and digest", ref->name);
	if (ref->tag && !*ref->tag)
		return berr_set(err, BERR_INVALID, 0, "reference %s: empty tag", ref->name);
	if (ref->digest && store_check_digest("reference digest", ref->digest, err) < 0)
		return berr_prefix(err, "reference %s", ref->name);
	return 0;
}

int store_ref_add(struct store *st, const struct store_ref *ref, const char *image_id,
		  char **old_id, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	_cleanup_berr_ struct berr *lookup_err = NULL;
	_cleanup_free_ char *old = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	if (check_ref(ref, err) < 0 || store_check_digest("image id", image_id, err) < 0)
		return berr_prefix(err, "tag");
	if (store_tx_begin(st, &tx, 1, err) < 0 || store_image_must_exist(st, image_id, err) < 0)
		return berr_prefix(err, "tag %s", ref->name);
	if (store_ref_target(st, ref->name, &old, &lookup_err) < 0 &&
	    lookup_err->kind != BERR_NOT_FOUND) {
		berr_move(err, &lookup_err);
		return berr_prefix(err, "tag %s", ref->name);
	}
	if (store_prepare(st,
			  "INSERT INTO image_references (name, repo, tag, digest, image_id)"
			  " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET"
			  " repo = excluded.repo, tag = excluded.tag, digest = excluded.digest,"
			  " image_id = excluded.image_id",
			  &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, ref->name, err) < 0 ||
	    store_bind_text(st, stmt, 2, ref->repo, err) < 0 ||
	    store_bind_text(st, stmt, 3, ref->tag, err) < 0 ||
	    store_bind_text(st, stmt, 4, ref->digest, err) < 0 ||
	    store_bind_text(st, stmt, 5, image_id, err) < 0 ||
	    store_step_done(st, stmt, "record reference", err) < 0 || store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "tag %s", ref->name);
	if (old_id)
		*old_id = old && strcmp(old, image_id) != 0 ? steal_ptr(&old) : NULL;
	return 0;
}

int store_ref_remove(struct store *st, const char *name, char **image_id, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	_cleanup_free_ char *id = NULL;
	struct store_tx tx _cleanup_tx_ = { 0 };

	if (!name || !*name)
		return berr_set(err, BERR_INVALID, 0, "untag: empty reference");
	if (store_tx_begin(st, &tx, 1, err) < 0 || store_ref_target(st, name, &id, err) < 0 ||
	    store_prepare(st, "DELETE FROM image_references WHERE name = ?1", &stmt, err) < 0 ||
	    store_bind_text(st, stmt, 1, name, err) < 0 ||
	    store_step_done(st, stmt, "remove reference", err) < 0 || store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "untag %s", name);
	if (image_id)
		*image_id = steal_ptr(&id);
	return 0;
}
