/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fixtures.h — what the unit tests that work on files share: one temporary
 * directory per test program (tmpdir_make in a group setup, tmpdir_remove
 * in its teardown), paths in it, a file written with a given mode, a file
 * read back. Include it after <cmocka.h> and "ns_util.h" (ns_write_all).
 * Everything is static: each test program gets its own copy.
 */
#ifndef NS_TEST_FIXTURES_H
#define NS_TEST_FIXTURES_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ns_util.h"

static char tmpdir[256];   /* the program's directory: /tmp/ns-test-NAME.XXXXXX */

/* Make tmpdir for the test program NAME. 0, or -1 (a failed group setup). */
static inline int tmpdir_make(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ns-test-%s.XXXXXX", name);
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove tmpdir and all in it (the umask back to 022 first: a test may
 * have changed it). 0, or -1 (a failed group teardown). */
static inline int tmpdir_remove(void)
{
	char cmd[300];
	umask(022);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* BUF = tmpdir/NAME */
/* An IPv4 address from text (the test fails on a bad one), and back. */
static inline struct in_addr ip(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad test address %s", s);
	return a;
}

static inline const char *ipstr(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;
	i = (i + 1) % 4;
	inet_ntop(AF_INET, &a, buf[i], sizeof(buf[i]));
	return buf[i];
}

static inline void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* PATH (replaced if there) with LEN bytes of TEXT, then MODE (whatever the
 * umask). A failure fails the test. */
static inline void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(ns_write_all(fd, text, len), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The content of PATH (at most 8 KiB), in a static buffer. */
static inline char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

#endif
