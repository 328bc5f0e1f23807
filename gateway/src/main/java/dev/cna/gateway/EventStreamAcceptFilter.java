package dev.cna.gateway;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;

/**
 * Content negotiation as OpenAI's API does it on {@code /v1/*}: any Accept header ({@code application/json} from the
 * official SDKs even for streams, {@code text/event-stream}, {@code *}{@code /*}, none) is accepted and the body's
 * {@code stream} decides the answer's type. Elsewhere it lets clients that ask for {@code Accept: text/event-stream}
 * (EventSource) reach the streaming endpoints. Those write their SSE frames themselves ({@link SseFrames}) and so declare no SSE media type: Quarkus'
 * own SSE writer would send the headers before steering-service answered, and its refusals could not be problems.
 */
@Provider
@PreMatching
public class EventStreamAcceptFilter implements ContainerRequestFilter {
    @Override
    public void filter(ContainerRequestContext request) {
        String accept = request.getHeaderString(HttpHeaders.ACCEPT);
        if (ProblemExceptionMapper.isOpenAiPath("/" + request.getUriInfo().getPath().replaceFirst("^/", ""))) {
            request.getHeaders().putSingle(HttpHeaders.ACCEPT, "*/*");
        } else if (accept != null && accept.contains("text/event-stream")) {
            request.getHeaders().putSingle(HttpHeaders.ACCEPT, accept + ", */*;q=0.1");
        }
    }
}
