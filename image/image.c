/* The image store facade: opens the blob store, the layer directories and
 * the metadata database of one data root, cleans what killed operations
 * left while no other process has the store open (a lock file tells), and
 * implements lookup, list, tag, rmi and inspect with Docker's rules on top
 * of store/ and image/reference. */
#include "image/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "image/reference.h"
#include "image/image_internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"

/* The lock file in the data root: every open store holds it shared, and
 * the clean-up runs only under an exclusive hold, so it never removes what
 * another process is writing. */
#define IMAGE_STORE_LOCK "lock"

void image_store_free(struct image_store *st)
{
	if (!st)
		return;
	store_close(st->db);
	image_blob_store_free(st->blobs);
	free(st->layers_dir);
	free(st->root);
	/* Closing the last fd of the lock's open file drops the lock. */
	cleanup_closep(&st->lock_fd);
	free(st);
}

const char *image_store_root(const struct image_store *st)
{
	return st->root;
}

struct store *image_store_db(struct image_store *st)
{
	return st->db;
}

struct image_blob_store *image_store_blobs(struct image_store *st)
{
	return st->blobs;
}

void image_chain_id(const char *parent, const char *diff_id, char out[DIGEST_STRING_SIZE])
{
	char text[2 * DIGEST_STRING_SIZE + 1];
	int n;

	if (!parent) {
		snprintf(out, DIGEST_STRING_SIZE, "%s", diff_id);
		return;
	}
	n = snprintf(text, sizeof(text), "%s %s", parent, diff_id);
	digest_bytes(text, (size_t)n, out);
}

/* Whether NAME is 64 lowercase hex digits, a layer directory's name. */
static bool is_hex64(const char *name)
{
	size_t n = strspn(name, "0123456789abcdef");

	return n == 64 && name[n] == '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes layers/<x>.tmp-* and the layer directories the database does not
 * know: what an unpack or import killed half way left. */
static int clean_layers(struct image_store *st, struct berr **err)
{
	_cleanup_closedir_ DIR *d = opendir(st->layers_dir);
	struct dirent *de;

	if (!d)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", st->layers_dir);
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		bool stale = false;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strstr(de->d_name, ".tmp-") || !is_hex64(de->d_name)) {
			stale = true;
		} else {
			_cleanup_(store_layer_free_cleanup) struct store_layer *layer = NULL;
			_cleanup_berr_ struct berr *lerr = NULL;
			char chain[DIGEST_STRING_SIZE];

			snprintf(chain, sizeof(chain), "sha256:%.64s", de->d_name);
			if (store_layer_lookup(st->db, chain, &layer, &lerr) < 0) {
				if (lerr->kind != BERR_NOT_FOUND) {
					berr_move(err, &lerr);
					return berr_prefix(err, "clean layers");
				}
				stale = true;
			}
		}
		if (!stale)
			continue;
		path = str_printf("%s/%s", st->layers_dir, de->d_name);
		if (!path)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "clean layers");
		blog_msg(BLOG_INFO, "removing leftover layer directory %s", path);
		if (fs_remove_tree(path, err) < 0)
			return berr_prefix(err, "clean layers");
	}
	if (errno)
		return berr_set(err, BERR_INTERNAL, errno, "read %s", st->layers_dir);
	return 0;
}

/* Removes the blobs under <root>/blobs/sha256 that the database does not
 * refer to: what a load or import killed before its commit wrote, and what
 * a removal killed after its commit left. */
static int clean_blobs(struct image_store *st, struct berr **err)
{
	_cleanup_free_ char *dir = str_printf("%s/blobs/sha256", st->root);
	_cleanup_strv_ char **keep = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t n_keep;
	struct dirent *de;

	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "clean blobs");
	if (store_blob_digests_in_use(st->db, &keep, err) < 0)
		return berr_prefix(err, "clean blobs");
	n_keep = strv_length(keep);
	d = opendir(dir);
	if (!d)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", dir);
	while ((errno = 0, de = readdir(d))) {
		char digest[DIGEST_STRING_SIZE];
		const char *key = digest;

		/* Only blob names: whatever else is there was not put there
		 * by the blob store and is not this clean-up's to judge. */
		if (!is_hex64(de->d_name))
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
		if (bsearch(&key, keep, n_keep, sizeof(*keep), cmp_str))
			continue;
		blog_msg(BLOG_INFO, "removing unreferenced blob %s", digest);
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			return berr_set(err, BERR_INTERNAL, errno, "remove blob %s", digest);
	}
	if (errno)
		return berr_set(err, BERR_INTERNAL, errno, "read %s", dir);
	return 0;
}

