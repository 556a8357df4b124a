/* `docker load`: an image archive read once, as a stream.  Every regular
 * file goes into the blob store as it passes (hashed on the way, and
 * checked against its name when that name is blobs/sha256/<hex>); links
 * are remembered as names of other entries of the archive.  Then the
 * manifests (manifest.json of a docker-archive, else index.json of an OCI
 * layout) say which configs and layers make which images, the layers the
 * store lacks are unpacked in parallel into temporary directories, and all
 * images and tags are recorded in one transaction.  Every step has an undo
 * entry, so a failure leaves the store as it was. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "image/reference.h"
#include "lib/array.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/parallel.h"
#include "lib/safepath.h"
#include "lib/timefmt.h"

#define LOAD_CHUNK (64 * 1024)

/* Entries accepted in one archive, so a hostile one cannot make the
 * loader remember without bound. */
#define LOAD_MAX_ENTRIES (64 * 1024)

/* All JSON files kept in memory together; beyond it they are read back
 * from the blob store when needed. */
#define LOAD_KEPT_MAX (64 * 1024 * 1024)

/* Layers of one image: far more than overlayfs can stack, so a hostile
 * manifest cannot ask for unpacks without end. */
#define LOAD_MAX_LAYERS 1024

/* Links followed to find one file, and image indexes nested in one
 * another, before the archive is refused. */
#define LOAD_MAX_LINKS	     16
#define LOAD_MAX_INDEX_DEPTH 4

/* Bytes read after the end of the tar (its padding, a compressor's
 * trailer) so a writer on a pipe is not cut off. */
#define LOAD_TRAILER_MAX (1024 * 1024)

/* Annotations naming an image in an OCI index (image-spec
 * annotations.md, and what containerd and Docker 25+ write). */
#define ANNOTATION_REF_NAME   "org.opencontainers.image.ref.name"
#define ANNOTATION_IMAGE_NAME "io.containerd.image.name"

enum entry_kind {
	ENTRY_FILE,
	ENTRY_LINK, /* a symlink or hardlink: TARGET names another entry */
};

/* One file or link of the archive. */
struct entry {
	char *name; /* clean and relative: "abc/layer.tar" */
	enum entry_kind kind;
	char *target; /* ENTRY_LINK: clean, from the archive's root */
	char digest[DIGEST_STRING_SIZE];
	uint64_t size;
	char *data; /* a kept JSON file, NUL-terminated; or NULL */
	size_t seq; /* position in the archive: of equal names the last wins */
};

/* A layer this load unpacks, once however many images use it. */
struct load_job {
	char chain[DIGEST_STRING_SIZE];
	char diff[DIGEST_STRING_SIZE];
	char blob[DIGEST_STRING_SIZE];
	char *file; /* the layer's name in the archive, for messages */
	char *tmp_dir;
	char *final_dir;
	uint64_t size;
	uint64_t content_size;
	bool known;   /* the store had it by the time of recording */
	bool renamed; /* tmp_dir went to final_dir, not yet committed */
	struct berr *err;
};

/* One image of the archive, in the order of its manifest. */
struct load_image {
	char id[DIGEST_STRING_SIZE];
	char *config; /* the config text */
	int64_t created;
	struct store_layer *layers; /* every string owned; bottom layer first */
	size_t n_layers;
	struct store_ref *refs; /* every string owned */
	size_t n_refs;
	char **familiar; /* the tags as `docker load` prints them */
};

struct load {
	struct image_store *st;
	struct entry *entries;
	size_t n_entries, cap_entries;
	size_t kept;			     /* bytes of JSON kept in memory */
	size_t configs;			     /* bytes of the images' configs */
	uint64_t total;			     /* bytes of file data read */
	char (*created)[DIGEST_STRING_SIZE]; /* blobs this load added */
	size_t n_created, cap_created;
	struct load_job *jobs;
	size_t n_jobs, cap_jobs;
	struct load_image *images;
	size_t n_images, cap_images;
	char *arch; /* this machine's, in Go's names */
	char *buf;
	bool in_tx;
};

/* Names of temporary layer directories, unique within the process. */
static atomic_uint load_seq;

static void entry_clear(struct entry *e)
{
	free(e->name);
	free(e->target);
	free(e->data);
}

static void ref_clear(struct store_ref *r)
{
	free(r->name);
	free(r->repo);
	free(r->tag);
	free(r->digest);
}

static void image_clear(struct load_image *img)
{
	free(img->config);
	store_layer_list_free(img->layers, img->n_layers);
	for (size_t i = 0; i < img->n_refs; i++)
		ref_clear(&img->refs[i]);
	free(img->refs);
	strv_free(img->familiar);
}

/* Undoes what is left to undo and frees everything LD holds. */
static void load_finish(struct load *ld)
{
	if (ld->in_tx)
		store_rollback(ld->st->db);
	for (size_t i = 0; i < ld->n_jobs; i++) {
		struct load_job *j = &ld->jobs[i];

		if (j->renamed && rename(j->final_dir, j->tmp_dir) < 0)
			fs_remove_tree(j->final_dir, NULL);
		if (j->tmp_dir)
			fs_remove_tree(j->tmp_dir, NULL);
		free(j->file);
		free(j->tmp_dir);
		free(j->final_dir);
		berr_free(j->err);
	}
	for (size_t i = 0; i < ld->n_created; i++)
		image_blob_delete(ld->st->blobs, ld->created[i], NULL);
	for (size_t i = 0; i < ld->n_entries; i++)
		entry_clear(&ld->entries[i]);
	for (size_t i = 0; i < ld->n_images; i++)
		image_clear(&ld->images[i]);
	free(ld->jobs);
	free(ld->created);
	free(ld->entries);
	free(ld->images);
	free(ld->arch);
	free(ld->buf);
}

