/* Unit tests for image/mount (run as root): overlays of layers made here,
 * where the top layer wins, whiteouts and opaque dirs hide lower content and
 * writes land in the upper dir; 150 layers through both mount ways; read-only
 * mounts; the container directories' create/remove cycle; and errors that
 * name what is wrong and mount nothing.  Every mount happens in a child with
 * its own mount namespace, so nothing reaches the host's mount table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/mount.h"
#include "lib/fsutil.h"
#include "tests/unit/child_testutil.h"

#define N_DEEP 150

struct fixture {
	char dir[64];
	bool lowerdir_plus; /* which mount way the test uses */
};

static int setup_way(void **state, bool lowerdir_plus)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-mount-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->lowerdir_plus = lowerdir_plus;
	*state = f;
	return 0;
}

static int setup_new(void **state)
{
	return setup_way(state, true);
}

static int setup_legacy(void **state)
{
	return setup_way(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fs_remove_tree(f->dir, NULL), 0);
	free(f);
	return 0;
}

/* Runs FN(F) in a child with its own mount namespace whose "/" is a
 * recursive slave; asserts that it exited 0. */
static void run_in_mount_ns(int (*fn)(struct fixture *), struct fixture *f)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			perror("mount namespace");
			_exit(2);
		}
		image_mount_set_lowerdir_plus(f->lowerdir_plus);
		_exit(fn(f) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static char *path_in(struct fixture *f, const char *name)
{
	char *p = str_printf("%s/%s", f->dir, name);

	CHILD_CHECK(p != NULL);
	return p;
}

static void write_file(const char *dir, const char *name, const char *data)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);
	_cleanup_close_ int fd = -1;

	CHILD_CHECK(path != NULL);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(fs_write_all(fd, data, strlen(data)) == 0);
}

/* The content of DIR/NAME, or NULL when it cannot be read. */
static char *read_file(const char *dir, const char *name)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);
	char *data = NULL;
	size_t len = 0;

	CHILD_CHECK(path != NULL);
	if (fs_read_file(path, 4096, &data, &len, NULL) < 0)
		return NULL;
	return data;
}

static bool file_is(const char *dir, const char *name, const char *want)
{
	_cleanup_free_ char *data = read_file(dir, name);

	if (data == NULL || strcmp(data, want) != 0) {
		fprintf(stderr, "%s/%s: got \"%s\", want \"%s\"\n", dir, name,
			data ? data : "(missing)", want);
		return false;
	}
	return true;
}

static bool missing(const char *dir, const char *name)
{
	_cleanup_free_ char *path = str_printf("%s/%s", dir, name);
	struct stat st;

	return path != NULL && lstat(path, &st) < 0 && errno == ENOENT;
}

/* True when a mount sits on PATH: its mount id differs from its parent's. */
static bool is_mount_point(const char *path)
{
	_cleanup_free_ char *parent = str_printf("%s/..", path);
	struct statx a, b;

	CHILD_CHECK(parent != NULL);
	CHILD_CHECK(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &a) == 0);
	CHILD_CHECK(statx(AT_FDCWD, parent, 0, STATX_MNT_ID, &b) == 0);
	return a.stx_mnt_id != b.stx_mnt_id;
}

static char *make_dir(struct fixture *f, const char *name)
{
	char *p = path_in(f, name);

	CHILD_CHECK(mkdir(p, 0755) == 0);
	return p;
}

