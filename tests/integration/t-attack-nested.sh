#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A login inside a login (issue #11, hole 1). alice is logged in over real
# ssh (ns-shell as her login shell: her own PID, mount and network
# namespaces, a private /proc) and holds that session. Then, inside it:
#  - she runs `su - alice` and `su - bob` on a pty, typing the password;
#  - root runs pamtester and su with nsctl exec (her network namespace
#    only) and with nsenter -a into all of her login's namespaces (her
#    /proc: every session owner looks dead from there);
#  - root runs nsctl gc the same two ways.
# Each nested open_session must be refused ("nested logins are refused")
# without creating, changing or reaping anything: her record stays, no
# bridge or veth appears inside her namespace, the lease file is unchanged
# byte for byte; with netns = "session" another user's live per-session
# lease is not freed; with a full pool (a /29) no logged-in user's sticky
# lease is taken over. From the host, nsctl status shows her session alive,
# and ordinary logins still work afterwards.
# shellcheck disable=SC2016,SC2034,SC2119,SC2153,SC2174,SC2317  # single-quoted login commands; LEASES etc. from the libs; helpers via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
# shellcheck disable=SC2034  # read by run (lib.sh)
RUN_MERGE=1     # run: OUT has stderr too

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 3001 alice bob carol dave erin frank
# A /29: 5 addresses for users (.2-.6; .0, .1 the gateway, .7 excluded).
conf_user() {
    sandbox_conf <<'EOF'
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
EOF
}
conf_session() {
    sandbox_conf <<'EOF'
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
default { netns = "session" }
EOF
}
conf_user
pam_sshd_ns
pam_with_ns su su-l
pam_ns_alone nstest debug
sandbox_sshd
sandbox_ssh_authorize alice

# What alice runs in her ssh login: report, wait for the go, then su - alice
# and su - bob on a pty inside her login, then hold the login open.
cat >"$PUB/alice-login.sh" <<EOF
echo "\$NS_SHELL_SESSION" >$X/a.sid
readlink /proc/self/ns/pid >$X/a.pidns
touch $X/a.ready
while [ ! -e $X/a.go ]; do sleep 0.05; done
$PY -I $SB/bin/ptysu.py $PWFILE su - alice -c 'echo NESTED-IN-\$USER' >$X/a.nest-alice 2>&1
$PY -I $SB/bin/ptysu.py $PWFILE su - bob -c 'echo NESTED-IN-\$USER' >$X/a.nest-bob 2>&1
touch $X/a.nested
while [ -e $X/a.hold ]; do sleep 0.05; done
EOF
chmod 0644 "$PUB/alice-login.sh"

n_refused() { grep -c 'nested logins are refused' "$SB_SYSLOG"; }
lease_sha() { lease_store_state | sha256sum | cut -d' ' -f1; }
links_in() { nsenter -t "$1" -n ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | xargs; }
host_links() { ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | xargs; }
all_records() { local f; for f in "$SESS"/*; do [[ -f $f ]] && { echo "== ${f##*/}"; cat "$f"; }; done; }

# snapshot : the state no nested attempt may change (log_sync first: every
# refusal logged so far is counted)
snapshot() {
    log_sync
    S_RECS=$(all_records) S_SHA=$(lease_sha) S_LEASES=$(lease_lines) S_STORE=$(lease_store_state)
    S_IN=$(links_in "$APID") S_HOST=$(host_links) S_REFUSED=$(n_refused)
}
# unchanged WHAT : the state is still the snapshot's
unchanged() {
    check_eq "$1: every session record is unchanged (alice's outer one $ASID included)" "$S_RECS" "$(all_records)"
    check_eq "$1: the lease store is unchanged (sha256 of every name, inode and content)" "$S_SHA" "$(lease_sha)"
    [[ $S_SHA == "$(lease_sha)" ]] || diff <(echo "$S_STORE") <(lease_store_state) | sed 's/^/#   /'
    check_eq "$1: inside alice's network namespace still only eth0 and lo (no bridge, no veth)" \
        "eth0 lo" "$(links_in "$APID")"
    check_eq "$1: the host's links are unchanged" "$S_HOST" "$(host_links)"
    check_eq "$1: alice's outer session record is there" "alice" "$(rec "$ASID" user)"
}

