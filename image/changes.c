/* What a container changed: `docker diff` computed from the overlay upper
 * directory and the image's layers without mounting anything, `docker
 * commit` of the upper directory as a new layer and image (recorded with
 * the undo steps of an import), and `docker export` of the merged file
 * system through a read-only overlay in a mount namespace of its own. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "image/changes.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "image/mount.h"
#include "image/reference.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/safepath.h"
#include "lib/timefmt.h"

#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
#define CAPABILITY_XATTR     "security.capability"
/* A vfs_cap_data is 24 bytes; anything up to this compares whole. */
#define CAPABILITY_MAX 256
#define COPY_CHUNK     (64 * 1024)
/* Room for what an export child says about its failure. */
#define EXPORT_MSG_MAX 4096

void image_changes_free(struct image_change *changes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(changes[i].path);
	free(changes);
}

char image_change_letter(enum image_change_kind kind)
{
	switch (kind) {
	case IMAGE_CHANGE_ADD:
		return 'A';
	case IMAGE_CHANGE_DELETE:
		return 'D';
	case IMAGE_CHANGE_MODIFY:
		break;
	}
	return 'C';
}

/*
 * The diff.  Docker computes it by comparing the container's mounted file
 * system with its image's (overlay2 and the containerd snapshotters both use
 * archive.ChangesDirs): an entry only in the container is added, with all
 * that is below it; one only in the image is deleted (its contents are not
 * listed); one in both is changed when its type, mode, owner, device,
 * capabilities or, for a non-directory, size or mtime differ; and every
 * directory with a change below it is changed.  The same list comes from
 * the upper directory alone, since what it does not hold is the image's:
 * a whiteout deletes, an opaque directory deletes the image's entries it
 * does not hold again, anything else is compared with the entry the lower
 * layers show at that path.
 */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool value_is_y(ssize_t len, const char *value)
{
	return len == 1 && value[0] == 'y';
}

struct diff {
	const char *const *lowers; /* lowest first */
	size_t n;
	struct image_change *changes;
	size_t n_changes, cap;
};

static int add_change(struct diff *d, const char *rel, enum image_change_kind kind,
		      struct berr **err)
{
	char *path;

	if (d->n_changes == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct image_change *grown = reallocarray(d->changes, cap, sizeof(*grown));

		if (!grown)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
		d->changes = grown;
		d->cap = cap;
	}
	path = str_printf("/%s", rel);
	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
	d->changes[d->n_changes++] = (struct image_change){ .path = path, .kind = kind };
	return 0;
}

/* What the image shows at REL, an entry of a directory the lowers flagged
 * in FROM make up (overlay's lookup: the topmost lower that has the name
 * decides, a whiteout there means nothing).  Returns 1 with *st and *layer
 * (the lower it comes from), 0 when there is nothing, -1 on error.  When
 * SUB is not NULL and the entry is a directory, *sub is a new array of the
 * lowers that make it up: down from *layer, until one is opaque or holds a
 * non-directory there. */
static int old_lookup(struct diff *d, const bool *from, const char *rel, struct stat *st,
		      size_t *layer, bool **sub, struct berr **err)
{
	_cleanup_free_ bool *dirs = NULL;
	bool found = false;

	for (size_t i = d->n; i-- > 0;) {
		_cleanup_free_ char *path = NULL;
		char value[2];
		struct stat s;

		if (!from[i])
			continue;
		path = str_printf("%s/%s", d->lowers[i], rel);
		if (!path)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
		if (lstat(path, &s) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return berr_set(err, BERR_INTERNAL, errno, "stat %s", path);
		}
		if (!found) {
			if (is_whiteout(&s))
				return 0;
			*st = s;
			*layer = i;
			found = true;
			if (!sub || !S_ISDIR(s.st_mode))
				break;
			dirs = calloc(d->n, sizeof(*dirs));
			if (!dirs)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
		} else if (!S_ISDIR(s.st_mode)) {
			break; /* a whiteout or a file hides the lowers below */
		}
		dirs[i] = true;
		if (value_is_y(lgetxattr(path, OVERLAY_OPAQUE_XATTR, value, sizeof(value)), value))
			break;
	}
	if (!found)
		return 0;
	if (sub)
		*sub = steal_ptr(&dirs);
	return 1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the names in directory DIRFD (REL for messages) to *names. */
static int add_names(int dirfd, const char *rel, char ***names, struct berr **err)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open /%s", rel);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "open /%s", rel);
	}
	while ((errno = 0, de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strv_append(names, de->d_name) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list /%s", rel);
	}
	if (errno)
		return berr_set(err, BERR_INTERNAL, errno, "read /%s", rel);
	return 0;
}

