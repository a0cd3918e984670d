/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_netlink.c — every netlink request of ns-shell; the only file that
 * includes libnl. Requests are targeted (by name or index): no dump of
 * links, addresses or routes, so a login costs the same with 1 or 1000
 * users on the bridge. libnl's NLE_* codes overlap errno numbers; they are
 * converted here and never leave this file. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <linux/fib_rules.h>
#include <stdio.h>
#include <string.h>

#include "ns_names.h"
#include "ns_netlink.h"

struct ns_nl {
	struct nl_sock *sk;
};

static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0: return 0;
	case NLE_EXIST: return -EEXIST;
	case NLE_NODEV: return -ENODEV;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	case NLE_BUSY: return -EBUSY;
	case NLE_RANGE: return -ERANGE;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_INTR: return -EINTR;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_BAD_SOCK: return -EBADF;
	default: return -EIO;
	}
}

static const char *nl_why(int nle)
{
	return strerror(-nle_to_errno(nle));
}

int ns_nl_open(struct ns_nl **ret, struct ns_err *err)
{
	struct ns_nl *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return ns_fail(err, -ENOMEM, "netlink: out of memory");
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return ns_fail(err, -ENOMEM, "netlink: out of memory");
	}
	int r = nl_connect(nl->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(nl->sk);
		free(nl);
		return ns_fail(err, nle_to_errno(r), "netlink: cannot open a route socket: %s", nl_why(r));
	}
	/* nl_connect opens with SOCK_CLOEXEC in libnl >= 3.2.28; make sure. */
	int fd = nl_socket_get_fd(nl->sk);
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	*ret = nl;
	return 0;
}

void ns_nl_close(struct ns_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

static void link_putp(struct rtnl_link **l) { if (*l) rtnl_link_put(*l); }
static void addr_putp(struct nl_addr **a) { if (*a) nl_addr_put(*a); }
#define _cleanup_link_ _cleanup_(link_putp)
#define _cleanup_nladdr_ _cleanup_(addr_putp)

int ns_nl_link_index(struct ns_nl *nl, const char *name, int *ret_ifindex)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(nl->sk, 0, name, &link);
	if (r < 0)
		return nle_to_errno(r) == -ENOENT ? -ENODEV : nle_to_errno(r);
	*ret_ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

/* Bring a link up or down, optionally setting its alias in the same request
 * (the kernel ignores IFLA_IFALIAS when it creates a link). */
static int set_link(struct ns_nl *nl, int ifindex, bool up, const char *alias)
{
	_cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();
	if (!orig || !chg)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	if (up)
		rtnl_link_set_flags(chg, IFF_UP);
	else
		rtnl_link_unset_flags(chg, IFF_UP);
	if (alias)
		rtnl_link_set_ifalias(chg, alias);
	return nle_to_errno(rtnl_link_change(nl->sk, orig, chg, 0));
}

static int set_up(struct ns_nl *nl, int ifindex)
{
	return set_link(nl, ifindex, true, NULL);
}

int ns_nl_lo_up(struct ns_nl *nl, struct ns_err *err)
{
	int r = set_up(nl, 1);   /* lo is ifindex 1 in every namespace */
	if (r < 0)
		return ns_fail(err, r, "bringing up lo: %s", strerror(-r));
	return 0;
}

static int add_address(struct ns_nl *nl, int ifindex, const struct ns_cidr *c, bool nodad)
{
	_cleanup_nladdr_ struct nl_addr *local =
		nl_addr_build(c->family, &c->addr, c->family == AF_INET ? 4 : 16);
	struct rtnl_addr *a = rtnl_addr_alloc();
	if (!local || !a) {
		if (a)
			rtnl_addr_put(a);
		return -ENOMEM;
	}
	nl_addr_set_prefixlen(local, (int)c->prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, c->family);
	int r = rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, (int)c->prefix);
	if (nodad)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	if (r >= 0)
		r = rtnl_addr_add(nl->sk, a, 0);
	rtnl_addr_put(a);
	r = nle_to_errno(r);
	return r == -EEXIST ? 0 : r;
}

