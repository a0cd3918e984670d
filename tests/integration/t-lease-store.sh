#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-lease-store.sh — the lease store under $(lease_file).d/ (one file per
# address, the by-uid index), with real clients (su, pamtester):
#  a) migration: an old single lease file (alice, bob, carol tagged with a
#     dead session, a bad line naming an address, one naming none) is
#     imported by the first login: alice keeps her address, each good line
#     becomes an address file and an index entry, the bad address is held
#     (a new user never gets it), the line without one lands in unparsed,
#     the old file is renamed .migrated; nsctl leases lists the users and
#     warns about the bad entry; a crash in the import repeats it; later
#     logins import nothing more, a returning user's login writes nothing,
#     a changed lease is replaced by rename (new inode, no temp file left);
#  b) O(1): with 0 and with 2,000 other users' leases, a returning user's
#     login opens the same few files of the store (strace -y: at most 3
#     opens, 1 readlink, no getdents64 on the store); a new user's first
#     login lists the directory but opens at most 3 address files;
#  e) nsctl gc frees a per-session address whose session is gone and
#     mends a lost index entry (--dry-run only reports);
#  c) crash safety (fault build, SIGKILL at leases-locked, lease-removed,
#     lease-indexed) for a new user's first login, a takeover of the least
#     recently used lease of a full /29, and a static address that moves a
#     user onto another (logged out) user's address: afterwards every
#     address file parses and is indexed, nobody has two sticky leases,
#     each user has her old lease or her new one (none while her own lease
#     moves, never both), the victim keeps her address, nsctl leases agrees
#     and warns of nothing; then a normal login works and leaves a
#     consistent store;
#  d) nsctl leases over the store: rows sorted by address (numerically),
#     --json with the same schema as before (schema 1; address, user, uid,
#     last_used, in_use, session).
# ns-test-timeout: 300
# shellcheck disable=SC2016,SC2034,SC2119,SC2317  # single-quoted login commands; helpers via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
FAULT_SO=$NS_BUILD/fault/pam_ns.so
[[ -f $FAULT_SO ]] || sandbox_die "no $FAULT_SO (run: make build/fault/pam_ns.so)"
command -v strace >/dev/null || sandbox_die "no strace (the O(1) checks count system calls with it)"
sandbox_install_ns_shell
add_users 2001 alice bob carol dave erin frank
: | sandbox_conf
pam_with_ns su su-l
pam_ns_alone nstest
PAM_NS_MODULE=$FAULT_SO pam_ns_alone svcfault

