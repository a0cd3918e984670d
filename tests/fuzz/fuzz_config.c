/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_config.c — ns.conf text through ns_config_load_string.
 *
 * Properties checked on every input:
 *  1. No sanitizer report, and the error list is well formed: a refused
 *     file has at least one error line, each NUL-terminated; a loaded file
 *     has none.
 *  2. For a loaded file, every resolved policy (a few users and groups)
 *     obeys the rules the loader enforces: pid needs mount, hostname a valid
 *     template, shell absolute, lists within NS_MAX_LIST, dns entries full
 *     prefixes, a static address IPv4 with prefix 1-30 inside the pool.
 *  3. Round trip: ns_policy_print's output, put back into a `default`
 *     block under the same pool and gateway, loads and resolves to the same
 *     policy (ns_policy_print is what `nsctl check` shows the admin).
 *  4. When ns_config_uses_groups says no, groups change neither the
 *     policy nor the exemption (callers then skip the NSS lookup).
 *  5. The libconfuse layer's blanking keeps the file's lines: blanking
 *     comments only turns bytes into spaces and keeps every newline
 *     (ns_confuse.c, invariant 5), and is idempotent. */
#include <arpa/inet.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/ns_config_int.h"
#include "fuzz.h"
#include "ns_config.h"
#include "ns_names.h"

#define MAX_INPUT (64 * 1024)   /* ns.conf may be 1 MiB; small inputs keep execs fast */

static const char *const users[] = { "alice", "bob", "root", "carol" };
static const char *const groups[] = { "staff", "wheel", "users", "alice" };

static void check_errlist(const struct ns_errlist *e, int r)
{
	FUZZ_CHECK(e->n <= NS_MAX_ERRS, "n=%zu", e->n);
	for (size_t i = 0; i < e->n; i++)
		FUZZ_CHECK(memchr(e->line[i], 0, sizeof(e->line[i])) != NULL, "line %zu unterminated", i);
	if (r == 0)
		FUZZ_CHECK(e->n == 0 && e->dropped == 0, "loaded with %zu errors: %s", e->n,
			   e->n ? e->line[0] : "");
	else
		FUZZ_CHECK(e->n > 0, "refused (%d) without an error line", r);
}

static void check_policy(const struct ns_policy *p, const struct ns_globals *g)
{
	FUZZ_CHECK(!(p->clone_flags & CLONE_NEWPID) || (p->clone_flags & CLONE_NEWNS), "flags %#x",
		   p->clone_flags);
	FUZZ_CHECK(p->network <= NS_NET_ROUTED && p->netns <= NS_NETNS_SESSION &&
		   p->address <= NS_ADDR_STATIC, "enum out of range");
	FUZZ_CHECK(memchr(p->hostname, 0, sizeof(p->hostname)) && ns_hostname_template_valid(p->hostname),
		   "hostname template \"%s\"", p->hostname);
	FUZZ_CHECK(memchr(p->shell, 0, sizeof(p->shell)) && p->shell[0] == '/', "shell \"%s\"", p->shell);
	FUZZ_CHECK(p->n_dns <= NS_MAX_LIST && p->n_deny <= NS_MAX_LIST, "lists %zu %zu", p->n_dns,
		   p->n_deny);
	for (size_t i = 0; i < p->n_dns; i++)
		FUZZ_CHECK(p->dns[i].prefix == (p->dns[i].family == AF_INET ? 32u : 128u), "dns prefix %u",
			   p->dns[i].prefix);
	if (p->address == NS_ADDR_STATIC) {
		FUZZ_CHECK(p->static_addr.family == AF_INET && p->static_addr.prefix >= 1 &&
			   p->static_addr.prefix <= 30, "static address");
		FUZZ_CHECK(g->pool.family != AF_INET || ns_cidr_contains(&g->pool, &p->static_addr),
			   "static address outside the pool");
	}
	char buf[64];
	/* as ns-shell expands it: per-session and per-user namespace */
	char host[65];
	FUZZ_CHECK(ns_hostname_expand(p->hostname, "alice", "host", "0123abcd", host, sizeof(host)) == 0 &&
		   ns_hostname_expand(p->hostname, "a", "", NULL, host, sizeof(host)) == 0,
		   "template \"%s\" loads but does not expand", p->hostname);
	FUZZ_CHECK(strlen(host) <= 63, "expanded hostname too long");
	ns_cidr_format(&p->static_addr, true, buf, sizeof(buf));
}

static bool same_cidrs(const struct ns_cidr *a, const struct ns_cidr *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].family != b[i].family || a[i].prefix != b[i].prefix ||
		    memcmp(&a[i].addr, &b[i].addr, a[i].family == AF_INET ? 4 : 16) != 0)
			return false;
	return true;
}

