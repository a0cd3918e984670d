/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_leasestore.h — the lease store on disk: $(lease_file).d/, one file per
 * leased address and a per-uid index, so that a login reads O(1) files in
 * the number of users (docs/DESIGN.md, "Leases"). */
#ifndef NS_LEASESTORE_H
#define NS_LEASESTORE_H

#include <stdbool.h>
#include <sys/types.h>

#include "ns_lease.h"
#include "ns_util.h"

struct ns_lease_store {
	int dir;             /* $(lease_file).d */
	int index;           /* $(lease_file).d/by-uid */
	char path[160];      /* $(lease_file).d, for messages */
};

/* Open (making it when missing) the store of LEASE_FILE, trusted only when
 * root-owned and closed to group and others, and import LEASE_FILE itself
 * when it exists (then renamed LEASE_FILE.migrated). The caller holds the
 * "leases" lock. */
int ns_lease_store_open(const char *lease_file, struct ns_lease_store *s, struct ns_err *err);
void ns_lease_store_close(struct ns_lease_store *s);

/* Add to L the lease the index names for UID tagged SID (NULL: the sticky
 * one) when its address file holds exactly that uid and tag; nothing when
 * there is none or the index is stale. */
int ns_lease_store_load_uid(const struct ns_lease_store *s, uid_t uid, const char *sid, struct ns_leases *l,
			    struct ns_err *err);
/* Add to L the lease in the file of address A (a bad file: A held). */
int ns_lease_store_load_addr(const struct ns_lease_store *s, struct in_addr a, struct ns_leases *l,
			     struct ns_err *err);
/* Hold every address with a file that none of L's leases has (names only,
 * no file opened; an address already held may be held twice, which the
 * picker does not mind); L's view becomes NS_LEASES_NAMES. */
int ns_lease_store_load_names(const struct ns_lease_store *s, struct ns_leases *l, struct ns_err *err);
/* Read every address file into the empty L (bad ones held, counted in
 * n_kept; of two leases of one uid and tag the one the index names is
 * kept, the other held as bad); L's view becomes NS_LEASES_ALL. */
int ns_lease_store_load_all(const struct ns_lease_store *s, struct ns_leases *l, struct ns_err *err);

/* Make the store hold AFTER where it held BEFORE (N0 leases: what was
 * loaded): removed leases' files first, then the index, then new or changed
 * address files, each replaced atomically. */
int ns_lease_store_apply(const struct ns_lease_store *s, const struct ns_lease *before, size_t n0,
			 const struct ns_leases *after, struct ns_err *err);

/* Point the index at every lease of L (an ALL view) whose entry does not
 * name it (lost in a power cut, removed by hand); *RET_FIXED counts them. */
int ns_lease_store_fix_index(const struct ns_lease_store *s, const struct ns_leases *l, size_t *ret_fixed,
			     struct ns_err *err);

#endif
