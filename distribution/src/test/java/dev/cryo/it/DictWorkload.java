package dev.cryo.it;

/**
 * A python3 workload holding a large dict (200 000 entries): on SIGUSR2 it rebuilds the expected dict and compares,
 * then prints {@code VERDICT PASS|FAIL}. Same protocol as the C workloads (READY, tick N, VERDICT).
 * Started with {@link Workloads#python(String, String)}.
 */
public final class DictWorkload {
    private DictWorkload() {
    }

    /** The script; argv[1] is the workdir. */
    public static final String SCRIPT = """
            import os, signal, sys, time

            N = 200000

            def build():
                return {f"key-{i}": (i * 2654435761) % 4294967296 for i in range(N)}

            os.chdir(sys.argv[1])
            data = build()
            pid = os.getpid()
            requested = [False]

            def on_usr2(signo, frame):
                requested[0] = True

            signal.signal(signal.SIGUSR2, on_usr2)
            print(f"READY pid={pid} entries={len(data)}", flush=True)
            n = 0
            n_at_verify = 0
            while True:
                n += 1
                print(f"tick {n}", flush=True)
                time.sleep(0.1)
                if not requested[0]:
                    continue
                requested[0] = False
                fails = []
                if os.getpid() != pid:
                    fails.append(f"pid {os.getpid()} != {pid}")
                if n <= n_at_verify:
                    fails.append(f"counter {n} did not advance past {n_at_verify}")
                if len(data) != N:
                    fails.append(f"dict has {len(data)} entries, want {N}")
                elif data != build():
                    bad = next(k for k, v in build().items() if data.get(k) != v)
                    fails.append(f"dict differs at {bad}")
                n_at_verify = n
                if fails:
                    print("VERDICT FAIL " + ";".join(fails), flush=True)
                else:
                    print(f"VERDICT PASS pid={pid} counter={n} entries={len(data)}", flush=True)
            """;
}
