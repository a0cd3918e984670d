#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A private /tmp per *user* (issue #15, item 3): with private_tmp = true all
# of a user's logins, the lingering ones included, share one tmpfs as /tmp;
# it lives while any of her logins does. tmux attaches across logins over
# real OpenSSH; another user's /tmp and the host's stay invisible; a symlink
# the user plants where sshd's agent directory is bound cannot move that
# mount; after nsctl terminate (or with linger = false, after logout) the
# next login starts with an empty /tmp.
# shellcheck disable=SC2016,SC2034  # remote commands in single quotes
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
sandbox_install_ns_shell
sandbox_add_user alice 2611
sandbox_add_user bob 2612
sed 's/^    private_tmp = false$/    private_tmp = true/' "$NS_REPO/conf/ns.conf" | sandbox_conf
check "the config says private_tmp = true, linger = true" \
    bash -c "grep -q '^    private_tmp = true\$' /etc/security/ns.conf && grep -q '^    linger = true\$' /etc/security/ns.conf"
pam_sshd_ns
sandbox_sshd
sandbox_ssh_authorize alice
sandbox_ssh_authorize bob
command -v tmux >/dev/null || sandbox_die "tmux is not installed (make deps)"

echo host-only >/tmp/ns-test-host-marker.$$
trap 'rm -f /tmp/ns-test-host-marker.$$' EXIT

# ------------------------------------------- linger = true, private_tmp ---
as_ssh alice 'echo kept >/tmp/alice-note; tmux new-session -d -s work "sleep 620";
stat -c %d /tmp; ls /tmp/ns-test-host-marker.* 2>&1 | head -n 1'
check_eq "alice's first login: exit 0" 0 "$AS_RC"
tmpdev1=$(sed -n 1p <<<"$AS_OUT")
check_match "... her /tmp is her own: the host's files are not in it" 'No such file' "$(sed -n 2p <<<"$AS_OUT")"
check "... and her file is not in the host's /tmp" test ! -e /tmp/alice-note
check "after logout her tmux server lingers" wait_until 10 pgrep -u alice -f 'tmux new-session'

as_ssh alice 'cat /tmp/alice-note; stat -c %d /tmp; tmux has-session -t work && echo HAS-WORK'
check_eq "alice's next login reads the file her first login left in /tmp" "kept" "$(sed -n 1p <<<"$AS_OUT")"
check_eq "... the same /tmp (device)" "$tmpdev1" "$(sed -n 2p <<<"$AS_OUT")"
check_eq "... and tmux attaches to the lingering session (socket in /tmp/tmux-2611)" "HAS-WORK" \
    "$(sed -n 3p <<<"$AS_OUT")"
as_ssh alice 'stat -c "%a %U" /tmp'
check_eq "... /tmp is mode 1777, root's" "1777 root" "$AS_OUT"

as_ssh bob 'ls -A /tmp; ls /tmp/tmux-2611 2>&1; stat -c %d /tmp'
check "bob's /tmp has none of alice's files" bash -c '! grep -q "alice-note" <<<"$1"' _ "$AS_OUT"
check_match "... and no tmux-2611 directory" 'No such file' "$AS_OUT"
check "... and is another tmpfs" test "$(tail -n 1 <<<"$AS_OUT")" != "$tmpdev1"

# sshd's agent directory is bound into the user's /tmp by name; alice plants
# a symlink under that name from her lingering login: the bind must land
# on a directory of hers, never follow the link onto /etc.
agent=/tmp/ssh-AbCdEfGhIj
mkdir -m 0700 "$agent" && chown alice: "$agent" && echo agent-socket >"$agent/agent.1" &&
    chown alice: "$agent/agent.1"
trap 'rm -f /tmp/ns-test-host-marker.$$; rm -rf /tmp/ssh-AbCdEfGhIj' EXIT
tpid=$(pgrep -u alice -f 'tmux new-session' | head -n 1)
check "alice plants /tmp/ssh-AbCdEfGhIj -> /etc in her shared /tmp" \
    nsenter -t "$tpid" -m -S 2611 -G 2611 ln -s /etc /tmp/ssh-AbCdEfGhIj
as_ssh alice 'cat /etc/hostname >/dev/null && test -r /etc/passwd && echo ETC-OK; readlink /tmp/ssh-AbCdEfGhIj'
check_eq "... the next login's /etc is untouched, the symlink stays a symlink" $'ETC-OK\n/etc' "$AS_OUT"
nsenter -t "$tpid" -m -S 2611 -G 2611 rm -f /tmp/ssh-AbCdEfGhIj
as_ssh alice 'cat /tmp/ssh-AbCdEfGhIj/agent.1; stat -c %U /tmp/ssh-AbCdEfGhIj'
check_eq "with no symlink there, sshd's agent directory is bound into her /tmp" $'agent-socket\nalice' "$AS_OUT"
rm -rf "$agent"

"$NSCTL" terminate alice >/dev/null
check "nsctl terminate alice: nothing of hers is left" wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
as_ssh alice 'ls -A /tmp'
check_eq "... and her /tmp went with it: the next login's is empty" "0 " "$AS_RC $AS_OUT"

# ------------------------------------------ linger = false, private_tmp ---
sed 's/^    private_tmp = false$/    private_tmp = true/; s/^    linger = true$/    linger = false/' \
    "$NS_REPO/conf/ns.conf" | sandbox_conf
X=$SB/x
mkdir -p -m 1777 "$X"
: >"$X/hold"
timeout -k 2 60 "${SB_SSH[@]}" alice@127.0.0.1 "echo shared >/tmp/alice-2; while [ -e $X/hold ]; do sleep 0.05; done" \
    </dev/null >/dev/null 2>&1 &
hpid=$!
check "linger = false: alice's first login is open" wait_until 10 has_n_records_of 2611 1
check "... and has written /tmp/alice-2" wait_until 10 bash -c \
    'p=$(pgrep -u alice -x sleep | head -n 1); [[ -n $p ]] && [[ -e /proc/$p/root/tmp/alice-2 ]]'
as_ssh alice 'cat /tmp/alice-2'
check_eq "... a second, concurrent login shares her /tmp" "shared" "$AS_OUT"
rm -f "$X/hold"
wait "$hpid" 2>/dev/null
check "... after both logouts nothing of alice is left" wait_until 20 bash -c '[[ -z $(pgrep -u alice) ]]'
as_ssh alice 'ls -A /tmp'
check_eq "... and her next login starts with an empty /tmp" "" "$AS_OUT"

sandbox_finish
