#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/run.sh [--quick] — the login-latency benchmark (`make bench`,
# `make bench QUICK=1`). Needs root and a built tree (build/ns-bench,
# build/pam_ns.so, build/ns-shell).
#
# It runs in the same throwaway sandbox as the integration tests
# (tests/integration/sandbox.sh: new net/mount/PID/UTS/IPC namespaces, tmpfs
# /run, overlays on /etc /var /tmp, copied account files), so nothing it
# creates — 1000 users, their sessions, namespaces, veths, the bridge — ever
# reaches the real host, and everything goes when it exits. In there it adds
# the bench user and the holders u0..u999, writes ns.conf and a PAM service
# file in a directory of its own, installs ns-shell setuid as the users'
# shell, and runs build/ns-bench, which prints one table (stdout) and its
# progress (stderr). The tables are also kept in build/bench.txt and drawn
# by bench/plot.py in build/bench.svg (README's docs/bench.svg is one).
#
#   full:   bridge: N = 0, 100, 1000 sessions held, then
#           routed: N = 0, 1000, 5000;          M = 40 round trips each
#   --quick N = 0, 100 for each network;        M = 40
# Two tables: network = "bridge", then network = "routed" (the bridge has at
# most 1,023 ports, so 5,000 is measured routed only).
#
# Exit status: 0 when the bench ran to the end, 1 on any failure (the
# product's own message is printed; pam_ns's reasons are in the sandbox
# syslog, shown on failure).
set -u -o pipefail

QUICK=0
for a in "$@"; do
    case $a in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
    esac
done

# shellcheck source=../tests/integration/sandbox.sh
. "$(dirname "$0")/../tests/integration/sandbox.sh" || exit 1
NS_BENCH=$NS_BUILD/ns-bench
for f in "$NS_BENCH" "$NS_BUILD/ns-shell" "$PAM_NS_SO"; do
    if [[ ! -e $f ]]; then
        echo "bench: $f is missing: run 'make bench' (or 'make all build/ns-bench')" >&2
        exit 1
    fi
done

# Outside the sandbox (it writes nothing to the real disk), once: run the
# bench as a child, keep its stdout — the tables — in $NS_BUILD/bench.txt
# while showing it, then draw them (bench/plot.py) in $NS_BUILD/bench.svg.
# The child, marked by NS_BENCH_CHILD, goes on to sandbox_enter below.
if [[ ${NS_SB_INNER:-} != 1 && ${NS_BENCH_CHILD:-} != 1 ]]; then
    rm -f "$NS_BUILD/bench.txt" "$NS_BUILD/bench.svg"
    NS_BENCH_CHILD=1 "$BASH" "$0" "$@" | tee "$NS_BUILD/bench.txt"
    st=("${PIPESTATUS[@]}")
    (( st[0] == 0 )) || exit 1
    (( st[1] == 0 )) || { echo "bench: cannot write $NS_BUILD/bench.txt" >&2; exit 1; }
    py=$SB_PYTHON; [[ -x $py ]] || py=python3
    "$py" "$NS_REPO/bench/plot.py" "$NS_BUILD/bench.txt" -o "$NS_BUILD/bench.svg" || exit 1
    echo "bench: tables in $NS_BUILD/bench.txt, plot in $NS_BUILD/bench.svg" >&2
    exit 0
fi
sandbox_enter "$0" "$@"

# The bench is not a TAP test: report setup failures plainly.
bench_fail() {
    echo "bench: $*" >&2
    if [[ -s $SB_SYSLOG ]]; then
        echo "bench: last lines of the sandbox syslog:" >&2
        tail -n 15 "$SB_SYSLOG" | sed 's/^/    /' >&2
    fi
    SB_FINISHED=1
    exit 1
}
# shellcheck disable=SC2317  # run by the EXIT trap
bench_exit_trap() {
    local rc=$?
    (( SB_FINISHED )) || bench_fail "ended early (status $rc)"
}
trap bench_exit_trap EXIT

