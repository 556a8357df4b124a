/* Unit tests of what a create body becomes: the Config members checked
 * (each wrong type names its member) and merged with an image's run config
 * (Env, Cmd/Entrypoint, WorkingDir, User, Labels, ExposedPorts, Volumes,
 * StopSignal, Healthcheck, OnBuild); HostConfig in Docker's full shape with
 * its zero values and Docker's validation messages; and the OCI config
 * built from each HostConfig member (resources, capabilities, privileged,
 * seccomp default / unconfined / inline, no-new-privileges, init, network
 * modes, binds, tmpfs, devices, ulimits, read-only root, sysctls), checked
 * as JSON and by the runtime's own parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "runtime/spec.h"

#define CAP_BIT(n) ((uint64_t)1 << (n))

static void expect_error(struct berr **err, enum berr_kind kind, const char *msg)
{
	assert_non_null(*err);
	if ((*err)->kind != kind || (msg && strcmp((*err)->msg, msg) != 0))
		fprintf(stderr, "unexpected error: %s\n", (*err)->msg);
	assert_int_equal((*err)->kind, kind);
	if (msg)
		assert_string_equal((*err)->msg, msg);
	berr_clear(err);
}

static char *text(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(s);
	return s;
}

static void expect_json(const json_t *v, const char *want)
{
	char *s = text(v);

	if (strcmp(s, want) != 0)
		fprintf(stderr, "got %s\nwant %s\n", s, want);
	assert_string_equal(s, want);
	free(s);
}

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", s, e.text);
	return v;
}

/* The HostConfig of the body text HC, or NULL with *err. */
static json_t *normalize(const char *hc, json_t **warnings, struct berr **err)
{
	json_t *given = hc ? parse(hc) : NULL;
	json_t *out = NULL;
	json_t *w = json_array();

	if (daemon_hostconfig_normalize(given, w, &out, err) < 0)
		out = NULL;
	json_decref(given);
	if (warnings)
		*warnings = w;
	else
		json_decref(w);
	return out;
}

static void expect_refused(const char *hc, enum berr_kind kind, const char *msg)
{
	struct berr *err = NULL;
	json_t *out = normalize(hc, NULL, &err);

	if (out)
		fail_msg("accepted: %s", hc);
	expect_error(&err, kind, msg);
}

/*
 * Config.
 */

static void test_config_types(void **state)
{
	static const struct {
		const char *body;
		const char *msg;
	} cases[] = {
		{ "{\"Image\":\"x\",\"Env\":\"A=1\"}", "Env: expected an array" },
		{ "{\"Image\":\"x\",\"Env\":[1]}", "Env[0]: expected a string" },
		{ "{\"Image\":\"x\",\"Cmd\":5}", "Cmd: expected an array" },
		{ "{\"Image\":\"x\",\"Tty\":\"yes\"}", "Tty: expected a boolean" },
		{ "{\"Image\":\"x\",\"Hostname\":1}", "Hostname: expected a string" },
		{ "{\"Image\":\"x\",\"Labels\":{\"a\":1}}", "Labels.a: expected a string" },
		{ "{\"Image\":\"x\",\"ExposedPorts\":{\"80/tcp\":1}}",
		  "ExposedPorts[\"80/tcp\"]: expected an object" },
		{ "{\"Image\":\"x\",\"Healthcheck\":{\"Interval\":\"1s\"}}",
		  "Healthcheck.Interval: expected an integer" },
		{ "{\"Image\":\"x\",\"StopTimeout\":\"10\"}", "StopTimeout: expected an integer" },
	};
	struct berr *err = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *body = parse(cases[i].body);

		assert_int_equal(daemon_config_check(body, &err), -1);
		assert_non_null(err);
		if (!strstr(err->msg, cases[i].msg))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].body, err->msg,
				 cases[i].msg);
		berr_clear(&err);
		json_decref(body);
	}
	/* Docker's strslice: a string is a one-element command. */
	{
		json_t *body = parse("{\"Image\":\"x\",\"Cmd\":\"sh\",\"Entrypoint\":null}");

		assert_int_equal(daemon_config_check(body, &err), 0);
		json_decref(body);
	}
}

static void test_hostconfig_types(void **state)
{
	expect_refused("{\"Memory\":\"x\"}", BERR_INVALID,
		       "HostConfig.Memory: expected an integer");
	expect_refused("{\"CapAdd\":\"NET_ADMIN\"}", BERR_INVALID,
		       "HostConfig.CapAdd: expected an array");
	expect_refused("{\"Privileged\":1}", BERR_INVALID,
		       "HostConfig.Privileged: expected a boolean");
	expect_refused("{\"RestartPolicy\":{\"MaximumRetryCount\":\"3\"}}", BERR_INVALID,
		       "HostConfig.RestartPolicy.MaximumRetryCount: expected an integer");
	expect_refused("{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":\"1\"}]}", BERR_INVALID,
		       "HostConfig.Ulimits[0].Soft: expected an integer");
	expect_refused("{\"Tmpfs\":{\"/run\":1}}", BERR_INVALID,
		       "HostConfig.Tmpfs[\"/run\"]: expected a string");
}

