/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lease.c — one lease's line (strict parse, ns_lease_format read back
 * as it was), the old single lease file (refused on any bad line when
 * parsed strictly, bad lines kept and their addresses held when read for
 * the migration) and the address picker (pool exclusions, sticky leases,
 * static addresses, LRU takeover, per-session tags, and the views of the
 * store it may be given: -EAGAIN when it needs more). The store on disk:
 * test_leasestore.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns_config.h"
#include "ns_lease.h"
#include "ns_names.h"
#include "ns_util.h"
#include "fixtures.h"

/* ---------------------------------------------------------------- helpers */

#define assert_ip(a, s) do {                                                          \
		struct in_addr _a = (a);                                              \
		if (_a.s_addr != ip(s).s_addr)                                        \
			fail_msg("address %s, want %s", ipstr(_a), (s));              \
	} while (0)

static const struct ns_lease *find_lease(const struct ns_leases *l, uid_t uid, const char *sid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].uid == uid && strcmp(l->v[i].sid, sid ? sid : "") == 0)
			return &l->v[i];
	return NULL;
}

static const struct ns_lease *find_addr(const struct ns_leases *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].addr.s_addr == ip(addr).s_addr)
			return &l->v[i];
	return NULL;
}

static const struct ns_lease *lease_of(const struct ns_leases *l, uid_t uid, const char *sid)
{
	const struct ns_lease *e = find_lease(l, uid, sid);
	if (!e)
		fail_msg("no lease of uid %u tag \"%s\"", (unsigned)uid, sid ? sid : "");
	return e;
}

static void dump(const struct ns_leases *l)
{
	for (size_t i = 0; i < l->n; i++)
		print_message("    %u %s %s %lld %s\n", (unsigned)l->v[i].uid, l->v[i].user,
			      ipstr(l->v[i].addr), l->v[i].last_used, l->v[i].sid);
}

static bool usable(const struct ns_globals *g, struct in_addr in)
{
	uint32_t a = ntohl(in.s_addr), net = ntohl(g->pool.addr.v4.s_addr), mask = ~0u << (32 - g->pool.prefix);
	return (a & mask) == net && (a & ~mask) != 0 && (a & ~mask) != ~mask &&
	       !(g->gateway.family && a == ntohl(g->gateway.addr.v4.s_addr)) &&
	       !(g->bridge_address.family && a == ntohl(g->bridge_address.addr.v4.s_addr));
}

/* Invariant 3 of ns_lease.c: no address twice, no (uid, tag) twice. */
static void check_unique(const struct ns_leases *l)
{
	for (size_t i = 0; i < l->n; i++)
		for (size_t j = 0; j < i; j++)
			if (l->v[i].addr.s_addr == l->v[j].addr.s_addr ||
			    (l->v[i].uid == l->v[j].uid && strcmp(l->v[i].sid, l->v[j].sid) == 0)) {
				dump(l);
				fail_msg("leases %zu and %zu clash", j, i);
			}
}

/* ---------------------------------------------------------------- parse */

static const char *const good_lines =
	"1000 alice 10.213.0.2 1700000000\n"
	"1001 bob 10.213.0.3 1700000001 0badcafe\n"
	"0 root 10.213.255.254 0\n"
	"4294967294 j.doe-2_x 10.213.1.7 9223372036854775807\n"     /* uid -2; the largest time */
	"1000 alice 10.213.0.9 5 deadbeef\n"                        /* same uid, other tag */
	"1000 alice 10.213.0.10 6 00000000\n";

static void test_parse_valid(void **state)
{
	(void)state;
	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	assert_int_equal(ns_leases_parse(good_lines, "leases", &l, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(l.n, 6);

	assert_int_equal(l.v[0].uid, 1000);
	assert_string_equal(l.v[0].user, "alice");
	assert_ip(l.v[0].addr, "10.213.0.2");
	assert_int_equal(l.v[0].last_used, 1700000000LL);
	assert_string_equal(l.v[0].sid, "");

	assert_int_equal(l.v[1].uid, 1001);
	assert_string_equal(l.v[1].user, "bob");
	assert_ip(l.v[1].addr, "10.213.0.3");
	assert_int_equal(l.v[1].last_used, 1700000001LL);
	assert_string_equal(l.v[1].sid, "0badcafe");

	assert_int_equal(l.v[2].uid, 0);
	assert_string_equal(l.v[2].user, "root");
	assert_int_equal(l.v[3].uid, 4294967294u);
	assert_int_equal(l.v[3].last_used, 9223372036854775807LL);
	assert_string_equal(l.v[3].user, "j.doe-2_x");
	assert_string_equal(l.v[4].sid, "deadbeef");
	assert_string_equal(l.v[5].sid, "00000000");
	ns_leases_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);

	/* a user name of exactly 32 bytes fits struct ns_lease.user */
	char line[128], u32[33];
	memset(u32, 'u', 32);
	u32[32] = '\0';
	snprintf(line, sizeof(line), "7 %s 10.1.2.3 9\n", u32);
	assert_int_equal(ns_leases_parse(line, "leases", &l, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].user, u32);
	ns_leases_free(&l);
}

static void test_parse_empty_and_blank(void **state)
{
	(void)state;
	struct ns_leases l;
	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(ns_leases_parse("", "leases", &l, NULL), 0);
	assert_int_equal(l.n, 0);
	ns_leases_free(&l);

	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(ns_leases_parse("\n\n\n", "leases", &l, NULL), 0);
	assert_int_equal(l.n, 0);
	ns_leases_free(&l);

	/* blank lines between entries; the last line may lack its newline */
	assert_int_equal(ns_leases_parse("\n1000 alice 10.0.0.2 1\n\n\n1001 bob 10.0.0.3 2", "leases", &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1].user, "bob");
	assert_int_equal(l.v[1].last_used, 2);
	ns_leases_free(&l);
}

/* Every LINE must be refused as NAME:N (N its line number, after two good
 * lines and a blank one), with nothing returned. Prints why and returns
 * false otherwise, so that one test can list every line let through. */
static bool refused(const char *line)
{
	char text[1024];
	static const char want[] = "/var/lib/ns-shell/leases:4:";
	struct ns_leases l, before;
	struct ns_err e = { 0 };
	snprintf(text, sizeof(text), "1000 alice 10.213.0.2 1\n\n1001 bob 10.213.0.3 2\n%s\n"
		 "1002 carol 10.213.0.4 3\n", line);
	memset(&l, 0x5a, sizeof(l));
	before = l;
	int r = ns_leases_parse(text, "/var/lib/ns-shell/leases", &l, &e);
	if (r != -EINVAL) {
		print_message("  line \"%s\": %d, want -EINVAL\n", line, r);
		if (r == 0) {
			dump(&l);
			ns_leases_free(&l);
		}
		return false;
	}
	if (e.code != -EINVAL || strncmp(e.msg, want, strlen(want)) != 0) {
		print_message("  line \"%s\": message \"%s\" (%d), want prefix \"%s\"\n", line, e.msg, e.code, want);
		return false;
	}
	if (memcmp(&l, &before, sizeof(l)) != 0) {
		print_message("  line \"%s\": result touched on failure\n", line);
		return false;
	}
	/* the line alone is refused too, by what reads an address file of the
	 * store (with or without its newline) */
	struct ns_lease one;
	if (ns_lease_parse_line(line, strlen(line), &one) != -EINVAL) {
		print_message("  line \"%s\": ns_lease_parse_line takes it\n", line);
		return false;
	}
	snprintf(text, sizeof(text), "%s\n", line);
	if (ns_lease_parse_line(text, strlen(text), &one) != -EINVAL) {
		print_message("  line \"%s\\n\": ns_lease_parse_line takes it\n", line);
		return false;
	}
	/* NULL err is fine too */
	snprintf(text, sizeof(text), "1000 alice 10.213.0.2 1\n\n1001 bob 10.213.0.3 2\n%s\n",
		 line);
	return ns_leases_parse(text, "x", &l, NULL) == -EINVAL;
}

static void parse_refused(const char *line)
{
	if (!refused(line))
		fail_msg("line \"%s\" not refused", line);
}

static void test_parse_corrupt_lines(void **state)
{
	(void)state;
	char longline[300], longuser[80], longsid[40];
	static const char *const bad[] = {
		/* field count */
		"1003", "1003 dave", "1003 dave 10.213.0.5", "1003 dave 10.213.0.5 4 deadbeef extra",
		"1003 dave 10.213.0.5 4 deadbeef 5",
		/* uid */
		"x dave 10.213.0.5 4", "-1 dave 10.213.0.5 4", "-0 dave 10.213.0.5 4",
		"+1003 dave 10.213.0.5 4", " 1003 dave 10.213.0.5 4", "\t1003 dave 10.213.0.5 4",
		"4294967295 dave 10.213.0.5 4", "4294967296 dave 10.213.0.5 4",
		"99999999999999999999999 dave 10.213.0.5 4", "0x10 dave 10.213.0.5 4",
		/* user */
		"1003 -dave 10.213.0.5 4", "1003 .dave 10.213.0.5 4", "1003 da/ve 10.213.0.5 4",
		"1003 da$ve 10.213.0.5 4", "1003 d\x01ve 10.213.0.5 4",
		/* address */
		"1003 dave 10.213.0.256 4", "1003 dave 10.213.0 4", "1003 dave 10.213.0.5/16 4",
		"1003 dave ::1 4", "1003 dave fd00::5 4", "1003 dave host 4", "1003 dave 010.213.0.5 4",
		/* last_used */
		"1003 dave 10.213.0.5 x", "1003 dave 10.213.0.5 4x",
		/* session tag: 8 lowercase hex digits */
		"1003 dave 10.213.0.5 4 DEADBEEF", "1003 dave 10.213.0.5 4 deadbee",
		"1003 dave 10.213.0.5 4 deadbeef0", "1003 dave 10.213.0.5 4 deadbeeg",
		"1003 dave 10.213.0.5 4 ../../x", "1003 dave 10.213.0.5 4 -",
		/* not a lease at all */
		"# comment", "garbage", "   ", "\t", "\r",
	};
	unsigned accepted = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		accepted += !refused(bad[i]);
	if (accepted)
		fail_msg("%u corrupt lines not refused", accepted);

	memset(longuser, 'u', 33);                  /* 33 bytes: over the limit */
	longuser[33] = '\0';
	snprintf(longline, sizeof(longline), "1003 %s 10.213.0.5 4", longuser);
	parse_refused(longline);
	memset(longuser, 'u', 70);                  /* longer than any user name buffer */
	longuser[70] = '\0';
	snprintf(longline, sizeof(longline), "1003 %s 10.213.0.5 4", longuser);
	parse_refused(longline);
	memset(longsid, 'a', 20);                   /* a tag far too long */
	longsid[20] = '\0';
	snprintf(longline, sizeof(longline), "1003 dave 10.213.0.5 4 %s", longsid);
	parse_refused(longline);
	/* a line longer than any lease could be */
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "1003 dave 10.213.0.5 4", 22);
	longline[299] = '\0';
	parse_refused(longline);
}

