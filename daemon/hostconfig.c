/* Docker's HostConfig: what a create takes (checked, with Docker's
 * messages, over the defaults of the document) and what it makes of the
 * OCI config (resources, capabilities, read-only root, binds, tmpfs,
 * ulimits, init, host network, terminal). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"

const char *const daemon_all_caps[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
	NULL,
};

/* Docker's smallest memory limit. */
#define MEMORY_MIN	   (6 * 1024 * 1024)
#define CPU_PERIOD_DEFAULT 100000

/* The members a create may set, with the JSON type each must have. */
static const struct {
	const char *name;
	json_type type;
} members[] = {
	{ "Binds", JSON_ARRAY },
	{ "LogConfig", JSON_OBJECT },
	{ "NetworkMode", JSON_STRING },
	{ "PortBindings", JSON_OBJECT },
	{ "RestartPolicy", JSON_OBJECT },
	{ "AutoRemove", JSON_TRUE },
	{ "CapAdd", JSON_ARRAY },
	{ "CapDrop", JSON_ARRAY },
	{ "Dns", JSON_ARRAY },
	{ "DnsOptions", JSON_ARRAY },
	{ "DnsSearch", JSON_ARRAY },
	{ "ExtraHosts", JSON_ARRAY },
	{ "GroupAdd", JSON_ARRAY },
	{ "OomScoreAdj", JSON_INTEGER },
	{ "Privileged", JSON_TRUE },
	{ "ReadonlyRootfs", JSON_TRUE },
	{ "SecurityOpt", JSON_ARRAY },
	{ "Tmpfs", JSON_OBJECT },
	{ "ShmSize", JSON_INTEGER },
	{ "CpuShares", JSON_INTEGER },
	{ "Memory", JSON_INTEGER },
	{ "NanoCpus", JSON_INTEGER },
	{ "CpuPeriod", JSON_INTEGER },
	{ "CpuQuota", JSON_INTEGER },
	{ "CpusetCpus", JSON_STRING },
	{ "CpusetMems", JSON_STRING },
	{ "Devices", JSON_ARRAY },
	{ "MemoryReservation", JSON_INTEGER },
	{ "MemorySwap", JSON_INTEGER },
	{ "OomKillDisable", JSON_TRUE },
	{ "PidsLimit", JSON_INTEGER },
	{ "Ulimits", JSON_ARRAY },
	{ "Init", JSON_TRUE },
	{ "Sysctls", JSON_OBJECT },
	{ "BlkioWeight", JSON_INTEGER },
};

/* Whether V has type T (JSON_TRUE stands for a boolean; null is fine for
 * every member, as Go decodes it to the zero value). */
static bool type_ok(const json_t *v, json_type t)
{
	if (!v || json_is_null(v))
		return true;
	if (t == JSON_TRUE)
		return json_is_boolean(v);
	return json_typeof(v) == t;
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a number";
	default:
		return "a boolean";
	}
}

static int64_t int_of(const json_t *hc, const char *key)
{
	return json_integer_value(json_object_get(hc, key));
}

static int check_restart(const json_t *hc, struct berr **err)
{
	const json_t *rp = json_object_get(hc, "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name"));
	int64_t max = int_of(rp, "MaximumRetryCount");

	if (!name || !*name || strcmp(name, "no") == 0)
		return max ? berr_set(err, BERR_INVALID, 0,
				      "invalid restart policy: maximum retry count can only be "
				      "used with 'on-failure'")
			   : 0;
	if (strcmp(name, "always") != 0 && strcmp(name, "unless-stopped") != 0 &&
	    strcmp(name, "on-failure") != 0)
		return berr_set(err, BERR_INVALID, 0, "invalid restart policy: unknown policy '%s'",
				name);
	if (max < 0)
		return berr_set(err, BERR_INVALID, 0,
				"invalid restart policy: maximum retry count cannot be negative");
	if (max && strcmp(name, "on-failure") != 0)
		return berr_set(err, BERR_INVALID, 0,
				"invalid restart policy: maximum retry count can only be used "
				"with 'on-failure'");
	if (json_is_true(json_object_get(hc, "AutoRemove")))
		return berr_set(err, BERR_INVALID, 0,
				"can't create 'AutoRemove' container with restart policy");
	return 0;
}

