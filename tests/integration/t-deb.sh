#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 300
# (60-95 s here, alone or next to another run under load: the default 120 s is too close)
# The Debian package (debian/, `make deb`; issue 12 item 5):
#  (a) make deb builds ns-shell_VERSION-1_ARCH.deb from a clean copy of the
#      tree, as an unprivileged user (Rules-Requires-Root: no), into
#      build/deb/ (NS_DEB=FILE: check that .deb instead of building one);
#  (b) dpkg-deb -c: every installed file with its mode and owner (ns-shell
#      -rwsr-xr-x root/root, pam_ns.so 0644 in the multiarch security dir,
#      nsctl, the man pages, udhcpc.script, the tmpfiles.d file, ns.conf)
#      and nothing else but docs; dpkg-deb -I: ns.conf a conffile, the
#      version, maintainer scripts that call add-shell/remove-shell and edit
#      no PAM stack; lintian reports no error (E:);
#  (c) dpkg --root installs it into a throwaway root on the sandbox's tmpfs
#      (maintainer scripts chrootless, DPKG_ROOT set: add-shell, the
#      tmpfiles.d snippet), then a user logs in with the installed files
#      (pam_ns.so by absolute path, the installed setuid ns-shell as her
#      shell, the packaged ns.conf): pamtester, su - alice lands in her
#      namespaces, nsctl status lists her, root is not namespaced;
#  (d) a reinstall keeps an edited ns.conf and a dpkg-statoverride of
#      ns-shell; remove takes ns-shell out of /etc/shells and keeps ns.conf,
#      purge removes it and the state.
# Nothing is installed on the machine: the tree is under an overlay (make
# deb writes to tmpfs), and dpkg only ever gets --root=$SB/droot.
# shellcheck disable=SC2015,SC2016,SC2119,SC2317  # A && B || die chains; single-quoted commands; helpers called via check/wait_until
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

for tool in dpkg-deb dpkg-buildpackage dh lintian pamtester; do
    command -v "$tool" >/dev/null || sandbox_die "$tool is not installed (make deps)"
done
[[ -z ${NS_DEB:-} ]] || NS_DEB=$(readlink -f -- "$NS_DEB")
_sb_overlay "$NS_REPO"
cd "$NS_REPO" || sandbox_die "cd $NS_REPO"
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
PAMDIR=usr/lib/$MA/security

# ====================================================== (a) make deb ===
if [[ -n ${NS_DEB:-} ]]; then
    DEB=$NS_DEB
    [[ -f $DEB ]] || sandbox_die "NS_DEB=$DEB is not a file"
else
    SHELL_OVERRIDE=/bin/sh PASSWORD_HASH='*' sandbox_add_user pkg 2100
    # build/deb of the overlay, the user's: an earlier build (root's) is
    # hidden, never deleted on disk.
    rm -rf build/deb && mkdir -p build/deb && chown pkg:pkg build/deb ||
        sandbox_die "cannot prepare build/deb"
    rc=0
    timeout -k 5 300 setpriv --reuid=2100 --regid=2100 --init-groups -- \
        env HOME=/home/pkg make --no-print-directory deb >"$SB/make-deb.log" 2>&1 || rc=$?
    check_eq "make deb as an unprivileged user: status 0" 0 "$rc"
    [[ $rc == 0 ]] || tail -n 30 "$SB/make-deb.log" | _sb_detail
    DEB=build/deb/ns-shell_${VERSION}-1_${ARCH}.deb
    check "... leaves build/deb/ns-shell_${VERSION}-1_${ARCH}.deb (the Makefile's VERSION)" test -f "$DEB"
    [[ -f $DEB ]] || sandbox_finish
    check "... built in a copy of the tree in build/deb/src (no .git)" \
        test -x build/deb/src/debian/rules -a ! -e build/deb/src/.git
    check "... without fakeroot (Rules-Requires-Root: no) and without -Werror" \
        bash -c "! grep -qE 'fakeroot|-Werror ' '$SB/make-deb.log'"
    check_match "... with the dpkg-buildflags hardening flags" \
        ' -fstack-protector-strong .*-Werror=format-security' "$(grep -m1 -- ' -o build/ns-shell ' "$SB/make-deb.log")"
    check_match "... and PAMDIR set to the multiarch directory" \
        "install -m 0644 build/pam_ns\\.so [^ ]*/$PAMDIR/pam_ns\\.so" "$(cat "$SB/make-deb.log")"
