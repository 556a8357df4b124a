/* The container operations of the OCI runtime: create (through the stage
 * and the init), start, state, kill, delete, pause, resume, pids, list and
 * update.  Every step of create that makes something records it in the
 * create context, whose one cleanup path undoes it all on failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/unixsock.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"
#include "runtime/hooks.h"
#include "runtime/internal.h"
#include "runtime/seccomp.h"
#include "runtime/terminal.h"

/* How long delete waits for killed processes to go. */
#define KILL_WAIT_MS 5000

/* runc names the owner by user name; a lookup through NSS would cost
 * more than the rest of create, and the runtime runs as root. */
static char *owner_name(void)
{
	uid_t uid = getuid();

	return uid == 0 ? strdup("root") : str_printf("%u", (unsigned)uid);
}

/* Everything create makes, in the order it makes it. */
struct create_ctx {
	struct runtime_record *rec;
	char *config_text;
	size_t config_len;
	struct runtime_seccomp_filter *seccomp;
	int ns_fds[RUNTIME_NS_COUNT];
	bool dir_made;
	struct runtime_cgroup *cgroup;
	int fifo_fd;
	int console_fd;
	int sync_fd;
	pid_t stage_pid;
	pid_t init_pid;
	bool seeded;	     /* the init is a seed (runtime_seed_make()) */
	bool seed_released;  /* told its cgroup is the container's */
	bool cgroup_adopted; /* the cgroup is a spare, renamed */
};

static void create_ctx_undo(struct create_ctx *c)
{
	struct berr *err = NULL;

	if (c->init_pid > 0) {
		kill(c->init_pid, SIGKILL);
		waitpid(c->init_pid, NULL, 0);
	}
	if (c->stage_pid > 0) {
		kill(c->stage_pid, SIGKILL);
		waitpid(c->stage_pid, NULL, 0);
	}
	if (c->cgroup != NULL && runtime_cgroup_destroy(c->cgroup, &err) < 0) {
		blog_warn("cleanup: %s", err->msg);
		berr_clear(&err);
	}
	if (c->dir_made && fs_remove_tree(c->rec->dir, &err) < 0) {
		blog_warn("cleanup: %s", err->msg);
		berr_clear(&err);
	}
}

static void create_ctx_release(struct create_ctx *c)
{
	runtime_ns_close_all(c->ns_fds);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	runtime_cgroup_free(c->cgroup);
	runtime_seccomp_filter_free(c->seccomp);
	runtime_record_free(c->rec);
	free(c->config_text);
}

int runtime_config_parse_cached(const char *text, size_t len, const char *cache,
				struct runtime_spec **spec, struct runtime_seccomp_filter **seccomp,
				struct berr **err)
{
	_cleanup_free_ char *rest = NULL;
	size_t start = 0, end = 0;
	bool span = runtime_spec_seccomp_span(text, len, &start, &end);

	*spec = NULL;
	*seccomp = NULL;
	if (span && runtime_seccomp_cached_text(text + start, end - start, cache, seccomp)) {
		rest = malloc(start + 4 + (len - end));
		if (rest == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "config");
		memcpy(rest, text, start);
		memcpy(rest + start, "null", 4);
		memcpy(rest + start + 4, text + end, len - end);
		if (runtime_spec_parse(rest, start + 4 + (len - end), spec, NULL) == 0)
			return 0;
		/* Whatever the cut spoiled, the whole text says. */
		runtime_seccomp_filter_free(steal_ptr(seccomp));
	}
	if (runtime_spec_parse(text, len, spec, err) < 0)
		return -1;
	if ((*spec)->seccomp == NULL)
		return 0;
	if (runtime_seccomp_prepare_cached((*spec)->seccomp, cache, seccomp, err) < 0) {
		runtime_spec_free(steal_ptr(spec));
		return -1;
	}
	if (span)
		runtime_seccomp_cache_text(text + start, end - start, cache, *seccomp);
	return 0;
}

int runtime_config_load(const char *config_path, const char *root, char **text, size_t *len,
			struct runtime_spec **spec, struct runtime_seccomp_filter **seccomp,
			struct berr **err)
{
	_cleanup_free_ char *cache = str_printf("%s/" RUNTIME_SECCOMP_CACHE_DIR, root);

	if (cache == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "%s", config_path);
	if (fs_read_file(config_path, RUNTIME_SPEC_MAX_SIZE, text, len, err) < 0)
		return -1;
	if (runtime_config_parse_cached(*text, *len, cache, spec, seccomp, err) < 0)
		return berr_prefix(err, "%s", config_path);
	return 0;
}

char *runtime_rootfs_real_path(const struct runtime_spec *spec, const char *bundle,
			       struct berr **err)
{
	_cleanup_free_ char *rootfs = spec->root_path[0] == '/'
					      ? strdup(spec->root_path)
					      : str_printf("%s/%s", bundle, spec->root_path);
	_cleanup_free_ char *real = NULL;
	struct stat st;

