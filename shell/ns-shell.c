/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns-shell — the setuid login shell that starts a login in fresh PID, IPC,
 * mount and UTS namespaces inside the network namespace pam_ns chose.
 *
 * Invariants (see docs/DESIGN.md "ns-shell"):
 *  1. The user is getuid(). The config path is compiled in. No decision is
 *     read from the environment: it is copied aside (allow-list only) and
 *     cleared before anything else runs, including the config parser.
 *  2. The network namespace is never joined by name or path: ns-shell runs
 *     in the one it inherited and accepts it only when a root-owned session
 *     record of this uid names the same inode (or makes a fresh loopback-
 *     only one for `isolated`).
 *  3. Non-dumpable throughout the privileged phase. Every privileged step
 *     happens before the drop; after it, nothing privileged runs: the
 *     outer process, the reaper (PID 1) and the shell all run as the user.
 *  4. If any step fails, no shell runs: one line `ns-shell: <reason>` on
 *     stderr and in syslog (authpriv), exit 1.
 *  5. The shell gets fds 0-2 only, the allow-listed environment, and one
 *     execve with the command string verbatim. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mount.h>
#include <syslog.h>
#include <time.h>

#include "ns_config.h"
#include "ns_env.h"
#include "ns_invoke.h"
#include "ns_names.h"
#include "ns_policy.h"
#include "ns_session.h"
#include "ns_steps.h"
#include "ns_xauth.h"

#ifndef NS_CONF_PATH
#define NS_CONF_PATH "/etc/security/ns.conf"
#endif
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"

static const int forwarded[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2 };
static mode_t caller_umask = 022;   /* restored for the shell (pam_umask, login.defs) */
/* The caller's file size limit, restored for the shell: while privileged,
 * none (a limit of 0 would kill us with SIGXFSZ halfway through a record). */
static struct ns_fsize_saved caller_fsize;
static struct rlimit caller_nproc;   /* restored for the shell */

/* Everything the login is made of, decided before the first privileged step. */
struct login {
	struct ns_invocation inv;
	uid_t uid;
	gid_t gid;
	char user[64], home[4096];
	char **saved_env;                /* allow-listed copies, for the shell */
	char *ssh_command;               /* SSH_ORIGINAL_COMMAND, verbatim */
	char said_sid[NS_SID_LEN + 1];   /* NS_SHELL_SESSION of the caller, if well-formed: a hint only */
	const struct ns_globals *g;
	struct ns_policy policy;
	bool exempt;
	struct ns_session_rec rec;       /* the session pam_ns made, if any */
	bool have_rec;
	char hostname[64];
	char host_name[65];              /* the host's, before the UTS namespace (X11 cookies) */
	gid_t *gids;                     /* the groups it was started with (caller_groups) */
	size_t n_gids;
	/* private_tmp: mount namespaces of the user's other live logins,
	 * where her /tmp may already live (opened in the host's namespaces),
	 * and the device of the host's /tmp, which is never taken for hers. */
	int tmp_from[4];
	int n_tmp_from;
	dev_t host_tmp_dev;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ns-shell: %s\n", msg);
	syslog(LOG_AUTHPRIV | LOG_ERR, "%s", msg);
	_exit(1);
}

static void usage(FILE *f)
{
	fputs("usage: ns-shell            (as a login shell, or an sshd ForceCommand)\n"
	      "       ns-shell -c COMMAND\n"
	      "       ns-shell --check | --version | --help\n", f);
}

/* Setuid hygiene: fds 0-2 open (so nothing we open lands on them), every
 * other inherited fd close-on-exec, default signal dispositions and mask,
 * a sane umask while privileged (the caller's is given back to the shell). */
static void sanitize_process(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n < 0)
				_exit(1);
			if (n != fd)
				_exit(1);
		}
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
		for (int fd = 3; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	struct sigaction sa = { .sa_handler = SIG_DFL };
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && sigaction(s, &sa, NULL) < 0) {
			/* glibc refuses its own two real-time signals (32, 33); an
			 * ignored one would be inherited by the login: ask the kernel. */
			struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } k = { 0 };
			syscall(SYS_rt_sigaction, s, &k, NULL, sizeof(k.mask));
		}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	caller_umask = umask(022);
	ns_fsize_lift(&caller_fsize);
	ns_rlimit_lift(RLIMIT_NPROC, &caller_nproc);
}

