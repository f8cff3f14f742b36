# Common settings of the end-to-end harness (sourced by build-image.sh, boot.sh, run.sh).
#
# Everything heavy lives in a cache OUTSIDE the source tree, in a folder whose
# name is a hash of the versions of the Debian packages it was built from (and
# of RECIPE below): a new package version, or a change to the recipe, gives a
# new folder and a fresh build; an unchanged one is reused as it is.
#
#   E2E_CACHE   root of the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/xlpvusb-e2e)
#   E2E_RUN     folder of one run: 9p share, serial log, results (default $E2E_CACHE/run)

# Bump when the way the dom0 rootfs / hypervisor / xen-hcd are made changes.
RECIPE=1

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$E2E_DIR/../.." && pwd)
E2E_CACHE=${E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xlpvusb-e2e}
E2E_RUN=${E2E_RUN:-$E2E_CACHE/run}

XEN_SERIES=4.17
# The Debian mirror exactly as this machine's apt is configured (first and
# second URIs of the deb822 sources: the main archive and the security one).
SOURCES=${SOURCES:-/etc/apt/sources.list.d/debian.sources}
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' "$SOURCES" 2>/dev/null)}
SUITE=${SUITE:-bookworm}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
die() { echo "e2e: $*" >&2; exit 1; }

# Print the "package=version" lines the image is built from (one apt-cache call
# for all, they are slow on a busy machine). The kernel comes from debootstrap,
# i.e. from the base suite ($SUITE/main), not from -security.
e2e_versions() {
    echo "recipe=$RECIPE suite=$SUITE mirror=$MIRROR"
    apt-cache policy xen-hypervisor-$XEN_SERIES-amd64 xen-utils-$XEN_SERIES qemu-system-xen \
            busybox-static usbutils 2>/dev/null |
        awk '/^[^ ].*:$/ {p = substr($1, 1, length($1) - 1)} /Candidate:/ {print p "=" $2}'
    apt-cache madison linux-image-amd64 2>/dev/null |
        awk -F'|' -v s=" $SUITE/main " 'index($3, s) {gsub(/ /, "", $2); print "linux-image-amd64=" $2; exit}'
    echo "host-libxen-dev=$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null)"
}

# Sets IMG to the cache folder for the current versions.
e2e_img_dir() {
    local v key
    v=$(e2e_versions)
    { [ $(echo "$v" | grep -c '=.') -lt 8 ] || echo "$v" | grep -q '=$'; } && die "cannot read package versions (run 'apt-get update'?):
$v"
    key=$(echo "$v" | sha256sum | cut -c1-12)
    IMG=$E2E_CACHE/img-$key
    VERSIONS=$v
}
