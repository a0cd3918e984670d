#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: interactive logins over a real OpenSSH sshd (UsePAM yes,
# pam_ns.so in the sshd session stack, ns-shell the passwd shell, the
# shipped conf/ns.conf). `ssh -tt` from a real client on a terminal: job
# control (&, jobs, kill %1, fg, ^Z, bg, ^C), the exit status, the login's
# host name, PID 1 and eth0; and what a dropped client leaves behind (kill -9
# of the ssh client): nothing, and the namespace goes with the last login.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted remote commands; shared helpers and variables, called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2101
# What a dropped client leaves behind with linger = false (t-linger.sh has
# linger = true, the shipped default).
sed 's/^    linger = true$/    linger = false/' "$NS_REPO/conf/ns.conf" | sandbox_conf
check "the config says linger = false" grep -q '^    linger = false$' /etc/security/ns.conf
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
A=(alice@127.0.0.1)

# ------------------------------------- exit status through a pty (-tt) ---
rc=0
out=$(printf 'echo tty=$(tty) comm1=$(cat /proc/1/comm); exit 7\n' |
    timeout -k 2 30 "${SB_SSH[@]}" -tt "${A[@]}" 2>&1) || rc=$?
check_eq "printf '...; exit 7\\n' | ssh -tt alice: the client's exit status is 7" 7 "$rc"
check_match "... the shell had a pty, and its PID 1 was ns-shell" \
    'tty=/dev/pts/[0-9]+ comm1=ns-shell' "$out"
settle 2101

# ------------------------------------------------ a session on a terminal ---
# The ssh client itself runs on a pty (as a person's would), with -tt.
sync1=$SB/tmp/sync-jobs
sync2=$SB/tmp/sync-stop
sync3=$SB/tmp/sync-int
cat >"$SB/tmp/jobs.script" <<EOF
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send echo "comm1=\$(cat /proc/1/comm) host=\$(hostname) tty=\$(tty) net=\$(readlink /proc/self/ns/net) sid=\$NS_SHELL_SESSION end"\r
expect sid=\S* end
send ip -4 -br addr show dev eth0; echo A-\$((2*3))\r
expect A-6
send sleep 100 &\r
send jobs; echo J-\$((3*4))\r
expect J-12
sync $sync1
send kill %1; wait \$!; echo kill-status=\$?; echo K-\$((4*5))\r
expect K-20
send jobs; echo N-\$((5*6))\r
expect N-30
send (sleep 3; exit 4) &\r
send fg %1; echo fg-status=\$?\r
expect fg-status=\d+
send sleep 100\r
sync $sync2
send \x1a
expect Stopped
send jobs; echo Z-\$((6*7))\r
expect Z-42
send bg %1; sleep 0.2; jobs; echo B-\$((7*8))\r
expect B-56
send kill %1; wait; echo KK-\$((8*9))\r
expect KK-72
send sleep 100\r
sync $sync3
send \x03
send echo int-status=\$?\r
expect int-status=\d+
send exit 7\r
EOF
timeout -k 2 90 "$PY" "$SB/bin/expect.py" "$SB/tmp/jobs.script" "$SB/tmp/jobs.out" -- \
    "${SB_SSH[@]}" -tt "${A[@]}" >"$SB/tmp/jobs.err" 2>&1 &
exp_pid=$!
if wait_until 30 test -e "$sync1.ready"; then
    sid=$(sids_of 2101)
    sid_ino=$(rec "$sid" netns_ino)
    sleeper=$(pgrep -u alice -x sleep | head -n 1)
    check "while the session runs, alice has one session record" has_n_records_of 2101 1
    check "her background 'sleep 100' runs" test -n "$sleeper"
    check_eq "... in her network namespace (the record's)" "$(rec "$sid" netns_ino)" \
        "$(netns_of_pid "${sleeper:-0}" 2>&1)"
    check "... and not in the host's PID namespace" \
        test "$(pidns_of_pid "${sleeper:-0}" 2>&1)" != "$HOSTPID"
    # the login's PID 1 as the host sees it: the parent of the shell
    shellpid=$(ps -o ppid= -p "${sleeper:-0}" | tr -d ' ')
    reaper=$(ps -o ppid= -p "${shellpid:-0}" | tr -d ' ')
    check_eq "the job's parent is bash, whose parent is ns-shell (the login's PID 1)" \
        "bash ns-shell" "$(cat "/proc/$shellpid/comm" "/proc/$reaper/comm" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
