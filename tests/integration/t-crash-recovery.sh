#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Recovery from crashes outside pam_ns: a quick re-login while the previous
# namespace's veth is still being destroyed; an su or sshd session process
# SIGKILLed (no close_session), with and without processes of the login
# living on; a reboot (empty /run/ns-shell, leases kept); a stale or held
# user lock (other users are not blocked; the blocked one gets a clear
# error after the lock timeout); and the gateway staying reachable for the
# others when a user's veth leaves the bridge.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ------------------------------------------------------------- helpers ---
mac_of() { cat "/sys/class/net/$1/address" 2>/dev/null; }
kill_all_of() { # INODE : SIGKILL every process in that network namespace
    local p
    # shellcheck disable=SC2046
    for p in $(pids_in_netns "$1"); do kill -KILL "$p" 2>/dev/null; done
}
GW_PROBE=$(probe_cmd 10.213.0.1 8080)   # reach the gateway, from a login
# next_login HOW USER ADDRESS DESC DESC2 : HOW (as_user or as_ssh) logs USER
# in: check that it works (DESC) and that eth0 has ADDRESS and the gateway
# answers (DESC2)
next_login() {
    "$1" "$2" "ip -br -4 addr show dev eth0; $GW_PROBE"
    check_login "$4"
    check_match "$5" "^eth0(@[^ ]+)? +UP +${3//./\\.}/16 *${NL}HOST-8080\$" "$AS_OUT"
}
# waits_for_lock FILE PID... : a process other than PIDs has FILE open (a
# login that waits for the lock)
waits_for_lock() {
    local f=$1 p; shift
    for p in $(find /proc/[1-9]*/fd -lname "$f" 2>/dev/null | cut -d/ -f3 | sort -u); do
        [[ " $* " == *" $p "* ]] || return 0
    done
    return 1
}

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol
: | sandbox_conf
PAM_NS_ARGS='' pam_with_ns su su-l sshd
pam_ns_alone nstest
banner_start 0.0.0.0 8080 HOST-8080

# --------------------------------------------------- quick re-logins ---
# pamtester's namespace dies with it; the veth goes tens of ms later. A
# login right after must treat that veth as stale (DESIGN: Runtime state).
fails=0 detail=""
for i in $(seq 1 20); do
    out=$(pamtester nstest alice open_session close_session 2>&1) || {
        fails=$((fails + 1)); detail+="#$i: $out; "; }
done
check_eq "20 quick re-logins of alice in a row all work" 0 "$fails"
[[ -n $detail ]] && printf '%s\n' "$detail" "$(grep pam_ns "$SB_SYSLOG" | grep -i refused | tail -n 2)" | _sb_detail
wait_until 30 link_absent nsu2001
addr_alice=$(lease_of alice)

# --------------------------------- su killed, the login lives on ---
hold a1 alice 'sleep 300 &'
wait_until 10 has_n_records_of 2001 1 || sandbox_die "alice's login did not open" "$(cat "$SB/tmp/hold-a1.out")"
old_sid=$(sids_of 2001)
old_ino=$(rec "$old_sid" netns_ino)
wait_until 10 pgrep -u 2001 -x sleep
kill -KILL "${HOLD_PID[a1]}"
wait "${HOLD_PID[a1]}" 2>/dev/null
check "su killed: processes of the login still hold the old namespace" test -n "$(pids_in_netns "$old_ino")"
check "su killed: the old veth nsu2001 is still there" ip link show dev nsu2001
next_login as_user alice "$addr_alice" "su killed, login lives on: the next login of alice works" \
    "the next login has alice's leased address and reaches the gateway"
check "the next login reaped the stale record" test ! -e "$SESS/$old_sid"
check_eq "no record of alice is left after that login" "" "$(sids_of 2001)"
kill_all_of "$old_ino"
wait_until 30 link_absent nsu2001

