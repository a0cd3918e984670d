/* ns_config.c — /etc/security/ns.conf: parse, validate, resolve.
 *
 * Invariants:
 *  1. The file is judged on the descriptor we read: regular, owned by root,
 *     not writable by group or others, at most NS_CONF_MAX bytes; opened
 *     with O_NOFOLLOW|O_NONBLOCK so a symlink or FIFO is refused, not
 *     followed or waited on.
 *  2. The environment is set aside while libconfuse parses (it expands
 *     ${VAR}); no value ever comes from the caller's environment.
 *  3. Every value is checked by the same function that later converts it
 *     (apply_policy_key / apply_global_key), so a file that loads resolves
 *     without errors. All problems are collected, each with FILE:LINE.
 *  4. A loaded config is never modified. */
#include <arpa/inet.h>
#include <confuse.h>
#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ns_config.h"
#include "ns_names.h"

#define NS_CONF_MAX (1024 * 1024)
#ifndef NS_DHCP_SCRIPT
#define NS_DHCP_SCRIPT "/usr/lib/ns-shell/udhcpc.script"
#endif

struct line_rec {
	char sec[16], title[64], key[64];
	int line;
};

struct ns_config {
	cfg_t *cfg;
	char *path;
	struct ns_globals g;
};

/* The error sink of the parse in progress. libconfuse's error callback has
 * no user pointer, so the one parse running in this thread owns these. */
static __thread struct {
	struct ns_errlist *errs;
	const char *name;
	struct line_rec *lines;
	size_t n_lines, cap_lines;
	int n_found;
	int key_error_line;   /* line of the last error about one key, 0: none */
	char key_error_key[64];
} P;

static const char *const key_names[NS_KEY__MAX] = {
	[NS_KEY_NAMESPACES] = "namespaces", [NS_KEY_NETWORK] = "network",
	[NS_KEY_NETNS] = "netns", [NS_KEY_ADDRESS] = "address",
	[NS_KEY_HOSTNAME] = "hostname", [NS_KEY_SHELL] = "shell",
	[NS_KEY_PRIVATE_TMP] = "private_tmp", [NS_KEY_PRIVATE_SHM] = "private_shm",
	[NS_KEY_RATE] = "rate", [NS_KEY_BURST] = "burst",
	[NS_KEY_DNS] = "dns", [NS_KEY_DENY] = "deny", [NS_KEY_MAX_SESSIONS] = "max_sessions",
};
static const char *const network_names[] = { "bridge", "isolated", "host", NULL };
static const char *const netns_names[] = { "user", "session", NULL };
static const char *const source_names[] = { "built-in", "default", "group", "user" };

const char *ns_key_name(enum ns_key k) { return k < NS_KEY__MAX ? key_names[k] : "?"; }
const char *ns_network_name(enum ns_network n) { return n <= NS_NET_HOST ? network_names[n] : "?"; }
const char *ns_netns_mode_name(enum ns_netns_mode m) { return m <= NS_NETNS_SESSION ? netns_names[m] : "?"; }
const char *ns_source_name(enum ns_source s) { return s <= NS_SRC_USER ? source_names[s] : "?"; }

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static void add_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_error(const char *fmt, ...)
{
	P.n_found++;
	if (!P.errs)
		return;
	if (P.errs->n >= NS_MAX_ERRS) {
		P.errs->dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(P.errs->line[P.errs->n++], sizeof(P.errs->line[0]), fmt, ap);
	va_end(ap);
}

static int scan_lines(const char *text);

/* libconfuse reads one token ahead: the key's own line is the last place
 * the scan saw KEY in CFG's block at or before libconfuse's line. */
static int key_line_before(const cfg_t *cfg, const char *key, int line)
{
	const char *name = (cfg && cfg->name) ? cfg->name : "root";
	const char *title = (cfg && cfg->title) ? cfg->title : "";
	int best = 0;
	for (size_t i = 0; i < P.n_lines; i++)
		if (P.lines[i].line <= line && P.lines[i].line > best && strcmp(P.lines[i].key, key) == 0 &&
		    strcmp(P.lines[i].sec, name) == 0 && strcmp(P.lines[i].title, title) == 0)
			best = P.lines[i].line;
	return best ? best : line;
}

/* libconfuse's messages about one option, reworded to "key: what". */
static const struct {
	const char *fmt, *what;
} confuse_msgs[] = {
	{ "no such option '%s'", "unknown key" },
	{ "invalid integer value for option '%s'", "not an integer" },
	{ "integer value for option '%s' is out of range", "integer out of range" },
	{ "invalid boolean value for option '%s'", "not true or false" },
	{ "duplicate option '%s' not allowed", "given twice" },
	{ "missing equal sign after option '%s'", "missing '='" },
	{ "attempt to append to non-list option '%s'", "not a list" },
};

__attribute__((format(printf, 2, 0)))
static void confuse_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[200];
	int line = cfg ? cfg->line : 0;
	for (size_t i = 0; i < ARRAY_SIZE(confuse_msgs); i++)
		if (strcmp(fmt, confuse_msgs[i].fmt) == 0) {
			const char *key = va_arg(ap, const char *);
			char label[100] = "";
			if (cfg && cfg->title)
				snprintf(label, sizeof(label), "%s \"%s\": ", cfg->name, cfg->title);
			else if (cfg && cfg->name && strcmp(cfg->name, "root") != 0)
				snprintf(label, sizeof(label), "%s: ", cfg->name);
			line = key_line_before(cfg, key, line);
			add_error("%s:%d: %s%s: %s", P.name, line, label, key, confuse_msgs[i].what);
			P.key_error_line = line;
			snprintf(P.key_error_key, sizeof(P.key_error_key), "%s", key);
			return;
		}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	add_error("%s:%d: %s", P.name ? P.name : "config", line, msg);
}

/* ---- addresses ---- */

