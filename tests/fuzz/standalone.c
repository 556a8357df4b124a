/* Replays files through a fuzz target without libFuzzer, so every build can
 * run the corpus: `replay_<name> FILE...`. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/berr.h"
#include "lib/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct berr *err = NULL;
		char *data = NULL;
		size_t len = 0;

		if (fs_read_file(argv[i], 64 * 1024 * 1024, &data, &len, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			berr_free(err);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		free(data);
	}
	return 0;
}