/* Copy the allow-listed environment and SSH_ORIGINAL_COMMAND aside, then
 * clear the environment: nothing the caller set is seen by any library. */
static void set_environment_aside(struct login *l)
{
	extern char **environ;
	size_t n = 0, k = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	l->saved_env = calloc(n + 1, sizeof(char *));
	if (!l->saved_env)
		fail("out of memory");
	for (char **e = environ; e && *e; e++) {
		if (ns_env_allowed(*e))
			l->saved_env[k++] = strdup(*e);
		else if (strncmp(*e, "SSH_ORIGINAL_COMMAND=", 21) == 0 && !l->ssh_command)
			l->ssh_command = strdup(*e + 21);
		else if (strncmp(*e, "NS_SHELL_SESSION=", 17) == 0 && ns_sid_valid(*e + 17))
			memcpy(l->said_sid, *e + 17, NS_SID_LEN + 1);
	}
	clearenv();
}

static void load_identity(struct login *l)
{
	l->uid = getuid();
	struct passwd *pw = getpwuid(l->uid);
	if (!pw)
		fail("uid %u has no passwd entry", (unsigned)l->uid);
	/* Checked against NS_USER_NAME_RULE once exemption is known (main). */
	if (!pw->pw_name || ns_strlcpy(l->user, pw->pw_name, sizeof(l->user)) < 0 || !l->user[0])
		fail("user name of uid %u is empty or too long", (unsigned)l->uid);
	l->gid = pw->pw_gid;
	if (snprintf(l->home, sizeof(l->home), "%s", pw->pw_dir ? pw->pw_dir : "/") >= (int)sizeof(l->home))
		snprintf(l->home, sizeof(l->home), "/");
}

/* Root never depends on ns.conf nor on the groups' directory: a plain
 * shell with the built-in defaults, loudly (WHY). Only the real root:
 * "root" of a user namespace someone made is that someone. */
static void root_plain_shell(const struct login *l, const char *why, struct ns_config **ret_cfg,
			     struct ns_user_policy *ret)
{
	struct ns_errlist none;
	struct ns_err err = { 0 };
	syslog(LOG_AUTHPRIV | LOG_CRIT, "%s: namespaced logins are refused; root gets a plain shell", why);
	fprintf(stderr, "ns-shell: %s: root gets a plain shell\n", why);
	if (ns_config_load_string("", "built-in", ret_cfg, &none) < 0)
		fail("out of memory");
	if (ns_policy_lookup(*ret_cfg, l->user, l->uid, l->gid, ret, &err) < 0)
		fail("%s", err.msg);
}

/* ns.conf could not be loaded (R, ERRS): say so where the caller may see
 * it. Only root in the initial user namespace goes on, with the built-in
 * config in *ret_cfg and its policy in *ret. */
static void config_not_valid(const struct login *l, int r, const struct ns_errlist *errs,
			     struct ns_config **ret_cfg, struct ns_user_policy *ret)
{
	/* Content errors quote the file: show them only to a caller who
	 * may read it anyway (access() checks the real uid); errors about
	 * the file itself (owner, mode, type) quote nothing. Syslog gets all. */
	bool may_read = access(NS_CONF_PATH, R_OK) == 0 || r != -EINVAL;
	for (size_t i = 0; i < errs->n; i++) {
		if (may_read)
			fprintf(stderr, "ns-shell: %s\n", errs->line[i]);
		syslog(LOG_AUTHPRIV | LOG_ERR, "%s", errs->line[i]);
	}
	if (errs->dropped && may_read)
		fprintf(stderr, "ns-shell: ... and %zu more errors\n", errs->dropped);
	if (l->uid != 0 || !ns_initial_userns()) {
		if (!may_read)
			fail("refusing to start a login: %s is not valid (details in the system log)", NS_CONF_PATH);
		fail("refusing to start a login: %s is not valid", NS_CONF_PATH);
	}
	root_plain_shell(l, NS_CONF_PATH " is not valid", ret_cfg, ret);
}

/* The config (kept for the whole login: l->g points into it), exemption
 * and policy of the caller. */
