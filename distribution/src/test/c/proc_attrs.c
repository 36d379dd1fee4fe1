/*
 * proc_attrs <workdir> [rootpdeath]: a process with two extra threads and a child, each carrying its own process
 * attributes; on SIGUSR2 every one of them checks itself (the threads and the child on request, through a shared
 * page) and main prints one `VERDICT PASS|FAIL` for all.
 *
 *   main     child subreaper, THP disabled, KSM for all memory (PR_SET_MEMORY_MERGE), oom_score_adj 321, nice 7, timer slack 123456, personality
 *            ADDR_NO_RANDOMIZE, CAP_SYS_BOOT dropped from the bounding set, CAP_NET_ADMIN dropped from effective;
 *            reverse: no parent-death signal, no no_new_privs, securebits 0, no ambient capability; handlers
 *            for SIGURG, SIGWINCH and SIGCHLD (every signal cryo could end an injected batch on is caught: its
 *            batches take the slower way; the child keeps them default, the fast way) kept
 *   idle     (thread) SCHED_IDLE, timer slack 777777, CAP_CHOWN also dropped from effective (this thread only)
 *   fifo     (thread) SCHED_FIFO priority 3 with SCHED_RESET_ON_FORK; reverse: CAP_CHOWN still effective
 *   child    uid 1000/1001/1002 fsuid 1000, gid 2000/2001/2002 fsgid 2000, groups 4242 4343, permitted
 *            NET_RAW KILL NET_BIND_SERVICE, effective NET_RAW KILL, inheritable and ambient NET_RAW, securebits
 *            KEEP_CAPS, parent-death signal SIGUSR1, no_new_privs, SCHED_BATCH nice 3, oom_score_adj 500;
 *            reverse: THP enabled again, no KSM for all memory, not a subreaper
 * When main dies the child gets SIGUSR1 and prints `PDEATH sig=10`, then exits.
 * With `rootpdeath` main sets a parent-death signal too (a dump must refuse it).
 * Prints `READY pid=<pid> child=<pid> idle=<tid> fifo=<tid>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

#define BIT(c) (1ull << (c))

struct shared {
    struct check child, idle, fifo;
};

static struct shared *sh;
static volatile pid_t idle_tid, fifo_tid;
static int main_pdeath; /* SIGTERM with rootpdeath */

static void put(struct check *c, struct verdict *v) {
    snprintf(c->result, sizeof c->result, "%.1000s", v->len ? v->failures : "ok");
    __atomic_store_n(&c->answered, c->request, __ATOMIC_SEQ_CST);
}

static int caps_of_thread(uint64_t *eff, uint64_t *prm, uint64_t *inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) return -1;
    *eff = d[0].effective | (uint64_t) d[1].effective << 32;
    *prm = d[0].permitted | (uint64_t) d[1].permitted << 32;
    *inh = d[0].inheritable | (uint64_t) d[1].inheritable << 32;
    return 0;
}

static int set_caps_of_thread(uint64_t eff, uint64_t prm, uint64_t inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t) eff, (uint32_t) prm, (uint32_t) inh},
        {(uint32_t) (eff >> 32), (uint32_t) (prm >> 32), (uint32_t) (inh >> 32)}};
    return (int) syscall(SYS_capset, &h, d);
}

static int oom_score_adj(void) {
    char buf[32] = {0};
    int fd = open("/proc/self/oom_score_adj", O_RDONLY);
    if (fd < 0) return -99999;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? atoi(buf) : -99999;
}

static void set_oom_score_adj(const char *v) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd < 0 || write(fd, v, strlen(v)) < 0) die("oom_score_adj");
    close(fd);
}

static int pdeath(void) {
    int s = -1;
    prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
    return s;
}

static int subreaper(void) {
    int s = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &s, 0, 0, 0);
    return s;
}

static int nice_of(pid_t tid) {
    errno = 0;
    return getpriority(PRIO_PROCESS, (id_t) tid);
}

