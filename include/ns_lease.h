/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_lease.h — sticky per-user address leases: the list and the picker
 * (the store on disk: ns_leasestore.h). */
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

/* How much of the store a list holds (ns_leasestore.h). ns_lease_pick
 * answers -EAGAIN when it needs more than the list holds. */
enum ns_lease_view {
	NS_LEASES_ALL = 0,    /* every lease (a whole old file, or every address file) */
	NS_LEASES_NAMES,      /* some leases; every other address in use is in held */
	NS_LEASES_OWN,        /* some leases; nothing known of the others */
};

struct ns_leases {
	enum ns_lease_view view;
	size_t n, cap;
	struct ns_lease *v;
	/* Lines ns_leases_read could not use: kept verbatim (written back as
	 * they are, for root to mend), and the IPv4 address in their third
	 * field, if any, is never handed out. */
	char *kept;
	size_t kept_len;
	size_t n_kept;
	struct in_addr *held;
	size_t n_held, cap_held;
};

void ns_leases_free(struct ns_leases *l);

/* Parse the text of a lease file ("uid user address last_used" lines).
 * A bad line is reported as NAME:LINE and the whole file refused. */
int ns_leases_parse(const char *text, const char *name, struct ns_leases *ret, struct ns_err *err);
/* Read PATH (missing: empty). Refused unless a root-owned regular file.
 * A bad line never stops the other users' logins: it is kept (see above). */
int ns_leases_read(const char *path, struct ns_leases *ret, struct ns_err *err);
/* One lease as its line, "uid user address last_used[ sid]\n" (what
 * ns_leases_parse reads back). -ENAMETOOLONG when SIZE is too small. */
int ns_lease_format(const struct ns_lease *e, char *buf, size_t size);
/* Parse one line (no newline) strictly; -EINVAL when it is not one. */
int ns_lease_parse_line(const char *raw, size_t len, struct ns_lease *ret);
/* Add E to L (-ENOMEM). */
int ns_leases_push(struct ns_leases *l, const struct ns_lease *e);
/* Hold address A (a bad entry's): never handed out (-ENOMEM). */
int ns_leases_hold(struct ns_leases *l, struct in_addr a);
/* Is A an address the pool may hand out (inside it; not its network,
 * broadcast, gateway or bridge address, nor the one that makes gateway6)? */
bool ns_lease_addr_usable(const struct ns_globals *g, struct in_addr a);
/* The directory of PATH, opened without following a symlink and trusted
 * only when root-owned and closed to group and others; CREATE: made (root,
 * 0755) when missing. *RET_BASE points at PATH's last component. -ENOENT
 * (no message) when missing and not CREATE. */
int ns_lease_dir_open(const char *path, bool create, const char **ret_base, struct ns_err *err);

/* What the picker asks about live sessions. */
struct ns_lease_ops {
	bool (*uid_busy)(uid_t uid, void *data);          /* any live session of uid */
	bool (*sid_alive)(uid_t uid, const char *sid, void *data); /* that session of uid is open
								  * (or still being opened) */
	bool (*own_addr_busy)(struct in_addr a, void *data); /* a live session of this user has it */
	/* the namespace holding that lease of UID (SID "": the sticky one) is
	 * still there; asked only for a uid now under another user name */
	bool (*in_use)(uid_t uid, const char *sid, void *data);
	void *data;
};

/* Pick the address of UID/USER in L (changing L). -EAGAIN (no message):
 * L's view holds too little to decide (a free address needs
 * NS_LEASES_NAMES, a takeover NS_LEASES_ALL); load more and ask again.
 * SID is NULL for a
 * per-user namespace. Order: STATIC (family 0: none); the user's sticky
 * lease (for a per-session namespace: if no open session of the user holds
 * it already); a free address of the pool (network, broadcast, gateway and
 * bridge address excluded) — sticky, or tagged with SID when the sticky one
 * is in use; the least recently used sticky lease of a user not logged in.
 * *ret_sid_tagged tells whether the address is tagged with SID. -EBUSY: UID
 * still has a namespace under another user name (ops->in_use). */
int ns_lease_pick(struct ns_leases *l, const struct ns_globals *g, uid_t uid, const char *user,
		  const char *sid, const struct ns_cidr *static_addr, const struct ns_lease_ops *ops,
		  long long now, struct in_addr *ret, bool *ret_sid_tagged, struct ns_err *err);

/* Drop the lease of UID with tag SID ("" or NULL: the sticky one). */
void ns_lease_drop(struct ns_leases *l, uid_t uid, const char *sid);

#endif
