/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address: family is AF_INET or AF_INET6, 0 when unset. */
struct rr_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* An IPv4 or IPv6 literal (no scope, no prefix length); 0 or -EINVAL. */
int rr_addr_parse(const char *s, struct rr_addr *ret);
/* buf of INET6_ADDRSTRLEN is enough; NULL (errno set) when unset or too small. */
const char *rr_addr_str(const struct rr_addr *a, char *buf, size_t len);
/* Same family and address; two unset addresses are equal. */
bool rr_addr_eq(const struct rr_addr *a, const struct rr_addr *b);

/*
 * a is inside net/len: same family, same first len bits. A len longer than
 * the family's address is taken as the whole address; an unset address is
 * inside nothing.
 */
bool rr_addr_in_prefix(const struct rr_addr *a, const struct rr_addr *net, unsigned len);
/* Clears every bit after the first len, turning an address into its prefix. */
void rr_addr_mask(struct rr_addr *a, unsigned len);
