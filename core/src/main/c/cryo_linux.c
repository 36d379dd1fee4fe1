/*
 * libcryo-linux.so: the JNI side of dev.cryo.core.linux.LibC — thin wrappers over the libc calls cryo makes
 * itself (x86_64 Linux, glibc). Each wrapper makes one call and, when it fails, keeps errno in a thread-local
 * slot that LibC.errno() reads back (the JVM may change errno between two Java calls).
 *
 * Binding costs nothing at start-up (System.load + lazy symbol lookup), unlike a run-time generated FFI binding.
 * Built by core's build (gcc -O2 -shared -fPIC) next to the restore stub and shipped in lib/.
 */
#define _GNU_SOURCE
#include <jni.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static __thread int last_errno;

#define KEEP_ERRNO(r) do { if ((r) == -1) last_errno = errno; } while (0)
#define FN(name) Java_dev_cryo_core_linux_LibC_##name

JNIEXPORT jint JNICALL FN(errno0)(JNIEnv *env, jclass cls) {
    return last_errno;
}

JNIEXPORT jint JNICALL FN(abiVersion)(JNIEnv *env, jclass cls) {
    return 2;
}

JNIEXPORT jlong JNICALL FN(address)(JNIEnv *env, jclass cls, jobject buffer) {
    return (jlong) (*env)->GetDirectBufferAddress(env, buffer);
}

JNIEXPORT jobject JNICALL FN(wrap)(JNIEnv *env, jclass cls, jlong address, jlong length) {
    return (*env)->NewDirectByteBuffer(env, (void *) address, length);
}

