/* The image commands: images, image inspect, history, import, load, save,
 * tag and rmi, each over one image library call, printing what docker
 * prints. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/berth/cli.h"
#include "daemon/container.h"
#include "image/archive.h"
#include "image/query.h"
#include "image/reference.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* The 12 hex digits docker shows of an id ("sha256:" dropped). */
static void short_id(const char *id, char out[13])
{
	const char *hex = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;

	snprintf(out, 13, "%s", hex);
}

/* The id as docker prints it: 12 hex digits, or all of it with TRUNC
 * false. */
static const char *shown_id(const char *id, bool trunc, char buf[13])
{
	if (!trunc)
		return id;
	short_id(id, buf);
	return buf;
}

/* Splits a familiar "repo:tag" or "repo@digest" into its columns. */
static void split_ref(const char *name, char **repo, const char **rest, char sep)
{
	const char *at = strrchr(name, sep);
	const char *slash = strrchr(name, '/');

	/* A ':' before the last '/' is a registry port, not a tag. */
	if (!at || (sep == ':' && slash && at < slash)) {
		*repo = strdup(name);
		*rest = "<none>";
		return;
	}
	*repo = strndup(name, (size_t)(at - name));
	*rest = at + 1;
}

/* One `docker images` row; REPO_TAG is NULL for an untagged image. */
static int image_row(struct cli_table *t, json_t *img, const char *repo_tag, const char *digest,
		     bool quiet, bool digests, bool trunc)
{
	_cleanup_free_ char *repo = NULL;
	const char *tag = "<none>";
	char idbuf[13], created[CLI_HUMAN_SIZE + 8], size[CLI_HUMAN_SIZE];
	const char *id = shown_id(json_string_value(json_object_get(img, "Id")), trunc, idbuf);

	if (quiet) {
		const char *cells[] = { id };

		return cli_table_add(t, cells);
	}
	if (repo_tag)
		split_ref(repo_tag, &repo, &tag, ':');
	else
		repo = strdup("<none>");
	if (!repo)
		return -1;
	cli_human_since(json_integer_value(json_object_get(img, "Created")), created);
	cli_human_size(json_integer_value(json_object_get(img, "Size")), size);
	if (digests) {
		const char *cells[] = { repo, tag, digest ? digest : "<none>", id, created, size };

		return cli_table_add(t, cells);
	}
	const char *cells[] = { repo, tag, id, created, size };

	return cli_table_add(t, cells);
}

/* The digest part of a "repo@sha256:..." name in DIGESTS whose repository
 * is REPO, or NULL. */
static const char *digest_for(json_t *digests, const char *repo)
{
	size_t i;
	json_t *d;

	json_array_foreach (digests, i, d) {
		const char *s = json_string_value(d), *at = strchr(s, '@');

		if (at && strlen(repo) == (size_t)(at - s) && strncmp(s, repo, strlen(repo)) == 0)
			return at + 1;
	}
	return NULL;
}

static int images_usage(void)
{
	printf("\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\n"
	       "Options:\n"
	       "  -a, --all             Show all images (default hides intermediate images)\n"
	       "      --digests         Show digests\n"
	       "  -f, --filter filter   Filter output based on conditions provided\n"
	       "      --format string   Pretty-print images using a Go template\n"
	       "      --no-trunc        Don't truncate output\n"
	       "  -q, --quiet           Only show image IDs\n");
	return 0;
}

