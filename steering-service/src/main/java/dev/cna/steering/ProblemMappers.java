package dev.cna.steering;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error answer is a problem: ours as built, JAX-RS ones (bad JSON, 404, 405, 415, ...) by status. */
public class ProblemMappers {

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        Response.ResponseBuilder b = response(e.problem());
        if (e.retryAfterSeconds() != null) {
            b.header("Retry-After", e.retryAfterSeconds());
        }
        return b.build();
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known != null ? known.getReasonPhrase() : "HTTP " + status;
        String detail = status == 400 ? "the body is not valid JSON for this endpoint: " + rootMessage(e) : e.getMessage();
        return response(Problem.of(status, Problem.slugOf(title), title, detail)).build();
    }

    /**
     * Jackson's errors: an unknown field or a string where a number goes (a MismatchedInputException, for
     * which Quarkus has a built-in mapper that this one overrides), or broken JSON.
     */
    @ServerExceptionMapper({MismatchedInputException.class, JsonProcessingException.class})
    public Response json(JsonProcessingException e) {
        return response(Problem.of(ProblemType.BAD_REQUEST, "the body is not valid JSON for this endpoint: " + rootMessage(e)))
                .build();
    }

    static Response.ResponseBuilder response(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.toString() : root.getMessage();
        // Jackson quotes a window of the input; keep the first line, which names the field and the reason.
        int newline = m.indexOf('\n');
        return newline < 0 ? m : m.substring(0, newline);
    }
}
