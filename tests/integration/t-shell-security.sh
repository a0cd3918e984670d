#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-shell's defences, no PAM module: the TIOCSTI/TIOCLINUX filter (also with
# high bits in the request), setuid hygiene (closed std fds, ignored and
# blocked signals, umask), the non-dumpable outer process, and which network
# namespace a login may run in: only one named by a root-owned, live
# session record of the same uid (records written here by hand).
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted login commands; helpers called via check
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1   # run (OUT ERR RC), wait_file; $X: every test user may write
SP_ALICE=(setpriv --reuid=alice --regid=alice --init-groups)

sandbox_install_ns_shell
add_users 3001 alice bob
sandbox_conf <<'EOF'
default { network = "isolated" }
user "bob" { network = "bridge"  hostname = "h-%s" }
EOF


# --- TIOCSTI / TIOCLINUX ---------------------------------------------------------------
cat >"$SB/bin/tiocsti.py" <<'EOF'
import ctypes, errno, fcntl, os, termios
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
TIOCLINUX = 0x541C
def raw(nr, fd, req, arg):
    r = libc.syscall(ctypes.c_long(nr), ctypes.c_long(fd), ctypes.c_ulong(req), arg)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def attempt(name, f):
    try:
        f()
        return name + "=ok"
    except OSError as e:
        return name + "=" + errno.errorcode.get(e.errno, str(e.errno))
tty = os.open("/dev/tty", os.O_RDWR)
c = ctypes.c_char(b"\n")
sub = ctypes.c_char(b"\x06")   # TIOCLINUX subcode 6: read the shift state
res = [
    attempt("stdin", lambda: fcntl.ioctl(0, termios.TIOCSTI, b"\n")),
    attempt("devtty", lambda: fcntl.ioctl(tty, termios.TIOCSTI, b"\n")),
    attempt("highbits", lambda: raw(16, tty, 0x100000000 | termios.TIOCSTI, ctypes.byref(c))),
    attempt("highbits2", lambda: raw(16, tty, 0xffffffff00000000 | termios.TIOCSTI, ctypes.byref(c))),
    attempt("tioclinux", lambda: raw(16, tty, TIOCLINUX, ctypes.byref(sub))),
    attempt("x32", lambda: raw(0x40000000 | 16, tty, termios.TIOCSTI, ctypes.byref(c))),
]
print("RESULT " + " ".join(res))
EOF
chmod 0644 "$SB/bin/tiocsti.py"
tiocsti_cmd="/usr/bin/python3 -I $SB/bin/tiocsti.py"
pty_run() { # CMD : run CMD (a shell command line) on a new pty; print the RESULT line
    script -qec "$1" /dev/null </dev/null 2>&1 | tr -d '\r' | grep '^RESULT ' || true
}
check "legacy TIOCSTI is enabled here (dev.tty.legacy_tiocsti=1), so the test is meaningful" \
    test "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1
ctl=$(pty_run "${SP_ALICE[*]} $tiocsti_cmd")
check_match "control, without ns-shell: the user can push input into its terminal" \
    'RESULT stdin=ok devtty=ok highbits=ok' "$ctl"
out=$(pty_run "${SP_ALICE[*]} $NSH -c '$tiocsti_cmd'")
check_match "inside: TIOCSTI on fd 0 (the pty) fails with EPERM" 'RESULT .*stdin=EPERM( |$)' "$out"
check_match "inside: TIOCSTI on /dev/tty fails with EPERM" ' devtty=EPERM( |$)' "$out"
check_match "inside: TIOCSTI with bit 32 set in the request fails with EPERM" ' highbits=EPERM( |$)' "$out"
check_match "inside: TIOCSTI with all high bits set fails with EPERM" ' highbits2=EPERM( |$)' "$out"
check_match "inside: TIOCLINUX fails with EPERM" ' tioclinux=EPERM( |$)' "$out"
check_match "inside: ioctl through the x32 syscall table fails" ' x32=E[A-Z]+( |$)' "$out"
check_fail "inside: no variant succeeded" grep -q '=ok' <<<"$out"
# The attack this is for: root runs `su - USER` (interactive, so su keeps its
# terminal as the login's controlling tty; `su -c` would setsid) and the
# user's ~/.bash_profile pushes input into root's terminal.
SHELL_OVERRIDE=/bin/bash sandbox_add_user plain 3009
for u in plain alice; do
    printf '%s\nexit 0\n' "$tiocsti_cmd" >"/home/$u/.bash_profile"
    chown "$u:$u" "/home/$u/.bash_profile"
