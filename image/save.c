/* `docker save`: images of the store written to an fd as one tar, either
 * the docker-archive of Docker 20.10 (one <v1 id>/ directory per layer with
 * the legacy v1 JSON and the uncompressed layer.tar, the config as
 * <hex>.json, manifest.json and repositories) or an OCI image layout
 * (oci-layout, blobs/sha256/, index.json).  Names are resolved, layers and
 * blobs checked and every JSON document made before the first byte goes
 * out; only the layer streams are read while writing. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "image/reference.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

#define SAVE_CHUNK (1024 * 1024)
#define HEX_SIZE   65 /* 64 hex digits and NUL */

/* Go's zero time, what Docker writes for an image config without "created". */
#define GO_ZERO_TIME "0001-01-01T00:00:00Z"
/* What Docker writes as the creation time of a layer below an image's top. */
#define V1_EPOCH "1970-01-01T00:00:00Z"
/* Room for a time as go_time() writes it, with any year tm can hold. */
#define GO_TIME_SIZE 80

/* One tag of a saved image, in the forms the archive files need. */
struct save_tag {
	char *full;	/* "docker.io/library/busybox:latest" */
	char *familiar; /* "busybox:latest" */
	char *repo;	/* "busybox", the familiar repository */
	char *tag;	/* "latest" */
};

struct save_image {
	struct store_image *img;
	struct save_tag *tags;
	size_t n_tags;
	struct store_layer **rows; /* the image's layers, bottom first */
	time_t mtime;		   /* the config's creation time */
	size_t *dirs;		   /* docker: index in save.dirs of each layer */
	char *manifest;		   /* OCI: the image manifest */
	size_t manifest_len;
	char manifest_digest[DIGEST_STRING_SIZE];
};

/* A docker-archive layer directory <v1_id>/. */
struct save_dir {
	char v1_id[HEX_SIZE];
	char *json; /* the legacy v1 image JSON */
	size_t json_len;
	const struct store_layer *row; /* borrowed from an image */
	time_t mtime;
	/* The directory whose layer.tar holds this layer's tar; another one's
	 * makes layer.tar a symlink, as Docker does for a DiffID saved twice. */
	size_t tar_dir;
};

/* An OCI blob to write once. */
struct save_blob {
	const char *digest; /* borrowed */
	const char *data;   /* in memory (config, manifest), or NULL: from the store */
	uint64_t size;
	time_t mtime;
};

struct save {
	struct image_store *st;
	struct save_image *images;
	size_t n_images;
	struct save_dir *dirs;
	size_t n_dirs;
	struct save_blob *blobs;
	size_t n_blobs;
	struct archive *a;
	int fd;	   /* where the archive goes */
	bool cut;  /* after a failure: nothing more goes to fd */
	char *buf; /* SAVE_CHUNK bytes for copying blobs */
};

static void save_tag_clear(struct save_tag *t)
{
	free(t->full);
	free(t->familiar);
	free(t->repo);
	free(t->tag);
}

static void save_release(struct save *s)
{
	for (size_t i = 0; i < s->n_images; i++) {
		struct save_image *si = &s->images[i];

		for (size_t k = 0; si->rows && k < si->img->n_layers; k++)
			store_layer_free(si->rows[k]);
		for (size_t k = 0; k < si->n_tags; k++)
			save_tag_clear(&si->tags[k]);
		free(si->rows);
		free(si->tags);
		free(si->dirs);
		free(si->manifest);
		store_image_free(si->img);
	}
	for (size_t i = 0; i < s->n_dirs; i++)
		free(s->dirs[i].json);
	free(s->images);
	free(s->dirs);
	free(s->blobs);
	free(s->buf);
	if (s->a)
		archive_write_free(s->a);
}

/* Makes room for one more element in *ARR of *N elements of SIZE bytes;
 * the new element is zeroed.  NULL when out of memory. */
static void *grow(void *arr_p, size_t *n, size_t size)
{
	void **arr = arr_p;
	char *grown = reallocarray(*arr, *n + 1, size);

	if (!grown)
		return NULL;
	memset(grown + *n * size, 0, size);
	*arr = grown;
	return grown + (*n)++ * size;
}

static const char *hex_of(const char *digest)
{
	return digest + strlen("sha256:");
}

/*
 * JSON as Go's encoding/json writes it, so that the legacy files and the v1
 * ids come out byte for byte as Docker makes them: members in the order
 * given (Go's struct order; Go maps are sorted by whoever builds the
 * object), no spaces, and strings escaped as Go escapes them, which jansson
 * does not: <, > and & as \u003c, \u003e, \u0026, U+2028 and U+2029 as
 * \u2028, \u2029, other control characters as \u00XX in lower case.
 */

static void go_string(FILE *f, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
		} else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			fprintf(f, "\\u202%c", (unsigned char)s[i + 2] == 0xa8 ? '8' : '9');
			i += 2;
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes V; the members of objects in the top SORTED levels go in byte
 * order of their names, as Go writes a map.  -1 when out of memory. */
static int go_write(FILE *f, const json_t *v, int sorted)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		_cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof(*keys));
		const char *key;
		json_t *val;

		if (!keys)
			return -1;
		json_object_foreach ((json_t *)v, key, val)
			keys[i++] = key;
		if (sorted > 0)
			qsort(keys, n, sizeof(*keys), key_cmp);
		fputc('{', f);
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			go_string(f, keys[i], strlen(keys[i]));
			fputc(':', f);
			if (go_write(f, json_object_get(v, keys[i]), sorted - 1) < 0)
				return -1;
		}
		fputc('}', f);
		return 0;
	}
	case JSON_ARRAY:
		fputc('[', f);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fputc(',', f);
			if (go_write(f, json_array_get(v, i), sorted - 1) < 0)
				return -1;
		}
		fputc(']', f);
		return 0;
	case JSON_STRING:
		go_string(f, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		fprintf(f, "%.17g", json_real_value(v));
		return 0;
	case JSON_TRUE:
		fputs("true", f);
		return 0;
	case JSON_FALSE:
		fputs("false", f);
		return 0;
	case JSON_NULL:
		fputs("null", f);
		return 0;
	}
	return 0;
}

