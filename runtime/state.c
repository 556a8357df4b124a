/* The container record in <root>/<id>: state.json (pid, bundle, cgroup,
 * creation time) beside a copy of config.json, and the status derived from
 * the live system (the init's pid and start time, the exec fifo, the
 * cgroup's freezer), never stored, so it cannot go stale. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/jsontext.h"
#include "lib/log.h"
#include "runtime/cgroup.h"
#include "runtime/internal.h"

#define STATE_FILE_MAX (64 * 1024)

const char *runtime_config_root(const struct runtime_config *cfg)
{
	return cfg && cfg->state_root ? cfg->state_root : RUNTIME_DEFAULT_ROOT;
}

const char *runtime_config_cgroup_root(const struct runtime_config *cfg)
{
	return cfg && cfg->cgroup_root ? cfg->cgroup_root : RUNTIME_DEFAULT_CGROUP_ROOT;
}

int runtime_id_validate(const char *id, struct berr **err)
{
	size_t len;

	if (id == NULL || *id == '\0')
		return berr_set(err, BERR_INVALID, 0, "container id cannot be empty");
	len = strlen(id);
	if (len > RUNTIME_ID_MAX)
		return berr_set(err, BERR_INVALID, 0, "container id is longer than %d bytes",
				RUNTIME_ID_MAX);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return berr_set(err, BERR_INVALID, 0, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++) {
		if (isalnum((unsigned char)*p) || strchr("_+-.", *p))
			continue;
		return berr_set(err, BERR_INVALID, 0,
				"invalid container id \"%s\": only letters, digits, '_', '+', "
				"'-' and '.' are allowed",
				id);
	}
	return 0;
}

unsigned long long runtime_pid_start_time(pid_t pid)
{
	char path[64];
	char buf[1024];
	unsigned long long start = 0;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start
	 * after the last ')'.  Field 3 is the state, field 22 the start. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0')
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return 0;
		p++;
	}
	start = strtoull(p, NULL, 10);
	return start;
}

bool runtime_pid_alive(pid_t pid, unsigned long long start)
{
	if (pid <= 0)
		return false;
	return runtime_pid_start_time(pid) == start && start != 0;
}

void runtime_record_free(struct runtime_record *rec)
{
	if (rec == NULL)
		return;
	free(rec->id);
	free(rec->dir);
	free(rec->bundle);
	free(rec->rootfs);
	free(rec->created);
	free(rec->owner);
	free(rec->cgroup_root);
	free(rec->cgroup_path);
	free(rec->oci_version);
	json_decref(rec->annotations);
	runtime_spec_free(rec->spec);
	free(rec);
}

static int dup_member(json_t *obj, const char *key, char **out, struct berr **err)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s == NULL)
		return berr_set(err, BERR_INTERNAL, 0, "state file: missing \"%s\"", key);
	*out = strdup(s);
	if (*out == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "state file");
	return 0;
}

int runtime_record_set_spec(struct runtime_record *rec, struct runtime_spec *spec)
{
	runtime_spec_free(rec->spec);
	rec->spec = spec;
	rec->hook_kinds = 0;
	for (int k = 0; k < RUNTIME_HOOK_KIND_COUNT; k++)
		if (spec->hooks[k].n > 0)
			rec->hook_kinds |= 1u << k;
	free(rec->oci_version);
	rec->oci_version = strdup(spec->oci_version ? spec->oci_version : "1.0.2");
	json_decref(rec->annotations);
	rec->annotations = json_object();
	for (size_t i = 0; rec->annotations && i < spec->n_annotations; i++)
		if (json_object_set_new(rec->annotations, spec->annotation_keys[i],
					json_string(spec->annotation_values[i])) < 0)
			return -1;
	return rec->oci_version && rec->annotations ? 0 : -1;
}

int runtime_record_load_spec(struct runtime_record *rec, struct berr **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len;

	struct runtime_spec *spec = NULL;

	if (rec->spec)
		return 0;
	path = str_printf("%s/%s", rec->dir, RUNTIME_CONFIG_FILE);
	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container %s", rec->id);
	if (fs_read_file(path, RUNTIME_SPEC_MAX_SIZE, &data, &len, err) < 0 ||
	    runtime_spec_parse(data, len, &spec, err) < 0)
		return berr_prefix(err, "load container %s", rec->id);
	if (runtime_record_set_spec(rec, spec) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container %s", rec->id);
	return 0;
}

bool runtime_record_has_hooks(const struct runtime_record *rec, enum runtime_hook_kind kind)
{
	return (rec->hook_kinds & (1u << kind)) != 0;
}

int runtime_record_load(const struct runtime_config *cfg, const char *id,
			struct runtime_record **out, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *data = NULL;
	json_t *root = NULL, *annotations, *hooks;
	struct jsontext_error jerr;
	struct berr *local = NULL;
	size_t len;
	int ret = -1;

	if (runtime_id_validate(id, err) < 0)
		return -1;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container %s", id);
	rec->dir = str_printf("%s/%s", runtime_config_root(cfg), id);
	path = str_printf("%s/%s", rec->dir ? rec->dir : "", RUNTIME_STATE_FILE);
	if (rec->dir == NULL || path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container %s", id);
	if (fs_read_file(path, STATE_FILE_MAX, &data, &len, &local) < 0) {
		if (local->kind == BERR_NOT_FOUND || local->sys_errno == ENOTDIR) {
			berr_free(local);
			return berr_set(err, BERR_NOT_FOUND, 0, "container \"%s\" does not exist",
					id);
		}
		berr_move(err, &local);
		return berr_prefix(err, "load container %s", id);
	}
	root = jsontext_parse(data, len, &jerr);
	if (root == NULL)
		return berr_set(err, BERR_INTERNAL, 0, "%s: %s", path, jerr.text);
	if (dup_member(root, "id", &rec->id, err) < 0 ||
	    dup_member(root, "bundle", &rec->bundle, err) < 0 ||
	    dup_member(root, "rootfs", &rec->rootfs, err) < 0 ||
	    dup_member(root, "created", &rec->created, err) < 0 ||
	    dup_member(root, "owner", &rec->owner, err) < 0 ||
	    dup_member(root, "cgroupRoot", &rec->cgroup_root, err) < 0 ||
	    dup_member(root, "cgroupPath", &rec->cgroup_path, err) < 0)
		goto out;
	rec->pid = (pid_t)json_integer_value(json_object_get(root, "pid"));
	rec->pid_start = (unsigned long long)json_integer_value(json_object_get(root, "pidStart"));
	rec->cgroup_mode = json_integer_value(json_object_get(root, "cgroupMode")) == 2
				   ? RUNTIME_CGROUP_V2
				   : RUNTIME_CGROUP_V1;
	annotations = json_object_get(root, "annotations");
	hooks = json_object_get(root, "hookKinds");
	if (json_is_object(annotations) && json_is_integer(hooks) &&
	    json_is_string(json_object_get(root, "ociVersion"))) {
		rec->annotations = json_incref(annotations);
		rec->hook_kinds = (unsigned)json_integer_value(hooks);
		if (dup_member(root, "ociVersion", &rec->oci_version, err) < 0)
			goto out;
	} else if (runtime_record_load_spec(rec, err) < 0) {
		/* A record written before state.json kept these. */
		goto out;
	}
	*out = steal_ptr(&rec);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

