package dev.cna.devstack;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Plain Kafka clients for tests: produce a record, wait for one, read a topic, on the broker the test resource started. */
public final class KafkaClients {
    private KafkaClients() {}

    public static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    public static RecordMetadata produce(String topic, String key, String value) throws Exception {
        return produce(bootstrap(), topic, key, value);
    }

    public static RecordMetadata produce(String bootstrap, String topic, String key, String value) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            return p.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    /** The first record of the topic (from the beginning) that matches, within the timeout. */
    public static ConsumerRecord<String, String> await(String topic, Predicate<ConsumerRecord<String, String>> match, Duration timeout) {
        return await(bootstrap(), topic, match, timeout);
    }

    public static ConsumerRecord<String, String> await(String bootstrap, String topic, Predicate<ConsumerRecord<String, String>> match,
                                                Duration timeout) {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", // attribution-service writes in transactions
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<TopicPartition> tps = null;
            while (System.nanoTime() < deadline) {
                if (tps == null) {
                    var infos = c.partitionsFor(topic);
                    if (infos == null || infos.isEmpty()) {
                        sleep();
                        continue;
                    }
                    tps = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
                    c.assign(tps);
                    c.seekToBeginning(tps);
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    if (match.test(r)) {
                        return r;
                    }
                }
            }
            throw new AssertionError("no matching record on " + topic + " within " + timeout);
        }
    }

    /** Every record of the topic, from the beginning to the end offsets read now. */
    public static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic) {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", // attribution-service writes in transactions
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end");
                }
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
