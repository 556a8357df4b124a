/* Unit tests for image/layer (run as root): a layer made here with
 * libarchive unpacks with its owners, modes, times, links, devices and
 * xattrs; whiteouts become overlay whiteouts; each way out of the layer is
 * refused with nothing left behind; the DiffID is the sha256 of the
 * uncompressed tar, whatever the compression. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/layer.h"
#include "lib/fsutil.h"

#define TAR_MAX (4 * 1024 * 1024)

struct ent {
	const char *path;
	mode_t type;
	mode_t perm;
	const char *data; /* regular files */
	size_t len;	  /* of data; strlen when 0 */
	const char *link; /* symlink target */
	const char *hardlink;
	dev_t rdev;
	uid_t uid;
	gid_t gid;
	time_t mtime;
	const char *xname;
	const void *xvalue;
	size_t xlen;
};

/* A file capability granting cap_net_bind_service (v2 layout, LE). */
static const unsigned char cap_value[20] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x04 };

struct fixture {
	char dir[64];
	char dest[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-layer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->dest, sizeof(f->dest), "%s/layer", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fs_remove_tree(f->dir, NULL), 0);
	free(f);
	return 0;
}

/* A tar of ENTS, compressed with FILTER (ARCHIVE_FILTER_NONE, _GZIP...). */
static char *build_tar(const struct ent *ents, size_t n, int filter, size_t *len)
{
	struct archive *a = archive_write_new();
	char *buf = malloc(TAR_MAX);
	size_t used = 0;

	assert_non_null(a);
	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const struct ent *e = &ents[i];
		struct archive_entry *ae = archive_entry_new();
		size_t dlen = e->data ? (e->len ? e->len : strlen(e->data)) : 0;

		archive_entry_set_pathname(ae, e->path);
		archive_entry_set_filetype(ae, e->type ? e->type : AE_IFREG);
		archive_entry_set_perm(ae, e->perm ? e->perm : 0644);
		archive_entry_set_uid(ae, e->uid);
		archive_entry_set_gid(ae, e->gid);
		archive_entry_set_mtime(ae, e->mtime ? e->mtime : 1600000000, 0);
		if (e->link)
			archive_entry_set_symlink(ae, e->link);
		if (e->hardlink)
			archive_entry_set_hardlink(ae, e->hardlink);
		if (e->rdev)
			archive_entry_set_rdev(ae, e->rdev);
		if (e->xname)
			archive_entry_xattr_add_entry(ae, e->xname, e->xvalue, e->xlen);
		archive_entry_set_size(ae, (la_int64_t)dlen);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (dlen)
			assert_int_equal(archive_write_data(a, e->data, dlen), (la_ssize_t)dlen);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = used;
	return buf;
}

/* DATA compressed with FILTER, no tar around it. */
static char *compress_raw(const char *data, size_t len, int filter, size_t *out_len)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char *buf = malloc(TAR_MAX);
	size_t used = 0;

	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, TAR_MAX, &used), ARCHIVE_OK);
	archive_entry_set_pathname(ae, "data");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_size(ae, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	*out_len = used;
	return buf;
}

static int unpack_bytes(const char *data, size_t len, const char *dest,
			struct image_layer_info *info, struct berr **err)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	int r;

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, data, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	r = image_layer_unpack(fd, dest, info, err);
	close(fd);
	return r;
}

