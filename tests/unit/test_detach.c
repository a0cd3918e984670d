/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_detach.c — ns_detach_reset (a clean root process out of what a
 * user's su hands down) and ns_detach_join_cgroups (on a mock cgroup tree).
 * The reset test needs root and runs in a forked child inside a private
 * mount namespace with an empty tmpfs over /sys/fs/cgroup, so the child
 * never joins a real cgroup of the machine; skipped without root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns_detach.h"
#include "ns_util.h"

#define SKIP 77

static char tmp[64];

static void put_file(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	for (char *s = strchr(p + strlen(tmp) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get_file(const char *rel)
{
	static char buf[64];
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_detach.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ cgroups */

static void test_join_cgroups(void **state)
{
	(void)state;
	char root[128], proc[128];
	snprintf(root, sizeof(root), "%s/cg", tmp);
	snprintf(proc, sizeof(proc), "%s/proc-1-cgroup", tmp);
	/* A hybrid host: v2 only under unified/, v1 freezer, cpu and cpuacct
	 * mounted apart, a named systemd hierarchy, devices not mounted. */
	put_file("cg/unified/init.scope/cgroup.procs", "");
	put_file("cg/freezer/cgroup.procs", "");
	put_file("cg/cpu/sys/cgroup.procs", "");
	put_file("cg/systemd/init.scope/cgroup.procs", "");
	put_file("cg/memory/a/b/cgroup.procs", "");
	put_file("proc-1-cgroup",
		 "9:name=systemd:/init.scope\n"
		 "6:freezer:/\n"
		 "5:devices:/\n"
		 "2:cpu,cpuacct:/sys\n"
		 "4:memory:/a/b\n"
		 "no colons here\n"
		 "7:pids:relative\n"
		 "8:blkio:/x/../y\n"
		 "0::/init.scope\n");
	struct ns_err e = { 0 };
	assert_int_equal(ns_detach_join_cgroups(proc, root, &e), 5);
	assert_string_equal(get_file("cg/unified/init.scope/cgroup.procs"), "0");
	assert_string_equal(get_file("cg/freezer/cgroup.procs"), "0");
	assert_string_equal(get_file("cg/cpu/sys/cgroup.procs"), "0");
	assert_string_equal(get_file("cg/systemd/init.scope/cgroup.procs"), "0");
	assert_string_equal(get_file("cg/memory/a/b/cgroup.procs"), "0");

	/* pure v2: ROOT/PATH itself */
	put_file("cg2/cgroup.procs", "");
	put_file("proc-1-cgroup", "0::/\n");
	snprintf(root, sizeof(root), "%s/cg2", tmp);
	assert_int_equal(ns_detach_join_cgroups(proc, root, &e), 1);
	assert_string_equal(get_file("cg2/cgroup.procs"), "0");

	/* nothing mounted, no file: nothing to join, no error */
	snprintf(root, sizeof(root), "%s/none", tmp);
	assert_int_equal(ns_detach_join_cgroups(proc, root, &e), 0);
	snprintf(proc, sizeof(proc), "%s/no-such-file", tmp);
	assert_int_equal(ns_detach_join_cgroups(proc, root, &e), 0);

	/* a real failure is reported with the hierarchy and path */
	snprintf(root, sizeof(root), "%s/cg3", tmp);
	put_file("cg3/freezer/x/cgroup.procs/file", "");   /* cgroup.procs is a directory */
	put_file("proc-1-cgroup", "6:freezer:/x\n");
	snprintf(proc, sizeof(proc), "%s/proc-1-cgroup", tmp);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ns_detach_join_cgroups(proc, root, &e), -EISDIR);
	assert_non_null(strstr(e.msg, "freezer:/x"));
}

/* -------------------------------------------------------------- reset */

static int child_reset(void)
{
	/* What a user can hand down through a setuid su: her real ids and
	 * groups, nice 19, SCHED_IDLE, one CPU, tiny limits, blocked and
	 * ignored signals with one pending, a high oom_score_adj, umask 077. */
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("none", "/sys/fs/cgroup", "tmpfs", 0, NULL) < 0)
		return SKIP;
	gid_t g = 65534;
	if (setgroups(1, &g) < 0 || setresgid(65534, 0, 65534) < 0 || setresuid(65534, 0, 65534) < 0)
		return 10;
	struct sched_param sp = { 0 };
	if (sched_setscheduler(0, SCHED_IDLE, &sp) < 0 || setpriority(PRIO_PROCESS, 0, 19) < 0)
		return 11;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		return 12;
	/* Soft limits always; hard ones too where root can raise them again
	 * (CAP_SYS_RESOURCE: not in every container). */
	bool hard = prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE) == 1;
	struct rlimit fsize, files, cpu;
	getrlimit(RLIMIT_FSIZE, &fsize);
	getrlimit(RLIMIT_NOFILE, &files);
	getrlimit(RLIMIT_CPU, &cpu);
	fsize.rlim_cur = 1;
	files.rlim_cur = 16;
	cpu.rlim_cur = 100;
	if (hard)
		fsize.rlim_max = 1, files.rlim_max = 16, cpu.rlim_max = 100;
	if (setrlimit(RLIMIT_FSIZE, &fsize) < 0 || setrlimit(RLIMIT_NOFILE, &files) < 0 ||
	    setrlimit(RLIMIT_CPU, &cpu) < 0)
		return 13;
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	signal(SIGHUP, SIG_IGN);
	raise(SIGTERM);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "500", 3) != 3)
		return 14;
	close(fd);
	umask(077);

	struct ns_err e = { 0 };
	if (ns_detach_reset(&e) != 0) {
		fprintf(stderr, "reset: %s\n", e.msg);
		return 1;
	}
	uid_t r, ef, s;
	gid_t gr, ge, gs;
	if (getresuid(&r, &ef, &s) < 0 || r || ef || s || getresgid(&gr, &ge, &gs) < 0 || gr || ge || gs)
		return 2;
	if (getgroups(0, NULL) != 0)
		return 3;
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	if (rl.rlim_cur != RLIM_INFINITY || rl.rlim_max != RLIM_INFINITY)
		return 4;
	/* (valgrind keeps RLIMIT_NOFILE to itself: not checked under it) */
	const char *pre = getenv("LD_PRELOAD");
	getrlimit(RLIMIT_NOFILE, &rl);
	if (!(pre && strstr(pre, "vgpreload")) &&
	    (rl.rlim_cur != 1024 || (rl.rlim_max != 4096 && !(files.rlim_max < 4096 && !hard))))
		return 5;
	getrlimit(RLIMIT_CPU, &rl);
	if (rl.rlim_cur != RLIM_INFINITY)
		return 6;
	errno = 0;
	if (sched_getscheduler(0) != SCHED_OTHER || getpriority(PRIO_PROCESS, 0) != 0 || errno)
		return 7;
	cpu_set_t now;
	if (sched_getaffinity(0, sizeof(now), &now) < 0 || CPU_COUNT(&now) != sysconf(_SC_NPROCESSORS_ONLN))
		return 8;
	sigset_t mask, pend;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigpending(&pend);
	struct sigaction sa;
	sigaction(SIGHUP, NULL, &sa);
	if (sigismember(&mask, SIGTERM) || sigismember(&pend, SIGTERM) || sa.sa_handler != SIG_DFL)
		return 9;
	char buf[16] = "";
	fd = open("/proc/self/oom_score_adj", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0 || atoi(buf) != 0)
		return 15;
	close(fd);
	if (umask(0) != 022)
		return 16;
	if (getsid(0) != getpid())
		return 17;
	return 0;
}

static void test_reset(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_reset());
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));   /* not killed by the SIGTERM it had pending */
	if (WEXITSTATUS(st) == SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Not root: refused at the first step, with a message. */
static void test_reset_unprivileged(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
			_exit(2);
		struct ns_err e = { 0 };
		int r = ns_detach_reset(&e);
		_exit(r == -EPERM && strstr(e.msg, "root") ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_cgroups),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_reset_unprivileged),
	};
	return cmocka_run_group_tests_name("detach", tests, setup, teardown) ? 1 : 0;
}