static struct ns_config *load_policy(struct login *l)
{
	struct ns_errlist errs;
	struct ns_err err = { 0 };
	struct ns_config *cfg = NULL;
	_cleanup_user_policy_ struct ns_user_policy up = { 0 };
	int r = ns_policy_for(NS_CONF_PATH, l->user, l->uid, l->gid, &cfg, &up, &errs, &err);
	if (r < 0 && errs.n == 0 && (l->uid != 0 || !ns_initial_userns()))
		fail("%s", err.msg);   /* the groups, not the config */
	if (r < 0 && errs.n == 0)
		root_plain_shell(l, err.msg, &cfg, &up);
	else if (r < 0)
		config_not_valid(l, r, &errs, &cfg, &up);
	l->g = ns_config_globals(cfg);
	l->exempt = up.exempt;
	l->policy = up.policy;
	return cfg;
}

/* The supplementary groups ns-shell was started with, kept for every
 * drop: what sshd, su, login or cron gave this login (initgroups, plus
 * pam_group's). Nobody can add to them or drop one without privilege, and
 * asking NSS again (getgrouplist loads every module nsswitch.conf lists,
 * libnss_systemd with its userdb walk on Debian) cost 1.7 ms a login. */
static void caller_groups(struct login *l)
{
	int n = getgroups(0, NULL);
	gid_t *gids = n >= 0 ? calloc((size_t)n + 1, sizeof(gid_t)) : NULL;
	if (!gids || (n = getgroups(n, gids)) < 0)
		fail("cannot read the groups this login was started with: %s", strerror(errno));
	l->gids = gids;
	l->n_gids = (size_t)n;
}

/* Decided once, before anything is made: no group 0 among the login's
 * groups (the drop would refuse it in three processes), and a user whom
 * group 0's entry lists is refused even when started without it. */
static void refuse_group0(const struct login *l)
{
	for (size_t i = 0; i < l->n_gids; i++)
		if (l->gids[i] == 0)
			fail("refusing to start a login for %s: member of group 0", l->user);
	int r = ns_group_lists_user(0, l->user);
	if (r < 0)
		fail("cannot read group 0: %s", strerror(-r));
	if (r > 0)
		fail("refusing to start a login for %s: member of group 0", l->user);
}

/* Step: the network namespace. Pre: root, still in the inherited netns.
 * `host`: nothing. Otherwise the inherited namespace is accepted only if a
 * root-owned live session record of this uid names its inode; `isolated`
 * without such a record gets a fresh loopback-only namespace; `bridge`
 * without one is refused: only pam_ns.so can plug a login into the bridge. */
/* Before any unshare, in the host's PID namespace: make sure this boot's
 * host record exists ($(state_dir)/host), so that the first pam_ns of a
 * boot can never be one inside a login (docs/DESIGN.md "Runtime state").
 * A failure here only weakens that record: logged, not fatal. */
static void note_host(const struct login *l, bool netns_is_host)
{
	struct ns_err err = { 0 };
	if (ns_host_note(l->g->state_dir, netns_is_host, &err) < 0)
		syslog(LOG_AUTHPRIV | LOG_WARNING, "%s", err.msg);
}

static void step_network(struct login *l)
{
	dev_t dev, host_dev;
	ino_t ino, host_ino;
	/* pam_ns.so skips such a login too: no network namespace of its own. */
	if (l->policy.network == NS_NET_HOST || !(l->policy.clone_flags & CLONE_NEWNET)) {
		note_host(l, true);
		return;
	}
	if (ns_netns_id(0, &dev, &ino) < 0 || ns_netns_id(1, &host_dev, &host_ino) < 0)
		fail("cannot identify the network namespace");
	bool in_host = dev == host_dev && ino == host_ino;
	/* The caller's NS_SHELL_SESSION (set by pam_ns, passed on by sshd or
	 * su) picks its own among the user's sessions in this namespace. */
	const char *said = l->said_sid[0] ? l->said_sid : NULL;
	if (!in_host && ns_session_find_netns(l->g->state_dir, l->uid, dev, ino, said, &l->rec) == 0)
		l->have_rec = true;
	if (!l->have_rec && (l->policy.network == NS_NET_BRIDGE || l->policy.network == NS_NET_ROUTED)) {
		/* Run inside a login, our /proc is the login's: its PID 1 (the
		 * reaper) shares our network namespace and it looks like the host. */
		struct ns_err nested = { 0 };
		if (ns_host_nested(l->g->state_dir, &nested) > 0)
			fail("%s", nested.msg);
		if (in_host)
			fail("network = %s for %s, but the login is in the host's network namespace: "
			     "is pam_ns.so in this service's PAM session stack?", ns_network_name(l->policy.network),
			     l->user);
		fail("the network namespace of this login was not made by pam_ns.so for %s", l->user);
	}
	/* A network namespace pam_ns made is the user's; otherwise we are
	 * still in the one we were started in. */
	note_host(l, !l->have_rec);
	if (l->have_rec)
		return;
	/* isolated */
	struct ns_err err = { 0 };
	if (unshare(CLONE_NEWNET) < 0)
		fail("creating a network namespace: %s", strerror(errno));
	if (ns_lo_up(&err) < 0)
		fail("%s", err.msg);
}

