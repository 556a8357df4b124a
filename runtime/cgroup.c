/* The cgroup front end: it detects whether a host runs cgroup v1 or v2,
 * turns config.json's cgroupsPath into a relative path, and owns the
 * handle a container's cgroup is reached through.  Creation, joining,
 * listing and removal are the same for both versions; what differs (which
 * files hold a limit, how freezing works) sits behind the table of
 * functions in cgroup_v1.c and cgroup_v2.c. */
#include "runtime/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "runtime/cgroup_internal.h"

/* How long rmdir is retried while the last processes leave a cgroup. */
#define CGROUP_RMDIR_TIMEOUT_MS 1000
/* /proc/self/mountinfo can be long on hosts with many containers. */
#define CGROUP_MOUNTINFO_MAX (16 * 1024 * 1024)

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- file helpers shared with the back ends ---- */

int runtime_cgroup_open_file(const char *dir, const char *name, char **path_out, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);
	int fd;

	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "write %s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && !fs_exists(dir))
			return berr_set(err, BERR_NOT_FOUND, ENOENT, "cgroup %s does not exist",
					dir);
		if (errno == ENOENT)
			return berr_set(err, BERR_INVALID, ENOENT,
					"%s: the kernel or the cgroup has no such file", path);
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	}
	if (path_out)
		*path_out = steal_ptr(&path);
	return fd;
}

int runtime_cgroup_write(const char *dir, const char *name, const char *value, struct berr **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = runtime_cgroup_open_file(dir, name, &path, err);

	if (fd < 0)
		return -1;
	return runtime_cgroup_write_fd(fd, path, value, err);
}

int runtime_cgroup_write_fd(int fd, const char *path, const char *value, struct berr **err)
{
	size_t len = strlen(value);
	ssize_t n;

	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		if (e == EINVAL || e == ERANGE || e == EBUSY || e == EOVERFLOW)
			return berr_set(err, BERR_INVALID, e, "%s: value \"%s\" refused", path,
					value);
		return berr_set(err, BERR_INTERNAL, e, "write \"%s\" to %s", value, path);
	}
	if ((size_t)n != len)
		return berr_set(err, BERR_INTERNAL, 0, "short write of \"%s\" to %s", value, path);
	return 0;
}

static int write_in_order(const char *dir, const char *name_a, const char *value_a,
			  const char *name_b, const char *value_b, struct berr **err)
{
	if (value_a && runtime_cgroup_write(dir, name_a, value_a, err) < 0)
		return -1;
	if (value_b && runtime_cgroup_write(dir, name_b, value_b, err) < 0)
		return -1;
	return 0;
}

int runtime_cgroup_write_pair(const char *dir, const char *name_a, const char *value_a,
			      const char *name_b, const char *value_b, struct berr **err)
{
	_cleanup_berr_ struct berr *first = NULL;

	if (write_in_order(dir, name_a, value_a, name_b, value_b, &first) == 0)
		return 0;
	if (first == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "write %s", name_a);
	/* The kernel checks each value against the other one's current
	 * setting (quota against period, limit against limit+swap), so
	 * moving both may only work in the other order. */
	if (first->sys_errno != EINVAL || value_a == NULL || value_b == NULL) {
		berr_move(err, &first);
		return -1;
	}
	return write_in_order(dir, name_b, value_b, name_a, value_a, err);
}

int runtime_cgroup_read(const char *dir, const char *name, char **out, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);
	char *data = NULL;
	size_t len = 0;

	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "read %s", name);
	if (fs_read_file(path, RUNTIME_CGROUP_VALUE_MAX, &data, &len, err) < 0)
		return -1;
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		data[--len] = '\0';
	*out = data;
	return 0;
}

int runtime_cgroup_read_key(const char *dir, const char *name, const char *key,
			    unsigned long *value)
{
	_cleanup_free_ char *data = NULL;
	size_t klen = strlen(key);
	char *line, *save = NULL;

	if (runtime_cgroup_read(dir, name, &data, NULL) < 0)
		return -1;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		unsigned long v;

		if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
			continue;
		errno = 0;
		v = strtoul(line + klen + 1, &end, 10);
		if (errno != 0 || end == line + klen + 1)
			return -1;
		*value = v;
		return 0;
	}
	return -1;
}

bool runtime_cgroup_file_exists(const char *dir, const char *name)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);

	return path && fs_exists(path);
}

