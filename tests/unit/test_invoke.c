/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_invoke.c — the documented invocations of ns-shell (and nothing else),
 * and the argv of the real shell. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ns_invoke.h"
#include "ns_util.h"

#define ARGC(a) ((int)ARRAY_SIZE(a) - 1)

static struct ns_invocation parse_ok(int argc, char *const *argv, const char *ssh)
{
	struct ns_invocation inv;
	memset(&inv, 0x5a, sizeof(inv));
	int r = ns_invocation_parse(argc, argv, ssh, &inv);
	if (r != 0)
		fail_msg("argv[1]=\"%s\": %d", argc > 1 ? argv[1] : "", r);
	return inv;
}

static void parse_bad(int argc, char *const *argv, const char *ssh)
{
	struct ns_invocation inv, before;
	memset(&inv, 0x5a, sizeof(inv));
	before = inv;
	int r = ns_invocation_parse(argc, argv, ssh, &inv);
	if (r != -EINVAL)
		fail_msg("argc %d argv[1]=\"%s\": %d, want -EINVAL", argc,
			 argc > 1 && argv && argv[1] ? argv[1] : "", r);
	assert_memory_equal(&inv, &before, sizeof(inv));  /* untouched */
}

/* ---------------------------------------------------------------- parse */

static void test_login(void **state)
{
	(void)state;
	char *a[] = { "-ns-shell", NULL };
	struct ns_invocation inv = parse_ok(1, a, NULL);
	assert_int_equal(inv.mode, NS_MODE_LOGIN);
	assert_true(inv.login);
	/* any argv[0] starting with '-' (login(1) uses "-" + basename) */
	char *b[] = { "-/usr/bin/ns-shell", NULL };
	inv = parse_ok(1, b, NULL);
	assert_int_equal(inv.mode, NS_MODE_LOGIN);
	/* SSH_ORIGINAL_COMMAND does not turn a login into a command */
	inv = parse_ok(1, a, "rm -rf ~");
	assert_int_equal(inv.mode, NS_MODE_LOGIN);
	assert_true(inv.login);
}

static void test_command(void **state)
{
	(void)state;
	char *a[] = { "ns-shell", "-c", "ls -la /tmp", NULL };
	struct ns_invocation inv = parse_ok(ARGC(a), a, NULL);
	assert_int_equal(inv.mode, NS_MODE_COMMAND);
	assert_false(inv.login);
	assert_ptr_equal(inv.command, a[2]);

	/* sshd runs "SHELL -c CMD" with argv[0] the shell's path */
	char *b[] = { "/usr/bin/ns-shell", "-c", "scp -t /tmp", NULL };
	inv = parse_ok(ARGC(b), b, NULL);
	assert_int_equal(inv.mode, NS_MODE_COMMAND);
	assert_string_equal(inv.command, "scp -t /tmp");
	char *sftp[] = { "ns-shell", "-c", "/usr/lib/openssh/sftp-server", NULL };
	inv = parse_ok(ARGC(sftp), sftp, NULL);
	assert_string_equal(inv.command, "/usr/lib/openssh/sftp-server");

	/* the command of argv wins over SSH_ORIGINAL_COMMAND */
	inv = parse_ok(ARGC(a), a, "evil");
	assert_ptr_equal(inv.command, a[2]);

	/* an empty command is still a command */
	char *c[] = { "ns-shell", "-c", "", NULL };
	inv = parse_ok(ARGC(c), c, NULL);
	assert_int_equal(inv.mode, NS_MODE_COMMAND);
	assert_string_equal(inv.command, "");
}

/* `su - user -c CMD` runs the login shell as "-ns-shell -c CMD". */
static void test_login_command(void **state)
{
	(void)state;
	char *a[] = { "-ns-shell", "-c", "id -u", NULL };
	struct ns_invocation inv = parse_ok(ARGC(a), a, NULL);
	assert_int_equal(inv.mode, NS_MODE_COMMAND);
	assert_true(inv.login);
	assert_string_equal(inv.command, "id -u");
}

static void test_force_command(void **state)
{
	(void)state;
	char *a[] = { "/usr/bin/ns-shell", NULL };
	struct ns_invocation inv = parse_ok(1, a, "uname -a; echo 'x y'");
	assert_int_equal(inv.mode, NS_MODE_COMMAND);
	assert_false(inv.login);
	assert_string_equal(inv.command, "uname -a; echo 'x y'");

	inv = parse_ok(1, a, NULL);
	assert_int_equal(inv.mode, NS_MODE_INTERACTIVE);
	assert_false(inv.login);
}

