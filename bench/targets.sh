#!/usr/bin/env bash
# Every performance target of cryo next to its floor, measured in one run on this machine (issue 13).
#
#   bench/targets.sh [RUNS]   (default 5; needs root, gcc, javac, a built distribution or ./mvnw)
#
# RUNS rounds; each round runs every workload and every floor once (interleaved, so a busy moment of the machine
# hits all of them alike); each figure is the median of its RUNS values. Prints
#   1. targets: the figure, cryo's value, its floor measured in the same rounds, the ratio, the target;
#   2. growth: the cost per fd, per mapping and per process at three sizes each, from the phase times cryo keeps in
#      the image (stats-dump.img, stats-restore.img; `cryo show`), so that growth can be read off.
# Floors: a JVM hello world started with bin/cryo's JVM options; dd of the same number of bytes into the image's file
# system (page cache, no fsync, as cryo); cat of the image; process_vm_readv of the workload's memory into one buffer.
# Every timed write (each dump, dd) starts on a synced file system: the previous image's deletion (journal commit,
# ext4 discards) is paid before the clock starts, for the floor and for cryo alike.
# Workloads: distribution/src/bench/*.c. Wall times include the JVM start (cryo's whole command), as a user sees
# them. A benchmark is a command, not a test: it prints numbers and fails only when cryo fails.
#
# Environment: CRYO=/path/to/bin/cryo benchmarks another installation; BIG_MIB (default 512) and HUGE_MIB (default
# 2048) size the memory workloads.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

source bench/lib.sh
runs=$(bench_count "${1:-5}" "[RUNS>0]")
bench_enter bench-targets "$runs"

work=$BENCH_WORK
cryo=$CRYO
big=${BIG_MIB:-512}
huge=${HUGE_MIB:-2048}
src=distribution/src/bench

for w in bigmem fd_holder many_mappings pipe_ring pidfd_holder vm_read pipes8 sockets100; do
    gcc -O2 -Wall -o "$work/$w" "$src/$w.c"
done
gcc -O2 -Wall -static -o "$work/sleeper" "$src/bigmem.c"   # bigmem 0: a tiny static sleeping process
javac -d "$work" "$src/Hello.java"
hello=(java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xshare:auto -cp "$work" Hello)

live=()   # pids to kill and reap on exit
cleanup() {
    local p
    for p in "${live[@]}"; do
        if grep -qa "$work/" "/proc/$p/cmdline" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
    done
    reap "${live[@]}" || true
}
trap cleanup EXIT

# timed CMD...: runs it (output to $work/cmd.out), sets NS (wall) and KB (peak RSS); a failure stops the benchmark
timed() {
    local start rc=0
    start=$(now_ns)
    /usr/bin/time -o "$work/time" -f %M "$@" >"$work/cmd.out" 2>&1 || rc=$?
    NS=$(($(now_ns) - start))
    KB=$(tail -n 1 "$work/time")
    if [ "$rc" != 0 ] && [ "${EXPECT_FAILURE:-}" != 1 ]; then
        echo "$0: '$*' failed with exit $rc:" >&2
        cat "$work/cmd.out" >&2
        exit "$rc"
    fi
    RC=$rc
}

# start BINARY ARG...: starts a workload in its own session, with none of this shell's fds, and waits for it to be
# ready (it creates the file named by its last argument); sets ROOT and PIDS
start() {
    rm -f "$work/ready" "$work/pid"
    ROOT=$(start_detached "$work/workload.out" "$@" "$work/ready")
    live=("$ROOT")
    while [ ! -e "$work/ready" ]; do
        kill -0 "$ROOT" 2>/dev/null || { echo "$0: $1 died: $(cat "$work/workload.out")" >&2; exit 1; }
        sleep 0.01
    done
    mapfile -t PIDS < <(descendants "$ROOT")
    live=("${PIDS[@]}")
}

# stop: kills and reaps the workload (original or restored)
stop() {
    kill -9 "${PIDS[@]}" 2>/dev/null || true
    reap "${PIDS[@]}"
    live=()
}

# record KEY VALUE: appends VALUE to the samples of KEY
declare -A samples
record() { samples[$1]+="$2 "; }

