package dev.cna.bench;

import dev.cna.steering.CircuitRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Applies the registry's topic (one partition, from its start) to a {@link CircuitRegistry} with a plain consumer. The
 * benches drive the registry and the scheduler in-process, without Quarkus, so without the service's circuits channel;
 * this keeps a circuit's path through Kafka in what they measure.
 */
final class CircuitFeed implements AutoCloseable {
    private final KafkaConsumer<String, String> consumer;
    private final Thread thread;
    private volatile boolean closed;

    CircuitFeed(String bootstrap, CircuitRegistry registry) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", // attribution-service writes in transactions
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
        List<TopicPartition> partition = List.of(new TopicPartition(registry.topic(), 0));
        consumer.assign(partition);
        consumer.seekToBeginning(partition);
        thread = new Thread(() -> {
            try (consumer) {
                while (!closed) {
                    consumer.poll(Duration.ofMillis(100)).forEach(registry::apply);
                }
            } catch (WakeupException e) {
                // closing
            }
        }, "bench-circuit-feed");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        consumer.wakeup();
        thread.join(5_000);
    }
}
