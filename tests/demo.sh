#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2012,SC2016,SC2119,SC2317  # ls of known names; remote/bash -c text single-quoted on purpose; trap function
# tests/demo.sh — what ns-shell does, shown with real SSH logins (`make demo`).
#
# Runs as root, entirely inside the integration tests' throwaway sandbox
# (tests/integration/sandbox.sh): a new network namespace stands in for the
# host (its own bridge, addresses, sshd on 127.0.0.1), /run, /dev, /home and
# /var/lib/ns-shell are tmpfs, /etc, /var, /tmp, /root are overlays, and the
# account, PAM and ns.conf files are bind-mounted copies. The demo is PID 1 of
# its own PID namespace, so everything it starts dies with it. Nothing touches
# the real network or the real /etc; the outer part compares the real host
# before and after to show it.
#
# Steps: two users, alice and bob, with ns-shell as their login shell and
# pam_ns.so in sshd's session stack. Each holds one login open (running a
# small TCP listener in it) while the demo logs in a second time and puts
# what the user sees next to what the host sees. Then both log out and the
# demo shows that nothing is left but the address leases. Ends with PASS/FAIL
# per point; exit 0 only if every point held.
#
# Needs: make all (build/ns-shell, build/pam_ns.so, build/nsctl), openssh,
# iproute2, python3. Takes a few seconds.
set -u -o pipefail

# shellcheck source=SCRIPTDIR/integration/sandbox.sh
. "$(dirname "$0")/integration/sandbox.sh" || exit 1

# ------------------------------------------------------------ outer part ----
# Before entering the sandbox: note the real host's state, run the demo as a
# child (sandbox_enter re-executes it in new namespaces), compare afterwards.

demo_host_state() {
    local p
    echo "## links";     ip -o link show | awk -F': ' '{print $2}' | sort
    echo "## addresses"; ip -o addr show | awk '{print $2, $3, $4}' | sort
    echo "## routes";    ip route show table all | sort
    echo "## mounts";    findmnt -rn -o TARGET,SOURCE,FSTYPE | sort
    echo "## files"
    for p in /run/ns-shell /var/lib/ns-shell /etc/netns /etc/security/ns.conf; do
        [[ -e $p || -L $p ]] && echo "exists $p"
    done
    sha256sum /etc/passwd /etc/group /etc/shadow /etc/shells /etc/pam.d/sshd 2>/dev/null
    ls -A /home
}

if [[ ${NS_SB_INNER:-} != 1 && ${NS_DEMO_CHILD:-} != 1 ]]; then
    if (( EUID != 0 )); then
        echo "demo: needs root (it runs in throwaway namespaces)" >&2
        exit 1
    fi
    for f in "$NS_BUILD/ns-shell" "$NS_BUILD/pam_ns.so" "$NS_BUILD/nsctl"; do
        [[ -f $f ]] || { echo "demo: $f is missing: run 'make all' first" >&2; exit 1; }
    done
    for t in unshare ip bridge ssh /usr/sbin/sshd /usr/bin/python3 timeout findmnt; do
        command -v "$t" >/dev/null 2>&1 || { echo "demo: missing $t (make deps)" >&2; exit 1; }
    done
    unset NS_SB_INNER NS_SB_HOSTNET NS_SB_HOSTMNT NS_SB_RUN
    demo_t0=$EPOCHREALTIME
    demo_before=$(demo_host_state)
    NS_DEMO_CHILD=1 NS_DEMO_HOSTUTS=$(stat -L -c %i /proc/self/ns/uts) \
        timeout --foreground 60 "$BASH" "$0" "$@"
    rc=$?
    (( rc == 124 || rc == 137 )) && echo "demo: TIMED OUT after 60 s"
    for ((i = 0; i < 20; i++)); do   # a freed veth may take a moment: look for 2 s
        demo_after=$(demo_host_state)
        [[ $demo_after == "$demo_before" ]] && break
        sleep 0.1
    done
    if [[ $demo_after == "$demo_before" ]]; then
        printf '  %-6s %s\n' PASS "the real host is unchanged (links, addresses, routes, mounts, account/PAM files)"
    else
        printf '  %-6s %s\n' FAIL "the real host is unchanged (links, addresses, routes, mounts, account/PAM files)"
        diff <(printf '%s\n' "$demo_before") <(printf '%s\n' "$demo_after") | sed 's/^/         /'
        echo "         (another sandbox or tool changing the host at the same time also shows here)"
        rc=1
    fi
    ms=$(( (${EPOCHREALTIME/./} - ${demo_t0/./}) / 1000 ))
    printf '\nDemo %s in %d.%03d s.\n' "$( ((rc == 0)) && echo PASSED || echo FAILED)" \
        $((ms / 1000)) $((ms % 1000))
    exit $(( rc == 0 ? 0 : 1 ))
