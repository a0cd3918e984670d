#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Namespace trust, identity and descriptors with pam_ns.so + ns-shell
# (issue #7, classes 2, 4 and 6): ns-shell run inside a namespace the user
# made (unshare -Urn, unshare -Ucn); hand-written session records (another
# uid's; an owner pid with the wrong start time; an owner whose namespace
# is not the recorded one; an owner pid that now belongs to a root
# process in the host's namespace) never lead pam_ns or `nsctl exec` into
# another namespace and never block a login; USER/LOGNAME/HOME and another
# user's live NS_SHELL_SESSION from ~/.pam_environment or ssh SetEnv move
# nothing; descriptors: the shell holds 0-2 only (su, ssh), the outer
# ns-shell and the reaper hold no namespace, netlink, lock or config fd,
# pam_ns leaves the calling process as it found it (in-process driver,
# also after a failed open), su holds exactly one extra O_CLOEXEC
# namespace fd while the session is open, nsctl exec passes nothing on.
# shellcheck disable=SC2016,SC2012,SC2015,SC2088,SC2119,SC2174,SC2317  # single-quoted login commands; helpers via check; ls of /proc
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
# shellcheck disable=SC2034  # read by run (lib.sh)
RUN_TIMEOUT=20  # run: OUT ERR RC MS

SP_ALICE=(setpriv --reuid=alice --regid=alice --init-groups)

sandbox_install_ns_shell
add_users 3001 alice bob carol:/bin/sh
# parentfds.py: the fds of the calling shell (no pipeline, so no pipe of its own)
printf '%s\n' 'import os' 'print(" ".join(sorted(os.listdir("/proc/%d/fd" % os.getppid()), key=int)))' \
    >"$SB/bin/parentfds.py"
chmod 0755 "$SB/bin/parentfds.py"
: | sandbox_conf      # built-in defaults: bridge, per-user namespace
PAM_PLAIN='auth     sufficient pam_rootok.so
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so'
stack() { # SERVICE [EXTRA LINE] : the plain stack plus pam_env (user file) and pam_ns
    pam_with_ns "$1" 'session  required   pam_env.so user_readenv=1 user_envfile=.pam_environment' ${2:+"$2"}
}
stack su; stack su-l
sandbox_pam nsplain <<<"$PAM_PLAIN"
PAM_NS_ARGS='' pam_with_ns nstest

