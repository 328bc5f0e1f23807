package dev.cna.attribution;

/** Why an event went to the dead-letter topic: the value of the {@code cna-error} header. */
public enum ErrorClass {
    INVALID_JSON("invalid-json"),
    SCHEMA_VERSION("schema-version"),
    KEY_MISMATCH("key-mismatch"),
    EMPTY_LIST("empty-list"),
    TOO_LONG("too-long"),
    TOO_LARGE("too-large"),
    UNKNOWN_OPTION("unknown-option"),
    INVALID_OPTION("invalid-option"),
    PROCESSING_FAILED("processing-failed");

    private final String header;

    ErrorClass(String header) {
        this.header = header;
    }

    public String header() {
        return header;
    }
}
