package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;

/** An RFC 9457 problem detail: the body of every error the gateway answers. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance) {
    public static final String MEDIA_TYPE = "application/problem+json";
    /** Problem types are documented in gateway/README.md under this base. */
    public static final String TYPE_BASE = "https://cna.dev/problems/";

    /** A problem whose type is the slug of its title ("Method Not Allowed" -> .../method-not-allowed). */
    public static Problem of(int status, String title, String detail, String instance) {
        return new Problem(TYPE_BASE + title.toLowerCase().replaceAll("[^a-z0-9]+", "-"), title, status, detail, instance);
    }

    /** The response that carries this problem. */
    public Response.ResponseBuilder response() {
        return Response.status(status).type(MEDIA_TYPE).entity(this);
    }
}