/* Steps in the outer process, root: new PID/IPC/mount/UTS namespaces,
 * private mount tree, hostname. Order: the mount tree must be private
 * before anything is mounted (in the child). */
static void step_unshare(struct login *l)
{
	struct ns_err err = { 0 };
	int flags = (int)(l->policy.clone_flags & ~(unsigned)CLONE_NEWNET);
	if (flags && unshare(flags) < 0)
		fail("creating namespaces: %s", strerror(errno));
	if ((flags & CLONE_NEWNS) && ns_mount_make_private(&err) < 0)
		fail("%s", err.msg);
	if (flags & CLONE_NEWUTS) {
		char host[65] = "";
		gethostname(host, sizeof(host) - 1);
		memcpy(l->host_name, host, sizeof(l->host_name));
		host[strcspn(host, ".")] = '\0';
		if (ns_hostname_expand(l->policy.hostname, l->user, host,
				       l->have_rec ? l->rec.sid : NULL, l->hostname, sizeof(l->hostname)) < 0)
			fail("bad hostname template");
		if (ns_set_hostname(l->hostname, &err) < 0)
			fail("%s", err.msg);
	}
}

/* sshd's agent-forwarding directories of this user (/tmp/ssh-XXXXXXXXXX,
 * made by sshd as the user, mode 0700, before it runs the login shell).
 * A private /tmp would hide them and leave SSH_AUTH_SOCK pointing at
 * nothing, so they are carried over into the fresh /tmp. Found by listing
 * /tmp, never from the environment; only directories the user owns and only
 * through descriptors opened without following links. Best effort. */
#define AGENT_DIRS_MAX 16
struct agent_dirs {
	int fd[AGENT_DIRS_MAX];
	char name[AGENT_DIRS_MAX][16];
	size_t n;
};

static void agent_dirs_open(uid_t uid, struct agent_dirs *a)
{
	a->n = 0;
	DIR *d = opendir("/tmp");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && a->n < AGENT_DIRS_MAX) {
		struct stat st;
		if (strncmp(e->d_name, "ssh-", 4) != 0 || strlen(e->d_name) != 14)
			continue;
		int fd = openat(dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || st.st_uid != uid || (st.st_mode & 07777) != 0700) {
			close(fd);
			continue;
		}
		a->fd[a->n] = fd;
		memcpy(a->name[a->n], e->d_name, 15);
		a->name[a->n][15] = '\0';
		a->n++;
	}
	closedir(d);
}

/* The user's /tmp may be shared with her other logins, which write to it
 * right now: the mount point is made and opened without following links,
 * checked hers (or just made by us), and the mount goes onto that very
 * directory (/proc/self/fd), never onto a path she could swap. */
static void agent_dir_bind_one(const struct login *l, int tmp, int src_fd, const char *name)
{
	char src[64], dst[64];
	struct stat st;
	bool made = mkdirat(tmp, name, 0700) == 0;
	_cleanup_close_ int d = openat(tmp, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0 || fstat(d, &st) < 0)
		return;
	if (made && st.st_uid == 0 && fchownat(d, "", l->uid, l->gid, AT_EMPTY_PATH) == 0)
		st.st_uid = l->uid;
	if (st.st_uid != l->uid)
		return;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", src_fd);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", d);
	(void)mount(src, dst, NULL, MS_BIND, NULL);
}

static void agent_dirs_bind(const struct login *l, struct agent_dirs *a)
{
	_cleanup_close_ int tmp = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < a->n; i++) {
		if (tmp >= 0)
			agent_dir_bind_one(l, tmp, a->fd[i], a->name[i]);
		close(a->fd[i]);
	}
	a->n = 0;
}

/* Before anything is unshared, in the host's mount namespace: where the
 * user's private /tmp may live already (her other logins, lingering ones
 * included), and which device is the host's /tmp. */
