/* Overlay mounts of image layers and the per-container directories under
 * them.  The new mount API with "lowerdir+" takes one layer per call, so no
 * option string limits the depth of an image; kernels without it get
 * mount(2), with the layer names shortened when a page is too small. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/mount.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/safepath.h"

/* On the spare's directory: the digest of what is mounted ahead on its
 * merged dir (see premount_key()).  A trusted xattr: only root sets it. */
#define PREMOUNT_XATTR "trusted.berth.premount"
/* Its value: the first 128 bits of the digest in hex, short enough for
 * ext4 to keep in the inode; a longer one takes a block of its own, which
 * a file system mounted "discard" trims at the removal, in the start. */
#define PREMOUNT_KEY_LEN 32

/* Room for the kernel's messages about one failed fsconfig call; one
 * message may name a path of PATH_MAX bytes. */
#define KERNEL_MSG_MAX (PATH_MAX + 512)

static bool use_lowerdir_plus = true;

/* The overlay features berth turns off on every mount. */
static const char *const overlay_off[] = { "index", "redirect_dir", "metacopy" };

void image_mount_set_lowerdir_plus(bool enabled)
{
	use_lowerdir_plus = enabled;
}

static enum berr_kind kind_of_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return BERR_NOT_FOUND;
	case EINVAL:
	case ENAMETOOLONG:
		return BERR_INVALID;
	case EBUSY:
		return BERR_CONFLICT;
	case EPERM:
	case EACCES:
		return BERR_FORBIDDEN;
	default:
		return BERR_INTERNAL;
	}
}

/* Reads the messages the kernel queued on the fs context FSFD (each read
 * gives one line: "e ..." error, "w ..." warning, "i ..." info) into BUF,
 * joined by "; ".  BUF is empty when there were none. */
static void fs_context_messages(int fsfd, char *buf, size_t size)
{
	/* A message longer than the buffer would be dropped (EMSGSIZE). */
	char line[KERNEL_MSG_MAX];
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < 16; i++) {
		ssize_t r = read(fsfd, line, sizeof(line) - 1);
		const char *text = line;
		int n;

		if (r <= 0)
			break;
		line[r] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (r > 2 && line[1] == ' ')
			text = line + 2;
		n = snprintf(buf + used, size - used, "%s%s", used > 0 ? "; " : "", text);
		if (n < 0 || (size_t)n >= size - used)
			break; /* what fitted stays */
		used += (size_t)n;
	}
}

/* Sets the error of a failed call on an fs context: its errno SAVED, what
 * was asked, and the kernel's messages MSG (may be empty). */
static int fs_context_error(int saved, const char *target, const char *what, const char *value,
			    const char *msg, struct berr **err)
{
	return berr_set(err, kind_of_errno(saved), saved, "mount overlay on %s: %s%s%s%s%s%s",
			target, what, value ? " " : "", value ? value : "",
			msg[0] ? " (kernel: " : "", msg, msg[0] ? ")" : "");
}

/* The same, reading the messages from the fs context FSFD. */
static int fs_context_fail(int fsfd, const char *target, const char *what, const char *value,
			   struct berr **err)
{
	int saved = errno;
	char msg[KERNEL_MSG_MAX];

	fs_context_messages(fsfd, msg, sizeof(msg));
	return fs_context_error(saved, target, what, value, msg, err);
}

