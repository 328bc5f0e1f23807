package dev.cna.core.generate;

import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.Prefill;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.runtime.Backend;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A decode batch that sequences join and leave at token boundaries (continuous batching). Joining sequences
 * are prefilled in their own cache, a chunk per {@link #step} (chunked prefill: running rows get a token after
 * every chunk, so a long prompt does not stall them), then stacked under the running rows; finished or cancelled
 * rows are dropped before the next step, and a prefill whose sequences were all cancelled stops at the next chunk.
 * Admission is by memory: {@link #fits} says whether a sequence's KV cache, at its longest, fits the budget beside
 * the rows already in. Every row steers by its own plan, asked anew before every forward pass and again between
 * layers: when a running row's plan changes during a pass (a circuit hot swap), the pass stops at the next layer
 * boundary ({@link Backend.Preempted}) and the step's decode starts over under the new plans, so the token being
 * computed is already the new plan's, at the cost of the stopped part of the pass. Each decode step and each
 * prefill chunk is preempted at most once, so every one of them ends. One thread drives a batch.
 */
public final class ContinuousBatch implements AutoCloseable {

    /** One request's side of a row: its prompt and settings in, its tokens out. */
    public interface Sequence {
        int[] prompt();

        SamplingParams params();

        /**
         * The steering of this row's next forward pass; return the same instance while nothing changes. Asked before
         * every pass and between its layers (see the class comment), so it must be cheap.
         */
        SteeringPlan steering();

        /**
         * After each chunk of a prompt that needs more than one: how many of its (padded) positions are prefilled.
         */
        default void onPrefill(int done, int total) {}

        /** Checked before every step and every prefill chunk: a cancelled row leaves without computing more. */
        boolean cancelled();

        /**
         * One call per generated token; then, if text was held back (a possible stop string, an incomplete
         * character), one call with token -1 and that text.
         *
         * @return false to stop the row now (finish reason CANCELLED)
         */
        boolean onToken(int token, String text);

        /**
         * As {@link #onToken(int, String)}, with the token's log-probabilities when its {@link SamplingControls#logprobs()}
         * asked for them (null otherwise, and for the held-back text). The batch calls this one.
         */
        default boolean onToken(int token, String text, TokenLogprobs logprobs) {
            return onToken(token, text);
        }

        void onFinish(Generation generation);

        /** The forward pass failed; the row is gone. */
        void onError(RuntimeException error);
    }

    private record Row(Sequence sequence, Reply reply, long prefillNanos, long decodeStart) {}

    /** Sequences being prefilled together, a chunk per step. */
    private static final class Joining {
        final List<Sequence> sequences;
        final Prefill prefill;
        final long start = System.nanoTime();
        List<SteeringPlan> plans = List.of();
        NeuronScaling hook;
        boolean preemptible = true; // false while the chunk preempted last time runs again

        Joining(List<Sequence> sequences, Prefill prefill) {
            this.sequences = sequences;
            this.prefill = prefill;
        }

        void close() {
            if (hook != null) {
                hook.close();
            }
        }
    }

    private final Backend model;
    private final Tokenizer tokenizer;
    private final int context;
    private final MemoryBudget budget;
    private KvCache cache;
    private List<Row> rows = new ArrayList<>();
    private int[] pending = new int[0];        // the token each row feeds to the next step
    private final ArrayDeque<Joining> joining = new ArrayDeque<>();
    private List<SteeringPlan> hookPlans = List.of();
    private NeuronScaling hook;                 // built for hookPlans; null when no row steers
    private Map<Sequence, SteeringPlan> decodingPlans = Map.of(); // each row's plan in the last hook built
    private long prefilledPositions;
    private long preemptedPasses;

    /**
     * @param budget the KV cache and scratch memory the batch may use; its chunk is the model's
     *               {@link Backend#prefillChunk()}
     */
    public ContinuousBatch(Backend model, Tokenizer tokenizer, MemoryBudget budget) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.context = model.config().contextLength();
        this.budget = budget;
        this.cache = model.newCache(0);
    }

    /** Rows decoding now. */
    public int size() {
        return rows.size();
    }

    /** Prompt positions (padding included) run by prefill passes so far: what abandoned prefills did not cost. */
    public long prefilledPositions() {
        return prefilledPositions;
    }

    /** Forward passes (decode steps or prefill chunks) stopped midway because a running row's plan changed. */
    public long preemptedPasses() {
        return preemptedPasses;
    }

    /** Whether nothing is decoding or prefilling. */
    public boolean isEmpty() {
        return rows.isEmpty() && joining.isEmpty();
    }

    /** Sequences still in prefill. */
    public int prefilling() {
        return joining.stream().mapToInt(j -> j.sequences.size()).sum();
    }

    /** The most KV columns a sequence can reach: its prompt plus its reply, within the context. */
    private int lifetime(Sequence s) {
        return Math.min(context, s.prompt().length + s.params().maxTokens());
    }

    /**
     * Whether the candidate fits beside every row already decoding or prefilling and the sequences about to join
     * with it, each at its longest (prompt + max tokens). The batch is left-padded, so it holds rows x its widest
     * column count: a running row ends at its padding + its longest; a joining one at the larger of its own
     * longest and the columns it joins behind (today's, plus a decode step of the running rows per prefill chunk
     * ahead of it) + its max tokens.
     */
    public boolean fits(Sequence candidate, List<? extends Sequence> alsoJoining) {
        int widest = widestRunning();
        int behind = cache.columns();
        boolean decoding = !rows.isEmpty(); // without running rows no decode step widens the batch during a prefill
        List<Sequence> waiting = new ArrayList<>();
        for (Joining j : joining) {
            behind += decoding ? chunks(j.prefill.remaining(), j.sequences.size()) : 0;
            waiting.addAll(j.sequences);
        }
        waiting.addAll(alsoJoining);
        waiting.add(candidate);
        for (Sequence s : waiting) {
            behind += decoding ? chunks(s.prompt().length, 1) : 0; // an upper bound: it may share its chunks
            widest = Math.max(widest, Math.max(lifetime(s), Math.min(context, behind + s.params().maxTokens())));
        }
        return budget.fits(rows.size() + waiting.size(), widest);
    }

    /** Prefill passes (so decode steps of the running rows) for this many columns of this many rows. */
    private int chunks(int columns, int rowCount) {
        int perChunk = Math.max(1, model.prefillChunk() / rowCount);
        return (columns + perChunk - 1) / perChunk;
    }

    /** The columns the running rows can widen the batch to: the largest padding + prompt + max tokens. */
    private int widestRunning() {
        int widest = 0;
        for (int r = 0; r < rows.size(); r++) {
            widest = Math.max(widest, cache.columns() - cache.length(r) + lifetime(rows.get(r).sequence));
        }
        return widest;
    }

    /**
     * Queues the sequences for prefill: prompts short enough to share one chunk go together, each longer one
     * alone, so a short prompt never waits behind a long one's chunks. Nothing runs until {@link #step}. A
     * prompt that leaves no room in the context is refused.
     */
    public void join(List<? extends Sequence> sequences) {
        for (Sequence s : sequences) {
            if (s.prompt().length == 0 || s.prompt().length >= context) {
                throw new IllegalArgumentException("a prompt needs 1 to " + (context - 1) + " tokens, got " + s.prompt().length);
            }
        }
        List<Sequence> sorted = new ArrayList<>(sequences);
        sorted.sort(Comparator.comparingInt(s -> s.prompt().length));
        List<Sequence> group = new ArrayList<>();
        for (Sequence s : sorted) {
            if (!group.isEmpty() && (group.size() + 1) * s.prompt().length > model.prefillChunk()) {
                startPrefill(group);
                group = new ArrayList<>();
            }
            group.add(s);
        }
        if (!group.isEmpty()) {
            startPrefill(group);
        }
    }

    private void startPrefill(List<Sequence> group) {
        KvCache groupCache = model.newCache(group.size());
        // room for each row's whole life (prompt + reply), so a backend with per-row buffers allocates them once
        groupCache.reserve(group.stream().mapToInt(this::lifetime).max().getAsInt());
        joining.add(new Joining(group, model.startPrefill(groupCache, group.stream().map(Sequence::prompt).toList())));
    }

    /**
     * Runs one chunk of the oldest prefill, then one decode step for the running rows. A prefill whose
     * sequences were all cancelled is dropped before its next chunk.
     *
     * @return the rows that got a token (decoded, or their first token from a finished prefill)
     */
    public int step() {
        int first = prefillChunk();
        return first + decodeStep();
    }

    /** One chunk of the oldest prefill; when it finishes, samples the first tokens and moves the rows in. */
    private int prefillChunk() {
        Joining j = joining.peek();
        if (j == null) {
            return 0;
        }
        if (j.sequences.stream().allMatch(Sequence::cancelled)) {
            joining.poll();
            j.close();
            j.prefill.cache().close();
            for (Sequence s : j.sequences) {
                Reply reply = new Reply(tokenizer, s.prompt(), s.params());
                reply.cancel();
                s.onFinish(reply.generation(System.nanoTime() - j.start));
            }
            return 0;
        }
        float[][] logits;
        try {
            List<SteeringPlan> plans = j.sequences.stream().map(Sequence::steering).toList();
            if (!sameInstances(plans, j.plans)) { // j.plans starts empty: the first chunk builds the hook
                j.close();
                j.hook = SteeringPlan.hook(plans, model.config());
                j.plans = plans;
            }
            int before = j.prefill.remaining();
            try {
                // a running row's new plan should not wait for this chunk: stop it, decode, and run it next step
                logits = j.prefill.advance(model.prefillChunk(), j.hook, j.preemptible ? this::runningPlanChanged : Backend.NEVER);
            } catch (Backend.Preempted p) {
                preemptedPasses++;
                j.preemptible = false;
                return 0;
            }
            j.preemptible = true;
            prefilledPositions += (long) (before - j.prefill.remaining()) * j.sequences.size();
            if (logits == null || j.prefill.width() > before) { // more than one chunk in all
                j.sequences.forEach(s -> s.onPrefill(j.prefill.width() - j.prefill.remaining(), j.prefill.width()));
            }
        } catch (RuntimeException e) {
            joining.poll();
            j.close();
            j.prefill.cache().close();
            j.sequences.forEach(s -> s.onError(e));
            throw e;
        }
        if (logits == null) {
            return 0;
        }
        joining.poll();
        j.close();
        admit(j, logits, System.nanoTime() - j.start);
        return j.sequences.size();
    }

    /** Samples the first token of each prefilled sequence and adds the rows still going to the batch. */
    private void admit(Joining j, float[][] logits, long prefillNanos) {
        KvCache joined = j.prefill.cache();
        List<Integer> kept = new ArrayList<>();
        List<Integer> firstTokens = new ArrayList<>();
        for (int i = 0; i < j.sequences.size(); i++) {
            Sequence s = j.sequences.get(i);
            Row row = new Row(s, new Reply(tokenizer, s.prompt(), s.params()), prefillNanos, System.nanoTime());
            if (s.cancelled()) {
                row.reply.cancel();
                finish(row);
                continue;
            }
            int token = row.reply.next(logits[i], joined.length(i) + 1 >= context, s::onToken);
            if (row.reply.finished()) {
                finish(row);
            } else {
                kept.add(i);
                firstTokens.add(token);
                rows.add(row);
            }
        }
        if (kept.isEmpty()) {
            joined.close();
            return;
        }
        joined.retain(kept.stream().mapToInt(Integer::intValue).toArray());
        cache.absorb(joined);
        cache.reserve(widestRunning()); // decode steps then append without copying the cache
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
    private int decodeStep() {
        dropFinished(true);
        if (rows.isEmpty()) {
            return 0;
        }
        int ran = rows.size();
        float[][] logits;
        try {
            try {
                logits = model.decode(cache, pending, steeringHook(), this::runningPlanChanged);
            } catch (Backend.Preempted p) {
                preemptedPasses++;
                logits = model.decode(cache, pending, steeringHook()); // not preemptible: the step ends
            }
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
        cache.reserve(widestRunning());
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
            Map<Sequence, SteeringPlan> byRow = new IdentityHashMap<>();
            for (int r = 0; r < rows.size(); r++) {
                byRow.put(rows.get(r).sequence, plans.get(r));
            }
            decodingPlans = byRow;
        }
        return hook;
    }

    /**
     * Asked between the layers of a pass: whether a running row now has another plan than the one of the last hook
     * built (rows that joined since have none to compare and do not count).
     */
    private boolean runningPlanChanged() {
        for (Row row : rows) {
            SteeringPlan decoding = decodingPlans.get(row.sequence);
            if (decoding != null && row.sequence.steering() != decoding) {
                return true;
            }
        }
        return false;
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

    /** Ends every row and every prefill with the error and empties the batch. */
    public void fail(RuntimeException e) {
        for (Joining j; (j = joining.poll()) != null; ) {
            j.close();
            j.prefill.cache().close();
            j.sequences.forEach(s -> s.onError(e));
        }
        rows.forEach(r -> r.sequence.onError(e));
        rows = new ArrayList<>();
        pending = new int[0];
        cache.close();
        cache = model.newCache(0);
    }

    @Override
    public void close() {
        fail(new IllegalStateException("the batch is closing"));
        if (hook != null) {
            hook.close();
        }
        cache.close();
    }
}