/* Each field checked whole: a line that a scanf-style parser would take
 * (stopping at the first non-digit, or accepting a sign) is as corrupt as
 * any other. */
static void test_parse_glued_fields(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"1003dave 10.213.0.5 4",              /* uid glued to the user */
		"1003 dave 10.213.0.5 4deadbeef",     /* last_used glued to a tag */
		"1003 dave 10.213.0.5 -4",            /* signed times */
		"1003 dave 10.213.0.5 +4",
		"1003 dave 10.213.0.5 99999999999999999999999",   /* overflows */
	};
	unsigned accepted = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		accepted += !refused(bad[i]);
	if (accepted)
		fail_msg("%u corrupt lines not refused", accepted);
}

static void test_parse_duplicates(void **state)
{
	(void)state;
	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	/* same uid, same (empty) tag */
	assert_int_equal(ns_leases_parse("1000 alice 10.0.0.2 1\n1000 alice 10.0.0.3 2\n", "L", &l, &e), -EINVAL);
	assert_string_equal(e.msg, "L:2: corrupt lease entry (refusing to touch the file)");
	/* same uid, same session tag */
	assert_int_equal(ns_leases_parse("1000 alice 10.0.0.2 1\n1000 alice 10.0.0.3 2 deadbeef\n\n"
					 "1000 alice 10.0.0.4 2 deadbeef\n", "L", &l, &e), -EINVAL);
	assert_memory_equal(e.msg, "L:4:", 4);
	/* same address, different uids (and with a tag) */
	assert_int_equal(ns_leases_parse("1000 alice 10.0.0.2 1\n1001 bob 10.0.0.2 2\n", "L", &l, &e), -EINVAL);
	assert_memory_equal(e.msg, "L:2:", 4);
	assert_int_equal(ns_leases_parse("1000 alice 10.0.0.2 1\n1001 bob 10.0.0.3 2\n1001 bob 10.0.0.2 3 0000abcd\n",
					 "L", &l, &e), -EINVAL);
	assert_memory_equal(e.msg, "L:3:", 4);
	/* same address, same uid, other tag */
	assert_int_equal(ns_leases_parse("1000 alice 10.0.0.2 1\n1000 alice 10.0.0.2 1 0000abcd\n", "L", &l, &e),
			 -EINVAL);
	/* same user name with two uids is not a clash of the file format */
	assert_int_equal(ns_leases_parse("1000 alice 10.0.0.2 1\n1001 alice 10.0.0.3 2\n", "L", &l, &e), 0);
	assert_int_equal(l.n, 2);
	ns_leases_free(&l);
}

static void test_parse_many(void **state)
{
	(void)state;
	/* more than the initial capacity: growth keeps every entry */
	size_t n = 1000, off = 0, cap = n * 48 + 1;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off, "%zu u%zu 10.%zu.%zu.%zu %zu\n", 2000 + i, i,
					(i >> 16) & 255, (i >> 8) & 255, (i & 255), i);
	struct ns_leases l = { 0 };
	int r = ns_leases_parse(text, "L", &l, NULL);
	free(text);
	assert_int_equal(r, 0);
	assert_int_equal(l.n, n);
	assert_true(l.cap >= n);
	assert_int_equal(l.v[999].uid, 2999);
	assert_string_equal(l.v[999].user, "u999");
	assert_int_equal(l.v[999].last_used, 999);
	ns_leases_free(&l);
}

/* ---------------------------------------------------------------- format */

static void assert_same_lease(const struct ns_lease *got, const struct ns_lease *want)
{
	assert_int_equal(got->uid, want->uid);
	assert_string_equal(got->user, want->user);
	assert_int_equal(got->addr.s_addr, want->addr.s_addr);
	assert_int_equal(got->last_used, want->last_used);
	assert_string_equal(got->sid, want->sid);
}

/* What the store writes in an address file is ns_lease_format's line: the
 * documented format, one line, read back by ns_lease_parse_line (without
 * its newline) and by ns_leases_parse as the same lease. */
static void test_format_round_trip(void **state)
{
	(void)state;
	struct ns_leases in = { 0 }, out = { 0 };
	char text[1024], line[128];
	size_t off = 0;
	assert_int_equal(ns_leases_parse(good_lines, "in", &in, NULL), 0);
	for (size_t i = 0; i < in.n; i++) {
		int n = ns_lease_format(&in.v[i], line, sizeof(line));
		assert_true(n > 1);
		assert_int_equal((size_t)n, strlen(line));
		assert_int_equal(line[n - 1], '\n');
		assert_null(memchr(line, '\n', (size_t)n - 1));
		struct ns_lease back;
		memset(&back, 0x5a, sizeof(back));
		assert_int_equal(ns_lease_parse_line(line, (size_t)n - 1, &back), 0);
		assert_same_lease(&back, &in.v[i]);
		memcpy(text + off, line, (size_t)n);
		off += (size_t)n;
	}
	text[off] = '\0';
	/* good_lines is written as the format has it: the same text again */
	assert_string_equal(text, good_lines);
	assert_int_equal(ns_leases_parse(text, "out", &out, NULL), 0);
	assert_int_equal(out.n, in.n);
	for (size_t i = 0; i < in.n; i++)
		assert_same_lease(&out.v[i], &in.v[i]);
	ns_leases_free(&in);
	ns_leases_free(&out);

	/* "uid user address last_used[ sid]\n", single spaces */
	struct ns_lease e = { .uid = 1000, .user = "alice", .addr = ip("10.213.0.2"),
			      .last_used = 1700000000 };
	assert_int_equal(ns_lease_format(&e, line, sizeof(line)), 33);
	assert_string_equal(line, "1000 alice 10.213.0.2 1700000000\n");
	strcpy(e.sid, "0badcafe");
	assert_int_equal(ns_lease_format(&e, line, sizeof(line)), 42);
	assert_string_equal(line, "1000 alice 10.213.0.2 1700000000 0badcafe\n");
	/* a buffer too small: -ENAMETOOLONG, never a line cut short */
	assert_int_equal(ns_lease_format(&e, line, 42), -ENAMETOOLONG);
	assert_int_equal(ns_lease_format(&e, line, 43), 42);
	assert_int_equal(ns_lease_format(&e, line, 1), -ENAMETOOLONG);

	/* the longest lease there can be: the largest uid, a 32-byte name,
	 * the longest address and time, a tag; well under the 256 bytes an
	 * address file may hold */
	struct ns_lease big = { .uid = 4294967294u, .addr = ip("255.255.255.255"),
				.last_used = 9223372036854775807LL, .sid = "ffffffff" };
	memset(big.user, 'u', 32);
	int n = ns_lease_format(&big, line, sizeof(line));
	assert_int_equal(n, 89);
	struct ns_lease back;
	assert_int_equal(ns_lease_parse_line(line, (size_t)n - 1, &back), 0);
	assert_same_lease(&back, &big);
}

