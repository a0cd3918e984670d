/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_units.c — rates and sizes with units (the rate and burst keys). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ns_units.h"
#include "ns_util.h"

static void test_rate(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t bps;
	} ok[] = {
		{ "1bit", 1 }, { "20mbit", 20000000 }, { "3kbit", 3000 }, { "2gbit", 2000000000ULL },
		{ "1bps", 8 }, { "5kbps", 40000 }, { "1mbps", 8000000 }, { "2gbps", 16000000000ULL },
		{ "007mbit", 7000000 }, { "18446744073709551615bit", UINT64_MAX },
		{ "2305843009213693951bps", 2305843009213693951ULL * 8 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		uint64_t v = 0;
		if (ns_parse_rate(ok[i].s, &v) != 0 || v != ok[i].bps)
			fail_msg("%s: got %llu", ok[i].s, (unsigned long long)v);
	}
	static const char *const bad[] = {
		"", "20", "mbit", "0mbit", "0bit", " 20mbit", "20mbit ", "+20mbit", "-20mbit", "20 mbit",
		"20Mbit", "20mb", "20kb", "1.5mbit", "18446744073709551616bit", "2305843009213693952bps",
		"18446744073709551615kbit", "99999999999999999999999bit",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t v = 42;
		if (ns_parse_rate(bad[i], &v) != -EINVAL || v != 42)
			fail_msg("\"%s\" accepted or *ret touched", bad[i]);
	}
}

static void test_size(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t bytes;
	} ok[] = {
		{ "1", 1 }, { "1500", 1500 }, { "1500b", 1500 }, { "64k", 65536 }, { "64kb", 65536 },
		{ "2m", 2097152 }, { "2mb", 2097152 }, { "17592186044415mb", 17592186044415ULL * 1048576 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		uint64_t v = 0;
		if (ns_parse_size(ok[i].s, &v) != 0 || v != ok[i].bytes)
			fail_msg("%s: got %llu", ok[i].s, (unsigned long long)v);
	}
	static const char *const bad[] = {
		"", "0", "0kb", "kb", "64KB", "64kbit", "64g", "64gb", " 64kb", "64kb ", "-1", "+1",
		"17592186044416mb", "18446744073709551616",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t v = 42;
		if (ns_parse_size(bad[i], &v) != -EINVAL || v != 42)
			fail_msg("\"%s\" accepted or *ret touched", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_size),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
