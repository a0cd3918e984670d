#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-shell's namespaces, policy network = "isolated", no PAM module: SysV and
# POSIX IPC, /dev/mqueue, the hostname, the network, /proc and /sys, private
# /tmp, and the host's mount table (also with / rshared, as on systemd hosts).
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted login commands; helpers called via check
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1

# Outside only: the real host's namespaces that this test changes in the
# sandbox (hostname, IPC objects); proven different before anything is set.
if [[ ${NS_SB_INNER:-} != 1 ]]; then
    T_HOST_UTS=$(stat -L -c %i /proc/self/ns/uts)
    T_HOST_IPC=$(stat -L -c %i /proc/self/ns/ipc)
    export T_HOST_UTS T_HOST_IPC
fi
sandbox_enter "$0" "$@"

[[ -n ${T_HOST_UTS:-} && $(stat -L -c %i /proc/self/ns/uts) != "$T_HOST_UTS" ]] ||
    sandbox_die "the sandbox has its own UTS namespace"
[[ -n ${T_HOST_IPC:-} && $(stat -L -c %i /proc/self/ns/ipc) != "$T_HOST_IPC" ]] ||
    sandbox_die "the sandbox has its own IPC namespace"

. "$(dirname "$0")/lib.sh" || exit 1   # wait_file; $X: every test user may write

sandbox_install_ns_shell
add_users 3001 alice bob
sandbox_add_user tina 3005
sandbox_conf <<'EOF'
default { network = "isolated" }
user "bob"  { hostname = "box-%u"  private_shm = false }
user "tina" { hostname = "%h-%u-%%" private_tmp = true }
EOF

# bg_login USER CMD : a login running CMD in the background (su -); it must
# create $X/ready when it is set up, and end when $X/go appears.
# Sets BG_PID. bg_end waits for it; its status in BG_RC.
bg_login() {
    rm -f "$X/ready" "$X/go"
    su - "$1" -c "$2" </dev/null >"$SB/tmp/bg.out" 2>&1 &
    BG_PID=$!
    wait_file "$X/ready"
}
bg_end() {
    touch "$X/go"
    BG_RC=0
    wait "$BG_PID" || BG_RC=$?
}
WAIT_GO="while [ ! -e $X/go ]; do sleep 0.02; done"
host_mounts() { findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS | sort; }

# --- SysV IPC ----------------------------------------------------------------------
hostshm=$(ipcmk -M 4096 | grep -o '[0-9]*$')
hostmsg=$(ipcmk -Q | grep -o '[0-9]*$')
check "a SysV shm segment and a message queue exist on the host" \
    test -n "$hostshm" -a -n "$hostmsg"
check_eq "control: the host's segment is listed on the host" 1 "$(ipcs -m | grep -c '^0x')"
as_user alice 'ipcs -m | grep -c "^0x"; ipcs -q | grep -c "^0x"; awk "FNR > 1" /proc/sysvipc/shm /proc/sysvipc/msg | wc -l'
check_eq "inside: no SysV shm segment, no message queue (ipcs, /proc/sysvipc)" \
    $'0\n0\n0' "$AS_OUT"

if bg_login alice "ipcmk -M 8192 >$X/inner-shm; ipcs -m | grep -c '^0x' >$X/inner-count; touch $X/ready; $WAIT_GO"; then
    check_eq "inside: the login sees its own segment only" 1 "$(cat "$X/inner-count")"
    check_eq "host, during the login: no segment of the user" "" \
        "$(awk 'NR > 1 && $8 == 3001' /proc/sysvipc/shm)"
    check_eq "host, during the login: still exactly its own segment" "$hostshm" \
        "$(awk 'NR > 1 {print $2}' /proc/sysvipc/shm)"
    bg_end
    check_eq "the login ended normally" 0 "$BG_RC"
else
    bg_end
    sandbox_not_ok "the SysV login started" "$(cat "$SB/tmp/bg.out")"
fi
check_eq "host, after the login: the segment made inside did not land here" "$hostshm" \
    "$(awk 'NR > 1 {print $2}' /proc/sysvipc/shm)"