done
ctl=$(pty_run "su - plain")
check_match "control: su - to a plain bash user: its .bash_profile can push input into root's terminal" \
    'RESULT stdin=ok devtty=ok' "$ctl"
out=$(pty_run "su - alice")
check_match "su - to an ns-shell user: TIOCSTI from .bash_profile fails with EPERM" \
    'RESULT stdin=EPERM devtty=EPERM highbits=EPERM highbits2=EPERM tioclinux=EPERM' "$out"
rm -f /home/plain/.bash_profile /home/alice/.bash_profile
as_user alice 'grep -E "^Seccomp(_filters)?:" /proc/self/status | tr -s "\t" " "'
check_eq "inside: a seccomp filter is installed (mode 2, one filter)" $'Seccomp: 2\nSeccomp_filters: 1' "$AS_OUT"
as_user alice 'ls /dev/null >/dev/null && echo ioctl-ok; stty -a </dev/null >/dev/null 2>&1; echo "stty=$?"'
check_match "inside: ordinary ioctls still work" '^ioctl-ok' "$AS_OUT"

# --- setuid hygiene ---------------------------------------------------------------------
out=$("${SP_ALICE[@]}" "$NSH" -c 'readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2 >&2; true' \
    <&- >&- 2>"$SB/tmp/fds.err"; cat "$SB/tmp/fds.err")
check_match "closed stdin and stdout: the shell gets /dev/null or /dev/full there, not another file" \
    "^/dev/(null|full) /dev/(null|full) $SB/tmp/fds.err\$" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
out=$(trap '' INT QUIT TERM HUP USR1
      "${SP_ALICE[@]}" "$NSH" -c 'grep -E "^Sig(Ign|Blk):" /proc/self/status | tr -s "\t" " "' </dev/null 2>&1)
check_eq "signals ignored by the caller are not ignored in the login; none blocked" \
    $'SigBlk: 0000000000000000\nSigIgn: 0000000000000000' "$out"
out=$(umask 0077; "${SP_ALICE[@]}" "$NSH" -c umask </dev/null 2>&1)
check_eq "the caller's umask (0077, e.g. from pam_umask) is the login's umask" 0077 "$out"
sandbox_pam su-l <<'EOF'
auth     sufficient pam_rootok.so
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so
session  optional   pam_umask.so umask=0027
EOF
as_user plain umask
check_eq "control: pam_umask sets 0027 for a plain bash login" 0027 "$AS_OUT"
as_user alice umask
check_eq "pam_umask's 0027 reaches the ns-shell login" 0027 "$AS_OUT"
sandbox_pam_defaults

# --- the outer ns-shell is not open to the user ------------------------------------------
rm -f "$X/ready"
"${SP_ALICE[@]}" "$NSH" -c "touch $X/ready; sleep 30" </dev/null >/dev/null 2>&1 &
pid=$!
if wait_file "$X/ready"; then
    check_match "the outer ns-shell runs as the user" $'Uid:\t3001\t3001\t3001\t3001' \
        "$(grep '^Uid:' "/proc/$pid/status")"
    run "${SP_ALICE[@]}" cat "/proc/$pid/environ"
    check_fail "another process of the user cannot read the outer ns-shell's environ" test "$RC" = 0
    run "${SP_ALICE[@]}" ls "/proc/$pid/fd"
    check_fail "... nor list its fds (it is not dumpable)" test "$RC" = 0
    reaper=$(pgrep -P "$pid" -x ns-shell)
    run "${SP_ALICE[@]}" cat "/proc/$reaper/environ"
    check_fail "... nor read the reaper's environ" test "$RC" = 0
else
    sandbox_not_ok "the login for the dumpable test started"
fi
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# --- network namespaces: only a live, root-owned record of the same uid -------------------
# A "foreign" network namespace with a second interface, held by a root sleeper.
unshare --net sh -c 'ip link add fveth0 type veth peer name fveth1; ip link set lo up; exec sleep 300' &
owner=$!
wait_until 5 nsenter --net="/proc/$owner/ns/net" ip link show fveth0
# A second process in it, so the namespace outlives its record's owner.
nsenter --net="/proc/$owner/ns/net" sleep 300 &
holder=$!
in_owners_netns() { [[ $(netns_of_pid "$holder") == "$(netns_of_pid "$owner")" ]]; }
wait_until 5 in_owners_netns   # (nsenter has entered it)
fnet=(nsenter --net="/proc/$holder/ns/net")
check "the foreign namespace is up (fveth0 in it)" "${fnet[@]}" ip link show fveth0

