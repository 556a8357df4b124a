/* File helpers: whole reads with a size bound, complete writes, atomic
 * replacement, recursive mkdir and removal.  All fds they open are
 * O_CLOEXEC and closed before they return. */
#ifndef BERTH_LIB_FSUTIL_H
#define BERTH_LIB_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "berr.h"

/* Reads FD to its end into a new NUL-terminated buffer that *out owns.
 * More than MAX bytes is BERR_INVALID; a read error is BERR_INTERNAL. */
int fs_read_all_fd(int fd, size_t max, char **out, size_t *len, struct berr **err);

/* Same for the file at PATH; a missing file is BERR_NOT_FOUND. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct berr **err);

/* Writes all LEN bytes, retrying short writes and EINTR.  Returns -1 with
 * errno set; no berr, as it is called where only errno can travel. */
int fs_write_all(int fd, const void *buf, size_t len);

/* Opens PATH (which must exist, e.g. a cgroup or /proc file) and writes
 * DATA in one write(2). */
int fs_write_string(const char *path, const char *data, struct berr **err);
/* The same relative to DIRFD. */
int fs_write_string_at(int dirfd, const char *name, const char *data, struct berr **err);

/* Replaces PATH with DATA through a temporary file, fsync and rename(2), so
 * readers see the old or the new content, never a part. */
int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct berr **err);

/* The same without the fsync: readers still see the old or the new
 * content, but a power loss may lose the write.  For state that does not
 * outlive the machine anyway (a runtime's state under /run), where an
 * fsync on a disk-backed /run would cost more than the rest of the work. */
int fs_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
			  struct berr **err);

/* mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode, struct berr **err);

/* Asks the file system to place the directories made in DIR away from
 * DIR's own neighbourhood (ext4's "top of hierarchy" flag; nothing where
 * there is no such thing).  On ext4 without a journal, making an inode
 * scans the inodes of its group freed in the last minutes: berth's busy
 * directories get a group of their own instead of, say, /tmp's. */
void fs_spread_subdirs(const char *dir);

/* rm -rf without following symlinks and without crossing mount points;
 * a missing PATH is fine. */
int fs_remove_tree(const char *path, struct berr **err);

bool fs_exists(const char *path);

/* asprintf that returns the new string or NULL. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

#endif
