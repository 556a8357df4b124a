/* The --format templates of docker's inspect and list commands: the part
 * of Go's text/template that scripts rely on (fields, variables, if, range,
 * with, pipelines, Go's builtins and the docker CLI's json, join, split,
 * upper, lower, title, truncate, pad), over JSON values. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
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

/*
 * Parsing: the template becomes a tree of text, actions and the blocks of
 * if, range and with, as Go's text/template parses it.
 */

enum node_kind {
	N_TEXT,
	N_ACTION,
	N_IF,
	N_RANGE,
	N_WITH
};

struct node {
	enum node_kind kind;
	const char *src; /* the text, or the action's pipeline */
	size_t len;
	struct node *body, *alt; /* a block's list, and its {{else}} list */
	struct node *next;
};

static void node_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		node_free(n->body);
		node_free(n->alt);
		free(n);
		n = next;
	}
}

static int parse_error(struct berr **err, const char *fmt, const char *arg, size_t len)
{
	char what[256];

	snprintf(what, sizeof(what), fmt, (int)len, arg);
	return berr_set(err, BERR_INVALID, 0, "template parsing error: template: :1: %s", what);
}

/* The tokens of a pipeline. */
enum tok {
	T_EOF,
	T_FIELD,
	T_VAR,
	T_STRING,
	T_NUMBER,
	T_IDENT,
	T_LPAREN,
	T_RPAREN,
	T_PIPE,
	T_DECLARE,
	T_COMMA,
	T_BAD
};

struct lex {
	const char *p, *end;
	const char *s; /* the last token */
	size_t n;
};

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static enum tok lex_next(struct lex *l)
{
	const char *p = l->p;
	enum tok t;

	while (p < l->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	l->s = p;
	if (p == l->end) {
		l->n = 0;
		return T_EOF;
	}
	if (*p == '.' || *p == '$') {
		t = *p == '.' ? T_FIELD : T_VAR;
		p++;
		while (p < l->end && (is_ident(*p) || *p == '.'))
			p++;
	} else if (*p == '"' || *p == '`') {
		char q = *p++;

		while (p < l->end && *p != q)
			p += (*p == '\\' && q == '"' && p + 1 < l->end) ? 2 : 1;
		if (p == l->end) {
			l->n = (size_t)(p - l->s);
			return T_BAD;
		}
		p++;
		t = T_STRING;
	} else if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+') {
		p++;
		while (p < l->end && (is_ident(*p) || *p == '.'))
			p++;
		t = T_NUMBER;
	} else if (is_ident(*p)) {
		while (p < l->end && is_ident(*p))
			p++;
		t = T_IDENT;
	} else if (*p == ':' && p + 1 < l->end && p[1] == '=') {
		p += 2;
		t = T_DECLARE;
	} else if (*p == '=') {
		p++;
		t = T_DECLARE;
	} else {
		t = *p == '('	? T_LPAREN
		    : *p == ')' ? T_RPAREN
		    : *p == '|' ? T_PIPE
		    : *p == ',' ? T_COMMA
				: T_BAD;
		p++;
	}
	l->n = (size_t)(p - l->s);
	l->p = p;
	return t;
}

struct exec;
typedef int (*func_fn)(struct exec *ex, json_t **args, size_t n, json_t **out);
static func_fn find_func(const char *name, size_t len);

/* Checks an action's pipeline as Go's parser does: its functions known,
 * its strings closed, its parentheses paired. */
static int check_pipeline(const char *src, size_t len, struct berr **err)
{
	struct lex l = { .p = src, .end = src + len };
	int depth = 0;
	enum tok t;

	while ((t = lex_next(&l)) != T_EOF) {
		switch (t) {
		case T_BAD:
			if (*l.s == '"' || *l.s == '`')
				return parse_error(err, "unterminated quoted string", "", 0);
			return parse_error(err, "unexpected \"%.*s\" in command", l.s, l.n);
		case T_IDENT:
			if (!find_func(l.s, l.n) && !(l.n == 4 && strncmp(l.s, "true", 4) == 0) &&
			    !(l.n == 5 && strncmp(l.s, "false", 5) == 0) &&
			    !(l.n == 3 && strncmp(l.s, "nil", 3) == 0))
				return parse_error(err, "function \"%.*s\" not defined", l.s, l.n);
			break;
		case T_LPAREN:
			depth++;
			break;
		case T_RPAREN:
			if (--depth < 0)
				return parse_error(err, "unexpected \")\" in operand", "", 0);
			break;
		default:
			break;
		}
	}
	if (depth)
		return parse_error(err, "unclosed left paren", "", 0);
	if (len == 0)
		return parse_error(err, "missing value for command", "", 0);
	return 0;
}

