#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nsctl's front door, like the util-linux tools next to it: --help/-h on
# stdout (exit 0), --version (the Makefile's VERSION), an unknown command
# or any usage error exits 2 before the root check (as root and as a user),
# root-only commands say so (exit 1) and create nothing, `check` works
# unprivileged (a root-owned file is valid, a file the user owns is refused
# as the error it is), the global --conf FILE is honoured by every command
# (a login whose PAM line says conf= is seen, entered and reaped only
# through that file), JSON carries "schema": 1, times are ISO 8601 with
# offsets, reports go to stdout and warnings/errors to stderr, and a report
# that cannot be written is a failure.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ------------------------------------------------------------- helpers ---
ALT=$PUB/alt.conf          # a second config, as PAM's conf= would name it
ALT_STATE=/run/ns-alt
ALT_LEASES=/var/lib/ns-shell/alt-leases

# as_nobody / as_alice CMD... : run CMD as that user (no groups)
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_alice() { setpriv --reuid=2001 --regid=2001 --clear-groups "$@"; }
# json_schema1 KEY : stdin is one JSON object, schema 1, KEY an array; prints its length
json_schema1() {
    "$PY" -c 'import json, sys
d = json.load(sys.stdin)
assert isinstance(d, dict), "not an object: %r" % d
assert d["schema"] == 1 and type(d["schema"]) is int, "schema: %r" % d.get("schema")
assert isinstance(d[sys.argv[1]], list), "%s is not a list" % sys.argv[1]
print(len(d[sys.argv[1]]))' "$1"
}
sids_in() { # STATE_DIR : the session ids recorded there
    local f
    for f in "$1"/sessions/????????; do
        [[ -f $f && ${f##*/} =~ ^[0-9a-f]{8}$ ]] && echo "${f##*/}"
    done
    return 0
}
has_alt_record() { [[ -n $(sids_in "$ALT_STATE") ]]; }
no_alt_record() { [[ -z $(sids_in "$ALT_STATE") ]]; }
no_state() { # DESC : nothing was created under the default state dir
    check_eq "$1" no "$([[ -e /run/ns-shell ]] && echo yes || echo no)"
}

# ---------------------------------------------------------------- setup ---
[[ -x $NSCTL ]] || sandbox_die "no $NSCTL (run make first)"
SHELL_OVERRIDE=/bin/sh sandbox_add_user alice 2001
: | sandbox_conf     # the compiled-in file: every built-in default
# a copy every user can run ($NS_BUILD may be closed to them)
install -m 0755 "$NSCTL" "$SB/bin/nsctl"
UNSCTL=$SB/bin/nsctl
VERSION=$(sed -n 's/^VERSION *:= *//p' "$NS_REPO/Makefile")
[[ -n $VERSION ]] || sandbox_die "no VERSION in $NS_REPO/Makefile"

# ------------------------------------------------------ --help, --version ---
for h in --help -h; do
    run "$NSCTL" "$h"
    check_eq "nsctl $h: exit 0, nothing on stderr" "0 " "$RC $ERR"
    check_match "nsctl $h: the usage on stdout, every command and option" \
        "^Usage:$NL nsctl \[--conf FILE\] COMMAND.* status \[--json\].* check \[--user NAME\].* gc \[--dry-run\] \[--kill\].* leases \[--json\].* exec USER -- CMD.*--conf FILE.*-h, --help.*-V, --version" \
        "$OUT"
done
run "$NSCTL" status --help
check_eq "nsctl status --help: exit 0, usage on stdout" "0 Usage:" "$RC $(head -n 1 <<<"$OUT")"
run as_nobody "$UNSCTL" --help
check_eq "nsctl --help as a user: exit 0, usage on stdout" "0 Usage:" "$RC $(head -n 1 <<<"$OUT")"
for v in --version -V; do
    run "$NSCTL" "$v"
    check_eq "nsctl $v prints 'nsctl $VERSION' (the Makefile's VERSION), exit 0, no stderr" \
        "0|nsctl $VERSION|" "$RC|$OUT|$ERR"
done
run as_nobody "$UNSCTL" --version
check_eq "nsctl --version as a user: the same" "0|nsctl $VERSION" "$RC|$OUT"

# ------------------------------------------------------ unknown command ---
for who in root setpriv su; do
    case $who in
    root) run "$NSCTL" frobnicate ;;
    setpriv) run as_nobody "$UNSCTL" frobnicate ;;
    su) run su -s /bin/sh alice -c "$UNSCTL frobnicate" ;;
    esac
    check_eq "unknown command ($who): exit 2, nothing on stdout" "2|" "$RC|$OUT"
    check_eq "unknown command ($who): one line naming it, then the --help hint" \
        "nsctl: unknown command 'frobnicate'|Try 'nsctl --help' for more information." \
        "$(head -n 1 <<<"$ERR")|$(sed -n 2p <<<"$ERR")"
    check_eq "unknown command ($who): two lines on stderr" 2 "$(wc -l <<<"$ERR")"
