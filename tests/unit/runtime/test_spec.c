/* Unit tests of the config.json parser: the default spec read back field by
 * field, each class of error with the JSON path it must name, and the mount
 * option table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fsutil.h"
#include "lib/json.h"
#include "runtime/spec.h"

#define CAP_BIT(n) (UINT64_C(1) << (n))

#define _cleanup_spec_ _cleanup_(runtime_spec_free_cleanup)

/* The default config as a document a test can change before parsing. */
static json_t *base(void)
{
	_cleanup_free_ char *text = runtime_spec_default_json(false);
	json_t *doc;

	assert_non_null(text);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	return doc;
}

static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	assert_non_null(v);
	return v;
}

static struct runtime_spec *parse_text_ok(const char *text)
{
	struct runtime_spec *spec = NULL;
	struct berr *err = NULL;

	if (runtime_spec_parse(text, strlen(text), &spec, &err) < 0)
		fail_msg("parse failed: %s", err->msg);
	return spec;
}

static struct runtime_spec *parse_ok(json_t *doc)
{
	_cleanup_free_ char *text = json_dumps(doc, 0);

	return parse_text_ok(text);
}

/* Parses DOC, which must fail with BERR_INVALID and exactly MSG. */
static void parse_fails(json_t *doc, const char *msg)
{
	_cleanup_free_ char *text = json_dumps(doc, 0);
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_spec *spec = NULL;

	assert_int_equal(runtime_spec_parse(text, strlen(text), &spec, &err), -1);
	assert_null(spec);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INVALID);
	if (strcmp(err->msg, msg) != 0)
		fail_msg("expected \"%s\", got \"%s\"", msg, err->msg);
}

static void set(json_t *obj, const char *key, json_t *value)
{
	assert_int_equal(json_object_set_new(obj, key, value), 0);
}

