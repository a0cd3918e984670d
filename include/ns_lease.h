/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_lease.h — sticky per-user address leases in $(lease_file). */
#ifndef NS_LEASE_H
#define NS_LEASE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_util.h"

/* A returning user's last_used is refreshed only when older than this. */
#define NS_LEASE_TOUCH_SECS 3600

struct ns_lease {
	uid_t uid;
	char user[33];
	struct in_addr addr;
	long long last_used;
	char sid[9];          /* "" for the user's sticky lease; a session id for
			       * the extra address of a concurrent per-session
			       * namespace (5th field; freed when the session ends) */
};

struct ns_leases {
	size_t n, cap;
	struct ns_lease *v;
	/* Lines ns_leases_read could not use: kept verbatim (written back as
	 * they are, for root to mend), and the IPv4 address in their third
	 * field, if any, is never handed out. */
	char *kept;
	size_t kept_len;
	size_t n_kept;
	struct in_addr *held;
	size_t n_held;
};

void ns_leases_free(struct ns_leases *l);

/* Parse the text of a lease file ("uid user address last_used" lines).
 * A bad line is reported as NAME:LINE and the whole file refused. */
int ns_leases_parse(const char *text, const char *name, struct ns_leases *ret, struct ns_err *err);
/* Read PATH (missing: empty). Refused unless a root-owned regular file.
 * A bad line never stops the other users' logins: it is kept (see above). */
int ns_leases_read(const char *path, struct ns_leases *ret, struct ns_err *err);
/* Write PATH atomically: temp file in the same directory, then rename. */
int ns_leases_write(const char *path, const struct ns_leases *l, struct ns_err *err);

/* What the picker asks about live sessions. */
struct ns_lease_ops {
	bool (*uid_busy)(uid_t uid, void *data);          /* any live session of uid */
	bool (*sid_alive)(uid_t uid, const char *sid, void *data); /* that session of uid is open
								  * (or still being opened) */
	bool (*own_addr_busy)(struct in_addr a, void *data); /* a live session of this user has it */
	void *data;
};

/* Pick the address of UID/USER in L (changing L). SID is NULL for a
 * per-user namespace. Order: STATIC (family 0: none); the user's sticky
 * lease (for a per-session namespace: if no open session of the user holds
 * it already); a free address of the pool (network, broadcast, gateway and
 * bridge address excluded) — sticky, or tagged with SID when the sticky one
 * is in use; the least recently used sticky lease of a user not logged in.
 * *ret_sid_tagged tells whether the address is tagged with SID. */
int ns_lease_pick(struct ns_leases *l, const struct ns_globals *g, uid_t uid, const char *user,
		  const char *sid, const struct ns_cidr *static_addr, const struct ns_lease_ops *ops,
		  long long now, struct in_addr *ret, bool *ret_sid_tagged, struct ns_err *err);

/* Drop the lease of UID with tag SID ("" or NULL: the sticky one). */
void ns_lease_drop(struct ns_leases *l, uid_t uid, const char *sid);

#endif