done
run as_nobody "$UNSCTL" --conf /nonexistent frobnicate
check_eq "unknown command after --conf of a missing file: still exit 2 (the config is not read)" \
    "2 nsctl: unknown command 'frobnicate'" "$RC $(head -n 1 <<<"$ERR")"
no_state "the unknown commands created no state"

# ---------------------------------------------------------- usage errors ---
usage_cases=("" "status --xml" "status --json extra" "gc --force" "leases extra"
             "leases --xml" "exec" "exec alice" "exec alice id" "exec alice --"
             "exec -- id" "check --conf" "check --user" "check --bogus" "check extra"
             "--json" "--conf" "--conf= status" "--bogus status" "status --conf")
for args in "${usage_cases[@]}"; do
    for who in root user; do
        # shellcheck disable=SC2086  # word splitting of args on purpose
        if [[ $who == root ]]; then run "$NSCTL" $args; else run as_nobody "$UNSCTL" $args; fi
        check_eq "nsctl $args ($who): usage error, exit 2, nothing on stdout" "2|" "$RC|$OUT"
        if [[ -z $args ]]; then
            check_match "nsctl with no command ($who): says so and prints the usage on stderr" \
                "^nsctl: no command given${NL}Usage:" "$ERR"
        else
            check_match "nsctl $args ($who): a one-line reason and the --help hint on stderr" \
                "^nsctl: [^$NL]+${NL}Try 'nsctl --help' for more information.$" "$ERR"
        fi
    done
done
run "$NSCTL" status --bogus
check_eq "an unknown option is named" "nsctl: status: unknown option '--bogus'" "$(head -n 1 <<<"$ERR")"
run "$NSCTL" exec alice id
check_match "exec without '--' says what is missing" "'--'" "$ERR"
no_state "the usage errors created no state"

# ------------------------------------------------------- root commands ---
for args in "status" "status --json" "gc" "gc --dry-run" "gc --kill" "leases" "leases --json" \
            "exec alice -- id" "--conf $SB/security/ns.conf status"; do
    # shellcheck disable=SC2086
    run as_nobody "$UNSCTL" $args
    check_eq "nsctl $args as a user: exit 1, nothing on stdout" "1|" "$RC|$OUT"
    check_match "nsctl $args as a user: says it must be run as root" \
        '^nsctl: [a-z]+ must be run as root$' "$ERR"
done
no_state "the refused root commands created no state"

# ------------------------------------------------ check, unprivileged ---
conf_file "$SB/pub/ok.conf" <<'EOF'
bridge = "nsbr0"
pool   = "10.213.0.0/16"
user "alice" { address = "10.213.0.50/16" }
EOF
for who in nobody alice; do
    run "as_$who" "$UNSCTL" check --conf "$SB/pub/ok.conf"
    check_eq "check --conf of a root-owned file as $who: exit 0" 0 "$RC"
    check_eq "check as $who: stdout is just the verdict" "$SB/pub/ok.conf: valid" "$OUT"
    check "check as $who: stderr holds warnings only" only_warnings "$ERR"
