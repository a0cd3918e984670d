#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nsctl status / leases / exec. Two held logins (su with pam_ns in its
# session stack) give status and leases their rows (single-word headers,
# times as ISO 8601 with the offset); status --json and leases --json are
# parsed ("schema": 1) and every field compared with the session record,
# the lease file and /proc. nsctl's front door (usage, root, --conf, ...)
# is t-nsctl-cli.sh.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
[[ -x $NSCTL ]] || sandbox_die "no $NSCTL (run make first)"
sandbox_install_ns_shell
add_users 2001 alice bob
: | sandbox_conf     # empty: every built-in default (bridge nsbr0, pool 10.213.0.0/16)
PAM_NS_ARGS='' pam_with_ns su su-l
# iso TIME : a unix time as nsctl prints it (ISO 8601, local time, offset)
iso() { date -d "@$1" +%Y-%m-%dT%H:%M:%S%:z; }
ISO_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}'

# ---------------------------------------------------- status, no logins ---
run "$NSCTL" status
check_eq "status with no sessions: exit 0" 0 "$RC"
check_match "status with no sessions: only the header, single-word columns" \
    '^SID +USER +UID +OPENED +NETNS +VETH +ADDRESS +BRIDGE +OWNER +PROCS$' "$OUT"
run "$NSCTL" status --json
check_eq "status --json with no sessions: schema 1, no sessions" '0 {"schema": 1, "sessions": [], "lingering": []}' \
    "$RC $("$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' <<<"$OUT" 2>&1)"
run "$NSCTL" leases
check_eq "leases with no lease file: exit 0" 0 "$RC"
check_match "leases with no lease file: only the header, single-word columns" \
    '^ADDRESS +USER +UID +LAST-USED +IN-USE +SID$' "$OUT"

# ------------------------------------------------ two held logins ---
t0=$(date +%s)
hold a alice
hold b bob
wait_until 10 has_n_records_of 2001 1 || sandbox_die "alice's held login did not open" \
    "$(cat "$SB/tmp/hold-a.out"; tail -n 5 "$SB_SYSLOG")"
wait_until 10 has_n_records_of 2002 1 || sandbox_die "bob's held login did not open" \
    "$(cat "$SB/tmp/hold-b.out"; tail -n 5 "$SB_SYSLOG")"
# every process of both logins forked (su, ns-shell, the reaper, the
# shell waiting in `read`): the process counts are final
wait_until 5 held a
wait_until 5 held b
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
since_a=$(iso "$(rec "$sid_a" opened)")
check_eq "status row of alice: sid user uid opened netns veth address bridge owner procs" \
    "$sid_a alice 2001 $since_a ns-alice nsu2001 $addr_a nsbr0 ${HOLD_PID[a]} $np_a" "${A[*]}"
since_b=$(iso "$(rec "$sid_b" opened)")
check_eq "status row of bob: sid user uid opened netns veth address bridge owner procs" \
    "$sid_b bob 2002 $since_b ns-bob nsu2002 $addr_b nsbr0 ${HOLD_PID[b]} $np_b" "${B[*]}"
check_match "OPENED is ISO 8601 with the UTC offset" "^$ISO_RE\$" "${A[3]}"
check_eq "status lists the sessions oldest first" "$(for s in "$sid_a" "$sid_b"; do
        echo "$(rec "$s" opened) $s"; done | LC_ALL=C sort -k1,1n -k2,2 | awk '{ print $2 }' | xargs)" \
    "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }' | xargs)"
run env TZ=Asia/Kolkata "$NSCTL" status
check_eq "status under TZ=Asia/Kolkata: OPENED in that zone, +05:30" \
    "$(TZ=Asia/Kolkata iso "$(rec "$sid_a" opened)")" "$(awk -v s="$sid_a" '$1 == s { print $4 }' <<<"$OUT")"
check_match "... ends in +05:30" '\+05:30$' "$(awk -v s="$sid_a" '$1 == s { print $4 }' <<<"$OUT")"
check_match "addresses come from the pool" \
    '^10\.213\.[0-9]+\.[0-9]+/16 10\.213\.[0-9]+\.[0-9]+/16$' "$addr_a $addr_b"

