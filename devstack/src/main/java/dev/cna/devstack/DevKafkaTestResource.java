package dev.cna.devstack;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus test resource: a real single-node Kafka on a free 127.0.0.1 port with a temp data
 * dir, started before the application and stopped after the tests of the class.
 *
 * <pre>
 * &#64;QuarkusTest
 * &#64;QuarkusTestResource(DevKafkaTestResource.class)
 * class MyTest { ... }
 * </pre>
 *
 * The platform topics ({@link PlatformTopics}) exist when the application starts.
 * Returns {@code kafka.bootstrap.servers} (which the SmallRye Kafka connector uses by
 * default) and turns Kafka Dev Services off (they need Docker).
 */
public class DevKafkaTestResource implements QuarkusTestResourceLifecycleManager {

    private DevKafka kafka;

    @Override
    public Map<String, String> start() {
        try {
            kafka = DevKafka.startTemporary();
            PlatformTopics.create(kafka.bootstrapServers());
        } catch (Exception e) {
            throw new IllegalStateException("could not start DevKafka", e);
        }
        return Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "quarkus.kafka.devservices.enabled", "false");
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    /** The running broker (null before start / after stop). */
    public DevKafka kafka() {
        return kafka;
    }
}