static void test_default_spec(void **state)
{
	_cleanup_json_ json_t *doc = base();
	_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
	const struct runtime_process *p = s->process;
	uint64_t caps = CAP_BIT(29) | CAP_BIT(5) | CAP_BIT(10);

	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_string_equal(s->root_path, "rootfs");
	assert_true(s->root_readonly);
	assert_string_equal(s->hostname, "berth");
	assert_non_null(p);
	assert_true(p->terminal);
	assert_string_equal(p->cwd, "/");
	assert_int_equal(strv_length(p->args), 1);
	assert_string_equal(p->args[0], "sh");
	assert_int_equal(strv_length(p->env), 2);
	assert_string_equal(p->env[1], "TERM=xterm");
	assert_int_equal(p->uid, 0);
	assert_int_equal(p->gid, 0);
	assert_false(p->has_umask);
	assert_true(p->caps.present);
	assert_true(p->caps.bounding == caps);
	assert_true(p->caps.effective == caps);
	assert_true(p->caps.permitted == caps);
	assert_true(p->caps.inheritable == 0);
	assert_true(p->caps.ambient == 0);
	assert_int_equal(p->n_rlimits, 1);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 1024);
	assert_true(p->no_new_privileges);
	assert_false(p->has_oom_score_adj);

	assert_int_equal(s->n_mounts, 7);
	assert_string_equal(s->mounts[0].destination, "/proc");
	assert_string_equal(s->mounts[0].type, "proc");
	assert_null(s->mounts[0].options);
	assert_null(s->mounts[0].data);
	assert_int_equal(s->mounts[0].flags, 0);
	assert_string_equal(s->mounts[1].destination, "/dev");
	assert_int_equal(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
	assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
	assert_string_equal(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	assert_string_equal(s->mounts[5].destination, "/sys");
	assert_int_equal(s->mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
	assert_null(s->mounts[5].data);
	assert_false(s->mounts[5].bind);

	for (int t = 0; t < RUNTIME_NS_COUNT; t++) {
		bool expected = t != RUNTIME_NS_USER && t != RUNTIME_NS_TIME;

		assert_int_equal(s->namespaces[t].enabled, expected);
		assert_null(s->namespaces[t].path);
	}
	assert_int_equal(s->n_uid_mappings, 0);
	assert_int_equal(strv_length(s->masked_paths), 11);
	assert_string_equal(s->masked_paths[0], "/proc/acpi");
	assert_int_equal(strv_length(s->readonly_paths), 5);
	assert_int_equal(s->resources.n_devices, 1);
	assert_false(s->resources.devices[0].allow);
	assert_int_equal(s->resources.devices[0].type, 'a');
	assert_int_equal(s->resources.devices[0].major, -1);
	assert_int_equal(s->resources.devices[0].minor, -1);
	assert_string_equal(s->resources.devices[0].access, "rwm");
	assert_null(s->seccomp);
	assert_int_equal(s->hooks[RUNTIME_HOOK_PRESTART].n, 0);
}

static void test_default_spec_rootless(void **state)
{
	_cleanup_free_ char *text = runtime_spec_default_json(true);
	_cleanup_spec_ struct runtime_spec *s = parse_text_ok(text);

	assert_true(s->namespaces[RUNTIME_NS_USER].enabled);
	assert_false(s->namespaces[RUNTIME_NS_NETWORK].enabled);
	assert_true(s->namespaces[RUNTIME_NS_PID].enabled);
	assert_int_equal(s->n_uid_mappings, 1);
	assert_int_equal(s->uid_mappings[0].container_id, 0);
	assert_int_equal(s->uid_mappings[0].host_id, geteuid());
	assert_int_equal(s->uid_mappings[0].size, 1);
	assert_int_equal(s->n_gid_mappings, 1);
	assert_int_equal(s->gid_mappings[0].host_id, getegid());
	/* sysfs is bound from the host, and devpts loses its gid. */
	assert_string_equal(s->mounts[5].destination, "/sys");
	assert_true(s->mounts[5].bind);
	assert_true(s->mounts[5].recursive);
	assert_string_equal(s->mounts[5].source, "/sys");
	assert_string_equal(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620");
	assert_int_equal(s->resources.n_devices, 0);
}

static void test_malformed_json(void **state)
{
	const char *text = "{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {\"path\": \"r\",}\n}";
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_spec *spec = NULL;

	assert_int_equal(runtime_spec_parse(text, strlen(text), &spec, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "line 3, column"));
	assert_null(spec);
}

static void test_not_an_object(void **state)
{
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_spec *spec = NULL;

	assert_int_equal(runtime_spec_parse("[]", 2, &spec, &err), -1);
	assert_string_equal(err->msg, "expected an object");
}

static void test_too_large(void **state)
{
	size_t len = RUNTIME_SPEC_MAX_SIZE + 1;
	_cleanup_free_ char *text = malloc(len);
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_spec *spec = NULL;

	assert_non_null(text);
	memset(text, ' ', len);
	text[0] = '{';
	text[len - 1] = '}';
	assert_int_equal(runtime_spec_parse(text, len, &spec, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "too large"));
}

static void test_required_top_level(void **state)
{
	_cleanup_json_ json_t *doc = base();

	json_object_del(doc, "ociVersion");
	parse_fails(doc, "ociVersion: required field is missing");
	set(doc, "ociVersion", json_integer(1));
	parse_fails(doc, "ociVersion: expected a string");
	set(doc, "ociVersion", json_string("1.2.0"));
	json_object_del(member(doc, "root"), "path");
	parse_fails(doc, "root.path: required field is missing");
	json_object_del(doc, "root");
	parse_fails(doc, "root: required field is missing");
}

static void test_wrong_types(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *proc = member(doc, "process");

	set(proc, "terminal", json_string("yes"));
	parse_fails(doc, "process.terminal: expected a boolean");
	set(proc, "terminal", json_true());
	set(doc, "mounts", json_object());
	parse_fails(doc, "mounts: expected an array");
	set(doc, "mounts", json_array());
	set(member(proc, "user"), "uid", json_integer(-1));
	parse_fails(doc, "process.user.uid: expected an unsigned integer");
	/* (uid_t)-1 would leave the process root. */
	set(member(proc, "user"), "uid", json_integer(4294967295LL));
	parse_fails(doc, "process.user.uid: 4294967295 is out of range (0 to 4294967294)");
	set(member(proc, "user"), "uid", json_integer(1000));
	set(member(doc, "linux"), "namespaces", json_string("pid"));
	parse_fails(doc, "linux.namespaces: expected an array");
	set(member(doc, "linux"), "namespaces", json_array());
	set(doc, "hostname", json_null());
	set(proc, "oomScoreAdj", json_integer(1001));
	parse_fails(doc, "process.oomScoreAdj: 1001 is out of range (-1000 to 1000)");
	set(proc, "oomScoreAdj", json_integer(-500));

	_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
	assert_int_equal(s->process->uid, 1000);
	assert_true(s->process->has_oom_score_adj);
	assert_int_equal(s->process->oom_score_adj, -500);
	assert_null(s->hostname);
}

static void test_namespaces(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *ns = member(member(doc, "linux"), "namespaces");

	json_object_set_new(json_array_get(ns, 2), "type", json_string("foo"));
	parse_fails(doc, "linux.namespaces[2].type: unknown namespace type \"foo\"");
	json_object_set_new(json_array_get(ns, 2), "type", json_string("pid"));
	parse_fails(doc, "linux.namespaces[2].type: duplicated namespace type \"pid\"");
	json_object_set_new(json_array_get(ns, 2), "type", json_string("ipc"));
	json_object_set_new(json_array_get(ns, 1), "path", json_string("run/netns/x"));
	parse_fails(doc, "linux.namespaces[1].path: \"run/netns/x\" is not an absolute path");
	json_object_set_new(json_array_get(ns, 1), "path", json_string("/run/netns/x"));
	json_object_set_new(json_array_get(ns, 0), "path", json_string(""));
	json_array_append_new(ns, json_pack("{s:s}", "type", "time"));

	_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
	assert_string_equal(s->namespaces[RUNTIME_NS_NETWORK].path, "/run/netns/x");
	assert_true(s->namespaces[RUNTIME_NS_PID].enabled);
	assert_null(s->namespaces[RUNTIME_NS_PID].path);
	assert_true(s->namespaces[RUNTIME_NS_TIME].enabled);
}

static void test_user_namespace_rules(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *lnx = member(doc, "linux");
	json_t *ns = member(lnx, "namespaces");

	set(lnx, "uidMappings",
	    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536));
	parse_fails(doc, "linux: uidMappings and gidMappings need a user namespace");
	json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	parse_fails(doc, "linux: a new user namespace needs uidMappings and gidMappings");
	set(lnx, "gidMappings",
	    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 0));
	parse_fails(doc, "linux.gidMappings[0].size: must be at least 1");
	set(lnx, "gidMappings",
	    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)4294967295LL,
		      "size", 2));
	parse_fails(doc, "linux.gidMappings[0]: id range ends beyond 4294967295");
	set(lnx, "gidMappings",
	    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536));

	_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
	assert_true(s->namespaces[RUNTIME_NS_USER].enabled);
	assert_int_equal(s->uid_mappings[0].host_id, 100000);
	assert_int_equal(s->gid_mappings[0].size, 65536);
}

