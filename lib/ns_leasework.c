/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_leasework.c — lease work under the global "leases" lock.
 *
 * Invariants:
 *  1. The lock is only ever held by a process the user cannot signal,
 *     stop, freeze or starve: the caller itself when its ids are all root
 *     (sshd, login, su run by root), else a short-lived child reset by
 *     ns_detach_reset() (su keeps the caller's real uid; a user could
 *     SIGSTOP it, or freeze its cgroup, while it held the lock and every
 *     other login would wait). The caller only reads the child's answer.
 *  2. Waiting for the lock is bounded (ns_lock_take); the refusal says so.
 *  3. A session counts as alive while its owner lives or while its user's
 *     login is in progress (the user lock is held, no record yet), so a
 *     concurrent login is never given an address that is still in use.
 *  4. A pick loads only what it needs from the store, in three views
 *     (ns_lease.h): the user's own leases, then the names of every address
 *     in use, then every lease (a full pool); each view is loaded afresh. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ns_detach.h"
#include "ns_leasestore.h"
#include "ns_leasework.h"
#include "ns_names.h"
#include "ns_netlink.h"
#include "ns_session.h"

#define LOCK_TIMEOUT_MS 10000

/* ------------------------------------------------ what the picker asks */

static bool login_in_progress(const char *state_dir, uid_t uid)
{
	char lockname[32];
	snprintf(lockname, sizeof(lockname), "user-%u", (unsigned)uid);
	return ns_lock_held(state_dir, lockname);
}

static int any_live(const struct ns_session_rec *r, void *data)
{
	(void)data;
	return ns_session_owner_alive(r) ? 1 : 0;
}

/* Last resort for a namespace no live record names (processes outliving
 * a login without ns-shell, a record removed by hand): its host-side veth
 * of ours exists exactly as long as the namespace does, so while it is
 * there its address is still in use. */
static bool veth_of_ours(const struct ns_lease_req *q, uid_t uid, const char *sid)
{
	struct ns_err err;
	struct ns_nl *nl = NULL;
	char name[16], alias[NS_VETH_ALIAS_MAX] = "";
	ns_veth_name(uid, sid, name);
	if (ns_nl_open(&nl, &err) < 0)
		return true;   /* cannot tell: keep the address */
	int r = ns_nl_link_alias(nl, name, alias, sizeof(alias));
	ns_nl_close(nl);
	(void)q;
	return r != -ENODEV && (r < 0 || ns_veth_alias_ours(alias));
}

/* What the picker's questions share in one pick: the request, and the uids
 * that own a veth of ours (one link dump, made the first time a sticky
 * lease's owner looks idle otherwise: only a full pool or a static address
 * taking over gets there). */
struct pick_ctx {
	const struct ns_lease_req *q;
	uid_t *veth_uids;
	size_t n, cap;
	bool dumped, failed;
};

static void note_veth_uid(const char *name, const char *alias, int peer_nsid, void *data)
{
	struct pick_ctx *c = data;
	uid_t v;
	(void)name;
	(void)peer_nsid;
	if (c->failed || ns_veth_alias_uid(alias, &v) < 0)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		uid_t *m = realloc(c->veth_uids, cap * sizeof(*m));
		if (!m) {
			c->failed = true;
			return;
		}
		c->veth_uids = m;
		c->cap = cap;
	}
	c->veth_uids[c->n++] = (uid_t)v;
}

static int by_uid(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;
	return x < y ? -1 : x > y;
}

/* A namespace of UID with no live record (per-session ones are named
 * nss<sid>, not nsu<uid>) may still hold her sticky address: a process of
 * a login without ns-shell that outlived it. Cannot tell: busy. */
static bool uid_has_veth(struct pick_ctx *c, uid_t uid)
{
	if (!c->dumped) {
		struct ns_err err;
		struct ns_nl *nl = NULL;
		c->dumped = true;
		if (ns_nl_open(&nl, &err) < 0 || ns_nl_foreach_ours(nl, note_veth_uid, c) < 0)
			c->failed = true;
		ns_nl_close(nl);
		if (c->n)
			qsort(c->veth_uids, c->n, sizeof(*c->veth_uids), by_uid);
	}
	return c->failed || (c->n && bsearch(&uid, c->veth_uids, c->n, sizeof(uid), by_uid));
}

struct sid_find {
	const char *sid;
};

/* The session itself, or a reaper of it (its processes outlived it). */
static int sid_match(const struct ns_session_rec *r, void *data)
{
	const struct sid_find *f = data;
	return (strcmp(r->sid, f->sid) == 0 || strcmp(r->session, f->sid) == 0) && ns_session_owner_alive(r);
}

/* The namespace holding that lease of UID (SID "" or NULL: the sticky
 * one) is still there: a live record, or a veth of ours. The uid's lock
 * is not counted: it is asked by a login of that uid (another name), which
 * holds the lock itself. */
