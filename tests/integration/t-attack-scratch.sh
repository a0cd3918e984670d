. /work/main/tests/integration/sandbox.sh
sandbox_enter "$0" "$@"
sandbox_install_ns_shell
sandbox_add_user alice 3001
sandbox_add_user bob 3002
: | sandbox_conf
for s in su su-l; do sandbox_pam $s <<EOF2
auth     sufficient pam_rootok.so
auth     required   pam_unix.so nodelay
account  required   pam_unix.so
session  required   pam_unix.so
session  required   $PAM_NS_SO debug
EOF2
done
cc -O2 -o $SB/bin/lockstop $NS_REPO/tests/integration/attack/lockstop.c
mkdir -m 755 $SB/pub; printf '%s\n' "$SB_USER_PASSWORD" > $SB/pub/pw; chmod 644 $SB/pub/pw
t0=$EPOCHREALTIME
setpriv --reuid=alice --regid=alice --init-groups $SB/bin/lockstop $SB/pub/pw 200 /bin/su alice -c true
echo "took $(( (${EPOCHREALTIME/./} - ${t0/./})/1000 )) ms"
cat /proc/locks
ls -la /run/ns-shell/lock /run/ns-shell/sessions
t0=$EPOCHREALTIME
su bob -c 'echo BOB-IN' </dev/null; echo rc=$?
echo "bob took $(( (${EPOCHREALTIME/./} - ${t0/./})/1000 )) ms"
tail -3 $SB_SYSLOG
sandbox_finish
