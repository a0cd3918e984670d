/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_leasestore.c — the lease store on disk, $(lease_file).d/
 * (ns_leasestore.h), with real files in a temporary directory: its
 * directories made root-owned 0755 and refused when not root-owned and
 * closed to others; one root-owned 0644 file per address holding exactly
 * its lease's line; the by-uid index, a hint that is never followed,
 * counts only when the file it names agrees, and is mended from a full
 * read; bad files (content, owner, mode, type, a second lease of one uid
 * and tag) held and never read as leases; apply's atomic replacements; the
 * import of the old single lease file. The store trusts only root's files:
 * as another user only the refusal is checked (make unit runs as root in
 * CI). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ns_lease.h"
#include "ns_leasestore.h"
#include "ns_util.h"
#include "fixtures.h"

#define PATH 512

static bool is_root;

#define NEED_ROOT() do {                  \
		if (!is_root)             \
			skip();           \
	} while (0)

/* ---------------------------------------------------------------- helpers */

/* BUF (PATH bytes) = the format's output; a path that does not fit fails
 * the test. */
__attribute__((format(printf, 2, 3)))
static char *pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, PATH, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH)
		fail_msg("path too long: %s", buf);
	return buf;
}

/* The test's own directory tmpdir/NAME (made, 0755) and its lease file
 * there: FILE = tmpdir/NAME/leases (the store: FILE.d). */
static void lease_file(const char *name, char *file, size_t size)
{
	char dir[PATH];
	path_of(dir, sizeof(dir), name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fail_msg("%s: %s", dir, strerror(errno));
	assert_true(size >= PATH);
	pathf(file, "%s/leases", dir);
}

/* BUF = FILE.d/REL */
static char *in_store(char *buf, const char *file, const char *rel)
{
	return pathf(buf, "%s.d/%s", file, rel);
}

/* A root-owned file (as root) FILE.d/REL holding TEXT, with MODE. */
static void plant(const char *file, const char *rel, const char *text, mode_t mode)
{
	char p[PATH];
	write_file(in_store(p, file, rel), text, strlen(text), mode);
}

/* The index entry FILE.d/by-uid/NAME: a symlink to TARGET (replaced). */
static void plant_index(const char *file, const char *name, const char *target)
{
	char p[PATH], rel[64];
	snprintf(rel, sizeof(rel), "by-uid/%s", name);
	in_store(p, file, rel);
	if (unlink(p) < 0 && errno != ENOENT)
		fail_msg("%s: %s", p, strerror(errno));
	if (symlink(target, p) < 0)
		fail_msg("%s: %s", p, strerror(errno));
}

/* How many descriptors the process has open: the store must leave none
 * behind, on success or failure. */
static int n_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void open_ok(const char *file, struct ns_lease_store *s)
{
	struct ns_err e = { 0 };
	int r = ns_lease_store_open(file, s, &e);
	if (r != 0)
		fail_msg("open %s: %d (%s)", file, r, e.msg);
	assert_true(s->dir >= 0);
	assert_true(s->index >= 0);
}

/* Opening the store of FILE fails with CODE (0: any error) and a message
 * holding WANT; nothing stays open. */
static void open_refused(const char *file, int code, const char *want)
{
	struct ns_lease_store s;
	struct ns_err e = { 0 };
	int fds = n_fds();
	memset(&s, 0x5a, sizeof(s));
	int r = ns_lease_store_open(file, &s, &e);
	if (r == 0)
		ns_lease_store_close(&s);
	assert_int_equal(n_fds(), fds);
	if (code ? r != code : r >= 0)
		fail_msg("open %s: %d (%s), want %d", file, r, e.msg, code);
	assert_int_equal(e.code, r);
	if (!strstr(e.msg, want))
		fail_msg("open %s: message \"%s\" lacks \"%s\"", file, e.msg, want);
	assert_int_equal(s.dir, -1);
	assert_int_equal(s.index, -1);
	ns_lease_store_close(&s);
}

static struct ns_lease lease(uid_t uid, const char *user, const char *addr, long long used,
			     const char *sid)
{
	struct ns_lease e = { .uid = uid, .addr = ip(addr), .last_used = used };
	assert_int_equal(ns_strlcpy(e.user, user, sizeof(e.user)), 0);
	assert_int_equal(ns_strlcpy(e.sid, sid ? sid : "", sizeof(e.sid)), 0);
	return e;
}

static void add(struct ns_leases *l, struct ns_lease e)
{
	assert_int_equal(ns_leases_push(l, &e), 0);
}

static void apply_ok(const struct ns_lease_store *s, const struct ns_leases *before,
		     const struct ns_leases *after)
{
	struct ns_err e = { 0 };
	int fds = n_fds();
	int r = ns_lease_store_apply(s, before ? before->v : NULL, before ? before->n : 0, after,
				     &e);
	if (r != 0)
		fail_msg("apply: %d (%s)", r, e.msg);
	assert_int_equal(n_fds(), fds);
}

static const char *line_of(const struct ns_lease *e)
{
	static char buf[256];
	assert_true(ns_lease_format(e, buf, sizeof(buf)) > 0);
	return buf;
}

static void assert_same_lease(const struct ns_lease *got, const struct ns_lease *want)
{
	assert_int_equal(got->uid, want->uid);
	assert_string_equal(got->user, want->user);
	if (got->addr.s_addr != want->addr.s_addr)
		fail_msg("address %s, want %s", ipstr(got->addr), ipstr(want->addr));
	assert_int_equal(got->last_used, want->last_used);
	assert_string_equal(got->sid, want->sid);
}

/* The file of E's address: a root-owned regular file, mode 0644, holding
 * E's line and nothing else. */
static void assert_addr_file(const char *file, const struct ns_lease *e)
{
	char p[PATH];
	struct stat st;
	in_store(p, file, ipstr(e->addr));
	if (lstat(p, &st) < 0)
		fail_msg("%s: %s", p, strerror(errno));
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0644 || st.st_uid || st.st_gid)
		fail_msg("%s: mode %06o owner %u:%u, want a 0644 root file", p,
			 (unsigned)st.st_mode, (unsigned)st.st_uid, (unsigned)st.st_gid);
	assert_string_equal(slurp(p), line_of(e));
}

static void assert_gone(const char *file, const char *rel)
{
	char p[PATH];
	struct stat st;
	if (lstat(in_store(p, file, rel), &st) == 0 || errno != ENOENT)
		fail_msg("%s is still there", p);
}

/* by-uid/NAME is a symlink to TARGET (NULL: there is none). */
static void assert_index(const char *file, const char *name, const char *target)
{
	char p[PATH], rel[64], got[64];
	snprintf(rel, sizeof(rel), "by-uid/%s", name);
	ssize_t n = readlink(in_store(p, file, rel), got, sizeof(got) - 1);
	if (!target) {
		if (n >= 0 || errno != ENOENT)
			fail_msg("%s is still there", p);
		return;
	}
	if (n < 0)
		fail_msg("%s: %s", p, strerror(errno));
	got[n] = '\0';
	assert_string_equal(got, target);
}

