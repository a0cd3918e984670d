/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pam.c — pam_ns.so as libpam sees it, in-process, with no install:
 * a dlopen(RTLD_NOW) smoke test and the export list, then sessions through
 * pam_start_confdir() with a service file in a temp dir that names the
 * built module by absolute path and a temp ns.conf.
 *
 * Only paths that change nothing are exercised: exempt users, refused
 * configurations, unknown users, close without open. As a safety net every
 * config also says `network = "host"` without a "net" namespace, so even a
 * broken exemption would not touch this host's network; the debug log line
 * tells which reason applied.
 *
 * Run as root, the temp config is root-owned and loads; run as another
 * user it is "not owned by root" and every open must fail closed
 * (PAM_SESSION_ERR), which is asserted instead. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <grp.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "ns_steps.h"
#include "ns_util.h"
#include "fixtures.h"

/* ---------------------------------------------------------------- syslog */

/* libpam's pam_syslog() ends in __syslog_chk(); defined here, the
 * executable's definition wins, so the module's log lines can be checked. */
static char logbuf[16384];
static size_t loglen;

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	(void)pri;
	(void)flag;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		loglen += (size_t)n < sizeof(logbuf) - loglen ? (size_t)n : sizeof(logbuf) - loglen - 1;
	if (loglen + 1 < sizeof(logbuf))
		logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

