package dev.cna.gateway;

import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import io.quarkus.logging.Log;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** A bug: 500 with no internals in the body; the stack trace goes to the log. */
@Provider
public class UnexpectedExceptionMapper implements ExceptionMapper<Exception> {
    @Context
    UriInfo uri;

    @Override
    public Response toResponse(Exception e) {
        Log.errorf(e, "unexpected error on %s", uri.getPath());
        return ProblemExceptionMapper.response(Problem.of(ProblemType.INTERNAL_SERVER_ERROR,
                "unexpected error; see the gateway log").at(uri.getPath())).build();
    }
}
