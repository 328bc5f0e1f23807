package dev.cna.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevKafkaRestartTest {

    @TempDir
    Path data;

    @Test
    void restartOnSameDataDirKeepsTopicsAndRecords() throws Exception {
        try (DevKafka first = DevKafka.builder().dataDir(data).build()) {
            String bs = first.bootstrapServers();
            KafkaTestClients.createTopic(bs, "cna.prompt-pairs", Map.of("retention.ms", "-1"));
            KafkaTestClients.produce(bs, "cna.prompt-pairs", "refusal", "pair-1");
        }
        assertTrue(Files.exists(data.resolve("meta.properties")), "data dir formatted");

        try (DevKafka second = DevKafka.builder().dataDir(data).build()) {
            System.out.println("DevKafka restart on existing data dir started in " + second.startupMillis() + " ms");
            String bs = second.bootstrapServers();
            try (Admin admin = KafkaTestClients.admin(bs)) {
                Set<String> topics = admin.listTopics().names().get();
                assertTrue(topics.contains("cna.prompt-pairs"), topics.toString());
                ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "cna.prompt-pairs");
                Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
                assertEquals("-1", cfg.get("retention.ms").value());
            }
            List<ConsumerRecord<String, String>> got = KafkaTestClients.consume(bs, "cna.prompt-pairs", 1);
            assertEquals(1, got.size());
            assertEquals("refusal", got.get(0).key());
            assertEquals("pair-1", got.get(0).value());
            assertEquals(0L, got.get(0).offset());
        }
        assertTrue(Files.exists(data.resolve("meta.properties")), "a given data dir is kept on close");
    }
}