/* ns_lease_parse_line reads exactly LEN bytes: no newline, nothing after. */
static void test_parse_line(void **state)
{
	(void)state;
	struct ns_lease e;
	static const char line[] = "1001 bob 10.213.0.3 1700000001 0badcafe";
	assert_int_equal(ns_lease_parse_line(line, strlen(line), &e), 0);
	assert_int_equal(e.uid, 1001);
	assert_string_equal(e.user, "bob");
	assert_ip(e.addr, "10.213.0.3");
	assert_int_equal(e.last_used, 1700000001LL);
	assert_string_equal(e.sid, "0badcafe");
	/* a shorter LEN: only those bytes (here the line without its tag) */
	assert_int_equal(ns_lease_parse_line(line, strlen(line) - 9, &e), 0);
	assert_int_equal(e.last_used, 1700000001LL);
	assert_string_equal(e.sid, "");
	assert_int_equal(ns_lease_parse_line(line, strlen(line) - 11, &e), 0);
	assert_int_equal(e.last_used, 17000000LL);
	/* nothing, or the newline (or a CR) left in */
	assert_int_equal(ns_lease_parse_line(line, 0, &e), -EINVAL);
	assert_int_equal(ns_lease_parse_line("1000 alice 10.0.0.2 1\n", 22, &e), -EINVAL);
	assert_int_equal(ns_lease_parse_line("1000 alice 10.0.0.2 1\r", 22, &e), -EINVAL);
	static const char two[] = "1000 alice 10.0.0.2 1\n1001 bob 10.0.0.3 2";
	assert_int_equal(ns_lease_parse_line(two, strlen(two), &e), -EINVAL);
	/* a line longer than any lease, not NUL-terminated: refused, and
	 * nothing read past LEN (ASan, valgrind) */
	char *longline = malloc(300);
	assert_non_null(longline);
	memset(longline, '1', 300);
	memcpy(longline, "1000 alice 10.0.0.2 ", 20);
	assert_int_equal(ns_lease_parse_line(longline, 255, &e), -EINVAL);
	assert_int_equal(ns_lease_parse_line(longline, 300, &e), -EINVAL);
	/* a good line that ends the buffer, no NUL after it */
	memcpy(longline + 279, "1000 alice 10.0.0.2 7", 21);
	assert_int_equal(ns_lease_parse_line(longline + 279, 21, &e), 0);
	assert_int_equal(e.last_used, 7);
	free(longline);
}

/* ---------------------------------------------------------------- files */

static bool is_root;

static int files_setup(void **state)
{
	(void)state;
	is_root = geteuid() == 0;
	return tmpdir_make("lease");
}

static int files_teardown(void **state)
{
	(void)state;
	return tmpdir_remove();
}

/* Read PATH with ns_leases_read: as root it must succeed; as another user
 * the file is not root-owned and must be refused. On success *ret holds the
 * leases (free them); on refusal it is empty. */
static bool read_or_refused(const char *path, struct ns_leases *ret)
{
	struct ns_err e = { 0 };
	memset(ret, 0, sizeof(*ret));
	int r = ns_leases_read(path, ret, &e);
	if (is_root) {
		if (r != 0)
			fail_msg("ns_leases_read %s: %d (%s)", path, r, e.msg);
		return true;
	}
	/* (the message names the first thing refused: the test's directory) */
	assert_int_equal(r, -EPERM);
	assert_int_equal(e.code, -EPERM);
	assert_non_null(strstr(e.msg, tmpdir));
	assert_non_null(strstr(e.msg, "root-owned"));
	assert_int_equal(ret->n, 0);
	return false;
}

static void test_read_missing_is_empty(void **state)
{
	(void)state;
	char p[300];
	struct ns_leases l;
	path_of(p, sizeof(p), "does-not-exist");
	memset(&l, 0x5a, sizeof(l));
	/* (as another user the test's directory is not root's: refused) */
	assert_int_equal(ns_leases_read(p, &l, NULL), is_root ? 0 : -EPERM);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	/* in a root-owned directory, or without a directory: as any user */
	static const char *const missing[] = { "/ns-test-no-such-lease-file",
					       "/ns-test-no-such-dir/leases" };
	for (size_t i = 0; i < ARRAY_SIZE(missing); i++) {
		memset(&l, 0x5a, sizeof(l));
		assert_int_equal(ns_leases_read(missing[i], &l, NULL), 0);
		assert_int_equal(l.n, 0);
		assert_null(l.v);
	}
}

static void test_read_refusals(void **state)
{
	(void)state;
	char p[300], link[300];
	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	static const char text[] = "1000 alice 10.0.0.2 1\n";

	/* root-owned 0644 and 0600: fine (as root); anything else refused */
	path_of(p, sizeof(p), "r");
	write_file(p, text, strlen(text), 0600);
	if (read_or_refused(p, &l)) {
		assert_int_equal(l.n, 1);
		ns_leases_free(&l);
	}
	static const mode_t writable[] = { 0664, 0646, 0666, 0620, 0602 };
	for (size_t i = 0; i < ARRAY_SIZE(writable); i++) {
		write_file(p, text, strlen(text), writable[i]);
		assert_int_equal(ns_leases_read(p, &l, &e), -EPERM);
		assert_non_null(strstr(e.msg, is_root ? p : tmpdir));
	}
	/* owned by another user */
	write_file(p, text, strlen(text), 0644);
	if (is_root)
		assert_int_equal(chown(p, 65534, 65534), 0);
	assert_int_equal(ns_leases_read(p, &l, &e), -EPERM);

	/* a symlink to a good file is not followed */
	write_file(p, text, strlen(text), 0644);
	path_of(link, sizeof(link), "r-link");
	assert_int_equal(symlink(p, link), 0);
	int r = ns_leases_read(link, &l, &e);
	assert_true(r < 0);
	assert_non_null(strstr(e.msg, is_root ? link : tmpdir));
	/* a FIFO (must not block), a directory, a device */
	path_of(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(ns_leases_read(p, &l, &e), -EPERM);
	path_of(p, sizeof(p), "dir");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ns_leases_read(p, &l, &e), -EPERM);
	assert_int_equal(ns_leases_read("/dev/null", &l, &e), -EPERM);
	assert_int_equal(l.n, 0);
}

