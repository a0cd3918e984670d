#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tenants on the bridge and what one login can do to the host or to
# another (issue #7, classes 9, 10 and 11), all as unprivileged users with
# pam_ns in the su stack and the default bridge config:
#  9  with / rshared: mounts a user makes inside her login (in a user
#     namespace of her own) never reach the host; the fresh /proc, /sys and
#     private /tmp cannot be unmounted to uncover the host's ones; /sys
#     shows only her interfaces;
# 10  SysV IPC, POSIX mqueues, /dev/shm, abstract UNIX sockets, hostname:
#     nothing crosses between alice's and bob's concurrent logins;
# 11  bob cannot reach alice over IPv4 (TCP, UDP unicast and broadcast,
#     even with forwarding on at the host), IPv6 is off, addresses, MACs,
#     routes and links cannot be changed, raw and packet sockets and
#     privileged ports are refused (also after unshare -Ur), the gateway
#     is reachable.
# shellcheck disable=SC2016,SC2012,SC2015,SC2034,SC2088,SC2119,SC2174,SC2317  # single-quoted login commands; helpers via check; ls of /proc
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
# shellcheck disable=SC2034  # read by run (lib.sh)
RUN_MERGE=1 RUN_TIMEOUT=20   # run: OUT (stdout and stderr) RC

sandbox_install_ns_shell
add_users 3001 alice bob
sandbox_conf <<'EOF'
default { private_tmp = true }
EOF
pam_with_ns su su-l

as() { run su "$1" -c "$2"; }   # USER CMD : su USER -c CMD as root; sets OUT RC

# Helpers the users run inside their logins.
cat >"$PUB/ipc.py" <<'EOF'
# ipc.py make|probe : SysV (msg, shm, sem with key 0x4e53), a POSIX mqueue
# /ns-attack, a file /dev/shm/ns-attack and an abstract socket "\0ns-attack".
import ctypes, errno, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
KEY, IPC_CREAT = 0x4e53, 0o1000
def err(): return errno.errorcode.get(ctypes.get_errno(), "?")
if sys.argv[1] == "make":
    ok = [libc.msgget(KEY, IPC_CREAT | 0o666) >= 0, libc.shmget(KEY, 4096, IPC_CREAT | 0o666) >= 0,
          libc.semget(KEY, 1, IPC_CREAT | 0o666) >= 0,
          libc.mq_open(b"/ns-attack", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0]
    open("/dev/shm/ns-attack", "w").write("alice")
    os.chmod("/dev/shm/ns-attack", 0o666)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(b"\0ns-attack")
    s.listen(5)
    print("made " + " ".join("ok" if x else "FAIL" for x in ok), flush=True)
    open(sys.argv[2], "w").close()
    s.settimeout(30)
    try:
        c, _ = s.accept()
        c.sendall(b"ALICE-SOCKET\n")
    except OSError:
        pass
    time.sleep(1)
else:
    res = []
    res.append("msg=" + ("FOUND" if libc.msgget(KEY, 0) >= 0 else err()))
    res.append("shm=" + ("FOUND" if libc.shmget(KEY, 0, 0) >= 0 else err()))
    res.append("sem=" + ("FOUND" if libc.semget(KEY, 0, 0) >= 0 else err()))
    res.append("mq=" + ("FOUND" if libc.mq_open(b"/ns-attack", os.O_RDWR) >= 0 else err()))
    res.append("shmfile=" + ("FOUND" if os.path.exists("/dev/shm/ns-attack") else "ENOENT"))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(b"\0ns-attack")
        res.append("abstract=FOUND:" + s.recv(100).decode().strip())
    except OSError as e:
        res.append("abstract=" + errno.errorcode.get(e.errno, "?"))
    print(" ".join(res))
EOF
cat >"$PUB/net.py" <<'EOF'
# net.py : what an unprivileged user may do to the network, one word each.
import errno, os, socket, sys
def attempt(name, f):
    try:
        f()
        return name + "=ok"
    except OSError as e:
        return name + "=" + errno.errorcode.get(e.errno, str(e.errno))
def raw(): socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
def rawudp(): socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP).close()
def packet(): socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0x0300).close()
def packetdgram(): socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0x0300).close()
def raw6(): socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6).close()
def port67():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 67)); s.close()
def ipv6on():
    with open("/proc/sys/net/ipv6/conf/all/disable_ipv6", "w") as f: f.write("0")
