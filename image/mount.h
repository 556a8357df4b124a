/* Container root file systems: an overlay mount of an image's unpacked
 * layers under a per-container upper and work directory, and the
 * directories each container gets for it.  Images of hundreds of layers
 * mount too, past the one-page limit of mount(2) options. */
#ifndef BERTH_IMAGE_MOUNT_H
#define BERTH_IMAGE_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/berr.h"
#include "lib/cleanup.h"

/* The kernel's own bound on the layers of one overlay (OVL_MAX_STACK). */
#define IMAGE_MOUNT_MAX_LAYERS 500

/* Longest container id accepted for a directory name. */
#define IMAGE_CONTAINER_ID_MAX 128

/* Mounts an overlay at TARGET made of LOWER_DIRS (N of them, the lowest
 * layer first, so the last one wins) with UPPER and WORK on top; all paths
 * are borrowed and must be absolute.  UPPER and WORK are both NULL for a
 * read-only mount, where one lower dir is bind-mounted read-only.  The
 * kernel's "lowerdir+" (new mount API, Linux 6.8) is used when it exists;
 * older kernels get mount(2), with the layer names made relative to their
 * common parent when the absolute ones do not fit in a page.  On failure
 * nothing is mounted.  Sets BERR_NOT_FOUND for a missing lower dir or
 * target (the message names it), BERR_INVALID for bad arguments, more than
 * IMAGE_MOUNT_MAX_LAYERS layers or options that cannot fit, BERR_CONFLICT
 * for EBUSY, BERR_FORBIDDEN for EPERM, BERR_INTERNAL otherwise; the message
 * names TARGET and carries the kernel's own explanation when it gave one. */
int image_mount_overlay(const char *const *lower_dirs, size_t n, const char *upper,
			const char *work, const char *target, struct berr **err);

/* The upper dir's contents may be lost in a crash: its unmount does not
 * sync it (overlay's "volatile"), which spares a sync of the whole file
 * system under it.  For containers removed at their end. */
#define IMAGE_MOUNT_VOLATILE 1u

/* image_mount_overlay() with FLAGS (IMAGE_MOUNT_VOLATILE).  A volatile
 * mount's mark in WORK, which would keep overlay from mounting the dirs
 * again, is removed first. */
int image_mount_overlay_flags(const char *const *lower_dirs, size_t n, const char *upper,
			      const char *work, const char *target, unsigned flags,
			      struct berr **err);

/* Unmounts TARGET (not following a final symlink).  Sets BERR_NOT_FOUND
 * when nothing is mounted there or TARGET is missing, BERR_CONFLICT when
 * the mount is busy, BERR_INTERNAL otherwise. */
int image_unmount(const char *target, struct berr **err);
/* Detaches what is mounted at TARGET (not following a final symlink) from
 * the tree at once, even while a file on it is open: the file system goes
 * with its last user (a process forked meanwhile holds copies of the
 * caller's fds until it execs).  Errors as image_unmount(). */
int image_unmount_detach(const char *target, struct berr **err);

/* false forces the mount(2) way even where "lowerdir+" exists, so both ways
 * can be tested on one kernel. */
void image_mount_set_lowerdir_plus(bool enabled);

/* The directories of one container; every string is owned. */
struct image_container_dirs {
	char *dir;    /* <containers_root>/<id>, mode 0700 */
	char *upper;  /* the overlay's upper dir: what the container wrote */
	char *work;   /* the overlay's work dir */
	char *merged; /* where the root file system is mounted */
};

void image_container_dirs_free(struct image_container_dirs *dirs);
DEFINE_CLEANUP(struct image_container_dirs *, image_container_dirs_free)

/* Under a containers root: a container's directories made ahead by
 * image_container_spare_make(), which image_container_dirs_create() takes
 * in one rename instead of four mkdirs (on ext4 without a journal each
 * inode made scans for recently freed ones). */
#define IMAGE_CONTAINER_SPARE ".spare"