static void sort_names(char **names)
{
	size_t n = strv_length(names);

	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
}

static bool has_name(char **sorted, const char *name)
{
	size_t n = strv_length(sorted);

	return n > 0 && bsearch(&name, sorted, n, sizeof(*sorted), name_cmp) != NULL;
}

/* Go's sameFsTime: tar keeps whole seconds, so a time without its
 * nanoseconds is the same as one with them. */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec &&
	       (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* Docker's statDifferent: size and mtime say nothing about a directory. */
static bool stat_differs(const struct stat *o, const struct stat *n)
{
	if (o->st_mode != n->st_mode || o->st_uid != n->st_uid || o->st_gid != n->st_gid ||
	    o->st_rdev != n->st_rdev)
		return true;
	if (S_ISDIR(o->st_mode))
		return false;
	return !same_time(&o->st_mtim, &n->st_mtim) || o->st_size != n->st_size;
}

/* The file capabilities of NAME in DIRFD into BUF; 0 when it has none. */
static ssize_t upper_caps(int dirfd, const char *name, char *buf)
{
	char proc[SAFEPATH_FD_PATH_MAX];
	_cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || safepath_fd_path(fd, proc, sizeof(proc), NULL) < 0)
		return 0;
	n = getxattr(proc, CAPABILITY_XATTR, buf, CAPABILITY_MAX);
	return n < 0 ? 0 : n;
}

/* Whether the regular file NAME in DIRFD (REL in the tree) carries other
 * capabilities than its image counterpart in lower LAYER: Docker compares
 * them too, and setcap changes nothing else. */
static int caps_differ(struct diff *d, int dirfd, const char *name, const char *rel, size_t layer,
		       bool *out, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/%s", d->lowers[layer], rel);
	char a[CAPABILITY_MAX], b[CAPABILITY_MAX];
	ssize_t na, nb;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
	na = upper_caps(dirfd, name, a);
	nb = lgetxattr(path, CAPABILITY_XATTR, b, sizeof(b));
	if (nb < 0)
		nb = 0;
	*out = na != nb || memcmp(a, b, (size_t)na) != 0;
	return 0;
}

/* The image's entries of directory REL (made up of the lowers in FROM)
 * that the upper directory, whose sorted names are UPPER_NAMES, does not
 * hold: an opaque directory hides them, so they are deleted. */
static int hidden_deletions(struct diff *d, const char *rel, const bool *from, char **upper_names,
			    bool *changed, struct berr **err)
{
	_cleanup_strv_ char **names = strv_dup(NULL);
	const char *prev = NULL;

	if (!names)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
	for (size_t i = 0; i < d->n; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_close_ int fd = -1;

		if (!from[i])
			continue;
		path = str_printf("%s/%s", d->lowers[i], rel);
		if (!path)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
		if (add_names(fd, rel, &names, err) < 0)
			return -1;
	}
	sort_names(names);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *child = NULL;
		struct stat st;
		size_t layer;
		int r;

		if ((prev && strcmp(prev, names[i]) == 0) || has_name(upper_names, names[i])) {
			prev = names[i];
			continue;
		}
		prev = names[i];
		child = rel[0] ? str_printf("%s/%s", rel, names[i]) : strdup(names[i]);
		if (!child)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
		r = old_lookup(d, from, child, &st, &layer, NULL, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			if (add_change(d, child, IMAGE_CHANGE_DELETE, err) < 0)
				return -1;
			*changed = true;
		}
	}
	return 0;
}

static int walk_dir(struct diff *d, int dirfd, const char *rel, const bool *from, bool replaced,
		    bool *changed, struct berr **err);

