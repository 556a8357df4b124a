/* Unit tests for image/config: a config built here formats and parses back
 * to the same bytes, malformed documents are refused naming the wrong
 * value, and each `docker import --change` instruction edits the run config
 * as Docker does while unknown or malformed ones are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cmocka.h>

#include "image/config.h"
#include "lib/timefmt.h"
#include "lib/json.h"

static struct image_config *new_config(void)
{
	struct image_config *cfg = image_config_new(NULL);

	assert_non_null(cfg);
	return cfg;
}

static void apply_ok(struct image_config *cfg, const char *change)
{
	struct berr *err = NULL;

	if (image_config_apply_change(cfg, change, &err) < 0)
		fail_msg("%s: %s", change, err->msg);
}

static void apply_bad(struct image_config *cfg, const char *change, const char *msg_part)
{
	struct berr *err = NULL;

	assert_int_equal(image_config_apply_change(cfg, change, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INVALID);
	if (!strstr(err->msg, msg_part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", change, err->msg, msg_part);
	berr_free(err);
}

static void assert_strv(char **v, const char *const *want)
{
	size_t n = 0;

	assert_non_null(v);
	for (; want[n]; n++) {
		assert_non_null(v[n]);
		assert_string_equal(v[n], want[n]);
	}
	assert_null(v[n]);
}

static void test_new_defaults(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();
	struct utsname u;

	(void)state;
	assert_int_equal(uname(&u), 0);
	if (strcmp(u.machine, "x86_64") == 0)
		assert_string_equal(cfg->architecture, "amd64");
	assert_string_equal(cfg->os, "linux");
	/* 2026-11-22T07:05:06[.nnn]Z */
	assert_true(strlen(cfg->created) >= 20);
	assert_int_equal(cfg->created[4], '-');
	assert_int_equal(cfg->created[10], 'T');
	assert_int_equal(cfg->created[strlen(cfg->created) - 1], 'Z');
}

static void test_time_format(void **state)
{
	char out[TIME_RFC3339_SIZE];
	struct timespec t = { .tv_sec = 1700000000, .tv_nsec = 120000000 };

	(void)state;
	time_format_rfc3339(&t, out);
	assert_string_equal(out, "2023-11-14T22:13:20.12Z");
	t.tv_nsec = 0;
	time_format_rfc3339(&t, out);
	assert_string_equal(out, "2023-11-14T22:13:20Z");
	t.tv_nsec = 1;
	time_format_rfc3339(&t, out);
	assert_string_equal(out, "2023-11-14T22:13:20.000000001Z");
}

