/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_session.c — session records and locks.
 *
 * Invariants:
 *  1. Records are trusted only when they are regular files owned by root,
 *     not writable by group or others, opened without following symlinks,
 *     under a state directory that is itself root-owned and not writable by
 *     others; the file name is the session id and must be 8 hex digits.
 *  2. A record is written to a temp file and renamed: readers see the old
 *     record or the new one, never half of one. Modes are fixed (0644),
 *     whatever the caller's umask.
 *  3. A record's namespace is reachable only through its owner process, and
 *     only while pid, start time and the namespace inode all still match:
 *     a recycled pid or a forged record never leads into a namespace.
 *  4. Locks are flock()s: a crashed holder releases them; waiting is
 *     bounded.
 *  5. Liveness is judged only from the owner's own PID namespace: from any
 *     other one (a login inside a login, with a private /proc) an owner
 *     counts as alive, so nothing is reaped from there. pam_ns and nsctl gc
 *     refuse to work outside the host's namespaces ($(state_dir)/host). */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "ns_session.h"
#include "ns_steps.h"

#define REC_MAX 4096

int ns_session_format(const struct ns_session_rec *r, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "user=%s\nuid=%u\nnetns=%s\nnetns_dev=%llu\nnetns_ino=%llu\nveth=%s\n"
			 "address=%s\nowner_pid=%d\nowner_start=%llu\nowner_pidns=%llu\nopened=%lld\n%s%s%s",
			 r->user, (unsigned)r->uid, r->netns, (unsigned long long)r->netns_dev,
			 (unsigned long long)r->netns_ino, r->veth, r->address, (int)r->owner_pid,
			 r->owner_start, (unsigned long long)r->owner_pidns, r->opened,
			 r->session[0] ? "session=" : "", r->session, r->session[0] ? (r->linger ? "\nlinger=1\n" : "\nlinger=0\n") : "");
	return (n < 0 || (size_t)n >= size) ? -ENOSPC : n;
}

static int parse_num(const char *v, unsigned long long max, unsigned long long *ret)
{
	unsigned long x;
	int r = ns_parse_ulong(v, (unsigned long)max, &x);
	if (r == 0)
		*ret = x;
	return r;
}

static bool value_ok(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

int ns_session_parse(const char *text, struct ns_session_rec *ret)
{
	static const char *const keys[] = { "user", "uid", "netns", "netns_dev", "netns_ino", "veth",
					    "address", "owner_pid", "owner_start", "opened", "owner_pidns", "session", "linger" };
	const unsigned required = (1u << 10) - 1;   /* owner_pidns (older records), session: optional */
	struct ns_session_rec r = { 0 };
	unsigned seen = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return -EINVAL;       /* every line ends with a newline */
		char line[256];
		size_t len = (size_t)(nl - p);
		if (len >= sizeof(line))
			return -EINVAL;
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		char *eq = strchr(line, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		const char *v = eq + 1;
		if (!value_ok(v))
			return -EINVAL;
		int k = -1;
		for (int i = 0; i < (int)ARRAY_SIZE(keys); i++)
			if (strcmp(line, keys[i]) == 0)
				k = i;
		if (k < 0 || (seen & (1u << k)))
			return -EINVAL;
		seen |= 1u << k;
		unsigned long long x = 0;
		int rc = 0;
		switch (k) {
		case 0: rc = ns_user_name_valid(v) ? ns_strlcpy(r.user, v, sizeof(r.user)) : -EINVAL; break;
		case 1: rc = parse_num(v, UINT32_MAX, &x); r.uid = (uid_t)x; break;
		case 2: rc = ns_strlcpy(r.netns, v, sizeof(r.netns)); break;
		case 3: rc = parse_num(v, UINT64_MAX, &x); r.netns_dev = (dev_t)x; break;
		case 4: rc = parse_num(v, UINT64_MAX, &x); r.netns_ino = (ino_t)x; break;
		case 5: rc = (*v && !ns_ifname_valid(v)) ? -EINVAL : ns_strlcpy(r.veth, v, sizeof(r.veth)); break;
		case 6: rc = ns_strlcpy(r.address, v, sizeof(r.address)); break;
		case 7: rc = parse_num(v, INT32_MAX, &x); r.owner_pid = (pid_t)x; break;
		case 8: rc = parse_num(v, UINT64_MAX, &r.owner_start); break;
		case 9: rc = parse_num(v, INT64_MAX, &x); r.opened = (long long)x; break;
		case 10: rc = parse_num(v, UINT64_MAX, &x); r.owner_pidns = (ino_t)x; break;
		case 11: rc = ns_sid_valid(v) ? ns_strlcpy(r.session, v, sizeof(r.session)) : -EINVAL; break;
		case 12: rc = parse_num(v, 1, &x); r.linger = x == 1; break;
		}
		if (rc < 0)
			return -EINVAL;
	}
	if ((seen & required) != required || r.owner_pid <= 0)
		return -EINVAL;
	*ret = r;
	return 0;
}

/* Open DIR (or create it, mode MODE) and check it: a real directory owned
 * by root, not writable by group or others. */
static int open_trusted_dir(int at, const char *path, mode_t mode, bool create)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		bool made = mkdirat(at, path, mode) == 0;
		if (!made && errno != EEXIST)
			return -errno;
		fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && made && ns_fix_owner(fd, mode) < 0) {
			close(fd);
			return -EPERM;
		}
	}
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* The state directory itself, checked; then one of its subdirectories
 * through it (TOP < 0: its error). A function that needs several opens
 * the top once. */
