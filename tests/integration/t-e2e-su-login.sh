#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: the non-ssh ways in, with the real programs: su - USER and
# su USER -c CMD from root (pam_ns.so in the su stack, su-l including su as
# on Debian), and login(1) on a pty (login -f, pam_ns.so in the login
# stack). Each lands in the user's network namespace and runs ns-shell, and
# leaves nothing behind.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted login commands; shared helpers and variables, called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2501
sandbox_conf <"$NS_REPO/conf/ns.conf"
# As on Debian (conf/pam.d/su, su-l): the module in su; su-l includes su.
PAM_NS_ARGS='' pam_with_ns su
sandbox_pam su-l <<'EOF'
auth     include su
account  include su
password include su
session  include su
EOF
pam_sshd_ns login
INFO='echo "comm1=$(cat /proc/1/comm) arg0=$0 host=$(hostname) pwd=$PWD net=$(readlink /proc/self/ns/net) rec=net:[$(sed -n "s/^netns_ino=//p" /run/ns-shell/sessions/$NS_SHELL_SESSION)] sid=$NS_SHELL_SESSION"; ip -4 -br addr show dev eth0'
logged() { grep -c "pam_ns($1:session): alice (uid 2501): session [0-9a-f]\{8\} in network namespace ns-alice" "$SB_SYSLOG"; }
# check_info DESC TEXT ARG0 : what $INFO printed, against alice's lease
check_info() {
    check_match "$1: PID 1 is ns-shell, \$0 $3, host name alice, in her home" \
        "comm1=ns-shell arg0=$3 host=alice pwd=/home/alice " "$2"
    check_match "$1: in the network namespace of its own session record" \
        'net=(net:\[[0-9]+\]) rec=\1 sid=[0-9a-f]{8}' "$2"
    check_match "$1: eth0 holds alice's lease" "eth0(@[^ ]*)? +UP +$(lease_of alice)/16" "$2"
}

# ------------------------------------------------------ su - alice -c ---
n0=$(logged su-l)
run su - alice -c "$INFO; exit 3"
check_eq "su - alice -c '...; exit 3': the status is 3" 3 "$RC"
check_info "su - alice -c" "$OUT" -bash
log_sync
check_eq "pam_ns logged one su-l session (su-l includes su)" 1 $(( $(logged su-l) - n0 ))
check "no record of alice is left" wait_until 20 has_n_records_of 2501 0
check "nsu2501 goes" wait_until 30 link_absent nsu2501

# ------------------------------------------------------- su alice -c ---
n0=$(logged su)
echo data >"$SB/tmp/in"
RUN_IN=$SB/tmp/in run su alice -c "cat; $INFO; echo err >&2; exit 4"
check_eq "su alice -c 'cat; ...; exit 4': stdin, stdout, stderr and status 4 pass" "data err 4" \
    "$(head -n 1 <<<"$OUT") $ERR $RC"
check_info "su alice -c" "$OUT" bash
log_sync
check_eq "pam_ns logged one su session" 1 $(( $(logged su) - n0 ))
check "no record of alice is left" wait_until 20 has_n_records_of 2501 0
settle 2501

# --------------------------------------------- su - alice on a terminal ---
cat >"$SB/tmp/su.script" <<EOF
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send $INFO; echo I-\$((2*3))\r
expect I-6
send sleep 100 &\r
send jobs; echo J-\$((3*4))\r
expect J-12
sync $SB/tmp/su
send kill %1; wait %1; echo K-\$?\r
expect K-143
send exit 3\r
EOF
"$PY" "$SB/bin/expect.py" "$SB/tmp/su.script" "$SB/tmp/su.out" -- su - alice >"$SB/tmp/su.err" 2>&1 &
exp=$!
if wait_until 20 test -e "$SB/tmp/su.ready"; then
    sid=$(sids_of 2501)
    sleeper=$(pgrep -u alice -fx 'sleep 100')
    check_eq "su - alice on a pty: her background job runs in her session's namespace" \
        "$(rec "$sid" netns_ino)" "$(netns_of_pid "${sleeper:-0}" 2>&1)"
    check_eq "... the record's owner is the su process (root)" "su 0" \
        "$(cat "/proc/$(rec "$sid" owner_pid)/comm" 2>&1) $(stat -c %u "/proc/$(rec "$sid" owner_pid)" 2>&1)"
else
    sandbox_not_ok "su - alice on a pty reached its sync point" "$(cat "$SB/tmp/su.err" "$SB/tmp/su.out")"
fi
: >"$SB/tmp/su.go"
rc=0; wait "$exp" || rc=$?
t=$(cat "$SB/tmp/su.out")
check_eq "su - alice on a pty: 'exit 3' at the prompt gives 3" 3 "$rc"
check_info "su - alice on a pty" "$t" -bash
check_match "... job control: jobs lists the background job" '\[1\]\+ +Running +sleep 100 &' "$t"
# (wait %1 gives the job's status: 143 = killed by SIGTERM. bash's own
# "[1]+ Terminated" line is not printed when wait reaps the job first.)
check_match "... kill %1 ends it (wait %1: status 143, SIGTERM)" '(^|
)K-143' "$t"
check "no record of alice is left" wait_until 20 has_n_records_of 2501 0
check "nsu2501 goes" wait_until 30 link_absent nsu2501

# ------------------------------------------------------- login on a pty ---
cat >"$SB/tmp/login.script" <<EOF
expect [\$#] \$
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send $INFO; echo tty=\$(tty); echo I-\$((2*3))\r
expect I-6
sync $SB/tmp/login
send exit\r
EOF
n0=$(logged login)
"$PY" "$SB/bin/expect.py" "$SB/tmp/login.script" "$SB/tmp/login.out" -- login -f alice \
    >"$SB/tmp/login.err" 2>&1 &
exp=$!
if wait_until 20 test -e "$SB/tmp/login.ready"; then
    sid=$(sids_of 2501)
    owner=$(rec "$sid" owner_pid)
    check_eq "login -f alice: one session record" 1 "$(wc -w <<<"$sid")"
    check_eq "... its owner is the login process (root)" "login 0" \
        "$(cat "/proc/$owner/comm" 2>&1) $(stat -c %u "/proc/$owner" 2>&1)"
    check "... which is in the host's PID namespace, her shell is not" \
        test "$(pidns_of_pid "$owner")" == "$HOSTPID" -a \
             "$(pidns_of_pid "$(pgrep -u alice -x bash | head -n 1)" 2>&1)" != "$HOSTPID"
else
    sandbox_not_ok "login -f alice on a pty reached its sync point" \
        "$(cat "$SB/tmp/login.err" "$SB/tmp/login.out")"
fi
: >"$SB/tmp/login.go"
wait "$exp"
t=$(cat "$SB/tmp/login.out")
check_info "login -f alice on a pty" "$t" -bash
check_match "... the shell's terminal is a pty" 'tty=/dev/pts/[0-9]+' "$t"
log_sync
check_eq "pam_ns logged one login session" 1 $(( $(logged login) - n0 ))
check "after logout no record of alice is left" wait_until 20 has_n_records_of 2501 0
check "nsu2501 goes" wait_until 30 link_absent nsu2501
check "alice has no process left" wait_until 20 no_user_procs alice

sandbox_finish