# --------------------------------- su killed with the whole login ---
hold a2 alice
wait_until 10 has_n_records_of 2001 1
old_sid=$(sids_of 2001)
old_ino=$(rec "$old_sid" netns_ino)
kill -KILL "${HOLD_PID[a2]}"
wait "${HOLD_PID[a2]}" 2>/dev/null
kill_all_of "$old_ino"
check "the killed login's namespace goes with its processes (its veth goes)" \
    wait_until 30 link_absent nsu2001
check_eq "its record stays behind, stale" "$old_sid" "$(sids_of 2001)"
next_login as_user alice "$addr_alice" "whole login killed: the next login of alice works" \
    "it has alice's address and reaches the gateway"
check "it reaped the stale record" test ! -e "$SESS/$old_sid"
wait_until 30 link_absent nsu2001

# ------------------------------------------- sshd session killed ---
sandbox_sshd
sandbox_ssh_authorize bob
bg_ssh ssh bob@127.0.0.1 "$(hold_cmd ssh)"
wait_until 10 has_n_records_of 2002 1 || sandbox_die "bob's ssh login did not open" \
    "$(cat "$SB/tmp/ssh-ssh.out"; tail -n 5 "$SB/sshd.log")"
ssh_sid=$(sids_of 2002)
ssh_owner=$(rec "$ssh_sid" owner_pid)
ssh_ino=$(rec "$ssh_sid" netns_ino)
addr_bob=$(lease_of bob)
check_match "the sshd session's owner is an sshd process" '^sshd' "$(cat "/proc/$ssh_owner/comm")"
kill -KILL "$ssh_owner"
# The connection's other sshd processes may not notice at once: give the
# client 3 s, then end it (and the shell's read) ourselves.
wait_until 3 sh -c "! kill -0 ${BG_SSH[ssh]} 2>/dev/null"
end_ssh ssh
release ssh
wait_until 10 eval '! held ssh'
next_login as_ssh bob "$addr_bob" "sshd session process killed: bob's next ssh login works" \
    "it has bob's address and reaches the gateway"
check "it reaped the stale record of the killed session" test ! -e "$SESS/$ssh_sid"
check "no record of bob is left" wait_until 20 has_n_records_of 2002 0
kill_all_of "$ssh_ino"
kill "$SB_SSHD_PID" 2>/dev/null
wait_until 30 link_absent nsu2002

# ---------------------------------------------------------- reboot ---
hold a3 alice
wait_until 10 has_n_records_of 2001 1
old_ino=$(rec "$(sids_of 2001)" netns_ino)
kill -KILL "${HOLD_PID[a3]}"
wait "${HOLD_PID[a3]}" 2>/dev/null
kill_all_of "$old_ino"
wait_until 30 link_absent nsu2001
leases_before=$(lease_lines)
rm -rf /run/ns-shell
next_login as_user alice "$addr_alice" "after a reboot (empty /run/ns-shell, leases kept) alice logs in" \
    "she keeps her address and reaches the gateway"
check_eq "the state directories are made again, root-owned, closed to others" \
    "/run/ns-shell 755 root /run/ns-shell/lock 700 root /run/ns-shell/sessions 755 root" \
    "$(stat -c '%n %a %U' /run/ns-shell /run/ns-shell/lock /run/ns-shell/sessions | xargs)"
check_eq "the lease store kept every lease (only last-used times move)" \
    "$(awk '{ print $1, $2, $3 }' <<<"$leases_before")" "$(lease_lines | awk '{ print $1, $2, $3 }')"
check_eq "no record is left" 0 "$(n_records)"
wait_until 30 link_absent nsu2001

# ------------------------------------------------------ stale locks ---
# A lock file left behind (no holder) is no obstacle.
touch /run/ns-shell/lock/user-2001
chmod 0600 /run/ns-shell/lock/user-2001
as_user alice true
check_login "a left-behind lock file of alice does not block her login"
wait_until 30 link_absent nsu2001