int ns_cidr_parse(const char *s, bool need_prefix, struct ns_cidr *ret)
{
	char buf[64];
	struct ns_cidr c = { 0 };
	if (ns_strlcpy(buf, s, sizeof(buf)) < 0)
		return -EINVAL;
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &c.addr.v4) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &c.addr.v6) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = c.family == AF_INET ? 32 : 128;
	if (slash) {
		unsigned long p;
		if (ns_parse_ulong(slash + 1, max, &p) < 0)
			return -EINVAL;
		c.prefix = (unsigned)p;
	} else {
		if (need_prefix)
			return -EINVAL;
		c.prefix = max;
	}
	*ret = c;
	return 0;
}

void ns_cidr_format(const struct ns_cidr *c, bool with_prefix, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "";
	if (!c->family) {
		snprintf(buf, size, "%s", "");
		return;
	}
	inet_ntop(c->family, &c->addr, a, sizeof(a));
	if (with_prefix)
		snprintf(buf, size, "%s/%u", a, c->prefix);
	else
		snprintf(buf, size, "%s", a);
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		return (a[full] & mask) == (b[full] & mask);
	}
	return true;
}

bool ns_cidr_contains(const struct ns_cidr *net, const struct ns_cidr *addr)
{
	if (!net->family || net->family != addr->family)
		return false;
	return prefix_match((const unsigned char *)&net->addr, (const unsigned char *)&addr->addr,
			    net->prefix);
}

static bool host_bits_zero(const struct ns_cidr *c)
{
	struct ns_cidr z = *c;
	memset(&z.addr, 0, sizeof(z.addr));
	size_t len = c->family == AF_INET ? 4 : 16;
	unsigned char *za = (unsigned char *)&z.addr;
	const unsigned char *ca = (const unsigned char *)&c->addr;
	for (unsigned i = 0; i < c->prefix; i++)
		za[i / 8] |= (unsigned char)(ca[i / 8] & (0x80 >> (i % 8)));
	return memcmp(za, ca, len) == 0;
}

/* ---- values ---- */

static int parse_with_units(const char *s, const char *const *units, const uint64_t *mult,
			    uint64_t *ret)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (int i = 0; units[i]; i++)
		if (strcmp(end, units[i]) == 0) {
			if (v == 0 || v > UINT64_MAX / mult[i])
				return -EINVAL;
			*ret = v * mult[i];
			return 0;
		}
	return -EINVAL;
}

static int parse_rate(const char *s, uint64_t *ret_bps)
{
	static const char *const u[] = { "bit", "kbit", "mbit", "gbit", "bps", "kbps", "mbps", "gbps", NULL };
	static const uint64_t m[] = { 1, 1000, 1000000, 1000000000ULL, 8, 8000, 8000000, 8000000000ULL };
	return parse_with_units(s, u, m, ret_bps);
}

static int parse_size(const char *s, uint64_t *ret)
{
	static const char *const u[] = { "b", "", "k", "kb", "m", "mb", NULL };
	static const uint64_t m[] = { 1, 1, 1024, 1024, 1048576, 1048576 };
	return parse_with_units(s, u, m, ret);
}

static bool abs_path_ok(const char *s, size_t max)
{
	return s[0] == '/' && strlen(s) < max && !strstr(s, "/../") &&
	       !(strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0) && !strchr(s, '\n');
}

#define WHY(...) (snprintf(why, whysz, __VA_ARGS__), -EINVAL)

/* Convert one per-user key from OPT into P. The only place that decides
 * what a value means: used to validate while parsing and to resolve. */
static int apply_policy_key(enum ns_key k, cfg_opt_t *opt, struct ns_policy *p,
			    char *why, size_t whysz)
{
	unsigned n = cfg_opt_size(opt);
	const char *s = (opt->type == CFGT_STR && n > 0) ? cfg_opt_getnstr(opt, 0) : NULL;
	if (opt->type == CFGT_STR && !(opt->flags & CFGF_LIST) && !s)
		return WHY("missing value");

	switch (k) {
	case NS_KEY_NAMESPACES: {
		unsigned flags = 0;
		for (unsigned i = 0; i < n; i++) {
			const struct ns_kind *kind = ns_kind_by_name(cfg_opt_getnstr(opt, i));
			if (!kind)
				return WHY("unknown namespace \"%s\" (known: pid ipc mount uts net)",
					   cfg_opt_getnstr(opt, i));
			flags |= (unsigned)kind->clone_flag;
		}
		if ((flags & CLONE_NEWPID) && !(flags & CLONE_NEWNS))
			return WHY("\"pid\" needs \"mount\" (a fresh /proc is mounted for it)");
		p->clone_flags = flags;
		return 0;
	}
	case NS_KEY_NETWORK: {
		int i = name_index(network_names, s);
		if (i < 0)
			return WHY("\"%s\" is not one of bridge, isolated, host", s);
		p->network = (enum ns_network)i;
		return 0;
	}
	case NS_KEY_NETNS: {
		int i = name_index(netns_names, s);
		if (i < 0)
			return WHY("\"%s\" is not one of user, session", s);
		p->netns = (enum ns_netns_mode)i;
		return 0;
	}
	case NS_KEY_ADDRESS:
		if (strcmp(s, "pool") == 0) {
			p->address = NS_ADDR_POOL;
		} else if (strcmp(s, "dhcp") == 0) {
			p->address = NS_ADDR_DHCP;
		} else {
			struct ns_cidr c;
			if (ns_cidr_parse(s, true, &c) < 0 || c.family != AF_INET || c.prefix < 1 || c.prefix > 30)
				return WHY("\"%s\" is not pool, dhcp or an address A.B.C.D/N", s);
			p->address = NS_ADDR_STATIC;
			p->static_addr = c;
		}
		return 0;
	case NS_KEY_HOSTNAME:
		if (!ns_hostname_template_valid(s))
			return WHY("\"%s\": bad template (use %%u, %%h, %%s, %%%%; under 128 bytes)", s);
		return ns_strlcpy(p->hostname, s, sizeof(p->hostname));
	case NS_KEY_SHELL:
		if (!abs_path_ok(s, sizeof(p->shell)))
			return WHY("\"%s\" is not an absolute path", s);
		return ns_strlcpy(p->shell, s, sizeof(p->shell));
	case NS_KEY_PRIVATE_TMP:
		p->private_tmp = cfg_opt_getnbool(opt, 0);
		return 0;
	case NS_KEY_PRIVATE_SHM:
		p->private_shm = cfg_opt_getnbool(opt, 0);
		return 0;
	case NS_KEY_RATE:
		p->rate_bps = 0;
		if (*s && parse_rate(s, &p->rate_bps) < 0)
			return WHY("\"%s\" is not a rate like 20mbit", s);
		return 0;
	case NS_KEY_BURST:
		p->burst_bytes = 0;
		if (*s && parse_size(s, &p->burst_bytes) < 0)
			return WHY("\"%s\" is not a size like 64kb", s);
		return 0;
	case NS_KEY_DNS:
	case NS_KEY_DENY: {
		bool dns = k == NS_KEY_DNS;
		struct ns_cidr *arr = dns ? p->dns : p->deny;
		if (n > NS_MAX_LIST)
			return WHY("at most %d entries", NS_MAX_LIST);
		for (unsigned i = 0; i < n; i++) {
			const char *v = cfg_opt_getnstr(opt, i);
			if (ns_cidr_parse(v, false, &arr[i]) < 0 ||
			    (dns && arr[i].prefix != (arr[i].family == AF_INET ? 32u : 128u)))
				return WHY("\"%s\" is not %s", v, dns ? "an IP address" : "an address or CIDR");
		}
		*(dns ? &p->n_dns : &p->n_deny) = n;
		return 0;
	}
	case NS_KEY_MAX_SESSIONS: {
		long v = cfg_opt_getnint(opt, 0);
		if (v < 1 || v > 1023)
			return WHY("%ld is not 1-1023", v);
		p->max_sessions = (unsigned)v;
		return 0;
	}
	case NS_KEY__MAX:
		break;
	}
	return WHY("unknown key");
}