/* V as Go text in a new buffer *out of *len bytes, with a newline at the
 * end when NEWLINE (what Go's json.Encoder adds).  Sets BERR_INTERNAL. */
static int go_json(const json_t *v, int sorted, bool newline, char **out, size_t *len,
		   struct berr **err)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	int r;

	if (!f)
		return berr_set(err, BERR_INTERNAL, errno, "encode JSON");
	r = go_write(f, v, sorted);
	if (newline)
		fputc('\n', f);
	if (ferror(f))
		r = -1;
	if (fclose(f) != 0 || r < 0) {
		free(text);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "encode JSON");
	}
	*out = text;
	*len = n;
	return 0;
}

/*
 * Docker's legacy v1 image JSON (image.V1Image of moby), rebuilt from an
 * image config the way Go decodes it into that struct and encodes it back:
 * member names matched case-insensitively, unknown members dropped, known
 * ones written in struct order with their zero values unless "omitempty",
 * container configs (container.Config) in full.  A value of the wrong type,
 * which Docker would have refused when it stored the image, counts as
 * absent.
 */

enum go_kind {
	GO_STRING,
	GO_BOOL,
	GO_INT,
	GO_INT_PTR,   /* *int: omitted when absent */
	GO_STRINGS,   /* []string */
	GO_STRSLICE,  /* strslice.StrSlice: a string becomes a one-element array */
	GO_SET,	      /* map[string]struct{} */
	GO_STRMAP,    /* map[string]string */
	GO_HEALTH,    /* *container.HealthConfig */
	GO_CONFIG,    /* container.Config */
	GO_CONFIG_PTR /* *container.Config */
};

struct go_field {
	const char *name;
	enum go_kind kind;
	bool omitempty;
};

/* container.Config of Docker's API, in struct order. */
static const struct go_field config_fields[] = {
	{ "Hostname", GO_STRING, false },     { "Domainname", GO_STRING, false },
	{ "User", GO_STRING, false },	      { "AttachStdin", GO_BOOL, false },
	{ "AttachStdout", GO_BOOL, false },   { "AttachStderr", GO_BOOL, false },
	{ "ExposedPorts", GO_SET, true },     { "Tty", GO_BOOL, false },
	{ "OpenStdin", GO_BOOL, false },      { "StdinOnce", GO_BOOL, false },
	{ "Env", GO_STRINGS, false },	      { "Cmd", GO_STRSLICE, false },
	{ "Healthcheck", GO_HEALTH, true },   { "ArgsEscaped", GO_BOOL, true },
	{ "Image", GO_STRING, false },	      { "Volumes", GO_SET, false },
	{ "WorkingDir", GO_STRING, false },   { "Entrypoint", GO_STRSLICE, false },
	{ "NetworkDisabled", GO_BOOL, true }, { "MacAddress", GO_STRING, true },
	{ "OnBuild", GO_STRINGS, false },     { "Labels", GO_STRMAP, false },
	{ "StopSignal", GO_STRING, true },    { "StopTimeout", GO_INT_PTR, true },
	{ "Shell", GO_STRSLICE, true },
};

/* container.HealthConfig; durations are integer nanoseconds. */
static const struct go_field health_fields[] = {
	{ "Test", GO_STRINGS, true },	   { "Interval", GO_INT, true },
	{ "Timeout", GO_INT, true },	   { "StartPeriod", GO_INT, true },
	{ "StartInterval", GO_INT, true }, { "Retries", GO_INT, true },
};

/* image.V1Image after "id" and "parent", which never come from a config
 * ("parent" of a config is another field of moby's image.Image). */
static const struct go_field v1_fields[] = {
	{ "comment", GO_STRING, true },
	{ "created", GO_STRING, false },
	{ "container", GO_STRING, true },
	{ "container_config", GO_CONFIG, false },
	{ "docker_version", GO_STRING, true },
	{ "author", GO_STRING, true },
	{ "config", GO_CONFIG_PTR, true },
	{ "architecture", GO_STRING, true },
	{ "variant", GO_STRING, true },
	{ "os", GO_STRING, true },
	{ "Size", GO_INT, true },
};

/* Member NAME of OBJ as Go's decoder finds it: the exact name first, else
 * one that differs only in case.  NULL when absent, null or OBJ is not an
 * object. */
static const json_t *go_member(const json_t *obj, const char *name)
{
	const char *key;
	json_t *val;
	const json_t *found;

	if (!json_is_object(obj))
		return NULL;
	found = json_object_get(obj, name);
	if (!found) {
		json_object_foreach ((json_t *)obj, key, val)
			if (strcasecmp(key, name) == 0) {
				found = val;
				break;
			}
	}
	return json_is_null(found) ? NULL : found;
}

static bool all_strings(const json_t *arr)
{
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e)
		if (!json_is_string(e))
			return false;
	return true;
}

/* OBJ's members as a new object with the names sorted (a Go map), each value
 * {} for a set or the string for a string map. */
static json_t *go_map(const json_t *obj, bool set)
{
	size_t n = json_object_size(obj), i = 0;
	_cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *out = json_object();
	const char *key;
	json_t *val;

	if (!keys || !out)
		goto oom;
	json_object_foreach ((json_t *)obj, key, val)
		keys[i++] = key;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; i < n; i++) {
		const json_t *v = json_object_get(obj, keys[i]);
		json_t *nv = set ? json_object()
				 : json_string(json_is_string(v) ? json_string_value(v) : "");

		if (json_object_set_new(out, keys[i], nv) < 0)
			goto oom;
	}
	return out;
oom:
	json_decref(out);
	return NULL;
}

static json_t *go_struct(const json_t *src, const struct go_field *fields, size_t n);

