/* The flags of run and create beyond the basic ones: ports, restart
 * policy, labels, env and label files, ulimits, the health check, stop
 * signal and timeout, hosts, DNS, devices, resources, mounts, volumes-from
 * and links, each checked as the docker CLI checks it (its message, exit
 * status 125, nothing sent) and turned into the members of the Engine
 * API's create body. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/berth/cli.h"
#include "lib/json.h"
#include "lib/fsutil.h"

/* docker's status for a command line it does not take. */
#define RUN_ERROR_STATUS 125

enum {
	M_RESTART = 512,
	M_LABEL_FILE,
	M_ENV_FILE,
	M_ULIMIT,
	M_HEALTH_CMD,
	M_HEALTH_INTERVAL,
	M_HEALTH_RETRIES,
	M_HEALTH_TIMEOUT,
	M_HEALTH_START_PERIOD,
	M_NO_HEALTHCHECK,
	M_STOP_SIGNAL,
	M_STOP_TIMEOUT,
	M_ADD_HOST,
	M_DNS,
	M_DEVICE,
	M_PIDS_LIMIT,
	M_CPUSET_CPUS,
	M_CPUS,
	M_MEMORY_SWAP,
	M_OOM_KILL_DISABLE,
	M_MOUNT,
	M_VOLUMES_FROM,
	M_LINK,
	M_CGROUPNS,
	M_IPC,
	M_PID,
	M_UTS,
};

const struct option create_more_opts[] = {
	{ "publish", required_argument, NULL, 'p' },
	{ "publish-all", no_argument, NULL, 'P' },
	{ "label", required_argument, NULL, 'l' },
	{ "cpu-shares", required_argument, NULL, 'c' },
	{ "restart", required_argument, NULL, M_RESTART },
	{ "label-file", required_argument, NULL, M_LABEL_FILE },
	{ "env-file", required_argument, NULL, M_ENV_FILE },
	{ "ulimit", required_argument, NULL, M_ULIMIT },
	{ "health-cmd", required_argument, NULL, M_HEALTH_CMD },
	{ "health-interval", required_argument, NULL, M_HEALTH_INTERVAL },
	{ "health-retries", required_argument, NULL, M_HEALTH_RETRIES },
	{ "health-timeout", required_argument, NULL, M_HEALTH_TIMEOUT },
	{ "health-start-period", required_argument, NULL, M_HEALTH_START_PERIOD },
	{ "no-healthcheck", no_argument, NULL, M_NO_HEALTHCHECK },
	{ "stop-signal", required_argument, NULL, M_STOP_SIGNAL },
	{ "stop-timeout", required_argument, NULL, M_STOP_TIMEOUT },
	{ "add-host", required_argument, NULL, M_ADD_HOST },
	{ "dns", required_argument, NULL, M_DNS },
	{ "device", required_argument, NULL, M_DEVICE },
	{ "pids-limit", required_argument, NULL, M_PIDS_LIMIT },
	{ "cpuset-cpus", required_argument, NULL, M_CPUSET_CPUS },
	{ "cpus", required_argument, NULL, M_CPUS },
	{ "memory-swap", required_argument, NULL, M_MEMORY_SWAP },
	{ "oom-kill-disable", no_argument, NULL, M_OOM_KILL_DISABLE },
	{ "mount", required_argument, NULL, M_MOUNT },
	{ "volumes-from", required_argument, NULL, M_VOLUMES_FROM },
	{ "link", required_argument, NULL, M_LINK },
	{ "cgroupns", required_argument, NULL, M_CGROUPNS },
	{ "ipc", required_argument, NULL, M_IPC },
	{ "pid", required_argument, NULL, M_PID },
	{ "uts", required_argument, NULL, M_UTS },
	{ NULL, 0, NULL, 0 },
};

/*
 * docker's messages: a value its flag type refuses, and a check after.
 */

static int flag_error(const char *command, const char *flag, const char *value, const char *fmt,
		      const char *arg)
{
	fprintf(stderr, "invalid argument \"%s\" for \"%s\" flag: ", value, flag);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	cli_usage_tail(command, "Run");
	return RUN_ERROR_STATUS;
}

static int check_error(const char *command, const char *fmt, const char *arg)
{
	fprintf(stderr, "berth: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\nRun 'berth %s --help' for more information\n", command);
	return RUN_ERROR_STATUS;
}

