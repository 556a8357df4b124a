/* `docker stats` and `docker top` of a container: its cgroup's counters
 * (v1 hierarchies, or the v2 unified one) in the Engine API's stats shape,
 * and the host's ps(1) output kept to the container's processes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "daemon/query.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/timefmt.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
/* Largest cgroup file or ps output read. */
#define READ_MAX (4 * 1024 * 1024)

/* The text of the cgroup file NAME of controller CTRL for container ID
 * (v1: <root>/<ctrl>/berth/<id>/<name>; v2: <root>/unified or the root,
 * /berth/<id>/<name>); NULL when it cannot be read. */
static char *cg_read(const char *ctrl, const char *id, const char *name)
{
	_cleanup_free_ char *path = str_printf(CGROUP_ROOT "/%s/berth/%s/%s", ctrl, id, name);
	char *text = NULL;
	size_t len = 0;

	if (!path || fs_read_file(path, READ_MAX, &text, &len, NULL) < 0)
		return NULL;
	return text;
}

static json_int_t cg_int(const char *ctrl, const char *id, const char *name)
{
	_cleanup_free_ char *text = cg_read(ctrl, id, name);

	return text ? (json_int_t)strtoull(text, NULL, 10) : 0;
}

/* "key value" lines as an object of integers. */
static json_t *cg_keyed(const char *text)
{
	json_t *o = json_object();
	char key[128];
	unsigned long long v;
	int n;

	for (const char *p = text; o && p && *p;) {
		if (sscanf(p, "%127s %llu%n", key, &v, &n) == 2)
			json_object_set_new(o, key, json_integer((json_int_t)v));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return o;
}

/* The host's CPU time in ns, as Docker reads it from /proc/stat. */
static json_int_t system_cpu_ns(void)
{
	_cleanup_free_ char *text = NULL;
	unsigned long long v, total = 0;
	size_t len = 0;
	const char *p;
	int n;

	if (fs_read_file("/proc/stat", READ_MAX, &text, &len, NULL) < 0 ||
	    strncmp(text, "cpu ", 4) != 0)
		return 0;
	p = text + 4;
	for (int i = 0; i < 7 && sscanf(p, "%llu%n", &v, &n) == 1; i++, p += n)
		total += v;
	return (json_int_t)(total * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static json_t *percpu(const char *id)
{
	_cleanup_free_ char *text = cg_read("cpuacct", id, "cpuacct.usage_percpu");
	json_t *arr = json_array();
	char *end;

	for (const char *p = text; arr && p && *p; p = end) {
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p)
			break;
		json_array_append_new(arr, json_integer((json_int_t)v));
	}
	return arr;
}

static json_t *cpu_stats(const char *id)
{
	_cleanup_free_ char *acct = cg_read("cpuacct", id, "cpuacct.stat");
	_cleanup_free_ char *throttle = cg_read("cpu", id, "cpu.stat");
	_cleanup_json_ json_t *a = cg_keyed(acct);
	_cleanup_json_ json_t *t = cg_keyed(throttle);
	long tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);

	return json_pack(
		"{s:{s:I, s:o, s:I, s:I}, s:I, s:I, s:{s:I, s:I, s:I}}", "cpu_usage", "total_usage",
		cg_int("cpuacct", id, "cpuacct.usage"), "percpu_usage", percpu(id),
		"usage_in_kernelmode", json_integer_value(json_object_get(a, "system")) * tick_ns,
		"usage_in_usermode", json_integer_value(json_object_get(a, "user")) * tick_ns,
		"system_cpu_usage", system_cpu_ns(), "online_cpus",
		(json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "throttling_data", "periods",
		json_integer_value(json_object_get(t, "nr_periods")), "throttled_periods",
		json_integer_value(json_object_get(t, "nr_throttled")), "throttled_time",
		json_integer_value(json_object_get(t, "throttled_time")));
}

static json_t *memory_stats(const char *id)
{
	_cleanup_free_ char *stat = cg_read("memory", id, "memory.stat");
	json_int_t limit = cg_int("memory", id, "memory.limit_in_bytes");
	json_int_t host = (json_int_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);

	/* Docker shows the host's memory as the limit of an unlimited
	 * container. */
	if (limit <= 0 || limit > host)
		limit = host;
	return json_pack("{s:I, s:I, s:o, s:I}", "usage",
			 cg_int("memory", id, "memory.usage_in_bytes"), "max_usage",
			 cg_int("memory", id, "memory.max_usage_in_bytes"), "stats", cg_keyed(stat),
			 "limit", limit);
}

/* blkio's "MAJ:MIN Op value" lines in Docker's shape; null when none. */
static json_t *blkio_list(const char *id, const char *name)
{
	_cleanup_free_ char *text = cg_read("blkio", id, name);
	json_t *arr = json_array();
	unsigned major, minor;
	unsigned long long v;
	char op[32];
	int n;

	for (const char *p = text; arr && p && *p;) {
		if (sscanf(p, "%u:%u %31s %llu%n", &major, &minor, op, &v, &n) == 4)
			json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:I}", "major",
							     (json_int_t)major, "minor",
							     (json_int_t)minor, "op", op, "value",
							     (json_int_t)v));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (arr && json_array_size(arr) == 0) {
		json_decref(arr);
		return json_null();
	}
	return arr;
}

