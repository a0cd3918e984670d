#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Users from a directory, not /etc/passwd (issue 13): a real OpenLDAP slapd
# (throwaway mdb database, 127.0.0.1:3389 of the sandbox) and nslcd with
# libnss-ldapd (nsswitch "passwd: files ldap", "group: files ldap"), both
# only inside the sandbox. lduser (uid 882200001, home outside /home, ns-shell
# as loginShell) and ldother (882200002) exist only in LDAP, and so does the
# group ldapstaff (lduser a memberUid). A `group "ldapstaff"` block in
# ns.conf gives lduser its hostname, a private /tmp and a static address; an
# ssh login (pam_ns.so in sshd's stack) lands in its own namespaces with that
# policy, nsctl lists it, logout leaves nothing; ldother gets the default.
# Last, one login under strace: each NSS request that reaches nslcd, charged
# to whoever asked (pam_ns.so, ns-shell, sshd, pam_unix.so, bash), printed as
# "# NSS lookups per login: ..." and bounded for pam_ns.so and ns-shell.
# Then the directory goes down: a local user whose ldapstaff membership is
# in LDAP is refused (fail closed) instead of getting the default policy;
# root, whose groups cannot be read either, still gets a plain shell.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted remote commands; shared helpers, called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

for tool in slapd slaptest ldapadd ldapsearch nslcd getent strace; do
    command -v "$tool" >/dev/null 2>&1 ||
        sandbox_die "$tool is installed (make deps: slapd ldap-utils nslcd libnss-ldapd strace)"
done
[[ -e /usr/lib/x86_64-linux-gnu/libnss_ldap.so.2 || -e /lib/x86_64-linux-gnu/libnss_ldap.so.2 ]] ||
    sandbox_die "libnss_ldap.so.2 is installed (package libnss-ldapd)"

L=$SB/ldap                      # everything of the directory: config, db, logs
LDAP_URI=ldap://127.0.0.1:3389/
BASE=dc=ns-test,dc=example
ADMIN=cn=admin,$BASE
U=lduser  UID_U=882200001       # in ldapstaff
O=ldother UID_O=882200002       # not in ldapstaff
GID_STAFF=882200100
HOMES=$L/home                   # homes outside /home: nothing assumes local accounts
mkdir -m 0755 "$L" "$L/db" "$HOMES" "$L/x"

sandbox_install_ns_shell

# ------------------------------------------------------------------ slapd ---
cat >"$L/slapd.conf" <<EOF
include     /etc/ldap/schema/core.schema
include     /etc/ldap/schema/cosine.schema
include     /etc/ldap/schema/nis.schema
pidfile     $L/slapd.pid
argsfile    $L/slapd.args
modulepath  /usr/lib/ldap
moduleload  back_mdb
database    mdb
maxsize     16777216
suffix      "$BASE"
rootdn      "$ADMIN"
rootpw      ns-test-ldap
directory   $L/db
index       objectClass eq
index       uid,memberUid eq
index       uidNumber,gidNumber eq
EOF
out=$(slaptest -u -f "$L/slapd.conf" 2>&1) || sandbox_die "slaptest accepts the generated slapd.conf" "$out"
slapd -f "$L/slapd.conf" -h "$LDAP_URI" -d 0 </dev/null >"$L/slapd.log" 2>&1 &
SLAPD_PID=$!
wait_until 10 ldapsearch -x -LLL -H "$LDAP_URI" -b '' -s base namingContexts ||
    sandbox_die "slapd answers on $LDAP_URI" "$(cat "$L/slapd.log")"
sandbox_ok "slapd runs on $LDAP_URI of the sandbox (pid $SLAPD_PID, database in $L/db)"

ldif_user() { # NAME UID
    cat <<EOF

dn: uid=$1,ou=people,$BASE
objectClass: account
objectClass: posixAccount
cn: $1
uid: $1
uidNumber: $2
gidNumber: $2
homeDirectory: $HOMES/$1
loginShell: $SB/bin/ns-shell
gecos: LDAP user $1

dn: cn=$1,ou=groups,$BASE
objectClass: posixGroup
cn: $1
gidNumber: $2
EOF
}
{
    cat <<EOF
dn: $BASE
objectClass: dcObject
objectClass: organization
o: ns-shell test
dc: ns-test

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups
EOF
    ldif_user "$U" "$UID_U"
    ldif_user "$O" "$UID_O"
    cat <<EOF

dn: cn=ldapstaff,ou=groups,$BASE
objectClass: posixGroup
cn: ldapstaff
gidNumber: $GID_STAFF
memberUid: $U
EOF
} >"$L/base.ldif"
check "ldapadd loads the base, two posixAccounts and three posixGroups" \
    ldapadd -x -H "$LDAP_URI" -D "$ADMIN" -w ns-test-ldap -f "$L/base.ldif"
