/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/*
 * A number as the config and rt_tables write it: decimal or 0x hexadecimal,
 * the whole string, no sign, no whitespace. 0, -EINVAL when it is not a
 * number, -ERANGE when it does not fit 32 bits; *ret is only set on success.
 */
int value_parse_u32(const char *s, uint32_t *ret);

/* yes/true/on/1 or no/false/off/0, any case; 0 or -EINVAL. */
int value_parse_bool(const char *s, bool *ret);

/* NULL when s can name an interface replyroute matches, otherwise why not. */
const char *value_ifname_invalid(const char *s);

/* A unicast address a route can point to: not unspecified, loopback, multicast or broadcast. */
bool value_gateway_valid(const struct rr_addr *a);
