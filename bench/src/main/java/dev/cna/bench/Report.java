package dev.cna.bench;

import dev.cna.core.runtime.BackendOptions;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What every benchmark report carries: the machine and the date, and the Markdown + JSON writers. */
final class Report {
    private Report() {}

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("date", ZonedDateTime.now().toString());
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memoryGiB", Math.round(((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize() / (1L << 30)));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        return m;
    }

    /** One line for a report's header: "AMD EPYC, 2 cores, 23 GiB, OpenJDK ..., Linux ..., on DATE". */
    static String describe(Map<String, Object> machine) {
        return String.format("%s, %s cores, %s GiB, %s, %s, on %s", machine.get("cpu"), machine.get("cores"),
                machine.get("memoryGiB"), machine.get("java"), machine.get("os"), machine.get("date"));
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    static void writeJson(Path file, Object value) throws IOException {
        Files.createDirectories(file.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), value);
    }

    /** Progress of a long run, on stderr so stdout stays clean. */
    static void progress(String format, Object... args) {
        System.err.printf(format + "%n", args);
    }

    /** The median, the figure benchmark reports give for repeated runs. */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** "--name value" pairs of a benchmark's command line. */
    /** The backend a benchmark runs the model on: $CNA_BACKEND, else cpu (the platform's default). */
    static BackendOptions backend() {
        return BackendOptions.of(BackendOptions.parseKind(System.getenv().getOrDefault("CNA_BACKEND", "cpu")));
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value pairs, got " + args[i]);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        return opts;
    }

    /** What a probe JVM left: its last line on stdout (null if none), its exit code, its peak RSS, whether it was killed. */
    record ProbeRun(String lastLine, int exitCode, long peakRssBytes, boolean killed) {}

    /**
     * Runs {@code main} again in a fresh JVM ({@code -Xmx2g}, offline DJL) with {@code classesFirst} (another build's
     * classes, or "") ahead of this classpath, so several builds are measured side by side in one run. Its RSS is
     * sampled from /proc every 50 ms and it is killed once it passes {@code ceilingBytes}.
     */
    static ProbeRun probe(Class<?> main, String classesFirst, long ceilingBytes, String... args)
            throws IOException, InterruptedException {
        String cp = System.getProperty("java.class.path");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-XX:+UseSerialGC", "--add-modules", "jdk.incubator.vector", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classesFirst.isEmpty() ? cp : classesFirst + ":" + cp, main.getName()));
        cmd.addAll(List.of(args));
        Path stdout = Files.createTempFile("probe", ".out");
        try {
            Process child = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            long peak = 0;
            while (!child.waitFor(50, TimeUnit.MILLISECONDS)) {
                peak = Math.max(peak, statusBytes(Long.toString(child.pid()), "VmRSS:"));
                if (peak > ceilingBytes) {
                    child.destroyForcibly().waitFor();
                    return new ProbeRun(null, child.exitValue(), peak, true);
                }
            }
            List<String> lines = Files.readAllLines(stdout);
            return new ProbeRun(lines.isEmpty() ? null : lines.get(lines.size() - 1).trim(), child.exitValue(), peak, false);
        } finally {
            Files.deleteIfExists(stdout);
        }
    }

    /** A size field of /proc/PID/status ("VmRSS:", "VmHWM:"; pid "self" for this JVM) in bytes; 0 once it exited. */
    static long statusBytes(String pid, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (l.startsWith(field)) {
                    return Long.parseLong(l.substring(field.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException e) {
            return 0; // the process has just exited
        }
        return 0;
    }
}