static void test_merge_with_image(void **state)
{
	char *image_env[] = { "PATH=/image/bin", "A=1", NULL };
	char *image_cmd[] = { "nginx", "-g", "daemon off;", NULL };
	char *ports[] = { "80/tcp", NULL };
	char *volumes[] = { "/data", NULL };
	char *label_keys[] = { "maintainer", "tier", NULL };
	char *label_values[] = { "me", "web", NULL };
	json_t *extra = parse("{\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":5000,"
			      "\"Retries\":3},\"OnBuild\":[\"RUN x\"]}");
	struct image_run_config rc = {
		.env = image_env,
		.cmd = image_cmd,
		.working_dir = "/srv",
		.user = "www",
		.label_keys = label_keys,
		.label_values = label_values,
		.n_labels = 2,
		.exposed_ports = ports,
		.volumes = volumes,
		.stop_signal = "SIGQUIT",
		.extra = extra,
	};
	json_t *body = parse("{\"Image\":\"web\",\"Env\":[\"A=2\"],\"Labels\":{\"tier\":\"front\"},"
			     "\"ExposedPorts\":{\"443/tcp\":{}},\"Healthcheck\":{\"Interval\":"
			     "9000}}");
	json_t *config = NULL, *args = NULL;
	char *path = NULL;
	struct berr *err = NULL;

	if (daemon_config_merge(&rc, body, "host1", &config, &path, &args, &err) < 0)
		fail_msg("merge: %s", err->msg);
	assert_string_equal(path, "nginx");
	expect_json(args, "[\"-g\",\"daemon off;\"]");
	expect_json(json_object_get(config, "Env"), "[\"A=2\",\"PATH=/image/bin\"]");
	expect_json(json_object_get(config, "Labels"),
		    "{\"maintainer\":\"me\",\"tier\":\"front\"}");
	expect_json(json_object_get(config, "ExposedPorts"), "{\"80/tcp\":{},\"443/tcp\":{}}");
	expect_json(json_object_get(config, "Volumes"), "{\"/data\":{}}");
	expect_json(json_object_get(config, "StopSignal"), "\"SIGQUIT\"");
	expect_json(json_object_get(config, "WorkingDir"), "\"/srv\"");
	expect_json(json_object_get(config, "User"), "\"www\"");
	expect_json(json_object_get(config, "OnBuild"), "[\"RUN x\"]");
	/* The body's interval over the image's check. */
	expect_json(json_object_get(config, "Healthcheck"),
		    "{\"Interval\":9000,\"Test\":[\"CMD\",\"true\"],\"Retries\":3}");
	expect_json(json_object_get(config, "Hostname"), "\"host1\"");
	/* Docker's inspect order of Config. */
	{
		const char *want[] = { "Hostname",     "Domainname",   "User",
				       "AttachStdin",  "AttachStdout", "AttachStderr",
				       "ExposedPorts", "Tty",	       "OpenStdin",
				       "StdinOnce",    "Env",	       "Cmd",
				       "Healthcheck",  "Image",	       "Volumes",
				       "WorkingDir",   "Entrypoint",   "OnBuild",
				       "Labels",       "StopSignal" };
		void *it = json_object_iter(config);

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]);
		     i++, it = json_object_iter_next(config, it)) {
			assert_non_null(it);
			assert_string_equal(json_object_iter_key(it), want[i]);
		}
		assert_null(it);
	}
	json_decref(config);
	json_decref(args);
	free(path);
	json_decref(body);

	/* Test ["NONE"] is kept: it disables the image's check. */
	body = parse("{\"Image\":\"web\",\"Cmd\":\"sh\",\"Healthcheck\":{\"Test\":[\"NONE\"]}}");
	assert_int_equal(daemon_config_merge(&rc, body, "h", &config, &path, &args, &err), 0);
	assert_string_equal(path, "sh");
	expect_json(json_object_get(json_object_get(config, "Healthcheck"), "Test"), "[\"NONE\"]");
	json_decref(config);
	json_decref(args);
	free(path);
	json_decref(body);

	/* A bad exposed port. */
	body = parse("{\"Image\":\"web\",\"ExposedPorts\":{\"abc/tcp\":{}}}");
	assert_int_equal(daemon_config_merge(&rc, body, "h", &config, &path, &args, &err), -1);
	expect_error(&err, BERR_INVALID, "invalid port specification: \"abc\"");
	json_decref(body);
	json_decref(extra);
}

/*
 * HostConfig.
 */

