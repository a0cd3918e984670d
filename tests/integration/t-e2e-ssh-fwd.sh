#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: port forwards over a real OpenSSH sshd (UsePAM yes, pam_ns.so
# in the sshd session stack, ns-shell the passwd shell, the shipped
# conf/ns.conf): ssh -L, -R and -D all work inside the user's network
# namespace. Distinguishable listeners run on the sandbox host's loopback
# and on the user's own loopback (same port), so each check shows which
# side a forward reached.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted remote commands; shared helpers and variables, called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2301
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
A=alice@127.0.0.1
# the sandbox host's listeners (HTTP too, for curl and SOCKS): its loopback,
# its gateway address, and a "client side" one for -R
banner_start --http 127.0.0.1 8081 HOST-LOOPBACK
banner_start --http 0.0.0.0 8080 GATEWAY-8080
banner_start --http 127.0.0.1 8082 CLIENT-8082
listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# ------------------------------------------- -L, the forward alone ---
# No other login of alice: the forwarding connection's own PAM session makes
# her namespace, whose loopback has no listener on 8081.
bg_ssh L0 -N -L 9000:127.0.0.1:8081 "$A"
check "ssh -N -L 9000:127.0.0.1:8081 alone: the client listens on 127.0.0.1:9000" \
    wait_until 10 listening 9000
check "... its PAM session made alice's namespace (one record, nsu2301)" \
    wait_until 10 has_n_records_of 2301 1
check "... (nsu2301 is up)" wait_until 10 ip link show dev nsu2301
check_match "... 127.0.0.1:8081 through it is alice's empty loopback: no answer (not HOST-LOOPBACK)" \
    '^(|probe 127\.0\.0\.1:9000 failed.*)$' "$(probe 127.0.0.1 9000 2)"
check "... sshd's connect to 127.0.0.1:8081 failed (sshd's log says so)" \
    wait_until 10 grep -q 'connect_to 127.0.0.1 port 8081: failed' "$SB/sshd.log"
check_eq "... while the host's 127.0.0.1:8081 answers HOST-LOOPBACK" HOST-LOOPBACK \
    "$(probe 127.0.0.1 8081)"
end_ssh L0
check "the forward's session ends with it" wait_until 20 has_n_records_of 2301 0
settle 2301

# ---------------------------------- alice's own loopback listener ---
bg_ssh hold "$A" "$(hold_cmd hold "$PY $SB/bin/banner.py --http 127.0.0.1 8081 ALICE-LOOPBACK $X/ready &" 'kill $!')"
check "alice runs ALICE-LOOPBACK on 127.0.0.1:8081 of her namespace" wait_until 10 test -e "$X/ready"
hold_sid=$(sids_of 2301)
ino=$(rec "$hold_sid" netns_ino)

# ------------------------------------------------------------------ -L ---
bg_ssh L -N -L 9000:127.0.0.1:8081 "$A"
check "ssh -N -L 9000:127.0.0.1:8081: its session joins alice's namespace (2 records)" \
    wait_until 10 has_n_records_of 2301 2
wait_until 10 listening 9000
check_eq "-L 9000 -> 127.0.0.1:8081 reaches alice's loopback listener" ALICE-LOOPBACK \
    "$(probe 127.0.0.1 9000)"
check_eq "... not the host's one on the same address and port" HOST-LOOPBACK \
    "$(probe 127.0.0.1 8081)"
for s in $(sids_of 2301); do
    check_eq "record $s names alice's one namespace" "$ino" "$(rec "$s" netns_ino)"
done
end_ssh L
wait_until 20 has_n_records_of 2301 1

# ------------------------------------------------------------------ -R ---
bg_ssh R -N -R 9001:127.0.0.1:8082 "$A"
check "ssh -N -R 9001:127.0.0.1:8082: its session joins alice's namespace" \
    wait_until 10 has_n_records_of 2301 2
check "sshd's -R listener on 127.0.0.1:9001 appears in alice's namespace (nsctl exec alice -- ss)" \
    wait_until 10 "$NSCTL" exec alice -- bash -c '[[ -n $(ss -Hltn "sport = :9001") ]]'
check_match "... owned by sshd" 'users:\(\("sshd"' \
    "$("$NSCTL" exec alice -- ss -Hltnp 'sport = :9001' 2>&1)"
check_fail "... and the host has no listener on 9001" listening 9001
check_match "... connecting to the host's 127.0.0.1:9001 fails" '^probe 127\.0\.0\.1:9001 failed' \
    "$(probe 127.0.0.1 9001 1)"
check_eq "from alice's namespace (nsctl exec), 127.0.0.1:9001 leads back to the client's 8082" \
    CLIENT-8082 "$("$NSCTL" exec alice -- "$PY" "$SB/bin/probe.py" 127.0.0.1 9001 2>&1)"
as_ssh alice "$(probe_cmd 127.0.0.1 9001)"
check_eq "... and so from another ssh login of alice" CLIENT-8082 "$AS_OUT"
end_ssh R
check "when the -R connection ends its listener goes from alice's namespace" \
    wait_until 20 "$NSCTL" exec alice -- bash -c '[[ -z $(ss -Hltn "sport = :9001") ]]'

# ------------------------------------------------------------------ -D ---
bg_ssh D -N -D 1080 "$A"
check "ssh -N -D 1080: its session joins alice's namespace" wait_until 10 has_n_records_of 2301 2
wait_until 10 listening 1080
socks() { # URL : fetch URL through the SOCKS5 forward (names resolved by sshd)
    if command -v curl >/dev/null 2>&1; then
        curl -sS -m 5 --socks5-hostname 127.0.0.1:1080 "$1" 2>&1
    else
        "$PY" - "$1" <<'EOF'
import socket, struct, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection(("127.0.0.1", 1080), timeout=5)
s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
h = u.hostname.encode()
s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", u.port))
r = s.recv(10)
if r[1] != 0: print("socks error %d" % r[1]); sys.exit(1)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
d = b""
while True:
    c = s.recv(4096)
    if not c: break
    d += c
print(d.split(b"\r\n\r\n", 1)[1].decode().strip())
EOF
    fi
}
check_eq "SOCKS (-D) to http://127.0.0.1:8081/ reaches alice's loopback listener" \
    ALICE-LOOPBACK "$(socks http://127.0.0.1:8081/)"
check_eq "... http://localhost:8081/ too (the name resolved on the server side)" \
    ALICE-LOOPBACK "$(socks http://localhost:8081/)"
check_eq "... the gateway 10.213.0.1:8080 is reachable through it" \
    GATEWAY-8080 "$(socks http://10.213.0.1:8080/)"
check_eq "... without SOCKS the host's own 127.0.0.1:8081 is HOST-LOOPBACK" \
    HOST-LOOPBACK "$(curl -sS -m 5 http://127.0.0.1:8081/ 2>&1)"
check_fail "... and the client's own 127.0.0.1:8082 is not reachable through it" \
    bash -c "[[ \$(curl -sS -m 5 --socks5-hostname 127.0.0.1:1080 http://127.0.0.1:8082/ 2>&1) == CLIENT-8082 ]]"
end_ssh D

# --------------------------------------------------------------- the end ---
release hold
check "no record of alice is left" wait_until 20 has_n_records_of 2301 0
check "nsu2301 goes" wait_until 30 link_absent nsu2301

sandbox_finish
