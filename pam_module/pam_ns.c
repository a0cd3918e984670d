/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pam_ns.so — PAM glue for the network side of a login (see docs/DESIGN.md).
 *
 *   session required pam_ns.so [conf=PATH] [shell=PATH] [debug]
 *
 * Arguments are parsed once; a word that is not an option, or a conf=/shell=
 * that is not an absolute path, is logged once and refuses every login but
 * root's (fail closed: a typo must not switch the chsh guard off). Root
 * (uid 0) is decided before anything else, the config included, so that no
 * config mistake can lock root out. Every decision is in lib/
 * (ns_policy_for, ns_login_open/close). Nothing is read from the PAM
 * environment or getenv(): users set both. The state of an open session
 * lives under one pam_set_data key; its destructor only closes a
 * descriptor, so it is safe in a forked child. */
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "ns_config.h"
#include "ns_login.h"
#include "ns_policy.h"

#ifndef NS_CONF_PATH
#define NS_CONF_PATH "/etc/security/ns.conf"
#endif
#define DATA_KEY "pam_ns:session"

struct args {
	const char *conf;
	const char *shell;   /* shell=PATH: namespaced users must have this login shell */
	const char *bad;     /* the first unusable word, NULL when all are good */
	bool debug;
};

static void parse_args(int argc, const char **argv, struct args *a)
{
	a->conf = NS_CONF_PATH;
	a->shell = NULL;
	a->bad = NULL;
	a->debug = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "debug") == 0)
			a->debug = true;
		else if (strncmp(argv[i], "conf=", 5) == 0 && argv[i][5] == '/')
			a->conf = argv[i] + 5;
		else if (strncmp(argv[i], "shell=", 6) == 0 && argv[i][6] == '/')
			a->shell = argv[i] + 6;
		else if (!a->bad)
			a->bad = argv[i];
	}
}

/* Root first: never namespaced, never dependent on the config or the state
 * directories. The config is still read, to tell the admin loudly that
 * every other login is being refused. */
static int open_root(pam_handle_t *pamh, const struct args *a)
{
	struct ns_errlist errs;
	struct ns_config *cfg = NULL;
	if (a->bad)
		pam_syslog(pamh, LOG_CRIT, "option \"%s\" is not conf=/PATH, shell=/PATH or debug: "
			   "every login but root's is refused", a->bad);
	if (ns_config_load(a->conf, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			pam_syslog(pamh, LOG_CRIT, "%s", errs.line[i]);
		pam_syslog(pamh, LOG_CRIT, "configuration %s is not valid: namespaced logins are refused "
			   "(root is let through)", a->conf);
	}
	ns_config_free(cfg);
	if (a->debug)
		pam_syslog(pamh, LOG_DEBUG, "root: not namespaced (uid 0)");
	return PAM_IGNORE;
}

static void cleanup_session(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	struct ns_login *s = data;
	ns_login_forget(s);   /* never moves namespaces: may run in a child */
	free(s);
}

struct log_ctx {
	pam_handle_t *pamh;
	const char *user;
	uid_t uid;
};

/* Logged while still in the caller's own namespace: a syslog socket made
 * after the move would belong to the user's namespace and keep it alive. */
static void log_before_enter(const struct ns_login *s, void *data)
{
	const struct log_ctx *lc = data;
	pam_syslog(lc->pamh, LOG_INFO, "%s (uid %u): session %s in network namespace %s", lc->user,
		   (unsigned)lc->uid, s->sid, s->netns);
}

/* The PAM user and its passwd entry; NULL (logged) when there is none. */
static struct passwd *session_user(pam_handle_t *pamh, const char **ret_user)
{
	const char *user = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user");
		return NULL;
	}
	struct passwd *pw = pam_modutil_getpwnam(pamh, user);
	if (!pw) {
		pam_syslog(pamh, LOG_ERR, "unknown user %s", user);
		return NULL;
	}
	*ret_user = user;
	return pw;
}

/* The config and the user's groups (ns_policy_for); -errno, logged, when
 * the config is not valid or the groups cannot be read. */
static int load_for(pam_handle_t *pamh, const struct args *a, const char *user, const struct passwd *pw,
		    struct ns_config **ret_cfg, struct ns_user_policy *ret)
{
	struct ns_errlist errs;
	struct ns_err err = { 0 };
	int r = ns_policy_for(a->conf, pw->pw_name, pw->pw_uid, pw->pw_gid, ret_cfg, ret, &errs, &err);
	if (r >= 0)
		return 0;
	if (errs.n == 0) {
		pam_syslog(pamh, LOG_ERR, "%s: session refused", err.msg[0] ? err.msg : "cannot read the groups");
		return r;
	}
	for (size_t i = 0; i < errs.n; i++)
		pam_syslog(pamh, LOG_ERR, "%s", errs.line[i]);
	pam_syslog(pamh, LOG_ERR, "session of %s refused: configuration %s is not valid", user, a->conf);
	return r;
}

