package dev.cna.core.runtime.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.cna.core.runtime.KvCache;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The torch backend's KV cache: per layer, keys and values as one left-padded tensor [batch, kvHeads, columns,
 * headDim]. Each layer's tensor is a buffer with room for more columns ({@link #reserve}), written in place: a
 * prefill allocates its whole width once and a decode step copies nothing, where concatenating a new, larger cache
 * at every chunk and token both copied the cache and left the allocator holding the freed ones (resident memory up
 * to 2.3x the cache itself, measured). Without a reservation a full buffer grows by half.
 */
final class TorchKvCache extends KvCache {
    final NDManager manager;
    final NDArray[] keys;
    final NDArray[] values;

    TorchKvCache(NDManager parent, int layers, int batch) {
        super(batch);
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /**
     * Writes this step's keys or values [batch, kvHeads, width, headDim] after the cache's columns, growing the
     * layer's buffer if it is full; returns a view of the columns filled so far, this step's included.
     */
    NDArray append(NDArray[] cache, int layer, NDArray fresh) {
        int width = (int) fresh.getShape().get(2);
        int columns = columns();
        int needed = columns + width;
        NDArray buffer = cache[layer];
        if (buffer == null || buffer.getShape().get(2) < needed) {
            int capacity = Math.max(needed, Math.max(reserved(), buffer == null ? 0 : (int) (buffer.getShape().get(2) * 3 / 2)));
            Shape s = fresh.getShape();
            NDArray grown = manager.zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), fresh.getDataType());
            if (buffer != null && columns > 0) {
                try (NDArray old = filled(buffer, columns)) {
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

    /** The first columns of a layer's buffer (a view). */
    private static NDArray filled(NDArray buffer, int columns) {
        return buffer.get(new NDIndex(":, :, :{}, :", columns));
    }

    @Override
    protected void moveRows(KvCache from, int padThis, int padOther) {
        TorchKvCache other = (TorchKvCache) from;
        if (other.keys.length != keys.length) {
            throw new IllegalArgumentException("caches of different models");
        }
        for (int l = 0; l < keys.length; l++) {
            if (batchSize() == 0) {
                replace(keys, l, other.keys[l]);
                replace(values, l, other.values[l]);
                other.keys[l] = null; // now this cache's buffers: closing the other cache must not free them
                other.values[l] = null;
            } else {
                replace(keys, l, stackRows(keys[l], padThis, other.keys[l], other.columns(), padOther));
                replace(values, l, stackRows(values[l], padThis, other.values[l], other.columns(), padOther));
            }
        }
    }

    @Override
    protected void keepRows(int[] rows, int trim) {
        if (rows.length == 0) {
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, null);
                replace(values, l, null);
            }
            return;
        }
        try (NDManager scratch = manager.newSubManager()) {
            NDIndex index = new NDIndex("{}, :, {}:{}, :", scratch.create(rows), trim, columns());
            for (int l = 0; l < keys.length; l++) {
                replace(keys, l, keys[l].get(index));
                replace(values, l, values[l].get(index));
            }
        }
    }

    /**
     * The filled columns of both buffers (this cache's and the other's), each left-padded by the given columns,
     * one row block above the other; every intermediate, views of the buffers included, is freed.
     */
    private NDArray stackRows(NDArray top, int topPad, NDArray bottom, int bottomColumns, int bottomPad) {
        NDArray topView = filled(top, columns());
        NDArray bottomView = filled(bottom, bottomColumns);
        NDArray paddedTop = padLeft(topView, topPad);
        NDArray paddedBottom = padLeft(bottomView, bottomPad);
        NDArray stacked = paddedTop.concat(paddedBottom, 0);
        // padLeft returns its input when there is nothing to pad: close each array once
        Set<NDArray> scratch = Collections.newSetFromMap(new IdentityHashMap<>());
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
