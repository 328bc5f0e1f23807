package dev.cna.core.runtime.cpu;

import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.KvCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cpu backend's KV cache reusing the buffers of rows that ended. */
class RowKvCacheTest {
    @TempDir
    Path dir;

    @Test
    void keptBuffersAreReusedByExactLengthUpToTheCap() {
        KvBuffers pool = new KvBuffers(4L * 100);
        float[] a = pool.take(60);
        assertArrayEquals(new float[60], a, "a new buffer is zeros");
        a[0] = 7;
        pool.give(a);
        assertEquals(240, pool.keptBytes());
        assertNotSame(a, pool.take(50), "another length is not matched");
        float[] again = pool.take(60);
        assertSame(a, again, "the same length is");
        assertEquals(0, pool.keptBytes());
        pool.give(again);
        pool.give(new float[60]); // 480 bytes would pass the 400-byte cap
        assertEquals(240, pool.keptBytes());
    }

    /**
     * Rows that leave (retain) or end (close) hand their buffers back; a new cache takes them with the old rows' keys
     * and values still in, and its logits are bit for bit those of a backend that never ran anything.
     */
    @Test
    void aRowOnReusedBuffersComputesWhatItComputesOnNewOnes() {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        int[] prompt = {200, 201, 202, 203, 204};
        int[] next = {9};
        try (WeightSource source = ModelLoader.open(m.hfDir()); CpuBackend used = CpuBackend.load(source, 2);
             CpuBackend fresh = CpuBackend.load(source, 2)) {
            try (KvCache cache = used.newCache(2)) {
                cache.reserve(40);
                used.prefill(cache, List.of(new int[] {7, 8, 9, 10, 11, 12}, new int[] {100, 101}), null);
                used.decode(cache, new int[] {13, 102}, null);
                cache.retain(new int[] {1});
                assertTrue(used.kvBuffers().keptBytes() > 0, "the row that left gave its buffers back");
                used.decode(cache, new int[] {103}, null);
            }
            long kept = used.kvBuffers().keptBytes();
            float[][] expected;
            float[][] actual;
            try (KvCache reference = fresh.newCache(1); KvCache reusing = used.newCache(1)) {
                reference.reserve(40);
                reusing.reserve(40);
                fresh.prefill(reference, List.of(prompt), null);
                used.prefill(reusing, List.of(prompt), null);
                assertTrue(used.kvBuffers().keptBytes() < kept, "the new row took kept buffers");
                expected = fresh.decode(reference, next, null);
                actual = used.decode(reusing, next, null);
            }
            assertArrayEquals(expected[0], actual[0]);
        }
    }
}
