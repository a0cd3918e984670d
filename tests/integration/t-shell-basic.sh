#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-shell basics, policy network = "isolated", no PAM module: ids and
# capabilities, the login's PID namespace and its reaper, exit status and
# signal forwarding, the invocations (-c, ForceCommand, stdin, options),
# the environment allow-list, the working directory and descriptors.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted login commands; helpers called via check
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1   # nsh, run (OUT ERR RC), wait_file; $X: every test user may write

sandbox_install_ns_shell
sandbox_add_user alice 3001 students
sandbox_add_user dave 3004
# An argv printer as dave's "real shell": shows exactly what ns-shell execs,
# one argument a line, hex-encoded (a compiled binary: a script's argv[0]
# would be rewritten by the kernel's #! handling).
cc -x c -o "$SB/bin/argv" - <<'EOF' || sandbox_die "cannot compile the argv printer"
#include <stdio.h>
int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		for (const unsigned char *p = (const unsigned char *)argv[i]; *p; p++)
			printf("%02x", *p);
		printf(".\n");
	}
	return 0;
}
EOF
chmod 0755 "$SB/bin/argv"
hexargs() { # ARG... : what the argv printer prints for these arguments
    local a
    for a in "$@"; do
        printf '%s' "$a" | od -An -v -tx1 | tr -d ' \n'
        printf '.\n'
    done
}
sandbox_conf <<EOF
# These checks are about what a login ends when it ends: linger = false.
default { network = "isolated" linger = false }
user "dave" { shell = "$SB/bin/argv" }
EOF


# --- ids, groups, capabilities --------------------------------------------------
as_user alice 'id -u; id -g; id -G; id -Gn'
check_eq "su login: exit status 0" 0 "$AS_RC"
check_eq "su login: uid, gid and groups (with the supplementary group) are the user's" \
    "$(printf '3001\n3001\n%s\n%s' "$(id -G alice)" "$(id -Gn alice)")" "$AS_OUT"
check_match "the supplementary group is really there" ' students$' "$AS_OUT"
nsh alice -c 'id -u; id -g; id -G'
check_eq "setpriv login: uid, gid and groups are the user's" \
    "$(printf '3001\n3001\n%s' "$(id -G alice)")" "$OUT"

# The groups are the ones ns-shell was started with (sshd, su, login set
# them with initgroups; pam_group adds to them), not asked of NSS again.
run setpriv --reuid=alice --regid=alice --clear-groups "$NSH" -c 'id -G'
check_eq "started without supplementary groups: the shell has only its gid" "3001" "$OUT"
run setpriv --reuid=alice --regid=alice --groups=100 "$NSH" -c 'id -G'
check_eq "started with another group (pam_group's kind, here 100): the shell keeps it, and not students" \
    "3001 100" "$OUT"

