#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A fleet of login hosts (issue #13): network = "routed" on two hosts A and
# B, each announcing its own pool block over BGP with the shipped
# conf/bird/ns-shell.conf (only its `define` lines filled in), to a router
# R. Three network namespaces of the sandbox stand for the machines; each
# host has its own /etc/security/ns.conf, the shipped conf/ns-routed.conf
# filled in (through /etc/netns/HOST/, which `ip netns exec` binds over
# /etc), so its own pool, pool6, state_dir and lease file, and pam_ns,
# ns-shell (whose config path is compiled in) and nsctl there read that
# file, as on a real host. Proves: R learns each block (IPv4 and IPv6) from its host and
# nothing more specific, and installs them in its kernel; a host imports
# nothing and writes nothing to its kernel; R reaches listeners inside the
# users' namespaces by their addresses, users reach R; across hosts users
# reach each other, and `deny` with the fleet's range stops that (EACCES);
# after logout nothing per user is left, and the blocks stay announced.
# shellcheck disable=SC2016,SC2034  # commands for the logins in single quotes
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1
if ! command -v bird >/dev/null || ! command -v birdc >/dev/null; then
    sandbox_die "bird2 is not installed (bird, birdc)"
fi
sandbox_install_ns_shell
sandbox_add_user alice 2631     # logs in on A
sandbox_add_user bob 2632       # logs in on B
pam_with_ns su-l

SHIPPED=$NS_REPO/conf/bird/ns-shell.conf
BD=$SB/bird
mkdir -m 0700 "$BD" || sandbox_die "mkdir $BD"
declare -A UP=([A]=192.0.2.1 [B]=192.0.2.5) RT=([A]=192.0.2.2 [B]=192.0.2.6)
declare -A UP6=([A]=2001:db8:a::1 [B]=2001:db8:b::1) RT6=([A]=2001:db8:a::2 [B]=2001:db8:b::2)
declare -A AS=([A]=64501 [B]=64502) POOL=([A]=10.213.0.0/20 [B]=10.213.16.0/20)
declare -A POOL6=([A]=fd00:213::/64 [B]=fd00:213:0:16::/64) BIRD_PID=()
R_AS=64500

on() { local h=$1; shift; ip netns exec "$h" "$@"; }   # HOST CMD... : run CMD on HOST
# HOST ARGS... : birdc of HOST's bird, without its greeting line
bcl() { birdc -s "$BD/$1.ctl" "${@:2}" | sed '1{/^BIRD .* ready\.$/d}'; }

# ------------------------------------------------------------ machines ---
# R has a link to each host: A up0 192.0.2.1/30 <-> R to-a 192.0.2.2/30,
# B up0 192.0.2.5/30 <-> R to-b 192.0.2.6/30 (and 2001:db8:a|b::/64). The
# hosts' default routes point at R (their ordinary network configuration);
# all three forward. No DAD on these links (addresses usable at once).
for h in R A B; do
    ip netns add "$h" && ip -n "$h" link set lo up &&
        on "$h" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
            net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 ||
        sandbox_die "cannot make the network namespace $h"
done
for h in A B; do
    l=to-${h,,}
    ip -n "$h" link add up0 type veth peer name "$l" netns R &&
        ip -n "$h" addr add "${UP[$h]}/30" dev up0 && ip -n "$h" addr add "${UP6[$h]}/64" dev up0 nodad &&
        ip -n R addr add "${RT[$h]}/30" dev "$l" && ip -n R addr add "${RT6[$h]}/64" dev "$l" nodad &&
        ip -n "$h" link set up0 up && ip -n R link set "$l" up &&
        ip -n "$h" route add default via "${RT[$h]}" && ip -n "$h" route add default via "${RT6[$h]}" ||
        sandbox_die "cannot link $h to R"
done
banner_start --netns R 0.0.0.0 7000 r-here
banner_start --netns R :: 7006 r-here-v6