static volatile sig_atomic_t quiet_count;
static void on_quiet(int sig) { (void) sig; quiet_count++; }
static const int quiet_sigs[] = {SIGURG, SIGWINCH, SIGCHLD};

static void check_main(struct verdict *v) {
    pid_t tid = (pid_t) syscall(SYS_gettid);
    for (size_t i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++) {
        struct sigaction sa;
        if (sigaction(quiet_sigs[i], NULL, &sa) != 0 || sa.sa_handler != on_quiet || !(sa.sa_flags & SA_RESTART))
            fail(v, "main: handler of signal %d lost", quiet_sigs[i]);
    }
    if (subreaper() != 1) fail(v, "main: not a child subreaper");
    if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1) fail(v, "main: THP disable is %d", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1) fail(v, "main: memory merge is %d", prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0));
    if (oom_score_adj() != 321) fail(v, "main: oom_score_adj %d", oom_score_adj());
    if (nice_of(tid) != 7) fail(v, "main: nice %d", nice_of(tid));
    if (sched_getscheduler(0) != SCHED_OTHER) fail(v, "main: policy %d", sched_getscheduler(0));
    if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != 123456) fail(v, "main: timer slack %d", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    if (!(personality(0xffffffff) & ADDR_NO_RANDOMIZE)) fail(v, "main: ADDR_NO_RANDOMIZE lost");
    if (prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0) != 0) fail(v, "main: CAP_SYS_BOOT back in the bounding set");
    if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 1) fail(v, "main: CAP_SYS_ADMIN left the bounding set");
    uint64_t eff, prm, inh;
    if (caps_of_thread(&eff, &prm, &inh) != 0) fail(v, "main: capget: %s", strerror(errno));
    if (eff & BIT(CAP_NET_ADMIN)) fail(v, "main: CAP_NET_ADMIN effective again");
    if (!(prm & BIT(CAP_NET_ADMIN))) fail(v, "main: CAP_NET_ADMIN no longer permitted");
    if (!(eff & BIT(CAP_CHOWN))) fail(v, "main: CAP_CHOWN not effective (took the idle thread's set?)");
    if (inh != 0) fail(v, "main: inheritable %llx", (unsigned long long) inh);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) != 0) fail(v, "main: ambient CAP_NET_RAW appeared");
    if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != 0) fail(v, "main: securebits %x", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) fail(v, "main: no_new_privs appeared");
    if (pdeath() != main_pdeath) fail(v, "main: parent-death signal %d instead of %d", pdeath(), main_pdeath);
    if (getuid() != 0 || geteuid() != 0) fail(v, "main: uid %d/%d", (int) getuid(), (int) geteuid());
}

static void check_idle(struct verdict *v) {
    if (sched_getscheduler(0) != SCHED_IDLE) fail(v, "idle: policy %d", sched_getscheduler(0));
    if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != 777777) fail(v, "idle: timer slack %d", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    uint64_t eff, prm, inh;
    caps_of_thread(&eff, &prm, &inh);
    if (eff & BIT(CAP_CHOWN)) fail(v, "idle: CAP_CHOWN effective again");
    if (eff & BIT(CAP_NET_ADMIN)) fail(v, "idle: CAP_NET_ADMIN effective again");
    if (!(prm & BIT(CAP_CHOWN))) fail(v, "idle: CAP_CHOWN no longer permitted");
}

static void check_fifo(struct verdict *v) {
    int policy = sched_getscheduler(0);
    if (policy != (SCHED_FIFO | SCHED_RESET_ON_FORK)) fail(v, "fifo: policy %x", policy);
    struct sched_param sp;
    sched_getparam(0, &sp);
    if (sp.sched_priority != 3) fail(v, "fifo: priority %d", sp.sched_priority);
    uint64_t eff, prm, inh;
    caps_of_thread(&eff, &prm, &inh);
    if (!(eff & BIT(CAP_CHOWN))) fail(v, "fifo: CAP_CHOWN not effective (took the idle thread's set?)");
    if (eff & BIT(CAP_NET_ADMIN)) fail(v, "fifo: CAP_NET_ADMIN effective again");
}

