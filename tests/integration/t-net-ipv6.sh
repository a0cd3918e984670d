#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pool6 / gateway6: each user gets pool6 + the host part of its IPv4 lease,
# stable across logins, with a default route via gateway6 (which a bridge
# made by pam_ns carries); TCP over IPv6 to the host works; two users
# cannot reach each other over IPv6, by global nor link-local address
# (isolate_ports); without pool6 there is no IPv6 inside at all.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted login commands; sandbox_install_ns_shell takes no args here; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1  # never run on without the sandbox
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# inet6_global TEXT: the global inet6 addresses in `ip -o -6 addr` output
inet6_global() { awk '$3 == "inet6" && / scope global/ { print $4 }' <<<"$1" | xargs; }

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol dave
PAM_NS_ARGS='' pam_with_ns su su-l
sandbox_conf <<'EOF'
pool6    = "fd00:213::/64"
gateway6 = "fd00:213::1"
user "dave" {
    deny = {"fd00:213::1/128"}
    dns  = {"fd00:213::1", "10.213.0.1"}
}
EOF
check_fail "no bridge before the first login (pam_ns makes it)" ip link show dev nsbr0

# -------------------------------------------------- a login with IPv6 ---
as_user alice 'ip -o -6 addr show dev eth0; ip -6 route show default
cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6 /proc/sys/net/ipv6/conf/eth0/accept_ra'
check_login "su - alice with pool6 and gateway6 succeeds"
out=$AS_OUT
a4=$(lease_of alice)
a6=$(v6_of "$a4")
check_eq "alice's eth0 has pool6 + the host part of her IPv4 lease $a4, /64" \
    "$a6/64" "$(inet6_global "$out")"
check_fail "... usable at once (not tentative: no DAD)" grep -q tentative <<<"$out"
check_match "the IPv6 default route inside goes via fd00:213::1 on eth0" \
    'default via fd00:213::1 dev eth0' "$out"
check_match "IPv6 is on on eth0, router advertisements ignored (disable_ipv6 0, accept_ra 0)" \
    $'\n0\n0$' "$out"
check_match "the bridge pam_ns made carries gateway6 fd00:213::1/64" \
    'inet6 fd00:213::1/64 ' "$(ip -6 addr show dev nsbr0 2>&1)"
settle 2001
as_user alice 'ip -o -6 addr show dev eth0'
check_eq "the next login of alice gets the same IPv6 address" "$a6/64" "$(inet6_global "$AS_OUT")"
settle 2001

# ---------------------------------- TCP over IPv6; users kept apart ---
# Listeners here answer "TEXT <peer address>".
banner_start --peer fd00:213::1 8080 GATEWAY6
rm -f /tmp/ready-b
hold b bob "ip -o -6 addr show dev eth0
$PY $SB/bin/banner.py --peer :: 8090 BOB /tmp/ready-b &"
check "a held login of bob with a listener on [::]:8090" \
    wait_until 10 test -e /tmp/ready-b
bout=$(cat "$SB/tmp/hold-b.out")
b6=$(v6_of "$(lease_of bob)")
check_eq "bob's eth0 has his own pool6 address" "$b6/64" "$(inet6_global "$bout")"
bll=$(link_local "$bout")
check_match "bob's eth0 has a link-local address" '^fe80:' "$bll"
check "alice's and bob's IPv6 addresses differ" test "$a6" != "$b6"
check_match "the host reaches bob's listener over IPv6 (control)" "^BOB fd00:213::1$" \
    "$(probe "$b6" 8090)"
check_match "the host reaches bob's listener by link-local address (control)" "^BOB " \
    "$(probe "$bll%nsbr0" 8090)"
as_user alice "$PY $SB/bin/probe.py fd00:213::1 8080; echo ---
$PY $SB/bin/probe.py $b6 8090 1.5; echo ---
$PY $SB/bin/probe.py $bll%eth0 8090 1.5"
split_parts "$AS_OUT"
check_eq "alice reaches a TCP listener on [fd00:213::1], from her own address" \
    "GATEWAY6 $a6|" "${part[0]:-}"
check_match "alice cannot reach bob's listener by his global IPv6 address" \
    "probe $b6:8090 failed" "${part[1]:-}"
check_match "alice cannot reach bob's listener by his link-local address" \
    "probe $bll%eth0:8090 failed" "${part[2]:-}"
check_match "bridge -d link: alice's port is isolated" 'isolated on' "$(bridge -d link show dev nsu2001 2>&1)"
check_match "bridge -d link: bob's port is isolated" 'isolated on' "$(bridge -d link show dev nsu2002 2>&1)"
release b
settle 2002

# deny and dns with IPv6 addresses (dave).
as_user dave "ip -6 rule show; echo ---
$PY $SB/bin/probe.py fd00:213::1 8080; echo ---
cat /etc/resolv.conf"
split_parts "$AS_OUT"
check_match "deny = {\"fd00:213::1/128\"}: ip -6 rule inside shows the prohibit rule" \
    '100:[[:space:]]+from all to fd00:213::1 prohibit' "${part[0]:-}"
