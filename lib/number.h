/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/*
 * A number as the config and rt_tables write it: decimal or 0x hexadecimal,
 * the whole string, no sign, no whitespace. 0, -EINVAL when it is not a
 * number, -ERANGE when it does not fit 32 bits; *ret is only set on success.
 */
int number_parse_u32(const char *s, uint32_t *ret);
