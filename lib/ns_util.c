/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_util.c — helpers shared by the core. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ns_util.h"

int ns_fail(struct ns_err *e, int code, const char *fmt, ...)
{
	if (code > 0)
		code = -code;
	if (code == 0)
		code = -EIO;
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->code = code;
	}
	return code;
}

int ns_fix_owner(int fd, mode_t mode)
{
	if (fchown(fd, 0, 0) < 0 || fchmod(fd, mode) < 0)
		return -errno;
	return 0;
}

int ns_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size == 0 || n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

int ns_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ns_parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;
	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int ns_proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024];
	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and ')': fields restart after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	/* after ")": field 3 (state) is the first; start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1)
		return -EIO;
	*ret = v;
	return 0;
}

void ns_rlimit_lift(int resource, struct rlimit *saved)
{
	struct rlimit up = { RLIM_INFINITY, RLIM_INFINITY };
	if (getrlimit(resource, saved) < 0)
		saved->rlim_cur = saved->rlim_max = RLIM_INFINITY;
	if (setrlimit(resource, &up) < 0) {
		up.rlim_cur = up.rlim_max = saved->rlim_max;
		setrlimit(resource, &up);
	}
}

void ns_fsize_lift(struct ns_fsize_saved *s)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	ns_rlimit_lift(RLIMIT_FSIZE, &s->lim);
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGXFSZ, &ign, &s->xfsz) < 0)
		s->xfsz = (struct sigaction){ .sa_handler = SIG_DFL };
}

int ns_fsize_restore(const struct ns_fsize_saved *s)
{
	if (sigaction(SIGXFSZ, &s->xfsz, NULL) < 0 || setrlimit(RLIMIT_FSIZE, &s->lim) < 0)
		return -errno;
	return 0;
}

#ifdef NS_FAULT_INJECTION
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *point;
	long long ns, cpu_ns;
	long minflt;   /* page faults of this thread so far (no I/O: minor) */
} trace_v[64];
static size_t trace_n;

static long long clock_ns(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void ns_trace(const char *point)
{
	if (!getenv("NS_FAULT_TRACE") || trace_n == ARRAY_SIZE(trace_v))   /* test builds only */
		return;
	struct rusage ru;
	trace_v[trace_n].point = point;
	trace_v[trace_n].minflt = getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_minflt : 0;
	trace_v[trace_n].cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	trace_v[trace_n++].ns = clock_ns(CLOCK_MONOTONIC);
}

void ns_trace_flush(void)
{
	const char *path = getenv("NS_FAULT_TRACE");
	FILE *f = path && trace_n ? fopen(path, "ae") : NULL;
	if (f)   /* where the points are on the kernel's clock (make bench-kernel) */
		fprintf(f, "@ %ld %lld\n", (long)syscall(SYS_gettid), trace_v[0].ns);
	for (size_t i = 0; f && i < trace_n; i++)
		fprintf(f, "%s %.1f %.1f %ld\n", trace_v[i].point, (double)(trace_v[i].ns - trace_v[0].ns) / 1000.0,
			(double)(trace_v[i].cpu_ns - trace_v[0].cpu_ns) / 1000.0, trace_v[i].minflt - trace_v[0].minflt);
	if (f) {
		fputs("--\n", f);
		fclose(f);
	}
	trace_n = 0;
}

void ns_fault(const char *point)
{
	ns_trace(point);
	const char *want = getenv("NS_FAULT_POINT");   /* test builds only */
	if (want && strcmp(want, point) == 0)
		raise(SIGKILL);
	/* NS_FAULT_PAUSE: stop there for 3 s, so that a test can look at the
	 * process (its ids, limits, scheduling) while it holds what it holds. */
	want = getenv("NS_FAULT_PAUSE");
	if (want && strcmp(want, point) == 0) {
		struct timespec t = { 3, 0 };
		while (nanosleep(&t, &t) < 0 && errno == EINTR)
			;
	}
}
#endif

bool ns_initial_userns(void)
{
	char buf[128];
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	unsigned long a, b, c;
	char extra;
	return sscanf(buf, " %lu %lu %lu %c", &a, &b, &c, &extra) == 3 && a == 0 && b == 0 && c == 4294967295UL;
}
