/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_session.c — session records (strict key=value format, atomic
 * root-owned files, the per-uid index), what foreach trusts, the owner
 * liveness check (pid + start time + namespace inode), locks, and the
 * start time of a process.
 *
 * The state directory is a temp dir. Run as root, the files are really
 * written and read; run as another user, every call that needs a
 * root-owned directory must refuse with -EPERM, and that is asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns_session.h"
#include "ns_steps.h"
#include "ns_util.h"
#include "fixtures.h"

/* ---------------------------------------------------------------- helpers */

static struct ns_session_rec make_rec(const char *sid, const char *user, uid_t uid)
{
	struct ns_session_rec r;
	memset(&r, 0, sizeof(r));
	snprintf(r.sid, sizeof(r.sid), "%s", sid);
	snprintf(r.user, sizeof(r.user), "%s", user);
	r.uid = uid;
	snprintf(r.netns, sizeof(r.netns), "ns-%s", user);
	r.netns_dev = 4;
	r.netns_ino = 4026532000u + uid;
	snprintf(r.veth, sizeof(r.veth), "nsu%u", (unsigned)uid);
	snprintf(r.address, sizeof(r.address), "10.213.0.%u/16", (unsigned)(uid % 250) + 2);
	r.owner_pid = 4242;
	r.owner_start = 123456789;
	r.opened = 1700000000;
	return r;
}

static void assert_rec_equal(const struct ns_session_rec *a, const struct ns_session_rec *b)
{
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->uid, b->uid);
	assert_string_equal(a->netns, b->netns);
	assert_true(a->netns_dev == b->netns_dev);
	assert_true(a->netns_ino == b->netns_ino);
	assert_string_equal(a->veth, b->veth);
	assert_string_equal(a->address, b->address);
	assert_int_equal(a->owner_pid, b->owner_pid);
	assert_true(a->owner_start == b->owner_start);
	assert_true(a->opened == b->opened);
}

/* ---------------------------------------------------------------- format */

static void test_format_parse_round_trip(void **state)
{
	(void)state;
	char buf[1024];
	struct ns_session_rec r = make_rec("0000abcd", "alice", 1000), out;
	int n = ns_session_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_string_equal(buf, "user=alice\nuid=1000\nnetns=ns-alice\nnetns_dev=4\nnetns_ino=4026533000\n"
				 "veth=nsu1000\naddress=10.213.0.2/16\nowner_pid=4242\nowner_start=123456789\n"
				 "owner_pidns=0\nopened=1700000000\n");
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(ns_session_parse(buf, &out), 0);
	assert_rec_equal(&out, &r);

	/* extremes of every number; isolated (no veth, no address); a
	 * per-session namespace name; a 32-byte user name */
	memset(r.user, 'u', 32);
	r.user[32] = '\0';
	r.uid = 4294967294u;
	snprintf(r.netns, sizeof(r.netns), "ns-%s-0000abcd", r.user);
	r.netns_dev = (dev_t)UINT64_MAX;
	r.netns_ino = (ino_t)UINT64_MAX;
	r.veth[0] = '\0';
	r.address[0] = '\0';
	r.owner_pid = INT32_MAX;
	r.owner_start = UINT64_MAX;
	r.opened = INT64_MAX;
	n = ns_session_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ns_session_parse(buf, &out), 0);
	assert_rec_equal(&out, &r);
	r.opened = 0;
	r.owner_start = 0;
	r.uid = 0;
	snprintf(r.user, sizeof(r.user), "root");
	assert_true(ns_session_format(&r, buf, sizeof(buf)) > 0);
	assert_int_equal(ns_session_parse(buf, &out), 0);
	assert_rec_equal(&out, &r);
	/* keys in another order are fine */
	assert_int_equal(ns_session_parse("opened=1\nowner_start=2\nowner_pid=3\naddress=\nveth=\nnetns_ino=4\n"
					  "netns_dev=5\nnetns=ns-bob\nuid=6\nuser=bob\n", &out), 0);
	assert_int_equal(out.owner_pid, 3);
	assert_string_equal(out.user, "bob");
}

static void test_format_buffer_size(void **state)
{
	(void)state;
	char buf[1024];
	struct ns_session_rec r = make_rec("0000abcd", "alice", 1000);
	int n = ns_session_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ns_session_format(&r, buf, (size_t)n + 1), n);
	assert_int_equal(ns_session_format(&r, buf, (size_t)n), -ENOSPC);
	assert_int_equal(ns_session_format(&r, buf, 1), -ENOSPC);
}

/* TEXT must be refused with -EINVAL and *ret left alone. */
static bool parse_refused(const char *text, const char *why)
{
	struct ns_session_rec out, before;
	memset(&out, 0x5a, sizeof(out));
	before = out;
	int r = ns_session_parse(text, &out);
	if (r != -EINVAL) {
		print_message("  %s: %d, want -EINVAL\n", why, r);
		return false;
	}
	if (memcmp(&out, &before, sizeof(out)) != 0) {
		print_message("  %s: result touched on failure\n", why);
		return false;
	}
	return true;
}

