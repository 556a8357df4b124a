/* The commands over the Engine API about resources and space: port,
 * update, stats, container prune, image prune, system df and system
 * prune (volumes too with --volumes), as the docker CLI makes their calls
 * and prints their answers; the prunes' shared parts (remote.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cmd/berth/remote.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

void api_human_size(double size, int prec, char *out, size_t n)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	size_t i = 0;

	while (size >= 1000.0 && i + 1 < sizeof(units) / sizeof(units[0])) {
		size /= 1000.0;
		i++;
	}
	snprintf(out, n, "%.*g%s", prec, size, units[i]);
}

/* units.BytesSize (binary units, 4 significant digits). */
static void bytes_size(double size, char *out, size_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t i = 0;

	while (size >= 1024.0 && i + 1 < sizeof(units) / sizeof(units[0])) {
		size /= 1024.0;
		i++;
	}
	snprintf(out, n, "%.4g%s", size, units[i]);
}

/*
 * port.
 */

int api_cmd_port(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *doc = NULL;
	struct berr *err = NULL;
	const json_t *ports, *binds;
	const char *key;
	char want[64] = "";
	bool found = false;

	if (api_wants_help(argc, argv, true))
		return api_help("port CONTAINER [PRIVATE_PORT[/PROTO]]",
				"List port mappings or a specific mapping for the container");
	if (argc < 2 || argc > 3)
		return api_args_error("port", "requires at least 1 and at most 2 arguments.");
	path = api_obj_path("/containers/", argv[1], "/json");
	if (!path || client_json(cli->api, "GET", path, NULL, &doc, &err) < 0)
		return api_report(err, 1);
	ports = json_object_get(json_object_get(doc, "NetworkSettings"), "Ports");
	if (argc == 3) {
		char *end;
		long p = strtol(argv[2], &end, 10);

		if (end == argv[2] || (*end && *end != '/') || p < 0 || p > 65535) {
			fprintf(stderr,
				"Error: invalid port (%s): strconv.ParseUint: parsing \"%.*s\": "
				"invalid syntax\n",
				argv[2], (int)strcspn(argv[2], "/"), argv[2]);
			return 1;
		}
		snprintf(want, sizeof(want), "%ld/%s", p, *end ? end + 1 : "tcp");
	}
	json_object_foreach ((json_t *)ports, key, binds) {
		size_t i;
		json_t *b;

		if (*want && strcmp(key, want) != 0)
			continue;
		json_array_foreach (binds, i, b) {
			const char *ip = json_string_value(json_object_get(b, "HostIp")) ?: "";
			const char *port = json_string_value(json_object_get(b, "HostPort")) ?: "";
			bool v6 = strchr(ip, ':') != NULL;

			if (*want)
				printf("%s%s%s:%s\n", v6 ? "[" : "", ip, v6 ? "]" : "", port);
			else
				printf("%s -> %s%s%s:%s\n", key, v6 ? "[" : "", ip, v6 ? "]" : "",
				       port);
			found = true;
		}
	}
	if (*want && !found) {
		const char *name = json_string_value(json_object_get(doc, "Name")) ?: argv[1];

		fprintf(stderr, "Error: No public port '%s' published for %s\n", argv[2],
			name[0] == '/' ? name + 1 : name);
		return 1;
	}
	return 0;
}

/*
 * update.
 */

static int64_t update_bytes(const char *s, bool *ok)
{
	char *end;
	double v = strtod(s, &end);
	int64_t mult = 1;

	*ok = end != s && v >= 0;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1024, end++;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024, end++;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024, end++;
		break;
	default:
		break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	*ok = *ok && !*end;
	return (int64_t)(v * (double)mult);
}

