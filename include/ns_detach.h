/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_detach.h — turn a child of a login (forked from su, sshd, login,
 * whose real ids, limits, scheduling and cgroup the user may have chosen)
 * into a clean root process that the user can neither signal, stop,
 * freeze, starve nor limit: the DHCP client of a namespace, the lease
 * worker. */
#ifndef NS_DETACH_H
#define NS_DETACH_H

#include "ns_util.h"

/* Pre: effective uid 0 (a setuid su's child), in a child of the login
 * that is about to exec or do privileged work on its own. In order:
 *  - ids: no supplementary groups, real/effective/saved gid and uid 0
 *    (first: from here on the user cannot signal it);
 *  - every rlimit to a fixed default: CPU, FSIZE, DATA, RSS, AS, LOCKS,
 *    RTTIME, NPROC, SIGPENDING infinite, STACK 8 MiB (hard infinite),
 *    CORE 0 (hard infinite), NOFILE 1024:4096, MEMLOCK 8 MiB, MSGQUEUE
 *    800 KiB, NICE and RTPRIO 0 (without CAP_SYS_RESOURCE, as in some
 *    containers, a hard limit cannot be raised: the soft one goes up to it);
 *  - signals: every disposition SIG_DFL, pending ones discarded, the mask
 *    empty;
 *  - its own session (setsid; and so its own scheduler autogroup);
 *  - the cgroups of PID 1 (ns_detach_join_cgroups on /proc/1/cgroup);
 *  - SCHED_OTHER (reset-on-fork off), nice 0, I/O priority none, CPU
 *    affinity all CPUs, oom_score_adj 0, umask 022.
 * Returns 0 or the first failure; a half-reset process must not go on. */
int ns_detach_reset(struct ns_err *err);

/* Join, for each line "ID:CONTROLLERS:PATH" of PROC_CGROUP (the format of
 * /proc/PID/cgroup), that cgroup under the mount root ROOT (normally
 * /sys/fs/cgroup), by writing "0" to its cgroup.procs:
 *   v2 ("0::PATH")          ROOT/PATH, else ROOT/unified/PATH (hybrid);
 *   v1 "name=N"             ROOT/N/PATH;
 *   v1 controllers "a,b"    ROOT/a,b/PATH, else ROOT/a/PATH.
 * A hierarchy that is not mounted there (ENOENT, ENODEV) or read-only
 * (EROFS) is skipped. Returns the number of cgroups joined or the first
 * other failure. */
int ns_detach_join_cgroups(const char *proc_cgroup, const char *root, struct ns_err *err);

#endif
