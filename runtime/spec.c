/* config.json into struct runtime_spec.  Every field of the OCI runtime spec
 * (1.0 to 1.2) that berth acts on is type- and range-checked here, before any
 * kernel state exists, so a container is never left half made because of a
 * bad value.  Members berth does not know are ignored, as the spec asks. */
#include "runtime/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* (uid_t)-1 tells setresuid(2) "leave unchanged": as a user id it would keep
 * a process root, so the largest id allowed is one below. */
#define ID_MAX (UINT32_MAX - 1)

/* The largest device numbers makedev() keeps without truncating. */
#define DEV_MAJOR_MAX 0xfff
#define DEV_MINOR_MAX 0xfffff

static int oom(struct berr **err)
{
	return berr_set(err, BERR_INTERNAL, ENOMEM, "parse config");
}

/* Sets BERR_INVALID at PATH; the one %s of FMT receives VALUE, quoted. */
static int value_error(struct berr **err, const struct bjson_path *path, const char *fmt,
		       const char *value)
{
	_cleanup_free_ char *q = bjson_quote(value);

	if (q == NULL)
		return oom(err);
	return bjson_error(err, path, fmt, q);
}

/* Allocates N zeroed elements of SIZE for an array member; *out stays NULL
 * for an empty array. */
static int alloc_items(size_t n, size_t size, void **out, struct berr **err)
{
	if (n == 0)
		return 0;
	*out = calloc(n, size);
	if (*out == NULL)
		return oom(err);
	return 0;
}

/* Member KEY of OBJ, a string that must be an absolute path; a copy goes to
 * *out.  Returns 1, 0 when absent and optional, or -1. */
static int get_abs_path(const json_t *obj, const struct bjson_path *at, const char *key,
			enum bjson_need need, char **out, struct berr **err)
{
	const char *s = NULL;
	char *copy;
	int r = bjson_get_string(obj, at, key, need, &s, err);

	if (r <= 0)
		return r;
	if (s[0] != '/')
		return value_error(err, BJSON_KEY(at, key), "%s is not an absolute path", s);
	copy = strdup(s);
	if (copy == NULL)
		return oom(err);
	*out = copy;
	return 1;
}

/* An optional array of absolute paths. */
static int get_abs_paths(const json_t *obj, const struct bjson_path *at, const char *key,
			 char ***out, struct berr **err)
{
	_cleanup_strv_ char **v = NULL;
	int r = bjson_get_strv(obj, at, key, BJSON_OPTIONAL, &v, err);

	if (r <= 0)
		return r;
	for (size_t i = 0; v[i]; i++)
		if (v[i][0] != '/')
			return value_error(err, BJSON_INDEX(BJSON_KEY(at, key), i),
					   "%s is not an absolute path", v[i]);
	*out = steal_ptr(&v);
	return 1;
}

static int get_id(const json_t *obj, const struct bjson_path *at, const char *key,
		  enum bjson_need need, uint32_t *out, struct berr **err)
{
	uint64_t v = 0;
	int r = bjson_get_uint64(obj, at, key, need, ID_MAX, &v, err);

	if (r > 0)
		*out = (uint32_t)v;
	return r;
}

/*
 * process
 */

static int parse_console_size(const json_t *obj, const struct bjson_path *at,
			      struct runtime_process *p, struct berr **err)
{
	const struct bjson_path *cp = BJSON_KEY(at, "consoleSize");
	json_t *cs = NULL;
	uint64_t height = 0, width = 0;
	int r = bjson_get_object(obj, at, "consoleSize", BJSON_OPTIONAL, &cs, err);

	if (r <= 0)
		return r;
	if (bjson_get_uint64(cs, cp, "height", BJSON_REQUIRED, USHRT_MAX, &height, err) < 0 ||
	    bjson_get_uint64(cs, cp, "width", BJSON_REQUIRED, USHRT_MAX, &width, err) < 0)
		return -1;
	p->console_height = (unsigned short)height;
	p->console_width = (unsigned short)width;
	return 0;
}

static int parse_user(const json_t *obj, const struct bjson_path *at, struct runtime_process *p,
		      struct berr **err)
{
	const struct bjson_path *up = BJSON_KEY(at, "user");
	const struct bjson_path *gp = BJSON_KEY(up, "additionalGids");
	json_t *user = NULL;
	json_t *gids = NULL;
	json_t *item;
	uint64_t umask = 0;
	size_t i;
	int r = bjson_get_object(obj, at, "user", BJSON_OPTIONAL, &user, err);

	if (r <= 0)
		return r;
	/* Required by the spec, but runc takes a missing id as 0: so do we. */
	if (get_id(user, up, "uid", BJSON_OPTIONAL, &p->uid, err) < 0 ||
	    get_id(user, up, "gid", BJSON_OPTIONAL, &p->gid, err) < 0)
		return -1;
	r = bjson_get_uint64(user, up, "umask", BJSON_OPTIONAL, 0777, &umask, err);
	if (r < 0)
		return -1;
	p->has_umask = r > 0;
	p->umask = (mode_t)umask;
	r = bjson_get_array(user, up, "additionalGids", BJSON_OPTIONAL, &gids, err);
	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(gids), sizeof(gid_t), (void **)&p->additional_gids, err))
		return -1;
	json_array_foreach (gids, i, item) {
		uint64_t v = 0;

		if (bjson_as_uint64(item, BJSON_INDEX(gp, i), ID_MAX, &v, err) < 0)
			return -1;
		p->additional_gids[i] = (gid_t)v;
		p->n_additional_gids = i + 1;
	}
	return 0;
}

static const char *const cap_set_names[] = { "bounding", "effective", "inheritable", "permitted",
					     "ambient" };

/* Unknown names are skipped with a warning, as runc does: a config written
 * for a newer kernel still runs on an older one. */
static int parse_cap_set(const json_t *caps, const struct bjson_path *at, const char *key,
			 uint64_t *mask, struct berr **err)
{
	const struct bjson_path *sp = BJSON_KEY(at, key);
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int r = bjson_get_array(caps, at, key, BJSON_OPTIONAL, &arr, err);

	if (r <= 0)
		return r;
	json_array_foreach (arr, i, item) {
		const char *name = NULL;
		int cap;

		if (bjson_as_string(item, BJSON_INDEX(sp, i), &name, err) < 0)
			return -1;
		cap = runtime_cap_parse(name);
		if (cap < 0) {
			_cleanup_free_ char *where = bjson_path_format(BJSON_INDEX(sp, i));
			_cleanup_free_ char *q = bjson_quote(name);

			blog_warn("%s: ignoring unknown capability %s", where ? where : key,
				  q ? q : "");
			continue;
		}
		*mask |= UINT64_C(1) << cap;
	}
	return 0;
}

