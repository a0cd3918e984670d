#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configuration and state trust (issue #7, classes 3 and 5): ns.conf as a
# FIFO, a 100 MB sparse file, a device, a directory, a symlink to a valid
# root file, a user's file, group/other-writable (each refused by ns-shell
# and pam_ns in under 1 s, with a line that says why); ${VAR} in the
# config with the variables set in su's environment; squatted state paths
# (/run/ns-shell a symlink or a user's directory, sessions/ or lock/ a
# user's, lock files and the old lease file as symlinks or FIFOs, the lease
# store leases.d/ or its by-uid/ a symlink, a user's or world-writable,
# planted temp-file symlinks in the store, a user-owned lease directory)
# never followed, with a clear log line; fixed modes and owners whatever the umask; nothing in
# $HOME opened as root (root-only bait behind symlinks, watched by inotify).
# shellcheck disable=SC2016,SC2012,SC2015,SC2088,SC2119,SC2174,SC2317  # single-quoted login commands; helpers via check; ls of /proc
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
# shellcheck disable=SC2034  # read by run (lib.sh)
RUN_TIMEOUT=20  # run: OUT ERR RC MS
CONF=$SB/security/ns.conf
SP_ALICE=(setpriv --reuid=alice --regid=alice --init-groups)

sandbox_install_ns_shell
add_users 3001 alice bob
GOOD_CONF='default { network = "isolated" }'
printf '%s\n' "$GOOD_CONF" | sandbox_conf
pam_with_ns su su-l
pam_ns_alone nstest debug