start_of() { awk '{ print $22 }' "/proc/$1/stat"; }
# forge SID USER UID NETNS_DEV NETNS_INO OWNER_PID OWNER_START : a root-owned
# 0644 record, indexed under by-uid/UID (and by-uid/3001, alice's) if the
# state has such an index.
forge() {
    printf 'user=%s\nuid=%s\nnetns=ns-%s\nnetns_dev=%s\nnetns_ino=%s\nveth=\naddress=\nowner_pid=%s\nowner_start=%s\nopened=%s\n' \
        "$2" "$3" "$2" "$4" "$5" "$6" "$7" "$(date +%s)" >"$SESS/.forge"
    chmod 0644 "$SESS/.forge"
    mv "$SESS/.forge" "$SESS/$1"
    if [[ -d $STATE/by-uid ]]; then
        local u
        for u in "$3" 3001; do
            mkdir -p -m 0755 "$STATE/by-uid/$u"
            : >"$STATE/by-uid/$u/$1"
        done
    fi
}
unforge() { rm -f "$SESS/$1" "$STATE"/by-uid/*/"$1"; }

# ======================= class 4: a namespace the user made herself ===
hostnet=$(netns_of_pid $$)
run "${SP_ALICE[@]}" unshare -Urn "$NSH" -c "touch $X/made-in-userns; echo RAN"
check_match "ns-shell under unshare -Urn (its setuid bit is ignored there): refused, ns.conf looks owned by nobody" \
    '^ns-shell: [^
]*not owned by root' "$ERR"
check_fail "... no shell ran" test -e "$X/made-in-userns"
# Her own mount namespace too: her ns.conf bind-mounted over the real one
# looks root-owned in there, and root is exempt. Still nothing is gained:
# what runs is alice's own unprivileged process.
printf 'exempt_users = {"root"}\ndefault { network = "host" }\n' >"$X/fake.conf"
chown alice "$X/fake.conf"
conf_before=$(cat "$SB/security/ns.conf")
run "${SP_ALICE[@]}" unshare -Urnm sh -c "mount --bind $X/fake.conf /etc/security/ns.conf && exec $NSH -c 'touch $X/made-in-userns2; echo RAN'"
check_eq "unshare -Urnm with her own ns.conf bind-mounted: the shell runs ..." "0 RAN" "$RC $OUT"
check_eq "... but as alice: what it made on the host belongs to alice" "alice" "$(stat -c %U "$X/made-in-userns2" 2>&1)"
check_eq "... and the real ns.conf is untouched" "$conf_before" "$(cat "$SB/security/ns.conf")"
run "${SP_ALICE[@]}" unshare -Ucn "$NSH" -c 'echo SHELL-RAN'
check_eq "ns-shell under unshare -Ucn (alice mapped to herself): refused, exit 1, no shell" "1 " "$RC $OUT"
check_match "... saying it is not running as root" '^ns-shell: .*(root|setuid)' "$ERR"
run "${SP_ALICE[@]}" unshare -Urn sh -c "$NSH -c 'id -u; cat /proc/self/uid_map' 2>&1; ip link add x0 type dummy 2>&1; ls /sys/class/net"
check_fail "... and nothing on the host changed: no record" test -n "$(ls -A "$SESS" 2>/dev/null)"
check_eq "... no new link on the host" "lo" "$(ls /sys/class/net | tr '\n' ' ' | sed 's/ $//')"
check_eq "... the sandbox is still in its own network namespace" "$hostnet" "$(netns_of_pid $$)"

# ================================ class 4: hand-written session records ===
hold A alice
hold B bob
wait_until 10 bash -c "[[ \$(ls $SESS | wc -l) == 2 ]]"
sa=$(sids_of 3001) sb=$(sids_of 3002)
a_ino=$(rec "$sa" netns_ino) b_ino=$(rec "$sb" netns_ino) b_dev=$(rec "$sb" netns_dev)
b_owner=$(rec "$sb" owner_pid) b_start=$(rec "$sb" owner_start)
check "alice and bob are logged in, in different namespaces ($a_ino, $b_ino)" \
    test -n "$a_ino" -a -n "$b_ino" -a "$a_ino" != "$b_ino"
# Control: records written by hand are read. Move alice's real record to a
# new name; her next login must still find and join her namespace.
ctl_sid=c0ffee00
cp -p "$SESS/$sa" "$SESS/$ctl_sid"
[[ -d $STATE/by-uid/3001 ]] && : >"$STATE/by-uid/3001/$ctl_sid"
unforge "$sa"
run su alice -c 'readlink /proc/self/ns/net'
check_eq "control: a hand-copied record of alice's live session is honoured (her login joins net:[$a_ino])" \
    "0 net:[$a_ino]" "$RC $OUT"
release A
wait_until 30 bash -c "! ip link show nsu3001"
# Now alice has no live session. Each forged record points at bob's
# namespace (or the host's) in some inconsistent way; alice's login must
# get a namespace of her own, at once, and nsctl exec must not follow it.
root_sleep_pid=$(sh -c 'sleep 120 >/dev/null 2>&1 & echo $!')
declare -A forged=(
    [bob-uid]="alice 3002 $b_dev $b_ino $b_owner $b_start"
    [wrong-start]="alice 3001 $b_dev $b_ino $b_owner $((b_start + 1))"
    [wrong-inode]="alice 3001 $b_dev $((b_ino + 1)) $b_owner $b_start"
    [pid-reused]="alice 3001 $(stat -L -c %d /proc/$$/ns/net) $hostnet $root_sleep_pid $(($(start_of "$root_sleep_pid") - 7))"
)
n=0
for kind in bob-uid wrong-start wrong-inode pid-reused; do
    n=$((n + 1))
    sid=$(printf 'f0f0f0%02x' "$n")
    # shellcheck disable=SC2086  # the fields are one word each
    forge "$sid" ${forged[$kind]}
    run "$NSCTL" exec alice -- readlink /proc/self/ns/net
    check_fail "forged record ($kind): nsctl exec alice does not run in bob's or the host's namespace" \
        grep -qE "net:\[($b_ino|$hostnet)\]" <<<"$OUT"
    run su alice -c 'readlink /proc/self/ns/net'
    got=$(grep -o '[0-9]\+' <<<"$OUT")
    check "forged record ($kind): alice's login runs in a namespace of her own ($got)" \
        test "$RC" = 0 -a -n "$got" -a "$got" != "$b_ino" -a "$got" != "$hostnet"
    check "... without waiting out the 10 s lock timeout (${MS} ms)" test "$MS" -lt 9000
    if [[ $kind != bob-uid ]]; then
        check_fail "... and the dead record was reaped" test -e "$SESS/$sid"
    fi
    unforge "$sid"
    wait_until 30 bash -c "! ip link show nsu3001"
done
check_eq "bob's session is untouched by all this" "$b_ino" "$(rec "$sb" netns_ino)"
check "... and bob's namespace still has its eth0" \
    nsenter --net="/proc/$b_owner/ns/net" ip -br addr show dev eth0
kill "$root_sleep_pid" 2>/dev/null

# ======================= class 2: identity from ~/.pam_environment ===
# A real, live session id of bob's plus USER/LOGNAME/HOME pointing at bob.
cat >/home/alice/.pam_environment <<EOF
USER DEFAULT=bob
LOGNAME DEFAULT=bob
HOME DEFAULT=/home/bob
NS_SHELL_SESSION DEFAULT=$sb
SHELL DEFAULT=/bin/sh
EOF
chown alice:alice /home/alice/.pam_environment
run su - alice -c 'echo "$(id -u) $USER $LOGNAME $HOME $NS_SHELL_SESSION $(readlink /proc/self/ns/net)"'
read -r a_uid a_user a_logname a_home a_sid a_net <<<"$OUT"
check_eq "~/.pam_environment naming bob (and bob's live session id $sb): alice is alice" \
    "0 3001 alice alice /home/alice" "$RC $a_uid $a_user $a_logname $a_home"
check_fail "... her NS_SHELL_SESSION is not bob's" test "$a_sid" = "$sb"
check_fail "... her namespace is not bob's" test "$a_net" = "net:[$b_ino]"
# pam_env after pam_ns, overriding the PAM value pam_ns set.
sandbox_pam su-l <<EOF
$PAM_PLAIN
session  required   $PAM_NS_SO debug
session  required   pam_env.so user_readenv=1 user_envfile=.pam_environment
EOF
sed -i 's/DEFAULT=/OVERRIDE=/' /home/alice/.pam_environment
run su - alice -c 'echo "$NS_SHELL_SESSION $(readlink /proc/self/ns/net)"'
check_fail "pam_env after pam_ns overriding NS_SHELL_SESSION with bob's id: ns-shell does not take it" \
    grep -q "^$sb " <<<"$OUT"
check_fail "... nor bob's namespace" grep -q "net:\[$b_ino\]" <<<"$OUT"
rm -f /home/alice/.pam_environment
stack su-l

# ==================== class 2: identity sent by the ssh client (SetEnv) ===
PAM_NS_ARGS=debug pam_sshd_ns
mkdir -p -m 0755 "$SB/ssh"
printf 'AcceptEnv USER LOGNAME HOME SHELL PATH NS_SHELL_SESSION LANG LC_*\n' >"$SB/ssh/sshd_config.extra"
sandbox_sshd
sandbox_ssh_authorize alice
RC=0
OUT=$(timeout -k 2 20 "${SB_SSH[@]}" -o SetEnv="USER=bob LOGNAME=bob HOME=/home/bob NS_SHELL_SESSION=$sb PATH=/tmp" \
    alice@127.0.0.1 'echo "$(id -u) $USER $LOGNAME $HOME $PATH $NS_SHELL_SESSION $(readlink /proc/self/ns/net)"; /usr/bin/python3 -I '"$SB/bin/parentfds.py; true" \
    </dev/null 2>&1) || RC=$?
line1=$(head -n 1 <<<"$OUT")
read -r s_uid s_user s_logname s_home s_path s_sid s_net <<<"$line1"
check_eq "ssh SetEnv USER/LOGNAME/HOME/PATH=bob's: alice is alice with the built-in PATH" \
    "0 3001 alice alice /home/alice /usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games" \
    "$RC $s_uid $s_user $s_logname $s_home $s_path"
check_fail "... NS_SHELL_SESSION=bob's (AcceptEnv): not used" test "$s_sid" = "$sb"
check_fail "... not in bob's namespace" test "$s_net" = "net:[$b_ino]"

# ============================================= class 6: descriptors ===
fds_line=$(sed -n 2p <<<"$OUT")
check_eq "ssh login: the shell holds 0, 1, 2 only (no namespace, netlink, lock or config fd)" \
    "0 1 2" "$fds_line"
run su - alice -c "/usr/bin/python3 -I $SB/bin/parentfds.py; true"
check_eq "su - login with pam_ns: the shell holds 0 1 2 only" "0 1 2" "$OUT"

# The outer ns-shell and the reaper, seen by root on the host.
hold F alice "touch $X/f-ready"
wait_until 10 test -e "$X/f-ready"
su_pid=${HOLD_PID[F]}
outer=$(pgrep -P "$su_pid" -x ns-shell | head -n 1)
reaper=$(pgrep -P "$outer" | head -n 1)
nl_inodes=$(awk 'NR > 1 { print $NF }' "/proc/$outer/net/netlink" 2>/dev/null | sort -u)
for p in "outer:$outer" "reaper:$reaper"; do
    n=${p%%:*} pid=${p#*:}
    targets=$(for f in /proc/"$pid"/fd/*; do readlink "$f"; done 2>/dev/null)
    check_fail "$n ($pid): no namespace fd" grep -q '^net:\|^mnt:\|^pid:\|^user:' <<<"$targets"
    check_fail "$n: no file under /etc/security or the state directories" grep -qE '^(/etc/security|/run/ns-shell|/var/lib/ns-shell)' <<<"$targets"
    nl=$(grep -o 'socket:\[[0-9]*\]' <<<"$targets" | tr -dc '0-9\n' | while read -r ino; do grep -qx "$ino" <<<"$nl_inodes" && echo "$ino"; done)
    check_eq "$n: no netlink socket" "" "$nl"
done
passed=$(ls /proc/self/fd | sort -n | grep -vx '[0-2]' | tr '\n' ' ')   # what this script passes on
# Besides those, the reaper keeps one pipe to the outer ns-shell (it reports
# the shell's exit code there: with linger it outlives the shell).
outer_pipes=$(for f in /proc/"$outer"/fd/*; do readlink "$f"; done 2>/dev/null | grep '^pipe:')
reaper_fds=$(for f in /proc/"$reaper"/fd/*; do n=${f##*/}; [[ $n == [0-2] ]] && continue
    t=$(readlink "$f"); grep -qxF "$t" <<<"$outer_pipes" || echo "$n"; done 2>/dev/null | sort -n | tr '\n' ' ')
