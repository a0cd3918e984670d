#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 300
# (65-76 s here under load: the default 120 s is too close)
# The shipped samples, used as shipped (issue 16):
#  (a) conf/ns-shell.nft in the sandbox's network namespace: applying it
#      twice gives the same ruleset (also through an /etc/nftables.conf that
#      starts with "flush ruleset" and includes it); forwarding between two
#      networks that are not ns-shell's goes on, while everything from or to
#      the bridge and the users' veths (nsu*, nss*) but the NAT way out is
#      dropped, and users reach only DNS/DHCP on the host.
#  (b) each conf/pam.d/* installed as is into the sandbox's /etc/pam.d (only
#      the pam_ns.so and ns-shell paths rewritten to the built ones), with
#      the machine's common-* stacks: pamtester open_session/close_session
#      for a namespaced user (pam_ns logs her session) and for root,
#      acct_mgmt, authenticate (login, sshd: the password; su: pam_rootok);
#      real su and su - land in the user's namespace; shell= refuses a user
#      whose login shell is not ns-shell.
#  (c) root is never locked out: root's session passes with ns.conf missing,
#      invalid, and with pam_ns.so removed (the pam_succeed_if guard of the
#      samples), by pamtester and real su (also su - root from a user, the
#      password typed on a pty), while a namespaced user is refused (fail
#      closed). Without the guard line root still passes on a bad ns.conf,
#      and pam_ns logs it at LOG_CRIT; a uid below exempt_uid_below (1000)
#      is not namespaced (these two need pam_ns's root-first code).
# shellcheck disable=SC2015,SC2016,SC2034,SC2119,SC2317  # A && B || die chains; single-quoted commands; shared variables; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

SAMPLES=(login sshd su su-l systemd-user cron atd)
for s in "${SAMPLES[@]}"; do
    [[ -f $NS_REPO/conf/pam.d/$s ]] || sandbox_die "conf/pam.d/$s is missing"
done
command -v pamtester >/dev/null || sandbox_die "pamtester is not installed (make deps)"
command -v nft >/dev/null || sandbox_die "nft is not installed (make deps)"

# ==================================================== (a) ns-shell.nft ===
# The sandbox host: up0 is the uplink to "right" (198.51.100.0/24), ext0 a
# second network "left" (192.0.2.0/24) that has nothing to do with
# ns-shell (think Docker or libvirt), nsbr0 the users' bridge with a user
# namespace "user" on its port nsu2999, and a routed per-session veth
# nss0badcafe to a namespace "sess" (172.31.0.0/24).
sysctl -q -w net.ipv4.ip_forward=1 || sandbox_die "cannot switch on forwarding in the sandbox"
netpair() { # NS HOSTIF HOSTADDR/N INNERADDR/N GW : a namespace on a veth
    ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
        ip addr add "$3" dev "$2" && ip link set "$2" up &&
        ip -n "$1" link set lo up && ip -n "$1" addr add "$4" dev eth0 &&
        ip -n "$1" link set eth0 up && ip -n "$1" route add default via "$5"
}
netpair left ext0 192.0.2.1/24 192.0.2.2/24 192.0.2.1 &&
    netpair right up0 198.51.100.1/24 198.51.100.2/24 198.51.100.1 &&
    ip link add nsbr0 type bridge && ip addr add 10.213.0.1/16 dev nsbr0 &&
    ip link set nsbr0 up &&
    ip netns add user && ip link add nsu2999 type veth peer name eth0 netns user &&
    ip link set nsu2999 master nsbr0 && ip link set nsu2999 up &&
    ip -n user link set lo up && ip -n user addr add 10.213.0.99/16 dev eth0 &&
    ip -n user link set eth0 up && ip -n user route add default via 10.213.0.1 &&
    netpair sess nss0badcafe 172.31.0.1/24 172.31.0.2/24 172.31.0.1 ||
    sandbox_die "cannot build the networks"
# Routes back to the users' networks, so that only the rules can stop it.
ip -n left route add 10.213.0.0/16 via 192.0.2.1 && ip -n right route add 10.213.0.0/16 via 198.51.100.1 &&
    ip -n right route add 172.31.0.0/24 via 198.51.100.1 ||
    sandbox_die "cannot add the routes back"
