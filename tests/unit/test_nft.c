/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_nft.c — the guard table of a user's namespace (ns_nft_guard_here).
 * Needs root (CAP_SYS_ADMIN to make a network namespace, CAP_NET_ADMIN in
 * it); skipped otherwise. Every check runs in a forked child inside a
 * fresh network namespace of its own, which the kernel frees when the
 * child exits: nothing of the machine's network is touched. Prints the
 * cost of installing the guard (µs per namespace). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns_nft.h"
#include "ns_util.h"

#define NFT "/usr/sbin/nft"
#define SKIP 77

/* Run FN in a child inside a fresh network namespace; its exit status. */
static int in_fresh_netns(int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(SKIP);
		_exit(fn());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static int lo_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 &&
		(ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) == 0) ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return r;
}

/* ----------------------------------------------------------- install */

static int child_install(void)
{
	struct ns_err e = { 0 };
	if (ns_nft_guard_here(&e) != 0) {
		fprintf(stderr, "guard: %s\n", e.msg);
		return 1;
	}
	/* Installed once: a second call is refused, never merged. */
	int r = ns_nft_guard_here(&e);
	if (r != -EEXIST) {
		fprintf(stderr, "second guard: %d %s\n", r, e.msg);
		return 2;
	}
	if (access(NFT, X_OK) != 0)
		return 0;
	FILE *f = popen(NFT " list ruleset 2>&1", "r");
	if (!f)
		return 3;
	char all[4096] = "", line[512];
	while (fgets(line, sizeof(line), f))
		strncat(all, line, sizeof(all) - strlen(all) - 1);
	pclose(f);
	static const char *const want[] = {
		"table inet ns_shell {",
		"type filter hook output priority filter; policy accept;",
		"meta skuid != 0 udp dport 67-68 counter packets 0 bytes 0 drop",
		"oif != \"lo\" ip6 saddr :: meta l4proto ipv6-icmp accept",
		"oif != \"lo\" ip6 saddr ::1 counter packets 0 bytes 0 drop",
		"oif != \"lo\" ip saddr 127.0.0.0/8 counter packets 0 bytes 0 drop",
		"oif != \"lo\" fib saddr type != local counter packets 0 bytes 0 drop",
		"type filter hook input priority filter; policy accept;",
		"iif \"lo\" udp dport 67-68 counter packets 0 bytes 0 drop",
	};
	const char *at = all;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const char *p = strstr(at, want[i]);
		if (!p) {
			fprintf(stderr, "nft list ruleset lacks (in order) '%s':\n%s", want[i], all);
			return 4;
		}
		at = p + strlen(want[i]);
	}
	return 0;
}

static void test_install(void **state)
{
	(void)state;
	need_root();
	int rc = in_fresh_netns(child_install);
	if (rc == SKIP)
		skip();
	assert_int_equal(rc, 0);
}

/* A user, even with a user namespace of her own, holds no CAP_NET_ADMIN
 * over a namespace of the initial user namespace: no guard of her own,
 * no change to ours. */
static int child_unprivileged(void)
{
	struct ns_err e = { 0 };
	if (ns_nft_guard_here(&e) != 0)
		return 1;
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return SKIP;
	int r = ns_nft_guard_here(&e);
	if (r != -EPERM || e.code != -EPERM || !strstr(e.msg, "ns_shell")) {
		fprintf(stderr, "unprivileged: %d '%s'\n", r, e.msg);
		return 2;
	}
	if (access(NFT, X_OK) == 0 &&
	    system(NFT " delete table inet ns_shell 2>/dev/null") == 0)
		return 3;
	if (unshare(CLONE_NEWUSER) == 0) {
		r = ns_nft_guard_here(&e);
		if (r != -EPERM) {
			fprintf(stderr, "in a user namespace: %d '%s'\n", r, e.msg);
			return 4;
		}
	}
	return 0;
}

static void test_unprivileged(void **state)
{
	(void)state;
	need_root();
	int rc = in_fresh_netns(child_unprivileged);
	if (rc == SKIP)
		skip();
	assert_int_equal(rc, 0);
}

/* -------------------------------------------------------- behaviour */

static int udp_bound(const char *addr, int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static int send_to(const char *addr, int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	int r = fd >= 0 && sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) == 1 ? 0 : -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

static bool arrives(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	if (poll(&p, 1, 200) != 1)
		return false;
	return recv(fd, &c, 1, MSG_DONTWAIT) == 1;
}

/* Over loopback: nothing reaches udp 68 (a forged reply to the DHCP
 * client), from a user (dropped on output, EPERM) nor from root (dropped
 * on input); other ports work (control). */
static int child_dhcp_ports(void)
{
	struct ns_err e = { 0 };
	if (lo_up() < 0 || ns_nft_guard_here(&e) != 0)
		return 1;
	int l68 = udp_bound("127.0.0.1", 68), l69 = udp_bound("127.0.0.1", 69);
	if (l68 < 0 || l69 < 0)
		return 2;
	if (send_to("127.0.0.1", 68) != 0 || arrives(l68))
		return 3;                    /* root: sent, dropped on input */
	if (send_to("127.0.0.1", 69) != 0 || !arrives(l69))
		return 4;                    /* control */
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(SKIP);
		_exit(send_to("127.0.0.1", 68) == -EPERM && send_to("127.0.0.1", 67) == -EPERM &&
		      send_to("127.0.0.1", 69) == 0 ? 0 : 5);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return WIFEXITED(st) ? WEXITSTATUS(st) : 6;
	if (arrives(l68) || !arrives(l69))
		return 7;
	return 0;
}

static void test_dhcp_ports(void **state)
{
	(void)state;
	need_root();
	int rc = in_fresh_netns(child_dhcp_ports);
	if (rc == SKIP)
		skip();
	assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------ cost */

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* N fresh namespaces, one guard each: median and 90th percentile of the
 * guard alone, next to the unshare that made the namespace. */
static int child_cost(void)
{
	enum { N = 200 };
	static double guard[N], mk[N];
	for (int i = 0; i < N; i++) {
		struct ns_err e = { 0 };
		double t0 = now_us();
		if (unshare(CLONE_NEWNET) < 0)
			return SKIP;
		double t1 = now_us();
		if (ns_nft_guard_here(&e) != 0) {
			fprintf(stderr, "guard %d: %s\n", i, e.msg);
			return 1;
		}
		guard[i] = now_us() - t1;
		mk[i] = t1 - t0;
	}
	qsort(guard, N, sizeof(double), cmp_double);
	qsort(mk, N, sizeof(double), cmp_double);
	printf("# guard cost over %d fresh namespaces: median %.0f us, p90 %.0f us "
	       "(unshare(CLONE_NEWNET) itself: median %.0f us)\n",
	       N, guard[N / 2], guard[N * 9 / 10], mk[N / 2]);
	fflush(stdout);
	return guard[N / 2] < 20000 ? 0 : 2;  /* sanity only: far below a login */
}

static void test_cost(void **state)
{
	(void)state;
	need_root();
	int rc = in_fresh_netns(child_cost);
	if (rc == SKIP)
		skip();
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_dhcp_ports),
		cmocka_unit_test(test_cost),
	};
	return cmocka_run_group_tests_name("nft", tests, NULL, NULL) ? 1 : 0;
}
