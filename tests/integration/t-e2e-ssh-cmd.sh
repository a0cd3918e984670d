#!/bin/bash
# End to end: remote commands and file transfer over a real OpenSSH sshd
# (UsePAM yes, pam_ns.so in the sshd session stack, ns-shell the passwd
# shell, the shipped conf/ns.conf). `ssh host CMD` passes stdin, stdout,
# stderr and the exit status through ns-shell; scp both ways, with the SFTP
# protocol (external sftp-server, through ns-shell) and with -O (scp -t/-f
# through ns-shell); sftp with the external server and with internal-sftp:
# each runs inside the user's network namespace.
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
sandbox_add_user alice 2201
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
A=alice@127.0.0.1
K=$SB/ssh/id_ed25519
# scp/sftp with the same options as SB_SSH (port with -P)
SCP=(scp -F /dev/null -i "$K" -P 22 -o BatchMode=yes -o StrictHostKeyChecking=no
     -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
SFTP=(sftp -F /dev/null -i "$K" -P 22 -o BatchMode=yes -o StrictHostKeyChecking=no
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
D=$SB/data                  # the client's files
mkdir -m 0755 "$D"
head -c 300000 /dev/urandom >"$D/blob"
sum() { sha256sum <"$1" | cut -d' ' -f1; }
"$PY" "$SB/bin/banner.py" 0.0.0.0 8080 GATEWAY-8080 </dev/null >/dev/null 2>&1 &
wait_until 5 "$PY" "$SB/bin/probe.py" 127.0.0.1 8080 ||
    sandbox_die "the host's test listener on port 8080 did not start"

# ancestors PID : the comm names from PID up to the top of its PID tree
ancestors() {
    local p=$1 out=""
    while [[ -n $p && $p != 0 && $p != 1 ]]; do
        out+="$(cat "/proc/$p/comm" 2>/dev/null) "
        p=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')
    done
    echo "${out% }"
}
# in_login PID DESC : checks that PID (a process serving alice) runs in the
# network namespace of alice's only session record, below ns-shell, in a
# PID namespace other than the host's.
in_login() {
    local pid=$1 desc=$2 sid
    sid=$(sids_of 2201)
    check_eq "$desc: in the network namespace of alice's record" \
        "$(rec "$sid" netns_ino)" "$(netns_of_pid "$pid" 2>&1)"
    check "$desc: not in the host's PID namespace" \
        test "$(pidns_of_pid "$pid" 2>&1)" != "$HOSTPID"
    check_match "$desc: started by ns-shell (ancestors: $(ancestors "$pid"))" \
        '( |^)ns-shell( |$)' "$(ancestors "$pid")"
}
# catch USER COMM PATTERN : wait (10 s) for a process of USER named COMM whose
# command line matches PATTERN (pgrep -f); print its pid
catch() {
    local i p
    for ((i = 0; i < 500; i++)); do
        p=$(pgrep -u "$1" -x "$2" | while read -r q; do
            tr '\0' ' ' <"/proc/$q/cmdline" 2>/dev/null | grep -qE -- "$3" && echo "$q"
        done | head -n 1)
        [[ -n $p ]] && { echo "$p"; return 0; }
        sleep 0.02
    done
    return 1
}

# -------------------------------------------------------- ssh host CMD ---
out=$(echo data | timeout -k 2 30 "${SB_SSH[@]}" "$A" 'cat; echo err >&2; exit 5' \
      2>"$SB/tmp/err") && rc=0 || rc=$?
check_eq "echo data | ssh alice 'cat; echo err >&2; exit 5': stdout is data" data "$out"
check_eq "... stderr is err" err "$(cat "$SB/tmp/err")"
check_eq "... the exit status is 5" 5 "$rc"
as_ssh alice 'exit 0'
check_rc "ssh alice 'exit 0': status 0" 0
as_ssh alice 'false'
check_rc "ssh alice false: status 1" 1
as_ssh alice 'exit 42'
check_rc "ssh alice 'exit 42': status 42" 42
AS_TIMEOUT=30 _sb_capture timeout -k 2 30 "${SB_SSH[@]}" "$A" 'sha256sum; wc -c' <"$D/blob"
check_eq "300 kB of binary stdin arrive intact" "$(sum "$D/blob")  -" "$(head -n 1 <<<"$AS_OUT")"
timeout -k 2 30 "${SB_SSH[@]}" "$A" "cat $D/blob" </dev/null >"$SB/tmp/blob.out" 2>&1
check_eq "300 kB of binary stdout come back intact" "$(sum "$D/blob")" "$(sum "$SB/tmp/blob.out")"
as_ssh alice 'printf "%s|" "a b" "$HOME" "$USER" "$0"; cat /proc/1/comm; hostname; echo "$SSH_CONNECTION"'
check_match "quoting survives, HOME/USER are alice's, \$0 is bash" \
    '^a b\|/home/alice\|alice\|bash\|' "$AS_OUT"
check_match "PID 1 of the remote command is ns-shell, hostname alice" \
    $'\\|ns-shell\nalice\n' "$AS_OUT"
check_match "SSH_CONNECTION is passed" '127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 22$' "$AS_OUT"
as_ssh alice 'readlink /proc/self/ns/net; cat /run/ns-shell/sessions/$NS_SHELL_SESSION'
check_match "the remote command is in the network namespace of its record" \
    'net:\[([0-9]+)\].*netns_ino=\1' "$AS_OUT"
as_ssh alice "$PY $SB/bin/probe.py 10.213.0.1 8080"
check_eq "... and reaches a listener on the bridge's gateway address" GATEWAY-8080 "$AS_OUT"
settle 2201

# ------------------------------------------------ agent forwarding (-A) ---
# DESIGN: "agent sockets all live inside the user's network". sshd makes
# the forwarded agent socket in /tmp/ssh-XXXXXXXXXX/ (as the user) before
# it runs ns-shell.
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$K" 2>/dev/null
AGENT_LIST=$(ssh-add -l 2>&1)
agent_check() { # DESC
    local out
    out=$(timeout -k 2 30 "${SB_SSH[@]}" -A "$A" \
        'echo "sock=$SSH_AUTH_SOCK"; ssh-add -l; echo "rc=$?"' </dev/null 2>&1)
    check_match "$1" "sock=/tmp/ssh-[^ ]+/agent\\.[0-9]+"$'\n'"$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$AGENT_LIST")"$'\nrc=0' "$out"
}
agent_check "ssh -A alice: the forwarded agent works inside the login (ssh-add -l lists the key)"
settle 2201
# The same with private_tmp = true: ns-shell's fresh /tmp must not hide the
# socket sshd made for this very login.
sed 's/^\( *private_tmp *= *\)false/\1true/' "$NS_REPO/conf/ns.conf" | sandbox_conf
check "ns.conf now has private_tmp = true" grep -Eq '^ *private_tmp *= *true' /etc/security/ns.conf
agent_check "ssh -A alice with private_tmp = true: the forwarded agent still works"
as_ssh alice 'ls -A /tmp | wc -l'
check_eq "... while /tmp is otherwise private (empty)" 0 "$AS_OUT"
sandbox_conf <"$NS_REPO/conf/ns.conf"
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID
settle 2201

# ---------------------------------------------------------- scp (SFTP) ---
rc=0; out=$(timeout -k 2 30 "${SCP[@]}" "$D/blob" "$A:up1" 2>&1) || rc=$?
check_eq "scp FILE alice:up1 (SFTP protocol): status 0" 0 "$rc${out:+ $out}"
check_eq "... the file arrives intact" "$(sum "$D/blob")" "$(sum /home/alice/up1 2>&1)"
check_eq "... owned by alice" alice "$(stat -c %U /home/alice/up1 2>&1)"
rc=0; out=$(timeout -k 2 30 "${SCP[@]}" "$A:up1" "$D/down1" 2>&1) || rc=$?
check_eq "scp alice:up1 FILE (SFTP protocol): status 0" 0 "$rc${out:+ $out}"
check_eq "... the file comes back intact" "$(sum "$D/blob")" "$(sum "$D/down1" 2>&1)"
settle 2201
# A throttled upload, to look at the server side while it runs.
timeout -k 2 30 "${SCP[@]}" -l 800 "$D/blob" "$A:up2" >"$SB/tmp/scp2.out" 2>&1 &
scp_pid=$!
if p=$(catch alice sftp-server 'sftp-server'); then
    sandbox_ok "scp (SFTP protocol) runs /usr/lib/openssh/sftp-server as alice"
    in_login "$p" "the sftp-server of scp"
else
    sandbox_not_ok "scp (SFTP protocol) runs /usr/lib/openssh/sftp-server as alice" \
        "$(ps -e -o pid,user,args)"
fi
wait "$scp_pid"
check_eq "the throttled upload completes intact" "$(sum "$D/blob")" "$(sum /home/alice/up2 2>&1)"
settle 2201

# ------------------------------------------------------------- scp -O ---
rc=0; out=$(timeout -k 2 30 "${SCP[@]}" -O "$D/blob" "$A:up3" 2>&1) || rc=$?
check_eq "scp -O FILE alice:up3 (scp -t through ns-shell): status 0" 0 "$rc${out:+ $out}"
check_eq "... the file arrives intact" "$(sum "$D/blob")" "$(sum /home/alice/up3 2>&1)"
rc=0; out=$(timeout -k 2 30 "${SCP[@]}" -O "$A:up3" "$D/down3" 2>&1) || rc=$?
check_eq "scp -O alice:up3 FILE (scp -f): status 0" 0 "$rc${out:+ $out}"
check_eq "... the file comes back intact" "$(sum "$D/blob")" "$(sum "$D/down3" 2>&1)"
settle 2201
timeout -k 2 30 "${SCP[@]}" -O -l 800 "$D/blob" "$A:up4" >"$SB/tmp/scp4.out" 2>&1 &
scp_pid=$!
if p=$(catch alice scp '^scp .*-t'); then
    sandbox_ok "scp -O runs 'scp -t' as alice"
    in_login "$p" "scp -t"
else
    sandbox_not_ok "scp -O runs 'scp -t' as alice" "$(ps -e -o pid,user,args)"
fi
wait "$scp_pid"
check_eq "the throttled scp -O upload completes intact" "$(sum "$D/blob")" "$(sum /home/alice/up4 2>&1)"
rm -f /home/alice/up[1-4]
settle 2201

# -------------------------------------------- sftp, external sftp-server ---
# sftp_session TAG PORT : sftp -b - through a FIFO; commands with sftp_cmd
sftp_session() {
    local tag=$1 port=$2
    mkfifo "$SB/tmp/sftp-$tag.in"
    timeout -k 2 60 "${SFTP[@]}" -P "$port" -b - "$A" <"$SB/tmp/sftp-$tag.in" \
        >"$SB/tmp/sftp-$tag.out" 2>&1 &
    SFTP_PID=$!
    exec {SFTP_FD}>"$SB/tmp/sftp-$tag.in"
}
sftp_cmd() { printf '%s\n' "$@" >&"$SFTP_FD"; }
sftp_end() { sftp_cmd bye; exec {SFTP_FD}>&-; wait "$SFTP_PID"; }

cd "$D" || sandbox_die "cd $D"
sftp_session ext 22
sftp_cmd "put blob sftp-up" "pwd"
if p=$(catch alice sftp-server 'sftp-server'); then
    sandbox_ok "sftp (external server) runs sftp-server as alice"
    in_login "$p" "the sftp-server of sftp"
else
    sandbox_not_ok "sftp (external server) runs sftp-server as alice" "$(ps -e -o pid,user,args)"
fi
sftp_cmd "get sftp-up sftp-down" "ls -l sftp-up"
rc=0; sftp_end || rc=$?
out=$(cat "$SB/tmp/sftp-ext.out")
check_eq "sftp put/get/pwd/ls: status 0" 0 "$rc"
check_match "... pwd is alice's home" 'Remote working directory: /home/alice' "$out"
check_eq "... put: the file arrives intact" "$(sum "$D/blob")" "$(sum /home/alice/sftp-up 2>&1)"
check_eq "... get: it comes back intact" "$(sum "$D/blob")" "$(sum "$D/sftp-down" 2>&1)"
rm -f /home/alice/sftp-up "$D/sftp-down"
check "alice's session ends with the sftp connection" wait_until 5 has_n_records_of 2201 0
settle 2201

# -------------------------------------------------------- internal-sftp ---
# A second sshd on port 2222 with "Subsystem sftp internal-sftp"
# (a Subsystem may be declared only once, so not with -o).
sed -e 's/^Port .*/Port 2222/' -e "s|^PidFile .*|PidFile $SB/ssh/sshd2.pid|" \
    -e 's|^Subsystem sftp .*|Subsystem sftp internal-sftp|' \
    "$SB/ssh/sshd_config" >"$SB/ssh/sshd_config.int"
if out=$(/usr/sbin/sshd -t -f "$SB/ssh/sshd_config.int" 2>&1); then
    /usr/sbin/sshd -D -e -f "$SB/ssh/sshd_config.int" </dev/null >>"$SB/sshd2.log" 2>&1 &
    sshd2=$!
    wait_until 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222'
else
    sandbox_not_ok "a second sshd with internal-sftp accepts its config" "$out"
fi
sftp_session int 2222
sftp_cmd "put blob isftp-up" "pwd"
if p=$(catch alice sshd 'alice@internal-sftp'); then
    sandbox_ok "sftp with internal-sftp: sshd serves it in 'sshd: alice@internal-sftp'"
    sid=$(sids_of 2201)
    check_eq "internal-sftp: the session has one record" 1 "$(wc -w <<<"$sid")"
    check_eq "internal-sftp: the serving sshd process is in the record's network namespace" \
        "$(rec "$sid" netns_ino)" "$(netns_of_pid "$p" 2>&1)"
    check "... which is not the host's" test "$(netns_of_pid "$p" 2>&1)" != "$HOSTNET"
    # documented (conf/sshd_config.d/ns-shell.conf): no shell, so no ns-shell
    check_eq "... and (documented) no ns-shell: it is in the host's PID namespace" \
        "$HOSTPID" "$(pidns_of_pid "$p" 2>&1)"
else
    sandbox_not_ok "sftp with internal-sftp: sshd serves it in 'sshd: alice@internal-sftp'" \
        "$(ps -e -o pid,user,args; tail -n 20 "$SB/sshd2.log")"
fi
sftp_cmd "get isftp-up isftp-down"
rc=0; sftp_end || rc=$?
out=$(cat "$SB/tmp/sftp-int.out")
check_eq "internal-sftp put/get/pwd: status 0" 0 "$rc"
check_match "... pwd is alice's home" 'Remote working directory: /home/alice' "$out"
check_eq "... put: intact" "$(sum "$D/blob")" "$(sum /home/alice/isftp-up 2>&1)"
check_eq "... get: intact" "$(sum "$D/blob")" "$(sum "$D/isftp-down" 2>&1)"
check "alice's session ends with the internal-sftp connection" wait_until 5 has_n_records_of 2201 0
check "nsu2201 goes" wait_until 2 link_absent nsu2201
cd / || true

sandbox_finish