/* The bridge NAME as it is: 1 (it is a bridge, now up), -ENODEV (no such
 * link), or another -errno (logged in ERR). One request: index, kind and
 * flags. */
static int bridge_existing(struct ns_nl *nl, const char *name, struct ns_err *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = nle_to_errno(rtnl_link_get_kernel(nl->sk, 0, name, &link));
	if (r == -ENOENT || r == -ENODEV)
		return -ENODEV;
	if (r < 0)
		return ns_fail(err, r, "bridge %s: lookup failed: %s", name, strerror(-r));
	if (!rtnl_link_is_bridge(link))
		return ns_fail(err, -EINVAL, "bridge %s: exists but is not a bridge", name);
	if (!(rtnl_link_get_flags(link) & IFF_UP) && (r = set_up(nl, rtnl_link_get_ifindex(link))) < 0)
		return ns_fail(err, r, "bridge %s: cannot bring it up: %s", name, strerror(-r));
	return 1;
}

int ns_nl_bridge_ensure(struct ns_nl *nl, const char *name, bool create,
			const struct ns_cidr *addr, const uint8_t *mac, struct ns_err *err,
			bool *ret_created)
{
	int ifindex, r;
	*ret_created = false;
	r = bridge_existing(nl, name, err);
	if (r != -ENODEV)
		return r < 0 ? r : 0;
	if (!create)
		return ns_fail(err, -ENODEV, "bridge %s does not exist (create_bridge = false)", name);

	_cleanup_link_ struct rtnl_link *br = rtnl_link_bridge_alloc();
	if (!br)
		return ns_fail(err, -ENOMEM, "bridge %s: out of memory", name);
	rtnl_link_set_name(br, name);
	rtnl_link_set_flags(br, IFF_UP);
	/* A fixed MAC: otherwise the bridge takes its lowest port's, and every
	 * login or logout could change the gateway's MAC under users' feet. */
	_cleanup_nladdr_ struct nl_addr *bmac = NULL;
	if (mac) {
		bmac = nl_addr_build(AF_LLC, mac, 6);
		if (bmac)
			rtnl_link_set_addr(br, bmac);
	}
	r = nle_to_errno(rtnl_link_add(nl->sk, br, NLM_F_CREATE | NLM_F_EXCL));
	if (r == -EEXIST)     /* another login made it meanwhile */
		return 0;
	if (r < 0)
		return ns_fail(err, r, "bridge %s: cannot create it: %s", name, strerror(-r));
	*ret_created = true;
	if ((r = ns_nl_link_index(nl, name, &ifindex)) < 0)
		return ns_fail(err, r, "bridge %s: vanished after creation", name);
	if (addr && addr->family && (r = add_address(nl, ifindex, addr, true)) < 0)
		return ns_fail(err, r, "bridge %s: cannot add its address: %s", name, strerror(-r));
	if ((r = set_up(nl, ifindex)) < 0)
		return ns_fail(err, r, "bridge %s: cannot bring it up: %s", name, strerror(-r));
	return 0;
}

/* IFLA_BRPORT_ISOLATED has no libnl helper (3.7): build the one request. */
static int set_port_isolated(struct ns_nl *nl, int ifindex, bool on)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
	if (!msg)
		return -ENOMEM;
	int r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	struct nlattr *nest = r >= 0 ? nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED) : NULL;
	if (!nest || nla_put_u8(msg, IFLA_BRPORT_ISOLATED, on ? 1 : 0) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	r = nl_send_sync(nl->sk, msg);   /* frees msg */
	return nle_to_errno(r);
}

static struct nl_addr *mac_addr(const uint8_t mac[6])
{
	return nl_addr_build(AF_LLC, mac, 6);
}

/* After a failed enslave: has bridge NAME its 1,023 ports (BR_MAX_PORTS)?
 * The kernel says EXFULL, which libnl folds into "unspecific failure", so
 * count them (only on this failure path; false when sysfs does not show
 * this namespace's bridge). */
static bool bridge_full(const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/class/net/%s/brif", name);
	DIR *d = opendir(path);
	if (!d)
		return false;
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n >= 1023;
}