static int parse_error_int(const char *command, const char *flag, const char *value)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": invalid syntax", value);
	return flag_error(command, flag, value, "%s", msg);
}

static bool parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return *s && !*end && errno == 0;
}

/* units.RAMInBytes: "64m", "1g", "1048576", "1.5GB"; WHY gets docker's
 * message for another value. */
static int ram_in_bytes(const char *s, int64_t *out, char *why, size_t why_size)
{
	static const char units[] = "bkmgtp";
	const char *u = NULL;
	char *end;
	double v;
	size_t len;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || !(*s >= '0' && *s <= '9')) {
		snprintf(why, why_size, "invalid size: '%s'", s);
		return -1;
	}
	len = strlen(end);
	if (len > 2 || (len == 2 && tolower((unsigned char)end[1]) != 'b') ||
	    (len && !(u = strchr(units, tolower((unsigned char)end[0]))))) {
		snprintf(why, why_size, "invalid suffix: '%s'", end);
		return -1;
	}
	for (long i = 0; u && i < (u - units); i++)
		v *= 1024;
	*out = (int64_t)v;
	return 0;
}

/* Go's time.ParseDuration, in nanoseconds. */
static int parse_duration(const char *s, int64_t *ns, const char **why)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{ "ns", 1 },  { "us", 1e3 }, { "µs", 1e3 },   { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	const char *p = s;
	double total = 0;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (!*p) {
		*why = "time: invalid duration \"%s\"";
		return -1;
	}
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		size_t best = 0, k = 0;

		if (end == p || *p == '-' || *p == '+') {
			*why = "time: invalid duration \"%s\"";
			return -1;
		}
		p = end;
		if (!*p || (*p >= '0' && *p <= '9')) {
			*why = "time: missing unit in duration \"%s\"";
			return -1;
		}
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, n) == 0 && n > best)
				best = n, k = i;
		}
		if (!best) {
			*why = "time: unknown unit in duration \"%s\"";
			return -1;
		}
		total += v * units[k].ns;
		p += best;
	}
	*ns = (int64_t)(neg ? -total : total);
	return 0;
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * The members, kept in F's config and host objects until create_body
 * merges them.
 */

static json_t *member(json_t *obj, const char *key, json_type type)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		v = type == JSON_ARRAY ? json_array() : json_object();
		if (json_object_set_new(obj, key, v) < 0)
			return NULL;
	}
	return v;
}

static int push(json_t *obj, const char *key, json_t *value)
{
	json_t *arr = member(obj, key, JSON_ARRAY);

	return arr && json_array_append_new(arr, value) == 0 ? 0 : -1;
}

static int add_label(struct create_flags *f, const char *kv)
{
	json_t *labels = member(f->more_config, "Labels", JSON_OBJECT);
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *key = eq ? strndup(kv, (size_t)(eq - kv)) : strdup(kv);

	if (!labels || !key)
		return -1;
	return json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
}

/* Reads the lines of an env or label file (docker skips empty lines and
 * comments) into EACH. */
static int read_lines(const char *command, const char *path, struct create_flags *f,
		      int (*each)(struct create_flags *f, const char *line))
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!in) {
		char msg[512];

		snprintf(msg, sizeof(msg), "open %s: %s", path, strerror(errno));
		for (char *p = msg; *p; p++)
			if (p == msg + strlen("open ") + strlen(path) + 2)
				*p = (char)tolower((unsigned char)*p);
		return check_error(command, "%s", msg);
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		char *s = line;

		while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		if (each(f, s) < 0) {
			rc = RUN_ERROR_STATUS;
			break;
		}
	}
	free(line);
	fclose(in);
	return rc;
}

static int env_line(struct create_flags *f, const char *line)
{
	const char *v = strchr(line, '=') ? NULL : getenv(line);
	_cleanup_free_ char *kv = v ? str_printf("%s=%s", line, v) : NULL;

	/* A name alone that berth's environment lacks is left out. */
	if (!strchr(line, '=') && !v)
		return 0;
	return strv_append(&f->env_file, kv ? kv : line);
}

static int label_line(struct create_flags *f, const char *line)
{
	return add_label(f, line);
}

/* nat.ParsePortSpec: [ip:][hostPort:]containerPort[/proto], ports or
 * ranges. */