static int apply_global_key(const char *name, cfg_opt_t *opt, struct ns_globals *g,
			    char *why, size_t whysz)
{
	unsigned n = cfg_opt_size(opt);
	const char *s = (opt->type == CFGT_STR && n > 0) ? cfg_opt_getnstr(opt, 0) : "";
	long v = (opt->type == CFGT_INT && n > 0) ? cfg_opt_getnint(opt, 0) : 0;
	bool b = (opt->type == CFGT_BOOL && n > 0) ? cfg_opt_getnbool(opt, 0) : false;

	if (strcmp(name, "bridge") == 0) {
		if (!ns_ifname_valid(s))
			return WHY("\"%s\" is not an interface name (1-15 bytes, no '/', ':' or spaces)", s);
		return ns_strlcpy(g->bridge, s, sizeof(g->bridge));
	}
	if (strcmp(name, "create_bridge") == 0)
		return (g->create_bridge = b), 0;
	if (strcmp(name, "isolate_ports") == 0)
		return (g->isolate_ports = b), 0;
	if (strcmp(name, "bridge_address") == 0 || strcmp(name, "pool") == 0) {
		struct ns_cidr *c = name[0] == 'b' ? &g->bridge_address : &g->pool;
		memset(c, 0, sizeof(*c));
		if (!*s && name[0] == 'b')
			return 0;
		if (ns_cidr_parse(s, true, c) < 0 || c->family != AF_INET || c->prefix > 30 || c->prefix < 8)
			return memset(c, 0, sizeof(*c)), WHY("\"%s\" is not an IPv4 network A.B.C.D/N (N 8-30)", s);
		if (name[0] == 'p' && !host_bits_zero(c))
			return memset(c, 0, sizeof(*c)), WHY("\"%s\" has host bits set (a pool is a network address)", s);
		return 0;
	}
	if (strcmp(name, "gateway") == 0 || strcmp(name, "gateway6") == 0) {
		bool six = name[7] == '6';
		struct ns_cidr *c = six ? &g->gateway6 : &g->gateway;
		memset(c, 0, sizeof(*c));
		if (!*s)
			return 0;
		if (ns_cidr_parse(s, false, c) < 0 || c->family != (six ? AF_INET6 : AF_INET) ||
		    strchr(s, '/'))
			return memset(c, 0, sizeof(*c)), WHY("\"%s\" is not an IPv%c address", s, six ? '6' : '4');
		return 0;
	}
	if (strcmp(name, "pool6") == 0) {
		memset(&g->pool6, 0, sizeof(g->pool6));
		if (!*s)
			return 0;
		if (ns_cidr_parse(s, true, &g->pool6) < 0 || g->pool6.family != AF_INET6 ||
		    g->pool6.prefix < 64 || g->pool6.prefix > 120 || !host_bits_zero(&g->pool6))
			return memset(&g->pool6, 0, sizeof(g->pool6)), WHY("\"%s\" is not an IPv6 network (prefix 64-120)", s);
		return 0;
	}
	if (strcmp(name, "mtu") == 0) {
		if (v != 0 && (v < 68 || v > 65535))
			return WHY("%ld is not 0 or 68-65535", v);
		return (g->mtu = (unsigned)v), 0;
	}
	if (strcmp(name, "exempt_uid_below") == 0) {
		if (v < 0 || v > 2147483647L)
			return WHY("%ld is not a uid (0-2147483647)", v);
		return (g->exempt_uid_below = (unsigned)v), 0;
	}
	if (strcmp(name, "dhcp_timeout") == 0) {
		if (v < 1 || v > 300)
			return WHY("%ld is not 1-300 seconds", v);
		return (g->dhcp_timeout = (unsigned)v), 0;
	}
	if (strcmp(name, "exempt_users") == 0 || strcmp(name, "exempt_groups") == 0) {
		bool users = name[7] == 'u';
		if (n > NS_MAX_LIST)
			return WHY("at most %d entries", NS_MAX_LIST);
		for (unsigned i = 0; i < n; i++) {
			const char *e = cfg_opt_getnstr(opt, i);
			if (!ns_user_name_valid(e))
				return WHY("\"%s\" is not a valid name", e);
			ns_strlcpy(users ? g->exempt_users[i] : g->exempt_groups[i], e, 64);
		}
		*(users ? &g->n_exempt_users : &g->n_exempt_groups) = n;
		return 0;
	}
	if (strcmp(name, "dhcp_client") == 0 || strcmp(name, "dhcp_script") == 0 ||
	    strcmp(name, "state_dir") == 0 || strcmp(name, "lease_file") == 0) {
		char *dst = strcmp(name, "dhcp_client") == 0 ? g->dhcp_client :
			    strcmp(name, "dhcp_script") == 0 ? g->dhcp_script :
			    name[0] == 's' ? g->state_dir : g->lease_file;
		size_t max = name[0] == 'd' ? sizeof(g->dhcp_client) : sizeof(g->state_dir);
		if (!abs_path_ok(s, max))
			return WHY("\"%s\" is not an absolute path (under %zu bytes)", s, max);
		return ns_strlcpy(dst, s, max);
	}
	return WHY("unknown key");
}