struct parser {
	const char *p;
	bool trim; /* the last action ended with " -}}" */
	struct berr **err;
};

enum stop {
	STOP_EOF,
	STOP_END,
	STOP_ELSE
};

static bool starts_word(const char *a, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && strncmp(a, w, n) == 0 && (len == n || a[n] == ' ' || a[n] == '(');
}

static int parse_block(struct parser *ps, enum node_kind kind, const char *src, size_t len,
		       struct node **out);

/* Parses nodes up to {{end}}, {{else}} or the end; *stop says which, and
 * for an {{else ...}} *rest and *rest_len what follows "else". */
static int parse_list(struct parser *ps, struct node **head, enum stop *stop, const char **rest,
		      size_t *rest_len)
{
	struct node **tail = head;

	*head = NULL;
	for (;;) {
		const char *open = strstr(ps->p, "{{"), *text_end, *a, *e, *close;
		struct node *n;

		text_end = open ? open : ps->p + strlen(ps->p);
		if (ps->trim)
			while (ps->p < text_end && strchr(" \t\r\n", *ps->p))
				ps->p++;
		ps->trim = false;
		a = open ? open + 2 : NULL;
		if (a && a[0] == '-' && strchr(" \t\r\n", a[1]))
			while (text_end > ps->p && strchr(" \t\r\n", text_end[-1]))
				text_end--;
		if (text_end > ps->p) {
			n = calloc(1, sizeof(*n));
			if (!n)
				return berr_set(ps->err, BERR_INTERNAL, ENOMEM, "format");
			*n = (struct node){ .kind = N_TEXT,
					    .src = ps->p,
					    .len = (size_t)(text_end - ps->p) };
			*tail = n;
			tail = &n->next;
		}
		if (!open) {
			*stop = STOP_EOF;
			return 0;
		}
		if (a[0] == '-' && strchr(" \t\r\n", a[1]))
			a += 2;
		/* The closing braces, past any quoted "}}". */
		for (close = a; *close; close++) {
			if (*close == '"' || *close == '`') {
				char q = *close;

				for (close++; *close && *close != q && *close != '\n'; close++)
					if (*close == '\\' && q == '"' && close[1])
						close++;
				if (*close != q)
					return parse_error(ps->err, "unterminated quoted string",
							   "", 0);
			} else if (close[0] == '}' && close[1] == '}') {
				break;
			}
		}
		if (!*close)
			return parse_error(ps->err, "unclosed action", "", 0);
		e = close;
		ps->p = close + 2;
		if (e - a >= 2 && e[-1] == '-' && strchr(" \t\r\n", e[-2])) {
			e -= 2;
			ps->trim = true;
		}
		while (a < e && strchr(" \t\r\n", *a))
			a++;
		while (e > a && strchr(" \t\r\n", e[-1]))
			e--;
		if (e - a >= 2 && a[0] == '/' && a[1] == '*')
			continue; /* a comment */
		if (starts_word(a, (size_t)(e - a), "end")) {
			*stop = STOP_END;
			return 0;
		}
		if (starts_word(a, (size_t)(e - a), "else")) {
			*stop = STOP_ELSE;
			*rest = a + 4;
			*rest_len = (size_t)(e - a - 4);
			while (*rest_len && **rest == ' ')
				(*rest)++, (*rest_len)--;
			return 0;
		}
		if (starts_word(a, (size_t)(e - a), "if"))
			n = NULL, parse_block(ps, N_IF, a + 2, (size_t)(e - a - 2), &n);
		else if (starts_word(a, (size_t)(e - a), "range"))
			n = NULL, parse_block(ps, N_RANGE, a + 5, (size_t)(e - a - 5), &n);
		else if (starts_word(a, (size_t)(e - a), "with"))
			n = NULL, parse_block(ps, N_WITH, a + 4, (size_t)(e - a - 4), &n);
		else if (check_pipeline(a, (size_t)(e - a), ps->err) < 0)
			return -1;
		else if ((n = calloc(1, sizeof(*n))))
			*n = (struct node){ .kind = N_ACTION, .src = a, .len = (size_t)(e - a) };
		else
			berr_set(ps->err, BERR_INTERNAL, ENOMEM, "format");
		if (!n)
			return -1;
		*tail = n;
		tail = &n->next;
	}
}

/* An if, range or with whose pipeline is SRC: its list, an {{else}} list
 * (or an {{else if}} chain), then {{end}}. */
static int parse_block(struct parser *ps, enum node_kind kind, const char *src, size_t len,
		       struct node **out)
{
	struct node *n = calloc(1, sizeof(*n));
	const char *rest = NULL;
	size_t rest_len = 0;
	enum stop stop;

