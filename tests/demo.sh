#!/bin/sh
# demo.sh - what `make demo-fakehost` shows: xlusb giving a USB stick to a
# guest and taking it back.  Run by tests/demo.c, which sets up the fake host
# (XENSTORED_PATH, SYSFSMOCK_ROOT, LD_PRELOAD, LIBXL_PVUSB_STATE_DIR).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '\n'; printf '# %s\n' "$@"; }
xlusb() { printf '$ xlusb %s\n' "$*"; "$top/xlusb/xlusb" "$@"; }

say "The host's USB devices that a guest could be given:"
xlusb usb-assignable-list

say "Give the USB stick to web01 (a controller is created for it, and the" \
    "stick's interface is moved from usb-storage to usbback):"
xlusb usbdev-attach web01 vendor=0781 product=5567
xlusb usb-list web01
xlusb usb-assignable-list

say "What the toolstack wrote in xenstore for the backend:"
printf '$ xenstore-ls /local/domain/0/backend/vusb/1\n'
xenstore-ls /local/domain/0/backend/vusb/1

say "The same list, as JSON:"
xlusb usb-list -j web01

say "Take the stick back (it returns to usb-storage), remove the controller:"
xlusb usbdev-detach web01 0 1
xlusb usbctrl-detach web01 0
xlusb usb-list web01
xlusb usb-assignable-list
