#!/bin/bash
# nsctl status / leases / exec, and nsctl's front door: root only (exit 1
# with a clear message otherwise), usage errors exit 2. Two held logins (su
# with pam_ns in its session stack) give status its rows; --json is parsed
# and every field compared with the session record and with /proc.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"

# ------------------------------------------------------------- helpers ---
# (each t-nsctl-*.sh / t-crash-*.sh carries its own copy)
SESS=/run/ns-shell/sessions
LEASES=/var/lib/ns-shell/leases
PY=$SB_PYTHON
NL=$'\n'
NSCTL=$NS_BUILD/nsctl

rec() { sed -n "s/^$2=//p" "$SESS/$1" 2>/dev/null; }   # rec SID KEY
sids_of() {                                             # sids_of UID
    local f
    for f in "$SESS"/*; do
        [[ -f $f ]] && grep -qx "uid=$1" "$f" && basename "$f"
    done
    return 0
}
lease_of() { awk -v u="$1" '$2 == u { print $3 }' "$LEASES" 2>/dev/null; }
wait_until() {                                          # wait_until SECS CMD...
    local secs=$1 i; shift
    for ((i = 0; i <= secs * 50; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}
has_n_records_of() { [[ $(sids_of "$1" | wc -l) == "$2" ]]; }
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
# procs_in_netns INODE : how many processes sit in that network namespace
procs_in_netns() {
    local p n=0
    for p in /proc/[1-9]*; do
        [[ $(stat -L -c %i "$p/ns/net" 2>/dev/null) == "$1" ]] && n=$((n + 1))
    done
    echo "$n"
}
# run CMD... : set OUT (stdout), ERR (stderr), RC
run() {
    RC=0
    "$@" >"$SB/tmp/run.out" 2>"$SB/tmp/run.err" </dev/null || RC=$?
    OUT=$(cat "$SB/tmp/run.out")
    ERR=$(cat "$SB/tmp/run.err")
}

declare -A HOLD_PID
# hold TAG USER : `su USER -c 'read x <FIFO'` in the background; the login
# stays open (and forks nothing: its process count is stable) until release.
hold() {
    local tag=$1 user=$2
    rm -f "/tmp/hold-$tag"
    mkfifo -m 0666 "/tmp/hold-$tag"
    su "$user" -c "read x </tmp/hold-$tag" </dev/null >"$SB/tmp/hold-$tag.out" 2>&1 &
    HOLD_PID[$tag]=$!
}
release() {
    local t
    for t in "$@"; do
        timeout 5 sh -c "echo >/tmp/hold-$t" || kill "${HOLD_PID[$t]}" 2>/dev/null
        wait "${HOLD_PID[$t]}" || true
        rm -f "/tmp/hold-$t"
    done
}

pam_with_ns() { # SERVICE
    sandbox_pam "$1" <<EOF
auth     sufficient pam_rootok.so
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO
EOF
}

# ---------------------------------------------------------------- setup ---
[[ -x $NSCTL ]] || sandbox_die "no $NSCTL (run make first)"
sandbox_install_ns_shell
sandbox_add_user alice 2001
sandbox_add_user bob 2002
: | sandbox_conf     # empty: every built-in default (bridge nsbr0, pool 10.213.0.0/16)
pam_with_ns su
pam_with_ns su-l
# nobody must be able to reach the binary: a copy in $SB/bin (0755)
install -m 0755 "$NSCTL" "$SB/bin/nsctl"

# ------------------------------------------------------------ non-root ---
for args in "status" "status --json" "gc" "gc --kill" "leases" "check" \
            "exec alice -- id"; do
    # shellcheck disable=SC2086  # word splitting of args on purpose
    run setpriv --reuid 65534 --regid 65534 --clear-groups "$SB/bin/nsctl" $args
    check_eq "nsctl $args as a non-root user: exit 1" 1 "$RC"
    check_match "nsctl $args as a non-root user: says it needs root" \
        'must be run as root' "$ERR"
done
check_eq "the non-root attempts created no state" no \
    "$([[ -e /run/ns-shell ]] && echo yes || echo no)"

# --------------------------------------------------------------- usage ---
for args in "" "bogus" "status --xml" "status --json extra" "gc --force" \
            "leases extra" "exec alice" "exec alice id" "exec alice --" \
            "check --conf" "check --user" "check --bogus" "--json"; do
    # shellcheck disable=SC2086
    run "$NSCTL" $args
    check_eq "nsctl $args: usage error, exit 2" 2 "$RC"
    check_match "nsctl $args: prints the usage" '^usage: nsctl status' "$ERR"
done
run "$NSCTL" --help
check_eq "nsctl --help: exit 0" 0 "$RC"
check_match "nsctl --help prints every subcommand" \
    'status \[--json\].*check \[--conf PATH\] \[--user NAME\].*gc \[--dry-run\] \[--kill\].*leases.*exec USER -- CMD' \
    "$OUT$ERR"

# ---------------------------------------------------- status, no logins ---
run "$NSCTL" status
check_eq "status with no sessions: exit 0" 0 "$RC"
check_match "status with no sessions: only the header" \
    '^SESSION +USER +UID +SINCE +NETNS +VETH +ADDRESS +BRIDGE +OWNER +PROCS$' "$OUT"
run "$NSCTL" status --json
check_eq "status --json with no sessions: []" "0 []" "$RC $OUT"
run "$NSCTL" leases
check_eq "leases with no lease file: exit 0" 0 "$RC"
check_match "leases with no lease file: only the header" \
    '^ADDRESS +USER +UID +LAST USED +IN USE$' "$OUT"

# ------------------------------------------------ two held logins ---
t0=$(date +%s)
hold a alice
hold b bob
wait_until 10 has_n_records_of 2001 1 || sandbox_die "alice's held login did not open" \
    "$(cat "$SB/tmp/hold-a.out"; tail -n 5 "$SB_SYSLOG")"
wait_until 10 has_n_records_of 2002 1 || sandbox_die "bob's held login did not open" \
    "$(cat "$SB/tmp/hold-b.out"; tail -n 5 "$SB_SYSLOG")"
sleep 0.3   # let su fork its shell and the shell reach `read`
t1=$(date +%s)
sid_a=$(sids_of 2001) sid_b=$(sids_of 2002)
addr_a=$(rec "$sid_a" address) addr_b=$(rec "$sid_b" address)
check_eq "alice's record names su as the owner" "${HOLD_PID[a]}" "$(rec "$sid_a" owner_pid)"
check_eq "bob's record names su as the owner" "${HOLD_PID[b]}" "$(rec "$sid_b" owner_pid)"
ino_a=$(stat -L -c %i "/proc/${HOLD_PID[a]}/ns/net")
ino_b=$(stat -L -c %i "/proc/${HOLD_PID[b]}/ns/net")
np_a=$(procs_in_netns "$ino_a") np_b=$(procs_in_netns "$ino_b")
check "alice's namespace holds su and her login (>= 2 processes: $np_a)" test "$np_a" -ge 2

run "$NSCTL" status
check_eq "status: exit 0" 0 "$RC"
check_eq "status: a header and one row per session" 3 "$(wc -l <<<"$OUT")"
row_a=$(awk -v s="$sid_a" '$1 == s' <<<"$OUT")
row_b=$(awk -v s="$sid_b" '$1 == s' <<<"$OUT")
read -r -a A <<<"$row_a"
read -r -a B <<<"$row_b"
since_a=$(date -d "@$(rec "$sid_a" opened)" +%Y-%m-%dT%H:%M:%S)
check_eq "status row of alice: sid user uid since netns veth address bridge owner procs" \
    "$sid_a alice 2001 $since_a ns-alice nsu2001 $addr_a nsbr0 ${HOLD_PID[a]} $np_a" "${A[*]}"
since_b=$(date -d "@$(rec "$sid_b" opened)" +%Y-%m-%dT%H:%M:%S)
check_eq "status row of bob: sid user uid since netns veth address bridge owner procs" \
    "$sid_b bob 2002 $since_b ns-bob nsu2002 $addr_b nsbr0 ${HOLD_PID[b]} $np_b" "${B[*]}"
check_match "addresses come from the pool" \
    '^10\.213\.[0-9]+\.[0-9]+/16 10\.213\.[0-9]+\.[0-9]+/16$' "$addr_a $addr_b"

# --json, parsed
run "$NSCTL" status --json
check_eq "status --json: exit 0" 0 "$RC"
printf '%s' "$OUT" >"$SB/tmp/status.json"
json_check() { # SID USER UID INO OWNER PROCS ADDR VETH NETNS
    "$PY" - "$SB/tmp/status.json" "$@" "$t0" "$t1" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
sid, user, uid, ino, owner, procs, addr, veth, netns, t0, t1 = sys.argv[2:]
assert isinstance(doc, list) and len(doc) == 2, "not a list of 2: %r" % doc
rows = [r for r in doc if r.get("session") == sid]
assert len(rows) == 1, "no single row for %s" % sid
r = rows[0]
keys = {"session", "user", "uid", "since", "netns", "netns_inode", "veth",
        "address", "bridge", "owner_pid", "processes", "stale"}
assert set(r) == keys, "keys differ: %s" % sorted(set(r) ^ keys)
want = {"session": sid, "user": user, "uid": int(uid), "netns": netns,
        "netns_inode": int(ino), "veth": veth, "address": addr,
        "bridge": "nsbr0", "owner_pid": int(owner), "processes": int(procs),
        "stale": False}
for k, v in want.items():
    assert r[k] == v and type(r[k]) is type(v), "%s: %r != %r" % (k, r[k], v)
assert isinstance(r["since"], int) and int(t0) <= r["since"] <= int(t1), \
    "since %r not in [%s, %s]" % (r["since"], t0, t1)
print("ok")
EOF
}
check "status --json: alice's object has every field right" \
    json_check "$sid_a" alice 2001 "$ino_a" "${HOLD_PID[a]}" "$np_a" "$addr_a" nsu2001 ns-alice
check "status --json: bob's object has every field right" \
    json_check "$sid_b" bob 2002 "$ino_b" "${HOLD_PID[b]}" "$np_b" "$addr_b" nsu2002 ns-bob

# ---------------------------------------------------------------- leases ---
run "$NSCTL" leases
check_eq "leases: exit 0" 0 "$RC"
lu_a=$(date -d "@$(awk '$2 == "alice" { print $4 }' "$LEASES")" +%Y-%m-%dT%H:%M:%S)
lu_b=$(date -d "@$(awk '$2 == "bob" { print $4 }' "$LEASES")" +%Y-%m-%dT%H:%M:%S)
check_eq "leases: a header and one row per lease" 3 "$(wc -l <<<"$OUT")"
check_eq "leases row of alice: address user uid last-used in-use" \
    "${addr_a%/*} alice 2001 $lu_a yes" "$(awk '$2 == "alice"' <<<"$OUT" | xargs)"
check_eq "leases row of bob: address user uid last-used in-use" \
    "${addr_b%/*} bob 2002 $lu_b yes" "$(awk '$2 == "bob"' <<<"$OUT" | xargs)"

# ------------------------------------------------------------------ exec ---
run "$NSCTL" exec alice -- ip -br addr
check_eq "exec alice -- ip -br addr: exit 0" 0 "$RC"
check_match "exec shows alice's eth0 with her address" \
    "(^|$NL)eth0@[^ ]+ +UP +${addr_a//./\\.}( |$)" "$OUT"
check_match "exec shows lo up" "(^|$NL)lo +UNKNOWN +127\.0\.0\.1/8" "$OUT"
check_eq "exec shows only lo and eth0 (not the host's nsbr0 or veths)" "eth0 lo" \
    "$(awk '{ sub(/@.*/, "", $1); print $1 }' <<<"$OUT" | sort | xargs)"