/* Where each key is set: libconfuse reads a token ahead, so its line
 * counter is unreliable at validation time. A small scan of the text
 * (comments, quotes, blocks, value lists) records the line of every
 * `key =` with the block it is in. */
static void remember_line(const char *sec, const char *title, const char *key, size_t klen, int line)
{
	if (P.n_lines == P.cap_lines) {
		size_t cap = P.cap_lines ? P.cap_lines * 2 : 64;
		struct line_rec *l = realloc(P.lines, cap * sizeof(*l));
		if (!l)
			return;
		P.lines = l;
		P.cap_lines = cap;
	}
	struct line_rec *r = &P.lines[P.n_lines++];
	snprintf(r->sec, sizeof(r->sec), "%s", sec);
	snprintf(r->title, sizeof(r->title), "%s", title);
	snprintf(r->key, sizeof(r->key), "%.*s", (int)klen, key);
	r->line = line;
}

struct tok {
	char kind;            /* 'w' word, 's' string, or the punctuation itself */
	const char *p;
	size_t len;
	int line;
};

static size_t scan_tokens(const char *t, struct tok *out, size_t max)
{
	size_t n = 0;
	int line = 1;
	while (*t && n < max) {
		if (*t == '\n') {
			line++;
			t++;
		} else if (isspace((unsigned char)*t)) {
			t++;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			while (*t && *t != '\n')
				t++;
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t && !(t[0] == '*' && t[1] == '/'); t++)
				line += *t == '\n';
			t += *t ? 2 : 0;
		} else if (*t == '"' || *t == '\'') {
			char q = *t;
			const char *b = ++t;
			int l0 = line;
			for (; *t && *t != q; t++) {
				if (*t == '\\' && t[1])
					t++;
				line += *t == '\n';
			}
			out[n++] = (struct tok){ 's', b, (size_t)(t - b), l0 };
			t += *t ? 1 : 0;
		} else if (isalnum((unsigned char)*t) || *t == '_' || *t == '-' || *t == '.' || *t == '/') {
			const char *b = t;
			while (*t && (isalnum((unsigned char)*t) || strchr("_-./:%$", *t)))
				t++;
			out[n++] = (struct tok){ 'w', b, (size_t)(t - b), line };
		} else {
			out[n++] = (struct tok){ *t, t, 1, line };
			t += (t[0] == '+' && t[1] == '=') ? 2 : 1;
		}
	}
	return n;
}

/* Returns the line of a block left open at the end of the text, or 0. */
static int scan_lines(const char *text)
{
	int open_line = 0;
	size_t max = strlen(text) + 1;
	struct tok *tk = calloc(max, sizeof(*tk));
	if (!tk)
		return 0;
	size_t n = scan_tokens(text, tk, max);
	char sec[16] = "root", title[64] = "";
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (tk[i].kind == 'w' && i + 1 < n && (tk[i + 1].kind == '=' || tk[i + 1].kind == '+')) {
			remember_line(sec, title, tk[i].p, tk[i].len, tk[i].line);
			i++;
			if (i + 1 < n && tk[i + 1].kind == '{') {   /* a value list: skip it */
				while (i + 1 < n && tk[i + 1].kind != '}')
					i++;
				i++;
			}
		} else if (tk[i].kind == 'w' && depth == 0 && i + 1 < n &&
			   (tk[i + 1].kind == '{' || (tk[i + 1].kind == 's' && i + 2 < n && tk[i + 2].kind == '{'))) {
			snprintf(sec, sizeof(sec), "%.*s", (int)tk[i].len, tk[i].p);
			if (tk[i + 1].kind == 's')
				snprintf(title, sizeof(title), "%.*s", (int)tk[i + 1].len, tk[i + 1].p);
			else
				title[0] = '\0';
			depth = 1;
			open_line = tk[i].line;
			i += tk[i + 1].kind == 's' ? 2 : 1;
		} else if (tk[i].kind == '}' && depth > 0) {
			depth = 0;
			snprintf(sec, sizeof(sec), "root");
			title[0] = '\0';
		}
	}
	free(tk);
	return depth > 0 ? open_line : 0;
}

