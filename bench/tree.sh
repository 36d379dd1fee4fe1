#!/usr/bin/env bash
# Dump and restore latency of process trees and multi-threaded processes.
#
#   bench/tree.sh [RUNS]      (default 3; needs root, gcc, a built distribution or ./mvnw)
#
# Workloads (distribution/src/bench/NAME.c, compiled here):
#   tree9    a 9-process tree: root -> 2 children -> 3 grandchildren each, every process holding 1 MiB of written
#            anonymous memory and sleeping
#   threads8 one process with 8 threads (main + 7), each with 1 MiB written on its stack-side buffer, sleeping
#   pipes8   a 9-process tree with 8 full pipes (64 KiB in flight each), root -> child i
#   sockets100  root and child joined by 100 stream socketpairs, 16 KiB queued on each
# For each, RUNS times: start a fresh workload, `cryo dump` (kills it), `cryo restore -d`, check every pid is back,
# kill the restored tree. Prints the wall time of each cryo command (JVM start included) averaged over the runs,
# min and max, next to `cryo --version` (the JVM start alone).
#
# The script runs itself under a tiny child-subreaper wrapper, so the killed and the detached restored processes
# are reparented to this shell and reaped here (not left to pid 1, which reaps late and keeps the pids the next
# restore needs). A benchmark is a command, not a test: it fails only when cryo fails.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

source bench/lib.sh
runs=$(bench_count "${1:-3}" "[RUNS>0]")
bench_enter bench-tree "$runs"

work=$BENCH_WORK
cryo=$CRYO

src=distribution/src/bench
gcc -O2 -Wall -o "$work/tree9" "$src/tree9.c"
gcc -O2 -Wall -pthread -o "$work/threads8" "$src/threads8.c"
gcc -O2 -Wall -o "$work/pipes8" "$src/pipes8.c"
gcc -O2 -Wall -o "$work/sockets100" "$src/sockets100.c"

live=()   # pids this script must kill and reap on exit
cleanup() {
    local p
    for p in "${live[@]}"; do
        if [ -r "/proc/$p/cmdline" ] && grep -qa "$work/" "/proc/$p/cmdline" 2>/dev/null; then
            kill -9 "$p" 2>/dev/null || true
        fi
    done
    reap "${live[@]}" || true
}
trap cleanup EXIT

secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }

# timed CMD...: runs a cryo command, sets ELAPSED_NS; any failure stops the benchmark
timed() {
    local start rc=0
    start=$(now_ns)
    "$@" >"$work/cmd.out" 2>&1 || rc=$?
    ELAPSED_NS=$(($(now_ns) - start))
    if [ "$rc" != 0 ]; then
        echo "$0: '$*' failed with exit $rc:" >&2
        cat "$work/cmd.out" >&2
        exit "$rc"
    fi
}

# one_run NAME EXPECTED_TASKS: start, dump, restore -d, check, kill; appends to DUMPS_NS / RESTORES_NS
one_run() {
    local name=$1 want=$2 img=$work/img-$1 pid pids n p
    rm -rf "$img" "$work/ready"
    # started from a subshell: it is adopted by this shell (the subreaper), not a job bash reports as "Killed"
    (setsid "$work/$name" "$work/ready" </dev/null >"$work/$name.out" 2>&1 & echo $! >"$work/pid")
    pid=$(cat "$work/pid")
    live=("$pid")
    while [ ! -e "$work/ready" ]; do
        kill -0 "$pid" 2>/dev/null || { echo "$0: $name died: $(cat "$work/$name.out")" >&2; exit 1; }
        sleep 0.01
    done
    mapfile -t pids < <(descendants "$pid")
    live=("${pids[@]}")
    n=0
    for p in "${pids[@]}"; do n=$((n + $(ls "/proc/$p/task" | wc -l))); done
    [ "$n" = "$want" ] || { echo "$0: $name has $n tasks, expected $want" >&2; exit 1; }

    timed "$cryo" dump -t "$pid" -D "$img"
    DUMPS_NS+=("$ELAPSED_NS")
    reap "${pids[@]}"

    timed "$cryo" restore -D "$img" -d
    RESTORES_NS+=("$ELAPSED_NS")
    for p in "${pids[@]}"; do
        [ -e "/proc/$p" ] || { echo "$0: restored $name: pid $p is missing" >&2; exit 1; }
    done
    kill -9 "${pids[@]}"
    reap "${pids[@]}"
    live=()
}

# stats NS...: "avg min max" in seconds
stats() {
    printf '%s\n' "$@" | awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
        END { printf "%.3f %.3f %.3f", s / NR / 1e9, lo / 1e9, hi / 1e9 }'
}

echo "$("$cryo" --version | head -n 1), kernel $(uname -r), $(nproc) cpus; $runs runs each"
JVM_NS=()
for _ in $(seq "$runs"); do
    timed "$cryo" --version
    JVM_NS+=("$ELAPSED_NS")
done

declare -A result
for spec in "tree9 9" "threads8 8" "pipes8 9" "sockets100 2"; do
    set -- $spec
    DUMPS_NS=() RESTORES_NS=()
    for _ in $(seq "$runs"); do one_run "$1" "$2"; done
    result[$1.dump]=$(stats "${DUMPS_NS[@]}")
    result[$1.restore]=$(stats "${RESTORES_NS[@]}")
done

row() {   # LABEL "avg min max"
    set -- "$1" $2
    printf '%-40s %9s %9s %9s\n' "$1" "$2" "$3" "$4"
}
printf '\n%-40s %9s %9s %9s\n' "wall time of the cryo command (s)" "avg" "min" "max"
row "dump 9-process tree" "${result[tree9.dump]}"
row "restore -d 9-process tree" "${result[tree9.restore]}"
row "dump 1 process with 8 threads" "${result[threads8.dump]}"
row "restore -d 1 process with 8 threads" "${result[threads8.restore]}"
row "dump tree with 8 full pipes (64 KiB)" "${result[pipes8.dump]}"
row "restore -d tree with 8 full pipes" "${result[pipes8.restore]}"
row "dump 100 socketpairs x 16 KiB queued" "${result[sockets100.dump]}"
row "restore -d 100 socketpairs" "${result[sockets100.restore]}"
row "  floor: cryo --version (JVM start)" "$(stats "${JVM_NS[@]}")"
echo
echo "tree9/threads8: each process/thread holds 1 MiB of written memory; pipes8: 9 processes, 8 full pipes;"
echo "sockets100: root + child, 100 stream socketpairs with 16 KiB queued each; times include the JVM start"
