#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Leftover namespaces (netns = "session"): a process of a login that does
# not run ns-shell (cron and atd samples, a passwd shell changed with chsh,
# ForceCommand start-up files) outlives its PAM session and keeps the
# namespace, and eth0 with its address, alive. Its address must never be
# handed to another user while it can still be used:
#  a) a concurrent (tagged) session's address goes back to the pool at its
#     close, but the namespace's link is cut first: the leftover reaches
#     nothing, bob gets the address and uses it (a listener on the host
#     sees bob, never alice, with it);
#  b) the sticky address such a namespace still holds is not taken over
#     when the pool is full (its veth is nss<sid>, not nsu<uid>): the next
#     login is refused instead, and gets the address once the leftover is
#     gone.
# (Both reproduced on main by the third hostile review; SECURITY.md.)
# shellcheck disable=SC2016,SC2034,SC2153  # single-quoted login commands; names from the libs
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

sandbox_install_ns_shell
add_users 3201 alice:/bin/bash bob carol dave erin frank
# 10.213.0.2-.6: five addresses
sandbox_conf <<'EOF'
pool           = "10.213.0.0/29"
bridge_address = "10.213.0.1/29"
default { netns = "session" }
EOF
pam_with_ns su su-l

eth0_of() { nsenter -t "$1" -n ip -4 -o addr show dev eth0 | awk '{print $4}'; }
# probe_from PID UID : probe.py to the host's listener from the network
# namespace of PID, as UID
probe_from() {
    nsenter -t "$1" -n setpriv --reuid="$2" --regid="$2" --clear-groups \
        "$PY" "$SB/bin/probe.py" 10.213.0.1 7001 2
}
pid_of() { pgrep -u "$1" -fx "$2" | head -n 1; }
# veth_of_uid UID : the host-side veth whose alias names UID
veth_of_uid() { ip -o link show | awk -v u="uid=$1" -F': ' 'index($0, " " u "\\") || $0 ~ (" " u "$") { sub(/@.*/, "", $2); print $2; exit }'; }
four_in() { local u; for u in 3202 3203 3204 3205; do has_n_records_of "$u" 1 || return 1; done; }
# leftover TAG : alice starts `sleep 60N` detached, in a su login that then
# ends (her passwd shell is bash: no ns-shell, no reaper record)
leftover() { su alice -c "setsid sleep $1 </dev/null >/dev/null 2>&1 &" >/dev/null 2>&1; }

# ------------------------------------------------ a) the tagged address ---
hold A alice
check "alice's first login holds her sticky address" wait_until 10 has_n_records_of 3201 1
# on the bridge the first login made
"$PY" "$SB/bin/banner.py" --peer 10.213.0.1 7001 hello "$SB/tmp/banner.ready" &
BANNER=$!
wait_until 5 test -e "$SB/tmp/banner.ready" || sandbox_die "the host's listener did not start"
leftover 601
check "a second login of alice left a process behind" wait_until 5 pid_of alice 'sleep 601'
LP=$(pid_of alice 'sleep 601')
LEFT=$(eth0_of "$LP")
check_match "... in a namespace of its own, with a second address" '^10\.213\.0\.[2-6]/29$' "$LEFT"
check "... whose session record is gone" wait_until 5 has_n_records_of 3201 1
check_eq "... and whose address went back to the pool" "" \
    "$(lease_lines | awk -v a="${LEFT%/*}" '$2 == "alice" && $3 == a')"
check_match "... after its link was cut: the leftover reaches nothing" 'failed' "$(probe_from "$LP" 3201)"
hold B bob
check "bob logs in" wait_until 10 has_n_records_of 3202 1
check_eq "bob is given that address" "${LEFT%/*}" "$(lease_of bob)"
BP=$(pgrep -u bob -f "read x <$HOLD_DIR/B" | head -n 1)
check_eq "... and the host sees bob with it" "hello ${LEFT%/*}" "$(probe_from "$BP" 3202)"
check_match "... while alice's leftover still reaches nothing" 'failed' "$(probe_from "$LP" 3201)"
release A B
kill "$LP"
check "alice's leftover is gone" wait_until 5 no_ns_links

# ----------------------------------- b) the sticky address, a full pool ---
leftover 602
check "alice left a process behind with no login of hers open" wait_until 5 pid_of alice 'sleep 602'
LP=$(pid_of alice 'sleep 602')
STICKY=$(lease_of -s alice)
check_eq "... which still uses her sticky address" "$STICKY/29" "$(eth0_of "$LP")"
hold C bob
hold D carol
hold E dave
hold F erin
check "bob, carol, dave and erin take the other four addresses" wait_until 10 four_in
OUT=$(su frank -c true 2>&1)
check_match "frank is refused: the pool is exhausted" 'exhausted' "$OUT$(tail -n 5 "$SB_SYSLOG")"
check_eq "... and alice keeps her sticky address" "$STICKY" "$(lease_of -s alice)"
check_eq "... which her leftover still has" "$STICKY/29" "$(eth0_of "$LP")"
check_eq "... and nobody else has" "" "$(lease_lines | awk -v a="$STICKY" '$3 == a && $2 != "alice"')"
LV=$(veth_of_uid 3201)
check_match "... on a veth of hers" '^nss[0-9a-f]{8}$' "$LV"
kill "$LP"
check "once the leftover is gone" wait_until 5 link_absent "$LV"
check "frank logs in (taking over alice's idle address)" su frank -c true
check_eq "... which is now frank's" "$STICKY" "$(lease_of -s frank)"
release C D E F
kill "$BANNER"
sandbox_finish
