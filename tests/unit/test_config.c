/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_config.c — ns.conf: defaults, validation errors (FILE:LINE: key:),
 * environment isolation, resolution and provenance, exemptions and the file
 * checks of ns_config_load. (The CIDR helpers: test_cidr.c; the libconfuse
 * layer: test_confuse.c; ns_policy_for: test_policy.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns_config.h"
#include "fixtures.h"

#define ALL_NS (CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET)

/* ---------------------------------------------------------------- helpers */

static void dump_errs(const struct ns_errlist *e)
{
	print_message("  errors (%zu, dropped %zu):\n", e->n, e->dropped);
	for (size_t i = 0; i < e->n && i < NS_MAX_ERRS; i++)
		print_message("    %s\n", e->line[i]);
}

/* Load TEXT expecting failure; returns the error list in *e. */
static void load_bad(const char *text, struct ns_errlist *e)
{
	struct ns_config *c = NULL;
	int r = ns_config_load_string(text, "t.conf", &c, e);
	if (r != -EINVAL) {
		dump_errs(e);
		if (c)
			ns_config_free(c);
		fail_msg("expected -EINVAL, got %d for:\n%s", r, text);
	}
	assert_null(c);
}

static struct ns_config *load_ok(const char *text)
{
	struct ns_config *c = NULL;
	struct ns_errlist e;
	int r = ns_config_load_string(text, "t.conf", &c, &e);
	if (r != 0) {
		dump_errs(&e);
		fail_msg("expected success, got %d for:\n%s", r, text);
	}
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	return c;
}

/* Index of the error line starting with "NAME:LINE: " that mentions KEY
 * (anywhere after the prefix), or -1. With STRICT, KEY must appear as
 * "KEY:" (the documented "NAME:LINE: ...key: ..." form). */
static int find_err(const struct ns_errlist *e, const char *name, int line, const char *key,
		    bool strict)
{
	char prefix[128], needle[128];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", name, line);
	snprintf(needle, sizeof(needle), strict ? "%s: " : "%s", key);
	for (size_t i = 0; i < e->n && i < NS_MAX_ERRS; i++) {
		if (strncmp(e->line[i], prefix, strlen(prefix)) != 0)
			continue;
		const char *rest = e->line[i] + strlen(prefix);
		if (!strict) {
			if (strstr(rest, needle))
				return (int)i;
			continue;
		}
		/* "key: " preceded by start, space or another ": " of a label */
		for (const char *p = strstr(rest, needle); p; p = strstr(p + 1, needle))
			if (p == rest || p[-1] == ' ')
				return (int)i;
	}
	return -1;
}

static void assert_err_at(const struct ns_errlist *e, int line, const char *key, bool strict)
{
	if (find_err(e, "t.conf", line, key, strict) < 0) {
		dump_errs(e);
		fail_msg("no error \"t.conf:%d: ...%s%s ...\"", line, key, strict ? ":" : "");
	}
}

/* One bad value: exactly one error, at LINE, of the strict form. */
static void expect_one_error(const char *text, int line, const char *key)
{
	struct ns_errlist e;
	load_bad(text, &e);
	if (e.n != 1) {
		dump_errs(&e);
		fail_msg("expected exactly 1 error for:\n%s", text);
	}
	assert_err_at(&e, line, key, true);
}

/* Bad values, one error each (expect_one_error), by the test that tries
 * them. A test made of nothing else is BAD_VALUES(name) in main. */
static const struct bad_value {
	const char *test, *text;
	int line;
	const char *key;
} bad_values[] = {
	{ "test_err_bad_type_format", "\nmtu = abc\n", 2, "mtu" },
	{ "test_err_bad_type_format", "default {\n  private_tmp = maybe\n}\n", 2, "private_tmp" },
	{ "test_err_bad_addresses", "pool = \"10.213.0.0\"\n", 1, "pool" },
	{ "test_err_bad_addresses", "\npool = \"10.213.0.0/33\"\n", 2, "pool" },
	{ "test_err_bad_addresses", "pool = \"10.213.0.1/16\"\ngateway = \"10.213.0.2\"\n", 1, "pool" }, /* host bits */
	{ "test_err_bad_addresses", "pool = \"not-an-address/16\"\n", 1, "pool" },
	{ "test_err_bad_addresses", "\n\nbridge_address = \"300.1.2.3/16\"\n", 3, "bridge_address" },
	{ "test_err_bad_addresses", "gateway = \"10.213.0.1/16\"\n", 1, "gateway" },
	{ "test_err_bad_addresses", "gateway = \"10.213.0.x\"\n", 1, "gateway" },
	{ "test_err_bad_addresses", "pool6 = \"fd00:213::/48\"\n", 1, "pool6" },
	{ "test_err_bad_addresses", "pool6 = \"10.0.0.0/24\"\n", 1, "pool6" },
	{ "test_err_bad_addresses", "default {\n  address = \"bogus\"\n}\n", 2, "address" },
	{ "test_err_bad_addresses", "default {\n  address = \"10.213.0.5\"\n}\n", 2, "address" }, /* no /N */
	{ "test_err_bad_addresses", "default {\n  dns = {\"1.1.1.1\", \"dns.google\"}\n}\n", 2, "dns" },
	{ "test_err_bad_addresses", "default {\n  deny = {\"10.0.0.0/99\"}\n}\n", 2, "deny" },
	/* One bad value gives one error, not a second one computed from it. */
	{ "test_err_no_cascade", "pool = \"fd00::/64\"\n", 1, "pool" },
	{ "test_err_no_cascade", "pool6 = \"fd00:213::/64\"\ngateway6 = \"10.213.0.1\"\n", 2, "gateway6" },
	{ "test_err_no_cascade", "pool6 = \"10.0.0.0/24\"\ngateway6 = \"fd00::1\"\n", 1, "pool6" },
	/* Line numbers stay right after comments of every kind libconfuse knows. */
	{ "test_err_line_after_comments", "# a comment\nmtu = 5\n", 2, "mtu" },
	{ "test_err_line_after_comments", "# one\n# two\n# three\nmtu = 5\n", 4, "mtu" },
	{ "test_err_line_after_comments", "bridge = \"nsbr0\"  # trailing\nmtu = 5\n", 2, "mtu" },
	{ "test_err_line_after_comments", "// a comment\nmtu = 5\n", 2, "mtu" },
	{ "test_err_line_after_comments", "/* a comment */\nmtu = 5\n", 2, "mtu" },
	{ "test_err_line_after_comments", "/* a\n   longer\n   comment */\nmtu = 5\n", 4, "mtu" },
	{ "test_err_line_after_comments", "# x\n\n\nfrobnicate = 1\n", 4, "frobnicate" },
	{ "test_err_line_after_comments", "# x\ndefault {\n  # y\n  network = \"bridged\"\n}\n", 4, "network" },
	{ "test_err_address_outside_pool", "\nuser \"alice\" { address = \"192.168.1.5/16\" }\n", 2, "address" },
	{ "test_err_address_outside_pool", "group \"g\" {\n\n  address = \"10.214.0.5/16\"\n}\n", 3, "address" },
	{ "test_err_address_outside_pool", "default {\n address = \"10.213.0.5/24\"\n}\n", 2, "address" }, /* prefix differs */
	{ "test_err_address_outside_pool", "user \"a\" { address = \"10.213.0.0/16\" }\n", 1, "address" }, /* network */
	{ "test_err_address_outside_pool", "user \"a\" { address = \"10.213.255.255/16\" }\n", 1, "address" }, /* broadcast */
	{ "test_err_address_outside_pool", "user \"a\" { address = \"10.213.0.1/16\" }\n", 1, "address" }, /* gateway */
	/* its IPv6 address would be gateway6 (pool6 plus the same host part) */
	{ "test_err_address_outside_pool",
	  "pool6 = \"fd00:213::/64\"\ngateway6 = \"fd00:213::5\"\nuser \"a\" { address = \"10.213.0.5/16\" }\n", 3, "address" },
	{ "test_err_address_outside_pool", "\ngateway = \"10.214.0.1\"\n", 2, "gateway" },
	{ "test_err_unknown_namespace", "default {\n  namespaces = {\"pid\", \"mount\", \"user\"}\n}\n", 2, "namespaces" },
	{ "test_err_unknown_namespace", "group \"g\" { namespaces = {\"mnt\"} }\n", 1, "namespaces" },
	{ "test_err_unknown_namespace", "user \"u\" { namespaces = {\"PID\", \"mount\"} }\n", 1, "namespaces" },
	{ "test_err_unknown_namespace", "default { namespaces = {\"pid\"} }\n", 1, "namespaces" }, /* pid needs mount */
	{ "test_err_bridge_name", "\nbridge = \"abcdefghijklmnop\"\n", 2, "bridge" }, /* 16 bytes */
	{ "test_err_bridge_name", "bridge = \"\"\n", 1, "bridge" },
	{ "test_err_bridge_name", "bridge = \"br/0\"\n", 1, "bridge" },
	{ "test_err_bridge_name", "bridge = \"br 0\"\n", 1, "bridge" },
	{ "test_err_bridge_name", "bridge = \"br:0\"\n", 1, "bridge" },
	{ "test_err_enums", "default {\n  network = \"bridged\"\n}\n", 2, "network" },
	{ "test_err_enums", "default {\n  network = \"\"\n}\n", 2, "network" },
	{ "test_err_enums", "group \"g\" {\n  network = \"Bridge\"\n}\n", 2, "network" },
	{ "test_err_enums", "user \"u\" {\n\n\n  netns = \"per-user\"\n}\n", 4, "netns" },
	{ "test_err_enums", "default { netns = \"\" }\n", 1, "netns" },
	{ "test_err_mtu", "mtu = 5\n", 1, "mtu" },
	{ "test_err_mtu", "\nmtu = 67\n", 2, "mtu" },
	{ "test_err_mtu", "mtu = 65536\n", 1, "mtu" },
	{ "test_err_mtu", "mtu = -1\n", 1, "mtu" },
	{ "test_err_rate_burst", "default {\n  rate = \"fast\"\n}\n", 2, "rate" },
	{ "test_err_rate_burst", "default { rate = \"0mbit\" }\n", 1, "rate" },
	{ "test_err_rate_burst", "default { rate = \"20 mbit\" }\n", 1, "rate" },
	{ "test_err_rate_burst", "default { rate = \"20\" }\n", 1, "rate" },
	{ "test_err_rate_burst", "default { rate = \"-5mbit\" }\n", 1, "rate" },
	{ "test_err_rate_burst", "default { rate = \"99999999999999999999mbit\" }\n", 1, "rate" },
	{ "test_err_rate_burst", "user \"u\" {\n rate = \"20mbit/s\"\n}\n", 2, "rate" },
	{ "test_err_rate_burst", "default { burst = \"lots\" }\n", 1, "burst" },
	{ "test_err_other_values", "default { shell = \"bash\" }\n", 1, "shell" },
	{ "test_err_other_values", "default { shell = \"/bin/../tmp/sh\" }\n", 1, "shell" },
	{ "test_err_other_values", "default { hostname = \"%x\" }\n", 1, "hostname" },
	{ "test_err_other_values", "dhcp_timeout = 0\n", 1, "dhcp_timeout" },
	{ "test_err_other_values", "dhcp_timeout = 301\n", 1, "dhcp_timeout" },
	{ "test_err_other_values", "state_dir = \"run/ns\"\n", 1, "state_dir" },
	{ "test_err_other_values", "lease_file = \"\"\n", 1, "lease_file" },
	{ "test_err_other_values", "dhcp_client = \"udhcpc\"\n", 1, "dhcp_client" },
	{ "test_err_other_values", "exempt_users = {\"root\", \"bad user\"}\n", 1, "exempt_users" },
	{ "test_err_other_values", "exempt_groups = {\"-x\"}\n", 1, "exempt_groups" },
	{ "test_routed", "default { network = \"routed\"\n address = \"dhcp\" }\n", 2, "address" },
	{ "test_routed", "default { network = \"routed\" }\ngroup \"g\" { address = \"dhcp\" }\n", 2, "address" },
	{ "test_routed", "default { address = \"dhcp\" }\ngroup \"g\" { network = \"routed\" }\n", 2, "network" },
	{ "test_new_keys", "default {\n  max_sessions = 0\n}\n", 2, "max_sessions" },
	{ "test_new_keys", "default {\n  max_sessions = 1024\n}\n", 2, "max_sessions" },
	{ "test_new_keys", "exempt_uid_below = -1\n", 1, "exempt_uid_below" },
};

/* expect_one_error for each bad value of TEST; there must be some. */
static void expect_bad_values(const char *test)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad_values); i++) {
		if (strcmp(bad_values[i].test, test) != 0)
			continue;
		expect_one_error(bad_values[i].text, bad_values[i].line, bad_values[i].key);
		n++;
	}
	if (n == 0)
		fail_msg("no bad values for %s", test);
}

