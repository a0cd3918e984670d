/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_lease.c — sticky address leases: one line's format, the old single
 * lease file (read once, to migrate it into the store), and the picker.
 *
 * Invariants:
 *  1. Callers hold the "leases" lock around load-pick-apply.
 *  2. A line that does not parse is kept verbatim (migration carries it
 *     into the store) and the address it names is never handed out: one bad
 *     line stops nobody's login and is never silently lost.
 *  3. Network, broadcast, gateway and bridge addresses are never handed
 *     out; no address is ever given to two uids.
 *  4. The picker decides only from what its list's view holds: when it
 *     needs more (a free address, a takeover) it answers -EAGAIN. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ns_lease.h"
#include "ns_names.h"

#define LEASE_MAX (16 * 1024 * 1024)

void ns_leases_free(struct ns_leases *l)
{
	free(l->v);
	free(l->kept);
	free(l->held);
	memset(l, 0, sizeof(*l));
}

/* Keep a line that did not parse (lenient reading), and hold its address. */
static int keep_bad(struct ns_leases *l, const char *line, size_t len)
{
	char *k = realloc(l->kept, l->kept_len + len + 2);
	if (!k)
		return -ENOMEM;
	l->kept = k;
	memcpy(k + l->kept_len, line, len);
	l->kept_len += len;
	k[l->kept_len++] = '\n';
	k[l->kept_len] = '\0';
	l->n_kept++;
	char copy[256], *save = NULL, *t;
	snprintf(copy, sizeof(copy), "%.*s", (int)(len < 255 ? len : 255), line);
	t = strtok_r(copy, " \t", &save);
	for (int f = 1; t && f < 3; f++)
		t = strtok_r(NULL, " \t", &save);
	struct in_addr a;
	if (t && inet_pton(AF_INET, t, &a) == 1)
		return ns_leases_hold(l, a);
	return 0;
}

int ns_leases_hold(struct ns_leases *l, struct in_addr a)
{
	if (l->n_held == l->cap_held) {
		size_t cap = l->cap_held ? l->cap_held * 2 : 64;
		struct in_addr *h = realloc(l->held, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->held = h;
		l->cap_held = cap;
	}
	l->held[l->n_held++] = a;
	return 0;
}

int ns_leases_push(struct ns_leases *l, const struct ns_lease *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ns_lease *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

/* One line, exactly "uid user address last_used[ sid]", single spaces,
 * each field checked whole (no "1003dave" or "4deadbeef"). */
int ns_lease_parse_line(const char *raw, size_t len, struct ns_lease *ret)
{
	char line[256], sid[16] = "";
	char *field[6];
	int f = 0;
	unsigned long uid, used;
	if (len == 0 || len >= sizeof(line) || memchr(raw, '\0', len))
		return -EINVAL;
	memcpy(line, raw, len);
	line[len] = '\0';
	if (strstr(line, "  ") || line[0] == ' ' || line[len - 1] == ' ' || strchr(line, '\t'))
		return -EINVAL;
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && f < 6; t = strtok_r(NULL, " ", &save))
		field[f++] = t;
	if ((f != 4 && f != 5) || ns_parse_ulong(field[0], UINT32_MAX - 1, &uid) < 0 ||
	    ns_parse_ulong(field[3], LONG_MAX, &used) < 0)
		return -EINVAL;
	if (f == 5 && (ns_strlcpy(sid, field[4], sizeof(sid)) < 0 || !ns_sid_valid(sid)))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (!ns_user_name_valid(field[1]) || ns_strlcpy(ret->user, field[1], sizeof(ret->user)) < 0 ||
	    inet_pton(AF_INET, field[2], &ret->addr) != 1)
		return -EINVAL;
	ret->uid = (uid_t)uid;
	ret->last_used = (long long)used;
	ns_strlcpy(ret->sid, sid, sizeof(ret->sid));
	return 0;
}

/* A second lease of one (uid, tag), or of one address, is a bad line. */
static bool duplicate(const struct ns_leases *l, const struct ns_lease *e)
{
	for (size_t i = 0; i < l->n; i++)
		if ((l->v[i].uid == e->uid && strcmp(l->v[i].sid, e->sid) == 0) || l->v[i].addr.s_addr == e->addr.s_addr)
			return true;
	return false;
}

static int parse(const char *text, const char *name, bool lenient, struct ns_leases *ret, struct ns_err *err)
{
	struct ns_leases l = { 0 };
	int lineno = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *raw = p;
		struct ns_lease e;
		lineno++;
		p += len + (nl ? 1 : 0);
		if (len == 0)
			continue;
		bool bad = ns_lease_parse_line(raw, len, &e) < 0 || duplicate(&l, &e);
		if (bad && !lenient) {
			ns_leases_free(&l);
			return ns_fail(err, -EINVAL, "%s:%d: corrupt lease entry (refusing to touch the file)", name,
				       lineno);
		}
		if (bad ? keep_bad(&l, raw, len) < 0 : ns_leases_push(&l, &e) < 0) {
			ns_leases_free(&l);
			return ns_fail(err, -ENOMEM, "%s: out of memory", name);
		}
	}
	*ret = l;
	return 0;
}

