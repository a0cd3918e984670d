#!/bin/bash
# End to end: port forwards over a real OpenSSH sshd (UsePAM yes, pam_ns.so
# in the sshd session stack, ns-shell the passwd shell, the shipped
# conf/ns.conf): ssh -L, -R and -D all work inside the user's network
# namespace. Distinguishable listeners run on the sandbox host's loopback
# and on the user's own loopback (same port), so each check shows which
# side a forward reached.
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
sandbox_add_user alice 2301
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
A=alice@127.0.0.1
X=$SB/x            # markers the test users can see
mkdir -m 1777 "$X"
probe() { "$PY" "$SB/bin/probe.py" "$@" 2>&1; }
# the sandbox host's listeners: its loopback, its gateway address, and a
# "client side" one for -R
"$PY" "$SB/bin/banner.py" 127.0.0.1 8081 HOST-LOOPBACK </dev/null >/dev/null 2>&1 &
"$PY" "$SB/bin/banner.py" 0.0.0.0 8080 GATEWAY-8080 </dev/null >/dev/null 2>&1 &
"$PY" "$SB/bin/banner.py" 127.0.0.1 8082 CLIENT-8082 </dev/null >/dev/null 2>&1 &
for port in 8080 8081 8082; do
    wait_until 5 probe 127.0.0.1 "$port" ||
        sandbox_die "the host's test listener on port $port did not start"
done
declare -A BG
# bg_ssh TAG ARGS... : an ssh client in the background
bg_ssh() {
    local tag=$1; shift
    timeout -k 2 60 "${SB_SSH[@]}" "$@" </dev/null >"$SB/tmp/ssh-$tag.out" 2>&1 &
    BG[$tag]=$!
}
end_ssh() { kill "${BG[$1]}" 2>/dev/null; wait "${BG[$1]}" 2>/dev/null; return 0; }
listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# ------------------------------------------- -L, the forward alone ---
# No other login of alice: the forwarding connection's own PAM session makes
# her namespace, whose loopback has no listener on 8081.
bg_ssh L0 -N -L 9000:127.0.0.1:8081 "$A"
check "ssh -N -L 9000:127.0.0.1:8081 alone: the client listens on 127.0.0.1:9000" \
    wait_until 10 listening 9000
check "... its PAM session made alice's namespace (one record, nsu2301)" \
    wait_until 10 has_n_records_of 2301 1
check "... (nsu2301 is up)" wait_until 2 ip link show dev nsu2301
check_match "... 127.0.0.1:8081 through it is alice's empty loopback: no answer (not HOST-LOOPBACK)" \
    '^(|probe 127\.0\.0\.1:9000 failed.*)$' "$(probe 127.0.0.1 9000 2)"
check "... sshd's connect to 127.0.0.1:8081 failed (sshd's log says so)" \
    wait_until 3 grep -q 'connect_to 127.0.0.1 port 8081: failed' "$SB/sshd.log"
check_eq "... while the host's 127.0.0.1:8081 answers HOST-LOOPBACK" HOST-LOOPBACK \
    "$(probe 127.0.0.1 8081)"
end_ssh L0
check "the forward's session ends with it" wait_until 5 has_n_records_of 2301 0
settle 2301

# ---------------------------------- alice's own loopback listener ---
: >"$X/hold"
bg_ssh hold "$A" "$PY $SB/bin/banner.py 127.0.0.1 8081 ALICE-LOOPBACK $X/ready &
while [ -e $X/hold ]; do sleep 0.05; done; kill \$!"
check "alice runs ALICE-LOOPBACK on 127.0.0.1:8081 of her namespace" wait_until 10 test -e "$X/ready"
hold_sid=$(sids_of 2301)
ino=$(rec "$hold_sid" netns_ino)

# ------------------------------------------------------------------ -L ---
bg_ssh L -N -L 9000:127.0.0.1:8081 "$A"
check "ssh -N -L 9000:127.0.0.1:8081: its session joins alice's namespace (2 records)" \
    wait_until 10 has_n_records_of 2301 2
wait_until 10 listening 9000
check_eq "-L 9000 -> 127.0.0.1:8081 reaches alice's loopback listener" ALICE-LOOPBACK \
    "$(probe 127.0.0.1 9000)"