static void test_round_trip(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();
	_cleanup_(image_config_free_cleanup) struct image_config *back = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *text2 = NULL;
	const char *diff =
		"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct berr *err = NULL;
	size_t len, len2;

	(void)state;
	apply_ok(cfg, "CMD [\"/bin/sh\"]");
	apply_ok(cfg, "ENV A=1 B=two");
	apply_ok(cfg, "LABEL x=y");
	apply_ok(cfg, "EXPOSE 80");
	apply_ok(cfg, "VOLUME /data");
	apply_ok(cfg, "STOPSIGNAL SIGINT");
	assert_int_equal(image_config_add_diff_id(cfg, diff, NULL), 0);
	assert_int_equal(image_config_add_diff_id(cfg, "sha256:nothex", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);
	assert_int_equal(image_config_add_history(cfg, cfg->created, "import", "hi", false, NULL),
			 0);
	assert_int_equal(image_config_format(cfg, &text, &len, NULL), 0);
	assert_int_equal(len, strlen(text));
	assert_non_null(
		strstr(text, "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:aaaa"));
	assert_non_null(strstr(text, "\"ExposedPorts\":{\"80/tcp\":{}}"));
	assert_non_null(strstr(text, "\"created_by\":\"import\""));
	assert_int_equal(image_config_parse(text, len, &back, &err), 0);
	assert_string_equal(back->os, "linux");
	assert_string_equal(back->diff_ids[0], diff);
	assert_int_equal(back->n_history, 1);
	assert_string_equal(back->history[0].comment, "hi");
	assert_string_equal(back->config.stop_signal, "SIGINT");
	assert_int_equal(image_config_format(back, &text2, &len2, NULL), 0);
	assert_string_equal(text, text2);
}

static void parse_bad(const char *doc, const char *msg_part)
{
	struct image_config *cfg = NULL;
	struct berr *err = NULL;

	assert_int_equal(image_config_parse(doc, strlen(doc), &cfg, &err), -1);
	assert_null(cfg);
	assert_int_equal(err->kind, BERR_INVALID);
	if (!strstr(err->msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg_part);
	berr_free(err);
}

/* What the struct does not model survives a parse and a format. */
static void test_unmodelled_members_kept(void **state)
{
	static const char doc[] =
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"variant\":\"v8\","
		"\"container_config\":{\"Hostname\":\"abc\"},"
		"\"config\":{\"Cmd\":[\"sh\"],\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]},"
		"\"OnBuild\":[\"RUN x\"],\"Shell\":[\"/bin/ash\",\"-c\"]},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	struct image_config *cfg = NULL;
	struct berr *err = NULL;
	json_t *o, *rc;

	assert_int_equal(image_config_parse(doc, strlen(doc), &cfg, &err), 0);
	assert_int_equal(image_config_apply_change(cfg, "CMD [\"true\"]", &err), 0);
	o = image_config_to_json(cfg, &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "variant")), "v8");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(o, "container_config"), "Hostname")),
			    "abc");
	rc = json_object_get(o, "config");
	assert_string_equal(json_string_value(json_array_get(json_object_get(rc, "Cmd"), 0)),
			    "true");
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(json_object_get(rc, "Healthcheck"), "Test"), 1)),
		"true");
	assert_string_equal(json_string_value(json_array_get(json_object_get(rc, "OnBuild"), 0)),
			    "RUN x");
	assert_int_equal(json_array_size(json_object_get(rc, "Shell")), 2);
	json_decref(o);
	image_config_free(cfg);
}

