/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_groups.c — NSS group lookup: which of the groups ns.conf names a user
 * is in. Fails closed: a lookup that fails is an error, never "not a member". */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ns_groups.h"
#include "ns_util.h"

/* getgrouplist() into an array grown until it fits. *ret_n: entries. */
static int group_ids(const char *user, gid_t gid, gid_t **ret_gids, int *ret_n)
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
	*ret_gids = TAKE_PTR(gids);
	*ret_n = ng;
	return 0;
}

/* NAMES (N strdup'ed strings, BYTES with their NULs) into one allocation:
 * the array, its NULL, then the strings. Frees every NAMES[i]. */
static char **pack_names(char **names, size_t n, size_t bytes)
{
	char **out = malloc((n + 1) * sizeof(char *) + bytes);
	if (!out) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		return NULL;
	}
	char *p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]) + 1;
		memcpy(p, names[i], l);
		out[i] = p;
		p += l;
		free(names[i]);
	}
	out[n] = NULL;
	return out;
}

/* getgrnam_r (NAME) or getgrgid_r (NAME NULL: GID) into a buffer grown
 * until it fits: 0 with *ret set (NULL: no such group), or -errno when the
 * lookup itself failed (a directory that is down reports an error here,
 * where getgrouplist() would just return fewer groups). */
static int group_lookup(const char *name, gid_t gid, struct group *gr, char **buf, struct group **ret)
{
	for (size_t size = 1024; size <= (1u << 24); size *= 4) {
		char *b = realloc(*buf, size);
		if (!b)
			return -ENOMEM;
		*buf = b;
		int e = name ? getgrnam_r(name, gr, b, size, ret) : getgrgid_r(gid, gr, b, size, ret);
		if (e == 0)
			return 0;
		if (e != ERANGE)
			return -(e > 0 ? e : EIO);
	}
	return -E2BIG;
}

static bool in_members(const char *user, char *const *mem)
{
	for (; mem && *mem; mem++)
		if (strcmp(*mem, user) == 0)
			return true;
	return false;
}

static bool in_gids(gid_t g, const gid_t *gids, int n)
{
	for (int i = 0; i < n; i++)
		if (gids[i] == g)
			return true;
	return false;
}

int ns_user_groups_among(const char *user, gid_t gid, const char *const *names, size_t n,
			 char ***ret_names, size_t *ret_n, const char **ret_failed)
{
	_cleanup_free_ gid_t *gids = NULL;
	_cleanup_free_ char *buf = NULL;
	int ng = 0;
	int r = group_ids(user, gid, &gids, &ng);
	if (r < 0)
		return r;
	char *found[n ? n : 1];
	size_t bytes = 0, k = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct group gr, *g = NULL;
		if ((r = group_lookup(names[i], 0, &gr, &buf, &g)) < 0) {
			*ret_failed = names[i];
			break;
		}
		if (!g || !(g->gr_gid == gid || in_gids(g->gr_gid, gids, ng) || in_members(user, g->gr_mem)))
			continue;
		if (!(found[k] = strdup(names[i])))
			r = -ENOMEM;
		else
			bytes += strlen(found[k++]) + 1;
	}
	if (r < 0) {
		for (size_t j = 0; j < k; j++)
			free(found[j]);
		return r;
	}
	char **out = pack_names(found, k, bytes);
	if (!out)
		return -ENOMEM;
	*ret_names = out;
	*ret_n = k;
	return 0;
}

int ns_group_lists_user(gid_t gid, const char *user)
{
	_cleanup_free_ char *buf = NULL;
	struct group gr, *g = NULL;
	int r = group_lookup(NULL, gid, &gr, &buf, &g);
	return r < 0 ? r : g && in_members(user, g->gr_mem);
}
