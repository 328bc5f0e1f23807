package dev.cna.api;

/**
 * The problem types the services raise themselves (gateway/README.md and steering-service/README.md, Errors): each
 * has one status and one title. Errors that JAX-RS raises for other HTTP statuses (406, ...) take their slug from the
 * reason phrase ({@link Problem#slugOf}).
 */
public enum ProblemType {
    /** The body is not JSON (gateway). */
    INVALID_JSON(400, "invalid-json", "Invalid JSON"),
    /** The body is not valid JSON for the endpoint: broken, an unknown field, a wrong type (steering-service). */
    BAD_REQUEST(400, "bad-request", "Bad Request"),
    /** A field's value is refused; the detail names the field and the reason. */
    INVALID_REQUEST(400, "invalid-request", "Invalid Request"),
    UNAUTHORIZED(401, "unauthorized", "Unauthorized"),
    FORBIDDEN(403, "forbidden", "Forbidden"),
    NOT_FOUND(404, "not-found", "Not Found"),
    /** A circuit the registry does not hold (pinned steering, {@code GET /circuits/{name}}). */
    UNKNOWN_CIRCUIT(404, "unknown-circuit", "Unknown Circuit"),
    METHOD_NOT_ALLOWED(405, "method-not-allowed", "Method Not Allowed"),
    /** The resource belongs to another owner, e.g. a manual circuit named after a feature attribution-service keeps (gateway). */
    CONFLICT(409, "conflict", "Conflict"),
    REQUEST_ENTITY_TOO_LARGE(413, "request-entity-too-large", "Request Entity Too Large"),
    UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported Media Type"),
    /** The gateway's per-key rate limit; with Retry-After. */
    TOO_MANY_REQUESTS(429, "too-many-requests", "Too Many Requests"),
    /** steering-service's rows are busy and its queue is full; with Retry-After. */
    QUEUE_FULL(429, "queue-full", "Queue Full"),
    INTERNAL_SERVER_ERROR(500, "internal-server-error", "Internal Server Error"),
    BAD_GATEWAY(502, "bad-gateway", "Bad Gateway"),
    /** A dependency (Kafka, attribution-service, steering-service) is unreachable; with Retry-After. */
    SERVICE_UNAVAILABLE(503, "service-unavailable", "Service Unavailable"),
    /** steering-service is loading its model or catching up with the circuit registry; with Retry-After. */
    NOT_READY(503, "not-ready", "Not Ready");

    private final int status;
    private final String slug;
    private final String title;

    ProblemType(int status, String slug, String title) {
        this.status = status;
        this.slug = slug;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String slug() {
        return slug;
    }

    public String title() {
        return title;
    }

    /** The type URI: {@code urn:cna:problem:SLUG}. */
    public String uri() {
        return Problem.TYPE_PREFIX + slug;
    }
}
