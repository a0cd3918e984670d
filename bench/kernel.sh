#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/kernel.sh [M] — what the kernel does of a login, call by call
# (`make bench-kernel`). Needs root, perf(1) (Debian: linux-perf), a kernel
# with tracefs, build/fault/pam_ns.so (the test build's trace points) and
# build/ns-bench (this machine's cost of a page fault).
#
# In the same throwaway sandbox as the tests and the bench, with a login of
# bob held open (su), M (default 20) runs each, every run under
# `perf record -k CLOCK_MONOTONIC` of raw_syscalls:sys_enter/sys_exit and
# page-faults:
#   1. pamtester open_session/close_session of alice through the test
#      build of pam_ns: per step of open_session (the trace points of
#      make bench-steps), its system calls, their time inside the kernel,
#      its page faults, and what is left in user space;
#   2. `ns-shell -c /bin/true` as bob inside his session, next to
#      `unshare -p -f --mount-proc -i -u -m /bin/sh -c /bin/true` and the
#      same unshare running `/bin/true` (system-wide: the kernel drops a
#      task's own perf events when it executes a setuid program): every
#      system call by name, summed over all processes of the run, and the
#      difference call by call.
# bench/kernel.py makes the tables. Tracing slows each call by about a
# microsecond: compare the rows, not the totals with make bench.
set -u -o pipefail
M=${1:-20}
[[ $M =~ ^[0-9]+$ ]] && (( M >= 3 )) || { echo "usage: bench/kernel.sh [M >= 3]" >&2; exit 2; }

# shellcheck source=../tests/integration/sandbox.sh
. "$(dirname "$0")/../tests/integration/sandbox.sh" || exit 1
FAULT_SO=$NS_BUILD/fault/pam_ns.so
for f in "$FAULT_SO" "$NS_BUILD/ns-bench"; do
    [[ -f $f ]] || { echo "bench-kernel: $f is missing: run 'make bench-kernel'" >&2; exit 1; }
done
PERF=$(command -v perf) || { echo "bench-kernel: perf(1) is missing (Debian: apt-get install linux-perf)" >&2; exit 1; }
sandbox_enter "$0" "$@"
# shellcheck source=../tests/integration/lib.sh
. "$(dirname "$0")/../tests/integration/lib.sh" || exit 1

# The sandbox's /sys is its own: tracefs goes on it (private mount namespace).
if [[ ! -d /sys/kernel/tracing/events/raw_syscalls ]]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
        { echo "bench-kernel: cannot mount tracefs (no tracing in this kernel?)" >&2; exit 1; }
fi
[[ -d /sys/kernel/tracing/events/raw_syscalls ]] ||
    { echo "bench-kernel: this kernel has no raw_syscalls tracepoints" >&2; exit 1; }
read -r FAULT_US _ < <("$NS_BUILD/ns-bench" --machine) || { echo "bench-kernel: ns-bench --machine failed" >&2; exit 1; }

sandbox_install_ns_shell "$NS_BUILD/ns-shell"
add_users 2001 alice bob
PAM_NS_MODULE=$FAULT_SO pam_ns_alone nssteps
PAM_NS_ARGS='' pam_with_ns su    # bob's held login (shipped pam_ns.so)
sandbox_bench_conf 'shell = "/bin/sh"'
OUT=$SB/tmp/kernel
mkdir -p "$OUT/pam" "$OUT/ns-shell" "$OUT/unshare-sh" "$OUT/unshare" || exit 1
TRACE=$OUT/steps.trace
: >"$TRACE"
EVENTS=(-k CLOCK_MONOTONIC -e raw_syscalls:sys_enter -e raw_syscalls:sys_exit -e page-faults -c 1)
record() { # [-a] DIR/NAME COMMAND...: one run under perf, its events as text
    local all=()
    [[ $1 == -a ]] && { all=(-a); shift; }
    local out=$1; shift
    "$PERF" record -q "${all[@]}" "${EVENTS[@]}" -o "$out.data" -- "$@" >/dev/null 2>"$out.err" || { echo "bench-kernel: $* failed: $(tail -n 3 "$out.err")" >&2; return 1; }
    "$PERF" script -i "$out.data" -F comm,tid,time,event,trace --ns >"$out" 2>/dev/null || return 1
    rm -f "$out.data"
}

hold other bob
wait_until 20 held other ||
    { echo "bench-kernel: bob's login did not start: $(cat "$SB/tmp/hold-other.out")" >&2; exit 1; }
SUPID=${HOLD_PID[other]}
NSH=$SB/bin/ns-shell
UNSHARE=$(command -v unshare) || { echo "bench-kernel: unshare(1) is missing" >&2; exit 1; }

for (( i = 0; i <= M; i++ )); do
    wait_until 3 link_absent nsu2001 || { echo "bench-kernel: nsu2001 stays" >&2; exit 1; }
    if (( i == 0 )); then   # untraced: the lease is made
        pamtester nssteps alice open_session close_session >/dev/null 2>&1
    else
        NS_FAULT_TRACE=$TRACE record "$OUT/pam/$i" pamtester nssteps alice open_session close_session
    fi || { echo "bench-kernel: pamtester failed" >&2; tail -n 5 "$SB_SYSLOG" >&2; exit 1; }
done
# Warm the page cache for all three, then M runs each, interleaved.
for (( i = 0; i <= M; i++ )); do
    d=$OUT; (( i == 0 )) && d=$OUT/warm && mkdir -p "$d/ns-shell" "$d/unshare-sh" "$d/unshare"
    record -a "$d/ns-shell/$i" nsenter --net="/proc/$SUPID/ns/net" \
        setpriv --reuid bob --regid bob --init-groups "$NSH" -c /bin/true &&
    record -a "$d/unshare-sh/$i" nsenter --net="/proc/$SUPID/ns/net" \
        "$UNSHARE" -p -f --mount-proc -i -u -m /bin/sh -c /bin/true &&
    record -a "$d/unshare/$i" nsenter --net="/proc/$SUPID/ns/net" \
        "$UNSHARE" -p -f --mount-proc -i -u -m /bin/true || exit 1
done
release other

rm -f "$OUT"/*/*.err
PY=$SB_PYTHON; [[ -x $PY ]] || PY=python3
echo "this machine: a page fault costs F = $FAULT_US us (ns-bench --machine)"
echo
echo "pam_ns: open_session of a returning user (bridge, another login held), by step"
"$PY" "$NS_REPO/bench/kernel.py" steps --fault-us "$FAULT_US" "$TRACE" "$OUT"/pam/[0-9]* || exit 1
echo
echo "ns-shell -c /bin/true (as bob, in his session) and unshare(1) (as root), whole runs"
"$PY" "$NS_REPO/bench/kernel.py" cmds --fault-us "$FAULT_US" "ns-shell=$OUT/ns-shell" \
    "unshare+sh=$OUT/unshare-sh" "unshare=$OUT/unshare" || exit 1
SB_FINISHED=1
exit 0