int runtime_record_save(const struct runtime_record *rec, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/%s", rec->dir, RUNTIME_STATE_FILE);
	_cleanup_free_ char *text = NULL;
	json_t *root;

	root = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:O, s:i}", "id",
			 rec->id, "pid", (json_int_t)rec->pid, "pidStart",
			 (json_int_t)rec->pid_start, "bundle", rec->bundle, "rootfs", rec->rootfs,
			 "created", rec->created, "owner", rec->owner, "cgroupRoot",
			 rec->cgroup_root, "cgroupMode",
			 rec->cgroup_mode == RUNTIME_CGROUP_V2 ? 2 : 1, "cgroupPath",
			 rec->cgroup_path, "ociVersion", rec->oci_version, "annotations",
			 rec->annotations, "hookKinds", (int)rec->hook_kinds);
	if (root == NULL || path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save state of %s", rec->id);
	text = jsontext_dump(root);
	json_decref(root);
	if (text == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "save state of %s", rec->id);
	return fs_write_file_replace(path, text, strlen(text), 0600, err);
}

int runtime_record_cgroup(const struct runtime_record *rec, struct runtime_cgroup **out,
			  struct berr **err)
{
	return runtime_cgroup_open(rec->cgroup_root, rec->cgroup_mode, rec->cgroup_path, out, err);
}

enum runtime_status runtime_record_status(const struct runtime_record *rec,
					  struct runtime_cgroup *cg)
{
	_cleanup_free_ char *fifo = NULL;

	if (!runtime_pid_alive(rec->pid, rec->pid_start))
		return RUNTIME_STATUS_STOPPED;
	fifo = str_printf("%s/%s", rec->dir, RUNTIME_EXEC_FIFO);
	if (fifo != NULL && fs_exists(fifo))
		return RUNTIME_STATUS_CREATED;
	if (cg != NULL && runtime_cgroup_is_frozen(cg))
		return RUNTIME_STATUS_PAUSED;
	return RUNTIME_STATUS_RUNNING;
}

