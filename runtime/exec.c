/* exec: a new process in a running container.  The runtime forks a stage
 * that joins the container's cgroup and every namespace of its init, then
 * forks the process itself as the runtime's child; that process takes the
 * container's seccomp filter and its own identity and capabilities. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/unixsock.h"
#include "runtime/internal.h"
#include "runtime/seccomp.h"
#include "runtime/terminal.h"

static char **strv_copy(char *const *v)
{
	size_t n = 0;
	char **copy;

	while (v && v[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		copy[i] = strdup(v[i]);
		if (copy[i] == NULL) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			return NULL;
		}
	}
	return copy;
}

int runtime_exec_process_from(const struct runtime_config *cfg, const char *id, char *const *args,
			      struct runtime_process **out, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	struct runtime_process *proc;

	if (runtime_record_load(cfg, id, &rec, err) < 0 || runtime_record_load_spec(rec, err) < 0)
		return -1;
	/* Take the container's process and change what exec gives anew. */
	proc = steal_ptr(&rec->spec->process);
	for (char **a = proc->args; a && *a; a++)
		free(*a);
	free(proc->args);
	proc->args = strv_copy(args);
	proc->terminal = false;
	if (proc->args == NULL) {
		runtime_process_free(proc);
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec");
	}
	*out = proc;
	return 0;
}

/* In the forked stage: never returns; the process it forks continues in
 * exec_child. */
__attribute__((noreturn)) static void exec_child(const struct runtime_exec_opts *opts,
						 struct runtime_stage *stage,
						 struct runtime_seccomp_filter *seccomp,
						 const struct runtime_seccomp_handoff *handoff,
						 int console_fd)
{
	struct berr *err = NULL;

	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (runtime_stage_run(stage, &err) < 0)
		goto fail;
	/* Now in every namespace of the container, a child of the runtime. */
	if (runtime_sync_expect(stage->sync_fd, RUNTIME_SYNC_GO, NULL, "the runtime", &err) < 0)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, 0);
	runtime_process_finish(opts->process, seccomp, handoff, console_fd,
			       runtime_setgroups_allowed(), opts->preserve_fds, &err);
fail:
	/* The sync socket is close-on-exec: reaching here means no exec. */
	runtime_sync_send_error(stage->sync_fd, err);
	_exit(err && err->kind == BERR_NOT_FOUND   ? 127
	      : err && err->kind == BERR_FORBIDDEN ? 126
						   : 1);
}

/* REC's spec and its seccomp program (*seccomp, NULL without one),
 * through the program cache. */
static int load_spec(const struct runtime_config *cfg, struct runtime_record *rec,
		     struct runtime_seccomp_filter **seccomp, struct berr **err)
{
	_cleanup_free_ char *cache =
		str_printf("%s/" RUNTIME_SECCOMP_CACHE_DIR, runtime_config_root(cfg));
	_cleanup_free_ char *path = str_printf("%s/%s", rec->dir, RUNTIME_CONFIG_FILE);
	_cleanup_free_ char *text = NULL;
	struct runtime_spec *spec = NULL;
	size_t len = 0;

	if (cache == NULL || path == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container %s", rec->id);
	if (fs_read_file(path, RUNTIME_SPEC_MAX_SIZE, &text, &len, err) < 0 ||
	    runtime_config_parse_cached(text, len, cache, &spec, seccomp, err) < 0)
		return berr_prefix(err, "load container %s", rec->id);
	if (runtime_record_set_spec(rec, spec) < 0)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "load container %s", rec->id);
	return 0;
}

