package dev.cna.core.runtime.quant;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkersTest {

    @Test
    void everyIndexRunsExactlyOnceOverManyShortSteps() throws InterruptedException {
        try (Workers workers = new Workers(3, "test")) {
            for (int step = 0; step < 2_000; step++) {
                int n = 1 + step % 97;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                workers.split(n, 1 + step % 5, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "step " + step + ", index " + i);
                }
                if (step % 500 == 0) {
                    Thread.sleep(5); // long enough for the helpers to park: the next step must wake them
                }
            }
        }
    }

    @Test
    void aFailureInAChunkIsThrownToTheCaller() {
        try (Workers workers = new Workers(2, "test")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> workers.split(64, 1, (lo, hi) -> {
                if (lo <= 37 && 37 < hi) {
                    throw new IllegalStateException("chunk with 37");
                }
            }));
            assertEquals("chunk with 37", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(8);
            workers.split(8, 1, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    hits.incrementAndGet(i);
                }
            });
            assertEquals(8, java.util.stream.IntStream.range(0, 8).map(hits::get).sum(), "still usable after a failure");
        }
    }

    @Test
    void chunksAreWholeGrainsLargestFirst() {
        try (Workers workers = new Workers(2, "test")) {
            java.util.List<int[]> chunks = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            workers.split(1000, 16, (lo, hi) -> chunks.add(new int[] {lo, hi}));
            chunks.sort(java.util.Comparator.comparingInt(c -> c[0]));
            int expect = 0;
            for (int[] c : chunks) {
                assertEquals(expect, c[0], "chunks tile [0, n)");
                assertEquals(0, c[0] % 16, "chunks start on a grain");
                expect = c[1];
            }
            assertEquals(1000, expect);
            // guided: the first chunk is a quarter of the range (2 threads), the last ones one grain
            assertEquals(240, chunks.get(0)[1] - chunks.get(0)[0]);
            assertTrue(chunks.size() < 1000 / 16, "fewer claims than fixed one-grain chunks: " + chunks.size());
        }
    }

    @Test
    void closedTeamRefusesWork() {
        Workers workers = new Workers(2, "test");
        workers.close();
        assertThrows(IllegalStateException.class, () -> workers.split(10, 1, (lo, hi) -> {}));
        assertEquals(2, workers.parallelism());
    }
}
