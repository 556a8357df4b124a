/* The volume commands over berthd's Engine API: volume create, ls,
 * inspect, rm and prune with docker 28's flags, calls, output and exit
 * statuses, and the volume rows that ls and system df -v print.  docker's
 * cluster volumes (swarm's: the create flags --group, --type ..., ls
 * --cluster, prune --all, volume update) need API 1.42, which berth does
 * not speak: they are refused as docker refuses them against an API 1.41
 * daemon. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/berth/remote.h"
#include "cmd/berth/template_types.h"
#include "lib/fsutil.h"
#include "lib/json.h"

/* The API version of docker's cluster volumes. */
#define VOLUME_CLUSTER_API "1.42"

/* docker's refusal of WHAT (a flag, quoted, or a command) newer than the
 * daemon's API; returns 1. */
static int too_old(const struct cli *cli, const char *what)
{
	fprintf(stderr, "%s requires API version %s, but the berth daemon API version is %s\n",
		what, VOLUME_CLUSTER_API, cli->api->version);
	return 1;
}

/* Natural order as docker sorts volume names (sortorder.NaturalLess):
 * runs of digits compare as numbers and before other bytes. */
static bool natural_less(const char *a, const char *b)
{
	size_t i = 0, j = 0, la = strlen(a), lb = strlen(b);

	while (i < la && j < lb) {
		bool da = isdigit((unsigned char)a[i]), db = isdigit((unsigned char)b[j]);
		size_t za, zb, na, nb;
		int c;

		if (da != db)
			return da;
		if (!da) {
			if (a[i] != b[j])
				return (unsigned char)a[i] < (unsigned char)b[j];
			i++, j++;
			continue;
		}
		while (i < la && a[i] == '0')
			i++;
		while (j < lb && b[j] == '0')
			j++;
		za = i, zb = j;
		while (i < la && isdigit((unsigned char)a[i]))
			i++;
		while (j < lb && isdigit((unsigned char)b[j]))
			j++;
		na = i - za, nb = j - zb;
		if (na != nb)
			return na < nb;
		c = memcmp(a + za, b + zb, na);
		if (c)
			return c < 0;
		/* The same number: fewer leading zeros first. */
		if (za != zb)
			return za < zb;
	}
	return la - i < lb - j;
}

