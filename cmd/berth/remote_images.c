/* The image and system commands over the Engine API: images, rmi, tag,
 * history, save, load, import, events, version and info. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "berth-config.h"
#include "cmd/berth/remote.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* "sha256:abc..." as docker shows an id: 12 digits, or all of it. */
static void image_id(const char *id, bool trunc, char *out, size_t size)
{
	if (trunc && strncmp(id, "sha256:", 7) == 0)
		id += 7;
	snprintf(out, size, trunc ? "%.12s" : "%s", id);
}

json_t *api_image_row(const json_t *img, const char *repo, const char *tag, const char *digest,
		      bool trunc)
{
	int64_t created = json_integer_value(json_object_get(img, "Created"));
	int64_t size = json_integer_value(json_object_get(img, "Size"));
	const json_t *shared = json_object_get(img, "SharedSize");
	json_int_t containers = json_integer_value(json_object_get(img, "Containers"));
	char id[80], since[CLI_HUMAN_SIZE + 8], at[64], hsize[CLI_HUMAN_SIZE], vsize[32];
	char ctrs[32], ssize[32] = "N/A", usize[32] = "N/A";

	image_id(json_string_value(json_object_get(img, "Id")) ?: "", trunc, id, sizeof(id));
	cli_human_since(created, since);
	api_time_string(created, at, sizeof(at));
	cli_human_size(size, hsize);
	api_human_size((double)size, 4, vsize, sizeof(vsize));
	if (containers < 0)
		snprintf(ctrs, sizeof(ctrs), "N/A");
	else
		snprintf(ctrs, sizeof(ctrs), "%lld", (long long)containers);
	/* The list leaves SharedSize out or at -1 unless asked (df). */
	if (json_is_integer(shared) && json_integer_value(shared) != -1) {
		api_human_size((double)json_integer_value(shared), 4, ssize, sizeof(ssize));
		if (size != -1)
			api_human_size((double)(size - json_integer_value(shared)), 4, usize,
				       sizeof(usize));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
			 ctrs, "CreatedAt", at, "CreatedSince", since, "Digest", digest, "ID", id,
			 "Repository", repo, "SharedSize", ssize, "Size", hsize, "Tag", tag,
			 "UniqueSize", usize, "VirtualSize", vsize);
}

json_t *api_image_header(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
			 "IMAGE ID", "Repository", "REPOSITORY", "Tag", "TAG", "Digest", "DIGEST",
			 "CreatedSince", "CREATED", "CreatedAt", "CREATED AT", "Size", "SIZE",
			 "Containers", "CONTAINERS", "SharedSize", "SHARED SIZE", "UniqueSize",
			 "UNIQUE SIZE", "VirtualSize", "SIZE");
}

/* Appends to ROWS the rows of image IMG as `docker images` lists them:
 * one per tag, else one per digest. */
static int image_rows(json_t *rows, const json_t *img, bool trunc)
{
	const json_t *tags = json_object_get(img, "RepoTags");
	const json_t *digests = json_object_get(img, "RepoDigests");
	size_t n = json_array_size(tags), i;

	for (i = 0; i < (n ? n : 1); i++) {
		const char *tag = n ? json_string_value(json_array_get(tags, i)) : NULL;
		_cleanup_free_ char *repo = NULL;
		const char *t = "<none>", *digest = "<none>";

		if (tag && strcmp(tag, "<none>:<none>") != 0) {
			const char *slash = strrchr(tag, '/');
			const char *colon = strrchr(slash ? slash : tag, ':');

			repo = colon ? strndup(tag, (size_t)(colon - tag)) : strdup(tag);
			t = colon ? colon + 1 : "<none>";
		} else if (json_array_size(digests)) {
			const char *d = json_string_value(json_array_get(digests, 0)) ?: "";
			const char *at_sign = strchr(d, '@');

			repo = at_sign ? strndup(d, (size_t)(at_sign - d)) : strdup("<none>");
			digest = at_sign ? at_sign + 1 : "<none>";
		} else {
			repo = strdup("<none>");
		}
		if (!repo ||
		    json_array_append_new(rows, api_image_row(img, repo, t, digest, trunc)) < 0)
			return -1;
	}
	return 0;
}