/* The value of kind KIND that Go decodes from V (NULL when absent) and
 * encodes back, into *out; *out is NULL when the member is left out.  -1
 * when out of memory. */
static int go_value(const json_t *v, enum go_kind kind, bool omitempty, json_t **out)
{
	json_t *r = NULL;

	*out = NULL;
	switch (kind) {
	case GO_STRING:
		if (omitempty && (!json_is_string(v) || json_string_length(v) == 0))
			return 0;
		r = json_is_string(v) ? json_copy((json_t *)v) : json_string("");
		break;
	case GO_BOOL:
		if (omitempty && !json_is_true(v))
			return 0;
		r = json_boolean(json_is_true(v));
		break;
	case GO_INT:
	case GO_INT_PTR:
		if (!json_is_integer(v)) {
			if (omitempty)
				return 0;
			r = json_integer(0);
		} else if (omitempty && kind == GO_INT && json_integer_value(v) == 0) {
			return 0;
		} else {
			r = json_integer(json_integer_value(v));
		}
		break;
	case GO_STRINGS:
	case GO_STRSLICE:
		if (kind == GO_STRSLICE && json_is_string(v)) {
			r = json_pack("[O]", v);
		} else if (json_is_array(v) && all_strings(v)) {
			if (omitempty && json_array_size(v) == 0)
				return 0;
			r = json_deep_copy(v);
		} else {
			if (omitempty)
				return 0;
			r = json_null();
		}
		break;
	case GO_SET:
	case GO_STRMAP:
		if (!json_is_object(v)) {
			if (omitempty)
				return 0;
			r = json_null();
		} else if (omitempty && json_object_size(v) == 0) {
			return 0;
		} else {
			r = go_map(v, kind == GO_SET);
		}
		break;
	case GO_HEALTH:
		if (!json_is_object(v))
			return 0;
		r = go_struct(v, health_fields, sizeof(health_fields) / sizeof(health_fields[0]));
		break;
	case GO_CONFIG:
	case GO_CONFIG_PTR:
		if (kind == GO_CONFIG_PTR && !json_is_object(v))
			return 0;
		r = go_struct(v, config_fields, sizeof(config_fields) / sizeof(config_fields[0]));
		break;
	}
	if (!r)
		return -1;
	*out = r;
	return 0;
}

/* The struct of N FIELDS decoded from SRC (NULL: the zero value); NULL
 * when out of memory. */
static json_t *go_struct(const json_t *src, const struct go_field *fields, size_t n)
{
	json_t *out = json_object();

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *v;

		if (go_value(go_member(src, fields[i].name), fields[i].kind, fields[i].omitempty,
			     &v) < 0 ||
		    (v && json_object_set_new(out, fields[i].name, v) < 0)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* The creation time TEXT as Go's time.Time writes it back (RFC3339Nano:
 * trailing zeros of the fraction dropped, "Z" for a zero offset, another
 * offset kept) into OUT, and its unix seconds into *secs (0 before 1970).
 * A missing or malformed time is Go's zero time. */
static void go_time(const char *text, char out[GO_TIME_SIZE], time_t *secs)
{
	struct timespec ts;
	struct tm tm;
	size_t len = text ? strlen(text) : 0;
	long off = 0;
	time_t local;
	char frac[16];

	*secs = 0;
	if (!text || time_parse_rfc3339(text, &ts) < 0) {
		snprintf(out, GO_TIME_SIZE, "%s", GO_ZERO_TIME);
		return;
	}
	/* Parsed: the text ends in "Z" or in an offset "+hh:mm". */
	if (text[len - 1] != 'Z' && text[len - 1] != 'z') {
		off = (strtol(text + len - 5, NULL, 10) * 60 + strtol(text + len - 2, NULL, 10)) *
		      60;
		if (text[len - 6] == '-')
			off = -off;
	}
	local = ts.tv_sec + off;
	gmtime_r(&local, &tm);
	snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
	for (size_t k = strlen(frac); k > 1 && frac[k - 1] == '0'; k--)
		frac[k - 1] = '\0';
	if (frac[1] == '\0')
		frac[0] = '\0';
	if (off == 0)
		snprintf(out, GO_TIME_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	else
		snprintf(out, GO_TIME_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, frac, off < 0 ? '-' : '+', (int)(labs(off) / 3600),
			 (int)(labs(off) % 3600 / 60));
	*secs = ts.tv_sec > 0 ? ts.tv_sec : 0;
}

/* The legacy JSON of a layer as a new object: with ID and PARENT (hex, may
 * be NULL) in front, the fields of CFG (the image config) for the image's
 * top layer, or for a layer below it (CFG NULL) nothing but Docker's
 * creation time of 1970.  OS, when not NULL, replaces the config's "os"
 * (Docker writes the image's os into every layer's JSON, though not into
 * the input of its id).  NULL when out of memory. */
static json_t *v1_image(const json_t *cfg, const char *id, const char *parent, const char *os)
{
	_cleanup_json_ json_t *out = json_object();
	char created[GO_TIME_SIZE];
	time_t secs;

	if (!out || (id && json_object_set_new(out, "id", json_string(id)) < 0) ||
	    (parent && json_object_set_new(out, "parent", json_string(parent)) < 0))
		return NULL;
	for (size_t i = 0; i < sizeof(v1_fields) / sizeof(v1_fields[0]); i++) {
		const struct go_field *fd = &v1_fields[i];
		const json_t *src = go_member(cfg, fd->name);
		json_t *v;

		if (strcmp(fd->name, "created") == 0) {
			if (cfg)
				go_time(json_string_value(src), created, &secs);
			v = json_string(cfg ? created : V1_EPOCH);
		} else if (strcmp(fd->name, "os") == 0 && os) {
			v = os[0] ? json_string(os) : NULL;
			if (!os[0])
				continue;
		} else if (go_value(src, fd->kind, fd->omitempty, &v) < 0) {
			return NULL;
		} else if (!v) {
			continue;
		}
		if (json_object_set_new(out, fd->name, v) < 0)
			return NULL;
	}
	return steal_ptr(&out);
}

/* Docker's v1 id of a layer (CreateID of moby's image/v1): the digest of
 * the layer's legacy JSON without "id", as a Go map (names sorted) with
 * "layer_id" the layer's chain id and "parent" the v1 id below it
 * (PARENT, "sha256:<hex>", or NULL for the bottom layer).  CFG is the
 * image config for the top layer, NULL for the others. */
static int v1_id(const json_t *cfg, const char *chain, const char *parent, char out[HEX_SIZE],
		 struct berr **err)
{
	_cleanup_json_ json_t *o = v1_image(cfg, NULL, NULL, NULL);
	_cleanup_free_ char *text = NULL;
	char digest[DIGEST_STRING_SIZE];
	size_t len = 0;

	if (!o || json_object_set_new(o, "layer_id", json_string(chain)) < 0 ||
	    (parent && json_object_set_new(o, "parent", json_string(parent)) < 0))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "compute v1 id");
	if (go_json(o, 1, false, &text, &len, err) < 0)
		return -1;
	digest_bytes(text, len, digest);
	snprintf(out, HEX_SIZE, "%s", hex_of(digest));
	return 0;
}

/*
 * Resolving the names and checking the images.
 */

/* The tag NAME stands for: when NAME is a reference without a digest
 * ("busybox" meaning busybox:latest) and IMG has it, *out receives it (its
 * strings owned by the caller) and *found is true; a name that is an id,
 * an id prefix or a digest reference stands for no tag. */
static int name_tag(const char *name, const struct store_image *img, struct save_tag *out,
		    bool *found, struct berr **err)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_free_ char *full = NULL;

	*found = false;
	if (image_reference_is_id(name) || image_reference_parse(name, &ref, NULL) < 0 ||
	    ref->digest)
		return 0;
	full = image_reference_format(ref, err);
	if (!full)
		return -1;
	for (size_t i = 0; i < img->n_refs; i++) {
		if (strcmp(img->refs[i].name, full) != 0)
			continue;
		out->familiar = image_reference_format_familiar(ref, err);
		out->repo = out->familiar ? image_reference_familiar_name(ref, err) : NULL;
		out->tag = out->repo ? strdup(ref->tag) : NULL;
		if (!out->tag) {
			save_tag_clear(out);
			return berr_set(err, BERR_INTERNAL, ENOMEM, "save %s", name);
		}
		out->full = steal_ptr(&full);
		*found = true;
		return 0;
	}
	/* Found as an id prefix although it parses as a name. */
	return 0;
}

