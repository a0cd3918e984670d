/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_nft.h — the guard of a user's network namespace: an nftables table of
 * ns-shell's own, installed by pam_ns (as root) while it is still inside
 * the namespace it just made, before the user gets in. The namespace
 * belongs to the initial user namespace, so the user holds no
 * CAP_NET_ADMIN in it and can neither change nor delete the table.
 *
 *   table inet ns_shell {
 *     chain out {
 *       type filter hook output priority filter; policy accept;
 *       meta skuid != 0 udp dport 67-68 counter drop      # users never talk DHCP
 *       oif != "lo" ip6 saddr :: meta l4proto ipv6-icmp accept   # DAD, MLD
 *       oif != "lo" fib saddr type != local counter drop  # own addresses only
 *     }
 *     chain in {
 *       type filter hook input priority filter; policy accept;
 *       iif "lo" udp dport 67-68 counter drop   # nothing local reaches the DHCP client
 *     }
 *   }
 *
 * "fib saddr type != local": a packet that leaves by any interface but lo
 * must carry an address of this namespace as its source (IPv4 and IPv6,
 * link-local included), whatever put the address there (pool, static,
 * DHCP, pool6): no list of addresses to keep up to date, one FIB lookup
 * per packet. The drop counters show attempts (`nsctl exec USER -- nft
 * list ruleset`). */
#ifndef NS_NFT_H
#define NS_NFT_H

#include "ns_util.h"

#define NS_NFT_TABLE "ns_shell"   /* family inet */

/* Install the table above in the CURRENT network namespace, in one
 * netlink batch on a NETLINK_NETFILTER socket opened here (all or
 * nothing). -EEXIST when the namespace has it already; -EPERM without
 * CAP_NET_ADMIN over the namespace. */
int ns_nft_guard_here(struct ns_err *err);

#endif