	if (!n)
		return berr_set(ps->err, BERR_INTERNAL, ENOMEM, "format");
	while (len && *src == ' ')
		src++, len--;
	*n = (struct node){ .kind = kind, .src = src, .len = len };
	if (check_pipeline(src, len, ps->err) < 0 ||
	    parse_list(ps, &n->body, &stop, &rest, &rest_len) < 0)
		goto fail;
	if (stop == STOP_ELSE) {
		if (rest_len > 2 && starts_word(rest, rest_len, "if") && kind == N_IF) {
			if (parse_block(ps, N_IF, rest + 2, rest_len - 2, &n->alt) < 0)
				goto fail;
			*out = n;
			return 0;
		}
		if (parse_list(ps, &n->alt, &stop, &rest, &rest_len) < 0)
			goto fail;
	}
	if (stop != STOP_END) {
		parse_error(ps->err, "unexpected EOF", "", 0);
		goto fail;
	}
	*out = n;
	return 0;
fail:
	node_free(n);
	return -1;
}

/*
 * Execution.  Values are JSON (owned references); NULL is Go's "no
 * value", a missing key.
 */

struct var {
	const char *name; /* "$x", not NUL-terminated */
	size_t len;
	json_t *value;
};

struct exec {
	const char *action; /* the action being run, for errors */
	size_t action_len;
	bool header; /* a table's header: the text functions give back their argument */
	bool strict;
	struct text *out;
	json_t *root;
	struct var vars[32];
	size_t n_vars;
	struct berr **err;
};

static int exec_error(struct exec *ex, const char *what, const char *arg)
{
	return berr_set(ex->err, BERR_INVALID, 0,
			"template parsing error: template: :1: executing \"\" at <%.*s>: %s%s",
			(int)ex->action_len, ex->action, what, arg);
}

static bool truth(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return false;
	}
}

/* V's fields along ".A.B" (PATH, LEN) into *out (a new reference; NULL
 * for a missing key, or past a null); with STRICT (inspect's documents) a
 * missing key is an error, as docker's inspect makes it. */
static int walk(struct exec *ex, json_t *v, const char *path, size_t len, json_t **out)
{
	size_t i = 0;

	*out = NULL;
	while (i < len && v) {
		size_t start;
		char key[256];

		if (path[i] == '.')
			i++;
		start = i;
		while (i < len && path[i] != '.')
			i++;
		if (i == start)
			continue;
		if (json_is_null(v))
			return 0;
		snprintf(key, sizeof(key), "%.*s", (int)(i - start), path + start);
		if (!json_is_object(v))
			return exec_error(ex, "can't evaluate field ", key);
		v = json_object_get(v, key);
		if (!v && !ex->strict)
			return 0;
		if (!v) {
			char msg[300];

			snprintf(msg, sizeof(msg), "map has no entry for key \"%s\"", key);
			return exec_error(ex, msg, "");
		}
	}
	*out = json_incref(v);
	return 0;
}

/* Go's string literal ("...\n" or `raw`). */
static json_t *unquote(const char *s, size_t n)
{
	struct text t = { 0 };
	json_t *v;

	text_puts(&t, "");
	if (s[0] == '`') {
		text_add(&t, s + 1, n - 2);
	} else {
		for (size_t i = 1; i + 1 < n; i++) {
			char c = s[i];

			if (c == '\\' && i + 2 < n) {
				c = s[++i];
				c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
			}
			text_add(&t, &c, 1);
		}
	}
	v = t.oom ? NULL : json_stringn(t.buf, t.len);
	free(t.buf);
	return v;
}

static int eval_pipeline(struct exec *ex, struct lex *l, json_t *dot, json_t **out);

/* One operand: a field, a variable, a literal, or a parenthesized
 * pipeline, with the fields that follow it. */
static int eval_term(struct exec *ex, struct lex *l, enum tok t, json_t *dot, json_t **out)
{
	switch (t) {
	case T_FIELD:
		return walk(ex, dot, l->s, l->n, out);
	case T_VAR: {
		size_t nlen = 1;

		while (nlen < l->n && l->s[nlen] != '.')
			nlen++;
		for (size_t i = ex->n_vars; i-- > 0;)
			if (ex->vars[i].len == nlen && strncmp(ex->vars[i].name, l->s, nlen) == 0)
				return walk(ex, ex->vars[i].value, l->s + nlen, l->n - nlen, out);
		return parse_error(ex->err, "undefined variable \"%.*s\"", l->s, nlen);
	}
	case T_STRING:
		*out = unquote(l->s, l->n);
		return *out ? 0 : berr_set(ex->err, BERR_INTERNAL, ENOMEM, "format");
	case T_NUMBER: {
		char buf[64], *end;

		snprintf(buf, sizeof(buf), "%.*s", (int)l->n, l->s);
		if (strpbrk(buf, ".eE"))
			*out = json_real(strtod(buf, &end));
		else
			*out = json_integer(strtoll(buf, &end, 0));
		return *end ? exec_error(ex, "bad number syntax: ", buf) : 0;
	}
	case T_IDENT:
		if (l->n == 4 && strncmp(l->s, "true", 4) == 0)
			*out = json_true();
		else if (l->n == 5 && strncmp(l->s, "false", 5) == 0)
			*out = json_false();
		else
			*out = json_null();
		return 0;
	case T_LPAREN: {
		json_t *v = NULL;
		struct lex peek;

		if (eval_pipeline(ex, l, dot, &v) < 0)
			return -1;
		/* (pipeline).Field */
		peek = *l;
		if (l->p < l->end && *l->p == '.' && lex_next(&peek) == T_FIELD) {
			int rc;

			*l = peek;
			rc = walk(ex, v, l->s, l->n, out);
			json_decref(v);
			return rc;
		}
		*out = v;
		return 0;
	}
	default:
		return exec_error(ex, "unexpected operand", "");
	}
}

