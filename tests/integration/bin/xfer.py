# SPDX-License-Identifier: GPL-2.0-or-later
# xfer.py serve HOST PORT [READY_FILE] | up HOST PORT BYTES | down HOST PORT BYTES
# A bounded TCP transfer; the receiver times it and the rate of its
# steady part (from the first quarter of the bytes to the last byte,
# past the initial burst) is printed in Mbit/s by the client.
import socket, sys, time
def recv_timed(c, n):
    got, marks, q = 0, None, n // 4
    while got < n:
        d = c.recv(min(1 << 16, n - got))
        if not d:
            break
        got += len(d)
        if marks is None and got >= q:
            marks = (time.monotonic(), got)
    t1 = time.monotonic()
    if got < n or marks is None or t1 <= marks[0]:
        return "SHORT %d" % got
    return "%.2f" % ((got - marks[1]) * 8 / (t1 - marks[0]) / 1e6)
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
if mode == "serve":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    if len(sys.argv) > 4:
        open(sys.argv[4], "w").close()
    while True:
        c, _ = s.accept()
        # the header byte by byte: a buffered reader could swallow the
        # first payload bytes along with it and leave recv_timed short
        line = b""
        while not line.endswith(b"\n"):
            b = c.recv(1)
            if not b:
                break
            line += b
        what, n = line.split()
        n = int(n)
        if what == b"up":
            c.sendall((recv_timed(c, n) + "\n").encode())
        else:
            c.sendall(b"\0" * n)
        c.close()
n = int(sys.argv[4])
c = socket.create_connection((host, port), timeout=30)
if mode == "up":
    c.sendall(b"up %d\n" % n)
    c.sendall(b"\0" * n)
    print(c.makefile("rb").readline().decode().strip())
else:
    c.sendall(b"down %d\n" % n)
    print(recv_timed(c, n))
