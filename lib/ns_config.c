/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_config.c — /etc/security/ns.conf: the keys, their checks, the load.
 *
 * Invariants:
 *  1. The file is judged on the descriptor we read: regular, owned by root,
 *     not writable by group or others, at most NS_CONF_MAX bytes; opened
 *     with O_NOFOLLOW|O_NONBLOCK so a symlink or FIFO is refused, not
 *     followed or waited on.
 *  2. No value ever comes from the caller's environment, and every error
 *     carries FILE:LINE: libconfuse is only ever run through
 *     ns_confuse_parse() (ns_confuse.c says how).
 *  3. Every value is checked by the same function that later converts it
 *     (a policy key's apply, a global key's check), so a file that loads
 *     resolves without errors. All problems are collected.
 *  4. A loaded config is never modified.
 *
 * One table per key set: policy_keys (the blocks) and global_keys (the top
 * level) give each key's name, libconfuse type and default, and the one
 * function that checks and converts it; one name table per enum. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ns_config_int.h"
#include "ns_names.h"
#include "ns_units.h"

#define NS_CONF_MAX (1024 * 1024)
#ifndef NS_DHCP_SCRIPT
#define NS_DHCP_SCRIPT "/usr/lib/ns-shell/udhcpc.script"
#endif

/* ---- name tables (parser, error messages, printing) ---- */

static const char *const network_names[] = { "bridge", "isolated", "host", "routed", NULL };
static const char *const netns_names[] = { "user", "session", NULL };
/* NS_ADDR_STATIC has no name: the file gives the address itself. */
static const char *const address_names[] = { [NS_ADDR_POOL] = "pool", [NS_ADDR_DHCP] = "dhcp", NULL };
static const char *const source_names[] = { "built-in", "default", "group", "user" };

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* "a, b, c": the names of a table, for error messages. */
static const char *name_list(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; names[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
	return buf;
}

const char *ns_network_name(enum ns_network n) { return n <= NS_NET_ROUTED ? network_names[n] : "?"; }
const char *ns_netns_mode_name(enum ns_netns_mode m) { return m <= NS_NETNS_SESSION ? netns_names[m] : "?"; }
const char *ns_source_name(enum ns_source s) { return s <= NS_SRC_USER ? source_names[s] : "?"; }
const char *ns_addr_mode_name(enum ns_addr_mode m)
{
	return m < NS_ADDR_STATIC ? address_names[m] : m == NS_ADDR_STATIC ? "static" : "?";
}

static bool abs_path_ok(const char *s, size_t max)
{
	return s[0] == '/' && strlen(s) < max && !strstr(s, "/../") &&
	       !(strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0) && !strchr(s, '\n');
}

#define WHY(...) (snprintf(why, whysz, __VA_ARGS__), -EINVAL)

/* ---- per-user keys: one apply function each ----
 * S is the first string value (NULL for other types). */

typedef int policy_apply_fn(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz);

static int apply_namespaces(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	unsigned n = cfg_opt_size(opt), flags = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct ns_kind *kind = ns_kind_by_name(cfg_opt_getnstr(opt, i));
		if (!kind)
			return WHY("unknown namespace \"%s\" (known: pid ipc mount uts net)", cfg_opt_getnstr(opt, i));
		flags |= (unsigned)kind->clone_flag;
	}
	if ((flags & CLONE_NEWPID) && !(flags & CLONE_NEWNS))
		return WHY("\"pid\" needs \"mount\" (a fresh /proc is mounted for it)");
	p->clone_flags = flags;
	return 0;
}

static int apply_network(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	char names[64];
	int i = name_index(network_names, s);
	if (i < 0)
		return WHY("\"%s\" is not one of %s", s, name_list(network_names, names, sizeof(names)));
	p->network = (enum ns_network)i;
	return 0;
}

static int apply_netns(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	char names[64];
	int i = name_index(netns_names, s);
	if (i < 0)
		return WHY("\"%s\" is not one of %s", s, name_list(netns_names, names, sizeof(names)));
	p->netns = (enum ns_netns_mode)i;
	return 0;
}

