/* A container's run config as Docker makes it from an image's and the
 * Config members of a `POST /containers/create` body (daemon/commit.go's
 * merge), and the environment its process gets
 * (CreateDaemonEnvironment with ReplaceOrAppendEnvValues). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/sig.h"

/* The length of the key of "KEY=value" (all of it without "="). */
static size_t env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');

	return eq ? (size_t)(eq - e) : strlen(e);
}

static bool env_has_key(char *const *env, const char *e)
{
	size_t len = env_key_len(e);

	for (size_t i = 0; env && env[i]; i++)
		if (env_key_len(env[i]) == len && strncmp(env[i], e, len) == 0)
			return true;
	return false;
}

/* The image's member KEY that struct image_run_config does not model
 * (Healthcheck, OnBuild, Shell); NULL when absent or null. */
static json_t *image_extra(const struct image_run_config *image, const char *key)
{
	json_t *v = json_object_get(image->extra, key);

	return json_is_null(v) ? NULL : v;
}

static int check_strslice(const json_t *body, const struct bjson_path *at, const char *key,
			  struct berr **err)
{
	json_t *v = json_object_get(body, key);
	_cleanup_strv_ char **strv = NULL;

	if (!v || json_is_null(v) || json_is_string(v))
		return 0;
	return bjson_as_strv(v, BJSON_KEY(at, key), &strv, err);
}

/* An object whose values are objects ({"80/tcp": {}}). */
static int check_set(const json_t *body, const struct bjson_path *at, const char *key,
		     struct berr **err)
{
	json_t *obj = NULL, *v;
	const char *k;
	int r = bjson_get_object(body, at, key, BJSON_OPTIONAL, &obj, err);

	if (r <= 0)
		return r;
	json_object_foreach (obj, k, v)
		if (bjson_as_object(v, BJSON_KEY(BJSON_KEY(at, key), k), err) < 0)
			return -1;
	return 0;
}

