/* A container's life: start (mount its root file system, resolve its user,
 * check its command, write its OCI config, create and start it in the
 * runtime), the end of its process (state, runtime deletion, unmount,
 * --rm), and a blocking wait for callers without an event loop.  Every
 * state change holds the container's lock, so that processes sharing a data
 * root change one container one at a time. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "image/mount.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/jsontext.h"
#include "lib/log.h"
#include "lib/safepath.h"
#include "lib/timefmt.h"

/* The record's key of daemon_container_set_manually_stopped(). */
#define MANUAL_STOP_KEY "HasBeenManuallyStopped"

/* Docker's sysctls for a private network need a kernel that has them. */
#define UNPRIVILEGED_PORT_SYSCTL "/proc/sys/net/ipv4/ip_unprivileged_port_start"

/* What a start made, for its undo, and the exit code a failure means. */
struct start_ctx {
	char *dir, *upper, *work, *merged, *log_path;
	char *run_dir;
	bool mounted;
	bool created;
	int exit_code;
};

static void start_ctx_release(struct start_ctx *s)
{
	free(s->dir);
	free(s->upper);
	free(s->work);
	free(s->merged);
	free(s->log_path);
	free(s->run_dir);
}

static void start_undo(struct daemon *d, const char *id, struct start_ctx *s)
{
	struct berr *e = NULL;

	if (s->created && runtime_container_delete(&d->rt, id, true, &e) < 0) {
		blog_warn("container %s: undo start: %s", id, e->msg);
		berr_clear(&e);
	}
	if (s->mounted && image_unmount(s->merged, &e) < 0) {
		blog_warn("container %s: undo start: %s", id, e->msg);
		berr_clear(&e);
	}
}

/* Takes the waiter's lock of the container whose run directory is RUN_DIR
 * (see struct daemon_container); returns its fd.  Sets BERR_CONFLICT when
 * another process waits for the container. */
static int take_waiter(const char *run_dir, const char *id, struct berr **err)
{
	_cleanup_free_ char *path = str_printf("%s/" DAEMON_FILE_WAITER, run_dir);
	_cleanup_close_ int fd = -1;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "start container %s", id);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return berr_set(err, errno == EWOULDBLOCK ? BERR_CONFLICT : BERR_INTERNAL, errno,
				"container %s is waited for by another process", id);
	return steal_fd(&fd);
}

/* Mounts the root file system of C for a start: the one mounted ahead on
 * its directory when it is of the same lower dirs; otherwise what is there
 * goes first (left by a process killed before it recorded the end of a
 * run, or mounted ahead for another image). */
static int mount_root(struct start_ctx *s, char *const *lower, unsigned flags, struct berr **err)
{
	const struct image_premount want = { .lower = (const char *const *)lower,
					     .n = strv_length(lower),
					     .flags = flags };

	daemon_note_mount(lower, flags);
	if (image_container_premount_take(s->dir, &want))
		return 0;
	while (image_unmount(s->merged, NULL) == 0)
		;
	return image_mount_overlay_flags(want.lower, want.n, s->upper, s->work, s->merged, flags,
					 err);
}

