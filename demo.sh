#!/usr/bin/env bash
# Cryo in one minute: build the distribution, start a counter with a 64 MiB heap, dump it (which stops it),
# restore it, and show that it counts on from where it was with the same pid and the same heap checksum.
# Needs root (cryo uses ptrace and chooses pids), gcc and java 17+. Exits non-zero if the counter did not continue.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
fail() {
    reported=1
    printf '\ndemo FAILED: %s\nwork files kept in %s\n' "$*" "$work" >&2
    exit 1
}

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: cryo needs root (ptrace, restoring pids); run: sudo ./demo.sh" >&2
    exit 4
fi

work=$PWD/demo-work
pid=
cleanup() {
    local rc=$?
    if [ "$rc" != 0 ] && [ -z "${reported:-}" ]; then
        printf '\ndemo FAILED (exit %s) at the step above; work files kept in %s\n' "$rc" "$work" >&2
    fi
    # kill only the counter we started (the pid may have been reused by anything else)
    if [ -n "$pid" ] && grep -qa "demo-work/counter" "/proc/$pid/cmdline" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

rm -rf "$work"
mkdir -p "$work"

step "Build the distribution"
echo "\$ ./mvnw -B -DskipTests package >$work/build.log"
if ! ./mvnw -B -DskipTests package >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log"
    fail "the build failed (full log: $work/build.log)"
fi
dists=(distribution/target/cryo-[0-9]*/bin/cryo)
cryo=$PWD/${dists[0]}
[ -x "$cryo" ] || fail "the build did not produce distribution/target/cryo-<version>/bin/cryo"
show "$cryo" --version

step "Compile the demo counter (distribution/src/demo/counter.c)"
show gcc -O1 -g -Wall -o "$work/counter" distribution/src/demo/counter.c

step "Start it in its own session, stdin from /dev/null, output to files"
log=$work/counter.log
echo "\$ setsid $work/counter $log </dev/null >$work/counter.out 2>&1 &"
# the counter must hold only its own files: fds this shell inherited (an IDE's or CI runner's pipes) are closed
# for it, or the dump would rightly refuse a pipe that leads outside the tree
(
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid "$work/counter" "$log" </dev/null >"$work/counter.out" 2>&1
) &
child=$!
for _ in $(seq 50); do
    grep -q '^start' "$log" 2>/dev/null && break
    sleep 0.1
done
pid=$(sed -n 's/^start pid=\([0-9]*\).*/\1/p' "$log")
[ -n "$pid" ] || fail "the counter did not start (see $work/counter.out)"
echo "counter runs as pid $pid"

step "Let it count for 2 seconds"
sleep 2
show tail -n 3 "$log"

step "Dump it: cryo writes the image, then kills the process (CRIU's default)"
show "$cryo" dump -t "$pid" -D "$work/image"
wait "$child" 2>/dev/null || true   # reap it: a zombie would keep the pid the restore needs
if [ -e "/proc/$pid" ]; then
    fail "pid $pid still exists after the dump"
fi
echo "pid $pid is gone"
last=$(grep '^pid=' "$log" | tail -n 1)
echo "last line before the dump: $last"
show ls -l "$work/image"

step "Look inside the image (cryo show | head)"
echo "\$ $cryo show $work/image | head -n 20"
"$cryo" show "$work/image" >"$work/show.txt"
head -n 20 "$work/show.txt"

step "Restore it detached (-d): cryo returns once the counter runs again"
lines_before=$(wc -l <"$log")
show "$cryo" restore -D "$work/image" -d
sleep 1
show tail -n 5 "$log"

step "Check that it went on where it was"
tick=$(sed -n 's/.* tick=\([0-9]*\) .*/\1/p' <<<"$last")
sum=$(sed -n 's/.* sum=\([0-9a-f]*\) .*/\1/p' <<<"$last")
new=$(tail -n +"$((lines_before + 1))" "$log")
[ -n "$new" ] || fail "the restored counter wrote nothing"
if grep -q '^start' <<<"$new"; then
    fail "the counter started from scratch instead of continuing"
fi
first=$(head -n 1 <<<"$new")
expected="pid=$pid tick=$((tick + 1)) sum=$sum ok"
[ "$first" = "$expected" ] || fail "first line after restore is '$first', expected '$expected'"
if grep -qv " sum=$sum ok\$" <<<"$new"; then
    fail "the heap checksum changed after restore"
fi
echo "OK: same pid $pid, tick $tick -> $((tick + 1)), heap checksum $sum unchanged, $(wc -l <<<"$new") ticks since restore"

step "Clean up"
cleanup
pid=
rm -rf "$work"
echo "done"
