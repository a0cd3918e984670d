# SPDX-License-Identifier: GPL-2.0-or-later
# leasestore.py leases|seed|problems|state DIR : the lease store
# $(lease_file).d/ as the tests see it (lib.sh's lease_lines, lease_seed,
# lease_problems, lease_store_state; one process, so 2,000 leases take
# milliseconds, not a fork per file).
#   leases    the good leases, one line each, sorted by address: the files
#             pam_ns may use (named by an address, regular, root-owned,
#             closed to group and others, one well-formed line naming that
#             address, uid below 2^32-1); a bad file's line is left out
#   seed      each stdin line "uid user address last_used[ sid]" becomes
#             DIR/<address> (root 0644, the line) and the index entry
#             DIR/by-uid/<uid>[.<sid>] -> address (replaced if there)
#   problems  one line per inconsistency: an address file that is not a
#             root-owned 0644 regular file holding one lease line naming its
#             own address; a lease whose index entry does not name its
#             file; a uid with two sticky leases (or two with one tag)
#   state     every name with type, owner, mode, inode and symlink target
#             or content (300 bytes at most, NUL as @, newline as |), sorted
import os, re, stat, sys

LINE = re.compile(r"^([0-9]+) ([^ ]+) ([0-9.]+) ([0-9]+)( ([0-9a-f]{8}))?\n$")
ADDR = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$")


def good(d, n):
    """The lease line of address file N, or None when it is a bad file."""
    p = os.path.join(d, n)
    st = os.lstat(p)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022 or st.st_size > 256:
        return None
    with open(p, "rb") as f:
        text = f.read(257).decode(errors="replace")
    m = LINE.match(text)
    if not m or m.group(3) != n or int(m.group(1)) >= 0xFFFFFFFF or int(m.group(4)) < 0:
        return None
    return text[:-1]


def leases(d):
    names = [n for n in os.listdir(d) if ADDR.match(n)]
    names.sort(key=lambda n: tuple(int(x) for x in n.split(".")))
    for n in names:
        line = good(d, n)
        if line is not None:
            print(line)


def seed(d):
    os.makedirs(os.path.join(d, "by-uid"), mode=0o755, exist_ok=True)
    for line in sys.stdin:
        f = line.split()
        if len(f) < 3:
            continue
        uid, addr, sid = f[0], f[2], f[4] if len(f) > 4 else ""
        p = os.path.join(d, addr)
        with open(p, "w") as out:
            out.write(" ".join(f) + "\n")
        os.chmod(p, 0o644)
        link = os.path.join(d, "by-uid", uid + ("." + sid if sid else ""))
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(addr, link)


def problems(d):
    seen = {}
    for n in sorted(os.listdir(d)):
        if not ADDR.match(n):
            continue
        p = os.path.join(d, n)
        st = os.lstat(p)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o644:
            print("%s: not a root-owned 0644 regular file (mode %o, uid %d)" % (n, st.st_mode, st.st_uid))
            continue
        with open(p, "rb") as f:
            text = f.read(301).decode(errors="replace")
        m = LINE.match(text)
        if not m or m.group(3) != n:
            print("%s: not one lease line naming %s: %r" % (n, n, text))
            continue
        key = m.group(1) + ("." + m.group(6) if m.group(6) else "")
        try:
            target = os.readlink(os.path.join(d, "by-uid", key))
        except OSError:
            target = ""
        if target != n:
            print("%s: its index by-uid/%s names %r" % (n, key, target))
        kind = "tagged " + m.group(6) if m.group(6) else "(sticky)"
        if key in seen:
            print("uid %s %s: two leases, %s and %s" % (m.group(1), kind, seen[key], n))
        seen[key] = n


def state(d):
    rows = []
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, d)
            what = ""
            if stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = f.read(300).decode(errors="replace").replace("\0", "@").replace("\n", "|")
            rows.append("%s %o %d %d %s" % (rel, st.st_mode, st.st_uid, st.st_ino, what))
    print("\n".join(sorted(rows)) if rows else "")


cmd, d = sys.argv[1], sys.argv[2]
if cmd == "seed":
    os.umask(0o022)
    seed(d)
elif cmd in ("problems", "leases"):
    if os.path.isdir(d):
        (problems if cmd == "problems" else leases)(d)
elif os.path.isdir(d):
    state(d)
else:
    print("no " + d)