static int count_entries(const char *path)
{
	struct dirent *de;
	DIR *dir = opendir(path);
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

static void at(const struct fixture *f, const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", f->dest, rel);
}

static void test_unpack_normal(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
		{ .path = "./", .type = AE_IFDIR, .perm = 0751, .mtime = 1500000000 },
		{ .path = "dir/",
		  .type = AE_IFDIR,
		  .perm = 0750,
		  .uid = 1000,
		  .gid = 1000,
		  .mtime = 1000000 },
		{ .path = "dir/file",
		  .perm = 0640,
		  .data = "hello world",
		  .uid = 1001,
		  .gid = 1002,
		  .mtime = 1234567,
		  .xname = "user.berth",
		  .xvalue = "v1",
		  .xlen = 2 },
		{ .path = "dir/ping",
		  .perm = 0755,
		  .data = "#!",
		  .xname = "security.capability",
		  .xvalue = cap_value,
		  .xlen = sizeof(cap_value) },
		{ .path = "dir/link",
		  .type = AE_IFLNK,
		  .perm = 0777,
		  .link = "/etc/passwd",
		  .uid = 7,
		  .gid = 8 },
		{ .path = "dir/hard", .hardlink = "dir/file" },
		{ .path = "dev/null", .type = AE_IFCHR, .perm = 0666, .rdev = makedev(1, 3) },
		{ .path = "dev/loop0", .type = AE_IFBLK, .perm = 0660, .rdev = makedev(7, 0) },
		{ .path = "dir/fifo", .type = AE_IFIFO, .perm = 0600 },
		{ .path = "setuid", .perm = 04755, .data = "x" },
		{ .path = "deep/a/b/c", .data = "c" },
		{ .path = "./dir//twice", .data = "first" },
		{ .path = "dir/twice", .data = "second" },
	};
	struct image_layer_info info;
	struct berr *err = NULL;
	char path[256], buf[64];
	struct stat sb, sb2;
	size_t len;
	char *tar = build_tar(ents, sizeof(ents) / sizeof(ents[0]), ARCHIVE_FILTER_NONE, &len);
	char *data = NULL;
	size_t dlen;

	assert_int_equal(unpack_bytes(tar, len, f->dest, &info, &err), 0);
	assert_null(err);
	assert_int_equal(count_entries(f->dir), 1); /* no temporary directory left */

	assert_int_equal(stat(f->dest, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0751);
	assert_int_equal(sb.st_mtime, 1500000000);

	at(f, "dir", path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(sb.st_uid, 1000);
	assert_int_equal(sb.st_gid, 1000);
	/* Set after its children were made. */
	assert_int_equal(sb.st_mtime, 1000000);

	at(f, "dir/file", path, sizeof(path));
	assert_int_equal(fs_read_file(path, 100, &data, &dlen, &err), 0);
	assert_string_equal(data, "hello world");
	free(data);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_uid, 1001);
	assert_int_equal(sb.st_gid, 1002);
	assert_int_equal(sb.st_mtime, 1234567);
	assert_int_equal(sb.st_nlink, 2);
	assert_int_equal(getxattr(path, "user.berth", buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "v1", 2);

	at(f, "dir/hard", path, sizeof(path));
	assert_int_equal(stat(path, &sb2), 0);
	assert_int_equal(sb2.st_ino, sb.st_ino);

	at(f, "dir/ping", path, sizeof(path));
	assert_int_equal(getxattr(path, "security.capability", buf, sizeof(buf)),
			 sizeof(cap_value));
	assert_memory_equal(buf, cap_value, sizeof(cap_value));

	at(f, "dir/link", path, sizeof(path));
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(sb.st_uid, 7);
	assert_int_equal(sb.st_gid, 8);
	assert_int_equal(readlink(path, buf, sizeof(buf)), strlen("/etc/passwd"));
	assert_memory_equal(buf, "/etc/passwd", strlen("/etc/passwd"));

	at(f, "dev/null", path, sizeof(path));
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(1, 3));
	assert_int_equal(sb.st_mode & 07777, 0666);
	at(f, "dev/loop0", path, sizeof(path));
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISBLK(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(7, 0));
	at(f, "dir/fifo", path, sizeof(path));
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));

	at(f, "setuid", path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 04755);
	at(f, "deep/a/b/c", path, sizeof(path));
	assert_true(fs_exists(path));

	/* A later entry for the same name replaces the earlier one. */
	at(f, "dir/twice", path, sizeof(path));
	assert_int_equal(fs_read_file(path, 100, &data, &dlen, &err), 0);
	assert_string_equal(data, "second");
	free(data);

	/* The destination must be new. */
	assert_int_equal(unpack_bytes(tar, len, f->dest, &info, &err), -1);
	assert_int_equal(err->kind, BERR_CONFLICT);
	berr_clear(&err);
	at(f, "dir/file", path, sizeof(path));
	assert_true(fs_exists(path));
	assert_int_equal(count_entries(f->dir), 1);
	free(tar);
}

