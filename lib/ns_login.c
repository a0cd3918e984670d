/* ns_login.c — the namespace lifecycle of a login (pam_ns open/close).
 *
 * Invariants:
 *  1. Everything runs under the user's lock; leases under the leases lock.
 *  2. Each thing this call creates is put on an undo list; on failure it is
 *     undone in reverse, and nothing it did not create is touched (a second
 *     login never deletes the first login's namespace or veth).
 *  3. The namespace is not pinned: it lives while processes are in it.
 *     A second login reaches it only through a live session's owner process
 *     (pid, start time and inode checked: ns_session_open_netns).
 *  4. Only the caller's network namespace changes; on failure it is moved
 *     back, and at close it returns to the namespace it came from.
 *  5. Nothing here reads the environment. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ns_dhcp.h"
#include "ns_lease.h"
#include "ns_login.h"
#include "ns_netlink.h"
#include "ns_session.h"
#include "ns_steps.h"

#define LOCK_TIMEOUT_MS 10000

void ns_machine_id(uint8_t ret[16])
{
	char buf[64] = "";
	memset(ret, 0, 16);
	_cleanup_close_ int fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || read(fd, buf, 32) != 32)
		return;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(buf + 2 * i, "%2x", &v) != 1)
			return;
		ret[i] = (uint8_t)v;
	}
}

/* What this call made, undone in reverse on failure. */
struct undo {
	bool moved;            /* caller is in the new namespace */
	bool record;
	bool veth;
	bool lease;
	bool lease_tag;        /* the lease is tagged with this session's id */
	bool bridge;
	bool dhcp;             /* a DHCP client runs in the new namespace */
	bool victim;           /* the lease taken over from another user, to give back */
	struct ns_lease victim_lease;
	char veth_name[16];
	char bridge_name[16];
};

struct ctx {
	const struct ns_config *c;
	const struct ns_globals *g;
	const struct ns_login_who *w;
	struct ns_policy p;
	int orig_fd, netns_fd;
	struct ns_nl *host_nl, *inner_nl;
	struct ns_session_rec rec;
	struct undo u;
	unsigned n_live;            /* the user's open sessions, this one not counted */
	void (*before_enter)(const struct ns_login *s, void *data);
	void *data;
};

static int same_netns_alive(const struct ns_session_rec *r, void *data)
{
	const struct ns_session_rec *dead = data;
	return r->netns_dev == dead->netns_dev && r->netns_ino == dead->netns_ino &&
	       strcmp(r->sid, dead->sid) != 0 && ns_session_owner_alive(r);
}

/* Last session of its namespace gone: stop what keeps the namespace alive
 * on our behalf (the DHCP client), so the kernel can free it. */
static void release_netns(const char *state_dir, const struct ns_session_rec *r)
{
	if (!ns_dhcp_running(state_dir, r->netns, r->netns_ino))
		return;
	if (ns_session_foreach_uid(state_dir, r->uid, same_netns_alive, (void *)r) != 1)
		ns_dhcp_stop(state_dir, r->netns, r->netns_dev, r->netns_ino);
}

/* Reap the user's records whose owner is gone; count the live ones. */
static int stale_of_user(const struct ns_session_rec *r, void *data)
{
	struct ctx *x = data;
	if (r->uid != x->w->uid)
		return 0;
	if (ns_session_owner_alive(r)) {
		x->n_live++;
		return 0;
	}
	ns_session_remove(x->g->state_dir, r->uid, r->sid);
	release_netns(x->g->state_dir, r);
	return 0;
}

struct live_find {
	uid_t uid;
	const char *netns;          /* NULL: any session */
	struct ns_session_rec *out;
};

static int live_match(const struct ns_session_rec *r, void *data)
{
	struct live_find *f = data;
	if (r->uid != f->uid || (f->netns && strcmp(r->netns, f->netns) != 0) || !ns_session_owner_alive(r))
		return 0;
	if (f->out)
		*f->out = *r;
	return 1;
}

