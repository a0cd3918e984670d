# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034  # variables are for the sourcing test
# sandbox.sh — a throwaway "host" for ns-shell's root integration tests.
#
# Source it from a test script and call, before anything else:
#
#     . "$(dirname "$0")/sandbox.sh"
#     sandbox_enter "$0" "$@"
#
# The script then re-executes itself as PID 1 of fresh network, mount, PID,
# UTS and IPC namespaces (unshare ... --kill-child), and everything below
# happens only there. Invariants this file keeps:
#
#  1. Nothing is mounted, created or configured before the new namespaces are
#     verified: we must be PID 1, and the net and mount namespace inodes must
#     differ from the host's ones recorded before the re-exec. Otherwise we
#     abort before touching anything.
#  2. Nothing is written to the real disk. Every directory a test or a login
#     may write to is a tmpfs or an overlay whose upper layer is a tmpfs:
#       /run                     tmpfs (holds $SB, the sandbox's own files)
#       /dev                     tmpfs with the few device nodes, a new devpts
#                                instance, /dev/shm, /dev/mqueue, /dev/log
#       /etc, /var, /tmp, /root  overlays (real contents visible, writes go
#                                to $SB/.ovl); /var/lib/ns-shell is a fresh
#                                tmpfs on top (whether or not the host has it)
#       /home                    empty tmpfs (an overlay if the source tree or
#                                build dir lives under /home)
#       /sys                     a new sysfs, so /sys/class/net shows the
#                                sandbox's interfaces, not the host's
#     /etc/passwd, group, shadow, shells are copies in $SB/etc bind-mounted
#     over the real names; /etc/pam.d and /etc/security are bind mounts of
#     $SB/pam.d and $SB/security, written from scratch.
#  3. Nothing outlives the test: the script is PID 1 of its PID namespace, so
#     when it exits the kernel kills every process started in it (sshd, the
#     syslog listener, logins), and with them the namespaces, mounts and
#     interfaces go. If the outer unshare is killed, --kill-child SIGKILLs
#     PID 1. No cleanup code is needed, and none can be forgotten.
#
# Every process of the sandbox that keeps the environment carries NS_SB_INNER=1
# and NS_SB_RUN (run.sh's id for its run, so that its check for leftover
# processes can tell its own sandboxes from those of other runs).
#
# Variables set inside:  SB (the sandbox dir, /run/ns-sb), SB_SYSLOG (one line
# per /dev/log message: "facility.severity TAG[PID]: MESSAGE"), SB_HOSTROOT
# (a read-only view of the real root filesystem as it is on disk, to prove a
# real file did not change), NS_REPO, NS_BUILD, PAM_NS_SO, SB_USER_PASSWORD
# (the test users' password).
#
# Checks print TAP-like "ok - DESC" / "not ok - DESC" lines; sandbox_finish
# prints "N passed, N failed" and exits 1 if anything failed. A script that
# ends without sandbox_finish (error, set -e, exit) is reported as a failure
# by an EXIT trap; a test that wants its own EXIT trap should call
# _sb_exit_trap from it.

# ---------------------------------------------------------------- settings --

