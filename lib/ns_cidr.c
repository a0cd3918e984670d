/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_cidr.c — CIDR maths: parse, format, containment, host bits. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ns_cidr.h"
#include "ns_util.h"

int ns_cidr_parse(const char *s, bool need_prefix, struct ns_cidr *ret)
{
	char buf[64];
	struct ns_cidr c = { 0 };
	if (ns_strlcpy(buf, s, sizeof(buf)) < 0)
		return -EINVAL;
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &c.addr.v4) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &c.addr.v6) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = c.family == AF_INET ? 32 : 128;
	if (slash) {
		unsigned long p;
		if (ns_parse_ulong(slash + 1, max, &p) < 0)
			return -EINVAL;
		c.prefix = (unsigned)p;
	} else {
		if (need_prefix)
			return -EINVAL;
		c.prefix = max;
	}
	*ret = c;
	return 0;
}

void ns_cidr_format(const struct ns_cidr *c, bool with_prefix, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "";
	if (!c->family) {
		snprintf(buf, size, "%s", "");
		return;
	}
	inet_ntop(c->family, &c->addr, a, sizeof(a));
	if (with_prefix)
		snprintf(buf, size, "%s/%u", a, c->prefix);
	else
		snprintf(buf, size, "%s", a);
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		return (a[full] & mask) == (b[full] & mask);
	}
	return true;
}

bool ns_cidr_contains(const struct ns_cidr *net, const struct ns_cidr *addr)
{
	if (!net->family || net->family != addr->family)
		return false;
	return prefix_match((const unsigned char *)&net->addr, (const unsigned char *)&addr->addr,
			    net->prefix);
}

bool ns_cidr_v6_is_gateway6(uint32_t a, uint32_t mask, const struct ns_cidr *gateway6)
{
	if (gateway6->family != AF_INET6)
		return false;
	const uint8_t *b = gateway6->addr.v6.s6_addr;
	uint32_t h6 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
	return (a & ~mask) == (h6 & ~mask);
}

bool ns_cidr_host_bits_zero(const struct ns_cidr *c)
{
	struct ns_cidr z = *c;
	memset(&z.addr, 0, sizeof(z.addr));
	size_t len = c->family == AF_INET ? 4 : 16;
	unsigned char *za = (unsigned char *)&z.addr;
	const unsigned char *ca = (const unsigned char *)&c->addr;
	for (unsigned i = 0; i < c->prefix; i++)
		za[i / 8] |= (unsigned char)(ca[i / 8] & (0x80 >> (i % 8)));
	return memcmp(za, ca, len) == 0;
}
