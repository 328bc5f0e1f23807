package dev.cna.core.generate;

/** Receives a batch's tokens as they are generated. */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param row   the batch row (the index of the prompt)
     * @param token the token id, or -1 for text held back until the reply ended (a possible stop string, an
     *              incomplete character), sent at most once per row after its last token
     * @param text  the text this token completes; "" while a multi-byte character or a possible stop string
     *              is still incomplete
     * @return false to stop this row now (finish reason CANCELLED)
     */
    boolean onToken(int row, int token, String text);
}
