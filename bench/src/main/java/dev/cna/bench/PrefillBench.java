package dev.cna.bench;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Peak resident memory and prefill time of one prompt against its length: each point is a fresh JVM (a probe)
 * that loads the default model and prefills N tokens, so its peak RSS (VmHWM) is that prompt's alone. Several
 * builds of cna-core (variants, e.g. {@code before=/path/to/old/classes}) run side by side in one run; a probe whose
 * RSS passes the ceiling is killed and reported as such, so an unbounded build cannot take the machine down.
 *
 * <p>Run with {@code bench/prefill/run}; writes bench/results/prefill.{md,json,png}.
 */
public final class PrefillBench {
    private record Point(String variant, int tokens, double seconds, double peakGiB, String outcome) {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("probe")) {
            probe(Integer.parseInt(args[1]));
            return;
        }
        Map<String, String> opts = Report.options(args);
        int[] lengths = Arrays.stream(opts.getOrDefault("lengths", "128,256,512,1024,2048,4096,8192").split(","))
                .mapToInt(Integer::parseInt).toArray();
        double ceilingGiB = Double.parseDouble(opts.getOrDefault("ceiling-gib", "16"));
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        // variant name -> classes that go before this build's classpath ("" = this build)
        Map<String, String> variants = new LinkedHashMap<>();
        for (String v : opts.getOrDefault("variants", "after=").split(";")) {
            int eq = v.indexOf('=');
            variants.put(v.substring(0, eq), v.substring(eq + 1));
        }
        List<Point> points = new ArrayList<>();
        for (int n : lengths) {
            for (var v : variants.entrySet()) {
                boolean gaveUp = points.stream().anyMatch(p -> p.variant.equals(v.getKey()) && !p.outcome.equals("ok"));
                Point p = gaveUp ? new Point(v.getKey(), n, Double.NaN, Double.NaN, "not run (a shorter prompt already failed)")
                        : runProbe(v.getKey(), v.getValue(), n, ceilingGiB);
                Report.progress("%s %d tokens: %s", p.variant, p.tokens, p);
                points.add(p);
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("command", "bench/prefill/run " + String.join(" ", args));
        json.put("ceilingGiB", ceilingGiB);
        json.put("points", points);
        Report.writeJson(out.resolve("prefill.json"), json);
        Files.writeString(out.resolve("prefill.md"), markdown(json, points, variants.keySet()));
        plot(points, variants.keySet(), out.resolve("prefill.png"));
    }

    /** One point in a fresh JVM ({@link Report#probe}), killed above the ceiling. */
    private static Point runProbe(String variant, String classesFirst, int tokens, double ceilingGiB) throws Exception {
        Report.ProbeRun run = Report.probe(PrefillBench.class, classesFirst, (long) (ceilingGiB * (1L << 30)), "probe",
                Integer.toString(tokens));
        double peakGiB = run.peakRssBytes() / (double) (1L << 30);
        if (run.killed()) {
            return new Point(variant, tokens, Double.NaN, peakGiB, "killed above " + ceilingGiB + " GiB");
        }
        if (run.exitCode() != 0 || run.lastLine() == null) {
            return new Point(variant, tokens, Double.NaN, peakGiB, "failed (exit " + run.exitCode() + ")");
        }
        String[] f = run.lastLine().split(" ");  // "seconds peakBytes"
        return new Point(variant, tokens, Double.parseDouble(f[0]), Long.parseLong(f[1]) / (double) (1L << 30), "ok");
    }

    /** The child: load the model, prefill one prompt of n tokens, print "seconds peakRssBytes". */
    private static void probe(int n) throws Exception {
        try (WeightSource source = ModelLoader.open(ModelStore.defaultModel());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            int[] prompt = new int[n];
            for (int i = 0; i < n; i++) {
                prompt[i] = 100 + (i * 7919) % 20_000; // ordinary vocabulary ids, no special tokens
            }
            long start = System.nanoTime();
            try (KvCache cache = model.newCache(1)) {
                model.prefill(cache, List.of(prompt), null);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.println(seconds + " " + Report.statusBytes("self", "VmHWM:"));
        }
    }

    private static String markdown(Map<String, Object> json, List<Point> points, Iterable<String> variants) {
        @SuppressWarnings("unchecked")
        String machine = Report.describe((Map<String, Object>) json.get("machine"));
        StringBuilder md = new StringBuilder("# Prefill: peak memory and time against prompt length\n\n");
        md.append("One prompt of N tokens prefilled in a fresh JVM (default model, f32 weights, `-Xmx2g`), peak RSS (VmHWM) of that "
                + "process; a probe is killed once its RSS passes the ceiling. Machine: ").append(machine).append(".\n\n");
        md.append("Command: `").append(json.get("command")).append("`\n\n");
        md.append("| variant | prompt tokens | prefill s | tokens/s | peak RSS GiB | outcome |\n|---|---:|---:|---:|---:|---|\n");
        for (String v : variants) {
            for (Point p : points) {
                if (p.variant.equals(v)) {
                    md.append(String.format("| %s | %d | %.2f | %.0f | %.2f | %s |%n", p.variant, p.tokens, p.seconds,
                            p.tokens / p.seconds, p.peakGiB, p.outcome));
                }
            }
        }
        md.append("\n![prefill](prefill.png)\n");
        return md.toString();
    }

    private static void plot(List<Point> points, Iterable<String> variants, Path file) throws java.io.IOException {
        XYChart memory = new XYChartBuilder().width(720).height(420).title("Peak RSS of one prefill")
                .xAxisTitle("prompt tokens").yAxisTitle("GiB").build();
        XYChart time = new XYChartBuilder().width(720).height(420).title("Prefill time")
                .xAxisTitle("prompt tokens").yAxisTitle("seconds").build();
        for (String v : variants) {
            List<Point> ok = points.stream().filter(p -> p.variant.equals(v) && !Double.isNaN(p.peakGiB)).toList();
            if (ok.isEmpty()) {
                continue;
            }
            memory.addSeries(v, ok.stream().map(p -> (double) p.tokens).toList(), ok.stream().map(p -> p.peakGiB).toList());
            List<Point> timed = ok.stream().filter(p -> !Double.isNaN(p.seconds)).toList();
            if (!timed.isEmpty()) {
                time.addSeries(v, timed.stream().map(p -> (double) p.tokens).toList(), timed.stream().map(p -> p.seconds).toList());
            }
        }
        BitmapEncoder.saveBitmap(List.of(memory, time), 1, 2, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