static int apply_address(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	char names[64];
	struct ns_cidr c;
	int i = name_index(address_names, s);
	if (i >= 0) {
		p->address = (enum ns_addr_mode)i;
		return 0;
	}
	if (ns_cidr_parse(s, true, &c) < 0 || c.family != AF_INET || c.prefix < 1 || c.prefix > 30)
		return WHY("\"%s\" is not %s or an address A.B.C.D/N", s,
			   name_list(address_names, names, sizeof(names)));
	p->address = NS_ADDR_STATIC;
	p->static_addr = c;
	return 0;
}

static int apply_hostname(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	if (!ns_hostname_template_valid(s))
		return WHY("\"%s\": bad template (use %%u, %%h, %%s, %%%%; under 128 bytes)", s);
	return ns_strlcpy(p->hostname, s, sizeof(p->hostname));
}

static int apply_shell(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	if (!abs_path_ok(s, sizeof(p->shell)))
		return WHY("\"%s\" is not an absolute path", s);
	return ns_strlcpy(p->shell, s, sizeof(p->shell));
}

static int apply_private_tmp(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	p->private_tmp = cfg_opt_getnbool(opt, 0);
	return 0;
}

static int apply_private_shm(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	p->private_shm = cfg_opt_getnbool(opt, 0);
	return 0;
}

static int apply_linger(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	p->linger = cfg_opt_getnbool(opt, 0);
	return 0;
}

static int apply_rate(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	p->rate_bps = 0;
	if (*s && ns_parse_rate(s, &p->rate_bps) < 0)
		return WHY("\"%s\" is not a rate like 20mbit", s);
	return 0;
}

static int apply_burst(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	p->burst_bytes = 0;
	if (*s && ns_parse_size(s, &p->burst_bytes) < 0)
		return WHY("\"%s\" is not a size like 64kb", s);
	return 0;
}

/* dns (DNS: whole addresses only) or deny (addresses or networks). */
static int apply_cidr_list(cfg_opt_t *opt, bool dns, struct ns_cidr *arr, size_t *ret_n, char *why,
			   size_t whysz)
{
	unsigned n = cfg_opt_size(opt);
	if (n > NS_MAX_LIST)
		return WHY("at most %d entries", NS_MAX_LIST);
	for (unsigned i = 0; i < n; i++) {
		const char *v = cfg_opt_getnstr(opt, i);
		if (ns_cidr_parse(v, false, &arr[i]) < 0 ||
		    (dns && arr[i].prefix != (arr[i].family == AF_INET ? 32u : 128u)))
			return WHY("\"%s\" is not %s", v, dns ? "an IP address" : "an address or CIDR");
	}
	*ret_n = n;
	return 0;
}

static int apply_dns(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	return apply_cidr_list(opt, true, p->dns, &p->n_dns, why, whysz);
}

static int apply_deny(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	return apply_cidr_list(opt, false, p->deny, &p->n_deny, why, whysz);
}

static int apply_max_sessions(cfg_opt_t *opt, const char *s, struct ns_policy *p, char *why, size_t whysz)
{
	long v = cfg_opt_getnint(opt, 0);
	if (v < 1 || v > 1023)
		return WHY("%ld is not 1-1023", v);
	p->max_sessions = (unsigned)v;
	return 0;
}

/* The keys of default/group/user blocks, in enum ns_key order. No
 * defaults: a key a block leaves out is inherited (ns_policy_resolve). */
