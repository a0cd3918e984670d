#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The host record $(state_dir)/host must never be written from inside a
# login (issue #11 hole 1, found while writing t-attack-nested.sh). Were it
# written by "the first pam_ns of a boot" whatever its namespaces, a first
# pam_ns inside a user's own namespaces would record hers as the host's: her
# nested login let through and every host login refused as "nested". ns-shell
# therefore notes the host (its PID namespace, before it unshares) at every
# login, so the first writer of a boot is always the host.
# Way in without pam_ns: network = "isolated" users get their namespaces
# from ns-shell alone (DESIGN: "if isolated, make a fresh loopback-only
# one"), here through an su stack without pam_ns; su-l has it.
#   bash tests/integration/run.sh t-attack-hostrec.sh
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

sandbox_install_ns_shell
add_users 3001 alice bob
sandbox_conf <<'EOF'
user "alice" { network = "isolated" }
EOF
pam_with_ns su-l          # su (below: the sandbox default) has no pam_ns
pam_ns_alone nstest debug

check "no pam_ns has run yet in this boot (no $(printf %s /run/ns-shell/host))" test ! -e /run/ns-shell/host
out=$(timeout 30 su alice -c "readlink /proc/self/ns/pid; $PY -I $SB/bin/ptysu.py $PWFILE su - alice -c 'echo NESTED-IN; ls /run/ns-shell/sessions | wc -l'" </dev/null 2>&1)
check_fail "alice (isolated, namespaces from ns-shell) runs su - alice inside her login: refused" \
    grep -q NESTED-IN <<<"$out"
printf '%s\n' "$out" | sed 's/^/#   /'
check_match "$(printf %s /run/ns-shell/host), if written, names the real host's namespaces" \
    "^(|boot=[^ ]+ pidns=$HOSTPID netns=$HOSTNET)\$" "$(cat /run/ns-shell/host 2>/dev/null)"
rc=0
o=$(pamtester nstest bob open_session close_session 2>&1) || rc=$?
check_eq "bob's ordinary login from the host works afterwards" 0 "$rc"
grep 'pam_ns' "$SB_SYSLOG" | sed 's/^/#   /'
sandbox_finish