static int cmp_natural(const void *x, const void *y)
{
	const char *a = json_string_value(json_object_get(*(json_t *const *)x, "Name")) ?: "";
	const char *b = json_string_value(json_object_get(*(json_t *const *)y, "Name")) ?: "";

	return natural_less(a, b) ? -1 : natural_less(b, a) ? 1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* LABELS as "k=v,k2=v2"; docker joins them in its map's (random) order,
 * berth sorts them.  NULL on no memory. */
static char *labels_text(const json_t *labels)
{
	size_t n = json_object_size(labels), k = 0, size = 0;
	_cleanup_free_ const char **keys = calloc(n + 1, sizeof(*keys));
	_cleanup_free_ char *out = NULL;
	const char *key;
	json_t *v;
	FILE *f;

	if (!keys)
		return NULL;
	json_object_foreach ((json_t *)labels, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	for (k = 0; k < n; k++)
		fprintf(f, "%s%s=%s", k ? "," : "", keys[k],
			json_string_value(json_object_get(labels, keys[k])) ?: "");
	if (fclose(f) != 0)
		return NULL;
	return steal_ptr(&out);
}

json_t *api_volume_row(const json_t *v)
{
	const json_t *u = json_object_get(v, "UsageData");
	_cleanup_free_ char *labels = labels_text(json_object_get(v, "Labels"));
	char links[24] = "N/A", size[32] = "N/A";

	if (!labels)
		return NULL;
	if (json_is_object(u)) {
		snprintf(links, sizeof(links), "%lld",
			 (long long)json_integer_value(json_object_get(u, "RefCount")));
		api_human_size((double)json_integer_value(json_object_get(u, "Size")), 4, size,
			       sizeof(size));
	}
	/* Keys in order: docker marshals a row's methods as a map. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability",
			 "N/A", "Driver", json_string_value(json_object_get(v, "Driver")) ?: "",
			 "Group", "N/A", "Labels", labels, "Links", links, "Mountpoint",
			 json_string_value(json_object_get(v, "Mountpoint")) ?: "", "Name",
			 json_string_value(json_object_get(v, "Name")) ?: "", "Scope",
			 json_string_value(json_object_get(v, "Scope")) ?: "", "Size", size,
			 "Status", "N/A");
}

json_t *api_volume_header(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name",
			 "VOLUME NAME", "Driver", "DRIVER", "Scope", "SCOPE", "Mountpoint",
			 "MOUNTPOINT", "Labels", "LABELS", "Links", "LINKS", "Size", "SIZE",
			 "Group", "GROUP", "Availability", "AVAILABILITY", "Status", "STATUS");
}

/*
 * create.
 */

/* Adds --label KV to LABELS after docker's check (opts.ValidateLabel: a
 * name, trimmed, neither empty nor with a space or tab); 0, or the status
 * with docker's message printed. */
static int label_add(json_t *labels, const char *kv)
{
	size_t klen = strcspn(kv, "="), start = 0, end = klen;
	_cleanup_free_ char *key = NULL;

	while (start < end && isspace((unsigned char)kv[start]))
		start++;
	while (end > start && isspace((unsigned char)kv[end - 1]))
		end--;
	if (start == end)
		return cli_flag_value_error("volume create",
					    "invalid argument \"%s\" for \"--label\" flag: invalid "
					    "label '%s': empty name",
					    kv, kv);
	for (size_t i = start; i < end; i++)
		if (kv[i] == ' ' || kv[i] == '\t')
			return cli_flag_value_error("volume create",
						    "invalid argument \"%s\" for \"--label\" flag: "
						    "label '%.*s' contains whitespaces",
						    kv, (int)(end - start), kv + start);
	/* The key as given, untrimmed, as docker sends it. */
	key = strndup(kv, klen);
	if (!key ||
	    json_object_set_new(labels, key, json_string(kv[klen] ? kv + klen + 1 : "")) < 0)
		return 1;
	return 0;
}

int api_cmd_volume_create(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_LABEL = 256,
		OPT_NAME,
		OPT_CLUSTER,
	};
	/* The cluster volume flags, sorted, come last. */
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "opt", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "help", no_argument, NULL, 'h' },
		{ "availability", required_argument, NULL, OPT_CLUSTER },
		{ "group", required_argument, NULL, OPT_CLUSTER },
		{ "limit-bytes", required_argument, NULL, OPT_CLUSTER },
		{ "required-bytes", required_argument, NULL, OPT_CLUSTER },
		{ "scope", required_argument, NULL, OPT_CLUSTER },
		{ "secret", required_argument, NULL, OPT_CLUSTER },
		{ "sharing", required_argument, NULL, OPT_CLUSTER },
		{ "topology-preferred", required_argument, NULL, OPT_CLUSTER },
		{ "topology-required", required_argument, NULL, OPT_CLUSTER },
		{ "type", required_argument, NULL, OPT_CLUSTER },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = "+d:o:";
	_cleanup_json_ json_t *labels = json_object();
	_cleanup_json_ json_t *driver_opts = json_object();
	_cleanup_json_ json_t *body = json_object();
	_cleanup_json_ json_t *vol = NULL;
	const char *driver = "local", *name = NULL;
	unsigned cluster = 0; /* the cluster flags given, by index */
	struct berr *err = NULL;
	int c, index = 0, rc;

	if (!labels || !driver_opts || !body)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, &index)) != -1) {
		switch (c) {
		case 'd':
			driver = optarg;
			break;
		case OPT_LABEL:
			rc = label_add(labels, optarg);
			if (rc)
				return rc;
			break;
		case 'o': {
			/* docker's MapOpts: "k=v", or "k" for an empty value. */
			size_t klen = strcspn(optarg, "=");
			_cleanup_free_ char *key = strndup(optarg, klen);

			if (!key || json_object_set_new(
					    driver_opts, key,
					    json_string(optarg[klen] ? optarg + klen + 1 : "")) < 0)
				return 1;
			break;
		}
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_CLUSTER:
			cluster |= 1u << index;
			break;
		case 'h':
			return api_help("volume create [OPTIONS] [VOLUME]",
					"Create a volume\n\nOptions:\n"
					"  -d, --driver string   Specify volume driver name "
					"(default \"local\")\n"
					"      --label list      Set metadata for a volume\n"
					"  -o, --opt map         Set driver specific options "
					"(default map[])");
		default:
			return cli_flag_error("volume create", argv, shortopts);
		}
	}
	/* docker names each, in its flags' sorted order (the table's). */
	for (size_t i = 0; cluster && opts[i].name; i++) {
		_cleanup_free_ char *flag = NULL;

		if (!(cluster & (1u << i)))
			continue;
		flag = str_printf("\"--%s\"", opts[i].name);
		if (!flag)
			return 1;
		too_old(cli, flag);
	}
	if (cluster)
		return 1;
	if (argc - optind > 1)
		return api_args_error("volume create", "requires at most 1 argument.");
	if (optind < argc) {
		if (name) {
			fprintf(stderr, "conflicting options: cannot specify a volume-name through "
					"both --name and as a positional arg\n");
			return 1;
		}
		name = argv[optind];
	}
	/* Go's omitempty: what is empty is not sent. */
	if ((*driver && json_object_set_new(body, "Driver", json_string(driver)) < 0) ||
	    (json_object_size(driver_opts) &&
	     json_object_set(body, "DriverOpts", driver_opts) < 0) ||
	    (json_object_size(labels) && json_object_set(body, "Labels", labels) < 0) ||
	    (name && *name && json_object_set_new(body, "Name", json_string(name)) < 0))
		return 1;
	if (client_json(cli->api, "POST", "/volumes/create", body, &vol, &err) < 0)
		return api_report(err, 1);
	printf("%s\n", json_string_value(json_object_get(vol, "Name")) ?: "");
	return 0;
}

