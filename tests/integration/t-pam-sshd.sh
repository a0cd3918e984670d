#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pam_ns.so in the session stack of a real sshd (OpenSSH, UsePAM yes, keys):
# the remote command, the port forwards (-L, -R) and the monitor all live in
# the user's network namespace; exit codes pass through ns-shell; the PAM
# environment (~/.pam_environment, AcceptEnv) cannot choose the session.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted remote commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob
: | sandbox_conf
pam_sshd_ns sshd 'session  required   pam_env.so user_readenv=1 user_envfile=.pam_environment'
mkdir -p "$SB/ssh"
printf 'AcceptEnv NS_SHELL_SESSION LANG\n' >"$SB/ssh/sshd_config.extra"
sandbox_sshd
sandbox_ssh_authorize alice
sandbox_ssh_authorize bob
printf 'NS_SHELL_SESSION DEFAULT=deadbeef\n' >/home/alice/.pam_environment
chown alice:alice /home/alice/.pam_environment
banner_start 0.0.0.0 8080 GATEWAY-8080
banner_start 127.0.0.1 8081 HOST-LOOPBACK

# ------------------------------------------------ ssh alice CMD ---
as_ssh alice "ip -br addr; readlink /proc/self/ns/net; echo sid=\$NS_SHELL_SESSION
cat /run/ns-shell/sessions/\$NS_SHELL_SESSION; $(probe_cmd 10.213.0.1 8080); $(probe_cmd 127.0.0.1 8081 1) || true"
check_login "ssh alice@127.0.0.1 runs a command through ns-shell with pam_ns in sshd's stack"
out=$AS_OUT
addr=$(lease_of alice)
check_match "ip -br addr: eth0 holds alice's address" "(^|
)eth0(@[a-z0-9]+)? +UP +$addr/16( |$)" "$out"
check_match "ip -br addr: lo is there too" '(^|
)lo +UNKNOWN +127\.0\.0\.1/8' "$out"
check_eq "ip -br addr: nothing but lo and eth0" 2 "$(grep -cE '^(lo|eth0)' <<<"$out")"
check_match "the remote command runs in the namespace of its session record" \
    'net:\[([0-9]+)\].*netns_ino=\1' "$out"
check "... which is not the host's" test "$(kv netns_ino "$out")" != "$HOSTNET"
check_match "NS_SHELL_SESSION is a session id" '^[0-9a-f]{8}$' "$(kv sid "$out")"
check "... not the one ~/.pam_environment set (pam_env runs before pam_ns)" \
    test "$(kv sid "$out")" != deadbeef
check_eq "the record is alice's" "alice 2001 nsu2001" \
    "$(kv user "$out") $(kv uid "$out") $(kv veth "$out")"
check_match "the remote command reaches the gateway" '(^|
)GATEWAY-8080(
|$)' "$out"
check_match "the remote command cannot reach the host's loopback listener" \
    'probe 127\.0\.0\.1:8081 failed' "$out"
check "pam_ns logged the sshd session" \
    sandbox_log_wait 'pam_ns\(sshd:session\): alice \(uid 2001\): session [0-9a-f]{8} in network namespace ns-alice$'
check "no record is left after the connection ends" wait_until 20 has_n_records_of 2001 0
check "nsu2001 disappears" wait_until 30 link_absent nsu2001

as_ssh alice 'exit 3'
check_eq "the exit status of ssh alice 'exit 3' is 3" 3 "$AS_RC"
settle 2001
AS_OUT=$(printf 'echo tty=$(tty)\nexit 7\n' |
    timeout -k 2 30 "${SB_SSH[@]}" -tt alice@127.0.0.1 2>&1) && AS_RC=0 || AS_RC=$?
check_eq "with a pty (ssh -tt), 'exit 7' gives 7" 7 "$AS_RC"
check_match "... and the shell had a pty" 'tty=/dev/pts/[0-9]+' "$AS_OUT"
settle 2001
AS_OUT=$(timeout -k 2 30 "${SB_SSH[@]}" -o SetEnv=NS_SHELL_SESSION=deadbeef alice@127.0.0.1 \
    'echo sid=$NS_SHELL_SESSION; readlink /proc/self/ns/net; cat /run/ns-shell/sessions/$NS_SHELL_SESSION' 2>&1)
check "NS_SHELL_SESSION sent by the client (AcceptEnv) is not used" \
    test "$(kv sid "$AS_OUT")" != deadbeef
check_match "... the login's is its own record" 'net:\[([0-9]+)\].*netns_ino=\1' "$AS_OUT"
settle 2001