static int add_name(struct save *s, const char *name, struct berr **err);

/* `docker save busybox` saves every tag of the repository: when NAME is a
 * repository alone (no tag, digest or id), adds each tagged name of it and
 * sets *done; nothing when the store has no such repository. */
static int add_repository(struct save *s, const char *name, bool *done, struct berr **err)
{
	_cleanup_(image_reference_free_cleanup) struct image_reference *ref = NULL;
	_cleanup_free_ char *repo = NULL;
	struct store_image **imgs = NULL;
	size_t n = 0;
	int rc = 0;

	*done = false;
	if (image_reference_is_id(name) || image_reference_parse_name(name, &ref, NULL) < 0 ||
	    ref->tag || ref->digest)
		return 0;
	repo = image_reference_repository(ref, err);
	if (!repo || image_store_list(s->st, &imgs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t k = 0; k < imgs[i]->n_refs && rc == 0; k++) {
			const struct store_ref *r = &imgs[i]->refs[k];

			if (!r->tag || strcmp(r->repo, repo) != 0)
				continue;
			rc = add_name(s, r->name, err);
			*done = true;
		}
	store_image_list_free(imgs, n);
	return rc;
}

/* Looks NAME up and adds its image, or its tag to an image already named. */
static int add_name(struct save *s, const char *name, struct berr **err)
{
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	struct save_image *si = NULL;
	struct save_tag tag = { 0 };
	bool tagged, done;

	if (add_repository(s, name, &done, err) < 0 || done)
		return done ? 0 : -1;
	if (image_store_lookup(s->st, name, &img, err) < 0)
		return -1;
	if (name_tag(name, img, &tag, &tagged, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_images && !si; i++)
		if (strcmp(s->images[i].img->id, img->id) == 0)
			si = &s->images[i];
	if (!si) {
		si = grow(&s->images, &s->n_images, sizeof(*si));
		if (!si)
			goto oom;
		si->img = steal_ptr(&img);
	}
	if (!tagged)
		return 0;
	for (size_t i = 0; i < si->n_tags; i++)
		if (strcmp(si->tags[i].full, tag.full) == 0) {
			save_tag_clear(&tag);
			return 0;
		}
	{
		struct save_tag *t = grow(&si->tags, &si->n_tags, sizeof(*t));

		if (!t)
			goto oom;
		*t = tag;
	}
	return 0;
oom:
	save_tag_clear(&tag);
	return berr_set(err, BERR_INTERNAL, ENOMEM, "save %s", name);
}

/* Loads the layer rows of SI and checks them against its config: the
 * config's digest is the image id, its DiffIDs give the image's chain ids,
 * and every layer has a row whose blob is present.  A mismatch means a
 * damaged store: BERR_INTERNAL. */
static int check_image(struct save *s, struct save_image *si, const json_t *cfg, struct berr **err)
{
	const struct store_image *img = si->img;
	const json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	char digest[DIGEST_STRING_SIZE], chain[DIGEST_STRING_SIZE];

	digest_bytes(img->config, strlen(img->config), digest);
	if (strcmp(digest, img->id) != 0)
		return berr_set(err, BERR_INTERNAL, 0, "image %s: its config has the digest %s",
				img->id, digest);
	if (json_array_size(diff_ids) != img->n_layers)
		return berr_set(err, BERR_INTERNAL, 0,
				"image %s: its config lists %zu layers, the store %zu", img->id,
				json_array_size(diff_ids), img->n_layers);
	si->rows = calloc(img->n_layers ? img->n_layers : 1, sizeof(*si->rows));
	if (!si->rows)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *diff_id = json_string_value(json_array_get(diff_ids, i));
		struct store_layer *row;

		if (!digest_is_valid(diff_id))
			return berr_set(err, BERR_INTERNAL, 0, "image %s: layer %zu: bad DiffID",
					img->id, i);
		image_chain_id(i ? chain : NULL, diff_id, chain); /* in place: it copies first */
		if (strcmp(chain, img->layers[i]) != 0)
			return berr_set(err, BERR_INTERNAL, 0,
					"image %s: layer %zu is %s, its config makes it %s",
					img->id, i, img->layers[i], chain);
		if (store_layer_lookup(s->st->db, img->layers[i], &si->rows[i], err) < 0) {
			/* The image's own layer missing is damage, not a name
			 * the user got wrong. */
			if (err && *err && (*err)->kind == BERR_NOT_FOUND)
				(*err)->kind = BERR_INTERNAL;
			return berr_prefix(err, "image %s", img->id);
		}
		row = si->rows[i];
		if (strcmp(row->diff_id, diff_id) != 0 || row->size < 0)
			return berr_set(err, BERR_INTERNAL, 0, "image %s: layer %s is damaged",
					img->id, row->chain_id);
		if (!row->blob_digest || !image_blob_exists(s->st->blobs, row->blob_digest))
			return berr_set(err, BERR_INTERNAL, 0,
					"image %s: the archive of layer %s is missing", img->id,
					row->diff_id);
	}
	return 0;
}

/* The directory of layer ROW with v1 id ID, added when new; its index in
 * *idx. */
static int add_dir(struct save *s, const char *id, const json_t *cfg, const char *parent,
		   const char *os, const struct store_layer *row, time_t mtime, size_t *idx,
		   struct berr **err)
{
	_cleanup_json_ json_t *o = NULL;
	struct save_dir *d;

	for (size_t i = 0; i < s->n_dirs; i++)
		if (strcmp(s->dirs[i].v1_id, id) == 0) {
			*idx = i;
			return 0;
		}
	o = v1_image(cfg, id, parent, os);
	d = o ? grow(&s->dirs, &s->n_dirs, sizeof(*d)) : NULL;
	if (!d)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	snprintf(d->v1_id, sizeof(d->v1_id), "%s", id);
	d->row = row;
	d->mtime = mtime;
	*idx = s->n_dirs - 1;
	return go_json(o, 0, false, &d->json, &d->json_len, err);
}

/* The docker-archive directories of SI's layers, named by their v1 ids. */
static int plan_docker(struct save *s, struct save_image *si, const json_t *cfg, struct berr **err)
{
	const struct store_image *img = si->img;
	const char *os = json_string_value(go_member(cfg, "os"));
	char id[HEX_SIZE], parent[DIGEST_STRING_SIZE] = "";
	char created[GO_TIME_SIZE];

	go_time(json_string_value(go_member(cfg, "created")), created, &si->mtime);
	/* Docker's refusal too: a docker-archive names an image by its layers. */
	if (img->n_layers == 0)
		return berr_set(err, BERR_INTERNAL, 0,
				"image %s has no layers: empty export - not implemented", img->id);
	si->dirs = calloc(img->n_layers, sizeof(*si->dirs));
	if (!si->dirs)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	for (size_t i = 0; i < img->n_layers; i++) {
		const json_t *layer_cfg = i + 1 == img->n_layers ? cfg : NULL;

		if (v1_id(layer_cfg, img->layers[i], parent[0] ? parent : NULL, id, err) < 0 ||
		    add_dir(s, id, layer_cfg, parent[0] ? hex_of(parent) : NULL, os ? os : "",
			    si->rows[i], si->mtime, &si->dirs[i], err) < 0)
			return berr_prefix(err, "image %s", img->id);
		snprintf(parent, sizeof(parent), "sha256:%s", id);
	}
	return 0;
}

/* Each DiffID's tar is written once, into the directory whose name comes
 * first (so it precedes its symlinks in the archive); the others link to
 * it. */
static void share_tars(struct save *s)
{
	for (size_t i = 0; i < s->n_dirs; i++) {
		s->dirs[i].tar_dir = i;
		for (size_t k = 0; k < s->n_dirs; k++)
			if (strcmp(s->dirs[k].row->diff_id, s->dirs[i].row->diff_id) == 0 &&
			    strcmp(s->dirs[k].v1_id, s->dirs[s->dirs[i].tar_dir].v1_id) < 0)
				s->dirs[i].tar_dir = k;
	}
}

/* Adds blob DIGEST unless it is there already. */
static int add_blob(struct save *s, const char *digest, const char *data, uint64_t size,
		    time_t mtime, struct berr **err)
{
	struct save_blob *b;

	for (size_t i = 0; i < s->n_blobs; i++)
		if (strcmp(s->blobs[i].digest, digest) == 0)
			return 0;
	b = grow(&s->blobs, &s->n_blobs, sizeof(*b));
	if (!b)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	*b = (struct save_blob){ .digest = digest, .data = data, .size = size, .mtime = mtime };
	return 0;
}

/* The OCI media type of a layer blob, from its first bytes. */
static int layer_media_type(struct save *s, const char *digest, const char **out, struct berr **err)
{
	static const unsigned char gzip[] = { 0x1f, 0x8b }, zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
	_cleanup_close_ int fd = image_blob_open(s->st->blobs, digest, err);
	unsigned char head[4] = { 0 };
	ssize_t n;

	if (fd < 0)
		return -1;
	do
		n = pread(fd, head, sizeof(head), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_set(err, BERR_INTERNAL, errno, "read blob %s", digest);
	if (n >= 2 && memcmp(head, gzip, sizeof(gzip)) == 0)
		*out = IMAGE_MEDIA_OCI_LAYER_GZIP;
	else if (n >= 4 && memcmp(head, zstd, sizeof(zstd)) == 0)
		*out = IMAGE_MEDIA_OCI_LAYER_ZSTD;
	else
		*out = IMAGE_MEDIA_OCI_LAYER;
	return 0;
}

static json_t *descriptor(const char *media_type, const char *digest, uint64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
			 (json_int_t)size);
}

/* The OCI manifest of SI and the blobs it names. */
static int plan_oci(struct save *s, struct save_image *si, struct berr **err)
{
	const struct store_image *img = si->img;
	_cleanup_json_ json_t *m = NULL;
	json_t *layers = json_array();
	time_t mtime = img->created > 0 ? (time_t)img->created : 0;

	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
		      IMAGE_MEDIA_OCI_MANIFEST, "config",
		      descriptor(IMAGE_MEDIA_OCI_CONFIG, img->id, strlen(img->config)), "layers",
		      layers);
	if (!m)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	si->mtime = mtime;
	if (add_blob(s, img->id, img->config, strlen(img->config), mtime, err) < 0)
		return -1;
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct store_layer *row = si->rows[i];
		const char *type = NULL;
		uint64_t size;

		if (layer_media_type(s, row->blob_digest, &type, err) < 0 ||
		    image_blob_size(s->st->blobs, row->blob_digest, &size, err) < 0)
			return berr_prefix(err, "image %s", img->id);
		if (json_array_append_new(layers, descriptor(type, row->blob_digest, size)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		if (add_blob(s, row->blob_digest, NULL, size, mtime, err) < 0)
			return -1;
	}
	si->manifest = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!si->manifest)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	si->manifest_len = strlen(si->manifest);
	digest_bytes(si->manifest, si->manifest_len, si->manifest_digest);
	return add_blob(s, si->manifest_digest, si->manifest, si->manifest_len, mtime, err);
}

