/* cgroup v1: every controller hierarchy (memory, cpu, pids, a named one
 * like "systemd") is a directory under the root, and the container gets a
 * directory in each.  This file knows which v1 file holds which limit,
 * how cpuset levels are filled from their parent, the devices allow/deny
 * lists and the freezer's states. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "runtime/cgroup_internal.h"

/* How long freezing may take before it is abandoned and undone. */
#define V1_FREEZE_TIMEOUT_MS 5000

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The sorted entry names of ROOT, hidden ones left out. */
static int list_entries(const char *root, char ***out, size_t *n_out, struct berr **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return berr_set(err, errno == ENOENT ? BERR_UNAVAILABLE : BERR_INTERNAL, errno,
				"open %s", root);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return berr_set(err, BERR_INTERNAL, errno, "opendir %s", root);
	}
	while ((de = readdir(d)) != NULL) {
		char **more;

		if (de->d_name[0] == '.')
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (more == NULL)
			goto oom;
		names = more;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			goto oom;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*n_out = n;
	return 0;
oom:
	free_names(names, n);
	return berr_set(err, BERR_INTERNAL, ENOMEM, "list %s", root);
}

/* Each hierarchy once: real directories first, then symlinks whose
 * target was not seen ("cpu" -> "cpu,cpuacct" is skipped).  A cgroup2
 * tree beside the v1 ones (hybrid hosts) is not a v1 hierarchy. */