static void test_hostname_needs_uts(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *ns = member(member(doc, "linux"), "namespaces");

	json_array_remove(ns, 3); /* uts */
	parse_fails(doc, "hostname: needs a UTS namespace");
	json_object_del(doc, "hostname");
	set(doc, "domainname", json_string("example.org"));
	parse_fails(doc, "domainname: needs a UTS namespace");
}

static void test_process_cwd_and_args(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *proc = member(doc, "process");

	set(proc, "cwd", json_string("tmp"));
	parse_fails(doc, "process.cwd: \"tmp\" is not an absolute path");
	json_object_del(proc, "cwd");
	parse_fails(doc, "process.cwd: required field is missing");
	set(proc, "cwd", json_string("/tmp"));
	json_object_del(proc, "args");
	parse_fails(doc, "process.args: required field is missing");
	set(proc, "args", json_array());
	parse_fails(doc, "process.args: at least one argument is required");
	set(proc, "args", json_pack("[s, i]", "sh", 1));
	parse_fails(doc, "process.args[1]: expected a string");
	set(proc, "args", json_pack("[s, s]", "sh", "-c"));
	set(proc, "env", json_pack("[s, s]", "A=1", "NOEQUALS"));
	parse_fails(doc, "process.env[1]: \"NOEQUALS\" has no '='");
	set(proc, "env", json_pack("[s]", "=x"));
	parse_fails(doc, "process.env[0]: \"=x\" has an empty name");
	set(proc, "env", json_pack("[s]", "A="));
	set(proc, "consoleSize", json_pack("{s:i, s:i}", "height", 24, "width", 70000));
	parse_fails(doc, "process.consoleSize.width: 70000 is out of range (0 to 65535)");
	set(proc, "consoleSize", json_pack("{s:i, s:i}", "height", 24, "width", 80));

	_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
	assert_string_equal(s->process->cwd, "/tmp");
	assert_string_equal(s->process->args[1], "-c");
	assert_int_equal(s->process->console_height, 24);
	assert_int_equal(s->process->console_width, 80);
}

static void test_process_user(void **state)
{
	_cleanup_json_ json_t *doc = base();

	set(member(doc, "process"), "user",
	    json_pack("{s:i, s:i, s:i, s:[i, i]}", "uid", 1000, "gid", 100, "umask", 022,
		      "additionalGids", 5, 6));
	_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
	assert_int_equal(s->process->uid, 1000);
	assert_int_equal(s->process->gid, 100);
	assert_true(s->process->has_umask);
	assert_int_equal(s->process->umask, 022);
	assert_int_equal(s->process->n_additional_gids, 2);
	assert_int_equal(s->process->additional_gids[1], 6);

	set(member(member(doc, "process"), "user"), "additionalGids", json_pack("[i, s]", 5, "x"));
	parse_fails(doc, "process.user.additionalGids[1]: expected an unsigned integer");
	set(member(member(doc, "process"), "user"), "umask", json_integer(01000));
	parse_fails(doc, "process.user.umask: 512 is out of range (0 to 511)");
}

static void test_capabilities(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *caps = member(member(doc, "process"), "capabilities");

	/* Unknown names are skipped with a warning, known ones kept. */
	set(caps, "ambient",
	    json_pack("[s, s, s]", "CAP_SYS_ADMIN", "CAP_FUTURE_THING", "CAP_CHECKPOINT_RESTORE"));
	set(caps, "inheritable", json_array());
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);

		assert_true(s->process->caps.ambient == (CAP_BIT(21) | CAP_BIT(40)));
		assert_true(s->process->caps.inheritable == 0);
	}
	set(caps, "ambient", json_pack("[s, i]", "CAP_KILL", 3));
	parse_fails(doc, "process.capabilities.ambient[1]: expected a string");
	set(caps, "ambient", json_string("CAP_KILL"));
	parse_fails(doc, "process.capabilities.ambient: expected an array");
}

static void test_rlimits(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *proc = member(doc, "process");
	json_t *rl = member(proc, "rlimits");

	json_array_append_new(
		rl, json_pack("{s:s, s:i, s:i}", "type", "RLIMIT_CORE", "hard", 10, "soft", 5));
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);

		assert_int_equal(s->process->n_rlimits, 2);
		assert_int_equal(s->process->rlimits[1].resource, RLIMIT_CORE);
		assert_int_equal(s->process->rlimits[1].soft, 5);
	}
	set(json_array_get(rl, 1), "hard", json_string("10"));
	parse_fails(doc, "process.rlimits[1].hard: expected an unsigned integer");
	set(json_array_get(rl, 1), "hard", json_integer(4));
	parse_fails(doc, "process.rlimits[1]: soft limit 5 is above hard limit 4");
	set(json_array_get(rl, 1), "type", json_string("RLIMIT_FOO"));
	parse_fails(doc, "process.rlimits[1].type: unknown rlimit type \"RLIMIT_FOO\"");
	json_object_del(json_array_get(rl, 1), "type");
	parse_fails(doc, "process.rlimits[1].type: required field is missing");
}