int daemon_container_stats_json(struct daemon *d, const struct daemon_container *c,
				const json_t *previous, json_t **out, struct berr **err)
{
	char now[TIME_RFC3339_SIZE];
	json_int_t pids_limit;
	_cleanup_free_ char *limit_text = NULL;
	json_error_t je;
	json_t *pre;

	(void)d;
	if (!daemon_container_is_running(c)) {
		/* Docker's zeroes for a container that does not run. */
		*out = json_pack(
			"{s:s, s:s, s:{}, s:{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n}, "
			"s:i, s:{}, s:{s:{s:i, s:i, s:i}, s:i, s:{s:i, s:i, s:i}}, "
			"s:{s:{s:i, s:i, s:i}, s:i, s:{s:i, s:i, s:i}}, s:{}, s:s, s:s}",
			"read", DAEMON_ZERO_TIME, "preread", DAEMON_ZERO_TIME, "pids_stats",
			"blkio_stats", "io_service_bytes_recursive", "io_serviced_recursive",
			"io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
			"io_merged_recursive", "io_time_recursive", "sectors_recursive",
			"num_procs", 0, "storage_stats", "cpu_stats", "cpu_usage", "total_usage", 0,
			"usage_in_kernelmode", 0, "usage_in_usermode", 0, "system_cpu_usage", 0,
			"throttling_data", "periods", 0, "throttled_periods", 0, "throttled_time",
			0, "precpu_stats", "cpu_usage", "total_usage", 0, "usage_in_kernelmode", 0,
			"usage_in_usermode", 0, "system_cpu_usage", 0, "throttling_data", "periods",
			0, "throttled_periods", 0, "throttled_time", 0, "memory_stats", "name",
			c->name, "id", c->id);
		return *out ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "stats");
	}
	time_now_rfc3339(now);
	/* The previous sample's CPU, from which clients compute a rate. */
	pre = previous ? json_incref(json_object_get(previous, "cpu_stats")) : NULL;
	if (!pre)
		pre = json_pack("{s:{s:i, s:i, s:i}, s:i, s:{s:i, s:i, s:i}}", "cpu_usage",
				"total_usage", 0, "usage_in_kernelmode", 0, "usage_in_usermode", 0,
				"system_cpu_usage", 0, "throttling_data", "periods", 0,
				"throttled_periods", 0, "throttled_time", 0);
	limit_text = cg_read("pids", c->id, "pids.max");
	pids_limit = limit_text && strncmp(limit_text, "max", 3) != 0
			     ? strtoll(limit_text, NULL, 10)
			     : 0;
	*out = json_pack_ex(
		&je, 0,
		"{s:s, s:s, s:{s:I, s:I}, s:{s:o, s:o, s:n, s:n, s:n, s:n, s:n, s:n}, s:i, s:{}, "
		"s:o, s:o, s:o, s:s, s:s}",
		"read", now, "preread",
		previous ? json_string_value(json_object_get(previous, "read")) : DAEMON_ZERO_TIME,
		"pids_stats", "current", cg_int("pids", c->id, "pids.current"), "limit", pids_limit,
		"blkio_stats", "io_service_bytes_recursive",
		blkio_list(c->id, "blkio.throttle.io_service_bytes_recursive"),
		"io_serviced_recursive", blkio_list(c->id, "blkio.throttle.io_serviced_recursive"),
		"io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
		"io_merged_recursive", "io_time_recursive", "sectors_recursive", "num_procs", 0,
		"storage_stats", "cpu_stats", cpu_stats(c->id), "precpu_stats", pre, "memory_stats",
		memory_stats(c->id), "name", c->name, "id", c->id);
	return *out ? 0 : berr_set(err, BERR_INTERNAL, 0, "stats: %s", je.text);
}

