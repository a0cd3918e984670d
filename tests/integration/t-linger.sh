#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Login-node life (issue #15): with linger = true (the default) what a user
# starts outlives the login, as with plain sshd: tmux, nohup and setsid jobs
# survive a logout over real OpenSSH, the login's PID 1 (ns-shell's reaper)
# stays while any of them runs, the namespace and address stay in use, the
# next login joins the same network namespace and attaches to tmux; nsctl
# status lists what lingers, nsctl terminate ends it and the kernel frees
# the namespace; nsctl gc leaves it alone, also after a kill -9 of sshd.
# Another user reaches none of it. With linger = false, logout ends every
# process of the login, and after a kill -9 of sshd nsctl gc ends what runs;
# eight concurrent su logins of one user (one namespace) are each tied to
# their own PAM session, so one logout and a gc end none of the others.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317  # remote commands in single quotes; shared helpers
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2601
sandbox_add_user bob 2602
sandbox_conf <"$NS_REPO/conf/ns.conf"
check "the shipped ns.conf says linger = true" grep -q '^    linger = true$' /etc/security/ns.conf
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
sandbox_ssh_authorize bob
command -v tmux >/dev/null || sandbox_die "tmux is not installed (make deps)"
command -v screen >/dev/null || sandbox_die "screen is not installed (make deps)"
# /run is the sandbox's own tmpfs: make screen's directory as its package does
mkdir -m 1777 /run/screen && chgrp utmp /run/screen || sandbox_die "cannot make /run/screen"