static const char *archive_msg(struct archive *a)
{
	const char *msg = archive_error_string(a);

	return msg ? msg : "truncated or malformed archive";
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void digest_freep(struct digest_ctx **ctx)
{
	digest_free(*ctx);
}

/* The entry a symlink at NAME pointing at TARGET names, from the archive's
 * root: relative targets start at the link's directory, absolute ones at
 * the root, and ".." stops at the root.  It is a name inside the archive,
 * never a path of the host. */
static char *link_target(const char *name, const char *target, struct berr **err)
{
	_cleanup_free_ char *joined = NULL;
	_cleanup_free_ char *clean = NULL;
	const char *slash = strrchr(name, '/');
	int dir_len = slash ? (int)(slash - name) : 0;

	if (target[0] == '/')
		joined = strdup(target);
	else
		joined = str_printf("/%.*s/%s", dir_len, name, target);
	if (!joined) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "resolve link %s", name);
		return NULL;
	}
	clean = safepath_clean(joined, err);
	if (!clean)
		return NULL;
	return strdup(clean + 1);
}

/* Whether the file NAME is one the manifests may need as text. */
static bool wants_json(const char *name)
{
	return strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0 ||
	       strcmp(name, "repositories") == 0 || strcmp(name, "oci-layout") == 0 ||
	       str_has_suffix(name, ".json");
}

/* The digest "blobs/sha256/<hex>" says its content has, into OUT; "" for
 * any other name. */
static void digest_of_name(const char *name, char out[DIGEST_STRING_SIZE])
{
	const char *hex;

	out[0] = '\0';
	if (!str_has_prefix(name, "blobs/sha256/"))
		return;
	hex = name + strlen("blobs/sha256/");
	snprintf(out, DIGEST_STRING_SIZE, "sha256:%.64s", hex);
	if (strlen(hex) != 64 || !digest_is_valid(out))
		out[0] = '\0';
}

/* Streams the data of the current entry of A into the blob store as the
 * file E, keeping it in memory when it may be a manifest. */
static int stream_file(struct load *ld, struct archive *a, struct entry *e, int64_t hdr_size,
		       struct berr **err)
{
	_cleanup_(image_blob_writer_abort_cleanup) struct image_blob_writer *w = NULL;
	_cleanup_(digest_freep) struct digest_ctx *ctx = digest_new();
	char expected[DIGEST_STRING_SIZE];
	size_t cap = 0;

	if (!ctx)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read %s", e->name);
	digest_of_name(e->name, expected);
	if (wants_json(e->name) && hdr_size >= 0 && hdr_size <= IMAGE_ARCHIVE_JSON_MAX &&
	    (size_t)hdr_size <= LOAD_KEPT_MAX - ld->kept) {
		cap = (size_t)hdr_size;
		e->data = malloc(cap + 1);
		if (!e->data)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "read %s", e->name);
		ld->kept += cap;
	}
	/* A blob already stored under the name only has to be checked. */
	if (!(expected[0] && image_blob_exists(ld->st->blobs, expected)) &&
	    image_blob_writer_open(ld->st->blobs, NULL, IMAGE_BLOB_SIZE_UNKNOWN, 0, &w, err) < 0)
		return berr_prefix(err, "store %s", e->name);
	for (;;) {
		la_ssize_t n = archive_read_data(a, ld->buf, LOAD_CHUNK);

		if (n < 0)
			return berr_set(err, BERR_INVALID, 0, "read %s: %s", e->name,
					archive_msg(a));
		if (n == 0)
			break;
		if ((uint64_t)n > IMAGE_ARCHIVE_MAX - ld->total)
			return berr_set(err, BERR_INVALID, 0,
					"archive holds more than %" PRIu64 " bytes",
					(uint64_t)IMAGE_ARCHIVE_MAX);
		ld->total += (uint64_t)n;
		digest_update(ctx, ld->buf, (size_t)n);
		if (w && image_blob_writer_write(w, ld->buf, (size_t)n, err) < 0)
			return berr_prefix(err, "store %s", e->name);
		if (e->data && (size_t)n > cap - e->size) {
			/* More than the header said: not kept then. */
			free(steal_ptr(&e->data));
		} else if (e->data) {
			memcpy(e->data + e->size, ld->buf, (size_t)n);
		}
		e->size += (uint64_t)n;
	}
	if (e->data)
		e->data[e->size] = '\0';
	digest_final(ctx, e->digest);
	digest_free(steal_ptr(&ctx));
	if (expected[0] && strcmp(expected, e->digest) != 0)
		return berr_set(err, BERR_INVALID, 0, "digest mismatch: %s holds content of %s",
				e->name, e->digest);
	if (w) {
		char got[DIGEST_STRING_SIZE];
		bool existed = image_blob_exists(ld->st->blobs, e->digest);

		if (image_blob_writer_commit(w, got, err) < 0)
			return berr_prefix(err, "store %s", e->name);
		if (!existed) {
			if (array_grow(&ld->created, &ld->cap_created, ld->n_created,
				       sizeof(*ld->created)) < 0) {
				/* Known to nobody now: remove it before failing. */
				image_blob_delete(ld->st->blobs, got, NULL);
				return berr_set(err, BERR_INTERNAL, ENOMEM, "store %s", e->name);
			}
			memcpy(ld->created[ld->n_created++], got, DIGEST_STRING_SIZE);
		}
	}
	return 0;
}

/* Reads the header of the current entry of A into a new entry. */
static int read_entry(struct load *ld, struct archive *a, struct archive_entry *ae,
		      struct berr **err)
{
	_cleanup_free_ char *name = NULL;
	const char *hardlink = archive_entry_hardlink(ae);
	mode_t type = archive_entry_filetype(ae);
	struct entry *e;