static int open_top(const char *state_dir, bool create)
{
	return open_trusted_dir(AT_FDCWD, state_dir, 0755, create);
}

static int sub_at(int top, const char *sub, bool create)
{
	if (top < 0)
		return top;
	return open_trusted_dir(top, sub, strcmp(sub, "lock") == 0 ? 0700 : 0755, create);
}

static int open_sub(const char *state_dir, const char *sub, bool create)
{
	_cleanup_close_ int top = open_top(state_dir, create);
	return sub_at(top, sub, create);
}

int ns_state_prepare(const char *state_dir, struct ns_err *err)
{
	const char *subs[] = { "sessions", "logins", "lock", "by-uid" };
	_cleanup_close_ int top = open_top(state_dir, true);
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		int fd = sub_at(top, subs[i], true);
		if (fd < 0)
			return ns_fail(err, fd, "state directory %s/%s: %s", state_dir, subs[i],
				       fd == -EPERM ? "not a root-owned directory closed to others" : strerror(-fd));
		close(fd);
	}
	return 0;
}

/* PAM sessions under sessions/ (one record per open session, as the
 * contract says), logins' reapers under logins/; one sid space, one index. */
static const char *rec_dir(const struct ns_session_rec *r)
{
	return ns_session_is_shell(r) ? "logins" : "sessions";
}

