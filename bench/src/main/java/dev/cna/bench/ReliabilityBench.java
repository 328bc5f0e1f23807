package dev.cna.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reliability of the running local stack ({@code ./cna up}) through the gateway, over real HTTP:
 *
 * <ol>
 *   <li>load: N concurrent streamed chats ({@code POST /v1/chat/completions}, {@code stream: true}) for a fixed time;
 *       errors by kind, 429s (rate limit or steering-service's full queue) retried after {@code Retry-After}, time to
 *       first token and inter-token latency p50/p99;</li>
 *   <li>faults, under the same load: Kafka, then attribution-service, then steering-service restarted with
 *       {@code ./cna restart SERVICE} (SIGTERM, start, wait until ready); the ending of every accepted stream; recovery
 *       times (until the service is ready, until a chat sent after the kill gets a token and completes); prompt pairs
 *       ingested all along (admin key), accepted count compared with attribution-service's count at the end.</li>
 * </ol>
 *
 * <p>Run with {@code bench/reliability/run}; writes bench/results/reliability.{md,json,png}.
 */
public final class ReliabilityBench {
    private static final String[] PROMPTS = {"Tell me a story about a fox.", "Explain how rain forms.",
            "Describe your ideal city.", "Write a letter to a friend.", "How do airplanes fly?", "What makes a good meal?",
            "Describe a walk in the forest.", "Explain photosynthesis.", "Write a poem about the sea.",
            "What is the history of bread?", "How do computers work?", "Describe a winter morning.",
            "Explain why we sleep.", "Tell me about volcanoes.", "What is music?", "Describe a busy market."};
    private static final String[][] PAIRS = {{"Pourquoi le ciel est-il bleu ?", "Why is the sky blue?"},
            {"Écris un petit poème sur la mer.", "Write a short poem about the sea."},
            {"Comment puis-je apprendre la guitare ?", "How can I learn the guitar?"},
            {"Raconte-moi une histoire sur un chat.", "Tell me a story about a cat."},
            {"Quelle heure est-il ?", "What time is it?"}, {"Où est la gare ?", "Where is the station?"}};
    private static final Pattern WRITTEN = Pattern.compile("(\\d+) were written");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How a chat request ended. Accepted = answered 200 (the stream started). */
    enum Outcome {
        COMPLETED("accepted, finished with [DONE]"),
        ERROR_FRAME("accepted, ended by an error frame (clear error)"),
        CUT("accepted, stream ended without [DONE] or error frame"),
        IO_ERROR("accepted, connection broke mid-stream"),
        HUNG("accepted, still open at the end (cancelled)"),
        RATE_LIMITED("rejected 429: rate limit of the key (retried after Retry-After)"),
        QUEUE_FULL("rejected 429: steering-service's queue full (retried after Retry-After)"),
        UNAVAILABLE("rejected 503 (retried after Retry-After)"),
        OTHER_STATUS("rejected with another status"),
        CONNECT_ERROR("no answer (connection refused or timeout)");
        final String meaning;

        Outcome(String meaning) {
            this.meaning = meaning;
        }

        boolean accepted() {
            return ordinal() <= HUNG.ordinal();
        }
    }

    /** One HTTP attempt of a chat; times in ms since the start of the run. */
    record Attempt(double sent, double ended, Outcome outcome, int status, double ttftMs, int tokens, String detail) {}

    record Fault(String service, double killed, double stopped, double started, double ready, double firstToken,
                 double firstCompletion, int exitCode) {}

    private final String base;
    private final String chatKey;
    private final String adminKey;
    private final int maxTokens;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).executor(Executors.newCachedThreadPool(r -> daemon(r, "http"))).build();
    private final long t0 = System.nanoTime();
    private volatile boolean stopping;
    private volatile double loadEnd = Double.MAX_VALUE;
    private final List<Attempt> attempts = Collections.synchronizedList(new ArrayList<>());
    private final List<double[]> gaps = Collections.synchronizedList(new ArrayList<>()); // {time, inter-token ms}
    private final AtomicLongArray tokensPerSecond = new AtomicLongArray(7200);
    private final Set<InputStream> open = ConcurrentHashMap.newKeySet();
    private final Set<InputStream> cancelled = ConcurrentHashMap.newKeySet();
    private final List<Double> tokenTimes = Collections.synchronizedList(new ArrayList<>()); // every content chunk, all streams
    // ingest
    private final AtomicLong ingestRequests = new AtomicLong();
    private final AtomicLong acceptedEvents = new AtomicLong();
    private final AtomicLong acceptedPositive = new AtomicLong();
    private final AtomicLong acceptedNegative = new AtomicLong();
    private final AtomicLong ambiguousEvents = new AtomicLong(); // 503 that says it was written
    private final AtomicLong failedEvents = new AtomicLong();     // 503 "0 were written" or no answer
    private final Map<String, Long> ingestStatuses = new ConcurrentHashMap<>();
    private final List<double[]> ingestTimeline = Collections.synchronizedList(new ArrayList<>()); // {time, status}

    private ReliabilityBench(String base, String chatKey, String adminKey, int maxTokens) {
        this.base = base;
        this.chatKey = chatKey;
        this.adminKey = adminKey;
        this.maxTokens = maxTokens;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Report.options(args);
        int streams = Integer.parseInt(opts.getOrDefault("streams", "64"));
        int loadSeconds = Integer.parseInt(opts.getOrDefault("load-seconds", "120"));
        int gapSeconds = Integer.parseInt(opts.getOrDefault("gap-seconds", "20"));
        int maxTokens = Integer.parseInt(opts.getOrDefault("max-tokens", "48"));
        int ingestMillis = Integer.parseInt(opts.getOrDefault("ingest-interval-ms", "1000"));
        // every attribution-service instance of the stack (./cna up with CNA_ATTRIBUTION_REPLICAS=2 starts attribution2)
        boolean twoAttributions = Files.exists(Path.of(".cna/attribution-replicas"))
                && Files.readString(Path.of(".cna/attribution-replicas")).trim().equals("2");
        List<String> faults = List.of(opts.getOrDefault("faults",
                twoAttributions ? "kafka,attribution,attribution2,steering" : "kafka,attribution,steering").split(","));
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        String base = opts.getOrDefault("gateway", "http://localhost:8080");
        String command = "bench/reliability/run" + (args.length == 0 ? "" : " " + String.join(" ", args));

        Properties keys = new Properties();
        try (var in = Files.newInputStream(Path.of(".cna/keys.properties"))) {
            keys.load(in);
        }
        String chat = null;
        String admin = null;
        for (String k : keys.stringPropertyNames()) {
            if (keys.getProperty(k).trim().equals("chat")) chat = k;
            if (keys.getProperty(k).trim().equals("admin")) admin = k;
        }
        if (chat == null || admin == null) throw new IllegalStateException(".cna/keys.properties needs a chat and an admin key");

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("command", command);
        json.put("loadAverageBeforeStack", System.getenv().getOrDefault("CNA_BENCH_LOADAVG", "not recorded"));
        json.put("loadAverageAtDriverStart", Files.readString(Path.of("/proc/loadavg")).trim());
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("streams", streams);
        params.put("loadSeconds", loadSeconds);
        params.put("gapSeconds", gapSeconds);
        params.put("maxTokens", maxTokens);
        params.put("ingestIntervalMillis", ingestMillis);
        params.put("faults", faults);
        json.put("parameters", params);
        new ReliabilityBench(base, chat, admin, maxTokens).run(streams, loadSeconds, gapSeconds, ingestMillis, faults, out, json);
        System.exit(0);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private double now() {
        return (System.nanoTime() - t0) / 1e6;
    }

    private void run(int streams, int loadSeconds, int gapSeconds, int ingestMillis, List<String> faults, Path out,
                     Map<String, Object> json) throws Exception {
        String feature = "reliability-" + System.currentTimeMillis();
        Report.progress("%d streams for %d s, then faults %s %d s apart; ingesting into feature %s", streams, loadSeconds, faults,
                gapSeconds, feature);
        ExecutorService workers = Executors.newFixedThreadPool(streams + 1, r -> daemon(r, "worker"));
        for (int i = 0; i < streams; i++) {
            int id = i;
            workers.submit(() -> worker(id, streams));
        }
        workers.submit(() -> ingest(feature, ingestMillis));
        Thread.sleep(loadSeconds * 1000L);
        loadEnd = now();
        Report.progress("load phase over at %.0f s: %s", loadEnd / 1000, summary(a -> a.sent < loadEnd));

        List<Fault> done = new ArrayList<>();
        for (String service : faults) {
            Thread.sleep(gapSeconds * 1000L);
            done.add(restart(service));
            Fault f = done.get(done.size() - 1);
            Report.progress("%s: ready %.1f s after the kill, first token of a new chat %.1f s, first completion %.1f s", service,
                    (f.ready - f.killed) / 1000, (f.firstToken - f.killed) / 1000, (f.firstCompletion - f.killed) / 1000);
        }
        Thread.sleep(gapSeconds * 1000L);
        double end = now();
        stopping = true;
        workers.shutdown();
        if (!workers.awaitTermination(90, TimeUnit.SECONDS)) {
            Report.progress("%d streams still open 90 s after the end: cancelled, counted as hung", open.size());
            for (InputStream in : open) {
                cancelled.add(in);
                in.close();
            }
            workers.awaitTermination(10, TimeUnit.SECONDS);
        }
        Report.progress("all over at %.0f s: %s", now() / 1000, summary(a -> true));
        Map<String, Object> pairs = settle(feature);
        write(out, json, feature, streams, loadSeconds, end, done, pairs);
        Report.progress("wrote %s/reliability.{md,json,png}", out);
    }

    // ---- chats ----------------------------------------------------------------------------------------------------

    private void worker(int id, int streams) {
        try {
            Thread.sleep(id * 100L); // start 10 per second: the key's rate limit (10/s, burst 20) would refuse a burst of 64
            int n = 0;
            while (!stopping) {
                double pause = chat(id, n++);
                if (pause > 0 && !stopping) {
                    Thread.sleep((long) (pause * 1000) + ThreadLocalRandom.current().nextLong(250));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            Report.progress("worker %d died: %s", id, e);
        }
    }

    /** One attempt; returns seconds to wait before the next one (Retry-After), 0 to go on. */
    private double chat(int id, int n) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user").put("content", PROMPTS[(id + n) % PROMPTS.length]);
        body.put("max_tokens", maxTokens).put("temperature", 0.7).put("stream", true).put("seed", id * 100_000L + n);
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + chatKey).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        double sent = now();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            attempts.add(new Attempt(sent, now(), Outcome.CONNECT_ERROR, 0, -1, 0, e.toString()));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        int status = response.statusCode();
        if (status != 200) {
            String detail;
            try (InputStream in = response.body()) {
                detail = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                detail = e.toString();
            }
            double retry = response.headers().firstValue("Retry-After").map(Double::parseDouble).orElse(1.0);
            Outcome o = status == 429 ? (detail.contains("rate limit") ? Outcome.RATE_LIMITED : Outcome.QUEUE_FULL)
                    : status == 503 ? Outcome.UNAVAILABLE : Outcome.OTHER_STATUS;
            attempts.add(new Attempt(sent, now(), o, status, -1, 0, problemDetail(detail)));
            return retry;
        }
        InputStream in = response.body();
        open.add(in);
        double first = -1;
        double last = -1;
        int tokens = 0;
        Outcome outcome = Outcome.CUT;
        String detail = null;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("data:")) continue;
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) {
                    outcome = Outcome.COMPLETED;
                    break;
                }
                JsonNode chunk = JSON.readTree(data);
                if (chunk.has("error")) {
                    outcome = Outcome.ERROR_FRAME;
                    detail = chunk.get("error").toString();
                    break;
                }
                JsonNode choices = chunk.path("choices");
                String text = choices.size() > 0 ? choices.get(0).path("delta").path("content").asText("") : "";
                if (!text.isEmpty()) {
                    double t = now();
                    if (first < 0) first = t;
                    else gaps.add(new double[] {t, t - last});
                    last = t;
                    tokens++;
                    tokenTimes.add(t);
                    tokensPerSecond.incrementAndGet(Math.min((int) (t / 1000), tokensPerSecond.length() - 1));
                }
            }
        } catch (IOException e) {
            outcome = cancelled.contains(in) ? Outcome.HUNG : Outcome.IO_ERROR;
            detail = e.toString();
        } finally {
            open.remove(in);
        }
        attempts.add(new Attempt(sent, now(), outcome, 200, first < 0 ? -1 : first - sent, tokens, detail));
        return outcome == Outcome.COMPLETED ? 0 : 1;
    }

    private static String problemDetail(String body) {
        try {
            JsonNode p = JSON.readTree(body);
            return p.has("detail") ? p.get("detail").asText() : body;
        } catch (IOException e) {
            return body.length() > 200 ? body.substring(0, 200) : body;
        }
    }

    // ---- ingest ---------------------------------------------------------------------------------------------------

    private void ingest(String feature, int intervalMillis) {
        int n = 0;
        while (!stopping) {
            String[] pair = PAIRS[n % PAIRS.length];
            ObjectNode body = JSON.createObjectNode();
            body.putArray("positive").add(pair[0] + " (" + n + ")");
            body.putArray("negative").add(pair[1] + " (" + n + ")");
            body.putObject("options").put("topK", 20);
            n++;
            HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/features/" + feature + "/pairs"))
                    .header("Authorization", "Bearer " + adminKey).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
            ingestRequests.incrementAndGet();
            double sent = now();
            int status = 0;
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                status = r.statusCode();
                if (status == 202) {
                    acceptedEvents.incrementAndGet();
                    acceptedPositive.incrementAndGet();
                    acceptedNegative.incrementAndGet();
                } else {
                    Matcher m = WRITTEN.matcher(r.body());
                    if (m.find() && Integer.parseInt(m.group(1)) > 0) ambiguousEvents.addAndGet(Integer.parseInt(m.group(1)));
                    else failedEvents.incrementAndGet();
                }
            } catch (IOException e) {
                failedEvents.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            ingestStatuses.merge(status == 0 ? "no answer" : String.valueOf(status), 1L, Long::sum);
            ingestTimeline.add(new double[] {sent, status});
            try {
                Thread.sleep(Math.max(0, intervalMillis - (long) (now() - sent)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Waits until attribution-service's count of the feature stops moving, then compares. */
    private Map<String, Object> settle(String feature) throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        double start = now();
        JsonNode view = null;
        long lastEvents = -1;
        int stable = 0;
        while (now() - start < 240_000) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/features/" + feature))
                    .header("Authorization", "Bearer " + chatKey).timeout(Duration.ofSeconds(10)).GET().build();
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    view = JSON.readTree(r.body());
                    long events = view.path("events").asLong();
                    stable = events == lastEvents ? stable + 1 : 0;
                    lastEvents = events;
                    if (stable >= 3 && events >= acceptedEvents.get()) break;
                    if (stable >= 10) break;
                }
            } catch (IOException e) {
                stable = 0;
            }
            Thread.sleep(1000);
        }
        result.put("feature", feature);
        result.put("ingestRequests", ingestRequests.get());
        result.put("ingestStatuses", new TreeMap<>(ingestStatuses));
        result.put("acceptedEvents", acceptedEvents.get());
        result.put("acceptedPositive", acceptedPositive.get());
        result.put("acceptedNegative", acceptedNegative.get());
        result.put("ambiguousEvents503Written", ambiguousEvents.get());
        result.put("failedEvents", failedEvents.get());
        result.put("settleSeconds", (now() - start) / 1000);
        result.put("countedEvents", view == null ? -1 : view.path("events").asLong());
        result.put("countedPositive", view == null ? -1 : view.path("positive").asLong());
        result.put("countedNegative", view == null ? -1 : view.path("negative").asLong());
        result.put("circuitVersion", view == null ? -1 : view.path("version").asLong());
        return result;
    }

    // ---- faults ---------------------------------------------------------------------------------------------------

    private Fault restart(String service) throws Exception {
        Report.progress("restarting %s at %.0f s", service, now() / 1000);
        double killed = now();
        Process p = new ProcessBuilder("./cna", "restart", service).redirectErrorStream(true).start();
        double[] stopped = {-1};
        double[] started = {-1};
        Thread reader = daemon(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Report.progress("  cna: %s", line.trim());
                    if (line.contains(service + " stopped")) stopped[0] = now();
                    if (line.contains(service + " starting")) started[0] = now();
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "cna-restart");
        reader.start();
        double ready = -1;
        while (now() - killed < 400_000) {
            if (started[0] > 0 && ready(service)) {
                ready = now();
                break;
            }
            if (!p.isAlive() && started[0] < 0) break;
            Thread.sleep(100);
        }
        int exit = p.waitFor(400, TimeUnit.SECONDS) ? p.exitValue() : -1;
        reader.join(1000);
        // chats recovered: the first chat sent after the kill that got a token, and that completed
        double firstToken = -1;
        double firstCompletion = -1;
        double waitUntil = now() + 60_000;
        while (now() < waitUntil && (firstToken < 0 || firstCompletion < 0)) {
            synchronized (attempts) {
                for (Attempt a : attempts) {
                    if (a.sent < killed) continue;
                    if (a.ttftMs >= 0 && (firstToken < 0 || a.sent + a.ttftMs < firstToken)) firstToken = a.sent + a.ttftMs;
                    if (a.outcome == Outcome.COMPLETED && (firstCompletion < 0 || a.ended < firstCompletion)) firstCompletion = a.ended;
                }
            }
            Thread.sleep(250);
        }
        return new Fault(service, killed, stopped[0], started[0], ready, firstToken, firstCompletion, exit);
    }

    private boolean ready(String service) {
        try {
            if (service.equals("kafka")) {
                return Files.readString(Path.of(".cna/logs/kafka.log")).lines().anyMatch(l -> l.startsWith("kafka ready on"));
            }
            int port = switch (service) {
                case "attribution" -> 8081;
                case "attribution2" -> 8083;
                case "steering" -> 8082;
                default -> 8080;
            };
            HttpRequest r = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(2)).GET().build();
            return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ---- report ---------------------------------------------------------------------------------------------------

    private String summary(java.util.function.Predicate<Attempt> which) {
        Map<Outcome, Long> counts = counts(which);
        return counts.toString();
    }

    private Map<Outcome, Long> counts(java.util.function.Predicate<Attempt> which) {
        Map<Outcome, Long> counts = new java.util.EnumMap<>(Outcome.class);
        synchronized (attempts) {
            for (Attempt a : attempts) {
                if (which.test(a)) counts.merge(a.outcome, 1L, Long::sum);
            }
        }
        return counts;
    }

    private static double pct(List<Double> values, double p) {
        if (values.isEmpty()) return -1;
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int rank = (int) Math.ceil(p / 100 * v.size());
        return v.get(Math.max(0, Math.min(v.size() - 1, rank - 1)));
    }

    private Map<String, Object> phase(String name, double from, double to) {
        List<Attempt> in;
        synchronized (attempts) {
            in = attempts.stream().filter(a -> a.sent >= from && a.sent < to).toList();
        }
        List<Double> ttft = in.stream().filter(a -> a.ttftMs >= 0).map(Attempt::ttftMs).toList();
        List<Double> itl;
        synchronized (gaps) {
            itl = gaps.stream().filter(g -> g[0] >= from && g[0] < to).map(g -> g[1]).toList();
        }
        long tokens = 0;
        for (int s = (int) (from / 1000); s < Math.min(tokensPerSecond.length(), (int) Math.ceil(to / 1000)); s++) {
            tokens += tokensPerSecond.get(s);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("phase", name);
        m.put("fromSeconds", from / 1000);
        m.put("toSeconds", to / 1000);
        Map<String, Long> outcomes = new LinkedHashMap<>();
        for (Outcome o : Outcome.values()) {
            outcomes.put(o.name(), in.stream().filter(a -> a.outcome == o).count());
        }
        m.put("attempts", in.size());
        m.put("outcomes", outcomes);
        m.put("acceptedStreams", in.stream().filter(a -> a.outcome.accepted()).count());
        m.put("ttftSamples", ttft.size());
        m.put("ttftP50Ms", pct(ttft, 50));
        m.put("ttftP99Ms", pct(ttft, 99));
        m.put("interTokenSamples", itl.size());
        m.put("interTokenP50Ms", pct(itl, 50));
        m.put("interTokenP99Ms", pct(itl, 99));
        m.put("tokensReceived", tokens);
        m.put("tokensPerSecond", tokens / ((to - from) / 1000));
        return m;
    }

    private void write(Path out, Map<String, Object> json, String feature, int streams, int loadSeconds, double end,
                       List<Fault> faults, Map<String, Object> pairs) throws IOException {
        Map<String, Object> load = phase("load (no fault)", 0, loadEnd);
        Map<String, Object> faultPhase = phase("faults (same load)", loadEnd, end);
        json.put("load", load);
        json.put("faultPhase", faultPhase);
        List<Map<String, Object>> fl = new ArrayList<>();
        for (int i = 0; i < faults.size(); i++) {
            Fault f = faults.get(i);
            double windowEnd = i + 1 < faults.size() ? faults.get(i + 1).killed : end;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("service", f.service);
            m.put("killedAtSeconds", f.killed / 1000);
            m.put("stoppedAfterSeconds", f.stopped < 0 ? -1 : (f.stopped - f.killed) / 1000);
            m.put("readyAfterSeconds", f.ready < 0 ? -1 : (f.ready - f.killed) / 1000);
            m.put("chatFirstTokenAfterSeconds", f.firstToken < 0 ? -1 : (f.firstToken - f.killed) / 1000);
            m.put("chatFirstCompletionAfterSeconds", f.firstCompletion < 0 ? -1 : (f.firstCompletion - f.killed) / 1000);
            m.put("cnaRestartExitCode", f.exitCode);
            double stall = 0;
            synchronized (tokenTimes) {
                double prev = f.killed;
                for (double t : tokenTimes.stream().filter(t -> t >= f.killed && t < windowEnd).sorted().toList()) {
                    stall = Math.max(stall, t - prev);
                    prev = t;
                }
            }
            m.put("longestTokenlessSeconds", stall / 1000);
            Map<String, Long> outcomes = new LinkedHashMap<>();
            counts(a -> a.ended >= f.killed && a.ended < windowEnd).forEach((o, c) -> outcomes.put(o.name(), c));
            m.put("outcomesEndedUntilNextFault", outcomes);
            long ingestErrors;
            synchronized (ingestTimeline) {
                ingestErrors = ingestTimeline.stream().filter(t -> t[0] >= f.killed && t[0] < windowEnd && t[1] != 202).count();
            }
            m.put("ingestErrorsUntilNextFault", ingestErrors);
            List<String> details;
            synchronized (attempts) {
                details = attempts.stream().filter(a -> a.ended >= f.killed && a.ended < windowEnd && a.detail != null
                        && a.outcome != Outcome.COMPLETED).map(a -> a.outcome + ": " + a.detail).distinct().limit(6).toList();
            }
            m.put("sampleErrors", details);
            fl.add(m);
        }
        json.put("faults", fl);
        json.put("pairs", pairs);
        Map<String, String> meanings = new LinkedHashMap<>();
        for (Outcome o : Outcome.values()) meanings.put(o.name(), o.meaning);
        json.put("outcomeMeanings", meanings);
        Files.createDirectories(out);
        Report.writeJson(out.resolve("reliability.json"), json);
        Files.writeString(out.resolve("reliability.md"), markdown(json, load, faultPhase, fl, pairs), StandardCharsets.UTF_8);
        plot(out.resolve("reliability.png"), end, faults);
    }

    @SuppressWarnings("unchecked")
    private static String markdown(Map<String, Object> json, Map<String, Object> load, Map<String, Object> faultPhase,
                                   List<Map<String, Object>> faults, Map<String, Object> pairs) {
        Map<String, Object> machine = (Map<String, Object>) json.get("machine");
        Map<String, Object> p = (Map<String, Object>) json.get("parameters");
        StringBuilder md = new StringBuilder("# Reliability: load and restarts of the local stack\n\n");
        md.append("Produced by `").append(json.get("command")).append("` (").append(Report.describe(machine)).append(").\n");
        md.append("Load average (1, 5, 15 min) before `./cna up`: ").append(json.get("loadAverageBeforeStack"))
                .append("; when the driver started (stack up): ").append(json.get("loadAverageAtDriverStart")).append(".\n\n");
        md.append(String.format("The stack of `./cna up` (devstack Kafka, attribution-service%s, steering-service, gateway; default "
                + "model on the cpu backend, 1 compute thread per model service), driven over HTTP/1.1 through the gateway by %s concurrent streamed "
                + "chats (`POST /v1/chat/completions`, `stream: true`, `max_tokens` %s, temperature 0.7; each stream starts "
                + "the next chat when one ends; streams started 100 ms apart). Phase 1: %s s of load, no fault. Phase 2: the "
                + "same load goes on while %s are restarted one after the other with `./cna restart SERVICE` (SIGTERM, start "
                + "as `./cna up` does, wait until ready), %s s of load between a recovery and the next kill and after the last. "
                + "All along, one ingest request a %s ms (one positive and one negative prompt, admin key) goes to "
                + "`POST /api/features/%s/pairs`. 429 and 503 answers are retried after their `Retry-After`.%n%n",
                ((List<?>) p.get("faults")).contains("attribution2")
                        ? " as two instances of one Kafka Streams application (`attribution`, `attribution2`: the devstack "
                        + "broker's one partition of cna.prompt-pairs is worked by one of them, the other takes it over when "
                        + "it stops)" : "",
                p.get("streams"), p.get("maxTokens"), p.get("loadSeconds"), p.get("faults"), p.get("gapSeconds"),
                p.get("ingestIntervalMillis"), pairs.get("feature")));
        md.append("## Chats\n\n");
        md.append("TTFT: from sending the accepted request to its first content chunk (includes waiting in steering-service's "
                + "queue for one of its 16 batch rows). Inter-token: between consecutive content chunks of a stream.\n\n");
        md.append("| phase | attempts | accepted | completed | error frame | cut | broken | hung | 429 rate limit | 429 queue full | 503 | other | no answer | TTFT p50 ms | TTFT p99 ms | inter-token p50 ms | inter-token p99 ms | tok/s |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> ph : List.of(load, faultPhase)) {
            Map<String, Long> o = (Map<String, Long>) ph.get("outcomes");
            md.append(String.format("| %s, %.0f-%.0f s | %s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.1f |%n",
                    ph.get("phase"), ph.get("fromSeconds"), ph.get("toSeconds"), ph.get("attempts"), ph.get("acceptedStreams"),
                    o.get("COMPLETED"), o.get("ERROR_FRAME"), o.get("CUT"), o.get("IO_ERROR"), o.get("HUNG"), o.get("RATE_LIMITED"),
                    o.get("QUEUE_FULL"), o.get("UNAVAILABLE"), o.get("OTHER_STATUS"), o.get("CONNECT_ERROR"), ph.get("ttftP50Ms"),
                    ph.get("ttftP99Ms"), ph.get("interTokenP50Ms"), ph.get("interTokenP99Ms"), ph.get("tokensPerSecond")));
        }
        md.append("\nOutcomes (by the time the request was sent): ");
        ((Map<String, String>) json.get("outcomeMeanings")).forEach((k, v) -> md.append("`").append(k).append("` ").append(v).append("; "));
        md.append("\n\n## Faults\n\nTimes from the SIGTERM. Ready: the service's `/q/health/ready` answers 200 (Kafka: its log says "
                + "`kafka ready on`). Chats: the first chat *sent after the kill* that got a token / that completed (a stream sends its next chat when the "
                + "current one ends, so this includes finishing the chat in flight and queueing); longest time without any token: "
                + "the largest gap between two content chunks of any streams from the kill to the next kill (a stall of the whole "
                + "chat path). Outcomes: "
                + "chat requests that ended between this kill and the next one (or the end).\n\n");
        md.append("| service | killed at s | stopped after s | ready after s | chat first token after s | chat completed after s | longest time without any token s | chat outcomes until next fault | ingest errors |\n|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> f : faults) {
            md.append(String.format("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %s | %s |%n", f.get("service"), f.get("killedAtSeconds"),
                    f.get("stoppedAfterSeconds"), f.get("readyAfterSeconds"), f.get("chatFirstTokenAfterSeconds"),
                    f.get("chatFirstCompletionAfterSeconds"), f.get("longestTokenlessSeconds"), f.get("outcomesEndedUntilNextFault"), f.get("ingestErrorsUntilNextFault")));
        }
        md.append("\nSample error details per fault:\n\n");
        for (Map<String, Object> f : faults) {
            for (String d : (List<String>) f.get("sampleErrors")) {
                md.append("- ").append(f.get("service")).append(": `").append(d.replace('`', '\'')).append("`\n");
            }
        }
        md.append(String.format("%n## Ingested pairs%n%nFeature `%s`: %s ingest requests (statuses %s). Accepted (202): %s events = "
                + "%s positive + %s negative prompts. 503 that said events were written: %s; refused or unanswered: %s. "
                + "attribution-service at the end (`GET /api/features/%s`, after waiting %.0f s for its count to settle): %s events, "
                + "%s positive, %s negative, circuit version %s.%n%n",
                pairs.get("feature"), pairs.get("ingestRequests"), pairs.get("ingestStatuses"), pairs.get("acceptedEvents"),
                pairs.get("acceptedPositive"), pairs.get("acceptedNegative"), pairs.get("ambiguousEvents503Written"),
                pairs.get("failedEvents"), pairs.get("feature"), pairs.get("settleSeconds"), pairs.get("countedEvents"),
                pairs.get("countedPositive"), pairs.get("countedNegative"), pairs.get("circuitVersion")));
        long acc = (Long) pairs.get("acceptedPositive");
        long cnt = (Long) pairs.get("countedPositive");
        md.append(acc == cnt && pairs.get("acceptedNegative").equals(pairs.get("countedNegative"))
                ? "**Accepted = counted: no pair lost, none counted twice.**\n"
                : String.format("**Accepted and counted differ: %+d positive, %+d negative (counted - accepted).**%n", cnt - acc,
                (Long) pairs.get("countedNegative") - (Long) pairs.get("acceptedNegative")));
        md.append("\n## Notes\n\n"
                + "- The faults come in a second phase after the clean load, so the load figures (first row above) have no "
                + "fault in them; each kill follows the previous service's recovery by the gap, under the same load.\n"
                + "- steering-service admits 16 batch rows + 64 queued = 80 requests, more than the streams here (at most 64): "
                + "requests wait in its queue (that is most of the TTFT) and a queue-full 429 cannot occur at 64 streams. "
                + "The 429s come from the key's rate limit (10/s, burst 20) when many streams retry at once.\n"
                + "- A restart is `./cna restart SERVICE` (the pid in .cna/pids gets SIGTERM, SIGKILL after 15 s; then started "
                + "as `./cna up` starts it). `./cna up` again would also restart only what is not running, but first checks the "
                + "build and runs a JVM for `cna model pull`, which would add to the recovery time measured.\n"
                + "- Bad input (issue 7 part c) is not run here: CI's gateway `BadInputTest` sends a thousand malformed bodies "
                + "(each gets a 4xx problem) and a thousand malformed events (all reach the DLQ with a reason).\n"
                + "- Pairs: accepted = 202 answers; counted = attribution-service's `positive`/`negative` once the count "
                + "stopped moving. A 503 that says events were written would be counted apart (ambiguous).\n");
        md.append("\n![TTFT and throughput over time, restarts marked](reliability.png)\n");
        return md.toString();
    }

    private void plot(Path file, double end, List<Fault> faults) throws IOException {
        int seconds = (int) Math.ceil(end / 1000);
        List<Double> xs = new ArrayList<>();
        List<Double> tps = new ArrayList<>();
        for (int s = 0; s < seconds; s++) {
            xs.add((double) s);
            tps.add((double) tokensPerSecond.get(s));
        }
        List<Double> tx = new ArrayList<>();
        List<Double> ttft = new ArrayList<>();
        List<Double> ex = new ArrayList<>();
        List<Double> ey = new ArrayList<>();
        synchronized (attempts) {
            for (int b = 0; b < seconds; b += 5) {
                int from = b * 1000;
                List<Double> v = attempts.stream().filter(a -> a.ttftMs >= 0 && a.sent + a.ttftMs >= from && a.sent + a.ttftMs < from + 5000)
                        .map(a -> a.ttftMs / 1000).toList();
                if (!v.isEmpty()) {
                    tx.add(b + 2.5);
                    ttft.add(pct(v, 50));
                }
                long errors = attempts.stream().filter(a -> a.ended >= from && a.ended < from + 5000 && a.outcome != Outcome.COMPLETED
                        && a.outcome != Outcome.RATE_LIMITED && a.outcome != Outcome.QUEUE_FULL).count();
                if (errors > 0) {
                    ex.add(b + 2.5);
                    ey.add((double) errors);
                }
            }
        }
        XYChart top = new XYChartBuilder().width(1000).height(380).title("Time to first token (median per 5 s, by time of the token)")
                .xAxisTitle("seconds since start").yAxisTitle("TTFT s").build();
        top.addSeries("TTFT p50", tx, ttft).setMarker(SeriesMarkers.CIRCLE);
        XYChart bottom = new XYChartBuilder().width(1000).height(380).title("Tokens received per second; errors per 5 s")
                .xAxisTitle("seconds since start").yAxisTitle("count").build();
        bottom.addSeries("tokens/s", xs, tps).setMarker(SeriesMarkers.NONE);
        if (!ex.isEmpty()) {
            XYSeries e = bottom.addSeries("errors (not 429) per 5 s", ex, ey);
            e.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            e.setMarker(SeriesMarkers.DIAMOND);
        }
        double topMax = ttft.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        double bottomMax = tps.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        Color[] colors = {Color.RED, new Color(0xE0, 0x80, 0x00), Color.MAGENTA};
        for (int i = 0; i < faults.size(); i++) {
            Fault f = faults.get(i);
            for (XYChart c : List.of(top, bottom)) {
                double max = c == top ? topMax : bottomMax;
                XYSeries kill = c.addSeries("kill " + f.service, List.of(f.killed / 1000, f.killed / 1000), List.of(0.0, max));
                kill.setMarker(SeriesMarkers.NONE);
                kill.setLineColor(colors[i % colors.length]);
                if (f.ready > 0) {
                    XYSeries ready = c.addSeries(f.service + " ready", List.of(f.ready / 1000, f.ready / 1000), List.of(0.0, max));
                    ready.setMarker(SeriesMarkers.NONE);
                    ready.setLineColor(colors[i % colors.length]);
                    ready.setLineStyle(new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER,
                            10f, new float[] {6f, 4f}, 0f));
                }
            }
        }
        XYSeries endLoad = bottom.addSeries("end of phase 1", List.of(loadEnd / 1000, loadEnd / 1000), List.of(0.0, bottomMax));
        endLoad.setMarker(SeriesMarkers.NONE);
        endLoad.setLineColor(Color.GRAY);
        BufferedImage a = BitmapEncoder.getBufferedImage(top);
        BufferedImage b = BitmapEncoder.getBufferedImage(bottom);
        BufferedImage both = new BufferedImage(Math.max(a.getWidth(), b.getWidth()), a.getHeight() + b.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.drawImage(a, 0, 0, null);
        g.drawImage(b, 0, a.getHeight(), null);
        g.dispose();
        javax.imageio.ImageIO.write(both, "png", file.toFile());
    }
}
