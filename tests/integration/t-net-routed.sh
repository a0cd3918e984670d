#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# network = "routed" (issue #13): no bridge. Each user's eth0 holds her pool
# address as a /32 (pool6 as a /128), the default route goes via the
# link-local next hop 169.254.1.1 (fe80::1) with a permanent neighbour
# entry; the host has a /32 route and a permanent neighbour entry per user
# and one `unreachable` route for the pool. Over real OpenSSH: a router R
# (another namespace, standing for the LAN) reaches a listener inside a
# user's namespace by her address, IPv4 and IPv6; users reach R and the
# host; isolate_ports keeps tenants apart; an address not in use is refused
# by the host at once; `address = "dhcp"` with routed is a config error;
# after logout nothing per user is left; per-session namespaces, rate, dns,
# a static address, nsctl exec and crash recovery work routed too; mosh
# reaches a login through the
# DNAT recipe; a full bridge (1,023 ports) refuses a login and names routed.
# shellcheck disable=SC2016,SC2034  # remote commands in single quotes
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2621
sandbox_add_user bob 2622
routed_text() { # [ADDRESS] : the shipped ns.conf, routed, with pool6
    sed -e 's/^    network     = "bridge"$/    network     = "routed"/' \
        -e 's|^pool           = "10.213.0.0/16"$|pool           = "10.213.0.0/20"|' \
        -e 's|^pool6          = ""$|pool6          = "fd00:213::/64"|' \
        -e "s/^    address     = \"pool\"\$/    address     = \"${1:-pool}\"/" "$NS_REPO/conf/ns.conf"
}
routed_conf() { routed_text "$@" | sandbox_conf; }
routed_conf
check "the config says network = routed, pool 10.213.0.0/20, pool6" bash -c \
    "grep -q '^    network     = \"routed\"\$' /etc/security/ns.conf && grep -q '^pool6          = \"fd00:213::/64\"' /etc/security/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
sandbox_ssh_authorize bob

# The host's uplink to R, 192.0.2.0/24 and 2001:db8:1::/64; R routes the
# pools to the host (what BGP does in t-net-fleet.sh). Forwarding on in the
# sandbox's namespace only.
ip netns add r || sandbox_die "ip netns add r"
ip link add up0 type veth peer name r0 netns r &&
    ip addr add 192.0.2.1/24 dev up0 && ip addr add 2001:db8:1::1/64 dev up0 nodad && ip link set up0 up &&
    ip -n r addr add 192.0.2.2/24 dev r0 && ip -n r addr add 2001:db8:1::2/64 dev r0 nodad &&
    ip -n r link set r0 up && ip -n r link set lo up &&
    ip -n r route add 10.213.0.0/20 via 192.0.2.1 && ip -n r route add fd00:213::/64 via 2001:db8:1::1 &&
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
    sandbox_die "cannot set up the uplink to R"
banner_start --netns r 192.0.2.2 7000 r-here
banner_start 192.0.2.1 7001 host-here