static ino_t inode(const char *file, const char *rel)
{
	char p[PATH];
	struct stat st;
	if (lstat(in_store(p, file, rel), &st) < 0)
		fail_msg("%s: %s", p, strerror(errno));
	return st.st_ino;
}

/* No temp file left in the store or its index (".<address>.tmp",
 * ".tmp-index"). */
static void assert_no_temp(const char *file)
{
	static const char *const dirs[] = { "", "by-uid" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char p[PATH];
		DIR *d = opendir(in_store(p, file, dirs[i]));
		assert_non_null(d);
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				fail_msg("%s%s left behind", p, de->d_name);
		closedir(d);
	}
}

/* What load_uid finds for UID tagged SID in a fresh list: 0 or 1 lease
 * (in *RET); it never holds an address. */
static size_t load_uid(const struct ns_lease_store *s, uid_t uid, const char *sid,
		       struct ns_lease *ret)
{
	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	int r = ns_lease_store_load_uid(s, uid, sid, &l, &e);
	if (r != 0)
		fail_msg("load_uid %u: %d (%s)", (unsigned)uid, r, e.msg);
	assert_int_equal(l.n_held, 0);
	assert_true(l.n <= 1);
	size_t n = l.n;
	if (n && ret)
		*ret = l.v[0];
	ns_leases_free(&l);
	return n;
}

/* How often A is in L: as a lease, as a held address. */
static size_t n_leased(const struct ns_leases *l, const char *a)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].addr.s_addr == ip(a).s_addr;
	return n;
}

static size_t n_held(const struct ns_leases *l, const char *a)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n_held; i++)
		n += l->held[i].s_addr == ip(a).s_addr;
	return n;
}

static const struct ns_lease *leased_at(const struct ns_leases *l, const char *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].addr.s_addr == ip(a).s_addr)
			return &l->v[i];
	return NULL;
}

static void load_all(const struct ns_lease_store *s, struct ns_leases *l)
{
	struct ns_err e = { 0 };
	memset(l, 0, sizeof(*l));
	l->view = NS_LEASES_OWN;
	int fds = n_fds();
	int r = ns_lease_store_load_all(s, l, &e);
	if (r != 0)
		fail_msg("load_all: %d (%s)", r, e.msg);
	assert_int_equal(n_fds(), fds);
	assert_int_equal(l->view, NS_LEASES_ALL);
}

/* A FIFO the store must never block on: the test fails (SIGALRM) if it
 * does. */
static void plant_fifo(const char *file, const char *rel)
{
	char p[PATH];
	assert_int_equal(mkfifo(in_store(p, file, rel), 0644), 0);
}

static int store_setup(void **state)
{
	(void)state;
	is_root = geteuid() == 0;
	return tmpdir_make("leasestore");
}

static int store_teardown(void **state)
{
	(void)state;
	return tmpdir_remove();
}

/* ---------------------------------------------------------------- open */

/* A user who owns the lease file's directory could swap any lease: as
 * another user (whose directories these are) every open is refused with
 * the path named; as root, a directory handed to another user is. */
static void test_open_refuses_not_root_owned(void **state)
{
	(void)state;
	char file[PATH], dir[PATH], d[PATH];
	struct ns_lease_store s;
	struct stat st;
	lease_file("owner", file, sizeof(file));
	path_of(dir, sizeof(dir), "owner");
	if (is_root)
		assert_int_equal(chown(dir, 65534, 65534), 0);
	open_refused(file, -EPERM, dir);
	open_refused(file, -EPERM, "root-owned");
	assert_int_equal(lstat(pathf(d, "%s.d", file), &st), -1);   /* nothing made */
	if (!is_root)
		return;
	assert_int_equal(chown(dir, 0, 0), 0);
	open_ok(file, &s);
	ns_lease_store_close(&s);
	/* the store directory, then the index, given to another user */
	assert_int_equal(chown(d, 65534, 65534), 0);
	open_refused(file, -EPERM, d);
	assert_int_equal(chown(d, 0, 0), 0);
	in_store(d, file, "by-uid");
	assert_int_equal(chown(d, 65534, 0), 0);
	open_refused(file, -EPERM, "not a root-owned directory");
	assert_int_equal(chown(d, 0, 0), 0);
	open_ok(file, &s);
	ns_lease_store_close(&s);
}

static void test_open_makes_dirs(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	struct stat st;
	lease_file("make", file, sizeof(file));
	/* made root-owned 0755 whatever the umask */
	mode_t old = umask(077);
	open_ok(file, &s);
	umask(old);
	static const char *const dirs[] = { "", "by-uid" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		assert_int_equal(lstat(in_store(p, file, dirs[i]), &st), 0);
		if (!S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0755 || st.st_uid != 0)
			fail_msg("%s: mode %06o owner %u, want a 0755 root directory", p,
				 (unsigned)st.st_mode, (unsigned)st.st_uid);
	}
	pathf(p, "%s.d", file);
	assert_string_equal(s.path, p);
	/* nothing else: no lease file, nothing in the store but the index */
	assert_int_equal(lstat(file, &st), -1);
	pathf(p, "%s.migrated", file);
	assert_int_equal(lstat(p, &st), -1);
	DIR *d = opendir(in_store(p, file, ""));
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "by-uid") != 0)
			fail_msg("%s%s made", p, de->d_name);
	closedir(d);
	ns_lease_store_close(&s);
	assert_int_equal(s.dir, -1);
	assert_int_equal(s.index, -1);
	ns_lease_store_close(&s);   /* twice: harmless */
	/* the lease file's own directory too, when missing (one level) */
	path_of(file, sizeof(file), "make-parent/leases");
	old = umask(077);
	open_ok(file, &s);
	umask(old);
	ns_lease_store_close(&s);
	path_of(p, sizeof(p), "make-parent");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 && st.st_uid == 0);
	/* an existing store opens as it is */
	open_ok(file, &s);
	ns_lease_store_close(&s);
}