/* One entry NAME of the upper directory DIRFD, at REL in the tree. */
static int walk_entry(struct diff *d, int dirfd, const char *name, const char *rel,
		      const bool *from, bool replaced, bool *changed, struct berr **err)
{
	_cleanup_free_ bool *sub = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st, old = { 0 };
	bool recorded = false, inner = false, differs;
	size_t layer = 0;
	char value[2];
	int r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0; /* removed by the container meanwhile */
		return berr_set(err, BERR_INTERNAL, errno, "stat /%s", rel);
	}
	if (from) {
		r = old_lookup(d, from, rel, &old, &layer, S_ISDIR(st.st_mode) ? &sub : NULL, err);
		if (r < 0)
			return -1;
	}
	if (is_whiteout(&st)) {
		/* Docker lists only what the image had. */
		if (r == 0)
			return 0;
		*changed = true;
		return add_change(d, rel, IMAGE_CHANGE_DELETE, err);
	}
	if (r == 0) {
		if (add_change(d, rel, IMAGE_CHANGE_ADD, err) < 0)
			return -1;
		recorded = true;
	} else {
		differs = stat_differs(&old, &st);
		if (!differs && S_ISREG(st.st_mode) &&
		    caps_differ(d, dirfd, name, rel, layer, &differs, err) < 0)
			return -1;
		if (differs) {
			if (add_change(d, rel, IMAGE_CHANGE_MODIFY, err) < 0)
				return -1;
			recorded = true;
		}
	}
	*changed = *changed || recorded;
	if (!S_ISDIR(st.st_mode))
		return 0;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return berr_set(err, BERR_INTERNAL, errno, "open /%s", rel);
	}
	/* Below an opaque directory overlay shows the upper directory alone. */
	replaced = replaced ||
		   value_is_y(fgetxattr(fd, OVERLAY_OPAQUE_XATTR, value, sizeof(value)), value);
	if (walk_dir(d, fd, rel, sub, replaced, &inner, err) < 0)
		return -1;
	if (!inner)
		return 0;
	*changed = true;
	return recorded ? 0 : add_change(d, rel, IMAGE_CHANGE_MODIFY, err);
}

/* Directory REL ("" at the top) of the upper directory, open as DIRFD.
 * FROM flags the lowers that make up its image counterpart (NULL when the
 * image has no directory there); REPLACED says that overlay shows it from
 * the upper directory alone.  *changed becomes true when anything below
 * changed. */
static int walk_dir(struct diff *d, int dirfd, const char *rel, const bool *from, bool replaced,
		    bool *changed, struct berr **err)
{
	_cleanup_strv_ char **names = strv_dup(NULL);

	if (!names)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
	if (add_names(dirfd, rel, &names, err) < 0)
		return -1;
	sort_names(names);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *child =
			rel[0] ? str_printf("%s/%s", rel, names[i]) : strdup(names[i]);

		if (!child)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
		if (walk_entry(d, dirfd, names[i], child, from, replaced, changed, err) < 0)
			return -1;
	}
	if (replaced && from)
		return hidden_deletions(d, rel, from, names, changed, err);
	return 0;
}

static int change_cmp(const void *a, const void *b)
{
	return strcmp(((const struct image_change *)a)->path,
		      ((const struct image_change *)b)->path);
}

/* An existing directory, or BERR_NOT_FOUND naming WHAT. */
static int check_dir(const char *what, const char *path, struct berr **err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return berr_set(
			err, errno == ENOENT || errno == ENOTDIR ? BERR_NOT_FOUND : BERR_INTERNAL,
			errno, "%s %s", what, path);
	if (!S_ISDIR(st.st_mode))
		return berr_set(err, BERR_NOT_FOUND, ENOTDIR, "%s %s", what, path);
	return 0;
}

int image_changes_list(const char *const *lower_dirs, size_t n, const char *upper,
		       struct image_change **out, size_t *n_out, struct berr **err)
{
	struct diff d = { .lowers = lower_dirs, .n = n };
	_cleanup_free_ bool *all = calloc(n ? n : 1, sizeof(*all));
	_cleanup_close_ int fd = -1;
	bool changed = false;
	char value[2];

