#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Attacks on the setuid ns-shell by the unprivileged user who runs it
# (issue #7, classes 1, 7 and 8): argc == 0, a huge argv[0], hostile -c
# strings and option look-alikes, a hostile environment (every path-like
# variable glibc or bash might open points at root-only bait watched with
# inotify: an event means a privileged open), identity variables; the
# privilege drop as seen from the host (outer process, reaper, shell;
# supplementary group 0, primary group 0); ptrace and /proc/PID/mem of the
# outer process and the reaper; SIGKILL and SIGSTOP at random moments.
# No PAM module here: the policy is "isolated" (ns-shell makes a
# loopback-only network namespace itself).
# shellcheck disable=SC2016,SC2012,SC2015,SC2088,SC2119,SC2174,SC2317  # single-quoted login commands; helpers via check; ls of /proc
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
# shellcheck disable=SC2034  # read by run (lib.sh)
RUN_TIMEOUT=20 RUN_NUL='|'   # run: OUT (NUL bytes as "|") ERR RC
SP_ALICE=(setpriv --reuid=alice --regid=alice --init-groups)

sandbox_install_ns_shell
add_users 3001 alice bob
for h in execv argdump; do
    cc -O1 -Wall -o "$SB/bin/$h" "$ATT/$h.c" || sandbox_die "cannot compile $ATT/$h.c"
done
sandbox_add_user dave 3004       # his "real shell" is the argv dumper
sandbox_conf <<EOF
# Signals and crashes must end a login whole: linger = false here.
default { network = "isolated" linger = false }
user "dave" { shell = "$SB/bin/argdump" }
EOF

# dump ARG... : what the argv dumper prints for this argv ("|" for NUL)
dump() { local a; printf '%s|' "$#"; for a in "$@"; do printf '%s|' "$a"; done; }

# ===================================================== class 1: argv ===
# argc == 0 (pkexec, CVE-2021-4034): the kernel (>= 5.18) turns it into
# argv = { "" }; an unpatched reader would take envp[0] as argv[1]. The
# environment holds what argv[1..] would have to be to do harm.
run "${SP_ALICE[@]}" "$SB/bin/execv" "$NSH" 0 "-c" "echo PWNED-BY-ENVP" "--check"
check_fail "argc == 0: envp is never read as arguments (no PWNED, no --check output)" \
    grep -qE 'PWNED|exempt|config +=' <<<"$OUT$ERR"
check_match "argc == 0: a usage error (2) or a plain interactive login (0), nothing else" \
    '^(0|2)$' "$RC"
run "${SP_ALICE[@]}" "$SB/bin/execv" "$NSH" 0 "SSH_ORIGINAL_COMMAND=" "-c" "id"
check_fail "argc == 0 with an empty SSH_ORIGINAL_COMMAND first: no command from envp ran" \
    grep -q 'uid=' <<<"$OUT"
run setpriv --reuid=dave --regid=dave --init-groups "$SB/bin/execv" "$NSH" 0 "-c" "echo PWNED"
if [[ $RC == 2 ]]; then
    sandbox_ok "argc == 0 (dave): refused as a usage error"
else
    check_eq "argc == 0 (dave): the shell gets argv = [-argdump] (envp not taken as argv)" \
        "0 $(dump -argdump)" "$RC $OUT"
fi

# A 100 KB argv[0]: only its first byte matters (login or not); it is not
# copied anywhere (the shell's argv[0] is the shell's own name).
big0=$(printf -- '-%0102400d' 0)
run setpriv --reuid=dave --regid=dave --init-groups "$SB/bin/execv" "$NSH" 1 "$big0"
check_eq "100 KB argv[0] starting with '-': a login shell, argv = [-argdump]" \
    "0 $(dump -argdump)" "$RC $OUT"
run setpriv --reuid=dave --regid=dave --init-groups "$SB/bin/execv" "$NSH" 3 "${big0#-}" -c 'x y'
check_eq "100 KB argv[0] with -c: argv = [argdump, -c, 'x y'], the long name is not passed on" \
    "0 $(dump argdump -c 'x y')" "$RC $OUT"
run "${SP_ALICE[@]}" "$SB/bin/execv" "$NSH" 1 "$big0"
check_eq "100 KB argv[0] (alice, bash): the login runs and ends (stdin is /dev/null)" 0 "$RC"