/* The test of the bad values named in its initial state. */
static void test_err_bad_values(void **state)
{
	expect_bad_values(*state);
}
#define BAD_VALUES(name) { #name, test_err_bad_values, NULL, NULL, (void *)#name }

/* ---------------------------------------------------------------- defaults */

static void test_defaults_globals(void **state)
{
	(void)state;
	struct ns_config *c = load_ok("");
	const struct ns_globals *g = ns_config_globals(c);
	char buf[64];

	assert_string_equal(g->bridge, "nsbr0");
	assert_true(g->create_bridge);
	assert_int_equal(g->bridge_address.family, AF_INET);
	ns_cidr_format(&g->bridge_address, true, buf, sizeof(buf));
	assert_string_equal(buf, "10.213.0.1/16");
	assert_int_equal(g->pool.family, AF_INET);
	ns_cidr_format(&g->pool, true, buf, sizeof(buf));
	assert_string_equal(buf, "10.213.0.0/16");
	assert_int_equal(g->gateway.family, AF_INET);
	ns_cidr_format(&g->gateway, false, buf, sizeof(buf));
	assert_string_equal(buf, "10.213.0.1");
	assert_true(g->isolate_ports);
	assert_int_equal(g->mtu, 0);
	assert_int_equal(g->n_exempt_users, 1);
	assert_string_equal(g->exempt_users[0], "root");
	assert_int_equal(g->n_exempt_groups, 0);
	assert_int_equal(g->pool6.family, 0);
	assert_int_equal(g->gateway6.family, 0);
	assert_string_equal(g->dhcp_client, "/sbin/udhcpc");
	assert_int_equal(g->dhcp_timeout, 10);
	assert_string_equal(g->state_dir, "/run/ns-shell");
	assert_string_equal(g->lease_file, "/var/lib/ns-shell/leases");
	assert_string_equal(ns_config_path(c), "t.conf");
	ns_config_free(c);
}

static void assert_builtin_policy(const struct ns_policy *p)
{
	assert_int_equal(p->clone_flags, ALL_NS);
	assert_int_equal(p->network, NS_NET_BRIDGE);
	assert_int_equal(p->netns, NS_NETNS_USER);
	assert_int_equal(p->address, NS_ADDR_POOL);
	assert_string_equal(p->hostname, "%u");
	assert_string_equal(p->shell, "/bin/bash");
	assert_false(p->private_tmp);
	assert_true(p->private_shm);
	assert_true(p->linger);          /* processes outlive the login by default */
	assert_int_equal(p->rate_bps, 0);
	assert_int_equal(p->burst_bytes, 0);
	assert_int_equal(p->n_dns, 0);
	assert_int_equal(p->n_deny, 0);
}

