/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_leasestore.c — the lease store: $(lease_file).d/<address> files, one
 * lease each, and the index by-uid/<uid>[.<sid>] (symlink → address).
 *
 * Invariants:
 *  1. The address files are the truth; the index is a hint that counts only
 *     when the file it names holds that uid and tag. So a login reads O(1)
 *     files, and a stale or missing index entry costs at most a new pick.
 *  2. Callers hold the "leases" lock. Every file is replaced atomically
 *     (temp + rename). apply() removes first, then indexes, then writes:
 *     a kill at any point leaves each user her old or her new lease, never
 *     one address for two (the name is the address) and never an address
 *     file that is nobody's lease.
 *  3. Nothing here follows a symlink: directories and files are opened
 *     O_NOFOLLOW, index targets are only compared as address strings. The
 *     directories are trusted only when root-owned and closed to group and
 *     others (else refused); an address file that is not a root-owned
 *     regular file closed to others, or does not parse, or names another
 *     address, or repeats a lease, is a bad file: never used, its address
 *     never handed out, left for root to mend. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns_leasestore.h"
#include "ns_names.h"

#define LINE_MAX_LEN 256
#define INDEX_TMP ".tmp-index"

/* ------------------------------------------------------------ helpers -- */

/* NAME is exactly the dotted form of an IPv4 address ("010.0.0.1" is not). */
static bool addr_name(const char *name, struct in_addr *ret)
{
	char back[INET_ADDRSTRLEN];
	struct in_addr a;
	if (inet_pton(AF_INET, name, &a) != 1 || !inet_ntop(AF_INET, &a, back, sizeof(back)) ||
	    strcmp(back, name) != 0)
		return false;
	if (ret)
		*ret = a;
	return true;
}

static void index_name(uid_t uid, const char *sid, char out[32])
{
	if (sid && sid[0])
		snprintf(out, 32, "%u.%s", (unsigned)uid, sid);
	else
		snprintf(out, 32, "%u", (unsigned)uid);
}

static bool trusted_dir(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Open (CREATE: make, root 0755) directory NAME under AT, trusted. */
static int open_sub(int at, const char *name, const char *path, struct ns_err *err)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		bool made = mkdirat(at, name, 0755) == 0;
		if (!made && errno != EEXIST)
			return ns_fail(err, -errno, "lease store %s: %s", path, strerror(errno));
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && made)
			ns_fix_owner(fd, 0755);
	}
	if (fd < 0)
		return ns_fail(err, -errno, "lease store %s: %s", path, strerror(errno));
	if (!trusted_dir(fd)) {
		close(fd);
		return ns_fail(err, -EPERM, "lease store %s: not a root-owned directory closed to others", path);
	}
	return fd;
}

static bool trusted_file(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH)) &&
	       st->st_size <= LINE_MAX_LEN;
}

/* The lease in address file NAME: 1 (in *E), 0 when there is no file,
 * -EBADMSG for a bad file, another negative errno (with message) on error. */
static int read_addr(const struct ns_lease_store *s, const char *name, struct ns_lease *e, struct ns_err *err)
{
	struct stat st, st2;
	/* Looked at before it is opened: a device node is never opened. */
	if (fstatat(s->dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ns_fail(err, -errno, "lease %s/%s: %s", s->path, name, strerror(errno));
	if (!trusted_file(&st))
		return -EBADMSG;
	_cleanup_close_ int fd = openat(s->dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENXIO || errno == EISDIR)
			return -EBADMSG;
		return ns_fail(err, -errno, "lease %s/%s: %s", s->path, name, strerror(errno));
	}
	char buf[LINE_MAX_LEN + 1];
	struct in_addr a;
	if (fstat(fd, &st2) < 0 || !trusted_file(&st2) || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
		return -EBADMSG;
	ssize_t n = pread(fd, buf, LINE_MAX_LEN, 0);
	if (n < 0)
		return ns_fail(err, -errno, "lease %s/%s: %s", s->path, name, strerror(errno));
	if (n < 2 || buf[n - 1] != '\n' || memchr(buf, '\n', (size_t)n - 1) || memchr(buf, '\0', (size_t)n))
		return -EBADMSG;
	if (ns_lease_parse_line(buf, (size_t)n - 1, e) < 0 || !addr_name(name, &a) || a.s_addr != e->addr.s_addr)
		return -EBADMSG;
	return 1;
}

static bool holds(const struct ns_leases *l, struct in_addr a)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].addr.s_addr == a.s_addr)
			return true;
	for (size_t i = 0; i < l->n_held; i++)
		if (l->held[i].s_addr == a.s_addr)
			return true;
	return false;
}

