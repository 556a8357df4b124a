/* Error values: creation at the failing call, context on the way up. */
#include "berr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Used when memory for an error cannot be had: the error still travels. */
static char oom_message[] = "out of memory";

static char *format_message(int sys_errno, const char *fmt, va_list ap)
{
	char *base = NULL;
	char *full = NULL;

	if (vasprintf(&base, fmt, ap) < 0)
		return NULL;
	if (sys_errno == 0)
		return base;
	if (asprintf(&full, "%s: %s", base, strerror(sys_errno)) < 0)
		full = NULL;
	free(base);
	return full;
}

int berr_setv(struct berr **err, enum berr_kind kind, int sys_errno, const char *fmt, va_list ap)
{
	struct berr *e;

	if (err == NULL)
		return -1;
	berr_clear(err);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	e->kind = kind;
	e->sys_errno = sys_errno;
	e->msg = format_message(sys_errno, fmt, ap);
	if (e->msg == NULL)
		e->msg = oom_message;
	*err = e;
	return -1;
}

int berr_set(struct berr **err, enum berr_kind kind, int sys_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	berr_setv(err, kind, sys_errno, fmt, ap);
	va_end(ap);
	return -1;
}

int berr_prefix(struct berr **err, const char *fmt, ...)
{
	char *prefix = NULL;
	char *joined = NULL;
	va_list ap;
	int n;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	n = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (*err == NULL) {
		berr_set(err, BERR_INTERNAL, 0, "%s: unknown error", prefix);
		free(prefix);
		return -1;
	}
	if (asprintf(&joined, "%s: %s", prefix, (*err)->msg) >= 0) {
		if ((*err)->msg != oom_message)
			free((*err)->msg);
		(*err)->msg = joined;
	}
	free(prefix);
	return -1;
}

void berr_move(struct berr **dst, struct berr **src)
{
	if (dst == NULL) {
		berr_clear(src);
		return;
	}
	berr_clear(dst);
	*dst = *src;
	*src = NULL;
}

void berr_free(struct berr *err)
{
	if (err == NULL)
		return;
	if (err->msg != oom_message)
		free(err->msg);
	free(err);
}

void berr_clear(struct berr **err)
{
	if (err == NULL)
		return;
	berr_free(*err);
	*err = NULL;
}

const char *berr_kind_name(enum berr_kind kind)
{
	switch (kind) {
	case BERR_INTERNAL:
		return "internal error";
	case BERR_INVALID:
		return "invalid argument";
	case BERR_NOT_FOUND:
		return "not found";
	case BERR_CONFLICT:
		return "conflict";
	case BERR_FORBIDDEN:
		return "forbidden";
	case BERR_UNAVAILABLE:
		return "unavailable";
	case BERR_NOT_IMPLEMENTED:
		return "not implemented";
	}
	return "unknown error";
}
