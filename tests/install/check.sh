#!/bin/sh
# tests/install/check.sh [ROOT]: `make install` into a temporary DESTDIR (or,
# given ROOT, a tree installed there already: scripts/build-debs.sh unpacks
# its packages into one), then: a libxl-style caller compiles and links
# against the installed headers and library through pkg-config, and the
# shared library exports only libxl_ symbols.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# = 1 ]; then
    dest=$1
else
    dest=$(mktemp -d)
    trap 'rm -rf "$dest"' EXIT
    make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr >/dev/null
fi
# /usr/lib, or Debian's multiarch /usr/lib/<triplet>
pc=$(ls "$dest"/usr/lib/pkgconfig/libxlpvusb.pc \
        "$dest"/usr/lib/*/pkgconfig/libxlpvusb.pc 2>/dev/null | head -1)
[ -n "$pc" ] || { echo "not installed: libxlpvusb.pc"; exit 1; }
libdir=${pc%/pkgconfig/libxlpvusb.pc}
export PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -Wall -Werror -o "$dest/caller" "$top/tests/install/caller.c" \
    $(pkg-config --cflags --libs libxlpvusb)
# <libxl.h> and <libxl_utils.h> are this library's, from its own dir
deps=$(cc -M "$top/tests/install/caller.c" $(pkg-config --cflags libxlpvusb))
for h in libxl.h libxl_utils.h; do
    case "$deps" in
    *"$dest/usr/include/xlpvusb/$h"*) ;;
    *) echo "<$h> does not resolve to /usr/include/xlpvusb/$h"; exit 1 ;;
    esac
done
case "$deps" in
*" /usr/include/libxl"*) echo "libxen-dev's libxl headers were used"; exit 1 ;;
esac
[ ! -e "$dest/usr/include/libxl.h" ] && [ ! -e "$dest/usr/include/libxl_utils.h" ] ||
    { echo "installed over libxen-dev's /usr/include/libxl*.h"; exit 1; }
out=$(LD_LIBRARY_PATH="$libdir" "$dest/caller" 2>/dev/null)
rm -f "$dest/caller"
[ "$out" = pv ] || { echo "caller printed '$out', expected 'pv'"; exit 1; }
others=$(nm -D --defined-only "$libdir/libxlpvusb.so" |
         awk '$3 !~ /^libxl_/ { print $3 }')
[ -z "$others" ] || { echo "exported beyond the API: $others"; exit 1; }
adapter=$(nm -D --defined-only "$libdir/libxlpvusb-adapter.so" |
          awk '$3 !~ /^libxl_(device_usb|devid_to_device_usbctrl$|ctrlport_to_device_usbdev$)/ { print $3 }')
[ -z "$adapter" ] || { echo "the adapter exports beyond libxenlight's PVUSB: $adapter"; exit 1; }
for f in usr/include/xlpvusb/libxl_pvusb.h usr/include/xlpvusb/libxl.h \
         usr/include/xlpvusb/libxl_utils.h "${libdir#$dest/}/libxlpvusb.a" \
         "${libdir#$dest/}/libxlpvusb-adapter.so" \
         usr/sbin/xlusb usr/share/man/man1/xlusb.1 \
         usr/share/bash-completion/completions/xlusb; do
    [ -e "$dest/$f" ] || [ -e "$dest/$f.gz" ] ||
        { echo "not installed: /$f"; exit 1; }
done
echo "install check: ok ($(nm -D --defined-only "$libdir/libxlpvusb.so" | wc -l) symbols, all libxl_)"