# -c with the largest single argument the kernel passes (MAX_ARG_STRLEN,
# 128 KiB with its NUL): every byte 1..255, newlines, quotes, a leading
# dash. It must arrive as one argument, byte for byte (one execve).
"$PY" - "$PUB/cmd.bin" <<'EOF'
import sys
body = bytes(range(1, 256)) * 600
cmd = (b"-x 'a' \"b\" $(id) `id` \\\n--check\n" + body)[:131071]
open(sys.argv[1], "wb").write(cmd)
EOF
"$PY" - "$PUB/cmd.bin" "$PUB/cmd.exec.py" "$NSH" <<'EOF'
import sys
# a tiny exec wrapper: the command is read from a file (no shell quoting)
open(sys.argv[2], "w").write(
    "import os, sys\ncmd = open(%r, 'rb').read()\n"
    "os.execv(%r, [b'ns-shell', b'-c', cmd])\n" % (sys.argv[1], sys.argv[3]))
EOF
chmod 0644 "$PUB/cmd.exec.py" "$PUB/cmd.bin"
timeout 20 setpriv --reuid=dave --regid=dave --init-groups "$PY" -I "$PUB/cmd.exec.py" \
    </dev/null >"$SB/tmp/cmd.out" 2>"$SB/tmp/cmd.err"
printf '3\0argdump\0-c\0' >"$SB/tmp/cmd.want"
cat "$PUB/cmd.bin" >>"$SB/tmp/cmd.want"
printf '\0' >>"$SB/tmp/cmd.want"
check "a 128 KiB -c string with every byte value reaches the shell as one argument, verbatim" \
    cmp "$SB/tmp/cmd.want" "$SB/tmp/cmd.out"
# 1 MiB cannot be one argument at all: the kernel refuses it (E2BIG) before
# ns-shell runs; split over many arguments it is a usage error.
run "${SP_ALICE[@]}" "$SB/bin/execv" "$NSH" 3 ns-shell -c "$(head -c 1048576 /dev/zero | tr '\0' x)"
check_eq "control: a 1 MiB -c argument never reaches ns-shell (execve fails with E2BIG)" 126 "$RC"
mapfile -t many < <(for i in $(seq 1 16); do head -c 65536 /dev/zero | tr '\0' y; echo; done)
run setpriv --reuid=dave --regid=dave --init-groups "$NSH" -c "${many[@]}"
check_eq "1 MiB of -c text over 16 arguments: usage error 2, no shell" "2 " "$RC $OUT"

# Option look-alikes after -c belong to the shell, never to ns-shell.
for c in --check --version --help -c -- --conf=/tmp/x; do
    run setpriv --reuid=dave --regid=dave --init-groups "$NSH" -c "$c"
    check_eq "ns-shell -c '$c': passed to the shell as the command string" \
        "0 $(dump argdump -c "$c")" "$RC $OUT"
done
run "${SP_ALICE[@]}" "$NSH" -c --version
check_fail "alice: ns-shell -c --version does not print ns-shell's version" grep -q '^ns-shell ' <<<"$OUT"
# Malformed invocations: usage error, nothing runs (dave's dumper prints nothing).
bad_forms=("-c" "-c|a|b" "--|-c|x" "--check|x" "-c=x" "-ic|x" "-lc|x" "--conf|/tmp/x|-c|x" "-|-c|x")
for f in "${bad_forms[@]}"; do
    IFS='|' read -r -a args <<<"$f"
    run setpriv --reuid=dave --regid=dave --init-groups "$NSH" "${args[@]}"
    check_eq "ns-shell ${args[*]}: usage error 2, no shell ran" "2 " "$RC $OUT"
done

# ====================================== class 1: a hostile environment ===
# Bait: root-only files, FIFOs and directories; inotify reports any open.
B=$SB/bait
mkdir -m 0755 "$B"
mkdir -m 0700 "$B/gconv" "$B/locale" "$B/lang" "$B/tzdir" "$B/lib" "$B/tmp" "$B/nls"
mkfifo -m 0600 "$B/tz"
for f in gconv/gconv-modules gconv/gconv-modules.cache locale/locale-archive lang/LC_CTYPE \
         lang/LC_MESSAGES tzdir/UTC tzdir/Europe lib/libc.so.6 lib/p.so lib/a.so \
         nls/ns-shell hosts resolv mtrace bashenv env lddebug inputrc; do
    : >"$B/$f"
    chmod 0600 "$B/$f"
