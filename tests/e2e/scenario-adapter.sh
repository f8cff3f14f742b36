# The PVUSB adapter on the real toolstack: Debian's xl, then Debian's
# libvirt Xen driver, each with libxlpvusb-adapter.so preloaded (from the
# libxlpvusb1 package dom0 installed).  Sourced by dom0-test.sh (its helpers;
# guest $G, domid $D, runs with its qusb controller 0; sticks A and B and
# the keyboard are dom0's).
#   xl-adapter-attach             xl usbctrl-attach + usbdev-attach: the guest
#                                 reads stick A's magic, the ownership record is
#                                 written, xl usb-list shows it in xl's own form
#   xl-adapter-port99-refused     usbdev-attach port=99 on an 8-port controller
#   xl-adapter-missing-controller usbdev-detach naming a controller that does
#                                 not exist: an error, not a segfault
#   xl-adapter-detach             usbdev-detach + usbctrl-detach
#   libvirt-attach, libvirt-detach  virsh attach-device / detach-device of a
#                                 <hostdev type='usb'> on a PV guest that
#                                 libvirt defined and started with a qusb
#                                 controller
AD=$(dpkg -L libxlpvusb1 2>/dev/null | grep '/libxlpvusb-adapter\.so$')
LVG=e2e-libvirt
xla() { run env LD_PRELOAD=$AD xl "$@"; }
owner_of() { xenstore-read /libxl/usbback/$(echo $1 | tr . _)/owner 2>/dev/null; }

step "A. Debian's xl with the PVUSB adapter preloaded ($AD)"
if [ ! -f "$AD" ]; then
    for r in xl-adapter-attach xl-adapter-port99-refused xl-adapter-missing-controller \
             xl-adapter-detach libvirt-attach libvirt-detach; do
        res $r FAIL "libxlpvusb-adapter.so not installed in dom0 (package libxlpvusb1 from /share/debs: make debs)"
    done
    return 0
fi
xla usbctrl-attach $G type=qusb version=2 ports=8; rc=$RC
ADC=$(xenstore-list /local/domain/0/backend/qusb/$D 2>/dev/null | grep -vx 0 | sort -n | tail -1)
info "xl usbctrl-attach through the adapter: rc=$rc, new controller '${ADC}'"
n0=$(( $(glines $G) + 1 )); t0=$(up)
xla usbdev-attach $G hostbus=$(busnum $A) hostaddr=$(devnum $A) controller=${ADC:-9} port=1; rc2=$RC
waitguest $G "GUEST-STICK sd.: $MAGICA" 90 $n0; rc3=$?
own=$(owner_of $A)
xla usb-list $G; LIST=$OUT
echo "$LIST" | grep -qE '^Devid +Type +BE +state +usb-ver +ports' &&
    echo "$LIST" | grep -qE "^ +Port 1: Bus $(printf %03x $(busnum $A)) Device $(printf %03x $(devnum $A))$"; rc4=$?
run xl usb-list $G
[ "$OUT" = "$LIST" ]; info "xl usb-list with and without the adapter: $([ $? = 0 ] && echo same || echo different)"
[ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ "$own" = "$D/$ADC/1" ] && [ $rc4 = 0 ]
ok xl-adapter-attach $? "usbctrl-attach rc=$rc (controller ${ADC:-none}), usbdev-attach rc=$rc2, guest read magic A: $([ $rc3 = 0 ] && echo "yes after $(sub $t0 $(up)) s" || echo no), owner '$own', usb-list in xl's form: $([ $rc4 = 0 ] && echo yes || echo no), dom0 driver '$(drv $A:1.0)'"

xla usbdev-attach $G hostbus=$(busnum $B) hostaddr=$(devnum $B) controller=${ADC:-9} port=99; rc=$RC
[ $rc != 0 ] && ! xenstore-exists /local/domain/0/backend/qusb/$D/${ADC:-9}/port/99 2>/dev/null &&
    [ "$(drv $B:1.0)" = usb-storage ]
ok xl-adapter-port99-refused $? "rc=$rc: $(echo "$OUT" | tr '\n' ' ' | cut -c1-160); port/99 $(xenstore-exists /local/domain/0/backend/qusb/$D/${ADC:-9}/port/99 2>/dev/null && echo written || echo absent), stick B on '$(drv $B:1.0)'"

