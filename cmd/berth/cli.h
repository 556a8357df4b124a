/* berth: Docker's command line, in two programs.  `berth` is a client of
 * berthd's Engine API (main.c, client.c, remote*.c, tls.c) that needs no
 * shared library but libc, so that it starts fast; with --data-root (or
 * $BERTH_DATA_ROOT) it executes `berth-local` (local.c, containers.c,
 * images.c), which works offline on a data root through the engine's
 * libraries.  Both parse the same global flags and the same run and create
 * flags, and print what `docker` prints. */
#ifndef BERTH_CMD_BERTH_CLI_H
#define BERTH_CMD_BERTH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <getopt.h>

#include <jansson.h>

#include "daemon/container.h"
#include "image/image.h"
#include "lib/berr.h"

/* The directory for runtime state (container state, mounts) when none is
 * given. */
#define CLI_DEFAULT_EXEC_ROOT "/run/berth"

struct client;

struct cli {
	const char *prog;
	struct client *api;	    /* the daemon's API; NULL on a data root */
	const char *data_root;	    /* --data-root, $BERTH_DATA_ROOT */
	const char *exec_root;	    /* --exec-root, $BERTH_EXEC_ROOT */
	struct image_store *images; /* opened on first use by cli_images() */
};

/* cli.c: what both programs share. */

/* A command of a table: its name, its function, and the line `--help`
 * lists (NULL for an alias it does not list). */
struct cli_command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

#define CLI_N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Runs the command ARGV[0] names from TABLE; GROUP names the management
 * command ("image") for messages, NULL at the top level. */
int cli_dispatch(struct cli *cli, const char *group, const struct cli_command *table, size_t n,
		 int argc, char **argv);
/* A management command GROUP ("image", "container", "system", "volume")
 * over its TABLE: its help (SUMMARY, then the subcommands) without a
 * subcommand, else the subcommand's run. */
int cli_management(struct cli *cli, const char *group, const char *summary,
		   const struct cli_command *table, size_t n, int argc, char **argv);

/* The global flags, before the command, as the docker client takes
 * them. */
struct cli_globals {
	const char *host;      /* -H; NULL when not given */
	const char *data_root; /* --data-root, else $BERTH_DATA_ROOT */
	const char *exec_root; /* --exec-root, else $BERTH_EXEC_ROOT */
	int log_level;	       /* an enum blog_level */
	/* --tls and --tlsverify (true when given without "=false"), and
	 * whether --tlsverify was given at all; the files as given, NULL
	 * when not. */
	bool tls, tls_verify, tls_verify_set;
	const char *tls_ca, *tls_cert, *tls_key;
};

/* Parses the global flags of ARGV; the command is at argv[optind]
 * after.  Returns -1 to go on, or the status to leave with (--help and
 * --version done, a bad flag reported).  TABLE is the command list of
 * --help. */
int cli_globals_parse(int argc, char **argv, struct cli_globals *g, const struct cli_command *table,
		      size_t n);

/* The directory of the TLS files not named: $DOCKER_CERT_PATH, else
 * $DOCKER_CONFIG, else ~/.docker, as the docker client; malloc'd, NULL
 * when out of memory. */
char *cli_cert_dir(void);

/* local.c: berth-local's data root. */

/* The image store of the data root, opened on first use and owned by
 * CLI; NULL with the error printed when it cannot be opened. */
struct image_store *cli_images(struct cli *cli);

/* The container engine over the CLI's image store, a new one the caller
 * frees with daemon_free(); NULL with the error printed. */
struct daemon;
struct daemon *cli_engine_open(struct cli *cli);

/* Each command returns the process exit status; errors are printed by
 * cli_report().  ARGV[0] is the command's own name. */

/* images.c: berth-local's image commands. */
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_image_inspect(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);

/* create_flags.c */

/* The flags of run and create, as both programs parse them. */
struct create_flags {
	struct daemon_create_opts opts;
	char **env;
	/* HostConfig members of the flags below, merged into the body. */
	char **cap_add, **cap_drop, **security_opt, **binds, **tmpfs;
	const char *memory;
	const char *network;
	bool read_only, init, privileged;
	bool detach;
	bool interactive;
	/* Only the client's: the keys that detach from a terminal, and
	 * --sig-proxy=false. */
	const char *detach_keys;
	bool no_sig_proxy;
	/* The members of the other flags (create_more.c): the body's and
	 * HostConfig's, the variables of --env-file. */
	json_t *more_config, *more_host;
	char **env_file;
	bool health_flags, no_healthcheck, restart;
};
void create_flags_clear(struct create_flags *f);
/* Parses the flags of COMMAND ("run" or "create"); returns -1 when the
 * command goes on (IMAGE at argv[optind]), else the status to leave
 * with. */
int parse_create(const char *command, int argc, char **argv, struct create_flags *f);
/* create_more.c: the other flags of run and create.  create_more_flag()
 * takes option OPT of create_more_opts: 0, 1 when OPT is not one of them,
 * or the status to leave with (docker's message printed). */
