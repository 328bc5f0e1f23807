package dev.cna.core.runtime.cpu;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The KV buffers of rows that ended, kept for rows that join later. A row's buffers are tens of MB (SmolLM2-135M,
 * 1,040 positions: 60 arrays of 0.8 MB); allocated anew for every stream, each was zeroed by the JVM and then copied
 * by the young collection that found it alive: G1 pauses of 24-43 ms every 2-3 s with 16 streams replacing each
 * other (steering bench, -Xlog:gc), which every stream waits for. Buffers are matched by exact length (the cache
 * rounds capacities to {@link #POSITIONS} positions, so rows of similar lifetimes share them) and are handed out
 * with stale contents: a row writes every position before attention reads it.
 *
 * <p>Kept buffers are softly reachable, so the collector takes them back before it would run out of memory
 * (the KV budget counts live rows only), and at most a quarter of the heap is kept.
 */
final class KvBuffers {
    /** Row capacities are multiples of this many positions. */
    static final int POSITIONS = 64;

    private final long maxBytes;
    private final Map<Integer, ArrayDeque<SoftReference<float[]>>> free = new HashMap<>();
    private long bytes; // of the kept buffers, counted as if none had been cleared

    KvBuffers(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Kept buffers up to a quarter of the heap's maximum. */
    static KvBuffers ofHeap() {
        return new KvBuffers(Runtime.getRuntime().maxMemory() / 4);
    }

    /** A buffer of exactly this many floats: a kept one (contents stale) or a new one (zeros). */
    synchronized float[] take(int length) {
        ArrayDeque<SoftReference<float[]>> kept = free.get(length);
        while (kept != null && !kept.isEmpty()) {
            float[] buffer = kept.pop().get();
            bytes -= 4L * length;
            if (buffer != null) {
                return buffer;
            }
        }
        return new float[length];
    }

    /** Keeps a buffer nobody uses any more, if there is room; null is ignored. */
    synchronized void give(float[] buffer) {
        if (buffer == null) {
            return;
        }
        if (bytes + 4L * buffer.length > maxBytes) {
            dropCleared();
            if (bytes + 4L * buffer.length > maxBytes) {
                return;
            }
        }
        free.computeIfAbsent(buffer.length, k -> new ArrayDeque<>()).push(new SoftReference<>(buffer));
        bytes += 4L * buffer.length;
    }

    private void dropCleared() {
        for (ArrayDeque<SoftReference<float[]>> kept : free.values()) {
            kept.removeIf(ref -> ref.get() == null);
        }
        bytes = 0;
        free.forEach((length, kept) -> bytes += 4L * length * kept.size());
    }

    /** Bytes of the buffers kept now, cleared ones included until they are taken. */
    synchronized long keptBytes() {
        return bytes;
    }
}
