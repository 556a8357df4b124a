/* A container's HostConfig as Docker keeps it: the body's members checked
 * for their types (each error names the member), every member Docker 20.10
 * shows filled with Docker's zero value, then Docker's validation with its
 * messages (daemon/daemon_unix.go's verifyPlatformContainerResources,
 * runconfig's restart policy and log option checks, volume/mounts parser).
 * Also what the OCI config builder reads back out of it: capabilities,
 * security options, mounts, devices and hosts entries. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/safepath.h"
#include "volume/volume.h"

#define MIB ((int64_t)1024 * 1024)

/* Docker's smallest memory limit (linuxMinMemory). */
#define MIN_MEMORY (6 * MIB)

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

enum hc_kind {
	HC_STR,		 /* a string; "" takes the default */
	HC_BOOL,	 /* a boolean */
	HC_INT,		 /* an integer */
	HC_INT_OR_NULL,	 /* an integer or null (Go's *int64) */
	HC_BOOL_OR_NULL, /* a boolean or null (Go's *bool) */
	HC_STRV,	 /* an array of strings or null */
	HC_STRMAP,	 /* an object of strings or null */
	HC_OBJ_ARRAY,	 /* an array of objects or null */
	HC_OBJECT,	 /* an object or null */
	HC_SIZE2,	 /* ConsoleSize: [height, width] */
};

/* One member of HostConfig, in the order Docker's inspect shows them. */
struct hc_member {
	const char *name;
	enum hc_kind kind;
	const char *def; /* HC_STR: the default */
	bool omit_empty; /* Go's omitempty: absent when not set */
};

static const struct hc_member members[] = {
	{ "Binds", HC_STRV, NULL, false },
	{ "ContainerIDFile", HC_STR, "", false },
	{ "LogConfig", HC_OBJECT, NULL, false },
	{ "NetworkMode", HC_STR, "default", false },
	{ "PortBindings", HC_OBJECT, NULL, false },
	{ "RestartPolicy", HC_OBJECT, NULL, false },
	{ "AutoRemove", HC_BOOL, NULL, false },
	{ "VolumeDriver", HC_STR, "", false },
	{ "VolumesFrom", HC_STRV, NULL, false },
	{ "CapAdd", HC_STRV, NULL, false },
	{ "CapDrop", HC_STRV, NULL, false },
	{ "CgroupnsMode", HC_STR, "host", false },
	{ "Dns", HC_STRV, NULL, false },
	{ "DnsOptions", HC_STRV, NULL, false },
	{ "DnsSearch", HC_STRV, NULL, false },
	{ "ExtraHosts", HC_STRV, NULL, false },
	{ "GroupAdd", HC_STRV, NULL, false },
	{ "IpcMode", HC_STR, "private", false },
	{ "Cgroup", HC_STR, "", false },
	{ "Links", HC_STRV, NULL, false },
	{ "OomScoreAdj", HC_INT, NULL, false },
	{ "PidMode", HC_STR, "", false },
	{ "Privileged", HC_BOOL, NULL, false },
	{ "PublishAllPorts", HC_BOOL, NULL, false },
	{ "ReadonlyRootfs", HC_BOOL, NULL, false },
	{ "SecurityOpt", HC_STRV, NULL, false },
	{ "StorageOpt", HC_STRMAP, NULL, true },
	{ "Tmpfs", HC_STRMAP, NULL, true },
	{ "UTSMode", HC_STR, "", false },
	{ "UsernsMode", HC_STR, "", false },
	{ "ShmSize", HC_INT, NULL, false },
	{ "Sysctls", HC_STRMAP, NULL, true },
	{ "Runtime", HC_STR, "runc", false },
	{ "ConsoleSize", HC_SIZE2, NULL, false },
	{ "Isolation", HC_STR, "", false },
	{ "CpuShares", HC_INT, NULL, false },
	{ "Memory", HC_INT, NULL, false },
	{ "NanoCpus", HC_INT, NULL, false },
	{ "CgroupParent", HC_STR, "", false },
	{ "BlkioWeight", HC_INT, NULL, false },
	{ "BlkioWeightDevice", HC_OBJ_ARRAY, NULL, false },
	{ "BlkioDeviceReadBps", HC_OBJ_ARRAY, NULL, false },
	{ "BlkioDeviceWriteBps", HC_OBJ_ARRAY, NULL, false },
	{ "BlkioDeviceReadIOps", HC_OBJ_ARRAY, NULL, false },
	{ "BlkioDeviceWriteIOps", HC_OBJ_ARRAY, NULL, false },
	{ "CpuPeriod", HC_INT, NULL, false },
	{ "CpuQuota", HC_INT, NULL, false },
	{ "CpuRealtimePeriod", HC_INT, NULL, false },
	{ "CpuRealtimeRuntime", HC_INT, NULL, false },
	{ "CpusetCpus", HC_STR, "", false },
	{ "CpusetMems", HC_STR, "", false },
	{ "Devices", HC_OBJ_ARRAY, NULL, false },
	{ "DeviceCgroupRules", HC_STRV, NULL, false },
	{ "DeviceRequests", HC_OBJ_ARRAY, NULL, false },
	{ "KernelMemory", HC_INT, NULL, false },
	{ "KernelMemoryTCP", HC_INT, NULL, false },
	{ "MemoryReservation", HC_INT, NULL, false },
	{ "MemorySwap", HC_INT, NULL, false },
	{ "MemorySwappiness", HC_INT_OR_NULL, NULL, false },
	{ "OomKillDisable", HC_BOOL, NULL, false },
	{ "PidsLimit", HC_INT_OR_NULL, NULL, false },
	{ "Ulimits", HC_OBJ_ARRAY, NULL, false },
	{ "CpuCount", HC_INT, NULL, false },
	{ "CpuPercent", HC_INT, NULL, false },
	{ "IOMaximumIOps", HC_INT, NULL, false },
	{ "IOMaximumBandwidth", HC_INT, NULL, false },
	{ "Mounts", HC_OBJ_ARRAY, NULL, true },
	{ "MaskedPaths", HC_STRV, NULL, false },
	{ "ReadonlyPaths", HC_STRV, NULL, false },
	{ "Init", HC_BOOL_OR_NULL, NULL, true },
};

const char *const daemon_masked_paths[] = {
	"/proc/asound",
	"/proc/acpi",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
	NULL,
};