run "$NSCTL" exec alice -- readlink /proc/self/ns/net
check_eq "exec runs in alice's namespace (same inode as her session)" "net:[$ino_a]" "$OUT"
run "$NSCTL" exec bob -- ip -br addr show dev eth0
check_match "exec bob shows bob's address, not alice's" "${addr_b//./\\.}" "$OUT"
run "$NSCTL" exec alice -- sh -c 'id -u; exit 7'
check_eq "exec keeps root and passes the command's exit status" "7 0" "$RC $OUT"
run "$NSCTL" exec alice -- /nonexistent/cmd
check_eq "exec of a missing command: exit 1" 1 "$RC"
check_match "exec of a missing command: says so" 'cannot run /nonexistent/cmd' "$ERR"
run "$NSCTL" exec nosuchuser -- true
check_eq "exec for an unknown user: exit 1" 1 "$RC"
check_match "exec for an unknown user: says so" 'no such user: nosuchuser' "$ERR"
check_eq "the host's network namespace is untouched by exec" \
    "$(stat -L -c %i /proc/self/ns/net)" "$(stat -L -c %i /proc/$$/ns/net)"

# ------------------------------------------------------ bob logs out ---
release b
wait_until 5 has_n_records_of 2002 0
wait_until 2 link_absent nsu2002
run "$NSCTL" status
check_eq "after bob's logout status lists only alice" "$sid_a" \
    "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }' | xargs)"