/*
 * ls.
 */

int api_cmd_volume_ls(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_FORMAT = 256,
		OPT_CLUSTER,
	};
	static const struct option opts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "cluster", no_argument, NULL, OPT_CLUSTER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = "+f:q";
	_cleanup_json_ json_t *filters = json_object();
	_cleanup_json_ json_t *list = NULL;
	_cleanup_json_ json_t *rows = json_array();
	_cleanup_json_ json_t *header = api_volume_header();
	_cleanup_free_ char *fq = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ json_t **sorted = NULL;
	const char *format = "";
	bool quiet = false, cluster = false;
	struct berr *err = NULL;
	const json_t *volumes;
	size_t n, i;
	int c;

	if (!filters || !rows || !header)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (api_filter_add(filters, optarg) < 0)
				return cli_flag_value_error(
					"volume ls",
					"invalid argument \"%s\" for \"-f, --filter\" flag: bad "
					"format of filter (expected name=value)",
					optarg);
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_CLUSTER:
			cluster = true;
			break;
		case 'h':
			return api_help(
				"volume ls [OPTIONS]",
				"List volumes\n\nAliases:\n  berth volume ls, berth volume list\n\n"
				"Options:\n"
				"  -f, --filter filter   Provide filter values (e.g. "
				"\"dangling=true\")\n"
				"      --format string   Format output using a custom template:\n"
				"                        'table':            Print output in table "
				"format\n"
				"                        with column headers (default)\n"
				"                        'table TEMPLATE':   Print output in table "
				"format\n"
				"                        using the given Go template\n"
				"                        'json':             Print in JSON format\n"
				"                        'TEMPLATE':         Print output using "
				"the "
				"given\n"
				"                        Go template.\n"
				"  -q, --quiet           Only display volume names");
		default:
			return cli_flag_error("volume ls", argv, shortopts);
		}
	}
	if (cluster)
		return too_old(cli, "\"--cluster\"");
	if (optind < argc)
		return api_args_error("volume ls", "accepts no arguments.");
	fq = api_filters_query(filters);
	path = fq ? str_printf("/volumes%s%s", *fq ? "?" : "", *fq ? fq + 1 : "") : NULL;
	if (!path)
		return 1;
	if (client_json(cli->api, "GET", path, NULL, &list, &err) < 0)
		return api_report(err, 1);
	/* docker sorts the names in natural order ("v2" before "v10"). */
	volumes = json_object_get(list, "Volumes");
	n = json_array_size(volumes);
	sorted = calloc(n + 1, sizeof(*sorted));
	if (!sorted)
		return 1;
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(volumes, i);
	qsort(sorted, n, sizeof(*sorted), cmp_natural);
	for (i = 0; i < n; i++)
		if (json_array_append_new(rows, api_volume_row(sorted[i])) < 0)
			return 1;
	/* docker's NewVolumeFormat: -q rewrites only its own formats. */
	if (!*format || strcmp(format, "table") == 0)
		format = quiet ? "{{.Name}}" : "table {{.Driver}}\\t{{.Name}}";
	else if (strcmp(format, "raw") == 0)
		format = quiet ? "name: {{.Name}}" : "name: {{.Name}}\\ndriver: {{.Driver}}\\n";
	return api_print_rows(rows, header, format, "*formatter.volumeContext");
}

