# A process holding a pidfd on the process given as argv[1] (outside its own tree), for the test kit: prints READY,
# waits for $CRYO_KIT_GO, then checks that the pidfd still refers to that process. Exit 0 when it does.
import os
import signal
import sys
import time

target = int(sys.argv[1])
fd = os.pidfd_open(target)
print("READY target=%d fd=%d" % (target, fd), flush=True)

go = os.environ.get("CRYO_KIT_GO", "go")  # the test kit sets it; by hand: `touch go` in its cwd
while not os.path.exists(go):
    time.sleep(0.01)

with open("/proc/self/fdinfo/%d" % fd) as info:
    pid = next(int(line.split()[1]) for line in info if line.startswith("Pid:"))
try:
    signal.pidfd_send_signal(fd, 0)
    print("OK pidfd on %d, signal 0 delivered" % pid, flush=True)
except OSError as e:
    print("FAIL pidfd on %d: %s" % (pid, e), flush=True)
    sys.exit(1)
sys.exit(0 if pid == target else 1)