static const struct policy_key {
	cfg_opt_t opt;              /* name and libconfuse type */
	policy_apply_fn *apply;
} policy_keys[] = {
	[NS_KEY_NAMESPACES] = { CFG_STR_LIST("namespaces", NULL, CFGF_NODEFAULT), apply_namespaces },
	[NS_KEY_NETWORK] = { CFG_STR("network", NULL, CFGF_NODEFAULT), apply_network },
	[NS_KEY_NETNS] = { CFG_STR("netns", NULL, CFGF_NODEFAULT), apply_netns },
	[NS_KEY_ADDRESS] = { CFG_STR("address", NULL, CFGF_NODEFAULT), apply_address },
	[NS_KEY_HOSTNAME] = { CFG_STR("hostname", NULL, CFGF_NODEFAULT), apply_hostname },
	[NS_KEY_SHELL] = { CFG_STR("shell", NULL, CFGF_NODEFAULT), apply_shell },
	[NS_KEY_PRIVATE_TMP] = { CFG_BOOL("private_tmp", cfg_false, CFGF_NODEFAULT), apply_private_tmp },
	[NS_KEY_PRIVATE_SHM] = { CFG_BOOL("private_shm", cfg_false, CFGF_NODEFAULT), apply_private_shm },
	[NS_KEY_RATE] = { CFG_STR("rate", NULL, CFGF_NODEFAULT), apply_rate },
	[NS_KEY_BURST] = { CFG_STR("burst", NULL, CFGF_NODEFAULT), apply_burst },
	[NS_KEY_DNS] = { CFG_STR_LIST("dns", NULL, CFGF_NODEFAULT), apply_dns },
	[NS_KEY_DENY] = { CFG_STR_LIST("deny", NULL, CFGF_NODEFAULT), apply_deny },
	[NS_KEY_MAX_SESSIONS] = { CFG_INT("max_sessions", 0, CFGF_NODEFAULT), apply_max_sessions },
	[NS_KEY_LINGER] = { CFG_BOOL("linger", cfg_false, CFGF_NODEFAULT), apply_linger },
};

/* A key added to enum ns_key (before NS_KEY__MAX) needs its row here; the
 * printer's switch (ns_policy.c) has no default for the same reason. */
_Static_assert(ARRAY_SIZE(policy_keys) == NS_KEY__MAX, "enum ns_key and policy_keys[] differ");

const char *ns_key_name(enum ns_key k) { return k < NS_KEY__MAX ? policy_keys[k].opt.name : "?"; }

int ns_config_apply_policy_key(enum ns_key k, cfg_opt_t *opt, struct ns_policy *p, char *why, size_t whysz)
{
	unsigned n = cfg_opt_size(opt);
	const char *s = (opt->type == CFGT_STR && n > 0) ? cfg_opt_getnstr(opt, 0) : NULL;
	if (opt->type == CFGT_STR && !(opt->flags & CFGF_LIST) && !s)
		return WHY("missing value");
	if (k >= NS_KEY__MAX)
		return WHY("unknown key");
	return policy_keys[k].apply(opt, s, p, why, whysz);
}

/* ---- global keys: one check function per kind of value ---- */

enum {
	GK_OPTIONAL = 1 << 0,   /* "" is allowed and means none */
	GK_NETWORK = 1 << 1,    /* host bits must be zero */
	GK_V6 = 1 << 2,         /* an IPv6 address, not IPv4 */
	GK_ZERO_OK = 1 << 3,    /* 0 is allowed outside min-max */
};

struct global_key;
typedef int global_check_fn(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
			    char *why, size_t whysz);

struct global_key {
	cfg_opt_t opt;              /* name, libconfuse type, built-in value */
	global_check_fn *check;     /* checks the value and stores it in FIELD */
	size_t field, size;         /* the field of struct ns_globals and its size */
	size_t count;               /* lists: the field holding the number of entries */
	long min, max;              /* integers: the range ... */
	const char *range;          /* ... as errors say it */
	unsigned flags;             /* GK_* */
};

static const char *opt_str(cfg_opt_t *opt)
{
	return (opt->type == CFGT_STR && cfg_opt_size(opt) > 0) ? cfg_opt_getnstr(opt, 0) : "";
}

static int check_ifname(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
			char *why, size_t whysz)
{
	const char *s = opt_str(opt);
	if (!ns_ifname_valid(s))
		return WHY("\"%s\" is not an interface name (1-15 bytes, no '/', ':' or spaces)", s);
	return ns_strlcpy(field, s, k->size);
}

static int check_bool(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		      char *why, size_t whysz)
{
	*(bool *)field = (opt->type == CFGT_BOOL && cfg_opt_size(opt) > 0) ? cfg_opt_getnbool(opt, 0) : false;
	return 0;
}

