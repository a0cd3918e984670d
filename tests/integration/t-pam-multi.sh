#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 300
# (65-76 s here under load: the default 120 s is too close)
# pam_ns.so with many logins: two users side by side (port isolation), the
# logins of one user sharing its namespace, quick re-logins, 20 users and
# 10 logins of one user at once, the bridge as users come and go, and the
# cost of a login next to the ip(8) recipe it replaces.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted remote commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob
for n in $(seq -w 1 20); do sandbox_add_user "u$n" "30$n"; done
: | sandbox_conf     # empty: every built-in default
pam_with_ns su
pam_with_ns su-l
pam_ns_alone nstest
banner_start 0.0.0.0 8080 GATEWAY-8080

# ------------------------- 20 users at once, no bridge yet; the bridge ---
check_fail "no bridge before the first logins" ip link show dev nsbr0
for n in $(seq -w 1 20); do
    hold "c$n" "u$n" "ip -br -4 addr show dev eth0; $(probe_cmd 10.213.0.1 8080 10)"
done
check "20 users logging in at once all get a session" \
    wait_until 30 bash -c "[[ \$(ls $SESS | wc -l) == 20 ]]"
inos=() addrs=() veths=0 okout=0
for n in $(seq -w 1 20); do
    s=$(sids_of "30$n")
    inos+=("$(rec "$s" netns_ino)")
    addrs+=("$(rec "$s" address)")
    [[ $(ip -o link show dev "nsu30$n" 2>/dev/null) == *"master nsbr0"* ]] && veths=$((veths + 1))
    wait_until 15 grep -q GATEWAY "$SB/tmp/hold-c$n.out"
    grep -q "UP *$(lease_of "u$n")/16" "$SB/tmp/hold-c$n.out" &&
        grep -qx GATEWAY-8080 "$SB/tmp/hold-c$n.out" && okout=$((okout + 1))
done
check_eq "20 distinct namespaces" 20 "$(printf '%s\n' "${inos[@]}" | grep . | sort -u | wc -l)"
check_eq "... none of them the host's" 0 "$(printf '%s\n' "${inos[@]}" | grep -cx "$HOSTNET")"
check_eq "20 distinct addresses" 20 "$(printf '%s\n' "${addrs[@]}" | grep . | sort -u | wc -l)"
check_eq "20 veths nsu3001..nsu3020 on nsbr0" 20 "$veths"
check_eq "each of the 20 logins has its leased address on eth0 and reaches the gateway" 20 "$okout"
check_eq "no login was refused while they raced to make the bridge" "" \
    "$(grep 'refused' "$SB_SYSLOG")"
check_match "the bridge was made once, with 10.213.0.1/16" '^nsbr0 +UP +10\.213\.0\.1/16' \
    "$(ip -br addr show dev nsbr0 2>&1)"
check_eq "no address is leased twice" "$(lease_lines | wc -l)" "$(lease_lines | awk '{ print $3 }' | sort -u | wc -l)"
check_eq "... no uid holds two leases, every lease file is indexed (the store is consistent)" "" "$(lease_problems)"
# A bridge without a MAC address of its own takes the smallest MAC of its
# ports, and changes it as they come and go: which port lent it, if any?
bmac=$(cat /sys/class/net/nsbr0/address)
owner_dev=$(for f in /sys/class/net/nsu*/address; do
    [[ $(cat "$f") == "$bmac" ]] && basename "$(dirname "$f")"; done | head -n 1)
