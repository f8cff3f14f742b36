# The daemon xlusbd (issue 10) on the real Xen: it keeps a guest's declared
# USB devices attached across a replug and a reboot. Sourced by dom0-test.sh
# (its helpers; guest $G, domid $D, runs with the qusb controller of its cfg,
# QUSB_CFG: the administrator's usual way; stick A is dom0's). The sticks are
# replugged on the outer QEMU through run.sh's QMP relay (qmp below): stick A
# is QEMU device usba at EHCI port 1 (boot.sh), the spare stick's disk is the
# block node stickother.
#   qusb-alone-replug-<n>        (TIMING/INFO only) before xlusbd runs: does
#                                QEMU's qusb backend give a replugged stick back
#                                by itself, and after how long (3 tries)
#   xlusbd-starts                xlusbd -v runs (log: results/xlusbd.log)
#   replug-reattached            device_del + device_add of stick A at its port:
#                                the guest reads the magic again, no command typed
#   replug-other-device-refused  another stick at that port: not given to the
#                                guest within 30 s, dom0 keeps it on usb-storage,
#                                usb-list says the declared device (by serial)
#                                is "absent" (or "refused"), not "attached"
#   replug-declared-device-back  stick A back at the port: the guest reads it
#   reboot-reattached            xl reboot: the new guest reads the magic
#   destroy-released             xl destroy: stick A back on dom0's usb-storage
XLUSBD=/usr/sbin/xlusbd
XLOG=$S/results/xlusbd.log
STICKO=XLPVUSB-OT; MAGICO=XLPVUSB-MAGIC-STICK-OTHER

qmp() { # one QMP command (JSON) to the outer QEMU through run.sh's relay: prints the answer
    local n=$(date +%s%N) end=$(( $(date +%s) + 30 ))
    echo "$1" > $S/qmp/$n.tmp && mv $S/qmp/$n.tmp $S/qmp/$n.req
    while [ ! -f $S/qmp/$n.rsp ] && [ $(date +%s) -le $end ]; do sleep 0.1; done
    cat $S/qmp/$n.rsp 2>/dev/null || echo '{"error": {"desc": "no answer from the QMP relay (run.sh) in 30 s"}}'
}
unplug() { # QEMU device id, serial: device_del, then wait until dom0 no longer has the device
    local end=$(( $(date +%s) + 20 ))
    echo "+ qmp device_del $1: $(qmp "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"$1\"}}")"
    while dev_by $2 >/dev/null && [ $(date +%s) -le $end ]; do sleep 0.2; done
    ! dev_by $2 >/dev/null
}
plug() { # QEMU device id, block node, serial: device_add at stick A's port (EHCI port 1)
    local r i
    for i in 1 2 3 4 5; do      # the id of a device just deleted may still be taken
        r=$(qmp "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"usb-storage\", \"id\": \"$1\", \"bus\": \"ehci.0\", \"port\": \"1\", \"drive\": \"$2\", \"serial\": \"$3\"}}")
        echo "+ qmp device_add $1 ($3): $r"
        echo "$r" | grep -q '"return"' && return 0
        sleep 1
    done; return 1
}
# unplug stick A, wait until the guest has lost it; sets n0 to the guest's next console line
unplug_a() {
    n0=$(( $(glines $G) + 1 ))
    unplug usba $STICKA || info "dom0 still has stick A 20 s after device_del"
    waitguest_gone $G "serial=$STICKA" 30 $n0 || info "the guest still lists stick A 30 s after device_del"
    n0=$(( $(glines $G) + 1 ))
}
xlog_mark() { XL0=$(wc -l < $XLOG 2>/dev/null || echo 0); }
xlog_since() { # what xlusbd logged since xlog_mark, as INFO lines
    tail -n +$((XL0 + 1)) $XLOG 2>/dev/null | grep -v ' debug: ' | tail -8 | sed 's/^/INFO xlusbd: /'
}

step "D. the daemon xlusbd with guest $G (domid $D, its cfg's qusb controller)"
n0=$(( $(glines $G) + 1 )); t0=$(up)
attach_serial $G $STICKA; rc=$RC
waitguest $G "GUEST-STICK sd.: $MAGICA" 90 $n0; rc2=$?
info "stick A attached (declared): rc=$rc, guest read magic: $([ $rc2 = 0 ] && echo "yes after $(sub $t0 $(up)) s" || echo no)"
tool usb-list $G

step "D0. QEMU's qusb backend alone (no xlusbd): stick A replugged at its port, 3 tries"
for i in 1 2 3; do
    unplug_a; t0=$(up)
    plug usba sticka $STICKA
    if waitguest $G "GUEST-STICK sd.: $MAGICA" 30 $n0; then
        timing qusb-alone-replug-$i $(sub $t0 $(up))
    else
        info "qusb-alone-replug-$i: the guest did not get stick A back within 30 s; attached again"
        read CA PA <<<"$(ctrlport $D $A qusb)"
        tool usbdev-detach $G ${CA:-0} ${PA:-1}
        n0=$(( $(glines $G) + 1 )); attach_serial $G $STICKA
        waitguest $G "GUEST-STICK sd.: $MAGICA" 60 $n0 || info "stick A not back in the guest after the new attach"
    fi