	if (!all)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list changes");
	fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(
			err, errno == ENOENT || errno == ENOTDIR ? BERR_NOT_FOUND : BERR_INTERNAL,
			errno, "list changes: upper dir %s", upper);
	for (size_t i = 0; i < n; i++) {
		if (check_dir("lower dir", lower_dirs[i], err) < 0)
			return berr_prefix(err, "list changes");
		all[i] = true;
	}
	if (walk_dir(&d, fd, "", all,
		     value_is_y(fgetxattr(fd, OVERLAY_OPAQUE_XATTR, value, 2), value), &changed,
		     err) < 0) {
		image_changes_free(d.changes, d.n_changes);
		return berr_prefix(err, "list changes of %s", upper);
	}
	if (d.n_changes > 1)
		qsort(d.changes, d.n_changes, sizeof(*d.changes), change_cmp);
	*out = d.changes;
	*n_out = d.n_changes;
	return 0;
}

/*
 * Commit.
 */

/* The packer's side of the pipe between it and the blob writer. */
struct pack_job {
	const char *dir;
	int fd; /* the pipe's write end; closed by the packer */
	int r;
	struct berr *err;
};

static void *pack_main(void *arg)
{
	struct pack_job *job = arg;
	sigset_t pipe_sig;

	/* When the reader stops early, the write fails with EPIPE instead of
	 * a SIGPIPE killing the process; the signal stays pending on this
	 * thread and goes with it. */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	job->r = image_layer_pack(job->dir, job->fd, &job->err);
	close(job->fd);
	return NULL;
}

/* Packs UPPER into a new blob, hashed on the way: uncompressed, its digest
 * is the layer's DiffID and goes to BLOB.  A tar without entries is Docker's
 * empty layer: *empty is set and nothing is stored.  CREATED receives the
 * digest when the blob was not there before. */
static int store_layer_blob(struct image_store *st, const char *upper,
			    char blob[DIGEST_STRING_SIZE], char created[DIGEST_STRING_SIZE],
			    bool *empty, struct berr **err)
{
	_cleanup_(image_blob_writer_abort_cleanup) struct image_blob_writer *w = NULL;
	_cleanup_berr_ struct berr *rerr = NULL;
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	_cleanup_close_ int rfd = -1;
	struct pack_job job = { .dir = upper };
	struct digest_ctx *ctx = NULL;
	char digest[DIGEST_STRING_SIZE], none[DIGEST_STRING_SIZE];
	char zeros[1024] = { 0 };
	pthread_t thread;
	int pfd[2], e;
	bool existed;

	if (!buf || !(ctx = digest_new()))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "store layer");
	if (image_blob_writer_open(st->blobs, NULL, IMAGE_BLOB_SIZE_UNKNOWN, IMAGE_IMPORT_MAX, &w,
				   err) < 0)
		goto fail;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		berr_set(err, BERR_INTERNAL, errno, "pipe");
		goto fail;
	}
	rfd = pfd[0];
	job.fd = pfd[1];
	e = pthread_create(&thread, NULL, pack_main, &job);
	if (e != 0) {
		close(job.fd);
		berr_set(err, BERR_INTERNAL, e, "start packing %s", upper);
		goto fail;
	}
	for (;;) {
		ssize_t n = read(rfd, buf, COPY_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			berr_set(&rerr, BERR_INTERNAL, errno, "read packed layer");
			break;
		}
		if (n == 0)
			break;
		digest_update(ctx, buf, (size_t)n);
		if (image_blob_writer_write(w, buf, (size_t)n, &rerr) < 0)
			break;
	}
	/* Closing the read end stops a packer whose output is no longer
	 * wanted. */
	close(steal_fd(&rfd));
	pthread_join(thread, NULL);
	if (rerr) {
		berr_move(err, &rerr);
		berr_clear(&job.err);
		goto fail;
	}
	if (job.r < 0) {
		berr_move(err, &job.err);
		goto fail;
	}
	digest_final(ctx, digest);
	digest_free(ctx);
	ctx = NULL;

	/* Docker's layer.IsEmpty: the DiffID of a tar of two zero blocks. */
	digest_bytes(zeros, sizeof(zeros), none);
	if (strcmp(digest, none) == 0) {
		*empty = true;
		return 0;
	}
	existed = image_blob_exists(st->blobs, digest);
	if (image_blob_writer_commit(w, blob, err) < 0)
		return -1;
	if (!existed)
		memcpy(created, blob, DIGEST_STRING_SIZE);
	*empty = false;
	return 0;