const char *const daemon_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* Sets BERR_INVALID with a message of Docker's; returns -1. */
static int invalid(struct berr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *strv_json(const char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/*
 * Reading members of a HostConfig already normalized (or absent: NULL
 * reads as Docker's zero values).
 */

int64_t daemon_hc_int(const json_t *hc, const char *key)
{
	return json_integer_value(json_object_get(hc, key));
}

bool daemon_hc_bool(const json_t *hc, const char *key)
{
	return json_is_true(json_object_get(hc, key));
}

const char *daemon_hc_str(const json_t *hc, const char *key)
{
	const char *s = json_string_value(json_object_get(hc, key));

	return s ? s : "";
}

/*
 * Types.
 */

/* An array whose elements are objects; null is fine. */
static int check_obj_array(const json_t *v, const struct bjson_path *at, struct berr **err)
{
	size_t i;
	json_t *e;

	if (bjson_as_array(v, at, err) < 0)
		return -1;
	json_array_foreach (v, i, e)
		if (bjson_as_object(e, BJSON_INDEX(at, i), err) < 0)
			return -1;
	return 0;
}

static int check_member(const struct hc_member *m, const json_t *v, const struct bjson_path *at,
			struct berr **err)
{
	_cleanup_strv_ char **keys = NULL, **values = NULL, **strv = NULL;
	const char *s;
	int64_t n;
	bool b;
	size_t count;

	switch (m->kind) {
	case HC_STR:
		return bjson_as_string(v, at, &s, err);
	case HC_BOOL:
	case HC_BOOL_OR_NULL:
		return bjson_as_bool(v, at, &b, err);
	case HC_INT:
	case HC_INT_OR_NULL:
		return bjson_as_int64(v, at, INT64_MIN, INT64_MAX, &n, err);
	case HC_STRV:
		return bjson_as_strv(v, at, &strv, err);
	case HC_STRMAP:
		return bjson_as_strmap(v, at, &keys, &values, &count, err);
	case HC_OBJ_ARRAY:
		return check_obj_array(v, at, err);
	case HC_OBJECT:
		return bjson_as_object(v, at, err);
	case HC_SIZE2:
		if (bjson_as_array(v, at, err) < 0)
			return -1;
		if (json_array_size(v) != 2)
			return bjson_error(err, at, "expected [height, width]");
		for (size_t i = 0; i < 2; i++)
			if (bjson_as_int64(json_array_get(v, i), BJSON_INDEX(at, i), 0, UINT16_MAX,
					   &n, err) < 0)
				return -1;
		return 0;
	}
	return 0;
}

/* The member's value when the body gives none (or null, or ""). */
static json_t *default_of(const struct hc_member *m)
{
	switch (m->kind) {
	case HC_STR:
		return json_string(m->def ? m->def : "");
	case HC_BOOL:
		return json_false();
	case HC_INT:
		return json_integer(0);
	case HC_SIZE2:
		return json_pack("[i, i]", 0, 0);
	default:
		return json_null();
	}
}

/* The members of the objects inside HostConfig, checked one by one. */
static int check_nested(const json_t *hc, const struct bjson_path *at, struct berr **err)
{
	const struct bjson_path *lp = BJSON_KEY(at, "LogConfig");
	const struct bjson_path *rp = BJSON_KEY(at, "RestartPolicy");
	const struct bjson_path *pp = BJSON_KEY(at, "PortBindings");
	json_t *obj, *v;
	const char *key, *s;
	int64_t n;
	size_t i;
	json_t *e;

	obj = json_object_get(hc, "LogConfig");
	if (json_is_object(obj)) {
		_cleanup_strv_ char **keys = NULL, **values = NULL;
		size_t count;

		if (bjson_get_string(obj, lp, "Type", BJSON_OPTIONAL, &s, err) < 0)
			return -1;
		if (json_object_get(obj, "Config") &&
		    !json_is_null(json_object_get(obj, "Config")) &&
		    bjson_as_strmap(json_object_get(obj, "Config"), BJSON_KEY(lp, "Config"), &keys,
				    &values, &count, err) < 0)
			return -1;
	}
	obj = json_object_get(hc, "RestartPolicy");
	if (json_is_object(obj) &&
	    (bjson_get_string(obj, rp, "Name", BJSON_OPTIONAL, &s, err) < 0 ||
	     bjson_get_int64(obj, rp, "MaximumRetryCount", BJSON_OPTIONAL, INT32_MIN, INT32_MAX, &n,
			     err) < 0))
		return -1;
	obj = json_object_get(hc, "PortBindings");
	json_object_foreach (obj, key, v) {
		const struct bjson_path *kp = BJSON_KEY(pp, key);

		if (json_is_null(v))
			continue;
		if (check_obj_array(v, kp, err) < 0)
			return -1;
		json_array_foreach (v, i, e)
			if (bjson_get_string(e, BJSON_INDEX(kp, i), "HostIp", BJSON_OPTIONAL, &s,
					     err) < 0 ||
			    bjson_get_string(e, BJSON_INDEX(kp, i), "HostPort", BJSON_OPTIONAL, &s,
					     err) < 0)
				return -1;
	}
	json_array_foreach (json_object_get(hc, "Devices"), i, e) {
		const struct bjson_path *dp = BJSON_INDEX(BJSON_KEY(at, "Devices"), i);

		if (bjson_get_string(e, dp, "PathOnHost", BJSON_REQUIRED, &s, err) < 0 ||
		    bjson_get_string(e, dp, "PathInContainer", BJSON_OPTIONAL, &s, err) < 0 ||
		    bjson_get_string(e, dp, "CgroupPermissions", BJSON_OPTIONAL, &s, err) < 0)
			return -1;
	}
	json_array_foreach (json_object_get(hc, "Ulimits"), i, e) {
		const struct bjson_path *up = BJSON_INDEX(BJSON_KEY(at, "Ulimits"), i);
		_cleanup_free_ char *type = NULL;
		int64_t soft = 0, hard = 0;

		if (bjson_get_string(e, up, "Name", BJSON_REQUIRED, &s, err) < 0)
			return -1;
		type = str_printf("RLIMIT_%s", s);
		for (char *p = type; p && *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (!type || runtime_rlimit_parse(type) < 0)
			return invalid(err, "invalid ulimit type: %s", s);
		if (bjson_get_int64(e, up, "Soft", BJSON_OPTIONAL, INT64_MIN, INT64_MAX, &soft,
				    err) < 0 ||
		    bjson_get_int64(e, up, "Hard", BJSON_OPTIONAL, INT64_MIN, INT64_MAX, &hard,
				    err) < 0)
			return -1;
		if (soft > hard)
			return invalid(
				err,
				"ulimit soft limit must be less than or equal to hard limit: "
				"%lld > %lld",
				(long long)soft, (long long)hard);
		if (bjson_get_string(e, up, "Name", BJSON_REQUIRED, &s, err) < 0 ||
		    bjson_get_int64(e, up, "Soft", BJSON_OPTIONAL, INT64_MIN, INT64_MAX, &n, err) <
			    0 ||
		    bjson_get_int64(e, up, "Hard", BJSON_OPTIONAL, INT64_MIN, INT64_MAX, &n, err) <
			    0)
			return -1;
	}
	json_array_foreach (json_object_get(hc, "Mounts"), i, e) {
		const struct bjson_path *mp = BJSON_INDEX(BJSON_KEY(at, "Mounts"), i);
		bool b;

		if (bjson_get_string(e, mp, "Type", BJSON_OPTIONAL, &s, err) < 0 ||
		    bjson_get_string(e, mp, "Source", BJSON_OPTIONAL, &s, err) < 0 ||
		    bjson_get_string(e, mp, "Target", BJSON_OPTIONAL, &s, err) < 0 ||
		    bjson_get_bool(e, mp, "ReadOnly", BJSON_OPTIONAL, &b, err) < 0 ||
		    bjson_get_object(e, mp, "BindOptions", BJSON_OPTIONAL, &obj, err) < 0 ||
		    (obj && bjson_get_string(obj, BJSON_KEY(mp, "BindOptions"), "Propagation",
					     BJSON_OPTIONAL, &s, err) < 0) ||
		    bjson_get_object(e, mp, "TmpfsOptions", BJSON_OPTIONAL, &obj, err) < 0 ||
		    (obj && (bjson_get_int64(obj, BJSON_KEY(mp, "TmpfsOptions"), "SizeBytes",
					     BJSON_OPTIONAL, 0, INT64_MAX, &n, err) < 0 ||
			     bjson_get_int64(obj, BJSON_KEY(mp, "TmpfsOptions"), "Mode",
					     BJSON_OPTIONAL, 0, 07777, &n, err) < 0)))
			return -1;
	}
	return 0;
}

/*
 * Docker's validation.
 */

static int invalid(struct berr **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	berr_setv(err, BERR_INVALID, 0, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_valid_port(const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);
	char *end;
	long a, b;

	if (len == 0 || len > 11 || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	a = strtol(s, &end, 10);
	if (errno || a < 0 || a > 65535)
		return false;
	if (!dash)
		return (size_t)(end - s) == len;
	if (end != dash || !isdigit((unsigned char)dash[1]))
		return false;
	b = strtol(dash + 1, &end, 10);
	return (size_t)(end - s) == len && b >= a && b <= 65535;
}

/* "80", "80/tcp", "8000-8010/udp": Docker's nat.ParsePort and proto. */
int daemon_port_validate(const char *spec, struct berr **err)
{
	const char *slash = strchr(spec, '/');
	size_t len = slash ? (size_t)(slash - spec) : strlen(spec);

	if (!is_valid_port(spec, len))
		return invalid(err, "invalid port specification: \"%.*s\"", (int)len, spec);
	if (slash && strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0 &&
	    strcmp(slash + 1, "sctp") != 0)
		return invalid(err, "invalid proto: %s", slash + 1);
	return 0;
}

static int check_ports(const json_t *hc, struct berr **err)
{
	const char *key;
	json_t *v, *e;
	size_t i;

	json_object_foreach ((json_t *)json_object_get(hc, "PortBindings"), key, v) {
		if (daemon_port_validate(key, err) < 0)
			return -1;
		json_array_foreach (v, i, e) {
			const char *hp = json_string_value(json_object_get(e, "HostPort"));

			if (hp && *hp && !is_valid_port(hp, strlen(hp)))
				return invalid(err, "invalid port specification: \"%s\"", hp);
		}
	}
	return 0;
}

static int check_restart(json_t *hc, struct berr **err)
{
	json_t *rp = json_object_get(hc, "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name"));
	int64_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));

	if (!name)
		name = "";
	if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0) {
		if (max != 0)
			return invalid(
				err, "maximum retry count cannot be used with restart policy '%s'",
				name);
	} else if (strcmp(name, "on-failure") == 0) {
		if (max < 0)
			return invalid(err, "maximum retry count cannot be negative");
	} else if (*name && strcmp(name, "no") != 0) {
		return invalid(err, "invalid restart policy '%s'", name);
	}
	if (daemon_hc_bool(hc, "AutoRemove") && *name && strcmp(name, "no") != 0)
		return invalid(err, "can't create 'AutoRemove' container with restart policy");
	if (json_object_set_new(hc, "RestartPolicy",
				json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount",
					  (json_int_t)max)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	return 0;
}

/* "10m", "1g", "512": Docker's units.RAMInBytes. */
static int parse_size(const char *s, int64_t *out)
{
	char *end;
	double v;
	int64_t mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || !isdigit((unsigned char)s[0]))
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		mult = 1024;
		break;
	case 'm':
		mult = MIB;
		break;
	case 'g':
		mult = 1024 * MIB;
		break;
	case 't':
		mult = 1024 * 1024 * MIB;
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		if (tolower((unsigned char)*end) == 'b')
			end++;
		else if (tolower((unsigned char)*end) == 'i' &&
			 tolower((unsigned char)end[1]) == 'b')
			end += 2;
	}
	if (*end)
		return -1;
	*out = (int64_t)(v * (double)mult);
	return 0;
}

