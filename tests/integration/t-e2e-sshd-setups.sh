#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: sshd set-ups other than a passwd shell, with a real OpenSSH
# sshd (UsePAM yes, pam_ns.so in the sshd session stack, the shipped
# conf/ns.conf):
#  - "Match Group nsforce / ForceCommand ns-shell" for users whose passwd
#    shell is /bin/bash: their commands, scp and interactive logins run
#    inside ns-shell with the original command; users outside the group get
#    a normal shell;
#  - ControlMaster multiplexing: one connection, one PAM session (one
#    record), every channel in the same network namespace.
# shellcheck disable=SC2001,SC2016,SC2034,SC2119,SC2317  # sed kept for clarity; single-quoted remote commands; shared helpers and variables, called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
SHELL_OVERRIDE=/bin/bash sandbox_add_user fay 2401 nsforce
SHELL_OVERRIDE=/bin/bash sandbox_add_user gus 2402
sandbox_add_user alice 2403
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
mkdir -p "$SB/ssh"
cat >"$SB/ssh/sshd_config.extra" <<EOF
Match Group nsforce
    ForceCommand $SB/bin/ns-shell
EOF
sandbox_sshd
for u in fay gus alice; do sandbox_ssh_authorize "$u"; done
banner_start 127.0.0.1 8081 HOST-LOOPBACK
HOST_COMM1=$(cat /proc/1/comm)

# ------------------------------------------------- ForceCommand ns-shell ---
check_eq "fay's passwd shell is /bin/bash" /bin/bash "$(getent passwd fay | cut -d: -f7)"
as_ssh fay 'echo $0; cat /proc/1/comm'
check_rc "ssh fay 'echo \$0; cat /proc/1/comm' (ForceCommand ns-shell): status 0" 0
check_eq "... runs the original command in ns-shell: \$0 bash, PID 1 ns-shell" \
    $'bash\nns-shell' "$AS_OUT"
as_ssh fay 'readlink /proc/self/ns/net; echo sid=$NS_SHELL_SESSION; hostname; cat /run/ns-shell/sessions/$NS_SHELL_SESSION'
check_match "... in the network namespace of fay's record" 'net:\[([0-9]+)\].*netns_ino=\1' "$AS_OUT"
check_match "... with fay's host name" $'\nfay\n' "$AS_OUT"
out=$(printf 'in\n' | timeout -k 2 30 "${SB_SSH[@]}" fay@127.0.0.1 'cat; echo e >&2; exit 9' 2>"$SB/tmp/err") && rc=0 || rc=$?
check_eq "stdin, stdout, stderr and the exit status pass through (9)" "in e 9" \
    "$out $(cat "$SB/tmp/err") $rc"
as_ssh fay 'printf "%s|" "a  b" "*" '"'"'$HOME'"'"
check_eq "the original command is run verbatim (quotes, globs, \$ kept)" 'a  b|*|$HOME|' "$AS_OUT"
rc=0
out=$(printf 'echo comm1=$(cat /proc/1/comm) arg0=$0; exit 4\n' |
    timeout -k 2 30 "${SB_SSH[@]}" -tt fay@127.0.0.1 2>&1) || rc=$?
check_eq "ssh -tt fay (no command): an interactive login; 'exit 4' gives 4" 4 "$rc"
check_match "... in ns-shell, as a login shell (-bash)" 'comm1=ns-shell arg0=-bash' "$out"
settle 2401
head -c 100000 /dev/urandom >"$SB/tmp/blob"
rc=0; out=$(timeout -k 2 30 "${SCP[@]}" "$SB/tmp/blob" fay@127.0.0.1:blob 2>&1) || rc=$?
check_eq "scp to fay (external sftp-server as the original command): status 0" 0 "$rc${out:+ $out}"
check "... the file arrives intact" cmp "$SB/tmp/blob" /home/fay/blob
rc=0; out=$(timeout -k 2 30 "${SCP[@]}" -O fay@127.0.0.1:blob "$SB/tmp/blob.back" 2>&1) || rc=$?
check_eq "scp -O from fay (scp -f as the original command): status 0" 0 "$rc${out:+ $out}"
check "... the file comes back intact" cmp "$SB/tmp/blob" "$SB/tmp/blob.back"
settle 2401

# What the sample (conf/sshd_config.d/ns-shell.conf) warns about: sshd runs
# fay's own shell as "bash -c ns-shell", and bash reads ~/.bashrc first when
# started by sshd, outside ns-shell's PID namespace.
printf 'echo "$(readlink /proc/self/ns/pid) $0" >>%s/bashrc-pidns 2>/dev/null\n' "$X" >/home/fay/.bashrc
chown fay:fay /home/fay/.bashrc
rm -f "$X/bashrc-pidns"
as_ssh fay 'true'
bashrc=$(cat "$X/bashrc-pidns" 2>/dev/null)
check_match "(documented limitation) fay's ~/.bashrc runs first in the host's PID namespace (bash -c ns-shell)" \
    "^pid:\\[$HOSTPID\\] bash"$'\n' "$bashrc"
check_match "... and again inside ns-shell (the real shell: its stdin is the ssh socket too)" \
    $'\npid:\\[[0-9]+\\] bash$' "$bashrc"
check "... that one in another PID namespace" test "$(sed -n '2s/ .*//p' <<<"$bashrc")" != "pid:[$HOSTPID]"
rm -f /home/fay/.bashrc
settle 2401

# --------------------------------------- users outside the Match group ---
as_ssh gus 'echo $0; cat /proc/1/comm; readlink /proc/self/ns/pid; echo sid=$NS_SHELL_SESSION'
check_rc "ssh gus CMD (not in nsforce): status 0" 0
check_eq "... a normal shell: \$0 bash, PID 1 is the host's, the host's PID namespace" \
    "bash $HOST_COMM1 pid:[$HOSTPID]" "$(head -n 3 <<<"$AS_OUT" | tr '\n' ' ' | sed 's/ $//')"
