#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# dns = {...}: pam_ns writes $(state_dir)/netns/<netns>/resolv.conf and
# ns-shell bind-mounts it over /etc/resolv.conf inside the login, so a
# dnsmasq on the bridge address resolves names for the user while the
# host's file stays as it is; /etc/netns/<netns>/resolv.conf wins over the
# key; nsctl check warns about a loopback stub resolver with no dns set.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted login commands; sandbox_install_ns_shell takes no args here; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1  # never run on without the sandbox
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# nameservers FILE-CONTENT: the nameserver addresses, space separated
nameservers() { awk '$1 == "nameserver" { print $2 }' <<<"$1" | xargs; }

# ---------------------------------------------------------------- setup ---
sandbox_install_ns_shell
add_users 2001 alice bob
PAM_NS_ARGS='' pam_with_ns su su-l
sandbox_conf <<'EOF'
default { dns = {"10.213.0.1"} }
EOF
bridge_up
# A resolver on the bridge address (and nowhere else): answers test.example.
/usr/sbin/dnsmasq --conf-file=/dev/null --keep-in-foreground --user=root --group=root \
    --port=53 --listen-address=10.213.0.1 --bind-interfaces --no-resolv --no-hosts \
    --address=/test.example/10.213.0.1 --pid-file="$SB/dnsmasq.pid" \
    --log-facility="$SB/dnsmasq.log" --log-queries </dev/null >"$SB/dnsmasq.out" 2>&1 &
wait_until 5 grep -q 'started, version' "$SB/dnsmasq.log" ||
    sandbox_die "dnsmasq did not start" "$(cat "$SB/dnsmasq.out" "$SB/dnsmasq.log" 2>&1)"
host_resolv=$(cat /etc/resolv.conf)
host_resolv_sum=$(sha256sum </etc/resolv.conf)
check_fail "the sandbox host's own resolv.conf does not name 10.213.0.1" \
    grep -q '10\.213\.0\.1' /etc/resolv.conf

# --------------------------------------------------- dns from ns.conf ---
as_user alice 'cat /etc/resolv.conf; echo ---; getent hosts test.example; echo ---
'"$PY $SB/bin/resolve.py test.example"'; echo ---
(echo nameserver 192.0.2.9 >>/etc/resolv.conf) 2>&1 && echo WROTE; true'
check_login "su - alice with dns = {\"10.213.0.1\"} succeeds"
split_parts "$AS_OUT"
check_eq "inside the login /etc/resolv.conf names exactly 10.213.0.1" "10.213.0.1" \
    "$(nameservers "$(tr '|' '\n' <<<"${part[0]:-}")")"
check_match "getent hosts test.example resolves through dnsmasq on the bridge" \
    '^10\.213\.0\.1 +test\.example\|$' "${part[1]:-}"
check_eq "python's socket.gethostbyname resolves it too" "10.213.0.1|" "${part[2]:-}"
check "dnsmasq answered a query from alice's address" \
    grep -qE 'query\[A\] test\.example from 10\.213\.' "$SB/dnsmasq.log"
check_match "alice cannot write the login's /etc/resolv.conf (EACCES)" \
    'resolv\.conf: Permission denied\|$' "${part[3]:-}"
check_eq "the sandbox host's /etc/resolv.conf is unchanged" "$host_resolv_sum" \
    "$(sha256sum </etc/resolv.conf)"
settle 2001

hold h1 alice 'cat /etc/resolv.conf'
check "a held login of alice has a record" wait_until 10 has_n_records_of 2001 1
sid=$(sids_of 2001)
nsname=$(rec "$sid" netns)
f=$NETNS_DIR/$nsname/resolv.conf
check_eq "pam_ns wrote $f with the dns key" "10.213.0.1" "$(nameservers "$(cat "$f" 2>&1)")"
check_eq "... a root-owned 0644 file" "root 644" "$(stat -c '%U %a' "$f" 2>&1)"
wait_until 5 grep -q nameserver "$SB/tmp/hold-h1.out"
check_eq "the held login (su, not su -) sees it as /etc/resolv.conf too" "10.213.0.1" \
    "$(nameservers "$(cat "$SB/tmp/hold-h1.out")")"
check_eq "the host's /etc/resolv.conf meanwhile is its own" "$host_resolv" "$(cat /etc/resolv.conf)"
release h1
settle 2001

# -------------------------- /etc/netns/<netns>/resolv.conf wins over dns ---
mkdir -p /etc/netns/ns-alice
printf 'nameserver 10.213.0.254\nsearch example.org\n' >/etc/netns/ns-alice/resolv.conf
as_user alice 'cat /etc/resolv.conf'
check_login "a login of alice with /etc/netns/ns-alice/resolv.conf present succeeds"
check_eq "/etc/netns/ns-alice/resolv.conf wins over the dns key inside alice's login" \
    "10.213.0.254" "$(nameservers "$AS_OUT")"
