/* A container's run config as Docker makes it from an image's and the
 * options of `docker create` (daemon/commit.go's merge and
 * mergeAndVerifyConfig), and the environment its process gets
 * (CreateDaemonEnvironment with ReplaceOrAppendEnvValues). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"

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

static json_t *strv_json(char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* A JSON array of V, or null for a NULL V: Go's encoder writes a nil
 * slice as null, and inspect shows what Docker shows. */
static json_t *strv_json_or_null(char *const *v)
{
	return v ? strv_json(v) : json_null();
}

static json_t *set_json(char *const *v)
{
	json_t *o;

	if (!v)
		return json_null();
	o = json_object();
	for (size_t i = 0; o && v[i]; i++)
		if (json_object_set_new(o, v[i], json_object()) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* Config.Env: the caller's, then each of the image's whose key the caller
 * did not set. */
static json_t *merged_env(char *const *image_env, char *const *user_env)
{
	_cleanup_json_ json_t *arr = strv_json(user_env);

	for (size_t i = 0; arr && image_env && image_env[i]; i++)
		if (!env_has_key(user_env, image_env[i]) &&
		    json_array_append_new(arr, json_string(image_env[i])) < 0)
			return NULL;
	if (arr && json_array_size(arr) == 0 && !image_env && !user_env)
		return json_null();
	return steal_ptr(&arr);
}

static json_t *labels_json(const struct image_run_config *rc)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < rc->n_labels; i++)
		if (json_object_set_new(o, rc->label_keys[i], json_string(rc->label_values[i])) <
		    0) {
			json_decref(o);
			return NULL;
		}
	return o;
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

int daemon_config_merge(const struct image_run_config *image, const struct daemon_create_opts *opts,
			const char *hostname, json_t **config, char **path, json_t **args,
			struct berr **err)
{
	_cleanup_json_ json_t *cfg = NULL;
	_cleanup_json_ json_t *cmd = NULL;
	_cleanup_json_ json_t *entrypoint = NULL;
	_cleanup_json_ json_t *cmd_args = NULL;
	_cleanup_free_ char *cmd_path = NULL;
	bool user_cmd = opts->cmd && opts->cmd[0];
	const char *workdir =
		opts->working_dir && *opts->working_dir ? opts->working_dir : image->working_dir;
	const char *user = opts->user && *opts->user ? opts->user : image->user;

	if (workdir && *workdir && workdir[0] != '/')
		return berr_set(err, BERR_INVALID, 0,
				"the working directory '%s' is invalid, it needs to be an absolute "
				"path",
				workdir);
	/* Docker's merge: an entrypoint given (even "") drops the image's
	 * Cmd; then an entrypoint of [""] means none at all. */
	if (opts->entrypoint_argv_set) {
		/* The Engine API's form: [] or [""] resets, else the vector. */
		bool none = !opts->entrypoint_argv || !opts->entrypoint_argv[0] ||
			    (!opts->entrypoint_argv[1] && !*opts->entrypoint_argv[0]);

		entrypoint = none ? json_null() : strv_json(opts->entrypoint_argv);
		cmd = user_cmd ? strv_json(opts->cmd) : json_null();
	} else if (opts->entrypoint) {
		entrypoint = *opts->entrypoint ? json_pack("[s]", opts->entrypoint) : json_null();
		cmd = user_cmd ? strv_json(opts->cmd) : json_null();
	} else {
		entrypoint = strv_json_or_null(image->entrypoint);
		cmd = strv_json_or_null(user_cmd ? opts->cmd : image->cmd);
	}
	if (!entrypoint || !cmd)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container config");
	if (command_of(entrypoint, cmd, &cmd_path, &cmd_args, err) < 0)
		return -1;

	cfg = json_object();
	if (!cfg)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container config");
	if (json_object_set_new(cfg, "Hostname", json_string(hostname)) < 0 ||
	    json_object_set_new(cfg, "Domainname", json_string("")) < 0 ||
	    json_object_set_new(cfg, "User", json_string(user ? user : "")) < 0 ||
	    json_object_set_new(cfg, "AttachStdin", json_false()) < 0 ||
	    json_object_set_new(cfg, "AttachStdout", json_true()) < 0 ||
	    json_object_set_new(cfg, "AttachStderr", json_true()) < 0 ||
	    (image->exposed_ports &&
	     json_object_set_new(cfg, "ExposedPorts", set_json(image->exposed_ports)) < 0) ||
	    json_object_set_new(cfg, "Tty", json_boolean(opts->tty)) < 0 ||
	    json_object_set_new(cfg, "OpenStdin", json_false()) < 0 ||
	    json_object_set_new(cfg, "StdinOnce", json_false()) < 0 ||
	    json_object_set_new(cfg, "Env", merged_env(image->env, opts->env)) < 0 ||
	    json_object_set(cfg, "Cmd", cmd) < 0 ||
	    json_object_set_new(cfg, "Image", json_string(opts->image)) < 0 ||
	    json_object_set_new(cfg, "Volumes", set_json(image->volumes)) < 0 ||
	    json_object_set_new(cfg, "WorkingDir", json_string(workdir ? workdir : "")) < 0 ||
	    json_object_set(cfg, "Entrypoint", entrypoint) < 0 ||
	    json_object_set_new(cfg, "OnBuild", json_null()) < 0 ||
	    json_object_set_new(cfg, "Labels", labels_json(image)) < 0 ||
	    (image->stop_signal &&
	     json_object_set_new(cfg, "StopSignal", json_string(image->stop_signal)) < 0))
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
