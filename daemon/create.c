/* `docker create` through the Engine API: the JSON body read into the
 * run options, with Docker's checks of each member's type. */
#include <errno.h>
#include <string.h>

#include "daemon/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"

/* A string or a vector of strings (Docker's strslice) at KEY of BODY into
 * *out; *set tells whether it was there and not null. */
static int strslice(const json_t *body, const char *key, char ***out, bool *set, struct berr **err)
{
	const json_t *v = json_object_get(body, key);

	*set = v && !json_is_null(v);
	if (!*set)
		return 0;
	if (json_is_string(v))
		return strv_append(out, json_string_value(v)) < 0
			       ? berr_set(err, BERR_INTERNAL, ENOMEM, "%s", key)
			       : 0;
	if (!json_is_array(v) || json_array_size(v) == 0) {
		if (json_is_array(v))
			return (*out = calloc(1, sizeof(char *)))
				       ? 0
				       : berr_set(err, BERR_INTERNAL, ENOMEM, "%s", key);
		return berr_set(err, BERR_INVALID, 0,
				"json: cannot unmarshal %s: expected a string or strings", key);
	}
	return bjson_get_strv(body, NULL, key, BJSON_OPTIONAL, out, err);
}

/* The string at KEY of BODY (NULL when absent or null). */
static int string_of(const json_t *body, const char *key, const char **out, struct berr **err)
{
	const json_t *v = json_object_get(body, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return berr_set(err, BERR_INVALID, 0,
				"json: cannot unmarshal %s: expected a string", key);
	*out = json_string_value(v);
	return 0;
}

int daemon_container_create_api(struct daemon *d, const char *name, const json_t *body,
				struct daemon_container **out, json_t **warnings, struct berr **err)
{
	_cleanup_strv_ char **cmd = NULL;
	_cleanup_strv_ char **entrypoint = NULL;
	_cleanup_strv_ char **env = NULL;
	struct daemon_create_opts o = { .name = name, .body = body };
	const json_t *hc = json_object_get(body, "HostConfig");
	bool cmd_set, env_set;

	if (!json_is_object(body))
		return berr_set(err, BERR_INVALID, 0,
				"config cannot be empty in order to create a "
				"container");
	if (string_of(body, "Image", &o.image, err) < 0 ||
	    string_of(body, "WorkingDir", &o.working_dir, err) < 0 ||
	    string_of(body, "User", &o.user, err) < 0 ||
	    string_of(body, "Hostname", &o.hostname, err) < 0 ||
	    strslice(body, "Cmd", &cmd, &cmd_set, err) < 0 ||
	    strslice(body, "Entrypoint", &entrypoint, &o.entrypoint_argv_set, err) < 0 ||
	    strslice(body, "Env", &env, &env_set, err) < 0)
		return -1;
	if (!o.image || !*o.image)
		return berr_set(err, BERR_INVALID, 0, "No image was specified");
	if (hc && !json_is_null(hc) && !json_is_object(hc))
		return berr_set(err, BERR_INVALID, 0,
				"json: cannot unmarshal HostConfig: expected an object");
	if (o.working_dir && *o.working_dir && o.working_dir[0] != '/')
		return berr_set(err, BERR_INVALID, 0,
				"the working directory '%s' is invalid, it needs to be an "
				"absolute path",
				o.working_dir);
	o.cmd = cmd;
	o.env = env;
	o.entrypoint_argv = entrypoint;
	o.auto_remove = json_is_true(json_object_get(hc, "AutoRemove"));
	o.tty = json_is_true(json_object_get(body, "Tty"));
	*warnings = json_array();
	if (!*warnings)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create container");
	if (daemon_container_create(d, &o, out, err) < 0) {
		json_decref(*warnings);
		*warnings = NULL;
		return -1;
	}
	return 0;
}
