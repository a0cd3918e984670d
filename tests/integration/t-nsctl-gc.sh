#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nsctl gc: stale session records go; a login whose session's owner was
# killed (linger = false) is ended; a leaked veth of ours (stray processes
# outside any login keep its namespace alive) is reported with the stray
# pids and kept; --kill ends the strays and the namespace goes; --dry-run
# changes nothing; links that are not ours are never touched; and a live
# session survives every gc untouched (record, veth, connectivity).
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ------------------------------------------------------------- helpers ---
none_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
all_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done; return 0; }
# state : what gc may change (records with content, our links, stray pids)
state() {
    local f
    for f in "$SESS"/*; do [[ -f $f ]] && { echo "== $f"; cat "$f"; }; done
    ip -o link show | awk -F': ' '{ print $2 }' | sort
    for p in ${STRAYS:-}; do kill -0 "$p" 2>/dev/null && echo "alive $p"; done
    lease_lines
}
dead_pid() { sleep 0 & wait $!; echo $!; }   # a pid that no longer exists
# stable_pids INODE : the pids in that network namespace, once two looks
# 0.1 s apart agree (at most 2 s)
stable_pids() {
    local a b i
    b=$(pids_in_netns "$1")
    for ((i = 0; i < 20; i++)); do
        sleep 0.1
        a=$b b=$(pids_in_netns "$1")
        [[ $a == "$b" ]] && break
    done
    echo "$b"
}
# leak TAG USER UID : a login of USER starts a background job, then its su
# (the session's owner) is SIGKILLed: no close_session, the record goes
# stale, and the login (linger = false) goes on. A process outside any
# login (root's, as `nsctl exec` leaves one) joins its network namespace:
# a stray. Sets L_SID, L_INO, LOGIN_PIDS (the login's pids in the
# namespace), STRAYS (the stray) and ALL_PIDS (all of them, sorted).
leak() {
    hold "$1" "$2" 'sleep 300 &'
    wait_until 10 has_n_records_of "$3" 1 || sandbox_die "$2's login did not open" \
        "$(cat "$SB/tmp/hold-$1.out"; tail -n 5 "$SB_SYSLOG")"
    L_SID=$(sids_of "$3")
    L_INO=$(rec "$L_SID" netns_ino)
    wait_until 10 pgrep -u "$3" -x sleep
    kill -KILL "${HOLD_PID[$1]}"
    wait "${HOLD_PID[$1]}" 2>/dev/null
    LOGIN_PIDS=$(stable_pids "$L_INO")
    local one=${LOGIN_PIDS%% *}
    nsenter --net="/proc/$one/ns/net" sleep 301 </dev/null >/dev/null 2>&1 &
    STRAYS=$!
    wait_until 10 bash -c "[[ \$(stat -L -c %i /proc/$STRAYS/ns/net) == $L_INO ]]" ||
        sandbox_die "the stray did not join $2's namespace"
    ALL_PIDS=$(stable_pids "$L_INO")
}

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol
: | sandbox_conf
# The bridge, made here with a fixed MAC: a bridge pam_ns creates takes the
# lowest MAC of its ports, so another user's veth leaving changes the
# gateway's MAC under bob (see t-crash-recovery.sh); that is not gc's doing.
bridge_up --mac 02:00:5e:00:02:13
PAM_NS_ARGS='' pam_with_ns su
banner_start 0.0.0.0 8080 HOST-8080

# ------------------------------------------------------- nothing to do ---
run "$NSCTL" gc
check_eq "gc with no state at all: exit 0, nothing to clean" "0 nothing to clean" "$RC $OUT"
check_eq "gc reports on stdout: nothing on stderr" "" "$ERR"

# A live session: bob. It must come through every gc below untouched.
hold bob bob
wait_until 10 has_n_records_of 2002 1 || sandbox_die "bob's login did not open" \
    "$(cat "$SB/tmp/hold-bob.out"; tail -n 5 "$SB_SYSLOG")"
sid_bob=$(sids_of 2002)
rec_bob=$(cat "$SESS/$sid_bob")
idx_bob=$(cat /sys/class/net/nsu2002/ifindex)
bob_live_ok() { # DESC : bob's session is exactly as it was and still works
    local why=""
    [[ $(cat "$SESS/$sid_bob" 2>/dev/null) == "$rec_bob" ]] || why+="record changed or gone; "
    [[ $(cat /sys/class/net/nsu2002/ifindex 2>/dev/null) == "$idx_bob" ]] || why+="veth nsu2002 changed or gone; "
    [[ $(cat /sys/class/net/nsu2002/master/ifindex 2>/dev/null) == "$(cat /sys/class/net/nsbr0/ifindex)" ]] ||
        why+="veth off the bridge; "
    kill -0 "${HOLD_PID[bob]}" 2>/dev/null || why+="su of bob died; "
    local p
    p=$("$NSCTL" exec bob -- "$PY" "$SB/bin/probe.py" 10.213.0.1 8080 2>&1) || why+="no connectivity: $p; "
    [[ $p == HOST-8080 ]] || why+="probe said '$p'; "
    if [[ -z $why ]]; then sandbox_ok "$1"; else sandbox_not_ok "$1" "$why"; fi
}
bob_live_ok "bob's held login works before any gc"
run "$NSCTL" gc
check_eq "gc with only a live session: exit 0, nothing to clean" "0 nothing to clean" "$RC $OUT"
bob_live_ok "gc leaves a live session untouched (record, veth, connectivity)"
run "$NSCTL" gc --kill
check_eq "gc --kill with only a live session: nothing to clean" "0 nothing to clean" "$RC $OUT"
bob_live_ok "gc --kill leaves a live session untouched"

# ------------------------------------------------------- stale record ---
dead=$(dead_pid)
stale=0badc0de
sed "s/^owner_pid=.*/owner_pid=$dead/" "$SESS/$sid_bob" >"$SESS/$stale"
chmod 0644 "$SESS/$stale"
before=$(state)
run "$NSCTL" gc --dry-run
check_eq "gc --dry-run: exit 0" 0 "$RC"
check_eq "gc --dry-run names the stale record" \
    "would remove stale session $stale of bob (owner $dead gone)" "$OUT"
check_eq "gc --dry-run changes nothing" "$before" "$(state)"
run "$NSCTL" gc
check_eq "gc: exit 0" 0 "$RC"
check_eq "gc reports the stale record it removed" \
    "removed stale session $stale of bob (owner $dead gone)" "$OUT"
check_eq "... on stdout only" "" "$ERR"
check "gc removed the stale record" test ! -e "$SESS/$stale"
bob_live_ok "gc of a stale copy of bob's record left his live session alone"
run "$NSCTL" gc
check_eq "a second gc: nothing to clean" "nothing to clean" "$OUT"

# A record that is not root's or is group-writable is never trusted, so
# never acted on either (gc does not remove what it cannot read as a record).
sed "s/^owner_pid=.*/owner_pid=$dead/" "$SESS/$sid_bob" >"$SESS/0000beef"
chmod 0664 "$SESS/0000beef"
run "$NSCTL" gc
check_eq "gc ignores a group-writable record (not trusted)" "0 nothing to clean" "$RC $OUT"
rm -f "$SESS/0000beef"

# ---------------------------------------------- a leaked veth: alice ---
leak alice alice 2001
sid_alice=$L_SID
check "after su is killed, her login still holds alice's namespace ($LOGIN_PIDS)" test -n "$LOGIN_PIDS"
check "a sleep of alice is among them" pgrep -u 2001 -x sleep
check "alice's veth nsu2001 is still there" link_present nsu2001
check_eq "alice's record is still there (stale)" "$sid_alice" "$(sids_of 2001)"
run "$NSCTL" status --json
check_match "status flags alice's session stale" '"user": "alice".*"stale": true' "$OUT"

before=$(state)
run "$NSCTL" gc --dry-run
check_eq "gc --dry-run (leak): exit 0" 0 "$RC"
check_match "gc --dry-run names alice's stale session" \
    "stale session $sid_alice of alice \(owner ${HOLD_PID[alice]} gone\)" "$OUT"
check_match "gc --dry-run would end her login (linger = false, its session gone)" \
    "would end login [0-9a-f]{8} of alice: linger = false and its session $sid_alice is gone" "$OUT"
check_match "gc --dry-run reports the namespace behind nsu2001 with every pid in it" \
    "namespace behind nsu2001 \(ns-shell user=alice uid=2001\) is kept alive by [0-9]+ process(es)? outside any session: $ALL_PIDS \(use --kill to end them\)" "$OUT"
check_match "gc --dry-run keeps the veth while stray processes use its namespace" \
    "kept veth nsu2001 \(ns-shell user=alice uid=2001\) while its namespace is in use" "$OUT"
check_eq "gc --dry-run (leak) changes nothing" "$before" "$(state)"
run "$NSCTL" gc --dry-run --kill
check_match "gc --dry-run --kill says it would kill" "$ALL_PIDS \(would kill\)" "$OUT"
check_eq "gc --dry-run --kill changes nothing (no process killed)" "$before" "$(state)"

run "$NSCTL" gc
check_eq "gc (leak): exit 0" 0 "$RC"
check_eq "gc (leak): its report is on stdout, nothing on stderr" "" "$ERR"
check_match "gc ends her login (linger = false, its session gone)" \
    "ended login [0-9a-f]{8} of alice: linger = false and its session $sid_alice is gone" "$OUT"
# shellcheck disable=SC2086
check "... every process of that login is gone" wait_until 20 none_alive $LOGIN_PIDS
check_match "gc reports the namespace with the stray pid (outside any login)" \
    "namespace behind nsu2001 \(ns-shell user=alice uid=2001\) is kept alive by [0-9]+ process(es)? outside any session: $STRAYS \(use --kill to end them\)" "$OUT"
check_match "gc keeps the veth: it is the handle on the strays for a later gc --kill" \
    "(^|$NL)kept veth nsu2001 \(ns-shell user=alice uid=2001\) while its namespace is in use" "$OUT"
# (whether the stale record goes now or with the strays is gc's choice)
check "nsu2001 stays while its namespace is in use" ip link show dev nsu2001
# shellcheck disable=SC2086
check "without --kill the stray processes live on" all_alive $STRAYS
bob_live_ok "the leak gc left bob's live session untouched"
# The hint said "use --kill to end them": following it must end them.
run "$NSCTL" gc --kill
# shellcheck disable=SC2086
check "following the hint, gc --kill then ends alice's strays" wait_until 20 none_alive $STRAYS
check_eq "... and then no record of alice is left" "" "$(sids_of 2001)"
# shellcheck disable=SC2086
kill -KILL $STRAYS 2>/dev/null   # ours; whatever gc did, end them now
bob_live_ok "gc --kill left bob's live session untouched"

# ----------------------------------------- a leaked veth: gc --kill ---
leak carol carol 2003
sid_carol=$L_SID ino_carol=$L_INO
addr_carol=$(rec "$sid_carol" address)
check "her login holds carol's namespace after her su is killed ($LOGIN_PIDS)" test -n "$LOGIN_PIDS"
# Bystanders on the host, started last (their pids follow the strays'):
# gc --kill must end the strays and nothing else.
BYSTANDERS=""
for i in $(seq 1 40); do
    sleep 300 >/dev/null 2>&1 &
    BYSTANDERS+=" $!"
done
run "$NSCTL" gc --kill
check_eq "gc --kill: exit 0" 0 "$RC"
check_match "gc --kill removed carol's stale record" "removed stale session $sid_carol of carol" "$OUT"
check_match "gc --kill reports and kills the stray pids" \
    "namespace behind nsu2003 \(ns-shell user=carol uid=2003\) is kept alive by [0-9]+ process(es)? outside any session: $STRAYS \(killed\)" "$OUT"
check_match "gc --kill deleted the veth" "deleted leaked veth nsu2003" "$OUT"
# shellcheck disable=SC2086
check "the stray and the login's processes are gone" wait_until 20 none_alive $ALL_PIDS
check_eq "no process is left in carol's namespace (it is freed)" "" "$(pids_in_netns "$ino_carol")"
check "nsu2003 is gone" link_absent nsu2003
# shellcheck disable=SC2086
check "gc --kill killed nothing outside carol's namespace (40 host processes started after hers live)" \
    all_alive $BYSTANDERS
check "bob's su and login survive gc --kill" kill -0 "${HOLD_PID[bob]}"
# shellcheck disable=SC2086
{ kill $BYSTANDERS; wait $BYSTANDERS; } 2>/dev/null
check_eq "carol's record is gone" "" "$(sids_of 2003)"
check_fail "no process of carol is left" pgrep -u 2003
bob_live_ok "gc --kill of carol's leak left bob's live session untouched"
run "$NSCTL" gc --kill
check_eq "afterwards gc --kill has nothing to clean" "nothing to clean" "$OUT"

# carol logs in again, cleanly, and keeps her address
hold carol2 carol
wait_until 10 has_n_records_of 2003 1
check_eq "carol's next login gets her old address" "$addr_carol" "$(rec "$(sids_of 2003)" address)"
release carol2
# shellcheck disable=SC2086
kill -KILL $STRAYS 2>/dev/null   # ours; whatever gc --kill did, end them now
wait_until 30 link_absent nsu2003

# ------------------------------------------- the bridge's neighbours ---
# pam_ns gives the host a permanent neighbour entry for each user's
# address (no ARP churn); one no login holds any more is gc's to remove.
addr_bob=$(rec "$sid_bob" address)
check_match "bob's address is a permanent neighbour on nsbr0 (his eth0's MAC)" \
    "^${addr_bob%/*} lladdr $("$NSCTL" exec bob -- ip -o link show dev eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2) PERMANENT" \
    "$(ip neigh show dev nsbr0 "${addr_bob%/*}")"
run "$NSCTL" gc
check_eq "after carol's logout, gc removes the neighbour entry of her address" \
    "0 removed neighbour entry ${addr_carol%/*} on nsbr0 (no login holds it)" "$RC $OUT"
check_eq "... it is gone" "" "$(ip neigh show dev nsbr0 "${addr_carol%/*}")"
check_match "... bob's (a live login's) stays" "^${addr_bob%/*} lladdr" "$(ip neigh show dev nsbr0 "${addr_bob%/*}")"
ip neigh replace 10.213.0.99 lladdr 00:16:3e:00:00:01 dev nsbr0 nud permanent
ip neigh replace 192.0.2.99 lladdr 02:16:3e:00:00:01 dev nsbr0 nud permanent
run "$NSCTL" gc
check_eq "gc leaves an admin's entries alone (a global MAC; an address outside the pool)" \
    "0 nothing to clean" "$RC $OUT"
ip neigh del 10.213.0.99 dev nsbr0; ip neigh del 192.0.2.99 dev nsbr0

# -------------------------------------------- links that are not ours ---
# A veth of ours with nothing behind it (both ends on the host): deleted.
ip link add nsu2999 type veth peer name nsx2999p
ip link set nsu2999 alias "ns-shell user=ghost uid=2999"
# Not ours: a name we use but no alias, and our alias on a foreign name.
ip link add nsu3000 type veth peer name nsx3000p
ip link add foreign0 type veth peer name foreign0p
ip link set foreign0 alias "ns-shell user=ghost uid=3001"
ip link add nss12345 type veth peer name nss12345p
run "$NSCTL" gc --dry-run
check_eq "gc --dry-run lists only the orphan veth of ours" \
    "would delete leaked veth nsu2999 (ns-shell user=ghost uid=2999)" "$OUT"
check "gc --dry-run kept nsu2999" link_present nsu2999
run "$NSCTL" gc
check_eq "gc deletes only the orphan veth of ours" \
    "0 deleted leaked veth nsu2999 (ns-shell user=ghost uid=2999)" "$RC $OUT"
check_eq "... and warns about nothing" "" "$ERR"

# A veth of ours that is a port of another bridge belongs to logins under
# another ns.conf (PAM's conf=): never judged by this one, only named.
ip link add nsother0 type bridge
ip link add nsu2998 type veth peer name nsx2998p
ip link set nsu2998 alias "ns-shell user=ghost uid=2998"
ip link set nsu2998 master nsother0
run "$NSCTL" gc --kill
check_eq "gc --kill leaves a veth of ours on another bridge alone: nothing to clean" \
    "0 nothing to clean" "$RC $OUT"
check_eq "... with a warning that names it, the bridge and --conf" \
    "nsctl: warning: left veth nsu2998 (ns-shell user=ghost uid=2998) alone: it is a port of bridge nsother0, not of nsbr0 (a login under another configuration? see --conf)" \
    "$ERR"
check "... nsu2998 is still there" link_present nsu2998
ip link set nsu2998 nomaster
run "$NSCTL" gc
check_eq "once off that bridge, the orphan is ours to delete" \
    "0 deleted leaked veth nsu2998 (ns-shell user=ghost uid=2998)" "$RC $OUT"
ip link del nsother0
check "nsu2999 is gone (and its peer)" link_absent nsx2999p
check "nsu3000 without our alias is untouched" link_present nsu3000
check "foreign0 with our alias but not our name is untouched" link_present foreign0
check "nss12345 (no alias) is untouched" link_present nss12345
check "the bridge is untouched" link_present nsbr0
bob_live_ok "bob's live session is untouched after all of it"

# ------------------------------------------- gc racing with logins ---
# A login makes its veth before its record (under the user's lock): gc,
# run over and over meanwhile, must never take a login's veth away. Each
# login proves it has its network (a TCP probe to the gateway).
( for i in $(seq 1 25); do
      out=$(su alice -c "$(probe_cmd 10.213.0.1 8080)" 2>&1 </dev/null)
      [[ $out == HOST-8080 ]] || echo "login $i: $out"
  done >"$SB/tmp/race.out" 2>&1 ) &
racer=$!
n_gc=0 gc_fail=""
while kill -0 "$racer" 2>/dev/null; do
    out=$("$NSCTL" gc 2>&1) || gc_fail+="$out$NL"
    n_gc=$((n_gc + 1))
done
wait "$racer"
check_eq "25 logins of alice with gc running $n_gc times meanwhile: each had its network" "" \
    "$(cat "$SB/tmp/race.out"; grep -E 'pam_ns\(su:session\): session of alice refused' "$SB_SYSLOG" | head -n 3)"
check_eq "... and no gc run failed" "" "$(head -n 4 <<<"$gc_fail")"
bob_live_ok "bob's live session is untouched after the race"
# Alice's last login may have ended after the last gc of the loop began (a
# loaded machine): then her neighbour entry is still there. Wait until her
# namespace is gone and clean up after her, so what follows sees bob's only.
check "alice's last namespace is gone" settle 2001
"$NSCTL" gc >/dev/null 2>&1

release bob
wait_until 20 has_n_records_of 2002 0
wait_until 30 link_absent nsu2002
run "$NSCTL" gc
check_eq "after bob's logout: gc removes his address's neighbour entry, nothing else" \
    "0 removed neighbour entry ${addr_bob%/*} on nsbr0 (no login holds it)" "$RC $OUT"
run "$NSCTL" gc
check_eq "then: nothing to clean" "0 nothing to clean" "$RC $OUT"
check_eq "no records are left" 0 "$(n_records)"

sandbox_finish