JNIEXPORT jlong JNICALL FN(ptrace)(JNIEnv *env, jobject self, jint request, jint pid, jlong addr, jlong data) {
    errno = 0;
    long r = ptrace((enum __ptrace_request) request, (pid_t) pid, (void *) addr, (void *) data);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jlong JNICALL FN(syscall)(JNIEnv *env, jobject self, jlong nr, jlong a1, jlong a2, jlong a3, jlong a4,
                                    jlong a5, jlong a6) {
    long r = syscall(nr, a1, a2, a3, a4, a5, a6);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jint JNICALL FN(waitpid)(JNIEnv *env, jobject self, jint pid, jintArray status, jint options) {
    int st = 0;
    int r = waitpid(pid, &st, options);
    KEEP_ERRNO(r);
    if (r > 0 && status != NULL) {
        (*env)->SetIntArrayRegion(env, status, 0, 1, &st);
    }
    return r;
}

/* process_vm_readv and process_vm_writev take the same arguments: one wrapper body serves both. */
typedef ssize_t (*process_vm_call)(pid_t, const struct iovec *, unsigned long, const struct iovec *, unsigned long,
                                   unsigned long);

static jlong process_vm(process_vm_call call, jint pid, jlong local, jlong liovcnt, jlong remote, jlong riovcnt,
                        jlong flags) {
    long r = call(pid, (const struct iovec *) local, liovcnt, (const struct iovec *) remote, riovcnt, flags);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jlong JNICALL FN(process_1vm_1readv)(JNIEnv *env, jobject self, jint pid, jlong local, jlong liovcnt,
                                               jlong remote, jlong riovcnt, jlong flags) {
    return process_vm(process_vm_readv, pid, local, liovcnt, remote, riovcnt, flags);
}

JNIEXPORT jlong JNICALL FN(process_1vm_1writev)(JNIEnv *env, jobject self, jint pid, jlong local, jlong liovcnt,
                                                jlong remote, jlong riovcnt, jlong flags) {
    return process_vm(process_vm_writev, pid, local, liovcnt, remote, riovcnt, flags);
}

JNIEXPORT jint JNICALL FN(kill)(JNIEnv *env, jobject self, jint pid, jint sig) {
    int r = kill(pid, sig);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jint JNICALL FN(close)(JNIEnv *env, jobject self, jint fd) {
    int r = close(fd);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jlong JNICALL FN(read)(JNIEnv *env, jobject self, jint fd, jlong buf, jlong n) {
    long r = read(fd, (void *) buf, n);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jlong JNICALL FN(pread)(JNIEnv *env, jobject self, jint fd, jlong buf, jlong n, jlong offset) {
    long r = pread(fd, (void *) buf, n, offset);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jint JNICALL FN(prlimit)(JNIEnv *env, jobject self, jint pid, jint resource, jlong newLimit,
                                   jlong oldLimit) {
    int r = prlimit(pid, resource, (const struct rlimit *) newLimit, (struct rlimit *) oldLimit);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jint JNICALL FN(prctl)(JNIEnv *env, jobject self, jint option, jlong a2, jlong a3, jlong a4, jlong a5) {
    int r = prctl(option, a2, a3, a4, a5);
    KEEP_ERRNO(r);
    return r;
}

JNIEXPORT jstring JNICALL FN(strerror)(JNIEnv *env, jobject self, jint errnum) {
    char buf[256];
    const char *s = strerror_r(errnum, buf, sizeof buf);   /* GNU variant */
    return (*env)->NewStringUTF(env, s);
}

JNIEXPORT jlong JNICALL FN(signal)(JNIEnv *env, jobject self, jint sig, jlong handler) {
    return (jlong) signal(sig, (sighandler_t) handler);
}

/* stat of a path (no symlink following when nofollow): fills out[] with mode, dev, ino, rdev, size, mtime ns. */
JNIEXPORT jint JNICALL FN(stat)(JNIEnv *env, jobject self, jstring path, jboolean nofollow, jlongArray out) {
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) {
        last_errno = ENOMEM;
        return -1;
    }
    struct stat st;
    int r = fstatat(AT_FDCWD, p, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
    KEEP_ERRNO(r);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (r == 0) {
        jlong v[6] = {st.st_mode, st.st_dev, st.st_ino, st.st_rdev, st.st_size,
                      (jlong) st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec};
        (*env)->SetLongArrayRegion(env, out, 0, 6, v);
    }
    return r;
}

/*
 * posix_spawn of path with argv, fds 0-2 on /dev/null, no other fd and an empty environment. Returns the pid, or
 * -errno.
 */
JNIEXPORT jint JNICALL FN(spawnDetachedStdio)(JNIEnv *env, jobject self, jstring path, jobjectArray argv) {
    jsize n = (*env)->GetArrayLength(env, argv);
    const char *args[n + 1];
    jstring strs[n];
    for (jsize i = 0; i < n; i++) {
        strs[i] = (jstring) (*env)->GetObjectArrayElement(env, argv, i);
        args[i] = (*env)->GetStringUTFChars(env, strs[i], NULL);
    }
    args[n] = NULL;
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    char *envp[] = {NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
#if __GLIBC_PREREQ(2, 34)
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);   /* nothing of cryo's own leaks into the child */
#endif
    pid_t pid = 0;
    int err = posix_spawn(&pid, p, &actions, NULL, (char *const *) args, envp);
    posix_spawn_file_actions_destroy(&actions);
    (*env)->ReleaseStringUTFChars(env, path, p);
    for (jsize i = 0; i < n; i++) {
        (*env)->ReleaseStringUTFChars(env, strs[i], args[i]);
    }
    return err != 0 ? -err : pid;
}

/* readlink(2) of path; returns the target's bytes, or NULL with errno kept. */
JNIEXPORT jbyteArray JNICALL FN(readlink)(JNIEnv *env, jobject self, jstring path) {
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) {
        last_errno = ENOMEM;
        return NULL;
    }
    char buf[4096];
    ssize_t n = readlink(p, buf, sizeof buf);
    KEEP_ERRNO(n);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (n < 0) {
        return NULL;
    }
    jbyteArray out = (*env)->NewByteArray(env, (jsize) n);
    if (out != NULL) {
        (*env)->SetByteArrayRegion(env, out, 0, (jsize) n, (const jbyte *) buf);
    }
    return out;
}

/* open(path, flags | O_CLOEXEC) with a Java string; -1 with last_errno set (ENOMEM when the string cannot be had). */
static int open_path(JNIEnv *env, jstring path, int flags) {
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) {
        last_errno = ENOMEM;
        return -1;
    }
    int fd = open(p, flags | O_CLOEXEC);
    KEEP_ERRNO(fd);
    (*env)->ReleaseStringUTFChars(env, path, p);
    return fd;
}

/* Reads a whole (small, /proc) file into buf: open, read until EOF or buf is full, close. Returns the length or -1. */
JNIEXPORT jint JNICALL FN(readFile)(JNIEnv *env, jobject self, jstring path, jbyteArray buf) {
    int fd = open_path(env, path, O_RDONLY);
    if (fd < 0) {
        return -1;
    }
    jsize cap = (*env)->GetArrayLength(env, buf);
    char tmp[8192];
    jsize total = 0;
    while (total < cap) {
        size_t want = (size_t) (cap - total) < sizeof tmp ? (size_t) (cap - total) : sizeof tmp;
        ssize_t n = read(fd, tmp, want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            last_errno = errno;
            close(fd);
            return -1;
        }
        if (n == 0) {
            break;
        }
        (*env)->SetByteArrayRegion(env, buf, total, (jsize) n, (const jbyte *) tmp);
        total += (jsize) n;
    }
    close(fd);
    return total;
}

JNIEXPORT jint JNICALL FN(open)(JNIEnv *env, jobject self, jstring path, jint flags) {
    return open_path(env, path, flags);
}

JNIEXPORT jlong JNICALL FN(mmap)(JNIEnv *env, jobject self, jlong addr, jlong length, jint prot, jint flags, jint fd,
                                 jlong offset) {
    void *r = mmap((void *) addr, (size_t) length, prot, flags, fd, (off_t) offset);
    if (r == MAP_FAILED) {
        last_errno = errno;
        return -1;
    }
    return (jlong) r;
}

JNIEXPORT jint JNICALL FN(munmap)(JNIEnv *env, jobject self, jlong addr, jlong length) {
    int r = munmap((void *) addr, (size_t) length);
    KEEP_ERRNO(r);
    return r;
}