done
bait_watch "$B" "$B"/* "$B"/*/*
cat "$B/hosts" >/dev/null
check "control: the watcher sees root opening a bait file" \
    wait_until 5 grep -q "OPEN $B/hosts" "$BAIT_LOG"
n0=$(bait_events | grep -c .)
run "${SP_ALICE[@]}" cat "$B/hosts" "$B/tz" "$B/gconv/gconv-modules"
bait_sync
check_eq "control: the user's own attempts (EACCES) leave no event" "$n0" \
    "$(bait_events | grep -c .)"
: >"$BAIT_LOG"

up=../../../../../../../..
hostile_env=(
    GCONV_PATH="$B/gconv" LOCPATH="$B/locale" NLSPATH="$B/nls/%N" TZDIR="$B/tzdir"
    TZ="$B/tz" LANG="$up$B/lang" LC_ALL="$up$B/lang" LC_MESSAGES="$up$B/lang" LANGUAGE="$up$B/lang"
    HOSTALIASES="$B/hosts" RESOLV_HOST_CONF="$B/resolv" LOCALDOMAIN=x RES_OPTIONS="ndots:15"
    LD_LIBRARY_PATH="$B/lib" LD_PRELOAD="$B/lib/p.so" LD_AUDIT="$B/lib/a.so"
    LD_DEBUG=all LD_DEBUG_OUTPUT="$B/lddebug" LD_PROFILE=libc.so.6 LD_SHOW_AUXV=1
    MALLOC_TRACE="$B/mtrace" MALLOC_CHECK_=3 TMPDIR="$B/tmp" INPUTRC="$B/inputrc"
    BASH_ENV="$B/bashenv" ENV="$B/env" SHELLOPTS=xtrace PS4='$(echo PS4-RAN >&2)'
    'BASH_FUNC_echo%%=() { /bin/echo FUNC-RAN; }' IFS=/ CDPATH="$B"
)
for mode in "-c|date >/dev/null 2>&1; echo RAN" "--check" "--version" "-c|x|y"; do
    IFS='|' read -r -a args <<<"$mode"
    run "${SP_ALICE[@]}" env -i "${hostile_env[@]}" "$NSH" "${args[@]}"
    check_fail "hostile environment, ns-shell ${args[*]}: finished (a FIFO in TZ was never opened)" \
        test "$RC" = 124
done
run "${SP_ALICE[@]}" env -i "${hostile_env[@]}" "$NSH" -c 'echo RAN'
check_eq "hostile environment: the login still runs" "0 RAN" "$RC $OUT"
check_fail "... no exported function, PS4 or xtrace reached the shell" grep -qE 'FUNC-RAN|PS4-RAN' <<<"$OUT$ERR"
# su started by alice herself (secure mode for su too), password on stdin
run "${SP_ALICE[@]}" sh -c 'exec env -i "$@" su - alice -c "echo RAN" <'"$PWFILE" sh "${hostile_env[@]}"
check_eq "hostile environment through su - run by alice: the login runs" "0 RAN" "$RC $(tail -n 1 <<<"$OUT")"
bait_sync
check_eq "no bait was opened by a privileged process (GCONV_PATH, LOCPATH, TZ, LANG, NLSPATH, LD_*, ...)" \
    "" "$(bait_events | sort -u)"
# Looney Tunables (CVE-2023-4911): a GLIBC_TUNABLES the loader mis-parsed
# in secure mode. ns-shell must start and behave as if it were not there.
tun="glibc.malloc.mxfast=glibc.malloc.mxfast=$(head -c 4000 /dev/zero | tr '\0' A)"
run "${SP_ALICE[@]}" env -i GLIBC_TUNABLES="$tun" "$NSH" --version
check_match "GLIBC_TUNABLES overflow attempt: ns-shell --version runs normally" '^0 ns-shell ' "$RC $OUT"
run "${SP_ALICE[@]}" env -i GLIBC_TUNABLES="$tun" "$NSH" -c 'printenv GLIBC_TUNABLES; echo END'
check_eq "... and GLIBC_TUNABLES does not reach the login" "0 END" "$RC $OUT"

# Identity variables: none of them moves the login.
run "${SP_ALICE[@]}" env -i USER=bob LOGNAME=root HOME=/root SHELL=/bin/sh PATH="$B" \
    NS_SHELL_SESSION=0badcafe SUDO_UID=0 PWD=/root "$NSH" \
    -c 'echo "$(id -u) $USER $LOGNAME $HOME $SHELL $PATH ${NS_SHELL_SESSION-unset} $PWD"'
