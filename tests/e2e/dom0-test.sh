#!/bin/bash
# The end-to-end scenario, run inside the test dom0 by /sbin/dom0-init (e2e=test).
# Drives PVUSB through the tool under test ($TOOL from /share/e2e.conf):
#   xlusb  our CLI, from our packages (built on the host by `make debs`, put in
#          /share/debs/ by run.sh, installed here first with dpkg -i); Debian's xl
#          is used only to create/destroy guests and for the interoperability checks
#   xl     Debian's xl for everything: the baseline that proves the image, the
#          guest, the emulated devices and the qusb backend work
# Output: "RESULT <check> PASS|FAIL <detail>" and "TIMING <name> <seconds>" lines
# (run.sh collects them), "GUEST-VIEW" blocks (what the guest sees), "INFO" dumps.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
S=/share
TOOL=xlusb; [ -f $S/e2e.conf ] && . $S/e2e.conf
XLUSB=/usr/sbin/xlusb
G=e2e-guest          # the guest of steps 1-7
G2=e2e-guest2        # a second guest, for step 8 (device attached at destroy)
GNODM=e2e-nodm       # a paused guest without a device model (step 1)
STICKA=XLPVUSB-A1; MAGICA=XLPVUSB-MAGIC-STICK-A
STICKB=XLPVUSB-B2; MAGICB=XLPVUSB-MAGIC-STICK-B
STICK_ID=46f4:0001; KBD_ID=0627:0001    # QEMU's usb-storage and usb-kbd

