/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_dhcp.c — the DHCP client of a login's namespace.
 *
 * Invariants:
 *  1. The client runs by absolute path from the root-owned config, with a
 *     fixed minimal environment, no inherited descriptors (0-2 on
 *     /dev/null), inside the user's network namespace only (setns before
 *     exec); its script is ours (dhcp_script), never the distribution's,
 *     which would rewrite the host's resolv.conf.
 *  2. It is a clean root process (ns_detach_reset): real, effective and
 *     saved ids 0 (busybox keeps root under `su`, and the user cannot
 *     signal it), limits, scheduling, affinity, cgroups, signals and
 *     session not inherited from the login.
 *  3. Registered before it runs: the child waits on a socket before exec;
 *     the parent writes the pid file (root's, FSIZE lifted for the write)
 *     and only then lets it go. A login killed before that leaves a child
 *     that sees EOF and exits without running anything.
 *  4. Waiting is bounded by dhcp_timeout (+ 2 s); a client that got no
 *     lease in time is killed and its pid file removed.
 *  5. A client is only ever signalled after checking that its pid is still
 *     inside the namespace instance named by its pid file (a recycled pid
 *     is left alone).
 *  6. A new client for a namespace name first stops the clients of older
 *     instances of that name: the caller holds the user's lock and found
 *     no live namespace of that name, so they are orphans (a login killed
 *     after starting its client, before writing its session record). */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ns_detach.h"
#include "ns_dhcp.h"
#include "ns_session.h"
#include "ns_steps.h"

/* One pid file per namespace *instance* (its inode), not per name: a
 * user's next namespace has the same name while the old client may still
 * be on its way out, and udhcpc removes its pid file when it exits. */
static void pid_path(const char *state_dir, const char *netns, ino_t ino, char *buf, size_t size)
{
	snprintf(buf, size, "%s/netns/%s/dhcp.%llu.pid", state_dir, netns, (unsigned long long)ino);
}

/* The pid in a root-owned regular pid file; 0 when there is none. */
static pid_t read_pid(const char *pidfile)
{
	char buf[32] = "";
	int fd = open(pidfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct stat st;
	ssize_t n = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0) ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	unsigned long pid;
	if (ns_parse_ulong(buf, 4194304, &pid) < 0 || pid < 2)
		return 0;
	return (pid_t)pid;
}

static bool in_netns(pid_t pid, dev_t dev, ino_t ino)
{
	dev_t d;
	ino_t i;
	return pid > 1 && ns_netns_id(pid, &d, &i) == 0 && d == dev && i == ino;
}

/* Signal the client named by PIDFILE if it is inside (DEV, INO); remove
 * the file when it was signalled or when nobody it names is in there. */
static void stop_pid_file(const char *pidfile, dev_t dev, ino_t ino, int sig, bool unlink_dead)
{
	pid_t pid = read_pid(pidfile);
	if (pid && in_netns(pid, dev, ino)) {
		kill(pid, sig);
		unlink(pidfile);
	} else if (unlink_dead) {
		unlink(pidfile);
	}
}

/* Invariant 6: stop the clients of every other instance of NETNS. */
static void stop_older(const char *state_dir, const char *netns, dev_t dev, ino_t keep)
{
	char dirpath[300], path[sizeof(dirpath) + 260];
	snprintf(dirpath, sizeof(dirpath), "%s/netns/%s", state_dir, netns);
	DIR *d = opendir(dirpath);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long long ino;
		char tail[8];
		if (sscanf(de->d_name, "dhcp.%llu.%7s", &ino, tail) != 2 || strcmp(tail, "pid") != 0 ||
		    (ino_t)ino == keep)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		stop_pid_file(path, dev, (ino_t)ino, SIGTERM, true);
	}
	closedir(d);
}

/* Write PID into a fresh root-owned PIDFILE. The caller's RLIMIT_FSIZE is
 * the user's (a setuid su): lifted for the write, so a tiny limit cannot
 * kill the login (SIGXFSZ) between registration and release. */
static int register_client(const char *pidfile, pid_t pid)
{
	struct ns_fsize_saved saved;
	ns_fsize_lift(&saved);
	char buf[24];
	int len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	int r, fd = open(pidfile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
	} else {
		r = ns_fix_owner(fd, 0644);
		if (r == 0)
			r = ns_write_all(fd, buf, (size_t)len);
		close(fd);
		if (r < 0)
			unlink(pidfile);
	}
	ns_fsize_restore(&saved);
	return r;
}

