#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# address = "dhcp": pam_ns runs udhcpc (with conf/udhcpc.script) inside the
# user's namespace against a dnsmasq on the sandbox host's bridge. The login
# gets an address from dnsmasq's range and its default route; the same
# address again at the next login (stable MAC); the client runs inside the
# user's namespace while logged in and releases the lease when the last
# session closes, or when the next login reaps a session whose close never
# ran, or when nsctl gc removes that stale record; without a DHCP server
# the login fails after dhcp_timeout and leaves
# nothing behind; a quick re-login while the previous client is still on
# its way out leaves no client behind either. Prints the DHCP login time.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted login commands; sandbox_install_ns_shell takes no args here; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1  # never run on without the sandbox
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

pid_alive() { [[ -d /proc/$1 ]]; }
in_range() { # A.B.C.D: inside 10.213.1.10 - 10.213.1.100?
    [[ $1 =~ ^10\.213\.1\.([0-9]+)$ ]] && (( BASH_REMATCH[1] >= 10 && BASH_REMATCH[1] <= 100 ))
}

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
sandbox_add_user alice 2001
PAM_NS_ARGS='' pam_with_ns su su-l
sandbox_conf <<EOF
dhcp_script = "$NS_REPO/conf/udhcpc.script"
default { address = "dhcp" }
EOF

# The bridge is the admin's here (README layout a): made before dnsmasq,
# which binds only the addresses that exist when it starts.
bridge_up
dhcp_server_start
resolv_before=$(sha256sum </etc/resolv.conf)

# ------------------------------------------------------ a DHCP login ---
as_user alice 'echo "sid=$NS_SHELL_SESSION"; readlink /proc/self/ns/net
ip -br -4 addr show dev eth0; ip -4 route show default; ip -o link show dev eth0'
check_login "su - alice with address = dhcp succeeds"
out=$AS_OUT
addr1=$(sed -n 's/^eth0[^ ]* *UP *\([0-9.]*\)\/16.*/\1/p' <<<"$out")
check "eth0 has an address from dnsmasq's range 10.213.1.10-100, /16 ('$addr1')" in_range "$addr1"
check_match "the default route inside goes via 10.213.0.1 on eth0 (from DHCP)" \
    '(^|'$'\n'')default via 10\.213\.0\.1 dev eth0' "$out"
mac1=$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' <<<"$out")
check "dnsmasq logged the DHCPACK for alice's MAC and address" \
    grep -qE "DHCPACK\(nsbr0\) $addr1 $mac1" "$DNSMASQ_LOG"
check_eq "a DHCP login leaves no record behind" "" "$(sids_of 2001)"
check "... and its veth nsu2001 goes (the client released the namespace)" settle 2001
check "... and no udhcpc is left running" wait_until 20 no_udhcpc
check "dnsmasq logged a DHCPRELEASE of that address" \
    wait_until 20 grep -qE "DHCPRELEASE\(nsbr0\) $addr1 $mac1" "$DNSMASQ_LOG"
check_eq "udhcpc's script left the host's /etc/resolv.conf alone" "$resolv_before" \
    "$(sha256sum </etc/resolv.conf)"

as_user alice 'ip -br -4 addr show dev eth0; ip -o link show dev eth0'
check_login "a second DHCP login of alice succeeds"
addr2=$(sed -n 's/^eth0[^ ]* *UP *\([0-9.]*\)\/16.*/\1/p' <<<"$AS_OUT")
check_eq "the second login gets the same address from dnsmasq" "$addr1" "$addr2"
check_eq "... because eth0's MAC is the same (stable per user)" "$mac1" \
    "$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' <<<"$AS_OUT")"
settle 2001
wait_until 20 no_udhcpc

# ----------------------------------- the client while logged in, after ---
n_rel=$(grep -c 'DHCPRELEASE' "$DNSMASQ_LOG")
hold h1 alice 'readlink /proc/self/ns/net; ip -br -4 addr show dev eth0'
check "a held DHCP login of alice has a record" wait_until 30 has_n_records_of 2001 1
sid=$(sids_of 2001)
check_eq "the record's address is the DHCP one" "$addr1/16" "$(rec "$sid" address)"
pidf=$(pidfile_of ns-alice)
dpid=$(client_of ns-alice)
check_match "the client's pid file ${pidf:-$NETNS_DIR/ns-alice/dhcp*.pid} names a process" '^[0-9]+$' "$dpid"
check_eq "... which is udhcpc" "udhcpc" "$(cat "/proc/${dpid:-0}/comm" 2>&1)"
check_eq "... running inside alice's namespace (its netns inode is the record's)" \
    "$(rec "$sid" netns_ino)" "$(stat -L -c %i "/proc/${dpid:-0}/ns/net" 2>&1)"
