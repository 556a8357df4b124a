/* Helpers for the rootfs and devices tests: a forked child in its own mount
 * namespace (with "/" made a recursive slave first, so nothing it mounts
 * reaches the host), checks that end that child with a message, and a tiny
 * busybox root file system in a temporary directory. */
#ifndef BERTH_TESTS_ROOTFS_TESTUTIL_H
#define BERTH_TESTS_ROOTFS_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/berr.h"
#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "tests/unit/child_testutil.h"

/* Runs FN(ARG) in a child that has unshared EXTRA namespaces and a mount
 * namespace whose "/" is a recursive slave; returns the child's exit
 * status (0 when FN returned 0), or -1 when it did not exit normally. */
static inline int run_in_mount_ns(int (*fn)(void *), void *arg, int extra)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS | extra) < 0) {
			perror("unshare");
			_exit(2);
		}
		if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			perror("make / rslave");
			_exit(2);
		}
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int testutil_copy_file(const char *from, const char *to, mode_t mode)
{
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0;

	if (fs_read_file(from, 64 * 1024 * 1024, &data, &len, &err) < 0)
		return -1;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fs_write_all(fd, data, len) < 0)
		return -1;
	return 0;
}

/* DIR gets /bin/busybox (from the host's busybox-static) with /bin/sh, and
 * the usual empty top-level directories. */
static inline int testutil_make_busybox_rootfs(const char *dir)
{
	static const char *const dirs[] = { "bin", "dev", "etc", "proc", "sys", "tmp" };
	_cleanup_free_ char *bb = str_printf("%s/bin/busybox", dir);
	_cleanup_free_ char *sh = str_printf("%s/bin/sh", dir);

	if (bb == NULL || sh == NULL || mkdir(dir, 0755) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		_cleanup_free_ char *d = str_printf("%s/%s", dir, dirs[i]);

		if (d == NULL || mkdir(d, 0755) < 0)
			return -1;
	}
	if (testutil_copy_file("/bin/busybox", bb, 0755) < 0 || symlink("busybox", sh) < 0)
		return -1;
	return 0;
}

/* Writes DATA to the new file PATH. */
static inline int testutil_write(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || fs_write_all(fd, data, strlen(data)) < 0)
		return -1;
	return 0;
}

/* Number of entries in DIR other than "." and "..", or -1. */
static inline int testutil_count_entries(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	return n;
}

#endif