int api_cmd_images(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_DIGESTS = 256,
		OPT_FORMAT,
		OPT_NO_TRUNC
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "digests", no_argument, NULL, OPT_DIGESTS },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = "+af:q";
	_cleanup_json_ json_t *filters = json_object();
	_cleanup_json_ json_t *rows = json_array();
	_cleanup_json_ json_t *list = NULL;
	_cleanup_json_ json_t *header = NULL;
	_cleanup_free_ char *fq = NULL;
	_cleanup_free_ char *path = NULL;
	bool all = false, quiet = false, digests = false, trunc = true;
	const char *format = NULL;
	struct berr *err = NULL;
	size_t i;
	json_t *img;
	int c;

	if (!filters || !rows)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case OPT_DIGESTS:
			digests = true;
			break;
		case 'f':
			if (api_filter_add(filters, optarg) < 0) {
				fprintf(stderr, "bad format of filter (expected name=value)\n");
				return API_CLI_STATUS;
			}
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_NO_TRUNC:
			trunc = false;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			return api_help("images [OPTIONS] [REPOSITORY[:TAG]]",
					"List images\n\nOptions:\n"
					"  -a, --all             Show all images (default hides "
					"intermediate images)\n"
					"      --digests         Show digests\n"
					"  -f, --filter filter   Filter output based on conditions "
					"provided\n"
					"      --format string   Format output using a custom "
					"template\n"
					"      --no-trunc        Don't truncate output\n"
					"  -q, --quiet           Only show image IDs");
		default:
			return cli_flag_error("images", argv, shortopts);
		}
	}
	if (argc - optind > 1)
		return api_args_error("images", "requires at most 1 argument.");
	if (optind < argc) {
		_cleanup_free_ char *kv = str_printf("reference=%s", argv[optind]);

		if (!kv || api_filter_add(filters, kv) < 0)
			return 1;
	}
	fq = api_filters_query(filters);
	path = fq ? str_printf("/images/json?all=%d%s", all, fq) : NULL;
	if (!path)
		return 1;
	if (client_json(cli->api, "GET", path, NULL, &list, &err) < 0)
		return api_report(err, 1);
	json_array_foreach (list, i, img)
		if (image_rows(rows, img, trunc) < 0)
			return 1;
	header = api_image_header();
	if (!header)
		return 1;
	if (!format && quiet) {
		/* One line per image, as docker prints -q. */
		_cleanup_json_ json_t *seen = json_object();
		_cleanup_json_ json_t *uniq = json_array();
		json_t *row;

		if (!seen || !uniq)
			return 1;
		json_array_foreach (rows, i, row) {
			const char *id = json_string_value(json_object_get(row, "ID"));

			if (json_object_get(seen, id))
				continue;
			json_object_set_new(seen, id, json_true());
			json_array_append(uniq, row);
		}
		return api_print_list(uniq, header, "{{.ID}}");
	}
	if (!format)
		format = digests ? "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{."
				   "CreatedSince}}\\t{{.Size}}"
				 : "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}"
				   "\\t{{.Size}}";
	return api_print_list(rows, header, format);
}

int api_cmd_rmi(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_NO_PRUNE = 256
	};
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "no-prune", no_argument, NULL, OPT_NO_PRUNE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false, noprune = false;
	int c, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case OPT_NO_PRUNE:
			noprune = true;
			break;
		case 'h':
			return api_help("rmi [OPTIONS] IMAGE [IMAGE...]",
					"Remove one or more images\n\nOptions:\n"
					"  -f, --force      Force removal of the image\n"
					"      --no-prune   Do not delete untagged parents");
		default:
			return cli_flag_error("rmi", argv, "+f");
		}
	}
	if (optind >= argc)
		return api_args_error("rmi", "requires at least 1 argument.");
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *path =
			api_obj_path("/images/", argv[i], "?force=%d&noprune=%d", force, noprune);
		_cleanup_json_ json_t *out = NULL;
		struct berr *err = NULL;
		size_t k;
		json_t *item;

		if (!path || client_json(cli->api, "DELETE", path, NULL, &out, &err) < 0) {
			status = api_report(err, 1);
			continue;
		}
		json_array_foreach (out, k, item) {
			const char *u = json_string_value(json_object_get(item, "Untagged"));
			const char *d = json_string_value(json_object_get(item, "Deleted"));

			if (u)
				printf("Untagged: %s\n", u);
			if (d)
				printf("Deleted: %s\n", d);
		}
	}
	return status;
}