static void test_hostconfig_defaults(void **state)
{
	static const char *const keys[] = {
		"Binds",
		"ContainerIDFile",
		"LogConfig",
		"NetworkMode",
		"PortBindings",
		"RestartPolicy",
		"AutoRemove",
		"VolumeDriver",
		"VolumesFrom",
		"CapAdd",
		"CapDrop",
		"CgroupnsMode",
		"Dns",
		"DnsOptions",
		"DnsSearch",
		"ExtraHosts",
		"GroupAdd",
		"IpcMode",
		"Cgroup",
		"Links",
		"OomScoreAdj",
		"PidMode",
		"Privileged",
		"PublishAllPorts",
		"ReadonlyRootfs",
		"SecurityOpt",
		"UTSMode",
		"UsernsMode",
		"ShmSize",
		"Runtime",
		"ConsoleSize",
		"Isolation",
		"CpuShares",
		"Memory",
		"NanoCpus",
		"CgroupParent",
		"BlkioWeight",
		"BlkioWeightDevice",
		"BlkioDeviceReadBps",
		"BlkioDeviceWriteBps",
		"BlkioDeviceReadIOps",
		"BlkioDeviceWriteIOps",
		"CpuPeriod",
		"CpuQuota",
		"CpuRealtimePeriod",
		"CpuRealtimeRuntime",
		"CpusetCpus",
		"CpusetMems",
		"Devices",
		"DeviceCgroupRules",
		"DeviceRequests",
		"KernelMemory",
		"KernelMemoryTCP",
		"MemoryReservation",
		"MemorySwap",
		"MemorySwappiness",
		"OomKillDisable",
		"PidsLimit",
		"Ulimits",
		"CpuCount",
		"CpuPercent",
		"IOMaximumIOps",
		"IOMaximumBandwidth",
		"MaskedPaths",
		"ReadonlyPaths",
	};
	struct berr *err = NULL;
	json_t *hc = normalize(NULL, NULL, &err);
	void *it;
	size_t i = 0;

	assert_non_null(hc);
	for (it = json_object_iter(hc); it; it = json_object_iter_next(hc, it), i++) {
		assert_true(i < sizeof(keys) / sizeof(keys[0]));
		assert_string_equal(json_object_iter_key(it), keys[i]);
	}
	assert_int_equal(i, sizeof(keys) / sizeof(keys[0]));
	expect_json(json_object_get(hc, "Binds"), "null");
	expect_json(json_object_get(hc, "LogConfig"), "{\"Type\":\"json-file\",\"Config\":{}}");
	expect_json(json_object_get(hc, "RestartPolicy"),
		    "{\"Name\":\"\",\"MaximumRetryCount\":0}");
	expect_json(json_object_get(hc, "NetworkMode"), "\"default\"");
	expect_json(json_object_get(hc, "IpcMode"), "\"private\"");
	expect_json(json_object_get(hc, "CgroupnsMode"), "\"host\"");
	expect_json(json_object_get(hc, "ShmSize"), "67108864");
	expect_json(json_object_get(hc, "Runtime"), "\"runc\"");
	expect_json(json_object_get(hc, "ConsoleSize"), "[0,0]");
	expect_json(json_object_get(hc, "PidsLimit"), "null");
	expect_json(json_object_get(hc, "MemorySwappiness"), "null");
	assert_null(json_object_get(hc, "Init"));
	assert_null(json_object_get(hc, "Tmpfs"));
	json_decref(hc);

	/* Set members are kept; Docker's swap default is twice the memory;
	 * PidsLimit 0 is no limit; privileged masks nothing. */
	hc = normalize("{\"Memory\":67108864,\"PidsLimit\":0,\"Init\":true,\"Privileged\":true,"
		       "\"Tmpfs\":{\"/run\":\"size=1m\"},\"RestartPolicy\":{\"Name\":\"always\"}}",
		       NULL, &err);
	assert_non_null(hc);
	if (fs_exists(DAEMON_MEMSW_FILE))
		expect_json(json_object_get(hc, "MemorySwap"), "134217728");
	expect_json(json_object_get(hc, "PidsLimit"), "null");
	expect_json(json_object_get(hc, "Init"), "true");
	expect_json(json_object_get(hc, "Tmpfs"), "{\"/run\":\"size=1m\"}");
	expect_json(json_object_get(hc, "MaskedPaths"), "null");
	expect_json(json_object_get(hc, "RestartPolicy"),
		    "{\"Name\":\"always\",\"MaximumRetryCount\":0}");
	json_decref(hc);

	/* The namespace modes berth applies are taken as given. */
	hc = normalize("{\"NetworkMode\":\"container:abc\",\"PidMode\":\"container:abc\","
		       "\"IpcMode\":\"host\",\"UTSMode\":\"host\",\"CgroupnsMode\":\"private\"}",
		       NULL, &err);
	assert_non_null(hc);
	expect_json(json_object_get(hc, "PidMode"), "\"container:abc\"");
	expect_json(json_object_get(hc, "CgroupnsMode"), "\"private\"");
	json_decref(hc);
}

