/* Fuzz target for the config.json parser: any byte string must parse into a
 * spec or fail with an error, and either way free everything it made.  Also
 * runs the same bytes through the process-only parser used by exec, and
 * through the scan that finds linux.seccomp's text without a parse. */
#include <stddef.h>
#include <stdint.h>

#include "lib/berr.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runtime_spec *spec = NULL;
	struct runtime_process *process = NULL;
	struct berr *err = NULL;
	size_t start, end;

	/* The seccomp span, found without a parse, is an object inside. */
	if (runtime_spec_seccomp_span((const char *)data, size, &start, &end) &&
	    !(start < end && end <= size && data[start] == '{' && data[end - 1] == '}'))
		__builtin_trap();

	if (runtime_spec_parse((const char *)data, size, &spec, &err) == 0)
		runtime_spec_free(spec);
	else if (err == NULL || err->msg == NULL)
		__builtin_trap(); /* every failure must say why */
	berr_clear(&err);

	if (runtime_process_parse((const char *)data, size, &process, &err) == 0)
		runtime_process_free(process);
	else if (err == NULL || err->msg == NULL)
		__builtin_trap();
	berr_clear(&err);
	return 0;
}