static void find_user_tmp(struct login *l)
{
	struct stat st;
	l->n_tmp_from = 0;
	if (!l->policy.private_tmp || !(l->policy.clone_flags & CLONE_NEWNS))
		return;
	if (stat("/tmp", &st) < 0)
		fail("cannot stat /tmp: %s", strerror(errno));
	l->host_tmp_dev = st.st_dev;
	int n = ns_login_open_mntns(l->g->state_dir, l->uid, l->tmp_from, ARRAY_SIZE(l->tmp_from));
	l->n_tmp_from = n > 0 ? n : 0;
}

/* The user's /tmp: the one her other logins share, else a fresh tmpfs. */
static void mount_user_tmp(struct login *l)
{
	struct ns_err err = { 0 };
	int rc = -ENOENT;
	for (int i = 0; i < l->n_tmp_from; i++) {
		if (rc == -ENOENT)
			rc = ns_mount_tmp_join(l->tmp_from[i], l->host_tmp_dev, &err);
		close(l->tmp_from[i]);
	}
	l->n_tmp_from = 0;
	if (rc < 0 && rc != -ENOENT)
		fail("%s", err.msg);
	if (rc == -ENOENT && ns_mount_tmpfs("/tmp", &err) < 0)
		fail("%s", err.msg);
}

/* Steps in PID 1 of the new PID namespace, root, private mount tree. */
static void step_mounts(struct login *l)
{
	struct ns_err err = { 0 };
	unsigned f = l->policy.clone_flags;
	if (!(f & CLONE_NEWNS))
		return;
	if ((f & CLONE_NEWPID) && ns_mount_proc(&err) < 0)
		fail("%s", err.msg);
	if (ns_mount_sys(&err) < 0)
		fail("%s", err.msg);
	if ((f & CLONE_NEWIPC) && ns_mount_mqueue(&err) < 0)
		fail("%s", err.msg);
	if (l->policy.private_shm && ns_mount_tmpfs("/dev/shm", &err) < 0)
		fail("%s", err.msg);
	if (l->policy.private_tmp) {
		struct agent_dirs agents;
		agent_dirs_open(l->uid, &agents);
		mount_user_tmp(l);
		agent_dirs_bind(l, &agents);
	}
	if (l->have_rec) {
		/* resolv.conf from the policy's dns, then /etc/netns/<name>/ (wins). */
		int fd = ns_netns_resolv_open(l->g->state_dir, l->rec.netns);
		if (fd >= 0 && ns_mount_bind_fd(fd, "/etc/resolv.conf", &err) < 0)
			fail("%s", err.msg);
		if (fd >= 0)
			close(fd);
		if (ns_mount_netns_etc(l->rec.netns, &err) < 0)
			fail("%s", err.msg);
	}
}

static void drop(const struct login *l)
{
	struct ns_err err = { 0 };
	struct ns_ident id = { l->uid, l->gid, l->user, l->gids, l->n_gids };
	if (ns_priv_drop(&id, &err) < 0)
		fail("%s", err.msg);
	prctl(PR_SET_DUMPABLE, 0);
}

/* The shell's start, prepared as the user (environment, argv), then
 * carried out by shell_exec: system calls only, because in a login it runs
 * in a vfork() child that shares the reaper's memory until the exec. */
struct shell_exec {
	const char *path, *home;
	const char *argv[4];
	char arg0[300];
	char **env;
	const char *failed;       /* the step that failed, */
	const char *object;       /* on what (NULL: nothing to name), */
	int err;                  /* and its errno */
};

static void shell_prepare(const struct login *l, struct shell_exec *x)
{
	struct ns_env_ids ids = {
		.home = l->home, .user = l->user, .shell = l->policy.shell, .path = DEFAULT_PATH,
		.session = l->have_rec ? l->rec.sid : NULL,
	};
	memset(x, 0, sizeof(*x));
	x->path = l->policy.shell;
	x->home = l->home;
	if (access(l->home, X_OK) < 0) {   /* as the user, before the shell starts */
		fprintf(stderr, "ns-shell: warning: cannot enter home directory %s (%s); starting in /\n",
			l->home, strerror(errno));
		x->home = "/";
	}
	if (ns_env_build(l->saved_env, &ids, &x->env) < 0)
		fail("out of memory");
	if (ns_shell_argv(l->policy.shell, &l->inv, x->arg0, sizeof(x->arg0), x->argv) < 0)
		fail("bad shell path %s", l->policy.shell);
}

/* Home, descriptors, umask, file size limit, exec. Returns only when a
 * step failed (X->failed, X->err). */