bool runtime_cgroup_wait(bool (*done)(const char *dir, void *arg), const char *dir, void *arg,
			 unsigned int timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	unsigned int step = 1;

	for (;;) {
		if (done(dir, arg))
			return true;
		if (now_ms() >= deadline)
			return false;
		sleep_ms(step);
		if (step < 16)
			step *= 2;
	}
}

/* ---- detection ---- */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mount_field(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* The mount point and file system type of one mountinfo line, or -1 when
 * the line is malformed.  LINE is modified. */
static int parse_mount_line(char *line, char **mount_point, char **fstype)
{
	char *save = NULL, *field, *sep;
	int i;

	field = strtok_r(line, " ", &save);
	for (i = 0; field && i < 4; i++)
		field = strtok_r(NULL, " ", &save);
	if (field == NULL)
		return -1;
	*mount_point = field;
	/* Optional fields end at a lone "-", then comes the type. */
	while ((sep = strtok_r(NULL, " ", &save)) != NULL && strcmp(sep, "-") != 0)
		;
	if (sep == NULL)
		return -1;
	*fstype = strtok_r(NULL, " ", &save);
	if (*fstype == NULL)
		return -1;
	unescape_mount_field(*mount_point);
	return 0;
}

int runtime_cgroup_detect_mountinfo(const char *mountinfo, const char *root,
				    enum runtime_cgroup_mode *mode, struct berr **err)
{
	_cleanup_free_ char *text = strdup(mountinfo);
	_cleanup_free_ char *want = strdup(root);
	char *line, *save = NULL;
	size_t rlen;
	bool v1 = false, v2 = false;

	if (text == NULL || want == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "detect cgroups");
	rlen = strlen(want);
	while (rlen > 1 && want[rlen - 1] == '/')
		want[--rlen] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *mp, *fstype, *slash;

		if (parse_mount_line(line, &mp, &fstype) < 0)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && strcmp(mp, want) == 0)
			v2 = true;
		if (strcmp(fstype, "cgroup") != 0)
			continue;
		/* A v1 hierarchy sits directly below ROOT. */
		slash = strrchr(mp, '/');
		if (slash && (size_t)(slash - mp) == rlen && strncmp(mp, want, rlen) == 0)
			v1 = true;
	}
	if (v1) {
		*mode = RUNTIME_CGROUP_V1;
		return 0;
	}
	if (v2) {
		*mode = RUNTIME_CGROUP_V2;
		return 0;
	}
	return berr_set(err, BERR_UNAVAILABLE, 0, "no cgroup file system is mounted at %s", root);
}

/* The last layout found, and under which root: a host's cgroup mounts
 * stay as they are while a process runs (runc looks once per process
 * too), and a create or a state read would otherwise read the whole
 * mount table each time. */
static struct {
	pthread_mutex_t lock;
	char *root;
	enum runtime_cgroup_mode mode;
} detected = { .lock = PTHREAD_MUTEX_INITIALIZER };

int runtime_cgroup_detect(const char *root, enum runtime_cgroup_mode *mode, struct berr **err)
{
	_cleanup_free_ char *mountinfo = NULL;
	bool known;

	pthread_mutex_lock(&detected.lock);
	known = detected.root && strcmp(detected.root, root) == 0;
	if (known)
		*mode = detected.mode;
	pthread_mutex_unlock(&detected.lock);
	if (known)
		return 0;
	if (fs_read_file("/proc/self/mountinfo", CGROUP_MOUNTINFO_MAX, &mountinfo, NULL, err) < 0)
		return berr_prefix(err, "detect cgroups");
	if (runtime_cgroup_detect_mountinfo(mountinfo, root, mode, err) < 0)
		return -1;
	pthread_mutex_lock(&detected.lock);
	free(detected.root);
	detected.root = strdup(root);
	detected.mode = *mode;
	pthread_mutex_unlock(&detected.lock);
	return 0;
}

/* ---- paths ---- */

/* Joins the components of PATH with single slashes, dropping empty ones
 * and "."; ".." is refused so that no path leaves the hierarchy. */