int ns_leases_parse(const char *text, const char *name, struct ns_leases *ret, struct ns_err *err)
{
	return parse(text, name, false, ret, err);
}

/* Trusted only when root-owned and closed to group and others: a user who
 * could write there could swap a lease. */
int ns_lease_dir_open(const char *path, bool create, const char **ret_base, struct ns_err *err)
{
	char dir[256];
	if (ns_strlcpy(dir, path, sizeof(dir)) < 0)
		return ns_fail(err, -ENAMETOOLONG, "lease file %s: path too long", path);
	if (dir[0] != '/')
		return ns_fail(err, -EINVAL, "lease file %s: not an absolute path", path);
	char *slash = strrchr(dir, '/');
	*ret_base = path + (slash - dir) + 1;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		bool made = mkdir(dir, 0755) == 0;
		if (!made && errno != EEXIST)
			return ns_fail(err, errno, "lease directory %s: %s", dir, strerror(errno));
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && made)
			ns_fix_owner(fd, 0755);
	}
	if (fd < 0)
		return errno == ENOENT ? -ENOENT
				       : ns_fail(err, errno, "lease directory %s: %s", dir, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return ns_fail(err, -EPERM, "lease directory %s: not a root-owned directory closed to others", dir);
	}
	return fd;
}

int ns_leases_read(const char *path, struct ns_leases *ret, struct ns_err *err)
{
	const char *base;
	memset(ret, 0, sizeof(*ret));
	_cleanup_close_ int dir = ns_lease_dir_open(path, false, &base, err);
	if (dir == -ENOENT)
		return 0;
	if (dir < 0)
		return dir;
	_cleanup_close_ int fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ns_fail(err, errno, "lease file %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return ns_fail(err, -EPERM, "lease file %s: not a root-owned regular file closed to others", path);
	if (st.st_size > LEASE_MAX)
		return ns_fail(err, -EFBIG, "lease file %s: too large", path);
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return ns_fail(err, -ENOMEM, "lease file %s: out of memory", path);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (strlen(buf) != got)
		return ns_fail(err, -EINVAL, "lease file %s: contains a NUL byte", path);
	return parse(buf, path, true, ret, err);
}

int ns_lease_format(const struct ns_lease *e, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &e->addr, a, sizeof(a));
	int n = snprintf(buf, size, "%u %s %s %lld%s%s\n", (unsigned)e->uid, e->user, a, e->last_used,
			 e->sid[0] ? " " : "", e->sid);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

static struct ns_lease *find(struct ns_leases *l, uid_t uid, const char *sid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].uid == uid && strcmp(l->v[i].sid, sid ? sid : "") == 0)
			return &l->v[i];
	return NULL;
}

void ns_lease_drop(struct ns_leases *l, uid_t uid, const char *sid)
{
	struct ns_lease *e = find(l, uid, sid);
	if (e)
		*e = l->v[--l->n];
}

static bool excluded(const struct ns_globals *g, uint32_t a);

bool ns_lease_addr_usable(const struct ns_globals *g, struct in_addr a)
{
	return g->pool.family == AF_INET && !excluded(g, ntohl(a.s_addr));
}

static bool excluded(const struct ns_globals *g, uint32_t a)
{
	uint32_t net = ntohl(g->pool.addr.v4.s_addr);
	uint32_t mask = ~0u << (32 - g->pool.prefix);
	if ((a & ~mask) == 0 || (a & ~mask) == ~mask)
		return true;
	if (g->gateway.family == AF_INET && ntohl(g->gateway.addr.v4.s_addr) == a)
		return true;
	if (g->bridge_address.family == AF_INET && ntohl(g->bridge_address.addr.v4.s_addr) == a)
		return true;
	/* A user's IPv6 address is pool6 plus this host part: never the one
	 * that would make it gateway6 itself. */
	if (ns_cidr_v6_is_gateway6(a, mask, &g->gateway6))
		return true;
	return (a & mask) != (net & mask);
}

