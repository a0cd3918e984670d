# SPDX-License-Identifier: GPL-2.0-or-later
# spoof.py — what a tenant can put in the source address of her packets
# without any capability, and a listener to see what arrives.
#
#   spoof.py send LABEL DST PORT SRC     one UDP datagram "LABEL" to DST:PORT
#                                        from SRC ("-": let the kernel pick;
#                                        "ADDR%IFACE" for a link-local one),
#                                        bound with IP_FREEBIND (15) or
#                                        IPV6_FREEBIND (78), which need no
#                                        privilege; DST may carry %IFACE too.
#                                        Prints "LABEL sent" or "LABEL ERRNAME".
#   spoof.py tcp LABEL DST PORT SRC      the same with a TCP connect.
#   spoof.py listen PORT READY OUT       UDP and TCP on 0.0.0.0:PORT and
#                                        [::]:PORT; one line "LABEL SOURCE"
#                                        per datagram or connection in OUT.
#   spoof.py packet                      try an AF_PACKET socket (ARP, NDP
#                                        by hand): prints "packet ok|ERRNAME".
import errno, os, select, socket, sys

IP_FREEBIND, IPV6_FREEBIND = 15, 78


def addr(text, port):
    host, _, scope = text.partition("%")
    if ":" in host:
        sid = socket.if_nametoindex(scope) if scope else 0
        return socket.AF_INET6, (host, port, 0, sid)
    return socket.AF_INET, (host, port)


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def out(kind, label, dst, port, src):
    fam, dest = addr(dst, port)
    s = socket.socket(fam, socket.SOCK_DGRAM if kind == "send" else socket.SOCK_STREAM)
    try:
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        if src != "-":
            sfam, sa = addr(src, 0)
            if sfam != fam:
                raise OSError(errno.EAFNOSUPPORT, "family")
            s.bind(sa)
        if kind == "send":
            s.sendto(label.encode(), dest)
        else:
            s.settimeout(2)
            s.connect(dest)
            s.sendall(label.encode())
        print(label, "sent", flush=True)
    except OSError as e:
        print(label, name(e) if e.errno else "timeout", flush=True)
    finally:
        s.close()


def listen(port, ready, path):
    socks = []
    for fam, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(fam, typ)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, port))
            if typ == socket.SOCK_STREAM:
                s.listen(16)
            socks.append(s)
    open(ready, "w").close()
    with open(path, "a", buffering=1) as f:
        while True:
            for s in select.select(socks, [], [])[0]:
                if s.type == socket.SOCK_DGRAM:
                    data, peer = s.recvfrom(200)
                    f.write("%s %s\n" % (data.decode(errors="replace"), peer[0]))
                    continue
                c, peer = s.accept()
                c.settimeout(1)
                try:
                    data = c.recv(200)
                except OSError:
                    data = b"?"
                c.close()
                f.write("%s %s\n" % (data.decode(errors="replace") or "?", peer[0]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd in ("send", "tcp"):
        out(cmd, sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif cmd == "listen":
        listen(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "packet":
        try:
            socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806)).close()
            print("packet ok")
        except OSError as e:
            print("packet", name(e))
    else:
        sys.exit("usage: spoof.py send|tcp|listen|packet ...")
