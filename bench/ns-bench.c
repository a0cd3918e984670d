/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns-bench — the login-latency benchmark of ns-shell (`make bench`).
 *
 * Runs as root inside the throwaway sandbox that bench/run.sh builds (never
 * on a real host: it creates and deletes interfaces and namespaces). For each
 * N of --levels it holds N real pam_ns sessions open (one forked holder
 * process per session: open_session moves its caller into the user's
 * namespace, so one process cannot hold two), then measures M round trips of
 * one further user, interleaved per iteration:
 *
 *   ours    pam_open_session / pam_close_session of pam_ns, in-process
 *           (pam_start_confdir: a service file in the bench's own directory)
 *   floor   the same kernel operations through ns_nl_* alone, no config,
 *           lease, lock or record work
 *   ip(8)   the shell recipe (ip netns add, ip link add ... veth, ...)
 *
 * and, in one held session of that user, M runs of `ns-shell -c /bin/true`
 * (as the user, whole process) next to `unshare --pid --fork --mount-proc
 * --ipc --uts --mount /bin/true` (as root), and the same unshare running
 * `/bin/sh -c /bin/true` (what ns-shell runs). Before each round trip the
 * previous one's veth must be gone (the kernel destroys it asynchronously);
 * that wait is not timed but reported.
 *
 * Also: kernel memory per user (Slab + Percpu of /proc/meminfo over the
 * first --mem-users sessions, minus as many idle processes), and the private
 * memory of what waits for a whole login (outer ns-shell, reaper) during a
 * `sleep` login.
 *
 * Invariants:
 *  1. Every wait is bounded (poll timeouts, deadlines on waitpid); a
 *     failure of the product is fatal with its message, never a silent zero.
 *  2. A forked holder keeps only its own pipe ends (everything else >= 3 is
 *     closed), so releasing one group of holders is one close().
 *  3. Nothing of the host is touched: it refuses to start unless its network
 *     namespace differs from the host's (NS_SB_HOSTNET, recorded by the
 *     sandbox before it re-executed itself), and all names and addresses
 *     come from the sandbox's ns.conf and the command line. */
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "ns_config.h"
#include "ns_groups.h"
#include "ns_leasestore.h"
#include "ns_login.h"
#include "ns_netlink.h"
#include "ns_nft.h"
#include "ns_session.h"

#define MAX_M 1000
#define MAX_LEVELS 8
#define GONE_TIMEOUT_MS 5000
#define CHILD_TIMEOUT_MS 15000

/* ------------------------------------------------------------ options -- */

struct opts {
	int m;
	int levels[MAX_LEVELS], n_levels;
	int mem_users;
	const char *pam_dir, *service, *user, *hold_prefix, *ns_shell, *conf, *tmp;
	const char *floor_addr, *ip_addr;
	const char *unshare;
	int warmup;
	bool routed;
};

static const struct opts *O;
static const struct ns_globals *G;
static struct ns_nl *HOST_NL;        /* host side, for the veth-gone polls */
static int ORIG_NETFD = -1;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ns-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

/* --------------------------------------------------------- statistics -- */

struct samples {
	int n;
	double v[MAX_M];
};

static void add(struct samples *s, double v)
{
	if (s->n < MAX_M)
		s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stat3 { double med, min, max; bool have; };

static struct stat3 stat_of(const struct samples *s)
{
	struct stat3 r = { 0 };
	if (s->n == 0)
		return r;
	double v[MAX_M];
	memcpy(v, s->v, sizeof(double) * (size_t)s->n);
	qsort(v, (size_t)s->n, sizeof(double), cmp_double);
	r.med = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
	r.min = v[0];
	r.max = v[s->n - 1];
	r.have = true;
	return r;
}

/* One level (N sessions held): every measured quantity, in ms. */
struct level {
	int n;
	struct samples open, close, rt;
	struct samples fl_open, fl_close, fl_rt, fl_ns, fl_veth, fl_inner, fl_guard;
	struct samples ip_up, ip_down, ip_rt, ip_move;
	struct samples shell, unsh, unsh_sh, check;
	struct samples shell_cpu, unsh_cpu, unsh_sh_cpu, check_cpu;   /* ms, all its processes */
	struct samples shell_flt, unsh_flt, unsh_sh_flt, check_flt;   /* page faults, all its processes */
	struct samples cfg, nss, scan, lease;
	struct samples gone_ours, gone_floor, gone_ip;
	long kmem_held;             /* Slab+Percpu growth with N sessions held (kB) */
};

static bool ROUTED;             /* network = "routed" in the bench's ns.conf */

/* ---------------------------------------------------------- processes -- */

/* Wait for PID at most TIMEOUT_MS; SIGKILL it after that. Returns the
 * wait status, or -1 when it had to be killed. A pidfd wakes us the moment
 * the child exits, so the time of a short child is not rounded up to a
 * polling interval. */
static int wait_bounded(pid_t pid, int timeout_ms)
{
	int st;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		die("pidfd_open(%d): %s", (int)pid, strerror(errno));
	double end = now_ms() + timeout_ms;
	for (;;) {
		pid_t p = waitpid(pid, &st, WNOHANG);
		if (p == pid)
			break;
		if (p < 0 && errno != EINTR) {
			st = -1;
			break;
		}
		double left = end - now_ms();
		struct pollfd w = { .fd = pfd, .events = POLLIN };
		if (left <= 0 || (poll(&w, 1, (int)left + 1) == 0 && now_ms() >= end)) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			st = -1;
			break;
		}
	}
	close(pfd);
	return st;
}

static void close_fds_except(int keep1, int keep2)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep1 && fd != keep2)
			close(fd);
}

static const char *status_text(int st, char *buf, size_t size)
{
	if (st == -1)
		snprintf(buf, size, "timed out (killed)");
	else if (WIFEXITED(st))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, size, "status 0x%x", st);
	return buf;
}

static void cat_file(const char *path)
{
	char buf[2048];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "%s", buf);
	}
}

/* Run ARGV as root with stdout to /dev/null, stderr to ERRPATH; returns
 * the wait status (bounded). */
