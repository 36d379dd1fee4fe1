#!/usr/bin/env bash
# Two cryo installations compared in the same minutes: `dump -R` of one tiny static sleeping process by A, then by B,
# ROUNDS times, interleaved, so that a busy moment of the machine hits both alike (sequential bench runs a few
# minutes apart differ by more than most changes: this machine's floors moved 40% within an hour).
#
#   bench/ab.sh A_BIN B_BIN [ROUNDS]   (A_BIN, B_BIN: the bin/cryo of each unpacked installation; default 11 rounds;
#                                       needs root and gcc)
#
# Prints, for each installation, the median and minimum of the whole command's wall time and of the frozen time the
# dump reports (`--stats`), and B's medians as a ratio of A's. A benchmark is a command, not a test: it prints numbers
# and fails only when cryo fails.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

[ $# -ge 2 ] || { echo "usage: $0 A_BIN B_BIN [ROUNDS]" >&2; exit 2; }
a=$(readlink -f "$1")
b=$(readlink -f "$2")
source bench/lib.sh
rounds=$(bench_count "${3:-11}" "A_BIN B_BIN [ROUNDS>0]")
for bin in "$a" "$b"; do
    [ -x "$bin" ] || { echo "$0: $bin is not an executable cryo" >&2; exit 2; }
done
export CRYO=$a   # bench_enter looks for a distribution otherwise
bench_enter bench-ab "$@"

work=$BENCH_WORK
gcc -O2 -Wall -static -o "$work/sleeper" distribution/src/bench/bigmem.c   # bigmem 0: a tiny sleeping process
root=$(start_detached "$work/sleeper.out" "$work/sleeper" 0 "$work/ready")
trap 'kill -9 "$root" 2>/dev/null || true; reap "$root" || true; rm -rf "$work"' EXIT
while [ ! -e "$work/ready" ]; do
    kill -0 "$root" 2>/dev/null || { echo "$0: the sleeper died: $(cat "$work/sleeper.out")" >&2; exit 1; }
    sleep 0.01
done

declare -A wall frozen
for ((i = 1; i <= rounds; i++)); do
    printf 'round %d/%d\r' "$i" "$rounds" >&2
    for side in A B; do
        bin=$a
        [ "$side" = B ] && bin=$b
        rm -rf "$work/img"
        start=$(now_ns)
        out=$("$bin" dump -t "$root" -D "$work/img" -R --stats 2>&1) || { echo "$0: $bin dump failed: $out" >&2; exit 1; }
        wall[$side]+="$((($(now_ns) - start) / 1000000)) "
        frozen[$side]+="$(awk '/^  frozen / {print $2}' <<<"$out") "
    done
done
echo >&2

# stat VALUES...: "median min" of numbers
stat() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%s %s", v[int((NR + 1) / 2)], v[1]}'; }
read -r wa wam <<<"$(stat ${wall[A]})"
read -r wb wbm <<<"$(stat ${wall[B]})"
read -r fa fam <<<"$(stat ${frozen[A]})"
read -r fb fbm <<<"$(stat ${frozen[B]})"
echo "dump -R of a sleeping process, $rounds interleaved rounds (median / min)"
printf '%-4s %-60s wall %5s / %5s ms   frozen %6s / %6s ms\n' A "$a" "$wa" "$wam" "$fa" "$fam"
printf '%-4s %-60s wall %5s / %5s ms   frozen %6s / %6s ms\n' B "$b" "$wb" "$wbm" "$fb" "$fbm"
awk -v wa="$wa" -v wb="$wb" -v fa="$fa" -v fb="$fb" \
    'BEGIN {printf "B/A  wall %.2fx   frozen %.2fx\n", wb / wa, (fa > 0 ? fb / fa : 0)}'