static int scan_dirs(struct runtime_cgroup *cg, struct berr **err)
{
	char **names = NULL;
	size_t n = 0, i, n_seen = 0;
	struct stat *seen = NULL;
	int pass, ret = -1;

	if (list_entries(cg->root, &names, &n, err) < 0)
		return -1;
	seen = calloc(n ? n : 1, sizeof(*seen));
	if (seen == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
		goto out;
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			_cleanup_free_ char *path = str_printf("%s/%s", cg->root, names[i]);
			struct stat lst, st;
			struct statfs sfs;
			size_t j;
			bool dup = false;

			if (path == NULL) {
				berr_set(err, BERR_INTERNAL, ENOMEM, "cgroup");
				goto out;
			}
			if (lstat(path, &lst) < 0 || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			if (S_ISLNK(lst.st_mode) != (pass == 1))
				continue;
			if (statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
				continue;
			for (j = 0; j < n_seen; j++)
				if (seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino)
					dup = true;
			if (dup)
				continue;
			seen[n_seen++] = st;
			if (runtime_cgroup_add_dir(cg, names[i], path, err) < 0)
				goto out;
		}
	}
	if (cg->n_dirs == 0) {
		berr_set(err, BERR_UNAVAILABLE, 0, "no cgroup v1 hierarchy under %s", cg->root);
		goto out;
	}
	ret = 0;
out:
	free(seen);
	free_names(names, n);
	return ret;
}

/* The hierarchies last found under a root.  A daemon opens a container's
 * cgroup for most operations, and scanning the root costs some eighty
 * system calls; the hierarchies seldom change, and when one is added or
 * removed the root's mtime (and link count, for a directory) tells. */
static struct {
	pthread_mutex_t lock;
	char *root;
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	struct timespec mtime;
	char **names;
	char **bases;
	size_t n;
} hier_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool cache_matches(const char *root, const struct stat *st)
{
	return hier_cache.root && strcmp(hier_cache.root, root) == 0 &&
	       hier_cache.dev == st->st_dev && hier_cache.ino == st->st_ino &&
	       hier_cache.nlink == st->st_nlink && hier_cache.mtime.tv_sec == st->st_mtim.tv_sec &&
	       hier_cache.mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void cache_clear(void)
{
	free(hier_cache.root);
	free_names(hier_cache.names, hier_cache.n);
	free_names(hier_cache.bases, hier_cache.n);
	hier_cache.root = NULL;
	hier_cache.names = hier_cache.bases = NULL;
	hier_cache.n = 0;
}

/* Keeps what CG found under its root, as it was at ST; nothing is kept
 * when memory runs out. */
static void cache_store(const struct runtime_cgroup *cg, const struct stat *st)
{
	cache_clear();
	hier_cache.root = strdup(cg->root);
	hier_cache.names = calloc(cg->n_dirs, sizeof(char *));
	hier_cache.bases = calloc(cg->n_dirs, sizeof(char *));
	if (!hier_cache.root || !hier_cache.names || !hier_cache.bases)
		goto fail;
	for (size_t i = 0; i < cg->n_dirs; i++) {
		hier_cache.names[i] = strdup(cg->dirs[i].name);
		hier_cache.bases[i] = strdup(cg->dirs[i].base);
		hier_cache.n = i + 1;
		if (!hier_cache.names[i] || !hier_cache.bases[i])
			goto fail;
	}
	hier_cache.dev = st->st_dev;
	hier_cache.ino = st->st_ino;
	hier_cache.nlink = st->st_nlink;
	hier_cache.mtime = st->st_mtim;
	return;
fail:
	cache_clear();
}

static int v1_list_dirs(struct runtime_cgroup *cg, struct berr **err)
{
	struct stat st;
	int ret = 0;

	if (stat(cg->root, &st) < 0)
		return scan_dirs(cg, err);
	pthread_mutex_lock(&hier_cache.lock);
	if (cache_matches(cg->root, &st)) {
		for (size_t i = 0; i < hier_cache.n && ret == 0; i++)
			ret = runtime_cgroup_add_dir(cg, hier_cache.names[i], hier_cache.bases[i],
						     err);
	} else {
		ret = scan_dirs(cg, err);
		if (ret == 0)
			cache_store(cg, &st);
	}
	pthread_mutex_unlock(&hier_cache.lock);
	return ret;
}

/* A new cpuset cgroup starts with no cpus and no mems, and a task cannot
 * join it until both are set: copy the parent's values down. */
static int copy_cpuset_value(const char *parent, const char *child, const char *name,
			     struct berr **err)
{
	_cleanup_free_ char *mine = NULL;
	_cleanup_free_ char *theirs = NULL;
	_cleanup_berr_ struct berr *read_err = NULL;

	if (runtime_cgroup_read(child, name, &mine, &read_err) < 0) {
		if (read_err && read_err->kind == BERR_NOT_FOUND)
			return 0; /* not a cpuset directory after all */
		berr_move(err, &read_err);
		return -1;
	}
	if (mine[0] != '\0')
		return 0;
	if (runtime_cgroup_read(parent, name, &theirs, err) < 0)
		return -1;
	if (theirs[0] == '\0')
		return 0;
	return runtime_cgroup_write(child, name, theirs, err);
}

static int v1_prepare_level(const struct runtime_cgroup_dir *dir, const char *parent,
			    const char *child, struct berr **err)
{
	if (!runtime_cgroup_dir_has(dir, "cpuset"))
		return 0;
	if (copy_cpuset_value(parent, child, "cpuset.cpus", err) < 0 ||
	    copy_cpuset_value(parent, child, "cpuset.mems", err) < 0)
		return berr_prefix(err, "fill cpuset %s", child);
	return 0;
}

/* The directory of CONTROLLER, or BERR_INVALID naming what asked for it. */
static const char *need_dir(struct runtime_cgroup *cg, const char *controller, const char *what,
			    struct berr **err)
{
	const struct runtime_cgroup_dir *dir = runtime_cgroup_find_dir(cg, controller);

	if (dir == NULL) {
		berr_set(err, BERR_INVALID, 0, "%s needs the %s cgroup controller, not mounted",
			 what, controller);
		return NULL;
	}
	return dir->path;
}

static int apply_memory(struct runtime_cgroup *cg, const struct runtime_resources *res,
			struct berr **err)
{
	char limit[32], swap[32];
	const char *limit_v = NULL, *swap_v = NULL;
	bool want_limit = res->has_memory_limit && res->memory_limit != 0;
	bool want_swap = res->has_memory_swap && res->memory_swap != 0;
	bool want_swappiness = res->has_memory_swappiness && res->memory_swappiness != UINT64_MAX;
	const char *dir;
	bool has_memsw;

	if (!want_limit && !want_swap && !want_swappiness && !res->disable_oom_killer &&
	    !(res->has_memory_reservation && res->memory_reservation != 0))
		return 0;
	dir = need_dir(cg, "memory", "a memory setting", err);
	if (dir == NULL)
		return -1;
	has_memsw = runtime_cgroup_file_exists(dir, "memory.memsw.limit_in_bytes");
	if (want_limit) {
		snprintf(limit, sizeof(limit), "%" PRId64,
			 res->memory_limit < 0 ? (int64_t)-1 : res->memory_limit);
		limit_v = limit;
	}
	if (want_swap) {
		/* OCI's swap is memory+swap, which is what memsw holds. */
		if (res->memory_swap > 0 && want_limit && res->memory_limit > 0 &&
		    res->memory_swap < res->memory_limit)
			return berr_set(err, BERR_INVALID, 0,
					"memory+swap limit %" PRId64
					" is below the memory limit %" PRId64,
					res->memory_swap, res->memory_limit);
		if (!has_memsw) {
			if (res->memory_swap < 0 ||
			    (want_limit && res->memory_swap == res->memory_limit))
				want_swap = false;
			else
				return berr_set(
					err, BERR_INVALID, 0,
					"a swap limit was asked for but the kernel does not "
					"account swap (no memory.memsw.limit_in_bytes)");
		}
	} else if (has_memsw && want_limit && res->memory_limit < 0) {
		/* An unlimited memory limit cannot stay below an old memsw
		 * limit: lift that one too. */
		want_swap = true;
	}
	if (want_swap) {
		snprintf(swap, sizeof(swap), "%" PRId64,
			 !res->has_memory_swap || res->memory_swap < 0 ? (int64_t)-1
								       : res->memory_swap);
		swap_v = swap;
	}
	if (runtime_cgroup_write_pair(dir, "memory.limit_in_bytes", limit_v,
				      "memory.memsw.limit_in_bytes", swap_v, err) < 0)
		return -1;
	if (res->has_memory_reservation && res->memory_reservation != 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%" PRId64,
			 res->memory_reservation < 0 ? (int64_t)-1 : res->memory_reservation);
		if (runtime_cgroup_write(dir, "memory.soft_limit_in_bytes", buf, err) < 0)
			return -1;
	}
	if (want_swappiness) {
		char buf[32];

		if (res->memory_swappiness > 100)
			return berr_set(err, BERR_INVALID, 0,
					"memory swappiness %" PRIu64 " is not within 0-100",
					res->memory_swappiness);
		snprintf(buf, sizeof(buf), "%" PRIu64, res->memory_swappiness);
		if (runtime_cgroup_write(dir, "memory.swappiness", buf, err) < 0)
			return -1;
	}
	if (res->disable_oom_killer &&
	    runtime_cgroup_write(dir, "memory.oom_control", "1", err) < 0)
		return -1;
	return 0;
}

static int apply_cpu(struct runtime_cgroup *cg, const struct runtime_resources *res,
		     struct berr **err)
{
	char quota[32], period[32];
	const char *quota_v = NULL, *period_v = NULL;
	bool want_shares = res->has_cpu_shares && res->cpu_shares != 0;
	const char *dir;

	if (res->has_cpu_quota && res->cpu_quota != 0) {
		snprintf(quota, sizeof(quota), "%" PRId64,
			 res->cpu_quota < 0 ? (int64_t)-1 : res->cpu_quota);
		quota_v = quota;
	}
	if (res->has_cpu_period && res->cpu_period != 0) {
		snprintf(period, sizeof(period), "%" PRIu64, res->cpu_period);
		period_v = period;
	}
	if (!want_shares && !quota_v && !period_v)
		return 0;
	dir = need_dir(cg, "cpu", "a cpu setting", err);
	if (dir == NULL)
		return -1;
	if (want_shares) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%" PRIu64, res->cpu_shares);
		if (runtime_cgroup_write(dir, "cpu.shares", buf, err) < 0)
			return -1;
	}
	return runtime_cgroup_write_pair(dir, "cpu.cfs_period_us", period_v, "cpu.cfs_quota_us",
					 quota_v, err);
}