static bool is_executable(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* Opens NAME inside ROOTFD relative to CWD; -1 when it is not there. */
static int open_in(int rootfd, const char *cwd, const char *dir, const char *name)
{
	_cleanup_free_ char *path = NULL;

	if (name[0] == '/')
		path = strdup(name);
	else if (dir && dir[0] == '/')
		path = str_printf("%s/%s", dir, name);
	else
		path = str_printf("%s/%s/%s", cwd, dir ? dir : ".", name);
	if (!path)
		return -1;
	return safepath_open(rootfd, path, O_PATH, NULL);
}

/* Checks that the container's command can be run before the runtime is
 * asked to, so that a missing or unusable one fails the start with
 * Docker's message and exit code, as runc's create does for Docker.  PATH
 * is searched as Go's exec.LookPath does. */
static int check_command(int rootfd, const char *name, char *const *env, const char *cwd,
			 int *exit_code, struct berr **err)
{
	_cleanup_free_ char *search = NULL;
	const char *path = DAEMON_DEFAULT_PATH;
	char *save = NULL;

	if (strchr(name, '/')) {
		_cleanup_close_ int fd = open_in(rootfd, cwd, NULL, name);

		if (fd < 0) {
			*exit_code = DAEMON_EXIT_NOT_FOUND;
			return berr_set(err, BERR_NOT_FOUND, 0,
					"unable to start container process: exec: \"%s\": stat "
					"%s: no such file or directory",
					name, name);
		}
		if (!is_executable(fd)) {
			*exit_code = DAEMON_EXIT_NOT_EXECUTABLE;
			return berr_set(err, BERR_FORBIDDEN, 0,
					"unable to start container process: exec: \"%s\": "
					"permission denied",
					name);
		}
		return 0;
	}
	for (size_t i = 0; env && env[i]; i++)
		if (str_has_prefix(env[i], "PATH="))
			path = env[i] + 5;
	search = strdup(path);
	if (!search)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "command lookup");
	for (char *dir = search; dir; dir = save) {
		_cleanup_close_ int fd = -1;

		save = strchr(dir, ':');
		if (save)
			*save++ = '\0';
		fd = open_in(rootfd, cwd, dir, name);
		if (fd >= 0 && is_executable(fd))
			return 0;
	}
	*exit_code = DAEMON_EXIT_NOT_FOUND;
	return berr_set(err, BERR_NOT_FOUND, 0,
			"unable to start container process: exec: \"%s\": executable file not "
			"found in $PATH",
			name);
}

/* State.Pid of C. */
static pid_t container_pid(const struct daemon_container *c)
{
	return (pid_t)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "Pid"));
}

/* Hostname and Domainname of the Config FROM into the Config TO. */
static int take_names(json_t *to, const json_t *from)
{
	static const char *const keys[] = { "Hostname", "Domainname" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *name = json_string_value(json_object_get(from, keys[i]));

		if (json_object_set_new(to, keys[i], json_string(name ? name : "")) < 0)
			return -1;
	}
	return 0;
}

/* The running container that C's HostConfig KEY names as "container:X"
 * (*out NULL when it names none), for WHAT ("PID", "network") to join.
 * Docker's messages when X is C itself, gone or not running. */
static int joined_container(struct daemon *d, const struct daemon_container *c, const char *key,
			    const char *what, struct daemon_container **out, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *other = NULL;
	const char *mode = daemon_hc_str(json_object_get(c->doc, "HostConfig"), key);
	const char *name = mode + strlen("container:");

	*out = NULL;
	if (!str_has_prefix(mode, "container:"))
		return 0;
	if (daemon_container_lookup(d, name, &other, err) < 0)
		return berr_prefix(err, "cannot join %s of a non running container: %s", what,
				   name);
	if (strcmp(other->id, c->id) == 0)
		return berr_set(err, BERR_INVALID, 0, "cannot join own %s", what);
	if (!daemon_container_is_running(other) || container_pid(other) <= 0)
		return berr_set(err, BERR_CONFLICT, 0,
				"cannot join %s of a non running container: %s", what, name);
	*out = steal_ptr(&other);
	return 0;
}

/* Writes the OCI config into the container's run directory, the bundle.  A
 * container joined to another's network takes its host and domain names
 * into its Config, as Docker records them. */
