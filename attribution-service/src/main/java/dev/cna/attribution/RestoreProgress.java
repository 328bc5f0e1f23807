package dev.cna.attribution;

import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.processor.StateRestoreListener;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Restores of the state stores from their changelogs, as Kafka Streams reports them (the extension registers this
 * bean as the global restore listener): per changelog partition the records restored so far and how many there are,
 * while it runs; and whether Kafka Streams has reached RUNNING once (the extension registers this bean as its state
 * listener too): before that, the first assignment and its restores have not happened yet. Readiness waits for both.
 */
@ApplicationScoped
public class RestoreProgress implements StateRestoreListener, KafkaStreams.StateListener {
    /** One changelog partition being restored: records restored so far, of {@code total}. */
    public record Restore(String store, long restored, long total) {
    }

    private final Map<TopicPartition, Restore> running = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> started = new ConcurrentHashMap<>();
    private volatile long restoredRecords;
    private volatile long lastRestoreMs = -1;
    private volatile boolean ranOnce;

    @Override
    public void onChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        if (newState == KafkaStreams.State.RUNNING) {
            ranOnce = true;
        }
    }

    /** Whether the instance has been RUNNING since its start (every task assigned then restored). */
    public boolean ranOnce() {
        return ranOnce;
    }

    @Override
    public void onRestoreStart(TopicPartition partition, String store, long startingOffset, long endingOffset) {
        running.put(partition, new Restore(store, 0, Math.max(0, endingOffset - startingOffset)));
        started.put(partition, System.nanoTime());
    }

    @Override
    public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long numRestored) {
        running.computeIfPresent(partition, (p, r) -> new Restore(store, r.restored() + numRestored, r.total()));
    }

    @Override
    public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
        running.remove(partition);
        Long t0 = started.remove(partition);
        restoredRecords += totalRestored;
        if (t0 != null) {
            lastRestoreMs = (System.nanoTime() - t0) / 1_000_000;
            Log.infof("restored %s (%s): %d records in %d ms", store, partition, totalRestored, lastRestoreMs);
        }
    }

    @Override
    public void onRestoreSuspended(TopicPartition partition, String store, long totalRestored) {
        running.remove(partition); // the partition moved to another instance mid-restore
        started.remove(partition);
    }

    /** A restore runs, or none has finished the first assignment yet. */
    public boolean restoring() {
        return !ranOnce || !running.isEmpty();
    }

    /** changelog partition -> its restore, for those running now. */
    public Map<String, Restore> running() {
        Map<String, Restore> out = new TreeMap<>();
        running.forEach((p, r) -> out.put(p.toString(), r));
        return out;
    }

    /** Records restored since the start, all changelogs. */
    public long restoredRecords() {
        return restoredRecords;
    }

    /** How long the last changelog partition to finish took, ms; -1 before any. */
    public long lastRestoreMs() {
        return lastRestoreMs;
    }
}