# median KEY: the median of KEY's samples (empty when none)
median() {
    [ -n "${samples[$1]:-}" ] || { echo ""; return; }
    printf '%s\n' ${samples[$1]} | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# stats IMG FILE: prints "name us" lines (phases, total, frozen) of stats FILE (stats-dump.img...) of image IMG
stats() {
    [ -s "$1.show" ] || "$cryo" show --json -D "$1" >"$1.show"
    awk -v file="$2" '
        /^# / { on = index($0, "# " file " ") == 1; next }
        !on { next }
        /"name":/ { gsub(/[",]/, "", $2); name = $2 }
        /"us":/ { gsub(/[",]/, "", $2); print name, $2 }
        /"total_us":/ { gsub(/[",]/, "", $2); print "total", $2 }
        /"frozen_us":/ { gsub(/[",]/, "", $2); print "frozen", $2 }' "$1.show"
}

# phase IMG FILE NAME: the time of phase NAME (or total, frozen) in µs, 0 when absent
phase() {
    stats "$1" "$2" | awk -v n="$3" '$1 == n { s += $2 } END { print s + 0 }'
}

# cycle KEY BINARY ARG...: starts the workload, dumps it (killed), restores it detached, checks and kills it.
# Records KEY.dump and KEY.restore (ns), KEY.dump_kb and KEY.restore_kb; leaves the image in $work/img-KEY.
cycle() {
    local key=$1 img=$work/img-$1 p
    shift
    rm -rf "$img" "$img.show"
    sync -f "$work"   # the deletion's journal commit and discards are done before the timed dump, as before dd
    start "$@"
    timed "$cryo" dump -t "$ROOT" -D "$img"
    record "$key.dump" "$NS"
    record "$key.dump_kb" "$KB"
    reap "${PIDS[@]}"
    timed "$cryo" restore -D "$img" -d
    record "$key.restore" "$NS"
    record "$key.restore_kb" "$KB"
    for p in "${PIDS[@]}"; do
        [ -e "/proc/$p" ] || { echo "$0: restored $key: pid $p is missing" >&2; exit 1; }
    done
    stop
}

# grow KEY N BINARY ARG...: a cycle, then the phase times of its image as KEY.N.<dump|restore>.<phase> samples
grow() {
    local key=$1 n=$2 img
    shift 2
    cycle "$key.$n" "$@"
    img=$work/img-$key.$n
    stats "$img" stats-dump.img | while read -r name us; do echo "$key.$n.dump.$name $us"; done >"$work/st"
    stats "$img" stats-restore.img | while read -r name us; do echo "$key.$n.restore.$name $us"; done >>"$work/st"
    while read -r k v; do record "$k" "$v"; done <"$work/st"
}

echo "$("$cryo" --version), kernel $(uname -r), $(nproc) cpus, $runs rounds"
"$cryo" --version >/dev/null   # makes lib/cryo.jsa if this distribution has none yet: not part of any figure

for round in $(seq "$runs"); do
    printf '\rround %d/%d ' "$round" "$runs" >&2

    # --- floors and start-up
    timed "${hello[@]}"
    record hello "$NS"
    record hello_kb "$KB"
    timed "$cryo" --version
    record version "$NS"

    # --- small trees
    cycle sleep "$work/sleeper" 0
    cycle pipes8 "$work/pipes8"
    cycle sockets100 "$work/sockets100"

    # --- frozen time of dump -R (a tiny process; the 512 MiB one below adds its own)
    rm -rf "$work"/img-frozen*
    start "$work/sleeper" 0
    timed "$cryo" dump -t "$ROOT" -D "$work/img-frozen" -R
    record frozen "$(phase "$work/img-frozen" stats-dump.img frozen)"
    stop

    # --- a refused dump answers fast and leaves the tree as it was
    start "$work/pidfd_holder"
    cp "/proc/$ROOT/maps" "$work/maps.before"
    EXPECT_FAILURE=1 timed "$cryo" dump -t "$ROOT" -D "$work/img-refused"
    record refused "$NS"
    [ "$RC" = 3 ] || { echo "$0: the dump of a pidfd exited with $RC, not 3 (unsupported)" >&2; exit 1; }
    state=$(awk '{ print $3 }' "/proc/$ROOT/stat")
    tracer=$(awk '/^TracerPid:/ { print $2 }' "/proc/$ROOT/status")
    if [ "$state" = t ] || [ "$state" = T ] || [ "$tracer" != 0 ]; then
        echo "$0: a refused dump left the process stopped or traced (state $state, tracer $tracer)" >&2
        exit 1
    fi
    diff -q "$work/maps.before" "/proc/$ROOT/maps" >/dev/null || { echo "$0: a refused dump changed the mappings:" >&2; diff "$work/maps.before" "/proc/$ROOT/maps" >&2; exit 1; }
    [ ! -e "$work/img-refused" ] || { echo "$0: a refused dump left $work/img-refused" >&2; exit 1; }
    stop

    # --- memory: BIG_MIB dump and restore, with the dd / cat / process_vm_readv floors of the same bytes
    start "$work/bigmem" "$big"
    read -r bytes secs < <("$work/vm_read" "$ROOT")
    record vm_read "$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1e9 }')"
    stop
    cycle big "$work/bigmem" "$big"
    record big.page "$(($(phase "$work/img-big" stats-dump.img memory) * 1000))"
    record big.restore_page "$(($(phase "$work/img-big" stats-restore.img memory) * 1000))"
    # the floor does what the dump did: a file of the same bytes written into the page cache of a file system
    # whose last deletion is committed (the dump's cycle syncs after removing the old image, before timing)
    rm -f "$work/dd.bin"
    sync -f "$work"
    t0=$(now_ns)
    dd if=/dev/zero of="$work/dd.bin" bs=1M count="$big" status=none
    record dd "$(($(now_ns) - t0))"
    rm -f "$work/dd.bin"
    sync -f "$work"
    t0=$(now_ns)
    find "$work/img-big" -type f -exec cat {} + >/dev/null
    record cat "$(($(now_ns) - t0))"
    rm -rf "$work"/img-big-r*
    sync -f "$work"
    start "$work/bigmem" "$big"
    timed "$cryo" dump -t "$ROOT" -D "$work/img-big-r" -R
    record big.frozen "$(phase "$work/img-big-r" stats-dump.img frozen)"
    stop
    rm -rf "$work"/img-big*

    # --- peak RSS dumping HUGE_MIB
    rm -rf "$work/img-huge"
    sync -f "$work"
    start "$work/bigmem" "$huge"
    timed "$cryo" dump -t "$ROOT" -D "$work/img-huge"
    record huge.dump_kb "$KB"
    reap "${PIDS[@]}"
    live=()
    rm -rf "$work/img-huge"

    # --- growth: fds, mappings, processes at three sizes (the largest are targets too)
    for n in 100 1000 10000; do grow fds "$n" "$work/fd_holder" "$n"; done
    for n in 100 1000 10000; do grow maps "$n" "$work/many_mappings" "$n"; done
    for n in 8 64 257; do grow ring "$n" "$work/pipe_ring" "$n"; done
    rm -rf "$work"/img-*
done
printf '\r%20s\r' "" >&2

s() { awk -v ns="$1" 'BEGIN { if (ns == "") print "-"; else printf "%.3f s", ns / 1e9 }'; }
ms() { awk -v us="$1" 'BEGIN { if (us == "") print "-"; else printf "%.1f ms", us / 1e3 }'; }
mib() { awk -v kb="$1" 'BEGIN { if (kb == "") print "-"; else printf "%d MiB", kb / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.1fx", a / b }'; }
row() { printf '%-44s %11s %11s %8s   %s\n' "$@"; }

h=$(median hello)
echo
row "figure (median of $runs)" "cryo" "floor" "ratio" "target"
row "cryo --version" "$(s "$(median version)")" "$(s "$h")" "$(ratio "$(median version)" "$h")" "<= 0.12 s (floor: JVM hello world)"
for k in sleep pipes8 sockets100; do
    case $k in
        sleep) label="sleeping process"; target="0.30 s" ;;
        pipes8) label="9-process tree, 8 full pipes"; target="0.40 s" ;;
        sockets100) label="100 socketpairs, 16 KiB queued each"; target="0.40 s" ;;
    esac
    row "dump $label" "$(s "$(median $k.dump)")" "$(s "$h")" "$(ratio "$(median $k.dump)" "$h")" "<= $target"
    row "restore -d $label" "$(s "$(median $k.restore)")" "$(s "$h")" "$(ratio "$(median $k.restore)" "$h")" "<= $target"
done
row "dump $big MiB" "$(s "$(median big.dump)")" "$(s "$(median dd)")" "$(ratio "$(median big.dump)" "$(median dd)")" "<= 0.50 s (floor: dd of $big MiB)"
row "  its page phase" "$(s "$(median big.page)")" "$(s "$(median dd)")" "$(ratio "$(median big.page)" "$(median dd)")" "<= 1.2x dd"
row "  process_vm_readv of the same memory" "$(s "$(median vm_read)")" "" "" "(the copy floor)"
row "restore -d $big MiB" "$(s "$(median big.restore)")" "$(s "$(median cat)")" "$(ratio "$(median big.restore)" "$(median cat)")" "<= 0.50 s (floor: cat of the image)"
row "  its page phase" "$(s "$(median big.restore_page)")" "$(s "$(median cat)")" "$(ratio "$(median big.restore_page)" "$(median cat)")" ""
row "frozen time, dump -R of a sleeping process" "$(ms "$(median frozen)")" "" "" "<= 30 ms"
row "frozen time, dump -R of $big MiB" "$(ms "$(median big.frozen)")" "" "" "proportional to memory"
row "refused dump (a pidfd), tree unharmed" "$(s "$(median refused)")" "$(s "$h")" "$(ratio "$(median refused)" "$h")" "<= 0.30 s"
row "peak RSS dumping $huge MiB" "$(mib "$(median huge.dump_kb)")" "$(mib "$(median hello_kb)")" "" "<= 128 MiB (floor: JVM hello world)"
row "dump of 10,000 fds" "$(s "$(median fds.10000.dump)")" "$(s "$h")" "$(ratio "$(median fds.10000.dump)" "$h")" "<= 1 s"
row "restore -d of 10,000 mappings" "$(s "$(median maps.10000.restore)")" "$(s "$h")" "$(ratio "$(median maps.10000.restore)" "$h")" "<= 1 s"
row "dump of a 257-process pipe ring" "$(s "$(median ring.257.dump)")" "$(s "$h")" "$(ratio "$(median ring.257.dump)" "$h")" "<= 2.5 s"
row "restore -d of a 257-process pipe ring" "$(s "$(median ring.257.restore)")" "$(s "$h")" "$(ratio "$(median ring.257.restore)" "$h")" "<= 2.5 s"

# growth KEY UNIT PHASE N...: per-unit cost from phase PHASE (and the pipeline total) of dump and restore
growth() {
    local key=$1 unit=$2 phase=$3 n d r dt rt
    shift 3
    printf '\n%-10s %9s %14s %12s %14s %12s %12s\n' "$unit" "" "dump $phase" "per $unit" "restore $phase" "per $unit" \
        "dump+restore"
    for n in "$@"; do
        d=$(median "$key.$n.dump.$phase") r=$(median "$key.$n.restore.$phase")
        dt=$(median "$key.$n.dump.total") rt=$(median "$key.$n.restore.total")
        printf '%-10s %9s %14s %12s %14s %12s %12s\n' "$n" "" "$(ms "$d")" \
            "$(awk -v u="$d" -v n="$n" 'BEGIN { printf "%.1f us", u / n }')" "$(ms "$r")" \
            "$(awk -v u="$r" -v n="$n" 'BEGIN { printf "%.1f us", u / n }')" \
            "$(awk -v a="$dt" -v b="$rt" -v n="$n" 'BEGIN { printf "%.1f us", (a + b) / n }')"
    done
}
echo
echo "growth: phase times kept in the image (startup excluded), median of $runs; last column: whole pipelines per unit"
growth fds fd fds 100 1000 10000
growth maps mapping memory 100 1000 10000
growth ring process total 8 64 257
echo
echo "wall times include the JVM start; 'floor' was measured in the same rounds; figures of one round are in"
echo "the order printed, rounds interleave them"
