/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_policy.c — a loaded config applied to one user: exemption, key by key
 * resolution with provenance, printing, and ns_policy_for(), the one place
 * the programs get a user's policy from. */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "ns_config_int.h"
#include "ns_names.h"
#include "ns_policy.h"

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

bool ns_config_exempt(const struct ns_config *c, const char *user, uid_t uid,
		      const char *const *groups, size_t n_groups)
{
	const struct ns_globals *g = &c->g;
	if (uid == 0 || uid < g->exempt_uid_below)
		return true;
	for (size_t i = 0; i < g->n_exempt_users; i++)
		if (strcmp(user, g->exempt_users[i]) == 0)
			return true;
	for (size_t i = 0; i < g->n_exempt_groups; i++)
		if (in_list(g->exempt_groups[i], groups, n_groups))
			return true;
	return false;
}

bool ns_config_uses_groups(const struct ns_config *c)
{
	return c->g.n_exempt_groups > 0 || cfg_size(c->cfg, "group") > 0;
}

/* ---- resolution ---- */

static void builtin_policy(struct ns_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->clone_flags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET;
	p->network = NS_NET_BRIDGE;
	p->netns = NS_NETNS_USER;
	p->address = NS_ADDR_POOL;
	strcpy(p->hostname, "%u");
	strcpy(p->shell, "/bin/bash");
	p->private_tmp = false;
	p->private_shm = true;
	p->max_sessions = 64;
	p->linger = true;
}

/* The blocks that may apply to one user. */
struct candidates {
	cfg_t *user, *dflt;
	cfg_t *cfg;
	unsigned n_groups_blocks;
	const char *const *groups;
	size_t n_groups;
};

/* The block that sets KEY for the user: its own, else the first matching
 * group block in file order, else default; NULL: the built-in value. */
static cfg_t *block_for(const struct candidates *b, const char *key, enum ns_source *ret_src)
{
	*ret_src = NS_SRC_USER;
	if (b->user && ns_opt_is_set(cfg_getopt(b->user, key)))
		return b->user;
	*ret_src = NS_SRC_GROUP;
	for (unsigned i = 0; i < b->n_groups_blocks; i++) {
		cfg_t *gsec = cfg_getnsec(b->cfg, "group", i);
		if (in_list(gsec->title, b->groups, b->n_groups) && ns_opt_is_set(cfg_getopt(gsec, key)))
			return gsec;
	}
	*ret_src = NS_SRC_DEFAULT;
	if (b->dflt && ns_opt_is_set(cfg_getopt(b->dflt, key)))
		return b->dflt;
	*ret_src = NS_SRC_BUILTIN;
	return NULL;
}

void ns_policy_resolve(const struct ns_config *c, const char *user,
		       const char *const *groups, size_t n_groups, struct ns_policy *ret)
{
	struct candidates b = {
		.user = cfg_gettsec(c->cfg, "user", user), .dflt = cfg_getsec(c->cfg, "default"),
		.cfg = c->cfg, .n_groups_blocks = cfg_size(c->cfg, "group"),
		.groups = groups, .n_groups = n_groups,
	};
	char why[200];

	builtin_policy(ret);
	for (int k = 0; k < NS_KEY__MAX; k++) {
		const char *name = ns_key_name((enum ns_key)k);
		enum ns_source src;
		cfg_t *from = block_for(&b, name, &src);
		/* Values were validated by the same function at load time. */
		if (from && ns_config_apply_policy_key((enum ns_key)k, cfg_getopt(from, name), ret, why,
						       sizeof(why)) < 0)
			src = NS_SRC_BUILTIN;
		ret->src[k] = src;
		snprintf(ret->src_name[k], sizeof(ret->src_name[k]), "%s", (from && from->title) ? from->title : "");
	}
}

/* ---- printing ---- */

static void print_list(FILE *f, const struct ns_cidr *arr, size_t n)
{
	char buf[64];
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		ns_cidr_format(&arr[i], arr[i].prefix != (arr[i].family == AF_INET ? 32u : 128u), buf, sizeof(buf));
		fprintf(f, "%s\"%s\"", i ? ", " : "", buf);
	}
	fputc('}', f);
}

static void print_namespaces(FILE *f, unsigned clone_flags)
{
	int first = 1;
	fputc('{', f);
	for (const struct ns_kind *kind = ns_kinds; kind->name; kind++)
		if (clone_flags & (unsigned)kind->clone_flag) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", kind->name);
			first = 0;
		}
	fputc('}', f);
}

/* A number with a unit, "" for none (0). */
static void print_amount(FILE *f, uint64_t v, const char *unit)
{
	if (v)
		fprintf(f, "\"%llu%s\"", (unsigned long long)v, unit);
	else
		fputs("\"\"", f);
}

