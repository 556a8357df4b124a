/* Unit tests for image/changes (run as root): lower layers made by hand, a
 * container simulated by an overlay mount whose changes land in an upper
 * dir, then the `docker diff` list of that upper dir (whiteouts, opaque
 * dirs, a whiteout or an opaque dir in a lower layer, modes, a file turned
 * into a directory); `docker commit` on an imported image (layers, config,
 * history, reference, and the new image mounted shows the changes), an
 * empty commit, and refusals and a failure half way that leave the store as
 * it was; `docker export` read back with libarchive, with nothing left
 * mounted.  Mounts happen in children with their own mount namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/changes.h"
#include "image/mount.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "tests/unit/child_testutil.h"

#define TAR_MAX (1024 * 1024)

struct fixture {
	char dir[64];
	char *root; /* the image store's data root */
	char *l1, *l2, *upper, *work, *merged;
	struct image_store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-changes-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->root = str_printf("%s/store", f->dir);
	f->l1 = str_printf("%s/l1", f->dir);
	f->l2 = str_printf("%s/l2", f->dir);
	f->upper = str_printf("%s/upper", f->dir);
	f->work = str_printf("%s/work", f->dir);
	f->merged = str_printf("%s/merged", f->dir);
	assert_int_equal(mkdir(f->root, 0700), 0);
	assert_int_equal(mkdir(f->upper, 0755), 0);
	assert_int_equal(mkdir(f->work, 0700), 0);
	assert_int_equal(mkdir(f->merged, 0755), 0);
	if (image_store_open(f->root, &f->st, &err) < 0)
		fail_msg("open: %s", err->msg);
	*state = f;
	return 0;
}

/* Clears the immutable flag a test may have left on PATH. */
static void make_mutable(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags = 0;

	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
		flags &= ~FS_IMMUTABLE_FL;
		ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *layers = str_printf("%s/layers", f->root);

	make_mutable(layers);
	image_store_free(f->st);
	assert_int_equal(fs_remove_tree(f->dir, NULL), 0);
	free(f->root);
	free(f->l1);
	free(f->l2);
	free(f->upper);
	free(f->work);
	free(f->merged);
	free(f);
	return 0;
}

/*
 * Trees made by hand.  These run in the test process and in children, so
 * they check with CHILD_CHECK, which ends a child and fails a test alike.
 */

static char *at(const char *base, const char *name)
{
	char *p = str_printf("%s/%s", base, name);

	CHILD_CHECK(p != NULL);
	return p;
}

static void mk_dir(const char *base, const char *name, mode_t mode)
{
	_cleanup_free_ char *p = at(base, name);

	CHILD_CHECK(mkdir(p, mode) == 0);
	CHILD_CHECK(chmod(p, mode) == 0);
}

static void mk_file(const char *base, const char *name, const char *data)
{
	_cleanup_free_ char *p = at(base, name);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(fs_write_all(fd, data, strlen(data)) == 0);
}

static void append_file(const char *base, const char *name, const char *data)
{
	_cleanup_free_ char *p = at(base, name);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);

	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(fs_write_all(fd, data, strlen(data)) == 0);
}

static void mk_whiteout(const char *base, const char *name)
{
	_cleanup_free_ char *p = at(base, name);

	CHILD_CHECK(mknod(p, S_IFCHR | 0000, makedev(0, 0)) == 0);
}

static void mk_opaque(const char *base, const char *name)
{
	_cleanup_free_ char *p = at(base, name);

	CHILD_CHECK(setxattr(p, "trusted.overlay.opaque", "y", 1, 0) == 0);
}

static void rm_tree(const char *base, const char *name)
{
	_cleanup_free_ char *p = at(base, name);

	CHILD_CHECK(fs_remove_tree(p, NULL) == 0);
	CHILD_CHECK(!fs_exists(p));
}

/* The image: L1 at the bottom, L2 on top of it, where a whiteout hides
 * old/hidden and the opaque lopq hides lopq/stale. */
