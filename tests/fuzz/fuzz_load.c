/* Fuzz target for `docker load`: any byte string is loaded into a fresh
 * image store and must either succeed or fail with a message, never
 * crash; a failed load must leave no blob and no layer directory behind.
 * The store is removed again either way. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/archive.h"
#include "lib/berr.h"
#include "lib/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The entries of ROOT/SUB but "." and "..". */
static size_t count_dir(const char *root, const char *sub)
{
	char path[128];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	d = opendir(path);
	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[] = "/tmp/berth-fuzz-load-XXXXXX";
	struct image_load_result res = { 0 };
	struct image_store *st = NULL;
	struct berr *err = NULL;
	int fd;

	fd = memfd_create("archive", MFD_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    mkdtemp(root) == NULL || image_store_open(root, &st, &err) < 0)
		abort();
	if (image_load(st, fd, &res, &err) < 0) {
		if (err == NULL || err->msg == NULL)
			__builtin_trap(); /* every failure must say why */
		/* Nothing half done stays after a failure. */
		if (count_dir(root, "blobs/sha256") != 0 || count_dir(root, "layers") != 0 ||
		    count_dir(root, "tmp") != 0)
			__builtin_trap();
	}
	image_load_result_clear(&res);
	berr_clear(&err);
	image_store_free(st);
	close(fd);
	if (fs_remove_tree(root, &err) < 0)
		abort();
	return 0;
}