int api_cmd_update(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_CPUS = 256,
		OPT_SWAP,
		OPT_CPUSET,
		OPT_PIDS,
		OPT_RESTART,
	};
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "memory-swap", required_argument, NULL, OPT_SWAP },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "cpu-shares", required_argument, NULL, 'c' },
		{ "cpuset-cpus", required_argument, NULL, OPT_CPUSET },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "restart", required_argument, NULL, OPT_RESTART },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *body = json_object();
	int c, status = 0;

	if (!body)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+m:c:", opts, NULL)) != -1) {
		bool ok = true;
		char *end;

		switch (c) {
		case 'm':
			json_object_set_new(body, "Memory",
					    json_integer(update_bytes(optarg, &ok)));
			if (!ok) {
				fprintf(stderr,
					"invalid argument \"%s\" for \"-m, --memory\" flag: "
					"invalid size: '%s'\n",
					optarg, optarg);
				cli_usage_tail("update", "Run");
				return API_CLI_STATUS;
			}
			break;
		case OPT_SWAP:
			json_object_set_new(body, "MemorySwap",
					    json_integer(strcmp(optarg, "-1") == 0
								 ? -1
								 : update_bytes(optarg, &ok)));
			if (!ok) {
				fprintf(stderr,
					"invalid argument \"%s\" for \"--memory-swap\" flag: "
					"invalid size: '%s'\n",
					optarg, optarg);
				cli_usage_tail("update", "Run");
				return API_CLI_STATUS;
			}
			break;
		case OPT_CPUS: {
			double v = strtod(optarg, &end);

			if (end == optarg || *end) {
				fprintf(stderr,
					"invalid argument \"%s\" for \"--cpus\" flag: failed to "
					"parse %s as a rational number\n",
					optarg, optarg);
				cli_usage_tail("update", "Run");
				return API_CLI_STATUS;
			}
			json_object_set_new(body, "NanoCpus",
					    json_integer((json_int_t)(v * 1e9 + 0.5)));
			break;
		}
		case 'c':
		case OPT_PIDS: {
			long long v = strtoll(optarg, &end, 10);

			if (!*optarg || *end) {
				fprintf(stderr,
					"invalid argument \"%s\" for \"%s\" flag: "
					"strconv.ParseInt: "
					"parsing \"%s\": invalid syntax\n",
					optarg, c == 'c' ? "-c, --cpu-shares" : "--pids-limit",
					optarg);
				cli_usage_tail("update", "Run");
				return API_CLI_STATUS;
			}
			json_object_set_new(body, c == 'c' ? "CpuShares" : "PidsLimit",
					    json_integer(v));
			break;
		}
		case OPT_CPUSET:
			json_object_set_new(body, "CpusetCpus", json_string(optarg));
			break;
		case OPT_RESTART: {
			const char *colon = strchr(optarg, ':');
			long long n = 0;

			if (colon) {
				n = strtoll(colon + 1, &end, 10);
				if (!colon[1] || *end) {
					fprintf(stderr, "invalid restart policy format: maximum "
							"retry count must be an integer\n");
					return 1;
				}
			}
			json_object_set_new(
				body, "RestartPolicy",
				json_pack("{s:s%, s:I}", "Name", optarg,
					  colon ? (size_t)(colon - optarg) : strlen(optarg),
					  "MaximumRetryCount", (json_int_t)n));
			break;
		}
		case 'h':
			return api_help(
				"update [OPTIONS] CONTAINER [CONTAINER...]",
				"Update configuration of one or more containers\n\nOptions:\n"
				"  -c, --cpu-shares int      CPU shares (relative weight)\n"
				"      --cpus decimal        Number of CPUs\n"
				"      --cpuset-cpus string  CPUs in which to allow execution "
				"(0-3, 0,1)\n"
				"  -m, --memory bytes        Memory limit\n"
				"      --memory-swap bytes   Swap limit equal to memory plus swap: "
				"-1 to enable unlimited swap\n"
				"      --pids-limit int      Tune container pids limit (set -1 for "
				"unlimited)\n"
				"      --restart string      Restart policy to apply when a "
				"container exits");
		default:
			return cli_flag_error("update", argv, "+m:c:");
		}
	}
	if (optind >= argc)
		return api_args_error("update", "requires at least 1 argument.");
	if (json_object_size(body) == 0) {
		fprintf(stderr, "you must provide one or more flags when using this command\n");
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *path = api_obj_path("/containers/", argv[i], "/update");
		_cleanup_json_ json_t *out = NULL;
		struct berr *err = NULL;
		size_t k;
		json_t *w;

		if (!path || client_json(cli->api, "POST", path, body, &out, &err) < 0) {
			fprintf(stderr, "%s\n", err ? err->msg : "update");
			berr_free(err);
			status = 1;
			continue;
		}
		json_array_foreach (json_object_get(out, "Warnings"), k, w)
			fprintf(stderr, "%s\n", json_string_value(w));
		printf("%s\n", argv[i]);
	}
	return status;
}

/*
 * stats.
 */