int api_cmd_tag(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ char *repo = NULL;
	_cleanup_free_ char *repo_e = NULL;
	_cleanup_free_ char *tag_e = NULL;
	_cleanup_free_ char *path = NULL;
	struct berr *err = NULL;
	const char *slash, *colon;

	if (api_wants_help(argc, argv, true))
		return api_help("tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
				"Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
	if (argc != 3)
		return api_args_error("tag", "requires exactly 2 arguments.");
	slash = strrchr(argv[2], '/');
	colon = strrchr(slash ? slash : argv[2], ':');
	repo = colon ? strndup(argv[2], (size_t)(colon - argv[2])) : strdup(argv[2]);
	repo_e = repo ? client_escape(repo) : NULL;
	tag_e = client_escape(colon ? colon + 1 : "latest");
	path = repo_e && tag_e
		       ? api_obj_path("/images/", argv[1], "/tag?repo=%s&tag=%s", repo_e, tag_e)
		       : NULL;
	if (!path || client_json(cli->api, "POST", path, NULL, NULL, &err) < 0)
		return api_report(err, 1);
	return 0;
}

int api_cmd_history(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_FORMAT = 256,
		OPT_NO_TRUNC
	};
	static const struct option opts[] = {
		{ "human", optional_argument, NULL, 'H' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *list = NULL;
	_cleanup_json_ json_t *rows = json_array();
	_cleanup_json_ json_t *header = NULL;
	_cleanup_free_ char *path = NULL;
	bool human = true, quiet = false, trunc = true;
	const char *format = NULL;
	struct berr *err = NULL;
	size_t i;
	json_t *h;
	int c;

	if (!rows)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+Hq", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			human = !optarg || strcmp(optarg, "false") != 0;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_NO_TRUNC:
			trunc = false;
			break;
		case 'h':
			return api_help("history [OPTIONS] IMAGE", "Show the history of an image");
		default:
			return cli_flag_error("history", argv, "+Hq");
		}
	}
	if (argc - optind != 1)
		return api_args_error("history", "requires exactly 1 argument.");
	path = api_obj_path("/images/", argv[optind], "/history");
	if (!path || client_json(cli->api, "GET", path, NULL, &list, &err) < 0)
		return api_report(err, 1);
	json_array_foreach (list, i, h) {
		const char *id = json_string_value(json_object_get(h, "Id")) ?: "";
		const char *by = json_string_value(json_object_get(h, "CreatedBy")) ?: "";
		int64_t created = json_integer_value(json_object_get(h, "Created"));
		_cleanup_free_ char *by_cut = trunc ? cli_ellipsis(by, 45) : strdup(by);
		char shown[80], since[CLI_HUMAN_SIZE + 8], size[CLI_HUMAN_SIZE], at[64];

		if (strcmp(id, "<missing>") == 0 || !*id)
			snprintf(shown, sizeof(shown), "<missing>");
		else
			image_id(id, trunc, shown, sizeof(shown));
		if (human) {
			cli_human_since(created, since);
			cli_human_size(json_integer_value(json_object_get(h, "Size")), size);
		} else {
			time_t t = (time_t)created;
			struct tm tm;

			localtime_r(&t, &tm);
			strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S%z", &tm);
			snprintf(size, sizeof(size), "%lld",
				 (long long)json_integer_value(json_object_get(h, "Size")));
		}
		api_time_string(created, at, sizeof(at));
		for (char *p = by_cut; p && *p; p++)
			if (*p == '\t')
				*p = ' ';
		json_array_append_new(
			rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", shown,
					"CreatedSince", since, "CreatedAt", at, "CreatedBy",
					by_cut ? by_cut : "", "Size", size, "Comment",
					json_string_value(json_object_get(h, "Comment")) ?: ""));
	}
	header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince",
			   "CREATED", "CreatedAt", "CREATED AT", "CreatedBy", "CREATED BY", "Size",
			   "SIZE", "Comment", "COMMENT");
	if (!header)
		return 1;
	if (!format)
		format = quiet ? "{{.ID}}"
			       : "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}"
				 "\\t{{.Comment}}";
	return api_print_list(rows, header, format);
}

