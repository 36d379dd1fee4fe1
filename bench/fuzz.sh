#!/usr/bin/env bash
# Image fuzzing: real images of four workloads mutated N times; every `cryo show`, `cryo show --json` and
# `cryo restore -d` of a mutated image must end within 30 s with one readable error (or a correct output: a restored
# process that passes its check, JSON that parses), no Java stack trace, no process left behind, within a 96 MiB heap.
#
#   bench/fuzz.sh [N] [SEED]      (defaults 1000 and the time; needs root, a built distribution with its test classes:
#                                  ./mvnw -B -q -DskipTests package)
#
# Runs dev.cryo.it.ImageFuzzer (distribution/src/test/java; FuzzIT runs a small fixed-seed sample in CI) with the
# integration tests' class path. Prints progress every 50 mutations, each bad outcome with its mutation and cryo's
# output, and at the end: mutations tried / clean failures / correct restores / undetectable / structural mutations
# with a stale whole-file checksum refused (records or pages swapped, duplicated or dropped: must be all) / bad outcomes.
# A benchmark is a command, not a test: it exits 1 only if there was a bad outcome.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

n=${1:-1000}
seed=${2:-$(date +%s)}
[[ "$n" =~ ^[0-9]+$ && "$seed" =~ ^-?[0-9]+$ ]] || { echo "usage: $0 [N] [SEED]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: cryo needs root" >&2; exit 4; }
dists=(distribution/target/cryo-[0-9]*/bin/cryo)
target=$PWD/distribution/target
if [ ! -x "${dists[0]}" ] || [ ! -s "$target/test-classpath.txt" ] || [ ! -d "$target/test-classes" ]; then
    echo "$0: no distribution or test classes; build them: ./mvnw -B -q -DskipTests package" >&2
    exit 2
fi
work=$(mktemp -d /tmp/cryo-fuzz.XXXXXX)
chmod 700 "$work"
trap 'rm -rf "$work"' EXIT
echo "fuzzing $n mutations, seed $seed"
java -cp "$target/test-classes:$(cat "$target/test-classpath.txt")" \
    -Dcryo.dist="$PWD/${dists[0]%/bin/cryo}" -Dcryo.workloads="$target/workloads" \
    dev.cryo.it.ImageFuzzer "$n" "$seed" "$work"
