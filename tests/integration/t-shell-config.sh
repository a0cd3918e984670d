#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-shell and /etc/security/ns.conf, no PAM module: refusals (bridge without
# pam_ns, bad values with FILE:LINE, unsafe files), ${VAR} never expanded from
# the caller's environment, --check with provenance, exempt users and groups,
# a subset of namespaces, and the authpriv log lines.
# shellcheck disable=SC2016,SC2119,SC2317  # single-quoted login commands; helpers called via check
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1   # nsh, run (OUT ERR RC)
CONF=$SB/security/ns.conf     # /etc/security/ns.conf in the sandbox

sandbox_install_ns_shell
sandbox_add_user alice 3001 students
sandbox_add_user carol 3003
sandbox_add_user dave 3004 staff students
sandbox_add_user erin 3006 admins
sandbox_add_user uma 3007

host_state() {
    findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS | sort
    ip -o link show | awk -F': ' '{print $2}' | sort
    ls -A /run
}
ok_conf() { printf 'default { network = "isolated" }\n' | sandbox_conf; }
MARK='echo SHELL-RAN'

# refused DESC REGEX : the last nsh/run was a refusal: exit 1, no shell ran,
# stderr lines all "ns-shell: ...", one of them matching REGEX.
refused() {
    check_eq "$1: exit status 1" 1 "$RC"
    check_fail "$1: no shell ran" grep -q SHELL-RAN <<<"$OUT"
    check_match "$1: stderr says why" "$2" "$ERR"
    check_fail "$1: every stderr line starts with 'ns-shell: '" grep -qv '^ns-shell: ' <<<"$ERR"
}

# --- network = bridge without pam_ns ---------------------------------------------------
sandbox_conf </dev/null                 # an empty file: the built-in bridge policy
before=$(host_state)
as_user alice "$MARK"
check_eq "bridge (built-in) without pam_ns: refused, exit 1" 1 "$AS_RC"
check_fail "bridge without pam_ns: no shell ran" grep -q SHELL-RAN <<<"$AS_OUT"
check_eq "bridge without pam_ns: stderr is exactly one line" 1 "$(printf '%s\n' "$AS_ERR" | wc -l)"
check_match "bridge without pam_ns: the line starts with 'ns-shell:' and names pam_ns.so" \
    '^ns-shell: .*pam_ns\.so' "$AS_ERR"
check "bridge without pam_ns: no process of the user is left" wait_until 2 no_user_procs alice
check_eq "bridge without pam_ns: nothing left behind (mounts, links, /run)" "$before" "$(host_state)"
check "bridge without pam_ns: the refusal is logged to authpriv" \
    sandbox_log_wait '^authpriv\.err ns-shell\[[0-9]+\]: .*pam_ns\.so'
printf 'default { network = "bridge" }\n' | sandbox_conf
nsh alice -c "$MARK"
refused 'explicit network = "bridge" without pam_ns' 'pam_ns\.so'

# --- bad values name FILE:LINE ------------------------------------------------------------
bad_line() { # DESC LINE WHAT < CONFIG : WHAT is a regex (the key's name)
    sandbox_conf
    nsh alice -c "$MARK"
    refused "$1" "ns\.conf:"
    check_match "$1: the error names ns.conf:$2 and $3" \
        "(^|"$'\n'")ns-shell: /etc/security/ns\.conf:$2: [^"$'\n'"]*$3" "$ERR"
}
bad_line "a bad value on line 3" 3 network <<'EOF'
exempt_users = {"root"}
default {
    network = "bogus"
}
EOF
bad_line "an unknown key on line 3" 3 frobnicate <<'EOF'
default { network = "isolated" }

