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
. "$(dirname "$0")/lib.sh" || exit 1

# within LOW HIGH VALUE: LOW <= VALUE <= HIGH (decimals)
within() { awk -v l="$1" -v h="$2" -v v="$3" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v >= l && v <= h) }'; }
# above FACTOR A B: A > FACTOR * B
above() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && a > f * b) }'; }

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol
PAM_NS_ARGS='' pam_with_ns su su-l
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
    wait_until 10 eval 'has_record_of 2001 && has_record_of 2002'
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