static void test_hostconfig_validation(void **state)
{
	expect_refused("{\"Memory\":1000}", BERR_INVALID, "Minimum memory limit allowed is 6MB");
	expect_refused("{\"Memory\":10000000,\"MemorySwap\":5000000}", BERR_INVALID,
		       "Minimum memoryswap limit should be larger than memory limit, see usage");
	expect_refused("{\"MemorySwappiness\":200}", BERR_INVALID,
		       "Invalid value: 200, valid memory swappiness range is 0-100");
	expect_refused("{\"CpuPeriod\":500}", BERR_INVALID,
		       "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
		       "(i.e. 1000000)");
	expect_refused("{\"CpuQuota\":500}", BERR_INVALID,
		       "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	expect_refused("{\"OomScoreAdj\":2000}", BERR_INVALID,
		       "Invalid value 2000, range for oom score adj is [-1000, 1000]");
	expect_refused("{\"ShmSize\":-1}", BERR_INVALID, "SHM size can not be less than 0");
	expect_refused("{\"RestartPolicy\":{\"Name\":\"bogus\"}}", BERR_INVALID,
		       "invalid restart policy 'bogus'");
	expect_refused("{\"RestartPolicy\":{\"Name\":\"always\",\"MaximumRetryCount\":2}}",
		       BERR_INVALID,
		       "maximum retry count cannot be used with restart policy 'always'");
	expect_refused("{\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":-1}}",
		       BERR_INVALID, "maximum retry count cannot be negative");
	expect_refused("{\"RestartPolicy\":{\"Name\":\"always\"},\"AutoRemove\":true}",
		       BERR_INVALID, "can't create 'AutoRemove' container with restart policy");
	expect_refused("{\"CapAdd\":[\"FOO\"]}", BERR_INVALID,
		       "invalid CapAdd: unknown capability: \"CAP_FOO\"");
	expect_refused("{\"CapDrop\":[\"cap_bar\"]}", BERR_INVALID,
		       "invalid CapDrop: unknown capability: \"CAP_BAR\"");
	expect_refused("{\"SecurityOpt\":[\"foo\"]}", BERR_INVALID,
		       "invalid --security-opt 1: \"foo\"");
	expect_refused("{\"SecurityOpt\":[\"bar=1\"]}", BERR_INVALID,
		       "invalid --security-opt 2: \"bar=1\"");
	expect_refused("{\"SecurityOpt\":[\"seccomp={\\\"syscalls\\\":[]}\"]}", BERR_INVALID, NULL);
	expect_refused("{\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{\"bogus\":\"1\"}}}",
		       BERR_INVALID, "unknown log opt 'bogus' for json-file log driver");
	expect_refused("{\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{\"max-file\":\"0\"}}}",
		       BERR_INVALID, "max-file cannot be less than 1");
	expect_refused("{\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{\"max-size\":\"ab\"}}}",
		       BERR_INVALID, NULL);
	expect_refused("{\"LogConfig\":{\"Type\":\"syslog\"}}", BERR_NOT_IMPLEMENTED, NULL);
	expect_refused("{\"LogConfig\":{\"Type\":\"nosuch\"}}", BERR_INVALID,
		       "error looking up logging plugin nosuch: plugin \"nosuch\" not found");
	expect_refused("{\"Binds\":[\"/nonexistent-berth:/x\"]}", BERR_INVALID,
		       "invalid mount config for type \"bind\": bind source path does not exist: "
		       "/nonexistent-berth");
	expect_refused("{\"Binds\":[\"/tmp:x\"]}", BERR_INVALID,
		       "invalid volume specification: '/tmp:x': invalid mount config for type "
		       "\"bind\": invalid mount path: 'x' mount path must be absolute");
	expect_refused("{\"Binds\":[\"/tmp:/x:bogus\"]}", BERR_INVALID, "invalid mode: bogus");
	expect_refused("{\"Binds\":[\"/tmp:/x\",\"/tmp:/x\"]}", BERR_INVALID,
		       "Duplicate mount point: /x");
	/* A source that is no absolute path names a volume. */
	expect_refused("{\"Binds\":[\"a/b:/x\"]}", BERR_INVALID,
		       "create a/b: \"a/b\" includes invalid characters for a local volume name, "
		       "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a "
		       "host directory, use absolute path");
	expect_refused("{\"Binds\":[\"vol:/x\",\"/tmp:/x\"]}", BERR_INVALID,
		       "Duplicate mount point: /x");
	expect_refused("{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/x\","
		       "\"BindOptions\":{}}]}",
		       BERR_INVALID,
		       "invalid mount config for type \"volume\": field BindOptions must not be "
		       "specified");
	expect_refused("{\"Mounts\":[{\"Type\":\"tmpfs\",\"Source\":\"a\",\"Target\":\"/x\"}]}",
		       BERR_INVALID,
		       "invalid mount config for type \"tmpfs\": field Source must not be "
		       "specified");
	expect_refused("{\"Mounts\":[{\"Type\":\"bogus\",\"Target\":\"/x\"}]}", BERR_INVALID,
		       "invalid mount config for type \"bogus\": mount type unknown");
	expect_refused("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/tmp\"}]}", BERR_INVALID,
		       "invalid mount config for type \"bind\": field Target must not be empty");
	expect_refused("{\"Tmpfs\":{\"rel\":\"\"}}", BERR_INVALID,
		       "invalid mount path: 'rel' mount path must be absolute");
	expect_refused("{\"PortBindings\":{\"abc/tcp\":[{}]}}", BERR_INVALID,
		       "invalid port specification: \"abc\"");
	expect_refused("{\"ExtraHosts\":[\"bad\"]}", BERR_INVALID,
		       "bad format for add-host: \"bad\"");
	expect_refused("{\"Devices\":[{\"PathOnHost\":\"/dev/nonexistent-berth\"}]}", BERR_INVALID,
		       NULL);
	/* Another container's network, with nothing that would change it. */
	expect_refused("{\"NetworkMode\":\"container:abc\",\"PortBindings\":{\"80/tcp\":[{}]}}",
		       BERR_INVALID,
		       "conflicting options: port publishing and the container type network mode");
	expect_refused("{\"NetworkMode\":\"container:abc\",\"Dns\":[\"1.1.1.1\"]}", BERR_INVALID,
		       "conflicting options: dns and the network mode");
	expect_refused("{\"NetworkMode\":\"container:\"}", BERR_INVALID,
		       "invalid network mode: container:");
	/* The namespace modes Docker has; another's IPC namespace not yet. */
	expect_refused("{\"PidMode\":\"bogus\"}", BERR_INVALID, "invalid PID mode: bogus");
	expect_refused("{\"UTSMode\":\"container:x\"}", BERR_INVALID,
		       "invalid UTS mode: container:x");
	expect_refused("{\"CgroupnsMode\":\"bogus\"}", BERR_INVALID,
		       "invalid cgroup namespace mode: bogus");
	expect_refused("{\"IpcMode\":\"container:x\"}", BERR_NOT_IMPLEMENTED, NULL);
	expect_refused("{\"NetworkMode\":\"bogus\"}", BERR_NOT_FOUND, "network bogus not found");
	expect_refused("{\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,\"Hard\":2}]}", BERR_INVALID,
		       "invalid ulimit type: bogus");
	expect_refused("{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":3,\"Hard\":2}]}", BERR_INVALID,
		       "ulimit soft limit must be less than or equal to hard limit: 3 > 2");
	expect_refused("{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\","
		       "\\\"syscalls\\\":[{\\\"names\\\":[\\\"mkdir\\\"]}]}\"]}",
		       BERR_INVALID,
		       "Decoding seccomp profile failed: syscalls[0].action: required field is "
		       "missing");
}