static void test_open_refuses_untrusted(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], d[PATH], idx[PATH], p[PATH], real[PATH];
	struct ns_lease_store s;
	struct stat st;
	lease_file("trust", file, sizeof(file));
	open_ok(file, &s);
	ns_lease_store_close(&s);
	pathf(d, "%s.d", file);
	in_store(idx, file, "by-uid");
	/* group- or other-writable: anyone could swap a lease */
	static const mode_t writable[] = { 0775, 0757, 0777, 01777, 0770 };
	for (size_t i = 0; i < ARRAY_SIZE(writable); i++) {
		assert_int_equal(chmod(d, writable[i]), 0);
		open_refused(file, -EPERM, d);
		assert_int_equal(chmod(d, 0755), 0);
		assert_int_equal(chmod(idx, writable[i]), 0);
		open_refused(file, -EPERM, "closed to others");
		assert_int_equal(chmod(idx, 0755), 0);
	}
	/* closed to others, another group: fine */
	assert_int_equal(chown(d, 0, 65534), 0);
	assert_int_equal(chmod(d, 0750), 0);
	open_ok(file, &s);
	ns_lease_store_close(&s);
	assert_int_equal(chown(d, 0, 0), 0);
	assert_int_equal(chmod(d, 0755), 0);

	/* a symlink in place of the store, to a directory that would pass:
	 * refused, and nothing made there */
	path_of(real, sizeof(real), "trust/real.d");
	assert_int_equal(mkdir(real, 0755), 0);
	pathf(p, "%s/moved.d", real);
	assert_int_equal(rename(d, p), 0);
	assert_int_equal(symlink(real, d), 0);
	open_refused(file, 0, d);
	pathf(p, "%s/by-uid", real);
	assert_int_equal(lstat(p, &st), -1);
	assert_int_equal(unlink(d), 0);
	/* a regular file in its place */
	write_file(d, "", 0, 0644);
	open_refused(file, -ENOTDIR, d);
	assert_int_equal(unlink(d), 0);
	pathf(p, "%s/moved.d", real);
	assert_int_equal(rename(p, d), 0);
	open_ok(file, &s);
	ns_lease_store_close(&s);

	/* a symlink in place of the index, to a directory that would pass */
	pathf(p, "%s/by-uid", real);
	assert_int_equal(rename(idx, p), 0);
	assert_int_equal(symlink(p, idx), 0);
	open_refused(file, 0, d);
	assert_int_equal(unlink(idx), 0);
	assert_int_equal(rename(p, idx), 0);

	/* the lease file's directory: a symlink, or writable by others */
	path_of(p, sizeof(p), "trust-link");
	path_of(real, sizeof(real), "trust");
	assert_int_equal(symlink(real, p), 0);
	path_of(p, sizeof(p), "trust-link/leases");
	open_refused(p, 0, "trust-link");
	assert_int_equal(chmod(real, 0775), 0);
	open_refused(file, -EPERM, real);
	assert_int_equal(chmod(real, 0755), 0);
	open_ok(file, &s);
	ns_lease_store_close(&s);
}

/* Errors a configuration can cause: each refused with its own message. */
static void test_open_errors(void **state)
{
	(void)state;
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	struct stat st;
	/* not absolute */
	open_refused("leases", -EINVAL, "lease file leases: not an absolute path");
	open_refused("./leases", -EINVAL, "not an absolute path");
	open_refused("", -EINVAL, "not an absolute path");
	/* only the lease file's own directory is made: not the ones above */
	path_of(file, sizeof(file), "no/such/leases");
	pathf(p, "lease file %s: no directory", file);
	open_refused(file, -ENOENT, p);
	path_of(p, sizeof(p), "no");
	assert_int_equal(lstat(p, &st), -1);
	/* too long: FILE.d must fit 159 bytes */
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	open_refused(big, -ENAMETOOLONG, "path too long");
	/* 157 bytes is the longest (158 with ".d"); 158 is refused */
	path_of(p, sizeof(p), "");
	size_t len = strlen(p);                 /* tmpdir/ */
	assert_true(len + 20 < 157);
	memset(p + len, 'd', 157 - len - 7);
	p[157 - 7] = '\0';
	if (is_root)
		assert_int_equal(mkdir(p, 0755), 0);
	pathf(file, "%s/leases", p);
	assert_int_equal(strlen(file), 157);
	if (is_root) {
		open_ok(file, &s);
		ns_lease_store_close(&s);
	}
	pathf(file, "%s/leasesX", p);
	open_refused(file, -ENAMETOOLONG, file);
}

/* ---------------------------------------------------------------- apply, load_uid */

static void test_apply_new_leases(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH];
	struct ns_lease_store s;
	struct ns_leases after = { 0 };
	struct ns_lease got;
	lease_file("new", file, sizeof(file));
	open_ok(file, &s);
	struct ns_lease big = lease(4294967294u, "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu", "10.0.0.5",
				    9223372036854775807LL, "ffffffff");
	add(&after, lease(1000, "alice", "10.0.0.2", 1700000000, NULL));
	add(&after, lease(1001, "bob", "10.0.0.3", 1700000001, "0badcafe"));
	add(&after, lease(0, "root", "10.0.0.4", 0, NULL));
	add(&after, big);
	mode_t old = umask(077);
	apply_ok(&s, NULL, &after);
	umask(old);
	for (size_t i = 0; i < after.n; i++)
		assert_addr_file(file, &after.v[i]);
	/* the documented line, "uid user address last_used[ sid]" */
	char p[PATH];
	assert_string_equal(slurp(in_store(p, file, "10.0.0.2")),
			    "1000 alice 10.0.0.2 1700000000\n");
	assert_string_equal(slurp(in_store(p, file, "10.0.0.3")),
			    "1001 bob 10.0.0.3 1700000001 0badcafe\n");
	/* the index: by-uid/<uid>[.<sid>] -> the bare address */
	assert_index(file, "1000", "10.0.0.2");
	assert_index(file, "1001.0badcafe", "10.0.0.3");
	assert_index(file, "1001", NULL);
	assert_index(file, "0", "10.0.0.4");
	assert_index(file, "4294967294.ffffffff", "10.0.0.5");
	assert_no_temp(file);

	/* each user finds her lease, and only hers */
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 1);
	assert_same_lease(&got, &after.v[0]);
	assert_int_equal(load_uid(&s, 1001, NULL, &got), 0);
	assert_int_equal(load_uid(&s, 1001, "0badcafe", &got), 1);
	assert_same_lease(&got, &after.v[1]);
	assert_int_equal(load_uid(&s, 1000, "0badcafe", &got), 0);
	assert_int_equal(load_uid(&s, 0, NULL, &got), 1);
	assert_same_lease(&got, &after.v[2]);
	assert_int_equal(load_uid(&s, 4294967294u, "ffffffff", &got), 1);   /* the longest line */
	assert_same_lease(&got, &big);
	assert_int_equal(load_uid(&s, 4242, NULL, &got), 0);
	/* ... into a list that has it already: not twice */
	struct ns_leases l = { 0 };
	assert_int_equal(ns_lease_store_load_uid(&s, 1000, NULL, &l, NULL), 0);
	assert_int_equal(ns_lease_store_load_uid(&s, 1000, NULL, &l, NULL), 0);
	assert_int_equal(l.n, 1);
	ns_leases_free(&l);
	ns_lease_store_close(&s);
	/* another open sees the same: it is all on disk */
	open_ok(file, &s);
	assert_int_equal(load_uid(&s, 1001, "0badcafe", &got), 1);
	assert_same_lease(&got, &after.v[1]);
	ns_lease_store_close(&s);
	ns_leases_free(&after);
}

/* The index is a hint: it counts only when it names, as a plain address,
 * a good file holding that uid and tag. Anything else finds nothing (the
 * user is given a lease anew), and nothing is followed. */