def ll6():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.sendto(b"x", ("ff02::1", 5353, 0, socket.if_nametoindex("eth0")))
print(" ".join([attempt("raw", raw), attempt("rawudp", rawudp), attempt("packet", packet),
                attempt("packetdgram", packetdgram), attempt("raw6", raw6), attempt("port67", port67),
                attempt("ipv6on", ipv6on), attempt("ll6", ll6)]))
EOF
cat >"$PUB/udp.py" <<'EOF'
# udp.py listen PORT READY OUT STOP | send LABEL ADDR... : UDP ports 5353
# and 6868; a listener appends "SOURCE:LABEL" lines to OUT as datagrams
# come, until STOP exists (at most 300 s: no idle timeout a loaded machine
# could outlast)
import os, socket, sys, time
if sys.argv[1] == "listen":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    s.settimeout(0.5)
    end = time.monotonic() + 300
    with open(sys.argv[4], "a") as out:
        open(sys.argv[3], "w").close()
        while time.monotonic() < end and not os.path.exists(sys.argv[5]):
            try:
                d, a = s.recvfrom(100)
            except socket.timeout:
                continue
            out.write("%s:%s\n" % (a[0], d.decode()))
            out.flush()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    for a in sys.argv[3:]:
        for port in (5353, 6868):
            try:
                s.sendto(sys.argv[2].encode(), (a, port))
            except OSError as e:
                print("send %s:%d %s" % (a, port, e))
