/* The container's init: the process that the stage forked into the new
 * namespaces.  It builds the root file system, reports "created", waits on
 * the exec fifo until `start`, and then becomes the user's process.  The
 * same finishing steps serve processes started by exec. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/unixsock.h"
#include "runtime/hooks.h"
#include "runtime/internal.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/terminal.h"

bool runtime_setgroups_allowed(void)
{
	char buf[16] = "";
	_cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return true;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		return true;
	return strncmp(buf, "deny", 4) != 0;
}

/* Handlers and the mask are inherited through exec: the user's process must
 * start with neither the runtime's blocked signals nor its ignored ones. */
static void reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t all;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

int runtime_seccomp_handoff_prepare(struct runtime_seccomp_handoff *handoff,
				    const struct runtime_spec *spec, const char *id,
				    enum runtime_status status, pid_t pid, const char *bundle,
				    struct berr **err)
{
	handoff->sock = -1;
	handoff->state = NULL;
	if (spec->seccomp == NULL || spec->seccomp->listener_path == NULL)
		return 0;
	handoff->state = runtime_listener_state_json(spec, id, status, pid, bundle);
	if (handoff->state == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "seccomp listener state");
	handoff->sock = unixsock_connect(spec->seccomp->listener_path, err);
	if (handoff->sock < 0) {
		free(steal_ptr(&handoff->state));
		return berr_prefix(err, "seccomp listenerPath");
	}
	return 0;
}

void runtime_seccomp_handoff_release(struct runtime_seccomp_handoff *handoff)
{
	if (handoff->sock >= 0)
		close(handoff->sock);
	handoff->sock = -1;
	free(steal_ptr(&handoff->state));
}

/* Sends the notification fd of the filter just loaded to its listener. */
static int hand_off_listener(int listener, const struct runtime_seccomp_handoff *handoff,
			     struct berr **err)
{
	int ret = 0;

	if (listener < 0)
		return 0;
	if (handoff != NULL && handoff->sock >= 0)
		ret = runtime_seccomp_send_listener(handoff->sock, listener, handoff->state, err);
	close(listener);
	return ret;
}

int runtime_process_finish(const struct runtime_process *proc,
			   struct runtime_seccomp_filter *seccomp,
			   const struct runtime_seccomp_handoff *handoff, int console_fd,
			   bool setgroups_allowed, int preserve_fds, struct berr **err)
{
	int listener = -1;

	if (console_fd >= 0) {
		if (runtime_terminal_setup(console_fd, proc->console_width, proc->console_height,
					   err) < 0)
			return -1;
		close(console_fd);
	}
	if (runtime_process_apply_limits(proc, err) < 0)
		return -1;
	reset_signals();
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which
	 * the identity change may drop: load it first.  With it, load as late
	 * as possible so the filter does not see the runtime's own calls. */
	if (seccomp != NULL && !proc->no_new_privileges &&
	    (runtime_seccomp_load(seccomp, &listener, err) < 0 ||
	     hand_off_listener(listener, handoff, err) < 0))
		return -1;
	if (runtime_process_apply_identity(proc, setgroups_allowed, err) < 0)
		return -1;
	if (runtime_process_enter_cwd(proc, err) < 0)
		return -1;
	if (runtime_process_close_fds(preserve_fds, err) < 0)
		return -1;
	if (seccomp != NULL && proc->no_new_privileges &&
	    (runtime_seccomp_load(seccomp, &listener, err) < 0 ||
	     hand_off_listener(listener, handoff, err) < 0))
		return -1;
	return runtime_process_exec(proc, err);
}

/* Exit status for a process that could not become the user's process,
 * as a shell would report it. */
static int failure_status(const struct berr *err)
{
	if (err == NULL)
		return 1;
	if (err->kind == BERR_NOT_FOUND)
		return 127;
	if (err->kind == BERR_FORBIDDEN)
		return 126;
	return 1;
}

static int set_names(const struct runtime_spec *spec, struct berr **err)
{
	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return berr_set(err, BERR_INVALID, errno, "set hostname \"%s\"", spec->hostname);
	if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return berr_set(err, BERR_INVALID, errno, "set domainname \"%s\"",
				spec->domainname);
	return 0;
}

/* A seed's start: its mount namespace is new already.  The mounts show
 * its cgroup, so they wait for the runtime's word that the cgroup is the
 * container's (and so does a cgroup namespace). */
static int seed_begin(const struct runtime_init_args *a, struct berr **err)
{
	int32_t same_cgroup = 0;

	if (runtime_sync_expect(a->sync_fd, RUNTIME_SYNC_GO, &same_cgroup, "the cgroup", err) < 0)
		return -1;
	runtime_rootfs_use_kept_cgroups(same_cgroup == 1);
	if (a->spec->namespaces[RUNTIME_NS_CGROUP].enabled && unshare(CLONE_NEWCGROUP) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "create the cgroup namespace");
	return 0;
}

/* Everything up to "created"; errors go back to the runtime.  *FIFO_FD is
 * the exec fifo, opened here for a seed. */
