/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_nft.c — the guard table of a user's namespace (ns_nft.h); the only
 * file that includes libnftnl and libmnl.
 *
 * Invariants:
 *  1. The table goes in as one nf_tables batch: the kernel applies all of
 *     it or nothing, so a namespace never has half a guard.
 *  2. The socket is opened here, so it is bound to the namespace the
 *     caller is in at this moment, and closed before returning.
 *  3. Every message is acknowledged; the first error is the answer. The
 *     wait for the answers is bounded (a login never hangs here).
 *  4. No rule depends on an address: the guard is the same for pool,
 *     static, DHCP and IPv6 logins and never needs updating. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ns_nft.h"

#define BATCH_BUF 8192
#define REPLAYS 3                  /* -EAGAIN: the kernel loaded a module, send again */

/* ------------------------------------------------------ expressions --- */

/* A rule under construction; ok turns false at the first allocation failure. */
struct rule {
	struct nftnl_rule *r;
	bool ok;
};

static void put(struct rule *ru, struct nftnl_expr *e)
{
	if (!e) {
		ru->ok = false;
		return;
	}
	nftnl_rule_add_expr(ru->r, e);
}

static void meta(struct rule *ru, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	put(ru, e);
}

static void cmp(struct rule *ru, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	put(ru, e);
}

static void payload(struct rule *ru, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	put(ru, e);
}

/* udp dport FROM-TO (network byte order: range compares with memcmp) */
static void udp_dports(struct rule *ru, uint16_t from, uint16_t to)
{
	uint8_t udp = IPPROTO_UDP;
	meta(ru, NFT_META_L4PROTO);
	cmp(ru, NFT_CMP_EQ, &udp, sizeof(udp));
	payload(ru, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	uint16_t f = htons(from), t = htons(to);
	struct nftnl_expr *e = nftnl_expr_alloc("range");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &f, sizeof(f));
		nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &t, sizeof(t));
	}
	put(ru, e);
}

static void fib_saddr_type(struct rule *ru)
{
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	if (e) {
		/* No IIF/OIF flag: "is this address local anywhere in this
		 * namespace", which nft_fib allows in the output hook. */
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	put(ru, e);
}

static void counter(struct rule *ru)
{
	put(ru, nftnl_expr_alloc("counter"));
}

static void verdict(struct rule *ru, int v)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	}
	put(ru, e);
}

/* ------------------------------------------------------------ batch --- */

struct batch {
	struct mnl_nlmsg_batch *b;
	uint32_t seq, begin_seq, first_seq;
	unsigned n_acked;             /* messages that carry NLM_F_ACK */
};

static struct nlmsghdr *msg_hdr(struct batch *bt, uint16_t type, uint16_t flags)
{
	bt->n_acked++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_INET,
				     flags | NLM_F_ACK, bt->seq++);
}

static bool next(struct batch *bt)
{
	return mnl_nlmsg_batch_next(bt->b);
}

static int add_table(struct batch *bt)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NS_NFT_TABLE);
	/* EXCL: a table of that name we did not make is never taken over. */
	nftnl_table_nlmsg_build_payload(msg_hdr(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL), t);
	nftnl_table_free(t);
	return next(bt) ? 0 : -ENOBUFS;
}

static int add_chain(struct batch *bt, const char *name, uint32_t hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c)
		return -ENOMEM;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NS_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(msg_hdr(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL), c);
	nftnl_chain_free(c);
	return next(bt) ? 0 : -ENOBUFS;
}

