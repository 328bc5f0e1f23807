package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Per-batch generation state: keys and values of every layer, [batch, kvHeads, columns, headDim], and each
 * row's left padding. Rows of different prompt lengths are left-padded so every row's newest token sits in
 * the same column, and one decode step appends one column for the whole batch.
 */
public final class KvCache implements AutoCloseable {
    final NDManager manager;
    final NDArray[] keys;
    final NDArray[] values;
    final int[] pads;
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
        joined.attach(manager);
        if (old != null) {
            old.close();
        }
        cache[layer] = joined;
        return joined;
    }

    @Override
    public void close() {
        manager.close();
    }
}
