package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * Per-batch generation state: keys and values of every layer, [batch, kvHeads, columns, headDim], and each
 * row's left padding. Rows of different lengths are left-padded so every row's newest token sits in the
 * same column, and one decode step appends one column for the whole batch. Rows can join ({@link #absorb})
 * and leave ({@link #retain}) between steps, which is what continuous batching needs.
 */
public final class KvCache implements AutoCloseable {
    final NDManager manager;
    final NDArray[] keys;
    final NDArray[] values;
    int[] pads;
    int columns;

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

    /** Appends this step's keys or values to the layer's cache, keeping the cache arrays in the cache's manager. */
    NDArray append(NDArray[] cache, int layer, NDArray fresh) {
        NDArray old = cache[layer];
        NDArray joined = old == null ? fresh : old.concat(fresh, 2);
        replace(cache, layer, joined);
        return joined;
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
            }
            pads = other.pads.clone();
            columns = other.columns;
        } else {
            int width = Math.max(columns, other.columns);
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, stackRows(keys[l], width - columns, other.keys[l], width - other.columns));
                replace(values, l, stackRows(values[l], width - columns, other.values[l], width - other.columns));
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
            NDIndex index = new NDIndex("{}, :, {}:, :", scratch.create(rows), trim);
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

    /** Both row blocks left-padded by the given columns, one above the other; the intermediates are freed. */
    private NDArray stackRows(NDArray top, int topPad, NDArray bottom, int bottomPad) {
        NDArray paddedTop = padLeft(top, topPad);
        NDArray paddedBottom = padLeft(bottom, bottomPad);
        NDArray stacked = paddedTop.concat(paddedBottom, 0);
        if (paddedTop != top) {
            paddedTop.close();
        }
        if (paddedBottom != bottom) {
            paddedBottom.close();
        }
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
