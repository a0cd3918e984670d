/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_args.c — the small parsers of caller-controlled strings: argv and
 * SSH_ORIGINAL_COMMAND (ns_invocation_parse, ns_shell_argv), the
 * environment (ns_env_build), hostname templates (ns_hostname_expand),
 * names (user, sid, interface, netns, veth) and CIDRs (ns_cidr_parse).
 *
 * Input: one selector byte, one size byte, then NUL-separated fields. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ns_config.h"
#include "ns_env.h"
#include "ns_invoke.h"
#include "ns_names.h"

#define MAX_INPUT 16384
#define MAX_FIELDS 64

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static void fuzz_invoke(char **f, size_t n, unsigned size_byte)
{
	/* argv = fields 1..n-1, SSH_ORIGINAL_COMMAND = field 0 unless empty */
	char *argv[MAX_FIELDS + 1];
	int argc = (int)n - 1;
	for (size_t i = 1; i < n; i++)
		argv[i - 1] = f[i];
	argv[argc] = NULL;
	const char *ssh = f[0][0] ? f[0] : NULL;
	struct ns_invocation inv, canary;
	memset(&inv, 0x5a, sizeof(inv));
	canary = inv;
	int r = ns_invocation_parse(argc, argv, ssh, &inv);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL && memcmp(&inv, &canary, sizeof(inv)) == 0, "refused but changed");
		return;
	}
	FUZZ_CHECK(argc >= 1 && argc <= 3, "accepted argc %d", argc);
	FUZZ_CHECK(inv.mode <= NS_MODE_HELP, "mode");
	FUZZ_CHECK(inv.mode != NS_MODE_COMMAND || inv.command, "command mode without a command");
	if (inv.mode == NS_MODE_COMMAND)  /* passed verbatim: one of the inputs, never rebuilt */
		FUZZ_CHECK(inv.command == ssh || (argc == 3 && inv.command == argv[2]), "command rebuilt");

	/* the shell: field 1 (argv[0]) doubles as the configured shell path */
	char buf[300];
	size_t size = size_byte % (sizeof(buf) + 1);
	const char *sargv[4] = { 0 };
	const char *shell = argv[0];
	r = ns_shell_argv(shell, &inv, buf, size, sargv);
	if (r < 0)
		return;
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	FUZZ_CHECK(strlen(buf) < size && strcmp(buf + 1, base) == 0 && buf[0] == '-', "argv[0] buffer");
	FUZZ_CHECK(sargv[0] == buf || sargv[0] == buf + 1, "argv[0]");
	if (inv.mode == NS_MODE_COMMAND)
		FUZZ_CHECK(strcmp(sargv[1], "-c") == 0 && sargv[2] == inv.command && !sargv[3], "command argv");
	else
		FUZZ_CHECK(sargv[1] == NULL, "argv not terminated");
}

static void fuzz_env(char **f, size_t n)
{
	/* ids: fields 0..4 (empty: NULL session), environment: the rest */
	if (n < 5)
		return;
	struct ns_env_ids ids = { .home = f[0], .user = f[1], .shell = f[2], .path = f[3],
				  .session = f[4][0] ? f[4] : NULL };
	char *src[MAX_FIELDS + 1];
	size_t ns = 0;
	for (size_t i = 5; i < n; i++)
		src[ns++] = f[i];
	src[ns] = NULL;
	char **env = NULL;
	int r = ns_env_build(src, &ids, &env);
	FUZZ_CHECK(r == 0 && env, "env_build r=%d", r);
	static const char *const fixed[] = { "HOME=", "USER=", "LOGNAME=", "SHELL=", "PATH=",
					     "NS_SHELL_SESSION=" };
	size_t k = 0, n_session = 0;
	for (; env[k]; k++) {
		bool is_fixed = false;
		for (size_t j = 0; j < sizeof(fixed) / sizeof(fixed[0]); j++)
			is_fixed |= strncmp(env[k], fixed[j], strlen(fixed[j])) == 0;
		n_session += strncmp(env[k], "NS_SHELL_SESSION=", 17) == 0;
		FUZZ_CHECK(is_fixed || ns_env_allowed(env[k]), "entry \"%s\" not allowed", env[k]);
		FUZZ_CHECK(strchr(env[k], '='), "entry without '='");
	}
	FUZZ_CHECK(n_session == (ids.session ? 1u : 0u), "NS_SHELL_SESSION %zu times", n_session);
	FUZZ_CHECK(k <= ns + 6, "more entries than given");
	free(env);
}