if (( QUICK )); then
    LEVELS=0,100
    LEVELS_ROUTED=0,100
else
    LEVELS=0,100,1000
    LEVELS_ROUTED=0,1000,5000
fi
M=40
HOLD_MAX=${LEVELS_ROUTED##*,}
(( HOLD_MAX >= 100 )) || HOLD_MAX=100    # the kernel-memory step holds 100

# Users: the bench user with a home (ns-shell chdirs there), then the
# holders u0..u(HOLD_MAX-1) appended in one go (sandbox_add_user checks
# every name against the files: O(N^2) for 1000). Same line format.
sandbox_install_ns_shell "$NS_BUILD/ns-shell"
sandbox_add_user nsbench 19999
BASE_UID=20000
awk -v n="$HOLD_MAX" -v b="$BASE_UID" -v sh="$SB/bin/ns-shell" \
    'BEGIN { for (i = 0; i < n; i++) printf "u%d:x:%d:%d:ns-bench holder:/nonexistent:%s\n", i, b + i, b + i, sh }' \
    >>"$SB/etc/passwd" || bench_fail "cannot add the holders to passwd"
awk -v n="$HOLD_MAX" -v b="$BASE_UID" \
    'BEGIN { for (i = 0; i < n; i++) printf "u%d:x:%d:\n", i, b + i }' \
    >>"$SB/etc/group" || bench_fail "cannot add the holders' groups"
awk -v n="$HOLD_MAX" \
    'BEGIN { for (i = 0; i < n; i++) printf "u%d:*:19000:0:99999:7:::\n", i }' \
    >>"$SB/etc/shadow" || bench_fail "cannot add the holders to shadow"
[[ $(getent passwd "u$((HOLD_MAX - 1))" | cut -d: -f3) == $((BASE_UID + HOLD_MAX - 1)) ]] ||
    bench_fail "the holders are not visible through NSS"

# The deployed default, except the shell (/bin/sh: the shell's own start-up
# is not what is measured) and an explicit bridge/pool of the sandbox.
sandbox_bench_conf 'shell = "/bin/sh"'

# The bench's own PAM directory: pam_ns alone, driven in-process through
# pam_start_confdir (nothing else in the stack is timed).
PAMDIR=$SB/bench-pam
mkdir -m 0755 "$PAMDIR" || bench_fail "mkdir $PAMDIR"
printf 'session required %s\n' "$PAM_NS_SO" >"$PAMDIR/ns-bench"
# libpam reads "other" of the same directory too (and logs an error without it).
printf 'auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\nsession required pam_deny.so\n' >"$PAMDIR/other"
chmod 0644 "$PAMDIR/ns-bench" "$PAMDIR/other"
mkdir -m 0700 "$SB/bench-tmp" || bench_fail "mkdir $SB/bench-tmp"

command -v ip >/dev/null || bench_fail "ip(8) is missing"
UNSHARE=$(command -v unshare) || bench_fail "unshare(1) is missing"

run_bench() { # NETWORK LEVELS
    "$NS_BENCH" --pam-dir "$PAMDIR" --service ns-bench --user nsbench --hold-prefix u \
        --ns-shell "$SB/bin/ns-shell" --conf /etc/security/ns.conf --tmp "$SB/bench-tmp" \
        --floor-addr 10.213.250.1/16 --ip-addr 10.213.250.2/16 --unshare "$UNSHARE" \
        --network "$1" --levels "$2" --m "$M" --mem-users 100 --warmup 2 ||
        bench_fail "ns-bench ($1) failed"
}
run_bench bridge "$LEVELS"

# The same host, routed: no bridge, so past its 1,023 ports.
sandbox_bench_conf 'shell = "/bin/sh"' 'network = "routed"'
sysctl -qw net.ipv4.ip_forward=1 || bench_fail "ip_forward in the sandbox"
run_bench routed "$LEVELS_ROUTED"
SB_FINISHED=1   # read by the EXIT trap
exit 0
