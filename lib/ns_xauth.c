/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_xauth.c — alias sshd's X11 cookies to the login's host name.
 *
 * Runs as the user (after the privilege drop), on the user's own file:
 * nothing here is privileged. The Xauthority format: per entry, a 16-bit
 * big-endian family, then four counted strings (address, display number,
 * auth name, auth data), each a 16-bit big-endian length and the bytes. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "ns_util.h"
#include "ns_xauth.h"

#define XAUTH_MAX (64 * 1024)
#define FAMILY_LOCAL 256

struct field {
	const unsigned char *p;
	size_t len;
};

struct entry {
	unsigned family;
	struct field f[4];   /* address, number, name, data */
};

/* One entry at *OFF of BUF (LEN bytes); 0 and *OFF advanced, or -EINVAL. */
static int next_entry(const unsigned char *buf, size_t len, size_t *off, struct entry *e)
{
	size_t o = *off;
	if (len - o < 2)
		return -EINVAL;
	e->family = (unsigned)buf[o] << 8 | buf[o + 1];
	o += 2;
	for (int i = 0; i < 4; i++) {
		if (len - o < 2)
			return -EINVAL;
		size_t n = (size_t)buf[o] << 8 | buf[o + 1];
		o += 2;
		if (len - o < n)
			return -EINVAL;
		e->f[i].p = buf + o;
		e->f[i].len = n;
		o += n;
	}
	*off = o;
	return 0;
}

static bool field_is(const struct field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

/* Is there a FamilyLocal entry of TO with E's number and auth name? */
static bool has_alias(const unsigned char *buf, size_t len, const struct entry *e, const char *to)
{
	struct entry x;
	for (size_t off = 0; off < len && next_entry(buf, len, &off, &x) == 0;)
		if (x.family == FAMILY_LOCAL && field_is(&x.f[0], to) && x.f[1].len == e->f[1].len &&
		    memcmp(x.f[1].p, e->f[1].p, e->f[1].len) == 0 && x.f[2].len == e->f[2].len &&
		    memcmp(x.f[2].p, e->f[2].p, e->f[2].len) == 0)
			return true;
	return false;
}

static size_t put_field(unsigned char *out, const void *p, size_t n)
{
	out[0] = (unsigned char)(n >> 8);
	out[1] = (unsigned char)n;
	memcpy(out + 2, p, n);
	return n + 2;
}

int ns_xauth_alias(int dirfd, const char *name, const char *from, const char *to)
{
	static unsigned char buf[XAUTH_MAX], add[XAUTH_MAX];
	size_t len = 0, n_add = 0;
	int added = 0;
	if (!from[0] || !to[0] || strcmp(from, to) == 0 || strlen(to) > 255)
		return 0;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= XAUTH_MAX)
		return -EINVAL;
	for (ssize_t r; len < (size_t)st.st_size && (r = read(fd, buf + len, (size_t)st.st_size - len)) > 0;)
		len += (size_t)r;
	struct entry e;
	for (size_t off = 0; off < len && next_entry(buf, len, &off, &e) == 0;) {
		size_t need = 2 + 2 + strlen(to) + 6 + e.f[1].len + e.f[2].len + e.f[3].len;
		if (e.family != FAMILY_LOCAL || !field_is(&e.f[0], from) || has_alias(buf, len, &e, to) ||
		    n_add + need > sizeof(add))
			continue;
		add[n_add++] = FAMILY_LOCAL >> 8;
		add[n_add++] = FAMILY_LOCAL & 0xff;
		n_add += put_field(add + n_add, to, strlen(to));
		for (int i = 1; i < 4; i++)
			n_add += put_field(add + n_add, e.f[i].p, e.f[i].len);
		added++;
	}
	if (n_add && ns_write_all(fd, add, n_add) < 0)
		return -EIO;
	return added;
}