# --json, parsed
run "$NSCTL" status --json
check_eq "status --json: exit 0" 0 "$RC"
printf '%s' "$OUT" >"$SB/tmp/status.json"
json_check() { # SID USER UID INO OWNER PROCS ADDR VETH NETNS OPENED
    "$PY" - "$SB/tmp/status.json" "$@" "$t0" "$t1" <<'EOF'
import datetime, json, re, sys
doc = json.load(open(sys.argv[1]))
sid, user, uid, ino, owner, procs, addr, veth, netns, opened, t0, t1 = sys.argv[2:]
assert isinstance(doc, dict) and set(doc) == {"schema", "sessions", "lingering"}, "keys: %r" % doc
assert doc["schema"] == 1 and type(doc["schema"]) is int, "schema %r" % doc["schema"]
doc = doc["sessions"]
assert isinstance(doc, list) and len(doc) == 2, "not a list of 2: %r" % doc
rows = [r for r in doc if r.get("session") == sid]
assert len(rows) == 1, "no single row for %s" % sid
r = rows[0]
keys = {"session", "user", "uid", "opened", "netns", "netns_inode", "veth",
        "address", "bridge", "owner_pid", "processes", "stale"}
assert set(r) == keys, "keys differ: %s" % sorted(set(r) ^ keys)
want = {"session": sid, "user": user, "uid": int(uid), "netns": netns,
        "netns_inode": int(ino), "veth": veth, "address": addr,
        "bridge": "nsbr0", "owner_pid": int(owner), "processes": int(procs),
        "stale": False}
for k, v in want.items():
    assert r[k] == v and type(r[k]) is type(v), "%s: %r != %r" % (k, r[k], v)
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", r["opened"]), r["opened"]
t = datetime.datetime.fromisoformat(r["opened"])
assert int(t.timestamp()) == int(opened), "opened %r is not %s" % (r["opened"], opened)
assert int(t0) <= int(opened) <= int(t1), "opened %s not in [%s, %s]" % (opened, t0, t1)
print("ok")
EOF
}
check "status --json: alice's object has every field right" \
    json_check "$sid_a" alice 2001 "$ino_a" "${HOLD_PID[a]}" "$np_a" "$addr_a" nsu2001 ns-alice \
    "$(rec "$sid_a" opened)"
check "status --json: bob's object has every field right" \
    json_check "$sid_b" bob 2002 "$ino_b" "${HOLD_PID[b]}" "$np_b" "$addr_b" nsu2002 ns-bob \
    "$(rec "$sid_b" opened)"

# ---------------------------------------------------------------- leases ---
run "$NSCTL" leases
check_eq "leases: exit 0" 0 "$RC"
t_lu_a=$(lease_lines | awk '$2 == "alice" { print $4 }')
t_lu_b=$(lease_lines | awk '$2 == "bob" { print $4 }')
lu_a=$(iso "$t_lu_a") lu_b=$(iso "$t_lu_b")
check_eq "leases: a header and one row per lease" 3 "$(wc -l <<<"$OUT")"
check_eq "leases row of alice: address user uid last-used in-use sid" \
    "${addr_a%/*} alice 2001 $lu_a yes -" "$(awk '$2 == "alice"' <<<"$OUT" | xargs)"
check_eq "leases row of bob: address user uid last-used in-use sid" \
    "${addr_b%/*} bob 2002 $lu_b yes -" "$(awk '$2 == "bob"' <<<"$OUT" | xargs)"