static void test_whiteouts(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
		{ .path = "etc/", .type = AE_IFDIR, .perm = 0755 },
		{ .path = "etc/.wh.passwd" },
		{ .path = "usr/", .type = AE_IFDIR, .perm = 0755 },
		{ .path = "usr/.wh..wh..opq" },
		{ .path = "usr/bin", .data = "kept" },
		{ .path = ".wh.gone" },
		{ .path = "var/.wh..wh.plnk" },
	};
	struct image_layer_info info;
	struct berr *err = NULL;
	char path[256], buf[8];
	struct stat sb;
	size_t len;
	char *tar = build_tar(ents, sizeof(ents) / sizeof(ents[0]), ARCHIVE_FILTER_NONE, &len);

	assert_int_equal(unpack_bytes(tar, len, f->dest, &info, &err), 0);
	at(f, "etc/passwd", path, sizeof(path));
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(0, 0));
	assert_int_equal(sb.st_uid, 0);
	assert_int_equal(sb.st_gid, 0);
	at(f, "gone", path, sizeof(path));
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	at(f, "etc/.wh.passwd", path, sizeof(path));
	assert_false(fs_exists(path));
	at(f, ".wh.gone", path, sizeof(path));
	assert_false(fs_exists(path));
	at(f, "usr/.wh..wh..opq", path, sizeof(path));
	assert_false(fs_exists(path));
	at(f, "var/.wh..wh.plnk", path, sizeof(path));
	assert_false(fs_exists(path));
	at(f, "usr", path, sizeof(path));
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'y');
	at(f, "etc", path, sizeof(path));
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", buf, sizeof(buf)), -1);
	at(f, "usr/bin", path, sizeof(path));
	assert_true(fs_exists(path));
	free(tar);
}

static void test_diff_id(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
		{ .path = "a", .data = "alpha" },
		{ .path = "b/c", .data = "gamma" },
	};
	struct image_layer_info info;
	struct berr *err = NULL;
	char expected[DIGEST_STRING_SIZE];
	char path[160];
	size_t len, zlen;
	char *tar = build_tar(ents, 2, ARCHIVE_FILTER_NONE, &len);
	char *gz = compress_raw(tar, len, ARCHIVE_FILTER_GZIP, &zlen);

	digest_bytes(tar, len, expected);
	assert_int_equal(unpack_bytes(tar, len, f->dest, &info, &err), 0);
	assert_string_equal(info.diff_id, expected);
	assert_int_equal(info.size, len);

	assert_true(zlen < len);
	assert_int_not_equal(memcmp(gz, tar, 4), 0);
	snprintf(path, sizeof(path), "%s/gz", f->dir);
	memset(&info, 0, sizeof(info));
	assert_int_equal(unpack_bytes(gz, zlen, path, &info, &err), 0);
	assert_string_equal(info.diff_id, expected);
	assert_int_equal(info.size, len);
	snprintf(path, sizeof(path), "%s/gz/b/c", f->dir);
	assert_true(fs_exists(path));
	free(gz);

	/* zstd when this libarchive can write it. */
	{
		struct archive *probe = archive_write_new();
		bool have_zstd = archive_write_add_filter_zstd(probe) == ARCHIVE_OK;

		archive_write_free(probe);
		if (have_zstd) {
			char *zst = compress_raw(tar, len, ARCHIVE_FILTER_ZSTD, &zlen);

			snprintf(path, sizeof(path), "%s/zst", f->dir);
			assert_int_equal(unpack_bytes(zst, zlen, path, &info, &err), 0);
			assert_string_equal(info.diff_id, expected);
			free(zst);
		}
	}
	free(tar);
}

/* Unpacks what must be refused: BERR_INVALID naming NEEDLE, no destination,
 * nothing left next to it. */