done

step "D1. xlusbd -v (dom0 has no systemd: started by hand, as its unit would)"
$XLUSBD -v 2>$XLOG & XPID=$!
sleep 3
kill -0 $XPID 2>/dev/null
ok xlusbd-starts $? "pid $XPID, $(wc -l < $XLOG) log lines: $(grep -v ' debug: ' $XLOG | tail -1 | cut -c1-120)"

step "D2. replug stick A at its port: xlusbd gives it back"
xlog_mark; unplug_a; t0=$(up)
plug usba sticka $STICKA; rc=$?
waitguest $G "GUEST-STICK sd.: $MAGICA" 60 $n0; rc2=$?
ok replug-reattached $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "device_add rc=$rc, guest read magic A: $([ $rc2 = 0 ] && echo "yes after $(sub $t0 $(up)) s" || echo "no within 60 s"), dom0 driver '$(drv $A:1.0)'"
[ $rc2 = 0 ] && timing replug-to-magic $(sub $t0 $(up))
xlog_since

step "D3. another stick at stick A's port: not the declared device, never given"
xlog_mark; unplug_a; t0=$(up)
plug usbo stickother $STICKO; rc=$?
O=""; end=$(( $(date +%s) + 20 ))
while [ -z "$O" ] && [ $(date +%s) -le $end ]; do O=$(dev_by $STICKO); sleep 0.2; done
info "dom0 has the other stick at ${O:-nothing} after $(sub $t0 $(up)) s"
waitguest $G "serial=$STICKO\|$MAGICO" 30 $n0; given=$?
tool usb-list $G; lst=$OUT
[ $rc = 0 ] && [ -n "$O" ] && [ $given != 0 ] && [ "$(drv $O:1.0)" = usb-storage ] &&
    ! lists $STICKO $(busnum $O) $(devnum $O) &&
    echo "$lst" | grep "serial $STICKA" | grep -qwE 'absent|refused'
ok replug-other-device-refused $? "device_add rc=$rc, at ${O:-?}: given to the guest within 30 s: $([ $given = 0 ] && echo yes || echo no), dom0 driver '$(drv ${O:-x}:1.0)', usb-list says: $(echo "$lst" | grep -wE 'attached|present|absent|refused|invalid' | head -2 | tr -s ' ' | tr '\n' ' ')"
xlog_since
xlog_mark; unplug usbo $STICKO; waitguest_gone $G "serial=$STICKO" 5 $n0
n0=$(( $(glines $G) + 1 )); t0=$(up)
plug usba sticka $STICKA; rc=$?
waitguest $G "GUEST-STICK sd.: $MAGICA" 60 $n0; rc2=$?
ok replug-declared-device-back $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "stick A at its port again: guest read magic A: $([ $rc2 = 0 ] && echo "yes after $(sub $t0 $(up)) s" || echo "no within 60 s")"
xlog_since

step "D4. xl reboot $G: xlusbd attaches stick A to the new domain"
xlog_mark; n0=$(( $(glines $G) + 1 )); t0=$(up)
run xl reboot $G
waitguest $G GUEST-READY 240 $n0; rc=$?
t1=$(up); D=$(xl domid $G 2>/dev/null)
n1=$(grep -n GUEST-READY $(glog $G) | tail -1 | cut -d: -f1)
info "$G up again (domid ${D:-none}): $([ $rc = 0 ] && echo "after $(sub $t0 $t1) s" || echo "not within 240 s")"
waitguest $G "GUEST-STICK sd.: $MAGICA" 150 ${n1:-$n0}; rc2=$?
ok reboot-reattached $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "guest up after $(sub $t0 $t1) s, read magic A: $([ $rc2 = 0 ] && echo "yes $(sub $t1 $(up)) s after it was up" || echo "no within 150 s"), dom0 driver '$(drv $A:1.0)'"
[ $rc2 = 0 ] && timing reboot-up-to-magic $(sub $t1 $(up))
xlog_since
tool usb-list $G

step "D5. xl destroy $G: stick A back to dom0, and xlusbd leaves it there"
xlog_mark; t0=$(up)
run xl destroy $G
waitdrv $A:1.0 usb-storage 30; rc=$?; t1=$(up)
m=$(stick_in_dom0 $A 30); rc2=$?; echo "$m" | grep -q "$MAGICA" || rc2=1
sleep 5
[ $rc = 0 ] && [ $rc2 = 0 ] && [ "$(drv $A:1.0)" = usb-storage ]
ok destroy-released $? "dom0 driver usb-storage after $(sub $t0 $t1) s, /dev/$m, 5 s later '$(drv $A:1.0)'"
[ $rc = 0 ] && timing destroy-to-usb-storage $(sub $t0 $t1)
xlog_since
kill $XPID 2>/dev/null; wait $XPID 2>/dev/null
info "xlusbd exited (status $?) on SIGTERM"