static void print_value(FILE *f, const struct ns_policy *p, enum ns_key k)
{
	char buf[64];
	switch (k) {
	case NS_KEY_NAMESPACES: print_namespaces(f, p->clone_flags); break;
	case NS_KEY_NETWORK: fprintf(f, "\"%s\"", ns_network_name(p->network)); break;
	case NS_KEY_NETNS: fprintf(f, "\"%s\"", ns_netns_mode_name(p->netns)); break;
	case NS_KEY_ADDRESS:
		if (p->address == NS_ADDR_STATIC)
			ns_cidr_format(&p->static_addr, true, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%s", ns_addr_mode_name(p->address));
		fprintf(f, "\"%s\"", buf);
		break;
	case NS_KEY_HOSTNAME: fprintf(f, "\"%s\"", p->hostname); break;
	case NS_KEY_SHELL: fprintf(f, "\"%s\"", p->shell); break;
	case NS_KEY_PRIVATE_TMP: fputs(p->private_tmp ? "true" : "false", f); break;
	case NS_KEY_PRIVATE_SHM: fputs(p->private_shm ? "true" : "false", f); break;
	case NS_KEY_RATE: print_amount(f, p->rate_bps, "bit"); break;
	case NS_KEY_BURST: print_amount(f, p->burst_bytes, "b"); break;
	case NS_KEY_DNS: print_list(f, p->dns, p->n_dns); break;
	case NS_KEY_DENY: print_list(f, p->deny, p->n_deny); break;
	case NS_KEY_MAX_SESSIONS: fprintf(f, "%u", p->max_sessions); break;
	case NS_KEY_LINGER: fputs(p->linger ? "true" : "false", f); break;
	case NS_KEY__MAX: break;
	}
}

void ns_policy_print(FILE *f, const struct ns_policy *p)
{
	for (int k = 0; k < NS_KEY__MAX; k++) {
		fprintf(f, "%-12s = ", ns_key_name((enum ns_key)k));
		print_value(f, p, (enum ns_key)k);
		if (p->src[k] == NS_SRC_GROUP || p->src[k] == NS_SRC_USER)
			fprintf(f, "   # %s %s\n", ns_source_name(p->src[k]), p->src_name[k]);
		else
			fprintf(f, "   # %s\n", ns_source_name(p->src[k]));
	}
}

/* ---- one user's policy, for the programs ---- */

void ns_user_policy_done(struct ns_user_policy *u)
{
	free(u->groups);
	u->groups = NULL;
	u->n_groups = 0;
}

/* The group names ns.conf mentions: exempt_groups, then the group blocks. */
static size_t config_group_names(const struct ns_config *c, const char **names, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < c->g.n_exempt_groups && n < max; i++)
		names[n++] = c->g.exempt_groups[i];
	unsigned nb = cfg_size(c->cfg, "group");
	for (unsigned i = 0; i < nb && n < max; i++) {
		const char *t = cfg_getnsec(c->cfg, "group", i)->title;
		if (t)
			names[n++] = t;
	}
	return n;
}

int ns_policy_lookup(const struct ns_config *c, const char *user, uid_t uid, gid_t gid,
		     struct ns_user_policy *ret, struct ns_err *err)
{
	char **groups = NULL;
	size_t ng = 0;
	int r;
	if (ns_config_uses_groups(c)) {
		size_t max = c->g.n_exempt_groups + cfg_size(c->cfg, "group");
		_cleanup_free_ const char **names = calloc(max + 1, sizeof(char *));
		const char *failed = "?";
		if (!names)
			return ns_fail(err, -ENOMEM, "out of memory");
		size_t n = config_group_names(c, names, max);
		if ((r = ns_user_groups_among(user, gid, names, n, &groups, &ng, &failed)) < 0)
			return ns_fail(err, r, "cannot read the groups of %s (group %s: %s)", user, failed,
				       strerror(-r));
	}
	const char *const *names = (const char *const *)groups;
	ret->exempt = ns_config_exempt(c, user, uid, names, ng);
	ns_policy_resolve(c, user, names, ng, &ret->policy);
	ret->groups = groups;
	ret->n_groups = ng;
	return 0;
}

int ns_policy_for(const char *conf_path, const char *user, uid_t uid, gid_t gid,
		  struct ns_config **ret_cfg, struct ns_user_policy *ret, struct ns_errlist *errs,
		  struct ns_err *err)
{
	_cleanup_config_ struct ns_config *c = NULL;
	memset(errs, 0, sizeof(*errs));
	int r = ns_config_load(conf_path, &c, errs);
	if (r < 0) {
		if (errs->n == 0) {   /* out of memory before a line was written */
			snprintf(errs->line[0], sizeof(errs->line[0]), "%s: %s", conf_path, strerror(-r));
			errs->n = 1;
		}
		return ns_fail(err, r, "configuration %s is not valid", conf_path);
	}
	r = ns_policy_lookup(c, user, uid, gid, ret, err);
	if (r < 0)
		return r;
	*ret_cfg = TAKE_PTR(c);
	return 0;
}
