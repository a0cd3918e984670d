#!/bin/bash
# ns-test-timeout: 300
# SPDX-License-Identifier: GPL-2.0-or-later
# Stale sessions and odd identities (the second hostile review, "B"):
#  1. A login whose su is SIGKILLed never runs close_session: its session
#     record goes stale while a process it left (setsid sleep) keeps the
#     per-session namespace, its veth and its tagged address. Four such
#     logins of alice (max_sessions = 2, a pool of five addresses) used to
#     exhaust the pool and leave namespaces with a working link. Now the
#     user's next login, and nsctl gc, do what close would have done: the
#     host side of the stale namespace's veth goes down (the leftover
#     reaches nothing) and its tagged address goes back to the pool (bob
#     still logs in); gc says so, and gc --dry-run says so changing nothing.
#  2. Two user names for one uid (alice2 is alice's uid): one name's login
#     must neither join nor replace the other's namespace. While alice is
#     logged in (netns = "session" and "user") alice2 is refused ("is
#     logged in as alice") and alice's eth0 keeps its address (it was
#     deleted); bob is never handed alice's address. With no record left
#     (a killed su's leftover), alice2 is refused while the leftover's
#     namespace still holds alice's address ("is still in use by alice"),
#     and let in once it is gone.
#  3. A failed login never deletes what other logins share, even when it
#     made it: a DHCP login that times out made the bridge that bob's login
#     joined meanwhile (bob lost his port and his way out); a failed first
#     routed login made the pool's `unreachable` route.
#  4. User names outside [A-Za-z0-9._-]: an exempt user's (a directory
#     account, svc@corp) is let through (it names no namespace; it was
#     refused); a namespaced user's is refused with the rule in the log.
# shellcheck disable=SC2016,SC2034,SC2119,SC2153,SC2317  # single-quoted login commands; names from the libs; sandbox_install_ns_shell takes no args here; helpers via check
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

sandbox_install_ns_shell
add_users 3701 alice bob
add_raw alice2 3701 3701          # a second name for alice's uid
AU=3701 BU=3702

