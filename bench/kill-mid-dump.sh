#!/usr/bin/env bash
# cryo killed (SIGKILL) at random instants of `cryo dump -R`: does the target survive unharmed?
#
#   bench/kill-mid-dump.sh [ROUNDS] [MIB]      (defaults 50 and 256; needs root, gcc, a built distribution)
#
# Starts kill_target (distribution/src/test/c/kill_target.c: a process with MIB MiB of heap and a known checksum,
# a second thread in nanosleep, a child in read(2), each with its own signal mask), times one complete
# `cryo -v dump -R` of it, then per round starts `cryo dump -R` again and SIGKILLs the JVM after a random delay:
# even rounds anywhere in the whole run (JVM start included), odd rounds inside the frozen window (startup + a
# random part of the frozen time, as the timed dump reported them). After each kill every task of the tree must be
# alive, untraced (TracerPid 0) and not stopped, and the workload's own check (SIGUSR2: heap checksum, signal
# masks, fds, the thread's sleeps never broken by EINTR, the child's answer) must print VERDICT PASS.
# A dead or harmed target is restarted for the next round. Prints survived/ROUNDS and where the kills landed.
# A benchmark is a command, not a test: it reports, and exits 1 only if a round did not survive.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

rounds=${1:-50}
mib=${2:-256}
[[ "$rounds" =~ ^[0-9]+$ && "$mib" =~ ^[0-9]+$ ]] || { echo "usage: $0 [ROUNDS] [MIB]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: cryo needs root" >&2; exit 4; }
dists=(distribution/target/cryo-[0-9]*/bin/cryo)
cryo=${CRYO:-$PWD/${dists[0]}}
[ -x "$cryo" ] || { echo "$0: no distribution; build it: ./mvnw -B -q -DskipTests package" >&2; exit 2; }

work=$(mktemp -d /tmp/cryo-kill.XXXXXX)
chmod 700 "$work"
wpid= ; wchild=; wthread=
stop_workload() {
    for p in $wchild $wpid; do
        if grep -qa "kill_target" "/proc/$p/cmdline" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
    done
    wpid= ; wchild=; wthread=
}
cleanup() { stop_workload; rm -rf "$work"; }
trap cleanup EXIT

gcc -O2 -Wall -pthread -o "$work/kill_target" distribution/src/test/c/kill_target.c

log="$work/target.log"
start_workload() {
    mkdir -p "$work/wd"
    : > "$log"
    (   # the workload holds no fd of this shell's (a pipe to whoever runs the bench would be outside the tree)
        for fd in $(ls "/proc/$BASHPID/fd"); do
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done
        exec setsid "$work/kill_target" "$work/wd" "$mib" < /dev/null >> "$log" 2>&1
    ) &
    disown $!
    for _ in $(seq 600); do grep -q '^READY' "$log" && break; sleep 0.1; done
    local ready
    ready=$(grep -m1 '^READY' "$log") || { echo "kill_target did not start: $(cat "$log")" >&2; exit 1; }
    wpid=$(sed -E 's/.* pid=([0-9]+).*/\1/' <<< "$ready")
    wchild=$(sed -E 's/.* child=([0-9]+).*/\1/' <<< "$ready")
    wthread=$(sed -E 's/.* thread=([0-9]+).*/\1/' <<< "$ready")
}

# verdict: prints PASS or why not
verdict() {
    local t st tr
    for t in "$wpid" "$wthread" "$wchild"; do
        local f=/proc/$wpid/task/$t/status
        [ "$t" = "$wchild" ] && f=/proc/$wchild/status
        if [ ! -r "$f" ]; then echo "task $t is gone"; return; fi
        st=$(awk '/^State:/ { print $2 }' "$f")
        tr=$(awk '/^TracerPid:/ { print $2 }' "$f")
        case "$st" in Z|X) echo "task $t is dead ($st)"; return ;; T|t) echo "task $t is stopped ($st)"; return ;; esac
        [ "$tr" = 0 ] || { echo "task $t is still traced by $tr"; return; }
    done
    local mark
    mark=$(wc -l < "$log")
    kill -USR2 "$wpid"
    for _ in $(seq 300); do
        if tail -n +"$((mark + 1))" "$log" | grep -q '^VERDICT'; then
            tail -n +"$((mark + 1))" "$log" | grep -m1 '^VERDICT' | sed -E 's/^VERDICT (PASS).*/\1/; s/^VERDICT //'
            return
        fi
        sleep 0.1
    done
    echo "no verdict within 30 s"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start_workload
echo "kill_target pid $wpid (thread $wthread, child $wchild), $mib MiB; cryo: $cryo"

# one complete dump: how long the whole run and the frozen window take
rm -rf "$work/img"
t0=$(now_ms)
"$cryo" -v dump -R -t "$wpid" -D "$work/img" 2> "$work/full.err" || { cat "$work/full.err" >&2; exit 1; }
total_ms=$(( $(now_ms) - t0 ))
startup_ms=$(sed -nE 's/.*dump: startup ([0-9]+) ms.*/\1/p' "$work/full.err" | head -1)
frozen_ms=$(sed -nE 's/.*frozen ([0-9]+) ms.*/\1/p' "$work/full.err" | head -1)
v=$(verdict)
[ "$v" = PASS ] || { echo "the target is harmed by a complete dump -R: $v" >&2; exit 1; }
echo "complete dump -R: ${total_ms} ms (startup ${startup_ms} ms, frozen ${frozen_ms} ms)"

survived=0 before=0 frozen=0 finished=0 restarts=0
for i in $(seq "$rounds"); do
    rm -rf "$work/img"
    : > "$work/round.err"
    started=$(now_ms)
    "$cryo" -v dump -R -t "$wpid" -D "$work/img" 2> "$work/round.err" &
    cpid=$!
    if (( i % 2 == 0 )); then
        delay=$(( (RANDOM * 32768 + RANDOM) % (total_ms + 1) ))
    else   # once the tree is frozen (cryo logs "froze ..."), a random part of the frozen time
        for _ in $(seq 2000); do
            grep -q 'froze ' "$work/round.err" && break
            kill -0 "$cpid" 2>/dev/null || break
            sleep 0.005
        done
        delay=$(( $(now_ms) - started + RANDOM % (frozen_ms + 1) ))
    fi
    sleep "$(awk -v ms="$(( delay - ($(now_ms) - started) ))" 'BEGIN { printf "%.3f", (ms > 0 ? ms / 1000 : 0) }')"
    kill -9 "$cpid" 2>/dev/null || true
    rc=0; wait "$cpid" 2> /dev/null || rc=$?
    if [ "$rc" = 0 ]; then where=finished; finished=$((finished + 1))
    elif grep -q 'froze ' "$work/round.err"; then where=frozen; frozen=$((frozen + 1))
    else where=before-freeze; before=$((before + 1)); fi
    v=$(verdict)
    if [ "$v" = PASS ]; then
        survived=$((survived + 1))
    else
        echo "round $i: killed after ${delay} ms ($where): TARGET HARMED: $v"
        stop_workload; start_workload; restarts=$((restarts + 1))
    fi
    printf 'round %d/%d: kill at %d ms (%s): %s\n' "$i" "$rounds" "$delay" "$where" "$v"
done
echo "survived $survived / $rounds (killed before the freeze: $before, while frozen: $frozen," \
     "dump finished first: $finished)"
[ "$survived" = "$rounds" ]