check_match "... the whole file (its search line too)" 'search example\.org' "$AS_OUT"
as_user bob 'cat /etc/resolv.conf'
check_eq "bob (no /etc/netns/ns-bob) still gets the dns key" "10.213.0.1" "$(nameservers "$AS_OUT")"
settle 2001
# Other files there are bound over /etc too (as ip netns exec does). (The
# resolver there goes first: it does not exist, so lookups would wait.)
rm -f /etc/netns/ns-alice/resolv.conf
printf '10.213.0.77 only-alice.test\n' >/etc/netns/ns-alice/hosts
as_user alice 'getent hosts only-alice.test'
check_match "/etc/netns/ns-alice/hosts is alice's /etc/hosts" '^10\.213\.0\.77 +only-alice\.test$' "$AS_OUT"
as_user bob 'getent hosts only-alice.test; echo "rc=$?"'
check_match "... and not bob's" '^rc=2$' "$AS_OUT"
rm -rf /etc/netns
settle 2001
settle 2002

# ------------------------------------------------------------ no dns ---
: | sandbox_conf
as_user alice 'cat /etc/resolv.conf'
check_login "a login of alice with no dns key succeeds"
check_eq "... and sees the host's resolv.conf" "$host_resolv" "$AS_OUT"
settle 2001

# ---------------------------------------- nsctl check: loopback resolver ---
printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\n' >"$SB/resolv.stub"
chmod 0644 "$SB/resolv.stub"
mount --bind "$SB/resolv.stub" /etc/resolv.conf || sandbox_die "cannot bind a stub resolv.conf"
warn_re='warning: /etc/resolv.conf points at a loopback resolver \(127\.0\.0\.53\)'
out=$("$NSCTL" check 2>&1)
check_match "nsctl check warns: host resolv.conf at 127.0.0.53 and dns empty" "$warn_re" "$out"
check_match "... and says what to do (set dns)" 'set `dns` in ns\.conf' "$out"
sandbox_conf <<'EOF'
default { dns = {"10.213.0.1"} }
EOF
out=$("$NSCTL" check 2>&1)
check_fail "nsctl check does not warn once dns is set" grep -qE "$warn_re" <<<"$out"
printf 'nameserver 192.0.2.53\n' >"$SB/resolv.stub"
: | sandbox_conf
out=$("$NSCTL" check 2>&1)
check_fail "nsctl check does not warn with a non-loopback host resolver and dns empty" \
    grep -q 'loopback resolver' <<<"$out"
umount /etc/resolv.conf
check_eq "the sandbox host's /etc/resolv.conf is as it was" "$host_resolv_sum" \
    "$(sha256sum </etc/resolv.conf)"

# ------------------- /etc/resolv.conf a symlink to a stub (systemd-resolved) ---
# Inside the sandbox's /etc overlay only: a bind mount on the name (a
# container's) is taken off in the sandbox's mount namespace first.
while mountpoint -q /etc/resolv.conf; do umount /etc/resolv.conf || break; done
mkdir -p /run/systemd/resolve
printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\n' >/run/systemd/resolve/stub-resolv.conf
stub_sum=$(sha256sum </run/systemd/resolve/stub-resolv.conf)
rm -f /etc/resolv.conf && ln -s ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf ||
    sandbox_die "cannot make /etc/resolv.conf a symlink in the sandbox"
out=$("$NSCTL" check 2>&1)
check_match "symlinked stub resolver, dns empty: nsctl check warns" "$warn_re" "$out"
sandbox_conf <<'EOF'
default { dns = {"10.213.0.1"} }
EOF
as_user alice 'cat /etc/resolv.conf; getent hosts test.example'
check_login "a login with dns set and /etc/resolv.conf a symlink succeeds"
check_eq "... its resolv.conf names 10.213.0.1 only" "10.213.0.1" "$(nameservers "$AS_OUT")"
check_match "... and resolves through it" '10\.213\.0\.1 +test\.example' "$AS_OUT"
check_eq "... the stub file the symlink points at is unchanged" "$stub_sum" \
    "$(sha256sum </run/systemd/resolve/stub-resolv.conf)"
check_eq "... and so is the symlink" "../run/systemd/resolve/stub-resolv.conf" "$(readlink /etc/resolv.conf)"
settle 2001
check_eq "no record is left" 0 "$(n_records)"

sandbox_finish
