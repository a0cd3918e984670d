#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# deny = {CIDR...}: a `prohibit` policy rule per destination inside the
# user's namespace. A denied destination fails at once (EACCES), TCP and
# UDP, an allowed one on the same bridge still answers, another user is not
# affected, and the user cannot remove the rule.
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
    cat >"$SB/bin/banner.py" <<'EOF'
import socket, sys
host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(64)
if len(sys.argv) > 4:
    open(sys.argv[4], "w").close()
while True:
    c, _ = s.accept()
    try:
        c.sendall((text + "\n").encode())
    except OSError:
        pass
    c.close()
EOF
    # probe.py HOST PORT [TIMEOUT]: the first line the listener sends, else
    # "failed: ERRNO-NAME" and how long the attempt took.
    cat >"$SB/bin/probe.py" <<'EOF'
import errno, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
t = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
t0 = time.monotonic()
try:
    c = socket.create_connection((host, port), timeout=t)
    c.settimeout(t)
    print(c.recv(200).decode().strip())
except OSError as e:
    name = errno.errorcode.get(e.errno, "timeout" if isinstance(e, socket.timeout) else str(e))
    print("failed: %s after %d ms" % (name, (time.monotonic() - t0) * 1000))
    sys.exit(1)
EOF
    # udp.py HOST PORT: send one datagram; "sent" or "failed: ERRNO-NAME".
    cat >"$SB/bin/udp.py" <<'EOF'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))
    print("sent")
except OSError as e:
    print("failed: %s" % errno.errorcode.get(e.errno, str(e)))
EOF
    chmod 0644 "$SB/bin/"*.py
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
has_record_of() { [[ -n $(sids_of "$1") ]]; }
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
settle() { wait_until 3 link_absent "nsu$1"; }
check_login() {
    if [[ $AS_RC == 0 ]]; then sandbox_ok "$1"
    else sandbox_not_ok "$1" "exit status: $AS_RC
stdout: $AS_OUT
stderr: $AS_ERR"; fi
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
split_parts() { # TEXT: part[i] = the i-th chunk between "---" lines, joined by '|'
    local line cur=""
    part=()
    while IFS= read -r line; do
        if [[ $line == --- ]]; then part+=("$cur"); cur=""; else cur+="$line|"; fi
    done <<<"$1"
    part+=("$cur")
}
# fast_fail TEXT: "failed: EACCES|ENETUNREACH after N ms" with N < 500
fast_fail() {
    [[ $1 =~ failed:\ (EACCES|ENETUNREACH)\ after\ ([0-9]+)\ ms ]] && (( BASH_REMATCH[2] < 500 ))
}

# ---------------------------------------------------------------- setup ---
net_helpers
sandbox_install_ns_shell
sandbox_add_user alice 2001
sandbox_add_user bob 2002
sandbox_add_user carol 2003
pam_net
sandbox_conf <<'EOF'
user "alice" { deny = {"10.213.0.254/32"} }
user "carol" { deny = {"10.213.0.1/32", "192.0.2.0/24"} }
EOF
# A second listener address on the bridge, next to the gateway's.
ip link add nsbr0 type bridge && ip addr add 10.213.0.1/16 dev nsbr0 &&
    ip addr add 10.213.0.254/16 dev nsbr0 && ip link set nsbr0 up ||
    sandbox_die "cannot create nsbr0"
"$PY" "$SB/bin/banner.py" 0.0.0.0 8080 HOST-8080 "$SB/banner.ready" </dev/null >"$SB/banner.log" 2>&1 &
wait_until 5 test -e "$SB/banner.ready" || sandbox_die "the host's listener did not start"

# ------------------------------------------------------------- alice ---
as_user alice "$PY $SB/bin/probe.py 10.213.0.1 8080; echo ---
$PY $SB/bin/probe.py 10.213.0.254 8080; echo ---
$PY $SB/bin/udp.py 10.213.0.254 9; echo ---
ip rule show; echo ---
ip rule del pref 100 2>&1; echo rc=\$?; echo ---
ip rule show; echo ---
ip route add 10.213.0.254/32 dev eth0 2>&1; echo rc=\$?"
check_login "su - alice with deny = {\"10.213.0.254/32\"} succeeds"
split_parts "$AS_OUT"
check_eq "alice reaches the allowed listener 10.213.0.1" "HOST-8080|" "${part[0]:-}"
check "alice's TCP connect to the denied 10.213.0.254 fails at once with EACCES/ENETUNREACH (${part[1]:-})" \
    fast_fail "${part[1]:-}"
check_match "... and UDP to it fails too" '^failed: (EACCES|ENETUNREACH)\|$' "${part[2]:-}"
check_match "ip rule inside shows the prohibit rule" \
    '(^|\|)100:[[:space:]]+from all to 10\.213\.0\.254 prohibit\|' "${part[3]:-}"
check_match "alice cannot delete it (ip rule del: EPERM)" \
    'Operation not permitted\|rc=[1-9]' "${part[4]:-}"
check_match "... the rule is still there" '100:[[:space:]]+from all to 10\.213\.0\.254 prohibit' "${part[5]:-}"
check_match "... nor get around it with a route of her own (EPERM)" \
    'Operation not permitted\|rc=[1-9]' "${part[6]:-}"
settle 2001
: >/tmp/hold-a
su alice -c "while [ -e /tmp/hold-a ]; do sleep 0.05; done" </dev/null >/dev/null 2>&1 &
hold_a=$!
wait_until 10 has_record_of 2001
check_match "nsctl exec shows the rule in alice's namespace as well" \
    '100:[[:space:]]+from all to 10\.213\.0\.254 prohibit' "$("$NSCTL" exec alice -- ip rule show 2>&1)"
check_match "... where root's connect to 10.213.0.254 is refused too" '^failed: (EACCES|ENETUNREACH)' \
    "$("$NSCTL" exec alice -- "$PY" "$SB/bin/probe.py" 10.213.0.254 8080 2>&1)"
rm -f /tmp/hold-a
wait "$hold_a"
settle 2001

# --------------------------------------------------- bob, carol ---
as_user bob "$PY $SB/bin/probe.py 10.213.0.254 8080; ip rule show"
check_match "bob (no deny) reaches 10.213.0.254" '^HOST-8080' "$AS_OUT"
check_fail "... and has no prohibit rule" grep -q prohibit <<<"$AS_OUT"
as_user carol "$PY $SB/bin/probe.py 10.213.0.1 8080; echo ---
$PY $SB/bin/probe.py 10.213.0.254 8080; echo ---
$PY $SB/bin/probe.py 192.0.2.77 8080; echo ---
ip rule show"
split_parts "$AS_OUT"
check "carol (deny = {\"10.213.0.1/32\", \"192.0.2.0/24\"}) cannot reach her gateway 10.213.0.1 (${part[0]:-})" \
    fast_fail "${part[0]:-}"
check_eq "... but reaches 10.213.0.254" "HOST-8080|" "${part[1]:-}"
check "... and a denied network beyond the gateway fails at once (${part[2]:-})" \
    fast_fail "${part[2]:-}"
check_match "... both rules are in place" \
    'from all to 10\.213\.0\.1 prohibit.*from all to 192\.0\.2\.0/24 prohibit|from all to 192\.0\.2\.0/24 prohibit.*from all to 10\.213\.0\.1 prohibit' \
    "${part[3]:-}"
settle 2002
settle 2003
check_eq "no record is left" 0 "$(n_records)"
sandbox_finish