check_match "LAST-USED is ISO 8601 with the UTC offset" "^$ISO_RE\$" "$lu_a"
run "$NSCTL" leases --json
check_eq "leases --json: exit 0" 0 "$RC"
check_eq "leases --json: schema 1, every field of both leases right" "ok" "$("$PY" -c '
import datetime, json, sys
d = json.load(sys.stdin)
assert set(d) == {"schema", "leases"} and d["schema"] == 1, d
want = {(sys.argv[1], "alice", 2001, int(sys.argv[3])), (sys.argv[2], "bob", 2002, int(sys.argv[4]))}
got = set()
for l in d["leases"]:
    assert set(l) == {"address", "user", "uid", "last_used", "in_use", "session"}, l
    assert l["in_use"] is True and l["session"] == "", l
    t = datetime.datetime.fromisoformat(l["last_used"])
    assert t.utcoffset() is not None, l
    got.add((l["address"], l["user"], l["uid"], int(t.timestamp())))
assert got == want, (got, want)
print("ok")' "${addr_a%/*}" "${addr_b%/*}" "$t_lu_a" "$t_lu_b" <<<"$OUT" 2>&1)"

# The extra address of a concurrent per-session login carries its session
# id (5th field): in use while that very session is open.
saved=$(lease_store_state)
lease_seed "2001 alice 10.213.7.7 $t_lu_a $sid_a" "2001 alice 10.213.7.8 $t_lu_a deadbeef"
run "$NSCTL" leases
check_eq "leases: a session's extra address, with its sid, in use while it is open" \
    "10.213.7.7 alice 2001 $lu_a yes $sid_a" "$(awk '$1 == "10.213.7.7"' <<<"$OUT" | xargs)"
check_eq "leases: an extra address of a session that is not open: not in use" \
    "10.213.7.8 alice 2001 $lu_a no deadbeef" "$(awk '$1 == "10.213.7.8"' <<<"$OUT" | xargs)"
run "$NSCTL" leases --json
check_eq "leases --json: the session ids and in_use of the extra addresses" \
    "10.213.7.7 $sid_a True 10.213.7.8 deadbeef False" "$("$PY" -c '
import json, sys
for l in json.load(sys.stdin)["leases"]:
    if l["address"].startswith("10.213.7."):
        print(l["address"], l["session"], l["in_use"], end=" ")' <<<"$OUT" 2>&1 | xargs)"
# ... listed in address order (10.213.0.x before 10.213.7.7 before
# 10.213.7.8, numerically), the same in the JSON array
run "$NSCTL" leases
check_eq "leases: rows sorted by address" "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }' | sort -V | xargs)" \
    "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }' | xargs)"
run "$NSCTL" leases --json
check_eq "leases --json: the array sorted by address" "$(printf '%s\n' ${addr_a%/*} ${addr_b%/*} 10.213.7.7 10.213.7.8 | sort -V | xargs)" \
    "$("$PY" -c 'import json, sys
print(" ".join(l["address"] for l in json.load(sys.stdin)["leases"]))' <<<"$OUT" 2>&1)"
rm -f "$LEASE_DIR/10.213.7.7" "$LEASE_DIR/10.213.7.8" "$LEASE_DIR/by-uid/2001.$sid_a" "$LEASE_DIR/by-uid/2001.deadbeef"
check_eq "(the store is as before the two extra leases)" "$saved" "$(lease_store_state)"

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
check_match "leases: alice in use" "${addr_a%/*} +alice +2001 .* yes +-$" \
    "$(awk '$2 == "alice"' <<<"$OUT")"
check_match "leases: bob's lease stays, not in use" "${addr_b%/*} +bob +2002 .* no +-$" \
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
r=[x for x in json.load(open(sys.argv[1]))["sessions"] if x["session"]==sys.argv[2]][0]
print(r["stale"], r["processes"])' "$SB/tmp/status.json" "$stale" 2>&1)"
run "$NSCTL" exec bob -- true
check_eq "exec does not follow a stale record" "1" "$RC"
run "$NSCTL" leases
check_match "leases: a stale record does not make bob's lease in use" \
    "bob +2002 .* no +-$" "$(awk '$2 == "bob"' <<<"$OUT")"
rm -f "$SESS/$stale"

release a
wait_until 5 has_n_records_of 2001 0
run "$NSCTL" status --json
check_eq "after both logouts status --json has no sessions" '{"schema": 1, "sessions": [], "lingering": []}' \
    "$("$PY" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' <<<"$OUT" 2>&1)"

sandbox_finish
