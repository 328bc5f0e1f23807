package dev.cna.core.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/** Runs body(i) for i in [0, n) on a pool's threads, split in halves down to a grain; small ranges run inline. */
final class ParallelFor {
    private ParallelFor() {}

    static void run(ForkJoinPool pool, int n, int grain, IntConsumer body) {
        if (n <= grain || pool.getParallelism() == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        pool.invoke(new Range(0, n, grain, body));
    }

    private static final class Range extends RecursiveAction {
        private final int lo;
        private final int hi;
        private final int grain;
        private final IntConsumer body;

        Range(int lo, int hi, int grain, IntConsumer body) {
            this.lo = lo;
            this.hi = hi;
            this.grain = grain;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (hi - lo <= grain) {
                for (int i = lo; i < hi; i++) {
                    body.accept(i);
                }
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(lo, mid, grain, body), new Range(mid, hi, grain, body));
        }
    }
}