# Listeners that answer "NAME <peer address>".
for ns in left right user sess; do banner_start --peer --netns "$ns" 0.0.0.0 8081 "${ns^^}"; done
banner_start --peer 0.0.0.0 8080 HOST
# from NS HOST PORT [TIMEOUT] : what a connection from namespace NS gets
# (TIMEOUT default 10 s; pass 1 where the connection is expected to fail)
from() { ip netns exec "$1" "$PY" "$SB/bin/probe.py" "$2" "$3" "${4:-10}" 2>&1; }

check_eq "no rules: left reaches right (forwarded)" "RIGHT 192.0.2.2" "$(from left 198.51.100.2 8081)"
check_eq "no rules: left reaches the user on the bridge (so a drop below is the rules')" \
    "USER 192.0.2.2" "$(from left 10.213.0.99 8081)"
check_eq "no rules: the user reaches the host's service on the bridge address" \
    "HOST 10.213.0.99" "$(from user 10.213.0.1 8080)"

mkdir -m 0755 "$SB/nftables.d"
NFT=$SB/nftables.d/ns-shell.nft
sed 's/^define UPLINK = "eth0"$/define UPLINK = "up0"/' "$NS_REPO/conf/ns-shell.nft" >"$NFT"
check "the copy of conf/ns-shell.nft has UPLINK = up0" grep -qx 'define UPLINK = "up0"' "$NFT"
check "nft -f ns-shell.nft (first time)" nft -f "$NFT"
t1=$(nft list table inet ns_shell 2>&1)
r1=$(nft list ruleset 2>&1)
check "nft -f ns-shell.nft (second time)" nft -f "$NFT"
t2=$(nft list table inet ns_shell 2>&1)
check_match "the table inet ns_shell is there" 'table inet ns_shell \{' "$t1"
check_eq "applied twice: nft list table inet ns_shell is identical" "$t1" "$t2"
check_eq "applied twice: the whole ruleset is identical (no duplicate rules)" "$r1" "$(nft list ruleset 2>&1)"
check_eq "the sample has no 'policy drop' on any hook" "" "$(grep -v '^[[:space:]]*#' "$NFT" | grep -n 'policy drop')"

check_eq "rules: left still reaches right (forwarding of others is untouched)" \
    "RIGHT 192.0.2.2" "$(from left 198.51.100.2 8081)"
check_eq "rules: right still reaches left" "LEFT 198.51.100.2" "$(from right 192.0.2.2 8081)"
check_eq "rules: the user reaches right through the uplink, masqueraded" \
    "RIGHT 198.51.100.1" "$(from user 198.51.100.2 8081)"
check_match "rules: the user cannot reach left (bridge -> not the uplink: dropped)" \
    'probe 192\.0\.2\.2:8081 failed' "$(from user 192.0.2.2 8081 1)"
check_match "rules: left cannot reach the user (to the bridge, new: dropped)" \
    'probe 10\.213\.0\.99:8081 failed' "$(from left 10.213.0.99 8081 1)"
check_match "rules: right (the outside) cannot reach the user" \
    'probe 10\.213\.0\.99:8081 failed' "$(from right 10.213.0.99 8081 1)"
check_match "rules: the session veth nss*: sess cannot reach right" \
    'probe 198\.51\.100\.2:8081 failed' "$(from sess 198.51.100.2 8081 1)"
check_match "rules: ... nor right reach sess" \
    'probe 172\.31\.0\.2:8081 failed' "$(from right 172.31.0.2 8081 1)"
check_match "rules: the user cannot reach the host's service on 10.213.0.1 (input)" \
    'probe 10\.213\.0\.1:8080 failed' "$(from user 10.213.0.1 8080 1)"
check_match "rules: ... nor through the session veth (input, nss*)" \
    'probe 172\.31\.0\.1:8080 failed' "$(from sess 172.31.0.1 8080 1)"
check_eq "rules: left still reaches the host's service (input drops only the users')" \
    "HOST 192.0.2.2" "$(from left 192.0.2.1 8080)"