static bool lease_in_use(uid_t uid, const char *sid, void *data)
{
	struct pick_ctx *c = data;
	const struct ns_lease_req *q = c->q;
	if (sid && sid[0]) {
		struct sid_find f = { sid };
		return ns_session_foreach_uid(q->globals->state_dir, uid, sid_match, &f) == 1 ||
		       veth_of_ours(q, uid, sid);
	}
	return ns_session_foreach_uid(q->globals->state_dir, uid, any_live, NULL) == 1 ||
	       veth_of_ours(q, uid, NULL) || uid_has_veth(c, uid);
}

/* The same, or a login of UID in progress (its lock held). */
static bool uid_busy(uid_t uid, void *data)
{
	const struct ns_lease_req *q = ((struct pick_ctx *)data)->q;
	return login_in_progress(q->globals->state_dir, uid) || lease_in_use(uid, NULL, data);
}

static bool sid_alive(uid_t uid, const char *sid, void *data)
{
	const struct ns_lease_req *q = ((struct pick_ctx *)data)->q;
	return login_in_progress(q->globals->state_dir, uid) || lease_in_use(uid, sid, data);
}

static int addr_match(const struct ns_session_rec *r, void *data)
{
	const struct in_addr *a = data;
	struct ns_cidr c;
	if (!r->address[0] || ns_cidr_parse(r->address, false, &c) < 0 || c.family != AF_INET)
		return 0;
	return c.addr.v4.s_addr == a->s_addr && ns_session_owner_alive(r);
}

static bool own_addr_busy(struct in_addr a, void *data)
{
	const struct ns_lease_req *q = ((struct pick_ctx *)data)->q;
	return ns_session_foreach_uid(q->globals->state_dir, q->uid, addr_match, &a) == 1;
}

/* ------------------------------------------------------------ the jobs */

struct job {
	int rc;
	struct ns_lease_got got;
	char msg[sizeof(((struct ns_err *)0)->msg)];
};

/* The sticky lease of another user that is gone after a pick (the pool was
 * full, or a static address displaced it): a failed login gives it back. */
static int by_address(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct ns_lease *)a)->addr.s_addr);
	uint32_t y = ntohl(((const struct ns_lease *)b)->addr.s_addr);
	return x < y ? -1 : x > y;
}

static int find_victim(const struct ns_lease *before, size_t n0, const struct ns_leases *l, uid_t uid,
		       struct ns_lease_got *got)
{
	_cleanup_free_ struct ns_lease *after = l->n ? malloc(l->n * sizeof(*after)) : NULL;
	if (l->n && !after)
		return -ENOMEM;
	if (after) {
		memcpy(after, l->v, l->n * sizeof(*after));
		qsort(after, l->n, sizeof(*after), by_address);
	}
	for (size_t i = 0; before && i < n0; i++) {
		if (before[i].uid == uid || before[i].sid[0])
			continue;
		const struct ns_lease *k = l->n ? bsearch(&before[i], after, l->n, sizeof(*after), by_address) : NULL;
		if (!k || k->uid != before[i].uid || strcmp(k->user, before[i].user) != 0) {
			got->has_victim = true;
			got->victim = before[i];
			break;
		}
	}
	return 0;
}

static bool had_sticky(const struct ns_leases *l, const struct ns_lease_req *q)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].uid == q->uid && !l->v[i].sid[0] && strcmp(l->v[i].user, q->user) == 0)
			return true;
	return false;
}

/* What a view of the store loads for Q: the user's sticky lease, the tag
 * of this session (a stale one is purged), the static address's file; then,
 * per view, the names of all addresses or every lease. */
static int load_view(const struct ns_lease_store *st, const struct ns_lease_req *q, enum ns_lease_view view,
		     struct ns_leases *l, struct ns_err *err)
{
	int r = 0;
	size_t fixed;
	if (view == NS_LEASES_ALL) {   /* a full pool: every lease read, so mend the index on the way */
		r = ns_lease_store_load_all(st, l, err);
		return r < 0 ? r : ns_lease_store_fix_index(st, l, &fixed, err);
	}
	l->view = view;
	r = ns_lease_store_load_uid(st, q->uid, NULL, l, err);
	if (r == 0 && q->sid)
		r = ns_lease_store_load_uid(st, q->uid, q->sid, l, err);
	if (r == 0 && q->static_addr && q->static_addr->family == AF_INET)
		r = ns_lease_store_load_addr(st, q->static_addr->addr.v4, l, err);
	if (r == 0 && view == NS_LEASES_NAMES)
		r = ns_lease_store_load_names(st, l, err);
	return r;
}

/* Pick in one view and apply what changed (a returning user's login
 * changes nothing, or her last_used once an hour). -EAGAIN: a wider view
 * is needed. */
