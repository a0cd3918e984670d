/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include <time.h>

#include "ns_dhcp.h"
#include "ns_leasework.h"
#include "ns_login.h"
#include "ns_netlink.h"
#include "ns_nft.h"
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
	bool bridge;           /* made the bridge: it gets gateway6 (never removed) */
	bool neigh;            /* bridge: the host's permanent neighbour entry for the address */
	struct ns_cidr neigh_addr;
	bool dhcp;             /* a DHCP client runs in the new namespace */
	bool victim;           /* the lease taken over from another user, to give back */
	struct ns_lease victim_lease;
	char veth_name[16];
};

struct login_ctx {
	const struct ns_config *config;
	const struct ns_globals *globals;
	const struct ns_login_who *who;
	struct ns_policy policy;
	int orig_fd, netns_fd;
	struct ns_nl *host_nl, *inner_nl;
	int host_ifindex;           /* the veth's host side */
	uint8_t host_mac[6], peer_mac[6];
	uint8_t machine_id[16];     /* read once per login (plug) */
	struct ns_session_rec rec;
	struct undo undo;
	size_t n_live;              /* the user's live records (sessions and reapers) */
	struct ns_session_rec live[64];   /* the first of them */
	void (*before_enter)(const struct ns_login *s, void *data);
	void *data;
};

static int same_netns_alive(const struct ns_session_rec *r, void *data)
{
	const struct ns_session_rec *dead = data;
	return r->netns_dev == dead->netns_dev && r->netns_ino == dead->netns_ino &&
	       strcmp(r->sid, dead->sid) != 0 && ns_session_owner_alive(r);
}

bool ns_login_release_netns(const char *state_dir, const struct ns_session_rec *r, bool dry)
{
	if (!ns_dhcp_running(state_dir, r->netns, r->netns_ino) ||
	    ns_session_foreach_uid(state_dir, r->uid, same_netns_alive, (void *)r) == 1)
		return false;
	if (!dry)
		ns_dhcp_stop(state_dir, r->netns, r->netns_dev, r->netns_ino);
	return true;
}

struct reaper_find {
	const char *state_dir, *sid;
	bool live, dry;
};

/* The reapers' records of session SID: note a live one, remove the ones
 * whose login has ended (nothing of it runs any more; not with DRY). */
static int reapers_of(const struct ns_session_rec *r, void *data)
{
	struct reaper_find *f = data;
	if (strcmp(r->session, f->sid) != 0)
		return 0;
	if (ns_session_owner_alive(r))
		f->live = true;
	else if (!f->dry)
		ns_session_remove(f->state_dir, r->uid, r->sid);
	return 0;
}

/* Before the address of a closed per-session login goes back to the pool:
 * whatever still runs in its namespace (a process of a login without
 * ns-shell, e.g. a cron job's, that outlived it) must not keep using it.
 * The host side of its veth (ours: its alias says so) goes down: the
 * namespace keeps no way out, and nothing in it can bring the link up
 * again (it is in the host's namespace). 1 when the link is down now (with
 * DRY: would be), 0 when it is gone already; < 0: the address is kept
 * (nsctl gc, or a pick that finds the pool full, frees it once the
 * namespace is gone). Called in the host's network namespace. */
static int cut_leftover(uid_t uid, const char *sid, bool dry)
{
	char name[16], alias[NS_VETH_ALIAS_MAX] = "";
	struct ns_nl *nl = NULL;
	struct ns_err e;
	if (ns_veth_name(uid, sid, name) < 0 || ns_nl_open(&nl, &e) < 0)
		return -EIO;
	int r = ns_nl_link_alias(nl, name, alias, sizeof(alias));
	if (r == 0 && !ns_veth_alias_ours(alias))
		r = -EPERM;
	if (r == 0 && !dry)
		r = ns_nl_link_down(nl, name);
	ns_nl_close(nl);
	if (r == -ENODEV)
		return 0;
	return r < 0 ? r : 1;
}

