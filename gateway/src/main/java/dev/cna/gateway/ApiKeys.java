package dev.cna.gateway;

import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The configured API keys and their roles, read once at start-up. Keys are held only as SHA-256 digests, so
 * neither a heap dump nor a log line carries one; the digest is the caller's id.
 */
@Startup // a bad keys file fails the start, not the first request
@ApplicationScoped
public class ApiKeys {
    private final Map<String, Set<Role>> roles = new HashMap<>();

    ApiKeys(GatewayConfig config) {
        if (Files.isRegularFile(config.keysFile())) {
            Properties file = new Properties();
            try (Reader in = Files.newBufferedReader(config.keysFile(), StandardCharsets.UTF_8)) {
                file.load(in);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read keys file " + config.keysFile(), e);
            }
            file.forEach((key, value) -> add((String) key, ((String) value).split(","), config.keysFile().toString()));
        }
        config.keys().orElse(List.of()).forEach(entry -> {
            int colon = entry.lastIndexOf(':');
            if (colon < 1) {
                throw new IllegalStateException("cna.gateway.keys: an entry is not KEY:role[+role]");
            }
            add(entry.substring(0, colon), entry.substring(colon + 1).split("\\+"), "cna.gateway.keys");
        });
        if (roles.isEmpty()) {
            Log.warnf("no API keys configured (%s, cna.gateway.keys): every /api request gets 401", config.keysFile());
        } else {
            Log.infof("%d API keys loaded", roles.size());
        }
    }

    private void add(String key, String[] names, String source) {
        if (key.isBlank()) {
            throw new IllegalStateException(source + ": an empty key");
        }
        Set<Role> set = EnumSet.noneOf(Role.class);
        try {
            Arrays.stream(names).map(Role::parse).forEach(set::add);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(source + ": " + e.getMessage()); // never the key itself
        }
        roles.put(digest(key), set);
    }

    /** The caller a key stands for, empty when the key is unknown. */
    public Optional<Caller> authenticate(String key) {
        String id = digest(key);
        return Optional.ofNullable(roles.get(id)).map(r -> new Caller(id, r));
    }

    private static String digest(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }
}