static void test_check_version_help(void **state)
{
	(void)state;
	char *c[] = { "ns-shell", "--check", NULL };
	char *v[] = { "ns-shell", "--version", NULL };
	char *h[] = { "ns-shell", "--help", NULL };
	assert_int_equal(parse_ok(2, c, NULL).mode, NS_MODE_CHECK);
	assert_int_equal(parse_ok(2, v, NULL).mode, NS_MODE_VERSION);
	assert_int_equal(parse_ok(2, h, NULL).mode, NS_MODE_HELP);
	/* SSH_ORIGINAL_COMMAND does not change them */
	assert_int_equal(parse_ok(2, c, "id").mode, NS_MODE_CHECK);
	struct ns_invocation inv = parse_ok(2, v, "id");
	assert_int_equal(inv.mode, NS_MODE_VERSION);
	assert_null(inv.command);
}

static void test_argc_zero(void **state)
{
	(void)state;
	char *none[] = { NULL };
	parse_bad(0, none, NULL);
	parse_bad(0, none, "id");  /* no ForceCommand trick without argv[0] */
	parse_bad(0, NULL, NULL);
	parse_bad(-1, none, NULL);
	/* argc says 1 but argv[0] is missing */
	parse_bad(1, none, NULL);
}

static void test_unknown_options(void **state)
{
	(void)state;
	static char *const bad[][4] = {
		{ "ns-shell", "-x", NULL }, { "ns-shell", "-l", NULL }, { "ns-shell", "-i", NULL },
		{ "ns-shell", "--chek", NULL }, { "ns-shell", "--check=1", NULL },
		{ "ns-shell", "-check", NULL }, { "ns-shell", "--CHECK", NULL },
		{ "ns-shell", "-v", NULL }, { "ns-shell", "-h", NULL }, { "ns-shell", "--", NULL },
		{ "ns-shell", "-", NULL }, { "ns-shell", "", NULL }, { "ns-shell", "script.sh", NULL },
		{ "ns-shell", "-c", NULL },            /* -c without a command */
		{ "ns-shell", "-lc", "id", NULL },     /* bundled options */
		{ "ns-shell", "-cl", "id", NULL },
		{ "ns-shell", "-l", "-c", NULL },
		{ "ns-shell", "--login", "id", NULL },
		{ "ns-shell", "-c--", "id", NULL },
		{ "-ns-shell", "-x", NULL },
		{ "-ns-shell", "--rcfile", "/tmp/x", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int argc = 0;
		while (argc < 4 && bad[i][argc])
			argc++;
		parse_bad(argc, bad[i], NULL);
		parse_bad(argc, bad[i], "id");
	}
}

static void test_extra_args(void **state)
{
	(void)state;
	char *a[] = { "ns-shell", "-c", "id", "extra", NULL };
	parse_bad(ARGC(a), a, NULL);
	char *b[] = { "ns-shell", "--check", "extra", NULL };
	parse_bad(ARGC(b), b, NULL);
	char *c[] = { "ns-shell", "--version", "--help", NULL };
	parse_bad(ARGC(c), c, NULL);
	char *d[] = { "ns-shell", "--help", "x", NULL };
	parse_bad(ARGC(d), d, NULL);
	char *e[] = { "ns-shell", "-c", "id", "-c", "id", NULL };
	parse_bad(ARGC(e), e, NULL);
	char *f[] = { "ns-shell", "id", "-c", NULL };
	parse_bad(ARGC(f), f, NULL);
	char *g[] = { "-ns-shell", "-c", "id", "x", NULL };
	parse_bad(ARGC(g), g, NULL);
}

/* ---------------------------------------------------------------- shell argv */

static void argv_of(const char *shell, const struct ns_invocation *inv, char *buf, size_t size,
		    const char *out[4])
{
	for (int i = 0; i < 4; i++)
		out[i] = "UNSET";
	assert_int_equal(ns_shell_argv(shell, inv, buf, size, out), 0);
}

static void test_shell_argv_login(void **state)
{
	(void)state;
	char buf[64];
	const char *av[4];
	struct ns_invocation inv = { .mode = NS_MODE_LOGIN, .login = true, .command = NULL };
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "-bash");
	assert_null(av[1]);

	argv_of("/usr/bin/zsh", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "-zsh");
	assert_null(av[1]);

	argv_of("sh", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "-sh");

	/* the real path of a parsed login */
	char *a[] = { "-ns-shell", NULL };
	inv = parse_ok(1, a, NULL);
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "-bash");
	assert_null(av[1]);
}

