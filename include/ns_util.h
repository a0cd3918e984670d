/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_util.h — small helpers shared by the core: scope-bound cleanup,
 * ownership hand-off, and the error detail that core calls fill in.
 *
 * Core functions return 0 (or a count) on success and -errno on failure.
 * They never exit, print or log; when given a struct ns_err they describe
 * what failed (step and object) so the program can print one line. */
#ifndef NS_UTIL_H
#define NS_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

struct ns_err {
	int code;        /* negative errno of the failure, 0 when unset */
	char msg[480];   /* one line: what failed, on what */
};

/* Fill *e (if non-NULL) and return -abs(code), so callers can write
 * `return ns_fail(err, -EINVAL, "pool: %s: not a CIDR", s);`. */
int ns_fail(struct ns_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void ns_freep(void *p) { free(*(void **)p); }
static inline void ns_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(ns_freep)
#define _cleanup_close_ _cleanup_(ns_closep)

#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy with truncation check: -ENAMETOOLONG when src does not fit. */
int ns_strlcpy(char *dst, const char *src, size_t size);

/* Write all of buf to fd, retrying on EINTR and short writes. */
int ns_write_all(int fd, const void *buf, size_t len);

/* Parse a decimal unsigned number that must use the whole string. */
int ns_parse_ulong(const char *s, unsigned long max, unsigned long *ret);

/* Give a file we just created fixed ownership (root:root) and MODE,
 * whatever the caller's umask and effective gid (su has the user's gid). */
int ns_fix_owner(int fd, mode_t mode);

/* While privileged in a process whose limits are the user's (su, the
 * setuid ns-shell): RLIMIT_FSIZE lifted (to infinity, or to the hard limit
 * without CAP_SYS_RESOURCE) and SIGXFSZ ignored, so a tiny limit makes a
 * write past it fail (EFBIG) instead of killing us half-way through a
 * record. ns_fsize_restore gives both back (0, or -errno). */
struct ns_fsize_saved {
	struct rlimit lim;
	struct sigaction xfsz;
};
void ns_fsize_lift(struct ns_fsize_saved *s);
int ns_fsize_restore(const struct ns_fsize_saved *s);

/* RESOURCE's limit lifted the same way (to infinity, or to the hard limit
 * without CAP_SYS_RESOURCE); the caller's in *SAVED, for setrlimit() when
 * it goes back (RLIMIT_NPROC: ns-shell starts the shell after it dropped
 * to the user, and a user at her limit could log in before). */
void ns_rlimit_lift(int resource, struct rlimit *saved);

/* Start time (field 22 of /proc/PID/stat) in clock ticks: detects pid reuse. */
int ns_proc_start_time(pid_t pid, unsigned long long *ret);

/* Fault injection for the crash-recovery tests: a no-op in every shipped
 * build. Only objects compiled with -DNS_FAULT_INJECTION (the test copy of
 * pam_ns.so under build/fault/) kill themselves with SIGKILL at the point
 * named by $NS_FAULT_POINT. */
#ifdef NS_FAULT_INJECTION
void ns_fault(const char *point);
/* Step timing of the same test build (make bench-steps): with
 * $NS_FAULT_TRACE set, every fault point and every ns_trace() point is
 * timed (CLOCK_MONOTONIC, the thread's CPU time and its page faults, in
 * memory); ns_trace_flush() appends an "@ TID START-NS" line (the thread,
 * and the first point on CLOCK_MONOTONIC), "POINT WALL-US CPU-US FAULTS"
 * lines (since the first point) and a "--" line to that file. */
void ns_trace(const char *point);
void ns_trace_flush(void);
#else
static inline void ns_fault(const char *point) { (void)point; }
static inline void ns_trace(const char *point) { (void)point; }
static inline void ns_trace_flush(void) { }
/* Is the caller in the initial user namespace (uid_map "0 0 4294967295")? */
bool ns_initial_userns(void);

#endif

/* Is the caller in the initial user namespace (uid_map "0 0 4294967295")? */
bool ns_initial_userns(void);

#endif
