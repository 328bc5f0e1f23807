package dev.cna.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class DevKafkaTestResourceTest {

    @Test
    void startReturnsBootstrapServersAndStopCloses() throws Exception {
        DevKafkaTestResource resource = new DevKafkaTestResource();
        Map<String, String> config = resource.start();
        try {
            assertEquals("false", config.get("quarkus.kafka.devservices.enabled"));
            String bs = config.get("kafka.bootstrap.servers");
            assertTrue(bs.matches("localhost:\\d+"), bs);
            KafkaTestClients.createTopic(bs, "t", Map.of());
            KafkaTestClients.produce(bs, "t", "k", "v");
            assertEquals("v", KafkaTestClients.consume(bs, "t", 1).get(0).value());
        } finally {
            resource.stop();
        }
        assertNull(resource.kafka());
    }
}
