#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Address spoofing between tenants (issue #11, hole 2). With pool6 set,
# alice and bob are logged in (su, pam_ns); alice, as herself, binds with
# IP_FREEBIND / IPV6_FREEBIND (no capability needed) to bob's IPv4 and
# IPv6 addresses, to gateway6, to a made-up fe80:: address, to bob's
# link-local one and to the loopback addresses (::1, which the kernel would
# route out of eth0; 127.0.0.1), and sends UDP (and a TCP connect) to a listener on the
# host (the sandbox, on the bridge's addresses). The listener must see
# none of those sources, and must see alice's own ones (IPv4, IPv6,
# link-local), so the test can fail. The guard is pam_ns's table
# "inet ns_shell" inside alice's namespace: `nft list ruleset` there shows
# it (with the drops counted), and alice cannot delete it, not even from a
# user namespace of her own. The host learns no neighbour entry that puts
# another address on alice's MAC, and her port's forwarding database has
# only her MAC. Control at the end: with the table deleted by root, the
# same forged IPv6 datagrams do arrive (the attack is real here, and the
# table is what stops it).
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted login commands; helpers via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1   # never run on without the sandbox
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

NFT=$(command -v nft)
PORT=7777
SPOOF="$PY -I $SB/bin/spoof.py"

mac_of() { sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' <<<"$1" | head -n 1; }
# got LABEL: the sources the listener saw for LABEL
got() { awk -v l="$1" '$1 == l { print $2 }' "$X/heard" | sort -u | xargs; }
heard_n() { wc -l <"$X/heard"; }

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob
pam_with_ns su su-l
sandbox_conf <<'EOF'
pool6    = "fd00:213::/64"
gateway6 = "fd00:213::1"
EOF
[[ -n $NFT ]] || sandbox_die "nft (nftables) is not installed"

hold B bob 'ip -o link show dev eth0; ip -o -6 addr show dev eth0; touch '"$X"'/b-ready'
wait_until 10 test -e "$X/b-ready" || sandbox_die "bob's login did not come up" "$(cat "$SB/tmp/hold-B.out")"
hold A alice 'ip -o link show dev eth0; ip -o -6 addr show dev eth0; touch '"$X"'/a-ready'
wait_until 10 test -e "$X/a-ready" || sandbox_die "alice's login did not come up" "$(cat "$SB/tmp/hold-A.out")"
bout=$(cat "$SB/tmp/hold-B.out") aout=$(cat "$SB/tmp/hold-A.out")
a4=$(lease_of alice) b4=$(lease_of bob)
a6=$(v6_of "$a4") b6=$(v6_of "$b4")
all=$(link_local "$aout") bll=$(link_local "$bout")
amac=$(mac_of "$aout") bmac=$(mac_of "$bout")
check "alice and bob are logged in with IPv4, pool6 and link-local addresses ($a4 $a6 $all / $b4 $b6 $bll)" \
    test -n "$a4" -a -n "$b4" -a -n "$all" -a -n "$bll" -a "$a4" != "$b4"
brll=$(link_local "$(ip -o -6 addr show dev nsbr0)")
check_match "the bridge carries gateway6 and a link-local address ($brll)" '^fe80:' "$brll"

# The host also counts, at the bridge, every IP packet that comes in from
# alice's port with a source that is not hers (any protocol).
"$NFT" -f - <<EOF || sandbox_die "cannot load the host's probe table"
table bridge probe {
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "nsu2001" ip6 saddr != { $a6, $all, :: } counter
        iifname "nsu2001" ip saddr != $a4 counter
    }
}
EOF
probe_counts() { "$NFT" list chain bridge probe in | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | xargs; }
"$PY" -I "$SB/bin/spoof.py" listen "$PORT" "$X/listen.ready" "$X/heard" </dev/null >"$X/listen.log" 2>&1 &
wait_until 5 test -e "$X/listen.ready" || sandbox_die "the listener did not start" "$(cat "$X/listen.log")"