static int overlay_three_layers(struct fixture *f)
{
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_free_ char *l2 = make_dir(f, "l2");
	_cleanup_free_ char *upper = make_dir(f, "upper");
	_cleanup_free_ char *work = make_dir(f, "work");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1, l2 };

	write_file(l0, "a", "0");
	write_file(l0, "b", "0");
	write_file(l0, "c", "0");
	write_file(l1, "b", "1");
	write_file(l1, "c", "1");
	write_file(l2, "c", "2");
	CHILD_OK(image_mount_overlay(lowers, 3, upper, work, merged, &err), err);
	CHILD_CHECK(is_mount_point(merged));
	CHILD_CHECK(file_is(merged, "a", "0"));
	CHILD_CHECK(file_is(merged, "b", "1"));
	CHILD_CHECK(file_is(merged, "c", "2"));

	/* Writes land in the upper dir; the layers stay as they were. */
	write_file(merged, "a", "changed");
	write_file(merged, "new", "n");
	CHILD_CHECK(file_is(upper, "a", "changed"));
	CHILD_CHECK(file_is(upper, "new", "n"));
	CHILD_CHECK(file_is(l0, "a", "0"));
	CHILD_CHECK(missing(l2, "new"));

	CHILD_OK(image_unmount(merged, &err), err);
	CHILD_CHECK(!is_mount_point(merged));
	CHILD_CHECK(missing(merged, "a"));
	CHILD_CHECK(image_unmount(merged, &err) < 0 && err->kind == BERR_NOT_FOUND);
	return 0;
}

static void test_overlay_three_layers(void **state)
{
	run_in_mount_ns(overlay_three_layers, *state);
}

static int overlay_whiteouts(struct fixture *f)
{
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_free_ char *upper = make_dir(f, "upper");
	_cleanup_free_ char *work = make_dir(f, "work");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_free_ char *d0 = str_printf("%s/d", l0);
	_cleanup_free_ char *d1 = str_printf("%s/d", l1);
	_cleanup_free_ char *gone = str_printf("%s/gone", l1);
	_cleanup_free_ char *gone_too = str_printf("%s/gone-too", upper);
	_cleanup_free_ char *md = str_printf("%s/d", merged);
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1 };

	CHILD_CHECK(d0 && d1 && gone && gone_too && md);
	write_file(l0, "gone", "x");
	write_file(l0, "gone-too", "x");
	write_file(l0, "kept", "k");
	CHILD_CHECK(mkdir(d0, 0755) == 0);
	write_file(d0, "old", "o");
	/* The top layer deletes "gone" and replaces "d" by an opaque dir. */
	CHILD_CHECK(mknod(gone, S_IFCHR | 0000, makedev(0, 0)) == 0);
	CHILD_CHECK(mkdir(d1, 0755) == 0);
	CHILD_CHECK(setxattr(d1, "trusted.overlay.opaque", "y", 1, 0) == 0);
	write_file(d1, "new", "n");
	/* The container's own upper dir deletes "gone-too". */
	CHILD_CHECK(mknod(gone_too, S_IFCHR | 0000, makedev(0, 0)) == 0);

	CHILD_OK(image_mount_overlay(lowers, 2, upper, work, merged, &err), err);
	CHILD_CHECK(missing(merged, "gone"));
	CHILD_CHECK(missing(merged, "gone-too"));
	CHILD_CHECK(file_is(merged, "kept", "k"));
	CHILD_CHECK(missing(md, "old"));
	CHILD_CHECK(file_is(md, "new", "n"));
	CHILD_CHECK(file_is(d0, "old", "o"));

	/* Deleting through the mount makes a whiteout in the upper dir. */
	_cleanup_free_ char *kept = str_printf("%s/kept", merged);
	_cleanup_free_ char *wh = str_printf("%s/kept", upper);
	struct stat st;

	CHILD_CHECK(kept && wh);
	CHILD_CHECK(unlink(kept) == 0);
	CHILD_CHECK(missing(merged, "kept"));
	CHILD_CHECK(lstat(wh, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	CHILD_CHECK(file_is(l0, "kept", "k"));
	CHILD_OK(image_unmount(merged, &err), err);
	return 0;
}

/* A volatile mount works, and leaves nothing that keeps the same dirs
 * from being mounted volatile again. */
static int overlay_volatile(struct fixture *f)
{
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_free_ char *upper = make_dir(f, "upper");
	_cleanup_free_ char *work = make_dir(f, "work");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1 };

	write_file(l0, "a", "0");
	for (int round = 0; round < 2; round++) {
		CHILD_OK(image_mount_overlay_flags(lowers, 2, upper, work, merged,
						   IMAGE_MOUNT_VOLATILE, &err),
			 err);
		CHILD_CHECK(file_is(merged, "a", round ? "changed" : "0"));
		write_file(merged, "a", "changed");
		CHILD_OK(image_unmount(merged, &err), err);
	}
	CHILD_CHECK(file_is(upper, "a", "changed"));
	return 0;
}

