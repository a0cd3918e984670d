#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# README "Reaching the outside world", layout b: a routed bridge with NAT.
# A namespace "internet" hangs off the sandbox host by a veth (the uplink
# up0, 198.51.100.1/24; the internet side 198.51.100.2/24) with a listener
# that echoes its peer's address. With forwarding on and conf/ns-shell.nft
# loaded (UPLINK = up0) a user's login reaches it, masqueraded behind the
# uplink address; without the rules it does not; the rules also keep the
# outside from reaching users and users from reaching host services.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted login commands; sandbox_install_ns_shell takes no args here; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1  # never run on without the sandbox
sandbox_enter "$0" "$@"

# ------------------------------------------------------------- helpers ---
# (each t-net-*.sh carries its own copy: run.sh runs every t-*.sh file)
SESS=/run/ns-shell/sessions
LEASES=/var/lib/ns-shell/leases
PY=$SB_PYTHON

net_helpers() {
    cat >"$SB/bin/hold.sh" <<'EOF'
i=0
while [ -e "$1" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
EOF
    # peer.py HOST PORT TEXT [READY_FILE]: answer every connection with
    # "TEXT <peer address>".
    cat >"$SB/bin/peer.py" <<'EOF'
import socket, sys
host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(64)
if len(sys.argv) > 4:
    open(sys.argv[4], "w").close()
while True:
    c, peer = s.accept()
    try:
        c.sendall(("%s %s\n" % (text, peer[0])).encode())
    except OSError:
        pass
    c.close()
EOF
    cat >"$SB/bin/probe.py" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
t = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
try:
    c = socket.create_connection((host, port), timeout=t)
    c.settimeout(t)
    print(c.recv(200).decode().strip())
except Exception as e:
    print("probe %s:%d failed: %s" % (host, port, e))
    sys.exit(1)
EOF
    chmod 0644 "$SB/bin/"*.py "$SB/bin/hold.sh"
}
sids_of() {
    local f
    for f in "$SESS"/*; do
        [[ -f $f ]] && grep -qx "uid=$1" "$f" && basename "$f"
    done
    return 0
}
has_record_of() { [[ -n $(sids_of "$1") ]]; }
n_records() { find "$SESS" -maxdepth 1 -type f -name '????????' 2>/dev/null | wc -l; }
lease_of() { awk -v u="$1" '$2 == u { print $3 }' "$LEASES" 2>/dev/null; }
wait_until() {
    local secs=$1 i; shift
    for ((i = 0; i <= secs * 50; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
settle() { wait_until 3 link_absent "nsu$1"; }
declare -A HOLD_PID
hold() { # TAG USER [CMD]: a login kept open until release TAG
    local tag=$1 user=$2 pre=${3:-}
    : >"/tmp/hold-$tag"
    su "$user" -c "${pre:+$pre
}sh $SB/bin/hold.sh /tmp/hold-$tag" </dev/null >"$SB/tmp/hold-$tag.out" 2>&1 &
    HOLD_PID[$tag]=$!
}
release() {
    local t
    for t in "$@"; do rm -f "/tmp/hold-$t"; done
    for t in "$@"; do wait "${HOLD_PID[$t]}"; done
}
pam_net() { # pam_ns in the su and su-l stacks
    local s
    for s in su su-l; do
        sandbox_pam "$s" <<EOF
auth     sufficient pam_rootok.so
account  required   pam_permit.so
session  required   $PAM_NS_SO
EOF
    done
}
# from_user HOST PORT: a probe from a login of alice (1 s timeout)
from_user() { as_user alice "$PY $SB/bin/probe.py $1 $2 1" || true; printf '%s' "$AS_OUT"; }
# from_internet HOST PORT: a probe from the "internet" namespace
from_internet() { ip netns exec internet "$PY" "$SB/bin/probe.py" "$1" "$2" 1 2>&1; }
load_nft() { nft -f "$SB/ns-shell.nft"; }

# ---------------------------------------------------------------- setup ---
net_helpers
sandbox_install_ns_shell
sandbox_add_user alice 2001
pam_net
: | sandbox_conf
ip link add nsbr0 type bridge && ip addr add 10.213.0.1/16 dev nsbr0 &&
    ip link set nsbr0 up || sandbox_die "cannot create nsbr0"
# The outside world: a namespace of the sandbox, on the uplink up0.
ip netns add internet &&
    ip link add up0 type veth peer name inet0 netns internet &&
    ip addr add 198.51.100.1/24 dev up0 && ip link set up0 up &&
    ip -n internet link set lo up &&
    ip -n internet addr add 198.51.100.2/24 dev inet0 &&
    ip -n internet link set inet0 up || sandbox_die "cannot make the internet namespace"
check "the internet namespace is not the sandbox host's" \
    test "$(ip netns exec internet stat -L -c %i /proc/self/ns/net)" != "$(stat -L -c %i /proc/self/ns/net)"
ip netns exec internet "$PY" "$SB/bin/peer.py" 198.51.100.2 8081 PEER "$SB/inet.ready" \
    </dev/null >"$SB/inet.log" 2>&1 &
"$PY" "$SB/bin/peer.py" 0.0.0.0 8080 HOST "$SB/host.ready" </dev/null >"$SB/host.log" 2>&1 &
wait_until 5 test -e "$SB/inet.ready" -a -e "$SB/host.ready" ||
    sandbox_die "the listeners did not start" "$(cat "$SB/inet.log" "$SB/host.log")"
check_eq "the sandbox host reaches the internet listener directly" "PEER 198.51.100.1" \
    "$("$PY" "$SB/bin/probe.py" 198.51.100.2 8081 2>&1)"
sed 's/^define UPLINK = "eth0"$/define UPLINK = "up0"/' "$NS_REPO/conf/ns-shell.nft" >"$SB/ns-shell.nft"
check "the copy of conf/ns-shell.nft has UPLINK = up0" grep -qx 'define UPLINK = "up0"' "$SB/ns-shell.nft"
sysctl -q -w net.ipv4.ip_forward=1 || sandbox_die "cannot switch on forwarding in the sandbox"

# A login of alice held open, with a listener of hers.
rm -f /tmp/ready-a
hold a alice "$PY $SB/bin/peer.py 0.0.0.0 8082 ALICE /tmp/ready-a &"
wait_until 10 test -e /tmp/ready-a || sandbox_die "alice's held login did not start" \
    "$(cat "$SB/tmp/hold-a.out")"
a4=$(lease_of alice)

# ------------------------------------------------- without the rules ---
check_match "forwarding on, no nft rules: alice cannot reach the internet (no NAT, no route back)" \
    'probe 198\.51\.100\.2:8081 failed' "$(from_user 198.51.100.2 8081)"
check_eq "... but reaches the host's service on the bridge address (control)" "HOST $a4" \
    "$(from_user 10.213.0.1 8080)"

# ------------------------------------------------- conf/ns-shell.nft ---
check "nft -f loads conf/ns-shell.nft (UPLINK = up0)" load_nft
check_match "nft list ruleset shows table inet ns_shell" 'table inet ns_shell' "$(nft list ruleset 2>&1)"
check_eq "with the rules alice reaches the internet listener, masqueraded as 198.51.100.1" \
    "PEER 198.51.100.1" "$(from_user 198.51.100.2 8081)"
check_match "... and no longer reaches the host's service on 10.213.0.1:8080 (input drop)" \
    'probe 10\.213\.0\.1:8080 failed' "$(from_user 10.213.0.1 8080)"
nft flush ruleset
check_match "after nft flush ruleset alice cannot reach the internet any more" \
    'probe 198\.51\.100\.2:8081 failed' "$(from_user 198.51.100.2 8081)"

# ---------------------------- the outside cannot come in (forward drop) ---
load_nft
ip -n internet route add 10.213.0.0/16 via 198.51.100.1 ||
    sandbox_die "cannot add the internet's route back to the pool"
check_match "with the rules and a route to the pool, the internet cannot reach alice's listener" \
    "probe $a4:8082 failed" "$(from_internet "$a4" 8082)"
check_eq "... while alice still reaches the internet masqueraded" "PEER 198.51.100.1" \
    "$(from_user 198.51.100.2 8081)"
nft flush ruleset
check_eq "control, no rules: the internet reaches alice's listener" "ALICE 198.51.100.2" \
    "$(from_internet "$a4" 8082)"
check_eq "control, no rules: alice reaches the internet with her own address (no NAT)" \
    "PEER $a4" "$(from_user 198.51.100.2 8081)"

release a
settle 2001
check_eq "no record is left" 0 "$(n_records)"
sandbox_finish