static int write_config(struct daemon *d, struct daemon_container *c, const struct start_ctx *s,
			const struct daemon_user *user, struct berr **err)
{
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *pid_of = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *net_of = NULL;
	_cleanup_free_ char *net_dir = NULL;
	char pid_ns[64], net_ns[64];
	struct daemon_spec_input in = {
		.id = c->id,
		.rootfs = s->merged,
		.dir = s->dir,
		.doc = c->doc,
		.user = user,
		.unprivileged_ports = fs_exists(UNPRIVILEGED_PORT_SYSCTL),
		.init_path = d->init_path[0] ? d->init_path : NULL,
	};
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *path = str_printf("%s/" DAEMON_FILE_CONFIG, s->run_dir);

	if (joined_container(d, c, "PidMode", "PID", &pid_of, err) < 0 ||
	    joined_container(d, c, "NetworkMode", "network", &net_of, err) < 0)
		return -1;
	if (pid_of) {
		snprintf(pid_ns, sizeof(pid_ns), "/proc/%d/ns/pid", (int)container_pid(pid_of));
		in.pid_ns = pid_ns;
	}
	/* Its network, its host name, its hosts and resolv.conf, as Docker
	 * gives them. */
	if (net_of) {
		snprintf(net_ns, sizeof(net_ns), "/proc/%d/ns/net", (int)container_pid(net_of));
		net_dir = daemon_container_dir(d, net_of->id);
		if (!net_dir)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
		in.net_ns = net_ns;
		in.dir = net_dir;
		if (take_names(json_object_get(c->doc, "Config"),
			       json_object_get(net_of->doc, "Config")) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	}
	/* Compact: the runtime reads it, and keeps a copy, at every start. */
	text = daemon_spec_dumps(&in, err);
	if (!text)
		return -1;
	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s: OCI config", c->id);
	return fs_write_file_replace(path, text, strlen(text), 0600, err);
}

/* Everything start does up to a running process; S records what to
 * undo. */
static int start_steps(struct daemon *d, struct daemon_container *c, struct start_ctx *s,
		       const struct daemon_start_opts *o, int waiter, pid_t *pid, pid_t *shim,
		       int *end_fd, struct berr **err)
{
	const json_t *config = json_object_get(c->doc, "Config");
	const char *user_spec = json_string_value(json_object_get(config, "User"));
	const char *workdir = json_string_value(json_object_get(config, "WorkingDir"));
	const char *path = json_string_value(json_object_get(c->doc, "Path"));
	struct runtime_create_opts opts = { .id = c->id };
	struct daemon_user user = { 0 };
	_cleanup_strv_ char **lower = NULL;
	_cleanup_strv_ char **env = NULL;
	_cleanup_free_ char *cwd = NULL;
	_cleanup_close_ int rootfd = -1;
	int ret = -1;

	if (daemon_container_lower_dirs(d, c, &lower, err) < 0)
		return -1;
	if (mount_root(s, lower, daemon_container_mount_flags(c), err) < 0)
		return berr_prefix(err, "container %s: root file system", c->id);
	s->mounted = true;
	rootfd = open(s->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", s->merged);
	if (daemon_volumes_populate(c->doc, rootfd, err) < 0 ||
	    daemon_user_resolve(rootfd, user_spec, &user, err) < 0)
		return -1;
	cwd = safepath_clean(workdir && *workdir ? workdir : "/", err);
	env = daemon_config_env(config, user.home, err);
	if (!cwd || !env)
		goto out;
	/* Docker makes a working dir the image lacks. */
	if (strcmp(cwd, "/") != 0) {
		int fd = safepath_mkdir_p(rootfd, cwd, 0755, err);

		if (fd < 0) {
			berr_prefix(err, "working directory %s", cwd);
			goto out;
		}
		close(fd);
	}
	if (!path) {
		berr_set(err, BERR_INVALID, 0, "No command specified");
		goto out;
	}
	if (check_command(rootfd, path, env, cwd, &s->exit_code, err) < 0)
		goto out;
	if (write_config(d, c, s, &user, err) < 0)
		goto out;
	opts.bundle = s->run_dir;
	if (o) {
		/* The shim leaves nothing behind when it fails. */
		if (daemon_shim_start(d, c, s->run_dir, s->log_path, waiter, o, pid, shim, end_fd,
				      err) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	if (runtime_container_create(&d->rt, &opts, pid, err) < 0)
		goto out;
	s->created = true;
	if (runtime_container_start(&d->rt, c->id, err) < 0)
		goto out;
	ret = 0;
out:
	daemon_user_clear(&user);
	return ret;
}

/* Starts C, in the caller (O NULL) or under a shim. */
static int start(struct daemon *d, struct daemon_container *c, const struct daemon_start_opts *o,
		 pid_t *pid_out, pid_t *shim_out, int *end_fd_out, struct berr **err)
{
	_cleanup_(start_ctx_release) struct start_ctx s = { .exit_code = DAEMON_EXIT_UNKNOWN };
	_cleanup_close_ int lock = -1;
	_cleanup_close_ int waiter = -1;
	_cleanup_close_ int end_fd = -1;
	_cleanup_free_ char *exit_file = NULL;
	char started[TIME_RFC3339_SIZE];
	pid_t pid = 0;

	lock = daemon_container_lock(d, c->id, err);
	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	if (daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "container %s is already running", c->id);
	if (o)
		daemon_cgroup_move_ahead(d);
	s.dir = daemon_container_dir(d, c->id);
	s.upper = str_printf("%s/upper", s.dir ? s.dir : "");
	s.work = str_printf("%s/work", s.dir ? s.dir : "");
	s.merged = str_printf("%s/merged", s.dir ? s.dir : "");
	s.log_path = daemon_container_log_path(s.dir ? s.dir : "", c->id);
	s.run_dir = daemon_container_run_dir(d, c->id);
	exit_file = str_printf("%s/" DAEMON_FILE_EXIT, s.run_dir ? s.run_dir : "");
	if (!s.dir || !s.upper || !s.work || !s.merged || !s.log_path || !s.run_dir || !exit_file)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "start container %s", c->id);
	if (fs_mkdir_p(s.run_dir, 0700, err) < 0)
		return berr_prefix(err, "start container %s", c->id);
	waiter = take_waiter(s.run_dir, c->id, err);
	if (waiter < 0)
		return -1;
	/* What a process killed before it recorded the end of a run left. */
	runtime_container_delete(&d->rt, c->id, true, NULL);
	/* The end of an earlier run is no longer this one's. */
	if (unlink(exit_file) < 0 && errno != ENOENT)
		return berr_set(err, BERR_INTERNAL, errno, "remove %s", exit_file);
	if (o)
		json_object_set_new(c->doc, "LogPath", json_string(s.log_path));
	time_now_rfc3339(started);
	if (start_steps(d, c, &s, o, waiter, &pid, shim_out, &end_fd, err) < 0) {
		start_undo(d, c->id, &s);
		daemon_state_set_error(c->doc, *err ? (*err)->msg : "", s.exit_code);
		daemon_container_save(d, c, NULL);
		return -1;
	}
	daemon_state_set_running(c->doc, pid, started);
	json_object_del(c->doc, MANUAL_STOP_KEY);
	if (daemon_container_save(d, c, err) < 0) {
		s.created = true;
		start_undo(d, c->id, &s);
		if (!o)
			waitpid(pid, NULL, 0);
		return berr_prefix(err, "start container %s", c->id);
	}
	/* Under a shim, the shim holds the waiter's lock (its copy). */
	if (!o) {
		if (c->waiter_fd >= 0)
			close(c->waiter_fd);
		c->waiter_fd = steal_fd(&waiter);
	}
	if (end_fd_out)
		*end_fd_out = steal_fd(&end_fd);
	*pid_out = pid;
	return 0;
}

int daemon_container_start(struct daemon *d, struct daemon_container *c, pid_t *pid,
			   struct berr **err)
{
	return start(d, c, NULL, pid, NULL, NULL, err);
}

int daemon_container_start_shim(struct daemon *d, struct daemon_container *c,
				const struct daemon_start_opts *o, pid_t *pid, pid_t *shim,
				int *end_fd, struct berr **err)
{
	return start(d, c, o, pid, shim, end_fd, err);
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return DAEMON_EXIT_LOST;
}

/* Records the end of C: WAIT_STATUS at FINISHED (NULL: now). */
static int record_end(struct daemon *d, struct daemon_container *c, int wait_status,
		      const char *finished, struct berr **err)
{
	_cleanup_free_ char *merged = NULL;
	_cleanup_berr_ struct berr *lerr = NULL;
	_cleanup_berr_ struct berr *removal_err = NULL;
	/* Released on the way out: the end is recorded, or was by whoever
	 * removed the container. */
	_cleanup_close_ int waiter = steal_fd(&c->waiter_fd);
	_cleanup_close_ int lock = -1;
	struct runtime_state *st = NULL;
	bool oom = false;

	(void)waiter; /* only held */
	/* Removed meanwhile (rm -f): nothing is left to record. */
	lock = daemon_container_lock(d, c->id, &lerr);
	if (lock < 0 || daemon_container_reload_recorded(d, c, &lerr) < 0) {
		if (lerr->kind == BERR_NOT_FOUND) {
			c->removed = true;
			return 0;
		}
		berr_move(err, &lerr);
		return -1;
	}
	if (runtime_container_state(&d->rt, c->id, &st, NULL) == 0) {
		oom = st->oom_killed;
		runtime_state_free(st);
	}
	daemon_state_set_exited(c->doc, exit_code_of(wait_status), oom, finished);
	/* Removed as --rm asks: the removal is the record.  One that fails
	 * leaves the end recorded as for any other container. */
	if (json_is_true(json_object_get(json_object_get(c->doc, "HostConfig"), "AutoRemove"))) {
		if (daemon_container_remove_held(d, c, &lock, true, &lerr) == 0 ||
		    lerr->kind == BERR_NOT_FOUND) {
			c->removed = true;
			return 0;
		}
		removal_err = steal_ptr(&lerr);
	}
	/* The end is recorded before the clean-up, which can take a while
	 * (unmounting an overlay syncs its upper dir); the lock keeps a new
	 * start out until the clean-up is done. */
	if (daemon_container_save(d, c, &lerr) < 0 && lerr->kind != BERR_NOT_FOUND) {
		berr_move(err, &lerr);
		return -1;
	}
	berr_clear(&lerr);
	if (runtime_container_delete(&d->rt, c->id, true, &lerr) < 0 &&
	    lerr->kind != BERR_NOT_FOUND)
		blog_warn("container %s: %s", c->id, lerr->msg);
	berr_clear(&lerr);
	merged = str_printf("%s/%s/merged", d->containers_root, c->id);
	if (merged && image_unmount(merged, &lerr) < 0 && lerr->kind != BERR_NOT_FOUND)
		blog_warn("container %s: %s", c->id, lerr->msg);
	if (removal_err) {
		berr_move(err, &removal_err);
		return -1;
	}
	return 0;
}

int daemon_container_exited(struct daemon *d, struct daemon_container *c, int wait_status,
			    struct berr **err)
{
	return record_end(d, c, wait_status, NULL, err);
}

int daemon_container_exited_shim(struct daemon *d, struct daemon_container *c, struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_run_dir(d, c->id);
	_cleanup_free_ char *finished = NULL;
	int status = W_EXITCODE(DAEMON_EXIT_LOST, 0);
	bool found = false;

	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", c->id);
	if (daemon_shim_exit_record(dir, &found, &status, &finished, err) < 0)
		return -1;
	return record_end(d, c, status, finished, err);
}

pid_t daemon_container_shim_pid(const struct daemon_container *c)
{
	const json_t *state = json_object_get(c->doc, "State");
	pid_t pid = (pid_t)json_integer_value(json_object_get(state, "Pid"));
	char path[64], buf[512], *p;
	_cleanup_close_ int fd = -1;
	int ppid = 0;
	ssize_t n;

	if (pid <= 0 || !daemon_container_is_running(c))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything but ends at
	 * the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1 || ppid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", ppid);
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strncmp(buf, "berth-shim", 10) == 0 ? (pid_t)ppid : 0;
}

int daemon_container_attach(struct daemon *d, const struct daemon_container *c,
			    const struct daemon_attach *a, const char *detach_keys,
			    struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_run_dir(d, c->id);

	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "attach");
	return daemon_shim_attach(dir, a, detach_keys, err);
}

int daemon_container_resize(struct daemon *d, const struct daemon_container *c, unsigned height,
			    unsigned width, struct berr **err)
{
	_cleanup_free_ char *dir = daemon_container_run_dir(d, c->id);

	if (!dir)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "resize");
	return daemon_shim_resize(dir, NULL, height, width, err);
}

int daemon_container_wait(struct daemon *d, struct daemon_container *c, pid_t pid, int *exit_code,
			  struct berr **err)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return berr_set(err, BERR_INTERNAL, errno, "wait for container %s", c->id);
	if (daemon_container_exited(d, c, status, err) < 0)
		return -1;
	if (exit_code)
		*exit_code = exit_code_of(status);
	return 0;
}

