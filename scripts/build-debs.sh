#!/bin/bash
# `make debs`: the Debian packages of debian/ (libxlpvusb1, libxlpvusb-dev,
# xlusb), built by `dpkg-buildpackage -us -uc -b` in a copy of the tree
# (build/deb/src/, scripts/copy-tree.sh) so that the build in the tree is
# untouched; the .debs and the .changes land in build/deb/. Then lintian
# on the .changes: its tags are shown (build/deb/lintian.log), and the
# run fails on an error; and tests/install/check.sh on the packages
# unpacked together (build/deb/root/). The last line counts lintian's
# tags: "debs: N packages, lintian: N errors, N warnings, N info, N
# overridden".
# While the copy is the same as at the last successful run (same files,
# same contents), the packages are kept and that run's summary is shown.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/build/deb
"$top/scripts/copy-tree.sh" "$dir/src" || exit 2
tree=$(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
           -C "$dir/src" -cf - . | sha256sum | cut -c1-16)
if [ "$(cat "$dir/tree" 2>/dev/null)" = "$tree" ]; then
    echo "$(cat "$dir/summary") (tree $tree unchanged: kept)"
    exit 0
fi
rm -f "$dir"/*.deb "$dir"/*.changes "$dir"/*.buildinfo "$dir/tree"
t0=$(date +%s)
if ! (cd "$dir/src" && dpkg-buildpackage -us -uc -b) > "$dir/build.log" 2>&1
then
    tail -40 "$dir/build.log"
    echo "debs: dpkg-buildpackage failed (whole log: $dir/build.log)"
    exit 1
fi
t1=$(date +%s)
# The library's exports against debian/libxlpvusb1.symbols: one gone fails
# the build above; a new one is listed here (add it to the file with the
# version that brings it).
awk '/^dpkg-gensymbols: warning/ { p = 1 } p && /^ +dh_|^ dpkg-|^dpkg-deb/ { p = 0 }
     p { print "# symbols: " $0 }' "$dir/build.log"
# What each package installs (its files, less the docs every one has).
for d in "$dir"/*.deb; do
    case $d in *-dbgsym_*) continue ;; esac
    echo "# $(basename "$d"):" $(dpkg-deb -c "$d" |
        awk '$1 !~ /^d/ && $6 !~ /^\.\/usr\/share\/doc\// {
                 print substr($6, 2) ($7 == "->" ? " -> " $8 : "") }')
done
# Errors, warnings and info tags, overrides shown (and counted).
lintian --info --display-info --show-overrides "$dir"/*.changes \
    > "$dir/lintian.log" 2>&1
grep -v '^running with root privileges' "$dir/lintian.log" |
    sed 's/^/# lintian: /'
count() { grep -c "^$1: " "$dir/lintian.log"; }
errors=$(count E) warnings=$(count W) infos=$(count I) overridden=$(count O)
echo "# debs: built in $((t1 - t0)) s, lintian in $(($(date +%s) - t1)) s"
rm -rf "$dir/root"
for d in "$dir"/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
"$top/tests/install/check.sh" "$dir/root" | sed 's/^/# packages: /'
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
echo "debs: $(ls "$dir"/*.deb | wc -l) packages, lintian: $errors errors," \
     "$warnings warnings, $infos info, $overridden overridden" |
    tee "$dir/summary"
[ "$errors" = 0 ] || exit 1
echo "$tree" > "$dir/tree"
