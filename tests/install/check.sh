#!/bin/sh
# `make install` into a temporary DESTDIR, then: a libxl-style caller
# compiles and links against the installed headers and library through
# pkg-config, and the shared library exports only libxl_ symbols.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr >/dev/null
export PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
cc -Wall -Werror -o "$dest/caller" "$top/tests/install/caller.c" \
    $(pkg-config --cflags --libs libxlpvusb)
out=$(LD_LIBRARY_PATH="$dest/usr/lib" "$dest/caller" 2>/dev/null)
[ "$out" = pv ] || { echo "caller printed '$out', expected 'pv'"; exit 1; }
others=$(nm -D --defined-only "$dest/usr/lib/libxlpvusb.so" |
         awk '$3 !~ /^libxl_/ { print $3 }')
[ -z "$others" ] || { echo "exported beyond the API: $others"; exit 1; }
for f in usr/include/xlpvusb/libxl_pvusb.h usr/lib/libxlpvusb.a \
         usr/sbin/xlusb usr/share/man/man1/xlusb.1; do
    [ -e "$dest/$f" ] || { echo "not installed: /$f"; exit 1; }
done
echo "install check: ok ($(nm -D --defined-only "$dest/usr/lib/libxlpvusb.so" | wc -l) symbols, all libxl_)"