fail:
	digest_free(ctx);
	return -1;
}

/* Replaces the run config of CFG by the container's own, the JSON object
 * TEXT, read as the "config" member of an image config. */
static int set_run_config(struct image_config *cfg, const char *text, struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *tmp = NULL;
	_cleanup_json_ json_t *rc = NULL;
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *doc_text = NULL;
	struct image_run_config swap;

	if (bjson_load(text, strlen(text), IMAGE_CONFIG_MAX, &rc, err) < 0 ||
	    bjson_as_object(rc, NULL, err) < 0)
		return berr_prefix(err, "container config");
	doc = json_pack("{s:s, s:s, s:{s:s, s:[]}, s:O}", "architecture", "", "os", "", "rootfs",
			"type", "layers", "diff_ids", "config", rc);
	doc_text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!doc_text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container config");
	if (image_config_parse(doc_text, strlen(doc_text), &tmp, err) < 0)
		return berr_prefix(err, "container");
	swap = cfg->config;
	cfg->config = tmp->config;
	tmp->config = swap; /* the parent's goes with TMP */
	return 0;
}

/* Replaces the string *DST by a copy of S (NULL or "" for none). */
static int replace_str(char **dst, const char *s, struct berr **err)
{
	char *c = NULL;

	if (s && *s && !(c = strdup(s)))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "commit");
	free(*dst);
	*dst = c;
	return 0;
}

/* Docker's history line of a commit: the container's command. */
static char *default_created_by(const struct image_commit_opts *opts)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	size_t len = 0;
	char *s;

	if (opts->created_by)
		return strdup(opts->created_by);
	cfg = image_config_new(NULL);
	if (!cfg)
		return NULL;
	if (!opts->run_config_json || set_run_config(cfg, opts->run_config_json, NULL) < 0 ||
	    strv_length(cfg->config.cmd) == 0)
		return strdup("/bin/sh");
	for (size_t i = 0; cfg->config.cmd[i]; i++)
		len += strlen(cfg->config.cmd[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	len = 0;
	for (size_t i = 0; cfg->config.cmd[i]; i++) {
		size_t n = strlen(cfg->config.cmd[i]);

		memcpy(s + len, cfg->config.cmd[i], n);
		len += n;
		s[len++] = ' ';
	}
	s[len - 1] = '\0';
	return s;
}

/* The config text to store: CFG, with "container" after "config" as Docker
 * writes it when CONTAINER is set. */
static int format_config(const struct image_config *cfg, const char *container, char **out,
			 size_t *len, struct berr **err)
{
	_cleanup_json_ json_t *o = NULL;
	_cleanup_json_ json_t *ordered = NULL;
	const char *key;
	json_t *value;
	char *text;

	if (!container || !*container)
		return image_config_format(cfg, out, len, err);
	o = image_config_to_json(cfg, err);
	if (!o)
		return -1;
	ordered = json_object();
	if (!ordered)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "format image config");
	json_object_foreach (o, key, value) {
		if (json_object_set(ordered, key, value) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "format image config");
		if (strcmp(key, "config") == 0 &&
		    json_object_set_new(ordered, "container", json_string(container)) < 0)
			return berr_set(err, BERR_INVALID, 0, "container id is not valid UTF-8");
	}
	text = json_dumps(ordered, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "format image config");
	*out = text;
	*len = strlen(text);
	return 0;
}

static void free_layers(struct store_layer **layers, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_layer_free(layers[i]);
	free(layers);
}

/* Records image SPEC (its layers: PARENT's, then TOP when not NULL) with
 * REF in one transaction and gives the new layer directory its name. */
