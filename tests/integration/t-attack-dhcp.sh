#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The DHCP client of a tenant's namespace (issue #11, hole 3), against a
# real dnsmasq on the sandbox host's bridge:
#  - forged local DHCP replies: alice, logged in with address = dhcp, sends
#    a forged DHCPACK to 255.255.255.255:68, to her eth0 address:68 and to
#    127.0.0.1:68, and a DHCPRELEASE of bob's lease to the server; a
#    listener that root runs on udp 68 in her namespace hears none of it
#    (but hears root's own broadcast, and alice's datagrams to port 6868:
#    controls), pam_ns's table counts the drops, dnsmasq logs no release,
#    and her address and route stay;
#  - `su - bob` run by another user (carol, not namespaced) with a hostile
#    process state (nice 19, SCHED_IDLE, one CPU, tiny rlimits, ignored and
#    blocked signals, oom_score_adj 900) works, and bob's client is a clean
#    root process: uid/gid 0 0 0 0, no groups, default limits, nice 0,
#    SCHED_OTHER, every CPU, no blocked or extra ignored signals,
#    oom_score_adj 0; neither bob nor carol can signal or stop it;
#  - registration: a login killed after forking the client but before
#    registering it, or after registering but before releasing it, leaves
#    no client running; a client orphaned by a login killed after the lease
#    (no session record) is stopped, with a release, by the user's next
#    login;
#  - conf/udhcpc.script refuses malformed values before touching anything
#    (in a network namespace of the test's own) and logs why.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted login commands; helpers via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1   # never run on without the sandbox
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

FAULT_SO=$NS_BUILD/fault/pam_ns.so
NFT=$(command -v nft)
FORGE="$PY -I $SB/bin/dhcpforge.py"

as_carol() { setpriv --reuid=carol --regid=carol --init-groups "$@"; }
as_bob() { setpriv --reuid=bob --regid=bob --init-groups "$@"; }

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol
pam_with_ns su su-l
sandbox_conf <<EOF
exempt_users = {"root", "carol"}
dhcp_script  = "$NS_REPO/conf/udhcpc.script"
default { address = "dhcp" }
EOF
[[ -n $NFT ]] || sandbox_die "nft (nftables) is not installed"
bridge_up
dhcp_server_start

# =========================================== forged local DHCP replies ===
hold B bob 'ip -o link show dev eth0; ip -br -4 addr show dev eth0; touch '"$X"'/b-ready'
wait_until 30 test -e "$X/b-ready" || sandbox_die "bob's DHCP login did not come up" "$(cat "$SB/tmp/hold-B.out")"
hold A alice 'ip -o link show dev eth0; ip -br -4 addr show dev eth0; ip -4 route show default; touch '"$X"'/a-ready'
wait_until 30 test -e "$X/a-ready" || sandbox_die "alice's DHCP login did not come up" "$(cat "$SB/tmp/hold-A.out")"
aout=$(cat "$SB/tmp/hold-A.out") bout=$(cat "$SB/tmp/hold-B.out")
a4=$(sed -n 's/^eth0[^ ]* *UP *\([0-9.]*\)\/16.*/\1/p' <<<"$aout")
b4=$(sed -n 's/^eth0[^ ]* *UP *\([0-9.]*\)\/16.*/\1/p' <<<"$bout")
amac=$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' <<<"$aout")
bmac=$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' <<<"$bout")
check "alice and bob are logged in with DHCP addresses ($a4 $amac, $b4 $bmac)" \
    test -n "$a4" -a -n "$b4" -a -n "$amac" -a -n "$bmac"
apid=$(client_of ns-alice)
check_eq "alice's client runs" "udhcpc" "$(cat "/proc/${apid:-0}/comm" 2>&1)"