static int check_uint(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		      char *why, size_t whysz)
{
	long v = (opt->type == CFGT_INT && cfg_opt_size(opt) > 0) ? cfg_opt_getnint(opt, 0) : 0;
	if ((v != 0 || !(k->flags & GK_ZERO_OK)) && (v < k->min || v > k->max))
		return WHY("%ld is not %s", v, k->range);
	*(unsigned *)field = (unsigned)v;
	return 0;
}

/* An IPv4 network A.B.C.D/N, N 8-30 (bridge_address, pool). */
static int check_net4(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		      char *why, size_t whysz)
{
	const char *s = opt_str(opt);
	struct ns_cidr *c = field;
	memset(c, 0, sizeof(*c));
	if (!*s && (k->flags & GK_OPTIONAL))
		return 0;
	if (ns_cidr_parse(s, true, c) < 0 || c->family != AF_INET || c->prefix > 30 || c->prefix < 8)
		return memset(c, 0, sizeof(*c)), WHY("\"%s\" is not an IPv4 network A.B.C.D/N (N 8-30)", s);
	if ((k->flags & GK_NETWORK) && !ns_cidr_host_bits_zero(c))
		return memset(c, 0, sizeof(*c)), WHY("\"%s\" has host bits set (a pool is a network address)", s);
	return 0;
}

/* An IPv6 network, prefix 64-120 (pool6); "" for none. */
static int check_net6(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		      char *why, size_t whysz)
{
	const char *s = opt_str(opt);
	struct ns_cidr *c = field;
	memset(c, 0, sizeof(*c));
	if (!*s)
		return 0;
	if (ns_cidr_parse(s, true, c) < 0 || c->family != AF_INET6 || c->prefix < 64 || c->prefix > 120 ||
	    !ns_cidr_host_bits_zero(c))
		return memset(c, 0, sizeof(*c)), WHY("\"%s\" is not an IPv6 network (prefix 64-120)", s);
	return 0;
}

/* One address without a prefix (gateway, gateway6); "" for none. */
static int check_addr(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		      char *why, size_t whysz)
{
	const char *s = opt_str(opt);
	bool six = k->flags & GK_V6;
	struct ns_cidr *c = field;
	memset(c, 0, sizeof(*c));
	if (!*s)
		return 0;
	if (ns_cidr_parse(s, false, c) < 0 || c->family != (six ? AF_INET6 : AF_INET) || strchr(s, '/'))
		return memset(c, 0, sizeof(*c)), WHY("\"%s\" is not an IPv%c address", s, six ? '6' : '4');
	return 0;
}

/* A list of user or group names (exempt_users, exempt_groups). */
static int check_names(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		       char *why, size_t whysz)
{
	unsigned n = cfg_opt_size(opt);
	char (*names)[64] = field;
	if (n > NS_MAX_LIST)
		return WHY("at most %d entries", NS_MAX_LIST);
	for (unsigned i = 0; i < n; i++) {
		const char *e = cfg_opt_getnstr(opt, i);
		if (!ns_user_name_valid(e))
			return WHY("\"%s\" is not a valid name", e);
		ns_strlcpy(names[i], e, sizeof(names[i]));
	}
	*(size_t *)((char *)g + k->count) = n;
	return 0;
}

static int check_path(const struct global_key *k, cfg_opt_t *opt, void *field, struct ns_globals *g,
		      char *why, size_t whysz)
{
	const char *s = opt_str(opt);
	if (!abs_path_ok(s, k->size))
		return WHY("\"%s\" is not an absolute path (under %zu bytes)", s, k->size);
	return ns_strlcpy(field, s, k->size);
}

#define FIELD(f) .field = offsetof(struct ns_globals, f), .size = sizeof(((struct ns_globals *)0)->f)
#define COUNT(f) .count = offsetof(struct ns_globals, f)

