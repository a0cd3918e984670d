# SPDX-License-Identifier: GPL-2.0-or-later
# ptrace.py PID... : try PTRACE_ATTACH, PTRACE_SEIZE, process_vm_readv and
# /proc/PID/mem on each PID; print "PID what=RESULT" (ok or the errno name).
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE = 16, 17, 0x4206
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
def name(e):
    return errno.errorcode.get(e, str(e))
for a in sys.argv[1:]:
    pid = int(a)
    res = []
    for what, req in (("attach", PTRACE_ATTACH), ("seize", PTRACE_SEIZE)):
        r = libc.ptrace(req, pid, None, None)
        if r == 0:
            res.append(what + "=ok")
            os.waitpid(pid, 0) if what == "attach" else None
            libc.ptrace(PTRACE_DETACH, pid, None, None)
        else:
            res.append(what + "=" + name(ctypes.get_errno()))
    buf = ctypes.create_string_buffer(64)
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = iovec(ctypes.c_void_p(0x400000), 64)
    r = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    res.append("vmread=" + ("ok" if r >= 0 else name(ctypes.get_errno())))
    try:
        os.close(os.open("/proc/%d/mem" % pid, os.O_RDONLY))
        res.append("mem=ok")
    except OSError as e:
        res.append("mem=" + name(e.errno))
    print("%d %s" % (pid, " ".join(res)))