static bool is_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* json-file's options (daemon/logger/jsonfilelog's ValidateLogOpt). */
static int check_json_file_opt(const char *key, const char *value, struct berr **err)
{
	static const char *const allowed[] = { "max-file",     "max-size", "compress",	"labels",
					       "labels-regex", "env",	   "env-regex", "tag" };
	bool known = false;
	int64_t n;

	for (size_t i = 0; i < N_OF(allowed); i++)
		known |= strcmp(key, allowed[i]) == 0;
	if (!known)
		return invalid(err, "unknown log opt '%s' for json-file log driver", key);
	if (strcmp(key, "max-size") == 0 && (parse_size(value, &n) < 0 || n == 0))
		return invalid(err,
			       "invalid max-size \"%s\" for json-file log driver: want a size "
			       "such as 10m",
			       value);
	if (strcmp(key, "max-file") == 0) {
		if (!is_digits(value))
			return invalid(err,
				       "invalid max-file \"%s\" for json-file log driver: want a "
				       "number",
				       value);
		if (strtoll(value, NULL, 10) < 1)
			return invalid(err, "max-file cannot be less than 1");
	}
	if (strcmp(key, "compress") == 0 && strcmp(value, "true") != 0 &&
	    strcmp(value, "false") != 0 && strcmp(value, "1") != 0 && strcmp(value, "0") != 0)
		return invalid(err, "error parsing compress option: invalid syntax");
	return 0;
}

static int check_log_config(json_t *hc, struct berr **err)
{
	static const char *const other_drivers[] = { "local",	"syslog",    "journald", "gelf",
						     "fluentd", "awslogs",   "splunk",	 "etwlogs",
						     "gcplogs", "logentries" };
	json_t *lc = json_object_get(hc, "LogConfig");
	const char *type = json_string_value(json_object_get(lc, "Type"));
	json_t *cfg = json_object_get(lc, "Config");
	const char *key;
	json_t *v;

	if (!type || !*type)
		type = "json-file";
	if (strcmp(type, "json-file") == 0) {
		json_object_foreach (cfg, key, v)
			if (check_json_file_opt(key, json_string_value(v), err) < 0)
				return -1;
	} else if (strcmp(type, "none") == 0) {
		json_object_foreach (cfg, key, v)
			return invalid(err, "unknown log opt '%s' for none log driver", key);
	} else {
		for (size_t i = 0; i < N_OF(other_drivers); i++)
			if (strcmp(type, other_drivers[i]) == 0)
				return berr_set(err, BERR_NOT_IMPLEMENTED, 0,
						"logging driver \"%s\" is not supported: use "
						"json-file or none",
						type);
		return invalid(err, "error looking up logging plugin %s: plugin \"%s\" not found",
			       type, type);
	}
	if (json_object_set_new(
		    hc, "LogConfig",
		    json_pack("{s:s, s:o}", "Type", type, "Config",
			      json_is_object(cfg) ? json_deep_copy(cfg) : json_object())) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	return 0;
}

/* Memory, CPU, pids and blkio (verifyPlatformContainerResources). */
/* Whether SPEC is a list of cpus or memory nodes as the kernel takes it
 * ("0-3,5"), each below LIMIT (none when 0). */
static bool cpuset_valid(const char *spec, long limit)
{
	const char *p = spec;

	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p || lo < 0)
			return false;
		p = end;
		if (*p == '-') {
			hi = strtol(p + 1, &end, 10);
			if (end == p + 1 || hi < lo)
				return false;
			p = end;
		}
		if (limit > 0 && hi >= limit)
			return false;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return false;
	}
	return true;
}