frobnicate = "x"
EOF
bad_line "a bad namespace name on line 3" 3 namespaces <<'EOF'
default {
    network = "isolated"
    namespaces = {"pid", "mount", "bogus"}
}
EOF
bad_line "a bad value on line 3 after a comment line" 3 network <<'EOF'
# ns.conf of this host
default {
    network = "bogus"
}
EOF
bad_line "a bad value on line 3 after a trailing comment" 3 network <<'EOF'
default {
    private_tmp = true   # fresh /tmp for everyone
    network = "bogus"
}
EOF
bad_line "a syntax error on line 3" 3 "unexpected token" <<'EOF'
default {
    network = "isolated"
    namespaces = = {"pid"}
}
EOF
bad_line "a syntax error on line 3 after a comment line" 3 "unexpected token" <<'EOF'
# ns.conf of this host
default {
    namespaces = = {"pid"}
}
EOF
bad_line "a syntax error on line 4 after a /* */ comment" 4 "unexpected token" <<'EOF'
/* ns.conf of this host */
default {
    network = "isolated"
    namespaces = = {"pid"}
}
EOF
# The documented sample file (comments throughout) with one bad value.
sample=$NS_REPO/conf/ns.conf
nl=$(grep -n -m 1 -E '^[[:space:]]*network[[:space:]]*=' "$sample" | cut -d: -f1)
check "the sample ns.conf has a network line" test -n "$nl"
sed -E "${nl}s/=.*/= \"bogus\"/" "$sample" |
    bad_line "the sample ns.conf with a bad network value on line $nl" "$nl" network
sandbox_conf <"$sample"
nsh alice --check
check_eq "the sample ns.conf as shipped is valid (--check exit 0)" 0 "$RC"
sandbox_conf <<'EOF'
default {
    network    = "isolated"
    namespaces = {"pid", "mount",   # no "ipc": shared on purpose
                  "uts", "net"}
}
EOF
nsh alice -c 'echo SHELL-RAN'
check_eq "a comment inside a list is a comment (the config loads)" "0 SHELL-RAN" "$RC $OUT"

sandbox_conf <<'EOF'
default { namespaces = {"pid", "ipc", "uts", "net"} network = "isolated" }
EOF
nsh alice -c "$MARK"
refused '"pid" without "mount"' 'ns\.conf:1: .*namespaces'

# --- unsafe files -------------------------------------------------------------------------
ok_conf
nsh alice -c "$MARK"
check_eq "control: the good config (root 0644) starts a login" "0 SHELL-RAN" "$RC $OUT"
chmod 0600 "$CONF"
nsh alice -c "$MARK"
check_eq "a root-only config (0600) is fine: ns-shell reads it as root" "0 SHELL-RAN" "$RC $OUT"
for mode in 0666 0664 0646 0620; do
    chmod "$mode" "$CONF"
    nsh alice -c "$MARK"
    refused "config mode $mode" 'writable by group or others'
done
chmod 0644 "$CONF"
chown alice "$CONF"
nsh alice -c "$MARK"
refused "config owned by a user" 'not owned by root'
chown root:alice "$CONF"
nsh alice -c "$MARK"
check_eq "config owned by root, group alice, 0644: fine" "0 SHELL-RAN" "$RC $OUT"
chown root:root "$CONF"
mv "$CONF" "$SB/security/real.conf"
ln -s real.conf "$CONF"
nsh alice -c "$MARK"
refused "config is a symlink (to a good root-owned file)" 'symbolic link'
rm -f "$CONF" "$SB/security/real.conf"
nsh alice -c "$MARK"
refused "no config at all: fail closed" 'ns\.conf'
mkfifo -m 0644 "$CONF"
nsh alice -c "$MARK"
refused "config is a FIFO: refused, not waited on" 'not a regular file'
rm -f "$CONF"
mkdir -m 0755 "$CONF"
nsh alice -c "$MARK"
refused "config is a directory" 'ns\.conf'
rmdir "$CONF"

# --- ${VAR} is never expanded from the caller's environment ---------------------------------
cat >"$X/evil-shell" <<'EOF'
#!/bin/sh
echo EVIL-SHELL-RAN
EOF
chmod 0755 "$X/evil-shell"
evil_env=(env EVIL=evilval EVILSHELL="$X/evil-shell" EVILNET=host)
for hn in '"${EVIL}"' '${EVIL}' '"x${EVIL}y"' '"${EVIL:-dflt}"'; do
    sandbox_conf <<EOF