	if (image_entry_name_clean("archive entry", archive_entry_pathname(ae), &name, err) < 0)
		return -1;
	if (!hardlink && type != AE_IFREG && type != AE_IFLNK)
		return 0; /* directories and the like name nothing a manifest uses */
	if (!name[0])
		return berr_set(err, BERR_INVALID, 0, "archive entry \"%s\" names no file",
				archive_entry_pathname(ae));
	if (ld->n_entries >= LOAD_MAX_ENTRIES)
		return berr_set(err, BERR_INVALID, 0, "archive has more than %d entries",
				LOAD_MAX_ENTRIES);
	if (array_grow(&ld->entries, &ld->cap_entries, ld->n_entries, sizeof(*ld->entries)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read archive");
	e = &ld->entries[ld->n_entries++];
	memset(e, 0, sizeof(*e));
	e->name = steal_ptr(&name);
	e->seq = ld->n_entries;
	if (hardlink) {
		/* A hardlink names another entry from the archive's root. */
		e->kind = ENTRY_LINK;
		return image_entry_name_clean("hardlink target", hardlink, &e->target, err);
	}
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(ae);

		if (!target || !target[0])
			return berr_set(err, BERR_INVALID, 0, "symlink %s has no target", e->name);
		e->kind = ENTRY_LINK;
		e->target = link_target(e->name, target, err);
		return e->target ? 0 : -1;
	}
	e->kind = ENTRY_FILE;
	return stream_file(ld, a, e, archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1,
			   err);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts the entries by name for lookups, keeping only the last of equal
 * names, as extracting the tar would. */
static void index_entries(struct load *ld)
{
	size_t out = 0;

	qsort(ld->entries, ld->n_entries, sizeof(*ld->entries), entry_cmp);
	for (size_t i = 0; i < ld->n_entries; i++) {
		if (i + 1 < ld->n_entries &&
		    strcmp(ld->entries[i].name, ld->entries[i + 1].name) == 0) {
			entry_clear(&ld->entries[i]);
			continue;
		}
		ld->entries[out++] = ld->entries[i];
	}
	ld->n_entries = out;
}

/* Reads FD to its end through libarchive, every file into the blob
 * store. */
static int read_archive(struct load *ld, int fd, struct berr **err)
{
	_cleanup_(archive_freep) struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r;

	if (!a)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read archive");
	image_layer_read_filters(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, LOAD_CHUNK) != ARCHIVE_OK)
		return berr_set(err, BERR_INVALID, 0, "read archive: %s", archive_msg(a));
	while ((r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return berr_set(err, BERR_INVALID, 0, "read archive: %s", archive_msg(a));
		if (read_entry(ld, a, ae, err) < 0)
			return -1;
	}
	/* The rest of the stream is padding; read it so a writer on a pipe
	 * finishes, but no more than a trailer can hold. */
	for (size_t drained = 0; drained < LOAD_TRAILER_MAX;) {
		ssize_t n = read(fd, ld->buf, LOAD_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		drained += (size_t)n;
	}
	index_entries(ld);
	return 0;
}

static const struct entry *find_entry(struct load *ld, const char *name)
{
	for (size_t lo = 0, hi = ld->n_entries; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, ld->entries[mid].name);

		if (c == 0)
			return &ld->entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The file PATH (clean) names, following links in any of its components;
 * NULL when there is none.  *too_deep tells a link loop from a miss. */
static const struct entry *resolve(struct load *ld, const char *path, bool *too_deep)
{
	_cleanup_free_ char *cur = strdup(path);

	*too_deep = false;
	for (int hops = 0; cur && hops <= LOAD_MAX_LINKS; hops++) {
		size_t len = strlen(cur);
		bool followed = false;

		for (size_t end = 1; end <= len && !followed; end++) {
			const struct entry *e;
			char saved = cur[end];
			char *next;

			if (end < len && cur[end] != '/')
				continue;
			cur[end] = '\0';
			e = find_entry(ld, cur);
			cur[end] = saved;
			if (!e)
				continue;
			if (e->kind == ENTRY_FILE)
				return end == len ? e : NULL;
			next = e->target[0] ? str_printf("%s%s", e->target, cur + end)
					    : strdup(cur + end + (cur[end] == '/'));
			free(cur);
			cur = next;
			followed = true;
		}
		if (!followed)
			return NULL;
	}
	*too_deep = cur != NULL;
	return NULL;
}

/* The file PATH names, which WHO (a manifest) asks for. */
static int lookup(struct load *ld, const char *who, const char *path, const struct entry **out,
		  struct berr **err)
{
	_cleanup_free_ char *clean = NULL;
	const struct entry *e;
	char expected[DIGEST_STRING_SIZE];
	bool too_deep;

	if (image_entry_name_clean(who, path, &clean, err) < 0)
		return berr_prefix(err, "%s names a file outside the archive", who);
	e = resolve(ld, clean, &too_deep);
	if (too_deep)
		return berr_set(err, BERR_INVALID, 0, "%s names %s: too many levels of links", who,
				path);
	if (!e)
		return berr_set(err, BERR_INVALID, 0, "%s names a missing file: %s", who, path);
	/* A file streamed under a blob name was checked; one reached
	 * through a link under such a name is checked here. */
	digest_of_name(clean, expected);
	if (expected[0] && strcmp(expected, e->digest) != 0)
		return berr_set(err, BERR_INVALID, 0, "digest mismatch: %s holds content of %s",
				path, e->digest);
	*out = e;
	return 0;
}

/* The content of the file PATH names, at most MAX bytes, into a new
 * NUL-terminated buffer *out of *len bytes; *found (may be NULL) gets the
 * file. */
static int read_member(struct load *ld, const char *who, const char *path, size_t max, char **out,
		       size_t *len, const struct entry **found, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	const struct entry *e;

	if (lookup(ld, who, path, &e, err) < 0)
		return -1;
	if (e->size > max)
		return berr_set(err, BERR_INVALID, 0, "%s is larger than %zu bytes", path, max);
	if (found)
		*found = e;
	if (e->data) {
		*out = malloc(e->size + 1);
		if (!*out)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "read %s", path);
		memcpy(*out, e->data, e->size + 1);
		*len = e->size;
		return 0;
	}
	fd = image_blob_open(ld->st->blobs, e->digest, err);
	if (fd < 0 || fs_read_all_fd(fd, max, out, len, err) < 0)
		return berr_prefix(err, "read %s", path);
	return 0;
}

/* The JSON document of the file PATH names. */
static int read_json(struct load *ld, const char *who, const char *path, json_t **out,
		     const struct entry **found, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (read_member(ld, who, path, IMAGE_ARCHIVE_JSON_MAX, &text, &len, found, err) < 0)
		return -1;
	if (bjson_load(text, len, IMAGE_ARCHIVE_JSON_MAX, out, err) < 0)
		return berr_prefix(err, "%s", path);
	return 0;
}

static struct load_job *find_job(struct load *ld, const char *chain)
{
	for (size_t i = 0; i < ld->n_jobs; i++)
		if (strcmp(ld->jobs[i].chain, chain) == 0)
			return &ld->jobs[i];
	return NULL;
}

/* The store has layer KNOWN, so the archive's file FILE (blob BLOB) is not
 * unpacked; as Docker does, it must still hold that layer.  An uncompressed
 * file is its own DiffID and a blob the store recorded was checked when it
 * was unpacked; anything else is decompressed and hashed. */
static int check_known_layer(struct load *ld, const struct store_layer *known, const char *diff,
			     const char *blob, const char *file, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	struct image_layer_info info;

	if (strcmp(blob, diff) == 0 ||
	    (known->blob_digest && strcmp(known->blob_digest, blob) == 0))
		return 0;
	fd = image_blob_open(ld->st->blobs, blob, err);
	if (fd < 0 || image_layer_diff_id(fd, &info, err) < 0)
		return berr_prefix(err, "layer %s", file);
	if (strcmp(info.diff_id, diff) != 0)
		return berr_set(err, BERR_INVALID, 0,
				"layer DiffID mismatch: %s holds %s, the config says %s", file,
				info.diff_id, diff);
	return 0;
}

/* Queues the unpack of layer CHAIN unless the store or an earlier image of
 * the archive has it; the sizes of L are set when the store has it. */
static int want_layer(struct load *ld, const char *chain, const char *diff, const char *blob,
		      const char *file, struct store_layer *l, struct berr **err)
{
	_cleanup_(store_layer_free_cleanup) struct store_layer *known = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	struct load_job *j;

	if (store_layer_lookup(ld->st->db, chain, &known, &lerr) == 0) {
		l->size = known->size;
		l->content_size = known->content_size;
		return check_known_layer(ld, known, diff, blob, file, err);
	}
	if (lerr->kind != BERR_NOT_FOUND) {
		berr_move(err, &lerr);
		return -1;
	}
	if (find_job(ld, chain))
		return 0;
	if (array_grow(&ld->jobs, &ld->cap_jobs, ld->n_jobs, sizeof(*ld->jobs)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load layer %s", file);
	j = &ld->jobs[ld->n_jobs++];
	memset(j, 0, sizeof(*j));
	memcpy(j->chain, chain, DIGEST_STRING_SIZE);
	memcpy(j->diff, diff, DIGEST_STRING_SIZE);
	memcpy(j->blob, blob, DIGEST_STRING_SIZE);
	j->file = strdup(file);
	j->final_dir = str_printf("%s/%s", ld->st->layers_dir, chain + strlen("sha256:"));
	j->tmp_dir = str_printf("%s/load-%d-%u.tmp-%.12s", ld->st->layers_dir, (int)getpid(),
				atomic_fetch_add(&load_seq, 1), chain + strlen("sha256:"));
	if (!j->file || !j->final_dir || !j->tmp_dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load layer %s", file);
	return 0;
}

/* Adds the image whose config is the file CONFIG and whose layers are the
 * files LAYERS (N of them; LAYER_SIZES, when not NULL, the sizes the
 * manifest WHO gives them).  On success *out points at the new image. */
static int add_image(struct load *ld, const char *who, const char *config, char *const *layers,
		     const int64_t *layer_sizes, size_t n, struct load_image **out,
		     struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	struct load_image *img;
	struct timespec created;
	char parent[DIGEST_STRING_SIZE];
	size_t len;

	if (array_grow(&ld->images, &ld->cap_images, ld->n_images, sizeof(*ld->images)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load image");
	img = &ld->images[ld->n_images++];
	memset(img, 0, sizeof(*img));
	if (n > LOAD_MAX_LAYERS)
		return berr_set(err, BERR_INVALID, 0, "%s: an image has more than %d layers", who,
				LOAD_MAX_LAYERS);
	if (read_member(ld, who, config, IMAGE_CONFIG_MAX, &img->config, &len, NULL, err) < 0)
		return -1;
	/* Each image keeps its config text until the commit. */
	if (len > LOAD_KEPT_MAX - ld->configs)
		return berr_set(err, BERR_INVALID, 0, "%s: the configs hold more than %d bytes",
				who, LOAD_KEPT_MAX);
	ld->configs += len;
	/* An image id is the digest of its config, whatever the file is
	 * called. */
	digest_bytes(img->config, len, img->id);
	if (image_config_parse(img->config, len, &cfg, err) < 0)
		return berr_prefix(err, "config %s", config);
	if (strcmp(cfg->os, "linux") != 0)
		return berr_set(err, BERR_INVALID, 0,
				"image operating system \"%s\" cannot be used on this platform",
				cfg->os);
	if (strv_length(cfg->diff_ids) != n)
		return berr_set(err, BERR_INVALID, 0,
				"%s: image %s has %zu layers in its config (rootfs.diff_ids) but "
				"the manifest names %zu",
				who, img->id, strv_length(cfg->diff_ids), n);
	img->created = time_parse_rfc3339(cfg->created, &created) == 0 ? created.tv_sec : 0;
	img->layers = calloc(n ? n : 1, sizeof(*img->layers));
	if (!img->layers)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load image");
	for (size_t i = 0; i < n; i++) {
		struct store_layer *l = &img->layers[i];
		const struct entry *e;
		char chain[DIGEST_STRING_SIZE];

		img->n_layers++;
		if (lookup(ld, who, layers[i], &e, err) < 0)
			return -1;
		if (layer_sizes && layer_sizes[i] >= 0 && (uint64_t)layer_sizes[i] != e->size)
			return berr_set(err, BERR_INVALID, 0,
					"%s: size mismatch for layer %s: the manifest says %" PRId64
					" bytes, the file has %" PRIu64,
					who, layers[i], layer_sizes[i], e->size);
		image_chain_id(i ? parent : NULL, cfg->diff_ids[i], chain);
		memcpy(parent, chain, DIGEST_STRING_SIZE);
		l->chain_id = strdup(chain);
		l->diff_id = strdup(cfg->diff_ids[i]);
		l->blob_digest = strdup(e->digest);
		l->path = str_printf("%s/%s", ld->st->layers_dir, chain + strlen("sha256:"));
		l->size = -1;
		if (!l->chain_id || !l->diff_id || !l->blob_digest || !l->path)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load image");
		if (want_layer(ld, chain, cfg->diff_ids[i], e->digest, layers[i], l, err) < 0)
			return -1;
	}
	*out = img;
	return 0;
}

/* Gives IMG the tag REF (a parsed reference with a tag). */
static int add_tag(struct load_image *img, const struct image_reference *ref, struct berr **err)
{
	_cleanup_free_ char *name = image_reference_format(ref, err);
	_cleanup_free_ char *repo = name ? image_reference_repository(ref, err) : NULL;
	_cleanup_free_ char *familiar = repo ? image_reference_format_familiar(ref, err) : NULL;
	struct store_ref *r;
	size_t cap = img->n_refs;

	if (!familiar)
		return -1;
	for (size_t i = 0; i < img->n_refs; i++)
		if (strcmp(img->refs[i].name, name) == 0)
			return 0;
	if (array_grow(&img->refs, &cap, img->n_refs, sizeof(*img->refs)) < 0 ||
	    strv_append(&img->familiar, familiar) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "tag %s", familiar);
	r = &img->refs[img->n_refs++];
	memset(r, 0, sizeof(*r));
	r->name = steal_ptr(&name);
	r->repo = steal_ptr(&repo);
	r->tag = strdup(ref->tag);
	if (!r->tag)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "tag %s", familiar);
	return 0;
}

/* The images of a docker-archive's manifest.json: [{"Config": "<hex>.json",
 * "RepoTags": ["busybox:latest"], "Layers": ["<id>/layer.tar", ...]}]. */
static int load_docker(struct load *ld, struct berr **err)
{
	_cleanup_json_ json_t *doc = NULL;
	json_t *item;
	size_t i;

	if (read_json(ld, "the archive", "manifest.json", &doc, NULL, err) < 0)
		return -1;
	if (bjson_as_array(doc, NULL, err) < 0)
		return berr_prefix(err, "manifest.json");
	json_array_foreach (doc, i, item) {
		const struct bjson_path *path = BJSON_INDEX(NULL, i);
		_cleanup_strv_ char **tags = NULL;
		_cleanup_strv_ char **layers = NULL;
		struct load_image *img;
		const char *config;

		if (bjson_as_object(item, path, err) < 0 ||
		    bjson_get_string(item, path, "Config", BJSON_REQUIRED, &config, err) < 0 ||
		    bjson_get_strv(item, path, "RepoTags", BJSON_OPTIONAL, &tags, err) < 0 ||
		    bjson_get_strv(item, path, "Layers", BJSON_OPTIONAL, &layers, err) < 0)
			return berr_prefix(err, "manifest.json");
		if (add_image(ld, "manifest.json", config, layers, NULL, strv_length(layers), &img,
			      err) < 0)
			return -1;
		for (size_t t = 0; tags && tags[t]; t++) {
			_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;

			/* As Docker: each one a name with a tag, nothing else. */
			if (image_reference_parse_name(tags[t], &ref, NULL) < 0 || !ref->tag ||
			    ref->digest)
				return berr_set(err, BERR_INVALID, 0,
						"manifest.json: invalid tag \"%s\"", tags[t]);
			if (add_tag(img, ref, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* An OCI descriptor: {"mediaType", "digest", "size"}. */
struct descriptor {
	const char *media_type; /* NULL when absent */
	const char *digest;
	int64_t size;			    /* -1 when absent */
	char path[DIGEST_STRING_SIZE + 16]; /* "blobs/sha256/<hex>" */
};

static int parse_descriptor(const json_t *v, const struct bjson_path *path, struct descriptor *d,
			    struct berr **err)
{
	memset(d, 0, sizeof(*d));
	d->size = -1;
	if (bjson_as_object(v, path, err) < 0 ||
	    bjson_get_string(v, path, "mediaType", BJSON_OPTIONAL, &d->media_type, err) < 0 ||
	    bjson_get_string(v, path, "digest", BJSON_REQUIRED, &d->digest, err) < 0 ||
	    bjson_get_int64(v, path, "size", BJSON_OPTIONAL, 0, INT64_MAX, &d->size, err) < 0)
		return -1;
	if (!digest_is_valid(d->digest))
		return bjson_error(err, BJSON_KEY(path, "digest"), "unsupported digest");
	snprintf(d->path, sizeof(d->path), "blobs/sha256/%s", d->digest + strlen("sha256:"));
	return 0;
}

static bool media_is(const char *mt, const char *a, const char *b)
{
	return mt && (strcmp(mt, a) == 0 || strcmp(mt, b) == 0);
}

/* Whether MT is a layer media type the unpacker reads (it finds the
 * compression itself). */
static bool layer_media_ok(const char *mt)
{
	static const char *const ok[] = {
		IMAGE_MEDIA_OCI_LAYER,	  IMAGE_MEDIA_OCI_LAYER_GZIP,	 IMAGE_MEDIA_OCI_LAYER_ZSTD,
		IMAGE_MEDIA_DOCKER_LAYER, IMAGE_MEDIA_DOCKER_LAYER_GZIP,
	};

	for (size_t i = 0; mt && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

/* The JSON blob descriptor D names, checked against the size D gives. */
static int read_blob_json(struct load *ld, const char *who, const struct descriptor *d,
			  json_t **out, struct berr **err)
{
	const struct entry *e = NULL;

	if (read_json(ld, who, d->path, out, &e, err) < 0)
		return -1;
	if (d->size >= 0 && (uint64_t)d->size != e->size) {
		json_decref(steal_ptr(out));
		return berr_set(err, BERR_INVALID, 0,
				"%s: size mismatch for %s: the descriptor says %" PRId64
				" bytes, the file has %" PRIu64,
				who, d->path, d->size, e->size);
	}
	return 0;
}

/* How well a manifest of an index fits this machine: 2 linux on this
 * architecture, 1 linux elsewhere (or no platform said), 0 not to load
 * (another os, or attestations with "unknown"). */
static int platform_rank(struct load *ld, const json_t *desc)
{
	json_t *platform = json_object_get(desc, "platform");
	const char *os, *arch;

	if (!json_is_object(platform))
		return 1;
	os = json_string_value(json_object_get(platform, "os"));
	arch = json_string_value(json_object_get(platform, "architecture"));
	if (!os || strcmp(os, "linux") != 0)
		return 0;
	return arch && strcmp(arch, ld->arch) == 0 ? 2 : 1;
}

/* The image manifest descriptor D leads to, through image indexes: from
 * an index, the linux manifest of this machine's architecture, else the
 * first linux one, among those whose blob the archive holds. */
static int find_manifest(struct load *ld, const char *who, const struct descriptor *d, int depth,
			 json_t **out, struct berr **err)
{
	_cleanup_json_ json_t *doc = NULL;
	const struct bjson_path *mp = BJSON_KEY(NULL, "manifests");
	struct descriptor best = { 0 };
	int best_rank = 0;
	bool best_present = false;
	json_t *list = NULL, *child;
	size_t i;

	if (depth > LOAD_MAX_INDEX_DEPTH)
		return berr_set(err, BERR_INVALID, 0, "%s: image indexes nested too deep", who);
	if (d->media_type &&
	    !media_is(d->media_type, IMAGE_MEDIA_OCI_INDEX, IMAGE_MEDIA_DOCKER_LIST) &&
	    !media_is(d->media_type, IMAGE_MEDIA_OCI_MANIFEST, IMAGE_MEDIA_DOCKER_MANIFEST))
		return berr_set(err, BERR_INVALID, 0, "%s: unsupported media type \"%s\"", who,
				d->media_type);
	if (read_blob_json(ld, who, d, &doc, err) < 0)
		return -1;
	if (bjson_as_object(doc, NULL, err) < 0)
		return berr_prefix(err, "%s", d->path);
	/* Without a media type the document itself says what it is. */
	if (d->media_type ? !media_is(d->media_type, IMAGE_MEDIA_OCI_INDEX, IMAGE_MEDIA_DOCKER_LIST)
			  : !json_object_get(doc, "manifests")) {
		*out = steal_ptr(&doc);
		return 0;
	}
	if (bjson_get_array(doc, NULL, "manifests", BJSON_REQUIRED, &list, err) < 0)
		return berr_prefix(err, "%s", d->path);
	json_array_foreach (list, i, child) {
		struct descriptor cd;
		int rank;
		bool too_deep, present;

		if (parse_descriptor(child, BJSON_INDEX(mp, i), &cd, err) < 0)
			return berr_prefix(err, "%s", d->path);
		rank = platform_rank(ld, child);
		present = resolve(ld, cd.path, &too_deep) != NULL;
		if (rank == 0 || (best_rank && (present < best_present ||
						(present == best_present && rank <= best_rank))))
			continue;
		best = cd;
		best_rank = rank;
		best_present = present;
	}
	if (!best_rank)
		return berr_set(err, BERR_INVALID, 0, "%s: image index %s holds no linux image",
				who, d->digest);
	return find_manifest(ld, d->path, &best, depth + 1, out, err);
}

/* The tag an index.json entry gives its image: its ref.name annotation
 * when that is a whole reference, else containerd's image name; none
 * (*out NULL) when neither says one. */
static int oci_tag(const json_t *desc, const struct bjson_path *path, struct image_reference **out,
		   struct berr **err)
{
	const struct bjson_path *ap = BJSON_KEY(path, "annotations");
	json_t *ann = NULL;
	const char *ref_name = NULL, *image_name = NULL, *name;
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;

	*out = NULL;
	if (bjson_get_object(desc, path, "annotations", BJSON_OPTIONAL, &ann, err) < 0 ||
	    (ann &&
	     (bjson_get_string(ann, ap, ANNOTATION_REF_NAME, BJSON_OPTIONAL, &ref_name, err) < 0 ||
	      bjson_get_string(ann, ap, ANNOTATION_IMAGE_NAME, BJSON_OPTIONAL, &image_name, err) <
		      0)))
		return -1;
	/* A ref.name with no repository ("latest") is only a tag in the
	 * layout; the repository then comes from containerd's name. */
	if (ref_name && strpbrk(ref_name, "/:@"))
		name = ref_name;
	else
		name = image_name;
	if (!name)
		return 0;
	if (image_reference_parse(name, &ref, err) < 0)
		return berr_prefix(err, "image name \"%s\"", name);
	if (ref->digest) {
		/* A digest is no tag: the image loads without one. */
		blog_msg(BLOG_INFO, "load: %s names a digest, not a tag; not tagged", name);
		return 0;
	}
	*out = steal_ptr(&ref);
	return 0;
}

/* The images of an OCI layout's index.json. */
static int load_oci(struct load *ld, struct berr **err)
{
	const struct bjson_path *mp = BJSON_KEY(NULL, "manifests");
	_cleanup_json_ json_t *index = NULL;
	json_t *list = NULL, *item;
	size_t i;

	if (read_json(ld, "the archive", "index.json", &index, NULL, err) < 0)
		return -1;
	if (bjson_as_object(index, NULL, err) < 0 ||
	    bjson_get_array(index, NULL, "manifests", BJSON_REQUIRED, &list, err) < 0)
		return berr_prefix(err, "index.json");
	json_array_foreach (list, i, item) {
		_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
		_cleanup_json_ json_t *manifest = NULL;
		_cleanup_strv_ char **paths = strv_dup(NULL);
		_cleanup_free_ int64_t *sizes = NULL;
		struct descriptor d, cd;
		struct load_image *img;
		json_t *config = NULL, *layers = NULL, *layer;
		size_t k;

		if (!paths)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load");
		if (parse_descriptor(item, BJSON_INDEX(mp, i), &d, err) < 0 ||
		    oci_tag(item, BJSON_INDEX(mp, i), &ref, err) < 0)
			return berr_prefix(err, "index.json");
		if (find_manifest(ld, "index.json", &d, 0, &manifest, err) < 0)
			return -1;
		if (bjson_get_object(manifest, NULL, "config", BJSON_REQUIRED, &config, err) < 0 ||
		    parse_descriptor(config, BJSON_KEY(NULL, "config"), &cd, err) < 0 ||
		    bjson_get_array(manifest, NULL, "layers", BJSON_OPTIONAL, &layers, err) < 0)
			return berr_prefix(err, "manifest %s", d.digest);
		if (cd.media_type &&
		    !media_is(cd.media_type, IMAGE_MEDIA_OCI_CONFIG, IMAGE_MEDIA_DOCKER_CONFIG))
			return berr_set(err, BERR_INVALID, 0,
					"manifest %s: unsupported config media type \"%s\"",
					d.digest, cd.media_type);
		sizes = calloc(json_array_size(layers) + 1, sizeof(*sizes));
		if (!sizes)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load");
		json_array_foreach (layers, k, layer) {
			const struct bjson_path *lp = BJSON_INDEX(BJSON_KEY(NULL, "layers"), k);
			struct descriptor ldesc;

			if (parse_descriptor(layer, lp, &ldesc, err) < 0)
				return berr_prefix(err, "manifest %s", d.digest);
			if (!layer_media_ok(ldesc.media_type))
				return berr_set(err, BERR_INVALID, 0,
						"manifest %s: unsupported layer media type \"%s\"",
						d.digest,
						ldesc.media_type ? ldesc.media_type : "(none)");
			if (strv_append(&paths, ldesc.path) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "load");
			sizes[k] = ldesc.size;
		}
		if (add_image(ld, d.path, cd.path, paths, sizes, strv_length(paths), &img, err) < 0)
			return -1;
		if (strcmp(img->id, cd.digest) != 0)
			return berr_set(err, BERR_INVALID, 0,
					"manifest %s: config %s has digest %s", d.digest, cd.path,
					img->id);
		if (ref && add_tag(img, ref, err) < 0)
			return -1;
	}
	return 0;
}

/* Unpacks job I of the load ARG into its temporary directory and checks
 * its DiffID; for parallel_for(). */
static int unpack_one(size_t i, void *arg)
{
	struct load *ld = arg;
	struct load_job *j = &ld->jobs[i];
	_cleanup_close_ int fd = image_blob_open(ld->st->blobs, j->blob, &j->err);
	struct image_layer_info info;

	if (fd < 0 || image_layer_unpack(fd, j->tmp_dir, &info, &j->err) < 0)
		return berr_prefix(&j->err, "layer %s", j->file);
	if (strcmp(info.diff_id, j->diff) != 0)
		return berr_set(&j->err, BERR_INVALID, 0,
				"layer DiffID mismatch: %s unpacks to %s, the config says %s",
				j->file, info.diff_id, j->diff);
	j->size = info.size;
	j->content_size = info.content_size;
	return 0;
}

/* Gives the unpacked directory of J its name.  A directory already there
 * that the database (read inside the write transaction) does not know is
 * what a killed load left while another process had the store open; it
 * goes. */
static int place_layer(struct load_job *j, struct berr **err)
{
	if (rename(j->tmp_dir, j->final_dir) < 0) {
		if (errno != ENOTEMPTY && errno != EEXIST)
			return berr_set(err, BERR_INTERNAL, errno, "rename layer to %s",
					j->final_dir);
		blog_msg(BLOG_INFO, "removing leftover layer directory %s", j->final_dir);
		if (fs_remove_tree(j->final_dir, err) < 0)
			return -1;
		if (rename(j->tmp_dir, j->final_dir) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "rename layer to %s",
					j->final_dir);
	}
	j->renamed = true;
	return 0;
}

/* Records one image and its tags inside the open transaction. */
static int record_image(struct load *ld, struct load_image *img, struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *have = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	struct store_image_spec spec = { .id = img->id,
					 .config = img->config,
					 .created = img->created,
					 .layers = img->layers,
					 .n_layers = img->n_layers };

	for (size_t i = 0; i < img->n_layers; i++) {
		struct load_job *j = find_job(ld, img->layers[i].chain_id);

		if (j) {
			img->layers[i].size = (int64_t)j->size;
			img->layers[i].content_size = (int64_t)j->content_size;
		}
		spec.size += img->layers[i].content_size;
	}
	/* An image the store has (or an earlier one of this archive) is no
	 * error: it only gains the tags. */
	if (store_image_lookup(ld->st->db, img->id, &have, &lerr) < 0) {
		if (lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			return -1;
		}
		if (store_image_add(ld->st->db, &spec, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < img->n_refs; i++) {
		_cleanup_free_ char *old_id = NULL;

		if (store_ref_add(ld->st->db, &img->refs[i], img->id, &old_id, err) < 0)
			return -1;
		if (old_id)
			blog_msg(BLOG_INFO, "%s moved from %s to %s", img->refs[i].name, old_id,
				 img->id);
	}
	return 0;
}

/* Records every image in one transaction, the unpacked layers getting
 * their names just before the commit. */
static int record(struct load *ld, struct berr **err)
{
	if (store_begin(ld->st->db, err) < 0)
		return -1;
	ld->in_tx = true;
	/* Another process may have added a layer since it was looked up;
	 * inside the write transaction the answer holds until the commit. */
	for (size_t i = 0; i < ld->n_jobs; i++) {
		_cleanup_(store_layer_free_cleanup) struct store_layer *known = NULL;
		_cleanup_berr_ struct berr *lerr = NULL;

		if (store_layer_lookup(ld->st->db, ld->jobs[i].chain, &known, &lerr) == 0)
			ld->jobs[i].known = true;
		else if (lerr->kind != BERR_NOT_FOUND) {
			berr_move(err, &lerr);
			return -1;
		}
	}
	for (size_t i = 0; i < ld->n_images; i++)
		if (record_image(ld, &ld->images[i], err) < 0)
			return -1;
	/* Killed between the renames and the commit, the next open removes
	 * layer directories the database does not know. */
	for (size_t i = 0; i < ld->n_jobs; i++)
		if (!ld->jobs[i].known && place_layer(&ld->jobs[i], err) < 0)
			return -1;
	if (store_commit(ld->st->db, err) < 0) {
		ld->in_tx = false; /* store_commit() rolled it back */
		return -1;
	}
	ld->in_tx = false;
	for (size_t i = 0; i < ld->n_jobs; i++)
		ld->jobs[i].renamed = false;
	return 0;
}

/* After the commit: the blobs this load added that no image refers to
 * (manifests, legacy json files, a layer the store keeps with another
 * blob) go; the others are the store's now. */
static void keep_used_blobs(struct load *ld)
{
	_cleanup_strv_ char **used = NULL;
	_cleanup_berr_ struct berr *e = NULL;
	size_t out = 0;

	if (store_blob_digests_in_use(ld->st->db, &used, &e) < 0) {
		/* Left for the clean-up of a later open. */
		blog_msg(BLOG_WARN, "load: %s", e->msg);
		ld->n_created = 0;
		return;
	}
	for (size_t i = 0; i < ld->n_created; i++)
		if (!strv_contains(used, ld->created[i]))
			memmove(ld->created[out++], ld->created[i], DIGEST_STRING_SIZE);
	ld->n_created = out;
}

/* The lines `docker load` prints for what was loaded. */
static int result_lines(struct load *ld, char ***out, struct berr **err)
{
	_cleanup_strv_ char **lines = NULL;

	for (size_t i = 0; i < ld->n_images; i++) {
		struct load_image *img = &ld->images[i];
		_cleanup_free_ char *id_line = NULL;

		for (size_t t = 0; t < img->n_refs; t++) {
			_cleanup_free_ char *line =
				str_printf("Loaded image: %s", img->familiar[t]);

			if (!line || strv_append(&lines, line) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "load");
		}
		if (img->n_refs)
			continue;
		id_line = str_printf("Loaded image ID: %s", img->id);
		if (!id_line || strv_append(&lines, id_line) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "load");
	}
	*out = steal_ptr(&lines);
	return 0;
}

void image_load_result_clear(struct image_load_result *res)
{
	strv_free(res->lines);
	res->lines = NULL;
}

/* Everything of a load but the undo, which the caller runs. */
static int load_run(struct load *ld, int fd, char ***lines, struct berr **err)
{
	_cleanup_(image_config_free_cleanup) struct image_config *here = image_config_new(err);
	_cleanup_strv_ char **out = NULL;
	bool too_deep;

	if (!here)
		return -1;
	ld->arch = strdup(here->architecture);
	ld->buf = malloc(LOAD_CHUNK);
	if (!ld->arch || !ld->buf)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load");
	if (read_archive(ld, fd, err) < 0)
		return -1;
	/* Docker 25 and later write both: manifest.json is the one Docker
	 * reads first. */
	if (resolve(ld, "manifest.json", &too_deep)) {
		if (load_docker(ld, err) < 0)
			return -1;
	} else if (resolve(ld, "index.json", &too_deep)) {
		if (load_oci(ld, err) < 0)
			return -1;
	} else {
		return berr_set(err, BERR_INVALID, 0,
				"the archive holds neither manifest.json nor index.json: not an "
				"image archive");
	}
	if (parallel_for(ld->n_jobs, 0, unpack_one, ld) > 0)
		for (size_t i = 0; i < ld->n_jobs; i++)
			if (ld->jobs[i].err) {
				berr_move(err, &ld->jobs[i].err);
				return -1;
			}
	/* The lines first: after the commit nothing may fail. */
	if (result_lines(ld, &out, err) < 0 || record(ld, err) < 0)
		return -1;
	keep_used_blobs(ld);
	*lines = steal_ptr(&out);
	return 0;
}

int image_load(struct image_store *st, int fd, struct image_load_result *res, struct berr **err)
{
	struct load ld = { .st = st };
	char **lines = NULL;
	int r = load_run(&ld, fd, &lines, err);

	if (r < 0)
		berr_prefix(err, "load");
	/* On success only the spare layer copies and unused blobs are left
	 * to remove; on failure everything this load made. */
	load_finish(&ld);
	if (r == 0)
		res->lines = lines;
	return r;
}
