package dev.cna.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The f32 FMA peak of this JVM on this machine: twelve independent chains of {@code FloatVector.fma} on registers
 * (no loads), enough to cover the FMA latency on every x86 core we run on, on each of {@code threads} threads at once.
 * What a kernel's GFLOP/s is measured against: no f32 matrix product can run faster.
 */
final class FmaPeak {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;

    private FmaPeak() {}

    /** GFLOP/s (2 per lane per FMA) summed over the threads: the best of {@code repeats} runs of ~0.3 s after a warm-up. */
    static double gflops(int threads, int repeats) throws Exception {
        long iterations = 100_000_000L;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            run(pool, threads, iterations / 10); // C2 compiles the loop
            double best = 0;
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                run(pool, threads, iterations);
                double seconds = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, threads * iterations * CHAINS * 2.0 * F.length() / seconds / 1e9);
            }
            return best;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void run(ExecutorService pool, int threads, long iterations) throws Exception {
        List<Future<Float>> runs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            float seed = t;
            runs.add(pool.submit((Callable<Float>) () -> chains(iterations, seed)));
        }
        for (Future<Float> f : runs) {
            if (Float.isNaN(f.get())) { // the sum is used, so C2 keeps the loop
                throw new IllegalStateException("NaN from the FMA chains");
            }
        }
    }

    private static float chains(long iterations, float seed) {
        FloatVector x = FloatVector.broadcast(F, 1e-3f * seed), y = FloatVector.broadcast(F, 0.5f);
        FloatVector a0 = x, a1 = x.add(1), a2 = x.add(2), a3 = x.add(3), a4 = x.add(4), a5 = x.add(5);
        FloatVector a6 = x.add(6), a7 = x.add(7), a8 = x.add(8), a9 = x.add(9), a10 = x.add(10), a11 = x.add(11);
        for (long i = 0; i < iterations; i++) { // a = a * 0.5 + x converges: no overflow however long it runs
            a0 = a0.fma(y, x);
            a1 = a1.fma(y, x);
            a2 = a2.fma(y, x);
            a3 = a3.fma(y, x);
            a4 = a4.fma(y, x);
            a5 = a5.fma(y, x);
            a6 = a6.fma(y, x);
            a7 = a7.fma(y, x);
            a8 = a8.fma(y, x);
            a9 = a9.fma(y, x);
            a10 = a10.fma(y, x);
            a11 = a11.fma(y, x);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
