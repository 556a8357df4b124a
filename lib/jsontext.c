/* JSON text to jansson values and back, scanning bytes (see jsontext.h). */
#include "jsontext.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* jansson's limit: every value, scalars too, is one level down. */
#define DEPTH_MAX 2048

struct parser {
	const char *start, *p, *end;
	int depth;
	struct jsontext_error *e;
	char *buf; /* a string with escapes, decoded */
	size_t cap;
};

static json_t *fail(struct parser *ps, const char *at, bool overflow, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static json_t *fail(struct parser *ps, const char *at, bool overflow, const char *fmt, ...)
{
	struct jsontext_error *e = ps->e;
	const char *line_start = ps->start;
	va_list ap;

	e->line = 1;
	for (const char *q = ps->start; q < at; q++) {
		if (*q == '\n') {
			e->line++;
			line_start = q + 1;
		}
	}
	e->column = (int)(at - line_start) + 1;
	e->numeric_overflow = overflow;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return NULL;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/* The length of the valid UTF-8 sequence at P (a byte of 0x80 or more),
 * or 0: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static bool buf_reserve(struct parser *ps, size_t need)
{
	char *grown;
	size_t cap;

	if (need <= ps->cap)
		return true;
	cap = ps->cap ? ps->cap : 256;
	while (cap < need)
		cap *= 2;
	grown = realloc(ps->buf, cap);
	if (!grown)
		return false;
	ps->buf = grown;
	ps->cap = cap;
	return true;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The escape at P (after its backslash) into the scratch buffer at *N;
 * returns what follows it, or NULL after fail(). */
static const char *unescape(struct parser *ps, const char *p, size_t *n)
{
	static const char plain[] = "\"\\/bfnrt";
	static const char meant[] = "\"\\/\b\f\n\r\t";
	const char *at = p - 1;
	const char *hit;
	int cp, lo;

	if (p >= ps->end)
		return fail(ps, at, false, "premature end of input"), NULL;
	if (*p != 'u') {
		hit = *p ? strchr(plain, *p) : NULL;
		if (!hit)
			return fail(ps, at, false, "invalid escape"), NULL;
		ps->buf[(*n)++] = meant[hit - plain];
		return p + 1;
	}
	if (ps->end - p < 5 || (cp = hex4(p + 1)) < 0)
		return fail(ps, at, false, "invalid escape"), NULL;
	p += 5;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2)) < 0 ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return fail(ps, at, false, "invalid Unicode '\\u%04X'", (unsigned)cp), NULL;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		p += 6;
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		return fail(ps, at, false, "invalid Unicode '\\u%04X'", (unsigned)cp), NULL;
	} else if (cp == 0) {
		return fail(ps, at, false, "\\u0000 is not allowed"), NULL;
	}
	*n += utf8_encode((uint32_t)cp, ps->buf + *n);
	return p;
}

/* The string whose opening quote is at ps->p: its bytes (in the text
 * itself when it has no escape, else decoded in ps->buf) and length. */
