#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pam_ns.so with real clients (su, su -, pamtester, an in-process PAM driver):
# a login lands in its user's network namespace, plugged into the host
# bridge; what the host sees; the session record; the policy variants
# (exempt, host, isolated, netns = session); the PAM environment is not
# trusted; ns-shell as the login shell on top of pam_ns.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted remote commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob carol:/bin/sh dave erin
SHELL_OVERRIDE=/bin/sh sandbox_add_user frank 2006 nsfree
add_users 2007 gina:/bin/sh hugo:/bin/sh
: | sandbox_conf     # empty: every built-in default
pam_with_ns su
pam_with_ns su-l
pam_ns_alone nstest
sandbox_pam nsdebug <<EOF
session  required   $PAM_NS_SO debug
session  required   pam_permit.so
EOF

# The "gateway" service of the sandbox host.
banner_start 0.0.0.0 8080 GATEWAY-8080

# ------------------------------------------- a login in its namespace ---
check_fail "no bridge before the first login" ip link show dev nsbr0
as_user alice 'readlink /proc/self/ns/net
echo "sid=$NS_SHELL_SESSION"
cat /run/ns-shell/sessions/"$NS_SHELL_SESSION"
ip -br -4 addr show dev eth0
ip route show default
ip -o link show dev eth0
'"$PY $SB/bin/probe.py 10.213.0.1 8080"
check_login "su - alice (ns-shell, pam_ns in su-l) succeeds"
out=$AS_OUT
sid=$(kv sid "$out")
ino=$(sed -n 's/^net:\[\([0-9]*\)\]$/\1/p' <<<"$out")
check_match "NS_SHELL_SESSION inside is a session id" '^[0-9a-f]{8}$' "$sid"
check_eq "the login's network namespace inode is the record's netns_ino" \
    "$ino" "$(kv netns_ino "$out")"
check "the login is not in the host's network namespace" test "$ino" != "$HOSTNET"
check_eq "the record names the user, uid, namespace and veth" \
    "alice 2001 ns-alice nsu2001" \
    "$(kv user "$out") $(kv uid "$out") $(kv netns "$out") $(kv veth "$out")"
addr=$(lease_of alice)
check_match "alice has a lease from the pool" '^10\.213\.[0-9]+\.[0-9]+$' "$addr"
check_eq "the lease file line is 'uid user address last_used'" "2001 alice $addr" \
    "$(awk '$2 == "alice" { print $1, $2, $3 }' <(lease_lines))"
check_match "the lease's last_used is a unix time" '^2001 alice [0-9.]+ [0-9]{10}$' \
    "$(grep ' alice ' <(lease_lines))"
check_eq "the record's address is the lease" "$addr/16" "$(kv address "$out")"
check_match "eth0 inside holds the leased address" "eth0(@[a-z0-9]+)? +UP +$addr/16" "$out"
check_match "the default route inside goes via 10.213.0.1 on eth0" \
    'default via 10\.213\.0\.1 dev eth0' "$out"
check_match "a TCP connect from inside reaches the gateway 10.213.0.1" \
    '(^|
)GATEWAY-8080$' "$out"
mac1=$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' <<<"$out")
check_match "eth0 has a locally administered unicast MAC" '^[0-9a-f][26ae]:' "$mac1"
check_eq "the record is gone after logout" "" "$(sids_of 2001)"
check "the lease stays after logout" test "$(lease_of alice)" = "$addr"
check "the bridge nsbr0 was created with 10.213.0.1/16" \
    bash -c 'ip -br addr show dev nsbr0 | grep -q "10.213.0.1/16"'
check_match "the bridge is up" 'state UP|,UP' "$(ip -o link show dev nsbr0)"
check "pam_ns logged the session" \
    sandbox_log_wait "^authpriv\.info su\[[0-9]+\]: pam_ns\(su-l:session\): alice \(uid 2001\): session $sid in network namespace ns-alice$"
