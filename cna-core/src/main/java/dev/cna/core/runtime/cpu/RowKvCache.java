package dev.cna.core.runtime.cpu;

import dev.cna.core.runtime.KvCache;

import java.util.ArrayList;
import java.util.List;

/**
 * The cpu backend's KV cache: one buffer per row and layer in f32, holding only the row's own tokens. Keys are
 * stored transposed, [kvHead][headDim][capacity], so a query's scores against every position are a sum over the
 * head's dimensions of q[d] times a contiguous run of keys (no per-position reduction); values are
 * [position][kvHead][headDim], so the weighted sum adds contiguous rows. Left padding exists only as bookkeeping
 * (the base class's pads): a
 * padding column costs neither memory nor attention, and rows join and leave by moving references, not data. A
 * row's buffers are allocated for its whole life when it is known (the reservation: prompt + max tokens) and grow
 * by half otherwise, in multiples of {@link KvBuffers#POSITIONS} positions; appending a token writes in place. Buffers
 * come from and go back to the backend's {@link KvBuffers}, so rows that replace each other reuse them.
 */
final class RowKvCache extends KvCache {
    /** One row's keys and values per layer, and how many positions they have room for. */
    static final class Row {
        final float[][] keys;
        final float[][] values;
        int capacity;

        Row(int layers) {
            keys = new float[layers][];
            values = new float[layers][];
        }
    }

    private final int layers;
    private final int stride; // floats per position: kvHeads * headDim
    private final int context;
    private final KvBuffers buffers;
    private List<Row> rows;

    RowKvCache(int layers, int kvHeads, int headDim, int context, int batch, KvBuffers buffers) {
        super(batch);
        this.buffers = buffers;
        this.layers = layers;
        this.stride = kvHeads * headDim;
        this.context = context;
        this.rows = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            rows.add(new Row(layers));
        }
    }

    Row row(int b) {
        return rows.get(b);
    }

    int stride() {
        return stride;
    }

    /** Makes room in row b for positions [0, positions): its reservation if larger, else the larger of that and 1.5x. */
    void ensure(int b, int positions) {
        Row row = rows.get(b);
        if (positions <= row.capacity) {
            return;
        }
        // the reservation (or half again as much), never past the context unless the row itself goes past it
        int wanted = Math.max(reserved() - pad(b), row.capacity + row.capacity / 2);
        int capacity = roundUp(Math.max(positions, Math.min(wanted, context)));
        for (int l = 0; l < layers; l++) {
            row.keys[l] = growTransposed(row.keys[l], row.capacity, capacity);
            row.values[l] = grow(row.values[l], capacity);
        }
        row.capacity = capacity;
    }

    private static int roundUp(int positions) {
        return (positions + KvBuffers.POSITIONS - 1) / KvBuffers.POSITIONS * KvBuffers.POSITIONS;
    }

    private float[] grow(float[] old, int capacity) {
        float[] grown = buffers.take(capacity * stride);
        if (old != null) {
            System.arraycopy(old, 0, grown, 0, Math.min(old.length, grown.length));
            buffers.give(old);
        }
        return grown;
    }

    /** Keys [kvHead * headDim][capacity]: each of the stride rows moves to its place in the wider array. */
    private float[] growTransposed(float[] old, int oldCapacity, int capacity) {
        float[] grown = buffers.take(capacity * stride);
        if (old != null) {
            for (int r = 0; r < stride; r++) {
                System.arraycopy(old, r * oldCapacity, grown, r * capacity, oldCapacity);
            }
            buffers.give(old);
        }
        return grown;
    }

    /** Writes one token's keys k[kvHeads * headDim] and values v at a row's position in a layer. */
    void write(int b, int layer, int position, float[] k, float[] v) {
        Row row = rows.get(b);
        float[] keys = row.keys[layer];
        for (int r = 0; r < stride; r++) {
            keys[r * row.capacity + position] = k[r];
        }
        System.arraycopy(v, 0, row.values[layer], position * stride, stride);
    }

    @Override
    protected void moveRows(KvCache from, int padThis, int padOther) {
        RowKvCache other = (RowKvCache) from;
        if (other.layers != layers || other.stride != stride) {
            throw new IllegalArgumentException("caches of different models");
        }
        List<Row> joined = new ArrayList<>(rows);
        joined.addAll(other.rows);
        rows = joined;
        other.rows = new ArrayList<>();
    }

    @Override
    protected void keepRows(int[] keep, int trim) {
        List<Row> kept = new ArrayList<>(keep.length);
        for (int r : keep) {
            kept.add(rows.get(r));
        }
        rows.stream().filter(row -> !kept.contains(row)).forEach(this::release);
        rows = kept;
    }

    /** Hands a row that left its buffers back to the backend's pool. */
    private void release(Row row) {
        for (int l = 0; l < layers; l++) {
            buffers.give(row.keys[l]);
            buffers.give(row.values[l]);
            row.keys[l] = null;
            row.values[l] = null;
        }
        row.capacity = 0;
    }

    @Override
    public void close() {
        rows.forEach(this::release);
        rows = new ArrayList<>();
    }
}