static int run_cmd(char *const argv[], const char *errpath)
{
	pid_t p = fork();
	if (p < 0)
		die("fork: %s", strerror(errno));
	if (p == 0) {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		int err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (nul < 0 || err < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	return wait_bounded(p, CHILD_TIMEOUT_MS);
}

/* ---------------------------------------------------------------- PAM -- */

static int conv_none(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n; (void)msg; (void)resp; (void)data;
	return PAM_CONV_ERR;   /* pam_ns asks nothing */
}
static const struct pam_conv CONV = { conv_none, NULL };

static pam_handle_t *pam_begin(const char *user)
{
	pam_handle_t *h = NULL;
	int r = pam_start_confdir(O->service, user, &CONV, O->pam_dir, &h);
	if (r != PAM_SUCCESS)
		die("pam_start_confdir(%s, %s, %s): %s", O->service, user, O->pam_dir, pam_strerror(h, r));
	return h;
}

static ino_t netns_ino(void)
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		die("stat /proc/self/ns/net: %s", strerror(errno));
	return st.st_ino;
}

/* ------------------------------------------------------------ holders -- */

/* A group of held sessions: each holder opened one and blocks reading
 * hold_r; closing hold_w makes every one of them close its session and exit. */
struct hgroup {
	int hold_w;
	int n;
	pid_t *pid;
};

static void holder_child(const char *user, int hold_r, int ready_w)
{
	close_fds_except(hold_r, ready_w);
	pam_handle_t *h = NULL;
	int r = pam_start_confdir(O->service, user, &CONV, O->pam_dir, &h);
	if (r == PAM_SUCCESS)
		r = pam_open_session(h, 0);
	char c = r == PAM_SUCCESS ? 0 : 1;
	if (write(ready_w, &c, 1) != 1 || r != PAM_SUCCESS)
		_exit(1);
	close(ready_w);
	char b;
	for (;;) {
		ssize_t k = read(hold_r, &b, 1);
		if (k == 0 || (k < 0 && errno != EINTR))
			break;
	}
	r = pam_close_session(h, 0);
	pam_end(h, r);
	_exit(r == PAM_SUCCESS ? 0 : 1);
}

/* Open sessions for users PREFIX<first> .. PREFIX<first+count-1>, one at a
 * time (each waits for the previous to be open). */
static void holders_open(struct hgroup *g, int first, int count)
{
	int hold[2], ready[2];
	if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	g->hold_w = hold[1];
	g->n = 0;
	g->pid = calloc((size_t)count, sizeof(pid_t));
	if (!g->pid)
		die("out of memory");
	for (int i = 0; i < count; i++) {
		char user[64];
		snprintf(user, sizeof(user), "%s%d", O->hold_prefix, first + i);
		pid_t p = fork();
		if (p < 0)
			die("fork: %s", strerror(errno));
		if (p == 0)
			holder_child(user, hold[0], ready[1]);
		g->pid[g->n++] = p;
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		char c = 1;
		if (poll(&pfd, 1, CHILD_TIMEOUT_MS) != 1 || read(ready[0], &c, 1) != 1 || c != 0)
			die("holding a session of %s failed (see the sandbox syslog for pam_ns's reason)", user);
	}
	close(hold[0]);
	close(ready[0]);
	close(ready[1]);
}

static double holders_release(struct hgroup *g)
{
	double t0 = now_ms();
	close(g->hold_w);
	int bad = 0;
	double end = t0 + 60000;   /* one deadline for the whole group */
	for (int i = 0; i < g->n; i++) {
		double left = end - now_ms();
		int st = wait_bounded(g->pid[i], left > 1 ? (int)left : 1);
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	if (bad)
		die("%d of %d held sessions did not close cleanly", bad, g->n);
	free(g->pid);
	g->pid = NULL;
	g->n = 0;
	return now_ms() - t0;
}

/* Idle processes only (the control for the kernel memory per user). */
static void idlers_open(struct hgroup *g, int count)
{
	int hold[2];
	if (pipe2(hold, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	g->hold_w = hold[1];
	g->n = 0;
	g->pid = calloc((size_t)count, sizeof(pid_t));
	if (!g->pid)
		die("out of memory");
	for (int i = 0; i < count; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork: %s", strerror(errno));
		if (p == 0) {
			close_fds_except(hold[0], -1);
			char b;
			while (read(hold[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		g->pid[g->n++] = p;
	}
	close(hold[0]);
}

/* --------------------------------------------------------- the veths -- */

/* Wait (untimed for the results, bounded) until link NAME is gone from the
 * host side; returns how long that took. */
static double wait_gone(const char *name)
{
	double t0 = now_ms();
	for (int i = 0; i < GONE_TIMEOUT_MS; i++) {
		int idx;
		int r = ns_nl_link_index(HOST_NL, name, &idx);
		if (r == -ENODEV)
			return now_ms() - t0;
		if (r < 0)
			die("looking up %s: %s", name, strerror(-r));
		poll(NULL, 0, 1);
	}
	die("%s still exists %d ms after its namespace was left", name, GONE_TIMEOUT_MS);
}

/* --------------------------------------------------------------- ours -- */

static char BENCH_VETH[16];

static void ours_round(struct level *L, bool keep)
{
	pam_handle_t *h = pam_begin(O->user);
	ino_t before = netns_ino();
	double t0 = now_ms();
	int r = pam_open_session(h, 0);
	double t1 = now_ms();
	if (r != PAM_SUCCESS)
		die("pam_open_session(%s): %s (see the sandbox syslog)", O->user, pam_strerror(h, r));
	if (netns_ino() == before)
		die("pam_open_session(%s) succeeded but did not move the caller into a namespace", O->user);
	double t2 = now_ms();
	r = pam_close_session(h, 0);
	double t3 = now_ms();
	if (r != PAM_SUCCESS)
		die("pam_close_session(%s): %s", O->user, pam_strerror(h, r));
	pam_end(h, PAM_SUCCESS);
	if (netns_ino() != before)
		die("pam_close_session did not move the caller back");
	double gone = wait_gone(BENCH_VETH);
	if (keep) {
		add(&L->open, t1 - t0);
		add(&L->close, t3 - t2);
		add(&L->rt, (t1 - t0) + (t3 - t2));
		add(&L->gone_ours, gone);
	}
}

/* -------------------------------------------------------------- floor -- */

#define FLOOR_VETH "nsbfloor"

static struct ns_cidr FLOOR_ADDR, IP_ADDR;

static int ipv6_off_here(void)
{
	const char *paths[] = { "/proc/sys/net/ipv6/conf/all/disable_ipv6",
				"/proc/sys/net/ipv6/conf/default/disable_ipv6" };
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int fd = open(paths[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		int r = ns_write_all(fd, "1", 1);
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Routed: what pam_ns does inside and on the host for one address (the
 * pool's unreachable route exists already: made once, by the first login). */
static void floor_routed(struct ns_nl *inner, struct ns_nl *host, int ifindex, const struct ns_veth_spec *spec)
{
	struct ns_err err = { 0 };
	struct ns_cidr hop = { .family = AF_INET, .prefix = 32 };
	hop.addr.v4.s_addr = htonl(0xa9fe0101);
	if (ns_nl_inner_routed(inner, &FLOOR_ADDR, &hop, spec->host_mac, &err) < 0 ||
	    ns_nl_routed_host(host, ifindex, &FLOOR_ADDR, spec->peer_mac, &err) < 0 ||
	    (G->isolate_ports && ns_nl_deny(inner, &G->pool, 1, &err) < 0))
		die("floor: %s", err.msg);
}

/* The kernel work of one pam_ns open, through ns_nl_* only: a new netns
 * (IPv6 off in it, as pam_ns does), the veth with its peer created inside
 * as eth0, enslaved, isolated, up; lo and eth0 up, address, default route;
 * then the caller moves in. Close: the caller moves back. */
static void floor_round(struct level *L, bool keep)
{
	struct ns_err err = { 0 };
	struct ns_nl *inner = NULL, *host = NULL;
	static uint8_t mid[16];
	static bool have_mid;
	if (!have_mid) {
		ns_machine_id(mid);
		have_mid = true;
	}

	double t0 = now_ms();
	if (unshare(CLONE_NEWNET) < 0)
		die("floor: unshare(CLONE_NEWNET): %s", strerror(errno));
	int nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die("floor: open /proc/self/ns/net: %s", strerror(errno));
	int r = ipv6_off_here();
	if (r < 0)
		die("floor: IPv6 off: %s", strerror(-r));
	if (ns_nl_open(&inner, &err) < 0)
		die("floor: %s", err.msg);
	double tg = now_ms();
	if (ns_nft_guard_here(&err) < 0)     /* pam_ns installs it too: same kernel work */
		die("floor: %s", err.msg);
	double tg1 = now_ms();
	if (setns(ORIG_NETFD, CLONE_NEWNET) < 0)
		die("floor: setns back: %s", strerror(errno));
	double ta = now_ms();
	if (ns_nl_open(&host, &err) < 0)
		die("floor: %s", err.msg);
	struct ns_veth_spec spec = {
		.host_name = FLOOR_VETH, .alias = "ns-bench floor", .bridge = ROUTED ? NULL : G->bridge,
		.netns_fd = nsfd, .mtu = G->mtu, .isolated = !ROUTED,
	};
	int ifindex = 0;
	ns_mac_for_uid(mid, 0xfffffff0u, NULL, 0, spec.host_mac);
	ns_mac_for_uid(mid, 0xfffffff0u, NULL, 1, spec.peer_mac);
	if (ns_nl_veth_create(host, &spec, &ifindex, &err) < 0)
		die("floor: %s", err.msg);
	double tb = now_ms();
	if (ROUTED)
		floor_routed(inner, host, ifindex, &spec);
	else if (ns_nl_inner_setup(inner, &FLOOR_ADDR, &G->gateway, &err) < 0 ||
		 ns_nl_neigh_replace(host, G->bridge, &FLOOR_ADDR, spec.peer_mac, &err) < 0)
		die("floor: %s", err.msg);
	double tc = now_ms();
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("floor: setns in: %s", strerror(errno));
	ns_nl_close(inner);
	ns_nl_close(host);
	close(nsfd);
	double t1 = now_ms();

	double t2 = now_ms();
	if (setns(ORIG_NETFD, CLONE_NEWNET) < 0)
		die("floor: setns back: %s", strerror(errno));
	double t3 = now_ms();

	double gone = wait_gone(FLOOR_VETH);
	if (keep) {
		add(&L->fl_open, t1 - t0);
		add(&L->fl_close, t3 - t2);
		add(&L->fl_rt, (t1 - t0) + (t3 - t2));
		add(&L->fl_ns, ta - t0 - (tg1 - tg));
		add(&L->fl_guard, tg1 - tg);
		add(&L->fl_veth, tb - ta);
		add(&L->fl_inner, tc - tb);
		add(&L->gone_floor, gone);
	}
}

/* --------------------------------------------------------------- ip(8) -- */

#define IP_NETNS "nsb-ip"
#define IP_VETH "nsbip"
#define IP_PEER "nsbipp"

static void ip_round(struct level *L, bool keep)
{
	char addr[64], gw[64], errpath[4200], why[64];
	ns_cidr_format(&IP_ADDR, true, addr, sizeof(addr));
	ns_cidr_format(&G->gateway, false, gw, sizeof(gw));
	snprintf(errpath, sizeof(errpath), "%s/ip.err", O->tmp);
	char br[16];
	snprintf(br, sizeof(br), "%s", G->bridge);
	char *up[][12] = {
		{ "ip", "netns", "add", IP_NETNS, NULL },
		{ "ip", "link", "add", IP_VETH, "type", "veth", "peer", "name", IP_PEER, NULL },
		{ "ip", "link", "set", IP_PEER, "netns", IP_NETNS, NULL },
		{ "ip", "link", "set", IP_VETH, "master", br, NULL },
		{ "ip", "link", "set", IP_VETH, "up", NULL },
		{ "ip", "-n", IP_NETNS, "link", "set", "lo", "up", NULL },
		{ "ip", "-n", IP_NETNS, "link", "set", IP_PEER, "up", NULL },
		{ "ip", "-n", IP_NETNS, "addr", "add", addr, "dev", IP_PEER, NULL },
		{ "ip", "-n", IP_NETNS, "route", "add", "default", "via", gw, NULL },
	};
	char *down[] = { "ip", "netns", "del", IP_NETNS, NULL };
	char a32[64], a_plain[64], pool[64];
	struct ns_cidr h = IP_ADDR;
	h.prefix = 32;
	ns_cidr_format(&h, true, a32, sizeof(a32));
	ns_cidr_format(&h, false, a_plain, sizeof(a_plain));   /* ip neigh takes no prefix */
	ns_cidr_format(&G->pool, true, pool, sizeof(pool));
	/* routed: the same with no bridge, the address as a /32, the link-local
	 * next hop and the host's /32 route with permanent neighbours (and the
	 * isolation rule pam_ns adds). */
	char *up_routed[][16] = {
		{ "ip", "netns", "add", IP_NETNS, NULL },
		{ "ip", "link", "add", IP_VETH, "address", "02:00:00:00:0b:01", "type", "veth", "peer", "name", IP_PEER,
		  "address", "02:00:00:00:0b:02", NULL },
		{ "ip", "link", "set", IP_PEER, "netns", IP_NETNS, NULL },
		{ "ip", "link", "set", IP_VETH, "up", NULL },
		{ "ip", "-n", IP_NETNS, "link", "set", "lo", "up", NULL },
		{ "ip", "-n", IP_NETNS, "link", "set", IP_PEER, "up", NULL },
		{ "ip", "-n", IP_NETNS, "addr", "add", a32, "dev", IP_PEER, NULL },
		{ "ip", "-n", IP_NETNS, "neigh", "add", "169.254.1.1", "lladdr", "02:00:00:00:0b:01", "dev", IP_PEER,
		  "nud", "permanent", NULL },
		{ "ip", "-n", IP_NETNS, "route", "add", "default", "via", "169.254.1.1", "dev", IP_PEER, "onlink", NULL },
		{ "ip", "-n", IP_NETNS, "rule", "add", "prohibit", "to", pool, "prio", "100", NULL },
		{ "ip", "route", "add", a32, "dev", IP_VETH, NULL },
		{ "ip", "neigh", "add", a_plain, "lladdr", "02:00:00:00:0b:02", "dev", IP_VETH, "nud", "permanent", NULL },
	};

	double t0 = now_ms(), move = 0;
	size_t n_up = ROUTED ? ARRAY_SIZE(up_routed) : ARRAY_SIZE(up);
	for (size_t i = 0; i < n_up; i++) {
		char **cmd = ROUTED ? up_routed[i] : up[i];
		double ts = now_ms();
		int st = run_cmd(cmd, errpath);
		if (i == 2)   /* ip link set PEER netns NS: moves an existing device */
			move = now_ms() - ts;
		if (st != 0) {
			cat_file(errpath);
			die("ip(8) recipe: step %zu (%s %s %s ...) failed: %s", i + 1, cmd[1], cmd[2],
			    cmd[3], status_text(st, why, sizeof(why)));
		}
	}
	double t1 = now_ms();
	int st = run_cmd(down, errpath);
	double t2 = now_ms();
	if (st != 0) {
		cat_file(errpath);
		die("ip(8) teardown failed: %s", status_text(st, why, sizeof(why)));
	}
	double gone = wait_gone(IP_VETH);
	if (keep) {
		add(&L->ip_up, t1 - t0);
		add(&L->ip_down, t2 - t1);
		add(&L->ip_rt, t2 - t0);
		add(&L->ip_move, move);
		add(&L->gone_ip, gone);
	}
}

/* ------------------------------------------- ns-shell inside a session -- */

struct user_ids {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[64];
	char home[256];
};

static void user_ids(const char *user, struct user_ids *u)
{
	struct passwd *pw = getpwnam(user);
	if (!pw)
		die("no passwd entry for %s", user);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir);
	u->ngroups = (int)ARRAY_SIZE(u->groups);
	if (getgrouplist(user, pw->pw_gid, u->groups, &u->ngroups) < 0)
		die("%s is in too many groups", user);
}

/* Child: become the user (ids computed before the fork, so no NSS lookup is
 * timed), then exec ns-shell -c CMD with a minimal environment. */
static void exec_as_user(const struct user_ids *u, const char *cmd, int errfd)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(127);
	if (setgroups((size_t)u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		_exit(126);
	char *argv[] = { "ns-shell", "-c", (char *)cmd, NULL };
	if (!cmd) {            /* ns-shell --check: start-up, config, policy; no namespaces */
		argv[1] = "--check";
		argv[2] = NULL;
	}
	char *envp[] = { "PATH=/usr/bin:/bin", "TERM=dumb", NULL };
	execve(O->ns_shell, argv, envp);
	_exit(127);
}

/* Runs one command and times it (wall, ms); *ret_cpu and *ret_flt: the CPU
 * time (ms, user + system) and page faults of it and every process it
 * waited for, from RUSAGE_CHILDREN (the caller reaps nothing else meanwhile). */
static double run_timed(char *const argv_or_null[], const struct user_ids *u, const char *cmd,
			int errfd, int *ret_status, double *ret_cpu, double *ret_flt)
{
	struct rusage ra, rb;
	getrusage(RUSAGE_CHILDREN, &ra);
	double t0 = now_ms();
	pid_t p = fork();
	if (p < 0)
		die("fork: %s", strerror(errno));
	if (p == 0) {
		if (u)
			exec_as_user(u, cmd, errfd);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(errfd, 2) < 0)
			_exit(127);
		execv(argv_or_null[0], argv_or_null);
		_exit(127);
	}
	*ret_status = wait_bounded(p, CHILD_TIMEOUT_MS);
	double t = now_ms() - t0;
	getrusage(RUSAGE_CHILDREN, &rb);
	*ret_cpu = tv_ms(&rb.ru_utime) + tv_ms(&rb.ru_stime) - tv_ms(&ra.ru_utime) - tv_ms(&ra.ru_stime);
	*ret_flt = (double)(rb.ru_minflt + rb.ru_majflt - ra.ru_minflt - ra.ru_majflt);
	return t;
}

/* In a child that holds a session of the bench user: M × (ns-shell, unshare),
 * interleaved. Results come back through a pipe as doubles. */
static void shell_block(struct level *L, int warm)
{
	int res[2];
	if (pipe2(res, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	struct user_ids u;
	user_ids(O->user, &u);
	int total = warm + O->m;
	pid_t s = fork();
	if (s < 0)
		die("fork: %s", strerror(errno));
	if (s == 0) {
		close(res[0]);
		char errpath[4200], why[64];
		snprintf(errpath, sizeof(errpath), "%s/shell.err", O->tmp);
		int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (errfd < 0)
			die("%s: %s", errpath, strerror(errno));
		pam_handle_t *h = pam_begin(O->user);
		int r = pam_open_session(h, 0);
		if (r != PAM_SUCCESS)
			die("pam_open_session(%s) for ns-shell: %s", O->user, pam_strerror(h, r));
		char *unsh[] = { (char *)O->unshare, "--pid", "--fork", "--mount-proc", "--ipc", "--uts",
				 "--mount", "/bin/true", NULL };
		/* what ns-shell runs: the user's shell (/bin/sh here) with -c */
		char *unsh_sh[] = { (char *)O->unshare, "--pid", "--fork", "--mount-proc", "--ipc", "--uts",
				    "--mount", "/bin/sh", "-c", "/bin/true", NULL };
		for (int i = 0; i < total; i++) {
			int st;
			double v[12];   /* wall, CPU, faults of: ns-shell -c, unshare, --check, unshare sh -c */
			v[0] = run_timed(NULL, &u, "/bin/true", errfd, &st, &v[4], &v[8]);
			if (st != 0) {
				cat_file(errpath);
				die("ns-shell -c /bin/true as %s: %s", O->user, status_text(st, why, sizeof(why)));
			}
			v[1] = run_timed(unsh, NULL, NULL, errfd, &st, &v[5], &v[9]);
			if (st != 0) {
				cat_file(errpath);
				die("unshare ... /bin/true: %s", status_text(st, why, sizeof(why)));
			}
			v[2] = run_timed(NULL, &u, NULL, errfd, &st, &v[6], &v[10]);
			if (st != 0) {
				cat_file(errpath);
				die("ns-shell --check as %s: %s", O->user, status_text(st, why, sizeof(why)));
			}
			v[3] = run_timed(unsh_sh, NULL, NULL, errfd, &st, &v[7], &v[11]);
			if (st != 0) {
				cat_file(errpath);
				die("unshare ... /bin/sh -c /bin/true: %s", status_text(st, why, sizeof(why)));
			}
			if (i >= warm && write(res[1], v, sizeof(v)) != sizeof(v))
				_exit(1);
		}
		r = pam_close_session(h, 0);
		pam_end(h, r);
		_exit(r == PAM_SUCCESS ? 0 : 1);
	}
	close(res[1]);
	for (int i = 0; i < O->m; i++) {
		double v[12];
		struct pollfd pfd = { .fd = res[0], .events = POLLIN };
		if (poll(&pfd, 1, CHILD_TIMEOUT_MS) != 1 || read(res[0], v, sizeof(v)) != sizeof(v))
			break;
		struct samples *to[12] = { &L->shell, &L->unsh, &L->check, &L->unsh_sh,
					   &L->shell_cpu, &L->unsh_cpu, &L->check_cpu, &L->unsh_sh_cpu,
					   &L->shell_flt, &L->unsh_flt, &L->check_flt, &L->unsh_sh_flt };
		for (int k = 0; k < 12; k++)
			add(to[k], v[k]);
	}
	close(res[0]);
	int st = wait_bounded(s, CHILD_TIMEOUT_MS);
	if (st != 0 || L->shell.n != O->m)
		die("the ns-shell block failed");
	wait_gone(BENCH_VETH);
}

/* --------------------------------------- bookkeeping parts, one each -- */

static int count_rec(const struct ns_session_rec *r, void *data)
{
	(void)r;
	(*(int *)data)++;
	return 0;
}

static void parts_block(struct level *L)
{
	for (int i = 0; i < O->m; i++) {
		struct ns_errlist errs;
		struct ns_config *c = NULL;
		double t0 = now_ms();
		if (ns_config_load(O->conf, &c, &errs) < 0)
			die("config %s does not load", O->conf);
		ns_config_free(c);
		double t1 = now_ms();
		struct passwd *pw = getpwnam(O->user);
		char **groups = NULL;
		size_t ng = 0;
		const char *named[] = { O->user }, *failed = NULL;   /* a config with one group block */
		if (!pw || ns_user_groups_among(pw->pw_name, pw->pw_gid, named, 1, &groups, &ng, &failed) < 0)
			die("groups of %s", O->user);
		free(groups);
		double t2 = now_ms();
		int n = 0;
		ns_session_foreach_uid(G->state_dir, pw->pw_uid, count_rec, &n);
		double t3 = now_ms();
		struct ns_leases l = { .view = NS_LEASES_OWN };
		struct ns_lease_store st;
		struct ns_err err;
		int lock = ns_lock_take(G->state_dir, "leases", 10000, &err);   /* as a login does */
		if (lock < 0 || ns_lease_store_open(G->lease_file, &st, &err) < 0 ||
		    ns_lease_store_load_uid(&st, pw->pw_uid, NULL, &l, &err) < 0)
			die("%s", err.msg);
		ns_lease_store_close(&st);
		close(lock);
		if (l.n != 1)
			die("the lease store has no lease of %s", O->user);
		ns_leases_free(&l);
		double t4 = now_ms();
		add(&L->cfg, t1 - t0);
		add(&L->nss, t2 - t1);
		add(&L->scan, t3 - t2);
		add(&L->lease, t4 - t3);
	}
}

/* ------------------------------------------------------------- memory -- */

static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	long v = -1;
	size_t k = strlen(key);
	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, k) == 0 && line[k] == ':') {
			v = strtol(line + k + 1, NULL, 10);
			break;
		}
	fclose(f);
	if (v < 0)
		die("/proc/meminfo has no %s", key);
	return v;
}

static long kmem_kb(void)
{
	poll(NULL, 0, 300);   /* let RCU-deferred frees land */
	return meminfo_kb("Slab") + meminfo_kb("Percpu");
}

static long smaps_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "re");
	long v = -1;
	size_t k = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, k) == 0 && line[k] == ':') {
			v = strtol(line + k + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* First child of PID (from /proc/PID/task/PID/children), 0 when none. */
static pid_t first_child(pid_t pid)
{
	char path[96], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

static bool comm_is(pid_t pid, const char *name)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, name) == 0;
}

/* Wait until a descendant of TOP (at most DEPTH levels, first children)
 * is `sleep`; returns the chain in CHAIN (TOP first). */
static int wait_sleep_chain(pid_t top, pid_t chain[4])
{
	for (int t = 0; t < 5000; t++) {
		pid_t p = top;
		int k = 0;
		chain[k++] = p;
		while (k < 4 && (p = first_child(p)) > 0) {
			chain[k++] = p;
			if (comm_is(p, "sleep"))
				return k;
		}
		poll(NULL, 0, 1);
	}
	return -1;
}

struct privmem {
	long outer, reaper, unsh;
};

/* A `sleep` login in a session of the bench user: Private_Dirty of the outer
 * ns-shell and of the reaper (PID 1 of the login); for comparison the
 * waiting `unshare --fork` process of the same command. */
static void private_memory(struct privmem *pm)
{
	int res[2];
	if (pipe2(res, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	struct user_ids u;
	user_ids(O->user, &u);
	pid_t s = fork();
	if (s < 0)
		die("fork: %s", strerror(errno));
	if (s == 0) {
		close(res[0]);
		char errpath[4200];
		snprintf(errpath, sizeof(errpath), "%s/sleep.err", O->tmp);
		int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (errfd < 0)
			_exit(1);
		pam_handle_t *h = pam_begin(O->user);
		if (pam_open_session(h, 0) != PAM_SUCCESS)
			_exit(1);
		long v[3] = { -1, -1, -1 };
		pid_t chain[4];

		pid_t g = fork();
		if (g == 0)
			exec_as_user(&u, "sleep 30", errfd);
		int k = g > 0 ? wait_sleep_chain(g, chain) : -1;
		if (k >= 3) {   /* outer ns-shell, reaper, [shell,] sleep */
			v[0] = smaps_kb(chain[0], "Private_Dirty");
			v[1] = smaps_kb(chain[1], "Private_Dirty");
		}
		if (g > 0) {
			kill(g, SIGTERM);
			wait_bounded(g, 5000);
		}

		g = fork();
		if (g == 0) {
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (nul >= 0) {
				dup2(nul, 0);
				dup2(nul, 1);
			}
			/* --kill-child: its PID 1 (sleep) ignores our SIGTERM otherwise. */
			char *argv[] = { (char *)O->unshare, "--pid", "--fork", "--kill-child", "--mount-proc",
					 "--ipc", "--uts", "--mount", "/bin/sleep", "30", NULL };
			execv(argv[0], argv);
			_exit(127);
		}
		if (g > 0 && wait_sleep_chain(g, chain) >= 2)
			v[2] = smaps_kb(chain[0], "Private_Dirty");
		if (g > 0) {
			kill(g, SIGTERM);
			wait_bounded(g, 5000);
		}
		if (write(res[1], v, sizeof(v)) != sizeof(v))
			_exit(1);
		int r = pam_close_session(h, 0);
		pam_end(h, r);
		_exit(0);
	}
	close(res[1]);
	long v[3] = { -1, -1, -1 };
	struct pollfd pfd = { .fd = res[0], .events = POLLIN };
	if (poll(&pfd, 1, 20000) != 1 || read(res[0], v, sizeof(v)) != sizeof(v))
		progress("warning: the sleep login did not report its memory");
	close(res[0]);
	wait_bounded(s, 20000);
	wait_gone(BENCH_VETH);
	pm->outer = v[0];
	pm->reaper = v[1];
	pm->unsh = v[2];
	if (v[0] < 0 || v[1] < 0) {
		char errpath[4200];
		snprintf(errpath, sizeof(errpath), "%s/sleep.err", O->tmp);
		cat_file(errpath);
		progress("warning: could not read the private memory of the sleep login");
	}
}

/* ------------------------------------------------------------- output -- */

struct row {
	const char *label;
	size_t off;
	bool count;   /* a count (median [min-max] without decimals), not ms */
};

#define ROW(l, f) { l, offsetof(struct level, f), false }
#define ROWC(l, f) { l, offsetof(struct level, f), true }

static const struct row ROWS[] = {
	ROW("ours: pam_ns open_session", open),
	ROW("ours: pam_ns close_session", close),
	ROW("ours: round trip (open+close)", rt),
	ROW("floor: open (ns_nl_* only)", fl_open),
	ROW("  of which: new netns, IPv6 off", fl_ns),
	ROW("  of which: nft guard (anti-spoofing)", fl_guard),
	ROW("  of which: veth (+bridge port) up", fl_veth),
	ROW("  of which: addresses, routes", fl_inner),
	ROW("floor: close (setns back)", fl_close),
	ROW("floor: round trip", fl_rt),
	ROW("ip(8): setup (9 or 12 commands)", ip_up),
	ROW("  of which: ip link set PEER netns", ip_move),
	ROW("ip(8): teardown (ip netns del)", ip_down),
	ROW("ip(8): round trip", ip_rt),
	{ NULL, 0, false },
	ROW("ns-shell -c /bin/true (as user)", shell),
	ROW("  of which start-up: ns-shell --check", check),
	ROW("unshare -p -f --mount-proc -i -u -m", unsh),
	ROW("  the same, running /bin/sh -c", unsh_sh),
	{ NULL, 3, false },
	ROW("  ns-shell -c /bin/true: CPU ms", shell_cpu),
	ROWC("  ns-shell -c /bin/true: page faults", shell_flt),
	ROW("  ns-shell --check: CPU ms", check_cpu),
	ROWC("  ns-shell --check: page faults", check_flt),
	ROW("  unshare ... /bin/true: CPU ms", unsh_cpu),
	ROWC("  unshare ... /bin/true: page faults", unsh_flt),
	ROW("  unshare ... /bin/sh -c: CPU ms", unsh_sh_cpu),
	ROWC("  unshare ... /bin/sh -c: page faults", unsh_sh_flt),
	{ NULL, 1, false },
	ROW("  config load (ns_config_load)", cfg),
	ROW("  passwd + groups (NSS)", nss),
	ROW("  session records of the user", scan),
	ROW("  lease store: lock + own lease", lease),
	{ NULL, 2, false },
	ROW("  veth gone after ours' close", gone_ours),
	ROW("  veth gone after floor's close", gone_floor),
	ROW("  veth gone after ip netns del", gone_ip),
};

static const struct samples *field(const struct level *L, size_t off)
{
	return (const struct samples *)((const char *)L + off);
}

static void cell(const struct samples *s, bool count)
{
	struct stat3 st = stat_of(s);
	char b[64];
	if (!st.have)
		snprintf(b, sizeof(b), "-");
	else if (count)
		snprintf(b, sizeof(b), "%7.0f [%.0f-%.0f]", st.med, st.min, st.max);
	else
		snprintf(b, sizeof(b), "%7.2f [%.2f-%.2f]", st.med, st.min, st.max);
	printf("  %-24s", b);
}

/* What this machine charges for the two things a login does most of:
 * first touches of memory (a page fault each) and small system calls.
 * Median of 5 rounds: 512 anonymous pages, 2000 getppid() calls; in us. */
static void machine_costs(double *ret_fault_us, double *ret_syscall_us)
{
	struct samples f = { 0 }, c = { 0 };
	for (int round = 0; round < 5; round++) {
		size_t n = 512;
		char *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		double t0 = now_ms();
		for (size_t i = 0; i < n; i++)
			((volatile char *)p)[i * 4096] = 1;
		double t1 = now_ms();
		munmap(p, n * 4096);
		for (int i = 0; i < 2000; i++)
			(void)syscall(SYS_getppid);
		double t2 = now_ms();
		add(&f, (t1 - t0) * 1000.0 / (double)n);
		add(&c, (t2 - t1) * 1000.0 / 2000.0);
	}
	*ret_fault_us = stat_of(&f).med;
	*ret_syscall_us = stat_of(&c).med;
}

static void print_table(const struct level *Ls, int nl, long kmem_sess, long kmem_idle, int mem_n,
			long kmem_more, int more_n, const struct privmem *pm)
{
	struct utsname un;
	uname(&un);
	printf("\nns-shell login-latency benchmark — kernel %s, %ld CPUs, M = %d round trips per cell\n",
	       un.release, sysconf(_SC_NPROCESSORS_ONLN), O->m);
	double fault_us, syscall_us;
	machine_costs(&fault_us, &syscall_us);
	printf("this machine: a page fault (first touch of anonymous memory) costs %.2f us, a system call"
	       " (getppid) %.2f us\n", fault_us, syscall_us);
	printf("network = %s; times in ms: median [min-max]; N = sessions of other users held open meanwhile\n\n",
	       ROUTED ? "routed" : "bridge");
	printf("%-36s", "");
	for (int i = 0; i < nl; i++) {
		char h[32];
		snprintf(h, sizeof(h), "N = %d", Ls[i].n);
		printf("  %-24s", h);
	}
	printf("\n");
	for (size_t r = 0; r < ARRAY_SIZE(ROWS); r++) {
		if (!ROWS[r].label) {
			if (ROWS[r].off == 1)
				printf("parts of ours, timed alone (one call each):\n");
			else if (ROWS[r].off == 3)
				printf("per run, all its processes (wait4's rusage):\n");
			else if (ROWS[r].off == 2)
				printf("not timed above (the kernel's asynchronous teardown):\n");
			else
				printf("\n");
			continue;
		}
		printf("%-36s", ROWS[r].label);
		for (int i = 0; i < nl; i++)
			cell(field(&Ls[i], ROWS[r].off), ROWS[r].count);
		printf("\n");
	}
	printf("\nratios of medians:\n");
	const char *rl[] = { "ours / floor (round trip)", "ip(8) / ours (round trip)",
			     "ns-shell / unshare", "nft guard / floor (open)",
			     "ns-shell / (unshare + sh -c)" };
	for (int k = 0; k < 5; k++) {
		printf("%-36s", rl[k]);
		for (int i = 0; i < nl; i++) {
			double a, b;
			if (k == 0) {
				a = stat_of(&Ls[i].rt).med;
				b = stat_of(&Ls[i].fl_rt).med;
			} else if (k == 1) {
				a = stat_of(&Ls[i].ip_rt).med;
				b = stat_of(&Ls[i].rt).med;
			} else if (k == 2) {
				a = stat_of(&Ls[i].shell).med;
				b = stat_of(&Ls[i].unsh).med;
			} else if (k == 3) {
				a = stat_of(&Ls[i].fl_guard).med;
				b = stat_of(&Ls[i].fl_open).med;
			} else {
				a = stat_of(&Ls[i].shell).med;
				b = stat_of(&Ls[i].unsh_sh).med;
			}
			char c[32];
			snprintf(c, sizeof(c), "%7.2fx", b > 0 ? a / b : NAN);
			printf("  %-24s", c);
		}
		printf("\n");
	}
	printf("\nmemory:\n");
	for (int i = 0; i < nl; i++)
		if (Ls[i].n > 0)
			printf("  kernel (Slab+Percpu) with N = %-5d held: %8.1f MB  (%.1f kB per session, holder included)\n",
			       Ls[i].n, Ls[i].kmem_held / 1024.0, (double)Ls[i].kmem_held / Ls[i].n);
	if (mem_n > 0) {
		printf("  kernel (Slab+Percpu) per held session:  %6.1f kB  (%ld kB over %d sessions)\n",
		       (double)kmem_sess / mem_n, kmem_sess, mem_n);
		printf("    of which an idle process (control):   %6.1f kB  (%ld kB over %d idle processes)\n",
		       (double)kmem_idle / mem_n, kmem_idle, mem_n);
		printf("    the login's own (netns, veth, ...):   %6.1f kB\n",
		       (double)(kmem_sess - kmem_idle) / mem_n);
	}
	if (more_n > 0)
		printf("  the same over the next %-4d sessions:   %6.1f kB  (%ld kB; holder process included)\n",
		       more_n,
		       (double)kmem_more / more_n, kmem_more);
	printf("  private (Private_Dirty) of what waits for a whole login (`sleep 30` login):\n");
	printf("    outer ns-shell  %5ld kB\n    reaper (PID 1)  %5ld kB\n    together        %5ld kB"
	       "   (unshare --fork, for comparison: %ld kB)\n",
	       pm->outer, pm->reaper, pm->outer >= 0 && pm->reaper >= 0 ? pm->outer + pm->reaper : -1,
	       pm->unsh);

	printf("\nhow to read:\n"
	       "  ours     what pam_ns costs sshd/su/login per session: open_session (config, user and\n"
	       "           group lookup, locks, the user's session records, own lease (store), record\n"
	       "           write, syslog line, and the kernel work) and close_session, each timed\n"
	       "           around the one libpam call, in-process (pam_start_confdir).\n"
	       "  floor    the same kernel work with nothing else: new netns (IPv6 off), the nft\n"
	       "           guard table in it (anti-spoofing, DHCP guard; its own row), veth with\n"
	       "           its peer created inside as eth0, enslaved, port isolated, up; lo and eth0\n"
	       "           up, address, default route, the host's permanent neighbour entry (routed:\n"
	       "           /32s, link-local next hop, host route); caller moves in / back. ours/floor - 1 is\n"
	       "           what our bookkeeping costs; the 'parts' rows say where it goes.\n"
	       "  ip(8)    the article's shell recipe for the same network (ip netns add; ip link\n"
	       "           add ... type veth peer name ...; set netns; master; up; ip -n: lo up,\n"
	       "           peer up, addr add, route add default; teardown: ip netns del). It does\n"
	       "           not isolate the port or switch IPv6 off, which favours it slightly.\n"
	       "           Its slowest step moves the existing peer into the namespace (the kernel\n"
	       "           waits for RCU grace periods); pam_ns creates the peer inside in the\n"
	       "           first place. Each ip(8) command is also a fork+exec (~1-2 ms here).\n"
	       "           ip(8)/ours > 1 means ours is that many times faster.\n"
	       "  ns-shell `ns-shell -c /bin/true` run as the user inside a pam_ns session, fork to\n"
	       "           exit status (checks the record, unshares, mounts /proc /sys mqueue shm,\n"
	       "           seccomp, drops privileges, reaper, shell = /bin/sh -c /bin/true).\n"
	       "           unshare(1) is the bare-kernel reference for the same namespaces (as root);\n"
	       "           'the same, running /bin/sh -c' runs what ns-shell runs (the user's shell with\n"
	       "           -c: one more exec, and sh forks for the command) instead of /bin/true itself.\n"
	       "           --check is the part before any namespace work: exec of the setuid binary,\n"
	       "           dynamic linking, config, user and groups, privilege drop.\n"
	       "           'per run': CPU time and page faults of the command and every process it\n"
	       "           waited for (wait4's rusage): what a login costs the machine, and where\n"
	       "           a VM makes it dear (a page fault or a syscall costs it many times bare\n"
	       "           metal's).\n"
	       "  N        sessions of other users held open meanwhile (real pam_ns sessions, one\n"
	       "           holder process each): what grows with N is per-login work that is O(N).\n"
	       "  veth gone  not part of any time above: after a close, the kernel destroys the\n"
	       "           namespace and its veth asynchronously; the bench waits for that before\n"
	       "           the next round trip so that every open meets a settled host.\n"
	       "  kernel memory  growth of Slab+Percpu (/proc/meminfo, machine-wide, so other\n"
	       "           activity adds noise) while the first sessions were opened, minus the\n"
	       "           same number of idle processes (the holder process itself).\n");
}

/* --------------------------------------------------------------- main -- */

static void usage(void)
{
	fputs("usage: ns-bench --pam-dir DIR --service NAME --user USER --hold-prefix P\n"
	      "                --ns-shell PATH --conf PATH --tmp DIR --floor-addr CIDR --ip-addr CIDR\n"
	      "                [--levels 0,100,1000] [--m 40] [--mem-users 100] [--warmup 2]\n"
	      "                [--unshare /usr/bin/unshare] [--network bridge|routed]\n"
	      "       ns-bench --machine   (prints this machine's cost of a page fault and of a\n"
	      "                             system call, in us)\n"
	      "Runs only inside the bench sandbox (bench/run.sh): it creates interfaces.\n", stderr);
	exit(2);
}

static void parse_levels(const char *s, struct opts *o)
{
	o->n_levels = 0;
	char *copy = strdup(s), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned long v;
		if (o->n_levels >= MAX_LEVELS || ns_parse_ulong(t, 100000, &v) < 0)
			usage();
		if (o->n_levels && (int)v <= o->levels[o->n_levels - 1])
			usage();   /* ascending: holders are added, never removed */
		o->levels[o->n_levels++] = (int)v;
	}
	free(copy);
	if (!o->n_levels)
		usage();
}

int main(int argc, char **argv)
{
	static struct opts o = { .m = 40, .mem_users = 100, .warmup = 2, .unshare = "/usr/bin/unshare" };
	parse_levels("0,100,1000", &o);
	if (argc == 2 && !strcmp(argv[1], "--machine")) {   /* for bench/kernel.sh */
		double fault_us, syscall_us;
		machine_costs(&fault_us, &syscall_us);
		printf("%.2f %.2f\n", fault_us, syscall_us);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long x;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--pam-dir")) o.pam_dir = v;
		else if (!strcmp(a, "--service")) o.service = v;
		else if (!strcmp(a, "--user")) o.user = v;
		else if (!strcmp(a, "--hold-prefix")) o.hold_prefix = v;
		else if (!strcmp(a, "--ns-shell")) o.ns_shell = v;
		else if (!strcmp(a, "--conf")) o.conf = v;
		else if (!strcmp(a, "--tmp")) o.tmp = v;
		else if (!strcmp(a, "--floor-addr")) o.floor_addr = v;
		else if (!strcmp(a, "--ip-addr")) o.ip_addr = v;
		else if (!strcmp(a, "--unshare")) o.unshare = v;
		else if (!strcmp(a, "--network") && (!strcmp(v, "routed") || !strcmp(v, "bridge")))
			o.routed = !strcmp(v, "routed");
		else if (!strcmp(a, "--levels")) parse_levels(v, &o);
		else if (!strcmp(a, "--m") && ns_parse_ulong(v, MAX_M, &x) == 0 && x > 0) o.m = (int)x;
		else if (!strcmp(a, "--mem-users") && ns_parse_ulong(v, 100000, &x) == 0) o.mem_users = (int)x;
		else if (!strcmp(a, "--warmup") && ns_parse_ulong(v, 100, &x) == 0) o.warmup = (int)x;
		else usage();
	}
	if (!o.pam_dir || !o.service || !o.user || !o.hold_prefix || !o.ns_shell || !o.conf || !o.tmp ||
	    !o.floor_addr || !o.ip_addr)
		usage();
	O = &o;
	if (geteuid() != 0)
		die("needs root (run it through bench/run.sh, inside the sandbox)");
	/* The sandbox records the host's netns inode before re-executing itself
	 * in new namespaces: refuse to create anything unless we are elsewhere. */
	const char *hostnet = getenv("NS_SB_HOSTNET");
	unsigned long hostino;
	if (!hostnet || ns_parse_ulong(hostnet, ~0UL, &hostino) < 0 || (unsigned long)netns_ino() == hostino)
		die("refusing to run outside the bench sandbox (bench/run.sh): it creates interfaces");
	signal(SIGPIPE, SIG_IGN);
	/* Connect the syslog socket now, in the host's namespace, as a daemon
	 * like sshd has long done. Otherwise the process's first syslog() is
	 * pam_ns's "session ... in network namespace" line, sent after the move:
	 * the socket is then created in the user's namespace and keeps it (and
	 * its veth) alive after close_session, until this process exits. */
	openlog("ns-bench", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct ns_errlist errs;
	struct ns_config *cfg = NULL;
	if (ns_config_load(o.conf, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.line[i]);
		die("config %s does not load", o.conf);
	}
	G = ns_config_globals(cfg);
	ROUTED = o.routed;
	if (!ROUTED && !G->gateway.family)
		die("the bench config needs a gateway");
	if (ns_cidr_parse(o.floor_addr, true, &FLOOR_ADDR) < 0 || ns_cidr_parse(o.ip_addr, true, &IP_ADDR) < 0)
		die("bad --floor-addr or --ip-addr");
	struct passwd *pw = getpwnam(o.user);
	if (!pw)
		die("no user %s", o.user);
	if (ns_veth_name(pw->pw_uid, NULL, BENCH_VETH) < 0)
		die("veth name for uid %u", (unsigned)pw->pw_uid);
	ORIG_NETFD = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct ns_err err = { 0 };
	if (ORIG_NETFD < 0 || ns_nl_open(&HOST_NL, &err) < 0)
		die("host netlink: %s", err.msg);

	static struct level Ls[MAX_LEVELS];
	struct level scratch;
	double t_start = now_ms();

	/* Warm up (also creates the bridge through pam_ns). */
	memset(&scratch, 0, sizeof(scratch));
	progress("warming up (the first login creates the bridge)");
	for (int i = 0; i < 3; i++) {
		ours_round(&scratch, false);
		floor_round(&scratch, false);
		ip_round(&scratch, false);
	}

	/* Kernel memory: idle processes first, then the first sessions. */
	long kmem_idle = 0, kmem_sess = 0, kmem_more = 0;
	int mem_n = o.mem_users, more_n = 0;
	if (mem_n > 0) {
		struct hgroup idle, sess;
		progress("kernel memory: %d idle processes, then %d sessions", mem_n, mem_n);
		long k0 = kmem_kb();
		idlers_open(&idle, mem_n);
		long k1 = kmem_kb();
		holders_release(&idle);
		kmem_idle = k1 - k0;
		k0 = kmem_kb();
		holders_open(&sess, 0, mem_n);
		k1 = kmem_kb();
		kmem_sess = k1 - k0;
		double rel = holders_release(&sess);
		progress("closed %d sessions at once in %.0f ms; waiting for their veths", mem_n, rel);
		for (int i = 0; i < mem_n; i++) {
			char user[64], veth[16];
			snprintf(user, sizeof(user), "%s%d", o.hold_prefix, i);
			struct passwd *hp = getpwnam(user);
			if (hp && ns_veth_name(hp->pw_uid, NULL, veth) == 0)
				wait_gone(veth);
		}
	}

	struct privmem pm = { -1, -1, -1 };
	struct hgroup held[MAX_LEVELS];
	int n_held = 0, n_groups = 0;
	long kmem_base = kmem_kb();
	for (int li = 0; li < o.n_levels; li++) {
		struct level *L = &Ls[li];
		L->n = o.levels[li];
		if (L->n > n_held) {
			progress("N = %d: opening %d more sessions", L->n, L->n - n_held);
			double t0 = now_ms();
			long k0 = kmem_kb();
			holders_open(&held[n_groups++], n_held, L->n - n_held);
			if (n_held >= mem_n && mem_n > 0 && !more_n) {
				kmem_more = kmem_kb() - k0;
				more_n = L->n - n_held;
			}
			progress("N = %d: opened in %.1f s (%.2f ms each)", L->n, (now_ms() - t0) / 1e3,
				 (now_ms() - t0) / (L->n - n_held));
			n_held = L->n;
		}
		L->kmem_held = kmem_kb() - kmem_base;
		progress("N = %d: %d round trips of ours, floor, ip(8)", L->n, o.m);
		for (int i = 0; i < o.warmup + o.m; i++) {
			bool keep = i >= o.warmup;
			ours_round(L, keep);
			floor_round(L, keep);
			ip_round(L, keep);
		}
		progress("N = %d: %d runs of ns-shell and unshare", L->n, o.m);
		shell_block(L, o.warmup);
		parts_block(L);
		if (li == 0) {
			progress("N = %d: private memory of a sleep login", L->n);
			private_memory(&pm);
		}
	}
	print_table(Ls, o.n_levels, kmem_sess, kmem_idle, mem_n, kmem_more, more_n, &pm);

	progress("closing the %d held sessions", n_held);
	double rel = 0;
	for (int i = 0; i < n_groups; i++)
		rel += holders_release(&held[i]);
	progress("closed in %.1f s; whole bench %.1f s", rel / 1e3, (now_ms() - t_start) / 1e3);
	ns_nl_close(HOST_NL);
	ns_config_free(cfg);
	return 0;
}
