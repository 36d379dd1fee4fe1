# A process holding two pidfds on its own child (one PIDFD_NONBLOCK), for the test kit: prints READY, waits for
# $CRYO_KIT_GO (created once the restored tree runs), then checks that the pidfds still refer to the child —
# pidfd_send_signal(fd, 0) works, poll reports nothing while it runs and POLLIN once it exited, waitid(P_PIDFD)
# reaps it — printing one line per check. Exit 0 when every check passed.
import fcntl
import os
import select
import signal
import sys
import time

PIDFD_NONBLOCK = os.O_NONBLOCK

child = os.fork()
if child == 0:
    while True:  # until the parent kills it through its pidfd
        time.sleep(3600)

fd = os.pidfd_open(child)
nb = os.pidfd_open(child, PIDFD_NONBLOCK)
os.set_inheritable(fd, True)  # one without FD_CLOEXEC, to see that the restore keeps the fd flags apart
print("READY child=%d fd=%d nonblock=%d" % (child, fd, nb), flush=True)

go = os.environ.get("CRYO_KIT_GO", "go")  # the test kit sets it; by hand: `touch go` in its cwd
while not os.path.exists(go):
    time.sleep(0.01)

failed = False


def check(ok, what):
    global failed
    failed = failed or not ok
    print(("OK " if ok else "FAIL ") + what, flush=True)


def fdinfo_pid(f):
    with open("/proc/self/fdinfo/%d" % f) as info:
        for line in info:
            if line.startswith("Pid:"):
                return int(line.split()[1])


check(fdinfo_pid(fd) == child and fdinfo_pid(nb) == child, "both pidfds refer to the child")
check(fcntl.fcntl(nb, fcntl.F_GETFL) & os.O_NONBLOCK != 0, "PIDFD_NONBLOCK kept")
check(os.get_inheritable(fd) and not os.get_inheritable(nb), "FD_CLOEXEC kept per fd")
try:
    signal.pidfd_send_signal(fd, 0)
    check(True, "pidfd_send_signal(fd, 0)")
except OSError as e:
    check(False, "pidfd_send_signal(fd, 0): %s" % e)
poller = select.poll()
poller.register(fd, select.POLLIN)
check(poller.poll(0) == [], "no exit reported while the child runs")
signal.pidfd_send_signal(fd, signal.SIGTERM)
events = poller.poll(10000)
check(len(events) == 1 and events[0][1] & select.POLLIN != 0, "poll reports the child's exit")
info = os.waitid(os.P_PIDFD, nb, os.WEXITED)
check(info is not None and info.si_pid == child and info.si_code == os.CLD_KILLED
      and info.si_status == signal.SIGTERM, "waitid(P_PIDFD) reaps the child, killed by SIGTERM")
sys.exit(1 if failed else 0)