# Debian's /etc/nftables.conf starts with "flush ruleset": the sample
# included at its end survives every reload, and a reload gives the same.
cat >"$SB/nftables.conf" <<EOF
#!/usr/sbin/nft -f
flush ruleset
table inet filter {
	chain input { type filter hook input priority filter; }
	chain forward { type filter hook forward priority filter; }
	chain output { type filter hook output priority filter; }
}
include "$NFT"
EOF
check "an nftables.conf with flush ruleset that includes the sample loads" nft -f "$SB/nftables.conf"
r3=$(nft list ruleset 2>&1)
check "... and loads again" nft -f "$SB/nftables.conf"
check_eq "... to the same ruleset" "$r3" "$(nft list ruleset 2>&1)"
check_eq "... with the same table inet ns_shell as the sample alone" "$t1" "$(nft list table inet ns_shell 2>&1)"
check "the sample applied on top of it" nft -f "$NFT"
check_eq "... changes nothing" "$r3" "$(nft list ruleset 2>&1)"
check_eq "with both tables, left still reaches right" "RIGHT 192.0.2.2" "$(from left 198.51.100.2 8081)"
check_match "... and left still cannot reach the user" \
    'probe 10\.213\.0\.99:8081 failed' "$(from left 10.213.0.99 8081 1)"
nft flush ruleset
check_eq "ruleset flushed: left reaches the user again (control)" \
    "USER 192.0.2.2" "$(from left 10.213.0.99 8081)"
# The stand-ins go; pam_ns makes its own bridge port for alice below.
ip link del nsu2999 && ip link del nss0badcafe || sandbox_die "cannot remove the stand-in veths"

# ================================================= (b) conf/pam.d/* ===
sandbox_install_ns_shell
sandbox_add_user alice 2001
SHELL_OVERRIDE=/bin/sh sandbox_add_user carol 2003       # not ns-shell: shell= refuses her
SHELL_OVERRIDE=/bin/sh sandbox_add_user svc 900          # a service account (uid < 1000)
# root's password is the test password in the sandbox's shadow copy (su -
# root from a user, below)
_sb_rewrite "$SB/etc/shadow" "$(awk -F: -v OFS=: -v h="$SB_PW_HASH" '$1 == "root" { $2 = h } { print }' "$SB/etc/shadow")"

# The machine's /etc/security (pam_limits, pam_env, pam_group read it),
# then the stock ns.conf.
cp -a "$SB_HOSTROOT/etc/security/." "$SB/security/" || sandbox_die "cannot copy /etc/security"
rm -f "$SB/security/ns.conf"
sandbox_conf <"$NS_REPO/conf/ns.conf"
# The machine's common-* stacks, without what reaches outside the sandbox.
for f in common-auth common-account common-password common-session common-session-noninteractive; do
    [[ -f $SB_HOSTROOT/etc/pam.d/$f ]] || sandbox_die "the machine has no /etc/pam.d/$f"
    grep -vE 'pam_(systemd|cgfs)\.so' "$SB_HOSTROOT/etc/pam.d/$f" >"$SB/pam.d/$f"
done
# The module where the samples will find it: a copy we can take away.
MOD=$SB/lib/security/pam_ns.so
mkdir -p "$SB/lib/security"
install -m 0644 "$PAM_NS_SO" "$MOD" || sandbox_die "cannot copy pam_ns.so"
# install_sample NAME [AS] : conf/pam.d/NAME as /etc/pam.d/AS, with only the
# module and ns-shell paths rewritten (on lines that are not comments).
install_sample() {
    sed -e "/^[[:space:]]*#/! s|pam_ns\.so|$MOD|" \
        -e "/^[[:space:]]*#/! s|shell=/usr/bin/ns-shell|shell=$SB/bin/ns-shell|" \
        "$NS_REPO/conf/pam.d/$1" | sandbox_pam "${2:-$1}"
}
for s in "${SAMPLES[@]}"; do install_sample "$s"; done

# Every sample: a drop-in (Debian's stock lines, plus the guard and the
# module), never a half stack.
for s in "${SAMPLES[@]}"; do
    f=$NS_REPO/conf/pam.d/$s
    if [[ $s == su-l ]]; then
        check_eq "conf/pam.d/su-l adds no active pam_ns line (su-l includes su)" "" \
            "$(grep -vE '^[[:space:]]*#' "$f" | grep pam_ns)"
        continue
    fi
    check_match "conf/pam.d/$s: the guard line comes right before the pam_ns line" \
        'session +\[success=1 default=ignore\] +pam_succeed_if\.so quiet uid eq 0