static void build_lowers(struct fixture *f)
{
	mk_dir(f->dir, "l1", 0755);
	mk_dir(f->l1, "etc", 0755);
	mk_file(f->l1, "etc/hostname", "host\n");
	mk_file(f->l1, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	mk_file(f->l1, "etc/gone", "bye\n");
	mk_file(f->l1, "etc/conf", "a file\n");
	mk_dir(f->l1, "var", 0755);
	mk_dir(f->l1, "var/lib", 0755);
	mk_file(f->l1, "var/lib/x", "x\n");
	mk_dir(f->l1, "olddir", 0755);
	mk_file(f->l1, "olddir/a", "a\n");
	mk_dir(f->l1, "olddir/sub", 0755);
	mk_file(f->l1, "olddir/sub/b", "b\n");
	mk_dir(f->l1, "optdir", 0755);
	mk_file(f->l1, "optdir/o1", "o1\n");
	mk_file(f->l1, "optdir/same", "old\n");
	mk_dir(f->l1, "old", 0755);
	mk_file(f->l1, "old/hidden", "hidden\n");
	mk_dir(f->l1, "lopq", 0755);
	mk_file(f->l1, "lopq/stale", "stale\n");
	mk_dir(f->l1, "keep", 0755);
	mk_file(f->l1, "keep/k", "k\n");

	mk_dir(f->dir, "l2", 0755);
	mk_dir(f->l2, "etc", 0755);
	mk_file(f->l2, "etc/extra", "extra\n");
	mk_dir(f->l2, "old", 0755);
	mk_whiteout(f->l2, "old/hidden");
	mk_dir(f->l2, "lopq", 0755);
	mk_opaque(f->l2, "lopq");
	mk_file(f->l2, "lopq/cur", "cur\n");
}

/* What the container does, through its mounted root file system. */
static void container_changes(const char *m)
{
	_cleanup_free_ char *link = at(m, "etc/link");
	_cleanup_free_ char *gone = at(m, "etc/gone");
	_cleanup_free_ char *conf = at(m, "etc/conf");
	_cleanup_free_ char *lib = at(m, "var/lib");

	mk_file(m, "etc/new", "new\n");
	append_file(m, "etc/passwd", "app:x:1000:1000::/home/app:/bin/sh\n");
	CHILD_CHECK(unlink(gone) == 0);
	CHILD_CHECK(symlink("new", link) == 0);
	/* A file becomes a directory. */
	CHILD_CHECK(unlink(conf) == 0);
	mk_dir(m, "etc/conf", 0755);
	mk_file(m, "etc/conf/x", "x\n");
	mk_dir(m, "newdir", 0755);
	mk_file(m, "newdir/f", "f\n");
	rm_tree(m, "olddir");
	/* rm -r and mkdir: an opaque directory. */
	rm_tree(m, "optdir");
	mk_dir(m, "optdir", 0755);
	mk_file(m, "optdir/fresh", "fresh\n");
	mk_file(m, "optdir/same", "new\n");
	/* Names the image hides in a lower layer come back. */
	mk_file(m, "old/hidden", "again\n");
	mk_file(m, "lopq/stale", "again\n");
	CHILD_CHECK(chmod(lib, 0700) == 0);
}

struct container {
	const char *const *lowers;
	size_t n;
	const char *upper, *work, *merged; /* upper and work NULL: read-only */
	void (*fn)(const char *merged);
};

static int container_main(int out, void *arg)
{
	struct container *c = arg;
	struct berr *err = NULL;

	(void)out;
	CHILD_CHECK(unshare(CLONE_NEWNS) == 0);
	CHILD_CHECK(mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) == 0);
	CHILD_OK(image_mount_overlay(c->lowers, c->n, c->upper, c->work, c->merged, &err), err);
	c->fn(c->merged);
	CHILD_OK(image_unmount(c->merged, &err), err);
	return 0;
}

/* Mounts LOWERS (with F's upper and work when RW) at F's merged dir in a
 * child and runs FN on it there. */
static void in_container(struct fixture *f, const char *const *lowers, size_t n, bool rw,
			 void (*fn)(const char *merged))
{
	struct container c = { .lowers = lowers,
			       .n = n,
			       .upper = rw ? f->upper : NULL,
			       .work = rw ? f->work : NULL,
			       .merged = f->merged,
			       .fn = fn };
	struct child_result res;

	fflush(NULL);
	run_child(container_main, &c, &res);
	assert_int_equal(res.status, 0);
}

