/* Volumes over the engine: the volume routes' work, and what a container's
 * create, start and removal do with its volumes.  A container's volumes are
 * the entries of Type "volume" in its document's Mounts, each with the
 * volume's Name and its directory as Source. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "daemon/volumes.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/safepath.h"
#include "volume/volume.h"

/* A member of BODY that must be an object of strings, or absent, or null. */
static int string_map(const json_t *body, const char *key, const json_t **out, struct berr **err)
{
	const json_t *v = json_object_get(body, key);
	const char *k;
	json_t *e;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return berr_set(err, BERR_INVALID, 0, "%s: must be an object of strings", key);
	json_object_foreach ((json_t *)v, k, e)
		if (!json_is_string(e))
			return berr_set(err, BERR_INVALID, 0, "%s.%s: must be a string", key, k);
	*out = v;
	return 0;
}

int daemon_volume_create(struct daemon *d, const json_t *body, json_t **out, bool *created,
			 struct berr **err)
{
	_cleanup_(store_volume_free_cleanup) struct store_volume *v = NULL;
	struct volume_spec spec = { 0 };
	char drawn[DAEMON_ID_SIZE];

	if (bjson_get_string(body, NULL, "Name", BJSON_OPTIONAL, &spec.name, err) < 0 ||
	    bjson_get_string(body, NULL, "Driver", BJSON_OPTIONAL, &spec.driver, err) < 0 ||
	    string_map(body, "Labels", &spec.labels, err) < 0 ||
	    string_map(body, "DriverOpts", &spec.options, err) < 0)
		return -1;
	if (!spec.name || !*spec.name) {
		if (daemon_id_generate(drawn, err) < 0)
			return -1;
		spec.name = drawn;
	}
	if (volume_create(d->db, d->volumes_root, &spec, &v, created, err) < 0)
		return -1;
	*out = volume_json(v, d->volumes_root);
	return *out ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "create %s", spec.name);
}

int daemon_volume_inspect(struct daemon *d, const char *name, json_t **out, struct berr **err)
{
	_cleanup_(store_volume_free_cleanup) struct store_volume *v = NULL;

	if (store_volume_lookup(d->db, name, &v, err) < 0)
		return -1;
	*out = volume_json(v, d->volumes_root);
	return *out ? 0 : berr_set(err, BERR_INTERNAL, ENOMEM, "get %s", name);
}

/* Whether V passes FILTERS (see daemon_volume_list()); USERS its users'
 * number. */
static bool volume_matches(const json_t *filters, const json_t *v, size_t users)
{
	const json_t *labels = json_object_get(v, "Labels");
	const char *name = json_string_value(json_object_get(v, "Name"));
	const char *driver = json_string_value(json_object_get(v, "Driver"));
	const json_t *vals;
	bool any;
	size_t i;
	json_t *e;

	/* Any value of "name" and "driver", every label, the dangling
	 * wanted. */
	if ((vals = json_object_get(filters, "name")) && json_array_size(vals)) {
		any = false;
		json_array_foreach (vals, i, e)
			any |= strstr(name, json_string_value(e)) != NULL;
		if (!any)
			return false;
	}
	if ((vals = json_object_get(filters, "driver")) && json_array_size(vals)) {
		any = false;
		json_array_foreach (vals, i, e)
			any |= strcmp(driver, json_string_value(e)) == 0;
		if (!any)
			return false;
	}
	json_array_foreach (json_object_get(filters, "label"), i, e)
		if (!bjson_label_matches(labels, json_string_value(e)))
			return false;
	json_array_foreach (json_object_get(filters, "dangling"), i, e) {
		const char *want = json_string_value(e);
		bool dangling = strcmp(want, "true") == 0 || strcmp(want, "1") == 0;

		if (dangling != (users == 0))
			return false;
	}
	return true;
}

int daemon_volume_filters_check(const json_t *filters, const char *const *known, struct berr **err)
{
	const char *key;
	json_t *vals, *e;
	size_t i;

	json_object_foreach ((json_t *)filters, key, vals) {
		if (!strv_contains((char *const *)known, key))
			return berr_set(err, BERR_INVALID, 0, "Invalid filter '%s'", key);
		if (strcmp(key, "dangling") != 0)
			continue;
		json_array_foreach (vals, i, e) {
			const char *v = json_string_value(e);

			if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0 &&
			    strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
				return berr_set(err, BERR_INVALID, 0,
						"Invalid filter 'dangling=[%s]'", v);
		}
	}
	return 0;
}

int daemon_volume_list(struct daemon *d, const json_t *filters, bool usage, json_t **out,
		       struct berr **err)
{
	struct store_volume **list = NULL;
	_cleanup_json_ json_t *arr = json_array();
	size_t n = 0;
	int rc = -1;