int api_cmd_save(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_req req = { .method = "GET", .body_fd = -1 };
	_cleanup_free_ char *q = NULL;
	const char *output = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			return api_help(
				"save [OPTIONS] IMAGE [IMAGE...]",
				"Save one or more images to a tar archive (streamed to "
				"STDOUT by default)\n\nOptions:\n"
				"  -o, --output string   Write to a file, instead of STDOUT");
		default:
			return cli_flag_error("save", argv, "+o:");
		}
	}
	if (optind >= argc)
		return api_args_error("save", "requires at least 1 argument.");
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *e = client_escape(argv[i]);
		char *n = e ? str_printf("%s%snames=%s", q ? q : "", q ? "&" : "", e) : NULL;

		if (!n)
			return 1;
		free(q);
		q = n;
	}
	{
		_cleanup_free_ char *path = str_printf("/images/get?%s", q);

		if (!path)
			return 1;
		req.path = path;
		return api_download(cli, "save", &req, output);
	}
}

/* The JSON messages of load and import, printed as docker prints them;
 * -1 for an error message among them (printed). */
struct messages {
	bool failed;
};

static int message_line(void *arg, const char *line, size_t len)
{
	struct messages *m = arg;
	_cleanup_json_ json_t *j = json_loadb(line, len, 0, NULL);
	const char *s;

	if (!j)
		return 0;
	if ((s = json_string_value(json_object_get(j, "error")))) {
		fprintf(stderr, "%s\n", s);
		m->failed = true;
	} else if ((s = json_string_value(json_object_get(j, "stream")))) {
		fputs(s, stdout);
	} else if ((s = json_string_value(json_object_get(j, "status")))) {
		printf("%s\n", s);
	}
	return 0;
}

/* Sends INPUT (NULL or "-": stdin) to PATH and prints the messages. */
static int upload(struct cli *cli, const char *path, const char *input, const char *command)
{
	struct messages m = { 0 };
	struct client_lines lines = { .line = message_line, .arg = &m };
	struct client_req req = { .method = "POST",
				  .path = path,
				  .content_type = "application/x-tar",
				  .sink = client_lines_sink,
				  .sink_arg = &lines };
	struct client_resp resp;
	struct berr *err = NULL;
	_cleanup_close_ int fd = -1;
	int rc;

	if (!input || strcmp(input, "-") == 0) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "requested load from stdin, but stdin is empty\n");
			return 1;
		}
		req.body_fd = STDIN_FILENO;
	} else {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			const char *why = strerror(errno);

			/* Go's errno texts start lower case. */
			fprintf(stderr, "open %s: %c%s\n", input, tolower((unsigned char)why[0]),
				why + 1);
			return 1;
		}
		req.body_fd = fd;
	}
	(void)command;
	rc = client_do(cli->api, &req, &resp, &err);
	if (rc == 0)
		rc = client_check(&resp, &err);
	client_resp_clear(&resp);
	client_lines_end(&lines);
	if (rc < 0)
		return api_report(err, 1);
	return m.failed ? 1 : 0;
}

int api_cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *path = NULL;
	const char *input = NULL;
	bool quiet = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+i:q", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			return api_help(
				"load [OPTIONS]",
				"Load an image from a tar archive or STDIN\n\nOptions:\n"
				"  -i, --input string   Read from tar archive file, instead "
				"of STDIN\n"
				"  -q, --quiet          Suppress the load output");
		default:
			return cli_flag_error("load", argv, "+i:q");
		}
	}
	if (optind < argc)
		return api_args_error("load", "accepts no arguments.");
	path = str_printf("/images/load?quiet=%d", quiet);
	return path ? upload(cli, path, input, "load") : 1;
}