static int pick_in_view(const struct ns_lease_store *st, const struct ns_lease_req *q, enum ns_lease_view view,
			struct ns_lease_got *got, struct ns_err *err)
{
	struct pick_ctx ctx = { .q = q };
	struct ns_lease_ops ops = { uid_busy, sid_alive, own_addr_busy, lease_in_use, &ctx };
	struct ns_leases l = { 0 };
	_cleanup_free_ struct ns_lease *before = NULL;
	int r = load_view(st, q, view, &l, err);
	size_t n0 = l.n;
	if (r == 0 && n0 && !(before = malloc(n0 * sizeof(*before))))
		r = ns_fail(err, -ENOMEM, "leases: out of memory");
	if (r == 0 && n0)
		memcpy(before, l.v, n0 * sizeof(*before));
	bool had = r == 0 && had_sticky(&l, q);
	if (r == 0)
		r = ns_lease_pick(&l, q->globals, q->uid, q->user, q->sid, q->static_addr, &ops,
				  (long long)time(NULL), &got->addr, &got->tagged, err);
	if (r == 0 && find_victim(before, n0, &l, q->uid, got) < 0)
		r = ns_fail(err, -ENOMEM, "leases: out of memory");
	if (r == 0) {
		/* what a failed login gives back: its own new lease, and a lease
		 * it took over from another user (also when it had one before) */
		got->fresh = !had || got->tagged || got->has_victim;
		r = ns_lease_store_apply(st, before, n0, &l, err);
	}
	ns_leases_free(&l);
	free(ctx.veth_uids);
	return r;
}

static int take_job(const void *arg, struct job *j)
{
	const struct ns_lease_req *q = arg;
	struct ns_err err = { 0 };
	struct ns_lease_store st;
	_cleanup_close_ int lock = ns_lock_take(q->globals->state_dir, "leases", LOCK_TIMEOUT_MS, &err);
	if (lock >= 0)
		ns_fault("leases-locked");
	int r = lock < 0 ? lock : ns_lease_store_open(q->globals->lease_file, &st, &err);
	if (r == 0) {
		enum ns_lease_view views[] = { NS_LEASES_OWN, NS_LEASES_NAMES, NS_LEASES_ALL };
		r = -EAGAIN;
		for (size_t v = 0; r == -EAGAIN && v < ARRAY_SIZE(views); v++) {
			memset(&j->got, 0, sizeof(j->got));
			r = pick_in_view(&st, q, views[v], &j->got, &err);
		}
		ns_lease_store_close(&st);
	}
	memcpy(j->msg, err.msg, sizeof(j->msg));
	return r;
}

struct give_back_args {
	const char *state_dir, *lease_file;
	uid_t uid;
	const char *sid;
	const struct ns_lease *restore;
};

static int restore_lease(struct ns_leases *l, const struct ns_lease *restore)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].addr.s_addr == restore->addr.s_addr || (l->v[i].uid == restore->uid && !l->v[i].sid[0]))
			return 0;
	for (size_t i = 0; i < l->n_held; i++)
		if (l->held[i].s_addr == restore->addr.s_addr)
			return 0;
	return ns_leases_push(l, restore);
}

static int give_back_job(const void *arg, struct job *j)
{
	const struct give_back_args *d = arg;
	struct ns_err e = { 0 };
	struct ns_lease_store st;
	struct ns_leases l = { .view = NS_LEASES_OWN };
	_cleanup_free_ struct ns_lease *before = NULL;
	_cleanup_close_ int lock = ns_lock_take(d->state_dir, "leases", LOCK_TIMEOUT_MS, &e);
	int r = lock < 0 ? lock : ns_lease_store_open(d->lease_file, &st, &e);
	if (r < 0)
		goto out;
	r = ns_lease_store_load_uid(&st, d->uid, d->sid, &l, &e);
	if (r == 0 && d->restore)
		r = ns_lease_store_load_uid(&st, d->restore->uid, NULL, &l, &e);
	if (r == 0 && d->restore)
		r = ns_lease_store_load_addr(&st, d->restore->addr, &l, &e);
	if (r == 0 && l.n && !(before = malloc(l.n * sizeof(*before))))
		r = -ENOMEM;
	size_t n0 = l.n;
	if (r == 0 && n0)
		memcpy(before, l.v, n0 * sizeof(*before));
	if (r == 0) {
		ns_lease_drop(&l, d->uid, d->sid);
		if (d->restore)
			r = restore_lease(&l, d->restore);
	}
	if (r == 0)
		r = ns_lease_store_apply(&st, before, n0, &l, &e);
	ns_lease_store_close(&st);
out:
	ns_leases_free(&l);
	memcpy(j->msg, e.msg, sizeof(j->msg));
	return r;
}

