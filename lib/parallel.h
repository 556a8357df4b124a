/* A bounded parallel-for for blocking work (unpacking, hashing) inside one
 * call: the calling thread and up to MAX_WORKERS - 1 helper threads take
 * the items in turn.  It needs no event loop, so a call already running on
 * the daemon's thread pool can use it without waiting on that pool. */
#ifndef BERTH_LIB_PARALLEL_H
#define BERTH_LIB_PARALLEL_H

#include <stddef.h>

/* The number of workers worth using on this machine (the online CPUs,
 * at least 1). */
unsigned parallel_default_workers(void);

/* Calls FN(I, ARG) once for each I in [0, N), on at most MAX_WORKERS
 * threads (0 means parallel_default_workers()), and returns when every call
 * has returned.  Calls must not depend on one another's order.  When a
 * helper thread cannot be started, the remaining items run on the others.
 * Returns the number of calls for which FN returned nonzero. */
size_t parallel_for(size_t n, unsigned max_workers, int (*fn)(size_t i, void *arg), void *arg);

#endif