# fresh_store : no store, no old lease file, no bridge, no record
fresh_store() {
    rm -rf "$LEASE_DIR" "$LEASES" "$LEASES.migrated" "$SESS"/* 2>/dev/null
    ip link del nsbr0 2>/dev/null
    return 0
}
# login USER [SERVICE] : pamtester open_session close_session (RC, OUT, ERR)
login() { run pamtester "${2:-nstest}" "$1" open_session close_session; }
# leases_of_users : "user address" of every sticky lease, sorted by user
leases_of_users() { lease_lines | awk 'NF == 4 { print $2, $3 }' | sort; }
tmp_files() { find "$LEASE_DIR" -name '.*tmp*' -printf '%P\n' 2>/dev/null; }
# nsctl_rows : nsctl leases as "user address" of its rows, sorted by user
nsctl_rows() { tail -n +2 <<<"$1" | awk '$6 == "-" { print $2, $1 }' | sort; }

# ======================================================== (a) migration ===
fresh_store
OLD='2001 alice 10.213.0.5 1000
2002 bob 10.213.0.3 2000
2003 carol 10.213.0.7 3000 0badcafe
garbage x 10.213.0.2 notanumber
this is not a lease'
mkdir -p /var/lib/ns-shell && conf_file "$LEASES" <<<"$OLD"
before=$(find /var/lib/ns-shell | sort)
run "$NSCTL" gc --dry-run
check_match "(a) nsctl gc --dry-run says it would import the old file first" \
    "would import the lease file $LEASES into the lease store first" "$OUT"
check_eq "(a) ... and changes nothing under /var/lib/ns-shell (no store, no import)" "$before" \
    "$(find /var/lib/ns-shell | sort)"
# a crash in the middle of the import (after the index entries of the good
# lines, before their files): the old file stays, the next login imports it
run env NS_FAULT_POINT=lease-indexed pamtester svcfault alice open_session
check_eq "(a) a login killed in the import (fault lease-indexed): SIGKILL" 137 "$RC"
check_eq "(a) ... the old lease file is still there, unchanged, not yet renamed" "$OLD|no" \
    "$(cat "$LEASES")|$([[ -e $LEASES.migrated ]] && echo yes || echo no)"
as_user alice 'ip -br -4 addr show dev eth0'
check_login "(a) alice's first login after the upgrade works (su -)"
check_match "(a) ... with her old address 10.213.0.5" 'eth0(@[^ ]*)? +UP +10\.213\.0\.5/16' "$AS_OUT"
check_eq "(a) the old file is renamed $LEASES.migrated, unchanged" "gone|$OLD" \
    "$([[ -e $LEASES ]] && echo there || echo gone)|$(cat "$LEASES.migrated" 2>&1)"
check_eq "(a) each good line is an address file (alice's last_used refreshed)" \
    "2002 bob 10.213.0.3 2000|2001 alice 10.213.0.5|2003 carol 10.213.0.7 3000 0badcafe" \
    "$(cat "$LEASE_DIR/10.213.0.3")|$(cut -d' ' -f1-3 "$LEASE_DIR/10.213.0.5")|$(cat "$LEASE_DIR/10.213.0.7")"
check_eq "(a) ... root-owned 0644 regular files" "regular file root 644|regular file root 644|regular file root 644" \
    "$(stat -c '%F %U %a' "$LEASE_DIR"/10.213.0.{3,5,7} | paste -sd'|')"
check_eq "(a) ... each with its index entry (a symlink to the bare address)" \
    "2001 -> 10.213.0.5|2002 -> 10.213.0.3|2003.0badcafe -> 10.213.0.7" \
    "$(for f in "$LEASE_DIR"/by-uid/*; do printf '%s -> %s\n' "${f##*/}" "$(readlink "$f")"; done | paste -sd'|')"
check_eq "(a) the bad line naming 10.213.0.2 is a bad file there, verbatim" "garbage x 10.213.0.2 notanumber" \
    "$(cat "$LEASE_DIR/10.213.0.2" 2>&1)"
check_eq "(a) the line naming no address is in $LEASE_DIR/unparsed" "this is not a lease" \
    "$(cat "$LEASE_DIR/unparsed" 2>&1)"
check_eq "(a) nothing else in the store, no temp file" "10.213.0.2 10.213.0.3 10.213.0.5 10.213.0.7 by-uid unparsed" \
    "$(ls -A "$LEASE_DIR" | sort -V | xargs)"
as_user dave 'ip -br -4 addr show dev eth0'
check_login "(a) dave, a new user, logs in"
check_match "(a) ... with 10.213.0.4: not the held .2 (the bad line's), nor .3, .5, .7" \
    'eth0(@[^ ]*)? +UP +10\.213\.0\.4/16' "$AS_OUT"
check_eq "(a) ... his lease is the file .4, indexed" "2004 dave 10.213.0.4|10.213.0.4" \
    "$(cut -d' ' -f1-3 "$LEASE_DIR/10.213.0.4")|$(readlink "$LEASE_DIR/by-uid/2004")"
run "$NSCTL" leases
check_eq "(a) nsctl leases: exit 0, alice, bob, carol (her dead session's tag) and dave, by address" \
    "0|10.213.0.3 bob 2002 - 10.213.0.4 dave 2004 - 10.213.0.5 alice 2001 - 10.213.0.7 carol 2003 0badcafe" \
    "$RC|$(tail -n +2 <<<"$OUT" | awk '{ print $1, $2, $3, $6 }' | xargs)"
check_eq "(a) ... and warns about the bad entry, naming its file" \
    "nsctl: warning: $LEASE_DIR/10.213.0.2: a bad lease entry (its address is never handed out): mend or remove it" "$ERR"