int ns_nl_veth_create(struct ns_nl *nl, const struct ns_veth_spec *s, int *ret_ifindex, struct ns_err *err)
{
	int r, br_index = 0;
	unsigned mtu = s->mtu;
	_cleanup_link_ struct rtnl_link *br = NULL;
	if (s->bridge && (r = rtnl_link_get_kernel(nl->sk, 0, s->bridge, &br)) < 0) {
		r = nle_to_errno(r) == -ENOENT ? -ENODEV : nle_to_errno(r);
		return ns_fail(err, r, "veth %s: bridge %s: %s", s->host_name, s->bridge, strerror(-r));
	}
	if (br) {
		br_index = rtnl_link_get_ifindex(br);
		mtu = s->mtu ? s->mtu : rtnl_link_get_mtu(br);   /* 0: the bridge's */
	}

	_cleanup_link_ struct rtnl_link *host = rtnl_link_veth_alloc();
	if (!host)
		return ns_fail(err, -ENOMEM, "veth %s: out of memory", s->host_name);
	_cleanup_link_ struct rtnl_link *peer = rtnl_link_veth_get_peer(host);
	_cleanup_nladdr_ struct nl_addr *hmac = mac_addr(s->host_mac);
	_cleanup_nladdr_ struct nl_addr *pmac = mac_addr(s->peer_mac);
	if (!peer || !hmac || !pmac)
		return ns_fail(err, -ENOMEM, "veth %s: out of memory", s->host_name);

	rtnl_link_set_name(host, s->host_name);
	rtnl_link_set_addr(host, hmac);
	if (br_index)
		rtnl_link_set_master(host, br_index);
	if (mtu)
		rtnl_link_set_mtu(host, mtu);

	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_addr(peer, pmac);
	rtnl_link_set_ns_fd(peer, s->netns_fd);
	if (mtu)
		rtnl_link_set_mtu(peer, mtu);

	r = nle_to_errno(rtnl_link_add(nl->sk, host, NLM_F_CREATE | NLM_F_EXCL));
	if (r < 0 && br_index && bridge_full(s->bridge))
		return ns_fail(err, -EXFULL, "veth %s: bridge %s is full (a bridge has at most 1,023 ports): "
			       "use network = \"routed\" for this many users", s->host_name, s->bridge);
	if (r < 0)
		return ns_fail(err, r, "veth %s: cannot create it: %s", s->host_name, strerror(-r));

	int ifindex;
	if ((r = ns_nl_link_index(nl, s->host_name, &ifindex)) < 0)
		return ns_fail(err, r, "veth %s: vanished after creation", s->host_name);
	if (s->isolated && (r = set_port_isolated(nl, ifindex, true)) < 0)
		return ns_fail(err, r, "veth %s: cannot set the bridge port isolated: %s", s->host_name,
			       strerror(-r));
	if ((r = set_link(nl, ifindex, true, s->alias)) < 0)
		return ns_fail(err, r, "veth %s: cannot set its alias and bring it up: %s", s->host_name,
			       strerror(-r));
	if (ret_ifindex)
		*ret_ifindex = ifindex;
	return 0;
}

int ns_nl_link_delete(struct ns_nl *nl, const char *name, struct ns_err *err)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	if (!link)
		return ns_fail(err, -ENOMEM, "deleting %s: out of memory", name);
	rtnl_link_set_name(link, name);
	int r = nle_to_errno(rtnl_link_delete(nl->sk, link));
	if (r == -ENOENT)
		r = -ENODEV;
	if (r < 0 && r != -ENODEV)
		return ns_fail(err, r, "deleting %s: %s", name, strerror(-r));
	return r;
}

int ns_nl_link_down(struct ns_nl *nl, const char *name)
{
	int ifindex = 0;
	int r = ns_nl_link_index(nl, name, &ifindex);
	if (r == 0)
		r = set_link(nl, ifindex, false, NULL);
	return r == -ENOENT ? -ENODEV : r;
}

int ns_nl_link_alias(struct ns_nl *nl, const char *name, char *buf, size_t size)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(nl->sk, 0, name, &link);
	if (r < 0)
		return nle_to_errno(r) == -ENOENT ? -ENODEV : nle_to_errno(r);
	const char *a = rtnl_link_get_ifalias(link);
	snprintf(buf, size, "%s", a ? a : "");
	return 0;
}

