/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * When to try again after a failed reconcile: the one place that decides.
 * A dump interrupted by concurrent changes (-EINTR) means the kernel is busy,
 * not that anything is wrong: retry soon, and stay soon. Anything else backs
 * off, doubling from RETRY_MIN_USEC to RETRY_MAX_USEC.
 */

#include <stdint.h>

#define RETRY_BUSY_MIN_USEC (5 * 1000ULL)
#define RETRY_BUSY_MAX_USEC (100 * 1000ULL)
#define RETRY_MIN_USEC (500 * 1000ULL)
#define RETRY_MAX_USEC (60 * 1000 * 1000ULL)

/* prev_usec: the last delay (0: none since the last success); err: the failure. */
uint64_t retry_next(uint64_t prev_usec, int err);