static void test_defaults_policy_builtin(void **state)
{
	(void)state;
	struct ns_config *c = load_ok("# only a comment\n");
	struct ns_policy p;
	const char *groups[] = { "users", "students" };
	ns_policy_resolve(c, "bob", groups, 2, &p);
	assert_builtin_policy(&p);
	for (int k = 0; k < NS_KEY__MAX; k++) {
		assert_int_equal(p.src[k], NS_SRC_BUILTIN);
		assert_string_equal(p.src_name[k], "");
	}
	/* no groups at all */
	ns_policy_resolve(c, "bob", NULL, 0, &p);
	assert_builtin_policy(&p);
	ns_config_free(c);
}

/* The sample of docs/DESIGN.md, verbatim, must load and mean what it says. */
static const char design_sample[] =
	"bridge         = \"nsbr0\"          # host bridge for the users' veths\n"
	"create_bridge  = true             # create and bring it up when missing\n"
	"bridge_address = \"10.213.0.1/16\"  # put on a bridge that pam_ns creates\n"
	"pool           = \"10.213.0.0/16\"  # addresses for users (network, gateway, broadcast excluded)\n"
	"gateway        = \"10.213.0.1\"     # default route inside; \"\" for none\n"
	"isolate_ports  = true             # users' veths cannot reach each other across the bridge\n"
	"mtu            = 0                # 0: the bridge's\n"
	"exempt_uid_below = 1000           # uids below it are never namespaced (system and service accounts)\n"
	"exempt_users   = {\"root\"}         # never namespaced (uid 0 never is, whatever this says)\n"
	"exempt_groups  = {}\n"
	"pool6          = \"\"               # e.g. \"fd00:213::/64\": IPv6 addresses for users; \"\" for none\n"
	"gateway6       = \"\"               # IPv6 default route inside\n"
	"dhcp_client    = \"/sbin/udhcpc\"   # for address = \"dhcp\"; run inside the namespace\n"
	"dhcp_script    = \"/usr/lib/ns-shell/udhcpc.script\"  # passed to the client with -s\n"
	"dhcp_timeout   = 10               # seconds to wait for a lease\n"
	"state_dir      = \"/run/ns-shell\"\n"
	"lease_file     = \"/var/lib/ns-shell/leases\"\n"
	"\n"
	"default {\n"
	"    namespaces  = {\"pid\", \"ipc\", \"mount\", \"uts\", \"net\"}\n"
	"    network     = \"bridge\"        # bridge | isolated (loopback only) | host\n"
	"    netns       = \"user\"          # user: one per user, shared by its logins | session: one per login\n"
	"    address     = \"pool\"          # pool | dhcp | A.B.C.D/N\n"
	"    hostname    = \"%u\"            # %u user, %h host's short name, %s session id\n"
	"    shell       = \"/bin/bash\"     # the real shell when ns-shell is the login shell\n"
	"    private_tmp = false           # fresh tmpfs on /tmp per login\n"
	"    private_shm = true            # fresh tmpfs on /dev/shm per login (POSIX shm is not covered by the IPC namespace)\n"
	"    rate        = \"\"              # e.g. \"20mbit\": shaping on the user's veth, both directions\n"
	"    burst       = \"\"              # e.g. \"64kb\"; \"\" picks one from the rate\n"
	"    dns         = {}              # resolvers written to the namespace's resolv.conf\n"
	"    deny        = {}              # destinations (CIDR) the user may not reach\n"
	"    max_sessions = 64             # open sessions of one user at most (1-1023); the next login is refused\n"
	"}\n"
	"group \"students\" { network = \"isolated\" }   # any key of default\n"
	"user  \"alice\"    { address = \"10.213.0.50/16\" }\n";

static void test_design_sample_loads(void **state)
{
	(void)state;
	struct ns_config *c = load_ok(design_sample);
	const struct ns_globals *g = ns_config_globals(c);
	struct ns_policy p;
	char buf[64];

	assert_string_equal(g->bridge, "nsbr0");
	assert_int_equal(g->pool6.family, 0);

	const char *sg[] = { "students" };
	ns_policy_resolve(c, "sam", sg, 1, &p);
	assert_int_equal(p.network, NS_NET_ISOLATED);
	assert_int_equal(p.src[NS_KEY_NETWORK], NS_SRC_GROUP);
	assert_string_equal(p.src_name[NS_KEY_NETWORK], "students");
	assert_int_equal(p.clone_flags, ALL_NS);
	assert_int_equal(p.src[NS_KEY_NAMESPACES], NS_SRC_DEFAULT);
	assert_string_equal(p.src_name[NS_KEY_NAMESPACES], "");
	assert_true(p.private_shm);
	assert_int_equal(p.src[NS_KEY_PRIVATE_SHM], NS_SRC_DEFAULT);

	ns_policy_resolve(c, "alice", NULL, 0, &p);
	assert_int_equal(p.address, NS_ADDR_STATIC);
	ns_cidr_format(&p.static_addr, true, buf, sizeof(buf));
	assert_string_equal(buf, "10.213.0.50/16");
	assert_int_equal(p.src[NS_KEY_ADDRESS], NS_SRC_USER);
	assert_string_equal(p.src_name[NS_KEY_ADDRESS], "alice");
	assert_int_equal(p.network, NS_NET_BRIDGE);
	assert_int_equal(p.src[NS_KEY_NETWORK], NS_SRC_DEFAULT);
	ns_config_free(c);
}