/* "unlimited" is written as the largest uint64, beyond what jansson holds
 * as an integer. */
static void test_rlimit_unlimited(void **state)
{
	const char *text =
		"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"},"
		" \"process\": {\"cwd\": \"/\", \"args\": [\"sh\"], \"rlimits\": [{\"type\":"
		" \"RLIMIT_MEMLOCK\", \"hard\": 18446744073709551615, \"soft\": "
		"18446744073709551615}]}}";
	_cleanup_spec_ struct runtime_spec *s = parse_text_ok(text);

	assert_true(s->process->rlimits[0].hard == UINT64_MAX);
	assert_true(s->process->rlimits[0].soft == UINT64_MAX);
	assert_int_equal(s->process->rlimits[0].resource, RLIMIT_MEMLOCK);
}

static struct runtime_mount *parse_one_mount(json_t *mount, struct runtime_spec **out)
{
	_cleanup_json_ json_t *doc = base();

	set(doc, "mounts", json_pack("[O]", mount));
	*out = parse_ok(doc);
	assert_int_equal((*out)->n_mounts, 1);
	return &(*out)->mounts[0];
}

static void test_mount_options(void **state)
{
	_cleanup_json_ json_t *m =
		json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s, s, s, s, s]}", "destination", "/data",
			  "type", "tmpfs", "source", "tmpfs", "options", "ro", "nosuid", "size=64m",
			  "nodev", "noatime", "rprivate", "", "mode=755", "defaults");
	_cleanup_spec_ struct runtime_spec *s = NULL;
	struct runtime_mount *mt = parse_one_mount(m, &s);

	assert_int_equal(mt->flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOATIME);
	assert_int_equal(mt->clear_flags, 0);
	assert_int_equal(mt->propagation, MS_PRIVATE | MS_REC);
	assert_false(mt->bind);
	assert_string_equal(mt->data, "size=64m,mode=755");
	assert_string_equal(mt->type, "tmpfs");
	assert_int_equal(strv_length(mt->options), 9);
}

