# SPDX-License-Identifier: GPL-2.0-or-later
# e2e-lib.sh — helpers shared by the t-e2e-*.sh scripts (sourced after
# sandbox_enter; not a test itself: run.sh only runs t-*.sh).
# shellcheck shell=bash disable=SC2001,SC2016,SC2034,SC2119,SC2317

# ------------------------------------------------------------- helpers ---
# (one copy, sourced by each t-e2e-*.sh)
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
