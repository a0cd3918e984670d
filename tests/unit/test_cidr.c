/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cidr.c — CIDR maths: parse, format, containment, host bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "ns_cidr.h"
#include "ns_util.h"

/* ---------------------------------------------------------------- CIDR */

static void test_cidr_parse(void **state)
{
	(void)state;
	struct ns_cidr c;
	char buf[64];

	assert_int_equal(ns_cidr_parse("10.213.0.1/16", true, &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 16);
	assert_int_equal(ntohl(c.addr.v4.s_addr), 0x0ad50001);

	assert_int_equal(ns_cidr_parse("10.213.0.1", false, &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(ns_cidr_parse("10.213.0.1", true, &c), -EINVAL);

	assert_int_equal(ns_cidr_parse("0.0.0.0/0", true, &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(ns_cidr_parse("1.2.3.4/32", true, &c), 0);

	assert_int_equal(ns_cidr_parse("fd00:213::/64", true, &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 64);
	assert_int_equal(ns_cidr_parse("::1", false, &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(ns_cidr_parse("::1/128", true, &c), 0);

	static const char *const bad[] = {
		"", "/", "/16", "10.213.0.1/", "10.213.0.1/33", "10.213.0.1/-1", "10.213.0.1/1x",
		"10.213.0.1/ 8", "10.213.0.1/16/2", "10.213.0", "256.1.1.1/8", "10.213.0.1 /16",
		" 10.213.0.1/16", "::1/129", "fe80::1%eth0/64", "abc", "10.213.0.1/99999999999999999999",
		"1.2.3.4.5/8",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&c, 0x5a, sizeof(c));
		struct ns_cidr before = c;
		if (ns_cidr_parse(bad[i], false, &c) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_memory_equal(&c, &before, sizeof(c));  /* untouched on failure */
	}
	/* long input is refused, not overflowed */
	char big[200];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ns_cidr_parse(big, false, &c), -EINVAL);

	/* format */
	assert_int_equal(ns_cidr_parse("10.213.0.1/16", true, &c), 0);
	ns_cidr_format(&c, true, buf, sizeof(buf));
	assert_string_equal(buf, "10.213.0.1/16");
	ns_cidr_format(&c, false, buf, sizeof(buf));
	assert_string_equal(buf, "10.213.0.1");
	assert_int_equal(ns_cidr_parse("FD00:0213:0000::0001/64", true, &c), 0);
	ns_cidr_format(&c, true, buf, sizeof(buf));
	assert_string_equal(buf, "fd00:213::1/64");
	struct ns_cidr z = { 0 };
	strcpy(buf, "junk");
	ns_cidr_format(&z, true, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* small buffer: truncated, terminated */
	assert_int_equal(ns_cidr_parse("10.213.0.1/16", true, &c), 0);
	char small[6];
	ns_cidr_format(&c, true, small, sizeof(small));
	assert_int_equal(strlen(small), 5);
}

static struct ns_cidr cidr(const char *s)
{
	struct ns_cidr c;
	assert_int_equal(ns_cidr_parse(s, false, &c), 0);
	return c;
}

static void test_cidr_contains(void **state)
{
	(void)state;
	struct ns_cidr net = cidr("10.213.0.0/16"), a;
	a = cidr("10.213.0.1");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("10.213.255.255");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("10.214.0.1");
	assert_false(ns_cidr_contains(&net, &a));
	a = cidr("10.212.255.255");
	assert_false(ns_cidr_contains(&net, &a));
	a = cidr("10.213.9.9/24");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("::ffff:10.213.0.1");
	assert_false(ns_cidr_contains(&net, &a));  /* other family */

	net = cidr("192.168.64.0/18");
	a = cidr("192.168.127.255");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("192.168.128.0");
	assert_false(ns_cidr_contains(&net, &a));
	a = cidr("192.168.63.255");
	assert_false(ns_cidr_contains(&net, &a));

	net = cidr("0.0.0.0/0");
	a = cidr("8.8.8.8");
	assert_true(ns_cidr_contains(&net, &a));
	net = cidr("1.2.3.4/32");
	assert_true(ns_cidr_contains(&net, &(struct ns_cidr){ 0 }) == false);
	a = cidr("1.2.3.4");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("1.2.3.5");
	assert_false(ns_cidr_contains(&net, &a));

	net = cidr("fd00:213::/64");
	a = cidr("fd00:213::ffff:1");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("fd00:213:0:1::1");
	assert_false(ns_cidr_contains(&net, &a));
	a = cidr("10.213.0.1");
	assert_false(ns_cidr_contains(&net, &a));
	net = cidr("fd00::/7");
	a = cidr("fdff::1");
	assert_true(ns_cidr_contains(&net, &a));
	a = cidr("fe00::1");
	assert_false(ns_cidr_contains(&net, &a));

	struct ns_cidr unset = { 0 };
	a = cidr("10.213.0.1");
	assert_false(ns_cidr_contains(&unset, &a));
	assert_false(ns_cidr_contains(&unset, &unset));
}

static void test_cidr_host_bits(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool zero;
	} cases[] = {
		{ "10.213.0.0/16", true }, { "10.213.0.1/16", false }, { "10.213.128.0/17", true },
		{ "10.213.128.0/16", false }, { "10.213.0.0/15", false }, { "0.0.0.0/0", true },
		{ "1.2.3.4/32", true }, { "1.2.3.4/31", true }, { "1.2.3.4/30", true }, { "1.2.3.4/29", false }, { "1.2.3.4/0", false },
		{ "fd00:213::/64", true }, { "fd00:213::1/64", false }, { "fd00:213::100/120", true },
		{ "fd00:213::101/120", false }, { "fd00:213:0:0:8000::/65", true }, { "fd00:213:0:0:8000::/64", false },
		{ "::/0", true }, { "::1/128", true }, { "::1/127", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ns_cidr c;
		assert_int_equal(ns_cidr_parse(cases[i].s, true, &c), 0);
		if (ns_cidr_host_bits_zero(&c) != cases[i].zero)
			fail_msg("%s: host bits zero should be %d", cases[i].s, cases[i].zero);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_cidr_host_bits),
	};
	return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
