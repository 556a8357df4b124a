/* Unit tests for local volumes: Docker's name rule and message, a create
 * that makes the directory and the record once (the same name gives the
 * same volume), other drivers and driver options refused, the JSON shape,
 * removal of the record and the directory, and the copy of an image's
 * directory into a new volume: files, directories, symlinks (not
 * followed), a fifo, owners, modes and times, the source's owner and mode
 * on the volume, and nothing copied into a volume that holds something. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/store.h"
#include "volume/volume.h"

struct fixture {
	char dir[64];
	char *root;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-volume-XXXXXX");
	if (!mkdtemp(f->dir) || store_open(f->dir, &f->st, NULL) < 0)
		return -1;
	f->root = str_printf("%s/" VOLUME_DIR, f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	fs_remove_tree(f->dir, NULL);
	free(f->root);
	free(f);
	return 0;
}

static void expect_error(struct berr **err, enum berr_kind kind, const char *msg)
{
	assert_non_null(*err);
	if ((*err)->kind != kind || (msg && strcmp((*err)->msg, msg) != 0))
		fprintf(stderr, "unexpected error: %s\n", (*err)->msg);
	assert_int_equal((*err)->kind, kind);
	if (msg)
		assert_string_equal((*err)->msg, msg);
	berr_clear(err);
}

static void test_names(void **state)
{
	struct berr *err = NULL;

	assert_int_equal(volume_name_check("data", NULL), 0);
	assert_int_equal(volume_name_check("a1_b.c-d", NULL), 0);
	assert_int_equal(volume_name_check("x", &err), -1);
	expect_error(&err, BERR_INVALID,
		     "create x: volume name is too short, names should be at least two "
		     "alphanumeric characters");
	assert_int_equal(volume_name_check("-x", &err), -1);
	expect_error(&err, BERR_INVALID, NULL);
	assert_int_equal(volume_name_check("a/b", &err), -1);
	expect_error(&err, BERR_INVALID,
		     "create a/b: \"a/b\" includes invalid characters for a local volume name, "
		     "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a "
		     "host directory, use absolute path");
}

static void test_create_inspect_remove(void **state)
{
	struct fixture *f = *state;
	json_t *labels = json_pack("{s:s}", "a", "b");
	json_t *opts = json_pack("{s:s}", "type", "tmpfs");
	json_t *bogus = json_pack("{s:s}", "bogus", "1");
	struct volume_spec spec = { .name = "data", .labels = labels };
	struct store_volume *v = NULL;
	struct berr *err = NULL;
	bool created = false;
	char *mountpoint = volume_mountpoint(f->root, "data");
	char *text;
	json_t *j;

	assert_int_equal(volume_create(f->st, f->root, &spec, &v, &created, &err), 0);
	assert_true(created);
	assert_true(fs_exists(mountpoint));
	j = volume_json(v, f->root);
	json_object_del(j, "CreatedAt");
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	free(mountpoint);
	mountpoint = str_printf("{\"Driver\":\"local\",\"Labels\":{\"a\":\"b\"},\"Mountpoint\":"
				"\"%s/data/_data\",\"Name\":\"data\",\"Options\":null,\"Scope\":"
				"\"local\"}",
				f->root);
	assert_string_equal(text, mountpoint);
	free(text);
	json_decref(j);
	store_volume_free(v);

	/* Again: the same volume, not made anew. */
	assert_int_equal(volume_create(f->st, f->root, &spec, NULL, &created, &err), 0);
	assert_false(created);

	spec = (struct volume_spec){ .name = "other", .driver = "nosuch" };
	assert_int_equal(volume_create(f->st, f->root, &spec, NULL, &created, &err), -1);
	expect_error(&err, BERR_NOT_FOUND,
		     "create other: error looking up volume plugin nosuch: plugin \"nosuch\" not "
		     "found");
	spec = (struct volume_spec){ .name = "other", .options = bogus };
	assert_int_equal(volume_create(f->st, f->root, &spec, NULL, &created, &err), -1);
	expect_error(&err, BERR_INVALID, "create other: invalid option: \"bogus\"");
	spec.options = opts;
	assert_int_equal(volume_create(f->st, f->root, &spec, NULL, &created, &err), -1);
	expect_error(&err, BERR_NOT_IMPLEMENTED, NULL);
	text = str_printf("%s/other", f->root);
	assert_false(fs_exists(text));
	free(text);

	assert_int_equal(volume_remove(f->st, f->root, "data", &err), 0);
	text = str_printf("%s/data", f->root);
	assert_false(fs_exists(text));
	free(text);
	assert_int_equal(volume_remove(f->st, f->root, "data", &err), -1);
	expect_error(&err, BERR_NOT_FOUND, "get data: no such volume");
	free(mountpoint);
	json_decref(labels);
	json_decref(opts);
	json_decref(bogus);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(fs_write_file_replace(path, text, strlen(text), 0644, NULL), 0);
}

static void test_populate(void **state)
{
	struct fixture *f = *state;
	char *src = str_printf("%s/src", f->dir), *to = str_printf("%s/to", f->dir);
	char path[512], link[64];
	struct timespec times[2] = { { .tv_sec = 1000 }, { .tv_sec = 2000 } };
	struct stat st;
	int from;
	ssize_t n;

	assert_int_equal(mkdir(src, 0750), 0);
	assert_int_equal(chown(src, 123, 45), 0);
	snprintf(path, sizeof(path), "%s/sub", src);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/f", src);
	write_file(path, "hello\n");
	assert_int_equal(chown(path, 7, 8), 0);
	assert_int_equal(chmod(path, 04751), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	snprintf(path, sizeof(path), "%s/link", src);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", src);
	assert_int_equal(mkfifo(path, 0640), 0);
	assert_int_equal(mkdir(to, 0755), 0);

	from = open(src, O_RDONLY | O_DIRECTORY);
	assert_true(from >= 0);
	assert_int_equal(volume_populate(from, to, NULL), 0);
	assert_int_equal(stat(to, &st), 0);
	assert_int_equal(st.st_uid, 123);
	assert_int_equal(st.st_gid, 45);
	assert_int_equal(st.st_mode & 07777, 0750);
	snprintf(path, sizeof(path), "%s/sub/f", to);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_mode & 07777, 04751);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(st.st_mtim.tv_sec, 2000);
	snprintf(path, sizeof(path), "%s/sub", to);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/link", to);
	n = readlink(path, link, sizeof(link) - 1);
	assert_int_equal(n, strlen("/etc/passwd"));
	link[n] = '\0';
	assert_string_equal(link, "/etc/passwd");
	snprintf(path, sizeof(path), "%s/fifo", to);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));

	/* A volume that holds something gets nothing. */
	snprintf(path, sizeof(path), "%s/new", src);
	write_file(path, "new\n");
	assert_int_equal(volume_populate(from, to, NULL), 0);
	snprintf(path, sizeof(path), "%s/new", to);
	assert_false(fs_exists(path));
	close(from);
	free(src);
	free(to);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_create_inspect_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_populate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
