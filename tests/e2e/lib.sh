# Common settings of the end-to-end harness (sourced by build-image.sh, boot.sh, run.sh).
#
# Everything heavy lives in a cache OUTSIDE the source tree, in a folder whose
# name is a hash of the versions of the Debian packages it was built from (and
# of RECIPE below): a new package version, or a change to the recipe, gives a
# new folder and a fresh build; an unchanged one is reused as it is.
#
#   E2E_CACHE   root of the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/xlpvusb-e2e)
#   E2E_RUN     folder of one run: 9p share, serial log, results (default $E2E_CACHE/run)
#   E2E_KEEP, E2E_KEEP_HOURS   what e2e_cache_prune keeps (default 3 folders, 6 hours)

# Bump when the way the dom0 rootfs / hypervisor / xen-hcd are made changes.
RECIPE=2

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

# Runs the calling script again as root through sudo, unless it is root already
# (root needs no sudo: a fresh Debian has none). The E2E_* settings, and the
# others named here and in boot.sh, go along.
e2e_need_root() {
    local keep
    [ "$(id -u)" = 0 ] && return 0
    command -v sudo >/dev/null || die "$(basename "$0") needs root: run it as root, or install sudo"
    keep=$(compgen -e | grep -E '^(E2E_.*|SOURCES|MIRROR|SUITE|MODE|MEM|DOM0_MEM|XEN_EXTRA)$' | paste -sd, -)
    exec sudo ${keep:+--preserve-env=$keep} "$0" "$@"
}

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
    if [ -d "$IMG" ]; then touch "$IMG/used"; fi   # a cold cache has none yet
}

# Removes the image folders of other versions or recipes, but the E2E_KEEP most
# recently used ones (by the mtime of their "used" stamp, touched by e2e_img_dir;
# a folder without one, by its own) and any used in the last E2E_KEEP_HOURS hours
# (another checkout may be building or booting it). Never $IMG, never a folder
# with something mounted in it.
e2e_cache_prune() {
    local d s t n=0 recent=$(( $(date +%s) - ${E2E_KEEP_HOURS:-6} * 3600 ))
    touch "$IMG/used"
    for d in "$E2E_CACHE"/img-*; do
        [ -d "$d" ] || continue
        s=$d/used; [ -f "$s" ] || s=$d
        echo "$(stat -c %Y "$s") $d"
    done | sort -rn | while read -r t d; do
        n=$((n + 1))
        { [ "$d" = "$IMG" ] || [ $n -le ${E2E_KEEP:-3} ] || [ "$t" -gt $recent ] ||
          grep -q " $d/" /proc/mounts; } && continue
        echo "e2e: removing $d (an older recipe or package versions, last used $(date -d @$t '+%F %H:%M'))"
        rm -rf "$d"
    done
}