/* The child: become the clean root client inside the namespace, wait for
 * the parent's word on SOCK, exec. Failures go back over SOCK. */
static _Noreturn void client_child(int sock, int netns_fd, const char *path, char *const argv[])
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct ns_err e = { 0 };
	char go;
	ssize_t n;
	int null;

	if (sock < 3 && (sock = fcntl(sock, F_DUPFD_CLOEXEC, 3)) < 0)
		_exit(127);
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		ns_fail(&e, -errno, "dhcp client: entering the namespace: %s", strerror(errno));
		goto out;
	}
	if (ns_detach_reset(&e) < 0)
		goto out;
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0 || (sock != 3 && dup2(sock, 3) < 0) || fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		ns_fail(&e, -errno, "dhcp client: descriptors: %s", strerror(errno));
		goto out;
	}
	sock = 3;
	ns_close_fds_from(4);
	if (chdir("/") < 0) {
		ns_fail(&e, -errno, "dhcp client: chdir /: %s", strerror(errno));
		goto out;
	}
	do
		n = recv(sock, &go, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);      /* the login died before registering us: run nothing */
	execve(path, argv, envp);
	ns_fail(&e, -errno, "dhcp client: exec %s: %s", path, strerror(errno));
out:
	send(sock, &e, sizeof(e), MSG_NOSIGNAL);
	_exit(127);
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Wait for the child's report: 0 once it has exec'd (EOF), its error, or
 * -ETIMEDOUT at DEADLINE. */
static int wait_exec(int sock, long deadline, struct ns_err *err)
{
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int k = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -ETIMEDOUT;
		struct ns_err e = { 0 };
		ssize_t n = recv(sock, &e, sizeof(e), MSG_WAITALL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return 0;
		if (n != (ssize_t)sizeof(e) || e.code >= 0)
			return ns_fail(err, -EIO, "dhcp client: the child died before exec");
		e.msg[sizeof(e.msg) - 1] = '\0';
		return ns_fail(err, e.code, "%s", e.msg);
	}
}

/* Only udhcpc (or busybox as udhcpc), executable, with our script. */
static int check_client(const struct ns_globals *g, const char **ret_base, struct ns_err *err)
{
	const char *base = strrchr(g->dhcp_client, '/');
	base = base ? base + 1 : g->dhcp_client;
	if (strcmp(base, "udhcpc") != 0 && strcmp(base, "busybox") != 0)
		return ns_fail(err, -EOPNOTSUPP, "dhcp_client %s: only udhcpc is supported", g->dhcp_client);
	if (access(g->dhcp_client, X_OK) < 0)
		return ns_fail(err, -errno, "dhcp_client %s: %s", g->dhcp_client, strerror(errno));
	if (access(g->dhcp_script, R_OK) < 0)
		return ns_fail(err, -errno, "dhcp_script %s: %s", g->dhcp_script, strerror(errno));
	*ret_base = base;
	return 0;
}

/* Fork the client (held before exec), register it, then release it.
 * Returns its pid with *ret_sock to hear from it, or -errno. */
static pid_t spawn_registered(const struct ns_globals *g, const char *base, const char *pidfile, int netns_fd,
			      int *ret_sock, struct ns_err *err)
{
	char tries[16];
	snprintf(tries, sizeof(tries), "%u", g->dhcp_timeout);
	const char *argv[] = { g->dhcp_client, "udhcpc", "-i", "eth0", "-s", g->dhcp_script, "-p", pidfile,
			       "-t", tries, "-T", "1", "-A", "1", "-n", "-R", "-S", NULL };
	bool busybox = strcmp(base, "busybox") == 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return ns_fail(err, -errno, "dhcp client: socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(sv[0]);
		close(sv[1]);
		return ns_fail(err, r, "dhcp client: fork: %s", strerror(-r));
	}
	if (pid == 0) {
		close(sv[0]);
		argv[1] = busybox ? "udhcpc" : g->dhcp_client;   /* busybox needs the applet name */
		client_child(sv[1], netns_fd, g->dhcp_client, (char *const *)(busybox ? argv : argv + 1));
	}
	close(sv[1]);
	ns_fault("dhcp-forked");
	int r = register_client(pidfile, pid);
	if (r < 0) {
		close(sv[0]);     /* EOF: the child exits without exec */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return ns_fail(err, r, "dhcp client: writing %s: %s", pidfile, strerror(-r));
	}
	ns_fault("dhcp-registered");
	send(sv[0], "g", 1, MSG_NOSIGNAL);     /* a child that already failed reports why */
	*ret_sock = sv[0];
	return pid;
}