static struct nl_addr *cidr_addr(const struct ns_cidr *c, unsigned prefix)
{
	struct nl_addr *a = nl_addr_build(c->family, &c->addr, c->family == AF_INET ? 4 : 16);
	if (a)
		nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

/* A route of TYPE to DST (prefix as given) through IFINDEX (0: none) via
 * GW (NULL: on the link; ONLINK: GW needs no connected route). */
static int add_route(struct ns_nl *nl, uint8_t type, const struct ns_cidr *dst, int ifindex,
		     const struct ns_cidr *gw, bool onlink)
{
	_cleanup_nladdr_ struct nl_addr *d = cidr_addr(dst, dst->prefix);
	_cleanup_nladdr_ struct nl_addr *via = gw ? cidr_addr(gw, gw->family == AF_INET ? 32 : 128) : NULL;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = ifindex ? rtnl_route_nh_alloc() : NULL;
	if (!rt || !d || (gw && !via) || (ifindex && !nh)) {
		if (rt)
			rtnl_route_put(rt);
		if (nh)
			rtnl_route_nh_free(nh);
		return -ENOMEM;
	}
	rtnl_route_set_family(rt, (uint8_t)dst->family);
	rtnl_route_set_dst(rt, d);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_type(rt, type);
	rtnl_route_set_scope(rt, type == RTN_UNICAST && !gw ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
	if (nh) {
		rtnl_route_nh_set_ifindex(nh, ifindex);
		if (via)
			rtnl_route_nh_set_gateway(nh, via);
		if (onlink)
			rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
		rtnl_route_add_nexthop(rt, nh);    /* rt owns nh now */
	}
	int r = nle_to_errno(rtnl_route_add(nl->sk, rt, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_route_put(rt);
	return r;
}

/* A permanent neighbour entry: ADDR is at MAC on IFINDEX (no ARP/NDP). */
static int add_neigh(struct ns_nl *nl, int ifindex, const struct ns_cidr *addr, const uint8_t mac[6])
{
	_cleanup_nladdr_ struct nl_addr *dst = cidr_addr(addr, addr->family == AF_INET ? 32 : 128);
	_cleanup_nladdr_ struct nl_addr *ll = mac_addr(mac);
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	int r = -ENOMEM;
	if (n && dst && ll) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_family(n, addr->family);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		r = nle_to_errno(rtnl_neigh_add(nl->sk, n, NLM_F_CREATE | NLM_F_REPLACE));
	}
	if (n)
		rtnl_neigh_put(n);
	return r;
}

int ns_nl_neigh_replace(struct ns_nl *nl, const char *dev, const struct ns_cidr *addr, const uint8_t mac[6],
			struct ns_err *err)
{
	int ifindex, r;
	char a[64];
	ns_cidr_format(addr, false, a, sizeof(a));
	if ((r = ns_nl_link_index(nl, dev, &ifindex)) < 0 || (r = add_neigh(nl, ifindex, addr, mac)) < 0)
		return ns_fail(err, r, "neighbour entry for %s on %s: %s", a, dev, strerror(-r));
	return 0;
}

int ns_nl_neigh_delete(struct ns_nl *nl, const char *dev, const struct ns_cidr *addr)
{
	int ifindex, r;
	if ((r = ns_nl_link_index(nl, dev, &ifindex)) < 0)
		return r;
	_cleanup_nladdr_ struct nl_addr *dst = cidr_addr(addr, addr->family == AF_INET ? 32 : 128);
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	r = -ENOMEM;
	if (n && dst) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_family(n, addr->family);
		rtnl_neigh_set_dst(n, dst);
		r = nle_to_errno(rtnl_neigh_delete(nl->sk, n, 0));
	}
	if (n)
		rtnl_neigh_put(n);
	return r;
}

int ns_nl_foreach_perm_neigh(struct ns_nl *nl, const char *dev,
			     void (*fn)(const struct ns_cidr *addr, const uint8_t mac[6], void *data), void *data)
{
	int ifindex, r;
	struct nl_cache *cache = NULL;
	if ((r = ns_nl_link_index(nl, dev, &ifindex)) < 0)
		return r;
	if ((r = rtnl_neigh_alloc_cache(nl->sk, &cache)) < 0)
		return nle_to_errno(r);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *n = (struct rtnl_neigh *)o;
		struct nl_addr *d = rtnl_neigh_get_dst(n), *ll = rtnl_neigh_get_lladdr(n);
		if (rtnl_neigh_get_ifindex(n) != ifindex || !(rtnl_neigh_get_state(n) & NUD_PERMANENT) || !d ||
		    !ll || nl_addr_get_len(ll) != 6 || nl_addr_get_family(d) != AF_INET || nl_addr_get_len(d) != 4)
			continue;
		struct ns_cidr a = { .family = AF_INET, .prefix = 32 };
		memcpy(&a.addr.v4, nl_addr_get_binary_addr(d), 4);
		fn(&a, nl_addr_get_binary_addr(ll), data);
	}
	nl_cache_free(cache);
	return 0;
}

int ns_nl_unreachable_ensure(struct ns_nl *nl, const struct ns_cidr *block, struct ns_err *err)
{
	char b[64];
	int r = add_route(nl, RTN_UNREACHABLE, block, 0, NULL, false);
	if (r == 0 || r == -EEXIST)
		return 0;
	ns_cidr_format(block, true, b, sizeof(b));
	return ns_fail(err, r, "unreachable route for %s: %s", b, strerror(-r));
}

int ns_nl_routed_host(struct ns_nl *nl, int ifindex, const struct ns_cidr *addr, const uint8_t peer_mac[6],
		      struct ns_err *err)
{
	char a[64];
	struct ns_cidr host = *addr;
	host.prefix = addr->family == AF_INET ? 32 : 128;
	int r = add_neigh(nl, ifindex, &host, peer_mac);
	ns_cidr_format(&host, true, a, sizeof(a));
	if (r < 0)
		return ns_fail(err, r, "neighbour entry for %s on the host: %s", a, strerror(-r));
	r = add_route(nl, RTN_UNICAST, &host, ifindex, NULL, false);
	if (r < 0)
		return ns_fail(err, r, "route to %s on the host: %s", a, strerror(-r));
	return 0;
}

int ns_nl_inner_routed(struct ns_nl *nl, const struct ns_cidr *addr, const struct ns_cidr *next_hop,
		       const uint8_t host_mac[6], struct ns_err *err)
{
	int ifindex, r;
	char a[64];
	struct ns_cidr host = *addr, any = { .family = addr->family, .prefix = 0 };
	host.prefix = addr->family == AF_INET ? 32 : 128;
	ns_cidr_format(&host, true, a, sizeof(a));
	if ((r = ns_nl_lo_up(nl, err)) < 0)
		return r;
	if ((r = ns_nl_link_index(nl, "eth0", &ifindex)) < 0)
		return ns_fail(err, r, "eth0 inside: %s", strerror(-r));
	if ((r = set_up(nl, ifindex)) < 0)
		return ns_fail(err, r, "bringing up eth0 inside: %s", strerror(-r));
	if ((r = add_address(nl, ifindex, &host, true)) < 0)
		return ns_fail(err, r, "adding %s to eth0 inside: %s", a, strerror(-r));
	if ((r = add_neigh(nl, ifindex, next_hop, host_mac)) < 0)
		return ns_fail(err, r, "neighbour entry for the next hop inside: %s", strerror(-r));
	/* IPv4: the link-local next hop has no connected route (a /32). */
	r = add_route(nl, RTN_UNICAST, &any, ifindex, next_hop, addr->family == AF_INET);
	if (r < 0 && r != -EEXIST)
		return ns_fail(err, r, "default route inside: %s", strerror(-r));
	return 0;
}

static int add_default_route(struct ns_nl *nl, int ifindex, const struct ns_cidr *gw)
{
	struct ns_cidr any = { .family = gw->family, .prefix = 0 };
	int r = add_route(nl, RTN_UNICAST, &any, ifindex, gw, false);
	return r == -EEXIST ? 0 : r;
}

int ns_nl_inner_setup(struct ns_nl *nl, const struct ns_cidr *addr,
		      const struct ns_cidr *gw, struct ns_err *err)
{
	int ifindex, r;
	if ((r = ns_nl_lo_up(nl, err)) < 0)
		return r;
	if ((r = ns_nl_link_index(nl, "eth0", &ifindex)) < 0)
		return ns_fail(err, r, "eth0 inside: %s", strerror(-r));
	if ((r = set_up(nl, ifindex)) < 0)
		return ns_fail(err, r, "bringing up eth0 inside: %s", strerror(-r));
	if (addr && addr->family && (r = add_address(nl, ifindex, addr, true)) < 0) {
		char a[64];
		ns_cidr_format(addr, true, a, sizeof(a));
		return ns_fail(err, r, "adding %s to eth0 inside: %s", a, strerror(-r));
	}
	if (gw && gw->family && (r = add_default_route(nl, ifindex, gw)) < 0) {
		char a[64];
		ns_cidr_format(gw, false, a, sizeof(a));
		return ns_fail(err, r, "default route via %s inside: %s", a, strerror(-r));
	}
	return 0;
}

void ns_mac_for_uid(const uint8_t machine_id[16], uid_t uid, const char *sid, int which, uint8_t mac[6])
{
	/* FNV-1a over machine-id, uid, session id and side: stable, spread, not secret. */
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < 16; i++)
		h = (h ^ machine_id[i]) * 1099511628211ULL;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((uid >> (8 * i)) & 0xff)) * 1099511628211ULL;
	for (const char *p = sid; p && *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ (uint8_t)which) * 1099511628211ULL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);   /* unicast, locally administered */
}