check_match "... lduser is in the directory" "uidNumber: $UID_U" \
    "$(ldapsearch -x -LLL -H "$LDAP_URI" -b "$BASE" "(uid=$U)" uidNumber 2>&1)"
for u in "$U:$UID_U" "$O:$UID_O"; do
    mkdir -m 0700 "$HOMES/${u%%:*}"
    chown "${u#*:}:${u#*:}" "$HOMES/${u%%:*}"   # numeric: no NSS needed
done

# ------------------------------------------------------- nslcd, nsswitch ---
# Copies bind-mounted over the real names, in this mount namespace only.
cat >"$L/nslcd.conf" <<EOF
# t-ldap.sh: nslcd of the sandbox (runs as root: no uid/gid lines)
uri $LDAP_URI
base $BASE
EOF
chmod 0600 "$L/nslcd.conf"
sed -E 's/^(passwd|group)[[:space:]]*:.*/\1: files ldap/' /etc/nsswitch.conf >"$L/nsswitch.conf"
for db in passwd group; do
    grep -q "^$db:" "$L/nsswitch.conf" || echo "$db: files ldap" >>"$L/nsswitch.conf"
done
chmod 0644 "$L/nsswitch.conf"
[[ -e /etc/nslcd.conf ]] || touch /etc/nslcd.conf     # /etc is the sandbox's overlay
mount --bind "$L/nslcd.conf" /etc/nslcd.conf || sandbox_die "bind-mount nslcd.conf"
mount --bind "$L/nsswitch.conf" /etc/nsswitch.conf || sandbox_die "bind-mount nsswitch.conf"
check_eq "nsswitch.conf in the sandbox: passwd and group from files, then ldap" \
    $'passwd: files ldap\ngroup: files ldap' "$(grep -E '^(passwd|group):' /etc/nsswitch.conf)"
check_fail "... the real one on disk is untouched (no ldap)" \
    grep -qE '^(passwd|group):.*ldap' "$SB_HOSTROOT/etc/nsswitch.conf"
mkdir -m 0755 /run/nslcd                              # the sandbox's /run (tmpfs)
nslcd -d </dev/null >"$L/nslcd.log" 2>&1 &
NSLCD_PID=$!
wait_until 10 test -S /run/nslcd/socket ||
    sandbox_die "nslcd starts (socket /run/nslcd/socket)" "$(cat "$L/nslcd.log")"
# nslcd_requests : how many NSS requests nslcd has served so far
nslcd_requests() { grep -c 'DEBUG: connection from' "$L/nslcd.log"; }

# ------------------------------------------------- accounts come from LDAP ---
check_eq "getent passwd lduser answers from LDAP (home outside /home, ns-shell the shell)" \
    "$U:*:$UID_U:$UID_U:LDAP user $U:$HOMES/$U:$SB/bin/ns-shell" "$(getent passwd "$U" 2>&1)"
check_eq "getent passwd 882200001 answers too" "$U" "$(getent passwd "$UID_U" | cut -d: -f1)"
check "... and nslcd served it (the ldap module, not files)" grep -q "<passwd=\"$U\">" "$L/nslcd.log"
check_eq "getent group ldapstaff: gid $GID_STAFF, member lduser" \
    "ldapstaff:*:$GID_STAFF:$U" "$(getent group ldapstaff 2>&1)"
check_eq "id -nG lduser: its own group and ldapstaff" "$U ldapstaff" "$(id -nG "$U" 2>&1)"
check_eq "id -nG ldother: only its own group" "$O" "$(id -nG "$O" 2>&1)"
check_fail "lduser/ldother are NOT in the sandbox's /etc/passwd (by name or uid)" \
    grep -qE "^($U|$O):|:($UID_U|$UID_O):" /etc/passwd
check_fail "... nor in its /etc/group, nor is ldapstaff" \
    grep -qE "^($U|$O|ldapstaff):|:($UID_U|$UID_O|$GID_STAFF):" /etc/group
