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
 *     concurrent login is never given an address that is still in use. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "ns_detach.h"
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
	char name[16], alias[96] = "";
	ns_veth_name(uid, sid, name);
	if (ns_nl_open(&nl, &err) < 0)
		return true;   /* cannot tell: keep the address */
	int r = ns_nl_link_alias(nl, name, alias, sizeof(alias));
	ns_nl_close(nl);
	(void)q;
	return r != -ENODEV && (r < 0 || strncmp(alias, "ns-shell ", 9) == 0);
}

static bool uid_busy(uid_t uid, void *data)
{
	const struct ns_lease_req *q = data;
	return ns_session_foreach_uid(q->globals->state_dir, uid, any_live, NULL) == 1 ||
	       login_in_progress(q->globals->state_dir, uid) || veth_of_ours(q, uid, NULL);
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

static bool sid_alive(uid_t uid, const char *sid, void *data)
{
	const struct ns_lease_req *q = data;
	struct sid_find f = { sid };
	return ns_session_foreach_uid(q->globals->state_dir, uid, sid_match, &f) == 1 ||
	       login_in_progress(q->globals->state_dir, uid) || veth_of_ours(q, uid, sid);
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
	const struct ns_lease_req *q = data;
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
static void find_victim(const struct ns_lease *before, size_t n0, const struct ns_leases *l, uid_t uid,
			struct ns_lease_got *got)
{
	for (size_t i = 0; before && i < n0; i++) {
		if (before[i].uid == uid || before[i].sid[0])
			continue;
		bool kept = false;
		for (size_t k = 0; k < l->n && !kept; k++)
			kept = l->v[k].uid == before[i].uid && l->v[k].addr.s_addr == before[i].addr.s_addr &&
			       strcmp(l->v[k].user, before[i].user) == 0;
		if (!kept) {
			got->has_victim = true;
			got->victim = before[i];
			return;
		}
	}
}

static bool had_sticky(const struct ns_leases *l, const struct ns_lease_req *q)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].uid == q->uid && !l->v[i].sid[0] && strcmp(l->v[i].user, q->user) == 0)
			return true;
	return false;
}

/* Pick, and rewrite the file only when something changed (a returning
 * user's login leaves it untouched). */
static int pick_and_write(struct ns_leases *l, const struct ns_lease_req *q, struct ns_lease_got *got,
			  struct ns_err *err)
{
	struct ns_lease_ops ops = { uid_busy, sid_alive, own_addr_busy, (void *)q };
	size_t n0 = l->n;
	_cleanup_free_ struct ns_lease *before = n0 ? malloc(n0 * sizeof(*before)) : NULL;
	if (n0 && !before)
		return ns_fail(err, -ENOMEM, "leases: out of memory");
	if (before)
		memcpy(before, l->v, n0 * sizeof(*before));
	bool had = had_sticky(l, q);
	int r = ns_lease_pick(l, q->globals, q->uid, q->user, q->sid, q->static_addr, &ops, (long long)time(NULL),
			      &got->addr, &got->tagged, err);
	if (r < 0)
		return r;
	got->fresh = !had || got->tagged;
	if (l->n == n0 && (!n0 || memcmp(before, l->v, n0 * sizeof(*before)) == 0))
		return 0;
	find_victim(before, n0, l, q->uid, got);
	return ns_leases_write(q->globals->lease_file, l, err);
}

static int take_job(const void *arg, struct job *j)
{
	const struct ns_lease_req *q = arg;
	struct ns_err err = { 0 };
	_cleanup_close_ int lock = ns_lock_take(q->globals->state_dir, "leases", LOCK_TIMEOUT_MS, &err);
	struct ns_leases l = { 0 };
	if (lock >= 0)
		ns_fault("leases-locked");
	int r = lock < 0 ? lock : ns_leases_read(q->globals->lease_file, &l, &err);
	if (r == 0)
		r = pick_and_write(&l, q, &j->got, &err);
	ns_leases_free(&l);
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
	struct ns_lease *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *restore;
	l->cap = l->n;
	return 0;
}

static int give_back_job(const void *arg, struct job *j)
{
	const struct give_back_args *d = arg;
	struct ns_err e = { 0 };
	_cleanup_close_ int lock = ns_lock_take(d->state_dir, "leases", LOCK_TIMEOUT_MS, &e);
	struct ns_leases l = { 0 };
	int r = lock < 0 ? lock : ns_leases_read(d->lease_file, &l, &e);
	if (r == 0) {
		ns_lease_drop(&l, d->uid, d->sid);
		if (d->restore)
			r = restore_lease(&l, d->restore);
		if (r == 0)
			r = ns_leases_write(d->lease_file, &l, &e);
	}
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