static int check_binds(const json_t *binds, struct berr **err)
{
	size_t i;
	json_t *v;

	json_array_foreach (binds, i, v) {
		const char *b = json_string_value(v);
		_cleanup_free_ char *src = NULL;
		const char *colon;
		struct stat st;

		if (!b)
			return berr_set(err, BERR_INVALID, 0, "HostConfig.Binds: expected strings");
		colon = strchr(b, ':');
		if (!colon || b[0] != '/' || colon[1] != '/')
			return berr_set(err, BERR_INVALID, 0, "invalid volume specification: '%s'",
					b);
		src = strndup(b, (size_t)(colon - b));
		if (!src)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "binds");
		if (stat(src, &st) < 0)
			return berr_set(err, BERR_INVALID, 0,
					"invalid mount config for type \"bind\": bind source path "
					"does not exist: %s",
					src);
	}
	return 0;
}

int daemon_host_config_merge(json_t *hc, const json_t *given, struct berr **err)
{
	const char *key;
	json_t *v;

	if (!given || json_is_null(given))
		return 0;
	if (!json_is_object(given))
		return berr_set(err, BERR_INVALID, 0, "HostConfig: expected an object");
	json_object_foreach ((json_t *)given, key, v) {
		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
			if (strcmp(members[i].name, key) != 0)
				continue;
			if (!type_ok(v, members[i].type))
				return berr_set(err, BERR_INVALID, 0,
						"json: cannot unmarshal HostConfig.%s: expected %s",
						key, type_name(members[i].type));
			if (!json_is_null(v))
				json_object_set(hc, key, v);
		}
	}
	if (int_of(hc, "Memory") && int_of(hc, "Memory") < MEMORY_MIN)
		return berr_set(err, BERR_INVALID, 0, "Minimum memory limit allowed is 6MB");
	if (int_of(hc, "NanoCpus") && (int_of(hc, "CpuQuota") || int_of(hc, "CpuPeriod")))
		return berr_set(err, BERR_INVALID, 0,
				"Conflicting options: Nano CPUs and CPU Period cannot both be set");
	if (check_restart(hc, err) < 0 || check_binds(json_object_get(hc, "Binds"), err) < 0)
		return -1;
	return 0;
}

/*
 * The OCI config.
 */

static json_t *obj_at(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(parent, key, o);
	}
	return o;
}

