# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh — the one helper library of the integration tests. Every t-*.sh
# sources it right after sandbox_enter (it needs the sandbox: $SB, $PY):
#
#     . "$(dirname "$0")/sandbox.sh" || exit 1
#     sandbox_enter "$0" "$@"
#     . "$(dirname "$0")/lib.sh" || exit 1
#
# Not a test itself (run.sh runs only t-*.sh). sandbox.sh is the harness
# (isolation, checks, accounts, su/ssh clients); this file is what the tests
# share on top of it. Helper programs are real files in bin/ (copied to
# $SB/bin/ when this file is sourced, readable by the test users); attack/
# holds the attack tests' own programs. Sections:
#   paths and ids    SESS STATE LEASES LEASE_DIR NETNS_DIR NSCTL NSH PY NL X PUB PWFILE
#                    HOSTNET HOSTPID HOLD_DIR ATT
#   waiting          wait_until wait_file settle link_absent link_present
#                    no_ns_links no_user_procs uid_procs no_uid_procs
#                    ms_since median
#   state            kv rec sids_of n_sids_of n_records no_records has_n_records_of
#                    has_record_of lease_lines lease_of sticky_of lease_seed
#                    lease_problems lease_store_state
#   processes        netns_of_pid pidns_of_pid pids_in_netns procs_in_netns
#                    status_of stat_field limit_of
#   commands         run (OUT ERR RC MS), nsh, check_rc, check_run, check_login
#   syslog           log_sync log_mark log_since
#   bait             bait_watch (BAIT_LOG) bait_sync bait_events
#   held logins      hold hold_cmd release held (HOLD_PID)
#   PAM stacks       pam_with_ns pam_ns_alone pam_sshd_ns
#   network          bridge_up banner_start probe probe_cmd SCP SFTP bg_ssh
#                    end_ssh split_parts v6_of link_local
#   DHCP             dhcp_server_start (DNSMASQ_LOG) n_release pidfile_of
#                    client_of no_udhcpc
#   accounts         add_users add_raw
#   files            mode conf_file only_warnings
# shellcheck shell=bash disable=SC2015,SC2034,SC2174,SC2317  # A && B || die; variables and helpers are for the sourcing test; mkdir -p -m

[[ -n ${SB:-} && -d ${SB:-} ]] || {
    echo "lib.sh: source it after sandbox_enter (no sandbox here)" >&2
    return 1
}

# ---------------------------------------------------------- paths and ids ---
STATE=/run/ns-shell                 # $(state_dir)
SESS=$STATE/sessions                # session records
NETNS_DIR=$STATE/netns              # per-namespace files (resolv.conf, dhcp pid)
LEASES=/var/lib/ns-shell/leases     # $(lease_file): the old single file (migrated)
LEASE_DIR=$LEASES.d                 # the lease store: one file per address, by-uid/
NSCTL=$NS_BUILD/nsctl
NSH=$SB/bin/ns-shell                # after sandbox_install_ns_shell
PY=$SB_PYTHON
NL=$'\n'
X=$SB/x                             # a directory every test user may write
PUB=$SB/pub                         # files the test users may read
PWFILE=$PUB/pw                      # the test users' password, for ptysu.py
HOLD_DIR=$SB/hold                   # the FIFOs of held logins (hold/release)
HOSTNET=$(stat -L -c %i /proc/self/ns/net)   # the sandbox host's namespaces
HOSTPID=$(stat -L -c %i /proc/self/ns/pid)
mkdir -p -m 1777 "$X" "$HOLD_DIR" && mkdir -p -m 0755 "$PUB" &&
    printf '%s\n' "$SB_USER_PASSWORD" >"$PWFILE" && chmod 0644 "$PWFILE" ||
    sandbox_die "lib.sh: cannot make $X, $PUB, $HOLD_DIR"