NS_REPO=${NS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
NS_BUILD=${NS_BUILD:-$NS_REPO/build}
PAM_NS_SO=$NS_BUILD/pam_ns.so
SB_PYTHON=/usr/bin/python3          # not a pyenv shim from root's PATH
SB_USER_PASSWORD=ns-test-pw
# openssl passwd -6 -salt nssandbox01 ns-test-pw
# shellcheck disable=SC2016
SB_PW_HASH='$6$nssandbox01$9RFtkURMgCwajfhxjw1MIMXnMacRifdGc1l.nW.rXJAAR8qRd2FtdiEtnyyZsvwt9lr/ZNBU1w65HbotF3HCx.'

SB_PASSED=0
SB_FAILED=0
SB_FINISHED=0

# ------------------------------------------------------------------ checks --

_sb_detail() { # print "#   " prefixed lines (at most 30)
    local line n=0
    while IFS= read -r line || [[ -n $line ]]; do
        if (( n++ >= 30 )); then printf '#   ...\n'; break; fi
        printf '#   %s\n' "$line"
    done
}

sandbox_ok() { SB_PASSED=$((SB_PASSED + 1)); printf 'ok - %s\n' "$1"; }

sandbox_not_ok() { # DESC [DETAIL]
    SB_FAILED=$((SB_FAILED + 1))
    printf 'not ok - %s\n' "$1"
    if [[ -n ${2:-} ]]; then printf '%s\n' "$2" | _sb_detail; fi
}

# check DESC CMD... : passes if CMD exits 0.
check() {
    local desc=$1; shift
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    if (( rc == 0 )); then
        sandbox_ok "$desc"
    else
        sandbox_not_ok "$desc" "command: $*
exit status: $rc
output: $out"
    fi
}

# check_fail DESC CMD... : passes if CMD exits non-zero.
check_fail() {
    local desc=$1; shift
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    if (( rc != 0 )); then
        sandbox_ok "$desc"
    else
        sandbox_not_ok "$desc" "command: $*
exit status: 0 (expected non-zero)
output: $out"
    fi
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
    if [[ $2 == "$3" ]]; then
        sandbox_ok "$1"
    else
        sandbox_not_ok "$1" "expected: '$2'
actual:   '$3'"
    fi
}

# check_match DESC REGEX ACTUAL : bash ERE, matches anywhere in ACTUAL
# (which may span lines; '.' also matches a newline).
check_match() {
    if [[ $3 =~ $2 ]]; then
        sandbox_ok "$1"
    else
        sandbox_not_ok "$1" "regex:  $2
actual: '$3'"
    fi
}

# sandbox_finish : totals line, exit status 1 if any check failed (or none ran).
sandbox_finish() {
    if (( SB_PASSED + SB_FAILED == 0 )); then
        sandbox_not_ok "the test ran at least one check"
    fi
    SB_FINISHED=1
    printf '%d passed, %d failed\n' "$SB_PASSED" "$SB_FAILED"
    (( SB_FAILED == 0 )) && exit 0
    exit 1
}

# sandbox_die MSG : a fatal setup error: counted as a failure, then finish.
sandbox_die() {
    sandbox_not_ok "$1" "${2:-}"
    sandbox_finish
}

_sb_exit_trap() {
    local rc=$?
    (( SB_FINISHED )) && return
    SB_FINISHED=1
    sandbox_not_ok "the test script reached sandbox_finish" \
        "it ended early, exit status $rc"
    printf '%d passed, %d failed\n' "$SB_PASSED" "$SB_FAILED"
    exit 1
}

# ------------------------------------------------------------------- enter --

# sandbox_enter "$0" "$@" : outside, re-exec the script in new namespaces;
# inside (PID 1), build the sandbox and return to the script.
sandbox_enter() {
    local script=$1; shift
    if [[ ${NS_SB_INNER:-} != 1 ]]; then
        if (( EUID != 0 )); then
            echo "sandbox: $script needs root (it runs in throwaway namespaces)" >&2
            exit 1
        fi
        script=$(readlink -f -- "$script")
        NS_SB_INNER=1 NS_SB_RUN=${NS_SB_RUN:-standalone.$$} \
        NS_SB_HOSTNET=$(stat -L -c %i /proc/self/ns/net) \
        NS_SB_HOSTMNT=$(stat -L -c %i /proc/self/ns/mnt) \
        NS_REPO=$NS_REPO NS_BUILD=$NS_BUILD \
            exec unshare --net --mount --pid --uts --ipc --fork --mount-proc \
                --kill-child -- "$BASH" "$script" "$@"
        exit 1  # not reached
    fi
    trap _sb_exit_trap EXIT
    _sb_verify_namespaces
    _sb_build
    sandbox_pam_defaults
}

_sb_abort() {
    printf 'not ok - sandbox: %s\n' "$1"
    printf 'Bail out! the sandbox is not isolated; nothing was changed\n'
    SB_FINISHED=1
    printf '%d passed, %d failed\n' "$SB_PASSED" "$((SB_FAILED + 1))"
    exit 1
}

# Invariant 1: prove isolation before the first mount.
_sb_verify_namespaces() {
    local net mnt
    net=$(stat -L -c %i /proc/self/ns/net) || _sb_abort "cannot stat /proc/self/ns/net"
    mnt=$(stat -L -c %i /proc/self/ns/mnt) || _sb_abort "cannot stat /proc/self/ns/mnt"
    [[ $$ == 1 ]] || _sb_abort "not PID 1 of a new PID namespace (pid $$)"
    [[ -n ${NS_SB_HOSTNET:-} && $net != "$NS_SB_HOSTNET" ]] ||
        _sb_abort "still in the host's network namespace ($net)"
    [[ -n ${NS_SB_HOSTMNT:-} && $mnt != "$NS_SB_HOSTMNT" ]] ||
        _sb_abort "still in the host's mount namespace ($mnt)"
}

_sb_run() { # run a setup step; any failure aborts the test
    "$@" || sandbox_die "sandbox setup: $*"
}

# Put DIR under an overlay whose upper layer lives in $SB/.ovl. Mounts below
# DIR (a bind-mounted /etc/resolv.conf in a container, say) are moved aside
# first and moved back on top of the overlay (an overlay shows only its lower
# filesystem, not what is mounted below it).
_sb_overlay() {
    local dir=$1 key=${1//\//_} sub i=0
    local -a subs=()
    # Top-level submounts only: an rbind of one takes its children along.
    mapfile -t subs < <(findmnt -rn -o TARGET | awk -v d="$dir/" '
        index($0, d) != 1 || seen[$0]++ { next }
        { for (k in top) if (index($0, k "/") == 1) next; top[$0]; print }')
    for sub in "${subs[@]}"; do
        sub=$(printf '%b' "$sub")  # findmnt escapes spaces as \x20
        if [[ -d $sub ]]; then
            _sb_run mkdir "$SB/.ovl/sub$key.$i"
        else
            _sb_run touch "$SB/.ovl/sub$key.$i"
        fi
        _sb_run mount --rbind "$sub" "$SB/.ovl/sub$key.$i"
        subs[i]=$sub
        i=$((i + 1))
    done
    _sb_run mkdir -p "$SB/.ovl/$key/u" "$SB/.ovl/$key/w"
    # The overlay's root takes its owner and mode from the upper dir.
    _sb_run chmod --reference="$dir" "$SB/.ovl/$key/u"
    _sb_run chown --reference="$dir" "$SB/.ovl/$key/u"
    _sb_run mount -t overlay "nssb$key" \
        -o "lowerdir=$dir,upperdir=$SB/.ovl/$key/u,workdir=$SB/.ovl/$key/w" "$dir"
    i=0
    for sub in "${subs[@]}"; do
        _sb_run mount --move "$SB/.ovl/sub$key.$i" "$sub"
        i=$((i + 1))
    done
}

_sb_under() { # is path $1 inside directory $2?
    [[ $1/ == "$2"/* ]]
}

_sb_build() {
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    umask 022
    _sb_run mount --make-rprivate /
    _sb_run ip link set lo up

    # /run and the sandbox's own directory in it.
    _sb_run mount -t tmpfs -o mode=0755,size=256m nssb-run /run
    SB=/run/ns-sb
    SB_SYSLOG=$SB/syslog
    _sb_run mkdir -m 0755 "$SB" "$SB/bin" "$SB/etc" "$SB/pam.d" "$SB/security"
    _sb_run mkdir -m 0700 "$SB/.ovl" "$SB/tmp"
    _sb_run mkdir -m 0755 /run/sshd
    _sb_run mkdir -m 1777 /run/lock
    export SB SB_SYSLOG

    # Overlays: the real contents stay visible, writes land on tmpfs.
    local d
    for d in /etc /var /tmp /root; do _sb_overlay "$d"; done
    [[ -d /var/lib/ns-shell ]] || _sb_run mkdir -m 0755 /var/lib/ns-shell
    _sb_run mount -t tmpfs -o mode=0755,size=64m nssb-varlib /var/lib/ns-shell
    if _sb_under "$NS_REPO" /home || _sb_under "$NS_BUILD" /home; then
        _sb_overlay /home
    else
        _sb_run mount -t tmpfs -o mode=0755,size=256m nssb-home /home
    fi
    _sb_run mount -t sysfs -o nosuid,nodev,noexec nssb-sys /sys
    # The real root filesystem as it is on disk, read-only (MS_BIND|MS_REMOUNT
    # changes this mount's flags only, never the filesystem's).
    SB_HOSTROOT=$SB/.ovl/hostroot
    _sb_run mkdir "$SB_HOSTROOT"
    _sb_run mount --bind / "$SB_HOSTROOT"
    _sb_run mount -o remount,bind,ro "$SB_HOSTROOT"
    export SB_HOSTROOT

    _sb_build_dev
    _sb_build_accounts
    _sb_start_syslog
}

_sb_build_dev() {
    # No redirection to /dev/null may happen until the nodes exist again.
    _sb_run mount -t tmpfs -o mode=0755,nosuid,size=64k nssb-dev /dev
    local spec name maj min
    for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
        IFS=: read -r name maj min <<<"$spec"
        _sb_run mknod -m 0666 "/dev/$name" c "$maj" "$min"
    done
    _sb_run ln -s /proc/self/fd /dev/fd
    _sb_run ln -s /proc/self/fd/0 /dev/stdin
    _sb_run ln -s /proc/self/fd/1 /dev/stdout
    _sb_run ln -s /proc/self/fd/2 /dev/stderr
    _sb_run mkdir -m 0755 /dev/pts
    _sb_run mkdir -m 1777 /dev/shm
    _sb_run mkdir -m 1777 /dev/mqueue
    _sb_run mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 nssb-devpts /dev/pts
    _sb_run ln -s pts/ptmx /dev/ptmx
    _sb_run mount -t tmpfs -o mode=1777,nosuid,nodev nssb-shm /dev/shm
    _sb_run mount -t mqueue -o nosuid,nodev,noexec nssb-mqueue /dev/mqueue
}

_sb_build_accounts() {
    local f
    for f in passwd group shadow shells; do
        _sb_run cp -p "/etc/$f" "$SB/etc/$f"
        _sb_run mount --bind "$SB/etc/$f" "/etc/$f"
    done
    _sb_run mount --bind "$SB/pam.d" /etc/pam.d
    _sb_run mount --bind "$SB/security" /etc/security
}

# A /dev/log datagram listener: one line per message in $SB_SYSLOG,
# "facility.severity TAG[PID]: MESSAGE" (the <PRI> header decoded, the
# timestamp dropped, newlines in the message turned into spaces).
_sb_start_syslog() {
    cat >"$SB/bin/syslog-listener.py" <<'EOF'
import os, re, socket, sys
path, out = sys.argv[1], sys.argv[2]
FAC = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
       "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console",
       "solaris-cron"] + ["local%d" % i for i in range(8)]
SEV = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(65536).decode("utf-8", "replace").rstrip("\0\n")
        pri, rest = None, msg
        if msg.startswith("<") and ">" in msg[:5]:
            try:
                pri = int(msg[1:msg.index(">")])
                rest = msg[msg.index(">") + 1:]
            except ValueError:
                pri = None
        # Drop an RFC 3164 timestamp: lines read "facility.severity TAG: MSG".
        rest = re.sub(r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} ",
                      "", rest)
        if pri is None:
            tag = "unknown"
        else:
            fac = FAC[pri >> 3] if (pri >> 3) < len(FAC) else str(pri >> 3)
            tag = fac + "." + SEV[pri & 7]
        f.write(tag + " " + rest.replace("\n", " ") + "\n")
EOF
    "$SB_PYTHON" -I -S -u "$SB/bin/syslog-listener.py" /dev/log "$SB_SYSLOG" \
        </dev/null >"$SB/syslog-listener.err" 2>&1 &
    SB_SYSLOG_PID=$!
    local i
    for ((i = 0; i < 500; i++)); do
        [[ -e $SB_SYSLOG ]] && return 0
        kill -0 "$SB_SYSLOG_PID" 2>/dev/null || break
        sleep 0.01
    done
    sandbox_die "sandbox setup: /dev/log listener did not start" \
        "$(cat "$SB/syslog-listener.err" 2>/dev/null)"
}

# sandbox_log_wait REGEX [SECONDS] : wait (default 10 s) until a $SB_SYSLOG line matches
# (grep -E); prints the matching lines. Status 1 on timeout.
sandbox_log_wait() {
    local re=$1 secs=${2:-10} i
    for ((i = 0; i <= secs * 50; i++)); do
        grep -E -- "$re" "$SB_SYSLOG" && return 0
        sleep 0.02
    done
    return 1
}

# ---------------------------------------------------------------- accounts --

# Rewrite a bind-mounted account file in place. Never rename over it: the
# bind mount would keep showing the old inode.
_sb_rewrite() { # FILE CONTENT
    printf '%s\n' "$2" >"$1"
}

# sandbox_add_user NAME UID [GROUP...] : a test user with a private group
# (gid = UID), supplementary GROUPs (created from gid 5000 up when missing),
# home /home/NAME (0700), password $SB_USER_PASSWORD (PASSWORD_HASH='*' to
# lock it), shell $SB/bin/ns-shell (SHELL_OVERRIDE=/bin/sh to change it).
sandbox_add_user() {
    local name=$1 uid=$2 g gid content
    shift 2
    [[ $name =~ ^[a-z_][a-z0-9_-]{0,30}$ && $uid =~ ^[0-9]+$ ]] ||
        sandbox_die "sandbox_add_user: bad name or uid: '$name' '$uid'"
    if cut -d: -f1 "$SB/etc/passwd" "$SB/etc/group" | grep -qxF -- "$name" ||
       cut -d: -f3 "$SB/etc/passwd" "$SB/etc/group" | grep -qxF -- "$uid"; then
        sandbox_die "sandbox_add_user: user/group '$name' or id $uid already exists"
    fi
    local shell=${SHELL_OVERRIDE:-$SB/bin/ns-shell}
    local hash=${PASSWORD_HASH:-$SB_PW_HASH}
    local today=$(($(date +%s) / 86400))
    printf '%s:x:%s:%s:ns-shell test user:/home/%s:%s\n' \
        "$name" "$uid" "$uid" "$name" "$shell" >>"$SB/etc/passwd"
    printf '%s:%s:%s:0:99999:7:::\n' "$name" "$hash" "$today" >>"$SB/etc/shadow"
    printf '%s:x:%s:\n' "$name" "$uid" >>"$SB/etc/group"
    for g in "$@"; do
        if cut -d: -f1 "$SB/etc/group" | grep -qxF -- "$g"; then
            content=$(awk -F: -v OFS=: -v g="$g" -v u="$name" \
                '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' "$SB/etc/group")
            _sb_rewrite "$SB/etc/group" "$content"
        else
            gid=5000
            while cut -d: -f3 "$SB/etc/group" | grep -qxF -- "$gid"; do
                gid=$((gid + 1))
            done
            printf '%s:x:%s:%s\n' "$g" "$gid" "$name" >>"$SB/etc/group"
        fi
    done
    _sb_run mkdir -m 0700 "/home/$name"
    _sb_run chown "$uid:$uid" "/home/$name"
}

# sandbox_install_ns_shell [BINARY] : $SB/bin/ns-shell, root:root 4755, listed
# in /etc/shells. Default binary: $NS_BUILD/ns-shell.
sandbox_install_ns_shell() {
    local bin=${1:-$NS_BUILD/ns-shell}
    [[ -f $bin && -x $bin ]] ||
        sandbox_die "sandbox_install_ns_shell: no executable $bin (run make first)"
    _sb_run install -o root -g root -m 4755 "$bin" "$SB/bin/ns-shell"
    grep -qxF "$SB/bin/ns-shell" "$SB/etc/shells" ||
        printf '%s\n' "$SB/bin/ns-shell" >>"$SB/etc/shells"
}

# sandbox_conf < TEXT : /etc/security/ns.conf, root 0644.
# A config that does not mention `linger` gets `linger = false` in its
# default block (added if missing): most tests reconfigure between steps and
# rely on a logout ending the login whole, as before linger existed. Tests
# of the default (linger = true) say so or use the shipped conf/ns.conf.
sandbox_conf() {
    local text
    text=$(cat; printf x)
    text=${text%x}
    if ! grep -q 'linger' <<<"$text"; then
        if grep -qE '^[[:space:]]*default[[:space:]]*\{' <<<"$text"; then
            text=$(sed -E '0,/^([[:space:]]*default[[:space:]]*\{)/s//\1 linger = false/' <<<"$text"; printf x)
            text=${text%x}
        else
            text+=$'\ndefault { linger = false }\n'
        fi
    fi
    printf '%s' "$text" >"$SB/security/ns.conf" || sandbox_die "sandbox_conf: cannot write ns.conf"
    _sb_run chown root:root "$SB/security/ns.conf"
    _sb_run chmod 0644 "$SB/security/ns.conf"
}

# sandbox_bench_conf [LINE...] : the benches' ns.conf (bench/*.sh): the
# deployed default with the sandbox's bridge and pool made explicit (ports
# isolated), and LINE... (e.g. 'shell = "/bin/sh"') in its default block.
sandbox_bench_conf() {
    {
        printf '%s\n' 'bridge         = "nsbr0"' 'create_bridge  = true' 'bridge_address = "10.213.0.1/16"' \
            'pool           = "10.213.0.0/16"' 'gateway        = "10.213.0.1"' 'isolate_ports  = true' 'default {'
        (( $# )) && printf '    %s\n' "$@"
        printf '}\n'
    } | sandbox_conf
}

# sandbox_pam SERVICE < TEXT : /etc/pam.d/SERVICE, root 0644.
sandbox_pam() {
    [[ $1 =~ ^[a-zA-Z0-9_.-]+$ ]] || sandbox_die "sandbox_pam: bad service '$1'"
    _sb_run cat >"$SB/pam.d/$1"
    _sb_run chmod 0644 "$SB/pam.d/$1"
}

# sandbox_pam_defaults : minimal stacks for su, su-l, runuser, runuser-l,
# login, sshd and other, without pam_ns (sandbox_enter writes them; pam_unix
# with nodelay, so a failed password costs no 2 s). Stacks with pam_ns:
# pam_with_ns and pam_sshd_ns in lib.sh.
sandbox_pam_defaults() {
    local s
    for s in su su-l runuser runuser-l; do sandbox_pam "$s" < <(sandbox_pam_unix rootok); done
    for s in login sshd other; do sandbox_pam "$s" < <(sandbox_pam_unix); done
}

# sandbox_pam_unix [rootok] : the lines of a plain stack (auth, account,
# password, session: pam_unix), with pam_rootok sufficient first if asked.
sandbox_pam_unix() {
    [[ ${1:-} == rootok ]] && echo 'auth     sufficient pam_rootok.so'
    printf '%s\n' 'auth     required   pam_unix.so nodelay' 'account  required   pam_unix.so' \
        'password required   pam_unix.so' 'session  required   pam_unix.so'
}

# ------------------------------------------------------------------ logins --

_sb_capture() { # run "$@", set AS_OUT AS_ERR AS_RC; return AS_RC
    local rc=0
    if [[ -t 0 ]]; then
        "$@" >"$SB/tmp/as.out" 2>"$SB/tmp/as.err" </dev/null || rc=$?
    else
        "$@" >"$SB/tmp/as.out" 2>"$SB/tmp/as.err" || rc=$?
    fi
    AS_RC=$rc
    AS_OUT=$(cat "$SB/tmp/as.out")
    AS_ERR=$(cat "$SB/tmp/as.err")
    return "$rc"
}

# as_user NAME CMD : su - NAME -c CMD (the passwd shell runs as a login shell
# with -c CMD). Sets AS_OUT (stdout), AS_ERR (stderr), AS_RC (status; 124
# on timeout, AS_TIMEOUT seconds, default 30) and returns AS_RC (so under
# set -e write "as_user ... || true"). Prints nothing. Stdin is passed
# through unless it is a terminal.
as_user() {
    local user=$1; shift
    _sb_capture timeout -k 2 "${AS_TIMEOUT:-30}" su - "$user" -c "$*"
}

# ------------------------------------------------------------------- sshd ---

SB_SSH_PORT=22

# sandbox_sshd [-o KEY=VALUE ...] : start sshd on 127.0.0.1:22 of the
# sandbox, UsePAM yes (service sshd), public keys from
# $SB/ssh/authorized_keys/%u (see sandbox_ssh_authorize), logs in $SB/sshd.log.
# $SB/ssh/sshd_config.extra, if present, is appended (Match blocks).
sandbox_sshd() {
    local d=$SB/ssh i
    _sb_run mkdir -p -m 0755 "$d" "$d/authorized_keys"
    [[ -e $d/host_ed25519 ]] ||
        _sb_run ssh-keygen -q -t ed25519 -N '' -C sandbox-host -f "$d/host_ed25519"
    [[ -e $d/id_ed25519 ]] ||
        _sb_run ssh-keygen -q -t ed25519 -N '' -C sandbox-client -f "$d/id_ed25519"
    cat >"$d/sshd_config" <<EOF
Port $SB_SSH_PORT
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/sshd.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $d/authorized_keys/%u
StrictModes yes
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
    [[ -e $d/sshd_config.extra ]] && cat "$d/sshd_config.extra" >>"$d/sshd_config"
    local out
    out=$(/usr/sbin/sshd -t -f "$d/sshd_config" "$@" 2>&1) ||
        sandbox_die "sandbox_sshd: sshd -t rejects the config" "$out"
    /usr/sbin/sshd -D -e -f "$d/sshd_config" "$@" </dev/null >>"$SB/sshd.log" 2>&1 &
    SB_SSHD_PID=$!
    SB_SSH=(ssh -F /dev/null -i "$d/id_ed25519" -p "$SB_SSH_PORT"
        -o BatchMode=yes -o StrictHostKeyChecking=no
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
    for ((i = 0; i < 250; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$SB_SSH_PORT") 2>/dev/null; then
            return 0
        fi
        kill -0 "$SB_SSHD_PID" 2>/dev/null || break
        sleep 0.02
    done
    sandbox_die "sandbox_sshd: sshd did not start" "$(cat "$SB/sshd.log")"
}

# sandbox_ssh_authorize NAME : let the sandbox client key log in as NAME.
sandbox_ssh_authorize() {
    _sb_run cp "$SB/ssh/id_ed25519.pub" "$SB/ssh/authorized_keys/$1"
    _sb_run chmod 0644 "$SB/ssh/authorized_keys/$1"
}

# as_ssh NAME CMD : ssh NAME@127.0.0.1 CMD with the sandbox key; sets AS_OUT,
# AS_ERR, AS_RC like as_user. "${SB_SSH[@]}" is the client command line
# (without the destination) for other uses (-tt, -L, ControlMaster...).
as_ssh() {
    local user=$1; shift
    _sb_capture timeout -k 2 "${AS_TIMEOUT:-30}" "${SB_SSH[@]}" "$user@127.0.0.1" "$*"
}