/*
 * inspect.
 */

int api_cmd_volume_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *docs = json_array();
	_cleanup_strv_ char **errors = NULL;
	_cleanup_free_ char *text = NULL;
	const char *format = NULL;
	size_t text_len = 0;
	bool marshal;
	FILE *out;
	int c, status = 0;

	if (!docs)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'h':
			return api_help("volume inspect [OPTIONS] VOLUME [VOLUME...]",
					"Display detailed information on one or more volumes\n\n"
					"Options:\n"
					"  -f, --format string   Format output using a custom "
					"template:\n"
					"                        'json':             Print in JSON "
					"format\n"
					"                        'TEMPLATE':         Print output "
					"using the given\n"
					"                        Go template.");
		default:
			return cli_flag_error("volume inspect", argv, "+f:");
		}
	}
	if (optind >= argc)
		return api_args_error("volume inspect", "requires at least 1 argument.");
	marshal = !format || !*format || strcmp(format, "json") == 0;
	if (!marshal) {
		struct berr *err = NULL;

		/* docker's status for a template that does not parse. */
		if (cli_template_check(format, &err) < 0)
			return api_report(err, 64);
	}
	out = open_memstream(&text, &text_len);
	if (!out)
		return 1;
	/* docker goes through every name, then prints what it has and the
	 * errors in the names' order. */
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *line = NULL;
		_cleanup_json_ json_t *doc = NULL;
		struct berr *err = NULL;

		if (!*argv[i]) {
			strv_append(&errors, "invalid volume name or ID: value is empty");
			continue;
		}
		path = api_obj_path("/volumes/", argv[i], "%s", "");
		if (!path || client_json(cli->api, "GET", path, NULL, &doc, &err) < 0) {
			strv_append(&errors, err ? err->msg : "no memory");
			berr_free(err);
			continue;
		}
		if (marshal) {
			json_array_append(docs, doc);
		} else if (cli_template_expand_typed(format, doc, &tmpl_volume_inspect, &line,
						     &err) < 0) {
			strv_append(&errors, err->msg);
			berr_free(err);
		} else {
			fprintf(out, "%s\n", line);
		}
	}
	if (fclose(out) != 0)
		return 1;
	if (marshal) {
		_cleanup_free_ char *s =
			cli_json_marshal_typed(docs, &tmpl_volume_inspect, !format || !*format);

		if (!s)
			return 1;
		printf("%s\n", s);
	} else {
		/* Nothing expanded: docker's template inspector writes a
		 * newline. */
		fputs(text_len ? text : "\n", stdout);
	}
	fflush(stdout);
	for (size_t i = 0; errors && errors[i]; i++) {
		fprintf(stderr, "%s\n", errors[i]);
		status = 1;
	}
	return status;
}

