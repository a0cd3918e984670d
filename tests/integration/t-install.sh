#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ns-test-timeout: 600
# (60-95 s here, alone or next to another run under load: the default 120 s is too close)
# make install / make uninstall with DESTDIR on a tmpfs inside the sandbox:
# the installed files and their modes (docs/DESIGN.md "Installed files"),
# the tmpfiles.d file, the version (Makefile's VERSION) in the programs and
# the man pages, an edited ns.conf survives a second install, uninstall
# removes what install put there, nothing outside DESTDIR changes; changed
# SYSCONFDIR/LIBEXECDIR rebuild what compiles them in; CPPFLAGS honoured,
# WERROR overridable, header dependencies, a loud error without the
# libraries; an unprivileged make install into a DESTDIR of the user's
# (no -o root); and the man pages are clean for groff. A real install
# (DESTDIR empty) is never run: only shown with make -n.
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"
. "$(dirname "$0")/lib.sh" || exit 1

# The source tree under an overlay whose upper layer is on the sandbox's
# tmpfs: whatever make writes (a rebuild of build/, say) never reaches the
# real disk.
_sb_overlay "$NS_REPO"
cd "$NS_REPO" || sandbox_die "cd $NS_REPO"
D=$SB/dest
mkdir -m 0755 "$D"
# Never run make install with an empty DESTDIR.
[[ -n $D && -d $D && $(findmnt -n -o FSTYPE --target "$D") == tmpfs ]] ||
    sandbox_die "DESTDIR $D is not a directory on a tmpfs"
# mk ARGS... : make in the tree, DESTDIR always given; sets MK_OUT, MK_RC
mk() {
    MK_RC=0
    MK_OUT=$(timeout -k 2 120 make --no-print-directory "$@" DESTDIR="$D" 2>&1) || MK_RC=$?
}
state() { # what must not change outside DESTDIR
    sha256sum /etc/shells "$SB_HOSTROOT/etc/shells" 2>&1
    ls -la /usr/bin/ns-shell /usr/sbin/nsctl /usr/lib/x86_64-linux-gnu/security/pam_ns.so \
        /etc/security/ns.conf /usr/share/man/man8/ns-shell.8* 2>&1
}
before=$(state)

PAM=usr/lib/x86_64-linux-gnu/security
TMPF=usr/lib/tmpfiles.d/ns-shell.conf
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
MANS=(usr/share/man/man5/ns.conf.5 usr/share/man/man8/ns-shell.8
      usr/share/man/man8/nsctl.8 usr/share/man/man8/pam_ns.8)
# the DHCP client script (address = "dhcp"), when the tree ships one
EXTRA=()
[[ -f conf/udhcpc.script ]] && EXTRA=(usr/lib/ns-shell/udhcpc.script)

# ------------------------------------------------------------- install ---
mk install PREFIX=/usr
check_eq "make install DESTDIR=... PREFIX=/usr: status 0" 0 "$MK_RC"
[[ $MK_RC == 0 ]] || printf '%s\n' "$MK_OUT" | _sb_detail
check_eq "ns-shell: /usr/bin/ns-shell 4755 root:root" "4755 root:root" "$(mode "$D/usr/bin/ns-shell")"
check_eq "nsctl: /usr/sbin/nsctl 0755" "755 root:root" "$(mode "$D/usr/sbin/nsctl")"
check_eq "pam_ns.so: /$PAM/pam_ns.so 0644" "644 root:root" "$(mode "$D/$PAM/pam_ns.so")"
check_eq "ns.conf: /etc/security/ns.conf 0644 root" "644 root:root" "$(mode "$D/etc/security/ns.conf")"
for m in "${MANS[@]}"; do
    check_eq "man page /$m 0644" "644 root:root" "$(mode "$D/$m")"
done
for f in "${EXTRA[@]}"; do
    check_eq "the DHCP script /$f 0755" "755 root:root" "$(mode "$D/$f")"
done
check_eq "tmpfiles.d: /$TMPF 0644" "644 root:root" "$(mode "$D/$TMPF")"
check "... is conf/tmpfiles.d/ns-shell.conf" cmp conf/tmpfiles.d/ns-shell.conf "$D/$TMPF"
check_match "Makefile has one VERSION" '^[0-9]+\.[0-9]+\.[0-9]+$' "$VERSION"
for m in "${MANS[@]}"; do
    check_match "man page /$m: .TH says ns-shell $VERSION" \
        '^\.TH .*"ns-shell '"${VERSION//./\\.}"'"' "$(head -n 1 "$D/$m")"
done
check_eq "nothing else is installed" \
    "$(printf '%s\n' etc/security/ns.conf usr/bin/ns-shell usr/sbin/nsctl "$PAM/pam_ns.so" \
        "${MANS[@]}" "${EXTRA[@]}" "$TMPF" | sort)" \
    "$(cd "$D" && find . -type f | sed 's|^\./||' | sort)"
