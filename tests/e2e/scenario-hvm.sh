# The HVM part of the end-to-end scenario: type devicemodel, the emulated USB of
# an HVM guest's QEMU, driven over QMP. Sourced by dom0-test.sh, whose helpers and
# variables it uses: hvm_create (early, so the slow HVM boot overlaps the PV
# steps), then hvm_scenario (stick A must be in dom0).
#
# The guest: type="hvm", created by Debian's xl with its QEMU device model
# (Debian's qemu-system-xen), direct kernel boot of the PV guest's kernel and
# initramfs (which also loads uhci-hcd/ehci-pci/xhci-pci); its ttyS0 goes, through
# QEMU, to the same console log as a PV guest's hvc0, so glog/waitguest apply.
# Emulated serial output is slow here (each byte is a trip to QEMU): loglevel=4.
#
# Through xlusb: usbdev-attach with no controller (the library creates controller
# 0 in QEMU, device_add over QMP, and the device on it), detach, usbctrl-attach
# type=devicemodel version=3 (xHCI) with the stick on it, usbctrl-detach with the
# stick on it, xl destroy with the stick attached. First (H2a), in both modes,
# what upstream does: Debian's xl, for an attach with no controller, writes
# controller 0 to xenstore but never adds it to QEMU, so the usb-host device_add
# fails (QEMU: "Bus 'xenusb-0.0' not found"); the tool under test removes that
# leftover. Through Debian's xl (E2E_TOOL=xl) the other steps too: the no-
# controller attach fails again, the rest goes to a controller made first, as
# libvirt does.
H=e2e-hvm

hvm_create() {
    cat > /tmp/$H.cfg <<CFG
name = "$H"
type = "hvm"
kernel = "$S/vmlinuz"
ramdisk = "$S/domU-initrd.cpio.gz"
extra = "console=ttyS0 rdinit=/init loglevel=4"
serial = "file:$(glog $H)"
memory = 256
vcpus = 1
vnc = 0
vga = "none"
on_crash = "preserve"
CFG
    rm -f "$(glog $H)"
    t_h0=$(up); run xl create /tmp/$H.cfg; t_h1=$(up)
}