# --- POSIX shm (/dev/shm) and /dev/mqueue ---------------------------------------------
echo host >/dev/shm/host-obj
chmod 0644 /dev/shm/host-obj
touch /dev/mqueue/host-q
check "the host has a POSIX shm object and a message queue" test -e /dev/shm/host-obj -a -e /dev/mqueue/host-q
as_user alice 'ls -A /dev/shm | wc -l; ls -A /dev/mqueue | wc -l; stat -c %a /dev/shm'
check_eq "inside (private_shm default true): /dev/shm and /dev/mqueue are empty; /dev/shm is 1777" \
    $'0\n0\n1777' "$AS_OUT"
as_user alice 'findmnt -n -o FSTYPE,OPTIONS --mountpoint /dev/mqueue | tail -n 1; findmnt -n -o FSTYPE --mountpoint /dev/shm | tail -n 1'
check_match "inside: /dev/mqueue is a fresh mqueue mount (nosuid,nodev,noexec)" \
    '^mqueue [^ ]*nosuid,nodev,noexec' "$AS_OUT"
check_match "inside: /dev/shm is a fresh tmpfs" $'\ntmpfs$' "$AS_OUT"
if bg_login alice "echo inner >/dev/shm/user-obj && touch $X/ready; $WAIT_GO"; then
    check "host, during the login: the user's /dev/shm object is not here" test ! -e /dev/shm/user-obj
    bg_end
else
    bg_end
    sandbox_not_ok "the POSIX shm login started" "$(cat "$SB/tmp/bg.out")"
fi
check "host, after the login: no /dev/shm object of the user" test ! -e /dev/shm/user-obj
as_user bob 'cat /dev/shm/host-obj'
check_eq "private_shm = false: the host's /dev/shm is shared" "host" "$AS_OUT"

# --- hostname -----------------------------------------------------------------------
hostname sbhost.example.org
as_user alice 'hostname'
check_eq "hostname default %u: the user name" "alice" "$AS_OUT"
as_user bob 'hostname'
check_eq 'hostname = "box-%u": box-bob' "box-bob" "$AS_OUT"
as_user tina 'hostname'
check_eq 'hostname = "%h-%u-%%": the host'"'"'s short name, the user, a % made safe' \
    "sbhost-tina--" "$AS_OUT"
check_eq "the host's hostname is unchanged" "sbhost.example.org" "$(hostname)"
as_user alice 'hostname inside-change 2>/dev/null; echo "rc=$?"'
check_match "the user cannot change the hostname inside" '^rc=[1-9]' "$AS_OUT"
check_eq "the host's hostname is still unchanged" "sbhost.example.org" "$(hostname)"

# --- network -----------------------------------------------------------------------------
ip link add sbveth0 type veth peer name sbveth1
ip link set sbveth0 up
check "the host has more interfaces than lo" test -e /sys/class/net/sbveth0
hostnet=$(readlink /proc/self/ns/net)
as_user alice 'ls /sys/class/net; echo "--"; ip -br link; echo "--"; readlink /proc/self/ns/net'
sysnet=$(sed -n '1,/^--$/p' <<<"$AS_OUT" | sed '$d')
iplink=$(sed -n '/^--$/,/^--$/p' <<<"$AS_OUT" | sed '1d;$d')
innernet=$(tail -n 1 <<<"$AS_OUT")
check_eq "/sys/class/net inside shows only lo" "lo" "$sysnet"
check_match "ip -br link inside: only lo, and it is up" '^lo +[A-Z]+ +[0-9a-f:]+ <LOOPBACK,UP,LOWER_UP>' "$iplink"
check_eq "ip -br link inside: exactly one interface" 1 "$(wc -l <<<"$iplink")"
check "the login's network namespace is not the host's ($innernet vs $hostnet)" \
    test -n "$innernet" -a "$innernet" != "$hostnet"
as_user alice 'findmnt -n -o OPTIONS --mountpoint /sys | tail -n 1'
check_match "/sys inside is a fresh read-only sysfs" '^ro,nosuid,nodev,noexec' "$AS_OUT"

