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
# the median of its duration (from the previous point) in microseconds and
# its share of the median total; kernel work is what the floor of
# `make bench` also does (namespace, nft table, veth, addresses, routes,
# setns), the rest is our bookkeeping.
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

add_users 2001 alice
PAM_NS_MODULE=$FAULT_SO pam_ns_alone nssteps
TRACE=$SB/tmp/steps.trace

# One network: M traced round trips, then the table.
steps_of() { # NETWORK
    sandbox_conf <<EOF
bridge         = "nsbr0"
create_bridge  = true
bridge_address = "10.213.0.1/16"
pool           = "10.213.0.0/16"
gateway        = "10.213.0.1"
isolate_ports  = true
default {
    network = "$1"
}
EOF
    [[ $1 == routed ]] && sysctl -qw net.ipv4.ip_forward=1
    : >"$TRACE"
    local i
    for (( i = 0; i <= M; i++ )); do
        wait_until 3 link_absent nsu2001 || { echo "bench-steps: nsu2001 stays" >&2; return 1; }
        if (( i == 0 )); then   # untimed: the lease is made
            pamtester nssteps alice open_session close_session >/dev/null 2>&1
        else
            NS_FAULT_TRACE=$TRACE pamtester nssteps alice open_session close_session >/dev/null 2>&1
        fi || { echo "bench-steps: pamtester failed ($1)" >&2; tail -n 5 "$SB_SYSLOG" >&2; return 1; }
    done
    echo "network = $1; microseconds, median of $M round trips of a returning user"
    "$PY" - "$TRACE" <<'PYEOF'
import statistics, sys
calls = {"open": [], "close": []}
cur = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line == "--":
        if cur:
            calls["open" if cur[0][0] == "open" else "close"].append(cur)
        cur = []
        continue
    point, us = line.rsplit(" ", 1)
    cur.append((point, float(us)))
for kind in ("open", "close"):
    runs = calls[kind]
    if not runs:
        sys.exit("bench-steps: no traced %s_session" % kind)
    names = [p for p, _ in runs[0]]
    steps = {}
    for run in runs:
        if [p for p, _ in run] != names:
            continue   # another path (should not happen for a returning user)
        for k in range(1, len(run)):
            steps.setdefault(k, []).append(run[k][1] - run[k - 1][1])
    total = statistics.median(run[-1][1] for run in runs)
    print("  %s_session: total %.0f us" % (kind, total))
    for k in sorted(steps):
        med = statistics.median(steps[k])
        print("    %-34s %8.0f  %5.1f%%" % (names[k], med, 100.0 * med / total if total else 0))
PYEOF
}

steps_of bridge || exit 1
echo
steps_of routed || exit 1
SB_FINISHED=1
exit 0