static void test_overlay_volatile(void **state)
{
	run_in_mount_ns(overlay_volatile, *state);
}

static void test_overlay_whiteouts(void **state)
{
	run_in_mount_ns(overlay_whiteouts, *state);
}

static int overlay_deep(struct fixture *f)
{
	_cleanup_free_ char *layers = make_dir(f, "layers-with-a-long-name-to-fill-the-page");
	_cleanup_free_ char *upper = make_dir(f, "upper");
	_cleanup_free_ char *work = make_dir(f, "work");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_berr_ struct berr *err = NULL;
	char *lowers[N_DEEP] = { NULL };
	size_t total = 0;
	int rc = 0;

	for (int i = 0; i < N_DEEP; i++) {
		char name[32];

		lowers[i] = str_printf("%s/layer-%03d", layers, i);
		CHILD_CHECK(lowers[i] != NULL);
		CHILD_CHECK(mkdir(lowers[i], 0755) == 0);
		snprintf(name, sizeof(name), "f%03d", i);
		write_file(lowers[i], name, name);
		write_file(lowers[i], "top", name);
		total += strlen(lowers[i]) + 1;
	}
	/* Past one page, so mount(2) needs the relative names. */
	CHILD_CHECK(total > 4096);
	CHILD_OK(
		image_mount_overlay((const char *const *)lowers, N_DEEP, upper, work, merged, &err),
		err);
	for (int i = 0; i < N_DEEP; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%03d", i);
		if (!file_is(merged, name, name))
			rc = -1;
	}
	CHILD_CHECK(file_is(merged, "top", "f149"));
	CHILD_OK(image_unmount(merged, &err), err);
	for (int i = 0; i < N_DEEP; i++)
		free(lowers[i]);
	return rc;
}

static void test_overlay_150_layers(void **state)
{
	run_in_mount_ns(overlay_deep, *state);
}

static int overlay_readonly(struct fixture *f)
{
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_free_ char *probe = path_in(f, "merged/probe");
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1 };

	write_file(l0, "a", "0");
	write_file(l1, "a", "1");

	/* Two layers, no upper: a read-only overlay. */
	CHILD_OK(image_mount_overlay(lowers, 2, NULL, NULL, merged, &err), err);
	CHILD_CHECK(file_is(merged, "a", "1"));
	CHILD_CHECK(open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	/* A file open on it keeps an unmount off, not a detach; the file
	 * stays readable until it is closed. */
	{
		_cleanup_free_ char *a = path_in(f, "merged/a");
		int fd = open(a, O_RDONLY | O_CLOEXEC);
		char c = 0;

		CHILD_CHECK(fd >= 0);
		CHILD_CHECK(image_unmount(merged, &err) < 0 && err->kind == BERR_CONFLICT);
		berr_clear(&err);
		CHILD_OK(image_unmount_detach(merged, &err), err);
		CHILD_CHECK(!is_mount_point(merged));
		CHILD_CHECK(read(fd, &c, 1) == 1 && c == '1');
		close(fd);
		CHILD_OK(image_mount_overlay(lowers, 2, NULL, NULL, merged, &err), err);
	}
	CHILD_OK(image_unmount(merged, &err), err);

	/* One layer, no upper: a read-only bind. */
	CHILD_OK(image_mount_overlay(lowers, 1, NULL, NULL, merged, &err), err);
	CHILD_CHECK(file_is(merged, "a", "0"));
	CHILD_CHECK(open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	CHILD_OK(image_unmount(merged, &err), err);
	CHILD_CHECK(!is_mount_point(merged));
	CHILD_CHECK(missing(l0, "probe"));
	return 0;
}

static void test_overlay_readonly(void **state)
{
	run_in_mount_ns(overlay_readonly, *state);
}

static int overlay_missing_lower(struct fixture *f)
{
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l2 = make_dir(f, "l2");
	_cleanup_free_ char *absent = path_in(f, "no-such-layer");
	_cleanup_free_ char *upper = make_dir(f, "upper");
	_cleanup_free_ char *work = make_dir(f, "work");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, absent, l2 };

	CHILD_CHECK(image_mount_overlay(lowers, 3, upper, work, merged, &err) < 0);
	fprintf(stderr, "expected: %s\n", err->msg);
	CHILD_CHECK(err->kind == BERR_NOT_FOUND);
	CHILD_CHECK(strstr(err->msg, absent) != NULL);
	CHILD_CHECK(strstr(err->msg, merged) != NULL);
	CHILD_CHECK(!is_mount_point(merged));
	return 0;
}