else
    sandbox_not_ok "the terminal session reached its first sync point" \
        "$(cat "$SB/tmp/jobs.err" "$SB/tmp/jobs.out" 2>&1)"
fi
: >"$sync1.go"
# ^Z and ^C go to the terminal's foreground job: type them once 'sleep 100'
# is it (its process group is the terminal's), not after a guessed delay.
fg_sleep() {
    local p st
    for p in $(pgrep -u alice -x sleep); do
        read -r -a st <"/proc/$p/stat" 2>/dev/null || continue
        [[ ${st[4]} == "${st[7]}" ]] && return 0   # pgrp == the terminal's tpgid
    done
    return 1
}
for s in "$sync2" "$sync3"; do
    wait_until 60 test -e "$s.ready" && wait_until 20 fg_sleep || break
    : >"$s.go"
done
rc=0
wait "$exp_pid" || rc=$?
t=$(cat "$SB/tmp/jobs.out" 2>/dev/null)
check_eq "ssh -tt on a terminal: 'exit 7' at the prompt gives 7" 7 "$rc"
[[ $rc == 7 ]] || printf '#   %s\n' "$(cat "$SB/tmp/jobs.err")"
addr=$(lease_of alice)
check_match "PID 1 of the login is ns-shell" 'comm1=ns-shell ' "$t"
check_match "the host name is the user's (hostname = \"%u\")" ' host=alice ' "$t"
check_match "the shell's terminal is a pty" ' tty=/dev/pts/[0-9]+ ' "$t"
check_match "the shell runs in the network namespace of its record" \
    "net=net:\[${sid_ino:-none}\] sid=${sid:-none} " "$t"
check_match "eth0 holds alice's leased address ($addr)" "eth0(@[^ ]*)? +UP +${addr:-none}/16" "$t"
check_match "jobs: 'sleep 100 &' is job 1, running" '\[1\]\+ +Running +sleep 100 &' "$t"
check_eq "kill %1: the job is terminated (SIGTERM: status 143)" 143 "$(sed -n 's/^kill-status=//p' <<<"$t")"
check_eq "after it, 'jobs' lists nothing" "" "$(sed -n '/^K-20$/,/^N-30$/p' <<<"$t" | grep -F '[1]')"
check_match "fg %1 brings the job to the foreground and returns its status (4)" 'fg-status=4' "$t"
check_match "^Z stops the foreground job" '\[1\]\+ +Stopped +sleep 100' "$t"
check_match "bg %1 resumes it in the background" '\[1\]\+ +Running +sleep 100 &' \
    "$(sed -n '/Z-42/,/B-56/p' <<<"$t")"
check_match "^C interrupts the foreground job (status 130), the shell stays" 'int-status=130' "$t"
check "the login's record goes when it ends" wait_until 20 has_n_records_of 2101 0
check "nsu2101 goes with it" wait_until 30 link_absent nsu2101

# -------------------------------------------- the client disappears ---
# dc_session TAG [CMD] : an interactive ssh -tt login (client on a pty) that
# runs CMD, then "sleep 100" in the foreground; waits until it runs. Sets
# DC_EXP DC_SSH.
dc_session() {
    local tag=$1 pre=${2:-}
    cat >"$SB/tmp/dc-$tag.script" <<EOF
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send ${pre:+$pre }echo sid=\$NS_SHELL_SESSION; sleep 100\r
expect sid=
sync $SB/tmp/dc-$tag
EOF
    EXPECT_PIDFILE=$SB/tmp/dc-$tag.pid \
        "$PY" "$SB/bin/expect.py" "$SB/tmp/dc-$tag.script" "$SB/tmp/dc-$tag.out" -- \
        "${SB_SSH[@]}" -tt "${A[@]}" >"$SB/tmp/dc-$tag.err" 2>&1 &
    DC_EXP=$!
    DC_SSH=
    wait_until 30 test -e "$SB/tmp/dc-$tag.ready" || return 1
    DC_SSH=$(cat "$SB/tmp/dc-$tag.pid")
    [[ $(cat "/proc/$DC_SSH/comm" 2>/dev/null) == ssh ]]
}
# dc_end TAG : let the driver finish (ending the client if it still runs)
dc_end() {
    [[ -n ${DC_SSH:-} ]] && kill -9 "$DC_SSH" 2>/dev/null
    : >"$SB/tmp/dc-$1.go"
    wait "$DC_EXP" 2>/dev/null
}
# sleepers_in NETNS_INODE : alice's 'sleep 100' processes in that namespace
sleepers_in() {
    local p n=0
    for p in $(pgrep -u alice -fx 'sleep 100'); do
        [[ $(netns_of_pid "$p" 2>/dev/null) == "$1" ]] && n=$((n + 1))
    done
    echo "$n"
}
no_sleepers_in() { [[ $(sleepers_in "$1") == 0 ]]; }

