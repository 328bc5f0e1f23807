package dev.cna.gateway;

import io.smallrye.mutiny.Multi;

import java.util.List;

/** Reassembles server-sent events from the lines of a stream (one decoder per stream: it keeps state). */
final class SseDecoder {
    private final boolean comments;
    private String name = "message";
    private final StringBuilder data = new StringBuilder();

    private SseDecoder(boolean comments) {
        this.comments = comments;
    }

    /**
     * The events in these lines; lines end without their '\n' (a '\r' before it is dropped). With comments, each
     * comment line comes as an {@link UpstreamEvent#comment} too (heartbeats worth passing on).
     */
    static Multi<UpstreamEvent> decode(Multi<String> lines, boolean comments) {
        SseDecoder decoder = new SseDecoder(comments);
        return lines.onItem().transformToIterable(decoder::line);
    }

    private List<UpstreamEvent> line(String raw) {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        if (line.isEmpty()) {
            if (data.isEmpty()) {
                name = "message";
                return List.of();
            }
            UpstreamEvent event = new UpstreamEvent(name, data.toString());
            name = "message";
            data.setLength(0);
            return List.of(event);
        }
        if (line.startsWith("event:")) {
            name = value(line, 6);
        } else if (line.startsWith("data:")) {
            if (!data.isEmpty()) {
                data.append('\n');
            }
            data.append(value(line, 5));
        } else if (line.startsWith(":") && comments) {
            return List.of(UpstreamEvent.comment(value(line, 1)));
        } // id/retry fields carry nothing the gateway uses
        return List.of();
    }

    /** The field's value: after the colon, without the one optional space. */
    private static String value(String line, int colon) {
        return line.startsWith(" ", colon) ? line.substring(colon + 1) : line.substring(colon);
    }
}