static void check_child(struct verdict *v) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    if (r != 1000 || e != 1001 || s != 1002) fail(v, "child: uids %d/%d/%d", (int) r, (int) e, (int) s);
    if (gr != 2000 || ge != 2001 || gs != 2002) fail(v, "child: gids %d/%d/%d", (int) gr, (int) ge, (int) gs);
    int fsuid = (int) syscall(SYS_setfsuid, -1), fsgid = (int) syscall(SYS_setfsgid, -1);
    if (fsuid != 1000 || fsgid != 2000) fail(v, "child: fsuid %d fsgid %d", fsuid, fsgid);
    gid_t groups[8];
    int n = getgroups(8, groups);
    if (n != 2 || groups[0] != 4242 || groups[1] != 4343) fail(v, "child: %d groups", n);
    uint64_t eff, prm, inh;
    caps_of_thread(&eff, &prm, &inh);
    if (eff != (BIT(CAP_NET_RAW) | BIT(CAP_KILL))) fail(v, "child: effective %llx", (unsigned long long) eff);
    if (prm != (BIT(CAP_NET_RAW) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE))) fail(v, "child: permitted %llx", (unsigned long long) prm);
    if (inh != BIT(CAP_NET_RAW)) fail(v, "child: inheritable %llx", (unsigned long long) inh);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) != 1) fail(v, "child: ambient CAP_NET_RAW lost");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 0) fail(v, "child: ambient CAP_KILL appeared");
    if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != SECBIT_KEEP_CAPS) fail(v, "child: securebits %x", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    if (prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0) != 0) fail(v, "child: CAP_SYS_BOOT back in the bounding set");
    if (pdeath() != SIGUSR1) fail(v, "child: parent-death signal %d", pdeath());
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) fail(v, "child: no_new_privs lost");
    if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 0) fail(v, "child: THP disabled (was enabled again)");
    if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 0) fail(v, "child: memory merge is on (was turned off)");
    if (subreaper() != 0) fail(v, "child: became a subreaper");
    if (oom_score_adj() != 500) fail(v, "child: oom_score_adj %d", oom_score_adj());
    if (sched_getscheduler(0) != SCHED_BATCH) fail(v, "child: policy %d", sched_getscheduler(0));
    if (nice_of(0) != 3) fail(v, "child: nice %d", nice_of(0));
}

static void serve(struct check *c, void (*check)(struct verdict *)) {
    for (;;) {
        int req = __atomic_load_n(&c->request, __ATOMIC_SEQ_CST);
        if (req != c->answered) {
            struct verdict v = {0};
            check(&v);
            put(c, &v);
        }
        usleep(20000);
    }
}

static void *idle_thread(void *arg) {
    (void) arg;
    prctl(PR_SET_NAME, "idle", 0, 0, 0);
    struct sched_param sp = {0};
    if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) die("SCHED_IDLE");
    if (prctl(PR_SET_TIMERSLACK, 777777, 0, 0, 0) != 0) die("timerslack");
    uint64_t eff, prm, inh;
    caps_of_thread(&eff, &prm, &inh);
    if (set_caps_of_thread(eff & ~BIT(CAP_CHOWN), prm, inh) != 0) die("capset(idle)");
    idle_tid = (pid_t) syscall(SYS_gettid);
    serve(&sh->idle, check_idle);
    return NULL;
}

static void *fifo_thread(void *arg) {
    (void) arg;
    prctl(PR_SET_NAME, "fifo", 0, 0, 0);
    struct sched_param sp = {3};
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0) die("SCHED_FIFO");
    fifo_tid = (pid_t) syscall(SYS_gettid);
    serve(&sh->fifo, check_fifo);
    return NULL;
}

