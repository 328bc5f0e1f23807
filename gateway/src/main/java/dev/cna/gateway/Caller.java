package dev.cna.gateway;

import java.util.Set;

/**
 * An authenticated API key.
 *
 * @param id the key's SHA-256 digest: safe to keep in memory and to count by
 */
public record Caller(String id, Set<Role> roles) {
    public boolean may(Role required) {
        return roles.stream().anyMatch(r -> r.allows(required));
    }
}
