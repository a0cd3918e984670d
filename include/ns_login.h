/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_login.h — the network side of a login: what pam_ns does at open and
 * close session, as one call each. */
#ifndef NS_LOGIN_H
#define NS_LOGIN_H

#include <sys/types.h>

#include "ns_config.h"
#include "ns_names.h"
#include "ns_session.h"
#include "ns_util.h"

struct ns_login_who {
	const char *user;
	uid_t uid;
	gid_t gid;
	const char *const *groups;
	size_t n_groups;
	const char *shell;           /* the passwd shell */
	const char *required_shell;  /* pam_ns shell=PATH: refuse others; NULL: any */
};

struct ns_login {
	char sid[NS_SID_LEN + 1];
	char netns[64];
	int orig_netns_fd;          /* the caller's own namespace, for close */
	char state_dir[128];
	char lease_file[128];
	bool tagged_lease;          /* drop the session-tagged lease at close */
	uid_t uid;
};

enum { NS_LOGIN_OPENED = 0, NS_LOGIN_IGNORED = 1 };

/* Open: as root, in the caller's own network namespace. Returns
 * NS_LOGIN_OPENED with the caller moved into the user's namespace,
 * NS_LOGIN_IGNORED (exempt user, or network = host; *why says which), or
 * -errno with everything this call made undone and the caller where it was. */
/* BEFORE_ENTER, when not NULL, runs once everything is made, right before
 * the caller moves into the namespace: the place to log (a syslog socket
 * opened after the move would belong to, and pin, the user's namespace). */
int ns_login_open(const struct ns_config *c, const struct ns_login_who *w,
		  void (*before_enter)(const struct ns_login *s, void *data), void *data,
		  struct ns_login *ret, const char **why, struct ns_err *err);

/* Close: remove the record and move the caller back to its own network
 * namespace. The namespace and veth go with their last process. */
int ns_login_close(struct ns_login *s, struct ns_err *err);

/* The record R is gone (a closed or stale session, a dead reaper): if no
 * live record names its namespace any more, stop what keeps the namespace
 * alive on our behalf (the DHCP client, which releases its lease), so the
 * kernel can free it. True when there was a client to stop (with DRY:
 * nothing is stopped). pam_ns at close and at the next login, nsctl gc. */
bool ns_login_release_netns(const char *state_dir, const struct ns_session_rec *r, bool dry);

/* The PAM session record R is stale (its owner died before close_session
 * ran: su or sshd killed, a crash): do what close would have done for its
 * per-session namespace, unless a live reaper (a lingering login) still
 * uses it: the host side of its veth goes down, then its tagged address
 * goes back to the pool (also when the namespace is gone already). True
 * when its link was cut (with DRY: would be).
 * pam_ns at the user's next login, nsctl gc. */
bool ns_login_cut_stale(const struct ns_globals *g, const struct ns_session_rec *r, bool dry);

/* Discard without moving back (e.g. in a forked child): closes the fd. */
void ns_login_forget(struct ns_login *s);

/* Read /etc/machine-id as 16 bytes (zeros when missing). */
void ns_machine_id(uint8_t ret[16]);

#endif