# a returning user's login writes nothing; a second login imports nothing
state=$(lease_store_state) mig=$(stat -c '%i %Y' "$LEASES.migrated")
login alice
check_eq "(a) alice's next login (pamtester) works" 0 "$RC"
check_eq "(a) ... and changes nothing in the store (names, inodes, contents)" "$state" "$(lease_store_state)"
check_eq "(a) ... nor the .migrated file; no new old file" "$mig|gone" \
    "$(stat -c '%i %Y' "$LEASES.migrated")|$([[ -e $LEASES ]] && echo there || echo gone)"
# bob's last_used (2000) is old: his login rewrites his file, by rename
ino=$(stat -c %i "$LEASE_DIR/10.213.0.3")
login bob
check_eq "(a) bob's login works" 0 "$RC"
check_match "(a) ... his last_used is refreshed" '^2002 bob 10\.213\.0\.3 1[0-9]{9}$' "$(cat "$LEASE_DIR/10.213.0.3")"
check_fail "(a) ... by replacing his file (a new inode: temp file + rename)" \
    test "$ino" = "$(stat -c %i "$LEASE_DIR/10.213.0.3")"
check_eq "(a) ... no temp file left in the store" "" "$(tmp_files)"
check_eq "(a) the store is consistent (bad .2 aside)" "10.213.0.2: not one lease line naming 10.213.0.2: 'garbage x 10.213.0.2 notanumber\\n'" \
    "$(lease_problems)"

# ============================================================== (b) O(1) ===
# traced_login USER : pamtester login of USER under strace -f -y; TRACE
# gets the calls that name the store, leases.d (openat, readlinkat,
# getdents64; -y shows a directory fd's path)
traced_login() {
    local t=$SB/tmp/strace.$1
    run strace -f -y -qq -e trace=openat,readlinkat,getdents64 -o "$t" \
        pamtester nstest "$1" open_session close_session
    TRACE=$(grep -F "${LEASE_DIR##*/}" "$t" | sed 's/^[0-9]* *//')
}
n_calls() { grep -c "^$1(" <<<"$TRACE"; }
# addr_opens : openat calls of an address file in the store
addr_opens() { grep -cE "^openat\([0-9]+<${LEASE_DIR//./\\.}>, \"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\"" <<<"$TRACE"; }
fresh_store
login alice
check_eq "(b) alice's first login (empty store) works" 0 "$RC"
traced_login alice
check_eq "(b) her second login (traced) works" 0 "$RC"
o0=$(n_calls openat) r0=$(n_calls readlinkat) g0=$(n_calls getdents64)
printf '# (b) returning user, no other lease: %s opens, %s readlinks, %s getdents64 in the store\n%s\n' \
    "$o0" "$r0" "$g0" "$(sed 's/^/#   /' <<<"$TRACE")"
check "(b) ... opens at most 3 files of the store (the store, by-uid/, her address file): $o0" test "$o0" -le 3
check_eq "(b) ... one of them her address file" 1 "$(addr_opens)"
check_eq "(b) ... lists no directory of the store (no getdents64)" 0 "$g0"
# 2,000 leases of other users (10.213.10.10 - 10.213.19.209), seeded directly
now=$(date +%s)
t0=$EPOCHREALTIME
for ((i = 0; i < 2000; i++)); do
    echo "$((10000 + i)) x$((10000 + i)) 10.213.$((10 + i / 200)).$((10 + i % 200)) $now"
done | lease_seed
printf '# (b) 2,000 leases seeded in %s ms\n' "$(ms_since "$t0")"
check_eq "(b) 2,001 leases in the store" 2001 "$(lease_lines | wc -l)"
traced_login alice
check_eq "(b) with 2,000 other leases alice's login works" 0 "$RC"
o1=$(n_calls openat) r1=$(n_calls readlinkat) g1=$(n_calls getdents64)
printf '# (b) returning user, 2,000 other leases: %s opens, %s readlinks, %s getdents64 in the store\n' "$o1" "$r1" "$g1"
check_eq "(b) ... the same calls on the store as with none (opens, readlinks, getdents64)" "$o0 $r0 $g0" "$o1 $r1 $g1"
check "(b) ... at most 3 opens ($o1)" test "$o1" -le 3
check_eq "(b) ... no getdents64 on the store" 0 "$g1"
check_eq "(b) ... one address file opened (hers)" 1 "$(addr_opens)"
traced_login bob
check_eq "(b) bob, a new user, logs in with 2,000 leases in the store" 0 "$RC"
printf '# (b) new user, 2,000 other leases: %s opens (%s address files), %s getdents64\n' \
    "$(n_calls openat)" "$(addr_opens)" "$(n_calls getdents64)"