static int rule_begin(struct rule *ru, const char *chain)
{
	ru->ok = true;
	ru->r = nftnl_rule_alloc();
	if (!ru->r)
		return -ENOMEM;
	nftnl_rule_set_u32(ru->r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(ru->r, NFTNL_RULE_TABLE, NS_NFT_TABLE);
	nftnl_rule_set_str(ru->r, NFTNL_RULE_CHAIN, chain);
	return 0;
}

static int rule_end(struct batch *bt, struct rule *ru)
{
	int r = ru->ok ? 0 : -ENOMEM;
	if (r == 0) {
		/* APPEND: the rules keep the order they are added in. */
		nftnl_rule_nlmsg_build_payload(msg_hdr(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), ru->r);
		r = next(bt) ? 0 : -ENOBUFS;
	}
	nftnl_rule_free(ru->r);
	ru->r = NULL;
	return r;
}

/* out: meta skuid != 0 udp dport 67-68 counter drop. Users never talk
 * DHCP: no forged reply to the namespace's client (by broadcast, to eth0's
 * address or to loopback), no request or release in another tenant's name.
 * Packets without a socket (the kernel's) and root's (the client itself)
 * are not matched. */
static int rule_no_user_dhcp(struct batch *bt)
{
	const uint32_t zero = 0;
	struct rule ru;
	int r = rule_begin(&ru, "out");
	if (r < 0)
		return r;
	meta(&ru, NFT_META_SKUID);
	cmp(&ru, NFT_CMP_NEQ, &zero, sizeof(zero));
	udp_dports(&ru, 67, 68);
	counter(&ru);
	verdict(&ru, NF_DROP);
	return rule_end(bt, &ru);
}

/* A rule of the output chain that starts with oif != "lo" (then, with
 * FAM != 0, meta nfproto FAM). */
static int rule_out_not_lo(struct rule *ru, uint32_t lo, uint8_t fam)
{
	int r = rule_begin(ru, "out");
	if (r < 0)
		return r;
	meta(ru, NFT_META_OIF);
	cmp(ru, NFT_CMP_NEQ, &lo, sizeof(lo));
	if (fam) {
		meta(ru, NFT_META_NFPROTO);
		cmp(ru, NFT_CMP_EQ, &fam, sizeof(fam));
	}
	return 0;
}

/* out: oif != "lo" ip6 saddr :: meta l4proto ipv6-icmp accept. The
 * kernel's DAD probes and early MLD reports come from "::", which no user
 * socket can choose (binding :: means "pick one"). */
static int rule_dad_ok(struct batch *bt, uint32_t lo)
{
	static const uint8_t any6[16];
	const uint8_t icmp6 = IPPROTO_ICMPV6;
	struct rule ru;
	int r = rule_out_not_lo(&ru, lo, NFPROTO_IPV6);
	if (r < 0)
		return r;
	payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
	cmp(&ru, NFT_CMP_EQ, any6, sizeof(any6));
	meta(&ru, NFT_META_L4PROTO);
	cmp(&ru, NFT_CMP_EQ, &icmp6, sizeof(icmp6));
	verdict(&ru, NF_ACCEPT);
	return rule_end(bt, &ru);
}

/* out: oif != "lo" ip6 saddr ::1 counter drop, and for IPv4
 * oif != "lo" ip saddr 127.0.0.0/8 counter drop. Loopback addresses are
 * local (on lo), so the fib rule below lets them pass, and the kernel
 * routes a datagram bound to ::1 out of eth0 (found by a review: such
 * packets reached the host and the LAN with a source that is nobody's).
 * IPv4 routing refuses 127/8 on eth0 already; the rule says so as well. */
static int rule_no_loopback_source(struct batch *bt, uint32_t lo, bool v6)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	const uint8_t net127 = 127;
	struct rule ru;
	int r = rule_out_not_lo(&ru, lo, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	if (r < 0)
		return r;
	if (v6) {
		payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		cmp(&ru, NFT_CMP_EQ, lo6, sizeof(lo6));
	} else {
		payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 12, 1);
		cmp(&ru, NFT_CMP_EQ, &net127, sizeof(net127));
	}
	counter(&ru);
	verdict(&ru, NF_DROP);
	return rule_end(bt, &ru);
}

/* out: oif != "lo" fib saddr type != local counter drop: the anti-spoofing
 * rule itself. */
static int rule_own_source(struct batch *bt, uint32_t lo)
{
	const uint32_t local = RTN_LOCAL;
	struct rule ru;
	int r = rule_out_not_lo(&ru, lo, 0);
	if (r < 0)
		return r;
	fib_saddr_type(&ru);
	cmp(&ru, NFT_CMP_NEQ, &local, sizeof(local));
	counter(&ru);
	verdict(&ru, NF_DROP);
	return rule_end(bt, &ru);
}

