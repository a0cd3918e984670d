/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_lease.c — lease file text through ns_leases_parse, then
 * ns_lease_pick on what was parsed, as a view of the store would hold it.
 *
 * Input: 10 header bytes choosing the pool, the view (ns_lease.h), the
 * caller (uid, user, session id, static address) and which sessions, uids
 * and addresses the picker is told are live; then the lease file text (no
 * NUL: ns_leases_read refuses those).
 *
 * Properties (ns_lease.c invariants 2 to 4):
 *  1. A parsed list never has two entries with the same uid and tag, nor
 *     two with the same address; user names and tags are valid.
 *  2. Every entry, as ns_lease_format writes it in its address file, is one
 *     line that ns_lease_parse_line (without the newline) reads back as the
 *     same entry: what the store writes is what the next login reads.
 *  3. After a successful pick the caller has exactly one entry with the
 *     returned address and the tag *ret_sid_tagged says; still no address
 *     twice; a pool address is inside the pool and not the network,
 *     broadcast, gateway or bridge address; a static address is the one
 *     asked for; no tag of a session reported dead survives; property 2
 *     holds for the list left.
 *  4. The list is narrowed as the store's views load it (NS_LEASES_OWN: the
 *     caller's sticky lease and the static address's; NS_LEASES_NAMES: the
 *     same, every other address held). -EAGAIN comes only from a view
 *     other than NS_LEASES_ALL, without a message, and "exhausted" only
 *     from NS_LEASES_ALL; a held address is never handed out nor leased;
 *     in NS_LEASES_OWN a pool address is only the caller's own lease, in
 *     NS_LEASES_NAMES never another user's. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ns_lease.h"
#include "ns_names.h"

#define MAX_INPUT (64 * 1024)

static void check_unique(const struct ns_leases *l, const char *what)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ns_lease *a = &l->v[i];
		FUZZ_CHECK(ns_user_name_valid(a->user), "%s: user \"%s\"", what, a->user);
		FUZZ_CHECK(a->sid[0] == '\0' || ns_sid_valid(a->sid), "%s: tag \"%.9s\"", what, a->sid);
		for (size_t j = i + 1; j < l->n; j++) {
			const struct ns_lease *b = &l->v[j];
			FUZZ_CHECK(a->uid != b->uid || strcmp(a->sid, b->sid) != 0, "%s: uid %u tag \"%s\" twice",
				   what, (unsigned)a->uid, a->sid);
			FUZZ_CHECK(a->addr.s_addr != b->addr.s_addr, "%s: %s given to uid %u/\"%s\" and %u/\"%s\"",
				   what, inet_ntoa(a->addr), (unsigned)a->uid, a->sid, (unsigned)b->uid, b->sid);
		}
	}
}

static void format_round_trip(const struct ns_leases *l, const char *what)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ns_lease *a = &l->v[i];
		char line[256];
		struct ns_lease b;
		int n = ns_lease_format(a, line, sizeof(line));
		FUZZ_CHECK(n > 1, "%s: format of uid %u: %d", what, (unsigned)a->uid, n);
		FUZZ_CHECK(line[n - 1] == '\n' && !memchr(line, '\n', (size_t)n - 1),
			   "%s: \"%s\" is not one line", what, line);
		FUZZ_CHECK(ns_lease_parse_line(line, (size_t)n - 1, &b) == 0,
			   "%s: \"%.*s\" does not parse", what, n - 1, line);
		FUZZ_CHECK(a->uid == b.uid && strcmp(a->user, b.user) == 0 &&
			   a->addr.s_addr == b.addr.s_addr && a->last_used == b.last_used &&
			   strcmp(a->sid, b.sid) == 0,
			   "%s: \"%.*s\" read back as %u %s %s %lld \"%s\"", what, n - 1, line,
			   (unsigned)b.uid, b.user, inet_ntoa(b.addr), b.last_used, b.sid);
	}
}

static bool held(const struct ns_leases *l, struct in_addr a)
{
	for (size_t i = 0; i < l->n_held; i++)
		if (l->held[i].s_addr == a.s_addr)
			return true;
	return false;
}

/* L as the store's VIEW loads it for UID (and the static address ST):
 * NS_LEASES_OWN keeps the caller's sticky lease and the lease at ST;
 * NS_LEASES_NAMES keeps those and holds every other address. */
