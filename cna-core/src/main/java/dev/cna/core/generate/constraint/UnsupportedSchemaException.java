package dev.cna.core.generate.constraint;

/** A schema uses a keyword or value the constraint cannot enforce, or exceeds a limit; the message says which. */
public final class UnsupportedSchemaException extends IllegalArgumentException {
    private final String keyword;

    UnsupportedSchemaException(String keyword, String message) {
        super(message);
        this.keyword = keyword;
    }

    /** The offending keyword (e.g. {@code pattern}), or the limit's name. */
    public String keyword() {
        return keyword;
    }
}