static int line_of(const cfg_t *sec, const char *key)
{
	const char *name = sec ? sec->name : "root";
	const char *title = (sec && sec->title) ? sec->title : "";
	for (size_t i = P.n_lines; i-- > 0;)
		if (strcmp(P.lines[i].sec, name) == 0 && strcmp(P.lines[i].title, title) == 0 &&
		    strcmp(P.lines[i].key, key) == 0)
			return P.lines[i].line;
	return 0;
}

static const char *section_label(const cfg_t *sec, char *buf, size_t size)
{
	if (sec->title)
		snprintf(buf, size, "%s \"%s\": ", sec->name, sec->title);
	else if (strcmp(sec->name, "root") != 0)
		snprintf(buf, size, "%s: ", sec->name);
	else
		buf[0] = '\0';
	return buf;
}

static bool opt_is_set(cfg_opt_t *opt)
{
	return opt && (cfg_opt_size(opt) > 0 || (opt->flags & CFGF_MODIFIED));
}

static void report(const cfg_t *sec, const char *key, const char *why)
{
	char label[100];
	int line = line_of(sec, key);
	if (line == 0)
		line = sec && strcmp(sec->name, "root") != 0 ? sec->line : 0;
	add_error("%s:%d: %s%s: %s", P.name, line, section_label(sec, label, sizeof(label)), key, why);
}

/* Judge every value with the functions that later convert it, collecting
 * all errors. Globals land in c->g. */
static void validate_all(struct ns_config *c)
{
	char why[200];
	for (cfg_opt_t *o = c->cfg->opts; o->name; o++) {
		if (o->type == CFGT_SEC)
			continue;
		strcpy(why, "invalid value");
		if (apply_global_key(o->name, o, &c->g, why, sizeof(why)) < 0)
			report(c->cfg, o->name, why);
	}
	const char *secs[] = { "default", "group", "user" };
	for (size_t s = 0; s < ARRAY_SIZE(secs); s++) {
		unsigned n = cfg_size(c->cfg, secs[s]);
		for (unsigned i = 0; i < n; i++) {
			cfg_t *sec = cfg_getnsec(c->cfg, secs[s], i);
			if (sec->title && !ns_user_name_valid(sec->title)) {
				char label[100];
				(void)label;
				add_error("%s:%d: %s \"%s\": not a valid name", P.name, sec->line, sec->name,
					  sec->title);
				continue;
			}
			for (int k = 0; k < NS_KEY__MAX; k++) {
				struct ns_policy scratch;
				cfg_opt_t *o = cfg_getopt(sec, key_names[k]);
				strcpy(why, "invalid value");
				if (opt_is_set(o) && apply_policy_key((enum ns_key)k, o, &scratch, why, sizeof(why)) < 0)
					report(sec, key_names[k], why);
			}
		}
	}
}

#define POLICY_OPTS(cb)                                                        \
	{                                                                      \
		CFG_STR_LIST("namespaces", NULL, CFGF_NODEFAULT),              \
		CFG_STR("network", NULL, CFGF_NODEFAULT),                      \
		CFG_STR("netns", NULL, CFGF_NODEFAULT),                        \
		CFG_STR("address", NULL, CFGF_NODEFAULT),                      \
		CFG_STR("hostname", NULL, CFGF_NODEFAULT),                     \
		CFG_STR("shell", NULL, CFGF_NODEFAULT),                        \
		CFG_BOOL("private_tmp", cfg_false, CFGF_NODEFAULT),            \
		CFG_BOOL("private_shm", cfg_false, CFGF_NODEFAULT),            \
		CFG_STR("rate", NULL, CFGF_NODEFAULT),                         \
		CFG_STR("burst", NULL, CFGF_NODEFAULT),                        \
		CFG_STR_LIST("dns", NULL, CFGF_NODEFAULT),                     \
		CFG_STR_LIST("deny", NULL, CFGF_NODEFAULT),                    \
		CFG_INT("max_sessions", 0, CFGF_NODEFAULT),                    \
		CFG_END()                                                      \
	}

