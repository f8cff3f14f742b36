#!/bin/sh
# Installs what building and testing libxl PVUSB needs on Debian 12
# (bookworm): compiler, pkg-config, the Xen and yajl development files, the
# real xenstored the tests run against, valgrind and prove; clang with its
# sanitizer and libFuzzer runtimes and llvm-symbolizer (make check-asan,
# make fuzz); debhelper and lintian (make debs: the Debian packages); and
# for the end-to-end run on a real Xen (tests/e2e): debootstrap and QEMU.
# Needs root: run by a user, it runs itself again through sudo.
set -eu
if [ "$(id -u)" != 0 ]; then
    command -v sudo > /dev/null || {
        echo "$0 needs root: run it as root, or install sudo" >&2; exit 1; }
    exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential pkg-config python3 perl \
    libxen-dev libyajl-dev libudev-dev xen-utils-4.17 xenstore-utils \
    valgrind \
    clang libclang-rt-14-dev llvm \
    debhelper lintian \
    debootstrap qemu-system-x86 qemu-utils e2fsprogs cpio xz-utils
