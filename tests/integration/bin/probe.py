# SPDX-License-Identifier: GPL-2.0-or-later
# probe.py HOST PORT [TIMEOUT]: connect over TCP (HOST may be an IPv6
# address, with %IFACE for a link-local one; TIMEOUT 10 s by default: pass
# a short one where the connection is expected to fail) and
# print the first line the listener sends. On failure print
#   probe HOST:PORT failed: ERRNO-NAME after N ms (MESSAGE)
# (ERRNO-NAME "timeout" for a timeout) and exit 1.
import errno, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
t = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
t0 = time.monotonic()
try:
    c = socket.create_connection((host, port), timeout=t)
    c.settimeout(t)
    print(c.recv(200).decode().strip())
except Exception as e:
    name = errno.errorcode.get(getattr(e, "errno", None),
                               "timeout" if isinstance(e, socket.timeout) else type(e).__name__)
    print("probe %s:%d failed: %s after %d ms (%s)"
          % (host, port, name, (time.monotonic() - t0) * 1000, e))
    sys.exit(1)
