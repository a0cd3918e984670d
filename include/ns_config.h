/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_config.h — /etc/security/ns.conf: parse, validate, resolve.
 *
 * lib/ns_config.c loads and validates (lib/ns_confuse.c: libconfuse and its
 * workarounds); lib/ns_policy.c resolves, decides exemption and prints.
 *
 * A loaded config is immutable. Resolution for one user gives a struct
 * ns_policy, key by key from the user's block, else the first group block
 * (file order) matching one of the user's groups, else `default`, else the
 * built-in value; each key remembers where it came from. */
#ifndef NS_CONFIG_H
#define NS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ns_cidr.h"
#include "ns_groups.h"
#include "ns_util.h"

#define NS_MAX_LIST 16          /* dns, deny, exempt lists */
#define NS_MAX_ERRS 32

enum ns_network { NS_NET_BRIDGE, NS_NET_ISOLATED, NS_NET_HOST, NS_NET_ROUTED };
enum ns_netns_mode { NS_NETNS_USER, NS_NETNS_SESSION };
enum ns_addr_mode { NS_ADDR_POOL, NS_ADDR_DHCP, NS_ADDR_STATIC };

/* Per-user keys (those allowed in default/group/user blocks). */
enum ns_key {
	NS_KEY_NAMESPACES, NS_KEY_NETWORK, NS_KEY_NETNS, NS_KEY_ADDRESS,
	NS_KEY_HOSTNAME, NS_KEY_SHELL, NS_KEY_PRIVATE_TMP, NS_KEY_PRIVATE_SHM,
	NS_KEY_RATE, NS_KEY_BURST, NS_KEY_DNS, NS_KEY_DENY, NS_KEY_MAX_SESSIONS, NS_KEY_LINGER,
	NS_KEY__MAX
};

enum ns_source { NS_SRC_BUILTIN, NS_SRC_DEFAULT, NS_SRC_GROUP, NS_SRC_USER };

struct ns_policy {
	unsigned clone_flags;           /* CLONE_NEW* of `namespaces` */
	enum ns_network network;
	enum ns_netns_mode netns;
	enum ns_addr_mode address;
	struct ns_cidr static_addr;     /* address = A.B.C.D/N */
	char hostname[128];             /* the template, unexpanded */
	char shell[256];
	bool private_tmp, private_shm;
	uint64_t rate_bps;              /* bits per second, 0: no shaping */
	uint64_t burst_bytes;           /* 0: derived from the rate */
	size_t n_dns;
	struct ns_cidr dns[NS_MAX_LIST];
	size_t n_deny;
	struct ns_cidr deny[NS_MAX_LIST];
	unsigned max_sessions;          /* open sessions of one user, at most */
	bool linger;                    /* processes outlive the login (logind's KillUserProcesses=no) */
	enum ns_source src[NS_KEY__MAX];
	char src_name[NS_KEY__MAX][64];  /* group or user name of the block */
};

struct ns_globals {
	char bridge[16];
	bool create_bridge;
	struct ns_cidr bridge_address;  /* family 0: none */
	struct ns_cidr pool;
	struct ns_cidr gateway;         /* family 0: no default route */
	bool isolate_ports;
	unsigned mtu;
	unsigned exempt_uid_below;      /* uids below it are never namespaced (root: always) */
	size_t n_exempt_users, n_exempt_groups;
	char exempt_users[NS_MAX_LIST][64];
	char exempt_groups[NS_MAX_LIST][64];
	struct ns_cidr pool6, gateway6;
	char dhcp_client[256];
	char dhcp_script[256];
	unsigned dhcp_timeout;
	char state_dir[128];
	char lease_file[128];
};

/* Every problem found in a file, one line each: "FILE:LINE: key: what". */
struct ns_errlist {
	size_t n;
	size_t dropped;
	char line[NS_MAX_ERRS][256];
};

struct ns_config;

/* Open PATH (no symlinks, regular file, owned by root, not group/other
 * writable, at most 1 MiB: checked on the opened descriptor), parse it with
 * the environment set aside, validate every value. On failure *errs holds
 * all problems found and -EINVAL (bad content), -EPERM (ownership/mode) or
 * another -errno is returned. */
int ns_config_load(const char *path, struct ns_config **ret, struct ns_errlist *errs);
/* The same checks on an already open descriptor (PATH only names it). */
int ns_config_load_fd(int fd, const char *path, struct ns_config **ret, struct ns_errlist *errs);
/* Parse text (unit tests; no ownership checks). */
int ns_config_load_string(const char *text, const char *name, struct ns_config **ret,
			  struct ns_errlist *errs);
void ns_config_free(struct ns_config *c);
static inline void ns_config_freep(struct ns_config **c) { if (*c) ns_config_free(*c); }
#define _cleanup_config_ _cleanup_(ns_config_freep)

const struct ns_globals *ns_config_globals(const struct ns_config *c);
const char *ns_config_path(const struct ns_config *c);

/* Is USER (UID, with the given group names) exempt? uid 0 always is;
 * callers decide root before loading a config at all. */
bool ns_config_exempt(const struct ns_config *c, const char *user, uid_t uid,
		      const char *const *groups, size_t n_groups);

/* Does resolving need the user's groups (group blocks or exempt_groups)?
 * When not, callers may skip the NSS group lookup. */
bool ns_config_uses_groups(const struct ns_config *c);

/* Resolve the policy for USER with the given group names. */
void ns_policy_resolve(const struct ns_config *c, const char *user,
		       const char *const *groups, size_t n_groups, struct ns_policy *ret);

/* Names for printing and for the parser: one table per enum. */
const char *ns_key_name(enum ns_key k);
const char *ns_network_name(enum ns_network n);
const char *ns_netns_mode_name(enum ns_netns_mode m);
const char *ns_source_name(enum ns_source s);
/* "pool", "dhcp"; "static" for an address given in the file. */
const char *ns_addr_mode_name(enum ns_addr_mode m);

/* Print the resolved policy, one `key = value  # source` line per key. */
void ns_policy_print(FILE *f, const struct ns_policy *p);

/* CIDR maths (ns_cidr_parse, ...) are in ns_cidr.h, the NSS group lookup
 * (ns_user_groups) in ns_groups.h: both included above. ns_policy.h has
 * the one call the programs make: load, look groups up, resolve. */

#endif
