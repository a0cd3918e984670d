/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_leasework.h — taking and giving back a login's address under the
 * global "leases" lock, in a worker the user cannot stop. */
#ifndef NS_LEASEWORK_H
#define NS_LEASEWORK_H

#include <stdbool.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_lease.h"
#include "ns_util.h"

/* Which address one login asks for. */
struct ns_lease_req {
	const struct ns_globals *globals;    /* pool, lease_file, state_dir */
	uid_t uid;
	const char *user;
	const char *sid;                     /* per-session namespace: this session; else NULL */
	const struct ns_cidr *static_addr;   /* address = A.B.C.D/N, else NULL */
};

/* What the login got, and what its rollback must undo. */
struct ns_lease_got {
	struct in_addr addr;
	bool fresh;          /* a lease this login made (a failed login drops it) */
	bool tagged;         /* tagged with the session id (dropped at close) */
	bool has_victim;     /* another user's sticky lease taken over */
	struct ns_lease victim;
};

/* Take the address of REQ (ns_lease_pick), writing the file only when it
 * changed. Runs inline when the caller's ids are all root, otherwise in a
 * child reset by ns_detach_reset (root's ids, limits, scheduling, PID 1's
 * cgroups) that the caller waits for. */
int ns_lease_take(const struct ns_lease_req *req, struct ns_lease_got *ret, struct ns_err *err);

/* Drop the lease of UID tagged SID (NULL: the sticky one), and give
 * RESTORE (when not NULL) back to its user unless its address or its user
 * has another lease by now. Best effort: failures are ignored. */
void ns_lease_give_back(const char *state_dir, const char *lease_file, uid_t uid, const char *sid,
			const struct ns_lease *restore);

/* Every lease of the store (the old lease file imported first), under the
 * lock: for nsctl. Bad files' addresses are in RET's held (n_kept). */
int ns_leases_list(const struct ns_globals *g, struct ns_leases *ret, struct ns_err *err);

/* nsctl gc: free the tagged leases whose session is gone (FREED is told
 * each), and point the index at every lease it does not name (*RET_FIXED).
 * DRY: report only, change nothing; returns NS_LEASES_GC_PENDING (and
 * looks at nothing) when opening the store would change it (no store yet,
 * or an old lease file waiting to be imported). */
#define NS_LEASES_GC_PENDING 1
int ns_leases_gc(const struct ns_globals *g, bool dry, void (*freed)(const struct ns_lease *e, void *data),
		 void *data, size_t *ret_fixed, struct ns_err *err);

#endif