static char *normalize_path(const char *path, struct berr **err)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_free_ char *out = NULL;
	size_t used = 0;
	char *comp, *save = NULL;

	if (copy == NULL || (out = malloc(strlen(path) + 1)) == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup path");
		return NULL;
	}
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		size_t n = strlen(comp);

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			berr_set(err, BERR_INVALID, 0, "cgroup path \"%s\" has a \"..\" component",
				 path);
			return NULL;
		}
		if (used > 0)
			out[used++] = '/';
		memcpy(out + used, comp, n);
		used += n;
	}
	out[used] = '\0';
	if (used == 0) {
		berr_set(err, BERR_INVALID, 0, "cgroup path \"%s\" names the root cgroup", path);
		return NULL;
	}
	return steal_ptr(&out);
}

/* systemd's slice naming: "a-b.slice" lives in "a.slice/a-b.slice". */
static char *expand_slice(const char *slice, struct berr **err)
{
	size_t len = strlen(slice), blen, i;
	_cleanup_free_ char *out = NULL;
	size_t used = 0;

	if (strcmp(slice, "-.slice") == 0)
		return strdup("");
	if (!str_has_suffix(slice, ".slice") || strchr(slice, '/') != NULL)
		goto invalid;
	blen = len - strlen(".slice");
	if (blen == 0 || slice[0] == '-' || slice[blen - 1] == '-' || strstr(slice, "--"))
		goto invalid;
	/* Each '-' adds one level: at most blen levels of at most len+7 bytes. */
	out = malloc((blen + 1) * (len + 8));
	if (out == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup path");
		return NULL;
	}
	for (i = 0; i <= blen; i++) {
		if (i < blen && slice[i] != '-')
			continue;
		if (used > 0)
			out[used++] = '/';
		memcpy(out + used, slice, i);
		used += i;
		memcpy(out + used, ".slice", strlen(".slice"));
		used += strlen(".slice");
	}
	out[used] = '\0';
	return steal_ptr(&out);
invalid:
	berr_set(err, BERR_INVALID, 0, "invalid systemd slice \"%s\"", slice);
	return NULL;
}

/* "slice:prefix:name" -> "<expanded slice>/prefix-name.scope". */
static char *resolve_systemd(const char *spec, struct berr **err)
{
	_cleanup_free_ char *copy = strdup(spec);
	_cleanup_free_ char *slice_dir = NULL;
	_cleanup_free_ char *joined = NULL;
	char *slice, *prefix, *name, *c1, *c2;

	if (copy == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup path");
		return NULL;
	}
	c1 = strchr(copy, ':');
	c2 = strchr(c1 + 1, ':');
	*c1 = '\0';
	*c2 = '\0';
	slice = copy;
	prefix = c1 + 1;
	name = c2 + 1;
	if (*name == '\0' || strchr(name, '/') || strchr(prefix, '/')) {
		berr_set(err, BERR_INVALID, 0, "invalid systemd cgroup path \"%s\"", spec);
		return NULL;
	}
	slice_dir = expand_slice(*slice ? slice : "system.slice", err);
	if (slice_dir == NULL)
		return NULL;
	if (*prefix)
		joined = str_printf("%s/%s-%s.scope", slice_dir, prefix, name);
	else
		joined = str_printf("%s/%s.scope", slice_dir, name);
	if (joined == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup path");
		return NULL;
	}
	return normalize_path(joined, err);
}

static bool is_systemd_path(const char *path)
{
	const char *c1 = strchr(path, ':');

	return path[0] != '/' && c1 && strchr(c1 + 1, ':') && !strchr(strchr(c1 + 1, ':') + 1, ':');
}

char *runtime_cgroup_resolve_path(const char *cgroups_path, const char *id, struct berr **err)
{
	_cleanup_free_ char *dflt = NULL;

	if (cgroups_path && *cgroups_path) {
		if (is_systemd_path(cgroups_path))
			return resolve_systemd(cgroups_path, err);
		return normalize_path(cgroups_path, err);
	}
	if (id == NULL || *id == '\0' || strchr(id, '/') || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0) {
		berr_set(err, BERR_INVALID, 0, "invalid container id \"%s\" for a cgroup path",
			 id ? id : "");
		return NULL;
	}
	dflt = str_printf(RUNTIME_CGROUP_PARENT "/%s", id);
	if (dflt == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup path");
		return NULL;
	}
	return steal_ptr(&dflt);
}

/* ---- the handle ---- */

