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
#  d) bad lines in the lease file (garbage, a duplicate address, the
#     uid 4294967295 line an older version wrote) stop nobody's login, are
#     kept verbatim, and the address in their third field is not handed out;
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

lines_of() { awk -v u="$1" '$2 == u' "$LEASES" 2>/dev/null; }
n_lines_of() { lines_of "$1" | grep -c .; }
# put_leases < TEXT : the lease file as an admin (or an older version) left it
put_leases() { cat >"$LEASES"; chown root:root "$LEASES"; chmod 0644 "$LEASES"; }

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
    sandbox_log_wait 'pam_ns\(nstest:session\): session of alice refused: alice has 2 open sessions \(max_sessions = 2\)' 2
as_user alice 'echo IN'
check_fail "(a) ... a third su - alice is refused as well" test "$AS_RC" = 0
check_eq "(a) ... still two records of alice, two leases (sticky + per-session)" "2 2" \
    "$(sids_of 3001 | wc -l) $(n_lines_of alice)"
hold MB1 bob
wait_until 10 has_n_records_of 3002 1
run pamtester nstest bob open_session close_session
check_fail "(a) user \"bob\" { max_sessions = 1 }: bob's second session is refused" test "$RC" = 0
check "(a) ... the log names max_sessions = 1" \
    sandbox_log_wait 'session of bob refused: bob has 1 open sessions \(max_sessions = 1\)' 2
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
    wait_until 5 bash -c '! pgrep -f "hold/[M]2"'
run pamtester nstest alice open_session close_session
check_eq "(a) a stale session does not count: a new login of alice opens" "0" "$RC"
[[ $RC == 0 ]] || printf '#   %s\n' "$OUT" "$ERR"
check_eq "(a) ... and the stale record was reaped" 1 "$(sids_of 3001 | wc -l)"
run pamtester nstest alice open_session close_session
check_eq "(a) one live session of alice: pamtester open_session + close_session succeeds" 0 "$RC"
release M1
check "(a) no record of alice is left" wait_until 5 has_n_records_of 3001 0
wait_until 3 no_ns_links

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
    wait_until 3 no_ns_links
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
check "(b) ... the log says why" sandbox_log_wait 'session of frank refused: veth nsu3006 exists and is not one of ours' 2
check_eq "(b) ... alice's sticky lease is back, same address" "3001 alice 10.213.0.2 1000" "$(sticky_of alice)"
check_eq "(b) ... frank has no lease" "" "$(lines_of frank)"
check_eq "(b) ... the lease file holds exactly the 5 leases it had" "$(sorted "$FULL")" "$(sort "$LEASES")"
check_eq "(b) ... no record is left" 0 "$(n_records)"
check "(b) ... the admin's nsu3006 is untouched" bash -c "ip -d link show dev nsu3006 | grep -q \"alias admin's link\""
as_user frank 'echo IN'
check_fail "(b) the same with su - frank: refused" test "$AS_RC" = 0
check_eq "(b) ... alice's lease is back again" "3001 alice 10.213.0.2 1000" "$(sticky_of alice)"
check_eq "(b) ... the file holds exactly the 5 leases" "$(sorted "$FULL")" "$(sort "$LEASES")"
# bob (not root) runs su frank, typing frank's password: pam_ns's lease
# work then runs in its detached worker (su keeps bob's real uid)
run setpriv --reuid=bob --regid=bob --init-groups "$PY" -I "$SB/bin/ptysu.py" "$PWFILE" su frank -c 'echo IN-$USER'
check_fail "(b) bob runs su frank (password on a pty): refused" grep -q IN-frank <<<"$OUT"
check_match "(b) ... at the session, after the password" 'cannot open session.*rc=[1-9]' "$OUT"
check_eq "(b) ... alice's lease is back again" "3001 alice 10.213.0.2 1000" "$(sticky_of alice)"
check_eq "(b) ... the file holds exactly the 5 leases" "$(sorted "$FULL")" "$(sort "$LEASES")"
# a static address that displaces another user's lease, then fails
sandbox_conf <<'EOF'
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
user "frank" { address = "10.213.0.4/29" }
EOF
run pamtester nstest frank open_session close_session
check_fail "(b) frank with a static .4 (carol's lease): his login fails at the veth" test "$RC" = 0
check_eq "(b) ... carol's sticky lease is back, same address" "3003 carol 10.213.0.4 3000" "$(sticky_of carol)"
check_eq "(b) ... the file holds exactly the 5 leases" "$(sorted "$FULL")" "$(sort "$LEASES")"
ip link del nsu3006
as_user frank 'ip -br -4 addr show dev eth0'
check_login "(b) with the link gone frank logs in (static .4)"
check_match "(b) ... with .4" "eth0(@[^ ]*)? +UP +10\.213\.0\.4/29" "$AS_OUT"
check_eq "(b) ... now holding the lease of .4 (carol was not logged in)" "" "$(sticky_of carol)"
wait_until 3 no_ns_links

# ===================================== (c) uids 4294967295 and 65535 ===
: | sandbox_conf
ip link del nsbr0 2>/dev/null
rm -f "$LEASES"
add_raw maxuid 4294967295 3990
add_raw u65535 65535 3991
check_eq "(c) control: the system resolves uid 4294967295 and 65535" "maxuid u65535" \
    "$(getent passwd maxuid | cut -d: -f1) $(getent passwd u65535 | cut -d: -f1)"