static int oom(const struct ns_lease_store *s, struct ns_err *err)
{
	return ns_fail(err, -ENOMEM, "lease store %s: out of memory", s->path);
}

/* --------------------------------------------------------------- load -- */

int ns_lease_store_load_addr(const struct ns_lease_store *s, struct in_addr a, struct ns_leases *l,
			     struct ns_err *err)
{
	char name[INET_ADDRSTRLEN];
	struct ns_lease e;
	if (holds(l, a))
		return 0;
	inet_ntop(AF_INET, &a, name, sizeof(name));
	int r = read_addr(s, name, &e, err);
	if (r == -EBADMSG)
		return ns_leases_hold(l, a) < 0 ? oom(s, err) : 0;
	if (r <= 0)
		return r;
	return ns_leases_push(l, &e) < 0 ? oom(s, err) : 0;
}

int ns_lease_store_load_uid(const struct ns_lease_store *s, uid_t uid, const char *sid, struct ns_leases *l,
			    struct ns_err *err)
{
	char name[32], target[INET_ADDRSTRLEN + 1];
	struct in_addr a;
	struct ns_lease e;
	index_name(uid, sid, name);
	ssize_t n = readlinkat(s->index, name, target, sizeof(target) - 1);
	if (n < 0 || n >= (ssize_t)sizeof(target) - 1)
		return 0;   /* none, or not an index entry of ours */
	target[n] = '\0';
	if (!addr_name(target, &a) || holds(l, a))
		return 0;
	int r = read_addr(s, target, &e, err);
	if (r < 0 && r != -EBADMSG)
		return r;
	if (r != 1 || e.uid != uid || strcmp(e.sid, sid ? sid : "") != 0)
		return 0;   /* stale: the address is someone else's now, or gone */
	return ns_leases_push(l, &e) < 0 ? oom(s, err) : 0;
}

typedef int (*entry_fn)(const struct ns_lease_store *s, const char *name, struct in_addr a,
			struct ns_leases *l, struct ns_err *err);

static int for_each_addr(const struct ns_lease_store *s, entry_fn fn, struct ns_leases *l, struct ns_err *err)
{
	int fd = openat(s->dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ns_fail(err, -errno, "lease store %s: %s", s->path, strerror(errno));
	}
	int r = 0;
	struct dirent *de;
	struct in_addr a;
	for (errno = 0; r == 0 && (de = readdir(d)); errno = 0)
		if (addr_name(de->d_name, &a))
			r = fn(s, de->d_name, a, l, err);
	if (r == 0 && errno)   /* a partial list would make addresses in use look free */
		r = ns_fail(err, -errno, "lease store %s: reading it: %s", s->path, strerror(errno));
	closedir(d);
	return r;
}

static int hold_name(const struct ns_lease_store *s, const char *name, struct in_addr a, struct ns_leases *l,
		     struct ns_err *err)
{
	(void)name;
	for (size_t i = 0; i < l->n; i++)   /* names in a directory are unique: only the loaded leases */
		if (l->v[i].addr.s_addr == a.s_addr)
			return 0;
	return ns_leases_hold(l, a) < 0 ? oom(s, err) : 0;
}

int ns_lease_store_load_names(const struct ns_lease_store *s, struct ns_leases *l, struct ns_err *err)
{
	l->view = NS_LEASES_NAMES;
	return for_each_addr(s, hold_name, l, err);
}

static int read_one(const struct ns_lease_store *s, const char *name, struct in_addr a, struct ns_leases *l,
		    struct ns_err *err)
{
	struct ns_lease e;
	int r = read_addr(s, name, &e, err);
	if (r == 1)
		return ns_leases_push(l, &e) < 0 ? oom(s, err) : 0;
	if (r == -EBADMSG) {
		l->n_kept++;
		return ns_leases_hold(l, a) < 0 ? oom(s, err) : 0;
	}
	return r;
}

static int by_key(const void *a, const void *b)
{
	const struct ns_lease *x = a, *y = b;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	int c = strcmp(x->sid, y->sid);
	if (c)
		return c;
	return ntohl(x->addr.s_addr) < ntohl(y->addr.s_addr) ? -1 : ntohl(x->addr.s_addr) > ntohl(y->addr.s_addr);
}

