/* Fuzz target for the layer unpacker: any byte string is unpacked into a
 * fresh directory, and extracted as `docker cp` extracts into an existing
 * one, and must either succeed or fail with a message, never crash, and
 * the directories are removed again either way. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "lib/berr.h"
#include "lib/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/berth-fuzz-layer-XXXXXX";
	char dest[sizeof(dir) + 8];
	struct image_layer_info info;
	struct berr *err = NULL;
	int fd, dirfd;

	fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    mkdtemp(dir) == NULL)
		abort();
	snprintf(dest, sizeof(dest), "%s/layer", dir);
	if (image_layer_unpack(fd, dest, &info, &err) < 0 && (err == NULL || err->msg == NULL))
		__builtin_trap(); /* every failure must say why */
	berr_clear(&err);
	snprintf(dest, sizeof(dest), "%s/cp", dir);
	if (mkdir(dest, 0755) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	dirfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		abort();
	if (image_tar_extract(fd, dirfd,
			      IMAGE_EXTRACT_PLAIN | IMAGE_EXTRACT_NO_OVERWRITE_DIR_NON_DIR,
			      &err) < 0 &&
	    (err == NULL || err->msg == NULL))
		__builtin_trap();
	berr_clear(&err);
	close(dirfd);
	close(fd);
	if (fs_remove_tree(dir, &err) < 0)
		abort();
	return 0;
}
