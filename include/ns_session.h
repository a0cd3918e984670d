/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_session.h — the session registry under $(state_dir)/sessions/ and the
 * per-user locks under $(state_dir)/lock/. */
#ifndef NS_SESSION_H
#define NS_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

#include "ns_config.h"
#include "ns_names.h"
#include "ns_util.h"

struct ns_session_rec {
	char sid[NS_SID_LEN + 1];
	char user[33];
	uid_t uid;
	char netns[64];          /* logical name ns-<user>[-<sid>] */
	dev_t netns_dev;
	ino_t netns_ino;
	char veth[16];           /* "" for isolated */
	char address[64];        /* "" when none */
	pid_t owner_pid;
	unsigned long long owner_start;
	ino_t owner_pidns;       /* PID namespace of the owner (0: unknown, old record) */
	long long opened;
	/* A login's reaper (ns-shell), not a PAM session: the PAM session it
	 * belongs to. "" for a PAM session's own record. Its owner is the
	 * reaper, alive while anything of that login runs: the namespace, its
	 * address and its veth stay busy as long, even after the PAM session
	 * closed (processes that outlive their session, linger). */
	char session[NS_SID_LEN + 1];
	bool linger;             /* a reaper's: the policy's linger (its processes may outlive it) */
};

static inline bool ns_session_is_shell(const struct ns_session_rec *r) { return r->session[0] != '\0'; }

/* Format / parse the key=value text of a record. Parsing is strict: every
 * key once, known keys only, values checked; -EINVAL otherwise. */
int ns_session_format(const struct ns_session_rec *r, char *buf, size_t size);
int ns_session_parse(const char *text, struct ns_session_rec *ret);

/* Make sure STATE_DIR, its sessions/ and lock/ exist, owned by root,
 * mode 0755/0700, not symlinks. */
int ns_state_prepare(const char *state_dir, struct ns_err *err);

/* Write the record atomically (temp file + rename), mode 0644, root, and
 * its entry in the per-uid index $(state_dir)/by-uid/<uid>/<sid>, so that a
 * login only ever reads its own user's records (O(own sessions), not O(all)). */
int ns_session_write(const char *state_dir, const struct ns_session_rec *r, struct ns_err *err);
/* Remove the record of SID and its index entry (absent: 0). */
int ns_session_remove(const char *state_dir, uid_t uid, const char *sid);
/* Read the record of SID; refused unless a root-owned regular file. */
int ns_session_read(const char *state_dir, const char *sid, struct ns_session_rec *ret);

/* Is the record's owner still the process that opened it (pid alive and
 * start time equal)? An owner in a PID namespace other than the caller's
 * cannot be judged from the caller's /proc: it counts as alive (never
 * reaped, its lease never freed). */
bool ns_session_owner_alive(const struct ns_session_rec *r);

/* The inode of the caller's PID namespace (cached: it never changes). */
ino_t ns_pidns_self(void);

/* Are we in the host's namespaces? The host is where the first pam_ns or
 * nsctl of this boot ran: $(state_dir)/host records its PID and network
 * namespace inodes with the boot id. A process in other PID or network
 * namespaces (a login inside a login: su, login, nsctl exec) gets -EPERM
 * with the reason in ERR, and must create, change or reap nothing. */
int ns_host_check(const char *state_dir, struct ns_err *err);
/* ns-shell, as root before it unshares anything (so in the host's PID
 * namespace): record the host when this boot has no record yet, with the
 * network namespace only when NETNS_IS_HOST (pam_ns did not move us).
 * Every login passes through it before a login inside it can exist, so
 * the first writer of a boot is always the host. Never refuses. */
int ns_host_note(const char *state_dir, bool netns_is_host, struct ns_err *err);
/* Read only: is the caller inside a namespaced login, in another PID
 * namespace than the one this boot's host record names? 1 (the reason in
 * ERR: "... nested logins are refused"), else 0 (also when there is no
 * record of this boot, or it cannot be read). */
int ns_host_nested(const char *state_dir, struct ns_err *err);

/* Call FN for every valid record (unreadable/forged files are skipped).
 * Stops and returns FN's value when it is non-zero. */
int ns_session_foreach(const char *state_dir,
		       int (*fn)(const struct ns_session_rec *r, void *data), void *data);

/* The same, for the records of UID only (through the per-uid index). */
int ns_session_foreach_uid(const char *state_dir, uid_t uid,
			   int (*fn)(const struct ns_session_rec *r, void *data), void *data);

/* Find a record of UID whose namespace is (DEV, INO) and whose owner is
 * alive. -ENOENT when none. Several PAM sessions of a user share one
 * namespace (netns = "user"): WANT_SID (or NULL), the id the caller says is
 * its own, picks among those only (a lie can pick another of the same
 * user's sessions in the same namespace, nothing else); without it, or
 * when no such record matches, the first match in directory order. */
int ns_session_find_netns(const char *state_dir, uid_t uid, dev_t dev, ino_t ino, const char *want_sid,
			  struct ns_session_rec *ret);

/* Remove UID's ns-shell login records (logins/) of the namespace (DEV,
 * INO) whose reaper is gone: ns-shell, as root, before it records a new
 * login, so that logins run one after another under one open PAM session
 * (a loop of `ns-shell -c CMD` from a cron job) leave no pile of dead
 * records in /run (which would fill it for every user). That namespace is
 * the caller's own, still named by its live session record, so nothing
 * else (its DHCP client) is to be released. */
void ns_session_reap_logins(const char *state_dir, uid_t uid, dev_t dev, ino_t ino);

/* Open the network namespace of a live session of the record: through
 * /proc/<owner_pid>/ns/net, accepted only when pid, start time and the
 * namespace inode all match. Returns an O_CLOEXEC fd or -errno. */
int ns_session_open_netns(const struct ns_session_rec *r);

/* Open the mount namespaces of up to MAX live logins (ns-shell reapers) of
 * UID, in the caller's PID namespace, into FDS (O_CLOEXEC): where the
 * user's private /tmp lives (ns_mount_tmp_join). Returns how many, or
 * -errno (nothing left open). */
int ns_login_open_mntns(const char *state_dir, uid_t uid, int *fds, size_t max);

/* Per-namespace files written by pam_ns: $(state_dir)/netns/<netns>/resolv.conf
 * with one `nameserver` line per address. N == 0 removes it. */
int ns_netns_resolv_write(const char *state_dir, const char *netns, const struct ns_cidr *dns,
			  size_t n, struct ns_err *err);
/* Make sure $(state_dir)/netns/<netns>/ exists (root, 0755). */
int ns_netns_dir_prepare(const char *state_dir, const char *netns, struct ns_err *err);
/* Open that file for a bind mount (O_PATH; checked root-owned, regular,
 * closed to others). -ENOENT when there is none. */
int ns_netns_resolv_open(const char *state_dir, const char *netns);

/* Is lock NAME held right now (by anyone, this process included)? */
bool ns_lock_held(const char *state_dir, const char *name);

/* Take the lock NAME under STATE_DIR/lock/ (flock, blocking up to
 * TIMEOUT_MS). Returns the fd to close for unlocking. */
int ns_lock_take(const char *state_dir, const char *name, int timeout_ms, struct ns_err *err);

#endif
