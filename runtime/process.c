/* The last steps of a container process, in the order the kernel needs
 * them: limits while still root, then the user switch that keeps the
 * requested capabilities, the working directory (checked to be inside the
 * root), the closing of inherited fds, and execve with the spec's PATH. */
#include "runtime/process.h"
#include "runtime/caps_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"

/* What execvp and Docker use when the environment has no PATH. */
#define PROCESS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *rlimit_name(int resource, char *buf, size_t size)
{
	const char *name = runtime_rlimit_name(resource);

	if (name != NULL)
		return name;
	snprintf(buf, size, "rlimit %d", resource);
	return buf;
}

static const char *rlimit_value(uint64_t v, char *buf, size_t size)
{
	if (v == (uint64_t)RLIM_INFINITY)
		return "unlimited";
	snprintf(buf, size, "%" PRIu64, v);
	return buf;
}

static enum berr_kind kind_of_errno(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return BERR_FORBIDDEN;
	case EINVAL:
		return BERR_INVALID;
	case ENOENT:
		return BERR_NOT_FOUND;
	default:
		return BERR_INTERNAL;
	}
}

static int apply_rlimit(const struct runtime_rlimit *rl, struct berr **err)
{
	struct rlimit want = { .rlim_cur = (rlim_t)rl->soft, .rlim_max = (rlim_t)rl->hard };
	char name_buf[32], soft_buf[24], hard_buf[24], value[64];
	const char *name = rlimit_name(rl->resource, name_buf, sizeof(name_buf));
	struct rlimit now;
	int e;

	if (rl->soft == rl->hard)
		snprintf(value, sizeof(value), "%s",
			 rlimit_value(rl->hard, hard_buf, sizeof(hard_buf)));
	else
		snprintf(value, sizeof(value), "%s:%s",
			 rlimit_value(rl->soft, soft_buf, sizeof(soft_buf)),
			 rlimit_value(rl->hard, hard_buf, sizeof(hard_buf)));
	if (setrlimit((__rlimit_resource_t)rl->resource, &want) == 0)
		return 0;
	e = errno;
	/* Raising a hard limit needs CAP_SYS_RESOURCE, which this host keeps
	 * out of every bounding set: say so instead of a bare EPERM. */
	if (e == EPERM && getrlimit((__rlimit_resource_t)rl->resource, &now) == 0 &&
	    want.rlim_max > now.rlim_max)
		return berr_set(err, BERR_FORBIDDEN, e,
				"setrlimit %s %s: the hard limit cannot be raised above the "
				"current %s without CAP_SYS_RESOURCE",
				name, value,
				rlimit_value(now.rlim_max, hard_buf, sizeof(hard_buf)));
	if (e == EINVAL && rl->soft > rl->hard)
		return berr_set(err, BERR_INVALID, e,
				"setrlimit %s %s: soft limit above hard limit", name, value);
	return berr_set(err, kind_of_errno(e), e, "setrlimit %s %s", name, value);
}

static int write_oom_score_adj(int value, struct berr **err)
{
	_cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", value);

	if (fd < 0)
		return berr_set(err, kind_of_errno(errno), errno, "open /proc/self/oom_score_adj");
	if (fs_write_all(fd, buf, (size_t)n) < 0) {
		/* The kernel refuses to lower it without CAP_SYS_RESOURCE. */
		if (errno == EACCES || errno == EPERM)
			return berr_set(err, BERR_FORBIDDEN, errno,
					"set oom_score_adj to %d (lowering it needs "
					"CAP_SYS_RESOURCE)",
					value);
		return berr_set(err, kind_of_errno(errno), errno, "set oom_score_adj to %d", value);
	}
	return 0;
}

/* PROC is borrowed.  Sets BERR_FORBIDDEN for a limit or an oom_score_adj
 * this process may not set, BERR_INVALID for a soft limit above its hard
 * one, BERR_INTERNAL otherwise. */
int runtime_process_apply_limits(const struct runtime_process *proc, struct berr **err)
{
	for (size_t i = 0; i < proc->n_rlimits; i++) {
		if (apply_rlimit(&proc->rlimits[i], err) < 0)
			return -1;
	}
	if (proc->has_oom_score_adj && write_oom_score_adj(proc->oom_score_adj, err) < 0)
		return -1;
	if (proc->has_umask)
		umask(proc->umask & 0777);
	return 0;
}