/* "NET_ADMIN" or "CAP_NET_ADMIN" as "CAP_NET_ADMIN". */
static char *cap_name(const char *c)
{
	char *out = strncasecmp(c, "CAP_", 4) == 0 ? strdup(c) : str_printf("CAP_%s", c);

	for (char *p = out; p && *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return out;
}

static bool list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (list, i, v)
		if (json_string_value(v) && strcasecmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* The capability sets after CapAdd and CapDrop (and "ALL"). */
static void apply_caps(json_t *caps, const json_t *hc, const char *const *all)
{
	const json_t *add = json_object_get(hc, "CapAdd");
	const json_t *drop = json_object_get(hc, "CapDrop");
	const char *sets[] = { "bounding", "effective", "permitted" };
	bool privileged = json_is_true(json_object_get(hc, "Privileged"));

	for (size_t s = 0; s < 3; s++) {
		json_t *list = json_object_get(caps, sets[s]);
		size_t i;
		json_t *v;

		if (!list)
			continue;
		if (privileged || list_has(add, "ALL")) {
			json_array_clear(list);
			for (size_t k = 0; all[k]; k++)
				json_array_append_new(list, json_string(all[k]));
		} else {
			json_array_foreach (add, i, v) {
				_cleanup_free_ char *name = cap_name(json_string_value(v));

				if (name && !list_has(list, name))
					json_array_append_new(list, json_string(name));
			}
		}
		if (list_has(drop, "ALL")) {
			json_array_clear(list);
			json_array_foreach (add, i, v) {
				_cleanup_free_ char *name = cap_name(json_string_value(v));

				if (name && strcmp(name, "CAP_ALL") != 0)
					json_array_append_new(list, json_string(name));
			}
			continue;
		}
		json_array_foreach (drop, i, v) {
			_cleanup_free_ char *name = cap_name(json_string_value(v));

			for (size_t k = 0; name && k < json_array_size(list); k++)
				if (strcmp(json_string_value(json_array_get(list, k)), name) == 0)
					json_array_remove(list, k--);
		}
	}
}

static void apply_resources(json_t *lnx, const json_t *hc)
{
	json_t *res = obj_at(lnx, "resources");
	int64_t memory = int_of(hc, "Memory"), swap = int_of(hc, "MemorySwap");
	int64_t nano = int_of(hc, "NanoCpus"), quota = int_of(hc, "CpuQuota");
	int64_t period = int_of(hc, "CpuPeriod"), shares = int_of(hc, "CpuShares");
	int64_t pids = int_of(hc, "PidsLimit"), reservation = int_of(hc, "MemoryReservation");
	const char *cpus = json_string_value(json_object_get(hc, "CpusetCpus"));
	const char *mems = json_string_value(json_object_get(hc, "CpusetMems"));

	if (memory > 0) {
		json_t *mem = obj_at(res, "memory");

		json_object_set_new(mem, "limit", json_integer(memory));
		/* Docker's default swap is as much again as the memory. */
		json_object_set_new(mem, "swap",
				    json_integer(swap == 0  ? 2 * memory
						 : swap < 0 ? -1
							    : swap));
	}
	if (reservation > 0)
		json_object_set_new(obj_at(res, "memory"), "reservation",
				    json_integer(reservation));
	if (json_is_true(json_object_get(hc, "OomKillDisable")))
		json_object_set_new(obj_at(res, "memory"), "disableOOMKiller", json_true());
	if (nano > 0) {
		period = CPU_PERIOD_DEFAULT;
		quota = nano * CPU_PERIOD_DEFAULT / 1000000000;
	}
	if (quota > 0)
		json_object_set_new(obj_at(res, "cpu"), "quota", json_integer(quota));
	if (period > 0)
		json_object_set_new(obj_at(res, "cpu"), "period", json_integer(period));
	if (shares > 0)
		json_object_set_new(obj_at(res, "cpu"), "shares", json_integer(shares));
	if (cpus && *cpus)
		json_object_set_new(obj_at(res, "cpu"), "cpus", json_string(cpus));
	if (mems && *mems)
		json_object_set_new(obj_at(res, "cpu"), "mems", json_string(mems));
	if (pids > 0)
		json_object_set_new(obj_at(res, "pids"), "limit", json_integer(pids));
}

static int apply_mounts(json_t *mounts, const json_t *hc, const char *init_path)
{
	const json_t *binds = json_object_get(hc, "Binds");
	const json_t *tmpfs = json_object_get(hc, "Tmpfs");
	const char *dst;
	size_t i;
	json_t *v;

	json_array_foreach (binds, i, v) {
		_cleanup_strv_ char **parts = NULL;
		char *copy = strdup(json_string_value(v)), *save = NULL;
		bool ro = false;

		for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p;
		     p = strtok_r(NULL, ":", &save))
			strv_append(&parts, p);
		free(copy);
		if (strv_length(parts) < 2)
			continue;
		if (parts[2])
			ro = strstr(parts[2], "ro") != NULL;
		json_array_append_new(mounts,
				      json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination",
						parts[1], "type", "bind", "source", parts[0],
						"options", "rbind", "rprivate", ro ? "ro" : "rw"));
	}
	json_object_foreach ((json_t *)tmpfs, dst, v) {
		json_t *opts = json_pack("[s, s, s]", "nosuid", "nodev", "noexec");
		_cleanup_free_ char *text =
			strdup(json_string_value(v) ? json_string_value(v) : "");
		char *save = NULL;

		for (char *o = text ? strtok_r(text, ",", &save) : NULL; o;
		     o = strtok_r(NULL, ",", &save))
			json_array_append_new(opts, json_string(o));
		json_array_append_new(mounts,
				      json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type",
						"tmpfs", "source", "tmpfs", "options", opts));
	}
	if (json_is_true(json_object_get(hc, "Init")) && init_path)
		json_array_append_new(mounts,
				      json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination",
						DAEMON_INIT_PATH, "type", "bind", "source",
						init_path, "options", "bind", "ro", "rprivate"));
	return 0;
}