static bool index_names(const struct ns_lease_store *s, const struct ns_lease *e)
{
	char name[32], cur[INET_ADDRSTRLEN + 1], a[INET_ADDRSTRLEN];
	index_name(e->uid, e->sid, name);
	inet_ntop(AF_INET, &e->addr, a, sizeof(a));
	ssize_t n = readlinkat(s->index, name, cur, sizeof(cur) - 1);
	return n > 0 && (size_t)n == strlen(a) && memcmp(cur, a, (size_t)n) == 0;
}

/* A second lease of one (uid, tag) is a bad file, as a second line was in
 * the old file: the one the index names is kept (else the lowest address).
 * Sorting makes this O(N log N) for a full pool. */
static int drop_duplicates(const struct ns_lease_store *s, struct ns_leases *l, struct ns_err *err)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_key);
	size_t out = 0;
	for (size_t i = 0; i < l->n;) {
		size_t k = i + 1, keep = i;
		while (k < l->n && l->v[k].uid == l->v[i].uid && strcmp(l->v[k].sid, l->v[i].sid) == 0)
			k++;
		for (size_t j = i; k - i > 1 && j < k; j++)
			if (index_names(s, &l->v[j]))
				keep = j;
		for (size_t j = i; j < k; j++) {
			if (j == keep)
				continue;
			l->n_kept++;
			if (ns_leases_hold(l, l->v[j].addr) < 0)
				return oom(s, err);
		}
		l->v[out++] = l->v[keep];
		i = k;
	}
	l->n = out;
	return 0;
}

int ns_lease_store_load_all(const struct ns_lease_store *s, struct ns_leases *l, struct ns_err *err)
{
	l->view = NS_LEASES_ALL;
	int r = for_each_addr(s, read_one, l, err);
	return r < 0 ? r : drop_duplicates(s, l, err);
}

/* -------------------------------------------------------------- apply -- */

static bool same_lease(const struct ns_lease *a, const struct ns_lease *b)
{
	return a->uid == b->uid && a->addr.s_addr == b->addr.s_addr && a->last_used == b->last_used &&
	       strcmp(a->user, b->user) == 0 && strcmp(a->sid, b->sid) == 0;
}

static int by_addr(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct ns_lease *)a)->addr.s_addr);
	uint32_t y = ntohl(((const struct ns_lease *)b)->addr.s_addr);
	return x < y ? -1 : x > y;
}

/* The lease at address A in V (N leases, sorted by address). */
static const struct ns_lease *at_addr(const struct ns_lease *v, size_t n, struct in_addr a)
{
	struct ns_lease key = { .addr = a };
	return n ? bsearch(&key, v, n, sizeof(*v), by_addr) : NULL;
}

/* A copy of V sorted by address (NULL and *ret_err = -ENOMEM on failure). */
static struct ns_lease *sorted_copy(const struct ns_lease *v, size_t n, int *ret_err)
{
	struct ns_lease *c = n ? malloc(n * sizeof(*c)) : NULL;
	*ret_err = n && !c ? -ENOMEM : 0;
	if (c) {
		memcpy(c, v, n * sizeof(*c));
		qsort(c, n, sizeof(*c), by_addr);
	}
	return c;
}

static int set_index(const struct ns_lease_store *s, const struct ns_lease *e, struct ns_err *err)
{
	char name[32], cur[INET_ADDRSTRLEN + 1], want[INET_ADDRSTRLEN];
	index_name(e->uid, e->sid, name);
	inet_ntop(AF_INET, &e->addr, want, sizeof(want));
	ssize_t n = readlinkat(s->index, name, cur, sizeof(cur) - 1);
	if (n > 0 && (size_t)n == strlen(want) && memcmp(cur, want, (size_t)n) == 0)
		return 0;
	unlinkat(s->index, INDEX_TMP, 0);
	if (symlinkat(want, s->index, INDEX_TMP) < 0 || renameat(s->index, INDEX_TMP, s->index, name) < 0) {
		int r = -errno;
		unlinkat(s->index, INDEX_TMP, 0);
		return ns_fail(err, r, "lease store %s: index of uid %u: %s", s->path, (unsigned)e->uid,
			       strerror(-r));
	}
	return 0;
}