bool runtime_cgroup_dir_has(const struct runtime_cgroup_dir *dir, const char *controller)
{
	const char *p = dir->name;
	size_t clen;

	if (str_has_prefix(controller, "name="))
		controller += strlen("name=");
	clen = strlen(controller);
	/* "cpu,cpuacct" carries both. */
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == clen && strncmp(p, controller, n) == 0)
			return true;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return false;
}

const struct runtime_cgroup_dir *runtime_cgroup_find_dir(struct runtime_cgroup *cg,
							 const char *controller)
{
	size_t i;

	for (i = 0; i < cg->n_dirs; i++)
		if (runtime_cgroup_dir_has(&cg->dirs[i], controller))
			return &cg->dirs[i];
	return NULL;
}

int runtime_cgroup_add_dir(struct runtime_cgroup *cg, const char *name, const char *base,
			   struct berr **err)
{
	struct runtime_cgroup_dir *dirs;
	struct runtime_cgroup_dir *d;

	dirs = realloc(cg->dirs, (cg->n_dirs + 1) * sizeof(*dirs));
	if (dirs == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
	cg->dirs = dirs;
	d = &cg->dirs[cg->n_dirs];
	d->name = strdup(name);
	d->base = strdup(base);
	d->path = str_printf("%s/%s", base, cg->rel_path);
	if (d->name == NULL || d->base == NULL || d->path == NULL) {
		free(d->name);
		free(d->base);
		free(d->path);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
	}
	cg->n_dirs++;
	return 0;
}

static int add_created(struct runtime_cgroup *cg, const char *path, struct berr **err)
{
	char **created = realloc(cg->created, (cg->n_created + 1) * sizeof(*created));

	if (created == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
	cg->created = created;
	cg->created[cg->n_created] = strdup(path);
	if (cg->created[cg->n_created] == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
	cg->n_created++;
	return 0;
}

static int cgroup_new(const char *root, enum runtime_cgroup_mode mode, const char *rel_path,
		      struct runtime_cgroup **out, struct berr **err)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;

	if (mode != RUNTIME_CGROUP_V1 && mode != RUNTIME_CGROUP_V2)
		return berr_set(err, BERR_INVALID, 0, "unknown cgroup mode %d", (int)mode);
	cg = calloc(1, sizeof(*cg));
	if (cg == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
	cg->mode = mode;
	cg->ops = mode == RUNTIME_CGROUP_V1 ? &runtime_cgroup_v1_ops : &runtime_cgroup_v2_ops;
	cg->root = strdup(root);
	if (cg->root == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
	cg->rel_path = normalize_path(rel_path, err);
	if (cg->rel_path == NULL)
		return -1;
	if (cg->ops->list_dirs(cg, err) < 0)
		return -1;
	*out = steal_ptr(&cg);
	return 0;
}

/* Makes BASE/REL_PATH level by level, recording what did not exist. */
static int make_levels(struct runtime_cgroup *cg, const struct runtime_cgroup_dir *dir,
		       struct berr **err)
{
	int attempt;

	/* A parent shared with other containers ("berth") can vanish
	 * between our mkdir of it and of its child when the last of them
	 * is deleted at that moment; start over then. */
	for (attempt = 0; attempt < 3; attempt++) {
		_cleanup_free_ char *cur = strdup(dir->base);
		const char *p = cg->rel_path;
		bool retry = false;

		if (cur == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
		while (*p) {
			const char *slash = strchr(p, '/');
			size_t n = slash ? (size_t)(slash - p) : strlen(p);
			_cleanup_free_ char *child = str_printf("%s/%.*s", cur, (int)n, p);

			if (child == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
			if (mkdir(child, 0755) == 0) {
				if (add_created(cg, child, err) < 0)
					return -1;
			} else if (errno == ENOENT && p != cg->rel_path) {
				retry = true;
				break;
			} else if (errno != EEXIST) {
				return berr_set(err,
						errno == EACCES || errno == EROFS ? BERR_FORBIDDEN
										  : BERR_INTERNAL,
						errno, "mkdir %s", child);
			}
			if (cg->ops->prepare_level(dir, cur, child, err) < 0)
				return -1;
			free(cur);
			cur = steal_ptr(&child);
			p += n;
			while (*p == '/')
				p++;
		}
		if (!retry)
			return 0;
	}
	return berr_set(err, BERR_CONFLICT, ENOENT, "mkdir %s/%s: parent keeps disappearing",
			dir->base, cg->rel_path);
}

/* Removes what this handle created, newest first; failures are ignored
 * (a shared parent still in use stays). */
static void remove_created(struct runtime_cgroup *cg)
{
	while (cg->n_created > 0) {
		char *path = cg->created[--cg->n_created];

		if (rmdir(path) < 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
			blog_debug("rmdir %s: %s", path, strerror(errno));
		free(path);
	}
}

int runtime_cgroup_create(const char *root, enum runtime_cgroup_mode mode, const char *rel_path,
			  const struct runtime_resources *res, struct runtime_cgroup **out,
			  struct berr **err)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	size_t i;

	if (cgroup_new(root, mode, rel_path, &cg, err) < 0)
		return berr_prefix(err, "create cgroup %s", rel_path);
	for (i = 0; i < cg->n_dirs; i++)
		if (make_levels(cg, &cg->dirs[i], err) < 0)
			goto undo;
	if (res && cg->ops->apply(cg, res, err) < 0)
		goto undo;
	*out = steal_ptr(&cg);
	return 0;
undo:
	remove_created(cg);
	return berr_prefix(err, "create cgroup %s", rel_path);
}

int runtime_cgroup_open(const char *root, enum runtime_cgroup_mode mode, const char *rel_path,
			struct runtime_cgroup **out, struct berr **err)
{
	if (cgroup_new(root, mode, rel_path, out, err) < 0)
		return berr_prefix(err, "open cgroup %s", rel_path);
	return 0;
}

int runtime_cgroup_rename(const char *root, enum runtime_cgroup_mode mode, const char *from,
			  const char *to, struct berr **err)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *src = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *dst = NULL;

	if (mode != RUNTIME_CGROUP_V1)
		return berr_set(err, BERR_UNAVAILABLE, 0, "a v2 cgroup cannot be renamed");
	if (cgroup_new(root, mode, from, &src, err) < 0 ||
	    cgroup_new(root, mode, to, &dst, err) < 0)
		return berr_prefix(err, "rename cgroup %s", from);
	if (src->n_dirs != dst->n_dirs)
		return berr_set(err, BERR_INTERNAL, 0, "rename cgroup %s: the hierarchies changed",
				from);
	for (size_t i = 0; i < src->n_dirs; i++) {
		int e;

		if (rename(src->dirs[i].path, dst->dirs[i].path) == 0)
			continue;
		e = errno;
		/* All or nothing: the ones renamed go back. */
		for (size_t k = i; k-- > 0;)
			rename(dst->dirs[k].path, src->dirs[k].path);
		return berr_set(err, e == EEXIST || e == ENOTEMPTY ? BERR_CONFLICT : BERR_INTERNAL,
				e, "rename cgroup %s to %s", src->dirs[i].path, dst->dirs[i].path);
	}
	return 0;
}

int runtime_cgroup_add_pid(struct runtime_cgroup *cg, pid_t pid, struct berr **err)
{
	char buf[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (i = 0; i < cg->n_dirs; i++)
		if (runtime_cgroup_write(cg->dirs[i].path, "cgroup.procs", buf, err) < 0)
			return berr_prefix(err, "move pid %d into cgroup", (int)pid);
	return 0;
}

int runtime_cgroup_update(struct runtime_cgroup *cg, const struct runtime_resources *res,
			  struct berr **err)
{
	if (cg->ops->apply(cg, res, err) < 0)
		return berr_prefix(err, "update cgroup %s", cg->rel_path);
	return 0;
}

int runtime_cgroup_freeze(struct runtime_cgroup *cg, bool frozen, struct berr **err)
{
	if (cg->ops->freeze(cg, frozen, err) < 0)
		return berr_prefix(err, "%s cgroup %s", frozen ? "freeze" : "thaw", cg->rel_path);
	return 0;
}

bool runtime_cgroup_is_frozen(struct runtime_cgroup *cg)
{
	return cg->ops->is_frozen(cg);
}

int runtime_cgroup_get_pids(struct runtime_cgroup *cg, pid_t **pids, size_t *n, struct berr **err)
{
	const struct runtime_cgroup_dir *dir = cg->ops->procs_dir(cg);
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ pid_t *list = NULL;
	_cleanup_berr_ struct berr *read_err = NULL;
	size_t count = 0, cap = 0;
	char *p;

	if (dir == NULL)
		goto none;
	path = str_printf("%s/cgroup.procs", dir->path);
	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup pids");
	if (fs_read_file(path, RUNTIME_CGROUP_PROCS_MAX, &data, NULL, &read_err) < 0) {
		/* A removed cgroup has no processes. */
		if (read_err && read_err->kind == BERR_NOT_FOUND)
			goto none;
		berr_move(err, &read_err);
		return berr_prefix(err, "cgroup pids");
	}
	for (p = data; *p;) {
		char *end;
		long v;

		while (*p == '\n' || *p == ' ')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || v <= 0)
			return berr_set(err, BERR_INTERNAL, 0, "%s: unexpected content", path);
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pid_t *nlist = realloc(list, ncap * sizeof(*nlist));

			if (nlist == NULL)
				return berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup pids");
			list = nlist;
			cap = ncap;
		}
		list[count++] = (pid_t)v;
		p = end;
	}
	*pids = count ? steal_ptr(&list) : NULL;
	*n = count;
	return 0;
none:
	*pids = NULL;
	*n = 0;
	return 0;
}

unsigned long runtime_cgroup_oom_kills(struct runtime_cgroup *cg)
{
	return cg->ops->oom_kills(cg);
}

static int remove_cgroup_tree(const char *path, uint64_t deadline, struct berr **err);

/* Removes the cgroups below PATH, deepest first. */
static int remove_children(const char *path, uint64_t deadline, struct berr **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	}
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "opendir %s", path);
	}
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = str_printf("%s/%s", path, de->d_name);
		if (sub == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "rmdir %s", path);
		if (remove_cgroup_tree(sub, deadline, err) < 0)
			return -1;
	}
	return 0;
}