static void test_caps(void **state)
{
	struct berr *err = NULL;
	uint64_t caps = 0, defaults = 0;
	json_t *hc = parse("{}");

	assert_int_equal(daemon_hostconfig_caps(hc, &defaults, &err), 0);
	assert_true(defaults & CAP_BIT(runtime_cap_parse("CAP_CHOWN")));
	assert_false(defaults & CAP_BIT(runtime_cap_parse("CAP_SYS_ADMIN")));
	json_decref(hc);

	/* With or without CAP_, any case; drops then adds. */
	hc = parse("{\"CapAdd\":[\"sys_admin\",\"CAP_NET_ADMIN\"],\"CapDrop\":[\"chown\"]}");
	assert_int_equal(daemon_hostconfig_caps(hc, &caps, &err), 0);
	assert_true(caps & CAP_BIT(runtime_cap_parse("CAP_SYS_ADMIN")));
	assert_true(caps & CAP_BIT(runtime_cap_parse("CAP_NET_ADMIN")));
	assert_false(caps & CAP_BIT(runtime_cap_parse("CAP_CHOWN")));
	json_decref(hc);

	/* ALL dropped, one added back. */
	hc = parse("{\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"kill\"]}");
	assert_int_equal(daemon_hostconfig_caps(hc, &caps, &err), 0);
	assert_int_equal(caps, CAP_BIT(runtime_cap_parse("CAP_KILL")));
	json_decref(hc);

	/* ALL added: everything the host has, less the drops. */
	hc = parse("{\"CapAdd\":[\"ALL\"],\"CapDrop\":[\"NET_RAW\"]}");
	assert_int_equal(daemon_hostconfig_caps(hc, &caps, &err), 0);
	assert_int_equal(caps, daemon_caps_host() & ~CAP_BIT(runtime_cap_parse("CAP_NET_RAW")));
	json_decref(hc);

	hc = parse("{\"Privileged\":true}");
	assert_int_equal(daemon_hostconfig_caps(hc, &caps, &err), 0);
	assert_int_equal(caps, daemon_caps_host());
	json_decref(hc);
}

/*
 * The OCI config.
 */

struct built {
	json_t *spec;
	struct runtime_spec *parsed;
};

static void built_clear(struct built *b)
{
	json_decref(b->spec);
	runtime_spec_free(b->parsed);
	memset(b, 0, sizeof(*b));
}

/* The OCI config of a container whose body HostConfig is HC (normalized
 * first), checked by the runtime's parser. */