# A caller already in some other network namespace (not made by pam_ns, no
# session record): `isolated` gets a fresh one, not the caller's.
out=$(unshare --net sh -c '
    ip link add callerv0 type veth peer name callerv1
    readlink /proc/self/ns/net
    setpriv --reuid=alice --regid=alice --init-groups '"$NSH"' -c "readlink /proc/self/ns/net; ls /sys/class/net"
' 2>&1)
callernet=$(sed -n 1p <<<"$out")
check_match "a login started from a foreign network namespace gets a fresh one" \
    "^net:\[[0-9]+\]"$'\n'"net:\[[0-9]+\]"$'\n'"lo$" "$out"
check "... which is not the caller's" test "$(sed -n 2p <<<"$out")" != "$callernet"

# A login started from inside a login (the user runs ns-shell again).
as_user alice "readlink /proc/self/ns/net; $NSH -c 'readlink /proc/self/ns/net; hostname; ls /sys/class/net'"
check_eq "a nested login runs (exit 0)" 0 "$AS_RC"
check_match "a nested login: hostname and loopback only" $'\nalice\nlo$' "$AS_OUT"
check "a nested login: a network namespace of its own" \
    test "$(sed -n 1p <<<"$AS_OUT")" != "$(sed -n 2p <<<"$AS_OUT")"

# --- /proc ------------------------------------------------------------------------------
as_user alice 'findmnt -n -o OPTIONS --mountpoint /proc | tail -n 1'
check_match "/proc inside is mounted nosuid,nodev,noexec" '(^|,)nosuid,nodev,noexec(,|$)' "$AS_OUT"
as_user alice 'set -- /proc/[0-9]*; echo "$*"'
check_eq "/proc inside shows only the login's processes (the reaper and the shell)" "/proc/1 /proc/2" "$AS_OUT"

# --- /tmp ------------------------------------------------------------------------------------
echo host >/tmp/host-file
chmod 0644 /tmp/host-file
as_user alice 'cat /tmp/host-file; echo shared >/tmp/alice-file'
check_eq "private_tmp default false: the host's /tmp is shared" "host" "$AS_OUT"
check_eq "... and what the login writes there is on the host's /tmp" "shared" "$(cat /tmp/alice-file 2>&1)"
as_user tina 'ls -A /tmp | wc -l; stat -c %a /tmp; findmnt -n -o FSTYPE --mountpoint /tmp | tail -n 1'
check_eq "private_tmp = true: a fresh empty /tmp (tmpfs, 1777)" $'0\n1777\ntmpfs' "$AS_OUT"
if bg_login tina "echo private >/tmp/tina-file && touch $X/ready; $WAIT_GO"; then
    check "host, during the login: the private /tmp's file is not on the host" test ! -e /tmp/tina-file
    bg_end
else
    bg_end
    sandbox_not_ok "the private_tmp login started" "$(cat "$SB/tmp/bg.out")"
fi
check "host, after the login: no trace of the private /tmp" test ! -e /tmp/tina-file

# --- the host's mount table -------------------------------------------------------------------
mounts_check() { # LABEL
    local before during after
    before=$(host_mounts)
    if bg_login tina "touch $X/ready; $WAIT_GO"; then
        during=$(host_mounts)
        bg_end
        after=$(host_mounts)
        check_eq "$1: the host's mount table is unchanged during a login (private /tmp, /proc, /sys...)" \
            "$before" "$during"
        check_eq "$1: the host's mount table is unchanged after the login" "$before" "$after"
    else
        bg_end
        sandbox_not_ok "$1: the login started" "$(cat "$SB/tmp/bg.out")"
    fi
}
mounts_check "/ private"

# As on a systemd host: / shared. A control shows propagation is live.
mount --make-rshared /
mkdir -p "$SB/ctl"
unshare --mount --propagation unchanged mount -t tmpfs nssb-ctl "$SB/ctl"
check_eq "control: with / rshared, a mount in a child namespace does propagate here" tmpfs \
    "$(findmnt -n -o FSTYPE --mountpoint "$SB/ctl" | tail -n 1)"
umount "$SB/ctl"
mounts_check "/ rshared"

sandbox_finish