EOF
chmod 0644 "$PUB"/*.py

# ==================================== class 9: mounts, with / rshared ===
mount --make-rshared /
mounts() { findmnt -rn -o TARGET,SOURCE,FSTYPE,PROPAGATION | sort; }
before=$(mounts)
hold M alice "unshare -Urm sh -c 'mount -t tmpfs evil $X 2>&1; mount --make-rshared / 2>&1; mount -t tmpfs evil2 /home 2>&1; echo mounted' >$X/m.out 2>&1
touch $X/m-ready"
wait_until 10 test -e "$X/m-ready"
check_eq "with / rshared: what alice mounts in her own user+mount namespace does not reach the host" \
    "$before" "$(mounts)"
release M
check_eq "... nor after her login" "$before" "$(mounts)"
as alice 'mount -t tmpfs x /tmp 2>&1; echo "rc=$?"'
check_match "alice cannot mount in her login's mount namespace" 'rc=[1-9]' "$OUT"
# The fresh /proc, /sys and the private /tmp sit on top of the host's ones,
# which are still there underneath. In a user namespace of her own alice
# owns a copy of the mount table: the mounts ns-shell made must stay locked.
echo HOST-TMP-SECRET >/tmp/host-secret
chmod 0644 /tmp/host-secret
as alice 'unshare -Urm sh -c "
    umount -l /proc 2>/dev/null && echo proc-unmounted
    umount -l /sys 2>/dev/null && echo sys-unmounted
    umount -l /tmp 2>/dev/null && echo tmp-unmounted
    umount -l /dev/shm 2>/dev/null && echo shm-unmounted
    mount -o remount,rw /sys 2>/dev/null && echo sys-rw
    mount -o remount,exec /proc 2>/dev/null && echo proc-exec
    ls /proc | grep -c \"^[0-9]\"
    cat /tmp/host-secret 2>/dev/null
    ls /sys/class/net | tr \"\n\" \" \""'
check_fail "in a user namespace of her own, alice cannot unmount /proc, /sys, /tmp or /dev/shm nor make them rw/exec" \
    grep -qE 'unmounted|sys-rw|proc-exec' <<<"$OUT"
check_fail "... she never sees the host's /tmp" grep -q HOST-TMP-SECRET <<<"$OUT"
check_match "... nor the host's processes in /proc (at most a handful of her own)" '^[0-9]$' "$(sed -n 1p <<<"$OUT")"
check_eq "... nor the host's interfaces in /sys/class/net" "eth0 lo" "$(tail -n 1 <<<"$OUT" | sed 's/ $//')"
check_eq "after all that the host's mount table is unchanged" "$before" "$(mounts)"
mount --make-rprivate /

# ============================ class 10: nothing crosses between users ===
rm -f "$X/ipc-ready"
hold I alice "$PY -I $PUB/ipc.py make $X/ipc-ready"
wait_until 10 test -e "$X/ipc-ready"
check_match "alice made SysV msg/shm/sem, a POSIX mqueue, /dev/shm/ns-attack and an abstract socket" \
    '^made ok ok ok ok' "$(cat "$SB/tmp/hold-I.out")"
as bob "$PY -I $PUB/ipc.py probe; hostname; ipcs | grep -c 0x00004e53"
check_eq "bob, logged in at the same time, finds none of them" \
    "msg=ENOENT shm=ENOENT sem=ENOENT mq=ENOENT shmfile=ENOENT abstract=ECONNREFUSED" "$(sed -n 1p <<<"$OUT")"
check_eq "... his hostname is his own" "bob" "$(sed -n 2p <<<"$OUT")"
check_eq "... ipcs shows nothing of alice's" "0" "$(sed -n 3p <<<"$OUT")"
as alice "$PY -I $PUB/ipc.py probe"
check_match "control: alice's second login (same network namespace) reaches her abstract socket" \
    'abstract=FOUND:ALICE-SOCKET' "$OUT"
check_eq "the host sees no SysV object with alice's key" 0 "$(ipcs | grep -c 0x00004e53)"
check_fail "... no /dev/shm/ns-attack" test -e /dev/shm/ns-attack
check_fail "... no mqueue /ns-attack" test -e /dev/mqueue/ns-attack
release I

# ====================================================== class 11: tenants ===
"$PY" -I "$SB/bin/banner.py" 10.213.0.1 8080 GATEWAY-8080 </dev/null >/dev/null 2>&1 &
gw_pid=$!
rm -f "$X"/a-*
hold A alice "$PY -I $SB/bin/banner.py 0.0.0.0 8081 ALICE-8081 $X/a-tcp &
$PY -I $PUB/udp.py listen 5353 $X/a-udp1 $X/a-got1 $X/a-stop &
$PY -I $PUB/udp.py listen 6868 $X/a-udp2 $X/a-got2 $X/a-stop &"
wait_until 10 test -e "$X/a-tcp" -a -e "$X/a-udp1" -a -e "$X/a-udp2"
aaddr=$(lease_of -s alice)
check "alice is logged in with listeners on TCP 8081 and UDP 5353/6868 ($aaddr)" test -n "$aaddr"
check_eq "control: the host reaches alice's TCP listener" "ALICE-8081" "$("$PY" -I "$SB/bin/probe.py" "$aaddr" 8081)"
as bob "$PY -I $SB/bin/probe.py 10.213.0.1 8080"
check_eq "bob reaches the gateway" "GATEWAY-8080" "$OUT"
as bob "$PY -I $SB/bin/probe.py $aaddr 8081 2"
check_fail "bob cannot connect to alice over TCP" grep -q ALICE-8081 <<<"$OUT"
[[ $OUT == probe*failed* ]] || printf '#   (bob: %s)\n' "$OUT"
sysctl -qw net.ipv4.ip_forward=1
as bob "$PY -I $SB/bin/probe.py $aaddr 8081 2"
check_fail "... not even with forwarding on at the host (a NAT gateway)" grep -q ALICE-8081 <<<"$OUT"
[[ $OUT == probe*failed* ]] || printf '#   (bob: %s)\n' "$OUT"
baddr=$(lease_of -s bob)
"$PY" -I "$PUB/udp.py" send from-host "$aaddr"
as bob "$PY -I $PUB/udp.py send from-bob $aaddr 255.255.255.255 10.213.255.255 224.0.0.1"
# the host's last datagrams, sent after bob's: once both are in, so would
# bob's be (same bridge, sent earlier)
"$PY" -I "$PUB/udp.py" send end-host "$aaddr"
wait_until 30 grep -qs end-host "$X/a-got1" && wait_until 30 grep -qs end-host "$X/a-got2"
check_match "control: alice's UDP listeners got the host's datagrams" \
    '10\.213\.0\.1:from-host.*10\.213\.0\.1:from-host' "$(grep -h from-host "$X/a-got1" "$X/a-got2" | tr '\n' ' ')"
check_eq "UDP from bob (unicast, 255.255.255.255, the subnet broadcast, 224.0.0.1) never reaches alice" \
    "" "$(grep -h 'from-bob' "$X/a-got1" "$X/a-got2")"
touch "$X/a-stop"
sysctl -qw net.ipv4.ip_forward=0
as bob "$PY -I $PUB/net.py $baddr; cat /proc/net/if_inet6 | grep -c eth0; ip -6 addr show dev eth0 | grep -c inet6"
check_match "bob gets no raw, packet or raw6 socket, no port 67, cannot turn IPv6 on, has no link-local address to send from" \
    '^raw=EPERM rawudp=EPERM packet=EPERM packetdgram=EPERM raw6=EPERM port67=EACCES ipv6on=(EACCES|EPERM) ll6=(EADDRNOTAVAIL|ENETUNREACH)$' \
    "$(sed -n 1p <<<"$OUT")"
check_eq "... eth0 has no IPv6 address at all" "0 0" "$(sed -n '2,3p' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
IP=$(command -v ip) TC=$(command -v tc) SYSCTL=$(command -v sysctl)
netcmds="$IP addr add 10.213.0.99/16 dev eth0; echo addr=\$?
$IP addr flush dev eth0; echo flush=\$?
$IP link set dev eth0 address 02:00:00:00:00:99; echo mac=\$?
$IP link set dev eth0 down; echo down=\$?
$IP route replace default via 10.213.0.99; echo route=\$?
$IP link add x0 type dummy; echo link=\$?
$IP neigh add 10.213.0.1 lladdr 02:00:00:00:00:98 dev eth0; echo neigh=\$?
$SYSCTL -qw net.ipv4.conf.eth0.proxy_arp=1; echo sysctl=\$?
$TC qdisc replace dev eth0 root pfifo; echo tc=\$?"
as bob "{ $netcmds; } 2>/dev/null | tr '\n' ' '"
check_match "bob cannot change his address, MAC, link state, routes, neighbours, sysctls, qdiscs or add links" \
    '^addr=[12] flush=(1|2|255) mac=[12] down=[12] route=[12] link=[12] neigh=[12] sysctl=[1-9] tc=[12] $' "$OUT"
printf '%s\n' "$netcmds" >"$PUB/netcmds.sh"
chmod 0644 "$PUB/netcmds.sh"
as bob "unshare -Ur sh -c 'sh $PUB/netcmds.sh 2>/dev/null | tr \"\\n\" \" \"; $PY -I $PUB/net.py $baddr'"
check_match "... nor after unshare -Ur (the namespace belongs to the host's user namespace)" \
    '^addr=[12] flush=(1|2|255) mac=[12] down=[12] route=[12] link=[12] neigh=[12] sysctl=[1-9] tc=[12] raw=EPERM rawudp=EPERM packet=EPERM packetdgram=EPERM raw6=EPERM port67=EACCES' "$OUT"
as bob 'ip -br -4 addr show dev eth0'
check_eq "bob's address is still the one pam_ns gave him" "$baddr/16" "$(awk '{ print $3 }' <<<"$OUT")"
as bob "$PY -I $SB/bin/probe.py 10.213.0.1 8080"
check_eq "... and he still reaches the gateway" "GATEWAY-8080" "$OUT"
as bob 'ls /sys/class/net | tr "\n" " "'
check_eq "/sys/class/net in bob's login shows only his interfaces" "eth0 lo" "${OUT% }"
release A
kill "$gw_pid" 2>/dev/null

# ============================ class 11 with IPv6 on (pool6 / gateway6) ===
sandbox_conf <<'EOF'
pool6    = "fd00:213::/64"
gateway6 = "fd00:213::1"
EOF
cat >"$PUB/banner6.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(16); open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept(); c.sendall(b"ALICE6\n"); c.close()
EOF
cat >"$PUB/probe6.py" <<'EOF'
import socket, sys
for a in sys.argv[2:]:
    try:
        host, _, scope = a.partition("%")
        sid = socket.if_nametoindex(scope) if scope else 0
        c = socket.socket(socket.AF_INET6); c.settimeout(2)
        c.connect((host, int(sys.argv[1]), 0, sid))
        print(a, c.recv(100).decode().strip() or "CONNECTED")
    except OSError as e:
        print(a, "refused:", e)
EOF
chmod 0644 "$PUB/banner6.py" "$PUB/probe6.py"
# The bridge exists from the IPv4 part: give it gateway6 (as the sample
# config says an admin must for a bridge pam_ns did not create).
ip -6 addr add fd00:213::1/64 dev nsbr0 nodad 2>/dev/null
rm -f "$X/a6-ready"
hold A6 alice "ip -6 -o addr show dev eth0 | awk '{ print \$4 }' >$X/a6-addrs
$PY -I $PUB/banner6.py 8082 $X/a6-ready &"
wait_until 10 test -e "$X/a6-ready"
a6=$(sed 's|/.*||' "$X/a6-addrs" | grep -v '^fe80' | head -n 1)
ll6=$(sed 's|/.*||' "$X/a6-addrs" | grep '^fe80' | head -n 1)
check "alice has an IPv6 address from pool6 ($a6)" test -n "$a6"
out=$("$PY" -I "$PUB/probe6.py" 8082 "$a6" 2>&1)
check_match "control: the host reaches alice's IPv6 listener" 'ALICE6' "$out"
sysctl -qw net.ipv6.conf.all.forwarding=1 2>/dev/null
as bob "$PY -I $PUB/probe6.py 8082 $a6 ${ll6:+$ll6%eth0} ff02::1%eth0"
check_fail "bob cannot reach alice over IPv6 (her pool6 address${ll6:+, her link-local address}), forwarding on" \
    grep -q ALICE6 <<<"$OUT"
as bob "ip -6 addr add fd00:213::99/64 dev eth0 2>&1; echo rc=\$?; $PY -I $PUB/net.py x"
check_match "bob cannot add an IPv6 address" 'rc=[1-9]' "$OUT"
check_match "... nor open a raw ICMPv6 socket (no router advertisements of his own)" 'raw6=EPERM' "$OUT"
sysctl -qw net.ipv6.conf.all.forwarding=0 2>/dev/null
release A6

# ===================================== class 11: deny rules stay put ===
sandbox_conf <<'EOF'
default { deny = {"192.0.2.0/24"} }
EOF
ip addr add 192.0.2.1/32 dev lo
"$PY" -I "$SB/bin/banner.py" 192.0.2.1 8090 DENIED-REACHED "$X/deny-ready" </dev/null >/dev/null 2>&1 &
deny_pid=$!
wait_until 5 test -e "$X/deny-ready"
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv4.conf.all.accept_source_route=1 net.ipv4.conf.default.accept_source_route=1
cat >"$PUB/lsrr.py" <<'EOF'
# lsrr.py : reach 192.0.2.1:8090 directly, then loose/strict source-routed
# through the gateway 10.213.0.1 (a classic way past a destination rule).
import socket
def go(name, opts):
    s = socket.socket(); s.settimeout(2)
    try:
        if opts:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, opts)
        s.connect(("192.0.2.1", 8090))
        print(name, s.recv(100).decode().strip())
    except OSError as e:
        print(name, "refused:", e)
go("direct", None)
for t, name in ((131, "lsrr"), (137, "ssrr")):
    go(name, bytes([t, 7, 4]) + socket.inet_aton("10.213.0.1") + b"\x01")
EOF
chmod 0644 "$PUB/lsrr.py"
check_eq "control: the host itself reaches 192.0.2.1:8090" "DENIED-REACHED" "$("$PY" -I "$SB/bin/probe.py" 192.0.2.1 8090)"
as alice "$PY -I $PUB/lsrr.py; ip rule del prio 100 2>/dev/null; echo rule-del=\$?; unshare -Ur sh -c 'ip rule del prio 100 2>/dev/null; echo userns-rule-del=\$?'; $PY -I $PUB/lsrr.py"
check_fail "deny = 192.0.2.0/24: alice cannot reach it (directly, source-routed via the gateway, after trying to delete the rule)" \
    grep -q DENIED-REACHED <<<"$OUT"
check_match "... the rule cannot be deleted, not even from a user namespace of her own" \
    'rule-del=[1-9].*userns-rule-del=[1-9]' "$(tr '\n' ' ' <<<"$OUT")"
sysctl -qw net.ipv4.ip_forward=0
kill "$deny_pid" 2>/dev/null

sandbox_finish