default { network = "isolated"  hostname = $hn }
EOF
    run "${evil_env[@]}" setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c 'hostname'
    check_fail "hostname = $hn with EVIL=evilval in the caller's environment: no env-derived value" \
        grep -q evilval <<<"$OUT$ERR"
    run "${evil_env[@]}" setpriv --reuid=alice --regid=alice --init-groups "$NSH" --check
    check_fail "hostname = $hn: --check shows no env-derived value" grep -q evilval <<<"$OUT$ERR"
done
sandbox_conf <<'EOF'
default { network = "isolated"  shell = "${EVILSHELL}" }
EOF
run "${evil_env[@]}" setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c "$MARK"
check_fail 'shell = "${EVILSHELL}": the caller'"'"'s shell never runs' grep -q EVIL-SHELL-RAN <<<"$OUT"
check_eq 'shell = "${EVILSHELL}": refused (an empty value is no absolute path)' 1 "$RC"
sandbox_conf <<'EOF'
default { network = "${EVILNET:-isolated}" }
EOF
run "${evil_env[@]}" setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c 'readlink /proc/self/ns/pid'
check_eq 'network = "${EVILNET:-isolated}" with EVILNET=host: the login is isolated' 0 "$RC"
check "... in its own PID namespace" test "$OUT" != "$(readlink /proc/self/ns/pid)"

# --- --check: the resolved policy and where each key came from ------------------------------
sandbox_conf <<'EOF'
exempt_users  = {"root", "carol"}
exempt_groups = {"admins"}
default {
    network     = "isolated"
    private_tmp = true
}
group "students" {
    hostname    = "stu-%u"
    private_shm = false
}
group "staff" {
    hostname    = "staff-%u"
    shell       = "/bin/sh"
}
user "alice" {
    private_tmp = false
}
EOF
before=$(host_state)
nsh alice --check
check_eq "--check as alice: exit 0" 0 "$RC"
chk=$OUT
check_match "--check names the user" '^user += alice \(uid 3001\)' "$chk"
check_match "--check: not exempt" $'\nexempt += no\n' "$chk"
check_match "--check: a key from the user block (# user alice)" \
    $'\nprivate_tmp += false +# user alice\n' "$chk"
check_match "--check: a key from a group block (# group students)" \
    $'\nhostname += "stu-%u" +# group students\n' "$chk"
check_match "--check: another key of that group block" \
    $'\nprivate_shm += false +# group students\n' "$chk"
check_match "--check: a key from default (# default)" $'\nnetwork += "isolated" +# default\n' "$chk"
check_match "--check: a key from nowhere (# built-in)" $'\nshell += "/bin/bash" +# built-in\n' "$chk"
check_match "--check: namespaces built-in" $'\nnamespaces += \\{"pid", "ipc", "mount", "uts", "net"\\} +# built-in' "$chk"
check_eq "--check changed nothing (mounts, links, /run)" "$before" "$(host_state)"
check "--check left no process" wait_until 2 no_user_procs alice
nsh dave --check
check_match "--check: the first matching group block in file order wins" \
    $'\nhostname += "stu-%u" +# group students\n' "$OUT"
check_match "--check: resolution is key by key (a later group block gives a key the first lacks)" \
    $'\nshell += "/bin/sh" +# group staff\n' "$OUT"
check_match "--check: the default applies where no block sets the key" \
    $'\nprivate_tmp += true +# default\n' "$OUT"
nsh carol --check
check_match "--check as an exempt user says so" $'\nexempt += yes\n' "$OUT"
echo host >/dev/shm/host-obj
chmod 0644 /dev/shm/host-obj
as_user alice 'hostname; cat /dev/shm/host-obj'
check_eq "the login follows the resolved policy (hostname, shared /dev/shm)" \
    $'stu-alice\nhost' "$AS_OUT"