su bob -c true </dev/null >/dev/null 2>&1
for spec in maxuid:4294967295 u65535:65535; do
    u=${spec%:*} id=${spec#*:}
    run pamtester nstest "$u" open_session close_session
    check_fail "(c) uid $id ($u): pamtester open_session is refused" test "$RC" = 0
    check "(c) ... with a clear message" sandbox_log_wait "session of $u refused: uid $id of $u is not a usable uid" 2
    run su "$u" -c 'echo IN'
    check_fail "(c) ... su $u is refused too" grep -qx IN <<<"$OUT"
    check "(c) ... (the log says so for su)" sandbox_log_wait "pam_ns\(su:session\): session of $u refused: uid $id of $u is not a usable uid" 2
    check_eq "(c) ... no lease line for $u, no record, no veth nsu$id" "0 0 absent" \
        "$(grep -c " $u " "$LEASES") $(n_records) $(link_absent "nsu$id" && echo absent)"
done
check_eq "(c) the lease file has only bob's line" "3002 bob" "$(cut -d' ' -f1,2 "$LEASES" | xargs)"
as_user alice 'ip -br -4 addr show dev eth0'
check_login "(c) afterwards alice logs in (su)"
check_match "(c) ... with an address" "eth0(@[^ ]*)? +UP +$(sticky_of alice | cut -d' ' -f3 | sed 's/\./\\./g')/16" "$AS_OUT"
run pamtester nstest bob open_session close_session
check_eq "(c) ... bob logs in (pamtester)" 0 "$RC"
check_eq "(c) ... the lease file has alice's and bob's lines only" "3001 alice${NL}3002 bob" \
    "$(cut -d' ' -f1,2 "$LEASES" | sort)"
wait_until 3 no_ns_links

# ========================================= (d) bad lines in the file ===
BAD=('this line is not a lease'
     'garbage x 10.213.0.3 notanumber'
     '3003 carol 10.213.0.4 1000'
     '4294967295 maxuid 10.213.0.5 1000'
     '3005  erin 10.213.0.6 1000')
put_leases <<EOF
3001 alice 10.213.0.2 1000
${BAD[0]}
${BAD[1]}
3002 bob 10.213.0.4 1000
${BAD[2]}
${BAD[3]}
${BAD[4]}
EOF
printf '%s\n' "${BAD[@]}" >"$SB/tmp/bad-lines"
# the bad lines: garbage; garbage naming .3; a second line for .4 (bob's);
# the uid 4294967295 line an older version wrote (.5); a double space (.6)
as_user alice 'ip -br -4 addr show dev eth0'
check_login "(d) with 5 bad lines in the lease file alice logs in"
check_match "(d) ... and keeps her .2" "eth0(@[^ ]*)? +UP +10\.213\.0\.2/16" "$AS_OUT"
run pamtester nstest bob open_session close_session
check_eq "(d) bob logs in (pamtester)" 0 "$RC"
check_eq "(d) ... keeping his .4" "3002 bob 10.213.0.4" "$(sticky_of bob | cut -d' ' -f1-3)"
as_user dave 'ip -br -4 addr show dev eth0'
check_login "(d) dave, a new user, logs in"
d_addr=$(sticky_of dave | cut -d' ' -f3)
check_match "(d) ... with a new address, none of .2-.6 (.3, .5, .6 are named by bad lines)" \
    '^10\.213\.0\.([7-9]|[1-9][0-9]+)$' "$d_addr"
check_match "(d) ... on eth0" "eth0(@[^ ]*)? +UP +${d_addr//./\\.}/16" "$AS_OUT"
as_user carol 'ip -br -4 addr show dev eth0'
check_login "(d) carol (whose only line is the bad duplicate of .4) logs in"
c_addr=$(sticky_of carol | grep -vxF -f "$SB/tmp/bad-lines" | cut -d' ' -f3)
check_match "(d) ... with a fresh address, not bob's .4 nor any held one" \
    '^10\.213\.0\.([7-9]|[1-9][0-9]+)$' "$c_addr"
check_fail "(d) ... distinct from dave's" test "$c_addr" = "$d_addr"
as_user erin 'echo IN'
check_login "(d) erin (only a double-spaced bad line) logs in"
check_fail "(d) ... not with .6" test "$(sticky_of erin | cut -d' ' -f3)" = 10.213.0.6
kept=0
for b in "${BAD[@]}"; do grep -qxF -- "$b" "$LEASES" && kept=$((kept + 1)); done
check_eq "(d) all 5 bad lines are still in the file, verbatim" 5 "$kept"
check_eq "(d) ... once each" "${#BAD[@]}" "$(grep -cxF -f "$SB/tmp/bad-lines" "$LEASES")"
check_eq "(d) no address is leased twice among the other lines" "" \
    "$(grep -vxF -f "$SB/tmp/bad-lines" "$LEASES" | awk '{ print $3 }' | sort | uniq -d)"
check_eq "(d) no record is left" 0 "$(n_records)"
wait_until 3 no_ns_links

# ======================================== (e) exempt_uid_below ===
# uid 999 for sysu (the copy of passwd only: any system account with 999
# is dropped from it)
c=$(awk -F: '$3 != 999' "$SB/etc/passwd"); printf '%s\n' "$c" >"$SB/etc/passwd"
add_raw sysu 999 999
rm -f "$LEASES"
: | sandbox_conf
INFO='echo "net=$(stat -L -c %i /proc/self/ns/net) sid=$NS_SHELL_SESSION host=$(hostname) recs=$(grep -lx uid=999 /run/ns-shell/sessions/* 2>/dev/null | wc -l)"'
as_user sysu "$INFO"
check_login "(e) default config: su - sysu (uid 999) works"
check_match "(e) ... in the host's network namespace, no session, no record" \
    "^net=$HOSTNET sid= host=[^ ]+ recs=0\$" "$AS_OUT"
check "(e) ... the log says exempt" sandbox_log_wait 'sysu: not namespaced \(exempt\)' 2
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
check "(e) ... the log says so" sandbox_log_wait 'pam_ns\(su:session\): root: not namespaced \(uid 0\)' 2
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
