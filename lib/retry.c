/* SPDX-License-Identifier: MIT */
#include "retry.h"

#include <errno.h>

bool retry_stale_view(int err)
{
	return err == -EINVAL || err == -ENODEV || err == -ENETDOWN || err == -ENETUNREACH ||
	       err == -EADDRNOTAVAIL || err == -ESRCH;
}

uint64_t retry_next(uint64_t prev_usec, int err)
{
	uint64_t min = RETRY_MIN_USEC, max = RETRY_MAX_USEC;

	if (err == -EINTR || err == -EBUSY) {
		min = RETRY_BUSY_MIN_USEC;
		max = RETRY_BUSY_MAX_USEC;
	} else if (retry_stale_view(err)) {
		min = RETRY_BUSY_MIN_USEC;
		max = RETRY_STALE_MAX_USEC;
	}
	if (prev_usec < min)
		return min;
	/* A busy kernel after a real failure: back to the short delay; and the other way round. */
	if (prev_usec >= max)
		return max;
	return prev_usec * 2 > max ? max : prev_usec * 2;
}