int daemon_container_top_json(struct daemon *d, const struct daemon_container *c,
			      const char *ps_args, json_t **out, struct berr **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ json_t *titles = json_array();
	_cleanup_json_ json_t *procs = json_array();
	char cmd[1024];
	size_t n = 0, cap = 0;
	ssize_t pid_col = -1;
	FILE *ps;
	char *line = NULL;
	bool first = true;
	int status;

	if (!daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
	if (runtime_container_pids(&d->rt, c->id, &pids, &n, err) < 0)
		return -1;
	/* ps_args come from the client: no shell meta-characters reach
	 * popen(). */
	if (!ps_args || !*ps_args)
		ps_args = "-ef";
	for (const char *p = ps_args; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -,=:%",
			    *p))
			return berr_set(err, BERR_INVALID, 0, "ps: unsupported argument: %s",
					ps_args);
	snprintf(cmd, sizeof(cmd), "ps %s 2>&1", ps_args);
	ps = popen(cmd, "re");
	if (!ps)
		return berr_set(err, BERR_INTERNAL, errno, "ps");
	while (getline(&line, &cap, ps) > 0) {
		_cleanup_json_ json_t *row = json_array();
		char *save = NULL, *tok;
		size_t col = 0;

		line[strcspn(line, "\n")] = '\0';
		if (first) {
			for (tok = strtok_r(line, " \t", &save); tok;
			     tok = strtok_r(NULL, " \t", &save)) {
				if (strcmp(tok, "PID") == 0)
					pid_col = (ssize_t)col;
				json_array_append_new(titles, json_string(tok));
				col++;
			}
			first = false;
			continue;
		}
		/* The last column (the command) keeps its spaces. */
		for (tok = line; col + 1 < json_array_size(titles); col++) {
			while (*tok == ' ')
				tok++;
			size_t w = strcspn(tok, " ");

			json_array_append_new(row, json_stringn(tok, w));
			tok += w;
		}
		while (*tok == ' ')
			tok++;
		json_array_append_new(row, json_string(tok));
		if (pid_col >= 0) {
			long pid = strtol(json_string_value(json_array_get(row, (size_t)pid_col)),
					  NULL, 10);

			for (size_t i = 0; i < n; i++)
				if (pids[i] == pid) {
					json_array_append(procs, row);
					break;
				}
		}
	}
	free(line);
	status = pclose(ps);
	if (pid_col < 0 && status != 0)
		return berr_set(err, BERR_INVALID, 0, "ps: %s",
				json_string_value(json_array_get(titles, 0)) ?: "failed");
	if (pid_col < 0)
		return berr_set(err, BERR_INVALID, 0, "Couldn't find PID field in ps output");
	*out = json_pack("{s:O, s:O}", "Titles", titles, "Processes", procs);
	return *out ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "top");
}