run xl usbdev-detach $G 7 1; info "Debian's xl alone: usbdev-detach $G 7 1 rc=$RC (139: segfault)"
xla usbdev-detach $G 7 1; rc=$RC
[ $rc != 0 ] && [ $rc -lt 128 ] && [ -n "$OUT" ]
ok xl-adapter-missing-controller $? "rc=$rc: $(echo "$OUT" | tr '\n' ' ' | cut -c1-160)"

t0=$(up)
xla usbdev-detach $G ${ADC:-9} 1; rc=$RC
waitdrv $A:1.0 usb-storage 30; rc2=$?
xla usbctrl-detach $G ${ADC:-9}; rc3=$RC
[ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ -z "$(owner_of $A)" ] &&
    ! xenstore-exists /local/domain/0/backend/qusb/$D/${ADC:-9} 2>/dev/null
ok xl-adapter-detach $? "usbdev-detach rc=$rc, dom0 driver '$(drv $A:1.0)' after $(sub $t0 $(up)) s, usbctrl-detach rc=$rc3"

step "L. libvirt's Xen driver with the adapter preloaded into libvirtd"
lv_fail() { res libvirt-attach FAIL "$1"; res libvirt-detach FAIL "$1"; }
lv_logs() {
    local f
    for f in /tmp/libvirtd.out /var/log/libvirt/libvirtd.log /var/log/libvirt/libxl/libxl-driver.log \
             /var/log/libvirt/libxl/$LVG.log; do
        [ -s $f ] && { echo "==== $f (tail)"; tail -25 $f | sed 's/^/    /'; }
    done
}
LVD=$(command -v libvirtd)
if [ -z "$LVD" ] || ! command -v virsh >/dev/null; then
    lv_fail "libvirtd or virsh not in the dom0 image (build-image.sh installs libvirt-daemon-driver-xen, libvirt-clients)"
    return 0
fi
info "libvirt $(dpkg-query -W -f='${Version}' libvirt-daemon-driver-xen 2>/dev/null)"
# No systemd in this dom0 (dom0-init is PID 1): the daemon is started by hand,
# with the environment a systemd drop-in (Environment=LD_PRELOAD=...) gives it.
mkdir -p /run/libvirt /var/log/libvirt /var/lib/libvirt
printf 'auth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "1:file:/var/log/libvirt/libvirtd.log"\nlog_filters = "1:libxl 3:util 3:rpc 3:event 3:object 3:conf 3:security"\n' > /tmp/libvirtd.conf
# Only the Xen driver is loaded (LIBVIRT_DRIVER_DIR): libvirtd skips the
# driver modules it does not find, and the QEMU driver, which the package
# brings, wants a libvirt-qemu user that only libvirt-daemon-system makes.
mkdir -p /tmp/libvirt-drivers
ln -sf /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so /tmp/libvirt-drivers/
# The Xen driver decodes the host CPU from libxl_get_physinfo's hw_cap
# (libxlCapsInitCPU) and does not start when no model of its cpu_map fits.
# The CPU of this run (boot.sh: TCG, qemu64,+svm,+npt) fits none: Xen clears
# SEP on an AMD CPU and TCG has no VME. x86_xlpvusb-tcg.xml describes that
# CPU as Xen reports it; it is added to dom0's cpu_map (data, on dom0's
# snapshot=on disk). Emulation-only: a real AMD CPU has VME and decodes as
# one of libvirt's own models; libvirt's code and the USB path are untouched.
CM=/usr/share/libvirt/cpu_map
if [ -f $S/x86_xlpvusb-tcg.xml ] && ! grep -q x86_xlpvusb-tcg $CM/index.xml; then
    cp $S/x86_xlpvusb-tcg.xml $CM/
    sed -i "s|<include filename='x86_features.xml'/>|&\n    <include filename='x86_xlpvusb-tcg.xml'/>|" $CM/index.xml
