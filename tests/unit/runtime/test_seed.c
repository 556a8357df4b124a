/* Unit tests of which configs a seed (a container process made ahead)
 * fits: the default namespaces, with or without a cgroup namespace; not
 * one joined or missing, a user namespace, a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "runtime/internal.h"
#include "runtime/spec.h"

#define _cleanup_spec_ _cleanup_(runtime_spec_free_cleanup)

/* The default config (new cgroup, IPC, mount, network, PID and UTS
 * namespaces) without its terminal, with EDIT applied to it, parsed. */
static struct runtime_spec *spec_with(void (*edit)(json_t *doc))
{
	_cleanup_free_ char *text = runtime_spec_default_json(false);
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *out = NULL;
	struct runtime_spec *spec = NULL;
	struct berr *err = NULL;

	assert_non_null(text);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	json_object_set_new(json_object_get(doc, "process"), "terminal", json_false());
	if (edit)
		edit(doc);
	out = json_dumps(doc, 0);
	if (runtime_spec_parse(out, strlen(out), &spec, &err) < 0)
		fail_msg("parse failed: %s", err->msg);
	return spec;
}

static json_t *namespaces_of(json_t *doc)
{
	return json_object_get(json_object_get(doc, "linux"), "namespaces");
}

static void add_namespace(json_t *doc, const char *type, const char *path)
{
	json_t *ns = json_pack("{s:s}", "type", type);

	if (path)
		json_object_set_new(ns, "path", json_string(path));
	json_array_append_new(namespaces_of(doc), ns);
}

/* Drops the namespace of TYPE. */
static void drop_namespace(json_t *doc, const char *type)
{
	json_t *namespaces = namespaces_of(doc);
	size_t i;
	json_t *ns;

	json_array_foreach (namespaces, i, ns)
		if (strcmp(json_string_value(json_object_get(ns, "type")), type) == 0) {
			json_array_remove(namespaces, i);
			return;
		}
	fail_msg("no %s namespace in the default config", type);
}

static void without_cgroup_ns(json_t *doc)
{
	drop_namespace(doc, "cgroup");
}

static void with_user_ns(json_t *doc)
{
	json_t *lx = json_object_get(doc, "linux");
	json_t *map =
		json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536);

	add_namespace(doc, "user", NULL);
	json_object_set(lx, "uidMappings", map);
	json_object_set_new(lx, "gidMappings", map);
}

static void host_network(json_t *doc)
{
	drop_namespace(doc, "network");
}

static void joined_network(json_t *doc)
{
	drop_namespace(doc, "network");
	add_namespace(doc, "network", "/proc/1/ns/net");
}

static void host_pid(json_t *doc)
{
	drop_namespace(doc, "pid");
}

static void with_terminal(json_t *doc)
{
	json_object_set_new(json_object_get(doc, "process"), "terminal", json_true());
}

static void test_default_namespaces_fit(void **state)
{
	_cleanup_spec_ struct runtime_spec *plain = spec_with(NULL);
	_cleanup_spec_ struct runtime_spec *host_cgroup = spec_with(without_cgroup_ns);

	assert_true(runtime_seed_fits(plain, false));
	assert_true(runtime_seed_fits(host_cgroup, false));
	/* A console socket given means a terminal to hand over. */
	assert_false(runtime_seed_fits(plain, true));
}

static void test_other_namespaces_do_not_fit(void **state)
{
	void (*edits[])(json_t *) = { with_user_ns, host_network, joined_network, host_pid,
				      with_terminal };

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		_cleanup_spec_ struct runtime_spec *spec = spec_with(edits[i]);

		if (runtime_seed_fits(spec, false))
			fail_msg("edit %zu fits a seed", i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_namespaces_fit),
		cmocka_unit_test(test_other_namespaces_do_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