# ------------------------------------------------------------- logins ---
# Each login leaves a listener on its own address behind (linger = true);
# each listener makes its ready file in $X once it listens.
rm -f "$X/ready-a4" "$X/ready-a6" "$X/ready-b4"
as_ssh alice "ip -o addr show dev eth0; ip route; ip -6 route; ip neigh show dev eth0; ip -6 neigh show dev eth0
$(probe_cmd 192.0.2.2 7000); $(probe_cmd 192.0.2.1 7001)
nohup $PY $SB/bin/banner.py 0.0.0.0 8080 alice-here $X/ready-a4 >/dev/null 2>&1 &
nohup $PY $SB/bin/banner.py :: 8086 alice-v6 $X/ready-a6 >/dev/null 2>&1 &"
check_login "alice logs in over ssh (routed)"
a4=$(awk '$3 == "inet" { print $4 }' <<<"$AS_OUT")
a6=$(awk '$3 == "inet6" && !/ scope link/ { print $4 }' <<<"$AS_OUT")
check_match "... eth0 holds her pool address as a /32" '^10\.213\.[0-9]+\.[0-9]+/32$' "$a4"
check_match "... and her pool6 address as a /128" '^fd00:213::[0-9a-f:]+/128$' "$a6"
check_match "... default route via 169.254.1.1 (onlink)" 'default via 169\.254\.1\.1 dev eth0 [^\n]*onlink' "$AS_OUT"
check_match "... IPv6 default route via fe80::1" 'default via fe80::1 dev eth0' "$AS_OUT"
check_match "... 169.254.1.1 is a permanent neighbour" '169\.254\.1\.1 lladdr [0-9a-f:]+ PERMANENT' "$AS_OUT"
check_match "... fe80::1 is a permanent neighbour" 'fe80::1 lladdr [0-9a-f:]+ (router )?PERMANENT' "$AS_OUT"
check_match "... she reaches R (the outside) through the host" 'r-here' "$AS_OUT"
check_match "... and a service on the host's address" 'host-here' "$AS_OUT"
A=${a4%/*} A6=${a6%/*}

check_eq "no bridge on the host" "" "$(ip -o link show type bridge)"
check_eq "the host side nsu2621 has no master" "" "$(ip -o link show dev nsu2621 | grep -o 'master [^ ]*')"
check_match "the host routes $A/32 to nsu2621" "^$A dev nsu2621 " "$(ip route show "$A/32")"
check_match "... with a permanent neighbour entry" "^$A lladdr [0-9a-f:]+ PERMANENT" "$(ip neigh show dev nsu2621)"
check_match "... and $A6/128 likewise" "^$A6 dev nsu2621 " "$(ip -6 route show "$A6/128")"
check_match "the host holds an unreachable route for the pool" '^unreachable 10\.213\.0\.0/20' "$(ip route)"
check_match "... and for pool6" 'unreachable fd00:213::/64 dev lo' "$(ip -6 route)"

wait_until 10 test -e "$X/ready-a4" -a -e "$X/ready-a6"
as_ssh bob "ip -o -4 addr show dev eth0
nohup $PY $SB/bin/banner.py 0.0.0.0 8080 bob-here $X/ready-b4 >/dev/null 2>&1 &
$(probe_cmd "$A" 8080 1); $(probe_cmd 192.0.2.2 7000)"
check_login "bob logs in over ssh (routed)"
B=$(awk '{ sub(/\/.*/, "", $4); print $4 }' <<<"$(head -n 1 <<<"$AS_OUT")")
check_match "... bob has another address" '^10\.213\.' "$B"
check "... bob's differs from alice's" test "$B" != "$A"
check_match "... isolate_ports: bob cannot reach alice's listener" "probe $A:8080 failed: EACCES" "$AS_OUT"
check_match "... bob reaches R" 'r-here' "$AS_OUT"

# R, standing for the LAN or the internet, reaches each user by her address
wait_until 10 test -e "$X/ready-b4"
check_eq "R reaches alice's listener by her address" "alice-here" "$(ip netns exec r "$PY" "$SB/bin/probe.py" "$A" 8080)"
check_eq "R reaches bob's listener by his address" "bob-here" "$(ip netns exec r "$PY" "$SB/bin/probe.py" "$B" 8080)"
check_eq "R reaches alice over IPv6" "alice-v6" "$(ip netns exec r "$PY" "$SB/bin/probe.py" "$A6" 8086)"
out=$(ip netns exec r "$PY" "$SB/bin/probe.py" 10.213.0.200 8080 2)
check_match "an address of the pool not in use: the host refuses it at once (unreachable route)" \
    'failed: EHOSTUNREACH after [0-9]{1,3} ms' "$out"
check_eq "nsctl status lists both users" "2" "$("$NSCTL" status --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(len({x["user"] for x in d["sessions"] + d["lingering"] if x["user"] in ("alice", "bob")}))')"

# mosh with NAT: the DNAT recipe of conf/ns-shell-routed.nft (issue #15,
# item 6), as shipped but for the uplink's name and alice's address
sed -e 's/^define UPLINK = "eth0"$/define UPLINK = "up0"/' \
    -e "s/60001-60010 : 10.213.0.2 }/60001-60010 : $A }/" "$NS_REPO/conf/ns-shell-routed.nft" >"$SB/tmp/routed.nft"