# ------------------------------------------------------ each host's ns.conf ---
# The shipped sample for a routed host, conf/ns-routed.conf, as config
# management would fill it in: the host's own pool and pool6, and (here,
# two hosts on one machine) its own state_dir and lease file; "deny" as 2nd
# argument uncomments the sample's fleet-wide deny line. gateway = "": it is
# not used when routed, but its default 10.213.0.1 must lie in the pool,
# which B's 10.213.16.0/20 does not hold (nsctl check says "set gateway too").
host_conf() { # HOST [deny]
    local h=$1 lc=${1,,}
    mkdir -p "/etc/netns/$h/security" || sandbox_die "mkdir /etc/netns/$h/security"
    sed -E -e "s|^pool( +)= \"[^\"]*\"\$|pool\\1= \"${POOL[$h]}\"|" \
        -e "s|^pool6( +)= \"[^\"]*\"\$|pool6\\1= \"${POOL6[$h]}\"\\
gateway       = \"\"\\
state_dir     = \"/run/ns-shell-$lc\"\\
lease_file    = \"/var/lib/ns-shell/leases-$lc\"|" \
        -e "${2:+s|^    # deny = |    deny = |}" \
        "$NS_REPO/conf/ns-routed.conf" | conf_file "/etc/netns/$h/security/ns.conf"
}
host_conf A
host_conf B
globals_of() { # FILE : its pool, pool6, gateway, state_dir, lease_file values
    awk -F'"' '/^(pool|pool6|gateway|state_dir|lease_file) *=/ { printf "%s ", $2 }' "$1"
}
for h in A B; do
    lc=${h,,}
    check_eq "$h's ns.conf: its block, its state (from conf/ns-routed.conf)" \
        "${POOL[$h]} ${POOL6[$h]}  /run/ns-shell-$lc /var/lib/ns-shell/leases-$lc " \
        "$(globals_of "/etc/netns/$h/security/ns.conf")"
    out=$(on "$h" "$NSCTL" check 2>&1)
    check_match "... nsctl check on $h says it is valid" ': valid' "$out"
    out=$(on "$h" "$NSCTL" check --user alice 2>&1)
    check_match "... network = routed for alice" 'network += "routed"' "$out"
    check_match "... deny = {} (the sample's fleet-wide deny is commented out)" 'deny += \{\}' "$out"
done

# ----------------------------------------------------------------- bird ---
# Each host's bird.conf is the shipped file with its six `define` lines
# set (what config management does); R's is the test's own.
bird_conf() { # HOST
    local h=$1
    sed -e "s|^define HOST_ID   = .*|define HOST_ID   = ${UP[$h]};|" \
        -e "s|^define HOST_AS   = .*|define HOST_AS   = ${AS[$h]};|" \
        -e "s|^define UPLINK    = .*|define UPLINK    = ${RT[$h]};|" \
        -e "s|^define UPLINK_AS = .*|define UPLINK_AS = $R_AS;|" \
        -e "s|^define POOL      = .*|define POOL      = ${POOL[$h]};|" \
        -e "s|^define POOL6     = .*|define POOL6     = ${POOL6[$h]};|" "$SHIPPED" >"$BD/$h.conf"
}
check "bird -p accepts the shipped conf/bird/ns-shell.conf as it is" bird -p -c "$SHIPPED"
for h in A B; do
    bird_conf "$h"
    check_eq "$h's bird.conf is the shipped one but for the define lines" "" \
        "$(diff <(grep -v '^define ' "$SHIPPED") <(grep -v '^define ' "$BD/$h.conf"))"
    check_eq "... which carry $h's values" \
        "${UP[$h]} ${AS[$h]} ${RT[$h]} $R_AS ${POOL[$h]} ${POOL6[$h]}" \
        "$(awk '/^define / { sub(/;$/, "", $4); printf "%s%s", sep, $4; sep = " " }' "$BD/$h.conf")"
    check "... and bird -p accepts it" bird -p -c "$BD/$h.conf"
