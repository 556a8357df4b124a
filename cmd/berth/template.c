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
#include "cmd/berth/template_types.h"
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

/* Which objects of a list's template are docker's row contexts, that
 * `json` marshals with their keys in order and HTML escaped. */
enum rows {
	ROWS_NONE,
	ROWS_ROOT,   /* the value itself: a row of a list */
	ROWS_NESTED, /* the elements of the value's arrays (verbose df) */
};

/* What the typed pass knows of a value it reached. */
struct typed {
	const json_t *v;
	const struct tmpl_type *t;
	bool nil; /* a nil map or slice (an empty value stands for it) */
};

struct exec {
	const char *tmpl;   /* the whole template, for the positions of errors */
	const char *action; /* the node being run, for errors */
	size_t action_len;
	bool header; /* a table's header: the text functions give back their argument */
	bool strict;
	enum rows rows;
	struct text *out;
	json_t *root;
	struct var vars[32];
	size_t n_vars;
	struct berr **err;
	/* The typed pass of inspect: ROOT's Go type, the types of the values
	 * reached, and the zero values made up for what the document leaves
	 * out (kept until the pass ends).  TYPED_ONLY: no raw run follows
	 * (its errors are Go's for the type), and a struct has only the
	 * fields its type lists. */
	const struct tmpl_type *root_type;
	bool typed_only;
	/* The Go type of the rows, when a field they lack is Go's error
	 * ("*formatter.volumeContext"); NULL: no value. */
	const char *row_type;
	/* The operands of the call being run: where they are, and which
	 * are literals (NULL: the piped value). */
	const char *arg_at[16];
	size_t arg_len[16];
	bool arg_lit[16];
	struct typed *types;
	size_t n_types, cap_types;
	json_t *made;
};

/* The position of AT in the template as Go reports it: "line:column",
 * the column counted in bytes from 0. */
static void position(const struct exec *ex, const char *at, char *out, size_t n)
{
	size_t line = 1, col = 0;

	for (const char *p = ex->tmpl; p && p < at && *p; p++) {
		col++;
		if (*p == '\n') {
			line++;
			col = 0;
		}
	}
	snprintf(out, n, "%zu:%zu", line, col);
}

/* Where Go's parser places an operand: a chain of fields (".A.B",
 * "$x.A") at its second part, anything else at its start. */
static const char *operand_at(const char *node, size_t len)
{
	if (len && (node[0] == '.' || node[0] == '$'))
		for (size_t i = 1; i < len; i++)
			if (node[i] == '.')
				return node + i;
	return node;
}

static int exec_error_at(struct exec *ex, const char *at, const char *what, const char *arg)
{
	char pos[48];

	position(ex, at, pos, sizeof(pos));
	return berr_set(ex->err, BERR_INVALID, 0,
			"template parsing error: template: :%s: executing \"\" at <%.*s>: %s%s",
			pos, (int)ex->action_len, ex->action, what, arg);
}

static int exec_error(struct exec *ex, const char *what, const char *arg)
{
	return exec_error_at(ex, ex->action, what, arg);
}

/* The error of a field chain: at its second field, as Go's parser
 * places a chain (".A.B" at ".B"), else at the field itself. */
static int field_error(struct exec *ex, const char *node, size_t len, const char *msg)
{
	const char *at = operand_at(node, len);
	char pos[48];

	position(ex, at, pos, sizeof(pos));
	return berr_set(ex->err, BERR_INVALID, 0,
			"template parsing error: template: :%s: executing \"\" at <%.*s>: %s", pos,
			(int)len, node, msg);
}

/*
 * The typed pass.  Values keep their JSON form; what Go's type would add
 * is looked up by the value's address.
 */

static const struct typed *typed_find(const struct exec *ex, const json_t *v)
{
	if (!ex->root_type || !v)
		return NULL;
	for (size_t i = ex->n_types; i-- > 0;)
		if (ex->types[i].v == v)
			return &ex->types[i];
	return NULL;
}

static const struct tmpl_type *type_of(const struct exec *ex, const json_t *v)
{
	const struct typed *t;

	if (ex->root_type && v == ex->root)
		return ex->root_type;
	t = typed_find(ex, v);
	return t ? t->t : NULL;
}

static bool is_nil(const struct exec *ex, const json_t *v)
{
	const struct typed *t = typed_find(ex, v);

	return t && t->nil;
}

/* Records that V has type T.  The singletons (null, true, false) carry
 * no type: a nil map or slice is given a value of its own. */
static int typed_add(struct exec *ex, const json_t *v, const struct tmpl_type *t, bool nil)
{
	if (!ex->root_type || !v || !t || json_is_null(v) || json_is_boolean(v) ||
	    typed_find(ex, v))
		return 0;
	if (ex->n_types == ex->cap_types) {
		size_t cap = ex->cap_types ? 2 * ex->cap_types : 64;
		struct typed *nt = realloc(ex->types, cap * sizeof(*nt));

		if (!nt)
			return berr_set(ex->err, BERR_INTERNAL, ENOMEM, "format");
		ex->types = nt;
		ex->cap_types = cap;
	}
	ex->types[ex->n_types++] = (struct typed){ .v = v, .t = t, .nil = nil };
	return 0;
}

/* The zero value of T as a new reference: a nil map or slice is an empty
 * one marked nil, a nil pointer null. */