bool ns_login_cut_stale(const struct ns_globals *g, const struct ns_session_rec *r, bool dry)
{
	char name[16];
	if (ns_session_is_shell(r) || ns_veth_name(r->uid, r->sid, name) < 0 || strcmp(name, r->veth) != 0)
		return false;   /* not a per-session namespace's PAM session */
	struct reaper_find rf = { g->state_dir, r->sid, false, dry };
	ns_session_foreach_uid(g->state_dir, r->uid, reapers_of, &rf);
	int cut = rf.live ? -EBUSY : cut_leftover(r->uid, r->sid, dry);
	if (cut >= 0 && !dry)
		ns_lease_give_back(g->state_dir, g->lease_file, r->uid, r->sid, NULL);
	return cut == 1;
}

/* Reap the user's records whose owner is gone; remember the live ones. */
static int stale_of_user(const struct ns_session_rec *r, void *data)
{
	struct login_ctx *ctx = data;
	if (r->uid != ctx->who->uid)
		return 0;
	if (ns_session_owner_alive(r)) {
		if (ctx->n_live < ARRAY_SIZE(ctx->live))
			ctx->live[ctx->n_live] = *r;
		ctx->n_live++;
		return 0;
	}
	ns_session_remove(ctx->globals->state_dir, r->uid, r->sid);
	ns_login_release_netns(ctx->globals->state_dir, r, false);
	ns_login_cut_stale(ctx->globals, r, false);
	return 0;
}

/* What max_sessions counts: open PAM sessions, plus logins whose session
 * closed but whose processes still run (a reaper's record whose session
 * record is gone): each holds a namespace, and with netns = "session" a
 * veth and an address. */
