package dev.cryo.api;

/**
 * Identity of an object that may be held through several fds or processes, such as a pipe (by inode) or a
 * socket (by inode). Two fds that refer to the same object carry equal ids; the object is recorded once.
 *
 * @param kind the owning handler's kind, e.g. {@code pipe}, {@code unix-socket}
 * @param id   the kind's identity number, usually the inode
 * @since 1.0.0
 */
public record ObjectId(String kind, long id) {
    @Override
    public String toString() {
        return kind + ":[" + id + "]";
    }
}