check "(b) ... opening at most 3 address files ($(addr_opens))" test "$(addr_opens)" -le 3
check_eq "(b) ... he gets the first free address, 10.213.0.3" "10.213.0.3" "$(lease_of -s bob)"
check_eq "(b) the store is consistent" "" "$(lease_problems)"

# ====================================== (d) nsctl leases over the store ===
run "$NSCTL" leases
TABLE=$OUT
check_eq "(d) nsctl leases: exit 0, nothing on stderr, a header and 2,002 rows" "0||2003" "$RC|$ERR|$(wc -l <<<"$OUT")"
check_eq "(d) ... the header as before" "ADDRESS USER UID LAST-USED IN-USE SID" "$(head -n 1 <<<"$OUT" | xargs)"
check_eq "(d) ... rows sorted by address (numerically: 10.213.0.x, then 10.213.10.10 ... 10.213.19.209)" \
    "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }' | sort -V | md5sum)" "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }' | md5sum)"
check_eq "(d) ... the rows are the store's leases" "$(lease_lines | awk '{ print $3, $2, $1 }' | md5sum)" \
    "$(tail -n +2 <<<"$OUT" | awk '{ print $1, $2, $3 }' | md5sum)"
run "$NSCTL" leases --json
check_eq "(d) nsctl leases --json: schema 1, the same fields, the same leases in the same order" "ok" "$("$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"schema", "leases"} and d["schema"] == 1, set(d)
want = [l.split() for l in open(sys.argv[1]).read().splitlines()]
assert len(d["leases"]) == len(want), (len(d["leases"]), len(want))
for l, w in zip(d["leases"], want):
    assert set(l) == {"address", "user", "uid", "last_used", "in_use", "session"}, l
    assert [l["address"], l["user"], str(l["uid"])] == w[:3], (l, w)
    assert l["in_use"] is False and l["session"] == "", l
print("ok")' <(tail -n +2 <<<"$TABLE" | awk '{ print $1, $2, $3 }') <<<"$OUT" 2>&1)"

# ============================================ (e) nsctl gc on the store ===
# A per-session address whose session is gone (a killed su leaves one) is
# freed by gc; a lease whose index entry was lost (a power cut, an admin)
# gets it back; --dry-run only reports.
fresh_store
lease_seed <<'EOF'
2001 alice 10.213.0.2 1000
2001 alice 10.213.0.7 1000 0000abcd
2002 bob 10.213.0.3 1000
EOF
rm -f "$LEASE_DIR/by-uid/2002"
before=$(lease_store_state)
run "$NSCTL" gc --dry-run
check_match "(e) gc --dry-run: would free alice's address of the dead session 0000abcd" \
    'would free address 10\.213\.0\.7 of alice: its session 0000abcd is gone' "$OUT"
check_eq "(e) ... and changes nothing in the store" "$before" "$(lease_store_state)"
run "$NSCTL" gc
check_eq "(e) gc: exit 0, nothing on stderr" "0|" "$RC|$ERR"
check_match "(e) gc frees alice's address of the dead session 0000abcd" \
    'freed address 10\.213\.0\.7 of alice: its session 0000abcd is gone' "$OUT"
check_match "(e) gc points the index at bob's lease again" 'pointed the lease index at 1 lease it did not name' "$OUT"
check_eq "(e) ... the store: alice's and bob's sticky leases, consistent" \
    "alice 10.213.0.2|bob 10.213.0.3|" "$(leases_of_users | tr '\n' '|')$(lease_problems)"
