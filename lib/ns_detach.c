/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_detach.c — a clean root process out of a login's child (ns_detach.h).
 *
 * Invariants:
 *  1. The ids go first: once real, effective and saved uid are 0, the
 *     user can no longer signal the process (SIGCONT from her session
 *     neither: setsid follows).
 *  2. Nothing the caller inherited from the user survives: limits are set
 *     to fixed values (not "raised where low"), dispositions and mask are
 *     reset, scheduling, affinity and cgroups are the host's.
 *  3. Any failure is returned: a caller never runs on half reset. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>

#include "ns_detach.h"

#define MIB (1024UL * 1024UL)

static const struct {
	int resource;
	const char *name;
	rlim_t cur, max;
} limits[] = {
	{ RLIMIT_CPU, "CPU", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_FSIZE, "FSIZE", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_DATA, "DATA", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_STACK, "STACK", 8 * MIB, RLIM_INFINITY },
	{ RLIMIT_CORE, "CORE", 0, RLIM_INFINITY },
	{ RLIMIT_RSS, "RSS", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_NPROC, "NPROC", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_NOFILE, "NOFILE", 1024, 4096 },
	{ RLIMIT_MEMLOCK, "MEMLOCK", 8 * MIB, 8 * MIB },
	{ RLIMIT_AS, "AS", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_LOCKS, "LOCKS", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_SIGPENDING, "SIGPENDING", RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", 819200, 819200 },
	{ RLIMIT_NICE, "NICE", 0, 0 },
	{ RLIMIT_RTPRIO, "RTPRIO", 0, 0 },
	{ RLIMIT_RTTIME, "RTTIME", RLIM_INFINITY, RLIM_INFINITY },
};

static void signals_default(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	/* SIG_IGN first discards what is pending (a SIGTERM the user sent
	 * while the caller blocked everything), then unblock, then default. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &ign, NULL);     /* EINVAL for libc's own: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
}

/* Write "0" to DIR/cgroup.procs: 1 joined, 0 not there, or -errno. */
static int join_one(const char *dir)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT || errno == ENODEV || errno == EROFS || errno == ENOTDIR ? 0 : -errno;
	int r = ns_write_all(fd, "0", 1);
	close(fd);
	if (r == -EROFS || r == -ENODEV)
		return 0;
	return r < 0 ? r : 1;
}

/* Join HIERARCHY (a directory name under ROOT) at PATH; ALT: a second
 * directory name to try when the first is not mounted. */
static int join_at(const char *root, const char *hierarchy, const char *alt, const char *path)
{
	char dir[PATH_MAX];
	const char *rel = strcmp(path, "/") == 0 ? "" : path;
	for (int i = 0; i < 2; i++) {
		const char *h = i == 0 ? hierarchy : alt;
		if (!h)
			break;
		if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s%s", root, *h ? "/" : "", h, rel) >= sizeof(dir))
			return -ENAMETOOLONG;
		int r = join_one(dir);
		if (r != 0)
			return r;
	}
	return 0;
}

int ns_detach_join_cgroups(const char *proc_cgroup, const char *root, struct ns_err *err)
{
	FILE *f = fopen(proc_cgroup, "re");
	if (!f)
		return errno == ENOENT ? 0 : ns_fail(err, -errno, "%s: %s", proc_cgroup, strerror(errno));
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	int joined = 0, r = 0;
	while (r >= 0 && (n = getline(&line, &size, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *ctl = strchr(line, ':');
		char *path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path)
			continue;
		*ctl++ = '\0';
		*path++ = '\0';
		if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
			continue;          /* not a path we would make from the kernel's line */
		char first[64] = "";
		r = 0;
		if (!*ctl) {
			r = join_at(root, "", "unified", path);
		} else if (strncmp(ctl, "name=", 5) == 0) {
			if (!strchr(ctl + 5, '/'))
				r = join_at(root, ctl + 5, NULL, path);
		} else if (!strchr(ctl, '/')) {
			size_t len = strcspn(ctl, ",");
			if (ctl[len] == ',' && len < sizeof(first)) {
				memcpy(first, ctl, len);
				first[len] = '\0';
			}
			r = join_at(root, ctl, first[0] ? first : NULL, path);
		}
		if (r < 0)
			ns_fail(err, r, "joining PID 1's cgroup %s:%s under %s: %s", ctl, path, root, strerror(-r));
		else
			joined += r;
	}
	free(line);
	fclose(f);
	return r < 0 ? r : joined;
}

static int write_proc(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = ns_write_all(fd, value, strlen(value));
	close(fd);
	return r;
}

int ns_detach_reset(struct ns_err *err)
{
	int r;
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return ns_fail(err, -errno, "becoming root for good: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		struct rlimit rl = { limits[i].cur, limits[i].max }, old;
		if (setrlimit(limits[i].resource, &rl) == 0)
			continue;
		/* EPERM: root without CAP_SYS_RESOURCE (some containers) cannot
		 * raise a hard limit; go as far as the hard limit allows. */
		if (errno == EPERM && getrlimit(limits[i].resource, &old) == 0) {
			rl.rlim_max = old.rlim_max;
			if (rl.rlim_cur > rl.rlim_max)
				rl.rlim_cur = rl.rlim_max;
			if (setrlimit(limits[i].resource, &rl) == 0)
				continue;
		}
		return ns_fail(err, -errno, "setting RLIMIT_%s: %s", limits[i].name, strerror(errno));
	}
	signals_default();
	if (setsid() < 0 && errno != EPERM)      /* EPERM: a group leader already */
		return ns_fail(err, -errno, "setsid: %s", strerror(errno));
	if ((r = ns_detach_join_cgroups("/proc/1/cgroup", "/sys/fs/cgroup", err)) < 0)
		return r;
	struct sched_param sp = { .sched_priority = 0 };
	if (sched_setscheduler(0, SCHED_OTHER, &sp) < 0)
		return ns_fail(err, -errno, "setting SCHED_OTHER: %s", strerror(errno));
	if (setpriority(PRIO_PROCESS, 0, 0) < 0)
		return ns_fail(err, -errno, "setting nice 0: %s", strerror(errno));
	/* IOPRIO_WHO_PROCESS, this process, class NONE (follows nice) */
	if (syscall(SYS_ioprio_set, 1, 0, 0) < 0 && errno != ENOSYS)
		return ns_fail(err, -errno, "resetting the I/O priority: %s", strerror(errno));
	/* All bits set: the kernel keeps those of CPUs that exist and that the
	 * (now PID 1's) cpuset allows. */
	cpu_set_t *cpus = CPU_ALLOC(CPU_SETSIZE * 8);
	size_t cpus_size = CPU_ALLOC_SIZE(CPU_SETSIZE * 8);
	if (!cpus)
		return ns_fail(err, -ENOMEM, "CPU affinity: out of memory");
	memset(cpus, 0xff, cpus_size);
	r = sched_setaffinity(0, cpus_size, cpus) < 0 ? -errno : 0;
	CPU_FREE(cpus);
	if (r < 0)
		return ns_fail(err, r, "setting the CPU affinity to all CPUs: %s", strerror(-r));
	if ((r = write_proc("/proc/self/oom_score_adj", "0")) < 0)
		return ns_fail(err, r, "resetting oom_score_adj: %s", strerror(-r));
	umask(022);
	return 0;
}
