#!/bin/bash
# Runs libFuzzer targets (built by `make fuzz-build` into tests/fuzz/bin):
#     tests/fuzz/run.sh <target>...
# each for $FUZZ_SECONDS (default 60), $FUZZ_JOBS (default 2) at a time,
# from a fresh copy of its seed corpus tests/fuzz/corpus/<target>/ in
# tests/fuzz/bin/work/<target>/ (what it finds stays there, the committed
# seeds are untouched).  A target fails on any crash, sanitizer report,
# leak, timeout (20 s an input) or out-of-memory, and on an exit status
# other than 0; its report and the input that caused it are shown, and the
# input is kept in tests/fuzz/bin/work/<target>/ (replay:
# tests/fuzz/bin/<target> <file>; the pvusb-sysfs target needs
# LD_PRELOAD=tests/harness/sysfsmock.so).  Prints per target
#     # fuzz: <target>: <execs> execs in <s> s, <n> crashes
# then "fuzz: N passed, N failed"; exits 1 if any failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/tests/fuzz/bin
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}

# Runs one target; leaves its result line in work/<t>/result.
run_one() {
    local t=$1 work=$bin/work/$1 preload="" t0 t1 status execs crashes
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/tmp"
    cp "$top/tests/fuzz/corpus/$t"/* "$work/corpus/"
    # sysfs_read_attr_int opens /sys/bus/usb/...: the suite's fake sysfs
    # serves it from the target's temp root.
    [ "$t" = pvusb-sysfs ] && preload=$top/tests/harness/sysfsmock.so
    t0=$(date +%s%N)
    (cd "$work" && TMPDIR=$work/tmp LD_PRELOAD=$preload \
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin/$t" -max_total_time="$seconds" -timeout=20 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/" corpus > "$work/log" 2>&1)
    status=$?
    t1=$(date +%s%N)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" |
            tail -1)
    crashes=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \
              -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    if [ "$status" != 0 ] && [ "$crashes" = 0 ]; then
        crashes=1       # died without saving an input (e.g. at startup)
    fi
    printf '# fuzz: %s: %s execs in %d s, %d crashes\n' "$t" \
        "${execs:-0}" $(((t1 - t0 + 500000000) / 1000000000)) "$crashes" \
        > "$work/result"
}

for t in "$@"; do
    if [ ! -x "$bin/$t" ] || [ ! -d "$top/tests/fuzz/corpus/$t" ]; then
        echo "fuzz: no $bin/$t or no corpus tests/fuzz/corpus/$t" >&2
        exit 2
    fi
done

running=0
for t in "$@"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

passed=0 failed=0
for t in "$@"; do
    work=$bin/work/$t
    cat "$work/result"
    if grep -q ', 0 crashes$' "$work/result"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "# fuzz: $t FAILED; its log (tail), $work/log:"
        grep -v '^#[0-9]\|^INFO:\|^stat::' "$work/log" | tail -60 |
            sed 's/^/#   /'
        for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
                 "$work"/oom-*; do
            [ -e "$f" ] || continue
            echo "# fuzz: $t: input kept in $f:"
            od -A d -c "$f" | head -20 | sed 's/^/#   /'
        done
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