static json_t *zero_value(struct exec *ex, const struct tmpl_type *t)
{
	json_t *v;

	switch (t ? t->kind : TMPL_PTR) {
	case TMPL_STRUCT:
	case TMPL_EMPTY:
	case TMPL_MAP:
		v = json_object();
		break;
	case TMPL_SLICE:
		v = json_array();
		break;
	case TMPL_STRING:
		v = json_string("");
		break;
	case TMPL_INT:
	case TMPL_DURATION:
		v = json_integer(0);
		break;
	case TMPL_BOOL:
		return json_false();
	case TMPL_TIME:
		v = json_string("0001-01-01T00:00:00Z");
		break;
	default:
		return json_null();
	}
	if (!v || json_array_append(ex->made, v) < 0 ||
	    typed_add(ex, v, t, t->kind == TMPL_MAP || t->kind == TMPL_SLICE) < 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Field NAME of struct type T, looked for in its embedded structs too. */
static const struct tmpl_field *struct_field(const struct tmpl_type *t, const char *name)
{
	for (const struct tmpl_field *f = t->fields; f && (f->name || f->type); f++) {
		const struct tmpl_field *in;

		if (f->name && strcmp(f->name, name) == 0)
			return f;
		if (!f->name && (in = struct_field(f->type, name)))
			return in;
	}
	return NULL;
}

/* MEMBER (may be NULL: left out) of a value as its Go type T: the member
 * typed, or T's zero value; a new reference. */
static json_t *typed_member(struct exec *ex, json_t *member, const struct tmpl_type *t)
{
	bool nil_container =
		json_is_null(member) && t &&
		(t->kind == TMPL_MAP || t->kind == TMPL_SLICE || t->kind == TMPL_STRUCT);

	if (!member || nil_container) {
		json_t *z = zero_value(ex, t);

		if (!z)
			berr_set(ex->err, BERR_INTERNAL, ENOMEM, "format");
		return z;
	}
	if (typed_add(ex, member, t, false) < 0)
		return NULL;
	return json_incref(member);
}

static bool truth_raw(const json_t *v)
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

/* Go's truth: a struct is true, a nil map or slice false. */
static bool truth_of(const struct exec *ex, const json_t *v)
{
	const struct tmpl_type *ty = type_of(ex, v);

	if (ty && (ty->kind == TMPL_STRUCT || ty->kind == TMPL_EMPTY || ty->kind == TMPL_TIME ||
		   (ty->kind == TMPL_PTR && !json_is_null(v))))
		return true;
	if (is_nil(ex, v))
		return false;
	return truth_raw(v);
}

/* Go's name of a value of type T, for the errors of a typed-only run. */
static const char *go_type_name(const struct tmpl_type *t)
{
	if (!t)
		return "interface {}";
	if (t->go_name)
		return t->go_name;
	switch (t->kind) {
	case TMPL_STRING:
		return "string";
	case TMPL_INT:
		return "int64";
	case TMPL_BOOL:
		return "bool";
	case TMPL_TIME:
		return "time.Time";
	case TMPL_DURATION:
		return "time.Duration";
	case TMPL_EMPTY:
		return "struct {}";
	case TMPL_MAP:
		return t->elem && t->elem->kind == TMPL_STRING ? "map[string]string"
							       : "map[string]interface {}";
	case TMPL_SLICE:
		return t->elem && t->elem->kind == TMPL_STRING ? "[]string" : "[]interface {}";
	default:
		return "interface {}";
	}
}

/* One step of the typed pass: field KEY of CUR (a new reference in
 * *next, NULL for a map's missing key).  *FIELD_T: CUR's type when the
 * value does not carry it (a nil pointer), then the type of *next.  -1
 * when Go's typed run fails there, with Go's reason in WHY (the raw run
 * says it otherwise). */
static int walk_typed(struct exec *ex, json_t *cur, const char *key, json_t **next,
		      const struct tmpl_type **field_t, char *why, size_t why_n)
{
	const struct tmpl_type *t = type_of(ex, cur) ?: *field_t;
	json_t *m;

	*field_t = NULL;

	*next = NULL;
	snprintf(why, why_n, "can't evaluate field %s in type %s", key, go_type_name(t));
	/* Past a map's missing key Go has no value, and gives none. */
	if (!cur)
		return ex->typed_only ? 0 : -1;
	if (t && t->kind == TMPL_PTR) {
		if (json_is_null(cur)) {
			/* Go names a field its struct lacks before the nil. */
			if (t->elem && t->elem->kind == TMPL_STRUCT && !struct_field(t->elem, key))
				return -1;
			snprintf(why, why_n, "nil pointer evaluating %s.%s", go_type_name(t), key);
			return -1;
		}
		t = t->elem;
		snprintf(why, why_n, "can't evaluate field %s in type %s", key, go_type_name(t));
	}
	m = json_is_object(cur) ? json_object_get(cur, key) : NULL;
	if (!t) {
		if (!m)
			return -1;
		*next = json_incref(m);
		return 0;
	}
	if (t->kind == TMPL_MAP && t->named_key)
		return -1;
	if (t->kind == TMPL_MAP && json_is_object(cur)) {
		if (m && !(*next = typed_member(ex, m, t->elem)))
			return -1;
		*field_t = t->elem;
		return 0;
	}
	if (t->kind != TMPL_STRUCT || !json_is_object(cur))
		return -1;
	{
		const struct tmpl_field *f = struct_field(t, key);

		if (f) {
			*next = typed_member(ex, m, f->type);
			*field_t = f->type;
		} else if (m && !ex->typed_only) {
			*next = json_incref(m);
		}
	}
	return *next ? 0 : -1;
}

static bool is_row(const struct exec *ex, const json_t *v);

/* V's fields along ".A.B" (PATH, LEN) into *out (a new reference; NULL
 * for a missing key, or past a null); with STRICT (inspect's raw run) a
 * missing key is an error, as docker's inspect makes it.  NODE, NODE_LEN:
 * the operand, for errors. */
static int walk(struct exec *ex, json_t *v, const char *path, size_t len, const char *node,
		size_t node_len, json_t **out)
{
	json_t *cur = json_incref(v);
	const struct tmpl_type *cur_t = NULL;
	size_t i = 0;

	*out = NULL;
	while (i < len) {
		size_t start;
		char key[256], msg[320];
		json_t *next = NULL;

		if (path[i] == '.')
			i++;
		start = i;
		while (i < len && path[i] != '.')
			i++;
		if (i == start)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(i - start), path + start);
		if (ex->root_type) {
			int rc = walk_typed(ex, cur, key, &next, &cur_t, msg, sizeof(msg));

			json_decref(cur);
			cur = next;
			if (rc < 0) {
				json_decref(cur);
				return field_error(ex, node, node_len,
						   ex->typed_only ? msg : "typed");
			}
			continue;
		}
		if (!cur || json_is_null(cur)) {
			json_decref(cur);
			if (!ex->strict)
				return 0;
			snprintf(msg, sizeof(msg), "nil pointer evaluating interface {}.%s", key);
			return field_error(ex, node, node_len, msg);
		}
		if (!json_is_object(cur)) {
			/* A row's (and a header's) members are strings. */
			bool str = (ex->row_type || ex->header) && json_is_string(cur);

			json_decref(cur);
			snprintf(msg, sizeof(msg), "can't evaluate field %s in type %s", key,
				 str ? "string" : "interface {}");
			return field_error(ex, node, node_len, msg);
		}
		if (ex->row_type && !json_object_get(cur, key) && is_row(ex, cur)) {
			json_decref(cur);
			snprintf(msg, sizeof(msg), "can't evaluate field %s in type %s", key,
				 ex->row_type);
			return field_error(ex, node, node_len, msg);
		}
		next = json_incref(json_object_get(cur, key));
		json_decref(cur);
		cur = next;
		if (!cur && !ex->strict)
			return 0;
		if (!cur) {
			snprintf(msg, sizeof(msg), "map has no entry for key \"%s\"", key);
			return field_error(ex, node, node_len, msg);
		}
	}
	*out = cur;
	return 0;
}

/* A time.Time of the JSON (RFC 3339) as Go prints it:
 * "2026-01-02 15:04:05.5 +0000 UTC". */
static void print_time(struct text *t, const char *s)
{
	size_t n = strlen(s), frac = 0;
	const char *zone;
	char buf[96];

	if (n < 20 || s[10] != 'T') {
		text_puts(t, s);
		return;
	}
	zone = s + 19;
	if (*zone == '.') {
		while (zone[1 + frac] >= '0' && zone[1 + frac] <= '9')
			frac++;
		zone += 1 + frac;
		/* Go's .999999999: no trailing zeros. */
		while (frac && s[19 + frac] == '0')
			frac--;
	}
	snprintf(buf, sizeof(buf), "%.10s %.8s%s%.*s ", s, s + 11, frac ? "." : "", (int)frac,
		 s + 20);
	text_puts(t, buf);
	if (strcmp(zone, "Z") == 0 || strlen(zone) != 6) {
		text_puts(t, "+0000 UTC");
	} else {
		snprintf(buf, sizeof(buf), "%.3s%.2s %.3s%.2s", zone, zone + 4, zone, zone + 4);
		text_puts(t, buf);
	}
}

/* WHOLE.FRAC (FRAC of DIGITS digits) without the trailing zeros. */
static void print_decimal(struct text *t, uint64_t whole, uint64_t frac, int digits)
{
	char buf[64];
	int len;

	len = snprintf(buf, sizeof(buf), "%llu.%0*llu", (unsigned long long)whole, digits,
		       (unsigned long long)frac);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
	text_puts(t, buf);
}

/* A time.Duration (nanoseconds) as Go's String() writes it: "1m30s",
 * "1.5s", "250ms", "0s". */
static void print_duration(struct text *t, int64_t d)
{
	uint64_t u = d < 0 ? -(uint64_t)d : (uint64_t)d;
	char buf[64];

	if (d < 0)
		text_puts(t, "-");
	if (u == 0) {
		text_puts(t, "0s");
	} else if (u < 1000) {
		snprintf(buf, sizeof(buf), "%lluns", (unsigned long long)u);
		text_puts(t, buf);
	} else if (u < 1000000) {
		print_decimal(t, u / 1000, u % 1000, 3);
		text_puts(t, "µs");
	} else if (u < 1000000000) {
		print_decimal(t, u / 1000000, u % 1000000, 6);
		text_puts(t, "ms");
	} else {
		uint64_t sec = u / 1000000000, h = sec / 3600, m = sec / 60 % 60;

		if (h) {
			snprintf(buf, sizeof(buf), "%lluh", (unsigned long long)h);
			text_puts(t, buf);
		}
		if (h || m) {
			snprintf(buf, sizeof(buf), "%llum", (unsigned long long)m);
			text_puts(t, buf);
		}
		print_decimal(t, sec % 60, u % 1000000000, 9);
		text_puts(t, "s");
	}
}

static void print_go(struct text *t, const json_t *v, const struct tmpl_type *ty, bool nil);

/* A struct as Go's %v prints it: its fields' values between braces, in
 * Go's order when the type lists them all, else in the document's. */
static void print_struct(struct text *t, const json_t *v, const struct tmpl_type *ty)
{
	bool first = true;

	text_puts(t, "{");
	if (ty->complete) {
		for (const struct tmpl_field *f = ty->fields; f->name || f->type; f++) {
			const json_t *m =
				f->name && json_is_object(v) ? json_object_get(v, f->name) : NULL;

			if (!first)
				text_puts(t, " ");
			first = false;
			if (!f->name)
				print_struct(t, v, f->type);
			else
				print_go(t, m, f->type, !m || json_is_null(m));
		}
	} else {
		const char *k;
		json_t *m;

		json_object_foreach ((json_t *)v, k, m) {
			const struct tmpl_field *f = struct_field(ty, k);

			if (!first)
				text_puts(t, " ");
			first = false;
			print_go(t, m, f ? f->type : NULL, json_is_null(m));
		}
	}
	text_puts(t, "}");
}

/* V (NULL: the zero value) as Go prints a value of type TY; NIL: a nil
 * map, slice or pointer.  A pointer nested in a value prints as the value
 * it points to (Go would print its address). */
static void print_go(struct text *t, const json_t *v, const struct tmpl_type *ty, bool nil)
{
	size_t i;
	json_t *e;

	if (!ty) {
		if (v)
			print_value(t, v);
		else
			text_puts(t, "<nil>");
		return;
	}
	switch (ty->kind) {
	case TMPL_PTR:
		if (nil || !v || json_is_null(v))
			text_puts(t, "<nil>");
		else
			print_go(t, v, ty->elem, false);
		return;
	case TMPL_MAP: {
		size_t n = json_is_object(v) && !nil ? json_object_size(v) : 0, k = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));
		const char *key;

		if (!keys) {
			t->oom = true;
			return;
		}
		if (n)
			json_object_foreach ((json_t *)v, key, e)
				keys[k++] = key;
		qsort(keys, n, sizeof(*keys), cmp_str);
		text_puts(t, "map[");
		for (k = 0; k < n; k++) {
			const json_t *m = json_object_get(v, keys[k]);

			if (k)
				text_puts(t, " ");
			text_puts(t, keys[k]);
			text_puts(t, ":");
			print_go(t, m, ty->elem, json_is_null(m));
		}
		text_puts(t, "]");
		free(keys);
		return;
	}
	case TMPL_SLICE:
		text_puts(t, "[");
		if (!nil)
			json_array_foreach (v, i, e) {
				if (i)
					text_puts(t, " ");
				print_go(t, e, ty->elem, json_is_null(e));
			}
		text_puts(t, "]");
		return;
	case TMPL_STRUCT:
		print_struct(t, json_is_object(v) ? v : NULL, ty);
		return;
	case TMPL_EMPTY:
		text_puts(t, "{}");
		return;
	case TMPL_TIME:
		print_time(t, json_is_string(v) ? json_string_value(v) : "0001-01-01T00:00:00Z");
		return;
	case TMPL_DURATION:
		print_duration(t, json_integer_value(v));
		return;
	case TMPL_STRING:
		text_puts(t, json_string_value(v) ?: "");
		return;
	case TMPL_INT:
		if (v)
			print_value(t, v);
		else
			text_puts(t, "0");
		return;
	case TMPL_BOOL:
		text_puts(t, json_is_true(v) ? "true" : "false");
		return;
	}
}

