/* Log lines, formatted as text ("level=error msg=...") or as runc's JSON
 * ({"level":"error","msg":"...","time":"..."}), written with one write(2)
 * so lines from several processes sharing the file do not interleave. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/timefmt.h"

static int log_fd = -1;
static enum blog_format log_format = BLOG_FORMAT_TEXT;
static enum blog_level log_level = BLOG_WARN;

static const char *const level_names[] = {
	[BLOG_ERROR] = "error",
	[BLOG_WARN] = "warning",
	[BLOG_INFO] = "info",
	[BLOG_DEBUG] = "debug",
};

int blog_open(const char *path, enum blog_format format, enum blog_level level, struct berr **err)
{
	int fd = -1;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return berr_set(err, BERR_INVALID, errno, "open log file %s", path);
	}
	blog_close();
	log_fd = fd;
	log_format = format;
	log_level = level;
	return 0;
}

void blog_set_level(enum blog_level level)
{
	log_level = level;
}

enum blog_level blog_get_level(void)
{
	return log_level;
}

int blog_level_parse(const char *name)
{
	if (strcasecmp(name, "warn") == 0)
		return BLOG_WARN;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

int blog_fd(void)
{
	return log_fd;
}

void blog_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

static void write_line(const char *line, size_t len)
{
	int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	ssize_t n;

	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
}

void blog_msg(enum blog_level level, const char *fmt, ...)
{
	char *msg = NULL;
	char *line = NULL;
	char when[TIME_RFC3339_SIZE];
	int saved = errno;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	time_now_rfc3339(when);
	if (log_format == BLOG_FORMAT_JSON) {
		json_t *obj = json_pack("{s:s, s:s, s:s}", "level", level_names[level], "msg", msg,
					"time", when);
		char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

		json_decref(obj);
		if (text != NULL && asprintf(&line, "%s\n", text) < 0)
			line = NULL;
		free(text);
	} else if (log_fd >= 0) {
		if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", when, level_names[level],
			     msg) < 0)
			line = NULL;
	} else {
		if (asprintf(&line, "%s\n", msg) < 0)
			line = NULL;
	}
	if (line != NULL)
		write_line(line, strlen(line));
out:
	free(line);
	free(msg);
	errno = saved;
}
