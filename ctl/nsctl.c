/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nsctl — see, check and clean what ns-shell and pam_ns made.
 *   nsctl [--conf FILE] status [--json] | check [--user NAME] | gc [--dry-run] [--kill]
 *         | leases [--json] | exec USER -- CMD...
 *   nsctl --help | --version
 * Exit 0 on success, 1 on failure, 2 on usage errors (decided before the
 * root check). `check` needs no root; the other commands do. Reports go to
 * stdout, errors and warnings (one line each, "nsctl: ...") to stderr. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "ns_config.h"
#include "ns_lease.h"
#include "ns_leasework.h"
#include "ns_login.h"
#include "ns_netlink.h"
#include "ns_policy.h"
#include "ns_session.h"
#include "ns_steps.h"

#ifndef NS_CONF_PATH
#define NS_CONF_PATH "/etc/security/ns.conf"
#endif

/* The version of every JSON document nsctl prints (top-level "schema").
 * Bumped only when a key changes meaning or goes away; new keys may be
 * added without a bump. */
#define NSCTL_JSON_SCHEMA 1

#define TIOCSTI_SYSCTL "/proc/sys/dev/tty/legacy_tiocsti"

/* ------------------------------------------------------------ the CLI --- */

static void usage(FILE *f)
{
	fputs("Usage:\n"
	      " nsctl [--conf FILE] COMMAND [OPTIONS]\n"
	      "\n"
	      "Show, check and clean the namespaces of ns-shell logins.\n"
	      "\n"
	      "Commands:\n"
	      " status [--json]          list the open sessions\n"
	      " check [--user NAME]      validate the configuration, warn about ways around\n"
	      "                            pam_ns, show the policy of a user (no root needed)\n"
	      " gc [--dry-run] [--kill]  reap stale sessions and leaked veths\n"
	      " leases [--json]          list the address leases\n"
	      " exec USER -- CMD...      run CMD in the network namespace of USER\n"
	      " terminate USER           end every process of USER's logins, lingering ones too\n"
	      "\n"
	      "Options:\n"
	      " --conf FILE    configuration file (default " NS_CONF_PATH ")\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display the version\n"
	      "\n"
	      "For more details see nsctl(8).\n", f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("nsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'nsctl --help' for more information.\n", stderr);
	return 2;
}

static void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warning(const char *fmt, ...)
{
	va_list ap;
	fputs("nsctl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

enum cmd { CMD_STATUS, CMD_CHECK, CMD_GC, CMD_LEASES, CMD_EXEC, CMD_TERMINATE };

static const struct command {
	const char *name;
	enum cmd cmd;
	bool needs_root;
} commands[] = {
	{ "status", CMD_STATUS, true },
	{ "check", CMD_CHECK, false },  /* validates a file: any user may */
	{ "gc", CMD_GC, true },
	{ "leases", CMD_LEASES, true },
	{ "exec", CMD_EXEC, true },
	{ "terminate", CMD_TERMINATE, true },
};

struct opts {
	const char *conf;
	bool json, dry, kill;
	const char *user;       /* check --user */
	const char *exec_user;
	char **exec_cmd;
};

/* --NAME VALUE or --NAME=VALUE at argv[*i]: 1 and *ret set when it is that
 * option, 0 when not, -1 (usage error printed) when the value is missing. */
static int opt_value(char **argv, int argc, int *i, const char *name, const char **ret)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*ret = argv[*i] + n + 1;
	} else if (argv[*i][n] == '\0') {
		if (*i + 1 >= argc) {
			usage_error("option '%s' needs an argument", name);
			return -1;
		}
		*ret = argv[++*i];
	} else {
		return 0;
	}
	if (!**ret) {
		usage_error("option '%s' needs a non-empty argument", name);
		return -1;
	}
	return 1;
}

static bool is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

/* The arguments of command C from argv[i]. Returns -1 to go on, or the
 * exit status (0 after --help, 2 after a usage error). */
static int parse_command(const struct command *c, char **argv, int argc, int i, struct opts *o)
{
	bool dashdash = false;
	for (; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (is_help(a)) {
			usage(stdout);
			return 0;
		}
		if ((r = opt_value(argv, argc, &i, "--conf", &o->conf)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		if (c->cmd == CMD_CHECK && (r = opt_value(argv, argc, &i, "--user", &o->user)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		if ((c->cmd == CMD_STATUS || c->cmd == CMD_LEASES) && strcmp(a, "--json") == 0)
			o->json = true;
		else if (c->cmd == CMD_GC && strcmp(a, "--dry-run") == 0)
			o->dry = true;
		else if (c->cmd == CMD_GC && strcmp(a, "--kill") == 0)
			o->kill = true;
		else if (c->cmd == CMD_EXEC && strcmp(a, "--") == 0) {
			dashdash = true;
			i++;
			break;
		} else if (a[0] == '-')
			return usage_error("%s: unknown option '%s'", c->name, a);
		else if ((c->cmd == CMD_EXEC || c->cmd == CMD_TERMINATE) && !o->exec_user)
			o->exec_user = a;
		else if (c->cmd == CMD_EXEC)
			return usage_error("exec: '--' must come between USER and CMD (got '%s')", a);
		else
			return usage_error("%s: unexpected argument '%s'", c->name, a);
	}
	if (c->cmd == CMD_TERMINATE && !o->exec_user)
		return usage_error("terminate: no USER given");
	if (c->cmd == CMD_EXEC) {
		if (!o->exec_user)
			return usage_error("exec: no USER given");
		if (!dashdash || i >= argc)
			return usage_error("exec: no command given (nsctl exec USER -- CMD...)");
		o->exec_cmd = argv + i;
	}
	return -1;
}

/* ---------------------------------------------------------- helpers --- */

/* ISO 8601 local time with the UTC offset: 2026-12-07T03:49:17+00:00. */
static void iso_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char z[8];
	if (!localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(z, sizeof(z), "%z", &tm) != 5) {
		snprintf(buf, size, "%lld", t);
		return;
	}
	size_t n = strlen(buf);
	snprintf(buf + n, size - n, "%.3s:%.2s", z, z + 3);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	putchar('"');
}

/* The config: 0, or 1 after printing every problem (one line each). */
static int load(const char *path, struct ns_config **ret)
{
	struct ns_errlist errs;
	int r = ns_config_load(path, ret, &errs);
	if (r >= 0)
		return 0;
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "nsctl: %s\n", errs.line[i]);
	if (errs.dropped)
		fprintf(stderr, "nsctl: ... and %zu more errors\n", errs.dropped);
	if (r == -EPERM)
		fprintf(stderr, "nsctl: %s: pam_ns and ns-shell refuse it too: it must be a regular file "
			"owned by root, not writable by group or others\n", path);
	return 1;
}

/* The network namespace of every process, read from /proc once per run
 * and sorted: counting the processes of N namespaces is then one walk of
 * /proc and N binary searches, not N walks (5,000 users, 10,000 processes). */
struct netns_id {
	dev_t dev;
	ino_t ino;
};

static int netns_id_cmp(const void *a, const void *b)
{
	const struct netns_id *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static struct netns_id *PROC_NS;
static size_t PROC_NS_N;

static void proc_ns_load(void)
{
	DIR *d = opendir("/proc");
	size_t cap = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300];
		struct stat st;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		if (stat(path, &st) < 0)
			continue;
		if (PROC_NS_N == cap) {
			struct netns_id *v = realloc(PROC_NS, (cap = cap ? 2 * cap : 1024) * sizeof(*v));
			if (!v)
				break;
			PROC_NS = v;
		}
		PROC_NS[PROC_NS_N++] = (struct netns_id){ st.st_dev, st.st_ino };
	}
	if (d)
		closedir(d);
	if (PROC_NS_N)
		qsort(PROC_NS, PROC_NS_N, sizeof(*PROC_NS), netns_id_cmp);
}

/* Processes whose network namespace is (dev, ino), as of the first call. */
static int count_procs(dev_t dev, ino_t ino)
{
	static bool loaded;
	if (!loaded) {
		proc_ns_load();
		loaded = true;
	}
	struct netns_id key = { dev, ino };
	size_t lo = 0, hi = PROC_NS_N;
	while (lo < hi) {   /* the first entry >= key */
		size_t mid = lo + (hi - lo) / 2;
		if (netns_id_cmp(&PROC_NS[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	int n = 0;
	while (lo < PROC_NS_N && netns_id_cmp(&PROC_NS[lo], &key) == 0)
		lo++, n++;
	return n;
}

/* Every valid session record, read once, sorted by opening time. */
struct sessions {
	size_t n, cap;
	struct ns_session_rec *v;
	bool *alive;
};

static int sessions_add(const struct ns_session_rec *r, void *data)
{
	struct sessions *s = data;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct ns_session_rec *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *r;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct ns_session_rec *x = a, *y = b;
	if (x->opened != y->opened)
		return x->opened < y->opened ? -1 : 1;
	return strcmp(x->sid, y->sid);
}

static void sessions_free(struct sessions *s)
{
	free(s->v);
	free(s->alive);
}

static int sessions_read(const char *state_dir, struct sessions *s)
{
	memset(s, 0, sizeof(*s));
	int r = ns_session_foreach(state_dir, sessions_add, s);
	if (r < 0) {
		fprintf(stderr, "nsctl: cannot read %s/sessions: %s\n", state_dir, strerror(-r));
		sessions_free(s);
		return 1;
	}
	qsort(s->v, s->n, sizeof(*s->v), rec_cmp);
	s->alive = calloc(s->n ? s->n : 1, sizeof(bool));
	if (!s->alive) {
		fprintf(stderr, "nsctl: out of memory\n");
		sessions_free(s);
		return 1;
	}
	for (size_t i = 0; i < s->n; i++)
		s->alive[i] = ns_session_owner_alive(&s->v[i]);
	return 0;
}

/* ------------------------------------------------------------ status --- */

/* Is the PAM session SID among the live records? */
static bool session_open(const struct sessions *s, const char *sid)
{
	for (size_t i = 0; i < s->n; i++)
		if (!ns_session_is_shell(&s->v[i]) && s->alive[i] && strcmp(s->v[i].sid, sid) == 0)
			return true;
	return false;
}

/* Logins whose PAM session closed but whose processes still run (linger):
 * per login, its user, the namespace it holds, since when, how many
 * processes are in that namespace. */
static void status_lingering(const struct sessions *s, bool json)
{
	size_t shown = 0;
	if (json)
		printf(",\n  \"lingering\": [");
	for (size_t i = 0; i < s->n; i++) {
		const struct ns_session_rec *r = &s->v[i];
		if (!ns_session_is_shell(r) || !s->alive[i] || session_open(s, r->session))
			continue;
		char opened[48];
		int procs = count_procs(r->netns_dev, r->netns_ino);
		iso_time(r->opened, opened, sizeof(opened));
		if (json) {
			printf("%s\n    {\"user\": ", shown ? "," : "");
			json_str(r->user);
			printf(", \"uid\": %u, \"since\": ", (unsigned)r->uid);
			json_str(opened);
			printf(", \"netns\": ");
			json_str(r->netns);
			printf(", \"netns_inode\": %llu, \"address\": ", (unsigned long long)r->netns_ino);
			json_str(r->address);
			printf(", \"reaper_pid\": %d, \"processes\": %d}", (int)r->owner_pid, procs);
		} else {
			if (!shown)
				printf("\nLINGERING (logged out, processes still running)\n%-12s %-10s %-25s %-20s %-18s %-8s %s\n",
				       "USER", "UID", "SINCE", "NETNS", "ADDRESS", "REAPER", "PROCS");
			printf("%-12s %-10u %-25s %-20s %-18s %-8d %d\n", r->user, (unsigned)r->uid, opened, r->netns,
			       r->address[0] ? r->address : "-", (int)r->owner_pid, procs);
		}
		shown++;
	}
	if (json)
		printf("%s]", shown ? "\n  " : "");
}

/* The bridge link NAME is a port of, from sysfs: 1 and *ret set ("" when
 * none), 0 when that cannot be told (no such link in the sysfs we see). */
static int link_master(const char *name, char *ret, size_t size)
{
	char path[96], target[256];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	if (lstat(path, &st) < 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", name);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return 0;
		ret[0] = '\0';
		return 1;
	}
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	ns_strlcpy(ret, base ? base + 1 : target, size);
	return 1;
}

static int cmd_status(const struct ns_globals *g, bool json)
{
	struct sessions s;
	if (sessions_read(g->state_dir, &s))
		return 1;
	if (json)
		printf("{\n  \"schema\": %d,\n  \"sessions\": [", NSCTL_JSON_SCHEMA);
	else
		printf("%-8s %-12s %-10s %-25s %-20s %-11s %-18s %-8s %-8s %s\n", "SID", "USER", "UID", "OPENED",
		       "NETNS", "VETH", "ADDRESS", "BRIDGE", "OWNER", "PROCS");
	size_t shown = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct ns_session_rec *r = &s.v[i];
		if (ns_session_is_shell(r))
			continue;   /* a login's reaper: under "lingering" when its session is gone */
		int procs = s.alive[i] ? count_procs(r->netns_dev, r->netns_ino) : 0;
		/* The bridge the veth is a port of, as the kernel says: none for
		 * a routed login (or a veth that is gone). */
		char bridge[64] = "";
		if (!r->veth[0] || !link_master(r->veth, bridge, sizeof(bridge)))
			bridge[0] = '\0';
		char opened[48];
		iso_time(r->opened, opened, sizeof(opened));
		if (json) {
			printf("%s\n    {\"session\": ", shown++ ? "," : "");
			json_str(r->sid);
			printf(", \"user\": ");
			json_str(r->user);
			printf(", \"uid\": %u, \"opened\": ", (unsigned)r->uid);
			json_str(opened);
			printf(", \"netns\": ");
			json_str(r->netns);
			printf(", \"netns_inode\": %llu, \"veth\": ", (unsigned long long)r->netns_ino);
			json_str(r->veth);
			printf(", \"address\": ");
			json_str(r->address);
			printf(", \"bridge\": ");
			json_str(bridge);
			printf(", \"owner_pid\": %d, \"processes\": %d, \"stale\": %s}", (int)r->owner_pid,
			       procs, s.alive[i] ? "false" : "true");
		} else {
			printf("%-8s %-12s %-10u %-25s %-20s %-11s %-18s %-8s %-8d %d%s\n", r->sid, r->user,
			       (unsigned)r->uid, opened, r->netns, r->veth[0] ? r->veth : "-",
			       r->address[0] ? r->address : "-", bridge[0] ? bridge : "-", (int)r->owner_pid,
			       procs, s.alive[i] ? "" : " (stale)");
		}
	}
	if (json)
		printf("%s]", shown ? "\n  " : "");
	status_lingering(&s, json);
	if (json)
		printf("\n}\n");
	sessions_free(&s);
	return 0;
}

/* ------------------------------------------------------------- check --- */

/* The services that start a user's processes (DESIGN.md, "Where to hook it
 * in"): each of them without pam_ns in its session stack is a way around
 * the module. */
static const char *const user_services[] = { "sshd", "login", "su", "su-l", "cron", "atd", "systemd-user" };

static bool pam_stack_has_ns(const char *service, int depth)
{
	char path[256], line[512];
	snprintf(path, sizeof(path), "/etc/pam.d/%s", service);
	FILE *f = fopen(path, "re");
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		if (*p == '#')
			continue;
		/* "-session" (no log when the module is missing) is a session line
		 * too; a control may be "[value=action ...]" with spaces inside. */
		if (*p == '-')
			p++;
		char type[32], control[64], arg[128];
		int n = sscanf(p, "%31s %63s", type, control);
		const char *rest = p + strspn(p, " \t");
		rest += strcspn(rest, " \t");
		rest += strspn(rest, " \t");
		if (*rest == '[') {
			const char *close = strchr(rest, ']');
			if (!close)
				continue;
			snprintf(control, sizeof(control), "[...]");
			rest = close + 1;
		} else {
			rest += strcspn(rest, " \t");
		}
		if (n >= 2 && sscanf(rest, "%127s", arg) == 1)
			n = 3;
		if (n >= 3 && strcmp(type, "session") == 0 && strstr(arg, "pam_ns.so"))
			found = true;
		else if (depth < 4 && n >= 2 && strcmp(type, "@include") == 0 && !strchr(control, '/'))
			found = pam_stack_has_ns(control, depth + 1);
		else if (depth < 4 && n >= 3 && strcmp(type, "session") == 0 &&
			 (strcmp(control, "include") == 0 || strcmp(control, "substack") == 0) &&
			 !strchr(arg, '/'))
			found = pam_stack_has_ns(arg, depth + 1);
	}
	fclose(f);
	return found;
}

static void check_pam_services(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(user_services); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/etc/pam.d/%s", user_services[i]);
		if (access(path, F_OK) == 0 && !pam_stack_has_ns(user_services[i], 0))
			warning("%s: no pam_ns.so in the session stack: %s starts users' processes "
			     "outside their namespaces", path, user_services[i]);
	}
}

static void check_tiocsti(void)
{
	FILE *t = fopen(TIOCSTI_SYSCTL, "re");
	if (!t) {
		if (errno == ENOENT)
			warning("the kernel allows TIOCSTI (no dev.tty.legacy_tiocsti: Linux before 6.2); "
			     "ns-shell and pam_ns filter it inside logins, other processes can use it");
		else
			warning("cannot tell whether the kernel allows TIOCSTI: %s: %s", TIOCSTI_SYSCTL,
			     strerror(errno));
		return;
	}
	int v = 0;
	if (fscanf(t, "%d", &v) == 1 && v == 1)
		warning("the kernel allows TIOCSTI (dev.tty.legacy_tiocsti = 1); ns-shell filters "
		     "it inside logins, other programs are exposed");
	fclose(t);
}

/* A loopback stub resolver on the host is unreachable from a user's own
 * network namespace. */
static void check_resolver(const struct ns_config *c)
{
	struct ns_policy def;
	ns_policy_resolve(c, "", NULL, 0, &def);
	if (def.n_dns)
		return;
	FILE *rf = fopen("/etc/resolv.conf", "re");
	char rl[256];
	while (rf && fgets(rl, sizeof(rl), rf)) {
		char ns[64];
		if (sscanf(rl, " nameserver %63s", ns) == 1 &&
		    (strncmp(ns, "127.", 4) == 0 || strcmp(ns, "::1") == 0)) {
			warning("/etc/resolv.conf points at a loopback resolver (%s): logins in their own "
			     "network namespace get no DNS; set `dns` in ns.conf (or /etc/netns/NAME/resolv.conf)",
			     ns);
			break;
		}
	}
	if (rf)
		fclose(rf);
}

static int cmd_check(const char *conf, const char *user)
{
	_cleanup_config_ struct ns_config *c = NULL;
	if (load(conf, &c))
		return 1;
	printf("%s: valid\n", conf);
	check_pam_services();
	check_tiocsti();
	check_resolver(c);
	if (!user)
		return 0;
	struct passwd *pw = getpwnam(user);
	_cleanup_user_policy_ struct ns_user_policy up = { 0 };
	struct ns_err err = { 0 };
	if (!pw) {
		fprintf(stderr, "nsctl: no such user: %s\n", user);
		return 1;
	}
	/* what pam_ns and ns-shell get through ns_policy_for() */
	if (ns_policy_lookup(c, pw->pw_name, pw->pw_uid, pw->pw_gid, &up, &err) < 0) {
		fprintf(stderr, "nsctl: cannot read the groups of %s\n", user);
		return 1;
	}
	printf("user         = %s (uid %u)\nexempt       = %s\n", pw->pw_name, (unsigned)pw->pw_uid,
	       up.exempt ? "yes" : "no");
	ns_policy_print(stdout, &up.policy);
	return 0;
}

/* ---------------------------------------------------------------- gc --- */

struct live_addrs;

struct gc_ctx {
	const struct ns_globals *g;
	bool dry, kill;
	int removed, failed;
	struct ns_nl *nl;
	const struct live_addrs *live;   /* for the neighbour entries (see gc_neigh) */
};

/* Checks that must pass before gc changes anything. gc acts on the host's
 * view (its network namespace, /proc, the state directory): conditions
 * under which that view is wrong (e.g. nsctl run from inside a user's
 * namespaces) belong here. 0 to go on, else the exit status after a
 * one-line "nsctl: ..." on stderr. */
/* Reap nothing from inside a user's namespaces (nsctl exec, a login):
 * owners there are not visible and every record would look stale. */
static int gc_preflight(const struct ns_globals *g)
{
	struct ns_err err = { 0 };
	if (ns_host_check(g->state_dir, &err) < 0) {
		fprintf(stderr, "nsctl: gc refused: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int gc_record(const struct ns_session_rec *r, void *data)
{
	struct gc_ctx *x = data;
	if (ns_session_owner_alive(r))
		return 0;
	printf("%s stale session %s of %s (owner %d gone)\n", x->dry ? "would remove" : "removed", r->sid,
	       r->user, (int)r->owner_pid);
	int e;
	if (!x->dry && (e = ns_session_remove(x->g->state_dir, r->uid, r->sid)) < 0) {
		fprintf(stderr, "nsctl: cannot remove the record of session %s: %s\n", r->sid, strerror(-e));
		x->failed++;
	}
	x->removed++;
	if (r->netns[0] && ns_login_release_netns(x->g->state_dir, r, x->dry))
		printf("%s the DHCP client of namespace %s (no session of it is left)\n",
		       x->dry ? "would stop" : "stopped", r->netns);
	if (ns_login_cut_stale(x->g, r, x->dry))
		printf("%s the link of namespace %s (its session ended without closing; an extra address goes "
		       "back to the pool)\n", x->dry ? "would cut" : "cut", r->netns);
	return 0;
}

/* The parent of PID (from /proc/PID/stat), 0 when it cannot be read. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	int ppid = 0;
	return p && sscanf(p + 1, " %*c %d", &ppid) == 1 ? (pid_t)ppid : 0;
}

/* SIGKILL a login's reaper, the recorded process (pid and start time
 * checked through a pidfd, so a recycled pid is never hit), and wait, at
 * most 2 s, for it and for its parent (the outer ns-shell, which exits
 * with it): after that nothing of the login holds its namespace. */
static int kill_recorded(pid_t pid, unsigned long long start_rec)
{
	unsigned long long start;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : -1;
	pid_t parent = parent_of(pid);
	int ppfd = parent > 1 ? (int)syscall(SYS_pidfd_open, parent, 0) : -1;
	int r = ns_proc_start_time(pid, &start) < 0 || start != start_rec ? 0   /* gone, or another process */
		: syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0 ? 1
		: errno == ESRCH ? 0 : -1;
	struct pollfd w[2] = { { .fd = pfd, .events = POLLIN }, { .fd = ppfd, .events = POLLIN } };
	if (r == 1)
		poll(&w[0], 1, 2000);
	if (r == 1 && ppfd >= 0)
		poll(&w[1], 1, 1000);
	close(pfd);
	if (ppfd >= 0)
		close(ppfd);
	return r;
}

/* A login of a linger = false user whose PAM session is gone (sshd killed,
 * say): what still runs there should have ended at logout. End it: its
 * reaper is PID 1 of the login's PID namespace. linger = true logins are
 * left alone (they are what linger means). A reaper that ends by itself
 * meanwhile (a logout's last steps: the session record goes a moment
 * before the reaper) is not a failure and not reported. */
static int gc_login(const struct ns_session_rec *r, void *data)
{
	struct gc_ctx *x = data;
	struct ns_session_rec sess;
	if (!ns_session_is_shell(r) || r->linger || !ns_session_owner_alive(r) ||
	    r->owner_pidns != ns_pidns_self() ||
	    (ns_session_read(x->g->state_dir, r->session, &sess) == 0 && ns_session_owner_alive(&sess)))
		return 0;
	int k = x->dry ? 1 : kill_recorded(r->owner_pid, r->owner_start);
	if (k == 0)
		return 0;
	if (k < 0) {
		fprintf(stderr, "nsctl: cannot end login %s (pid %d): %s\n", r->sid, (int)r->owner_pid, strerror(errno));
		x->failed++;
		return 0;
	}
	printf("%s login %s of %s: linger = false and its session %s is gone\n", x->dry ? "would end" : "ended",
	       r->sid, r->user, r->session);
	x->removed++;
	if (!x->dry)
		ns_session_remove(x->g->state_dir, r->uid, r->sid);
	return 0;
}

struct veth_use {
	const char *state_dir, *veth;
};

/* A live record names the veth. A login of a linger = false user whose
 * session is gone does not count: what still runs there is a stray that
 * gc reports (and ends with --kill); a lingering login (linger = true)
 * does count, and gc leaves it alone. */
static int veth_in_use(const struct ns_session_rec *r, void *data)
{
	const struct veth_use *u = data;
	if (strcmp(r->veth, u->veth) != 0 || !ns_session_owner_alive(r))
		return 0;
	struct ns_session_rec sess;
	if (ns_session_is_shell(r) && !r->linger &&
	    !(ns_session_read(u->state_dir, r->session, &sess) == 0 && ns_session_owner_alive(&sess)))
		return 0;
	return 1;
}

/* The record of a (killed) login behind VETH (veth_use). */
static int drop_reaper_of_veth(const struct ns_session_rec *r, void *data)
{
	const struct veth_use *u = data;
	if (ns_session_is_shell(r) && strcmp(r->veth, u->veth) == 0)
		ns_session_remove(u->state_dir, r->uid, r->sid);
	return 0;
}

/* Pids whose network namespace the host knows by NSID (the peer side of
 * one of our veths). Admin tool: walks /proc. */
static size_t pids_in_nsid(struct ns_nl *nl, int nsid, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	size_t n = 0;
	struct dirent *e;
	if (!d || nsid < 0) {
		if (d)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d)) && n < max) {
		char path[300];
		int id = -1;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ns_nl_netnsid_of_fd(nl, fd, &id) == 0 && id == nsid)
			out[n++] = (pid_t)atoi(e->d_name);
		close(fd);
	}
	closedir(d);
	return n;
}


/* Does no live login use veth NAME (ALIAS)? Most veths are a live
 * login's: its user's own index says so at once. A login in progress has
 * made its veth but not yet its record, under the user's lock: take that
 * lock too (left in *RET_LOCK: held while the caller acts), then look at
 * every record (a record written by other means is in no index). */
static bool veth_idle(const struct gc_ctx *x, const char *name, const char *alias, int *ret_lock)
{
	uid_t uid;
	bool has_uid = ns_veth_alias_uid(alias, &uid) == 0;
	struct veth_use use = { x->g->state_dir, name };
	if (has_uid && ns_session_foreach_uid(x->g->state_dir, uid, veth_in_use, &use) == 1)
		return false;
	if (has_uid) {
		char lockname[32];
		struct ns_err e;
		snprintf(lockname, sizeof(lockname), "user-%u", uid);
		if ((*ret_lock = ns_lock_take(x->g->state_dir, lockname, 2000, &e)) < 0) {
			warning("skipped veth %s (%s): %s", name, alias, e.msg);
			return false;
		}
	}
	return ns_session_foreach(x->g->state_dir, veth_in_use, &use) != 1;
}

static void gc_veth(const char *name, const char *alias, int peer_nsid, void *data)
{
	struct gc_ctx *x = data;
	/* A port of another bridge belongs to logins of another ns.conf (PAM's
	 * conf=, with its own state_dir): their sessions are not in our
	 * records, so judging the veth here would reap, or kill, live logins. */
	char master[64];
	if (link_master(name, master, sizeof(master)) && master[0] && strcmp(master, x->g->bridge) != 0) {
		warning("left veth %s (%s) alone: it is a port of bridge %s, not of %s (a login under "
			"another configuration? see --conf)", name, alias, master, x->g->bridge);
		return;
	}
	_cleanup_close_ int ulock = -1;
	if (!veth_idle(x, name, alias, &ulock))
		return;
	pid_t pids[256];
	size_t np = pids_in_nsid(x->nl, peer_nsid, pids, ARRAY_SIZE(pids));
	if (np > 0) {
		printf("namespace behind %s (%s) is kept alive by %zu process%s outside any session:", name,
		       alias, np, np == 1 ? "" : "es");
		for (size_t i = 0; i < np; i++)
			printf(" %d", (int)pids[i]);
		printf("%s\n", x->kill ? (x->dry ? " (would kill)" : " (killed)") : " (use --kill to end them)");
		if (!x->kill) {
			/* Not leaked while its namespace lives: it is the only handle
			 * gc has on those processes (a later gc --kill needs it). */
			printf("kept veth %s (%s) while its namespace is in use\n", name, alias);
			x->removed++;
			return;
		}
		for (size_t i = 0; !x->dry && i < np; i++)
			kill(pids[i], SIGKILL);
		if (!x->dry)   /* their logins' records go with them */
			ns_session_foreach(x->g->state_dir, drop_reaper_of_veth, &(struct veth_use){ x->g->state_dir, name });
	}
	struct ns_err err;
	int d;
	printf("%s leaked veth %s (%s)\n", x->dry ? "would delete" : "deleted", name, alias);
	/* -ENODEV (gone meanwhile: the kernel's teardown) leaves err unset. */
	if (!x->dry && (d = ns_nl_link_delete(x->nl, name, &err)) < 0 && d != -ENODEV) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		x->failed++;
	}
	x->removed++;
}

/* The IPv4 addresses of the live records (sessions, lingering logins),
 * read once per gc and sorted: one look per neighbour entry. */
struct live_addrs {
	uint32_t *v;
	size_t n, cap;
};

static int live_addr_add(const struct ns_session_rec *r, void *data)
{
	struct live_addrs *a = data;
	struct ns_cidr c;
	if (!r->address[0] || ns_cidr_parse(r->address, true, &c) < 0 || c.family != AF_INET ||
	    !ns_session_owner_alive(r))
		return 0;
	if (a->n == a->cap) {
		uint32_t *v = realloc(a->v, (a->cap = a->cap ? 2 * a->cap : 64) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
	}
	a->v[a->n++] = ntohl(c.addr.v4.s_addr);
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A permanent neighbour entry pam_ns made on the bridge (a locally
 * administered MAC, an address of the pool) that no live login holds any
 * more: the address's next login would replace it; gc removes it. (A
 * login between its entry and its record loses the entry to a gc at that
 * moment: the host then resolves that address by ARP, as without one.) */
static void gc_neigh(const struct ns_cidr *addr, const uint8_t mac[6], void *data)
{
	struct gc_ctx *x = data;
	char a[64];
	if (!(mac[0] & 0x02) || !ns_cidr_contains(&x->g->pool, addr))
		return;
	uint32_t key = ntohl(addr->addr.v4.s_addr);
	if (!x->live || bsearch(&key, x->live->v, x->live->n, sizeof(key), u32_cmp))
		return;   /* held by a live login (or the records could not be read) */
	ns_cidr_format(addr, false, a, sizeof(a));
	printf("%s neighbour entry %s on %s (no login holds it)\n", x->dry ? "would remove" : "removed", a,
	       x->g->bridge);
	x->removed++;
	if (!x->dry && ns_nl_neigh_delete(x->nl, x->g->bridge, addr) < 0) {
		fprintf(stderr, "nsctl: cannot remove the neighbour entry %s\n", a);
		x->failed++;
	}
}

static void lease_freed(const struct ns_lease *e, void *data)
{
	struct gc_ctx *x = data;
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &e->addr, a, sizeof(a));
	printf("%s address %s of %s: its session %s is gone\n", x->dry ? "would free" : "freed", a, e->user, e->sid);
	x->removed++;
}

/* The lease store: tags of sessions that are gone, and the index. */
static void gc_leases(struct gc_ctx *x)
{
	struct ns_err err;
	size_t fixed = 0;
	int r = ns_leases_gc(x->g, x->dry, lease_freed, x, &fixed, &err);
	if (r < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		x->failed++;
	} else if (r == NS_LEASES_GC_PENDING) {
		struct stat st;
		if (lstat(x->g->lease_file, &st) == 0)
			printf("would import the lease file %s into the lease store first (leases not looked at)\n",
			       x->g->lease_file);
	} else if (fixed) {
		printf("pointed the lease index at %zu lease%s it did not name\n", fixed, fixed == 1 ? "" : "s");
		x->removed++;
	}
}

static int cmd_gc(const struct ns_globals *g, bool dry, bool kill_strays)
{
	int rc = gc_preflight(g);
	if (rc)
		return rc;
	struct gc_ctx x = { .g = g, .dry = dry, .kill = kill_strays };
	struct ns_err err;
	_cleanup_close_ int lock = ns_lock_take(g->state_dir, "gc", 10000, &err);
	if (lock < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		return 1;
	}
	ns_session_foreach(g->state_dir, gc_record, &x);
	ns_session_foreach(g->state_dir, gc_login, &x);
	gc_leases(&x);
	if (ns_nl_open(&x.nl, &err) < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		return 1;
	}
	int r = ns_nl_foreach_ours(x.nl, gc_veth, &x);
	struct live_addrs live = { 0 };
	if (r >= 0 && ns_session_foreach(g->state_dir, live_addr_add, &live) == 0) {
		if (live.n)
			qsort(live.v, live.n, sizeof(*live.v), u32_cmp);
		x.live = &live;   /* no bridge (routed, or none yet): nothing to look at */
		ns_nl_foreach_perm_neigh(x.nl, g->bridge, gc_neigh, &x);
	}
	free(live.v);
	ns_nl_close(x.nl);
	if (r < 0) {
		fprintf(stderr, "nsctl: listing links: %s\n", strerror(-r));
		return 1;
	}
	if (x.removed == 0)
		printf("nothing to clean\n");
	return x.failed ? 1 : 0;
}

/* ------------------------------------------------------------ leases --- */

/* Is the lease L held by a live session: its own session when tagged,
 * else any live session of its uid. */
static bool lease_in_use(const struct ns_lease *l, const struct sessions *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->alive[i] && s->v[i].uid == l->uid && (!l->sid[0] || strcmp(s->v[i].sid, l->sid) == 0))
			return true;
	return false;
}

static int cmd_leases(const struct ns_globals *g, bool json)
{
	struct ns_leases l;
	struct ns_err err;
	struct sessions s;
	if (ns_leases_list(g, &l, &err) < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		return 1;
	}
	if (sessions_read(g->state_dir, &s)) {
		ns_leases_free(&l);
		return 1;
	}
	if (json)
		printf("{\n  \"schema\": %d,\n  \"leases\": [", NSCTL_JSON_SCHEMA);
	else
		printf("%-16s %-12s %-8s %-25s %-6s %s\n", "ADDRESS", "USER", "UID", "LAST-USED", "IN-USE", "SID");
	for (size_t i = 0; i < l.n; i++) {
		const struct ns_lease *e = &l.v[i];
		char a[INET_ADDRSTRLEN], when[48];
		inet_ntop(AF_INET, &e->addr, a, sizeof(a));
		iso_time(e->last_used, when, sizeof(when));
		bool busy = lease_in_use(e, &s);
		if (json) {
			printf("%s\n    {\"address\": ", i ? "," : "");
			json_str(a);
			printf(", \"user\": ");
			json_str(e->user);
			printf(", \"uid\": %u, \"last_used\": ", (unsigned)e->uid);
			json_str(when);
			printf(", \"in_use\": %s, \"session\": ", busy ? "true" : "false");
			json_str(e->sid);
			putchar('}');
		} else {
			printf("%-16s %-12s %-8u %-25s %-6s %s\n", a, e->user, (unsigned)e->uid, when,
			       busy ? "yes" : "no", e->sid[0] ? e->sid : "-");
		}
	}
	if (json)
		printf("%s]\n}\n", l.n ? "\n  " : "");
	for (size_t i = 0; i < l.n_held; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &l.held[i], a, sizeof(a));
		warning("%s.d/%s: a bad lease entry (its address is never handed out): mend or remove it",
			g->lease_file, a);
	}
	sessions_free(&s);
	ns_leases_free(&l);
	return 0;
}

