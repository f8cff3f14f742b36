#!/bin/bash
# Build (or reuse) everything the end-to-end test boots, from Debian's packages:
#   xen            the hypervisor (ELF multiboot image, from xen-hypervisor-4.17-amd64)
#   vmlinuz, initrd.img, dom0.img   Debian dom0 (debootstrap, Xen userspace at the
#                  same version as this host's libxen-dev, so binaries built here run there)
#   xen-hcd.ko     the PV USB frontend, built out of tree from linux-source (Debian's
#                  kernel has CONFIG_USB_XEN_HCD unset)
#   domU-initrd.cpio.gz   busybox guest that reports its USB devices on its console
#   stick-a.img, stick-b.img, stick-other.img   backing files of the emulated USB sticks (magic at offset 0)
# into $E2E_CACHE/img-<hash of the package versions>/ (see lib.sh), outside the source tree.
# Idempotent: a product that exists is kept; a second run takes a few seconds.
# Needs root, debootstrap, e2fsprogs (mke2fs -d), apt-get and dpkg-deb; installs nothing on the host.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "build-image.sh needs root (debootstrap, chroot)"
for c in debootstrap mke2fs dpkg-deb apt-get chroot cpio; do
    command -v $c >/dev/null || die "missing host tool '$c' (apt-get install debootstrap e2fsprogs cpio)"
done
e2e_img_dir
mkdir -p "$IMG"/{debs,out,logs}
e2e_cache_prune
cd "$IMG"
echo "$VERSIONS" > versions.txt
T_ALL=$(now)
step() { echo "[build-image $(elapsed $T_ALL)s] $*"; }
step "cache $IMG"

# Hash of the files that go into a product: the product is remade when it changes.
hashof() { cat "$@" | sha256sum | cut -c1-16; }
stale() { [ ! -f "$1" ] || [ "$(cat "$1.stamp" 2>/dev/null)" != "$2" ]; }

# 1. the hypervisor and a static busybox: extracted from their .debs, never installed here
if [ ! -f out/xen ] || [ ! -x bb/bin/busybox ]; then
    T=$(now)
    (cd debs && apt-get download -q -o APT::Sandbox::User=root xen-hypervisor-$XEN_SERIES-amd64 busybox-static >/dev/null)
    rm -rf x bb; mkdir -p x bb
    dpkg-deb -x debs/xen-hypervisor-$XEN_SERIES-amd64_*.deb x
    dpkg-deb -x debs/busybox-static_*.deb bb
    # QEMU's multiboot loader takes the uncompressed ELF32 image
    zcat x/boot/xen-$XEN_SERIES-amd64.gz > out/xen.tmp && mv out/xen.tmp out/xen
    rm -rf x
    step "hypervisor + busybox extracted ($(elapsed $T) s)"
fi

# 2. dom0 rootfs (debootstrap minbase, ~3 min)
XL=rootfs/usr/lib/xen-$XEN_SERIES/bin/xl
if [ ! -f rootfs/.e2e-done ]; then
    T=$(now)
    rm -rf rootfs
    step "debootstrap $SUITE from $MIRROR (log: $IMG/logs/debootstrap.log)"
    debootstrap --variant=minbase \
        --include=linux-image-amd64,initramfs-tools,xen-utils-$XEN_SERIES,xenstore-utils,qemu-system-xen,usbutils,kmod,udev,procps,iproute2,busybox,libvirt-daemon-driver-xen,libvirt-clients \
        "$SUITE" rootfs "$MIRROR" > logs/debootstrap.log 2>&1 \
        || { tail -20 logs/debootstrap.log; die "debootstrap failed"; }
    step "debootstrap done ($(elapsed $T) s)"
    # Bring the Xen userspace (xl, libxl, libxen*, xenstored, qemu-system-xen) to the
    # version this host builds against: same apt sources as the host (-updates,
    # -security). The kernel is left as debootstrap installed it: xen-hcd.ko is
    # built for exactly that one.
    T=$(now)
    rm -f rootfs/etc/apt/sources.list
    cp "$SOURCES" rootfs/etc/apt/sources.list.d/
    printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' > rootfs/etc/apt/apt.conf.d/99e2e
    chroot rootfs sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade --no-install-recommends \
        xen-utils-'$XEN_SERIES' xen-utils-common xenstore-utils qemu-system-xen qemu-system-common qemu-system-data libyajl2 \
        $(dpkg-query -W -f="\${Package}\n" "libxen*")' > logs/rootfs-upgrade.log 2>&1 \
        || { tail -20 logs/rootfs-upgrade.log; die "upgrade of dom0's Xen userspace failed"; }
    chroot rootfs apt-get clean
    touch rootfs/.e2e-done
    step "dom0 Xen userspace upgraded ($(elapsed $T) s)"
fi
DOM0_XEN=$(chroot rootfs dpkg-query -W -f='${Version}' xen-utils-$XEN_SERIES)
HOST_XEN=$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null || echo none)
step "dom0 xen-utils $DOM0_XEN, host libxen-dev $HOST_XEN"
[ "$DOM0_XEN" = "$HOST_XEN" ] || echo "WARNING: dom0's Xen userspace ($DOM0_XEN) differs from the host's libxen-dev ($HOST_XEN): host-built binaries may not run in dom0"
KV=$(ls rootfs/lib/modules | sort -V | tail -1)
KPKG=$(chroot rootfs dpkg-query -W -f='${Version}' linux-image-$KV)
echo "$KV" > out/kernel-release