fi
DEB=$(readlink -f "$DEB")
out=$(make --no-print-directory deb VERSION=9.9.9 2>&1) && rc=0 || rc=$?
check_match "make deb refuses a debian/changelog that does not carry VERSION" \
    "^2 .*debian/changelog has ${VERSION//./\\.}-1, the Makefile VERSION 9\\.9\\.9" "$rc $out"
check "... and leaves the package it built" test -f "$DEB"

# =================================================== (b) the .deb itself ===
LIST=$(dpkg-deb -c "$DEB") || sandbox_die "dpkg-deb -c $DEB failed"
# entry PATH : "MODE OWNER" of ./PATH in the listing
entry() { awk -v p="./$1" '$6 == p { print $1, $2 }' <<<"$LIST"; }
check_eq "dpkg-deb -c: /usr/bin/ns-shell -rwsr-xr-x root/root" "-rwsr-xr-x root/root" "$(entry usr/bin/ns-shell)"
check_eq "dpkg-deb -c: /$PAMDIR/pam_ns.so -rw-r--r-- root/root" "-rw-r--r-- root/root" "$(entry "$PAMDIR/pam_ns.so")"
check_eq "dpkg-deb -c: /usr/sbin/nsctl -rwxr-xr-x root/root" "-rwxr-xr-x root/root" "$(entry usr/sbin/nsctl)"
check_eq "dpkg-deb -c: /usr/lib/ns-shell/udhcpc.script -rwxr-xr-x root/root" "-rwxr-xr-x root/root" \
    "$(entry usr/lib/ns-shell/udhcpc.script)"
check_eq "dpkg-deb -c: /usr/lib/tmpfiles.d/ns-shell.conf -rw-r--r-- root/root" "-rw-r--r-- root/root" \
    "$(entry usr/lib/tmpfiles.d/ns-shell.conf)"
check_eq "dpkg-deb -c: /etc/security/ns.conf -rw-r--r-- root/root" "-rw-r--r-- root/root" \
    "$(entry etc/security/ns.conf)"
MANS=(usr/share/man/man5/ns.conf.5.gz usr/share/man/man8/ns-shell.8.gz
      usr/share/man/man8/nsctl.8.gz usr/share/man/man8/pam_ns.8.gz)
for m in "${MANS[@]}"; do
    check_eq "dpkg-deb -c: /$m -rw-r--r-- root/root" "-rw-r--r-- root/root" "$(entry "$m")"
done
check_eq "dpkg-deb -c: the files outside /usr/share/doc are those of make install, no more" \
    "$(printf '%s\n' etc/security/ns.conf usr/bin/ns-shell usr/sbin/nsctl "$PAMDIR/pam_ns.so" \
        usr/lib/ns-shell/udhcpc.script usr/lib/tmpfiles.d/ns-shell.conf "${MANS[@]}" \
        usr/share/lintian/overrides/ns-shell | sort)" \
    "$(awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' <<<"$LIST" | grep -v '^usr/share/doc/' | sort)"
check_eq "dpkg-deb -c: every entry is root/root" "" "$(awk '$2 != "root/root"' <<<"$LIST")"
check_eq "dpkg-deb -c: no other setuid or setgid file" "./usr/bin/ns-shell" \
    "$(awk '$1 ~ /^-..[sS]|^-.....[sS]/ { print $6 }' <<<"$LIST")"
for f in copyright README.Debian examples/pam.d/sshd changelog.Debian.gz; do
    check "dpkg-deb -c: /usr/share/doc/ns-shell/$f" grep -qE " \\./usr/share/doc/ns-shell/$f\$" <<<"$LIST"
done
check_fail "dpkg-deb -c: no PAM configuration shipped (no /etc/pam.d, no pam-auth-update profile)" \
    grep -qE ' \./(etc/pam\.d|usr/share/pam-configs)/.' <<<"$LIST"