check_eq "the reaper shares exactly one pipe with the outer ns-shell (the shell's exit code)" 1 \
    "$(for f in /proc/"$reaper"/fd/*; do n=${f##*/}; [[ $n == [0-2] || " $passed " == *" $n "* ]] || readlink "$f"
       done 2>/dev/null | grep -cxF -f <(printf '%s\n' "$outer_pipes"))"
check_fail "the reaper holds no other fd of its own beyond 0-2 (it may keep what its caller passed: $passed)" \
    bash -c "comm -13 <(tr ' ' '\n' <<<'$passed' | sort) <(tr ' ' '\n' <<<'$reaper_fds' | sort) | grep -q ."
# su itself while the session is open (carol's shell is /bin/sh, so the
# same login works with and without pam_ns): with pam_ns exactly one more
# fd than without, a network namespace fd, close-on-exec.
su_fds() {
    local f fl
    for f in /proc/"$1"/fd/*; do
        fl=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${f##*/}" 2>/dev/null) || continue
        printf '%s %s %s\n' "${f##*/}" "$(readlink "$f" | sed 's/\[[0-9]*\]/[]/; s/hold-[A-Z]/hold-X/')" \
            "$( (( 8#$fl & 8#2000000 )) && echo cloexec || echo inherit)"
    done | sort -n
}
release F
hold F carol "touch $X/f2-ready"
wait_until 10 test -e "$X/f2-ready"
with=$(su_fds "${HOLD_PID[F]}")
release F
sandbox_pam su <<<"$PAM_PLAIN"
hold G carol "touch $X/g-ready"
wait_until 10 test -e "$X/g-ready"
without=$(su_fds "${HOLD_PID[G]}")
release G
stack su
check "control: su held a session both times" test -n "$with" -a -n "$without"
extra=$(comm -13 <(awk '{ print $2, $3 }' <<<"$without" | sort) <(awk '{ print $2, $3 }' <<<"$with" | sort))
check_eq "su with an open pam_ns session holds exactly one fd more than without: net:[] (O_CLOEXEC)" \
    "net:[] cloexec" "$extra"