check "the shipped nft recipe loads (uplink up0, alice's ports 60001-60010)" nft -f "$SB/tmp/routed.nft"
as_ssh alice 'mosh-server new -p 60001 -l LANG=C.UTF-8 -- /bin/sh -c "echo MOSH-IN-\$(hostname); sleep 20" 2>/dev/null'
key=$(sed -n 's/^MOSH CONNECT 60001 \([A-Za-z0-9/+]*\)$/\1/p' <<<"$AS_OUT")
check_match "mosh-server runs inside alice's login on port 60001" '^[A-Za-z0-9/+]{22}$' "$key"
out=$(ip netns exec r env MOSH_KEY="$key" LANG=C.UTF-8 TERM=xterm \
    timeout 12 script -qec "stty rows 24 cols 80; mosh-client 192.0.2.1 60001" /dev/null 2>&1)
check_match "mosh-client on R, to the host's address, gets her session (DNAT to $A)" 'MOSH-IN-alice' "$out"
nft delete table inet ns_shell

# the next login rejoins the lingering namespace: same address, still routed
as_ssh alice 'ip -o -4 addr show dev eth0'
check_match "alice's next login: the same /32" " $A/32 " "$AS_OUT"

# ------------------------------------------------------------- logout ---
"$NSCTL" terminate alice >/dev/null
"$NSCTL" terminate bob >/dev/null
check "after terminate: no process of alice or bob is left" \
    wait_until 20 bash -c '[[ -z $(pgrep -u alice) && -z $(pgrep -u bob) ]]'
check "... no veth is left" wait_until 30 no_ns_links
check_eq "... no host route for a user is left" "" "$(ip route | grep -E '^10\.213\.[0-9.]+ dev ')"
check_eq "... no neighbour entry for a user is left" "" "$(ip neigh | grep -E '^10\.213\.')"
check_eq "... no IPv6 host route is left" "" "$(ip -6 route | grep -E '^fd00:213::[0-9a-f:]+ dev ')"
"$NSCTL" gc >/dev/null 2>&1
check_eq "... no session or login record is left" "" "$(find "$SESS" "$STATE/logins" -type f 2>/dev/null)"
check_match "... the pool's unreachable route stays (like the bridge)" '^unreachable 10\.213\.0\.0/20' "$(ip route)"

# ---------------------- what works on a bridge works routed: the rest ---
# netns = "session" with rate and dns for everyone, a static address for
# bob, and linger = false: per-session namespaces (nss<sid>), shaping on
# both sides, resolv.conf, the static lease, nsctl exec, and crash
# recovery (kill -9 of the session's sshd, then nsctl gc).
routed_text | sed -e 's/^    netns       = "user"$/    netns       = "session"/' \
    -e 's/^    rate        = ""$/    rate        = "20mbit"/' -e 's/^    dns         = {}$/    dns         = {"192.0.2.53"}/' \
    -e 's/^    linger = true$/    linger = false/' >"$SB/tmp/routed2.conf"
printf 'user "bob" { address = "10.213.5.5/20" }\n' >>"$SB/tmp/routed2.conf"
sandbox_conf <"$SB/tmp/routed2.conf"
check "the config says netns = session, rate, dns, bob static, linger = false" bash -c \
    "grep -q '^    netns       = \"session\"' /etc/security/ns.conf && grep -q '^    rate        = \"20mbit\"' /etc/security/ns.conf && grep -q 'address = \"10.213.5.5/20\"' /etc/security/ns.conf"