# pam_ns itself does not know about the Match block: with the shipped
# ns.conf gus (not exempt) still gets a network namespace of his own.
as_ssh gus 'readlink /proc/self/ns/net; ip -br link | cut -d" " -f1 | sed "s/@.*//" | sort | tr "\n" " "'
check_match "... with the shipped ns.conf pam_ns still gives gus a network namespace (lo, eth0)" \
    $'^net:\\[[0-9]+\\]\neth0 lo $' "$AS_OUT"
check "... that is not the host's" test "$(head -n 1 <<<"$AS_OUT")" != "net:[$HOSTNET]"
settle 2402
# To leave him entirely alone, exempt him (or the groups outside nsforce).
{ cat "$NS_REPO/conf/ns.conf"; printf '\n'; } |
    sed 's/^exempt_users *= *{"root"}/exempt_users   = {"root", "gus"}/' | sandbox_conf
check "ns.conf now exempts gus" grep -q '^exempt_users *= {"root", "gus"}' /etc/security/ns.conf
as_ssh gus 'readlink /proc/self/ns/net; readlink /proc/self/ns/pid; echo sid=$NS_SHELL_SESSION'
check_eq "gus exempt: ssh gus CMD runs in the host's network and PID namespaces, no session" \
    "net:[$HOSTNET] pid:[$HOSTPID] sid=" "$(tr '\n' ' ' <<<"$AS_OUT" | sed 's/ $//')"
check_eq "... and reaches the host's loopback" HOST-LOOPBACK \
    "$(as_ssh gus "$(probe_cmd 127.0.0.1 8081)"; echo "$AS_OUT")"
as_ssh fay 'cat /proc/1/comm; echo sid=$NS_SHELL_SESSION'
check_match "... while fay still runs in ns-shell with a session" $'^ns-shell\nsid=[0-9a-f]{8}$' "$AS_OUT"
sandbox_conf <"$NS_REPO/conf/ns.conf"
settle 2401

# ------------------------------------------------------- ControlMaster ---
cp=$SB/tmp/cm-%r@%h:%p
MUX=("${SB_SSH[@]}" -o ControlPath="$cp")
opened() { grep -c 'pam_ns(sshd:session): alice (uid 2403): session' "$SB_SYSLOG"; }
n0=$(opened)
rc=0; out=$(timeout -k 2 30 "${SB_SSH[@]}" -o ControlMaster=yes -o ControlPath="$cp" -fN \
    alice@127.0.0.1 </dev/null 2>&1) || rc=$?
check_eq "ssh -o ControlMaster=yes -o ControlPath=... -fN alice: status 0" 0 "$rc${out:+ $out}"
mpid=$(timeout 10 "${MUX[@]}" -O check alice@127.0.0.1 2>&1 | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
check "ssh -O check: the master runs" test -n "$mpid"
check "the master's connection has one session record" wait_until 10 has_n_records_of 2403 1
sid=$(sids_of 2403)
ino=$(rec "$sid" netns_ino)
mux_pids=()
for i in 1 2 3; do
    timeout -k 2 30 "${MUX[@]}" alice@127.0.0.1 \
        'echo "$(readlink /proc/self/ns/net) $(readlink /proc/self/ns/pid) $NS_SHELL_SESSION $(cat /proc/1/comm)"; sleep 0.5' \
        </dev/null >"$SB/tmp/mux.$i" 2>&1 &
    mux_pids+=($!)
done
wait "${mux_pids[@]}"
for i in 1 2 3; do
    check_match "mux channel $i: in the master's namespace, session $sid, PID 1 ns-shell" \
        "^net:\\[$ino\\] pid:\\[[0-9]+\\] $sid ns-shell$" "$(cat "$SB/tmp/mux.$i")"
done
check_eq "the three channels had a PID namespace each (one ns-shell each)" 3 \
    "$(cut -d' ' -f2 "$SB/tmp/mux".[123] | sort -u | wc -l)"
out=$(printf 'in\n' | timeout -k 2 30 "${MUX[@]}" alice@127.0.0.1 'cat; exit 6' 2>&1) && rc=0 || rc=$?
check_eq "a mux channel passes stdin and the exit status (6)" "in 6" "$out $rc"
rc=0; out=$(printf 'echo tty=$(tty); exit 5\n' | timeout -k 2 30 "${MUX[@]}" -tt alice@127.0.0.1 2>&1) || rc=$?
check_eq "a mux channel with a pty: 'exit 5' gives 5" 5 "$rc"
rc=0; out=$(timeout -k 2 30 "${MUX[@]}" -O forward -L 9200:127.0.0.1:8081 alice@127.0.0.1 2>&1) || rc=$?
check_eq "ssh -O forward -L 9200:127.0.0.1:8081 through the master" 0 "$rc${out:+ $out}"
check_match "... reaches alice's loopback (nothing there), not the host's HOST-LOOPBACK" \
    '^(|probe 127\.0\.0\.1:9200 failed.*)$' "$(probe 127.0.0.1 9200 2)"
check_eq "after all these channels there is still one record" "$sid" "$(sids_of 2403)"
check_eq "... and pam_ns opened one session for them all" 1 $(( $(opened) - n0 ))
timeout 10 "${MUX[@]}" -O exit alice@127.0.0.1 >/dev/null 2>&1
check "ssh -O exit: the master ends" wait_until 20 bash -c "! kill -0 $mpid"
check "... its session record goes" wait_until 20 has_n_records_of 2403 0
check "... and nsu2403 with it" wait_until 30 link_absent nsu2403

sandbox_finish
