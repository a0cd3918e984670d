/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_confuse.c — the libconfuse layer (lib/ns_confuse.c) on its own: the
 * blanking steps keep every line where it was, the key→line map, the
 * re-parse loop that reports every error, the environment hidden from
 * ${VAR}, and the error sink. The loader's use of it: test_config.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/ns_config_int.h"

/* Same length, same newlines, and only spaces where anything changed. */
static void assert_blanked_from(const char *before, const char *after)
{
	assert_int_equal(strlen(before), strlen(after));
	for (size_t i = 0; before[i]; i++) {
		if ((before[i] == '\n') != (after[i] == '\n'))
			fail_msg("newline moved at %zu:\n%s\n---\n%s", i, before, after);
		if (after[i] != before[i] && after[i] != ' ')
			fail_msg("byte %zu became '%c'", i, after[i]);
	}
}

static void check_blank_comments(const char *text, const char *want, int want_ret)
{
	char *t = strdup(text);
	assert_non_null(t);
	int r = ns_confuse_blank_comments(t);
	assert_int_equal(r, want_ret);
	assert_blanked_from(text, t);
	if (want)
		assert_string_equal(t, want);
	free(t);
}

static void test_blank_comments(void **state)
{
	(void)state;
	check_blank_comments("a = 1 # one\n# two\nb = 2\n", "a = 1      \n     \nb = 2\n", 0);
	check_blank_comments("a = 1 // one\nb = 2\n", "a = 1       \nb = 2\n", 0);
	check_blank_comments("a /* x\ny */ = 1\n", "a     \n     = 1\n", 0);
	check_blank_comments("l = {1, # in a list\n 2}\n", "l = {1,            \n 2}\n", 0);
	/* comment characters inside strings stay */
	check_blank_comments("s = \"a # b // c /* d */\"\n", "s = \"a # b // c /* d */\"\n", 0);
	check_blank_comments("s = 'x # y'\n", "s = 'x # y'\n", 0);
	check_blank_comments("s = \"q \\\" # still in\" # out\n", "s = \"q \\\" # still in\"      \n", 0);
	/* ${...} is one token for libconfuse: a '#' in it is no comment */
	check_blank_comments("x = ${A # B}\n# c\n", "x = ${A # B}\n   \n", 0);
	check_blank_comments("s = \"${A\"}\" # c\n", "s = \"${A\"}\"    \n", 0);
	/* not a token start: an ordinary '$' */
	check_blank_comments("s = a${A # B}\n", "s = a${A     \n", 0);
	/* an unclosed C comment runs to the end */
	check_blank_comments("a = 1 /* open\nb = 2\n", "a = 1        \n     \n", 0);
}

static void test_blank_comments_open_quote(void **state)
{
	(void)state;
	check_blank_comments("a = 1\nb = \"open\n\n", NULL, 2);
	check_blank_comments("a = 'x\n", NULL, 1);
	check_blank_comments("# \"in a comment\nb = \"x\"\nc = \"y\n", NULL, 3);
	check_blank_comments("s = \"\\\"\n", NULL, 1);   /* the escaped quote does not close it */
	check_blank_comments("s = \"ok\" # \"\n", NULL, 0);
}

static void check_blank_key(const char *text, int line, const char *key, bool found, const char *want)
{
	char *t = strdup(text);
	assert_non_null(t);
	assert_int_equal(ns_confuse_blank_key(t, line, key), found);
	assert_blanked_from(text, t);
	assert_string_equal(t, want);
	free(t);
}

static void test_blank_key(void **state)
{
	(void)state;
	check_blank_key("a = 1\nb = 2\n", 2, "b", true, "a = 1\n     \n");
	check_blank_key("a = 1\nb = {\"x\",\n \"y\"}\nc = 3\n", 2, "b", true, "a = 1\n         \n     \nc = 3\n");
	check_blank_key("a = 1\nb = \"two words\" c = 3\n", 2, "b", true, "a = 1\n                c = 3\n");
	check_blank_key("x \"t\" {\n k = 1\n}\ny = 2\n", 1, "x", true, "       \n      \n \ny = 2\n");
	check_blank_key("x {\n k = {1, 2}\n}\n", 1, "x", true, "   \n           \n \n");
	check_blank_key("l += \"v\"\n", 1, "l", true, "        \n");
	/* only the key on that line */
	check_blank_key("b = 1\nb = 2\n", 2, "b", true, "b = 1\n     \n");
	check_blank_key("a = 1\nb = 2\n", 1, "b", false, "a = 1\nb = 2\n");
	check_blank_key("a = 1\n", 1, "ab", false, "a = 1\n");
	/* a statement cut off by the end of the text */
	check_blank_key("a = 1\nb =", 2, "b", true, "a = 1\n   ");
}