static void build(const char *hc_text, bool root, struct built *b)
{
	gid_t gids[] = { 0 };
	struct daemon_user user = { .uid = root ? 0 : 1000,
				    .gid = root ? 0 : 1000,
				    .gids = gids,
				    .n_gids = 1,
				    .home = "/root" };
	struct berr *err = NULL;
	json_t *hc = normalize(hc_text, NULL, &err);
	json_t *doc;
	char *s;

	if (!hc)
		fail_msg("HostConfig %s: %s", hc_text, err->msg);
	doc = json_pack("{s:s, s:[s], s:{s:s, s:[s]}, s:o}", "Path", "sh", "Args", "-c", "Config",
			"Hostname", "h0", "Env", "A=1", "HostConfig", hc);
	assert_non_null(doc);
	struct daemon_spec_input in = {
		.id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		.rootfs = "/var/lib/berth/containers/x/merged",
		.dir = "/var/lib/berth/containers/x",
		.doc = doc,
		.user = &user,
		.unprivileged_ports = true,
		.init_path = "/usr/libexec/berth-init",
	};
	b->spec = daemon_spec_build(&in, &err);
	if (!b->spec)
		fail_msg("spec of %s: %s", hc_text, err->msg);
	s = text(b->spec);
	if (runtime_spec_parse(s, strlen(s), &b->parsed, &err) < 0)
		fail_msg("runtime parser: %s", err->msg);
	free(s);
	json_decref(doc);
}

static const json_t *mount_at(const json_t *spec, const char *destination)
{
	size_t i;
	json_t *m;

	json_array_foreach (json_object_get(spec, "mounts"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "destination")), destination) == 0)
			return m;
	return NULL;
}

static bool has_syscall_rule(const struct runtime_seccomp *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_rules; i++)
		if (strv_contains(sc->rules[i].names, name) &&
		    strcmp(sc->rules[i].action, "SCMP_ACT_ALLOW") == 0)
			return true;
	return false;
}

static void test_spec_resources(void **state)
{
	struct built b = { 0 };
	const struct runtime_resources *r;

	build("{\"Memory\":67108864,\"MemoryReservation\":33554432,\"NanoCpus\":1500000000,"
	      "\"CpuShares\":512,\"CpusetCpus\":\"0\",\"PidsLimit\":100,\"BlkioWeight\":300,"
	      "\"OomKillDisable\":true,\"MemorySwappiness\":10}",
	      true, &b);
	r = &b.parsed->resources;
	assert_int_equal(r->memory_limit, 67108864);
	assert_int_equal(r->memory_reservation, 33554432);
	if (fs_exists(DAEMON_MEMSW_FILE))
		assert_int_equal(r->memory_swap, 2 * 67108864);
	assert_true(r->disable_oom_killer);
	assert_int_equal(r->memory_swappiness, 10);
	assert_int_equal(r->cpu_period, 100000);
	assert_int_equal(r->cpu_quota, 150000);
	assert_int_equal(r->cpu_shares, 512);
	assert_string_equal(r->cpuset_cpus, "0");
	assert_int_equal(r->pids_limit, 100);
	assert_int_equal(r->blkio_weight, 300);
	built_clear(&b);

	/* Unlimited swap; explicit quota and period; pids -1 is no limit. */
	build("{\"Memory\":67108864,\"MemorySwap\":-1,\"CpuQuota\":50000,\"CpuPeriod\":200000,"
	      "\"PidsLimit\":-1}",
	      true, &b);
	r = &b.parsed->resources;
	assert_int_equal(r->memory_swap, -1);
	assert_int_equal(r->cpu_quota, 50000);
	assert_int_equal(r->cpu_period, 200000);
	assert_false(r->has_pids_limit);
	built_clear(&b);
}

