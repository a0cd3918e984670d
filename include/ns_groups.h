/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_groups.h — a user's group names from NSS (group blocks and
 * exempt_groups of ns.conf match them). */
#ifndef NS_GROUPS_H
#define NS_GROUPS_H

#include <stddef.h>
#include <sys/types.h>

/* Look up a user's group names (primary first) with NSS. *ret_names is one
 * allocation (array plus strings, NULL-terminated), freed with free().
 * Groups without a name are left out. -ENOMEM, or -E2BIG past 65536. */
int ns_user_groups(const char *user, gid_t gid, char ***ret_names, size_t *ret_n);

#endif
