/* The json-file log format; see jsonlog.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/jsonlog.h"
#include "lib/timefmt.h"

void jsonlog_entry_clear(struct jsonlog_entry *e)
{
	free(e->data);
	e->data = NULL;
	e->len = 0;
}

/* The length of the valid UTF-8 sequence at S (of at most N bytes), or 0
 * when there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* DATA as the body of a JSON string, as Go's encoder writes it: <, > and &
 * escaped too, invalid UTF-8 replaced. */
static void put_escaped(struct buf *b, const char *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			put(b, e, 2);
			i++;
		} else if (c == '\n') {
			put(b, "\\n", 2);
			i++;
		} else if (c == '\r') {
			put(b, "\\r", 2);
			i++;
		} else if (c == '\t') {
			put(b, "\\t", 2);
			i++;
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			put(b, e, 6);
			i++;
		} else if ((n = utf8_len(s + i, len - i)) == 0) {
			put(b, "\\ufffd", 6);
			i++;
		} else if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
			   (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			/* U+2028 and U+2029, which Go escapes. */
			put(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			i += 3;
		} else {
			put(b, data + i, n);
			i += n;
		}
	}
}

int jsonlog_encode(const char *data, size_t len, enum jsonlog_stream stream, int64_t time_ns,
		   char **out, size_t *out_len)
{
	struct buf b = { 0 };
	char stamp[TIME_RFC3339_SIZE];
	struct timespec ts = { .tv_sec = time_ns / 1000000000, .tv_nsec = time_ns % 1000000000 };

	time_format_rfc3339(&ts, stamp);
	put(&b, "{\"log\":\"", 8);
	put_escaped(&b, data, len);
	put(&b, "\",\"stream\":\"", 12);
	put(&b, stream == JSONLOG_STDERR ? "stderr" : "stdout", 6);
	put(&b, "\",\"time\":\"", 10);
	put(&b, stamp, strlen(stamp));
	put(&b, "\"}\n", 3);
	if (b.oom) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

int jsonlog_decode(const char *line, size_t len, struct jsonlog_entry *e)
{
	json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	json_t *log = json_object_get(o, "log");
	const char *stream = json_string_value(json_object_get(o, "stream"));
	const char *when = json_string_value(json_object_get(o, "time"));
	struct timespec ts = { 0 };
	int rc = -1;

	if (!json_is_string(log) || !when || time_parse_rfc3339(when, &ts) < 0)
		goto out;
	e->len = json_string_length(log);
	e->data = malloc(e->len + 1);
	if (!e->data)
		goto out;
	memcpy(e->data, json_string_value(log), e->len + 1);
	e->stream = stream && strcmp(stream, "stderr") == 0 ? JSONLOG_STDERR : JSONLOG_STDOUT;
	e->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	rc = 0;
out:
	json_decref(o);
	return rc;
}
