/* nsctl — see, check and clean what ns-shell and pam_ns made.
 *   nsctl status [--json] | check [--conf PATH] [--user NAME] | gc [--dry-run]
 *   nsctl leases | exec USER -- CMD...
 * Exit 0 on success, 1 on failure, 2 on usage errors. Root only. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ns_config.h"
#include "ns_lease.h"
#include "ns_netlink.h"
#include "ns_session.h"
#include "ns_steps.h"

#ifndef NS_CONF_PATH
#define NS_CONF_PATH "/etc/security/ns.conf"
#endif

static int usage(void)
{
	fputs("usage: nsctl status [--json]\n"
	      "       nsctl check [--conf PATH] [--user NAME]\n"
	      "       nsctl gc [--dry-run] [--kill]\n"
	      "       nsctl leases\n"
	      "       nsctl exec USER -- CMD...\n", stderr);
	return 2;
}

static struct ns_config *load(const char *path)
{
	struct ns_errlist errs;
	struct ns_config *c = NULL;
	if (ns_config_load(path, &c, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "nsctl: %s\n", errs.line[i]);
		if (errs.dropped)
			fprintf(stderr, "nsctl: ... and %zu more errors\n", errs.dropped);
		return NULL;
	}
	return c;
}

/* Processes whose network namespace is (dev, ino). Admin tool: O(procs). */
static int count_procs(dev_t dev, ino_t ino)
{
	DIR *d = opendir("/proc");
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300];
		struct stat st;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		if (stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
			n++;
	}
	closedir(d);
	return n;
}

struct status_ctx {
	bool json;
	int n;
	const struct ns_globals *g;
};

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	putchar('"');
}

static int status_one(const struct ns_session_rec *r, void *data)
{
	struct status_ctx *x = data;
	bool alive = ns_session_owner_alive(r);
	int procs = alive ? count_procs(r->netns_dev, r->netns_ino) : 0;
	char since[32];
	time_t t = (time_t)r->opened;
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S", localtime(&t));
	const char *bridge = r->veth[0] ? x->g->bridge : "";
	if (x->json) {
		printf("%s\n  {\"session\": ", x->n ? "," : "");
		json_str(r->sid);
		printf(", \"user\": ");
		json_str(r->user);
		printf(", \"uid\": %u, \"since\": %lld, \"netns\": ", (unsigned)r->uid, r->opened);
		json_str(r->netns);
		printf(", \"netns_inode\": %llu, \"veth\": ", (unsigned long long)r->netns_ino);
		json_str(r->veth);
		printf(", \"address\": ");
		json_str(r->address);
		printf(", \"bridge\": ");
		json_str(bridge);
		printf(", \"owner_pid\": %d, \"processes\": %d, \"stale\": %s}", (int)r->owner_pid, procs,
		       alive ? "false" : "true");
	} else {
		printf("%-8s %-12s %-6u %-19s %-20s %-11s %-18s %-8s %-8d %d%s\n", r->sid, r->user,
		       (unsigned)r->uid, since, r->netns, r->veth[0] ? r->veth : "-",
		       r->address[0] ? r->address : "-", bridge[0] ? bridge : "-", (int)r->owner_pid, procs,
		       alive ? "" : " (stale)");
	}
	x->n++;
	return 0;
}

static int cmd_status(const struct ns_globals *g, bool json)
{
	struct status_ctx x = { json, 0, g };
	if (json)
		printf("[");
	else
		printf("%-8s %-12s %-6s %-19s %-20s %-11s %-18s %-8s %-8s %s\n", "SESSION", "USER", "UID",
		       "SINCE", "NETNS", "VETH", "ADDRESS", "BRIDGE", "OWNER", "PROCS");
	int r = ns_session_foreach(g->state_dir, status_one, &x);
	if (json)
		printf("%s]\n", x.n ? "\n" : "");
	if (r < 0) {
		fprintf(stderr, "nsctl: cannot read %s/sessions: %s\n", g->state_dir, strerror(-r));
		return 1;
	}
	return 0;
}

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

