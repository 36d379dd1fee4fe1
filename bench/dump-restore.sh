#!/usr/bin/env bash
# Dump/restore throughput and latency of cryo, against floors measured in the same run.
#
#   bench/dump-restore.sh [MIB]      (default 512; needs root, gcc, a built distribution or ./mvnw)
#
# Starts bigmem (distribution/src/bench/bigmem.c) holding MIB MiB of written anonymous memory, then measures
#   - cryo dump: wall time, MB/s, cryo's peak RSS (/usr/bin/time -v, else VmHWM of the java process);
#     floor: writing the same amount into the image's file system with dd (page cache, no fsync)
#   - cryo restore -d: wall time, MB/s, peak RSS; floor: reading the image's files with cat (page cache)
#   - latency floor: dump + restore of a tiny static sleeping process, and `cryo --version` (JVM start alone)
# A benchmark is a command, not a test: it prints numbers and fails only when cryo fails.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

source bench/lib.sh
mib=$(bench_count "${1:-512}" "[MIB>0]")
[ "$(id -u)" = 0 ] || { echo "$0: cryo needs root" >&2; exit 4; }

bench_cryo
cryo=$CRYO   # CRYO=/path/to/bin/cryo benchmarks another installation

work=$(mktemp -d /tmp/cryo-bench.XXXXXX)
workload_pid=
cleanup() {
    if [ -n "$workload_pid" ] && grep -qa "$work/" "/proc/$workload_pid/cmdline" 2>/dev/null; then
        kill -9 "$workload_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -Wall -o "$work/bigmem" distribution/src/bench/bigmem.c
gcc -O2 -Wall -static -o "$work/tiny-static" distribution/src/bench/bigmem.c

secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
rate() { awk -v mib="$1" -v ns="$2" 'BEGIN { printf "%.0f", (mib * 1.048576) / (ns / 1e9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

# measure CMD...: runs it, sets ELAPSED_NS and PEAK_KB (peak RSS of the process, i.e. of cryo's JVM)
measure() {
    local start rc=0
    if [ -x /usr/bin/time ]; then
        start=$(now_ns)
        /usr/bin/time -v -o "$work/time.txt" "$@" || rc=$?
        ELAPSED_NS=$(($(now_ns) - start))
        PEAK_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
    else
        local p hwm=0 v
        start=$(now_ns)
        "$@" &
        p=$!   # bin/cryo execs java: this is the JVM's pid
        while kill -0 "$p" 2>/dev/null; do
            v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
            [ -n "$v" ] && hwm=$v
            sleep 0.05
        done
        wait "$p" || rc=$?
        ELAPSED_NS=$(($(now_ns) - start))
        PEAK_KB=$hwm
    fi
    if [ "$rc" != 0 ]; then
        echo "$0: '$*' failed with exit $rc" >&2
        exit "$rc"
    fi
}

# start_workload BINARY MIB: starts it in its own session; sets workload_pid
start_workload() {
    rm -f "$work/ready"
    # the workload holds only its own files: fds this shell inherited (a CI runner's pipes) are closed for it
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec setsid "$1" "$2" "$work/ready" </dev/null >"$work/workload.out" 2>&1
    ) &
    workload_pid=$!
    while [ ! -e "$work/ready" ]; do
        kill -0 "$workload_pid" 2>/dev/null || { echo "$0: workload died: $(cat "$work/workload.out")" >&2; exit 1; }
        sleep 0.05
    done
}

# dump_and_restore NAME: dump the running workload into $work/NAME, reap it, restore it detached
dump_and_restore() {
    local img=$work/$1 pid=$workload_pid
    measure "$cryo" dump -t "$pid" -D "$img"
    DUMP_NS=$ELAPSED_NS DUMP_KB=$PEAK_KB
    wait "$pid" 2>/dev/null || true   # reap: a zombie keeps the pid the restore needs
    measure "$cryo" restore -D "$img" -d
    RESTORE_NS=$ELAPSED_NS RESTORE_KB=$PEAK_KB
    kill -0 "$pid" 2>/dev/null || { echo "$0: restored pid $pid is not running" >&2; exit 1; }
    kill -9 "$pid"
    workload_pid=
}

echo "$("$cryo" --version | head -n 1), kernel $(uname -r), $(nproc) cpus; workload: $mib MiB written anonymous memory"

measure "$cryo" --version >/dev/null
jvm_ns=$ELAPSED_NS

start_workload "$work/bigmem" "$mib"
dump_and_restore big
big_dump_ns=$DUMP_NS big_dump_kb=$DUMP_KB big_restore_ns=$RESTORE_NS big_restore_kb=$RESTORE_KB
image_mib=$(du -sm "$work/big" | cut -f1)

start=$(now_ns)
dd if=/dev/zero of="$work/floor.bin" bs=1M count="$mib" status=none
write_floor_ns=$(($(now_ns) - start))
rm -f "$work/floor.bin"
start=$(now_ns)
find "$work/big" -type f -exec cat {} + >/dev/null
read_floor_ns=$(($(now_ns) - start))

start_workload "$work/tiny-static" 0
dump_and_restore tiny

printf '\n%-34s %10s %10s %12s %10s\n' "" "time (s)" "MB/s" "peak RSS" "vs floor"
printf '%-34s %10s %10s %9s MiB %10s\n' "dump $mib MiB" "$(secs "$big_dump_ns")" \
    "$(rate "$mib" "$big_dump_ns")" "$((big_dump_kb / 1024))" "$(ratio "$big_dump_ns" "$write_floor_ns")"
printf '%-34s %10s %10s\n' "  floor: dd $mib MiB into the fs" "$(secs "$write_floor_ns")" "$(rate "$mib" "$write_floor_ns")"
printf '%-34s %10s %10s %9s MiB %10s\n' "restore -d $mib MiB" "$(secs "$big_restore_ns")" \
    "$(rate "$mib" "$big_restore_ns")" "$((big_restore_kb / 1024))" "$(ratio "$big_restore_ns" "$read_floor_ns")"
printf '%-34s %10s %10s\n' "  floor: cat the image ($image_mib MiB)" "$(secs "$read_floor_ns")" \
    "$(rate "$image_mib" "$read_floor_ns")"
printf '%-34s %10s %10s %9s MiB %10s\n' "dump tiny static process" "$(secs "$DUMP_NS")" "" \
    "$((DUMP_KB / 1024))" "$(ratio "$DUMP_NS" "$jvm_ns")"
printf '%-34s %10s %10s %9s MiB %10s\n' "restore -d tiny static process" "$(secs "$RESTORE_NS")" "" \
    "$((RESTORE_KB / 1024))" "$(ratio "$RESTORE_NS" "$jvm_ns")"
printf '%-34s %10s\n' "  floor: cryo --version (JVM start)" "$(secs "$jvm_ns")"
echo
echo "times include the JVM start; 'vs floor' = cryo time / floor time of the same run"
