package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Locale;

/**
 * An RFC 9457 problem detail, the body of every error answer of the platform ({@value #MEDIA_TYPE}). Types are URNs
 * {@value #TYPE_PREFIX}SLUG; the slugs the services raise are {@link ProblemType}s, others come from the HTTP status
 * ({@link #slugOf}). Absent fields are left out of the JSON; unknown extension members are ignored on reading.
 *
 * @param type     {@value #TYPE_PREFIX} + a slug, e.g. {@code urn:cna:problem:queue-full}
 * @param title    short summary of the type, the same for every occurrence of it
 * @param status   the HTTP status code of the answer
 * @param detail   what went wrong in this occurrence
 * @param instance the path of the request, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Problem(String type, String title, int status, String detail, String instance) {
    public static final String MEDIA_TYPE = "application/problem+json";
    public static final String TYPE_PREFIX = "urn:cna:problem:";

    /** A problem of a known type; its status and title are the type's. */
    public static Problem of(ProblemType type, String detail) {
        return new Problem(type.uri(), type.title(), type.status(), detail, null);
    }

    /** A problem of any type: {@code slug} is kebab-case, e.g. {@code not-acceptable}. */
    public static Problem of(int status, String slug, String title, String detail) {
        return new Problem(TYPE_PREFIX + slug, title, status, detail, null);
    }

    /** The slug of a title ("Method Not Allowed" -> {@code method-not-allowed}): types for HTTP statuses by reason phrase. */
    public static String slugOf(String title) {
        return title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    }

    /** This problem at a request path. */
    public Problem at(String instance) {
        return new Problem(type, title, status, detail, instance);
    }
}
