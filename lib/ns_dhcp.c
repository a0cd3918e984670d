/* ns_dhcp.c — the DHCP client of a login's namespace.
 *
 * Invariants:
 *  1. The client runs by absolute path from the root-owned config, with a
 *     fixed minimal environment, no inherited descriptors (0-2 on
 *     /dev/null), in its own session, inside the user's network namespace
 *     only (setns before exec); its script is ours (dhcp_script), never the
 *     distribution's, which would rewrite the host's resolv.conf.
 *  2. Waiting is bounded by dhcp_timeout; a client that got no lease in
 *     time is killed.
 *  3. A client is only ever signalled after checking that its pid is still
 *     inside the namespace recorded for the session (a recycled pid is left
 *     alone). */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

int ns_dhcp_start(const struct ns_globals *g, const char *netns, int netns_fd, struct ns_err *err)
{
	char pidfile[300], tries[16];
	const char *base = strrchr(g->dhcp_client, '/');
	base = base ? base + 1 : g->dhcp_client;
	if (strcmp(base, "udhcpc") != 0 && strcmp(base, "busybox") != 0)
		return ns_fail(err, -EOPNOTSUPP, "dhcp_client %s: only udhcpc is supported", g->dhcp_client);
	if (access(g->dhcp_client, X_OK) < 0)
		return ns_fail(err, -errno, "dhcp_client %s: %s", g->dhcp_client, strerror(errno));
	if (access(g->dhcp_script, R_OK) < 0)
		return ns_fail(err, -errno, "dhcp_script %s: %s", g->dhcp_script, strerror(errno));
	struct stat nst;
	if (fstat(netns_fd, &nst) < 0)
		return ns_fail(err, -errno, "dhcp client: the namespace: %s", strerror(errno));
	int r = ns_netns_dir_prepare(g->state_dir, netns, err);
	if (r < 0)
		return r;
	pid_path(g->state_dir, netns, nst.st_ino, pidfile, sizeof(pidfile));
	unlink(pidfile);
	snprintf(tries, sizeof(tries), "%u", g->dhcp_timeout);

	const char *argv[] = { g->dhcp_client, "-i", "eth0", "-s", g->dhcp_script, "-p", pidfile,
			       "-t", tries, "-T", "1", "-A", "1", "-n", "-R", "-S", NULL };
	const char *busybox_argv[] = { g->dhcp_client, "udhcpc", "-i", "eth0", "-s", g->dhcp_script,
				       "-p", pidfile, "-t", tries, "-T", "1", "-A", "1", "-n", "-R", "-S", NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

	pid_t pid = fork();
	if (pid < 0)
		return ns_fail(err, errno, "dhcp client: fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(127);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		ns_close_fds_from(3);
		setsid();
		umask(022);
		if (chdir("/") < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(g->dhcp_client,
		       (char *const *)(strcmp(base, "busybox") == 0 ? busybox_argv : argv), envp);
		_exit(127);
	}
	/* udhcpc stays in the foreground until it has a lease, then forks
	 * itself into the background and this child exits 0. */
	int st = 0;
	for (unsigned waited = 0;; waited += 10) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0) {          /* reaped by the caller's SIGCHLD handler */
			st = access(pidfile, F_OK) == 0 ? 0 : 1 << 8;
			break;
		}
		if (waited >= (g->dhcp_timeout + 2) * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return ns_fail(err, -ETIMEDOUT, "no DHCP lease within %u s", g->dhcp_timeout);
		}
		poll(NULL, 0, 10);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return ns_fail(err, -EADDRNOTAVAIL, "no DHCP lease within %u s (%s exited %d)", g->dhcp_timeout,
			       g->dhcp_client, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
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
	char pidfile[300], buf[32] = "";
	pid_path(state_dir, netns, ino, pidfile, sizeof(pidfile));
	int fd = open(pidfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	struct stat st;
	ssize_t n = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0) ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	unsigned long pid;
	buf[strcspn(buf, "\n")] = '\0';
	if (ns_parse_ulong(buf, 4194304, &pid) < 0 || pid < 2)
		return;
	dev_t d;
	ino_t i;
	if (ns_netns_id((pid_t)pid, &d, &i) == 0 && d == dev && i == ino) {
		kill((pid_t)pid, SIGTERM);    /* -R: udhcpc releases the lease */
		unlink(pidfile);
	}
}