static void test_load_uid_stale_index(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH], abs_target[PATH];
	struct ns_lease_store s;
	struct ns_lease got;
	lease_file("stale", file, sizeof(file));
	open_ok(file, &s);
	plant(file, "10.0.0.5", "1001 bob 10.0.0.5 1\n", 0644);               /* someone else's */
	plant(file, "10.0.0.7", "1000 alice 10.0.0.7 1 deadbeef\n", 0644);    /* her tagged one */
	plant(file, "10.0.0.8", "1000 alice 10.0.0.8 1\n", 0644);             /* hers */
	plant(file, "10.0.0.9", "1000 alice 10.0.0.9 1\n", 0666);             /* a bad file */
	plant(file, "010.0.0.1", "1000 alice 10.0.0.1 1\n", 0644);            /* no address name */
	plant(file, "x", "1000 alice 10.0.0.8 1\n", 0644);
	path_of(p, sizeof(p), "stale/x");
	write_file(p, "1000 alice 10.0.0.8 1\n", 22, 0644);
	in_store(abs_target, file, "10.0.0.8");

	/* the control: a good entry finds the lease */
	plant_index(file, "1000", "10.0.0.8");
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 1);
	assert_same_lease(&got, &(struct ns_lease){ .uid = 1000, .user = "alice",
						     .addr = ip("10.0.0.8"), .last_used = 1 });
	const char *const stale[] = {
		"10.0.0.5",      /* the address is someone else's now */
		"10.0.0.6",      /* no file there */
		"10.0.0.7",      /* her tagged lease, not her sticky one */
		"10.0.0.9",      /* a bad file */
		"../x", "x", "010.0.0.1", "10.0.0.8/", "10.0.0.8 ", "10.0.0.8\n", " 10.0.0.8",
		"10.0.0.8/../10.0.0.8", "./10.0.0.8", "167772168", "0x0a000008",
		abs_target,      /* the right file by its full path: not an address */
	};
	for (size_t i = 0; i < ARRAY_SIZE(stale); i++) {
		plant_index(file, "1000", stale[i]);
		if (load_uid(&s, 1000, NULL, &got) != 0)
			fail_msg("index -> \"%s\" loaded %s", stale[i], line_of(&got));
	}
	/* an entry that is no symlink: a file holding the address, a directory */
	in_store(p, file, "by-uid/1000");
	assert_int_equal(unlink(p), 0);
	write_file(p, "10.0.0.8", 8, 0644);
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 0);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 0);     /* none at all */

	/* a tag's entry finds only that tag's lease */
	plant_index(file, "1000.deadbeef", "10.0.0.7");
	assert_int_equal(load_uid(&s, 1000, "deadbeef", &got), 1);
	assert_string_equal(got.sid, "deadbeef");
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 0);
	assert_int_equal(load_uid(&s, 1000, "0badcafe", &got), 0);
	plant_index(file, "1000.deadbeef", "10.0.0.8");
	assert_int_equal(load_uid(&s, 1000, "deadbeef", &got), 0);

	/* an address the list holds already (a bad file's): not loaded */
	plant_index(file, "1000", "10.0.0.8");
	struct ns_leases l = { 0 };
	assert_int_equal(ns_leases_hold(&l, ip("10.0.0.8")), 0);
	assert_int_equal(ns_lease_store_load_uid(&s, 1000, NULL, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_held, 1);
	ns_leases_free(&l);
	ns_lease_store_close(&s);
}

/* ---------------------------------------------------------------- bad files */

/* load_addr of A finds no lease and holds A (never handed out). */
static void assert_held_only(const struct ns_lease_store *s, const char *a, const char *why)
{
	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	alarm(10);
	int r = ns_lease_store_load_addr(s, ip(a), &l, &e);
	alarm(0);
	if (r != 0)
		fail_msg("%s (%s): %d (%s)", a, why, r, e.msg);
	if (l.n != 0 || l.n_held != 1 || l.held[0].s_addr != ip(a).s_addr)
		fail_msg("%s (%s): %zu leases (%s), %zu held; want it held", a, why, l.n,
			 l.n ? line_of(&l.v[0]) : "-", l.n_held);
	ns_leases_free(&l);
}

static void test_load_addr_bad_files(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH], elsewhere[PATH], big[400];
	struct ns_lease_store s;
	lease_file("bad", file, sizeof(file));
	open_ok(file, &s);
	/* content */
	plant(file, "10.0.1.2", "garbage\n", 0644);
	assert_held_only(&s, "10.0.1.2", "garbage");
	plant(file, "10.0.1.3", "1000 alice 10.0.1.3 1\n1001 bob 10.0.1.3 2\n", 0644);
	assert_held_only(&s, "10.0.1.3", "two lines");
	plant(file, "10.0.1.4", "1000 alice 10.0.1.99 1\n", 0644);
	assert_held_only(&s, "10.0.1.4", "a line naming another address");
	plant(file, "10.0.1.5", "1000 alice 10.0.1.5 1", 0644);
	assert_held_only(&s, "10.0.1.5", "no newline");
	plant(file, "10.0.1.6", "", 0644);
	assert_held_only(&s, "10.0.1.6", "empty");
	in_store(p, file, "10.0.1.7");
	write_file(p, "1000 alice 10.0.1.7 1\0\n", 23, 0644);
	assert_held_only(&s, "10.0.1.7", "a NUL byte before the newline");
	plant(file, "10.0.1.8", "1000 alice 10.0.1.8 1\r\n", 0644);
	assert_held_only(&s, "10.0.1.8", "CRLF");
	plant(file, "10.0.1.9", "\n", 0644);
	assert_held_only(&s, "10.0.1.9", "a newline");
	memset(big, 'x', 299);                  /* one line of 300 bytes */
	memcpy(big, "1000 alice 10.0.1.10 1 ", 23);
	big[299] = '\n';
	big[300] = '\0';
	plant(file, "10.0.1.10", big, 0644);
	assert_held_only(&s, "10.0.1.10", "300 bytes");
	/* owner, mode */
	static const mode_t writable[] = { 0666, 0664, 0646, 0620, 0602, 0777 };
	for (size_t i = 0; i < ARRAY_SIZE(writable); i++) {
		plant(file, "10.0.1.11", "1000 alice 10.0.1.11 1\n", writable[i]);
		assert_held_only(&s, "10.0.1.11", "writable by others");
	}
	plant(file, "10.0.1.12", "1000 alice 10.0.1.12 1\n", 0644);
	assert_int_equal(chown(in_store(p, file, "10.0.1.12"), 65534, 0), 0);
	assert_held_only(&s, "10.0.1.12", "another owner");
	/* type: a symlink to a good-looking file elsewhere or in the store is
	 * never followed */
	path_of(elsewhere, sizeof(elsewhere), "bad/elsewhere");
	write_file(elsewhere, "1000 alice 10.0.1.13 1\n", 23, 0644);
	assert_int_equal(symlink(elsewhere, in_store(p, file, "10.0.1.13")), 0);
	assert_held_only(&s, "10.0.1.13", "a symlink");
	plant(file, "real", "1000 alice 10.0.1.14 1\n", 0644);
	assert_int_equal(symlink("real", in_store(p, file, "10.0.1.14")), 0);
	assert_held_only(&s, "10.0.1.14", "a relative symlink");
	plant_fifo(file, "10.0.1.15");
	assert_held_only(&s, "10.0.1.15", "a FIFO");
	assert_int_equal(mkdir(in_store(p, file, "10.0.1.16"), 0755), 0);
	assert_held_only(&s, "10.0.1.16", "a directory");
	if (mknod(in_store(p, file, "10.0.1.17"), S_IFCHR | 0644, makedev(1, 3)) == 0)
		assert_held_only(&s, "10.0.1.17", "a device");
	assert_string_equal(slurp(elsewhere), "1000 alice 10.0.1.13 1\n");

	/* the controls: a good file loads (root's, closed to others, any
	 * group); a missing one is neither a lease nor held */
	static const mode_t good_modes[] = { 0644, 0600, 0444, 0640 };
	for (size_t i = 0; i < ARRAY_SIZE(good_modes); i++) {
		plant(file, "10.0.1.20", "1000 alice 10.0.1.20 1 0badcafe\n", good_modes[i]);
		assert_int_equal(chown(in_store(p, file, "10.0.1.20"), 0, 65534), 0);
		struct ns_leases l = { 0 };
		assert_int_equal(ns_lease_store_load_addr(&s, ip("10.0.1.20"), &l, NULL), 0);
		if (l.n != 1 || l.n_held != 0)
			fail_msg("mode %04o: %zu leases, %zu held", (unsigned)good_modes[i], l.n,
				 l.n_held);
		assert_same_lease(&l.v[0], &(struct ns_lease){ .uid = 1000, .user = "alice",
							       .addr = ip("10.0.1.20"),
							       .last_used = 1, .sid = "0badcafe" });
		/* and not twice; nor a held address loaded */
		assert_int_equal(ns_lease_store_load_addr(&s, ip("10.0.1.20"), &l, NULL), 0);
		assert_int_equal(l.n, 1);
		assert_int_equal(ns_lease_store_load_addr(&s, ip("10.0.1.2"), &l, NULL), 0);
		assert_int_equal(ns_lease_store_load_addr(&s, ip("10.0.1.2"), &l, NULL), 0);
		assert_int_equal(l.n_held, 1);
		ns_leases_free(&l);
	}
	struct ns_leases l = { 0 };
	assert_int_equal(ns_lease_store_load_addr(&s, ip("10.0.1.30"), &l, NULL), 0);
	assert_int_equal(l.n + l.n_held, 0);
	ns_lease_store_close(&s);
}