# root's listeners inside alice's namespace: udp 68 (the client's port) and
# 6868 (control)
for p in 68 6868; do
    "$NSCTL" exec alice -- "$PY" -I "$SB/bin/dhcpforge.py" listen "$p" "$X/l$p.ready" "$X/l$p.out" \
        </dev/null >"$X/l$p.log" 2>&1 &
    wait_until 10 test -e "$X/l$p.ready" || sandbox_die "listener on $p did not start" "$(cat "$X/l$p.log")"
done
n_rel_b=$(n_release "$b4")
as_user alice "$FORGE ack $amac 10.213.1.250 10.213.0.66 255.255.255.255:68 $a4:68 127.0.0.1:68 \
    255.255.255.255:6868 $a4:6868 127.0.0.1:6868; $FORGE release $bmac $b4 10.213.0.1"
check_login "alice ran the forger in her login"
forged=$AS_OUT
printf '# alice: %s\n' "$(tr '\n' ' ' <<<"$forged")"
check_match "her sends to udp 68 fail at once (EPERM: dropped on output)" \
    'ack 255\.255\.255\.255:68 EPERM.*ack [0-9.]+:68 EPERM.*ack 127\.0\.0\.1:68 EPERM' "$(tr '\n' ' ' <<<"$forged")"
check_match "... and so does the forged release to the server's udp 67" 'release EPERM' "$forged"
# root's own broadcast to 68 inside her namespace: the listener works
"$NSCTL" exec alice -- "$PY" -I "$SB/bin/dhcpforge.py" ack "$amac" 10.213.1.251 10.213.0.66 255.255.255.255:68 >/dev/null
wait_until 20 test -s "$X/l68.out"
wait_until 20 bash -c "[ \$(wc -l <'$X/l6868.out') -ge 3 ]"
sleep 0.3
check_eq "control: alice's three datagrams to port 6868 arrive" 3 "$(wc -l <"$X/l6868.out")"
check_eq "control: root's broadcast to udp 68 inside her namespace arrives" 1 "$(wc -l <"$X/l68.out" 2>/dev/null)"
check_eq "nothing alice sent reached udp 68 (broadcast, her eth0 address, loopback)" "" \
    "$(grep -v "from $a4\$" "$X/l68.out"; [[ $(wc -l <"$X/l68.out") -le 1 ]] || echo more)"
check_eq "dnsmasq logged no DHCPRELEASE of bob's lease" "$n_rel_b" "$(n_release "$b4")"
drops=$("$NSCTL" exec alice -- "$NFT" list chain inet ns_shell out 2>&1 |
    sed -n 's/.*skuid != 0 udp dport 67-68 counter packets \([0-9]*\) .*/\1/p')
check_eq "pam_ns's table counted her 4 datagrams to udp 67/68" 4 "$drops"
as_user alice 'ip -br -4 addr show dev eth0; ip -4 route show default'
check_match "alice's address is still her lease $a4" "UP +$a4/16" "$AS_OUT"
check_match "... and her default route still goes via 10.213.0.1" 'default via 10\.213\.0\.1 dev eth0' "$AS_OUT"
check_eq "... and her client is still the same process" "$apid" "$(client_of ns-alice)"
release B

# ==================================== su - bob by an unprivileged user ===
rm -f "$X/c-ready"
: >"$X/hold-C"
chmod 0666 "$X/hold-C"
printf '%s\n' "$SB_USER_PASSWORD" | as_carol "$PY" -I "$SB/bin/hostile.py" \
    su - bob -c "touch $X/c-ready; while [ -e $X/hold-C ]; do sleep 0.05; done" \
    > >(cat >"$X/c.out") 2>&1 &   # a pipe: RLIMIT_FSIZE 1 would cut a file short
CPID=$!
check "carol's 'su - bob' (password on stdin, hostile process state) logs bob in" \
    wait_until 30 test -e "$X/c-ready"
[[ -e $X/c-ready ]] || printf '#   %s\n' "$(cat "$X/c.out")"
bpid=$(client_of ns-bob)
check_eq "bob's client runs" "udhcpc" "$(cat "/proc/${bpid:-0}/comm" 2>&1)"
check_eq "... inside bob's namespace" "$(stat -L -c %i "/proc/${bpid:-0}/ns/net" 2>&1)" \
    "$(stat -L -c %i "/proc/$(pgrep -U carol -x su | head -n 1)/ns/net" 2>&1)"
