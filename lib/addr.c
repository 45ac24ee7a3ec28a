/* SPDX-License-Identifier: MIT */
/*
 * struct rr_addr: an IPv4 or IPv6 address, as the config names gateways and
 * the kernel view holds addresses, routes and rules.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int rr_addr_parse(const char *s, struct rr_addr *ret)
{
	struct rr_addr a = { 0 };

	if (!s || !ret)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

const char *rr_addr_str(const struct rr_addr *a, char *buf, size_t len)
{
	if (!a || !buf || (a->family != AF_INET && a->family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	return inet_ntop(a->family, a->bytes, buf, (socklen_t) len);
}

bool rr_addr_eq(const struct rr_addr *a, const struct rr_addr *b)
{
	if (a->family != b->family)
		return false;
	switch (a->family) {
	case AF_INET:
		return a->v4.s_addr == b->v4.s_addr;
	case AF_INET6:
		return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
	default:
		return true; /* both unset */
	}
}

/* Bits in an address of this family; 0 when unset. */
static unsigned rr_addr_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

bool rr_addr_in_prefix(const struct rr_addr *a, const struct rr_addr *net, unsigned len)
{
	unsigned max = rr_addr_bits(net->family), bytes, bits;

	if (a->family != net->family || max == 0)
		return false;
	/* Clamped, so a bogus length cannot read past the address. */
	if (len > max)
		len = max;
	bytes = len / 8;
	bits = len % 8;
	if (memcmp(a->bytes, net->bytes, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a->bytes[bytes] ^ net->bytes[bytes]) & (0xff00 >> bits)) == 0;
}

void rr_addr_mask(struct rr_addr *a, unsigned len)
{
	unsigned max = rr_addr_bits(a->family);

	for (unsigned i = 0; i < max / 8; i++) {
		if (len >= 8 * (i + 1))
			continue;
		a->bytes[i] &= len > 8 * i ? (uint8_t) (0xff00 >> (len - 8 * i)) : 0;
	}
}