/* The CPUs online (glibc reads them from sysfs at each call): asked only
 * of a container that sets a limit on them. */
static long cpus_online(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN);
}

static int check_cpuset(const json_t *hc, struct berr **err)
{
	const char *cpus = daemon_hc_str(hc, "CpusetCpus");
	const char *mems = daemon_hc_str(hc, "CpusetMems");
	long ncpu;

	if (cpus && *cpus && !cpuset_valid(cpus, 0))
		return invalid(err, "Invalid value %s for cpuset cpus", cpus);
	ncpu = cpus && *cpus ? cpus_online() : 0;
	if (cpus && *cpus && !cpuset_valid(cpus, ncpu))
		return invalid(err,
			       "Requested CPUs are not available - requested %s, available: 0-%ld",
			       cpus, ncpu - 1);
	if (mems && *mems && !cpuset_valid(mems, 0))
		return invalid(err, "Invalid value %s for cpuset mems", mems);
	return 0;
}

static int check_resources(json_t *hc, json_t *warnings, bool swap_accounting, struct berr **err)
{
	int64_t mem = daemon_hc_int(hc, "Memory"), swap = daemon_hc_int(hc, "MemorySwap");
	int64_t reservation = daemon_hc_int(hc, "MemoryReservation");
	int64_t nano = daemon_hc_int(hc, "NanoCpus"), period = daemon_hc_int(hc, "CpuPeriod");
	int64_t quota = daemon_hc_int(hc, "CpuQuota"), weight = daemon_hc_int(hc, "BlkioWeight");
	int64_t kmem = daemon_hc_int(hc, "KernelMemory"), oom = daemon_hc_int(hc, "OomScoreAdj");
	json_t *swappiness = json_object_get(hc, "MemorySwappiness");
	json_t *pids = json_object_get(hc, "PidsLimit");
	long ncpu = nano != 0 ? cpus_online() : 0;

	if (check_cpuset(hc, err) < 0)
		return -1;
	if (mem != 0 && mem < MIN_MEMORY)
		return invalid(err, "Minimum memory limit allowed is 6MB");
	if (mem > 0 && swap == 0) {
		/* Docker's default: as much swap as memory. */
		swap = swap_accounting ? mem * 2 : -1;
		if (json_object_set_new(hc, "MemorySwap", json_integer(swap)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	}
	if (mem > 0 && swap > 0 && swap < mem)
		return invalid(err, "Minimum memoryswap limit should be larger than memory limit, "
				    "see usage");
	if (mem == 0 && swap > 0)
		return invalid(err, "You should always set the Memory limit when using Memoryswap "
				    "limit, see usage");
	if (swap > 0 && !swap_accounting) {
		json_array_append_new(warnings,
				      json_string("Your kernel does not support swap limit "
						  "capabilities or the cgroup is not mounted. "
						  "Memory limited without swap."));
		json_object_set_new(hc, "MemorySwap", json_integer(-1));
	}
	if (json_is_integer(swappiness)) {
		json_int_t s = json_integer_value(swappiness);

		if (s != -1 && (s < 0 || s > 100))
			return invalid(
				err, "Invalid value: %lld, valid memory swappiness range is 0-100",
				(long long)s);
	}
	if (reservation != 0 && reservation < MIN_MEMORY)
		return invalid(err, "Minimum memory reservation allowed is 6MB");
	if (mem > 0 && reservation > 0 && mem < reservation)
		return invalid(err, "Minimum memory limit can not be less than memory reservation "
				    "limit, see usage");
	if (kmem != 0 && kmem < MIN_MEMORY)
		return invalid(err, "Minimum kernel memory limit allowed is 6MB");
	if (nano > 0 && period > 0)
		return invalid(err,
			       "Conflicting options: Nano CPUs and CPU Period cannot both be set");
	if (nano > 0 && quota > 0)
		return invalid(err,
			       "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	if (nano < 0 || (ncpu > 0 && nano > ncpu * 1000000000LL))
		return invalid(err,
			       "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
			       "available",
			       ncpu, ncpu);
	if (period != 0 && (period < 1000 || period > 1000000))
		return invalid(err, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
				    "than 1s (i.e. 1000000)");
	if (quota > 0 && quota < 1000)
		return invalid(err, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	if (weight > 0 && (weight < 10 || weight > 1000))
		return invalid(err, "Range of blkio weight is from 10 to 1000");
	if (oom < -1000 || oom > 1000)
		return invalid(err, "Invalid value %lld, range for oom score adj is [-1000, 1000]",
			       (long long)oom);
	if (daemon_hc_int(hc, "ShmSize") < 0)
		return invalid(err, "SHM size can not be less than 0");
	if (daemon_hc_int(hc, "ShmSize") == 0 &&
	    json_object_set_new(hc, "ShmSize", json_integer(DAEMON_SHM_SIZE)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	/* Docker keeps no limit as null: 0 and -1 mean unlimited. */
	if (json_is_integer(pids) && json_integer_value(pids) <= 0 &&
	    json_object_set_new(hc, "PidsLimit", json_null()) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	return 0;
}

static int check_network(const json_t *hc, struct berr **err)
{
	const char *mode = daemon_hc_str(hc, "NetworkMode");

	if (strcmp(mode, "default") == 0 || strcmp(mode, "bridge") == 0 ||
	    strcmp(mode, "none") == 0 || strcmp(mode, "host") == 0)
		return 0;
	if (!str_has_prefix(mode, "container:"))
		return berr_set(err, BERR_NOT_FOUND, 0, "network %s not found", mode);
	/* Another container's network, joined at the start: what would
	 * change that network or its files is Docker's conflict. */
	if (!mode[strlen("container:")])
		return invalid(err, "invalid network mode: %s", mode);
	if (json_object_size(json_object_get(hc, "PortBindings")) > 0 ||
	    daemon_hc_bool(hc, "PublishAllPorts"))
		return invalid(
			err, "conflicting options: port publishing and the container type network "
			     "mode");
	if (json_array_size(json_object_get(hc, "Dns")) > 0)
		return invalid(err, "conflicting options: dns and the network mode");
	if (json_array_size(json_object_get(hc, "ExtraHosts")) > 0)
		return invalid(
			err, "conflicting options: custom host-to-IP mapping and the network mode");
	if (json_array_size(json_object_get(hc, "Links")) > 0)
		return invalid(err, "conflicting options: container type network can't be used "
				    "with links. This would result in undefined behavior");
	return 0;
}

/* PidMode, IpcMode, UTSMode and CgroupnsMode: Docker's values, of which
 * berth shares the host's namespaces, and another container's PID
 * namespace (not yet its IPC one). */
static int check_namespace_modes(const json_t *hc, struct berr **err)
{
	/* What "container:X" is to each: joined at the start, not yet, or
	 * not one of its values. */
	enum {
		OTHER_NONE,
		OTHER_JOINED,
		OTHER_NOT_YET
	};
	static const struct {
		const char *key, *what;
		int other;
		const char *const valid[6];
	} modes[] = {
		{ "PidMode", "PID", OTHER_JOINED, { "", "host", NULL } },
		{ "IpcMode",
		  "IPC",
		  OTHER_NOT_YET,
		  { "", "host", "private", "shareable", "none", NULL } },
		{ "UTSMode", "UTS", OTHER_NONE, { "", "host", NULL } },
		{ "CgroupnsMode", "cgroup namespace", OTHER_NONE, { "", "host", "private", NULL } },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *mode = daemon_hc_str(hc, modes[i].key);
		bool other = str_has_prefix(mode, "container:");
		bool valid = false;

		for (size_t k = 0; modes[i].valid[k] && !valid; k++)
			valid = strcmp(mode, modes[i].valid[k]) == 0;
		if (valid ||
		    (other && modes[i].other == OTHER_JOINED && mode[strlen("container:")]))
			continue;
		if (other && modes[i].other == OTHER_NOT_YET)
			return berr_set(err, BERR_NOT_IMPLEMENTED, 0,
					"%s mode \"%s\" is not supported yet: sharing another "
					"container's namespace",
					modes[i].what, mode);
		return invalid(err, "invalid %s mode: %s", modes[i].what, mode);
	}
	return 0;
}

/* "name:ip" (ExtraHosts); *name and *ip point into a copy *buf owns. */
int daemon_extra_host_split(const char *entry, char **buf, const char **name, const char **ip,
			    struct berr **err)
{
	char *copy = strdup(entry), *colon;

	if (!copy)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "ExtraHosts");
	colon = strchr(copy, ':');
	if (!colon || colon == copy || !colon[1]) {
		free(copy);
		return invalid(err, "bad format for add-host: \"%s\"", entry);
	}
	*colon = '\0';
	*buf = copy;
	*name = copy;
	*ip = colon + 1;
	return 0;
}

static int check_hosts(const json_t *hc, struct berr **err)
{
	size_t i;
	json_t *e;

	json_array_foreach (json_object_get(hc, "ExtraHosts"), i, e) {
		_cleanup_free_ char *buf = NULL;
		const char *name, *ip;

		if (daemon_extra_host_split(json_string_value(e), &buf, &name, &ip, err) < 0)
			return -1;
	}
	return 0;
}

static int check_devices(const json_t *hc, struct berr **err)
{
	size_t i;
	json_t *e;

	json_array_foreach (json_object_get(hc, "Devices"), i, e) {
		struct daemon_device dev;

		if (daemon_device_of(e, &dev, err) < 0)
			return -1;
	}
	return 0;
}

int daemon_hostconfig_normalize(const json_t *given, json_t *warnings, json_t **out,
				struct berr **err)
{
	const struct bjson_path *at = BJSON_KEY(NULL, "HostConfig");
	_cleanup_json_ json_t *hc = json_object();
	_cleanup_json_ json_t *points = NULL, *oci = NULL;
	uint64_t caps;
	struct daemon_security sec;

	if (!hc)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	if (given && !json_is_null(given) && bjson_as_object(given, at, err) < 0)
		return -1;
	for (size_t i = 0; i < N_OF(members); i++) {
		const struct hc_member *m = &members[i];
		json_t *v = json_object_get(given, m->name);
		bool unset = !v || json_is_null(v) ||
			     (m->kind == HC_STR && json_is_string(v) && !*json_string_value(v));

		if (!unset && check_member(m, v, BJSON_KEY(at, m->name), err) < 0)
			return -1;
		if (unset && m->omit_empty)
			continue;
		if (json_object_set_new(hc, m->name, unset ? default_of(m) : json_deep_copy(v)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "HostConfig");
	}
	if (check_nested(hc, at, err) < 0)
		return -1;
	/* What berth applies of its own: Docker's masked and read-only paths
	 * for a container that is not privileged. */
	if (daemon_hc_bool(hc, "Privileged")) {
		json_object_set_new(hc, "MaskedPaths", json_null());
		json_object_set_new(hc, "ReadonlyPaths", json_null());
	} else {
		if (json_is_null(json_object_get(hc, "MaskedPaths")))
			json_object_set_new(hc, "MaskedPaths", strv_json(daemon_masked_paths));
		if (json_is_null(json_object_get(hc, "ReadonlyPaths")))
			json_object_set_new(hc, "ReadonlyPaths", strv_json(daemon_readonly_paths));
	}
	if (check_log_config(hc, err) < 0 || check_restart(hc, err) < 0 ||
	    check_resources(hc, warnings, fs_exists(DAEMON_MEMSW_FILE), err) < 0 ||
	    check_network(hc, err) < 0 || check_namespace_modes(hc, err) < 0 ||
	    check_ports(hc, err) < 0 || check_hosts(hc, err) < 0 ||
	    daemon_hostconfig_caps(hc, &caps, err) < 0 ||
	    daemon_hostconfig_security(hc, &sec, err) < 0 ||
	    daemon_hostconfig_mounts(hc, &oci, &points, err) < 0 || check_devices(hc, err) < 0)
		return -1;
	if (sec.seccomp_profile) {
		_cleanup_json_ json_t *profile = NULL;

		if (daemon_seccomp_profile_load(sec.seccomp_profile, &profile, err) < 0)
			return -1;
	}
	*out = steal_ptr(&hc);
	return 0;
}

/*
 * Capabilities.
 */

/* "net_admin", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL".  The
 * caller frees it. */
static char *cap_normalize(const char *name)
{
	bool has_prefix = strncasecmp(name, "CAP_", 4) == 0;
	char *s =
		str_printf("%s%s", has_prefix || strcasecmp(name, "ALL") == 0 ? "" : "CAP_", name);

	for (char *p = s; p && *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

uint64_t daemon_caps_host(void)
{
	uint64_t all = 0;

	for (int cap = 0; cap < 64; cap++)
		if (runtime_cap_name(cap) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			all |= (uint64_t)1 << cap;
	return all;
}

/* The capabilities of LIST (CapAdd or CapDrop) as a mask; *all tells
 * whether "ALL" was there. */
static int caps_of(const json_t *list, const char *what, uint64_t *mask, bool *all,
		   struct berr **err)
{
	size_t i;
	json_t *e;

	*mask = 0;
	*all = false;
	json_array_foreach (list, i, e) {
		_cleanup_free_ char *name = cap_normalize(json_string_value(e));
		int cap;

		if (!name)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "capabilities");
		if (strcmp(name, "ALL") == 0) {
			*all = true;
			continue;
		}
		cap = runtime_cap_parse(name);
		if (cap < 0)
			return invalid(err, "invalid %s: unknown capability: \"%s\"", what, name);
		*mask |= (uint64_t)1 << cap;
	}
	return 0;
}

int daemon_hostconfig_caps(const json_t *hc, uint64_t *out, struct berr **err)
{
	uint64_t add, drop, caps = 0;
	bool add_all, drop_all;

	if (caps_of(json_object_get(hc, "CapAdd"), "CapAdd", &add, &add_all, err) < 0 ||
	    caps_of(json_object_get(hc, "CapDrop"), "CapDrop", &drop, &drop_all, err) < 0)
		return -1;
	if (daemon_hc_bool(hc, "Privileged")) {
		*out = daemon_caps_host();
		return 0;
	}
	/* Docker's TweakCapabilities: the defaults less what is dropped,
	 * then what is added; adding ALL keeps only the drops. */
	for (size_t i = 0; daemon_default_caps[i]; i++)
		caps |= (uint64_t)1 << runtime_cap_parse(daemon_default_caps[i]);
	if (add_all) {
		caps = daemon_caps_host() & ~drop;
	} else {
		caps = drop_all ? 0 : caps & ~drop;
		caps |= add;
	}
	*out = caps;
	return 0;
}

/*
 * Security options.
 */

int daemon_hostconfig_security(const json_t *hc, struct daemon_security *out, struct berr **err)
{
	size_t i;
	json_t *e;

	*out = (struct daemon_security){ 0 };
	json_array_foreach (json_object_get(hc, "SecurityOpt"), i, e) {
		const char *opt = json_string_value(e);
		const char *sep = strchr(opt, '=');
		size_t klen;
		const char *value;

		if (strcmp(opt, "no-new-privileges") == 0) {
			out->no_new_privileges = true;
			continue;
		}
		if (strcmp(opt, "disable") == 0)
			continue;
		if (!sep)
			sep = strchr(opt, ':');
		if (!sep)
			return invalid(err, "invalid --security-opt 1: \"%s\"", opt);
		klen = (size_t)(sep - opt);
		value = sep + 1;
		if (klen == 7 && strncmp(opt, "seccomp", 7) == 0) {
			if (strcmp(value, "unconfined") == 0) {
				out->seccomp_unconfined = true;
				out->seccomp_profile = NULL;
			} else if (strcmp(value, "builtin") == 0) {
				out->seccomp_profile = NULL;
			} else {
				/* The docker CLI sends the file's content. */
				out->seccomp_unconfined = false;
				out->seccomp_profile = value;
			}
		} else if (klen == 17 && strncmp(opt, "no-new-privileges", 17) == 0) {
			if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
				out->no_new_privileges = true;
			else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
				out->no_new_privileges = false;
			else
				return invalid(err, "invalid --security-opt 2: \"%s\"", opt);
		} else if ((klen == 8 && strncmp(opt, "apparmor", 8) == 0) ||
			   (klen == 5 && strncmp(opt, "label", 5) == 0)) {
			/* Accepted as Docker does; this host has neither
			 * AppArmor nor SELinux to apply them. */
		} else {
			return invalid(err, "invalid --security-opt 2: \"%s\"", opt);
		}
	}
	return 0;
}

/*
 * Mounts: Binds, Mounts and Tmpfs.
 */

static const char *const propagations[] = { "shared", "slave",	  "private", "rshared",
					    "rslave", "rprivate", NULL };

static bool is_propagation(const char *s)
{
	for (size_t i = 0; propagations[i]; i++)
		if (strcmp(s, propagations[i]) == 0)
			return true;
	return false;
}

static int invalid_mount(struct berr **err, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int invalid_mount(struct berr **err, const char *type, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	return invalid(err, "invalid mount config for type \"%s\": %s", type, msg ? msg : "");
}

/* Appends an OCI mount and Docker's mount point for it. */
static int add_mount(json_t *oci, json_t *points, json_t *oci_mount, json_t *point,
		     struct berr **err)
{
	size_t i;
	json_t *e;
	const char *dst = json_string_value(json_object_get(oci_mount, "destination"));

	json_array_foreach (oci, i, e)
		if (dst && strcmp(json_string_value(json_object_get(e, "destination")), dst) == 0) {
			invalid(err, "Duplicate mount point: %s", dst);
			json_decref(oci_mount);
			json_decref(point);
			return -1;
		}
	if (!oci_mount || !point) {
		json_decref(oci_mount);
		json_decref(point);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mounts");
	}
	if (json_array_append_new(oci, oci_mount) < 0 || json_array_append_new(points, point) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mounts");
	return 0;
}

static json_t *bind_json(const char *src, const char *dst, bool ro, const char *prop)
{
	return json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination", dst, "type", "bind",
			 "source", src, "options", "rbind", prop, ro ? "ro" : "rw");
}

/* A volume's place in the OCI list, for the checks of destinations only:
 * the start binds the volume's directory from the document's Mounts (see
 * daemon_mounts_drop_volumes()). */
static json_t *volume_oci_json(const char *name, const char *dst)
{
	return json_pack("{s:s, s:s, s:s}", "destination", dst, "type", "volume", "source", name);
}

/* Docker's mount point of volume NAME ("": one berth names at create) at
 * DST; its Source is filled in at create. */
static json_t *volume_point_json(const char *name, const char *dst, const char *mode, bool ro)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name", name,
			 "Source", "", "Destination", dst, "Driver", VOLUME_DRIVER_LOCAL, "Mode",
			 mode, "RW", !ro, "Propagation", "");
}

void daemon_mounts_drop_volumes(json_t *oci)
{
	for (size_t i = json_array_size(oci); i-- > 0;)
		if (strcmp(json_string_value(json_object_get(json_array_get(oci, i), "type")) ?: "",
			   "volume") == 0)
			json_array_remove(oci, i);
}

static int bind_source_check(const char *type, const char *src, struct berr **err)
{
	struct stat st;

	if (src[0] != '/')
		return invalid_mount(err, type,
				     "invalid mount path: '%s' mount path must be absolute", src);
	if (stat(src, &st) < 0)
		return invalid_mount(err, type, "bind source path does not exist: %s", src);
	return 0;
}

/* Parses MODE, a Binds entry's "opts" (ro, rw, z, Z, nocopy, consistent,
 * cached, delegated and a propagation, at most one of each kind), into
 * *ro and *prop (borrowed from MODE, which it cuts).  False when it is not
 * one (volume/mounts/linux_parser.go's ValidMountMode). */
static bool parse_mode(char *mode, bool *ro, const char **prop)
{
	int rw_modes = 0, labels = 0, props = 0, copies = 0, consistencies = 0;
	char *save = NULL;

	for (char *o = strtok_r(mode, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
			*ro = strcmp(o, "ro") == 0;
			rw_modes++;
		} else if (is_propagation(o)) {
			*prop = o;
			props++;
		} else if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0) {
			labels++;
		} else if (strcmp(o, "nocopy") == 0) {
			copies++;
		} else if (strcmp(o, "consistent") == 0 || strcmp(o, "cached") == 0 ||
			   strcmp(o, "delegated") == 0) {
			consistencies++;
		} else {
			return false;
		}
	}
	return rw_modes <= 1 && labels <= 1 && props <= 1 && copies <= 1 && consistencies <= 1;
}

/* Whether TEXT is a mode parse_mode() takes. */
static bool is_mode(const char *text)
{
	_cleanup_free_ char *copy = strdup(text);
	const char *prop;
	bool ro;

	return copy && parse_mode(copy, &ro, &prop);
}

/* A Binds entry: "dst" alone (a volume berth names), "src:dst[:opts]" with
 * SRC a host path (a bind) or a volume's name (volume/mounts/
 * linux_parser.go). */
static int add_bind(json_t *oci, json_t *points, const char *spec, struct berr **err)
{
	_cleanup_free_ char *copy = strdup(spec);
	_cleanup_free_ char *mode_text = NULL;
	char *src, *dst, *mode;
	const char *prop = "rprivate", *type;
	bool ro = false;

	if (!copy)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "Binds");
	src = copy;
	dst = strchr(src, ':');
	mode = dst ? strchr(dst + 1, ':') : NULL;
	if (!dst) {
		dst = src;
		src = NULL;
	} else {
		*dst++ = '\0';
	}
	if (mode)
		*mode++ = '\0';
	mode_text = strdup(mode ? mode : "");
	if (!mode_text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "Binds");
	/* "/data:ro": a mode where the destination should be. */
	if ((src && !*src) || !*dst || (mode && strchr(mode, ':')) ||
	    (src && !mode && dst[0] != '/' && is_mode(dst)))
		return invalid(err, "invalid volume specification: '%s'", spec);
	type = src && src[0] == '/' ? "bind" : "volume";
	if (dst[0] != '/')
		return invalid(err,
			       "invalid volume specification: '%s': invalid mount config for type "
			       "\"%s\": invalid mount path: '%s' mount path must be absolute",
			       spec, type, dst);
	if (strcmp(dst, "/") == 0)
		return invalid(err,
			       "invalid volume specification: '%s': invalid mount config for type "
			       "\"%s\": invalid specification: destination can't be '/'",
			       spec, type);
	if (mode && !parse_mode(mode, &ro, &prop))
		return invalid(err, "invalid mode: %s", mode_text);
	if (!src || src[0] != '/') {
		if (src && volume_name_check(src, err) < 0)
			return -1;
		return add_mount(
			oci, points, volume_oci_json(src ? src : "", dst),
			volume_point_json(src ? src : "", dst, *mode_text ? mode_text : "z", ro),
			err);
	}
	if (bind_source_check("bind", src, err) < 0)
		return -1;
	return add_mount(oci, points, bind_json(src, dst, ro, prop),
			 json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", src,
				   "Destination", dst, "Mode", mode_text, "RW", !ro, "Propagation",
				   prop),
			 err);
}

/* Docker's tmpfs options: noexec, nosuid and nodev unless the caller says
 * otherwise, then the caller's ("rw,size=64m"). */
static json_t *tmpfs_json(const char *dst, const char *opts, int64_t size, int64_t mode)
{
	_cleanup_json_ json_t *o = json_pack("[s, s, s]", "nosuid", "nodev", "noexec");
	_cleanup_free_ char *copy = strdup(opts ? opts : "");
	char *save = NULL;

	if (!o || !copy)
		return NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "exec") == 0 || strcmp(t, "suid") == 0 || strcmp(t, "dev") == 0) {
			/* Drop the default it overrides. */
			char neg[8];
			size_t i;
			json_t *e;

			snprintf(neg, sizeof(neg), "no%s", t);
			json_array_foreach (o, i, e)
				if (strcmp(json_string_value(e), neg) == 0) {
					json_array_remove(o, i);
					break;
				}
		}
		if (json_array_append_new(o, json_string(t)) < 0)
			return NULL;
	}
	if (size > 0 && json_array_append_new(o, json_sprintf("size=%lld", (long long)size)) < 0)
		return NULL;
	if (mode > 0 && json_array_append_new(o, json_sprintf("mode=%llo", (long long)mode)) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:O}", "destination", dst, "type", "tmpfs", "source",
			 "tmpfs", "options", o);
}

static int add_api_mount(json_t *oci, json_t *points, const json_t *m, struct berr **err)
{
	const char *type = json_string_value(json_object_get(m, "Type"));
	const char *src = json_string_value(json_object_get(m, "Source"));
	const char *dst = json_string_value(json_object_get(m, "Target"));
	bool ro = json_is_true(json_object_get(m, "ReadOnly"));
	json_t *tmpfs = json_object_get(m, "TmpfsOptions");

	if (!type || !*type)
		type = "";
	if (strcmp(type, "bind") != 0 && strcmp(type, "tmpfs") != 0 &&
	    strcmp(type, "volume") != 0) {
		if (strcmp(type, "npipe") == 0)
			return berr_set(err, BERR_NOT_IMPLEMENTED, 0,
					"invalid mount config for type \"%s\": not supported yet",
					type);
		return invalid_mount(err, type, "mount type unknown");
	}
	if (!dst || !*dst)
		return invalid_mount(err, type, "field Target must not be empty");
	if (dst[0] != '/')
		return invalid_mount(err, type,
				     "invalid mount path: '%s' mount path must be absolute", dst);
	if (strcmp(type, "volume") == 0) {
		if (json_object_get(m, "BindOptions"))
			return invalid_mount(err, type, "field BindOptions must not be specified");
		if (tmpfs)
			return invalid_mount(err, type, "field TmpfsOptions must not be specified");
		if (src && *src && volume_name_check(src, err) < 0)
			return -1;
		/* Docker's Mode of every --mount volume. */
		return add_mount(oci, points, volume_oci_json(src ? src : "", dst),
				 volume_point_json(src ? src : "", dst, "z", ro), err);
	}
	if (strcmp(type, "tmpfs") == 0) {
		if (src && *src)
			return invalid_mount(err, type, "field Source must not be specified");
		return add_mount(oci, points,
				 tmpfs_json(dst, ro ? "ro" : NULL,
					    json_integer_value(json_object_get(tmpfs, "SizeBytes")),
					    json_integer_value(json_object_get(tmpfs, "Mode"))),
				 json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "tmpfs",
					   "Source", "", "Destination", dst, "Mode", "", "RW", !ro,
					   "Propagation", ""),
				 err);
	}
	{
		const char *prop = json_string_value(
			json_object_get(json_object_get(m, "BindOptions"), "Propagation"));

		if (!src || !*src)
			return invalid_mount(err, type, "field Source must not be empty");
		if (prop && *prop && !is_propagation(prop))
			return invalid_mount(err, type, "invalid propagation mode: %s", prop);
		if (!prop || !*prop)
			prop = "rprivate";
		if (bind_source_check(type, src, err) < 0)
			return -1;
		return add_mount(oci, points, bind_json(src, dst, ro, prop),
				 json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind",
					   "Source", src, "Destination", dst, "Mode", "", "RW", !ro,
					   "Propagation", prop),
				 err);
	}
}