const char *runtime_status_name(enum runtime_status status)
{
	switch (status) {
	case RUNTIME_STATUS_CREATING:
		return "creating";
	case RUNTIME_STATUS_CREATED:
		return "created";
	case RUNTIME_STATUS_RUNNING:
		return "running";
	case RUNTIME_STATUS_PAUSED:
		return "paused";
	case RUNTIME_STATUS_STOPPED:
		return "stopped";
	}
	return "unknown";
}

static json_t *annotations_json(const struct runtime_spec *spec)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj && spec && i < spec->n_annotations; i++)
		json_object_set_new(obj, spec->annotation_keys[i],
				    json_string(spec->annotation_values[i]));
	return obj;
}

int runtime_record_state(const struct runtime_record *rec, enum runtime_status status,
			 struct runtime_state **out, struct berr **err)
{
	struct runtime_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "state of %s", rec->id);
	st->id = strdup(rec->id);
	st->oci_version = strdup(rec->oci_version ? rec->oci_version : "1.0.2");
	st->status = status;
	st->pid = status == RUNTIME_STATUS_STOPPED ? 0 : rec->pid;
	st->bundle = strdup(rec->bundle);
	st->rootfs = strdup(rec->rootfs);
	st->created = strdup(rec->created);
	st->owner = strdup(rec->owner);
	st->annotations = rec->annotations ? json_deep_copy(rec->annotations) : json_object();
	if (!st->id || !st->oci_version || !st->bundle || !st->rootfs || !st->created ||
	    !st->owner || !st->annotations) {
		runtime_state_free(st);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "state of %s", rec->id);
	}
	*out = st;
	return 0;
}

/* The state object; takes ANNOTATIONS. */
static json_t *state_object(const char *oci_version, json_t *annotations, const char *id,
			    enum runtime_status status, pid_t pid, const char *bundle)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "ociVersion",
			 oci_version ? oci_version : "1.0.2", "id", id, "status",
			 runtime_status_name(status), "pid",
			 (json_int_t)(status == RUNTIME_STATUS_STOPPED ? 0 : pid), "bundle", bundle,
			 "annotations", annotations);
}

static json_t *spec_state_object(const struct runtime_spec *spec, const char *id,
				 enum runtime_status status, pid_t pid, const char *bundle)
{
	return state_object(spec ? spec->oci_version : NULL, annotations_json(spec), id, status,
			    pid, bundle);
}

static char *dump_and_free(json_t *obj)
{
	char *text;

	if (obj == NULL)
		return NULL;
	text = jsontext_dump(obj);
	json_decref(obj);
	return text;
}

char *runtime_hook_state_json(const struct runtime_spec *spec, const char *id,
			      enum runtime_status status, pid_t pid, const char *bundle)
{
	return dump_and_free(spec_state_object(spec, id, status, pid, bundle));
}

char *runtime_listener_state_json(const struct runtime_spec *spec, const char *id,
				  enum runtime_status status, pid_t pid, const char *bundle)
{
	const char *metadata = spec->seccomp && spec->seccomp->listener_metadata
				       ? spec->seccomp->listener_metadata
				       : "";

	return dump_and_free(json_pack("{s:s, s:[s], s:I, s:s, s:o}", "ociVersion",
				       spec->oci_version ? spec->oci_version : "1.0.2", "fds",
				       "seccompFd", "pid", (json_int_t)pid, "metadata", metadata,
				       "state", spec_state_object(spec, id, status, pid, bundle)));
}

char *runtime_record_hook_state(const struct runtime_record *rec, enum runtime_status status)
{
	json_t *annotations = rec->annotations ? json_deep_copy(rec->annotations) : json_object();

	return dump_and_free(state_object(rec->oci_version, annotations, rec->id, status, rec->pid,
					  rec->bundle));
}

json_t *runtime_state_to_json(const struct runtime_state *st)
{
	json_t *obj =
		json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "ociVersion", st->oci_version,
			  "id", st->id, "status", runtime_status_name(st->status), "pid",
			  (json_int_t)st->pid, "bundle", st->bundle, "rootfs", st->rootfs,
			  "created", st->created, "owner", st->owner);

	if (obj == NULL)
		return NULL;
	if (st->annotations && json_object_size(st->annotations) > 0)
		json_object_set(obj, "annotations", st->annotations);
	if (st->oom_killed)
		json_object_set_new(obj, "oomKilled", json_true());
	return obj;
}

void runtime_state_free(struct runtime_state *st)
{
	if (st == NULL)
		return;
	free(st->id);
	free(st->oci_version);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	json_decref(st->annotations);
	free(st);
}