extern const struct option create_more_opts[];
int create_more_flag(struct create_flags *f, const char *command, int opt, const char *arg);
/* The checks across flags, once all are read: 0 or the status. */
int create_more_finish(struct create_flags *f, const char *command);
/* Merges their members into the create BODY. */
int create_more_merge(const struct create_flags *f, json_t *body);
/* The Engine API's create body of F; NULL (reported) on failure. */
json_t *create_body(const char *command, const struct create_flags *f);

/* containers.c: berth-local's container commands. */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_commit(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_container_inspect(struct cli *cli, int argc, char **argv);

/* table.c: output as the docker CLI lays it out. */

/* A table printed as Go's tabwriter does for docker: every column but the
 * last padded to its widest cell plus 3, at least 10 wide. */
struct cli_table;
struct cli_table *cli_table_new(size_t n_cols);
/* Adds a row of the table's N_COLS cells (copied). -1 on no memory. */
int cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);
DEFINE_CLEANUP(struct cli_table *, cli_table_free)

/* Go's strconv.Quote of S; docker's Ellipsis (at most MAX characters, the
 * last one "…" when cut).  The caller frees them; NULL on no memory. */
char *cli_go_quote(const char *s);
char *cli_ellipsis(const char *s, size_t max);

/* Docker's human sizes and durations (go-units): "1.24MB", "4.1kB";
 * "Less than a second", "About a minute", "3 hours", "2 weeks". */
#define CLI_HUMAN_SIZE 32
void cli_human_size(int64_t bytes, char out[CLI_HUMAN_SIZE]);
void cli_human_duration(int64_t seconds, char out[CLI_HUMAN_SIZE]);
/* "3 hours ago" for a unix time, as the CREATED columns show it. */
void cli_human_since(int64_t when, char out[CLI_HUMAN_SIZE + 8]);

/* template.c: the --format templates of inspect and the list commands, in
 * the part of Go's text/template that scripts use: literal text with
 * actions "{{.Field.Sub}}", "{{json .Field}}", "{{.}}".  A value prints as
 * Go prints it: strings bare, numbers as integers when whole, lists as
 * "[a b]", objects as "map[k:v]", a missing field as "<no value>".  The
 * expanded text goes to *out (the caller's).  Sets BERR_INVALID naming the
 * template for anything else. */
int cli_template_expand(const char *tmpl, const json_t *value, char **out, struct berr **err);
/* The same for a row of a list (VALUE) or for VALUE whose arrays hold the
 * rows (verbose df): `json` writes a row as docker marshals its row
 * contexts, keys in order and "<", ">", "&" escaped. */
int cli_template_expand_row(const char *tmpl, const json_t *value, char **out, struct berr **err);
/* The same for a row of Go type ROW_TYPE ("*formatter.volumeContext"): a
 * field the row lacks is Go's error, not "<no value>". */
int cli_template_expand_row_of(const char *tmpl, const json_t *value, const char *row_type,
			       char **out, struct berr **err);
int cli_template_expand_rows(const char *tmpl, const json_t *value, char **out, struct berr **err);
/* The same for a table's header, whose names go through docker's text
 * functions (upper, lower, json, join ...) unchanged. */
int cli_template_expand_header(const char *tmpl, const json_t *value, char **out,
			       struct berr **err);
/* Only parses TMPL: BERR_INVALID "template parsing error: ..." when it
 * does not. */
int cli_template_check(const char *tmpl, struct berr **err);

/* Prints VALUES (a JSON array) as `docker inspect` does: the array
 * indented by 4, or with FORMAT (NULL for none) each element expanded and
 * followed by a newline.  A container's or an image's document is
 * expanded as docker does, on its Go type first (template_types.h), then
 * on the raw JSON when that fails.  Returns 0, or reports a template error and
 * returns 1. */
int cli_print_inspect(const json_t *values, const char *format);

/* What docker prints of documents it holds only as their Go TYPE
 * (template_types.h), as `volume inspect` does.  The template run on the
 * typed value alone: a field the type lacks is Go's error ("can't evaluate
 * field X in type volume.Volume").  Sets BERR_INVALID for a template that
 * fails. */
struct tmpl_type;
int cli_template_expand_typed(const char *tmpl, const json_t *value, const struct tmpl_type *type,
			      char **out, struct berr **err);
/* VALUES (an array) as Go's json.Marshal writes a slice of TYPE (its
 * fields in order, maps' keys sorted, "<", ">" and "&" escaped), indented
 * by 4 as json.MarshalIndent with INDENT; malloc'd, NULL on no memory. */
char *cli_json_marshal_typed(const json_t *values, const struct tmpl_type *type, bool indent);

/* cli.c: errors. */

/* Prints ERR as docker does ("Error response from daemon: ..." is the
 * daemon's; here "Error: MESSAGE") on stderr; returns the exit status
 * for it (1). */
