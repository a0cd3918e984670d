/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_env.c — the login's environment: an allow-list plus values from the
 * ids, never from the caller. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ns_env.h"
#include "ns_util.h"

static void test_allowed_pass(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"TERM=xterm-256color", "LANG=en_US.UTF-8", "LC_ALL=C", "LC_CTYPE=C.UTF-8",
		"LC_MESSAGES=de_DE", "LC_TIME=C", "LC_NUMERIC=C", "LC_COLLATE=C",
		"LC_MEASUREMENT=en_GB", "LC_PAPER=A4", "TZ=Europe/Berlin",
		"SSH_CLIENT=10.0.0.1 5555 22", "SSH_CONNECTION=10.0.0.1 5555 10.0.0.2 22",
		"SSH_TTY=/dev/pts/3", "SSH_AUTH_SOCK=/tmp/ssh-XXXX/agent.123", "DISPLAY=localhost:10.0",
		"TERM=", "LANG=C=D",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!ns_env_allowed(ok[i]))
			fail_msg("\"%s\" dropped", ok[i]);
}

static void test_allowed_dropped(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"LD_PRELOAD=/tmp/evil.so", "LD_LIBRARY_PATH=/tmp", "LD_AUDIT=/tmp/a.so",
		"GLIBC_TUNABLES=glibc.malloc.check=3", "GCONV_PATH=/tmp", "BASH_ENV=/tmp/x",
		"BASH_FUNC_x%%=() { id; }", "BASH_FUNC_ls()=() { id; }", "PATH=/tmp:/usr/bin",
		"HOME=/tmp", "USER=root", "LOGNAME=root", "SHELL=/tmp/sh", "IFS= ", "SHELLOPTS=xtrace",
		"BASHOPTS=extdebug", "ENV=/tmp/x", "PS4=$(id)", "PROMPT_COMMAND=id",
		"NS_SHELL_SESSION=deadbeef", "TMPDIR=/tmp/x", "PYTHONPATH=/tmp", "PERL5OPT=-d",
		"MAIL=/tmp", "HOSTALIASES=/tmp/h", "LOCPATH=/tmp", "NLSPATH=/tmp",
		"TERMINFO=/tmp", "TERMCAP=x",
		/* malformed or look-alikes */
		"TERM", "=xterm", "=", "", "LC_=C", "LC_", "LC_foo=C", "LC_All=C", "lc_all=C",
		"LC_ALL1=C", "LC_AL L=C", "LC_ALL.x=C", "LCALL=C", "LC=C", "term=xterm",
		"TERMX=1", "TER=1", " TERM=xterm", "TERM =xterm", "XTERM=1", "LANGUAGE_X=1",
		"SSH_ORIGINAL_COMMAND=rm -rf /", "SSH_AUTH_SOCKET=x", "DISPLAY2=:0",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (ns_env_allowed(bad[i]))
			fail_msg("\"%s\" allowed", bad[i]);
}

static const char *lookup(char **env, const char *name, size_t *count)
{
	size_t n = strlen(name), c = 0;
	const char *v = NULL;
	for (char **e = env; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
			c++;
			v = *e + n + 1;
		}
	if (count)
		*count = c;
	return v;
}

static size_t env_len(char **env)
{
	size_t n = 0;
	while (env[n])
		n++;
	return n;
}

static void assert_once(char **env, const char *name, const char *value)
{
	size_t c;
	const char *v = lookup(env, name, &c);
	if (c != 1 || !v || strcmp(v, value) != 0)
		fail_msg("%s: %zu times, value \"%s\", want once \"%s\"", name, c, v ? v : "(none)", value);
}

static void assert_absent(char **env, const char *name)
{
	size_t c;
	lookup(env, name, &c);
	if (c != 0)
		fail_msg("%s present", name);
}

static const struct ns_env_ids ids = {
	.home = "/home/alice", .user = "alice", .shell = "/bin/bash",
	.path = "/usr/local/bin:/usr/bin:/bin", .session = "0123abcd",
};