/* Config, groups, then ns_login_open into a new *ret_s (which the caller
 * frees unless it is stored). NS_LOGIN_OPENED, NS_LOGIN_IGNORED or -errno,
 * each logged. */
static int open_login(pam_handle_t *pamh, const struct args *a, const char *user, const struct passwd *pw,
		      struct ns_login **ret_s)
{
	_cleanup_config_ struct ns_config *cfg = NULL;
	_cleanup_user_policy_ struct ns_user_policy up = { 0 };
	int r = load_for(pamh, a, user, pw, &cfg, &up);
	ns_trace("config+groups");
	if (r < 0)
		return r;
	struct ns_login_who who = { pw->pw_name, pw->pw_uid, pw->pw_gid, (const char *const *)up.groups,
				    up.n_groups, pw->pw_shell, a->shell };
	struct ns_login *s = *ret_s = calloc(1, sizeof(*s));
	struct ns_err err = { 0 };
	const char *why = NULL;
	struct log_ctx lc = { pamh, pw->pw_name, pw->pw_uid };
	r = s ? ns_login_open(cfg, &who, log_before_enter, &lc, s, &why, &err)
	      : ns_fail(&err, -ENOMEM, "out of memory");
	if (r == NS_LOGIN_IGNORED && a->debug)
		pam_syslog(pamh, LOG_DEBUG, "%s: not namespaced (%s)", user, why);
	else if (r < 0)
		pam_syslog(pamh, LOG_ERR, "session of %s refused: %s", user, err.msg);
	return r;
}

/* Hand the open session to the PAM stack: its id in the environment, its
 * state under DATA_KEY for close_session. Undone when either fails. */
static int store_session(pam_handle_t *pamh, const char *user, struct ns_login *s)
{
	char env[64];
	struct ns_err err = { 0 };
	snprintf(env, sizeof(env), "NS_SHELL_SESSION=%s", s->sid);
	if (pam_putenv(pamh, env) != PAM_SUCCESS ||
	    pam_set_data(pamh, DATA_KEY, s, cleanup_session) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "session of %s refused: cannot store the session", user);
		ns_login_close(s, &err);
		free(s);
		return PAM_SESSION_ERR;
	}
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	const char *user = NULL;
	struct ns_login *s = NULL;
	(void)flags;
	ns_trace("open");
	parse_args(argc, argv, &a);

	struct passwd *pw = session_user(pamh, &user);
	ns_trace("passwd");
	if (!pw)
		return PAM_SESSION_ERR;
	if (pw->pw_uid == 0)
		return open_root(pamh, &a);
	if (a.bad) {
		pam_syslog(pamh, LOG_ERR, "session of %s refused: option \"%s\" is not conf=/PATH, "
			   "shell=/PATH or debug", user, a.bad);
		return PAM_SESSION_ERR;
	}
	int r = open_login(pamh, &a, user, pw, &s);
	if (r == NS_LOGIN_IGNORED || r < 0) {
		free(s);
		return r == NS_LOGIN_IGNORED ? PAM_IGNORE : PAM_SESSION_ERR;
	}
	r = store_session(pamh, user, s);
	ns_trace("open-end");
	ns_trace_flush();
	return r;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	const void *data = NULL;
	(void)flags;
	parse_args(argc, argv, &a);
	if (a.bad)
		pam_syslog(pamh, LOG_ERR, "unknown option: %s", a.bad);
	if (pam_get_data(pamh, DATA_KEY, &data) != PAM_SUCCESS || !data)
		return PAM_IGNORE;   /* not opened here (exempt, or another process) */
	struct ns_login *s = (struct ns_login *)data;
	struct ns_err err = { 0 };
	char sid[sizeof(s->sid)];
	memcpy(sid, s->sid, sizeof(sid));
	ns_trace("close");
	int r = ns_login_close(s, &err);
	ns_trace("close-end");
	ns_trace_flush();
	pam_set_data(pamh, DATA_KEY, NULL, NULL);   /* runs cleanup_session: frees s */
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "closing session %s: %s", sid, err.msg);
		return PAM_SESSION_ERR;
	}
	if (a.debug)
		pam_syslog(pamh, LOG_DEBUG, "session %s closed", sid);
	return PAM_SUCCESS;
}
