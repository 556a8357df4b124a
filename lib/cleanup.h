/* Scope-bound cleanup: a variable marked with one of these macros is freed,
 * closed or released on every path out of its scope.  Ownership leaves a
 * scope only through steal_ptr() or steal_fd(). */
#ifndef BERTH_LIB_CLEANUP_H
#define BERTH_LIB_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "berr.h"

#define _cleanup_(fn) __attribute__((cleanup(fn)))

/* Defines NAME_cleanup(TYPE *p) that calls FREE_FN(*p) when *p is set. */
#define DEFINE_CLEANUP(type, free_fn)                 \
	static inline void free_fn##_cleanup(type *p) \
	{                                             \
		if (*p)                               \
			free_fn(*p);                  \
	}

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

/* Closing keeps errno, so a cleanup on an error path does not hide it. */
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f) {
		int saved = errno;
		fclose(*f);
		errno = saved;
	}
}

static inline void cleanup_closedirp(DIR **d)
{
	if (*d) {
		int saved = errno;
		closedir(*d);
		errno = saved;
	}
}

static inline void cleanup_berrp(struct berr **e)
{
	berr_clear(e);
}

#define _cleanup_free_	   _cleanup_(cleanup_freep)
#define _cleanup_close_	   _cleanup_(cleanup_closep)
#define _cleanup_fclose_   _cleanup_(cleanup_fclosep)
#define _cleanup_closedir_ _cleanup_(cleanup_closedirp)
#define _cleanup_berr_	   _cleanup_(cleanup_berrp)

static inline void *steal_ptr_impl(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}

/* Typed: the result has the pointer's own type. */
#define steal_ptr(pp) ((__typeof__(*(pp)))steal_ptr_impl((void **)(pp)))

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#endif