run "$NSCTL" leases
check_match "leases: alice in use" "${addr_a%/*} +alice +2001 .* yes$" \
    "$(awk '$2 == "alice"' <<<"$OUT")"
check_match "leases: bob's lease stays, not in use" "${addr_b%/*} +bob +2002 .* no$" \
    "$(awk '$2 == "bob"' <<<"$OUT")"
run "$NSCTL" exec bob -- ip -br addr
check_eq "exec for a user with no open session: exit 1" 1 "$RC"
check_match "exec for a user with no open session: clear error" \
    'bob has no open session' "$ERR"
check_eq "exec for a user with no open session ran nothing" "" "$OUT"

# A stale record (owner gone): status flags it, exec refuses it.
stale=deadbeef
sed "s/^owner_pid=.*/owner_pid=999999/" "$SESS/$sid_a" | sed "s/^user=.*/user=bob/; s/^uid=.*/uid=2002/" \
    >"$SESS/$stale"
chmod 0644 "$SESS/$stale"
run "$NSCTL" status
check_match "status marks a record whose owner is gone (stale)" \
    "(^|$NL)$stale +bob +2002 .* 999999 +0 \(stale\)" "$OUT"
run "$NSCTL" status --json
printf '%s' "$OUT" >"$SB/tmp/status.json"
check_eq "status --json: the stale record has stale=true, processes=0" "True 0" \
    "$("$PY" -c 'import json,sys
r=[x for x in json.load(open(sys.argv[1])) if x["session"]==sys.argv[2]][0]
print(r["stale"], r["processes"])' "$SB/tmp/status.json" "$stale" 2>&1)"
run "$NSCTL" exec bob -- true
check_eq "exec does not follow a stale record" "1" "$RC"
run "$NSCTL" leases
check_match "leases: a stale record does not make bob's lease in use" \
    "bob +2002 .* no$" "$(awk '$2 == "bob"' <<<"$OUT")"
rm -f "$SESS/$stale"

release a
wait_until 5 has_n_records_of 2001 0
run "$NSCTL" status --json
check_eq "after both logouts status --json is []" "[]" "$OUT"

sandbox_finish