# ------------------------------------------------- the guard is there ---
ruleset=$("$NSCTL" exec alice -- "$NFT" list ruleset 2>&1)
check_match "nft list ruleset in alice's namespace shows table inet ns_shell" 'table inet ns_shell \{' "$ruleset"
check_match "... its output chain drops a source that is not an address of the namespace" \
    'hook output priority filter; policy accept;.*oif != "lo" fib saddr type != local counter packets 0 bytes 0 drop' "$ruleset"
check_match "... and lets the kernel's DAD/MLD from :: out" 'oif != "lo" ip6 saddr :: meta l4proto ipv6-icmp accept' "$ruleset"
check_match "... and keeps users away from DHCP (udp 67-68, out and in over lo)" \
    'meta skuid != 0 udp dport 67-68 counter packets 0 bytes 0 drop.*iif "lo" udp dport 67-68 counter packets 0 bytes 0 drop' "$ruleset"
check_eq "... which is the only table there" "table inet ns_shell" "$("$NSCTL" exec alice -- "$NFT" list tables 2>&1)"

# --------------------------------------------------------- the attack ---
# label destination source
attempts=(
    "v4-own 10.213.0.1 -"
    "v4-own-bound 10.213.0.1 $a4"
    "v4-bob 10.213.0.1 $b4"
    "v4-gateway 10.213.0.1 10.213.0.1"
    "v4-other 10.213.0.1 10.213.77.77"
    "v6-own fd00:213::1 -"
    "v6-own-bound fd00:213::1 $a6"
    "v6-bob fd00:213::1 $b6"
    "v6-gateway6 fd00:213::1 fd00:213::1"
    "v6-other fd00:213::1 fd00:213::7777"
    "v6-ll-fake fd00:213::1 fe80::bad:1%eth0"
    "v6-ll-bob fd00:213::1 $bll%eth0"
    "ll-own $brll%eth0 -"
    "ll-own-bound $brll%eth0 $all%eth0"
    "ll-fake $brll%eth0 fe80::bad:1%eth0"
    "ll-bob $brll%eth0 $bll%eth0"
    "ll-gateway $brll%eth0 $brll%eth0"
    "v6-lo fd00:213::1 ::1"
    "ll-lo $brll%eth0 ::1"
    "mc-lo ff02::1%eth0 ::1"
    "v4-lo 10.213.0.1 127.0.0.1"
)
script=""
for a in "${attempts[@]}"; do
    read -r label dst src <<<"$a"
    script+="$SPOOF send $label $dst $PORT $src; "
done
script+="$SPOOF tcp tcp6-bob fd00:213::1 $PORT $b6; $SPOOF tcp tcp6-own fd00:213::1 $PORT -; $SPOOF packet"
as_user alice "$script"
check_login "alice ran the sender in her login"
sent=$AS_OUT
wait_until 15 grep -q '^tcp6-own ' "$X/heard"
sleep 0.5   # stragglers
printf '# alice: %s\n' "$(tr '\n' ' ' <<<"$sent")"
printf '# heard: %s\n' "$(tr '\n' ' ' <<<"$(cat "$X/heard")")"

check_eq "control: the listener got alice's datagram over IPv4, from her address" "$a4" "$(got v4-own)"
check_eq "control: ... bound to her own IPv4 address explicitly" "$a4" "$(got v4-own-bound)"
check_eq "control: ... over IPv6, from her pool6 address" "$a6" "$(got v6-own)"
check_eq "control: ... bound to her pool6 address" "$a6" "$(got v6-own-bound)"
check_eq "control: ... to the bridge's link-local address, from her link-local one" "$all" "$(got ll-own)"
check_eq "control: ... bound to her link-local address" "$all" "$(got ll-own-bound)"
check_eq "control: ... a TCP connection over IPv6 from her address" "$a6" "$(got tcp6-own)"
for label in v4-bob v4-gateway v4-other v6-bob v6-gateway6 v6-other v6-ll-fake v6-ll-bob ll-fake ll-bob ll-gateway \
    tcp6-bob v6-lo ll-lo mc-lo v4-lo; do
    check_eq "nothing with a forged source arrives: $label" "" "$(got "$label")"
done
check_eq "the listener saw no source but alice's own addresses" "" \
    "$(awk '{ print $2 }' "$X/heard" | grep -vxF -e "$a4" -e "$a6" -e "$all")"