static bool uid_busy(uid_t uid, void *data)
{
	const char *state_dir = data;
	struct live_find f = { uid, NULL, NULL };
	return ns_session_foreach_uid(state_dir, uid, live_match, &f) == 1;
}

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;   /* no IPv6 in this kernel */
	int r = ns_write_all(fd, value, strlen(value));
	close(fd);
	return r;
}

/* IPv6 inside a new namespace, set before eth0 appears: off unless pool6
 * is set (each new interface would otherwise send DAD/RS/MLD to the whole
 * bridge); with pool6 on, no DAD, no router solicitations, and router
 * advertisements ignored (addresses and routes come from pam_ns only). */
static int ipv6_policy_here(bool on)
{
	static const char *const off[][2] = {
		{ "/proc/sys/net/ipv6/conf/all/disable_ipv6", "1" },
		{ "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1" },
	};
	static const char *const quiet[][2] = {
		{ "/proc/sys/net/ipv6/conf/default/accept_dad", "0" },
		{ "/proc/sys/net/ipv6/conf/default/dad_transmits", "0" },
		{ "/proc/sys/net/ipv6/conf/default/router_solicitations", "0" },
		{ "/proc/sys/net/ipv6/conf/default/accept_ra", "0" },
		{ "/proc/sys/net/ipv6/conf/all/accept_ra", "0" },
	};
	const char *const(*t)[2] = on ? quiet : off;
	size_t n = on ? ARRAY_SIZE(quiet) : ARRAY_SIZE(off);
	for (size_t i = 0; i < n; i++) {
		int r = write_sysctl(t[i][0], t[i][1]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The IPv6 address of a user: pool6 plus the host part of its IPv4 lease
 * (unique and sticky like the lease), or of the uid when there is none. */
static int v6_for(const struct ns_globals *g, const struct ns_cidr *v4, uid_t uid, struct ns_cidr *ret,
		  struct ns_err *err)
{
	uint32_t host = v4 && v4->family == AF_INET
		? ntohl(v4->addr.v4.s_addr) & ~(~0u << (32 - g->pool.prefix))
		: (uint32_t)uid + 0x10000;
	unsigned bits = 128 - g->pool6.prefix;
	if (bits < 32 && (host >> bits) != 0)   /* would spill into the prefix: another user's address */
		return ns_fail(err, -ERANGE, "IPv6 address: host part %#x does not fit the %u host bits of pool6",
			       (unsigned)host, bits);
	*ret = g->pool6;
	for (int i = 0; i < 4; i++)
		ret->addr.v6.s6_addr[15 - i] |= (uint8_t)(host >> (8 * i));
	ret->prefix = g->pool6.prefix;
	return 0;
}

/* Make a fresh network namespace without leaving the caller in it:
 * unshare, keep an fd, step back. Inner setup later goes through a netlink
 * socket opened while inside (sockets stay bound to their namespace). */
static int new_netns(struct ctx *x, struct ns_err *err)
{
	int r;
	if (unshare(CLONE_NEWNET) < 0)
		return ns_fail(err, errno, "creating a network namespace: %s", strerror(errno));
	ns_fault("unshared");
	x->netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	r = x->netns_fd < 0 ? ns_fail(err, errno, "opening the new namespace: %s", strerror(errno)) : 0;
	if (r == 0 && (r = ipv6_policy_here(x->g->pool6.family != 0)) < 0)
		ns_fail(err, r, "setting IPv6 up in the new namespace: %s", strerror(-r));
	if (r == 0)
		r = ns_nl_open(&x->inner_nl, err);
	if (setns(x->orig_fd, CLONE_NEWNET) < 0)
		return ns_fail(err, errno, "returning to the caller's namespace: %s", strerror(errno));
	return r;
}

/* A login in progress holds its user's lock and has no record yet: count
 * it as alive, or a concurrent login could be given the same address. */
static bool login_in_progress(const char *state_dir, uid_t uid)
{
	char lockname[32];
	snprintf(lockname, sizeof(lockname), "user-%u", (unsigned)uid);
	return ns_lock_held(state_dir, lockname);
}

static bool sid_alive(uid_t uid, const char *sid, void *data)
{
	const struct ctx *x = data;
	struct ns_session_rec r;
	return (ns_session_read(x->g->state_dir, sid, &r) == 0 && ns_session_owner_alive(&r)) ||
	       login_in_progress(x->g->state_dir, uid);
}

struct addr_find {
	struct in_addr a;
};

static int addr_match(const struct ns_session_rec *r, void *data)
{
	const struct addr_find *f = data;
	struct ns_cidr c;
	if (!r->address[0] || ns_cidr_parse(r->address, false, &c) < 0 || c.family != AF_INET)
		return 0;
	return c.addr.v4.s_addr == f->a.s_addr && ns_session_owner_alive(r);
}

static bool own_addr_busy(struct in_addr a, void *data)
{
	const struct ctx *x = data;
	struct addr_find f = { a };
	return ns_session_foreach_uid(x->g->state_dir, x->w->uid, addr_match, &f) == 1;
}

static bool uid_busy_ctx(uid_t uid, void *data)
{
	const struct ctx *x = data;
	return uid_busy(uid, (void *)x->g->state_dir) || login_in_progress(x->g->state_dir, uid);
}

/* Work under the global "leases" lock runs in a short-lived child with
 * root's ids only and a session of its own: su keeps the caller's real uid,
 * so the user could SIGSTOP su while it holds the lock and freeze every
 * other user's login. The child cannot be signalled by the user nor by the
 * terminal; the caller only waits for its answer. */
struct lease_job {
	int rc;
	struct in_addr addr;
	bool had, tagged;
	bool has_victim;             /* another user's sticky lease this pick took over */
	struct ns_lease victim;
	char msg[sizeof(((struct ns_err *)0)->msg)];
};

/* The sticky lease of another user that is gone from L after a pick (the
 * pool was full, or a static address displaced it): a failed login gives
 * it back. */
static void find_victim(const struct ns_lease *before, size_t n0, const struct ns_leases *l, uid_t uid,
			struct lease_job *j)
{
	for (size_t i = 0; before && i < n0; i++) {
		if (before[i].uid == uid || before[i].sid[0])
			continue;
		bool kept = false;
		for (size_t k = 0; k < l->n && !kept; k++)
			kept = l->v[k].uid == before[i].uid && l->v[k].addr.s_addr == before[i].addr.s_addr &&
			       strcmp(l->v[k].user, before[i].user) == 0;
		if (!kept) {
			j->has_victim = true;
			j->victim = before[i];
			return;
		}
	}
}

static int lease_job_take(struct ctx *x, struct lease_job *j)
{
	struct ns_err err = { 0 };
	_cleanup_close_ int lock = ns_lock_take(x->g->state_dir, "leases", LOCK_TIMEOUT_MS, &err);
	struct ns_leases l = { 0 };
	int r = lock < 0 ? lock : ns_leases_read(x->g->lease_file, &l, &err);
	if (r == 0) {
		for (size_t i = 0; i < l.n; i++)
			j->had |= l.v[i].uid == x->w->uid && !l.v[i].sid[0] && strcmp(l.v[i].user, x->w->user) == 0;
		struct ns_lease_ops ops = { uid_busy_ctx, sid_alive, own_addr_busy, x };
		const char *sid = x->p.netns == NS_NETNS_SESSION ? x->rec.sid : NULL;
		/* Unchanged (a returning user): no rewrite of the file. */
		size_t n0 = l.n;
		_cleanup_free_ struct ns_lease *before = n0 ? malloc(n0 * sizeof(*before)) : NULL;
		if (before)
			memcpy(before, l.v, n0 * sizeof(*before));
		r = ns_lease_pick(&l, x->g, x->w->uid, x->w->user, sid,
				  x->p.address == NS_ADDR_STATIC ? &x->p.static_addr : NULL, &ops,
				  (long long)time(NULL), &j->addr, &j->tagged, &err);
		bool same = before && l.n == n0 && memcmp(before, l.v, n0 * sizeof(*before)) == 0;
		if (r == 0 && !same)
			find_victim(before, n0, &l, x->w->uid, j);
		if (r == 0 && !same)
			r = ns_leases_write(x->g->lease_file, &l, &err);
	}
	ns_leases_free(&l);
	memcpy(j->msg, err.msg, sizeof(j->msg));
	return r;
}

struct drop_args {
	const char *state_dir, *lease_file, *sid;
	uid_t uid;
	const struct ns_lease *restore;   /* NULL, or a lease to give back */
};

/* Give back RESTORE unless its address or its user has another lease now. */
static int give_back(struct ns_leases *l, const struct ns_lease *restore)
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

static int lease_job_drop(struct drop_args *d, struct lease_job *j)
{
	struct ns_err e = { 0 };
	_cleanup_close_ int lock = ns_lock_take(d->state_dir, "leases", LOCK_TIMEOUT_MS, &e);
	struct ns_leases l;
	int r = lock < 0 ? lock : ns_leases_read(d->lease_file, &l, &e);
	if (r == 0) {
		ns_lease_drop(&l, d->uid, d->sid);
		if (d->restore)
			r = give_back(&l, d->restore);
		if (r == 0)
			r = ns_leases_write(d->lease_file, &l, &e);
		ns_leases_free(&l);
	}
	memcpy(j->msg, e.msg, sizeof(j->msg));
	return r;
}

static int run_detached(int (*fn)(void *arg, struct lease_job *j), void *arg, struct lease_job *j)
{
	int p[2];
	memset(j, 0, sizeof(*j));
	/* A caller whose real uid is root (sshd, login, su started by root)
	 * cannot be signalled by the user: no need for the child. */
	uid_t ru, eu, su;
	if (getresuid(&ru, &eu, &su) == 0 && ru == 0 && eu == 0 && su == 0)
		return j->rc = fn(arg, j);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		close(p[0]);
		setsid();
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			j->rc = -EPERM;
		else
			j->rc = fn(arg, j);
		ns_write_all(p[1], j, sizeof(*j));
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	while (got < sizeof(*j)) {
		ssize_t n = read(p[0], (char *)j + got, sizeof(*j) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(*j)) {
		memset(j, 0, sizeof(*j));
		snprintf(j->msg, sizeof(j->msg), "lease worker died");
		return j->rc = -EIO;
	}
	return j->rc;
}

static int take_job(void *arg, struct lease_job *j) { return lease_job_take(arg, j); }
static int drop_job(void *arg, struct lease_job *j) { return lease_job_drop(arg, j); }

static int take_lease(struct ctx *x, struct in_addr *ret, struct ns_err *err)
{
	struct lease_job j;
	int r = run_detached(take_job, x, &j);
	if (r < 0)
		return ns_fail(err, r, "%s", j.msg[0] ? j.msg : strerror(-r));
	*ret = j.addr;
	x->u.lease = !j.had || j.tagged;
	x->u.lease_tag = j.tagged;
	x->u.victim = j.has_victim;
	x->u.victim_lease = j.victim;
	return 0;
}

/* Drop the lease of UID tagged SID (NULL: the sticky one), giving RESTORE
 * (when not NULL) back to its user. */
static void drop_lease(const char *state_dir, const char *lease_file, uid_t uid, const char *sid,
		       const struct ns_lease *restore)
{
	struct drop_args d = { state_dir, lease_file, sid, uid, restore };
	struct lease_job j;
	run_detached(drop_job, &d, &j);
}

static int plug_bridge(struct ctx *x, struct ns_err *err)
{
	const struct ns_globals *g = x->g;
	struct in_addr a = { 0 };
	uint8_t mid[16];
	char alias[96];
	int r;

	if ((r = ns_nl_open(&x->host_nl, err)) < 0)
		return r;
	uint8_t brmac[6];
	ns_machine_id(mid);
	ns_mac_for_uid(mid, (uid_t)-1, g->bridge, 2, brmac);
	if ((r = ns_nl_bridge_ensure(x->host_nl, g->bridge, g->create_bridge, &g->bridge_address, brmac,
				     err, &x->u.bridge)) < 0)
		return r;
	if (x->u.bridge && g->gateway6.family) {   /* a bridge we made gets the IPv6 gateway too */
		struct ns_cidr gw6 = g->gateway6;
		gw6.prefix = g->pool6.prefix;
		if ((r = ns_nl_add_address(x->host_nl, g->bridge, &gw6, err)) < 0)
			return r;
	}
	snprintf(x->u.bridge_name, sizeof(x->u.bridge_name), "%s", g->bridge);
	ns_fault("bridge");
	bool dhcp = x->p.address == NS_ADDR_DHCP;
	struct ns_cidr addr = { 0 };
	if (!dhcp) {
		if ((r = take_lease(x, &a, err)) < 0)
			return r;
		ns_fault("lease");
		addr = (struct ns_cidr){ .family = AF_INET, .addr.v4 = a, .prefix = g->pool.prefix };
		ns_cidr_format(&addr, true, x->rec.address, sizeof(x->rec.address));
	}
	ns_veth_name(x->w->uid, x->p.netns == NS_NETNS_SESSION ? x->rec.sid : NULL, x->rec.veth);
	snprintf(alias, sizeof(alias), "ns-shell user=%s uid=%u", x->w->user, (unsigned)x->w->uid);
	struct ns_veth_spec spec = {
		.host_name = x->rec.veth, .alias = alias, .bridge = g->bridge, .netns_fd = x->netns_fd,
		.mtu = g->mtu, .isolated = g->isolate_ports,
	};
	const char *msid = x->p.netns == NS_NETNS_SESSION ? x->rec.sid : NULL;
	ns_mac_for_uid(mid, x->w->uid, msid, 0, spec.host_mac);
	ns_mac_for_uid(mid, x->w->uid, msid, 1, spec.peer_mac);

	r = ns_nl_veth_create(x->host_nl, &spec, err);
	if (r == -EEXIST) {
		/* A veth of ours with no live session (we hold the user's lock and
		 * found none): the old namespace is still being destroyed. */
		char old[96] = "";
		int st = ns_nl_link_alias(x->host_nl, x->rec.veth, old, sizeof(old));
		if (st == 0 && strncmp(old, "ns-shell ", 9) == 0)
			st = ns_nl_link_delete(x->host_nl, x->rec.veth, err);
		else if (st == 0)
			st = -EEXIST;
		/* -ENODEV: the kernel finished destroying it meanwhile. */
		if (st >= 0 || st == -ENODEV)
			r = ns_nl_veth_create(x->host_nl, &spec, err);
		else if (st == -EEXIST)
			r = ns_fail(err, -EEXIST, "veth %s exists and is not one of ours", x->rec.veth);
		else
			r = ns_fail(err, st, "veth %s: cannot remove the stale one: %s", x->rec.veth,
				    strerror(-st));
	}
	if (r < 0)
		return r;
	x->u.veth = true;
	snprintf(x->u.veth_name, sizeof(x->u.veth_name), "%s", x->rec.veth);
	ns_fault("veth");
	r = ns_nl_inner_setup(x->inner_nl, dhcp ? NULL : &addr, dhcp ? NULL : &g->gateway, err);
	if (r == 0 && g->pool6.family) {
		struct ns_cidr a6;
		r = v6_for(g, dhcp ? NULL : &addr, x->w->uid, &a6, err);
		if (r == 0)
			r = ns_nl_inner_setup(x->inner_nl, &a6, &g->gateway6, err);
	}
	if (r == 0 && dhcp) {
		/* The client configures eth0 through our script; it runs on. */
		r = ns_dhcp_start(g, x->rec.netns, x->netns_fd, err);
		x->u.dhcp = r == 0;
		if (r == 0 && ns_nl_eth0_addr(x->inner_nl, &addr) == 0)
			ns_cidr_format(&addr, true, x->rec.address, sizeof(x->rec.address));
	}
	/* Shaping both ways: the host side's egress is the user's download,
	 * eth0's egress inside is the upload. Set before the user gets in. */
	if (r == 0 && x->p.rate_bps)
		r = ns_nl_shape(x->host_nl, x->rec.veth, x->p.rate_bps, x->p.burst_bytes, err);
	if (r == 0 && x->p.rate_bps)
		r = ns_nl_shape(x->inner_nl, "eth0", x->p.rate_bps, x->p.burst_bytes, err);
	ns_fault("inner");
	return r;
}

static void undo(struct ctx *x)
{
	struct ns_err e;
	if (x->u.moved)
		setns(x->orig_fd, CLONE_NEWNET);
	if (x->u.record)
		ns_session_remove(x->g->state_dir, x->rec.uid, x->rec.sid);
	if (x->u.dhcp && x->netns_fd >= 0) {
		struct stat st;
		if (fstat(x->netns_fd, &st) == 0)
			ns_dhcp_stop(x->g->state_dir, x->rec.netns, st.st_dev, st.st_ino);
	}
	if (x->u.veth && x->host_nl)
		ns_nl_link_delete(x->host_nl, x->u.veth_name, &e);
	if (x->u.lease)
		drop_lease(x->g->state_dir, x->g->lease_file, x->w->uid, x->u.lease_tag ? x->rec.sid : NULL,
			   x->u.victim ? &x->u.victim_lease : NULL);
	if (x->u.bridge && x->host_nl)
		ns_nl_link_delete(x->host_nl, x->u.bridge_name, &e);
}

static int fresh_sid(const char *state_dir, char sid[NS_SID_LEN + 1])
{
	for (int i = 0; i < 16; i++) {
		struct ns_session_rec r;
		if (ns_sid_random(sid) < 0)
			return -EIO;
		if (ns_session_read(state_dir, sid, &r) == -ENOENT)
			return 0;
	}
	return -EEXIST;
}

static int open_locked(struct ctx *x, struct ns_err *err)
{
	const struct ns_globals *g = x->g;
	const struct ns_login_who *w = x->w;
	int r;

	ns_fault("locked");
	ns_session_foreach_uid(g->state_dir, w->uid, stale_of_user, x);
	if (x->n_live >= x->p.max_sessions)
		return ns_fail(err, -EUSERS, "%s has %u open sessions (max_sessions = %u)", w->user, x->n_live,
			       x->p.max_sessions);
	if ((r = fresh_sid(g->state_dir, x->rec.sid)) < 0)
		return ns_fail(err, r, "cannot pick a session id");
	ns_netns_name(w->user, x->p.netns == NS_NETNS_SESSION ? x->rec.sid : NULL, x->rec.netns,
		      sizeof(x->rec.netns));

	if (x->p.netns == NS_NETNS_USER) {
		struct ns_session_rec live;
		struct live_find f = { w->uid, x->rec.netns, &live };
		if (ns_session_foreach_uid(g->state_dir, w->uid, live_match, &f) == 1 &&
		    (x->netns_fd = ns_session_open_netns(&live)) >= 0) {
			memcpy(x->rec.veth, live.veth, sizeof(live.veth));
			memcpy(x->rec.address, live.address, sizeof(live.address));
		}
	}
	if (x->netns_fd < 0) {
		if ((r = new_netns(x, err)) < 0)
			return r;
		if (x->p.network == NS_NET_BRIDGE)
			r = plug_bridge(x, err);
		else
			r = ns_nl_lo_up(x->inner_nl, err);
		if (r == 0 && x->p.n_deny)
			r = ns_nl_deny(x->inner_nl, x->p.deny, x->p.n_deny, err);
		if (r == 0)
			r = ns_netns_resolv_write(g->state_dir, x->rec.netns, x->p.dns, x->p.n_dns, err);
		if (r < 0)
			return r;
	}

	struct stat st;
	unsigned long long start;
	if (fstat(x->netns_fd, &st) < 0 || ns_proc_start_time(getpid(), &start) < 0)
		return ns_fail(err, -EIO, "cannot identify the namespace or this process");
	ns_strlcpy(x->rec.user, w->user, sizeof(x->rec.user));
	x->rec.uid = w->uid;
	x->rec.netns_dev = st.st_dev;
	x->rec.netns_ino = st.st_ino;
	x->rec.owner_pid = getpid();
	x->rec.owner_start = start;
	x->rec.owner_pidns = ns_pidns_self();
	x->rec.opened = (long long)time(NULL);

	/* The login's terminal filter on the session process itself, so every
	 * child inherits it whatever the user's shell (chsh) may be. */
	if ((r = ns_seccomp_no_tiocsti(err)) < 0)
		return r;
	if (x->before_enter) {
		struct ns_login view = { .orig_netns_fd = -1, .uid = w->uid };
		memcpy(view.sid, x->rec.sid, sizeof(view.sid));
		memcpy(view.netns, x->rec.netns, sizeof(view.netns));
		x->before_enter(&view, x->data);
	}
	/* Move first, then publish: a record always names a namespace its
	 * owner is in (other logins check exactly that). */
	if (setns(x->netns_fd, CLONE_NEWNET) < 0)
		return ns_fail(err, errno, "entering the namespace: %s", strerror(errno));
	x->u.moved = true;
	ns_fault("moved");
	if ((r = ns_session_write(g->state_dir, &x->rec, err)) < 0)
		return r;
	x->u.record = true;
	ns_fault("record");
	return 0;
}

/* The caller's limits are the user's (su): a tiny RLIMIT_FSIZE would make
 * a privileged write fail half-way (or SIGXFSZ kill us between two steps). */
static void lift_fsize(struct rlimit *saved)
{
	struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };
	if (getrlimit(RLIMIT_FSIZE, saved) < 0)
		saved->rlim_cur = saved->rlim_max = RLIM_INFINITY;
	setrlimit(RLIMIT_FSIZE, &inf);
}

static int login_open(const struct ns_config *c, const struct ns_login_who *w,
		      void (*before_enter)(const struct ns_login *s, void *data), void *data,
		      struct ns_login *ret, const char **why, struct ns_err *err);

int ns_login_open(const struct ns_config *c, const struct ns_login_who *w,
		  void (*before_enter)(const struct ns_login *s, void *data), void *data,
		  struct ns_login *ret, const char **why, struct ns_err *err)
{
	struct rlimit saved;
	lift_fsize(&saved);
	int r = login_open(c, w, before_enter, data, ret, why, err);
	setrlimit(RLIMIT_FSIZE, &saved);
	return r;
}

static int login_open(const struct ns_config *c, const struct ns_login_who *w,
		  void (*before_enter)(const struct ns_login *s, void *data), void *data,
		  struct ns_login *ret, const char **why, struct ns_err *err)
{
	struct ctx x = { .c = c, .g = ns_config_globals(c), .w = w, .orig_fd = -1, .netns_fd = -1,
			 .before_enter = before_enter, .data = data };
	char lockname[32];
	int r;

	*why = NULL;
	if (!ns_user_name_valid(w->user))
		return ns_fail(err, -EINVAL, "user name is not acceptable for a namespace");
	if (ns_config_exempt(c, w->user, w->uid, w->groups, w->n_groups)) {
		*why = "exempt";
		return NS_LOGIN_IGNORED;
	}
	ns_policy_resolve(c, w->user, w->groups, w->n_groups, &x.p);
	if (x.p.network == NS_NET_HOST || !(x.p.clone_flags & CLONE_NEWNET)) {
		*why = "network = host";
		return NS_LOGIN_IGNORED;
	}
	/* With chsh a user could leave ns-shell and keep only the network
	 * namespace; an admin who wants all of it names the shell. */
	if (w->required_shell && (!w->shell || strcmp(w->shell, w->required_shell) != 0))
		return ns_fail(err, -EPERM, "login shell of %s is %s, not %s (shell= of pam_ns)", w->user,
			       w->shell ? w->shell : "(none)", w->required_shell);
	/* -1 and its 16-bit form mean "no change" to set*id(): never a user. */
	if (w->uid == (uid_t)-1 || w->uid == (uid_t)(uint16_t)-1)
		return ns_fail(err, -EINVAL, "uid %u of %s is not a usable uid", (unsigned)w->uid, w->user);
	if ((r = ns_host_check(x.g->state_dir, err)) < 0 || (r = ns_state_prepare(x.g->state_dir, err)) < 0)
		return r;
	snprintf(lockname, sizeof(lockname), "user-%u", (unsigned)w->uid);
	_cleanup_close_ int lock = ns_lock_take(x.g->state_dir, lockname, LOCK_TIMEOUT_MS, err);
	if (lock < 0)
		return lock;
	x.orig_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (x.orig_fd < 0)
		return ns_fail(err, errno, "opening the caller's namespace: %s", strerror(errno));

	r = open_locked(&x, err);
	if (r < 0) {
		undo(&x);
		close(x.orig_fd);
	} else {
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->sid, x.rec.sid, sizeof(ret->sid));
		memcpy(ret->netns, x.rec.netns, sizeof(ret->netns));
		ns_strlcpy(ret->state_dir, x.g->state_dir, sizeof(ret->state_dir));
		ret->uid = w->uid;
		ret->orig_netns_fd = x.orig_fd;
		ret->tagged_lease = x.u.lease_tag;
		ns_strlcpy(ret->lease_file, x.g->lease_file, sizeof(ret->lease_file));
	}
	if (x.netns_fd >= 0)
		close(x.netns_fd);
	ns_nl_close(x.host_nl);
	ns_nl_close(x.inner_nl);
	return r;
}

int ns_login_close(struct ns_login *s, struct ns_err *err)
{
	char lockname[32];
	int r = 0;
	snprintf(lockname, sizeof(lockname), "user-%u", (unsigned)s->uid);
	int lock = ns_lock_take(s->state_dir, lockname, LOCK_TIMEOUT_MS, NULL);
	struct ns_session_rec rec;
	bool have = ns_session_read(s->state_dir, s->sid, &rec) == 0;
	ns_session_remove(s->state_dir, s->uid, s->sid);
	if (have)
		release_netns(s->state_dir, &rec);
	if (s->tagged_lease)   /* the extra address of a concurrent per-session login */
		drop_lease(s->state_dir, s->lease_file, s->uid, s->sid, NULL);
	if (s->orig_netns_fd >= 0 && setns(s->orig_netns_fd, CLONE_NEWNET) < 0)
		r = ns_fail(err, errno, "returning to the original network namespace: %s", strerror(errno));
	if (lock >= 0)
		close(lock);
	ns_login_forget(s);
	return r;
}

void ns_login_forget(struct ns_login *s)
{
	if (s->orig_netns_fd >= 0)
		close(s->orig_netns_fd);
	s->orig_netns_fd = -1;
}