/* The image of build_lowers() with container_changes() in F's upper dir. */
static void build_container(struct fixture *f)
{
	const char *lowers[] = { f->l1, f->l2 };
	_cleanup_free_ char *optdir = at(f->upper, "optdir");
	_cleanup_free_ char *gone = at(f->upper, "etc/gone");
	char value[2] = { 0 };
	struct stat st;

	build_lowers(f);
	in_container(f, lowers, 2, true, container_changes);
	/* What the kernel made of it, which the diff must read back. */
	assert_int_equal(getxattr(optdir, "trusted.overlay.opaque", value, sizeof(value)), 1);
	assert_int_equal(value[0], 'y');
	assert_int_equal(lstat(gone, &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
}

/* The changes as `docker diff` prints them, one per line. */
static char *diff_text(const char *const *lowers, size_t n, const char *upper)
{
	struct image_change *changes = NULL;
	struct berr *err = NULL;
	size_t count = 0;
	char *text = strdup("");

	if (image_changes_list(lowers, n, upper, &changes, &count, &err) < 0)
		fail_msg("changes: %s", err->msg);
	for (size_t i = 0; i < count; i++) {
		char *more = str_printf("%s%c %s\n", text, image_change_letter(changes[i].kind),
					changes[i].path);

		free(text);
		text = more;
	}
	image_changes_free(changes, count);
	return text;
}

static void test_diff(void **state)
{
	struct fixture *f = *state;
	const char *lowers[] = { f->l1, f->l2 };
	_cleanup_free_ char *text = NULL;

	build_container(f);
	text = diff_text(lowers, 2, f->upper);
	assert_string_equal(text, "C /etc\n"
				  "C /etc/conf\n"
				  "A /etc/conf/x\n"
				  "D /etc/gone\n"
				  "A /etc/link\n"
				  "A /etc/new\n"
				  "C /etc/passwd\n"
				  "C /lopq\n"
				  "A /lopq/stale\n"
				  "A /newdir\n"
				  "A /newdir/f\n"
				  "C /old\n"
				  "A /old/hidden\n"
				  "D /olddir\n"
				  "C /optdir\n"
				  "A /optdir/fresh\n"
				  "D /optdir/o1\n"
				  "C /optdir/same\n"
				  "C /var\n"
				  "C /var/lib\n");
}

static void test_diff_simple_cases(void **state)
{
	struct fixture *f = *state;
	const char *lowers[] = { f->l1, f->l2 };
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *scratch = NULL;
	_cleanup_free_ char *cap = NULL;
	const char *one[] = { NULL };
	char caps[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04 }; /* v2, cap_net_bind_service */
	struct image_change *changes = NULL;
	struct berr *err = NULL;
	size_t count = 99;

	build_lowers(f);
	/* A container that changed nothing. */
	assert_int_equal(image_changes_list(lowers, 2, f->upper, &changes, &count, &err), 0);
	assert_int_equal(count, 0);
	image_changes_free(changes, count);

	/* Without lower layers everything is added. */
	mk_file(f->upper, "a", "a");
	mk_dir(f->upper, "d", 0755);
	mk_file(f->upper, "d/x", "x");
	mk_whiteout(f->upper, "w");
	scratch = diff_text(NULL, 0, f->upper);
	assert_string_equal(scratch, "A /a\nA /d\nA /d/x\n");

	/* A copy of a lower file with the same times is unchanged, unless
	 * its capabilities differ; a whiteout of nothing is nothing. */
	rm_tree(f->dir, "upper");
	mk_dir(f->dir, "upper", 0755);
	mk_dir(f->upper, "keep", 0755);
	mk_file(f->upper, "keep/k", "k\n");
	mk_whiteout(f->upper, "nothing");
	{
		_cleanup_free_ char *src = at(f->l1, "keep/k");
		_cleanup_free_ char *dst = at(f->upper, "keep/k");
		_cleanup_free_ char *dsrc = at(f->l1, "keep");
		_cleanup_free_ char *ddst = at(f->upper, "keep");
		struct stat st, dst_st;
		struct timespec ts[2];

		assert_int_equal(stat(src, &st), 0);
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
		assert_int_equal(utimensat(AT_FDCWD, dst, ts, 0), 0);
		assert_int_equal(stat(dsrc, &dst_st), 0);
		assert_int_equal(stat(ddst, &st), 0);
		assert_int_equal(st.st_mode, dst_st.st_mode);
		text = diff_text(lowers, 2, f->upper);
		/* keep/ has no change below it: nothing at all. */
		assert_string_equal(text, "");
		free(text);
		cap = at(f->upper, "keep/k");
		assert_int_equal(setxattr(cap, "security.capability", caps, sizeof(caps), 0), 0);
		text = diff_text(lowers, 2, f->upper);
		assert_string_equal(text, "C /keep\nC /keep/k\n");
	}

	/* Missing directories. */
	assert_int_equal(
		image_changes_list(lowers, 2, "/nonexistent/upper", &changes, &count, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_non_null(strstr(err->msg, "/nonexistent/upper"));
	berr_clear(&err);
	one[0] = "/nonexistent/lower";
	assert_int_equal(image_changes_list(one, 1, f->upper, &changes, &count, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_non_null(strstr(err->msg, "/nonexistent/lower"));
	berr_clear(&err);
}

static void test_change_letter(void **state)
{
	(void)state;
	assert_int_equal(image_change_letter(IMAGE_CHANGE_MODIFY), 'C');
	assert_int_equal(image_change_letter(IMAGE_CHANGE_ADD), 'A');
	assert_int_equal(image_change_letter(IMAGE_CHANGE_DELETE), 'D');
	/* Docker's numbers, which the API sends as "Kind". */
	assert_int_equal(IMAGE_CHANGE_MODIFY, 0);
	assert_int_equal(IMAGE_CHANGE_ADD, 1);
	assert_int_equal(IMAGE_CHANGE_DELETE, 2);
}

/*
 * Commit.
 */

/* A tar of NAMES, where a name ending in "/" is a directory and any other
 * holds its own name as content. */
static char *make_tar(const char *const *names, size_t n, size_t *len)
{
	struct archive *a = archive_write_new();
	char *buf = malloc(TAR_MAX);
	size_t used = 0;

	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		bool dir = str_has_suffix(names[i], "/");
		size_t dlen = dir ? 0 : strlen(names[i]);

		archive_entry_set_pathname(ae, names[i]);
		archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ae, 0755);
		archive_entry_set_mtime(ae, 1600000000, 0);
		archive_entry_set_size(ae, (la_int64_t)dlen);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (dlen)
			assert_int_equal(archive_write_data(a, names[i], dlen), (la_ssize_t)dlen);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = used;
	return buf;
}

static int data_fd(const void *data, size_t len)
{
	int fd = memfd_create("data", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, data, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Imports the parent image "base:1" into F's store. */
static void import_parent(struct fixture *f, char id[DIGEST_STRING_SIZE])
{
	const char *names[] = { "bin/", "bin/hello", "etc/", "etc/passwd", "etc/gone" };
	const char *changes[] = { "CMD [\"/bin/hello\"]" };
	_cleanup_free_ char *tar = NULL;
	_cleanup_close_ int fd = -1;
	struct berr *err = NULL;
	size_t len;

	tar = make_tar(names, 5, &len);
	fd = data_fd(tar, len);
	if (image_import(f->st, fd, changes, 1, "base:1", "imported", id, &err) < 0)
		fail_msg("import: %s", err->msg);
}

static struct store_image *lookup(struct fixture *f, const char *name)
{
	struct store_image *img = NULL;
	struct berr *err = NULL;

	if (image_store_lookup(f->st, name, &img, &err) < 0)
		fail_msg("lookup %s: %s", name, err->msg);
	return img;
}

static char **layer_dirs(struct fixture *f, const struct store_image *img)
{
	char **dirs = NULL;
	struct berr *err = NULL;

	if (image_store_layer_dirs(f->st, img, &dirs, &err) < 0)
		fail_msg("layer dirs: %s", err->msg);
	return dirs;
}

static void commit_changes(const char *m)
{
	_cleanup_free_ char *gone = at(m, "etc/gone");

	mk_file(m, "etc/new", "new\n");
	CHILD_CHECK(unlink(gone) == 0);
}

static void committed_shows_changes(const char *m)
{
	_cleanup_free_ char *gone = at(m, "etc/gone");
	_cleanup_free_ char *hello = at(m, "bin/hello");
	_cleanup_free_ char *path = at(m, "etc/new");
	_cleanup_free_ char *data = NULL;
	size_t len;

	CHILD_CHECK(fs_read_file(path, 64, &data, &len, NULL) == 0);
	CHILD_CHECK(strcmp(data, "new\n") == 0);
	CHILD_CHECK(!fs_exists(gone));
	CHILD_CHECK(fs_exists(hello));
}

/* The stored config text of image ID.  Not inlined: GCC's dangling-pointer
 * check then takes the result for the address of the local it was read
 * into. */
static __attribute__((noinline)) char *config_text(struct fixture *f, const char *id)
{
	_cleanup_close_ int fd = image_blob_open(image_store_blobs(f->st), id, NULL);
	char *text = NULL;
	char digest[DIGEST_STRING_SIZE];
	size_t len;

	assert_true(fd >= 0);
	assert_int_equal(fs_read_all_fd(fd, IMAGE_CONFIG_MAX, &text, &len, NULL), 0);
	digest_bytes(text, len, digest);
	assert_string_equal(digest, id);
	return text;
}

/* Whether A, B and C are in TEXT in this order. */
static bool in_order(const char *text, const char *a, const char *b, const char *c)
{
	const char *pa = strstr(text, a), *pb = strstr(text, b), *pc = strstr(text, c);

	return pa && pb && pc && pa < pb && pb < pc;
}

static void test_commit(void **state)
{
	struct fixture *f = *state;
	const char *changes[] = { "CMD [\"/bin/sh\", \"-c\", \"true\"]", "ENV B=2" };
	struct image_commit_opts opts = {
		.reference = "committed:v1",
		.comment = "my change",
		.author = "Jane <jane@example.com>",
		.changes = changes,
		.n_changes = 2,
		.run_config_json = "{\"Cmd\":[\"/bin/hello\",\"-x\"],\"Env\":[\"A=1\"],"
				   "\"Hostname\":\"c0ffee\"}",
		.container_id = "c0ffee",
	};
	char parent_id[DIGEST_STRING_SIZE], id[DIGEST_STRING_SIZE];
	_cleanup_(store_image_free_cleanup) struct store_image *parent = NULL;
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_strv_ char **pdirs = NULL;
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *diff = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct berr *err = NULL;
	const struct image_history *h;

	import_parent(f, parent_id);
	parent = lookup(f, parent_id);
	pdirs = layer_dirs(f, parent);
	in_container(f, (const char *const *)pdirs, parent->n_layers, true, commit_changes);
	diff = diff_text((const char *const *)pdirs, parent->n_layers, f->upper);
	assert_string_equal(diff, "C /etc\nD /etc/gone\nA /etc/new\n");

	if (image_commit(f->st, parent_id, f->upper, &opts, id, &err) < 0)
		fail_msg("commit: %s", err->msg);
	assert_true(digest_is_valid(id));
	img = lookup(f, "committed:v1");
	assert_string_equal(img->id, id);
	assert_int_equal(img->n_layers, parent->n_layers + 1);
	assert_string_equal(img->layers[0], parent->layers[0]);
	assert_true(img->size > parent->size);

	if (image_store_config(img, &cfg, &err) < 0)
		fail_msg("config: %s", err->msg);
	assert_int_equal(strv_length(cfg->diff_ids), 2);
	/* The layer blob is the uncompressed tar: its digest is the DiffID. */
	assert_true(image_blob_exists(image_store_blobs(f->st), cfg->diff_ids[1]));
	assert_int_equal(cfg->n_history, 2);
	assert_string_equal(cfg->history[0].created_by, "import");
	h = &cfg->history[1];
	assert_string_equal(h->created_by, "/bin/hello -x");
	assert_string_equal(h->comment, "my change");
	assert_string_equal(h->author, "Jane <jane@example.com>");
	assert_false(h->empty_layer);
	assert_string_equal(h->created, cfg->created);
	assert_string_equal(cfg->author, "Jane <jane@example.com>");
	/* The container's config, then the changes. */
	assert_int_equal(strv_length(cfg->config.cmd), 3);
	assert_string_equal(cfg->config.cmd[0], "/bin/sh");
	assert_string_equal(cfg->config.cmd[2], "true");
	assert_int_equal(strv_length(cfg->config.env), 2);
	assert_string_equal(cfg->config.env[0], "A=1");
	assert_string_equal(cfg->config.env[1], "B=2");

	/* "container" sits between "config" and "created", as Docker sorts. */
	text = config_text(f, id);
	assert_true(in_order(text, "\"config\":", "\"container\":\"c0ffee\"", "\"created\":"));

	if (image_inspect_json(f->st, img, &j, &err) < 0)
		fail_msg("inspect: %s", err->msg);
	assert_string_equal(json_string_value(json_object_get(j, "Comment")), "my change");
	assert_string_equal(json_string_value(json_object_get(j, "Author")),
			    "Jane <jane@example.com>");

	/* A container of the new image sees the changes. */
	dirs = layer_dirs(f, img);
	assert_string_equal(dirs[0], pdirs[0]);
	in_container(f, (const char *const *)dirs, img->n_layers, false, committed_shows_changes);
	/* The parent is untouched. */
	store_image_free(parent);
	parent = lookup(f, "base:1");
	assert_string_equal(parent->id, parent_id);
	assert_int_equal(parent->n_layers, 1);
}

static size_t count_dir(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static void test_commit_empty(void **state)
{
	struct fixture *f = *state;
	char parent_id[DIGEST_STRING_SIZE], id[DIGEST_STRING_SIZE];
	_cleanup_(store_image_free_cleanup) struct store_image *parent = NULL;
	_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;
	_cleanup_(image_config_free_cleanup) struct image_config *cfg = NULL;
	_cleanup_free_ char *blobs = str_printf("%s/blobs/sha256", f->root);
	_cleanup_free_ char *layers = str_printf("%s/layers", f->root);
	_cleanup_json_ json_t *j = NULL;
	struct berr *err = NULL;
	size_t n_blobs;

	import_parent(f, parent_id);
	parent = lookup(f, parent_id);
	n_blobs = count_dir(blobs);
	/* No changes: Docker adds no layer, only a history entry. */
	if (image_commit(f->st, parent_id, f->upper, NULL, id, &err) < 0)
		fail_msg("commit: %s", err->msg);
	img = lookup(f, id);
	assert_int_equal(img->n_layers, parent->n_layers);
	assert_string_equal(img->layers[0], parent->layers[0]);
	assert_int_equal(count_dir(blobs), n_blobs + 1); /* the config */
	assert_int_equal(count_dir(layers), 1);
	assert_int_equal(img->n_refs, 0);
	assert_int_equal(image_store_config(img, &cfg, NULL), 0);
	assert_int_equal(strv_length(cfg->diff_ids), 1);
	assert_int_equal(cfg->n_history, 2);
	assert_true(cfg->history[1].empty_layer);
	assert_string_equal(cfg->history[1].created_by, "/bin/sh");
	/* The parent's run config stays; its import message does not. */
	assert_string_equal(cfg->config.cmd[0], "/bin/hello");
	assert_null(cfg->comment);
	assert_int_equal(image_inspect_json(f->st, img, &j, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(j, "Comment")), "");
}

/* A listing of everything under the data root but the database files. */
static char *listing_buf;

static int list_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char *more;

	(void)type;
	(void)ftw;
	if (strstr(path, "berth.db"))
		return 0;
	more = str_printf("%s%s %o %lld\n", listing_buf, path, sb->st_mode, (long long)sb->st_size);
	free(listing_buf);
	listing_buf = more;
	return 0;
}

static char *snapshot(struct fixture *f)
{
	struct store_image **imgs = NULL;
	size_t n = 0;
	char *out;

	listing_buf = strdup("");
	assert_int_equal(nftw(f->root, list_one, 16, FTW_PHYS), 0);
	assert_int_equal(image_store_list(f->st, &imgs, &n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		char *more = str_printf("%simage %s refs %zu\n", listing_buf, imgs[i]->id,
					imgs[i]->n_refs);

		free(listing_buf);
		listing_buf = more;
	}
	store_image_list_free(imgs, n);
	out = listing_buf;
	listing_buf = NULL;
	return out;
}

static void refused(struct fixture *f, const char *parent_id, const char *upper,
		    const struct image_commit_opts *opts, enum berr_kind kind, const char *msg_part)
{
	_cleanup_free_ char *before = snapshot(f);
	_cleanup_free_ char *after = NULL;
	char id[DIGEST_STRING_SIZE] = "untouched";
	struct berr *err = NULL;

	assert_int_equal(image_commit(f->st, parent_id, upper, opts, id, &err), -1);
	assert_string_equal(id, "untouched");
	assert_int_equal(err->kind, kind);
	if (!strstr(err->msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, msg_part);
	berr_free(err);
	after = snapshot(f);
	assert_string_equal(before, after);
}

static void test_commit_refused(void **state)
{
	struct fixture *f = *state;
	char parent_id[DIGEST_STRING_SIZE];
	char missing[DIGEST_STRING_SIZE];
	const char *bad_change[] = { "FOO bar" };
	struct image_commit_opts opts = { .reference = "new:1" };
	_cleanup_free_ char *layers = str_printf("%s/layers", f->root);
	_cleanup_close_ int lfd = -1;
	int flags = 0;

	import_parent(f, parent_id);
	mk_file(f->upper, "added", "content\n");
	digest_bytes("no such image", 13, missing);

	refused(f, parent_id, "/nonexistent/upper", &opts, BERR_NOT_FOUND, "/nonexistent/upper");
	refused(f, missing, f->upper, &opts, BERR_NOT_FOUND, "No such image");
	opts.changes = bad_change;
	opts.n_changes = 1;
	refused(f, parent_id, f->upper, &opts, BERR_INVALID, "unknown instruction: FOO");
	opts.changes = NULL;
	opts.n_changes = 0;
	opts.reference = "UPPER";
	refused(f, parent_id, f->upper, &opts, BERR_INVALID, "invalid reference format");
	opts.reference = "new:1";
	opts.run_config_json = "{\"Cmd\": 5}";
	refused(f, parent_id, f->upper, &opts, BERR_INVALID, "Cmd");
	opts.run_config_json = "[";
	refused(f, parent_id, f->upper, &opts, BERR_INVALID, "");
	opts.run_config_json = NULL;

	/* A failure after the layer blob is stored: no new layer directory
	 * can be made, and the blob goes again. */
	lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(lfd >= 0);
	assert_int_equal(ioctl(lfd, FS_IOC_GETFLAGS, &flags), 0);
	flags |= FS_IMMUTABLE_FL;
	if (ioctl(lfd, FS_IOC_SETFLAGS, &flags) == 0) {
		refused(f, parent_id, f->upper, &opts, BERR_INTERNAL, "");
		make_mutable(layers);
	} else {
		print_message("no immutable flag here; skipping the failure half way\n");
	}

	/* And the same commit succeeds afterwards. */
	{
		char id[DIGEST_STRING_SIZE];
		struct berr *err = NULL;
		_cleanup_(store_image_free_cleanup) struct store_image *img = NULL;

		if (image_commit(f->st, parent_id, f->upper, &opts, id, &err) < 0)
			fail_msg("commit: %s", err->msg);
		img = lookup(f, "new:1");
		assert_string_equal(img->id, id);
		assert_int_equal(img->n_layers, 2);
	}
}

/*
 * Export.
 */

/* The entries of the tar in FD, one "name mode" per line, the content of
 * regular files after "=" when SHOW_DATA. */
static char *tar_listing(int fd, bool show_data)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *text = strdup("");
	char data[256];

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		la_ssize_t n = 0;
		char *more;

		if (show_data && archive_entry_filetype(e) == AE_IFREG) {
			n = archive_read_data(a, data, sizeof(data) - 1);
			assert_true(n >= 0);
		}
		data[n] = '\0';
		more = str_printf("%s%s %o%s%s\n", text, archive_entry_pathname(e),
				  (unsigned)archive_entry_perm(e), n ? "=" : "", data);
		free(text);
		text = more;
	}
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	return text;
}

static bool has_line(const char *text, const char *line)
{
	_cleanup_free_ char *needle = str_printf("\n%s", line);
	_cleanup_free_ char *hay = str_printf("\n%s", text);

	return strstr(hay, needle) != NULL;
}

/* The mounts an export could leave: its own temporary ones, and any
 * under the fixture (the rest of the machine may mount meanwhile). */
static char *mountinfo(const struct fixture *f)
{
	_cleanup_free_ char *text = NULL;
	char *out, *save = NULL;
	size_t len, used = 0;

	assert_int_equal(fs_read_file("/proc/self/mountinfo", 64 << 20, &text, &len, NULL), 0);
	out = calloc(1, len + 1);
	assert_non_null(out);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "berth-export-") && !strstr(line, f->dir))
			continue;
		used += (size_t)sprintf(out + used, "%s\n", line);
	}
	return out;
}

static size_t count_exports(void)
{
	_cleanup_closedir_ DIR *d = opendir("/tmp");
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (str_has_prefix(de->d_name, "berth-export-"))
			n++;
	return n;
}

static void test_export(void **state)
{
	struct fixture *f = *state;
	const char *lowers[] = { f->l1, f->l2 };
	_cleanup_free_ char *mounts = mountinfo(f);
	_cleanup_free_ char *mounts_after = NULL;
	_cleanup_free_ char *all = NULL;
	_cleanup_free_ char *image = NULL;
	_cleanup_free_ char *bottom = NULL;
	_cleanup_close_ int fd = memfd_create("export", MFD_CLOEXEC);
	struct berr *err = NULL;
	size_t exports = count_exports();

	assert_true(fd >= 0);
	build_container(f);
	if (image_export(lowers, 2, f->upper, fd, &err) < 0)
		fail_msg("export: %s", err->msg);
	all = tar_listing(fd, true);
	/* The container's view: its changes over what the image shows. */
	assert_true(has_line(all, "etc/ 755"));
	assert_true(has_line(all, "etc/new 644=new\n"));
	assert_true(has_line(all, "etc/passwd 644=root:x:0:0::/root:/bin/sh\n"
				  "app:x:1000:1000::/home/app:/bin/sh\n"));
	assert_true(has_line(all, "etc/hostname 644=host\n"));
	assert_true(has_line(all, "etc/extra 644=extra\n"));
	assert_true(has_line(all, "etc/link 777"));
	assert_true(has_line(all, "etc/conf/x 644=x\n"));
	assert_true(has_line(all, "newdir/f 644=f\n"));
	assert_true(has_line(all, "optdir/fresh 644=fresh\n"));
	assert_true(has_line(all, "optdir/same 644=new\n"));
	assert_true(has_line(all, "old/hidden 644=again\n"));
	assert_true(has_line(all, "lopq/cur 644=cur\n"));
	assert_true(has_line(all, "lopq/stale 644=again\n"));
	assert_true(has_line(all, "var/lib/ 700"));
	assert_true(has_line(all, "var/lib/x 644=x\n"));
	assert_true(has_line(all, "keep/k 644=k\n"));
	assert_null(strstr(all, "etc/gone"));
	assert_null(strstr(all, "olddir"));
	assert_null(strstr(all, "optdir/o1"));
	assert_null(strstr(all, ".wh."));
	assert_null(strstr(all, "etc/conf 644"));

	/* The image alone: its own whiteout and opaque dir still hide. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (image_export(lowers, 2, NULL, fd, &err) < 0)
		fail_msg("export: %s", err->msg);
	image = tar_listing(fd, false);
	assert_true(has_line(image, "etc/gone 644"));
	assert_true(has_line(image, "olddir/sub/b 644"));
	assert_true(has_line(image, "lopq/cur 644"));
	assert_null(strstr(image, "lopq/stale"));
	assert_null(strstr(image, "old/hidden"));
	assert_null(strstr(image, ".wh."));

	/* One directory is packed as it is. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (image_export(lowers, 1, NULL, fd, &err) < 0)
		fail_msg("export: %s", err->msg);
	bottom = tar_listing(fd, false);
	assert_true(has_line(bottom, "lopq/stale 644"));
	assert_true(has_line(bottom, "etc/conf 644"));
	assert_null(strstr(bottom, "etc/extra"));

	/* Nothing stays mounted, no mount point stays behind. */
	mounts_after = mountinfo(f);
	assert_string_equal(mounts, mounts_after);
	assert_int_equal(count_exports(), exports);
}

static void test_export_errors(void **state)
{
	struct fixture *f = *state;
	const char *lowers[] = { f->l1, "/nonexistent/lower" };
	_cleanup_free_ char *mounts = mountinfo(f);
	_cleanup_free_ char *mounts_after = NULL;
	struct berr *err = NULL;
	size_t exports = count_exports();
	int pfd[2];

	build_lowers(f);
	assert_int_equal(image_export(lowers, 2, f->upper, STDOUT_FILENO, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	assert_non_null(strstr(err->msg, "/nonexistent/lower"));
	berr_clear(&err);
	assert_int_equal(image_export(NULL, 0, NULL, STDOUT_FILENO, &err), -1);
	assert_int_equal(err->kind, BERR_INVALID);
	berr_clear(&err);

	/* A reader that went away fails the export, and only the export. */
	lowers[1] = f->l2;
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	close(pfd[0]);
	assert_int_equal(image_export(lowers, 2, f->upper, pfd[1], &err), -1);
	assert_int_equal(err->kind, BERR_INTERNAL);
	berr_clear(&err);
	close(pfd[1]);

	mounts_after = mountinfo(f);
	assert_string_equal(mounts, mounts_after);
	assert_int_equal(count_exports(), exports);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_simple_cases, setup, teardown),
		cmocka_unit_test(test_change_letter),
		cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_errors, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