check_fail "... nor in its /etc/shadow" grep -qE "^($U|$O):" /etc/shadow
check_fail "... nor in the real /etc/passwd on disk" grep -qE "^($U|$O):" "$SB_HOSTROOT/etc/passwd"

# -------------------------------------------------------- ns.conf, sshd ---
# Built-in globals (bridge nsbr0, pool 10.213.0.0/16); sandbox_conf adds
# linger = false to the default block: a logout ends the login whole.
STAFF_ADDR=10.213.77.7
sandbox_conf <<EOF
default {
    hostname = "h-%u"
}
group "ldapstaff" {
    hostname    = "staff-%u"
    private_tmp = true
    address     = "$STAFF_ADDR/16"
}
EOF
out=$("$NSCTL" check --user "$U" 2>&1)
check_match "nsctl check --user lduser: hostname from the group block" \
    $'\nhostname += "staff-%u" +# group ldapstaff\n' "$out"
check_match "... private_tmp too" $'\nprivate_tmp += true +# group ldapstaff\n' "$out"
check_match "... and the address" "(^|"$'\n'")address += \"$STAFF_ADDR/16\" +# group ldapstaff"$'\n' "$out"
out=$("$NSCTL" check --user "$O" 2>&1)
check_match "nsctl check --user ldother: hostname from default" \
    $'\nhostname += "h-%u" +# default\n' "$out"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize "$U"
sandbox_ssh_authorize "$O"
echo host-tmp >/tmp/ldap-host-marker
chmod 0644 /tmp/ldap-host-marker

# facts: what a login reports about itself, one "key=value" a line
FACTS='echo "pid1=$(cat /proc/1/comm) uid=$(awk "/^Uid:/{print \$2}" /proc/1/status)"
echo "host=$(hostname)"; echo "id=$(id -u) $(id -nG)"; echo "pwd=$PWD"
echo "addr=$(ip -4 -o addr show dev eth0 | awk "{print \$4}")"
echo "tmp=$(ls -A /tmp | tr "\n" " ")"
for n in pid net uts mnt ipc; do echo "$n=$(readlink /proc/self/ns/$n)"; done'
fact() { sed -n "s/^$1=//p" <<<"$2"; }
host_ns() { readlink "/proc/self/ns/$1"; }

# ------------------------------------------------- lduser: the group's policy ---
# Held open until $L/x/go exists, to look at it from outside.
timeout -k 2 30 "${SB_SSH[@]}" "$U@127.0.0.1" \
    "$FACTS; echo READY; while [ ! -e $L/x/go ]; do sleep 0.05; done; echo BYE" \
    </dev/null >"$L/x/u.out" 2>"$L/x/u.err" &
ssh_pid=$!
if ! wait_until 15 grep -qx READY "$L/x/u.out"; then
    sandbox_not_ok "ssh lduser@127.0.0.1 logs in (READY from the login)" \
        "$(cat "$L/x/u.out" "$L/x/u.err"; tail -n 20 "$SB/sshd.log"; tail -n 20 "$SB_SYSLOG")"
else
    sandbox_ok "ssh lduser@127.0.0.1 (LDAP user, key login, pam_ns.so in sshd's stack) logs in"
fi
in=$(cat "$L/x/u.out")
check_eq "PID 1 of the login is the reaper (ns-shell), running as uid 882200001" \
    "ns-shell uid=$UID_U" "$(fact pid1 "$in")"
check_eq "the login runs as uid 882200001 with the LDAP groups" "$UID_U $U ldapstaff" "$(fact id "$in")"
check_eq "... in its home from LDAP ($HOMES/$U)" "$HOMES/$U" "$(fact pwd "$in")"
for n in pid net uts mnt ipc; do
    check "its $n namespace is not the host's" test -n "$(fact "$n" "$in")" -a "$(fact "$n" "$in")" != "$(host_ns "$n")"