static int parse_caps(const json_t *obj, const struct bjson_path *at, struct runtime_caps *caps,
		      struct berr **err)
{
	const struct bjson_path *cp = BJSON_KEY(at, "capabilities");
	uint64_t *sets[] = { &caps->bounding, &caps->effective, &caps->inheritable,
			     &caps->permitted, &caps->ambient };
	json_t *c = NULL;
	int r = bjson_get_object(obj, at, "capabilities", BJSON_OPTIONAL, &c, err);

	if (r <= 0)
		return r;
	caps->present = true;
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		if (parse_cap_set(c, cp, cap_set_names[i], sets[i], err) < 0)
			return -1;
	return 0;
}

static int parse_rlimits(const json_t *obj, const struct bjson_path *at, struct runtime_process *p,
			 struct berr **err)
{
	const struct bjson_path *rp = BJSON_KEY(at, "rlimits");
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int r = bjson_get_array(obj, at, "rlimits", BJSON_OPTIONAL, &arr, err);

	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(arr), sizeof(*p->rlimits), (void **)&p->rlimits, err) < 0)
		return -1;
	json_array_foreach (arr, i, item) {
		const struct bjson_path *ip = BJSON_INDEX(rp, i);
		struct runtime_rlimit *rl = &p->rlimits[i];
		const char *type = NULL;

		if (bjson_as_object(item, ip, err) < 0 ||
		    bjson_get_string(item, ip, "type", BJSON_REQUIRED, &type, err) < 0)
			return -1;
		rl->resource = runtime_rlimit_parse(type);
		if (rl->resource < 0)
			return value_error(err, BJSON_KEY(ip, "type"), "unknown rlimit type %s",
					   type);
		r = bjson_get_uint64(item, ip, "hard", BJSON_REQUIRED, UINT64_MAX, &rl->hard, err);
		if (r < 0)
			return -1;
		r = bjson_get_uint64(item, ip, "soft", BJSON_REQUIRED, UINT64_MAX, &rl->soft, err);
		if (r < 0)
			return -1;
		if (rl->soft > rl->hard)
			return bjson_error(err, ip,
					   "soft limit %" PRIu64 " is above hard limit %" PRIu64,
					   rl->soft, rl->hard);
		p->n_rlimits = i + 1;
	}
	return 0;
}

/* NAME=VALUE with a non-empty name, as execve(2) callers expect. */
static int check_env(char **env, const struct bjson_path *at, struct berr **err)
{
	for (size_t i = 0; env != NULL && env[i]; i++) {
		const char *eq = strchr(env[i], '=');

		if (eq == NULL)
			return value_error(err, BJSON_INDEX(at, i), "%s has no '='", env[i]);
		if (eq == env[i])
			return value_error(err, BJSON_INDEX(at, i), "%s has an empty name", env[i]);
	}
	return 0;
}

static int parse_process(const json_t *obj, const struct bjson_path *at,
			 struct runtime_process **out, struct berr **err)
{
	_cleanup_(runtime_process_free_cleanup) struct runtime_process *p = NULL;
	int64_t oom_adj = 0;
	int r;

	if (bjson_as_object(obj, at, err) < 0)
		return -1;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return oom(err);
	if (bjson_get_bool(obj, at, "terminal", BJSON_OPTIONAL, &p->terminal, err) < 0 ||
	    parse_console_size(obj, at, p, err) < 0 ||
	    get_abs_path(obj, at, "cwd", BJSON_REQUIRED, &p->cwd, err) < 0 ||
	    bjson_get_strv(obj, at, "args", BJSON_REQUIRED, &p->args, err) < 0)
		return -1;
	if (p->args[0] == NULL)
		return bjson_error(err, BJSON_KEY(at, "args"), "at least one argument is required");
	if (bjson_get_strv(obj, at, "env", BJSON_OPTIONAL, &p->env, err) < 0 ||
	    check_env(p->env, BJSON_KEY(at, "env"), err) < 0)
		return -1;
	if (parse_user(obj, at, p, err) < 0 || parse_caps(obj, at, &p->caps, err) < 0 ||
	    parse_rlimits(obj, at, p, err) < 0)
		return -1;
	r = bjson_get_bool(obj, at, "noNewPrivileges", BJSON_OPTIONAL, &p->no_new_privileges, err);
	if (r < 0)
		return -1;
	r = bjson_get_int64(obj, at, "oomScoreAdj", BJSON_OPTIONAL, -1000, 1000, &oom_adj, err);
	if (r < 0)
		return -1;
	p->has_oom_score_adj = r > 0;
	p->oom_score_adj = (int)oom_adj;
	r = bjson_get_string_dup(obj, at, "apparmorProfile", BJSON_OPTIONAL, &p->apparmor_profile,
				 err);
	if (r < 0)
		return -1;
	r = bjson_get_string_dup(obj, at, "selinuxLabel", BJSON_OPTIONAL, &p->selinux_label, err);
	if (r < 0)
		return -1;
	*out = steal_ptr(&p);
	return 0;
}

/*
 * mounts
 */

/* The option words mount(8) turns into flags; CLEAR ones turn a flag off. */
static const struct {
	const char *name;
	unsigned long flag;
	bool clear;
} mount_flag_options[] = {
	{ "defaults", 0, false },
	{ "ro", MS_RDONLY, false },
	{ "rw", MS_RDONLY, true },
	{ "suid", MS_NOSUID, true },
	{ "nosuid", MS_NOSUID, false },
	{ "dev", MS_NODEV, true },
	{ "nodev", MS_NODEV, false },
	{ "exec", MS_NOEXEC, true },
	{ "noexec", MS_NOEXEC, false },
	{ "sync", MS_SYNCHRONOUS, false },
	{ "async", MS_SYNCHRONOUS, true },
	{ "dirsync", MS_DIRSYNC, false },
	{ "remount", MS_REMOUNT, false },
	{ "mand", MS_MANDLOCK, false },
	{ "nomand", MS_MANDLOCK, true },
	{ "atime", MS_NOATIME, true },
	{ "noatime", MS_NOATIME, false },
	{ "diratime", MS_NODIRATIME, true },
	{ "nodiratime", MS_NODIRATIME, false },
	{ "relatime", MS_RELATIME, false },
	{ "norelatime", MS_RELATIME, true },
	{ "strictatime", MS_STRICTATIME, false },
	{ "nostrictatime", MS_STRICTATIME, true },
	/* Not in every list, but in runc's: the kernel would refuse them as
	 * filesystem data. */
	{ "lazytime", MS_LAZYTIME, false },
	{ "nolazytime", MS_LAZYTIME, true },
	{ "iversion", MS_I_VERSION, false },
	{ "noiversion", MS_I_VERSION, true },
	{ "nosymfollow", MS_NOSYMFOLLOW, false },
	{ "silent", MS_SILENT, false },
	{ "loud", MS_SILENT, true },
};