static void test_read_bad_content(void **state)
{
	(void)state;
	char p[300];
	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	path_of(p, sizeof(p), "bad");
	write_file(p, "1000 alice 10.0.0.2 1\n1001 bob 10.0.0.2 2\n", 42, 0644);
	int r = ns_leases_read(p, &l, &e);
	if (!is_root) {
		assert_int_equal(r, -EPERM);
		return;
	}
	/* A bad line (here: an address given twice) stops nobody: it is kept
	 * verbatim (the migration carries it into the store) and its address
	 * held. */
	assert_int_equal(r, 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].user, "alice");
	assert_int_equal(l.n_kept, 1);
	assert_int_equal(l.n_held, 1);
	assert_ip(l.held[0], "10.0.0.2");
	assert_string_equal(l.kept, "1001 bob 10.0.0.2 2\n");
	assert_int_equal(l.kept_len, 20);
	ns_leases_free(&l);
	/* several bad lines, with and without an address in their third field:
	 * each kept once, in order (the last one given its newline); only the
	 * addresses held */
	static const char text[] = "garbage\n1000 alice 10.0.0.2 1\n1002 carol 10.0.0.4 x\n"
				   "1003 dave 10.0.0.5 3 NOTATAG\n1004 eve not-an-address 4";
	write_file(p, text, strlen(text), 0644);
	assert_int_equal(ns_leases_read(p, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.n_kept, 4);
	assert_string_equal(l.kept, "garbage\n1002 carol 10.0.0.4 x\n1003 dave 10.0.0.5 3 NOTATAG\n"
			    "1004 eve not-an-address 4\n");
	assert_int_equal(l.kept_len, strlen(l.kept));
	assert_int_equal(l.n_held, 2);
	assert_ip(l.held[0], "10.0.0.4");
	assert_ip(l.held[1], "10.0.0.5");
	ns_leases_free(&l);
	/* uid 4294967295 (never a user): kept aside, the others still load */
	write_file(p, "4294967295 ghost 10.0.0.9 1\n1000 alice 10.0.0.2 1\n", 50, 0644);
	assert_int_equal(ns_leases_read(p, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.n_held, 1);
	assert_ip(l.held[0], "10.0.0.9");
	ns_leases_free(&l);
	/* a NUL byte is refused, not read as the end of the file */
	write_file(p, "1000 alice 10.0.0.2 1\n\0garbage\n", 31, 0644);
	assert_int_equal(ns_leases_read(p, &l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_int_equal(l.n, 0);
	/* refusal leaves the file as it was */
	assert_int_equal(memcmp(slurp(p), "1000 alice 10.0.0.2 1\n", 22), 0);
}

/* ---------------------------------------------------------------- picker */

/* Fake view of the live sessions. */
struct fake {
	uid_t busy[16];
	size_t n_busy;
	const char *alive[16];
	size_t n_alive;
	struct in_addr own_busy[16];
	size_t n_own_busy;
	unsigned own_calls;
};

static bool f_uid_busy(uid_t uid, void *data)
{
	struct fake *f = data;
	for (size_t i = 0; i < f->n_busy; i++)
		if (f->busy[i] == uid)
			return true;
	return false;
}

static bool f_sid_alive(uid_t uid, const char *sid, void *data)
{
	struct fake *f = data;
	for (size_t i = 0; i < f->n_alive; i++)
		if (strcmp(f->alive[i], sid) == 0)
			return true;
	return false;
}

static bool f_own_addr_busy(struct in_addr a, void *data)
{
	struct fake *f = data;
	f->own_calls++;
	for (size_t i = 0; i < f->n_own_busy; i++)
		if (f->own_busy[i].s_addr == a.s_addr)
			return true;
	return false;
}

struct fx {
	struct ns_config *cfg;
	const struct ns_globals *g;
	struct ns_leases l;
	struct fake f;
	struct ns_lease_ops ops;
	struct ns_err err;
	bool tagged;
};

static void busy(struct fx *x, uid_t uid) { x->f.busy[x->f.n_busy++] = uid; }
static void alive(struct fx *x, const char *sid) { x->f.alive[x->f.n_alive++] = sid; }
static void own_busy(struct fx *x, const char *a) { x->f.own_busy[x->f.n_own_busy++] = ip(a); }

/* Usable: .2 .3 .4 .5 (.0 network, .1 gateway, .6 bridge, .7 broadcast). */
static const char tiny_conf[] =
	"pool = \"10.9.0.0/29\"\n"
	"gateway = \"10.9.0.1\"\n"
	"bridge_address = \"10.9.0.6/29\"\n";

static void fx_config(struct fx *x, const char *conf)
{
	struct ns_errlist e;
	if (x->cfg)
		ns_config_free(x->cfg);
	x->cfg = NULL;
	int r = ns_config_load_string(conf, "t.conf", &x->cfg, &e);
	if (r != 0)
		fail_msg("config: %d: %s", r, e.n ? e.line[0] : "");
	x->g = ns_config_globals(x->cfg);
}

static void fx_leases(struct fx *x, const char *text)
{
	ns_leases_free(&x->l);
	struct ns_err e = { 0 };
	if (ns_leases_parse(text, "fx", &x->l, &e) != 0)
		fail_msg("fixture leases: %s", e.msg);
}

static int pick_setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->ops = (struct ns_lease_ops){ f_uid_busy, f_sid_alive, f_own_addr_busy, NULL, &x->f };
	struct ns_errlist e;
	if (ns_config_load_string(tiny_conf, "t.conf", &x->cfg, &e) != 0) {
		free(x);
		return -1;
	}
	x->g = ns_config_globals(x->cfg);
	*state = x;
	return 0;
}

static int pick_teardown(void **state)
{
	struct fx *x = *state;
	ns_leases_free(&x->l);
	if (x->cfg)
		ns_config_free(x->cfg);
	free(x);
	return 0;
}

static int pick(struct fx *x, uid_t uid, const char *user, const char *sid, const char *static_addr,
		long long now, struct in_addr *ret)
{
	struct ns_cidr st = { 0 };
	if (static_addr)
		assert_int_equal(ns_cidr_parse(static_addr, true, &st), 0);
	memset(&x->err, 0, sizeof(x->err));
	x->tagged = true;   /* must be set either way */
	ret->s_addr = 0;
	return ns_lease_pick(&x->l, x->g, uid, user, sid, static_addr ? &st : NULL, &x->ops, now, ret,
			     &x->tagged, &x->err);
}


/* A successful pick hands out a usable address of the pool and keeps the
 * set free of clashes. */
static struct in_addr pick_ok(struct fx *x, uid_t uid, const char *user, const char *sid,
			      const char *static_addr, long long now)
{
	struct in_addr a;
	int r = pick(x, uid, user, sid, static_addr, now, &a);
	if (r != 0) {
		dump(&x->l);
		fail_msg("pick %s: %d (%s)", user, r, x->err.msg);
	}
	if (!usable(x->g, a)) {
		dump(&x->l);
		fail_msg("pick %s: %s is not a usable address of the pool", user, ipstr(a));
	}
	check_unique(&x->l);
	return a;
}

static void pick_refused(struct fx *x, uid_t uid, const char *user, const char *sid,
			 const char *static_addr, int code, const char *msg)
{
	struct in_addr a;
	int r = pick(x, uid, user, sid, static_addr, 999, &a);
	if (r != code) {
		dump(&x->l);
		fail_msg("pick %s: %d (%s, %s), want %d", user, r, x->err.msg, r == 0 ? ipstr(a) : "-", code);
	}
	assert_int_equal(x->err.code, code);
	if (!strstr(x->err.msg, msg))
		fail_msg("pick %s: message \"%s\" lacks \"%s\"", user, x->err.msg, msg);
	assert_false(x->tagged);
}

static void test_pick_fresh_skips_reserved(void **state)
{
	struct fx *x = *state;
	static const char *const users[] = { "u0", "u1", "u2", "u3" };
	static const char *const want[] = { "10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5" };
	for (size_t i = 0; i < ARRAY_SIZE(users); i++) {
		busy(x, 1000 + (uid_t)i);
		struct in_addr a = pick_ok(x, 1000 + (uid_t)i, users[i], NULL, NULL, 100 + (long long)i);
		assert_ip(a, want[i]);
		assert_false(x->tagged);
		const struct ns_lease *e = lease_of(&x->l, 1000 + (uid_t)i, NULL);
		assert_string_equal(e->user, users[i]);
		assert_int_equal(e->addr.s_addr, a.s_addr);
		assert_int_equal(e->last_used, 100 + (long long)i);
		assert_string_equal(e->sid, "");
	}
	assert_int_equal(x->l.n, 4);
	/* .0 network, .1 gateway, .6 bridge, .7 broadcast remain: none is handed out */
	pick_refused(x, 2000, "late", NULL, NULL, -EADDRNOTAVAIL, "address pool 10.9.0.0/29 exhausted");
	assert_int_equal(x->l.n, 4);
}

static void test_pick_no_gateway_no_bridge(void **state)
{
	struct fx *x = *state;
	fx_config(x, "pool = \"10.9.0.0/30\"\ngateway = \"\"\nbridge_address = \"\"\n");
	assert_ip(pick_ok(x, 1000, "a", NULL, NULL, 1), "10.9.0.1");
	assert_ip(pick_ok(x, 1001, "b", NULL, NULL, 1), "10.9.0.2");
	busy(x, 1000);
	busy(x, 1001);
	pick_refused(x, 1002, "c", NULL, NULL, -EADDRNOTAVAIL, "10.9.0.0/30 exhausted");   /* .3: broadcast */
}

static void test_pick_big_pool(void **state)
{
	struct fx *x = *state;
	fx_config(x, "pool = \"10.213.0.0/16\"\ngateway = \"10.213.0.1\"\nbridge_address = \"10.213.0.1/16\"\n");
	fx_leases(x, "1000 alice 10.213.0.2 1\n1001 bob 10.213.0.4 1\n1002 old 10.99.0.3 1\n");
	/* the lowest free address; a lease outside the pool blocks nothing */
	assert_ip(pick_ok(x, 1003, "carol", NULL, NULL, 5), "10.213.0.3");
	assert_ip(pick_ok(x, 1004, "dave", NULL, NULL, 5), "10.213.0.5");
	assert_int_equal(x->l.n, 5);
	/* the whole /16 but the reserved three: 65533 users */
	fx_leases(x, "");
	uint32_t base = ntohl(ip("10.213.0.0").s_addr);
	for (uint32_t i = 2; i < 65535; i++) {
		struct ns_lease e = { .uid = 10000 + i, .last_used = 1 };
		snprintf(e.user, sizeof(e.user), "u%u", i);
		e.addr.s_addr = htonl(base + i);
		if (x->l.n == x->l.cap) {
			x->l.cap = x->l.cap ? x->l.cap * 2 : 1024;
			x->l.v = realloc(x->l.v, x->l.cap * sizeof(*x->l.v));
			assert_non_null(x->l.v);
		}
		x->l.v[x->l.n++] = e;
	}
	x->ops.uid_busy = NULL;    /* nobody busy: the least recently used goes */
	x->l.v[700].last_used = 0;
	struct in_addr a;
	assert_int_equal(pick(x, 5, "late", NULL, NULL, 9, &a), 0);   /* (no O(n^2) clash check here) */
	assert_true(usable(x->g, a));
	assert_int_equal(x->l.n, 65533);
	assert_int_equal(a.s_addr, x->l.v[700].addr.s_addr);
	assert_int_equal(x->l.v[700].uid, 5);
}

static void test_pick_sticky(void **state)
{
	struct fx *x = *state;
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 100), "10.9.0.2");
	assert_ip(pick_ok(x, 1001, "bob", NULL, NULL, 100), "10.9.0.3");
	busy(x, 1000);
	busy(x, 1001);
	/* same uid and user: the same address; last_used stays within the
	 * touch interval (no rewrite for a returning user), moves on after it */
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 200), "10.9.0.2");
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 100);
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 100 + NS_LEASE_TOUCH_SECS), "10.9.0.2");
	assert_false(x->tagged);
	assert_int_equal(x->l.n, 2);
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 100 + NS_LEASE_TOUCH_SECS);
	assert_int_equal(lease_of(&x->l, 1001, NULL)->last_used, 100);

	/* a lease read from the file wins over the lowest free address */
	fx_leases(x, "1000 alice 10.9.0.4 5\n");
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 5 + NS_LEASE_TOUCH_SECS), "10.9.0.4");
	assert_int_equal(x->l.n, 1);
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 5 + NS_LEASE_TOUCH_SECS);

	/* per-user namespaces share the address: whether another login of the
	 * user holds it does not matter without a session id */
	own_busy(x, "10.9.0.4");
	x->f.own_calls = 0;
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 400), "10.9.0.4");
	assert_false(x->tagged);
	assert_int_equal(x->f.own_calls, 0);
	assert_int_equal(x->l.n, 1);
}

