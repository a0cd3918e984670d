/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_dhcp.h — address = "dhcp": a DHCP client run inside the user's
 * namespace, kept running for renewals while the namespace lives. */
#ifndef NS_DHCP_H
#define NS_DHCP_H

#include <stdbool.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_util.h"

/* Run the configured client (udhcpc) on eth0 inside NETNS_FD, as a clean
 * root process (ns_detach_reset) registered in its pid file
 * state_dir/netns/<netns>/dhcp.<netns inode>.pid before it runs, and wait
 * at most dhcp_timeout (+ 2) seconds for a lease. On success the client
 * has gone to the background (the pid file names it); on failure nothing
 * of the attempt is left. Clients of older instances of NETNS (orphans:
 * the caller holds the user's lock and found no live namespace of that
 * name) are stopped first. */
int ns_dhcp_start(const struct ns_globals *g, const char *netns, int netns_fd, struct ns_err *err);

/* Is there a pid file of a client for NETNS, the instance INO? (cheap: one lstat) */
bool ns_dhcp_running(const char *state_dir, const char *netns, ino_t ino);

/* Stop the client of NETNS if it still runs inside the namespace (DEV,
 * INO): it releases its lease on the way out. */
void ns_dhcp_stop(const char *state_dir, const char *netns, dev_t dev, ino_t ino);

#endif
