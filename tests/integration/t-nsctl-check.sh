#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nsctl check: a valid file, an invalid one (every error with FILE:LINE, exit
# 1), --conf PATH, the file's owner and mode, --user NAME (the resolved
# policy with the provenance of each key), the warnings (stderr, one line
# each, naming the file) about PAM stacks of sshd, login, su, su-l, cron,
# atd and systemd-user that lack pam_ns.so (direct lines, @include, session
# include/substack, comments; an absent file is no warning), and about
# TIOCSTI: the sysctl at 1, at 0, and absent (kernels before 6.2; a tmpfs
# over /proc/sys/dev/tty in the sandbox's mount namespace stands in).
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted user commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# ------------------------------------------------------------- helpers ---
# the value and provenance nsctl check --user prints for KEY
prov() { awk -v k="$1" '$1 == k && $2 == "=" { sub(/^[^=]*= /, ""); print }' <<<"$OUT"; }
pam_warns() { # SERVICE : does the last run warn (on stderr) about SERVICE's stack?
    grep -qxF "nsctl: warning: /etc/pam.d/$1: no pam_ns.so in the session stack: $1 starts users' processes outside their namespaces" <<<"$ERR"
}
warned_services() {
    sed -n "s|^nsctl: warning: /etc/pam.d/\([^:]*\): no pam_ns.so in the session stack: .*|\1|p" <<<"$ERR" | xargs
}
pam_plain() { # SERVICE : a stack without pam_ns
    sandbox_pam "$1" <<'EOF'
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so
EOF
}
pam_ns_line() { # SERVICE [LINE] : a stack with pam_ns (or LINE)
    sandbox_pam "$1" <<EOF
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so
${2:-session  required   $PAM_NS_SO}
EOF
}

# ---------------------------------------------------------------- setup ---
sandbox_add_user alice 2001 staff students
sandbox_add_user bob 2002
sandbox_add_user carol 2003 students

# ---------------------------------------------------------- valid file ---
conf_file "$SB/security/ns.conf" <<'EOF'
# a sample with every block kind
bridge = "nsbr0"
pool   = "10.213.0.0/16"
exempt_users = {"root"}
default {
    hostname = "box-%u"
    deny     = {"192.168.0.0/16"}
}
group "staff"    { rate = "10mbit" }
group "students" { network = "isolated"  private_tmp = true  rate = "20mbit" }
user  "alice"    { address = "10.213.0.50/16" }
EOF
run "$NSCTL" check
check_eq "check of the valid compiled-in file: exit 0" 0 "$RC"
check_eq "check of the valid file prints only 'valid' with its path on stdout" \
    "/etc/security/ns.conf: valid" "$OUT"
check "check of a valid file: only warnings on stderr" only_warnings "$ERR"

cp -p "$SB/security/ns.conf" "$SB/tmp/other.conf"
run "$NSCTL" check --conf "$SB/tmp/other.conf"
check_eq "check --conf PATH of a valid file: exit 0" 0 "$RC"
check_eq "check --conf PATH names that file" "$SB/tmp/other.conf: valid" "$OUT"

# ------------------------------------------------------- invalid files ---
conf_file "$SB/tmp/bad.conf" <<'EOF'
bridge = "this-name-is-far-too-long"
pool   = "10.213.0.0/16"
bogus_key = 1
mtu = 5
default {
    namespaces = {"pid", "ipc", "mount", "wat"}
    network = "bridged"
}
group "students" {
    address = "10.99.0.5/16"
}
user "alice" { rate = "fast" }
EOF
run "$NSCTL" check --conf "$SB/tmp/bad.conf"
check_eq "check of an invalid file: exit 1" 1 "$RC"
check_fail "check of an invalid file does not say valid" grep -q valid <<<"$OUT"
bad=$SB/tmp/bad.conf
for want in \
    "$bad:1: bridge: .*interface name" \
    "$bad:3: bogus_key: unknown key" \
    "$bad:4: mtu: 5 is not 0 or 68-65535" \
    "$bad:6: default: namespaces: unknown namespace \"wat\"" \
    "$bad:7: default: network: \"bridged\" is not one of bridge, isolated, host" \
    "$bad:10: group \"students\": address: 10.99.0.5/16 is outside pool 10.213.0.0/16" \
    "$bad:12: user \"alice\": rate: \"fast\" is not a rate"; do
    check_match "invalid file: reports '${want#"$bad":}'" "(^|$NL)nsctl: $want" "$ERR"
done
check_eq "invalid file: exactly one line per error (7)" 7 "$(grep -c "^nsctl: $bad:[0-9]*: " <<<"$ERR")"
check_eq "invalid file: errors come in line order" "1 3 4 6 7 10 12" \
    "$(sed -n "s|^nsctl: $bad:\([0-9]*\):.*|\1|p" <<<"$ERR" | xargs)"

