/* Unit tests for the container record: id rules, pid identity, the status
 * derived from the live system, and the state JSON shapes. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/fsutil.h"
#include "runtime/internal.h"

static void test_id_rules(void **state)
{
	static const char *const good[] = { "a", "web-1", "x_y.z+1", "A9", "c.1" };
	static const char *const bad[] = { "", ".", "..", "../x", "a/b", "a b", "a\n", "é" };
	struct berr *err = NULL;
	char *long_id = malloc(RUNTIME_ID_MAX + 2);

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(runtime_id_validate(good[i], &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(runtime_id_validate(bad[i], &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		berr_clear(&err);
	}
	assert_int_equal(runtime_id_validate(NULL, &err), -1);
	berr_clear(&err);
	memset(long_id, 'a', RUNTIME_ID_MAX + 1);
	long_id[RUNTIME_ID_MAX + 1] = '\0';
	assert_int_equal(runtime_id_validate(long_id, &err), -1);
	assert_non_null(strstr(err->msg, "longer"));
	berr_clear(&err);
	long_id[RUNTIME_ID_MAX] = '\0';
	assert_int_equal(runtime_id_validate(long_id, &err), 0);
	free(long_id);
}

/* A pid is the same process only while its start time matches; a zombie
 * counts as gone. */
static void test_pid_identity(void **state)
{
	unsigned long long start;
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	start = runtime_pid_start_time(child);
	assert_true(start != 0);
	assert_true(runtime_pid_alive(child, start));
	assert_false(runtime_pid_alive(child, start + 1));
	kill(child, SIGKILL);
	/* Until reaped, the child is a zombie: not alive. */
	for (int i = 0; i < 100 && runtime_pid_alive(child, start); i++)
		usleep(10000);
	assert_false(runtime_pid_alive(child, start));
	waitpid(child, NULL, 0);
	assert_int_equal(runtime_pid_start_time(child), 0);
	assert_false(runtime_pid_alive(0, 0));
}

static void test_hook_state_shape(void **state)
{
	struct runtime_spec *spec = NULL;
	struct berr *err = NULL;
	const char *doc = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
			  "\"annotations\":{\"k\":\"v\"}}";
	char *text;
	json_t *obj;

	assert_int_equal(runtime_spec_parse(doc, strlen(doc), &spec, &err), 0);
	text = runtime_hook_state_json(spec, "c1", RUNTIME_STATUS_CREATING, 42, "/b");
	obj = json_loads(text, 0, NULL);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "status")), "creating");
	assert_int_equal(json_integer_value(json_object_get(obj, "pid")), 42);
	assert_string_equal(json_string_value(json_object_get(obj, "id")), "c1");
	assert_string_equal(json_string_value(json_object_get(obj, "bundle")), "/b");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(obj, "annotations"), "k")), "v");
	json_decref(obj);
	free(text);

	/* A stopped container reports pid 0. */
	text = runtime_hook_state_json(spec, "c1", RUNTIME_STATUS_STOPPED, 42, "/b");
	obj = json_loads(text, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(obj, "pid")), 0);
	json_decref(obj);
	free(text);

	text = runtime_listener_state_json(spec, "c1", RUNTIME_STATUS_RUNNING, 7, "/b");
	obj = json_loads(text, 0, NULL);
	assert_string_equal(json_string_value(json_array_get(json_object_get(obj, "fds"), 0)),
			    "seccompFd");
	assert_int_equal(json_integer_value(json_object_get(obj, "pid")), 7);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(obj, "state"), "status")),
		"running");
	json_decref(obj);
	free(text);
	runtime_spec_free(spec);
}

