/**
 * The {@code epoll} plugin: epoll instances with every registration (dump: fdinfo + kcmp to find each registered
 * file; restore: epoll_create1 and epoll_ctl inside the restored process once every target exists). See
 * {@link dev.cryo.plugin.epoll.EpollHandler}.
 */
package dev.cryo.plugin.epoll;