static bool header_identity(func_fn fn);

static void free_args(json_t **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(args[i]);
}

/* A command: a function with its arguments (the piped value last), or
 * one operand.  *end gets the token that ended it. */
static int eval_command(struct exec *ex, struct lex *l, json_t *dot, json_t *piped, json_t **out,
			enum tok *end)
{
	json_t *args[16];
	size_t n = 0;
	func_fn fn = NULL;
	enum tok t = lex_next(l);
	int rc = 0;

	*out = NULL;
	if (t == T_IDENT)
		fn = find_func(l->s, l->n);
	if (fn)
		t = lex_next(l);
	for (; t != T_EOF && t != T_PIPE && t != T_RPAREN; t = lex_next(l)) {
		if (n == sizeof(args) / sizeof(args[0]) - 1 || (!fn && n == 1)) {
			rc = exec_error(ex, "wrong number of args or arguments to a non-function",
					"");
			break;
		}
		if (eval_term(ex, l, t, dot, &args[n]) < 0) {
			rc = -1;
			break;
		}
		n++;
	}
	*end = t;
	if (rc == 0 && piped) {
		if (!fn)
			rc = exec_error(ex, "can't give argument to non-function", "");
		else
			args[n++] = json_incref(piped);
	}
	if (rc == 0) {
		if (fn && ex->header && header_identity(fn) && n > 0)
			*out = json_incref(args[0]);
		else if (fn)
			rc = fn(ex, args, n, out);
		else if (n == 1)
			*out = json_incref(args[0]);
		else
			rc = exec_error(ex, "empty command", "");
	}
	free_args(args, n);
	return rc;
}

/* A pipeline up to ")" or its end: commands joined by "|". */
static int eval_pipeline(struct exec *ex, struct lex *l, json_t *dot, json_t **out)
{
	json_t *v = NULL;
	enum tok end;

	do {
		json_t *next = NULL;
		int rc = eval_command(ex, l, dot, v, &next, &end);

		json_decref(v);
		v = next;
		if (rc < 0) {
			json_decref(v);
			return -1;
		}
	} while (end == T_PIPE);
	*out = v;
	return 0;
}

/* The pipeline SRC, with its declaration ("$x := ", "$i, $e := ") whose
 * names go to VARS (up to two). */
static int eval_source(struct exec *ex, const char *src, size_t len, json_t *dot, json_t **out,
		       struct var *vars, size_t *n_vars)
{
	struct lex l = { .p = src, .end = src + len }, peek = l;
	size_t n = 0;

	/* "$a := ...", "$a, $b := ..." */
	for (;;) {
		enum tok t = lex_next(&peek);

		if (t != T_VAR || n == 2)
			break;
		vars[n].name = peek.s;
		vars[n].len = peek.n;
		vars[n].value = NULL;
		n++;
		t = lex_next(&peek);
		if (t == T_DECLARE) {
			l = peek;
			*n_vars = n;
			break;
		}
		if (t != T_COMMA)
			break;
	}
	if (!*n_vars || l.p == src)
		*n_vars = 0;
	return eval_pipeline(ex, &l, dot, out);
}

static int exec_list(struct exec *ex, const struct node *n, json_t *dot);

static int push_var(struct exec *ex, const struct var *v, json_t *value)
{
	if (ex->n_vars == sizeof(ex->vars) / sizeof(ex->vars[0]))
		return exec_error(ex, "too many variables", "");
	ex->vars[ex->n_vars] = *v;
	ex->vars[ex->n_vars++].value = json_incref(value);
	return 0;
}

static void pop_vars(struct exec *ex, size_t to)
{
	while (ex->n_vars > to)
		json_decref(ex->vars[--ex->n_vars].value);
}