static int commit_record(struct image_undo *u, const struct store_image *parent,
			 const struct store_layer *top, struct store_image_spec *spec,
			 const struct image_reference *ref, struct berr **err)
{
	struct store *db = u->st->db;
	_cleanup_(store_layer_free_cleanup) struct store_layer *known = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	_cleanup_free_ struct store_layer *layers = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *repo = NULL;
	_cleanup_free_ char *old_id = NULL;
	struct store_layer **found = NULL;
	size_t n = parent->n_layers;
	int r = -1;

	if (ref) {
		name = image_reference_format(ref, err);
		repo = name ? image_reference_repository(ref, err) : NULL;
		if (!repo)
			return -1;
	}
	layers = calloc(n + 1, sizeof(*layers));
	found = calloc(n + 1, sizeof(*found));
	if (!layers || !found) {
		free(found);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "record image");
	}
	if (store_begin(db, err) < 0)
		goto out;
	u->in_tx = true;
	/* Read inside the transaction: a parent removed meanwhile fails here
	 * instead of leaving an image on layers that are gone. */
	for (size_t i = 0; i < n; i++) {
		if (store_layer_lookup(db, parent->layers[i], &found[i], err) < 0) {
			berr_prefix(err, "parent image %s", parent->id);
			goto out;
		}
		layers[i] = *found[i];
	}
	if (top) {
		if (store_layer_lookup(db, top->chain_id, &known, &lerr) < 0 &&
		    lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			goto out;
		}
		if (known) {
			u->layer_known = true;
			if (known->blob_digest)
				snprintf(u->known_blob, sizeof(u->known_blob), "%s",
					 known->blob_digest);
		}
		layers[n++] = *top;
	}
	spec->layers = layers;
	spec->n_layers = n;
	if (store_image_add(db, spec, err) < 0)
		goto out;
	if (ref) {
		struct store_ref sref = { .name = name, .repo = repo, .tag = ref->tag };

		if (store_ref_add(db, &sref, spec->id, &old_id, err) < 0)
			goto out;
	}
	/* Named before the commit, as in an import: killed in between, the
	 * next open removes a layer directory the database does not know. */
	if (top && !known) {
		if (rename(u->tmp_dir, u->final_dir) < 0) {
			berr_set(err, BERR_INTERNAL, errno, "rename layer to %s", u->final_dir);
			goto out;
		}
		u->renamed = true;
	}
	if (store_commit(db, err) < 0)
		goto out;
	u->in_tx = false;
	u->renamed = false;
	if (old_id)
		blog_msg(BLOG_INFO, "%s moved from %s to %s", name, old_id, spec->id);
	r = 0;
out:
	free_layers(found, parent->n_layers);
	spec->layers = NULL;
	return r;
}

/* Unpacks blob BLOB into U->tmp_dir (named after NOW) and describes the
 * new layer on top of PARENT in *layer, whose strings live in U and in
 * CHAIN. */
static int unpack_layer(struct image_undo *u, const struct store_image *parent, char *blob,
			const struct timespec *now, char chain[DIGEST_STRING_SIZE],
			struct store_layer *layer, struct berr **err)
{
	static atomic_uint seq;
	_cleanup_close_ int bfd = -1;
	struct image_layer_info info;

	u->tmp_dir =
		str_printf("%s/commit-%d-%ld-%u.tmp-%.12s", u->st->layers_dir, (int)getpid(),
			   (long)now->tv_nsec, atomic_fetch_add(&seq, 1), blob + strlen("sha256:"));
	if (!u->tmp_dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "commit");
	bfd = image_blob_open(u->st->blobs, blob, err);
	if (bfd < 0 || image_layer_unpack(bfd, u->tmp_dir, &info, err) < 0)
		return -1;
	if (strcmp(info.diff_id, blob) != 0)
		return berr_set(err, BERR_INTERNAL, 0, "layer %s unpacked as %s", blob,
				info.diff_id);
	image_chain_id(parent->n_layers ? parent->layers[parent->n_layers - 1] : NULL, blob, chain);
	u->final_dir = str_printf("%s/%s", u->st->layers_dir, chain + strlen("sha256:"));
	if (!u->final_dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "commit");
	*layer = (struct store_layer){ .chain_id = chain,
				       .diff_id = blob,
				       .blob_digest = blob,
				       .path = u->final_dir,
				       .size = (int64_t)info.size,
				       .content_size = (int64_t)info.content_size };
	return 0;
}