/* ---------------------------------------------------------------- names, all */

static void test_load_names(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	lease_file("names", file, sizeof(file));
	open_ok(file, &s);
	plant(file, "10.0.2.2", "1000 alice 10.0.2.2 1\n", 0644);
	plant_index(file, "1000", "10.0.2.2");
	plant(file, "10.0.2.3", "garbage\n", 0644);
	assert_int_equal(symlink("../nowhere", in_store(p, file, "10.0.2.4")), 0);
	plant_fifo(file, "10.0.2.5");
	assert_int_equal(mkdir(in_store(p, file, "10.0.2.6"), 0755), 0);
	plant(file, "10.0.2.7", "1001 bob 10.0.2.7 1\n", 0644);
	/* no addresses: */
	static const char *const others[] = {
		".10.0.2.8.tmp", "unparsed", "README", "1.2.3", "010.0.2.9", "10.0.2.10.bak",
		"10.0.2.256", "10.0.2", " 10.0.2.11", "10.0.2.12 ", "0x0a000201", "167772173",
		"::1", "10.0.2.14.migrated",
	};
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		plant(file, others[i], "1000 alice 10.0.2.8 1\n", 0644);

	struct ns_leases l = { 0 };
	struct ns_err e = { 0 };
	l.view = NS_LEASES_OWN;
	assert_int_equal(ns_lease_store_load_uid(&s, 1000, NULL, &l, &e), 0);
	assert_int_equal(l.n, 1);
	alarm(10);
	int r = ns_lease_store_load_names(&s, &l, &e);
	alarm(0);
	if (r != 0)
		fail_msg("load_names: %d (%s)", r, e.msg);
	assert_int_equal(l.view, NS_LEASES_NAMES);
	/* her lease as it was; every other address-named entry held, once */
	assert_int_equal(l.n, 1);
	static const char *const held[] = { "10.0.2.3", "10.0.2.4", "10.0.2.5", "10.0.2.6",
					    "10.0.2.7" };
	for (size_t i = 0; i < ARRAY_SIZE(held); i++)
		if (n_held(&l, held[i]) != 1)
			fail_msg("%s held %zu times", held[i], n_held(&l, held[i]));
	assert_int_equal(n_held(&l, "10.0.2.2"), 0);
	if (l.n_held != ARRAY_SIZE(held)) {
		for (size_t i = 0; i < l.n_held; i++)
			print_message("    held %s\n", ipstr(l.held[i]));
		fail_msg("%zu held, want %zu", l.n_held, ARRAY_SIZE(held));
	}
	/* again: nothing new (an address held already may be held twice: the
	 * picker does not mind) */
	assert_int_equal(ns_lease_store_load_names(&s, &l, &e), 0);
	assert_int_equal(l.n, 1);
	for (size_t i = 0; i < l.n_held; i++) {
		bool known = false;
		for (size_t k = 0; k < ARRAY_SIZE(held); k++)
			known |= l.held[i].s_addr == ip(held[k]).s_addr;
		if (!known)
			fail_msg("%s held by a second load_names", ipstr(l.held[i]));
	}
	ns_leases_free(&l);
	ns_lease_store_close(&s);
}

static void test_load_all(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH];
	struct ns_lease_store s;
	lease_file("all", file, sizeof(file));
	open_ok(file, &s);
	plant(file, "10.0.3.2", "1000 alice 10.0.3.2 5\n", 0644);
	plant(file, "10.0.3.3", "1001 bob 10.0.3.3 6 0badcafe\n", 0644);
	plant(file, "10.0.3.4", "1000 alice 10.0.3.4 7 deadbeef\n", 0644);   /* her other tag */
	plant(file, "10.0.3.5", "1000 alice 10.0.3.5 8\n", 0644);            /* her sticky again */
	plant_index(file, "1000", "10.0.3.5");                     /* (the one the index names) */
	plant(file, "10.0.3.6", "garbage\n", 0644);
	plant(file, "10.0.3.7", "1002 carol 10.0.3.7 1\n", 0666);
	plant(file, "10.0.3.8", "1003 dave 10.0.3.99 1\n", 0644);
	plant(file, "10.0.3.9", "1001 bob 10.0.3.9 6 0badcafe\n", 0644);     /* bob's tag again */
	plant_fifo(file, "10.0.3.10");
	plant(file, "10.0.3.11", "1004 eve 10.0.3.11 9\n", 0644);
	plant(file, "unparsed", "1005 x 10.0.3.12 1\n", 0644);
	plant(file, ".10.0.3.13.tmp", "1006 y 10.0.3.13 1\n", 0644);

	struct ns_leases l;
	alarm(10);
	load_all(&s, &l);
	alarm(0);
	/* good: alice's sticky lease the index names (.5, not .2), her tag,
	 * one of bob's (.3 or .9), eve's; the rest held and counted */
	assert_int_equal(l.n, 4);
	assert_int_equal(l.n_kept, 6);
	assert_int_equal(l.n_held, 6);
	static const char *const all[] = { "10.0.3.2", "10.0.3.3", "10.0.3.4", "10.0.3.5",
					   "10.0.3.6", "10.0.3.7", "10.0.3.8", "10.0.3.9",
					   "10.0.3.10", "10.0.3.11" };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (n_leased(&l, all[i]) + n_held(&l, all[i]) != 1)
			fail_msg("%s: %zu leases, held %zu times", all[i], n_leased(&l, all[i]),
				 n_held(&l, all[i]));
	static const char *const bad[] = { "10.0.3.6", "10.0.3.7", "10.0.3.8", "10.0.3.10" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(n_held(&l, bad[i]), 1);
	assert_int_equal(n_leased(&l, "10.0.3.5"), 1);
	assert_int_equal(n_held(&l, "10.0.3.2"), 1);
	assert_int_equal(n_leased(&l, "10.0.3.3") + n_leased(&l, "10.0.3.9"), 1);
	assert_int_equal(n_leased(&l, "10.0.3.12") + n_held(&l, "10.0.3.12"), 0);
	assert_int_equal(n_leased(&l, "10.0.3.13") + n_held(&l, "10.0.3.13"), 0);
	/* the leases read are the files' */
	struct ns_lease tagged = lease(1000, "alice", "10.0.3.4", 7, "deadbeef");
	struct ns_lease eve = lease(1004, "eve", "10.0.3.11", 9, NULL);
	assert_same_lease(leased_at(&l, "10.0.3.4"), &tagged);
	assert_same_lease(leased_at(&l, "10.0.3.11"), &eve);
	for (size_t i = 0; i < l.n; i++)
		for (size_t j = 0; j < i; j++)
			if (l.v[i].uid == l.v[j].uid && strcmp(l.v[i].sid, l.v[j].sid) == 0)
				fail_msg("uid %u tag \"%s\" twice", (unsigned)l.v[i].uid,
					 l.v[i].sid);
	ns_leases_free(&l);

	/* an empty store */
	char other[PATH];
	struct ns_lease_store s2;
	lease_file("all-empty", other, sizeof(other));
	open_ok(other, &s2);
	load_all(&s2, &l);
	assert_int_equal(l.n + l.n_held + l.n_kept, 0);
	ns_leases_free(&l);
	ns_lease_store_close(&s2);
	ns_lease_store_close(&s);
}