static int check_args(const char *const *lower_dirs, size_t n, const char *upper, const char *work,
		      const char *target, struct berr **err)
{
	struct stat st;

	if (target == NULL || target[0] != '/')
		return berr_set(err, BERR_INVALID, 0,
				"mount overlay: target \"%s\" is not absolute",
				target ? target : "");
	if (lower_dirs == NULL || n == 0)
		return berr_set(err, BERR_INVALID, 0, "mount overlay on %s: no lower dir", target);
	if (n > IMAGE_MOUNT_MAX_LAYERS)
		return berr_set(err, BERR_INVALID, 0,
				"mount overlay on %s: %zu layers, the kernel stacks at most %d",
				target, n, IMAGE_MOUNT_MAX_LAYERS);
	if ((upper == NULL) != (work == NULL))
		return berr_set(err, BERR_INVALID, 0,
				"mount overlay on %s: upper and work dirs go together", target);
	if (upper != NULL && (upper[0] != '/' || work[0] != '/'))
		return berr_set(err, BERR_INVALID, 0,
				"mount overlay on %s: upper and work dirs must be absolute",
				target);
	for (size_t i = 0; i < n; i++) {
		const char *dir = lower_dirs[i];

		if (dir == NULL || dir[0] != '/')
			return berr_set(err, BERR_INVALID, 0,
					"mount overlay on %s: lower dir \"%s\" is not absolute",
					target, dir ? dir : "");
		if (stat(dir, &st) < 0)
			return berr_set(err, kind_of_errno(errno), errno,
					"mount overlay on %s: lower dir %s", target, dir);
		if (!S_ISDIR(st.st_mode))
			return berr_set(err, BERR_INVALID, ENOTDIR,
					"mount overlay on %s: lower dir %s", target, dir);
	}
	return 0;
}

/* Mounts with fsopen() and one "lowerdir+" per layer.  Returns 0, -1 with
 * *err set, or 1 when this kernel has no "lowerdir+" (or no fsopen). */
static int mount_new_api(const char *const *lower_dirs, size_t n, const char *upper,
			 const char *work, const char *target, unsigned flags, struct berr **err)
{
	_cleanup_close_ int fsfd = -1;
	_cleanup_close_ int mfd = -1;

	fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		if (errno == ENOSYS)
			return 1;
		return berr_set(err, kind_of_errno(errno), errno, "mount overlay on %s: fsopen",
				target);
	}
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
		return fs_context_fail(fsfd, target, "source", NULL, err);
	/* The first layer given is the top one, as in "lowerdir=top:...". */
	for (size_t i = n; i-- > 0;) {
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lower_dirs[i], 0) == 0)
			continue;
		if (i == n - 1 && errno == EINVAL) {
			char msg[KERNEL_MSG_MAX];

			/* Before Linux 6.8: "overlay: Unknown parameter 'lowerdir+'". */
			fs_context_messages(fsfd, msg, sizeof(msg));
			if (strstr(msg, "nknown parameter") != NULL)
				return 1;
			return fs_context_error(EINVAL, target, "lower dir", lower_dirs[i], msg,
						err);
		}
		return fs_context_fail(fsfd, target, "lower dir", lower_dirs[i], err);
	}
	if (upper != NULL) {
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
			return fs_context_fail(fsfd, target, "upper dir", upper, err);
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
			return fs_context_fail(fsfd, target, "work dir", work, err);
	}
	/* Layers are shared by many mounts; an index would tie them to one. */
	/* Off whatever the kernel's defaults: a renamed directory (redirect)
	 * or a copied-up inode without its data (metacopy) would make the
	 * upper dir no longer hold a container's changes, which diff and
	 * commit read. */
	for (size_t i = 0; i < sizeof(overlay_off) / sizeof(overlay_off[0]); i++)
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, overlay_off[i], "off", 0) < 0)
			return fs_context_fail(fsfd, target, overlay_off[i], NULL, err);
	if ((flags & IMAGE_MOUNT_VOLATILE) && upper != NULL &&
	    fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		return fs_context_fail(fsfd, target, "volatile", NULL, err);
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fs_context_fail(fsfd, target, "create", NULL, err);
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, upper == NULL ? MOUNT_ATTR_RDONLY : 0);
	if (mfd < 0)
		return fs_context_fail(fsfd, target, "fsmount", NULL, err);
	/* Until here nothing is attached: closing MFD drops the mount. */
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return berr_set(err, kind_of_errno(errno), errno, "mount overlay on %s", target);
	return 0;
}