int daemon_hostconfig_mounts(const json_t *hc, json_t **oci_out, json_t **points_out,
			     struct berr **err)
{
	_cleanup_json_ json_t *oci = json_array();
	_cleanup_json_ json_t *points = json_array();
	const char *key;
	size_t i;
	json_t *e;

	if (!oci || !points)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mounts");
	json_array_foreach (json_object_get(hc, "Binds"), i, e)
		if (add_bind(oci, points, json_string_value(e), err) < 0)
			return -1;
	json_array_foreach (json_object_get(hc, "Mounts"), i, e)
		if (add_api_mount(oci, points, e, err) < 0)
			return -1;
	json_object_foreach ((json_t *)json_object_get(hc, "Tmpfs"), key, e) {
		if (key[0] != '/')
			return invalid(err, "invalid mount path: '%s' mount path must be absolute",
				       key);
		/* Docker lists Tmpfs mounts in the spec, not in Mounts. */
		{
			json_t *t = tmpfs_json(key, json_string_value(e), 0, 0);
			size_t j;
			json_t *x;

			json_array_foreach (oci, j, x)
				if (strcmp(json_string_value(json_object_get(x, "destination")),
					   key) == 0) {
					json_decref(t);
					return invalid(err, "Duplicate mount point: %s", key);
				}
			if (!t || json_array_append_new(oci, t) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "mounts");
		}
	}
	*oci_out = steal_ptr(&oci);
	*points_out = steal_ptr(&points);
	return 0;
}