/* One row of stats, as the docker CLI computes it from one sample. */
static json_t *stats_row(const json_t *s, const char *given)
{
	const json_t *cpu = json_object_get(s, "cpu_stats");
	const json_t *pre = json_object_get(s, "precpu_stats");
	const json_t *mem = json_object_get(s, "memory_stats");
	const json_t *mstats = json_object_get(mem, "stats");
	const json_t *nets = json_object_get(s, "networks");
	const json_t *blkio =
		json_object_get(json_object_get(s, "blkio_stats"), "io_service_bytes_recursive");
	double cpu_delta, sys_delta, cpu_pct = 0, mem_pct = 0, rx = 0, tx = 0, rd = 0, wr = 0;
	double usage, limit, online;
	const char *name = json_string_value(json_object_get(s, "name")) ?: "";
	const char *id = json_string_value(json_object_get(s, "id")) ?: "";
	char cpu_s[32], mem_s[64], memp_s[32], net_s[64], blk_s[64], pids_s[32], a[24], b[24];
	const json_t *inactive;
	const char *key;
	json_t *v;
	size_t i;

	cpu_delta = json_number_value(
			    json_object_get(json_object_get(cpu, "cpu_usage"), "total_usage")) -
		    json_number_value(
			    json_object_get(json_object_get(pre, "cpu_usage"), "total_usage"));
	sys_delta = json_number_value(json_object_get(cpu, "system_cpu_usage")) -
		    json_number_value(json_object_get(pre, "system_cpu_usage"));
	online = json_number_value(json_object_get(cpu, "online_cpus"));
	if (online == 0)
		online = (double)json_array_size(
			json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage"));
	if (sys_delta > 0 && cpu_delta > 0)
		cpu_pct = cpu_delta / sys_delta * online * 100.0;
	usage = json_number_value(json_object_get(mem, "usage"));
	inactive = json_object_get(mstats, "total_inactive_file");
	if (!inactive)
		inactive = json_object_get(mstats, "inactive_file");
	if (inactive && json_number_value(inactive) < usage)
		usage -= json_number_value(inactive);
	limit = json_number_value(json_object_get(mem, "limit"));
	if (limit > 0)
		mem_pct = usage / limit * 100.0;
	json_object_foreach ((json_t *)nets, key, v) {
		rx += json_number_value(json_object_get(v, "rx_bytes"));
		tx += json_number_value(json_object_get(v, "tx_bytes"));
	}
	json_array_foreach (blkio, i, v) {
		const char *op = json_string_value(json_object_get(v, "op")) ?: "";

		if (strcasecmp(op, "read") == 0)
			rd += json_number_value(json_object_get(v, "value"));
		else if (strcasecmp(op, "write") == 0)
			wr += json_number_value(json_object_get(v, "value"));
	}
	snprintf(cpu_s, sizeof(cpu_s), "%.2f%%", cpu_pct);
	bytes_size(usage, a, sizeof(a));
	bytes_size(limit, b, sizeof(b));
	snprintf(mem_s, sizeof(mem_s), "%s / %s", a, b);
	snprintf(memp_s, sizeof(memp_s), "%.2f%%", mem_pct);
	api_human_size(rx, 3, a, sizeof(a));
	api_human_size(tx, 3, b, sizeof(b));
	snprintf(net_s, sizeof(net_s), "%s / %s", a, b);
	api_human_size(rd, 3, a, sizeof(a));
	api_human_size(wr, 3, b, sizeof(b));
	snprintf(blk_s, sizeof(blk_s), "%s / %s", a, b);
	snprintf(pids_s, sizeof(pids_s), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(json_object_get(s, "pids_stats"), "current")));
	return json_pack("{s:s, s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", given,
			 "Name", name[0] == '/' ? name + 1 : name, "ID", id,
			 strlen(id) < 12 ? strlen(id) : (size_t)12, "CPUPerc", cpu_s, "MemUsage",
			 mem_s, "MemPerc", memp_s, "NetIO", net_s, "BlockIO", blk_s, "PIDs",
			 pids_s);
}

int api_cmd_stats(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_NO_STREAM = 256,
		OPT_NO_TRUNC,
		OPT_FORMAT
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "no-stream", no_argument, NULL, OPT_NO_STREAM },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t"
			     "{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
	_cleanup_json_ json_t *header = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", "CONTAINER", "Name",
		"NAME", "ID", "CONTAINER ID", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT",
		"MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
	_cleanup_strv_ char **targets = NULL;
	bool all = false, stream = true;
	int c, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case OPT_NO_STREAM:
			stream = false;
			break;
		case OPT_NO_TRUNC:
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'h':
			return api_help(
				"stats [OPTIONS] [CONTAINER...]",
				"Display a live stream of container(s) resource usage "
				"statistics\n\nOptions:\n"
				"  -a, --all             Show all containers (default shows "
				"just running)\n"
				"      --format string   Format output using a custom "
				"template\n"
				"      --no-stream       Disable streaming stats and only "
				"pull the first result\n"
				"      --no-trunc        Do not truncate output");
		default:
			return cli_flag_error("stats", argv, "+a");
		}
	}
	if (!header)
		return 1;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			if (strv_append(&targets, argv[i]) < 0)
				return 1;
	} else {
		_cleanup_json_ json_t *list = NULL;
		_cleanup_free_ char *path = api_path("/containers/json%s", all ? "?all=1" : "");
		struct berr *err = NULL;
		size_t i;
		json_t *ctr;

		if (!path || client_json(cli->api, "GET", path, NULL, &list, &err) < 0)
			return api_report(err, 1);
		json_array_foreach (list, i, ctr) {
			const char *id = json_string_value(json_object_get(ctr, "Id")) ?: "";
			char short_id[13];

			snprintf(short_id, sizeof(short_id), "%s", id);
			if (strv_append(&targets, short_id) < 0)
				return 1;
		}
	}
	for (;;) {
		_cleanup_json_ json_t *rows = json_array();

		if (!rows)
			return 1;
		for (size_t i = 0; targets && targets[i]; i++) {
			_cleanup_free_ char *path =
				api_obj_path("/containers/", targets[i], "/stats?stream=0");
			_cleanup_json_ json_t *s = NULL;
			struct berr *err = NULL;

			if (!path || client_json(cli->api, "GET", path, NULL, &s, &err) < 0) {
				fprintf(stderr, "%s\n", err ? err->msg : "stats");
				berr_free(err);
				status = 1;
				continue;
			}
			json_array_append_new(rows, stats_row(s, targets[i]));
		}
		if (status && optind < argc)
			return status;
		if (stream)
			printf("\033[2J\033[H");
		if (api_print_list(rows, header, format) != 0)
			return 1;
		if (!stream)
			return status;
		fflush(stdout);
		sleep(1);
	}
}