/* The valid record with line KEY replaced by LINE (NULL: removed). */
static void with_line(char *buf, size_t size, const char *key, const char *line)
{
	static const char *const lines[] = {
		"user=alice", "uid=1000", "netns=ns-alice", "netns_dev=4", "netns_ino=4026533000",
		"veth=nsu1000", "address=10.213.0.4/16", "owner_pid=4242", "owner_start=123456789",
		"opened=1700000000",
	};
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		size_t kl = strlen(key);
		const char *l = lines[i];
		if (strncmp(l, key, kl) == 0 && l[kl] == '=')
			l = line;
		if (l)
			off += (size_t)snprintf(buf + off, size - off, "%s\n", l);
	}
}

static void test_parse_strict(void **state)
{
	(void)state;
	static const char *const keys[] = { "user", "uid", "netns", "netns_dev", "netns_ino", "veth",
					    "address", "owner_pid", "owner_start", "opened" };
	char buf[2048], line[512], why[600];
	struct ns_session_rec out;
	unsigned bad = 0;

	with_line(buf, sizeof(buf), "none", NULL);
	assert_int_equal(ns_session_parse(buf, &out), 0);

	/* every key is required */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		with_line(buf, sizeof(buf), keys[i], NULL);
		snprintf(why, sizeof(why), "missing %s", keys[i]);
		bad += !parse_refused(buf, why);
	}
	/* ... exactly once */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		with_line(buf, sizeof(buf), "none", NULL);
		size_t n = strlen(buf);
		/* repeat the key's own line */
		const char *p = strstr(buf, keys[i]);
		while (p && !(p == buf || p[-1] == '\n'))
			p = strstr(p + 1, keys[i]);
		assert_non_null(p);
		const char *nl = strchr(p, '\n');
		snprintf(buf + n, sizeof(buf) - n, "%.*s\n", (int)(nl - p), p);
		snprintf(why, sizeof(why), "duplicate %s", keys[i]);
		bad += !parse_refused(buf, why);
	}
	/* unknown keys, lines without '=' */
	static const char *const extra[] = { "foo=1", "UID=1000", "uid =1000", " uid=1000", "=1", "uid", "",
					     "#comment", "sid=0000abcd" };
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		with_line(buf, sizeof(buf), "none", NULL);
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "%s\n", extra[i]);
		snprintf(why, sizeof(why), "extra line \"%s\"", extra[i]);
		bad += !parse_refused(buf, why);
	}
	/* bad values */
	static const struct { const char *key, *line; } vals[] = {
		{ "uid", "uid=" }, { "uid", "uid=x" }, { "uid", "uid=-1" }, { "uid", "uid=+1" },
		{ "uid", "uid= 1" }, { "uid", "uid=1 " }, { "uid", "uid=0x10" }, { "uid", "uid=1.0" },
		{ "uid", "uid=4294967296" }, { "uid", "uid=99999999999999999999999" },
		{ "owner_pid", "owner_pid=0" }, { "owner_pid", "owner_pid=00" }, { "owner_pid", "owner_pid=-1" },
		{ "owner_pid", "owner_pid=2147483648" }, { "owner_pid", "owner_pid=" },
		{ "owner_start", "owner_start=18446744073709551616" }, { "owner_start", "owner_start=x" },
		{ "netns_dev", "netns_dev=18446744073709551616" }, { "netns_dev", "netns_dev=-4" },
		{ "netns_ino", "netns_ino=" }, { "netns_ino", "netns_ino=1e3" },
		{ "opened", "opened=9223372036854775808" }, { "opened", "opened=-1" },
		{ "user", "user=" }, { "user", "user=-alice" }, { "user", "user=.alice" },
		{ "user", "user=al ice" }, { "user", "user=al/ice" }, { "user", "user=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "veth", "veth=a/b" }, { "veth", "veth=nsu1000000000000" }, { "veth", "veth=.." },
		{ "veth", "veth=a b" }, { "veth", "veth=a:b" },
		/* control characters, anywhere */
		{ "netns", "netns=ns-\x01" }, { "netns", "netns=ns-a\tb" }, { "netns", "netns=ns-a\rb" },
		{ "netns", "netns=ns-\x7f" }, { "netns", "netns=ns-\x1b[31m" },
		{ "address", "address=10.213.0.4/16\r" }, { "address", "address=\x1f" },
		{ "user", "user=alice\r" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		with_line(buf, sizeof(buf), vals[i].key, vals[i].line);
		snprintf(why, sizeof(why), "\"%s\"", vals[i].line);
		bad += !parse_refused(buf, why);
	}
	/* too long for the record's fields */
	memset(line, 'n', sizeof(line));
	memcpy(line, "netns=", 6);
	line[6 + 64] = '\0';                       /* 64 bytes: one too many */
	with_line(buf, sizeof(buf), "netns", line);
	bad += !parse_refused(buf, "netns of 64 bytes");
	line[6 + 63] = '\0';                       /* 63: fits */
	with_line(buf, sizeof(buf), "netns", line);
	assert_int_equal(ns_session_parse(buf, &out), 0);
	memcpy(line, "address=", 8);
	memset(line + 8, '1', 64);
	line[8 + 64] = '\0';
	with_line(buf, sizeof(buf), "address", line);
	bad += !parse_refused(buf, "address of 64 bytes");
	memset(line, 'n', 300);                    /* a line over the line limit */
	memcpy(line, "netns=", 6);
	line[300] = '\0';
	with_line(buf, sizeof(buf), "netns", line);
	bad += !parse_refused(buf, "line of 300 bytes");

	/* the final newline is required; nothing is not a record */
	with_line(buf, sizeof(buf), "none", NULL);
	buf[strlen(buf) - 1] = '\0';
	bad += !parse_refused(buf, "no final newline");
	bad += !parse_refused("", "empty");
	bad += !parse_refused("\n", "one empty line");
	with_line(buf, sizeof(buf), "none", NULL);
	strcat(buf, "\n");
	bad += !parse_refused(buf, "trailing empty line");
	with_line(buf, sizeof(buf), "uid", "uid=1000\r");
	bad += !parse_refused(buf, "CRLF");
	if (bad)
		fail_msg("%u bad records accepted", bad);
}

/* ---------------------------------------------------------------- files */

static char sdir[300];
static bool is_root;

static int files_setup(void **state)
{
	(void)state;
	is_root = geteuid() == 0;
	return tmpdir_make("session");
}

static int files_teardown(void **state)
{
	(void)state;
	return tmpdir_remove();
}

/* A fresh state directory for each test. */
static int state_setup(void **state)
{
	(void)state;
	static unsigned n;
	char cmd[400];
	snprintf(sdir, sizeof(sdir), "%s/state%u", tmpdir, ++n);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void sub(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", sdir, rel);
}


static void assert_mode(const char *path, mode_t want)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & 07777) != want)
		fail_msg("%s: mode %04o, want %04o", path, (unsigned)(st.st_mode & 07777), (unsigned)want);
	assert_int_equal(st.st_uid, 0);
}