check "the installed ns-shell is the built one" cmp "$NS_BUILD/ns-shell" "$D/usr/bin/ns-shell"
check "the installed nsctl is the built one" cmp "$NS_BUILD/nsctl" "$D/usr/sbin/nsctl"
check "the installed pam_ns.so is the built one" cmp "$NS_BUILD/pam_ns.so" "$D/$PAM/pam_ns.so"
check "the installed ns.conf is conf/ns.conf" cmp conf/ns.conf "$D/etc/security/ns.conf"
check_eq "the installed ns-shell runs: --version says Makefile's VERSION" "ns-shell $VERSION" \
    "$("$D/usr/bin/ns-shell" --version 2>&1)"
check_eq "with DESTDIR set, neither /etc/shells nor anything outside DESTDIR changed" \
    "$before" "$(state)"

# ------------------------------- a second install keeps an edited ns.conf ---
printf '# edited by the admin\n' >>"$D/etc/security/ns.conf"
chmod 0640 "$D/etc/security/ns.conf"
edited=$(sha256sum <"$D/etc/security/ns.conf")
touch -d '2001-01-01' "$D/usr/bin/ns-shell"
mk install PREFIX=/usr
check_eq "a second make install: status 0" 0 "$MK_RC"
check_eq "... does not overwrite the edited ns.conf" "$edited" "$(sha256sum <"$D/etc/security/ns.conf")"
check_eq "... nor its mode" "640 root:root" "$(mode "$D/etc/security/ns.conf")"
check_eq "... but installs the programs again (ns-shell 4755 root, fresh)" "4755 root:root new" \
    "$(mode "$D/usr/bin/ns-shell") $([[ $(date -r "$D/usr/bin/ns-shell" +%Y) != 2001 ]] && echo new || echo old)"

# ----------------------------------------------------------- uninstall ---
mk uninstall PREFIX=/usr
check_eq "make uninstall DESTDIR=... PREFIX=/usr: status 0" 0 "$MK_RC"
for f in usr/bin/ns-shell usr/sbin/nsctl "$PAM/pam_ns.so" "${MANS[@]}" "${EXTRA[@]}" "$TMPF"; do
    check "uninstall removes /$f" test ! -e "$D/$f"
done
check_eq "... and keeps the admin's ns.conf (a configuration file)" "$edited" \
    "$(sha256sum <"$D/etc/security/ns.conf" 2>&1)"
check_eq "... and changed nothing outside DESTDIR (/etc/shells included)" "$before" "$(state)"

# ----------------------------- changed paths rebuild what compiles them ---
D2=$SB/dest2
mkdir -m 0755 "$D2"
MK_RC=0
MK_OUT=$(timeout -k 2 300 make --no-print-directory install PREFIX=/usr DESTDIR="$D2" \
    SYSCONFDIR=/opt/nsetc LIBEXECDIR=/opt/nslib 2>&1) || MK_RC=$?
check_eq "make install SYSCONFDIR=/opt/nsetc LIBEXECDIR=/opt/nslib: status 0" 0 "$MK_RC"
check "... rebuilt ns-shell with /opt/nsetc/security/ns.conf compiled in" \
    grep -q -a /opt/nsetc/security/ns.conf "$D2/usr/bin/ns-shell"
check "... and pam_ns.so with it, and with /opt/nslib/udhcpc.script" \
    bash -c "grep -q -a /opt/nsetc/security/ns.conf '$D2/$PAM/pam_ns.so' &&
             grep -q -a /opt/nslib/udhcpc.script '$D2/$PAM/pam_ns.so'"
check "... and installed ns.conf and the DHCP script there" \
    test -f "$D2/opt/nsetc/security/ns.conf" -a -x "$D2/opt/nslib/udhcpc.script"
check_fail "... no trace of /etc/security/ns.conf left in that ns-shell" \
    grep -q -a '^/etc/security/ns.conf$' <(strings "$D2/usr/bin/ns-shell")
MK_RC=0
MK_OUT=$(timeout -k 2 300 make --no-print-directory all 2>&1) || MK_RC=$?
check_eq "make all with the default paths again: status 0" 0 "$MK_RC"
check "... rebuilt with /etc/security/ns.conf" grep -q -a /etc/security/ns.conf "$NS_BUILD/ns-shell"
check_fail "... and without /opt/nsetc" grep -q -a /opt/nsetc "$NS_BUILD/ns-shell" "$NS_BUILD/pam_ns.so"
check_eq "... after which make all has nothing to do (prints nothing)" "" \
    "$(make --no-print-directory all 2>&1)"