static void round_trip(const struct ns_config *c, const struct ns_policy *p, const char *orig)
{
	/* ns_policy_print writes values between double quotes as they are:
	 * a value holding a quote, a backslash or `$` cannot come back
	 * (reported separately; not what this property is about). */
	if (strpbrk(p->hostname, "\"\\$'") || strpbrk(p->shell, "\"\\$'"))
		return;
	const struct ns_globals *g = ns_config_globals(c);
	char pool[64], gw[64];
	ns_cidr_format(&g->pool, true, pool, sizeof(pool));
	ns_cidr_format(&g->gateway, false, gw, sizeof(gw));

	char *printed = NULL, *text = NULL;
	size_t plen = 0, tlen = 0;
	FILE *f = open_memstream(&printed, &plen);
	FUZZ_CHECK(f != NULL, "open_memstream");
	ns_policy_print(f, p);
	fclose(f);
	f = open_memstream(&text, &tlen);
	FUZZ_CHECK(f != NULL, "open_memstream");
	fprintf(f, "pool = \"%s\"\ngateway = \"%s\"\nbridge_address = \"\"\ndefault {\n%s}\n", pool, gw,
		printed);
	fclose(f);

	struct ns_config *c2 = NULL;
	struct ns_errlist errs;
	int r = ns_config_load_string(text, "rt.conf", &c2, &errs);
	FUZZ_CHECK(r == 0, "printed policy does not load back (%s)\n--- original:\n%s\n--- reloaded:\n%s",
		   errs.n ? errs.line[0] : "?", orig, text);
	struct ns_policy q;
	ns_policy_resolve(c2, "nobody-rt", NULL, 0, &q);
	FUZZ_CHECK(q.clone_flags == p->clone_flags && q.network == p->network && q.netns == p->netns &&
		   q.address == p->address && strcmp(q.hostname, p->hostname) == 0 &&
		   strcmp(q.shell, p->shell) == 0 && q.private_tmp == p->private_tmp &&
		   q.private_shm == p->private_shm && q.rate_bps == p->rate_bps &&
		   q.burst_bytes == p->burst_bytes && q.n_dns == p->n_dns && q.n_deny == p->n_deny &&
		   same_cidrs(q.dns, p->dns, p->n_dns) && same_cidrs(q.deny, p->deny, p->n_deny) &&
		   (p->address != NS_ADDR_STATIC || same_cidrs(&q.static_addr, &p->static_addr, 1)),
		   "policy changed on a print/load round trip\n--- original:\n%s\n--- reloaded:\n%s", orig,
		   text);
	ns_config_free(c2);
	free(printed);
	free(text);
}

static void check_blanking(const char *text)
{
	size_t len = strlen(text);
	char *t = strdup(text);
	FUZZ_CHECK(t != NULL, "strdup");
	int open_quote = ns_confuse_blank_comments(t);
	FUZZ_CHECK(strlen(t) == len, "blanking changed the length");
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(t[i] == text[i] || (t[i] == ' ' && text[i] != '\n'),
			   "blanking changed byte %zu into '%c'", i, t[i]);
	char *again = strdup(t);
	FUZZ_CHECK(again != NULL, "strdup");
	FUZZ_CHECK(ns_confuse_blank_comments(again) == open_quote && strcmp(again, t) == 0,
		   "blanking twice differs");
	free(again);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text_max(data, size, MAX_INPUT);
	if (!text)
		return -1;

	check_blanking(text);
	struct ns_config *c = NULL;
	struct ns_errlist errs;
	int r = ns_config_load_string(text, "fuzz.conf", &c, &errs);
	check_errlist(&errs, r);
	FUZZ_CHECK((r == 0) == (c != NULL), "r=%d c=%p", r, (void *)c);
	if (r == 0) {
		const struct ns_globals *g = ns_config_globals(c);
		FUZZ_CHECK(g->n_exempt_users <= NS_MAX_LIST && g->n_exempt_groups <= NS_MAX_LIST, "exempt lists");
		bool uses_groups = ns_config_uses_groups(c);
		for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
			/* user u gets the first u groups: none, one, two, three */
			struct ns_policy p, q;
			bool ex = ns_config_exempt(c, users[u], 1000 + u, groups, u);
			ns_policy_resolve(c, users[u], groups, u, &p);
			check_policy(&p, g);
			round_trip(c, &p, text);
			/* callers skip the NSS group lookup when this says so */
			if (!uses_groups) {
				ns_policy_resolve(c, users[u], NULL, 0, &q);
				FUZZ_CHECK(memcmp(&p, &q, sizeof(p)) == 0 &&
					   ex == ns_config_exempt(c, users[u], 1000 + u, NULL, 0),
					   "groups matter although ns_config_uses_groups says no\n%s", text);
			}
		}
		ns_config_free(c);
	}
	free(text);
	return 0;
}