done
# R: a BGP session to each host, all routes both ways (it also offers the
# hosts a default route, which they must refuse), BGP routes to its kernel.
r_peer() { # NAME HOST
    cat <<EOF
protocol bgp $1 {
    local as $R_AS;
    neighbor ${UP[$2]} as ${AS[$2]};
    connect delay time 1;
    ipv4 { import all; export all; };
    ipv6 { import all; export all; };
}
EOF
}
cat >"$BD/R.conf" <<EOF
log syslog all;
router id ${RT[A]};
protocol device {}
protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
protocol kernel { ipv6 { import none; export where source = RTS_BGP; }; }
protocol static { ipv4; route 0.0.0.0/0 unreachable; }
protocol static { ipv6; route ::/0 unreachable; }
$(r_peer host_a A)
$(r_peer host_b B)
EOF
check "bird -p accepts R's config" bird -p -c "$BD/R.conf"

bird_start() { # HOST : bird in HOST's namespace, in the foreground of a background job
    ip netns exec "$1" bird -f -c "$BD/$1.conf" -s "$BD/$1.ctl" -P "$BD/$1.pid" </dev/null >"$BD/$1.log" 2>&1 &
    BIRD_PID[$1]=$!
    wait_until 5 bcl "$1" show status || sandbox_die "bird on $1 did not start" "$(cat "$BD/$1.log")"
}
# The hosts first: R connects to them 1 s after it starts.
bird_start A
bird_start B
bird_start R
established() { bcl R show protocols | grep -qE "^$1 +BGP .* up .*Established"; }
check "R's BGP session with A is Established" wait_until 15 established host_a
check "R's BGP session with B is Established" wait_until 15 established host_b
check_match "A's bird: its session to the uplink is Established" '^uplink +BGP .* up .*Established' \
    "$(bcl A show protocols | grep '^uplink ')"
check_eq "before the first login: A has no route for its pool (nothing to announce)" "" \
    "$(ip -n A route show "${POOL[A]}")"
check_eq "... and R has learnt nothing from the hosts" "" "$(bcl R show route protocol host_a; bcl R show route protocol host_b)"

# --------------------------------------------------------------- logins ---
# A login on HOST, through su - (the su-l stack with pam_ns) started on that
# host. It leaves listeners behind (linger = true, as shipped): TEXT on
# 0.0.0.0:8080 and TEXT-v6 on [::]:8086, waits until they listen, prints
# eth0's addresses, then runs EXTRA.
login_on() { # HOST USER TEXT [EXTRA]
    local ready=$X/ready-$2
    rm -f "$ready" "$ready"6
    run ip netns exec "$1" su - "$2" -c "ip -o addr show dev eth0
nohup $PY $SB/bin/banner.py 0.0.0.0 8080 $3 $ready >/dev/null 2>&1 &
nohup $PY $SB/bin/banner.py :: 8086 $3-v6 ${ready}6 >/dev/null 2>&1 &
for i in \$(seq 250); do [ -e $ready ] && [ -e ${ready}6 ] && break; sleep 0.02; done
${4:-}"
}
addr4() { awk '$3 == "inet" { sub(/\/.*/, "", $4); print $4 }' <<<"$1"; }
addr6() { awk '$3 == "inet6" && !/ scope link/ { sub(/\/.*/, "", $4); print $4 }' <<<"$1"; }

login_on A alice alice-on-a "$(probe_cmd 192.0.2.2 7000); $(probe_cmd "${RT6[A]}" 7006)"
check_eq "alice logs in on A (routed)" "0" "$RC"
A4=$(addr4 "$OUT") A6=$(addr6 "$OUT")
check_match "... her address is from A's pool 10.213.0.0/20" '^10\.213\.([0-9]|1[0-5])\.[0-9]+$' "$A4"
check_match "... her IPv6 address from A's pool6" '^fd00:213::[0-9a-f:]+$' "$A6"
check_match "... she reaches R (IPv4)" "r-here${NL}" "$OUT$NL"
check_match "... and over IPv6" 'r-here-v6' "$OUT"

