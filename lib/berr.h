/* Errors that carry a kind, the errno of the failing call and a message a
 * user can act on.  An error is created where the failure happens, gains
 * context on its way up through berr_prefix(), and is reported once, at the
 * edge (a main() or an API handler). */
#ifndef BERTH_LIB_BERR_H
#define BERTH_LIB_BERR_H

#include <stdarg.h>

enum berr_kind {
	BERR_INTERNAL,
	BERR_INVALID,
	BERR_NOT_FOUND,
	BERR_CONFLICT,
	BERR_FORBIDDEN,
	BERR_UNAVAILABLE,
	BERR_NOT_IMPLEMENTED,
};

struct berr {
	enum berr_kind kind;
	int sys_errno; /* 0 when no system call failed */
	char *msg;     /* owned; includes strerror(sys_errno) when set */
};

/* Creates *err (when err is not NULL) and returns -1, so callers can write
 * `return berr_set(...)`.  An error already in *err is replaced. */
int berr_set(struct berr **err, enum berr_kind kind, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int berr_setv(struct berr **err, enum berr_kind kind, int sys_errno, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Adds "context: " in front of the message of *err; returns -1.  Creates an
 * internal error when there is none yet, so a missing berr_set() still
 * reports something. */
int berr_prefix(struct berr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Moves *src into *dst (freeing what *dst held); *src becomes NULL. */
void berr_move(struct berr **dst, struct berr **src);

void berr_free(struct berr *err);
void berr_clear(struct berr **err);

/* A short name for the kind: "invalid argument", "not found"... */
const char *berr_kind_name(enum berr_kind kind);

#endif