INFO=$(dpkg-deb -I "$DEB")
check_eq "dpkg-deb -I: conffiles is /etc/security/ns.conf" "/etc/security/ns.conf" \
    "$(dpkg-deb -I "$DEB" conffiles)"
check_match "dpkg-deb -I: Package ns-shell, Version $VERSION-1 (the Makefile's VERSION)" \
    "Package: ns-shell
 Version: ${VERSION//./\\.}-1
" "$INFO"
check_match "dpkg-deb -I: Depends on libpam0g and libnl (shlibs)" 'Depends: .*libnl-3-200.*libpam0g' "$INFO"
CTL=$SB/control
dpkg-deb -e "$DEB" "$CTL" || sandbox_die "dpkg-deb -e failed"
check "postinst calls add-shell /usr/bin/ns-shell on configure" \
    grep -qE '^[[:space:]]*add-shell /usr/bin/ns-shell$' "$CTL/postinst"
check "postrm calls remove-shell /usr/bin/ns-shell" \
    grep -qE '^[[:space:]]*remove-shell /usr/bin/ns-shell$' "$CTL/postrm"
check "postinst runs systemd-tmpfiles for ns-shell.conf (dh_installtmpfiles)" \
    grep -q 'systemd-tmpfiles .*--create ns-shell.conf' "$CTL/postinst"
check_eq "no maintainer script edits PAM (pam-auth-update, /etc/pam.d) or sets modes (statoverride-friendly)" "" \
    "$(cat "$CTL"/*inst "$CTL"/*rm 2>/dev/null | grep -vE '^[[:space:]]*#' | sed '/<<.MSG/,/^MSG/d' |
        grep -E 'pam-auth-update|pam\.d|chmod|chown|dpkg-statoverride')"
for s in "$CTL"/postinst "$CTL"/postrm; do
    check "sh -n $(basename "$s")" sh -n "$s"
done

LINT=$(timeout -k 5 120 lintian --no-cfg "$DEB" 2>&1) && rc=0 || rc=$?
check_eq "lintian reports no error (E:)" "" "$(grep -E '^E: ' <<<"$LINT")"
check "... and ran (status 0 or 1, not a crash)" test "$rc" -le 1
grep -E '^[WE]: ' <<<"$LINT" | sed 's/^/lintian: /' | _sb_detail

# ================================= (c) installed into a throwaway root ===
DR=$SB/droot
ADMIN=$DR/var/lib/dpkg
mkdir -p "$ADMIN/info" "$ADMIN/updates" "$ADMIN/triggers" "$DR/etc" "$DR/var/log" &&
    : >"$ADMIN/status" && : >"$ADMIN/available" && cp /etc/shells "$DR/etc/shells" ||
    sandbox_die "cannot make the throwaway root $DR"