/* The index entry SID in the user's index directory UDIR (root's, 0644). */
static int index_add(int udir, const char *sid)
{
	int fd = openat(udir, sid, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = ns_fix_owner(fd, 0644);
	close(fd);
	return rc;
}

/* TEXT (N bytes) as the record SID in DIR, whole or not at all: an unnamed
 * file linked under its name only once complete (a process killed half
 * way, and a user may SIGKILL her own su, leaves nothing); a rewrite, or a
 * file system without O_TMPFILE, goes through a named temp file and
 * rename. 0 or -errno. */
static int write_record(int dir, const char *sid, const char *text, size_t n)
{
	char tmp[32];
	_cleanup_close_ int fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	int rc;
	if (fd >= 0) {
		rc = ns_fix_owner(fd, 0644);
		if (rc == 0)
			rc = ns_write_all(fd, text, n);
		if (rc == 0 && linkat(fd, "", dir, sid, AT_EMPTY_PATH) < 0)
			rc = -errno;
		if (rc != -EEXIST)   /* EEXIST: a rewrite, done below by rename */
			return rc;
		close(TAKE_FD(fd));
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", sid);
	unlinkat(dir, tmp, 0);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = ns_fix_owner(fd, 0644);
	if (rc == 0)
		rc = ns_write_all(fd, text, n);
	if (rc == 0 && renameat(dir, tmp, dir, sid) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dir, tmp, 0);
	return rc;
}

int ns_session_write(const char *state_dir, const struct ns_session_rec *r, struct ns_err *err)
{
	char text[REC_MAX];
	int n = ns_session_format(r, text, sizeof(text));
	if (n < 0 || !ns_sid_valid(r->sid))
		return ns_fail(err, -EINVAL, "session record %s: bad content", r->sid);
	const char *sub = rec_dir(r);
	/* sessions/ is made by ns_state_prepare (pam_ns); logins/ on demand
	 * (state directories from an older version lack it). */
	_cleanup_close_ int top = open_top(state_dir, ns_session_is_shell(r));
	_cleanup_close_ int dir = sub_at(top, sub, ns_session_is_shell(r));
	if (dir < 0)
		return ns_fail(err, dir, "session record %s: %s/%s: %s", r->sid, state_dir, sub, strerror(-dir));
	/* Index entry first: an entry without a record is cleaned on sight; a
	 * record without an entry would be invisible to its user's logins. A
	 * reader may clean ours between the two steps: so the entry is made
	 * again once the record is there (and the reader, after its unlink,
	 * looks for the record once more: ns_session_foreach_uid). */
	char uidname[16];
	snprintf(uidname, sizeof(uidname), "%u", (unsigned)r->uid);
	_cleanup_close_ int idx = sub_at(top, "by-uid", true);
	_cleanup_close_ int udir = idx < 0 ? idx : open_trusted_dir(idx, uidname, 0755, true);
	if (udir < 0)
		return ns_fail(err, udir, "session index %s/by-uid/%s: %s", state_dir, uidname, strerror(-udir));
	int rc = index_add(udir, r->sid);
	if (rc < 0)
		return ns_fail(err, rc, "session index entry %s: %s", r->sid, strerror(-rc));

	if ((rc = write_record(dir, r->sid, text, (size_t)n)) < 0)
		return ns_fail(err, rc, "session record %s: %s", r->sid, strerror(-rc));
	if ((rc = index_add(udir, r->sid)) < 0)
		return ns_fail(err, rc, "session index entry %s: %s", r->sid, strerror(-rc));
	return 0;
}

static void index_remove(int top, uid_t uid, const char *sid)
{
	char uidname[16];
	snprintf(uidname, sizeof(uidname), "%u", (unsigned)uid);
	_cleanup_close_ int idx = sub_at(top, "by-uid", false);
	_cleanup_close_ int udir = idx < 0 ? idx : open_trusted_dir(idx, uidname, 0755, false);
	if (udir >= 0)
		unlinkat(udir, sid, 0);
}

int ns_session_remove(const char *state_dir, uid_t uid, const char *sid)
{
	if (!ns_sid_valid(sid))
		return -EINVAL;
	int r = 0;
	const char *subs[] = { "sessions", "logins" };
	_cleanup_close_ int top = open_top(state_dir, false);
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		_cleanup_close_ int dir = sub_at(top, subs[i], false);
		if (dir >= 0 && unlinkat(dir, sid, 0) < 0 && errno != ENOENT)
			r = -errno;
	}
	index_remove(top, uid, sid);
	return r;
}

static int read_at(int dir, const char *sid, struct ns_session_rec *ret)
{
	char text[REC_MAX];
	if (!ns_sid_valid(sid))
		return -EINVAL;
	_cleanup_close_ int fd = openat(dir, sid, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) || st.st_size >= REC_MAX)
		return -EPERM;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	if (strlen(text) != (size_t)n || ns_session_parse(text, ret) < 0)
		return -EINVAL;
	memcpy(ret->sid, sid, NS_SID_LEN + 1);
	return 0;
}

int ns_session_read(const char *state_dir, const char *sid, struct ns_session_rec *ret)
{
	_cleanup_close_ int top = open_top(state_dir, false);
	_cleanup_close_ int dir = sub_at(top, "sessions", false);
	int r = dir < 0 ? dir : read_at(dir, sid, ret);
	if (r != -ENOENT)
		return r;
	_cleanup_close_ int ldir = sub_at(top, "logins", false);
	r = ldir < 0 ? ldir : read_at(ldir, sid, ret);
	return r == 0 && !ns_session_is_shell(ret) ? -EINVAL : r;
}

ino_t ns_pidns_self(void)
{
	static ino_t cached;
	struct stat st;
	if (!cached && stat("/proc/self/ns/pid", &st) == 0)
		cached = st.st_ino;
	return cached;
}

bool ns_session_owner_alive(const struct ns_session_rec *r)
{
	unsigned long long start;
	dev_t dev;
	ino_t ino;
	if (r->owner_pidns && r->owner_pidns != ns_pidns_self())
		return true;   /* not visible from here: never judged dead */
	if (ns_proc_start_time(r->owner_pid, &start) < 0 || start != r->owner_start)
		return false;
	if (ns_netns_id(r->owner_pid, &dev, &ino) < 0)
		return false;
	/* Re-check after reading the namespace: the pid was not recycled in between. */
	if (ns_proc_start_time(r->owner_pid, &start) < 0 || start != r->owner_start)
		return false;
	return dev == r->netns_dev && ino == r->netns_ino;
}

