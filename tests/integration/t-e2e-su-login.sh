#!/bin/bash
# End to end: the non-ssh ways in, with the real programs: su - USER and
# su USER -c CMD from root (pam_ns.so in the su stack, su-l including su as
# on Debian), and login(1) on a pty (login -f, pam_ns.so in the login
# stack). Each lands in the user's network namespace and runs ns-shell, and
# leaves nothing behind.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted login commands; shared helpers and variables, called via check/wait_until
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
sandbox_add_user alice 2501
sandbox_conf <"$NS_REPO/conf/ns.conf"
# As on Debian (conf/pam.d/su, su-l): the module in su; su-l includes su.
sandbox_pam su <<EOF
auth     sufficient pam_rootok.so
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
password required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO
EOF
sandbox_pam su-l <<'EOF'
auth     include su
account  include su
password include su
session  include su
EOF
sandbox_pam login <<EOF
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
password required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO
EOF
X=$SB/x
mkdir -m 1777 "$X"
INFO='echo "comm1=$(cat /proc/1/comm) arg0=$0 host=$(hostname) pwd=$PWD net=$(readlink /proc/self/ns/net) rec=net:[$(sed -n "s/^netns_ino=//p" /run/ns-shell/sessions/$NS_SHELL_SESSION)] sid=$NS_SHELL_SESSION"; ip -4 -br addr show dev eth0'
logged() { grep -c "pam_ns($1:session): alice (uid 2501): session [0-9a-f]\{8\} in network namespace ns-alice" "$SB_SYSLOG"; }
# check_info DESC TEXT ARG0 : what $INFO printed, against alice's lease
check_info() {
    check_match "$1: PID 1 is ns-shell, \$0 $3, host name alice, in her home" \
        "comm1=ns-shell arg0=$3 host=alice pwd=/home/alice " "$2"
    check_match "$1: in the network namespace of its own session record" \
        'net=(net:\[[0-9]+\]) rec=\1 sid=[0-9a-f]{8}' "$2"
    check_match "$1: eth0 holds alice's lease" "eth0(@[^ ]*)? +UP +$(lease_of alice)/16" "$2"
}
# run CMD... : like _sb_capture (AS_OUT, AS_ERR, AS_RC), stdin from R_IN
# (default /dev/null)
run() {
    AS_RC=0
    timeout -k 2 30 "$@" <"${R_IN:-/dev/null}" >"$SB/tmp/as.out" 2>"$SB/tmp/as.err" || AS_RC=$?
    AS_OUT=$(cat "$SB/tmp/as.out")
    AS_ERR=$(cat "$SB/tmp/as.err")
}

# ------------------------------------------------------ su - alice -c ---
n0=$(logged su-l)
run su - alice -c "$INFO; exit 3"
check_eq "su - alice -c '...; exit 3': the status is 3" 3 "$AS_RC"
check_info "su - alice -c" "$AS_OUT" -bash
check_eq "pam_ns logged one su-l session (su-l includes su)" 1 $(( $(logged su-l) - n0 ))
check "no record of alice is left" wait_until 5 has_n_records_of 2501 0
check "nsu2501 goes" wait_until 2 link_absent nsu2501

# ------------------------------------------------------- su alice -c ---
n0=$(logged su)
echo data >"$SB/tmp/in"
R_IN=$SB/tmp/in run su alice -c "cat; $INFO; echo err >&2; exit 4"
check_eq "su alice -c 'cat; ...; exit 4': stdin, stdout, stderr and status 4 pass" "data err 4" \
    "$(head -n 1 <<<"$AS_OUT") $AS_ERR $AS_RC"
check_info "su alice -c" "$AS_OUT" bash
check_eq "pam_ns logged one su session" 1 $(( $(logged su) - n0 ))
check "no record of alice is left" wait_until 5 has_n_records_of 2501 0
settle 2501

