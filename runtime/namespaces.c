/* Namespaces: opening the ones to join, writing user namespace id maps, and
 * the stage process that puts the container's first process into all of
 * them in the only order the kernel allows (the user namespace first, so the
 * others belong to it; the pid namespace before the fork that enters it). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "runtime/internal.h"

void runtime_ns_close_all(int fds[RUNTIME_NS_COUNT])
{
	for (int i = 0; i < RUNTIME_NS_COUNT; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int runtime_ns_open_paths(const struct runtime_spec *spec, int fds[RUNTIME_NS_COUNT],
			  struct berr **err)
{
	for (int i = 0; i < RUNTIME_NS_COUNT; i++)
		fds[i] = -1;
	for (int i = 0; i < RUNTIME_NS_COUNT; i++) {
		const struct runtime_namespace *ns = &spec->namespaces[i];

		if (!ns->enabled || ns->path == NULL)
			continue;
		fds[i] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int saved = errno;

			runtime_ns_close_all(fds);
			return berr_set(err, saved == ENOENT ? BERR_NOT_FOUND : BERR_INVALID, saved,
					"open %s namespace %s", runtime_ns_type_name(i), ns->path);
		}
	}
	return 0;
}

/* The name of TYPE under /proc/PID/ns (which differs for two types). */
static const char *proc_ns_name(enum runtime_ns_type type)
{
	switch (type) {
	case RUNTIME_NS_NETWORK:
		return "net";
	case RUNTIME_NS_MOUNT:
		return "mnt";
	default:
		return runtime_ns_type_name(type);
	}
}

int runtime_ns_open_of_pid(pid_t pid, int fds[RUNTIME_NS_COUNT], struct berr **err)
{
	for (int i = 0; i < RUNTIME_NS_COUNT; i++)
		fds[i] = -1;
	for (int i = 0; i < RUNTIME_NS_COUNT; i++) {
		char theirs[64], ours[64];
		struct stat a, b;

		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, proc_ns_name(i));
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", proc_ns_name(i));
		if (stat(theirs, &a) < 0) {
			if (errno == ENOENT && i == RUNTIME_NS_TIME)
				continue; /* kernels without time namespaces */
			runtime_ns_close_all(fds);
			return berr_set(err, BERR_INTERNAL, errno, "stat %s", theirs);
		}
		if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		fds[i] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int saved = errno;

			runtime_ns_close_all(fds);
			return berr_set(err, BERR_INTERNAL, saved, "open %s", theirs);
		}
	}
	return 0;
}

int runtime_ns_join(int fd, enum runtime_ns_type type, struct berr **err)
{
	if (setns(fd, runtime_ns_clone_flag(type)) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "join %s namespace",
				runtime_ns_type_name(type));
	return 0;
}

int runtime_ns_new_flags(const struct runtime_spec *spec)
{
	int flags = 0;

	for (int i = 0; i < RUNTIME_NS_COUNT; i++)
		if (spec->namespaces[i].enabled && spec->namespaces[i].path == NULL)
			flags |= runtime_ns_clone_flag(i);
	return flags;
}

static int write_map(pid_t pid, const char *file, const struct runtime_id_mapping *maps, size_t n,
		     struct berr **err)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char line[96];
		int w = snprintf(line, sizeof(line), "%u %u %u\n", maps[i].container_id,
				 maps[i].host_id, maps[i].size);
		char *grown = realloc(text, len + (size_t)w + 1);

		if (grown == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "write %s", file);
		text = grown;
		memcpy(text + len, line, (size_t)w + 1);
		len += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (fs_write_string(path, text, err) < 0)
		return berr_prefix(err, "user namespace %s", file);
	return 0;
}

int runtime_ns_write_id_maps(pid_t pid, const struct runtime_spec *spec, struct berr **err)
{
	if (write_map(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, err) < 0)
		return -1;
	return write_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err);
}

/* The order of joining: user first (the rest is owned by it), mount last
 * but one so the paths of the others are still the caller's, pid before
 * the fork. */
static const enum runtime_ns_type join_order[] = {
	RUNTIME_NS_IPC,	 RUNTIME_NS_UTS, RUNTIME_NS_NETWORK, RUNTIME_NS_CGROUP,
	RUNTIME_NS_TIME, RUNTIME_NS_PID, RUNTIME_NS_MOUNT,
};

/* Brings up the loopback device of a new network namespace, as runc does:
 * a container without other networking still reaches its own services. */
static int loopback_up(struct berr **err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo" };

	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "read the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "bring up lo");
	return 0;
}

int runtime_spare_netns_make(void)
{
	_cleanup_close_ int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct berr *err = NULL;
	int fd = -1;

	if (own < 0 || unshare(CLONE_NEWNET) < 0)
		return -1;
	if (loopback_up(&err) == 0)
		fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	berr_free(err);
	/* Back where the caller was, or the namespace is not a spare. */
	if (setns(own, CLONE_NEWNET) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int runtime_stage_run(const struct runtime_stage *stage, struct berr **err)
{
	int new_flags = stage->new_flags;
	long child;

	if (stage->ns_fds[RUNTIME_NS_USER] >= 0 &&
	    runtime_ns_join(stage->ns_fds[RUNTIME_NS_USER], RUNTIME_NS_USER, err) < 0)
		return -1;
	if (new_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			return berr_set(err, BERR_INTERNAL, errno, "create user namespace");
		if (runtime_sync_send(stage->sync_fd, RUNTIME_SYNC_USERMAP, 0, NULL) < 0)
			return berr_set(err, BERR_INTERNAL, errno,
					"ask for the user namespace maps");
		if (runtime_sync_expect(stage->sync_fd, RUNTIME_SYNC_GO, NULL, "the id maps", err) <
		    0)
			return -1;
		/* Become root of the new namespace, so what follows is done
		 * with its full capabilities and files are owned by its root. */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return berr_set(err, BERR_INVALID, errno,
					"become root in the user namespace (is uid 0 mapped?)");
		new_flags &= ~CLONE_NEWUSER;
	}
	for (size_t i = 0; i < sizeof(join_order) / sizeof(join_order[0]); i++) {
		enum runtime_ns_type type = join_order[i];

		if (stage->ns_fds[type] >= 0 && runtime_ns_join(stage->ns_fds[type], type, err) < 0)
			return -1;
	}
	/* All but the cgroup namespace, while the runtime makes the cgroup:
	 * that one must start from the cgroup the runtime moves us into. */
	blog_debug("stage: creating namespaces 0x%x", new_flags);
	if ((new_flags & ~CLONE_NEWCGROUP) != 0 && unshare(new_flags & ~CLONE_NEWCGROUP) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "create namespaces (flags 0x%x)",
				new_flags & ~CLONE_NEWCGROUP);
	if ((new_flags & CLONE_NEWNET) && loopback_up(err) < 0)
		return -1;
	if (runtime_sync_expect(stage->sync_fd, RUNTIME_SYNC_GO, NULL, "the cgroup", err) < 0)
		return -1;
	if ((new_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "create the cgroup namespace");
	/* A fork-like clone: the final process becomes a child of the
	 * runtime, not of this stage, so the runtime can wait for it. */
	blog_debug("stage: forking the container process");
	child = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
	if (child < 0)
		return berr_set(err, BERR_INTERNAL, errno, "clone the container process");
	if (child == 0)
		return 0;
	if (runtime_sync_send(stage->sync_fd, RUNTIME_SYNC_PID, (int32_t)child, NULL) < 0)
		kill((pid_t)child, SIGKILL);
	_exit(0);
}