int cli_report(struct berr *err);
/* docker 28's usage errors.  COMMAND is the name a command gives itself
 * ("images", "system df"; "" for the global flags); the messages name it
 * as the user did ("image ls").  cli_usage_error() takes the arguments'
 * complaint ("requires at least 1 argument.", "accepts no arguments.")
 * and prints it with the command's usage line, as cobra words it
 * ("berth: 'berth run' requires at least 1 argument"); returns 1 (125
 * for an "unknown flag: ..." complaint). */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints docker's message for the flag getopt_long() (with opterr 0 and
 * SHORTOPTS) refused at argv[optind - 1], with the usage line; returns
 * 125. */
int cli_flag_error(const char *command, char **argv, const char *shortopts);
/* A flag's value refused: the printf-formatted message, then the usage
 * line; returns 125. */
int cli_flag_value_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The end of those messages: "Usage:  berth COMMAND ARGS" and "VERB 'berth
 * COMMAND --help' for more information". */
void cli_usage_tail(const char *command, const char *verb);

/* remote*.c: the commands over berthd's Engine API,
 * with the same names and flags as the ones above. */
int api_cmd_run(struct cli *cli, int argc, char **argv);
int api_cmd_create(struct cli *cli, int argc, char **argv);
int api_cmd_start(struct cli *cli, int argc, char **argv);
int api_cmd_attach(struct cli *cli, int argc, char **argv);
int api_cmd_port(struct cli *cli, int argc, char **argv);
int api_cmd_update(struct cli *cli, int argc, char **argv);
int api_cmd_stats(struct cli *cli, int argc, char **argv);
int api_cmd_container_prune(struct cli *cli, int argc, char **argv);
int api_cmd_image_prune(struct cli *cli, int argc, char **argv);
int api_cmd_system_prune(struct cli *cli, int argc, char **argv);
int api_cmd_system_df(struct cli *cli, int argc, char **argv);
int api_cmd_stop(struct cli *cli, int argc, char **argv);
int api_cmd_restart(struct cli *cli, int argc, char **argv);
int api_cmd_kill(struct cli *cli, int argc, char **argv);
int api_cmd_pause(struct cli *cli, int argc, char **argv);
int api_cmd_unpause(struct cli *cli, int argc, char **argv);
int api_cmd_wait(struct cli *cli, int argc, char **argv);
int api_cmd_rm(struct cli *cli, int argc, char **argv);
int api_cmd_rename(struct cli *cli, int argc, char **argv);
int api_cmd_ps(struct cli *cli, int argc, char **argv);
int api_cmd_logs(struct cli *cli, int argc, char **argv);
int api_cmd_exec(struct cli *cli, int argc, char **argv);
int api_cmd_top(struct cli *cli, int argc, char **argv);
int api_cmd_diff(struct cli *cli, int argc, char **argv);
int api_cmd_commit(struct cli *cli, int argc, char **argv);
int api_cmd_export(struct cli *cli, int argc, char **argv);
int api_cmd_cp(struct cli *cli, int argc, char **argv);
int api_cmd_inspect(struct cli *cli, int argc, char **argv);
int api_cmd_container_inspect(struct cli *cli, int argc, char **argv);
int api_cmd_image_inspect(struct cli *cli, int argc, char **argv);
int api_cmd_images(struct cli *cli, int argc, char **argv);
int api_cmd_rmi(struct cli *cli, int argc, char **argv);
int api_cmd_tag(struct cli *cli, int argc, char **argv);
int api_cmd_history(struct cli *cli, int argc, char **argv);
int api_cmd_save(struct cli *cli, int argc, char **argv);
int api_cmd_load(struct cli *cli, int argc, char **argv);
int api_cmd_import(struct cli *cli, int argc, char **argv);
int api_cmd_events(struct cli *cli, int argc, char **argv);
int api_cmd_version(struct cli *cli, int argc, char **argv);
int api_cmd_info(struct cli *cli, int argc, char **argv);
/* remote_volumes.c: the volume commands. */
int api_cmd_volume_create(struct cli *cli, int argc, char **argv);
int api_cmd_volume_ls(struct cli *cli, int argc, char **argv);
int api_cmd_volume_inspect(struct cli *cli, int argc, char **argv);
int api_cmd_volume_rm(struct cli *cli, int argc, char **argv);
int api_cmd_volume_prune(struct cli *cli, int argc, char **argv);
int api_cmd_volume_update(struct cli *cli, int argc, char **argv);

/* Prints ERR's message as it is (the client's errors read as docker's)
 * and returns STATUS. */
int api_report(struct berr *err, int status);
/* Prints ROWS (JSON objects) through FORMAT as docker's list commands do:
 * "table ..." as a table under a header made from HEADER (field name to
 * column title), anything else a line per row; "\\t" and "\\n" as tab
 * and newline.  Returns 0, or 1 with the template's error printed. */
int api_print_list(const json_t *rows, const json_t *header, const char *format);
/* The same for rows of Go type ROW_TYPE ("*formatter.volumeContext"), as
 * the list commands print them whose template errors docker words
 * "template parsing error: ...": a field the rows lack is an error. */
int api_print_rows(const json_t *rows, const json_t *header, const char *format,
		   const char *row_type);

#endif