static void on_pdeath(int sig) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "PDEATH sig=%d\n", sig);
    if (write(1, buf, (size_t) n) < 0) _exit(3);
    _exit(0);
}

static void run_child(void) {
    install(SIGUSR1, on_pdeath);
    if (prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0) != 0) die("THP enable");
    if (prctl(PR_SET_MEMORY_MERGE, 0, 0, 0, 0) != 0) die("PR_SET_MEMORY_MERGE 0");
    set_oom_score_adj("500");
    struct sched_param sp = {0};
    if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0) die("SCHED_BATCH");
    if (setpriority(PRIO_PROCESS, 0, 3) != 0) die("nice 3");
    gid_t groups[] = {4242, 4343};
    if (setgroups(2, groups) != 0) die("setgroups");
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) die("PR_SET_KEEPCAPS");
    if (setresgid(2000, 2001, 2002) != 0) die("setresgid");
    if (setresuid(1000, 1001, 1002) != 0) die("setresuid");
    uint64_t keep = BIT(CAP_NET_RAW) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE);
    uint64_t eff, prm, inh;
    caps_of_thread(&eff, &prm, &inh);
    if (set_caps_of_thread(BIT(CAP_SETUID) | BIT(CAP_SETGID) | keep, BIT(CAP_SETUID) | BIT(CAP_SETGID) | keep, BIT(CAP_NET_RAW)) != 0) die("capset(child 1)");
    syscall(SYS_setfsuid, 1000);
    syscall(SYS_setfsgid, 2000);
    if (set_caps_of_thread(BIT(CAP_NET_RAW) | BIT(CAP_KILL), keep, BIT(CAP_NET_RAW)) != 0) die("capset(child 2)");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) != 0) die("ambient raise");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) != 0) die("PR_SET_PDEATHSIG");
    serve(&sh->child, check_child);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 99, "[rootpdeath]");
    install(SIGUSR2, on_verify_signal);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) die("subreaper");
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) die("THP disable");
    if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) != 0) die("PR_SET_MEMORY_MERGE 1");
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) != 0) die("PR_CAPBSET_DROP");
    pid_t pid = real_getpid();
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        run_child();
        _exit(1);
    }
    for (size_t i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++) install(quiet_sigs[i], on_quiet);
    if (argc > 2 && strcmp(argv[2], "rootpdeath") == 0) {
        main_pdeath = SIGTERM;
        if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) die("pdeath");
    }
    set_oom_score_adj("321");
    if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 7) != 0) die("nice 7");
    if (prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0) != 0) die("timerslack");
    if (personality(ADDR_NO_RANDOMIZE) < 0) die("personality");
    uint64_t eff, prm, inh;
    caps_of_thread(&eff, &prm, &inh);
    if (set_caps_of_thread(eff & ~BIT(CAP_NET_ADMIN), prm, inh) != 0) die("capset(main)");
    pthread_t t1, t2;
    if (pthread_create(&t1, NULL, idle_thread, NULL) != 0) die("pthread_create");
    if (pthread_create(&t2, NULL, fifo_thread, NULL) != 0) die("pthread_create");
    while (!idle_tid || !fifo_tid) usleep(1000);
    struct verdict setup = {0};
    ask_checker(&sh->child, "child", &setup);
    exit_if_setup_failed(&setup);
    say("READY pid=%d child=%d idle=%d fifo=%d", (int) pid, (int) child, (int) idle_tid, (int) fifo_tid);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != pid) fail(&v, "pid changed");
        check_main(&v);
        ask_checker(&sh->idle, "idle thread", &v);
        ask_checker(&sh->fifo, "fifo thread", &v);
        ask_checker(&sh->child, "child", &v);
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu child=%d", (int) pid, counter, (int) child);
        report(&v, detail);
    }
}