[[ $(findmnt -n -o FSTYPE --target "$DR") == tmpfs && $DR == /run/* ]] ||
    sandbox_die "the throwaway root $DR is not on the sandbox's tmpfs"
# dpk ARGS... : dpkg into $DR only (maintainer scripts run without chroot,
# with DPKG_ROOT=$DR); sets DPKG_OUT, DPKG_RC
dpk() {
    DPKG_RC=0
    DPKG_OUT=$(timeout -k 5 60 dpkg --root="$DR" --log="$DR/var/log/dpkg.log" \
        --force-script-chrootless --force-depends "$@" 2>&1 </dev/null) || DPKG_RC=$?
}
shells_before=$(sha256sum </etc/shells)
shells_orig=$(cat "$DR/etc/shells")
dpk -i "$DEB"
check_eq "dpkg --root=\$SB/droot -i: status 0" 0 "$DPKG_RC"
[[ $DPKG_RC == 0 ]] || _sb_detail <<<"$DPKG_OUT"
check_eq "... installed: install ok installed $VERSION-1" "install ok installed $VERSION-1" \
    "$(dpkg-query --admindir="$ADMIN" -W -f='${Status} ${Version}' ns-shell 2>&1)"
check_match "... /etc/security/ns.conf registered as a conffile" \
    '^ /etc/security/ns.conf [0-9a-f]{32}' "$(dpkg-query --admindir="$ADMIN" -W -f='${Conffiles}\n' ns-shell)"
check_match "... the postinst says no PAM stack was changed and where the module goes" \
    'no PAM stack was changed.*session required pam_ns\.so shell=/usr/bin/ns-shell.*README\.Debian' "$DPKG_OUT"
check_eq "... add-shell (postinst, DPKG_ROOT) listed /usr/bin/ns-shell in its /etc/shells, once" 1 \
    "$(grep -cx /usr/bin/ns-shell "$DR/etc/shells")"
check_eq "... and the sandbox's own /etc/shells did not change" "$shells_before" "$(sha256sum </etc/shells)"
check_eq "installed: /usr/bin/ns-shell 4755 root:root" "4755 root:root" "$(mode "$DR/usr/bin/ns-shell")"
check_eq "installed: /$PAMDIR/pam_ns.so 644 root:root" "644 root:root" "$(mode "$DR/$PAMDIR/pam_ns.so")"
check_eq "installed: /usr/sbin/nsctl 755, udhcpc.script 755, ns.conf 644" "755 root:root 755 root:root 644 root:root" \
    "$(mode "$DR/usr/sbin/nsctl") $(mode "$DR/usr/lib/ns-shell/udhcpc.script") $(mode "$DR/etc/security/ns.conf")"
check "installed: ns.conf is conf/ns.conf" cmp conf/ns.conf "$DR/etc/security/ns.conf"
if command -v systemd-tmpfiles >/dev/null; then
    check_eq "the tmpfiles.d snippet made the state directories in the root (0755, 0755, 0700)" \
        "755 root:root 755 root:root 700 root:root" \
        "$(mode "$DR/run/ns-shell") $(mode "$DR/var/lib/ns-shell") $(mode "$DR/run/ns-shell/lock")"
fi
check "no PAM file was written" test ! -e "$DR/etc/pam.d"
check_eq "the installed ns-shell: --version" "ns-shell $VERSION" "$("$DR/usr/bin/ns-shell" --version 2>&1)"
check_eq "the installed nsctl: --version" "nsctl $VERSION" "$("$DR/usr/sbin/nsctl" --version 2>&1)"

# A login with the installed files: the packaged ns.conf, pam_ns.so by
# absolute path, the installed setuid ns-shell as the login shell, the two
# lines README.Debian gives.
NSSH=$DR/usr/bin/ns-shell
MOD=$DR/$PAMDIR/pam_ns.so
printf '%s\n' "$NSSH" >>"$SB/etc/shells"
SHELL_OVERRIDE=$NSSH sandbox_add_user alice 2001
sandbox_conf <"$DR/etc/security/ns.conf"
check "nsctl check (installed) accepts the packaged ns.conf" "$DR/usr/sbin/nsctl" check
# the samples' guard line (root skips pam_ns), then the installed module
PAM_NS_MODULE=$MOD PAM_NS_ARGS="shell=$NSSH" pam_with_ns su su-l nsdeb \
    'session  [success=1 default=ignore] pam_succeed_if.so quiet uid eq 0'
out=$(timeout -k 2 30 pamtester nsdeb alice open_session close_session 2>&1) && rc=0 || rc=$?
check_eq "pamtester nsdeb alice open_session close_session (installed pam_ns.so): status 0" 0 "$rc"
[[ $rc == 0 ]] || _sb_detail <<<"$out"
check "... pam_ns logged alice's session in ns-alice" \
    sandbox_log_wait 'pam_ns\(nsdeb:session\): alice \(uid 2001\): session [0-9a-f]{8} in network namespace ns-alice$' 10
settle 2001
as_user alice 'readlink /proc/self/ns/net; cat /proc/1/comm; hostname; id -un; echo "$NS_SHELL_SESSION"'
check_login "su - alice (installed ns-shell as her shell, installed pam_ns.so) succeeds"
mapfile -t got <<<"$AS_OUT"
check_match "... in a network namespace of her own" '^net:\[[0-9]+\]$' "${got[0]:-}"
check "... not the host's" test "${got[0]:-}" != "net:[$HOSTNET]"
check_eq "... under the installed ns-shell as PID 1, hostname alice, as alice" "ns-shell alice alice" \
    "${got[1]:-} ${got[2]:-} ${got[3]:-}"
check_match "... with a session id" '^[0-9a-f]{8}$' "${got[4]:-}"
settle 2001
hold a alice
check "nsctl status (installed) lists alice's held login" \
    wait_until 5 bash -c "'$DR/usr/sbin/nsctl' status | grep -qw alice"
release a
settle 2001
AS_RC=0
AS_OUT=$(timeout -k 2 30 su - root -c 'readlink /proc/self/ns/net' 2>&1 </dev/null) || AS_RC=$?
check_eq "su - root through the same stack: not namespaced (the guard line)" "0 net:[$HOSTNET]" "$AS_RC $AS_OUT"
check "alice's sessions are closed" wait_until 5 has_n_records_of 2001 0

# ================================= (d) reinstall, statoverride, remove ===
printf '# edited by the admin\n' >>"$DR/etc/security/ns.conf"
edited=$(sha256sum <"$DR/etc/security/ns.conf")
sandbox_add_user nsuser 2002 nsusers
rc=0
out=$(dpkg-statoverride --root="$DR" --update --add root nsusers 4750 /usr/bin/ns-shell 2>&1) || rc=$?
check_eq "dpkg-statoverride --root --update --add root nsusers 4750 /usr/bin/ns-shell: status 0" 0 "$rc"
[[ $rc == 0 ]] || _sb_detail <<<"$out"
dpk -i "$DEB"
check_eq "a reinstall (dpkg -i again): status 0" 0 "$DPKG_RC"
[[ $DPKG_RC == 0 ]] || _sb_detail <<<"$DPKG_OUT"
check_eq "... keeps the edited ns.conf (a conffile)" "$edited" "$(sha256sum <"$DR/etc/security/ns.conf")"
check_eq "... keeps the statoverride: ns-shell 4750 root:nsusers" "4750 root:nsusers" "$(mode "$DR/usr/bin/ns-shell")"
check_fail "... prints the first-install note no more" grep -q 'no PAM stack was changed' <<<"$DPKG_OUT"
check_eq "... /usr/bin/ns-shell still once in its /etc/shells" 1 "$(grep -cx /usr/bin/ns-shell "$DR/etc/shells")"
dpkg-statoverride --root="$DR" --remove /usr/bin/ns-shell >/dev/null 2>&1

dpk -r ns-shell
check_eq "dpkg --root -r ns-shell: status 0" 0 "$DPKG_RC"
[[ $DPKG_RC == 0 ]] || _sb_detail <<<"$DPKG_OUT"
check_eq "... remove-shell (postrm) took /usr/bin/ns-shell out of its /etc/shells" 0 \
    "$(grep -cx /usr/bin/ns-shell "$DR/etc/shells")"
check_eq "... the rest of its /etc/shells is as it was" "$shells_orig" "$(cat "$DR/etc/shells")"
check "... the programs and the module are gone" \
    test ! -e "$DR/usr/bin/ns-shell" -a ! -e "$DR/usr/sbin/nsctl" -a ! -e "$DR/$PAMDIR/pam_ns.so"
check_eq "... the edited ns.conf stays (config-files)" "$edited deinstall ok config-files" \
    "$(sha256sum <"$DR/etc/security/ns.conf") $(dpkg-query --admindir="$ADMIN" -W -f='${Status}' ns-shell)"
dpk -P ns-shell
check_eq "dpkg --root -P ns-shell: status 0" 0 "$DPKG_RC"
[[ $DPKG_RC == 0 ]] || _sb_detail <<<"$DPKG_OUT"
check "... ns.conf and the state in /var/lib/ns-shell are gone" \
    test ! -e "$DR/etc/security/ns.conf" -a ! -e "$DR/var/lib/ns-shell"
check_eq "the sandbox's /etc/shells never changed" "$shells_before" \
    "$(grep -vxF "$NSSH" /etc/shells | sha256sum)"

sandbox_finish