settle 2001

# ------------------------------------------ what the host sees, held ---
hold a1 alice
check "a held login of alice has a record" wait_until 10 has_n_records_of 2001 1
sid=$(sids_of 2001)
owner=$(rec "$sid" owner_pid)
check_eq "the record's owner is the su process that opened the session" "su" \
    "$(cat "/proc/$owner/comm" 2>&1)"
check_eq "the owner is in the recorded namespace" "$(rec "$sid" netns_ino)" \
    "$(netns_of_pid "$owner")"
check_eq "owner_start is the owner's start time (/proc/PID/stat field 22)" \
    "$(rec "$sid" owner_start)" "$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$owner/stat")"
check_match "netns_dev is the nsfs device" '^[0-9]+$' "$(rec "$sid" netns_dev)"
check_match "opened is a recent unix time" '^[0-9]{10}$' "$(rec "$sid" opened)"
check_eq "the record is a root-owned 0644 file in a root-owned 0755 dir" \
    "644 root 755 root" "$(stat -c '%a %U' "$SESS/$sid" "$SESS" | tr '\n' ' ' | sed 's/ $//')"
lnk=$(ip -d link show dev nsu2001 2>&1)
check_match "ip -d link: nsu2001 is a veth" $'\n    veth' "$lnk"
check_match "ip -d link: nsu2001 has master nsbr0" 'master nsbr0' "$lnk"
check_match "ip -d link: nsu2001 is up" '<[^>]*,UP[,>]' "$lnk"
check_match "ip -d link: nsu2001 has alias 'ns-shell user=alice uid=2001'" \
    $'\n    alias ns-shell user=alice uid=2001(\n|$)' "$lnk"
check_match "bridge -d link: nsu2001 is isolated" 'isolated on' \
    "$(bridge -d link show dev nsu2001 2>&1)"
check_eq "ip -br link on the host: only lo, nsbr0, nsu2001" "lo nsbr0 nsu2001" \
    "$(ip -br link | awk '{ sub(/@.*/, "", $1); print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')"