check_eq "(e) ... bob's index names his address" "10.213.0.3" "$(readlink "$LEASE_DIR/by-uid/2002")"
login bob
check_eq "(e) bob's next login keeps 10.213.0.3 (found through the index)" "0 10.213.0.3" "$RC $(lease_of -s bob)"
run "$NSCTL" gc
check_eq "(e) a second gc frees no address and mends no index entry (bob's neighbour entry may go: his login ended)" \
    "0|" "$RC|$(grep -E 'freed address|would free|lease index' <<<"$OUT")"

# ================================================= (c) crash safety ===
# Each case: a fresh store as seeded, then pamtester (fault build) killed at
# point P, then the checks, then a normal login of the same user.
declare -A CONF SEED WHO OLD NEW VICTIM
CONF[new]=''
SEED[new]='2002 bob 10.213.0.2 1000'
WHO[new]=carol OLD[new]='' NEW[new]=10.213.0.3 VICTIM[new]=''
CONF[takeover]='pool = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"'
SEED[takeover]='2001 alice 10.213.0.2 1000
2002 bob 10.213.0.3 2000
2004 dave 10.213.0.4 3000
2005 erin 10.213.0.5 4000
2006 frank 10.213.0.6 5000'
WHO[takeover]=carol OLD[takeover]='' NEW[takeover]=10.213.0.2 VICTIM[takeover]=alice
CONF[static]='user "alice" { address = "10.213.0.9/16" }'
SEED[static]='2001 alice 10.213.0.2 1000
2002 bob 10.213.0.9 2000'
WHO[static]=alice OLD[static]=10.213.0.2 NEW[static]=10.213.0.9 VICTIM[static]=bob
declare -A WHAT=([new]="a new user's first login" [takeover]="a takeover in a full /29"
                 [static]="a static address moving alice onto bob's")
for s in new takeover static; do
    printf '%s\n' "${CONF[$s]}" | sandbox_conf
    u=${WHO[$s]} v=${VICTIM[$s]}
    for p in leases-locked lease-removed lease-indexed; do
        c="(c) $s, fault $p"
        fresh_store
        lease_seed <<<"${SEED[$s]}"
        others=$(leases_of_users | grep -v "^$u ")
        run env NS_FAULT_POINT="$p" pamtester svcfault "$u" open_session
        check_eq "$c: ${WHAT[$s]} is killed there (SIGKILL)" 137 "$RC"
        check_eq "$c: every address file parses and is indexed, nobody has two sticky leases" "" "$(lease_problems)"
        check_eq "$c: no temp file left" "" "$(tmp_files)"
        # Before its address file is written the change is not made: the
        # user keeps her old lease (none for a new user), and so does the
        # victim; the next login decides again (DESIGN, "Order of writes").
        # A static move removes the old file first: at lease-removed and
        # lease-indexed alice holds neither (DESIGN: "a user whose own lease
        # moves ... has none, and her next login picks again"), never both.
        want=${OLD[$s]}
        [[ $s == static && $p != leases-locked ]] && want=''
        check_eq "$c: $u has her old lease or none (${want:-none}: her new address file is not written yet)" \
            "$want" "$(lease_of -s "$u")"
        check_eq "$c: every other user keeps her lease${v:+ (the victim $v included: the file was not written)}" \
            "$others" "$(leases_of_users | grep -v "^$u ")"
        run "$NSCTL" leases
        check_eq "$c: nsctl leases lists exactly these leases, warns of nothing" \
            "0|$(leases_of_users)|" "$RC|$(nsctl_rows "$OUT")|$ERR"
        login "$u"
        check_eq "$c: then a normal login of $u works" 0 "$RC"
        check_eq "$c: ... with her new address ${NEW[$s]}" "${NEW[$s]}" "$(lease_of -s "$u")"
        [[ -n $v ]] && check_eq "$c: ... the victim $v has no lease any more (not logged in)" "" "$(lease_of "$v")"
        check_eq "$c: ... and the store is consistent (one sticky lease each, each file indexed, no temp file)" "" \
            "$(lease_problems; tmp_files)"
    done
done

sandbox_finish