/* ---------------------------------------------------------------- apply */

static void test_apply_changes(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	struct ns_leases first = { 0 }, before, after = { 0 }, now;
	struct ns_lease got;
	lease_file("apply", file, sizeof(file));
	open_ok(file, &s);
	add(&first, lease(1000, "alice", "10.0.4.2", 5, NULL));
	add(&first, lease(1001, "bob", "10.0.4.3", 6, NULL));
	add(&first, lease(1002, "carol", "10.0.4.4", 7, NULL));
	add(&first, lease(1003, "dave", "10.0.4.5", 8, NULL));
	add(&first, lease(1004, "erin", "10.0.4.6", 9, "0badcafe"));
	apply_ok(&s, NULL, &first);
	load_all(&s, &before);
	assert_int_equal(before.n, 5);
	ino_t ino2 = inode(file, "10.0.4.2"), ino3 = inode(file, "10.0.4.3");
	ino_t ino5 = inode(file, "10.0.4.5"), ino6 = inode(file, "10.0.4.6");
	int fd3 = open(in_store(p, file, "10.0.4.3"), O_RDONLY | O_CLOEXEC);
	int fd5 = open(in_store(p, file, "10.0.4.5"), O_RDONLY | O_CLOEXEC);
	assert_true(fd3 >= 0 && fd5 >= 0);

	/* carol's lease ends, bob's is touched, frank takes dave's address
	 * over, gina gets a tagged one; alice and erin stay as they were */
	for (size_t i = 0; i < before.n; i++)
		add(&after, before.v[i]);
	ns_lease_drop(&after, 1002, NULL);
	for (size_t i = 0; i < after.n; i++) {
		if (after.v[i].uid == 1001)
			after.v[i].last_used = 99;
		if (after.v[i].uid == 1003)
			after.v[i] = lease(1005, "frank", "10.0.4.5", 100, NULL);
	}
	add(&after, lease(1006, "gina", "10.0.4.7", 101, "deadbeef"));
	apply_ok(&s, &before, &after);

	/* removed: the file and its index entry */
	assert_gone(file, "10.0.4.4");
	assert_index(file, "1002", NULL);
	assert_int_equal(load_uid(&s, 1002, NULL, &got), 0);
	/* changed: replaced by rename; whoever had it open reads the old one */
	struct ns_lease bob = lease(1001, "bob", "10.0.4.3", 99, NULL);
	assert_addr_file(file, &bob);
	assert_int_not_equal(inode(file, "10.0.4.3"), ino3);
	char old[64] = "";
	assert_int_equal(pread(fd3, old, sizeof(old) - 1, 0), 20);
	assert_string_equal(old, "1001 bob 10.0.4.3 6\n");
	assert_index(file, "1001", "10.0.4.3");
	/* taken over: frank's now; dave's index entry is stale and finds
	 * nothing */
	struct ns_lease frank = lease(1005, "frank", "10.0.4.5", 100, NULL);
	assert_addr_file(file, &frank);
	assert_int_not_equal(inode(file, "10.0.4.5"), ino5);
	memset(old, 0, sizeof(old));
	assert_true(pread(fd5, old, sizeof(old) - 1, 0) > 0);
	assert_string_equal(old, "1003 dave 10.0.4.5 8\n");
	assert_index(file, "1005", "10.0.4.5");
	assert_int_equal(load_uid(&s, 1005, NULL, &got), 1);
	assert_string_equal(got.user, "frank");
	assert_int_equal(load_uid(&s, 1003, NULL, &got), 0);
	/* new */
	assert_addr_file(file, &after.v[after.n - 1]);
	assert_index(file, "1006.deadbeef", "10.0.4.7");
	/* unchanged: not rewritten */
	assert_int_equal(inode(file, "10.0.4.2"), ino2);
	assert_int_equal(inode(file, "10.0.4.6"), ino6);
	assert_no_temp(file);
	close(fd3);
	close(fd5);

	/* what the store holds is AFTER */
	load_all(&s, &now);
	assert_int_equal(now.n, after.n);
	assert_int_equal(now.n_held, 0);
	for (size_t i = 0; i < after.n; i++) {
		const struct ns_lease *e = leased_at(&now, ipstr(after.v[i].addr));
		assert_non_null(e);
		assert_same_lease(e, &after.v[i]);
	}
	/* applying what is there changes nothing */
	ino_t inos[8];
	for (size_t i = 0; i < now.n; i++)
		inos[i] = inode(file, ipstr(now.v[i].addr));
	apply_ok(&s, &now, &now);
	for (size_t i = 0; i < now.n; i++)
		assert_int_equal(inode(file, ipstr(now.v[i].addr)), inos[i]);

	/* a removed lease whose index entry names another address already
	 * leaves that entry alone */
	plant_index(file, "1000", "10.0.4.9");
	ns_leases_free(&after);
	for (size_t i = 0; i < now.n; i++)
		add(&after, now.v[i]);
	ns_lease_drop(&after, 1000, NULL);
	apply_ok(&s, &now, &after);
	assert_gone(file, "10.0.4.2");
	assert_index(file, "1000", "10.0.4.9");
	ns_leases_free(&now);
	ns_leases_free(&after);
	ns_leases_free(&before);
	ns_leases_free(&first);
	ns_lease_store_close(&s);
}