/* Prepare the state dir: as root it must work; otherwise -EPERM. */
static bool prepare(void)
{
	struct ns_err e = { 0 };
	int r = ns_state_prepare(sdir, &e);
	if (is_root) {
		if (r != 0)
			fail_msg("ns_state_prepare: %d (%s)", r, e.msg);
		return true;
	}
	assert_int_equal(r, -EPERM);
	assert_int_equal(e.code, -EPERM);
	assert_non_null(strstr(e.msg, sdir));
	assert_non_null(strstr(e.msg, "not a root-owned directory"));
	return false;
}

static void write_ok(const struct ns_session_rec *r)
{
	struct ns_err e = { 0 };
	int rc = ns_session_write(sdir, r, &e);
	if (rc != 0)
		fail_msg("ns_session_write %s: %d (%s)", r->sid, rc, e.msg);
}

/* What foreach saw. */
struct seen {
	size_t n;
	char sid[16][NS_SID_LEN + 1];
	uid_t uid[16];
	int stop_after;   /* return 7 after this many; 0: never */
};

static int collect(const struct ns_session_rec *r, void *data)
{
	struct seen *s = data;
	if (s->n < ARRAY_SIZE(s->sid)) {
		memcpy(s->sid[s->n], r->sid, sizeof(s->sid[0]));
		s->uid[s->n] = r->uid;
	}
	s->n++;
	return s->stop_after && (int)s->n >= s->stop_after ? 7 : 0;
}

static bool saw(const struct seen *s, const char *sid)
{
	for (size_t i = 0; i < s->n && i < ARRAY_SIZE(s->sid); i++)
		if (strcmp(s->sid[i], sid) == 0)
			return true;
	return false;
}

static void dump_seen(const struct seen *s)
{
	for (size_t i = 0; i < s->n && i < ARRAY_SIZE(s->sid); i++)
		print_message("    seen %s (uid %u)\n", s->sid[i], (unsigned)s->uid[i]);
}

static void test_state_prepare(void **state)
{
	(void)state;
	char p[400];
	if (!prepare()) {
		/* not root: nothing else works either, each says why */
		struct ns_session_rec r = make_rec("0000abcd", "alice", 1000), out;
		struct ns_err e = { 0 };
		struct seen s = { 0 };
		assert_int_equal(ns_session_write(sdir, &r, &e), -EPERM);
		assert_non_null(strstr(e.msg, "0000abcd"));
		assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -EPERM);
		assert_int_equal(ns_session_foreach(sdir, collect, &s), -EPERM);
		assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), -EPERM);
		assert_int_equal(ns_session_remove(sdir, 1000, "0000abcd"), -EPERM);
		assert_int_equal(ns_session_find_netns(sdir, 1000, 1, 2, NULL, &out), -EPERM);
		assert_int_equal(s.n, 0);
		return;
	}
	assert_mode(sdir, 0755);
	sub(p, sizeof(p), "sessions");
	assert_mode(p, 0755);
	sub(p, sizeof(p), "lock");
	assert_mode(p, 0700);
	sub(p, sizeof(p), "by-uid");
	assert_mode(p, 0755);
	/* again: fine, nothing changes */
	assert_int_equal(ns_state_prepare(sdir, NULL), 0);
	assert_mode(p, 0755);
}