static void test_valid_values(void **state)
{
	(void)state;
	struct ns_config *c = load_ok(
		"bridge = \"br-users.15chr\"\n"     /* exactly 15 bytes */
		"create_bridge = false\n"
		"bridge_address = \"\"\n"
		"pool = \"192.168.64.0/18\"\n"
		"gateway = \"\"\n"
		"isolate_ports = false\n"
		"mtu = 1400\n"
		"exempt_users = {\"root\", \"backup\"}\n"
		"exempt_groups = {\"wheel\"}\n"
		"pool6 = \"fd00:213::/64\"\n"
		"gateway6 = \"fd00:213::1\"\n"
		"dhcp_client = \"/usr/sbin/dhclient\"\n"
		"dhcp_timeout = 300\n"
		"state_dir = \"/run/nss\"\n"
		"lease_file = \"/var/lib/nss/leases\"\n"
		"default {\n"
		"  namespaces = {\"net\", \"uts\"}\n"
		"  network = \"host\"\n"
		"  netns = \"session\"\n"
		"  address = \"dhcp\"\n"
		"  hostname = \"%h-%u-%s\"\n"
		"  shell = \"/bin/zsh\"\n"
		"  private_tmp = true\n"
		"  private_shm = false\n"
		"  rate = \"20mbit\"\n"
		"  burst = \"64kb\"\n"
		"  dns = {\"1.1.1.1\", \"2606:4700::1111\"}\n"
		"  deny = {\"10.0.0.0/8\", \"192.168.1.1\", \"fd00::/8\"}\n"
		"  max_sessions = 8\n"
		"  linger = false\n"
		"}\n");
	const struct ns_globals *g = ns_config_globals(c);
	char buf[64];
	assert_string_equal(g->bridge, "br-users.15chr");
	assert_false(g->create_bridge);
	assert_int_equal(g->bridge_address.family, 0);
	assert_int_equal(g->gateway.family, 0);
	ns_cidr_format(&g->pool, true, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.64.0/18");
	assert_false(g->isolate_ports);
	assert_int_equal(g->mtu, 1400);
	assert_int_equal(g->n_exempt_users, 2);
	assert_string_equal(g->exempt_users[1], "backup");
	assert_int_equal(g->n_exempt_groups, 1);
	assert_string_equal(g->exempt_groups[0], "wheel");
	assert_int_equal(g->pool6.family, AF_INET6);
	assert_int_equal(g->pool6.prefix, 64);
	ns_cidr_format(&g->gateway6, false, buf, sizeof(buf));
	assert_string_equal(buf, "fd00:213::1");
	assert_string_equal(g->dhcp_client, "/usr/sbin/dhclient");
	assert_int_equal(g->dhcp_timeout, 300);
	assert_string_equal(g->state_dir, "/run/nss");
	assert_string_equal(g->lease_file, "/var/lib/nss/leases");

	struct ns_policy p;
	ns_policy_resolve(c, "bob", NULL, 0, &p);
	assert_int_equal(p.clone_flags, CLONE_NEWNET | CLONE_NEWUTS);
	assert_int_equal(p.network, NS_NET_HOST);
	assert_int_equal(p.netns, NS_NETNS_SESSION);
	assert_int_equal(p.address, NS_ADDR_DHCP);
	assert_string_equal(p.hostname, "%h-%u-%s");
	assert_string_equal(p.shell, "/bin/zsh");
	assert_true(p.private_tmp);
	assert_false(p.private_shm);
	assert_int_equal(p.rate_bps, 20000000);
	assert_int_equal(p.burst_bytes, 65536);
	assert_int_equal(p.n_dns, 2);
	assert_int_equal(p.dns[0].family, AF_INET);
	assert_int_equal(p.dns[1].family, AF_INET6);
	assert_int_equal(p.n_deny, 3);
	assert_int_equal(p.deny[0].prefix, 8);
	assert_int_equal(p.deny[1].prefix, 32);
	assert_int_equal(p.deny[2].family, AF_INET6);
	assert_int_equal(p.max_sessions, 8);
	assert_false(p.linger);
	for (int k = 0; k < NS_KEY__MAX; k++)
		assert_int_equal(p.src[k], NS_SRC_DEFAULT);
	ns_config_free(c);
}

static void test_rate_units(void **state)
{
	(void)state;
	static const struct { const char *s; uint64_t bps; } ok[] = {
		{ "1bit", 1 }, { "100kbit", 100000 }, { "20mbit", 20000000 },
		{ "1gbit", 1000000000ULL }, { "10bps", 80 }, { "100kbps", 800000 },
		{ "2mbps", 16000000 }, { "1gbps", 8000000000ULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char text[128];
		snprintf(text, sizeof(text), "default { rate = \"%s\" }\n", ok[i].s);
		struct ns_config *c = load_ok(text);
		struct ns_policy p;
		ns_policy_resolve(c, "bob", NULL, 0, &p);
		assert_int_equal(p.rate_bps, ok[i].bps);
		ns_config_free(c);
	}
}

static void test_errs_null_ok(void **state)
{
	(void)state;
	struct ns_config *c = NULL;
	assert_int_equal(ns_config_load_string("mtu = 5\n", "t.conf", &c, NULL), -EINVAL);
	assert_null(c);
	assert_int_equal(ns_config_load_string("mtu = 1500\n", "t.conf", &c, NULL), 0);
	assert_non_null(c);
	ns_config_free(c);
}

/* ---------------------------------------------------------------- errors */

static void test_err_unknown_key_reported(void **state)
{
	(void)state;
	struct ns_errlist e;
	load_bad("\n\nfrobnicate = 1\n", &e);
	assert_err_at(&e, 3, "frobnicate", false);
	load_bad("default {\n  network = \"host\"\n  colour = \"blue\"\n}\n", &e);
	assert_err_at(&e, 3, "colour", false);
	load_bad("user \"alice\" {\n\n  shel = \"/bin/sh\"\n}\n", &e);
	assert_err_at(&e, 3, "shel", false);
	/* no include() or other functions */
	load_bad("include(\"/etc/passwd\")\n", &e);
	assert_err_at(&e, 1, "include", false);
}

/* DESIGN/brief: every error has the form "NAME:LINE: ...key: ...". */
static void test_err_unknown_key_format(void **state)
{
	(void)state;
	expect_one_error("\n\nfrobnicate = 1\n", 3, "frobnicate");
}

/* The documented sample with one bad line appended: the line is the last. */
static void test_err_line_in_design_sample(void **state)
{
	(void)state;
	size_t n = 0;
	static char text[sizeof(design_sample) + 64];  /* static: no leak when the check fails */
	strcpy(text, design_sample);
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	strcat(text, "user \"bob\" { network = \"bridged\" }\n");
	expect_one_error(text, (int)n + 1, "network");
}

static void test_err_address_outside_pool(void **state)
{
	(void)state;
	expect_bad_values("test_err_address_outside_pool");
	/* a pool that does hold the static address: fine */
	struct ns_config *c = load_ok("pool = \"192.168.0.0/24\"\ngateway = \"192.168.0.1\"\n"
				      "user \"a\" { address = \"192.168.0.9/24\" }\n");
	ns_config_free(c);
}

/* Changing only the pool leaves the default gateway outside it: the error
 * must point at a line that exists (the pool's), not past the end. */
static void test_err_pool_without_gateway_line(void **state)
{
	(void)state;
	struct ns_errlist e;
	load_bad("bridge = \"br1\"\npool = \"192.168.0.0/16\"\n", &e);
	assert_int_equal(e.n, 1);
	int line = atoi(e.line[0] + strlen("t.conf:"));
	if (line < 1 || line > 2) {
		dump_errs(&e);
		fail_msg("error line %d is not a line of the 2-line file", line);
	}
}

static void test_err_mtu(void **state)
{
	(void)state;
	expect_bad_values("test_err_mtu");
	struct ns_config *c = load_ok("mtu = 68\n");
	ns_config_free(c);
	c = load_ok("mtu = 65535\n");
	ns_config_free(c);
	/* not a number at all: still an error on that line naming the key */
	struct ns_errlist e;
	load_bad("\n\nmtu = \"big\"\n", &e);
	assert_err_at(&e, 3, "mtu", false);
}

static void test_err_multiple_all_reported(void **state)
{
	(void)state;
	struct ns_errlist e;
	load_bad("mtu = 5\n"                                   /* 1 */
		 "bridge = \"abcdefghijklmnopq\"\n"            /* 2 */
		 "pool = \"10.213.0.0/16\"\n"
		 "default {\n"
		 "  namespaces = {\"pid\", \"mount\", \"bogus\"}\n" /* 5 */
		 "  rate = \"fast\"\n"                         /* 6 */
		 "}\n"
		 "group \"students\" {\n"
		 "  network = \"bridged\"\n"                   /* 9 */
		 "}\n"
		 "user \"alice\" {\n"
		 "  address = \"192.168.1.5/16\"\n"            /* 12 */
		 "  netns = \"x\"\n"                           /* 13 */
		 "}\n",
		 &e);
	if (e.n != 7)
		dump_errs(&e);
	assert_int_equal(e.n, 7);
	assert_int_equal(e.dropped, 0);
	assert_err_at(&e, 1, "mtu", true);
	assert_err_at(&e, 2, "bridge", true);
	assert_err_at(&e, 5, "namespaces", true);
	assert_err_at(&e, 6, "rate", true);
	assert_err_at(&e, 9, "network", true);
	assert_err_at(&e, 12, "address", true);
	assert_err_at(&e, 13, "netns", true);
	/* listed in line order */
	int prev = 0;
	for (size_t i = 0; i < e.n; i++) {
		int l = atoi(e.line[i] + strlen("t.conf:"));
		assert_true(l >= prev);
		prev = l;
	}
}

static void test_err_many_counted(void **state)
{
	(void)state;
	size_t cap = 40 * 64, o = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(text + o, cap - o, "user \"u%d\" { network = \"x\" }\n", i);
	struct ns_errlist e;
	load_bad(text, &e);
	free(text);
	assert_int_equal(e.n, NS_MAX_ERRS);
	assert_int_equal(e.n + e.dropped, 40);
	for (int i = 0; i < NS_MAX_ERRS; i++)
		assert_err_at(&e, i + 1, "network", true);
}

/* More unknown keys than the list holds: the list says it is truncated. */
static void test_err_many_unknown_keys_counted(void **state)
{
	(void)state;
	static char text[40 * 32];
	size_t o = 0;
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "frob%d = 1\n", i);
	struct ns_errlist e;
	load_bad(text, &e);
	assert_int_equal(e.n, NS_MAX_ERRS);
	if (e.dropped == 0) {
		dump_errs(&e);
		fail_msg("40 unknown keys, %zu listed, dropped = 0: the truncation is not signalled", e.n);
	}
	for (int i = 0; i < NS_MAX_ERRS; i++)
		assert_err_at(&e, i + 1, "frob", false);
}

/* TEXT gives exactly N errors: these (assert_err_at: LINE, KEY, STRICT). */
struct err_at { int line; const char *key; bool strict; };
static void expect_errs_at(const char *text, const struct err_at *at, size_t n)
{
	struct ns_errlist e;
	load_bad(text, &e);
	if (e.n != n)
		dump_errs(&e);
	assert_int_equal(e.n, n);
	for (size_t i = 0; i < n; i++)
		assert_err_at(&e, at[i].line, at[i].key, at[i].strict);
}

/* A file with an unknown key and bad values: all of them are reported. */
static void test_err_all_reported_with_unknown_key(void **state)
{
	(void)state;
	static const struct err_at at[] = { { 1, "mtu", true }, { 2, "frobnicate", false }, { 4, "network", true } };
	expect_errs_at("mtu = 5\nfrobnicate = 1\ndefault {\n  network = \"bridged\"\n}\n", at, ARRAY_SIZE(at));
}

/* A value of the wrong type (bool/int) does not hide the others. */
static void test_err_all_reported_with_bad_type(void **state)
{
	(void)state;
	static const struct err_at at[] = { { 1, "bridge", true }, { 3, "private_tmp", false }, { 4, "network", true } };
	expect_errs_at("bridge = \"abcdefghijklmnopq\"\ndefault {\n  private_tmp = maybe\n  network = \"bridged\"\n}\n",
		       at, ARRAY_SIZE(at));
}

/* Exactly the errors WANT (line, key), one line each, no other. */
struct want_err { int line; const char *key; };
static void expect_errors(const char *text, const struct want_err *want, size_t n)
{
	struct ns_errlist e;
	load_bad(text, &e);
	bool ok = e.n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = find_err(&e, "t.conf", want[i].line, want[i].key, true) >= 0;
	for (size_t i = 0; i < e.n; i++)
		ok = ok && !strchr(e.line[i], '\n');
	if (!ok) {
		dump_errs(&e);
		print_message("  wanted:\n");
		for (size_t i = 0; i < n; i++)
			print_message("    t.conf:%d: ...%s: ...\n", want[i].line, want[i].key);
		fail_msg("for:\n%s", text);
	}
}

/* Texts with several errors: exactly these, by the test that tries them.
 * Each is a cmocka test of its own (BAD_TEXT in main), named after it. */
static const struct bad_text {
	const char *test, *text;
	struct want_err want[3];   /* up to the first { 0, NULL } */
} bad_texts[] = {
	/* An unknown key whose value spans lines: one error for it, and the
	 * errors after it are still found (no spurious ones from its value). */
	{ "test_err_unknown_key_multiline_value", "frob = {\n  \"a\",\n  \"b\"\n}\nmtu = 5\n",
	  { { 1, "frob" }, { 5, "mtu" } } },
	/* An unknown key spelled like the block's title. */
	{ "test_err_unknown_key_named_like_title", "user \"frob\" { frob = 1 }\nmtu = 5\n",
	  { { 1, "frob" }, { 2, "mtu" } } },
	/* An unknown key followed by a bad key on the same line. */
	{ "test_err_unknown_key_then_bad_key_same_line", "user \"u\" { frob = 1 network = \"bridged\" }\n",
	  { { 1, "frob" }, { 1, "network" } } },
	/* An unknown block: one error for it, then the errors after it. */
	{ "test_err_unknown_section", "users \"x\" {\n  network = \"host\"\n}\nmtu = 5\n",
	  { { 1, "users" }, { 4, "mtu" } } },
	/* Several unknown keys after a comment: each on its own line. */
	{ "test_err_unknown_keys_after_comment", "# comment\nfrob = 1\nnicate = 2\nmtu = 5\n",
	  { { 2, "frob" }, { 3, "nicate" }, { 4, "mtu" } } },
};

/* The test of one bad text: its name (the row's) is the initial state. */
static void test_err_bad_text(void **state)
{
	const char *name = *state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_texts); i++) {
		if (strcmp(bad_texts[i].test, name) != 0)
			continue;
		size_t n = 0;
		while (n < ARRAY_SIZE(bad_texts[i].want) && bad_texts[i].want[n].key)
			n++;
		expect_errors(bad_texts[i].text, bad_texts[i].want, n);
		return;
	}
	fail_msg("no bad text for %s", name);
}
#define BAD_TEXT(name) { #name, test_err_bad_text, NULL, NULL, (void *)#name }