	if (rootfs == NULL) {
		berr_set(err, BERR_INTERNAL, ENOMEM, "rootfs");
		return NULL;
	}
	real = realpath(rootfs, NULL);
	if (real == NULL || stat(real, &st) < 0) {
		berr_set(err, BERR_NOT_FOUND, errno, "rootfs %s", rootfs);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		berr_set(err, BERR_INVALID, 0, "rootfs %s is not a directory", rootfs);
		return NULL;
	}
	return steal_ptr(&real);
}

/* Reads and checks everything before anything is made, from BUNDLE (a
 * real path, taken). */
static int create_load(struct create_ctx *c, const struct runtime_config *cfg,
		       const struct runtime_create_opts *opts, char **bundle_taken,
		       struct berr **err)
{
	_cleanup_free_ char *bundle = steal_ptr(bundle_taken);
	struct runtime_record *rec;
	struct runtime_spec *spec = NULL;
	_cleanup_free_ char *config_path = NULL;
	char created[TIME_RFC3339_SIZE];

	config_path = str_printf("%s/" RUNTIME_CONFIG_FILE, bundle);
	if (config_path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	rec = c->rec = calloc(1, sizeof(*c->rec));
	if (rec == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	if (runtime_config_load(config_path, runtime_config_root(cfg), &c->config_text,
				&c->config_len, &spec, &c->seccomp, err) < 0)
		return -1;
	if (runtime_record_set_spec(rec, spec) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	if (rec->spec->process == NULL)
		return berr_set(err, BERR_INVALID, 0,
				"%s: process is required to create a container", config_path);
	if (!rec->spec->namespaces[RUNTIME_NS_MOUNT].enabled)
		return berr_set(err, BERR_INVALID, 0,
				"%s: a mount namespace is required (linux.namespaces)",
				config_path);
	if (rec->spec->process->terminal && opts->console_socket == NULL)
		return berr_set(err, BERR_INVALID, 0,
				"process.terminal is set: a --console-socket is required");
	rec->rootfs = runtime_rootfs_real_path(rec->spec, bundle, err);
	if (rec->rootfs == NULL)
		return -1;
	time_now_rfc3339(created);
	rec->id = strdup(opts->id);
	rec->bundle = steal_ptr(&bundle);
	rec->created = strdup(created);
	rec->owner = owner_name();
	rec->cgroup_root = strdup(runtime_config_cgroup_root(cfg));
	rec->dir = str_printf("%s/%s", runtime_config_root(cfg), opts->id);
	if (!rec->id || !rec->created || !rec->owner || !rec->cgroup_root || !rec->dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	rec->cgroup_path = runtime_cgroup_resolve_path(rec->spec->cgroups_path, opts->id, err);
	if (rec->cgroup_path == NULL)
		return -1;
	return runtime_ns_open_paths(rec->spec, c->ns_fds, err);
}

/* The state directory with the config copy and the exec fifo. */
static int create_state_dir(struct create_ctx *c, const struct runtime_config *cfg,
			    struct berr **err)
{
	_cleanup_free_ char *path = NULL;

	if (fs_mkdir_p(runtime_config_root(cfg), 0700, err) < 0)
		return -1;
	if (mkdir(c->rec->dir, 0711) < 0) {
		if (errno == EEXIST)
			return berr_set(err, BERR_CONFLICT, 0, "container with id \"%s\" exists",
					c->rec->id);
		return berr_set(err, BERR_INTERNAL, errno, "create %s", c->rec->dir);
	}
	c->dir_made = true;
	path = str_printf("%s/%s", c->rec->dir, RUNTIME_CONFIG_FILE);
	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	if (fs_write_file_replace(path, c->config_text, c->config_len, 0600, err) < 0)
		return -1;
	free(path);
	path = str_printf("%s/%s", c->rec->dir, RUNTIME_EXEC_FIFO);
	if (path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "create");
	if (mkfifo(path, 0600) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "mkfifo %s", path);
	/* Read-write, so opening does not block; the init reads the byte
	 * that start writes. */
	c->fifo_fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	return 0;
}

/* The devices every container may use, allowed after the config's own
 * rules as runc does: mknod of anything (what exists is decided by the
 * rules), the standard character devices, pseudo-terminals and tun. */
static const struct runtime_device_rule default_device_rules[] = {
	{ .allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m" },
	{ .allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m" },
	{ .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },    /* null */
	{ .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm" },    /* zero */
	{ .allow = true, .type = 'c', .major = 1, .minor = 7, .access = "rwm" },    /* full */
	{ .allow = true, .type = 'c', .major = 1, .minor = 8, .access = "rwm" },    /* random */
	{ .allow = true, .type = 'c', .major = 1, .minor = 9, .access = "rwm" },    /* urandom */
	{ .allow = true, .type = 'c', .major = 5, .minor = 0, .access = "rwm" },    /* tty */
	{ .allow = true, .type = 'c', .major = 5, .minor = 1, .access = "rwm" },    /* console */
	{ .allow = true, .type = 'c', .major = 5, .minor = 2, .access = "rwm" },    /* ptmx */
	{ .allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rwm" }, /* pts */
	{ .allow = true, .type = 'c', .major = 10, .minor = 200, .access = "rwm" }, /* tun */
};

/* The device rules the cgroup gets: deny everything, then the config's
 * rules and the defaults.  The nodes of linux.devices are not allowed by
 * themselves (runc neither): the config's rules decide.  *out is owned by
 * the caller. */
static int device_rules(const struct runtime_spec *spec, struct runtime_device_rule **out,
			size_t *n, struct berr **err)
{
	size_t n_defaults = sizeof(default_device_rules) / sizeof(default_device_rules[0]);
	size_t total = 1 + spec->resources.n_devices + n_defaults;
	struct runtime_device_rule *rules = calloc(total, sizeof(*rules));
	size_t k = 0;

	if (rules == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "device rules");
	rules[k++] = (struct runtime_device_rule){
		.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"
	};
	for (size_t i = 0; i < spec->resources.n_devices; i++)
		rules[k++] = spec->resources.devices[i];
	for (size_t i = 0; i < n_defaults; i++)
		rules[k++] = default_device_rules[i];
	*out = rules;
	*n = k;
	return 0;
}

static int create_cgroup(struct create_ctx *c, struct berr **err)
{
	struct runtime_resources res = c->rec->spec->resources;
	_cleanup_free_ struct runtime_device_rule *rules = NULL;

	if (device_rules(c->rec->spec, &rules, &res.n_devices, err) < 0)
		return -1;
	res.devices = rules;
	/* A spare was made whole (its levels, its cpusets filled) by
	 * runtime_spare_cgroup_make(); the undo removes it as it would a new
	 * one. */
	if (c->cgroup_adopted) {
		if (runtime_cgroup_open(c->rec->cgroup_root, c->rec->cgroup_mode,
					c->rec->cgroup_path, &c->cgroup, err) < 0)
			return -1;
		return runtime_cgroup_update(c->cgroup, &res, err);
	}
	return runtime_cgroup_create(c->rec->cgroup_root, c->rec->cgroup_mode, c->rec->cgroup_path,
				     &res, &c->cgroup, err);
}

/* Forks the stage; in the child, never returns: the stage exits, and the
 * init it forks runs runtime_init_main. */
static int create_spawn(struct create_ctx *c, const struct runtime_create_opts *opts,
			struct berr **err)
{
	struct runtime_spec *spec = c->rec->spec;
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "socketpair");
	pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return berr_set(err, BERR_INTERNAL, errno, "fork");
	}
	if (pid == 0) {
		struct berr *cerr = NULL;
		struct runtime_stage stage = {
			.sync_fd = sp[1],
			.new_flags = runtime_ns_new_flags(spec),
		};
		struct runtime_init_args args = {
			.spec = spec,
			.opts = opts,
			.seccomp = c->seccomp,
			.rootfs = c->rec->rootfs,
			.bundle = c->rec->bundle,
			.id = c->rec->id,
			.sync_fd = sp[1],
			.fifo_fd = c->fifo_fd,
			.console_fd = c->console_fd,
			.new_user_ns = (stage.new_flags & CLONE_NEWUSER) != 0,
		};

		close(sp[0]);
		/* Nothing in the container may open this process's files
		 * through /proc (its exe is the runtime's binary), and it
		 * must not outlive a runtime that gives up. */
		prctl(PR_SET_DUMPABLE, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memcpy(stage.ns_fds, c->ns_fds, sizeof(stage.ns_fds));
		/* A new network namespace made ahead is joined instead of made
		 * now (what making one costs is about a millisecond); not in
		 * a user namespace, which would own a new one. */
		if (opts->spare_netns && *opts->spare_netns >= 0 &&
		    (stage.new_flags & CLONE_NEWNET) && !(stage.new_flags & CLONE_NEWUSER) &&
		    stage.ns_fds[RUNTIME_NS_USER] < 0) {
			stage.ns_fds[RUNTIME_NS_NETWORK] = *opts->spare_netns;
			stage.new_flags &= ~CLONE_NEWNET;
		}
		if (runtime_stage_run(&stage, &cerr) < 0) {
			runtime_sync_send_error(sp[1], cerr);
			_exit(1);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		runtime_init_main(&args);
	}
	close(sp[1]);
	c->sync_fd = sp[0];
	c->stage_pid = pid;
	return 0;
}

/* The seed of OPTS as the container's process, when the config fits it;
 * killed when it does not. */
static void take_seed(struct create_ctx *c, const struct runtime_create_opts *opts)
{
	struct runtime_seed *seed = opts->seed;

	if (seed->pid <= 0)
		return;
	if (!runtime_seed_fits(c->rec->spec, opts->console_socket != NULL) ||
	    opts->preserve_fds > 0) {
		runtime_seed_discard(seed);
		return;
	}
	c->init_pid = seed->pid;
	c->sync_fd = seed->sync_fd;
	c->seeded = true;
	seed->pid = 0;
	seed->sync_fd = -1;
}

/* The seed is in the container's cgroup: its mounts may go on.  The GO's
 * value tells it whether that is the spare it was made in. */
static int release_seed(struct create_ctx *c, struct berr **err)
{
	if (runtime_sync_send(c->sync_fd, RUNTIME_SYNC_GO, c->cgroup_adopted ? 1 : 0, NULL) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start the container process");
	c->seed_released = true;
	return 0;
}

static int drive_hooks(struct create_ctx *c, struct berr **err);

/* A seed is in its namespaces; in its cgroup too, and at work on its
 * mounts, when that is the spare it was made in. */
static int drive_seed(struct create_ctx *c, struct berr **err)
{
	struct runtime_record *rec = c->rec;

	if (!c->seed_released &&
	    (runtime_cgroup_add_pid(c->cgroup, c->init_pid, err) < 0 || release_seed(c, err) < 0))
		return -1;
	rec->pid = c->init_pid;
	rec->pid_start = runtime_pid_start_time(c->init_pid);
	return drive_hooks(c, err);
}

/* The runtime's side of the conversation with the stage and the init. */
static int create_drive(struct create_ctx *c, struct berr **err)
{
	struct runtime_record *rec = c->rec;
	const struct runtime_spec *spec = rec->spec;
	int32_t init_pid = 0;
	int status;

	if (c->seeded)
		return drive_seed(c, err);
	if (runtime_cgroup_add_pid(c->cgroup, c->stage_pid, err) < 0)
		return -1;
	if (runtime_ns_new_flags(spec) & CLONE_NEWUSER) {
		if (runtime_sync_expect(c->sync_fd, RUNTIME_SYNC_USERMAP, NULL,
					"the user namespace", err) < 0)
			return -1;
		if (runtime_ns_write_id_maps(c->stage_pid, spec, err) < 0)
			return -1;
		if (runtime_sync_send(c->sync_fd, RUNTIME_SYNC_GO, 0, NULL) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "user namespace");
	}
	if (runtime_sync_send(c->sync_fd, RUNTIME_SYNC_GO, 0, NULL) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start the container process");
	if (runtime_sync_expect(c->sync_fd, RUNTIME_SYNC_PID, &init_pid, "the container process",
				err) < 0)
		return -1;
	c->init_pid = init_pid;
	rec->pid = init_pid;
	rec->pid_start = runtime_pid_start_time(init_pid);
	if (runtime_sync_send(c->sync_fd, RUNTIME_SYNC_GO, init_pid, NULL) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start the container process");
	/* The stage is done; reap it while the init works. */
	if (waitpid(c->stage_pid, &status, 0) == c->stage_pid)
		c->stage_pid = 0;
	return drive_hooks(c, err);
}

/* From the init's mounts on, for any init. */
static int drive_hooks(struct create_ctx *c, struct berr **err)
{
	struct runtime_record *rec = c->rec;
	const struct runtime_spec *spec = rec->spec;
	_cleanup_free_ char *state = NULL;

	if (!runtime_hooks_runtime_side(spec))
		goto created;
	if (runtime_sync_expect(c->sync_fd, RUNTIME_SYNC_HOOKS, NULL, "the container's mounts",
				err) < 0)
		return -1;
	state = runtime_record_hook_state(rec, RUNTIME_STATUS_CREATING);
	if (state == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "hook state");
	if (runtime_hooks_run(&spec->hooks[RUNTIME_HOOK_PRESTART], state, err) < 0)
		return berr_prefix(err, "prestart hook");
	if (runtime_hooks_run(&spec->hooks[RUNTIME_HOOK_CREATE_RUNTIME], state, err) < 0)
		return berr_prefix(err, "createRuntime hook");
	if (runtime_sync_send(c->sync_fd, RUNTIME_SYNC_GO, 0, NULL) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "createRuntime hooks");
created:
	return runtime_sync_expect(c->sync_fd, RUNTIME_SYNC_CREATED, NULL, "the container", err);
}

#define SPARE_PREFIX ".spare-"

/* Removes the spares under PARENT of processes that are gone. */
static void sweep_spares(const char *root, enum runtime_cgroup_mode mode, const char *parent)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;

	if (runtime_cgroup_open(root, mode, parent, &cg, NULL) < 0 || cg->n_dirs == 0)
		return;
	dir = opendir(cg->dirs[0].path);
	while (dir && (de = readdir(dir)) != NULL) {
		_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *spare = NULL;
		_cleanup_free_ char *rel = NULL;
		char *end = NULL;
		long pid;

		if (!str_has_prefix(de->d_name, SPARE_PREFIX))
			continue;
		pid = strtol(de->d_name + strlen(SPARE_PREFIX), &end, 10);
		/* A zombie is gone too: nobody may reap a killed standby. */
		if (*end != '\0' || pid <= 0 || runtime_pid_start_time((pid_t)pid) != 0)
			continue;
		rel = str_printf("%s/%s", parent, de->d_name);
		if (rel && runtime_cgroup_open(root, mode, rel, &spare, NULL) == 0)
			runtime_cgroup_destroy(spare, NULL);
	}
}

char *runtime_spare_cgroup_make(const struct runtime_config *cfg)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_free_ char *rel = NULL;
	const char *root = runtime_config_cgroup_root(cfg);
	enum runtime_cgroup_mode mode;

	if (runtime_cgroup_detect(root, &mode, NULL) < 0 || mode != RUNTIME_CGROUP_V1)
		return NULL;
	sweep_spares(root, mode, RUNTIME_CGROUP_PARENT);
	rel = str_printf(RUNTIME_CGROUP_PARENT "/" SPARE_PREFIX "%d", (int)getpid());
	if (rel == NULL || runtime_cgroup_create(root, mode, rel, NULL, &cg, NULL) < 0)
		return NULL;
	return steal_ptr(&rel);
}

void runtime_spare_cgroup_drop(const struct runtime_config *cfg, const char *spare)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	const char *root = runtime_config_cgroup_root(cfg);
	enum runtime_cgroup_mode mode;

	if (spare && runtime_cgroup_detect(root, &mode, NULL) == 0 &&
	    runtime_cgroup_open(root, mode, spare, &cg, NULL) == 0)
		runtime_cgroup_destroy(cg, NULL);
}

/* Takes SPARE as the container's cgroup when both are under one parent:
 * a rename where making one takes a directory per hierarchy. */
static void adopt_spare(struct create_ctx *c, const char *spare)
{
	const char *path = c->rec->cgroup_path;
	const char *a = strrchr(spare, '/'), *b = strrchr(path, '/');
	_cleanup_berr_ struct berr *err = NULL;

	if (c->rec->cgroup_mode != RUNTIME_CGROUP_V1 || !a || !b || a - spare != b - path ||
	    strncmp(spare, path, (size_t)(a - spare)) != 0)
		return;
	if (runtime_cgroup_rename(c->rec->cgroup_root, c->rec->cgroup_mode, spare, path, &err) < 0)
		blog_debug("create %s: %s", c->rec->id, err->msg);
	else
		c->cgroup_adopted = true;
}

static int write_pid_file(const char *path, pid_t pid, struct berr **err)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", (int)pid);

	return fs_write_file_replace(path, text, (size_t)n, 0644, err);
}

int runtime_container_create(const struct runtime_config *cfg,
			     const struct runtime_create_opts *opts, pid_t *pid_out,
			     struct berr **err)
{
	struct create_ctx c = { .fifo_fd = -1, .console_fd = -1, .sync_fd = -1 };
	struct runtime_cgroup_keeper *warmup = NULL;
	_cleanup_free_ char *bundle = NULL;
	enum runtime_cgroup_mode mode;
	int ret = -1;

	for (int i = 0; i < RUNTIME_NS_COUNT; i++)
		c.ns_fds[i] = -1;
	blog_debug("create %s: loading the bundle", opts->id);
	if (runtime_cgroup_detect(runtime_config_cgroup_root(cfg), &mode, err) < 0)
		goto out;
	if (!opts->cgroups_kept_warm) {
		warmup = runtime_cgroup_keeper_new(runtime_config_cgroup_root(cfg), mode);
		runtime_cgroup_keeper_touch(warmup, 0);
	}
	if (runtime_id_validate(opts->id, err) < 0)
		goto out;
	bundle = realpath(opts->bundle ? opts->bundle : ".", NULL);
	if (bundle == NULL) {
		berr_set(err, BERR_NOT_FOUND, errno, "bundle %s",
			 opts->bundle ? opts->bundle : ".");
		goto out;
	}
	/* The seed reads the config while we do. */
	if (opts->seed && opts->seed->pid > 0 &&
	    runtime_seed_order(opts->seed, cfg, opts, bundle) < 0)
		runtime_seed_discard(opts->seed);
	if (create_load(&c, cfg, opts, &bundle, err) < 0)
		goto out;
	c.rec->cgroup_mode = mode;
	if (opts->spare_cgroup)
		adopt_spare(&c, opts->spare_cgroup);
	if (opts->spare_cgroup_taken)
		*opts->spare_cgroup_taken = c.cgroup_adopted;
	if (opts->seed)
		take_seed(&c, opts);
	if (create_state_dir(&c, cfg, err) < 0)
		goto undo;
	/* The seed opens the exec fifo in the state directory before its
	 * pivot, with no word from us between its GO and then unless hooks
	 * run. */
	if (c.seeded && c.cgroup_adopted && release_seed(&c, err) < 0)
		goto undo;
	if (opts->console_socket != NULL && c.rec->spec->process->terminal) {
		c.console_fd = unixsock_connect(opts->console_socket, err);
		if (c.console_fd < 0) {
			berr_prefix(err, "console socket");
			goto undo;
		}
	}
	/* The stage makes its namespaces while the cgroup is made; it waits
	 * for the cgroup before it forks the init. */
	blog_debug("create %s: starting the container process", opts->id);
	if (!c.seeded && create_spawn(&c, opts, err) < 0)
		goto undo;
	blog_debug("create %s: making the cgroup", opts->id);
	if (create_cgroup(&c, err) < 0)
		goto undo;
	runtime_cgroup_keeper_free(steal_ptr(&warmup));
	blog_debug("create %s: moving the stage into the cgroup", opts->id);
	if (create_drive(&c, err) < 0)
		goto undo;
	blog_debug("create %s: created, init pid %d", opts->id, (int)c.rec->pid);
	if (runtime_record_save(c.rec, err) < 0)
		goto undo;
	if (opts->pid_file && write_pid_file(opts->pid_file, c.rec->pid, err) < 0)
		goto undo;
	/* Recorded: the init may outlive us now, and says when it will. */
	if (runtime_sync_send(c.sync_fd, RUNTIME_SYNC_GO, 0, NULL) < 0 ||
	    runtime_sync_expect(c.sync_fd, RUNTIME_SYNC_CREATED, NULL, "the container", err) < 0)
		goto undo;
	if (pid_out)
		*pid_out = c.rec->pid;
	ret = 0;
	goto out;
undo:
	create_ctx_undo(&c);
out:
	if (ret < 0)
		berr_prefix(err, "create container %s", opts->id ? opts->id : "");
	runtime_cgroup_keeper_free(warmup);
	create_ctx_release(&c);
	/* Whatever went wrong before the seed was taken. */
	if (opts->seed)
		runtime_seed_discard(opts->seed);
	return ret;
}

/* Loads the record and its cgroup and the live status. */
static int load_live(const struct runtime_config *cfg, const char *id, struct runtime_record **rec,
		     struct runtime_cgroup **cg, enum runtime_status *status, struct berr **err)
{
	if (runtime_record_load(cfg, id, rec, err) < 0)
		return -1;
	if (runtime_record_cgroup(*rec, cg, err) < 0) {
		runtime_record_free(*rec);
		*rec = NULL;
		return -1;
	}
	*status = runtime_record_status(*rec, *cg);
	return 0;
}

int runtime_container_start(const struct runtime_config *cfg, const char *id, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_free_ char *fifo = NULL;
	_cleanup_free_ char *state = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int done_fd = -1;
	enum runtime_status status;
	struct berr *local = NULL;

	if (load_live(cfg, id, &rec, &cg, &status, err) < 0)
		return -1;
	if (status == RUNTIME_STATUS_STOPPED)
		return berr_set(err, BERR_CONFLICT, 0, "cannot start a container that has stopped");
	if (status != RUNTIME_STATUS_CREATED)
		return berr_set(err, BERR_CONFLICT, 0, "cannot start an already running container");
	fifo = str_printf("%s/%s", rec->dir, RUNTIME_EXEC_FIFO);
	if (fifo == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "start");
	/* The read end, opened before our write end, reports a hang-up once
	 * every writer is gone: ours, and the init's, which closes on its
	 * execve.  So poststart hooks run after the process started. */
	done_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (done_fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "start container %s", id);
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, BERR_CONFLICT, errno, "start container %s", id);
	if (write(fd, "0", 1) != 1)
		return berr_set(err, BERR_INTERNAL, errno, "start container %s", id);
	close(steal_fd(&fd));
	unlink(fifo);
	for (;;) {
		struct pollfd p = { .fd = done_fd, .events = 0 };

		if (poll(&p, 1, -1) >= 0 || errno != EINTR)
			break;
	}
	if (!runtime_record_has_hooks(rec, RUNTIME_HOOK_POSTSTART))
		return 0;
	/* Started: what fails now is only warned about, as a failing
	 * poststart hook is. */
	if (runtime_record_load_spec(rec, &local) < 0) {
		blog_warn("poststart hooks of %s: %s", id, local->msg);
		berr_free(local);
		return 0;
	}
	state = runtime_record_hook_state(rec, RUNTIME_STATUS_RUNNING);
	if (state != NULL)
		runtime_hooks_run_all(&rec->spec->hooks[RUNTIME_HOOK_POSTSTART], state);
	return 0;
}

int runtime_container_state(const struct runtime_config *cfg, const char *id,
			    struct runtime_state **out, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	enum runtime_status status;

	if (load_live(cfg, id, &rec, &cg, &status, err) < 0)
		return -1;
	if (runtime_record_state(rec, status, out, err) < 0)
		return -1;
	(*out)->oom_killed = runtime_cgroup_oom_kills(cg) > 0;
	return 0;
}

static int kill_cgroup(struct runtime_cgroup *cg, int sig, struct berr **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	if (runtime_cgroup_get_pids(cg, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return berr_set(err, BERR_INTERNAL, errno, "kill %d", (int)pids[i]);
	return 0;
}

int runtime_container_kill(const struct runtime_config *cfg, const char *id, int sig, bool all,
			   struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	enum runtime_status status;

	if (load_live(cfg, id, &rec, &cg, &status, err) < 0)
		return -1;
	if (all)
		return kill_cgroup(cg, sig, err);
	if (status == RUNTIME_STATUS_STOPPED)
		return berr_set(err, BERR_CONFLICT, 0, "container not running");
	if (kill(rec->pid, sig) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "kill container %s", id);
	return 0;
}

/* Kills every process of the container and waits until they are gone. */
static int kill_and_wait(struct runtime_record *rec, struct runtime_cgroup *cg, struct berr **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	if (runtime_pid_alive(rec->pid, rec->pid_start))
		kill(rec->pid, SIGKILL);
	if (kill_cgroup(cg, SIGKILL, err) < 0)
		return -1;
	/* Frozen tasks only die once thawed. */
	if (runtime_cgroup_is_frozen(cg))
		runtime_cgroup_freeze(cg, false, NULL);
	for (int waited = 0; waited < KILL_WAIT_MS; waited += 10) {
		free(pids);
		pids = NULL;
		if (runtime_cgroup_get_pids(cg, &pids, &n, err) < 0)
			return -1;
		/* Zombies stay in cgroup.procs until reaped by their parent;
		 * the init's parent may be anyone, so check it apart. */
		if (!runtime_pid_alive(rec->pid, rec->pid_start)) {
			bool others = false;

			for (size_t i = 0; i < n; i++)
				if (pids[i] != rec->pid && runtime_pid_start_time(pids[i]) != 0)
					others = true;
			if (!others)
				return 0;
		}
		if (n > 0)
			kill_cgroup(cg, SIGKILL, NULL);
		usleep(10000);
	}
	return berr_set(err, BERR_INTERNAL, 0, "processes of container %s did not exit", rec->id);
}

int runtime_container_delete(const struct runtime_config *cfg, const char *id, bool force,
			     struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_free_ char *state = NULL;
	enum runtime_status status;
	struct berr *local = NULL;

	if (load_live(cfg, id, &rec, &cg, &status, &local) < 0) {
		_cleanup_free_ char *dir = NULL;

		/* A create that died before writing state.json leaves only
		 * the directory: --force removes that too. */
		if (!force || local->kind != BERR_NOT_FOUND) {
			berr_move(err, &local);
			return -1;
		}
		berr_free(local);
		dir = str_printf("%s/%s", runtime_config_root(cfg), id);
		return dir ? fs_remove_tree(dir, err) : 0;
	}
	if ((status == RUNTIME_STATUS_RUNNING || status == RUNTIME_STATUS_PAUSED) && !force)
		return berr_set(err, BERR_CONFLICT, 0,
				"cannot delete container %s that is not stopped: %s", id,
				runtime_status_name(status));
	if (kill_and_wait(rec, cg, err) < 0)
		return -1;
	if (runtime_record_has_hooks(rec, RUNTIME_HOOK_POSTSTOP)) {
		if (runtime_record_load_spec(rec, err) < 0)
			return -1;
		state = runtime_record_hook_state(rec, RUNTIME_STATUS_STOPPED);
		if (state != NULL)
			runtime_hooks_run_all(&rec->spec->hooks[RUNTIME_HOOK_POSTSTOP], state);
	}
	if (runtime_cgroup_destroy(cg, err) < 0)
		return berr_prefix(err, "delete container %s", id);
	return fs_remove_tree(rec->dir, err);
}

void runtime_warm_up(const struct runtime_config *cfg)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	const char *root = runtime_config_cgroup_root(cfg);
	enum runtime_cgroup_mode mode;

	if (runtime_cgroup_detect(root, &mode, NULL) == 0)
		runtime_cgroup_open(root, mode, "/", &cg, NULL);
}

int runtime_container_discard(const struct runtime_config *cfg, const char *id, bool *moved,
			      struct berr **err)
{
	_cleanup_free_ char *trash = str_printf("%s/" RUNTIME_TRASH_DIR, runtime_config_root(cfg));
	_cleanup_free_ char *from = str_printf("%s/%s", runtime_config_root(cfg), id);
	_cleanup_free_ char *to = NULL;

	*moved = false;
	if (runtime_id_validate(id, err) < 0)
		return -1;
	to = str_printf("%s/%s", trash ? trash : "", id);
	if (trash == NULL || from == NULL || to == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "discard container %s", id);
	if (mkdir(trash, 0700) < 0 && errno != EEXIST)
		return berr_set(err, BERR_INTERNAL, errno, "create %s", trash);
	if (rename(from, to) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_set(err, BERR_INTERNAL, errno, "move %s to %s", from, to);
	}
	*moved = true;
	return 0;
}

int runtime_trash_empty(const struct runtime_config *cfg, struct berr **err)
{
	_cleanup_free_ char *trash = str_printf("%s/" RUNTIME_TRASH_DIR, runtime_config_root(cfg));
	struct runtime_config in_trash = *cfg;
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int ret = 0;

	if (trash == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "runtime trash");
	dir = opendir(trash);
	if (dir == NULL)
		return errno == ENOENT ? 0 : berr_set(err, BERR_INTERNAL, errno, "open %s", trash);
	/* The trash is the state root of what it holds. */
	in_trash.state_root = trash;
	while ((de = readdir(dir)) != NULL) {
		_cleanup_berr_ struct berr *one = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (runtime_container_delete(&in_trash, de->d_name, true, &one) < 0 &&
		    one->kind != BERR_NOT_FOUND && ret == 0) {
			berr_move(err, &one);
			ret = -1;
		}
	}
	return ret;
}

static int set_frozen(const struct runtime_config *cfg, const char *id, bool frozen,
		      struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	enum runtime_status status;

	if (load_live(cfg, id, &rec, &cg, &status, err) < 0)
		return -1;
	if (frozen && status != RUNTIME_STATUS_RUNNING)
		return berr_set(err, BERR_CONFLICT, 0, "container not running");
	if (!frozen && status != RUNTIME_STATUS_PAUSED)
		return berr_set(err, BERR_CONFLICT, 0, "container not paused");
	return runtime_cgroup_freeze(cg, frozen, err);
}

int runtime_container_pause(const struct runtime_config *cfg, const char *id, struct berr **err)
{
	return set_frozen(cfg, id, true, err);
}

int runtime_container_resume(const struct runtime_config *cfg, const char *id, struct berr **err)
{
	return set_frozen(cfg, id, false, err);
}

int runtime_container_pids(const struct runtime_config *cfg, const char *id, pid_t **pids,
			   size_t *n, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	enum runtime_status status;

	if (load_live(cfg, id, &rec, &cg, &status, err) < 0)
		return -1;
	return runtime_cgroup_get_pids(cg, pids, n, err);
}

int runtime_container_update(const struct runtime_config *cfg, const char *id,
			     const struct runtime_resources *res, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	enum runtime_status status;

	if (load_live(cfg, id, &rec, &cg, &status, err) < 0)
		return -1;
	if (status == RUNTIME_STATUS_STOPPED)
		return berr_set(err, BERR_CONFLICT, 0, "container not running");
	return runtime_cgroup_update(cg, res, err);
}

static int compare_states(const void *a, const void *b)
{
	const struct runtime_state *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

int runtime_container_list(const struct runtime_config *cfg, struct runtime_state ***out, size_t *n,
			   struct berr **err)
{
	_cleanup_closedir_ DIR *dir = opendir(runtime_config_root(cfg));
	struct runtime_state **states = NULL;
	size_t count = 0;
	struct dirent *de;

	if (dir == NULL) {
		if (errno != ENOENT)
			return berr_set(err, BERR_INTERNAL, errno, "open %s",
					runtime_config_root(cfg));
		*out = NULL;
		*n = 0;
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		struct runtime_state *st = NULL;
		struct runtime_state **grown;

		if (de->d_name[0] == '.')
			continue;
		/* A container deleted meanwhile, or half made, is not listed. */
		if (runtime_container_state(cfg, de->d_name, &st, NULL) < 0)
			continue;
		grown = realloc(states, (count + 1) * sizeof(*states));
		if (grown == NULL) {
			runtime_state_free(st);
			for (size_t i = 0; i < count; i++)
				runtime_state_free(states[i]);
			free(states);
			return berr_set(err, BERR_INTERNAL, ENOMEM, "list");
		}
		states = grown;
		states[count++] = st;
	}
	if (count > 1)
		qsort(states, count, sizeof(*states), compare_states);
	*out = states;
	*n = count;
	return 0;
}
