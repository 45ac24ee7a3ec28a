/* SPDX-License-Identifier: MIT */
/*
 * Single values of config files, checked the same wherever they appear.
 */
#include "value.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Not strtoul(): it takes a sign and leading whitespace, and octal with base 0. */
int value_parse_u32(const char *s, uint32_t *ret)
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

int value_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* The kernel's isspace() (lib/ctype.c): ASCII whitespace and Latin-1's no-break space. */
static bool value_kernel_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

/* The kernel's dev_valid_name() rules, and what nft can match. */
const char *value_ifname_kernel_invalid(const char *s)
{
	if (*s == '\0')
		return "empty";
	if (strlen(s) >= IFNAMSIZ)
		return "too long (at most 15 bytes)";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "not allowed as an interface name";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '/' || c == ':')
			return "'/' and ':' are not allowed in interface names";
		if (value_kernel_space(c))
			return "whitespace is not allowed in interface names";
	}
	return NULL;
}

const char *value_ifname_invalid(const char *s)
{
	const char *why = value_ifname_kernel_invalid(s);

	/* Valid for the kernel, but cannot be written as an nft string (a trailing
	 * '*' would be a wildcard there). */
	if (!why && s[strcspn(s, "\"\\*")])
		why = "quotes, backslashes and '*' cannot be matched in nftables";
	return why;
}

const char *value_name_escape(const char *name, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return buf;
	for (; *name && at + 1 < len; name++) {
		unsigned char c = (unsigned char)*name;

		/* Whole escapes only: a cut one would read as another byte. */
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			if (at + 5 > len)
				break;
			snprintf(buf + at, 5, "\\x%02x", c);
			at += 4;
		} else {
			buf[at++] = (char)c;
		}
	}
	buf[at] = '\0';
	return buf;
}

bool value_gateway_valid(const struct rr_addr *a)
{
	if (a->family == AF_INET) {
		uint32_t v = ntohl(a->v4.s_addr);

		return v != 0 && v != 0xffffffffu && (v >> 24) != 127 && (v >> 28) != 0xe;
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&a->v6) && !IN6_IS_ADDR_LOOPBACK(&a->v6) &&
		!IN6_IS_ADDR_MULTICAST(&a->v6);
}