done
run as_alice "$UNSCTL" check
check_eq "check of the compiled-in file as a user: exit 0, valid" \
    "0 /etc/security/ns.conf: valid" "$RC $OUT"
run as_alice "$UNSCTL" check --conf "$SB/pub/ok.conf" --user alice
check_eq "check --user as a user: exit 0" 0 "$RC"
check_match "check --user as a user: the policy, with provenance" \
    "(^|$NL)address += \"10\.213\.0\.50/16\" +# user alice($NL|$)" "$OUT"
# A file the user owns: refused, as it would be by pam_ns and ns-shell.
install -o 2001 -g 2001 -m 0644 "$SB/pub/ok.conf" "$SB/pub/mine.conf"
run as_alice "$UNSCTL" check --conf "$SB/pub/mine.conf"
check_eq "check of a file alice owns, as alice: exit 1, no verdict on stdout" "1|" "$RC|$OUT"
check_match "... the ownership error names the file and its owner" \
    "(^|$NL)nsctl: $SB/pub/mine\.conf: not owned by root \(owner uid 2001\)($NL|$)" "$ERR"
check_match "... and says pam_ns and ns-shell refuse it too" \
    "(^|$NL)nsctl: $SB/pub/mine\.conf: pam_ns and ns-shell refuse it too" "$ERR"
check_fail "... and no warnings (the file is not valid)" grep -q 'warning' <<<"$ERR"
run "$NSCTL" check --conf "$SB/pub/mine.conf"
check_eq "the same file checked by root: refused the same way" \
    "1 nsctl: $SB/pub/mine.conf: not owned by root (owner uid 2001)" "$RC $(head -n 1 <<<"$ERR")"
install -m 0600 "$SB/pub/ok.conf" "$SB/pub/closed.conf"
run as_alice "$UNSCTL" check --conf "$SB/pub/closed.conf"
check_eq "check of a file the user cannot read: exit 1" 1 "$RC"
check_match "... says so" "$SB/pub/closed\.conf: cannot open: Permission denied" "$ERR"
conf_file "$SB/pub/bad.conf" <<'EOF'
pool = "10.213.0.0/16"
bogus_key = 1
EOF
run as_alice "$UNSCTL" check --conf "$SB/pub/bad.conf"
check_eq "check of an invalid file as a user: exit 1, the error on stderr" \
    "1|nsctl: $SB/pub/bad.conf:2: bogus_key: unknown key" "$RC|$ERR"
no_state "check as a user created no state"

# --------------------------------------------- stdout/stderr, write errors ---
run "$NSCTL" check
check_eq "check: the verdict alone on stdout" "/etc/security/ns.conf: valid" "$OUT"
check_match "check: the warnings go to stderr (no PAM stack here has pam_ns)" \
    "(^|$NL)nsctl: warning: /etc/pam.d/sshd: no pam_ns\.so" "$ERR"
check "check: stderr holds nothing but warnings" only_warnings "$ERR"
rc=0; "$NSCTL" status >/dev/full 2>"$SB/tmp/full.err" || rc=$?
check_eq "status into a full device: exit 1" 1 "$rc"
check_match "... with a write error on stderr" '^nsctl: write error' "$(cat "$SB/tmp/full.err")"
rc=0; "$NSCTL" --version >/dev/full 2>/dev/null || rc=$?
check_eq "--version into a full device: exit 1" 1 "$rc"

# --------------------------------------------------- JSON, nothing open ---
run "$NSCTL" status --json
check_eq "status --json with no session: exit 0, schema 1, an empty sessions array" "0 0" \
    "$RC $(json_schema1 sessions <<<"$OUT" 2>&1)"
run "$NSCTL" leases --json
check_eq "leases --json with no lease file: exit 0, schema 1, an empty leases array" "0 0" \
    "$RC $(json_schema1 leases <<<"$OUT" 2>&1)"