int daemon_container_set_restarting(struct daemon *d, struct daemon_container *c, int restarts,
				    struct berr **err)
{
	_cleanup_close_ int lock = daemon_container_lock(d, c->id, err);
	json_t *state;

	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	state = json_object_get(c->doc, "State");
	json_object_set_new(state, "Status", json_string("restarting"));
	json_object_set_new(state, "Restarting", json_true());
	json_object_set_new(c->doc, "RestartCount", json_integer(restarts));
	return daemon_container_save(d, c, err);
}

int daemon_container_pause(struct daemon *d, struct daemon_container *c, bool pause,
			   struct berr **err)
{
	_cleanup_close_ int lock = daemon_container_lock(d, c->id, err);
	json_t *state;
	bool paused;

	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	state = json_object_get(c->doc, "State");
	paused = json_is_true(json_object_get(state, "Paused"));
	if (!daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
	if (pause && paused)
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is already paused", c->id);
	if (!pause && !paused)
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not paused", c->id);
	if ((pause ? runtime_container_pause(&d->rt, c->id, err)
		   : runtime_container_resume(&d->rt, c->id, err)) < 0)
		return -1;
	json_object_set_new(state, "Paused", json_boolean(pause));
	json_object_set_new(state, "Status", json_string(pause ? "paused" : "running"));
	return daemon_container_save(d, c, err);
}

int daemon_container_kill(struct daemon *d, struct daemon_container *c, int signal, bool manual,
			  struct berr **err)
{
	if (!daemon_container_is_running(c))
		return berr_set(err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
	if (manual && daemon_container_set_manually_stopped(d, c, err) < 0)
		return -1;
	return runtime_container_kill(&d->rt, c->id, signal, false, err);
}

int daemon_container_set_manually_stopped(struct daemon *d, struct daemon_container *c,
					  struct berr **err)
{
	_cleanup_close_ int lock = daemon_container_lock(d, c->id, err);

	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	json_object_set_new(c->doc, MANUAL_STOP_KEY, json_true());
	return daemon_container_save(d, c, err);
}

bool daemon_container_manually_stopped(const struct daemon_container *c)
{
	return json_is_true(json_object_get(c->doc, MANUAL_STOP_KEY));
}

int daemon_container_rename(struct daemon *d, struct daemon_container *c, const char *name,
			    struct berr **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *full = NULL;

	if (name && name[0] == '/')
		name++;
	if (!name || !*name)
		return berr_set(err, BERR_INVALID, 0, "Neither old nor new names may be empty");
	if (daemon_name_validate(name, err) < 0)
		return -1;
	lock = daemon_container_lock(d, c->id, err);
	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	if (strcmp(c->name + 1, name) == 0)
		return berr_set(err, BERR_INVALID, 0,
				"Renaming a container with the same name as its current name");
	full = str_printf("/%s", name);
	if (!full || json_object_set_new(c->doc, "Name", json_string(full)) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "rename");
	text = jsontext_dump(c->doc);
	if (!text)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "rename");
	if (store_container_rename(d->db, c->id, name, text, err) < 0)
		return -1;
	free(c->name);
	c->name = steal_ptr(&full);
	return 0;
}

int daemon_container_record_probe(struct daemon *d, const char *id, const json_t *probe,
				  int retries, bool in_start_period, const char **status,
				  bool *changed, struct berr **err)
{
	_cleanup_free_ char *before = NULL;
	_cleanup_(daemon_container_free_cleanup) struct daemon_container *c = NULL;
	_cleanup_close_ int lock = -1;
	json_t *state, *health, *log;
	int64_t streak;
	bool ok = json_integer_value(json_object_get(probe, "ExitCode")) == 0;

	if (daemon_container_lookup(d, id, &c, err) < 0)
		return -1;
	lock = daemon_container_lock(d, c->id, err);
	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	state = json_object_get(c->doc, "State");
	health = json_object_get(state, "Health");
	if (!json_is_object(health)) {
		health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0,
				   "Log");
		if (!health || json_object_set_new(state, "Health", health) < 0)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "health");
	}
	before = strdup(json_string_value(json_object_get(health, "Status")) ?: "");
	streak = json_integer_value(json_object_get(health, "FailingStreak"));
	if (ok) {
		streak = 0;
		json_object_set_new(health, "Status", json_string("healthy"));
	} else if (!in_start_period) {
		/* Failures in the start period do not count, as in Docker. */
		streak++;
		if (streak >= retries)
			json_object_set_new(health, "Status", json_string("unhealthy"));
	}
	json_object_set_new(health, "FailingStreak", json_integer(streak));
	log = json_object_get(health, "Log");
	if (!json_is_array(log)) {
		log = json_array();
		json_object_set_new(health, "Log", log);
	}
	json_array_append(log, (json_t *)probe);
	/* Docker keeps the last five probes. */
	while (json_array_size(log) > 5)
		json_array_remove(log, 0);
	if (daemon_container_save(d, c, err) < 0)
		return -1;
	*status = json_string_value(json_object_get(health, "Status"));
	/* The status names a string constant of its own. */
	*status = strcmp(*status, "healthy") == 0     ? "healthy"
		  : strcmp(*status, "unhealthy") == 0 ? "unhealthy"
						      : "starting";
	*changed = !before || strcmp(before, *status) != 0;
	return 0;
}