/*
 * VolumesFrom.
 */

static bool has_destination(const json_t *arr, const char *key, const char *dst)
{
	size_t i;
	json_t *e;

	json_array_foreach (arr, i, e) {
		const char *d = json_string_value(json_object_get(e, key));

		if (d && strcmp(d, dst) == 0)
			return true;
	}
	return false;
}

/* Whether the LEN bytes at P are WORD. */
static bool word_is(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(p, word, len) == 0;
}

/* "container[:mode]" (volume/mounts's ParseVolumesFrom): a mode of at most
 * one of ro and rw, one of z and Z and one consistency, neither a
 * propagation nor nocopy.  *name is a new string; *rw false for "ro". */
static int parse_volumes_from(const char *spec, char **name, bool *rw, struct berr **err)
{
	const char *colon = strchr(spec, ':');
	int n_rw = 0, n_label = 0, n_consistency = 0;
	bool bad = false;

	if (!*spec)
		return invalid(err, "volumes-from specification cannot be an empty string");
	*rw = true;
	for (const char *p = colon && colon[1] ? colon + 1 : NULL; p;) {
		size_t len = strcspn(p, ",");

		if (word_is(p, len, "ro") || word_is(p, len, "rw")) {
			n_rw++;
			*rw = word_is(p, len, "rw");
		} else if (word_is(p, len, "z") || word_is(p, len, "Z")) {
			n_label++;
		} else if (word_is(p, len, "consistent") || word_is(p, len, "cached") ||
			   word_is(p, len, "delegated")) {
			n_consistency++;
		} else {
			bad = true;
		}
		p = p[len] ? p + len + 1 : NULL;
	}
	if (bad || n_rw > 1 || n_label > 1 || n_consistency > 1)
		return invalid(err, "invalid mode: %s", colon + 1);
	*name = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec);
	if (!*name)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "VolumesFrom");
	return 0;
}

