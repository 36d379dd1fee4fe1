package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.HostKernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** {@link HostKernel} over raw netlink sockets of cryo's own process. */
public final class Netlink implements HostKernel {
    private static final int SOCKET = 41, SENDTO = 44, RECVFROM = 45;
    private static final int AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000;
    private static final int NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private static final int BUF = 1 << 16;
    private int seq = 1;

    @Override
    public List<byte[]> netlink(int protocol, byte[] request) throws CryoException {
        LibC c = LibC.INSTANCE;
        long fd = c.syscall(SOCKET, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol, 0, 0, 0);
        if (fd < 0) {
            throw Errors.failure("socket(AF_NETLINK, " + protocol + ")", LibC.errno());
        }
        try {
            int mySeq = seq++;
            NativeMemory req = NativeMemory.allocate(request.length);
            req.put(0, request, 0, request.length);
            req.putInt(0, request.length);
            req.putInt(8, mySeq);
            req.putInt(12, 0);
            NativeMemory addr = NativeMemory.allocate(12); // sockaddr_nl to the kernel
            addr.putShort(0, (short) AF_NETLINK);
            if (c.syscall(SENDTO, fd, req.address(), request.length, 0, addr.address(), 12) < 0) {
                throw Errors.failure("sendto(netlink " + protocol + ")", LibC.errno());
            }
            List<byte[]> out = new ArrayList<>();
            NativeMemory buf = NativeMemory.allocate(BUF);
            for (;;) {
                long n = c.syscall(RECVFROM, fd, buf.address(), BUF, 0, 0, 0);
                if (n < 0) {
                    int e = LibC.errno();
                    if (e == Errno.EINTR.number()) {
                        continue;
                    }
                    throw Errors.failure("recv(netlink " + protocol + ")", e);
                }
                byte[] all = new byte[(int) n];
                buf.get(0, all, 0, (int) n);
                ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
                int off = 0;
                while (off + 16 <= n) {
                    int len = b.getInt(off);
                    int type = b.getShort(off + 4) & 0xffff;
                    if (len < 16 || off + len > n) {
                        throw new CryoException(Category.KERNEL, "core/NETLINK", "malformed netlink reply");
                    }
                    if (type == NLMSG_DONE) {
                        return out;
                    }
                    if (type == NLMSG_ERROR) {
                        int err = -b.getInt(off + 16);
                        if (err == 0) {
                            return out;
                        }
                        throw Errors.failure("netlink request (protocol " + protocol + ")", err);
                    }
                    byte[] msg = new byte[len];
                    System.arraycopy(all, off, msg, 0, len);
                    out.add(msg);
                    off += (len + 3) & ~3;
                }
            }
        } finally {
            c.close((int) fd);
        }
    }
}
