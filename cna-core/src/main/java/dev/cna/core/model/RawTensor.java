package dev.cna.core.model;

import dev.cna.core.model.gguf.GgmlType;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A tensor as the file stores it, not expanded: its element or block type, its bytes (a memory-mapped slice,
 * little-endian), and its shape as a matrix of {@code rows} x {@code cols}, cols being the innermost dimension (a
 * linear layer's inputs; a 1-D tensor is one row). What a backend that computes on the stored form reads.
 *
 * @param file the file holding it, for errors
 */
public record RawTensor(Path file, String name, GgmlType type, int rows, int cols, ByteBuffer data) {}