static void test_overlay_missing_lower(void **state)
{
	run_in_mount_ns(overlay_missing_lower, *state);
}

/* What the kernel refuses gets its errno and, with fsconfig, its words. */
static int overlay_kernel_refuses(struct fixture *f)
{
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_free_ char *upper = path_in(f, "upper");
	_cleanup_free_ char *work = make_dir(f, "work");
	_cleanup_free_ char *merged = make_dir(f, "merged");
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1 };

	/* An upper "dir" that is a regular file. */
	write_file(f->dir, "upper", "not a dir");
	CHILD_CHECK(image_mount_overlay(lowers, 2, upper, work, merged, &err) < 0);
	fprintf(stderr, "expected: %s\n", err->msg);
	CHILD_CHECK(err->sys_errno != 0);
	CHILD_CHECK(strstr(err->msg, merged) != NULL);
	if (f->lowerdir_plus)
		CHILD_CHECK(strstr(err->msg, "(kernel: ") != NULL &&
			    strstr(err->msg, upper) != NULL);
	CHILD_CHECK(!is_mount_point(merged));
	return 0;
}

static void test_overlay_kernel_refuses(void **state)
{
	run_in_mount_ns(overlay_kernel_refuses, *state);
}

static void test_overlay_bad_args(void **state)
{
	struct fixture *f = *state;
	_cleanup_berr_ struct berr *err = NULL;
	_cleanup_free_ char *merged = str_printf("%s/merged", f->dir);
	const char *lowers[] = { f->dir, f->dir };
	const char *relative[] = { "layers/l0", f->dir };
	const char **many = calloc(IMAGE_MOUNT_MAX_LAYERS + 1, sizeof(*many));

	assert_non_null(merged);
	assert_non_null(many);
	assert_int_equal(image_mount_overlay(lowers, 0, NULL, NULL, merged, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_int_equal(image_mount_overlay(lowers, 2, f->dir, NULL, merged, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_int_equal(image_mount_overlay(relative, 2, NULL, NULL, merged, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "layers/l0"));
	assert_int_equal(image_mount_overlay(lowers, 2, NULL, NULL, "merged", &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	for (size_t i = 0; i <= IMAGE_MOUNT_MAX_LAYERS; i++)
		many[i] = f->dir;
	assert_int_equal(
		image_mount_overlay(many, IMAGE_MOUNT_MAX_LAYERS + 1, NULL, NULL, merged, &err),
		-1);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, "layers"));
	free(many);

	/* mount(2) options cannot carry a ':' in a layer name. */
	_cleanup_free_ char *colon = str_printf("%s/a:b", f->dir);

	assert_non_null(colon);
	assert_int_equal(mkdir(colon, 0755), 0);
	lowers[1] = colon;
	image_mount_set_lowerdir_plus(false);
	assert_int_equal(image_mount_overlay(lowers, 2, NULL, NULL, merged, &err), -1);
	image_mount_set_lowerdir_plus(true);
	assert_int_equal(err->kind, BERR_INVALID);
	assert_non_null(strstr(err->msg, colon));
}

static int container_dirs_cycle(struct fixture *f)
{
	_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs = NULL;
	_cleanup_free_ char *root = path_in(f, "containers");
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_free_ char *dir = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1 };
	struct stat st;

	write_file(l1, "etc-hostname", "box");
	CHILD_OK(image_container_dirs_create(root, "c0ffee", &dirs, &err), err);
	dir = str_printf("%s/c0ffee", root);
	CHILD_CHECK(dir != NULL && strcmp(dirs->dir, dir) == 0);
	CHILD_CHECK(lstat(dirs->dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 07777) == 0700);
	CHILD_CHECK(lstat(dirs->upper, &st) == 0 && S_ISDIR(st.st_mode));
	CHILD_CHECK(lstat(dirs->work, &st) == 0 && S_ISDIR(st.st_mode));
	CHILD_CHECK(lstat(dirs->merged, &st) == 0 && S_ISDIR(st.st_mode));
	CHILD_CHECK(strcmp(dirs->merged + strlen(dir), "/merged") == 0);

	/* A second create of the same id is a conflict and keeps the first. */
	{
		struct image_container_dirs *again = NULL;

		CHILD_CHECK(image_container_dirs_create(root, "c0ffee", &again, &err) < 0);
		CHILD_CHECK(err->kind == BERR_CONFLICT && again == NULL);
		CHILD_CHECK(lstat(dirs->merged, &st) == 0);
	}

	CHILD_OK(image_mount_overlay(lowers, 2, dirs->upper, dirs->work, dirs->merged, &err), err);
	write_file(dirs->merged, "written", "w");
	CHILD_CHECK(is_mount_point(dirs->merged));
	/* Something else stacked on top is detached as well. */
	CHILD_CHECK(mount("tmpfs", dirs->merged, "tmpfs", 0, "size=1m") == 0);

	/* Remove detaches the mount and takes the whole tree. */
	CHILD_OK(image_container_dirs_remove(root, "c0ffee", &err), err);
	CHILD_CHECK(missing(root, "c0ffee"));
	CHILD_CHECK(file_is(l1, "etc-hostname", "box"));
	CHILD_CHECK(missing(l1, "written"));
	CHILD_OK(image_container_dirs_remove(root, "c0ffee", &err), err);
	CHILD_OK(image_container_dirs_remove(f->dir, "never-made", &err), err);
	return 0;
}

static void test_container_dirs_cycle(void **state)
{
	run_in_mount_ns(container_dirs_cycle, *state);
}

/* Makes container NAME under ROOT with LOWER mounted, writes "written" into
 * its root file system, and discards it; *TRASHED as the discard says. */
static void discard_mounted(const char *root, const char *name, const char *lower, bool *trashed)
{
	_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs = NULL;
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { lower };

	CHILD_OK(image_container_dirs_create(root, name, &dirs, &err), err);
	CHILD_OK(image_mount_overlay(lowers, 1, dirs->upper, dirs->work, dirs->merged, &err), err);
	write_file(dirs->merged, "written", "w");
	CHILD_OK(image_container_dirs_discard(root, name, trashed, &err), err);
}

/* Discard renames the tree into the trash with its root file system still
 * mounted, which trash_empty detaches and removes (the lower dir as it
 * was); a container already gone is fine. */
static int container_dirs_discard(struct fixture *f)
{
	_cleanup_free_ char *root = path_in(f, "containers");
	_cleanup_free_ char *trash = path_in(f, "containers/.trash");
	_cleanup_free_ char *merged = path_in(f, "containers/.trash/dead/merged");
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_berr_ struct berr *err = NULL;
	bool trashed = false;

	discard_mounted(root, "dead", l0, &trashed);
	CHILD_CHECK(trashed);
	CHILD_CHECK(missing(root, "dead"));
	CHILD_CHECK(file_is(trash, "dead/upper/written", "w"));
	/* Mounted still, where it went. */
	CHILD_CHECK(is_mount_point(merged));
	CHILD_CHECK(file_is(trash, "dead/merged/written", "w"));
	CHILD_OK(image_container_dirs_discard(root, "dead", &trashed, &err), err);
	CHILD_CHECK(!trashed);
	write_file(l0, "kept", "k");
	/* A mount point left there would not go. */
	CHILD_OK(image_container_trash_empty(root, &err), err);
	CHILD_CHECK(missing(trash, "dead"));
	CHILD_CHECK(file_is(l0, "kept", "k"));
	CHILD_OK(image_container_trash_empty(f->dir, &err), err);
	return 0;
}

static void test_container_dirs_discard(void **state)
{
	run_in_mount_ns(container_dirs_discard, *state);
}

/* A daemon that stops before its trash is emptied detaches what waits
 * there, and leaves the rest to the next tidy. */
static int container_trash_detach(struct fixture *f)
{
	_cleanup_free_ char *root = path_in(f, "containers");
	_cleanup_free_ char *trash = path_in(f, "containers/.trash");
	_cleanup_free_ char *merged = path_in(f, "containers/.trash/gone/merged");
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_berr_ struct berr *err = NULL;

	discard_mounted(root, "gone", l0, NULL);
	CHILD_CHECK(is_mount_point(merged));
	image_container_trash_detach(root);
	CHILD_CHECK(!is_mount_point(merged));
	CHILD_CHECK(file_is(trash, "gone/upper/written", "w"));
	image_container_trash_detach(f->dir);
	CHILD_OK(image_container_trash_empty(root, &err), err);
	CHILD_CHECK(missing(trash, "gone"));
	return 0;
}

static void test_container_trash_detach(void **state)
{
	run_in_mount_ns(container_trash_detach, *state);
}

static void test_container_dirs_bad_ids(void **state)
{
	static const char *const bad[] = { "", ".", "..", "../x", "a/b", ".hidden", "-x", "a b" };
	struct fixture *f = *state;
	_cleanup_free_ char *root = str_printf("%s/containers", f->dir);
	_cleanup_berr_ struct berr *err = NULL;
	char long_id[IMAGE_CONTAINER_ID_MAX + 2];

	assert_non_null(root);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_container_dirs *dirs = NULL;

		assert_int_equal(image_container_dirs_create(root, bad[i], &dirs, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		assert_null(dirs);
		assert_int_equal(image_container_dirs_remove(root, bad[i], &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
	}
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	{
		struct image_container_dirs *dirs = NULL;

		assert_int_equal(image_container_dirs_create(root, long_id, &dirs, &err), -1);
		assert_int_equal(err->kind, BERR_INVALID);
		long_id[IMAGE_CONTAINER_ID_MAX] = '\0';
		assert_int_equal(image_container_dirs_create(root, long_id, &dirs, &err), 0);
		assert_string_equal(dirs->dir + strlen(root) + 1, long_id);
		image_container_dirs_free(dirs);
		assert_int_equal(image_container_dirs_remove(root, long_id, &err), 0);
	}
	/* Nothing was made for the bad ones (the root itself was). */
	struct stat st;

	assert_int_equal(lstat(root, &st), 0);
	assert_int_equal(st.st_nlink, 2);
}

/* The spare is made once, taken whole by the next create (with the modes
 * a create's mkdirs give, and the empty files asked for), and made again
 * after; a half-built one that a crash left is replaced. */
static void test_container_dirs_spare(void **state)
{
	static const char *const files[] = { "hostname", "spare-json.log", NULL };
	struct fixture *f = *state;
	_cleanup_free_ char *root = str_printf("%s/containers", f->dir);
	_cleanup_free_ char *building = str_printf("%s/containers/.spare.new", f->dir);
	_cleanup_berr_ struct berr *err = NULL;
	struct stat spare_st, st;

	assert_non_null(root);
	assert_non_null(building);
	assert_int_equal(image_container_spare_make(root, files, NULL, &err), 0);
	assert_int_equal(lstat(building, &st), -1);
	{
		_cleanup_free_ char *spare = str_printf("%s/.spare", root);

		assert_int_equal(lstat(spare, &spare_st), 0);
		assert_true(S_ISDIR(spare_st.st_mode));
		/* Already there: left as it is. */
		assert_int_equal(image_container_spare_make(root, NULL, NULL, &err), 0);
		assert_int_equal(lstat(spare, &st), 0);
		assert_int_equal(st.st_ino, spare_st.st_ino);
	}
	{
		_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs =
			NULL;
		_cleanup_free_ char *spare = str_printf("%s/.spare", root);

		assert_int_equal(image_container_dirs_create(root, "taken", &dirs, &err), 0);
		assert_int_equal(lstat(dirs->dir, &st), 0);
		assert_int_equal(st.st_ino, spare_st.st_ino);
		assert_int_equal(st.st_mode & 07777, 0700);
		assert_int_equal(lstat(dirs->upper, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
		assert_int_equal(lstat(dirs->work, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
		assert_int_equal(lstat(dirs->merged, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
		/* With the files asked for, empty. */
		for (size_t i = 0; files[i]; i++) {
			_cleanup_free_ char *p = str_printf("%s/%s", dirs->dir, files[i]);

			assert_int_equal(lstat(p, &st), 0);
			assert_true(S_ISREG(st.st_mode));
			assert_int_equal(st.st_mode & 07777, 0644);
			assert_int_equal(st.st_size, 0);
		}
		assert_int_equal(lstat(spare, &st), -1);
		/* The next create makes its own. */
		image_container_dirs_free(steal_ptr(&dirs));
		assert_int_equal(image_container_dirs_create(root, "made", &dirs, &err), 0);
		assert_int_equal(lstat(dirs->work, &st), 0);
		/* The id of a spare's container is taken: no spare over it. */
		image_container_dirs_free(steal_ptr(&dirs));
		assert_int_equal(image_container_dirs_create(root, "taken", &dirs, &err), -1);
		assert_int_equal(err->kind, BERR_CONFLICT);
		berr_clear(&err);
	}
	/* Half built by a crash: replaced. */
	assert_int_equal(mkdir(building, 0700), 0);
	write_file(building, "stale", "x");
	assert_int_equal(image_container_spare_make(root, NULL, NULL, &err), 0);
	assert_int_equal(lstat(building, &st), -1);
	{
		_cleanup_free_ char *upper = str_printf("%s/.spare/upper", root);
		_cleanup_free_ char *stale = str_printf("%s/.spare/stale", root);

		assert_int_equal(lstat(upper, &st), 0);
		assert_int_equal(lstat(stale, &st), -1);
	}
	/* With a spare waiting, a create of an existing id is still a
	 * conflict, and the spare stays for the next. */
	{
		struct image_container_dirs *dirs = NULL;
		_cleanup_free_ char *spare = str_printf("%s/.spare", root);

		assert_int_equal(image_container_dirs_create(root, "made", &dirs, &err), -1);
		assert_int_equal(err->kind, BERR_CONFLICT);
		assert_null(dirs);
		assert_int_equal(lstat(spare, &st), 0);
	}
}

/* A spare made with a premount has it mounted when taken; it matches the
 * lower dirs and flags it was made with, and no longer once a lower dir is
 * replaced or it is unmounted; a spare release detaches it. */
static int container_dirs_premount(struct fixture *f)
{
	_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs = NULL;
	_cleanup_free_ char *root = path_in(f, "containers");
	_cleanup_free_ char *spare = path_in(f, "containers/.spare");
	_cleanup_free_ char *spare_merged = path_in(f, "containers/.spare/merged");
	_cleanup_free_ char *l0 = make_dir(f, "l0");
	_cleanup_free_ char *l1 = make_dir(f, "l1");
	_cleanup_berr_ struct berr *err = NULL;
	const char *lowers[] = { l0, l1 };
	/* Looked up once mounted, without effect on what it is; one that is
	 * not there, or leads out of the root, is passed over. */
	static const char *const warm[] = { "a", "missing/x", "../../../escape", NULL };
	struct image_premount want = {
		.lower = lowers, .n = 2, .flags = IMAGE_MOUNT_VOLATILE, .warm = warm
	};
	struct image_premount other = { .lower = lowers, .n = 1, .flags = IMAGE_MOUNT_VOLATILE };
	struct image_premount other_flags = { .lower = lowers, .n = 2, .flags = 0 };

	write_file(l0, "a", "0");
	write_file(l1, "b", "1");
	CHILD_OK(image_container_spare_make(root, NULL, &want, &err), err);
	CHILD_CHECK(is_mount_point(spare_merged));
	CHILD_CHECK(image_container_premounted(spare, &want));
	/* Released: the spare stays, without its mount, until taken. */
	image_container_premounts_drop(root);
	CHILD_CHECK(!is_mount_point(spare_merged));
	CHILD_CHECK(!image_container_premounted(spare, &want));
	CHILD_OK(image_container_dirs_create(root, "taken", &dirs, &err), err);
	image_container_dirs_free(steal_ptr(&dirs));
	CHILD_OK(image_container_dirs_remove(root, "taken", &err), err);
	CHILD_OK(image_container_spare_make(root, NULL, &want, &err), err);

	CHILD_OK(image_container_dirs_create(root, "c1", &dirs, &err), err);
	CHILD_CHECK(is_mount_point(dirs->merged));
	CHILD_CHECK(file_is(dirs->merged, "a", "0"));
	CHILD_CHECK(file_is(dirs->merged, "b", "1"));
	CHILD_CHECK(image_container_premounted(dirs->dir, &want));
	CHILD_CHECK(!image_container_premounted(dirs->dir, &other));
	CHILD_CHECK(!image_container_premounted(dirs->dir, &other_flags));
	/* A layer removed and unpacked again under its path: not the same. */
	{
		_cleanup_free_ char *moved = path_in(f, "l1.old");

		CHILD_CHECK(rename(l1, moved) == 0);
		CHILD_CHECK(mkdir(l1, 0755) == 0);
		CHILD_CHECK(!image_container_premounted(dirs->dir, &want));
		CHILD_CHECK(rmdir(l1) == 0);
		CHILD_CHECK(rename(moved, l1) == 0);
	}
	CHILD_CHECK(image_container_premounted(dirs->dir, &want));
	CHILD_OK(image_unmount(dirs->merged, &err), err);
	CHILD_CHECK(!image_container_premounted(dirs->dir, &want));
	CHILD_OK(image_container_dirs_remove(root, "c1", &err), err);
	return 0;
}

static void test_container_dirs_premount(void **state)
{
	run_in_mount_ns(container_dirs_premount, *state);
}

/* A container dir or merged dir replaced by a symlink is removed as a
 * link; what it points at is left alone. */
static void test_container_dirs_remove_symlinks(void **state)
{
	struct fixture *f = *state;
	_cleanup_(image_container_dirs_free_cleanup) struct image_container_dirs *dirs = NULL;
	_cleanup_free_ char *root = str_printf("%s/containers", f->dir);
	_cleanup_free_ char *outside = str_printf("%s/outside", f->dir);
	_cleanup_free_ char *link = str_printf("%s/containers/evil", f->dir);
	_cleanup_berr_ struct berr *err = NULL;
	struct stat st;

	assert_non_null(root);
	assert_non_null(outside);
	assert_non_null(link);
	assert_int_equal(mkdir(outside, 0755), 0);
	write_file(outside, "precious", "p");
	assert_int_equal(image_container_dirs_create(root, "good", &dirs, &err), 0);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(image_container_dirs_remove(root, "evil", &err), 0);
	assert_int_equal(lstat(link, &st), -1);
	assert_true(file_is(outside, "precious", "p"));

	assert_int_equal(rmdir(dirs->merged), 0);
	assert_int_equal(symlink(outside, dirs->merged), 0);
	assert_int_equal(image_container_dirs_remove(root, "good", &err), 0);
	assert_int_equal(lstat(dirs->dir, &st), -1);
	assert_true(file_is(outside, "precious", "p"));
}

#define BOTH_WAYS(fn)                                             \
	cmocka_unit_test_setup_teardown(fn, setup_new, teardown), \
		cmocka_unit_test_setup_teardown(fn, setup_legacy, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_WAYS(test_overlay_three_layers),
		BOTH_WAYS(test_overlay_whiteouts),
		BOTH_WAYS(test_overlay_volatile),
		BOTH_WAYS(test_overlay_150_layers),
		BOTH_WAYS(test_overlay_readonly),
		BOTH_WAYS(test_overlay_missing_lower),
		BOTH_WAYS(test_overlay_kernel_refuses),
		cmocka_unit_test_setup_teardown(test_overlay_bad_args, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_dirs_cycle, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_dirs_discard, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_trash_detach, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_dirs_bad_ids, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_dirs_spare, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_dirs_premount, setup_new, teardown),
		cmocka_unit_test_setup_teardown(test_container_dirs_remove_symlinks, setup_new,
						teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "image/mount tests need root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
