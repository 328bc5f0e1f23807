package dev.cna.core.generate;

/** Receives a batch's tokens as they are generated. */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param row   the batch row (the index of the prompt)
     * @param token the token id
     * @param text  the text this token completes; "" while a multi-byte character or a possible stop string
     *              is still incomplete
     * @return false to stop this row now (finish reason CANCELLED)
     */
    boolean onToken(int row, int token, String text);
}