check_match "... and dave's TCP connect to [fd00:213::1] fails with EACCES" \
    'failed: EACCES after [0-9]+ ms \(\[Errno 13\] ' "${part[1]:-}"
check_eq "dns with an IPv6 resolver: both nameserver lines, in order" \
    "fd00:213::1 10.213.0.1" "$(tr '|' '\n' <<<"${part[2]:-}" | awk '$1 == "nameserver" { print $2 }' | xargs)"
settle 2004

# Control: the same probes with isolate_ports = false do reach bob, so the
# failures above come from the port isolation, not from the probes.
sandbox_conf <<'EOF'
pool6         = "fd00:213::/64"
gateway6      = "fd00:213::1"
isolate_ports = false
EOF
rm -f /tmp/ready-b2
hold b2 bob "$PY $SB/bin/banner.py --peer :: 8090 BOB /tmp/ready-b2 &"
wait_until 10 test -e /tmp/ready-b2
as_user alice "$PY $SB/bin/probe.py $b6 8090 1.5; echo ---
$PY $SB/bin/probe.py $bll%eth0 8090 1.5"
split_parts "$AS_OUT"
check_eq "control, isolate_ports = false: alice reaches bob by global IPv6 address" \
    "BOB $a6|" "${part[0]:-}"
check_match "control, isolate_ports = false: alice reaches bob by link-local address" \
    '^BOB fe80:' "${part[1]:-}"
release b2
settle 2001
settle 2002

# ------------------------------ pool6 with fewer host bits than pool ---
# alice 10.213.0.5 and bob 10.213.1.5 differ only above the 8 host bits of
# a /120: "pool6 + host part" must not give both the same address (which
# nothing would notice: no DAD). Either the file is refused or they differ.
sandbox_conf <<'EOF'
pool6    = "fd00:213::100/120"
gateway6 = "fd00:213::101"
user "alice" { address = "10.213.0.5/16" }
user "bob"   { address = "10.213.1.5/16" }
EOF
if out=$("$NSCTL" check 2>&1); then
    as_user alice 'ip -o -6 addr show dev eth0'
    x6=$(inet6_global "$AS_OUT")
    settle 2001
    as_user bob 'ip -o -6 addr show dev eth0'
    y6=$(inet6_global "$AS_OUT")
    settle 2002
    check "pool6 /120 under pool /16 (accepted by nsctl check): alice and bob get different IPv6 addresses ('$x6' vs '$y6')" \
        test -n "$x6" -a "$x6" != "$y6"
else
    check_match "pool6 /120 under pool /16: nsctl check refuses the file (pool6 too small)" ':[0-9]+: pool6: ' "$out"
    as_user alice true
    check "... and logins are refused" test "$AS_RC" != 0
fi

# ------------------------------------- a bridge with no IPv4 at all ---
# A bridge of the admin's with only gateway6 on it; no IPv4 gateway or
# bridge address. The user's IPv6 address must never be gateway6 itself
# (the host part of the first free IPv4 address would make it ::1).
ip link add nsbr6 type bridge && ip link set nsbr6 up && ip -6 addr add fd00:2136::1/64 dev nsbr6 nodad
sandbox_conf <<EOF
bridge         = "nsbr6"
create_bridge  = false
bridge_address = ""
gateway        = ""
pool6          = "fd00:2136::/64"
gateway6       = "fd00:2136::1"
EOF
banner_start --peer fd00:2136::1 8086 V6ONLY
check_fail "the IPv6-only bridge has no IPv4 address" grep -q 'inet ' <<<"$(ip -4 addr show dev nsbr6)"
as_user carol "ip -o -6 addr show dev eth0; echo ---
$PY $SB/bin/probe.py fd00:2136::1 8086"
check_login "a login on the IPv6-only bridge succeeds"
split_parts "$AS_OUT"
c6=$(inet6_global "${part[0]:-}")
check "carol's IPv6 address is in pool6 and is not gateway6 ($c6)" \
    test -n "$c6" -a "${c6%/64}" != "fd00:2136::1"
check_match "carol reaches a TCP listener on [fd00:2136::1] over IPv6" "^V6ONLY " "${part[1]:-}"
settle 2003

# --------------------------------------------------- without pool6 ---
: | sandbox_conf
as_user carol 'ip -o -6 addr show dev eth0; echo ---
cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/eth0/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; echo ---
ip -6 route show'
check_login "a login of carol without pool6 succeeds"
split_parts "$AS_OUT"
check_eq "no inet6 address on eth0" "" "${part[0]:-}"
check_eq "IPv6 is switched off on eth0 and for new interfaces (eth0, default: 1); lo keeps ::1 (all: 0)" \
    "0|1|1|" "${part[1]:-}"
check_eq "no IPv6 route inside" "" "${part[2]:-}"
settle 2003
check_eq "no record is left" 0 "$(n_records)"
sandbox_finish
