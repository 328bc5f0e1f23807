package dev.cna.gateway;

import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Answers a body announced larger than quarkus.http.limits.max-body-size with a 413 problem. Quarkus' own check
 * runs before JAX-RS (so no exception mapper sees it) and answers with an empty body; this route runs just
 * before it and does the same check. A chunked body has no Content-Length: Quarkus cuts it off while reading.
 */
@ApplicationScoped
public class PayloadTooLargeHandler {
    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    MemorySize maxBodySize;

    void register(@Observes Router router) {
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(this::check);
    }

    private void check(RoutingContext ctx) {
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length == null || !length.matches("\\d{1,18}") || Long.parseLong(length) <= maxBodySize.asLongValue()) {
            ctx.next(); // no or malformed length: Quarkus and Vert.x deal with it
            return;
        }
        Problem problem = Problem.of(ProblemType.REQUEST_ENTITY_TOO_LARGE, "the body has " + length + " bytes; at most "
                + maxBodySize.asLongValue() + " (quarkus.http.limits.max-body-size)").at(ctx.request().path());
        String[] typeAndBody = ProblemExceptionMapper.body(problem);
        ctx.response()
                .setStatusCode(problem.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, typeAndBody[0])
                .putHeader(HttpHeaders.CONNECTION, "close") // the unread body must not be taken as the next request
                .end(typeAndBody[1]);
    }
}
