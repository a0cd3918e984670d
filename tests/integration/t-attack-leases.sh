#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Leases, session caps and odd ids (issue #11, hole 5), with pamtester and
# su against pam_ns.so:
#  a) max_sessions: with netns = "session" and max_sessions = 2, a third
#     login of alice is refused with a message naming max_sessions; a
#     stale session does not count; closing one lets a new one in; the cap
#     is per user (and per policy block);
#  b) a login that fails after taking over another user's least recently
#     used lease (full /29 pool; its veth name is taken by an admin's
#     dummy link) gives that lease back, same address; likewise a lease
#     displaced by a static address;
#  c) uids 4294967295 and 65535 are refused before any state is made, and
#     the other users' logins still work;
#  d) bad files in the lease store (garbage, a line naming another address,
#     a second lease of a uid, the uid 4294967295 line an older version
#     wrote; a symlink to a root-only file, a file alice owns, a 0666 file,
#     a FIFO, a 100 MB file, a NUL byte) stop nobody's login (nor block it),
#     are left as they are (a symlink is never followed), their addresses
#     are not handed out, an index entry naming one is ignored, and nsctl
#     leases warns about each;
#  e) exempt_uid_below: uid 999 is not namespaced by default; with
#     exempt_uid_below = 0 it is (and root never is).
# shellcheck disable=SC2016,SC2034,SC2119,SC2153,SC2174,SC2317  # single-quoted login commands; LEASES etc. from the libs; helpers via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 3001 alice bob carol dave erin frank
pam_with_ns su su-l
pam_ns_alone nstest debug
FAULT_SO=$NS_BUILD/fault/pam_ns.so

lines_of() { lease_lines | awk -v u="$1" '$2 == u'; }
n_lines_of() { lines_of "$1" | grep -c .; }
# put_leases < TEXT : the lease store holding just these leases
put_leases() { rm -rf "$LEASE_DIR" "$LEASES"; lease_seed; }

# ========================================= (a) max_sessions = 2 ===
sandbox_conf <<'EOF'
default { netns = "session" max_sessions = 2 }
user "bob" { max_sessions = 1 }
EOF
hold M1 alice
wait_until 10 has_n_records_of 3001 1
hold M2 alice
check "(a) max_sessions = 2: alice holds two sessions" wait_until 10 has_n_records_of 3001 2
run pamtester nstest alice open_session close_session
check_fail "(a) a third pamtester open_session of alice is refused" test "$RC" = 0
check "(a) ... the log names max_sessions" \
    sandbox_log_wait 'pam_ns\(nstest:session\): session of alice refused: alice has 2 open sessions \(max_sessions = 2\)' 10
as_user alice 'echo IN'
check_fail "(a) ... a third su - alice is refused as well" test "$AS_RC" = 0
check_eq "(a) ... still two records of alice, two leases (sticky + per-session)" "2 2" \
    "$(sids_of 3001 | wc -l) $(n_lines_of alice)"
hold MB1 bob
wait_until 10 has_n_records_of 3002 1
run pamtester nstest bob open_session close_session
check_fail "(a) user \"bob\" { max_sessions = 1 }: bob's second session is refused" test "$RC" = 0
check "(a) ... the log names max_sessions = 1" \
    sandbox_log_wait 'session of bob refused: bob has 1 open sessions \(max_sessions = 1\)' 10
release MB1
run pamtester nstest carol open_session close_session
check_eq "(a) the cap is per user: carol logs in while alice is at hers" 0 "$RC"
# a session whose owner was killed (stale) does not count
kill -KILL "${HOLD_PID[M2]}"
wait "${HOLD_PID[M2]}" 2>/dev/null
check_eq "(a) alice's second su is SIGKILLed: its record stays (stale)" 2 "$(sids_of 3001 | wc -l)"
# ... but what that login started still runs (its ns-shell, its shell):
# the namespace and its address are still in use, so it still counts.
run pamtester nstest alice open_session close_session
check_fail "(a) the SIGKILLed su's login still runs: it counts, a new login of alice is refused" test "$RC" = 0
release M2
check "(a) ... its shell ends: no process of that login is left (its reaper included)" \
    wait_until 20 bash -c '! pgrep -f "hold/[M]2"'