static int add_publish(struct create_flags *f, const char *command, const char *spec)
{
	_cleanup_free_ char *s = strdup(spec);
	char *proto = NULL, *cport, *hport = NULL, *ip = NULL, *colon;
	long c_lo, c_hi, h_lo = 0, h_hi = 0;
	json_t *exposed, *bindings;

	if (!s)
		return RUN_ERROR_STATUS;
	if ((proto = strrchr(s, '/')))
		*proto++ = '\0';
	if (proto && strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
		return check_error(command, "invalid proto: %s", proto);
	colon = strrchr(s, ':');
	if (colon) {
		*colon = '\0';
		cport = colon + 1;
		colon = strrchr(s, ':');
		if (colon) {
			*colon = '\0';
			hport = colon + 1;
			ip = s;
		} else {
			hport = s;
		}
	} else {
		cport = s;
	}
	if (ip && ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
		ip++;
		ip[strlen(ip) - 1] = '\0';
	}
	if (ip && *ip && !valid_ip(ip))
		return check_error(command, "invalid IP address: %s", ip);
	{
		char *end;

		c_lo = strtol(cport, &end, 10);
		c_hi = *end == '-' ? strtol(end + 1, &end, 10) : c_lo;
		if (!*cport || *end || c_lo < 0 || c_hi > 65535 || c_hi < c_lo)
			return check_error(command, "invalid containerPort: %s", cport);
		if (hport && *hport) {
			h_lo = strtol(hport, &end, 10);
			h_hi = *end == '-' ? strtol(end + 1, &end, 10) : h_lo;
			if (*end || h_lo < 0 || h_hi > 65535 || h_hi < h_lo)
				return check_error(command, "invalid hostPort: %s", hport);
			if (h_hi - h_lo != c_hi - c_lo && h_hi != h_lo)
				return check_error(command,
						   "invalid ranges specified for container and "
						   "host Ports: %s",
						   spec);
		}
	}
	exposed = member(f->more_config, "ExposedPorts", JSON_OBJECT);
	bindings = member(f->more_host, "PortBindings", JSON_OBJECT);
	if (!exposed || !bindings)
		return RUN_ERROR_STATUS;
	for (long p = c_lo; p <= c_hi; p++) {
		char key[32], host[32] = "";
		json_t *list;

		snprintf(key, sizeof(key), "%ld/%s", p, proto ? proto : "tcp");
		if (hport && *hport)
			snprintf(host, sizeof(host), "%ld",
				 h_hi == h_lo ? h_lo : h_lo + (p - c_lo));
		json_object_set_new(exposed, key, json_object());
		list = member(bindings, key, JSON_ARRAY);
		if (!list ||
		    json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip ? ip : "",
							  "HostPort", host)) < 0)
			return RUN_ERROR_STATUS;
	}
	return 0;
}

static int add_ulimit(struct create_flags *f, const char *command, const char *spec)
{
	static const char *const names[] = {
		"core",	  "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
		"nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"
	};
	const char *eq = strchr(spec, '=');
	_cleanup_free_ char *name = eq ? strndup(spec, (size_t)(eq - spec)) : NULL;
	_cleanup_free_ char *soft_s = NULL;
	const char *colon;
	long long soft, hard;
	bool known = false;

	if (!eq)
		return flag_error(command, "--ulimit", spec, "invalid ulimit argument: %s", spec);
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		known |= strcmp(names[i], name) == 0;
	if (!known)
		return flag_error(command, "--ulimit", spec, "invalid ulimit type: %s",
				  name ? name : "");
	colon = strchr(eq + 1, ':');
	soft_s = colon ? strndup(eq + 1, (size_t)(colon - eq - 1)) : strdup(eq + 1);
	if (!soft_s)
		return RUN_ERROR_STATUS;
	if (!parse_int(soft_s, &soft)) {
		char msg[256];

		snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": invalid syntax",
			 soft_s);
		return flag_error(command, "--ulimit", spec, "%s", msg);
	}
	hard = soft;
	if (colon && !parse_int(colon + 1, &hard)) {
		char msg[256];

		snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": invalid syntax",
			 colon + 1);
		return flag_error(command, "--ulimit", spec, "%s", msg);
	}
	if (soft > hard) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "ulimit soft limit must be less than or equal to hard "
			 "limit: %lld > %lld",
			 soft, hard);
		return flag_error(command, "--ulimit", spec, "%s", msg);
	}
	return push(f->more_host, "Ulimits",
		    json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)soft, "Hard",
			      (json_int_t)hard));
}

