package dev.cna.gateway;

import dev.cna.api.Problem;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * The errors JAX-RS raises itself (unknown route 404, 405, 415, 406, ...): same status, problem body, and the
 * headers the status needs (Allow on a 405).
 */
@Provider
public class WebApplicationExceptionMapper implements ExceptionMapper<WebApplicationException> {
    @Context
    UriInfo uri;

    @Override
    public Response toResponse(WebApplicationException e) {
        Response original = e.getResponse();
        Response.StatusType status = original.getStatusInfo();
        Problem problem = Problem.of(status.getStatusCode(), Problem.slugOf(status.getReasonPhrase()), status.getReasonPhrase(),
                e.getMessage());
        Response.ResponseBuilder r = ProblemExceptionMapper.response(problem.at(uri.getPath()));
        original.getHeaders().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("Content-Type")) {
                values.forEach(v -> r.header(name, v));
            }
        });
        return r.build();
    }
}