static void test_shell_argv_command(void **state)
{
	(void)state;
	char buf[64];
	const char *av[4];
	char *a[] = { "ns-shell", "-c", "echo hi", NULL };
	struct ns_invocation inv = parse_ok(ARGC(a), a, NULL);
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "bash");
	assert_string_equal(av[1], "-c");
	assert_ptr_equal(av[2], a[2]);
	assert_null(av[3]);

	/* su - user -c: a login shell running a command */
	char *b[] = { "-ns-shell", "-c", "echo hi", NULL };
	inv = parse_ok(ARGC(b), b, NULL);
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "-bash");
	assert_string_equal(av[1], "-c");
	assert_string_equal(av[2], "echo hi");
	assert_null(av[3]);

	/* ForceCommand with SSH_ORIGINAL_COMMAND */
	char *c[] = { "/usr/bin/ns-shell", NULL };
	inv = parse_ok(1, c, "git-upload-pack 'repo.git'");
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_string_equal(av[0], "bash");
	assert_string_equal(av[1], "-c");
	assert_string_equal(av[2], "git-upload-pack 'repo.git'");
	assert_null(av[3]);

	/* ForceCommand without a command: the shell, no -c */
	inv = parse_ok(1, c, NULL);
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_non_null(strstr(av[0], "bash"));
	assert_true(strcmp(av[0], "bash") == 0 || strcmp(av[0], "-bash") == 0);
	assert_null(av[1]);
}

static void test_shell_argv_verbatim(void **state)
{
	(void)state;
	static const char *const cmds[] = {
		"echo \"double\" 'single' `back` $(sub) ${VAR} \\\\",
		"line1\nline2\n\nline4",
		"-x",
		"--rcfile /tmp/evil",
		"-",
		"  leading and trailing spaces  ",
		"tab\there",
		"; rm -rf / #",
		"\xff\xfe binary-ish \x01\x02",
	};
	char buf[64];
	const char *av[4];
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		char *a[] = { "ns-shell", "-c", (char *)cmds[i], NULL };
		struct ns_invocation inv = parse_ok(ARGC(a), a, NULL);
		assert_ptr_equal(inv.command, cmds[i]);
		argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
		assert_string_equal(av[1], "-c");
		assert_string_equal(av[2], cmds[i]);
		assert_null(av[3]);

		char *f[] = { "ns-shell", NULL };
		inv = parse_ok(1, f, cmds[i]);
		argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
		assert_string_equal(av[2], cmds[i]);
	}

	/* 1 MiB command */
	size_t n = 1024 * 1024;
	static char big[1024 * 1024 + 1];  /* static: nothing leaks if a check fails */
	for (size_t i = 0; i < n; i++)
		big[i] = "a \"'\n-$\\"[i % 8];
	big[n] = '\0';
	char *a[] = { "ns-shell", "-c", big, NULL };
	struct ns_invocation inv = parse_ok(ARGC(a), a, NULL);
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_int_equal(strlen(av[2]), n);
	assert_memory_equal(av[2], big, n + 1);
	inv = parse_ok(1, (char *[]){ "ns-shell", NULL }, big);
	argv_of("/bin/bash", &inv, buf, sizeof(buf), av);
	assert_memory_equal(av[2], big, n + 1);
}

static void test_shell_argv_errors(void **state)
{
	(void)state;
	const char *av[4];
	struct ns_invocation inv = { .mode = NS_MODE_LOGIN, .login = true };
	char buf[64];
	assert_int_equal(ns_shell_argv("/bin/", &inv, buf, sizeof(buf), av), -EINVAL);
	assert_int_equal(ns_shell_argv("", &inv, buf, sizeof(buf), av), -EINVAL);
	/* "-bash" needs 6 bytes */
	char small[6];
	assert_int_equal(ns_shell_argv("/bin/bash", &inv, small, sizeof(small), av), 0);
	assert_string_equal(av[0], "-bash");
	char tiny[5] = "XXXX";
	assert_int_equal(ns_shell_argv("/bin/bash", &inv, tiny, sizeof(tiny), av), -EINVAL);
	assert_int_equal(ns_shell_argv("/bin/bash", &inv, tiny, 0, av), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_login_command),
		cmocka_unit_test(test_force_command),
		cmocka_unit_test(test_check_version_help),
		cmocka_unit_test(test_argc_zero),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_extra_args),
		cmocka_unit_test(test_shell_argv_login),
		cmocka_unit_test(test_shell_argv_command),
		cmocka_unit_test(test_shell_argv_verbatim),
		cmocka_unit_test(test_shell_argv_errors),
	};
	return cmocka_run_group_tests_name("invoke", tests, NULL, NULL) ? 1 : 0;
}