/* -------------------------------------------------------------- exec --- */

static int cmd_exec(const struct ns_globals *g, const char *user, char **cmd)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "nsctl: no such user: %s\n", user);
		return 1;
	}
	struct sessions s;
	if (sessions_read(g->state_dir, &s))
		return 1;
	struct ns_session_rec rec;
	size_t i = 0;
	while (i < s.n && !(s.v[i].uid == pw->pw_uid && s.alive[i]))
		i++;
	bool found = i < s.n;
	if (found)
		rec = s.v[i];
	sessions_free(&s);
	if (!found) {
		fprintf(stderr, "nsctl: %s has no open session\n", user);
		return 1;
	}
	int fd = ns_session_open_netns(&rec);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "nsctl: cannot enter the namespace of session %s: %s\n", rec.sid,
			strerror(fd < 0 ? -fd : errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	fflush(stdout);
	execvp(cmd[0], cmd);
	fprintf(stderr, "nsctl: cannot run %s: %s\n", cmd[0], strerror(errno));
	return 1;
}

/* --------------------------------------------------------- terminate --- */

/* SIGKILL every process of UID whose network namespace is (DEV, INO):
 * what a login without a PID namespace of its own left behind. */
static int kill_in_netns(uid_t uid, dev_t dev, ino_t ino)
{
	DIR *d = opendir("/proc");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300];
		struct stat st, pst;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s", e->d_name);
		if (stat(path, &pst) < 0 || pst.st_uid != uid)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		if (stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino && kill(atoi(e->d_name), SIGKILL) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* As loginctl terminate-user: end every login of USER, lingering ones
 * too. Killing a login's reaper (PID 1 of its PID namespace) ends every
 * process in it; the kernel then frees the namespaces and the veth. */
static int cmd_terminate(const struct ns_globals *g, const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "nsctl: no such user: %s\n", user);
		return 1;
	}
	struct sessions s;
	if (sessions_read(g->state_dir, &s))
		return 1;
	int logins = 0, procs = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct ns_session_rec *r = &s.v[i];
		unsigned long long start;
		if (r->uid != pw->pw_uid || !ns_session_is_shell(r) || !s.alive[i])
			continue;
		/* the pid is still the recorded reaper (start time), then kill */
		if (ns_proc_start_time(r->owner_pid, &start) == 0 && start == r->owner_start &&
		    kill(r->owner_pid, SIGKILL) == 0)
			logins++;
		procs += kill_in_netns(pw->pw_uid, r->netns_dev, r->netns_ino);
	}
	sessions_free(&s);
	printf("terminated %d login%s of %s (%d more processes killed)\n", logins, logins == 1 ? "" : "s", user,
	       procs);
	return 0;
}