/* Takes the store's lock shared, after the clean-ups when no other process
 * has the store open: then nothing can be half written by anyone alive. */
static int lock_and_clean(struct image_store *st, int *lock_fd, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/" IMAGE_STORE_LOCK, st->root);
	_cleanup_close_ int fd = -1;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "lock image store");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (image_blob_store_clean_tmp(st->blobs, err) < 0 || clean_layers(st, err) < 0 ||
		    clean_blobs(st, err) < 0)
			return -1;
	} else if (errno != EWOULDBLOCK) {
		return berr_set(err, BERR_INTERNAL, errno, "lock %s", path);
	}
	/* From exclusive this is a downgrade; flock(2) may drop the lock for
	 * a moment, which only lets another opener clean, and nothing is
	 * under way here yet. */
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return berr_set(err, BERR_INTERNAL, errno, "lock %s", path);
	*lock_fd = steal_fd(&fd);
	return 0;
}

int image_store_open(const char *root, struct image_store **out, struct berr **err)
{
	_cleanup_(image_store_free_cleanup) struct image_store *st = calloc(1, sizeof(*st));

	if (!root)
		root = IMAGE_STORE_DEFAULT_ROOT;
	if (!st)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "open image store");
	st->lock_fd = -1;
	if (!(st->root = strdup(root)) || !(st->layers_dir = str_printf("%s/layers", root)))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "open image store");
	/* The root first: what goes in it is placed apart. */
	if (fs_mkdir_p(st->root, 0700, err) < 0)
		return berr_prefix(err, "open image store %s", root);
	fs_spread_subdirs(st->root);
	if (fs_mkdir_p(st->layers_dir, 0700, err) < 0 ||
	    image_blob_store_open(root, &st->blobs, err) < 0 ||
	    store_open(root, &st->db, err) < 0 || lock_and_clean(st, &st->lock_fd, err) < 0)
		return berr_prefix(err, "open image store %s", root);
	*out = steal_ptr(&st);
	return 0;
}

/* Finds NAME; *ref_name receives the normalised reference when NAME was
 * found as one, NULL when found by id. */
static int resolve(struct image_store *st, const char *name, struct store_image **out,
		   char **ref_name, struct berr **err)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_berr_ struct berr *perr = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	_cleanup_free_ char *full = NULL;

	*ref_name = NULL;
	if (image_reference_is_id(name)) {
		_cleanup_free_ char *id = str_has_prefix(name, "sha256:")
						  ? strdup(name)
						  : str_printf("sha256:%s", name);

		if (!id)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "look up image");
		if (store_image_lookup(st->db, id, out, &lerr) == 0)
			return 0;
		if (lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			return -1;
		}
		return berr_set(err, BERR_NOT_FOUND, 0, "No such image: %s", name);
	}
	if (image_reference_parse(name, &ref, &perr) == 0) {
		full = image_reference_format(ref, err);
		if (!full)
			return -1;
		if (store_image_lookup_ref(st->db, full, out, &lerr) == 0) {
			*ref_name = steal_ptr(&full);
			return 0;
		}
		if (lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			return -1;
		}
		berr_clear(&lerr);
	}
	if (image_reference_is_id_prefix(name)) {
		if (store_image_lookup_prefix(st->db, name, out, &lerr) == 0)
			return 0;
		if (lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			return -1;
		}
	}
	return berr_set(err, BERR_NOT_FOUND, 0, "No such image: %s", name);
}