/* A uid given to a new user (the old account deleted) must not hand the
 * new user the old user's address. */
static void test_pick_uid_reused(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1000 alice 10.9.0.2 5\n1001 carol 10.9.0.3 5\n1000 alice 10.9.0.4 6 0000abcd\n");
	alive(x, "0000abcd");
	struct in_addr a = pick_ok(x, 1000, "bob", NULL, NULL, 50);
	/* alice's entries are gone and bob has a sticky lease of his own */
	for (size_t i = 0; i < x->l.n; i++)
		assert_string_not_equal(x->l.v[i].user, "alice");
	const struct ns_lease *e = lease_of(&x->l, 1000, NULL);
	assert_string_equal(e->user, "bob");
	assert_int_equal(e->addr.s_addr, a.s_addr);
	assert_int_equal(e->last_used, 50);
	assert_ip(lease_of(&x->l, 1001, NULL)->addr, "10.9.0.3");
	/* ... and that address is not the one alice had */
	if (a.s_addr == ip("10.9.0.2").s_addr)
		fail_msg("uid 1000 reused by bob inherited alice's address 10.9.0.2");
}

/* Two names with one uid (an alias account, usermod -l, a reused uid):
 * while the old name's namespace still holds its address, the new name is
 * refused, and nobody is handed that address. */
static bool f_in_use(uid_t uid, const char *sid, void *data)
{
	(void)data;
	return uid == 1000 && sid[0] == '\0';
}

static void test_pick_uid_reused_in_use(void **state)
{
	struct fx *x = *state;
	struct in_addr a;
	fx_leases(x, "1000 alice 10.9.0.2 5\n1001 carol 10.9.0.3 5\n");
	x->ops.in_use = f_in_use;
	assert_int_equal(pick(x, 1000, "alice2", NULL, NULL, 50, &a), -EBUSY);
	assert_non_null(strstr(x->err.msg, "uid 1000 is still in use by alice (address 10.9.0.2)"));
	assert_int_equal(x->l.n, 2);
	assert_string_equal(lease_of(&x->l, 1000, NULL)->user, "alice");
	/* the old name itself goes on as before */
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 60), "10.9.0.2");
	/* another user never gets it: the pool has .4 and .5 free */
	assert_ip(pick_ok(x, 1002, "bob", NULL, NULL, 70), "10.9.0.4");
	x->ops.in_use = NULL;
}

static void test_pick_own_lease_no_longer_usable(void **state)
{
	struct fx *x = *state;
	/* pool changed, gateway or bridge moved onto the address: pick anew */
	static const char *const old[] = { "1000 alice 10.213.0.9 5\n", "1000 alice 10.9.0.1 5\n",
					   "1000 alice 10.9.0.6 5\n", "1000 alice 10.9.0.7 5\n",
					   "1000 alice 10.9.0.0 5\n" };
	for (size_t i = 0; i < ARRAY_SIZE(old); i++) {
		fx_leases(x, old[i]);
		assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 7), "10.9.0.2");
		assert_int_equal(x->l.n, 1);
		assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 7);
	}
}

static void test_pick_static(void **state)
{
	struct fx *x = *state;
	/* no lease yet: the static address becomes the sticky lease */
	assert_ip(pick_ok(x, 1000, "alice", NULL, "10.9.0.4/29", 10), "10.9.0.4");
	assert_false(x->tagged);
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.4");
	assert_int_equal(x->l.n, 1);
	/* an existing lease moves to the static address */
	fx_leases(x, "1000 alice 10.9.0.2 5\n");
	assert_ip(pick_ok(x, 1000, "alice", NULL, "10.9.0.5/29", 11), "10.9.0.5");
	assert_int_equal(x->l.n, 1);
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.5");
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 11);
	/* taken from a user with no open session */
	fx_leases(x, "1000 alice 10.9.0.2 5\n1001 carol 10.9.0.3 5\n1002 dave 10.9.0.4 5\n");
	busy(x, 1002);
	assert_ip(pick_ok(x, 1000, "alice", NULL, "10.9.0.3/29", 12), "10.9.0.3");
	assert_null(find_lease(&x->l, 1001, NULL));
	assert_null(find_addr(&x->l, "10.9.0.2"));
	assert_int_equal(x->l.n, 2);
	/* refused while its holder is logged in; nothing changes */
	pick_refused(x, 1000, "alice", NULL, "10.9.0.4/29", -EADDRINUSE, "address of alice is in use by dave");
	assert_int_equal(x->l.n, 2);
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.3");
	assert_ip(lease_of(&x->l, 1002, NULL)->addr, "10.9.0.4");
	/* the holder's live per-session address counts too */
	fx_leases(x, "1002 dave 10.9.0.2 5\n1002 dave 10.9.0.5 6 0000abcd\n");
	alive(x, "0000abcd");
	pick_refused(x, 1000, "alice", NULL, "10.9.0.5/29", -EADDRINUSE, "in use by dave");
	assert_int_equal(x->l.n, 2);
}

static void test_pick_static_per_session(void **state)
{
	struct fx *x = *state;
	/* another session of the same user has the static address: a second
	 * per-session namespace cannot have it as well */
	fx_leases(x, "1000 alice 10.9.0.4 5\n");
	own_busy(x, "10.9.0.4");
	pick_refused(x, 1000, "alice", "0000abcd", "10.9.0.4/29", -EADDRINUSE,
		     "static address of alice is in use by another of its sessions");
	assert_int_equal(x->l.n, 1);
	/* free: the static address, not tagged */
	x->f.n_own_busy = 0;
	assert_ip(pick_ok(x, 1000, "alice", "0000abcd", "10.9.0.4/29", 6), "10.9.0.4");
	assert_false(x->tagged);
	assert_int_equal(x->l.n, 1);
	assert_string_equal(lease_of(&x->l, 1000, NULL)->sid, "");
}

/* A per-user login with a static address while a per-session namespace of
 * the same user still holds that address (the policy changed in between):
 * the address cannot be in two namespaces, and the set must stay one the
 * parser accepts (no address twice). */
static void test_pick_static_own_session_address(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1004 u4 10.9.0.3 1\n1004 u4 10.9.0.4 2 03ec0001\n");
	alive(x, "03ec0001");
	own_busy(x, "10.9.0.4");
	struct in_addr a;
	int r = pick(x, 1004, "u4", NULL, "10.9.0.4/29", 5, &a);
	check_unique(&x->l);
	assert_int_equal(r, -EADDRINUSE);
}