# network = "isolated" without pam_ns: ns-shell's own namespace, lo up in it
nsh alice -c "ls /sys/class/net; cat /sys/class/net/lo/flags; $PY -I -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\", 0))
s.sendto(b\"LO-OK\", s.getsockname()); print(s.recv(8).decode())'"
check_eq "isolated (no PAM): only lo, up (IFF_UP|IFF_LOOPBACK), a datagram over 127.0.0.1 arrives" \
    "$(printf 'lo\n0x9\nLO-OK')" "$OUT"

as_user alice 'grep -E "^(Uid|Gid|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):" /proc/self/status'
status=$AS_OUT
check_match "real, effective, saved and fs uid are the user's" $'Uid:\t3001\t3001\t3001\t3001' "$status"
check_match "real, effective, saved and fs gid are the user's" $'Gid:\t3001\t3001\t3001\t3001' "$status"
for c in CapInh CapPrm CapEff CapAmb; do
    check_match "$c is 0 in the login" "$c:"$'\t''0000000000000000' "$status"
done
check_match "NoNewPrivs is 0 (setuid programs keep working inside)" $'NoNewPrivs:\t0' "$status"

# --- the login's PID namespace and its reaper ---------------------------------
as_user alice 'ps -e -o user=,pid=,comm=; echo "pid1-status: $(grep -E "^Uid:" /proc/1/status | tr -s "\t " " ")"'
procs=$(grep -v '^pid1-status:' <<<"$AS_OUT")
check_eq "ps -e inside: every process belongs to the user" "alice" \
    "$(awk '{print $1}' <<<"$procs" | sort -u)"
check_match "PID 1 of the login is ns-shell (the reaper)" '(^|'$'\n'')alice +1 ns-shell('$'\n''|$)' "$procs"
check "ps -e inside shows only the login (at most ns-shell, the shell, ps)" \
    test "$(wc -l <<<"$procs")" -le 3
check_fail "ps -e inside shows none of the sandbox's processes (su, python3)" \
    grep -Eq ' (su|python3|syslog-listen|unshare)$' <<<"$procs"
check_match "the reaper runs as the user (uid everywhere)" 'pid1-status: Uid: 3001 3001 3001 3001' "$AS_OUT"
as_user alice 'cat /proc/1/environ >/dev/null 2>&1 && echo readable || echo denied'
check_eq "the reaper (non-dumpable) is not readable by the user: /proc/1/environ" denied "$AS_OUT"

# (the orphan ends after 0.1 s; its /proc entry goes once it is reaped: wait
# for that up to 10 s, then count the zombies)
as_user alice 'p=$( ( (sleep 0.1; exit 0) </dev/null >/dev/null 2>&1 & echo $! ) ); i=0
while [ -e "/proc/$p" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ps -e -o stat=,comm= | grep -c "^Z"; true'
check_eq "the reaper reaps orphans (no zombie left in the login)" 0 "$AS_OUT"

# --- exit status -----------------------------------------------------------------
as_user alice 'exit 7'
check_eq "exit 7 in the login: su -c returns 7" 7 "$AS_RC"
as_user alice 'true'
check_eq "a successful command: status 0" 0 "$AS_RC"
as_user alice 'kill -KILL $$'
check_eq "a shell killed by SIGKILL: status 128+9" 137 "$AS_RC"
nsh alice -c 'kill -TERM $$'
check_eq "a shell killed by SIGTERM: status 128+15" 143 "$RC"
nsh alice -c 'kill -USR1 $$'
check_eq "a shell killed by SIGUSR1: status 128+10" 138 "$RC"

# --- signal forwarding -----------------------------------------------------------
# The outer ns-shell (in the host's PID namespace) forwards HUP INT TERM QUIT
# USR1 USR2 to the reaper, which forwards them to the shell.
for sig in TERM HUP INT QUIT USR1 USR2; do
    rm -f "$X/ready"
    setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c \
        "trap 'echo got-$sig; exit 3' $sig; sleep 100 & echo ready >$X/ready; wait" \
        </dev/null >"$SB/tmp/sig.out" 2>&1 &
    pid=$!
    if wait_file "$X/ready" 10; then
        kill -s "$sig" "$pid"
        rc=0; wait "$pid" || rc=$?
        check_eq "SIG$sig to the outer ns-shell reaches the shell's trap; status is the shell's" \
            "3 got-$sig" "$rc $(cat "$SB/tmp/sig.out")"
    else
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        sandbox_not_ok "SIG$sig forwarding: the login started" "$(cat "$SB/tmp/sig.out")"
    fi
    check "after the SIG$sig login no process of the user is left (sleep 100 is gone)" wait_until 20 no_user_procs alice
done

# The same through su: find the outer ns-shell by its user and name.
rm -f "$X/ready"
su - alice -c "trap 'echo got-term; exit 3' TERM; sleep 100 & echo ready >$X/ready; wait" \
    </dev/null >"$SB/tmp/sig.out" 2>&1 &
supid=$!
if wait_file "$X/ready" 10; then
    outer=$(pgrep -o -u alice -x ns-shell)
    check_match "the outer ns-shell runs as the user" "^alice$" "$(ps -o user= -p "$outer")"
    kill -TERM "$outer"
    rc=0; wait "$supid" || rc=$?
    check_eq "su login: SIGTERM to ns-shell runs the trap, su returns 3" "3 got-term" \
        "$rc $(cat "$SB/tmp/sig.out")"
else
    kill -KILL "$supid"; wait "$supid" 2>/dev/null
    sandbox_not_ok "su login for the SIGTERM test started" "$(cat "$SB/tmp/sig.out")"
fi
check "after the su login no process of the user is left" wait_until 20 no_user_procs alice

# SIGKILL of the outer ns-shell: the reaper dies with it (parent-death
# signal), and with the reaper the whole login.
rm -f "$X/ready"
setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c \
    "sleep 100 & echo ready >$X/ready; wait" </dev/null >/dev/null 2>&1 &
pid=$!
if wait_file "$X/ready" 10; then
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    check "SIGKILL of the outer ns-shell ends every process of the login" wait_until 20 no_user_procs alice
else
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    sandbox_not_ok "the login for the SIGKILL test started"
fi

# Keyboard signals: each ^C / ^\ on the login's terminal reaches the program once.
# The kernel sends them to the whole foreground process group (the outer
# ns-shell, the reaper and the program alike): forwarding them again would
# deliver each one two or three times (a second KeyboardInterrupt in the
# middle of a program's cleanup, say).
cat >"$SB/bin/count.py" <<'EOF'
import signal, sys, time
n = {signal.SIGINT: 0, signal.SIGQUIT: 0}
def h(s, f):
    n[s] += 1
signal.signal(signal.SIGINT, h)
signal.signal(signal.SIGQUIT, h)
print("ready", flush=True)
time.sleep(1.0)
print("count INT=%d QUIT=%d" % (n[signal.SIGINT], n[signal.SIGQUIT]), flush=True)
EOF
cat >"$SB/bin/keys.py" <<'EOF'
# keys.py CMD...: run CMD on a new pty; when it prints "ready", type ^C ^C ^\ ^\.
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
buf, sent, t0 = b"", False, time.time()
while time.time() - t0 < 10:
    if select.select([fd], [], [], 0.05)[0]:
        try:
            d = os.read(fd, 1024)
        except OSError:
            break
        if not d:
            break
        buf += d
    if not sent and b"ready" in buf:
        for key in (b"\x03", b"\x03", b"\x1c", b"\x1c"):
            time.sleep(0.15)
            os.write(fd, key)
        sent = True
os.waitpid(pid, 0)
print(buf.decode(errors="replace").replace("\r", ""))
EOF
chmod 0644 "$SB/bin/count.py" "$SB/bin/keys.py"
count_cmd="/usr/bin/python3 -I $SB/bin/count.py"
out=$(/usr/bin/python3 -I "$SB/bin/keys.py" setpriv --reuid=alice --regid=alice --init-groups \
      /usr/bin/python3 -I "$SB/bin/count.py" 2>&1)
check_match "control, without ns-shell: ^C ^C ^\\ ^\\ arrive once each" 'count INT=2 QUIT=2' "$out"
out=$(/usr/bin/python3 -I "$SB/bin/keys.py" setpriv --reuid=alice --regid=alice --init-groups \
      "$NSH" -c "$count_cmd" 2>&1)
check_match "ns-shell -c PROGRAM on a terminal: ^C ^C ^\\ ^\\ arrive once each" 'count INT=2 QUIT=2' "$out"

# Daemons started by the login do not outlive it.
as_user alice '(setsid sleep 300 >/dev/null 2>&1 &); nohup sleep 301 >/dev/null 2>&1 & disown; exit 0'
check_eq "a login that leaves setsid/nohup daemons exits 0" 0 "$AS_RC"
check "no process of the user is left after the login (setsid, nohup)" wait_until 20 no_user_procs alice

# --- invocations -------------------------------------------------------------------
cmd=$'printf "%s|" "a b" \'c d\' "$((6*7))"\necho; echo "x\\"y"'
nsh alice -c "$cmd"
check_eq "-c: quotes, newlines and expansions reach the shell intact" $'a b|c d|42|\nx"y' "$OUT"

# Verbatim: dave's "shell" prints its argv.
for c in $'-x; echo "q\'u" \\\n  $HOME `id` ;' '--version' '--help' '-c' ' leading space' ''; do
    nsh dave -c "$c"
    check_eq "-c $(printf %q "$c"): the command string is passed verbatim, as one argument" \
        "0 $(hexargs argv -c "$c")" "$RC $OUT"
done
as_user dave $'echo "1\n2" \'$x\' -n'
check_eq "su - (login shell with -c): argv is [-argv, -c, CMD]" \
    "$(hexargs -argv -c $'echo "1\n2" \'$x\' -n')" "$AS_OUT"

# ForceCommand: no arguments, SSH_ORIGINAL_COMMAND set.
run setpriv --reuid=alice --regid=alice --init-groups env SSH_ORIGINAL_COMMAND='echo forced' "$NSH"
check_eq "ForceCommand: SSH_ORIGINAL_COMMAND runs (output, status)" "0 forced" "$RC $OUT"
run setpriv --reuid=dave --regid=dave --init-groups env SSH_ORIGINAL_COMMAND=$'-a "b"\n c' "$NSH"
check_eq "ForceCommand: SSH_ORIGINAL_COMMAND is passed verbatim as -c's argument" \
    "$(hexargs argv -c $'-a "b"\n c')" "$OUT"
run setpriv --reuid=alice --regid=alice --init-groups env SSH_ORIGINAL_COMMAND='env' "$NSH"
check_fail "ForceCommand: SSH_ORIGINAL_COMMAND itself is not in the shell's environment" \
    grep -q '^SSH_ORIGINAL_COMMAND=' <<<"$OUT"

# No arguments, no SSH_ORIGINAL_COMMAND: a login shell reading stdin.
printf 'echo from-stdin:$0\nexit 5\n' >"$SB/tmp/stdin.txt"
RUN_IN=$SB/tmp/stdin.txt nsh alice
check_eq "no arguments: the shell runs as a login shell (-bash) reading stdin" \
    "5 from-stdin:-bash" "$RC $OUT"

# Interactive, on a terminal: job control works, exit status is the shell's.
out=$(printf 'tty\nsleep 100 &\njobs\nkill %%1; wait\necho "done-$((6*7))"\nexit 4\n' |
      script -qec "su - alice" /dev/null 2>&1 | tr -d '\r'; echo "rc=${PIPESTATUS[1]}")
check_match "interactive su - on a pty: a terminal, job control" \
    $'/dev/pts/[0-9]+\n.*\\[1\\] [0-9]+\n.*Running +sleep 100 &\n' "$out"
check_match "interactive su - on a pty: commands run, exit 4 is the status" $'done-42\n.*\nrc=4$' "$out"
check "after the interactive login no process of the user is left" wait_until 20 no_user_procs alice

# A home directory that does not exist: a warning, the login starts in /.
sandbox_add_user homeless 3020
rmdir /home/homeless
nsh homeless -c 'pwd; echo "$HOME"'
check_eq "a missing home: the login still runs, in /, HOME as in passwd" \
    $'0 /\n/home/homeless' "$RC $OUT"
check_match "a missing home: a warning names it" '^ns-shell: warning: .*/home/homeless' "$ERR"

# Options.
nsh alice --version
check_match "--version: exit 0, prints the version" '^0 ns-shell [0-9]' "$RC $OUT"
nsh alice --help
check_match "--help: exit 0, usage on stdout" '^0 usage: ns-shell' "$RC $OUT"
for args in "--bogus" "-c" "-c true extra" "-x true" "--check extra"; do
    # shellcheck disable=SC2086  # word splitting wanted
    nsh alice $args
    check_eq "ns-shell $args: usage error, exit 2, no login" "2" "$RC"
    check_match "ns-shell $args: usage on stderr" 'usage: ns-shell' "$ERR"
done

# --- environment ----------------------------------------------------------------------
cat >"$X/bashenv" <<'EOF'
echo BASH_ENV-RAN
EOF
chmod 0644 "$X/bashenv"
# A preload library that announces every program it gets into.
cc -shared -fPIC -x c -o "$SB/bin/preload.so" - <<'EOF' || sandbox_die "cannot compile preload.so"
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void announce(void)
{
	char exe[256] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "PRELOAD-RAN in %s\n", exe);
}
EOF
chmod 0755 "$SB/bin/preload.so"
cd /tmp || exit 1
run env -i LD_PRELOAD="$SB/bin/preload.so" LD_LIBRARY_PATH=/nonexistent BASH_ENV="$X/bashenv" \
    ENV="$X/bashenv" FOO=bar \
    LANG=C.UTF-8 TERM=dumb LC_TIME=C TZ=UTC DISPLAY=:7 HOME=/tmp USER=mallory LOGNAME=mallory \
    SHELL=/bin/false PATH=/evil:/usr/bin:/bin IFS=x BASHOPTS=xtrace SHELLOPTS=xtrace \
    'BASH_FUNC_id%%=() { echo hijacked; }' \
    /usr/bin/setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c 'env; echo "cwd=$(pwd)"; id -un'
cd / || exit 1
envout=$(grep -v -E '^(cwd=|alice$)' <<<"$OUT")
check_eq "only the allow-list plus HOME USER LOGNAME SHELL PATH reach the shell" \
    "DISPLAY HOME LANG LC_TIME LOGNAME PATH SHELL TERM TZ USER" \
    "$(sed -n 's/=.*//p' <<<"$envout" | grep -v -x -E 'PWD|SHLVL|_' | sort | tr '\n' ' ' | sed 's/ $//')"
check_match "HOME is the passwd home" '(^|'$'\n'')HOME=/home/alice('$'\n''|$)' "$envout"
check_match "USER and LOGNAME are the user" 'LOGNAME=alice.*USER=alice|USER=alice.*LOGNAME=alice' "$envout"
check_match "SHELL is the real shell" '(^|'$'\n'')SHELL=/bin/bash('$'\n''|$)' "$envout"
check_match "PATH is the built-in one" '(^|'$'\n'')PATH=/usr/local/bin:/usr/bin:/bin' "$envout"
check_eq "allowed values pass unchanged (DISPLAY, LANG, LC_TIME, TERM, TZ)" \
    "DISPLAY=:7 LANG=C.UTF-8 LC_TIME=C TERM=dumb TZ=UTC" \
    "$(grep -E '^(TERM|LANG|LC_TIME|TZ|DISPLAY)=' <<<"$envout" | sort | tr '\n' ' ' | sed 's/ $//')"
check_fail "BASH_ENV was not run" grep -q BASH_ENV-RAN <<<"$OUT"
check_match "control: LD_PRELOAD was live in the caller (setpriv)" 'PRELOAD-RAN in /usr/bin/setpriv' "$ERR"
check_eq "LD_PRELOAD reached nothing in the login (nor ns-shell)" "" \
    "$(grep PRELOAD-RAN <<<"$ERR" | grep -v 'in /usr/bin/setpriv$')"
check_match "an exported bash function does not reach the shell" '(^|'$'\n'')alice$' "$OUT"
check_match "the working directory is the home (the caller was in /tmp)" 'cwd=/home/alice' "$OUT"
as_user alice 'pwd; echo "$HOME"'
check_eq "su login: the working directory and HOME are the home" $'/home/alice\n/home/alice' "$AS_OUT"

# --- descriptors ----------------------------------------------------------------------
fds_inside() { # run ns-shell with extra fds open; print the login's fds
    exec 5</etc/hostname 9>"$SB/tmp/fd9" 1500</etc/hostname 5000<>"$SB/tmp/fd5000"
    setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c 'ls /proc/self/fd' </dev/null 2>&1
}
check_eq "extra fds (5, 9, 1500, 5000) of the caller do not reach the shell: only 0 1 2 (and ls's own)" \
    "0 1 2 3" "$(fds_inside | tr '\n' ' ' | sed 's/ $//')"
check_eq "su login with fds 5 and 9 open in the caller: the shell sees 0 1 2 (and ls's own)" \
    "0 1 2 3" "$(exec 5</etc/hostname 9</etc/hostname
                 su - alice -c 'ls /proc/self/fd' </dev/null 2>&1 | tr '\n' ' ' | sed 's/ $//')"

sandbox_finish