int image_store_lookup(struct image_store *st, const char *name, struct store_image **out,
		       struct berr **err)
{
	_cleanup_free_ char *ref_name = NULL;

	return resolve(st, name, out, &ref_name, err);
}

int image_store_list(struct image_store *st, struct store_image ***out, size_t *n,
		     struct berr **err)
{
	return store_image_list(st->db, out, n, err);
}

int image_store_tag(struct image_store *st, const char *target, const char *new_ref, char **old_id,
		    struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *repo = NULL;
	struct store_ref sref;

	if (image_reference_parse(new_ref, &ref, err) < 0)
		return berr_prefix(err, "tag %s", new_ref);
	if (ref->digest)
		return berr_set(err, BERR_INVALID, 0,
				"refusing to create a tag with a digest reference");
	if (image_store_lookup(st, target, &img, err) < 0)
		return -1;
	name = image_reference_format(ref, err);
	repo = name ? image_reference_repository(ref, err) : NULL;
	if (!repo)
		return -1;
	sref = (struct store_ref){ .name = name, .repo = repo, .tag = ref->tag };
	if (store_ref_add(st->db, &sref, img->id, old_id, err) < 0)
		return berr_prefix(err, "tag %s", new_ref);
	return 0;
}

void image_remove_result_clear(struct image_remove_result *res)
{
	strv_free(res->untagged);
	free(res->deleted);
	res->untagged = NULL;
	res->deleted = NULL;
}

/* Appends *S to *V, taking it; -1 on no memory (*S is kept then). */
static int strv_append_owned(char ***v, char **s)
{
	size_t n = strv_length(*v);
	char **nv = realloc(*v, (n + 2) * sizeof(*nv));

	if (!nv)
		return -1;
	nv[n] = steal_ptr(s);
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

/* The familiar form of the normalised reference NAME; NULL on no memory. */
static char *familiar(const char *name)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;

	if (image_reference_parse(name, &ref, NULL) < 0)
		return strdup(name);
	return image_reference_format_familiar(ref, NULL);
}

/* Docker's rule for deleting by id without force: at most one tag, and
 * every digest reference in the tag's repository (or, without a tag, all
 * in one repository). */
static bool single_repository(const struct store_image *img)
{
	const char *repo = NULL;
	size_t tags = 0;

	for (size_t i = 0; i < img->n_refs; i++)
		if (img->refs[i].tag) {
			tags++;
			repo = img->refs[i].repo;
		}
	if (tags > 1)
		return false;
	for (size_t i = 0; i < img->n_refs; i++) {
		if (img->refs[i].tag)
			continue;
		if (!repo)
			repo = img->refs[i].repo;
		else if (strcmp(repo, img->refs[i].repo) != 0)
			return false;
	}
	return true;
}

/* Removes the directories and blobs of layers freed by a committed
 * deletion; a failure is only logged, the database no longer knows them
 * and the next open removes a directory left behind. */
static void drop_freed(struct image_store *st, struct store_layer *freed, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_berr_ struct berr *e = NULL;

		if (fs_remove_tree(freed[i].path, &e) < 0)
			blog_msg(BLOG_WARN, "remove layer %s: %s", freed[i].path, e->msg);
		berr_clear(&e);
		if (freed[i].blob_digest &&
		    image_blob_delete(st->blobs, freed[i].blob_digest, &e) < 0 &&
		    e->kind != BERR_NOT_FOUND)
			blog_msg(BLOG_WARN, "remove blob %s: %s", freed[i].blob_digest, e->msg);
	}
}

/* Docker's conflicts for deleting IMG (or, with REF_NAME, removing its
 * only reference NAME) while containers use it.  Sets *keep when FORCE
 * goes past stopped users: the references go, the image stays. */
