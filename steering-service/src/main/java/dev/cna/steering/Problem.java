package dev.cna.steering;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;

/** An RFC 9457 problem detail, the body of every error answer ({@code application/problem+json}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail) {
    public static final String MEDIA_TYPE = "application/problem+json";

    /** @param slug short kebab-case name of the error class, e.g. {@code queue-full} */
    public static Problem of(int status, String slug, String title, String detail) {
        return new Problem("urn:cna:problem:" + slug, title, status, detail);
    }

    public Response.ResponseBuilder response() {
        return Response.status(status).type(MEDIA_TYPE).entity(this);
    }
}