static int foreach_in(const char *state_dir, const char *sub,
		      int (*fn)(const struct ns_session_rec *r, void *data), void *data)
{
	int dfd = open_sub(state_dir, sub, false);
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		struct ns_session_rec r;
		if (ns_sid_valid(e->d_name) && read_at(dirfd(d), e->d_name, &r) == 0 &&
		    ns_session_is_shell(&r) == (strcmp(sub, "logins") == 0))
			rc = fn(&r, data);
	}
	closedir(d);
	return rc;
}

int ns_session_foreach(const char *state_dir,
		       int (*fn)(const struct ns_session_rec *r, void *data), void *data)
{
	int rc = foreach_in(state_dir, "sessions", fn, data);
	return rc ? rc : foreach_in(state_dir, "logins", fn, data);
}

/* The record SID of the index: under sessions/ (a PAM session) or logins/
 * (a login's reaper), each kind only in its own directory. */
static int read_indexed(int sessions, int logins, const char *sid, struct ns_session_rec *r)
{
	int rr = read_at(sessions, sid, r);
	if (rr == -ENOENT && logins >= 0) {
		rr = read_at(logins, sid, r);
		if (rr == 0 && !ns_session_is_shell(r))
			rr = -EINVAL;
	} else if (rr == 0 && ns_session_is_shell(r)) {
		rr = -EINVAL;
	}
	return rr;
}

int ns_session_foreach_uid(const char *state_dir, uid_t uid,
			   int (*fn)(const struct ns_session_rec *r, void *data), void *data)
{
	char uidname[16];
	snprintf(uidname, sizeof(uidname), "%u", (unsigned)uid);
	_cleanup_close_ int top = open_top(state_dir, false);
	_cleanup_close_ int sessions = sub_at(top, "sessions", false);
	_cleanup_close_ int logins = sub_at(top, "logins", false);
	_cleanup_close_ int idx = sub_at(top, "by-uid", false);
	int udir = idx < 0 ? idx : open_trusted_dir(idx, uidname, 0755, false);
	if (sessions < 0 || udir < 0) {
		if (udir >= 0)
			close(udir);
		return (sessions == -ENOENT || udir == -ENOENT || sessions >= 0) ? 0 : sessions;
	}
	DIR *d = fdopendir(udir);
	if (!d) {
		close(udir);
		return -errno;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		struct ns_session_rec r;
		if (!ns_sid_valid(e->d_name))
			continue;
		int rr = read_indexed(sessions, logins, e->d_name, &r);
		if (rr == -ENOENT) {
			/* The entry of a removed record, or of one being written
			 * (entry first): unlink, then look once more; a record that
			 * appeared meanwhile gets its entry back (and its writer
			 * makes it again too: ns_session_write). */
			unlinkat(dirfd(d), e->d_name, 0);
			if ((rr = read_indexed(sessions, logins, e->d_name, &r)) == 0)
				index_add(dirfd(d), e->d_name);
		}
		if (rr == 0 && r.uid == uid)
			rc = fn(&r, data);
	}
	closedir(d);
	return rc;
}

struct find_ctx {
	uid_t uid;
	dev_t dev;
	ino_t ino;
	const char *want_sid;
	struct ns_session_rec *out;
	bool found;
};

static int match_netns(const struct ns_session_rec *r, void *data)
{
	struct find_ctx *c = data;
	/* The PAM session's own record (ns-shell wants its id and netns name),
	 * not a reaper's. */
	if (r->uid != c->uid || r->netns_dev != c->dev || r->netns_ino != c->ino || ns_session_is_shell(r))
		return 0;
	if (!ns_session_owner_alive(r))
		return 0;
	bool wanted = c->want_sid && strcmp(r->sid, c->want_sid) == 0;
	if (!c->found || wanted)
		*c->out = *r;
	c->found = true;
	return wanted || !c->want_sid;   /* stop at the wanted one, or at the first without a wish */
}

