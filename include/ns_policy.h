/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_policy.h — what one user gets from ns.conf, in one call: the config
 * loaded and checked, the user's groups looked up (only when the config
 * has group blocks or exempt_groups), exemption and the resolved policy.
 * pam_ns, ns-shell and nsctl all decide through it; none of it prints. */
#ifndef NS_POLICY_H
#define NS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_util.h"

struct ns_user_policy {
	bool exempt;                /* never namespaced (ns_config_exempt) */
	struct ns_policy policy;    /* resolved key by key */
	char **groups;              /* the user's group names; NULL when the config uses none */
	size_t n_groups;
};

/* Free what U owns (its groups); U may be zeroed or filled. */
void ns_user_policy_done(struct ns_user_policy *u);
#define _cleanup_user_policy_ _cleanup_(ns_user_policy_done)

/* For USER (UID, primary GID) under the loaded config C: groups when C uses
 * them, exemption, policy. 0 with *ret filled, or -errno with *err saying
 * what failed ("cannot read the groups of USER") and *ret untouched. */
int ns_policy_lookup(const struct ns_config *c, const char *user, uid_t uid, gid_t gid,
		     struct ns_user_policy *ret, struct ns_err *err);

/* ns_config_load(CONF_PATH) then ns_policy_lookup(). 0 with *ret_cfg (the
 * caller frees it; *ret's policy is what it resolves to) and *ret set.
 * Else -errno, outputs untouched, and ERRS (required) says which step
 * failed: the config when errs->n > 0 (every problem found, as
 * ns_config_load gives them, its -errno returned), the lookup when
 * errs->n == 0 (then *err says what). */
int ns_policy_for(const char *conf_path, const char *user, uid_t uid, gid_t gid,
		  struct ns_config **ret_cfg, struct ns_user_policy *ret, struct ns_errlist *errs,
		  struct ns_err *err);

#endif