/* Later words win, and the "no" half of each pair clears its flag. */
static void test_mount_option_pairs(void **state)
{
	static const struct {
		const char *opts[3];
		unsigned long flags, clear;
	} cases[] = {
		{ { "ro", "rw" }, 0, MS_RDONLY },
		{ { "rw", "ro" }, MS_RDONLY, 0 },
		{ { "suid" }, 0, MS_NOSUID },
		{ { "dev" }, 0, MS_NODEV },
		{ { "exec", "noexec" }, MS_NOEXEC, 0 },
		{ { "sync" }, MS_SYNCHRONOUS, 0 },
		{ { "async" }, 0, MS_SYNCHRONOUS },
		{ { "dirsync", "remount" }, MS_DIRSYNC | MS_REMOUNT, 0 },
		{ { "mand" }, MS_MANDLOCK, 0 },
		{ { "nomand" }, 0, MS_MANDLOCK },
		{ { "atime" }, 0, MS_NOATIME },
		{ { "diratime" }, 0, MS_NODIRATIME },
		{ { "nodiratime" }, MS_NODIRATIME, 0 },
		{ { "relatime" }, MS_RELATIME, 0 },
		{ { "norelatime" }, 0, MS_RELATIME },
		{ { "strictatime" }, MS_STRICTATIME, 0 },
		{ { "nostrictatime" }, 0, MS_STRICTATIME },
		{ { "bind" }, MS_BIND, 0 },
		{ { "rbind" }, MS_BIND | MS_REC, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_json_ json_t *m = json_pack("{s:s, s:[]}", "destination", "/m", "options");
		_cleanup_spec_ struct runtime_spec *s = NULL;
		struct runtime_mount *mt;

		for (int j = 0; j < 3 && cases[i].opts[j]; j++)
			json_array_append_new(member(m, "options"), json_string(cases[i].opts[j]));
		mt = parse_one_mount(m, &s);
		if (mt->flags != cases[i].flags || mt->clear_flags != cases[i].clear)
			fail_msg("case %zu (%s): flags %#lx clear %#lx", i, cases[i].opts[0],
				 mt->flags, mt->clear_flags);
		assert_null(mt->data);
		assert_null(mt->type);
	}
}

static void test_mount_propagation_and_bind(void **state)
{
	static const struct {
		const char *word;
		unsigned long flags;
	} props[] = {
		{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
		{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
		{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		_cleanup_json_ json_t *m = json_pack("{s:s, s:[s, s]}", "destination", "/m",
						     "options", "rbind", props[i].word);
		_cleanup_spec_ struct runtime_spec *s = NULL;
		struct runtime_mount *mt = parse_one_mount(m, &s);

		assert_int_equal(mt->propagation, props[i].flags);
		assert_true(mt->bind);
		assert_true(mt->recursive);
	}

	/* type "bind" alone is a (non-recursive) bind mount. */
	_cleanup_json_ json_t *m =
		json_pack("{s:s, s:s, s:s}", "destination", "/m", "type", "bind", "source", "/src");
	_cleanup_spec_ struct runtime_spec *s = NULL;
	struct runtime_mount *mt = parse_one_mount(m, &s);

	assert_true(mt->bind);
	assert_false(mt->recursive);
	assert_int_equal(mt->flags, MS_BIND);
	assert_string_equal(mt->source, "/src");
}

static void test_mount_errors(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *mounts = member(doc, "mounts");

	json_object_set_new(json_array_get(mounts, 3), "destination", json_string("dev/shm"));
	parse_fails(doc, "mounts[3].destination: \"dev/shm\" is not an absolute path");
	json_object_del(json_array_get(mounts, 3), "destination");
	parse_fails(doc, "mounts[3].destination: required field is missing");
	json_object_set_new(json_array_get(mounts, 3), "destination", json_string("/dev/shm"));
	json_object_set_new(json_array_get(mounts, 4), "options", json_pack("[s, b]", "ro", 1));
	parse_fails(doc, "mounts[4].options[1]: expected a string");
	json_array_set_new(mounts, 4, json_string("/x"));
	parse_fails(doc, "mounts[4]: expected an object");
}

static void test_hooks(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *hooks = json_pack(
		"{s:[{s:s, s:[s, s], s:[s], s:i}], s:[{s:s}], s:[{s:s}], s:[{s:s}], s:[{s:s}],"
		" s:[{s:s}, {s:s}]}",
		"prestart", "path", "/bin/hook", "args", "hook", "pre", "env", "A=1", "timeout", 5,
		"createRuntime", "path", "/cr", "createContainer", "path", "/cc", "startContainer",
		"path", "/sc", "poststart", "path", "/ps", "poststop", "path", "/p1", "path",
		"/p2");

	set(doc, "hooks", hooks);
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
		const struct runtime_hook *h = &s->hooks[RUNTIME_HOOK_PRESTART].hooks[0];

		assert_string_equal(h->path, "/bin/hook");
		assert_string_equal(h->args[1], "pre");
		assert_string_equal(h->env[0], "A=1");
		assert_int_equal(h->timeout, 5);
		assert_string_equal(s->hooks[RUNTIME_HOOK_CREATE_RUNTIME].hooks[0].path, "/cr");
		assert_string_equal(s->hooks[RUNTIME_HOOK_CREATE_CONTAINER].hooks[0].path, "/cc");
		assert_string_equal(s->hooks[RUNTIME_HOOK_START_CONTAINER].hooks[0].path, "/sc");
		assert_string_equal(s->hooks[RUNTIME_HOOK_POSTSTART].hooks[0].path, "/ps");
		assert_int_equal(s->hooks[RUNTIME_HOOK_POSTSTOP].n, 2);
		assert_string_equal(s->hooks[RUNTIME_HOOK_POSTSTOP].hooks[1].path, "/p2");
		assert_null(s->hooks[RUNTIME_HOOK_POSTSTOP].hooks[1].args);
		assert_int_equal(s->hooks[RUNTIME_HOOK_POSTSTOP].hooks[1].timeout, 0);
	}
	json_t *pre = json_array_get(member(hooks, "prestart"), 0);

	set(pre, "timeout", json_integer(0));
	parse_fails(doc, "hooks.prestart[0].timeout: must be greater than zero");
	set(pre, "timeout", json_integer(1));
	set(json_array_get(member(hooks, "poststop"), 1), "path", json_string("p2"));
	parse_fails(doc, "hooks.poststop[1].path: \"p2\" is not an absolute path");
}

static void test_devices(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *lnx = member(doc, "linux");
	json_t *devs = json_pack("[{s:s, s:s, s:i, s:i, s:i, s:i, s:i}, {s:s, s:s}]", "type", "c",
				 "path", "/dev/fuse", "major", 10, "minor", 229, "fileMode", 020666,
				 "uid", 0, "gid", 0, "type", "p", "path", "/dev/fifo");

	set(lnx, "devices", devs);
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);

		assert_int_equal(s->n_devices, 2);
		assert_int_equal(s->devices[0].type, 'c');
		assert_int_equal(s->devices[0].major, 10);
		assert_int_equal(s->devices[0].minor, 229);
		assert_true(s->devices[0].has_file_mode);
		assert_int_equal(s->devices[0].file_mode, 0666);
		assert_true(s->devices[0].has_uid);
		assert_true(s->devices[0].has_gid);
		assert_int_equal(s->devices[1].type, 'p');
		assert_false(s->devices[1].has_uid);
		assert_false(s->devices[1].has_file_mode);
	}
	json_t *d0 = json_array_get(devs, 0);

	set(d0, "type", json_string("x"));
	parse_fails(doc, "linux.devices[0].type: unknown device type \"x\"");
	set(d0, "type", json_string("cb"));
	parse_fails(doc, "linux.devices[0].type: unknown device type \"cb\"");
	set(d0, "type", json_string("b"));
	json_object_del(d0, "major");
	parse_fails(doc, "linux.devices[0].major: required field is missing");
	set(d0, "major", json_integer(4096));
	parse_fails(doc, "linux.devices[0].major: 4096 is out of range (0 to 4095)");
	set(d0, "major", json_integer(8));
	set(d0, "path", json_string("dev/sda"));
	parse_fails(doc, "linux.devices[0].path: \"dev/sda\" is not an absolute path");
}

static void test_resources(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *res = member(member(doc, "linux"), "resources");

	set(res, "memory",
	    json_pack("{s:I, s:I, s:i, s:i, s:I, s:b}", "limit", (json_int_t)1 << 30, "reservation",
		      (json_int_t)1 << 29, "swap", -1, "swappiness", 60, "kernel", (json_int_t)-7,
		      "disableOOMKiller", 1));
	set(res, "cpu",
	    json_pack("{s:i, s:i, s:i, s:s, s:s, s:i}", "shares", 512, "quota", 50000, "period",
		      100000, "cpus", "0-1", "mems", "0", "realtimeRuntime", 5));
	set(res, "pids", json_pack("{s:i}", "limit", 100));
	set(res, "blockIO", json_pack("{s:i, s:[]}", "weight", 500, "weightDevice"));
	json_array_append_new(member(res, "devices"),
			      json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type", "c",
					"major", 1, "minor", 3, "access", "rw"));
	set(res, "unified", json_pack("{s:s}", "memory.high", "100000"));
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
		const struct runtime_resources *r = &s->resources;

		assert_true(r->has_memory_limit);
		assert_int_equal(r->memory_limit, 1 << 30);
		assert_int_equal(r->memory_reservation, 1 << 29);
		assert_int_equal(r->memory_swap, -1);
		assert_int_equal(r->memory_swappiness, 60);
		assert_true(r->disable_oom_killer);
		assert_int_equal(r->cpu_shares, 512);
		assert_int_equal(r->cpu_quota, 50000);
		assert_int_equal(r->cpu_period, 100000);
		assert_string_equal(r->cpuset_cpus, "0-1");
		assert_string_equal(r->cpuset_mems, "0");
		assert_true(r->has_pids_limit);
		assert_int_equal(r->pids_limit, 100);
		assert_true(r->has_blkio_weight);
		assert_int_equal(r->blkio_weight, 500);
		assert_int_equal(r->n_devices, 2);
		assert_true(r->devices[1].allow);
		assert_int_equal(r->devices[1].type, 'c');
		assert_int_equal(r->devices[1].major, 1);
		assert_int_equal(r->devices[1].minor, 3);
		assert_string_equal(r->devices[1].access, "rw");
		assert_int_equal(r->n_unified, 1);
		assert_string_equal(r->unified_keys[0], "memory.high");
		assert_string_equal(r->unified_values[0], "100000");
	}
	json_t *rule = json_array_get(member(res, "devices"), 1);

	set(rule, "access", json_string("rwx"));
	parse_fails(doc, "linux.resources.devices[1].access: \"rwx\" is not a combination of r, w "
			 "and m");
	set(rule, "access", json_string("rr"));
	parse_fails(doc, "linux.resources.devices[1].access: \"rr\" repeats a letter");
	set(rule, "access", json_string("m"));
	set(rule, "type", json_string("u"));
	parse_fails(doc, "linux.resources.devices[1].type: unknown device type \"u\"");
	set(rule, "type", json_string("b"));
	json_object_del(rule, "allow");
	parse_fails(doc, "linux.resources.devices[1].allow: required field is missing");
	set(rule, "allow", json_true());
	set(member(res, "memory"), "swappiness", json_integer(101));
	parse_fails(doc, "linux.resources.memory.swappiness: 101 is out of range (0 to 100)");
	set(member(res, "memory"), "swappiness", json_integer(0));
	set(member(res, "cpu"), "shares", json_integer(-2));
	parse_fails(doc, "linux.resources.cpu.shares: expected an unsigned integer");
	set(member(res, "cpu"), "shares", json_integer(2));
	set(member(res, "unified"), "cpu.max", json_integer(5));
	parse_fails(doc, "linux.resources.unified[\"cpu.max\"]: expected a string");
}