# 3. xen-hcd.ko, out of tree, in a throw-away copy of the rootfs with headers + gcc
if [ ! -f out/xen-hcd.ko ]; then
    T=$(now)
    if [ ! -f src/xen-hcd.c ]; then
        (cd debs && apt-get download -q -o APT::Sandbox::User=root linux-source-6.1=$KPKG >/dev/null)
        mkdir -p src
        dpkg-deb --fsys-tarfile debs/linux-source-6.1_${KPKG}_all.deb \
            | tar -xO ./usr/src/linux-source-6.1.tar.xz \
            | tar -xJO linux-source-6.1/drivers/usb/host/xen-hcd.c > src/xen-hcd.c.tmp
        mv src/xen-hcd.c.tmp src/xen-hcd.c
        rm -f debs/linux-source-6.1_*.deb
    fi
    step "xen-hcd.c extracted from linux-source-6.1 $KPKG ($(elapsed $T) s)"
    rm -rf buildroot; cp -a rootfs buildroot
    chroot buildroot sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-headers-$KV make gcc" \
        > logs/buildroot.log 2>&1 || { tail -20 logs/buildroot.log; die "installing headers failed"; }
    mkdir -p buildroot/build/xen-hcd
    cp src/xen-hcd.c buildroot/build/xen-hcd/
    echo 'obj-m += xen-hcd.o' > buildroot/build/xen-hcd/Kbuild
    chroot buildroot make -s -C /usr/src/linux-headers-$KV M=/build/xen-hcd modules
    cp buildroot/build/xen-hcd/xen-hcd.ko out/
    rm -rf buildroot
    step "xen-hcd.ko built for $KV ($(elapsed $T) s)"
fi
if ! cmp -s out/xen-hcd.ko rootfs/lib/modules/$KV/updates/xen-hcd.ko; then
    mkdir -p rootfs/lib/modules/$KV/updates
    cp out/xen-hcd.ko rootfs/lib/modules/$KV/updates/
    chroot rootfs depmod $KV
fi
cp -u rootfs/boot/vmlinuz-$KV out/vmlinuz
cp -u rootfs/boot/initrd.img-$KV out/initrd.img

# 4. domU initramfs (PV and HVM guests): static busybox, USB/SCSI/HID modules,
#    xen-hcd (PV) and the emulated host controllers' drivers (HVM)
H=$(hashof "$E2E_DIR/domU-init" "$E2E_DIR/build-image.sh" out/xen-hcd.ko)
if stale out/domU-initrd.cpio.gz "$H"; then
    T=$(now)
    G=$IMG/domU-root; rm -rf "$G"
    mkdir -p "$G"/{bin,sbin,proc,sys,dev,lib/modules/$KV}
    cp bb/bin/busybox "$G"/bin/busybox
    for a in $("$G"/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$G"/bin/$a; done
    for a in modprobe insmod rmmod lsmod; do ln -sf ../bin/busybox "$G"/sbin/$a; done
    for m in usb-storage sd_mod usbhid hid-generic xen-hcd uhci-hcd ehci-pci xhci-pci; do
        chroot rootfs modprobe -S $KV --show-depends $m | awk '$1=="insmod"{print $2}'
    done | sort -u | while read -r f; do
        mkdir -p "$G$(dirname $f)"; cp rootfs$f "$G$f"
    done
    cp rootfs/lib/modules/$KV/modules.{dep,builtin,order,softdep} "$G"/lib/modules/$KV/ 2>/dev/null || true
    install -m 755 "$E2E_DIR/domU-init" "$G"/init
    # xz, and nothing the init does not use: an HVM guest's QEMU hands kernel and
    # initramfs over byte by byte (fw_cfg without DMA under Xen), ~10 KB/s here
    (cd "$G" && find . | "$IMG"/bb/bin/busybox cpio -o -H newc 2>/dev/null | xz -6 --check=crc32) > out/domU-initrd.cpio.gz.tmp
    mv out/domU-initrd.cpio.gz.tmp out/domU-initrd.cpio.gz; echo "$H" > out/domU-initrd.cpio.gz.stamp
    rm -rf "$G"
    step "domU initramfs $(du -h out/domU-initrd.cpio.gz | cut -f1) ($(elapsed $T) s)"
fi

# 5. dom0 disk image (ext4 filled by mke2fs -d: no loop mount). Boots read-only
#    from here: each run writes to a throw-away overlay (boot.sh: snapshot=on).
H=$(hashof "$E2E_DIR/dom0-init" out/xen-hcd.ko rootfs/.e2e-done)
if stale out/dom0.img "$H"; then
    T=$(now)
    install -m 755 "$E2E_DIR/dom0-init" rootfs/sbin/dom0-init
    echo dom0 > rootfs/etc/hostname
    printf '/dev/vda / ext4 rw 0 1\n' > rootfs/etc/fstab
    rm -f out/dom0.img.tmp; truncate -s 3G out/dom0.img.tmp
    mke2fs -q -t ext4 -L dom0root -d rootfs out/dom0.img.tmp
    mv out/dom0.img.tmp out/dom0.img; echo "$H" > out/dom0.img.stamp
    step "dom0.img $(du -h out/dom0.img | cut -f1) used ($(elapsed $T) s)"
fi

# 6. USB stick backing files: a magic string at offset 0, the rest zeros
for s in a b other; do
    f=out/stick-$s.img
    [ -f $f ] || { truncate -s 16M $f.tmp; printf "XLPVUSB-MAGIC-STICK-%s\n" "$(echo $s | tr a-z A-Z)" | dd of=$f.tmp conv=notrunc status=none; mv $f.tmp $f; }
done
ln -sfn "$(basename "$IMG")" "$E2E_CACHE/current"
step "done: $IMG (total $(elapsed $T_ALL) s)"
