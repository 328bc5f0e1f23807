package dev.cna.core.generate;

import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.runtime.Transformer;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decode batch that sequences join and leave at token boundaries (continuous batching). Joining sequences
 * are prefilled together in their own cache and then stacked under the running rows; finished or cancelled
 * rows are dropped before the next step. Every row steers by its own plan, asked anew before every forward
 * pass, so a plan that changes takes effect from the next token. One thread drives a batch.
 */
public final class ContinuousBatch implements AutoCloseable {

    /** One request's side of a row: its prompt and settings in, its tokens out. */
    public interface Sequence {
        int[] prompt();

        SamplingParams params();

        /** The steering of this row's next forward pass; return the same instance while nothing changes. */
        SteeringPlan steering();

        /** Checked before every step: a cancelled row leaves without computing another token. */
        boolean cancelled();

        /**
         * One call per generated token; then, if text was held back (a possible stop string, an incomplete
         * character), one call with token -1 and that text.
         *
         * @return false to stop the row now (finish reason CANCELLED)
         */
        boolean onToken(int token, String text);

        void onFinish(Generation generation);

        /** The forward pass failed; the row is gone. */
        void onError(RuntimeException error);
    }

    private record Row(Sequence sequence, Reply reply, long prefillNanos, long decodeStart) {}

    private final Transformer model;
    private final Tokenizer tokenizer;
    private final int context;
    private KvCache cache;
    private List<Row> rows = new ArrayList<>();
    private int[] pending = new int[0];        // the token each row feeds to the next step
    private List<SteeringPlan> hookPlans = List.of();
    private NeuronScaling hook;                 // built for hookPlans; null when no row steers

    public ContinuousBatch(Transformer model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.context = model.config().contextLength();
        this.cache = model.newCache(0);
    }

    public int size() {
        return rows.size();
    }

    /**
     * Prefills the sequences in one pass, samples their first tokens and adds the rows still going to the
     * batch. A prompt that leaves no room in the context is refused before anything runs.
     */
    public void join(List<? extends Sequence> sequences) {
        if (sequences.isEmpty()) {
            return;
        }
        List<int[]> prompts = new ArrayList<>();
        for (Sequence s : sequences) {
            if (s.prompt().length == 0 || s.prompt().length >= context) {
                throw new IllegalArgumentException("a prompt needs 1 to " + (context - 1) + " tokens, got " + s.prompt().length);
            }
            prompts.add(s.prompt());
        }
        List<SteeringPlan> plans = sequences.stream().map(Sequence::steering).toList();
        KvCache joining = model.newCache(sequences.size());
        float[][] logits;
        long start = System.nanoTime();
        try (NeuronScaling prefillHook = SteeringPlan.hook(plans, model.config())) {
            logits = model.prefill(joining, prompts, prefillHook);
        } catch (RuntimeException e) {
            joining.close();
            sequences.forEach(s -> s.onError(e));
            throw e;
        }
        long prefillNanos = System.nanoTime() - start;
        List<Integer> kept = new ArrayList<>();
        List<Integer> firstTokens = new ArrayList<>();
        for (int i = 0; i < sequences.size(); i++) {
            Sequence s = sequences.get(i);
            Row row = new Row(s, new Reply(tokenizer, s.prompt().length, s.params()), prefillNanos, System.nanoTime());
            int token = row.reply.next(logits[i], joining.length(i) + 1 >= context, s::onToken);
            if (row.reply.finished()) {
                finish(row);
            } else {
                kept.add(i);
                firstTokens.add(token);
                rows.add(row);
            }
        }
        if (kept.isEmpty()) {
            joining.close();
            return;
        }
        joining.retain(kept.stream().mapToInt(Integer::intValue).toArray());
        cache.absorb(joining);
        int[] next = new int[rows.size()];
        System.arraycopy(pending, 0, next, 0, pending.length);
        for (int i = 0; i < firstTokens.size(); i++) {
            next[pending.length + i] = firstTokens.get(i);
        }
        pending = next;
    }

    /**
     * One decode step for every row: drops cancelled rows, feeds each row's last token, samples the next.
     *
     * @return the rows the step ran (each got a token); 0 when the batch was empty
     */
    public int step() {
        dropFinished(true);
        if (rows.isEmpty()) {
            return 0;
        }
        int ran = rows.size();
        float[][] logits;
        try {
            logits = model.decode(cache, pending, steeringHook());
        } catch (RuntimeException e) {
            fail(e);
            throw e;
        }
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            pending[r] = row.reply.next(logits[r], cache.length(r) + 1 >= context, row.sequence::onToken);
            if (row.reply.finished()) {
                finish(row);
            }
        }
        dropFinished(false);
        return ran;
    }

    /** Removes finished rows (and, before a step, cancelled ones) from the cache and the pending tokens. */
    private void dropFinished(boolean checkCancelled) {
        List<Row> keep = new ArrayList<>(rows.size());
        int[] kept = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            if (checkCancelled && !row.reply.finished() && row.sequence.cancelled()) {
                row.reply.cancel();
                finish(row);
            }
            if (!row.reply.finished()) {
                kept[keep.size()] = r;
                keep.add(row);
            }
        }
        if (keep.size() == rows.size()) {
            return;
        }
        int[] keptRows = Arrays.copyOf(kept, keep.size());
        cache.retain(keptRows);
        int[] next = new int[keptRows.length];
        for (int i = 0; i < keptRows.length; i++) {
            next[i] = pending[keptRows[i]];
        }
        pending = next;
        rows = keep;
    }

    /** The scaling hook for the rows' current plans, rebuilt only when a plan or the row set changed. */
    private NeuronScaling steeringHook() {
        List<SteeringPlan> plans = rows.stream().map(r -> r.sequence.steering()).toList();
        if (!sameInstances(plans, hookPlans)) {
            if (hook != null) {
                hook.close();
            }
            hook = SteeringPlan.hook(plans, model.config());
            hookPlans = plans;
        }
        return hook;
    }

    /**
     * Whether two lists hold the same objects in the same order. Identity, not equals: a plan or a circuit
     * version is built once, and equals would compare whole circuits before every token of every row.
     */
    public static boolean sameInstances(List<?> a, List<?> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    private void finish(Row row) {
        row.reply.markDecodeEnd(System.nanoTime() - row.decodeStart);
        row.sequence.onFinish(row.reply.generation(row.prefillNanos));
    }

    /** Ends every row with the error and empties the batch. */
    public void fail(RuntimeException e) {
        rows.forEach(r -> r.sequence.onError(e));
        rows = new ArrayList<>();
        pending = new int[0];
        cache.close();
        cache = model.newCache(0);
    }

    @Override
    public void close() {
        if (hook != null) {
            hook.close();
        }
        cache.close();
    }
}
