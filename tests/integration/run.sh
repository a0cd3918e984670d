#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run the root integration tests: every tests/integration/t-*.sh (or the ones
# named as arguments), each as its own process in its own sandbox, with a
# timeout (NS_TEST_TIMEOUT seconds, default 300; a test with a line
# "# ns-test-timeout: SECONDS" gets that much if it is more). Afterwards, prove that the
# real host was left as it was (links, addresses, routes, mounts, account and
# PAM files, ns-shell paths, this run's sandbox processes): that is one more
# check. Each test gets NS_SB_RUN=<this run's id> in its environment, which
# every sandbox process started from it inherits: processes of sandboxes of
# other runs on the same machine (another developer's) are not ours.
#
# Output: each test's "ok"/"not ok" lines, a "# t-NAME.sh: ..." line per
# test, and last a single line "N passed, N failed" (all checks summed; a
# script that crashes or times out counts as one more failure). Exit status
# 1 if anything failed.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
timeout_s=${NS_TEST_TIMEOUT:-300}

if (( EUID != 0 )); then
    echo "run.sh: the integration tests need root (they run in throwaway namespaces)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in unshare ip findmnt timeout /usr/bin/python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: missing $tool" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done
# A sandbox's marker must never leak into a test started from here.
unset NS_SB_INNER NS_SB_HOSTNET NS_SB_HOSTMNT NS_SB_RUN

# What a test must not change on the real host.
host_state() {
    local p f
    echo "## links"
    ip -o link show | awk -F': ' '{print $2}' | sort
    echo "## addresses"
    ip -o addr show | awk '{print $2, $3, $4}' | sort
    echo "## routes"
    ip route show table all | sort
    ip -6 route show table all 2>/dev/null | sort
    echo "## mounts"
    findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS | sort
    echo "## files"
    for p in /run/ns-shell /var/lib/ns-shell /etc/netns /run/netns /dev/log \
             /etc/security/ns.conf; do
        [[ -e $p || -L $p ]] && echo "exists $p"
    done
    for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/shells \
             /etc/pam.d/* /etc/security/*; do
        [[ -f $f ]] && sha256sum "$f"
    done
    ls -A /home
    echo "## sandbox processes of this run"
    grep -lzxF "NS_SB_RUN=$run_id" /proc/[0-9]*/environ 2>/dev/null |
        awk -F/ '{print $3}' | sort -n
}

tests=()
if (( $# )); then
    for t in "$@"; do
        [[ $t == */* ]] || t=$here/$t
        tests+=("$t")
    done
else
    tests=("$here"/t-*.sh)
    [[ -e ${tests[0]} ]] || tests=()
fi

logdir=$(mktemp -d /tmp/ns-shell-itest.XXXXXX) || exit 1
trap 'rm -rf -- "$logdir"' EXIT
# This run's id, unique on this machine while the run lasts (mktemp made the
# directory): only the tests get it (run.sh's own processes must not match).
run_id=${logdir##*/}

before=$(host_state)
passed=0
failed=0
summary_re='^([0-9]+) passed, ([0-9]+) failed$'

for t in "${tests[@]}"; do
    name=$(basename "$t")
    log=$logdir/$name.log
    start=$EPOCHREALTIME
    # a test that needs longer says so in a line "# ns-test-timeout: SECONDS"
    t_s=$(sed -n 's/^# ns-test-timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
    (( ${t_s:-0} > timeout_s )) || t_s=$timeout_s
    NS_SB_RUN=$run_id timeout -k 5 "$t_s" bash "$t" </dev/null 2>&1 | tee "$log" |
        grep --line-buffered -v -E "$summary_re"
    rc=${PIPESTATUS[0]}
    ms=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
    line=$(grep -E "$summary_re" "$log" | tail -n 1)
    if [[ $line =~ $summary_re ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    else  # no totals line: count what it printed
        p=$(grep -c '^ok - ' "$log")
        f=$(grep -c '^not ok - ' "$log")
    fi
    note=""
    if (( rc == 124 || rc == 137 )); then
        f=$((f + 1)); note=" TIMED OUT after ${t_s}s"
        echo "not ok - $name finished within ${t_s}s (NS_TEST_TIMEOUT or its ns-test-timeout line)"
    elif [[ -z $line ]]; then
        f=$((f + 1)); note=" CRASHED (exit $rc, no totals line)"
        echo "not ok - $name printed its totals line"
        echo "#   exit status: $rc"
    elif (( rc != 0 && f == 0 )); then
        f=$((f + 1)); note=" exit status $rc"
        echo "not ok - $name exited with status 0"
        echo "#   exit status: $rc"
    fi
    printf '# %s: %d passed, %d failed, %d.%03ds%s\n' \
        "$name" "$p" "$f" $((ms / 1000)) $((ms % 1000)) "$note"
    passed=$((passed + p))
    failed=$((failed + f))
done

if (( ${#tests[@]} == 0 )); then
    echo "not ok - there are tests to run in $here"
    failed=$((failed + 1))
fi

# Leak check. Interfaces of a freed namespace go asynchronously (tens of ms),
# and the last sandbox's processes are being reaped: look again for up to 2 s
# before calling it a leak.
for ((i = 0; i < 20; i++)); do
    after=$(host_state)
    [[ $after == "$before" ]] && break
    sleep 0.1
done
if [[ $after == "$before" ]]; then
    echo "ok - the real host is unchanged (links, addresses, routes, mounts, files, processes)"
    passed=$((passed + 1))
else
    echo "not ok - the real host is unchanged (links, addresses, routes, mounts, files, processes)"
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/#   /'
    echo "#   (a change by someone else on the machine meanwhile also shows here; their sandboxes' processes do not)"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
(( failed == 0 ))
