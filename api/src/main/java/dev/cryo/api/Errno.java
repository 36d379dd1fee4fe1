package dev.cryo.api;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Linux errno values by name, with their numbers (the same on every architecture Linux supports in its generic
 * table, which is the one cryo uses) and the C library's text. {@link CryoException#errno()} carries one for every
 * failed kernel call; {@link RemoteTask#syscallRaw(Syscall, long...)} returns {@code -errno}, which
 * {@link #ofResult(long)} turns back into a constant.
 *
 * <p>New constants may be added in minor SPI versions; none is removed before 2.0.
 *
 * @since 1.1.0
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    E2BIG(7, "Argument list too long"),
    ENOEXEC(8, "Exec format error"),
    EBADF(9, "Bad file descriptor"),
    ECHILD(10, "No child processes"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    ENOTBLK(15, "Block device required"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    EXDEV(18, "Invalid cross-device link"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    ENFILE(23, "Too many open files in system"),
    EMFILE(24, "Too many open files"),
    ENOTTY(25, "Inappropriate ioctl for device"),
    ETXTBSY(26, "Text file busy"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    ESPIPE(29, "Illegal seek"),
    EROFS(30, "Read-only file system"),
    EMLINK(31, "Too many links"),
    EPIPE(32, "Broken pipe"),
    EDOM(33, "Numerical argument out of domain"),
    ERANGE(34, "Numerical result out of range"),
    EDEADLK(35, "Resource deadlock avoided"),
    ENAMETOOLONG(36, "File name too long"),
    ENOLCK(37, "No locks available"),
    ENOSYS(38, "Function not implemented"),
    ENOTEMPTY(39, "Directory not empty"),
    ELOOP(40, "Too many levels of symbolic links"),
    ENOMSG(42, "No message of desired type"),
    EIDRM(43, "Identifier removed"),
    ENODATA(61, "No data available"),
    ETIME(62, "Timer expired"),
    EOVERFLOW(75, "Value too large for defined data type"),
    EBADFD(77, "File descriptor in bad state"),
    EILSEQ(84, "Invalid or incomplete multibyte or wide character"),
    ENOTSOCK(88, "Socket operation on non-socket"),
    EDESTADDRREQ(89, "Destination address required"),
    EMSGSIZE(90, "Message too long"),
    EPROTOTYPE(91, "Protocol wrong type for socket"),
    ENOPROTOOPT(92, "Protocol not available"),
    EPROTONOSUPPORT(93, "Protocol not supported"),
    ESOCKTNOSUPPORT(94, "Socket type not supported"),
    EOPNOTSUPP(95, "Operation not supported"),
    EPFNOSUPPORT(96, "Protocol family not supported"),
    EAFNOSUPPORT(97, "Address family not supported by protocol"),
    EADDRINUSE(98, "Address already in use"),
    EADDRNOTAVAIL(99, "Cannot assign requested address"),
    ENETDOWN(100, "Network is down"),
    ENETUNREACH(101, "Network is unreachable"),
    ENETRESET(102, "Network dropped connection on reset"),
    ECONNABORTED(103, "Software caused connection abort"),
    ECONNRESET(104, "Connection reset by peer"),
    ENOBUFS(105, "No buffer space available"),
    EISCONN(106, "Transport endpoint is already connected"),
    ENOTCONN(107, "Transport endpoint is not connected"),
    ESHUTDOWN(108, "Cannot send after transport endpoint shutdown"),
    ETOOMANYREFS(109, "Too many references: cannot splice"),
    ETIMEDOUT(110, "Connection timed out"),
    ECONNREFUSED(111, "Connection refused"),
    EHOSTDOWN(112, "Host is down"),
    EHOSTUNREACH(113, "No route to host"),
    EALREADY(114, "Operation already in progress"),
    EINPROGRESS(115, "Operation now in progress"),
    ESTALE(116, "Stale file handle"),
    EDQUOT(122, "Disk quota exceeded"),
    ECANCELED(125, "Operation canceled"),
    EOWNERDEAD(130, "Owner died"),
    ENOTRECOVERABLE(131, "State not recoverable"),
    ERESTARTSYS(512, "Interrupted system call, to be restarted (kernel-internal)"),
    ERESTARTNOINTR(513, "Interrupted system call, to be restarted (kernel-internal)"),
    ERESTARTNOHAND(514, "Interrupted system call, restarted when no handler runs (kernel-internal)"),
    ERESTART_RESTARTBLOCK(516, "Interrupted system call, restarted through restart_syscall (kernel-internal)");

    private static final Map<Integer, Errno> BY_NUMBER = new HashMap<>();

    static {
        for (Errno e : values()) {
            BY_NUMBER.put(e.number, e);
        }
    }

    private final int number;
    private final String text;

    Errno(int number, String text) {
        this.number = number;
        this.text = text;
    }

    /** @return the positive errno value, e.g. 2 for {@link #ENOENT} */
    public int number() {
        return number;
    }

    /** @return the C library's description, e.g. {@code No such file or directory} */
    public String text() {
        return text;
    }

    /** @return the constant of a positive errno value, empty for one this table does not name */
    public static Optional<Errno> of(int number) {
        return Optional.ofNullable(BY_NUMBER.get(number));
    }

    /**
     * @return the errno of a raw system call result ({@code -errno} in {@code [-4095, -1]}), empty for a success
     *         or an errno this table does not name
     */
    public static Optional<Errno> ofResult(long result) {
        return result < 0 && result >= -4095 ? of((int) -result) : Optional.empty();
    }

    /** @return whether {@code result} is {@code -number()} */
    public boolean is(long result) {
        return result == -number;
    }

    /** @return {@code ENOENT (No such file or directory)}; {@code errno N} for an unnamed value */
    public static String describe(int number) {
        return of(number).map(e -> e.name() + " (" + e.text + ")").orElse("errno " + number);
    }
}
