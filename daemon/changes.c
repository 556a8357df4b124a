/* What a container changed, over image/changes: `docker diff` of its upper
 * dir against its image and init layer, `docker commit` of it (paused while
 * it runs, as Docker's commit pauses by default) and `docker export` of its
 * whole file system. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"

static char *upper_dir(const struct daemon *d, const struct daemon_container *c)
{
	return str_printf("%s/%s/upper", d->containers_root, c->id);
}

int daemon_container_changes(struct daemon *d, const struct daemon_container *c,
			     struct image_change **out, size_t *n, struct berr **err)
{
	_cleanup_strv_ char **lower = NULL;
	_cleanup_free_ char *upper = upper_dir(d, c);

	if (!upper)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	/* The init layer is among the lower dirs: its mount points are not
	 * the container's changes. */
	if (daemon_container_lower_dirs(d, c, &lower, err) < 0 ||
	    image_changes_list((const char *const *)lower, strv_length(lower), upper, out, n, err) <
		    0)
		return berr_prefix(err, "changes of container %s", c->name + 1);
	return 0;
}

/* Docker's history line of a commit: the container's Cmd, joined. */
static char *created_by(const json_t *config)
{
	const json_t *cmd = json_object_get(config, "Cmd");
	size_t len = 1, used = 0, i;
	json_t *arg;
	char *s;

	json_array_foreach (cmd, i, arg)
		len += json_string_length(arg) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	json_array_foreach (cmd, i, arg) {
		size_t n = json_string_length(arg);

		if (i > 0)
			s[used++] = ' ';
		if (n)
			memcpy(s + used, json_string_value(arg), n);
		used += n;
	}
	return s;
}

int daemon_container_commit(struct daemon *d, const struct daemon_container *c,
			    const struct daemon_commit_opts *opts, char out[DIGEST_STRING_SIZE],
			    struct berr **err)
{
	static const struct daemon_commit_opts none;
	const json_t *config = json_object_get(c->doc, "Config");
	_cleanup_free_ char *upper = upper_dir(d, c);
	_cleanup_free_ char *run_config = jsontext_dump(config);
	_cleanup_free_ char *history = created_by(config);
	struct image_commit_opts copts;
	bool paused = false;
	int ret;

	if (!opts)
		opts = &none;
	if (!upper || !run_config || !history)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "commit container %s", c->id);
	copts = (struct image_commit_opts){
		.reference = opts->reference,
		.comment = opts->comment,
		.author = opts->author,
		.changes = opts->changes,
		.n_changes = opts->n_changes,
		.run_config_json = run_config,
		.container_id = c->id,
		.created_by = history,
	};
	/* A running container is frozen for the time of the copy, so that
	 * the layer is one moment of its file system. */
	if (daemon_container_is_running(c)) {
		if (runtime_container_pause(&d->rt, c->id, err) < 0)
			return berr_prefix(err, "commit: pause container %s", c->id);
		paused = true;
	}
	ret = image_commit(d->images, c->image_id, upper, &copts, out, err);
	if (paused)
		runtime_container_resume(&d->rt, c->id, NULL);
	return ret;
}

int daemon_container_export(struct daemon *d, const struct daemon_container *c, int fd,
			    struct berr **err)
{
	_cleanup_strv_ char **lower = NULL;
	_cleanup_free_ char *upper = upper_dir(d, c);

	if (!upper)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	if (daemon_container_lower_dirs(d, c, &lower, err) < 0 ||
	    image_export((const char *const *)lower, strv_length(lower), upper, fd, err) < 0)
		return berr_prefix(err, "export container %s", c->name + 1);
	return 0;
}
