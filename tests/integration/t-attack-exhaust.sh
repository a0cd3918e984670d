#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 600
# (60-95 s here, alone or next to another run under load: the default 120 s is too close)
# Exhaustion and odd identities against pam_ns.so + ns-shell (issue #7,
# classes 13 and 14): an ordinary user freezing everyone's logins by
# stopping her own su while pam_ns holds the global "leases" lock; a lock
# of one user held forever by a stopped root process; her own su SIGKILLed
# at random moments of pam_ns's work (25 times); a fork bomb under
# `ulimit -u`; 50 logins in quick succession; uids 65534, 2^31-1 and
# 2^32-2, a 32-byte name, names with dots, dashes and a leading digit; a
# uid reused by a new user name.
# shellcheck disable=SC2016,SC2012,SC2015,SC2034,SC2088,SC2119,SC2174,SC2317  # single-quoted login commands; helpers via check; ls of /proc
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

sandbox_install_ns_shell
add_users 3001 alice bob carol
# built-in defaults (bridge, per-user namespace, pool), except that a
# login's processes end with it: the fork bomb below must not outlive it.
printf 'default { linger = false }\n' | sandbox_conf
pam_with_ns su su-l
pam_ns_alone nstest
cc -O2 -Wall -o "$SB/bin/lockstop" "$ATT/lockstop.c" || sandbox_die "cannot compile lockstop.c"

# timed_login USER : su USER -c 'echo IN-$USER' as root; sets T_MS T_RC T_OUT
timed_login() {
    local t0=$EPOCHREALTIME
    T_RC=0
    T_OUT=$(timeout -k 2 30 su "$1" -c 'echo "IN-$USER"' </dev/null 2>&1) || T_RC=$?
    T_MS=$(ms_since "$t0")
}

# ======================== class 13: a lock held forever by a stopped root process ===
timed_login alice   # makes the state directories
( exec 9<>/run/ns-shell/lock/user-3001; flock 9; exec sleep 300 ) &
holder=$!
# (/proc/locks names the pid of flock(1), the holder's child that took the
# lock on the shared fd 9, not $holder: ask whether the lock is taken)
lock_taken() { ! flock -n "$1" true; }
wait_until 10 lock_taken /run/ns-shell/lock/user-3001 ||
    sandbox_die "the root lock holder did not take alice's lock" "$(cat /proc/locks)"
kill -STOP "$holder"
timed_login bob
check_eq "alice's lock held by a stopped root process: bob logs in" "0 IN-bob" "$T_RC $T_OUT"
check "... without waiting out the 10 s lock timeout (${T_MS} ms)" test "$T_MS" -lt 9000
timed_login alice
check_fail "alice's own login is refused while her lock is held (fails closed)" test "$T_RC" = 0
check "... after a bounded wait, not until the 30 s timeout kills it (${T_MS} ms)" test "$T_MS" -lt 28000
check "... and the log says why" sandbox_log_wait 'pam_ns.*alice.*lock.*held by another login' 10
kill -KILL "$holder"; wait "$holder" 2>/dev/null
timed_login alice
check_eq "once the holder is gone alice logs in again" "0 IN-alice" "$T_RC $T_OUT"

# ====== class 13: alice freezes everyone else's logins with her own stopped su ===
# su is setuid root but keeps the caller's real uid, so its caller may
# SIGSTOP it; /proc/locks (world-readable) shows when it holds two flocks
# (its user lock and the global leases lock).
wait_until 30 no_ns_links
R_RC=0
R_OUT=$(setpriv --reuid=alice --regid=alice --init-groups \
        "$SB/bin/lockstop" "$PWFILE" 300 /bin/su alice -c true </dev/null 2>&1) || R_RC=$?
stopped=$(sed -n 's/^held pid=\([0-9]*\) .*/\1/p' <<<"$R_OUT")
if [[ -n $stopped ]]; then
    sandbox_ok "alice stopped her own su while it held the leases lock ($R_OUT)"
    timed_login carol
    check_eq "carol's first login is not blocked by alice's stopped su" "0 IN-carol" "$T_RC $T_OUT"
    check "... without waiting out the 10 s lock timeout (${T_MS} ms)" test "$T_MS" -lt 9000
    setpriv --reuid=alice --regid=alice --init-groups kill -CONT "$stopped"
    wait_until 10 test ! -e "/proc/$stopped"
else
    sandbox_ok "alice could not stop her su while it held the leases lock in 300 tries ($R_OUT)"
