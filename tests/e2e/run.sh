#!/bin/bash
# End-to-end test on a real Xen hypervisor: build (or reuse) the image, boot Xen +
# dom0 under QEMU, run dom0-test.sh inside dom0 on the packages built by
# `make debs` (installed there with dpkg -i), power off, and report PASS/FAIL per
# check plus timings.
#
#   tests/e2e/run.sh                 the scenario through xlusb (needs the packages: make debs)
#   E2E_TOOL=xl tests/e2e/run.sh     the same scenario through Debian's xl (baseline: proves
#                                    the image, guest, devices; no xlusb needed)
# Environment: E2E_CACHE, E2E_RUN (lib.sh), E2E_DEBS (the .debs' folder, default
#   <top>/build/deb),
#   E2E_TIMEOUT (s, whole run, default 2400), E2E_BOOT_TIMEOUT (s until dom0 is
#   ready, default 480), E2E_NO_BUILD=1 (skip build-image.sh),
#   E2E_QUIET=1 (do not echo dom0's test output live),
#   E2E_ONLY=adapter|daemon (dom0 runs the guest of step 1, then only scenario-adapter.sh
#   or scenario-daemon.sh).
# Needs root: run by a user, it runs itself again through sudo (lib.sh: e2e_need_root).
# Exit status: 0 when every check passed, 1 otherwise (including: no results at all).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root "$@"
TOOL=${E2E_TOOL:-xlusb}
DEBS=${E2E_DEBS:-$TOP/build/deb}
TIMEOUT=${E2E_TIMEOUT:-2400}
BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-480}
T_ALL=$(now)
say() { echo "[e2e $(elapsed $T_ALL)s] $*"; }

# 1. the image
T=$(now)
if [ "${E2E_NO_BUILD:-0}" != 1 ]; then
    "$E2E_DIR/build-image.sh" || { echo "RESULT image-build FAIL"; echo "0 passed, 1 failed"; exit 1; }
fi
e2e_img_dir
T_BUILD=$(elapsed $T)
say "image ready in $T_BUILD s: $IMG"