static int plan(struct save *s, enum image_archive_format format, struct berr **err)
{
	for (size_t i = 0; i < s->n_images; i++) {
		struct save_image *si = &s->images[i];
		_cleanup_json_ json_t *cfg = NULL;
		_cleanup_berr_ struct berr *jerr = NULL;
		const char *text = si->img->config;

		if (bjson_load(text, strlen(text), IMAGE_CONFIG_MAX, &cfg, &jerr) < 0 ||
		    !json_is_object(cfg))
			return berr_set(err, BERR_INTERNAL, 0, "image %s: broken config: %s",
					si->img->id, jerr ? jerr->msg : "not an object");
		if (check_image(s, si, cfg, err) < 0)
			return -1;
		if ((format == IMAGE_ARCHIVE_DOCKER ? plan_docker(s, si, cfg, err)
						    : plan_oci(s, si, err)) < 0)
			return -1;
	}
	if (format == IMAGE_ARCHIVE_DOCKER)
		share_tars(s);
	return 0;
}

/*
 * Writing.
 */

static const char *archive_msg(struct archive *a)
{
	const char *msg = archive_error_string(a);

	return msg ? msg : "unknown error";
}

/* A tar header: a regular file of SIZE bytes, a directory (NAME ends in
 * "/") or, when LINK is set, a symlink to LINK. */
