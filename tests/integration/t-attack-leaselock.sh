#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The global lease lock held hostage (issue #11, hole 4). An unprivileged
# user runs `su` (setuid, her real uid) from a process state she chose:
# nice 19, SCHED_IDLE, one CPU, tiny rlimits, signals ignored and blocked.
# The work under the "leases" lock then runs in a worker forked from her su;
# before the fix it kept all of that (a SCHED_IDLE, nice 19 holder on one
# busy CPU starves every other login; in a cgroup she may freeze, it can be
# frozen with the lock held). The fault build pauses the worker right after
# it took the lock (NS_FAULT_PAUSE=leases-locked), and root looks at it:
# root's ids, default limits, SCHED_OTHER, nice 0, every CPU, PID 1's
# cgroups, not stoppable by her; meanwhile another user's login waits at
# most for the pause, never for her.
# shellcheck disable=SC2016,SC2034,SC2119  # single-quoted remote commands; shared helpers
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

FAULT_SO=$NS_BUILD/fault/pam_ns.so
[[ -f $FAULT_SO ]] || sandbox_die "no $FAULT_SO (run: make build/fault/pam_ns.so)"

sandbox_install_ns_shell
add_users 2001 alice bob
PAM_NS_MODULE=$FAULT_SO PAM_NS_ARGS='' pam_with_ns su
pam_with_ns nstest
printf 'default { network = "bridge" }\n' | sandbox_conf

check "control: alice's su logs in (fault build, no pause)" \
    bash -c "printf '%s\n' '$SB_USER_PASSWORD' | setpriv --reuid=alice --regid=alice --init-groups su alice -c true"

# alice's su, paused in the worker with the leases lock held
printf '%s\n' "$SB_USER_PASSWORD" | setpriv --reuid=alice --regid=alice --init-groups \
    env NS_FAULT_PAUSE=leases-locked "$PY" -I "$SB/bin/hostile.py" su alice -c "touch $X/a-in" \
    > >(cat >"$SB/tmp/a.out") 2>&1 &   # a pipe: hostile.py's RLIMIT_FSIZE 1 would cut a file short
APID=$!
holder() { # the pid holding the leases lock
    local ino
    ino=$(stat -c %i /run/ns-shell/lock/leases 2>/dev/null) || return 1
    awk -v i=":$ino\$" '$2 == "FLOCK" && $6 ~ i { print $5 }' /proc/locks | head -n 1
}
has_holder() { [[ -n $(holder) ]]; }
check "alice's su takes the leases lock (the worker is paused holding it)" wait_until 5 has_holder
w=$(holder)
check_fail "... held by a worker, not by her su itself" test "$w" = "$(pgrep -U alice -x su | head -n 1)"
check_eq "the worker: real, effective, saved and fs uid 0" "0 0 0 0" "$(status_of "$w" Uid)"
check_eq "... no supplementary groups" "" "$(status_of "$w" Groups)"
check_eq "... nice 0 (not her 19)" 0 "$(stat_field "$w" 19)"
check_eq "... SCHED_OTHER (not her SCHED_IDLE)" 0 "$(stat_field "$w" 41)"
check_eq "... on every CPU PID 1 may use (not her one)" "$(status_of 1 Cpus_allowed_list)" \
    "$(status_of "$w" Cpus_allowed_list)"
check_eq "... open files 1024:4096 (not her 64)" "1024 4096" "$(limit_of "$w" "Max open files")"
check_eq "... CPU time unlimited (not her 60 s)" "unlimited unlimited" "$(limit_of "$w" "Max cpu time")"
check_eq "... in PID 1's cgroups (none she could freeze)" "$(cat /proc/1/cgroup)" "$(cat "/proc/$w/cgroup")"
check_eq "... in a session of its own" "$w" "$(stat_field "$w" 6)"
out=$(setpriv --reuid=alice --regid=alice --init-groups kill -STOP "$w" 2>&1)
check_match "alice cannot SIGSTOP the worker" 'Operation not permitted' "$out"
check_eq "... which is not stopped" "S" "$(stat_field "$w" 3 | tr R S)"
# bob's login waits for the lock only as long as the pause, then goes in
start=$(date +%s%N)
rc=0
pamtester nstest bob open_session close_session >/dev/null 2>&1 || rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "bob's login goes through while alice's su is hostile (${took} ms)" 0 "$rc"
check "... within the worker's 3 s pause (plus slack), never blocked by alice until the 10 s lock timeout" test "$took" -lt 9000
wait "$APID"
check "alice's paused login completes" test -e "$X/a-in"
check_fail "... no process still holds the leases lock" has_holder

sandbox_finish