done
check_eq "group policy: hostname staff-lduser (group \"ldapstaff\" block)" "staff-$U" "$(fact host "$in")"
check_eq "group policy: eth0 has the block's static address $STAFF_ADDR/16" "$STAFF_ADDR/16" "$(fact addr "$in")"
check_eq "group policy: private_tmp (the host's /tmp marker is not visible)" "" "$(fact tmp "$in")"
sid=$(sids_of "$UID_U")
check_eq "one session record with uid 882200001" 1 "$(wc -w <<<"$sid")"
sid=${sid%%$'\n'*}
check_eq "... user lduser, address $STAFF_ADDR" "$U $STAFF_ADDR/16" "$(rec "$sid" user) $(rec "$sid" address)"
check_eq "... naming the login's network namespace" "net:[$(rec "$sid" netns_ino)]" "$(fact net "$in")"
check "the host side veth nsu882200001 is on the bridge" \
    bash -c "ip -o link show dev nsu$UID_U | grep -q 'master nsbr0'"
st=$("$NSCTL" status 2>&1)
check_match "nsctl status lists lduser with uid 882200001 and its address" \
    "(^|"$'\n'")$sid +$U +$UID_U +[^"$'\n'"]* nsu$UID_U +$STAFF_ADDR/16 " "$st"
check_match "nsctl status --json: user lduser, uid 882200001" \
    "\"user\": \"$U\", \"uid\": $UID_U," "$("$NSCTL" status --json 2>&1)"
check "pam_ns logged the session by name and uid" \
    sandbox_log_wait "$U \\(uid $UID_U\\): session $sid" 10
touch "$L/x/go"
rc=0; wait "$ssh_pid" || rc=$?
check_eq "logout: ssh ends with status 0 after the login's last line" "0 BYE" "$rc $(tail -n 1 "$L/x/u.out")"
check "logout: no session record of uid 882200001 is left" wait_until 5 has_n_records_of "$UID_U" 0
check "logout: no login record, no per-uid index entry" wait_until 5 bash -c \
    "! find /run/ns-shell/logins /run/ns-shell/by-uid/$UID_U -type f 2>/dev/null | grep -q ."
check "logout: the veth nsu882200001 goes" wait_until 30 link_absent "nsu$UID_U"
check "logout: no process of uid 882200001 is left" wait_until 5 bash -c "! pgrep -u $UID_U >/dev/null"
check "nsctl status no longer lists lduser" bash -c "! '$NSCTL' status | grep -qw $U"

# ------------------------------------------------ ldother: the default ---
as_ssh "$O" "$FACTS"
check_rc "ssh ldother@127.0.0.1 (LDAP user, not in ldapstaff) logs in" 0
check_eq "default policy: hostname h-ldother" "h-$O" "$(fact host "$AS_OUT")"
check_match "default policy: /tmp is shared (the host's marker is there)" \
    '(^| )ldap-host-marker( |$)' "$(fact tmp "$AS_OUT")"
addr=$(fact addr "$AS_OUT")
check_match "default policy: a pool address, not the block's" '^10\.213\.[0-9]+\.[0-9]+/16$' "$addr"
check "... (not $STAFF_ADDR)" test "$addr" != "$STAFF_ADDR/16"
check_eq "... the lease is filed under uid 882200002" "${addr%/*}" "$(lease_lines | awk -v u="$UID_O" '$1 == u {print $3}')"
check "ldother's login leaves nothing either" wait_until 5 has_n_records_of "$UID_O" 0
settle "$UID_O"

# ---------------------------------------- NSS lookups per login, by caller ---
# A second sshd (port 2222) under strace -ff -k: every connect() to nslcd's
# socket is one NSS request of the ldap module; its stack says who asked.
sed -e 's/^Port .*/Port 2222/' -e "s|^PidFile .*|PidFile $L/sshd2.pid|" \
    "$SB/ssh/sshd_config" >"$L/sshd_config2"
strace -qq -ff -k -e trace=connect -e signal=none -o "$L/st" \
    /usr/sbin/sshd -D -e -f "$L/sshd_config2" </dev/null >>"$L/sshd2.log" 2>&1 &
strace_pid=$!
wait_until 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222' ||
    sandbox_die "sshd under strace listens on 2222" "$(cat "$L/sshd2.log")"
n_before=$(nslcd_requests)
SSH2=() prev=""                 # SB_SSH with port 2222 (ssh: the first -p wins)
for a in "${SB_SSH[@]}"; do
    [[ $prev == -p ]] && a=2222
    SSH2+=("$a") prev=$a