static int add_device(struct create_flags *f, const char *command, const char *spec)
{
	_cleanup_free_ char *s = strdup(spec);
	char *host, *ctr = NULL, *perms = NULL, *c;

	if (!s)
		return RUN_ERROR_STATUS;
	host = s;
	if ((c = strchr(host, ':'))) {
		*c = '\0';
		ctr = c + 1;
		if ((c = strchr(ctr, ':'))) {
			*c = '\0';
			perms = c + 1;
		} else if (strspn(ctr, "rwm") == strlen(ctr) && *ctr) {
			perms = ctr;
			ctr = NULL;
		}
	}
	if (!ctr || !*ctr)
		ctr = host;
	if (ctr[0] != '/')
		return check_error(command, "%s is not an absolute path", ctr);
	return push(f->more_host, "Devices",
		    json_pack("{s:s, s:s, s:s}", "PathOnHost", host, "PathInContainer", ctr,
			      "CgroupPermissions", perms && *perms ? perms : "rwm"));
}

/* --mount's CSV: type, source, target, readonly, bind-propagation,
 * tmpfs-size, tmpfs-mode. */
static int add_mount(struct create_flags *f, const char *command, const char *spec)
{
	_cleanup_free_ char *s = strdup(spec);
	_cleanup_json_ json_t *m = json_object();
	char *save = NULL;
	const char *type = "volume";

	if (!s || !m)
		return RUN_ERROR_STATUS;
	for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *val = eq ? eq + 1 : NULL;

		if (eq)
			*eq = '\0';
		if (!val && strcmp(kv, "readonly") && strcmp(kv, "ro") &&
		    strcmp(kv, "volume-nocopy"))
			return flag_error(command, "--mount", spec,
					  "invalid field '%s' must be a key=value pair", kv);
		if (strcmp(kv, "type") == 0) {
			type = val;
		} else if (strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0) {
			json_object_set_new(m, "Source", json_string(val));
		} else if (strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 ||
			   strcmp(kv, "dst") == 0) {
			json_object_set_new(m, "Target", json_string(val));
		} else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0) {
			bool ro = !val || strcmp(val, "true") == 0 || strcmp(val, "1") == 0;

			if (val && !ro && strcmp(val, "false") && strcmp(val, "0"))
				return flag_error(command, "--mount", spec, "invalid value for %s",
						  kv);
			json_object_set_new(m, "ReadOnly", json_boolean(ro));
		} else if (strcmp(kv, "bind-propagation") == 0) {
			json_object_set_new(member(m, "BindOptions", JSON_OBJECT), "Propagation",
					    json_string(val));
		} else if (strcmp(kv, "tmpfs-size") == 0) {
			int64_t size;
			char why[128];

			if (ram_in_bytes(val, &size, why, sizeof(why)) < 0)
				return flag_error(command, "--mount", spec,
						  "invalid value for tmpfs-size: %s", val);
			json_object_set_new(member(m, "TmpfsOptions", JSON_OBJECT), "SizeBytes",
					    json_integer(size));
		} else if (strcmp(kv, "tmpfs-mode") == 0) {
			char *end;
			long mode = strtol(val, &end, 8);

			if (*end || !*val)
				return flag_error(command, "--mount", spec, "invalid value for %s",
						  kv);
			json_object_set_new(member(m, "TmpfsOptions", JSON_OBJECT), "Mode",
					    json_integer(mode));
		} else if (strcmp(kv, "volume-nocopy") != 0 && strncmp(kv, "volume-", 7) != 0 &&
			   strcmp(kv, "consistency") != 0) {
			return flag_error(command, "--mount", spec, "unexpected key '%s' in '%s'",
					  kv);
		}
		if (strcmp(kv, "type") == 0)
			json_object_set_new(m, "Type", json_string(val));
	}
	if (!json_object_get(m, "Type"))
		json_object_set_new(m, "Type", json_string(type));
	if (!json_object_get(m, "Target"))
		return flag_error(command, "--mount", spec, "%s", "target is required");
	return push(f->more_host, "Mounts", json_incref(m));
}

static int set_health(struct create_flags *f, const char *key, json_t *v)
{
	json_t *hc = member(f->more_config, "Healthcheck", JSON_OBJECT);

	f->health_flags = true;
	return hc ? json_object_set_new(hc, key, v) : -1;
}