run pamtester nstest alice open_session close_session
check_eq "(a) a stale session does not count: a new login of alice opens" "0" "$RC"
[[ $RC == 0 ]] || printf '#   %s\n' "$OUT" "$ERR"
check_eq "(a) ... and the stale record was reaped" 1 "$(sids_of 3001 | wc -l)"
run pamtester nstest alice open_session close_session
check_eq "(a) one live session of alice: pamtester open_session + close_session succeeds" 0 "$RC"
release M1
check "(a) no record of alice is left" wait_until 20 has_n_records_of 3001 0
wait_until 30 no_ns_links

# ======================= (b) a failed takeover gives the lease back ===
sandbox_conf <<'EOF'
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
EOF
ip link del nsbr0 2>/dev/null   # made with the /16 above
FULL='3001 alice 10.213.0.2 1000
3002 bob 10.213.0.3 2000
3003 carol 10.213.0.4 3000
3004 dave 10.213.0.5 4000
3005 erin 10.213.0.6 5000'
put_leases <<<"$FULL"
sorted() { sort <<<"$1"; }
# Control with the fault build: SIGKILL right after the pick (no rollback
# can run) shows that frank's login takes over alice's .2 (the LRU one).
if [[ -f $FAULT_SO ]]; then
    PAM_NS_MODULE=$FAULT_SO pam_ns_alone svcfault
    run env NS_FAULT_POINT=lease pamtester svcfault frank open_session
    check_eq "(b) control: fault 'lease' kills pamtester right after the pick (137)" 137 "$RC"
    check_eq "(b) control: ... the pick took over alice's .2 (LRU; a crash cannot give it back)" \
        "3006 frank 10.213.0.2|" "$(sticky_of frank | cut -d' ' -f1-3)|$(sticky_of alice)"
    wait_until 30 no_ns_links || sandbox_die "(b) control: the crashed login's veth did not go" "$(ip -o link show)"
else
    sandbox_not_ok "(b) control: $FAULT_SO exists (make $FAULT_SO)"
fi
put_leases <<<"$FULL"
# frank's veth name is taken by a link that is not ours: his login fails
# after the lease is taken (creating the veth).
ip link add nsu3006 type veth peer name adm3006
ip link set dev nsu3006 alias "admin's link, not ns-shell"
run pamtester nstest frank open_session close_session
check_fail "(b) full /29: frank's login fails after the takeover (nsu3006 is taken)" test "$RC" = 0
check "(b) ... the log says why" sandbox_log_wait 'session of frank refused: veth nsu3006 exists and is not one of ours' 10
check_eq "(b) ... alice's sticky lease is back, same address" "3001 alice 10.213.0.2 1000" "$(sticky_of alice)"
check_eq "(b) ... frank has no lease" "" "$(lines_of frank)"
check_eq "(b) ... the lease store holds exactly the 5 leases it had" "$(sorted "$FULL")" "$(lease_lines | sort)"
check_eq "(b) ... no record is left" 0 "$(n_records)"
check "(b) ... the admin's nsu3006 is untouched" bash -c "ip -d link show dev nsu3006 | grep -q \"alias admin's link\""
as_user frank 'echo IN'
check_fail "(b) the same with su - frank: refused" test "$AS_RC" = 0
check_eq "(b) ... alice's lease is back again" "3001 alice 10.213.0.2 1000" "$(sticky_of alice)"
check_eq "(b) ... the store holds exactly the 5 leases" "$(sorted "$FULL")" "$(lease_lines | sort)"
# bob (not root) runs su frank, typing frank's password: pam_ns's lease
# work then runs in its detached worker (su keeps bob's real uid)
run setpriv --reuid=bob --regid=bob --init-groups "$PY" -I "$SB/bin/ptysu.py" "$PWFILE" su frank -c 'echo IN-$USER'
check_fail "(b) bob runs su frank (password on a pty): refused" grep -q IN-frank <<<"$OUT"
check_match "(b) ... at the session, after the password" 'cannot open session.*rc=[1-9]' "$OUT"
check_eq "(b) ... alice's lease is back again" "3001 alice 10.213.0.2 1000" "$(sticky_of alice)"
check_eq "(b) ... the store holds exactly the 5 leases" "$(sorted "$FULL")" "$(lease_lines | sort)"
# a static address that displaces another user's lease, then fails
sandbox_conf <<'EOF'
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
user "frank" { address = "10.213.0.4/29" }
EOF
run pamtester nstest frank open_session close_session
check_fail "(b) frank with a static .4 (carol's lease): his login fails at the veth" test "$RC" = 0
check_eq "(b) ... carol's sticky lease is back, same address" "3003 carol 10.213.0.4 3000" "$(sticky_of carol)"
check_eq "(b) ... the store holds exactly the 5 leases" "$(sorted "$FULL")" "$(lease_lines | sort)"
ip link del nsu3006
as_user frank 'ip -br -4 addr show dev eth0'
check_login "(b) with the link gone frank logs in (static .4)"
check_match "(b) ... with .4" "eth0(@[^ ]*)? +UP +10\.213\.0\.4/29" "$AS_OUT"
check_eq "(b) ... now holding the lease of .4 (carol was not logged in)" "" "$(sticky_of carol)"
wait_until 30 no_ns_links