static void test_err_list_limits(void **state)
{
	(void)state;
	char text[1024];
	size_t o = 0;
	o += (size_t)snprintf(text + o, sizeof(text) - o, "exempt_users = {");
	for (int i = 0; i < NS_MAX_LIST + 1; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"u%d\"", i ? ", " : "", i);
	snprintf(text + o, sizeof(text) - o, "}\n");
	expect_one_error(text, 1, "exempt_users");

	o = 0;
	o += (size_t)snprintf(text + o, sizeof(text) - o, "\ndefault {\n  dns = {");
	for (int i = 0; i < NS_MAX_LIST + 1; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"10.0.0.%d\"", i ? ", " : "", i + 1);
	snprintf(text + o, sizeof(text) - o, "}\n}\n");
	expect_one_error(text, 3, "dns");

	/* exactly NS_MAX_LIST is fine */
	o = 0;
	o += (size_t)snprintf(text + o, sizeof(text) - o, "default {\n  deny = {");
	for (int i = 0; i < NS_MAX_LIST; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"10.%d.0.0/16\"", i ? ", " : "", i);
	snprintf(text + o, sizeof(text) - o, "}\n}\n");
	struct ns_config *c = load_ok(text);
	struct ns_policy p;
	ns_policy_resolve(c, "bob", NULL, 0, &p);
	assert_int_equal(p.n_deny, NS_MAX_LIST);
	ns_config_free(c);
}

/* A key given twice: the later value counts and its line is reported. */
static void test_err_repeated_key_line(void **state)
{
	(void)state;
	expect_one_error("mtu = 1500\nmtu = 5\n", 2, "mtu");
	struct ns_config *c = load_ok("mtu = 5\nmtu = 1500\n");
	assert_int_equal(ns_config_globals(c)->mtu, 1500);
	ns_config_free(c);
}

/* A list over several lines: the error points at the key or the bad
 * element (lines 2-4), not at the closing brace (line 6). */
static void test_err_multiline_list_line(void **state)
{
	(void)state;
	struct ns_errlist e;
	load_bad("default {\n"
		 "  namespaces = {\n"
		 "    \"pid\",\n"
		 "    \"bogus\",\n"
		 "    \"mount\"\n"
		 "  }\n"
		 "}\n",
		 &e);
	assert_int_equal(e.n, 1);
	int line = atoi(e.line[0] + strlen("t.conf:"));
	if (line < 2 || line > 4) {
		dump_errs(&e);
		fail_msg("line %d: want the key's (2) or the element's (4)", line);
	}
	assert_err_at(&e, line, "namespaces", true);
}

static void test_err_block_titles(void **state)
{
	(void)state;
	struct ns_errlist e;
	load_bad("user \"bob\" { shell = \"/bin/zsh\" }\nuser \"bob\" { shell = \"/bin/sh\" }\n", &e);
	assert_int_equal(e.n, 1);
	assert_err_at(&e, 2, "bob", false);
	load_bad("\ngroup \"a b\" { network = \"host\" }\n", &e);
	assert_int_equal(e.n, 1);
	assert_err_at(&e, 2, "a b", false);
	/* the message says which kind of block: group "a b" */
	if (!strstr(e.line[0], "group \"a b\"")) {
		dump_errs(&e);
		fail_msg("the error does not name the block as group \"a b\"");
	}
}