/* Appends S to BUF (LEN used of SIZE); false when it does not fit. */
static bool append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n >= size - *len)
		return false;
	memcpy(buf + *len, s, n + 1);
	*len += n;
	return true;
}

/* Builds "lowerdir=top:..:bottom[,upperdir=..,workdir=..],index=off,..." into
 * BUF, each lower dir with SKIP bytes cut from its front.  False when it
 * does not fit. */
static bool build_options(char *buf, size_t size, const char *const *lower_dirs, size_t n,
			  size_t skip, const char *upper, const char *work, unsigned flags)
{
	size_t len = 0;

	buf[0] = '\0';
	if (!append(buf, size, &len, "lowerdir="))
		return false;
	for (size_t i = n; i-- > 0;) {
		const char *name = lower_dirs[i] + skip;

		if (i != n - 1 && !append(buf, size, &len, ":"))
			return false;
		if (!append(buf, size, &len, name[0] ? name : "."))
			return false;
	}
	if (upper != NULL &&
	    (!append(buf, size, &len, ",upperdir=") || !append(buf, size, &len, upper) ||
	     !append(buf, size, &len, ",workdir=") || !append(buf, size, &len, work)))
		return false;
	if (upper != NULL && (flags & IMAGE_MOUNT_VOLATILE) &&
	    !append(buf, size, &len, ",volatile"))
		return false;
	return append(buf, size, &len, ",index=off,redirect_dir=off,metacopy=off");
}

/* The length of the longest directory that holds every lower dir ("/a/b"
 * for "/a/b/x" and "/a/b/y"); 0 stands for "/". */
static size_t common_parent_len(const char *const *lower_dirs, size_t n)
{
	const char *first = lower_dirs[0];
	const char *slash = strrchr(first, '/');
	size_t len = (size_t)(slash - first);

	for (size_t i = 1; i < n; i++) {
		while (len > 0 &&
		       (strncmp(lower_dirs[i], first, len) != 0 || lower_dirs[i][len] != '/')) {
			while (len > 0 && first[--len] != '/')
				;
		}
	}
	return len;
}

/* mount(2) from a child that works in DIR, so relative lower dirs resolve
 * there; a child keeps the caller's own working directory (shared by all
 * its threads) untouched.  The child only makes system calls. */
static int mount_from_dir(const char *dir, const char *target, unsigned long flags,
			  const char *options, struct berr **err)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return berr_set(err, BERR_INTERNAL, errno, "mount overlay on %s: fork", target);
	if (pid == 0) {
		if (chdir(dir) < 0 || mount("overlay", target, "overlay", flags, options) < 0)
			_exit(errno & 0xff);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return berr_set(err, BERR_INTERNAL, errno, "mount overlay on %s: wait",
					target);
	}
	if (!WIFEXITED(status))
		return berr_set(err, BERR_INTERNAL, 0,
				"mount overlay on %s: the mounting child was killed", target);
	if (WEXITSTATUS(status) != 0)
		return berr_set(err, kind_of_errno(WEXITSTATUS(status)), WEXITSTATUS(status),
				"mount overlay on %s (lower dirs relative to %s)", target, dir);
	return 0;
}

