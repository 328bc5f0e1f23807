package dev.cna.core.generate;

import java.util.List;

/**
 * Holds back streamed text that could be the start of a stop string, so a stop string is never emitted
 * and nothing else is delayed longer than needed.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    /** Adds new text; returns what is safe to emit now. */
    String push(String text) {
        if (stopped) {
            return "";
        }
        pending.append(text);
        int earliest = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String out = pending.substring(0, earliest);
            pending.setLength(0);
            return out;
        }
        int keep = 0;
        for (String s : stops) {
            keep = Math.max(keep, longestSuffixThatPrefixes(pending, s));
        }
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    boolean stopped() {
        return stopped;
    }

    /** Whatever is still held back, at the end of the reply. */
    String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    private static int longestSuffixThatPrefixes(CharSequence text, String stop) {
        for (int n = Math.min(text.length(), stop.length() - 1); n > 0; n--) {
            if (stop.regionMatches(0, text.toString(), text.length() - n, n)) {
                return n;
            }
        }
        return 0;
    }
}
