# SPDX-License-Identifier: GPL-2.0-or-later
# pamfds.py SERVICE USER [HOLD_FILE] : open and close a PAM session in this
# process (libpam through ctypes) and print this process's descriptors
# before the open, while the session is open and after the close, as lines
# "STAGE FD TARGET CLOEXEC" (TARGET with inode numbers blanked: socket:[],
# net:[]), then "open=RC close=RC". With HOLD_FILE the session stays open
# while that file exists.
import ctypes, os, re, sys, time
from ctypes import CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int, c_void_p
pam = ctypes.CDLL("libpam.so.0")
class Msg(Structure): _fields_ = [("style", c_int), ("msg", c_char_p)]
class Resp(Structure): _fields_ = [("resp", c_char_p), ("code", c_int)]
CONV = CFUNCTYPE(c_int, c_int, POINTER(POINTER(Msg)), POINTER(POINTER(Resp)), c_void_p)
class Conv(Structure): _fields_ = [("conv", CONV), ("data", c_void_p)]
conv_cb = CONV(lambda n, m, r, d: 19)
def fds(stage):
    d = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    names = os.listdir(d)
    out = []
    for n in sorted(names, key=int):
        fd = int(n)
        if fd == d:
            continue
        try:
            t = os.readlink("/proc/self/fd/" + n)
        except OSError:
            continue
        t = re.sub(r"\[\d+\]$", "[]", t)
        flags = 0
        with open("/proc/self/fdinfo/" + n) as f:
            for line in f:
                if line.startswith("flags:"):
                    flags = int(line.split()[1], 8)
        out.append("%s %d %s %s" % (stage, fd, t, "cloexec" if flags & 0o2000000 else "inherit"))
    os.close(d)
    print("\n".join(out))
h = c_void_p()
conv = Conv(conv_cb, None)
if pam.pam_start(sys.argv[1].encode(), sys.argv[2].encode(), byref(conv), byref(h)) != 0:
    sys.exit("pam_start failed")
fds("before")
r = pam.pam_open_session(h, 0)
fds("during")
if len(sys.argv) > 3:
    sys.stdout.flush()
    while os.path.exists(sys.argv[3]):
        time.sleep(0.05)
c = pam.pam_close_session(h, 0) if r == 0 else -1
fds("after")
pam.pam_end(h, 0)
fds("ended")
print("open=%d close=%d" % (r, c))