static void test_missing_container_is_not_found(void **state)
{
	struct runtime_config cfg = { .state_root = "/tmp/berth-test-state-none" };
	struct runtime_record *rec = NULL;
	struct berr *err = NULL;

	assert_int_equal(runtime_record_load(&cfg, "nope", &rec, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_string_equal(err->msg, "container \"nope\" does not exist");
	berr_clear(&err);
	assert_int_equal(runtime_record_load(&cfg, "../etc", &rec, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_null(rec);
}

/* A record made from SPEC_TEXT in a fresh state root, saved; the caller
 * removes ROOT. */
static struct runtime_record *saved_record(char *root, const char *spec_text)
{
	struct runtime_record *rec = calloc(1, sizeof(*rec));
	struct runtime_spec *spec = NULL;
	struct berr *err = NULL;
	char *config;

	assert_non_null(mkdtemp(root));
	assert_int_equal(runtime_spec_parse(spec_text, strlen(spec_text), &spec, &err), 0);
	assert_int_equal(runtime_record_set_spec(rec, spec), 0);
	rec->id = strdup("c1");
	rec->dir = str_printf("%s/c1", root);
	rec->bundle = strdup("/b");
	rec->rootfs = strdup("/b/rootfs");
	rec->created = strdup("2026-01-01T00:00:00Z");
	rec->owner = strdup("root");
	rec->cgroup_root = strdup("/sys/fs/cgroup");
	rec->cgroup_path = strdup("/berth/c1");
	assert_int_equal(mkdir(rec->dir, 0700), 0);
	config = str_printf("%s/" RUNTIME_CONFIG_FILE, rec->dir);
	assert_int_equal(fs_write_file_atomic(config, spec_text, strlen(spec_text), 0600, &err), 0);
	free(config);
	assert_int_equal(runtime_record_save(rec, &err), 0);
	return rec;
}

static void remove_root(const char *root)
{
	assert_int_equal(fs_remove_tree(root, NULL), 0);
}

/* A load reads state.json alone: what state and hooks need is kept there,
 * and the config is parsed only when asked for. */
static void test_record_load_leaves_the_config(void **state)
{
	char root[] = "/tmp/berth-test-state-XXXXXX";
	const char *doc = "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\"},"
			  "\"annotations\":{\"k\":\"v\"},"
			  "\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\"}]}}";
	struct runtime_record *rec = saved_record(root, doc);
	struct runtime_config cfg = { .state_root = root };
	struct runtime_state *st = NULL;
	struct berr *err = NULL;
	char *config = str_printf("%s/" RUNTIME_CONFIG_FILE, rec->dir);

	runtime_record_free(rec);
	rec = NULL;
	/* A config that no longer parses shows the load does not read it. */
	assert_int_equal(fs_write_file_atomic(config, "{", 1, 0600, &err), 0);
	assert_int_equal(runtime_record_load(&cfg, "c1", &rec, &err), 0);
	assert_null(rec->spec);
	assert_true(runtime_record_has_hooks(rec, RUNTIME_HOOK_POSTSTOP));
	assert_false(runtime_record_has_hooks(rec, RUNTIME_HOOK_POSTSTART));
	assert_int_equal(runtime_record_state(rec, RUNTIME_STATUS_STOPPED, &st, &err), 0);
	assert_string_equal(st->oci_version, "1.1.0");
	assert_string_equal(json_string_value(json_object_get(st->annotations, "k")), "v");
	runtime_state_free(st);
	/* Asked for, the config is read, and its errors reported. */
	assert_int_equal(runtime_record_load_spec(rec, &err), -1);
	assert_non_null(strstr(err->msg, "load container c1"));
	berr_clear(&err);
	runtime_record_free(rec);
	free(config);
	remove_root(root);
}

/* state.json of an older berth lacks those fields: they come from the
 * config then. */
static void test_record_load_of_an_older_state(void **state)
{
	char root[] = "/tmp/berth-test-state-XXXXXX";
	const char *doc = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
			  "\"annotations\":{\"a\":\"b\"},"
			  "\"hooks\":{\"poststart\":[{\"path\":\"/bin/true\"}]}}";
	struct runtime_record *rec = saved_record(root, doc);
	struct runtime_config cfg = { .state_root = root };
	struct berr *err = NULL;
	char *path = str_printf("%s/" RUNTIME_STATE_FILE, rec->dir);
	char *text = NULL;
	size_t len;
	json_t *obj;

	runtime_record_free(rec);
	rec = NULL;
	assert_int_equal(fs_read_file(path, 65536, &text, &len, &err), 0);
	obj = json_loadb(text, len, 0, NULL);
	free(text);
	json_object_del(obj, "ociVersion");
	json_object_del(obj, "annotations");
	json_object_del(obj, "hookKinds");
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	assert_int_equal(fs_write_file_atomic(path, text, strlen(text), 0600, &err), 0);
	free(text);

	assert_int_equal(runtime_record_load(&cfg, "c1", &rec, &err), 0);
	assert_non_null(rec->spec);
	assert_string_equal(rec->oci_version, "1.0.2");
	assert_string_equal(json_string_value(json_object_get(rec->annotations, "a")), "b");
	assert_true(runtime_record_has_hooks(rec, RUNTIME_HOOK_POSTSTART));
	assert_false(runtime_record_has_hooks(rec, RUNTIME_HOOK_POSTSTOP));
	runtime_record_free(rec);
	free(path);
	remove_root(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_rules),
		cmocka_unit_test(test_pid_identity),
		cmocka_unit_test(test_hook_state_shape),
		cmocka_unit_test(test_missing_container_is_not_found),
		cmocka_unit_test(test_record_load_leaves_the_config),
		cmocka_unit_test(test_record_load_of_an_older_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
