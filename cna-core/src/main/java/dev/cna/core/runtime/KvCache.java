package dev.cna.core.runtime;

/**
 * Per-batch generation state: each row's keys and values of every layer, and the left padding that lines the rows
 * up. Rows of different lengths are left-padded so every row's newest token sits in the same column, and one decode
 * step appends one column for the whole batch. Rows can join ({@link #absorb}) and leave ({@link #retain}) between
 * steps, which is what continuous batching needs. This class keeps that bookkeeping (pads, columns); each
 * {@link Backend} stores the keys and values its own way (one padded tensor per layer, or one buffer per row).
 */
public abstract class KvCache implements AutoCloseable {
    int[] pads;
    int columns;
    private int reserved; // columns the next allocation makes room for

    protected KvCache(int batch) {
        this.pads = new int[batch];
    }

    public final int batchSize() {
        return pads.length;
    }

    /** Tokens of row r seen so far (prompt plus generated). */
    public final int length(int row) {
        return columns - pads[row];
    }

    /** Left padding of row r: the columns before its first token. */
    public final int pad(int row) {
        return pads[row];
    }

    /** Columns filled: the longest row's tokens plus its left padding, the same for every row. */
    public final int columns() {
        return columns;
    }

    /**
     * How many columns in all (padding included) the next allocation makes room for, so appends up to there copy
     * nothing. Continuous batching sets it to the widest its rows can grow (prompt + max tokens, padding
     * included), a prefill to its prompt's width.
     */
    public final void reserve(int totalColumns) {
        reserved = totalColumns;
    }

    protected final int reserved() {
        return reserved;
    }

    /**
     * Moves the other cache's rows after this cache's rows and closes the other cache. Whichever side is
     * shorter gets more left padding, so the newest tokens stay in one column.
     *
     * @throws IllegalArgumentException for a cache of another backend or model, or one not yet prefilled
     */
    public final void absorb(KvCache other) {
        if (other.getClass() != getClass()) {
            throw new IllegalArgumentException("caches of different backends");
        }
        if (other.columns == 0) {
            throw new IllegalArgumentException("only a prefilled cache can join");
        }
        int width = Math.max(columns, other.columns);
        moveRows(other, width - columns, width - other.columns);
        int[] joined = new int[pads.length + other.pads.length];
        for (int r = 0; r < joined.length; r++) {
            joined[r] = r < pads.length ? pads[r] + width - columns : other.pads[r - pads.length] + width - other.columns;
        }
        pads = joined;
        columns = width;
        other.close();
    }

    /**
     * Takes the other cache's rows below this cache's, this cache's rows gaining {@code padThis} columns of left
     * padding and the other's {@code padOther}; the other cache is closed afterwards, so rows moved must no longer
     * be freed by it. Called before the pads and columns change.
     */
    protected abstract void moveRows(KvCache other, int padThis, int padOther);

    /**
     * Keeps only the given rows, in the given order, and drops the columns that are padding in every row
     * left, so a long reply that finishes does not keep the others' attention wide.
     */
    public final void retain(int[] rows) {
        if (rows.length == 0) {
            keepRows(rows, columns);
            pads = new int[0];
            columns = 0;
            return;
        }
        int[] kept = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            kept[i] = pads[rows[i]];
        }
        int trim = java.util.Arrays.stream(kept).min().getAsInt();
        keepRows(rows, trim);
        for (int i = 0; i < kept.length; i++) {
            kept[i] -= trim;
        }
        pads = kept;
        columns -= trim;
    }

    /** Keeps the rows (maybe none), dropping the first {@code trim} columns. Called before the pads and columns change. */
    protected abstract void keepRows(int[] rows, int trim);

    @Override
    public abstract void close();
}
