#!/usr/bin/env bash
# Soak: the same process dumped and restored ROUNDS times in a row, the restored process dumped again each time
# (issue 14). After every restore the workload (st_workload: a 64 MiB heap with a checksum, a file mapping, open
# files at offsets, signal handlers, an interval timer, rlimits, umask, cwd) checks its own state on SIGUSR2 and
# prints its verdict; this script also records its fd count and RSS, which must stay what they were after the first
# round. Prints one line per round and a summary; exits 1 at the first FAIL, a missing pid or a drift.
#
#   bench/soak.sh [ROUNDS]   (default 100; needs root, gcc, a built distribution or ./mvnw)
#
# Environment: CRYO=/path/to/bin/cryo soaks another installation.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

source bench/lib.sh
rounds=$(bench_count "${1:-100}" "[ROUNDS>0]")
bench_enter soak "$rounds"

work=$BENCH_WORK
gcc -O1 -Wall -o "$work/st_workload" distribution/src/test/c/st_workload.c
cryo=$CRYO
out=$work/workload.out
mkdir -p "$work/wd"

pid=
cleanup() { [ -z "$pid" ] || { kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; }
trap cleanup EXIT

# verdicts: how many VERDICT lines the workload printed so far
verdicts() { grep -c '^VERDICT' "$out" || true; }

pid=$(start_detached "$out" "$work/st_workload" "$work/wd")
until grep -q '^READY' "$out"; do
    kill -0 "$pid" 2>/dev/null || { echo "$0: st_workload died: $(cat "$out")" >&2; exit 1; }
    sleep 0.01
done

fds0= rss0=
printf '%6s %9s %9s %5s %9s  %s\n' round "dump s" "restore s" fds "rss KiB" verdict
for r in $(seq "$rounds"); do
    img=$work/img
    rm -rf "$img"
    t0=$(date +%s%N)
    "$cryo" dump -t "$pid" -D "$img" >"$work/cryo.out" 2>&1 || { echo "$0: round $r: dump failed:" >&2; cat "$work/cryo.out" >&2; exit 1; }
    t1=$(date +%s%N)
    reap "$pid"
    "$cryo" restore -D "$img" -d >"$work/cryo.out" 2>&1 || { echo "$0: round $r: restore failed:" >&2; cat "$work/cryo.out" >&2; exit 1; }
    t2=$(date +%s%N)
    [ -e "/proc/$pid" ] || { echo "$0: round $r: the restored pid $pid is missing" >&2; exit 1; }
    before=$(verdicts)
    kill -USR2 "$pid"
    deadline=$((SECONDS + 20))
    until [ "$(verdicts)" -gt "$before" ]; do
        [ "$SECONDS" -le "$deadline" ] || { echo "$0: round $r: no verdict within 20 s" >&2; exit 1; }
        sleep 0.01
    done
    verdict=$(grep '^VERDICT' "$out" | tail -n 1)
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    printf '%6d %9.3f %9.3f %5d %9d  %s\n' "$r" "$(awk -v n=$((t1 - t0)) 'BEGIN { print n / 1e9 }')" \
        "$(awk -v n=$((t2 - t1)) 'BEGIN { print n / 1e9 }')" "$fds" "$rss" "$verdict"
    case $verdict in "VERDICT PASS"*) ;; *) echo "$0: round $r: the workload failed its own check" >&2; exit 1 ;; esac
    if [ -z "$fds0" ]; then
        fds0=$fds rss0=$rss
    elif [ "$fds" != "$fds0" ]; then
        echo "$0: round $r: fd count drifted from $fds0 to $fds" >&2
        exit 1
    elif [ "$rss" -gt $((rss0 + rss0 / 10)) ]; then
        echo "$0: round $r: RSS grew from $rss0 KiB to $rss KiB (more than 10 %)" >&2
        exit 1
    fi
done
echo "soak: $rounds rounds of dump + restore of pid $pid, every verdict PASS, fds stable at $fds0, RSS $rss0 -> $rss KiB"
