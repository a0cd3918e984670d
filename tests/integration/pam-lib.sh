# SPDX-License-Identifier: GPL-2.0-or-later
# pam-lib.sh — helpers shared by the t-pam-*.sh scripts (sourced after
# sandbox_enter; not a test itself: run.sh only runs t-*.sh).
# shellcheck shell=bash disable=SC2001,SC2016,SC2034,SC2119,SC2317

# ------------------------------------------------------------- helpers ---
# (one copy, sourced by each t-pam-*.sh)
SESS=/run/ns-shell/sessions
LEASES=/var/lib/ns-shell/leases
PY=$SB_PYTHON

t_helpers() {
    # banner.py HOST PORT TEXT [READY_FILE]: answer every connection with TEXT.
    cat >"$SB/bin/banner.py" <<'EOF'
import socket, sys
host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(64)
if len(sys.argv) > 4:
    open(sys.argv[4], "w").close()
while True:
    c, _ = s.accept()
    try:
        c.sendall((text + "\n").encode())
    except OSError:
        pass
    c.close()
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
    # hold.sh FILE: wait while FILE exists (at most 60 s).
    cat >"$SB/bin/hold.sh" <<'EOF'
i=0
while [ -e "$1" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
EOF
    # pamdrv.py SERVICE USER [KEY=VALUE...]: open and close a PAM session in
    # this very process; print what changed. Options: preset=ENV (put ENV
    # into the PAM environment before opening), hold=FILE (keep the session
    # open while FILE exists).
    cat >"$SB/bin/pamdrv.py" <<'EOF'
import ctypes, os, sys, time
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int,
                    c_void_p)
pam = ctypes.CDLL("libpam.so.0")
class Msg(Structure): _fields_ = [("style", c_int), ("msg", c_char_p)]
class Resp(Structure): _fields_ = [("resp", c_char_p), ("code", c_int)]
CONV = CFUNCTYPE(c_int, c_int, POINTER(POINTER(Msg)), POINTER(POINTER(Resp)), c_void_p)
class Conv(Structure): _fields_ = [("conv", CONV), ("data", c_void_p)]
conv_cb = CONV(lambda n, m, r, d: 19)   # PAM_CONV_ERR: nothing to ask here
pam.pam_getenv.restype = c_char_p
pam.pam_strerror.restype = c_char_p
service, user = sys.argv[1].encode(), sys.argv[2].encode()
opts = dict(a.split("=", 1) for a in sys.argv[3:])
def state(tag):
    st = os.stat("/")
    print("%s_net=%s" % (tag, os.readlink("/proc/self/ns/net")))
    print("%s_mnt=%s" % (tag, os.readlink("/proc/self/ns/mnt")))
    print("%s_cwd=%s" % (tag, os.getcwd()))
    print("%s_root=%d:%d" % (tag, st.st_dev, st.st_ino))
h = c_void_p()
conv = Conv(conv_cb, None)
r = pam.pam_start(service, user, byref(conv), byref(h))
if r != 0:
    print("pam_start=%d" % r); sys.exit(2)
if "preset" in opts:
    pam.pam_putenv(h, opts["preset"].encode())
state("before")
r = pam.pam_open_session(h, 0)
print("open=%d %s" % (r, pam.pam_strerror(h, r).decode()))
state("during")
v = pam.pam_getenv(h, b"NS_SHELL_SESSION")
print("env_sid=%s" % (v.decode() if v else ""))
sys.stdout.flush()
if "hold" in opts:
    for _ in range(1200):
        if not os.path.exists(opts["hold"]): break
        time.sleep(0.05)
if r == 0:
    r = pam.pam_close_session(h, 0)
    print("close=%d %s" % (r, pam.pam_strerror(h, r).decode()))
state("after")
pam.pam_end(h, 0)
EOF
    chmod 0644 "$SB/bin/"*.py "$SB/bin/hold.sh"
}

# kv KEY TEXT : the value of KEY=VALUE in TEXT
kv() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }
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
n_records() { find "$SESS" -maxdepth 1 -type f -name '????????' 2>/dev/null | wc -l; }
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
has_n_records_of() { [[ $(sids_of "$1" | wc -l) == "$2" ]]; }
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
# settle UID : let the veth of a closed per-user namespace go (at most 2 s),
# so that the next check does not depend on the kernel's teardown timing.
settle() { wait_until 2 link_absent "nsu$1"; }
# check_login DESC : the last as_user/as_ssh exited 0 (else show its stderr)
check_login() {
    if [[ $AS_RC == 0 ]]; then sandbox_ok "$1"
    else sandbox_not_ok "$1" "exit status: $AS_RC
stderr: $AS_ERR"; fi
}
netns_of_pid() { stat -L -c %i "/proc/$1/ns/net"; }

declare -A HOLD_PID
# hold TAG USER [CMD] : `su USER -c "CMD; wait while /tmp/hold-TAG exists"`
# in the background (the login stays open until release TAG).
hold() {
    local tag=$1 user=$2 pre=${3:-}
    : >"/tmp/hold-$tag"
    su "$user" -c "${pre:+$pre
}sh $SB/bin/hold.sh /tmp/hold-$tag" </dev/null >"$SB/tmp/hold-$tag.out" 2>&1 &
    HOLD_PID[$tag]=$!
}
# release TAG... : end these held logins (all at once) and wait for them
release() {
    local t
    for t in "$@"; do rm -f "/tmp/hold-$t"; done
    for t in "$@"; do wait "${HOLD_PID[$t]}"; done
}

pam_with_ns() { # SERVICE [EXTRA SESSION LINES...]
    local s=$1 extra
    shift
    extra=$(printf '%s\n' "$@")
    sandbox_pam "$s" <<EOF
auth     sufficient pam_rootok.so
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so
$extra
session  required   $PAM_NS_SO debug
EOF
}