static int apply_cpuset(struct runtime_cgroup *cg, const struct runtime_resources *res,
			struct berr **err)
{
	bool cpus = res->cpuset_cpus && res->cpuset_cpus[0];
	bool mems = res->cpuset_mems && res->cpuset_mems[0];
	const char *dir;

	if (!cpus && !mems)
		return 0;
	dir = need_dir(cg, "cpuset", "a cpuset", err);
	if (dir == NULL)
		return -1;
	if (cpus && runtime_cgroup_write(dir, "cpuset.cpus", res->cpuset_cpus, err) < 0)
		return -1;
	if (mems && runtime_cgroup_write(dir, "cpuset.mems", res->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

static int apply_pids(struct runtime_cgroup *cg, const struct runtime_resources *res,
		      struct berr **err)
{
	char buf[32];
	const char *dir;

	if (!res->has_pids_limit)
		return 0;
	dir = need_dir(cg, "pids", "a pids limit", err);
	if (dir == NULL)
		return -1;
	if (res->pids_limit <= 0)
		snprintf(buf, sizeof(buf), "max");
	else
		snprintf(buf, sizeof(buf), "%" PRId64, res->pids_limit);
	return runtime_cgroup_write(dir, "pids.max", buf, err);
}

static int apply_blkio(struct runtime_cgroup *cg, const struct runtime_resources *res,
		       struct berr **err)
{
	char buf[16];
	const char *dir;

	/* Docker sends 0 for "not set". */
	if (!res->has_blkio_weight || res->blkio_weight == 0)
		return 0;
	dir = need_dir(cg, "blkio", "a blkio weight", err);
	if (dir == NULL)
		return -1;
	snprintf(buf, sizeof(buf), "%u", (unsigned int)res->blkio_weight);
	if (runtime_cgroup_file_exists(dir, "blkio.weight"))
		return runtime_cgroup_write(dir, "blkio.weight", buf, err);
	/* Kernels without CFQ have only the BFQ scheduler's weight. */
	if (runtime_cgroup_file_exists(dir, "blkio.bfq.weight"))
		return runtime_cgroup_write(dir, "blkio.bfq.weight", buf, err);
	return berr_set(err, BERR_INVALID, 0,
			"blkio weight %u asked for, but %s has neither blkio.weight nor "
			"blkio.bfq.weight",
			(unsigned int)res->blkio_weight, dir);
}

/* devices.deny and devices.allow of one cgroup, each opened at its first
 * rule and kept for the rest: a container's default rules are a dozen. */
struct device_files {
	const char *dir;
	int fd[2];     /* deny, allow */
	char *path[2]; /* their paths, for messages */
};

static void device_files_close(struct device_files *f)
{
	for (int i = 0; i < 2; i++) {
		if (f->fd[i] >= 0)
			close(f->fd[i]);
		free(f->path[i]);
	}
}

static int device_write(struct device_files *f, bool allow, const char *line, struct berr **err)
{
	if (f->fd[allow] < 0) {
		f->fd[allow] = runtime_cgroup_open_file(
			f->dir, allow ? "devices.allow" : "devices.deny", &f->path[allow], err);
		if (f->fd[allow] < 0)
			return -1;
	}
	return runtime_cgroup_write_fd(f->fd[allow], f->path[allow], line, err);
}

/* One rule in the devices.allow/deny syntax: "c 1:3 rwm", '*' for any. */
static int write_device_rule(struct device_files *f, const struct runtime_device_rule *rule,
			     char type, struct berr **err)
{
	char major[24], minor[24], line[80];

	if (rule->major < 0)
		snprintf(major, sizeof(major), "*");
	else
		snprintf(major, sizeof(major), "%" PRId64, rule->major);
	if (rule->minor < 0)
		snprintf(minor, sizeof(minor), "*");
	else
		snprintf(minor, sizeof(minor), "%" PRId64, rule->minor);
	snprintf(line, sizeof(line), "%c %s:%s %s", type, major, minor,
		 rule->access[0] ? rule->access : "rwm");
	return device_write(f, rule->allow, line, err);
}

static bool rule_is_all(const struct runtime_device_rule *rule)
{
	return rule->major < 0 && rule->minor < 0 &&
	       (rule->access[0] == '\0' ||
		(strchr(rule->access, 'r') && strchr(rule->access, 'w') &&
		 strchr(rule->access, 'm')));
}

static int apply_devices(struct runtime_cgroup *cg, const struct runtime_resources *res,
			 struct berr **err)
{
	_cleanup_(device_files_close) struct device_files f = { .fd = { -1, -1 } };
	size_t i;

	if (res->n_devices == 0)
		return 0;
	f.dir = need_dir(cg, "devices", "a device rule", err);
	if (f.dir == NULL)
		return -1;
	/* Start from nothing, then the rules in order: a later rule
	 * overrides an earlier one, as the OCI spec reads. */
	if (device_write(&f, false, "a", err) < 0)
		return -1;
	for (i = 0; i < res->n_devices; i++) {
		const struct runtime_device_rule *rule = &res->devices[i];
		int rc;

		if (rule->type == 'a' && rule_is_all(rule)) {
			rc = device_write(&f, rule->allow, "a", err);
		} else if (rule->type == 'a') {
			/* The kernel reads "a ..." as every device whatever
			 * follows; spell a narrower rule out per type. */
			rc = write_device_rule(&f, rule, 'c', err);
			if (rc == 0)
				rc = write_device_rule(&f, rule, 'b', err);
		} else if (rule->type == 'c' || rule->type == 'b') {
			rc = write_device_rule(&f, rule, rule->type, err);
		} else {
			rc = berr_set(err, BERR_INVALID, 0, "device rule %zu: unknown type '%c'", i,
				      rule->type);
		}
		if (rc < 0)
			return berr_prefix(err, "linux.resources.devices[%zu]", i);
	}
	return 0;
}

static int v1_apply(struct runtime_cgroup *cg, const struct runtime_resources *res,
		    struct berr **err)
{
	if (res->n_unified > 0)
		return berr_set(err, BERR_INVALID, 0,
				"linux.resources.unified needs cgroup v2, this host runs v1");
	if (apply_memory(cg, res, err) < 0 || apply_cpu(cg, res, err) < 0 ||
	    apply_cpuset(cg, res, err) < 0 || apply_pids(cg, res, err) < 0 ||
	    apply_blkio(cg, res, err) < 0 || apply_devices(cg, res, err) < 0)
		return -1;
	return 0;
}

struct freeze_wait {
	const char *want;
	unsigned int polls;
};

/* Tasks forked while the freezer works can leave it FREEZING for good;
 * writing FROZEN again now and then lets it finish (runc does the same). */
static bool freezer_reached(const char *dir, void *arg)
{
	struct freeze_wait *fw = arg;
	_cleanup_free_ char *state = NULL;

	if (runtime_cgroup_read(dir, "freezer.state", &state, NULL) < 0)
		return false;
	if (strcmp(state, fw->want) == 0)
		return true;
	if (++fw->polls % 16 == 0)
		runtime_cgroup_write(dir, "freezer.state", fw->want, NULL);
	return false;
}

static int v1_freeze(struct runtime_cgroup *cg, bool frozen, struct berr **err)
{
	const struct runtime_cgroup_dir *dir = runtime_cgroup_find_dir(cg, "freezer");
	struct freeze_wait fw = { .want = frozen ? "FROZEN" : "THAWED" };

	if (dir == NULL)
		return berr_set(err, BERR_UNAVAILABLE, 0, "no freezer cgroup hierarchy");
	if (runtime_cgroup_write(dir->path, "freezer.state", fw.want, err) < 0)
		return -1;
	if (runtime_cgroup_wait(freezer_reached, dir->path, &fw, V1_FREEZE_TIMEOUT_MS))
		return 0;
	if (frozen)
		runtime_cgroup_write(dir->path, "freezer.state", "THAWED", NULL);
	return berr_set(err, BERR_INTERNAL, ETIMEDOUT, "%s/freezer.state did not become %s",
			dir->path, fw.want);
}

static bool v1_is_frozen(struct runtime_cgroup *cg)
{
	const struct runtime_cgroup_dir *dir = runtime_cgroup_find_dir(cg, "freezer");
	_cleanup_free_ char *state = NULL;

	if (dir == NULL || runtime_cgroup_read(dir->path, "freezer.state", &state, NULL) < 0)
		return false;
	return strcmp(state, "FROZEN") == 0;
}

static unsigned long v1_oom_kills(struct runtime_cgroup *cg)
{
	const struct runtime_cgroup_dir *dir = runtime_cgroup_find_dir(cg, "memory");
	unsigned long n = 0;

	if (dir == NULL ||
	    runtime_cgroup_read_key(dir->path, "memory.oom_control", "oom_kill", &n) < 0)
		return 0;
	return n;
}

static const struct runtime_cgroup_dir *v1_procs_dir(struct runtime_cgroup *cg)
{
	const struct runtime_cgroup_dir *dir = runtime_cgroup_find_dir(cg, "pids");

	if (dir == NULL)
		dir = runtime_cgroup_find_dir(cg, "memory");
	if (dir == NULL && cg->n_dirs > 0)
		dir = &cg->dirs[0];
	return dir;
}

const struct runtime_cgroup_ops runtime_cgroup_v1_ops = {
	.list_dirs = v1_list_dirs,
	.prepare_level = v1_prepare_level,
	.apply = v1_apply,
	.freeze = v1_freeze,
	.is_frozen = v1_is_frozen,
	.oom_kills = v1_oom_kills,
	.procs_dir = v1_procs_dir,
};
