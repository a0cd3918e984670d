# SPDX-License-Identifier: GPL-2.0-or-later
# baitwatch.py READY OUT PATH... : report every open/read/write of PATHs
# (files, FIFOs or directories; inotify on each) as lines "EVENT PATH" in
# OUT until killed. Bait is root-only (0600/0700 root), so an event means a
# privileged process opened it: an unprivileged one gets EACCES and the
# kernel reports nothing.
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
IN_ACCESS, IN_MODIFY, IN_OPEN = 0x1, 0x2, 0x20
fd = libc.inotify_init1(0)
if fd < 0:
    sys.exit("inotify_init1 failed")
wd = {}
for p in sys.argv[3:]:
    w = libc.inotify_add_watch(fd, p.encode(), IN_ACCESS | IN_MODIFY | IN_OPEN)
    if w < 0:
        sys.exit("cannot watch " + p)
    wd[w] = p
open(sys.argv[1], "w").close()
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        buf = os.read(fd, 65536)
        i = 0
        while i < len(buf):
            w, mask, cookie, ln = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + ln].rstrip(b"\0").decode(errors="replace")
            i += 16 + ln
            ev = "OPEN" if mask & IN_OPEN else "MODIFY" if mask & IN_MODIFY else "ACCESS"
            out.write("%s %s%s\n" % (ev, wd.get(w, "?"), "/" + name if name else ""))