static void test_pick_exhausted(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1001 a 10.9.0.2 1\n1002 b 10.9.0.3 2\n1003 c 10.9.0.4 3\n1004 d 10.9.0.5 4\n");
	for (uid_t u = 1001; u <= 1004; u++)
		busy(x, u);
	pick_refused(x, 1000, "alice", NULL, NULL, -EADDRNOTAVAIL, "address pool 10.9.0.0/29 exhausted");
	pick_refused(x, 1000, "alice", "0000abcd", NULL, -EADDRNOTAVAIL, "address pool 10.9.0.0/29 exhausted");
	assert_int_equal(x->l.n, 4);
	for (uid_t u = 1001; u <= 1004; u++) {
		const struct ns_lease *e = lease_of(&x->l, u, NULL);
		assert_int_equal(e->last_used, (long long)(u - 1000));
	}
	/* live per-session addresses are never taken over either */
	fx_leases(x, "1001 a 10.9.0.2 1\n1001 a 10.9.0.3 2 0000abcd\n1001 a 10.9.0.4 3 0000abce\n"
		     "1002 b 10.9.0.5 4\n");
	x->f.n_busy = 0;
	busy(x, 1001);
	busy(x, 1002);
	alive(x, "0000abcd");
	alive(x, "0000abce");
	pick_refused(x, 1000, "alice", NULL, NULL, -EADDRNOTAVAIL, "exhausted");
	assert_int_equal(x->l.n, 4);
}

static void test_pick_lru_takeover(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1001 u1 10.9.0.2 10\n1002 u2 10.9.0.3 20\n1003 u3 10.9.0.4 5\n1004 u4 10.9.0.5 30\n");
	busy(x, 1001);
	busy(x, 1003);   /* u3 is the oldest but logged in */
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 100), "10.9.0.3");
	assert_false(x->tagged);
	assert_int_equal(x->l.n, 4);
	assert_null(find_lease(&x->l, 1002, NULL));
	const struct ns_lease *e = lease_of(&x->l, 1000, NULL);
	assert_string_equal(e->user, "alice");
	assert_int_equal(e->last_used, 100);
	assert_string_equal(e->sid, "");
	busy(x, 1000);
	/* next: u4, then nobody */
	assert_ip(pick_ok(x, 1005, "bob", NULL, NULL, 101), "10.9.0.5");
	assert_null(find_lease(&x->l, 1004, NULL));
	busy(x, 1005);
	pick_refused(x, 1006, "carol", NULL, NULL, -EADDRNOTAVAIL, "exhausted");
	/* the taken-over lease is sticky for its new user */
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 102), "10.9.0.3");
}

/* A lease left from an older pool (or on what is now the gateway or the
 * bridge address) is no address to hand out, not even by LRU takeover. */
static void test_pick_lru_only_usable(void **state)
{
	struct fx *x = *state;
	static const char *const stale[] = { "10.213.0.9", "10.9.0.1", "10.9.0.6" };
	unsigned bad = 0;
	for (size_t i = 0; i < ARRAY_SIZE(stale); i++) {
		char text[256];
		snprintf(text, sizeof(text), "1001 a 10.9.0.2 10\n1002 b 10.9.0.3 10\n1003 c 10.9.0.4 10\n"
			 "1004 d 10.9.0.5 10\n1009 old %s 1\n", stale[i]);
		fx_leases(x, text);
		x->f.n_busy = 0;
		for (uid_t u = 1001; u <= 1004; u++)
			busy(x, u);
		struct in_addr a;
		int r = pick(x, 1000, "alice", NULL, NULL, 50, &a);
		if (r != -EADDRNOTAVAIL) {
			print_message("  stale lease %s: %d, handed out %s\n", stale[i], r, r == 0 ? ipstr(a) : "-");
			bad++;
		}
	}
	if (bad)
		fail_msg("%u unusable addresses handed out by LRU takeover", bad);
}

static void test_pick_per_session(void **state)
{
	struct fx *x = *state;
	/* first session of the user: its address is the sticky one */
	assert_ip(pick_ok(x, 1000, "alice", "0000abcd", NULL, 10), "10.9.0.2");
	assert_false(x->tagged);
	assert_string_equal(lease_of(&x->l, 1000, NULL)->sid, "");
	busy(x, 1000);
	alive(x, "0000abcd");
	own_busy(x, "10.9.0.2");
	/* second concurrent session: the sticky one is taken, a tagged one */
	assert_ip(pick_ok(x, 1000, "alice", "0000abce", NULL, 11), "10.9.0.3");
	assert_true(x->tagged);
	const struct ns_lease *e = lease_of(&x->l, 1000, "0000abce");
	assert_ip(e->addr, "10.9.0.3");
	assert_string_equal(e->user, "alice");
	assert_int_equal(e->last_used, 11);
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.2");
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 10);
	alive(x, "0000abce");
	own_busy(x, "10.9.0.3");
	/* a third */
	assert_ip(pick_ok(x, 1000, "alice", "0000abcf", NULL, 12), "10.9.0.4");
	assert_true(x->tagged);
	assert_int_equal(x->l.n, 3);
	alive(x, "0000abcf");
	/* the sticky address free again (its session ended): it is reused */
	x->f.n_own_busy = 0;
	assert_ip(pick_ok(x, 1000, "alice", "0000abd0", NULL, 13 + NS_LEASE_TOUCH_SECS), "10.9.0.2");
	assert_false(x->tagged);
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 13 + NS_LEASE_TOUCH_SECS);
	assert_int_equal(x->l.n, 3);
}

static void test_pick_per_session_lru(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1000 alice 10.9.0.2 1\n1002 b 10.9.0.3 2\n1003 c 10.9.0.4 3\n1004 d 10.9.0.5 4\n");
	busy(x, 1000);
	busy(x, 1002);
	busy(x, 1003);
	own_busy(x, "10.9.0.2");
	/* full: d's lease is taken over, tagged with the session */
	assert_ip(pick_ok(x, 1000, "alice", "0000abcd", NULL, 9), "10.9.0.5");
	assert_true(x->tagged);
	assert_null(find_lease(&x->l, 1004, NULL));
	assert_ip(lease_of(&x->l, 1000, "0000abcd")->addr, "10.9.0.5");
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.2");
	assert_int_equal(x->l.n, 4);
}

static void test_pick_frees_dead_tags(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1000 alice 10.9.0.2 1\n1000 alice 10.9.0.3 2 0000abcd\n"
		     "1001 bob 10.9.0.4 3 1111abcd\n1001 bob 10.9.0.5 4\n");
	busy(x, 1000);
	busy(x, 1001);
	alive(x, "1111abcd");       /* alice's 0000abcd has ended */
	assert_ip(pick_ok(x, 1002, "carol", NULL, NULL, 5), "10.9.0.3");
	assert_null(find_lease(&x->l, 1000, "0000abcd"));
	assert_ip(lease_of(&x->l, 1001, "1111abcd")->addr, "10.9.0.4");
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.2");
	assert_int_equal(x->l.n, 4);
	/* also freed by a pick that hands out nothing new (a sticky hit) */
	x->f.n_alive = 0;
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 6), "10.9.0.2");
	assert_null(find_lease(&x->l, 1001, "1111abcd"));
	assert_int_equal(x->l.n, 3);
	/* without a sid_alive callback no tag is considered alive */
	fx_leases(x, "1000 alice 10.9.0.2 1\n1000 alice 10.9.0.3 2 0000abcd\n");
	x->ops.sid_alive = NULL;
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 7), "10.9.0.2");
	assert_int_equal(x->l.n, 1);
}

static void test_pick_null_ops(void **state)
{
	struct fx *x = *state;
	/* no callbacks at all: nobody busy, no tag alive */
	x->ops = (struct ns_lease_ops){ 0 };
	fx_leases(x, "1001 a 10.9.0.2 1\n1002 b 10.9.0.3 2\n1003 c 10.9.0.4 3\n1004 d 10.9.0.5 4\n"
		     "1004 d 10.9.0.1 4 0000abcd\n");
	assert_ip(pick_ok(x, 1000, "alice", "0000abcd", NULL, 5), "10.9.0.2");
	assert_int_equal(x->l.n, 4);   /* the tag freed, a's lease taken over */
	assert_null(find_lease(&x->l, 1001, NULL));
	assert_ip(pick_ok(x, 1001, "a", NULL, "10.9.0.3/29", 6), "10.9.0.3");
	assert_null(find_lease(&x->l, 1002, NULL));    /* b was not busy */
	assert_int_equal(x->l.n, 4);
}