static void test_state_prepare_refusals(void **state)
{
	(void)state;
	char p[400], target[400];
	struct ns_err e = { 0 };
	if (!is_root) {
		/* missing state dir: created (by us), then refused as not root's */
		assert_int_equal(ns_state_prepare(sdir, &e), -EPERM);
		return;
	}
	/* the state directory is a symlink to a good one */
	snprintf(target, sizeof(target), "%s/real", tmpdir);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, sdir), 0);
	assert_true(ns_state_prepare(sdir, &e) < 0);
	assert_non_null(strstr(e.msg, sdir));
	assert_int_equal(unlink(sdir), 0);
	/* writable by group or others, or not root's */
	static const mode_t modes[] = { 0775, 0757, 0777, 01777 };
	assert_int_equal(mkdir(sdir, 0755), 0);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		assert_int_equal(chmod(sdir, modes[i]), 0);
		assert_int_equal(ns_state_prepare(sdir, &e), -EPERM);
	}
	assert_int_equal(chmod(sdir, 0755), 0);
	assert_int_equal(chown(sdir, 65534, 65534), 0);
	assert_int_equal(ns_state_prepare(sdir, &e), -EPERM);
	assert_int_equal(chown(sdir, 0, 0), 0);
	/* a sub-directory that is a symlink, a file, someone else's */
	sub(p, sizeof(p), "sessions");
	assert_int_equal(symlink(target, p), 0);
	assert_true(ns_state_prepare(sdir, &e) < 0);
	assert_non_null(strstr(e.msg, "sessions"));
	assert_int_equal(unlink(p), 0);
	write_file(p, "", 0, 0644);
	assert_true(ns_state_prepare(sdir, &e) < 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, 65534, 0), 0);
	assert_int_equal(ns_state_prepare(sdir, &e), -EPERM);
	assert_int_equal(chown(p, 0, 0), 0);
	assert_int_equal(chmod(p, 0775), 0);
	assert_int_equal(ns_state_prepare(sdir, &e), -EPERM);
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(ns_state_prepare(sdir, &e), 0);
}

static void test_write_read_remove(void **state)
{
	(void)state;
	char p[400];
	struct ns_session_rec r = make_rec("0000abcd", "alice", 1000), out;
	struct ns_err e = { 0 };
	if (!prepare())
		return;
	static const mode_t masks[] = { 077, 000, 0777 };
	for (size_t i = 0; i < ARRAY_SIZE(masks); i++) {
		mode_t old = umask(masks[i]);
		r.opened = 1700000000 + (long long)i;   /* rewritten in place of the old one */
		int rc = ns_session_write(sdir, &r, &e);
		umask(old);
		if (rc != 0)
			fail_msg("umask %03o: %d (%s)", (unsigned)masks[i], rc, e.msg);
		sub(p, sizeof(p), "sessions/0000abcd");
		assert_mode(p, 0644);
	}
	sub(p, sizeof(p), "sessions/.0000abcd.tmp");
	assert_int_not_equal(access(p, F_OK), 0);
	sub(p, sizeof(p), "by-uid/1000/0000abcd");
	assert_int_equal(access(p, F_OK), 0);

	memset(&out, 0, sizeof(out));
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), 0);
	assert_rec_equal(&out, &r);
	assert_string_equal(out.sid, "0000abcd");
	assert_true(out.opened == 1700000002);

	/* remove: record and index entry; again: still 0 */
	assert_int_equal(ns_session_remove(sdir, 1000, "0000abcd"), 0);
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -ENOENT);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(ns_session_remove(sdir, 1000, "0000abcd"), 0);
	assert_int_equal(ns_session_remove(sdir, 1000, "../lock"), -EINVAL);
	assert_int_equal(ns_session_remove(sdir, 1000, ""), -EINVAL);

	/* a record is written only with a valid session id and content */
	r = make_rec("0000ABCD", "alice", 1000);
	assert_int_equal(ns_session_write(sdir, &r, &e), -EINVAL);
	r = make_rec("../../x", "alice", 1000);
	assert_int_equal(ns_session_write(sdir, &r, &e), -EINVAL);
	r = make_rec("0000abcd", "alice", 1000);
	assert_int_equal(ns_session_read(sdir, "0000ABCD", &out), -EINVAL);
	assert_int_equal(ns_session_read(sdir, "../sessions/0000abcd", &out), -EINVAL);
	/* the sessions directory must exist (ns_state_prepare makes it) */
	char other[400];
	snprintf(other, sizeof(other), "%s/unprepared", tmpdir);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(ns_session_write(other, &r, &e), -ENOENT);
}