static void fuzz_hostname(char **f, size_t n, unsigned size_byte)
{
	const char *tmpl = f[0];
	const char *user = n > 1 ? f[1] : "alice";
	const char *host = n > 2 ? f[2] : NULL;
	const char *sid = n > 3 && f[3][0] ? f[3] : NULL;
	char buf[128];
	size_t size = 1 + size_byte % sizeof(buf);
	memset(buf, 'X', sizeof(buf));
	int r = ns_hostname_expand(tmpl, user, host, sid, buf, size);
	if (r == 0) {
		size_t len = strnlen(buf, size);
		FUZZ_CHECK(len < size && len <= 63, "result not terminated in %zu bytes or too long", size);
		for (size_t i = size; i < sizeof(buf); i++)
			FUZZ_CHECK(buf[i] == 'X', "wrote past size %zu at %zu", size, i);
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK(host_char(buf[i]), "bad hostname char %#x", (unsigned char)buf[i]);
	} else {
		FUZZ_CHECK(r == -EINVAL, "r=%d", r);
	}
	/* The config accepts a template only if ns_hostname_template_valid
	 * does; ns-shell then expands it into 65 bytes with the real user,
	 * host and session id (NULL for a per-user namespace) and refuses the
	 * login on failure. So a valid template must expand for any of them. */
	if (ns_hostname_template_valid(tmpl)) {
		char out[65];
		FUZZ_CHECK(ns_hostname_expand(tmpl, user, host, sid, out, sizeof(out)) == 0,
			   "template \"%s\" passes the config check but fails to expand for user \"%s\" "
			   "host \"%s\" sid \"%s\"", tmpl, user, host ? host : "(null)", sid ? sid : "(null)");
	}
}

static void fuzz_names(char **f, size_t n)
{
	const char *s = f[0];
	bool uv = ns_user_name_valid(s);
	char buf[128], veth[16];
	int r = ns_netns_name(s, n > 1 && f[1][0] ? f[1] : NULL, buf, sizeof(buf));
	FUZZ_CHECK(r != 0 || uv, "netns name for an invalid user");
	if (r == 0)
		FUZZ_CHECK(strncmp(buf, "ns-", 3) == 0 && strlen(buf) < sizeof(buf), "netns name");
	bool sv = ns_sid_valid(s);
	if (ns_veth_name((uid_t)strlen(s) * 4294967u, sv ? s : NULL, veth) == 0)
		FUZZ_CHECK(ns_ifname_valid(veth), "veth name \"%s\" not a valid interface name", veth);
	(void)ns_ifname_valid(s);
	(void)ns_kind_by_name(s);
}

static void fuzz_cidr(char **f, size_t n, unsigned sel)
{
	struct ns_cidr c, d, canary;
	memset(&c, 0x77, sizeof(c));
	canary = c;
	bool need = sel & 0x10;
	int r = ns_cidr_parse(f[0], need, &c);
	if (r < 0) {
		FUZZ_CHECK(memcmp(&c, &canary, sizeof(c)) == 0, "refused CIDR changed *ret");
		return;
	}
	FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6, "family");
	FUZZ_CHECK(c.prefix <= (c.family == AF_INET ? 32u : 128u), "prefix %u", c.prefix);
	char buf[64];
	ns_cidr_format(&c, true, buf, sizeof(buf));
	FUZZ_CHECK(ns_cidr_parse(buf, true, &d) == 0 && d.family == c.family && d.prefix == c.prefix &&
		   memcmp(&d.addr, &c.addr, c.family == AF_INET ? 4 : 16) == 0, "format/parse round trip: %s", buf);
	FUZZ_CHECK(ns_cidr_contains(&c, &c), "a network does not contain itself");
	if (n > 1 && ns_cidr_parse(f[1], false, &d) == 0 && ns_cidr_contains(&c, &d)) {
		/* contained in a network: also in any shorter prefix of it */
		struct ns_cidr wider = c;
		wider.prefix = c.prefix / 2;
		FUZZ_CHECK(ns_cidr_contains(&wider, &d), "containment not monotonic");
	}
	unsigned long v;
	if (ns_parse_ulong(f[0], 1000000, &v) == 0)
		FUZZ_CHECK(v <= 1000000, "parse_ulong over max");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > MAX_INPUT)
		return -1;
	unsigned sel = data[0], size_byte = data[1];
	char *blob, *f[MAX_FIELDS];
	size_t n = fuzz_fields(data + 2, size - 2, &blob, f, MAX_FIELDS);
	switch (sel % 6) {
	case 0: fuzz_invoke(f, n, size_byte); break;
	case 1: fuzz_env(f, n); break;
	case 2: fuzz_hostname(f, n, size_byte); break;
	case 3: fuzz_names(f, n); break;
	case 4: case 5: fuzz_cidr(f, n, sel); break;
	}
	free(blob);
	return 0;
}