int ns_session_find_netns(const char *state_dir, uid_t uid, dev_t dev, ino_t ino, const char *want_sid,
			  struct ns_session_rec *ret)
{
	struct find_ctx c = { uid, dev, ino, want_sid, ret, false };
	int r = ns_session_foreach_uid(state_dir, uid, match_netns, &c);
	/* Not in the index (a record written by other means): look at all of
	 * them. Only a refused or unusual login pays for the full scan. */
	if (r == 0 && !c.found)
		r = ns_session_foreach(state_dir, match_netns, &c);
	/* Found others but not the wanted one: read it by name (one file). */
	struct ns_session_rec w;
	if (r == 0 && c.found && want_sid && strcmp(ret->sid, want_sid) != 0 &&
	    ns_session_read(state_dir, want_sid, &w) == 0)
		match_netns(&w, &c);
	if (r < 0)
		return r;
	return c.found ? 0 : -ENOENT;
}

struct reap_ctx {
	const char *state_dir;
	uid_t uid;
	dev_t dev;
	ino_t ino;
};

static int reap_login(const struct ns_session_rec *r, void *data)
{
	const struct reap_ctx *c = data;
	if (r->uid == c->uid && ns_session_is_shell(r) && r->netns_dev == c->dev && r->netns_ino == c->ino &&
	    !ns_session_owner_alive(r))
		ns_session_remove(c->state_dir, r->uid, r->sid);
	return 0;
}

void ns_session_reap_logins(const char *state_dir, uid_t uid, dev_t dev, ino_t ino)
{
	struct reap_ctx c = { state_dir, uid, dev, ino };
	ns_session_foreach_uid(state_dir, uid, reap_login, &c);
}

/* Open /proc/<owner>/ns/<NAME> of the record's owner, accepted only when
 * pid and start time match before and after the open (the fd then pins
 * the namespace of the recorded process). */
