package dev.cna.gateway;

import dev.cna.api.Problem;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * The gateway's problems, at the request path, with Retry-After (whole seconds, at least 1) where the client should
 * wait and the challenge HTTP requires on a 401.
 */
@Provider
public class ProblemExceptionMapper implements ExceptionMapper<ProblemException> {
    @Context
    UriInfo uri;

    @Override
    public Response toResponse(ProblemException e) {
        Response.ResponseBuilder r = response(e.problem().at(uri.getPath()));
        if (e.retryAfter() != null) {
            long seconds = Math.max(1, (e.retryAfter().toMillis() + 999) / 1000);
            r.header(HttpHeaders.RETRY_AFTER, seconds);
        }
        if (e.problem().status() == 401) {
            r.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"cna\"");
        }
        return r.build();
    }

    /**
     * The response that carries a problem: on the OpenAI-compatible routes ({@code /v1/*}) in OpenAI's error envelope,
     * which its SDKs read, elsewhere as RFC 9457 problem+json.
     */
    static Response.ResponseBuilder response(Problem problem) {
        if (isOpenAiPath(problem.instance())) {
            return Response.status(problem.status()).type(MediaType.APPLICATION_JSON).entity(OpenAi.error(problem));
        }
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem);
    }

    /** The body and media type of a problem for a path, for answers written below JAX-RS. */
    static String[] body(Problem problem) {
        return isOpenAiPath(problem.instance())
                ? new String[] {MediaType.APPLICATION_JSON, io.vertx.core.json.Json.encode(OpenAi.error(problem))}
                : new String[] {Problem.MEDIA_TYPE, io.vertx.core.json.Json.encode(problem)};
    }

    static boolean isOpenAiPath(String path) {
        return path != null && (path.startsWith("/v1/") || path.equals("/v1"));
    }
}