static void test_parse_bad(void **state)
{
	char *big;

	(void)state;
	parse_bad("{\"architecture\":5,\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}",
		  "architecture");
	parse_bad("{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\"}}", "os");
	parse_bad("{\"architecture\":\"amd64\",\"os\":\"linux\"}", "rootfs");
	parse_bad("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"x\"}}",
		  "rootfs.type");
	parse_bad("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		  "\"diff_ids\":[\"sha256:zz\"]}}",
		  "rootfs.diff_ids[0]");
	parse_bad("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":\"ls\"},"
		  "\"rootfs\":{\"type\":\"layers\"}}",
		  "config.Cmd");
	parse_bad("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":"
		  "{\"80/tcp\":1}},\"rootfs\":{\"type\":\"layers\"}}",
		  "config.ExposedPorts");
	parse_bad("{\"architecture\":\"amd64\",\"os\":\"linux\",\"history\":[{\"empty_layer\":1}],"
		  "\"rootfs\":{\"type\":\"layers\"}}",
		  "history[0].empty_layer");
	parse_bad("{\"architecture\":", "image config");
	big = malloc(IMAGE_CONFIG_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', IMAGE_CONFIG_MAX + 1);
	big[0] = '{';
	big[IMAGE_CONFIG_MAX] = '}';
	big[IMAGE_CONFIG_MAX + 1] = '\0';
	parse_bad(big, "image config");
	free(big);
}

static void test_change_cmd_entrypoint(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();

	(void)state;
	apply_ok(cfg, "CMD [\"echo\", \"hi there\"]");
	assert_strv(cfg->config.cmd, (const char *[]){ "echo", "hi there", NULL });
	apply_ok(cfg, "cmd echo $HOME && ls");
	assert_strv(cfg->config.cmd, (const char *[]){ "/bin/sh", "-c", "echo $HOME && ls", NULL });
	apply_ok(cfg, "ENTRYPOINT [\"/init\"]");
	assert_strv(cfg->config.entrypoint, (const char *[]){ "/init", NULL });
	/* Not a JSON array of strings: the shell form, as Docker does. */
	apply_ok(cfg, "ENTRYPOINT [1, 2]");
	assert_strv(cfg->config.entrypoint, (const char *[]){ "/bin/sh", "-c", "[1, 2]", NULL });
	apply_bad(cfg, "CMD", "CMD requires at least one argument");
}

static void test_change_env(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();

	(void)state;
	apply_ok(cfg, "ENV PATH=/usr/bin A=\"hello world\" B='x y'");
	assert_strv(cfg->config.env,
		    (const char *[]){ "PATH=/usr/bin", "A=hello world", "B=x y", NULL });
	apply_ok(cfg, "ENV LEGACY some value here");
	apply_ok(cfg, "ENV A=again");
	assert_strv(cfg->config.env, (const char *[]){ "PATH=/usr/bin", "A=again", "B=x y",
						       "LEGACY=some value here", NULL });
	apply_bad(cfg, "ENV ONLYKEY", "ENV must have two arguments");
	apply_bad(cfg, "ENV A=1 junk", "can't find =");
	apply_bad(cfg, "ENV A=\"open", "matching");
	/* Refused changes leave the config as it was. */
	assert_int_equal(strv_length(cfg->config.env), 4);
}

static void test_change_simple(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();

	(void)state;
	apply_ok(cfg, "WORKDIR /app");
	apply_ok(cfg, "WORKDIR sub");
	assert_string_equal(cfg->config.working_dir, "/app/sub");
	apply_ok(cfg, "USER 1000:1000");
	assert_string_equal(cfg->config.user, "1000:1000");
	apply_ok(cfg, "STOPSIGNAL SIGKILL");
	assert_string_equal(cfg->config.stop_signal, "SIGKILL");
	apply_bad(cfg, "USER", "USER requires at least one argument");
}

static void test_change_expose(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();

	(void)state;
	apply_ok(cfg, "EXPOSE 80 53/udp 8000-8002/TCP 80/tcp");
	assert_strv(cfg->config.exposed_ports, (const char *[]){ "80/tcp", "53/udp", "8000/tcp",
								 "8001/tcp", "8002/tcp", NULL });
	apply_bad(cfg, "EXPOSE http", "invalid containerPort: http");
	apply_bad(cfg, "EXPOSE 70000", "invalid containerPort");
	apply_bad(cfg, "EXPOSE 90-80", "invalid containerPort");
	apply_bad(cfg, "EXPOSE 80/icmp", "invalid proto: icmp");
	assert_int_equal(strv_length(cfg->config.exposed_ports), 5);
}

static void test_change_label_volume(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();

	(void)state;
	apply_ok(cfg, "LABEL a=\"hello world\" com.example.b=2");
	apply_ok(cfg, "LABEL a=changed");
	assert_int_equal(cfg->config.n_labels, 2);
	assert_strv(cfg->config.label_keys, (const char *[]){ "a", "com.example.b", NULL });
	assert_strv(cfg->config.label_values, (const char *[]){ "changed", "2", NULL });
	apply_ok(cfg, "VOLUME [\"/a\", \"/b c\"]");
	apply_ok(cfg, "VOLUME /d /a");
	assert_strv(cfg->config.volumes, (const char *[]){ "/a", "/b c", "/d", NULL });
	apply_bad(cfg, "LABEL =x", "can't find =");
}

static void test_change_unknown(void **state)
{
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = new_config();

	(void)state;
	apply_bad(cfg, "FOO bar", "dockerfile parse error line 1: unknown instruction: FOO");
	apply_bad(cfg, "RUN echo", "unknown instruction: RUN");
	apply_bad(cfg, "averyveryverylonginstruction x", "unknown instruction");
	apply_bad(cfg, "   ", "dockerfile parse error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_defaults),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unmodelled_members_kept),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_change_cmd_entrypoint),
		cmocka_unit_test(test_change_env),
		cmocka_unit_test(test_change_simple),
		cmocka_unit_test(test_change_expose),
		cmocka_unit_test(test_change_label_volume),
		cmocka_unit_test(test_change_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