static cfg_t fake_sec(const char *name, const char *title)
{
	cfg_t s;
	memset(&s, 0, sizeof(s));
	s.name = (char *)name;
	s.title = (char *)title;
	return s;
}

static void test_map_lines(void **state)
{
	(void)state;
	static const char text[] =
		"bridge = \"b\"   # 1\n"
		"/* 2\n 3 */ pool = \"p\"\n"
		"list = {\"a\",\n \"b = x\"}\n"
		"group \"g\" {\n"
		"  network = \"isolated\"\n"
		"}\n"
		"user \"u\" { address = \"dhcp\" }\n"
		"default {\n"
		"  rate = \"1bit\"\n"
		"  rate = \"2bit\"\n"
		"}\n"
		"bridge = \"again\"\n";
	struct ns_parse_ctx p = { .name = "t.conf" };
	assert_int_equal(ns_confuse_map_lines(&p, text), 0);
	cfg_t g = fake_sec("group", "g"), u = fake_sec("user", "u"), d = fake_sec("default", NULL),
	      other = fake_sec("group", "h");
	assert_int_equal(ns_parse_key_line(&p, NULL, "bridge"), 14);   /* the last one */
	assert_int_equal(ns_parse_key_line(&p, NULL, "pool"), 3);
	assert_int_equal(ns_parse_key_line(&p, NULL, "list"), 4);
	assert_int_equal(ns_parse_key_line(&p, NULL, "b"), 0);          /* inside a value list */
	assert_int_equal(ns_parse_key_line(&p, &g, "network"), 7);
	assert_int_equal(ns_parse_key_line(&p, &other, "network"), 0);
	assert_int_equal(ns_parse_key_line(&p, NULL, "network"), 0);
	assert_int_equal(ns_parse_key_line(&p, &u, "address"), 9);
	assert_int_equal(ns_parse_key_line(&p, &d, "rate"), 12);
	ns_parse_done(&p);
	assert_null(p.lines);

	/* a block left open: its line */
	struct ns_parse_ctx q = { .name = "t.conf" };
	assert_int_equal(ns_confuse_map_lines(&q, "a = 1\n\ngroup \"x\" {\n b = 2\n"), 3);
	ns_parse_done(&q);
}

static void test_label(void **state)
{
	(void)state;
	char buf[100];
	cfg_t g = fake_sec("group", "staff"), d = fake_sec("default", NULL), r = fake_sec("root", NULL);
	assert_string_equal(ns_confuse_label(&g, buf, sizeof(buf)), "group \"staff\": ");
	assert_string_equal(ns_confuse_label(&d, buf, sizeof(buf)), "default: ");
	assert_string_equal(ns_confuse_label(&r, buf, sizeof(buf)), "");
	assert_string_equal(ns_confuse_label(NULL, buf, sizeof(buf)), "");
}

static cfg_t *tiny_cfg(void)
{
	cfg_opt_t sec[] = { CFG_INT("n", 0, CFGF_NONE), CFG_END() };
	cfg_opt_t opts[] = {
		CFG_INT("n", 0, CFGF_NONE),
		CFG_STR("s", "", CFGF_NONE),
		CFG_BOOL("b", cfg_false, CFGF_NONE),
		CFG_SEC("blk", sec, CFGF_MULTI | CFGF_TITLE),
		CFG_END(),
	};
	return cfg_init(opts, CFGF_NONE);
}

static cfg_t *no_cfg(void)
{
	return NULL;
}

static void test_parse_every_error(void **state)
{
	(void)state;
	struct ns_errlist e;
	memset(&e, 0, sizeof(e));
	struct ns_parse_ctx p = { .name = "t.conf", .errs = &e };
	cfg_t *cfg = NULL;
	static const char text[] =
		"n = 1\n"
		"# a comment\n"
		"nope = 2\n"
		"b = maybe\n"
		"blk \"x\" {\n"
		"  n = 12x\n"
		"}\n"
		"s = \"fine\"\n"
		"also_not = {1,\n 2}\n";
	/* every statement in error blanked, the rest parses: the loader
	 * still validates it (and finds the value errors too) */
	assert_int_equal(ns_confuse_parse(&p, text, tiny_cfg, &cfg), 0);
	assert_non_null(cfg);
	assert_string_equal(cfg_getstr(cfg, "s"), "fine");
	cfg_free(cfg);
	ns_parse_done(&p);
	assert_int_equal(p.n_found, 4);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.line[0], "t.conf:3: nope: unknown key");
	assert_string_equal(e.line[1], "t.conf:4: b: not true or false");
	assert_string_equal(e.line[2], "t.conf:6: blk \"x\": n: not an integer");
	assert_string_equal(e.line[3], "t.conf:9: also_not: unknown key");
}