check "... which is not the host's" \
    test "$(stat -L -c %i "/proc/${dpid:-0}/ns/net" 2>&1)" != "$(stat -L -c %i /proc/self/ns/net)"
check_match "... with our script (-s dhcp_script) on eth0" \
    "-i eth0 -s $NS_REPO/conf/udhcpc.script " "$(tr '\0' ' ' <"/proc/${dpid:-0}/cmdline" 2>&1)"
check_eq "... as the only udhcpc in the sandbox" "${dpid:-none}" "$(pgrep -x udhcpc | xargs)"
# A second login of alice shares the namespace and its client.
as_user alice 'readlink /proc/self/ns/net'
check_eq "a second login meanwhile shares the namespace" "net:[$(rec "$sid" netns_ino)]" "$AS_OUT"
check "... and the client keeps running after that login ends" pid_alive "${dpid:-0}"
check_eq "... no release was logged meanwhile" "$n_rel" "$(grep -c 'DHCPRELEASE' "$DNSMASQ_LOG")"
release h1
check "udhcpc ends when the namespace's last session closes" \
    wait_until 20 bash -c "! [ -d /proc/${dpid:-0} ]"
check "... and releases its lease (dnsmasq logged a DHCPRELEASE)" \
    wait_until 20 bash -c "[ \$(grep -c 'DHCPRELEASE(nsbr0) $addr1 ' '$DNSMASQ_LOG') -gt $n_rel ]"
check "... its pid file is removed" wait_until 20 test ! -e "${pidf:-/nonexistent}"
check "... and nsu2001 goes" settle 2001
check_eq "... no record is left" 0 "$(n_records)"

# ------------------------------- a session whose close never ran ---
# The owner (su, the PAM caller) is killed: the record goes stale, and the
# client keeps the namespace alive (nsctl(8)) until the next login of the
# user reaps the stale record and stops it, with a release.
hold c1 alice
check "a held DHCP login of alice (to be crashed) has a record" wait_until 30 has_n_records_of 2001 1
csid=$(sids_of 2001)
cpid=$(client_of ns-alice)
check_eq "its owner is the su process" "${HOLD_PID[c1]}" "$(rec "$csid" owner_pid)"
{ kill -KILL "${HOLD_PID[c1]}"; wait "${HOLD_PID[c1]}"; } 2>/dev/null
release c1
wait_until 20 no_user_procs alice   # the login's own processes end with its shell
check "after the owner is killed the client still runs (nobody closed the session)" \
    pid_alive "${cpid:-0}"
check_match "nsctl gc --dry-run names the client as what keeps the namespace alive" \
    "kept alive by 1 process outside any session: ${cpid:-none} " "$("$NSCTL" gc --dry-run 2>&1)"
n_rel=$(n_release "$addr1")
as_user alice 'ip -br -4 addr show dev eth0'
check_login "the next login of alice works"
check_match "... with the same address" "^eth0[^ ]* +UP +$addr1/16" "$AS_OUT"
check "... and it reaped the stale session: the old client is gone" \
    wait_until 20 bash -c "! [ -d /proc/${cpid:-0} ]"
check "... after releasing its lease" \
    wait_until 20 bash -c "[ \$(grep -c 'DHCPRELEASE(nsbr0) $addr1 ' '$DNSMASQ_LOG') -gt $n_rel ]"
check_eq "... no record is left" 0 "$(n_records)"
check "... nor a client" wait_until 20 no_udhcpc
settle 2001

# The same crash, and no next login: nsctl gc stops the client.
hold c2 alice
check "a held DHCP login of alice (to be crashed again) has a record" wait_until 30 has_n_records_of 2001 1
cpid=$(client_of ns-alice)
{ kill -KILL "${HOLD_PID[c2]}"; wait "${HOLD_PID[c2]}"; } 2>/dev/null
release c2
wait_until 20 no_user_procs alice
n_rel=$(n_release "$addr1")
out=$("$NSCTL" gc --dry-run 2>&1)
check_match "nsctl gc --dry-run says it would stop the client" \
    'would stop the DHCP client of namespace ns-alice' "$out"
check "... and leaves it running" pid_alive "${cpid:-0}"
out=$("$NSCTL" gc 2>&1)
check_match "nsctl gc removes the stale record and stops the client" \
    "removed stale session [0-9a-f]{8} of alice.*stopped the DHCP client of namespace ns-alice" "$out"
check "... which is gone" wait_until 20 bash -c "! [ -d /proc/${cpid:-0} ]"
check "... after releasing its lease" \
    wait_until 20 bash -c "[ \$(grep -c 'DHCPRELEASE(nsbr0) $addr1 ' '$DNSMASQ_LOG') -gt $n_rel ]"
check "... and the namespace goes with it (nsu2001 is freed)" settle 2001
check "... no client is left" no_udhcpc

