/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_names.c — the namespace table, user names, session ids, the names of
 * what we create (netns, veth), interface names and hostname templates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ns_names.h"
#include "ns_util.h"

/* ---------------------------------------------------------------- kinds */

static void test_kind_table(void **state)
{
	(void)state;
	static const struct { const char *name; int flag; const char *proc; } want[] = {
		{ "pid", CLONE_NEWPID, "pid" }, { "ipc", CLONE_NEWIPC, "ipc" },
		{ "mount", CLONE_NEWNS, "mnt" }, { "uts", CLONE_NEWUTS, "uts" },
		{ "net", CLONE_NEWNET, "net" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct ns_kind *k = ns_kind_by_name(want[i].name);
		assert_non_null(k);
		assert_string_equal(k->name, want[i].name);
		assert_int_equal(k->clone_flag, want[i].flag);
		assert_string_equal(k->proc, want[i].proc);
	}
	/* exactly those five, NULL-terminated, flags distinct */
	size_t n = 0;
	int all = 0;
	for (const struct ns_kind *k = ns_kinds; k->name; k++, n++) {
		assert_int_equal(all & k->clone_flag, 0);
		all |= k->clone_flag;
		assert_ptr_equal(ns_kind_by_name(k->name), k);
	}
	assert_int_equal(n, 5);

	static const char *const bad[] = { "", "PID", "Pid", "mnt", "user", "cgroup", "time",
					   "network", "pid ", " pid", "pi", "pidx" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (ns_kind_by_name(bad[i]))
			fail_msg("\"%s\" accepted as a namespace", bad[i]);
}

/* ---------------------------------------------------------------- users */

static void test_user_name_valid(void **state)
{
	(void)state;
	char n32[33], n33[34];
	memset(n32, 'a', 32);
	n32[32] = '\0';
	memset(n33, 'a', 33);
	n33[33] = '\0';
	assert_true(ns_user_name_valid(n32));
	assert_false(ns_user_name_valid(n33));

	static const char *const ok[] = { "a", "alice", "Alice", "a.b", "a-b", "a_b", "_a",
					  "1alice", "0", "123", "j.doe-2_x", "a.", "a-", "a..b" };
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!ns_user_name_valid(ok[i]))
			fail_msg("\"%s\" refused", ok[i]);

	static const char *const bad[] = { "", "-alice", "-", ".alice", ".", "..", "a b",
					   "a/b", "../x", "a:b", "a\nb", "a\tb", "al$ce",
					   "alice$", "a@b", "a%b", "a*", "\xc3\xa9t\xc3\xa9", "a\\b",
					   "a'b", "a\"b", " alice", "alice " };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (ns_user_name_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(ns_user_name_valid(NULL));
}

/* ---------------------------------------------------------------- sids */

static void test_sid_valid(void **state)
{
	(void)state;
	assert_true(ns_sid_valid("0123abcd"));
	assert_true(ns_sid_valid("00000000"));
	assert_true(ns_sid_valid("ffffffff"));
	static const char *const bad[] = { "", "0123abc", "0123abcde", "0123ABCD", "0123abcg",
					   "0123abc ", " 123abcd", "-123abcd", "0x23abcd", "0123ab/d",
					   "../../ab" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (ns_sid_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(ns_sid_valid(NULL));
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void test_sid_random(void **state)
{
	(void)state;
	enum { N = 1000 };
	char (*sids)[NS_SID_LEN + 1] = calloc(N, sizeof(*sids));
	assert_non_null(sids);
	for (int i = 0; i < N; i++) {
		memset(sids[i], 'X', sizeof(sids[i]));
		assert_int_equal(ns_sid_random(sids[i]), 0);
		assert_int_equal(strlen(sids[i]), NS_SID_LEN);
		if (!ns_sid_valid(sids[i]))
			fail_msg("draw %d: \"%s\" is not a valid sid", i, sids[i]);
	}
	/* random: 1000 draws of 32 bits almost never collide */
	qsort(sids, N, sizeof(sids[0]), cmp_str);
	int dups = 0;
	for (int i = 1; i < N; i++)
		dups += strcmp(sids[i - 1], sids[i]) == 0;
	assert_true(dups <= 1);
	/* every hex digit shows up somewhere */
	for (const char *d = "0123456789abcdef"; *d; d++) {
		bool seen = false;
		for (int i = 0; i < N && !seen; i++)
			seen = strchr(sids[i], *d) != NULL;
		assert_true(seen);
	}
	free(sids);
}

/* ---------------------------------------------------------------- netns */

static void test_netns_name(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(ns_netns_name("alice", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ns-alice");
	assert_int_equal(ns_netns_name("alice", "0123abcd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ns-alice-0123abcd");
	assert_int_equal(ns_netns_name("j.doe-2", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ns-j.doe-2");

	char n32[33];
	memset(n32, 'u', 32);
	n32[32] = '\0';
	assert_int_equal(ns_netns_name(n32, "ffffffff", buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 3 + 32 + 1 + 8);

	/* invalid input */
	assert_int_equal(ns_netns_name("../etc", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ns_netns_name("a/b", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ns_netns_name("", NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ns_netns_name(NULL, NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ns_netns_name("alice", "0123ABCD", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ns_netns_name("alice", "../x", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ns_netns_name("alice", "", buf, sizeof(buf)), -EINVAL);

	/* buffer too small: refused, never a truncated name */
	char small[8];
	assert_int_equal(ns_netns_name("alice", NULL, small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(ns_netns_name("alice", NULL, buf, 9), 0);  /* "ns-alice" + NUL */
	assert_int_equal(ns_netns_name("alice", NULL, buf, 8), -ENAMETOOLONG);
}

/* ---------------------------------------------------------- veth alias */

static void test_veth_alias(void **state)
{
	(void)state;
	char buf[NS_VETH_ALIAS_MAX];
	uid_t uid = 7;
	/* the longest user name fits */
	assert_int_equal(ns_veth_alias("abcdefghijklmnopqrstuvwxyz012345", 4294967294u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ns-shell user=abcdefghijklmnopqrstuvwxyz012345 uid=4294967294");
	assert_true(ns_veth_alias_ours(buf));
	assert_int_equal(ns_veth_alias_uid(buf, &uid), 0);
	assert_int_equal(uid, 4294967294u);
	assert_int_equal(ns_veth_alias("alice", 1000, buf, 20), -ENAMETOOLONG);
	assert_int_equal(ns_veth_alias("alice", 1000, buf, sizeof(buf)), 0);
	assert_int_equal(ns_veth_alias_uid(buf, &uid), 0);
	assert_int_equal(uid, 1000);
	/* a trailing field after the uid is allowed (a later format) */
	assert_int_equal(ns_veth_alias_uid("ns-shell user=bob uid=2002 x=1", &uid), 0);
	assert_int_equal(uid, 2002);
	/* not ours, or no uid that fits uid_t: no uid, UID untouched */
	static const char *const bad[] = {
		"", "ns-shell", "ns-shellx user=bob uid=1", "other user=bob uid=1", "ns-shell user=bob",
		"ns-shell user=bob uid=", "ns-shell user=bob uid=-1", "ns-shell user=bob uid=+1",
		"ns-shell user=bob uid= 1", "ns-shell user=bob uid=12x", "ns-shell user=bob uid=4294967295",
		"ns-shell user=bob uid=99999999999999999999",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uid = 7;
		assert_int_equal(ns_veth_alias_uid(bad[i], &uid), -EINVAL);
		assert_int_equal(uid, 7);
	}
	assert_false(ns_veth_alias_ours(NULL));
	assert_false(ns_veth_alias_ours("ns-shel"));
	assert_true(ns_veth_alias_ours("ns-shell user=x uid=1"));
}

/* ---------------------------------------------------------------- veth */

static void test_veth_name(void **state)
{
	(void)state;
	static const uid_t uids[] = { 0, 1, 1000, 65534, 2147483647u, 4294967294u, 4294967295u };
	char names[ARRAY_SIZE(uids)][16];
	for (size_t i = 0; i < ARRAY_SIZE(uids); i++) {
		memset(names[i], 'X', 16);
		assert_int_equal(ns_veth_name(uids[i], NULL, names[i]), 0);
		assert_true(strlen(names[i]) <= 15);
		assert_true(ns_ifname_valid(names[i]));
		char want[32];
		snprintf(want, sizeof(want), "nsu%u", (unsigned)uids[i]);
		assert_string_equal(names[i], want);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	assert_string_equal(names[0], "nsu0");
	assert_string_equal(names[3], "nsu65534");
	assert_string_equal(names[4], "nsu2147483647");
	assert_string_equal(names[5], "nsu4294967294");

	char s[16];
	assert_int_equal(ns_veth_name(1000, "0123abcd", s), 0);
	assert_string_equal(s, "nss0123abcd");
	assert_true(strlen(s) <= 15);
	assert_true(ns_ifname_valid(s));
	/* the per-session name never equals a per-user one */
	for (size_t i = 0; i < ARRAY_SIZE(uids); i++)
		assert_string_not_equal(s, names[i]);
	assert_int_equal(ns_veth_name(1000, "0123ABCD", s), -EINVAL);
	assert_int_equal(ns_veth_name(1000, "0123abcdef", s), -EINVAL);
	assert_int_equal(ns_veth_name(1000, "", s), -EINVAL);
}

/* ---------------------------------------------------------------- ifname */

static void test_ifname_valid(void **state)
{
	(void)state;
	static const char *const ok[] = { "eth0", "nsbr0", "a", "br-users.15chr", "123456789012345",
					  "...", "a.b", "br_0", "x-y" };
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!ns_ifname_valid(ok[i]))
			fail_msg("\"%s\" refused", ok[i]);
	static const char *const bad[] = { "", "1234567890123456", ".", "..", "a/b", "/", "a:b",
					   "eth0:1", "a b", " a", "a\t", "a\nb", "\x7f", "br\xc3\xa9" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (ns_ifname_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(ns_ifname_valid(NULL));
}

/* ---------------------------------------------------------------- hostname */

static void expand_ok(const char *tmpl, const char *user, const char *host, const char *sid,
		      const char *want)
{
	char buf[256];
	memset(buf, 'X', sizeof(buf));
	int r = ns_hostname_expand(tmpl, user, host, sid, buf, sizeof(buf));
	if (r != 0)
		fail_msg("\"%s\": %d", tmpl, r);
	if (strcmp(buf, want) != 0)
		fail_msg("\"%s\" → \"%s\", want \"%s\"", tmpl, buf, want);
}

static void test_hostname_expand(void **state)
{
	(void)state;
	expand_ok("%u", "alice", "web1", "0123abcd", "alice");
	expand_ok("%h", "alice", "web1", "0123abcd", "web1");
	expand_ok("%s", "alice", "web1", "0123abcd", "0123abcd");
	expand_ok("%u-%h-%s", "alice", "web1", "0123abcd", "alice-web1-0123abcd");
	expand_ok("%u.%h", "alice", "web1", "0123abcd", "alice.web1");
	expand_ok("box", "alice", "web1", "0123abcd", "box");
	expand_ok("%%u", "alice", "web1", "0123abcd", "-u");  /* '%' is no hostname char */
	expand_ok("a%%b", "alice", "web1", "0123abcd", "a-b");
	expand_ok("%u%u", "bob", "h", NULL, "bobbob");
}

static void test_hostname_unknown_sequence(void **state)
{
	(void)state;
	char buf[64];
	static const char *const bad[] = { "%x", "%U", "a%", "%", "%u%", "%-", "% u", "%1" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = ns_hostname_expand(bad[i], "alice", "web1", "0123abcd", buf, sizeof(buf));
		if (r != -EINVAL)
			fail_msg("\"%s\": %d, want -EINVAL", bad[i], r);
		assert_false(ns_hostname_template_valid(bad[i]));
	}
}

static void test_hostname_bad_chars(void **state)
{
	(void)state;
	expand_ok("%u", "a_b", "h", NULL, "a-b");
	expand_ok("my host", "u", "h", NULL, "my-host");
	expand_ok("x/y:z", "u", "h", NULL, "x-y-z");
	expand_ok("%h", "u", "h\xc3\xa9", NULL, "h--");
	expand_ok("a;b$(id)`c`", "u", "h", NULL, "a-b--id--c-");
	expand_ok("%u\n", "u", "h", NULL, "u-");
	/* every byte of the result is a hostname character */
	char tmpl[256], buf[64];
	for (int c = 1; c < 256; c++)
		tmpl[c - 1] = c == '%' ? 'p' : (char)c;
	tmpl[255] = '\0';
	assert_int_equal(ns_hostname_expand(tmpl, "u", "h", NULL, buf, sizeof(buf)), 0);
	for (const char *p = buf; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.');
}

static void test_hostname_truncation(void **state)
{
	(void)state;
	char buf[256], tmpl[200], user[40];
	memset(tmpl, 'a', 100);
	tmpl[100] = '\0';
	assert_int_equal(ns_hostname_expand(tmpl, "u", "h", NULL, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 63);
	assert_memory_equal(buf, tmpl, 63);

	memset(tmpl, 'b', 63);
	tmpl[63] = '\0';
	assert_int_equal(ns_hostname_expand(tmpl, "u", "h", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, tmpl);

	/* a long expansion is cut too */
	memset(user, 'u', 32);
	user[32] = '\0';
	assert_int_equal(ns_hostname_expand("%u-%u-%u", user, "h", NULL, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 63);

	/* the buffer bounds the result as well */
	char small[10];
	memset(small, 'X', sizeof(small));
	assert_int_equal(ns_hostname_expand("%u", user, "h", NULL, small, sizeof(small)), 0);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	char one[1] = { 'X' };
	int r = ns_hostname_expand("%u", user, "h", NULL, one, sizeof(one));
	if (r == 0)
		assert_int_equal(one[0], '\0');
}

static void test_hostname_empty_falls_back(void **state)
{
	(void)state;
	expand_ok("", "alice", "web1", "0123abcd", "alice");
	expand_ok("%s", "alice", "web1", NULL, "alice");
	expand_ok("%h", "alice", NULL, NULL, "alice");
	expand_ok("%h", "alice", "", NULL, "alice");
}

static void test_hostname_template_valid(void **state)
{
	(void)state;
	assert_true(ns_hostname_template_valid("%u"));
	assert_true(ns_hostname_template_valid("%h-%u-%s%%"));
	assert_true(ns_hostname_template_valid(""));
	char t[200];
	memset(t, 'a', 127);
	t[127] = '\0';
	assert_true(ns_hostname_template_valid(t));
	memset(t, 'a', 128);
	t[128] = '\0';
	assert_false(ns_hostname_template_valid(t));
	assert_false(ns_hostname_template_valid("%q"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_table),
		cmocka_unit_test(test_user_name_valid),
		cmocka_unit_test(test_sid_valid),
		cmocka_unit_test(test_sid_random),
		cmocka_unit_test(test_netns_name),
		cmocka_unit_test(test_veth_name),
		cmocka_unit_test(test_veth_alias),
		cmocka_unit_test(test_ifname_valid),
		cmocka_unit_test(test_hostname_expand),
		cmocka_unit_test(test_hostname_unknown_sequence),
		cmocka_unit_test(test_hostname_bad_chars),
		cmocka_unit_test(test_hostname_truncation),
		cmocka_unit_test(test_hostname_empty_falls_back),
		cmocka_unit_test(test_hostname_template_valid),
	};
	return cmocka_run_group_tests_name("names", tests, NULL, NULL) ? 1 : 0;
}
