/**
 * The dump pipeline: discover and freeze the tree, collect each process (core state here, memory and fds through
 * the plugins), check that the tree is self-contained, write the image with the inventory last, then kill, resume
 * or leave the tree stopped. Any failure resumes the tree untouched and discards the partial image.
 */
package dev.cryo.core.dump;