static bool parse_string(struct parser *ps, const char **out, size_t *len)
{
	const char *p = ps->p + 1;
	const char *run;
	size_t n = 0;
	bool escaped = false;

	for (;;) {
		run = p;
		while (p < ps->end) {
			unsigned char c = (unsigned char)*p;

			if (c == '"' || c == '\\' || c < 0x20)
				break;
			if (c < 0x80) {
				p++;
				continue;
			}
			size_t k = utf8_length((const unsigned char *)p,
					       (const unsigned char *)ps->end);

			if (k == 0) {
				fail(ps, p, false, "unable to decode byte 0x%x", c);
				return false;
			}
			p += k;
		}
		if (p >= ps->end) {
			fail(ps, p, false, "premature end of input");
			return false;
		}
		if (*p != '"' && *p != '\\') {
			fail(ps, p, false, "control character 0x%x", (unsigned char)*p);
			return false;
		}
		if (!escaped && *p == '"') {
			*out = run;
			*len = (size_t)(p - run);
			ps->p = p + 1;
			return true;
		}
		/* The run, and the escape (at most four bytes of UTF-8). */
		if (!buf_reserve(ps, n + (size_t)(p - run) + 4)) {
			fail(ps, p, false, "out of memory");
			return false;
		}
		memcpy(ps->buf + n, run, (size_t)(p - run));
		n += (size_t)(p - run);
		if (*p == '"') {
			*out = ps->buf;
			*len = n;
			ps->p = p + 1;
			return true;
		}
		escaped = true;
		p = unescape(ps, p + 1, &n);
		if (!p)
			return false;
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static json_t *parse_number(struct parser *ps)
{
	const char *start = ps->p, *p = ps->p;
	bool negative = *p == '-', real = false;
	char token[64];
	char *tail = NULL;
	uint64_t v = 0;
	double d;

	if (negative)
		p++;
	if (p >= ps->end || !is_digit(*p))
		return fail(ps, start, false, "invalid token");
	if (*p == '0') {
		p++;
		if (p < ps->end && is_digit(*p))
			return fail(ps, start, false, "invalid token");
	}
	while (p < ps->end && is_digit(*p))
		p++;
	if (p < ps->end && *p == '.') {
		real = true;
		if (++p >= ps->end || !is_digit(*p))
			return fail(ps, start, false, "invalid token");
		while (p < ps->end && is_digit(*p))
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		real = true;
		if (++p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= ps->end || !is_digit(*p))
			return fail(ps, start, false, "invalid token");
		while (p < ps->end && is_digit(*p))
			p++;
	}
	ps->p = p;
	if (!real) {
		for (const char *q = start + negative; q < p; q++) {
			unsigned digit = (unsigned)(*q - '0');

			if (v > (UINT64_MAX - digit) / 10)
				return fail(ps, start, true, "too big integer");
			v = v * 10 + digit;
		}
		if (!negative && v > (uint64_t)INT64_MAX)
			return fail(ps, start, true, "too big integer");
		if (negative && v > (uint64_t)INT64_MAX + 1)
			return fail(ps, start, true, "too big negative integer");
		return json_integer(negative ? (json_int_t)(0 - v) : (json_int_t)v);
	}
	if ((size_t)(p - start) >= sizeof(token)) {
		_cleanup_free_ char *copy = strndup(start, (size_t)(p - start));

		if (!copy)
			return fail(ps, start, false, "out of memory");
		errno = 0;
		d = strtod(copy, &tail);
	} else {
		memcpy(token, start, (size_t)(p - start));
		token[p - start] = '\0';
		errno = 0;
		d = strtod(token, &tail);
	}
	if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
		return fail(ps, start, true, "real number overflow");
	return json_real(d);
}

static json_t *parse_value(struct parser *ps);

static json_t *parse_array(struct parser *ps)
{
	json_t *array = json_array();

	if (!array)
		return fail(ps, ps->p, false, "out of memory");
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return array;
	}
	for (;;) {
		json_t *item = parse_value(ps);

		if (!item || json_array_append_new(array, item) < 0) {
			if (item)
				fail(ps, ps->p, false, "out of memory");
			json_decref(array);
			return NULL;
		}
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return array;
		}
		json_decref(array);
		return fail(ps, ps->p, false, "']' expected");
	}
}

static json_t *parse_object(struct parser *ps)
{
	json_t *object = json_object();

	if (!object)
		return fail(ps, ps->p, false, "out of memory");
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return object;
	}
	for (;;) {
		_cleanup_free_ char *key_copy = NULL;
		const char *key;
		size_t key_len;
		json_t *value;

		if (ps->p >= ps->end || *ps->p != '"') {
			json_decref(object);
			return fail(ps, ps->p, false, "string or '}' expected");
		}
		if (!parse_string(ps, &key, &key_len)) {
			json_decref(object);
			return NULL;
		}
		/* The scratch buffer is the value's too. */
		if (key == ps->buf && !(key = key_copy = strndup(key, key_len))) {
			json_decref(object);
			return fail(ps, ps->p, false, "out of memory");
		}
		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			json_decref(object);
			return fail(ps, ps->p, false, "':' expected");
		}
		ps->p++;
		value = parse_value(ps);
		if (!value) {
			json_decref(object);
			return NULL;
		}
		if (json_object_setn_new_nocheck(object, key, key_len, value) < 0) {
			json_decref(object);
			return fail(ps, ps->p, false, "out of memory");
		}
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_space(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return object;
		}
		json_decref(object);
		return fail(ps, ps->p, false, "'}' expected");
	}
}

