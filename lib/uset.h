/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Sets of 32-bit numbers (marks, table numbers) as sorted arrays: built once,
 * then asked many times, so that allocating n numbers costs n log n rather
 * than n times the size of everything already taken.
 */

/* Sort v ascending; duplicates are kept. */
void uset_sort(uint32_t *v, size_t n);

/* Whether the sorted v holds x. */
bool uset_has(const uint32_t *v, size_t n, uint32_t x);

/* Index of the first element of the sorted v not below x (n when none is). */
size_t uset_lower_bound(const uint32_t *v, size_t n, uint32_t x);

/*
 * The smallest number above m made only of mask's bits (a submask), 0 when
 * there is none: the candidates for a mark inside a mask, in increasing
 * order, without visiting the 2^32 numbers between 0x1 and 0x80000000.
 */
uint32_t uset_mask_next(uint32_t mask, uint32_t m);
