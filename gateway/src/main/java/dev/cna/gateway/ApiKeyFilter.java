package dev.cna.gateway;

import dev.cna.api.ProblemType;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;

/**
 * API-key authentication and role check for every JAX-RS resource (/q/* are not resources and stay open).
 * The key comes as {@code Authorization: Bearer KEY} (what OpenAI clients send) or {@code X-API-Key: KEY}.
 */
@Provider
@Priority(Priorities.AUTHENTICATION)
public class ApiKeyFilter implements ContainerRequestFilter {
    /** Request property holding the {@link Caller}, for the filters after this one. */
    public static final String CALLER = "cna.caller";

    @Inject
    ApiKeys keys;

    @Context
    ResourceInfo resource;

    @Override
    public void filter(ContainerRequestContext request) {
        String key = key(request);
        if (key == null) {
            throw unauthorized("no API key: send Authorization: Bearer KEY or X-API-Key: KEY");
        }
        Caller caller = keys.authenticate(key).orElseThrow(() -> unauthorized("unknown API key"));
        Role required = required();
        if (!caller.may(required)) {
            throw new ProblemException(ProblemType.FORBIDDEN, "this API key lacks the role " + required.name().toLowerCase());
        }
        request.setProperty(CALLER, caller);
    }

    private static String key(ContainerRequestContext request) {
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return authorization.substring(7).trim();
        }
        String apiKey = request.getHeaderString("X-API-Key");
        return apiKey == null ? null : apiKey.trim();
    }

    private Role required() {
        RequiresRole onMethod = resource.getResourceMethod().getAnnotation(RequiresRole.class);
        if (onMethod != null) {
            return onMethod.value();
        }
        RequiresRole onClass = resource.getResourceClass().getAnnotation(RequiresRole.class);
        return onClass == null ? Role.CHAT : onClass.value();
    }

    private static ProblemException unauthorized(String detail) {
        return new ProblemException(ProblemType.UNAUTHORIZED, detail);
    }
}
