#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# README "Reaching the outside world", layout b: a routed bridge with NAT.
# A namespace "internet" hangs off the sandbox host by a veth (the uplink
# up0, 198.51.100.1/24; the internet side 198.51.100.2/24) with a listener
# that echoes its peer's address. With forwarding on and conf/ns-shell.nft
# loaded (UPLINK = up0) a user's login reaches it, masqueraded behind the
# uplink address; without the rules it does not; the rules also keep the
# outside from reaching users and users from reaching host services.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted login commands; sandbox_install_ns_shell takes no args here; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1  # never run on without the sandbox
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# from_user HOST PORT [TIMEOUT]: a probe from a login of alice (TIMEOUT
# default 10 s; pass 1 where the probe is expected to fail)
from_user() { as_user alice "$PY $SB/bin/probe.py $1 $2 ${3:-10}" || true; printf '%s' "$AS_OUT"; }
# from_internet HOST PORT [TIMEOUT]: a probe from the "internet" namespace (the same)
from_internet() { ip netns exec internet "$PY" "$SB/bin/probe.py" "$1" "$2" "${3:-10}" 2>&1; }
load_nft() { nft -f "$SB/ns-shell.nft"; }

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
sandbox_add_user alice 2001
PAM_NS_ARGS='' pam_with_ns su su-l
: | sandbox_conf
bridge_up
# The outside world: a namespace of the sandbox, on the uplink up0.
ip netns add internet &&
    ip link add up0 type veth peer name inet0 netns internet &&
    ip addr add 198.51.100.1/24 dev up0 && ip link set up0 up &&
    ip -n internet link set lo up &&
    ip -n internet addr add 198.51.100.2/24 dev inet0 &&
    ip -n internet link set inet0 up || sandbox_die "cannot make the internet namespace"
check "the internet namespace is not the sandbox host's" \
    test "$(ip netns exec internet stat -L -c %i /proc/self/ns/net)" != "$HOSTNET"
# Listeners that answer "NAME <peer address>".
banner_start --peer --netns internet 198.51.100.2 8081 PEER
banner_start --peer 0.0.0.0 8080 HOST
check_eq "the sandbox host reaches the internet listener directly" "PEER 198.51.100.1" \
    "$(probe 198.51.100.2 8081)"
sed 's/^define UPLINK = "eth0"$/define UPLINK = "up0"/' "$NS_REPO/conf/ns-shell.nft" >"$SB/ns-shell.nft"
check "the copy of conf/ns-shell.nft has UPLINK = up0" grep -qx 'define UPLINK = "up0"' "$SB/ns-shell.nft"
sysctl -q -w net.ipv4.ip_forward=1 || sandbox_die "cannot switch on forwarding in the sandbox"

# A login of alice held open, with a listener of hers.
rm -f /tmp/ready-a
hold a alice "$PY $SB/bin/banner.py --peer 0.0.0.0 8082 ALICE /tmp/ready-a &"
wait_until 10 test -e /tmp/ready-a || sandbox_die "alice's held login did not start" \
    "$(cat "$SB/tmp/hold-a.out")"
a4=$(lease_of alice)

# ------------------------------------------------- without the rules ---
check_match "forwarding on, no nft rules: alice cannot reach the internet (no NAT, no route back)" \
    'probe 198\.51\.100\.2:8081 failed' "$(from_user 198.51.100.2 8081 1)"
check_eq "... but reaches the host's service on the bridge address (control)" "HOST $a4" \
    "$(from_user 10.213.0.1 8080)"

# ------------------------------------------------- conf/ns-shell.nft ---
check "nft -f loads conf/ns-shell.nft (UPLINK = up0)" load_nft
check_match "nft list ruleset shows table inet ns_shell" 'table inet ns_shell' "$(nft list ruleset 2>&1)"
check_eq "with the rules alice reaches the internet listener, masqueraded as 198.51.100.1" \
    "PEER 198.51.100.1" "$(from_user 198.51.100.2 8081)"
check_match "... and no longer reaches the host's service on 10.213.0.1:8080 (input drop)" \
    'probe 10\.213\.0\.1:8080 failed' "$(from_user 10.213.0.1 8080 1)"
nft flush ruleset
check_match "after nft flush ruleset alice cannot reach the internet any more" \
    'probe 198\.51\.100\.2:8081 failed' "$(from_user 198.51.100.2 8081 1)"

# ---------------------------- the outside cannot come in (forward drop) ---
load_nft
ip -n internet route add 10.213.0.0/16 via 198.51.100.1 ||
    sandbox_die "cannot add the internet's route back to the pool"
check_match "with the rules and a route to the pool, the internet cannot reach alice's listener" \
    "probe $a4:8082 failed" "$(from_internet "$a4" 8082 1)"
check_eq "... while alice still reaches the internet masqueraded" "PEER 198.51.100.1" \
    "$(from_user 198.51.100.2 8081)"
nft flush ruleset
check_eq "control, no rules: the internet reaches alice's listener" "ALICE 198.51.100.2" \
    "$(from_internet "$a4" 8082)"
check_eq "control, no rules: alice reaches the internet with her own address (no NAT)" \
    "PEER $a4" "$(from_user 198.51.100.2 8081)"

release a
settle 2001
check_eq "no record is left" 0 "$(n_records)"
sandbox_finish