/*
 * rm.
 */

int api_cmd_volume_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_strv_ char **errors = NULL;
	bool force = false;
	int c, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			return api_help("volume rm [OPTIONS] VOLUME [VOLUME...]",
					"Remove one or more volumes. You cannot remove a volume "
					"that is in use by a container.\n\n"
					"Aliases:\n  berth volume rm, berth volume remove\n\n"
					"Options:\n"
					"  -f, --force   Force the removal of one or more volumes");
		default:
			return cli_flag_error("volume rm", argv, "+f");
		}
	}
	if (optind >= argc)
		return api_args_error("volume rm", "requires at least 1 argument.");
	/* docker removes each, printing the names removed, and reports the
	 * failures together at the end. */
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *path = NULL;
		struct berr *err = NULL;

		if (!*argv[i]) {
			strv_append(&errors, "invalid volume name or ID: value is empty");
			continue;
		}
		path = api_obj_path("/volumes/", argv[i], "%s", force ? "?force=1" : "");
		if (!path || client_json(cli->api, "DELETE", path, NULL, NULL, &err) < 0) {
			strv_append(&errors, err ? err->msg : "no memory");
			berr_free(err);
			continue;
		}
		printf("%s\n", argv[i]);
	}
	fflush(stdout);
	for (size_t i = 0; errors && errors[i]; i++) {
		fprintf(stderr, "%s\n", errors[i]);
		status = 1;
	}
	return status;
}

/*
 * prune.
 */

int api_cmd_volume_prune(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_FILTER = 256
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char shortopts[] = "+af";
	_cleanup_json_ json_t *filters = json_object();
	_cleanup_json_ json_t *report = NULL;
	bool all = false, force = false;
	int c;

	if (!filters)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'f':
			force = true;
			break;
		case OPT_FILTER:
			if (api_filter_add(filters, optarg) < 0)
				return cli_flag_value_error(
					"volume prune",
					"invalid argument \"%s\" for \"--filter\" flag: bad format "
					"of filter (expected name=value)",
					optarg);
			break;
		case 'h':
			return api_help("volume prune [OPTIONS]",
					"Remove unused local volumes\n\nOptions:\n"
					"      --filter filter   Provide filter values (e.g. "
					"\"label=<label>\")\n"
					"  -f, --force           Do not prompt for confirmation");
		default:
			return cli_flag_error("volume prune", argv, shortopts);
		}
	}
	/* Anonymous volumes alone, and --all for the named ones too, came
	 * with API 1.42; below it a prune takes every unused volume. */
	if (all)
		return too_old(cli, "\"--all\"");
	if (optind != argc)
		return api_args_error("volume prune", "accepts no arguments.");
	if (!force && !api_confirm("WARNING! This will remove all local volumes not used by at "
				   "least one container."))
		return 0;
	if (api_prune_call(cli, "volumes", filters, &report) != 0)
		return 1;
	api_print_total(api_print_volumes_report(stdout, report));
	return 0;
}

int api_cmd_volume_update(struct cli *cli, int argc, char **argv)
{
	if (api_wants_help(argc, argv, false))
		return api_help("volume update [OPTIONS] [VOLUME]",
				"Update a volume (cluster volumes only)");
	return too_old(cli, "berth volume update");
}
