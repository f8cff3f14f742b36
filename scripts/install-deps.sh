#!/bin/sh
# Installs what building and testing libxl PVUSB needs on Debian 12
# (bookworm): compiler, pkg-config, the Xen and yajl development files, the
# real xenstored the tests run against, valgrind and prove.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential pkg-config python3 perl \
    libxen-dev libyajl-dev xen-utils-4.17 xenstore-utils \
    valgrind
