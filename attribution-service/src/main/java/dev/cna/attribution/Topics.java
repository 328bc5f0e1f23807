package dev.cna.attribution;

import io.quarkus.logging.Log;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/** Creates the service's topics with their configs when they do not exist yet (and the service may create them). */
final class Topics {
    static final String PAIRS = "cna.prompt-pairs";
    static final String CIRCUITS = "cna.circuits";
    static final String DLQ = "cna.prompt-pairs.dlq";

    private Topics() {}

    static void ensure(String bootstrap, int partitions) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<NewTopic> topics = List.of(
                    new NewTopic(PAIRS, Optional.of(partitions), Optional.empty())
                            .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, "-1")), // the source of truth: keep it
                    new NewTopic(CIRCUITS, Optional.of(partitions), Optional.empty())
                            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                    new NewTopic(DLQ, Optional.of(1), Optional.empty()));
            for (var entry : admin.createTopics(topics).values().entrySet()) {
                try {
                    entry.getValue().get();
                    Log.infof("created topic %s", entry.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        Log.warnf("cannot create topic %s (%s); assuming it is managed elsewhere", entry.getKey(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
