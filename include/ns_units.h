/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_units.h — numbers with units, as ns.conf writes rates and sizes. */
#ifndef NS_UNITS_H
#define NS_UNITS_H

#include <stdint.h>

/* "20mbit", "1gbps"...: bits per second (bit kbit mbit gbit, decimal; bps
 * kbps mbps gbps are bytes, times 8). Zero, overflow, a sign, spaces or
 * an unknown unit: -EINVAL, *ret untouched. */
int ns_parse_rate(const char *s, uint64_t *ret_bps);
/* "64kb", "1m", "1500"...: bytes (b or none, k/kb, m/mb; binary). Same
 * refusals as ns_parse_rate. */
int ns_parse_size(const char *s, uint64_t *ret_bytes);

#endif
