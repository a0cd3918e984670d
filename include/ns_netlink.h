/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_netlink.h — all netlink work (the only module that includes libnl).
 *
 * Every call is a targeted request by name or index: no dumps of links,
 * addresses or routes happen during a login. libnl error codes are turned
 * into -errno here and never returned. */
#ifndef NS_NETLINK_H
#define NS_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_util.h"

struct ns_nl;  /* one route netlink socket, bound to the namespace it was opened in */

int ns_nl_open(struct ns_nl **ret, struct ns_err *err);
void ns_nl_close(struct ns_nl *nl);
static inline void ns_nl_closep(struct ns_nl **nl) { if (*nl) ns_nl_close(*nl); }
#define _cleanup_nl_ _cleanup_(ns_nl_closep)

/* Bring up `lo` of the socket's namespace. */
int ns_nl_lo_up(struct ns_nl *nl, struct ns_err *err);

/* Index of link NAME, -ENODEV when absent. */
int ns_nl_link_index(struct ns_nl *nl, const char *name, int *ret_ifindex);

/* Make sure bridge NAME exists and is up; when missing and CREATE, create it
 * with ADDR (family 0: none) and MTU (0: default). *ret_created tells
 * whether this call made it (for rollback). */
int ns_nl_bridge_ensure(struct ns_nl *nl, const char *name, bool create,
			const struct ns_cidr *addr, const uint8_t *mac, struct ns_err *err,
			bool *ret_created);

struct ns_veth_spec {
	const char *host_name;          /* nsu<uid> / nss<sid> */
	const char *alias;              /* "ns-shell user=NAME uid=UID" */
	const char *bridge;             /* NULL: not enslaved (routed) */
	int netns_fd;                   /* target namespace of the peer (eth0) */
	uint8_t host_mac[6], peer_mac[6];
	unsigned mtu;                   /* 0: the bridge's */
	bool isolated;                  /* IFLA_BRPORT_ISOLATED */
};

/* Create the veth pair with the peer directly inside netns_fd as eth0,
 * enslave the host side to the bridge, set the isolation flag and bring
 * the host side up. */
int ns_nl_veth_create(struct ns_nl *nl, const struct ns_veth_spec *spec, int *ret_ifindex,
		      struct ns_err *err);

/* A permanent neighbour entry on DEV (the bridge): ADDR is at MAC, so
 * the host never ARPs for a user (replaces any entry for ADDR). */
int ns_nl_neigh_replace(struct ns_nl *nl, const char *dev, const struct ns_cidr *addr, const uint8_t mac[6],
			struct ns_err *err);
int ns_nl_neigh_delete(struct ns_nl *nl, const char *dev, const struct ns_cidr *addr);
/* Admin only (nsctl gc): FN for each permanent IPv4 neighbour entry on DEV. */
int ns_nl_foreach_perm_neigh(struct ns_nl *nl, const char *dev,
			     void (*fn)(const struct ns_cidr *addr, const uint8_t mac[6], void *data), void *data);

/* network = "routed" (docs/DESIGN.md "Routed mode"). */
/* The host's `unreachable` route for BLOCK (pool, pool6), made when
 * missing and never removed (other logins, and BIRD, rely on it). */
int ns_nl_unreachable_ensure(struct ns_nl *nl, const struct ns_cidr *block, struct ns_err *err);
/* Host side: ADDR (as a /32 or /128) is at PEER_MAC behind IFINDEX: a
 * permanent neighbour entry and a link route. Both go with the veth. */
int ns_nl_routed_host(struct ns_nl *nl, int ifindex, const struct ns_cidr *addr, const uint8_t peer_mac[6],
		      struct ns_err *err);
/* Inside (socket opened there): lo and eth0 up, ADDR on eth0 as a /32
 * (/128), NEXT_HOP (169.254.1.1, fe80::1) permanently at HOST_MAC, and the
 * default route via it. No ARP or NDP is ever needed to leave. */
int ns_nl_inner_routed(struct ns_nl *nl, const struct ns_cidr *addr, const struct ns_cidr *next_hop,
		       const uint8_t host_mac[6], struct ns_err *err);

/* Delete link NAME (rollback, stale veths). -ENODEV when absent. */
int ns_nl_link_delete(struct ns_nl *nl, const char *name, struct ns_err *err);

/* Set link NAME down (cheap: no RCU wait, unlike a delete). -ENODEV when
 * there is no such link. */
int ns_nl_link_down(struct ns_nl *nl, const char *name);

/* Read the alias of link NAME into buf ("" when none). */
int ns_nl_link_alias(struct ns_nl *nl, const char *name, char *buf, size_t size);

/* Add ADDR (no DAD) to link NAME. */
int ns_nl_add_address(struct ns_nl *nl, const char *name, const struct ns_cidr *addr, struct ns_err *err);

/* Inside a namespace (socket opened there): bring up eth0, give it ADDR,
 * default route via GW (family 0: none). */
int ns_nl_inner_setup(struct ns_nl *nl, const struct ns_cidr *addr,
		      const struct ns_cidr *gw, struct ns_err *err);

/* Inside a namespace: the first IPv4 address of eth0 (after DHCP). The
 * dump covers only the user's own namespace (lo and eth0). */
int ns_nl_eth0_addr(struct ns_nl *nl, struct ns_cidr *ret);

/* Shape egress of link NAME to RATE_BPS bits/s with a token bucket of
 * BURST_BYTES (0: 10 ms worth of the rate, at least 3028 bytes). */
int ns_nl_shape(struct ns_nl *nl, const char *name, uint64_t rate_bps, uint64_t burst_bytes,
		struct ns_err *err);

/* Inside a namespace: a `prohibit` policy-routing rule for each CIDR, so
 * the user gets "permission denied"/unreachable for those destinations. */
int ns_nl_deny(struct ns_nl *nl, const struct ns_cidr *cidrs, size_t n, struct ns_err *err);

/* MAC derived from machine-id, uid and (per-session namespaces) the
 * session id: locally administered, unicast. which = 0 host side, 1 peer,
 * 2 the bridge (uid ignored by callers: pass (uid_t)-1). */
void ns_mac_for_uid(const uint8_t machine_id[16], uid_t uid, const char *sid, int which, uint8_t mac[6]);



/* Dump the host's links and call FN for each veth whose alias says it is
 * ours. O(links): nsctl, and a lease pick only when the pool is full or a
 * static address takes over another user's (once per pick). */
int ns_nl_foreach_ours(struct ns_nl *nl,
		       void (*fn)(const char *name, const char *alias, int peer_nsid, void *data),
		       void *data);

/* The id this namespace's socket knows the namespace FD by (-1: none). */
int ns_nl_netnsid_of_fd(struct ns_nl *nl, int fd, int *ret_nsid);
#endif