/* rmdir PATH and, first, any cgroup the container made below it (a
 * nested engine or systemd inside it does).  EBUSY means tasks are still
 * leaving: retried until DEADLINE. */
static int remove_cgroup_tree(const char *path, uint64_t deadline, struct berr **err)
{
	if (remove_children(path, deadline, err) < 0)
		return -1;
	for (;;) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return berr_set(err, BERR_INTERNAL, errno, "rmdir %s", path);
		if (now_ms() >= deadline)
			return berr_set(err, BERR_CONFLICT, EBUSY,
					"rmdir %s: processes are still in it", path);
		sleep_ms(10);
	}
}

int runtime_cgroup_destroy(struct runtime_cgroup *cg, struct berr **err)
{
	uint64_t deadline = now_ms() + CGROUP_RMDIR_TIMEOUT_MS;
	int ret = 0;
	size_t i;

	for (i = 0; i < cg->n_dirs; i++) {
		_cleanup_berr_ struct berr *one = NULL;

		if (remove_cgroup_tree(cg->dirs[i].path, deadline, &one) == 0)
			continue;
		/* Keep going so every hierarchy that can be cleaned is; the
		 * first failure is the one reported. */
		if (ret == 0)
			berr_move(err, &one);
		ret = -1;
	}
	if (ret < 0)
		return berr_prefix(err, "remove cgroup %s", cg->rel_path);
	/* Parents this handle made ("berth") go too when nothing else uses
	 * them. */
	remove_created(cg);
	return 0;
}