login_on B bob bob-on-b "$(probe_cmd "$A4" 8080); $(probe_cmd "$A6" 8086); $(probe_cmd 192.0.2.6 7000)"
check_eq "bob logs in on B (routed)" "0" "$RC"
B4=$(addr4 "$OUT") B6=$(addr6 "$OUT")
check_match "... his address is from B's pool 10.213.16.0/20" '^10\.213\.(1[6-9]|2[0-9]|3[01])\.[0-9]+$' "$B4"
check_match "... his IPv6 address from B's pool6" '^fd00:213:0:16::[0-9a-f:]+$' "$B6"
check_match "... he reaches R" "r-here${NL}" "$OUT$NL"
check_match "... control, no deny: he reaches alice's listener on A across the fleet" "alice-on-a${NL}" "$OUT$NL"
check_match "... and over IPv6" 'alice-on-a-v6' "$OUT"

for h in A B; do
    check_match "$h holds the unreachable route for its pool (made by pam_ns)" \
        "^unreachable ${POOL[$h]//./\\.} proto static" "$(ip -n "$h" route | grep '^unreachable ')"
    check_match "... and for its pool6" "^unreachable ${POOL6[$h]} dev lo proto static" \
        "$(ip -n "$h" -6 route | grep '^unreachable ')"
done
for h in A B; do
    lc=${h,,}
    check_match "$h's state_dir /run/ns-shell-$lc records $h's network namespace as the host" \
        "netns=$(stat -L -c %i "/run/netns/$h")( |\$)" "$(cat "/run/ns-shell-$lc/host" 2>&1)"
done
check_eq "... and the default /run/ns-shell is not used" "no" "$([[ -e /run/ns-shell ]] && echo yes || echo no)"
check_eq "nsctl status on A lists alice, on B bob" "alice bob" "$(for h in A B; do on "$h" "$NSCTL" status --json |
    "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(*sorted({x["user"] for x in d["sessions"] + d["lingering"]}))'; done | xargs)"
check_match "A routes alice's /32 to her veth" "^$A4 dev nsu2631 " "$(ip -n A route show "$A4/32")"
check_match "B routes bob's /128 to his veth" "^$B6 dev nsu2632 " "$(ip -n B -6 route show "$B6/128")"

# ------------------------------------------------------------------- BGP ---
learnt() { # the four blocks are in R's bird table
    local r
    r=$(bcl R show route)
    [[ $r == *"${POOL[A]}"* && $r == *"${POOL[B]}"* && $r == *"${POOL6[A]}"* && $r == *"${POOL6[B]}"* ]]
}
check "R learns the four blocks over BGP" wait_until 5 learnt
out=$(bcl R show route "${POOL[A]}" all)
check_match "R: ${POOL[A]} via A (192.0.2.1, AS ${AS[A]})" "via ${UP[A]//./\\.} on to-a.*BGP.as_path: ${AS[A]}" "$out"
out=$(bcl R show route "${POOL[B]}" all)
check_match "R: ${POOL[B]} via B (192.0.2.5, AS ${AS[B]})" "via ${UP[B]//./\\.} on to-b.*BGP.as_path: ${AS[B]}" "$out"
check_match "R: ${POOL6[A]} via A" "via ${UP6[A]} on to-a" "$(bcl R show route "${POOL6[A]}")"
check_match "R: ${POOL6[B]} via B" "via ${UP6[B]} on to-b" "$(bcl R show route "${POOL6[B]}")"
out=$(bcl R show route)
check_eq "R: no /32 and no /128 route (nothing more specific than the blocks)" "" \
    "$(grep -E '/(32|128) ' <<<"$out")"