static void test_spec_security(void **state)
{
	struct built b = { 0 };
	const struct runtime_process *p;
	int sys_admin = runtime_cap_parse("CAP_SYS_ADMIN");

	/* Docker's default: seccomp with EPERM by default, namespaces and
	 * mount only with CAP_SYS_ADMIN, masked paths, no nnp. */
	build(NULL, true, &b);
	p = b.parsed->process;
	assert_non_null(b.parsed->seccomp);
	assert_string_equal(b.parsed->seccomp->default_action, "SCMP_ACT_ERRNO");
	assert_int_equal(b.parsed->seccomp->default_errno_ret, 1);
	assert_true(has_syscall_rule(b.parsed->seccomp, "read"));
	assert_true(has_syscall_rule(b.parsed->seccomp, "personality"));
	assert_false(has_syscall_rule(b.parsed->seccomp, "mount"));
	assert_false(has_syscall_rule(b.parsed->seccomp, "init_module"));
	assert_false(p->no_new_privileges);
	assert_false(p->caps.effective & CAP_BIT(sys_admin));
	assert_non_null(b.parsed->masked_paths);
	assert_true(strv_contains(b.parsed->masked_paths, "/proc/kcore"));
	assert_true(strv_contains(b.parsed->readonly_paths, "/proc/sys"));
	expect_json(json_object_get(mount_at(b.spec, "/sys"), "options"),
		    "[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]");
	/* clone is allowed only without namespace flags. */
	{
		bool conditional = false;

		for (size_t i = 0; i < b.parsed->seccomp->n_rules; i++)
			if (strv_contains(b.parsed->seccomp->rules[i].names, "clone"))
				conditional |= b.parsed->seccomp->rules[i].n_args == 1 &&
					       b.parsed->seccomp->rules[i].args[0].op ==
						       RUNTIME_SECCOMP_OP_MASKED_EQ;
		assert_true(conditional);
	}
	built_clear(&b);

	/* CAP_SYS_ADMIN brings mount, unshare and clone with any flags. */
	build("{\"CapAdd\":[\"SYS_ADMIN\",\"SYS_MODULE\"]}", true, &b);
	assert_true(has_syscall_rule(b.parsed->seccomp, "mount"));
	assert_true(has_syscall_rule(b.parsed->seccomp, "unshare"));
	assert_true(has_syscall_rule(b.parsed->seccomp, "init_module"));
	assert_true(b.parsed->process->caps.effective & CAP_BIT(sys_admin));
	built_clear(&b);

	/* Unconfined, and no-new-privileges in both spellings. */
	build("{\"SecurityOpt\":[\"seccomp=unconfined\",\"no-new-privileges\"]}", true, &b);
	assert_null(b.parsed->seccomp);
	assert_true(b.parsed->process->no_new_privileges);
	built_clear(&b);
	build("{\"SecurityOpt\":[\"no-new-privileges:true\"]}", true, &b);
	assert_true(b.parsed->process->no_new_privileges);
	built_clear(&b);

	/* An inline profile, as the docker CLI sends the file's content. */
	build("{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\","
	      "\\\"syscalls\\\":[{\\\"names\\\":[\\\"mkdir\\\"],\\\"action\\\":"
	      "\\\"SCMP_ACT_ERRNO\\\"}]}\"]}",
	      true, &b);
	assert_non_null(b.parsed->seccomp);
	assert_string_equal(b.parsed->seccomp->default_action, "SCMP_ACT_ALLOW");
	assert_int_equal(b.parsed->seccomp->n_rules, 1);
	assert_string_equal(b.parsed->seccomp->rules[0].names[0], "mkdir");
	built_clear(&b);

	/* Privileged: every host capability, no seccomp, nothing masked,
	 * /sys writable, every device allowed. */
	build("{\"Privileged\":true}", true, &b);
	assert_null(b.parsed->seccomp);
	assert_true(b.parsed->masked_paths == NULL || b.parsed->masked_paths[0] == NULL);
	assert_true(b.parsed->readonly_paths == NULL || b.parsed->readonly_paths[0] == NULL);
	assert_int_equal(b.parsed->process->caps.effective, daemon_caps_host());
	expect_json(json_object_get(mount_at(b.spec, "/sys"), "options"),
		    "[\"nosuid\",\"noexec\",\"nodev\"]");
	assert_true(b.parsed->resources.devices[0].allow);
	built_clear(&b);

	/* Another user than root: the bounding set only. */
	build("{\"CapAdd\":[\"NET_ADMIN\"]}", false, &b);
	assert_true(b.parsed->process->caps.bounding & CAP_BIT(runtime_cap_parse("CAP_NET_ADMIN")));
	assert_int_equal(b.parsed->process->caps.effective, 0);
	built_clear(&b);
}

static void test_spec_process(void **state)
{
	struct built b = { 0 };
	const struct runtime_process *p;
	const json_t *m;

	build("{\"Init\":true,\"ReadonlyRootfs\":true,\"OomScoreAdj\":500,\"GroupAdd\":[\"10\"],"
	      "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048}]}",
	      true, &b);
	p = b.parsed->process;
	expect_json(json_object_get(json_object_get(b.spec, "process"), "args"),
		    "[\"/sbin/docker-init\",\"--\",\"sh\",\"-c\"]");
	m = mount_at(b.spec, "/sbin/docker-init");
	assert_non_null(m);
	expect_json(json_object_get(m, "source"), "\"/usr/libexec/berth-init\"");
	expect_json(json_object_get(m, "options"), "[\"bind\",\"ro\",\"rprivate\"]");
	assert_true(b.parsed->root_readonly);
	assert_int_equal(p->oom_score_adj, 500);
	assert_int_equal(p->n_additional_gids, 2);
	assert_int_equal(p->additional_gids[1], 10);
	assert_int_equal(p->n_rlimits, 1);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 2048);
	built_clear(&b);
}

static void test_spec_network(void **state)
{
	struct built b = { 0 };

	/* none and default: a network namespace of its own, with Docker's
	 * sysctls. */
	build("{\"NetworkMode\":\"none\"}", true, &b);
	assert_true(b.parsed->namespaces[RUNTIME_NS_NETWORK].enabled);
	assert_true(b.parsed->namespaces[RUNTIME_NS_UTS].enabled);
	assert_string_equal(b.parsed->hostname, "h0");
	built_clear(&b);
	build("{\"NetworkMode\":\"bridge\",\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}", true, &b);
	assert_true(b.parsed->namespaces[RUNTIME_NS_NETWORK].enabled);
	expect_json(json_object_get(json_object_get(b.spec, "linux"), "sysctl"),
		    "{\"net.ipv4.ip_unprivileged_port_start\":\"0\",\"net.ipv4.ping_group_range\":"
		    "\"0 2147483647\",\"net.ipv4.ip_forward\":\"1\"}");
	built_clear(&b);

	/* host: the host's network and host name. */
	build("{\"NetworkMode\":\"host\"}", true, &b);
	assert_false(b.parsed->namespaces[RUNTIME_NS_NETWORK].enabled);
	assert_false(b.parsed->namespaces[RUNTIME_NS_UTS].enabled);
	assert_true(b.parsed->namespaces[RUNTIME_NS_PID].enabled);
	assert_null(json_object_get(json_object_get(b.spec, "linux"), "sysctl"));
	built_clear(&b);
}

