/* Docker's json-file log format: one JSON object per line,
 * {"log":"<bytes>","stream":"stdout","time":"<RFC 3339, ns, UTC>"}, with
 * the bytes escaped as Go's encoding/json escapes them (invalid UTF-8
 * becomes U+FFFD).  The shim encodes what a container prints; the daemon
 * decodes it for `docker logs`. */
#ifndef BERTH_LIB_JSONLOG_H
#define BERTH_LIB_JSONLOG_H

#include <stddef.h>
#include <stdint.h>

/* Docker cuts lines longer than this into partial entries. */
#define JSONLOG_LINE_MAX (16 * 1024)

enum jsonlog_stream {
	JSONLOG_STDOUT,
	JSONLOG_STDERR,
};

struct jsonlog_entry {
	char *data; /* the bytes logged, owned */
	size_t len;
	enum jsonlog_stream stream;
	int64_t time_ns; /* since the epoch */
};

void jsonlog_entry_clear(struct jsonlog_entry *e);

/* Encodes the LEN bytes of DATA of STREAM logged at TIME_NS as one line
 * (with its "\n") into a new buffer *out of *out_len.  -1 when out of
 * memory. */
int jsonlog_encode(const char *data, size_t len, enum jsonlog_stream stream, int64_t time_ns,
		   char **out, size_t *out_len);

/* Decodes one line of LEN bytes into *e (cleared by the caller).  -1 for a
 * line that is not an entry. */
int jsonlog_decode(const char *line, size_t len, struct jsonlog_entry *e);

#endif