int ns_nl_foreach_ours(struct ns_nl *nl,
		       void (*fn)(const char *name, const char *alias, int peer_nsid, void *data),
		       void *data)
{
	struct nl_cache *cache = NULL;
	int r = rtnl_link_alloc_cache(nl->sk, AF_UNSPEC, &cache);
	if (r < 0)
		return nle_to_errno(r);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l), *alias = rtnl_link_get_ifalias(l);
		if (name && ns_veth_alias_ours(alias) &&
		    (strncmp(name, "nsu", 3) == 0 || strncmp(name, "nss", 3) == 0)) {
			int32_t nsid = -1;
			if (rtnl_link_get_link_netnsid(l, &nsid) < 0)
				nsid = -1;
			fn(name, alias, nsid, data);
		}
	}
	nl_cache_free(cache);
	return 0;
}

struct nsid_reply {
	int nsid;
	bool got;
};

static int nsid_valid(struct nl_msg *msg, void *arg)
{
	struct nsid_reply *x = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[NETNSA_MAX + 1];
	if (h->nlmsg_type == RTM_NEWNSID &&
	    nlmsg_parse(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) >= 0 && tb[NETNSA_NSID]) {
		x->nsid = (int)nla_get_s32(tb[NETNSA_NSID]);
		x->got = true;
	}
	return NL_OK;
}