static int health_duration(struct create_flags *f, const char *command, const char *flag,
			   const char *key, const char *arg)
{
	int64_t ns;
	const char *why;

	if (parse_duration(arg, &ns, &why) < 0)
		return flag_error(command, flag, arg, why, arg);
	if (ns < 0) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%s cannot be negative", flag);
		return check_error(command, "%s", msg);
	}
	return set_health(f, key, json_integer(ns)) < 0 ? RUN_ERROR_STATUS : 0;
}

int create_more_flag(struct create_flags *f, const char *command, int opt, const char *arg)
{
	long long n;
	int64_t bytes;
	char why[128];
	int r = 0;

	if (!f->more_config)
		f->more_config = json_object();
	if (!f->more_host)
		f->more_host = json_object();
	if (!f->more_config || !f->more_host)
		return RUN_ERROR_STATUS;
	switch (opt) {
	case 'p':
		return add_publish(f, command, arg);
	case 'P':
		r = json_object_set_new(f->more_host, "PublishAllPorts", json_true());
		break;
	case 'l':
		r = add_label(f, arg);
		break;
	case 'c':
		if (!parse_int(arg, &n))
			return parse_error_int(command, "-c, --cpu-shares", arg);
		r = json_object_set_new(f->more_host, "CpuShares", json_integer(n));
		break;
	case M_RESTART: {
		const char *colon = strchr(arg, ':');
		_cleanup_free_ char *name =
			colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg);

		if (!name)
			return RUN_ERROR_STATUS;
		if (colon && !parse_int(colon + 1, &n))
			return check_error(command, "%s",
					   "invalid restart policy format: maximum retry count "
					   "must be an integer");
		r = json_object_set_new(f->more_host, "RestartPolicy",
					json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount",
						  (json_int_t)(colon ? n : 0)));
		f->restart = strcmp(name, "no") != 0 && *name;
		break;
	}
	case M_LABEL_FILE:
		return read_lines(command, arg, f, label_line);
	case M_ENV_FILE:
		return read_lines(command, arg, f, env_line);
	case M_ULIMIT:
		return add_ulimit(f, command, arg);
	case M_HEALTH_CMD:
		r = set_health(f, "Test", json_pack("[s, s]", "CMD-SHELL", arg));
		break;
	case M_HEALTH_INTERVAL:
		return health_duration(f, command, "--health-interval", "Interval", arg);
	case M_HEALTH_TIMEOUT:
		return health_duration(f, command, "--health-timeout", "Timeout", arg);
	case M_HEALTH_START_PERIOD:
		return health_duration(f, command, "--health-start-period", "StartPeriod", arg);
	case M_HEALTH_RETRIES:
		if (!parse_int(arg, &n))
			return parse_error_int(command, "--health-retries", arg);
		if (n < 0)
			return check_error(command, "%s", "--health-retries cannot be negative");
		r = set_health(f, "Retries", json_integer(n));
		break;
	case M_NO_HEALTHCHECK:
		f->no_healthcheck = true;
		break;
	case M_STOP_SIGNAL:
		r = json_object_set_new(f->more_config, "StopSignal", json_string(arg));
		break;
	case M_STOP_TIMEOUT:
		if (!parse_int(arg, &n))
			return parse_error_int(command, "--stop-timeout", arg);
		r = json_object_set_new(f->more_config, "StopTimeout", json_integer(n));
		break;
	case M_ADD_HOST: {
		const char *sep = strchr(arg, ':');
		const char *eq = strchr(arg, '=');
		char msg[512];

		if (eq && (!sep || eq < sep))
			sep = eq;
		if (!sep || sep == arg) {
			snprintf(msg, sizeof(msg), "bad format for add-host: \"%s\"", arg);
			return flag_error(command, "--add-host", arg, "%s", msg);
		}
		if (strcmp(sep + 1, "host-gateway") != 0 && !valid_ip(sep + 1)) {
			snprintf(msg, sizeof(msg), "invalid IP address in add-host: \"%s\"",
				 sep + 1);
			return flag_error(command, "--add-host", arg, "%s", msg);
		}
		{
			_cleanup_free_ char *h =
				str_printf("%.*s:%s", (int)(sep - arg), arg, sep + 1);

			r = h ? push(f->more_host, "ExtraHosts", json_string(h)) : -1;
		}
		break;
	}
	case M_DNS:
		if (!valid_ip(arg))
			return flag_error(command, "--dns", arg,
					  "IP address is not correctly formatted: %s", arg);
		r = push(f->more_host, "Dns", json_string(arg));
		break;
	case M_DEVICE:
		return add_device(f, command, arg);
	case M_PIDS_LIMIT:
		if (!parse_int(arg, &n))
			return parse_error_int(command, "--pids-limit", arg);
		r = json_object_set_new(f->more_host, "PidsLimit", json_integer(n));
		break;
	case M_CPUSET_CPUS:
		r = json_object_set_new(f->more_host, "CpusetCpus", json_string(arg));
		break;
	/* The namespace modes: the daemon checks them. */
	case M_CGROUPNS:
		r = json_object_set_new(f->more_host, "CgroupnsMode", json_string(arg));
		break;
	case M_IPC:
		r = json_object_set_new(f->more_host, "IpcMode", json_string(arg));
		break;
	case M_PID:
		r = json_object_set_new(f->more_host, "PidMode", json_string(arg));
		break;
	case M_UTS:
		r = json_object_set_new(f->more_host, "UTSMode", json_string(arg));
		break;
	case M_CPUS: {
		char *end;
		double v = strtod(arg, &end);

		if (end == arg || *end || !isfinite(v))
			return flag_error(command, "--cpus", arg,
					  "failed to parse %s as a rational number", arg);
		r = json_object_set_new(f->more_host, "NanoCpus",
					json_integer((json_int_t)(v * 1e9 + (v < 0 ? -0.5 : 0.5))));
		break;
	}
	case M_MEMORY_SWAP:
		if (strcmp(arg, "-1") == 0)
			bytes = -1;
		else if (ram_in_bytes(arg, &bytes, why, sizeof(why)) < 0)
			return flag_error(command, "--memory-swap", arg, "%s", why);
		r = json_object_set_new(f->more_host, "MemorySwap", json_integer(bytes));
		break;
	case M_OOM_KILL_DISABLE:
		r = json_object_set_new(f->more_host, "OomKillDisable", json_true());
		break;
	case M_MOUNT:
		return add_mount(f, command, arg);
	case M_VOLUMES_FROM:
		r = push(f->more_host, "VolumesFrom", json_string(arg));
		break;
	case M_LINK:
		r = push(f->more_host, "Links", json_string(arg));
		break;
	default:
		return 1;
	}
	return r < 0 ? RUN_ERROR_STATUS : 0;
}

