/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_names.c — the namespace table and the names of what we create. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ns_names.h"
#include "ns_util.h"

const struct ns_kind ns_kinds[] = {
	{ "pid",   CLONE_NEWPID, "pid" },
	{ "ipc",   CLONE_NEWIPC, "ipc" },
	{ "mount", CLONE_NEWNS,  "mnt" },
	{ "uts",   CLONE_NEWUTS, "uts" },
	{ "net",   CLONE_NEWNET, "net" },
	{ NULL, 0, NULL },
};

const struct ns_kind *ns_kind_by_name(const char *name)
{
	for (const struct ns_kind *k = ns_kinds; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

bool ns_user_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 32 || name[0] == '-' || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool ns_sid_valid(const char *sid)
{
	if (!sid || strlen(sid) != NS_SID_LEN)
		return false;
	for (int i = 0; i < NS_SID_LEN; i++)
		if (!((sid[i] >= '0' && sid[i] <= '9') || (sid[i] >= 'a' && sid[i] <= 'f')))
			return false;
	return true;
}

int ns_sid_random(char ret[NS_SID_LEN + 1])
{
	unsigned char b[4];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	snprintf(ret, NS_SID_LEN + 1, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	return 0;
}

int ns_netns_name(const char *user, const char *sid, char *buf, size_t size)
{
	int n;
	if (!ns_user_name_valid(user) || (sid && !ns_sid_valid(sid)))
		return -EINVAL;
	if (sid)
		n = snprintf(buf, size, "ns-%s-%s", user, sid);
	else
		n = snprintf(buf, size, "ns-%s", user);
	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int ns_veth_name(uid_t uid, const char *sid, char buf[16])
{
	/* "nsu" + at most 10 digits = 13; "nss" + 8 hex = 11: both fit 15. */
	if (sid) {
		if (!ns_sid_valid(sid))
			return -EINVAL;
		snprintf(buf, 16, "nss%s", sid);
	} else {
		snprintf(buf, 16, "nsu%u", (unsigned)uid);
	}
	return 0;
}

#define VETH_ALIAS_PREFIX "ns-shell "

int ns_veth_alias(const char *user, uid_t uid, char *buf, size_t size)
{
	int n = snprintf(buf, size, VETH_ALIAS_PREFIX "user=%s uid=%u", user, (unsigned)uid);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool ns_veth_alias_ours(const char *alias)
{
	return alias && strncmp(alias, VETH_ALIAS_PREFIX, strlen(VETH_ALIAS_PREFIX)) == 0;
}

/* User names never hold a space, so " uid=" starts the uid's field. */
int ns_veth_alias_uid(const char *alias, uid_t *ret_uid)
{
	const char *p = ns_veth_alias_ours(alias) ? strstr(alias, " uid=") : NULL;
	if (!p || !isdigit((unsigned char)p[5]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long v = strtoul(p + 5, &end, 10);
	if (errno || (*end && *end != ' ') || v >= (uid_t)-1)
		return -EINVAL;
	*ret_uid = (uid_t)v;
	return 0;
}

bool ns_ifname_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int expand(const char *tmpl, const char *user, const char *host, const char *sid,
		  char *buf, size_t size)
{
	size_t o = 0;
	if (size == 0)
		return -EINVAL;
	for (const char *p = tmpl; *p; p++) {
		const char *ins;
		char one[2] = { 0, 0 };
		if (*p == '%') {
			switch (*++p) {
			case 'u': ins = user ? user : ""; break;
			case 'h': ins = host ? host : ""; break;
			case 's': ins = sid ? sid : ""; break;
			case '%': ins = "%"; break;
			default: return -EINVAL;
			}
		} else {
			one[0] = *p;
			ins = one;
		}
		/* Once the buffer is full, keep reading the template: whether it
		 * is valid must not depend on how long %u, %h and %s are. */
		for (; *ins && o + 1 < size && o < 63; ins++) {
			if (buf)
				buf[o] = host_char_ok(*ins) ? *ins : '-';
			o++;
		}
	}
	if (buf)
		buf[o] = '\0';
	return 0;
}

int ns_hostname_expand(const char *tmpl, const char *user, const char *host,
		       const char *sid, char *buf, size_t size)
{
	int r = expand(tmpl, user, host, sid, buf, size);
	if (r < 0)
		return r;
	if (buf[0] == '\0')  /* an empty hostname is not one: fall back */
		return expand("%u", user, host, sid, buf, size);
	return 0;
}

bool ns_hostname_template_valid(const char *tmpl)
{
	char tmp[64];
	return strlen(tmpl) < 128 && expand(tmpl, "u", "h", "00000000", tmp, sizeof(tmp)) == 0;
}
