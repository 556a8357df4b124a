/* The blobs the metadata refers to: image configs (an image id is its
 * config's digest) and the blobs layers were unpacked from.  The image
 * store's clean-up keeps these and removes every other blob, which only a
 * killed load or import can have left. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "store/internal.h"

int store_blob_digests_in_use(struct store *st, char ***out, struct berr **err)
{
	_cleanup_stmt_ sqlite3_stmt *stmt = NULL;
	_cleanup_strv_ char **list = strv_dup(NULL);
	struct store_tx tx _cleanup_tx_ = { 0 };
	size_t n = 0, cap = 0;
	int rc;

	if (!list)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "blobs in use");
	/* UNION drops duplicates: a config could in principle also be a
	 * layer's blob. */
	if (store_tx_begin(st, &tx, 0, err) < 0 ||
	    store_prepare(st,
			  "SELECT id FROM images UNION"
			  " SELECT blob_digest FROM layers WHERE blob_digest IS NOT NULL"
			  " ORDER BY 1",
			  &stmt, err) < 0)
		return berr_prefix(err, "blobs in use");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int failed = 0;

		if (n + 1 >= cap) {
			size_t want = cap ? cap * 2 : 64;
			char **bigger = reallocarray(list, want, sizeof(*list));

			if (!bigger)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "blobs in use");
			list = bigger;
			cap = want;
		}
		list[n] = store_column_dup(stmt, 0, &failed);
		if (!list[n])
			return berr_set(err, BERR_INTERNAL, ENOMEM, "blobs in use");
		list[++n] = NULL;
	}
	if (rc != SQLITE_DONE)
		return store_db_error(st, rc, "list blobs in use", err);
	if (store_tx_commit(&tx, err) < 0)
		return berr_prefix(err, "blobs in use");
	*out = steal_ptr(&list);
	return 0;
}