check_eq "USER/LOGNAME/HOME/SHELL/PATH/NS_SHELL_SESSION/PWD from the caller change nothing" \
    "0 3001 alice alice /home/alice /bin/bash /usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games unset /home/alice" \
    "$RC $OUT"
# The allow-list, at its edges: exact names only, LC_ + capitals, values
# of at most 4096 bytes, entries without '=' dropped.
long=$(head -c 5000 /dev/zero | tr '\0' a)
run "${SP_ALICE[@]}" "$SB/bin/execv" "$NSH" 3 ns-shell -c 'env | LC_ALL=C sort' \
    TERM=xterm "TERMX=1" "XTERM=1" "LC_=1" "LC_x=1" "LC_PAPER=p" "LC_ALL=C" "LANG=$long" \
    "TZ" "=x" "DISPLAY=:0" "SSH_TTY=/dev/pts/9" "SSH_ORIGINAL_COMMAND=id" "LANGUAGE=fr"
check_eq "only exact allow-listed names (and LC_[A-Z_]+) with values up to 4096 bytes pass" \
    "DISPLAY=:0 HOME=/home/alice LC_ALL=C LC_PAPER=p LOGNAME=alice PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games SHELL=/bin/bash SSH_TTY=/dev/pts/9 TERM=xterm USER=alice" \
    "$(grep -vE '^(PWD|OLDPWD|SHLVL|_)=' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
kill "$BAIT_PID" 2>/dev/null

# ============================================ class 7: privilege drop ===
"${SP_ALICE[@]}" "$NSH" -c "sleep 30 & touch $X/ready; wait" </dev/null >/dev/null 2>&1 &
outer=$!
if wait_file "$X/ready"; then
    reaper=$(pgrep -P "$outer" | head -n 1)
    shell=$(pgrep -P "$reaper" | head -n 1)
    nsleep=$(pgrep -P "$shell" | head -n 1)
    for p in "outer:$outer" "reaper:$reaper" "shell:$shell" "child:$nsleep"; do
        n=${p%%:*} pid=${p#*:}
        st=$(cat "/proc/$pid/status" 2>/dev/null)
        got=$(awk '/^(Uid|Gid):/ { print $1, $2, $3, $4, $5 }
                   /^Cap(Inh|Prm|Eff|Amb):/ { print $1, $2 }' <<<"$st" | tr '\t' ' ')
        check_eq "$n ($pid): uid and gid are 3001 four times; no inheritable, permitted, effective or ambient capability" \
            "Uid: 3001 3001 3001 3001
Gid: 3001 3001 3001 3001
CapInh: 0000000000000000
CapPrm: 0000000000000000
CapEff: 0000000000000000
CapAmb: 0000000000000000" "$got"
        check_fail "$n: no supplementary group 0" grep -qE '^Groups:.*(\s|^)0(\s|$)' <<<"$st"
    done
    check_eq "no process of the login's PID namespace runs as root (host's view)" "" \
        "$(for p in /proc/[0-9]*; do
             [[ $(readlink "$p/ns/pid" 2>/dev/null) == "$(readlink "/proc/$reaper/ns/pid")" ]] || continue
             awk '/^Uid:/ { if ($2 == 0 || $3 == 0 || $4 == 0 || $5 == 0) print FILENAME }' "$p/status"
           done 2>/dev/null)"

    # ========================================= class 8: ptrace, /proc ===
    "${SP_ALICE[@]}" sleep 30 </dev/null >/dev/null 2>&1 &
    ctl=$!
    run "${SP_ALICE[@]}" "$PY" -I "$SB/bin/ptrace.py" "$ctl"
    check_match "control: alice can ptrace her own ordinary process" "attach=ok seize=ok vmread=(ok|EFAULT|EIO) mem=ok" "$OUT"
    kill "$ctl"; wait "$ctl" 2>/dev/null
    run "${SP_ALICE[@]}" "$PY" -I "$SB/bin/ptrace.py" "$outer" "$reaper"
    check_match "alice cannot ptrace, read the memory of or open /proc/PID/mem of the outer ns-shell" \
        "^$outer attach=EPERM seize=EPERM vmread=EPERM mem=EACCES" "$OUT"
    check_match "... nor of the reaper (PID 1 of her login)" \
        "$reaper attach=EPERM seize=EPERM vmread=EPERM mem=EACCES" "$OUT"
    run setpriv --reuid=bob --regid=bob --init-groups "$PY" -I "$SB/bin/ptrace.py" "$outer" "$shell"
    check_match "bob cannot ptrace alice's outer ns-shell or her shell" \
        "^$outer attach=EPERM.*$shell attach=EPERM" "$(tr '\n' ' ' <<<"$OUT")"
    run "${SP_ALICE[@]}" gdb -nx -batch -p "$outer" -ex 'call (int)setuid(0)' -ex 'print (int)getuid()'
    check_fail "gdb -p of the outer ns-shell as alice does not attach" grep -q '^\$1 = ' <<<"$OUT"
else
    sandbox_not_ok "the login for the privilege checks started"
fi
kill -TERM "$outer" 2>/dev/null; wait "$outer" 2>/dev/null
run "${SP_ALICE[@]}" "$NSH" -c "$PY -I $SB/bin/ptrace.py 1"
check_match "inside the login: the shell cannot ptrace its reaper (PID 1)" \
    '^1 attach=EPERM seize=EPERM vmread=EPERM mem=EACCES' "$OUT"

# Supplementary group 0 and primary group 0: refused, nothing runs.
content=$(awk -F: -v OFS=: '$1 == "root" { $4 = ($4 == "" ? "bob" : $4 ",bob") } { print }' "$SB/etc/group")
printf '%s\n' "$content" >"$SB/etc/group"
run setpriv --reuid=bob --regid=bob --clear-groups "$NSH" -c 'echo SHELL-RAN; id'
check_eq "a user in supplementary group 0 (root): refused, exit 1, no shell" "1 " "$RC $OUT"
check_match "... with one 'ns-shell: ' line" '^ns-shell: [^
]*$' "$ERR"
run setpriv --reuid=alice --regid=alice --groups=0 "$NSH" -c 'echo SHELL-RAN; id'
check_eq "a login started with supplementary group 0 (not in NSS): refused, exit 1, no shell" "1 " "$RC $OUT"
check_match "... saying so" '^ns-shell: refusing to start a login for alice: member of group 0$' "$ERR"
printf 'zed:x:3005:0:zed:/home/alice:%s\n' "$NSH" >>"$SB/etc/passwd"
run setpriv --reuid=3005 --regid=0 --clear-groups "$NSH" -c 'echo SHELL-RAN; id'
check_eq "a user whose primary group is 0: refused, exit 1, no shell" "1 " "$RC $OUT"

