/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_steps.h — the privileged steps of a login, each small and named.
 *
 * Preconditions are stated per function. All return 0 or -errno and fill
 * struct ns_err with the step and the object (path, id) that failed. */
#ifndef NS_STEPS_H
#define NS_STEPS_H

#include <sys/types.h>

#include "ns_util.h"

struct ns_ident {
	uid_t uid;
	gid_t gid;
	const char *name;
	const gid_t *groups;   /* the supplementary groups to keep (N_GROUPS of them) */
	size_t n_groups;
};

/* Bring up lo of the current network namespace (SIOCSIFFLAGS).
 * Pre: root, in a network namespace of our own. */
int ns_lo_up(struct ns_err *err);

/* Make every mount below / private (recursively), so nothing mounted for
 * the login propagates to the host, even when / is shared.
 * Pre: in a new mount namespace, as root. */
int ns_mount_make_private(struct ns_err *err);

/* Fresh /proc (nosuid,nodev,noexec) for the current PID namespace.
 * Pre: PID 1 (or a descendant) of a new PID namespace, private mount ns. */
int ns_mount_proc(struct ns_err *err);

/* Fresh read-only sysfs on /sys showing the current network namespace. */
int ns_mount_sys(struct ns_err *err);

/* Fresh mqueue fs on /dev/mqueue for the current IPC namespace. */
int ns_mount_mqueue(struct ns_err *err);

/* tmpfs on PATH (mode 1777, nosuid,nodev). */
int ns_mount_tmpfs(const char *path, struct ns_err *err);
/* The user's private /tmp, shared by all her logins (private_tmp): clone
 * the /tmp of another live login's mount namespace MNTNS_FD onto /tmp of
 * ours. Pre: root, our mount tree private. Accepted only when that /tmp is
 * a tmpfs mount root (mode 1777, root) on another device than the host's
 * /tmp (HOST_TMP_DEV): -ENOENT otherwise, and the caller mounts a fresh
 * one. Never leaves us in the other namespace (a failure to return is an
 * error). */
int ns_mount_tmp_join(int mntns_fd, dev_t host_tmp_dev, struct ns_err *err);

/* Bind each regular file of /etc/netns/NAME/ over /etc/<file>, as
 * `ip netns exec` does. Missing directory: nothing to do. NAME must have
 * been checked (no '/'). */
int ns_mount_netns_etc(const char *name, struct ns_err *err);

/* Bind the file behind SRC_FD (an O_PATH fd) over DST, when DST exists. */
int ns_mount_bind_fd(int src_fd, const char *dst, struct ns_err *err);

/* sethostname. Pre: in a new UTS namespace. */
int ns_set_hostname(const char *name, struct ns_err *err);

/* Install the seccomp filter that refuses ioctl TIOCSTI and TIOCLINUX
 * (compared on the low 32 bits, as the kernel does) and every x32 or
 * foreign-ABI syscall. Pre: root (CAP_SYS_ADMIN) so no_new_privs is not
 * needed: file capabilities (ping) keep working inside. */
int ns_seccomp_no_tiocsti(struct ns_err *err);

/* Drop to ID for good: supplementary groups (ID's list), gid, uid, each
 * real/effective/saved; then verify that no id is 0 or another than ID,
 * that no capability is left and that setuid(0) fails.
 * Pre: root. Refuses uid 0 or gid 0. */
int ns_priv_drop(const struct ns_ident *id, struct ns_err *err);

/* Close every descriptor >= 3. */
void ns_close_fds_from(int first);

/* Inode and device of /proc/self/ns/net (or of PID's). */
int ns_netns_id(pid_t pid, dev_t *ret_dev, ino_t *ret_ino);

#endif
