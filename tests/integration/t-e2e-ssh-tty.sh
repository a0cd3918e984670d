#!/bin/bash
# End to end: interactive logins over a real OpenSSH sshd (UsePAM yes,
# pam_ns.so in the sshd session stack, ns-shell the passwd shell, the
# shipped conf/ns.conf). `ssh -tt` from a real client on a terminal: job
# control (&, jobs, kill %1, fg, ^Z, bg, ^C), the exit status, the login's
# host name, PID 1 and eth0; and what a dropped client leaves behind (kill -9
# of the ssh client): nothing, and the namespace goes with the last login.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted remote commands; shared helpers and variables, called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"

# ------------------------------------------------------------- helpers ---
# (each t-e2e-*.sh carries its own copy: run.sh runs every t-*.sh file)
SESS=/run/ns-shell/sessions
LEASES=/var/lib/ns-shell/leases
PY=$SB_PYTHON
NSCTL=$NS_BUILD/nsctl

e2e_helpers() {
    # expect.py SCRIPT TRANSCRIPT -- CMD...: run CMD on a new pty (its
    # controlling terminal) and play SCRIPT, one step a line:
    #   send TEXT      type TEXT (Python escapes: \r, \x03, \x1a)
    #   expect REGEX   wait (at most 20 s) for REGEX in the output after the
    #                  previous match
    #   sleep SECS
    #   sync NAME      create NAME.ready, then wait (at most 60 s) for NAME.go
    #   signal N       send signal N to CMD (the client), then reap it
    # With EXPECT_PIDFILE=FILE in the environment, CMD's pid goes to FILE.
    # Then wait (at most 20 s) for CMD to end. Exit status: CMD's (128+N if
    # killed by N); 200 when an expect or sync step timed out, 201 when CMD
    # did not end. The transcript has every byte CMD wrote (\r dropped).
    cat >"$SB/bin/expect.py" <<'EOF'
import codecs, fcntl, os, pty, re, select, signal, struct, sys, termios, time
script, transcript = sys.argv[1], sys.argv[2]
cmd = sys.argv[4:]
steps = [l.rstrip("\n") for l in open(script) if l.strip()]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
if os.environ.get("EXPECT_PIDFILE"):
    open(os.environ["EXPECT_PIDFILE"], "w").write("%d\n" % pid)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
buf = b""
pos = 0
log = open(transcript, "wb", buffering=0)
def pump(t):
    global buf
    r, _, _ = select.select([fd], [], [], t)
    if not r:
        return True
    try:
        d = os.read(fd, 65536)
    except OSError:
        return False
    if not d:
        return False
    d = d.replace(b"\r", b"")
    buf += d
    log.write(d)
    return True
def status(st):
    if os.WIFEXITED(st): return os.WEXITSTATUS(st)
    if os.WIFSIGNALED(st): return 128 + os.WTERMSIG(st)
    return 1
def bail(code, why):
    sys.stderr.write("expect.py: %s\n" % why)
    log.write(("\n[expect.py: %s]\n" % why).encode())
    try: os.kill(pid, signal.SIGKILL)
    except OSError: pass
    os.waitpid(pid, 0)
    sys.exit(code)
for n, step in enumerate(steps, 1):
    op, _, arg = step.partition(" ")
    if op == "send":
        os.write(fd, codecs.decode(arg, "unicode_escape").encode())
    elif op == "expect":
        rx = re.compile(arg.encode(), re.M)
        end = time.time() + 20
        while True:
            m = rx.search(buf, pos)
            if m:
                pos = m.end()
                break
            if time.time() > end:
                bail(200, "step %d: no match for %r in 20 s" % (n, arg))
            if not pump(0.1) and not rx.search(buf, pos):
                bail(200, "step %d: no match for %r before the end" % (n, arg))
    elif op == "sleep":
        end = time.time() + float(arg)
        while time.time() < end:
            pump(max(0.0, end - time.time()))
    elif op == "sync":
        open(arg + ".ready", "w").close()
        end = time.time() + 60
        while not os.path.exists(arg + ".go"):
            if time.time() > end:
                bail(200, "step %d: %s.go never came" % (n, arg))
            pump(0.05)
    elif op == "signal":
        os.kill(pid, int(arg))
        _, st = os.waitpid(pid, 0)
        while pump(0.2): pass
        sys.exit(status(st))
    else:
        bail(202, "step %d: unknown op %r" % (n, op))
end = time.time() + 20
while time.time() < end and pump(0.1):
    pass
while True:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        break
    if time.time() > end:
        bail(201, "the command did not end")
    time.sleep(0.05)
sys.exit(status(st))
EOF
    # banner.py HOST PORT TEXT [READY_FILE]: answer every connection with
    # TEXT (as an HTTP/1.0 response when the client sends a request first).
    cat >"$SB/bin/banner.py" <<'EOF'
import socket, sys, threading
host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(64)
if len(sys.argv) > 4:
    open(sys.argv[4], "w").close()
def serve(c):
    try:
        c.settimeout(0.3)
        try:
            req = c.recv(4096)
        except socket.timeout:
            req = b""
        if req.startswith(b"GET "):
            body = (text + "\n").encode()
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            c.sendall((text + "\n").encode())
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
    # probe.py HOST PORT [TIMEOUT]: print the first line the listener sends.
    cat >"$SB/bin/probe.py" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
t = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
try:
    c = socket.create_connection((host, port), timeout=t)
    c.settimeout(t)
    print(c.recv(200).decode().strip())
except Exception as e:
    print("probe %s:%d failed: %s" % (host, port, e))
    sys.exit(1)
EOF
    chmod 0644 "$SB/bin/"*.py
}

