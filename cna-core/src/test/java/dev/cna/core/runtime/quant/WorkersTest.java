package dev.cna.core.runtime.quant;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
                if (lo == 37) {
                    throw new IllegalStateException("chunk 37");
                }
            }));
            assertEquals("chunk 37", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(8);
            workers.split(8, 1, (lo, hi) -> hits.incrementAndGet(lo));
            assertEquals(8, java.util.stream.IntStream.range(0, 8).map(hits::get).sum(), "still usable after a failure");
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
