/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_cidr.h — IPv4 and IPv6 addresses with a prefix length: parse, format,
 * containment. Pure functions, no allocation. */
#ifndef NS_CIDR_H
#define NS_CIDR_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct ns_cidr {
	int family;             /* AF_INET or AF_INET6; 0 when unset */
	union { struct in_addr v4; struct in6_addr v6; } addr;
	unsigned prefix;
};

/* Parse "A.B.C.D/N", "A.B.C.D" (prefix 32/128) or IPv6 forms. *ret is
 * untouched on failure (-EINVAL). */
int ns_cidr_parse(const char *s, bool need_prefix, struct ns_cidr *ret);
/* Format as "A.B.C.D/N" (or without /N when with_prefix is false); "" when
 * C is unset. Truncated to SIZE, always terminated. */
void ns_cidr_format(const struct ns_cidr *c, bool with_prefix, char *buf, size_t size);
/* Is addr inside net (same family, prefix of net)? Never for an unset net. */
bool ns_cidr_contains(const struct ns_cidr *net, const struct ns_cidr *addr);
/* Are all bits after the prefix zero (C names a network, not a host in it)? */
bool ns_cidr_host_bits_zero(const struct ns_cidr *c);
/* Would the IPv4 address A (host order; pool with host-part MASK) give a
 * user the IPv6 address GATEWAY6 (unset: never)? A user's IPv6 address is
 * pool6 plus A's host part in its low 32 bits. */
bool ns_cidr_v6_is_gateway6(uint32_t a, uint32_t mask, const struct ns_cidr *gateway6);

#endif
