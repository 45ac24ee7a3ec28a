/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/*
 * NULL when s can name an interface replyroute matches, otherwise why not:
 * what the kernel's dev_valid_name() accepts (1..15 bytes, not "." or "..",
 * no '/', ':' or whitespace as the kernel's isspace() sees it, which includes
 * 0xa0), less '"', '\\' and '*', which nft cannot match. Control characters
 * and other bytes above 0x7f are valid: print such a name with
 * value_name_escape().
 */
const char *value_ifname_invalid(const char *s);
/* What the kernel's dev_valid_name() refuses, and why; NULL: a name the kernel takes. */
const char *value_ifname_kernel_invalid(const char *s);

/* Room for any escaped interface name: IFNAMSIZ - 1 bytes of 4 each, and a NUL. */
#define VALUE_NAME_ESCAPED (4 * 16 + 1)

/*
 * name for a log line or a message: control characters, bytes from 0x7f and
 * '\\' as \xNN, the rest as it is. Cut short at a whole character when buf
 * is too small. Returns buf.
 */
const char *value_name_escape(const char *name, char *buf, size_t len);

/* value_name_escape() into a buffer that lives as long as the enclosing block: for log calls. */
#define VALUE_NAME_SHOWN(name) \
	value_name_escape((name), (char[VALUE_NAME_ESCAPED]){ 0 }, VALUE_NAME_ESCAPED)

/* A unicast address a route can point to: not unspecified, loopback, multicast or broadcast. */
bool value_gateway_valid(const struct rr_addr *a);