reset_state() { rm -rf "$STATE" "$LEASES" "$LEASES".tmp /var/lib/ns-shell/*; }
fingerprint() { stat -c '%s %Y %Z %a %U' "$1"; sha256sum <"$1"; }

# ============================================== class 3: untrusted ns.conf ===
# Each variant replaces ns.conf (bind-mounted dir $SB/security); ns-shell
# (alice, from a user shell) and pam_ns (pamtester) must refuse within 1 s.
conf_variant() { # NAME : make ns.conf that way
    rm -rf "$CONF"
    case $1 in
    fifo) mkfifo -m 0644 "$CONF" ;;
    sparse100M) truncate -s 100M "$CONF"; printf '%s\n' "$GOOD_CONF" | dd of="$CONF" conv=notrunc status=none ;;
    device) mknod -m 0644 "$CONF" c 1 5 ;;      # /dev/zero
    directory) mkdir -m 0755 "$CONF" ;;
    symlink) printf '%s\n' "$GOOD_CONF" >"$PUB/good.conf"; chmod 0644 "$PUB/good.conf"; ln -s "$PUB/good.conf" "$CONF" ;;
    user-owned) printf '%s\n' "$GOOD_CONF" >"$CONF"; chown alice "$CONF"; chmod 0644 "$CONF" ;;
    group-writable) printf '%s\n' "$GOOD_CONF" >"$CONF"; chmod 0664 "$CONF" ;;
    other-writable) printf '%s\n' "$GOOD_CONF" >"$CONF"; chmod 0646 "$CONF" ;;
    esac
}
declare -A why=(
    [fifo]='not a regular file' [sparse100M]='larger than|too large|too big' [device]='not a regular file'
    [directory]='not a regular file|directory' [symlink]='symbolic link|symlink'
    [user-owned]='not owned by root' [group-writable]='writable' [other-writable]='writable'
)
for v in fifo sparse100M device directory symlink user-owned group-writable other-writable; do
    conf_variant "$v"
    run "${SP_ALICE[@]}" "$NSH" -c 'echo SHELL-RAN'
    check_eq "ns.conf $v: ns-shell refuses (exit 1, no shell)" "1 " "$RC $OUT"
    check "... without blocking until the 30 s RUN_TIMEOUT (${MS} ms)" test "$MS" -lt 20000
    check_match "... its first line says why: ${why[$v]}" "^ns-shell: [^
]*(${why[$v]})" "$ERR"
    check_fail "... every line starts with 'ns-shell: '" grep -qv '^ns-shell: ' <<<"$ERR"
    log_mark
    run pamtester nstest alice open_session close_session
    check_fail "ns.conf $v: pam_ns refuses the session" test "$RC" = 0
    check "... without blocking until the 30 s RUN_TIMEOUT (${MS} ms)" test "$MS" -lt 20000
    check_match "... and logs why" "pam_ns[^
]*(${why[$v]})" "$(log_since)"
done
rm -rf "$CONF"
# A parent directory of ns.conf that is a symlink is followed (it is the
# admin's /etc); that the file itself is a symlink is what matters above.
# A 1 MiB config of garbage (the size limit) is still refused quickly.
"$PY" -c 'print("".join("key%d = %d\n" % (i, i) for i in range(80000))[:1000000])' | sandbox_conf
run "${SP_ALICE[@]}" "$NSH" -c 'echo SHELL-RAN'
check_eq "a 1 MB ns.conf of unknown keys: refused" "1 " "$RC $OUT"
# (Every error re-parses the whole file, up to NS_MAX_ERRS times: about
# 0.5 s here, more under load. Root's own file, so only a robustness bound.)
check "... without blocking until the 30 s RUN_TIMEOUT (${MS} ms)" test "$MS" -lt 20000

# A root-only ns.conf (0600, as an admin may keep it) with mistakes in it:
# ns-shell, run by anybody, must not print what the file says.
sandbox_conf <<'EOF'
user "secretadmin" { rate = "SECRET-VALUE-1" }
SECRET_KEY_2 = 5
EOF
chmod 0600 "$CONF"
run "${SP_ALICE[@]}" "$NSH" -c 'echo SHELL-RAN'
check_eq "a root-only ns.conf with errors: refused" "1 " "$RC $OUT"
check_fail "... without showing alice what the root-only file contains (user names, values, keys)" \
    grep -qE 'secretadmin|SECRET-VALUE-1|SECRET_KEY_2' <<<"$ERR"
check "... the details are in the system log for the admin" sandbox_log_wait 'SECRET-VALUE-1' 10

# ${VAR} in ns.conf, with the variables set in su's environment (su is
# setuid root, so a user controls the environment pam_ns runs in).
sandbox_conf <<'EOF'
state_dir  = "/run/ns-shell${NSX}"
lease_file = "${NSL:-/var/lib/ns-shell/leases}"
default { network = "bridge" }
EOF
reset_state
run "${SP_ALICE[@]}" sh -c "NSX=/../../$X/evil-state NSL=$X/evil-leases exec su alice -c 'echo IN' <$PWFILE"
check_eq "\${VAR} in state_dir and lease_file with NSX/NSL set by alice for su: the login runs" "0 IN" \
    "$RC $(tail -n 1 <<<"$OUT")"
check "... the state is in /run/ns-shell" test -d "$STATE/sessions"
check_eq "... nothing was made where the variables pointed" "" "$(find "$X" -maxdepth 1 -name '*evil*')"
printf '%s\n' 'default { network = "bridge" }' | sandbox_conf

# ==================================================== class 5: squatting ===
SHADOW=$SB/shadow-copy                  # a root-only file an attacker wants
cp /etc/shadow "$SHADOW"
chmod 0600 "$SHADOW"
FP=$(fingerprint "$SHADOW")
# squat NAME DESC SETUP... : reset the state, run SETUP, then a pamtester
# login of alice must fail closed quickly with a log line matching LOGRE,
# and $SHADOW must be unchanged.
squat() {
    local desc=$1 logre=$2; shift 2
    reset_state
    "$@"
    log_mark
    run pamtester nstest alice open_session close_session
    check_fail "$desc: alice's session is refused" test "$RC" = 0
    check "... without blocking until the 30 s RUN_TIMEOUT (${MS} ms)" test "$MS" -lt 20000
    check_match "... the log names the problem" "pam_ns[^
]*(${logre})" "$(log_since)"
    check_eq "... the symlink target was not touched" "$FP" "$(fingerprint "$SHADOW")"
}
mk_state() { mkdir -m 0755 "$STATE" "$STATE/sessions"; mkdir -m 0700 "$STATE/lock"; }
mkdir -m 0755 "$X/evil"; chown alice "$X/evil"
squat "/run/ns-shell a symlink to alice's directory" "$STATE|state" \
    ln -s "$X/evil" "$STATE"
check_eq "... nothing was created in alice's directory" "" "$(ls -A "$X/evil")"
squat "/run/ns-shell owned by alice" "$STATE|state" \
    bash -c "mkdir -m 0755 $STATE && chown alice $STATE"
squat "/run/ns-shell/sessions owned by alice" "sessions" \
    bash -c "mkdir -m 0755 $STATE $STATE/sessions && chown alice $STATE/sessions"
squat "/run/ns-shell/lock a symlink to alice's directory" "lock" \
    bash -c "mkdir -m 0755 $STATE && ln -s $X/evil $STATE/lock"
check_eq "... nothing was created in alice's directory" "" "$(ls -A "$X/evil")"
squat "/run/ns-shell/by-uid/3001 (the session index) owned by alice" "by-uid|index|3001" \
    bash -c "mkdir -m 0755 $STATE $STATE/by-uid $STATE/by-uid/3001 && chown alice $STATE/by-uid/3001"
squat "lock file user-3001 a symlink to a root-only file" "lock|user-3001" \
    bash -c "mkdir -m 0755 $STATE && mkdir -m 0700 $STATE/lock && ln -s $SHADOW $STATE/lock/user-3001"
squat "lock file user-3001 a FIFO" "lock|user-3001" \
    bash -c "mkdir -m 0755 $STATE && mkdir -m 0700 $STATE/lock && mkfifo -m 0600 $STATE/lock/user-3001"
squat "lock file leases a symlink to a root-only file" "lock|leases" \
    bash -c "mkdir -m 0755 $STATE && mkdir -m 0700 $STATE/lock && ln -s $SHADOW $STATE/lock/leases"
# the old single lease file (imported by the first login) as a symlink or FIFO
squat "the old lease file a symlink to a root-only file" "lease" ln -s "$SHADOW" "$LEASES"
squat "the old lease file a FIFO" "lease" mkfifo -m 0600 "$LEASES"
# the lease store and its index: a symlink, a user's, world-writable
ROOTDIR=$SB/rootonly-leases             # a root-only directory with a lease of alice in it
mkdir -m 0700 "$ROOTDIR" "$ROOTDIR/by-uid"
printf '3001 alice 10.213.0.77 1\n' >"$ROOTDIR/10.213.0.77"
ln -s 10.213.0.77 "$ROOTDIR/by-uid/3001"
RFP=$(lease_store_state "$ROOTDIR")
squat "the lease store a symlink to a root-only directory holding a lease of alice" "$LEASE_DIR" \
    bash -c "mkdir -m 0755 -p /var/lib/ns-shell && ln -s $ROOTDIR $LEASE_DIR"
check_eq "... that directory was not touched" "$RFP" "$(lease_store_state "$ROOTDIR")"
squat "the lease store a symlink to alice's directory" "$LEASE_DIR" ln -s "$X/evil" "$LEASE_DIR"
check_eq "... nothing was created in alice's directory" "" "$(ls -A "$X/evil")"
squat "the lease store owned by alice" "$LEASE_DIR: not a root-owned directory" \
    bash -c "mkdir -m 0755 $LEASE_DIR && chown alice $LEASE_DIR"
squat "the lease store world-writable (root, 0777)" "$LEASE_DIR: not a root-owned directory" \
    bash -c "mkdir -m 0777 $LEASE_DIR"
squat "the lease store group-writable (root, 0775)" "$LEASE_DIR: not a root-owned directory" \
    bash -c "mkdir -m 0775 $LEASE_DIR"
# (DESIGN, "Trust": refused "with a message naming the path": the path of
# by-uid/ when it is the untrusted one, not only the store's)
squat "the store's by-uid/ a symlink to alice's directory" "$LEASE_DIR/by-uid" \
    bash -c "mkdir -m 0755 $LEASE_DIR && ln -s $X/evil $LEASE_DIR/by-uid"
check_eq "... nothing was created in alice's directory" "" "$(ls -A "$X/evil")"
squat "the store's by-uid/ owned by alice" "$LEASE_DIR/by-uid" \
    bash -c "mkdir -m 0755 $LEASE_DIR $LEASE_DIR/by-uid && chown alice $LEASE_DIR/by-uid"
squat "the store's by-uid/ world-writable (root, 0777)" "$LEASE_DIR/by-uid" \
    bash -c "mkdir -m 0755 $LEASE_DIR && mkdir -m 0777 $LEASE_DIR/by-uid"
# Planted temp-file symlinks (the old leases.tmp, the store's .<address>.tmp
# and by-uid/.tmp-index): the login works, the targets are untouched.
reset_state
mkdir -m 0755 "$LEASE_DIR" "$LEASE_DIR/by-uid"
ln -s "$SHADOW" "$LEASES.tmp"
ln -s "$SHADOW" "$LEASE_DIR/.10.213.0.2.tmp"
ln -s "$SHADOW" "$LEASE_DIR/by-uid/.tmp-index"
run pamtester nstest alice open_session close_session
check_eq "planted temp-file symlinks (leases.tmp, leases.d/.10.213.0.2.tmp, by-uid/.tmp-index): the session still opens" 0 "$RC"
check_eq "... and the symlinks' target is untouched" "$FP" "$(fingerprint "$SHADOW")"
check_match "... alice's lease is a real root-owned file 10.213.0.2" '^regular file root 644 3001 alice 10\.213\.0\.2 ' \
    "$(stat -c '%F %U %a' "$LEASE_DIR/10.213.0.2") $(cat "$LEASE_DIR/10.213.0.2")"
check_eq "... her index entry a symlink to the bare address" "symbolic link 10.213.0.2" \
    "$(stat -c %F "$LEASE_DIR/by-uid/3001") $(readlink "$LEASE_DIR/by-uid/3001")"

# A lease directory the user owns (handed to her by mistake after bob
# logged in): she can delete the lease file and be handed the address of a
# user who is logged in right now.
reset_state
hold bob bob
bob_leased() { [[ -n $(lease_of bob) ]]; }
wait_until 10 bob_leased
bob_addr=$(lease_of bob)
check "control: bob is logged in with an address ($bob_addr)" test -n "$bob_addr"
chown alice /var/lib/ns-shell
run "${SP_ALICE[@]}" mv "$LEASE_DIR" "$LEASE_DIR.gone"
check_eq "(alice moved the store away: she owns its parent)" 0 "$RC"
log_mark
run su alice -c 'ip -br -4 addr show dev eth0'
alice_addr=$(grep -oE '10\.[0-9.]+' <<<"$OUT" | head -n 1)
check_fail "a user-owned lease directory: alice (who deleted the lease file) does not get bob's live address $bob_addr" \
    test -n "$alice_addr" -a "$alice_addr" = "$bob_addr"
if [[ $RC != 0 ]]; then
    check_match "... her login is refused with a line naming the lease directory" 'pam_ns[^
]*(/var/lib/ns-shell|lease)' "$(log_since)"
fi
release bob
chown root /var/lib/ns-shell
# The same through a lease directory that is a symlink to alice's directory.
reset_state
sandbox_conf <<EOF
lease_file = "/var/lib/ns-shell/d/leases"
default { network = "bridge" }
EOF
mkdir -m 0755 "$X/leasedir"; chown alice "$X/leasedir"
ln -s "$X/leasedir" /var/lib/ns-shell/d
log_mark
run pamtester nstest alice open_session close_session
check_fail "a lease directory that is a symlink to alice's directory: refused" test "$RC" = 0
check_eq "... no lease was written into alice's directory" "" "$(ls -A "$X/leasedir")"
rm -f /var/lib/ns-shell/d

# ================================== class 5: fixed modes whatever the umask ===
sandbox_conf <<EOF
lease_file = "/var/lib/ns-shell/new/leases"
default { network = "bridge" }
EOF
for um in 000 077; do
    reset_state
    cmd=$(hold_cmd "u$um")
    ( umask "$um"; exec "${SP_ALICE[@]}" sh -c "exec su alice -c '$cmd' <$PWFILE" ) \
        </dev/null >/dev/null 2>&1 &
    # shellcheck disable=SC2034  # read by release (lib.sh)
    HOLD_PID["u$um"]=$!
    wait_until 10 bash -c "ls $STATE/sessions/???????? >/dev/null 2>&1"
    rec=$(ls "$STATE"/sessions/???????? 2>/dev/null | head -n 1)
    got=$(stat -c '%n %a' "$STATE" "$STATE/sessions" "$STATE/lock" "$STATE"/lock/* \
          "$rec" /var/lib/ns-shell/new /var/lib/ns-shell/new/leases.d /var/lib/ns-shell/new/leases.d/by-uid \
          /var/lib/ns-shell/new/leases.d/[0-9]* 2>&1 |
          sed -e "s|$STATE/sessions/[0-9a-f]*|RECORD|" -e 's|leases\.d/[0-9.]* |leases.d/ADDRESS |')
    check_eq "umask $um in alice's su: state modes are fixed (dirs 0755, lock dir 0700, files 0644, locks 0600)" \
        "$STATE 755
$STATE/sessions 755
$STATE/lock 700
$STATE/lock/leases 600
$STATE/lock/user-3001 600
RECORD 644
/var/lib/ns-shell/new 755
/var/lib/ns-shell/new/leases.d 755
/var/lib/ns-shell/new/leases.d/by-uid 755
/var/lib/ns-shell/new/leases.d/ADDRESS 644" "$got"
    check_eq "umask $um in alice's su: the state pam_ns made belongs to root:root (not to alice's group)" "" \
        "$(find "$STATE" /var/lib/ns-shell/new ! -group root -printf '%p %u:%g\n' | sed "s|$STATE/sessions/[0-9a-f]*$|RECORD|")"
    release "u$um"
done
printf '%s\n' 'default { network = "bridge" }' | sandbox_conf
reset_state

# =============================== class 5: nothing in $HOME is touched as root ===
B=$SB/bait
mkdir -m 0700 "$B" "$B/dir"
for f in file1 file2 file3 file4 file5 file6 file7 file8; do : >"$B/$f"; chmod 0600 "$B/$f"; done
mkfifo -m 0600 "$B/fifo"
H=/home/alice
ln -s "$B/file1" "$H/.pam_environment"
ln -s "$B/file2" "$H/.hushlogin"
ln -s "$B/file3" "$H/.profile"
ln -s "$B/file4" "$H/.bash_profile"
ln -s "$B/fifo" "$H/.bashrc"
ln -s "$B/file5" "$H/.ns-shell"
ln -s "$B/file6" "$H/.ssh"
ln -s "$B/dir" "$H/.config"
ln -s "$B/file7" "$H/.Xauthority"
ln -s "$B/file8" "$H/.bash_history"
chown -h alice:alice "$H"/.[a-zA-Z]*
bait_watch "$B" "$B"/*
run su - alice -c 'echo IN; cd; pwd'
check_eq "su - alice with \$HOME full of symlinks to root-only bait: the login runs" "0 IN /home/alice" \
    "$RC $(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"
run "${SP_ALICE[@]}" "$NSH" -c 'echo IN'
run pamtester nstest alice open_session close_session
bait_sync
check_eq "... no bait behind \$HOME was opened (su, pam_ns, ns-shell)" "" "$(bait_events | sort -u)"
kill "$BAIT_PID" 2>/dev/null
check_eq "... and the bait is unchanged" "0 0 0 0 0 0 0 0" "$(stat -c %s "$B"/file* | tr '\n' ' ' | sed 's/ $//')"
# The home directory itself a symlink to a root-only directory: the shell
# must not start in it (chdir happens as the user).
mkdir -m 0700 "$SB/rootonly"
c=$(awk -F: -v OFS=: '$1 == "bob" { $6 = "/home/bob-link" } { print }' "$SB/etc/passwd")
printf '%s\n' "$c" >"$SB/etc/passwd"
ln -s "$SB/rootonly" /home/bob-link
run su - bob -c 'pwd; ls -a . 2>&1 | head -n 3'
check_fail "home a symlink to a root-only directory: the shell is not in it" \
    grep -qx "$SB/rootonly\|/home/bob-link" <<<"$(head -n 1 <<<"$OUT")"

# ============ class 5: logins one after another leave no records in /run ===
# Each ns-shell login records its reaper (logins/); a user whose session
# runs ns-shell in a loop (a cron job with the cron sample, a ForceCommand
# user's .bashrc, a chsh'd shell) left one dead record per run until that
# session closed, and filled /run for everyone (review A). ns-shell now
# removes her dead ones of the same namespace before it records a new one.
SHELL_OVERRIDE=/bin/bash sandbox_add_user carol 3003
printf '%s\n' "$GOOD_CONF" | sandbox_conf
RUN_TIMEOUT=240 run su - carol -c "for i in \$(seq 40); do $NSH -c true || echo FAIL; done
grep -lx uid=3003 $STATE/logins/* 2>/dev/null | wc -l"
check_eq "40 ns-shell logins in a row under one session of carol: at most the last one's record is left" \
    "0 1" "$RC $(( $(tail -n 1 <<<"$OUT") <= 1 ))"
check_eq "... and none failed" "" "$(grep FAIL <<<"$OUT")"
check "... none once her session closed" wait_until 20 test -z "$(grep -lx uid=3003 "$STATE"/logins/* 2>/dev/null)"
# A file size limit of 0 must not kill ns-shell (SIGXFSZ) halfway through
# writing a record as root. With CAP_SYS_RESOURCE (a real host) the limit
# is lifted and the login runs, its shell with the caller's limit; without
# it (some containers) the write fails and ns-shell refuses, cleanly.
log_mark
run su - carol -c "ulimit -f 0; $NSH -c 'ulimit -f; echo RAN'"
if (( (0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24) & 1 )); then
    check_eq "ns-shell under ulimit -f 0: the login runs, and its shell has the caller's limit (0)" \
        "0 0 RAN" "$RC $(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"
else
    check_eq "ns-shell under ulimit -f 0 (no CAP_SYS_RESOURCE here): refused with status 1, not killed" \
        "1" "$RC"
    check_match "... the log says why" 'ns-shell.*recording the login: .*File too large' "$(log_since)"
fi
check "... and leaves no record nor index entry once the session closed" \
    wait_until 20 test -z "$(grep -lx uid=3003 "$STATE"/logins/* 2>/dev/null)$(ls -A "$STATE/by-uid/3003" 2>/dev/null)"

sandbox_finish