static int put_header(struct save *s, const char *name, int64_t size, time_t mtime,
		      const char *link, struct berr **err)
{
	struct archive_entry *e = archive_entry_new();
	bool dir = str_has_suffix(name, "/");
	int r;

	if (!e)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "write %s", name);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, link ? AE_IFLNK : dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, link ? 0777 : dir ? 0755 : 0644);
	archive_entry_set_size(e, link || dir ? 0 : size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (link)
		archive_entry_set_symlink(e, link);
	r = archive_write_header(s->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN)
		return berr_set(err, BERR_INTERNAL, archive_errno(s->a), "write %s: %s", name,
				archive_msg(s->a));
	return 0;
}

static int put_data(struct save *s, const char *name, const void *data, size_t len,
		    struct berr **err)
{
	if (len && archive_write_data(s->a, data, len) != (la_ssize_t)len)
		return berr_set(err, BERR_INTERNAL, archive_errno(s->a), "write %s: %s", name,
				archive_msg(s->a));
	return 0;
}

static int put_file(struct save *s, const char *name, const void *data, size_t len, time_t mtime,
		    struct berr **err)
{
	if (put_header(s, name, (int64_t)len, mtime, NULL, err) < 0)
		return -1;
	return put_data(s, name, data, len, err);
}

/* Where the bytes of one streamed entry go: counted against the size in
 * its header and hashed against the digest that names them. */
struct stream {
	struct save *s;
	const char *name;
	struct digest_ctx *ctx;
	uint64_t size, done;
};

static int stream_put(struct stream *k, const void *buf, size_t len, struct berr **err)
{
	if (len > k->size - k->done)
		return berr_set(err, BERR_INTERNAL, 0,
				"%s: more than the recorded %" PRIu64 " bytes", k->name, k->size);
	digest_update(k->ctx, buf, len);
	k->done += len;
	return put_data(k->s, k->name, buf, len, err);
}

