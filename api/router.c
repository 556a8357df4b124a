/* The Engine API's routing rules as pure functions: query strings decoded
 * the way Go's url.ParseQuery does, the /v1.NN prefix checked with
 * Docker's messages, and patterns whose {name} parameters may span '/'
 * as image names do. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/router.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX (and '+' as a space when PLUS) into a new string. */
static char *unescape(const char *s, size_t len, bool plus)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			goto bad;
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

char *api_path_unescape(const char *s, size_t len)
{
	return unescape(s, len, false);
}

void api_query_clear(struct api_query *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->keys[i]);
		free(q->values[i]);
	}
	free(q->keys);
	free(q->values);
	q->keys = q->values = NULL;
	q->n = 0;
}

static int query_add(struct api_query *q, char *key, char *value)
{
	char **k = realloc(q->keys, (q->n + 1) * sizeof(*k));

	if (!k)
		return -1;
	q->keys = k;
	k = realloc(q->values, (q->n + 1) * sizeof(*k));
	if (!k)
		return -1;
	q->values = k;
	q->keys[q->n] = key;
	q->values[q->n] = value;
	q->n++;
	return 0;
}

int api_query_parse(const char *qs, size_t len, struct api_query *q, struct berr **err)
{
	struct api_query out = { 0 };
	size_t pos = 0;

	while (pos < len) {
		const char *part = qs + pos;
		const char *amp = memchr(part, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - part) : len - pos;
		const char *eq = memchr(part, '=', plen);
		size_t klen = eq ? (size_t)(eq - part) : plen;
		_cleanup_free_ char *key = NULL;
		_cleanup_free_ char *value = NULL;

		pos += plen + 1;
		if (plen == 0)
			continue;
		key = unescape(part, klen, true);
		value = eq ? unescape(eq + 1, plen - klen - 1, true) : strdup("");
		if (!key || !value) {
			api_query_clear(&out);
			return berr_set(err, BERR_INVALID, 0, "invalid query string: bad escape");
		}
		if (query_add(&out, key, value) < 0) {
			api_query_clear(&out);
			return berr_set(err, BERR_INTERNAL, ENOMEM, "decode query string");
		}
		key = value = NULL;
	}
	*q = out;
	return 0;
}

const char *api_query_get(const struct api_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->keys[i], key) == 0)
			return q->values[i];
	return NULL;
}

bool api_query_bool(const struct api_query *q, const char *key)
{
	static const char *const no[] = { "", "0", "no", "false", "none" };
	const char *v = api_query_get(q, key);
	size_t len;

	if (!v)
		return false;
	while (isspace((unsigned char)*v))
		v++;
	len = strlen(v);
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strlen(no[i]) == len && strncasecmp(v, no[i], len) == 0)
			return false;
	return true;
}

/* Reads the digits at *s into *out, capped so that a long run cannot
 * overflow; returns the number of digits. */
static size_t read_number(const char **s, int *out)
{
	size_t n = 0;
	long v = 0;

	while (isdigit((unsigned char)**s)) {
		if (v < 1000000)
			v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	*out = (int)v;
	return n;
}

int api_path_version(const char *path, const char **rest, int *major, int *minor, struct berr **err)
{
	const char *p = path, *start;
	int ma = API_VERSION_MAJOR, mi = API_VERSION_MINOR;
	int len;

	/* Docker's router: "/v{version:[0-9.]+}" followed by the route. */
	if (strncmp(p, "/v", 2) != 0 || !isdigit((unsigned char)p[2])) {
		*rest = path;
		*major = ma;
		*minor = mi;
		return 0;
	}
	start = p + 2;
	p = start;
	if (read_number(&p, &ma) == 0)
		goto none;
	mi = 0;
	if (*p == '.') {
		p++;
		read_number(&p, &mi);
	}
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (*p != '/' && *p != '\0')
		goto none;
	len = (int)(p - start);
	if (ma < API_VERSION_MAJOR || (ma == API_VERSION_MAJOR && mi < API_MIN_VERSION_MIN))
		return berr_set(err, BERR_INVALID, 0,
				"client version %.*s is too old. Minimum supported API version is "
				"%s, please upgrade your client to a newer version",
				len > 32 ? 32 : len, start, API_MIN_VERSION);
	if (ma > API_VERSION_MAJOR || (ma == API_VERSION_MAJOR && mi > API_VERSION_MINOR))
		return berr_set(
			err, BERR_INVALID, 0,
			"client version %.*s is too new. Maximum supported API version is %s",
			len > 32 ? 32 : len, start, API_VERSION);
	*rest = *p ? p : "/";
	*major = ma;
	*minor = mi;
	return 0;
none:
	*rest = path;
	*major = API_VERSION_MAJOR;
	*minor = API_VERSION_MINOR;
	return 0;
}

void api_params_clear(struct api_params *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->values[i]);
	memset(p, 0, sizeof(*p));
}

const char *api_params_get(const struct api_params *p, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < p->n; i++)
		if (p->name_len[i] == len && strncmp(p->names[i], name, len) == 0)
			return p->values[i];
	return NULL;
}

/* Matches PAT against the LEN bytes of S, recording parameter spans in
 * STARTS/LENS.  A parameter tries its longest span first, so that the
 * fixed text after it matches the end of the path. */
static bool match(const char *pat, const char *s, size_t len, struct api_params *p,
		  const char **starts, size_t *lens)
{
	while (*pat && *pat != '{') {
		if (len == 0 || *pat != *s)
			return false;
		pat++;
		s++;
		len--;
	}
	if (*pat == '\0')
		return len == 0;

	const char *name = pat + 1;
	const char *close = strchr(name, '}');
	size_t idx = p->n;

	if (!close || idx >= API_MAX_PARAMS)
		return false;
	for (size_t take = len; take >= 1; take--) {
		p->names[idx] = name;
		p->name_len[idx] = (size_t)(close - name);
		starts[idx] = s;
		lens[idx] = take;
		p->n = idx + 1;
		if (match(close + 1, s + take, len - take, p, starts, lens))
			return true;
	}
	p->n = idx;
	return false;
}

int api_pattern_match(const char *pattern, const char *path, struct api_params *out,
		      struct berr **err)
{
	struct api_params p = { 0 };
	const char *starts[API_MAX_PARAMS];
	size_t lens[API_MAX_PARAMS];

	if (!match(pattern, path, strlen(path), &p, starts, lens))
		return 0;
	for (size_t i = 0; i < p.n; i++) {
		p.values[i] = api_path_unescape(starts[i], lens[i]);
		if (!p.values[i]) {
			p.n = i;
			api_params_clear(&p);
			return berr_set(err, BERR_INVALID, 0, "invalid escape in path");
		}
	}
	if (out)
		*out = p;
	else
		api_params_clear(&p);
	return 1;
}
