#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 900
# 5,000 users on one host (issue #13, part 2), network = "routed": N real
# pam_ns sessions at once (N = NS_SCALE_N, 5000 by default; `make check`
# runs it with that N), each held by a process of build/tests/pam-hold that
# opened it through libpam and, from inside the user's namespace, reached a
# service on the host. Checks: all N open, each reached the host; the host
# has exactly N veths, N /32 routes and N permanent neighbour entries, no
# bridge; nsctl status lists N sessions; tenants are isolated (a sample of
# pairs: EACCES, while the host reaches the same addresses); after logout
# nothing is left (no veth, route, neighbour entry, record, process).
# Prints the kernel memory the N sessions took, per session.
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
N=${NS_SCALE_N:-5000}
HOLD=$NS_BUILD/tests/pam-hold
[[ -x $HOLD ]] || sandbox_die "$HOLD is missing (make integration builds it)"
[[ $N =~ ^[1-9][0-9]*$ ]] && (( N <= 60000 )) || sandbox_die "NS_SCALE_N=$N: 1 to 60000"

# Users s0 .. s<N-1> (uids 40000 + i), appended in one go.
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "s%d:x:%d:%d:scale:/nonexistent:/bin/sh\n", i, 40000 + i, 40000 + i }' \
    >>"$SB/etc/passwd" &&
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "s%d:x:%d:\n", i, 40000 + i }' >>"$SB/etc/group" &&
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "s%d:*:19000:0:99999:7:::\n", i }' >>"$SB/etc/shadow" ||
    sandbox_die "cannot add the scale users"
sed -e 's/^    network     = "bridge"$/    network     = "routed"/' "$NS_REPO/conf/ns.conf" | sandbox_conf
check "ns.conf: the shipped one, network = routed, pool 10.213.0.0/16" bash -c \
    "grep -q '^    network     = \"routed\"\$' /etc/security/ns.conf && grep -q '^pool           = \"10.213.0.0/16\"' /etc/security/ns.conf"
PAMD=$SB/scale-pam
mkdir -m 0755 "$PAMD" && printf 'session required %s\n' "$PAM_NS_SO" >"$PAMD/ns-scale" &&
    printf 'session required pam_deny.so\n' >"$PAMD/other" || sandbox_die "cannot write $PAMD"

# A service on the host's own address (on lo of the sandbox's host namespace)
ip addr add 192.0.2.1/32 dev lo || sandbox_die "cannot add 192.0.2.1 to lo"
banner_start 192.0.2.1 7001 host-here

kmem() { awk '/^(Slab|Percpu):/ { s += $2 } END { print s }' /proc/meminfo; }
k0=$(kmem)
mkfifo "$SB/tmp/scale.in"
t0=$EPOCHREALTIME
"$HOLD" "$PAMD" ns-scale s "$N" 192.0.2.1 7001 "$SB/tmp/scale.pids" <"$SB/tmp/scale.in" \
    >"$SB/tmp/scale.out" 2>"$SB/tmp/scale.err" &
hpid=$!
exec 7>"$SB/tmp/scale.in"
wait_until 600 grep -q '^reached ' "$SB/tmp/scale.out"
printf '# %d sessions opened in %d ms\n' "$N" "$(ms_since "$t0")"
k1=$(kmem)
check_eq "all $N sessions opened (real pam_ns sessions, held)" "opened $N" "$(grep '^opened' "$SB/tmp/scale.out")"
check_eq "... and each user reached the service on the host from inside her namespace" \
    "reached $N" "$(grep '^reached' "$SB/tmp/scale.out")"
# (pam-hold tries each up to three times; a retried one is said here)
grep 'to reach' "$SB/tmp/scale.err" | head -n 5 | sed 's/^/# /'
check_eq "the host has $N veths" "$N" "$(ip -o link show | grep -c ': nsu[0-9]*@')"
check_eq "... $N /32 routes through them" "$N" "$(ip route show proto static | grep -c ' dev nsu')"
check_eq "... $N permanent neighbour entries" "$N" "$(ip neigh show nud permanent | grep -c ' dev nsu')"
check_eq "... and no bridge" "" "$(ip -o link show type bridge)"
t0=$EPOCHREALTIME
check_eq "nsctl status --json lists $N sessions" "$N" "$("$NSCTL" status --json | "$PY" -c '
import json, sys
print(len(json.load(sys.stdin)["sessions"]))')"
printf '# nsctl status --json with %d sessions took %d ms\n' "$N" "$(ms_since "$t0")"
per=$(( (k1 - k0) / N ))
printf '# kernel memory (Slab+Percpu) with %d sessions: %d MB, %d kB per session (holder process included)\n' \
    "$N" $(( (k1 - k0) / 1024 )) "$per"

# Isolation, a sample of pairs: from i's namespace j's address answers
# EACCES (the prohibit rule), while from the host it answers ECONNREFUSED
# (reachable, nothing listening).
addr_of() { awk -F= -v u="uid=$((40000 + $1))" 'FNR == 1 { m = 0 } $0 == u { m = 1 } m && $1 == "address" { sub(/\/.*/, "", $2); print $2; exit }' "$SESS"/*; }
pid_of() { awk -v i="$1" '$1 == i { print $2 }' "$SB/tmp/scale.pids"; }
pairs="0:$((N - 1)) $((N / 2)):1 $((N - 1)):$((N / 3))"
for p in $pairs; do
    i=${p%:*} j=${p#*:}
    a=$(addr_of "$j")
    out=$(nsenter -t "$(pid_of "$i")" -n "$PY" "$SB/bin/probe.py" "$a" 9 1)
    check_match "s$i cannot reach s$j ($a): the prohibit rule answers" 'failed: EACCES' "$out"
    check_match "... while the host reaches $a (nothing listens: refused)" 'failed: ECONNREFUSED' \
        "$("$PY" "$SB/bin/probe.py" "$a" 9 1)"
done

# Logout of all N
t0=$EPOCHREALTIME
exec 7>&-
wait_until 300 grep -q '^closed ' "$SB/tmp/scale.out"
wait "$hpid"
rc=$?
printf '# %d sessions closed in %d ms\n' "$N" "$(ms_since "$t0")"
check_eq "all $N sessions closed cleanly" "closed $N 0" "$(grep '^closed' "$SB/tmp/scale.out") $rc"
t0=$EPOCHREALTIME
check "after logout: no veth is left (the kernel removes them)" wait_until 600 no_ns_links
printf '# the kernel removed %d namespaces in %d ms\n' "$N" "$(ms_since "$t0")"
check_eq "... no /32 route of a user" "0" "$(ip route show proto static | grep -c ' dev nsu')"
check_eq "... no neighbour entry of a user" "0" "$(ip neigh show | grep -c ' dev nsu')"
check_eq "... no session record" "" "$(find "$SESS" -type f)"
check_eq "... no holder process" "" "$(pgrep -f "$HOLD")"
check_match "... the pool's unreachable route stays" '^unreachable 10\.213\.0\.0/16' "$(ip route)"

sandbox_finish
