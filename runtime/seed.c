/*
 * A container's process made ahead of its container (runtime_seed_make()):
 * what a create spends before the init can mount anything (forking the
 * stage, making the namespaces, moving into the cgroup, forking the init)
 * is done while nothing waits.  The seed then waits for its order: the
 * container's id, state root and bundle.  It reads the config itself, while
 * the runtime reads its own copy, so the two work side by side from there;
 * from the mount namespace on, it is an init as any other (init.c).
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/unixsock.h"
#include "runtime/internal.h"
#include "runtime/rootfs.h"

/* The namespaces of a seed, made ahead; a mount namespace comes with the
 * order (made then, it sees the container's root file system, mounted
 * since), a cgroup one when the config asks for it. */
#define SEED_NEW_FLAGS (CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID)

/* The order: the init's pid on the host, whether to pivot, and the id,
 * the state root and the bundle, each ending with a NUL. */
struct seed_order {
	int32_t host_pid;
	int32_t no_pivot;
	char text[3 * PATH_MAX];
};

bool runtime_seed_fits(const struct runtime_spec *spec, bool console)
{
	if (console || spec->process == NULL || spec->process->terminal)
		return false;
	for (int t = 0; t < RUNTIME_NS_COUNT; t++) {
		const struct runtime_namespace *ns = &spec->namespaces[t];
		bool made = t == RUNTIME_NS_PID || t == RUNTIME_NS_NETWORK ||
			    t == RUNTIME_NS_MOUNT || t == RUNTIME_NS_IPC || t == RUNTIME_NS_UTS;

		if (ns->path != NULL)
			return false;
		if (t != RUNTIME_NS_CGROUP && ns->enabled != made)
			return false;
	}
	return true;
}