# 2. the run folder and the 9p share: test script, guest kernel + initramfs, our packages
rm -rf "$E2E_RUN"; mkdir -p "$E2E_RUN/share/results" "$E2E_RUN/share/debs" "$E2E_RUN/share/qmp"
S=$E2E_RUN/share
cp "$E2E_DIR/dom0-test.sh" "$S/"; chmod +x "$S/dom0-test.sh"
cp "$E2E_DIR"/scenario-*.sh "$E2E_DIR"/x86_xlpvusb-tcg.xml "$S/"
cp "$IMG/out/vmlinuz" "$S/vmlinuz"; cp "$IMG/out/domU-initrd.cpio.gz" "$S/"
if [ "$TOOL" = xlusb ]; then
    # what an administrator installs: every package but the -dev and the debug symbols
    for f in "$DEBS"/*.deb; do
        case $f in *-dev_*|*-dbgsym_*) ;; *) [ -f "$f" ] && cp "$f" "$S/debs/" ;; esac
    done
    ls "$S"/debs/*.deb >/dev/null 2>&1 || say "WARNING: no packages in $DEBS (make debs): xlusb's checks will fail"
fi
printf 'TOOL=%s\nONLY=%s\nHOST_LIBXEN=%s\n' "$TOOL" "${E2E_ONLY:-}" "$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null)" > "$S/e2e.conf"
echo "$VERSIONS" > "$E2E_RUN/versions.txt"

# 3. boot, follow the serial log
LOG=$E2E_RUN/serial.log
say "booting Xen under QEMU (TCG); serial log $LOG"
T_BOOT0=$(now)
MODE=test "$E2E_DIR/boot.sh" > "$E2E_RUN/qemu.out" 2>&1 &
BPID=$!
# the QMP relay: dom0 writes /share/qmp/<n>.req, gets /share/qmp/<n>.rsp (qmp.py)
"$E2E_DIR/qmp.py" "$E2E_RUN/qmp.sock" "$S/qmp" > "$E2E_RUN/qmp.out" 2>&1 &
declare -A seen
mark() { # pattern name: note the first time a pattern shows in the serial log
    [ -n "${seen[$2]:-}" ] && return 0
    grep -aq -- "$1" "$LOG" 2>/dev/null || return 1
    seen[$2]=$(elapsed $T_BOOT0); say "$2 (+${seen[$2]} s after QEMU start)"; }
TESTLOG=$S/results/dom0-test.log
shown=0
timed_out=0
while kill -0 $BPID 2>/dev/null; do
    mark 'Xen version 4' xen-started
    mark 'E2E-DOM0-INIT' dom0-kernel-up
    mark 'E2E-DOM0-READY' dom0-ready
    mark 'E2E-TEST-FINISHED' test-finished
    if [ "${E2E_QUIET:-0}" != 1 ] && [ -f "$TESTLOG" ]; then
        n=$(wc -l < "$TESTLOG"); [ "$n" -gt "$shown" ] && { sed -n "$((shown+1)),${n}p" "$TESTLOG" | sed 's/^/  | /'; shown=$n; }
    fi
    t=$TIMEOUT; [ -z "${seen[dom0-ready]:-}" ] && t=$BOOT_TIMEOUT
    if [ "$(awk -v a="$(elapsed $T_BOOT0)" -v t="$t" 'BEGIN{print (a > t)}')" = 1 ]; then
        say "TIMEOUT after $t s: stopping QEMU"; timed_out=1
        kill "$(cat "$E2E_RUN/qemu.pid" 2>/dev/null || echo $BPID)" 2>/dev/null; break
    fi
    sleep 1
done
wait $BPID 2>/dev/null; QRC=$?
T_RUN=$(elapsed $T_BOOT0)
[ "${E2E_QUIET:-0}" != 1 ] && [ -f "$TESTLOG" ] && sed -n "$((shown+1)),\$p" "$TESTLOG" | sed 's/^/  | /'
say "QEMU exited (status $QRC) after $T_RUN s"

# 4. results: RESULT/TIMING lines of the test log (the serial log if the share has none)
SRC=$TESTLOG; [ -s "$SRC" ] || SRC=$LOG
RES=$(grep -a '^RESULT ' "$SRC" | tr -d '\r')
[ -z "${seen[dom0-ready]:-}" ] && RES="$RES
RESULT dom0-boot FAIL dom0 never reported ready (see serial log tail)"
[ "$timed_out" = 1 ] && RES="$RES
RESULT run-timeout FAIL no power-off within $t s"
[ -z "${seen[test-finished]:-}" ] && [ -n "${seen[dom0-ready]:-}" ] && RES="$RES
RESULT test-finished FAIL dom0-test.sh did not finish"
RES=$(echo "$RES" | sed '/^$/d')
npass=$(echo "$RES" | grep -c ' PASS' || true)
nblocked=$(echo "$RES" | grep -c ' BLOCKED' || true)
nfail=$(echo "$RES" | grep -v ' BLOCKED' | grep -vc ' PASS' || true); [ -z "$RES" ] && nfail=0
echo
echo "==== e2e results (tool: $TOOL) ===="
echo "$RES" | awk 'NF{st=$3; name=$2; $1=$2=$3=""; sub(/^ +/,""); printf "%-4s %-34s %s\n", st, name, $0}'
echo
echo "==== timings ===="
printf '%-34s %8s s\n' image-build "$T_BUILD"
for k in xen-started dom0-kernel-up dom0-ready test-finished; do
    [ -n "${seen[$k]:-}" ] && printf '%-34s %8s s\n' "$k (from QEMU start)" "${seen[$k]}"
done
grep -a '^TIMING ' "$SRC" 2>/dev/null | tr -d '\r' | awk '{printf "%-34s %8s s\n", $2, $3}'
printf '%-34s %8s s\n' "boot+scenario+poweroff" "$T_RUN"
printf '%-34s %8s s\n' total "$(elapsed $T_ALL)"
cp "$LOG" "$S/results/serial.log" 2>/dev/null
if [ "$nfail" != 0 ] || [ "$npass" = 0 ]; then
    echo
    echo "==== serial log tail ($LOG) ===="
    tail -n ${E2E_TAIL:-60} "$LOG" | tr -d '\r'
    G=$(ls "$S"/results/xen-logs/console/guest-*.log 2>/dev/null | head -1)
    [ -n "$G" ] && { echo "==== guest console tail ($G) ===="; tail -n 25 "$G"; }
fi
echo
echo "results: $S/results/"
[ "$npass" = 0 ] && [ "$nfail" = 0 ] && { echo "no results"; nfail=1; }
[ "$nblocked" != 0 ] && echo "$nblocked blocked (each says by what above; not counted as passed)"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
