/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pam-hold — hold many real pam_ns sessions open at once, for the scale
 * test (t-net-scale.sh). Not part of the product; built by `make
 * integration` into build/tests/pam-hold.
 *
 *   pam-hold CONFDIR SERVICE PREFIX COUNT HOST PORT PIDFILE
 *
 * For users PREFIX0 .. PREFIX<COUNT-1>, one at a time: fork a holder that
 * runs pam_open_session (libpam, the service file SERVICE of CONFDIR: so
 * pam_ns moves the holder into the user's network namespace), then
 * connects over TCP to HOST:PORT from there and reads one line (a service
 * on the host), reports, and waits. Prints
 *   opened N
 *   reached M
 * and writes "INDEX PID" lines to PIDFILE (the holders, for nsenter). Then
 * waits for EOF on stdin: every holder closes its session, and it prints
 *   closed N
 * Exit status 0 only if every session opened, reached the host and closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int conv_none(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n, (void)msg, (void)resp, (void)data;
	return PAM_CONV_ERR;
}

static const struct pam_conv CONV = { conv_none, NULL };

/* From the user's namespace: one line from HOST:PORT. 0, or an errno. */
static int reach_once(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[64];
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 4, 0 };
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int e = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	if (e == 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		e = n > 0 ? 0 : n == 0 ? ECONNRESET : errno;
	}
	close(fd);
	return e;
}

/* Up to three tries (24 s at most, within the parent's 30 s wait): on a
 * machine under heavy load one connection can time out (the load loop of
 * issue 12 saw 1 of 1,000); a namespace without a route fails all three.
 * Each failed try is said on stderr. */
static int reach(const char *user, const char *host, int port)
{
	int e = 0;
	for (int i = 1; i <= 3; i++) {
		if ((e = reach_once(host, port)) == 0)
			return 0;
		fprintf(stderr, "pam-hold: %s: try %d to reach %s:%d failed: %s\n", user, i, host, port, strerror(e));
	}
	return -1;
}

static void holder(const char *confdir, const char *service, const char *user, const char *host, int port,
		   int hold_r, int ready_w)
{
	pam_handle_t *h = NULL;
	int r = pam_start_confdir(service, user, &CONV, confdir, &h);
	if (r == PAM_SUCCESS)
		r = pam_open_session(h, 0);
	char c = r != PAM_SUCCESS ? 'F' : reach(user, host, port) == 0 ? 'R' : 'U';
	if (write(ready_w, &c, 1) != 1 || r != PAM_SUCCESS)
		_exit(1);
	close(ready_w);
	char b;
	while (read(hold_r, &b, 1) < 0 && errno == EINTR)
		;
	r = pam_close_session(h, 0);
	pam_end(h, r);
	_exit(r == PAM_SUCCESS ? 0 : 1);
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fputs("usage: pam-hold CONFDIR SERVICE PREFIX COUNT HOST PORT PIDFILE\n", stderr);
		return 2;
	}
	int count = atoi(argv[4]), port = atoi(argv[6]);
	int hold[2], ready[2], opened = 0, reached = 0, closed = 0;
	FILE *pf = fopen(argv[7], "we");
	pid_t *pids = calloc((size_t)count + 1, sizeof(pid_t));
	if (count < 1 || !pf || !pids || pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		perror("pam-hold");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < count; i++) {
		char user[64];
		snprintf(user, sizeof(user), "%s%d", argv[3], i);
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			close(hold[1]);
			close(ready[0]);
			holder(argv[1], argv[2], user, argv[5], port, hold[0], ready[1]);
		}
		pids[opened] = p;
		struct pollfd w = { .fd = ready[0], .events = POLLIN };
		char c = 'F';
		if (poll(&w, 1, 30000) != 1 || read(ready[0], &c, 1) != 1 || c == 'F') {
			fprintf(stderr, "pam-hold: the session of %s did not open\n", user);
			waitpid(p, NULL, 0);
			break;
		}
		fprintf(pf, "%d %d\n", i, (int)p);
		opened++;
		reached += c == 'R';
	}
	fclose(pf);
	close(hold[0]);
	close(ready[0]);
	close(ready[1]);
	printf("opened %d\nreached %d\n", opened, reached);
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof(b)) > 0)
		;
	close(hold[1]);
	for (int i = 0; i < opened; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			closed++;
	}
	printf("closed %d\n", closed);
	return opened == count && reached == count && closed == count ? 0 : 1;
}