/* Copies blob FD as it is. */
static int stream_plain(struct stream *k, int fd, struct berr **err)
{
	for (;;) {
		ssize_t n = read(fd, k->s->buf, SAVE_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(err, BERR_INTERNAL, errno, "read %s", k->name);
		if (n == 0)
			return 0;
		if (stream_put(k, k->s->buf, (size_t)n, err) < 0)
			return -1;
	}
}

static void read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* Copies the uncompressed bytes of blob FD (a tar, plain or compressed),
 * read with the filters the layer unpacker uses, so they are the bytes its
 * DiffID was computed over. */
static int stream_uncompressed(struct stream *k, int fd, struct berr **err)
{
	_cleanup_(read_freep) struct archive *raw = archive_read_new();
	struct archive_entry *e;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if (!raw)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read %s", k->name);
	image_layer_read_filters(raw);
	archive_read_support_format_raw(raw);
	archive_read_support_format_empty(raw);
	if (archive_read_open_fd(raw, fd, SAVE_CHUNK) != ARCHIVE_OK)
		goto fail;
	r = archive_read_next_header(raw, &e);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		goto fail;
	while ((r = archive_read_data_block(raw, &buf, &len, &off)) == ARCHIVE_OK)
		if (stream_put(k, buf, len, err) < 0)
			return -1;
	if (r == ARCHIVE_EOF)
		return 0;
fail:
	return berr_set(err, BERR_INTERNAL, archive_errno(raw), "read %s: %s", k->name,
			archive_msg(raw));
}

/* Writes entry NAME from blob BLOB: SIZE bytes whose digest is WANT,
 * uncompressed when UNCOMPRESS.  A blob that does not give exactly those
 * bytes (a damaged store) fails; what was written stays, and image_save()
 * cuts the archive off there. */
static int put_blob(struct save *s, const char *name, const char *blob, bool uncompress,
		    uint64_t size, const char *want, time_t mtime, struct berr **err)
{
	struct stream k = { .s = s, .name = name, .size = size };
	_cleanup_close_ int fd = image_blob_open(s->st->blobs, blob, err);
	char got[DIGEST_STRING_SIZE];
	int r;

	if (fd < 0)
		return -1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (put_header(s, name, (int64_t)size, mtime, NULL, err) < 0)
		return -1;
	k.ctx = digest_new();
	if (!k.ctx)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "write %s", name);
	r = uncompress ? stream_uncompressed(&k, fd, err) : stream_plain(&k, fd, err);
	digest_final(k.ctx, got);
	digest_free(k.ctx);
	if (r < 0)
		return -1;
	if (k.done != size)
		return berr_set(err, BERR_INTERNAL, 0,
				"%s: %" PRIu64 " bytes instead of the recorded %" PRIu64, name,
				k.done, size);
	if (strcmp(got, want) != 0)
		return berr_set(err, BERR_INTERNAL, 0, "%s: the content has the digest %s, not %s",
				name, got, want);
	return 0;
}

static int write_dir(struct save *s, const struct save_dir *d, struct berr **err)
{
	_cleanup_free_ char *dir = str_printf("%s/", d->v1_id);
	_cleanup_free_ char *version = str_printf("%s/VERSION", d->v1_id);
	_cleanup_free_ char *json = str_printf("%s/json", d->v1_id);
	_cleanup_free_ char *tar = str_printf("%s/layer.tar", d->v1_id);
	_cleanup_free_ char *link = NULL;
	const struct save_dir *owner = &s->dirs[d->tar_dir];

	if (!dir || !version || !json || !tar)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	if (put_header(s, dir, 0, d->mtime, NULL, err) < 0 ||
	    put_file(s, version, "1.0", 3, d->mtime, err) < 0 ||
	    put_file(s, json, d->json, d->json_len, d->mtime, err) < 0)
		return -1;
	if (owner != d) {
		link = str_printf("../%s/layer.tar", owner->v1_id);
		if (!link)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		return put_header(s, tar, 0, d->mtime, link, err);
	}
	return put_blob(s, tar, d->row->blob_digest, true, (uint64_t)d->row->size, d->row->diff_id,
			d->mtime, err);
}

/* manifest.json and repositories, as Docker's json.Encoder writes them. */
static int docker_index(struct save *s, char **manifest, size_t *mlen, char **repos, size_t *rlen,
			struct berr **err)
{
	_cleanup_json_ json_t *items = json_array();
	_cleanup_json_ json_t *repositories = json_object();