static void test_spec_mounts_and_devices(void **state)
{
	char dir[] = "/tmp/berth-hc-XXXXXX";
	char *hc;
	struct built b = { 0 };
	const json_t *m;

	assert_non_null(mkdtemp(dir));
	hc = str_printf("{\"Binds\":[\"%s:/data:ro\",\"%s:/rw\"],\"Tmpfs\":{\"/run\":"
			"\"rw,size=64m\",\"/dev/shm\":\"size=1m\"},\"Mounts\":[{\"Type\":"
			"\"tmpfs\",\"Target\":\"/t2\",\"TmpfsOptions\":{\"SizeBytes\":1048576}}],"
			"\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":"
			"\"/dev/mynull\",\"CgroupPermissions\":\"rw\"}],\"ShmSize\":134217728}",
			dir, dir);
	build(hc, true, &b);
	m = mount_at(b.spec, "/data");
	assert_non_null(m);
	free(hc);
	hc = str_printf("\"%s\"", dir);
	expect_json(json_object_get(m, "source"), hc);
	expect_json(json_object_get(m, "options"), "[\"rbind\",\"rprivate\",\"ro\"]");
	expect_json(json_object_get(mount_at(b.spec, "/rw"), "options"),
		    "[\"rbind\",\"rprivate\",\"rw\"]");
	expect_json(json_object_get(mount_at(b.spec, "/run"), "options"),
		    "[\"nosuid\",\"nodev\",\"noexec\",\"rw\",\"size=64m\"]");
	expect_json(json_object_get(mount_at(b.spec, "/t2"), "options"),
		    "[\"nosuid\",\"nodev\",\"noexec\",\"size=1048576\"]");
	/* The container's /dev/shm replaces Docker's. */
	expect_json(json_object_get(mount_at(b.spec, "/dev/shm"), "options"),
		    "[\"nosuid\",\"nodev\",\"noexec\",\"size=1m\"]");
	/* The device node and its cgroup rule. */
	assert_int_equal(b.parsed->n_devices, 1);
	assert_string_equal(b.parsed->devices[0].path, "/dev/mynull");
	assert_int_equal(b.parsed->devices[0].major, 1);
	assert_int_equal(b.parsed->devices[0].minor, 3);
	assert_int_equal(b.parsed->resources.n_devices, 2);
	assert_true(b.parsed->resources.devices[1].allow);
	assert_string_equal(b.parsed->resources.devices[1].access, "rw");
	built_clear(&b);
	free(hc);

	/* ShmSize without a Tmpfs there. */
	build("{\"ShmSize\":134217728}", true, &b);
	expect_json(json_object_get(mount_at(b.spec, "/dev/shm"), "options"),
		    "[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=134217728\"]");
	built_clear(&b);
	rmdir(dir);
}

static void test_files_hostconfig(void **state)
{
	char dir[] = "/tmp/berth-files-XXXXXX";
	struct berr *err = NULL;
	json_t *hc;
	char *path, *got = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(daemon_files_write(dir, "h1", "/dev/null", &err), 0);
	hc = normalize("{\"ExtraHosts\":[\"db:10.0.0.5\",\"v6:::1\"],\"Dns\":[\"1.1.1.1\"],"
		       "\"DnsSearch\":[\"example.com\"],\"DnsOptions\":[\"ndots:2\"]}",
		       NULL, &err);
	assert_non_null(hc);
	assert_int_equal(daemon_files_apply_hostconfig(dir, hc, &err), 0);
	path = str_printf("%s/hosts", dir);
	assert_int_equal(fs_read_file(path, 65536, &got, &len, &err), 0);
	assert_non_null(strstr(got, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(got, "10.0.0.5\tdb\n"));
	assert_non_null(strstr(got, "::1\tv6\n"));
	free(got);
	free(path);
	path = str_printf("%s/resolv.conf", dir);
	assert_int_equal(fs_read_file(path, 65536, &got, &len, &err), 0);
	assert_string_equal(got, "nameserver 1.1.1.1\nsearch example.com\noptions ndots:2\n");
	free(got);
	free(path);
	json_decref(hc);
	fs_remove_tree(dir, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_types),
		cmocka_unit_test(test_hostconfig_types),
		cmocka_unit_test(test_merge_with_image),
		cmocka_unit_test(test_hostconfig_defaults),
		cmocka_unit_test(test_hostconfig_validation),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_spec_resources),
		cmocka_unit_test(test_spec_security),
		cmocka_unit_test(test_spec_process),
		cmocka_unit_test(test_spec_network),
		cmocka_unit_test(test_spec_mounts_and_devices),
		cmocka_unit_test(test_files_hostconfig),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