fi
wait_until 30 no_uid_procs 3001
timed_login carol
check_eq "after alice lets go, carol logs in" "0 IN-carol" "$T_RC $T_OUT"

# ============ class 8/13: alice SIGKILLs her own su in the middle of pam_ns ===
cat >"$PUB/sukill.py" <<'EOF'
import os, random, signal, subprocess, sys, time
random.seed(13)
pw = open(sys.argv[1], "rb").read()
for i in range(25):
    p = subprocess.Popen(["/bin/su", "alice", "-c", "sleep 5"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p.stdin.write(pw); p.stdin.flush()
    time.sleep(random.uniform(0, 0.04))
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
print("done")
EOF
chmod 0644 "$PUB/sukill.py"
R_OUT=$(setpriv --reuid=alice --regid=alice --init-groups "$PY" -I "$PUB/sukill.py" "$PWFILE" </dev/null 2>&1)
check_eq "alice SIGKILLed her own su 25 times at random moments of pam_ns's work" "done" "$R_OUT"
wait_until 30 no_uid_procs 3001 || sandbox_die "alice's killed su processes did not end" "$(uid_procs 3001)"
no_live_flocks() { ! grep -q FLOCK /proc/locks; }
check "... no lock is left held" wait_until 30 no_live_flocks
timed_login bob
check_eq "bob logs in right after" "0 IN-bob" "$T_RC $T_OUT"
timed_login alice
check_eq "alice logs in again" "0 IN-alice" "$T_RC $T_OUT"
check "... without waiting out the 10 s lock timeout (${T_MS} ms)" test "$T_MS" -lt 9000
check "... and then nothing of hers is left: no veth" wait_until 30 no_ns_links
check_eq "... no record of hers" "" "$(grep -lx uid=3001 "$SESS"/* 2>/dev/null)"
check_eq "... one lease of hers, no session-tagged extra" "1" "$(lease_lines | awk '$2 == "alice"' | wc -l)"

# ===================================== class 13: a fork bomb under ulimit -u ===
cat >"$PUB/bomb.py" <<'EOF'
import os, resource, sys, time
resource.setrlimit(resource.RLIMIT_NPROC, (80, 80))
n = 0
while n < 10000:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
open(sys.argv[1], "w").write("%d\n" % n)
time.sleep(60)
EOF
chmod 0644 "$PUB/bomb.py"
rm -f "$X/bomb"
su alice -c "$PY -I $PUB/bomb.py $X/bomb" </dev/null >/dev/null 2>&1 &
bomb_su=$!
if wait_until 20 test -s "$X/bomb"; then
    sandbox_ok "alice's fork bomb stopped at her process limit ($(cat "$X/bomb") children)"
    timed_login bob
    check_eq "bob logs in while alice is at her process limit" "0 IN-bob" "$T_RC $T_OUT"
    check "... without blocking until the 30 s timeout (${T_MS} ms)" test "$T_MS" -lt 20000
else
    sandbox_not_ok "alice's fork bomb ran"
fi
kill -TERM "$bomb_su"; wait "$bomb_su" 2>/dev/null
check "when alice's login ends, every process of the bomb is gone" wait_until 30 no_uid_procs 3001

# ================================ class 13: 50 logins in quick succession ===
users=(alice bob carol alice bob)
fails=0
for i in $(seq 0 49); do
    pamtester nstest "${users[i % 5]}" open_session close_session >/dev/null 2>&1 || fails=$((fails + 1))
done
check_eq "50 pamtester logins in a row (alice, bob, carol) all succeed" 0 "$fails"
check_eq "... no session record is left" 0 "$(n_records)"
check "... no veth is left" wait_until 30 no_ns_links
check_eq "... no temp file is left in the state directories" "" \
    "$(find /run/ns-shell /var/lib/ns-shell -name '*tmp*' 2>/dev/null)"
check_eq "... one lease per user" "3" "$(lease_lines | awk 'NF == 4' | wc -l)"
check_eq "... no process holds a flock" "" "$(grep FLOCK /proc/locks)"

# ================================================ class 14: names and ids ===
# Appended by hand (useradd would refuse some of them): add_raw.
name32=u2345678901234567890123456789012     # 32 bytes
odd=(nobody big31 big32 "$name32" 1st.user-x a.b a-b)
add_raw big31 2147483647 2147483647
add_raw big32 4294967294 4294967294
add_raw "$name32" 3010 3010
add_raw 1st.user-x 3011 3011
add_raw a.b 3012 3012
add_raw a-b 3013 3013
usermod_shell() { # the existing nobody gets ns-shell and a home for this test
    local c
    c=$(awk -F: -v OFS=: -v s="$SB/bin/ns-shell" '$1 == "nobody" { $6 = "/home/nobody"; $7 = s } { print }' "$SB/etc/passwd")
    printf '%s\n' "$c" >"$SB/etc/passwd"
    mkdir -p -m 0700 /home/nobody && chown nobody /home/nobody
}
usermod_shell
check_eq "control: the tools see uid 4294967294" "big32" "$(getent passwd 4294967294 | cut -d: -f1)"
for u in "${odd[@]}"; do
    rm -f "$X/out-$u"
    hold "$u" "$u" "{ hostname; ip -br -4 addr show dev eth0; cat /sys/class/net/eth0/address; } >$X/out-$u"
done
for u in "${odd[@]}"; do wait_until 10 test -s "$X/out-$u"; done
ok_n=0
for u in "${odd[@]}"; do
    [[ -s $X/out-$u ]] && ok_n=$((ok_n + 1)) || sed 's/^/# /' "$SB/tmp/hold-$u.out"
done
check_eq "all 7 odd users are logged in at once (65534, 2^31-1, 2^32-2, 32-byte name, 1st.user-x, a.b, a-b)" 7 "$ok_n"
check "interfaces nsu65534, nsu2147483647, nsu4294967294 exist side by side" \
    bash -c 'ip link show dev nsu65534 && ip link show dev nsu2147483647 && ip link show dev nsu4294967294'
recs=$(for f in "$SESS"/*; do sed -n 's/^netns=//p; s/^veth=//p; s/^address=//p' "$f" | tr '\n' ' '; echo; done)
check_eq "7 records with 7 distinct namespace names" 7 "$(awk '{ print $1 }' <<<"$recs" | sort -u | grep -c .)"
check_eq "... 7 distinct veths" 7 "$(awk '{ print $2 }' <<<"$recs" | sort -u | grep -c .)"
check_eq "... 7 distinct addresses" 7 "$(awk '{ print $3 }' <<<"$recs" | sort -u | grep -c .)"
check_eq "... the namespace names are ns-<user>" \
    "$(for u in "${odd[@]}"; do echo "ns-$u"; done | sort)" "$(awk '{ print $1 }' <<<"$recs" | sort)"
macs=$(cat "$X"/out-* | grep -E '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' | sort -u | wc -l)
check_eq "7 distinct MAC addresses inside" 7 "$macs"
for u in "${odd[@]}"; do
    a=$(lease_of -s "$u")
    check_match "$u: eth0 holds its own lease ($a) and the hostname is its name" \
        "^${u//./\\.}
eth0(@[^ ]*)? +UP +${a//./\\.}/16" "$(cat "$X/out-$u")"
done
release "${odd[@]}"
name33=${name32}3
add_raw "$name33" 3014 3014
R_OUT=$(su "$name33" -c 'echo IN' </dev/null 2>&1)
check_fail "a 33-byte user name is not let in un-isolated (the session is refused)" grep -qx IN <<<"$R_OUT"

# ============================ class 14: a uid reused by another user name ===
wait_until 30 no_ns_links
rm -rf "$LEASE_DIR" "$LEASES"
add_raw olduser 3100 3100
timed_login olduser
old_addr=$(lease_of -s olduser)
timed_login bob
timed_login carol
check "olduser (uid 3100) had the first address of the pool ($old_addr)" test -n "$old_addr"
c=$(sed 's/^olduser:/newuser:/' "$SB/etc/passwd"); printf '%s\n' "$c" >"$SB/etc/passwd"
c=$(sed 's/^olduser:/newuser:/' "$SB/etc/shadow"); printf '%s\n' "$c" >"$SB/etc/shadow"
mkdir -m 0700 /home/newuser && chown 3100:3100 /home/newuser
R_OUT=$(su newuser -c 'ip -br -4 addr show dev eth0' </dev/null 2>&1)
new_addr=$(lease_of -s newuser)
check "uid 3100 now named newuser logs in with an address ($new_addr)" test -n "$new_addr"
check_fail "newuser does not inherit olduser's address $old_addr" test "$new_addr" = "$old_addr"
check_eq "olduser's lease is gone from the file" "" "$(lease_of -s olduser)"

sandbox_finish
