package dev.cryo.api;

/**
 * A reference from an object of the tree to one no task of the tree holds.
 *
 * @param from        the tree's object (e.g. {@code unix-socket:[41234]})
 * @param to          the object outside (e.g. {@code unix-socket:[41235]})
 * @param holder      pid of a process of the tree holding {@code from}
 * @param holderComm  its name
 * @param fd          the fd through which {@code holder} holds {@code from}
 * @param description the peer as the declaring handler described it (bound name, owner pid and name)
 * @since 1.0.0
 */
public record ExternalReference(ObjectId from, ObjectId to, Pid holder, String holderComm, TargetFd fd,
                                String description) {
}
