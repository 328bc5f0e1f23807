package dev.cna.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A client's view of one SSE response over a real socket: events are read line by line as the test asks for them
 * (blocking), so what the test has not read yet is still in the socket.
 */
final class SseStream implements AutoCloseable {
    /** An event: its name ("message" when it has none) and its data. */
    record Event(String name, String data) {}

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final HttpResponse<Stream<String>> response;
    private final Iterator<String> lines;
    private final List<Event> seen = new ArrayList<>();

    private SseStream(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.lines = response.body().iterator();
    }

    static SseStream post(String url, String key, String json) {
        return send(request(url, key).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    static SseStream get(String url, String key) {
        return send(request(url, key).GET());
    }

    private static HttpRequest.Builder request(String url, String key) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5))
                .header("Accept", "text/event-stream").header("Authorization", "Bearer " + key);
    }

    private static SseStream send(HttpRequest.Builder request) {
        try {
            return new SseStream(HTTP.send(request.build(), HttpResponse.BodyHandlers.ofLines()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    int status() {
        return response.statusCode();
    }

    String contentType() {
        return response.headers().firstValue("Content-Type").orElse("");
    }

    /** The next raw line (comments included), or null when the server ended the stream. */
    String line() {
        return lines.hasNext() ? lines.next() : null;
    }

    /** The next event, or null when the server ended the stream. */
    Event next() {
        String name = "message";
        StringBuilder data = null;
        while (lines.hasNext()) {
            String line = lines.next();
            if (line.isEmpty() && data != null) {
                Event event = new Event(name, data.toString());
                seen.add(event);
                return event;
            }
            if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                data = data == null ? new StringBuilder() : data.append('\n');
                data.append(line.substring(5).stripLeading());
            }
        }
        return null;
    }

    /** Reads to the end; returns every event of the stream (including those already read). */
    List<Event> rest() {
        while (next() != null) {
            // read on
        }
        return List.copyOf(seen);
    }

    /** Drops the connection, as a browser tab that closes. */
    @Override
    public void close() {
        response.body().close();
    }
}