static void test_parse_ok_and_unclosed(void **state)
{
	(void)state;
	struct ns_errlist e;
	memset(&e, 0, sizeof(e));
	struct ns_parse_ctx p = { .name = "t.conf", .errs = &e };
	cfg_t *cfg = NULL;
	assert_int_equal(ns_confuse_parse(&p, "n = 5 # c\ns = \"x\"\n", tiny_cfg, &cfg), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg_getint(cfg, "n"), 5);
	assert_string_equal(cfg_getstr(cfg, "s"), "x");
	assert_int_equal(ns_parse_key_line(&p, NULL, "s"), 2);   /* the map of the text, for the loader */
	assert_int_equal(p.n_found, 0);
	ns_parse_done(&p);
	cfg_free(cfg);

	/* libconfuse accepts a block cut off by the end: the layer does not */
	struct ns_parse_ctx q = { .name = "t.conf", .errs = &e };
	memset(&e, 0, sizeof(e));
	cfg = NULL;
	assert_int_equal(ns_confuse_parse(&q, "n = 1\nblk \"a\" {\n n = 2\n", tiny_cfg, &cfg), 0);
	ns_parse_done(&q);
	assert_int_equal(q.n_found, 1);
	assert_string_equal(e.line[0], "t.conf:2: block is not closed (missing '}')");
	cfg_free(cfg);

	/* an open quote is refused before libconfuse sees it */
	struct ns_parse_ctx r = { .name = "t.conf", .errs = &e };
	memset(&e, 0, sizeof(e));
	cfg = NULL;
	assert_int_equal(ns_confuse_parse(&r, "n = 1\ns = \"open\n", tiny_cfg, &cfg), -EINVAL);
	ns_parse_done(&r);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.line[0], "t.conf:2: string not closed before the end of the file");

	/* MAKE failing at once: out of memory, nothing reported */
	struct ns_parse_ctx m = { .name = "t.conf", .errs = &e };
	memset(&e, 0, sizeof(e));
	assert_int_equal(ns_confuse_parse(&m, "n = 1\n", no_cfg, &cfg), -ENOMEM);
	ns_parse_done(&m);
	assert_int_equal(e.n, 0);
}

static void test_parse_env_hidden(void **state)
{
	(void)state;
	extern char **environ;
	char **env_before;
	struct ns_parse_ctx p = { .name = "t.conf" };
	cfg_t *cfg = NULL;
	assert_int_equal(setenv("NS_TEST_SECRET", "leaked", 1), 0);
	env_before = environ;
	assert_int_equal(ns_confuse_parse(&p, "s = \"${NS_TEST_SECRET}\"\n", tiny_cfg, &cfg), 0);
	ns_parse_done(&p);
	assert_true(environ == env_before);   /* put back */
	assert_string_equal(getenv("NS_TEST_SECRET"), "leaked");
	assert_string_equal(cfg_getstr(cfg, "s"), "");
	cfg_free(cfg);
	unsetenv("NS_TEST_SECRET");
}

static void test_sink(void **state)
{
	(void)state;
	struct ns_errlist e;
	memset(&e, 0, sizeof(e));
	struct ns_parse_ctx p = { .name = "f", .errs = &e };
	for (int i = NS_MAX_ERRS + 3; i > 0; i--)
		ns_parse_error(&p, "f:%d: error", i);
	ns_parse_error(&p, "f: no line");
	assert_int_equal(p.n_found, NS_MAX_ERRS + 4);
	assert_int_equal(e.n, NS_MAX_ERRS);
	assert_int_equal(e.dropped, 4);
	ns_parse_done(&p);
	/* sorted by line: the kept ones were NS_MAX_ERRS+3 down to 4 */
	assert_string_equal(e.line[0], "f:4: error");
	assert_string_equal(e.line[NS_MAX_ERRS - 1], "f:35: error");

	/* no list: only counted */
	struct ns_parse_ctx q = { .name = "f" };
	ns_parse_error(&q, "x");
	assert_int_equal(q.n_found, 1);
	ns_parse_done(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank_comments),
		cmocka_unit_test(test_blank_comments_open_quote),
		cmocka_unit_test(test_blank_key),
		cmocka_unit_test(test_map_lines),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_parse_every_error),
		cmocka_unit_test(test_parse_ok_and_unclosed),
		cmocka_unit_test(test_parse_env_hidden),
		cmocka_unit_test(test_sink),
	};
	return cmocka_run_group_tests_name("confuse", tests, NULL, NULL);
}
