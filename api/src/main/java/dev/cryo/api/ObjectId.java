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
    // equals and hashCode written out: a record's generated ones are bound by an invokedynamic bootstrap at their
    // first call, milliseconds of method-handle spinning inside the window the tree is frozen (issue 13)
    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectId other && id == other.id && kind.equals(other.kind);
    }

    @Override
    public int hashCode() {
        return 31 * kind.hashCode() + Long.hashCode(id);
    }

    @Override
    public String toString() {
        return kind + ":[" + id + "]";
    }
}