# A holder that hangs (SIGSTOPped while holding the flock).
flock /run/ns-shell/lock/user-2001 sleep 100 </dev/null >/dev/null 2>&1 &
holder=$!
wait_until 10 pgrep -P "$holder" -x sleep || sandbox_die "the lock holder's sleep did not start"
holder_child=$(pgrep -P "$holder" -x sleep)
kill -STOP "$holder" "$holder_child"
check_fail "the lock of alice is held" flock -n /run/ns-shell/lock/user-2001 true
t0=$EPOCHREALTIME
( AS_TIMEOUT=30 as_user alice true; echo "$AS_RC" >"$SB/tmp/blocked.rc"
  echo "$AS_ERR" >"$SB/tmp/blocked.err"; echo "$EPOCHREALTIME" >"$SB/tmp/blocked.end" ) &
blocked=$!
wait_until 10 waits_for_lock /run/ns-shell/lock/user-2001 "$holder" "$holder_child"
for u in bob carol; do
    s=$EPOCHREALTIME
    as_user "$u" "$GW_PROBE"
    ms=$(ms_since "$s")
    check_login "while alice's lock hangs, $u logs in"
    check "... without waiting out the 10 s lock timeout (${ms} ms)" test "$ms" -lt 9000
    check_eq "... and reaches the gateway" HOST-8080 "$AS_OUT"
done
check "nsctl status is not blocked by the user's lock" timeout 3 "$NSCTL" status
check "nsctl gc is not blocked by the user's lock" timeout 3 "$NSCTL" gc
check "nsctl leases is not blocked by the user's lock" timeout 3 "$NSCTL" leases
wait "$blocked"
ms=$(( ($(tr -d . <"$SB/tmp/blocked.end") - ${t0/./}) / 1000 ))
check_match "the blocked login of alice fails" '^[1-9][0-9]*$' "$(cat "$SB/tmp/blocked.rc")"
check "... after the lock timeout (10 s), not killed at the 30 s AS_TIMEOUT (took ${ms} ms)" test "$ms" -ge 9500 -a "$ms" -lt 28000
check "... with a clear reason in the log" sandbox_log_wait \
    'pam_ns\(su-l:session\): session of alice refused: lock user-2001: held by another login for too long' 10
check_match "... and su says the session could not be opened" 'cannot open session' \
    "$(cat "$SB/tmp/blocked.err")"
check_eq "the failed attempt left no record of alice" "" "$(sids_of 2001)"
{ kill -KILL "$holder_child" "$holder"; wait "$holder"; } 2>/dev/null
as_user alice true
check_login "once the holder is gone alice logs in again"
wait_until 30 link_absent nsu2001

# ------------------------------------------- the gateway's MAC ---
# Start from no bridge, as at boot: pam_ns makes it.
ip link del nsbr0
hold g1 alice
wait_until 10 has_n_records_of 2001 1
hold g2 bob
wait_until 10 has_n_records_of 2002 1
wait_until 10 held g1
wait_until 10 held g2
m1=$(mac_of nsbr0)
if [[ $m1 == "$(mac_of nsu2001)" ]]; then leaver=g1 stayer=bob
else leaver=g2 stayer=alice; fi
# shellcheck disable=SC2046  # the probe command line, split on purpose
out=$("$NSCTL" exec "$stayer" -- $GW_PROBE 2>&1)
check_eq "with alice and bob on the bridge, $stayer reaches the gateway" HOST-8080 "$out"
release "$leaver"
wait_until 30 link_absent "nsu$([[ $leaver == g1 ]] && echo 2001 || echo 2002)"
check_eq "the bridge keeps its MAC when a user's veth leaves it" "$m1" "$(mac_of nsbr0)"
# shellcheck disable=SC2046
out=$("$NSCTL" exec "$stayer" -- $GW_PROBE 4 2>&1)
check_eq "$stayer still reaches the gateway right after the other user's veth left" HOST-8080 "$out"
release g1 g2 2>/dev/null

sandbox_finish
