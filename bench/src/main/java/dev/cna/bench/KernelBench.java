package dev.cna.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.model.gguf.Dequantizer;
import dev.cna.core.model.gguf.GgmlType;
import dev.cna.core.runtime.quant.QuantizedMatrix;
import dev.cna.core.runtime.quant.RandomBlocks;
import dev.cna.core.runtime.quant.Workers;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The quantized CPU kernels ({@link QuantizedMatrix}) on their own: GB/s of weights read and GFLOP/s of matVec
 * (batch 1) and batched matMul, per GGUF type, for a 576x1536 and a 1536x8960 matrix (SmolLM2-135M's and
 * Qwen2.5-1.5B's down projections, rows x cols = outputs x inputs), on 1 and 2 threads. The weights are random
 * valid blocks written to a temporary file and memory-mapped, as the engine maps a GGUF file. As the side-by-side
 * reference, the f32 path: the same matrix dequantized to a float[] and multiplied in plain Java, with the Vector
 * API ("f32[] vector") and with a scalar loop ("f32[] scalar"). The largest batch is also given as a share of
 * the f32 FMA peak measured in the same run ({@link FmaPeak}): what no f32 product can exceed.
 *
 * <p>Every figure is the median over repeats of the time of one call, after a warm-up. With {@code --also-java
 * PATH} the same measurement runs again under another JDK (a child JVM, same classes and flags) and the report
 * puts the two side by side.
 *
 * <p>Run with {@code bench/kernels/run}; writes bench/results/kernels.{md,json,png}.
 */
public final class KernelBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String F32_VECTOR = "f32[] vector";
    private static final String F32_SCALAR = "f32[] scalar";

    record Result(String kernel, String shape, int batch, int threads, double bytes, double microsPerCall,
                  double gbPerS, double gflopPerS) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Report.options(args);
        if (opts.containsKey("measure-only")) {
            Map<String, Object> run = measure(opts);
            Report.writeJson(Path.of(opts.get("measure-only")), run);
            return;
        }
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        Map<String, Object> main = measure(opts);
        Map<String, Object> other = null;
        if (opts.containsKey("also-java")) {
            other = runUnder(opts.get("also-java"), args);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", "bench/kernels/run " + String.join(" ", args));
        json.put("runs", other == null ? List.of(main) : List.of(main, other));
        Files.createDirectories(out);
        Report.writeJson(out.resolve("kernels.json"), json);
        Files.writeString(out.resolve("kernels.md"), markdown(main, other), StandardCharsets.UTF_8);
        plot(main, other, out.resolve("kernels.png"));
        Report.progress("wrote %s/kernels.{md,json,png}", out);
    }

    // ---- measuring ----

    private static Map<String, Object> measure(Map<String, String> opts) throws Exception {
        List<String> kernels = Arrays.asList(opts.getOrDefault("types",
                "F32,F16,BF16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q4_K,Q5_K,Q6_K," + F32_VECTOR + "," + F32_SCALAR).split(","));
        List<int[]> shapes = Arrays.stream(opts.getOrDefault("shapes", "576x1536,1536x8960").split(","))
                .map(s -> Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray()).toList();
        int[] batches = ints(opts.getOrDefault("batches", "1,4,16"));
        int[] threads = ints(opts.getOrDefault("threads", "1,2"));
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "5"));
        double repeatMs = Double.parseDouble(opts.getOrDefault("repeat-ms", "100"));
        // the first measurement of a kernel also waits for C2 to compile it: a longer warm-up
        double firstWarmupMs = Double.parseDouble(opts.getOrDefault("first-warmup-ms", "1500"));

        Map<String, Object> machine = Report.machine();
        machine.put("kernels", QuantizedMatrix.backend());
        machine.put("jvmArgs", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        machine.put("loadAverageAtStart", loadAverage());
        Report.progress("%s; kernels: %s", Report.describe(machine), machine.get("kernels"));
        Map<String, Double> peaks = new LinkedHashMap<>();
        for (int t : threads) {
            peaks.put(Integer.toString(t), FmaPeak.gflops(t, 3));
            Report.progress("f32 FMA peak, %d thread(s): %.1f GFLOP/s", t, peaks.get(Integer.toString(t)));
        }

        List<Result> results = new ArrayList<>();
        Random random = new Random(2026);
        Map<Integer, Workers> pools = new LinkedHashMap<>();
        for (int t : threads) {
            if (t > 1) {
                pools.put(t, new Workers(t, "bench"));
            }
        }
        Path dir = Files.createTempDirectory("kernel-bench");
        try {
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1];
                String shapeName = rows + "x" + cols;
                float[][] xs = new float[batches[batches.length - 1]][cols];
                for (float[] x : xs) {
                    for (int k = 0; k < cols; k++) {
                        x[k] = (float) random.nextGaussian();
                    }
                }
                for (String kernel : kernels) {
                    Op op = prepare(kernel, rows, cols, random, dir);
                    boolean first = true;
                    for (int batch : batches) {
                        float[][] in = Arrays.copyOf(xs, batch);
                        float[][] outs = new float[batch][rows];
                        for (int t : threads) {
                            Workers pool = pools.get(t);
                            Runnable call = () -> op.run(in, outs, pool);
                            double ns = time(call, repeats, repeatMs, first ? firstWarmupMs : 3 * repeatMs);
                            first = false;
                            double flops = 2.0 * rows * cols * batch;
                            Result r = new Result(kernel, shapeName, batch, t, op.bytes(), ns / 1e3,
                                    op.bytes() / ns, flops / ns);
                            results.add(r);
                            Report.progress("%-13s %-10s batch %2d, %d thread(s): %9.1f us  %6.2f GB/s  %6.2f GFLOP/s",
                                    kernel, shapeName, batch, t, r.microsPerCall, r.gbPerS, r.gflopPerS);
                        }
                    }
                    op.close();
                }
            }
        } finally {
            pools.values().forEach(Workers::close);
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        machine.put("loadAverageAtEnd", loadAverage());
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("machine", machine);
        run.put("fmaPeakGflops", peaks);
        run.put("repeats", repeats);
        run.put("repeatMs", repeatMs);
        run.put("results", results);
        return run;
    }

    /** Median over repeats of ns per call; each repeat runs as many calls as fit in repeatMs, after a warm-up. */
    private static double time(Runnable call, int repeats, double repeatMs, double warmupMs) {
        long warmUntil = System.nanoTime() + (long) (warmupMs * 1e6);
        int calls = 0;
        long t0 = System.nanoTime();
        while (System.nanoTime() < warmUntil || calls < 3) {
            call.run();
            calls++;
        }
        double nsPerCall = (System.nanoTime() - t0) / (double) calls;
        int perRepeat = (int) Math.max(1, repeatMs * 1e6 / nsPerCall);
        double[] samples = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < perRepeat; i++) {
                call.run();
            }
            samples[r] = (System.nanoTime() - start) / (double) perRepeat;
        }
        return Report.median(samples);
    }

    /** One kernel on one matrix: how to run a batch, and the bytes of weights it reads. */
    private interface Op extends AutoCloseable {
        void run(float[][] xs, float[][] outs, Workers pool);

        double bytes();

        @Override
        default void close() {}
    }

    private static Op prepare(String kernel, int rows, int cols, Random random, Path dir) throws IOException {
        if (kernel.equals(F32_VECTOR) || kernel.equals(F32_SCALAR)) {
            // the reference: the matrix as plain f32 values (what dequantize-at-load gives the engine today)
            byte[] blocks = RandomBlocks.of(GgmlType.Q4_1, (long) rows * cols, random);
            float[] w = new float[rows * cols];
            Dequantizer.dequantize(GgmlType.Q4_1, ByteBuffer.wrap(blocks).order(ByteOrder.LITTLE_ENDIAN), w);
            boolean vector = kernel.equals(F32_VECTOR);
            return new Op() {
                @Override
                public void run(float[][] xs, float[][] outs, Workers pool) {
                    if (pool == null) {
                        f32Rows(w, cols, xs, outs, 0, rows, vector);
                    } else {
                        pool.split(rows, -Math.floorDiv(-rows, 4 * pool.parallelism()),
                                (lo, hi) -> f32Rows(w, cols, xs, outs, lo, hi, vector));
                    }
                }

                @Override
                public double bytes() {
                    return 4.0 * rows * cols;
                }
            };
        }
        GgmlType type = GgmlType.valueOf(kernel);
        byte[] blocks = RandomBlocks.of(type, (long) rows * cols, random);
        Path file = dir.resolve(kernel + "-" + rows + "x" + cols + ".bin");
        Files.write(file, blocks);
        MappedByteBuffer mapped;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, blocks.length);
        }
        mapped.load();
        QuantizedMatrix m = QuantizedMatrix.of(type, rows, cols, mapped);
        return new Op() {
            @Override
            public void run(float[][] xs, float[][] outs, Workers pool) {
                if (xs.length == 1) {
                    if (pool == null) {
                        m.matVec(xs[0], outs[0]);
                    } else {
                        m.matVecParallel(xs[0], outs[0], pool);
                    }
                } else if (pool == null) {
                    m.matMul(xs, outs);
                } else {
                    m.matMulParallel(xs, outs, pool);
                }
            }

            @Override
            public double bytes() {
                return m.bytes();
            }

            @Override
            public void close() {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // the temporary directory goes at the end
                }
            }
        };
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** The f32 reference: rows [lo, hi) of a row-major float[] matrix against every activation row. */
    private static void f32Rows(float[] w, int cols, float[][] xs, float[][] outs, int lo, int hi, boolean vector) {
        for (int r = lo; r < hi; r++) {
            int base = r * cols;
            for (int b = 0; b < xs.length; b++) {
                float[] x = xs[b];
                float sum;
                if (vector) {
                    FloatVector a0 = FloatVector.zero(F), a1 = a0;
                    int k = 0;
                    for (int end = cols - 2 * F.length(); k <= end; k += 2 * F.length()) {
                        a0 = FloatVector.fromArray(F, w, base + k).fma(FloatVector.fromArray(F, x, k), a0);
                        a1 = FloatVector.fromArray(F, w, base + k + F.length()).fma(FloatVector.fromArray(F, x, k + F.length()), a1);
                    }
                    sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
                    for (; k < cols; k++) {
                        sum += w[base + k] * x[k];
                    }
                } else {
                    sum = 0;
                    for (int k = 0; k < cols; k++) {
                        sum += w[base + k] * x[k];
                    }
                }
                outs[b][r] = sum;
            }
        }
    }

    /** The same measurement under another JDK: a child JVM with this classpath and these JVM flags. */
    private static Map<String, Object> runUnder(String java, String[] args) throws IOException, InterruptedException {
        Path json = Files.createTempFile("kernels-other-jdk", ".json");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelBench.class.getName()));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].equals("--also-java") && !args[i].equals("--out")) {
                cmd.add(args[i]);
                cmd.add(args[i + 1]);
            }
        }
        cmd.addAll(List.of("--measure-only", json.toString()));
        Report.progress("running under %s ...", java);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed with exit code " + p.exitValue());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> run = JSON.readValue(json.toFile(), Map.class);
        Files.deleteIfExists(json);
        return run;
    }

    // ---- the report ----

    private static String markdown(Map<String, Object> main, Map<String, Object> other) {
        List<Result> results = results(main);
        StringBuilder md = new StringBuilder("# Quantized CPU kernels\n\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> machine = (Map<String, Object>) main.get("machine");
        md.append("Produced by `bench/kernels/run` (").append(Report.describe(machine)).append("; kernels: ")
                .append(machine.get("kernels")).append("; JVM flags `").append(machine.get("jvmArgs")).append("`).\n\n");
        md.append(String.format("`dev.cna.core.runtime.quant.QuantizedMatrix` on random valid GGUF blocks, memory-mapped "
                + "from a file. rows x cols = outputs x inputs; batch 1 is `matVec`, batch 4 and 16 are `matMul` (each "
                + "weight row decoded once for the whole batch); 2 threads split the rows over a team of spinning threads (`Workers`). GB/s = "
                + "bytes of weights per call / time; GFLOP/s = 2 x rows x cols x batch / time. Median of %s repeats of "
                + "about %s ms after a warm-up. `%s` and `%s` are the f32 reference: the matrix dequantized to a "
                + "float[] (4 bytes a weight), multiplied with the Vector API or with a scalar loop.%n%n"
                + "The machine has 2 cores shared with other work (1-minute load average %s at the start, %s at the end): "
                + "figures move by 10-30%% between runs, 2-thread ones most.%n",
                main.get("repeats"), main.get("repeatMs"), F32_VECTOR, F32_SCALAR,
                machine.get("loadAverageAtStart"), machine.get("loadAverageAtEnd")));
        List<String> shapes = results.stream().map(Result::shape).distinct().toList();
        List<Integer> batches = results.stream().map(Result::batch).distinct().toList();
        List<Integer> threads = results.stream().map(Result::threads).distinct().toList();
        for (String shape : shapes) {
            md.append("\n## ").append(shape).append("\n\n| kernel | MB |");
            for (int b : batches) {
                for (int t : threads) {
                    md.append(b == 1 ? String.format(" batch 1, %dT: GB/s (GFLOP/s) |", t)
                            : String.format(" batch %d, %dT: GFLOP/s (GB/s) |", b, t));
                }
            }
            md.append("\n|---|---|").append("---|".repeat(batches.size() * threads.size())).append('\n');
            for (String kernel : results.stream().map(Result::kernel).distinct().toList()) {
                Result first = find(results, kernel, shape, batches.get(0), threads.get(0));
                if (first == null) {
                    continue;
                }
                md.append("| ").append(kernel).append(" | ").append(String.format("%.1f", first.bytes / 1e6)).append(" |");
                for (int b : batches) {
                    for (int t : threads) {
                        Result r = find(results, kernel, shape, b, t);
                        md.append(r == null ? " - |" : b == 1 ? String.format(" %.1f (%.1f) |", r.gbPerS, r.gflopPerS)
                                : String.format(" %.1f (%.1f) |", r.gflopPerS, r.gbPerS));
                    }
                }
                md.append('\n');
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> peaks = (Map<String, Object>) main.get("fmaPeakGflops");
        int largest = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        if (peaks != null && largest > 1) {
            md.append("\n## Batch ").append(largest).append(" as a share of the f32 FMA peak\n\n")
                    .append("The peak is `FmaPeak`: twelve independent FloatVector FMA chains on registers, no loads (");
            md.append(String.join(", ", peaks.entrySet().stream().map(e -> String.format("%.1f GFLOP/s on %s thread(s)",
                    ((Number) e.getValue()).doubleValue(), e.getKey())).toList()));
            md.append("). A kernel's share is its GFLOP/s over the peak on as many threads.\n\n| kernel |");
            for (String shape : shapes) {
                for (int t : threads) {
                    md.append(String.format(" %s, %dT |", shape, t));
                }
            }
            md.append("\n|---|").append("---|".repeat(shapes.size() * threads.size())).append('\n');
            for (String kernel : results.stream().map(Result::kernel).distinct().toList()) {
                md.append("| ").append(kernel).append(" |");
                for (String shape : shapes) {
                    for (int t : threads) {
                        Result r = find(results, kernel, shape, largest, t);
                        Object peak = peaks.get(Integer.toString(t));
                        md.append(r == null || peak == null ? " - |"
                                : String.format(" %.0f%% |", 100 * r.gflopPerS / ((Number) peak).doubleValue()));
                    }
                }
                md.append('\n');
            }
        }
        md.append("\n## Decode-step view: batch-1 matVec time and speed-up over the f32 reference\n\n"
                + "What one token costs per matrix with 1 thread; `vs f32[]` = time of `" + F32_VECTOR + "` / time of the "
                + "kernel (above 1: faster than multiplying the dequantized f32 matrix).\n\n| kernel |");
        for (String shape : shapes) {
            md.append(' ').append(shape).append(" us | vs f32[] |");
        }
        md.append("\n|---|").append("---|---|".repeat(shapes.size())).append('\n');
        for (String kernel : results.stream().map(Result::kernel).distinct().toList()) {
            md.append("| ").append(kernel).append(" |");
            for (String shape : shapes) {
                Result r = find(results, kernel, shape, 1, 1);
                Result ref = find(results, F32_VECTOR, shape, 1, 1);
                md.append(r == null ? " - | - |" : String.format(" %.1f | %s |", r.microsPerCall,
                        ref == null ? "-" : String.format("%.2fx", ref.microsPerCall / r.microsPerCall)));
            }
            md.append('\n');
        }
        if (other != null) {
            List<Result> theirs = results(other);
            @SuppressWarnings("unchecked")
            Map<String, Object> otherMachine = (Map<String, Object>) other.get("machine");
            String a = String.valueOf(machine.get("java"));
            String b = String.valueOf(otherMachine.get("java"));
            md.append("\n## Two JDKs, same bench\n\nThe same classes (compiled for Java 17) and flags under ").append(a)
                    .append(" and ").append(b).append(" (kernels there: ").append(otherMachine.get("kernels"))
                    .append("). Batch 1 in GB/s, batch 16 in GFLOP/s, 1 thread; ratio = second JDK / first.\n\n| kernel |");
            String versions = a.replaceAll(".* ", "") + " / " + b.replaceAll(".* ", "");
            for (String shape : shapes) {
                md.append(String.format(" %s b1 GB/s, %s | ratio | %s b16 GFLOP/s, %s | ratio |", shape, versions, shape, versions));
            }
            md.append("\n|---|").append("---|---|---|---|".repeat(shapes.size())).append('\n');
            for (String kernel : results.stream().map(Result::kernel).distinct().toList()) {
                md.append("| ").append(kernel).append(" |");
                for (String shape : shapes) {
                    Result r1 = find(results, kernel, shape, 1, 1), o1 = find(theirs, kernel, shape, 1, 1);
                    Result r16 = find(results, kernel, shape, 16, 1), o16 = find(theirs, kernel, shape, 16, 1);
                    md.append(r1 == null || o1 == null ? " - | - |" : String.format(" %.1f / %.1f | %.2f |", r1.gbPerS, o1.gbPerS, o1.gbPerS / r1.gbPerS));
                    md.append(r16 == null || o16 == null ? " - | - |" : String.format(" %.1f / %.1f | %.2f |", r16.gflopPerS, o16.gflopPerS, o16.gflopPerS / r16.gflopPerS));
                }
                md.append('\n');
            }
            md.append("\nThe second JDK's machine line: ").append(Report.describe(otherMachine)).append(".\n");
        }
        md.append("\n![kernels](kernels.png)\n");
        return md.toString();
    }

    private static void plot(Map<String, Object> main, Map<String, Object> other, Path file) throws IOException {
        List<Result> results = results(main);
        List<String> kernels = results.stream().map(Result::kernel).distinct().toList();
        List<String> shapes = results.stream().map(Result::shape).distinct().toList();
        String shape = shapes.get(shapes.size() - 1);
        CategoryChart gbs = new CategoryChartBuilder().width(900).height(480)
                .title("batch-1 matVec, 1 thread: GB/s of weights").xAxisTitle("kernel").yAxisTitle("GB/s").build();
        CategoryChart flops = new CategoryChartBuilder().width(900).height(480)
                .title(shape + ", 1 thread: GFLOP/s by batch").xAxisTitle("kernel").yAxisTitle("GFLOP/s").build();
        List<Map<String, Object>> runs = other == null ? List.of(main) : List.of(main, other);
        for (Map<String, Object> run : runs) {
            List<Result> rs = results(run);
            @SuppressWarnings("unchecked")
            String jdk = "JDK " + String.valueOf(((Map<String, Object>) run.get("machine")).get("java")).replaceAll(".* ", "");
            for (String s : shapes) {
                gbs.addSeries(s + " " + jdk, kernels, kernels.stream().map(k -> {
                    Result r = find(rs, k, s, 1, 1);
                    return r == null ? 0.0 : r.gbPerS;
                }).toList());
            }
        }
        for (int b : results.stream().map(Result::batch).distinct().toList()) {
            flops.addSeries("batch " + b, kernels, kernels.stream().map(k -> {
                Result r = find(results, k, shape, b, 1);
                return r == null ? 0.0 : r.gflopPerS;
            }).toList());
        }
        for (CategoryChart c : List.of(gbs, flops)) {
            c.getStyler().setXAxisLabelRotation(45);
        }
        BitmapEncoder.saveBitmap(new ArrayList<>(List.of(gbs, flops)), 2, 1, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    @SuppressWarnings("unchecked")
    private static List<Result> results(Map<String, Object> run) {
        Object raw = run.get("results");
        List<Result> out = new ArrayList<>();
        for (Object o : (List<Object>) raw) {
            if (o instanceof Result r) {
                out.add(r);
            } else {
                JsonNode n = JSON.valueToTree(o);
                out.add(new Result(n.get("kernel").asText(), n.get("shape").asText(), n.get("batch").asInt(),
                        n.get("threads").asInt(), n.get("bytes").asDouble(), n.get("microsPerCall").asDouble(),
                        n.get("gbPerS").asDouble(), n.get("gflopPerS").asDouble()));
            }
        }
        return out;
    }

    private static Result find(List<Result> results, String kernel, String shape, int batch, int threads) {
        return results.stream().filter(r -> r.kernel.equals(kernel) && r.shape.equals(shape) && r.batch == batch
                && r.threads == threads).findFirst().orElse(null);
    }

    /** The 1-minute load average (/proc/loadavg): how busy the shared machine was. */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
