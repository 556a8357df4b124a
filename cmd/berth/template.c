/* The --format templates of docker's inspect and list commands: the small
 * part of Go's text/template that scripts rely on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/cli.h"
#include "lib/json.h"

/* Growing output text. */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	char *nb;

	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 128;

		while (cap < t->len + n + 1)
			cap *= 2;
		nb = realloc(t->buf, cap);
		if (!nb) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* V as Go's fmt prints it with %v. */
static void print_value(struct text *t, const json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		text_add(t, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		text_puts(t, num);
		break;
	case JSON_REAL:
		if ((double)(long long)json_real_value(v) == json_real_value(v))
			snprintf(num, sizeof(num), "%.0f", json_real_value(v));
		else
			snprintf(num, sizeof(num), "%g", json_real_value(v));
		text_puts(t, num);
		break;
	case JSON_TRUE:
		text_puts(t, "true");
		break;
	case JSON_FALSE:
		text_puts(t, "false");
		break;
	case JSON_NULL:
		text_puts(t, "<nil>");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;

		text_puts(t, "[");
		json_array_foreach (v, i, e) {
			if (i)
				text_puts(t, " ");
			print_value(t, e);
		}
		text_puts(t, "]");
		break;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *e;

		if (!keys) {
			t->oom = true;
			return;
		}
		json_object_foreach ((json_t *)v, k, e)
			keys[i++] = k;
		/* Go prints a map with its keys in order. */
		qsort(keys, n, sizeof(*keys), cmp_str);
		text_puts(t, "map[");
		for (i = 0; i < n; i++) {
			if (i)
				text_puts(t, " ");
			text_puts(t, keys[i]);
			text_puts(t, ":");
			print_value(t, json_object_get(v, keys[i]));
		}
		text_puts(t, "]");
		free(keys);
		break;
	}
	}
}

/* Resolves ".A.B" (or ".") against ROOT; NULL when a field is missing. */
static const json_t *resolve(const json_t *root, const char *path, size_t len)
{
	const json_t *v = root;
	size_t i = 1;

	if (len == 1)
		return root;
	while (i < len && v) {
		size_t start = i;
		char key[256];

		while (i < len && path[i] != '.')
			i++;
		if (i - start >= sizeof(key) || !json_is_object(v))
			return NULL;
		memcpy(key, path + start, i - start);
		key[i - start] = '\0';
		v = json_object_get(v, key);
		i++;
	}
	return v;
}

/* Expands one action (the text between "{{" and "}}", trimmed). */
static int action(struct text *t, const char *a, size_t len, const json_t *root, const char *tmpl,
		  struct berr **err)
{
	bool as_json = false;
	const json_t *v;

	if (len > 5 && strncmp(a, "json ", 5) == 0) {
		as_json = true;
		a += 5;
		len -= 5;
		while (len && *a == ' ')
			a++, len--;
	}
	if (len == 0 || a[0] != '.' || memchr(a, ' ', len))
		return berr_set(
			err, BERR_INVALID, 0,
			"template parsing error: template: :1: unsupported action in \"%s\"", tmpl);
	v = resolve(root, a, len);
	if (as_json) {
		char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("null");

		if (!s)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "format");
		text_puts(t, s);
		free(s);
	} else if (!v) {
		text_puts(t, "<no value>");
	} else {
		print_value(t, v);
	}
	return 0;
}

int cli_template_expand(const char *tmpl, const json_t *value, char **out, struct berr **err)
{
	struct text t = { 0 };
	const char *p = tmpl;

	text_puts(&t, "");
	while (*p) {
		const char *open = strstr(p, "{{"), *close, *a, *e;

		if (!open) {
			text_puts(&t, p);
			break;
		}
		text_add(&t, p, (size_t)(open - p));
		close = strstr(open + 2, "}}");
		if (!close) {
			free(t.buf);
			return berr_set(err, BERR_INVALID, 0,
					"template parsing error: template: :1: unclosed action");
		}
		a = open + 2;
		e = close;
		while (a < e && (*a == ' ' || *a == '-'))
			a++;
		while (e > a && (e[-1] == ' ' || e[-1] == '-'))
			e--;
		if (action(&t, a, (size_t)(e - a), value, tmpl, err) < 0) {
			free(t.buf);
			return -1;
		}
		p = close + 2;
	}
	if (t.oom) {
		free(t.buf);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "format");
	}
	*out = t.buf;
	return 0;
}

int cli_print_inspect(const json_t *values, const char *format)
{
	struct berr *err = NULL;
	size_t i;
	json_t *v;

	if (!format) {
		char *s = json_dumps(values, JSON_INDENT(4));

		if (!s) {
			berr_set(&err, BERR_INTERNAL, ENOMEM, "print");
			return cli_report(err);
		}
		printf("%s\n", s);
		free(s);
		return 0;
	}
	json_array_foreach (values, i, v) {
		char *s = NULL;

		if (cli_template_expand(format, v, &s, &err) < 0)
			return cli_report(err);
		printf("%s\n", s);
		free(s);
	}
	return 0;
}
