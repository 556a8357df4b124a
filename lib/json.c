/* Typed, path-aware reads over jansson values, and string vectors.  Every
 * type or range error is BERR_INVALID and names the JSON path of the value,
 * built from a chain of stack frames only when an error is reported. */
#include "json.h"
#include "jsontext.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks an integer above INT64_MAX that bjson_load() had to carry as a
 * string, since jansson stores integers as long long.  The leading control
 * character keeps it apart from any string a config would hold on purpose;
 * a document that spells one out only gets the number it wrote. */
#define BIG_UINT_TAG	 "\001u64:"
#define BIG_UINT_TAG_LEN (sizeof(BIG_UINT_TAG) - 1)

/* How the tag is written in JSON text. */
#define BIG_UINT_TAG_JSON "\"\\u0001u64:"

/* Longest quoted excerpt of a document string in a message. */
#define QUOTE_MAX 64

static int oom(struct berr **err)
{
	return berr_set(err, BERR_INTERNAL, ENOMEM, "parse JSON");
}

/* Appends the digits of a decimal integer token above INT64_MAX (and at most
 * UINT64_MAX) as a tagged string; returns false to copy the token as is. */
static bool put_big_uint(const char *tok, size_t n, char *out, size_t *o)
{
	char digits[24];
	unsigned long long v;
	char *end = NULL;

	if (n < 19 || n > 20 || tok[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (tok[i] < '0' || tok[i] > '9')
			return false;
	memcpy(digits, tok, n);
	digits[n] = '\0';
	errno = 0;
	v = strtoull(digits, &end, 10);
	if (errno != 0 || *end != '\0' || v <= (unsigned long long)INT64_MAX)
		return false;
	memcpy(out + *o, BIG_UINT_TAG_JSON, strlen(BIG_UINT_TAG_JSON));
	*o += strlen(BIG_UINT_TAG_JSON);
	memcpy(out + *o, tok, n);
	*o += n;
	out[(*o)++] = '"';
	return true;
}

static bool next_is_colon(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i < n && p[i] == ':';
}

/* Rewrites the integer tokens of TEXT that jansson cannot hold (above
 * INT64_MAX) into tagged strings.  A token has at least 19 digits and grows by
 * 12 bytes, so the result fits in twice the input. */
static char *tag_big_uints(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(2 * len + 1);
	bool in_string = false;
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		char c = text[i];
		size_t n = 0;

		if (in_string) {
			out[o++] = c;
			i++;
			if (c == '\\' && i < len)
				out[o++] = text[i++];
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
			out[o++] = c;
			i++;
			continue;
		}
		while (i + n < len && strchr("-+.eE0123456789", text[i + n]) != NULL && text[i + n])
			n++;
		if (n == 0) {
			out[o++] = c;
			i++;
			continue;
		}
		/* A token followed by ':' sits where a key belongs: left alone,
		 * it stays the syntax error it is. */
		if (next_is_colon(text + i + n, len - i - n) ||
		    !put_big_uint(text + i, n, out, &o)) {
			memcpy(out + o, text + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

int bjson_load(const char *text, size_t len, size_t max, json_t **out, struct berr **err)
{
	_cleanup_free_ char *tagged = NULL;
	struct jsontext_error jerr;
	json_t *doc;

	if (len > max)
		return berr_set(err, BERR_INVALID, 0, "document too large (%zu bytes, limit %zu)",
				len, max);
	doc = jsontext_parse(text, len, &jerr);
	if (doc == NULL && jerr.numeric_overflow) {
		size_t tagged_len = 0;

		tagged = tag_big_uints(text, len, &tagged_len);
		if (tagged == NULL)
			return oom(err);
		doc = jsontext_parse(tagged, tagged_len, &jerr);
	}
	if (doc == NULL)
		return berr_set(err, BERR_INVALID, 0, "invalid JSON at line %d, column %d: %s",
				jerr.line, jerr.column, jerr.text);
	*out = doc;
	return 0;
}

/* Writes KEY as ".key", or as ["key"] when it would not read as one name. */
static void put_key(FILE *f, const char *key, bool first)
{
	bool plain = key[0] != '\0';

	for (const char *p = key; *p; p++)
		if (!(*p == '_' || *p == '-' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			plain = false;
	if (plain) {
		fprintf(f, "%s%s", first ? "" : ".", key);
	} else {
		_cleanup_free_ char *q = bjson_quote(key);

		fprintf(f, "[%s]", q ? q : "\"?\"");
	}
}

static void put_path(FILE *f, const struct bjson_path *path, bool *first)
{
	if (path == NULL)
		return;
	put_path(f, path->up, first);
	if (path->key != NULL)
		put_key(f, path->key, *first);
	else
		fprintf(f, "[%zu]", path->index);
	*first = false;
}

char *bjson_path_format(const struct bjson_path *path)
{
	char *buf = NULL;
	size_t size = 0;
	bool first = true;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	put_path(f, path, &first);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int bjson_error(struct berr **err, const struct bjson_path *path, const char *fmt, ...)
{
	_cleanup_free_ char *where = NULL;
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL;
		return oom(err);
	}
	where = bjson_path_format(path);
	if (where == NULL)
		return oom(err);
	if (where[0] == '\0')
		return berr_set(err, BERR_INVALID, 0, "%s", msg);
	return berr_set(err, BERR_INVALID, 0, "%s: %s", where, msg);
}

char *bjson_quote(const char *s)
{
	char *buf = NULL;
	size_t size = 0;
	size_t i;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	fputc('"', f);
	for (i = 0; s[i] != '\0' && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
	if (s[i] != '\0')
		fputs("...", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void bjson_fput_escaped(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	for (;; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = { '\\', 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* What needs no escape goes out in one piece. */
		fwrite(run, 1, (size_t)(s - run), f);
		if (c == '\0')
			return;
		run = s + 1;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		fwrite(esc, 1, n, f);
	}
}

void bjson_fput_string(FILE *f, const char *s)
{
	fputc('"', f);
	bjson_fput_escaped(f, s);
	fputc('"', f);
}

/* A string that bjson_load() made out of a big integer. */
static bool is_big_uint(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > BIG_UINT_TAG_LEN &&
	       memcmp(json_string_value(v), BIG_UINT_TAG, BIG_UINT_TAG_LEN) == 0;
}

int bjson_as_object(const json_t *v, const struct bjson_path *path, struct berr **err)
{
	if (!json_is_object(v))
		return bjson_error(err, path, "expected an object");
	return 0;
}

int bjson_as_array(const json_t *v, const struct bjson_path *path, struct berr **err)
{
	if (!json_is_array(v))
		return bjson_error(err, path, "expected an array");
	return 0;
}

int bjson_as_string(const json_t *v, const struct bjson_path *path, const char **out,
		    struct berr **err)
{
	if (!json_is_string(v) || is_big_uint(v))
		return bjson_error(err, path, "expected a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bjson_error(err, path, "string contains a NUL byte");
	*out = json_string_value(v);
	return 0;
}

int bjson_as_bool(const json_t *v, const struct bjson_path *path, bool *out, struct berr **err)
{
	if (!json_is_boolean(v))
		return bjson_error(err, path, "expected a boolean");
	*out = json_is_true(v);
	return 0;
}

int bjson_as_int64(const json_t *v, const struct bjson_path *path, int64_t min, int64_t max,
		   int64_t *out, struct berr **err)
{
	int64_t n;

	if (is_big_uint(v))
		return bjson_error(err, path, "%s is out of range (%" PRId64 " to %" PRId64 ")",
				   json_string_value(v) + BIG_UINT_TAG_LEN, min, max);
	if (!json_is_integer(v))
		return bjson_error(err, path, "expected an integer");
	n = (int64_t)json_integer_value(v);
	if (n < min || n > max)
		return bjson_error(err, path,
				   "%" PRId64 " is out of range (%" PRId64 " to %" PRId64 ")", n,
				   min, max);
	*out = n;
	return 0;
}

int bjson_as_uint64(const json_t *v, const struct bjson_path *path, uint64_t max, uint64_t *out,
		    struct berr **err)
{
	uint64_t n;

	if (is_big_uint(v)) {
		/* Written by bjson_load() from at most 20 checked digits. */
		n = strtoull(json_string_value(v) + BIG_UINT_TAG_LEN, NULL, 10);
	} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n = (uint64_t)json_integer_value(v);
	} else {
		return bjson_error(err, path, "expected an unsigned integer");
	}
	if (n > max)
		return bjson_error(err, path, "%" PRIu64 " is out of range (0 to %" PRIu64 ")", n,
				   max);
	*out = n;
	return 0;
}

json_t *bjson_from_strv(char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

int bjson_as_strv(const json_t *v, const struct bjson_path *path, char ***out, struct berr **err)
{
	_cleanup_strv_ char **strv = NULL;
	size_t i;
	json_t *item;

	if (bjson_as_array(v, path, err) < 0)
		return -1;
	strv = calloc(json_array_size(v) + 1, sizeof(*strv));
	if (strv == NULL)
		return oom(err);
	json_array_foreach (v, i, item) {
		const char *s = NULL;

		if (bjson_as_string(item, BJSON_INDEX(path, i), &s, err) < 0)
			return -1;
		strv[i] = strdup(s);
		if (strv[i] == NULL)
			return oom(err);
	}
	*out = steal_ptr(&strv);
	return 0;
}

int bjson_as_strmap(const json_t *v, const struct bjson_path *path, char ***keys, char ***values,
		    size_t *n, struct berr **err)
{
	_cleanup_strv_ char **k = NULL;
	_cleanup_strv_ char **val = NULL;
	const char *key;
	json_t *item;
	size_t i = 0;

	if (bjson_as_object(v, path, err) < 0)
		return -1;
	k = calloc(json_object_size(v) + 1, sizeof(*k));
	val = calloc(json_object_size(v) + 1, sizeof(*val));
	if (k == NULL || val == NULL)
		return oom(err);
	/* The cast only drops const for the iteration macro; nothing is changed. */
	json_object_foreach ((json_t *)v, key, item) {
		const char *s = NULL;

		if (bjson_as_string(item, BJSON_KEY(path, key), &s, err) < 0)
			return -1;
		k[i] = strdup(key);
		val[i] = strdup(s);
		i++;
		if (k[i - 1] == NULL || val[i - 1] == NULL)
			return oom(err);
	}
	*keys = steal_ptr(&k);
	*values = steal_ptr(&val);
	*n = i;
	return 0;
}

int bjson_get(const json_t *obj, const struct bjson_path *path, const char *key,
	      enum bjson_need need, json_t **out, struct berr **err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		if (need == BJSON_REQUIRED)
			return bjson_error(err, BJSON_KEY(path, key), "required field is missing");
		return 0;
	}
	*out = v;
	return 1;
}

int bjson_get_object(const json_t *obj, const struct bjson_path *path, const char *key,
		     enum bjson_need need, json_t **out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_object(v, BJSON_KEY(path, key), err) < 0)
		return -1;
	*out = v;
	return 1;
}

int bjson_get_array(const json_t *obj, const struct bjson_path *path, const char *key,
		    enum bjson_need need, json_t **out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_array(v, BJSON_KEY(path, key), err) < 0)
		return -1;
	*out = v;
	return 1;
}

int bjson_get_string(const json_t *obj, const struct bjson_path *path, const char *key,
		     enum bjson_need need, const char **out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_string(v, BJSON_KEY(path, key), out, err) < 0)
		return -1;
	return 1;
}

int bjson_get_string_dup(const json_t *obj, const struct bjson_path *path, const char *key,
			 enum bjson_need need, char **out, struct berr **err)
{
	const char *s = NULL;
	char *copy;
	int r = bjson_get_string(obj, path, key, need, &s, err);

	if (r <= 0)
		return r;
	copy = strdup(s);
	if (copy == NULL)
		return oom(err);
	*out = copy;
	return 1;
}

int bjson_get_bool(const json_t *obj, const struct bjson_path *path, const char *key,
		   enum bjson_need need, bool *out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_bool(v, BJSON_KEY(path, key), out, err) < 0)
		return -1;
	return 1;
}

int bjson_get_int64(const json_t *obj, const struct bjson_path *path, const char *key,
		    enum bjson_need need, int64_t min, int64_t max, int64_t *out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_int64(v, BJSON_KEY(path, key), min, max, out, err) < 0)
		return -1;
	return 1;
}

int bjson_get_uint64(const json_t *obj, const struct bjson_path *path, const char *key,
		     enum bjson_need need, uint64_t max, uint64_t *out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_uint64(v, BJSON_KEY(path, key), max, out, err) < 0)
		return -1;
	return 1;
}

int bjson_get_strv(const json_t *obj, const struct bjson_path *path, const char *key,
		   enum bjson_need need, char ***out, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(obj, path, key, need, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_strv(v, BJSON_KEY(path, key), out, err) < 0)
		return -1;
	return 1;
}

void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

char **strv_dup(char *const *v)
{
	size_t n = strv_length(v);
	_cleanup_strv_ char **copy = calloc(n + 1, sizeof(*copy));

	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		copy[i] = strdup(v[i]);
		if (copy[i] == NULL)
			return NULL;
	}
	return steal_ptr(&copy);
}

int strv_append(char ***v, const char *s)
{
	size_t n = strv_length(*v);
	char *copy = strdup(s);
	char **nv;

	if (!copy)
		return -1;
	nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv) {
		free(copy);
		return -1;
	}
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool bjson_label_matches(const json_t *labels, const char *filter)
{
	const char *eq = strchr(filter, '=');
	size_t klen = eq ? (size_t)(eq - filter) : strlen(filter);
	const char *key, *have;
	json_t *value;

	json_object_foreach ((json_t *)labels, key, value) {
		if (strlen(key) != klen || strncmp(key, filter, klen) != 0)
			continue;
		have = json_string_value(value);
		return have && (!eq || strcmp(have, eq + 1) == 0);
	}
	return false;
}

char *strv_join(char *const *v, const char *sep)
{
	size_t len = 1, n = strv_length(v);
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + (i ? strlen(sep) : 0);
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < n; i++)
		p = stpcpy(i ? stpcpy(p, sep) : p, v[i]);
	*p = '\0';
	return out;
}

int bjson_filters_parse(const char *text, const char *const *known, json_t **out, struct berr **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_json_ json_t *norm = json_object();
	json_error_t je;
	const char *key;
	json_t *vals;

	*out = NULL;
	if (!norm)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "filters");
	if (text && *text) {
		root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(root))
			return berr_set(err, BERR_INVALID, 0, "invalid filter: %s",
					root ? "expected a JSON object" : je.text);
	}
	json_object_foreach (root, key, vals) {
		_cleanup_json_ json_t *list = json_array();
		bool allowed = false;
		const char *name;
		size_t i;
		json_t *v;

		for (size_t k = 0; known && known[k] && !allowed; k++)
			allowed = strcmp(known[k], key) == 0;
		if (known && !allowed)
			return berr_set(err, BERR_INVALID, 0, "invalid filter '%s'", key);
		if (!list)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "filters");
		if (json_is_array(vals)) {
			json_array_foreach (vals, i, v)
				if (json_is_string(v))
					json_array_append(list, v);
		} else if (json_is_object(vals)) {
			/* The old form: {"type": {"container": true}}. */
			json_object_foreach (vals, name, v)
				if (json_is_true(v))
					json_array_append_new(list, json_string(name));
		} else {
			return berr_set(err, BERR_INVALID, 0, "invalid filter: bad value of '%s'",
					key);
		}
		json_object_set(norm, key, list);
	}
	*out = steal_ptr(&norm);
	return 0;
}