fi
info "cpu_map: $(grep -c "x86_xlpvusb-tcg" $CM/index.xml) include of x86_xlpvusb-tcg.xml; hw_caps $(xl info | sed -n 's/^hw_caps *: *//p')"
t0=$(up)
LIBVIRT_DRIVER_DIR=/tmp/libvirt-drivers LD_PRELOAD=$AD $LVD -d -f /tmp/libvirtd.conf > /tmp/libvirtd.out 2>&1
V="virsh -c xen:///system"
end=$(( $(date +%s) + 90 ))
until $V version > /tmp/virsh-version.out 2>&1 || [ $(date +%s) -gt $end ]; do sleep 1; done
if ! $V version >/dev/null 2>&1; then
    cat /tmp/virsh-version.out | sed 's/^/    /'; lv_logs
    info "CPU as Xen reports it: $(xl info | grep -E '^(hw_caps|virt_caps)' | tr -s ' ' | tr '\n' ' ')"
    if grep -qs 'Cannot find suitable CPU model' /var/log/libvirt/libvirtd.log /tmp/libvirtd.out; then
        lv_fail "libvirt's Xen driver found no cpu_map model for Xen's hw_caps: this outer CPU is not the one x86_xlpvusb-tcg.xml describes (boot.sh's -cpu changed?): describe it there"
        return 0
    fi
    lv_fail "libvirtd with the xen driver did not answer within 90 s: $(tail -1 /tmp/virsh-version.out)"
    return 0
fi
info "libvirtd answered after $(sub $t0 $(up)) s: $($V version 2>&1 | tr '\n' ' ')"
info "libvirt's host CPU: $($V capabilities 2>/dev/null | grep -m1 -o '<model>[^<]*</model>')"
LVPID=$(pgrep -x libvirtd | head -1)
grep -q libxlpvusb-adapter /proc/$LVPID/maps 2>/dev/null; info "adapter mapped in libvirtd ($LVPID): $([ $? = 0 ] && echo yes || echo no)"
cat > /tmp/$LVG.xml <<XML
<domain type='xen'>
  <name>$LVG</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenpv'>linux</type>
    <kernel>$S/vmlinuz</kernel>
    <initrd>$S/domU-initrd.cpio.gz</initrd>
    <cmdline>console=hvc0 rdinit=/init loglevel=4</cmdline>
  </os>
  <on_crash>preserve</on_crash>
  <devices>
    <controller type='usb' index='0' model='qusb2' ports='4'/>
    <console type='pty'><target type='xen' port='0'/></console>
  </devices>
</domain>
XML
cat > /tmp/$LVG-stick.xml <<XML
<hostdev mode='subsystem' type='usb'>
  <source><address bus='$(busnum $A)' device='$(devnum $A)'/></source>
</hostdev>
XML
sed 's/^/    /' /tmp/$LVG.xml /tmp/$LVG-stick.xml
run $V define /tmp/$LVG.xml
t0=$(up); run $V start $LVG; rc=$RC
waitguest $LVG GUEST-READY 240; rc2=$?
info "libvirt started $LVG: rc=$rc, guest ready: $([ $rc2 = 0 ] && echo "yes after $(sub $t0 $(up)) s" || echo no)"
if [ $rc != 0 ] || [ $rc2 != 0 ]; then
    lv_logs; lv_fail "the libvirt guest did not start (virsh start rc=$rc)"
else
    LD=$($V domid $LVG 2>/dev/null)
    info "xenstore of $LVG (domid $LD) before the attach:"; xs_dump $LD
    n0=$(( $(glines $LVG) + 1 )); t0=$(up)
    run $V attach-device $LVG /tmp/$LVG-stick.xml --live; rc=$RC
    waitguest $LVG "GUEST-STICK sd.: $MAGICA" 90 $n0; rc2=$?
    own=$(owner_of $A)
    [ $rc = 0 ] && [ $rc2 = 0 ] && [ "${own%%/*}" = "$LD" ]
    ok libvirt-attach $? "virsh attach-device rc=$rc, guest read magic A: $([ $rc2 = 0 ] && echo "yes after $(sub $t0 $(up)) s" || echo no), owner '$own', dom0 driver '$(drv $A:1.0)'"
    guest_view $LVG "after virsh attach-device"
    [ $rc = 0 ] || lv_logs
    n0=$(( $(glines $LVG) + 1 )); t0=$(up)
    run $V detach-device $LVG /tmp/$LVG-stick.xml --live; rc=$RC
    waitdrv $A:1.0 usb-storage 30; rc2=$?
    m=$(stick_in_dom0 $A 30); rc3=$?; echo "$m" | grep -q "$MAGICA" || rc3=1
    [ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ -z "$(owner_of $A)" ]
    ok libvirt-detach $? "virsh detach-device rc=$rc, dom0 driver '$(drv $A:1.0)' after $(sub $t0 $(up)) s, /dev/$m"
    [ $rc = 0 ] || lv_logs
    run $V destroy $LVG
fi
run $V undefine $LVG
[ -n "$LVPID" ] && kill $LVPID
