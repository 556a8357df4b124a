/* Process-wide logging: text or JSON lines (runc's --log-format), to stderr
 * or to a file, filtered by level.  Log output never fails the caller. */
#ifndef BERTH_LIB_LOG_H
#define BERTH_LIB_LOG_H

#include "berr.h"

enum blog_level {
	BLOG_ERROR,
	BLOG_WARN,
	BLOG_INFO,
	BLOG_DEBUG,
};

enum blog_format {
	BLOG_FORMAT_TEXT,
	BLOG_FORMAT_JSON,
};

/* Sends log lines to PATH (appended, created 0600) or to stderr when PATH is
 * NULL.  Sets BERR_INVALID when the file cannot be opened. */
int blog_open(const char *path, enum blog_format format, enum blog_level level, struct berr **err);
void blog_set_level(enum blog_level level);
enum blog_level blog_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int blog_level_parse(const char *name);
/* The log file descriptor, or -1 for stderr; children that must keep logging
 * across exec use it, all others close it. */
int blog_fd(void);
void blog_close(void);

void blog_msg(enum blog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define blog_error(...) blog_msg(BLOG_ERROR, __VA_ARGS__)
#define blog_warn(...)	blog_msg(BLOG_WARN, __VA_ARGS__)
#define blog_info(...)	blog_msg(BLOG_INFO, __VA_ARGS__)
#define blog_debug(...) blog_msg(BLOG_DEBUG, __VA_ARGS__)

#endif