static void test_seccomp(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *sc = json_pack(
		"{s:s, s:i, s:[s, s], s:[s], s:s, s:s, s:[{s:[s, s], s:s}, {s:[s], s:s, s:i,"
		" s:[{s:i, s:I, s:i, s:s}]}]}",
		"defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", 38, "architectures",
		"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "flags", "SECCOMP_FILTER_FLAG_LOG",
		"listenerPath", "/run/seccomp.sock", "listenerMetadata", "meta", "syscalls",
		"names", "read", "write", "action", "SCMP_ACT_ALLOW", "names", "personality",
		"action", "SCMP_ACT_ALLOW", "errnoRet", 1, "args", "index", 0, "value",
		(json_int_t)0xffffffff, "valueTwo", 0, "op", "SCMP_CMP_MASKED_EQ");

	set(member(doc, "linux"), "seccomp", sc);
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);
		const struct runtime_seccomp *c = s->seccomp;

		assert_non_null(c);
		assert_string_equal(c->default_action, "SCMP_ACT_ERRNO");
		assert_true(c->has_default_errno_ret);
		assert_int_equal(c->default_errno_ret, 38);
		assert_int_equal(strv_length(c->architectures), 2);
		assert_string_equal(c->flags[0], "SECCOMP_FILTER_FLAG_LOG");
		assert_string_equal(c->listener_path, "/run/seccomp.sock");
		assert_string_equal(c->listener_metadata, "meta");
		assert_int_equal(c->n_rules, 2);
		assert_string_equal(c->rules[0].names[1], "write");
		assert_false(c->rules[0].has_errno_ret);
		assert_int_equal(c->rules[0].n_args, 0);
		assert_true(c->rules[1].has_errno_ret);
		assert_int_equal(c->rules[1].n_args, 1);
		assert_int_equal(c->rules[1].args[0].value, 0xffffffff);
		assert_int_equal(c->rules[1].args[0].op, RUNTIME_SECCOMP_OP_MASKED_EQ);
	}
	json_t *arg = json_array_get(member(json_array_get(member(sc, "syscalls"), 1), "args"), 0);

	set(arg, "op", json_string("SCMP_CMP_FOO"));
	parse_fails(doc, "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
	set(arg, "op", json_string("SCMP_CMP_EQ"));
	set(arg, "index", json_integer(6));
	parse_fails(doc, "linux.seccomp.syscalls[1].args[0].index: 6 is out of range (0 to 5)");
	set(arg, "index", json_integer(5));
	set(json_array_get(member(sc, "syscalls"), 0), "names", json_array());
	parse_fails(doc, "linux.seccomp.syscalls[0].names: at least one name is required");
	json_object_del(sc, "defaultAction");
	parse_fails(doc, "linux.seccomp.defaultAction: required field is missing");
}