void runtime_seed_discard(struct runtime_seed *seed)
{
	if (seed->pid > 0) {
		kill(seed->pid, SIGKILL);
		while (waitpid(seed->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (seed->sync_fd >= 0)
		close(seed->sync_fd);
	seed->pid = 0;
	seed->sync_fd = -1;
}

int runtime_seed_order(struct runtime_seed *seed, const struct runtime_config *cfg,
		       const struct runtime_create_opts *opts, const char *bundle)
{
	struct seed_order order = { .host_pid = seed->pid, .no_pivot = opts->no_pivot };
	const char *parts[] = { opts->id, runtime_config_root(cfg), bundle };
	/* What a forked init would inherit: the runtime's stdio. */
	static const int stdio[] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
	size_t len = 0;

	for (size_t i = 0; i < 3; i++) {
		size_t part = strlen(parts[i]) + 1;

		if (part > sizeof(order.text) - len)
			return -1;
		memcpy(order.text + len, parts[i], part);
		len += part;
	}
	return unixsock_send_fds(seed->sync_fd, stdio, 3, &order,
				 offsetof(struct seed_order, text) + len, NULL);
}

/* Reads the config of the ordered container as create does; the rest of
 * ARGS is the caller's. */
static int seed_load(const char *root, const char *bundle, struct runtime_init_args *args,
		     struct berr **err)
{
	_cleanup_free_ char *config_path = str_printf("%s/" RUNTIME_CONFIG_FILE, bundle);
	_cleanup_free_ char *text = NULL;
	struct runtime_spec *spec = NULL;
	size_t len;

	if (!config_path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "seed");
	if (runtime_config_load(config_path, root, &text, &len, &spec, &args->seccomp, err) < 0)
		return -1;
	args->spec = spec;
	/* The runtime checked it too, and took no seed unless it fits. */
	if (!runtime_seed_fits(spec, false))
		return berr_set(err, BERR_INTERNAL, 0, "the config wants namespaces of its own");
	args->rootfs = runtime_rootfs_real_path(spec, bundle, err);
	return args->rootfs ? 0 : -1;
}

/* The seed's life: waits for its order, then becomes the container's
 * init.  Never returns; exits when the order never comes. */
__attribute__((noreturn)) static void seed_main(int sync_fd)
{
	static struct seed_order order;
	static struct runtime_create_opts opts;
	struct runtime_init_args args = { .sync_fd = sync_fd, .fifo_fd = -1, .console_fd = -1 };
	const char *end, *root, *bundle;
	struct berr *err = NULL;
	int stdio[3];
	size_t n = 0, n_fds = 0;

	runtime_rootfs_keep_cgroup_mounts();
	runtime_rootfs_keep_dev();
	/* Given up (its standby ended, or the config did not fit). */
	if (unixsock_recv_fds(sync_fd, &order, sizeof(order), &n, stdio, 3, &n_fds, NULL) < 0)
		_exit(0);
	for (size_t i = 0; i < n_fds; i++) {
		if (dup2(stdio[i], (int)i) < 0)
			_exit(1);
		close(stdio[i]);
	}
	if (n_fds != 3 || n <= offsetof(struct seed_order, text)) {
		berr_set(&err, BERR_INTERNAL, 0, "seed: a malformed order");
		goto fail;
	}
	end = (const char *)&order + n;
	opts.id = order.text;
	root = opts.id + strnlen(opts.id, (size_t)(end - opts.id)) + 1;
	bundle = root < end ? root + strnlen(root, (size_t)(end - root)) + 1 : end;
	if (bundle >= end || memchr(bundle, '\0', (size_t)(end - bundle)) == NULL) {
		berr_set(&err, BERR_INTERNAL, 0, "seed: a malformed order");
		goto fail;
	}
	opts.bundle = bundle;
	opts.no_pivot = order.no_pivot != 0;
	args.opts = &opts;
	args.bundle = bundle;
	args.id = opts.id;
	args.seeded = true;
	args.host_pid = order.host_pid;
	args.fifo_path = str_printf("%s/%s/" RUNTIME_EXEC_FIFO, root, opts.id);
	if (!args.fifo_path) {
		berr_set(&err, BERR_INTERNAL, ENOMEM, "seed");
		goto fail;
	}
	if (seed_load(root, bundle, &args, &err) < 0)
		goto fail;
	if (unshare(CLONE_NEWNS) < 0) {
		berr_set(&err, BERR_INTERNAL, errno, "create the mount namespace");
		goto fail;
	}
	runtime_init_main(&args);
fail:
	runtime_sync_send_error(sync_fd, err);
	_exit(1);
}

int runtime_seed_make(const struct runtime_config *cfg, int netns_fd, const char *spare_cgroup,
		      struct runtime_seed *out, struct berr **err)
{
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cgroup = NULL;
	const char *root = runtime_config_cgroup_root(cfg);
	enum runtime_cgroup_mode mode;
	int32_t init_pid = 0;
	int sp[2], status;
	pid_t stage;

	out->pid = 0;
	out->sync_fd = -1;
	if (spare_cgroup && (runtime_cgroup_detect(root, &mode, err) < 0 ||
			     runtime_cgroup_open(root, mode, spare_cgroup, &cgroup, err) < 0))
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "seed: socketpair");
	stage = fork();
	if (stage < 0) {
		close(sp[0]);
		close(sp[1]);
		return berr_set(err, BERR_INTERNAL, errno, "seed: fork");
	}
	if (stage == 0) {
		struct runtime_stage st = { .sync_fd = sp[1], .new_flags = SEED_NEW_FLAGS };
		struct berr *cerr = NULL;

		close(sp[0]);
		/* As create's stage: nobody opens its files through /proc,
		 * and it does not outlive its standby. */
		prctl(PR_SET_DUMPABLE, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 0; i < RUNTIME_NS_COUNT; i++)
			st.ns_fds[i] = -1;
		st.ns_fds[RUNTIME_NS_NETWORK] = netns_fd;
		if (runtime_stage_run(&st, &cerr) < 0) {
			runtime_sync_send_error(sp[1], cerr);
			_exit(1);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Told apart from its standby in ps. */
		prctl(PR_SET_NAME, "berth-seed");
		seed_main(sp[1]);
	}
	close(sp[1]);
	/* The init is born in the cgroup: the stage waits for this GO. */
	if (cgroup && runtime_cgroup_add_pid(cgroup, stage, err) < 0)
		goto fail;
	if (runtime_sync_send(sp[0], RUNTIME_SYNC_GO, 0, NULL) < 0) {
		berr_set(err, BERR_INTERNAL, errno, "seed: start the stage");
		goto fail;
	}
	if (runtime_sync_expect(sp[0], RUNTIME_SYNC_PID, &init_pid, "the seed", err) < 0)
		goto fail;
	while (waitpid(stage, &status, 0) < 0 && errno == EINTR)
		;
	out->pid = (pid_t)init_pid;
	out->sync_fd = sp[0];
	return 0;
fail:
	kill(stage, SIGKILL);
	while (waitpid(stage, &status, 0) < 0 && errno == EINTR)
		;
	close(sp[0]);
	return -1;
}
