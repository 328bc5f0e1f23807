package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.api.StreamEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.core.http.HttpClient;
import io.vertx.mutiny.core.http.HttpClientResponse;
import io.vertx.mutiny.core.parsetools.RecordParser;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * steering-service over HTTP (Vert.x client, non-blocking). Streams are read line by line as the client asks
 * for events, so a slow client slows the upstream socket instead of filling memory; cancelling a stream closes
 * its connection, which cancels the generation upstream. Answers other than 200 become problems, steering-service's
 * own passed on with their type.
 */
@ApplicationScoped
public class SteeringClient {
    /** How long a client should wait before trying an unreachable steering-service again. */
    private static final Duration UNREACHABLE_RETRY = Duration.ofSeconds(5);

    private final SteeringConfig config;
    private final ObjectMapper json;
    private final HttpClient http;
    private final URI base;

    SteeringClient(SteeringConfig config, ObjectMapper json, Vertx vertx) {
        this.config = config;
        this.json = json;
        this.base = URI.create(config.url().endsWith("/") ? config.url() : config.url() + "/");
        this.http = vertx.createHttpClient(
                new HttpClientOptions().setConnectTimeout((int) config.connectTimeout().toMillis()),
                new PoolOptions().setHttp1MaxSize(config.maxConnections()));
    }

    @PreDestroy
    void close() {
        http.closeAndForget();
    }

    /** The events of a streamed POST (a generation). */
    public Multi<UpstreamEvent> stream(String path, String body) {
        return stream(path, body, false);
    }

    /** The events of an SSE endpoint read by GET, with its comments (heartbeats) as events too. */
    public Multi<UpstreamEvent> follow(String path) {
        return stream(path, null, true);
    }

    private Multi<UpstreamEvent> stream(String path, String body, boolean comments) {
        RequestOptions request = options(body == null ? HttpMethod.GET : HttpMethod.POST, path)
                .putHeader(HttpHeaders.ACCEPT, "text/event-stream");
        return send(request, body).onItem().transformToMulti(response -> {
            Multi<String> lines = RecordParser.newDelimited("\n", response).toMulti().map(Buffer::toString);
            AtomicBoolean started = new AtomicBoolean();
            return SseDecoder.decode(lines, comments)
                    .onItem().invoke(e -> started.set(true))
                    // steering-service went away: before the first event the client gets a 503 problem, after it
                    // the stream ends with an error event like any other failed generation
                    .onFailure(e -> !(e instanceof ProblemException)).recoverWithMulti(e -> started.get()
                            ? Multi.createFrom().item(lost(e))
                            : Multi.createFrom().failure(unreachable(e)))
                    // closing the connection is how steering-service learns that nobody reads any more
                    .onCancellation().invoke(() -> response.request().connection().closeAndForget());
        });
    }

    private UpstreamEvent lost(Throwable e) {
        StreamEvent.Error error = new StreamEvent.Error("steering-service lost",
                "the connection to steering-service closed mid-stream (" + e.getClass().getSimpleName() + ")");
        try {
            return new UpstreamEvent(error.name(), json.writeValueAsString(error));
        } catch (JsonProcessingException x) {
            throw new IllegalStateException("stream events always serialize", x);
        }
    }

    private static ProblemException unreachable(Throwable e) {
        return new ProblemException(ProblemType.SERVICE_UNAVAILABLE,
                "steering-service is unreachable (" + e.getClass().getSimpleName() + ")", UNREACHABLE_RETRY);
    }

    /** The JSON answer of a GET, as text. */
    public Uni<String> get(String path) {
        RequestOptions request = options(HttpMethod.GET, path).setIdleTimeout(config.requestTimeout().toMillis())
                .putHeader(HttpHeaders.ACCEPT, "application/json");
        return send(request, null).onItem().transformToUni(HttpClientResponse::body).map(Buffer::toString);
    }

    /** The JSON answer of a POST (a scoring), as text; steering-service's refusals as its problems. */
    public Uni<String> post(String path, String body) {
        RequestOptions request = options(HttpMethod.POST, path).putHeader(HttpHeaders.ACCEPT, "application/json");
        return send(request, body).onItem().transformToUni(HttpClientResponse::body).map(Buffer::toString);
    }

    private RequestOptions options(HttpMethod method, String path) {
        return new RequestOptions().setMethod(method).setAbsoluteURI(base.resolve(path.substring(1)).toString());
    }

    /**
     * The response once its status is 200. The caller must attach its reader in the same step (the item is emitted
     * on the event loop that received the response head, before any body bytes are handled).
     */
    private Uni<HttpClientResponse> send(RequestOptions options, String body) {
        if (body != null) {
            options.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        }
        return http.request(options)
                .onItem().transformToUni(request -> body == null ? request.send() : request.send(body))
                .onFailure().transform(SteeringClient::unreachable)
                .onItem().transformToUni(response -> {
                    if (response.statusCode() == 200) {
                        return Uni.createFrom().item(response);
                    }
                    return response.body().onItem().transformToUni(
                            b -> Uni.createFrom().<HttpClientResponse>failure(problem(response, b.toString())));
                });
    }

    /**
     * steering-service's answer as the gateway's problem. What the client can act on (4xx, 503) keeps its problem
     * (type, title, detail; e.g. {@code urn:cna:problem:queue-full}, not a generic 429) and its Retry-After; a body that
     * is no problem of this platform gets the type of its status. Anything else is 502.
     */
    private ProblemException problem(HttpClientResponse response, String body) {
        int status = response.statusCode();
        if (!((status >= 400 && status < 500) || status == 503)) {
            return new ProblemException(ProblemType.BAD_GATEWAY, "steering-service answered " + status);
        }
        Duration retryAfter = retryAfter(response.getHeader(HttpHeaders.RETRY_AFTER.toString()));
        Problem upstream = read(body);
        if (upstream != null && upstream.type() != null && upstream.type().startsWith(Problem.TYPE_PREFIX)) {
            Response.Status known = Response.Status.fromStatusCode(status);
            String title = upstream.title() != null ? upstream.title() : known != null ? known.getReasonPhrase() : "HTTP " + status;
            return new ProblemException(new Problem(upstream.type(), title, status, upstream.detail(), null), retryAfter);
        }
        String detail = upstream != null && upstream.detail() != null ? upstream.detail() : "steering-service answered " + status;
        if (status == 400) {
            return ProblemException.invalid(detail);
        }
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known == null ? "HTTP " + status : known.getReasonPhrase();
        return new ProblemException(Problem.of(status, Problem.slugOf(title), title, detail), retryAfter);
    }

    /** The problem in an error body, or null when the body is not one. */
    private Problem read(String body) {
        try {
            return json.readValue(body, Problem.class);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Duration retryAfter(String header) {
        try {
            return header == null ? null : Duration.ofSeconds(Long.parseLong(header.trim()));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