int runtime_container_exec(const struct runtime_config *cfg, const char *id,
			   const struct runtime_exec_opts *opts, pid_t *pid_out, struct berr **err)
{
	_cleanup_(runtime_record_free_cleanup) struct runtime_record *rec = NULL;
	_cleanup_(runtime_cgroup_free_cleanup) struct runtime_cgroup *cg = NULL;
	_cleanup_(runtime_seccomp_filter_free_cleanup) struct runtime_seccomp_filter *seccomp =
		NULL;
	_cleanup_close_ int console_fd = -1;
	_cleanup_close_ int sync_fd = -1;
	_cleanup_(runtime_seccomp_handoff_release) struct runtime_seccomp_handoff handoff = {
		.sock = -1
	};
	struct runtime_stage stage = { .sync_fd = -1 };
	enum runtime_status status;
	pid_t stage_pid, child = 0;
	int32_t child_pid = 0;
	int sp[2];
	int ret = -1;

	if (runtime_record_load(cfg, id, &rec, err) < 0 || load_spec(cfg, rec, &seccomp, err) < 0 ||
	    runtime_record_cgroup(rec, &cg, err) < 0)
		return -1;
	status = runtime_record_status(rec, cg);
	if (status == RUNTIME_STATUS_STOPPED)
		return berr_set(err, BERR_CONFLICT, 0, "cannot exec in a stopped container");
	if (status == RUNTIME_STATUS_PAUSED)
		return berr_set(err, BERR_CONFLICT, 0, "cannot exec in a paused container");
	if (opts->process->args == NULL || opts->process->args[0] == NULL)
		return berr_set(err, BERR_INVALID, 0, "exec: no command given");
	if (opts->process->terminal) {
		if (opts->console_socket == NULL)
			return berr_set(err, BERR_INVALID, 0,
					"exec --tty needs a --console-socket");
		console_fd = unixsock_connect(opts->console_socket, err);
		if (console_fd < 0)
			return berr_prefix(err, "console socket");
	}
	/* The state names the container's init: the new process has no pid
	 * until the stage forks it, inside the container's namespaces. */
	if (runtime_seccomp_handoff_prepare(&handoff, rec->spec, rec->id, RUNTIME_STATUS_RUNNING,
					    rec->pid, rec->bundle, err) < 0)
		return -1;
	if (runtime_ns_open_of_pid(rec->pid, stage.ns_fds, err) < 0)
		return -1;
	/* The namespaces belong to the init we checked: if it died in
	 * between, its pid could be someone else's by now. */
	if (!runtime_pid_alive(rec->pid, rec->pid_start)) {
		runtime_ns_close_all(stage.ns_fds);
		return berr_set(err, BERR_CONFLICT, 0, "cannot exec in a stopped container");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		runtime_ns_close_all(stage.ns_fds);
		return berr_set(err, BERR_INTERNAL, errno, "socketpair");
	}
	stage.sync_fd = sp[1];
	stage_pid = fork();
	if (stage_pid < 0) {
		close(sp[0]);
		close(sp[1]);
		runtime_ns_close_all(stage.ns_fds);
		return berr_set(err, BERR_INTERNAL, errno, "fork");
	}
	if (stage_pid == 0) {
		close(sp[0]);
		exec_child(opts, &stage, seccomp, &handoff, console_fd);
	}
	close(sp[1]);
	sync_fd = sp[0];
	runtime_ns_close_all(stage.ns_fds);

	if (runtime_cgroup_add_pid(cg, stage_pid, err) < 0)
		goto fail;
	if (runtime_sync_send(sync_fd, RUNTIME_SYNC_GO, 0, NULL) < 0 ||
	    runtime_sync_expect(sync_fd, RUNTIME_SYNC_PID, &child_pid, "the exec process", err) < 0)
		goto fail;
	child = child_pid;
	waitpid(stage_pid, NULL, 0);
	stage_pid = 0;
	if (runtime_sync_send(sync_fd, RUNTIME_SYNC_GO, 0, NULL) < 0) {
		berr_set(err, BERR_INTERNAL, errno, "exec");
		goto fail;
	}
	/* The socket closes on a successful execve; a message means failure. */
	if (runtime_sync_expect_eof(sync_fd, "exec", err) == 0) {
		if (opts->pid_file) {
			char text[32];
			int n = snprintf(text, sizeof(text), "%d", (int)child);

			if (fs_write_file_replace(opts->pid_file, text, (size_t)n, 0644, err) < 0)
				goto fail;
		}
		if (pid_out)
			*pid_out = child;
		return 0;
	}
	/* The process reported an error and exits; reap it. */
	if (child > 0)
		waitpid(child, NULL, 0);
	child = 0;
fail:
	if (stage_pid > 0) {
		kill(stage_pid, SIGKILL);
		waitpid(stage_pid, NULL, 0);
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	berr_prefix(err, "exec in container %s", id);
	return ret;
}
