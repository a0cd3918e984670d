/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns_steps.c — the privileged steps of a login.
 *
 * Invariants:
 *  1. Each step does one thing and says what failed, on what. None of them
 *     reads the environment or a path the user chose.
 *  2. Mounts are made only after the mount tree is private (recursively),
 *     so nothing made here propagates to the host, even when / is shared.
 *  3. The privilege drop is one-way: groups, then gid, then uid (all three
 *     of real/effective/saved), then proof: every id is the user's, no
 *     capability is left, setuid(0) fails. There is no way back.
 *  4. The terminal filter compares ioctl numbers on their low 32 bits (the
 *     kernel truncates the argument), and refuses the x32 ABI outright, so
 *     it cannot be bypassed by high bits or another syscall table. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "ns_names.h"
#include "ns_steps.h"

/* Two ioctls on a datagram socket, not netlink: ns-shell's only network
 * step, and with it the setuid binary links no libnl at all (whose
 * constructors and relocations every login would pay for). */
int ns_lo_up(struct ns_err *err)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return ns_fail(err, errno, "bringing up lo: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return ns_fail(err, errno, "bringing up lo: %s", strerror(errno));
	return 0;
}

int ns_mount_make_private(struct ns_err *err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return ns_fail(err, errno, "making the mount tree private: %s", strerror(errno));
	return 0;
}

int ns_mount_proc(struct ns_err *err)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ns_fail(err, errno, "mounting a fresh /proc: %s", strerror(errno));
	return 0;
}

int ns_mount_sys(struct ns_err *err)
{
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		/* EBUSY: the sysfs of this network namespace is mounted on /sys
		 * already (network = host, or a login started from inside one). */
		if (errno == EBUSY)
			return 0;
		return ns_fail(err, errno, "mounting a fresh /sys: %s", strerror(errno));
	}
	return 0;
}

int ns_mount_mqueue(struct ns_err *err)
{
	struct stat st;
	/* /dev is the host's devtmpfs: never create anything in it. */
	if (lstat("/dev/mqueue", &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ns_fail(err, errno, "mounting a fresh /dev/mqueue: %s", strerror(errno));
	return 0;
}

int ns_mount_tmpfs(const char *path, struct ns_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return ns_fail(err, -ENOTDIR, "mounting a tmpfs on %s: not a directory", path);
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return ns_fail(err, errno, "mounting a tmpfs on %s: %s", path, strerror(errno));
	return 0;
}

int ns_mount_tmp_join(int mntns_fd, dev_t host_tmp_dev, struct ns_err *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return ns_fail(err, errno, "opening this login's mount namespace: %s", strerror(errno));
	if (setns(mntns_fd, CLONE_NEWNS) < 0)
		return -ENOENT;   /* gone or not a mount namespace: a fresh one */
	_cleanup_close_ int tree = open_tree(AT_FDCWD, "/tmp", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int e = errno;
	/* Back into our own namespace before anything else: nothing may ever
	 * be made in the other login's. */
	if (setns(self, CLONE_NEWNS) < 0)
		return ns_fail(err, errno, "returning to this login's mount namespace: %s", strerror(errno));
	if (tree < 0)
		return e == ENOENT ? -ENOENT : ns_fail(err, e, "cloning the user's /tmp: %s", strerror(e));
	/* Only a tmpfs that is not the host's /tmp: the other login's own
	 * (it may not have mounted it yet, or have private_tmp off). */
	struct statfs sfs;
	struct stat st;
	if (fstatfs(tree, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC || fstat(tree, &st) < 0 ||
	    st.st_dev == host_tmp_dev || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 07777) != 01777)
		return -ENOENT;
	if (move_mount(tree, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return ns_fail(err, errno, "mounting the user's /tmp: %s", strerror(errno));
	return 0;
}

int ns_mount_netns_etc(const char *name, struct ns_err *err)
{
	char dir[300], src[600], dst[600];
	if (!name || strchr(name, '/') || !*name || name[0] == '.')
		return ns_fail(err, -EINVAL, "bad namespace name");
	snprintf(dir, sizeof(dir), "/etc/netns/%s", name);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : ns_fail(err, errno, "opening %s: %s", dir, strerror(errno));
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ns_fail(err, errno, "reading %s: %s", dir, strerror(errno));
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st, tst;
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		snprintf(src, sizeof(src), "%s/%s", dir, e->d_name);
		snprintf(dst, sizeof(dst), "/etc/%s", e->d_name);
		if (stat(dst, &tst) < 0) /* as ip-netns: only existing files are covered */
			continue;
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
			r = ns_fail(err, errno, "binding %s over %s: %s", src, dst, strerror(errno));
			break;
		}
	}
	closedir(d);
	return r;
}

int ns_mount_bind_fd(int src_fd, const char *dst, struct ns_err *err)
{
	char src[64];
	struct stat st;
	if (stat(dst, &st) < 0)
		return 0;   /* nothing to cover */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", src_fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return ns_fail(err, errno, "binding over %s: %s", dst, strerror(errno));
	return 0;
}

int ns_set_hostname(const char *name, struct ns_err *err)
{
	if (sethostname(name, strlen(name)) < 0)
		return ns_fail(err, errno, "setting hostname \"%s\": %s", name, strerror(errno));
	return 0;
}

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#define X32_SYSCALL_BIT 0x40000000
#define I386_NR_IOCTL 54

int ns_seccomp_no_tiocsti(struct ns_err *err)
{
#if defined(__x86_64__)
	/* target of a jump = index + 1 + offset; indices in the comments */
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),   /* else 5 */
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 9, 0),     /* x32: 13 */
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 3, 6),          /* 8 / 11 */
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 5),     /* else 11 */
		/* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, I386_NR_IOCTL, 0, 3),       /* else 11 */
		/* 8: low 32 bits of the request (little endian), as the kernel reads it */
		/* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0),             /* 12 */
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0),          /* 12 */
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
	};