# ------------------------------------- --conf for every command ---
# A login whose PAM line reads another file (its own state dir, lease file,
# bridge and pool): only `nsctl --conf THAT-FILE ...` sees it.
conf_file "$ALT" <<EOF
bridge         = "nsalt0"
bridge_address = "10.99.0.1/16"
pool           = "10.99.0.0/16"
gateway        = "10.99.0.1"
state_dir      = "$ALT_STATE"
lease_file     = "$ALT_LEASES"
EOF
sandbox_pam su-l <<EOF
auth     sufficient pam_rootok.so
account  required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO conf=$ALT
EOF
rm -f /tmp/hold-alt
mkfifo -m 0666 /tmp/hold-alt
su - alice -c 'read x </tmp/hold-alt' </dev/null >"$SB/tmp/hold-alt.out" 2>&1 &
hold_pid=$!
wait_until 10 has_alt_record || sandbox_die "alice's login (pam_ns conf=$ALT) did not open" \
    "$(cat "$SB/tmp/hold-alt.out"; tail -n 5 "$SB_SYSLOG")"
sid=$(sids_in "$ALT_STATE")
addr=$(sed -n 's/^address=//p' "$ALT_STATE/sessions/$sid")
opened=$(sed -n 's/^opened=//p' "$ALT_STATE/sessions/$sid")
ino=$(stat -L -c %i "/proc/$hold_pid/ns/net")
check_match "the login took its address from the other file's pool" '^10\.99\.[0-9]+\.[0-9]+/16$' "$addr"

run "$NSCTL" status
check_eq "status without --conf: no session (the default state dir is empty)" "0 1" "$RC $(wc -l <<<"$OUT")"
for form in "--conf $ALT status" "--conf=$ALT status" "status --conf $ALT" "status --conf=$ALT"; do
    # shellcheck disable=SC2086
    run "$NSCTL" $form
    check_eq "nsctl $form: alice's row (sid user uid ... netns veth address bridge)" \
        "0 $sid alice 2001 ns-alice nsu2001 $addr nsalt0" \
        "$RC $(awk -v s="$sid" '$1 == s { print $1, $2, $3, $5, $6, $7, $8 }' <<<"$OUT")"
done
want_time=$(TZ=UTC date -d "@$opened" +%Y-%m-%dT%H:%M:%S%:z)
run env TZ=UTC "$NSCTL" --conf "$ALT" status
check_eq "status OPENED is ISO 8601 with the offset (TZ=UTC: +00:00)" "$want_time" \
    "$(awk -v s="$sid" '$1 == s { print $4 }' <<<"$OUT")"
want_time=$(TZ=Asia/Kolkata date -d "@$opened" +%Y-%m-%dT%H:%M:%S%:z)
run env TZ=Asia/Kolkata "$NSCTL" --conf "$ALT" status
check_eq "status OPENED in TZ=Asia/Kolkata: local time, +05:30" "$want_time" \
    "$(awk -v s="$sid" '$1 == s { print $4 }' <<<"$OUT")"
check_match "... which ends in +05:30" '\+05:30$' "$want_time"
run "$NSCTL" --conf "$ALT" status --json
check_eq "status --json with --conf: schema 1, alice's session, opened as ISO time = the record's" \
    "ok" "$("$PY" -c 'import json, sys, datetime
d = json.load(sys.stdin)
assert d["schema"] == 1
s = [x for x in d["sessions"] if x["session"] == sys.argv[1]]
assert len(s) == 1, d
s = s[0]
assert s["bridge"] == "nsalt0" and s["netns_inode"] == int(sys.argv[3]), s
t = datetime.datetime.fromisoformat(s["opened"])
assert t.utcoffset() is not None and int(t.timestamp()) == int(sys.argv[2]), s["opened"]
print("ok")' "$sid" "$opened" "$ino" <<<"$OUT" 2>&1)"

run "$NSCTL" leases
check_eq "leases without --conf: the header only" "0 1" "$RC $(wc -l <<<"$OUT")"
run "$NSCTL" --conf "$ALT" leases
check_eq "leases with --conf: alice's lease from the other lease file, in use" \
    "0 ${addr%/*} alice 2001 yes -" \
    "$RC $(awk '$2 == "alice" { print $1, $2, $3, $5, $6 }' <<<"$OUT")"
