/* SPDX-License-Identifier: MIT */
/*
 * Numbers in config files. Not strtoul(): it takes a sign and leading
 * whitespace, and octal with base 0, none of which a mark or table should be.
 */
#include "number.h"

#include <errno.h>
#include <stdbool.h>

int number_parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v = 0;
	unsigned base = 10;
	bool overflow = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return -EINVAL;
	/* Read to the end even past an overflow: "99999999999x" is not a number. */
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned) (*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned) (*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned) (*s - 'A' + 10);
		else
			return -EINVAL;
		if (!overflow) {
			v = v * base + d;
			if (v > UINT32_MAX)
				overflow = true;
		}
	}
	if (overflow)
		return -ERANGE;
	*ret = (uint32_t) v;
	return 0;
}
