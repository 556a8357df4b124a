/* The last steps of a container process before execve: rlimits, umask,
 * oom_score_adj, user and groups, the five capability sets,
 * no_new_privileges, the environment and the working directory, and the
 * closing of every inherited fd beyond stdio.  The same code finishes the
 * container's init and every `exec`'d process. */
#ifndef BERTH_RUNTIME_PROCESS_H
#define BERTH_RUNTIME_PROCESS_H

#include <stdbool.h>

#include "lib/berr.h"
#include "runtime/spec.h"

/* Before the user changes, while still root in the container: rlimits,
 * oom_score_adj, umask. */
int runtime_process_apply_limits(const struct runtime_process *proc, struct berr **err);

/* Switches to proc->uid, proc->gid and the additional gids (setgroups is
 * skipped when SETGROUPS_ALLOWED is false, as in a user namespace where
 * /proc/self/setgroups says deny), keeping the capabilities the spec asks
 * for across the change, then sets all five capability sets and
 * no_new_privileges.  Unknown capabilities past CAP_LAST_CAP of this kernel
 * are dropped quietly. */
int runtime_process_apply_identity(const struct runtime_process *proc, bool setgroups_allowed,
				   struct berr **err);

/* chdir into proc->cwd, which is resolved after pivot_root and checked to
 * be inside the root (a cwd that escapes, such as a leaked /proc/self/fd
 * path, is refused with BERR_FORBIDDEN). */
int runtime_process_enter_cwd(const struct runtime_process *proc, struct berr **err);

/* Marks every fd from 3 + PRESERVE_FDS upwards close-on-exec, so nothing of
 * the runtime reaches the container. */
int runtime_process_close_fds(int preserve_fds, struct berr **err);

/* execve of proc->args[0], looked up in the PATH of proc->env when it has
 * no '/'.  Returns only on failure: BERR_NOT_FOUND when there is no such
 * executable, BERR_FORBIDDEN when it is not executable. */
int runtime_process_exec(const struct runtime_process *proc, struct berr **err);

/* Builds the bitmask of "CAP_*" names; unknown names are BERR_INVALID. */
int runtime_caps_from_names(char *const *names, uint64_t *mask, struct berr **err);

/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int runtime_caps_last_cap(void);

#endif
