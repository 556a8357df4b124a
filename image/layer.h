/* Layer unpacking: a layer archive (tar, tar.gz or tar.zst) becomes a
 * directory that overlayfs can use as a lower dir, with Docker/OCI
 * whiteouts turned into overlay whiteouts.  Entries that would reach out of
 * the layer are refused, and a refused or broken archive leaves nothing. */
#ifndef BERTH_IMAGE_LAYER_H
#define BERTH_IMAGE_LAYER_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/berr.h"
#include "lib/digest.h"

/* Entries accepted in one layer, so a hostile archive cannot make the
 * unpacker remember without bound. */
#define IMAGE_LAYER_MAX_ENTRIES (1024 * 1024)

/* What an unpack learnt about the uncompressed tar stream. */
struct image_layer_info {
	char diff_id[DIGEST_STRING_SIZE]; /* sha256 of the uncompressed tar */
	uint64_t size;			  /* its length in bytes */
	/* The file content it holds, as Docker counts a layer's size: regular
	 * files (a hardlink once) and symlink targets; set by unpack only. */
	uint64_t content_size;
};

/* Unpacks the archive read from FD (borrowed, read to its end) into DEST,
 * which must not exist yet: the work happens in DEST.tmp-XXXXXX next to it
 * and is renamed to DEST at the end, so on failure nothing is left.
 * Ownership, modes, times, xattrs and device nodes are kept (the caller is
 * root).  Entries named "dir/.wh.name" become whiteouts (0:0 character
 * devices) and "dir/.wh..wh..opq" makes dir opaque (trusted.overlay.opaque).
 * On success *info (may be NULL) holds the DiffID and size of the tar.
 * Sets BERR_INVALID for a malformed or truncated archive and for an entry
 * that is absolute, holds "..", goes through a symlink or links outside the
 * layer (the message names the entry), BERR_CONFLICT when DEST exists,
 * BERR_INTERNAL otherwise. */
int image_layer_unpack(int fd, const char *dest, struct image_layer_info *info, struct berr **err);

/* Writes an uncompressed tar of the directory DIR to FD (borrowed), as
 * Docker writes a layer: names relative without "./", numeric owners, no
 * atime or ctime, mtimes in whole seconds, xattrs kept, hardlinks linked
 * to their first name, entries in name order, overlay whiteouts (0:0
 * character devices, trusted.overlay.opaque) turned back into ".wh."
 * entries.  What was written before a failure stays in FD.  Sets
 * BERR_NOT_FOUND when DIR is missing, BERR_INTERNAL otherwise. */
int image_layer_pack(const char *dir, int fd, struct berr **err);

enum image_extract_flags {
	/* ".wh." names are files like any other, not whiteouts. */
	IMAGE_EXTRACT_PLAIN = 1 << 0,
	/* An entry may not replace a directory with a non-directory, nor
	 * the other way round (Docker's noOverwriteDirNonDir). */
	IMAGE_EXTRACT_NO_OVERWRITE_DIR_NON_DIR = 1 << 1,
};

/* Extracts the archive read from FD (borrowed; tar, compressed or not)
 * into the existing directory DIRFD (borrowed, opened O_RDONLY |
 * O_DIRECTORY), as image_layer_unpack() does (the same checks: nothing is
 * written through a symlink or outside DIRFD), with FLAGS.  What was
 * extracted before a failure stays.  Sets the kinds of
 * image_layer_unpack(); a write the file system refuses keeps its errno
 * (EROFS...). */
int image_tar_extract(int fd, int dirfd, unsigned flags, struct berr **err);
/* image_tar_extract() with every entry owned by UID:GID, whatever owner
 * the archive gives (Docker's ChownOpts, which `docker cp -a` asks for). */
int image_tar_extract_owned(int fd, int dirfd, unsigned flags, uid_t uid, gid_t gid,
			    struct berr **err);

/* Writes an uncompressed tar of the object NAME in DIRFD (a directory
 * with everything under it) to FD (borrowed), its entries named under AS
 * ("etc" gives "etc/", "etc/hostname"...), in the form of
 * image_layer_pack().  Sets BERR_NOT_FOUND when NAME is missing,
 * BERR_INTERNAL otherwise. */
int image_tar_entry(int dirfd, const char *name, const char *as, int fd, struct berr **err);

/* The DiffID and size of the layer archive read from FD (borrowed, read to
 * its end) without unpacking it: the digest of the decompressed stream.
 * Sets BERR_INVALID for a broken or truncated compression. */
int image_layer_diff_id(int fd, struct image_layer_info *info, struct berr **err);

/* Checks the name of an archive entry (or one a manifest gives) and cleans
 * it into *out, the caller's: "./a//b/" gives "a/b", the root "".
 * Absolute names and ".." are refused, BERR_INVALID naming WHAT: an
 * archive only ever names paths inside itself. */
int image_entry_name_clean(const char *what, const char *name, char **out, struct berr **err);

struct archive;

/* Lets libarchive reader A take the compressions images come in (gzip,
 * zstd, xz, bzip2) and no filter that would run an external program on
 * untrusted input. */
void image_layer_read_filters(struct archive *a);

#endif