	if (!items || !repositories)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	for (size_t i = 0; i < s->n_images; i++) {
		const struct save_image *si = &s->images[i];
		const char *top = s->dirs[si->dirs[si->img->n_layers - 1]].v1_id;
		json_t *tags = si->n_tags ? json_array() : json_null();
		json_t *layers = json_array();
		json_t *item = json_object();
		_cleanup_free_ char *config = str_printf("%s.json", hex_of(si->img->id));

		if (json_object_set_new(item, "Config", json_string(config)) < 0 ||
		    json_object_set_new(item, "RepoTags", tags) < 0 ||
		    json_object_set_new(item, "Layers", layers) < 0 ||
		    json_array_append_new(items, item) < 0 || !config)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		for (size_t k = 0; k < si->n_tags; k++) {
			const struct save_tag *t = &si->tags[k];
			json_t *repo = json_object_get(repositories, t->repo);

			if (!repo &&
			    json_object_set_new(repositories, t->repo, repo = json_object()) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
			if (json_array_append_new(tags, json_string(t->familiar)) < 0 ||
			    json_object_set_new(repo, t->tag, json_string(top)) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		}
		for (size_t k = 0; k < si->img->n_layers; k++) {
			_cleanup_free_ char *path =
				str_printf("%s/layer.tar", s->dirs[si->dirs[k]].v1_id);

			if (!path || json_array_append_new(layers, json_string(path)) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		}
	}
	if (go_json(items, 0, true, manifest, mlen, err) < 0)
		return -1;
	*repos = NULL;
	*rlen = 0;
	if (json_object_size(repositories) == 0)
		return 0;
	return go_json(repositories, 2, true, repos, rlen, err);
}

/* One name at the top of a docker-archive: a layer directory or a config. */
struct top_item {
	char name[HEX_SIZE + 8]; /* "<v1 id>" or "<hex>.json" */
	const struct save_dir *dir;
	const struct save_image *image;
};

static int top_cmp(const void *a, const void *b)
{
	return strcmp(((const struct top_item *)a)->name, ((const struct top_item *)b)->name);
}

/* Docker's order, the walk of its temporary directory: the names at the
 * top sorted, each layer directory followed by its three files.  A DiffID's
 * tar thus comes before the symlinks to it (see share_tars()). */
static int write_docker(struct save *s, struct berr **err)
{
	_cleanup_free_ char *manifest = NULL;
	_cleanup_free_ char *repos = NULL;
	_cleanup_free_ struct top_item *top = NULL;
	size_t mlen = 0, rlen = 0, n = 0;

	if (docker_index(s, &manifest, &mlen, &repos, &rlen, err) < 0)
		return -1;
	top = calloc(s->n_dirs + s->n_images, sizeof(*top));
	if (!top)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	for (size_t i = 0; i < s->n_dirs; i++, n++) {
		snprintf(top[n].name, sizeof(top[n].name), "%s", s->dirs[i].v1_id);
		top[n].dir = &s->dirs[i];
	}
	for (size_t i = 0; i < s->n_images; i++, n++) {
		snprintf(top[n].name, sizeof(top[n].name), "%s.json", hex_of(s->images[i].img->id));
		top[n].image = &s->images[i];
	}
	qsort(top, n, sizeof(*top), top_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct save_image *si = top[i].image;
		int r = top[i].dir ? write_dir(s, top[i].dir, err)
				   : put_file(s, top[i].name, si->img->config,
					      strlen(si->img->config), si->mtime, err);

		if (r < 0)
			return -1;
	}
	if (put_file(s, "manifest.json", manifest, mlen, 0, err) < 0)
		return -1;
	return repos ? put_file(s, "repositories", repos, rlen, 0, err) : 0;
}

/* index.json: one manifest entry per tag, with the tag as the OCI
 * reference name (what skopeo and umoci look up as layout:tag) and the full
 * name as containerd and podman read it; one without annotations for an
 * image saved by id. */
static int oci_index(struct save *s, char **out, size_t *len, struct berr **err)
{
	_cleanup_json_ json_t *index = NULL;
	json_t *manifests = json_array();

	index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", IMAGE_MEDIA_OCI_INDEX,
			  "manifests", manifests);
	if (!index)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	for (size_t i = 0; i < s->n_images; i++) {
		const struct save_image *si = &s->images[i];

		for (size_t k = 0; k < (si->n_tags ? si->n_tags : 1); k++) {
			json_t *d = descriptor(IMAGE_MEDIA_OCI_MANIFEST, si->manifest_digest,
					       si->manifest_len);

			if (!d || json_array_append_new(manifests, d) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
			if (si->n_tags &&
			    json_object_set_new(d, "annotations",
						json_pack("{s:s, s:s}", "io.containerd.image.name",
							  si->tags[k].full,
							  "org.opencontainers.image.ref.name",
							  si->tags[k].tag)) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		}
	}
	*out = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!*out)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	*len = strlen(*out);
	return 0;
}

static int write_oci(struct save *s, struct berr **err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	_cleanup_free_ char *index = NULL;
	size_t len = 0;

	if (oci_index(s, &index, &len, err) < 0)
		return -1;
	if (put_file(s, "oci-layout", layout, strlen(layout), 0, err) < 0 ||
	    put_header(s, "blobs/", 0, 0, NULL, err) < 0 ||
	    put_header(s, "blobs/sha256/", 0, 0, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_blobs; i++) {
		const struct save_blob *b = &s->blobs[i];
		_cleanup_free_ char *name = str_printf("blobs/sha256/%s", hex_of(b->digest));
		int r;

		if (!name)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
		if (b->data)
			r = put_file(s, name, b->data, b->size, b->mtime, err);
		else
			r = put_blob(s, name, b->digest, false, b->size, b->digest, b->mtime, err);
		if (r < 0)
			return -1;
	}
	return put_file(s, "index.json", index, len, 0, err);
}

static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct save *s = data;

	/* What libarchive writes while it is freed after a failure (the rest
	 * of a short entry as zeros, the end of the archive) would make a
	 * broken archive look whole: it is dropped. */
	if (s->cut)
		return (la_ssize_t)len;
	if (fs_write_all(s->fd, buf, len) < 0) {
		archive_set_error(a, errno, "write: %s", strerror(errno));
		return -1;
	}
	return (la_ssize_t)len;
}

/* A tar writer on FD that writes each piece at once (no blocking into
 * 10240-byte records, no padding of the last one, as Go's tar writer). */
static int open_writer(struct save *s, int fd, struct berr **err)
{
	s->fd = fd;
	s->a = archive_write_new();
	s->buf = malloc(SAVE_CHUNK);
	if (!s->a || !s->buf)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save");
	if (archive_write_set_format_pax_restricted(s->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(s->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(s->a, 0) != ARCHIVE_OK ||
	    archive_write_open2(s->a, s, NULL, out_write, NULL, NULL) != ARCHIVE_OK)
		return berr_set(err, BERR_INTERNAL, archive_errno(s->a), "save: %s",
				archive_msg(s->a));
	return 0;
}

int image_save(struct image_store *st, const char *const *names, size_t n,
	       enum image_archive_format format, int fd, struct berr **err)
{
	struct save s = { .st = st };
	int r = -1;

	if (n == 0)
		return berr_set(err, BERR_INVALID, 0, "no image to save");
	for (size_t i = 0; i < n; i++)
		if (add_name(&s, names[i], err) < 0)
			goto out;
	if (plan(&s, format, err) < 0 || open_writer(&s, fd, err) < 0)
		goto out;
	if ((format == IMAGE_ARCHIVE_DOCKER ? write_docker(&s, err) : write_oci(&s, err)) < 0)
		goto out;
	if (archive_write_close(s.a) != ARCHIVE_OK) {
		berr_set(err, BERR_INTERNAL, archive_errno(s.a), "save: %s", archive_msg(s.a));
		goto out;
	}
	r = 0;
out:
	/* Cut off where the failure was (see out_write()). */
	s.cut = r < 0;
	save_release(&s);
	return r;
}