run "$NSCTL" leases --conf "$ALT" --json
check_eq "leases --json with --conf: schema 1, alice's lease" "ok" "$("$PY" -c 'import json, sys
d = json.load(sys.stdin)
assert d["schema"] == 1
l = d["leases"]
assert len(l) == 1 and l[0]["user"] == "alice" and l[0]["address"] == sys.argv[1] and l[0]["in_use"] is True, l
print("ok")' "${addr%/*}" <<<"$OUT" 2>&1)"

run "$NSCTL" exec alice -- true
check_eq "exec without --conf: alice has no session there" \
    "1 nsctl: alice has no open session" "$RC $ERR"
run "$NSCTL" --conf "$ALT" exec alice -- readlink /proc/self/ns/net
check_eq "exec with --conf: runs in alice's namespace" "0 net:[$ino]" "$RC $OUT"
run "$NSCTL" exec --conf "$ALT" alice -- sh -c 'exit 5'
check_eq "exec --conf FILE USER -- CMD: the command's status" 5 "$RC"

# gc: a stale copy of alice's record, in the other state dir only
dead=$(sh -c 'echo $$')
sed "s/^owner_pid=.*/owner_pid=$dead/" "$ALT_STATE/sessions/$sid" >"$ALT_STATE/sessions/0badc0de"
chmod 0644 "$ALT_STATE/sessions/0badc0de"
run "$NSCTL" gc --kill
check_eq "gc --kill without --conf: nothing to clean (another state dir)" "0 nothing to clean" "$RC $OUT"
check_eq "... it leaves alice's veth (a port of the other file's bridge) alone, with a warning" \
    "nsctl: warning: left veth nsu2001 (ns-shell user=alice uid=2001) alone: it is a port of bridge nsalt0, not of nsbr0 (a login under another configuration? see --conf)" \
    "$ERR"
check "... the stale record in the other state dir is still there" test -e "$ALT_STATE/sessions/0badc0de"
check "... alice's login lives on, veth and all" \
    test -e "/proc/$hold_pid" -a -e /sys/class/net/nsu2001
run "$NSCTL" --conf "$ALT" gc --dry-run
check_eq "gc --dry-run with --conf: names the stale record" \
    "0 would remove stale session 0badc0de of alice (owner $dead gone)" "$RC $OUT"
run "$NSCTL" gc --conf "$ALT"
check_eq "gc with --conf: removes it" \
    "0 removed stale session 0badc0de of alice (owner $dead gone)" "$RC $OUT"
check_eq "gc: nothing on stderr" "" "$ERR"
check "... the record is gone" test ! -e "$ALT_STATE/sessions/0badc0de"
check_eq "... alice's live record is not" "$sid" "$(sids_in "$ALT_STATE")"

run "$NSCTL" --conf "$ALT" check
check_eq "check with the global --conf: that file is valid" "0 $ALT: valid" "$RC $OUT"

# Each command reads the file it is given: an invalid one is refused, by name.
for args in "status" "status --json" "leases" "gc" "exec alice -- true" "check"; do
    # shellcheck disable=SC2086
    run "$NSCTL" --conf "$SB/pub/bad.conf" $args
    check_eq "nsctl --conf BAD $args: exit 1, nothing on stdout" "1|" "$RC|$OUT"
    check_match "nsctl --conf BAD $args: the error names that file" \
        "^nsctl: $SB/pub/bad\.conf:2: bogus_key: unknown key" "$ERR"
done
run "$NSCTL" --conf "$SB/pub/ok.conf" --conf "$ALT" status
check_match "--conf twice: the last one counts" "(^|$NL)$sid +alice " "$OUT"

timeout 5 sh -c 'echo >/tmp/hold-alt' || kill "$hold_pid"
wait "$hold_pid"
check "alice's login closed: its record in the other state dir is gone" \
    wait_until 5 no_alt_record
run "$NSCTL" --conf "$ALT" leases
check_eq "after the logout the lease stays, not in use" "${addr%/*} alice no" \
    "$(awk '$2 == "alice" { print $1, $2, $5 }' <<<"$OUT")"

sandbox_finish
