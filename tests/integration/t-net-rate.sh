#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rate = "20mbit": a tbf qdisc on the host side of the user's veth (its
# download) and on eth0 inside (its upload). What tc shows on both sides,
# that the user cannot remove it, and real TCP transfers to and from the
# sandbox host: alice's steady throughput is the configured rate, an
# unlimited user's is far above it. Prints the measured rates.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted login commands; sandbox_install_ns_shell takes no args here; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1  # never run on without the sandbox
sandbox_enter "$0" "$@"

# ------------------------------------------------------------- helpers ---
# (each t-net-*.sh carries its own copy: run.sh runs every t-*.sh file)
SESS=/run/ns-shell/sessions
PY=$SB_PYTHON
NSCTL=$NS_BUILD/nsctl

net_helpers() {
    cat >"$SB/bin/hold.sh" <<'EOF'
i=0
while [ -e "$1" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
EOF
    # xfer.py serve HOST PORT [READY_FILE] | up HOST PORT BYTES | down HOST PORT BYTES
    # A bounded TCP transfer; the receiver times it and the rate of its
    # steady part (from the first quarter of the bytes to the last byte,
    # past the initial burst) is printed in Mbit/s by the client.
    cat >"$SB/bin/xfer.py" <<'EOF'
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
EOF
    chmod 0644 "$SB/bin/hold.sh" "$SB/bin/xfer.py"
}
sids_of() {
    local f
    for f in "$SESS"/*; do
        [[ -f $f ]] && grep -qx "uid=$1" "$f" && basename "$f"
    done
    return 0
}
n_records() { find "$SESS" -maxdepth 1 -type f -name '????????' 2>/dev/null | wc -l; }
wait_until() {
    local secs=$1 i; shift
    for ((i = 0; i <= secs * 50; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}
has_n_records_of() { [[ $(sids_of "$1" | wc -l) == "$2" ]]; }
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
settle() { wait_until 3 link_absent "nsu$1"; }
check_login() {
    if [[ $AS_RC == 0 ]]; then sandbox_ok "$1"
    else sandbox_not_ok "$1" "exit status: $AS_RC
stdout: $AS_OUT
stderr: $AS_ERR"; fi
}
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
# within LOW HIGH VALUE: LOW <= VALUE <= HIGH (decimals)
within() { awk -v l="$1" -v h="$2" -v v="$3" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v >= l && v <= h) }'; }
# above FACTOR A B: A > FACTOR * B
above() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && a > f * b) }'; }

# ---------------------------------------------------------------- setup ---
net_helpers
sandbox_install_ns_shell
sandbox_add_user alice 2001
sandbox_add_user bob 2002
sandbox_add_user carol 2003
pam_net
sandbox_conf <<'EOF'
user "alice" { rate = "20mbit" }
user "carol" { rate = "1mbps"  burst = "64kb" }
EOF
BYTES=8000000
"$PY" "$SB/bin/xfer.py" serve 0.0.0.0 9000 "$SB/xfer.ready" </dev/null >"$SB/xfer.log" 2>&1 &
wait_until 5 test -e "$SB/xfer.ready" || sandbox_die "the transfer listener did not start" "$(cat "$SB/xfer.log")"

# ------------------------------------------------------ what tc shows ---
hold a alice
hold b bob
check "held logins of alice and bob have records" \
    wait_until 10 bash -c "[ -n \"\$(grep -lx uid=2001 $SESS/* 2>/dev/null)\" ] && [ -n \"\$(grep -lx uid=2002 $SESS/* 2>/dev/null)\" ]"
q=$(tc qdisc show dev nsu2001 2>&1)
check_match "host side: nsu2001 (alice's download) has a root tbf at 20Mbit" \
    '^qdisc tbf [0-9a-f]+: root .*rate 20Mbit' "$q"
check_match "... with 10 ms of the rate as burst (25000 bytes) and 50 ms of queue" \
    'burst 25000b lat 50ms' "$q"
q=$("$NSCTL" exec alice -- tc qdisc show dev eth0 2>&1)
check_match "inside (nsctl exec): alice's eth0 (her upload) has a root tbf at 20Mbit" \
    '^qdisc tbf [0-9a-f]+: root .*rate 20Mbit burst 25000b lat 50ms' "$q"
as_user alice '/sbin/tc qdisc show dev eth0; echo ---; /sbin/tc qdisc del dev eth0 root 2>&1; echo "rc=$?"; /sbin/tc qdisc show dev eth0'
check_match "a login of alice sees the tbf on its eth0" '^qdisc tbf [0-9a-f]+: root .*rate 20Mbit' "$AS_OUT"
check_match "alice cannot remove it (tc qdisc del: EPERM)" \
    'Operation not permitted'$'\n''rc=[1-9]' "$AS_OUT"
check_match "... it is still there afterwards" $'rc=[0-9]+\nqdisc tbf [0-9a-f]+: root .*rate 20Mbit' "$AS_OUT"
check_fail "bob (no rate) has no tbf on nsu2002" grep -q tbf <<<"$(tc qdisc show dev nsu2002 2>&1)"
check_fail "... nor on his eth0" grep -q tbf <<<"$("$NSCTL" exec bob -- tc qdisc show dev eth0 2>&1)"

as_user carol '/sbin/tc qdisc show dev eth0'
check_match "carol's rate = \"1mbps\" (bytes) is 8Mbit, burst = \"64kb\" is 64Kb (inside)" \
    '^qdisc tbf [0-9a-f]+: root .*rate 8Mbit burst 64Kb' "$AS_OUT"
settle 2003

# --------------------------------------------------------- transfers ---
as_user alice "$PY $SB/bin/xfer.py up 10.213.0.1 9000 $BYTES; $PY $SB/bin/xfer.py down 10.213.0.1 9000 $BYTES"
check_login "alice's transfers of $BYTES bytes each way complete"
a_up=$(sed -n 1p <<<"$AS_OUT") a_down=$(sed -n 2p <<<"$AS_OUT")
as_user bob "$PY $SB/bin/xfer.py up 10.213.0.1 9000 $BYTES; $PY $SB/bin/xfer.py down 10.213.0.1 9000 $BYTES"
check_login "bob's transfers complete"
b_up=$(sed -n 1p <<<"$AS_OUT") b_down=$(sed -n 2p <<<"$AS_OUT")
printf '# shaping: upload %s Mbit/s, download %s Mbit/s (configured 20)\n' "$a_up" "$a_down"
printf '# shaping: unlimited user: upload %s Mbit/s, download %s Mbit/s\n' "$b_up" "$b_down"
check "alice's upload (steady part) is 20 Mbit/s +-20% ($a_up)" within 16 24 "$a_up"
check "alice's download (steady part) is 20 Mbit/s +-20% ($a_down)" within 16 24 "$a_down"
check "bob's upload is more than twice alice's ($b_up vs $a_up)" above 2 "$b_up" "$a_up"
check "bob's download is more than twice alice's ($b_down vs $a_down)" above 2 "$b_down" "$a_down"

release a b
settle 2001
settle 2002
check_eq "no record is left" 0 "$(n_records)"
sandbox_finish
