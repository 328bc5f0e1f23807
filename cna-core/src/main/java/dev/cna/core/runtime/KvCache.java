package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * Per-batch generation state: keys and values of every layer, [batch, kvHeads, columns, headDim], and each
 * row's left padding. Rows of different lengths are left-padded so every row's newest token sits in the
 * same column, and one decode step appends one column for the whole batch. Rows can join ({@link #absorb})
 * and leave ({@link #retain}) between steps, which is what continuous batching needs.
 *
 * <p>Each layer's keys and values live in a buffer with room for more columns ({@link #reserve}), written in
 * place: a prefill allocates its whole width once and a decode step copies nothing, where concatenating a
 * new, larger cache at every chunk and token both copied the cache and left the allocator holding the freed
 * ones (resident memory up to 2.3x the cache itself, measured). Without a reservation a full buffer grows by half.
 */
public final class KvCache implements AutoCloseable {
    final NDManager manager;
    final NDArray[] keys;
    final NDArray[] values;
    int[] pads;
    int columns;
    private int reserved; // columns the next allocation makes room for

    KvCache(NDManager parent, int layers, int batch) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.pads = new int[batch];
    }

    public int batchSize() {
        return pads.length;
    }

    /** Tokens of row r seen so far (prompt plus generated). */
    public int length(int row) {
        return columns - pads[row];
    }

    /**
     * How many columns in all the next allocation makes room for, so appends up to there copy nothing; the
     * buffers are allocated (or grown) at the next append that does not fit. Continuous batching sets it to the
     * widest its rows can grow (prompt + max tokens, padding included), a prefill to its prompt's width.
     */
    public void reserve(int totalColumns) {
        reserved = totalColumns;
    }

    /** Columns filled: the longest row's tokens plus its left padding, the same for every row. */
    public int columns() {
        return columns;
    }

    /**
     * Writes this step's keys or values [batch, kvHeads, width, headDim] after the cache's columns, growing the
     * layer's buffer if it is full; returns a view of the columns filled so far, this step's included.
     */
    NDArray append(NDArray[] cache, int layer, NDArray fresh) {
        int width = (int) fresh.getShape().get(2);
        int needed = columns + width;
        NDArray buffer = cache[layer];
        if (buffer == null || buffer.getShape().get(2) < needed) {
            int capacity = Math.max(needed, Math.max(reserved, buffer == null ? 0 : (int) (buffer.getShape().get(2) * 3 / 2)));
            Shape s = fresh.getShape();
            NDArray grown = manager.zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), fresh.getDataType());
            if (buffer != null && columns > 0) {
                try (NDArray old = filled(buffer)) {
                    grown.set(new NDIndex(":, :, :{}, :", columns), old);
                }
            }
            replace(cache, layer, grown);
            buffer = grown;
        }
        buffer.set(new NDIndex(":, :, {}:{}, :", columns, needed), fresh);
        NDArray view = buffer.get(new NDIndex(":, :, :{}, :", needed));
        view.attach(fresh.getManager()); // the step's: a view must not pile up in the cache's manager
        return view;
    }

    /** The filled columns of a layer's buffer (a view). */
    private NDArray filled(NDArray buffer) {
        return buffer.get(new NDIndex(":, :, :{}, :", columns));
    }

    /**
     * Moves the other cache's rows after this cache's rows and closes the other cache. Whichever side is
     * shorter gets more left padding, so the newest tokens stay in one column.
     */
    public void absorb(KvCache other) {
        if (other.keys.length != keys.length) {
            throw new IllegalArgumentException("caches of different models");
        }
        if (other.columns == 0) {
            throw new IllegalArgumentException("only a prefilled cache can join");
        }
        if (batchSize() == 0) {
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, other.keys[l]);
                replace(values, l, other.values[l]);
                other.keys[l] = null; // now this cache's buffers: closing the other cache must not free them
                other.values[l] = null;
            }
            pads = other.pads.clone();
            columns = other.columns;
        } else {
            int width = Math.max(columns, other.columns);
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, stackRows(keys[l], width - columns, other.keys[l], other.columns, width - other.columns));
                replace(values, l, stackRows(values[l], width - columns, other.values[l], other.columns, width - other.columns));
            }
            int[] joined = Arrays.copyOf(pads, pads.length + other.pads.length);
            for (int r = 0; r < joined.length; r++) {
                joined[r] = r < pads.length ? pads[r] + width - columns : other.pads[r - pads.length] + width - other.columns;
            }
            pads = joined;
            columns = width;
        }
        other.close();
    }

    /**
     * Keeps only the given rows, in the given order, and drops the columns that are padding in every row
     * left, so a long reply that finishes does not keep the others' attention wide.
     */
    public void retain(int[] rows) {
        if (rows.length == 0) {
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, null);
                replace(values, l, null);
            }
            pads = new int[0];
            columns = 0;
            return;
        }
        int[] kept = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            kept[i] = pads[rows[i]];
        }
        int trim = Arrays.stream(kept).min().getAsInt();
        try (NDManager scratch = manager.newSubManager()) {
            NDIndex index = new NDIndex("{}, :, {}:{}, :", scratch.create(rows), trim, columns);
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, keys[l].get(index));
                replace(values, l, values[l].get(index));
            }
        }
        for (int i = 0; i < kept.length; i++) {
            kept[i] -= trim;
        }
        pads = kept;
        columns -= trim;
    }

    /**
     * The filled columns of both buffers (this cache's and the other's), each left-padded by the given columns,
     * one row block above the other; every intermediate, views of the buffers included, is freed.
     */
    private NDArray stackRows(NDArray top, int topPad, NDArray bottom, int bottomColumns, int bottomPad) {
        NDArray topView = filled(top);
        NDArray bottomView = bottom.get(new NDIndex(":, :, :{}, :", bottomColumns));
        NDArray paddedTop = padLeft(topView, topPad);
        NDArray paddedBottom = padLeft(bottomView, bottomPad);
        NDArray stacked = paddedTop.concat(paddedBottom, 0);
        // padLeft returns its input when there is nothing to pad: close each array once
        java.util.Set<NDArray> scratch = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        scratch.addAll(List.of(topView, bottomView, paddedTop, paddedBottom));
        scratch.forEach(NDArray::close);
        return stacked;
    }

    private NDArray padLeft(NDArray cache, int columns) {
        if (columns == 0) {
            return cache;
        }
        Shape s = cache.getShape();
        try (NDArray zeros = manager.zeros(new Shape(s.get(0), s.get(1), columns, s.get(3)))) {
            return zeros.concat(cache, 2);
        }
    }

    private void replace(NDArray[] cache, int layer, NDArray fresh) {
        NDArray old = cache[layer];
        if (fresh != null) {
            fresh.attach(manager);
        }
        if (old != null && old != fresh) {
            old.close();
        }
        cache[layer] = fresh;
    }

    @Override
    public void close() {
        manager.close();
    }
}