/*
 * Prunes and disk usage.
 */

bool api_confirm(const char *warning)
{
	char line[256];
	char *s;
	size_t n;

	fprintf(stdout, "%s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	/* docker 28 takes "y" or "Y" alone, spaces around it trimmed. */
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return strcasecmp(s, "y") == 0;
}

/* What a prune takes besides -f and --filter. */
enum {
	PRUNE_ALL = 1,	   /* -a, --all */
	PRUNE_VOLUMES = 2, /* --volumes */
};

struct prune_flags {
	bool force, all, volumes;
	json_t *filters;
};

static void prune_flags_clear(struct prune_flags *p)
{
	json_decref(p->filters);
}

/* The flags of a prune as WHAT has them; HELP: its summary and options
 * for --help. */
static int prune_flags(const char *command, int argc, char **argv, unsigned what,
		       struct prune_flags *p, const char *help)
{
	enum {
		OPT_FILTER = 256,
		OPT_VOLUMES
	};
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "volumes", no_argument, NULL, OPT_VOLUMES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = what & PRUNE_ALL ? "+fa" : "+f";
	_cleanup_free_ char *usage = str_printf("%s [OPTIONS]", command);
	int c;

	p->filters = json_object();
	if (!p->filters || !usage)
		return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			p->force = true;
			break;
		case 'a':
			if (!(what & PRUNE_ALL)) {
				optopt = 0;
				return cli_flag_error(command, argv, shortopts);
			}
			p->all = true;
			break;
		case OPT_VOLUMES:
			if (!(what & PRUNE_VOLUMES)) {
				optopt = 0;
				return cli_flag_error(command, argv, shortopts);
			}
			p->volumes = true;
			break;
		case OPT_FILTER:
			if (api_filter_add(p->filters, optarg) < 0)
				return cli_flag_value_error(
					command,
					"invalid argument \"%s\" for \"--filter\" flag: bad format "
					"of filter (expected name=value)",
					optarg);
			break;
		case 'h':
			return api_help(usage, help);
		default:
			return cli_flag_error(command, argv, shortopts);
		}
	}
	if (optind != argc)
		return api_args_error(command, "accepts no arguments.");
	return -1;
}

int api_prune_call(struct cli *cli, const char *what, const json_t *filters, json_t **out)
{
	_cleanup_free_ char *q = api_filters_query(filters);
	_cleanup_free_ char *path =
		q ? api_path("/%s/prune%s%s", what, *q ? "?" : "", *q ? q + 1 : "") : NULL;
	struct berr *err = NULL;

	if (!path || client_json(cli->api, "POST", path, NULL, out, &err) < 0)
		return api_report(err, 1);
	return 0;
}

/* The report of a containers or volumes prune into F: TITLE, then the
 * names of its member KEY; its space. */
static int64_t print_names_report(FILE *f, const json_t *r, const char *key, const char *title)
{
	const json_t *names = json_object_get(r, key);
	size_t i;
	json_t *name;

	if (!json_array_size(names))
		return 0;
	fprintf(f, "%s:\n", title);
	json_array_foreach (names, i, name)
		fprintf(f, "%s\n", json_string_value(name));
	fprintf(f, "\n");
	return json_integer_value(json_object_get(r, "SpaceReclaimed"));
}