run "${fnet[@]}" setpriv --reuid=bob --regid=bob --init-groups env NS_SHELL_SESSION=0badcafe \
    "$NSH" -c 'echo SHELL-RAN'
check_eq "bridge, in a namespace no record names: refused, exit 1" 1 "$RC"
check_fail "... no shell ran" grep -q SHELL-RAN <<<"$OUT"
check_match "... the reason names pam_ns.so" '^ns-shell: .*pam_ns\.so' "$ERR"

run "${fnet[@]}" "${SP_ALICE[@]}" "$NSH" -c 'ls /sys/class/net | tr "\n" " "'
check_eq "isolated, in a namespace no record names: a fresh loopback-only namespace instead" \
    "0 lo " "$RC $OUT"

# write_rec SID USER UID [OWNER_START] : a session record naming the foreign namespace
mkdir -m 0755 /run/ns-shell /run/ns-shell/sessions
write_rec() {
    local start=${4:-$(awk '{print $22}' "/proc/$owner/stat")}
    printf 'user=%s\nuid=%s\nnetns=ns-%s\nnetns_dev=%s\nnetns_ino=%s\nveth=\naddress=\nowner_pid=%s\nowner_start=%s\nopened=%s\n' \
        "$2" "$3" "$2" "$(stat -L -c %d "/proc/$owner/ns/net")" "$(stat -L -c %i "/proc/$owner/ns/net")" \
        "$owner" "$start" "$(date +%s)" >"/run/ns-shell/sessions/$1"
    chmod 0644 "/run/ns-shell/sessions/$1"
}
bob_login() { # a bridge login of bob from inside the foreign namespace
    run "${fnet[@]}" setpriv --reuid=bob --regid=bob --init-groups "$NSH" -c \
        'echo "sid=$NS_SHELL_SESSION host=$(hostname) net=$(ls /sys/class/net | tr "\n" " ")"; cat /etc/resolv.conf'
}
mkdir -p /etc/netns/ns-bob
echo "nameserver 192.0.2.53" >/etc/netns/ns-bob/resolv.conf
check "the sandbox has an /etc/resolv.conf to cover" test -e /etc/resolv.conf

write_rec 1a2b3c4d bob 3002
bob_login
check_eq "a root-owned live record of bob names the namespace: the bridge login runs" 0 "$RC"
check_match "... inside that namespace (its veth pair is there), with the session id and %s" \
    '^sid=1a2b3c4d host=h-1a2b3c4d net=fveth0 fveth1 lo ' "$OUT"
check_match "... with /etc/netns/ns-bob/resolv.conf over /etc/resolv.conf" 'nameserver 192\.0\.2\.53' "$OUT"
check_fail "the host's /etc/resolv.conf is unchanged" grep -q 192.0.2.53 /etc/resolv.conf
rm -f /run/ns-shell/sessions/1a2b3c4d

write_rec 1a2b3c4d alice 3001
bob_login
check_eq "a record of another uid (alice) is not bob's: refused" 1 "$RC"
write_rec 1a2b3c4d bob 3002 12345
bob_login
check_eq "a record whose owner's start time does not match (pid reused): refused" 1 "$RC"
write_rec 1a2b3c4d bob 3002
chmod 0666 /run/ns-shell/sessions/1a2b3c4d
bob_login
check_eq "a record writable by others: refused" 1 "$RC"
chmod 0644 /run/ns-shell/sessions/1a2b3c4d
chown bob /run/ns-shell/sessions/1a2b3c4d
bob_login
check_eq "a record owned by the user: refused" 1 "$RC"
chown root /run/ns-shell/sessions/1a2b3c4d
mv /run/ns-shell/sessions/1a2b3c4d /run/ns-shell/sessions/not-a-sid
bob_login
check_eq "a record whose name is not a session id: refused" 1 "$RC"
mv /run/ns-shell/sessions/not-a-sid /run/ns-shell/sessions/1a2b3c4d
chmod 0777 /run/ns-shell/sessions
bob_login
check_eq "a sessions directory writable by others: refused" 1 "$RC"
chmod 0755 /run/ns-shell/sessions
bob_login
check_eq "control: the same record, made proper again, is accepted" 0 "$RC"
kill "$owner"; wait "$owner" 2>/dev/null
bob_login
check_eq "the record's owner is gone: refused (even from a namespace it named)" 1 "$RC"

sandbox_finish
