package dev.cna.core.runtime;

import dev.cna.core.model.ModelConfig;

/**
 * The native memory a service lets its KV caches and forward-pass scratch take, and what one token or one pass
 * costs in it, so that requests are admitted by memory and not only by rows. The estimate counts f32 keys and
 * values of every layer (2 x layers x kvHeads x headDim x 4 bytes per token and row) and, for scratch, one chunked
 * pass at full context: attention scores with their mask and softmax copies (3 x heads x chunk x context floats)
 * plus the chunk's MLP and residual activations. Model weights are not part of the budget.
 *
 * @param bytes            the budget for KV caches plus one pass's scratch
 * @param kvBytesPerToken  KV cache bytes per token of one row
 * @param scratchBytes     the scratch of one prefill chunk at full context
 * @param context          the model's context length, tokens
 */
public record MemoryBudget(long bytes, long kvBytesPerToken, long scratchBytes, int context) {

    public MemoryBudget {
        if (bytes <= scratchBytes + kvBytesPerToken) {
            throw new IllegalArgumentException("a memory budget of " + mib(bytes) + " MiB cannot hold one pass ("
                    + mib(scratchBytes) + " MiB of scratch) and a token of KV cache");
        }
    }

    /** The budget for a model run in prefill chunks of the given number of positions. */
    public static MemoryBudget of(ModelConfig c, long bytes, int prefillChunk) {
        long kv = 2L * c.layers() * c.kvHeads() * c.headDim() * Float.BYTES;
        long attention = 3L * c.heads() * prefillChunk * c.contextLength() * Float.BYTES;
        long activations = (long) prefillChunk * (4L * c.intermediateSize() + 8L * c.hiddenSize()) * Float.BYTES;
        return new MemoryBudget(bytes, kv, attention + activations, c.contextLength());
    }

    /** KV cache bytes of a left-padded batch: every row holds as many columns as the longest. */
    public long kvBytes(int rows, int columns) {
        return (long) rows * columns * kvBytesPerToken;
    }

    /** Whether a batch of rows x columns of KV cache still leaves room for one pass's scratch. */
    public boolean fits(int rows, int columns) {
        return kvBytes(rows, columns) + scratchBytes <= bytes;
    }

    /** The most tokens (prompt plus reply) one row may reach alone: the per-request limit this budget sets. */
    public int maxTokensPerRow() {
        return (int) Math.min(context, (bytes - scratchBytes) / kvBytesPerToken);
    }

    /** Parses "512m", "2g", "1500000000" (bytes) as used in the services' settings. */
    public static long parseBytes(String size) {
        String s = size.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        try {
            return Long.parseLong(unit == 1 ? s : s.substring(0, s.length() - 1)) * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a memory size is a number with an optional k, m or g, got \"" + size + "\"");
        }
    }

    public static long mib(long bytes) {
        return bytes >> 20;
    }
}
