/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_groups.h — a user's group names from NSS (group blocks and
 * exempt_groups of ns.conf match them). */
#ifndef NS_GROUPS_H
#define NS_GROUPS_H

#include <stddef.h>
#include <sys/types.h>

/* Which of NAMES (the groups ns.conf names: group blocks, exempt_groups)
 * is USER (primary group GID) a member of? Each name is looked up with
 * getgrnam_r(), once: a member when the group is the primary one, is in
 * getgrouplist()'s answer, or lists the user. A lookup that fails (not
 * "no such group": a directory that is down) fails the whole call with
 * -errno and *RET_FAILED set to that name, so that a policy is never
 * chosen from half an answer. The result (matching names, in NAMES'
 * order) is one allocation (array plus strings, NULL-terminated), freed
 * with free(). NSS requests: getgrouplist's plus one per name, never one
 * per group of the user. */
int ns_user_groups_among(const char *user, gid_t gid, const char *const *names, size_t n,
			 char ***ret_names, size_t *ret_n, const char **ret_failed);

/* Does the NSS entry of group GID list USER as a member? 1 or 0 (no
 * such group: 0), -errno when the lookup failed. One request, by gid
 * (answered by "files" for a system group such as 0, as nsswitch.conf
 * lists it first on every distribution). */
int ns_group_lists_user(gid_t gid, const char *user);

#endif