static void expect_refused(const struct fixture *f, const char *data, size_t len,
			   const char *needle)
{
	struct berr *err = NULL;

	assert_int_equal(unpack_bytes(data, len, f->dest, NULL, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->kind, BERR_INVALID);
	if (needle != NULL && strstr(err->msg, needle) == NULL)
		fail_msg("\"%s\" does not name \"%s\"", err->msg, needle);
	berr_clear(&err);
	assert_false(fs_exists(f->dest));
}

static void expect_tar_refused(const struct fixture *f, const struct ent *ents, size_t n,
			       const char *needle)
{
	size_t len;
	char *tar = build_tar(ents, n, ARCHIVE_FILTER_NONE, &len);

	expect_refused(f, tar, len, needle);
	free(tar);
}

static void test_refuse_dotdot(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
		{ .path = "ok", .data = "fine" },
		{ .path = "../escaped", .data = "evil" },
	};
	const struct ent deeper[] = {
		{ .path = "a/b/../../../escaped2", .data = "evil" },
	};
	char path[160];

	expect_tar_refused(f, ents, 2, "../escaped");
	expect_tar_refused(f, deeper, 1, "escaped2");
	snprintf(path, sizeof(path), "%s/escaped", f->dir);
	assert_false(fs_exists(path));
	snprintf(path, sizeof(path), "%s/escaped2", f->dir);
	assert_false(fs_exists(path));
	assert_int_equal(count_entries(f->dir), 0);
}

static void test_refuse_absolute(void **state)
{
	struct fixture *f = *state;
	char abs[160];
	struct ent ents[] = {
		{ .path = abs, .data = "evil" },
	};

	snprintf(abs, sizeof(abs), "%s/absolute", f->dir);
	expect_tar_refused(f, ents, 1, "absolute path");
	assert_false(fs_exists(abs));
	assert_int_equal(count_entries(f->dir), 0);
}

static void test_refuse_write_through_symlink(void **state)
{
	struct fixture *f = *state;
	char outside[160], target[200];
	struct ent ents[] = {
		{ .path = "a", .type = AE_IFLNK, .link = outside },
		{ .path = "a/evil", .data = "evil" },
	};
	struct ent relative[] = {
		{ .path = "r", .type = AE_IFLNK, .link = "../outside" },
		{ .path = "r/evil", .data = "evil" },
	};
	struct ent through_hardlink[] = {
		{ .path = "a", .type = AE_IFLNK, .link = outside },
		{ .path = "h", .hardlink = "a/x" },
	};

	snprintf(outside, sizeof(outside), "%s/outside", f->dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	expect_tar_refused(f, ents, 2, "a/evil");
	expect_tar_refused(f, relative, 2, "r/evil");
	expect_tar_refused(f, through_hardlink, 2, "a/x");
	snprintf(target, sizeof(target), "%s/evil", outside);
	assert_false(fs_exists(target));
	assert_int_equal(count_entries(outside), 0);
	assert_int_equal(count_entries(f->dir), 1);
}

static void test_refuse_hardlink_outside(void **state)
{
	struct fixture *f = *state;
	const struct ent abs[] = {
		{ .path = "passwd", .hardlink = "/etc/passwd" },
	};
	const struct ent climb[] = {
		{ .path = "passwd", .hardlink = "../../../../../../etc/passwd" },
	};
	const struct ent later[] = {
		{ .path = "early", .hardlink = "later" },
		{ .path = "later", .data = "x" },
	};
	struct stat before, after;

	assert_int_equal(stat("/etc/passwd", &before), 0);
	expect_tar_refused(f, abs, 1, "passwd");
	expect_tar_refused(f, climb, 1, "passwd");
	expect_tar_refused(f, later, 2, "early");
	assert_int_equal(stat("/etc/passwd", &after), 0);
	assert_int_equal(before.st_nlink, after.st_nlink);
	assert_int_equal(count_entries(f->dir), 0);
}

static void test_refuse_truncated(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(20000);
	struct ent ents[] = {
		{ .path = "small", .data = "x" },
		{ .path = "big", .data = big, .len = 20000 },
	};
	size_t len, zlen;
	char *tar, *gz;

	assert_non_null(big);
	memset(big, 'b', 20000);
	tar = build_tar(ents, 2, ARCHIVE_FILTER_NONE, &len);
	expect_refused(f, tar, 8000, NULL);
	assert_int_equal(count_entries(f->dir), 0);

	gz = compress_raw(tar, len, ARCHIVE_FILTER_GZIP, &zlen);
	expect_refused(f, gz, zlen / 2, NULL);
	assert_int_equal(count_entries(f->dir), 0);
	free(gz);
	free(tar);
	free(big);
}

static void test_refuse_garbage(void **state)
{
	struct fixture *f = *state;
	char junk[4096];
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (char)x;
	}
	expect_refused(f, junk, sizeof(junk), NULL);
	/* A gzip header over junk. */
	junk[0] = 0x1f;
	junk[1] = (char)0x8b;
	junk[2] = 8;
	junk[3] = 0;
	expect_refused(f, junk, sizeof(junk), NULL);
	assert_int_equal(count_entries(f->dir), 0);
}

