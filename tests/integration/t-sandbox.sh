#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-test of the sandbox harness; needs no ns-shell build.
# shellcheck disable=SC2016,SC2119  # remote commands are single-quoted on purpose
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1

# Outside only (this part runs before the re-exec): facts about the real host.
if [[ ${NS_SB_INNER:-} != 1 ]]; then
    T_HOST_PASSWD_SUM=$(sha256sum </etc/passwd)
    T_HOST_LINKS=$(ip -o link show | wc -l)
    export T_HOST_PASSWD_SUM T_HOST_LINKS
fi
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1   # (its helpers are not used here: this tests sandbox.sh)

# --- isolation ---------------------------------------------------------------
check_eq "the test runs as PID 1 of its own PID namespace" 1 "$$"
net=$(stat -L -c %i /proc/self/ns/net)
check "the network namespace is not the host's ($net vs $NS_SB_HOSTNET)" \
    test "$net" != "$NS_SB_HOSTNET"
check_eq "only lo exists in the sandbox's network" "lo" \
    "$(ip -o link show | awk -F': ' '{print $2}')"
check_match "lo is up" "UP" "$(ip link show lo)"
check_eq "/sys/class/net shows the sandbox's interfaces" "lo" "$(ls /sys/class/net)"
for d in /run /home /dev /dev/shm /var/lib/ns-shell; do
    check_eq "$d is a tmpfs" tmpfs "$(findmnt -n -o FSTYPE --mountpoint "$d" | tail -n 1)"
done
for d in /etc /var /tmp /root; do
    check_eq "$d is an overlay" overlay "$(findmnt -n -o FSTYPE --mountpoint "$d" | tail -n 1)"
done
check_eq "/dev/pts is a new devpts instance" "devpts ptmxmode=666" \
    "$(findmnt -n -o FSTYPE,OPTIONS --mountpoint /dev/pts | tail -n 1 |
       awk '{print $1, ($2 ~ /ptmxmode=0?666/ ? "ptmxmode=666" : $2)}')"
check_eq "overlaid dirs keep their owner and mode" \
    "/etc 755 root /tmp 1777 root /var 755 root /root 700 root" \
    "$(stat -c '%n %a %U' /etc /tmp /var /root | tr '\n' ' ' | sed 's/ $//')"
check_eq "/run/ns-shell is not pre-created" no \
    "$([[ -e /run/ns-shell ]] && echo yes || echo no)"
check "/run/sshd exists" test -d /run/sshd
check_eq "/var/lib/ns-shell starts empty" "" "$(ls -A /var/lib/ns-shell)"
check_match "a pty can be opened on the new devpts" '^/dev/pts/[0-9]+$' \
    "$("$SB_PYTHON" -c 'import os; m, s = os.openpty(); print(os.ttyname(s))' 2>&1)"

# --- accounts ----------------------------------------------------------------
check_fail "sbuser does not exist before sandbox_add_user" getent passwd sbuser
sandbox_add_user sbuser 2001 sbgroup
SHELL_OVERRIDE=/bin/sh sandbox_add_user shuser 2002 sbgroup wheelish
check_match "getent passwd sees the test user" \
    "^sbuser:x:2001:2001:.*:/home/sbuser:$SB/bin/ns-shell$" "$(getent passwd sbuser)"
check_match "SHELL_OVERRIDE sets the shell" ':/bin/sh$' "$(getent passwd shuser)"
check_match "the new supplementary group lists both users" \
    '^sbgroup:x:5[0-9]{3}:sbuser,shuser$' "$(getent group sbgroup)"
check_eq "the user private group has gid = uid" "sbuser:x:2001:" "$(getent group sbuser)"
check_eq "id shows the groups" "shuser sbgroup wheelish" "$(id -nG shuser)"
check_eq "home is 0700 and owned by the user" "700 2001:2001" \
    "$(stat -c '%a %u:%g' /home/sbuser)"
hostroot=$SB_HOSTROOT
check_eq "the real /etc/passwd on disk is unchanged" "$T_HOST_PASSWD_SUM" \
    "$(sha256sum <"$hostroot/etc/passwd")"
check_fail "the real /etc/passwd on disk has no test user" \
    grep -q '^sbuser:' "$hostroot/etc/passwd"
echo marker >/tmp/nssb-selftest
check_fail "a file written to /tmp does not reach the real disk" \
    test -e "$hostroot/tmp/nssb-selftest"
check_fail "the read-only view of the real disk is read-only" \
    touch "$hostroot/tmp/nssb-selftest"

# --- syslog --------------------------------------------------------------------
check "logger is installed" test -x /usr/bin/logger
logger -p authpriv.notice "nssb-selftest-$$"
check "/dev/log captures an authpriv.notice line" \
    sandbox_log_wait "^authpriv\.notice .*nssb-selftest-$$"

# --- su, PAM -------------------------------------------------------------------
as_user shuser 'id -un; echo "$HOME"; pwd; echo "$0"'
check_eq "su - to a /bin/sh user works" 0 "$AS_RC"
check_eq "su - runs the shell as a login shell in the home" \
    "$(printf 'shuser\n/home/shuser\n/home/shuser\n-sh')" "$AS_OUT"
check "pam_unix logged the su-l session" \
    sandbox_log_wait '^authpriv\.info su(\[[0-9]+\])?: pam_unix\(su-l:session\): session opened for user shuser'
as_user shuser 'exit 7'
check_eq "as_user returns the command's status" 7 "$AS_RC"
as_user shuser 'echo hi >/tmp/nssb-user && cat /tmp/nssb-user && echo err >&2'
check_eq "a user can write /tmp; as_user captures stdout and stderr" \
    "0 hi err" "$AS_RC $AS_OUT $AS_ERR"
check "pamtester opens and closes a session" \
    pamtester su-l shuser open_session close_session
check "the test password authenticates through pam_unix" \
    sh -c "echo '$SB_USER_PASSWORD' | pamtester login shuser authenticate"
check_fail "a wrong password does not" \
    sh -c "echo wrong | pamtester login shuser authenticate"

# Setuid binaries work from $SB (no nosuid): a setuid-root copy of id.
install -o root -g root -m 4755 /usr/bin/id "$SB/bin/suid-id"
as_user shuser "$SB/bin/suid-id -u"
check_eq "a setuid binary in \$SB runs with euid 0" 0 "$AS_OUT"
rm -f "$SB/bin/suid-id"

# --- sshd ----------------------------------------------------------------------
sandbox_sshd
sandbox_ssh_authorize shuser
as_ssh shuser 'id -un; echo "$SSH_CONNECTION"'
check_eq "ssh to the sandbox's sshd works" 0 "$AS_RC"
check_match "ssh ran the command as the user over 127.0.0.1" \
    '^shuser
127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 22$' "$AS_OUT"
check "pam_unix logged the sshd session" \
    sandbox_log_wait '^authpriv\.info sshd(\[[0-9]+\])?: pam_unix\(sshd:session\): session opened for user shuser'
as_ssh sbuser true
check_fail "ssh without an authorized key is refused" test "$AS_RC" = 0

sandbox_finish