static int init_create(const struct runtime_init_args *a, int32_t *host_pid_out, int *fifo_fd,
		       struct runtime_seccomp_handoff *handoff, struct berr **err)
{
	const struct runtime_spec *spec = a->spec;
	struct runtime_rootfs_opts ropts = {
		.rootfs = a->rootfs,
		.bundle = a->bundle,
		.in_user_ns = a->new_user_ns || spec->namespaces[RUNTIME_NS_USER].enabled,
		.new_cgroup_ns = spec->namespaces[RUNTIME_NS_CGROUP].enabled,
		.no_pivot = a->opts->no_pivot,
	};
	_cleanup_free_ char *state = NULL;
	int32_t host_pid = 0;

	if (a->seeded) {
		host_pid = a->host_pid;
		if (seed_begin(a, err) < 0)
			return -1;
	} else if (runtime_sync_expect(a->sync_fd, RUNTIME_SYNC_GO, &host_pid, "the runtime", err) <
		   0) {
		return -1;
	}
	*host_pid_out = host_pid;
	if (set_names(spec, err) < 0)
		return -1;
	blog_debug("init: preparing the root file system");
	if (runtime_rootfs_prepare(spec, &ropts, err) < 0)
		return -1;
	/* prestart and createRuntime hooks run in the runtime's namespaces. */
	if (runtime_hooks_runtime_side(spec) &&
	    (runtime_sync_send(a->sync_fd, RUNTIME_SYNC_HOOKS, 0, NULL) < 0 ||
	     runtime_sync_expect(a->sync_fd, RUNTIME_SYNC_GO, NULL, "the createRuntime hooks",
				 err) < 0))
		return -1;
	/* The runtime made its state directory before its first GO. */
	if (*fifo_fd < 0) {
		*fifo_fd = open(a->fifo_path, O_RDWR | O_CLOEXEC);
		if (*fifo_fd < 0)
			return berr_set(err, BERR_INTERNAL, errno, "open %s", a->fifo_path);
	}
	state = runtime_hook_state_json(spec, a->id, RUNTIME_STATUS_CREATING, host_pid, a->bundle);
	if (state == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "hook state");
	if (runtime_hooks_run(&spec->hooks[RUNTIME_HOOK_CREATE_CONTAINER], state, err) < 0)
		return berr_prefix(err, "createContainer hook");
	/* The listener's path is on the host: connect while it is visible. */
	if (runtime_seccomp_handoff_prepare(handoff, spec, a->id, RUNTIME_STATUS_CREATED, host_pid,
					    a->bundle, err) < 0)
		return -1;
	blog_debug("init: pivoting");
	if (runtime_rootfs_pivot(spec, &ropts, err) < 0)
		return -1;
	blog_debug("init: finalizing the root file system");
	if (runtime_rootfs_finalize(spec, &ropts, err) < 0)
		return -1;
	if (a->console_fd >= 0) {
		if (runtime_terminal_setup(a->console_fd, spec->process->console_width,
					   spec->process->console_height, err) < 0)
			return -1;
		close(a->console_fd);
	}
	return 0;
}

void runtime_init_main(const struct runtime_init_args *a)
{
	const struct runtime_spec *spec = a->spec;
	struct berr *err = NULL;
	_cleanup_free_ char *state = NULL;
	struct runtime_seccomp_handoff handoff = { .sock = -1 };
	int32_t host_pid = 0;
	int fifo_fd = a->fifo_fd;
	char byte;
	ssize_t n;

	if (init_create(a, &host_pid, &fifo_fd, &handoff, &err) < 0) {
		runtime_sync_send_error(a->sync_fd, err);
		_exit(1);
	}
	/* Until the runtime has recorded the container, the init dies with it
	 * (nothing else would ever start or delete it); once recorded, the
	 * runtime may exit, and waits for our word that we no longer die
	 * with it. */
	if (runtime_sync_send(a->sync_fd, RUNTIME_SYNC_CREATED, 0, NULL) < 0 ||
	    runtime_sync_expect(a->sync_fd, RUNTIME_SYNC_GO, NULL, "the runtime", NULL) < 0)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, 0);
	if (runtime_sync_send(a->sync_fd, RUNTIME_SYNC_CREATED, 0, NULL) < 0)
		_exit(1);
	close(a->sync_fd);

	do
		n = read(fifo_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);
	/* The fifo stays open (close-on-exec): start waits for it to close,
	 * to run poststart hooks only once the process runs. */

	state = runtime_hook_state_json(spec, a->id, RUNTIME_STATUS_CREATED, host_pid, a->bundle);
	if (runtime_hooks_run(&spec->hooks[RUNTIME_HOOK_START_CONTAINER], state ? state : "{}",
			      &err) < 0) {
		berr_prefix(&err, "startContainer hook");
		goto fail;
	}
	runtime_process_finish(spec->process, a->seccomp, &handoff, -1, runtime_setgroups_allowed(),
			       a->opts->preserve_fds, &err);
fail:
	/* The runtime's log file, when there is one, and the container's
	 * stderr, which is what its user sees. */
	if (blog_fd() >= 0)
		blog_error("%s", err ? err->msg : "container process failed");
	dprintf(STDERR_FILENO, "berth-runc: %s\n", err ? err->msg : "container process failed");
	_exit(failure_status(err));
}
