/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_names.h — the namespace table, names of things we create, templates. */
#ifndef NS_NAMES_H
#define NS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ns_kind {
	const char *name;     /* config name: "pid", "mount", ... */
	int clone_flag;       /* CLONE_NEWPID, ... */
	const char *proc;     /* entry under /proc/self/ns/ */
};

/* The one table of namespace kinds; NULL name terminates. */
extern const struct ns_kind ns_kinds[];
const struct ns_kind *ns_kind_by_name(const char *name);

/* A user name we accept for namespace/record names: 1..32 bytes of
 * [A-Za-z0-9._-], not starting with '-' or '.' (NS_USER_NAME_RULE, for
 * messages). Exempt users' names are not checked. */
#define NS_USER_NAME_RULE "1 to 32 of A-Z a-z 0-9 . _ -, not starting with - or ."
bool ns_user_name_valid(const char *name);

/* Session id: 8 lowercase hex digits. */
#define NS_SID_LEN 8
bool ns_sid_valid(const char *sid);
int ns_sid_random(char ret[NS_SID_LEN + 1]);

/* Logical netns name: "ns-<user>" or "ns-<user>-<sid>". */
int ns_netns_name(const char *user, const char *sid_or_null, char *buf, size_t size);

/* Host-side veth: "nsu<uid>" or "nss<sid>"; always at most 15 bytes. */
int ns_veth_name(uid_t uid, const char *sid_or_null, char buf[16]);

/* The alias of a host-side veth of ours: "ns-shell user=NAME uid=UID"
 * (nsctl gc, a lease pick and a user's stale login recognise ours by it).
 * ns_veth_alias is -ENAMETOOLONG when it does not fit SIZE. */
#define NS_VETH_ALIAS_MAX 96
int ns_veth_alias(const char *user, uid_t uid, char *buf, size_t size);
bool ns_veth_alias_ours(const char *alias);
/* The uid an alias of ours names; -EINVAL when it names none. */
int ns_veth_alias_uid(const char *alias, uid_t *ret_uid);

/* Interface name check: 1..15 bytes, no '/', ':', whitespace; not "." "..". */
bool ns_ifname_valid(const char *name);

/* Expand a hostname template (%u user, %h host short name, %s session id,
 * %% a percent sign). Characters not allowed in a hostname become '-'; the
 * result is cut to 63 bytes. -EINVAL on an unknown %-sequence. */
int ns_hostname_expand(const char *tmpl, const char *user, const char *host,
		       const char *sid, char *buf, size_t size);
/* Validate a template without expanding it. */
bool ns_hostname_template_valid(const char *tmpl);

#endif
