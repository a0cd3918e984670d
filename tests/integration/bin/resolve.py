# SPDX-License-Identifier: GPL-2.0-or-later
# resolve.py NAME: the IPv4 address NAME resolves to (libc, nsswitch).
import socket, sys
try:
    print(socket.gethostbyname(sys.argv[1]))
except Exception as e:
    print("resolve %s failed: %s" % (sys.argv[1], e))
    sys.exit(1)