static int cmd_check(const char *conf, const char *user)
{
	struct ns_config *c = load(conf);
	if (!c)
		return 1;
	printf("%s: valid\n", conf);
	const char *services[] = { "sshd", "login", "su", "su-l", "systemd-user" };
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/etc/pam.d/%s", services[i]);
		if (access(path, F_OK) == 0 && !pam_stack_has_ns(services[i], 0))
			printf("warning: the PAM stack of %s has no pam_ns.so session line\n", services[i]);
	}
	FILE *t = fopen("/proc/sys/dev/tty/legacy_tiocsti", "re");
	if (t) {
		int v = 0;
		if (fscanf(t, "%d", &v) == 1 && v == 1)
			printf("warning: the kernel allows TIOCSTI (dev.tty.legacy_tiocsti = 1); ns-shell filters "
			       "it inside logins, other programs are exposed\n");
		fclose(t);
	}
	/* A loopback stub resolver on the host is unreachable from a user's
	 * own network namespace. */
	struct ns_policy def;
	ns_policy_resolve(c, "", NULL, 0, &def);
	FILE *rf = fopen("/etc/resolv.conf", "re");
	char rl[256];
	while (rf && fgets(rl, sizeof(rl), rf)) {
		char ns[64];
		if (sscanf(rl, " nameserver %63s", ns) == 1 &&
		    (strncmp(ns, "127.", 4) == 0 || strcmp(ns, "::1") == 0) && def.n_dns == 0) {
			printf("warning: /etc/resolv.conf points at a loopback resolver (%s): logins in their own "
			       "network namespace get no DNS; set `dns` in ns.conf (or /etc/netns/NAME/resolv.conf)\n",
			       ns);
			break;
		}
	}
	if (rf)
		fclose(rf);
	int rc = 0;
	if (user) {
		struct passwd *pw = getpwnam(user);
		char **groups = NULL;
		size_t ng = 0;
		if (!pw) {
			fprintf(stderr, "nsctl: no such user: %s\n", user);
			rc = 1;
		} else if (ns_user_groups(pw->pw_name, pw->pw_gid, &groups, &ng) < 0) {
			fprintf(stderr, "nsctl: cannot read the groups of %s\n", user);
			rc = 1;
		} else {
			struct ns_policy p;
			bool ex = ns_config_exempt(c, pw->pw_name, (const char *const *)groups, ng);
			ns_policy_resolve(c, pw->pw_name, (const char *const *)groups, ng, &p);
			printf("user         = %s (uid %u)\nexempt       = %s\n", pw->pw_name,
			       (unsigned)pw->pw_uid, ex ? "yes" : "no");
			ns_policy_print(stdout, &p);
		}
		free(groups);
	}
	ns_config_free(c);
	return rc;
}

struct gc_ctx {
	const struct ns_globals *g;
	bool dry, kill;
	int removed, failed;
	struct ns_nl *nl;
};

static int gc_record(const struct ns_session_rec *r, void *data)
{
	struct gc_ctx *x = data;
	if (ns_session_owner_alive(r))
		return 0;
	printf("%s stale session %s of %s (owner %d gone)\n", x->dry ? "would remove" : "removed", r->sid,
	       r->user, (int)r->owner_pid);
	if (!x->dry && ns_session_remove(x->g->state_dir, r->uid, r->sid) < 0)
		x->failed++;
	x->removed++;
	return 0;
}