# rec SID KEY : a key of a session record
rec() { sed -n "s/^$2=//p" "$SESS/$1" 2>/dev/null; }
# sids_of UID : the session ids whose record has this uid
sids_of() {
    local f
    for f in "$SESS"/*; do
        [[ -f $f ]] && grep -qx "uid=$1" "$f" && basename "$f"
    done
    return 0
}
n_sids_of() { sids_of "$1" | wc -l; }
has_n_records_of() { [[ $(n_sids_of "$1") == "$2" ]]; }
lease_of() { awk -v u="$1" '$2 == u { print $3 }' "$LEASES" 2>/dev/null; }
# wait_until SECONDS CMD... : poll CMD every 20 ms
wait_until() {
    local secs=$1 i; shift
    for ((i = 0; i <= secs * 50; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
settle() { wait_until 3 link_absent "nsu$1"; }
netns_of_pid() { stat -L -c %i "/proc/$1/ns/net"; }
pidns_of_pid() { stat -L -c %i "/proc/$1/ns/pid"; }
HOSTNET=$(stat -L -c %i /proc/self/ns/net)
HOSTPID=$(stat -L -c %i /proc/self/ns/pid)
# check_rc DESC EXPECTED : the last as_user/as_ssh exit status (stderr shown)
check_rc() {
    if [[ $AS_RC == "$2" ]]; then sandbox_ok "$1"
    else sandbox_not_ok "$1" "exit status: $AS_RC (expected $2)
stdout: $AS_OUT
stderr: $AS_ERR"; fi
}
# default sshd PAM stack with pam_ns
pam_sshd_ns() {
    sandbox_pam sshd <<EOF
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
password required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO
EOF
}

# ---------------------------------------------------------------- setup ---
e2e_helpers
sandbox_install_ns_shell
sandbox_add_user alice 2101
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
A=(alice@127.0.0.1)

# ------------------------------------- exit status through a pty (-tt) ---
rc=0
out=$(printf 'echo tty=$(tty) comm1=$(cat /proc/1/comm); exit 7\n' |
    timeout -k 2 30 "${SB_SSH[@]}" -tt "${A[@]}" 2>&1) || rc=$?
check_eq "printf '...; exit 7\\n' | ssh -tt alice: the client's exit status is 7" 7 "$rc"
check_match "... the shell had a pty, and its PID 1 was ns-shell" \
    'tty=/dev/pts/[0-9]+ comm1=ns-shell' "$out"
settle 2101

# ------------------------------------------------ a session on a terminal ---
# The ssh client itself runs on a pty (as a person's would), with -tt.
sync1=$SB/tmp/sync-jobs
cat >"$SB/tmp/jobs.script" <<EOF
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send echo "comm1=\$(cat /proc/1/comm) host=\$(hostname) tty=\$(tty) net=\$(readlink /proc/self/ns/net) sid=\$NS_SHELL_SESSION end"\r
expect sid=\S* end
send ip -4 -br addr show dev eth0; echo A-\$((2*3))\r
expect A-6
send sleep 100 &\r
send jobs; echo J-\$((3*4))\r
expect J-12
sync $sync1
send kill %1; wait; echo K-\$((4*5))\r
expect K-20
send jobs; echo N-\$((5*6))\r
expect N-30
send (sleep 0.5; exit 4) &\r
send fg %1; echo fg-status=\$?\r
expect fg-status=\d+
send sleep 100\r
sleep 0.5
send \x1a
expect Stopped
send jobs; echo Z-\$((6*7))\r
expect Z-42
send bg %1; sleep 0.2; jobs; echo B-\$((7*8))\r
expect B-56
send kill %1; wait; echo KK-\$((8*9))\r
expect KK-72
send sleep 100\r
sleep 0.5
send \x03
send echo int-status=\$?\r
expect int-status=\d+
send exit 7\r
EOF
timeout -k 2 90 "$PY" "$SB/bin/expect.py" "$SB/tmp/jobs.script" "$SB/tmp/jobs.out" -- \
    "${SB_SSH[@]}" -tt "${A[@]}" >"$SB/tmp/jobs.err" 2>&1 &
exp_pid=$!
if wait_until 30 test -e "$sync1.ready"; then
    sid=$(sids_of 2101)
    sid_ino=$(rec "$sid" netns_ino)
    sleeper=$(pgrep -u alice -x sleep | head -n 1)
    check "while the session runs, alice has one session record" has_n_records_of 2101 1
    check "her background 'sleep 100' runs" test -n "$sleeper"
    check_eq "... in her network namespace (the record's)" "$(rec "$sid" netns_ino)" \
        "$(netns_of_pid "${sleeper:-0}" 2>&1)"
    check "... and not in the host's PID namespace" \
        test "$(pidns_of_pid "${sleeper:-0}" 2>&1)" != "$HOSTPID"
    # the login's PID 1 as the host sees it: the parent of the shell
    shellpid=$(ps -o ppid= -p "${sleeper:-0}" | tr -d ' ')
    reaper=$(ps -o ppid= -p "${shellpid:-0}" | tr -d ' ')
    check_eq "the job's parent is bash, whose parent is ns-shell (the login's PID 1)" \
        "bash ns-shell" "$(cat "/proc/$shellpid/comm" "/proc/$reaper/comm" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
else
    sandbox_not_ok "the terminal session reached its first sync point" \
        "$(cat "$SB/tmp/jobs.err" "$SB/tmp/jobs.out" 2>&1)"
fi
: >"$sync1.go"
rc=0
wait "$exp_pid" || rc=$?
t=$(cat "$SB/tmp/jobs.out" 2>/dev/null)
check_eq "ssh -tt on a terminal: 'exit 7' at the prompt gives 7" 7 "$rc"
[[ $rc == 7 ]] || printf '#   %s\n' "$(cat "$SB/tmp/jobs.err")"
addr=$(lease_of alice)
check_match "PID 1 of the login is ns-shell" 'comm1=ns-shell ' "$t"
check_match "the host name is the user's (hostname = \"%u\")" ' host=alice ' "$t"
check_match "the shell's terminal is a pty" ' tty=/dev/pts/[0-9]+ ' "$t"
check_match "the shell runs in the network namespace of its record" \
    "net=net:\[${sid_ino:-none}\] sid=${sid:-none} " "$t"
check_match "eth0 holds alice's leased address ($addr)" "eth0(@[^ ]*)? +UP +${addr:-none}/16" "$t"
check_match "jobs: 'sleep 100 &' is job 1, running" '\[1\]\+ +Running +sleep 100 &' "$t"
check_match "kill %1: the job is terminated" '\[1\]\+ +Terminated +sleep 100' "$t"
check_eq "after it, 'jobs' lists nothing" "" "$(sed -n '/^K-20$/,/^N-30$/p' <<<"$t" | grep -F '[1]')"
check_match "fg %1 brings the job to the foreground and returns its status (4)" 'fg-status=4' "$t"
check_match "^Z stops the foreground job" '\[1\]\+ +Stopped +sleep 100' "$t"
check_match "bg %1 resumes it in the background" '\[1\]\+ +Running +sleep 100 &' \
    "$(sed -n '/Z-42/,/B-56/p' <<<"$t")"
check_match "^C interrupts the foreground job (status 130), the shell stays" 'int-status=130' "$t"
check "the login's record goes when it ends" wait_until 5 has_n_records_of 2101 0
check "nsu2101 goes with it" wait_until 2 link_absent nsu2101

# -------------------------------------------- the client disappears ---
# dc_session TAG [CMD] : an interactive ssh -tt login (client on a pty) that
# runs CMD, then "sleep 100" in the foreground; waits until it runs. Sets
# DC_EXP DC_SSH.
dc_session() {
    local tag=$1 pre=${2:-}
    cat >"$SB/tmp/dc-$tag.script" <<EOF
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send ${pre:+$pre }echo sid=\$NS_SHELL_SESSION; sleep 100\r
expect sid=
sync $SB/tmp/dc-$tag
EOF
    EXPECT_PIDFILE=$SB/tmp/dc-$tag.pid \
        "$PY" "$SB/bin/expect.py" "$SB/tmp/dc-$tag.script" "$SB/tmp/dc-$tag.out" -- \
        "${SB_SSH[@]}" -tt "${A[@]}" >"$SB/tmp/dc-$tag.err" 2>&1 &
    DC_EXP=$!
    DC_SSH=
    wait_until 30 test -e "$SB/tmp/dc-$tag.ready" || return 1
    DC_SSH=$(cat "$SB/tmp/dc-$tag.pid")
    [[ $(cat "/proc/$DC_SSH/comm" 2>/dev/null) == ssh ]]
}
# dc_end TAG : let the driver finish (ending the client if it still runs)
dc_end() {
    [[ -n ${DC_SSH:-} ]] && kill -9 "$DC_SSH" 2>/dev/null
    : >"$SB/tmp/dc-$1.go"
    wait "$DC_EXP" 2>/dev/null
}
# sleepers_in NETNS_INODE : alice's 'sleep 100' processes in that namespace
sleepers_in() {
    local p n=0
    for p in $(pgrep -u alice -fx 'sleep 100'); do
        [[ $(netns_of_pid "$p" 2>/dev/null) == "$1" ]] && n=$((n + 1))
    done
    echo "$n"
}
no_sleepers_in() { [[ $(sleepers_in "$1") == 0 ]]; }

settle 2101
# 1. not the last session: a second login of alice holds the namespace.
X=$SB/x            # markers the test users can see
mkdir -m 1777 "$X"
: >"$X/hold"
timeout -k 2 60 "${SB_SSH[@]}" "${A[@]}" \
    "echo up >$X/hold.up; while [ -e $X/hold ]; do sleep 0.05; done" </dev/null >/dev/null 2>&1 &
hold_pid=$!
wait_until 10 test -e "$X/hold.up"
hold_sid=$(sids_of 2101)
if dc_session one; then
    sandbox_ok "an interactive ssh -tt session runs 'sleep 100' (with a second login of alice open)"
    dc_sid=$(sed -n 's/^sid=\([0-9a-f]\{8\}\).*/\1/p' "$SB/tmp/dc-one.out" | head -n 1)
    ino=$(rec "$hold_sid" netns_ino)
    check_eq "both logins share alice's namespace" "$ino" "$(rec "${dc_sid:-none}" netns_ino)"
    check_eq "... where the sleep runs" 1 "$(sleepers_in "$ino")"
    kill -9 "$DC_SSH"
    check "kill -9 of the ssh client: the login's sleep ends (within 5 s)" \
        wait_until 5 no_sleepers_in "$ino"
    check "... its session record goes" wait_until 5 test ! -e "$SESS/${dc_sid:-none}"
    check "... the other login's record stays" test -e "$SESS/$hold_sid"
    check "... and so do the namespace and nsu2101 (not the last session)" \
        ip link show dev nsu2101
    check_eq "... which still holds alice's other login" "$ino" \
        "$(as_ssh alice 'readlink /proc/self/ns/net' >/dev/null; sed 's/net:\[\(.*\)\]/\1/' <<<"$AS_OUT")"
else
    sandbox_not_ok "an interactive ssh -tt session runs 'sleep 100' (with a second login of alice open)" \
        "$(cat "$SB/tmp/dc-one.err" "$SB/tmp/dc-one.out" 2>&1)"
fi
dc_end one
rm -f "$X/hold"
wait "$hold_pid" 2>/dev/null
check "the held login ends: no record of alice left" wait_until 5 has_n_records_of 2101 0
settle 2101

# 2. the last session; it also left a nohup'd and a setsid'd process behind.
if dc_session two 'nohup sleep 101 >/dev/null 2>&1 & setsid sleep 102 </dev/null >/dev/null 2>&1 &'; then
    sandbox_ok "an interactive ssh -tt session runs 'sleep 100' (alice's only login)"
    check "... and 'nohup sleep 101 &' and 'setsid sleep 102 &'" \
        wait_until 5 bash -c "pgrep -u alice -fx 'sleep 101' && pgrep -u alice -fx 'sleep 102'"
    dc_sid=$(sed -n 's/^sid=\([0-9a-f]\{8\}\).*/\1/p' "$SB/tmp/dc-two.out" | head -n 1)
    ino=$(rec "${dc_sid:-none}" netns_ino)
    check_eq "it is alice's only session" "${dc_sid:-none}" "$(sids_of 2101)"
    check "nsu2101 is there" ip link show dev nsu2101
    check_eq "the sleep runs in the session's namespace" 1 "$(sleepers_in "${ino:-none}")"
    t0=$EPOCHREALTIME
    kill -9 "$DC_SSH"
    check "kill -9 of the ssh client: nsu2101 is gone within 2 s" wait_until 2 link_absent nsu2101
    ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
    echo "#   (veth gone $ms ms after the kill)"
    check "... the record is gone" test ! -e "$SESS/${dc_sid:-none}"
    check "... and alice has no process left (nohup and setsid ones included)" \
        wait_until 2 bash -c '[[ -z $(pgrep -u alice) ]]'
    check_eq "... no veth of ns-shell is left on nsbr0" "" \
        "$(ip -o link show master nsbr0 2>/dev/null)"
else
    sandbox_not_ok "an interactive ssh -tt session runs 'sleep 100' (alice's only login)" \
        "$(cat "$SB/tmp/dc-two.err" "$SB/tmp/dc-two.out" 2>&1)"
fi
dc_end two
check_eq "sshd is still running" sshd "$(cat "/proc/$SB_SSHD_PID/comm" 2>&1)"

sandbox_finish