/* One step of a range: "." (and the declared variables) the element. */
static int range_step(struct exec *ex, const struct node *n, struct var *vars, size_t n_vars,
		      json_t *key, json_t *elem)
{
	size_t mark = ex->n_vars;
	int rc = 0;

	if (n_vars == 1)
		rc = push_var(ex, &vars[0], elem);
	else if (n_vars == 2)
		rc = push_var(ex, &vars[0], key) < 0 ? -1 : push_var(ex, &vars[1], elem);
	if (rc == 0)
		rc = exec_list(ex, n->body, elem);
	pop_vars(ex, mark);
	return rc;
}

static int exec_range(struct exec *ex, const struct node *n, json_t *v, struct var *vars,
		      size_t n_vars, json_t *dot)
{
	int rc = 0;

	if (json_is_array(v) && json_array_size(v)) {
		for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
			json_t *key = json_integer((json_int_t)i);

			rc = range_step(ex, n, vars, n_vars, key, json_array_get(v, i));
			json_decref(key);
		}
		return rc;
	}
	if (json_is_object(v) && json_object_size(v)) {
		size_t count = json_object_size(v), i = 0;
		const char **keys = calloc(count, sizeof(*keys));
		const char *k;
		json_t *e;

		if (!keys)
			return berr_set(ex->err, BERR_INTERNAL, ENOMEM, "format");
		json_object_foreach (v, k, e)
			keys[i++] = k;
		/* Go ranges over a map in its keys' order. */
		qsort(keys, count, sizeof(*keys), cmp_str);
		for (i = 0; rc == 0 && i < count; i++) {
			json_t *key = json_string(keys[i]);

			rc = range_step(ex, n, vars, n_vars, key, json_object_get(v, keys[i]));
			json_decref(key);
		}
		free(keys);
		return rc;
	}
	if (v && !json_is_array(v) && !json_is_object(v) && !json_is_null(v))
		return exec_error(ex, "range can't iterate over a value of this kind", "");
	return exec_list(ex, n->alt, dot);
}