/* ------------------------------------------------------------ the worker */

static void worker(int fd, int (*fn)(const void *arg, struct job *j), const void *arg, struct job *j)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct ns_err derr = { 0 };
	if ((j->rc = ns_detach_reset(&derr)) < 0)
		memcpy(j->msg, derr.msg, sizeof(j->msg));
	else
		j->rc = fn(arg, j);
	ns_write_all(fd, j, sizeof(*j));
	_exit(0);
}

static int run_detached(int (*fn)(const void *arg, struct job *j), const void *arg, struct job *j)
{
	int p[2];
	memset(j, 0, sizeof(*j));
	uid_t ru, eu, su;
	if (getresuid(&ru, &eu, &su) == 0 && ru == 0 && eu == 0 && su == 0)
		return j->rc = fn(arg, j);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		worker(p[1], fn, arg, j);
	}
	int e = errno;
	close(p[1]);
	size_t got = 0;
	while (pid > 0 && got < sizeof(*j)) {
		ssize_t n = read(p[0], (char *)j + got, sizeof(*j) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	if (pid < 0)
		return j->rc = -e;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(*j)) {
		memset(j, 0, sizeof(*j));
		snprintf(j->msg, sizeof(j->msg), "lease worker died");
		return j->rc = -EIO;
	}
	return j->rc;
}

int ns_lease_take(const struct ns_lease_req *req, struct ns_lease_got *ret, struct ns_err *err)
{
	struct job j;
	int r = run_detached(take_job, req, &j);
	if (r < 0)
		return ns_fail(err, r, "%s", j.msg[0] ? j.msg : strerror(-r));
	*ret = j.got;
	return 0;
}

void ns_lease_give_back(const char *state_dir, const char *lease_file, uid_t uid, const char *sid,
			const struct ns_lease *restore)
{
	struct give_back_args d = { state_dir, lease_file, uid, sid, restore };
	struct job j;
	run_detached(give_back_job, &d, &j);
}

int ns_leases_list(const struct ns_globals *g, struct ns_leases *ret, struct ns_err *err)
{
	struct ns_lease_store st;
	memset(ret, 0, sizeof(*ret));
	_cleanup_close_ int lock = ns_lock_take(g->state_dir, "leases", LOCK_TIMEOUT_MS, err);
	int r = lock < 0 ? lock : ns_lease_store_open(g->lease_file, &st, err);
	if (r < 0)
		return r;
	r = ns_lease_store_load_all(&st, ret, err);
	ns_lease_store_close(&st);
	if (r < 0)
		ns_leases_free(ret);
	else if (ret->n)
		qsort(ret->v, ret->n, sizeof(*ret->v), by_address);
	return r;
}

int ns_leases_gc(const struct ns_globals *g, bool dry, void (*freed)(const struct ns_lease *e, void *data),
		 void *data, size_t *ret_fixed, struct ns_err *err)
{
	struct ns_lease_req q = { .globals = g };
	struct pick_ctx ctx = { .q = &q };
	struct ns_lease_store st;
	struct ns_leases l = { 0 };
	_cleanup_free_ struct ns_lease *before = NULL;
	*ret_fixed = 0;
	if (dry) {
		struct stat sb;
		char store[PATH_MAX];
		snprintf(store, sizeof(store), "%s.d", g->lease_file);
		if (lstat(g->lease_file, &sb) == 0 || lstat(store, &sb) < 0)
			return NS_LEASES_GC_PENDING;
	}
	_cleanup_close_ int lock = ns_lock_take(g->state_dir, "leases", LOCK_TIMEOUT_MS, err);
	int r = lock < 0 ? lock : ns_lease_store_open(g->lease_file, &st, err);
	if (r < 0)
		return r;
	r = ns_lease_store_load_all(&st, &l, err);
	if (r == 0 && !dry)
		r = ns_lease_store_fix_index(&st, &l, ret_fixed, err);
	size_t n0 = l.n;
	if (r == 0 && n0 && !(before = malloc(n0 * sizeof(*before))))
		r = ns_fail(err, -ENOMEM, "leases: out of memory");
	if (r == 0 && n0)
		memcpy(before, l.v, n0 * sizeof(*before));
	/* Tags of sessions that are gone (a killed su, a login whose reaper
	 * outlived it): their addresses are free again. */
	for (size_t i = 0; r == 0 && i < l.n;) {
		if (l.v[i].sid[0] && !sid_alive(l.v[i].uid, l.v[i].sid, &ctx)) {
			freed(&l.v[i], data);
			l.v[i] = l.v[--l.n];
		} else {
			i++;
		}
	}
	if (r == 0 && !dry)
		r = ns_lease_store_apply(&st, before, n0, &l, err);
	ns_lease_store_close(&st);
	ns_leases_free(&l);
	return r;
}
