#!/bin/bash
# Demo: run the end-to-end scenario on a real Xen (under QEMU) and show, step by
# step, the commands given in dom0 and the guest's own view of its USB devices
# before and after each attach and detach. Same checks and exit status as run.sh
# (all arguments and E2E_* variables are passed on); the full log is in
# $E2E_RUN/share/results/dom0-test.log.
#   tests/e2e/demo.sh                 through xlusb
#   E2E_TOOL=xl tests/e2e/demo.sh     through Debian's xl
set -o pipefail
"$(dirname "$0")/run.sh" "$@" 2>&1 | awk '
    /^==== e2e results/ { tail = 1 }
    tail                { print; fflush(); next }
    /^\[e2e /           { print; fflush(); next }
    /^\[build-image /   { print; fflush(); next }
    !/^  \| /           { next }
    { sub(/^  \| /, "") }
    /^=== /             { print ""; print; view = 0; fflush(); next }
    /^\+ /              { print "  dom0# " substr($0, 3); view = 0; next }
    /^GUEST-VIEW /      { print "  " $0; view = 1; fflush(); next }
    view && /^    GUEST-/ { sub(/^    /, "      "); print; fflush(); next }
    /^RESULT /          { printf "  -> %s %s\n", $3, $2; view = 0; fflush(); next }
    { view = 0 }
'
