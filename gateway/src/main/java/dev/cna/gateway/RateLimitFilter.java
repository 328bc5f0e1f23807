package dev.cna.gateway;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.ext.Provider;

/** Applies the per-key rate limit to every request {@link ApiKeyFilter} let through. */
@Provider
@Priority(Priorities.AUTHORIZATION)
public class RateLimitFilter implements ContainerRequestFilter {
    @Inject
    RateLimiter limiter;

    @Override
    public void filter(ContainerRequestContext request) {
        limiter.admit((Caller) request.getProperty(ApiKeyFilter.CALLER));
    }
}