/* PROC is borrowed.  Sets BERR_FORBIDDEN when the kernel refuses an id or a
 * capability (the message names the capabilities), BERR_INTERNAL otherwise. */
int runtime_process_apply_identity(const struct runtime_process *proc, bool setgroups_allowed,
				   struct berr **err)
{
	struct runtime_caps caps;

	/* The bounding set must shrink while CAP_SETPCAP is still effective,
	 * that is before the uid changes. */
	if (proc->caps.present) {
		if (runtime_caps_drop_bounding(proc->caps.bounding, err) < 0)
			return -1;
		caps = proc->caps;
	} else if (runtime_caps_get(&caps, err) < 0) {
		return -1;
	}

	/* Without KEEPCAPS, leaving uid 0 empties the permitted set and the
	 * requested capabilities could not be set again afterwards. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "prctl PR_SET_KEEPCAPS");
	if (setgroups_allowed &&
	    setgroups(proc->n_additional_gids,
		      proc->n_additional_gids ? proc->additional_gids : NULL) < 0)
		return berr_set(err, kind_of_errno(errno), errno, "setgroups");
	if (setresgid(proc->gid, proc->gid, proc->gid) < 0)
		return berr_set(err, kind_of_errno(errno), errno, "setresgid %u",
				(unsigned)proc->gid);
	if (setresuid(proc->uid, proc->uid, proc->uid) < 0)
		return berr_set(err, kind_of_errno(errno), errno, "setresuid %u",
				(unsigned)proc->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "prctl PR_SET_KEEPCAPS");

	/* The uid change emptied the effective and ambient sets; set all of
	 * them again, as asked or as they were. */
	if (runtime_caps_set(&caps, err) < 0)
		return -1;

	if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "prctl PR_SET_NO_NEW_PRIVS");
	return 0;
}

/* openat(2) for one path component that refuses magic links such as
 * /proc/self/fd/N, which could lead out of the root.  Kernels without
 * openat2 (before 5.6) get a plain openat. */
static int open_dir_component(int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* mkdir -p of the absolute PATH, one component at a time from "/" so that
 * nothing is created through a magic link outside the root. */
static int mkdir_in_root(const char *path, struct berr **err)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int dirfd = -1;
	char *save = NULL;

	if (copy == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mkdir %s", path);
	dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open /");
	for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(c, ".") == 0)
			continue;
		next = open_dir_component(dirfd, c);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(dirfd, c, 0755) < 0 && errno != EEXIST)
				return berr_set(err, kind_of_errno(errno), errno, "mkdir %s", c);
			next = open_dir_component(dirfd, c);
		}
		/* ELOOP: a magic link, the way out of the root this walk refuses. */
		if (next < 0)
			return berr_set(err, errno == ELOOP ? BERR_FORBIDDEN : kind_of_errno(errno),
					errno, "open %s", c);
		close(dirfd);
		dirfd = next;
	}
	return 0;
}

/* PROC is borrowed.  Sets BERR_FORBIDDEN for a cwd outside the root,
 * BERR_INVALID for a relative one, BERR_NOT_FOUND when it vanished. */
int runtime_process_enter_cwd(const struct runtime_process *proc, struct berr **err)
{
	const char *cwd = proc->cwd != NULL && proc->cwd[0] != '\0' ? proc->cwd : "/";
	char buf[PATH_MAX];

	if (cwd[0] != '/')
		return berr_set(err, BERR_INVALID, 0, "cwd %s is not an absolute path", cwd);
	if (chdir(cwd) < 0) {
		if (errno != ENOENT)
			return berr_set(err, kind_of_errno(errno), errno, "chdir to cwd %s", cwd);
		/* runc creates a missing cwd; images rely on it (WORKDIR). */
		if (mkdir_in_root(cwd, err) < 0)
			return berr_prefix(err, "create cwd %s", cwd);
		if (chdir(cwd) < 0)
			return berr_set(err, kind_of_errno(errno), errno, "chdir to cwd %s", cwd);
	}

	/* CVE-2024-21626: a cwd reached through an fd leaked from outside the
	 * root (/proc/self/fd/N) sits outside it.  The raw getcwd syscall
	 * says so with an "(unreachable)" prefix instead of a path from "/";
	 * glibc's wrapper would hide that behind ENOENT. */
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT)
			return berr_set(err, BERR_NOT_FOUND, errno, "cwd %s was removed", cwd);
		return berr_set(err, BERR_INTERNAL, errno, "getcwd");
	}
	if (buf[0] != '/' || strstr(buf, "(unreachable)") != NULL)
		return berr_set(err, BERR_FORBIDDEN, 0, "cwd %s is outside the container root",
				cwd);
	return 0;
}