static int64_t print_containers_report(FILE *f, const json_t *r)
{
	return print_names_report(f, r, "ContainersDeleted", "Deleted Containers");
}

static int64_t print_images_report(FILE *f, const json_t *r)
{
	const json_t *list = json_object_get(r, "ImagesDeleted");
	size_t i;
	json_t *e;

	if (!json_array_size(list))
		return 0;
	fprintf(f, "Deleted Images:\n");
	json_array_foreach (list, i, e) {
		const char *u = json_string_value(json_object_get(e, "Untagged"));
		const char *d = json_string_value(json_object_get(e, "Deleted"));

		if (u && *u)
			fprintf(f, "untagged: %s\n", u);
		if (d && *d)
			fprintf(f, "deleted: %s\n", d);
	}
	fprintf(f, "\n");
	return json_integer_value(json_object_get(r, "SpaceReclaimed"));
}

int64_t api_print_volumes_report(FILE *f, const json_t *r)
{
	return print_names_report(f, r, "VolumesDeleted", "Deleted Volumes");
}

void api_print_total(int64_t space)
{
	char s[32];

	api_human_size((double)space, 4, s, sizeof(s));
	printf("Total reclaimed space: %s\n", s);
}

int api_cmd_container_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_(prune_flags_clear) struct prune_flags p = { 0 };
	_cleanup_json_ json_t *r = NULL;
	int rc = prune_flags("container prune", argc, argv, 0, &p,
			     "Remove all stopped containers\n\nOptions:\n"
			     "      --filter filter   Provide filter values (e.g. "
			     "\"until=<timestamp>\")\n"
			     "  -f, --force           Do not prompt for confirmation");

	if (rc >= 0)
		return rc;
	if (!p.force && !api_confirm("WARNING! This will remove all stopped containers."))
		return 0;
	if (api_prune_call(cli, "containers", p.filters, &r) != 0)
		return 1;
	api_print_total(print_containers_report(stdout, r));
	return 0;
}

int api_cmd_image_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_(prune_flags_clear) struct prune_flags p = { 0 };
	_cleanup_json_ json_t *r = NULL;
	int rc = prune_flags("image prune", argc, argv, PRUNE_ALL, &p,
			     "Remove unused images\n\nOptions:\n"
			     "  -a, --all             Remove all unused images, not just "
			     "dangling ones\n"
			     "      --filter filter   Provide filter values (e.g. "
			     "\"until=<timestamp>\")\n"
			     "  -f, --force           Do not prompt for confirmation");

	if (rc >= 0)
		return rc;
	if (!p.force &&
	    !api_confirm(p.all ? "WARNING! This will remove all images without at least one "
				 "container associated to them."
			       : "WARNING! This will remove all dangling images."))
		return 0;
	json_object_set_new(p.filters, "dangling", json_pack("{s:b}", p.all ? "false" : "true", 1));
	if (api_prune_call(cli, "images", p.filters, &r) != 0)
		return 1;
	api_print_total(print_images_report(stdout, r));
	return 0;
}

int api_cmd_system_prune(struct cli *cli, int argc, char **argv)
{
	_cleanup_(prune_flags_clear) struct prune_flags p = { 0 };
	_cleanup_json_ json_t *cr = NULL;
	_cleanup_json_ json_t *nr = NULL;
	_cleanup_json_ json_t *vr = NULL;
	_cleanup_json_ json_t *ir = NULL;
	_cleanup_json_ json_t *br = NULL;
	_cleanup_json_ json_t *img_filters = NULL;
	_cleanup_free_ char *warning = NULL;
	int64_t space = 0;
	int rc = prune_flags("system prune", argc, argv, PRUNE_ALL | PRUNE_VOLUMES, &p,
			     "Remove unused data\n\nOptions:\n"
			     "  -a, --all             Remove all unused images not just "
			     "dangling ones\n"
			     "      --filter filter   Provide filter values (e.g. "
			     "\"label=<key>=<value>\")\n"
			     "  -f, --force           Do not prompt for confirmation\n"
			     "      --volumes         Prune anonymous volumes");

	if (rc >= 0)
		return rc;
	/* docker's check, before its question: volumes have no "until". */
	if (p.volumes && json_object_get(p.filters, "until")) {
		fprintf(stderr,
			"ERROR: The \"until\" filter is not supported with \"--volumes\"\n");
		return 1;
	}
	warning = str_printf("WARNING! This will remove:\n  - all stopped containers\n  - all "
			     "networks not used by at least one container\n%s%s%s",
			     p.volumes ? "  - all anonymous volumes not used by at least one "
					 "container\n"
				       : "",
			     p.all ? "  - all images without at least one container associated "
				     "to them\n"
				   : "  - all dangling images\n",
			     p.all ? "  - all build cache\n" : "  - unused build cache\n");
	if (!warning)
		return 1;
	if (!p.force && !api_confirm(warning))
		return 0;
	/* docker's order: containers, networks, volumes, images, build
	 * cache; the first that fails ends it. */
	if (api_prune_call(cli, "containers", p.filters, &cr) != 0)
		return 1;
	space += print_containers_report(stdout, cr);
	if (api_prune_call(cli, "networks", p.filters, &nr) != 0)
		return 1;
	if (p.volumes) {
		if (api_prune_call(cli, "volumes", p.filters, &vr) != 0)
			return 1;
		space += api_print_volumes_report(stdout, vr);
	}
	img_filters = json_deep_copy(p.filters);
	if (!img_filters)
		return 1;
	json_object_set_new(img_filters, "dangling",
			    json_pack("{s:b}", p.all ? "false" : "true", 1));
	if (api_prune_call(cli, "images", img_filters, &ir) != 0)
		return 1;
	space += print_images_report(stdout, ir);
	if (api_prune_call(cli, "build", p.filters, &br) != 0)
		return 1;
	space += json_integer_value(json_object_get(br, "SpaceReclaimed"));
	api_print_total(space);
	return 0;
}

