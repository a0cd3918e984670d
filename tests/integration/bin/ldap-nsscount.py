# SPDX-License-Identifier: GPL-2.0-or-later
# ldap-nsscount.py PREFIX : who asked the directory what, during one login.
#
# Reads the files PREFIX.<pid> that `strace -ff -k -e trace=connect -o
# PREFIX` wrote (one per process, each connect() followed by its call stack,
# frames " > OBJECT(FUNCTION+OFF) [ADDR]"). Every connect() to nslcd's
# socket is one NSS request that reached the ldap module (libnss_ldap opens a
# connection per lookup). It is charged to the first frame that is not libc,
# an NSS module, libpam or the dynamic loader (the program or PAM module that
# asked: pam_ns.so, ns-shell, sshd, pam_unix.so, bash, ...), and named after
# the outermost libc function on the way (getpwnam, getgrouplist, ...).
#
# Prints one line per caller, most requests first:
#     CALLER COUNT FUNCTION=N FUNCTION=N ...
# (a stack that could not be unwound is charged to "?").
import collections, glob, os, re, sys

NSLCD = re.compile(r'connect\(\d+, \{sa_family=AF_UNIX, sun_path="(/var)?/run/nslcd/socket"\}')
FRAME = re.compile(r'^ > (\S+?)\(([^)+]*)(?:\+0x[0-9a-f]+)?\) \[')
PLUMBING = re.compile(r'^(libc\.so|libnss_|libpam\.so|ld-linux|libpthread)')

def charge(frames):
    func = "?"
    for obj, fn in frames:
        base = os.path.basename(obj)
        if PLUMBING.match(base):
            if base.startswith("libc.so") and fn and not fn.startswith("_"):
                func = re.sub(r"_r$", "", fn)
            continue
        return base, func
    return "?", func

def main():
    calls = collections.defaultdict(collections.Counter)
    for path in sorted(glob.glob(sys.argv[1] + ".*")):
        frames, hit = [], False
        with open(path, errors="replace") as f:
            lines = f.read().split("\n")
        for line in lines + [""]:
            m = FRAME.match(line)
            if m:
                if hit:
                    frames.append((m.group(1), m.group(2)))
                continue
            if hit:
                caller, func = charge(frames)
                calls[caller][func] += 1
            frames, hit = [], bool(NSLCD.search(line))
    for caller, c in sorted(calls.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        detail = " ".join("%s=%d" % (fn, n) for fn, n in sorted(c.items()))
        print("%s %d %s" % (caller, sum(c.values()), detail))

main()