# ---------------------------------------------------------------- helpers
up() { cut -d' ' -f1 /proc/uptime; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
step() { echo; echo "=== [$(up)] $*"; }
res() { echo "RESULT $1 $2 ${3:-}"; }
ok() { if [ "$2" = 0 ]; then res "$1" PASS "${3:-}"; else res "$1" FAIL "${3:-}"; fi; }
timing() { echo "TIMING $1 $2"; }
info() { echo "INFO $*"; }
glog() { echo /var/log/xen/console/guest-$1.log; }
glines() { wc -l < "$(glog $1)" 2>/dev/null || echo 0; }

# run the tool under test (or xl, with "xl" as $1), echoing the command, output kept in $OUT
OUT=""; RC=0
run() {
    local bin=$1; shift
    echo "+ ${bin##*/} $*"
    OUT=$(timeout 120 "$bin" "$@" 2>&1); RC=$?
    [ -n "$OUT" ] && echo "$OUT" | sed 's/^/    /'
    echo "    (rc=$RC)"
    return $RC
}
if [ "$TOOL" = xl ]; then T=xl; else T=$XLUSB; fi
tool() { run "$T" "$@"; }

# wait until guest $1's console log, from line $4 on, matches $2; at most $3 s
waitguest() {
    local f=$(glog $1) end=$(( $(date +%s) + $3 ))
    while [ $(date +%s) -le $end ]; do
        tail -n +"${4:-1}" "$f" 2>/dev/null | grep -q -- "$2" && return 0
        sleep 0.2
    done; return 1
}
# wait until the guest's latest device report (after line $4) no longer matches $2
waitguest_gone() {
    local f=$(glog $1) end=$(( $(date +%s) + $3 )) last
    while [ $(date +%s) -le $end ]; do
        last=$(tail -n +"${4:-1}" "$f" 2>/dev/null | grep 'GUEST-USB ' | tail -1)
        [ -n "$last" ] && ! echo "$last" | grep -q -- "$2" && return 0
        sleep 0.2
    done; return 1
}
# the guest's latest view of its USB devices
guest_view() {
    local f=$(glog $1) n
    n=$(grep -n 'GUEST-USB ' "$f" 2>/dev/null | tail -1 | cut -d: -f1)
    echo "GUEST-VIEW $1 ($2):"
    [ -n "$n" ] && tail -n +"$n" "$f" | grep -E 'GUEST-(USB|DEV|STICK)' | sed 's/^/    /'
}

# dom0's view of the host devices
dev_by() { # $1 = serial | id (vvvv:pppp) -> busid, e.g. 1-1
    local d
    for d in /sys/bus/usb/devices/*; do
        [ -f $d/idVendor ] || continue
        case $1 in
        *:*) [ "$(cat $d/idVendor):$(cat $d/idProduct)" = "$1" ] && { basename $d; return 0; } ;;
        *)   [ "$(cat $d/serial 2>/dev/null)" = "$1" ] && { basename $d; return 0; } ;;
        esac
    done; return 1
}
busnum() { cat /sys/bus/usb/devices/$1/busnum; }
devnum() { cat /sys/bus/usb/devices/$1/devnum; }
drv() { local d=$(readlink /sys/bus/usb/devices/$1/driver 2>/dev/null); echo "${d##*/}"; }
waitdrv() { # busid:intf driver timeout
    local end=$(( $(date +%s) + $3 ))
    while [ $(date +%s) -le $end ]; do [ "$(drv $1)" = "$2" ] && return 0; sleep 0.1; done; return 1
}
blkdev() { ls /sys/bus/usb/devices/$1:1.0/host*/target*/*/block/ 2>/dev/null | head -1; }
# wait for the stick's disk to be back in dom0 and read its magic: prints "sdX: <magic>"
stick_in_dom0() { # busid timeout
    local end=$(( $(date +%s) + $2 )) b
    while [ $(date +%s) -le $end ]; do
        b=$(blkdev $1)
        [ -n "$b" ] && [ -b /dev/$b ] && { echo "$b: $(head -c 64 /dev/$b 2>&1 | head -n 1)"; return 0; }
        sleep 0.2
    done; echo "no disk"; return 1
}
dump_dom0_usb() {
    local d b
    for d in /sys/bus/usb/devices/*; do
        [ -f $d/idVendor ] || continue
        b=$(basename $d); case $b in usb*) continue;; esac
        echo "    $b bus=$(cat $d/busnum) addr=$(cat $d/devnum) id=$(cat $d/idVendor):$(cat $d/idProduct) speed=$(cat $d/speed) serial=$(cat $d/serial 2>/dev/null) '$(cat $d/product 2>/dev/null)' if0-driver=$(drv $b:1.0) disk=$(blkdev $b)"
    done
}
# where the backend has busid $2 of domain $1: prints "<ctrl> <port>" (qusb or vusb backend)
# (a devicemodel controller's ports are in the toolstack's private view)
ctrlport() {
    local p=/local/domain/0/backend/$3/$1
    [ $3 = devicemodel ] && p=/libxl/$1/device/vusb
    xenstore-ls -f $p 2>/dev/null |
        awk -v b="\"$2\"" '$2=="=" && $3==b && $1 ~ /\/port\/[0-9]+$/ {n=split($1,p,"/"); print p[n-2], p[n]; exit}'
}
# does a listing (in $OUT) show the device bus/addr?
lists() { echo "$OUT" | grep -qiE "bus 0*$2 device 0*$3\b|hostbus=0*$2 .*hostaddr=0*$3\b|\"hostbus\": *0*$2,.*\"hostaddr\": *0*$3\b|\b$1\b"; }

# attach a device the way the scenario asks; xl (4.17) has no vendor/product form,
# so in xl mode the serial is resolved here to hostbus/hostaddr.
attach_serial() { # domain serial [controller=.. port=..]
    local dom=$1 ser=$2 b; shift 2
    if [ "$T" = xl ]; then
        b=$(dev_by $ser); tool usbdev-attach $dom hostbus=$(busnum $b) hostaddr=$(devnum $b) "$@"
    else
        tool usbdev-attach $dom vendor=${STICK_ID%:*} product=${STICK_ID#*:} serial=$ser "$@"
    fi
}

guest_cfg() { # name usbctrl-line
    cat > /tmp/$1.cfg <<CFG
name = "$1"
type = "pv"
kernel = "$S/vmlinuz"
ramdisk = "$S/domU-initrd.cpio.gz"
extra = "console=hvc0 rdinit=/init loglevel=4"
memory = 192
vcpus = 1
on_crash = "preserve"
$2
CFG
}
QUSB_CFG='usbctrl = [ "type=qusb,version=2,ports=4" ]'

xs_dump() { # the xenstore layout of domain $1's PVUSB, as asked for in the report
    local p
    for p in /local/domain/0/backend/qusb/$1 /local/domain/0/backend/vusb/$1 \
             /local/domain/$1/device/vusb /libxl/$1 /libxl/usbback \
             /local/domain/0/device-model/$1; do
        xenstore-exists $p 2>/dev/null || continue
        xenstore-ls -fp $p 2>&1 | grep -v '/device/\(console\|vkbd\|vfb\)' | sed 's/^/    /'
    done
    # libxl's own record of the domain's configuration (what xl reads back)
    for p in /var/lib/xen/userdata-d.$1.*; do
        [ -f "$p" ] && { echo "    $p (usb part):"; sed -n '/"usbctrls"\|"usbdevs"/,/^    \]/p' "$p" | head -60 | sed "s/^/      /"; }
    done
}

the_end() {
    step "9. dom0 at the end"
    dump_dom0_usb
    run xl destroy $G
    xl list
    echo "==== QEMU (qemu-dm) log of $G ===="; tail -20 /var/log/xen/qemu-dm-$G.log 2>/dev/null
    echo "==== dom0 dmesg (usb) ===="; dmesg | grep -iE 'usb|xen-hcd|usbfs' | tail -25
    step "DONE"
}

# ---------------------------------------------------------------- 0. preflight
step "0. dom0, tool under test: $TOOL"
xl info | grep -E 'release|xen_version|nr_cpus|free_memory|xen_commandline'
info "dom0 xen-utils $(dpkg-query -W -f='${Version}' xen-utils-4.17), host libxen-dev ${HOST_LIBXEN:-?}"
if [ "$TOOL" = xlusb ]; then
    # ---- the packages under test, installed as an administrator would
    run dpkg -i $S/debs/*.deb
    ok debs-install $RC "rc=$RC: $(cd $S/debs && echo *.deb)"
    PKGS=$(cd $S/debs && ls *.deb | sed 's/_.*//')
    dpkg-query -W -f='    ${Package} ${Version} ${db:Status-Abbrev}\n' $PKGS
    run dpkg --verify $PKGS; ok debs-files-intact $RC "dpkg --verify $(echo $PKGS)"
    bash -c '. /usr/share/bash-completion/completions/xlusb && complete -p xlusb' | grep -q _xlusb
    ok xlusb-completion-loads $? "$(bash -c '. /usr/share/bash-completion/completions/xlusb && complete -p xlusb' 2>&1)"
    # ----
    ldd $XLUSB 2>&1 | sed 's/^/    /'
    ! ldd $XLUSB 2>&1 | grep -q 'not found'; ok xlusb-libs-resolve $? "$(ldd $XLUSB 2>&1 | grep -c 'not found') missing"
    run $XLUSB help >/dev/null; ok xlusb-runs $RC "xlusb help rc=$RC"
fi
echo "dom0 USB devices:"; dump_dom0_usb
A=$(dev_by $STICKA); B=$(dev_by $STICKB); K=$(dev_by $KBD_ID)
[ -n "$A" ] && [ -n "$B" ] && [ -n "$K" ]
ok dom0-sees-devices $? "stickA=$A stickB=$B kbd=$K"
[ "$(drv $A:1.0)" = usb-storage ] && [ "$(drv $K:1.0)" = usbhid ] && [ -n "$(blkdev $A)" ]
ok dom0-drivers-initial $? "stickA:$(drv $A:1.0) /dev/$(blkdev $A), kbd:$(drv $K:1.0)"

# ---------------------------------------------------------------- 1. guest + controllers
step "1. create $G with Debian's xl (config has $QUSB_CFG, so xl starts its QEMU)"
guest_cfg $G "$QUSB_CFG"; cat /tmp/$G.cfg | sed 's/^/    /'
t0=$(up); run xl create /tmp/$G.cfg; t1=$(up)
waitguest $G GUEST-READY 240; rc=$?
ok guest-boot $rc "xl create took $(sub $t0 $t1) s, guest ready after $(sub $t0 $(up)) s"
timing guest-create-to-ready $(sub $t0 $(up))
D=$(xl domid $G)
guest_view $G "after boot, before any attach"
info "QEMU started by xl for $G:"; ps -eo pid,args | grep -v grep | grep -E "qemu.*-xen-domid $D( |$)" | sed 's/^/    /'
info "xenstore after create:"; xs_dump $D
# E2E_ONLY=adapter|daemon (run.sh): from here, only that part
case ${ONLY:-} in adapter|daemon) . $S/scenario-$ONLY.sh; the_end; exit 0;; esac
# a second guest for step 8 boots in the background meanwhile
guest_cfg $G2 "$QUSB_CFG"; run xl create /tmp/$G2.cfg; t_g2=$(up)
# and the HVM guest of scenario-hvm.sh (slow to boot)
. $S/scenario-hvm.sh; hvm_create

step "1b. usbctrl-attach type=qusb to a guest without a device model is refused"
guest_cfg $GNODM ""; run xl create -p /tmp/$GNODM.cfg
DN=$(xl domid $GNODM)
xenstore-exists /local/domain/0/device-model/$DN/backends/qusb 2>/dev/null && info "unexpected: $GNODM has a qusb device model"
tool usbctrl-attach $GNODM type=qusb version=2 ports=4
if [ "$T" = xl ]; then
    [ $RC != 0 ]; ok qusb-refused-without-dm $? "xl: rc=$RC"
else
    [ $RC != 0 ] && echo "$OUT" | grep -q "usbctrl" && echo "$OUT" | grep -q "qusb"
    ok qusb-refused-without-dm $? "rc=$RC, message: $(echo "$OUT" | tr '\n' ' ' | cut -c1-160)"
    ! xenstore-exists /local/domain/0/backend/qusb/$DN 2>/dev/null && ! xenstore-exists /local/domain/$DN/device/vusb 2>/dev/null
    ok qusb-refused-leaves-nothing $? "$(xenstore-ls -f /local/domain/0/backend/qusb/$DN 2>/dev/null | wc -l) backend nodes"
fi
run xl destroy $GNODM

step "1c. usbctrl-attach $G type=qusb (a second controller, devid 1)"
tool usbctrl-attach $G type=qusb version=2 ports=4; rc=$RC
xenstore-ls -f /local/domain/0/backend/qusb/$D 2>/dev/null | grep -E '/[0-9]+/(state|type|num-ports|usb-ver) '
end=$(( $(date +%s) + 30 ))
while [ $(date +%s) -le $end ] && [ "$(xenstore-read /local/domain/0/backend/qusb/$D/1/state 2>/dev/null)" != 4 ]; do sleep 0.2; done
st=$(xenstore-read /local/domain/0/backend/qusb/$D/1/state 2>/dev/null)
[ $rc = 0 ] && [ "$st" = 4 ]; ok usbctrl-attach-qusb $? "rc=$rc, controller 1 backend state ${st:-absent} (4 = guest's xen-hcd connected)"
tool usb-list $G
[ $RC = 0 ] && [ "$(echo "$OUT" | grep -ciE '^ *[0-9]+ +(qusb|devicemodel|pv)|^Devid')" -ge 1 ] && echo "$OUT" | grep -qE '^ *1 '
ok usb-list-two-controllers $? "rc=$RC"

# ---------------------------------------------------------------- 2. stick A by serial
step "2. usbdev-attach stick A ($A) by vendor/product/serial"
guest_view $G "before attaching stick A"
[ "$T" = xl ] || tool usb-assignable-list
n0=$(( $(glines $G) + 1 )); t0=$(up)
attach_serial $G $STICKA; rc=$RC; t1=$(up)
ok stickA-attach $rc "rc=$rc in $(sub $t0 $t1) s"
waitguest $G "GUEST-STICK sd.: $MAGICA" 90 $n0; rc=$?
ok stickA-guest-reads-magic $rc "visible after $(sub $t0 $(up)) s"
[ $rc = 0 ] && timing attach-to-visible-stickA $(sub $t0 $(up))
guest_view $G "after attaching stick A"
ok stickA-dom0-driver-usbfs $([ "$(drv $A:1.0)" = usbfs ]; echo $?) "dom0 $A:1.0 driver while attached: '$(drv $A:1.0)'"
tool usb-list $G; lists $A $(busnum $A) $(devnum $A); ok stickA-in-usb-list $? ""
if [ "$T" != xl ]; then
    tool usb-list -j $G
    [ $RC = 0 ] && echo "$OUT" | head -c1 | grep -q '[[{]' && lists $A $(busnum $A) $(devnum $A)
    ok stickA-in-usb-list-json $? "rc=$RC"
fi
read CA PA <<<"$(ctrlport $D $A qusb)"; info "stick A is at controller ${CA:-?} port ${PA:-?}"

# ---------------------------------------------------------------- 3. keyboard by hostbus/hostaddr
step "3. usbdev-attach the keyboard ($K) by hostbus=$(busnum $K) hostaddr=$(devnum $K)"
n0=$(( $(glines $G) + 1 )); t0=$(up)
tool usbdev-attach $G hostbus=$(busnum $K) hostaddr=$(devnum $K); rc=$RC
ok kbd-attach $rc "rc=$rc"
waitguest $G "GUEST-DEV .* $KBD_ID .*:usbhid" 90 $n0; rc=$?
ok kbd-guest-binds-usbhid $rc "after $(sub $t0 $(up)) s"
[ $rc = 0 ] && timing attach-to-visible-kbd $(sub $t0 $(up))
ok kbd-dom0-driver-usbfs $([ "$(drv $K:1.0)" = usbfs ]; echo $?) "dom0 $K:1.0 driver while attached: '$(drv $K:1.0)'"
guest_view $G "after attaching the keyboard"
read CK PK <<<"$(ctrlport $D $K qusb)"; info "keyboard is at controller ${CK:-?} port ${PK:-?}"

# ---------------------------------------------------------------- 4. interoperability with xl
step "4. interop: Debian's xl and $TOOL see each other's devices"
if [ "$T" != xl ]; then
    run xl usb-list $G
    lists $A $(busnum $A) $(devnum $A) && lists $K $(busnum $K) $(devnum $K)
    ok xl-usb-list-shows-xlusb-devices $? ""
fi
n0=$(( $(glines $G) + 1 )); t0=$(up)
run xl usbdev-attach $G hostbus=$(busnum $B) hostaddr=$(devnum $B); rc=$RC
waitguest $G "GUEST-STICK sd.: $MAGICB" 90 $n0; rc2=$?
ok xl-attach-stickB $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "xl rc=$rc, guest read magic B after $(sub $t0 $(up)) s"
info "xenstore layout after 'xl usbdev-attach' (domain $D):"; xs_dump $D
read CB PB <<<"$(ctrlport $D $B qusb)"; info "stick B is at controller ${CB:-?} port ${PB:-?}"
if [ "$T" != xl ]; then
    tool usb-list $G; lists $B $(busnum $B) $(devnum $B)
    ok xlusb-usb-list-shows-xl-device $? ""
fi
n0=$(( $(glines $G) + 1 )); t0=$(up)
tool usbdev-detach $G ${CB:-0} ${PB:-1}; rc=$RC
waitdrv $B:1.0 usb-storage 30; rc2=$?
ok detach-xl-attached-device $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "${T##*/} usbdev-detach rc=$rc, dom0 driver '$(drv $B:1.0)' after $(sub $t0 $(up)) s"
run xl usb-list $G; ! lists $B $(busnum $B) $(devnum $B); ok stickB-gone-from-xl-list $? ""
waitguest_gone $G "serial=$STICKB" 30 $n0; ok stickB-gone-from-guest $? ""

# ---------------------------------------------------------------- 5. detach
step "5. usbdev-detach stick A and the keyboard: dom0's drivers come back"
n0=$(( $(glines $G) + 1 )); t0=$(up)
tool usbdev-detach $G ${CA:-0} ${PA:-1}; rc=$RC
waitdrv $A:1.0 usb-storage 30; rc2=$?; t1=$(up)
ok stickA-detach $rc "rc=$rc"
ok stickA-dom0-driver-back $rc2 "'$(drv $A:1.0)' after $(sub $t0 $t1) s"
[ $rc2 = 0 ] && timing detach-to-driver-back-stickA $(sub $t0 $t1)
m=$(stick_in_dom0 $A 30); rc=$?; echo "$m" | grep -q "$MAGICA" || rc=1
ok stickA-disk-back-in-dom0 $rc "/dev/$m (after $(sub $t0 $(up)) s)"
t0=$(up)
tool usbdev-detach $G ${CK:-0} ${PK:-2}; rc=$RC
waitdrv $K:1.0 usbhid 30; rc2=$?; t1=$(up)
ok kbd-detach $rc "rc=$rc"
ok kbd-dom0-driver-back $rc2 "'$(drv $K:1.0)' after $(sub $t0 $t1) s"
[ $rc2 = 0 ] && timing detach-to-driver-back-kbd $(sub $t0 $t1)
waitguest_gone $G "serial=$STICKA\|$KBD_ID" 30 $n0; ok guest-sees-no-device $? ""
guest_view $G "after detaching stick A and the keyboard"
tool usb-list $G; ! lists $A $(busnum $A) $(devnum $A); ok stickA-gone-from-usb-list $? ""

# ---------------------------------------------------------------- 6. usbctrl-detach with a device
step "6. usbctrl-detach controller 1 with stick A attached to it"
n0=$(( $(glines $G) + 1 )); t0=$(up)
attach_serial $G $STICKA controller=1 port=1
waitguest $G "GUEST-STICK sd.: $MAGICA" 90 $n0; rc=$?
ok stickA-attach-ctrl1 $rc "rc=$RC, $(ctrlport $D $A qusb | sed 's/^/controller /; s/ / port /2')"
n0=$(( $(glines $G) + 1 )); t0=$(up)
tool usbctrl-detach $G 1; rc=$RC
waitdrv $A:1.0 usb-storage 30; rc2=$?
ok usbctrl-detach $rc "rc=$rc"
! xenstore-exists /local/domain/0/backend/qusb/$D/1 2>/dev/null && ! xenstore-exists /local/domain/$D/device/vusb/1 2>/dev/null
ok usbctrl-detach-nodes-gone $? "$(xenstore-ls -f /local/domain/0/backend/qusb/$D/1 2>/dev/null | wc -l) backend nodes left"
ok usbctrl-detach-driver-back $rc2 "'$(drv $A:1.0)' after $(sub $t0 $(up)) s"
waitguest_gone $G "serial=$STICKA" 30 $n0; ok usbctrl-detach-guest-lost-it $? ""
tool usb-list $G

# ---------------------------------------------------------------- 7. type=pv (no usbback here)
step "7. type=pv: no usbback in this kernel (ls /sys/bus/usb/drivers: $(ls /sys/bus/usb/drivers | tr '\n' ' '))"
t0=$(up); tool usbctrl-attach $G type=pv version=2 ports=4; rc=$RC
info "usbctrl-attach type=pv: rc=$rc after $(sub $t0 $(up)) s"
PVLEFT=$(xenstore-list /local/domain/0/backend/vusb/$D 2>/dev/null | tr '\n' ' ')
if [ "$T" = xl ]; then
    info "xl: pv controller(s) left behind in xenstore: '${PVLEFT}' (used by 7b)"
else
    [ $rc != 0 ] && [ -n "$OUT" ]; ok pv-usbctrl-attach-fails $? "rc=$rc: $(echo "$OUT" | tr '\n' ' ' | cut -c1-200)"
    [ -z "$PVLEFT" ]; ok pv-usbctrl-attach-leaves-nothing $? "backend/vusb/$D: '${PVLEFT}'"
fi

step "7b. a pv controller as Debian's xl leaves it: attaching the stick unbinds usb-storage, binding usbback fails, rollback"
# libxl (4.17) writes a pv controller's nodes, times out waiting for usbback
# and leaves them: that is a complete pv controller record, and the real sysfs
# path (unbind from usb-storage, bind to the missing usbback, rebind) runs on it.
[ "$T" = xl ] || run xl usbctrl-attach $G type=pv version=2 ports=4
PV=$(xenstore-list /local/domain/0/backend/vusb/$D 2>/dev/null | head -1)
[ -n "$PV" ]; ok pv-controller-setup $? "pv controller ${PV:-missing} (backend state $(xenstore-read /local/domain/0/backend/vusb/$D/$PV/state 2>/dev/null))"
info "dom0 before: $(dump_dom0_usb | grep " $B ")"
probes() { dmesg | grep -c "usb-storage $B:1.0: USB Mass Storage device detected"; }
np0=$(probes)
t0=$(up)
attach_serial $G $STICKB controller=${PV:-9} port=1; rc=$RC
info "attach to the pv controller: rc=$rc after $(sub $t0 $(up)) s"
[ $rc != 0 ] && [ -n "$OUT" ]; ok pv-usbdev-attach-fails $? "rc=$rc: $(echo "$OUT" | tr '\n' ' ' | cut -c1-240)"
waitdrv $B:1.0 usb-storage 15; rc=$?
m=$(stick_in_dom0 $B 30); rc2=$?; echo "$m" | grep -q "$MAGICB" || rc2=1
ok pv-rollback-stick-usable-in-dom0 $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "driver '$(drv $B:1.0)', /dev/$m"
info "usb-storage probed $B:1.0 $(( $(probes) - np0 )) time(s) during the failed attach (1 = it was unbound, then rebound by the rollback)"
p=$(xenstore-read /local/domain/0/backend/vusb/$D/${PV:-9}/port/1 2>/dev/null)
ok pv-port-left-empty $([ -z "$p" ]; echo $?) "port/1='$p'"
r=$(xenstore-ls -f /libxl/usbback 2>/dev/null)
info "host-side records after the failed attach: '${r}'"
if [ -n "$PV" ]; then
    t0=$(up); tool usbctrl-detach $G $PV
    info "usbctrl-detach of the never-connected pv controller: rc=$RC after $(sub $t0 $(up)) s"
    [ "$T" = xl ] || ok pv-usbctrl-detach-unconnected $RC "rc=$RC after $(sub $t0 $(up)) s"
fi
for c in $(xenstore-list /local/domain/0/backend/vusb/$D 2>/dev/null); do
    info "pv controller $c still there: removing its nodes by hand"
    xenstore-rm /local/domain/0/backend/vusb/$D/$c; xenstore-rm /local/domain/$D/device/vusb/$c; xenstore-rm /libxl/$D/device/vusb/$c
done 2>/dev/null

# ---------------------------------------------------------------- 8. destroy with a device attached
step "8. xl destroy $G2 with stick A attached: the device returns to dom0"
waitguest $G2 GUEST-READY 240; ok guest2-boot $? "$G2 (created $(sub $t_g2 $(up)) s ago) is up"
D2=$(xl domid $G2)
n0=$(( $(glines $G2) + 1 )); t0=$(up)
attach_serial $G2 $STICKA
waitguest $G2 "GUEST-STICK sd.: $MAGICA" 90 $n0; rc=$?
ok destroy-setup-attach $([ $RC = 0 ] && [ $rc = 0 ]; echo $?) "rc=$RC, guest read magic A after $(sub $t0 $(up)) s"
QPID=$(ps -eo pid,args | grep -v grep | grep -E "qemu.*-xen-domid $D2( |$)" | awk '{print $1}')
info "QEMU of $G2 (domid $D2): pid ${QPID:-none}, dom0 driver of $A:1.0 '$(drv $A:1.0)'"
t0=$(up); run xl destroy $G2; t1=$(up)
waitdrv $A:1.0 usb-storage 60; rc=$?
ok destroy-device-returns-to-dom0 $rc "'$(drv $A:1.0)' $(sub $t0 $(up)) s after xl destroy (destroy took $(sub $t0 $t1) s)"
[ $rc = 0 ] && timing destroy-to-driver-back $(sub $t0 $(up))
[ -n "$QPID" ] && { kill -0 $QPID 2>/dev/null && info "QEMU $QPID still running" || info "QEMU $QPID has exited"; }
m=$(stick_in_dom0 $A 30); info "stick A in dom0 after destroy: /dev/$m"
info "what is left in xenstore for domid $D2 after destroy:"; xs_dump $D2
if [ "$T" != xl ]; then
    tool usb-list; ok usb-list-after-destroy $RC "rc=$RC"
    tool usb-assignable-list
    l=$(echo "$OUT" | grep -E "^ *$A ")
    [ $RC = 0 ] && [ -n "$l" ] && ! echo "$l" | grep -qE "$G2|\b$D2[/:]"
    ok stickA-assignable-after-destroy $? "rc=$RC: '$l'"
    echo "$OUT" | grep -q "Domain $D2\b"; info "stale record of domid $D2 mentioned by usb-list/assignable-list: $([ $? = 0 ] && echo yes || echo no)"
fi
n0=$(( $(glines $G) + 1 )); t0=$(up)
attach_serial $G $STICKA; rc=$RC
waitguest $G "GUEST-STICK sd.: $MAGICA" 90 $n0; rc2=$?
ok reattach-after-destroy $([ $rc = 0 ] && [ $rc2 = 0 ]; echo $?) "attach to $G rc=$rc, guest read magic after $(sub $t0 $(up)) s"
read CA PA <<<"$(ctrlport $D $A qusb)"
tool usbdev-detach $G ${CA:-0} ${PA:-1}
waitdrv $A:1.0 usb-storage 30; ok final-driver-back $? "'$(drv $A:1.0)'"

# ---------------------------------------------------------------- H. HVM guest, type devicemodel
hvm_scenario

# ---------------------------------------------------------------- the adapter
[ -f $S/scenario-adapter.sh ] && . $S/scenario-adapter.sh

# ---------------------------------------------------------------- the daemon
. $S/scenario-daemon.sh

# ---------------------------------------------------------------- the end
the_end
