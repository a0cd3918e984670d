# SPDX-License-Identifier: GPL-2.0-or-later
# ptysu.py PWFILE CMD... : CMD on a new pty (its controlling terminal), the
# password in PWFILE typed at its "Password:" prompt; prints what CMD wrote,
# then "rc=N" on a line of its own. Times out (SIGKILL) after 20 s.
import os, pty, select, signal, sys, time
pw = open(sys.argv[1], "rb").read().strip() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out, sent, end = b"", False, time.time() + 20
while True:
    if time.time() > end:
        os.kill(pid, signal.SIGKILL)
        out += b"\n[ptysu: timed out]"
        break
    r, _, _ = select.select([fd], [], [], 0.2)
    if not r:
        continue
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
    if not sent and b"assword:" in out:
        os.write(fd, pw)
        sent = True
_, st = os.waitpid(pid, 0)
rc = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
sys.stdout.write(out.decode("utf-8", "replace").replace("\r", ""))
print("\nrc=%d" % rc)
