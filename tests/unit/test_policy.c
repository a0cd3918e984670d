/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_policy.c — ns_policy_lookup and ns_policy_for: what the three
 * programs get for one user (groups looked up only when the config uses
 * them, exemption, the resolved policy), and which step a failure names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns_policy.h"
#include "fixtures.h"

static struct passwd me;
static char my_group[64];

static int setup(void **state)
{
	(void)state;
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
	if (!pw || !gr)
		return -1;
	me = *pw;
	me.pw_name = strdup(pw->pw_name);
	snprintf(my_group, sizeof(my_group), "%s", gr->gr_name);
	return me.pw_name && tmpdir_make("policy") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(me.pw_name);
	return tmpdir_remove();
}

static struct ns_config *load(const char *text)
{
	struct ns_config *c = NULL;
	struct ns_errlist e;
	if (ns_config_load_string(text, "t.conf", &c, &e) != 0)
		fail_msg("%s", e.n ? e.line[0] : "refused");
	return c;
}

/* Every key has its row in the key table (a missing one would be NULL). */
static void test_key_names(void **state)
{
	(void)state;
	for (int k = 0; k < NS_KEY__MAX; k++) {
		assert_non_null(ns_key_name((enum ns_key)k));
		assert_string_not_equal(ns_key_name((enum ns_key)k), "?");
	}
	assert_string_equal(ns_key_name(NS_KEY__MAX), "?");
	assert_string_equal(ns_addr_mode_name(NS_ADDR_POOL), "pool");
	assert_string_equal(ns_addr_mode_name(NS_ADDR_DHCP), "dhcp");
	assert_string_equal(ns_addr_mode_name(NS_ADDR_STATIC), "static");
}

static void test_lookup_without_groups(void **state)
{
	(void)state;
	struct ns_config *c = load("exempt_users = {}\ndefault { network = \"isolated\" }\n");
	struct ns_user_policy up = { 0 };
	struct ns_err err = { 0 };
	assert_false(ns_config_uses_groups(c));
	assert_int_equal(ns_policy_lookup(c, me.pw_name, 5000, me.pw_gid, &up, &err), 0);
	assert_null(up.groups);   /* no NSS lookup at all */
	assert_int_equal(up.n_groups, 0);
	assert_false(up.exempt);
	struct ns_policy want;
	ns_policy_resolve(c, me.pw_name, NULL, 0, &want);
	assert_memory_equal(&up.policy, &want, sizeof(want));
	assert_int_equal(up.policy.network, NS_NET_ISOLATED);
	ns_user_policy_done(&up);

	/* uid 0 and uids below exempt_uid_below are exempt, whatever the groups */
	assert_int_equal(ns_policy_lookup(c, me.pw_name, 0, me.pw_gid, &up, &err), 0);
	assert_true(up.exempt);
	assert_int_equal(ns_policy_lookup(c, me.pw_name, 999, me.pw_gid, &up, &err), 0);
	assert_true(up.exempt);
	ns_user_policy_done(&up);
	ns_config_free(c);
}

static void test_lookup_with_groups(void **state)
{
	(void)state;
	char text[300];
	snprintf(text, sizeof(text), "exempt_users = {}\ngroup \"%s\" { network = \"host\" }\n", my_group);
	struct ns_config *c = load(text);
	_cleanup_user_policy_ struct ns_user_policy up = { 0 };
	struct ns_err err = { 0 };
	assert_true(ns_config_uses_groups(c));
	assert_int_equal(ns_policy_lookup(c, me.pw_name, 5000, me.pw_gid, &up, &err), 0);
	assert_non_null(up.groups);
	assert_true(up.n_groups >= 1);
	assert_string_equal(up.groups[0], my_group);   /* primary first */
	assert_null(up.groups[up.n_groups]);
	assert_false(up.exempt);
	assert_int_equal(up.policy.network, NS_NET_HOST);
	assert_int_equal(up.policy.src[NS_KEY_NETWORK], NS_SRC_GROUP);
	assert_string_equal(up.policy.src_name[NS_KEY_NETWORK], my_group);
	ns_config_free(c);

	snprintf(text, sizeof(text), "exempt_groups = {\"%s\"}\n", my_group);
	c = load(text);
	ns_user_policy_done(&up);
	assert_int_equal(ns_policy_lookup(c, me.pw_name, 5000, me.pw_gid, &up, &err), 0);
	assert_true(up.exempt);
	ns_config_free(c);
}

static void write_conf(const char *path, const char *text)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ns_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static void test_for_missing_file(void **state)
{
	(void)state;
	char path[300];
	path_of(path, sizeof(path), "none.conf");
	struct ns_config *c = NULL;
	struct ns_user_policy up = { 0 };
	struct ns_errlist errs;
	struct ns_err err = { 0 };
	int r = ns_policy_for(path, me.pw_name, 5000, me.pw_gid, &c, &up, &errs, &err);
	assert_int_equal(r, -ENOENT);
	assert_null(c);   /* outputs untouched */
	assert_null(up.groups);
	assert_int_equal(errs.n, 1);   /* the config is what failed */
	assert_non_null(strstr(errs.line[0], "cannot open"));
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.msg, "is not valid"));
}

static void test_for_file(void **state)
{
	(void)state;
	char path[300], text[300];
	path_of(path, sizeof(path), "ok.conf");
	snprintf(text, sizeof(text), "exempt_uid_below = 10\nexempt_users = {}\ngroup \"%s\" { hostname = \"g-%%u\" }\n", my_group);
	write_conf(path, text);
	struct ns_config *c = NULL;
	_cleanup_user_policy_ struct ns_user_policy up = { 0 };
	struct ns_errlist errs;
	struct ns_err err = { 0 };
	int r = ns_policy_for(path, me.pw_name, 500, me.pw_gid, &c, &up, &errs, &err);
	if (geteuid() != 0) {   /* ns_config_load wants a root-owned file */
		assert_int_equal(r, -EPERM);
		assert_true(errs.n >= 1);
		assert_null(c);
		return;
	}
	assert_int_equal(r, 0);
	assert_non_null(c);
	assert_int_equal(errs.n, 0);
	assert_string_equal(ns_config_path(c), path);
	assert_false(up.exempt);
	assert_string_equal(up.policy.hostname, "g-%u");
	assert_true(up.n_groups >= 1);
	ns_config_free(c);
}

static void test_for_bad_content(void **state)
{
	(void)state;
	char path[300];
	path_of(path, sizeof(path), "bad.conf");
	write_conf(path, "mtu = 5\nnope = 1\n");
	struct ns_config *c = NULL;
	struct ns_user_policy up = { 0 };
	struct ns_errlist errs;
	struct ns_err err = { 0 };
	int r = ns_policy_for(path, me.pw_name, 5000, me.pw_gid, &c, &up, &errs, &err);
	assert_null(c);
	assert_true(errs.n >= 1);
	if (geteuid() != 0) {
		assert_int_equal(r, -EPERM);
		return;
	}
	assert_int_equal(r, -EINVAL);
	assert_int_equal(errs.n, 2);   /* every problem, as ns_config_load gives them */
	assert_non_null(strstr(errs.line[0], ":1: mtu:"));
	assert_non_null(strstr(errs.line[1], ":2: nope: unknown key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_lookup_without_groups),
		cmocka_unit_test(test_lookup_with_groups),
		cmocka_unit_test(test_for_missing_file),
		cmocka_unit_test(test_for_file),
		cmocka_unit_test(test_for_bad_content),
	};
	return cmocka_run_group_tests_name("policy", tests, setup, teardown);
}