/* The parent's config with what OPTS change in it, before the layer. */
static int commit_config(const struct store_image *parent, const struct image_commit_opts *opts,
			 struct image_config **out, struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;

	if (image_store_config(parent, &cfg, err) < 0)
		return -1;
	if (opts->run_config_json && set_run_config(cfg, opts->run_config_json, err) < 0)
		return -1;
	for (size_t i = 0; i < opts->n_changes; i++)
		if (image_config_apply_change(cfg, opts->changes[i], err) < 0)
			return -1;
	/* Docker's commit keeps the parent's author unless given one; the
	 * message goes to the history, and here to "comment" as well, which
	 * is what `docker inspect` shows of it. */
	if (opts->author && *opts->author && replace_str(&cfg->author, opts->author, err) < 0)
		return -1;
	if (replace_str(&cfg->comment, opts->comment, err) < 0)
		return -1;
	*out = steal_ptr(&cfg);
	return 0;
}

int image_commit(struct image_store *st, const char *parent_id, const char *upper,
		 const struct image_commit_opts *opts, char out[DIGEST_STRING_SIZE],
		 struct berr **err)
{
	static const struct image_commit_opts no_opts;
	_cleanup_(store_image_free_cleanup) struct store_image *parent = NULL;
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	_cleanup_free_ char *created_by = NULL;
	_cleanup_free_ char *text = NULL;
	struct image_undo u = { .st = st };
	struct store_layer layer = { 0 };
	struct store_image_spec spec;
	char blob[DIGEST_STRING_SIZE], id[DIGEST_STRING_SIZE], chain[DIGEST_STRING_SIZE];
	char created[TIME_RFC3339_SIZE];
	struct image_history *h;
	struct timespec now;
	bool empty = false;
	size_t len;

	if (!opts)
		opts = &no_opts;
	/* What can be refused without touching the store comes first. */
	if (check_dir("upper dir", upper, err) < 0)
		return berr_prefix(err, "commit");
	if (store_image_lookup(st->db, parent_id, &parent, &lerr) < 0) {
		if (lerr->kind == BERR_NOT_FOUND)
			return berr_set(err, BERR_NOT_FOUND, 0, "commit: No such image: %s",
					parent_id);
		berr_move(err, &lerr);
		return berr_prefix(err, "commit");
	}
	if (commit_config(parent, opts, &cfg, err) < 0)
		return berr_prefix(err, "commit");
	if (opts->reference && image_parse_tag(opts->reference, &ref, err) < 0)
		return berr_prefix(err, "commit");
	created_by = default_created_by(opts);
	if (!created_by)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "commit");

	clock_gettime(CLOCK_REALTIME, &now);
	time_format_rfc3339(&now, created);
	if (store_layer_blob(st, upper, blob, u.layer_blob, &empty, err) < 0)
		goto fail;
	if (!empty && (unpack_layer(&u, parent, blob, &now, chain, &layer, err) < 0 ||
		       image_config_add_diff_id(cfg, blob, err) < 0))
		goto fail;
	/* Docker records an empty layer in the history only. */
	if (replace_str(&cfg->created, created, err) < 0 ||
	    image_config_add_history(cfg, created, created_by, opts->comment, empty, err) < 0)
		goto fail;
	h = &cfg->history[cfg->n_history - 1];
	if (replace_str(&h->author, cfg->author, err) < 0 ||
	    format_config(cfg, opts->container_id, &text, &len, err) < 0 ||
	    image_put_blob(st, -1, text, len, id, u.config_blob, err) < 0)
		goto fail;

	spec = (struct store_image_spec){ .id = id,
					  .config = text,
					  .created = now.tv_sec,
					  .size = parent->size + (empty ? 0 : layer.content_size) };
	if (commit_record(&u, parent, empty ? NULL : &layer, &spec, ref, err) < 0)
		goto fail;

	/* Committed: the blobs are the image's now.  A layer the store had
	 * already keeps its own blob (when it had one) and this unpack is a
	 * spare copy. */
	u.config_blob[0] = '\0';
	if (!u.layer_known || !u.known_blob[0] || strcmp(u.known_blob, blob) == 0)
		u.layer_blob[0] = '\0';
	image_undo_run(&u);
	memcpy(out, id, DIGEST_STRING_SIZE);
	return 0;