/* A lease moved to another address (a static address): the old file and
 * entry go, the entry names the new address. A tag's lease ending leaves
 * the sticky one as it was. */
static void test_apply_move(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH];
	struct ns_lease_store s;
	struct ns_leases before = { 0 }, after = { 0 };
	struct ns_lease got;
	lease_file("move", file, sizeof(file));
	open_ok(file, &s);
	add(&before, lease(1000, "alice", "10.0.7.2", 5, NULL));
	add(&before, lease(1000, "alice", "10.0.7.3", 6, "0badcafe"));
	apply_ok(&s, NULL, &before);
	ino_t ino3 = inode(file, "10.0.7.3");
	add(&after, lease(1000, "alice", "10.0.7.9", 7, NULL));
	add(&after, before.v[1]);
	apply_ok(&s, &before, &after);
	assert_gone(file, "10.0.7.2");
	assert_addr_file(file, &after.v[0]);
	assert_index(file, "1000", "10.0.7.9");
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 1);
	assert_same_lease(&got, &after.v[0]);
	assert_int_equal(inode(file, "10.0.7.3"), ino3);
	/* the tag's session ends */
	ns_lease_drop(&before, 1000, "0badcafe");
	ns_lease_drop(&after, 1000, "0badcafe");
	struct ns_leases tagged = { 0 };
	add(&tagged, after.v[0]);
	add(&tagged, lease(1000, "alice", "10.0.7.3", 6, "0badcafe"));
	apply_ok(&s, &tagged, &after);
	assert_gone(file, "10.0.7.3");
	assert_index(file, "1000.0badcafe", NULL);
	assert_index(file, "1000", "10.0.7.9");
	assert_no_temp(file);
	ns_leases_free(&tagged);
	ns_leases_free(&before);
	ns_leases_free(&after);
	ns_lease_store_close(&s);
}

/* The temp names apply writes through are replaced, never followed: a
 * symlink planted there (or a leftover file) does not redirect a write. */
static void test_apply_temp_names(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH], victim[PATH], victim2[PATH];
	struct ns_lease_store s;
	struct ns_leases after = { 0 };
	struct stat st;
	lease_file("tmpnames", file, sizeof(file));
	open_ok(file, &s);
	path_of(victim, sizeof(victim), "tmpnames/victim");
	write_file(victim, "keep\n", 5, 0600);
	path_of(victim2, sizeof(victim2), "tmpnames/victim2");
	write_file(victim2, "keep too\n", 9, 0600);
	assert_int_equal(symlink(victim, in_store(p, file, ".10.0.5.2.tmp")), 0);
	assert_int_equal(symlink(victim2, in_store(p, file, "by-uid/.tmp-index")), 0);
	plant(file, ".10.0.5.3.tmp", "junk", 0666);
	/* a symlink at the temp name pointing at another lease's file */
	plant(file, "10.0.5.9", "1009 zed 10.0.5.9 1\n", 0644);
	assert_int_equal(symlink("10.0.5.9", in_store(p, file, ".10.0.5.4.tmp")), 0);
	add(&after, lease(1000, "alice", "10.0.5.2", 5, NULL));
	add(&after, lease(1001, "bob", "10.0.5.3", 6, NULL));
	add(&after, lease(1002, "carol", "10.0.5.4", 7, NULL));
	apply_ok(&s, NULL, &after);
	assert_string_equal(slurp(victim), "keep\n");
	assert_int_equal(lstat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(slurp(victim2), "keep too\n");
	assert_string_equal(slurp(in_store(p, file, "10.0.5.9")), "1009 zed 10.0.5.9 1\n");
	for (size_t i = 0; i < after.n; i++)
		assert_addr_file(file, &after.v[i]);
	assert_index(file, "1000", "10.0.5.2");
	assert_index(file, "1001", "10.0.5.3");
	assert_index(file, "1002", "10.0.5.4");
	assert_no_temp(file);
	ns_leases_free(&after);
	ns_lease_store_close(&s);
}

/* An index entry lost (a power cut, by hand) or naming another address is
 * mended where every file is read: each lease gets its entry back, so the
 * user's next login finds her address again instead of a second one. */
static void test_fix_index(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	struct ns_leases first = { 0 }, l;
	struct ns_lease got;
	struct ns_err e = { 0 };
	size_t fixed = 99;
	lease_file("fix", file, sizeof(file));
	open_ok(file, &s);
	add(&first, lease(1000, "alice", "10.0.8.2", 5, NULL));
	add(&first, lease(1001, "bob", "10.0.8.3", 6, "0badcafe"));
	add(&first, lease(1002, "carol", "10.0.8.4", 7, NULL));
	apply_ok(&s, NULL, &first);
	plant(file, "10.0.8.5", "garbage\n", 0644);
	assert_int_equal(unlink(in_store(p, file, "by-uid/1000")), 0);
	plant_index(file, "1001.0badcafe", "10.0.8.99");
	ino_t carol = inode(file, "by-uid/1002");
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 0);
	assert_int_equal(load_uid(&s, 1001, "0badcafe", &got), 0);

	load_all(&s, &l);
	assert_int_equal(ns_lease_store_fix_index(&s, &l, &fixed, &e), 0);
	assert_int_equal(fixed, 2);
	assert_index(file, "1000", "10.0.8.2");
	assert_index(file, "1001.0badcafe", "10.0.8.3");
	assert_int_equal(inode(file, "by-uid/1002"), carol);     /* right already: untouched */
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 1);
	assert_same_lease(&got, &first.v[0]);
	assert_int_equal(load_uid(&s, 1001, "0badcafe", &got), 1);
	assert_same_lease(&got, &first.v[1]);
	assert_no_temp(file);
	/* nothing left to mend */
	assert_int_equal(ns_lease_store_fix_index(&s, &l, &fixed, &e), 0);
	assert_int_equal(fixed, 0);
	ns_leases_free(&l);
	ns_leases_free(&first);
	ns_lease_store_close(&s);
}

/* ---------------------------------------------------------------- migration */

static const char old_file[] =
	"1000 alice 10.0.6.2 1700000000\n"
	"1001 bob 10.0.6.3 1700000001 0badcafe\n"
	"1002 carol 10.0.6.4 5 NOTATAG\n"          /* bad, with an address */
	"this is not a lease\n"                   /* bad, none */
	"\n"
	"1003 dave 10.0.6.5 7\n"
	"1000 alice 10.0.6.6 8\n"                 /* bad: her sticky lease twice */
	"# comment\n";

