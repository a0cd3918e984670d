#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pam_ns.so when a login cannot be set up: every failure denies the login
# (session required), says why in the log, and undoes what the attempt
# made (no record, no veth, no lease, no bridge it created, the caller back
# in its own network namespace). Also: exhausted and taken-over leases,
# broken or untrusted configuration, foreign interfaces in the way, a
# corrupt lease file, a crashed session owner, `optional` in the stack.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted remote commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol:/bin/sh
pam_with_ns su
pam_with_ns su-l
pam_ns_alone nstest

# nothing_of NAME UID DESC : no record, no veth, no lease of this user
nothing_of() {
    check_eq "$3: no record of $1" "" "$(sids_of "$2")"
    check_fail "$3: no veth nsu$2" ip link show dev "nsu$2"
    check_eq "$3: no lease of $1" "" "$(lease_of "$1")"
}
# refused LOGREGEX DESC : a pam_ns line saying why the session was refused
refused() {
    check "$2" sandbox_log_wait "^authpriv\.err [a-zA-Z0-9_.-]+(\[[0-9]+\])?: pam_ns\([a-z-]+:session\): $1" 10
}
# fresh : no lease store (nor old lease file), no bridge (each case below
# starts from nothing)
fresh() {
    rm -rf "$LEASE_DIR" "$LEASES" "$LEASES.migrated"
    ip link del nsbr0 2>/dev/null
    return 0
}

# --------------------------------- the bridge is missing, may not be made ---
sandbox_conf <<'EOF'
bridge        = "nonexistent0"
create_bridge = false
EOF
check_fail "pamtester open_session fails when the bridge is missing (create_bridge = false)" \
    pamtester nstest alice open_session close_session
refused 'session of alice refused: bridge nonexistent0 does not exist \(create_bridge = false\)$' \
    "pam_ns logs that the bridge nonexistent0 does not exist"
nothing_of alice 2001 "missing bridge"
check_fail "... and no bridge nonexistent0 was made" ip link show dev nonexistent0
check_fail "... nor nsbr0" ip link show dev nsbr0
check_eq "... the host has only lo" "lo" "$(ip -o link show | awk -F': ' '{ print $2 }' | xargs)"
d=$("$PY" "$SB/bin/pamdrv.py" nstest alice 2>&1)
check_match "in-process: open_session fails with a session error" '^open=[1-9][0-9]* ' \
    "$(grep '^open=' <<<"$d")"
check_eq "... and the caller is still in its own network namespace" \
    "$(kv before_net "$d")" "$(kv during_net "$d")"
check_eq "... the host's" "net:[$HOSTNET]" "$(kv during_net "$d")"
check_eq "... with no NS_SHELL_SESSION in the PAM environment" "" "$(kv env_sid "$d")"
rm -f /tmp/ran-alice
as_user alice 'touch /tmp/ran-alice'
check_fail "su - alice is denied" test "$AS_RC" = 0
check_match "... su says the session could not be opened" 'cannot open session' "$AS_ERR"
check_fail "... and no command of alice ran" test -e /tmp/ran-alice
nothing_of alice 2001 "denied su"
check_eq "no state file of the failed logins" "" "$(ls -A "$SESS" 2>/dev/null)"

# ------------------ the bridge's name is taken by another kind of link ---
sandbox_conf <<'EOF'
bridge        = "nsbr0"
create_bridge = true
EOF
ip link add nsbr0 type veth peer name nsbr0p
check_fail "pamtester open_session fails when nsbr0 is a veth, not a bridge" \
    pamtester nstest alice open_session close_session
refused 'session of alice refused: bridge nsbr0: exists but is not a bridge$' \
    "pam_ns logs that nsbr0 exists but is not a bridge"
nothing_of alice 2001 "not a bridge"
check_match "... and the veth is left as it was (down)" 'state DOWN' "$(ip -o link show dev nsbr0)"
ip link del nsbr0
# A bridge that exists but is down: brought up, and the login runs.
ip link add nsbr0 type bridge
check "a bridge that exists but is down: the login runs" pamtester nstest alice open_session close_session
check_match "... and the bridge is up now" '<[^>]*,UP[,>]' "$(ip -o link show dev nsbr0)"
fresh