static int user_conflict(struct image_store *st, const struct store_image *img, const char *name,
			 const char *ref_name, bool force, image_user_running_fn running, void *arg,
			 bool *keep, struct berr **err)
{
	_cleanup_strv_ char **users = NULL;
	const char *hex = img->id + strlen("sha256:");

	*keep = false;
	if (store_image_users(st->db, img->id, &users, err) < 0)
		return -1;
	if (!users[0])
		return 0;
	/* Untagging would leave the container's image dangling: Docker wants
	 * that forced. */
	if (ref_name && !force)
		return berr_set(err, BERR_CONFLICT, 0,
				"conflict: unable to remove repository reference \"%s\" (must "
				"force) - container %.12s is using its referenced image %.12s",
				name, users[0], hex);
	for (size_t i = 0; users[i]; i++)
		if (!running || running(users[i], arg))
			return berr_set(err, BERR_CONFLICT, 0,
					"conflict: unable to delete %.12s (cannot be forced) - "
					"image is being used by running container %.12s",
					hex, users[i]);
	if (!force)
		return berr_set(err, BERR_CONFLICT, 0,
				"conflict: unable to delete %.12s (must be forced) - image is "
				"being used by stopped container %.12s",
				hex, users[0]);
	*keep = true;
	return 0;
}

int image_store_remove(struct image_store *st, const char *name, bool force,
		       image_user_running_fn running, void *arg, struct image_remove_result *res,
		       struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_free_ char *ref_name = NULL;
	_cleanup_strv_ char **untagged = strv_dup(NULL);
	_cleanup_free_ char *deleted = NULL;
	struct store_layer *freed = NULL;
	size_t n_freed = 0;
	bool keep;

	if (!untagged)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "remove image");
	if (resolve(st, name, &img, &ref_name, err) < 0)
		return -1;
	if (ref_name && img->n_refs > 1) {
		/* One tag among several: only the tag goes. */
		_cleanup_free_ char *f = familiar(ref_name);

		if (!f || strv_append_owned(&untagged, &f) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "remove image");
		if (store_ref_remove(st->db, ref_name, NULL, err) < 0)
			return berr_prefix(err, "untag %s", name);
		goto done;
	}
	if (!ref_name && !single_repository(img) && !force)
		return berr_set(err, BERR_CONFLICT, 0,
				"conflict: unable to delete %.12s (must be forced) - image is "
				"referenced in multiple repositories",
				img->id + strlen("sha256:"));
	for (size_t i = 0; i < img->n_refs; i++) {
		_cleanup_free_ char *f = familiar(img->refs[i].name);

		if (!f || strv_append_owned(&untagged, &f) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "remove image");
	}
	if (user_conflict(st, img, name, ref_name, force, running, arg, &keep, err) < 0)
		return -1;
	if (keep) {
		/* The stopped containers hold the image's layers: it stays,
		 * untagged, and goes with an rmi once they are gone. */
		if (store_begin(st->db, err) < 0)
			return -1;
		for (size_t i = 0; i < img->n_refs; i++)
			if (store_ref_remove(st->db, img->refs[i].name, NULL, err) < 0) {
				store_rollback(st->db);
				return berr_prefix(err, "untag %s", img->refs[i].name);
			}
		if (store_commit(st->db, err) < 0)
			return -1;
		goto done;
	}
	if (store_image_delete(st->db, img->id, force, &freed, &n_freed, err) < 0)
		return -1;
	drop_freed(st, freed, n_freed);
	store_layer_list_free(freed, n_freed);
	if (image_blob_exists(st->blobs, img->id))
		image_blob_delete(st->blobs, img->id, NULL);
	deleted = strdup(img->id);
	if (!deleted)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "remove image");
done:
	if (res) {
		res->untagged = steal_ptr(&untagged);
		res->deleted = steal_ptr(&deleted);
	}
	return 0;
}

int image_store_layer_dirs(struct image_store *st, const struct store_image *img, char ***out,
			   struct berr **err)
{
	_cleanup_strv_ char **dirs = calloc(img->n_layers + 1, sizeof(*dirs));

	if (!dirs)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "layer directories");
	for (size_t i = 0; i < img->n_layers; i++) {
		_cleanup_(store_layer_free_cleanup) struct store_layer *layer = NULL;

		if (store_layer_lookup(st->db, img->layers[i], &layer, err) < 0)
			return berr_prefix(err, "image %s", img->id);
		dirs[i] = steal_ptr(&layer->path);
	}
	*out = steal_ptr(&dirs);
	return 0;
}