check_eq "the bridge has a MAC address of its own, not one of a user's port" "" "$owner_dev"
# The user whose port lent its MAC to the bridge logs out (any user when the
# bridge has a MAC of its own); another one, u$vn, who just talked to the
# gateway (its neighbour entry holds the bridge's MAC), must keep reaching it.
ln=01
[[ $owner_dev == nsu30?? ]] && ln=${owner_dev#nsu30}
vn=01; [[ $ln == 01 ]] && vn=02
su "u$vn" -c "$(probe_cmd 10.213.0.1 8080)" </dev/null >/dev/null 2>&1
release "c$ln"
wait_until 30 link_absent "nsu30$ln"
check_eq "the bridge's MAC does not change when nsu30$ln${owner_dev:+ (whose MAC it had)} leaves" \
    "$bmac" "$(cat /sys/class/net/nsbr0/address)"
check_eq "u$vn still reaches the gateway right after nsu30$ln left" "GATEWAY-8080" \
    "$(su "u$vn" -c "$(probe_cmd 10.213.0.1 8080 4)" </dev/null 2>&1)"
tags=()
for n in $(seq -w 1 20); do [[ $n != "$ln" ]] && tags+=("c$n"); done
release "${tags[@]}"
check_eq "after the 20 users log out no record is left" 0 "$(n_records)"
check "their veths go" \
    wait_until 30 bash -c '! ip -o link show | grep -q " nsu"'
check_eq "the leases stay (20 users)" 20 "$(lease_lines | wc -l)"

# ------------------------------------------------- two users at once ---
rm -f /tmp/ready-alice
hold A alice "$PY $SB/bin/banner.py 0.0.0.0 8081 ALICE-8081 /tmp/ready-alice &"
hold B bob
check "alice and bob are logged in at once" \
    wait_until 10 bash -c "[[ \$(ls $SESS | wc -l) == 2 ]]"
check "alice's listener on 0.0.0.0:8081 inside her namespace is up" \
    wait_until 10 test -e /tmp/ready-alice
aaddr=$(lease_of alice) baddr=$(lease_of bob)
check "alice and bob have different addresses ($aaddr, $baddr)" \
    test -n "$aaddr" -a -n "$baddr" -a "$aaddr" != "$baddr"
check_eq "the sandbox host reaches alice's listener at $aaddr:8081" "ALICE-8081" \
    "$(probe "$aaddr" 8081)"
out=$(su bob -c "$(probe_cmd "$aaddr" 8081 2)" </dev/null 2>&1)
check_match "bob cannot connect to alice's address (ports are isolated)" \
    '^probe .* failed' "$out"
check_eq "bob reaches the gateway" "GATEWAY-8080" \
    "$(su bob -c "$(probe_cmd 10.213.0.1 8080)" </dev/null 2>&1)"
check_eq "alice reaches the gateway" "GATEWAY-8080" \
    "$(su alice -c "$(probe_cmd 10.213.0.1 8080)" </dev/null 2>&1)"
check_eq "alice reaches her own listener on her address" "ALICE-8081" \
    "$(su alice -c "$(probe_cmd "$aaddr" 8081)" </dev/null 2>&1)"
check_match "bob's namespace has no listener on 127.0.0.1:8081" '^probe .* failed' \
    "$(su bob -c "$(probe_cmd 127.0.0.1 8081 1)" </dev/null 2>&1)"
release A B
settle 2001
settle 2002

# --------------------------------- logins of one user share the netns ---
hold S1 alice 'readlink /proc/self/ns/net'
check "a first held login of alice" wait_until 10 has_n_records_of 2001 1
s1=$(sids_of 2001)
as_user alice 'readlink /proc/self/ns/net; grep -lx uid=2001 /run/ns-shell/sessions/* | wc -l'
check_login "a second concurrent login of alice works"
check_eq "it is in the same namespace as the first" "net:[$(rec "$s1" netns_ino)]" \
    "$(head -n 1 <<<"$AS_OUT")"
check_eq "alice has 2 session records while both are open" 2 "$(sed -n 2p <<<"$AS_OUT")"
hold S2 alice
check "a third held login of alice" wait_until 10 has_n_records_of 2001 2
release S1
check_eq "after the first login ends, one record is left" 1 "$(sids_of 2001 | wc -l)"
check "... and nsu2001 stays while a login is in the namespace" ip link show dev nsu2001
s2=$(sids_of 2001)
check_eq "a new login joins the namespace of the remaining one" \
    "net:[$(rec "$s2" netns_ino)]" "$(su alice -c 'readlink /proc/self/ns/net' </dev/null 2>&1)"
check_eq "... which is still the first login's namespace" \
    "$(rec "$s2" netns_ino)" "$(sed -n 's/^net:\[\(.*\)\]$/\1/p' "$SB/tmp/hold-S1.out")"
check_eq "... and it still reaches the gateway" "GATEWAY-8080" \
    "$(su alice -c "$(probe_cmd 10.213.0.1 8080)" </dev/null 2>&1)"
release S2
check_eq "after the last logout the records are gone at once" "" "$(sids_of 2001)"
check "nsu2001 disappears" wait_until 30 link_absent nsu2001

# --------------------------------------------- immediate re-logins ---
addr=$(lease_of alice)
fails=0 outs=""
for i in $(seq 1 10); do
    o=$(su alice -c 'ip -br -4 addr show dev eth0' </dev/null 2>&1) || fails=$((fails + 1))
    outs+="$o"$'\n'
done
check_eq "10 back-to-back logins of alice all succeed (the last one's veth still going)" \
    "0 failed" "$fails failed$( ((fails)) && printf '\n%s' "$(grep -v 'UP' <<<"$outs" | sort | uniq -c)")"
check_eq "... and all got alice's address" 10 "$(grep -c "UP *$addr/16" <<<"$outs")"
settle 2001

# ------------------------------------------ 10 logins of one user at once ---
for n in $(seq 1 10); do hold "k$n" alice 'readlink /proc/self/ns/net'; done
check "10 logins of alice at once all get a session" wait_until 20 has_n_records_of 2001 10
ino1=$(for s in $(sids_of 2001); do rec "$s" netns_ino; done | sort -u)
check_eq "... all in one namespace" 1 "$(grep -c . <<<"$ino1")"
for n in $(seq 1 10); do wait_until 5 grep -q net: "$SB/tmp/hold-k$n.out"; done
check_eq "... which is where each of the 10 logins runs" "net:[$ino1]" \
    "$(cat "$SB/tmp"/hold-k*.out | sort -u)"
check_eq "... with one veth" "nsu2001" \
    "$(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^ns[us]')"
check_eq "... one veth named in all 10 records" "nsu2001" \
    "$(for s in $(sids_of 2001); do rec "$s" veth; done | sort -u)"
release k1 k2 k3 k4 k5 k6 k7 k8 k9 k10
check_eq "after all 10 log out no record is left" 0 "$(n_records)"
check "nsu2001 disappears" wait_until 30 link_absent nsu2001
check_eq "nothing is left but leases: no nsu/nss link" "" \
    "$(ip -o link show | awk -F': ' '{ print $2 }' | grep '^ns[us]')"
check_eq "... no leftover temp file in the state dirs" "" \
    "$(find /run/ns-shell /var/lib/ns-shell -name '*.tmp*')"
check_eq "... 22 leases" 22 "$(lease_lines | wc -l)"

# ---------------------------------------- back-to-back pamtester runs ---
fails=0
for i in $(seq 1 20); do
    pamtester nstest alice open_session close_session >/dev/null 2>&1 || fails=$((fails + 1))
done
check_eq "20 back-to-back pamtester sessions of alice all succeed" "0 failed" "$fails failed"
settle 2001

# ------------------------------------------------------------ timing ---
# pam_ns: each run a cold login (the previous veth is gone: waited for
# outside the timed part); the back-to-back case is checked above.
pt=() fails=0
for i in $(seq 1 20); do
    settle 2001
    t0=$EPOCHREALTIME
    pamtester nstest alice open_session close_session >/dev/null 2>&1 || fails=$((fails + 1))
    pt+=("$(( ${EPOCHREALTIME/./} - ${t0/./} ))")
done
check_eq "20 timed pamtester sessions of alice all succeed" 0 "$fails"
settle 2001
# The ip(8) recipe for the same work: namespace, veth pair on the bridge,
# address, routes, links up, then the namespace deleted.
it=() ifails=0
for i in $(seq 1 20); do
    t0=$EPOCHREALTIME
    { ip netns add "tn$i" &&
      ip link add "tv$i" type veth peer name "tp$i" &&
      ip link set "tp$i" netns "tn$i" &&
      ip link set "tv$i" master nsbr0 up &&
      ip -n "tn$i" addr add "10.213.254.$i/16" dev "tp$i" &&
      ip -n "tn$i" link set lo up &&
      ip -n "tn$i" link set "tp$i" up &&
      ip -n "tn$i" route add default via 10.213.0.1 &&
      ip netns del "tn$i"; } >/dev/null 2>&1 || ifails=$((ifails + 1))
    it+=("$(( ${EPOCHREALTIME/./} - ${t0/./} ))")
done
check_eq "the ip(8) recipe ran 20 times" 0 "$ifails"
ms() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
pm=$(printf '%s\n' "${pt[@]}" | median) im=$(printf '%s\n' "${it[@]}" | median)
printf '# timing: pam_ns median %s ms, ip(8) median %s ms\n' "$(ms "$pm")" "$(ms "$im")"

sandbox_finish
