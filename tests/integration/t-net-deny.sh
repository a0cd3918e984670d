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
. "$(dirname "$0")/lib.sh" || exit 1

# fast_fail TEXT: "failed: EACCES|ENETUNREACH after N ms" with N < 500
fast_fail() {
    [[ $1 =~ failed:\ (EACCES|ENETUNREACH)\ after\ ([0-9]+)\ ms ]] && (( BASH_REMATCH[2] < 500 ))
}

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol
PAM_NS_ARGS='' pam_with_ns su su-l
sandbox_conf <<'EOF'
user "alice" { deny = {"10.213.0.254/32"} }
user "carol" { deny = {"10.213.0.1/32", "192.0.2.0/24"} }
EOF
# A second listener address on the bridge, next to the gateway's.
bridge_up 10.213.0.254/16
banner_start 0.0.0.0 8080 HOST-8080

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
hold a alice
wait_until 10 has_record_of 2001
check_match "nsctl exec shows the rule in alice's namespace as well" \
    '100:[[:space:]]+from all to 10\.213\.0\.254 prohibit' "$("$NSCTL" exec alice -- ip rule show 2>&1)"
check_match "... where root's connect to 10.213.0.254 is refused too" \
    '^probe 10\.213\.0\.254:8080 failed: (EACCES|ENETUNREACH) ' \
    "$("$NSCTL" exec alice -- "$PY" "$SB/bin/probe.py" 10.213.0.254 8080 2>&1)"
release a
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
