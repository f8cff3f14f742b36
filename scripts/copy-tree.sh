#!/bin/sh
# copy-tree.sh DIR: DIR made afresh as a copy of the source tree, from the
# files git knows (committed or not, tracked or untracked-but-not-ignored,
# less those deleted), so that a build there leaves the tree untouched
# (tests/asan/run.sh, scripts/build-debs.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if ! git rev-parse --git-dir > /dev/null 2>&1; then
    echo "copy-tree: $top is not a git checkout (the copy is made of the" \
         "files git knows)" >&2
    exit 2
fi
rm -rf "$1"
mkdir -p "$1"
git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf - | tar -C "$1" -xf -