/* "SIZE (PCT%)" of docker's df, the percentage of TOTAL. */
static void reclaimable(int64_t r, int64_t total, char *out, size_t n)
{
	char s[32];

	api_human_size((double)r, 4, s, sizeof(s));
	if (total > 0)
		snprintf(out, n, "%s (%lld%%)", s, (long long)(r * 100 / total));
	else
		snprintf(out, n, "%s", s);
}

static json_t *df_row(const char *type, size_t total, size_t active, int64_t size, int64_t rec,
		      bool pct)
{
	char t[24], a[24], s[32], r[48];

	snprintf(t, sizeof(t), "%zu", total);
	snprintf(a, sizeof(a), "%zu", active);
	api_human_size((double)size, 4, s, sizeof(s));
	reclaimable(rec, pct ? size : 0, r, sizeof(r));
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", type, "TotalCount", t, "Active", a,
			 "Size", s, "Reclaimable", r);
}

/* The rows of docker's verbose df (the same contexts as its list
 * commands), in an object with the members Images, Containers, Volumes
 * and BuildCache, in that order. */
static json_t *df_verbose_rows(const json_t *df, bool trunc)
{
	_cleanup_json_ json_t *out = json_pack("{s:[], s:[], s:[], s:[]}", "Images", "Containers",
					       "Volumes", "BuildCache");
	size_t i;
	json_t *e;

	if (!out)
		return NULL;
	json_array_foreach (json_object_get(df, "Images"), i, e) {
		const char *tag =
			json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0));
		_cleanup_free_ char *repo = strdup("<none>");
		const char *t = "<none>";

		/* Only the first tag, as docker shows it. */
		if (tag && strcmp(tag, "<none>:<none>") != 0) {
			const char *slash = strrchr(tag, '/');
			const char *colon = strrchr(slash ? slash : tag, ':');

			if (colon) {
				free(repo);
				repo = strndup(tag, (size_t)(colon - tag));
				t = colon + 1;
			}
		}
		if (!repo || json_array_append_new(json_object_get(out, "Images"),
						   api_image_row(e, repo, t, "", trunc)) < 0)
			return NULL;
	}
	json_array_foreach (json_object_get(df, "Containers"), i, e) {
		_cleanup_json_ json_t *c = json_deep_copy(e);

		/* The size without the image's: docker leaves the virtual
		 * size out here. */
		if (!c)
			return NULL;
		json_object_del(c, "SizeRootFs");
		if (json_array_append_new(json_object_get(out, "Containers"),
					  api_container_row(c, trunc)) < 0)
			return NULL;
	}
	json_array_foreach (json_object_get(df, "Volumes"), i, e)
		if (json_array_append_new(json_object_get(out, "Volumes"), api_volume_row(e)) < 0)
			return NULL;
	json_array_foreach (json_object_get(df, "BuildCache"), i, e) {
		const char *id = json_string_value(json_object_get(e, "ID")) ?: "";
		const char *parent = json_string_value(json_object_get(e, "Parent")) ?: "";
		bool in_use = json_is_true(json_object_get(e, "InUse"));
		char cid[80], size[CLI_HUMAN_SIZE], created[64] = "",
						    since[CLI_HUMAN_SIZE + 8] = "";
		char used[64] = "", used_since[CLI_HUMAN_SIZE + 8] = "", count[24];
		struct timespec ts;

		snprintf(cid, sizeof(cid), "%.*s%s", trunc ? 12 : (int)strlen(id), id,
			 in_use ? "*" : "");
		cli_human_size(json_integer_value(json_object_get(e, "Size")), size);
		if (time_parse_rfc3339(json_string_value(json_object_get(e, "CreatedAt")) ?: "",
				       &ts) == 0) {
			api_time_string(ts.tv_sec, created, sizeof(created));
			cli_human_since(ts.tv_sec, since);
		}
		if (time_parse_rfc3339(json_string_value(json_object_get(e, "LastUsedAt")) ?: "",
				       &ts) == 0) {
			api_time_string(ts.tv_sec, used, sizeof(used));
			cli_human_since(ts.tv_sec, used_since);
		}
		snprintf(count, sizeof(count), "%lld",
			 (long long)json_integer_value(json_object_get(e, "UsageCount")));
		if (json_array_append_new(
			    json_object_get(out, "BuildCache"),
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s%, s:s, s:s, "
				      "s:s, s:s}",
				      "CacheType",
				      json_string_value(json_object_get(e, "Type")) ?: "",
				      "CreatedAt", created, "CreatedSince", since, "Description",
				      json_string_value(json_object_get(e, "Description")) ?: "",
				      "ID", cid, "InUse", in_use ? "true" : "false", "LastUsedAt",
				      used, "LastUsedSince", used_since, "Parent", parent,
				      trunc && strlen(parent) > 12 ? (size_t)12 : strlen(parent),
				      "Shared",
				      json_is_true(json_object_get(e, "Shared")) ? "true" : "false",
				      "Size", size, "UsageCount", count)) < 0)
			return NULL;
	}
	return steal_ptr(&out);
}

