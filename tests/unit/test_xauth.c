/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_xauth.c — ns_xauth_alias: sshd's cookie copied under the login's name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ns_xauth.h"

static size_t put(unsigned char *b, const char *s, size_t n)
{
	b[0] = (unsigned char)(n >> 8);
	b[1] = (unsigned char)n;
	memcpy(b + 2, s, n);
	return n + 2;
}

static size_t entry(unsigned char *b, unsigned family, const char *addr, const char *num)
{
	size_t o = 0;
	b[o++] = (unsigned char)(family >> 8);
	b[o++] = (unsigned char)family;
	o += put(b + o, addr, strlen(addr));
	o += put(b + o, num, strlen(num));
	o += put(b + o, "MIT-MAGIC-COOKIE-1", 18);
	o += put(b + o, "0123456789abcdef", 16);
	return o;
}

static char path[64];

static void write_file(const unsigned char *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static size_t file_size(void)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return (size_t)n;
}

static void test_alias(void **state)
{
	(void)state;
	unsigned char b[512];
	size_t n = entry(b, 256, "host", "10");
	n += entry(b + n, 0, "host", "11");          /* not FamilyLocal: left alone */
	n += entry(b + n, 256, "other", "12");       /* another name: left alone */
	write_file(b, n);
	assert_int_equal(ns_xauth_alias(AT_FDCWD, path, "host", "alice"), 1);
	size_t one = entry(b + n, 256, "alice", "10");
	assert_int_equal(file_size(), n + one);
	/* twice: nothing more */
	assert_int_equal(ns_xauth_alias(AT_FDCWD, path, "host", "alice"), 0);
	assert_int_equal(file_size(), n + one);
	/* same name: nothing to do; no file: an error, nothing made */
	assert_int_equal(ns_xauth_alias(AT_FDCWD, path, "alice", "alice"), 0);
	unlink(path);
	assert_true(ns_xauth_alias(AT_FDCWD, path, "host", "alice") < 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_truncated(void **state)
{
	(void)state;
	unsigned char b[512];
	size_t n = entry(b, 256, "host", "10");
	write_file(b, n - 3);   /* a cut-off entry is never copied */
	assert_int_equal(ns_xauth_alias(AT_FDCWD, path, "host", "alice"), 0);
	assert_int_equal(file_size(), n - 3);
	unlink(path);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/ns-test-xauth.%d", (int)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests_name("xauth", tests, NULL, NULL);
}
