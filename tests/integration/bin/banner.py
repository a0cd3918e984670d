# SPDX-License-Identifier: GPL-2.0-or-later
# banner.py [--peer] [--http] HOST PORT TEXT [READY_FILE]: a TCP listener on
# HOST:PORT (IPv6 if HOST has a ':') that answers every connection with TEXT
# and a newline, then closes it; READY_FILE is created once it listens.
#   --peer  append the client's address: "TEXT PEER"
#   --http  wait (0.3 s at most) for a request: to "GET ..." answer with an
#           HTTP/1.0 response whose body is the text (curl, SOCKS tests)
import socket, sys, threading
args = sys.argv[1:]
peer = "--peer" in args
http = "--http" in args
args = [a for a in args if a not in ("--peer", "--http")]
host, port, text = args[0], int(args[1]), args[2]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(64)
if len(args) > 3:
    open(args[3], "w").close()
def serve(c, addr):
    try:
        line = ("%s %s" % (text, addr[0]) if peer else text) + "\n"
        req = b""
        if http:
            c.settimeout(0.3)
            try:
                req = c.recv(4096)
            except socket.timeout:
                pass
        if req.startswith(b"GET "):
            body = line.encode()
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            c.sendall(line.encode())
    except OSError:
        pass
    c.close()
while True:
    c, addr = s.accept()
    if http:
        threading.Thread(target=serve, args=(c, addr), daemon=True).start()
    else:
        serve(c, addr)