# ===================================== (c) uids 4294967295 and 65535 ===
: | sandbox_conf
ip link del nsbr0 2>/dev/null
rm -rf "$LEASE_DIR" "$LEASES"
add_raw maxuid 4294967295 3990
add_raw u65535 65535 3991
check_eq "(c) control: the system resolves uid 4294967295 and 65535" "maxuid u65535" \
    "$(getent passwd maxuid | cut -d: -f1) $(getent passwd u65535 | cut -d: -f1)"
su bob -c true </dev/null >/dev/null 2>&1
for spec in maxuid:4294967295 u65535:65535; do
    u=${spec%:*} id=${spec#*:}
    run pamtester nstest "$u" open_session close_session
    check_fail "(c) uid $id ($u): pamtester open_session is refused" test "$RC" = 0
    check "(c) ... with a clear message" sandbox_log_wait "session of $u refused: uid $id of $u is not a usable uid" 10
    run su "$u" -c 'echo IN'
    check_fail "(c) ... su $u is refused too" grep -qx IN <<<"$OUT"
    check "(c) ... (the log says so for su)" sandbox_log_wait "pam_ns\(su:session\): session of $u refused: uid $id of $u is not a usable uid" 10
    check_eq "(c) ... no lease line for $u, no record, no veth nsu$id" "0 0 absent" \
        "$(lease_lines | grep -c " $u ") $(n_records) $(link_absent "nsu$id" && echo absent)"
done
check_eq "(c) the lease store has only bob's lease" "3002 bob" "$(lease_lines | cut -d' ' -f1,2 | xargs)"
as_user alice 'ip -br -4 addr show dev eth0'
check_login "(c) afterwards alice logs in (su)"
check_match "(c) ... with an address" "eth0(@[^ ]*)? +UP +$(sticky_of alice | cut -d' ' -f3 | sed 's/\./\\./g')/16" "$AS_OUT"
run pamtester nstest bob open_session close_session
check_eq "(c) ... bob logs in (pamtester)" 0 "$RC"
check_eq "(c) ... the lease store has alice's and bob's leases only" "3001 alice${NL}3002 bob" \
    "$(lease_lines | cut -d' ' -f1,2 | sort)"
wait_until 30 no_ns_links

# ================================ (d) bad files in the lease store ===
# Each bad address file is what a bad line of the old lease file was (and
# more: a file pam_ns must not trust). None stops a login, each is left as
# it is, and its address is never handed out:
#   .3  garbage naming .3            .5  the uid 4294967295 line an older version wrote
#   .6  a double space (erin's)      .7  carol's line naming bob's .4 (another address)
#   .8  a second sticky lease of bob .9  no lease at all
#   .10 a symlink to a root-only file holding "3004 dave 10.213.0.10 1000"
#   .11 dave's line, owned by alice  .12 dave's line, root but mode 0666
#   .13 a FIFO                       .14 a 100 MB sparse file
#   .15 dave's line with a NUL byte  (and "notes", a name that is no address)
# dave's index entry names .11 (a file alice could have written).
rm -rf "$LEASE_DIR" "$LEASES"
lease_seed '3001 alice 10.213.0.2 1000' '3002 bob 10.213.0.4 1000'
BAD=('garbage x 10.213.0.3 notanumber'
     '4294967295 maxuid 10.213.0.5 1000'
     '3005  erin 10.213.0.6 1000'
     '3003 carol 10.213.0.4 1000'
     '3002 bob 10.213.0.8 1000'
     'this line is not a lease')
BAD_AT=(3 5 6 7 8 9)
for i in "${!BAD[@]}"; do printf '%s\n' "${BAD[i]}" >"$LEASE_DIR/10.213.0.${BAD_AT[i]}"; done
printf 'notes of an admin, not a lease\n' >"$LEASE_DIR/notes"
BAIT=$SB/bait-lease                 # root-only: an open of it is a privileged one
mkdir -m 0700 "$BAIT"
printf '3004 dave 10.213.0.10 1000\n' >"$BAIT/lease"; chmod 0600 "$BAIT/lease"
ln -s "$BAIT/lease" "$LEASE_DIR/10.213.0.10"
printf '3004 dave 10.213.0.11 1000\n' >"$LEASE_DIR/10.213.0.11"; chown alice "$LEASE_DIR/10.213.0.11"
printf '3004 dave 10.213.0.12 1000\n' >"$LEASE_DIR/10.213.0.12"; chmod 0666 "$LEASE_DIR/10.213.0.12"
mkfifo -m 0644 "$LEASE_DIR/10.213.0.13"
truncate -s 100M "$LEASE_DIR/10.213.0.14"
printf '3004 dave 10.213.0.15 1000\0\n' >"$LEASE_DIR/10.213.0.15"
ln -sfn 10.213.0.11 "$LEASE_DIR/by-uid/3004"
HELD='^10\.213\.0\.([2-9]|1[0-5])$'   # .2 .4 leased, the rest bad
# bad_state : the bad files (and the stray one) as they are now
bad_state() { lease_store_state | grep -E '^(10\.213\.0\.(3|[5-9]|1[0-5])|notes)[ :]'; }
bad_before=$(bad_state)
bait_watch "$BAIT" "$BAIT/lease"
t0=$EPOCHREALTIME
as_user alice 'ip -br -4 addr show dev eth0'
ms=$(ms_since "$t0")
check_login "(d) with 12 bad address files in the lease store alice logs in"
check_match "(d) ... and keeps her .2" "eth0(@[^ ]*)? +UP +10\.213\.0\.2/16" "$AS_OUT"
check "(d) ... not blocked until the 30 s AS_TIMEOUT (the FIFO, the 100 MB file: nothing blocks) ($ms ms)" test "$ms" -lt 20000
run pamtester nstest bob open_session close_session
check_eq "(d) bob logs in (pamtester)" 0 "$RC"
check_eq "(d) ... keeping his .4 (his second sticky lease .8 is a bad file)" "3002 bob 10.213.0.4" \
    "$(sticky_of bob | grep -v 10.213.0.8 | cut -d' ' -f1-3)"
RUN_TIMEOUT=10 run su dave -c 'ip -br -4 addr show dev eth0'
check_eq "(d) dave, whose index names a file alice owns, logs in" 0 "$RC"
d_addr=$(lease_of -s dave)
check_fail "(d) ... with an address none of the bad files names (.3 .5-.15): $d_addr" \
    grep -qE "$HELD" <<<"$d_addr"
check_match "(d) ... a pool address, on eth0" "eth0(@[^ ]*)? +UP +${d_addr//./\\.}/16" "$OUT"
check_eq "(d) ... his index names his new file" "$d_addr" "$(readlink "$LEASE_DIR/by-uid/3004")"
as_user carol 'ip -br -4 addr show dev eth0'
check_login "(d) carol (whose only line is the bad .7, naming bob's .4) logs in"
c_addr=$(lease_of -s carol)
check_fail "(d) ... with a fresh address, not bob's .4 nor any held one: $c_addr" grep -qE "$HELD" <<<"$c_addr"
check_match "(d) ... a pool address" '^10\.213\.[0-9]+\.[0-9]+$' "$c_addr"
check_fail "(d) ... distinct from dave's" test "$c_addr" = "$d_addr"
as_user erin 'echo IN'
check_login "(d) erin (only a double-spaced bad line) logs in"
check_fail "(d) ... not with .6" grep -qE "$HELD" <<<"$(lease_of -s erin)"
bait_sync
check_eq "(d) the symlink .10 was never followed: its root-only target was not opened" "" "$(bait_events | sort -u)"
kill "$BAIT_PID" 2>/dev/null
check_eq "(d) ... nor changed" "3004 dave 10.213.0.10 1000" "$(cat "$BAIT/lease")"
kept=0
for i in "${!BAD[@]}"; do [[ $(cat "$LEASE_DIR/10.213.0.${BAD_AT[i]}") == "${BAD[i]}" ]] && kept=$((kept + 1)); done
check_eq "(d) all 6 bad lines are still in their files, verbatim" 6 "$kept"
check_eq "(d) ... once each: every bad file (and the stray one) is as it was: name, type, owner, mode, inode, content" \
    "$bad_before" "$(bad_state)"
check_eq "(d) the untrusted files are as they were (symlink, alice's, 0666, FIFO, 100 MB)" \
    "symbolic link root 777|regular file alice 644|regular file root 666|fifo root 644|regular file root 644 104857600" \
    "$(stat -c '%F %U %a' "$LEASE_DIR"/10.213.0.1[0-3] | paste -sd'|')|$(stat -c '%F %U %a %s' "$LEASE_DIR/10.213.0.14")"
check_eq "(d) no address is leased twice, nobody holds two sticky leases among the good files" "" \
    "$(lease_lines | grep -vxF -f <(printf '%s\n' "${BAD[@]}") | awk '{ print "a " $3; print "u " $1 " " $5 }' | sort | uniq -d)"
check_eq "(d) no record is left" 0 "$(n_records)"
run "$NSCTL" leases
check_eq "(d) nsctl leases: exit 0, one row per good lease (alice, bob, carol, dave, erin)" \
    "0 alice bob carol dave erin" "$RC $(tail -n +2 <<<"$OUT" | awk '{ print $2 }' | sort | xargs)"
check_eq "(d) ... and a warning per bad address file on stderr (12: .3 and .5-.15, or .4 for bob's duplicate .8)" 12 \
    "$(grep -cE "^nsctl: warning: $LEASE_DIR/10\.213\.0\.[0-9]+: a bad lease entry" <<<"$ERR")"
wait_until 30 no_ns_links

# ======================================== (e) exempt_uid_below ===
# uid 999 for sysu (the copy of passwd only: any system account with 999
# is dropped from it)
c=$(awk -F: '$3 != 999' "$SB/etc/passwd"); printf '%s\n' "$c" >"$SB/etc/passwd"
add_raw sysu 999 999
rm -rf "$LEASE_DIR" "$LEASES"
: | sandbox_conf
INFO='echo "net=$(stat -L -c %i /proc/self/ns/net) sid=$NS_SHELL_SESSION host=$(hostname) recs=$(grep -lx uid=999 /run/ns-shell/sessions/* 2>/dev/null | wc -l)"'
as_user sysu "$INFO"
check_login "(e) default config: su - sysu (uid 999) works"
check_match "(e) ... in the host's network namespace, no session, no record" \
    "^net=$HOSTNET sid= host=[^ ]+ recs=0\$" "$AS_OUT"
check "(e) ... the log says exempt" sandbox_log_wait 'sysu: not namespaced \(exempt\)' 10
check_eq "(e) ... no lease line for sysu" "" "$(lines_of sysu)"
sandbox_conf <<'EOF'
exempt_uid_below = 0
EOF
as_user sysu "$INFO"
check_login "(e) exempt_uid_below = 0: su - sysu works"
check_match "(e) ... namespaced: its own network namespace, a session record of uid 999, host name sysu" \
    "^net=[0-9]+ sid=[0-9a-f]{8} host=sysu recs=1\$" "$AS_OUT"
check_fail "(e) ... not the host's network namespace" grep -q "^net=$HOSTNET " <<<"$AS_OUT"
check_match "(e) ... a lease for sysu" '^999 sysu 10\.213\.' "$(lines_of sysu)"
run su root -c 'stat -L -c %i /proc/self/ns/net; ls /run/ns-shell/sessions | wc -l'
check_eq "(e) ... root is still never namespaced (su root: host's network namespace, no record)" \
    "$HOSTNET${NL}0" "$OUT"
check "(e) ... the log says so" sandbox_log_wait 'pam_ns\(su:session\): root: not namespaced \(uid 0\)' 10
check_eq "(e) ... no lease for root" "" "$(lines_of root)"
sandbox_conf <<'EOF'
exempt_uid_below = 3002
EOF
as_user alice "$INFO"
check_match "(e) exempt_uid_below = 3002: alice (3001) is exempt" "^net=$HOSTNET sid= " "$AS_OUT"
as_user bob "$INFO"
check_match "(e) ... bob (3002) is namespaced" '^net=[0-9]+ sid=[0-9a-f]{8} host=bob ' "$AS_OUT"
check_fail "(e) ... (not in the host's network namespace)" grep -q "^net=$HOSTNET " <<<"$AS_OUT"
check_eq "(e) no record is left" 0 "$(n_records)"

sandbox_finish