/* One section of docker's verbose df: its title, then its table. */
static int df_section(const char *title, const json_t *rows, json_t *header, const char *format)
{
	_cleanup_json_ json_t *h = header;

	fputs(title, stdout);
	return h ? api_print_list(rows, h, format) : 1;
}

static int df_verbose(const json_t *df, int64_t build_size, const char *format)
{
	/* docker's raw verbose format: each kind's raw format in turn. */
	static const char raw[] =
		"{{range .Images}}type: Image\n"
		"repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\n"
		"image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n"
		"\n{{end -}}\n"
		"{{range .Containers}}type: Container\n"
		"container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\n"
		"created_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\n"
		"status: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
		"labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n"
		"size: {{.Size}}\\n\n{{end -}}\n"
		"{{range .Volumes}}type: Volume\nname: {{.Name}}\\ndriver: {{.Driver}}\\n\n{{end "
		"-}}\n"
		"{{range .BuildCache}}type: Build Cache\n"
		"build_cache_id: {{.ID}}\nparent_id: {{.Parent}}\n"
		"build_cache_type: {{.CacheType}}\ndescription: {{.Description}}\n"
		"created_at: {{.CreatedAt}}\ncreated_since: {{.CreatedSince}}\n"
		"last_used_at: {{.LastUsedAt}}\nlast_used_since: {{.LastUsedSince}}\n"
		"usage_count: {{.UsageCount}}\nin_use: {{.InUse}}\nshared: {{.Shared}}\n"
		"\n{{end -}}";
	bool table = strcmp(format, "table") == 0;
	_cleanup_json_ json_t *rows =
		df_verbose_rows(df, table || strncmp(format, "table ", 6) == 0);
	_cleanup_free_ char *out = NULL;
	struct berr *err = NULL;
	char size[32];

	if (!rows)
		return 1;
	if (!table) {
		if (api_expand_format(strcmp(format, "raw") == 0 ? raw : format, rows, &out, &err) <
		    0)
			return api_template_error(err);
		/* docker writes the result as it is, without a newline. */
		fputs(out, stdout);
		return 0;
	}
	api_human_size((double)build_size, 4, size, sizeof(size));
	if (df_section("Images space usage:\n\n", json_object_get(rows, "Images"),
		       api_image_header(),
		       "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
		       "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}") != 0 ||
	    df_section("\nContainers space usage:\n\n", json_object_get(rows, "Containers"),
		       api_container_header(),
		       "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
		       "{{.RunningFor}}\t{{.Status}}\t{{.Names}}") != 0 ||
	    df_section("\nLocal Volumes space usage:\n\n", json_object_get(rows, "Volumes"),
		       api_volume_header(), "table {{.Name}}\t{{.Links}}\t{{.Size}}") != 0)
		return 1;
	printf("\nBuild cache usage: %s\n\n", size);
	return df_section(
		"", json_object_get(rows, "BuildCache"),
		json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CACHE ID",
			  "Parent", "PARENT", "CacheType", "CACHE TYPE", "Size", "SIZE",
			  "CreatedSince", "CREATED", "LastUsedSince", "LAST USED", "UsageCount",
			  "USAGE", "InUse", "IN USE", "Shared", "SHARED", "Description",
			  "DESCRIPTION"),
		"table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
		"{{.UsageCount}}\t{{.Shared}}");
}