# ------------------------------------------------- broken ns.conf ---
conf_case() { # DESC LOGREGEX < CONF
    sandbox_conf
    fresh
    : >"$SB_SYSLOG"
    check_fail "$1: pamtester is denied" pamtester nstest alice open_session close_session
    refused "$2" "$1: the log names the problem"
    refused 'session of alice refused: configuration /etc/security/ns\.conf is not valid$' \
        "$1: the log says the session was refused for the configuration"
    nothing_of alice 2001 "$1"
    check_fail "$1: no bridge was made" ip link show dev nsbr0
}
conf_case "an unknown key" '/etc/security/ns\.conf:3: .*bogus_key' <<'EOF'
# a comment
bridge = "nsbr0"
bogus_key = 1
EOF
conf_case "a bad pool" '/etc/security/ns\.conf:2: .*pool' <<'EOF'

pool = "10.213.0.0/33"
EOF
conf_case "a static address outside the pool" '/etc/security/ns\.conf:4: .*address.*outside' <<'EOF'
pool = "10.213.0.0/16"
gateway = "10.213.0.1"
user "alice" {
    address = "192.168.7.5/16"
}
EOF
conf_case "a bridge name over 15 bytes" '/etc/security/ns\.conf:1: .*bridge' <<'EOF'
bridge = "a-very-long-bridge0"
EOF
# A truncated file: the last block is never closed.
conf_case "a block left open at the end of the file" '/etc/security/ns\.conf:2: ' <<'EOF'
bridge = "nsbr0"
default {
    network = "bridge"
EOF
sandbox_conf </dev/null
fresh
chown alice "$SB/security/ns.conf"
: >"$SB_SYSLOG"
check_fail "an ns.conf not owned by root: denied" pamtester nstest alice open_session close_session
refused '/etc/security/ns\.conf: not owned by root' "... the log says it is not owned by root"
chown root "$SB/security/ns.conf"
chmod 0664 "$SB/security/ns.conf"
check_fail "a group-writable ns.conf: denied" pamtester nstest alice open_session close_session
refused '/etc/security/ns\.conf: writable by group or others' "... the log says it is writable by others"
chmod 0644 "$SB/security/ns.conf"
nothing_of alice 2001 "untrusted ns.conf"
check_fail "nothing made a bridge during the refused logins" ip link show dev nsbr0

# --------------------------------------------------- conf=PATH, options ---
cat >"$SB/alt.conf" <<'EOF'
bridge         = "altbr0"
bridge_address = "10.77.0.1/24"
pool           = "10.77.0.0/24"
gateway        = "10.77.0.1"
lease_file     = "/var/lib/ns-shell/alt-leases"
EOF
sandbox_pam nsalt <<EOF
session  required   $PAM_NS_SO conf=$SB/alt.conf
EOF
printf 'this is = = not valid\n' | sandbox_conf     # prove the main file is not read
: >/tmp/hold-alt
"$PY" "$SB/bin/pamdrv.py" nsalt alice hold=/tmp/hold-alt >"$SB/tmp/alt.out" 2>&1 &
alt=$!
check "pam_ns conf=PATH: the session opens with the other config" \
    wait_until 5 grep -q '^open=0 ' "$SB/tmp/alt.out"
check "... the bridge altbr0 was made with 10.77.0.1/24" \
    bash -c 'ip -br addr show dev altbr0 | grep -q "10.77.0.1/24"'
check_match "... nsu2001 is on altbr0" 'master altbr0' "$(ip -o link show dev nsu2001 2>&1)"
check_match "... the lease is in the other lease store (alt-leases.d)" '^2001 alice 10\.77\.0\.[0-9]+ ' \
    "$(lease_lines /var/lib/ns-shell/alt-leases.d)"
rm -f /tmp/hold-alt
wait "$alt"
settle 2001
check_eq "... and closes cleanly" 0 "$(n_records)"
# A word that is not an option (or a relative conf=/shell=) fails closed: a
# typo must not switch a guard off. Root still gets in.
for opt in bogusopt conf=relative.conf shell=bin/ns-shell; do
    sandbox_pam nsalt <<EOF
session  required   $PAM_NS_SO conf=$SB/alt.conf $opt
session  optional   pam_permit.so
EOF
    : >"$SB_SYSLOG"
    check_fail "pam_ns option '$opt': alice's login is refused" pamtester nsalt alice open_session close_session
    refused "session of alice refused: option \"$opt\" is not conf=/PATH, shell=/PATH or debug" \
        "... and the log names the option"
    check "pam_ns option '$opt': root's session still opens" pamtester nsalt root open_session close_session
    check "... and the log says, at LOG_CRIT, that every other login is refused" \
        sandbox_log_wait "^authpriv\.crit [a-zA-Z0-9_.-]+(\[[0-9]+\])?: pam_ns\([a-z-]+:session\): option \"$opt\"" 10
done
check_eq "no record after the refused logins" 0 "$(n_records)"

# ------------------------------------------------ pool exhausted ---
fresh
sandbox_conf <<'EOF'
pool           = "10.213.0.0/30"
gateway        = "10.213.0.1"
bridge_address = "10.213.0.1/30"
EOF
hold A alice
check "alice's held login takes the only address of a /30" wait_until 10 has_n_records_of 2001 1
check_eq "... which is 10.213.0.2" "10.213.0.2" "$(lease_of alice)"
check_match "the bridge was made with 10.213.0.1/30" '10\.213\.0\.1/30' "$(ip -br addr show dev nsbr0 2>&1)"
: >"$SB_SYSLOG"
check_fail "bob is denied while alice holds the pool's only address" \
    pamtester nstest bob open_session close_session
refused 'session of bob refused: address pool 10\.213\.0\.0/30 exhausted$' \
    "the log says 'address pool 10.213.0.0/30 exhausted'"
nothing_of bob 2002 "exhausted pool"
check_eq "alice's lease is untouched" "10.213.0.2" "$(lease_of alice)"
check "the bridge made by alice's login is still there" ip link show dev nsbr0
release A
settle 2001
as_user bob "ip -br -4 addr show dev eth0"
check_login "once alice is logged out, bob logs in"
check_match "... taking over the least recently used lease (10.213.0.2)" 'UP +10\.213\.0\.2/30' "$AS_OUT"
check_eq "... the lease store now gives 10.213.0.2 to bob only" "2002 bob 10.213.0.2" \
    "$(lease_lines | awk '{ print $1, $2, $3 }')"
settle 2002
hold B bob
wait_until 10 has_n_records_of 2002 1
check_fail "alice is denied while bob holds the address" \
    pamtester nstest alice open_session close_session
nothing_of alice 2001 "exhausted pool, the other way"
release B
settle 2002

# --------------------------------------- a foreign interface in the way ---
: | sandbox_conf
ip link del nsbr0
ip link add nsu2003 type veth peer name fx2003
: >"$SB_SYSLOG"
before=$(lease_lines)
out=$(su carol -c 'echo ran' </dev/null 2>&1)
check_fail "carol is denied when an interface nsu2003 not made by pam_ns exists" \
    grep -qx ran <<<"$out"
refused 'session of carol refused: veth nsu2003 exists and is not one of ours$' \
    "the log says nsu2003 is not one of ours"
check_match "the foreign nsu2003 is left alone" 'nsu2003@fx2003' "$(ip -o link show dev nsu2003 2>&1)"
check_eq "the lease carol was given is rolled back" "$before" "$(lease_lines)"
check_eq "... her index entry too" "" "$(ls "$LEASE_DIR/by-uid" | grep '^2003')"
check_eq "no record of carol" "" "$(sids_of 2003)"
# (other users' logins may be using it already: rollback never removes it)
check "the bridge made by the failed login stays" link_present nsbr0
ip link del nsu2003

# ----------------------------------------------- a corrupt lease store ---
# A bad address file stops nobody: it is left as it is, and its address is
# never handed out; a name that is no address is not a lease at all.
fresh
mkdir -p -m 0755 "$LEASE_DIR/by-uid"
printf 'this is not a lease\n' >"$LEASE_DIR/notes"
printf '2 bad 10.213.0.2 x\n' >"$LEASE_DIR/10.213.0.2"
: >"$SB_SYSLOG"
check "a lease store with a bad address file (and a stray file): alice still logs in" \
    pamtester nstest alice open_session close_session
check_eq "... both files are still there, verbatim" "this is not a lease
2 bad 10.213.0.2 x" "$(cat "$LEASE_DIR/notes" "$LEASE_DIR/10.213.0.2")"
check_match "... alice got an address, not the one the bad file holds" '^2001 alice 10\.213\.0\.([3-9]|[1-9][0-9]+) ' \
    "$(sticky_of alice)"
settle 2001
check_eq "no record left" 0 "$(n_records)"
ip link del nsbr0 2>/dev/null
# An address file alice owns (her index names it) is never used: her login
# works and does not get that address; the file is left as it is.
fresh
lease_seed "2001 alice 10.213.0.9 1"
chown alice "$LEASE_DIR/10.213.0.9"
check "an address file owned by alice (named by her index): her login still works" \
    pamtester nstest alice open_session close_session
check_fail "... not with the address of that file (10.213.0.9)" test "$(sticky_of alice | cut -d' ' -f3)" = 10.213.0.9
check_eq "... which is left as it was, alice's" "alice 2001 alice 10.213.0.9 1" \
    "$(stat -c %U "$LEASE_DIR/10.213.0.9") $(cat "$LEASE_DIR/10.213.0.9")"
settle 2001
ip link del nsbr0 2>/dev/null
# A store directory alice owns is not trusted: every login is refused.
fresh
lease_seed "2001 alice 10.213.0.9 1"
chown alice "$LEASE_DIR"
check_fail "a lease store directory not owned by root denies the login" \
    pamtester nstest alice open_session close_session
refused "session of alice refused: lease store $LEASE_DIR: not a root-owned directory closed to others" "... and says so, naming it"
fresh
# The old single lease file, when it is still there, is imported at the
# first login; one not owned by root is refused, as before.
printf '2001 alice 10.213.0.9 1\n' >"$LEASES"
chown alice "$LEASES"
check_fail "an old lease file not owned by root (to import) denies the login" \
    pamtester nstest alice open_session close_session
refused "session of alice refused: lease file $LEASES: not a root-owned regular file" "... and says so"
rm -f "$LEASES"

# ---------------------------------------------- a static address in use ---
sandbox_conf <<'EOF'
user "carol" { address = "10.213.0.2/16" }
EOF
hold B bob
wait_until 10 has_n_records_of 2002 1
check_eq "bob holds 10.213.0.2" "10.213.0.2" "$(lease_of bob)"
: >"$SB_SYSLOG"
check_fail "carol's static address is bob's, who is logged in: carol is denied" \
    pamtester nstest carol open_session close_session
refused 'session of carol refused: address of carol is in use by bob$' "the log says who uses it"
nothing_of carol 2003 "static address in use"
release B
settle 2002
out=$(su carol -c 'ip -br -4 addr show dev eth0' </dev/null 2>&1)
check_match "once bob is out, carol gets her static address" 'UP +10\.213\.0\.2/16' "$out"
check_eq "... and bob's lease of it is gone (no address is given to two uids)" "" "$(lease_of bob)"
settle 2003

# ------------------------------------------ an untrusted state directory ---
chmod 0777 "$SESS"
: >"$SB_SYSLOG"
check_fail "a world-writable $SESS denies the login" \
    pamtester nstest alice open_session close_session
refused 'session of alice refused: state directory /run/ns-shell/sessions: not a root-owned directory closed to others' \
    "the log says the state directory is not trusted"
check_fail "... and no veth was made" ip link show dev nsu2001
chmod 0755 "$SESS"

# ------------------------------------------------- a crashed session owner ---
: >/tmp/hold-crash
"$PY" "$SB/bin/pamdrv.py" nstest bob hold=/tmp/hold-crash >"$SB/tmp/crash.out" 2>&1 &
crash=$!
check "a session of bob is held by an in-process driver" wait_until 10 has_n_records_of 2002 1
csid=$(sids_of 2002)
kill -KILL "$crash"
wait "$crash" 2>/dev/null
rm -f /tmp/hold-crash
check_eq "the crashed owner's record is left behind" "$csid" "$(sids_of 2002)"
check "... but its namespace and veth go with the owner (not pinned)" wait_until 2 link_absent nsu2002
as_user bob 'echo "sid=$NS_SHELL_SESSION"; ip -br -4 addr show dev eth0'
check_login "bob logs in after the crash"
check_match "... with his address" "UP +$(lease_of bob)/16" "$AS_OUT"
check_fail "... and the stale record of the crashed owner was reaped" test -e "$SESS/$csid"
check "... no record of bob is left after logout" test -z "$(sids_of 2002)"
settle 2002

# -------------------------------------------------- session optional ---
sandbox_conf <<'EOF'
bridge        = "nonexistent0"
create_bridge = false
EOF
PAM_NS_CONTROL=optional PAM_NS_ARGS='' pam_with_ns su su-l
: >"$SB_SYSLOG"
rm -f /tmp/ran-alice
as_user alice 'touch /tmp/ran-alice'
check_fail "optional pam_ns failing: ns-shell still refuses alice (bridge policy, host netns)" \
    test "$AS_RC" = 0
check_match "... with a message that names pam_ns.so" 'ns-shell: .*pam_ns\.so' "$AS_ERR"
check_fail "... and no command of alice ran" test -e /tmp/ran-alice
refused 'session of alice refused: bridge nonexistent0' "... pam_ns logged why it failed"
check_eq "a /bin/sh user gets through un-isolated (DESIGN: optional), in the host netns" \
    "net:[$HOSTNET]" "$(su carol -c 'readlink /proc/self/ns/net' </dev/null 2>&1)"
refused 'session of carol refused: bridge nonexistent0' "... and the log says so"
check_eq "nothing is left open at the end" 0 "$(n_records)"

sandbox_finish