/* V as the template prints it: with its Go type when the typed pass
 * knows it. */
static void print_result(const struct exec *ex, struct text *t, const json_t *v)
{
	const struct tmpl_type *ty = ex ? type_of(ex, v) : NULL;

	if (ty)
		print_go(t, v, ty, is_nil(ex, v));
	else if (v)
		print_value(t, v);
	else
		text_puts(t, "<no value>");
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
		return walk(ex, dot, l->s, l->n, l->s, l->n, out);
	case T_VAR: {
		size_t nlen = 1;

		while (nlen < l->n && l->s[nlen] != '.')
			nlen++;
		for (size_t i = ex->n_vars; i-- > 0;)
			if (ex->vars[i].len == nlen && strncmp(ex->vars[i].name, l->s, nlen) == 0)
				return walk(ex, ex->vars[i].value, l->s + nlen, l->n - nlen, l->s,
					    l->n, out);
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
			rc = walk(ex, v, l->s, l->n, l->s, l->n, out);
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
static bool takes_nil(func_fn fn);

static void free_args(json_t **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(args[i]);
}

/* A command: a function with its arguments (the piped value last), or
 * one operand.  *end gets the token that ended it. */
static int eval_command(struct exec *ex, struct lex *l, json_t *dot, bool has_piped, json_t *piped,
			json_t **out, enum tok *end)
{
	json_t *args[16];
	size_t n = 0;
	func_fn fn = NULL;
	enum tok t = lex_next(l);
	const char *start = l->s, *stop;
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
		ex->arg_at[n] = l->s;
		ex->arg_lit[n] = t == T_STRING || t == T_NUMBER || t == T_IDENT;
		if (eval_term(ex, l, t, dot, &args[n]) < 0) {
			rc = -1;
			break;
		}
		ex->arg_len[n] = (size_t)(l->p - ex->arg_at[n]);
		n++;
	}
	*end = t;
	/* Errors of the call name the command, as Go's do. */
	for (stop = l->s; stop > start && strchr(" \t\r\n", stop[-1]); stop--)
		;
	if (fn) {
		ex->action = start;
		ex->action_len = (size_t)(stop - start);
	}
	if (rc == 0 && has_piped) {
		if (!fn) {
			rc = exec_error(ex, "can't give argument to non-function", "");
		} else {
			ex->arg_at[n] = NULL;
			args[n++] = json_incref(piped);
		}
	}
	/* The typed run fails where Go's could not pass a missing value. */
	for (size_t i = 0; rc == 0 && fn && ex->root_type && !takes_nil(fn) && i < n; i++)
		if (!args[i])
			rc = exec_error(ex, "invalid value", "");
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
	bool first = true;
	enum tok end;

	do {
		json_t *next = NULL;
		int rc = eval_command(ex, l, dot, !first, v, &next, &end);

		first = false;
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
	const struct tmpl_type *ty = type_of(ex, v);
	int rc = 0;

	/* Go ranges over maps and slices only, not structs. */
	if (ty && ty->kind != TMPL_MAP && ty->kind != TMPL_SLICE)
		return exec_error(ex, "range can't iterate over ", "a struct");
	if (json_is_array(v) && json_array_size(v)) {
		for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
			json_t *key = json_integer((json_int_t)i);

			if (ty)
				rc = typed_add(ex, json_array_get(v, i), ty->elem, false);
			if (rc == 0)
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

			if (ty)
				rc = typed_add(ex, json_object_get(v, keys[i]), ty->elem, false);
			if (rc == 0)
				rc = range_step(ex, n, vars, n_vars, key,
						json_object_get(v, keys[i]));
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
			} else {
				print_result(ex, ex->out, v);
			}
			break;
		case N_IF:
			rc = exec_list(ex, truth_of(ex, v) ? n->body : n->alt, dot);
			break;
		case N_WITH:
			if (n_vars)
				rc = push_var(ex, &vars[0], v);
			if (rc == 0)
				rc = truth_of(ex, v) ? exec_list(ex, n->body, v)
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
static char *to_text(const struct exec *ex, const json_t *v)
{
	struct text t = { 0 };

	text_puts(&t, "");
	print_result(ex, &t, v);
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

/* Go's error for operand I (V) of the call, which is not of type WANT. */
static int arg_error(struct exec *ex, size_t i, const json_t *v, const char *want)
{
	const char *got = json_is_string(v)    ? "string"
			  : json_is_integer(v) ? "int"
			  : json_is_real(v)    ? "float64"
			  : json_is_boolean(v) ? "bool"
			  : json_is_array(v)   ? "[]interface {}"
					       : "map[string]interface {}";
	char msg[160];

	if (!ex->arg_at[i])
		return exec_error(ex, "wrong type for value; expected ", want);
	ex->action = ex->arg_at[i];
	ex->action_len = ex->arg_len[i];
	if (ex->arg_lit[i])
		snprintf(msg, sizeof(msg), "can't handle %.*s for arg of type %s",
			 (int)ex->arg_len[i], ex->arg_at[i], want);
	else
		snprintf(msg, sizeof(msg), "wrong type for value; expected %s; got %s", want, got);
	return exec_error_at(ex, operand_at(ex->arg_at[i], ex->arg_len[i]), msg, "");
}

static int want_args(struct exec *ex, const char *fn, size_t n, size_t want)
{
	char msg[96];

	if (n == want)
		return 0;
	/* At the function's name. */
	ex->action_len = strlen(fn);
	snprintf(msg, sizeof(msg), "%s: want %zu got %zu", fn, want, n);
	return exec_error(ex, "wrong number of args for ", msg);
}

/* A JSON string of S (LEN bytes) as Go's encoder writes it; with HTML,
 * "<", ">" and "&" escaped as json.Marshal does. */
static void json_string_out(struct text *t, const char *s, size_t len, bool html)
{
	_cleanup_json_ json_t *str = json_stringn(s, len);
	_cleanup_free_ char *d = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;

	if (!d) {
		t->oom = true;
		return;
	}
	for (const char *p = d; *p; p++) {
		if (p[0] == '\\' && p[1] == 'u') {
			/* Go writes the other control characters' codes in
			 * lower case, jansson in upper case. */
			char u[8];

			snprintf(u, sizeof(u), "%.6s", p);
			for (size_t i = 2; u[i]; i++)
				u[i] = (char)tolower((unsigned char)u[i]);
			text_puts(t, u);
			p += strlen(u) - 1;
		} else if (p[0] == '\\') {
			text_add(t, p, 2);
			p++;
		} else if (html && (*p == '<' || *p == '>' || *p == '&')) {
			char u[8];

			snprintf(u, sizeof(u), "\\u%04x", (unsigned char)*p);
			text_puts(t, u);
		} else if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
			   ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9)) {
			/* U+2028 and U+2029, always escaped by Go. */
			text_puts(t, (unsigned char)p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			text_add(t, p, 1);
		}
	}
}

/* Whether V is one of docker's row contexts (see enum rows). */
static bool is_row(const struct exec *ex, const json_t *v)
{
	const char *k;
	json_t *m, *e;
	size_t i;

	if (!json_is_object(v) || ex->rows == ROWS_NONE)
		return false;
	if (ex->rows == ROWS_ROOT)
		return v == ex->root;
	json_object_foreach (ex->root, k, m)
		json_array_foreach (m, i, e)
			if (e == v)
				return true;
	return false;
}

static void json_out(const struct exec *ex, struct text *t, const json_t *v,
		     const struct tmpl_type *ty, bool html);

/* Whether Go's omitempty leaves V out: false, 0, "", nil, or an empty
 * map or slice. */
static bool json_empty(const json_t *v, const struct tmpl_type *ty)
{
	if (ty && (ty->kind == TMPL_STRUCT || ty->kind == TMPL_TIME || ty->kind == TMPL_EMPTY))
		return false;
	return !v || !truth_raw(v);
}

/* The zero value of TY as Go marshals it. */
static void json_zero(const struct exec *ex, struct text *t, const struct tmpl_type *ty)
{
	switch (ty ? ty->kind : TMPL_PTR) {
	case TMPL_STRING:
		text_puts(t, "\"\"");
		break;
	case TMPL_INT:
	case TMPL_DURATION:
		text_puts(t, "0");
		break;
	case TMPL_BOOL:
		text_puts(t, "false");
		break;
	case TMPL_TIME:
		text_puts(t, "\"0001-01-01T00:00:00Z\"");
		break;
	case TMPL_EMPTY:
		text_puts(t, "{}");
		break;
	case TMPL_STRUCT:
		json_out(ex, t, NULL, ty, false);
		break;
	default:
		text_puts(t, "null");
		break;
	}
}

/* The members of V (NULL: the zero struct) as Go marshals struct TY,
 * complete: its fields in order, embedded ones inline, omitempty ones
 * left out when empty, what TY does not have dropped. */
static void json_struct_out(const struct exec *ex, struct text *t, const json_t *v,
			    const struct tmpl_type *ty, bool html, bool *first)
{
	for (const struct tmpl_field *f = ty->fields; f->name || f->type; f++) {
		const json_t *m = f->name && v ? json_object_get(v, f->name) : NULL;

		if (!f->name) {
			json_struct_out(ex, t, v, f->type, html, first);
			continue;
		}
		if (f->omitempty && json_empty(m, f->type))
			continue;
		if (!*first)
			text_puts(t, ",");
		*first = false;
		json_string_out(t, f->name, strlen(f->name), html);
		text_puts(t, ":");
		if (m)
			json_out(ex, t, m, f->type, html);
		else
			json_zero(ex, t, f->type);
	}
}

/* V as the json function writes it (compact; a nil map or slice null);
 * a row with its keys in order and HTML escaped, as docker marshals its
 * contexts. */
static void json_out(const struct exec *ex, struct text *t, const json_t *v,
		     const struct tmpl_type *ty, bool html)
{
	size_t i;
	json_t *e;

	if (!ty)
		ty = type_of(ex, v);
	if (ty && ty->kind == TMPL_PTR)
		ty = ty->elem;
	if (ty && ty->kind == TMPL_STRUCT && ty->complete && (!v || json_is_object(v))) {
		bool first = true;

		text_puts(t, "{");
		json_struct_out(ex, t, v, ty, html, &first);
		text_puts(t, "}");
	} else if (!v || is_nil(ex, v)) {
		text_puts(t, "null");
	} else if (json_is_object(v)) {
		bool row = is_row(ex, v);
		/* Go writes a map's keys in order; the raw run's objects are
		 * all maps. */
		bool sorted = row || (ty && ty->kind == TMPL_MAP) || (ex->strict && !ex->root_type);
		size_t n = json_object_size(v), k = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));
		const char *key;

		if (!keys) {
			t->oom = true;
			return;
		}
		json_object_foreach ((json_t *)v, key, e)
			keys[k++] = key;
		if (sorted)
			qsort(keys, n, sizeof(*keys), cmp_str);
		text_puts(t, "{");
		for (k = 0; k < n; k++) {
			if (k)
				text_puts(t, ",");
			json_string_out(t, keys[k], strlen(keys[k]), html || row);
			text_puts(t, ":");
			const struct tmpl_field *f =
				ty && ty->kind == TMPL_STRUCT ? struct_field(ty, keys[k]) : NULL;

			json_out(ex, t, json_object_get(v, keys[k]),
				 f			      ? f->type
				 : ty && ty->kind == TMPL_MAP ? ty->elem
							      : NULL,
				 html || row);
		}
		text_puts(t, "}");
		free(keys);
	} else if (json_is_array(v)) {
		text_puts(t, "[");
		json_array_foreach (v, i, e) {
			if (i)
				text_puts(t, ",");
			json_out(ex, t, e, ty && ty->kind == TMPL_SLICE ? ty->elem : NULL, html);
		}
		text_puts(t, "]");
	} else if (json_is_string(v)) {
		json_string_out(t, json_string_value(v), json_string_length(v), html);
	} else {
		_cleanup_free_ char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		if (d)
			text_puts(t, d);
		else
			t->oom = true;
	}
}

static int fn_json(struct exec *ex, json_t **a, size_t n, json_t **out)
{
	struct text t = { 0 };

	if (want_args(ex, "json", n, 1) < 0)
		return -1;
	text_puts(&t, "");
	json_out(ex, &t, a[0], NULL, false);
	if (t.oom) {
		free(t.buf);
		t.buf = NULL;
	}
	return ret_string(ex, t.buf, out);
}

static int fn_case(struct exec *ex, json_t **a, size_t n, json_t **out, int mode)
{
	char *s;
	bool start = true;

	if (want_args(ex, mode == 0 ? "upper" : mode == 1 ? "lower" : "title", n, 1) < 0)
		return -1;
	s = to_text(ex, a[0]);
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
	/* Go checks the operand's type ([]string; the raw run's arrays are
	 * []interface {}) before the call. */
	if ((a[0] && !json_is_array(a[0]) && !json_is_null(a[0])) ||
	    (json_is_array(a[0]) && ex->strict && !ex->root_type))
		return arg_error(ex, 0, a[0], "[]string");
	if (!json_is_string(a[1]))
		return arg_error(ex, 1, a[1], "string");
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
	json_t *v;

	if (n < 1)
		return exec_error(ex, "wrong number of args for ", "index");
	v = json_incref(a[0]);
	for (size_t i = 1; i < n; i++) {
		const struct tmpl_type *ty = type_of(ex, v);
		json_t *next = NULL;
		char msg[96];

		/* Go indexes maps and slices, not structs or pointers, nor a
		 * map of named keys with a string. */
		if (ex->root_type &&
		    (!v || (ty && ty->kind != TMPL_MAP && ty->kind != TMPL_SLICE) ||
		     (ty && ty->named_key))) {
			json_decref(v);
			return exec_error(ex, "error calling index: ", "can't index item");
		}
		if (json_is_object(v) && json_is_string(a[i])) {
			json_t *m = json_object_get(v, json_string_value(a[i]));

			if (ty)
				/* A typed map's missing key: its element's zero
				 * value. */
				next = m ? typed_member(ex, m, ty->elem) : zero_value(ex, ty->elem);
			else if (m)
				next = json_incref(m);
			else if (!ex->strict)
				next = json_string("");
			if (!next && ex->root_type) {
				json_decref(v);
				return -1;
			}
		} else if (json_is_object(v)) {
			json_decref(v);
			snprintf(msg, sizeof(msg), "value has type %s; should be string",
				 json_is_integer(a[i]) ? "int" : "interface {}");
			return exec_error(ex, "error calling index: ", msg);
		} else if (json_is_array(v) && json_is_integer(a[i])) {
			json_int_t k = json_integer_value(a[i]);

			if (k < 0 || (size_t)k >= json_array_size(v)) {
				json_decref(v);
				snprintf(msg, sizeof(msg), "index out of range: %lld",
					 (long long)k);
				return exec_error(ex, "error calling index: ", msg);
			}
			next = json_array_get(v, (size_t)k);
			if (ty && typed_add(ex, next, ty->elem, false) < 0) {
				json_decref(v);
				return -1;
			}
			json_incref(next);
		} else if (!json_is_null(v) && v) {
			json_decref(v);
			return exec_error(ex, "error calling index: ", "cannot index this value");
		} else if (ex->strict) {
			return exec_error(ex, "error calling index: ", "index of untyped nil");
		}
		json_decref(v);
		v = next;
		if (!v)
			break;
	}
	*out = v;
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
	*out = json_boolean(!truth_of(ex, a[0]));
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
		if (truth_of(ex, a[i]) != is_and)
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
			print_result(ex, &t, a[i]);
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
		/* fmt's nil operand. */
		if (!v || (json_is_null(v) && verb != 'v')) {
			snprintf(buf, sizeof(buf), verb == 'v' ? "<nil>" : "%%!%c(<nil>)", verb);
			text_puts(&t, buf);
			continue;
		}
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
			_cleanup_free_ char *s = to_text(ex, v);
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
	s = to_text(ex, a[0]);
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
	s = to_text(ex, a[0]);
	/* docker pads no empty text. */
	if (s && !*s)
		return ret_string(ex, steal_ptr(&s), out);
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

/* The functions whose arguments are Go's "any": a missing value goes in
 * as nil. */
static bool takes_nil(func_fn fn)
{
	return fn == fn_json || fn == fn_print || fn == fn_printf || fn == fn_println ||
	       fn == fn_and || fn == fn_or || fn == fn_not || fn == fn_eq || fn == fn_ne;
}

/* docker's header functions: a table's header goes through json, split,
 * join, title, lower, upper, truncate and pad as it is. */
static bool header_identity(func_fn fn)
{
	return fn == fn_json || fn == fn_split || fn == fn_join || fn == fn_title ||
	       fn == fn_lower || fn == fn_upper || fn == fn_truncate || fn == fn_pad;
}

/* How a template runs: as a table's header, as inspect's raw run
 * (missing keys are errors), over rows, or typed (ROOT_TYPE; TYPED_ONLY
 * when no raw run follows). */
struct expand_mode {
	bool header, strict;
	enum rows rows;
	const struct tmpl_type *root_type;
	bool typed_only;
	const char *row_type;
};

static int expand(const char *tmpl, const json_t *value, const struct expand_mode *m, char **out,
		  struct berr **err)
{
	struct parser ps = { .p = tmpl, .err = err };
	struct text t = { 0 };
	struct exec ex = { .tmpl = tmpl,
			   .out = &t,
			   .root = (json_t *)value,
			   .err = err,
			   .header = m->header,
			   .strict = m->strict,
			   .rows = m->rows,
			   .root_type = m->root_type,
			   .typed_only = m->typed_only,
			   .row_type = m->row_type };
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
	ex.made = m->root_type ? json_array() : NULL;
	rc = m->root_type && !ex.made ? berr_set(err, BERR_INTERNAL, ENOMEM, "format") : 0;
	if (rc == 0)
		rc = push_var(&ex, &dollar, ex.root);
	if (rc == 0)
		rc = exec_list(&ex, tree, ex.root);
	pop_vars(&ex, 0);
	node_free(tree);
	free(ex.types);
	json_decref(ex.made);
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
	static const struct expand_mode plain = { 0 };

	return expand(tmpl, value, &plain, out, err);
}

int cli_template_expand_row(const char *tmpl, const json_t *value, char **out, struct berr **err)
{
	static const struct expand_mode row = { .rows = ROWS_ROOT };

	return expand(tmpl, value, &row, out, err);
}

int cli_template_expand_row_of(const char *tmpl, const json_t *value, const char *row_type,
			       char **out, struct berr **err)
{
	struct expand_mode row = { .rows = ROWS_ROOT, .row_type = row_type };

	return expand(tmpl, value, &row, out, err);
}

int cli_template_expand_rows(const char *tmpl, const json_t *value, char **out, struct berr **err)
{
	static const struct expand_mode rows = { .rows = ROWS_NESTED };

	return expand(tmpl, value, &rows, out, err);
}

int cli_template_expand_header(const char *tmpl, const json_t *value, char **out, struct berr **err)
{
	static const struct expand_mode header = { .header = true };

	return expand(tmpl, value, &header, out, err);
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

/* The Go type of an inspect document, told by its members. */
static const struct tmpl_type *inspect_type(const json_t *v)
{
	if (json_object_get(v, "State") && json_object_get(v, "HostConfig"))
		return &tmpl_container_inspect;
	if (json_object_get(v, "RootFS") && json_object_get(v, "RepoTags"))
		return &tmpl_image_inspect;
	if (json_object_get(v, "Mountpoint") && json_object_get(v, "Scope") &&
	    json_object_get(v, "Driver"))
		return &tmpl_volume_inspect;
	return NULL;
}

int cli_print_inspect(const json_t *values, const char *format)
{
	struct berr *err = NULL;
	size_t i;
	json_t *v;

	if (!format || strcmp(format, "json") == 0) {
		/* docker's "json": the documents as the daemon sent them,
		 * compact. */
		char *s = json_dumps(values, format ? JSON_COMPACT : JSON_INDENT(4));

		if (!s) {
			berr_set(&err, BERR_INTERNAL, ENOMEM, "print");
			return cli_report(err);
		}
		printf("%s\n", s);
		free(s);
		return 0;
	}
	json_array_foreach (values, i, v) {
		struct expand_mode raw = { .strict = true };
		char *s = NULL;

		/* docker runs the template on its typed struct first, and on
		 * the raw JSON only when that fails. */
		raw.root_type = inspect_type(v);
		if (raw.root_type && expand(format, v, &raw, &s, NULL) == 0) {
			printf("%s\n", s);
			free(s);
			continue;
		}
		raw.root_type = NULL;
		if (expand(format, v, &raw, &s, &err) < 0) {
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

int cli_template_expand_typed(const char *tmpl, const json_t *value, const struct tmpl_type *type,
			      char **out, struct berr **err)
{
	struct expand_mode typed = { .strict = true, .root_type = type, .typed_only = true };

	return expand(tmpl, value, &typed, out, err);
}

static void json_newline(struct text *t, int depth)
{
	text_puts(t, "\n");
	for (int i = 0; i < depth; i++)
		text_puts(t, "    ");
}

/* SRC, compact JSON, indented as Go's json.Indent does it with four
 * spaces: empty objects and arrays stay "{}" and "[]". */
static void json_indent(struct text *t, const char *src)
{
	bool in_str = false;
	int depth = 0;

	for (const char *p = src; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1]) {
				text_add(t, p++, 2);
				continue;
			}
			in_str = *p != '"';
			text_add(t, p, 1);
			continue;
		}
		switch (*p) {
		case '"':
			in_str = true;
			text_add(t, p, 1);
			break;
		case '{':
		case '[':
			if (p[1] == (*p == '{' ? '}' : ']')) {
				text_add(t, p++, 2);
				break;
			}
			text_add(t, p, 1);
			json_newline(t, ++depth);
			break;
		case '}':
		case ']':
			json_newline(t, --depth);
			text_add(t, p, 1);
			break;
		case ',':
			text_add(t, p, 1);
			json_newline(t, depth);
			break;
		case ':':
			text_puts(t, ": ");
			break;
		default:
			text_add(t, p, 1);
			break;
		}
	}
}

char *cli_json_marshal_typed(const json_t *values, const struct tmpl_type *type, bool indent)
{
	struct exec ex = { .root = (json_t *)values, .root_type = type, .typed_only = true };
	struct text t = { 0 }, out = { 0 };
	size_t i;
	json_t *v;

	text_puts(&t, "[");
	json_array_foreach (values, i, v) {
		if (i)
			text_puts(&t, ",");
		json_out(&ex, &t, v, type, true);
	}
	text_puts(&t, "]");
	if (t.oom || !indent) {
		if (t.oom)
			free(steal_ptr(&t.buf));
		return t.buf;
	}
	text_puts(&out, "");
	json_indent(&out, t.buf);
	free(t.buf);
	if (out.oom)
		free(steal_ptr(&out.buf));
	return out.buf;
}