static void log_clear(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

static void assert_logged(const char *what)
{
	if (!strstr(logbuf, what))
		fail_msg("log lacks \"%s\"; log:\n%s", what, logbuf);
}

static void assert_not_logged(const char *what)
{
	if (strstr(logbuf, what))
		fail_msg("log has \"%s\"; log:\n%s", what, logbuf);
}

/* ---------------------------------------------------------------- setup */

static char module[PATH_MAX];      /* absolute path of build/pam_ns.so */
static char me[64];                /* the user running the test */
static bool is_root;

/* build/tests/test_pam -> build/pam_ns.so */
static int find_module(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	for (int i = 0; i < 2; i++) {
		char *s = strrchr(exe, '/');
		if (!s)
			return -1;
		*s = '\0';
	}
	int len = snprintf(module, sizeof(module), "%s/pam_ns.so", exe);
	if (len < 0 || (size_t)len >= sizeof(module))
		return -1;
	if (access(module, R_OK) != 0) {
		fprintf(stderr, "test_pam: %s: %s (make unit does not build it: run make all first)\n", module,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	struct passwd *pw = getpwuid(getuid());
	if (!pw || find_module() < 0)
		return -1;
	snprintf(me, sizeof(me), "%s", pw->pw_name);
	is_root = geteuid() == 0;
	/* Root is never namespaced and never reads the config's verdict: as
	 * root, the sessions under test are nobody's (uid 65534). */
	if (is_root) {
		struct passwd *nb = getpwnam("nobody");
		if (!nb || nb->pw_uid < 1000)
			return -1;
		snprintf(me, sizeof(me), "%s", nb->pw_name);
	}
	if (tmpdir_make("pam") < 0)
		return -1;
	/* pam.d/ with an "other" that denies everything (libpam logs when
	 * there is none) */
	char p[300];
	static const char other[] = "auth required pam_deny.so\naccount required pam_deny.so\n"
				    "password required pam_deny.so\nsession required pam_deny.so\n";
	snprintf(p, sizeof(p), "%s/pam.d", tmpdir);
	if (mkdir(p, 0755) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/pam.d/other", tmpdir);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ns_write_all(fd, other, sizeof(other) - 1) < 0)
		return -1;
	close(fd);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return tmpdir_remove();
}

/* PATH with TEXT, then MODE */
static void write_text(const char *path, const char *text, mode_t mode)
{
	write_file(path, text, strlen(text), mode);
}

/* ns.conf with EXEMPT as exempt_users and the safety net described above;
 * state and leases inside the temp dir (their absence afterwards shows
 * that nothing was made). */
static void write_conf(const char *name, const char *exempt_users, const char *extra)
{
	char p[300], text[2048];
	path_of(p, sizeof(p), name);
	snprintf(text, sizeof(text),
		 "bridge = \"nstest0\"\n"
		 "create_bridge = false\n"
		 "state_dir = \"%s/state\"\n"
		 "lease_file = \"%s/leases\"\n"
		 "exempt_users = {%s}\n"
		 "%s\n"
		 "default {\n"
		 "    namespaces = {\"mount\", \"pid\"}\n"
		 "    network = \"host\"\n"
		 "}\n",
		 tmpdir, tmpdir, exempt_users, extra ? extra : "");
	write_text(p, text, 0644);
}

static void exempt_me_conf(const char *name)
{
	char users[100];
	snprintf(users, sizeof(users), "\"%s\"", me);
	write_conf(name, users, NULL);
}

/* pam.d/<service> in the temp dir: pam_ns with ARGS, then LINES. */
static void write_service(const char *service, const char *args, const char *lines)
{
	char p[300], text[2048];
	snprintf(p, sizeof(p), "%s/pam.d/%s", tmpdir, service);
	int n = snprintf(text, sizeof(text), "session required %s %s\n%s", module, args, lines ? lines : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_text(p, text, 0644);
}

static int no_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR;
}

static const struct pam_conv conv = { no_conv, NULL };

static pam_handle_t *start(const char *service, const char *user)
{
	char confdir[300];
	pam_handle_t *pamh = NULL;
	path_of(confdir, sizeof(confdir), "pam.d");
	int r = pam_start_confdir(service, user, &conv, confdir, &pamh);
	if (r != PAM_SUCCESS || !pamh)
		fail_msg("pam_start_confdir(%s): %d", service, r);
	return pamh;
}

/* libpam refuses pam_set_data() outside a module call, so the module's
 * entry points cannot be called directly (pam_modutil_getpwnam would spin
 * on it). Its exact verdict comes through a probe stack instead:
 *
 *   session [ignore=1 default=die] pam_ns.so ARGS
 *   session requisite pam_deny.so
 *   session required pam_permit.so
 *
 * module PAM_IGNORE -> the stack's PAM_SUCCESS; module PAM_SUCCESS -> "die"
 * with success -> PAM_PERM_DENIED; any other code is returned as is.
 * probe_result() maps it back to the module's own code. */
static int probe_result(int stack)
{
	if (stack == PAM_SUCCESS)
		return PAM_IGNORE;
	if (stack == PAM_PERM_DENIED)
		return PAM_SUCCESS;
	return stack;
}

static void write_probe(const char *service, const char *args)
{
	char p[300], text[2048];
	snprintf(p, sizeof(p), "%s/pam.d/%s", tmpdir, service);
	int n = snprintf(text, sizeof(text),
			 "session [ignore=1 default=die] %s %s\n"
			 "session requisite pam_deny.so\n"
			 "session required pam_permit.so\n", module, args);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_text(p, text, 0644);
}

/* Start a probe session for USER with module ARGS; *ret_open gets the
 * module's verdict on open. The handle is returned for more checks. */
static pam_handle_t *probe_open(const char *user, const char *args, int *ret_open)
{
	write_probe("probe", args);
	pam_handle_t *pamh = start("probe", user);
	*ret_open = probe_result(pam_open_session(pamh, 0));
	return pamh;
}

static int probe_close(pam_handle_t *pamh)
{
	return probe_result(pam_close_session(pamh, 0));
}

static const char *code_name(int r)
{
	switch (r) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
	default: return "other";
	}
}

#define assert_code(r, want) do {                                                         \
		int _r = (r), _w = (want);                                                \
		if (_r != _w)                                                             \
			fail_msg("module returned %d (%s), want %d (%s); log:\n%s", _r,    \
				 code_name(_r), _w, code_name(_w), logbuf);                \
	} while (0)

/* Nothing was made: no state dir, no lease file, same network namespace. */
static dev_t netns_dev0;
static ino_t netns_ino0;

static int case_setup(void **state)
{
	(void)state;
	log_clear();
	return ns_netns_id(0, &netns_dev0, &netns_ino0);
}

static void assert_nothing_made(void)
{
	char p[300];
	dev_t dev;
	ino_t ino;
	path_of(p, sizeof(p), "state");
	if (access(p, F_OK) == 0)
		fail_msg("%s was made", p);
	path_of(p, sizeof(p), "leases");
	if (access(p, F_OK) == 0)
		fail_msg("%s was made", p);
	assert_int_equal(ns_netns_id(0, &dev, &ino), 0);
	assert_true(dev == netns_dev0 && ino == netns_ino0);
}

static void assert_no_session_env(pam_handle_t *pamh)
{
	assert_null(pam_getenv(pamh, "NS_SHELL_SESSION"));
	char **env = pam_getenvlist(pamh);
	assert_non_null(env);
	for (char **e = env; *e; e++) {
		if (strncmp(*e, "NS_SHELL_SESSION=", 17) == 0)
			fail_msg("PAM environment has %s", *e);
		free(*e);
	}
	free(env);
}

/* Open a probe session of USER with module ARGS: the verdict is CODE, the
 * log has WANT (unless NULL), the PAM environment no session. Then end it. */
static void open_expect(const char *user, const char *args, int code, const char *want)
{
	int r;
	pam_handle_t *pamh = probe_open(user, args, &r);
	assert_code(r, code);
	if (want)
		assert_logged(want);
	assert_no_session_env(pamh);
	pam_end(pamh, PAM_SUCCESS);
}

/* open_expect of me where root is ignored, logging WHY, and a user fails
 * closed (the test's config is not root's) */
static void open_ignored(const char *args, const char *why)
{
	open_expect(me, args, is_root ? PAM_IGNORE : PAM_SESSION_ERR, is_root ? why : NULL);
}

/* ---------------------------------------------------------------- dlopen */

static void test_dlopen_now(void **state)
{
	(void)state;
	/* every symbol resolvable at load time */
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fail_msg("dlopen %s: %s", module, dlerror());
	assert_non_null(dlsym(h, "pam_sm_open_session"));
	assert_non_null(dlsym(h, "pam_sm_close_session"));
	/* only the session hooks: the core library stays inside */
	static const char *const hidden[] = {
		"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt", "pam_sm_chauthtok",
		"ns_config_load", "ns_config_load_string", "ns_config_free", "ns_login_open", "ns_login_close",
		"ns_lease_pick", "ns_lease_store_apply", "ns_session_write", "ns_lock_take", "ns_fail",
		"ns_proc_start_time", "ns_sid_random", "parse_args", "cleanup_session", "log_before_enter",
	};
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
		if (dlsym(h, hidden[i]))
			fail_msg("pam_ns.so exports %s", hidden[i]);
	assert_int_equal(dlclose(h), 0);
}

/* The dynamic symbol table, read from the file: exactly two definitions. */
static void test_exports_only_session_hooks(void **state)
{
	(void)state;
	int fd = open(module, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	const unsigned char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(eh->e_type, ET_DYN);
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	size_t defined = 0, found = 0;
	for (size_t i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		found++;
		const Elf64_Sym *sym = (const Elf64_Sym *)(m + sh[i].sh_offset);
		const char *str = (const char *)(m + sh[sh[i].sh_link].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++) {
			unsigned bind = ELF64_ST_BIND(sym[k].st_info);
			if (sym[k].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK &&
							    bind != STB_GNU_UNIQUE))
				continue;
			const char *name = str + sym[k].st_name;
			if (strcmp(name, "pam_sm_open_session") != 0 && strcmp(name, "pam_sm_close_session") != 0) {
				munmap((void *)m, (size_t)st.st_size);
				fail_msg("pam_ns.so exports %s", name);
			}
			defined++;
		}
	}
	munmap((void *)m, (size_t)st.st_size);
	assert_int_equal(found, 1);
	assert_int_equal(defined, 2);
}

/* ---------------------------------------------------------------- sessions */

static void test_exempt_user_ignored(void **state)
{
	(void)state;
	char conf[300], args[400];
	int r;
	exempt_me_conf("exempt.conf");
	path_of(conf, sizeof(conf), "exempt.conf");
	snprintf(args, sizeof(args), "conf=%s debug", conf);

	pam_handle_t *pamh = probe_open(me, args, &r);
	if (is_root) {
		assert_code(r, PAM_IGNORE);
		assert_logged("not namespaced (exempt)");
	} else {
		assert_code(r, PAM_SESSION_ERR);
		assert_logged("not owned by root");
		assert_logged("configuration ");
		assert_logged(" is not valid");
	}
	assert_no_session_env(pamh);
	/* close: nothing was opened here. (After a refused open, libpam
	 * replays the frozen chain of the open, so only close the handle
	 * whose open went through.) */
	if (is_root) {
		assert_code(probe_close(pamh), PAM_IGNORE);
		assert_no_session_env(pamh);
	}
	pam_end(pamh, PAM_SUCCESS);
	assert_nothing_made();
}

static void test_exempt_group_ignored(void **state)
{
	(void)state;
	char conf[300], args[400], extra[200];
	struct passwd *pw = getpwnam(me);
	assert_non_null(pw);
	struct group *gr = getgrgid(pw->pw_gid);
	assert_non_null(gr);
	snprintf(extra, sizeof(extra), "exempt_groups = {\"%s\"}\n", gr->gr_name);
	write_conf("group.conf", "", extra);
	path_of(conf, sizeof(conf), "group.conf");
	snprintf(args, sizeof(args), "debug conf=%s", conf);
	open_ignored(args, "not namespaced (exempt)");
	assert_nothing_made();
}

/* Not exempt, but nothing to do: network = host. */
static void test_network_host_ignored(void **state)
{
	(void)state;
	char conf[300], args[400];
	write_conf("host.conf", "", NULL);
	path_of(conf, sizeof(conf), "host.conf");
	snprintf(args, sizeof(args), "conf=%s debug", conf);
	open_ignored(args, "not namespaced (network = host)");
	assert_nothing_made();
}

/* The stack an admin writes: required, then the rest of the session. */
static void test_stack_exempt(void **state)
{
	(void)state;
	char conf[300], args[400];
	exempt_me_conf("stack.conf");
	path_of(conf, sizeof(conf), "stack.conf");
	snprintf(args, sizeof(args), "conf=%s", conf);
	write_service("ns-test", args, "session optional pam_permit.so\n");

	pam_handle_t *pamh = start("ns-test", me);
	int r = pam_open_session(pamh, 0);
	if (is_root) {
		if (r != PAM_SUCCESS)
			fail_msg("pam_open_session: %d (%s); log:\n%s", r, pam_strerror(pamh, r), logbuf);
	} else {
		/* required and refused: the login fails closed */
		assert_int_equal(r, PAM_SESSION_ERR);
		assert_logged("not owned by root");
	}
	assert_no_session_env(pamh);
	if (!is_root) {
		/* libpam closes along the frozen chain of the refused open: a
		 * fresh handle shows what close alone does */
		pam_end(pamh, r);
		pamh = start("ns-test", me);
	}
	r = pam_close_session(pamh, 0);
	assert_int_equal(r, PAM_SUCCESS);
	assert_no_session_env(pamh);
	pam_end(pamh, r);
	assert_nothing_made();

	/* with pam_ns alone, its PAM_IGNORE is no verdict: libpam refuses,
	 * hence the pam_permit line above */
	write_service("ns-alone", args, NULL);
	pamh = start("ns-alone", me);
	r = pam_open_session(pamh, 0);
	assert_int_not_equal(r, PAM_SUCCESS);
	assert_no_session_env(pamh);
	pam_end(pamh, r);
	assert_nothing_made();
}

static void test_config_missing(void **state)
{
	(void)state;
	char conf[300], args[400], want[340];
	path_of(conf, sizeof(conf), "no-such.conf");
	snprintf(args, sizeof(args), "conf=%s", conf);
	snprintf(want, sizeof(want), "configuration %s is not valid", conf);
	open_expect(me, args, PAM_SESSION_ERR, want);

	/* with pam_permit after it: still refused */
	write_service("ns-missing", args, "session optional pam_permit.so\n");
	pam_handle_t *pamh = start("ns-missing", me);
	assert_int_equal(pam_open_session(pamh, 0), PAM_SESSION_ERR);
	assert_no_session_env(pamh);
	pam_end(pamh, PAM_SESSION_ERR);
	assert_nothing_made();
}

static void test_config_broken(void **state)
{
	(void)state;
	char conf[300], args[400], want[340], text[600];
	int r;
	path_of(conf, sizeof(conf), "broken.conf");
	snprintf(args, sizeof(args), "conf=%s", conf);
	/* the user is exempt, but a broken file is refused before anything */
	snprintf(text, sizeof(text), "exempt_users = {\"%s\"}\nmtu = 5\nno_such_key = 1\n", me);
	write_text(conf, text, 0644);
	pam_handle_t *pamh = probe_open(me, args, &r);
	assert_code(r, PAM_SESSION_ERR);
	if (is_root) {
		/* every error, with file and line */
		snprintf(want, sizeof(want), "%s:2: mtu", conf);
		assert_logged(want);
		snprintf(want, sizeof(want), "%s:3: no_such_key", conf);
		assert_logged(want);
	} else {
		assert_logged("not owned by root");
	}
	assert_no_session_env(pamh);
	pam_end(pamh, PAM_SUCCESS);

	/* a good file writable by others is refused too */
	exempt_me_conf("broken.conf");
	assert_int_equal(chmod(conf, 0666), 0);
	log_clear();
	open_expect(me, args, PAM_SESSION_ERR, " is not valid");
	/* a symlink to a good file is refused */
	char link[300];
	assert_int_equal(chmod(conf, 0644), 0);
	path_of(link, sizeof(link), "link.conf");
	unlink(link);
	assert_int_equal(symlink(conf, link), 0);
	snprintf(args, sizeof(args), "conf=%s", link);
	log_clear();
	open_expect(me, args, PAM_SESSION_ERR, NULL);
	assert_nothing_made();
}

static void test_unknown_option_logged(void **state)
{
	(void)state;
	char conf[300], args[400];
	exempt_me_conf("opt.conf");
	path_of(conf, sizeof(conf), "opt.conf");
	snprintf(args, sizeof(args), "bogus conf=%s debug=1", conf);
	/* fail closed: a typo must not switch a guard off; logged once */
	open_expect(me, args, PAM_SESSION_ERR, "option \"bogus\" is not conf=/PATH, shell=/PATH or debug");
	assert_not_logged("debug=1");
	assert_not_logged("not namespaced");

	/* a relative shell= is refused the same way */
	log_clear();
	snprintf(args, sizeof(args), "conf=%s shell=bin/ns-shell", conf);
	open_expect(me, args, PAM_SESSION_ERR, "option \"shell=bin/ns-shell\" is not conf=/PATH");

	/* root is let through whatever the options and the config say */
	if (is_root) {
		char missing[300];
		path_of(missing, sizeof(missing), "no-such.conf");
		snprintf(args, sizeof(args), "bogus conf=%s", missing);
		log_clear();
		open_expect("root", args, PAM_IGNORE, "namespaced logins are refused (root is let through)");
	}

	/* close parses the same way; a relative conf= is no conf= at all
	 * (only close is run with it: open would fall back to the real
	 * /etc/security/ns.conf) */
	log_clear();
	write_probe("probe", "conf=relative/ns.conf conf=");
	pam_handle_t *pamh = start("probe", me);
	assert_code(probe_close(pamh), PAM_IGNORE);
	assert_logged("unknown option: conf=relative/ns.conf");
	assert_logged("unknown option: conf=");
	pam_end(pamh, PAM_SUCCESS);
	assert_nothing_made();
}

static void test_close_without_open(void **state)
{
	(void)state;
	write_probe("probe", "debug");
	pam_handle_t *pamh = start("probe", me);
	assert_code(probe_close(pamh), PAM_IGNORE);
	assert_code(probe_close(pamh), PAM_IGNORE);
	assert_string_equal(logbuf, "");
	pam_end(pamh, PAM_SUCCESS);

	/* in an ordinary stack */
	write_service("ns-close", "debug", "session optional pam_permit.so\n");
	pamh = start("ns-close", me);
	assert_int_equal(pam_close_session(pamh, 0), PAM_SUCCESS);
	assert_no_session_env(pamh);
	pam_end(pamh, PAM_SUCCESS);
	assert_nothing_made();
}

static void test_unknown_user(void **state)
{
	(void)state;
	char conf[300], args[400];
	write_conf("users.conf", "\"ns-test-no-such-user\"", NULL);
	path_of(conf, sizeof(conf), "users.conf");
	snprintf(args, sizeof(args), "conf=%s", conf);
	open_expect("ns-test-no-such-user", args, PAM_SESSION_ERR, "unknown user ns-test-no-such-user");

	/* no user at all, and the conversation cannot ask for one */
	log_clear();
	open_expect(NULL, args, PAM_SESSION_ERR, "cannot determine the user");
	assert_nothing_made();
}

/* The probe itself must tell the module's verdicts apart, or every
 * assertion above is hollow: pam_permit in its place says "success". */
static void test_probe_sane(void **state)
{
	(void)state;
	char p[300];
	int r;
	snprintf(p, sizeof(p), "%s/pam.d/permit", tmpdir);
	write_text(p, "session [ignore=1 default=die] pam_permit.so\nsession requisite pam_deny.so\n"
		      "session required pam_permit.so\n", 0644);
	pam_handle_t *pamh = start("permit", me);
	r = probe_result(pam_open_session(pamh, 0));
	pam_end(pamh, PAM_SUCCESS);
	assert_code(r, PAM_SUCCESS);
	write_text(p, "session [ignore=1 default=die] pam_deny.so\nsession requisite pam_deny.so\n"
		      "session required pam_permit.so\n", 0644);
	pamh = start("permit", me);
	r = probe_result(pam_open_session(pamh, 0));
	pam_end(pamh, PAM_SUCCESS);
	assert_code(r, PAM_SESSION_ERR);   /* pam_deny's session code, passed through */
}

/* ---------------------------------------------------------------- main */

#define CASE(f) cmocka_unit_test_setup(f, case_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_dlopen_now),
		CASE(test_probe_sane),
		CASE(test_exports_only_session_hooks),
		CASE(test_exempt_user_ignored),
		CASE(test_exempt_group_ignored),
		CASE(test_network_host_ignored),
		CASE(test_stack_exempt),
		CASE(test_config_missing),
		CASE(test_config_broken),
		CASE(test_unknown_option_logged),
		CASE(test_close_without_open),
		CASE(test_unknown_user),
	};
	return cmocka_run_group_tests_name("pam_ns.so", tests, group_setup, group_teardown) ? 1 : 0;
}