check_eq "... not the host's one on the same address and port" HOST-LOOPBACK \
    "$(probe 127.0.0.1 8081)"
for s in $(sids_of 2301); do
    check_eq "record $s names alice's one namespace" "$ino" "$(rec "$s" netns_ino)"
done
end_ssh L
wait_until 5 has_n_records_of 2301 1

# ------------------------------------------------------------------ -R ---
bg_ssh R -N -R 9001:127.0.0.1:8082 "$A"
check "ssh -N -R 9001:127.0.0.1:8082: its session joins alice's namespace" \
    wait_until 10 has_n_records_of 2301 2
check "sshd's -R listener on 127.0.0.1:9001 appears in alice's namespace (nsctl exec alice -- ss)" \
    wait_until 10 "$NSCTL" exec alice -- bash -c '[[ -n $(ss -Hltn "sport = :9001") ]]'
check_match "... owned by sshd" 'users:\(\("sshd"' \
    "$("$NSCTL" exec alice -- ss -Hltnp 'sport = :9001' 2>&1)"
check_fail "... and the host has no listener on 9001" listening 9001
check_match "... connecting to the host's 127.0.0.1:9001 fails" '^probe 127\.0\.0\.1:9001 failed' \
    "$(probe 127.0.0.1 9001 1)"
check_eq "from alice's namespace (nsctl exec), 127.0.0.1:9001 leads back to the client's 8082" \
    CLIENT-8082 "$("$NSCTL" exec alice -- "$PY" "$SB/bin/probe.py" 127.0.0.1 9001 2>&1)"
as_ssh alice "$PY $SB/bin/probe.py 127.0.0.1 9001"
check_eq "... and so from another ssh login of alice" CLIENT-8082 "$AS_OUT"
end_ssh R
check "when the -R connection ends its listener goes from alice's namespace" \
    wait_until 5 "$NSCTL" exec alice -- bash -c '[[ -z $(ss -Hltn "sport = :9001") ]]'

# ------------------------------------------------------------------ -D ---
bg_ssh D -N -D 1080 "$A"
check "ssh -N -D 1080: its session joins alice's namespace" wait_until 10 has_n_records_of 2301 2
wait_until 10 listening 1080
socks() { # URL : fetch URL through the SOCKS5 forward (names resolved by sshd)
    if command -v curl >/dev/null 2>&1; then
        curl -sS -m 5 --socks5-hostname 127.0.0.1:1080 "$1" 2>&1
    else
        "$PY" - "$1" <<'EOF'
import socket, struct, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection(("127.0.0.1", 1080), timeout=5)
s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
h = u.hostname.encode()
s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", u.port))
r = s.recv(10)
if r[1] != 0: print("socks error %d" % r[1]); sys.exit(1)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
d = b""
while True:
    c = s.recv(4096)
    if not c: break
    d += c
print(d.split(b"\r\n\r\n", 1)[1].decode().strip())
EOF
    fi
}
check_eq "SOCKS (-D) to http://127.0.0.1:8081/ reaches alice's loopback listener" \
    ALICE-LOOPBACK "$(socks http://127.0.0.1:8081/)"
check_eq "... http://localhost:8081/ too (the name resolved on the server side)" \
    ALICE-LOOPBACK "$(socks http://localhost:8081/)"
check_eq "... the gateway 10.213.0.1:8080 is reachable through it" \
    GATEWAY-8080 "$(socks http://10.213.0.1:8080/)"
check_eq "... without SOCKS the host's own 127.0.0.1:8081 is HOST-LOOPBACK" \
    HOST-LOOPBACK "$(curl -sS -m 5 http://127.0.0.1:8081/ 2>&1)"
check_fail "... and the client's own 127.0.0.1:8082 is not reachable through it" \
    bash -c "[[ \$(curl -sS -m 5 --socks5-hostname 127.0.0.1:1080 http://127.0.0.1:8082/ 2>&1) == CLIENT-8082 ]]"
end_ssh D

# --------------------------------------------------------------- the end ---
rm -f "$X/hold"
wait "${BG[hold]}" 2>/dev/null
check "no record of alice is left" wait_until 5 has_n_records_of 2301 0
check "nsu2301 goes" wait_until 2 link_absent nsu2301

sandbox_finish
