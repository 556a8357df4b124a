/* What the image store's unit tests share: a fixture holding a fresh data
 * root in /tmp with an image store open on it, removed after the test, and
 * an fd reading bytes from memory.  Include after <cmocka.h>. */
#ifndef BERTH_TESTS_IMAGE_STORE_TESTUTIL_H
#define BERTH_TESTS_IMAGE_STORE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/image.h"
#include "lib/fsutil.h"

struct fixture {
	char root[64];
	struct image_store *st;
};

/* cmocka setup: a new data root /tmp/berth-store-XXXXXX and its store. */
static inline int store_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/berth-store-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	if (image_store_open(f->root, &f->st, &err) < 0)
		fail_msg("open: %s", err->msg);
	*state = f;
	return 0;
}

static inline int store_teardown(void **state)
{
	struct fixture *f = *state;

	image_store_free(f->st);
	assert_int_equal(fs_remove_tree(f->root, NULL), 0);
	free(f);
	return 0;
}

/* An fd (the caller's) reading the LEN bytes at DATA from the start. */
static inline int data_fd(const void *data, size_t len)
{
	int fd = memfd_create("data", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, data, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

#endif
