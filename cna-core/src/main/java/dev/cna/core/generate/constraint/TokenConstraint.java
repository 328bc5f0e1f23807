package dev.cna.core.generate.constraint;

import dev.cna.core.tokenizer.TokenBytes;
import dev.cna.core.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;

/**
 * Constrained sampling: only tokens whose bytes keep the reply a valid prefix of a document of the schema (optionally
 * between literal texts, e.g. a tool-call tag), and a stop token only once the document is complete. Immutable and
 * shared by the rows of a request; each row walks its own {@link Row}.
 *
 * <p>As llama.cpp's grammar sampler does (src/llama-sampling.cpp, {@code llama_sampler_grammar}), the token drawn
 * from the unconstrained distribution (after temperature, top-k, top-p) is kept when it is valid; only otherwise is
 * the whole vocabulary masked (invalid logits to -infinity) and the token drawn again. The mask walks the vocabulary
 * in byte order, reusing the matcher state of each shared prefix and skipping every token under a dead prefix.
 */
public final class TokenConstraint {
    private final JsonSchema schema;
    private final byte[] prefix;
    private final byte[] suffix;
    private final TokenBytes vocabulary;
    private final int[] stopIds;

    private TokenConstraint(JsonSchema schema, String prefix, String suffix, Tokenizer tokenizer) {
        this.schema = schema;
        this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
        this.suffix = suffix.getBytes(StandardCharsets.UTF_8);
        this.vocabulary = tokenizer.tokenBytes();
        this.stopIds = tokenizer.stopIds();
    }

    /** Replies that are one JSON document of the schema. */
    public static TokenConstraint json(JsonSchema schema, Tokenizer tokenizer) {
        return new TokenConstraint(schema, "", "", tokenizer);
    }

    /** Replies that are {@code prefix}, a JSON document of the schema, then {@code suffix}. */
    public static TokenConstraint wrapped(String prefix, JsonSchema schema, String suffix, Tokenizer tokenizer) {
        return new TokenConstraint(schema, prefix, suffix, tokenizer);
    }

    /** A fresh row at the start of its reply. */
    public Row start() {
        return new Row(JsonMatcher.start(schema, prefix, suffix));
    }

    /** One reply's position in the document. Not thread-safe: the decode thread owns it. */
    public final class Row {
        private JsonMatcher matcher;
        private int testedToken = -1;
        private JsonMatcher tested;

        private Row(JsonMatcher matcher) {
            this.matcher = matcher;
        }

        /** Whether the document is complete (only a stop token may follow). */
        public boolean complete() {
            return matcher.complete();
        }

        /** Whether the token may come next. */
        public boolean allows(int token) {
            if (isStop(token)) {
                return matcher.complete();
            }
            byte[] bytes = vocabulary.bytes(token);
            if (bytes == null || bytes.length == 0) {
                return false;
            }
            tested = matcher.advance(bytes);
            testedToken = token;
            return tested != null;
        }

        /**
         * The next token: {@code sampled} when it is allowed, else a draw by {@code sampler} from the logits with every
         * disallowed token masked; a stop token when nothing is allowed (the document cannot go on).
         *
         * @param logits  the row's logits, [vocabulary]; not modified
         * @param sampler the request's sampler (temperature, top-k, top-p, seed)
         */
        public int choose(int sampled, float[] logits, ToIntFunction<float[]> sampler) {
            if (allows(sampled)) {
                accept(sampled);
                return sampled;
            }
            boolean[] allowed = allowed();
            float[] masked = logits.clone();
            boolean any = false;
            for (int i = 0; i < masked.length; i++) {
                if (i < allowed.length && allowed[i]) {
                    any = true;
                } else {
                    masked[i] = Float.NEGATIVE_INFINITY;
                }
            }
            if (!any) {
                return stopIds[0];
            }
            int token = sampler.applyAsInt(masked);
            accept(token);
            return token;
        }

        /** Takes the (allowed) token into the document. */
        public void accept(int token) {
            if (isStop(token)) {
                return;
            }
            JsonMatcher next = token == testedToken ? tested : matcher.advance(vocabulary.bytes(token));
            if (next == null) {
                throw new IllegalArgumentException("token " + token + " does not continue the document");
            }
            matcher = next;
            testedToken = -1;
            tested = null;
        }

        /** Every token allowed next, [vocabulary]. */
        public boolean[] allowed() {
            boolean[] ok = new boolean[vocabulary.size()];
            TokenBytes.Sorted sorted = vocabulary.sorted();
            JsonMatcher[] states = new JsonMatcher[sorted.longest() + 1];
            states[0] = matcher;
            int valid = 0;                    // states[0..valid] hold the current path's prefixes
            int dead = Integer.MAX_VALUE;     // the prefix of this length on the current path is dead
            for (int i = 0; i < sorted.ids().length; i++) {
                int id = sorted.ids()[i];
                int shared = sorted.sharedPrefix()[i];
                if (dead <= shared) {
                    continue; // starts with a prefix already refused
                }
                byte[] bytes = vocabulary.bytes(id);
                int depth = Math.min(shared, valid);
                dead = Integer.MAX_VALUE;
                while (depth < bytes.length) {
                    JsonMatcher next = states[depth].advance(bytes[depth] & 0xFF);
                    if (next == null) {
                        dead = depth + 1;
                        break;
                    }
                    states[++depth] = next;
                }
                valid = depth;
                ok[id] = dead == Integer.MAX_VALUE;
            }
            for (int id : stopIds) {
                if (id < ok.length) {
                    ok[id] = matcher.complete();
                }
            }
            return ok;
        }

        private boolean isStop(int token) {
            for (int id : stopIds) {
                if (id == token) {
                    return true;
                }
            }
            return false;
        }
    }
}