check_eq "A's bird exports exactly its two blocks to the uplink, both unreachable" \
    "${POOL[A]} unreachable|${POOL6[A]} unreachable|" \
    "$(bcl A show route export uplink | awk '/^[0-9a-f]/ { printf "%s %s|", $1, $2 }')"
check_eq "... and knows no /32 (the kernel protocol learns the block only)" "" \
    "$(bcl A show route | grep -E '/(32|128) ')"
out=$(bcl R show route export host_a)
check_match "R offers A a default route and B's block" "0\\.0\\.0\\.0/0 .*${POOL[B]//./\\.} " "$out"
check_eq "... A's bird imports none of it (import none)" "" \
    "$(bcl A show route protocol uplink | grep -v '^Table' | grep -v '^$')"
check_eq "... and writes nothing to A's kernel" "" "$(ip -n A route show proto bird; ip -n A -6 route show proto bird)"
out=$(ip -n R route show proto bird)
check_match "R's kernel: ${POOL[A]} via 192.0.2.1 (from bird)" "${POOL[A]//./\\.} via ${UP[A]//./\\.} dev to-a" "$out"
check_match "R's kernel: ${POOL[B]} via 192.0.2.5" "${POOL[B]//./\\.} via ${UP[B]//./\\.} dev to-b" "$out"
out=$(ip -n R -6 route show proto bird)
check_match "R's kernel: ${POOL6[A]} via A" "${POOL6[A]} via [0-9a-f:]+ dev to-a" "$out"
check_match "R's kernel: ${POOL6[B]} via B" "${POOL6[B]} via [0-9a-f:]+ dev to-b" "$out"

# ---------------------------------------------------------------- reach ---
check_eq "R reaches alice's listener on A by her address" "alice-on-a" "$(on R "$PY" "$SB/bin/probe.py" "$A4" 8080)"
check_eq "R reaches bob's listener on B by his address" "bob-on-b" "$(on R "$PY" "$SB/bin/probe.py" "$B4" 8080)"
check_eq "R reaches alice over IPv6" "alice-on-a-v6" "$(on R "$PY" "$SB/bin/probe.py" "$A6" 8086)"
check_eq "R reaches bob over IPv6" "bob-on-b-v6" "$(on R "$PY" "$SB/bin/probe.py" "$B6" 8086)"
out=$(on R "$PY" "$SB/bin/probe.py" 10.213.16.200 8080 2)
check_match "an unused address of B's block: B refuses it at once (no loop back to R)" \
    'failed: EHOSTUNREACH after [0-9]{1,3} ms' "$out"
# alice's next login on A joins her lingering namespace
run ip netns exec A su - alice -c "$(probe_cmd "$B4" 8080)"
check_match "control: alice on A reaches bob's listener on B" '^bob-on-b$' "$OUT"

# ------------------------------------------------------------ logout ---
logout_all() {
    on A "$NSCTL" terminate alice >/dev/null 2>&1
    on B "$NSCTL" terminate bob >/dev/null 2>&1
    wait_until 5 bash -c '[[ -z $(pgrep -u alice) && -z $(pgrep -u bob) ]]'
}
ns_links() { ip -n "$1" -o link show | grep ' ns[us][0-9a-f]'; }
no_links() { [[ -z $(ns_links A; ns_links B) ]]; }

# ------------------------------------------------- deny the fleet's range ---
check "nsctl terminate on A and on B ends alice's and bob's logins" logout_all
check "... their veths go" wait_until 5 no_links
host_conf A deny
host_conf B deny
for h in A B; do
    check_match "$h's ns.conf: deny = the fleet's range (the sample's line)" \
        'deny += \{"10\.213\.0\.0/16", "fd00:213::/48"\}' "$(on "$h" "$NSCTL" check --user bob 2>&1)"
