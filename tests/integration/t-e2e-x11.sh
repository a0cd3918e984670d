#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# X11 forwarding over real OpenSSH (issue #15, item 5): with the shipped
# ns.conf and X11Forwarding yes, `ssh -X` to a login in its own network and
# UTS namespaces reaches the client's X server (Xvfb here): sshd can bind
# the display socket on the loopback of the user's namespace (lo keeps ::1
# while eth0 has IPv6 off), and ns-shell files sshd's cookie under the
# login's own host name too, where X clients in the login look it up.
# shellcheck disable=SC2016,SC2034,SC2119  # remote commands in single quotes; shared helpers
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
for t in Xvfb xauth xdpyinfo; do
    command -v "$t" >/dev/null || sandbox_die "$t is not installed (make deps: xvfb xauth x11-utils)"
done
sandbox_install_ns_shell
sandbox_add_user alice 2701
sandbox_conf <"$NS_REPO/conf/ns.conf"
pam_sshd_ns
printf 'X11Forwarding yes\nX11UseLocalhost yes\nXAuthLocation /usr/bin/xauth\n' >"$SB/ssh/sshd_config.extra" 2>/dev/null ||
    { mkdir -p "$SB/ssh" && printf 'X11Forwarding yes\nX11UseLocalhost yes\nXAuthLocation /usr/bin/xauth\n' >"$SB/ssh/sshd_config.extra"; }
sandbox_sshd
sandbox_ssh_authorize alice

# The client's X server: Xvfb on display :7 of this (client) side.
Xvfb :7 -nolisten tcp >"$SB/tmp/xvfb.log" 2>&1 &
XVFB=$!
check "Xvfb runs on :7" wait_until 10 test -S /tmp/.X11-unix/X7
check "control: DISPLAY=:7 xdpyinfo works on the client side" bash -c 'DISPLAY=:7 xdpyinfo >/dev/null'

out=$(DISPLAY=:7 timeout -k 2 30 "${SB_SSH[@]}" -X alice@127.0.0.1 \
    'echo "display=$DISPLAY host=$(hostname)"; xdpyinfo 2>&1 | head -n 3; echo rc=$?' 2>"$SB/tmp/x.err")
check_match "ssh -X: the login gets a forwarded DISPLAY (localhost:N)" 'display=localhost:[0-9]+\.0' "$out"
check_match "... in a login with a host name of its own" 'host=alice' "$out"
check_match "... and xdpyinfo in the login reaches the client's Xvfb through it" 'name of display: +localhost:[0-9]+\.0' "$out"
check_fail "... sshd did not fail to make the display socket" grep -q 'Failed to allocate internet-domain X11 display socket' "$SB/tmp/x.err"
xa=$(su alice -s /bin/sh -c 'xauth -f /home/alice/.Xauthority list' 2>/dev/null)
check_match "the cookie is filed under the login's name too" 'alice/unix:[0-9]+ +MIT-MAGIC-COOKIE-1' "$xa"
as_ssh alice 'ip -6 -o addr show dev lo; ip -6 -o addr show dev eth0 | wc -l'
check_match "inside: lo keeps ::1" 'inet6 ::1/128' "$AS_OUT"
check_eq "... while eth0 has no IPv6 address (no pool6)" 0 "$(tail -n 1 <<<"$AS_OUT")"
kill "$XVFB" 2>/dev/null

sandbox_finish