static void narrow(struct ns_leases *l, enum ns_lease_view view, uid_t uid,
		   const struct ns_cidr *st)
{
	l->view = view;
	if (view == NS_LEASES_ALL)
		return;
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct ns_lease *e = &l->v[i];
		if ((e->uid == uid && !e->sid[0]) || (st && e->addr.s_addr == st->addr.v4.s_addr))
			l->v[k++] = *e;
		else if (view == NS_LEASES_NAMES)
			FUZZ_CHECK(ns_leases_hold(l, e->addr) == 0, "out of memory");
	}
	l->n = k;
}
/* What the picker is told about live sessions: a hash of the question
 * and one seed byte each, so the fuzzer can steer every answer. */
static uint8_t seed_uid, seed_sid, seed_addr;
static uint32_t mix(uint32_t x) { return (x * 2654435761u) >> 24; }
static bool uid_busy(uid_t uid, void *data) { return (mix(uid) ^ seed_uid) & 1; }
static bool sid_alive(uid_t uid, const char *sid, void *data)
{
	uint32_t h = uid;
	for (; *sid; sid++)
		h = h * 31 + (unsigned char)*sid;
	return (mix(h) ^ seed_sid) & 1;
}
static bool own_addr_busy(struct in_addr a, void *data) { return (mix(a.s_addr) ^ seed_addr) & 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { HDR = 10 };
	if (size < HDR || size > MAX_INPUT)
		return -1;
	const uint8_t *h = data;
	char *text = fuzz_text(data + HDR, size - HDR);
	if (!text)
		return -1;

	struct ns_leases l;
	struct ns_err err = { 0 };
	int r = ns_leases_parse(text, "fuzz-leases", &l, &err);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM, "r=%d", r);
		FUZZ_CHECK(err.code == r && memchr(err.msg, 0, sizeof(err.msg)), "error detail");
		free(text);
		return 0;
	}
	check_unique(&l, "parse");
	format_round_trip(&l, "parse");

	/* The pool as the config allows it (prefix 8-30, host bits zero),
	 * kept to /20 or smaller so that one pick stays cheap. */
	struct ns_globals g = { 0 };
	unsigned prefix = 20 + h[0] % 11;
	uint32_t net = (0x0a000000u | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8) & (~0u << (32 - prefix));
	g.pool.family = AF_INET;
	g.pool.prefix = prefix;
	g.pool.addr.v4.s_addr = htonl(net);
	if (h[3] & 1) {
		g.gateway.family = AF_INET;
		g.gateway.prefix = 32;
		g.gateway.addr.v4.s_addr = htonl(net + 1);
	}
	if (h[3] & 2) {
		g.bridge_address.family = AF_INET;
		g.bridge_address.prefix = prefix;
		g.bridge_address.addr.v4.s_addr = htonl(net + 1 + (h[3] >> 4));
	}
	seed_uid = h[4];
	seed_sid = h[8];
	seed_addr = h[9];
	struct ns_lease_ops ops = {
		.uid_busy = (h[6] & 8) ? uid_busy : NULL,
		.sid_alive = (h[6] & 16) ? sid_alive : NULL,
		.own_addr_busy = (h[6] & 32) ? own_addr_busy : NULL,
	};
	/* The caller: an existing lease's uid (maybe under another name) or a
	 * new one; a per-user namespace or a session. A session id is fresh
	 * (fresh_sid): no lease carries it yet. */
	uid_t uid = 1000 + h[5];
	char user[33] = "fuzzuser", sidbuf[9];
	const char *sid = NULL;
	if (l.n && (h[6] & 1)) {
		const struct ns_lease *e = &l.v[h[5] % l.n];
		uid = e->uid;
		if (!(h[6] & 2))
			snprintf(user, sizeof(user), "%s", e->user);
	}
	if (h[6] & 128) {
		for (uint32_t k = h[7];; k++) {
			bool taken = false;
			snprintf(sidbuf, sizeof(sidbuf), "%08x", mix(k) * 0x01010101u + k);
			for (size_t i = 0; i < l.n; i++)
				taken |= strcmp(l.v[i].sid, sidbuf) == 0;
			if (!taken)
				break;
		}
		sid = sidbuf;
	}
	struct ns_cidr st = { 0 }, *stp = NULL;
	if (h[6] & 4) {
		st.family = AF_INET;
		st.prefix = prefix;
		st.addr.v4.s_addr = htonl(net + h[7]);
		stp = &st;
	}

	/* The view: bits 2-3 of h[3] (0 and 3: every lease). */
	static const enum ns_lease_view views[] = { NS_LEASES_ALL, NS_LEASES_NAMES, NS_LEASES_OWN,
						    NS_LEASES_ALL };
	enum ns_lease_view view = views[(h[3] >> 2) & 3];
	narrow(&l, view, uid, stp);
	struct in_addr own = { 0 };
	bool had_own = false;
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].uid == uid && !l.v[i].sid[0]) {
			own = l.v[i].addr;
			had_own = true;
		}

	struct in_addr got = { 0 };
	bool tagged = true;
	r = ns_lease_pick(&l, &g, uid, user, sid, stp, &ops, 1700000000, &got, &tagged, &err);
	if (r == 0) {
		FUZZ_CHECK(!held(&l, got), "view %d: handed out %s, a held address", (int)view,
			   inet_ntoa(got));
		for (size_t i = 0; i < l.n; i++)
			FUZZ_CHECK(!held(&l, l.v[i].addr), "view %d: a lease at held %s", (int)view,
				   inet_ntoa(l.v[i].addr));
		if (!stp && view == NS_LEASES_OWN)
			FUZZ_CHECK(had_own && got.s_addr == own.s_addr,
				   "view own: gave %s, not her own lease", inet_ntoa(got));
	}
	if (r == 0) {
		check_unique(&l, "pick");
		const char *tag = tagged ? sid : "";
		FUZZ_CHECK(!tagged || sid, "tagged without a session id");
		size_t mine = 0;
		for (size_t i = 0; i < l.n; i++) {
			const struct ns_lease *e = &l.v[i];
			FUZZ_CHECK(!e->sid[0] || (ops.sid_alive && sid_alive(e->uid, e->sid, NULL)) ||
				   (tagged && e->uid == uid && strcmp(e->sid, sid) == 0),
				   "tag %s of a dead session kept", e->sid);
			FUZZ_CHECK(e->uid != uid || strcmp(e->user, user) == 0,
				   "uid %u still holds an entry of user %s", (unsigned)uid, e->user);
			if (e->uid == uid && strcmp(e->sid, tag) == 0) {
				mine++;
				FUZZ_CHECK(e->addr.s_addr == got.s_addr, "caller's entry %s differs from what pick returned",
					   inet_ntoa(e->addr));
			}
		}
		FUZZ_CHECK(mine == 1, "caller has %zu entries tagged \"%s\"", mine, tag);
		uint32_t a = ntohl(got.s_addr), mask = ~0u << (32 - prefix);
		if (stp) {
			FUZZ_CHECK(got.s_addr == st.addr.v4.s_addr, "static address not honoured");
		} else {
			FUZZ_CHECK((a & mask) == net, "picked %s outside pool /%u", inet_ntoa(got), prefix);
			FUZZ_CHECK((a & ~mask) != 0 && (a & ~mask) != ~mask, "picked network/broadcast %s",
				   inet_ntoa(got));
			FUZZ_CHECK(!g.gateway.family || got.s_addr != g.gateway.addr.v4.s_addr, "picked gateway");
			FUZZ_CHECK(!g.bridge_address.family || got.s_addr != g.bridge_address.addr.v4.s_addr,
				   "picked bridge address");
		}
		format_round_trip(&l, "pick");
	} else if (r == -EAGAIN) {
		FUZZ_CHECK(view != NS_LEASES_ALL, "-EAGAIN with every lease loaded");
		FUZZ_CHECK(err.code == 0 && !err.msg[0], "-EAGAIN with a message: %s", err.msg);
	} else {
		FUZZ_CHECK(r == -EADDRINUSE || r == -EADDRNOTAVAIL || r == -ENOMEM, "pick r=%d", r);
		FUZZ_CHECK(r != -EADDRNOTAVAIL || view == NS_LEASES_ALL,
			   "view %d: pool exhausted without every lease loaded", (int)view);
	}
	ns_leases_free(&l);
	free(text);
	return 0;
}
