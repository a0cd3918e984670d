#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/steps.sh [M] — where pam_ns's open_session and close_session spend
# their time, step by step (`make bench-steps`). Needs root and
# build/fault/pam_ns.so (the test build: its fault points and ns_trace()
# points are timed in memory when $NS_FAULT_TRACE names a file, and the
# times are appended there at the end of each call; shipped builds have no
# such code).
#
# In the same throwaway sandbox as the tests and the bench, for each
# network (bridge, routed): M (default 40) round trips of pamtester
# open_session/close_session for one returning user (the first, untimed,
# makes her lease), each after her previous veth is gone. Prints, per step,
# the median of its duration (from the previous point) in microseconds, its
# share of the median total, and the median CPU time of the calling thread
# in that step (user + kernel; what a loaded machine does not inflate: wall
# minus CPU is time spent off the CPU, sleeping in the kernel or waiting for
# it) and its page faults (first touches of code and data: a process that
# sshd or su has just started pays them on every login); kernel work is what the floor of `make bench` also does (namespace,
# nft table, veth, addresses, routes, setns), the rest is our bookkeeping.
set -u -o pipefail
M=${1:-40}
[[ $M =~ ^[0-9]+$ ]] && (( M >= 5 )) || { echo "usage: bench/steps.sh [M >= 5]" >&2; exit 2; }

# shellcheck source=../tests/integration/sandbox.sh
. "$(dirname "$0")/../tests/integration/sandbox.sh" || exit 1
FAULT_SO=$NS_BUILD/fault/pam_ns.so
[[ -f $FAULT_SO ]] || { echo "bench-steps: $FAULT_SO is missing: run 'make build/fault/pam_ns.so'" >&2; exit 1; }
sandbox_enter "$0" "$@"
# shellcheck source=../tests/integration/lib.sh
. "$(dirname "$0")/../tests/integration/lib.sh" || exit 1

sandbox_install_ns_shell "$NS_BUILD/ns-shell"
add_users 2001 alice bob
PAM_NS_MODULE=$FAULT_SO pam_ns_alone nssteps
PAM_NS_ARGS='' pam_with_ns su    # bob's held login (shipped pam_ns.so)
TRACE=$SB/tmp/steps.trace

# One network: M traced round trips, then the table. With "held", bob's
# login (su) stays open meanwhile: the kernel's netfilter hooks are then in
# use already, as on any host with a firewall or one other login (the first
# guard table of the machine switches them on: kernel code patching).
steps_of() { # NETWORK [held]
    sandbox_bench_conf "network = \"$1\""
    [[ $1 == routed ]] && sysctl -qw net.ipv4.ip_forward=1
    : >"$TRACE"
    if [[ ${2:-} == held ]]; then
        hold other bob
        wait_until 20 held other ||
            { echo "bench-steps: bob's login did not start: $(cat "$SB/tmp/hold-other.out")" >&2; return 1; }
    fi
    local i
    for (( i = 0; i <= M; i++ )); do
        wait_until 3 link_absent nsu2001 || { echo "bench-steps: nsu2001 stays" >&2; return 1; }
        if (( i == 0 )); then   # untimed: the lease is made
            pamtester nssteps alice open_session close_session >/dev/null 2>&1
        else
            NS_FAULT_TRACE=$TRACE pamtester nssteps alice open_session close_session >/dev/null 2>&1
        fi || { echo "bench-steps: pamtester failed ($1)" >&2; tail -n 5 "$SB_SYSLOG" >&2; return 1; }
    done
    [[ ${2:-} == held ]] && release other
    echo "network = $1${2:+, with the login of another user held open}; microseconds, median of $M round trips of a returning user"
    "$PY" - "$TRACE" <<'PYEOF'
import statistics, sys
calls = {"open": [], "close": []}
cur = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("@ "):   # thread and start (make bench-kernel)
        continue
    if line == "--":
        if cur:
            calls["open" if cur[0][0] == "open" else "close"].append(cur)
        cur = []
        continue
    point, wall, cpu, faults = line.rsplit(" ", 3)
    cur.append((point, float(wall), float(cpu), int(faults)))
for kind in ("open", "close"):
    runs = calls[kind]
    if not runs:
        sys.exit("bench-steps: no traced %s_session" % kind)
    names = [r[0] for r in runs[0]]
    runs = [run for run in runs if [r[0] for r in run] == names]   # one path only
    total = statistics.median(run[-1][1] for run in runs)
    total_cpu = statistics.median(run[-1][2] for run in runs)
    total_flt = statistics.median(run[-1][3] for run in runs)
    print("  %s_session: total %.0f us wall, %.0f us CPU, %.0f page faults (%d runs)"
          % (kind, total, total_cpu, total_flt, len(runs)))
    print("    %-34s %8s %6s %8s %7s" % ("step (from the previous point)", "wall", "share", "CPU", "faults"))
    for k in range(1, len(names)):
        wall = statistics.median(run[k][1] - run[k - 1][1] for run in runs)
        cpu = statistics.median(run[k][2] - run[k - 1][2] for run in runs)
        flt = statistics.median(run[k][3] - run[k - 1][3] for run in runs)
        print("    %-34s %8.0f %5.1f%% %8.0f %7.0f" % (names[k], wall, 100.0 * wall / total if total else 0, cpu, flt))
PYEOF
}

steps_of bridge || exit 1
echo
steps_of bridge held || exit 1
echo
steps_of routed held || exit 1
SB_FINISHED=1
exit 0