/* in: iif "lo" udp dport 67-68 counter drop: whatever slipped past the
 * output rule (a socket of a uid we do not know) still never reaches the
 * DHCP client over loopback. */
static int rule_no_lo_dhcp(struct batch *bt, uint32_t lo)
{
	struct rule ru;
	int r = rule_begin(&ru, "in");
	if (r < 0)
		return r;
	meta(&ru, NFT_META_IIF);
	cmp(&ru, NFT_CMP_EQ, &lo, sizeof(lo));
	udp_dports(&ru, 67, 68);
	counter(&ru);
	verdict(&ru, NF_DROP);
	return rule_end(bt, &ru);
}

static int build(struct batch *bt, uint32_t lo)
{
	int r;
	bt->begin_seq = bt->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	if (!next(bt))
		return -ENOBUFS;
	bt->first_seq = bt->seq;
	if ((r = add_table(bt)) < 0 || (r = add_chain(bt, "out", NF_INET_LOCAL_OUT)) < 0 ||
	    (r = add_chain(bt, "in", NF_INET_LOCAL_IN)) < 0 || (r = rule_no_user_dhcp(bt)) < 0 ||
	    (r = rule_dad_ok(bt, lo)) < 0 || (r = rule_no_loopback_source(bt, lo, true)) < 0 ||
	    (r = rule_no_loopback_source(bt, lo, false)) < 0 || (r = rule_own_source(bt, lo)) < 0 ||
	    (r = rule_no_lo_dhcp(bt, lo)) < 0)
		return r;
	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	return next(bt) ? 0 : -ENOBUFS;
}

/* Read the answers to the batch: one per message sent with NLM_F_ACK, or
 * a single error for the batch as a whole (answered to its begin message:
 * e.g. -EPERM without CAP_NET_ADMIN). Returns 0, the first error
 * (negative errno), or -ETIMEDOUT. */
static int read_acks(struct mnl_socket *nl, const struct batch *bt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned got = 0;
	int first = 0;
	while (got < bt->n_acked) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		int len = (int)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				return -EBADMSG;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (h->nlmsg_seq == bt->begin_seq && e->error < 0)
				return e->error;
			if (h->nlmsg_seq < bt->first_seq || h->nlmsg_seq >= bt->first_seq + bt->n_acked)
				continue;     /* not ours */
			if (e->error < 0 && first == 0)
				first = e->error;
			got++;
		}
	}
	return first;
}

static int send_batch(uint32_t lo, uint32_t seq0)
{
	char buf[BATCH_BUF] = { 0 };   /* attribute padding goes out as zeros */
	struct batch bt = { .b = mnl_nlmsg_batch_start(buf, sizeof(buf)), .seq = seq0 };
	if (!bt.b)
		return -ENOMEM;
	int r = build(&bt, lo);
	if (r < 0) {
		mnl_nlmsg_batch_stop(bt.b);
		return r;
	}
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl) {
		r = -errno;
		mnl_nlmsg_batch_stop(bt.b);
		return r;
	}
	struct timeval tv = { .tv_sec = 2 };
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	else if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt.b), mnl_nlmsg_batch_size(bt.b)) < 0)
		r = -errno;
	else
		r = read_acks(nl, &bt);
	mnl_socket_close(nl);
	mnl_nlmsg_batch_stop(bt.b);
	return r;
}

int ns_nft_guard_here(struct ns_err *err)
{
	unsigned lo = if_nametoindex("lo");
	if (lo == 0)
		return ns_fail(err, -errno, "the namespace guard: no loopback: %s", strerror(errno));
	int r;
	for (int i = 0; i <= REPLAYS; i++) {
		r = send_batch(lo, (uint32_t)i * 64 + 1);
		if (r != -EAGAIN)
			break;
	}
	if (r < 0)
		return ns_fail(err, r, "the namespace guard (nftables table inet %s): %s", NS_NFT_TABLE,
			       strerror(-r));
	return 0;
}