fail:
	image_undo_run(&u);
	return berr_prefix(err, "commit");
}

/*
 * Export.
 */

/* In the export child: mounts DIRS at TARGET in a mount namespace of its
 * own, packs it to FD, and on failure writes "kind errno message" to
 * ERR_FD.  Returns the exit status. */
static int export_child(const char *const *dirs, size_t n, const char *target, int fd, int err_fd)
{
	struct berr *err = NULL;
	int r;

	/* The mount lives as long as this namespace: the child's life. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	if (unshare(CLONE_NEWNS) < 0) {
		berr_set(&err, BERR_INTERNAL, errno, "new mount namespace");
		goto fail;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		berr_set(&err, BERR_INTERNAL, errno, "make mounts private");
		goto fail;
	}
	if (image_mount_overlay(dirs, n, NULL, NULL, target, &err) < 0)
		goto fail;
	r = image_layer_pack(target, fd, &err);
	image_unmount(target, NULL);
	if (r == 0)
		return 0;
fail:
	dprintf(err_fd, "%d %d %s", (int)err->kind, err->sys_errno, err->msg);
	berr_free(err);
	return 1;
}

/* Runs export_child() in a child process and turns what it reported into
 * *err. */
static int export_mounted(const char *const *dirs, size_t n, int fd, struct berr **err)
{
	char target[] = "/tmp/berth-export-XXXXXX";
	char msg[EXPORT_MSG_MAX];
	size_t used = 0;
	int pfd[2], status = 0, kind = BERR_INTERNAL, sys_errno = 0, off = 0;
	pid_t pid, r;

	if (!mkdtemp(target))
		return berr_set(err, BERR_INTERNAL, errno, "make a mount point");
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		berr_set(err, BERR_INTERNAL, errno, "pipe");
		rmdir(target);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		berr_set(err, BERR_INTERNAL, errno, "fork");
		close(pfd[0]);
		close(pfd[1]);
		rmdir(target);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		_exit(export_child(dirs, n, target, fd, pfd[1]));
	}
	close(pfd[1]);
	for (;;) {
		ssize_t got = read(pfd[0], msg + used, sizeof(msg) - 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
	}
	msg[used] = '\0';
	close(pfd[0]);
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	rmdir(target);
	if (r < 0)
		return berr_set(err, BERR_INTERNAL, errno, "wait for the export process");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (used > 0 && sscanf(msg, "%d %d %n", &kind, &sys_errno, &off) == 2 && off > 0) {
		/* The message already carries the errno's text. */
		berr_set(err, (enum berr_kind)kind, 0, "%s", msg + off);
		if (err && *err)
			(*err)->sys_errno = sys_errno;
		return -1;
	}
	if (WIFSIGNALED(status))
		return berr_set(err, BERR_INTERNAL, 0, "export process killed by signal %d",
				WTERMSIG(status));
	return berr_set(err, BERR_INTERNAL, 0, "export process failed with status %d",
			WEXITSTATUS(status));
}

int image_export(const char *const *lower_dirs, size_t n, const char *upper, int fd,
		 struct berr **err)
{
	_cleanup_free_ const char **dirs = calloc(n + 1, sizeof(*dirs));
	size_t total = 0;

	if (!dirs)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "export");
	for (size_t i = 0; i < n; i++)
		dirs[total++] = lower_dirs[i];
	if (upper)
		dirs[total++] = upper; /* the topmost layer: its whiteouts hide */
	if (total == 0)
		return berr_set(err, BERR_INVALID, 0, "export: no directory to export");
	for (size_t i = 0; i < total; i++)
		if (check_dir(dirs[i] == upper ? "upper dir" : "lower dir", dirs[i], err) < 0)
			return berr_prefix(err, "export");
	if (total == 1) {
		if (image_layer_pack(dirs[0], fd, err) < 0)
			return berr_prefix(err, "export");
		return 0;
	}
	if (export_mounted(dirs, total, fd, err) < 0)
		return berr_prefix(err, "export");
	return 0;
}