static void test_build(void **state)
{
	(void)state;
	char *src[] = {
		"TERM=xterm", "LANG=C.UTF-8", "LC_ALL=C", "LC_foo=x", "LC_=x", "TZ=UTC",
		"SSH_CLIENT=1.2.3.4 1 22", "SSH_CONNECTION=1.2.3.4 1 5.6.7.8 22", "SSH_TTY=/dev/pts/0",
		"SSH_AUTH_SOCK=/tmp/agent", "DISPLAY=:0",
		"LD_PRELOAD=/tmp/evil.so", "LD_LIBRARY_PATH=/tmp", "GLIBC_TUNABLES=x=1",
		"GCONV_PATH=/tmp", "BASH_ENV=/tmp/x", "BASH_FUNC_x%%=() { id; }", "PATH=/tmp",
		"HOME=/tmp", "USER=root", "LOGNAME=root", "SHELL=/tmp/sh", "IFS=x", "SHELLOPTS=xtrace",
		"ENV=/tmp/x", "NS_SHELL_SESSION=ffffffff", "NOEQUALS", "=novalue",
		NULL,
	};
	char **env = NULL;
	assert_int_equal(ns_env_build(src, &ids, &env), 0);
	assert_non_null(env);

	assert_once(env, "TERM", "xterm");
	assert_once(env, "LANG", "C.UTF-8");
	assert_once(env, "LC_ALL", "C");
	assert_once(env, "TZ", "UTC");
	assert_once(env, "SSH_CLIENT", "1.2.3.4 1 22");
	assert_once(env, "SSH_CONNECTION", "1.2.3.4 1 5.6.7.8 22");
	assert_once(env, "SSH_TTY", "/dev/pts/0");
	assert_once(env, "SSH_AUTH_SOCK", "/tmp/agent");
	assert_once(env, "DISPLAY", ":0");

	assert_once(env, "HOME", "/home/alice");
	assert_once(env, "USER", "alice");
	assert_once(env, "LOGNAME", "alice");
	assert_once(env, "SHELL", "/bin/bash");
	assert_once(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
	assert_once(env, "NS_SHELL_SESSION", "0123abcd");

	static const char *const gone[] = { "LC_foo", "LC_", "LD_PRELOAD", "LD_LIBRARY_PATH",
					    "GLIBC_TUNABLES", "GCONV_PATH", "BASH_ENV",
					    "BASH_FUNC_x%%", "IFS", "SHELLOPTS", "ENV" };
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		assert_absent(env, gone[i]);
	for (char **e = env; *e; e++) {
		assert_non_null(strchr(*e, '='));
		assert_true(**e != '=');
		assert_null(strstr(*e, "/tmp/evil"));
		assert_null(strstr(*e, "NOEQUALS"));
	}
	assert_int_equal(env_len(env), 9 + 6);
	free(env);
}

static void test_build_session_only_from_ids(void **state)
{
	(void)state;
	char *src[] = { "NS_SHELL_SESSION=ffffffff", "TERM=vt100", NULL };
	struct ns_env_ids no_sid = ids;
	no_sid.session = NULL;
	char **env = NULL;
	assert_int_equal(ns_env_build(src, &no_sid, &env), 0);
	assert_absent(env, "NS_SHELL_SESSION");
	assert_once(env, "TERM", "vt100");
	assert_int_equal(env_len(env), 1 + 5);
	free(env);
}

static void test_build_empty_source(void **state)
{
	(void)state;
	char *src[] = { NULL };
	char **env = NULL;
	assert_int_equal(ns_env_build(src, &ids, &env), 0);
	assert_int_equal(env_len(env), 6);
	assert_once(env, "HOME", "/home/alice");
	free(env);

	env = NULL;
	assert_int_equal(ns_env_build(NULL, &ids, &env), 0);
	assert_int_equal(env_len(env), 6);
	free(env);
}

/* The result owns its strings: changing the source afterwards changes nothing. */
static void test_build_copies(void **state)
{
	(void)state;
	char term[] = "TERM=xterm";
	char *src[] = { term, NULL };
	char **env = NULL;
	assert_int_equal(ns_env_build(src, &ids, &env), 0);
	term[5] = 'Z';
	assert_once(env, "TERM", "xterm");
	free(env);
}

/* A large environment: every allowed entry kept, every other dropped. */
static void test_build_large(void **state)
{
	(void)state;
	enum { N = 2000 };
	char **src = calloc(N + 1, sizeof(char *));
	assert_non_null(src);
	for (int i = 0; i < N; i++) {
		src[i] = malloc(64);
		assert_non_null(src[i]);
		if (i % 2)
			snprintf(src[i], 64, "LC_X%c%c=v%d", 'A' + i % 26, 'A' + (i / 26) % 26, i);
		else
			snprintf(src[i], 64, "JUNK%d=v%d", i, i);
	}
	char **env = NULL;
	assert_int_equal(ns_env_build(src, &ids, &env), 0);
	assert_int_equal(env_len(env), N / 2 + 6);
	for (int i = 0; i < N; i++)
		free(src[i]);
	free(src);
	free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_pass),
		cmocka_unit_test(test_allowed_dropped),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_session_only_from_ids),
		cmocka_unit_test(test_build_empty_source),
		cmocka_unit_test(test_build_copies),
		cmocka_unit_test(test_build_large),
	};
	return cmocka_run_group_tests_name("env", tests, NULL, NULL) ? 1 : 0;
}