/* An overlay mounted ahead on the spare's merged dir: the lower dirs and
 * flags of image_mount_overlay_flags(), all borrowed. */
struct image_premount {
	const char *const *lower;
	size_t n;
	unsigned flags;
	/* Paths under the root (NULL-terminated; may be NULL) that a start
	 * looks up: looked up once mounted, so that the start finds them in
	 * the dentry cache of the new overlay. */
	const char *const *warm;
};

/* Makes <CONTAINERS_ROOT>/.spare when there is none (CONTAINERS_ROOT too
 * when missing), with an empty file (mode 0644) for each name in FILES
 * (NULL-terminated; may be NULL), for its container to write into instead
 * of making, and with PREMOUNT (may be NULL) mounted on its merged dir, so
 * that the start of its container finds its root file system mounted when
 * it asks for that one (image_container_premounted()).  A premount that
 * fails leaves the spare without one.  Sets BERR_INTERNAL. */
int image_container_spare_make(const char *containers_root, const char *const *files,
			       const struct image_premount *premount, struct berr **err);

/* Whether the overlay on DIR/merged is the one image_container_spare_make()
 * mounted ahead with WANT's lower dirs and flags, over lower dirs that are
 * still the ones it was mounted with. */
bool image_container_premounted(const char *dir, const struct image_premount *want);
/* For the start of the container in DIR: true when the premount there is
 * WANT (it is the container's now); otherwise any premount there is
 * dropped (image_container_premount_drop()) and the caller mounts. */
bool image_container_premount_take(const char *dir, const struct image_premount *want);
/* Detaches a premount on DIR/merged that nobody took, for who mounts the
 * container's root another way: its dirs are as a create left them. */
void image_container_premount_drop(const char *dir);

/* Drops every premount under CONTAINERS_ROOT that nobody took (the spare's,
 * a created container's), for a daemon that stops: the directories stay,
 * without them. */
void image_container_premounts_drop(const char *containers_root);

/* Makes <CONTAINERS_ROOT>/<ID>/{upper,work,merged} (CONTAINERS_ROOT too
 * when missing), or renames the spare there; *out then owns their paths.
 * ID holds letters, digits, "_", "-" and "." (not first), at most
 * IMAGE_CONTAINER_ID_MAX bytes.  On
 * failure nothing new is left.  Sets BERR_INVALID for a bad id,
 * BERR_CONFLICT when the container's directory exists, BERR_INTERNAL
 * otherwise. */
int image_container_dirs_create(const char *containers_root, const char *id,
				struct image_container_dirs **out, struct berr **err);

/* Detaches whatever is mounted on the container's merged dir (MNT_DETACH)
 * and removes <CONTAINERS_ROOT>/<ID> without following symlinks; a
 * container already gone is fine.  Sets BERR_INVALID for a bad id,
 * BERR_INTERNAL otherwise. */
int image_container_dirs_remove(const char *containers_root, const char *id, struct berr **err);

/* Under a containers root: what image_container_dirs_discard() leaves for
 * image_container_trash_empty(). */
#define IMAGE_CONTAINER_TRASH ".trash"

/* As image_container_dirs_remove(), but quick: the directory is renamed
 * into <CONTAINERS_ROOT>/.trash, its merged dir still mounted, for
 * image_container_trash_empty() to detach and remove later; detached and
 * removed at once when it cannot be renamed.  *TRASHED (may be NULL) tells
 * whether something was left there. */
int image_container_dirs_discard(const char *containers_root, const char *id, bool *trashed,
				 struct berr **err);
/* Detaches what is mounted on the merged dir of each entry of
 * <CONTAINERS_ROOT>/.trash and removes them; none is fine. */
int image_container_trash_empty(const char *containers_root, struct berr **err);
/* Only detaches those mounts, leaving the entries: for a daemon that stops
 * before its trash was emptied. */
void image_container_trash_detach(const char *containers_root);

#endif