# QEMU's human monitor of domain $1, through the QMP socket libxl opens for
# libxenstat (libxl's own socket stays free for the tool under test).
qemu_hmp() {
    python3 - /var/run/xen/qmp-libxenstat-$1 "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c, a=None):
    f.write(json.dumps({"execute": c, "arguments": a or {}}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r: return r
f.readline()
cmd("qmp_capabilities")
r = cmd("human-monitor-command", {"command-line": sys.argv[2]})
print(r.get("return", r))
PY
}
qemu_has() { qemu_hmp $DH "info qtree" 2>/dev/null | grep -q "id \"$1\""; }
# the controllers, then the devices, QEMU has (one line each)
qemu_usb() {
    echo "ctrls: $(qemu_hmp $DH "info qtree" 2>/dev/null | grep -oE 'dev: [a-z0-9-]+, id "xenusb-[0-9]+"' | sed 's/dev: //; s/, id / /' | tr '\n' ' ')"
    echo "devs: $(qemu_hmp $DH "info usb" 2>/dev/null | grep -o 'ID: xenusb[-0-9]*' | tr '\n' ' ')"
}
hvm_ctrls() { xenstore-list /libxl/$DH/device/vusb 2>/dev/null | tr '\n' ' '; }
A_ID() { echo "xenusb-$(busnum $A)-$(devnum $A)"; }

hvm_scenario() {
    step "H1. HVM guest $H (type devicemodel), created $(sub $t_h0 $(up)) s ago"
    waitguest $H GUEST-READY 1200; rc=$?
    ok hvm-guest-boot $rc "xl create took $(sub $t_h0 $t_h1) s, guest ready after $(sub $t_h0 $(up)) s"
    [ $rc = 0 ] && timing hvm-create-to-ready $(sub $t_h0 $(up))
    DH=$(xl domid $H)
    QPIDH=$(ps -eo pid,args | grep -v grep | grep -E "qemu.*-xen-domid $DH( |$)" | awk '{print $1}')
    info "QEMU of $H (domid $DH): pid ${QPIDH:-none}"
    info "QEMU before any attach: $(qemu_usb | tr '\n' ' ')"
    guest_view $H "after boot"

    step "H2a. upstream: Debian's xl usbdev-attach $H stick A, no controller given"
    C0=$(hvm_ctrls)
    run xl usbdev-attach $H hostbus=$(busnum $A) hostaddr=$(devnum $A); rc=$RC
    XC=$(for c in $(hvm_ctrls); do case " $C0 " in *" $c "*) ;; *) echo $c;; esac; done | tr '\n' ' ')
    info "UPSTREAM xl usbdev-attach with no controller: rc=$rc, $(echo "$OUT" | grep -o "Bus '[^']*' not found" | head -1); controller(s) it left in xenstore: '${XC% }'; QEMU: $(qemu_usb | tr '\n' ' '); dom0 $A:1.0 driver '$(drv $A:1.0)'"
    xs_dump $DH
    for c in $XC; do
        qemu_has xenusb-$c && continue        # one QEMU has is a working controller
        tool usbctrl-detach $H $c; rc=$RC
        xenstore-exists /libxl/$DH/device/vusb/$c 2>/dev/null; left=$?     # 0: still there
        [ $rc = 0 ] && [ $left = 1 ] && [ "$(drv $A:1.0)" = usb-storage ]
        ok hvm-upstream-leftover-removed $? "usbctrl-detach of controller $c (in xenstore, never in QEMU): rc=$rc, gone from xenstore: $([ $left = 1 ] && echo yes || echo no), dom0 driver '$(drv $A:1.0)'"
        [ $left = 0 ] && { info "removing controller $c by hand"; xenstore-rm /libxl/$DH/device/vusb/$c; }
    done
    tool usbdev-detach $H 0 1 >/dev/null 2>&1     # if upstream's attach did work after all

    step "H2. usbdev-attach $H stick A ($A), no controller given"
    n0=$(( $(glines $H) + 1 )); t0=$(up)
    attach_serial $H $STICKA; rc=$RC
    info "QEMU after the attach: $(qemu_usb | tr '\n' ' ')"
    info "xenstore:"; xs_dump $DH
    read CA PA <<<"$(ctrlport $DH $A devicemodel)"
    qemu_has xenusb-${CA:-0} && qemu_has $(A_ID); q=$?
    [ $rc = 0 ] && [ $q = 0 ]
    ok hvm-attach-autoctrl $? "rc=$rc in $(sub $t0 $(up)) s; controller ${CA:-none} port ${PA:-none}; in QEMU: $([ $q = 0 ] && echo yes || echo no); $(echo "$OUT" | grep -o "Bus '[^']*' not found" | head -1)"
    if [ $rc != 0 ]; then
        # upstream's case: make the controller first (as libvirt does), then attach to it
        info "what is left of the failed attach: controllers '$(hvm_ctrls)'"
        C0=$(hvm_ctrls)
        tool usbctrl-attach $H type=devicemodel version=2
        CA=$(for c in $(hvm_ctrls); do case " $C0 " in *" $c "*) ;; *) echo $c;; esac; done | head -1)
        n0=$(( $(glines $H) + 1 )); t0=$(up)
        attach_serial $H $STICKA controller=${CA:-1} port=1
        read CA PA <<<"$(ctrlport $DH $A devicemodel)"
        info "attach to controller ${CA:-?} made first: rc=$RC; QEMU: $(qemu_usb | tr '\n' ' ')"
    fi
    waitguest $H "GUEST-STICK sd.: $MAGICA" 300 $n0; rc=$?
    ok hvm-guest-reads-magic $rc "visible after $(sub $t0 $(up)) s"
    [ $rc = 0 ] && timing hvm-attach-to-visible $(sub $t0 $(up))
    guest_view $H "after attaching stick A"
    info "dom0 $A:1.0 driver while attached: '$(drv $A:1.0)'"

    step "H3. usbdev-detach $H ${CA:-?} ${PA:-?}: dom0's driver comes back"
    n0=$(( $(glines $H) + 1 )); t0=$(up)
    tool usbdev-detach $H ${CA:-0} ${PA:-1}; rc=$RC
    waitdrv $A:1.0 usb-storage 60; rc2=$?; t1=$(up)
    waitguest_gone $H "serial=$STICKA" 120 $n0; rc3=$?
    ok hvm-detach-driver-back $([ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ]; echo $?) "rc=$rc, dom0 driver '$(drv $A:1.0)' after $(sub $t0 $t1) s, guest lost it: $([ $rc3 = 0 ] && echo yes || echo no); QEMU: $(qemu_usb | tr '\n' ' ')"
    [ $rc2 = 0 ] && timing hvm-detach-to-driver-back $(sub $t0 $t1)
    guest_view $H "after detaching stick A"

    step "H4. usbctrl-attach $H type=devicemodel version=3 (xHCI), stick A on it"
    C0=$(hvm_ctrls)
    tool usbctrl-attach $H type=devicemodel version=3; rc=$RC
    CX=$(for c in $(hvm_ctrls); do case " $C0 " in *" $c "*) ;; *) echo $c;; esac; done | head -1)
    n0=$(( $(glines $H) + 1 )); t0=$(up)
    attach_serial $H $STICKA controller=${CX:-1} port=1; rc2=$RC
    waitguest $H "GUEST-STICK sd.: $MAGICA" 300 $n0; rc3=$?
    info "QEMU: $(qemu_usb | tr '\n' ' ')"
    qemu_hmp $DH "info qtree" 2>/dev/null | grep -q "nec-usb-xhci, id \"xenusb-${CX:-1}\""; q=$?
    ok hvm-xhci-attach $([ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ $q = 0 ]; echo $?) "usbctrl-attach rc=$rc (controller ${CX:-none}, xHCI in QEMU: $([ $q = 0 ] && echo yes || echo no)), usbdev-attach rc=$rc2, guest read magic: $([ $rc3 = 0 ] && echo "after $(sub $t0 $(up)) s" || echo no)"
    guest_view $H "with stick A on the xHCI controller"

    step "H5. usbctrl-detach $H ${CX:-1} with stick A on it"
    n0=$(( $(glines $H) + 1 )); t0=$(up)
    tool usbctrl-detach $H ${CX:-1}; rc=$RC
    waitdrv $A:1.0 usb-storage 60; rc2=$?
    # QEMU removes a PCI device once the guest has ejected it (ACPI hot-unplug)
    end=$(( $(date +%s) + 120 )); while qemu_has xenusb-${CX:-1} && [ $(date +%s) -le $end ]; do sleep 1; done
    ! qemu_has xenusb-${CX:-1} && ! xenstore-exists /libxl/$DH/device/vusb/${CX:-1} 2>/dev/null; rc3=$?
    ok hvm-usbctrl-detach $([ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ]; echo $?) "rc=$rc, dom0 driver '$(drv $A:1.0)' after $(sub $t0 $(up)) s, controller gone from QEMU and xenstore: $([ $rc3 = 0 ] && echo yes || echo no)"
    tool usb-list $H

    step "H6. xl destroy $H with stick A attached: QEMU exits, dom0 has the stick back"
    n0=$(( $(glines $H) + 1 )); t0=$(up)
    attach_serial $H $STICKA controller=${CA:-0} port=1; rc=$RC
    waitguest $H "GUEST-STICK sd.: $MAGICA" 300 $n0; rc2=$?
    info "attached for the destroy: rc=$rc, guest read magic: $([ $rc2 = 0 ] && echo yes || echo no); dom0 driver '$(drv $A:1.0)'"
    t0=$(up); run xl destroy $H; t1=$(up)
    waitdrv $A:1.0 usb-storage 60; rc=$?
    end=$(( $(date +%s) + 30 )); while [ -n "$QPIDH" ] && kill -0 $QPIDH 2>/dev/null && [ $(date +%s) -le $end ]; do sleep 0.2; done
    ! { [ -n "$QPIDH" ] && kill -0 $QPIDH 2>/dev/null; }; q=$?
    m=$(stick_in_dom0 $A 30); rc3=$?; echo "$m" | grep -q "$MAGICA" || rc3=1
    ok hvm-destroy-released $([ $rc = 0 ] && [ $q = 0 ] && [ $rc3 = 0 ]; echo $?) "dom0 driver '$(drv $A:1.0)' $(sub $t0 $(up)) s after xl destroy (destroy took $(sub $t0 $t1) s), QEMU ${QPIDH:-?} exited: $([ $q = 0 ] && echo yes || echo no), /dev/$m"
    info "what is left in xenstore for domid $DH:"; xs_dump $DH
}