/* udhcpc stays in the foreground until it has a lease, then forks itself
 * into the background (rewriting the pid file) and this child exits 0.
 * Returns 0 with a lease, -ETIMEDOUT at DEADLINE, or -EADDRNOTAVAIL with
 * *ret_st the client's exit status; *ret_done says the child was reaped. */
static int wait_lease(pid_t pid, const char *pidfile, const struct stat *nst, long deadline, int *ret_st,
		      bool *ret_done)
{
	for (;;) {
		pid_t w = waitpid(pid, ret_st, WNOHANG);
		if (w == pid) {
			*ret_done = true;
			return WIFEXITED(*ret_st) && WEXITSTATUS(*ret_st) == 0 ? 0 : -EADDRNOTAVAIL;
		}
		if (w < 0 && errno == ECHILD && kill(pid, 0) < 0 && errno == ESRCH) {
			/* reaped by the caller (SIGCHLD ignored or handled): a
			 * lease means a client in the background, in the file */
			pid_t bg = read_pid(pidfile);
			*ret_done = true;
			bool ok = bg && bg != pid && in_netns(bg, nst->st_dev, nst->st_ino);
			*ret_st = ok ? 0 : 1 << 8;
			return ok ? 0 : -EADDRNOTAVAIL;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, 10);
	}
}

int ns_dhcp_start(const struct ns_globals *g, const char *netns, int netns_fd, struct ns_err *err)
{
	char pidfile[300];
	const char *base = NULL;
	struct stat nst;
	int r = check_client(g, &base, err);
	if (r < 0)
		return r;
	if (fstat(netns_fd, &nst) < 0)
		return ns_fail(err, -errno, "dhcp client: the namespace: %s", strerror(errno));
	if ((r = ns_netns_dir_prepare(g->state_dir, netns, err)) < 0)
		return r;
	pid_path(g->state_dir, netns, nst.st_ino, pidfile, sizeof(pidfile));
	stop_older(g->state_dir, netns, nst.st_dev, nst.st_ino);
	unlink(pidfile);
	const long deadline = now_ms() + (long)(g->dhcp_timeout + 2) * 1000;
	int sock = -1, st = 0;
	bool done = false;
	pid_t pid = spawn_registered(g, base, pidfile, netns_fd, &sock, err);
	if (pid < 0)
		return pid;
	r = wait_exec(sock, deadline, err);
	close(sock);
	if (r == 0 && (r = wait_lease(pid, pidfile, &nst, deadline, &st, &done)) == 0)
		return 0;
	/* No lease: nothing of this attempt stays, in the foreground or (a
	 * lease that came in the last moment) in the background. */
	if (!done) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	stop_pid_file(pidfile, nst.st_dev, nst.st_ino, SIGKILL, true);
	if (r == -ETIMEDOUT)
		return ns_fail(err, r, "no DHCP lease within %u s", g->dhcp_timeout);
	if (r != -EADDRNOTAVAIL)
		return r;
	return ns_fail(err, -EADDRNOTAVAIL, "no DHCP lease within %u s (%s exited %d)", g->dhcp_timeout,
		       g->dhcp_client, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

bool ns_dhcp_running(const char *state_dir, const char *netns, ino_t ino)
{
	char pidfile[300];
	struct stat st;
	pid_path(state_dir, netns, ino, pidfile, sizeof(pidfile));
	return lstat(pidfile, &st) == 0;
}

void ns_dhcp_stop(const char *state_dir, const char *netns, dev_t dev, ino_t ino)
{
	char pidfile[300];
	pid_path(state_dir, netns, ino, pidfile, sizeof(pidfile));
	stop_pid_file(pidfile, dev, ino, SIGTERM, false);    /* -R: udhcpc releases the lease */
}