int cmd_images(struct cli *cli, int argc, char **argv)
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
	struct image_filters filters = { .dangling = -1 };
	_cleanup_(cli_table_free_cleanup) struct cli_table *t = NULL;
	_cleanup_json_ json_t *list = NULL;
	bool quiet = false, digests = false, trunc = true;
	const char *format = NULL;
	struct berr *err = NULL;
	int c, status = 1;
	size_t i;
	json_t *img;

	while ((c = getopt_long(argc, argv, "+af:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			break; /* berth keeps no intermediate images to hide */
		case OPT_DIGESTS:
			digests = true;
			break;
		case 'f':
			if (image_filters_add(&filters, optarg, &err) < 0)
				goto fail;
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
			image_filters_clear(&filters);
			return images_usage();
		default:
			image_filters_clear(&filters);
			return cli_usage_error("images", "got an unknown flag.");
		}
	}
	if (argc - optind > 1) {
		image_filters_clear(&filters);
		return cli_usage_error("images", "requires at most 1 argument.");
	}
	if (optind < argc && image_filters_add_kv(&filters, "reference", argv[optind], &err) < 0)
		goto fail;
	if (!cli_images(cli)) {
		image_filters_clear(&filters);
		return 1;
	}
	if (image_list_json(cli->images, &filters, &list, &err) < 0)
		goto fail;
	image_filters_clear(&filters);

	t = cli_table_new(quiet ? 1 : digests ? 6 : 5);
	if (!t)
		return 1;
	if (!quiet && !format) {
		const char *head[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
		const char *head_d[] = { "REPOSITORY", "TAG",	  "DIGEST",
					 "IMAGE ID",   "CREATED", "SIZE" };

		cli_table_add(t, digests ? head_d : head);
	}
	json_array_foreach (list, i, img) {
		json_t *tags = json_object_get(img, "RepoTags");
		json_t *dg = json_object_get(img, "RepoDigests");
		size_t k;
		json_t *tag;

		if (format) {
			_cleanup_free_ char *line = NULL;

			if (cli_template_expand(format, img, &line, &err) < 0)
				goto fail;
			printf("%s\n", line);
			continue;
		}
		if (json_array_size(tags) == 0) {
			const char *d =
				json_array_size(dg)
					? strchr(json_string_value(json_array_get(dg, 0)), '@')
					: NULL;

			if (image_row(t, img, NULL, d ? d + 1 : NULL, quiet, digests, trunc) < 0)
				return 1;
			continue;
		}
		json_array_foreach (tags, k, tag) {
			const char *name = json_string_value(tag);
			_cleanup_free_ char *repo = NULL;
			const char *rest;

			split_ref(name, &repo, &rest, ':');
			if (!repo || image_row(t, img, name, digest_for(dg, repo), quiet, digests,
					       trunc) < 0)
				return 1;
		}
	}
	cli_table_print(t, stdout);
	return 0;
fail:
	image_filters_clear(&filters);
	cli_report(err);
	return status;
}

/* The --format and --type flags inspect commands share; the names are the
 * arguments left at ARGV[optind..]. */
static int inspect_flags(int argc, char **argv, const char *command, const char **format)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "type", required_argument, NULL, 't' },
		{ "size", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+f:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*format = optarg;
			break;
		case 't':
		case 's':
			break;
		case 'h':
			printf("\nUsage:  berth %s [OPTIONS] NAME [NAME...]\n\nOptions:\n"
			       "  -f, --format string   Format the output using the given Go "
			       "template\n",
			       command);
			return 0;
		default:
			return cli_usage_error(command, "got an unknown flag.");
		}
	}
	if (optind >= argc)
		return cli_usage_error(command, "requires at least 1 argument.");
	return -1;
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *all = json_array();
	const char *format = NULL;
	int status = 0, flags = inspect_flags(argc, argv, "image inspect", &format);

	if (flags >= 0)
		return flags;
	if (!all || !cli_images(cli))
		return 1;
	for (int i = optind; i < argc; i++) {
		_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
		struct berr *err = NULL;
		json_t *one = NULL;

		if (image_store_lookup(cli->images, argv[i], &img, &err) < 0 ||
		    image_inspect_json(cli->images, img, &one, &err) < 0) {
			/* docker prints what it found, then the errors. */
			fprintf(stderr, "Error: %s\n", err->msg);
			berr_free(err);
			status = 1;
			continue;
		}
		json_array_append_new(all, one);
	}
	if (format && json_array_size(all) == 0)
		return status;
	if (cli_print_inspect(all, format) != 0)
		return 1;
	return status;
}

/* docker's Ellipsis: at most MAX characters (UTF-8 aware), the last one
 * "…" when cut. */
