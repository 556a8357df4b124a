/* Paths resolved inside a root directory, so that nothing in the tree ("..",
 * absolute symlinks, relative symlinks that climb) leads out of it.  The
 * container's rootfs is the main user: mount destinations and device nodes
 * are found through here, never by joining strings onto a host path. */
#ifndef BERTH_LIB_SAFEPATH_H
#define BERTH_LIB_SAFEPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "berr.h"

/* Room for "/proc/self/fd/" and any int. */
#define SAFEPATH_FD_PATH_MAX 32

/* Symlinks followed in one resolution before it fails, as the kernel's
 * own limit. */
#define SAFEPATH_MAX_SYMLINKS 40

/* Opens PATH inside the directory ROOTFD as if ROOTFD were "/": absolute and
 * relative paths both start at ROOTFD, ".." never climbs above it, symlinks
 * are resolved inside it and magic links (/proc/self/fd/N...) are refused.
 * FLAGS are open(2) flags without O_CREAT: O_PATH for a reference,
 * O_RDONLY|O_DIRECTORY, O_WRONLY...; O_CLOEXEC is always added.  Returns a
 * new fd that the caller owns.  Sets BERR_NOT_FOUND when a component is
 * missing, BERR_INVALID for a bad flag, a non-directory in the middle or a
 * symlink loop, BERR_FORBIDDEN for EACCES/EPERM, BERR_INTERNAL otherwise. */
int safepath_open(int rootfd, const char *path, int flags, struct berr **err);

/* mkdir -p of PATH inside ROOTFD: every missing component is made with
 * mkdirat() relative to its parent, itself already resolved inside the
 * root, with MODE (less the umask).  Symlinks on the way, dangling ones
 * included, are followed inside the root.  Returns an O_PATH fd of the
 * directory that the caller owns.  Sets the kinds of safepath_open(). */
int safepath_mkdir_p(int rootfd, const char *path, mode_t mode, struct berr **err);

/* Makes the parents of PATH as safepath_mkdir_p() does (0755) and an empty
 * regular file with MODE at PATH when nothing is there; an object already
 * there, of any type, is kept.  This is the target of a bind mount whose
 * source is a file.  Returns an O_PATH fd that the caller owns.  Sets the
 * kinds of safepath_open(). */
int safepath_create_file(int rootfd, const char *path, mode_t mode, struct berr **err);

/* Writes "/proc/self/fd/FD" into BUF of SIZE bytes (SAFEPATH_FD_PATH_MAX is
 * enough): the name under which mount(2) reaches the very object FD was
 * resolved to.  Sets BERR_INVALID for a negative fd or a short buffer. */
int safepath_fd_path(int fd, char *buf, size_t size, struct berr **err);

/* Lexical clean-up: "//a/./b/../c/" gives "/a/c", ".." at the top stays at
 * "/", a relative path becomes absolute.  Returns a new string that the
 * caller frees, or NULL (BERR_INTERNAL) when memory runs out. */
char *safepath_clean(const char *path, struct berr **err);

/* openat2(2) is used when the kernel has it; false forces the component
 * walk that serves older kernels, so both ways can be tested here. */
void safepath_set_openat2(bool enabled);

#endif