# --- exempt users and groups ---------------------------------------------------------------
host_ns() { local n; for n in net pid mnt uts ipc; do readlink "/proc/self/ns/$n"; done; }
ns_cmd='for n in net pid mnt uts ipc; do readlink /proc/self/ns/$n; done'
as_user carol "$ns_cmd"
check_eq "exempt user (exempt_users): a plain shell in the host's namespaces" "$(host_ns)" "$AS_OUT"
check "the exempt login is logged" sandbox_log_wait '^authpriv\.info ns-shell\[[0-9]+\]: carol \(uid 3003\) is exempt'
as_user erin "$ns_cmd"
check_eq "exempt group (exempt_groups): a plain shell in the host's namespaces" "$(host_ns)" "$AS_OUT"
as_user alice "$ns_cmd"
check_fail "control: a non-exempt user gets other namespaces" test "$AS_OUT" = "$(host_ns)"
as_user carol 'id -u; echo "$HOME"; pwd; grep -E "^CapEff" /proc/self/status'
check_eq "exempt user: own ids, home, no capabilities" \
    $'3003\n/home/carol\n/home/carol\nCapEff:\t0000000000000000' "$AS_OUT"

# root: exempt by default. Not exempt: refused before any login runs.
printf 'default { network = "isolated" }\n' | sandbox_conf
run "$NSH" -c "$ns_cmd"
check_eq "root (exempt by default): a plain shell in the host's namespaces" "0 $(host_ns)" \
    "$RC $OUT"
run "$NSH" --check
check_match "root --check: exit 0, exempt" $'^0 .*\nexempt += yes\n' "$RC $OUT"
printf 'exempt_users = {}\ndefault { network = "isolated" }\n' | sandbox_conf
run "$NSH" -c "$ns_cmd"
check_eq "root with exempt_users = {}: still a plain shell (uid 0 is always exempt)" "0 $(host_ns)" \
    "$RC $OUT"
printf 'exempt_users = {\n' | sandbox_conf
run "$NSH" -c "$ns_cmd"
check_eq "root with an invalid ns.conf: a plain shell in the host's namespaces" "0 $(host_ns)" \
    "$RC $OUT"
check_match "... and says so on stderr" 'is not valid: root gets a plain shell' "$ERR"

# --- a subset of namespaces, network = host, the shell key -----------------------------------
add_users 3010 nina nora hank sid
sandbox_conf <<'EOF'
default { network = "isolated" }
user "uma"  { namespaces = {"pid", "mount", "net"} }
user "nina" { namespaces = {"pid", "mount", "uts", "ipc"}  network = "bridge" }
user "nora" { namespaces = {"pid", "mount", "uts", "ipc"} }
user "hank" { network = "host" }
user "sid"  { shell = "/nonexistent/shell" }
EOF
as_user hank "$ns_cmd"
mapfile -t inner <<<"$AS_OUT"
mapfile -t outer < <(host_ns)
check_eq 'network = "host": the login runs, in the host'"'"'s network namespace' \
    "0 ${outer[0]}" "$AS_RC ${inner[0]:-}"
check 'network = "host": still a new PID namespace' test -n "${inner[1]:-}" -a "${inner[1]:-}" != "${outer[1]}"
# pam_ns.so treats a policy whose namespaces lack "net" as network = host
# (it skips the login); ns-shell must agree, or such a user cannot log in.
as_user nina "$ns_cmd"
check_eq 'namespaces without "net", network = "bridge": the login runs (pam_ns.so skipped it)' \
    "0 ${outer[0]}" "$AS_RC $(head -n 1 <<<"$AS_OUT")"
as_user nora "$ns_cmd"
check_eq 'namespaces without "net", network = "isolated": the caller'"'"'s network namespace, as pam_ns.so decides' \
    "0 ${outer[0]}" "$AS_RC $(head -n 1 <<<"$AS_OUT")"
as_user sid "$MARK"
check_eq "a shell that does not exist: exit 1" 1 "$AS_RC"
check_match "... one line naming it" '^ns-shell: [^'$'\n'']*/nonexistent/shell[^'$'\n'']*$' "$AS_ERR"
check "... nothing of the user is left" wait_until 2 no_user_procs sid

