package dev.cna.core.tokenizer;

import java.util.Arrays;

/**
 * Turns generated token ids into text as they arrive, one stream per instance (not thread-safe).
 *
 * <p>Decoding each id alone is wrong: one character can span several byte tokens, and SentencePiece
 * decoders treat a leading space differently at the start of a text. So each step decodes a short window:
 * the ids already emitted since the previous step (the prefix) plus the pending ones, and emits what the
 * window adds to the prefix's text. While the window's text ends in U+FFFD, the last character is still
 * incomplete and is held back. Each step costs O(window), not O(length of the stream).
 */
public final class StreamingDetokenizer {
    /** Holding more tokens than any UTF-8 character needs means the bytes are invalid, not incomplete. */
    private static final int MAX_PENDING = 8;
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private int[] window = new int[16];
    private int size;        // ids in the window
    private int readOffset;  // window[0, readOffset) is the prefix, already emitted

    public StreamingDetokenizer(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one generated id and returns the text it completes (possibly ""). */
    public String push(int tokenId) {
        if (size == window.length) {
            window = Arrays.copyOf(window, size * 2);
        }
        window[size++] = tokenId;
        String prefix = readOffset == 0 ? "" : tokenizer.decode(Arrays.copyOf(window, readOffset));
        String text = tokenizer.decode(Arrays.copyOf(window, size));
        boolean complete = text.length() > prefix.length() && text.charAt(text.length() - 1) != REPLACEMENT;
        if (!complete && size - readOffset <= MAX_PENDING) {
            return "";
        }
        String added = text.length() > prefix.length() ? text.substring(prefix.length()) : "";
        // The pending ids become the next prefix.
        System.arraycopy(window, readOffset, window, 0, size - readOffset);
        size -= readOffset;
        readOffset = size;
        return added;
    }

    /** The text still held back (an incomplete character at the end of the stream), and a fresh start. */
    public String flush() {
        String prefix = readOffset == 0 ? "" : tokenizer.decode(Arrays.copyOf(window, readOffset));
        String text = tokenizer.decode(Arrays.copyOf(window, size));
        size = 0;
        readOffset = 0;
        return text.length() > prefix.length() ? text.substring(prefix.length()) : "";
    }
}
