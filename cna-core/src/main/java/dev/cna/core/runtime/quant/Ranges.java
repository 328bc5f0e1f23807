package dev.cna.core.runtime.quant;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits an index range over a ForkJoinPool's threads: the rows of a product, the tasks of a forward pass. */
public final class Ranges {
    private Ranges() {}

    /** Work on indices [lo, hi). */
    @FunctionalInterface
    public interface Body {
        void run(int lo, int hi);
    }

    /**
     * Runs body over [0, n), split in halves down to {@code grain} indices, the leaves on the pool's threads; inline
     * on the caller when the range is one grain or the pool has one thread.
     */
    public static void split(ForkJoinPool pool, int n, int grain, Body body) {
        if (n <= grain || pool.getParallelism() == 1) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Task(0, n, Math.max(1, grain), body));
    }

    private static final class Task extends RecursiveAction {
        private final int lo;
        private final int hi;
        private final int grain;
        private final Body body;

        Task(int lo, int hi, int grain, Body body) {
            this.lo = lo;
            this.hi = hi;
            this.grain = grain;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (hi - lo <= grain) {
                body.run(lo, hi);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Task(lo, mid, grain, body), new Task(mid, hi, grain, body));
        }
    }
}