/* The top-level keys, in the order libconfuse and the checks see them. */
static const struct global_key global_keys[] = {
	{ CFG_STR("bridge", "nsbr0", CFGF_NONE), check_ifname, FIELD(bridge) },
	{ CFG_BOOL("create_bridge", cfg_true, CFGF_NONE), check_bool, FIELD(create_bridge) },
	{ CFG_STR("bridge_address", "10.213.0.1/16", CFGF_NONE), check_net4, FIELD(bridge_address),
	  .flags = GK_OPTIONAL },
	{ CFG_STR("pool", "10.213.0.0/16", CFGF_NONE), check_net4, FIELD(pool), .flags = GK_NETWORK },
	{ CFG_STR("gateway", "10.213.0.1", CFGF_NONE), check_addr, FIELD(gateway) },
	{ CFG_BOOL("isolate_ports", cfg_true, CFGF_NONE), check_bool, FIELD(isolate_ports) },
	{ CFG_INT("mtu", 0, CFGF_NONE), check_uint, FIELD(mtu), .min = 68, .max = 65535,
	  .range = "0 or 68-65535", .flags = GK_ZERO_OK },
	{ CFG_INT("exempt_uid_below", 1000, CFGF_NONE), check_uint, FIELD(exempt_uid_below), .min = 0,
	  .max = 2147483647L, .range = "a uid (0-2147483647)" },
	{ CFG_STR_LIST("exempt_users", "{root}", CFGF_NONE), check_names, FIELD(exempt_users),
	  COUNT(n_exempt_users) },
	{ CFG_STR_LIST("exempt_groups", "{}", CFGF_NONE), check_names, FIELD(exempt_groups),
	  COUNT(n_exempt_groups) },
	{ CFG_STR("pool6", "", CFGF_NONE), check_net6, FIELD(pool6) },
	{ CFG_STR("gateway6", "", CFGF_NONE), check_addr, FIELD(gateway6), .flags = GK_V6 },
	{ CFG_STR("dhcp_client", "/sbin/udhcpc", CFGF_NONE), check_path, FIELD(dhcp_client) },
	{ CFG_STR("dhcp_script", NS_DHCP_SCRIPT, CFGF_NONE), check_path, FIELD(dhcp_script) },
	{ CFG_INT("dhcp_timeout", 10, CFGF_NONE), check_uint, FIELD(dhcp_timeout), .min = 1, .max = 300,
	  .range = "1-300 seconds" },
	{ CFG_STR("state_dir", "/run/ns-shell", CFGF_NONE), check_path, FIELD(state_dir) },
	{ CFG_STR("lease_file", "/var/lib/ns-shell/leases", CFGF_NONE), check_path, FIELD(lease_file) },
};

static int apply_global_key(const struct global_key *k, cfg_opt_t *opt, struct ns_globals *g, char *why,
			    size_t whysz)
{
	return k->check(k, opt, (char *)g + k->field, g, why, whysz);
}

/* ---- the libconfuse schema, from the two tables ---- */

static void policy_opts(cfg_opt_t out[NS_KEY__MAX + 1])
{
	for (int k = 0; k < NS_KEY__MAX; k++)
		out[k] = policy_keys[k].opt;
	out[NS_KEY__MAX] = (cfg_opt_t)CFG_END();
}