static int add(struct ns_leases *l, uid_t uid, const char *user, const char *sid,
	       struct in_addr a, long long now, struct ns_err *err)
{
	struct ns_lease e = { .uid = uid, .addr = a, .last_used = now };
	ns_strlcpy(e.user, user, sizeof(e.user));
	ns_strlcpy(e.sid, sid ? sid : "", sizeof(e.sid));
	return ns_leases_push(l, &e) < 0 ? ns_fail(err, -ENOMEM, "leases: out of memory") : 0;
}

/* Stage 1: tags of sessions that are gone are free again; a uid reused by
 * another user does not inherit the old user's address (remembered in
 * FORGOTTEN: handed out again only as a last resort), and is refused while
 * the old user's namespace still holds it (-EBUSY). */
struct forgotten {
	struct in_addr a[8];
	size_t n;
};

static int purge(struct ns_leases *l, uid_t uid, const char *user, const char *sid,
		 const struct ns_lease_ops *ops, struct forgotten *f, struct ns_err *err)
{
	for (size_t i = 0; i < l->n;) {
		bool reused = l->v[i].uid == uid && strcmp(l->v[i].user, user) != 0;
		if (reused && ops->in_use && ops->in_use(uid, l->v[i].sid, ops->data)) {
			char a[INET_ADDRSTRLEN] = "";
			inet_ntop(AF_INET, &l->v[i].addr, a, sizeof(a));
			return ns_fail(err, -EBUSY, "uid %u is still in use by %s (address %s): %s is refused "
				       "until that login ends", (unsigned)uid, l->v[i].user, a, user);
		}
		/* a stale tag equal to this session's id (a 32-bit collision) */
		bool same_tag = sid && l->v[i].uid == uid && strcmp(l->v[i].sid, sid) == 0;
		if (reused || same_tag ||
		    (l->v[i].sid[0] && !(ops->sid_alive && ops->sid_alive(l->v[i].uid, l->v[i].sid, ops->data)))) {
			if (reused && f->n < ARRAY_SIZE(f->a))
				f->a[f->n++] = l->v[i].addr;
			l->v[i] = l->v[--l->n];
		} else {
			i++;
		}
	}
	return 0;
}

/* Stage 2: a static address, taken from a user not logged in if needed. */
static int pick_static(struct ns_leases *l, uid_t uid, const char *user, const char *sid,
		       struct in_addr want, const struct ns_lease_ops *ops, long long now, struct in_addr *ret,
		       struct ns_err *err)
{
	if (sid && ops->own_addr_busy && ops->own_addr_busy(want, ops->data))
		return ns_fail(err, -EADDRINUSE, "static address of %s is in use by another of its sessions", user);
	for (size_t i = 0; i < l->n_held; i++)
		if (l->held[i].s_addr == want.s_addr)
			return ns_fail(err, -EADDRINUSE, "static address of %s is held by a bad lease entry", user);
	for (size_t i = 0; i < l->n; i++)
		if ((l->v[i].uid != uid || l->v[i].sid[0]) && l->v[i].addr.s_addr == want.s_addr) {
			if (l->v[i].uid == uid)   /* a live per-session address of this user */
				return ns_fail(err, -EADDRINUSE,
					       "static address of %s is in use by another of its sessions", user);
			if (ops->uid_busy && ops->uid_busy(l->v[i].uid, ops->data))
				return ns_fail(err, -EADDRINUSE, "address of %s is in use by %s", user, l->v[i].user);
			l->v[i] = l->v[--l->n];
			break;
		}
	struct ns_lease *own = find(l, uid, NULL);
	*ret = want;
	if (own) {
		own->addr = want;
		own->last_used = now;
		return 0;
	}
	return add(l, uid, user, NULL, want, now, err);
}

/* Stage 4: the first free address of the pool (bad lines' addresses held),
 * the forgotten ones only on a second pass. -EADDRNOTAVAIL when full. */
static int pick_free(const struct ns_leases *l, const struct ns_globals *g, const struct forgotten *f,
		     struct in_addr *ret)
{
	uint32_t net = ntohl(g->pool.addr.v4.s_addr), size = 1u << (32 - g->pool.prefix);
	if (l->view == NS_LEASES_OWN)
		return -EAGAIN;
	_cleanup_free_ uint8_t *used = calloc(size / 8 + 1, 1);
	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < l->n + l->n_held; i++) {
		struct in_addr a = i < l->n ? l->v[i].addr : l->held[i - l->n];
		uint32_t off = ntohl(a.s_addr) - net;
		if (off < size)
			used[off / 8] |= (uint8_t)(1u << (off % 8));
	}
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t off = 1; off < size; off++) {
			if ((used[off / 8] & (1u << (off % 8))) || excluded(g, net + off))
				continue;
			bool old_users = false;
			for (size_t k = 0; pass == 0 && k < f->n; k++)
				old_users |= ntohl(f->a[k].s_addr) == net + off;
			if (old_users)
				continue;
			ret->s_addr = htonl(net + off);
			return 0;
		}
	return -EADDRNOTAVAIL;
}

