/* What the commands over the Engine API (remote.c, remote_images.c,
 * remote_system.c, remote_volumes.c) share. */
#ifndef BERTH_CMD_BERTH_REMOTE_H
#define BERTH_CMD_BERTH_REMOTE_H

#include <stdbool.h>

#include "cmd/berth/cli.h"
#include "cmd/berth/client.h"

/* docker's status for a failure of the CLI or the daemon in run, create
 * and for a command line it does not take. */
#define API_CLI_STATUS 125

/* True when ARGV asks for --help (or -h where the command has no -h). */
bool api_wants_help(int argc, char **argv, bool short_h);
/* Prints "Usage:  berth USAGE" and SUMMARY; returns 0. */
int api_help(const char *usage, const char *summary);
/* Prints docker's message for a wrong number of arguments; returns 1. */
int api_args_error(const char *command, const char *what);

/* A path with the printf-formatted QUERY appended; "%s" arguments are
 * escaped by the caller with client_escape(). */
char *api_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* PREFIX, then NAME escaped, then the printf-formatted rest:
 * api_obj_path("/containers/", "c1", "/stop?t=%d", 3). */
char *api_obj_path(const char *prefix, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sends METHOD to PREFIX NAME SUFFIX for each of the N NAMES, printing
 * each name that succeeded and each error; 1 when one failed. */
int each_object(struct cli *cli, const char *prefix, int n, char **names, const char *method,
		const char *suffix);

/* Docker's filters parameter ({"key":{"value":true}}) of "key=value"
 * flags added one by one; -1 for a flag without "=". */
int api_filter_add(json_t *filters, const char *kv);
/* The filters as the query's "&filters=..." ("" for none), escaped. */
char *api_filters_query(const json_t *filters);

/* A unix time as Go's time.Time prints it ("2006-01-02 15:04:05 +0000
 * UTC"), in the local zone. */
void api_time_string(int64_t when, char *out, size_t size);

/* units.HumanSizeWithPrecision: SIZE in decimal units with PREC
 * significant digits ("1.984MB" with 4). */
void api_human_size(double size, int prec, char *out, size_t n);

/* The rows of docker's list formatters, keys in order (docker marshals
 * a row as a map), and their headers: a container of GET
 * /containers/json (ContainerContext) and an image of GET /images/json
 * shown as REPO:TAG or REPO@DIGEST (imageContext).  TRUNC: short ids and
 * commands.  New references; NULL on no memory. */
json_t *api_container_row(const json_t *c, bool trunc);
json_t *api_container_header(void);
json_t *api_image_row(const json_t *img, const char *repo, const char *tag, const char *digest,
		      bool trunc);
json_t *api_image_header(void);

/* A volume of GET /volumes or /system/df as the row of docker's volume
 * formatter (volumeContext; "N/A" for what the daemon does not report),
 * and its header (remote_volumes.c).  New references; NULL on no
 * memory. */
json_t *api_volume_row(const json_t *v);
json_t *api_volume_header(void);

/* The prunes' parts (remote_system.c).  api_confirm() asks docker's
 * question after WARNING on stdout; true for "y".  api_prune_call()
 * POSTs /WHAT/prune with FILTERS, the report in *out; 1 with the error
 * printed.  api_print_volumes_report() prints a volume prune's report as
 * docker does into F and returns its space; api_print_total() the last
 * line. */
bool api_confirm(const char *warning);
int api_prune_call(struct cli *cli, const char *what, const json_t *filters, json_t **out);
int64_t api_print_volumes_report(FILE *f, const json_t *r);
void api_print_total(int64_t space);

/* FORMAT (a --format as given: "table ...", "json", "\\t" and "\\n"
 * written out) expanded once over VALUE, whose objects are the rows of
 * docker's list formatters (`{{json .}}` prints them as docker
 * marshals its contexts).  Sets BERR_INVALID with docker's message. */
int api_expand_format(const char *format, const json_t *value, char **out, struct berr **err);
/* Prints a template error as docker's list commands print it; frees
 * ERR; returns 1. */
int api_template_error(struct berr *err);

/* Sinks of a response body: to an fd (the int pointed to), or through the
 * stream demultiplexer to stdout and stderr. */
int api_sink_fd(void *arg, const char *data, size_t len);
struct api_demux_sink {
	struct client_demux d;
	bool raw; /* a terminal's stream: no framing */
};
int api_sink_demux(void *arg, const char *data, size_t len);

/* A hijacked attach or exec stream to copy (remote_term.c): stdin (when
 * IN) to FD, the stream it carries (EARLY first) to stdout and stderr.
 * With TTY (a terminal's stream, without framing) and stdin a terminal:
 * raw mode until the copy ends, the window's size sent to RESIZE
 * ("/containers/ID/resize", "/exec/ID/resize") at once and at each
 * SIGWINCH, and DETACH_KEYS (NULL: ctrl-p,ctrl-q) read from the input end
 * the copy.  With KILL ("/containers/ID/kill"), the signals berth receives
 * are sent there. */
struct api_stream {
	struct cli *cli;
	int fd;
	const char *early;
	size_t early_len;
	bool in, tty;
	const char *resize;
	const char *detach_keys;
	const char *kill;
};
/* 0 when the daemon ended the stream, 1 when the user detached, -1 on
 * error. */
int api_pump(const struct api_stream *s);
/* -1 for detach keys docker does not take. */
int api_detach_keys_check(const char *spec);

/* Writes to OUTPUT (NULL: stdout, refused when a terminal) what REQ's
 * answer carries, under the name only once complete. */
int api_download(struct cli *cli, const char *command, struct client_req *req, const char *output);

#endif
