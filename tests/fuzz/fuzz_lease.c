/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_lease.c — lease file text through ns_leases_parse, then
 * ns_lease_pick on what was parsed.
 *
 * Input: 10 header bytes choosing the pool, the caller (uid, user, session
 * id, static address) and which sessions, uids and addresses the picker is
 * told are live; then the lease file text (no NUL: ns_leases_read refuses
 * those).
 *
 * Properties (ns_lease.c invariants 2 and 3):
 *  1. A parsed list never has two entries with the same uid and tag, nor
 *     two with the same address; user names and tags are valid.
 *  2. Write then parse again gives the same list (ns_leases_write's text is
 *     what the next login reads).
 *  3. After a successful pick the caller has exactly one entry with the
 *     returned address and the tag *ret_sid_tagged says; still no address
 *     twice; a pool address is inside the pool and not the network,
 *     broadcast, gateway or bridge address; a static address is the one
 *     asked for; no tag of a session reported dead survives. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "ns_lease.h"
#include "ns_names.h"

#define MAX_INPUT (64 * 1024)

static char tmpdir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ns-fuzz-lease.XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
	return 0;
}

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

static bool same_list(const struct ns_leases *a, const struct ns_leases *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].uid != b->v[i].uid || strcmp(a->v[i].user, b->v[i].user) != 0 ||
		    a->v[i].addr.s_addr != b->v[i].addr.s_addr || a->v[i].last_used != b->v[i].last_used ||
		    strcmp(a->v[i].sid, b->v[i].sid) != 0)
			return false;
	return true;
}

static void write_read_back(const struct ns_leases *l)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/leases", tmpdir);
	struct ns_err err = { 0 };
	FUZZ_CHECK(ns_leases_write(path, l, &err) == 0, "write: %s", err.msg);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "open %s", path);
	struct stat st;
	FUZZ_CHECK(fstat(fd, &st) == 0, "fstat");
	char *buf = malloc((size_t)st.st_size + 1);
	FUZZ_CHECK(buf && read(fd, buf, (size_t)st.st_size) == st.st_size, "read");
	buf[st.st_size] = '\0';
	close(fd);
	struct ns_leases back;
	FUZZ_CHECK(ns_leases_parse(buf, path, &back, &err) == 0, "written file does not parse: %s\n%s",
		   err.msg, buf);
	FUZZ_CHECK(same_list(l, &back), "write/parse round trip changed the list\n%s", buf);
	ns_leases_free(&back);
	free(buf);
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
	write_read_back(&l);

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

	struct in_addr got = { 0 };
	bool tagged = true;
	r = ns_lease_pick(&l, &g, uid, user, sid, stp, &ops, 1700000000, &got, &tagged, &err);
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
		write_read_back(&l);
	} else {
		FUZZ_CHECK(r == -EADDRINUSE || r == -EADDRNOTAVAIL || r == -ENOMEM, "pick r=%d", r);
	}
	ns_leases_free(&l);
	free(text);
	return 0;
}