static void ellipsis(const char *s, size_t max, char *out, size_t size)
{
	size_t chars = 0, i = 0, cut = 0;

	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			cut = i;
		chars++;
	}
	if (chars <= max) {
		snprintf(out, size, "%s", s);
		return;
	}
	snprintf(out, size, "%.*s…", (int)cut, s);
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_NO_TRUNC = 256,
		OPT_FORMAT
	};
	static const struct option opts[] = {
		{ "human", required_argument, NULL, 'H' },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_(cli_table_free_cleanup) struct cli_table *t = NULL;
	_cleanup_json_ json_t *steps = NULL;
	bool trunc = true, quiet = false, human = true;
	const char *format = NULL;
	struct berr *err = NULL;
	size_t i;
	json_t *s;
	int c;

	while ((c = getopt_long(argc, argv, "+H:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			human = strcmp(optarg, "false") != 0;
			break;
		case OPT_NO_TRUNC:
			trunc = false;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'h':
			printf("\nUsage:  berth history [OPTIONS] IMAGE\n\nShow the history of an "
			       "image\n");
			return 0;
		default:
			return cli_usage_error("history", "got an unknown flag.");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("history", "requires exactly 1 argument.");
	if (!cli_images(cli))
		return 1;
	if (image_store_lookup(cli->images, argv[optind], &img, &err) < 0 ||
	    image_history_json(cli->images, img, &steps, &err) < 0)
		return cli_report(err);
	t = cli_table_new(quiet ? 1 : 5);
	if (!t)
		return 1;
	if (!quiet && !format) {
		const char *head[] = { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" };

		cli_table_add(t, head);
	}
	json_array_foreach (steps, i, s) {
		const char *id = json_string_value(json_object_get(s, "Id"));
		const char *by = json_string_value(json_object_get(s, "CreatedBy"));
		int64_t created = json_integer_value(json_object_get(s, "Created"));
		int64_t size = json_integer_value(json_object_get(s, "Size"));
		char idbuf[13], when[64], sz[CLI_HUMAN_SIZE], byshown[256];
		_cleanup_free_ char *line = NULL;

		if (format) {
			if (cli_template_expand(format, s, &line, &err) < 0)
				return cli_report(err);
			printf("%s\n", line);
			continue;
		}
		if (strcmp(id, "<missing>") != 0)
			id = shown_id(id, trunc, idbuf);
		if (quiet) {
			const char *cells[] = { id };

			cli_table_add(t, cells);
			continue;
		}
		if (human) {
			cli_human_since(created, when);
			cli_human_size(size, sz);
		} else {
			struct tm tm;
			time_t tt = (time_t)created;

			localtime_r(&tt, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
			snprintf(sz, sizeof(sz), "%lld", (long long)size);
		}
		if (trunc)
			ellipsis(by, 45, byshown, sizeof(byshown));
		else
			snprintf(byshown, sizeof(byshown), "%s", by);
		const char *cells[] = { id, when, byshown, sz,
					json_string_value(json_object_get(s, "Comment")) };

		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	return 0;
}

/* Opens the archive at PATH for reading, "-" (or NULL) meaning stdin,
 * which must not be a terminal. */
static int open_input(const char *path, const char *command, bool *owned)
{
	int fd;

	*owned = false;
	if (!path || strcmp(path, "-") == 0) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "Error: requested %s from stdin, but stdin is empty\n",
				command);
			return -1;
		}
		return STDIN_FILENO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "Error: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	*owned = true;
	return fd;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_strv_ char **changes = NULL;
	const char *message = NULL, *source, *reference = NULL;
	struct berr *err = NULL;
	char id[DIGEST_STRING_SIZE];
	bool owned;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "+c:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (strv_append(&changes, optarg) < 0)
				return 1;
			break;
		case 'm':
			message = optarg;
			break;
		case 'p':
			break;
		case 'h':
			printf("\nUsage:  berth import [OPTIONS] file|-  [REPOSITORY[:TAG]]\n\n"
			       "Import the contents from a tarball to create a filesystem image\n\n"
			       "Options:\n"
			       "  -c, --change list      Apply Dockerfile instruction to the "
			       "created "
			       "image\n"
			       "  -m, --message string   Set commit message for imported image\n");
			return 0;
		default:
			return cli_usage_error("import", "got an unknown flag.");
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error("import", "requires at least 1 and at most 2 arguments.");
	source = argv[optind];
	if (argc - optind == 2)
		reference = argv[optind + 1];
	if (strstr(source, "://")) {
		fprintf(stderr, "Error: importing from a URL is not supported: %s\n", source);
		return 1;
	}
	if (!cli_images(cli))
		return 1;
	fd = open_input(source, "import", &owned);
	if (fd < 0)
		return 1;
	rc = image_import(cli->images, fd, (const char *const *)changes, strv_length(changes),
			  reference, message, id, &err);
	if (owned)
		close(fd);
	if (rc < 0)
		return cli_report(err);
	printf("%s\n", id);
	return 0;
}

int cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_load_result res = { 0 };
	const char *input = NULL;
	struct berr *err = NULL;
	bool owned, quiet = false;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "+i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("\nUsage:  berth load [OPTIONS]\n\n"
			       "Load an image from a tar archive or STDIN\n\nOptions:\n"
			       "  -i, --input string   Read from tar archive file, instead of "
			       "STDIN\n"
			       "  -q, --quiet          Suppress the load output\n");
			return 0;
		default:
			return cli_usage_error("load", "got an unknown flag.");
		}
	}
	if (optind != argc)
		return cli_usage_error("load", "accepts no arguments.");
	if (!cli_images(cli))
		return 1;
	fd = open_input(input, "load", &owned);
	if (fd < 0)
		return 1;
	rc = image_load(cli->images, fd, &res, &err);
	if (owned)
		close(fd);
	if (rc < 0)
		return cli_report(err);
	for (size_t i = 0; !quiet && res.lines && res.lines[i]; i++)
		printf("%s\n", res.lines[i]);
	image_load_result_clear(&res);
	return 0;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_FORMAT = 256
	};
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum image_archive_format format = IMAGE_ARCHIVE_DOCKER;
	_cleanup_free_ char *tmp = NULL;
	const char *output = NULL;
	struct berr *err = NULL;
	int c, fd = STDOUT_FILENO, rc;

	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "docker-archive") == 0)
				format = IMAGE_ARCHIVE_DOCKER;
			else if (strcmp(optarg, "oci-archive") == 0)
				format = IMAGE_ARCHIVE_OCI;
			else {
				fprintf(stderr,
					"Error: unknown format \"%s\": use docker-archive or "
					"oci-archive\n",
					optarg);
				return 125;
			}
			break;
		case 'h':
			printf("\nUsage:  berth save [OPTIONS] IMAGE [IMAGE...]\n\n"
			       "Save one or more images to a tar archive (streamed to STDOUT by "
			       "default)\n\nOptions:\n"
			       "      --format string   docker-archive (default) or oci-archive\n"
			       "  -o, --output string   Write to a file, instead of STDOUT\n");
			return 0;
		default:
			return cli_usage_error("save", "got an unknown flag.");
		}
	}
	if (optind >= argc)
		return cli_usage_error("save", "requires at least 1 argument.");
	if (!output && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "Error: cowardly refusing to save to a terminal. Use the -o flag "
				"or redirect\n");
		return 1;
	}
	if (!cli_images(cli))
		return 1;
	if (output) {
		/* The archive appears under its name only when complete. */
		tmp = str_printf("%s.tmp-XXXXXX", output);
		if (!tmp)
			return 1;
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "Error: failed to save image: create %s: %s\n", output,
				strerror(errno));
			return 1;
		}
		fchmod(fd, 0644);
	}
	rc = image_save(cli->images, (const char *const *)argv + optind, (size_t)(argc - optind),
			format, fd, &err);
	if (output) {
		if (rc == 0 && rename(tmp, output) < 0)
			rc = berr_set(&err, BERR_INTERNAL, errno, "failed to save image: write %s",
				      output);
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	if (rc < 0)
		return cli_report(err);
	return 0;
}

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	struct berr *err = NULL;
	char *old = NULL;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("\nUsage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
		       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n");
		return 0;
	}
	if (argc != 3)
		return cli_usage_error("tag", "requires exactly 2 arguments.");
	if (!cli_images(cli))
		return 1;
	if (image_store_tag(cli->images, argv[1], argv[2], &old, &err) < 0)
		return cli_report(err);
	free(old);
	return 0;
}

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "no-prune", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(daemon_free_cleanup) struct daemon *d = NULL;
	bool force = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'n':
			break;
		case 'h':
			printf("\nUsage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
			       "Remove one or more images\n\nOptions:\n"
			       "  -f, --force      Force removal of the image\n"
			       "      --no-prune   Do not delete untagged parents\n");
			return 0;
		default:
			return cli_usage_error("rmi", "got an unknown flag.");
		}
	}
	if (optind >= argc)
		return cli_usage_error("rmi", "requires at least 1 argument.");
	d = cli_engine_open(cli);
	if (!d)
		return 1;
	for (int i = optind; i < argc; i++) {
		struct image_remove_result res = { 0 };
		struct berr *err = NULL;

		if (image_store_remove(cli->images, argv[i], force, daemon_container_id_running, d,
				       &res, &err) < 0) {
			/* Like docker: report, go on with the next name, fail at the end. */
			fprintf(stderr, "Error: %s\n", err->msg);
			berr_free(err);
			status = 1;
			continue;
		}
		for (size_t k = 0; res.untagged && res.untagged[k]; k++)
			printf("Untagged: %s\n", res.untagged[k]);
		if (res.deleted)
			printf("Deleted: %s\n", res.deleted);
		image_remove_result_clear(&res);
	}
	return status;
}
