/* Running from a sealed in-memory copy of the runtime binary.  A process in
 * a container can reach the runtime's executable through /proc/<pid>/exe
 * while the runtime is in the container's namespaces; if that were the
 * binary on the host, it could be overwritten (CVE-2019-5736).  A sealed
 * memfd cannot be written by anyone. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fsutil.h"
#include "runtime/runtime.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* From <linux/capability.h>, without its other definitions. */
#define CAP_SYS_PTRACE_NR 19

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static bool running_sealed(int exe_fd)
{
	int seals = fcntl(exe_fd, F_GET_SEALS);

	return seals >= 0 && (seals & SEALS) == SEALS;
}

static int sealed_copy(int exe_fd, struct berr **err)
{
	_cleanup_close_ int memfd = -1;
	struct stat st;
	off_t off = 0;

	memfd = memfd_create("berth-runc", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (memfd < 0 && errno == EINVAL)
		memfd = memfd_create("berth-runc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "memfd_create");
	if (fstat(exe_fd, &st) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "stat /proc/self/exe");
	while (off < st.st_size) {
		ssize_t n = sendfile(memfd, exe_fd, &off, (size_t)(st.st_size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berr_set(err, BERR_INTERNAL, n < 0 ? errno : EIO,
					"copy the runtime binary");
	}
	if (fcntl(memfd, F_ADD_SEALS, SEALS) < 0)
		return berr_set(err, BERR_INTERNAL, errno, "seal the runtime binary");
	return steal_fd(&memfd);
}

int runtime_reexec_sealed(char **argv, struct berr **err)
{
	_cleanup_close_ int exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int memfd = -1;

	if (exe_fd < 0)
		return berr_set(err, BERR_INTERNAL, errno, "open /proc/self/exe");
	if (running_sealed(exe_fd))
		return 0;
	memfd = sealed_copy(exe_fd, err);
	if (memfd < 0)
		return -1;
	fexecve(memfd, argv, environ);
	return berr_set(err, BERR_INTERNAL, errno, "re-execute the sealed runtime binary");
}

bool runtime_bundle_needs_sealed_binary(const char *bundle)
{
	struct runtime_spec *spec = NULL;
	bool needs = true;

	if (runtime_spec_load(bundle ? bundle : ".", &spec, NULL) < 0)
		return true;
	if (spec->namespaces[RUNTIME_NS_USER].enabled)
		needs = false;
	else if (spec->process != NULL && spec->process->caps.present)
		needs = (spec->process->caps.bounding & (UINT64_C(1) << CAP_SYS_PTRACE_NR)) != 0;
	runtime_spec_free(spec);
	return needs;
}