/* -------------------------------------------------------------- main --- */

/* Global options and the command: every usage error is found here, before
 * the root check. Returns -1 to go on (*ret_cmd set), else the exit status. */
static int parse_cli(int argc, char **argv, struct opts *o, const struct command **ret_cmd)
{
	int i = 1, r;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			usage(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("nsctl %s\n", NS_VERSION);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		if ((r = opt_value(argv, argc, &i, "--conf", &o->conf)) < 0)
			return 2;
		if (r == 0)
			return usage_error("unknown option '%s'", argv[i]);
	}
	if (i >= argc) {
		fputs("nsctl: no command given\n", stderr);
		usage(stderr);
		return 2;
	}
	const struct command *c = NULL;
	for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			c = &commands[k];
	if (!c)
		return usage_error("unknown command '%s'", argv[i]);
	if ((r = parse_command(c, argv, argc, i + 1, o)) >= 0)
		return r == 0 && fflush(stdout) != 0 ? 1 : r;
	*ret_cmd = c;
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .conf = NS_CONF_PATH };
	const struct command *c = NULL;
	tzset();
	int r = parse_cli(argc, argv, &o, &c);
	if (r >= 0)
		return r;

	if (c->needs_root && geteuid() != 0) {
		fprintf(stderr, "nsctl: %s must be run as root\n", c->name);
		return 1;
	}

	int rc;
	if (c->cmd == CMD_CHECK) {
		rc = cmd_check(o.conf, o.user);
	} else {
		_cleanup_config_ struct ns_config *conf = NULL;
		if (load(o.conf, &conf))
			return 1;
		const struct ns_globals *g = ns_config_globals(conf);
		switch (c->cmd) {
		case CMD_STATUS: rc = cmd_status(g, o.json); break;
		case CMD_GC: rc = cmd_gc(g, o.dry, o.kill); break;
		case CMD_LEASES: rc = cmd_leases(g, o.json); break;
		case CMD_EXEC: rc = cmd_exec(g, o.exec_user, o.exec_cmd); break;
		case CMD_TERMINATE: rc = cmd_terminate(g, o.exec_user); break;
		default: rc = 2; break;
		}
	}
	/* A report that did not reach its reader is a failure. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "nsctl: write error: %s\n", strerror(errno));
		rc = 1;
	}
	return rc;
}