# =============================== class 8: SIGKILL / SIGSTOP at random ===
# As alice: start a login, SIGKILL the outer ns-shell after 0-15 ms (in
# the privileged phase for most runs), 20 times. Then nothing of hers may
# be left: no process, no mount on the host, no namespace.
mounts_before=$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)
cat >"$SB/bin/killer.py" <<'EOF'
import os, random, signal, subprocess, sys, time
nsh, mode = sys.argv[1], sys.argv[2]
random.seed(7)
bad = 0
for i in range(20):
    p = subprocess.Popen([nsh, "-c", "sleep 30 & sleep 30 & wait"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0, 0.015))
    if mode == "kill":
        os.kill(p.pid, signal.SIGKILL)
    else:
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(0.01)
        os.kill(p.pid, signal.SIGCONT)
        time.sleep(0.05)
        os.kill(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        bad += 1
        p.kill()
print("unfinished=%d" % bad)
EOF
chmod 0755 "$SB/bin/killer.py"
run "${SP_ALICE[@]}" "$PY" -I "$SB/bin/killer.py" "$NSH" kill
check_eq "alice SIGKILLs her outer ns-shell 20 times at random early moments: each ends at once" \
    "0 unfinished=0" "$RC $OUT"
check "... no process of alice is left (the reaper's PID namespace took them)" \
    wait_until 10 no_uid_procs 3001
check_eq "... no process runs ns-shell any more" "" "$(pgrep -a -x ns-shell)"
check_eq "... the host's mount table is unchanged" "$mounts_before" "$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)"
run "${SP_ALICE[@]}" "$PY" -I "$SB/bin/killer.py" "$NSH" stop
check_eq "SIGSTOP/SIGCONT at random early moments, then SIGTERM: every login still ends" \
    "0 unfinished=0" "$RC $OUT"
check "... and leaves no process of alice" wait_until 10 no_uid_procs 3001
check_eq "... nor a mount" "$mounts_before" "$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)"

sandbox_finish
