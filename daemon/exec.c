/* `docker exec`: the OCI process of an exec, built as Docker builds it
 * from the container's own process (its environment, working dir, user,
 * capabilities, limits) and the exec's config (Cmd, Env, WorkingDir,
 * User, Tty, Privileged), and run under a berth-shim that the caller
 * watches. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "runtime/spec.h"

/* Largest config.json read back. */
#define CONFIG_MAX (16 * 1024 * 1024)

/* The environment of the container's process with the exec's ENV over
 * it, as Docker merges them. */
static json_t *merged_env(const json_t *base, const json_t *env)
{
	_cleanup_strv_ char **merged = NULL;
	json_t *out = json_array();
	size_t i;
	json_t *v;

	json_array_foreach (base, i, v)
		if (json_is_string(v) && strv_append(&merged, json_string_value(v)) < 0)
			goto fail;
	json_array_foreach (env, i, v) {
		const char *kv = json_string_value(v);
		size_t key = strcspn(kv, "=");
		bool replaced = false;

		for (size_t j = 0; merged && merged[j]; j++) {
			if (strncmp(merged[j], kv, key) == 0 &&
			    (merged[j][key] == '=' || merged[j][key] == '\0')) {
				char *copy = strdup(kv);

				if (!copy)
					goto fail;
				free(merged[j]);
				merged[j] = copy;
				replaced = true;
				break;
			}
		}
		if (!replaced && strv_append(&merged, kv) < 0)
			goto fail;
	}
	for (size_t j = 0; out && merged && merged[j]; j++)
		json_array_append_new(out, json_string(merged[j]));
	return out;
fail:
	json_decref(out);
	return NULL;
}

static int set_user(json_t *process, const char *merged, const char *spec, struct berr **err)
{
	_cleanup_close_ int rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct daemon_user u = { 0 };
	json_t *gids, *user;

	if (rootfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", merged);
	if (daemon_user_resolve(rootfd, spec, &u, err) < 0)
		return -1;
	gids = json_array();
	for (size_t i = 0; gids && i < u.n_gids; i++)
		json_array_append_new(gids, json_integer(u.gids[i]));
	user = json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid,
			 "additionalGids", gids ? gids : json_array());
	daemon_user_clear(&u);
	if (!user || json_object_set_new(process, "user", user) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec user");
	return 0;
}

/* Every capability the host has, for a privileged exec (Docker gives it
 * the full set). */
static json_t *all_caps_json(void)
{
	uint64_t mask = daemon_caps_host();
	json_t *caps = json_array();

	for (int cap = 0; caps && cap < 64; cap++)
		if ((mask & ((uint64_t)1 << cap)) && runtime_cap_name(cap))
			json_array_append_new(caps, json_string(runtime_cap_name(cap)));
	return caps;
}

int daemon_exec_prepare(struct daemon *d, const struct daemon_container *c, const char *exec_id,
			const json_t *config, char **path_out, struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_dir(d, c->id);
	_cleanup_free_ char *run_dir = daemon_container_run_dir(d, c->id);
	_cleanup_free_ char *config_path = NULL, *merged = NULL, *path = NULL, *text = NULL;
	_cleanup_json_ json_t *spec = NULL;
	const char *user = json_string_value(json_object_get(config, "User"));
	const char *cwd = json_string_value(json_object_get(config, "WorkingDir"));
	json_t *process, *env;
	size_t len = 0;

	if (!dir || !run_dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	daemon_cgroup_move_ahead(d);
	config_path = str_printf("%s/" DAEMON_FILE_CONFIG, run_dir);
	merged = str_printf("%s/merged", dir);
	path = str_printf("%s/exec-%s.json", run_dir, exec_id);
	if (!config_path || !merged || !path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	if (fs_read_file(config_path, CONFIG_MAX, &text, &len, err) < 0 ||
	    bjson_load(text, len, CONFIG_MAX, &spec, err) < 0)
		return berr_prefix(err, "exec in container %s", c->id);
	process = json_object_get(spec, "process");
	if (!json_is_object(process))
		return berr_set(err, BERR_INTERNAL, 0, "container %s: no process in its config",
				c->id);
	env = merged_env(json_object_get(process, "env"), json_object_get(config, "Env"));
	if (!env || json_object_set_new(process, "env", env) < 0 ||
	    json_object_set(process, "args", json_object_get(config, "Cmd")) < 0 ||
	    json_object_set_new(process, "terminal",
				json_boolean(json_is_true(json_object_get(config, "Tty")))) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	if (cwd && *cwd && json_object_set_new(process, "cwd", json_string(cwd)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	if (user && *user && set_user(process, merged, user, err) < 0)
		return -1;
	if (json_is_true(json_object_get(config, "Privileged"))) {
		json_t *caps = json_pack("{s:o, s:o, s:o, s:o}", "bounding", all_caps_json(),
					 "effective", all_caps_json(), "permitted", all_caps_json(),
					 "inheritable", all_caps_json());

		if (!caps || json_object_set_new(process, "capabilities", caps) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	}
	free(text);
	text = jsontext_dump(process);
	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	if (fs_write_file_replace(path, text, strlen(text), 0600, err) < 0)
		return -1;
	*path_out = steal_ptr(&path);
	return 0;
}

int daemon_exec_start(struct daemon *d, const struct daemon_container *c, const char *process_file,
		      const struct daemon_start_opts *o, bool tty, bool in, pid_t *pid, pid_t *shim,
		      struct berr **err)
{
	if (!daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
	return daemon_shim_exec(d, c->id, process_file, o, tty, in, pid, shim, err);
}

int daemon_exec_resize(struct daemon *d, const char *container_id, const char *exec_id,
		       unsigned height, unsigned width, struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_run_dir(d, container_id);
	_cleanup_free_ char *name = str_printf("exec-%s.sock", exec_id);

	if (!dir || !name)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "resize");
	return daemon_shim_resize(dir, name, height, width, err);
}
