#!/bin/bash
# `make check-asan`: the whole `make check` suite, with the library, the
# tests and xlusb built with AddressSanitizer + UndefinedBehaviorSanitizer,
# in a copy of the tree (build/asan/, made afresh from the files git knows,
# committed or not) so that the build in the tree is untouched.
#
# The compiler is clang, for its runtime: clang links the ASan/UBSan
# runtime statically into each sanitized executable, so
#   - the test programs keep tests/run-test's LD_PRELOAD of sysfsmock.so
#     unchanged (gcc's shared libasan must come first in the initial
#     library list, or ASan refuses to start; it would have to go into
#     LD_PRELOAD, and from there into every program the tests spawn: the
#     shells of system(), QEMU);
#   - the programs the tests run that are not ours (sh, QEMU, Debian's
#     xenstored) carry no sanitizer at all.
# The preloads, tests/harness/xsshim.so, sysfsmock.so, qmpredirect.so and
# xcmock.so, are test scaffolding, not the code under test, and are built WITHOUT sanitizers
# (first, in a make of their own; the sanitized make is told never to
# remake them, -o): xsshim.so goes into the private xenstored, Debian's
# uninstrumented binary (tests/harness/xs.c builds its environment from
# scratch: LD_PRELOAD=xsshim.so and nothing else, so neither the ASan
# runtime nor ASAN_OPTIONS reach it); an instrumented xsshim.so would
# need __asan_* symbols that nothing in that process defines, and the
# daemon would not start.  The other three are preloaded into the
# sanitized test programs and xlusb, and also into the uninstrumented sh
# that system() runs: the same.
#
# A report fails the run wherever it happens: every sanitized process
# writes its reports to build/asan/reports/ (log_path), so one from a
# process whose exit status a test ignores (a forked simulated backend,
# an xlusb whose output a test reads) still counts; they are shown at the
# end.  Leaks are reported (detect_leaks=1): each test child exits through
# exit(), after the harness released what it holds (tests/harness/tap.c),
# so LeakSanitizer's check at exit sees the code's leaks only, as
# valgrind's does in `make check-valgrind`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$top/build/asan
reports=$dir/reports
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
# -fno-sanitize-recover: UBSan stops at its first finding, as ASan does.
CFLAGS="-O1 -g $SAN -fno-sanitize-recover=all"
PRELOADS="tests/harness/xsshim.so tests/harness/sysfsmock.so tests/harness/qmpredirect.so tests/harness/xcmock.so"
# Not built at all (test-adapter skips): the PVUSB adapter goes into
# Debian's uninstrumented programs, which have no ASan runtime for it.
NOT_BUILT="adapter/libxlpvusb-adapter.so tests/bin/adapter-caller
           tests/bin/adapter-layout-debian
           tests/bin/adapter-layout-ours"

cd "$top"
scripts/copy-tree.sh "$dir" || exit 2
mkdir -p "$reports"

t0=$(date +%s)
make -C "$dir" -s $PRELOADS || exit 1
# One log_path for both (the runtimes share it): report.<pid>.
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/report"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/report"
make -C "$dir" -j2 $(printf -- '-o %s ' $PRELOADS $NOT_BUILT) CC=clang \
    CFLAGS="$CFLAGS" LDFLAGS="$SAN" check 2>&1 | tee "$dir/check.log"
status=${PIPESTATUS[0]}
t1=$(date +%s)

tests=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$dir/check.log")
nreports=$(find "$reports" -type f | wc -l)
shown=0
for f in "$reports"/*; do
    [ -e "$f" ] || continue
    if [ "$shown" -lt 10 ]; then
        echo "# asan: $f:"
        sed 's/^/#   /' "$f"
    else
        echo "# asan: also $f"
    fi
    shown=$((shown + 1))
done
echo "# asan: built and ran in $((t1 - t0)) s"
echo "# asan: ${tests:-0} tests, $nreports reports"
[ "$status" = 0 ] && [ "$nreports" = 0 ]