static void test_linux_misc(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *lnx = member(doc, "linux");

	set(lnx, "sysctl",
	    json_pack("{s:s, s:s}", "net.ipv4.ip_forward", "1", "kernel.msgmax", "8192"));
	set(lnx, "rootfsPropagation", json_string("rslave"));
	set(lnx, "personality", json_pack("{s:s, s:[]}", "domain", "LINUX32", "flags"));
	set(lnx, "cgroupsPath", json_string("/berth/abc"));
	set(lnx, "mountLabel", json_string("system_u:object_r:container_file_t:s0"));
	set(lnx, "intelRdt", json_pack("{s:s}", "closID", "x"));
	set(doc, "annotations", json_pack("{s:s}", "org.example.key", "value"));
	set(doc, "futureTopLevelKey", json_pack("{s:i}", "x", 1));
	{
		_cleanup_spec_ struct runtime_spec *s = parse_ok(doc);

		assert_int_equal(s->n_sysctls, 2);
		assert_string_equal(s->sysctls[0].key, "net.ipv4.ip_forward");
		assert_string_equal(s->sysctls[1].value, "8192");
		assert_string_equal(s->rootfs_propagation, "rslave");
		assert_string_equal(s->personality_domain, "LINUX32");
		assert_string_equal(s->cgroups_path, "/berth/abc");
		assert_string_equal(s->mount_label, "system_u:object_r:container_file_t:s0");
		assert_int_equal(s->n_annotations, 1);
		assert_string_equal(s->annotation_keys[0], "org.example.key");
		assert_string_equal(s->annotation_values[0], "value");
	}
	set(lnx, "rootfsPropagation", json_string("sideways"));
	parse_fails(doc, "linux.rootfsPropagation: unknown propagation \"sideways\"");
	set(lnx, "rootfsPropagation", json_string("private"));
	set(lnx, "personality", json_pack("{s:s}", "domain", "BSD"));
	parse_fails(doc, "linux.personality.domain: unknown personality domain \"BSD\"");
	set(lnx, "personality", json_pack("{s:s}", "domain", "LINUX"));
	json_array_append_new(member(lnx, "maskedPaths"), json_string("proc/kcore"));
	parse_fails(doc, "linux.maskedPaths[11]: \"proc/kcore\" is not an absolute path");
	json_array_remove(member(lnx, "maskedPaths"), 11);
	set(lnx, "sysctl", json_pack("{s:i}", "kernel.x", 1));
	parse_fails(doc, "linux.sysctl[\"kernel.x\"]: expected a string");
	set(lnx, "sysctl", json_object());
	set(doc, "annotations", json_pack("{s:b}", "k", 1));
	parse_fails(doc, "annotations.k: expected a string");
}

/* Error messages quote values from the document escaped, so they cannot
 * forge a line of their own in a log. */
static void test_error_value_escaped(void **state)
{
	_cleanup_json_ json_t *doc = base();
	json_t *ns = member(member(doc, "linux"), "namespaces");

	json_object_set_new(json_array_get(ns, 0), "type", json_string("x\nlevel=error msg=\"y"));
	parse_fails(doc, "linux.namespaces[0].type: unknown namespace type "
			 "\"x\\x0alevel=error msg=\\\"y\"");
}

static void test_process_parse(void **state)
{
	const char *ok = "{\"cwd\": \"/w\", \"args\": [\"ls\", \"-l\"], \"env\": [\"A=1\"],"
			 " \"terminal\": false, \"user\": {\"uid\": 5, \"gid\": 6}}";
	const char *bad = "{\"cwd\": \"/w\", \"args\": [\"ls\"], \"rlimits\": [{}]}";
	_cleanup_(runtime_process_free_cleanup) struct runtime_process *p = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_process *q = NULL;

	assert_int_equal(runtime_process_parse(ok, strlen(ok), &p, &err), 0);
	assert_string_equal(p->cwd, "/w");
	assert_string_equal(p->args[1], "-l");
	assert_int_equal(p->uid, 5);
	assert_int_equal(p->gid, 6);
	assert_false(p->caps.present);
	assert_int_equal(runtime_process_parse(bad, strlen(bad), &q, &err), -1);
	assert_null(q);
	assert_string_equal(err->msg, "rlimits[0].type: required field is missing");
	assert_int_equal(runtime_process_parse("[1]", 3, &q, &err), -1);
	assert_string_equal(err->msg, "expected an object");
}