static void test_migrate(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	struct ns_leases l;
	struct ns_lease got;
	struct stat st;
	lease_file("migrate", file, sizeof(file));
	write_file(file, old_file, strlen(old_file), 0644);
	open_ok(file, &s);
	/* each good line: its address file and index entry */
	struct ns_lease alice = lease(1000, "alice", "10.0.6.2", 1700000000, NULL);
	struct ns_lease bob = lease(1001, "bob", "10.0.6.3", 1700000001, "0badcafe");
	struct ns_lease dave = lease(1003, "dave", "10.0.6.5", 7, NULL);
	assert_addr_file(file, &alice);
	assert_addr_file(file, &bob);
	assert_addr_file(file, &dave);
	assert_index(file, "1000", "10.0.6.2");
	assert_index(file, "1001.0badcafe", "10.0.6.3");
	assert_index(file, "1003", "10.0.6.5");
	/* a bad line with an address: a file there, the line as it was */
	assert_string_equal(slurp(in_store(p, file, "10.0.6.4")),
			    "1002 carol 10.0.6.4 5 NOTATAG\n");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_uid == 0);
	/* her second lease: kept there too, in a form that is no lease */
	assert_string_equal(slurp(in_store(p, file, "10.0.6.6")),
			    "#duplicate 1000 alice 10.0.6.6 8\n");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_uid == 0);
	assert_held_only(&s, "10.0.6.6", "a duplicate line");
	/* the others: "unparsed", for root to read */
	assert_string_equal(slurp(in_store(p, file, "unparsed")),
			    "this is not a lease\n# comment\n");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_uid == 0);
	/* the old file, renamed */
	assert_int_equal(lstat(file, &st), -1);
	pathf(p, "%s.migrated", file);
	assert_string_equal(slurp(p), old_file);
	assert_no_temp(file);

	/* what logins see: alice's lease is the first line's, as before */
	assert_int_equal(load_uid(&s, 1000, NULL, &got), 1);
	assert_same_lease(&got, &alice);
	assert_int_equal(load_uid(&s, 1001, "0badcafe", &got), 1);
	assert_same_lease(&got, &bob);
	/* the bad lines' addresses are never handed out */
	load_all(&s, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.n_kept, 2);
	assert_int_equal(n_held(&l, "10.0.6.4"), 1);
	assert_int_equal(n_held(&l, "10.0.6.6"), 1);
	assert_same_lease(leased_at(&l, "10.0.6.2"), &alice);
	ns_leases_free(&l);
	ns_lease_store_close(&s);

	/* once only: another open changes nothing */
	ino_t ino2 = inode(file, "10.0.6.2"), ino4 = inode(file, "10.0.6.4");
	open_ok(file, &s);
	ns_lease_store_close(&s);
	assert_int_equal(inode(file, "10.0.6.2"), ino2);
	assert_int_equal(inode(file, "10.0.6.4"), ino4);
	assert_string_equal(slurp(in_store(p, file, "unparsed")),
			    "this is not a lease\n# comment\n");
	pathf(p, "%s.migrated", file);
	assert_string_equal(slurp(p), old_file);
}

/* A crash during the import repeats it: what has a file already is kept
 * as it is (index entries go before files, so it has its entry), the rest
 * imported. An old file that reappears (a backup) moves nobody who has a
 * lease in the store, and a bad line whose address has a file goes to
 * "unparsed". */
static void test_migrate_resumed(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH];
	struct ns_lease_store s;
	struct ns_lease got;
	lease_file("resume", file, sizeof(file));
	open_ok(file, &s);
	ns_lease_store_close(&s);
	plant(file, "10.0.6.3", "1001 bob 10.0.6.3 99 0badcafe\n", 0644);
	plant_index(file, "1001.0badcafe", "10.0.6.3");
	plant(file, "10.0.6.4", "junk\n", 0644);
	plant(file, "10.0.6.9", "1003 dave 10.0.6.9 50\n", 0644);
	plant_index(file, "1003", "10.0.6.9");
	ino_t ino3 = inode(file, "10.0.6.3"), ino4 = inode(file, "10.0.6.4");
	ino_t ino9 = inode(file, "10.0.6.9");
	write_file(file, old_file, strlen(old_file), 0644);
	open_ok(file, &s);
	/* kept as they were */
	assert_int_equal(inode(file, "10.0.6.3"), ino3);
	assert_string_equal(slurp(in_store(p, file, "10.0.6.3")),
			    "1001 bob 10.0.6.3 99 0badcafe\n");
	assert_int_equal(inode(file, "10.0.6.4"), ino4);
	assert_string_equal(slurp(in_store(p, file, "10.0.6.4")), "junk\n");
	assert_int_equal(load_uid(&s, 1001, "0badcafe", &got), 1);
	assert_int_equal(got.last_used, 99);
	/* dave has a lease in the store: the old file does not move him */
	assert_gone(file, "10.0.6.5");
	assert_int_equal(inode(file, "10.0.6.9"), ino9);
	assert_index(file, "1003", "10.0.6.9");
	assert_int_equal(load_uid(&s, 1003, NULL, &got), 1);
	assert_int_equal(got.last_used, 50);
	/* the rest imported */
	struct ns_lease alice = lease(1000, "alice", "10.0.6.2", 1700000000, NULL);
	assert_addr_file(file, &alice);
	assert_index(file, "1000", "10.0.6.2");
	assert_string_equal(slurp(in_store(p, file, "unparsed")),
			    "1002 carol 10.0.6.4 5 NOTATAG\nthis is not a lease\n# comment\n");
	pathf(p, "%s.migrated", file);
	assert_string_equal(slurp(p), old_file);
	assert_no_temp(file);
	ns_lease_store_close(&s);
}

/* An old file that cannot be trusted is not imported: every open is
 * refused, naming it, until root mends it. */
static void test_migrate_refused(void **state)
{
	(void)state;
	NEED_ROOT();
	char file[PATH], p[PATH], elsewhere[PATH];
	struct stat st;
	struct ns_lease_store s;
	lease_file("refused", file, sizeof(file));
	write_file(file, old_file, strlen(old_file), 0666);
	open_refused(file, -EPERM, file);
	assert_string_equal(slurp(file), old_file);
	assert_int_equal(lstat(in_store(p, file, "10.0.6.2"), &st), -1);
	pathf(p, "%s.migrated", file);
	assert_int_equal(lstat(p, &st), -1);
	/* a symlink to a good file */
	path_of(elsewhere, sizeof(elsewhere), "refused/elsewhere");
	write_file(elsewhere, old_file, strlen(old_file), 0644);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(symlink(elsewhere, file), 0);
	open_refused(file, 0, file);
	assert_int_equal(lstat(in_store(p, file, "10.0.6.2"), &st), -1);
	/* mended */
	assert_int_equal(unlink(file), 0);
	write_file(file, old_file, strlen(old_file), 0644);
	open_ok(file, &s);
	struct ns_lease dave = lease(1003, "dave", "10.0.6.5", 7, NULL);
	assert_addr_file(file, &dave);
	ns_lease_store_close(&s);
}

/* ---------------------------------------------------------------- main */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refuses_not_root_owned),
		cmocka_unit_test(test_open_makes_dirs),
		cmocka_unit_test(test_open_refuses_untrusted),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_apply_new_leases),
		cmocka_unit_test(test_load_uid_stale_index),
		cmocka_unit_test(test_load_addr_bad_files),
		cmocka_unit_test(test_load_names),
		cmocka_unit_test(test_load_all),
		cmocka_unit_test(test_apply_changes),
		cmocka_unit_test(test_apply_move),
		cmocka_unit_test(test_apply_temp_names),
		cmocka_unit_test(test_fix_index),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_migrate_resumed),
		cmocka_unit_test(test_migrate_refused),
	};
	int fails = cmocka_run_group_tests_name("lease store", tests, store_setup, store_teardown);
	return fails ? 1 : 0;
}