	if (!arr)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "list volumes");
	static const char *const known[] = { "name", "label", "dangling", "driver", NULL };

	if (daemon_volume_filters_check(filters, known, err) < 0 ||
	    store_volume_list(d->db, &list, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **users = NULL;
		_cleanup_json_ json_t *v = volume_json(list[i], d->volumes_root);

		if (!v) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list volumes");
			goto out;
		}
		/* Users only where they count: the scan reads every container. */
		if ((usage || json_object_get(filters, "dangling")) &&
		    store_volume_users(d->db, list[i]->name, &users, err) < 0)
			goto out;
		if (!volume_matches(filters, v, strv_length(users)))
			continue;
		if (usage)
			json_object_set_new(
				v, "UsageData",
				json_pack("{s:I, s:I}", "Size",
					  (json_int_t)volume_size(d->volumes_root, list[i]->name),
					  "RefCount", (json_int_t)strv_length(users)));
		if (json_array_append(arr, v) < 0) {
			berr_set(err, BERR_INTERNAL, ENOMEM, "list volumes");
			goto out;
		}
	}
	*out = steal_ptr(&arr);
	rc = 0;
out:
	store_volume_list_free(list, n);
	return rc;
}

int daemon_volume_remove(struct daemon *d, const char *name, int64_t *size, struct berr **err)
{
	if (size)
		*size = volume_size(d->volumes_root, name);
	return volume_remove(d->db, d->volumes_root, name, err);
}

/*
 * A container's volumes.
 */

/* Makes volume NAME unless it is there, noting it in *NAMED, and in *MADE
 * when made. */
static int ensure(struct daemon *d, const char *name, bool anonymous, const json_t *labels,
		  char ***made, char ***named, struct berr **err)
{
	const struct volume_spec spec = { .name = name, .labels = labels, .anonymous = anonymous };
	bool created = false;

	if (volume_create(d->db, d->volumes_root, &spec, NULL, &created, err) < 0)
		return -1;
	if ((created && strv_append(made, name) < 0) || strv_append(named, name) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create %s", name);
	return 0;
}

static bool covers(const json_t *list, const char *key, const char *dst)
{
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e)
		if (strcmp(json_string_value(json_object_get(e, key)) ?: "", dst) == 0)
			return true;
	return false;
}

/* The --mount options of the volume at DST in HC's Mounts, if any. */
static const json_t *mount_options(const json_t *hc, const char *dst)
{
	size_t i;
	json_t *m;

	json_array_foreach (json_object_get(hc, "Mounts"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "Target")) ?: "", dst) == 0)
			return json_object_get(m, "VolumeOptions");
	return NULL;
}

static int resolve(struct daemon *d, const json_t *config, const json_t *oci, json_t *points,
		   char ***made, char ***named, struct berr **err)
{
	const char *dst;
	size_t i;
	json_t *m;

	json_array_foreach (points, i, m) {
		const char *name = json_string_value(json_object_get(m, "Name"));
		char drawn[DAEMON_ID_SIZE];
		_cleanup_free_ char *source = NULL;
		bool anonymous = !name || !*name;

		if (strcmp(json_string_value(json_object_get(m, "Type")) ?: "", "volume") != 0 ||
		    *(json_string_value(json_object_get(m, "Source")) ?: ""))
			continue;
		if (anonymous) {
			if (daemon_id_generate(drawn, err) < 0)
				return -1;
			name = drawn;
		}
		source = volume_mountpoint(d->volumes_root, name);
		if (!source ||
		    (anonymous && json_object_set_new(m, "Name", json_string(name)) < 0) ||
		    json_object_set_new(m, "Source", json_string(source)) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "volumes");
		if (ensure(d, name, anonymous, NULL, made, named, err) < 0)
			return -1;
	}
	/* The image's VOLUMEs and the caller's Config.Volumes, unless a mount
	 * is there. */
	json_object_foreach ((json_t *)json_object_get(config, "Volumes"), dst, m) {
		char drawn[DAEMON_ID_SIZE];
		_cleanup_free_ char *source = NULL;
		json_t *point;

		if (dst[0] != '/')
			return berr_set(err, BERR_INVALID, 0,
					"invalid mount config for type \"volume\": invalid mount "
					"path: '%s' mount path must be absolute",
					dst);
		if (covers(oci, "destination", dst) || covers(points, "Destination", dst))
			continue;
		if (daemon_id_generate(drawn, err) < 0)
			return -1;
		source = volume_mountpoint(d->volumes_root, drawn);
		point = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume",
				  "Name", drawn, "Source", source ? source : "", "Destination", dst,
				  "Driver", VOLUME_DRIVER_LOCAL, "Mode", "", "RW", true,
				  "Propagation", "");
		if (!source || !point || json_array_append_new(points, point) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "volumes");
		if (ensure(d, drawn, true, NULL, made, named, err) < 0)
			return -1;
	}
	return 0;
}

int daemon_volumes_resolve(struct daemon *d, const json_t *config, const json_t *oci,
			   json_t *points, char ***made, char ***named, struct berr **err)
{
	if (resolve(d, config, oci, points, made, named, err) == 0)
		return 0;
	daemon_volumes_undo(d, *made);
	strv_free(*made);
	*made = NULL;
	return -1;
}

