/* OCI lifecycle hooks: each hook is a program run with its args and env,
 * the container state JSON on its stdin, and a timeout after which it is
 * killed. */
#ifndef BERTH_RUNTIME_HOOKS_H
#define BERTH_RUNTIME_HOOKS_H

#include "lib/berr.h"
#include "runtime/spec.h"

/* Runs the hooks of LIST in order, each to completion; stops at the first
 * that fails (non-zero exit, killed, timed out, not executable) and sets
 * BERR_INTERNAL naming the hook path, its index and what happened. */
int runtime_hooks_run(const struct runtime_hook_list *list, const char *state_json,
		      struct berr **err);

/* Same, but a failing hook is only logged and the rest still run (poststop
 * and poststart after the point of no return). */
void runtime_hooks_run_all(const struct runtime_hook_list *list, const char *state_json);

/* Whether SPEC has prestart or createRuntime hooks, which the runtime runs
 * while the init waits, its mounts made: without them neither waits for
 * the other there. */
bool runtime_hooks_runtime_side(const struct runtime_spec *spec);

#endif
