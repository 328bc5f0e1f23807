package dev.cna.steering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A client's view of one SSE response over a real socket, read event by event as it arrives. */
final class SseStream implements AutoCloseable {
    /** One event and when it arrived (System.nanoTime()). */
    record Event(String name, JsonNode data, long receivedNanos) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Event END = new Event("", null, 0);

    private final InputStream body;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<Event> seen = new ArrayList<>();
    final int status;

    private SseStream(HttpResponse<InputStream> response) {
        this.status = response.statusCode();
        this.body = response.body();
        Thread reader = new Thread(this::read, "sse-reader");
        reader.setDaemon(true);
        reader.start();
    }

    static SseStream post(String url, String json) {
        return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    static SseStream get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream").GET().build());
    }

    private static SseStream send(HttpRequest request) {
        try {
            return new SseStream(HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String name = "message";
            StringBuilder data = new StringBuilder();
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        events.add(new Event(name, JSON.readTree(data.toString()), System.nanoTime()));
                    }
                    name = "message";
                    data.setLength(0);
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).stripLeading());
                }
            }
        } catch (IOException e) {
            // closed by the test, or by the server at the end
        } finally {
            events.add(END);
        }
    }

    /** The next event, or null when the stream has ended. */
    Event next() {
        try {
            Event e = events.poll(120, TimeUnit.SECONDS);
            if (e == null) {
                throw new AssertionError("no SSE event within 120 s; seen " + seen);
            }
            if (e == END) {
                events.add(END);
                return null;
            }
            seen.add(e);
            return e;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    /** Reads until the first token event with at least this index; returns it. */
    Event awaitToken(int index) {
        return awaitEvent("token " + index,
                e -> e.name().equals("token") && e.data().has("token") && e.data().get("index").asInt() >= index);
    }

    /** Reads until the first event that matches; returns it. Fails when the stream ends before one does. */
    Event awaitEvent(String what, Predicate<Event> match) {
        for (Event e; (e = next()) != null; ) {
            if (match.test(e)) {
                return e;
            }
        }
        throw new AssertionError("the stream ended before " + what + ": " + seen);
    }

    /** Every event read so far. */
    List<Event> seen() {
        return List.copyOf(seen);
    }

    /** Reads to the end; returns every event of the stream (including those already read). */
    List<Event> rest() {
        while (next() != null) {
            // drain
        }
        return List.copyOf(seen);
    }

    /** The generated token ids of a finished stream. */
    static int[] tokenIds(List<Event> events) {
        return events.stream().filter(e -> e.name().equals("token") && e.data().has("token"))
                .mapToInt(e -> e.data().get("token").asInt()).toArray();
    }

    /** Drops the connection, as a browser tab that closes. */
    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