#else
#error "the terminal filter is written for x86_64"
#endif
	struct sock_fprog prog = { .len = (unsigned short)ARRAY_SIZE(f), .filter = f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return ns_fail(err, errno, "installing the TIOCSTI/TIOCLINUX filter: %s", strerror(errno));
	return 0;
}

static int verify_dropped(const struct ns_ident *id, struct ns_err *err)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || r != id->uid || e != id->uid || s != id->uid)
		return ns_fail(err, -EPERM, "dropping privileges: uid is not %u everywhere", (unsigned)id->uid);
	if (getresgid(&rg, &eg, &sg) < 0 || rg != id->gid || eg != id->gid || sg != id->gid)
		return ns_fail(err, -EPERM, "dropping privileges: gid is not %u everywhere", (unsigned)id->gid);
	int n = getgroups(0, NULL);
	_cleanup_free_ gid_t *groups = n > 0 ? calloc((size_t)n, sizeof(gid_t)) : NULL;
	if (n < 0 || (n > 0 && (!groups || getgroups(n, groups) != n)))
		return ns_fail(err, -EPERM, "dropping privileges: cannot read the groups");
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			return ns_fail(err, -EPERM, "dropping privileges: user %s is in group 0", id->name);

	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return ns_fail(err, errno, "dropping privileges: capget: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return ns_fail(err, -EPERM, "dropping privileges: capabilities left");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return ns_fail(err, errno, "dropping privileges: clearing ambient capabilities");
	/* The proof: root cannot be regained. */
	if (setuid(0) != -1 || setgid(0) != -1)
		return ns_fail(err, -EPERM, "dropping privileges: root could be regained");
	return 0;
}

int ns_priv_drop(const struct ns_ident *id, struct ns_err *err)
{
	if (id->uid == 0 || id->gid == 0)
		return ns_fail(err, -EPERM, "refusing to run a login as uid/gid 0 (%s)", id->name);
	if (setgroups(id->n_groups, id->groups) < 0)
		return ns_fail(err, errno, "dropping privileges: setting the groups of %s: %s", id->name,
			       strerror(errno));
	if (setresgid(id->gid, id->gid, id->gid) < 0)
		return ns_fail(err, errno, "dropping privileges: setresgid(%u): %s", (unsigned)id->gid,
			       strerror(errno));
	if (setresuid(id->uid, id->uid, id->uid) < 0)
		return ns_fail(err, errno, "dropping privileges: setresuid(%u): %s", (unsigned)id->uid,
			       strerror(errno));
	return verify_dropped(id, err);
}

void ns_close_fds_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
		return;
	for (int fd = first; fd < 65536; fd++)
		close(fd);
}

int ns_netns_id(pid_t pid, dev_t *ret_dev, ino_t *ret_ino)
{
	char path[64];
	struct stat st;
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	if (stat(path, &st) < 0)
		return -errno;
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	return 0;
}