/* Reads the tar in FD into "name type" lines, one per entry. */
static void list_tar(int fd, char *out, size_t size)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t used = 0;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 10240), ARCHIVE_OK);
	out[0] = '\0';
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *kind = archive_entry_hardlink(e)		   ? "hard"
				   : archive_entry_filetype(e) == AE_IFDIR ? "dir"
				   : archive_entry_filetype(e) == AE_IFLNK ? "sym"
				   : archive_entry_filetype(e) == AE_IFREG ? "reg"
									   : "other";

		assert_false(archive_entry_atime_is_set(e));
		used += (size_t)snprintf(out + used, size - used, "%s %s\n",
					 archive_entry_pathname(e), kind);
		assert_true(used < size);
	}
	archive_read_free(a);
}

static void test_pack_round_trip(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
		{ .path = "etc/", .type = AE_IFDIR, .perm = 0755 },
		{ .path = "etc/.wh.passwd" },
		{ .path = "etc/hosts",
		  .data = "127.0.0.1 localhost\n",
		  .xname = "user.k",
		  .xvalue = "v",
		  .xlen = 1 },
		{ .path = "etc/hosts2", .hardlink = "etc/hosts" },
		{ .path = "usr/", .type = AE_IFDIR, .perm = 0700 },
		{ .path = "usr/.wh..wh..opq" },
		{ .path = "usr/lib", .type = AE_IFLNK, .link = "../lib" },
	};
	struct image_layer_info info, info2;
	struct berr *err = NULL;
	char list[1024], path[256], again[160], buf[8];
	struct stat sb, sb2;
	size_t len;
	char *tar = build_tar(ents, sizeof(ents) / sizeof(ents[0]), ARCHIVE_FILTER_NONE, &len);
	int fd = memfd_create("packed", MFD_CLOEXEC);
	int fd2 = memfd_create("packed2", MFD_CLOEXEC);

	assert_true(fd >= 0 && fd2 >= 0);
	assert_int_equal(unpack_bytes(tar, len, f->dest, &info, &err), 0);
	assert_int_equal(image_layer_pack(f->dest, fd, &err), 0);
	list_tar(fd, list, sizeof(list));
	/* In the order of the names on disk, as Docker walks a tree. */
	assert_string_equal(list, "etc/ dir\n"
				  "etc/hosts reg\n"
				  "etc/hosts2 hard\n"
				  "etc/.wh.passwd reg\n"
				  "usr/ dir\n"
				  "usr/.wh..wh..opq reg\n"
				  "usr/lib sym\n");

	/* Unpacking the packed tar gives the same tree, and the same bytes. */
	snprintf(again, sizeof(again), "%s/again", f->dir);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(image_layer_unpack(fd, again, &info2, &err), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", again);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(0, 0));
	snprintf(path, sizeof(path), "%s/usr", again);
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/etc/hosts", again);
	assert_int_equal(getxattr(path, "user.k", buf, sizeof(buf)), 1);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/etc/hosts2", again);
	assert_int_equal(stat(path, &sb2), 0);
	assert_int_equal(sb.st_ino, sb2.st_ino);
	assert_int_equal(image_layer_pack(again, fd2, &err), 0);
	assert_int_equal(lseek(fd2, 0, SEEK_SET), 0);
	memset(&info, 0, sizeof(info));
	snprintf(path, sizeof(path), "%s/third", f->dir);
	assert_int_equal(image_layer_unpack(fd2, path, &info, &err), 0);
	assert_string_equal(info.diff_id, info2.diff_id);
	/* Docker's writer ends after the two zero blocks, no padding. */
	assert_int_equal(info.size % 512, 0);
	assert_true(info.size < 10240);

	assert_int_equal(image_layer_pack("/nonexistent-berth", fd, &err), -1);
	assert_int_equal(err->kind, BERR_NOT_FOUND);
	berr_clear(&err);
	close(fd);
	close(fd2);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unpack_normal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_write_through_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_hardlink_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_round_trip, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "layer tests need root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
