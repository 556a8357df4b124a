/* Growing arrays by doubling, for the many lists built one element at a
 * time (images, layers, archive entries). */
#ifndef BERTH_LIB_ARRAY_H
#define BERTH_LIB_ARRAY_H

#include <stdlib.h>
#include <string.h>

/* Grows *ARR (elements of SIZE, *CAP of them allocated) so that it holds
 * at least N + 1; new elements are zeroed.  Returns -1 when out of memory,
 * *ARR unchanged then. */
static inline int array_grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void **p = arr;
	size_t want;
	void *bigger;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 8;
	bigger = reallocarray(*p, want, size);
	if (!bigger)
		return -1;
	memset((char *)bigger + *cap * size, 0, (want - *cap) * size);
	*p = bigger;
	*cap = want;
	return 0;
}

#endif