static cfg_t *new_cfg(void)
{
	/* cfg_init copies these arrays, so they can live on the stack. */
	cfg_opt_t def_opts[] = POLICY_OPTS(0), group_opts[] = POLICY_OPTS(0),
		  user_opts[] = POLICY_OPTS(0);
	cfg_opt_t opts[] = {
		CFG_STR("bridge", "nsbr0", CFGF_NONE),
		CFG_BOOL("create_bridge", cfg_true, CFGF_NONE),
		CFG_STR("bridge_address", "10.213.0.1/16", CFGF_NONE),
		CFG_STR("pool", "10.213.0.0/16", CFGF_NONE),
		CFG_STR("gateway", "10.213.0.1", CFGF_NONE),
		CFG_BOOL("isolate_ports", cfg_true, CFGF_NONE),
		CFG_INT("mtu", 0, CFGF_NONE),
		CFG_INT("exempt_uid_below", 1000, CFGF_NONE),
		CFG_STR_LIST("exempt_users", "{root}", CFGF_NONE),
		CFG_STR_LIST("exempt_groups", "{}", CFGF_NONE),
		CFG_STR("pool6", "", CFGF_NONE),
		CFG_STR("gateway6", "", CFGF_NONE),
		CFG_STR("dhcp_client", "/sbin/udhcpc", CFGF_NONE),
		CFG_STR("dhcp_script", NS_DHCP_SCRIPT, CFGF_NONE),
		CFG_INT("dhcp_timeout", 10, CFGF_NONE),
		CFG_STR("state_dir", "/run/ns-shell", CFGF_NONE),
		CFG_STR("lease_file", "/var/lib/ns-shell/leases", CFGF_NONE),
		CFG_SEC("default", def_opts, CFGF_NONE),
		CFG_SEC("group", group_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_SEC("user", user_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);
	if (cfg)
		cfg_set_error_function(cfg, confuse_errfunc);
	return cfg;
}

/* Checks that need more than one key, after the whole file is read. */

/* Does any block say address = "dhcp"? */
static bool any_dhcp(cfg_t *cfg)
{
	const char *secs[] = { "default", "group", "user" };
	for (size_t s = 0; s < ARRAY_SIZE(secs); s++)
		for (unsigned i = 0; i < cfg_size(cfg, secs[s]); i++) {
			cfg_opt_t *opt = cfg_getopt(cfg_getnsec(cfg, secs[s], i), "address");
			if (opt_is_set(opt) && cfg_opt_size(opt) > 0 && strcmp(cfg_opt_getnstr(opt, 0), "dhcp") == 0)
				return true;
		}
	return false;
}

static void cross_checks(struct ns_config *c)
{
	struct ns_globals *g = &c->g;
	char a[64], b[64], why[200];
	ns_cidr_format(&g->pool, true, b, sizeof(b));
	if (g->gateway.family && !ns_cidr_contains(&g->pool, &g->gateway)) {
		ns_cidr_format(&g->gateway, false, a, sizeof(a));
		bool set = line_of(c->cfg, "gateway") > 0;
		snprintf(why, sizeof(why), "%s%s is outside pool %s", set ? "" : "gateway ", a, b);
		if (!set)
			strncat(why, " (set gateway too)", sizeof(why) - strlen(why) - 1);
		report(c->cfg, set ? "gateway" : "pool", why);
	}
	if (g->gateway6.family && g->pool6.family && !ns_cidr_contains(&g->pool6, &g->gateway6))
		report(c->cfg, "gateway6", "outside pool6");
	/* A user's IPv6 address is pool6 + the host part of its IPv4 address:
	 * with fewer host bits in pool6, host parts spill into the prefix and
	 * two users get the same IPv6 address (no DAD to notice). */
	if (g->pool6.family && g->pool.family && 128 - g->pool6.prefix < 32 - g->pool.prefix) {
		snprintf(why, sizeof(why), "has %u host bits, fewer than the %u of pool %s (users' addresses would collide)",
			 128 - g->pool6.prefix, 32 - g->pool.prefix, b);
		report(c->cfg, "pool6", why);
	}
	/* A DHCP user's IPv6 host part is uid + 0x10000: distinct from every
	 * pool user's (below 0x10000) only while pool has at most 16 host bits. */
	if (g->pool6.family && g->pool.family && g->pool.prefix < 16 && any_dhcp(c->cfg)) {
		snprintf(why, sizeof(why), "with address = \"dhcp\" users, pool %s must be /16 or longer "
			 "(IPv6 host parts of DHCP users, uid + 0x10000, would collide with pool users')", b);
		report(c->cfg, "pool6", why);
	}
	const char *secs[] = { "default", "group", "user" };
	for (size_t s = 0; s < ARRAY_SIZE(secs); s++) {
		unsigned n = cfg_size(c->cfg, secs[s]);
		for (unsigned i = 0; i < n; i++) {
			cfg_t *sec = cfg_getnsec(c->cfg, secs[s], i);
			cfg_opt_t *opt = cfg_getopt(sec, "address");
			struct ns_policy p;
			if (!opt_is_set(opt) ||
			    apply_policy_key(NS_KEY_ADDRESS, opt, &p, why, sizeof(why)) < 0 ||
			    p.address != NS_ADDR_STATIC)
				continue;
			ns_cidr_format(&p.static_addr, true, a, sizeof(a));
			uint32_t host = ntohl(p.static_addr.addr.v4.s_addr);
			uint32_t mask = g->pool.prefix ? ~0u << (32 - g->pool.prefix) : 0;
			if (!ns_cidr_contains(&g->pool, &p.static_addr))
				snprintf(why, sizeof(why), "%s is outside pool %s", a, b);
			else if (p.static_addr.prefix != g->pool.prefix)
				snprintf(why, sizeof(why), "%s: prefix differs from pool %s", a, b);
			else if ((host & ~mask) == 0 || (host & ~mask) == ~mask ||
				 (g->gateway.family && g->gateway.addr.v4.s_addr == p.static_addr.addr.v4.s_addr) ||
				 (g->bridge_address.family &&
				  g->bridge_address.addr.v4.s_addr == p.static_addr.addr.v4.s_addr))
				snprintf(why, sizeof(why), "%s is the network, broadcast, gateway or bridge address", a);
			else
				continue;
			report(sec, "address", why);
		}
	}
}

static int cmp_err_line(const void *a, const void *b)
{
	size_t skip = strlen(P.name) + 1;
	long la = strncmp(a, P.name, skip - 1) == 0 ? strtol((const char *)a + skip, NULL, 10) : 0;
	long lb = strncmp(b, P.name, skip - 1) == 0 ? strtol((const char *)b + skip, NULL, 10) : 0;
	return (la > lb) - (la < lb);
}

/* Blank the statement that sets KEY on line LINE (1-based): the key, its
 * value or value list, or a whole unknown block, keeping newlines so line
 * numbers stay right. Returns false when it cannot be found. */
static bool blank_key(char *text, int line, const char *key)
{
	size_t max = strlen(text) + 1, kl = strlen(key);
	_cleanup_free_ struct tok *tk = calloc(max, sizeof(*tk));
	if (!tk)
		return false;
	size_t n = scan_tokens(text, tk, max), i;
	for (i = 0; i < n; i++)
		if (tk[i].kind == 'w' && tk[i].line == line && tk[i].len == kl && memcmp(tk[i].p, key, kl) == 0)
			break;
	if (i == n)
		return false;
	size_t j = i;                                   /* last token of the statement */
	if (j + 1 < n && (tk[j + 1].kind == '=' || tk[j + 1].kind == '+'))
		j += 2;
	else if (j + 1 < n && tk[j + 1].kind == 's' && j + 2 < n && tk[j + 2].kind == '{')
		j += 2;
	else if (j + 1 < n && tk[j + 1].kind == '{')
		j += 1;
	if (j < n && tk[j].kind == '{') {
		for (int depth = 0; j < n; j++) {
			depth += tk[j].kind == '{';
			depth -= tk[j].kind == '}';
			if (depth == 0)
				break;
		}
	}
	if (j >= n)
		j = n - 1;
	char *end = (char *)tk[j].p + tk[j].len + (tk[j].kind == 's' ? 1 : 0);
	for (char *q = (char *)tk[i].p; q < end && *q; q++)
		if (*q != '\n')
			*q = ' ';
	return true;
}

/* libconfuse reads ${...} as one token, quotes and newlines included: in
 * a "..." string, and where a token starts outside one. NULL when T does
 * not start one; else where it ends. */
static const char *env_ref_end(const char *t, bool token_start)
{
	if (t[0] != '$' || t[1] != '{' || !token_start)
		return NULL;
	const char *e = strchr(t + 2, '}');
	return e ? e + 1 : NULL;
}

/* libconfuse 3.3 counts the newline ending a comment more than once (its
 * line numbers drift after every comment) and rejects a comment inside a
 * value list. Blank every comment, keeping newlines, before it parses.
 * Returns the line of a quote left open at the end of the text, 0 if none:
 * libconfuse takes a "... cut by the end of the text for the end of the
 * file, without an error, and its (global) lexer stays inside the string,
 * so the next cfg_init() in the process aborts on its own defaults. */
static int blank_comments(char *text)
{
	int line = 1;
	const char *e;
	for (char *t = text; *t;) {
		if ((e = env_ref_end(t, t == text || strchr(" \t\r\n\"'={}()+,*", t[-1])))) {
			for (; t < e; t++)
				line += *t == '\n';
		} else if (*t == '"' || *t == '\'') {
			char q = *t++;
			int start = line;
			while (*t && *t != q) {
				if (q == '"' && (e = env_ref_end(t, true))) {
					for (; t < e; t++)
						line += *t == '\n';
					continue;
				}
				if (*t == '\\' && t[1])
					t++;
				line += *t++ == '\n';
			}
			if (!*t)
				return start;
			t++;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			for (; *t && *t != '\n'; t++)
				*t = ' ';
		} else if (t[0] == '/' && t[1] == '*') {
			t[0] = t[1] = ' ';
			for (t += 2; *t && !(t[0] == '*' && t[1] == '/'); t++)
				if (*t != '\n')
					*t = ' ';
				else
					line++;
			if (*t) {
				t[0] = t[1] = ' ';
				t += 2;
			}
		} else {
			line += *t++ == '\n';
		}
	}
	return 0;
}

static int parse_buffer(const char *text, const char *name, struct ns_config **ret,
			struct ns_errlist *errs)
{
	extern char **environ;
	static char *empty_env[] = { NULL };
	struct ns_config *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (errs)
		memset(errs, 0, sizeof(*errs));
	c->path = strdup(name);
	c->cfg = new_cfg();
	if (!c->path || !c->cfg) {
		ns_config_free(c);
		return -ENOMEM;
	}
	c->cfg->filename = strdup(name);

	P.errs = errs;
	P.name = name;
	P.n_found = 0;
	P.n_lines = 0;

	/* libconfuse stops at the first error. When that error is about one
	 * key (unknown key, bad integer...), blank that line and parse again,
	 * so every such error is reported, not only the first. */
	_cleanup_free_ char *work = strdup(text);
	int pr = CFG_PARSE_ERROR;
	for (int pass = 0; work && pass < NS_MAX_ERRS; pass++) {
		/* Every pass: blank_key must not have left a quote open either. */
		int open_quote = blank_comments(work);
		if (open_quote) {
			add_error("%s:%d: string not closed before the end of the file", name, open_quote);
			break;
		}
		if (pass > 0) {
			cfg_free(c->cfg);
			c->cfg = new_cfg();
			if (!c->cfg)
				break;
			c->cfg->filename = strdup(name);
		}
		P.key_error_line = 0;
		P.n_lines = 0;
		scan_lines(work);
		/* libconfuse expands ${VAR} from the environment: hide it. */
		char **saved_env = environ;
		environ = empty_env;
		pr = cfg_parse_buf(c->cfg, work);
		environ = saved_env;
		if (pr == CFG_SUCCESS || P.key_error_line <= 0 || !blank_key(work, P.key_error_line, P.key_error_key))
			break;
		if (pass == NS_MAX_ERRS - 1 && errs)
			errs->dropped++;   /* more errors than we re-parse for */
	}

	if (pr == CFG_SUCCESS) {
		P.n_lines = 0;
		int unclosed = scan_lines(text);
		if (unclosed)   /* libconfuse 3.3 accepts a block cut off by the end of file */
			add_error("%s:%d: block is not closed (missing '}')", name, unclosed);
		validate_all(c);
		if (c->g.pool.family == AF_INET)
			cross_checks(c);
	}
	if (pr != CFG_SUCCESS && P.n_found == 0)
		add_error("%s: cannot parse", name);

	if (errs && errs->n > 1) /* stable enough: lines are distinct or already in order */
		qsort(errs->line, errs->n, sizeof(errs->line[0]), cmp_err_line);
	free(P.lines);
	P.lines = NULL;
	P.n_lines = P.cap_lines = 0;
	P.errs = NULL;
	if (P.n_found > 0) {
		ns_config_free(c);
		return -EINVAL;
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

int ns_config_load_fd(int fd, const char *path, struct ns_config **ret, struct ns_errlist *errs)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return one_error(errs, -errno, "%s: cannot stat: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return one_error(errs, -EPERM, "%s: not a regular file", path);
	if (st.st_uid != 0)
		return one_error(errs, -EPERM, "%s: not owned by root (owner uid %u)", path,
				 (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return one_error(errs, -EPERM, "%s: writable by group or others (mode %04o)", path,
				 (unsigned)(st.st_mode & 07777));
	if (st.st_size > NS_CONF_MAX)
		return one_error(errs, -EFBIG, "%s: larger than %d bytes", path, NS_CONF_MAX);

	size_t size = (size_t)st.st_size;
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
}

void ns_policy_resolve(const struct ns_config *c, const char *user,
		       const char *const *groups, size_t n_groups, struct ns_policy *ret)
{
	cfg_t *cfg = c->cfg;
	cfg_t *usec = cfg_gettsec(cfg, "user", user);
	cfg_t *dsec = cfg_getsec(cfg, "default");
	unsigned ng = cfg_size(cfg, "group");
	char why[200];

	builtin_policy(ret);
	for (int k = 0; k < NS_KEY__MAX; k++) {
		const char *name = key_names[k];
		cfg_t *from = NULL;
		enum ns_source src = NS_SRC_BUILTIN;
		if (usec && opt_is_set(cfg_getopt(usec, name))) {
			from = usec;
			src = NS_SRC_USER;
		}
		for (unsigned i = 0; !from && i < ng; i++) {
			cfg_t *gsec = cfg_getnsec(cfg, "group", i);
			if (in_list(gsec->title, groups, n_groups) && opt_is_set(cfg_getopt(gsec, name))) {
				from = gsec;
				src = NS_SRC_GROUP;
			}
		}
		if (!from && dsec && opt_is_set(cfg_getopt(dsec, name))) {
			from = dsec;
			src = NS_SRC_DEFAULT;
		}
		/* Values were validated by the same function at load time. */
		if (from && apply_policy_key((enum ns_key)k, cfg_getopt(from, name), ret, why, sizeof(why)) < 0)
			src = NS_SRC_BUILTIN;
		ret->src[k] = src;
		snprintf(ret->src_name[k], sizeof(ret->src_name[k]), "%s",
			 (from && from->title) ? from->title : "");
	}
}

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

void ns_policy_print(FILE *f, const struct ns_policy *p)
{
	char buf[64];
	for (int k = 0; k < NS_KEY__MAX; k++) {
		fprintf(f, "%-12s = ", key_names[k]);
		switch ((enum ns_key)k) {
		case NS_KEY_NAMESPACES: {
			int first = 1;
			fputc('{', f);
			for (const struct ns_kind *kind = ns_kinds; kind->name; kind++)
				if (p->clone_flags & (unsigned)kind->clone_flag) {
					fprintf(f, "%s\"%s\"", first ? "" : ", ", kind->name);
					first = 0;
				}
			fputc('}', f);
			break;
		}
		case NS_KEY_NETWORK: fprintf(f, "\"%s\"", ns_network_name(p->network)); break;
		case NS_KEY_NETNS: fprintf(f, "\"%s\"", ns_netns_mode_name(p->netns)); break;
		case NS_KEY_ADDRESS:
			if (p->address == NS_ADDR_STATIC) {
				ns_cidr_format(&p->static_addr, true, buf, sizeof(buf));
				fprintf(f, "\"%s\"", buf);
			} else {
				fprintf(f, "\"%s\"", p->address == NS_ADDR_POOL ? "pool" : "dhcp");
			}
			break;
		case NS_KEY_HOSTNAME: fprintf(f, "\"%s\"", p->hostname); break;
		case NS_KEY_SHELL: fprintf(f, "\"%s\"", p->shell); break;
		case NS_KEY_PRIVATE_TMP: fputs(p->private_tmp ? "true" : "false", f); break;
		case NS_KEY_PRIVATE_SHM: fputs(p->private_shm ? "true" : "false", f); break;
		case NS_KEY_RATE:
			if (p->rate_bps)
				fprintf(f, "\"%llubit\"", (unsigned long long)p->rate_bps);
			else
				fputs("\"\"", f);
			break;
		case NS_KEY_BURST:
			if (p->burst_bytes)
				fprintf(f, "\"%llub\"", (unsigned long long)p->burst_bytes);
			else
				fputs("\"\"", f);
			break;
		case NS_KEY_DNS: print_list(f, p->dns, p->n_dns); break;
		case NS_KEY_DENY: print_list(f, p->deny, p->n_deny); break;
		case NS_KEY_MAX_SESSIONS: fprintf(f, "%u", p->max_sessions); break;
		case NS_KEY__MAX: break;
		}
		if (p->src[k] == NS_SRC_GROUP || p->src[k] == NS_SRC_USER)
			fprintf(f, "   # %s %s\n", ns_source_name(p->src[k]), p->src_name[k]);
		else
			fprintf(f, "   # %s\n", ns_source_name(p->src[k]));
	}
}

int ns_user_groups(const char *user, gid_t gid, char ***ret_names, size_t *ret_n)
{
	int ng = 64;
	_cleanup_free_ gid_t *gids = NULL;
	for (;;) {
		free(gids);
		gids = malloc((size_t)ng * sizeof(gid_t));
		if (!gids)
			return -ENOMEM;
		int want = ng;
		if (getgrouplist(user, gid, gids, &want) >= 0) {
			ng = want;
			break;
		}
		if (want <= ng || want > 65536)
			return -E2BIG;
		ng = want;
	}
	char *names[ng];
	size_t bytes = 0, n = 0;
	for (int i = 0; i < ng; i++) {
		struct group *gr = getgrgid(gids[i]);
		if (!gr || !gr->gr_name)
			continue;
		names[n] = strdup(gr->gr_name);
		if (!names[n])
			goto nomem;
		bytes += strlen(names[n]) + 1;
		n++;
	}
	char **out = malloc((n + 1) * sizeof(char *) + bytes);
	if (!out)
		goto nomem;
	char *p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]) + 1;
		memcpy(p, names[i], l);
		out[i] = p;
		p += l;
		free(names[i]);
	}
	out[n] = NULL;
	*ret_names = out;
	*ret_n = n;
	return 0;
nomem:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return -ENOMEM;
}