const char *runtime_cgroup_dir(struct runtime_cgroup *cg, const char *controller)
{
	const struct runtime_cgroup_dir *dir;

	if (cg->mode == RUNTIME_CGROUP_V2)
		return cg->n_dirs ? cg->dirs[0].path : NULL;
	dir = runtime_cgroup_find_dir(cg, controller);
	return dir ? dir->path : NULL;
}

void runtime_cgroup_free(struct runtime_cgroup *cg)
{
	size_t i;

	if (cg == NULL)
		return;
	for (i = 0; i < cg->n_dirs; i++) {
		free(cg->dirs[i].name);
		free(cg->dirs[i].base);
		free(cg->dirs[i].path);
	}
	for (i = 0; i < cg->n_created; i++)
		free(cg->created[i]);
	free(cg->dirs);
	free(cg->created);
	free(cg->root);
	free(cg->rel_path);
	free(cg);
}

/* Bounds of the keeper's pace: a move every third of the longest grace
 * period seen, so that the next comes before the lock goes idle. */
#define KEEPER_PACE_MIN_MS    1
#define KEEPER_PACE_MAX_MS    10
#define KEEPER_GRACE_GUESS_MS 8

struct runtime_cgroup_keeper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC */
	int procs;	     /* cgroup.procs of the caller's own cgroup */
	uint64_t until_ms;   /* keep moving until then */
	bool pending;	     /* one move asked for, not yet made */
	bool stopping;
	uint64_t grace_ms; /* the longest move seen: about one grace period */
};