int daemon_container_reset_health(struct daemon *d, struct daemon_container *c, struct berr **err)
{
	json_t *state = json_object_get(c->doc, "State");
	json_t *health =
		json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");

	if (!health || json_object_set_new(state, "Health", health) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "health");
	return daemon_container_save(d, c, err);
}

/* The members `docker update` may change. */
static const char *const update_members[] = {
	"Memory",   "MemorySwap", "MemoryReservation", "CpuShares", "CpuQuota",	   "CpuPeriod",
	"NanoCpus", "CpusetCpus", "CpusetMems",	       "PidsLimit", "BlkioWeight", "RestartPolicy",
	NULL,
};

/* The resources of HC for the runtime's update of a running container. */
static void resources_of(const json_t *hc, struct runtime_resources *r)
{
	int64_t nano = daemon_hc_int(hc, "NanoCpus");

	if (daemon_hc_int(hc, "Memory") > 0) {
		r->has_memory_limit = true;
		r->memory_limit = daemon_hc_int(hc, "Memory");
	}
	if (daemon_hc_int(hc, "MemorySwap") != 0) {
		r->has_memory_swap = true;
		r->memory_swap = daemon_hc_int(hc, "MemorySwap");
	}
	if (daemon_hc_int(hc, "MemoryReservation") > 0) {
		r->has_memory_reservation = true;
		r->memory_reservation = daemon_hc_int(hc, "MemoryReservation");
	}
	if (daemon_hc_int(hc, "CpuShares") > 0) {
		r->has_cpu_shares = true;
		r->cpu_shares = (uint64_t)daemon_hc_int(hc, "CpuShares");
	}
	if (nano > 0) {
		r->has_cpu_period = r->has_cpu_quota = true;
		r->cpu_period = 100000;
		r->cpu_quota = nano * 100000 / 1000000000;
	} else {
		r->has_cpu_quota = daemon_hc_int(hc, "CpuQuota") != 0;
		r->cpu_quota = daemon_hc_int(hc, "CpuQuota");
		r->has_cpu_period = daemon_hc_int(hc, "CpuPeriod") > 0;
		r->cpu_period = (uint64_t)daemon_hc_int(hc, "CpuPeriod");
	}
	if (daemon_hc_int(hc, "PidsLimit") != 0) {
		r->has_pids_limit = true;
		r->pids_limit = daemon_hc_int(hc, "PidsLimit");
	}
	if (daemon_hc_int(hc, "BlkioWeight") > 0) {
		r->has_blkio_weight = true;
		r->blkio_weight = (uint16_t)daemon_hc_int(hc, "BlkioWeight");
	}
	if (*daemon_hc_str(hc, "CpusetCpus"))
		r->cpuset_cpus = (char *)daemon_hc_str(hc, "CpusetCpus");
	if (*daemon_hc_str(hc, "CpusetMems"))
		r->cpuset_mems = (char *)daemon_hc_str(hc, "CpusetMems");
}