# ======================================= alice logs in over real ssh ===
: >"$X/a.hold"
"${SB_SSH[@]}" alice@127.0.0.1 "sh $PUB/alice-login.sh" </dev/null >"$SB/tmp/ssh-a.out" 2>&1 &
SSH_A=$!
wait_until 20 test -e "$X/a.ready" ||
    sandbox_die "alice's ssh login reached its ready point" "$(cat "$SB/tmp/ssh-a.out" "$SB/sshd.log")"
ASID=$(cat "$X/a.sid")
check_match "alice is logged in over ssh with a session ($ASID)" '^[0-9a-f]{8}$' "$ASID"
check "... in a PID namespace of her own (not the host's)" test "$(cat "$X/a.pidns")" != "pid:[$HOSTPID]"
# a process of her login, as the host sees it: the way in for nsenter
APID=
for p in $(pgrep -u 3001); do
    [[ $(pidns_of_pid "$p" 2>/dev/null) != "$HOSTPID" && $(netns_of_pid "$p" 2>/dev/null) == "$(rec "$ASID" netns_ino)" ]] &&
        { APID=$p; break; }
done
[[ -n $APID ]] || sandbox_die "found a process of alice's ssh login" "$(ps -eo pid,user,args)"
hold B bob
check "bob is logged in (su) too" wait_until 10 has_n_records_of 3002 1
check_eq "inside alice's network namespace: eth0 and lo" "eth0 lo" "$(links_in "$APID")"
check_eq "alice and bob hold .2 and .3 of the /29" "10.213.0.2 10.213.0.3" \
    "$(sticky_of alice | cut -d' ' -f3) $(sticky_of bob | cut -d' ' -f3)"

# ===================== 1. inside her login alice runs su - alice / su - bob ===
snapshot
: >"$X/a.go"
wait_until 60 test -e "$X/a.nested" || sandbox_not_ok "alice's nested su attempts finished" "$(cat "$SB/tmp/ssh-a.out")"
for u in alice bob; do
    t=$(cat "$X/a.nest-$u" 2>/dev/null)
    check_fail "su - $u inside alice's ssh login (password typed on a pty): no shell runs" \
        grep -q "NESTED-IN-$u" <<<"$t"
    check_match "... su fails at the session, after the password (rc != 0)" 'cannot open session.*rc=[1-9]' "$t"
    check "... the log says why: session of $u refused ... nested logins are refused" \
        sandbox_log_wait "pam_ns\(su-l:session\): session of $u refused: inside a namespaced login.*nested logins are refused" 10
    [[ $t == *rc=* ]] || printf '#   (nestsu: %s)\n' "$t"
done
unchanged "after su - alice and su - bob inside her login"

# ============ 2. root enters her namespaces (nsctl exec, nsenter -a) ===
snapshot
run "$NSCTL" exec alice -- pamtester nstest alice open_session close_session
check_fail "nsctl exec alice -- pamtester (her network namespace, host PID namespace): open_session fails" test "$RC" = 0
run "$NSCTL" exec alice -- pamtester nstest carol open_session close_session
check_fail "nsctl exec alice -- pamtester for carol (no lease yet): open_session fails" test "$RC" = 0
run nsenter -t "$APID" -a pamtester nstest alice open_session close_session
check_fail "nsenter -a into her login (her /proc): pamtester alice open_session fails" test "$RC" = 0
run nsenter -t "$APID" -a su - bob -c 'echo NESTED-IN-$USER'
check_fail "nsenter -a into her login: su - bob runs no shell" grep -q NESTED-IN <<<"$OUT"
run nsenter -t "$APID" -a su - carol -c 'echo NESTED-IN-$USER'
check_fail "nsenter -a into her login: su - carol (no lease yet) runs no shell" grep -q NESTED-IN <<<"$OUT"
log_sync
check_eq "the log has one 'nested logins are refused' line per attempt (5)" 5 $(( $(n_refused) - S_REFUSED ))
run nsenter -t "$APID" -a setpriv --reuid alice --regid alice --init-groups \
    "$(command -v ns-shell || echo "$SB/bin/ns-shell")" -c 'echo NESTED-IN-$USER'