hmac=$(ip -o link show dev nsu2001 | sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p')
# A second login meanwhile: same namespace, same MAC inside.
as_user alice 'readlink /proc/self/ns/net; ip -o link show dev eth0'
check_match "a second login of alice gets the held namespace" \
    "net:\\[$(rec "$sid" netns_ino)\\]" "$AS_OUT"
release a1
check_eq "both records are gone after both logouts" "" "$(sids_of 2001)"
check "nsu2001 disappears after the last logout" wait_until 30 link_absent nsu2001
as_user alice 'ip -o link show dev eth0; ip -br -4 addr show dev eth0'
check_login "a re-login after the last logout works"
check_match "the re-login gets the same address" "$addr/16" "$AS_OUT"
check_match "eth0's MAC is stable across logins of a user" "link/ether $mac1 " "$AS_OUT"
settle 2001
hold a2 alice
wait_until 10 has_n_records_of 2001 1
check_match "the host-side MAC is stable across logins of a user" "link/ether $hmac " \
    "$(ip -o link show dev nsu2001 2>&1)"
release a2
settle 2001

# ---------------- a stale veth of ours (old namespace still alive) ---
# hugo's login leaves a process behind: the session is closed, but the
# namespace and its veth live on. The next login must treat that veth as
# stale (DESIGN: delete it, then create), as it must for a veth whose
# namespace the kernel is still destroying after a quick logout.
su hugo -c 'sleep 6 </dev/null >/dev/null 2>&1 &' </dev/null >/dev/null 2>&1
check_eq "hugo's first login closed its record" "" "$(sids_of 2008)"
left=$(pgrep -u 2008 -x sleep | head -n 1)
check "hugo's leftover process keeps the old namespace and veth nsu2008" \
    ip link show dev nsu2008
haddr=$(lease_of hugo)
out=$(su hugo -c 'readlink /proc/self/ns/net; ip -br -4 addr show dev eth0' </dev/null 2>&1)
check_match "a new login with a stale nsu2008 of ours present succeeds" \
    "eth0(@[a-z0-9]+)? +UP +$haddr/16" "$out"
newns=$(grep '^net:' <<<"$out")
check "... in a new namespace, not the leftover one" \
    test -n "$newns" -a "$newns" != "net:[$(netns_of_pid "${left:-0}")]"
check_eq "... the stale veth was deleted: the leftover namespace has only lo now" "lo" \
    "$(nsenter --net="/proc/${left:-0}/ns/net" ip -br link 2>&1 | awk '{ print $1 }' | xargs)"
check_eq "pam_ns refused no login of hugo" "" "$(grep 'session of hugo refused' "$SB_SYSLOG")"
[[ -n $left ]] && kill "$left" 2>/dev/null
settle 2008

# ---------------------------------------- ns-shell as the login shell ---
as_user alice 'cat /proc/self/net/dev; echo ---; ip -br addr; echo ---; hostname; echo ---; ps -e -o pid=,comm=; echo ---; ls /sys/class/net'
check_login "su - alice with ns-shell runs the full login"
settle 2001
# Split the output on the --- lines; within a part, lines are joined by '|'.
parts=() cur=""
while IFS= read -r line; do
    if [[ $line == --- ]]; then parts+=("$cur"); cur=""; else cur+="$line|"; fi
done <<<"$AS_OUT"
parts+=("$cur")
check_eq "/proc/self/net/dev lists only lo and eth0" "eth0 lo" \
    "$(printf '%s' "${parts[0]}" | tr '|' '\n' | sed -n 's/^ *\([a-z0-9]*\):.*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "ip -br addr shows lo and eth0 with alice's address" "lo 127.0.0.1/8|eth0 $addr/16" \
    "$(printf '%s' "${parts[1]}" | tr '|' '\n' | awk 'NF { sub(/@.*/, "", $1); print $1, $3 }' | paste -sd'|')"
check_eq "the hostname is the user's name" "alice" "$(printf '%s' "${parts[2]}" | tr -d '|')"
check_match "ps -e: PID 1 is ns-shell's reaper" '^ *1 ns-shell\|' "${parts[3]}"
check_fail "ps -e: no process of the sandbox host is visible" \
    grep -Eq 'python3|sshd|unshare|syslog' <<<"${parts[3]//|/$'\n'}"
check_eq "/sys/class/net shows the login's interfaces" "eth0 lo" \
    "$(printf '%s' "${parts[4]}" | tr '|' ' ' | xargs -n1 | sort | xargs)"
check "ns-shell logged the login with its session" \
    sandbox_log_wait '^authpriv\.info ns-shell\[[0-9]+\]: login of alice \(uid 2001\): session [0-9a-f]{8}, network bridge$'

# --------------------------------------- in-process: what pam_ns moves ---
mkdir -p "$SB/cwd-probe"
cd "$SB/cwd-probe" || sandbox_die "cd $SB/cwd-probe"
: >/tmp/hold-drv
"$PY" "$SB/bin/pamdrv.py" nstest bob hold=/tmp/hold-drv >"$SB/tmp/drv.out" 2>&1 &
drv=$!
wait_until 10 grep -q '^env_sid=' "$SB/tmp/drv.out"
d=$(cat "$SB/tmp/drv.out")
dsid=$(kv env_sid "$d")
check_match "in-process open_session succeeds" '^open=0 ' "$(grep '^open=' <<<"$d")"
check_eq "the PAM environment carries the record's session id" "$(sids_of 2002)" "$dsid"
check_eq "the caller's network namespace is the record's" \
    "net:[$(rec "$dsid" netns_ino)]" "$(kv during_net "$d")"
check_eq "the record's owner is the calling process itself" "$drv" "$(rec "$dsid" owner_pid)"
check_eq "the caller's mount namespace did not change" "$(kv before_mnt "$d")" "$(kv during_mnt "$d")"
check_eq "the caller's working directory did not change" "$(kv before_cwd "$d")" "$(kv during_cwd "$d")"
check_eq "the caller's root did not change" "$(kv before_root "$d")" "$(kv during_root "$d")"
rm -f /tmp/hold-drv
wait "$drv"
d=$(cat "$SB/tmp/drv.out")
cd / || sandbox_die "cd /"
check_match "in-process close_session succeeds" '^close=0 ' "$(grep '^close=' <<<"$d")"
check_eq "close_session moves the caller back to its own network namespace" \
    "$(kv before_net "$d")" "$(kv after_net "$d")"
check_eq "... which is the host's" "net:[$HOSTNET]" "$(kv after_net "$d")"
check_eq "close_session removed the record" "" "$(sids_of 2002)"
check "nsu2002 is gone after close_session" wait_until 30 link_absent nsu2002

check "pamtester open_session close_session works for alice" \
    pamtester nstest alice open_session close_session
check_eq "... and leaves no record" 0 "$(n_records)"

# --------------------------------- the PAM environment is not trusted ---
# 1. A value preset in the PAM environment is replaced.
d=$("$PY" "$SB/bin/pamdrv.py" nstest bob preset=NS_SHELL_SESSION=deadbeef 2>&1)
check_match "a preset NS_SHELL_SESSION in the PAM environment is replaced" \
    '^[0-9a-f]{8}$' "$(kv env_sid "$d")"
check "... by a real session id, not the preset one" test "$(kv env_sid "$d")" != deadbeef
# 2. su with NS_SHELL_SESSION in its environment; a /bin/sh user sees what PAM exported.
hold h1 carol 'echo "sid=$NS_SHELL_SESSION"'
wait_until 10 has_n_records_of 2003 1
csid=$(sids_of 2003)
release h1
settle 2003
# hold() ran su without the preset: run one with it.
NS_SHELL_SESSION=deadbeef su carol -c 'echo "sid=$NS_SHELL_SESSION"; readlink /proc/self/ns/net; cat /run/ns-shell/sessions/$NS_SHELL_SESSION' \
    </dev/null >"$SB/tmp/c.out" 2>&1
c=$(cat "$SB/tmp/c.out")
settle 2003
check_match "su with NS_SHELL_SESSION=deadbeef set: the exported value is a session id" \
    '^sid=[0-9a-f]{8}$' "$(grep '^sid=' <<<"$c")"
check "... not the caller's" test "$(kv sid "$c")" != deadbeef
check_match "... and it is the record of this login (same namespace inode)" \
    "net:\\[([0-9]+)\\].*netns_ino=\\1" "$c"
check_match "carol's earlier held login exported its own session id" "sid=$csid" \
    "$(cat "$SB/tmp/hold-h1.out")"
# 3. pam_env with user_readenv before pam_ns, reading a user file.
pam_with_ns su-l 'session  required   pam_env.so user_readenv=1 user_envfile=.pam_environment'
printf 'NS_SHELL_SESSION DEFAULT=deadbeef\n' >/home/alice/.pam_environment
chown alice:alice /home/alice/.pam_environment
as_user alice 'echo "sid=$NS_SHELL_SESSION"; readlink /proc/self/ns/net; cat /run/ns-shell/sessions/$NS_SHELL_SESSION'
settle 2001
check_login "a login with ~/.pam_environment setting NS_SHELL_SESSION works"
check_match "... the login's NS_SHELL_SESSION is the record's, not the user's" \
    '^sid=[0-9a-f]{8}$' "$(grep '^sid=' <<<"$AS_OUT")"
check "... not deadbeef" test "$(kv sid "$AS_OUT")" != deadbeef
check_match "... and it names this login's namespace" "net:\\[([0-9]+)\\].*netns_ino=\\1" "$AS_OUT"
# 4. pam_env after pam_ns overwrites the PAM value: ns-shell still uses the record.
sandbox_pam su-l <<EOF
auth     sufficient pam_rootok.so
account  required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO
session  required   pam_env.so user_readenv=1 user_envfile=.pam_environment
EOF
printf 'NS_SHELL_SESSION OVERRIDE=deadbeef\n' >/home/alice/.pam_environment
as_user alice 'echo "sid=$NS_SHELL_SESSION"; readlink /proc/self/ns/net; cat /run/ns-shell/sessions/$NS_SHELL_SESSION'
check_login "a login whose PAM environment ends with a forged NS_SHELL_SESSION works"
check "... and ns-shell exports the record's session id, not the forged one" \
    test "$(kv sid "$AS_OUT")" != deadbeef
check_match "... which names this login's namespace" "net:\\[([0-9]+)\\].*netns_ino=\\1" "$AS_OUT"
settle 2001
rm -f /home/alice/.pam_environment
pam_with_ns su-l

# ----------------------------------------------------- exempt users ---
: >"$SB_SYSLOG.mark"
check "pamtester as root (exempt) succeeds (pam_ns: PAM_IGNORE)" \
    pamtester nsdebug root open_session close_session
check "... pam_ns says root is not namespaced (uid 0, decided before the config)" \
    sandbox_log_wait 'pam_ns\(nsdebug:session\): root: not namespaced \(uid 0\)'
check_eq "... and leaves no record" 0 "$(n_records)"
check_eq "su root stays in the host's network namespace" "net:[$HOSTNET]" \
    "$(su root -c 'readlink /proc/self/ns/net' </dev/null 2>&1)"
sandbox_conf <<'EOF'
exempt_users  = {"root", "carol"}
exempt_groups = {"nsfree"}
user "gina" { network = "host" }
EOF
check_eq "su carol (in exempt_users) stays in the host's network namespace" \
    "net:[$HOSTNET]" "$(su carol -c 'readlink /proc/self/ns/net' </dev/null 2>&1)"
check_eq "su frank (in exempt_groups) stays in the host's network namespace" \
    "net:[$HOSTNET]" "$(su frank -c 'readlink /proc/self/ns/net' </dev/null 2>&1)"
check_eq "su gina (network = host) stays in the host's network namespace" \
    "net:[$HOSTNET]" "$(su gina -c 'readlink /proc/self/ns/net' </dev/null 2>&1)"
check "pamtester for carol (exempt) succeeds" pamtester nsdebug carol open_session close_session
check_eq "exempt and host logins left no record" 0 "$(n_records)"
check_eq "... no lease" "" "$(lease_of frank)$(lease_of gina)"
check_fail "... and no veth" ip link show dev nsu2003
check_eq "hugo (not exempt) is namespaced under the same config" 0 \
    "$(su hugo -c 'readlink /proc/self/ns/net' </dev/null | grep -c "net:\[$HOSTNET\]")"

# --------------------------------------------- network = isolated ---
sandbox_conf <<'EOF'
user "erin" { network = "isolated" }
user "dave" { netns = "session" }
EOF
hold e1 erin 'readlink /proc/self/ns/net; echo "sid=$NS_SHELL_SESSION"; ip -br link'
check "a held isolated login of erin has a record" wait_until 10 has_n_records_of 2005 1
esid=$(sids_of 2005)
wait_until 5 grep -q '^sid=' "$SB/tmp/hold-e1.out"
e=$(cat "$SB/tmp/hold-e1.out")
check_eq "ns-shell accepts the isolated namespace (the login runs, its sid)" "$esid" "$(kv sid "$e")"
check_eq "the isolated login is in the record's namespace" "net:[$(rec "$esid" netns_ino)]" \
    "$(grep '^net:' <<<"$e")"
check_match "only lo inside, up" '^lo +UNKNOWN' "$(grep -v -e '^net:' -e '^sid=' <<<"$e")"
check_eq "... and nothing else" 1 "$(grep -v -e '^net:' -e '^sid=' <<<"$e" | grep -c .)"
check_eq "the record has no veth and no address" "veth= address=" \
    "veth=$(rec "$esid" veth) address=$(rec "$esid" address)"
check_eq "the record's netns name is ns-erin" "ns-erin" "$(rec "$esid" netns)"
check_fail "no veth nsu2005 on the host" ip link show dev nsu2005
check_eq "no lease for erin" "" "$(lease_of erin)"
check "erin's namespace is not the host's" test "$(rec "$esid" netns_ino)" != "$HOSTNET"
release e1
check_eq "the isolated record is gone after logout" "" "$(sids_of 2005)"

# ----------------------------------------------- netns = session ---
rm -f /tmp/ready-d1 /tmp/ready-d2
for d in d1 d2; do
    hold "$d" dave "readlink /proc/self/ns/net; ip -br -4 addr show dev eth0; ip -o link show dev eth0
$PY $SB/bin/banner.py 0.0.0.0 8082 DAVE-$d /tmp/ready-$d &"
done
check "two held logins of dave (netns = session) have two records" \
    wait_until 10 has_n_records_of 2004 2
mapfile -t dsids < <(sids_of 2004)
s1=${dsids[0]} s2=${dsids[1]:-}
check "the two logins have different namespaces" \
    test "$(rec "$s1" netns_ino)" != "$(rec "$s2" netns_ino)"
check_eq "their namespaces are named ns-dave-<sid>" "ns-dave-$s1 ns-dave-$s2" \
    "$(rec "$s1" netns) $(rec "$s2" netns)"
check_eq "their veths are nss<sid>" "nss$s1 nss$s2" "$(rec "$s1" veth) $(rec "$s2" veth)"
i=0
for s in "$s1" "$s2"; do
    i=$((i + 1))
    check_match "dave's veth #$i (nss<sid>) is on the host with master nsbr0 and dave's alias" \
        'master nsbr0.*alias ns-shell user=dave uid=2004' "$(ip -d link show dev "nss$s" 2>&1 | tr '\n' ' ')"
done
check_fail "no per-user veth nsu2004 for a per-session user" ip link show dev nsu2004
wait_until 5 grep -q 'link/ether' "$SB/tmp/hold-d1.out"
wait_until 5 grep -q 'link/ether' "$SB/tmp/hold-d2.out"
a1=$(rec "$s1" address) a2=$(rec "$s2" address)
check "the two per-session namespaces of dave do not share one address on the bridge" \
    test "$a1" != "$a2"
m1=$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' "$SB/tmp/hold-d1.out")
m2=$(sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' "$SB/tmp/hold-d2.out")
check "... nor one MAC address (eth0 inside: '$m1' vs '$m2')" test "$m1" != "$m2"
wait_until 5 test -e /tmp/ready-d1 -a -e /tmp/ready-d2
# Which login is behind which record: match the namespace inodes.
for d in d1 d2; do
    for s in "$s1" "$s2"; do
        grep -qx "net:\[$(rec "$s" netns_ino)\]" "$SB/tmp/hold-$d.out" &&
            check_eq "the host reaches dave's login $d on its own address $(rec "$s" address)" "DAVE-$d" \
                "$("$PY" "$SB/bin/probe.py" "$(rec "$s" address | cut -d/ -f1)" 8082 2>&1)"
    done
done
release d1 d2
check_eq "dave's records are gone after logout" "" "$(sids_of 2004)"
check "both nss veths disappear" \
    wait_until 30 bash -c "! ip link show dev nss$s1 && ! ip link show dev nss$s2"

check_eq "nothing is left open at the end" 0 "$(n_records)"
sandbox_finish