bg_ssh s1 alice@127.0.0.1 "$(hold_cmd s1)"
check "alice's first session is open" wait_until 10 held s1
bg_ssh s2 alice@127.0.0.1 "ip -o -4 addr show dev eth0; cat /etc/resolv.conf; $(hold_cmd s2)"
check "alice's second session is open" wait_until 10 held s2
read -r -a sids <<<"$(sids_of 2621 | xargs)"
check_eq "two session records of alice" 2 "${#sids[@]}"
for sid in "${sids[@]}"; do
    v=$(rec "$sid" veth)
    check_match "session $sid: its own veth $v (nss<sid>), on no bridge" "^nss$sid\$" "$v$(ip -o link show dev "$v" | grep -o ' master ')"
    a=$(rec "$sid" address)
    check_match "... the host routes ${a%/*}/32 to it" "^${a%/*} dev $v " "$(ip route show "${a%/*}/32")"
    check_match "... shaped on the host side (tbf 20Mbit)" 'tbf .*rate 20Mbit' "$(tc qdisc show dev "$v")"
done
check_eq "nsctl status: her two sessions are ports of no bridge (JSON bridge \"\")" "alice:" \
    "$("$NSCTL" status --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({"%s:%s" % (x["user"], x["bridge"]) for x in d["sessions"] if x["user"] == "alice"})))')"
check_eq "... and - in the BRIDGE column" "-" \
    "$("$NSCTL" status | awk '$2 == "alice" { print $8 }' | sort -u)"
check "the two sessions have different addresses" \
    test "$(rec "${sids[0]}" address)" != "$(rec "${sids[1]}" address)"
check_match "... resolv.conf inside names the policy's dns" 'nameserver 192\.0\.2\.53' "$(cat "$SB/tmp/ssh-s2.out")"
check_match "... eth0 inside has a /32" 'inet 10\.213\.[0-9.]+/32' "$(cat "$SB/tmp/ssh-s2.out")"
run "$NSCTL" exec alice -- "$PY" "$SB/bin/probe.py" 192.0.2.2 7000
check_eq "nsctl exec alice: runs in her network, reaches R" "0 r-here" "$RC $OUT"
bg_ssh b1 bob@127.0.0.1 "ip -o -4 addr show dev eth0; $(hold_cmd b1)"
check "bob's session is open" wait_until 10 held b1
check_match "bob gets his static address as a /32" ' 10\.213\.5\.5/32 ' "$(cat "$SB/tmp/ssh-b1.out")"
check_match "... routed by the host" '^10\.213\.5\.5 dev nss' "$(ip route show 10.213.5.5/32)"
release b1
release s2
# crash: kill -9 of the sshd of alice's first session; gc ends the login
pkill -9 -f '^sshd: alice'
end_ssh s1
out=$("$NSCTL" gc 2>&1)
check_match "after kill -9 of sshd, nsctl gc removes the stale session" 'removed stale session [0-9a-f]{8} of alice' "$out"
check "... and the login goes, with its veth and /32 route" wait_until 30 bash -c \
    '[[ -z $(pgrep -u alice) ]] && ! ip -o link show | grep -q " nss" && [[ -z $(ip route | grep -E "^10\.213\.[0-9.]+ dev nss") ]]'
routed_conf

# ------------------------------------------------------------- config ---
routed_conf dhcp
out=$("$NSCTL" check 2>&1)
check_match "address = dhcp with network = routed: nsctl check names both keys" \
    'address: address = "dhcp" needs a bridge: not with network = "routed"' "$out"
as_ssh alice 'true'
check "... and a login is refused" test "$AS_RC" != 0
check "... nothing is made for it" no_ns_links

# ------------------------------------------- bridge mode: a full bridge ---
# 1,023 ports taken (veths standing for other users): the next login
# fails, and says why and what to use instead.
sandbox_conf <"$NS_REPO/conf/ns.conf"
ip link add nsbr0 type bridge && ip link set nsbr0 up || sandbox_die "cannot make nsbr0"
for ((i = 1; i <= 1023; i++)); do echo "link add fill$i master nsbr0 type veth peer name fillp$i"; done | ip -batch - ||
    sandbox_die "cannot fill nsbr0"
check_eq "nsbr0 has 1,023 ports" 1023 "$(ls /sys/class/net/nsbr0/brif | wc -l)"
as_ssh alice 'true'
check "a login on the full bridge is refused" test "$AS_RC" != 0
check "... the log says the bridge is full and names network = routed" \
    sandbox_log_wait 'bridge nsbr0 is full \(a bridge has at most 1,023 ports\): use network = "routed"' 10
check "... nothing is left of it (no nsu2621, no record)" bash -c \
    "! ip link show nsu2621 2>/dev/null && [[ -z \$(find $SESS -type f) ]]"
for ((i = 1; i <= 1023; i++)); do echo "link del fill$i"; done | ip -batch -
ip link del nsbr0

ip netns del r
sandbox_finish
