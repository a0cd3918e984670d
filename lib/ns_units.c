/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_units.c — rates and sizes with units (the rate and burst keys). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ns_units.h"

/* S is digits then exactly one of UNITS; the value times the matching
 * MULT must be non-zero and fit in 64 bits. */
static int parse_with_units(const char *s, const char *const *units, const uint64_t *mult,
			    uint64_t *ret)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (int i = 0; units[i]; i++)
		if (strcmp(end, units[i]) == 0) {
			if (v == 0 || v > UINT64_MAX / mult[i])
				return -EINVAL;
			*ret = v * mult[i];
			return 0;
		}
	return -EINVAL;
}

int ns_parse_rate(const char *s, uint64_t *ret_bps)
{
	static const char *const u[] = { "bit", "kbit", "mbit", "gbit", "bps", "kbps", "mbps", "gbps", NULL };
	static const uint64_t m[] = { 1, 1000, 1000000, 1000000000ULL, 8, 8000, 8000000, 8000000000ULL };
	return parse_with_units(s, u, m, ret_bps);
}

int ns_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const char *const u[] = { "b", "", "k", "kb", "m", "mb", NULL };
	static const uint64_t m[] = { 1, 1, 1024, 1024, 1048576, 1048576 };
	return parse_with_units(s, u, m, ret_bytes);
}