static void test_spec_load(void **state)
{
	char dir[] = "/tmp/berth-test-spec-XXXXXX";
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *text = runtime_spec_default_json(false);
	_cleanup_berr_ struct berr *err = NULL;
	struct runtime_spec *s = NULL;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(runtime_spec_load(dir, &s, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_null(s);

	path = str_printf("%s/config.json", dir);
	assert_int_equal(fs_write_file_atomic(path, "{\"ociVersion\": 1}", 17, 0644, &err), 0);
	assert_int_equal(runtime_spec_load(dir, &s, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "config.json: ociVersion: expected a string"));

	assert_int_equal(fs_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
	assert_int_equal(runtime_spec_load(dir, &s, &err), 0);
	assert_string_equal(s->hostname, "berth");
	runtime_spec_free(s);
	assert_int_equal(fs_remove_tree(dir, &err), 0);
}

static void test_names(void **state)
{
	assert_string_equal(runtime_ns_type_name(RUNTIME_NS_NETWORK), "network");
	assert_string_equal(runtime_ns_type_name(RUNTIME_NS_TIME), "time");
	assert_null(runtime_ns_type_name(RUNTIME_NS_COUNT));
	assert_int_equal(runtime_ns_type_parse("cgroup"), RUNTIME_NS_CGROUP);
	assert_int_equal(runtime_ns_type_parse("net"), -1);
	assert_int_equal(runtime_ns_clone_flag(RUNTIME_NS_MOUNT), 0x00020000);
	assert_int_equal(runtime_ns_clone_flag(RUNTIME_NS_USER), 0x10000000);
	assert_int_equal(runtime_ns_clone_flag(RUNTIME_NS_TIME), 0x80);
	for (int t = 0; t < RUNTIME_NS_COUNT; t++)
		assert_int_equal(runtime_ns_type_parse(runtime_ns_type_name(t)), t);

	assert_int_equal(runtime_cap_parse("CAP_CHOWN"), 0);
	assert_int_equal(runtime_cap_parse("CAP_SYS_ADMIN"), 21);
	assert_int_equal(runtime_cap_parse("CAP_AUDIT_WRITE"), 29);
	assert_int_equal(runtime_cap_parse("CAP_BPF"), 39);
	assert_int_equal(runtime_cap_parse("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(runtime_cap_parse("cap_chown"), -1);
	assert_int_equal(runtime_cap_parse("SYS_ADMIN"), -1);
	assert_string_equal(runtime_cap_name(12), "CAP_NET_ADMIN");
	assert_null(runtime_cap_name(41));
	assert_null(runtime_cap_name(-1));
	for (int c = 0; c <= 40; c++)
		assert_int_equal(runtime_cap_parse(runtime_cap_name(c)), c);

	assert_int_equal(runtime_rlimit_parse("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	assert_int_equal(runtime_rlimit_parse("RLIMIT_AS"), RLIMIT_AS);
	assert_int_equal(runtime_rlimit_parse("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	assert_int_equal(runtime_rlimit_parse("RLIMIT_SIGPENDING"), RLIMIT_SIGPENDING);
	assert_int_equal(runtime_rlimit_parse("NOFILE"), -1);
}

/* Where linux.seccomp's text lies, or false for anything but one plain
 * linux member with one seccomp object. */
static void test_seccomp_span(void **state)
{
	const char *good = "{\"ociVersion\":\"1.0.2\", \"linux\" : {\"a\":[1,{\"b\":\"}\"}],"
			   "\"seccomp\": {\"defaultAction\":\"SCMP_ACT_ERRNO\",\"x\":\"q\\\"}{\","
			   "\"syscalls\":[{\"names\":[\"read\"]}]} , \"z\":true}, \"n\":-1.5e3 }";
	const char *const bad[] = {
		"{\"linux\":{\"a\":1}}",
		"{\"process\":{}}",
		"{\"linux\":{\"seccomp\":null}}",
		"{\"linux\":{\"seccomp\":{},\"seccomp\":{}}}",
		"{\"linux\":{\"seccomp\":{}},\"linux\":{\"seccomp\":{}}}",
		"{\"linux\":{\"sec\\u0063omp\":{},\"seccomp\":{}}}",
		"{\"linux\":{\"seccomp\":{}}} x",
		"{\"linux\":{\"seccomp\":{\"a\":[}}}",
		"{\"linux\":{\"seccomp\":{\"a\":\"unterminated}}}",
		"[\"linux\"]",
		"",
	};
	size_t start = 0, end = 0;

	(void)state;
	assert_true(runtime_spec_seccomp_span(good, strlen(good), &start, &end));
	assert_int_equal(end - start,
			 strlen("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"x\":\"q\\\"}{\","
				"\"syscalls\":[{\"names\":[\"read\"]}]}"));
	assert_memory_equal(good + start, "{\"defaultAction\"", 16);
	assert_int_equal(good[end - 1], '}');
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(runtime_spec_seccomp_span(bad[i], strlen(bad[i]), &start, &end));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seccomp_span),
		cmocka_unit_test(test_default_spec),
		cmocka_unit_test(test_default_spec_rootless),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_required_top_level),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_user_namespace_rules),
		cmocka_unit_test(test_hostname_needs_uts),
		cmocka_unit_test(test_process_cwd_and_args),
		cmocka_unit_test(test_process_user),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_rlimits),
		cmocka_unit_test(test_rlimit_unlimited),
		cmocka_unit_test(test_mount_options),
		cmocka_unit_test(test_mount_option_pairs),
		cmocka_unit_test(test_mount_propagation_and_bind),
		cmocka_unit_test(test_mount_errors),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_seccomp),
		cmocka_unit_test(test_linux_misc),
		cmocka_unit_test(test_error_value_escaped),
		cmocka_unit_test(test_process_parse),
		cmocka_unit_test(test_spec_load),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