int create_more_finish(struct create_flags *f, const char *command)
{
	if (f->memory) {
		int64_t bytes;
		char why[128];

		if (ram_in_bytes(f->memory, &bytes, why, sizeof(why)) < 0)
			return flag_error(command, "-m, --memory", f->memory, "%s", why);
	}
	if (f->no_healthcheck) {
		if (f->health_flags)
			return check_error(command, "%s",
					   "--no-healthcheck conflicts with --health-* options");
		if (!f->more_config)
			f->more_config = json_object();
		if (!f->more_config ||
		    json_object_set_new(f->more_config, "Healthcheck",
					json_pack("{s:[s]}", "Test", "NONE")) < 0)
			return RUN_ERROR_STATUS;
	}
	if (f->restart && f->opts.auto_remove)
		return check_error(command, "%s",
				   "conflicting options: cannot specify both --restart and --rm");
	/* docker puts the files' variables before those of -e. */
	if (f->env_file) {
		char **all = NULL;

		for (size_t i = 0; f->env_file[i]; i++)
			if (strv_append(&all, f->env_file[i]) < 0)
				goto oom;
		for (size_t i = 0; f->env && f->env[i]; i++)
			if (strv_append(&all, f->env[i]) < 0)
				goto oom;
		strv_free(f->env);
		f->env = all;
		return 0;
	oom:
		strv_free(all);
		return RUN_ERROR_STATUS;
	}
	return 0;
}

int create_more_merge(const struct create_flags *f, json_t *body)
{
	json_t *hc = json_object_get(body, "HostConfig");

	if (f->more_config && json_object_update_recursive(body, f->more_config) < 0)
		return -1;
	if (f->more_host && hc && json_object_update(hc, f->more_host) < 0)
		return -1;
	return 0;
}