static struct timespec mono_after_ms(uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void *keeper_run(void *arg)
{
	struct runtime_cgroup_keeper *k = arg;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		uint64_t now = now_ms(), took, pace;
		struct timespec next;

		if (!k->pending && (k->stopping || now >= k->until_ms)) {
			if (k->stopping)
				break;
			pthread_cond_wait(&k->wake, &k->lock);
			continue;
		}
		k->pending = false;
		pthread_mutex_unlock(&k->lock);
		/* "0" is the writing thread's own process: it stays where it
		 * is, but the kernel takes its cgroup-move lock for writing. */
		if (pwrite(k->procs, "0", 1, 0) < 0)
			blog_debug("cgroup keeper: %s", strerror(errno));
		took = now_ms() - now;
		pthread_mutex_lock(&k->lock);
		if (took > k->grace_ms)
			k->grace_ms = took;
		pace = k->grace_ms / 3;
		pace = pace < KEEPER_PACE_MIN_MS   ? KEEPER_PACE_MIN_MS
		       : pace > KEEPER_PACE_MAX_MS ? KEEPER_PACE_MAX_MS
						   : pace;
		next = mono_after_ms(pace);
		while (!k->stopping && !k->pending && now_ms() < k->until_ms &&
		       pthread_cond_timedwait(&k->wake, &k->lock, &next) == 0)
			;
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* The caller's cgroup.procs in one hierarchy: the pids one on v1 (any
 * would do: the lock is shared), the unified one on v2. */
static char *own_procs_path(const char *root, enum runtime_cgroup_mode mode)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;

	if (fs_read_file("/proc/self/cgroup", 64 * 1024, &text, NULL, NULL) < 0)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *controllers = strchr(line, ':');
		char *path = controllers ? strchr(controllers + 1, ':') : NULL;

		if (path == NULL)
			continue;
		*path++ = '\0';
		controllers++;
		if (mode == RUNTIME_CGROUP_V2 && *controllers == '\0')
			return str_printf("%s%s/cgroup.procs", root, path);
		if (mode == RUNTIME_CGROUP_V1 && strcmp(controllers, "pids") == 0)
			return str_printf("%s/pids%s/cgroup.procs", root, path);
	}
	return NULL;
}

struct runtime_cgroup_keeper *runtime_cgroup_keeper_new(const char *root,
							enum runtime_cgroup_mode mode)
{
	struct runtime_cgroup_keeper *k = calloc(1, sizeof(*k));
	_cleanup_free_ char *path = NULL;
	pthread_condattr_t attr;
	bool cond = false;

	if (k == NULL)
		return NULL;
	k->grace_ms = KEEPER_GRACE_GUESS_MS;
	path = own_procs_path(root, mode);
	k->procs = path ? open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	if (k->procs < 0 || pthread_mutex_init(&k->lock, NULL) != 0)
		goto fail;
	if (pthread_condattr_init(&attr) == 0) {
		cond = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
		       pthread_cond_init(&k->wake, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if (!cond)
		goto fail_lock;
	if (pthread_create(&k->thread, NULL, keeper_run, k) != 0)
		goto fail_cond;
	return k;
fail_cond:
	pthread_cond_destroy(&k->wake);
fail_lock:
	pthread_mutex_destroy(&k->lock);
fail:
	if (k->procs >= 0)
		close(k->procs);
	free(k);
	return NULL;
}

void runtime_cgroup_keeper_touch(struct runtime_cgroup_keeper *k, unsigned int hold_ms)
{
	uint64_t now;

	if (k == NULL)
		return;
	now = now_ms();
	pthread_mutex_lock(&k->lock);
	/* A keeper already moving goes on at its pace; an idle one moves now. */
	if (k->until_ms <= now) {
		k->pending = true;
		pthread_cond_signal(&k->wake);
	}
	if (now + hold_ms > k->until_ms)
		k->until_ms = now + hold_ms;
	pthread_mutex_unlock(&k->lock);
}

void runtime_cgroup_keeper_free(struct runtime_cgroup_keeper *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->lock);
	k->stopping = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->lock);
	close(k->procs);
	free(k);
}
