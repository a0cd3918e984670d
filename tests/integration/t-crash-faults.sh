#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 300
# (60-95 s here, alone or next to another run under load: the default 120 s is too close)
# Crash recovery at every fault point of pam_ns's open path: the test build
# (build/fault/pam_ns.so) SIGKILLs pamtester at NS_FAULT_POINT. After each
# crash: the exact state (records, nsu* veths, lease, lock, temp files),
# then nsctl gc, then a normal login of alice that works and keeps the
# address the crashed attempt leased. One "# fault P: ..." line per point.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ------------------------------------------------------------- helpers ---
FAULT_SO=$NS_BUILD/fault/pam_ns.so
n_tmp_records() { find "$SESS" -maxdepth 1 -name '.*' 2>/dev/null | wc -l; }
our_veths() { ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^ns[us]/ { sub(/@.*/, "", $2); print $2 }' | xargs; }
n_veths() { local -a v; read -r -a v <<<"$(our_veths)"; echo "${#v[@]}"; }
n_veths_is() { [[ $(n_veths) == "$1" ]]; }

# ---------------------------------------------------------------- setup ---
[[ -f $FAULT_SO ]] || sandbox_die "no $FAULT_SO (run: make build/fault/pam_ns.so)"
sandbox_install_ns_shell
add_users 2001 alice bob
: | sandbox_conf
PAM_NS_MODULE=$FAULT_SO PAM_NS_ARGS='' pam_with_ns svcfault
PAM_NS_ARGS='' pam_with_ns su

# The fault build without NS_FAULT_POINT is a normal module.
run pamtester svcfault alice open_session close_session
check_eq "the fault build without NS_FAULT_POINT opens and closes a session" 0 "$RC"
wait_until 30 n_veths_is 0   # (a quick re-login is t-crash-recovery.sh's business)
run env NS_FAULT_POINT=no-such-point pamtester svcfault alice open_session close_session
check_eq "an unknown fault point changes nothing" 0 "$RC"
wait_until 30 n_veths_is 0
# bob holds the first pool address, so alice's is not simply the first one
run su bob -c true
check_match "bob has a lease" '^10\.213\.' "$(lease_of bob)"
BOB_LEASE=$(sticky_of bob)
wait_until 30 n_veths_is 0

# expected state right after the crash: records veths lease(yes/no)
declare -A WANT=(
    [locked]="0 0 no" [unshared]="0 0 no" [bridge]="0 0 no" [lease]="0 0 yes"
    [veth]="0 0 yes" [inner]="0 0 yes" [moved]="0 0 yes" [record]="1 0 yes"
)
SUMMARY=()
for p in locked unshared bridge lease veth inner moved record; do
    # a fresh start for each point: bob's lease only, no records, no veths,
    # no bridge (the crashed attempt makes it, or not)
    rm -rf "$LEASE_DIR" "$LEASES"
    lease_seed "$BOB_LEASE"
    rm -f "$SESS"/* 2>/dev/null
    ip link del nsbr0 2>/dev/null

    run env NS_FAULT_POINT="$p" pamtester svcfault alice open_session
    check_eq "fault $p: pamtester is killed (SIGKILL, status 137)" 137 "$RC"
    # the kernel frees the crashed process's namespace and veth asynchronously:
    # wait for the expected count (the table's second field), so the count
    # checked below is what the crash left, not a veth yet to be freed
    wait_until 30 n_veths_is "$(cut -d' ' -f2 <<<"${WANT[$p]}")"
    recs=$(n_records) veths=$(n_veths) lease_addr=$(lease_of alice)
    lease=$([[ -n $lease_addr ]] && echo yes || echo no)
    check_eq "fault $p: records, nsu veths and alice's lease are as expected" \
        "${WANT[$p]}" "$recs $veths $lease"
    check_eq "fault $p: no half-written record (.tmp) is left" 0 "$(n_tmp_records)"
    check_eq "fault $p: no temp lease file is left (nor an old lease file)" "" \
        "$(find /var/lib/ns-shell -mindepth 1 \( -name '*tmp*' -o -name leases \) -printf '%P\n')"
    check_eq "fault $p: bob's lease is intact" "$BOB_LEASE" "$(sticky_of bob)"
    check_eq "fault $p: the lease store is consistent (each lease indexed, nobody's twice)" "" "$(lease_problems)"
    if [[ -e /run/ns-shell/lock/user-2001 ]]; then
        check "fault $p: alice's lock is not held by anyone (flock died with the process)" \
            flock -n /run/ns-shell/lock/user-2001 true
    fi
    check "fault $p: the leases lock is free" \
        sh -c '[ ! -e /run/ns-shell/lock/leases ] || flock -n /run/ns-shell/lock/leases true'
    check_eq "fault $p: the host's network namespace is unchanged" "$HOSTNET" \
        "$(stat -L -c %i /proc/self/ns/net)"
    case $p in
    locked|unshared) check_fail "fault $p: no bridge was made" ip link show dev nsbr0 ;;
    *) check_match "fault $p: the bridge made before the crash stays, with its address (the next login needs it)" \
           "inet 10\.213\.0\.1/16" "$(ip -4 addr show dev nsbr0 2>&1)" ;;
    esac
    if [[ $p == record ]]; then
        run "$NSCTL" status
        check_match "fault $p: status shows the crashed session as stale" \
            "(^|$NL)[0-9a-f]{8} +alice +2001 .*\(stale\)" "$OUT"
    fi

    run "$NSCTL" gc
    check_eq "fault $p: gc exit 0" 0 "$RC"
    if [[ $p == record ]]; then
        check_match "fault $p: gc removed the stale record" "removed stale session [0-9a-f]{8} of alice" "$OUT"
    elif [[ $p == inner || $p == moved ]]; then   # after the bridge's neighbour entry was made
        check_eq "fault $p: gc removes only the neighbour entry the crashed login made" \
            "removed neighbour entry ${lease_addr%/*} on nsbr0 (no login holds it)" "$OUT"
    else
        check_eq "fault $p: gc has nothing to clean" "nothing to clean" "$OUT"
    fi
    recs2=$(n_records) veths2=$(n_veths)
    check_eq "fault $p: after gc no records and no veths" "0 0" "$recs2 $veths2"
    SUMMARY+=("# fault $p: before gc: records=$recs veths=$veths lease=$lease; after gc: records=$recs2 veths=$veths2")
    printf '%s\n' "${SUMMARY[-1]}"

    # a normal login works and keeps the address the crashed attempt leased
    run su alice -c 'ip -br -4 addr show dev eth0'
    check_eq "fault $p: the next normal login of alice works" 0 "$RC"
    got=$(awk '{ print $3 }' <<<"$OUT")
    if [[ $lease == yes ]]; then
        check_eq "fault $p: the login got the address leased before the crash" "$lease_addr" "${got%/*}"
    else
        check_match "fault $p: the login got a pool address" '^10\.213\.[0-9]+\.[0-9]+/16$' "$got"
    fi
    check_eq "fault $p: that login closed cleanly (no record left)" 0 "$(n_records)"
    wait_until 30 n_veths_is 0
done

printf '%s\n' "${SUMMARY[@]}"
sandbox_finish