static void shell_exec(struct shell_exec *x)
{
	if (chdir(x->home) < 0 && chdir("/") < 0) {
		x->failed = "cannot enter";
		x->object = "/";
		x->err = errno;
		return;
	}
	ns_close_fds_from(3);
	umask(caller_umask);
	if (ns_fsize_restore(&caller_fsize) < 0 || setrlimit(RLIMIT_NPROC, &caller_nproc) < 0) {
		x->failed = "cannot restore the caller's limits";
		x->err = errno;
		return;
	}
	execve(x->path, (char *const *)x->argv, x->env);
	x->failed = "cannot run";
	x->object = x->path;
	x->err = errno;
}

/* After shell_exec returned (a step failed), in the process that can
 * still write and log. */
static void shell_failed(const struct shell_exec *x) __attribute__((noreturn));
static void shell_failed(const struct shell_exec *x)
{
	fail("%s%s%s: %s", x->failed, x->object ? " " : "", x->object ? x->object : "", strerror(x->err));
}

static int status_to_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/* ^C and ^\ on the terminal: the kernel sent the signal to the whole
 * foreground process group, which holds the shell (or the shell's own
 * foreground job holds the terminal and we got nothing). Forwarding it
 * would deliver it a second (and third) time. */
static bool from_keyboard(const siginfo_t *si)
{
	return (si->si_signo == SIGINT || si->si_signo == SIGQUIT) && si->si_code == SI_KERNEL;
}

/* Wait for CHILD, forwarding the login signals to it; reap anything else
 * (we may be PID 1 or a subreaper). Returns CHILD's exit code. */
static int forward_and_wait(pid_t child, const sigset_t *set)
{
	for (;;) {
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == child)
				return status_to_code(st);
		if (p < 0 && errno == ECHILD)
			return 1;
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		if (sig > 0 && sig != SIGCHLD && !from_keyboard(&si))
			kill(child, sig);
	}
}

static void noop_handler(int sig) { (void)sig; }

/* The outer process: forward signals to the reaper until the shell's exit
 * code arrives (STATUS_FD), or the reaper itself ends. With linger the
 * reaper outlives the shell: the login (and its PAM session) ends with the
 * shell, not with the last process. */