static bool literal(struct parser *ps, const char *word, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static json_t *parse_value(struct parser *ps)
{
	json_t *v;

	skip_space(ps);
	if (ps->p >= ps->end)
		return fail(ps, ps->p, false, "premature end of input");
	if (++ps->depth > DEPTH_MAX)
		return fail(ps, ps->p, false, "maximum parsing depth reached");
	switch (*ps->p) {
	case '{':
		v = parse_object(ps);
		break;
	case '[':
		v = parse_array(ps);
		break;
	case '"': {
		const char *s;
		size_t n;

		v = parse_string(ps, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
		break;
	}
	case 't':
		v = literal(ps, "true", 4) ? json_true() : fail(ps, ps->p, false, "invalid token");
		break;
	case 'f':
		v = literal(ps, "false", 5) ? json_false()
					    : fail(ps, ps->p, false, "invalid token");
		break;
	case 'n':
		v = literal(ps, "null", 4) ? json_null() : fail(ps, ps->p, false, "invalid token");
		break;
	default:
		v = *ps->p == '-' || is_digit(*ps->p) ? parse_number(ps)
						      : fail(ps, ps->p, false, "invalid token");
	}
	ps->depth--;
	return v;
}

json_t *jsontext_parse(const char *text, size_t len, struct jsontext_error *e)
{
	struct parser ps = { .start = text, .p = text, .end = text + len, .e = e };
	json_t *v;

	skip_space(&ps);
	if (ps.p >= ps.end || (*ps.p != '{' && *ps.p != '['))
		return fail(&ps, ps.p, false, "'[' or '{' expected");
	v = parse_value(&ps);
	if (v) {
		skip_space(&ps);
		if (ps.p < ps.end) {
			json_decref(v);
			v = fail(&ps, ps.p, false, "end of file expected");
		}
	}
	free(ps.buf);
	return v;
}

/* ----- dump ----- */

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static bool out_reserve(struct out *o, size_t more)
{
	char *grown;
	size_t cap;

	if (o->failed)
		return false;
	if (o->len + more <= o->cap)
		return true;
	cap = o->cap ? o->cap : 1024;
	while (cap < o->len + more)
		cap *= 2;
	grown = realloc(o->buf, cap);
	if (!grown) {
		o->failed = true;
		return false;
	}
	o->buf = grown;
	o->cap = cap;
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (out_reserve(o, n)) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
	}
}

static void put_string(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	/* At worst six bytes for each, and the quotes. */
	if (!out_reserve(o, 6 * n + 2))
		return;
	o->buf[o->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *w;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		memcpy(o->buf + o->len, s + run, i - run);
		o->len += i - run;
		run = i + 1;
		w = o->buf + o->len;
		w[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			w[1] = (char)c;
			break;
		case '\b':
			w[1] = 'b';
			break;
		case '\f':
			w[1] = 'f';
			break;
		case '\n':
			w[1] = 'n';
			break;
		case '\r':
			w[1] = 'r';
			break;
		case '\t':
			w[1] = 't';
			break;
		default:
			memcpy(w + 1, "u00", 3);
			w[4] = hex[c >> 4];
			w[5] = hex[c & 15];
			o->len += 4;
		}
		o->len += 2;
	}
	memcpy(o->buf + o->len, s + run, n - run);
	o->len += n - run;
	o->buf[o->len++] = '"';
}

/* As jansson writes a real: 17 digits, a ".0" when it would read as an
 * integer, no '+' or leading zeros in the exponent. */
static void put_real(struct out *o, double d)
{
	char text[40];
	int n = snprintf(text, sizeof(text), "%.17g", d);
	char *exp, *from, *to;

	if (n < 0 || (size_t)n >= sizeof(text) - 2) {
		o->failed = true;
		return;
	}
	if (strspn(text, "0123456789-") == (size_t)n) {
		memcpy(text + n, ".0", 3);
		n += 2;
	}
	exp = strchr(text, 'e');
	if (exp) {
		to = exp + 1;
		if (*to == '-')
			to++;
		from = to;
		if (*from == '+')
			from++;
		while (*from == '0' && from[1] != '\0')
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(text);
	}
	put(o, text, (size_t)n);
}

static void put_value(struct out *o, const json_t *v)
{
	char num[24];
	const char *key;
	json_t *item;
	size_t i;
	bool first = true;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put(o, "{", 1);
		json_object_foreach ((json_t *)v, key, item) {
			if (!first)
				put(o, ",", 1);
			first = false;
			put_string(o, key, strlen(key));
			put(o, ":", 1);
			put_value(o, item);
		}
		put(o, "}", 1);
		break;
	case JSON_ARRAY:
		put(o, "[", 1);
		json_array_foreach (v, i, item) {
			if (i > 0)
				put(o, ",", 1);
			put_value(o, item);
		}
		put(o, "]", 1);
		break;
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put(o, num,
		    (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				     json_integer_value(v)));
		break;
	case JSON_REAL:
		put_real(o, json_real_value(v));
		break;
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	case JSON_NULL:
		put(o, "null", 4);
		break;
	}
}

char *jsontext_dump(const json_t *v)
{
	struct out o = { 0 };

	if (!v)
		return NULL;
	put_value(&o, v);
	put(&o, "", 1);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