# bin/*.py: banner.py probe.py expect.py pamdrv.py ptysu.py udp.py resolve.py
# xfer.py leasestore.py; attack/*.py: the attack tests' (each file says what it does). All
# run as "$PY $SB/bin/NAME.py"; attack/*.c are compiled by their tests.
ATT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/attack
install -m 0644 "$ATT"/../bin/*.py "$SB/bin/" && install -m 0755 "$ATT"/*.py "$SB/bin/" ||
    sandbox_die "lib.sh: cannot install bin/*.py and attack/*.py into $SB/bin"

# ---------------------------------------------------------------- waiting ---
# wait_until SECONDS CMD... : poll CMD (output discarded) every 20 ms until it
# succeeds; status 1 after SECONDS.
wait_until() {
    local secs=$1 i; shift
    for ((i = 0; i <= secs * 50; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}
# wait_file FILE [SECONDS] : wait (default 5 s) until FILE exists
wait_file() { wait_until "${2:-5}" test -e "$1"; }
link_absent() { ! ip link show dev "$1" >/dev/null 2>&1; }
link_present() { ip link show dev "$1" >/dev/null 2>&1; }
# settle UID [SECONDS] : wait (default 30 s) until the veth nsuUID of a closed
# per-user namespace is gone (the kernel frees it 17-48 ms after the last
# process, far later on a loaded machine), so the next check does not depend
# on the teardown's timing.
settle() { wait_until "${2:-30}" link_absent "nsu$1"; }
# no_ns_links : no veth of ours (nsu*, nss*) is left on the host
no_ns_links() { ! ip -o link show | grep -q ' ns[us][0-9a-f]'; }
# no_user_procs USER : USER has no process (poll it: wait_until 2 no_user_procs U)
no_user_procs() { ! pgrep -u "$1" >/dev/null; }
# uid_procs UID : the processes whose real or effective uid is UID (a setuid
# program a user started too); no_uid_procs UID : there are none
uid_procs() { ps -eo pid=,ruid=,euid=,args= | awk -v u="$1" '$2 == u || $3 == u'; }
no_uid_procs() { [[ -z $(uid_procs "$1") ]]; }
# ms_since T0 : milliseconds since T0 (an $EPOCHREALTIME value)
ms_since() { echo $(( (${EPOCHREALTIME/./} - ${1/./}) / 1000 )); }
# median < NUMBERS : the median of whole numbers, one a line
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# ------------------------------------------------------------------ state ---
# kv KEY TEXT : the value of the first KEY=VALUE line of TEXT
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
n_sids_of() { sids_of "$1" | wc -l; }
has_n_records_of() { [[ $(n_sids_of "$1") == "$2" ]]; }   # UID N
has_record_of() { [[ -n $(sids_of "$1") ]]; }             # UID
n_records() { find "$SESS" -maxdepth 1 -type f -name '????????' 2>/dev/null | wc -l; }
no_records() { [[ $(n_records) == 0 ]]; }                  # (poll it: wait_until 20 no_records)
# lease_lines [DIR] : every good lease of the store, one "uid user address
# last_used[ sid]" line per address file (what the old lease file held),
# sorted by address; a bad file (one pam_ns holds and never uses: not
# root's, writable by others, not regular, a symlink, huge, not one line
# naming its own address) is left out (bin/leasestore.py)
lease_lines() { "$PY" -I "$SB/bin/leasestore.py" leases "${1:-$LEASE_DIR}"; }
# lease_of [-s] NAME : the address(es) leased to NAME (-s: the sticky lease,
# the 4-field line, only)
lease_of() {
    local nf=0
    [[ $1 == -s ]] && { nf=4; shift; }
    lease_lines | awk -v u="$1" -v nf="$nf" '$2 == u && (nf == 0 || NF == nf) { print $3 }'
}
# sticky_of NAME : NAME's sticky lease line (per-user, no session tag)
sticky_of() { lease_lines | awk -v u="$1" '$2 == u && NF == 4'; }
# lease_seed [-d DIR] [LINE...] : put leases into the store (DIR, default
# $LEASE_DIR) as pam_ns writes them: for each "uid user address last_used[
# sid]" line (the arguments, else stdin) the address file DIR/<address>
# (root 0644, the line) and the index entry DIR/by-uid/<uid>[.<sid>] ->
# address (bin/leasestore.py: 2,000 leases in well under a second)
lease_seed() {
    local d=$LEASE_DIR
    [[ ${1:-} == -d ]] && { d=$2; shift 2; }
    if (( $# )); then printf '%s\n' "$@"; else cat; fi | "$PY" -I "$SB/bin/leasestore.py" seed "$d"
}
# lease_problems [DIR] : what is inconsistent in the store, one line each
# (nothing: consistent): an address file that is not a root-owned 0644
# regular file holding one lease line naming its own address, a lease whose
# index entry by-uid/<uid>[.<sid>] does not name its file, a uid with two
# sticky leases (or two of one tag). (An index entry naming a file that
# holds someone else is stale, ignored by design: not a problem.)
lease_problems() { "$PY" -I "$SB/bin/leasestore.py" problems "${1:-$LEASE_DIR}"; }
# lease_store_state [DIR] : every name in the store with its type, owner,
# mode, inode and content or symlink target, sorted: equal before and after
# means nothing in the store was written, replaced or removed
lease_store_state() { "$PY" -I "$SB/bin/leasestore.py" state "${1:-$LEASE_DIR}"; }

# -------------------------------------------------------------- processes ---
netns_of_pid() { stat -L -c %i "/proc/$1/ns/net"; }
pidns_of_pid() { stat -L -c %i "/proc/$1/ns/pid"; }
# pids_in_netns INODE : the pids in that network namespace, sorted, one line
pids_in_netns() {
    local p
    for p in /proc/[1-9]*; do
        [[ $(stat -L -c %i "$p/ns/net" 2>/dev/null) == "$1" ]] && echo "${p#/proc/}"
    done | sort -n | xargs
}
# procs_in_netns INODE : how many processes sit in that network namespace
procs_in_netns() { local -a p; read -r -a p <<<"$(pids_in_netns "$1")"; echo "${#p[@]}"; }
# status_of PID FIELD : a /proc/PID/status field ("Uid", "Groups", ...)
status_of() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | xargs; }
# stat_field PID N : field N of /proc/PID/stat (man 5 proc; 3 state, 19 nice)
stat_field() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk -v f="$2" '{ print $(f - 2) }'; }
# limit_of PID NAME : "SOFT HARD" of a /proc/PID/limits line
limit_of() { awk -v n="$2" 'index($0, n) == 1 { print $(NF - 2), $(NF - 1) }' "/proc/$1/limits" 2>/dev/null; }

# --------------------------------------------------------------- commands ---
# run CMD... : run CMD with stdin from $RUN_IN (default /dev/null), at most
# $RUN_TIMEOUT s (default 30; a shell function as CMD runs without timeout);
# set OUT (stdout; with RUN_MERGE=1 stderr too; with RUN_NUL=C its NUL bytes
# as C), ERR (stderr), RC (status: 124 on timeout, 128+N if killed by N),
# MS (milliseconds it took). In a subshell, so that bash's own "Killed"
# notice does not reach the output.
run() {
    local t0=$EPOCHREALTIME
    local -a to=(timeout -k 2 "${RUN_TIMEOUT:-30}")
    [[ $(type -t "$1") == function ]] && to=()
    : >"$SB/tmp/run.err"
    RC=0
    ( if [[ -n ${RUN_MERGE:-} ]]; then "${to[@]}" "$@" 2>&1
      else "${to[@]}" "$@" 2>"$SB/tmp/run.err"; fi <"${RUN_IN:-/dev/null}" >"$SB/tmp/run.out"
      exit $? ) 2>/dev/null || RC=$?
    MS=$(ms_since "$t0")
    if [[ -n ${RUN_NUL:-} ]]; then OUT=$(tr '\0' "$RUN_NUL" <"$SB/tmp/run.out")
    else OUT=$(cat "$SB/tmp/run.out"); fi
    ERR=$(cat "$SB/tmp/run.err")
}
# nsh USER ARGS... : run ns-shell ARGS as USER (setpriv, no su, no PAM)
nsh() {
    local user=$1; shift
    run setpriv --reuid="$user" --regid="$user" --init-groups "$NSH" "$@"
}
# check_rc DESC STATUS : the last as_user/as_ssh exited with STATUS (else
# show its output and pam_ns's last log lines); check_run: the same for the
# last run; check_login DESC: the last as_user/as_ssh exited 0
check_rc() { _check_status "$1" "$2" "$AS_RC" "$AS_OUT" "$AS_ERR"; }
check_run() { _check_status "$1" "$2" "$RC" "$OUT" "$ERR"; }
check_login() { check_rc "$1" 0; }
_check_status() { # DESC WANT GOT STDOUT STDERR
    if [[ $3 == "$2" ]]; then
        sandbox_ok "$1"
    else
        sandbox_not_ok "$1" "exit status: $3 (expected $2)
stdout: $4
stderr: $5
syslog: $(grep -E 'pam_ns|ns-shell' "$SB_SYSLOG" | tail -n 3)"
    fi
}

# ---------------------------------------------------------------- syslog ---
# log_sync : wait until every line logged so far is in $SB_SYSLOG (a marker
# sent now comes after them through /dev/log), so that an absence is real
log_sync() {
    local m="ns-test-log-sync-$EPOCHREALTIME"
    logger -p user.debug "$m" && sandbox_log_wait "$m" 10 >/dev/null ||
        sandbox_die "log_sync: the marker never reached $SB_SYSLOG"
}
# log_mark : remember where the log ends; log_since : what was logged after
# that, up to now (log_sync first: a line sent just before is in)
log_mark() { LOG_MARK=$(wc -l <"$SB_SYSLOG"); }
log_since() { log_sync; tail -n +"$((LOG_MARK + 1))" "$SB_SYSLOG"; }

# ------------------------------------------------------------------ bait ---
# bait_watch DIR PATH... : attack/baitwatch.py on DIR and PATHs (root-only
# bait: an event means a privileged open), lines "EVENT PATH" in $BAIT_LOG
# (pid BAIT_PID); DIR/sync, bait no test input names, is made for bait_sync
BAIT_LOG=$SB/tmp/bait.log
bait_watch() {
    BAIT_SYNC=$1/sync
    [[ -e $BAIT_SYNC ]] || { : >"$BAIT_SYNC" && chmod 0600 "$BAIT_SYNC"; }
    rm -f "$BAIT_LOG" "$SB/tmp/bait.ready"
    "$PY" -I "$SB/bin/baitwatch.py" "$SB/tmp/bait.ready" "$BAIT_LOG" "$@" "$BAIT_SYNC" \
        </dev/null >"$SB/tmp/bait.err" 2>&1 &
    BAIT_PID=$!
    wait_file "$SB/tmp/bait.ready" || sandbox_die "the bait watcher did not start" "$(cat "$SB/tmp/bait.err")"
}
# bait_sync : open DIR/sync as root and wait for its event: by then the
# events of whatever ran before are in $BAIT_LOG (one inotify queue), so an
# absence is real; bait_events : $BAIT_LOG without the sync events
bait_sync() { cat "$BAIT_SYNC" >/dev/null; wait_until 10 grep -q "OPEN $BAIT_SYNC\$" "$BAIT_LOG"; }
bait_events() { grep -v " $BAIT_SYNC\$" "$BAIT_LOG"; }

# ----------------------------------------------------------- held logins ---
# A held login runs "CMD; read x <$HOLD_DIR/TAG" (a FIFO): it stays open,
# forking nothing, until release TAG writes a line to the FIFO.
declare -gA HOLD_PID BG_SSH
# hold_cmd TAG [CMD] [AFTER] : make TAG's FIFO; print the login's command
# "CMD, wait for release TAG, AFTER" (for a hold over ssh: bg_ssh TAG ...)
hold_cmd() {
    rm -f "$HOLD_DIR/$1"
    mkfifo -m 0666 "$HOLD_DIR/$1" || sandbox_die "hold: cannot make $HOLD_DIR/$1"
    printf '%s%s%s' "${2:+$2$NL}" "read x <$HOLD_DIR/$1" "${3:+$NL$3}"
}
# hold TAG USER [CMD] : `su USER -c "$(hold_cmd TAG CMD)"` in the background;
# its output goes to $SB/tmp/hold-TAG.out, su's pid to HOLD_PID[TAG].
hold() {
    local cmd
    cmd=$(hold_cmd "$1" "${3:-}")
    su "$2" -c "$cmd" </dev/null >"$SB/tmp/hold-$1.out" 2>&1 &
    HOLD_PID[$1]=$!
}
# held TAG : the held login's shell is up and waiting (every process of that
# login has been forked: su or sshd, ns-shell, its reaper, the shell)
held() {
    local p
    for p in $(pgrep -f "read x <$HOLD_DIR/$1([^[:alnum:]_.-]|\$)"); do
        [[ $(cat "/proc/$p/comm" 2>/dev/null) =~ ^(bash|sh|dash)$ ]] && return 0
    done
    return 1
}
# release TAG... : end these held logins (all at once) and wait for their
# client (su of hold, or ssh of bg_ssh). A login whose shell never reads its
# FIFO (it failed, or was killed) is given 5 s, then its client is killed.
release() {
    local t w=()
    for t in "$@"; do
        ( timeout 5 sh -c "echo >$HOLD_DIR/$t" 2>/dev/null ||
            kill "${HOLD_PID[$t]:-${BG_SSH[$t]}}" 2>/dev/null ) &
        w+=($!)
    done
    wait "${w[@]}"
    for t in "$@"; do
        wait "${HOLD_PID[$t]:-${BG_SSH[$t]}}" 2>/dev/null
        rm -f "$HOLD_DIR/$t"
    done
    return 0
}

# ------------------------------------------------------------ PAM stacks ---
# pam_with_ns SERVICE... [EXTRA...] : for each SERVICE a su-like stack:
# pam_rootok (sufficient), pam_unix (sandbox_pam_unix), the EXTRA session
# lines (the arguments with spaces), then
#   session $PAM_NS_CONTROL $PAM_NS_MODULE $PAM_NS_ARGS
# (defaults: required, $PAM_NS_SO, "debug"; e.g. PAM_NS_ARGS='' pam_with_ns su).
pam_with_ns() { _pam_ns_stack rootok "${PAM_NS_ARGS-debug}" "$@"; }
# pam_sshd_ns [SERVICE...] : the same without pam_rootok, PAM_NS_ARGS empty
# by default: sshd's stack (the default SERVICE), or login's
pam_sshd_ns() { _pam_ns_stack "" "${PAM_NS_ARGS-}" "${@:-sshd}"; }
_pam_ns_stack() { # ROOTOK NS-ARGS SERVICE... [EXTRA...]
    local rootok=$1 args=$2 s; shift 2
    local -a svcs=()
    while (( $# )) && [[ $1 =~ ^[a-zA-Z0-9_.-]+$ ]]; do svcs+=("$1"); shift; done
    for s in "${svcs[@]}"; do
        sandbox_pam "$s" < <(sandbox_pam_unix "$rootok"; (( $# )) && printf '%s\n' "$@"
            echo "session  ${PAM_NS_CONTROL:-required}   ${PAM_NS_MODULE:-$PAM_NS_SO}${args:+ $args}")
    done
}
# pam_ns_alone SERVICE [ARGS] : a stack of pam_ns ($PAM_NS_MODULE) alone
pam_ns_alone() {
    sandbox_pam "$1" <<<"session  required   ${PAM_NS_MODULE:-$PAM_NS_SO}${2:+ $2}"
}

# --------------------------------------------------------------- network ---
# bridge_up [--mac MAC] [ADDRESS/N...] : the users' bridge nsbr0 as an admin
# makes it (DESIGN: README layout a): up, with 10.213.0.1/16 and ADDRESSes
bridge_up() {
    local -a mac=()
    [[ ${1:-} == --mac ]] && { mac=(address "$2"); shift 2; }
    local a ok=1
    ip link add nsbr0 "${mac[@]}" type bridge || ok=0
    for a in 10.213.0.1/16 "$@"; do ip addr add "$a" dev nsbr0 || ok=0; done
    ip link set nsbr0 up || ok=0
    (( ok )) || sandbox_die "cannot make the bridge nsbr0"
}
# dhcp_server_start : dnsmasq on nsbr0 (after bridge_up: it binds only the
# addresses there when it starts), leases 10.213.1.10-100/16 for 1 h,
# --no-ping; returns once it serves. Log: $DNSMASQ_LOG, pid: DNSMASQ_PID.
DNSMASQ_LOG=$SB/dnsmasq.log
dhcp_server_start() {
    local n
    n=$(grep -c 'DHCP, IP range 10\.213\.1\.10' "$DNSMASQ_LOG" 2>/dev/null)
    /usr/sbin/dnsmasq --conf-file=/dev/null --keep-in-foreground \
        --user=root --group=root --interface=nsbr0 --bind-interfaces \
        --except-interface=lo --port=0 --no-ping \
        --dhcp-range=10.213.1.10,10.213.1.100,255.255.0.0,1h \
        --dhcp-leasefile="$SB/dnsmasq.leases" --pid-file="$SB/dnsmasq.pid" \
        --log-facility="$DNSMASQ_LOG" </dev/null >>"$SB/dnsmasq.out" 2>&1 &
    DNSMASQ_PID=$!
    wait_until 5 _dhcp_started_since "${n:-0}" ||
        sandbox_die "dnsmasq did not start" "$(cat "$SB/dnsmasq.out" "$DNSMASQ_LOG" 2>&1)"
}
_dhcp_started_since() { (( $(grep -c 'DHCP, IP range 10\.213\.1\.10' "$DNSMASQ_LOG" 2>/dev/null) > $1 )); }
# n_release ADDRESS : how many DHCPRELEASEs of ADDRESS dnsmasq logged
n_release() { grep -c "DHCPRELEASE(nsbr0) $1 " "$DNSMASQ_LOG"; }
# pidfile_of NETNS : the DHCP client's pid file in $(state_dir)/netns/NETNS/
# (dhcp.pid in ns.conf(5); matched loosely, so a per-instance name works too)
pidfile_of() { compgen -G "$NETNS_DIR/$1/dhcp*.pid" | head -n 1; }
# client_of NETNS : the pid in it
client_of() { tr -dc '0-9' <"$(pidfile_of "$1")" 2>/dev/null; }
no_udhcpc() { ! pgrep -x udhcpc >/dev/null; }
# banner_start [--peer] [--http] [--netns NS] HOST PORT TEXT : start bin/
# banner.py (in network namespace NS, made with ip netns add) and wait until
# it listens; a setup failure otherwise. Its pid: BANNER_PID.
banner_start() {
    local -a opts=() pre=()
    while [[ $1 == --* ]]; do
        if [[ $1 == --netns ]]; then pre=(ip netns exec "$2"); shift 2
        else opts+=("$1"); shift; fi
    done
    local ready=$SB/tmp/banner-${pre[3]:-host}-$1-$2
    rm -f "$ready"
    "${pre[@]}" "$PY" "$SB/bin/banner.py" "${opts[@]}" "$1" "$2" "$3" "$ready" \
        </dev/null >"$ready.log" 2>&1 &
    BANNER_PID=$!
    wait_file "$ready" || sandbox_die "the test listener $3 on $1:$2 did not start" "$(cat "$ready.log")"
}
# probe HOST PORT [TIMEOUT] : what a TCP connection from here gets (bin/probe.py)
probe() { "$PY" "$SB/bin/probe.py" "$@" 2>&1; }
# probe_cmd HOST PORT [TIMEOUT] : the same as a command line (for su -c, ssh)
probe_cmd() { echo "$PY $SB/bin/probe.py $*"; }
# scp and sftp with the options of SB_SSH (after sandbox_sshd; port: -P)
SCP=(scp -F /dev/null -i "$SB/ssh/id_ed25519" -P 22 -o BatchMode=yes -o StrictHostKeyChecking=no
     -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
SFTP=(sftp -F /dev/null -i "$SB/ssh/id_ed25519" -P 22 -o BatchMode=yes -o StrictHostKeyChecking=no
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
# bg_ssh TAG ARGS... : an ssh client (SB_SSH ARGS) in the background, at most
# 60 s; output in $SB/tmp/ssh-TAG.out, pid in BG_SSH[TAG]; end_ssh TAG ends it
bg_ssh() {
    local tag=$1; shift
    timeout -k 2 60 "${SB_SSH[@]}" "$@" </dev/null >"$SB/tmp/ssh-$tag.out" 2>&1 &
    BG_SSH[$tag]=$!
}
end_ssh() { kill "${BG_SSH[$1]}" 2>/dev/null; wait "${BG_SSH[$1]}" 2>/dev/null; return 0; }
# split_parts TEXT : part[i] = the i-th chunk of TEXT between "---" lines,
# its lines joined by '|'
split_parts() {
    local line cur=""
    part=()
    while IFS= read -r line; do
        if [[ $line == --- ]]; then part+=("$cur"); cur=""; else cur+="$line|"; fi
    done <<<"$1"
    part+=("$cur")
}
# v6_of IPV4 : what DESIGN and ns.conf(5) promise with pool6 fd00:213::/64:
# the pool plus the host part of the IPv4 address within 10.213.0.0/16
v6_of() {
    "$PY" -c 'import ipaddress, sys
v4 = int(ipaddress.IPv4Address(sys.argv[1])) & 0xffff
print(ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd00:213::")) + v4))' "$1"
}
# link_local TEXT : the first link-local address in `ip -o -6 addr` output
link_local() { awk '$3 == "inet6" && / scope link/ { sub(/\/.*/, "", $4); print $4 }' <<<"$1" | head -n 1; }