/* The mount(2) way: all options in one page. */
static int mount_legacy(const char *const *lower_dirs, size_t n, const char *upper,
			const char *work, const char *target, unsigned mflags, struct berr **err)
{
	_cleanup_free_ char *options = NULL;
	_cleanup_free_ char *parent = NULL;
	unsigned long flags = upper == NULL ? MS_RDONLY : 0;
	long page = sysconf(_SC_PAGESIZE);
	size_t size = page > 0 ? (size_t)page : 4096;
	size_t skip;

	/* The option string has no quoting for these. */
	for (size_t i = 0; i <= n + 1; i++) {
		const char *p = i < n ? lower_dirs[i] : i == n ? upper : work;

		if (p != NULL && strpbrk(p, ",:\\") != NULL)
			return berr_set(err, BERR_INVALID, 0,
					"mount overlay on %s: \"%s\" holds ',', ':' or '\\', "
					"which mount(2) options cannot carry",
					target, p);
	}
	options = malloc(size);
	if (options == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mount overlay on %s", target);
	if (build_options(options, size, lower_dirs, n, 0, upper, work, mflags)) {
		if (mount("overlay", target, "overlay", flags, options) < 0)
			return berr_set(err, kind_of_errno(errno), errno, "mount overlay on %s",
					target);
		return 0;
	}
	/* Too long for one page: name the layers from their common parent,
	 * as Docker's overlay2 does with its short "l/" links. */
	skip = common_parent_len(lower_dirs, n);
	if (!build_options(options, size, lower_dirs, n, skip + 1, upper, work, mflags))
		return berr_set(err, BERR_INVALID, E2BIG,
				"mount overlay on %s: %zu lower dirs do not fit in the %zu bytes "
				"of mount(2) options, even relative to their common parent",
				target, n, size);
	parent = skip == 0 ? strdup("/") : strndup(lower_dirs[0], skip);
	if (parent == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "mount overlay on %s", target);
	return mount_from_dir(parent, target, flags, options, err);
}

/* One read-only layer: a read-only bind mount, as overlay wants two lower
 * dirs when it has no upper dir. */
static int mount_single_readonly(const char *lower, const char *target, struct berr **err)
{
	if (mount(lower, target, NULL, MS_BIND, NULL) < 0)
		return berr_set(err, kind_of_errno(errno), errno, "bind %s on %s", lower, target);
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
		int saved = errno;

		umount2(target, MNT_DETACH);
		return berr_set(err, kind_of_errno(saved), saved, "make %s read-only", target);
	}
	return 0;
}

int image_mount_overlay_flags(const char *const *lower_dirs, size_t n, const char *upper,
			      const char *work, const char *target, unsigned flags,
			      struct berr **err)
{
	int r;

	if (check_args(lower_dirs, n, upper, work, target, err) < 0)
		return -1;
	if (upper == NULL && n == 1)
		return mount_single_readonly(lower_dirs[0], target, err);
	if (upper != NULL && (flags & IMAGE_MOUNT_VOLATILE)) {
		/* An earlier volatile mount leaves its mark, and overlay
		 * refuses the dirs while it is there: the caller said their
		 * contents may go. */
		_cleanup_free_ char *incompat = str_printf("%s/work/incompat", work);

		if (incompat)
			fs_remove_tree(incompat, NULL);
	}
	if (use_lowerdir_plus) {
		r = mount_new_api(lower_dirs, n, upper, work, target, flags, err);
		if (r <= 0)
			return r;
	}
	return mount_legacy(lower_dirs, n, upper, work, target, flags, err);
}

int image_mount_overlay(const char *const *lower_dirs, size_t n, const char *upper,
			const char *work, const char *target, struct berr **err)
{
	return image_mount_overlay_flags(lower_dirs, n, upper, work, target, 0, err);
}

static int unmount_flags(const char *target, int flags, struct berr **err)
{
	if (umount2(target, UMOUNT_NOFOLLOW | flags) == 0)
		return 0;
	if (errno == EINVAL)
		return berr_set(err, BERR_NOT_FOUND, errno, "unmount %s: nothing is mounted there",
				target);
	return berr_set(err, kind_of_errno(errno), errno, "unmount %s", target);
}

int image_unmount(const char *target, struct berr **err)
{
	return unmount_flags(target, 0, err);
}

int image_unmount_detach(const char *target, struct berr **err)
{
	return unmount_flags(target, MNT_DETACH, err);
}

void image_container_dirs_free(struct image_container_dirs *dirs)
{
	if (dirs == NULL)
		return;
	free(dirs->dir);
	free(dirs->upper);
	free(dirs->work);
	free(dirs->merged);
	free(dirs);
}

