#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
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
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2201
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
A=alice@127.0.0.1
K=$SB/ssh/id_ed25519
D=$SB/data                  # the client's files
mkdir -m 0755 "$D"
head -c 300000 /dev/urandom >"$D/blob"
sum() { sha256sum <"$1" | cut -d' ' -f1; }
banner_start 0.0.0.0 8080 GATEWAY-8080

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
    # read once: the process may end right after (a short transfer)
    local a
    a=$(ancestors "$pid")
    check_match "$desc: started by ns-shell (ancestors: $a)" '( |^)ns-shell( |$)' "$a"
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
# caught DESC USER COMM PATTERN : a check that catch finds that process (else
# the process list, and the second sshd's log, are shown); its pid in P
caught() {
    local desc=$1; shift
    if P=$(catch "$@"); then
        sandbox_ok "$desc"
    else
        sandbox_not_ok "$desc" "$(ps -e -o pid,user,args; tail -n 20 "$SB/sshd2.log" 2>/dev/null)"
        return 1
    fi
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
as_ssh alice "$(probe_cmd 10.213.0.1 8080)"
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
caught "scp (SFTP protocol) runs /usr/lib/openssh/sftp-server as alice" alice sftp-server 'sftp-server' &&
    in_login "$P" "the sftp-server of scp"
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
caught "scp -O runs 'scp -t' as alice" alice scp '^scp .*-t' && in_login "$P" "scp -t"
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
# sftp_done TAG WHAT UP DOWN : end sftp session TAG (it put blob as UP and
# got UP back as DOWN): it succeeded, in alice's home, both files intact
sftp_done() {
    local rc=0 out
    sftp_end || rc=$?
    out=$(cat "$SB/tmp/sftp-$1.out")
    check_eq "$2: status 0" 0 "$rc"
    check_match "... pwd is alice's home" 'Remote working directory: /home/alice' "$out"
    check_eq "... put: the file arrives intact" "$(sum "$D/blob")" "$(sum "/home/alice/$3" 2>&1)"
    check_eq "... get: it comes back intact" "$(sum "$D/blob")" "$(sum "$D/$4" 2>&1)"
}

cd "$D" || sandbox_die "cd $D"
sftp_session ext 22
sftp_cmd "put blob sftp-up" "pwd"
caught "sftp (external server) runs sftp-server as alice" alice sftp-server 'sftp-server' &&
    in_login "$P" "the sftp-server of sftp"
sftp_cmd "get sftp-up sftp-down" "ls -l sftp-up"
sftp_done ext "sftp put/get/pwd/ls" sftp-up sftp-down
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
if caught "sftp with internal-sftp: sshd serves it in 'sshd: alice@internal-sftp'" alice sshd 'alice@internal-sftp'; then
    p=$P
    sid=$(sids_of 2201)
    check_eq "internal-sftp: the session has one record" 1 "$(wc -w <<<"$sid")"
    check_eq "internal-sftp: the serving sshd process is in the record's network namespace" \
        "$(rec "$sid" netns_ino)" "$(netns_of_pid "$p" 2>&1)"
    check "... which is not the host's" test "$(netns_of_pid "$p" 2>&1)" != "$HOSTNET"
    # documented (conf/sshd_config.d/ns-shell.conf): no shell, so no ns-shell
    check_eq "... and (documented) no ns-shell: it is in the host's PID namespace" \
        "$HOSTPID" "$(pidns_of_pid "$p" 2>&1)"
fi
sftp_cmd "get isftp-up isftp-down"
sftp_done int "internal-sftp put/get/pwd" isftp-up isftp-down
check "alice's session ends with the internal-sftp connection" wait_until 5 has_n_records_of 2201 0
check "nsu2201 goes" wait_until 30 link_absent nsu2201
cd / || true

sandbox_finish