/* "nofile" as "RLIMIT_NOFILE", into BUF. */
static const char *rlimit_name(const char *docker, char buf[64])
{
	snprintf(buf, 64, "RLIMIT_%s", docker ? docker : "");
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return buf;
}

int daemon_spec_apply_host(json_t *spec, const json_t *doc, const char *init_path,
			   struct berr **err)
{
	const json_t *hc = json_object_get(doc, "HostConfig");
	const json_t *config = json_object_get(doc, "Config");
	json_t *process = json_object_get(spec, "process");
	json_t *lnx = json_object_get(spec, "linux");
	const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
	const json_t *ulimits = json_object_get(hc, "Ulimits");
	const json_t *secopt = json_object_get(hc, "SecurityOpt");
	size_t i;
	json_t *v;

	json_object_set_new(process, "terminal",
			    json_boolean(json_is_true(json_object_get(config, "Tty"))));
	if (json_is_true(json_object_get(hc, "ReadonlyRootfs")))
		json_object_set_new(json_object_get(spec, "root"), "readonly", json_true());
	if (json_is_integer(json_object_get(hc, "OomScoreAdj")))
		json_object_set(process, "oomScoreAdj", json_object_get(hc, "OomScoreAdj"));
	apply_caps(json_object_get(process, "capabilities"), hc, daemon_all_caps);
	apply_resources(lnx, hc);
	apply_mounts(json_object_get(spec, "mounts"), hc, init_path);
	if (json_is_true(json_object_get(hc, "Privileged"))) {
		json_object_del(lnx, "maskedPaths");
		json_object_del(lnx, "readonlyPaths");
		json_object_set_new(obj_at(lnx, "resources"), "devices",
				    json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm"));
	}
	if (net && strcmp(net, "host") == 0) {
		json_t *ns = json_object_get(lnx, "namespaces");

		for (size_t k = 0; k < json_array_size(ns); k++)
			if (strcmp(json_string_value(
					   json_object_get(json_array_get(ns, k), "type")),
				   "network") == 0)
				json_array_remove(ns, k--);
		json_object_del(lnx, "sysctl");
	}
	json_array_foreach (ulimits, i, v) {
		json_t *rl = json_object_get(process, "rlimits");
		char name[64];

		if (!json_is_array(rl)) {
			rl = json_array();
			json_object_set_new(process, "rlimits", rl);
		}
		json_array_append_new(
			rl,
			json_pack("{s:s, s:I, s:I}", "type",
				  rlimit_name(json_string_value(json_object_get(v, "Name")), name),
				  "soft", json_integer_value(json_object_get(v, "Soft")), "hard",
				  json_integer_value(json_object_get(v, "Hard"))));
	}
	json_array_foreach (secopt, i, v) {
		const char *o = json_string_value(v);

		if (o && (strcmp(o, "no-new-privileges") == 0 ||
			  strcmp(o, "no-new-privileges:true") == 0 ||
			  strcmp(o, "no-new-privileges=true") == 0))
			json_object_set_new(process, "noNewPrivileges", json_true());
	}
	if (json_is_true(json_object_get(hc, "Init")) && init_path) {
		json_t *args = json_pack("[s, s]", DAEMON_INIT_PATH, "--");

		if (!args || json_array_extend(args, json_object_get(process, "args")) < 0) {
			json_decref(args);
			return berr_set(err, BERR_INTERNAL, ENOMEM, "init");
		}
		json_object_set_new(process, "args", args);
	}
	return 0;
}