static int container_id_validate(const char *id, struct berr **err)
{
	size_t len = id ? strlen(id) : 0;

	if (len == 0)
		return berr_set(err, BERR_INVALID, 0, "container id cannot be empty");
	if (len > IMAGE_CONTAINER_ID_MAX)
		return berr_set(err, BERR_INVALID, 0, "container id is longer than %d bytes",
				IMAGE_CONTAINER_ID_MAX);
	if (id[0] == '.' || id[0] == '-')
		return berr_set(err, BERR_INVALID, 0, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return berr_set(err, BERR_INVALID, 0, "invalid container id \"%s\"", id);
	}
	return 0;
}

/* mkdirat with exactly MODE, whatever the umask. */
static int mkdir_mode_at(int dirfd, const char *name, mode_t mode, struct berr **err)
{
	if (mkdirat(dirfd, name, mode) < 0)
		return berr_set(err, errno == EEXIST ? BERR_CONFLICT : BERR_INTERNAL, errno,
				"mkdir %s", name);
	if (fchmodat(dirfd, name, mode, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "chmod %s", name);
	return 0;
}

static int container_subdirs_make(int rootfd, const char *id, struct berr **err)
{
	static const struct {
		const char *name;
		mode_t mode;
	} subdirs[] = { { "upper", 0755 }, { "work", 0700 }, { "merged", 0755 } };
	_cleanup_close_ int dfd = -1;

	if (fchmodat(rootfd, id, 0700, 0) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "chmod %s", id);
	dfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", id);
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
		if (mkdir_mode_at(dfd, subdirs[i].name, subdirs[i].mode, err) < 0)
			return berr_prefix(err, "%s", id);
	return 0;
}

int image_container_dirs_create(const char *containers_root, const char *id,
				struct image_container_dirs **out, struct berr **err)
{
	_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs = NULL;
	_cleanup_close_ int rootfd = -1;

	if (container_id_validate(id, err) < 0)
		return -1;
	if (fs_mkdir_p(containers_root, 0700, err) < 0)
		return berr_prefix(err, "containers root %s", containers_root);
	rootfd = open(containers_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", containers_root);
	dirs = calloc(1, sizeof(*dirs));
	if (dirs == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", id);
	dirs->dir = str_printf("%s/%s", containers_root, id);
	dirs->upper = str_printf("%s/%s/upper", containers_root, id);
	dirs->work = str_printf("%s/%s/work", containers_root, id);
	dirs->merged = str_printf("%s/%s/merged", containers_root, id);
	if (!dirs->dir || !dirs->upper || !dirs->work || !dirs->merged)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", id);
	/* The spare, made ahead, in one rename; made here when there is
	 * none (or another create took it first). */
	if (renameat2(rootfd, IMAGE_CONTAINER_SPARE, rootfd, id, RENAME_NOREPLACE) == 0) {
		*out = steal_ptr(&dirs);
		return 0;
	}
	if (errno == EEXIST)
		return berr_set(err, BERR_CONFLICT, errno, "container %s: %s exists", id,
				dirs->dir);
	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return berr_set(err, BERR_CONFLICT, errno, "container %s: %s exists", id,
					dirs->dir);
		return berr_set(err, BERR_INTERNAL, errno, "mkdir %s", dirs->dir);
	}
	if (container_subdirs_make(rootfd, id, err) < 0) {
		fs_remove_tree(dirs->dir, NULL);
		return berr_prefix(err, "container dirs in %s", containers_root);
	}
	*out = steal_ptr(&dirs);
	return 0;
}

/* Makes the empty FILES in NAME under ROOTFD. */
static int spare_files_make(int rootfd, const char *name, const char *const *files,
			    struct berr **err)
{
	_cleanup_close_ int dfd =
		openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", name);
	for (size_t i = 0; files && files[i]; i++) {
		int fd = openat(dfd, files[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0644);

		if (fd < 0 || fchmod(fd, 0644) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return berr_set(err, BERR_INTERNAL, e, "make %s/%s", name, files[i]);
		}
		close(fd);
	}
	return 0;
}

/* The digest of a premount: its flags and, for each lower dir, its path
 * and its device and inode, so that a layer removed and unpacked again
 * under the same path does not match.  false when a lower dir is gone. */
static bool premount_key(const struct image_premount *p, char out[PREMOUNT_KEY_LEN + 1])
{
	char digest[DIGEST_STRING_SIZE];
	char *text = NULL;
	size_t size = 0;
	bool ok = true;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return false;
	fprintf(f, "flags %u\n", p->flags);
	for (size_t i = 0; i < p->n && ok; i++) {
		struct stat st;

		ok = stat(p->lower[i], &st) == 0;
		if (ok)
			fprintf(f, "%llu %llu %s\n", (unsigned long long)st.st_dev,
				(unsigned long long)st.st_ino, p->lower[i]);
	}
	if (fclose(f) != 0 || !ok) {
		free(text);
		return false;
	}
	digest_bytes(text, size, digest);
	free(text);
	/* Past the "sha256:". */
	snprintf(out, PREMOUNT_KEY_LEN + 1, "%s", strchr(digest, ':') + 1);
	return true;
}

static int detach_mounts_at(int dirfd, const char *name, struct berr **err);

/* Detaches what is mounted on NAME/merged under ROOTFD; NAME gone is
 * fine. */
static int detach_merged(int rootfd, const char *name, struct berr **err)
{
	_cleanup_close_ int dfd =
		openat(rootfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return dfd >= 0 ? detach_mounts_at(dfd, "merged", err) : 0;
}

/* Mounts P on NAME/merged under ROOTFD (ROOT's fd) and marks NAME with its
 * key; nothing when either fails. */
/* Looks up each of WARM in the root mounted on DFD's merged dir, within
 * it. */
static void premount_warm(int dfd, const char *const *warm)
{
	_cleanup_close_ int mfd = -1;

	if (!warm)
		return;
	mfd = openat(dfd, "merged", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (size_t i = 0; mfd >= 0 && warm[i]; i++) {
		int fd = safepath_open(mfd, warm[i], O_PATH, NULL);

		if (fd >= 0)
			close(fd);
	}
}

static void premount_make(int rootfd, const char *root, const char *name,
			  const struct image_premount *p)
{
	_cleanup_free_ char *upper = str_printf("%s/%s/upper", root, name);
	_cleanup_free_ char *work = str_printf("%s/%s/work", root, name);
	_cleanup_free_ char *merged = str_printf("%s/%s/merged", root, name);
	_cleanup_close_ int dfd = -1;
	char key[PREMOUNT_KEY_LEN + 1];

	if (!upper || !work || !merged || !premount_key(p, key))
		return;
	dfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 ||
	    image_mount_overlay_flags(p->lower, p->n, upper, work, merged, p->flags, NULL) < 0)
		return;
	if (fsetxattr(dfd, PREMOUNT_XATTR, key, strlen(key), 0) < 0) {
		detach_mounts_at(dfd, "merged", NULL);
		return;
	}
	premount_warm(dfd, p->warm);
}

/* Whether DIR holds a premount, and whether it is WANT's (WANT may be
 * NULL). */
static bool premount_is(const char *dir, const struct image_premount *want, bool *present)
{
	_cleanup_free_ char *merged = str_printf("%s/merged", dir);
	char key[PREMOUNT_KEY_LEN + 1], have[PREMOUNT_KEY_LEN + 1];
	struct stat dir_st, merged_st;
	ssize_t n;

	n = getxattr(dir, PREMOUNT_XATTR, have, sizeof(have) - 1);
	/* ERANGE: longer than any key, not one. */
	*present = n > 0 || (n < 0 && errno == ERANGE);
	if (n <= 0 || !merged || !want)
		return false;
	have[n] = '\0';
	/* Mounted still: the overlay is a file system of its own. */
	if (stat(dir, &dir_st) < 0 || stat(merged, &merged_st) < 0 ||
	    dir_st.st_dev == merged_st.st_dev)
		return false;
	return premount_key(want, key) && strcmp(key, have) == 0;
}

bool image_container_premounted(const char *dir, const struct image_premount *want)
{
	bool present;

	return premount_is(dir, want, &present);
}

/* Detaches the premount known to be on DIR and takes its mark off. */
static void premount_detach(const char *dir)
{
	_cleanup_free_ char *incompat = str_printf("%s/work/work/incompat", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0 || !incompat)
		return;
	detach_mounts_at(dfd, "merged", NULL);
	/* Its upper dir was never used: a volatile one's mark, which would
	 * keep overlay from mounting the dirs without "volatile", can go. */
	fs_remove_tree(incompat, NULL);
	fremovexattr(dfd, PREMOUNT_XATTR);
}

void image_container_premount_drop(const char *dir)
{
	bool present;

	premount_is(dir, NULL, &present);
	if (present)
		premount_detach(dir);
}

bool image_container_premount_take(const char *dir, const struct image_premount *want)
{
	bool present;

	if (premount_is(dir, want, &present))
		return removexattr(dir, PREMOUNT_XATTR) == 0;
	if (present)
		premount_detach(dir);
	return false;
}

int image_container_spare_make(const char *containers_root, const char *const *files,
			       const struct image_premount *premount, struct berr **err)
{
	static const char building[] = IMAGE_CONTAINER_SPARE ".new";
	_cleanup_free_ char *path = str_printf("%s/%s", containers_root, building);
	_cleanup_close_ int rootfd = -1;
	int e;

	if (!path)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "spare container dirs");
	if (fs_mkdir_p(containers_root, 0700, err) < 0)
		return berr_prefix(err, "containers root %s", containers_root);
	rootfd = open(containers_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open %s", containers_root);
	/* Built aside and renamed whole, so that a create never takes half of
	 * one; what a crash left half built goes first. */
	detach_merged(rootfd, building, NULL);
	if (faccessat(rootfd, IMAGE_CONTAINER_SPARE, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		/* One made before the premount was known, or for another:
		 * taken aside (a create meanwhile makes its own dirs) and
		 * mounted again. */
		_cleanup_free_ char *spare =
			str_printf("%s/" IMAGE_CONTAINER_SPARE, containers_root);

		if (!premount || !spare || image_container_premounted(spare, premount) ||
		    fs_remove_tree(path, NULL) < 0 ||
		    renameat2(rootfd, IMAGE_CONTAINER_SPARE, rootfd, building, RENAME_NOREPLACE) <
			    0)
			return 0;
		image_container_premount_drop(path);
		goto mount;
	}
	if (fs_remove_tree(path, err) < 0)
		return -1;
	if (mkdirat(rootfd, building, 0700) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "mkdir %s", path);
	if (container_subdirs_make(rootfd, building, err) < 0 ||
	    spare_files_make(rootfd, building, files, err) < 0) {
		fs_remove_tree(path, NULL);
		return berr_prefix(err, "spare container dirs in %s", containers_root);
	}
mount:
	if (premount)
		premount_make(rootfd, containers_root, building, premount);
	if (renameat2(rootfd, building, rootfd, IMAGE_CONTAINER_SPARE, RENAME_NOREPLACE) == 0)
		return 0;
	e = errno;
	detach_merged(rootfd, building, NULL);
	fs_remove_tree(path, NULL);
	/* Another process made one meanwhile. */
	if (e == EEXIST)
		return 0;
	return berr_set(err, BERR_INTERNAL, e, "rename %s", path);
}

/* Detaches every mount stacked on NAME in DIRFD.  The merged dir is reached
 * through an fd opened without following symlinks, so a symlink planted
 * there cannot point the unmount elsewhere. */
static int detach_mounts_at(int dirfd, const char *name, struct berr **err)
{
	for (int i = 0; i < 64; i++) {
		_cleanup_close_ int fd = -1;
		char path[32];

		fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return 0; /* gone, or not a directory: nothing mounted */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (umount2(path, MNT_DETACH) < 0) {
			if (errno == EINVAL)
				return 0; /* not a mount point */
			return berr_set(err, kind_of_errno(errno), errno, "unmount %s", name);
		}
	}
	return berr_set(err, BERR_INTERNAL, 0, "unmount %s: too many stacked mounts", name);
}

/* Detaches the container's mount and removes its directory, or, with
 * TO_TRASH, renames it into the trash when it can (*TRASHED tells). */
static int dirs_release(const char *containers_root, const char *id, bool to_trash, bool *trashed,
			struct berr **err)
{
	char target[sizeof(IMAGE_CONTAINER_TRASH "/") + IMAGE_CONTAINER_ID_MAX];
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int rootfd = -1;
	_cleanup_close_ int dfd = -1;

	*trashed = false;
	if (container_id_validate(id, err) < 0)
		return -1;
	rootfd = open(containers_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_set(err, BERR_INTERNAL, errno, "open %s", containers_root);
	}
	dfd = openat(rootfd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* One rename, where removing a tree takes a system call per entry
	 * (and, on a file system mounted "discard", a wait per file); the
	 * root file system goes along mounted, and is detached with the
	 * trash (a detach waits for an RCU grace period). */
	snprintf(target, sizeof(target), IMAGE_CONTAINER_TRASH "/%s", id);
	if (to_trash && dfd >= 0 &&
	    (mkdirat(rootfd, IMAGE_CONTAINER_TRASH, 0700) == 0 || errno == EEXIST) &&
	    renameat(rootfd, id, rootfd, target) == 0) {
		*trashed = true;
		return 0;
	}
	if (dfd >= 0 && detach_mounts_at(dfd, "merged", err) < 0)
		return berr_prefix(err, "container %s", id);
	dir = str_printf("%s/%s", containers_root, id);
	if (dir == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container %s", id);
	if (fs_remove_tree(dir, err) < 0)
		return berr_prefix(err, "remove container %s", id);
	return 0;
}

int image_container_dirs_remove(const char *containers_root, const char *id, struct berr **err)
{
	bool trashed;

	return dirs_release(containers_root, id, false, &trashed, err);
}

int image_container_dirs_discard(const char *containers_root, const char *id, bool *trashed,
				 struct berr **err)
{
	bool moved;

	if (dirs_release(containers_root, id, true, &moved, err) < 0)
		return -1;
	if (trashed)
		*trashed = moved;
	return 0;
}

int image_container_trash_empty(const char *containers_root, struct berr **err)
{
	_cleanup_free_ char *trash = str_printf("%s/" IMAGE_CONTAINER_TRASH, containers_root);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (trash == NULL)
		return berr_set(err, BERR_INTERNAL, ENOMEM, "container trash");
	d = opendir(trash);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_set(err, BERR_INTERNAL, errno, "open %s", trash);
	/* The entries only: a discard may be renaming one in meanwhile. */
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *path = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = str_printf("%s/%s", trash, de->d_name);
		if (path == NULL)
			return berr_set(err, BERR_INTERNAL, ENOMEM, "container trash");
		/* A container's root file system came along mounted. */
		if (detach_merged(dirfd(d), de->d_name, err) < 0)
			return berr_prefix(err, "container trash");
		if (fs_remove_tree(path, err) < 0)
			return -1;
	}
	return 0;
}

void image_container_trash_detach(const char *containers_root)
{
	_cleanup_free_ char *trash = str_printf("%s/" IMAGE_CONTAINER_TRASH, containers_root);
	_cleanup_closedir_ DIR *d = trash ? opendir(trash) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			detach_merged(dirfd(d), de->d_name, NULL);
}

void image_container_premounts_drop(const char *containers_root)
{
	DIR *dir = opendir(containers_root);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir)) != NULL) {
		_cleanup_free_ char *path = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, IMAGE_CONTAINER_TRASH) == 0)
			continue;
		path = str_printf("%s/%s", containers_root, e->d_name);
		if (path)
			image_container_premount_drop(path);
	}
	closedir(dir);
}