static const struct {
	const char *name;
	unsigned long flags;
} propagation_options[] = {
	{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

static int find_propagation(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagation_options); i++)
		if (strcmp(name, propagation_options[i].name) == 0)
			return (int)i;
	return -1;
}

/* True when OPT is a flag or propagation word, applied to M. */
static bool apply_mount_word(struct runtime_mount *m, const char *opt)
{
	int p;

	if (strcmp(opt, "bind") == 0 || strcmp(opt, "rbind") == 0) {
		m->bind = true;
		m->flags |= MS_BIND;
		if (opt[0] == 'r') {
			m->recursive = true;
			m->flags |= MS_REC;
		}
		return true;
	}
	p = find_propagation(opt);
	if (p >= 0) {
		/* One propagation per mount: the last word wins. */
		m->propagation = propagation_options[p].flags;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mount_flag_options); i++) {
		unsigned long f = mount_flag_options[i].flag;

		if (strcmp(opt, mount_flag_options[i].name) != 0)
			continue;
		if (mount_flag_options[i].clear) {
			m->flags &= ~f;
			m->clear_flags |= f;
		} else {
			m->flags |= f;
			m->clear_flags &= ~f;
		}
		return true;
	}
	return false;
}

/* Sorts the options of M into flags and the comma-joined data string. */
static int apply_mount_options(struct runtime_mount *m, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	size_t size = 1, used = 0;

	for (size_t i = 0; m->options != NULL && m->options[i]; i++)
		size += strlen(m->options[i]) + 1;
	data = malloc(size);
	if (data == NULL)
		return oom(err);
	data[0] = '\0';
	for (size_t i = 0; m->options != NULL && m->options[i]; i++) {
		const char *opt = m->options[i];
		size_t n = strlen(opt);

		if (n == 0 || apply_mount_word(m, opt))
			continue;
		if (used > 0)
			data[used++] = ',';
		memcpy(data + used, opt, n + 1);
		used += n;
	}
	if (used > 0)
		m->data = steal_ptr(&data);
	return 0;
}

static int parse_mount(const json_t *item, const struct bjson_path *at, struct runtime_mount *m,
		       struct berr **err)
{
	if (bjson_as_object(item, at, err) < 0 ||
	    get_abs_path(item, at, "destination", BJSON_REQUIRED, &m->destination, err) < 0 ||
	    bjson_get_string_dup(item, at, "type", BJSON_OPTIONAL, &m->type, err) < 0 ||
	    bjson_get_string_dup(item, at, "source", BJSON_OPTIONAL, &m->source, err) < 0 ||
	    bjson_get_strv(item, at, "options", BJSON_OPTIONAL, &m->options, err) < 0)
		return -1;
	if (m->type != NULL && strcmp(m->type, "bind") == 0) {
		m->bind = true;
		m->flags |= MS_BIND;
	}
	return apply_mount_options(m, err);
}

static int parse_mounts(const json_t *doc, struct runtime_spec *s, struct berr **err)
{
	const struct bjson_path *mp = BJSON_KEY(NULL, "mounts");
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int r = bjson_get_array(doc, NULL, "mounts", BJSON_OPTIONAL, &arr, err);

	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(arr), sizeof(*s->mounts), (void **)&s->mounts, err) < 0)
		return -1;
	json_array_foreach (arr, i, item) {
		s->n_mounts = i + 1;
		if (parse_mount(item, BJSON_INDEX(mp, i), &s->mounts[i], err) < 0)
			return -1;
	}
	return 0;
}

/*
 * hooks and annotations
 */

static const char *const hook_kind_names[RUNTIME_HOOK_KIND_COUNT] = {
	[RUNTIME_HOOK_PRESTART] = "prestart",
	[RUNTIME_HOOK_CREATE_RUNTIME] = "createRuntime",
	[RUNTIME_HOOK_CREATE_CONTAINER] = "createContainer",
	[RUNTIME_HOOK_START_CONTAINER] = "startContainer",
	[RUNTIME_HOOK_POSTSTART] = "poststart",
	[RUNTIME_HOOK_POSTSTOP] = "poststop",
};

static int parse_hook(const json_t *item, const struct bjson_path *at, struct runtime_hook *h,
		      struct berr **err)
{
	int64_t timeout = 0;
	int r;

	if (bjson_as_object(item, at, err) < 0 ||
	    get_abs_path(item, at, "path", BJSON_REQUIRED, &h->path, err) < 0 ||
	    bjson_get_strv(item, at, "args", BJSON_OPTIONAL, &h->args, err) < 0 ||
	    bjson_get_strv(item, at, "env", BJSON_OPTIONAL, &h->env, err) < 0)
		return -1;
	r = bjson_get_int64(item, at, "timeout", BJSON_OPTIONAL, INT64_MIN, INT_MAX, &timeout, err);
	if (r < 0)
		return -1;
	if (r > 0 && timeout <= 0)
		return bjson_error(err, BJSON_KEY(at, "timeout"), "must be greater than zero");
	h->timeout = (int)timeout;
	return 0;
}