eth0_of() { nsenter -t "$1" -n ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}'; }
pid_of() { pgrep -u "$1" -fx "$2" | head -n 1; }
hold_pid() { pgrep -u "$2" -f "read x <$HOLD_DIR/$1" | head -n 1; }   # TAG USER
# held_or_ended TAG : the held login is up, or its su has ended (refused)
held_or_ended() { held "$1" || ! kill -0 "${HOLD_PID[$1]}" 2>/dev/null; }
# host_veth_of PID : the host side of the veth whose peer is PID's eth0
host_veth_of() {
    local i
    i=$(nsenter -t "$1" -n ip -o link show dev eth0 2>/dev/null | sed -n 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')
    [[ -n $i ]] && ip -o link show | awk -F': ' -v i="$i" '$1 == i { sub(/@.*/, "", $2); print $2 }'
}
is_up() { ip -o link show dev "$1" 2>/dev/null | grep -qE '<([^>]*,)?UP[,>]'; }   # administratively up
up_nss() { ip -o link show | awk -F': ' '$2 ~ /^nss/ && $0 ~ /[<,]UP[,>]/ { sub(/@.*/, "", $2); print $2 }' | sort | xargs; }
# probe_from PID UID : what the host's listener on 10.213.0.1:7001 gives
# from the network namespace of PID, as UID
probe_from() {
    nsenter -t "$1" -n setpriv --reuid="$2" --regid="$2" --clear-groups \
        "$PY" "$SB/bin/probe.py" 10.213.0.1 7001 2 2>&1
}
# killed_su TAG : alice runs `su -s /bin/sh alice` (her password on a pty);
# its shell starts `setsid sleep TAG` and SIGKILLs su: close_session never
# runs, the sleep keeps the namespace
killed_su() {
    run setpriv --reuid=alice --regid=alice --init-groups "$PY" -I "$SB/bin/ptysu.py" "$PWFILE" \
        su -s /bin/sh alice -c "setsid sleep $1 </dev/null >/dev/null 2>&1 & kill -9 \$PPID"
}

# small_pool NETNS [MORE] : 10.213.0.2-.6, five addresses; netns = NETNS
small_pool() {
    sandbox_conf <<EOF
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
default { netns = "$1" ${2:-} }
EOF
}

# ================================ 1. leftovers of killed su, stale records ===
small_pool session "max_sessions = 2"
PAM_NS_ARGS="debug shell=$SB/bin/ns-shell" pam_with_ns su su-l

hold A alice
check "1: alice holds an ordinary login" wait_until 60 held A
AP=$(hold_pid A alice)
AV=$(host_veth_of "$AP")
banner_start --peer 10.213.0.1 7001 hello
check_match "... which reaches the host" '^hello 10\.213\.0\.' "$(probe_from "$AP" $AU)"

declare -A LP LV
for i in 1 2 3 4; do
    killed_su "70$i"
    wait_until 30 pid_of alice "sleep 70$i"
    LP[$i]=$(pid_of alice "sleep 70$i")
    LV[$i]=$(host_veth_of "${LP[$i]:-0}")
done
bad=""
for i in 1 2 3 4; do
    [[ -n ${LP[$i]} && ${LV[$i]} =~ ^nss[0-9a-f]{8}$ && ${LV[$i]} != "$AV" &&
       $(eth0_of "${LP[$i]}") =~ ^10\.213\.0\.[2-6]/29$ ]] || bad+=" $i(pid ${LP[$i]:-none} veth ${LV[$i]:-none})"
done
check_eq "1: four killed su logins of alice each left a sleep in a namespace of its own, with an address" "" "$bad"
check_eq "... their records are stale: alice's next logins cut the links of the first three" "" \
    "$(for i in 1 2 3; do is_up "${LV[$i]}" && echo "${LV[$i]}"; done)"
check "... the last one's link is still up (nothing has run since its su died)" is_up "${LV[4]}"
check_eq "... alice holds two leases: her login's (sticky) and the last leftover's" "alice 4|alice 5" \
    "$(lease_lines | awk '$2 == "alice" { print $2, NF }' | sort | paste -sd'|')"
bad=""
for i in 1 2 3; do probe_from "${LP[$i]}" $AU | grep -q failed || bad+=" $i"; done
check_eq "... the first three leftovers reach nothing" "" "$bad"

hold B bob
wait_until 60 held_or_ended B
check "1: bob logs in: alice's leftovers did not exhaust the pool" held B
BP=$(hold_pid B bob)
BV=$(host_veth_of "$BP")
check_match "... and reaches the host" '^hello 10\.213\.0\.' "$(probe_from "$BP" $BU)"

run "$NSCTL" gc
check_run "1: nsctl gc" 0
check_match "... cut the link of the last leftover's namespace" \
    "cut the link of namespace ns-alice-${LV[4]#nss}" "$OUT"
check_eq "... every leftover's host-side veth is down" "" \
    "$(for i in 1 2 3 4; do is_up "${LV[$i]}" && echo "${LV[$i]}"; done)"
check_eq "... the only veths up are alice's and bob's logins'" "$(printf '%s\n' "$AV" "$BV" | sort | xargs)" "$(up_nss)"
check_eq "... the last leftover reaches nothing" "failed" "$(probe_from "${LP[4]}" $AU | grep -o failed)"
check_eq "... the leases left are alice's and bob's sticky ones" "alice 4|bob 4" \
    "$(lease_lines | awk '{ print $2, NF }' | sort | paste -sd'|')"
check_match "... alice's held login still reaches the host" '^hello 10\.213\.0\.' "$(probe_from "$AP" $AU)"

killed_su 705
wait_until 30 pid_of alice "sleep 705"
LP[5]=$(pid_of alice "sleep 705")
LV[5]=$(host_veth_of "${LP[5]:-0}")
check "1: a fifth killed su leaves a namespace with its link up" is_up "${LV[5]:-none}"
before=$(lease_store_state)
run "$NSCTL" gc --dry-run
check_match "nsctl gc --dry-run says it would cut its link" \
    "would cut the link of namespace ns-alice-${LV[5]#nss}" "$OUT"
check "... and leaves the link up" is_up "${LV[5]:-none}"
check_eq "... and the lease store as it was" "$before" "$(lease_store_state)"
run "$NSCTL" gc
check_match "nsctl gc then cuts it" "cut the link of namespace ns-alice-${LV[5]#nss}" "$OUT"
check_fail "... its veth is down" is_up "${LV[5]:-none}"

release A B
kill "${LP[@]}" 2>/dev/null
kill "$BANNER_PID" 2>/dev/null
check "1: once the leftovers are killed, no veth of ours is left" wait_until 60 no_ns_links

# =================================================== 2. two names, one uid ===
alice2_refused() { # CASE : su alice2 -c 'echo IN' must fail; OUT, LOG
    log_mark
    run su alice2 -c 'echo IN'
    LOG=$(log_since | grep pam_ns)
    check_eq "2$1: alice2 (alice's uid) is refused" "refused" "$( ((RC != 0)) && [[ $OUT != *IN* ]] && echo refused || echo "rc=$RC out=$OUT")"
}
small_pool session
pam_with_ns su su-l
# a fresh lease store: alice's address is then the pool's first free one,
# the one bob would be handed if alice lost her lease
rm -rf "$LEASE_DIR"
hold C alice
check "2s: alice holds a login (netns = session)" wait_until 60 held C
AP=$(hold_pid C alice)
AADDR=$(eth0_of "$AP")
alice2_refused s
check_match "... the log says uid $AU is logged in as alice" "uid $AU is logged in as alice" "$LOG"
check_eq "... alice's eth0 keeps its address" "$AADDR" "$(eth0_of "$AP")"
check_eq "... and alice keeps its lease" "${AADDR%/*}" "$(lease_of alice)"
hold D bob
check "... bob logs in" wait_until 60 held D
BADDR=$(eth0_of "$(hold_pid D bob)")
check_match "... with an address" '^10\.213\.0\.[2-6]/29$' "$BADDR"
check_fail "... not alice's" test "$AADDR" = "$BADDR"
release C D
check "2s: the logins are over" wait_until 60 no_ns_links

small_pool user
hold E alice
check "2u: alice holds a login (netns = user)" wait_until 60 held E
AP=$(hold_pid E alice)
AADDR=$(eth0_of "$AP")
alice2_refused u
check_match "... the log says uid $AU is logged in as alice" "uid $AU is logged in as alice" "$LOG"
check_match "... alice's login still has eth0 with its address" '^10\.213\.0\.[2-6]/29$' "$(eth0_of "$AP")"
check_eq "... the same address" "$AADDR" "$(eth0_of "$AP")"
check_eq "... and alice keeps its lease" "${AADDR%/*}" "$(lease_of alice)"
release E
check "2u: the login is over" wait_until 60 no_ns_links

small_pool session
PAM_NS_ARGS="debug shell=$SB/bin/ns-shell" pam_with_ns su su-l
killed_su 801
wait_until 30 pid_of alice "sleep 801"
L=$(pid_of alice "sleep 801")
check_match "2r: a killed su of alice (no other login) left a sleep with her address" \
    '^10\.213\.0\.[2-6]/29$' "$(eth0_of "${L:-0}")"
alice2_refused r
check_match "... the log says uid $AU is still in use by alice" "uid $AU is still in use by alice" "$LOG"
kill "$L" 2>/dev/null
check "2r: once the leftover is killed its namespace goes" wait_until 60 no_ns_links
run su alice2 -c 'echo IN'
check_eq "... and alice2 logs in" "0 IN" "$RC $OUT"

# ============================== 3. a failed login deletes nothing shared ===
ip link del nsbr0 2>/dev/null
sandbox_conf <<EOF
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
dhcp_script    = "$NS_REPO/conf/udhcpc.script"
dhcp_timeout   = 8
user "alice" { address = "dhcp" }
EOF
pam_with_ns su su-l
check_fail "3: no bridge yet" link_present nsbr0
( su alice -c true >"$SB/tmp/alice.out" 2>&1; echo "rc=$?" >>"$SB/tmp/alice.out" ) &
AL=$!
check "3: alice's DHCP login (no DHCP server) makes the bridge" wait_until 30 link_present nsbr0
banner_start --peer 10.213.0.1 7001 hello
hold F bob
wait_until 60 held_or_ended F
check "... bob logs in meanwhile" held F
check "... while alice's login still waits for DHCP" kill -0 "$AL"
wait "$AL"
check_match "3: alice's login fails (no lease)" 'rc=[1-9]' "$(cat "$SB/tmp/alice.out")"
check_match "... bob's veth is still a port of nsbr0" 'master nsbr0' "$(ip -o link show dev nsu$BU 2>&1)"
check "... the bridge still exists" link_present nsbr0
check_match "... and bob still reaches the gateway" '^hello 10\.213\.0\.' "$(probe_from "$(hold_pid F bob)" $BU)"
release F
kill "$BANNER_PID" 2>/dev/null
check "3: bob's login is over" wait_until 60 no_ns_links

sandbox_conf <<'EOF'
pool = "10.213.4.0/24"
default { network = "routed" }
EOF
ip link add "nsu$AU" type veth peer name foreign0 || sandbox_die "cannot make a link named nsu$AU"
check_eq "3r: no unreachable route for the pool yet" "" "$(ip route show type unreachable)"
run su alice -c 'echo IN'
check "3r: alice's first routed login fails (a foreign link has her veth's name)" \
    test "$RC" != 0 -a "$OUT" != IN
check_match "... the host's unreachable route for the pool stays" '^unreachable 10\.213\.4\.0/24' \
    "$(ip route show type unreachable)"
ip link del "nsu$AU"
run su alice -c 'ip -4 -o addr show dev eth0'
check_match "... and her next login works (routed)" '^0 .*inet 10\.213\.4\.[0-9]+/32' "$RC $OUT"
check "3r: her login is over" wait_until 60 no_ns_links

# ============================================ 4. names outside the rule ===
add_raw 'svc@corp' 3900 3900
add_raw 'web@corp' 4900 4900
sandbox_conf <<'EOF'
exempt_uid_below = 4000
EOF
# pam_unix's session too: a stack whose every module ignores the session
# (pam_ns for an exempt user) is refused by libpam itself
pam_with_ns nstest
log_mark
run pamtester nstest 'svc@corp' open_session close_session
check_run "4: an exempt user named svc@corp: open_session and close_session succeed" 0
check_match "... pam_ns lets it through as exempt" 'svc@corp: not namespaced \(exempt\)' "$(log_since)"
log_mark
run pamtester nstest 'web@corp' open_session close_session
check_fail "4: a namespaced user named web@corp is refused" test "$RC" = 0
check_match "... the log gives the rule" \
    'session of web@corp refused: user name of uid 4900 cannot name a namespace \(1 to 32 of A-Z a-z 0-9 \. _ -, not starting with - or \.\)' \
    "$(log_since)"
sandbox_finish