/* The index entry of E, when it still names E's address. */
static void drop_index(const struct ns_lease_store *s, const struct ns_lease *e)
{
	char name[32];
	index_name(e->uid, e->sid, name);
	if (index_names(s, e))
		unlinkat(s->index, name, 0);
}

static int write_addr(const struct ns_lease_store *s, const struct ns_lease *e, struct ns_err *err)
{
	char name[INET_ADDRSTRLEN], tmp[INET_ADDRSTRLEN + 8], line[LINE_MAX_LEN];
	inet_ntop(AF_INET, &e->addr, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	int len = ns_lease_format(e, line, sizeof(line));
	if (len < 0)
		return ns_fail(err, len, "lease %s/%s: entry too long", s->path, name);
	unlinkat(s->dir, tmp, 0);
	_cleanup_close_ int fd = openat(s->dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : ns_fix_owner(fd, 0644);
	if (r == 0)
		r = ns_write_all(fd, line, (size_t)len);
	if (r == 0 && renameat(s->dir, tmp, s->dir, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(s->dir, tmp, 0);
		return ns_fail(err, r, "lease %s/%s: %s", s->path, name, strerror(-r));
	}
	return 0;
}

int ns_lease_store_apply(const struct ns_lease_store *s, const struct ns_lease *before, size_t n0,
			 const struct ns_leases *after, struct ns_err *err)
{
	int r, r2;
	_cleanup_free_ struct ns_lease *b = sorted_copy(before, n0, &r);
	_cleanup_free_ struct ns_lease *a = sorted_copy(after->v, after->n, &r2);
	if (r < 0 || r2 < 0)
		return oom(s, err);
	for (size_t i = 0; i < n0; i++) {
		if (at_addr(a, after->n, b[i].addr))
			continue;
		char name[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &b[i].addr, name, sizeof(name));
		if (unlinkat(s->dir, name, 0) < 0 && errno != ENOENT)
			return ns_fail(err, -errno, "lease %s/%s: %s", s->path, name, strerror(errno));
		drop_index(s, &b[i]);
	}
	ns_fault("lease-removed");
	for (size_t i = 0; r == 0 && i < after->n; i++) {
		const struct ns_lease *old = at_addr(b, n0, a[i].addr);
		if (!old || old->uid != a[i].uid || strcmp(old->sid, a[i].sid) != 0)
			r = set_index(s, &a[i], err);
	}
	ns_fault("lease-indexed");
	for (size_t i = 0; r == 0 && i < after->n; i++) {
		const struct ns_lease *old = at_addr(b, n0, a[i].addr);
		if (!old || !same_lease(old, &a[i]))
			r = write_addr(s, &a[i], err);
	}
	return r;
}

int ns_lease_store_fix_index(const struct ns_lease_store *s, const struct ns_leases *l, size_t *ret_fixed,
			     struct ns_err *err)
{
	int r = 0;
	*ret_fixed = 0;
	for (size_t i = 0; r == 0 && i < l->n; i++)
		if (!index_names(s, &l->v[i]) && (r = set_index(s, &l->v[i], err)) == 0)
			(*ret_fixed)++;
	return r;
}

/* ---------------------------------------------------------- migration -- */

/* Append LINE to "unparsed" (root's to mend). */
static int append_unparsed(const struct ns_lease_store *s, const char *line, size_t len, struct ns_err *err)
{
	struct stat st;
	_cleanup_close_ int fd = openat(s->dir, "unparsed",
					O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	int r = fd < 0 || fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && (!S_ISREG(st.st_mode) || (st.st_size == 0 && ns_fix_owner(fd, 0644) < 0) || st.st_uid != 0))
		r = -EPERM;
	if (r == 0)
		r = ns_write_all(fd, line, len);
	if (r == 0)
		r = ns_write_all(fd, "\n", 1);
	return r < 0 ? ns_fail(err, r, "lease store %s/unparsed: %s", s->path, strerror(-r)) : 0;
}

/* A bad line of the old file: into the store as a bad file at the address
 * of its third field (held, as before), else appended to "unparsed". A
 * line that parses (a second lease of one uid and tag) is written as
 * "#duplicate LINE", which does not: it must not become a lease. */
static int migrate_bad(const struct ns_lease_store *s, const char *line, size_t len, struct ns_err *err)
{
	char copy[LINE_MAX_LEN], *save = NULL, *t;
	snprintf(copy, sizeof(copy), "%.*s", (int)(len < sizeof(copy) - 1 ? len : sizeof(copy) - 1), line);
	t = strtok_r(copy, " \t", &save);
	for (int f = 1; t && f < 3; f++)
		t = strtok_r(NULL, " \t", &save);
	struct in_addr a;
	struct ns_lease e;
	if (!t || inet_pton(AF_INET, t, &a) != 1)
		return append_unparsed(s, line, len, err);
	char name[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, name, sizeof(name));
	_cleanup_close_ int fd = openat(s->dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return append_unparsed(s, line, len, err);   /* that address is someone's (or held) already */
	int r = fd < 0 ? -errno : ns_fix_owner(fd, 0644);
	if (r == 0 && ns_lease_parse_line(line, len, &e) == 0)
		r = ns_write_all(fd, "#duplicate ", 11);
	if (r == 0)
		r = ns_write_all(fd, line, len);
	if (r == 0)
		r = ns_write_all(fd, "\n", 1);
	return r < 0 ? ns_fail(err, r, "lease store %s/%s: %s", s->path, name, strerror(-r)) : 0;
}

static int migrate(struct ns_lease_store *s, int parent, const char *base, const char *lease_file,
		   struct ns_err *err)
{
	struct ns_leases old = { 0 }, fresh = { 0 };
	int r = ns_leases_read(lease_file, &old, err);
	/* Skipped: an address that has a file, a uid (and tag) that has a
	 * lease in the store already (an old file that reappeared must not
	 * move anybody). */
	for (size_t i = 0; r == 0 && i < old.n; i++) {
		struct ns_leases probe = { 0 };
		r = ns_lease_store_load_addr(s, old.v[i].addr, &probe, err);
		if (r == 0 && probe.n == 0 && probe.n_held == 0)
			r = ns_lease_store_load_uid(s, old.v[i].uid, old.v[i].sid, &probe, err);
		if (r == 0 && probe.n == 0 && probe.n_held == 0 && ns_leases_push(&fresh, &old.v[i]) < 0)
			r = oom(s, err);
		ns_leases_free(&probe);
	}
	if (r == 0)
		r = ns_lease_store_apply(s, NULL, 0, &fresh, err);
	for (const char *p = old.kept; r == 0 && p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		r = migrate_bad(s, p, len, err);
		p += len + (nl ? 1 : 0);
	}
	ns_leases_free(&old);
	ns_leases_free(&fresh);
	char done[160];
	snprintf(done, sizeof(done), "%s.migrated", base);
	if (r == 0 && renameat(parent, base, parent, done) < 0)
		r = ns_fail(err, -errno, "lease file %s: renaming it after the import: %s", lease_file, strerror(errno));
	return r;
}

/* --------------------------------------------------------------- open -- */

int ns_lease_store_open(const char *lease_file, struct ns_lease_store *s, struct ns_err *err)
{
	const char *base;
	char sub[160];
	s->dir = s->index = -1;
	if (snprintf(s->path, sizeof(s->path), "%s.d", lease_file) >= (int)sizeof(s->path))
		return ns_fail(err, -ENAMETOOLONG, "lease file %s: path too long", lease_file);
	_cleanup_close_ int parent = ns_lease_dir_open(lease_file, true, &base, err);
	if (parent < 0)
		return parent == -ENOENT ? ns_fail(err, -ENOENT, "lease file %s: no directory", lease_file) : parent;
	snprintf(sub, sizeof(sub), "%s.d", base);
	char index_path[sizeof(s->path) + 8];
	snprintf(index_path, sizeof(index_path), "%s/by-uid", s->path);
	s->dir = open_sub(parent, sub, s->path, err);
	if (s->dir >= 0)
		s->index = open_sub(s->dir, "by-uid", index_path, err);
	if (s->index < 0) {
		int r = s->dir < 0 ? s->dir : s->index;
		ns_lease_store_close(s);
		return r;
	}
	struct stat st;
	int r = 0;
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = migrate(s, parent, base, lease_file, err);
	if (r < 0)
		ns_lease_store_close(s);
	return r;
}

void ns_lease_store_close(struct ns_lease_store *s)
{
	if (s->dir >= 0)
		close(s->dir);
	if (s->index >= 0)
		close(s->index);
	s->dir = s->index = -1;
}