static void test_read_refusals(void **state)
{
	(void)state;
	char p[400], good[1024], big[5000];
	struct ns_session_rec r = make_rec("0000abcd", "alice", 1000), out;
	if (!prepare())
		return;
	int n = ns_session_format(&r, good, sizeof(good));
	assert_true(n > 0);
	sub(p, sizeof(p), "sessions/0000abcd");

	write_file(p, good, (size_t)n, 0600);
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), 0);
	static const mode_t writable[] = { 0664, 0646, 0666, 0620 };
	for (size_t i = 0; i < ARRAY_SIZE(writable); i++) {
		write_file(p, good, (size_t)n, writable[i]);
		assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -EPERM);
	}
	write_file(p, good, (size_t)n, 0644);
	assert_int_equal(chown(p, 1000, 1000), 0);
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -EPERM);
	/* a symlink to a good record */
	char target[400];
	snprintf(target, sizeof(target), "%s/target-rec", tmpdir);
	write_file(target, good, (size_t)n, 0644);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	assert_true(ns_session_read(sdir, "0000abcd", &out) < 0);
	unlink(p);
	/* bad content, NUL, too large, FIFO, directory, missing */
	write_file(p, good, (size_t)n - 1, 0644);
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -EINVAL);
	write_file(p, good, (size_t)n + 1, 0644);   /* with the NUL after it */
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -EINVAL);
	memset(big, '#', sizeof(big));
	memcpy(big, good, (size_t)n);
	write_file(p, big, sizeof(big), 0644);
	assert_true(ns_session_read(sdir, "0000abcd", &out) < 0);
	unlink(p);
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -EPERM);
	unlink(p);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_true(ns_session_read(sdir, "0000abcd", &out) < 0);
	rmdir(p);
	assert_int_equal(ns_session_read(sdir, "0000abcd", &out), -ENOENT);
}

static void test_foreach_and_index(void **state)
{
	(void)state;
	char p[400];
	struct seen s = { 0 };
	if (!prepare())
		return;
	struct ns_session_rec a1 = make_rec("0000aaa1", "alice", 1000), a2 = make_rec("0000aaa2", "alice", 1000),
			      b1 = make_rec("0000bbb1", "bob", 1001);
	write_ok(&a1);
	write_ok(&a2);
	write_ok(&b1);

	assert_int_equal(ns_session_foreach(sdir, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(saw(&s, "0000aaa1") && saw(&s, "0000aaa2") && saw(&s, "0000bbb1"));

	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(saw(&s, "0000aaa1") && saw(&s, "0000aaa2"));
	assert_int_equal(s.uid[0], 1000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1001, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.sid[0], "0000bbb1");
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1002, collect, &s), 0);   /* no index dir */
	assert_int_equal(s.n, 0);

	/* the callback's non-zero value stops the walk and is returned */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(ns_session_foreach(sdir, collect, &s), 7);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), 7);
	assert_int_equal(s.n, 1);

	/* remove one: gone from both walks */
	assert_int_equal(ns_session_remove(sdir, 1000, "0000aaa1"), 0);
	sub(p, sizeof(p), "by-uid/1000/0000aaa1");
	assert_int_not_equal(access(p, F_OK), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach(sdir, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_false(saw(&s, "0000aaa1"));
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.sid[0], "0000aaa2");

	/* an index entry whose record is gone is cleaned on sight */
	sub(p, sizeof(p), "sessions/0000aaa2");
	assert_int_equal(unlink(p), 0);
	sub(p, sizeof(p), "by-uid/1000/0000aaa2");
	assert_int_equal(access(p, F_OK), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_not_equal(access(p, F_OK), 0);

	/* a record written again (ns_session_write) after its entry was
	 * cleaned: the entry is back, the walk sees it */
	struct ns_session_rec a3 = make_rec("0000aaa3", "alice", 1000);
	write_ok(&a3);
	sub(p, sizeof(p), "by-uid/1000/0000aaa3");
	assert_int_equal(unlink(p), 0);
	write_ok(&a3);
	assert_int_equal(access(p, F_OK), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.sid[0], "0000aaa3");
	assert_int_equal(ns_session_remove(sdir, 1000, "0000aaa3"), 0);

	/* an entry in uid 1000's index naming a record of another uid: skipped */
	sub(p, sizeof(p), "by-uid/1000/0000bbb1");
	write_file(p, "", 0, 0644);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach_uid(sdir, 1000, collect, &s), 0);
	assert_int_equal(s.n, 0);

	/* no state directory at all: nothing to walk, not an error */
	char none[400];
	snprintf(none, sizeof(none), "%s/no-such-state", tmpdir);
	assert_int_equal(ns_session_foreach(none, collect, &s), 0);
	assert_int_equal(ns_session_foreach_uid(none, 1000, collect, &s), 0);
}