check_eq "... and nothing of su's own is missing" "" \
    "$(comm -23 <(awk '{ print $2, $3 }' <<<"$without" | sort) <(awk '{ print $2, $3 }' <<<"$with" | sort))"

# pam_ns in this very process (an in-process driver), next to the same
# driver with a stack without pam_ns (libpam's own syslog socket is in both).
targets() { sed -n "s/^$1 [0-9]* //p" <<<"$2" | sort; }
run "$PY" -I "$SB/bin/pamfds.py" nsplain alice
plain=$OUT
run "$PY" -I "$SB/bin/pamfds.py" nstest alice
check_match "in-process: open and close succeed" 'open=0 close=0' "$OUT"
check_eq "in-process: while open, one fd more than without pam_ns: the caller's own network namespace, O_CLOEXEC" \
    "net:[] cloexec" "$(comm -13 <(targets during "$plain") <(targets during "$OUT"))"
check_eq "in-process: after close_session the same fds as without pam_ns" \
    "$(targets after "$plain")" "$(targets after "$OUT")"
check_eq "in-process: ... and after pam_end" "$(targets ended "$plain")" "$(targets ended "$OUT")"
# A failed open (bridge missing, create_bridge = false) leaks nothing either.
sandbox_conf <<'EOF'
bridge = "nosuchbr0"
create_bridge = false
EOF
run "$PY" -I "$SB/bin/pamfds.py" nstest alice
check_match "in-process, failing setup: open_session fails" 'open=[1-9][0-9]* ' "$OUT"
check_eq "... and the process has the same fds as without pam_ns" \
    "$(targets after "$plain")" "$(targets after "$OUT")"
: | sandbox_conf
# nsctl exec passes no descriptor of its own to the command.
hold H alice "touch $X/h-ready"
wait_until 10 test -e "$X/h-ready"
run sh -c 'cd /proc/$$/fd && echo *'
direct=$OUT
run "$NSCTL" exec alice -- sh -c 'cd /proc/$$/fd && echo *'
check_eq "nsctl exec: the command gets no fd of nsctl's own (the same as run directly: $direct)" "$direct" "$OUT"
release H B

sandbox_finish