static int exec_list(struct exec *ex, const struct node *n, json_t *dot)
{
	for (; n; n = n->next) {
		struct var vars[2];
		size_t n_vars = 0, mark = ex->n_vars;
		json_t *v = NULL;
		int rc = 0;

		if (n->kind == N_TEXT) {
			text_add(ex->out, n->src, n->len);
			continue;
		}
		ex->action = n->src;
		ex->action_len = n->len;
		if (eval_source(ex, n->src, n->len, dot, &v, vars, &n_vars) < 0)
			return -1;
		switch (n->kind) {
		case N_ACTION:
			if (n_vars) {
				/* A declaration prints nothing; it lasts to the
				 * end of the enclosing list. */
				rc = push_var(ex, &vars[0], v);
				mark = ex->n_vars;
			} else if (v) {
				print_value(ex->out, v);
			} else {
				text_puts(ex->out, "<no value>");
			}
			break;
		case N_IF:
			rc = exec_list(ex, truth(v) ? n->body : n->alt, dot);
			break;
		case N_WITH:
			if (n_vars)
				rc = push_var(ex, &vars[0], v);
			if (rc == 0)
				rc = truth(v) ? exec_list(ex, n->body, v)
					      : exec_list(ex, n->alt, dot);
			break;
		case N_RANGE:
			rc = exec_range(ex, n, v, vars, n_vars, dot);
			break;
		default:
			break;
		}
		json_decref(v);
		if (n->kind != N_ACTION)
			pop_vars(ex, mark);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * Functions: Go's builtins and those the docker CLI adds.
 */

/* V as text (a string as it is, else as printed). */
static char *to_text(const json_t *v)
{
	struct text t = { 0 };

	text_puts(&t, "");
	if (v)
		print_value(&t, v);
	else
		text_puts(&t, "<no value>");
	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

static int ret_string(struct exec *ex, char *s, json_t **out)
{
	if (!s)
		return berr_set(ex->err, BERR_INTERNAL, ENOMEM, "format");
	*out = json_string(s);
	free(s);
	return *out ? 0 : exec_error(ex, "invalid UTF-8 in a result", "");
}

static int want_args(struct exec *ex, const char *fn, size_t n, size_t want)
{
	if (n == want)
		return 0;
	return exec_error(ex, "wrong number of args for ", fn);
}

static int fn_json(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	if (want_args(ex, "json", n, 1) < 0)
		return -1;
	return ret_string(
		ex, a[0] ? json_dumps(a[0], JSON_ENCODE_ANY | JSON_COMPACT) : strdup("null"), out);
}

static int fn_case(struct exec *ex, json_t **a, size_t n, json_t **out, int mode)
{
	char *s;
	bool start = true;

	if (want_args(ex, mode == 0 ? "upper" : mode == 1 ? "lower" : "title", n, 1) < 0)
		return -1;
	s = to_text(a[0]);
	for (char *p = s; p && *p; p++) {
		if (mode == 0 || (mode == 2 && start))
			*p = (char)toupper((unsigned char)*p);
		else if (mode == 1)
			*p = (char)tolower((unsigned char)*p);
		start = !isalnum((unsigned char)*p) && *p != '_' && *p != '\'';
	}
	return ret_string(ex, s, out);
}

static int fn_upper(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_case(ex, a, n, out, 0);
}

static int fn_lower(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_case(ex, a, n, out, 1);
}

static int fn_title(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_case(ex, a, n, out, 2);
}

static int fn_join(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	struct text t = { 0 };
	size_t i;
	json_t *e;

	if (want_args(ex, "join", n, 2) < 0)
		return -1;
	if (!json_is_string(a[1]) || (a[0] && !json_is_array(a[0]) && !json_is_null(a[0])))
		return exec_error(ex, "error calling join: ", "wrong type for value");
	text_puts(&t, "");
	json_array_foreach (a[0], i, e) {
		if (i)
			text_puts(&t, json_string_value(a[1]));
		print_value(&t, e);
	}
	if (t.oom) {
		free(t.buf);
		t.buf = NULL;
	}
	return ret_string(ex, t.buf, out);
}

static int fn_split(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	const char *s, *sep, *p;
	size_t seplen;

	if (want_args(ex, "split", n, 2) < 0)
		return -1;
	s = json_string_value(a[0]);
	sep = json_string_value(a[1]);
	if (!s || !sep)
		return exec_error(ex, "error calling split: ", "wrong type for value");
	*out = json_array();
	seplen = strlen(sep);
	for (p = s; *out;) {
		const char *at = seplen ? strstr(p, sep) : (*p && p[1] ? p + 1 : NULL);

		json_array_append_new(*out, json_stringn(p, at ? (size_t)(at - p) : strlen(p)));
		if (!at)
			break;
		p = at + seplen;
	}
	return *out ? 0 : berr_set(ex->err, BERR_INTERNAL, ENOMEM, "format");
}

static int fn_len(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	json_int_t len;

	if (want_args(ex, "len", n, 1) < 0)
		return -1;
	if (json_is_string(a[0]))
		len = (json_int_t)json_string_length(a[0]);
	else if (json_is_array(a[0]))
		len = (json_int_t)json_array_size(a[0]);
	else if (json_is_object(a[0]))
		len = (json_int_t)json_object_size(a[0]);
	else if (json_is_null(a[0]))
		len = 0;
	else
		return exec_error(ex, "error calling len: ", "len of this type");
	*out = json_integer(len);
	return 0;
}

static int fn_index(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	json_t *v = a[0];

	if (n < 1)
		return exec_error(ex, "wrong number of args for ", "index");
	for (size_t i = 1; i < n; i++) {
		if (json_is_object(v) && json_is_string(a[i])) {
			v = json_object_get(v, json_string_value(a[i]));
			/* A typed map's missing key is its zero value. */
			if (!v) {
				*out = json_string("");
				return 0;
			}
		} else if (json_is_array(v) && json_is_integer(a[i])) {
			json_int_t k = json_integer_value(a[i]);

			if (k < 0 || (size_t)k >= json_array_size(v))
				return exec_error(ex,
						  "error calling index: ", "index out of range");
			v = json_array_get(v, (size_t)k);
		} else if (json_is_null(v) || !v) {
			*out = NULL;
			return 0;
		} else {
			return exec_error(ex, "error calling index: ", "cannot index this value");
		}
	}
	*out = json_incref(v);
	return 0;
}

static int cmp_values(const json_t *x, const json_t *y, bool *comparable)
{
	*comparable = true;
	if (json_is_number(x) && json_is_number(y)) {
		double a = json_number_value(x), b = json_number_value(y);

		return a < b ? -1 : a > b;
	}
	if (json_is_string(x) && json_is_string(y))
		return strcmp(json_string_value(x), json_string_value(y));
	*comparable = json_is_boolean(x) && json_is_boolean(y);
	return json_equal((json_t *)x, (json_t *)y) ? 0 : 1;
}

static int fn_compare(struct exec *ex, json_t **a, size_t n, json_t **out, const char *op)
{
	bool comparable = true, r = false;

	if (n < 2 || (n > 2 && strcmp(op, "eq") != 0))
		return exec_error(ex, "wrong number of args for ", op);
	for (size_t i = 1; i < n && !r; i++) {
		int c = cmp_values(a[0], a[i], &comparable);

		if (!comparable && strcmp(op, "eq") && strcmp(op, "ne"))
			return exec_error(ex, "error calling ", op);
		r = strcmp(op, "eq") == 0   ? c == 0
		    : strcmp(op, "ne") == 0 ? c != 0
		    : strcmp(op, "lt") == 0 ? c < 0
		    : strcmp(op, "le") == 0 ? c <= 0
		    : strcmp(op, "gt") == 0 ? c > 0
					    : c >= 0;
	}
	*out = json_boolean(r);
	return 0;
}

#define COMPARE(name)                                                             \
	static int fn_##name(struct exec *ex, json_t **a, size_t n, json_t **out) \
	{                                                                         \
		return fn_compare(ex, a, n, out, #name);                          \
	}
COMPARE(eq)
COMPARE(ne)
COMPARE(lt)
COMPARE(le)
COMPARE(gt)
COMPARE(ge)

static int fn_not(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	if (want_args(ex, "not", n, 1) < 0)
		return -1;
	*out = json_boolean(!truth(a[0]));
	return 0;
}

/* and: the first false argument, else the last; or: the first true one,
 * else the last. */
static int fn_andor(struct exec *ex, json_t **a, size_t n, json_t **out, bool is_and)
{
	size_t i;

	if (n < 1)
		return exec_error(ex, "wrong number of args for ", is_and ? "and" : "or");
	for (i = 0; i + 1 < n; i++)
		if (truth(a[i]) != is_and)
			break;
	*out = json_incref(a[i]);
	return 0;
}

static int fn_and(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_andor(ex, a, n, out, true);
}

static int fn_or(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_andor(ex, a, n, out, false);
}

/* fmt.Sprint (spaces between operands that are not strings) and
 * fmt.Sprintln (spaces always, a newline). */
static int fn_print_like(struct exec *ex, json_t **a, size_t n, json_t **out, bool ln)
{
	struct text t = { 0 };

	text_puts(&t, "");
	for (size_t i = 0; i < n; i++) {
		if (i && (ln || (!json_is_string(a[i - 1]) && !json_is_string(a[i]))))
			text_puts(&t, " ");
		if (a[i])
			print_value(&t, a[i]);
		else
			text_puts(&t, "<nil>");
	}
	if (ln)
		text_puts(&t, "\n");
	if (t.oom) {
		free(t.buf);
		t.buf = NULL;
	}
	return ret_string(ex, t.buf, out);
}

static int fn_print(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_print_like(ex, a, n, out, false);
}

static int fn_println(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	return fn_print_like(ex, a, n, out, true);
}

/* fmt.Sprintf's common verbs: %s %v %q %d %t %f %g %e %x %%, with flags,
 * width and precision. */
static int fn_printf(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	struct text t = { 0 };
	const char *f;
	size_t next = 1;

	if (n < 1 || !json_is_string(a[0]))
		return exec_error(ex, "wrong number of args for ", "printf");
	text_puts(&t, "");
	for (f = json_string_value(a[0]); *f; f++) {
		char spec[32], buf[512];
		size_t sl = 0;
		const json_t *v;
		char verb;

		if (*f != '%') {
			text_add(&t, f, 1);
			continue;
		}
		spec[sl++] = '%';
		for (f++; *f && strchr("-+# 0123456789.", *f) && sl < 20; f++)
			spec[sl++] = *f;
		verb = *f;
		if (!verb)
			break;
		if (verb == '%') {
			text_puts(&t, "%");
			continue;
		}
		if (next >= n) {
			snprintf(buf, sizeof(buf), "%%!%c(MISSING)", verb);
			text_puts(&t, buf);
			continue;
		}
		v = a[next++];
		switch (verb) {
		case 'd':
		case 'x':
		case 'X':
		case 'o':
			if (json_is_integer(v)) {
				memcpy(spec + sl, "ll", 2);
				spec[sl + 2] = verb;
				spec[sl + 3] = '\0';
				snprintf(buf, sizeof(buf), spec, (long long)json_integer_value(v));
				text_puts(&t, buf);
				continue;
			}
			break;
		case 'f':
		case 'g':
		case 'e':
			if (json_is_number(v)) {
				spec[sl] = verb;
				spec[sl + 1] = '\0';
				snprintf(buf, sizeof(buf), spec, json_number_value(v));
				text_puts(&t, buf);
				continue;
			}
			break;
		default:
			break;
		}
		{
			_cleanup_free_ char *s = to_text(v);
			_cleanup_free_ char *q = NULL;
			char *p;

			if (!s)
				break;
			if (verb == 'q') {
				q = cli_go_quote(s);
				if (!q)
					break;
			}
			spec[sl] = 's';
			spec[sl + 1] = '\0';
			if (asprintf(&p, spec, q ? q : s) < 0)
				break;
			text_puts(&t, p);
			free(p);
		}
	}
	if (t.oom) {
		free(t.buf);
		t.buf = NULL;
	}
	return ret_string(ex, t.buf, out);
}

/* docker's truncate and pad. */
static int fn_truncate(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	char *s;

	if (want_args(ex, "truncate", n, 2) < 0)
		return -1;
	s = to_text(a[0]);
	if (s && json_is_integer(a[1]) && json_integer_value(a[1]) >= 0 &&
	    strlen(s) > (size_t)json_integer_value(a[1]))
		s[json_integer_value(a[1])] = '\0';
	return ret_string(ex, s, out);
}

static int fn_pad(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	_cleanup_free_ char *s = NULL;
	char *p = NULL;

	if (want_args(ex, "pad", n, 3) < 0)
		return -1;
	s = to_text(a[0]);
	if (s && asprintf(&p, "%*s%s%*s", (int)json_integer_value(a[1]), "", s,
			  (int)json_integer_value(a[2]), "") < 0)
		p = NULL;
	return ret_string(ex, p, out);
}

static const struct {
	const char *name;
	func_fn fn;
} funcs[] = {
	{ "and", fn_and },     { "eq", fn_eq },		{ "ge", fn_ge },
	{ "gt", fn_gt },       { "index", fn_index },	{ "join", fn_join },
	{ "json", fn_json },   { "le", fn_le },		{ "len", fn_len },
	{ "lower", fn_lower }, { "lt", fn_lt },		{ "ne", fn_ne },
	{ "not", fn_not },     { "or", fn_or },		{ "pad", fn_pad },
	{ "print", fn_print }, { "printf", fn_printf }, { "println", fn_println },
	{ "split", fn_split }, { "title", fn_title },	{ "truncate", fn_truncate },
	{ "upper", fn_upper },
};

static func_fn find_func(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strlen(funcs[i].name) == len && strncmp(funcs[i].name, name, len) == 0)
			return funcs[i].fn;
	return NULL;
}

/* docker's header functions: a table's header goes through json, split,
 * join, title, lower, upper, truncate and pad as it is. */
static bool header_identity(func_fn fn)
{
	return fn == fn_json || fn == fn_split || fn == fn_join || fn == fn_title ||
	       fn == fn_lower || fn == fn_upper || fn == fn_truncate || fn == fn_pad;
}

static int expand(const char *tmpl, const json_t *value, bool header, bool strict, char **out,
		  struct berr **err)
{
	struct parser ps = { .p = tmpl, .err = err };
	struct text t = { 0 };
	struct exec ex = {
		.out = &t, .root = (json_t *)value, .err = err, .header = header, .strict = strict
	};
	struct var dollar = { .name = "$", .len = 1 };
	struct node *tree = NULL;
	const char *rest;
	size_t rest_len;
	enum stop stop;
	int rc;

	if (parse_list(&ps, &tree, &stop, &rest, &rest_len) < 0) {
		node_free(tree);
		return -1;
	}
	if (stop != STOP_EOF) {
		node_free(tree);
		return parse_error(err, "unexpected {{%.*s}}", stop == STOP_END ? "end" : "else",
				   4);
	}
	text_puts(&t, "");
	rc = push_var(&ex, &dollar, ex.root);
	if (rc == 0)
		rc = exec_list(&ex, tree, ex.root);
	pop_vars(&ex, 0);
	node_free(tree);
	if (rc == 0 && t.oom)
		rc = berr_set(err, BERR_INTERNAL, ENOMEM, "format");
	if (rc < 0) {
		free(t.buf);
		return -1;
	}
	*out = t.buf;
	return 0;
}

int cli_template_expand(const char *tmpl, const json_t *value, char **out, struct berr **err)
{
	return expand(tmpl, value, false, false, out, err);
}

int cli_template_expand_header(const char *tmpl, const json_t *value, char **out, struct berr **err)
{
	return expand(tmpl, value, true, false, out, err);
}

int cli_template_check(const char *tmpl, struct berr **err)
{
	struct parser ps = { .p = tmpl, .err = err };
	struct node *tree = NULL;
	const char *rest;
	size_t rest_len;
	enum stop stop;
	int rc = parse_list(&ps, &tree, &stop, &rest, &rest_len);

	node_free(tree);
	if (rc == 0 && stop != STOP_EOF)
		rc = parse_error(err, "unexpected {{%.*s}}", stop == STOP_END ? "end" : "else", 4);
	return rc;
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

		if (expand(format, v, false, true, &s, &err) < 0) {
			/* docker prints what it has (nothing of the failed
			 * value), then the error. */
			printf("\n");
			fflush(stdout);
			fprintf(stderr, "%s\n", err->msg);
			berr_free(err);
			return 1;
		}
		printf("%s\n", s);
		free(s);
	}
	return 0;
}
