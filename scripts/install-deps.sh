#!/bin/sh
# Installs what building and testing libxl PVUSB needs on Debian 12
# (bookworm): compiler, pkg-config, the Xen and yajl development files, the
# real xenstored the tests run against, valgrind and prove; clang with its
# sanitizer and libFuzzer runtimes and llvm-symbolizer (make check-asan,
# make fuzz); and for the end-to-end run on a real Xen (tests/e2e):
# debootstrap and QEMU.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential pkg-config python3 perl \
    libxen-dev libyajl-dev xen-utils-4.17 xenstore-utils \
    valgrind \
    clang libclang-rt-14-dev llvm \
    debootstrap qemu-system-x86 qemu-utils e2fsprogs cpio xz-utils