fi

sandbox_enter "$0" "$@"
# shellcheck source=SCRIPTDIR/integration/lib.sh
. "$(dirname "$0")/integration/lib.sh" || exit 1
T_START=$EPOCHREALTIME

# ------------------------------------------------------------- inner part ---
# From here on we are PID 1 of the sandbox.

GW=10.213.0.1
PORT=8080
USERS=(alice bob)
declare -A UID_OF=([alice]=2001 [bob]=2002)
declare -A ADDR_OF=() HOLD_PID=() HOLD_FD=()
W=54                  # width of one column in the side-by-side views
DEMO_DONE=0

POINT_RES=()
POINT_DESC=()
point() { # PASS|FAIL DESC
    POINT_RES+=("$1")
    POINT_DESC+=("$2")
    printf '  -> %s: %s\n' "$1" "$2"
}
verdict() { # DESC CONDITION-STATUS : point PASS if the status is 0
    if (( $2 == 0 )); then point PASS "$1"; else point FAIL "$1"; fi
}

demo_exit() {
    local rc=$?
    (( DEMO_DONE || SB_FINISHED )) && return
    SB_FINISHED=1
    printf '\ndemo: stopped early (exit status %d) -- FAIL\n' "$rc"
    exit 1
}
trap demo_exit EXIT