int api_cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *q = strdup("");
	_cleanup_free_ char *path = NULL;
	int c;

	if (!q)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:m:", opts, NULL)) != -1) {
		_cleanup_free_ char *e = NULL;
		char *n;

		switch (c) {
		case 'c':
		case 'm':
			e = client_escape(optarg);
			n = e ? str_printf("%s&%s=%s", q, c == 'c' ? "changes" : "message", e)
			      : NULL;
			if (!n)
				return 1;
			free(q);
			q = n;
			break;
		case 'p':
			break;
		case 'h':
			return api_help(
				"import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
				"Import the contents from a tarball to create a filesystem "
				"image\n\nOptions:\n"
				"  -c, --change list       Apply Dockerfile instruction to the "
				"created image\n"
				"  -m, --message string    Set commit message for imported "
				"image");
		default:
			return cli_flag_error("import", argv, "+c:m:");
		}
	}
	/* docker takes the source and a reference, and leaves the rest. */
	if (argc - optind < 1)
		return api_args_error("import", "requires at least 1 argument.");
	if (argc - optind >= 2) {
		const char *ref = argv[optind + 1];
		const char *slash = strrchr(ref, '/');
		const char *colon = strrchr(slash ? slash : ref, ':');
		_cleanup_free_ char *repo =
			colon ? strndup(ref, (size_t)(colon - ref)) : strdup(ref);
		_cleanup_free_ char *re = repo ? client_escape(repo) : NULL;
		_cleanup_free_ char *te = colon ? client_escape(colon + 1) : NULL;
		char *n = re ? str_printf("%s&repo=%s%s%s", q, re, te ? "&tag=" : "", te ? te : "")
			     : NULL;

		if (!n)
			return 1;
		free(q);
		q = n;
	}
	if (strstr(argv[optind], "://")) {
		fprintf(stderr, "berth: import from a URL is not supported yet\n");
		return 1;
	}
	path = str_printf("/images/create?fromSrc=-%s", q);
	return path ? upload(cli, path, argv[optind], "import") : 1;
}

/*
 * events.
 */

struct events_out {
	const char *format;
	bool failed;
};

/* One event as docker prints it: its time (RFC 3339, nanoseconds), type,
 * action, actor and the actor's attributes sorted. */