done
rc=0; out=$(timeout -k 2 30 "${SSH2[@]}" "$U@127.0.0.1" true 2>&1) || rc=$?
check_eq "ssh -p 2222 lduser true (sshd under strace): status 0" 0 "$rc${out:+ $out}"
wait_until 5 has_n_records_of "$UID_U" 0
wait_until 5 bash -c "! pgrep -u $UID_U >/dev/null"
kill "$(cat "$L/sshd2.pid")" 2>/dev/null
wait_until 10 bash -c "! kill -0 $strace_pid 2>/dev/null" || kill "$strace_pid" 2>/dev/null
wait "$strace_pid"
n_traced=$(( $(nslcd_requests) - n_before ))   # every traced process has ended
counts=$("$PY" -I -S "$NS_REPO/tests/integration/bin/ldap-nsscount.py" "$L/st" 2>&1)
by() { awk -v c="$1" '$1 == c { print $2 }' <<<"$counts"; }  # CALLER: its count (or empty)
ours_pam=$(by pam_ns.so) ours_shell=$(by ns-shell)
ours=$(( ${ours_pam:-0} + ${ours_shell:-0} ))
printf '# NSS requests that reached nslcd during one "ssh lduser true", by caller:\n'
sed 's/^/#   /' <<<"$counts"
printf '# NSS lookups per login: %d; ours %d (pam_ns.so %d, ns-shell %d), sshd and its other PAM modules %d\n' \
    "$n_traced" "$ours" "${ours_pam:-0}" "${ours_shell:-0}" "$((n_traced - ours))"
check "the measurement saw pam_ns.so's and ns-shell's lookups (strace -k unwinds them)" \
    test -n "$ours_pam" -a -n "$ours_shell"
check_eq "the strace count and nslcd's own count of the traced login agree" \
    "$n_traced" "$(awk '{ n += $2 } END { print n + 0 }' <<<"$counts")"
# Bounds: one passwd lookup each, the group list (getgrouplist), and one
# getgrnam per group ns.conf names (one block here), never one per group of
# the user: pam_ns.so 1 + 1 + 1; ns-shell 1 + 1 + 1 (the groups it drops
# to are the ones it was started with; its gid-0 guard asks for group 0,
# which "files" answers).
check "pam_ns.so makes at most 3 NSS requests (one group block; made ${ours_pam:-0})" \
    test "${ours_pam:-0}" -le 3
check "ns-shell makes at most 3 NSS requests (one group block; made ${ours_shell:-0})" \
    test "${ours_shell:-0}" -le 3

# ---------------------------------------------- the directory goes down ---
# A local user whose membership in ldapstaff comes from the directory: with
# slapd up she gets the group's policy; with slapd down her groups cannot
# be read, and the login is refused rather than given the default policy.
sandbox_add_user locstaff 2631
sandbox_ssh_authorize locstaff
check "ldapmodify: locstaff (a local account) becomes a memberUid of ldapstaff" \
    ldapmodify -x -H "$LDAP_URI" -D "$ADMIN" -w ns-test-ldap <<<"dn: cn=ldapstaff,ou=groups,$BASE
changetype: modify
add: memberUid
memberUid: locstaff"
as_ssh locstaff 'hostname'
check_eq "directory up: locstaff gets the ldapstaff policy (hostname)" "0 staff-locstaff" "$AS_RC $AS_OUT"
settle 2631
kill "$SLAPD_PID"
wait_until 5 bash -c "! kill -0 $SLAPD_PID 2>/dev/null"
as_ssh locstaff 'hostname'
check "directory down: locstaff's login is refused, not given the default policy" \
    test "$AS_RC" != 0 -a "$AS_OUT" != "h-locstaff"
check "... and the log says the groups could not be read, naming the group" \
    sandbox_log_wait 'cannot read the groups of locstaff \(group ldapstaff' 10
check "... nothing is made for it" wait_until 5 has_n_records_of 2631 0
run "$NSH" -c 'echo plain'
check_eq "directory down: root (ns-shell as its shell) still gets a plain shell" "0 plain" "$RC $OUT"
check_match "... and ns-shell says why" 'cannot read the groups of root \(group ldapstaff.*root gets a plain shell' "$ERR"

# ------------------------------------------------------------------ end ---
kill "$NSLCD_PID" "$SLAPD_PID" 2>/dev/null
check "nslcd and slapd stop (killed by pid)" \
    wait_until 5 bash -c "! kill -0 $NSLCD_PID 2>/dev/null && ! kill -0 $SLAPD_PID 2>/dev/null"
sandbox_finish
