/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * When to try again after a failed reconcile: the one place that decides.
 * A dump interrupted by concurrent changes (-EINTR) means the kernel is busy,
 * not that anything is wrong: retry soon, and stay soon (5 ms doubling to
 * 100 ms). A change refused because the view was already out of date (an
 * address or link went away meanwhile: -EINVAL, -ENODEV, -ENETDOWN, ...) is
 * retried soon too, but backs off to 1 s in case it is not that. Anything
 * else backs off from 0.5 s doubling to 60 s.
 */

#include <stdbool.h>
#include <stdint.h>

#define RETRY_BUSY_MIN_USEC (5 * 1000ULL)
#define RETRY_BUSY_MAX_USEC (100 * 1000ULL)
#define RETRY_STALE_MAX_USEC (1000 * 1000ULL)
#define RETRY_MIN_USEC (500 * 1000ULL)
#define RETRY_MAX_USEC (60 * 1000 * 1000ULL)

/* prev_usec: the last delay (0: none since the last success); err: the failure. */
uint64_t retry_next(uint64_t prev_usec, int err);
/* Whether err is what the kernel answers a change made from an out-of-date view. */
bool retry_stale_view(int err);