static void test_lease_drop(void **state)
{
	struct fx *x = *state;
	fx_leases(x, "1000 alice 10.9.0.2 1\n1000 alice 10.9.0.3 2 0000abcd\n1001 bob 10.9.0.4 3\n"
		     "1001 bob 10.9.0.5 4 0000abcd\n");
	ns_lease_drop(&x->l, 1000, "0000abcd");
	assert_int_equal(x->l.n, 3);
	assert_null(find_lease(&x->l, 1000, "0000abcd"));
	assert_non_null(find_lease(&x->l, 1001, "0000abcd"));   /* same tag, other uid */
	assert_non_null(find_lease(&x->l, 1000, NULL));
	ns_lease_drop(&x->l, 1000, "0000abcd");                 /* absent: nothing */
	ns_lease_drop(&x->l, 4242, NULL);
	assert_int_equal(x->l.n, 3);
	ns_lease_drop(&x->l, 1000, NULL);                       /* the sticky one */
	assert_int_equal(x->l.n, 2);
	assert_null(find_lease(&x->l, 1000, NULL));
	ns_lease_drop(&x->l, 1001, "");                         /* "" is the sticky one too */
	assert_int_equal(x->l.n, 1);
	assert_ip(lease_of(&x->l, 1001, "0000abcd")->addr, "10.9.0.5");
	ns_lease_drop(&x->l, 1001, "0000abcd");
	assert_int_equal(x->l.n, 0);
	ns_lease_drop(&x->l, 1001, NULL);
	assert_int_equal(x->l.n, 0);
	/* a dropped address is free for the next pick */
	assert_ip(pick_ok(x, 1002, "carol", NULL, NULL, 1), "10.9.0.2");
}

/* ---------------------------------------------------------------- views */

/* A list loaded from the store in a view (ns_leasestore.h) holds only part
 * of it: the user's own leases (NS_LEASES_OWN), those and the addresses of
 * every other file as held names (NS_LEASES_NAMES), or all (NS_LEASES_ALL).
 * The picker answers what the view lets it know, else -EAGAIN, with no
 * message, and the caller loads a wider view. */
#define HELD(...) (const char *const[]){ __VA_ARGS__, NULL }

/* The list: TEXT's leases in VIEW, the addresses HELD (NULL-terminated,
 * or NULL) held as bad files' are. */
static void fx_view(struct fx *x, enum ns_lease_view view, const char *text,
		    const char *const *held)
{
	fx_leases(x, text);
	x->l.view = view;
	for (size_t i = 0; held && held[i]; i++)
		assert_int_equal(ns_leases_hold(&x->l, ip(held[i])), 0);
}

static void pick_again(struct fx *x, uid_t uid, const char *user, const char *sid,
		       const char *static_addr)
{
	struct in_addr a;
	int r = pick(x, uid, user, sid, static_addr, 999, &a);
	if (r != -EAGAIN) {
		dump(&x->l);
		fail_msg("pick %s in view %d: %d (%s, %s), want -EAGAIN", user, (int)x->l.view, r,
			 x->err.msg, r == 0 ? ipstr(a) : "-");
	}
	if (x->err.code != 0 || x->err.msg[0])
		fail_msg("pick %s: -EAGAIN with a message (%d, \"%s\")", user, x->err.code,
			 x->err.msg);
	assert_false(x->tagged);
}

static void test_pick_view_own(void **state)
{
	struct fx *x = *state;
	/* the user's sticky lease: hers, not the lowest free address */
	fx_view(x, NS_LEASES_OWN, "1000 alice 10.9.0.4 5\n", NULL);
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 5 + NS_LEASE_TOUCH_SECS), "10.9.0.4");
	assert_false(x->tagged);
	assert_int_equal(x->err.code, 0);
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 5 + NS_LEASE_TOUCH_SECS);
	/* a per-session namespace while no other session has it: the same */
	assert_ip(pick_ok(x, 1000, "alice", "0000abcd", NULL, 6 + NS_LEASE_TOUCH_SECS), "10.9.0.4");
	assert_false(x->tagged);
	assert_int_equal(x->l.n, 1);

	/* no lease of his own: a free address needs the names of all */
	pick_again(x, 1001, "bob", NULL, NULL);
	assert_int_equal(x->l.n, 1);
	assert_null(find_lease(&x->l, 1001, NULL));
	/* hers taken by another of her sessions: a tagged one is a free one too */
	own_busy(x, "10.9.0.4");
	pick_again(x, 1000, "alice", "0000abce", NULL);
	assert_null(find_lease(&x->l, 1000, "0000abce"));
	/* hers outside the pool now, or left by the uid's former user: a new one */
	fx_view(x, NS_LEASES_OWN, "1000 alice 10.9.0.7 5\n", NULL);
	pick_again(x, 1000, "alice", NULL, NULL);
	fx_view(x, NS_LEASES_OWN, "1000 alice 10.9.0.4 5\n", NULL);
	pick_again(x, 1000, "bob", NULL, NULL);
	/* an empty list in this view says nothing of the pool: not "exhausted" */
	fx_view(x, NS_LEASES_OWN, "", NULL);
	pick_again(x, 1000, "alice", NULL, NULL);
	/* a static address needs only its own file's lease, loaded with hers */
	fx_view(x, NS_LEASES_OWN, "1000 alice 10.9.0.2 5\n1001 bob 10.9.0.5 5\n", NULL);
	assert_ip(pick_ok(x, 1000, "alice", NULL, "10.9.0.5/29", 9), "10.9.0.5");
	assert_null(find_lease(&x->l, 1001, NULL));
}

static void test_pick_view_names_full(void **state)
{
	struct fx *x = *state;
	const char *const *all = HELD("10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5");
	/* every address of the pool has a file: a takeover needs every lease */
	fx_view(x, NS_LEASES_NAMES, "", all);
	pick_again(x, 1000, "alice", NULL, NULL);
	pick_again(x, 1000, "alice", "0000abcd", NULL);
	assert_int_equal(x->l.n, 0);
	/* with every lease read, nobody logged in: the least recently used */
	static const char four[] = "1001 a 10.9.0.2 4\n1002 b 10.9.0.3 2\n1003 c 10.9.0.4 3\n"
				   "1004 d 10.9.0.5 5\n";
	fx_view(x, NS_LEASES_NAMES, "1001 a 10.9.0.2 4\n1002 b 10.9.0.3 2\n", all + 2);
	pick_again(x, 1000, "alice", NULL, NULL);
	fx_leases(x, four);
	assert_int_equal(x->l.view, NS_LEASES_ALL);
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 9), "10.9.0.3");
	/* ... but addresses of bad files are never taken over: exhausted */
	fx_view(x, NS_LEASES_ALL, "", all);
	pick_refused(x, 1000, "alice", NULL, NULL, -EADDRNOTAVAIL, "10.9.0.0/29 exhausted");
	/* her own lease needs no more than the names either */
	fx_view(x, NS_LEASES_NAMES, "1000 alice 10.9.0.3 5\n",
		HELD("10.9.0.2", "10.9.0.4", "10.9.0.5"));
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 9), "10.9.0.3");
}

static void test_pick_view_names_free(void **state)
{
	struct fx *x = *state;
	/* the first address of the pool that no file names */
	fx_view(x, NS_LEASES_NAMES, "", HELD("10.9.0.2", "10.9.0.3"));
	assert_ip(pick_ok(x, 1000, "alice", NULL, NULL, 7), "10.9.0.4");
	assert_false(x->tagged);
	assert_int_equal(x->l.n, 1);
	assert_int_equal(x->l.n_held, 2);
	assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.4");
	assert_int_equal(lease_of(&x->l, 1000, NULL)->last_used, 7);
	/* her sticky one busy in another session: the next one, tagged */
	busy(x, 1000);
	own_busy(x, "10.9.0.4");
	assert_ip(pick_ok(x, 1000, "alice", "0000abcd", NULL, 8), "10.9.0.5");
	assert_true(x->tagged);
	assert_ip(lease_of(&x->l, 1000, "0000abcd")->addr, "10.9.0.5");
	/* nothing left by name: -EAGAIN, not "exhausted" (a takeover may do) */
	alive(x, "0000abcd");
	pick_again(x, 1001, "bob", NULL, NULL);
	/* a held address below a free one; the gateway .1 is never one */
	fx_view(x, NS_LEASES_NAMES, "", HELD("10.9.0.3"));
	assert_ip(pick_ok(x, 1001, "bob", NULL, NULL, 9), "10.9.0.2");
	assert_ip(pick_ok(x, 1002, "carol", NULL, NULL, 9), "10.9.0.4");
}

/* An address whose file is bad is held: never a static address either. */
static void test_pick_static_held(void **state)
{
	struct fx *x = *state;
	static const enum ns_lease_view views[] = { NS_LEASES_ALL, NS_LEASES_NAMES, NS_LEASES_OWN };
	for (size_t v = 0; v < ARRAY_SIZE(views); v++) {
		fx_view(x, views[v], "1000 alice 10.9.0.2 5\n", HELD("10.9.0.4"));
		pick_refused(x, 1000, "alice", NULL, "10.9.0.4/29", -EADDRINUSE,
			     "static address of alice is held by a bad lease entry");
		pick_refused(x, 1000, "alice", "0000abcd", "10.9.0.4/29", -EADDRINUSE,
			     "static address of alice is held by a bad lease entry");
		assert_int_equal(x->l.n, 1);
		assert_ip(lease_of(&x->l, 1000, NULL)->addr, "10.9.0.2");
		assert_int_equal(x->l.n_held, 1);
		/* another static address: fine */
		assert_ip(pick_ok(x, 1000, "alice", NULL, "10.9.0.5/29", 6), "10.9.0.5");
	}
}