/* ---------------------------------------------------------------- environment */

static void test_env_not_expanded(void **state)
{
	(void)state;
	assert_int_equal(setenv("NS_TEST_EVIL", "evilvalue", 1), 0);
	assert_int_equal(setenv("HOME", "/home/evil", 1), 0);
	struct ns_config *c = NULL;
	struct ns_errlist e;
	int r = ns_config_load_string(
		"dhcp_client = \"/opt/${NS_TEST_EVIL}/dhcp\"\n"
		"default {\n"
		"  shell = \"/x${HOME}/sh\"\n"
		"  hostname = \"h${NS_TEST_EVIL}\"\n"
		"}\n",
		"t.conf", &c, &e);
	if (r == 0) {
		const struct ns_globals *g = ns_config_globals(c);
		struct ns_policy p;
		ns_policy_resolve(c, "bob", NULL, 0, &p);
		assert_null(strstr(g->dhcp_client, "evil"));
		assert_null(strstr(p.shell, "evil"));
		assert_null(strstr(p.hostname, "evil"));
		ns_config_free(c);
	} else {
		/* refused is fine too, as long as no error echoes the value */
		for (size_t i = 0; i < e.n; i++)
			assert_null(strstr(e.line[i], "evil"));
	}
	/* the environment is back afterwards */
	assert_non_null(getenv("NS_TEST_EVIL"));
	assert_string_equal(getenv("NS_TEST_EVIL"), "evilvalue");
	assert_string_equal(getenv("HOME"), "/home/evil");

	/* a value that would only be valid through the environment */
	assert_int_equal(setenv("NS_TEST_BR", "nsbr0", 1), 0);
	struct ns_config *c2 = NULL;
	r = ns_config_load_string("bridge = \"${NS_TEST_BR}\"\n", "t.conf", &c2, &e);
	if (r == 0) {
		assert_string_not_equal(ns_config_globals(c2)->bridge, "nsbr0");
		ns_config_free(c2);
	}
	unsetenv("NS_TEST_EVIL");
	unsetenv("NS_TEST_BR");
}

/* ---------------------------------------------------------------- resolution */

static const char resolve_conf[] =
	"default {\n"
	"  network = \"isolated\"\n"
	"  hostname = \"d-%u\"\n"
	"  rate = \"1mbit\"\n"
	"}\n"
	"group \"g1\" {\n"
	"  network = \"host\"\n"
	"  shell = \"/bin/sh\"\n"
	"}\n"
	"group \"g2\" {\n"
	"  network = \"bridge\"\n"
	"  shell = \"/bin/zsh\"\n"
	"  private_tmp = true\n"
	"  rate = \"2mbit\"\n"
	"}\n"
	"group \"g3\" {\n"
	"  netns = \"session\"\n"
	"}\n"
	"user \"alice\" {\n"
	"  shell = \"/bin/dash\"\n"
	"  private_shm = false\n"
	"  address = \"10.213.0.50/16\"\n"
	"}\n";

static void test_resolve_key_by_key(void **state)
{
	(void)state;
	struct ns_config *c = load_ok(resolve_conf);
	struct ns_policy p;
	/* user lists g2 before g1: file order decides, so g1 wins where set */
	const char *ga[] = { "users", "g2", "g1" };
	ns_policy_resolve(c, "alice", ga, 3, &p);

	assert_string_equal(p.shell, "/bin/dash");
	assert_int_equal(p.src[NS_KEY_SHELL], NS_SRC_USER);
	assert_string_equal(p.src_name[NS_KEY_SHELL], "alice");
	assert_false(p.private_shm);
	assert_int_equal(p.src[NS_KEY_PRIVATE_SHM], NS_SRC_USER);
	assert_int_equal(p.address, NS_ADDR_STATIC);
	assert_int_equal(p.src[NS_KEY_ADDRESS], NS_SRC_USER);

	assert_int_equal(p.network, NS_NET_HOST);
	assert_int_equal(p.src[NS_KEY_NETWORK], NS_SRC_GROUP);
	assert_string_equal(p.src_name[NS_KEY_NETWORK], "g1");

	assert_true(p.private_tmp);  /* g1 does not set it, g2 does */
	assert_int_equal(p.src[NS_KEY_PRIVATE_TMP], NS_SRC_GROUP);
	assert_string_equal(p.src_name[NS_KEY_PRIVATE_TMP], "g2");
	assert_int_equal(p.rate_bps, 2000000);
	assert_string_equal(p.src_name[NS_KEY_RATE], "g2");

	assert_string_equal(p.hostname, "d-%u");
	assert_int_equal(p.src[NS_KEY_HOSTNAME], NS_SRC_DEFAULT);
	assert_string_equal(p.src_name[NS_KEY_HOSTNAME], "");

	assert_int_equal(p.netns, NS_NETNS_USER);  /* not in g3 */
	assert_int_equal(p.src[NS_KEY_NETNS], NS_SRC_BUILTIN);
	assert_int_equal(p.clone_flags, ALL_NS);
	assert_int_equal(p.src[NS_KEY_NAMESPACES], NS_SRC_BUILTIN);
	assert_string_equal(p.src_name[NS_KEY_NAMESPACES], "");
	ns_config_free(c);
}

static void test_resolve_groups_and_default(void **state)
{
	(void)state;
	struct ns_config *c = load_ok(resolve_conf);
	struct ns_policy p;

	/* bob: only g2 and g3 */
	const char *gb[] = { "g3", "g2" };
	ns_policy_resolve(c, "bob", gb, 2, &p);
	assert_int_equal(p.network, NS_NET_BRIDGE);
	assert_string_equal(p.src_name[NS_KEY_NETWORK], "g2");
	assert_string_equal(p.shell, "/bin/zsh");
	assert_int_equal(p.netns, NS_NETNS_SESSION);
	assert_int_equal(p.src[NS_KEY_NETNS], NS_SRC_GROUP);
	assert_string_equal(p.src_name[NS_KEY_NETNS], "g3");
	assert_true(p.private_shm);
	assert_int_equal(p.src[NS_KEY_PRIVATE_SHM], NS_SRC_BUILTIN);
	assert_int_equal(p.address, NS_ADDR_POOL);

	/* carol: no matching group → default then built-in */
	const char *gc[] = { "other", "g" /* prefix of g1: no match */ };
	ns_policy_resolve(c, "carol", gc, 2, &p);
	assert_int_equal(p.network, NS_NET_ISOLATED);
	assert_int_equal(p.src[NS_KEY_NETWORK], NS_SRC_DEFAULT);
	assert_int_equal(p.rate_bps, 1000000);
	assert_string_equal(p.shell, "/bin/bash");
	assert_int_equal(p.src[NS_KEY_SHELL], NS_SRC_BUILTIN);

	/* a user block name is not a group name and vice versa */
	const char *gd[] = { "alice" };
	ns_policy_resolve(c, "g1", gd, 1, &p);
	assert_int_equal(p.network, NS_NET_ISOLATED);
	assert_string_equal(p.shell, "/bin/bash");
	/* user names match exactly */
	ns_policy_resolve(c, "alice2", NULL, 0, &p);
	assert_string_equal(p.shell, "/bin/bash");
	ns_policy_resolve(c, "Alice", NULL, 0, &p);
	assert_string_equal(p.shell, "/bin/bash");
	ns_config_free(c);
}