/* close_range(2) with CLOSE_RANGE_CLOEXEC needs Linux 5.11; before that,
 * walk /proc/self/fd. */
static int cloexec_from_proc(int first, struct berr **err)
{
	_cleanup_closedir_ DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (dir == NULL)
		return berr_set(err, BERR_INTERNAL, errno, "open /proc/self/fd");
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long fd;
		int flags;

		errno = 0;
		fd = strtol(de->d_name, &end, 10);
		if (errno != 0 || end == de->d_name || *end != '\0')
			continue;
		if (fd < first || fd == dirfd(dir) || fd > INT_MAX)
			continue;
		flags = fcntl((int)fd, F_GETFD);
		if (flags < 0) {
			if (errno == EBADF)
				continue;
			return berr_set(err, BERR_INTERNAL, errno, "fcntl fd %ld", fd);
		}
		if (!(flags & FD_CLOEXEC) && fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "set close-on-exec on fd %ld",
					fd);
	}
	return 0;
}

/* Sets BERR_INVALID for a negative PRESERVE_FDS, BERR_INTERNAL otherwise. */
int runtime_process_close_fds(int preserve_fds, struct berr **err)
{
	unsigned int first;

	if (preserve_fds < 0 || preserve_fds > INT_MAX - 3)
		return berr_set(err, BERR_INVALID, 0, "invalid number of preserved fds %d",
				preserve_fds);
	first = 3 + (unsigned int)preserve_fds;
	if (close_range(first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return berr_set(err, BERR_INTERNAL, errno, "close_range");
	return cloexec_from_proc((int)first, err);
}

static const char *env_lookup(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return env[i] + len + 1;
	}
	return NULL;
}

/* As Go's exec.LookPath, which runc uses: a regular file with an execute
 * bit; whether this user may run it is execve's to say. */
static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

static int exec_failed(const char *name, int e, struct berr **err)
{
	switch (e) {
	case ENOENT:
		return berr_set(err, BERR_NOT_FOUND, e, "exec: \"%s\"", name);
	case EACCES:
	case EPERM:
		return berr_set(err, BERR_FORBIDDEN, e, "exec: \"%s\"", name);
	case ENOEXEC:
		return berr_set(err, BERR_INVALID, e, "exec: \"%s\"", name);
	default:
		return berr_set(err, BERR_INTERNAL, e, "exec: \"%s\"", name);
	}
}

/* PROC is borrowed.  Sets BERR_NOT_FOUND, BERR_FORBIDDEN, BERR_INVALID (empty
 * args, ENOEXEC) or BERR_INTERNAL. */
int runtime_process_exec(const struct runtime_process *proc, struct berr **err)
{
	static char *const no_env[] = { NULL };
	char *const *env = proc->env != NULL ? proc->env : no_env;
	_cleanup_free_ char *search = NULL;
	const char *name, *path;
	char *save = NULL;

	if (proc->args == NULL || proc->args[0] == NULL || proc->args[0][0] == '\0')
		return berr_set(err, BERR_INVALID, 0, "process args must not be empty");
	name = proc->args[0];
	if (strchr(name, '/') != NULL) {
		execve(name, proc->args, env);
		return exec_failed(name, errno, err);
	}

	path = env_lookup(env, "PATH");
	search = strdup(path != NULL ? path : PROCESS_DEFAULT_PATH);
	if (search == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "exec: \"%s\"", name);
	/* strtok_r would skip empty elements, which mean "." in PATH. */
	for (char *dir = search; dir != NULL; dir = save) {
		_cleanup_free_ char *full = NULL;

		save = strchr(dir, ':');
		if (save != NULL)
			*save++ = '\0';
		full = str_printf("%s/%s", dir[0] != '\0' ? dir : ".", name);
		if (full == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "exec: \"%s\"", name);
		if (!is_executable_file(full))
			continue;
		execve(full, proc->args, env);
		return exec_failed(full, errno, err);
	}
	return berr_set(err, BERR_NOT_FOUND, 0, "exec: \"%s\": executable file not found in $PATH",
			name);
}