/* Only root-owned, closed, regular files named by a session id count. */
static void test_foreach_skips_forged(void **state)
{
	(void)state;
	char p[400], text[1024], target[400];
	struct seen s = { 0 };
	if (!prepare())
		return;
	struct ns_session_rec good = make_rec("0000600d", "alice", 1000);
	write_ok(&good);
	struct ns_session_rec r = make_rec("00000000", "alice", 1000);
	int n = ns_session_format(&r, text, sizeof(text));
	assert_true(n > 0);

	static const char *const forged[] = {
		"0000bad1",   /* not root's */
		"0000bad2",   /* group-writable */
		"0000bad3",   /* other-writable */
		"0000bad4",   /* a symlink to a valid record */
		"0000bad5",   /* a FIFO: must not block */
		"0000bad6",   /* a directory */
		"0000bad7",   /* bad content */
		"0000bad8",   /* a hard link to a valid record elsewhere: fine, it is root's */
	};
	snprintf(target, sizeof(target), "%s/elsewhere", tmpdir);
	write_file(target, text, (size_t)n, 0644);
	for (size_t i = 0; i < ARRAY_SIZE(forged); i++) {
		char idx[400];
		snprintf(p, sizeof(p), "%s/sessions/%s", sdir, forged[i]);
		switch (i) {
		case 0: write_file(p, text, (size_t)n, 0644); assert_int_equal(chown(p, 1000, 1000), 0); break;
		case 1: write_file(p, text, (size_t)n, 0664); break;
		case 2: write_file(p, text, (size_t)n, 0646); break;
		case 3: assert_int_equal(symlink(target, p), 0); break;
		case 4: assert_int_equal(mkfifo(p, 0644), 0); break;
		case 5: assert_int_equal(mkdir(p, 0755), 0); break;
		case 6: write_file(p, "user=alice\n", 11, 0644); break;
		case 7: assert_int_equal(link(target, p), 0); break;
		}
		/* and index them under uid 1000, as a forger would */
		snprintf(idx, sizeof(idx), "%s/by-uid/1000/%s", sdir, forged[i]);
		write_file(idx, "", 0, 0644);
	}
	/* bad names, valid root-owned content */
	static const char *const names[] = { "0000ABCD", "0000abc", "0000abcde", ".0000abcd.tmp", "0000abcd~",
					     "0000abcg", "x" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/sessions/%s", sdir, names[i]);
		write_file(p, text, (size_t)n, 0644);
		snprintf(p, sizeof(p), "%s/by-uid/1000/%s", sdir, names[i]);
		write_file(p, "", 0, 0644);
	}

	alarm(60);   /* a FIFO opened blocking would hang here */
	int rc = ns_session_foreach(sdir, collect, &s);
	alarm(0);
	assert_int_equal(rc, 0);
	if (s.n != 2 || !saw(&s, "0000600d") || !saw(&s, "0000bad8")) {
		dump_seen(&s);
		fail_msg("foreach saw %zu records, want 0000600d and 0000bad8", s.n);
	}
	memset(&s, 0, sizeof(s));
	alarm(60);
	rc = ns_session_foreach_uid(sdir, 1000, collect, &s);
	alarm(0);
	assert_int_equal(rc, 0);
	if (s.n != 2 || !saw(&s, "0000600d") || !saw(&s, "0000bad8")) {
		dump_seen(&s);
		fail_msg("foreach_uid saw %zu records, want 0000600d and 0000bad8", s.n);
	}
	/* the forged files are left alone (only dangling index entries go) */
	snprintf(p, sizeof(p), "%s/by-uid/1000/0000bad1", sdir);
	assert_int_equal(access(p, F_OK), 0);

	/* a state dir writable by others: nothing in it is trusted */
	assert_int_equal(chmod(sdir, 0777), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ns_session_foreach(sdir, collect, &s), -EPERM);
	assert_int_equal(ns_session_read(sdir, "0000600d", &r), -EPERM);
	assert_int_equal(s.n, 0);
	assert_int_equal(chmod(sdir, 0755), 0);
	/* the sessions dir not root's */
	sub(p, sizeof(p), "sessions");
	assert_int_equal(chown(p, 1000, 0), 0);
	assert_int_equal(ns_session_foreach(sdir, collect, &s), -EPERM);
	assert_int_equal(s.n, 0);
	assert_int_equal(chown(p, 0, 0), 0);
}

/* ---------------------------------------------------------------- owner */

static struct ns_session_rec self_rec(void)
{
	struct ns_session_rec r = make_rec("0000abcd", "alice", 1000);
	dev_t dev;
	ino_t ino;
	r.owner_pid = getpid();
	assert_int_equal(ns_proc_start_time(r.owner_pid, &r.owner_start), 0);
	assert_int_equal(ns_netns_id(0, &dev, &ino), 0);
	r.netns_dev = dev;
	r.netns_ino = ino;
	return r;
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return pid;
}

static void test_owner_alive(void **state)
{
	(void)state;
	struct ns_session_rec r = self_rec(), x;
	struct stat st;
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_true(r.netns_ino == st.st_ino);
	assert_true(r.netns_dev == st.st_dev);
	assert_true(ns_session_owner_alive(&r));

	x = r;
	x.owner_start++;
	assert_false(ns_session_owner_alive(&x));
	x = r;
	x.owner_start = 0;
	assert_false(ns_session_owner_alive(&x));
	x = r;
	x.netns_ino++;
	assert_false(ns_session_owner_alive(&x));
	x = r;
	x.netns_dev++;
	assert_false(ns_session_owner_alive(&x));
	x = r;
	x.owner_pid = dead_pid();
	assert_false(ns_session_owner_alive(&x));
	x.owner_pid = 0;
	assert_false(ns_session_owner_alive(&x));
	x.owner_pid = -1;
	assert_false(ns_session_owner_alive(&x));
	/* a zombie (exited, not yet reaped) keeps its pid and start time but
	 * is in no namespace any more: not alive */
	pid_t z = fork();
	assert_true(z >= 0);
	if (z == 0)
		_exit(0);
	siginfo_t si;
	assert_int_equal(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT), 0);
	x = r;
	x.owner_pid = z;
	int zr = ns_proc_start_time(z, &x.owner_start);
	bool zalive = ns_session_owner_alive(&x);
	int zfd = ns_session_open_netns(&x);
	if (zfd >= 0)
		close(zfd);
	int wst;
	assert_int_equal(waitpid(z, &wst, 0), z);
	assert_int_equal(zr, 0);
	assert_false(zalive);
	assert_true(zfd < 0);
	/* our parent is alive, but it is not the recorded process */
	x = r;
	x.owner_pid = getppid();
	assert_false(ns_session_owner_alive(&x));
}