static void test_policy_print(void **state)
{
	(void)state;
	struct ns_config *c = load_ok(resolve_conf);
	struct ns_policy p;
	const char *ga[] = { "g1" };
	ns_policy_resolve(c, "alice", ga, 1, &p);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	ns_policy_print(f, &p);
	fclose(f);
	assert_non_null(strstr(buf, "/bin/dash"));
	assert_non_null(strstr(buf, "user alice"));
	assert_non_null(strstr(buf, "group g1"));
	assert_non_null(strstr(buf, "default"));
	assert_non_null(strstr(buf, "built-in"));
	free(buf);
	assert_string_equal(ns_source_name(NS_SRC_USER), "user");
	assert_string_equal(ns_network_name(NS_NET_ISOLATED), "isolated");
	assert_string_equal(ns_netns_mode_name(NS_NETNS_SESSION), "session");
	assert_string_equal(ns_key_name(NS_KEY_PRIVATE_SHM), "private_shm");
	ns_config_free(c);
}

/* ---------------------------------------------------- routed (issue 13) */

static void test_routed(void **state)
{
	(void)state;
	struct ns_errlist e;
	struct ns_policy p;
	/* routed with its own pool block: gateway (default 10.213.0.1) is
	 * not the bridge side's anywhere, so it need not lie in the pool */
	struct ns_config *c = load_ok("pool = \"10.213.16.0/20\"\ndefault { network = \"routed\" }\n");
	ns_policy_resolve(c, "alice", NULL, 0, &p);
	assert_int_equal(p.network, NS_NET_ROUTED);
	assert_string_equal(ns_network_name(NS_NET_ROUTED), "routed");
	ns_config_free(c);
	/* ... but where a policy uses the bridge, it must */
	load_bad("pool = \"10.213.16.0/20\"\ndefault { network = \"routed\" }\n"
		 "group \"g\" { network = \"bridge\" }\n", &e);
	assert_err_at(&e, 1, "pool", true);
	/* dhcp needs a bridge: the key of the block that says it */
	expect_bad_values("test_routed");
	load_bad("default { network = \"routed\" address = \"dhcp\" }\n", &e);
	assert_non_null(strstr(e.line[0], "needs a bridge: not with network = \"routed\""));
}

/* ------------------------------------------------- issue 11/16 keys */

static void test_new_keys(void **state)
{
	(void)state;
	expect_bad_values("test_new_keys");
	/* DHCP users' IPv6 host parts (uid + 0x10000) must not meet pool users' */
	expect_one_error("pool = \"10.0.0.0/15\"\nbridge_address = \"10.0.0.1/15\"\ngateway = \"10.0.0.1\"\n"
			 "pool6 = \"fd00::/64\"\nuser \"bob\" { address = \"dhcp\" }\n", 4, "pool6");
	struct ns_config *c = load_ok("pool = \"10.0.0.0/15\"\nbridge_address = \"10.0.0.1/15\"\n"
				      "gateway = \"10.0.0.1\"\npool6 = \"fd00::/64\"\n");
	ns_config_free(c);
	c = load_ok("pool6 = \"fd00::/64\"\ndefault { address = \"dhcp\" }\n");   /* a /16 pool */
	struct ns_policy p;
	ns_policy_resolve(c, "bob", NULL, 0, &p);
	assert_int_equal(p.max_sessions, 64);
	ns_config_free(c);
}

/* ---------------------------------------------------------------- exempt */

static void test_exempt(void **state)
{
	(void)state;
	struct ns_config *c = load_ok("");
	const char *g[] = { "wheel" };
	assert_true(ns_config_exempt(c, "root", 0, NULL, 0));
	assert_false(ns_config_exempt(c, "bob", 1000, g, 1));
	assert_false(ns_config_exempt(c, "roo", 1000, NULL, 0));
	assert_false(ns_config_exempt(c, "root2", 1000, NULL, 0));
	ns_config_free(c);

	c = load_ok("exempt_users = {\"admin\", \"ops\"}\nexempt_groups = {\"wheel\", \"backup\"}\n");
	assert_true(ns_config_exempt(c, "admin", 1000, NULL, 0));
	assert_true(ns_config_exempt(c, "ops", 1000, NULL, 0));
	assert_true(ns_config_exempt(c, "root", 0, NULL, 0));   /* uid 0 always is, whatever the list */
	assert_false(ns_config_exempt(c, "root", 1000, NULL, 0)); /* the list replaces the default name */
	const char *g1[] = { "users", "backup" };
	const char *g2[] = { "users", "wheels" };
	assert_true(ns_config_exempt(c, "bob", 1000, g1, 2));
	assert_true(ns_config_exempt(c, "bob", 1000, g, 1));
	assert_false(ns_config_exempt(c, "bob", 1000, g2, 2));
	assert_false(ns_config_exempt(c, "bob", 1000, NULL, 0));
	assert_false(ns_config_exempt(c, "wheel", 1000, NULL, 0));  /* a group name is not a user */
	ns_config_free(c);

	c = load_ok("exempt_users = {}\n");
	assert_true(ns_config_exempt(c, "root", 0, NULL, 0));
	ns_config_free(c);

	/* exempt_uid_below: default 1000 (Debian's first user uid). */
	c = load_ok("");
	assert_true(ns_config_exempt(c, "postgres", 108, NULL, 0));
	assert_true(ns_config_exempt(c, "www-data", 33, NULL, 0));
	assert_true(ns_config_exempt(c, "bob", 999, NULL, 0));
	assert_false(ns_config_exempt(c, "bob", 1000, NULL, 0));
	assert_int_equal(ns_config_globals(c)->exempt_uid_below, 1000);
	ns_config_free(c);
	c = load_ok("exempt_uid_below = 0\n");
	assert_false(ns_config_exempt(c, "postgres", 108, NULL, 0));
	assert_true(ns_config_exempt(c, "root", 0, NULL, 0));
	ns_config_free(c);
	c = load_ok("exempt_uid_below = 5000\n");
	assert_true(ns_config_exempt(c, "bob", 4999, NULL, 0));
	assert_false(ns_config_exempt(c, "bob", 5000, NULL, 0));
	ns_config_free(c);
}

/* ---------------------------------------------------------------- files */

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "ns_config_load hung (FIFO?)\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static int files_setup(void **state)
{
	(void)state;
	if (tmpdir_make("config") < 0)
		return -1;
	signal(SIGALRM, on_alarm);
	return 0;
}

static int files_teardown(void **state)
{
	(void)state;
	return tmpdir_remove();
}

static int load_path(const char *path, struct ns_errlist *e)
{
	struct ns_config *c = NULL;
	alarm(60);  /* generous: valgrind is slow, a FIFO would block forever */
	int r = ns_config_load(path, &c, e);
	alarm(0);
	if (r == 0) {
		assert_non_null(c);
		ns_config_free(c);
	} else {
		assert_null(c);
	}
	return r;
}

static void assert_refused(int r, const struct ns_errlist *e, int code, const char *what)
{
	if (r != code || e->n < 1 || !strstr(e->line[0], what)) {
		dump_errs(e);
		fail_msg("expected %d with \"%s\", got %d", code, what, r);
	}
}

static void test_load_file_ok(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "ok.conf");
	write_file(p, design_sample, strlen(design_sample), 0644);
	int r = load_path(p, &e);
	if (geteuid() != 0) {
		assert_refused(r, &e, -EPERM, "not owned by root");
		return;
	}
	if (r != 0)
		dump_errs(&e);
	assert_int_equal(r, 0);

	struct ns_config *c = NULL;
	assert_int_equal(ns_config_load(p, &c, &e), 0);
	assert_string_equal(ns_config_path(c), p);
	assert_string_equal(ns_config_globals(c)->bridge, "nsbr0");
	ns_config_free(c);

	/* 0600 and 0400 are fine too */
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(load_path(p, &e), 0);
	assert_int_equal(chmod(p, 0400), 0);
	assert_int_equal(load_path(p, &e), 0);
}