/* Through libnl's receive loop, not a raw nl_recv(): nl_send_auto() asks
 * for an ack, so the kernel answers RTM_NEWNSID *and* an ack. A raw read
 * leaves the ack queued: the next request reads the previous answer (gc
 * then blames, and --kill kills, the wrong pids), and libnl's sequence
 * check fails the next request that waits for an ack (EIO). */
int ns_nl_netnsid_of_fd(struct ns_nl *nl, int fd, int *ret_nsid)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nsid_reply x = { -1, false };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0 || nla_put_u32(m, NETNSA_FD, (uint32_t)fd) < 0) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	struct nl_cb *cb = nl_cb_clone(nl_socket_get_cb(nl->sk));
	if (!cb) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nsid_valid, &x);
	int r = nl_send_auto(nl->sk, m);
	nlmsg_free(m);
	if (r >= 0)
		r = nl_recvmsgs(nl->sk, cb);        /* RTM_NEWNSID, or the error */
	if (r >= 0 && x.got)
		r = nl_wait_for_ack(nl->sk);        /* then its ack */
	nl_cb_put(cb);
	if (r < 0)
		return nle_to_errno(r);
	if (!x.got)
		return -EIO;
	*ret_nsid = x.nsid;
	return 0;
}

int ns_nl_shape(struct ns_nl *nl, const char *name, uint64_t rate_bps, uint64_t burst_bytes,
		struct ns_err *err)
{
	int ifindex, r;
	if ((r = ns_nl_link_index(nl, name, &ifindex)) < 0)
		return ns_fail(err, r, "shaping %s: %s", name, strerror(-r));
	uint64_t rate = rate_bps / 8;                 /* bytes per second */
	if (rate == 0)
		rate = 1;
	if (rate > INT32_MAX)
		rate = INT32_MAX;
	uint64_t burst = burst_bytes ? burst_bytes : rate / 100;
	if (burst < 3028)
		burst = 3028;
	if (burst > INT32_MAX)
		burst = INT32_MAX;
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return ns_fail(err, -ENOMEM, "shaping %s: out of memory", name);
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
	if (r >= 0) {
		rtnl_qdisc_tbf_set_rate(q, (int)rate, (int)burst, 0);
		r = rtnl_qdisc_tbf_set_limit_by_latency(q, 50000);   /* 50 ms of queue */
	}
	if (r >= 0)
		r = rtnl_qdisc_add(nl->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	r = nle_to_errno(r);
	if (r < 0)
		return ns_fail(err, r, "shaping %s to %llu bit/s: %s", name, (unsigned long long)rate_bps,
			       strerror(-r));
	return 0;
}

int ns_nl_deny(struct ns_nl *nl, const struct ns_cidr *cidrs, size_t n, struct ns_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		const struct ns_cidr *c = &cidrs[i];
		_cleanup_nladdr_ struct nl_addr *dst = nl_addr_build(c->family, &c->addr, c->family == AF_INET ? 4 : 16);
		struct rtnl_rule *rule = rtnl_rule_alloc();
		int r = (!dst || !rule) ? -ENOMEM : 0;
		if (r == 0) {
			nl_addr_set_prefixlen(dst, (int)c->prefix);
			rtnl_rule_set_family(rule, c->family);
			rtnl_rule_set_prio(rule, 100);
			rtnl_rule_set_action(rule, FR_ACT_PROHIBIT);
			r = nle_to_errno(rtnl_rule_set_dst(rule, dst));
			if (r == 0)
				r = nle_to_errno(rtnl_rule_add(nl->sk, rule, NLM_F_CREATE));
		}
		if (rule)
			rtnl_rule_put(rule);
		if (r < 0 && r != -EEXIST) {
			ns_cidr_format(c, true, buf, sizeof(buf));
			return ns_fail(err, r, "deny rule for %s: %s", buf, strerror(-r));
		}
	}
	return 0;
}