check_eq "... with real, effective, saved and fs uid 0" "0 0 0 0" "$(status_of "$bpid" Uid)"
check_eq "... and gid 0" "0 0 0 0" "$(status_of "$bpid" Gid)"
check_eq "... and no supplementary groups" "" "$(status_of "$bpid" Groups)"
check_eq "... file size limit unlimited" "unlimited unlimited" "$(limit_of "$bpid" "Max file size")"
check_eq "... open files 1024:4096" "1024 4096" "$(limit_of "$bpid" "Max open files")"
check_eq "... CPU time unlimited" "unlimited unlimited" "$(limit_of "$bpid" "Max cpu time")"
check_eq "... stack 8 MiB" "8388608" "$(limit_of "$bpid" "Max stack size" | awk '{ print $1 }')"
check_eq "... nice 0" 0 "$(stat_field "$bpid" 19)"
check_eq "... SCHED_OTHER (policy 0)" 0 "$(stat_field "$bpid" 41)"
check_eq "... on every CPU PID 1 may use" "$(status_of 1 Cpus_allowed_list)" "$(status_of "$bpid" Cpus_allowed_list)"
check_eq "... no blocked signal" 0000000000000000 "$(status_of "$bpid" SigBlk)"
check_eq "... the same ignored signals as a client started by root ($apid)" \
    "$(status_of "$apid" SigIgn)" "$(status_of "$bpid" SigIgn)"
check_eq "... oom_score_adj 0" 0 "$(cat "/proc/$bpid/oom_score_adj" 2>&1)"
for who in bob carol; do
    for sig in TERM STOP KILL; do
        out=$("as_$who" kill -s "$sig" "$bpid" 2>&1)
        check_match "$who cannot send SIG$sig to the client" 'Operation not permitted' "$out"
    done
done
check_eq "... which is still running, not stopped" "S" "$(stat_field "$bpid" 3 | tr R S)"
n_rel=$(grep -c DHCPRELEASE "$DNSMASQ_LOG")
rm -f "$X/hold-C"
rc=0
wait "$CPID" || rc=$?
check_eq "bob's login (started by carol) ended cleanly (exit 0; output: $(tr -d '\n' <"$X/c.out"))" 0 "$rc"
check "... and his client ended, releasing the lease" \
    wait_until 20 bash -c "! [ -d /proc/$bpid ] && [ \$(grep -c DHCPRELEASE '$DNSMASQ_LOG') -gt $n_rel ]"
release A
wait_until 20 no_udhcpc