void daemon_volumes_undo(struct daemon *d, char *const *made)
{
	for (size_t i = 0; made && made[i]; i++) {
		_cleanup_berr_ struct berr *err = NULL;

		if (volume_remove(d->db, d->volumes_root, made[i], &err) < 0)
			blog_warn("volume %s: %s", made[i], err->msg);
	}
}

/* Whether the volume at DST asks for no copy: "nocopy" in a bind's mode,
 * or --mount's volume-nocopy. */
static bool nocopy(const json_t *doc, const json_t *point)
{
	const char *mode = json_string_value(json_object_get(point, "Mode")) ?: "";
	const char *dst = json_string_value(json_object_get(point, "Destination")) ?: "";
	_cleanup_free_ char *copy = strdup(mode);
	char *save = NULL;

	for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save))
		if (strcmp(o, "nocopy") == 0)
			return true;
	return json_is_true(
		json_object_get(mount_options(json_object_get(doc, "HostConfig"), dst), "NoCopy"));
}

/* Whether the volume mount point M of DOC is one to copy the image's
 * content into, when its volume is empty. */
static bool wants_copy(const json_t *doc, const json_t *m)
{
	const char *dst = json_string_value(json_object_get(m, "Destination"));
	const char *source = json_string_value(json_object_get(m, "Source"));

	return strcmp(json_string_value(json_object_get(m, "Type")) ?: "", "volume") == 0 && dst &&
	       source && *source && !nocopy(doc, m);
}

int daemon_volumes_populate(const json_t *doc, int rootfd, struct berr **err)
{
	size_t i;
	json_t *m;

	json_array_foreach (json_object_get(doc, "Mounts"), i, m) {
		const char *dst = json_string_value(json_object_get(m, "Destination"));
		const char *source = json_string_value(json_object_get(m, "Source"));
		_cleanup_close_ int from = -1;

		if (!wants_copy(doc, m))
			continue;
		/* Nothing there in the image: nothing to copy. */
		from = safepath_open(rootfd, dst, O_RDONLY | O_DIRECTORY, NULL);
		if (from < 0)
			continue;
		if (volume_populate(from, source, err) < 0)
			return -1;
	}
	return 0;
}

/* Whether some volume of DOC wants the image's content and is empty. */
static bool any_to_fill(const json_t *doc)
{
	size_t i;
	json_t *m;

	json_array_foreach (json_object_get(doc, "Mounts"), i, m) {
		_cleanup_close_ int fd = -1;

		if (!wants_copy(doc, m))
			continue;
		fd = open(json_string_value(json_object_get(m, "Source")),
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && volume_dir_is_empty(fd))
			return true;
	}
	return false;
}

int daemon_volumes_fill(struct daemon *d, const struct daemon_container *c, struct berr **err)
{
	_cleanup_strv_ char **lower = NULL;
	_cleanup_free_ char *at = NULL;
	_cleanup_close_ int rootfd = -1;
	int rc;

	if (!any_to_fill(c->doc))
		return 0;
	/* The image's layers alone, read-only, where nobody looks. */
	at = str_printf("%s/%s.volumes", d->run_root, c->id);
	if (!at)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	if (daemon_container_lower_dirs(d, c, &lower, err) < 0 || fs_mkdir_p(at, 0700, err) < 0)
		return -1;
	if (image_mount_overlay((const char *const *)lower, strv_length(lower), NULL, NULL, at,
				err) < 0) {
		rmdir(at);
		return -1;
	}
	rootfd = open(at, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rc = rootfd < 0 ? berr_set(err, BERR_INTERNAL, errno, "open %s", at)
			: daemon_volumes_populate(c->doc, rootfd, err);
	/* Detached, not unmounted: a process another thread forks meanwhile
	 * holds a copy of an fd on it until it execs. */
	if (rootfd >= 0)
		close(steal_fd(&rootfd));
	image_unmount_detach(at, NULL);
	rmdir(at);
	return rc;
}

void daemon_volumes_remove_anonymous(struct daemon *d, const json_t *points, char ***removed)
{
	size_t i;
	json_t *m;

	json_array_foreach (points, i, m) {
		_cleanup_(store_volume_free_cleanup) struct store_volume *v = NULL;
		_cleanup_berr_ struct berr *err = NULL;
		const char *name = json_string_value(json_object_get(m, "Name"));

		if (strcmp(json_string_value(json_object_get(m, "Type")) ?: "", "volume") != 0 ||
		    !name || store_volume_lookup(d->db, name, &v, NULL) < 0 || !v->anonymous)
			continue;
		/* One another container uses too stays. */
		if (volume_remove(d->db, d->volumes_root, name, &err) < 0) {
			if (err->kind != BERR_CONFLICT && err->kind != BERR_NOT_FOUND)
				blog_warn("volume %s: %s", name, err->msg);
			continue;
		}
		if (removed)
			strv_append(removed, name);
	}
}