/* Whether the update body's member NAME (V) asks for a change: as in
 * Docker, a zero value (0, "", null, a restart policy without a name)
 * leaves the setting as it is, since clients send every member; a
 * PidsLimit is a change whenever it is a number. */
static bool update_given(const char *name, const json_t *v)
{
	if (!v || json_is_null(v))
		return false;
	if (strcmp(name, "PidsLimit") == 0)
		return json_is_integer(v);
	if (strcmp(name, "RestartPolicy") == 0) {
		const char *policy = json_string_value(json_object_get(v, "Name"));

		return policy && *policy;
	}
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_real(v))
		return json_real_value(v) != 0;
	if (json_is_string(v))
		return json_string_length(v) != 0;
	if (json_is_array(v))
		return json_array_size(v) != 0;
	return true;
}

int daemon_container_update(struct daemon *d, struct daemon_container *c, const json_t *body,
			    json_t **warnings, struct berr **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_json_ json_t *given = NULL;
	_cleanup_json_ json_t *hc = NULL;
	struct runtime_resources res = { 0 };

	if (!json_is_object(body))
		return berr_set(err, BERR_INVALID, 0, "update: expected a JSON object");
	lock = daemon_container_lock(d, c->id, err);
	if (lock < 0 || daemon_container_reload(d, c, err) < 0)
		return -1;
	/* The current HostConfig with the body's members over it, checked
	 * as a create checks it. */
	given = json_deep_copy(json_object_get(c->doc, "HostConfig"));
	*warnings = json_array();
	if (!given || !*warnings)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "update");
	for (size_t i = 0; update_members[i]; i++) {
		json_t *v = json_object_get(body, update_members[i]);

		if (!update_given(update_members[i], v))
			continue;
		if (strcmp(update_members[i], "RestartPolicy") == 0 &&
		    json_is_true(json_object_get(given, "AutoRemove")) &&
		    strcmp(json_string_value(json_object_get(v, "Name")), "no") != 0)
			return berr_set(err, BERR_INVALID, 0,
					"Cannot update container %s: Restart policy cannot be "
					"updated because AutoRemove is enabled for the container",
					c->id);
		json_object_set(given, update_members[i], v);
	}
	if (daemon_hostconfig_normalize(given, *warnings, &hc, err) < 0)
		return berr_prefix(err, "Cannot update container %s", c->id);
	if (daemon_container_is_running(c)) {
		resources_of(hc, &res);
		if (runtime_container_update(&d->rt, c->id, &res, err) < 0)
			return berr_prefix(err, "Cannot update container %s", c->id);
	}
	json_object_set(c->doc, "HostConfig", hc);
	return daemon_container_save(d, c, err);
}