check_fail "nsenter -a into her login: ns-shell as alice runs no shell" grep -q NESTED-IN <<<"$OUT"
check_match "... and says why: nested logins are refused" \
    'ns-shell: inside a namespaced login \(its pid namespace [0-9]+ is not the host.s [0-9]+\): nested logins are refused' "$OUT"
unchanged "after pamtester, su and ns-shell from root inside her namespaces"
check_eq "carol got no lease" "" "$(sticky_of carol)"

# ========================================= 3. nsctl gc inside, status ===
snapshot
run "$NSCTL" exec alice -- "$NSCTL" gc
check_fail "nsctl exec alice -- nsctl gc: reaps nothing" grep -qE 'removed|deleted|killed' <<<"$OUT"
check_match "... and says why (it runs outside the host's namespaces)" \
    'nested|namespaced login|host.s (pid|PID|network)? ?namespace|not the host' "$OUT"
[[ -n $OUT ]] && printf '#   (gc said: %s)\n' "$OUT"
run nsenter -t "$APID" -a "$NSCTL" gc
check_fail "nsenter -a into her login -- nsctl gc (her /proc): reaps nothing" grep -qE 'removed|deleted|killed' <<<"$OUT"
check_match "... and says why" 'nested|namespaced login|host.s (pid|PID|network)? ?namespace|not the host' "$OUT"
[[ -n $OUT ]] && printf '#   (gc said: %s)\n' "$OUT"
unchanged "after nsctl gc inside her namespaces"
run "$NSCTL" status
check_match "from the host, nsctl status lists alice's session" "(^|$NL)$ASID +alice +3001 " "$OUT"
check_fail "... alive, not stale" grep -E "^$ASID .*stale" <<<"$OUT"
run "$NSCTL" status --json
check_match "... (--json: \"stale\": false)" "\"session\": \"$ASID\"[^}]*\"stale\": false" "$OUT"

# ============= 4. netns = "session": bob's live per-session lease stays ===
release B
wait_until 5 has_n_records_of 3002 0
conf_session
hold B1 bob
wait_until 10 has_n_records_of 3002 1
hold B2 bob
check "bob has two sessions (netns = session)" wait_until 10 has_n_records_of 3002 2
btag=$(lease_lines | awk '$2 == "bob" && NF == 5')
check_match "... the second holds a per-session lease ($btag)" '^3002 bob 10\.213\.0\.[0-9]+ [0-9]+ [0-9a-f]{8}$' "$btag"
snapshot
run nsenter -t "$APID" -a pamtester nstest carol open_session close_session
check_fail "netns = session, nsenter -a into her login: pamtester carol open_session fails" test "$RC" = 0
run nsenter -t "$APID" -a su - dave -c 'echo NESTED-IN-$USER'
check_fail "... su - dave runs no shell" grep -q NESTED-IN <<<"$OUT"
run "$NSCTL" exec alice -- pamtester nstest carol open_session close_session
check_fail "... nsctl exec alice -- pamtester carol fails" test "$RC" = 0
log_sync
check_eq "... each refused as nested (3)" 3 $(( $(n_refused) - S_REFUSED ))
check "bob's live per-session lease is still in the store" grep -qxF -- "$btag" <(lease_lines)
unchanged "netns = session, after the nested attempts"
release B1 B2
wait_until 5 has_n_records_of 3002 0
check_eq "control: bob's per-session lease goes when his session closes" "" \
    "$(lease_lines | awk '$2 == "bob" && NF == 5')"