session +required +pam_ns\.so shell=/usr/bin/ns-shell' "$(grep -vE '^[[:space:]]*(#|$)' "$f")"
    check_match "conf/pam.d/$s: a whole stack (account lines, not only session)" \
        '(^|
)(account|@include common-account)' "$(grep -vE '^[[:space:]]*(#|$)' "$f")"
done
# stock SERVICE: the active lines of the machine's file, or of a sample
# without its ns-shell lines, one space between words, comments dropped
stock() {
    sed -e 's/#.*//' -e 's/[[:space:]]\+/ /g' -e 's/ $//' "$1" |
        grep -vE '^$|pam_succeed_if\.so quiet uid eq 0|pam_ns\.so'
}
for s in login sshd su su-l; do
    h=$SB_HOSTROOT/etc/pam.d/$s
    [[ -f $h ]] || continue
    check_eq "conf/pam.d/$s is this Debian machine's /etc/pam.d/$s plus the ns-shell lines" \
        "$(stock "$h")" "$(stock "$NS_REPO/conf/pam.d/$s")"
done

# pt SERVICE USER OP... : pamtester with a timeout; sets PT_OUT, PT_RC
pt() {
    PT_RC=0
    PT_OUT=$(timeout -k 2 30 pamtester "$@" 2>&1 <"${PT_IN:-/dev/null}") || PT_RC=$?
}
check_pt() { # DESC : the last pt succeeded
    if [[ $PT_RC == 0 ]]; then sandbox_ok "$1"
    else sandbox_not_ok "$1" "exit status: $PT_RC
$PT_OUT
$(tail -n 5 "$SB_SYSLOG")"; fi
}
check_pt_fails() { # DESC : the last pt failed
    if [[ $PT_RC != 0 ]]; then sandbox_ok "$1"
    else sandbox_not_ok "$1" "exit status 0, expected a failure
$PT_OUT"; fi
}
# nslog SERVICE USER : how many sessions pam_ns has logged for USER via SERVICE
nslog() {
    grep -cE "pam_ns\\($1:session\\): $2 \\(uid [0-9]+\\): session [0-9a-f]{8} in network namespace ns-$2$" \
        "$SB_SYSLOG"
}
# logged_more SERVICE USER N : wait until nslog SERVICE USER > N
logged_more() { local n; n=$(nslog "$1" "$2"); (( n > $3 )); }

for s in "${SAMPLES[@]}"; do
    n=$(nslog "$s" alice)
    pt "$s" alice open_session close_session
    check_pt "sample $s as installed: pamtester $s alice open_session close_session"
    check "... pam_ns opened a session of alice's network namespace through $s" \
        wait_until 10 logged_more "$s" alice "$n"
    pt "$s" root open_session close_session
    check_pt "sample $s as installed: pamtester $s root open_session close_session"
    pt "$s" alice acct_mgmt
    check_pt "sample $s as installed: pamtester $s alice acct_mgmt"
    settle 2001
done
PT_IN=$SB/tmp/pw
printf '%s\n' "$SB_USER_PASSWORD" >"$PT_IN"
for s in login sshd; do
    pt "$s" alice authenticate
    check_pt "sample $s: pamtester $s alice authenticate with her password"
done
printf 'wrong\n' >"$PT_IN"
pt sshd alice authenticate
check_pt_fails "sample sshd: ... and not with a wrong one"
PT_IN=
for s in su su-l; do
    pt "$s" alice authenticate
    check_pt "sample $s: pamtester $s alice authenticate as root (pam_rootok)"
done
pt su carol open_session close_session
check_pt_fails "shell= in the samples refuses carol, whose login shell is /bin/sh"

# Real su and su - with the samples.
run su alice -c 'readlink /proc/self/ns/net; cat /proc/1/comm'
check_run "real su alice -c (sample su) succeeds" 0
check_match "... in a network namespace that is not the host's, under ns-shell" \
    "^net:\\[[0-9]+\\]
ns-shell$" "$OUT"
check "... not the host's" test "$(head -n 1 <<<"$OUT")" != "net:[$HOSTNET]"
settle 2001
run su - alice -c 'readlink /proc/self/ns/net'
check_run "real su - alice -c (sample su-l, which includes su) succeeds" 0
check_match "... in a network namespace that is not the host's" '^net:\[[0-9]+\]$' "$OUT"
check "... not the host's" test "$OUT" != "net:[$HOSTNET]"
settle 2001

# ======================================== (c) root is never locked out ===
# root_passes CASE : root's session through every sample, real su, su -;
# alice refused (fail closed)
su_root_from_alice() { # the password typed on a pty, as on a console
    printf '%s\n' 'expect [Pp]assword' "send $SB_USER_PASSWORD\\r" 'expect uid=0' >"$X/su-root.script"
    rm -f "$X/su-root.out"
    RUN_TIMEOUT=40 run setpriv --reuid=2001 --regid=2001 --init-groups -- \
        "$PY" "$SB/bin/expect.py" "$X/su-root.script" "$X/su-root.out" -- \
        su - root -c 'echo uid=$(id -u)'
    ERR="$OUT$ERR" OUT=$(cat "$X/su-root.out" 2>/dev/null)
}
root_passes() {
    local case=$1 s
    for s in "${SAMPLES[@]}"; do
        pt "$s" root open_session close_session
        check_pt "$case: pamtester $s root open_session close_session succeeds"
    done
    run su -c 'id -u' root
    check_run "$case: real su -c 'id -u' root (as root) succeeds" 0
    check_eq "... and runs as root" 0 "$OUT"
    run su - root -c 'id -u'
    check_run "$case: real su - root -c 'id -u' (as root) succeeds" 0
    su_root_from_alice
    check_run "$case: su - root from alice with root's password on a pty succeeds" 0
    check_match "... and runs as root" 'uid=0' "$OUT"
    for s in su sshd cron; do
        pt "$s" alice open_session close_session
        check_pt_fails "$case: pamtester $s alice open_session is refused (fail closed)"
    done
    run su alice -c true
    check "$case: real su alice -c true is refused (fail closed)" test "$RC" != 0
}
su_root_from_alice
check_run "control: su - root from alice with root's password on a pty succeeds" 0
check_match "... and runs as root" 'uid=0' "$OUT"

mv "$SB/security/ns.conf" "$SB/ns.conf.good"
root_passes "ns.conf missing"
printf 'bridge = \n}}} garbage {{{ "\n' | sandbox_conf
check_fail "the garbage ns.conf is refused by nsctl check" "$NS_BUILD/nsctl" check
root_passes "ns.conf invalid"
sandbox_conf <"$SB/ns.conf.good"
mv "$MOD" "$MOD.gone"
root_passes "pam_ns.so removed"
check "... and PAM logged that it could not load the module" \
    sandbox_log_wait "PAM unable to dlopen\\($MOD\\)" 10
mv "$MOD.gone" "$MOD"
pt su alice open_session close_session
check_pt "everything back: pamtester su alice open_session close_session succeeds again"
settle 2001

# Without the guard line: pam_ns itself lets root through on a bad ns.conf
# and says so at LOG_CRIT (pam_ns's root-first code).
sed '/pam_succeed_if\.so quiet uid eq 0/d' "$SB/pam.d/su" | sandbox_pam su-noguard
check_eq "su-noguard is the su sample without the guard line" 1 \
    "$(grep -c "$MOD" "$SB/pam.d/su-noguard")"
mv "$SB/security/ns.conf" "$SB/ns.conf.good"
pt su-noguard root open_session close_session
check_pt "no guard, ns.conf missing: pam_ns lets root's session through (needs pam_ns's root-first code)"
printf 'bridge = \n}}} garbage {{{ "\n' | sandbox_conf
pt su-noguard root open_session close_session
check_pt "no guard, ns.conf invalid: pam_ns lets root's session through (needs pam_ns's root-first code)"
check "... and logs the bad config at LOG_CRIT (authpriv.crit)" \
    sandbox_log_wait '^authpriv\.crit [^ ]*: ?pam_ns\(su-noguard:session\)' 10
pt su-noguard alice open_session close_session
check_pt_fails "no guard, ns.conf invalid: alice is refused (fail closed)"
sandbox_conf <"$SB/ns.conf.good"

# exempt_uid_below (default 1000): a service account is not namespaced.
n=$(grep -c 'pam_ns(su:session): svc ' "$SB_SYSLOG")
pt su svc open_session close_session
check_pt "pamtester su svc (uid 900) open_session close_session succeeds (needs exempt_uid_below)"
run su svc -c 'readlink /proc/self/ns/net'
check_run "real su svc -c succeeds (needs exempt_uid_below)" 0
check_eq "... in the host's network namespace: uid 900 < exempt_uid_below" "net:[$HOSTNET]" "$OUT"
log_sync
check_eq "... and pam_ns logged no session for svc" "$n" "$(grep -c 'pam_ns(su:session): svc .*network namespace' "$SB_SYSLOG")"

check_eq "no session record is left" 0 "$(find /run/ns-shell/sessions -maxdepth 1 -type f 2>/dev/null | wc -l)"
sandbox_finish
