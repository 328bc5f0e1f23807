package dev.cna.steering;

import dev.cna.core.generate.ContinuousBatch;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.Backend;
import dev.cna.core.tokenizer.Tokenizer;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one decode loop that owns the model. Requests wait in a bounded queue and join the running batch at a
 * token boundary when a row is free and their KV cache fits the memory budget beside the rows already in (first
 * come, first served: the head of the queue waits for rows to finish rather than being overtaken). Joining
 * prompts are prefilled a chunk per loop turn between decode steps; rows leave when finished or cancelled,
 * freeing their slot and memory before the next step.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Scheduler.class);

    /**
     * A snapshot for health, metrics and operators. preemptedPasses: decode steps and prefill chunks stopped midway
     * and run again because a running stream's circuit changed (see {@link ContinuousBatch}).
     */
    public record Status(int queued, int prefilling, int running, int maxBatch, int queueCapacity, long steps, long tokens,
                         long prefilledPositions, long preemptedPasses) {}

    private final Backend model;
    private final ContinuousBatch batch;
    private final LinkedBlockingDeque<ScoreJob> scoring;
    private final int maxBatch;
    private final LinkedBlockingDeque<GenerationJob> queue;
    private final Thread loop;
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private volatile int running;
    private volatile int prefilling;
    private volatile long prefilledPositions;
    private volatile long preemptedPasses;
    private volatile boolean closed;
    private volatile String failure;

    public Scheduler(Backend model, Tokenizer tokenizer, MemoryBudget budget, int maxBatch, int queueCapacity) {
        if (maxBatch < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("max batch and queue capacity must be >= 1");
        }
        this.model = model;
        this.batch = new ContinuousBatch(model, tokenizer, budget);
        this.scoring = new LinkedBlockingDeque<>(queueCapacity);
        this.maxBatch = maxBatch;
        this.queue = new LinkedBlockingDeque<>(queueCapacity);
        this.loop = new Thread(this::run, "cna-decode");
    }

    public void start() {
        loop.start();
    }

    /** Why the decode loop stopped while the service was not closing, or null while it runs. */
    public String failure() {
        return failure != null ? failure : !closed && !loop.isAlive() ? "the decode loop is not running" : null;
    }

    /** Queues the job; false when the queue is full (the caller answers 429). */
    public boolean offer(GenerationJob job) {
        return !closed && queue.offer(job);
    }

    /** Queues a scoring request, run between two decode steps; false when its queue is full (the caller answers 429). */
    public boolean offer(ScoreJob job) {
        return !closed && scoring.offer(job);
    }

    public Status status() {
        return new Status(queue.size(), prefilling, running, maxBatch, queue.size() + queue.remainingCapacity(), steps.get(), tokens.get(),
                prefilledPositions, preemptedPasses);
    }

    private void run() {
        while (!closed) {
            try {
                ScoreJob score = scoring.poll();
                if (score != null) {
                    score.run(model); // a whole teacher-forced batch: running rows wait one scoring pass
                }
                admit();
                int rows = batch.step();
                if (rows > 0) {
                    steps.incrementAndGet();
                    tokens.addAndGet(rows);
                }
                running = batch.size();
                prefilling = batch.prefilling();
                prefilledPositions = batch.prefilledPositions();
                preemptedPasses = batch.preemptedPasses();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                // The batch has told its rows; the loop goes on with the next requests.
                LOG.errorf(e, "a forward pass failed");
                running = batch.size();
                prefilling = batch.prefilling();
            } catch (Error e) {
                // The JVM is in trouble (out of memory, a linkage error): stop, and let liveness say so.
                failure = e.toString();
                LOG.errorf(e, "the decode loop stopped");
                break;
            }
        }
        batch.fail(new IllegalStateException("the service is stopping"));
        batch.close();
        for (GenerationJob job; (job = queue.poll()) != null; ) {
            job.abandon("the service is stopping");
        }
        for (ScoreJob job; (job = scoring.poll()) != null; ) {
            job.abandon("the service is stopping");
        }
    }

    /**
     * Moves queued jobs into the batch while it has rows and memory for them, in arrival order; waits for work
     * when nothing runs.
     */
    private void admit() throws InterruptedException {
        GenerationJob waited = null; // taken from the queue while idle: it goes first
        if (batch.size() + batch.prefilling() == 0) {
            // short, so a scoring request arriving meanwhile waits little
            waited = queue.pollFirst(scoring.isEmpty() ? 20 : 0, TimeUnit.MILLISECONDS);
            if (waited == null) {
                return;
            }
        }
        List<GenerationJob> joining = new ArrayList<>();
        int occupied = batch.size() + batch.prefilling();
        while (occupied + joining.size() < maxBatch) {
            GenerationJob job = waited != null ? waited : queue.peekFirst();
            if (job == null) {
                break;
            }
            boolean fits = job.cancelled() || batch.fits(job, joining);
            if (!fits && occupied + joining.size() > 0) {
                break; // waits, first in line, until finished rows free memory
            }
            if (job == waited) {
                waited = null;
            } else {
                queue.pollFirst();
            }
            if (job.cancelled()) {
                job.abandon("cancelled while queued");
            } else if (!fits) { // alone in an empty batch and still too large: it never will fit
                job.abandon("the request needs more KV cache memory than this service's budget");
            } else {
                joining.add(job);
            }
        }
        if (!joining.isEmpty()) {
            batch.join(joining);
            running = batch.size();
            prefilling = batch.prefilling();
        }
    }

    @Override
    public void close() {
        closed = true;
        loop.interrupt();
        try {
            loop.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (GenerationJob job; (job = queue.poll()) != null; ) {
            job.abandon("the service is stopping");
        }
        for (ScoreJob job; (job = scoring.poll()) != null; ) {
            job.abandon("the service is stopping");
        }
    }
}