# ------------------------------------------------------------- flags ---
srcs=(lib/*.c); obj=build/lib/$(basename "${srcs[0]}" .c).o
dry=$(make --no-print-directory -n -B "$obj" CPPFLAGS=-DNS_TEST_CPPFLAGS=1 2>&1)
check_match "CPPFLAGS is honoured" ' -DNS_TEST_CPPFLAGS=1 ' "$dry"
check_match "-Werror by default (make check, CI)" ' -Werror ' "$dry"
check_match "header dependencies: -MMD -MP" ' -MMD -MP ' "$dry"
check_match "-Wmissing-prototypes -Wstrict-prototypes" '-Wmissing-prototypes -Wstrict-prototypes' "$dry"
check_fail "make WERROR= drops -Werror (packagers)" grep -q -- -Werror \
    <(make --no-print-directory -n -B "$obj" WERROR= 2>&1)
check_match "CFLAGS from the packager come after the project's flags" '-Wall .* -O2 -g -O0 ' \
    "$(make --no-print-directory -n -B "$obj" CFLAGS='-O2 -g -O0' 2>&1)"
check "a .d file lists the headers of each object" grep -q 'include/.*\.h' "$obj.d"
hdr=$(grep -o 'include/[a-z_]*\.h' "$obj.d" | head -n 1)
before_o=$(stat -c %Y.%y "$obj")
sleep 1.1
touch "$hdr"
make --no-print-directory all >/dev/null 2>&1
check "touching $hdr rebuilds $obj" test "$(stat -c %Y.%y "$obj")" != "$before_o"
out=$(PKG_CONFIG_LIBDIR=/nonexistent make --no-print-directory all 2>&1) && rc=0 || rc=$?
check_match "without the libraries make all stops loudly (status 2, names them, points to make deps)" \
    '^2 .*pkg-config cannot find libnl-3\.0 .*make deps' "$rc $out"
out=$(PKG_CONFIG_LIBDIR=/nonexistent make --no-print-directory -n clean deps 2>&1) && rc=0 || rc=$?
check_eq "... while make clean and make deps still run (dry run: status 0)" 0 "$rc"

# ------------------------- an unprivileged install into a DESTDIR of its own ---
SHELL_OVERRIDE=/bin/sh sandbox_add_user pkg 2100
D3=$SB/udest
mkdir -m 0755 "$D3" && chown pkg:pkg "$D3"
as_pkg() { timeout -k 2 120 setpriv --reuid=2100 --regid=2100 --init-groups -- env HOME=/home/pkg "$@"; }
dry=$(as_pkg make --no-print-directory -n install PREFIX=/usr DESTDIR="$D3" 2>&1)
check_fail "as a user, make -n install has no -o root / -g root" grep -qE -- '-[og] root' <<<"$dry"
out=$(as_pkg make --no-print-directory install PREFIX=/usr DESTDIR="$D3" 2>&1) && rc=0 || rc=$?
check_eq "as a user, make install DESTDIR=(the user's dir): status 0" 0 "$rc"
[[ $rc == 0 ]] || printf '%s\n' "$out" | _sb_detail
check_eq "... ns-shell is 4755 (the package sets the owner)" "4755 pkg:pkg" "$(mode "$D3/usr/bin/ns-shell")"
check_eq "... pam_ns.so 0644, the tmpfiles.d file 0644" "644 pkg:pkg 644 pkg:pkg" \
    "$(mode "$D3/$PAM/pam_ns.so") $(mode "$D3/$TMPF")"
check_eq "... the same files as root's install" \
    "$(printf '%s\n' etc/security/ns.conf usr/bin/ns-shell usr/sbin/nsctl "$PAM/pam_ns.so" \
        "${MANS[@]}" "${EXTRA[@]}" "$TMPF" | sort)" \
    "$(cd "$D3" && find . -type f | sed 's|^\./||' | sort)"
check_eq "... and nothing outside DESTDIR changed" "$before" "$(state)"

# ------------------------------------ a real install, shown, never run ---
# make -n prints the commands without running them (nothing is built
# either: make all above left build/ up to date).
dry=$(make --no-print-directory -n install PREFIX=/usr DESTDIR= 2>&1)
check_match "make -n install (DESTDIR empty) would install ns-shell 4755 root in /usr/bin" \
    'install -m 4755 -o root -g root build/ns-shell /usr/bin/ns-shell' "$dry"
check_match "... and add /usr/bin/ns-shell to /etc/shells" \
    "echo '/usr/bin/ns-shell' >> /etc/shells" "$dry"
dry=$(make --no-print-directory -n uninstall PREFIX=/usr DESTDIR= 2>&1)
check_match "make -n uninstall (DESTDIR empty) would take it out of /etc/shells again" \
    "sed -i '.*/usr/bin/ns-shell.*/etc/shells" "$dry"
check_eq "the dry runs changed nothing" "$before" "$(state)"

# ----------------------------------------------------------- man pages ---
for m in man/*.[0-9]; do
    out=$(groff -ww -z -man "$m" 2>&1) && rc=0 || rc=$?
    check_eq "groff -ww -z -man $m: status 0, prints nothing" "0 " "$rc $out"
done

sandbox_finish