conf_file "$SB/tmp/syntax.conf" <<'EOF'
bridge = "nsbr0"
default {
    network = "bridge"
EOF
run "$NSCTL" check --conf "$SB/tmp/syntax.conf"
check_eq "check of a file with a syntax error (unclosed block): exit 1" 1 "$RC"
check_match "a syntax error names the file" "nsctl: $SB/tmp/syntax.conf" "$ERR"

run "$NSCTL" check --conf "$SB/tmp/missing.conf"
check_eq "check --conf of a missing file: exit 1" 1 "$RC"
check_match "check --conf of a missing file: says so" \
    "$SB/tmp/missing.conf: cannot open: No such file or directory" "$ERR"
cp "$SB/tmp/other.conf" "$SB/tmp/nobody.conf"
chown 65534:65534 "$SB/tmp/nobody.conf"
run "$NSCTL" check --conf "$SB/tmp/nobody.conf"
check_eq "check of a file not owned by root: exit 1" 1 "$RC"
check_match "check of a file not owned by root: says so" \
    "^nsctl: $SB/tmp/nobody.conf: not owned by root \(owner uid 65534\)$NL" "$ERR"
check_match "... and that pam_ns and ns-shell refuse it too" \
    "${NL}nsctl: $SB/tmp/nobody.conf: pam_ns and ns-shell refuse it too" "$ERR"
cp "$SB/tmp/other.conf" "$SB/tmp/gw.conf"
chmod 0664 "$SB/tmp/gw.conf"
run "$NSCTL" check --conf "$SB/tmp/gw.conf"
check_eq "check of a group-writable file: exit 1" 1 "$RC"
check_match "check of a group-writable file: says so" "writable by group or others \(mode 0664\)" "$ERR"
ln -s "$SB/tmp/other.conf" "$SB/tmp/link.conf"
run "$NSCTL" check --conf "$SB/tmp/link.conf"
check_eq "check of a symlink: exit 1" 1 "$RC"
check_match "check of a symlink: says so" "is a symbolic link" "$ERR"

# The other subcommands refuse an invalid compiled-in file.
cp -p "$SB/security/ns.conf" "$SB/tmp/good.conf"
cat "$SB/tmp/bad.conf" >"$SB/security/ns.conf"
for sub in status leases gc; do
    run "$NSCTL" "$sub"
    check_eq "nsctl $sub with an invalid /etc/security/ns.conf: exit 1" 1 "$RC"
    check_match "nsctl $sub with an invalid config: prints its errors" \
        "nsctl: /etc/security/ns.conf:3: bogus_key: unknown key" "$ERR"
done
run "$NSCTL" check
check_eq "check with no --conf checks /etc/security/ns.conf (invalid now): exit 1" 1 "$RC"
cat "$SB/tmp/good.conf" >"$SB/security/ns.conf"

# ----------------------------------------------------- --user provenance ---
run "$NSCTL" check --user alice
check_eq "check --user alice: exit 0" 0 "$RC"
check_match "check --user alice: names the user and uid" "(^|$NL)user += alice \(uid 2001\)($NL)" "$OUT"
check_match "check --user alice: not exempt" "(^|$NL)exempt += no($NL|$)" "$OUT"
check_eq "alice: address from her user block" '"10.213.0.50/16"   # user alice' "$(prov address)"
check_eq "alice: network from group students" '"isolated"   # group students' "$(prov network)"
check_eq "alice: private_tmp from group students" 'true   # group students' "$(prov private_tmp)"
check_eq "alice: rate from the first matching group in file order (staff)" \
    '"10000000bit"   # group staff' "$(prov rate)"
check_eq "alice: hostname from default" '"box-%u"   # default' "$(prov hostname)"
check_eq "alice: deny from default" '{"192.168.0.0/16"}   # default' "$(prov deny)"
check_eq "alice: shell built-in" '"/bin/bash"   # built-in' "$(prov shell)"
check_eq "alice: namespaces built-in" '{"pid", "ipc", "mount", "uts", "net"}   # built-in' \
    "$(prov namespaces)"
check_eq "alice: netns built-in" '"user"   # built-in' "$(prov netns)"
check_eq "alice: private_shm built-in" 'true   # built-in' "$(prov private_shm)"
check_eq "check --user prints each per-user key once (keys added later may follow)" \
    "namespaces network netns address hostname shell private_tmp private_shm rate burst dns deny" \
    "$(awk '$2 == "=" && /   # / { print $1 }' <<<"$OUT" | grep -xE 'namespaces|network|netns|address|hostname|shell|private_tmp|private_shm|rate|burst|dns|deny' | xargs)"
check "every policy line names where its value came from" \
    test -z "$(awk '!/: valid$/ && $1 != "user" && $1 != "exempt" && !/   # (user [^ ]+|group [^ ]+|default|built-in)$/' <<<"$OUT")"
run "$NSCTL" check --user carol
check_eq "carol (students only): rate from group students" '"20000000bit"   # group students' \
    "$(prov rate)"
check_eq "carol: address built-in" '"pool"   # built-in' "$(prov address)"
run "$NSCTL" check --user bob
check_eq "bob (no group block): network built-in" '"bridge"   # built-in' "$(prov network)"
check_eq "bob: hostname from default" '"box-%u"   # default' "$(prov hostname)"
run "$NSCTL" check --conf "$SB/tmp/other.conf" --user root
check_eq "--conf together with --user: exit 0" 0 "$RC"
check_match "root is exempt" "(^|$NL)exempt += yes" "$OUT"
run "$NSCTL" check --user nosuchuser
check_eq "check --user of an unknown user: exit 1" 1 "$RC"
check_match "check --user of an unknown user: says so" "no such user: nosuchuser" "$ERR"

# ------------------------------------------------------- PAM warnings ---
rm -f "$SB/pam.d/systemd-user" "$SB/pam.d/cron" "$SB/pam.d/atd"
for s in sshd login su su-l other runuser runuser-l sudo; do pam_plain "$s"; done
run "$NSCTL" check
check_eq "stacks without pam_ns: check still exits 0" 0 "$RC"
check_eq "warns about sshd, login, su, su-l (no cron, atd, systemd-user file: no warning)" \
    "sshd login su su-l" "$(warned_services)"
check_fail "no warning about other, runuser or sudo stacks" \
    grep -qE '/etc/pam.d/(other|runuser|sudo)' <<<"$OUT$ERR"
check_eq "the PAM warnings are on stderr only: stdout is the verdict" \
    "/etc/security/ns.conf: valid" "$OUT"
check_eq "one line per warned service (4)" 4 "$(grep -c '^nsctl: warning: /etc/pam.d/' <<<"$ERR")"
pam_plain systemd-user
run "$NSCTL" check
check "a systemd-user stack without pam_ns is warned about" pam_warns systemd-user
# cron and atd as Debian ships them: the session stack is
# common-session-noninteractive (absent here: nothing with pam_ns in it).
sandbox_pam cron <<'END'
# The PAM configuration file for the cron daemon
@include common-auth
session    required     pam_loginuid.so
session    required     pam_env.so
session    required     pam_env.so envfile=/etc/default/locale
@include common-account
@include common-session-noninteractive
session    required     pam_limits.so
END
sandbox_pam atd <<'END'
auth    required pam_env.so
@include common-auth
@include common-account
session required pam_loginuid.so
@include common-session-noninteractive
session required pam_limits.so
END
run "$NSCTL" check
check_eq "cron and atd (user jobs) without pam_ns are warned about, in that order" \
    "sshd login su su-l cron atd systemd-user" "$(warned_services)"
check "the cron warning names its file: /etc/pam.d/cron" pam_warns cron
check "the atd warning names its file: /etc/pam.d/atd" pam_warns atd
check_eq "cron and atd warnings: still exit 0, stdout only the verdict" \
    "0 /etc/security/ns.conf: valid" "$RC $OUT"
sandbox_pam common-session-noninteractive <<'END'
session  [default=1]   pam_permit.so
session  requisite     pam_deny.so
session  required      pam_permit.so
session  required      pam_unix.so
END
run "$NSCTL" check
check "common-session-noninteractive without pam_ns: cron still warned about" pam_warns cron
sandbox_pam common-session-noninteractive <<END
session  [default=1]   pam_permit.so
session  requisite     pam_deny.so
session  required      pam_permit.so
session  required      pam_unix.so
session  required      $PAM_NS_SO
END
run "$NSCTL" check
check_eq "pam_ns in common-session-noninteractive: cron and atd are guarded, no warning" \
    "sshd login su su-l systemd-user" "$(warned_services)"
rm -f "$SB/pam.d/cron" "$SB/pam.d/atd" "$SB/pam.d/common-session-noninteractive"

# Each stack with the module, directly or through includes.
pam_ns_line sshd
sandbox_pam common-ns <<EOF
session  required   $PAM_NS_SO debug
EOF
sandbox_pam login <<'EOF'
auth     required   pam_unix.so nodelay
@include common-ns
EOF
pam_ns_line su "session  optional   pam_ns.so"
sandbox_pam su-l <<'EOF'
auth     include    su
account  include    su
session  include    su
EOF
sandbox_pam systemd-user <<'EOF'
account  required   pam_unix.so
session  substack   common-ns
EOF
run "$NSCTL" check
check_eq "every stack has pam_ns (direct, @include, include, substack): no PAM warning" \
    "" "$(warned_services)"

# su-l follows su: without the line in su, su-l is warned about too.
pam_plain su
run "$NSCTL" check
check_eq "su lacks pam_ns: su and su-l (session include su) are warned about" \
    "su su-l" "$(warned_services)"
pam_ns_line su

# Lines that do not count.
pam_ns_line sshd "#session required $PAM_NS_SO"
run "$NSCTL" check
check "a commented-out pam_ns line does not count" pam_warns sshd
pam_ns_line sshd "auth required $PAM_NS_SO"
run "$NSCTL" check
check "pam_ns.so in the auth stack only does not count" pam_warns sshd
pam_ns_line sshd "  session required $PAM_NS_SO"
run "$NSCTL" check
check_fail "an indented session line counts" pam_warns sshd
sandbox_pam login <<'EOF'
auth     required   pam_unix.so nodelay
@include common-session-noninteractive
EOF
run "$NSCTL" check
check "an @include of a missing file does not count" pam_warns login
sandbox_pam login <<'EOF'
@include login
EOF
run "$NSCTL" check
check_eq "a stack that includes itself: no hang, warned about" "0 yes" \
    "$RC $(pam_warns login && echo yes || echo no)"

# Valid PAM syntax for a stack that does have the module.
pam_ns_line login "-session optional $PAM_NS_SO"
run "$NSCTL" check
check_fail "a '-session' line (ignore if the module is missing) counts as a pam_ns line" \
    pam_warns login
pam_ns_line login "session [success=ok default=die] $PAM_NS_SO"
run "$NSCTL" check
check_fail "a session line with a [value=action] control counts as a pam_ns line" \
    pam_warns login
pam_ns_line login

# --------------------------------------------------------------- TIOCSTI ---
# The sysctl is global: never written here. A file bind-mounted over it,
# or a tmpfs over its directory, in the sandbox's mount namespace only.
TIOCSTI=/proc/sys/dev/tty/legacy_tiocsti
tiocsti_lines() { grep -c TIOCSTI <<<"$ERR"; }
[[ -e $TIOCSTI ]] || sandbox_die "this kernel has no $TIOCSTI (the test fakes it from 6.2 on)"
install -m 0755 "$NSCTL" "$SB/bin/nsctl"   # for an unprivileged run
printf '1\n' >"$SB/tmp/tiocsti-1"
printf '0\n' >"$SB/tmp/tiocsti-0"
mount --bind "$SB/tmp/tiocsti-1" "$TIOCSTI" || sandbox_die "cannot bind a file over $TIOCSTI"
run "$NSCTL" check
check_eq "dev.tty.legacy_tiocsti = 1: one TIOCSTI warning, on stderr, exit 0" "0 1" "$RC $(tiocsti_lines)"
check_match "dev.tty.legacy_tiocsti = 1: the warning says so" \
    "(^|$NL)nsctl: warning: the kernel allows TIOCSTI \(dev\.tty\.legacy_tiocsti = 1\); ns-shell filters it inside logins, other programs are exposed($NL|$)" \
    "$ERR"
check_fail "... and stdout has no TIOCSTI line" grep -q TIOCSTI <<<"$OUT"
umount "$TIOCSTI"
mount --bind "$SB/tmp/tiocsti-0" "$TIOCSTI" || sandbox_die "cannot bind a file over $TIOCSTI"
run "$NSCTL" check
check_eq "dev.tty.legacy_tiocsti = 0: no TIOCSTI warning, exit 0" "0 0" "$RC $(tiocsti_lines)"
umount "$TIOCSTI"
mount -t tmpfs -o mode=0555,size=16k nssb-notty /proc/sys/dev/tty ||
    sandbox_die "cannot mount a tmpfs over /proc/sys/dev/tty"
check "the sandbox now looks like a kernel before 6.2 (no $TIOCSTI)" test ! -e "$TIOCSTI"
run "$NSCTL" check
check_eq "no dev.tty.legacy_tiocsti (Linux < 6.2): one TIOCSTI warning, exit 0" "0 1" "$RC $(tiocsti_lines)"
check_match "no dev.tty.legacy_tiocsti: says TIOCSTI is allowed there, and who filters it" \
    "(^|$NL)nsctl: warning: the kernel allows TIOCSTI \(no dev\.tty\.legacy_tiocsti: Linux before 6\.2\); ns-shell and pam_ns filter it inside logins, other processes can use it($NL|$)" \
    "$ERR"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$SB/bin/nsctl" check
check_eq "the same warning for an unprivileged check" "0 1" "$RC $(tiocsti_lines)"
umount /proc/sys/dev/tty
check "the real sysctl is visible again" test -e "$TIOCSTI"
run "$NSCTL" check --conf "$SB/tmp/bad.conf"
check_fail "an invalid file: no warnings, only errors" grep -q 'warning' <<<"$OUT$ERR"

sandbox_finish