int daemon_volumes_from(struct daemon *d, const json_t *hc, const json_t *oci, json_t *points,
			struct berr **err)
{
	_cleanup_json_ json_t *taken = json_object();
	const char *dst;
	size_t i, j;
	json_t *e, *m;

	if (!taken)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "VolumesFrom");
	json_array_foreach (json_object_get(hc, "VolumesFrom"), i, e) {
		_cleanup_(daemon_container_free_cleanup) struct daemon_container *src = NULL;
		_cleanup_free_ char *name = NULL;
		bool rw = true;

		if (parse_volumes_from(json_string_value(e) ?: "", &name, &rw, err) < 0 ||
		    daemon_container_lookup(d, name, &src, err) < 0)
			return -1;
		/* What the source has, binds and what it took from others
		 * alike; a later source wins a destination, as in Docker. */
		json_array_foreach (json_object_get(src->doc, "Mounts"), j, m) {
			const char *type = json_string_value(json_object_get(m, "Type"));
			const char *source = json_string_value(json_object_get(m, "Source"));
			json_t *copy;

			dst = json_string_value(json_object_get(m, "Destination"));
			/* A tmpfs has nothing to share. */
			if (!dst || !source || !*source || (type && strcmp(type, "tmpfs") == 0))
				continue;
			/* Docker copies neither the mode text nor the
			 * propagation's absence. */
			copy = json_pack(
				"{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type ? type : "bind",
				"Source", source, "Destination", dst, "Mode", "", "RW",
				rw && json_is_true(json_object_get(m, "RW")), "Propagation",
				json_string_value(json_object_get(m, "Propagation")) ?: "");
			/* A volume's name and driver come along. */
			if (copy && type && strcmp(type, "volume") == 0) {
				json_object_set(copy, "Name", json_object_get(m, "Name"));
				json_object_set(copy, "Driver", json_object_get(m, "Driver"));
			}
			if (!copy || json_object_set_new(taken, dst, copy) < 0)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "VolumesFrom");
		}
	}
	/* The container's own binds and mounts win. */
	json_object_foreach (taken, dst, m)
		if (!has_destination(oci, "destination", dst) && json_array_append(points, m) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "VolumesFrom");
	return 0;
}

