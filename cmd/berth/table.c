/* Tables, sizes and durations laid out as the docker CLI prints them, so
 * scripts that read docker's output read berth's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/berth/cli.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

struct cli_table {
	size_t n_cols;
	char ***rows; /* each a strv of n_cols cells */
	size_t n_rows;
};

struct cli_table *cli_table_new(size_t n_cols)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (t)
		t->n_cols = n_cols;
	return t;
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows; i++)
		strv_free(t->rows[i]);
	free(t->rows);
	free(t);
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
	_cleanup_strv_ char **row = calloc(t->n_cols + 1, sizeof(*row));
	char ***rows;

	if (!row)
		return -1;
	for (size_t i = 0; i < t->n_cols; i++)
		if (!(row[i] = strdup(cells[i] ? cells[i] : "")))
			return -1;
	rows = realloc(t->rows, (t->n_rows + 1) * sizeof(*rows));
	if (!rows)
		return -1;
	t->rows = rows;
	t->rows[t->n_rows++] = steal_ptr(&row);
	return 0;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	/* docker's tabwriter: minimum width 10, padding 3, the last column
	 * not padded. */
	size_t *width = calloc(t->n_cols ? t->n_cols : 1, sizeof(*width));

	if (!width)
		return;
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++) {
			size_t w = strlen(t->rows[r][c]) + 3;

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			if (c + 1 == t->n_cols)
				fputs(t->rows[r][c], out);
			else
				fprintf(out, "%-*s", (int)(width[c] < 10 ? 10 : width[c]),
					t->rows[r][c]);
		}
		fputc('\n', out);
	}
	free(width);
}

void cli_human_size(int64_t bytes, char out[CLI_HUMAN_SIZE])
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double size = (double)bytes;
	size_t i = 0;

	while (size >= 1000.0 && i + 1 < sizeof(units) / sizeof(units[0])) {
		size /= 1000.0;
		i++;
	}
	snprintf(out, CLI_HUMAN_SIZE, "%.3g%s", size, units[i]);
}

void cli_human_duration(int64_t seconds, char out[CLI_HUMAN_SIZE])
{
	time_human_duration(seconds, out);
}

void cli_human_since(int64_t when, char out[CLI_HUMAN_SIZE + 8])
{
	char d[CLI_HUMAN_SIZE];

	cli_human_duration((int64_t)time(NULL) - when, d);
	snprintf(out, CLI_HUMAN_SIZE + 8, "%s ago", d);
}

/* Go's strconv.Quote of S, for the COMMAND column; the caller frees it. */
char *cli_go_quote(const char *s)
{
	size_t size = 0;
	char *out = NULL;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* docker's Ellipsis: at most MAX characters, the last one "…" when cut. */
char *cli_ellipsis(const char *s, size_t max)
{
	size_t chars = 0, cut = 0;

	for (size_t i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			cut = i;
		chars++;
	}
	if (chars <= max)
		return strdup(s);
	return str_printf("%.*s…", (int)cut, s);
}