static int by_last_used(const void *a, const void *b)
{
	const struct ns_lease *p = *(struct ns_lease *const *)a, *q = *(struct ns_lease *const *)b;
	if (p->last_used != q->last_used)
		return p->last_used < q->last_used ? -1 : 1;
	return p < q ? -1 : p > q;   /* ties: the first in the list, as before */
}

/* Stage 5: the least recently used sticky lease of a user not logged in
 * (candidates in order of last_used: uid_busy is asked until one is not,
 * not once per lease). -ENOMEM in *ret_err. */
static struct ns_lease *pick_lru(struct ns_leases *l, const struct ns_globals *g, uid_t uid,
				 const struct ns_lease_ops *ops, int *ret_err)
{
	_cleanup_free_ struct ns_lease **c = l->n ? malloc(l->n * sizeof(*c)) : NULL;
	size_t n = 0;
	*ret_err = l->n && !c ? -ENOMEM : 0;
	for (size_t i = 0; c && i < l->n; i++)
		if (!l->v[i].sid[0] && l->v[i].uid != uid && !excluded(g, ntohl(l->v[i].addr.s_addr)))
			c[n++] = &l->v[i];
	if (n)
		qsort(c, n, sizeof(*c), by_last_used);
	for (size_t i = 0; i < n; i++)
		if (!(ops->uid_busy && ops->uid_busy(c[i]->uid, ops->data)))
			return c[i];
	return NULL;
}

int ns_lease_pick(struct ns_leases *l, const struct ns_globals *g, uid_t uid, const char *user,
		  const char *sid, const struct ns_cidr *static_addr, const struct ns_lease_ops *ops,
		  long long now, struct in_addr *ret, bool *ret_sid_tagged, struct ns_err *err)
{
	char pool[64];
	struct forgotten f = { .n = 0 };
	*ret_sid_tagged = false;
	int r = purge(l, uid, user, sid, ops, &f, err);
	if (r < 0)
		return r;
	if (static_addr && static_addr->family == AF_INET)
		return pick_static(l, uid, user, sid, static_addr->addr.v4, ops, now, ret, err);

	/* Stage 3: the user's own sticky lease, unless outside the pool now or
	 * (per-session namespace) held by another open session of the user. */
	struct ns_lease *own = find(l, uid, NULL);
	if (own && excluded(g, ntohl(own->addr.s_addr))) {
		ns_lease_drop(l, uid, NULL);
		own = NULL;
	}
	bool own_taken = own && sid && ops->own_addr_busy && ops->own_addr_busy(own->addr, ops->data);
	if (own && !own_taken) {
		/* last_used only orders takeovers: an hour's precision is enough,
		 * and a returning user's login then leaves the file untouched. */
		if (now - own->last_used >= NS_LEASE_TOUCH_SECS || now < own->last_used)
			own->last_used = now;
		*ret = own->addr;
		return 0;
	}
	const char *tag = own_taken ? sid : NULL;     /* a user's first address is sticky */
	r = pick_free(l, g, &f, ret);
	if (r == -ENOMEM)
		return ns_fail(err, -ENOMEM, "leases: out of memory");
	if (r == -EAGAIN || (r < 0 && l->view != NS_LEASES_ALL))
		return -EAGAIN;
	if (r == 0) {
		*ret_sid_tagged = tag != NULL;
		return add(l, uid, user, tag, *ret, now, err);
	}
	struct ns_lease *lru = pick_lru(l, g, uid, ops, &r);
	if (r == -ENOMEM)
		return ns_fail(err, -ENOMEM, "leases: out of memory");
	if (!lru) {
		ns_cidr_format(&g->pool, true, pool, sizeof(pool));
		return ns_fail(err, -EADDRNOTAVAIL, "address pool %s exhausted", pool);
	}
	*ret = lru->addr;
	lru->uid = uid;
	ns_strlcpy(lru->user, user, sizeof(lru->user));
	ns_strlcpy(lru->sid, tag ? tag : "", sizeof(lru->sid));
	lru->last_used = now;
	*ret_sid_tagged = tag != NULL;
	return 0;
}