int image_store_config(const struct store_image *img, struct image_config **out, struct berr **err)
{
	if (image_config_parse(img->config, strlen(img->config), out, err) < 0)
		return berr_prefix(err, "image %s", img->id);
	return 0;
}

/* RepoTags or RepoDigests of IMG: familiar names of the references with a
 * tag (DIGESTS false) or with a digest. */
static json_t *repo_names(const struct store_image *img, bool digests)
{
	_cleanup_json_ json_t *arr = json_array();

	for (size_t i = 0; arr && i < img->n_refs; i++) {
		const struct store_ref *r = &img->refs[i];
		_cleanup_free_ char *f = NULL;

		if (digests ? !r->digest : !r->tag)
			continue;
		f = familiar(r->name);
		if (!f || json_array_append_new(arr, json_string(f)) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

static json_t *strv_to_json(char *const *v)
{
	_cleanup_json_ json_t *arr = json_array();

	for (size_t i = 0; arr && v && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0)
			return NULL;
	return steal_ptr(&arr);
}

/* "a:b:c" of DIRS from the top layer down, as overlay's lowerdir lists them. */
static char *join_top_first(char **dirs)
{
	size_t n = strv_length(dirs), len = 1, at = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(dirs[i]) + 1;
	s = calloc(1, len);
	for (size_t i = n; s && i > 0; i--) {
		size_t l = strlen(dirs[i - 1]);

		if (i != n)
			s[at++] = ':';
		memcpy(s + at, dirs[i - 1], l);
		at += l;
	}
	return s;
}

int image_inspect_json(struct image_store *st, const struct store_image *img, json_t **out,
		       struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *lower = NULL;
	struct image_run_config empty = { 0 };
	const json_t *container_config;
	const char *container, *docker_version;
	json_error_t jerr;
	json_t *o;

	if (image_store_config(img, &cfg, err) < 0 ||
	    image_store_layer_dirs(st, img, &dirs, err) < 0)
		return -1;
	/* What Docker's own builds and commits record beside the config. */
	container = json_string_value(json_object_get(cfg->extra, "container"));
	docker_version = json_string_value(json_object_get(cfg->extra, "docker_version"));
	container_config = json_object_get(cfg->extra, "container_config");
	lower = join_top_first(dirs);
	if (!lower)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "inspect image %s", img->id);
	/* "o" steals each value, also when packing fails, so nothing leaks;
	 * a NULL value (no memory) makes the pack fail. */
	o = json_pack_ex(
		&jerr, 0,
		"{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:s, s:I, s:I,"
		" s:{s:s, s:{s:s, s:s, s:s, s:s}}, s:{s:s, s:o}, s:{s:s}}",
		"Id", img->id, "RepoTags", repo_names(img, false), "RepoDigests",
		repo_names(img, true), "Parent", "", "Comment", cfg->comment ? cfg->comment : "",
		"Created", cfg->created ? cfg->created : "", "Container",
		container ? container : "", "ContainerConfig",
		json_is_object(container_config) ? json_deep_copy(container_config)
						 : image_run_config_to_json(&empty, NULL),
		"DockerVersion", docker_version ? docker_version : "", "Author",
		cfg->author ? cfg->author : "", "Config",
		image_run_config_to_json(&cfg->config, NULL), "Architecture", cfg->architecture,
		"Os", cfg->os, "Size", (json_int_t)img->size, "VirtualSize", (json_int_t)img->size,
		"GraphDriver", "Name", "overlay2", "Data", "LowerDir", lower, "UpperDir",
		img->n_layers ? dirs[img->n_layers - 1] : "", "MergedDir", "", "WorkDir", "",
		"RootFS", "Type", "layers", "Layers", strv_to_json(cfg->diff_ids), "Metadata",
		/* Docker's zero time: berth does not record when a tag was set. */
		"LastTagTime", "0001-01-01T00:00:00Z");
	if (!o)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "inspect image %s: %s", img->id,
				jerr.text);
	*out = o;
	return 0;
}