static void test_open_netns(void **state)
{
	(void)state;
	struct ns_session_rec r = self_rec(), x;
	struct stat st;
	int fd = ns_session_open_netns(&r);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_ino == r.netns_ino && st.st_dev == r.netns_dev);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	x = r;
	x.owner_start++;
	assert_int_equal(ns_session_open_netns(&x), -ESRCH);
	x = r;
	x.netns_ino++;
	assert_int_equal(ns_session_open_netns(&x), -ESTALE);
	x = r;
	x.owner_pid = dead_pid();
	assert_int_equal(ns_session_open_netns(&x), -ESRCH);
}

static void test_find_netns(void **state)
{
	(void)state;
	struct ns_session_rec r = self_rec(), out, other;
	char p[400];
	if (!prepare())
		return;
	r.uid = 1000;
	write_ok(&r);
	other = make_rec("0000beef", "bob", 1001);   /* someone else's, dead owner */
	other.owner_pid = dead_pid();
	write_ok(&other);

	memset(&out, 0, sizeof(out));
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino, NULL, &out), 0);
	assert_string_equal(out.sid, "0000abcd");
	assert_rec_equal(&out, &r);
	/* not another uid's, not another namespace */
	assert_int_equal(ns_session_find_netns(sdir, 1001, r.netns_dev, r.netns_ino, NULL, &out), -ENOENT);
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino + 1, NULL, &out), -ENOENT);
	assert_int_equal(ns_session_find_netns(sdir, 1001, other.netns_dev, other.netns_ino, NULL, &out), -ENOENT);
	/* a record missing from the index is still found (full scan) */
	sub(p, sizeof(p), "by-uid/1000/0000abcd");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino, NULL, &out), 0);
	/* two sessions in the namespace; the wanted one (NS_SHELL_SESSION) is
	 * missing from the index (a reader cleaned its entry while it was
	 * being written): still the wanted one, read by name, not the other */
	struct ns_session_rec r2 = r;
	memcpy(r2.sid, "0000abce", sizeof("0000abce"));
	write_ok(&r2);
	sub(p, sizeof(p), "by-uid/1000/0000abce");
	assert_int_equal(unlink(p), 0);
	memset(&out, 0, sizeof(out));
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino, "0000abce", &out), 0);
	assert_string_equal(out.sid, "0000abce");
	memset(&out, 0, sizeof(out));
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino, "0000abcd", &out), 0);
	assert_string_equal(out.sid, "0000abcd");
	/* a wish naming a session of another namespace: the first of this one */
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino, "0000beef", &out), 0);
	assert_true(strcmp(out.sid, "0000abcd") == 0 || strcmp(out.sid, "0000abce") == 0);
	assert_int_equal(ns_session_remove(sdir, 1000, "0000abce"), 0);
	/* an owner that is not the recorded process any more */
	r.owner_start++;
	write_ok(&r);
	assert_int_equal(ns_session_find_netns(sdir, 1000, r.netns_dev, r.netns_ino, NULL, &out), -ENOENT);
}

/* ---------------------------------------------------------------- locks */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void test_lock_names(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "a/b", "/abs", ".", "..", ".hidden", "../x", "x/" };
	struct ns_err e = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int fd = ns_lock_take(sdir, bad[i], 10, &e);
		if (fd != -EINVAL) {
			if (fd >= 0)
				close(fd);
			fail_msg("lock name \"%s\": %d, want -EINVAL", bad[i], fd);
		}
		assert_int_equal(e.code, -EINVAL);
		assert_non_null(strstr(e.msg, "bad name"));
	}
}

static void test_lock_take(void **state)
{
	(void)state;
	char p[400];
	struct ns_err e = { 0 };
	/* the lock directory is made on demand, without ns_state_prepare */
	int a = ns_lock_take(sdir, "user-1000", 1000, &e);
	if (!is_root) {
		assert_int_equal(a, -EPERM);
		assert_non_null(strstr(e.msg, "not a root-owned directory"));
		return;
	}
	if (a < 0)
		fail_msg("ns_lock_take: %d (%s)", a, e.msg);
	assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
	sub(p, sizeof(p), "lock");
	assert_mode(p, 0700);
	sub(p, sizeof(p), "lock/user-1000");
	assert_mode(p, 0600);

	/* a second open file description of the same lock, same process:
	 * flock conflicts, and the wait is bounded by the timeout */
	long long t0 = now_ms();
	int b = ns_lock_take(sdir, "user-1000", 50, &e);
	long long dt = now_ms() - t0;
	if (b >= 0)
		close(b);
	assert_int_equal(b, -ETIMEDOUT);
	assert_int_equal(e.code, -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "user-1000"));
	assert_non_null(strstr(e.msg, "held by another login"));
	assert_true(dt >= 40);
	assert_true(dt < 5000);
	/* no waiting at all with 0 */
	t0 = now_ms();
	assert_int_equal(ns_lock_take(sdir, "user-1000", 0, &e), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 1000);
	/* another name is another lock */
	int c = ns_lock_take(sdir, "leases", 0, &e);
	assert_true(c >= 0);
	close(c);
	/* released: free again */
	close(a);
	b = ns_lock_take(sdir, "user-1000", 0, &e);
	assert_true(b >= 0);
	close(b);

	/* a holder that dies releases the lock */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		int l = ns_lock_take(sdir, "user-1000", 0, NULL);
		char ok = l >= 0 ? 'y' : 'n';
		(void)!write(pfd[1], &ok, 1);
		_exit(l >= 0 ? 0 : 1);   /* without unlocking */
	}
	close(pfd[1]);
	char ok = 0;
	assert_int_equal(read(pfd[0], &ok, 1), 1);
	close(pfd[0]);
	assert_int_equal(ok, 'y');
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	b = ns_lock_take(sdir, "user-1000", 1000, &e);
	assert_true(b >= 0);
	close(b);
}

