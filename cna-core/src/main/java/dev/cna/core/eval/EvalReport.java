package dev.cna.core.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Report of a steering sweep (docs/method.md section 7): a Markdown file (table and notes), a PNG plot (behavior
 * rate, quality and, when measured, next-token KL against strength, one series per method) and a JSON
 * file with the same figures.
 *
 * <pre>{@code
 * EvalReport.Written files = new EvalReport("refusal", rows)
 *         .model("SmolLM2-135M-Instruct Q4_1")
 *         .promptCounts(42, 42, 32)
 *         .note("circuit: top 200 neurons from datasets/refusal/discovery.*")
 *         .write(Path.of("bench/results"), "refusal-sweep");
 * }</pre>
 *
 * <p>Besides the notes given by the caller, the report derives notes from the figures: the unsteered
 * baseline, the largest effect each method reached and the quality it cost, whether quality stayed above
 * the published 0.97, how far the negative prompts moved, and the sampling resolution of the rates. They
 * state what the numbers show, including when they show little.
 */
public final class EvalReport {

    /** The files a report was written to. */
    public record Written(Path markdown, Path png, Path json) {
    }

    /** Size of one plot panel in pixels; the PNG holds 2 or 3 panels side by side. */
    public static final int PANEL_WIDTH = 520;
    public static final int PANEL_HEIGHT = 460;

    /** Quality level the paper reports CNA keeping at every strength. */
    public static final double PUBLISHED_QUALITY = 0.97;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String behavior;
    private final List<EvalRow> rows;
    private final List<String> notes = new ArrayList<>();
    private String title;
    private String model;
    private int positivePrompts;
    private int negativePrompts;
    private int neutralPrompts;