# --------------------------------------------- su - alice on a terminal ---
cat >"$SB/tmp/su.script" <<EOF
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send $INFO; echo I-\$((2*3))\r
expect I-6
send sleep 100 &\r
send jobs; echo J-\$((3*4))\r
expect J-12
sync $SB/tmp/su
send kill %1; wait; echo K-\$((4*5))\r
expect K-20
send exit 3\r
EOF
"$PY" "$SB/bin/expect.py" "$SB/tmp/su.script" "$SB/tmp/su.out" -- su - alice >"$SB/tmp/su.err" 2>&1 &
exp=$!
if wait_until 20 test -e "$SB/tmp/su.ready"; then
    sid=$(sids_of 2501)
    sleeper=$(pgrep -u alice -fx 'sleep 100')
    check_eq "su - alice on a pty: her background job runs in her session's namespace" \
        "$(rec "$sid" netns_ino)" "$(netns_of_pid "${sleeper:-0}" 2>&1)"
    check_eq "... the record's owner is the su process (root)" "su 0" \
        "$(cat "/proc/$(rec "$sid" owner_pid)/comm" 2>&1) $(stat -c %u "/proc/$(rec "$sid" owner_pid)" 2>&1)"
else
    sandbox_not_ok "su - alice on a pty reached its sync point" "$(cat "$SB/tmp/su.err" "$SB/tmp/su.out")"
fi
: >"$SB/tmp/su.go"
rc=0; wait "$exp" || rc=$?
t=$(cat "$SB/tmp/su.out")
check_eq "su - alice on a pty: 'exit 3' at the prompt gives 3" 3 "$rc"
check_info "su - alice on a pty" "$t" -bash
check_match "... job control: jobs lists the background job" '\[1\]\+ +Running +sleep 100 &' "$t"
check_match "... kill %1 ends it" '\[1\]\+ +Terminated +sleep 100' "$t"
check "no record of alice is left" wait_until 5 has_n_records_of 2501 0
check "nsu2501 goes" wait_until 2 link_absent nsu2501

# ------------------------------------------------------- login on a pty ---
cat >"$SB/tmp/login.script" <<EOF
sleep 0.3
send stty -echo\r
send echo R-\$((40+2))\r
expect R-42
send $INFO; echo tty=\$(tty); echo I-\$((2*3))\r
expect I-6
sync $SB/tmp/login
send exit\r
EOF
n0=$(logged login)
"$PY" "$SB/bin/expect.py" "$SB/tmp/login.script" "$SB/tmp/login.out" -- login -f alice \
    >"$SB/tmp/login.err" 2>&1 &
exp=$!
if wait_until 20 test -e "$SB/tmp/login.ready"; then
    sid=$(sids_of 2501)
    owner=$(rec "$sid" owner_pid)
    check_eq "login -f alice: one session record" 1 "$(wc -w <<<"$sid")"
    check_eq "... its owner is the login process (root)" "login 0" \
        "$(cat "/proc/$owner/comm" 2>&1) $(stat -c %u "/proc/$owner" 2>&1)"
    check "... which is in the host's PID namespace, her shell is not" \
        test "$(pidns_of_pid "$owner")" == "$HOSTPID" -a \
             "$(pidns_of_pid "$(pgrep -u alice -x bash | head -n 1)" 2>&1)" != "$HOSTPID"
else
    sandbox_not_ok "login -f alice on a pty reached its sync point" \
        "$(cat "$SB/tmp/login.err" "$SB/tmp/login.out")"
fi
: >"$SB/tmp/login.go"
wait "$exp"
t=$(cat "$SB/tmp/login.out")
check_info "login -f alice on a pty" "$t" -bash
check_match "... the shell's terminal is a pty" 'tty=/dev/pts/[0-9]+' "$t"
check_eq "pam_ns logged one login session" 1 $(( $(logged login) - n0 ))
check "after logout no record of alice is left" wait_until 5 has_n_records_of 2501 0
check "nsu2501 goes" wait_until 2 link_absent nsu2501
check_eq "alice has no process left" "" "$(pgrep -u alice)"

sandbox_finish