# ============== 5. a full /29: no logged-in user's sticky lease is taken ===
conf_user
for u in bob carol dave erin; do hold "F$u" "$u"; done
for i in 1 2 3 4; do wait_until 10 has_n_records_of $((3001 + i)) 1; done
check_eq "the /29 is full: alice, bob, carol, dave, erin hold .2-.6 and are logged in" \
    "10.213.0.2 10.213.0.3 10.213.0.4 10.213.0.5 10.213.0.6" \
    "$(lease_lines | awk 'NF == 4 { print $3 }' | sort -t. -k4 -n | xargs)"
check_eq "... 5 live sessions" 5 "$(n_records)"
snapshot
run pamtester nstest frank open_session close_session
check_fail "control, from the host: frank's login is refused (pool exhausted, everyone logged in)" test "$RC" = 0
check "... the log says the pool is exhausted" sandbox_log_wait 'session of frank refused: address pool 10\.213\.0\.0/29 exhausted' 10
run nsenter -t "$APID" -a su - frank -c 'echo NESTED-IN-$USER'
check_fail "nsenter -a into her login: su - frank runs no shell" grep -q NESTED-IN <<<"$OUT"
run nsenter -t "$APID" -a pamtester nstest frank open_session close_session
check_fail "... pamtester frank open_session fails" test "$RC" = 0
run "$NSCTL" exec alice -- pamtester nstest frank open_session close_session
check_fail "... nsctl exec alice -- pamtester frank fails" test "$RC" = 0
log_sync
check_eq "... each refused as nested (3)" 3 $(( $(n_refused) - S_REFUSED ))
for u in alice bob carol dave erin; do
    check_eq "$u keeps her/his sticky lease" "$(grep " $u " <<<"$S_LEASES")" "$(sticky_of "$u")"
done
check_eq "frank has no lease" "" "$(lease_lines | awk '$2 == "frank"')"
unchanged "full pool, after the nested attempts"

# =================================== 6. afterwards: ordinary logins ===
release Fbob Fcarol Fdave Ferin
rm -f "$X/a.hold"
wait "$SSH_A"
check "alice's ssh login ends normally" wait_until 20 has_n_records_of 3001 0
check "no session record is left" wait_until 20 no_records
n0=$(grep -cE 'pam_ns\(su(-l)?:session\): frank \(uid 3006\): session' "$SB_SYSLOG")
as_user frank 'ip -br -4 addr show dev eth0; readlink /proc/self/ns/net'
check_login "an ordinary su frank from the host works"
check_match "... frank gets an address of the /29 (an LRU lease of a user now logged out)" \
    "eth0(@[^ ]*)? +UP +10\.213\.0\.[2-6]/29" "$AS_OUT"
log_sync
check_eq "... logged by pam_ns as a session" 1 $(( $(grep -cE 'pam_ns\(su(-l)?:session\): frank \(uid 3006\): session' "$SB_SYSLOG") - n0 ))
as_ssh alice 'ip -br -4 addr show dev eth0'
check_login "an ordinary ssh login of alice works"
check_match "... with an address of the /29 (frank has taken over hers, the least recently used)" \
    "eth0(@[^ ]*)? +UP +10\.213\.0\.[2-6]/29" "$AS_OUT"
check_eq "no address is leased twice" "$(lease_lines | wc -l)" "$(lease_lines | awk '{ print $3 }' | sort -u | wc -l)"
check_eq "... nobody holds two sticky leases, each lease file is indexed" "" "$(lease_problems)"
check "no record is left" wait_until 5 bash -c "[[ \$(find $SESS -type f | wc -l) == 0 ]]"

sandbox_finish