# -------------------------------------------------------------- accounts ---
# add_users UID NAME[:SHELL]... : sandbox_add_user NAME for each, with uids
# UID, UID+1, ... (and SHELL as the login shell: SHELL_OVERRIDE)
add_users() {
    local uid=$1 u; shift
    for u in "$@"; do
        if [[ $u == *:* ]]; then SHELL_OVERRIDE=${u#*:} sandbox_add_user "${u%%:*}" "$uid"
        else sandbox_add_user "$u" "$uid"; fi
        uid=$((uid + 1))
    done
}
# add_raw NAME UID GID : a passwd/shadow/group entry by hand (sandbox_add_user
# refuses such names and ids), shell ns-shell, password $SB_USER_PASSWORD,
# home /home/NAME (0700, the user's)
add_raw() {
    printf '%s:x:%s:%s::/home/%s:%s\n' "$1" "$2" "$3" "$1" "$SB/bin/ns-shell" >>"$SB/etc/passwd"
    printf '%s:%s:19000:0:99999:7:::\n' "$1" "$SB_PW_HASH" >>"$SB/etc/shadow"
    cut -d: -f3 "$SB/etc/group" | grep -qxF "$3" || printf 'g%s:x:%s:\n' "$3" "$3" >>"$SB/etc/group"
    mkdir -p -m 0700 "/home/$1" && chown "$2:$3" "/home/$1"
}

# ----------------------------------------------------------------- files ---
# mode PATH : "MODE OWNER:GROUP" of PATH
mode() { stat -c '%a %U:%G' "$1" 2>&1; }
# conf_file PATH < TEXT : a root-owned 0644 file (a config nsctl will trust)
conf_file() {
    cat >"$1"
    chown root:root "$1"
    chmod 0644 "$1"
}
# only_warnings TEXT : every line of TEXT is an "nsctl: warning: " line
only_warnings() { ! grep -qv '^nsctl: warning: ' <<<"$1"; }
