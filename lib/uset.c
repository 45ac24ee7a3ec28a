/* SPDX-License-Identifier: MIT */
#include "uset.h"

#include <stdlib.h>

static int uset_compare(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void uset_sort(uint32_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), uset_compare);
}

size_t uset_lower_bound(const uint32_t *v, size_t n, uint32_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool uset_has(const uint32_t *v, size_t n, uint32_t x)
{
	size_t i = uset_lower_bound(v, n, x);

	return i < n && v[i] == x;
}

uint32_t uset_mask_next(uint32_t mask, uint32_t m)
{
	/*
	 * Setting every bit outside the mask makes +1 carry straight across
	 * them into the next mask bit: counting in the mask's bits only.
	 */
	return (uint32_t)((m | ~mask) + 1u) & mask;
}
