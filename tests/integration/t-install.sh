#!/bin/bash
# make install / make uninstall with DESTDIR on a tmpfs inside the sandbox:
# the installed files and their modes (docs/DESIGN.md "Installed files"), an
# edited ns.conf survives a second install, uninstall removes what install
# put there, nothing outside DESTDIR changes; and the man pages are clean
# for groff. A real install (DESTDIR empty) is never run: only shown with
# make -n.
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh" || exit 1
sandbox_enter "$0" "$@"

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
mode() { stat -c '%a %U:%G' "$1" 2>&1; }
state() { # what must not change outside DESTDIR
    sha256sum /etc/shells "$SB_HOSTROOT/etc/shells" 2>&1
    ls -la /usr/bin/ns-shell /usr/sbin/nsctl /usr/lib/x86_64-linux-gnu/security/pam_ns.so \
        /etc/security/ns.conf /usr/share/man/man8/ns-shell.8* 2>&1
}
before=$(state)

PAM=usr/lib/x86_64-linux-gnu/security
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
check_eq "nothing else is installed" \
    "$(printf '%s\n' etc/security/ns.conf usr/bin/ns-shell usr/sbin/nsctl "$PAM/pam_ns.so" \
        "${MANS[@]}" "${EXTRA[@]}" | sort)" \
    "$(cd "$D" && find . -type f | sed 's|^\./||' | sort)"
check "the installed ns-shell is the built one" cmp "$NS_BUILD/ns-shell" "$D/usr/bin/ns-shell"
check "the installed nsctl is the built one" cmp "$NS_BUILD/nsctl" "$D/usr/sbin/nsctl"
check "the installed pam_ns.so is the built one" cmp "$NS_BUILD/pam_ns.so" "$D/$PAM/pam_ns.so"
check "the installed ns.conf is conf/ns.conf" cmp conf/ns.conf "$D/etc/security/ns.conf"
check_match "the installed ns-shell runs: --version" '^ns-shell [0-9]' \
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
for f in usr/bin/ns-shell usr/sbin/nsctl "$PAM/pam_ns.so" "${MANS[@]}" "${EXTRA[@]}"; do
    check "uninstall removes /$f" test ! -e "$D/$f"
done
check_eq "... and keeps the admin's ns.conf (a configuration file)" "$edited" \
    "$(sha256sum <"$D/etc/security/ns.conf" 2>&1)"
check_eq "... and changed nothing outside DESTDIR (/etc/shells included)" "$before" "$(state)"

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