as_user uma "$ns_cmd"
mapfile -t inner <<<"$AS_OUT"
mapfile -t outer < <(host_ns)
check_eq "namespaces = {pid, mount, net}: uts and ipc stay the host's" \
    "${outer[3]} ${outer[4]}" "${inner[3]:-} ${inner[4]:-}"
check "namespaces = {pid, mount, net}: pid, mount and net are new" \
    test "${#inner[@]}" = 5 -a "${inner[0]:-}" != "${outer[0]}" -a "${inner[1]:-}" != "${outer[1]}" \
    -a "${inner[2]:-}" != "${outer[2]}"

# --- syslog -----------------------------------------------------------------------------------
printf 'default {\n  network = "bogus"\n}\n' | sandbox_conf
nsh alice -c "$MARK"
check "a config error is logged to authpriv with FILE:LINE" \
    sandbox_log_wait '^authpriv\.err ns-shell\[[0-9]+\]: /etc/security/ns\.conf:2: .*network'
check "the refusal is logged to authpriv" \
    sandbox_log_wait '^authpriv\.err ns-shell\[[0-9]+\]: refusing to start a login'
ok_conf
as_user alice true
check "a login is logged to authpriv (info)" \
    sandbox_log_wait '^authpriv\.info ns-shell\[[0-9]+\]: login of alice \(uid 3001\).*network isolated'

# --- a shell that cannot run ---------------------------------------------------------------------
printf 'default { network = "isolated" }\nuser "alice" { shell = "/nonexistent/shell" }\n' | sandbox_conf
nsh alice -c 'echo RAN'
check_eq "a policy shell that does not exist: exit 1, nothing runs" "1 " "$RC $OUT"
check_eq "... one line saying so" "ns-shell: cannot run /nonexistent/shell: No such file or directory" "$ERR"
check "... logged to authpriv" \
    sandbox_log_wait '^authpriv\.err ns-shell\[[0-9]+\]: cannot run /nonexistent/shell: No such file or directory'
check "... nothing of the user is left" wait_until 2 no_user_procs alice
ok_conf

# --- an exempt user without a home directory: still warned, before the shell --------------------
printf 'exempt_users = {"root", "carol"}\ndefault { network = "isolated" }\n' | sandbox_conf
content=$(awk -F: -v OFS=: '$1 == "carol" { $6 = "/nonexistent-carol" } { print }' "$SB/etc/passwd")
printf '%s\n' "$content" >"$SB/etc/passwd"
nsh carol -c 'pwd'
check_eq "exempt, no home: the plain shell runs in /" "0 /" "$RC $OUT"
check_eq "... with the warning" \
    "ns-shell: warning: cannot enter home directory /nonexistent-carol (No such file or directory); starting in /" "$ERR"
ok_conf

# --- a user at her process limit (RLIMIT_NPROC) ---------------------------------------------------
# The shell is started after the drop to the user, so the kernel counts it
# against her limit; ns-shell lifts the limit while privileged (as it did
# when root forked the shell) and gives the shell the caller's. Without
# CAP_SYS_RESOURCE (some containers) only up to the hard limit: refused,
# saying why.
run prlimit --nproc=2:2 setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c 'ulimit -u; echo RAN'
if (( (0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24) & 1 )); then
    check_eq "at the process limit: the login runs, its shell with the caller's limit (2)" \
        "0 2 RAN" "$RC $(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"
else
    check_eq "at the process limit (no CAP_SYS_RESOURCE here): refused, exit 1, nothing runs" "1 " "$RC $OUT"
    check_eq "... saying why" \
        "ns-shell: cannot start the shell of alice: the process limit (RLIMIT_NPROC) is reached" "$ERR"
fi
run prlimit --nproc=50:50 setpriv --reuid=alice --regid=alice --init-groups "$NSH" -c 'ulimit -u; echo RAN'
check_eq "under the limit: the shell has the caller's process limit back (50)" \
    "0 50 RAN" "$RC $(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"
check "... nothing of the user is left" wait_until 2 no_user_procs alice

sandbox_finish