static int print_event(void *arg, const char *line, size_t len)
{
	struct events_out *o = arg;
	_cleanup_json_ json_t *ev = json_loadb(line, len, 0, NULL);
	const json_t *actor, *attrs;
	int64_t nano;
	time_t secs;
	struct tm tm;
	char when[64], zone[16];

	if (!ev)
		return 0;
	if (o->format) {
		_cleanup_free_ char *s = NULL;
		struct berr *err = NULL;

		if (cli_template_expand(o->format, ev, &s, &err) < 0) {
			o->failed = true;
			api_report(err, 1);
			return -1;
		}
		printf("%s\n", s);
		fflush(stdout);
		return 0;
	}
	nano = json_integer_value(json_object_get(ev, "timeNano"));
	if (!nano)
		nano = json_integer_value(json_object_get(ev, "time")) * 1000000000LL;
	secs = (time_t)(nano / 1000000000LL);
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	actor = json_object_get(ev, "Actor");
	if (strcmp(zone, "+0000") == 0)
		snprintf(zone, sizeof(zone), "Z");
	else if (strlen(zone) == 5)
		snprintf(zone + 3, sizeof(zone) - 3, ":%c%c", zone[3], zone[4]);
	printf("%s.%09lld%s %s %s %s", when, (long long)(nano % 1000000000LL), zone,
	       json_string_value(json_object_get(ev, "Type")) ?: "",
	       json_string_value(json_object_get(ev, "Action")) ?: "",
	       json_string_value(json_object_get(actor, "ID")) ?: "");
	attrs = json_object_get(actor, "Attributes");
	if (json_object_size(attrs)) {
		const char **keys = calloc(json_object_size(attrs), sizeof(*keys));
		size_t n = 0;
		const char *k;
		json_t *v;

		if (!keys)
			return -1;
		json_object_foreach ((json_t *)attrs, k, v)
			keys[n++] = k;
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
				const char *t = keys[j];

				keys[j] = keys[j - 1];
				keys[j - 1] = t;
			}
		printf(" (");
		for (size_t i = 0; i < n; i++)
			printf("%s%s=%s", i ? ", " : "", keys[i],
			       json_string_value(json_object_get(attrs, keys[i])) ?: "");
		printf(")");
		free(keys);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

int api_cmd_events(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_SINCE = 256,
		OPT_UNTIL,
		OPT_FORMAT
	};
	static const struct option opts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *filters = json_object();
	_cleanup_free_ char *since = NULL;
	_cleanup_free_ char *until = NULL;
	_cleanup_free_ char *fq = NULL;
	_cleanup_free_ char *path = NULL;
	struct events_out out = { 0 };
	struct client_lines lines = { .line = print_event, .arg = &out };
	struct client_req req = {
		.method = "GET", .body_fd = -1, .sink = client_lines_sink, .sink_arg = &lines
	};
	struct client_resp resp;
	struct berr *err = NULL;
	int c, rc;

	if (!filters)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SINCE:
			free(since);
			since = client_escape(optarg);
			break;
		case OPT_UNTIL:
			free(until);
			until = client_escape(optarg);
			break;
		case 'f':
			if (api_filter_add(filters, optarg) < 0) {
				fprintf(stderr, "bad format of filter (expected name=value)\n");
				return API_CLI_STATUS;
			}
			break;
		case OPT_FORMAT:
			out.format = optarg;
			break;
		case 'h':
			return api_help(
				"events [OPTIONS]",
				"Get real time events from the server\n\nOptions:\n"
				"  -f, --filter filter   Filter output based on conditions "
				"provided\n"
				"      --format string   Format the output using the given Go "
				"template\n"
				"      --since string    Show all events created since "
				"timestamp\n"
				"      --until string    Stream events until this timestamp");
		default:
			return cli_flag_error("events", argv, "+f:");
		}
	}
	if (optind < argc)
		return api_args_error("events", "accepts no arguments.");
	if (out.format) {
		_cleanup_free_ char *probe = NULL;
		_cleanup_json_ json_t *empty = json_object();

		if (cli_template_expand(out.format, empty, &probe, &err) < 0)
			return api_report(err, 1);
	}
	fq = api_filters_query(filters);
	path = fq ? str_printf("/events?%s%s%s%s%s", since ? "since=" : "", since ? since : "",
			       until ? "&until=" : "", until ? until : "", fq)
		  : NULL;
	if (!path)
		return 1;
	req.path = path;
	rc = client_do(cli->api, &req, &resp, &err);
	if (rc == 0)
		rc = client_check(&resp, &err);
	client_resp_clear(&resp);
	client_lines_end(&lines);
	if (rc < 0 && !out.failed)
		return api_report(err, 1);
	berr_free(err);
	return out.failed ? 1 : 0;
}

/*
 * version and info.
 */

static const char *arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#else
	return "unknown";
#endif
}

static int format_flag(const char *command, int argc, char **argv, const char **format)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*format = optarg;
			break;
		case 'h':
			return api_help(strcmp(command, "info") == 0 ? "info [OPTIONS]"
								     : "version [OPTIONS]",
					strcmp(command, "info") == 0
						? "Display system-wide information"
						: "Show the berth version information");
		default:
			return cli_flag_error(command, argv, "+f:");
		}
	}
	if (optind < argc)
		return api_args_error(command, "accepts no arguments.");
	return -1;
}