/* What the store may hand out: pool addresses but the reserved ones. */
static void test_lease_addr_usable(void **state)
{
	struct fx *x = *state;
	static const char *const yes[] = { "10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5" };
	/* network, gateway, bridge, broadcast; outside the pool */
	static const char *const no[] = {
		"10.9.0.0", "10.9.0.1", "10.9.0.6", "10.9.0.7",
		"10.9.0.8", "10.8.255.255", "0.0.0.0", "255.255.255.255",
	};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (!ns_lease_addr_usable(x->g, ip(yes[i])))
			fail_msg("%s not usable", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (ns_lease_addr_usable(x->g, ip(no[i])))
			fail_msg("%s usable", no[i]);
	/* the host part that would make gateway6 the user's IPv6 address */
	fx_config(x, "pool = \"10.9.0.0/29\"\ngateway = \"10.9.0.1\"\nbridge_address = \"\"\n"
		     "pool6 = \"fd00:9::/64\"\ngateway6 = \"fd00:9::3\"\n");
	assert_false(ns_lease_addr_usable(x->g, ip("10.9.0.3")));
	assert_true(ns_lease_addr_usable(x->g, ip("10.9.0.6")));
}

/* Whatever sequence of logins happens, what the picker leaves must be a
 * set that the store holds as it is: each lease's line (ns_lease_format)
 * parses back, and no address or (uid, tag) twice, else a lease would
 * become a bad file at the next load. No address held by a logged-in user
 * may move. */
static unsigned long long rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static bool reparses(const struct ns_leases *l)
{
	size_t cap = l->n * 96 + 1, off = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	text[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		int n = ns_lease_format(&l->v[i], text + off, cap - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	struct ns_leases back = { 0 };
	struct ns_err e = { 0 };
	int r = ns_leases_parse(text, "L", &back, &e);
	free(text);
	if (r == 0)
		ns_leases_free(&back);
	else
		print_message("  %s\n", e.msg);
	return r == 0;
}

static void test_pick_random_sequences(void **state)
{
	struct fx *x = *state;
	static const char *const statics[] = { "10.9.0.2/29", "10.9.0.3/29", "10.9.0.4/29", "10.9.0.5/29" };
	char names[8][8], sidbuf[NS_SID_LEN + 1], alive_sids[16][NS_SID_LEN + 1];
	for (int step = 0; step < 20000; step++) {
		/* the world: who is logged in, which tagged sessions are open,
		 * which addresses the picking user's sessions hold */
		uid_t uid = 1000 + rnd(8);
		snprintf(names[uid - 1000], sizeof(names[0]), "%c%u", rnd(20) ? 'u' : 'v', uid - 1000);
		const char *user = names[uid - 1000];
		snprintf(sidbuf, sizeof(sidbuf), "%04x%04x", (unsigned)uid, rnd(4));   /* unique per uid */
		const char *sid = rnd(3) ? NULL : sidbuf;
		const char *st = rnd(6) ? NULL : statics[rnd(ARRAY_SIZE(statics))];
		x->f.n_busy = x->f.n_alive = x->f.n_own_busy = 0;
		for (uid_t u = 1000; u < 1008; u++)
			if (u != uid && rnd(2))
				busy(x, u);
		for (size_t i = 0; i < x->l.n; i++)
			if (x->l.v[i].sid[0] && rnd(3) && !(sid && strcmp(sid, x->l.v[i].sid) == 0)) {
				/* an open session: its user is busy (a new one is not open yet) */
				memcpy(alive_sids[x->f.n_alive], x->l.v[i].sid, sizeof(alive_sids[0]));
				alive(x, alive_sids[x->f.n_alive]);
				if (x->l.v[i].uid != uid && !f_uid_busy(x->l.v[i].uid, &x->f))
					busy(x, x->l.v[i].uid);
			}
		/* addresses the user's open sessions have: those of its open
		 * tagged sessions, and maybe the sticky one */
		for (size_t i = 0; i < x->l.n && x->f.n_own_busy < 8; i++)
			if (x->l.v[i].uid == uid &&
			    (x->l.v[i].sid[0] ? f_sid_alive(x->l.v[i].uid, x->l.v[i].sid, &x->f) : rnd(2)))
				x->f.own_busy[x->f.n_own_busy++] = x->l.v[i].addr;

		/* holders before: (uid, live?) per address */
		struct { uid_t uid; bool live; bool present; } held[8] = { 0 };
		for (size_t i = 0; i < x->l.n; i++) {
			uint32_t off = ntohl(x->l.v[i].addr.s_addr) - ntohl(ip("10.9.0.0").s_addr);
			if (off < 8) {
				held[off].uid = x->l.v[i].uid;
				held[off].present = true;
				/* a tagged address lives with its session, a sticky
				 * one with any session of its user */
				held[off].live = x->l.v[i].sid[0] ? f_sid_alive(x->l.v[i].uid, x->l.v[i].sid, &x->f)
								  : f_uid_busy(x->l.v[i].uid, &x->f);
			}
		}
		struct in_addr a;
		int r = pick(x, uid, user, sid, st, step, &a);
		if (!reparses(&x->l)) {
			dump(&x->l);
			fail_msg("step %d: pick %s/%u sid %s static %s left a set the parser refuses", step, user,
				 (unsigned)uid, sid ? sid : "-", st ? st : "-");
		}
		if (r == 0) {
			if (!usable(x->g, a))
				fail_msg("step %d: %s not usable", step, ipstr(a));
			uint32_t off = ntohl(a.s_addr) - ntohl(ip("10.9.0.0").s_addr);
			if (held[off].present && held[off].uid != uid && held[off].live)
				fail_msg("step %d: %s of logged-in uid %u handed to %u", step, ipstr(a),
					 (unsigned)held[off].uid, (unsigned)uid);
			if (sid && x->tagged && f_own_addr_busy(a, &x->f))
				fail_msg("step %d: tagged address %s is in use by the user", step, ipstr(a));
			if (x->tagged)
				assert_int_equal(lease_of(&x->l, uid, sid)->addr.s_addr, a.s_addr);
			else
				assert_int_equal(lease_of(&x->l, uid, NULL)->addr.s_addr, a.s_addr);
		} else if (r != -EADDRNOTAVAIL && r != -EADDRINUSE) {
			fail_msg("step %d: %d (%s)", step, r, x->err.msg);
		}
		if (!rnd(10) && x->l.n)
			ns_lease_drop(&x->l, x->l.v[0].uid, x->l.v[0].sid);
	}
}

/* ---------------------------------------------------------------- main */

#define PICK(f) cmocka_unit_test_setup_teardown(f, pick_setup, pick_teardown)

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_empty_and_blank),
		cmocka_unit_test(test_parse_corrupt_lines),
		cmocka_unit_test(test_parse_glued_fields),
		cmocka_unit_test(test_parse_duplicates),
		cmocka_unit_test(test_parse_many),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_parse_line),
	};
	const struct CMUnitTest file_tests[] = {
		cmocka_unit_test(test_read_missing_is_empty),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_read_bad_content),
	};
	const struct CMUnitTest pick_tests[] = {
		PICK(test_pick_fresh_skips_reserved),
		PICK(test_pick_no_gateway_no_bridge),
		PICK(test_pick_big_pool),
		PICK(test_pick_sticky),
		PICK(test_pick_uid_reused),
		PICK(test_pick_uid_reused_in_use),
		PICK(test_pick_own_lease_no_longer_usable),
		PICK(test_pick_static),
		PICK(test_pick_static_per_session),
		PICK(test_pick_static_own_session_address),
		PICK(test_pick_exhausted),
		PICK(test_pick_lru_takeover),
		PICK(test_pick_lru_only_usable),
		PICK(test_pick_per_session),
		PICK(test_pick_per_session_lru),
		PICK(test_pick_frees_dead_tags),
		PICK(test_pick_null_ops),
		PICK(test_lease_drop),
		PICK(test_pick_view_own),
		PICK(test_pick_view_names_full),
		PICK(test_pick_view_names_free),
		PICK(test_pick_static_held),
		PICK(test_lease_addr_usable),
		PICK(test_pick_random_sequences),
	};
	int fails = cmocka_run_group_tests_name("lease parse", parse_tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("lease files", file_tests, files_setup, files_teardown);
	fails += cmocka_run_group_tests_name("lease pick", pick_tests, NULL, NULL);
	return fails ? 1 : 0;
}