STATE=/run/ns-shell
check_no_match() { # DESC REGEX TEXT
    if grep -Eq -- "$2" <<<"$3"; then sandbox_not_ok "$1" "matched: $2"; else sandbox_ok "$1"; fi
}
procs_of() { pgrep -u "$1" -f "$2" 2>/dev/null | head -n 1; }
has_procs() { [[ -n $(procs_of "$1" "$2") ]]; }   # USER PATTERN (poll it with wait_until)
logins_of() { # UID : reaper records of the user
    local f
    for f in "$STATE"/logins/*; do
        [[ -f $f ]] && grep -qx "uid=$1" "$f" && basename "$f"
    done
    return 0
}

# ------------------------------------------------ linger = true: survive ---
# (screen names its socket after its pid: forty processes first, so that
# this pid is not one the next login's PID namespace has too)
as_ssh alice 'tmux new-session -d -s work "sleep 600"; nohup sleep 601 >/dev/null 2>&1 &
setsid sleep 602 </dev/null >/dev/null 2>&1 & readlink /proc/self/ns/net; ip -4 -o addr show dev eth0
for i in $(seq 40); do /bin/true; done; screen -dmS scr sleep 604'
check_eq "alice's first login: exit 0" 0 "$AS_RC"
net1=$(sed -n 1p <<<"$AS_OUT")
addr1=$(awk 'NR == 2 { print $4 }' <<<"$AS_OUT")
check_match "... she had an address on eth0" '^10\.213\.' "$addr1"
check "after logout: her tmux server runs" wait_until 10 has_procs alice 'tmux new-session'
check "... and so do her nohup and setsid jobs" \
    wait_until 10 bash -c "pgrep -u alice -fx 'sleep 601' && pgrep -u alice -fx 'sleep 602'"
check "... and her screen session" wait_until 10 pgrep -u alice -fx 'sleep 604'
check "... her PAM session record is gone (the session ended)" wait_until 20 has_n_records_of 2601 0
check "... a reaper record says her login lingers" test -n "$(logins_of 2601)"
lpid=$(procs_of alice 'sleep 602')
check_eq "... the lingering processes are in her network namespace" "$net1" "$(readlink "/proc/$lpid/ns/net")"
check "... nsu2601 is still on the bridge" ip link show dev nsu2601
out=$("$NSCTL" status 2>&1)
check_match "nsctl status lists alice under LINGERING" $'LINGERING[^\n]*\n[^\n]*\nalice +2601 ' "$out"
json=$("$NSCTL" status --json)
check "nsctl status --json: one lingering entry for alice with processes > 0" "$SB_PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1])
l = [x for x in d["lingering"] if x["user"] == "alice"]
assert len(l) == 1 and l[0]["processes"] >= 3, l
assert not [s for s in d["sessions"] if s["user"] == "alice"], d["sessions"]' "$json"

# the next login joins the namespace and reaches what lingers
as_ssh alice 'readlink /proc/self/ns/net; ip -4 -o addr show dev eth0; tmux has-session -t work && echo HAS-WORK; tmux ls'
check_eq "alice's next login: same network namespace" "$net1" "$(sed -n 1p <<<"$AS_OUT")"
check_eq "... same address" "$addr1" "$(awk 'NR == 2 { print $4 }' <<<"$AS_OUT")"
check_match "... and tmux has-session -t work finds her session" 'HAS-WORK' "$AS_OUT"
as_ssh alice 'screen -ls; screen -S scr -X title renamed && echo SCREEN-REACHED'
check_match "... screen -ls lists her screen as Detached (not Dead)" '[0-9]+\.scr[[:space:]].*\(Detached\)' "$AS_OUT"
check_match "... and screen -S scr -X reaches it" 'SCREEN-REACHED' "$AS_OUT"
as_ssh alice 'kill -0 1 && ps -e -o comm= | grep -c sleep'
check_eq "... but her new login's PID namespace is its own (no sleep of the old one in its /proc)" "0" \
    "$(tail -n 1 <<<"$AS_OUT")"

# another user reaches none of it
as_ssh bob "readlink /proc/self/ns/net; tmux -S /tmp/tmux-2601/default ls 2>&1; kill -0 $lpid 2>&1; echo rc=\$?"
check "bob's login is in another network namespace" test "$(sed -n 1p <<<"$AS_OUT")" != "$net1"
check_no_match "... cannot use alice's tmux socket" 'work:' "$AS_OUT"
check_match "... and cannot signal her lingering process" 'rc=1' "$AS_OUT"

# nsctl gc leaves lingering processes alone
"$NSCTL" gc >/dev/null 2>&1
check "nsctl gc: alice's lingering jobs still run" pgrep -u alice -fx 'sleep 602'
check "... and her reaper record stays" test -n "$(logins_of 2601)"

# nsctl terminate ends them; the kernel frees the namespace and the veth
out=$("$NSCTL" terminate alice 2>&1)
check_match "nsctl terminate alice: says what it ended" '^terminated [1-9][0-9]* login' "$out"
check "... no process of alice is left" wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
check "... nsu2601 goes with the namespace" wait_until 30 link_absent nsu2601
check "... no lingering entry is left after gc" bash -c "'$NSCTL' gc >/dev/null; [[ -z \$(ls '$STATE/logins') ]]"
check_fail "nsctl terminate with no user: usage error" "$NSCTL" terminate

# ------------------------- linger = true: a killed client, netns = session ---
# The client of alice's second login vanishes mid-command: the login goes on
# (its PID 1 and the command) and keeps its extra address; a new login of
# another user never gets that address (the hostile review's F1), and the
# lingering login counts against max_sessions (F2).
sed 's/^    netns       = "user"$/    netns       = "session"/; s/^    max_sessions = 64$/    max_sessions = 2/' "$NS_REPO/conf/ns.conf" | sandbox_conf
check "the config says netns = session, max_sessions = 2" bash -c "grep -q '^    max_sessions = 2\$' /etc/security/ns.conf && grep -q '^    netns       = \"session\"\$' /etc/security/ns.conf"
X=$SB/x            # a marker the test users can see
mkdir -p -m 1777 "$X"
: >"$X/hold1"
timeout -k 2 60 "${SB_SSH[@]}" alice@127.0.0.1 "while [ -e $X/hold1 ]; do sleep 0.05; done" </dev/null >/dev/null 2>&1 &
hpid=$!
check "alice's first session is open" wait_until 10 has_n_records_of 2601 1
timeout -k 2 60 "${SB_SSH[@]}" alice@127.0.0.1 'exec sleep 603' </dev/null >/dev/null 2>&1 &
kpid=$!
check "a second session of alice runs sleep 603" wait_until 10 pgrep -u alice -fx 'sleep 603'
spid=$(pgrep -u alice -fx 'sleep 603')
addr2=$(nsenter -t "$spid" -n ip -4 -o addr show dev eth0 | awk '{ print $4 }')
check_match "... with an extra address of its own" '^10\.213\.' "$addr2"

pkill -9 -P "$kpid" -x ssh     # the client itself, not the timeout(1) around it
check "kill -9 of that ssh client: its PAM session record goes" wait_until 20 has_n_records_of 2601 1
check "... but sleep 603 lives on (linger)" pgrep -u alice -fx 'sleep 603'
check "... and alice's lease for it (tagged with that session) stays" grep -q " ${addr2%/*} .* [0-9a-f]\{8\}$" <(lease_lines)
as_ssh alice 'true'
check "a third login of alice is refused: the lingering one counts (max_sessions = 2)" test "$AS_RC" != 0
check "... and the log names max_sessions" sandbox_log_wait 'alice has 2 open sessions \(max_sessions = 2\)' 10
as_ssh bob 'ip -4 -o addr show dev eth0'
check_no_match "bob's login does not get the lingering login's address (${addr2%/*})" " ${addr2%/*}/" "$AS_OUT"
"$NSCTL" terminate alice >/dev/null
check "terminate: sleep 603 is gone" wait_until 20 bash -c '! pgrep -u alice -fx "sleep 603"'
rm -f "$X/hold1"
wait "$hpid" 2>/dev/null
check "no process of alice is left" wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
sandbox_conf <"$NS_REPO/conf/ns.conf"

# ----------------------- linger = true: kill -9 of sshd, then nsctl gc ---
timeout -k 2 60 "${SB_SSH[@]}" alice@127.0.0.1 'tmux new-session -d -s k9 "sleep 630"; exec sleep 300' \
    </dev/null >/dev/null 2>&1 &
k9=$!
check "linger = true: a login with a tmux session runs" wait_until 10 pgrep -u alice -fx 'sleep 630'
pkill -9 -f '^sshd: alice' ; wait "$k9" 2>/dev/null
check "... kill -9 of its sshd processes" wait_until 20 bash -c '! pgrep -f "^sshd: alice" >/dev/null'
out=$("$NSCTL" gc 2>&1)
check_no_match "nsctl gc ends no lingering login (linger = true)" 'ended login' "$out"
check "... her tmux session still runs" pgrep -u alice -fx 'sleep 630'
"$NSCTL" terminate alice >/dev/null
check "... until nsctl terminate" wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
"$NSCTL" gc >/dev/null 2>&1

# ----------------------------------------------------- linger = false ---
sed 's/^    linger = true$/    linger = false/' "$NS_REPO/conf/ns.conf" | sandbox_conf
as_ssh alice 'tmux new-session -d -s work "sleep 610"; nohup sleep 611 >/dev/null 2>&1 &
setsid sleep 612 </dev/null >/dev/null 2>&1 & screen -dmS scr sleep 613; echo started'
check_eq "linger = false: the login ran" "0 started" "$AS_RC $AS_OUT"
check "... logout ends every process of the login (tmux, nohup, setsid, screen)" \
    wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
check "... and no reaper record is left" wait_until 20 bash -c "[[ -z \$(ls '$STATE/logins') ]]"
check "... nsu2601 goes" wait_until 30 link_absent nsu2601

# kill -9 of sshd under a running command: pam_close_session never runs and
# the command goes on; nsctl gc ends that login (its session is gone)
timeout -k 2 60 "${SB_SSH[@]}" alice@127.0.0.1 'setsid sleep 631 </dev/null >/dev/null 2>&1 & exec sleep 632' \
    </dev/null >/dev/null 2>&1 &
k9=$!
check "linger = false: a login runs sleep 631 (setsid) and 632" \
    wait_until 10 bash -c 'pgrep -u alice -fx "sleep 631" && pgrep -u alice -fx "sleep 632"'
pkill -9 -f '^sshd: alice' ; wait "$k9" 2>/dev/null
check "... kill -9 of its sshd processes: the command goes on" \
    wait_until 10 bash -c '! pgrep -f "^sshd: alice" >/dev/null && pgrep -u alice -fx "sleep 632" >/dev/null'
out=$("$NSCTL" gc 2>&1)
check_match "nsctl gc ends that login (linger = false, its session gone)" \
    'ended login [0-9a-f]{8} of alice: linger = false and its session [0-9a-f]{8} is gone' "$out"
check "... every process of it is gone" wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
check "... and so is nsu2601" wait_until 30 link_absent nsu2601
out=$("$NSCTL" gc 2>&1)
check_no_match "... a second gc finds no login to end" 'ended login' "$out"

# Several logins of one user share her network namespace (netns = "user"):
# each login is tied to its own PAM session (pam_ns's NS_SHELL_SESSION picks
# it among the records of that namespace), so gc ends none of them while its
# own session is open.
printf 'default {\n    linger = false\n}\n' | sandbox_conf
pam_with_ns su
T="c1 c2 c3 c4 c5 c6 c7 c8"
for t in $T; do hold "$t" bob 'echo "ENV=$NS_SHELL_SESSION"'; done
for t in $T; do wait_until 30 held "$t" || sandbox_die "bob's login $t did not start"; done
sid_of_su() { grep -lx "owner_pid=$1" "$STATE"/sessions/* 2>/dev/null | xargs -r -n 1 basename; }
wrong="" named=""
for t in $T; do
    s=$(sid_of_su "${HOLD_PID[$t]}")
    [[ -n $s && $(sed -n 's/^ENV=//p' "$SB/tmp/hold-$t.out") == "$s" ]] || wrong+=" $t"
    [[ $(grep -lx "session=$s" "$STATE"/logins/* 2>/dev/null | wc -l) == 1 ]] || named+=" $t"
done
check_eq "8 concurrent logins of bob in one namespace: each shell's NS_SHELL_SESSION is its own PAM session" "" "$wrong"
check_eq "... and each PAM session is named by exactly one login record" "" "$named"
release c1
out=$("$NSCTL" gc 2>&1)
check_no_match "... after one logout, nsctl gc ends none of the other seven" 'ended login' "$out"
alive=0
for t in c2 c3 c4 c5 c6 c7 c8; do kill -0 "${HOLD_PID[$t]}" 2>/dev/null && held "$t" && alive=$((alive + 1)); done
check_eq "... which all still run" 7 "$alive"
release c2 c3 c4 c5 c6 c7 c8

sandbox_finish
