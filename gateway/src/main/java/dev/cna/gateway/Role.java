package dev.cna.gateway;

import java.util.Locale;

/** What an API key may do: {@code chat} reads and chats, {@code admin} also writes (and implies chat). */
public enum Role {
    CHAT, ADMIN;

    public boolean allows(Role required) {
        return this == ADMIN || this == required;
    }

    static Role parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown role \"" + name.trim() + "\" (known: chat, admin)");
        }
    }
}
