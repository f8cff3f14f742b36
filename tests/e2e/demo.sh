#!/bin/bash
# Demo: run the end-to-end scenario on a real Xen (under QEMU) and show, step by
# step, the commands given in dom0, what the listing commands print there
# (usb-list, usb-assignable-list: as on dom0's terminal; the -j JSON is left to
# the full log) and the guest's own view of its USB devices before and after
# each attach and detach. Same checks and exit status as run.sh
# (arguments and E2E_* variables are passed on); the full log of the scenario is
# $E2E_RUN/share/results/dom0-test.log (run.sh prints where).
#   tests/e2e/demo.sh                 through xlusb
#   E2E_TOOL=xl tests/e2e/demo.sh     through Debian's xl
set -o pipefail
"$(dirname "$0")/run.sh" "$@" 2>&1 | {
    tail=0; view=0; out=0
    while IFS= read -r l; do
        if [ $tail = 1 ]; then echo "$l"; continue; fi
        case $l in
        "==== e2e results"*) tail=1; echo; echo "$l" ;;
        "[e2e "*|"[build-image "*) echo "$l" ;;
        "  | "*)
            l=${l#  | }
            case $l in
            "=== "*)        echo; echo "$l"; view=0; out=0 ;;
            "+ "*)          echo "  dom0# ${l#+ }"; view=0
                            case $l in
                            *" -j"*) out=0 ;;
                            "+ xlusb usb-"*list*|"+ xl usb-list"*) out=1 ;;
                            *) out=0 ;;
                            esac ;;
            "    (rc="*)    [ $out = 1 ] && [ "$l" != "    (rc=0)" ] && echo "  ${l#    }"; out=0 ;;
            "GUEST-VIEW "*) echo "  $l"; view=1 ;;
            "    "*GUEST-*) [ $view = 1 ] && echo "      GUEST-${l#*GUEST-}" ;;   # no timestamp
            "    "*)        [ $out = 1 ] && echo "  ${l#    }" ;;               # the command's output
            "RESULT "*)     set -- $l; echo "  -> $3 $2"; view=0; out=0 ;;
            *)              view=0; out=0 ;;
            esac ;;
        esac
    done
}
