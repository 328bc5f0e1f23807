package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** A request body that is not JSON: 400 with Jackson's own message (no input echoed beyond what it quotes). */
@Provider
public class JsonExceptionMapper implements ExceptionMapper<JsonProcessingException> {
    @Context
    UriInfo uri;

    @Override
    public Response toResponse(JsonProcessingException e) {
        return ProblemExceptionMapper.response(Problem.of(ProblemType.INVALID_JSON, e.getOriginalMessage()).at(uri.getPath()))
                .build();
    }
}
