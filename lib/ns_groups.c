/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_groups.c — NSS group lookup: the names of a user's groups. */
#include <grp.h>
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

int ns_user_groups(const char *user, gid_t gid, char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ gid_t *gids = NULL;
	int ng = 0;
	int r = group_ids(user, gid, &gids, &ng);
	if (r < 0)
		return r;
	char *names[ng];
	size_t bytes = 0, n = 0;
	for (int i = 0; i < ng; i++) {
		struct group *gr = getgrgid(gids[i]);
		if (!gr || !gr->gr_name)
			continue;
		names[n] = strdup(gr->gr_name);
		if (!names[n]) {
			for (size_t j = 0; j < n; j++)
				free(names[j]);
			return -ENOMEM;
		}
		bytes += strlen(names[n]) + 1;
		n++;
	}
	char **out = pack_names(names, n, bytes);
	if (!out)
		return -ENOMEM;
	*ret_names = out;
	*ret_n = n;
	return 0;
}
