/* ns_lease.h — sticky per-user address leases in $(lease_file). */
#ifndef NS_LEASE_H
#define NS_LEASE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_util.h"

struct ns_lease {
	uid_t uid;
	char user[33];
	struct in_addr addr;
	long long last_used;
};

struct ns_leases {
	size_t n, cap;
	struct ns_lease *v;
};

void ns_leases_free(struct ns_leases *l);

/* Parse the text of a lease file ("uid user address last_used" lines).
 * A bad line is reported as NAME:LINE and the whole file refused. */
int ns_leases_parse(const char *text, const char *name, struct ns_leases *ret, struct ns_err *err);
/* Read PATH (missing: empty). Refused unless a root-owned regular file. */
int ns_leases_read(const char *path, struct ns_leases *ret, struct ns_err *err);
/* Write PATH atomically: temp file in the same directory, then rename. */
int ns_leases_write(const char *path, const struct ns_leases *l, struct ns_err *err);

/* Is this uid logged in now? (for taking over least recently used leases) */
typedef bool (*ns_lease_busy_fn)(uid_t uid, void *data);

/* Pick the address of UID/USER in L (changing L): its own lease if it has
 * one; else STATIC (family 0: none); else the first free address of the
 * pool (network, broadcast, gateway and bridge address excluded); else
 * the least recently used lease of a user that BUSY says is not logged in.
 * *ret_new tells whether L gained an entry for this user (for rollback). */
int ns_lease_pick(struct ns_leases *l, const struct ns_globals *g, uid_t uid, const char *user,
		  const struct ns_cidr *static_addr, ns_lease_busy_fn busy, void *data,
		  long long now, struct in_addr *ret, struct ns_err *err);

/* Drop the lease of UID (rollback of a new lease). */
void ns_lease_drop(struct ns_leases *l, uid_t uid);

#endif