# ---------------------------------------------------------- timing ---
times=() nfail=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    t0=$EPOCHREALTIME
    su - alice -c true </dev/null >/dev/null 2>&1 || nfail=$((nfail + 1))
    times+=($(( ${EPOCHREALTIME/./} - ${t0/./} )))
done
med=$(printf '%s\n' "${times[@]}" | median)
printf '# timing: dhcp login median %d.%d ms\n' $((med / 1000)) $((med % 1000 / 100))
check_eq "10 timed DHCP logins succeeded (median $((med / 1000)) ms)" 0 "$nfail"
# Each quick re-login meets the previous client on its way out (see the
# last section): none of them may be left running.
check "after 10 quick DHCP re-logins no client is left" wait_until 20 no_udhcpc
check "... and nsu2001 goes" settle 2001
for p in $(pgrep -x udhcpc); do kill "$p"; done   # a leak of the above: not to spoil what follows
wait_until 20 no_udhcpc
settle 2001

# ------------------------------------------------ no lease in time ---
kill "$DNSMASQ_PID"
wait "$DNSMASQ_PID" 2>/dev/null
sandbox_conf <<EOF
dhcp_script  = "$NS_REPO/conf/udhcpc.script"
dhcp_timeout = 2
default { address = "dhcp" }
EOF
t0=$EPOCHREALTIME
as_user alice 'echo LOGGED-IN'
el=$(ms_since "$t0")
check "without a DHCP server the login fails" test "$AS_RC" != 0
check_fail "... and runs no command" grep -q LOGGED-IN <<<"$AS_OUT"
check "... bounded by dhcp_timeout (2 s), not the default 10 s (took $el ms)" test "$el" -lt 9500
check "... after trying for about dhcp_timeout (took $el ms)" test "$el" -ge 1500
check "pam_ns logged 'no DHCP lease within 2 s'" \
    sandbox_log_wait 'pam_ns\(su-l:session\).*no DHCP lease within 2 s'
check_eq "no record is left" 0 "$(n_records)"
check "no veth nsu2001 is left" settle 2001
check "no udhcpc is left" no_udhcpc
check_eq "no pid file is left" "" "$(pidfile_of ns-alice)"
check_eq "the bridge has no port left" "" "$(ip -o link show master nsbr0 2>&1)"

# ------------------- a quick re-login while the old client is exiting ---
# A dhcp_script that takes a while to deconfigure (as on a loaded host):
# the client of a closed login is still on its way out (SIGTERM, release,
# script, then it removes its pid file) when the next login of the user
# has started its own client. The next logout must still stop that one.
cat >"$SB/slow-deconfig.script" <<EOF
#!/bin/sh
# conf/udhcpc.script, but 1 s slower to deconfigure once it had a lease
# (marked per namespace: udhcpc's pid changes when it goes to the background)
m=$SB/dhcp-bound.\$(stat -L -c %i /proc/self/ns/net)
case "\$1" in
bound) : >"\$m" ;;
deconfig) if [ -e "\$m" ]; then rm -f "\$m"; sleep 1; fi ;;
esac
exec $NS_REPO/conf/udhcpc.script "\$@"
EOF
chmod 0755 "$SB/slow-deconfig.script"
sandbox_conf <<EOF
dhcp_script = "$SB/slow-deconfig.script"
default { address = "dhcp" }
EOF
dhcp_server_start
su - alice -c true </dev/null >/dev/null 2>&1
as_user alice 'sleep 1.5'
check_login "a re-login right after a logout (old client still exiting) works"
check "after its logout no udhcpc is left (the new client was stopped too)" wait_until 20 no_udhcpc
check "... and nsu2001 goes" settle 2001
check_eq "... and no pid file is left" "" "$(pidfile_of ns-alice)"

# ------------------------------- a DHCP user's IPv6 host part near 2^32 ---
# Its IPv6 host part is uid + 0x10000: for uid 4294901762 that would wrap
# past 32 bits onto a pool user's (alice's fd00:213::2, found by a review).
add_raw carol 4294901762 4294901762
sandbox_conf <<EOF
dhcp_script = "$NS_REPO/conf/udhcpc.script"
pool6       = "fd00:213::/64"
gateway6    = "fd00:213::1"
user "carol" { address = "dhcp" }
EOF
as_user carol 'echo LOGGED-IN'
check "carol (uid 4294901762, address = dhcp, pool6) is refused" test "$AS_RC" != 0 -a "$AS_OUT" != LOGGED-IN
check "... the log says why" sandbox_log_wait 'uid 4294901762 \+ 0x10000 .*does not fit 32 bits' 10
check "... no client is left" wait_until 20 no_udhcpc
check_eq "... and no record" 0 "$(n_records)"
as_user alice 'ip -o -6 addr show dev eth0 scope global'
check_login "alice (pool address) still logs in"
check_match "... with her pool6 address" 'inet6 fd00:213::[0-9a-f]+/64' "$AS_OUT"

sandbox_finish