# ========================================== registration of the client ===
if [[ -f $FAULT_SO ]]; then
    PAM_NS_MODULE=$FAULT_SO PAM_NS_ARGS='' pam_with_ns svcfault
    for p in dhcp-forked dhcp-registered; do
        run env NS_FAULT_POINT="$p" pamtester svcfault bob open_session
        check_eq "fault $p: the login is killed (SIGKILL)" 137 "$RC"
        # The namespace (its veth) goes with its last process: after that
        # nothing of the killed login is left that could start a client.
        wait_until 30 link_absent nsu2002
        check "fault $p: no DHCP client runs afterwards (the child never ran udhcpc)" no_udhcpc
        check_eq "fault $p: dnsmasq saw no DHCPDISCOVER from it" 0 \
            "$(grep -c "DHCPDISCOVER(nsbr0) .*$bmac" <(sed -n '/FAULT-'"$p"'/,$p' "$DNSMASQ_LOG"))"
        printf 'FAULT-%s\n' "$p" >>"$DNSMASQ_LOG"
    done
    as_user bob 'ip -br -4 addr show dev eth0'
    check_match "after both, bob's next login works" "UP +10\.213\.1\." "$AS_OUT"
    wait_until 20 no_udhcpc
    settle 2002
    # A login killed after its client got the lease, before its session
    # record: the client is an orphan that keeps the namespace alive.
    run env NS_FAULT_POINT=inner pamtester svcfault bob open_session
    rc=$RC
    if [[ $rc == 137 ]]; then
        orphan=$(pgrep -x udhcpc | head -n 1)
        check_eq "fault inner: the client of the killed login (no record) runs on" "udhcpc" \
            "$(cat "/proc/${orphan:-0}/comm" 2>&1)"
        oaddr=$(tail -n 50 "$DNSMASQ_LOG" | sed -n "s/.*DHCPACK(nsbr0) \([0-9.]*\) $bmac.*/\1/p" | tail -n 1)
        n_rel=$(n_release "${oaddr:-none}")
        as_user bob 'ip -br -4 addr show dev eth0'
        check_match "... bob's next login works" "UP +10\.213\.1\." "$AS_OUT"
        check "... and stopped the orphan" wait_until 20 bash -c "! [ -d /proc/${orphan:-0} ]"
        check "... which released its lease ($oaddr)" \
            wait_until 20 bash -c "[ \$(grep -c 'DHCPRELEASE(nsbr0) ${oaddr:-none} ' '$DNSMASQ_LOG') -gt $n_rel ]"
        check "... and no client is left after that login" wait_until 20 no_udhcpc
    else
        printf '# fault point "inner" not in this build (pamtester exit %s): orphan case skipped\n' "$rc"
    fi
else
    printf '# no %s (make build/fault/pam_ns.so): registration faults skipped\n' "$FAULT_SO"
fi

# ====================================== the script checks what it applies ===
cat >"$SB/bin/script-probe.sh" <<'EOF'
# script-probe.sh SCRIPT: in a network namespace of its own with a veth
# "eth0", run SCRIPT bound with each case; print "NAME rc ADDRESS ROUTE".
S=$1
ip link add eth0 type veth peer name peer0 && ip link set peer0 up && ip link set eth0 up || exit 1
run() {
    name=$1; shift
    ip -4 addr flush dev eth0
    ip -4 route flush default 2>/dev/null
    env -i "$@" sh "$S" bound >/dev/null 2>&1
    rc=$?
    echo "$name $rc $(ip -4 -o addr show dev eth0 | awk '{ print $4 }') $(ip -4 route show default | awk '{ print $3 }')"
}
run good interface=eth0 ip=10.213.1.10 subnet=255.255.0.0 mask=16 router=10.213.0.1 dns=10.213.0.1 lease=3600
run iface interface=lo ip=10.213.1.10 mask=16
run ip interface=eth0 'ip=10.213.1.10 dev lo' mask=16
run ipbad interface=eth0 ip=10.213.1.300 mask=16
run net interface=eth0 ip=10.213.0.0 mask=16
run subnet interface=eth0 ip=10.213.1.10 subnet=255.0.255.0
run mask interface=eth0 ip=10.213.1.10 mask=40
run router interface=eth0 ip=10.213.1.10 mask=16 'router=10.213.0.1;reboot'
run dns interface=eth0 ip=10.213.1.10 mask=16 'dns=$(id)'
run lease interface=eth0 ip=10.213.1.10 mask=16 lease=1h
EOF
probe=$(unshare --net sh "$SB/bin/script-probe.sh" "$NS_REPO/conf/udhcpc.script" 2>&1)
check_match "the script applies a good lease (ip, mask, router)" '(^|'$'\n'')good 0 10\.213\.1\.10/16 10\.213\.0\.1' "$probe"
for c in iface ip ipbad net subnet mask router dns lease; do
    check_match "the script refuses a bad $c and applies nothing" '(^|'$'\n'')'"$c"' 1  ($|'$'\n'')' "$probe"
done
check "... and says why in syslog (ns-shell-dhcp: refused bound: router ...)" \
    sandbox_log_wait "ns-shell-dhcp: refused bound: router .10\.213\.0\.1.reboot. is not" 10

sandbox_finish
