/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_env.c — the login's environment, built from an allow-list.
 * Nothing here is used for a decision; values reach only the user's shell,
 * which runs with the user's ids. */
#include <string.h>

#include "ns_env.h"
#include "ns_util.h"

#define NS_ENV_MAX_VALUE 4096

static const char *const allowed[] = {
	"TERM", "LANG", "TZ", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY",
	"SSH_AUTH_SOCK", "DISPLAY", NULL,
};

bool ns_env_allowed(const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq || eq == entry || strlen(eq + 1) > NS_ENV_MAX_VALUE)
		return false;
	size_t n = (size_t)(eq - entry);
	for (const char *const *a = allowed; *a; a++)
		if (strlen(*a) == n && strncmp(entry, *a, n) == 0)
			return true;
	if (n > 3 && strncmp(entry, "LC_", 3) == 0) {
		for (size_t i = 3; i < n; i++)
			if (!((entry[i] >= 'A' && entry[i] <= 'Z') || entry[i] == '_'))
				return false;
		return true;
	}
	return false;
}

int ns_env_build(char *const *src, const struct ns_env_ids *ids, char ***ret)
{
	const char *names[] = { "HOME", "USER", "LOGNAME", "SHELL", "PATH", "NS_SHELL_SESSION" };
	const char *vals[] = { ids->home, ids->user, ids->user, ids->shell, ids->path, ids->session };
	size_t count = 0, bytes = 0;

	for (char *const *e = src; e && *e; e++)
		if (ns_env_allowed(*e)) {
			count++;
			bytes += strlen(*e) + 1;
		}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (vals[i]) {
			count++;
			bytes += strlen(names[i]) + strlen(vals[i]) + 2;
		}

	char **out = malloc((count + 1) * sizeof(char *) + bytes);
	if (!out)
		return -ENOMEM;
	char *p = (char *)(out + count + 1);
	size_t k = 0;
	for (char *const *e = src; e && *e; e++)
		if (ns_env_allowed(*e)) {
			size_t l = strlen(*e) + 1;
			memcpy(p, *e, l);
			out[k++] = p;
			p += l;
		}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (vals[i]) {
			size_t ln = strlen(names[i]), lv = strlen(vals[i]);
			memcpy(p, names[i], ln);
			p[ln] = '=';
			memcpy(p + ln + 1, vals[i], lv + 1);
			out[k++] = p;
			p += ln + lv + 2;
		}
	out[k] = NULL;
	*ret = out;
	return 0;
}