int daemon_mounts_inherited(json_t *oci, const json_t *points, struct berr **err)
{
	size_t i;
	json_t *m;

	json_array_foreach (points, i, m) {
		const char *src = json_string_value(json_object_get(m, "Source"));
		const char *dst = json_string_value(json_object_get(m, "Destination"));
		const char *prop = json_string_value(json_object_get(m, "Propagation"));

		if (!src || !*src || !dst || has_destination(oci, "destination", dst))
			continue;
		if (json_array_append_new(oci, bind_json(src, dst,
							 !json_is_true(json_object_get(m, "RW")),
							 prop && *prop ? prop : "rprivate")) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "mounts");
	}
	return 0;
}

/*
 * Devices.
 */

int daemon_device_of(const json_t *d, struct daemon_device *out, struct berr **err)
{
	const char *host = json_string_value(json_object_get(d, "PathOnHost"));
	const char *in = json_string_value(json_object_get(d, "PathInContainer"));
	const char *perms = json_string_value(json_object_get(d, "CgroupPermissions"));
	struct stat st;

	if (!host || !*host)
		return invalid(err, "device: PathOnHost is empty");
	if (!in || !*in)
		in = host;
	if (!perms || !*perms)
		perms = "rwm";
	if (in[0] != '/')
		return invalid(err, "%s is not an absolute path", in);
	if (strlen(perms) > 3 || strspn(perms, "rwm") != strlen(perms))
		return invalid(err, "invalid device mode: %s", perms);
	if (stat(host, &st) < 0)
		return berr_set(err, BERR_INVALID, errno,
				"error gathering device information while adding custom device "
				"\"%s\"",
				host);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return invalid(err,
			       "error gathering device information while adding custom device "
			       "\"%s\": not a device node",
			       host);
	out->path_in_container = in;
	out->permissions = perms;
	out->type = S_ISCHR(st.st_mode) ? 'c' : 'b';
	out->major = major(st.st_rdev);
	out->minor = minor(st.st_rdev);
	out->mode = st.st_mode & 07777;
	return 0;
}