done
login_on A alice alice-on-a "$(probe_cmd 192.0.2.2 7000)"
check_eq "deny = the fleet's range: alice logs in on A" "0" "$RC"
check_eq "... with the same address (sticky lease in A's lease file)" "$A4" "$(addr4 "$OUT")"
check_match "... she still reaches R" "r-here${NL}" "$OUT$NL"
login_on B bob bob-on-b "$(probe_cmd "$A4" 8080 1); $(probe_cmd "$A6" 8086 1); $(probe_cmd 192.0.2.6 7000)"
check_eq "bob logs in on B" "0" "$RC"
check_match "... he cannot reach alice's listener on A (EACCES)" "probe $A4:8080 failed: EACCES" "$OUT"
check_match "... nor over IPv6" "probe $A6:8086 failed: EACCES" "$OUT"
check_match "... he still reaches R" "r-here${NL}" "$OUT$NL"
run ip netns exec A su - alice -c "$(probe_cmd "$B4" 8080 1)"
check_match "... and alice on A cannot reach bob's on B (EACCES)" "probe $B4:8080 failed: EACCES" "$OUT"
check_eq "R still reaches alice (deny is the users' own destinations)" "alice-on-a" \
    "$(on R "$PY" "$SB/bin/probe.py" "$A4" 8080)"
check_eq "... and bob" "bob-on-b" "$(on R "$PY" "$SB/bin/probe.py" "$B4" 8080)"

# --------------------------------------------------------- final logout ---
check "after nsctl terminate on both hosts: no process of alice or bob is left" logout_all
check "... no veth of a user on A or B" wait_until 5 no_links
check_eq "... no /32 or /128 route for a user on A or B" "" \
    "$(for h in A B; do ip -n "$h" route; ip -n "$h" -6 route; done | grep -E '^(10\.213|fd00:213)[0-9a-f.:]* dev ns')"
check_eq "... no neighbour entry for a user" "" \
    "$(for h in A B; do ip -n "$h" neigh; ip -n "$h" -6 neigh; done | grep -E '^(10\.213|fd00:213)')"
on A "$NSCTL" gc >/dev/null 2>&1
on B "$NSCTL" gc >/dev/null 2>&1
check_eq "... no session or login record in A's or B's state_dir" "" \
    "$(find /run/ns-shell-a/sessions /run/ns-shell-a/logins /run/ns-shell-b/sessions /run/ns-shell-b/logins -type f 2>/dev/null)"
check_eq "... nsctl status on A and B lists nobody" "0 0" "$(for h in A B; do on "$h" "$NSCTL" status --json |
    "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(len(d["sessions"] + d["lingering"]))'; done | xargs)"
check_match "... A's unreachable route for its pool stays" "^unreachable ${POOL[A]//./\\.} " \
    "$(ip -n A route | grep '^unreachable ')"
check "... and R still has all four blocks from BGP" learnt
check_match "... in its kernel too" "${POOL[B]//./\\.} via ${UP[B]//./\\.} dev to-b" "$(ip -n R route show proto bird)"

# A namespace's end makes BIRD 2.0 log two errors per IPv6 veth: the kernel
# reports the veth's /128 route and address after the veth itself. Known and
# harmless (conf/bird/ns-shell.conf says so); anything else is a finding.
check_eq "no bird logged another error or warning (syslog)" "" \
    "$(grep -E '^daemon\.(err|warning|crit|alert|emerg) bird' "$SB_SYSLOG" |
        grep -vE 'KRT: Received route [0-9a-f:]+/128 with unknown ifindex|KIF: Received address message for unknown interface')"

# ----------------------------------------------------------------- stop ---
for h in A B R; do
    check_eq "$h's bird wrote its own pid file (-P)" "${BIRD_PID[$h]}" "$(cat "$BD/$h.pid" 2>/dev/null)"
    kill "${BIRD_PID[$h]}"
    wait "${BIRD_PID[$h]}" 2>/dev/null
done
check_eq "each bird stopped by its pid: none is left" "" "$(pgrep -x bird)"
ip netns del R; ip netns del A; ip netns del B
sandbox_finish