# -------------------------------------------- who holds the namespace ---
bg_ssh s1 alice@127.0.0.1 "$(hold_cmd s1)"
check "a held ssh login of alice has a record" wait_until 10 has_n_records_of 2001 1
sid=$(sids_of 2001)
owner=$(rec "$sid" owner_pid)
check_eq "the record's owner is an sshd process (the privileged monitor)" sshd \
    "$(cat "/proc/$owner/comm" 2>&1)"
check_eq "... running as root" 0 "$(stat -c %u "/proc/$owner" 2>&1)"
check_eq "... in the recorded namespace" "$(rec "$sid" netns_ino)" "$(netns_of_pid "$owner")"
child=$(pgrep -u alice -x sshd | head -n 1)
check_eq "sshd's unprivileged child (alice) is in the same namespace" \
    "$(rec "$sid" netns_ino)" "$(netns_of_pid "${child:-0}" 2>&1)"
check_eq "the listening sshd stays in the host's namespace" "$HOSTNET" "$(netns_of_pid "$SB_SSHD_PID")"
check_match "the host sees nsu2001 on nsbr0, isolated" 'isolated on' \
    "$(bridge -d link show dev nsu2001 2>&1)"

# ------------------------------------------------- -L and -R forwards ---
rm -f /tmp/ready-al
bg_ssh L alice@127.0.0.1 "$(hold_cmd L "$PY $SB/bin/banner.py 127.0.0.1 8081 ALICE-LOOPBACK /tmp/ready-al &")"
check "alice runs a listener on 127.0.0.1:8081 of her own namespace" \
    wait_until 10 test -e /tmp/ready-al
bg_ssh fwd -N -L 9000:127.0.0.1:8081 -R 9001:127.0.0.1:8080 alice@127.0.0.1
check "the -L/-R connection's session joins alice's namespace" \
    wait_until 10 has_n_records_of 2001 3
check "the client's -L listener on the host's 127.0.0.1:9000 is up" \
    wait_until 10 probe 127.0.0.1 9000
check_eq "ssh -L 9000:127.0.0.1:8081 reaches alice's loopback listener" "ALICE-LOOPBACK" \
    "$(probe 127.0.0.1 9000)"
check_eq "... while the host's own 127.0.0.1:8081 is a different listener" "HOST-LOOPBACK" \
    "$(probe 127.0.0.1 8081)"
check_match "ssh -R 9001: nothing listens on the host's 127.0.0.1:9001" 'failed' \
    "$(probe 127.0.0.1 9001 1)"
as_ssh alice "$(probe_cmd 127.0.0.1 9001)"
check_eq "... the -R listener is on alice's loopback (and leads back to the client)" \
    "GATEWAY-8080" "$AS_OUT"
end_ssh fwd
release L s1
check "after every ssh connection ended no record of alice is left" \
    wait_until 20 bash -c "[[ -z \$(grep -lx uid=2001 $SESS/* 2>/dev/null) ]]"
check "nsu2001 disappears after that" wait_until 30 link_absent nsu2001

# ------------------------------------- one PAM session per connection ---
ctl=$SB/tmp/ctl-alice
bg_ssh M -M -S "$ctl" -N alice@127.0.0.1
wait_until 10 test -S "$ctl"
wait_until 10 has_n_records_of 2001 1
o1=$(timeout 20 "${SB_SSH[@]}" -S "$ctl" alice@127.0.0.1 'readlink /proc/self/ns/net' 2>&1)
o2=$(timeout 20 "${SB_SSH[@]}" -S "$ctl" alice@127.0.0.1 'readlink /proc/self/ns/net' 2>&1)
check_eq "two channels over one ControlMaster connection share one namespace" "$o1" "$o2"
check_eq "... which is the record's" "net:[$(rec "$(sids_of 2001)" netns_ino)]" "$o1"
check_eq "... and they made no records of their own" 1 "$(sids_of 2001 | wc -l)"
timeout 10 "${SB_SSH[@]}" -S "$ctl" -O exit alice@127.0.0.1 >/dev/null 2>&1
wait "${BG_SSH[M]}" 2>/dev/null
check "the master's exit ends its session" wait_until 20 bash -c "[[ -z \$(grep -lx uid=2001 $SESS/* 2>/dev/null) ]]"

# ------------------------------------------------- two users over ssh ---
settle 2001
as_ssh bob "$(probe_cmd 10.213.0.1 8080); ip -br -4 addr show dev eth0"
check_match "bob over ssh gets his own address and reaches the gateway" \
    "GATEWAY-8080.*UP +$(lease_of bob)/16" "$AS_OUT"
check "alice's and bob's leases differ" test "$(lease_of alice)" != "$(lease_of bob)"
check "nothing is left open at the end (no session record)" wait_until 20 no_records

sandbox_finish