static void test_load_file_bad_content_names_path(void **state)
{
	(void)state;
	char p[300], prefix[320];
	struct ns_errlist e;
	path_of(p, sizeof(p), "bad.conf");
	write_file(p, "\nmtu = 5\n", 9, 0644);
	int r = load_path(p, &e);
	if (geteuid() != 0) {
		assert_refused(r, &e, -EPERM, "not owned by root");
		return;
	}
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.n, 1);
	snprintf(prefix, sizeof(prefix), "%s:2: mtu: ", p);
	assert_memory_equal(e.line[0], prefix, strlen(prefix));
}

static void test_load_file_writable(void **state)
{
	(void)state;
	static const mode_t modes[] = { 0664, 0646, 0666, 0620, 0602, 0777 };
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "w.conf");
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		write_file(p, "mtu = 1500\n", 11, modes[i]);
		int r = load_path(p, &e);
		assert_refused(r, &e, -EPERM, geteuid() == 0 ? "writable" : "not owned by root");
	}
}

static void test_load_file_not_root_owned(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "owner.conf");
	write_file(p, "mtu = 1500\n", 11, 0644);
	if (geteuid() == 0)
		assert_int_equal(chown(p, 65534, 65534), 0);
	assert_refused(load_path(p, &e), &e, -EPERM, "not owned by root");
}

static void test_load_symlink(void **state)
{
	(void)state;
	char target[300], link[300];
	struct ns_errlist e;
	path_of(target, sizeof(target), "target.conf");
	path_of(link, sizeof(link), "link.conf");
	write_file(target, "mtu = 1500\n", 11, 0644);
	unlink(link);
	assert_int_equal(symlink(target, link), 0);
	assert_refused(load_path(link, &e), &e, -EPERM, link);
}

static void test_load_fifo(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "fifo.conf");
	unlink(p);
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_refused(load_path(p, &e), &e, -EPERM, p);  /* alarm() guards against a hang */
}

static void test_load_directory(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "dir.conf");
	rmdir(p);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_refused(load_path(p, &e), &e, -EPERM, p);
	rmdir(p);
	/* a character device */
	assert_int_equal(load_path("/dev/null", &e), -EPERM);
}

static void test_load_missing(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "does-not-exist.conf");
	assert_refused(load_path(p, &e), &e, -ENOENT, p);
}

static void test_load_size_limit(void **state)
{
	(void)state;
	const size_t max = 1024 * 1024;
	char p[300];
	struct ns_errlist e;
	static char text[1024 * 1024 + 2];  /* static: nothing leaks if a check fails */
	/* exactly 1 MiB: a value, then comment lines of 64 bytes (one huge
	 * comment line is slow in libconfuse, ~15 s under valgrind) */
	memset(text, ' ', max);
	static const char head[] = "mtu = 1500\n";
	memcpy(text, head, strlen(head));
	for (size_t o = strlen(head); o < max; o += 64) {
		text[o] = '#';
		text[(o + 63 < max ? o + 63 : max - 1)] = '\n';
	}
	text[max - 1] = '\n';
	path_of(p, sizeof(p), "big.conf");
	write_file(p, text, max, 0644);
	int r = load_path(p, &e);
	if (geteuid() == 0) {
		if (r != 0)
			dump_errs(&e);
		assert_int_equal(r, 0);
	} else {
		assert_refused(r, &e, -EPERM, "not owned by root");
	}
	/* one byte more: -EFBIG */
	text[max - 1] = ' ';
	text[max] = '\n';
	write_file(p, text, max + 1, 0644);
	r = load_path(p, &e);
	if (geteuid() == 0)
		assert_refused(r, &e, -EFBIG, p);
	else
		assert_refused(r, &e, -EPERM, "not owned by root");
}

static void test_load_nul_byte(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	path_of(p, sizeof(p), "nul.conf");
	write_file(p, "mtu = 1500\n\0mtu = 5\n", 20, 0644);
	int r = load_path(p, &e);
	if (geteuid() == 0)
		assert_int_equal(r, -EINVAL);
	else
		assert_refused(r, &e, -EPERM, "not owned by root");
}

static void test_load_fd(void **state)
{
	(void)state;
	char p[300];
	struct ns_errlist e;
	struct ns_config *c = NULL;
	path_of(p, sizeof(p), "fd.conf");
	write_file(p, "bridge = \"br9\"\n", 15, 0644);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int r = ns_config_load_fd(fd, "named.conf", &c, &e);
	if (geteuid() == 0) {
		assert_int_equal(r, 0);
		assert_string_equal(ns_config_path(c), "named.conf");
		assert_string_equal(ns_config_globals(c)->bridge, "br9");
		ns_config_free(c);
	} else {
		assert_refused(r, &e, -EPERM, "not owned by root");
	}
	/* the checks are on the descriptor: chmod after open is seen */
	assert_int_equal(fchmod(fd, 0666), 0);
	c = NULL;
	r = ns_config_load_fd(fd, "named.conf", &c, &e);
	assert_int_equal(r, -EPERM);
	assert_null(c);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(test_defaults_globals),
		cmocka_unit_test(test_defaults_policy_builtin),
		cmocka_unit_test(test_design_sample_loads),
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_new_keys),
		cmocka_unit_test(test_routed),
		cmocka_unit_test(test_rate_units),
		cmocka_unit_test(test_errs_null_ok),
		cmocka_unit_test(test_err_unknown_key_reported),
		cmocka_unit_test(test_err_unknown_key_format),
		BAD_VALUES(test_err_bad_type_format),
		BAD_VALUES(test_err_bad_addresses),
		BAD_VALUES(test_err_no_cascade),
		BAD_VALUES(test_err_line_after_comments),
		cmocka_unit_test(test_err_line_in_design_sample),
		cmocka_unit_test(test_err_address_outside_pool),
		cmocka_unit_test(test_err_pool_without_gateway_line),
		BAD_VALUES(test_err_unknown_namespace),
		BAD_VALUES(test_err_bridge_name),
		BAD_VALUES(test_err_enums),
		cmocka_unit_test(test_err_mtu),
		BAD_VALUES(test_err_rate_burst),
		BAD_VALUES(test_err_other_values),
		cmocka_unit_test(test_err_multiple_all_reported),
		cmocka_unit_test(test_err_many_counted),
		cmocka_unit_test(test_err_many_unknown_keys_counted),
		cmocka_unit_test(test_err_all_reported_with_unknown_key),
		cmocka_unit_test(test_err_all_reported_with_bad_type),
		BAD_TEXT(test_err_unknown_key_multiline_value),
		BAD_TEXT(test_err_unknown_key_named_like_title),
		BAD_TEXT(test_err_unknown_key_then_bad_key_same_line),
		BAD_TEXT(test_err_unknown_section),
		BAD_TEXT(test_err_unknown_keys_after_comment),
		cmocka_unit_test(test_err_list_limits),
		cmocka_unit_test(test_err_repeated_key_line),
		cmocka_unit_test(test_err_multiline_list_line),
		cmocka_unit_test(test_err_block_titles),
		cmocka_unit_test(test_env_not_expanded),
		cmocka_unit_test(test_resolve_key_by_key),
		cmocka_unit_test(test_resolve_groups_and_default),
		cmocka_unit_test(test_policy_print),
		cmocka_unit_test(test_exempt),
	};
	const struct CMUnitTest file_tests[] = {
		cmocka_unit_test(test_load_file_ok),
		cmocka_unit_test(test_load_file_bad_content_names_path),
		cmocka_unit_test(test_load_file_writable),
		cmocka_unit_test(test_load_file_not_root_owned),
		cmocka_unit_test(test_load_symlink),
		cmocka_unit_test(test_load_fifo),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_size_limit),
		cmocka_unit_test(test_load_nul_byte),
		cmocka_unit_test(test_load_fd),
	};
	int fails = cmocka_run_group_tests_name("config", parse_tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("config files", file_tests, files_setup, files_teardown);
	return fails ? 1 : 0;
}