int ns_nl_eth0_addr(struct ns_nl *nl, struct ns_cidr *ret)
{
	int ifindex, r = ns_nl_link_index(nl, "eth0", &ifindex);
	if (r < 0)
		return r;
	struct nl_cache *cache = NULL;
	if ((r = rtnl_addr_alloc_cache(nl->sk, &cache)) < 0)
		return nle_to_errno(r);
	r = -EADDRNOTAVAIL;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET || !local ||
		    nl_addr_get_len(local) != 4)
			continue;
		memset(ret, 0, sizeof(*ret));
		ret->family = AF_INET;
		memcpy(&ret->addr.v4, nl_addr_get_binary_addr(local), 4);
		ret->prefix = (unsigned)rtnl_addr_get_prefixlen(a);
		r = 0;
		break;
	}
	nl_cache_free(cache);
	return r;
}

int ns_nl_add_address(struct ns_nl *nl, const char *name, const struct ns_cidr *addr, struct ns_err *err)
{
	int ifindex, r;
	char a[64];
	ns_cidr_format(addr, true, a, sizeof(a));
	if ((r = ns_nl_link_index(nl, name, &ifindex)) < 0 || (r = add_address(nl, ifindex, addr, true)) < 0)
		return ns_fail(err, r, "adding %s to %s: %s", a, name, strerror(-r));
	return 0;
}