settle 2101
# 1. not the last session: a second login of alice holds the namespace.
bg_ssh hold "${A[@]}" "$(hold_cmd hold "echo up >$X/hold.up")"
wait_until 10 test -e "$X/hold.up"
hold_sid=$(sids_of 2101)
if dc_session one; then
    sandbox_ok "an interactive ssh -tt session runs 'sleep 100' (with a second login of alice open)"
    dc_sid=$(sed -n 's/^sid=\([0-9a-f]\{8\}\).*/\1/p' "$SB/tmp/dc-one.out" | head -n 1)
    ino=$(rec "$hold_sid" netns_ino)
    check_eq "both logins share alice's namespace" "$ino" "$(rec "${dc_sid:-none}" netns_ino)"
    check_eq "... where the sleep runs" 1 "$(sleepers_in "$ino")"
    kill -9 "$DC_SSH"
    check "kill -9 of the ssh client: the login's sleep ends" \
        wait_until 30 no_sleepers_in "$ino"
    check "... its session record goes" wait_until 20 test ! -e "$SESS/${dc_sid:-none}"
    check "... the other login's record stays" test -e "$SESS/$hold_sid"
    check "... and so do the namespace and nsu2101 (not the last session)" \
        ip link show dev nsu2101
    check_eq "... which still holds alice's other login" "$ino" \
        "$(as_ssh alice 'readlink /proc/self/ns/net' >/dev/null; sed 's/net:\[\(.*\)\]/\1/' <<<"$AS_OUT")"
else
    sandbox_not_ok "an interactive ssh -tt session runs 'sleep 100' (with a second login of alice open)" \
        "$(cat "$SB/tmp/dc-one.err" "$SB/tmp/dc-one.out" 2>&1)"
fi
dc_end one
release hold
check "the held login ends: no record of alice left" wait_until 20 has_n_records_of 2101 0
settle 2101

# 2. the last session; it also left a nohup'd and a setsid'd process behind.
if dc_session two 'nohup sleep 101 >/dev/null 2>&1 & setsid sleep 102 </dev/null >/dev/null 2>&1 &'; then
    sandbox_ok "an interactive ssh -tt session runs 'sleep 100' (alice's only login)"
    check "... and 'nohup sleep 101 &' and 'setsid sleep 102 &'" \
        wait_until 10 bash -c "pgrep -u alice -fx 'sleep 101' && pgrep -u alice -fx 'sleep 102'"
    dc_sid=$(sed -n 's/^sid=\([0-9a-f]\{8\}\).*/\1/p' "$SB/tmp/dc-two.out" | head -n 1)
    ino=$(rec "${dc_sid:-none}" netns_ino)
    check_eq "it is alice's only session" "${dc_sid:-none}" "$(sids_of 2101)"
    check "nsu2101 is there" ip link show dev nsu2101
    check_eq "the sleep runs in the session's namespace" 1 "$(sleepers_in "${ino:-none}")"
    t0=$EPOCHREALTIME
    kill -9 "$DC_SSH"
    check "kill -9 of the ssh client: nsu2101 goes" wait_until 30 link_absent nsu2101
    ms=$(ms_since "$t0")
    echo "#   (veth gone $ms ms after the kill)"
    check "... the record is gone" wait_until 20 test ! -e "$SESS/${dc_sid:-none}"
    check "... and alice has no process left (nohup and setsid ones included)" \
        wait_until 30 bash -c '[[ -z $(pgrep -u alice) ]]'
    check_eq "... no veth of ns-shell is left on nsbr0" "" \
        "$(ip -o link show master nsbr0 2>/dev/null)"
else
    sandbox_not_ok "an interactive ssh -tt session runs 'sleep 100' (alice's only login)" \
        "$(cat "$SB/tmp/dc-two.err" "$SB/tmp/dc-two.out" 2>&1)"
fi
dc_end two
check_eq "sshd is still running" sshd "$(cat "/proc/$SB_SSHD_PID/comm" 2>&1)"

sandbox_finish