static cfg_t *new_cfg(void)
{
	/* cfg_init copies these arrays, so they can live on the stack. */
	cfg_opt_t def_opts[NS_KEY__MAX + 1], group_opts[NS_KEY__MAX + 1], user_opts[NS_KEY__MAX + 1];
	cfg_opt_t opts[ARRAY_SIZE(global_keys) + 4];
	size_t n = 0;
	policy_opts(def_opts);
	policy_opts(group_opts);
	policy_opts(user_opts);
	for (size_t i = 0; i < ARRAY_SIZE(global_keys); i++)
		opts[n++] = global_keys[i].opt;
	opts[n++] = (cfg_opt_t)CFG_SEC("default", def_opts, CFGF_NONE);
	opts[n++] = (cfg_opt_t)CFG_SEC("group", group_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[n++] = (cfg_opt_t)CFG_SEC("user", user_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[n] = (cfg_opt_t)CFG_END();
	return cfg_init(opts, CFGF_NONE);
}

/* ---- validation: every value, then the checks across keys ---- */

static void report(struct ns_parse_ctx *p, const cfg_t *sec, const char *key, const char *why)
{
	char label[100];
	int line = ns_parse_key_line(p, sec, key);
	if (line == 0)
		line = sec && strcmp(sec->name, "root") != 0 ? sec->line : 0;
	ns_parse_error(p, "%s:%d: %s%s: %s", p->name, line, ns_confuse_label(sec, label, sizeof(label)), key, why);
}

/* Call FN for every block: default, the group blocks, the user blocks, in
 * file order within each kind, until it returns true. */
static bool each_block(cfg_t *cfg, bool (*fn)(cfg_t *sec, void *data), void *data)
{
	static const char *const kinds[] = { "default", "group", "user" };
	for (size_t s = 0; s < ARRAY_SIZE(kinds); s++) {
		unsigned n = cfg_size(cfg, kinds[s]);
		for (unsigned i = 0; i < n; i++)
			if (fn(cfg_getnsec(cfg, kinds[s], i), data))
				return true;
	}
	return false;
}

static void validate_globals(struct ns_parse_ctx *p, struct ns_config *c)
{
	char why[200];
	for (size_t i = 0; i < ARRAY_SIZE(global_keys); i++) {
		const char *name = global_keys[i].opt.name;
		strcpy(why, "invalid value");
		if (apply_global_key(&global_keys[i], cfg_getopt(c->cfg, name), &c->g, why, sizeof(why)) < 0)
			report(p, c->cfg, name, why);
	}
}

static bool validate_block(cfg_t *sec, void *data)
{
	struct ns_parse_ctx *p = data;
	char why[200];
	if (sec->title && !ns_user_name_valid(sec->title)) {
		ns_parse_error(p, "%s:%d: %s \"%s\": not a valid name", p->name, sec->line, sec->name, sec->title);
		return false;
	}
	for (int k = 0; k < NS_KEY__MAX; k++) {
		struct ns_policy scratch;
		cfg_opt_t *o = cfg_getopt(sec, policy_keys[k].opt.name);
		strcpy(why, "invalid value");
		if (ns_opt_is_set(o) && ns_config_apply_policy_key((enum ns_key)k, o, &scratch, why, sizeof(why)) < 0)
			report(p, sec, policy_keys[k].opt.name, why);
	}
	return false;
}

static bool says_dhcp(cfg_t *sec, void *data)
{
	cfg_opt_t *opt = cfg_getopt(sec, "address");
	return ns_opt_is_set(opt) && cfg_opt_size(opt) > 0 && strcmp(cfg_opt_getnstr(opt, 0), "dhcp") == 0;
}

static void check_gateways(struct ns_parse_ctx *p, const struct ns_config *c, const char *pool)
{
	const struct ns_globals *g = &c->g;
	char a[64], why[200];
	if (g->gateway.family && !ns_cidr_contains(&g->pool, &g->gateway)) {
		ns_cidr_format(&g->gateway, false, a, sizeof(a));
		bool set = ns_parse_key_line(p, c->cfg, "gateway") > 0;
		snprintf(why, sizeof(why), "%s%s is outside pool %s", set ? "" : "gateway ", a, pool);
		if (!set)
			strncat(why, " (set gateway too)", sizeof(why) - strlen(why) - 1);
		report(p, c->cfg, set ? "gateway" : "pool", why);
	}
	if (g->gateway6.family && g->pool6.family && !ns_cidr_contains(&g->pool6, &g->gateway6))
		report(p, c->cfg, "gateway6", "outside pool6");
}

static void check_pool6(struct ns_parse_ctx *p, const struct ns_config *c, const char *pool)
{
	const struct ns_globals *g = &c->g;
	char why[200];
	if (!g->pool6.family || !g->pool.family)
		return;
	/* A user's IPv6 address is pool6 + the host part of its IPv4 address:
	 * with fewer host bits in pool6, host parts spill into the prefix and
	 * two users get the same IPv6 address (no DAD to notice). */
	if (128 - g->pool6.prefix < 32 - g->pool.prefix) {
		snprintf(why, sizeof(why), "has %u host bits, fewer than the %u of pool %s (users' addresses would collide)",
			 128 - g->pool6.prefix, 32 - g->pool.prefix, pool);
		report(p, c->cfg, "pool6", why);
	}
	/* A DHCP user's IPv6 host part is uid + 0x10000: distinct from every
	 * pool user's (below 0x10000) only while pool has at most 16 host bits. */
	if (g->pool.prefix < 16 && each_block(c->cfg, says_dhcp, NULL)) {
		snprintf(why, sizeof(why), "with address = \"dhcp\" users, pool %s must be /16 or longer "
			 "(IPv6 host parts of DHCP users, uid + 0x10000, would collide with pool users')", pool);
		report(p, c->cfg, "pool6", why);
	}
}

struct static_check {
	struct ns_parse_ctx *p;
	const struct ns_globals *g;
	const char *pool;
	cfg_t *cfg;
};

/* A static address must be a host of the pool, with its prefix, and not
 * one of the addresses the bridge side uses. */
static bool check_static_address(cfg_t *sec, void *data)
{
	const struct static_check *sc = data;
	const struct ns_globals *g = sc->g;
	cfg_opt_t *opt = cfg_getopt(sec, "address");
	struct ns_policy p;
	char a[64], why[200];
	if (!ns_opt_is_set(opt) || ns_config_apply_policy_key(NS_KEY_ADDRESS, opt, &p, why, sizeof(why)) < 0 ||
	    p.address != NS_ADDR_STATIC)
		return false;
	ns_cidr_format(&p.static_addr, true, a, sizeof(a));
	uint32_t host = ntohl(p.static_addr.addr.v4.s_addr);
	uint32_t mask = g->pool.prefix ? ~0u << (32 - g->pool.prefix) : 0;
	in_addr_t addr = p.static_addr.addr.v4.s_addr;
	if (!ns_cidr_contains(&g->pool, &p.static_addr))
		snprintf(why, sizeof(why), "%s is outside pool %s", a, sc->pool);
	else if (p.static_addr.prefix != g->pool.prefix)
		snprintf(why, sizeof(why), "%s: prefix differs from pool %s", a, sc->pool);
	else if ((host & ~mask) == 0 || (host & ~mask) == ~mask ||
		 (g->gateway.family && g->gateway.addr.v4.s_addr == addr) ||
		 (g->bridge_address.family && g->bridge_address.addr.v4.s_addr == addr))
		snprintf(why, sizeof(why), "%s is the network, broadcast, gateway or bridge address", a);
	else if (ns_cidr_v6_is_gateway6(host, mask, &g->gateway6))
		snprintf(why, sizeof(why), "%s would give the user gateway6 as her IPv6 address "
			 "(pool6 plus the same host part)", a);
	else
		return false;
	report(sc->p, sec, "address", why);
	return false;
}

/* The first string of KEY in SEC, else in the default block: what a
 * block's users end up with (NULL: neither says). */
static const char *block_or_default(cfg_t *cfg, cfg_t *sec, const char *key)
{
	cfg_opt_t *opt = cfg_getopt(sec, key);
	if (ns_opt_is_set(opt) && cfg_opt_size(opt) > 0)
		return cfg_opt_getnstr(opt, 0);
	if (cfg_size(cfg, "default") == 0)
		return NULL;
	opt = cfg_getopt(cfg_getnsec(cfg, "default", 0), key);
	return ns_opt_is_set(opt) && cfg_opt_size(opt) > 0 ? cfg_opt_getnstr(opt, 0) : NULL;
}

/* DHCP needs a bridge (the server answers on it): not with routed. */
static bool check_routed_dhcp(cfg_t *sec, void *data)
{
	struct static_check *sc = data;
	const char *net = block_or_default(sc->cfg, sec, "network");
	const char *addr = block_or_default(sc->cfg, sec, "address");
	if (net && addr && strcmp(net, "routed") == 0 && strcmp(addr, "dhcp") == 0) {
		bool own = ns_opt_is_set(cfg_getopt(sec, "address"));
		report(sc->p, sec, own ? "address" : "network",
		       "address = \"dhcp\" needs a bridge: not with network = \"routed\"");
	}
	return false;
}

/* Does a block's policy (its own network, else default's, else the
 * built-in "bridge") use the bridge, where gateway and gateway6 matter? */
static bool says_bridge(cfg_t *sec, void *data)
{
	const char *net = block_or_default(data, sec, "network");
	return !net || strcmp(net, "bridge") == 0;
}

/* Checks that need more than one key, after the whole file is read. */
static void cross_checks(struct ns_parse_ctx *p, const struct ns_config *c)
{
	char pool[64];
	ns_cidr_format(&c->g.pool, true, pool, sizeof(pool));
	/* gateway is the bridge side's: not used when every policy is routed
	 * (or isolated/host), as on a routed login host of a fleet. */
	if (cfg_size(c->cfg, "default") == 0 || each_block(c->cfg, says_bridge, c->cfg))
		check_gateways(p, c, pool);
	check_pool6(p, c, pool);
	struct static_check sc = { p, &c->g, pool, c->cfg };
	each_block(c->cfg, check_static_address, &sc);
	each_block(c->cfg, check_routed_dhcp, &sc);
}

/* ---- loading ---- */

static int parse_buffer(const char *text, const char *name, struct ns_config **ret, struct ns_errlist *errs)
{
	struct ns_config *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (errs)
		memset(errs, 0, sizeof(*errs));
	struct ns_parse_ctx p = { .name = name, .errs = errs };
	c->path = strdup(name);
	int r = c->path ? ns_confuse_parse(&p, text, new_cfg, &c->cfg) : -ENOMEM;
	if (r == 0) {
		validate_globals(&p, c);
		each_block(c->cfg, validate_block, &p);
		if (c->g.pool.family == AF_INET)
			cross_checks(&p, c);
	}
	ns_parse_done(&p);
	if (r == 0 && p.n_found > 0)
		r = -EINVAL;
	if (r < 0) {
		ns_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int ns_config_load_string(const char *text, const char *name, struct ns_config **ret,
			  struct ns_errlist *errs)
{
	return parse_buffer(text, name, ret, errs);
}

static int one_error(struct ns_errlist *errs, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int one_error(struct ns_errlist *errs, int code, const char *fmt, ...)
{
	if (errs) {
		va_list ap;
		memset(errs, 0, sizeof(*errs));
		va_start(ap, fmt);
		vsnprintf(errs->line[0], sizeof(errs->line[0]), fmt, ap);
		va_end(ap);
		errs->n = 1;
	}
	return code;
}

/* The whole of FD (SIZE bytes by fstat) into a string of its own. */
static int read_all(int fd, const char *path, size_t size, char **ret, struct ns_errlist *errs)
{
	_cleanup_free_ char *buf = malloc(size + 1);
	if (!buf)
		return one_error(errs, -ENOMEM, "%s: out of memory", path);
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return one_error(errs, -errno, "%s: cannot read: %s", path, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (strlen(buf) != got)
		return one_error(errs, -EINVAL, "%s: contains a NUL byte", path);
	*ret = TAKE_PTR(buf);
	return 0;
}

int ns_config_load_fd(int fd, const char *path, struct ns_config **ret, struct ns_errlist *errs)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return one_error(errs, -errno, "%s: cannot stat: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return one_error(errs, -EPERM, "%s: not a regular file", path);
	if (st.st_uid != 0)
		return one_error(errs, -EPERM, "%s: not owned by root (owner uid %u)", path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return one_error(errs, -EPERM, "%s: writable by group or others (mode %04o)", path,
				 (unsigned)(st.st_mode & 07777));
	if (st.st_size > NS_CONF_MAX)
		return one_error(errs, -EFBIG, "%s: larger than %d bytes", path, NS_CONF_MAX);
	_cleanup_free_ char *buf = NULL;
	int r = read_all(fd, path, (size_t)st.st_size, &buf, errs);
	if (r < 0)
		return r;
	return parse_buffer(buf, path, ret, errs);
}

int ns_config_load(const char *path, struct ns_config **ret, struct ns_errlist *errs)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return one_error(errs, -EPERM, "%s: is a symbolic link", path);
		return one_error(errs, -e, "%s: cannot open: %s", path, strerror(e));
	}
	return ns_config_load_fd(fd, path, ret, errs);
}

void ns_config_free(struct ns_config *c)
{
	if (!c)
		return;
	if (c->cfg)
		cfg_free(c->cfg);
	free(c->path);
	free(c);
}

const struct ns_globals *ns_config_globals(const struct ns_config *c) { return &c->g; }
const char *ns_config_path(const struct ns_config *c) { return c->path; }