static int check_healthcheck(const json_t *body, const struct bjson_path *at, struct berr **err)
{
	const struct bjson_path *hp = BJSON_KEY(at, "Healthcheck");
	static const char *const durations[] = { "Interval", "Timeout", "StartPeriod" };
	_cleanup_strv_ char **test = NULL;
	json_t *hc = NULL;
	int64_t n;
	int r = bjson_get_object(body, at, "Healthcheck", BJSON_OPTIONAL, &hc, err);

	if (r <= 0)
		return r;
	if (bjson_get_strv(hc, hp, "Test", BJSON_OPTIONAL, &test, err) < 0 ||
	    bjson_get_int64(hc, hp, "Retries", BJSON_OPTIONAL, INT32_MIN, INT32_MAX, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		if (bjson_get_int64(hc, hp, durations[i], BJSON_OPTIONAL, INT64_MIN, INT64_MAX, &n,
				    err) < 0)
			return -1;
	return 0;
}

int daemon_config_check(const json_t *body, struct berr **err)
{
	static const char *const strings[] = { "Hostname",   "Domainname", "User",	"Image",
					       "WorkingDir", "MacAddress", "StopSignal" };
	static const char *const bools[] = { "AttachStdin", "AttachStdout",   "AttachStderr",
					     "Tty",	    "OpenStdin",      "StdinOnce",
					     "ArgsEscaped", "NetworkDisabled" };
	_cleanup_strv_ char **env = NULL, **onbuild = NULL, **keys = NULL, **values = NULL;
	const char *s;
	json_t *labels = NULL;
	size_t n;
	int64_t i64;
	bool b;

	if (bjson_as_object(body, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (bjson_get_string(body, NULL, strings[i], BJSON_OPTIONAL, &s, err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (bjson_get_bool(body, NULL, bools[i], BJSON_OPTIONAL, &b, err) < 0)
			return -1;
	if (bjson_get_strv(body, NULL, "Env", BJSON_OPTIONAL, &env, err) < 0 ||
	    bjson_get_strv(body, NULL, "OnBuild", BJSON_OPTIONAL, &onbuild, err) < 0 ||
	    check_strslice(body, NULL, "Cmd", err) < 0 ||
	    check_strslice(body, NULL, "Entrypoint", err) < 0 ||
	    check_strslice(body, NULL, "Shell", err) < 0 ||
	    check_set(body, NULL, "ExposedPorts", err) < 0 ||
	    check_set(body, NULL, "Volumes", err) < 0 || check_healthcheck(body, NULL, err) < 0 ||
	    bjson_get_int64(body, NULL, "StopTimeout", BJSON_OPTIONAL, INT32_MIN, INT32_MAX, &i64,
			    err) < 0 ||
	    bjson_get(body, NULL, "Labels", BJSON_OPTIONAL, &labels, err) < 0 ||
	    (labels &&
	     bjson_as_strmap(labels, BJSON_KEY(NULL, "Labels"), &keys, &values, &n, err) < 0))
		return -1;
	return 0;
}

/* A strslice member of BODY as an array (a string is one element); NULL
 * when absent or null. */
static json_t *strslice(const json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);

	if (json_is_string(v))
		return json_pack("[O]", v);
	return json_is_array(v) ? json_incref(v) : NULL;
}

static json_t *strv_json_or_null(char *const *v)
{
	json_t *arr;

	if (!v)
		return json_null();
	arr = json_array();
	for (size_t i = 0; arr && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static bool env_json_has_key(const json_t *env, const char *e)
{
	size_t len = env_key_len(e), i;
	json_t *x;

	json_array_foreach (env, i, x) {
		const char *s = json_string_value(x);

		if (s && env_key_len(s) == len && strncmp(s, e, len) == 0)
			return true;
	}
	return false;
}

/* Config.Env: the body's, then each of the image's whose key the body did
 * not set; the image's alone when the body has none. */
static json_t *merged_env(char *const *image_env, const json_t *user_env)
{
	_cleanup_json_ json_t *arr = NULL;

	if (json_array_size(user_env) == 0)
		return strv_json_or_null(image_env);
	arr = json_deep_copy(user_env);
	for (size_t i = 0; arr && image_env && image_env[i]; i++)
		if (!env_json_has_key(user_env, image_env[i]) &&
		    json_array_append_new(arr, json_string(image_env[i])) < 0)
			return NULL;
	return steal_ptr(&arr);
}

/* The image's set (ExposedPorts, Volumes) with the body's members added;
 * null when both are empty. */
static json_t *merged_set(char *const *image_set, const json_t *user_set)
{
	_cleanup_json_ json_t *o = json_object();

	for (size_t i = 0; o && image_set && image_set[i]; i++)
		if (json_object_set_new(o, image_set[i], json_object()) < 0)
			return NULL;
	if (!o || (json_is_object(user_set) && json_object_update(o, (json_t *)user_set) < 0))
		return NULL;
	if (json_object_size(o) == 0)
		return json_null();
	return steal_ptr(&o);
}

/* The image's labels, then the body's over them. */
static json_t *merged_labels(const struct image_run_config *rc, const json_t *user)
{
	_cleanup_json_ json_t *o = json_object();

	for (size_t i = 0; o && i < rc->n_labels; i++)
		if (json_object_set_new(o, rc->label_keys[i], json_string(rc->label_values[i])) < 0)
			return NULL;
	if (!o || (json_is_object(user) && json_object_update(o, (json_t *)user) < 0))
		return NULL;
	return steal_ptr(&o);
}

/* The body's Healthcheck with what it leaves unset taken from the
 * image's; a Test of ["NONE"] is kept as given, and disables it. */
static json_t *merged_healthcheck(const json_t *image, const json_t *user)
{
	static const char *const members[] = { "Test", "Interval", "Timeout", "StartPeriod",
					       "Retries" };
	_cleanup_json_ json_t *o = NULL;

	if (!json_is_object(user))
		return json_is_object(image) ? json_deep_copy(image) : NULL;
	o = json_deep_copy(user);
	for (size_t i = 0; o && json_is_object(image) && i < 5; i++) {
		json_t *v = json_object_get(o, members[i]);
		bool unset = !v || json_is_null(v) ||
			     (json_is_array(v) && json_array_size(v) == 0) ||
			     (json_is_integer(v) && json_integer_value(v) == 0);
		json_t *iv = json_object_get(image, members[i]);

		if (unset && iv && json_object_set(o, members[i], iv) < 0)
			return NULL;
	}
	return steal_ptr(&o);
}

/* "Path" and "Args" of ENTRYPOINT followed by CMD (both JSON arrays or
 * null). */
static int command_of(json_t *entrypoint, json_t *cmd, char **path, json_t **args,
		      struct berr **err)
{
	_cleanup_json_ json_t *all = json_array();
	_cleanup_free_ char *first = NULL;

	if (!all || (json_is_array(entrypoint) && json_array_extend(all, entrypoint) < 0) ||
	    (json_is_array(cmd) && json_array_extend(all, cmd) < 0))
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container command");
	if (json_array_size(all) == 0)
		return berr_set(err, BERR_INVALID, 0, "No command specified");
	first = strdup(json_string_value(json_array_get(all, 0)));
	if (!first || json_array_remove(all, 0) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container command");
	*path = steal_ptr(&first);
	*args = steal_ptr(&all);
	return 0;
}

static const char *body_str(const json_t *body, const char *key)
{
	const char *s = json_string_value(json_object_get(body, key));

	return s && *s ? s : NULL;
}

/* Sets KEY to V (a new reference, NULL on no memory) unless V is
 * "empty" and the member is omitted when empty. */
static int set_omit_empty(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -1;
	if (json_is_null(v) || json_is_false(v) || (json_is_string(v) && !*json_string_value(v)) ||
	    (json_is_object(v) && json_object_size(v) == 0) ||
	    (json_is_array(v) && json_array_size(v) == 0)) {
		json_decref(v);
		return 0;
	}
	return json_object_set_new(o, key, v);
}

static json_t *ref_or_null(json_t *v)
{
	return v ? json_incref(v) : json_null();
}

/* V itself (a new reference) or null. */
static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

int daemon_config_merge(const struct image_run_config *image, const json_t *body,
			const char *hostname, json_t **config, char **path, json_t **args,
			struct berr **err)
{
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_json_ json_t *cmd = strslice(body, "Cmd");
	_cleanup_json_ json_t *entrypoint = strslice(body, "Entrypoint");
	_cleanup_json_ json_t *shell = strslice(body, "Shell");
	_cleanup_json_ json_t *cmd_args = NULL;
	_cleanup_free_ char *cmd_path = NULL;
	const char *workdir = body_str(body, "WorkingDir");
	const char *user = body_str(body, "User");
	const char *stop_signal = body_str(body, "StopSignal");
	json_t *onbuild = json_object_get(body, "OnBuild");
	const char *key;
	json_t *v;

	if (!workdir)
		workdir = image->working_dir;
	if (!user)
		user = image->user;
	if (!stop_signal)
		stop_signal = image->stop_signal;
	if (stop_signal && *stop_signal && !sig_parse(stop_signal))
		return berr_set(err, BERR_INVALID, 0, "Invalid signal: %s", stop_signal);
	if (workdir && *workdir && workdir[0] != '/')
		return berr_set(err, BERR_INVALID, 0,
				"the working directory '%s' is invalid, it needs to be an absolute "
				"path",
				workdir);
	json_object_foreach ((json_t *)json_object_get(body, "ExposedPorts"), key, v)
		if (daemon_port_validate(key, err) < 0)
			return -1;
	/* Docker's merge: without an entrypoint of the body's, the image's
	 * Cmd (and Shell) when the body has none, and the image's entrypoint
	 * unless the body gave an empty one. */
	if (json_array_size(entrypoint) == 0) {
		if (json_array_size(cmd) == 0) {
			json_decref(cmd);
			cmd = strv_json_or_null(image->cmd);
			if (image_extra(image, "Shell")) {
				json_decref(shell);
				shell = json_incref(image_extra(image, "Shell"));
			}
		}
		if (!entrypoint)
			entrypoint = strv_json_or_null(image->entrypoint);
	}
	/* An entrypoint of [""] (`--entrypoint ""`) is none at all. */
	if (json_array_size(entrypoint) == 1 &&
	    strcmp(json_string_value(json_array_get(entrypoint, 0)), "") == 0) {
		json_decref(entrypoint);
		entrypoint = json_null();
	}
	if (!cmd)
		cmd = json_null();
	if (!entrypoint || !cmd)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container config");
	if (command_of(entrypoint, cmd, &cmd_path, &cmd_args, err) < 0)
		return -1;
	if (json_array_size(onbuild) == 0)
		onbuild = image_extra(image, "OnBuild");

	cfg = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "Hostname", hostname, "Domainname",
			body_str(body, "Domainname") ? body_str(body, "Domainname") : "", "User",
			user ? user : "", "AttachStdin",
			json_is_true(json_object_get(body, "AttachStdin")), "AttachStdout",
			json_is_true(json_object_get(body, "AttachStdout")), "AttachStderr",
			json_is_true(json_object_get(body, "AttachStderr")));
	if (!cfg ||
	    set_omit_empty(
		    cfg, "ExposedPorts",
		    merged_set(image->exposed_ports, json_object_get(body, "ExposedPorts"))) < 0 ||
	    json_object_set_new(cfg, "Tty",
				json_boolean(json_is_true(json_object_get(body, "Tty")))) < 0 ||
	    json_object_set_new(cfg, "OpenStdin",
				json_boolean(json_is_true(json_object_get(body, "OpenStdin")))) <
		    0 ||
	    json_object_set_new(cfg, "StdinOnce",
				json_boolean(json_is_true(json_object_get(body, "StdinOnce")))) <
		    0 ||
	    json_object_set_new(cfg, "Env", merged_env(image->env, json_object_get(body, "Env"))) <
		    0 ||
	    json_object_set(cfg, "Cmd", cmd) < 0 ||
	    set_omit_empty(cfg, "Healthcheck",
			   or_null(merged_healthcheck(image_extra(image, "Healthcheck"),
						      json_object_get(body, "Healthcheck")))) < 0 ||
	    set_omit_empty(cfg, "ArgsEscaped",
			   json_boolean(json_is_true(json_object_get(body, "ArgsEscaped")))) < 0 ||
	    json_object_set(cfg, "Image", json_object_get(body, "Image")) < 0 ||
	    json_object_set_new(cfg, "Volumes",
				merged_set(image->volumes, json_object_get(body, "Volumes"))) < 0 ||
	    json_object_set_new(cfg, "WorkingDir", json_string(workdir ? workdir : "")) < 0 ||
	    json_object_set(cfg, "Entrypoint", entrypoint) < 0 ||
	    set_omit_empty(cfg, "NetworkDisabled",
			   json_boolean(json_is_true(json_object_get(body, "NetworkDisabled")))) <
		    0 ||
	    set_omit_empty(cfg, "MacAddress", ref_or_null(json_object_get(body, "MacAddress"))) <
		    0 ||
	    json_object_set_new(cfg, "OnBuild", onbuild ? json_deep_copy(onbuild) : json_null()) <
		    0 ||
	    json_object_set_new(cfg, "Labels",
				merged_labels(image, json_object_get(body, "Labels"))) < 0 ||
	    set_omit_empty(cfg, "StopSignal", json_string(stop_signal ? stop_signal : "")) < 0 ||
	    (json_is_integer(json_object_get(body, "StopTimeout")) &&
	     json_object_set(cfg, "StopTimeout", json_object_get(body, "StopTimeout")) < 0) ||
	    set_omit_empty(cfg, "Shell", ref_or_null(shell)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container config");
	*config = steal_ptr(&cfg);
	*path = steal_ptr(&cmd_path);
	*args = steal_ptr(&cmd_args);
	return 0;
}

/* Sets E ("KEY=value") in *ENV, replacing the entry of its key; "KEY"
 * alone removes it.  -1 on no memory. */
static int env_apply(char ***env, const char *e)
{
	size_t len = env_key_len(e);
	size_t n = strv_length(*env);

	for (size_t i = 0; i < n; i++) {
		char *cur = (*env)[i];

		if (env_key_len(cur) != len || strncmp(cur, e, len) != 0)
			continue;
		if (!strchr(e, '=')) {
			free(cur);
			memmove(&(*env)[i], &(*env)[i + 1], (n - i) * sizeof(char *));
			return 0;
		}
		(*env)[i] = strdup(e);
		if (!(*env)[i]) {
			(*env)[i] = cur;
			return -1;
		}
		free(cur);
		return 0;
	}
	if (!strchr(e, '='))
		return 0;
	return strv_append(env, e);
}

char **daemon_config_env(const json_t *config, const char *home, struct berr **err)
{
	_cleanup_strv_ char **env = strv_dup(NULL);
	_cleanup_free_ char *hostname = NULL;
	const json_t *list = json_object_get(config, "Env");
	const char *name = json_string_value(json_object_get(config, "Hostname"));
	size_t i;
	json_t *e;

	hostname = str_printf("HOSTNAME=%s", name ? name : "");
	if (!env || !hostname || strv_append(&env, "PATH=" DAEMON_DEFAULT_PATH) < 0 ||
	    strv_append(&env, hostname) < 0 ||
	    (json_is_true(json_object_get(config, "Tty")) && strv_append(&env, "TERM=xterm") < 0))
		goto nomem;
	json_array_foreach (list, i, e) {
		const char *s = json_string_value(e);

		if (s && *s && env_apply(&env, s) < 0)
			goto nomem;
	}
	/* runc's init sets HOME from the user's passwd entry when the
	 * environment has none; this runtime leaves it to the engine. */
	if (!env_has_key(env, "HOME")) {
		_cleanup_free_ char *h = str_printf("HOME=%s", home && *home ? home : "/");

		if (!h || strv_append(&env, h) < 0)
			goto nomem;
	}
	return steal_ptr(&env);
nomem:
	berr_set(err, BERR_INTERNAL, ENOMEM, "container environment");
	return NULL;
}