static void test_lock_refusals(void **state)
{
	(void)state;
	char p[400], target[400];
	struct ns_err e = { 0 };
	if (!is_root) {
		assert_int_equal(ns_lock_take(sdir, "x", 0, &e), -EPERM);
		return;
	}
	assert_int_equal(ns_state_prepare(sdir, NULL), 0);
	/* a lock file that is not root's, a symlink, a FIFO */
	sub(p, sizeof(p), "lock/other");
	write_file(p, "", 0, 0600);
	assert_int_equal(chown(p, 1000, 1000), 0);
	assert_int_equal(ns_lock_take(sdir, "other", 0, &e), -EPERM);
	snprintf(target, sizeof(target), "%s/lock-target", tmpdir);
	write_file(target, "", 0, 0600);
	sub(p, sizeof(p), "lock/link");
	assert_int_equal(symlink(target, p), 0);
	int fd = ns_lock_take(sdir, "link", 0, &e);
	if (fd >= 0)
		close(fd);
	assert_true(fd < 0);
	sub(p, sizeof(p), "lock/fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(60);
	fd = ns_lock_take(sdir, "fifo", 0, &e);
	alarm(0);
	if (fd >= 0)
		close(fd);
	assert_int_equal(fd, -EPERM);
	/* a lock directory open to others */
	sub(p, sizeof(p), "lock");
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(ns_lock_take(sdir, "user-1", 0, &e), -EPERM);
	assert_non_null(strstr(e.msg, "not a root-owned directory"));
	assert_int_equal(chmod(p, 0700), 0);
}

/* ---------------------------------------------------------------- /proc */

/* Field 22 of /proc/PID/stat, parsed here independently. */
static unsigned long long start_of(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	assert_non_null(p);
	unsigned long long v = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
		if (++field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	assert_int_equal(field, 22);
	return v;
}

static void test_proc_start_time(void **state)
{
	(void)state;
	unsigned long long a = 0, b = 0, c = 0;
	assert_int_equal(ns_proc_start_time(getpid(), &a), 0);
	assert_true(a > 0);
	assert_true(a == start_of(getpid()));
	assert_int_equal(ns_proc_start_time(getpid(), &b), 0);
	assert_true(a == b);
	/* the parent started no later than us */
	assert_int_equal(ns_proc_start_time(getppid(), &c), 0);
	assert_true(c <= a);
	assert_true(c == start_of(getppid()));

	/* a name with spaces and parentheses does not shift the fields */
	char old[17] = "";
	assert_int_equal(prctl(PR_GET_NAME, old), 0);
	assert_int_equal(prctl(PR_SET_NAME, "a) b ( c) 1 2 3"), 0);
	int r = ns_proc_start_time(getpid(), &b);
	prctl(PR_SET_NAME, old);
	assert_int_equal(r, 0);
	assert_true(a == b);

	/* output only on success */
	b = 42;
	assert_int_equal(ns_proc_start_time(0, &b), -EINVAL);
	assert_int_equal(ns_proc_start_time(-1, &b), -EINVAL);
	assert_int_equal(ns_proc_start_time(dead_pid(), &b), -ENOENT);
	assert_true(b == 42);
}

/* ---------------------------------------------------------------- main */

#define STATE(f) cmocka_unit_test_setup(f, state_setup)

int main(void)
{
	const struct CMUnitTest format_tests[] = {
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_format_buffer_size),
		cmocka_unit_test(test_parse_strict),
	};
	const struct CMUnitTest file_tests[] = {
		STATE(test_state_prepare),
		STATE(test_state_prepare_refusals),
		STATE(test_write_read_remove),
		STATE(test_read_refusals),
		STATE(test_foreach_and_index),
		STATE(test_foreach_skips_forged),
		STATE(test_find_netns),
		STATE(test_lock_names),
		STATE(test_lock_take),
		STATE(test_lock_refusals),
	};
	const struct CMUnitTest proc_tests[] = {
		cmocka_unit_test(test_owner_alive),
		cmocka_unit_test(test_open_netns),
		cmocka_unit_test(test_proc_start_time),
	};
	int fails = cmocka_run_group_tests_name("session format", format_tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("session files", file_tests, files_setup, files_teardown);
	fails += cmocka_run_group_tests_name("session owner", proc_tests, NULL, NULL);
	return fails ? 1 : 0;
}