static int parse_hooks(const json_t *doc, struct runtime_spec *s, struct berr **err)
{
	const struct bjson_path *hp = BJSON_KEY(NULL, "hooks");
	json_t *hooks = NULL;
	int r = bjson_get_object(doc, NULL, "hooks", BJSON_OPTIONAL, &hooks, err);

	if (r <= 0)
		return r;
	for (int k = 0; k < RUNTIME_HOOK_KIND_COUNT; k++) {
		const struct bjson_path *kp = BJSON_KEY(hp, hook_kind_names[k]);
		struct runtime_hook_list *list = &s->hooks[k];
		json_t *arr = NULL;
		json_t *item;
		size_t i;

		r = bjson_get_array(hooks, hp, hook_kind_names[k], BJSON_OPTIONAL, &arr, err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (alloc_items(json_array_size(arr), sizeof(*list->hooks), (void **)&list->hooks,
				err) < 0)
			return -1;
		json_array_foreach (arr, i, item) {
			list->n = i + 1;
			if (parse_hook(item, BJSON_INDEX(kp, i), &list->hooks[i], err) < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_annotations(const json_t *doc, struct runtime_spec *s, struct berr **err)
{
	json_t *v = NULL;
	int r = bjson_get(doc, NULL, "annotations", BJSON_OPTIONAL, &v, err);

	if (r <= 0)
		return r;
	return bjson_as_strmap(v, BJSON_KEY(NULL, "annotations"), &s->annotation_keys,
			       &s->annotation_values, &s->n_annotations, err);
}

/*
 * linux
 */

static int opt_int64(const json_t *obj, const struct bjson_path *at, const char *key, int64_t min,
		     int64_t max, bool *has, int64_t *out, struct berr **err)
{
	int r = bjson_get_int64(obj, at, key, BJSON_OPTIONAL, min, max, out, err);

	if (r < 0)
		return -1;
	*has = r > 0;
	return 0;
}

static int opt_uint64(const json_t *obj, const struct bjson_path *at, const char *key, uint64_t max,
		      bool *has, uint64_t *out, struct berr **err)
{
	int r = bjson_get_uint64(obj, at, key, BJSON_OPTIONAL, max, out, err);

	if (r < 0)
		return -1;
	*has = r > 0;
	return 0;
}

static int opt_id(const json_t *obj, const struct bjson_path *at, const char *key, bool *has,
		  uint32_t *out, struct berr **err)
{
	int r = get_id(obj, at, key, BJSON_OPTIONAL, out, err);

	if (r < 0)
		return -1;
	*has = r > 0;
	return 0;
}

static int parse_namespaces(const json_t *lnx, const struct bjson_path *lp, struct runtime_spec *s,
			    struct berr **err)
{
	const struct bjson_path *np = BJSON_KEY(lp, "namespaces");
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int r = bjson_get_array(lnx, lp, "namespaces", BJSON_OPTIONAL, &arr, err);

	if (r <= 0)
		return r;
	json_array_foreach (arr, i, item) {
		const struct bjson_path *ip = BJSON_INDEX(np, i);
		const char *type = NULL;
		const char *path = NULL;
		int t;

		if (bjson_as_object(item, ip, err) < 0 ||
		    bjson_get_string(item, ip, "type", BJSON_REQUIRED, &type, err) < 0 ||
		    bjson_get_string(item, ip, "path", BJSON_OPTIONAL, &path, err) < 0)
			return -1;
		t = runtime_ns_type_parse(type);
		if (t < 0)
			return value_error(err, BJSON_KEY(ip, "type"), "unknown namespace type %s",
					   type);
		if (s->namespaces[t].enabled)
			return value_error(err, BJSON_KEY(ip, "type"),
					   "duplicated namespace type %s", type);
		s->namespaces[t].enabled = true;
		/* Go's encoder writes "" for "make a new one". */
		if (path == NULL || path[0] == '\0')
			continue;
		if (path[0] != '/')
			return value_error(err, BJSON_KEY(ip, "path"), "%s is not an absolute path",
					   path);
		s->namespaces[t].path = strdup(path);
		if (s->namespaces[t].path == NULL)
			return oom(err);
	}
	return 0;
}

static int get_u32(const json_t *obj, const struct bjson_path *at, const char *key, uint64_t *out,
		   struct berr **err)
{
	return bjson_get_uint64(obj, at, key, BJSON_REQUIRED, UINT32_MAX, out, err);
}

static int parse_id_mappings(const json_t *lnx, const struct bjson_path *lp, const char *key,
			     struct runtime_id_mapping **out, size_t *n, struct berr **err)
{
	const struct bjson_path *mp = BJSON_KEY(lp, key);
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int r = bjson_get_array(lnx, lp, key, BJSON_OPTIONAL, &arr, err);

	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(arr), sizeof(**out), (void **)out, err) < 0)
		return -1;
	*n = json_array_size(arr);
	json_array_foreach (arr, i, item) {
		const struct bjson_path *ip = BJSON_INDEX(mp, i);
		uint64_t cid = 0, hid = 0, size = 0;

		if (bjson_as_object(item, ip, err) < 0 ||
		    get_u32(item, ip, "containerID", &cid, err) < 0 ||
		    get_u32(item, ip, "hostID", &hid, err) < 0 ||
		    get_u32(item, ip, "size", &size, err) < 0)
			return -1;
		if (size == 0)
			return bjson_error(err, BJSON_KEY(ip, "size"), "must be at least 1");
		/* The kernel refuses ranges that wrap past 2^32 ids. */
		if (cid + size - 1 > UINT32_MAX || hid + size - 1 > UINT32_MAX)
			return bjson_error(err, ip, "id range ends beyond %" PRIu32, UINT32_MAX);
		(*out)[i] = (struct runtime_id_mapping){
			.container_id = (uint32_t)cid,
			.host_id = (uint32_t)hid,
			.size = (uint32_t)size,
		};
	}
	return 0;
}

static int parse_device(const json_t *item, const struct bjson_path *at, struct runtime_device *d,
			struct berr **err)
{
	const char *type = NULL;
	enum bjson_need need;
	uint64_t mode = 0;

	if (bjson_as_object(item, at, err) < 0 ||
	    bjson_get_string(item, at, "type", BJSON_REQUIRED, &type, err) < 0)
		return -1;
	if (type[0] == '\0' || type[1] != '\0' || strchr("cbup", type[0]) == NULL)
		return value_error(err, BJSON_KEY(at, "type"), "unknown device type %s", type);
	d->type = type[0];
	if (get_abs_path(item, at, "path", BJSON_REQUIRED, &d->path, err) < 0)
		return -1;
	/* A FIFO has no device number. */
	need = d->type == 'p' ? BJSON_OPTIONAL : BJSON_REQUIRED;
	if (bjson_get_int64(item, at, "major", need, 0, DEV_MAJOR_MAX, &d->major, err) < 0 ||
	    bjson_get_int64(item, at, "minor", need, 0, DEV_MINOR_MAX, &d->minor, err) < 0 ||
	    opt_uint64(item, at, "fileMode", UINT32_MAX, &d->has_file_mode, &mode, err) < 0 ||
	    opt_id(item, at, "uid", &d->has_uid, &d->uid, err) < 0 ||
	    opt_id(item, at, "gid", &d->has_gid, &d->gid, err) < 0)
		return -1;
	/* The file type comes from "type"; like runc, keep only the
	 * permission bits of fileMode. */
	d->file_mode = (mode_t)(mode & 07777);
	return 0;
}

static int parse_devices(const json_t *lnx, const struct bjson_path *lp, struct runtime_spec *s,
			 struct berr **err)
{
	const struct bjson_path *dp = BJSON_KEY(lp, "devices");
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int r = bjson_get_array(lnx, lp, "devices", BJSON_OPTIONAL, &arr, err);

	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(arr), sizeof(*s->devices), (void **)&s->devices, err) < 0)
		return -1;
	json_array_foreach (arr, i, item) {
		s->n_devices = i + 1;
		if (parse_device(item, BJSON_INDEX(dp, i), &s->devices[i], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_memory(const json_t *res, const struct bjson_path *rp, struct runtime_resources *r,
			struct berr **err)
{
	const struct bjson_path *mp = BJSON_KEY(rp, "memory");
	json_t *mem = NULL;
	int n = bjson_get_object(res, rp, "memory", BJSON_OPTIONAL, &mem, err);

	if (n <= 0)
		return n;
	/* -1 is "unlimited"; "kernel" and "kernelTCP" are gone from recent
	 * kernels and ignored, as runc does. */
	if (opt_int64(mem, mp, "limit", -1, INT64_MAX, &r->has_memory_limit, &r->memory_limit,
		      err) < 0)
		return -1;
	if (opt_int64(mem, mp, "reservation", -1, INT64_MAX, &r->has_memory_reservation,
		      &r->memory_reservation, err) < 0)
		return -1;
	n = opt_int64(mem, mp, "swap", -1, INT64_MAX, &r->has_memory_swap, &r->memory_swap, err);
	if (n < 0)
		return -1;
	if (opt_uint64(mem, mp, "swappiness", 100, &r->has_memory_swappiness, &r->memory_swappiness,
		       err) < 0)
		return -1;
	n = bjson_get_bool(mem, mp, "disableOOMKiller", BJSON_OPTIONAL, &r->disable_oom_killer,
			   err);
	return n < 0 ? -1 : 0;
}

static int parse_cpu(const json_t *res, const struct bjson_path *rp, struct runtime_resources *r,
		     struct berr **err)
{
	const struct bjson_path *cp = BJSON_KEY(rp, "cpu");
	json_t *cpu = NULL;
	int n = bjson_get_object(res, rp, "cpu", BJSON_OPTIONAL, &cpu, err);

	if (n <= 0)
		return n;
	/* realtimeRuntime and realtimePeriod need CONFIG_RT_GROUP_SCHED, which
	 * distribution kernels leave out: ignored. */
	if (opt_uint64(cpu, cp, "shares", UINT64_MAX, &r->has_cpu_shares, &r->cpu_shares, err) < 0)
		return -1;
	if (opt_int64(cpu, cp, "quota", -1, INT64_MAX, &r->has_cpu_quota, &r->cpu_quota, err) < 0)
		return -1;
	if (opt_uint64(cpu, cp, "period", UINT64_MAX, &r->has_cpu_period, &r->cpu_period, err) < 0)
		return -1;
	if (bjson_get_string_dup(cpu, cp, "cpus", BJSON_OPTIONAL, &r->cpuset_cpus, err) < 0 ||
	    bjson_get_string_dup(cpu, cp, "mems", BJSON_OPTIONAL, &r->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

/* One of "rwm" each at most once; *out gets "rwm" when ACCESS is empty. */
static int parse_access(const char *access, const struct bjson_path *at, char out[4],
			struct berr **err)
{
	size_t n = strlen(access);

	if (n == 0) {
		/* An empty rule would deny nothing: read it as "all". */
		memcpy(out, "rwm", 4);
		return 0;
	}
	if (n > 3 || strspn(access, "rwm") != n)
		return value_error(err, at, "%s is not a combination of r, w and m", access);
	for (size_t i = 0; i < n; i++)
		if (strchr(access + i + 1, access[i]) != NULL)
			return value_error(err, at, "%s repeats a letter", access);
	memcpy(out, access, n + 1);
	return 0;
}

static int parse_device_rule(const json_t *item, const struct bjson_path *at,
			     struct runtime_device_rule *d, struct berr **err)
{
	const char *type = NULL;
	const char *access = "";
	int r;

	d->type = 'a';
	d->major = -1;
	d->minor = -1;
	if (bjson_as_object(item, at, err) < 0 ||
	    bjson_get_bool(item, at, "allow", BJSON_REQUIRED, &d->allow, err) < 0)
		return -1;
	r = bjson_get_string(item, at, "type", BJSON_OPTIONAL, &type, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (type[0] == '\0' || type[1] != '\0' || strchr("acb", type[0]) == NULL)
			return value_error(err, BJSON_KEY(at, "type"), "unknown device type %s",
					   type);
		d->type = type[0];
	}
	if (bjson_get_int64(item, at, "major", BJSON_OPTIONAL, -1, INT64_MAX, &d->major, err) < 0 ||
	    bjson_get_int64(item, at, "minor", BJSON_OPTIONAL, -1, INT64_MAX, &d->minor, err) < 0 ||
	    bjson_get_string(item, at, "access", BJSON_OPTIONAL, &access, err) < 0)
		return -1;
	return parse_access(access, BJSON_KEY(at, "access"), d->access, err);
}

static int parse_device_rules(const json_t *res, const struct bjson_path *rp,
			      struct runtime_resources *r, struct berr **err)
{
	const struct bjson_path *dp = BJSON_KEY(rp, "devices");
	json_t *arr = NULL;
	json_t *item;
	size_t i;
	int n = bjson_get_array(res, rp, "devices", BJSON_OPTIONAL, &arr, err);

	if (n <= 0)
		return n;
	if (alloc_items(json_array_size(arr), sizeof(*r->devices), (void **)&r->devices, err) < 0)
		return -1;
	r->n_devices = json_array_size(arr);
	json_array_foreach (arr, i, item) {
		if (parse_device_rule(item, BJSON_INDEX(dp, i), &r->devices[i], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_resources(const json_t *lnx, const struct bjson_path *lp,
			   struct runtime_resources *r, struct berr **err)
{
	const struct bjson_path *rp = BJSON_KEY(lp, "resources");
	json_t *res = NULL;
	json_t *sub = NULL;
	uint64_t weight = 0;
	int n = bjson_get_object(lnx, lp, "resources", BJSON_OPTIONAL, &res, err);

	if (n <= 0)
		return n;
	if (parse_memory(res, rp, r, err) < 0 || parse_cpu(res, rp, r, err) < 0)
		return -1;
	n = bjson_get_object(res, rp, "pids", BJSON_OPTIONAL, &sub, err);
	if (n < 0)
		return -1;
	if (n > 0 && opt_int64(sub, BJSON_KEY(rp, "pids"), "limit", -1, INT64_MAX,
			       &r->has_pids_limit, &r->pids_limit, err) < 0)
		return -1;
	/* blockIO: only the weight; per-device weights and throttles are
	 * ignored. */
	n = bjson_get_object(res, rp, "blockIO", BJSON_OPTIONAL, &sub, err);
	if (n < 0)
		return -1;
	if (n > 0 && opt_uint64(sub, BJSON_KEY(rp, "blockIO"), "weight", UINT16_MAX,
				&r->has_blkio_weight, &weight, err) < 0)
		return -1;
	r->blkio_weight = (uint16_t)weight;
	if (parse_device_rules(res, rp, r, err) < 0)
		return -1;
	n = bjson_get(res, rp, "unified", BJSON_OPTIONAL, &sub, err);
	if (n < 0)
		return -1;
	if (n > 0 && bjson_as_strmap(sub, BJSON_KEY(rp, "unified"), &r->unified_keys,
				     &r->unified_values, &r->n_unified, err) < 0)
		return -1;
	return 0;
}

static int parse_sysctl(const json_t *lnx, const struct bjson_path *lp, struct runtime_spec *s,
			struct berr **err)
{
	_cleanup_strv_ char **keys = NULL;
	_cleanup_strv_ char **values = NULL;
	json_t *v = NULL;
	size_t n = 0;
	int r = bjson_get(lnx, lp, "sysctl", BJSON_OPTIONAL, &v, err);

	if (r <= 0)
		return r;
	if (bjson_as_strmap(v, BJSON_KEY(lp, "sysctl"), &keys, &values, &n, err) < 0)
		return -1;
	if (alloc_items(n, sizeof(*s->sysctls), (void **)&s->sysctls, err) < 0)
		return -1;
	/* The strings move into the array one by one. */
	for (size_t i = 0; i < n; i++) {
		s->sysctls[i].key = keys[i];
		s->sysctls[i].value = values[i];
	}
	s->n_sysctls = n;
	free(steal_ptr(&keys));
	free(steal_ptr(&values));
	return 0;
}

static const char *const seccomp_ops[] = {
	[RUNTIME_SECCOMP_OP_NE] = "SCMP_CMP_NE",
	[RUNTIME_SECCOMP_OP_LT] = "SCMP_CMP_LT",
	[RUNTIME_SECCOMP_OP_LE] = "SCMP_CMP_LE",
	[RUNTIME_SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
	[RUNTIME_SECCOMP_OP_GE] = "SCMP_CMP_GE",
	[RUNTIME_SECCOMP_OP_GT] = "SCMP_CMP_GT",
	[RUNTIME_SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int parse_seccomp_arg(const json_t *item, const struct bjson_path *at,
			     struct runtime_seccomp_arg *a, struct berr **err)
{
	const char *op = NULL;
	uint64_t index = 0;
	size_t i;
	int r;

	if (bjson_as_object(item, at, err) < 0 ||
	    bjson_get_uint64(item, at, "index", BJSON_REQUIRED, 5, &index, err) < 0 ||
	    bjson_get_uint64(item, at, "value", BJSON_REQUIRED, UINT64_MAX, &a->value, err) < 0 ||
	    bjson_get_string(item, at, "op", BJSON_REQUIRED, &op, err) < 0)
		return -1;
	r = bjson_get_uint64(item, at, "valueTwo", BJSON_OPTIONAL, UINT64_MAX, &a->value_two, err);
	if (r < 0)
		return -1;
	a->index = (unsigned int)index;
	for (i = 0; i < ARRAY_SIZE(seccomp_ops); i++)
		if (strcmp(op, seccomp_ops[i]) == 0)
			break;
	if (i == ARRAY_SIZE(seccomp_ops))
		return value_error(err, BJSON_KEY(at, "op"), "unknown operator %s", op);
	a->op = (enum runtime_seccomp_op)i;
	return 0;
}

static int parse_seccomp_rule(const json_t *item, const struct bjson_path *at,
			      struct runtime_seccomp_rule *rule, struct berr **err)
{
	const struct bjson_path *ap = BJSON_KEY(at, "args");
	json_t *args = NULL;
	json_t *arg;
	uint64_t errno_ret = 0;
	size_t i;
	int r;

	if (bjson_as_object(item, at, err) < 0 ||
	    bjson_get_strv(item, at, "names", BJSON_REQUIRED, &rule->names, err) < 0)
		return -1;
	if (rule->names[0] == NULL)
		return bjson_error(err, BJSON_KEY(at, "names"), "at least one name is required");
	if (bjson_get_string_dup(item, at, "action", BJSON_REQUIRED, &rule->action, err) < 0 ||
	    opt_uint64(item, at, "errnoRet", UINT32_MAX, &rule->has_errno_ret, &errno_ret, err) < 0)
		return -1;
	rule->errno_ret = (uint32_t)errno_ret;
	r = bjson_get_array(item, at, "args", BJSON_OPTIONAL, &args, err);
	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(args), sizeof(*rule->args), (void **)&rule->args, err) < 0)
		return -1;
	rule->n_args = json_array_size(args);
	json_array_foreach (args, i, arg) {
		if (parse_seccomp_arg(arg, BJSON_INDEX(ap, i), &rule->args[i], err) < 0)
			return -1;
	}
	return 0;
}

/* Action, architecture and flag names stay strings: the seccomp module
 * knows which ones libseccomp and the kernel take. */
static int parse_seccomp(const json_t *lnx, const struct bjson_path *lp, struct runtime_spec *s,
			 struct berr **err)
{
	const struct bjson_path *sp = BJSON_KEY(lp, "seccomp");
	const struct bjson_path *rp = BJSON_KEY(sp, "syscalls");
	struct runtime_seccomp *sc;
	json_t *obj = NULL;
	json_t *arr = NULL;
	json_t *item;
	uint64_t errno_ret = 0;
	size_t i;
	int r = bjson_get_object(lnx, lp, "seccomp", BJSON_OPTIONAL, &obj, err);

	if (r <= 0)
		return r;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return oom(err);
	s->seccomp = sc;
	sc->canonical = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (sc->canonical == NULL)
		return oom(err);
	if (bjson_get_string_dup(obj, sp, "defaultAction", BJSON_REQUIRED, &sc->default_action,
				 err) < 0 ||
	    opt_uint64(obj, sp, "defaultErrnoRet", UINT32_MAX, &sc->has_default_errno_ret,
		       &errno_ret, err) < 0 ||
	    bjson_get_strv(obj, sp, "architectures", BJSON_OPTIONAL, &sc->architectures, err) < 0 ||
	    bjson_get_strv(obj, sp, "flags", BJSON_OPTIONAL, &sc->flags, err) < 0 ||
	    bjson_get_string_dup(obj, sp, "listenerMetadata", BJSON_OPTIONAL,
				 &sc->listener_metadata, err) < 0)
		return -1;
	r = bjson_get_string_dup(obj, sp, "listenerPath", BJSON_OPTIONAL, &sc->listener_path, err);
	if (r < 0)
		return -1;
	sc->default_errno_ret = (uint32_t)errno_ret;
	r = bjson_get_array(obj, sp, "syscalls", BJSON_OPTIONAL, &arr, err);
	if (r <= 0)
		return r;
	if (alloc_items(json_array_size(arr), sizeof(*sc->rules), (void **)&sc->rules, err) < 0)
		return -1;
	sc->n_rules = json_array_size(arr);
	json_array_foreach (arr, i, item) {
		if (parse_seccomp_rule(item, BJSON_INDEX(rp, i), &sc->rules[i], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_linux_strings(const json_t *lnx, const struct bjson_path *lp,
			       struct runtime_spec *s, struct berr **err)
{
	const struct bjson_path *pp = BJSON_KEY(lp, "personality");
	const char *prop = NULL;
	const char *domain = NULL;
	json_t *pers = NULL;
	int r;

	r = bjson_get_string_dup(lnx, lp, "cgroupsPath", BJSON_OPTIONAL, &s->cgroups_path, err);
	if (r < 0 || get_abs_paths(lnx, lp, "maskedPaths", &s->masked_paths, err) < 0 ||
	    get_abs_paths(lnx, lp, "readonlyPaths", &s->readonly_paths, err) < 0 ||
	    bjson_get_string_dup(lnx, lp, "mountLabel", BJSON_OPTIONAL, &s->mount_label, err) < 0)
		return -1;
	r = bjson_get_string(lnx, lp, "rootfsPropagation", BJSON_OPTIONAL, &prop, err);
	if (r < 0)
		return -1;
	if (r > 0 && prop[0] != '\0') {
		if (find_propagation(prop) < 0)
			return value_error(err, BJSON_KEY(lp, "rootfsPropagation"),
					   "unknown propagation %s", prop);
		s->rootfs_propagation = strdup(prop);
		if (s->rootfs_propagation == NULL)
			return oom(err);
	}
	r = bjson_get_object(lnx, lp, "personality", BJSON_OPTIONAL, &pers, err);
	if (r <= 0)
		return r;
	if (bjson_get_string(pers, pp, "domain", BJSON_REQUIRED, &domain, err) < 0)
		return -1;
	if (strcmp(domain, "LINUX") != 0 && strcmp(domain, "LINUX32") != 0)
		return value_error(err, BJSON_KEY(pp, "domain"), "unknown personality domain %s",
				   domain);
	s->personality_domain = strdup(domain);
	if (s->personality_domain == NULL)
		return oom(err);
	return 0;
}

static int parse_linux(const json_t *doc, struct runtime_spec *s, struct berr **err)
{
	const struct bjson_path *lp = BJSON_KEY(NULL, "linux");
	json_t *lnx = NULL;
	int r = bjson_get_object(doc, NULL, "linux", BJSON_OPTIONAL, &lnx, err);

	if (r <= 0)
		return r;
	if (parse_namespaces(lnx, lp, s, err) < 0)
		return -1;
	r = parse_id_mappings(lnx, lp, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err);
	if (r < 0)
		return -1;
	r = parse_id_mappings(lnx, lp, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err);
	if (r < 0 || parse_devices(lnx, lp, s, err) < 0 ||
	    parse_resources(lnx, lp, &s->resources, err) < 0 || parse_sysctl(lnx, lp, s, err) < 0 ||
	    parse_seccomp(lnx, lp, s, err) < 0 || parse_linux_strings(lnx, lp, s, err) < 0)
		return -1;
	return 0;
}

/*
 * The document
 */

/* Rules that tie fields together, checked as runc does before any work. */
static int check_spec(const struct runtime_spec *s, struct berr **err)
{
	const struct runtime_namespace *userns = &s->namespaces[RUNTIME_NS_USER];
	bool uts = s->namespaces[RUNTIME_NS_UTS].enabled;

	if (!userns->enabled && (s->n_uid_mappings > 0 || s->n_gid_mappings > 0))
		return bjson_error(err, BJSON_KEY(NULL, "linux"),
				   "uidMappings and gidMappings need a user namespace");
	if (userns->enabled && userns->path == NULL &&
	    (s->n_uid_mappings == 0 || s->n_gid_mappings == 0))
		return bjson_error(err, BJSON_KEY(NULL, "linux"),
				   "a new user namespace needs uidMappings and gidMappings");
	if (s->hostname != NULL && s->hostname[0] != '\0' && !uts)
		return bjson_error(err, BJSON_KEY(NULL, "hostname"), "needs a UTS namespace");
	if (s->domainname != NULL && s->domainname[0] != '\0' && !uts)
		return bjson_error(err, BJSON_KEY(NULL, "domainname"), "needs a UTS namespace");
	return 0;
}

static int parse_root(const json_t *doc, struct runtime_spec *s, struct berr **err)
{
	const struct bjson_path *rp = BJSON_KEY(NULL, "root");
	json_t *root = NULL;

	if (bjson_get_object(doc, NULL, "root", BJSON_REQUIRED, &root, err) < 0 ||
	    bjson_get_string_dup(root, rp, "path", BJSON_REQUIRED, &s->root_path, err) < 0 ||
	    bjson_get_bool(root, rp, "readonly", BJSON_OPTIONAL, &s->root_readonly, err) < 0)
		return -1;
	if (s->root_path[0] == '\0')
		return bjson_error(err, BJSON_KEY(rp, "path"), "must not be empty");
	return 0;
}

static int parse_spec(const json_t *doc, struct runtime_spec *s, struct berr **err)
{
	json_t *proc = NULL;
	int r;

	if (bjson_as_object(doc, NULL, err) < 0)
		return -1;
	r = bjson_get_string_dup(doc, NULL, "ociVersion", BJSON_REQUIRED, &s->oci_version, err);
	if (r < 0 || parse_root(doc, s, err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "hostname", BJSON_OPTIONAL, &s->hostname, err) < 0 ||
	    bjson_get_string_dup(doc, NULL, "domainname", BJSON_OPTIONAL, &s->domainname, err) < 0)
		return -1;
	r = bjson_get(doc, NULL, "process", BJSON_OPTIONAL, &proc, err);
	if (r < 0)
		return -1;
	if (r > 0 && parse_process(proc, BJSON_KEY(NULL, "process"), &s->process, err) < 0)
		return -1;
	if (parse_mounts(doc, s, err) < 0 || parse_hooks(doc, s, err) < 0 ||
	    parse_annotations(doc, s, err) < 0 || parse_linux(doc, s, err) < 0)
		return -1;
	return check_spec(s, err);
}

/* ----- linux.seccomp's text, found without a parse ----- */

/* Nesting a value may have before the scan gives up. */
#define SPAN_DEPTH_MAX 64

struct span_scan {
	const char *p, *end;
};

static void span_ws(struct span_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Past a string at s->p ('"'); *escaped tells whether it held a '\'. */
static bool span_string(struct span_scan *s, bool *escaped)
{
	*escaped = false;
	s->p++;
	for (;;) {
		const char *quote = memchr(s->p, '"', (size_t)(s->end - s->p));
		const char *backslash;

		if (!quote)
			return false;
		backslash = memchr(s->p, '\\', (size_t)(quote - s->p));
		if (!backslash) {
			s->p = quote + 1;
			return true;
		}
		/* What it escapes may be that quote: look again past it. */
		*escaped = true;
		s->p = backslash + 2;
	}
}

static bool span_value(struct span_scan *s, int depth);

/* Past an object or array at s->p. */
static bool span_container(struct span_scan *s, int depth)
{
	char close = *s->p == '{' ? '}' : ']';
	bool object = close == '}', escaped;

	if (depth > SPAN_DEPTH_MAX)
		return false;
	s->p++;
	span_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return true;
	}
	for (;;) {
		if (object) {
			span_ws(s);
			if (s->p >= s->end || *s->p != '"' || !span_string(s, &escaped))
				return false;
			span_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return false;
			s->p++;
		}
		if (!span_value(s, depth + 1))
			return false;
		span_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == close) {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
	}
}

static bool span_value(struct span_scan *s, int depth)
{
	bool escaped;

	span_ws(s);
	if (s->p >= s->end)
		return false;
	if (*s->p == '"')
		return span_string(s, &escaped);
	if (*s->p == '{' || *s->p == '[')
		return span_container(s, depth);
	/* A number or a literal: the parse proper judges it. */
	while (s->p < s->end && !strchr(",}] \t\n\r", *s->p))
		s->p++;
	return true;
}

/* In the object at s->p, the value of its one member KEY: false when the
 * object is malformed, has KEY twice or not at all, or a key with an
 * escape (which could spell KEY). */
static bool span_member(struct span_scan *s, const char *key, const char **start, const char **end)
{
	size_t key_len = strlen(key);
	int found = 0;
	bool escaped;

	span_ws(s);
	if (s->p >= s->end || *s->p != '{')
		return false;
	s->p++;
	span_ws(s);
	if (s->p < s->end && *s->p == '}')
		return false;
	for (;;) {
		const char *k, *v;
		bool is_key;

		span_ws(s);
		k = s->p + 1;
		if (s->p >= s->end || *s->p != '"' || !span_string(s, &escaped) || escaped)
			return false;
		is_key = (size_t)(s->p - k) == key_len + 1 && strncmp(k, key, key_len) == 0;
		span_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return false;
		s->p++;
		span_ws(s);
		v = s->p;
		if (!span_value(s, 1))
			return false;
		if (is_key) {
			found++;
			*start = v;
			*end = s->p;
		}
		span_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == '}') {
			s->p++;
			return found == 1;
		}
		if (*s->p != ',')
			return false;
		s->p++;
	}
}

bool runtime_spec_seccomp_span(const char *json, size_t len, size_t *start, size_t *end)
{
	struct span_scan s = { .p = json, .end = json + len };
	const char *lo = NULL, *hi = NULL, *slo = NULL, *shi = NULL;

	if (!span_member(&s, "linux", &lo, &hi))
		return false;
	span_ws(&s);
	if (s.p != s.end)
		return false;
	s = (struct span_scan){ .p = lo, .end = hi };
	if (!span_member(&s, "seccomp", &slo, &shi) || *slo != '{')
		return false;
	*start = (size_t)(slo - json);
	*end = (size_t)(shi - json);
	return true;
}

int runtime_spec_parse(const char *json, size_t len, struct runtime_spec **out, struct berr **err)
{
	_cleanup_(runtime_spec_free_cleanup) struct runtime_spec *s = NULL;
	_cleanup_json_ json_t *doc = NULL;

	if (bjson_load(json, len, RUNTIME_SPEC_MAX_SIZE, &doc, err) < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return oom(err);
	if (parse_spec(doc, s, err) < 0)
		return -1;
	*out = steal_ptr(&s);
	return 0;
}

int runtime_spec_load(const char *bundle, struct runtime_spec **out, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/config.json", bundle);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;

	if (path == NULL)
		return oom(err);
	if (fs_read_file(path, RUNTIME_SPEC_MAX_SIZE, &data, &len, err) < 0)
		return -1;
	if (runtime_spec_parse(data, len, out, err) < 0)
		return berr_prefix(err, "%s", path);
	return 0;
}

int runtime_process_parse(const char *json, size_t len, struct runtime_process **out,
			  struct berr **err)
{
	_cleanup_json_ json_t *doc = NULL;

	if (bjson_load(json, len, RUNTIME_SPEC_MAX_SIZE, &doc, err) < 0)
		return -1;
	return parse_process(doc, NULL, out, err);
}

void runtime_process_free(struct runtime_process *p)
{
	if (p == NULL)
		return;
	free(p->cwd);
	strv_free(p->args);
	strv_free(p->env);
	free(p->additional_gids);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

static void seccomp_free(struct runtime_seccomp *sc)
{
	if (sc == NULL)
		return;
	free(sc->default_action);
	strv_free(sc->architectures);
	strv_free(sc->flags);
	free(sc->listener_path);
	free(sc->listener_metadata);
	free(sc->canonical);
	for (size_t i = 0; i < sc->n_rules; i++) {
		strv_free(sc->rules[i].names);
		free(sc->rules[i].action);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc);
}

static void resources_free(struct runtime_resources *r)
{
	free(r->cpuset_cpus);
	free(r->cpuset_mems);
	free(r->devices);
	strv_free(r->unified_keys);
	strv_free(r->unified_values);
}

void runtime_spec_free(struct runtime_spec *s)
{
	if (s == NULL)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	runtime_process_free(s->process);
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct runtime_mount *m = &s->mounts[i];

		free(m->destination);
		free(m->type);
		free(m->source);
		strv_free(m->options);
		free(m->data);
	}
	free(s->mounts);
	for (int k = 0; k < RUNTIME_HOOK_KIND_COUNT; k++) {
		for (size_t i = 0; i < s->hooks[k].n; i++) {
			free(s->hooks[k].hooks[i].path);
			strv_free(s->hooks[k].hooks[i].args);
			strv_free(s->hooks[k].hooks[i].env);
		}
		free(s->hooks[k].hooks);
	}
	strv_free(s->annotation_keys);
	strv_free(s->annotation_values);
	for (int t = 0; t < RUNTIME_NS_COUNT; t++)
		free(s->namespaces[t].path);
	free(s->uid_mappings);
	free(s->gid_mappings);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->cgroups_path);
	resources_free(&s->resources);
	for (size_t i = 0; i < s->n_sysctls; i++) {
		free(s->sysctls[i].key);
		free(s->sysctls[i].value);
	}
	free(s->sysctls);
	seccomp_free(s->seccomp);
	free(s->rootfs_propagation);
	strv_free(s->masked_paths);
	strv_free(s->readonly_paths);
	free(s->mount_label);
	free(s->personality_domain);
	free(s);
}