static int outer_wait(pid_t reaper, const sigset_t *set, int status_fd, bool linger)
{
	int sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0)
		return forward_and_wait(reaper, set);
	for (;;) {
		int st;
		if (waitpid(reaper, &st, WNOHANG) == reaper)
			return status_to_code(st);
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = status_fd, .events = POLLIN } };
		if (poll(p, status_fd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (status_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			unsigned char c;
			ssize_t n = read(status_fd, &c, 1);
			if (n == 1 && linger)
				return c;   /* the reaper lives on with what the login left */
			close(status_fd);   /* otherwise it is ending: reap it, then report */
			status_fd = -1;
		}
		struct signalfd_siginfo si;
		if ((p[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
		    si.ssi_signo != SIGCHLD &&
		    !((si.ssi_signo == SIGINT || si.ssi_signo == SIGQUIT) && si.ssi_code == SI_KERNEL))
			kill(reaper, (int)si.ssi_signo);
	}
}

/* PID 1 of the login: mounts and filter as root, then starts the shell,
 * drops to the user and reaps until the shell exits. */
/* As the user: with a forwarded X11 display (DISPLAY) and a host name of
 * the login's own, make sshd's cookie (filed under the host's name) findable
 * under the login's name too. Failures only cost the X11 forwarding. */
static void x11_cookie_alias(const struct login *l)
{
	bool display = false;
	for (char **e = l->saved_env; e && *e; e++)
		display |= strncmp(*e, "DISPLAY=", 8) == 0;
	if (!display || !l->host_name[0] || !l->hostname[0])
		return;
	char path[4200];
	if (snprintf(path, sizeof(path), "%s/.Xauthority", l->home) < (int)sizeof(path))
		ns_xauth_alias(AT_FDCWD, path, l->host_name, l->hostname);
}

/* The login's pipes between the outer process and the reaper. */
struct reaper_pipes {
	int alive;       /* reaper's end: POLLHUP once the outer process is gone */
	int go;          /* reaper's end: one byte once the outer recorded it */
	int status;      /* reaper's end: the shell's exit code, when it exits */
};

/* linger = true: the shell is gone; stay PID 1 (or subreaper) while any
 * process of the login remains, so that tmux, screen, nohup and setsid
 * jobs live on; the namespaces go with the last of them. */
static void linger_on(int code) __attribute__((noreturn));
static void linger_on(int code)
{
	/* PR_SET_PDEATHSIG is off already: the outer process exits now. */
	/* Let go of the login's terminal and pipes: sshd waits for their EOF. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; null >= 0 && fd <= 2; fd++)
		dup2(null, fd);
	if (null > 2)
		close(null);
	for (;;) {
		pid_t p = waitpid(-1, NULL, 0);
		if (p < 0 && errno == ECHILD)
			_exit(code);
	}
}

/* In the reaper: the user from here on, so the shell is never root, not
 * even between fork and exec. vfork, not fork: copying the reaper's page
 * tables for a child that only execs cost 1.5 ms of a 15.7 ms login here.
 * The child makes system calls only (shell_exec), on its own descriptor
 * table, cwd, umask and signal state; all it writes of ours is X. */
static pid_t start_shell(const struct login *l)
{
	drop(l);
	x11_cookie_alias(l);
	struct shell_exec x;
	shell_prepare(l, &x);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	sigemptyset(&none);
	pid_t shell = vfork();
	if (shell == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
			sigaction(forwarded[i], &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		shell_exec(&x);
		_exit(1);
	}
	if (shell < 0 && errno == EAGAIN)
		fail("cannot start the shell of %s: the process limit (RLIMIT_NPROC) is reached", l->user);
	if (shell < 0)
		fail("cannot start the shell: %s", strerror(errno));
	if (x.failed)   /* the child's, written before its _exit */
		shell_failed(&x);
	return shell;
}

static void run_reaper(struct login *l, const struct reaper_pipes *rp) __attribute__((noreturn));
static void run_reaper(struct login *l, const struct reaper_pipes *rp)
{
	struct ns_err err = { 0 };
	sigset_t set;
	char go;

	/* Wait until the outer process has recorded us (it reads our start
	 * time from the /proc that step_mounts replaces). End of file instead
	 * of the byte: it died first (e.g. killed by the user), so no record
	 * exists and no login may run unrecorded. */
	ssize_t got;
	while ((got = read(rp->go, &go, 1)) < 0 && errno == EINTR)
		;
	if (got != 1)
		_exit(1);
	close(rp->go);
	step_mounts(l);
	if (ns_seccomp_no_tiocsti(&err) < 0)
		fail("%s", err.msg);

	/* A PID 1 only receives signals it has a handler for. */
	struct sigaction sa = { .sa_handler = noop_handler };
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &sa, NULL);
	block_signals(&set);

	pid_t shell = start_shell(l);
	/* pdeathsig is cleared by the credential change: set it after. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct pollfd pfd = { .fd = rp->alive, .events = POLLIN };
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
		_exit(1);  /* the outer process is gone already */
	close(rp->alive);
	int code = forward_and_wait(shell, &set);
	if (l->policy.linger)   /* before the outer process hears of it and exits */
		prctl(PR_SET_PDEATHSIG, 0);
	unsigned char c = (unsigned char)code;
	if (write(rp->status, &c, 1) < 0) { /* the outer is gone: nothing to tell */ }
	close(rp->status);
	if (l->policy.linger)
		linger_on(code);
	_exit(code);
}

static void print_check(const struct login *l)
{
	printf("user         = %s (uid %u)\n", l->user, (unsigned)l->uid);
	printf("config       = %s\n", NS_CONF_PATH);
	printf("exempt       = %s\n", l->exempt ? "yes" : "no");
	ns_policy_print(stdout, &l->policy);
}

/* Arguments: --version, --help and a bad command line end here; a login
 * and --check go on. */
static void parse_invocation(struct login *l, int argc, char **argv)
{
	if (ns_invocation_parse(argc, argv, l->ssh_command, &l->inv) < 0) {
		usage(stderr);
		exit(2);
	}
	if (l->inv.mode == NS_MODE_VERSION) {
		printf("ns-shell %s\n", NS_VERSION);
		exit(0);
	}
	if (l->inv.mode == NS_MODE_HELP) {
		usage(stdout);
		exit(0);
	}
}

/* --check and exempt logins: as the user (root is already root: nothing
 * to drop, and ns_priv_drop refuses uid 0). */
static int run_check(struct login *l)
{
	if (l->uid != 0)
		drop(l);
	print_check(l);
	return 0;
}

static void run_plain_shell(struct login *l) __attribute__((noreturn));
static void run_plain_shell(struct login *l)
{
	syslog(LOG_AUTHPRIV | LOG_INFO, "%s (uid %u) is exempt: plain shell", l->user, (unsigned)l->uid);
	if (l->uid != 0)
		drop(l);
	struct shell_exec x;
	shell_prepare(l, &x);
	closelog();
	shell_exec(&x);
	shell_failed(&x);
}

/* A namespaced login: the steps as root in the outer process, then PID 1
 * of the new PID namespace (run_reaper) starts the shell; this process
 * drops to the user and waits for it. */
/* As root, before the reaper mounts its /proc: a record of the reaper
 * beside pam_ns's record of the session (docs/DESIGN.md "Runtime state").
 * Its owner, the reaper, lives while anything of this login runs, so the
 * namespace, its address and veth count as in use for exactly as long,
 * after the PAM session closed too; the next login joins it. */
static void record_reaper(const struct login *l, pid_t reaper)
{
	if (!l->have_rec)
		return;   /* a namespace of ns-shell's own (isolated): nobody joins it */
	ns_session_reap_logins(l->g->state_dir, l->uid, l->rec.netns_dev, l->rec.netns_ino);
	struct ns_session_rec r = l->rec;
	struct ns_err err = { 0 };
	memcpy(r.session, l->rec.sid, sizeof(r.session));
	r.linger = l->policy.linger;
	r.owner_pid = reaper;
	r.owner_pidns = ns_pidns_self();
	r.opened = (long long)time(NULL);
	int rc = ns_proc_start_time(reaper, &r.owner_start);
	for (int i = 0; rc == 0 && i < 16; i++) {
		struct ns_session_rec old;
		if ((rc = ns_sid_random(r.sid)) == 0 && ns_session_read(l->g->state_dir, r.sid, &old) == -ENOENT)
			break;
		rc = i == 15 ? -EEXIST : 0;
	}
	if (rc == 0)
		rc = ns_session_write(l->g->state_dir, &r, &err);
	if (rc < 0) {
		kill(reaper, SIGKILL);
		fail("recording the login: %s", err.msg[0] ? err.msg : strerror(-rc));
	}
}

static int run_login(struct login *l)
{
	if (l->gid == 0)
		fail("refusing to run a login with gid 0 (%s): list it in exempt_users", l->user);
	if (geteuid() != 0)
		fail("not running as root: ns-shell must be installed setuid root (mode 4755, owner root)");
	refuse_group0(l);
	step_network(l);
	find_user_tmp(l);
	step_unshare(l);

	int alive[2], go[2], status[2];
	if (pipe2(alive, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	sigset_t set;
	block_signals(&set);
	pid_t child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		struct reaper_pipes rp = { alive[0], go[0], status[1] };
		close(alive[1]);
		close(go[1]);
		close(status[0]);
		if (!(l->policy.clone_flags & CLONE_NEWPID))
			prctl(PR_SET_CHILD_SUBREAPER, 1);
		run_reaper(l, &rp);
	}
	close(alive[0]);
	close(go[0]);
	close(status[1]);
	for (int i = 0; i < l->n_tmp_from; i++)
		close(l->tmp_from[i]);
	record_reaper(l, child);
	if (write(go[1], "g", 1) != 1)
		fail("starting the login: %s", strerror(errno));
	close(go[1]);
	syslog(LOG_AUTHPRIV | LOG_INFO, "login of %s (uid %u): session %s, network %s", l->user,
	       (unsigned)l->uid, l->have_rec ? l->rec.sid : "-", ns_network_name(l->policy.network));
	drop(l);
	return outer_wait(child, &set, status[0], l->policy.linger);
}

int main(int argc, char **argv)
{
	static struct login l;
	sanitize_process();
	set_environment_aside(&l);
	openlog("ns-shell", LOG_PID, LOG_AUTHPRIV);
	prctl(PR_SET_DUMPABLE, 0);
	parse_invocation(&l, argc, argv);

	load_identity(&l);
	caller_groups(&l);
	struct ns_config *cfg = load_policy(&l);   /* lives as long as the login: l.g */
	(void)cfg;
	if (!l.exempt && !ns_user_name_valid(l.user))
		fail("user name of uid %u cannot name a namespace (%s)", (unsigned)l.uid, NS_USER_NAME_RULE);
	if (l.inv.mode == NS_MODE_CHECK)
		return run_check(&l);
	if (l.exempt)
		run_plain_shell(&l);
	return run_login(&l);
}
