"""
python multiprocessing with a Pool of 2 workers, a Lock and a shared Value (MultiprocessingIT).

Each task increments the shared Value under the Lock with a read, a short sleep and a write — without a working
shared lock, concurrent increments lose updates. The main process counts the tasks done and prints
`progress done=N value=V` every 10 tasks, and at the end `PASS done=N value=V` when V == N == TOTAL, else
`FAIL ...`, and exits 0 or 1. What it holds: the Lock's POSIX semaphore (a deleted /dev/shm/sem.* mapped
MAP_SHARED by the parent and the workers), the Value's arena (a deleted /dev/shm/pym-* file held as an fd and
mapped MAP_SHARED), the Pool's pipes, and the Pool's three threads in the parent.

usage: mp_counter.py WORKDIR [TOTAL]
"""
import multiprocessing as mp
import os
import sys
import time

TOTAL = int(sys.argv[2]) if len(sys.argv) > 2 else 400


def init(lock, value):
    global LOCK, VALUE
    LOCK, VALUE = lock, value


def work(i):
    with LOCK:
        v = VALUE.value
        time.sleep(0.002)
        VALUE.value = v + 1
    time.sleep(0.02)
    return 1


def main():
    ctx = mp.get_context("fork")
    lock = ctx.Lock()
    value = ctx.Value("q", 0, lock=False)  # raw shared memory: the Lock above protects it
    done = 0
    with ctx.Pool(2, initializer=init, initargs=(lock, value)) as pool:
        workers = ",".join(str(p.pid) for p in pool._pool)
        print(f"READY pid={os.getpid()} workers={workers} total={TOTAL}", flush=True)
        for n in pool.imap_unordered(work, range(TOTAL), chunksize=1):
            done += n
            if done % 10 == 0:
                with lock:
                    v = value.value
                print(f"progress done={done} value={v}", flush=True)
    final = value.value
    ok = final == TOTAL and done == TOTAL
    print(f"{'PASS' if ok else 'FAIL'} done={done} value={final}", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
