package dev.cna.steering;

import dev.cna.core.generate.ContinuousBatch;
import dev.cna.core.runtime.Transformer;
import dev.cna.core.tokenizer.Tokenizer;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one decode loop that owns the model. Requests wait in a bounded queue, join the running batch at a
 * token boundary (prefilled together), and leave it when finished or cancelled, freeing their slot before the
 * next step.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Scheduler.class);

    /** A snapshot for health, metrics and operators. */
    public record Status(int queued, int running, int maxBatch, int queueCapacity, long steps, long tokens) {}

    private final ContinuousBatch batch;
    private final int maxBatch;
    private final ArrayBlockingQueue<GenerationJob> queue;
    private final Thread loop;
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private volatile int running;
    private volatile boolean closed;

    public Scheduler(Transformer model, Tokenizer tokenizer, int maxBatch, int queueCapacity) {
        if (maxBatch < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("max batch and queue capacity must be >= 1");
        }
        this.batch = new ContinuousBatch(model, tokenizer);
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.loop = new Thread(this::run, "cna-decode");
    }

    public void start() {
        loop.start();
    }

    /** Queues the job; false when the queue is full (the caller answers 429). */
    public boolean offer(GenerationJob job) {
        return !closed && queue.offer(job);
    }

    public Status status() {
        return new Status(queue.size(), running, maxBatch, queue.size() + queue.remainingCapacity(), steps.get(), tokens.get());
    }

    private void run() {
        while (!closed) {
            try {
                admit();
                int rows = batch.step();
                if (rows > 0) {
                    steps.incrementAndGet();
                    tokens.addAndGet(rows);
                }
                running = batch.size();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                // The batch has told its rows; the loop goes on with the next requests.
                LOG.errorf(e, "a forward pass failed");
                running = batch.size();
            }
        }
        batch.fail(new IllegalStateException("the service is stopping"));
        batch.close();
    }

    /** Moves queued jobs into the batch while it has room; waits for work when the batch is empty. */
    private void admit() throws InterruptedException {
        List<GenerationJob> joining = new ArrayList<>();
        if (batch.size() == 0) {
            GenerationJob first = queue.poll(100, TimeUnit.MILLISECONDS);
            if (first == null) {
                return;
            }
            joining.add(first);
        }
        queue.drainTo(joining, maxBatch - batch.size() - joining.size());
        joining.removeIf(job -> {
            if (job.cancelled()) {
                job.abandon("cancelled while queued");
                return true;
            }
            return false;
        });
        if (!joining.isEmpty()) {
            batch.join(joining);
            tokens.addAndGet(joining.size());
            running = batch.size();
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
    }
}