int api_cmd_version(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *server = NULL;
	_cleanup_json_ json_t *all = NULL;
	const char *format = NULL;
	struct berr *err = NULL;
	int r = format_flag("version", argc, argv, &format);
	const char *s;

	if (r >= 0)
		return r;
	if (client_json(cli->api, "GET", "/version", NULL, &server, &err) < 0 && !format) {
		printf("Client:\n Version:           %s\n API version:       1.41\n"
		       " Git commit:        %s\n OS/Arch:           linux/%s\n",
		       BERTH_VERSION, BERTH_COMMIT, arch());
		return api_report(err, 1);
	}
	all = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:O?}", "Client", "Version", BERTH_VERSION,
			"ApiVersion", "1.41", "GitCommit", BERTH_COMMIT, "Os", "linux", "Arch",
			arch(), "Server", server);
	if (!all)
		return 1;
	if (format) {
		_cleanup_free_ char *line = NULL;

		berr_free(steal_ptr(&err));
		if (cli_template_expand(format, all, &line, &err) < 0)
			return api_report(err, 1);
		printf("%s\n", line);
		return server ? 0 : 1;
	}
	printf("Client:\n Version:           %s\n API version:       1.41\n"
	       " Git commit:        %s\n OS/Arch:           linux/%s\n\n",
	       BERTH_VERSION, BERTH_COMMIT, arch());
	s = json_string_value(json_object_get(json_object_get(server, "Platform"), "Name"));
	printf("Server:%s%s\n Engine:\n  Version:          %s\n"
	       "  API version:      %s (minimum version %s)\n"
	       "  Git commit:       %s\n  Built:            %s\n  OS/Arch:          %s/%s\n"
	       "  Experimental:     %s\n",
	       s ? " " : "", s ? s : "",
	       json_string_value(json_object_get(server, "Version")) ?: "",
	       json_string_value(json_object_get(server, "ApiVersion")) ?: "",
	       json_string_value(json_object_get(server, "MinAPIVersion")) ?: "",
	       json_string_value(json_object_get(server, "GitCommit")) ?: "",
	       json_string_value(json_object_get(server, "BuildTime")) ?: "",
	       json_string_value(json_object_get(server, "Os")) ?: "",
	       json_string_value(json_object_get(server, "Arch")) ?: "",
	       json_is_true(json_object_get(server, "Experimental")) ? "true" : "false");
	return 0;
}

int api_cmd_info(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *info = NULL;
	const char *format = NULL;
	struct berr *err = NULL;
	int r = format_flag("info", argc, argv, &format);
	char mem[CLI_HUMAN_SIZE + 8];
	double gib;

#define I(k) ((long long)json_integer_value(json_object_get(info, k)))
#define S(k) (json_string_value(json_object_get(info, k)) ?: "")
	if (r >= 0)
		return r;
	if (client_json(cli->api, "GET", "/info", NULL, &info, &err) < 0) {
		if (!format)
			printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: "
			       "false\n\nServer:\n",
			       BERTH_VERSION);
		return api_report(err, 1);
	}
	if (format) {
		_cleanup_free_ char *line = NULL;

		if (cli_template_expand(format, info, &line, &err) < 0)
			return api_report(err, 1);
		printf("%s\n", line);
		return 0;
	}
	gib = (double)I("MemTotal") / (1024.0 * 1024 * 1024);
	if (gib >= 1)
		snprintf(mem, sizeof(mem), "%.4gGiB", gib);
	else
		snprintf(mem, sizeof(mem), "%.4gMiB", (double)I("MemTotal") / (1024.0 * 1024));
	printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\n",
	       BERTH_VERSION);
	printf("Server:\n Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n"
	       " Images: %lld\n Server Version: %s\n Storage Driver: %s\n"
	       " Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n"
	       " Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n"
	       " CPUs: %lld\n Total Memory: %s\n Name: %s\n ID: %s\n Docker Root Dir: %s\n"
	       " Debug Mode: %s\n Experimental: false\n Live Restore Enabled: %s\n",
	       I("Containers"), I("ContainersRunning"), I("ContainersPaused"),
	       I("ContainersStopped"), I("Images"), S("ServerVersion"), S("Driver"),
	       S("LoggingDriver"), S("CgroupDriver"), S("CgroupVersion"), S("KernelVersion"),
	       S("OperatingSystem"), S("OSType"), S("Architecture"), I("NCPU"), mem, S("Name"),
	       S("ID"), S("DockerRootDir"),
	       json_is_true(json_object_get(info, "Debug")) ? "true" : "false",
	       json_is_true(json_object_get(info, "LiveRestoreEnabled")) ? "true" : "false");
#undef I
#undef S
	return 0;
}