static int open_owner_ns(const struct ns_session_rec *r, const char *name, struct stat *st)
{
	char path[64];
	unsigned long long start;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)r->owner_pid, name);
	if (ns_proc_start_time(r->owner_pid, &start) < 0 || start != r->owner_start)
		return -ESRCH;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || ns_proc_start_time(r->owner_pid, &start) < 0 || start != r->owner_start) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int ns_session_open_netns(const struct ns_session_rec *r)
{
	struct stat st;
	int fd = open_owner_ns(r, "net", &st);
	if (fd >= 0 && (st.st_dev != r->netns_dev || st.st_ino != r->netns_ino)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

struct mntns_ctx {
	uid_t uid;
	int *fds;
	size_t max, n;
};

static int open_login_mntns(const struct ns_session_rec *r, void *data)
{
	struct mntns_ctx *c = data;
	struct stat st;
	/* A reaper of this user seen from its own PID namespace, so that
	 * /proc/<owner_pid> is that process. */
	if (!ns_session_is_shell(r) || r->uid != c->uid || r->owner_pidns != ns_pidns_self())
		return 0;
	int fd = open_owner_ns(r, "mnt", &st);
	if (fd >= 0)
		c->fds[c->n++] = fd;
	return c->n == c->max;
}

int ns_login_open_mntns(const char *state_dir, uid_t uid, int *fds, size_t max)
{
	struct mntns_ctx c = { uid, fds, max, 0 };
	if (max == 0)
		return 0;
	int r = ns_session_foreach_uid(state_dir, uid, open_login_mntns, &c);
	if (r < 0) {
		for (size_t i = 0; i < c.n; i++)
			close(fds[i]);
		return r;
	}
	return (int)c.n;
}

int ns_lock_take(const char *state_dir, const char *name, int timeout_ms, struct ns_err *err)
{
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return ns_fail(err, -EINVAL, "lock %s: bad name", name);
	_cleanup_close_ int dir = open_sub(state_dir, "lock", true);
	if (dir < 0)
		return ns_fail(err, dir, "lock directory %s/lock: %s", state_dir,
			       dir == -EPERM ? "not a root-owned directory closed to others" : strerror(-dir));
	int fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		fd = openat(dir, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
		if (fd >= 0)
			ns_fix_owner(fd, 0600);
		else if (errno == EEXIST)
			fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0)
		return ns_fail(err, errno, "lock %s: %s", name, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) {
		close(fd);
		return ns_fail(err, -EPERM, "lock %s: not a root-owned file", name);
	}
	for (int waited = 0;; waited += 5) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (waited >= timeout_ms) {
			errno = ETIMEDOUT;
			break;
		}
		poll(NULL, 0, 5);
	}
	int e = errno;
	close(fd);
	return ns_fail(err, e, "lock %s: %s", name, e == ETIMEDOUT ? "held by another login for too long" : strerror(e));
}

static bool netns_name_ok(const char *netns)
{
	return netns[0] && netns[0] != '.' && !strchr(netns, '/') && strlen(netns) < 64;
}

int ns_netns_resolv_write(const char *state_dir, const char *netns, const struct ns_cidr *dns,
			  size_t n, struct ns_err *err)
{
	char text[NS_MAX_LIST * 64 + 64];
	size_t off = 0;
	if (!netns_name_ok(netns))
		return ns_fail(err, -EINVAL, "bad namespace name");
	_cleanup_close_ int top = open_trusted_dir(AT_FDCWD, state_dir, 0755, n > 0);
	_cleanup_close_ int base = top < 0 ? top : open_trusted_dir(top, "netns", 0755, n > 0);
	_cleanup_close_ int dir = base < 0 ? base : open_trusted_dir(base, netns, 0755, n > 0);
	if (dir < 0) {
		if (n == 0 && dir == -ENOENT)
			return 0;
		return ns_fail(err, dir, "%s/netns/%s: %s", state_dir, netns, strerror(-dir));
	}
	if (n == 0) {
		unlinkat(dir, "resolv.conf", 0);
		return 0;
	}
	off += (size_t)snprintf(text, sizeof(text), "# written by pam_ns for %s\n", netns);
	for (size_t i = 0; i < n && i < NS_MAX_LIST; i++) {
		char a[64];
		ns_cidr_format(&dns[i], false, a, sizeof(a));
		off += (size_t)snprintf(text + off, sizeof(text) - off, "nameserver %s\n", a);
	}
	unlinkat(dir, ".resolv.conf.tmp", 0);
	_cleanup_close_ int fd = openat(dir, ".resolv.conf.tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : 0;
	if (r == 0)
		r = ns_fix_owner(fd, 0644);
	if (r == 0)
		r = ns_write_all(fd, text, off);
	if (r == 0 && renameat(dir, ".resolv.conf.tmp", dir, "resolv.conf") < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dir, ".resolv.conf.tmp", 0);
		return ns_fail(err, r, "%s/netns/%s/resolv.conf: %s", state_dir, netns, strerror(-r));
	}
	return 0;
}

int ns_netns_dir_prepare(const char *state_dir, const char *netns, struct ns_err *err)
{
	if (!netns_name_ok(netns))
		return ns_fail(err, -EINVAL, "bad namespace name");
	_cleanup_close_ int top = open_trusted_dir(AT_FDCWD, state_dir, 0755, true);
	_cleanup_close_ int base = top < 0 ? top : open_trusted_dir(top, "netns", 0755, true);
	_cleanup_close_ int dir = base < 0 ? base : open_trusted_dir(base, netns, 0755, true);
	if (dir < 0)
		return ns_fail(err, dir, "%s/netns/%s: %s", state_dir, netns, strerror(-dir));
	return 0;
}

int ns_netns_resolv_open(const char *state_dir, const char *netns)
{
	if (!netns_name_ok(netns))
		return -EINVAL;
	_cleanup_close_ int top = open_trusted_dir(AT_FDCWD, state_dir, 0755, false);
	_cleanup_close_ int base = top < 0 ? top : open_trusted_dir(top, "netns", 0755, false);
	_cleanup_close_ int dir = base < 0 ? base : open_trusted_dir(base, netns, 0755, false);
	if (dir < 0)
		return dir;
	int fd = openat(dir, "resolv.conf", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

bool ns_lock_held(const char *state_dir, const char *name)
{
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return false;
	_cleanup_close_ int dir = open_sub(state_dir, "lock", false);
	if (dir < 0)
		return false;
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		return false;
	}
	return errno == EWOULDBLOCK;
}

/* $(state_dir)/host: "boot=<boot id> pidns=<ino> netns=<ino>\n". */
struct host_id {
	char boot[40];
	unsigned long long pidns, netns;
};

static int host_id_self(struct host_id *h, bool with_boot)
{
	struct stat st;
	memset(h, 0, sizeof(*h));
	if (stat("/proc/self/ns/pid", &st) < 0)
		return -errno;
	h->pidns = st.st_ino;
	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	h->netns = st.st_ino;
	if (!with_boot)
		return 0;
	_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, h->boot, sizeof(h->boot) - 1);
	if (n < 36)
		return -EIO;
	h->boot[36] = '\0';
	return 0;
}

static int host_id_read(int dir, struct host_id *h)
{
	char buf[160];
	_cleanup_close_ int fd = openat(dir, "host", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return -EPERM;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	memset(h, 0, sizeof(*h));
	if (sscanf(buf, "boot=%36s pidns=%llu netns=%llu", h->boot, &h->pidns, &h->netns) != 3)
		return -EINVAL;
	return 0;
}

/* Publish atomically: write a temp file, then rename over the old one. */
static int host_id_write(int dir, const struct host_id *h)
{
	char buf[160], tmp[32];
	int n = snprintf(buf, sizeof(buf), "boot=%s pidns=%llu netns=%llu\n", h->boot, h->pidns, h->netns);
	snprintf(tmp, sizeof(tmp), ".host.%d", (int)getpid());
	unlinkat(dir, tmp, 0);
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = ns_fix_owner(fd, 0644) < 0 ? -EPERM : ns_write_all(fd, buf, (size_t)n);
	close(fd);
	if (r == 0 && renameat(dir, tmp, dir, "host") < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp, 0);
	return r;
}

static int refuse_nested(const struct host_id *self, const struct host_id *rec, struct ns_err *err)
{
	bool pid = self->pidns != rec->pidns;
	return ns_fail(err, -EPERM, "inside a namespaced login (its %s namespace %llu is not the host's %llu): "
		       "nested logins are refused", pid ? "pid" : "network", pid ? self->pidns : self->netns,
		       pid ? rec->pidns : rec->netns);
}

/* NOTE: ns-shell, which knows the host's PID namespace (it has not
 * unshared yet) but not always its network namespace (pam_ns may have
 * moved it): write when missing or from an earlier boot, never refuse.
 * Otherwise (pam_ns, nsctl gc): refuse a caller whose namespaces are not
 * the recorded ones; fill in a network namespace ns-shell left unknown. */
static int host_id_sync(const char *state_dir, bool note, bool netns_known, struct ns_err *err)
{
	struct host_id self, rec = { 0 };
	_cleanup_close_ int dir = open_trusted_dir(AT_FDCWD, state_dir, 0755, true);
	if (dir < 0)
		return ns_fail(err, dir, "state directory %s: %s", state_dir,
			       dir == -EPERM ? "not a root-owned directory closed to others" : strerror(-dir));
	int r = host_id_self(&self, false);
	if (r < 0)
		return ns_fail(err, r, "cannot read this process's namespaces: %s", strerror(-r));
	r = host_id_read(dir, &rec);
	bool have = r == 0;
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return ns_fail(err, r, "%s/host: %s", state_dir,
			       r == -EPERM ? "not a root-owned file closed to others" : strerror(-r));
	if (have && rec.pidns == self.pidns && (rec.netns == self.netns || rec.netns == 0)) {
		if (rec.netns || !netns_known || note)
			return 0;   /* the common case: two stats and one small read */
		rec.netns = self.netns;
		return host_id_write(dir, &rec) < 0 ? ns_fail(err, -EIO, "%s/host: cannot write", state_dir) : 0;
	}
	if ((r = host_id_self(&self, true)) < 0)
		return ns_fail(err, r, "cannot read the boot id: %s", strerror(-r));
	if (have && strcmp(rec.boot, self.boot) == 0)
		return note ? 0 : refuse_nested(&self, &rec, err);
	/* First use in this boot (or a file from an earlier boot): we are the host. */
	if (!netns_known)
		self.netns = 0;
	if ((r = host_id_write(dir, &self)) < 0)
		return ns_fail(err, r, "%s/host: %s", state_dir, strerror(-r));
	return 0;
}

int ns_host_check(const char *state_dir, struct ns_err *err)
{
	return host_id_sync(state_dir, false, true, err);
}

int ns_host_note(const char *state_dir, bool netns_is_host, struct ns_err *err)
{
	return host_id_sync(state_dir, true, netns_is_host, err);
}

int ns_host_nested(const char *state_dir, struct ns_err *err)
{
	struct host_id self, rec;
	_cleanup_close_ int dir = open_trusted_dir(AT_FDCWD, state_dir, 0755, false);
	if (dir < 0 || host_id_read(dir, &rec) < 0 || host_id_self(&self, true) < 0)
		return 0;
	if (strcmp(rec.boot, self.boot) != 0 || rec.pidns == self.pidns)
		return 0;
	refuse_nested(&self, &rec, err);
	return 1;
}