static int veth_in_use(const struct ns_session_rec *r, void *data)
{
	return strcmp(r->veth, (const char *)data) == 0 && ns_session_owner_alive(r);
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

static void gc_veth(const char *name, const char *alias, int peer_nsid, void *data)
{
	struct gc_ctx *x = data;
	/* A login in progress has made its veth but not yet its record, under
	 * the user's lock: take that lock too (briefly), then look again. */
	unsigned uid;
	const char *u = strstr(alias, " uid=");
	_cleanup_close_ int ulock = -1;
	if (u && sscanf(u + 5, "%u", &uid) == 1) {
		char lockname[32];
		struct ns_err e;
		snprintf(lockname, sizeof(lockname), "user-%u", uid);
		if ((ulock = ns_lock_take(x->g->state_dir, lockname, 2000, &e)) < 0) {
			printf("skipped veth %s (%s): %s\n", name, alias, e.msg);
			return;
		}
	}
	if (ns_session_foreach(x->g->state_dir, veth_in_use, (void *)name) == 1)
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

static int cmd_gc(const struct ns_globals *g, bool dry, bool kill_strays)
{
	struct gc_ctx x = { g, dry, kill_strays, 0, 0, NULL };
	struct ns_err err;
	char lockname[] = "gc";
	int lock = ns_lock_take(g->state_dir, lockname, 10000, &err);
	if (lock < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		return 1;
	}
	ns_session_foreach(g->state_dir, gc_record, &x);
	if (ns_nl_open(&x.nl, &err) < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		close(lock);
		return 1;
	}
	int r = ns_nl_foreach_ours(x.nl, gc_veth, &x);
	ns_nl_close(x.nl);
	close(lock);
	if (r < 0) {
		fprintf(stderr, "nsctl: listing links: %s\n", strerror(-r));
		return 1;
	}
	if (x.removed == 0)
		printf("nothing to clean\n");
	return x.failed ? 1 : 0;
}

struct exec_find {
	uid_t uid;
	struct ns_session_rec *out;
};

static int exec_match(const struct ns_session_rec *r, void *data)
{
	struct exec_find *f = data;
	if (r->uid != f->uid || !ns_session_owner_alive(r))
		return 0;
	*f->out = *r;
	return 1;
}

static int cmd_leases(const struct ns_globals *g)
{
	struct ns_leases l;
	struct ns_err err;
	if (ns_leases_read(g->lease_file, &l, &err) < 0) {
		fprintf(stderr, "nsctl: %s\n", err.msg);
		return 1;
	}
	printf("%-16s %-12s %-8s %-19s %s\n", "ADDRESS", "USER", "UID", "LAST USED", "IN USE");
	for (size_t i = 0; i < l.n; i++) {
		char a[INET_ADDRSTRLEN], when[32];
		time_t t = (time_t)l.v[i].last_used;
		struct ns_session_rec probe;
		struct exec_find f = { l.v[i].uid, &probe };
		inet_ntop(AF_INET, &l.v[i].addr, a, sizeof(a));
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&t));
		uid_t uid = l.v[i].uid;
		bool busy = ns_session_foreach(g->state_dir, exec_match, &f) == 1;
		printf("%-16s %-12s %-8u %-19s %s\n", a, l.v[i].user, (unsigned)uid, when, busy ? "yes" : "no");
	}
	ns_leases_free(&l);
	return 0;
}

static int cmd_exec(const struct ns_globals *g, const char *user, char **cmd)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "nsctl: no such user: %s\n", user);
		return 1;
	}
	struct ns_session_rec rec;
	struct exec_find f = { pw->pw_uid, &rec };
	if (ns_session_foreach(g->state_dir, exec_match, &f) != 1) {
		fprintf(stderr, "nsctl: %s has no open session\n", user);
		return 1;
	}
	int fd = ns_session_open_netns(&rec);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "nsctl: cannot enter the namespace of session %s: %s\n", rec.sid,
			strerror(fd < 0 ? -fd : errno));
		return 1;
	}
	close(fd);
	execvp(cmd[0], cmd);
	fprintf(stderr, "nsctl: cannot run %s: %s\n", cmd[0], strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		usage();
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "nsctl: must be run as root\n");
		return 1;
	}
	if (strcmp(sub, "check") == 0) {
		const char *conf = NS_CONF_PATH, *user = NULL;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
				conf = argv[++i];
			else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
				user = argv[++i];
			else
				return usage();
		}
		return cmd_check(conf, user);
	}
	bool json = false, dry = false, kill_strays = false;
	if (strcmp(sub, "status") == 0 && argc <= 3) {
		if (argc == 3 && !(json = strcmp(argv[2], "--json") == 0))
			return usage();
	} else if (strcmp(sub, "gc") == 0) {
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--dry-run") == 0)
				dry = true;
			else if (strcmp(argv[i], "--kill") == 0)
				kill_strays = true;
			else
				return usage();
	} else if (strcmp(sub, "leases") == 0 && argc == 2) {
	} else if (strcmp(sub, "exec") == 0 && argc >= 5 && strcmp(argv[3], "--") == 0) {
	} else {
		return usage();
	}
	struct ns_config *c = load(NS_CONF_PATH);
	if (!c)
		return 1;
	const struct ns_globals *g = ns_config_globals(c);
	int rc;
	if (strcmp(sub, "status") == 0)
		rc = cmd_status(g, json);
	else if (strcmp(sub, "gc") == 0)
		rc = cmd_gc(g, dry, kill_strays);
	else if (strcmp(sub, "leases") == 0)
		rc = cmd_leases(g);
	else
		rc = cmd_exec(g, argv[2], argv + 4);
	ns_config_free(c);
	return rc;
}