    /**
     * @param behavior name of the behavior measured, e.g. "refusal"
     * @param rows     sweep points in any order; sorted by method, then strength
     */
    public EvalReport(String behavior, List<EvalRow> rows) {
        this.behavior = Objects.requireNonNull(behavior, "behavior");
        Objects.requireNonNull(rows, "rows");
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no rows to report");
        }
        this.rows = rows.stream()
                .sorted(Comparator.comparing(EvalRow::method).thenComparingDouble(EvalRow::strength))
                .toList();
        this.title = "Steering sweep: " + behavior;
    }

    public EvalReport title(String title) {
        this.title = Objects.requireNonNull(title, "title");
        return this;
    }

    public EvalReport model(String model) {
        this.model = model;
        return this;
    }

    /** Prompt counts behind the rates (held-out positive, held-out negative, neutral); 0 = unknown. */
    public EvalReport promptCounts(int positive, int negative, int neutral) {
        if (positive < 0 || negative < 0 || neutral < 0) {
            throw new IllegalArgumentException("negative prompt count");
        }
        this.positivePrompts = positive;
        this.negativePrompts = negative;
        this.neutralPrompts = neutral;
        return this;
    }

    /** Adds a note of the caller (setup, caveats); printed before the derived notes. */
    public EvalReport note(String note) {
        notes.add(Objects.requireNonNull(note, "note"));
        return this;
    }

    /** Writes {@code <baseName>.md}, {@code <baseName>.png} and {@code <baseName>.json} into {@code dir}. */
    public Written write(Path dir, String baseName) {
        try {
            Files.createDirectories(dir);
            Path md = dir.resolve(baseName + ".md");
            Path png = dir.resolve(baseName + ".png");
            Path json = dir.resolve(baseName + ".json");
            writePlot(png);
            Files.writeString(md, toMarkdown(png.getFileName().toString()), StandardCharsets.UTF_8);
            Files.writeString(json, toJson(), StandardCharsets.UTF_8);
            return new Written(md, png, json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write report to " + dir, e);
        }
    }

    // ------------------------------------------------------------------ Markdown

    /** The Markdown text; {@code plotFile} (may be null) is linked as an image. */
    public String toMarkdown(String plotFile) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(title).append("\n\n");
        sb.append("- behavior: ").append(behavior).append('\n');
        if (model != null) {
            sb.append("- model: ").append(model).append('\n');
        }
        if (positivePrompts > 0 || negativePrompts > 0 || neutralPrompts > 0) {
            sb.append("- prompts: ").append(positivePrompts).append(" positive, ").append(negativePrompts)
                    .append(" negative (held out), ").append(neutralPrompts).append(" neutral\n");
        }
        sb.append("- strength: cna = multiplier m on the circuit neurons (1 = unsteered, 0 = ablated); ")
                .append("caa = alpha on the mean-difference vector (0 = unsteered)\n\n");
        sb.append("| method | strength | behavior rate (positive) | behavior rate (negative) | quality | next-token KL (nats) | capability |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (EvalRow r : rows) {
            sb.append("| ").append(r.method()).append(r.isIdentity() ? " (unsteered)" : "")
                    .append(" | ").append(fmt(r.strength()))
                    .append(" | ").append(pct(r.positiveRate()))
                    .append(" | ").append(pct(r.negativeRate()))
                    .append(" | ").append(num(r.meanQuality(), 3))
                    .append(" | ").append(num(r.meanKl(), 4))
                    .append(" | ").append(pct(r.capability()))
                    .append(" |\n");
        }
        sb.append('\n');
        if (plotFile != null) {
            sb.append("![behavior rate and quality vs strength](").append(plotFile).append(")\n\n");
        }
        sb.append("## Notes\n\n");
        for (String n : notes) {
            sb.append("- ").append(n).append('\n');
        }
        for (String n : derivedNotes()) {
            sb.append("- ").append(n).append('\n');
        }
        return sb.toString();
    }

    /** Notes computed from the rows: what the figures show and how far they can be trusted. */
    public List<String> derivedNotes() {
        List<String> out = new ArrayList<>();
        Map<String, List<EvalRow>> byMethod = byMethod();

        EvalRow base = rows.stream().filter(EvalRow::isIdentity).findFirst().orElse(null);
        if (base == null) {
            out.add("No unsteered row (cna m = 1 or caa alpha = 0) in the sweep: effects cannot be read against a baseline.");
        } else {
            out.add(String.format(Locale.ROOT,
                    "Unsteered baseline: %s on %s of positive and %s of negative prompts.",
                    behavior, pct(base.positiveRate()), pct(base.negativeRate())));
            if (base.positiveRate() < 0.2) {
                out.add(String.format(Locale.ROOT,
                        "The unsteered model shows %s on only %s of positive prompts, so suppression has "
                                + "little room to show an effect; amplification (cna m > 1, caa alpha > 0) is "
                                + "the informative direction here.", behavior, pct(base.positiveRate())));
            }
            double gap = base.positiveRate() - base.negativeRate();
            if (gap < 0.2) {
                out.add(String.format(Locale.ROOT,
                        "Positive and negative prompts differ by only %s in the unsteered model: the prompt "
                                + "sets or the detector separate the behavior weakly.", pp(gap)));
            }
        }

        for (Map.Entry<String, List<EvalRow>> e : byMethod.entrySet()) {
            String m = e.getKey();
            List<EvalRow> rs = e.getValue();
            EvalRow mb = rs.stream().filter(EvalRow::isIdentity).findFirst().orElse(base);
            EvalRow lowest = rs.stream().filter(r -> !Double.isNaN(r.positiveRate()))
                    .min(Comparator.comparingDouble(EvalRow::positiveRate)).orElse(null);
            EvalRow highest = rs.stream().filter(r -> !Double.isNaN(r.positiveRate()))
                    .max(Comparator.comparingDouble(EvalRow::positiveRate)).orElse(null);
            if (mb != null && lowest != null && lowest.positiveRate() < mb.positiveRate()) {
                out.add(String.format(Locale.ROOT,
                        "%s: lowest positive rate %s at strength %s (baseline %s), quality %s there%s.",
                        m, pct(lowest.positiveRate()), fmt(lowest.strength()), pct(mb.positiveRate()),
                        num(lowest.meanQuality(), 3), noiseFlag(mb.positiveRate() - lowest.positiveRate())));
            }
            if (mb != null && highest != null && highest.positiveRate() > mb.positiveRate()) {
                out.add(String.format(Locale.ROOT,
                        "%s: highest positive rate %s at strength %s (baseline %s), quality %s, negative-prompt rate %s there%s.",
                        m, pct(highest.positiveRate()), fmt(highest.strength()), pct(mb.positiveRate()),
                        num(highest.meanQuality(), 3), pct(highest.negativeRate()),
                        noiseFlag(highest.positiveRate() - mb.positiveRate())));
            }
            if (mb != null && lowest != null && highest != null
                    && lowest.positiveRate() == mb.positiveRate() && highest.positiveRate() == mb.positiveRate()) {
                out.add(m + ": the positive rate did not move at any strength tested.");
            }
            List<EvalRow> withQ = rs.stream().filter(r -> !Double.isNaN(r.meanQuality())).toList();
            if (!withQ.isEmpty()) {
                EvalRow worst = withQ.stream().min(Comparator.comparingDouble(EvalRow::meanQuality)).get();
                if (worst.meanQuality() >= PUBLISHED_QUALITY) {
                    out.add(String.format(Locale.ROOT, "%s: quality stayed >= %.2f at every strength (min %s).",
                            m, PUBLISHED_QUALITY, num(worst.meanQuality(), 3)));
                } else {
                    out.add(String.format(Locale.ROOT, "%s: quality fell to %s at strength %s (below %.2f, the level "
                            + "published for CNA).", m, num(worst.meanQuality(), 3), fmt(worst.strength()),
                            PUBLISHED_QUALITY));
                }
            }
            if (mb != null && !Double.isNaN(mb.negativeRate())) {
                EvalRow spill = rs.stream().filter(r -> !Double.isNaN(r.negativeRate()))
                        .max(Comparator.comparingDouble(r -> Math.abs(r.negativeRate() - mb.negativeRate())))
                        .orElse(null);
                if (spill != null && Math.abs(spill.negativeRate() - mb.negativeRate()) >= 0.1) {
                    out.add(String.format(Locale.ROOT,
                            "%s: the negative-prompt rate moved to %s at strength %s (baseline %s): the steering is "
                                    + "not specific to the positive prompts.",
                            m, pct(spill.negativeRate()), fmt(spill.strength()), pct(mb.negativeRate())));
                }
            }
        }

        if (rows.stream().allMatch(r -> Double.isNaN(r.meanKl()))) {
            out.add("Next-token KL on neutral text was not measured.");
        }
        if (rows.stream().allMatch(r -> Double.isNaN(r.capability()))) {
            out.add("Capability (multiple-choice accuracy) was not measured.");
        }
        if (positivePrompts > 0) {
            double se = 0.5 / Math.sqrt(positivePrompts);
            out.add(String.format(Locale.ROOT,
                    "With %d positive prompts a rate moves in steps of %s and its standard error is up to %s; "
                            + "differences under ~%s are within sampling noise.",
                    positivePrompts, pp(1.0 / positivePrompts), pp(se), pp(2 * se)));
        }
        if (byMethod.size() > 1) {
            out.add("The cna multiplier and the caa alpha are different scales: compare the methods at equal "
                    + "behavior change (and its quality cost), not at equal strength.");
        }
        out.add("Rates come from a detector (" + behavior + "): it misses paraphrases it has no rule for and can "
                + "count replies that only quote a matching phrase.");
        return out;
    }

    /** " (within sampling noise)" when a rate change is under two standard errors of the positive set. */
    private String noiseFlag(double change) {
        if (positivePrompts <= 0) {
            return "";
        }
        double twoSe = 2 * 0.5 / Math.sqrt(positivePrompts);
        return Math.abs(change) < twoSe ? " (within sampling noise)" : "";
    }

    // ------------------------------------------------------------------ JSON

    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("title", title);
        root.put("behavior", behavior);
        if (model != null) {
            root.put("model", model);
        }
        ObjectNode counts = root.putObject("prompts");
        counts.put("positive", positivePrompts);
        counts.put("negative", negativePrompts);
        counts.put("neutral", neutralPrompts);
        ArrayNode arr = root.putArray("rows");
        for (EvalRow r : rows) {
            ObjectNode o = arr.addObject();
            o.put("method", r.method());
            o.put("strength", r.strength());
            o.put("unsteered", r.isIdentity());
            putNum(o, "positiveRate", r.positiveRate());
            putNum(o, "negativeRate", r.negativeRate());
            putNum(o, "meanQuality", r.meanQuality());
            putNum(o, "meanKl", r.meanKl());
            putNum(o, "capability", r.capability());
        }
        ArrayNode ns = root.putArray("notes");
        notes.forEach(ns::add);
        derivedNotes().forEach(ns::add);
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void putNum(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v > 0 ? "Infinity" : "-Infinity");
        }
    }

    // ------------------------------------------------------------------ plot

    /**
     * Writes the plot as PNG: behavior rate, quality and (when measured) KL and capability against strength, and the
     * behavior rate against quality.
     */
    public void writePlot(Path png) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        Map<String, List<EvalRow>> byMethod = byMethod();
        List<XYChart> charts = new ArrayList<>();

        XYChart rate = chart("Behavior rate (" + behavior + ")", "rate");
        rate.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        int k = 0;
        for (Map.Entry<String, List<EvalRow>> e : byMethod.entrySet()) {
            addSeries(rate, e.getKey() + " positive prompts", e.getValue(), EvalRow::positiveRate, false, k);
            addSeries(rate, e.getKey() + " negative prompts", e.getValue(), EvalRow::negativeRate, true, k);
            k++;
        }
        charts.add(rate);

        XYChart quality = chart("Quality (1 - repeated 4-grams)", "quality");
        quality.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        k = 0;
        for (Map.Entry<String, List<EvalRow>> e : byMethod.entrySet()) {
            addSeries(quality, e.getKey(), e.getValue(), EvalRow::meanQuality, false, k++);
        }
        charts.add(quality);

        if (rows.stream().anyMatch(r -> Double.isFinite(r.meanKl()))) {
            XYChart kl = chart("Next-token KL on neutral text", "KL (nats)");
            k = 0;
            for (Map.Entry<String, List<EvalRow>> e : byMethod.entrySet()) {
                addSeries(kl, e.getKey(), e.getValue(), EvalRow::meanKl, false, k++);
            }
            charts.add(kl);
        }
        // the trade-off the method is judged by: how far the behavior moves for how much quality
        XYChart tradeOff = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title("Behavior rate vs quality")
                .xAxisTitle("quality").yAxisTitle("rate (positive prompts)").build();
        tradeOff.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        tradeOff.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        k = 0;
        for (Map.Entry<String, List<EvalRow>> e : byMethod.entrySet()) {
            addSeries(tradeOff, e.getKey(), e.getValue(), EvalRow::meanQuality, EvalRow::positiveRate, false, k++);
        }
        charts.add(tradeOff);

        if (rows.stream().anyMatch(r -> Double.isFinite(r.capability()))) {
            XYChart capability = chart("Capability (multiple-choice accuracy)", "accuracy");
            capability.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
            k = 0;
            for (Map.Entry<String, List<EvalRow>> e : byMethod.entrySet()) {
                addSeries(capability, e.getKey(), e.getValue(), EvalRow::capability, false, k++);
            }
            charts.add(capability);
        }
        BitmapEncoder.saveBitmap(charts, 1, charts.size(), png.toString(), BitmapEncoder.BitmapFormat.PNG);
        // saveBitmap appends ".png" when the name lacks it; our names always carry it
    }

    /** One color per method, shared by all panels (negative-prompt series are dashed). */
    private static final java.awt.Color[] PALETTE = {
            new java.awt.Color(0x1f77b4), new java.awt.Color(0xd62728), new java.awt.Color(0x2ca02c),
            new java.awt.Color(0x9467bd), new java.awt.Color(0xff7f0e)};

    private XYChart chart(String chartTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(chartTitle)
                .xAxisTitle("strength (cna: m, caa: alpha)").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setDecimalPattern("0.##");
        return c;
    }

    private static void addSeries(XYChart c, String name, List<EvalRow> rs,
                                  java.util.function.ToDoubleFunction<EvalRow> y, boolean dashed, int methodIndex) {
        addSeries(c, name, rs, EvalRow::strength, y, dashed, methodIndex);
    }

    private static void addSeries(XYChart c, String name, List<EvalRow> rs, java.util.function.ToDoubleFunction<EvalRow> x,
                                  java.util.function.ToDoubleFunction<EvalRow> y, boolean dashed, int methodIndex) {
        List<double[]> pts = new ArrayList<>();
        for (EvalRow r : rs) {
            double v = y.applyAsDouble(r);
            if (Double.isFinite(v) && Double.isFinite(x.applyAsDouble(r))) {
                pts.add(new double[]{x.applyAsDouble(r), v});
            }
        }
        pts.sort(java.util.Comparator.comparingDouble(p -> p[0]));
        if (pts.isEmpty()) {
            return;
        }
        double[] xs = pts.stream().mapToDouble(p -> p[0]).toArray();
        double[] ys = pts.stream().mapToDouble(p -> p[1]).toArray();
        XYSeries s = c.addSeries(name, xs, ys);
        s.setMarker(dashed ? SeriesMarkers.DIAMOND : SeriesMarkers.CIRCLE);
        java.awt.Color color = PALETTE[methodIndex % PALETTE.length];
        s.setLineColor(color);
        s.setMarkerColor(color);
        if (dashed) {
            s.setLineStyle(SeriesLines.DASH_DASH);
        }
    }

    // ------------------------------------------------------------------ helpers

    private Map<String, List<EvalRow>> byMethod() {
        return rows.stream().collect(Collectors.groupingBy(EvalRow::method, LinkedHashMap::new, Collectors.toList()));
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        String s = new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
        return s;
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    static String pp(double v) {
        return String.format(Locale.ROOT, "%.1f pp", 100 * v);
    }

    static String num(double v, int decimals) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