demo_die() {
    printf '\ndemo: %s -- FAIL\n' "$1"
    [[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/    /'
    DEMO_DONE=1
    exit 1
}

title() {
    printf '\n==== %s %s\n' "$1" "$(printf '=%.0s' $(seq $((70 - ${#1}))))"
    [[ -n ${NS_DEMO_TRACE:-} ]] && printf '[t=%s ms]\n' "$(( (${EPOCHREALTIME/./} - ${T_START/./}) / 1000 ))"
}
sub()   {
    printf '\n--- %s\n' "$1"
    [[ -n ${NS_DEMO_TRACE:-} ]] && printf '[t=%s ms]\n' "$(( (${EPOCHREALTIME/./} - ${T_START/./}) / 1000 ))"
}
indent() { sed 's/^/    /'; }

# side_by_side LEFT_TITLE LEFT_FILE RIGHT_TITLE RIGHT_FILE : two columns, long
# lines wrapped at word boundaries (continuations indented by two spaces).
side_by_side() {
    awk -v w="$W" -v lt="$1" -v rt="$3" '
        function wrap(s, arr,    n, cut) {
            n = 0
            while (length(s) > w) {
                cut = w
                while (cut > w / 2 && substr(s, cut + 1, 1) != " ") cut--
                if (cut <= w / 2) cut = w
                arr[++n] = substr(s, 1, cut)
                s = "  " substr(s, cut + 1)
                sub(/^   +/, "  ", s)
            }
            arr[++n] = s
            return n
        }
        function add(side, s,    a, n, i) {
            n = wrap(s, a)
            for (i = 1; i <= n; i++) cell[side, ++cnt[side]] = a[i]
        }
        FNR == 1 { side++ }
        { add(side, $0) }
        END {
            line = sprintf("%" w "s", ""); gsub(/ /, "-", line)
            printf "    %-" w "s | %s\n", lt, rt
            printf "    %s-+-%s\n", line, line
            m = cnt[1] > cnt[2] ? cnt[1] : cnt[2]
            for (i = 1; i <= m; i++)
                printf "    %-" w "s | %s\n", cell[1, i], cell[2, i]
        }' "$2" "$4"
}

section() { # NAME FILE : the lines of one "@@NAME" section of a probe output
    awk -v s="@@$1" '/^@@/ { on = ($0 == s); next } on' "$2"
}

# session_field USER KEY : KEY of USER's (first) session record.
session_field() {
    local f
    for f in /run/ns-shell/sessions/*; do
        [[ -f $f ]] || continue
        if grep -qx "user=$1" "$f"; then
            sed -n "s/^$2=//p" "$f"
            return 0
        fi
    done
    return 1
}
session_count() {
    local n=0 f
    for f in /run/ns-shell/sessions/*; do [[ -f $f ]] && n=$((n + 1)); done
    echo "$n"
}
nsu_links() { ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^nsu[0-9]+$'; }
tcp_ok() { timeout 1.5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

# What both sides run: the host with bash, a user through ssh (ns-shell -c).
# Sections start with "@@NAME". NB is the neighbour's address.
PROBE='
probe() {
    local err rc=0 t0=$EPOCHREALTIME
    err=$(timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1) || rc=$?
    local ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
    if (( rc == 0 )); then echo "OK: connected to $1:$2 ($ms ms)"
    elif (( rc == 124 )); then echo "BLOCKED: $1:$2 no answer in 5 s"
    elif [[ $err == *"No route to host"* ]]; then
        echo "BLOCKED: $1:$2 No route to host (ARP unanswered, $ms ms)"
    else echo "FAILED: $1:$2 ${err##*: } ($ms ms)"; fi
}
s() { printf "@@%s\n" "$1"; }
s id;       id
s ps;       ps -e -o pid,user:8,comm
s hostname; hostname
s addr;     ip -br addr
s route;    ip route
s gw;       probe "$GW" "$PORT"
s nb;       probe "$NB" "$PORT"
'


# ================================================================= setup ====
title "Setup (inside the sandbox: its own network, /run, /etc copies)"

# A recognisable host name, only if the sandbox really has its own UTS namespace.
if [[ -n ${NS_DEMO_HOSTUTS:-} && $(stat -L -c %i /proc/self/ns/uts) != "$NS_DEMO_HOSTUTS" ]]; then
    hostname demo-host
fi
HOSTNAME_HOST=$(hostname)

sandbox_install_ns_shell
for u in "${USERS[@]}"; do
    sandbox_add_user "$u" "${UID_OF[$u]}"
done

sandbox_conf <<EOF
# ns.conf of the demo
bridge         = "nsbr0"
create_bridge  = true
bridge_address = "$GW/16"
pool           = "10.213.0.0/16"
gateway        = "$GW"
isolate_ports  = true
exempt_users   = {"root"}
state_dir      = "/run/ns-shell"
lease_file     = "/var/lib/ns-shell/leases"

default {
    namespaces = {"pid", "ipc", "mount", "uts", "net"}
    network    = "bridge"
    netns      = "user"
    address    = "pool"
    hostname   = "%u-box"
    shell      = "/bin/bash"
}
EOF

pam_sshd_ns

sandbox_sshd
for u in "${USERS[@]}"; do sandbox_ssh_authorize "$u"; done

# The gateway listener. The bridge and its address appear only with the
# first login (create_bridge = true), so let it bind before the address
# exists (a per-namespace sysctl: the sandbox's network only).
sysctl -qw net.ipv4.ip_nonlocal_bind=1 || demo_die "cannot set ip_nonlocal_bind in the sandbox"
mkdir -p "$SB/www" && echo "hello from the host" >"$SB/www/index.html"
(cd "$SB/www" && exec "$SB_PYTHON" -m http.server --bind "$GW" "$PORT") \
    </dev/null >"$SB/http.log" 2>&1 &
for ((i = 0; i < 200; i++)); do
    ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && break
    sleep 0.01
done
ss -Hltn "sport = :$PORT" | grep -q . || demo_die "the gateway listener did not start" "$(cat "$SB/http.log")"

cat <<EOF
    host name       $HOSTNAME_HOST (the sandbox's own UTS namespace)
    ns-shell        $SB/bin/ns-shell ($(stat -c '%U, mode %a' "$SB/bin/ns-shell"))
$(for u in "${USERS[@]}"; do getent passwd "$u"; done |
    awk -F: '{ printf "    %-15s %s\n", NR == 1 ? "users" : "", $1 " (uid " $3 ", home " $6 ", shell " $7 ")" }')
    ns.conf         bridge nsbr0 $GW/16, pool 10.213.0.0/16, hostname "%u-box", isolate_ports
    PAM sshd        session required $PAM_NS_SO
    sshd            127.0.0.1:$SB_SSH_PORT, key authentication (pid $SB_SSHD_PID)
    gateway server  python3 -m http.server --bind $GW $PORT
EOF
sub "host before any login"
{
    echo "\$ ip -br link"; ip -br link
    echo "\$ ls /run/ns-shell/sessions";  ls -A /run/ns-shell/sessions 2>&1
    echo "\$ nsctl leases"; "$NSCTL" leases 2>&1
} | indent

# ============================================================ logins =====
title "alice and bob log in (each holds one ssh session open)"
# Each holding session runs a TCP listener on its own address, port $PORT,
# and waits for end of input: closing our end of the FIFO logs it out.
# (Not http.server: it resolves its own name at start, and inside the user's
# network the host's resolver does not answer: 10 s of DNS timeouts.)
HOLD_CMD='python3 -c "import socket; s = socket.create_server((\"\", '"$PORT"')); [c.close() for c, _ in iter(s.accept, None)]" & read -r _; kill $!; exit 0'
for u in "${USERS[@]}"; do
    mkfifo -m 0600 "$SB/hold.$u"
    "${SB_SSH[@]}" "$u@127.0.0.1" "$HOLD_CMD" <"$SB/hold.$u" >"$SB/hold.$u.out" 2>&1 &
    HOLD_PID[$u]=$!
    exec {fd}>"$SB/hold.$u"
    HOLD_FD[$u]=$fd
    echo "    \$ ssh $u@127.0.0.1 'python3 -c \"<TCP listener on :$PORT>\" & read -r _; kill \$!; exit 0' &"
    # Wait (at most 10 s) for the session record and the user's listener;
    # one after the other, so that alice gets the first address.
    t0=$EPOCHREALTIME ready=0
    for ((i = 0; i < 500; i++)); do
        if a=$(session_field "$u" address) && [[ -n $a ]]; then
            ADDR_OF[$u]=${a%/*}
            tcp_ok "${ADDR_OF[$u]}" "$PORT" && { ready=1; break; }
        fi
        kill -0 "${HOLD_PID[$u]}" 2>/dev/null ||
            demo_die "$u's login ended early" \
                "$(cat "$SB/hold.$u.out"; tail -n 20 "$SB/sshd.log"; tail -n 10 "$SB_SYSLOG")"
        sleep 0.02
    done
    (( ready )) || demo_die "$u's login did not come up within 10 s" \
        "$(tail -n 20 "$SB/sshd.log"; tail -n 10 "$SB_SYSLOG")"
    printf '      %s is logged in after %d ms: address %s, listener on %s:%s\n' "$u" \
        $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) "${ADDR_OF[$u]}" "${ADDR_OF[$u]}" "$PORT"
done

# ========================================================= views ========
for u in "${USERS[@]}"; do
    uid=${UID_OF[$u]}
    if [[ $u == alice ]]; then nb=bob; else nb=alice; fi
    nbaddr=${ADDR_OF[$nb]}
    vars="GW=$GW PORT=$PORT NB=$nbaddr"
    title "What $u sees, next to what the host sees"
    echo "    (a second ssh login of $u; $nb is logged in too, holding ${nbaddr}:$PORT open)"

    hf=$SB/view.host.$u uf=$SB/view.$u
    env GW="$GW" PORT="$PORT" NB="$nbaddr" bash -c "$PROBE" >"$hf" 2>&1
    [[ -n ${NS_DEMO_TRACE:-} ]] && printf '[t=%s ms host probe done]\n' "$(( (${EPOCHREALTIME/./} - ${T_START/./}) / 1000 ))"
    AS_TIMEOUT=20 as_ssh "$u" "$vars; $PROBE"
    [[ -n ${NS_DEMO_TRACE:-} ]] && printf '[t=%s ms ssh probe done]\n' "$(( (${EPOCHREALTIME/./} - ${T_START/./}) / 1000 ))"
    printf '%s\n' "$AS_OUT" >"$uf"
    if (( AS_RC != 0 )); then
        printf '    ssh %s failed (status %d): %s\n' "$u" "$AS_RC" "$AS_ERR"
    fi

    for spec in "id:\$ id" "ps:\$ ps -e -o pid,user,comm" "hostname:\$ hostname" \
                "addr:\$ ip -br addr" "route:\$ ip route" \
                "gw:TCP connect to the gateway $GW:$PORT" \
                "nb:TCP connect to $nb's address $nbaddr:$PORT (port isolation)"; do
        name=${spec%%:*} label=${spec#*:}
        sub "$label"
        side_by_side "host sees" <(section "$name" "$hf") "$u sees" <(section "$name" "$uf")
    done

    echo
    # id
    [[ $(section id "$uf") == "uid=$uid($u) gid=$uid($u)"* ]]
    verdict "$u: runs as $u (uid $uid), not root" $?
    # ps
    u_procs=$(section ps "$uf" | tail -n +2 | wc -l)
    h_procs=$(section ps "$hf" | tail -n +2 | wc -l)
    h_user=$(section ps "$hf" | awk -v u="$u" '$2 == u' | wc -l)
    { section ps "$uf" | awk '$1 == 1' | grep -q . &&
      ! section ps "$uf" | grep -qw -e sshd -e python3 &&
      (( u_procs > 0 && u_procs <= 6 && h_user > 0 )); }
    verdict "$u: own PID namespace: sees $u_procs processes (PID 1 is the login's), the host sees $h_procs incl. $h_user of $u's" $?
    # hostname
    [[ $(section hostname "$uf") == "$u-box" && $(section hostname "$hf") == "$HOSTNAME_HOST" ]]
    verdict "$u: own UTS namespace: hostname \"$u-box\", host keeps \"$HOSTNAME_HOST\"" $?
    # addresses
    u_ifs=$(section addr "$uf" | awk '{sub(/@.*/, "", $1); print $1}' | sort | tr '\n' ' ')
    { [[ $u_ifs == "eth0 lo " ]] &&
      section addr "$uf" | grep -Eq "^eth0(@[^ ]*)? +UP +${ADDR_OF[$u]//./\\.}/16" &&
      section addr "$hf" | grep -Eq "^nsu$uid@" &&
      section addr "$hf" | grep -Eq "^nsbr0 +UP +${GW//./\\.}/16"; }
    verdict "$u: own network: only lo and eth0 ${ADDR_OF[$u]}/16; the host has nsbr0 $GW/16 and veth nsu$uid" $?
    # route
    section route "$uf" | grep -Eq "^default via ${GW//./\\.} dev eth0"
    verdict "$u: default route via the gateway $GW" $?
    # gateway
    [[ $(section gw "$uf") == OK:* ]]
    verdict "$u: reaches the gateway $GW:$PORT" $?
    # neighbour
    nbres=$(section nb "$uf")
    [[ $nbres == BLOCKED:* && $(section nb "$hf") == OK:* ]]
    verdict "$u: cannot reach $nb's $nbaddr:$PORT (port isolation), which the host reaches" $?
done

# ========================================================= nsctl ========
title "The host while both are logged in"
# The second logins above have ended; their records go when sshd closes
# their PAM sessions, which may trail the client by a moment.
for ((i = 0; i < 100; i++)); do
    [[ $(session_count) == 2 ]] && break
    sleep 0.01
done
sub "\$ nsctl status"
status_out=$("$NSCTL" status 2>&1)
status_rc=$?
printf '%s\n' "$status_out" | indent
sub "\$ bridge -d link show master nsbr0   (isolated = port isolation)"
bridge -d link show master nsbr0 2>&1 |
    awk '/^[0-9]+:/ { name = $2; sub(/@.*/, "", name); sub(/:$/, "", name) }
         /isolated/ { for (i = 1; i <= NF; i++) if ($i == "isolated") print "    " name ": isolated " $(i + 1) }'
sub "\$ ls /run/ns-shell/sessions"
ls -A /run/ns-shell/sessions | indent
echo
ok=0
(( status_rc == 0 )) || ok=1
for u in "${USERS[@]}"; do
    printf '%s\n' "$status_out" |
        awk -v u="$u" -v v="nsu${UID_OF[$u]}" -v a="${ADDR_OF[$u]}/16" \
            '$2 == u && $6 == v && $7 == a && !/stale/ { f = 1 } END { exit !f }' || ok=1
done
(( $(printf '%s\n' "$status_out" | tail -n +2 | grep -c .) == 2 )) || ok=1
verdict "nsctl status lists exactly the two open sessions (alice on nsu2001, bob on nsu2002)" $ok
ok=0
for u in "${USERS[@]}"; do
    bridge -d link show dev "nsu${UID_OF[$u]}" 2>/dev/null | grep -q "isolated on" || ok=1
done
verdict "both veths are isolated ports of nsbr0" $ok

# ========================================================= logout =======
title "Both log out"
for u in "${USERS[@]}"; do
    echo "    $u: end of input (close the FIFO)"
    eval "exec ${HOLD_FD[$u]}>&-"
done
ok=0
for u in "${USERS[@]}"; do
    for ((i = 0; i < 250; i++)); do
        kill -0 "${HOLD_PID[$u]}" 2>/dev/null || break
        sleep 0.02
    done
    if kill -0 "${HOLD_PID[$u]}" 2>/dev/null; then
        echo "    $u's ssh did not end within 5 s"; ok=1
    else
        wait "${HOLD_PID[$u]}"; rc=$?
        echo "    $u's ssh session ended (exit status $rc)"
    fi
done
t0=$EPOCHREALTIME
for ((i = 0; i < 200; i++)); do
    [[ $(session_count) == 0 ]] && break
    sleep 0.01
done
[[ -n ${NS_DEMO_TRACE:-} ]] && printf '[records gone after %s ms]\n' "$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))"
for ((; i < 200; i++)); do
    [[ $(session_count) == 0 && -z $(nsu_links) ]] && break
    sleep 0.01
done
gone_ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
left_links=$(nsu_links | tr '\n' ' ')
echo "    records and veths gone ${gone_ms} ms after the clients exited (polled up to 2 s)"

sub "\$ ls -A /run/ns-shell/sessions"
ls -A /run/ns-shell/sessions 2>&1 | indent
sub "\$ ip -br link"
ip -br link | indent
sub "\$ bridge link show master nsbr0"
bridge link show master nsbr0 2>&1 | indent
sub "\$ nsctl status"
"$NSCTL" status 2>&1 | indent
sub "\$ nsctl leases      (the lease store, /var/lib/ns-shell/leases.d/)"
leases=$("$NSCTL" leases 2>&1)
printf '%s\n' "$leases" | indent
echo
[[ $(session_count) == 0 ]]
verdict "no session records left under /run/ns-shell/sessions" $?
[[ -z $left_links ]]
verdict "no nsu* veths left on the host${left_links:+ (left: $left_links)}" $?
ok=0
for u in "${USERS[@]}"; do
    printf '%s\n' "$leases" |
        awk -v id="${UID_OF[$u]}" -v u="$u" -v a="${ADDR_OF[$u]}" \
            '$1 == a && $2 == u && $3 == id && $5 == "no" { f = 1 } END { exit !f }' || ok=1
done
verdict "the leases are kept (alice ${ADDR_OF[alice]}, bob ${ADDR_OF[bob]})" $ok

# ========================================================= summary ======
title "Summary"
fails=0
for i in "${!POINT_RES[@]}"; do
    printf '  %-6s %s\n' "${POINT_RES[$i]}" "${POINT_DESC[$i]}"
    [[ ${POINT_RES[$i]} == PASS ]] || fails=$((fails + 1))
done
ms=$(( (${EPOCHREALTIME/./} - ${T_START/./}) / 1000 ))
DEMO_DONE=1
SB_FINISHED=1
if (( fails )); then
    printf '  (%d of %d points failed; inside the sandbox %d.%03d s)\n' \
        "$fails" "${#POINT_RES[@]}" $((ms / 1000)) $((ms % 1000))
    exit 1
fi
exit 0
