# SPDX-License-Identifier: GPL-2.0-or-later
# pamdrv.py SERVICE USER [KEY=VALUE...]: open and close a PAM session in
# this very process; print what changed. Options: preset=ENV (put ENV
# into the PAM environment before opening), hold=FILE (keep the session
# open while FILE exists).
import ctypes, os, sys, time
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int,
                    c_void_p)
pam = ctypes.CDLL("libpam.so.0")
class Msg(Structure): _fields_ = [("style", c_int), ("msg", c_char_p)]
class Resp(Structure): _fields_ = [("resp", c_char_p), ("code", c_int)]
CONV = CFUNCTYPE(c_int, c_int, POINTER(POINTER(Msg)), POINTER(POINTER(Resp)), c_void_p)
class Conv(Structure): _fields_ = [("conv", CONV), ("data", c_void_p)]
conv_cb = CONV(lambda n, m, r, d: 19)   # PAM_CONV_ERR: nothing to ask here
pam.pam_getenv.restype = c_char_p
pam.pam_strerror.restype = c_char_p
service, user = sys.argv[1].encode(), sys.argv[2].encode()
opts = dict(a.split("=", 1) for a in sys.argv[3:])
def state(tag):
    st = os.stat("/")
    print("%s_net=%s" % (tag, os.readlink("/proc/self/ns/net")))
    print("%s_mnt=%s" % (tag, os.readlink("/proc/self/ns/mnt")))
    print("%s_cwd=%s" % (tag, os.getcwd()))
    print("%s_root=%d:%d" % (tag, st.st_dev, st.st_ino))
h = c_void_p()
conv = Conv(conv_cb, None)
r = pam.pam_start(service, user, byref(conv), byref(h))
if r != 0:
    print("pam_start=%d" % r); sys.exit(2)
if "preset" in opts:
    pam.pam_putenv(h, opts["preset"].encode())
state("before")
r = pam.pam_open_session(h, 0)
print("open=%d %s" % (r, pam.pam_strerror(h, r).decode()))
state("during")
v = pam.pam_getenv(h, b"NS_SHELL_SESSION")
print("env_sid=%s" % (v.decode() if v else ""))
sys.stdout.flush()
if "hold" in opts:
    for _ in range(1200):
        if not os.path.exists(opts["hold"]): break
        time.sleep(0.05)
if r == 0:
    r = pam.pam_close_session(h, 0)
    print("close=%d %s" % (r, pam.pam_strerror(h, r).decode()))
state("after")
pam.pam_end(h, 0)