int api_cmd_system_df(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "";
	_cleanup_json_ json_t *df = NULL;
	_cleanup_json_ json_t *rows = json_array();
	_cleanup_json_ json_t *header =
		json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL",
			  "Active", "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
	struct berr *err = NULL;
	int64_t size, used, rec;
	size_t active, i;
	bool verbose = false;
	json_t *e;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+v", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			format = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			return api_help(
				"system df [OPTIONS]",
				"Show docker disk usage\n\nOptions:\n"
				"      --format string   Format output using a custom "
				"template:\n"
				"                        'table':            Print output in "
				"table format\n"
				"                        with column headers (default)\n"
				"                        'table TEMPLATE':   Print output in "
				"table format\n"
				"                        using the given Go template\n"
				"                        'json':             Print in JSON "
				"format\n"
				"                        'TEMPLATE':         Print output using "
				"the given\n"
				"                        Go template.\n"
				"  -v, --verbose         Show detailed information on space "
				"usage");
		default:
			return cli_flag_error("system df", argv, "+v");
		}
	}
	if (optind != argc)
		return api_args_error("system df", "accepts no arguments.");
	if (!*format)
		format = "table";
	if (!rows || !header || client_json(cli->api, "GET", "/system/df", NULL, &df, &err) < 0)
		return api_report(err, 1);
	if (verbose) {
		/* The build cache's size: what is not shared. */
		size = 0;
		json_array_foreach (json_object_get(df, "BuildCache"), i, e)
			if (!json_is_true(json_object_get(e, "Shared")))
				size += json_integer_value(json_object_get(e, "Size"));
		return df_verbose(df, size, format);
	}
	if (strcmp(format, "table") == 0)
		format = "table "
			 "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
	else if (strcmp(format, "raw") == 0)
		format = "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\n"
			 "size: {{.Size}}\nreclaimable: {{.Reclaimable}}\n";
	/* Images: the layers' size, less what the images in use hold alone
	 * (docker counts an image with Containers -1 as in use there, and
	 * not as active). */
	size = json_integer_value(json_object_get(df, "LayersSize"));
	used = 0;
	active = 0;
	json_array_foreach (json_object_get(df, "Images"), i, e) {
		json_int_t sz = json_integer_value(json_object_get(e, "Size"));
		json_int_t shared = json_integer_value(json_object_get(e, "SharedSize"));
		json_int_t n = json_integer_value(json_object_get(e, "Containers"));

		if (n > 0)
			active++;
		if (n != 0 && sz != -1 && shared != -1)
			used += sz - shared;
	}
	json_array_append_new(rows, df_row("Images", json_array_size(json_object_get(df, "Images")),
					   active, size, size - used, true));
	size = rec = 0;
	active = 0;
	json_array_foreach (json_object_get(df, "Containers"), i, e) {
		const char *st = json_string_value(json_object_get(e, "State")) ?: "";
		json_int_t rw = json_integer_value(json_object_get(e, "SizeRw"));
		bool on = strstr(st, "running") || strstr(st, "paused") || strstr(st, "restarting");

		size += rw;
		if (on)
			active++;
		else
			rec += rw;
	}
	json_array_append_new(rows, df_row("Containers",
					   json_array_size(json_object_get(df, "Containers")),
					   active, size, rec, true));
	size = rec = 0;
	active = 0;
	json_array_foreach (json_object_get(df, "Volumes"), i, e) {
		const json_t *u = json_object_get(e, "UsageData");
		json_int_t sz = json_integer_value(json_object_get(u, "Size"));
		bool on = json_integer_value(json_object_get(u, "RefCount")) > 0;

		if (sz > 0)
			size += sz;
		if (on)
			active++;
		else if (sz > 0)
			rec += sz;
	}
	json_array_append_new(rows, df_row("Local Volumes",
					   json_array_size(json_object_get(df, "Volumes")), active,
					   size, rec, true));
	size = rec = 0;
	active = 0;
	json_array_foreach (json_object_get(df, "BuildCache"), i, e) {
		json_int_t sz = json_integer_value(json_object_get(e, "Size"));
		bool on = json_is_true(json_object_get(e, "InUse"));

		if (!json_is_true(json_object_get(e, "Shared")))
			size += sz;
		if (on)
			active++;
		else if (!json_is_true(json_object_get(e, "Shared")))
			rec += sz;
	}
	json_array_append_new(rows, df_row("Build Cache",
					   json_array_size(json_object_get(df, "BuildCache")),
					   active, size, rec, false));
	return api_print_list(rows, header, format);
}
