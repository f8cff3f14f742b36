#!/bin/bash
# Boot Xen + the Debian dom0 under QEMU (TCG), with the emulated USB devices the
# test uses. Runs QEMU in the foreground; its pid goes to $E2E_RUN/qemu.pid.
#   MODE=test          dom0 runs $E2E_RUN/share/dom0-test.sh, then powers off
#   MODE=shell         (default) dom0 gives a shell on the console
# The serial line (Xen's com1, dom0's hvc0) is logged to $E2E_RUN/serial.log and
# served on the unix socket $E2E_RUN/console.sock (console.py talks to it).
# The dom0 disk is the cached image opened with snapshot=on: a run never changes it.
#
# Why TCG: Xen does not run under this machine's KVM (a software KVM without
# VMX/SVM nesting; Xen dies early there). qemu64,+svm is what Xen's own CI uses;
# +npt (TCG emulates nested paging) gives Xen HAP, without which Debian's Xen
# cannot run HVM guests at all ("neither hap nor shadow paging available").
# This CPU, as Xen reports it, fits no model of libvirt's cpu_map (Xen clears
# SEP on an AMD CPU, every model but 486 and pentium has sep, and those two
# want VME, which QEMU 7.2's TCG lacks), so libvirt's Xen driver would not
# start: scenario-adapter.sh adds x86_xlpvusb-tcg.xml, a model of exactly
# this CPU, to dom0's cpu_map. Change the -cpu, change that model.
# vendor=GenuineIntel was measured and rejected: the HVM guest triple-faults
# at every boot and the PV part ran ~3.5 times slower. See README.md.
#
# USB devices (dom0 sees them as real hardware):
#   EHCI: stick A  46f4:0001 serial XLPVUSB-A1, first line of disk "XLPVUSB-MAGIC-STICK-A",
#                  device id usba, EHCI port 1
#         stick B  46f4:0001 serial XLPVUSB-B2, first line of disk "XLPVUSB-MAGIC-STICK-B",
#                  device id usbb, EHCI port 2
#         a spare stick's disk, block node stickother ("XLPVUSB-MAGIC-STICK-OTHER"), not
#                  plugged: scenario-daemon.sh plugs it (serial XLPVUSB-OT) at stick A's port
#   xHCI: a USB keyboard (0627:0001)
# Each stick has a fixed port and its disk is a -blockdev (it outlives a device_del), so a
# device_add on the QMP monitor ($E2E_RUN/qmp.sock; run.sh relays dom0's requests to it)
# puts a stick back where it was: a replug.
# Bus numbers depend on the controllers' probe order: find devices by serial/product.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_img_dir
O=$IMG/out
for f in xen vmlinuz initrd.img dom0.img stick-a.img stick-b.img stick-other.img; do
    [ -f "$O/$f" ] || die "$O/$f missing: run tests/e2e/build-image.sh first"
done
MODE=${MODE:-shell}
MEM=${MEM:-4096}; DOM0_MEM=${DOM0_MEM:-1536M}
mkdir -p "$E2E_RUN/share"
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=2 loglvl=all guest_loglvl=all console_timestamps=boot noreboot ${XEN_EXTRA:-}"
DOM0_ARGS="console=hvc0 earlyprintk=xen root=/dev/vda rw init=/sbin/dom0-init"
[ "$MODE" = test ] && DOM0_ARGS="$DOM0_ARGS e2e=test e2e=halt"
rm -f "$E2E_RUN/console.sock" "$E2E_RUN/qmp.sock" "$E2E_RUN/qemu.pid"
: > "$E2E_RUN/serial.log"
exec qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64,+svm,+npt -smp 2 -m $MEM -machine pc \
  -display none -vga none -monitor none -no-reboot -nodefaults \
  -chardev socket,id=ser0,path=$E2E_RUN/console.sock,server=on,wait=off,logfile=$E2E_RUN/serial.log \
  -serial chardev:ser0 \
  -qmp unix:$E2E_RUN/qmp.sock,server=on,wait=off \
  -kernel "$O/xen" -append "$XEN_ARGS" \
  -initrd "$O/vmlinuz $DOM0_ARGS,$O/initrd.img" \
  -drive if=virtio,file="$O/dom0.img",format=raw,snapshot=on \
  -virtfs local,path="$E2E_RUN/share",mount_tag=share,security_model=none,id=share \
  -device qemu-xhci,id=xhci \
  -device usb-kbd,bus=xhci.0 \
  -device usb-ehci,id=ehci \
  -blockdev driver=raw,node-name=sticka,read-only=on,file.driver=file,file.filename="$O/stick-a.img" \
  -device usb-storage,id=usba,bus=ehci.0,port=1,drive=sticka,serial=XLPVUSB-A1 \
  -blockdev driver=raw,node-name=stickb,read-only=on,file.driver=file,file.filename="$O/stick-b.img" \
  -device usb-storage,id=usbb,bus=ehci.0,port=2,drive=stickb,serial=XLPVUSB-B2 \
  -blockdev driver=raw,node-name=stickother,read-only=on,file.driver=file,file.filename="$O/stick-other.img" \
  -pidfile "$E2E_RUN/qemu.pid"
