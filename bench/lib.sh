# Shared by the bench/*.sh commands; sourced, not run. Needs `set -euo pipefail` and the repository root as the
# working directory (each script cds there first).

# bench_count VALUE USAGE: prints VALUE when it is a whole number above 0; otherwise prints "usage: $0 USAGE" on
# stderr and exits 2 (in `n=$(bench_count ...)`, set -e then ends the script with that status).
bench_count() {
    [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ] || { echo "usage: $0 $2" >&2; exit 2; }
    echo "$1"
}

# bench_cryo: exports CRYO, the bin/cryo to measure: the one already in CRYO (another installation), else the built
# distribution, which it builds first when there is none.
bench_cryo() {
    local dists
    dists=(distribution/target/cryo-[0-9]*/bin/cryo)
    if [ -z "${CRYO:-}" ] && [ ! -x "${dists[0]}" ]; then
        echo "building the distribution (./mvnw -B -q -DskipTests package)"
        ./mvnw -B -q -DskipTests package
        dists=(distribution/target/cryo-[0-9]*/bin/cryo)
    fi
    export CRYO=${CRYO:-$PWD/${dists[0]}}
}

# bench_enter NAME ARG...: the first time a script runs, finds (or builds) the distribution, exports CRYO, makes a
# 0700 work directory /tmp/cryo-NAME.XXXXXX (removed on exit) and re-runs the script with ARG... under a tiny child
# subreaper, so the processes a dump kills and a detached restore leaves are reparented to the script's shell and
# reaped there, not by pid 1 (which reaps late and keeps pids the next restore needs); then exits with its status.
# In the re-run (BENCH_WORK set) it returns at once. CRYO=/path/to/bin/cryo measures another installation.
bench_enter() {
    local name=$1 rc=0
    shift
    [ -z "${BENCH_WORK:-}" ] || return 0
    [ "$(id -u)" = 0 ] || { echo "$0: cryo needs root" >&2; exit 4; }
    bench_cryo
    BENCH_WORK=$(mktemp -d "/tmp/cryo-$name.XXXXXX")
    chmod 700 "$BENCH_WORK"
    trap 'rm -rf "$BENCH_WORK"' EXIT
    gcc -O2 -Wall -o "$BENCH_WORK/subreaper" distribution/src/bench/subreaper.c
    BENCH_WORK=$BENCH_WORK "$BENCH_WORK/subreaper" bash ${BENCH_XTRACE:+-x} "$0" "$@" || rc=$?
    exit "$rc"
}

now_ns() { date +%s%N; }

# descendants PID: PID and every descendant (children of all its threads), one per line
descendants() {
    local p=$1 c
    echo "$p"
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do descendants "$c"; done
}

# reap PID...: waits until none of the pids exists (this shell, a subreaper, reaps them); 1 after 20 s
reap() {
    local p deadline=$(($(date +%s) + 20))
    for p in "$@"; do
        while [ -e "/proc/$p" ]; do
            wait "$p" 2>/dev/null || true   # our own child: reaped now; an adopted one is reaped on SIGCHLD
            [ "$(date +%s)" -le "$deadline" ] || { echo "$0: pid $p was not reaped" >&2; return 1; }
            if [ -e "/proc/$p" ]; then sleep 0.01; fi
        done
    done
    return 0
}

# start_detached OUT CMD...: starts CMD in a session of its own, stdin /dev/null, stdout and stderr to OUT, holding no
# other fd of this shell's (a pipe to whoever runs the bench would be an fd outside the tree: the dump is refused);
# prints its pid. Started from a subshell: adopted by the subreaper, not a job bash would report as "Killed".
start_detached() {
    local out=$1
    shift
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        setsid "$@" </dev/null >"$out" 2>&1 &
        echo $!
    )
}
