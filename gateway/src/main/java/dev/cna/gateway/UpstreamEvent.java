package dev.cna.gateway;

/** One server-sent event as steering-service sent it: its name and its data (JSON text), or a comment (no name). */
public record UpstreamEvent(String name, String data) {
    static UpstreamEvent comment(String text) {
        return new UpstreamEvent(null, text);
    }

    boolean isComment() {
        return name == null;
    }
}