static unsigned count_sessions(const struct login_ctx *ctx)
{
	size_t n = ctx->n_live < ARRAY_SIZE(ctx->live) ? ctx->n_live : ARRAY_SIZE(ctx->live);
	unsigned count = ctx->n_live > n ? (unsigned)(ctx->n_live - n) : 0;
	for (size_t i = 0; i < n; i++) {
		bool counted = false;
		const struct ns_session_rec *r = &ctx->live[i];
		for (size_t k = 0; k < n && ns_session_is_shell(r) && !counted; k++)
			counted = !ns_session_is_shell(&ctx->live[k]) && strcmp(ctx->live[k].sid, r->session) == 0;
		for (size_t k = 0; k < i && ns_session_is_shell(r) && !counted; k++)
			counted = ns_session_is_shell(&ctx->live[k]) && strcmp(ctx->live[k].session, r->session) == 0;
		count += !counted;
	}
	return count;
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
	/* Off for every interface made from now on (eth0): no DAD, RS or MLD
	 * flooding the bridge. lo keeps ::1 (sshd binds X11 displays there). */
	static const char *const off[][2] = {
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
 * (unique and sticky like the lease), or of the uid + 0x10000 when there is
 * none (DHCP): above every pool host part, so a uid that would wrap past
 * 2^32 (and land on a pool user's or gateway6's host part) is refused. */
static int v6_for(const struct ns_globals *g, const struct ns_cidr *v4, uid_t uid, struct ns_cidr *ret,
		  struct ns_err *err)
{
	bool pooled = v4 && v4->family == AF_INET;
	if (!pooled && (uint64_t)uid + 0x10000 > UINT32_MAX)
		return ns_fail(err, -ERANGE, "IPv6 address: uid %u + 0x10000 (the host part of a DHCP user's "
			       "pool6 address) does not fit 32 bits", (unsigned)uid);
	uint32_t host = pooled ? ntohl(v4->addr.v4.s_addr) & ~(~0u << (32 - g->pool.prefix))
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
static int new_netns(struct login_ctx *ctx, struct ns_err *err)
{
	int r;
	if (unshare(CLONE_NEWNET) < 0)
		return ns_fail(err, errno, "creating a network namespace: %s", strerror(errno));
	ns_fault("unshared");
	ctx->netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	r = ctx->netns_fd < 0 ? ns_fail(err, errno, "opening the new namespace: %s", strerror(errno)) : 0;
	if (r == 0 && (r = ipv6_policy_here(ctx->globals->pool6.family != 0)) < 0)
		ns_fail(err, r, "setting IPv6 up in the new namespace: %s", strerror(-r));
	ns_trace("ipv6 sysctls");
	if (r == 0)
		r = ns_nl_open(&ctx->inner_nl, err);
	ns_trace("inner netlink socket");
	if (r == 0)     /* anti-spoofing and DHCP guard, while still inside (ns_nft.h) */
		r = ns_nft_guard_here(err);
	ns_trace("nft guard");
	if (setns(ctx->orig_fd, CLONE_NEWNET) < 0)
		return ns_fail(err, errno, "returning to the caller's namespace: %s", strerror(errno));
	ns_trace("setns back");
	return r;
}

static int take_lease(struct login_ctx *ctx, struct in_addr *ret, struct ns_err *err)
{
	struct ns_lease_req req = {
		.globals = ctx->globals, .uid = ctx->who->uid, .user = ctx->who->user,
		.sid = ctx->policy.netns == NS_NETNS_SESSION ? ctx->rec.sid : NULL,
		.static_addr = ctx->policy.address == NS_ADDR_STATIC ? &ctx->policy.static_addr : NULL,
	};
	struct ns_lease_got got;
	int r = ns_lease_take(&req, &got, err);
	if (r < 0)
		return r;
	*ret = got.addr;
	ctx->undo.lease = got.fresh;
	ctx->undo.lease_tag = got.tagged;
	ctx->undo.victim = got.has_victim;
	ctx->undo.victim_lease = got.victim;
	return 0;
}

/* Bridge step: the bridge exists and is up (made, with its addresses, when
 * missing and create_bridge). */
static int ensure_bridge(struct login_ctx *ctx, struct ns_err *err)
{
	const struct ns_globals *g = ctx->globals;
	uint8_t brmac[6];
	int r;
	ns_mac_for_uid(ctx->machine_id, (uid_t)-1, g->bridge, 2, brmac);
	if ((r = ns_nl_bridge_ensure(ctx->host_nl, g->bridge, g->create_bridge, &g->bridge_address, brmac,
				     err, &ctx->undo.bridge)) < 0)
		return r;
	if (ctx->undo.bridge && g->gateway6.family) {   /* a bridge we made gets the IPv6 gateway too */
		struct ns_cidr gw6 = g->gateway6;
		gw6.prefix = g->pool6.prefix;
		if ((r = ns_nl_add_address(ctx->host_nl, g->bridge, &gw6, err)) < 0)
			return r;
	}
	ns_fault("bridge");
	return 0;
}

/* Address step (not for DHCP): the lease, as a CIDR and in the record. */
static int take_address(struct login_ctx *ctx, struct ns_cidr *ret, struct ns_err *err)
{
	struct in_addr a = { 0 };
	int r = take_lease(ctx, &a, err);
	if (r < 0)
		return r;
	ns_fault("lease");
	*ret = (struct ns_cidr){ .family = AF_INET, .addr.v4 = a, .prefix = ctx->globals->pool.prefix };
	ns_cidr_format(ret, true, ctx->rec.address, sizeof(ctx->rec.address));
	return 0;
}

/* A veth of ours with no live session (we hold the user's lock and found
 * none): the old namespace is still being destroyed. Remove it, then
 * create ours again. */
static int replace_stale_veth(struct login_ctx *ctx, const struct ns_veth_spec *spec, struct ns_err *err)
{
	char old[NS_VETH_ALIAS_MAX] = "";
	int st = ns_nl_link_alias(ctx->host_nl, ctx->rec.veth, old, sizeof(old));
	if (st == 0 && ns_veth_alias_ours(old))
		st = ns_nl_link_delete(ctx->host_nl, ctx->rec.veth, err);
	else if (st == 0)
		return ns_fail(err, -EEXIST, "veth %s exists and is not one of ours", ctx->rec.veth);
	/* -ENODEV: the kernel finished destroying it meanwhile. */
	if (st < 0 && st != -ENODEV)
		return ns_fail(err, st, "veth %s: cannot remove the stale one: %s", ctx->rec.veth, strerror(-st));
	return ns_nl_veth_create(ctx->host_nl, spec, &ctx->host_ifindex, err);
}

/* Veth step: the pair, its peer created inside as eth0, on the bridge. */
static int make_veth(struct login_ctx *ctx, struct ns_err *err)
{
	char alias[NS_VETH_ALIAS_MAX];
	const char *msid = ctx->policy.netns == NS_NETNS_SESSION ? ctx->rec.sid : NULL;
	ns_veth_name(ctx->who->uid, msid, ctx->rec.veth);
	if (ns_veth_alias(ctx->who->user, ctx->who->uid, alias, sizeof(alias)) < 0)
		return ns_fail(err, -ENAMETOOLONG, "user name %s is too long for the veth's alias", ctx->who->user);
	bool routed = ctx->policy.network == NS_NET_ROUTED;
	struct ns_veth_spec spec = {
		.host_name = ctx->rec.veth, .alias = alias, .bridge = routed ? NULL : ctx->globals->bridge,
		.netns_fd = ctx->netns_fd, .mtu = ctx->globals->mtu, .isolated = !routed && ctx->globals->isolate_ports,
	};
	ns_mac_for_uid(ctx->machine_id, ctx->who->uid, msid, 0, spec.host_mac);
	ns_mac_for_uid(ctx->machine_id, ctx->who->uid, msid, 1, spec.peer_mac);
	memcpy(ctx->host_mac, spec.host_mac, 6);
	memcpy(ctx->peer_mac, spec.peer_mac, 6);
	int r = ns_nl_veth_create(ctx->host_nl, &spec, &ctx->host_ifindex, err);
	if (r == -EEXIST)
		r = replace_stale_veth(ctx, &spec, err);
	if (r < 0)
		return r;
	ctx->undo.veth = true;
	snprintf(ctx->undo.veth_name, sizeof(ctx->undo.veth_name), "%s", ctx->rec.veth);
	ns_fault("veth");
	return 0;
}

/* Inside step: eth0 up with ADDR (family 0: DHCP), the default routes,
 * IPv6 from pool6, or the DHCP client that configures eth0 itself. */
static int setup_inside(struct login_ctx *ctx, struct ns_cidr *addr, struct ns_err *err)
{
	const struct ns_globals *g = ctx->globals;
	bool dhcp = addr->family == 0;
	int r = ns_nl_inner_setup(ctx->inner_nl, dhcp ? NULL : addr, dhcp ? NULL : &g->gateway, err);
	if (r == 0 && g->pool6.family) {
		struct ns_cidr a6;
		r = v6_for(g, dhcp ? NULL : addr, ctx->who->uid, &a6, err);
		if (r == 0)
			r = ns_nl_inner_setup(ctx->inner_nl, &a6, &g->gateway6, err);
	}
	if (r == 0 && dhcp) {
		/* The client configures eth0 through our script; it runs on. */
		r = ns_dhcp_start(g, ctx->rec.netns, ctx->netns_fd, err);
		ctx->undo.dhcp = r == 0;
		/* A lease our script refused (a bad value) leaves eth0 bare. */
		if (r == 0 && ns_nl_eth0_addr(ctx->inner_nl, addr) < 0)
			r = ns_fail(err, -EADDRNOTAVAIL, "DHCP: no usable lease on eth0 (see ns-shell-dhcp in the log)");
		if (r == 0)
			ns_cidr_format(addr, true, ctx->rec.address, sizeof(ctx->rec.address));
	}
	return r;
}

/* Shaping both ways: the host side's egress is the user's download, eth0's
 * egress inside is the upload. Set before the user gets in. */
static int shape(struct login_ctx *ctx, struct ns_err *err)
{
	if (!ctx->policy.rate_bps)
		return 0;
	int r = ns_nl_shape(ctx->host_nl, ctx->rec.veth, ctx->policy.rate_bps, ctx->policy.burst_bytes, err);
	return r < 0 ? r : ns_nl_shape(ctx->inner_nl, "eth0", ctx->policy.rate_bps, ctx->policy.burst_bytes, err);
}

/* Bridge step: the host knows the user's address is at eth0's MAC
 * (permanent: a thousand busy users cause no ARP churn on the host; a
 * stale entry is replaced by the address's next login, removed by gc). */
static int bridge_neigh(struct login_ctx *ctx, const struct ns_cidr *addr, struct ns_err *err)
{
	if (addr->family != AF_INET || ctx->policy.address == NS_ADDR_DHCP)
		return 0;
	int r = ns_nl_neigh_replace(ctx->host_nl, ctx->globals->bridge, addr, ctx->peer_mac, err);
	ctx->undo.neigh = r == 0;
	ctx->undo.neigh_addr = *addr;
	return r;
}

/* Routed step: the host's unreachable routes for pool and pool6 (made on
 * first use, kept like the bridge; the block a routing daemon announces). */
static int ensure_block_routes(struct login_ctx *ctx, struct ns_err *err)
{
	const struct ns_globals *g = ctx->globals;
	int r = ns_nl_unreachable_ensure(ctx->host_nl, &g->pool, err);
	if (r == 0 && g->pool6.family)
		r = ns_nl_unreachable_ensure(ctx->host_nl, &g->pool6, err);
	ns_fault("bridge");
	return r;
}

/* Routed, one family: ADDR as a host route on both sides, the link-local
 * next hop inside, permanent neighbour entries both ways. */
static int route_family(struct login_ctx *ctx, const struct ns_cidr *addr, struct ns_err *err)
{
	struct ns_cidr hop = { .family = addr->family, .prefix = addr->family == AF_INET ? 32 : 128 };
	if (addr->family == AF_INET)
		hop.addr.v4.s_addr = htonl(0xa9fe0101);   /* 169.254.1.1 */
	else
		hop.addr.v6.s6_addr[0] = 0xfe, hop.addr.v6.s6_addr[1] = 0x80, hop.addr.v6.s6_addr[15] = 1;
	int r = ns_nl_inner_routed(ctx->inner_nl, addr, &hop, ctx->host_mac, err);
	return r < 0 ? r : ns_nl_routed_host(ctx->host_nl, ctx->host_ifindex, addr, ctx->peer_mac, err);
}

/* Inside step, routed: both families; with isolate_ports the pools are
 * prohibited inside (tenants of this host cannot reach each other; the
 * own address stays local, the host and the outside stay reachable). */
static int setup_routed(struct login_ctx *ctx, const struct ns_cidr *addr, struct ns_err *err)
{
	const struct ns_globals *g = ctx->globals;
	struct ns_cidr a6, pools[2] = { g->pool, g->pool6 };
	int r = route_family(ctx, addr, err);
	if (r == 0 && g->pool6.family && (r = v6_for(g, addr, ctx->who->uid, &a6, err)) == 0)
		r = route_family(ctx, &a6, err);
	if (r == 0 && g->isolate_ports)
		r = ns_nl_deny(ctx->inner_nl, pools, g->pool6.family ? 2 : 1, err);
	return r;
}

/* The network of a bridge or routed namespace, step by step (each step
 * records what it made for undo). */
static int plug(struct login_ctx *ctx, struct ns_err *err)
{
	bool routed = ctx->policy.network == NS_NET_ROUTED;
	struct ns_cidr addr = { 0 };
	int r = ns_nl_open(&ctx->host_nl, err);
	ns_machine_id(ctx->machine_id);
	ns_trace("host netlink socket");
	if (r == 0)
		r = routed ? ensure_block_routes(ctx, err) : ensure_bridge(ctx, err);
	ns_trace(routed ? "block routes" : "bridge");
	if (r == 0 && ctx->policy.address != NS_ADDR_DHCP)   /* dhcp: never routed */
		r = take_address(ctx, &addr, err);
	if (r == 0)
		r = make_veth(ctx, err);
	if (r == 0)
		r = routed ? setup_routed(ctx, &addr, err) : setup_inside(ctx, &addr, err);
	ns_trace(routed ? "routes, neighbours, inside" : "inside (eth0, address, routes)");
	if (r == 0 && !routed)
		r = bridge_neigh(ctx, &addr, err);
	ns_trace("bridge neighbour");
	if (r == 0)
		r = shape(ctx, err);
	ns_fault("inner");
	return r;
}

static void undo(struct login_ctx *ctx)
{
	struct ns_err e;
	if (ctx->undo.moved)
		setns(ctx->orig_fd, CLONE_NEWNET);
	if (ctx->undo.record)
		ns_session_remove(ctx->globals->state_dir, ctx->rec.uid, ctx->rec.sid);
	if (ctx->undo.dhcp && ctx->netns_fd >= 0) {
		struct stat st;
		if (fstat(ctx->netns_fd, &st) == 0)
			ns_dhcp_stop(ctx->globals->state_dir, ctx->rec.netns, st.st_dev, st.st_ino);
	}
	if (ctx->undo.neigh && ctx->host_nl)
		ns_nl_neigh_delete(ctx->host_nl, ctx->globals->bridge, &ctx->undo.neigh_addr);
	if (ctx->undo.veth && ctx->host_nl)
		ns_nl_link_delete(ctx->host_nl, ctx->undo.veth_name, &e);
	if (ctx->undo.lease)
		ns_lease_give_back(ctx->globals->state_dir, ctx->globals->lease_file, ctx->who->uid, ctx->undo.lease_tag ? ctx->rec.sid : NULL,
				   ctx->undo.victim ? &ctx->undo.victim_lease : NULL);
	/* Never the bridge nor the pool's unreachable routes, even when this
	 * login made them: made under this user's lock only, they may carry
	 * other users' logins (ports, the block BIRD announces) already. */
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

/* Under the user's lock: reap the user's dead sessions, enforce
 * max_sessions, pick a session id and the namespace's logical name. */
static int claim_session(struct login_ctx *ctx, struct ns_err *err)
{
	int r;
	ns_fault("locked");
	ns_session_foreach_uid(ctx->globals->state_dir, ctx->who->uid, stale_of_user, ctx);
	/* One uid, one name at a time: another name's live namespace (an
	 * alias account, usermod -l) is neither joined nor replaced. */
	for (size_t i = 0; i < ctx->n_live && i < ARRAY_SIZE(ctx->live); i++)
		if (strcmp(ctx->live[i].user, ctx->who->user) != 0)
			return ns_fail(err, -EBUSY, "uid %u is logged in as %s: %s is refused until those logins end",
				       (unsigned)ctx->who->uid, ctx->live[i].user, ctx->who->user);
	unsigned open = count_sessions(ctx);
	if (open >= ctx->policy.max_sessions)
		return ns_fail(err, -EUSERS, "%s has %u open sessions (max_sessions = %u)", ctx->who->user, open,
			       ctx->policy.max_sessions);
	if ((r = fresh_sid(ctx->globals->state_dir, ctx->rec.sid)) < 0)
		return ns_fail(err, r, "cannot pick a session id");
	ns_netns_name(ctx->who->user, ctx->policy.netns == NS_NETNS_SESSION ? ctx->rec.sid : NULL, ctx->rec.netns,
		      sizeof(ctx->rec.netns));
	return 0;
}

/* netns = user: join the namespace of a live session of the user, reached
 * through its owner (pid, start time and inode checked). */
static void join_live(struct login_ctx *ctx)
{
	struct ns_session_rec live;
	struct live_find f = { ctx->who->uid, ctx->rec.netns, &live };
	bool found = false;
	if (ctx->policy.netns != NS_NETNS_USER)
		return;
	/* claim_session kept the live records (checked under this lock): a
	 * second scan only when there were more than it keeps. */
	for (size_t i = 0; i < ctx->n_live && i < ARRAY_SIZE(ctx->live) && !found; i++)
		found = live_match(&ctx->live[i], &f) == 1;
	if (!found && ctx->n_live > ARRAY_SIZE(ctx->live))
		found = ns_session_foreach_uid(ctx->globals->state_dir, ctx->who->uid, live_match, &f) == 1;
	if (!found || (ctx->netns_fd = ns_session_open_netns(&live)) < 0)
		return;
	memcpy(ctx->rec.veth, live.veth, sizeof(live.veth));
	memcpy(ctx->rec.address, live.address, sizeof(live.address));
}

/* A fresh namespace with its network as the policy says. */
static int build_netns(struct login_ctx *ctx, struct ns_err *err)
{
	int r = new_netns(ctx, err);
	if (r < 0)
		return r;
	if (ctx->policy.network == NS_NET_BRIDGE || ctx->policy.network == NS_NET_ROUTED)
		r = plug(ctx, err);
	else
		r = ns_nl_lo_up(ctx->inner_nl, err);
	if (r == 0 && ctx->policy.n_deny)
		r = ns_nl_deny(ctx->inner_nl, ctx->policy.deny, ctx->policy.n_deny, err);
	if (r == 0)
		r = ns_netns_resolv_write(ctx->globals->state_dir, ctx->rec.netns, ctx->policy.dns, ctx->policy.n_dns, err);
	ns_trace("deny, resolv.conf");
	return r;
}

/* The record's identity fields: the namespace, and this process as owner. */
static int fill_record(struct login_ctx *ctx, struct ns_err *err)
{
	struct stat st;
	unsigned long long start;
	if (fstat(ctx->netns_fd, &st) < 0 || ns_proc_start_time(getpid(), &start) < 0)
		return ns_fail(err, -EIO, "cannot identify the namespace or this process");
	ns_strlcpy(ctx->rec.user, ctx->who->user, sizeof(ctx->rec.user));
	ctx->rec.uid = ctx->who->uid;
	ctx->rec.netns_dev = st.st_dev;
	ctx->rec.netns_ino = st.st_ino;
	ctx->rec.owner_pid = getpid();
	ctx->rec.owner_start = start;
	ctx->rec.owner_pidns = ns_pidns_self();
	ctx->rec.opened = (long long)time(NULL);
	return 0;
}

/* Filter, log, move in, then publish: a record always names a namespace
 * its owner is in (other logins check exactly that). */
static int enter_and_publish(struct login_ctx *ctx, struct ns_err *err)
{
	/* The login's terminal filter on the session process itself, so every
	 * child inherits it whatever the user's shell (chsh) may be. */
	int r = ns_seccomp_no_tiocsti(err);
	if (r < 0)
		return r;
	ns_trace("seccomp");
	if (ctx->before_enter) {
		struct ns_login view = { .orig_netns_fd = -1, .uid = ctx->who->uid };
		memcpy(view.sid, ctx->rec.sid, sizeof(view.sid));
		memcpy(view.netns, ctx->rec.netns, sizeof(view.netns));
		ctx->before_enter(&view, ctx->data);
	}
	ns_trace("syslog line");
	if (setns(ctx->netns_fd, CLONE_NEWNET) < 0)
		return ns_fail(err, errno, "entering the namespace: %s", strerror(errno));
	ctx->undo.moved = true;
	ns_fault("moved");
	if ((r = ns_session_write(ctx->globals->state_dir, &ctx->rec, err)) < 0)
		return r;
	ctx->undo.record = true;
	ns_fault("record");
	return 0;
}

static int open_locked(struct login_ctx *ctx, struct ns_err *err)
{
	ns_trace("user lock");
	int r = claim_session(ctx, err);
	if (r < 0)
		return r;
	ns_trace("claim (own records)");
	join_live(ctx);
	ns_trace("join_live");
	if (ctx->netns_fd < 0 && (r = build_netns(ctx, err)) < 0)
		return r;
	if ((r = fill_record(ctx, err)) < 0)
		return r;
	ns_trace("fill_record");
	return enter_and_publish(ctx, err);
}

static int login_open(const struct ns_config *c, const struct ns_login_who *w,
		      void (*before_enter)(const struct ns_login *s, void *data), void *data,
		      struct ns_login *ret, const char **why, struct ns_err *err);

int ns_login_open(const struct ns_config *c, const struct ns_login_who *w,
		  void (*before_enter)(const struct ns_login *s, void *data), void *data,
		  struct ns_login *ret, const char **why, struct ns_err *err)
{
	/* The caller's limits are the user's (su): a tiny RLIMIT_FSIZE must
	 * not kill us between two steps. */
	struct ns_fsize_saved saved;
	ns_fsize_lift(&saved);
	int r = login_open(c, w, before_enter, data, ret, why, err);
	ns_fsize_restore(&saved);
	return r;
}

/* What close_session needs of an opened login (the caller's namespace fd
 * is handed over with it). */
static void hand_over(const struct login_ctx *ctx, struct ns_login *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->sid, ctx->rec.sid, sizeof(ret->sid));
	memcpy(ret->netns, ctx->rec.netns, sizeof(ret->netns));
	ns_strlcpy(ret->state_dir, ctx->globals->state_dir, sizeof(ret->state_dir));
	ret->uid = ctx->who->uid;
	ret->orig_netns_fd = ctx->orig_fd;
	ret->tagged_lease = ctx->undo.lease_tag;
	ns_strlcpy(ret->lease_file, ctx->globals->lease_file, sizeof(ret->lease_file));
}

static int login_open(const struct ns_config *c, const struct ns_login_who *w,
		  void (*before_enter)(const struct ns_login *s, void *data), void *data,
		  struct ns_login *ret, const char **why, struct ns_err *err)
{
	struct login_ctx ctx = { .config = c, .globals = ns_config_globals(c), .who = w, .orig_fd = -1, .netns_fd = -1,
			 .before_enter = before_enter, .data = data };
	char lockname[32];
	int r;

	*why = NULL;
	/* An exempt user's name names nothing: any name NSS gives is let through. */
	if (ns_config_exempt(c, w->user, w->uid, w->groups, w->n_groups)) {
		*why = "exempt";
		return NS_LOGIN_IGNORED;
	}
	if (!ns_user_name_valid(w->user))
		return ns_fail(err, -EINVAL, "user name of uid %u cannot name a namespace (%s)", (unsigned)w->uid,
			       NS_USER_NAME_RULE);
	ns_policy_resolve(c, w->user, w->groups, w->n_groups, &ctx.policy);
	if (ctx.policy.network == NS_NET_HOST || !(ctx.policy.clone_flags & CLONE_NEWNET)) {
		*why = "network = host";
		return NS_LOGIN_IGNORED;
	}
	if (ctx.policy.network == NS_NET_ROUTED && ctx.policy.address == NS_ADDR_DHCP)
		return ns_fail(err, -EINVAL, "%s: address = \"dhcp\" needs a bridge, not network = \"routed\"",
			       w->user);
	/* With chsh a user could leave ns-shell and keep only the network
	 * namespace; an admin who wants all of it names the shell. */
	if (w->required_shell && (!w->shell || strcmp(w->shell, w->required_shell) != 0))
		return ns_fail(err, -EPERM, "login shell of %s is %s, not %s (shell= of pam_ns)", w->user,
			       w->shell ? w->shell : "(none)", w->required_shell);
	/* -1 and its 16-bit form mean "no change" to set*id(): never a user. */
	if (w->uid == (uid_t)-1 || w->uid == (uid_t)(uint16_t)-1)
		return ns_fail(err, -EINVAL, "uid %u of %s is not a usable uid", (unsigned)w->uid, w->user);
	ns_trace("policy");
	if ((r = ns_host_check(ctx.globals->state_dir, err)) < 0 || (r = ns_state_prepare(ctx.globals->state_dir, err)) < 0)
		return r;
	ns_trace("host+state dirs");
	snprintf(lockname, sizeof(lockname), "user-%u", (unsigned)w->uid);
	_cleanup_close_ int lock = ns_lock_take(ctx.globals->state_dir, lockname, LOCK_TIMEOUT_MS, err);
	if (lock < 0)
		return lock;
	ctx.orig_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ctx.orig_fd < 0)
		return ns_fail(err, errno, "opening the caller's namespace: %s", strerror(errno));

	r = open_locked(&ctx, err);
	if (r < 0) {
		undo(&ctx);
		close(ctx.orig_fd);
	} else {
		hand_over(&ctx, ret);
	}
	if (ctx.netns_fd >= 0)
		close(ctx.netns_fd);
	ns_nl_close(ctx.host_nl);
	ns_nl_close(ctx.inner_nl);
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
		ns_login_release_netns(s->state_dir, &rec, false);
	/* The extra address of a concurrent per-session login goes back, unless
	 * a lingering login (a live reaper) still runs in its namespace (then
	 * nsctl gc, or a pick that finds the pool full, frees it once the
	 * reaper is gone); anything else left in there loses its link first. */
	struct reaper_find rf = { s->state_dir, s->sid, false, false };
	ns_session_foreach_uid(s->state_dir, s->uid, reapers_of, &rf);
	if (s->orig_netns_fd >= 0 && setns(s->orig_netns_fd, CLONE_NEWNET) < 0)
		r = ns_fail(err, errno, "returning to the original network namespace: %s", strerror(errno));
	if (s->tagged_lease && !rf.live && r == 0 && cut_leftover(s->uid, s->sid, false) >= 0)
		ns_lease_give_back(s->state_dir, s->lease_file, s->uid, s->sid, NULL);
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
