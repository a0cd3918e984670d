# SPDX-License-Identifier: GPL-2.0-or-later
# udp.py HOST PORT: send one datagram; "sent" or "failed: ERRNO-NAME".
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))
    print("sent")
except OSError as e:
    print("failed: %s" % errno.errorcode.get(e.errno, str(e)))