check_eq "the host's bridge saw no IP packet from alice's port with a source not hers (IPv6 IPv4 counts)" \
    "0 0" "$(probe_counts)"
check_match "the forged IPv6 sends fail at once in alice's login (EPERM: dropped on output)" \
    'v6-bob EPERM.*v6-gateway6 EPERM.*v6-ll-fake EPERM' "$(tr '\n' ' ' <<<"$sent")"
check_match "... and so do sends from the loopback address ::1 out of eth0 (unicast, link-local, multicast)" \
    'v6-lo EPERM.*ll-lo EPERM.*mc-lo EPERM' "$(tr '\n' ' ' <<<"$sent")"
check_match "alice gets no packet socket (no ARP or NDP of her own making)" 'packet EPERM' "$sent"
counted=$("$NSCTL" exec alice -- "$NFT" list chain inet ns_shell out 2>&1 |
    sed -n 's/.*fib saddr type != local counter packets \([0-9]*\) .*/\1/p')
check "the guard counted the dropped forgeries ($counted packets)" test "${counted:-0}" -ge 8

# ------------------------------------------- alice cannot remove it ---
as_user alice "$NFT delete table inet ns_shell; echo rc=\$?; $NFT flush ruleset; echo rc=\$?"
check_eq "alice's 'nft delete table inet ns_shell' and 'nft flush ruleset' fail" "rc=1 rc=1" "$(xargs <<<"$AS_OUT")"
check_match "... with Operation not permitted" 'Operation not permitted' "$AS_ERR"
as_user alice "unshare -Ur $NFT delete table inet ns_shell; echo rc=\$?"
check_match "... not even from a user namespace of her own" 'rc=[1-9]' "$AS_OUT"
check_match "the table is still there afterwards" 'table inet ns_shell' "$("$NSCTL" exec alice -- "$NFT" list tables 2>&1)"

# ----------------------------------------------- neighbours and MACs ---
neigh=$(ip neigh show dev nsbr0)
printf '# host neighbours on nsbr0: %s\n' "$(tr '\n' ';' <<<"$neigh")"
check_eq "the host has no neighbour entry putting another address on alice's MAC $amac" "" \
    "$(awk -v m="$amac" '$0 ~ "lladdr " m { print $1 }' <<<"$neigh" | grep -vxF -e "$a4" -e "$a6" -e "$all")"
check_eq "... nor any entry for the forged fe80::bad:1 or 10.213.77.77" "" \
    "$(grep -E '^(fe80::bad:1|10\.213\.77\.77|fd00:213::7777) ' <<<"$neigh")"
fdb=$(bridge fdb show dev nsu2001 2>&1 | grep -v permanent)
check_eq "the bridge learned only alice's MAC on her port" "$amac" \
    "$(awk '{ print $1 }' <<<"$fdb" | grep -v '^33:33:\|^01:00:5e:' | sort -u | xargs)"
check "... and bob's MAC ($bmac) only on his" bash -c "bridge fdb show dev nsu2002 | grep -q '^$bmac '"

# ------------------------------------------------ control: no guard ---
"$NSCTL" exec alice -- "$NFT" delete table inet ns_shell
as_user alice "$SPOOF send ctl-v6-bob fd00:213::1 $PORT $b6; $SPOOF send ctl-ll-fake $brll%eth0 $PORT fe80::bad:1%eth0; $SPOOF send ctl-v4-bob 10.213.0.1 $PORT $b4"
wait_until 15 grep -q '^ctl-ll-fake ' "$X/heard"
check_eq "control: with the table deleted (by root), alice's datagram from bob's IPv6 address arrives as bob's" \
    "$b6" "$(got ctl-v6-bob)"
check_eq "control: ... and one from a made-up link-local address" "fe80::bad:1" "$(got ctl-ll-fake)"
check_match "control: IPv4 from bob's address is refused by the kernel itself (no IP_TRANSPARENT): ENETUNREACH" \
    'ctl-v4-bob ENETUNREACH' "$AS_OUT"
check_match "control: ... and the host's bridge counter sees the forged IPv6 packets" '^[1-9][0-9]* 0$' "$(probe_counts)"

release A B
sandbox_finish
