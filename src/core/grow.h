/*
 * grow.h — the one "grow an array to hold `need` elements" helper: doubles
 * the capacity (from 1024), checks the multiplication, and leaves the array
 * untouched on failure. Internal (not installed); usable from any layer.
 */
#ifndef HG_CORE_GROW_H
#define HG_CORE_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Ensures *p has room for `need` elements of `elem` bytes; *cap counts
 * elements. Returns 0, or -1 (nothing changed) when out of memory. */
static inline int hg__grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 1024;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -1;
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		return -1;
	void *q = realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

#endif
