package dev.cna.steering;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the committed records before given end offsets stop. A transactional producer (attribution-service runs with
 * exactly-once) writes a commit marker after its records, so the offset before a partition's end is often a marker,
 * never delivered to a consumer: "the record before the end offset was applied" would never hold. This reads back from
 * each end (read_committed, a window that doubles until a record is found or the beginning is reached) and answers
 * the offset after the last record a read_committed consumer gets. A small plain consumer of its own, not the channel's:
 * seeking the channel's consumer would move the registry's reading position (README, "The circuits channel").
 */
final class LastRecords {
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int FIRST_WINDOW = 64;

    private LastRecords() {}

    /**
     * partition -> offset after its last committed record below its end; partitions with no such record are left out.
     *
     * @param ends      partition -> end offset (read_committed: the last stable offset)
     * @param beginning partition -> first offset
     */
    static Map<TopicPartition, Long> before(String bootstrap, Map<TopicPartition, Long> ends, Map<TopicPartition, Long> beginning) {
        Map<TopicPartition, Long> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            for (var e : ends.entrySet()) {
                TopicPartition tp = e.getKey();
                long end = e.getValue();
                long first = beginning.getOrDefault(tp, 0L);
                c.assign(List.of(tp));
                long window = FIRST_WINDOW;
                long to = end;
                while (to > first) {
                    long from = Math.max(first, to - window);
                    long last = lastIn(c, tp, from, to);
                    if (last >= 0) {
                        out.put(tp, last + 1);
                        break;
                    }
                    to = from;
                    window *= 2;
                }
            }
        }
        return out;
    }

    /** The offset of the last committed record in [from, to), or -1. */
    private static long lastIn(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long from, long to) {
        c.seek(tp, from);
        long last = -1;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (c.position(tp) < to) {
            if (System.nanoTime() > deadline) {
                throw new org.apache.kafka.common.errors.TimeoutException("reading " + tp + " from " + from + " to " + to);
            }
            for (ConsumerRecord<byte[], byte[]> r : c.poll(POLL).records(tp)) {
                if (r.offset() < to) {
                    last = Math.max(last, r.offset());
                }
            }
        }
        return last;
    }
}
