package dev.cna.attribution;

import io.quarkus.logging.Log;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/** Creates the service's topics with their configs when they do not exist yet (and the service may create them). */
final class Topics {
    static final String PAIRS = dev.cna.api.Topics.PROMPT_PAIRS;
    static final String CIRCUITS = dev.cna.api.Topics.CIRCUITS;
    static final String DLQ = dev.cna.api.Topics.DLQ;

    private Topics() {}

    static void ensure(String bootstrap, int partitions) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<NewTopic> topics = List.of(
                    new NewTopic(PAIRS, Optional.of(partitions), Optional.empty())
                            .configs(dev.cna.api.Topics.PROMPT_PAIRS_CONFIG), // the source of truth: kept
                    new NewTopic(CIRCUITS, Optional.of(partitions), Optional.empty())
                            .configs(dev.cna.api.Topics.CIRCUITS_CONFIG),
                    new NewTopic(DLQ, Optional.of(1), Optional.empty()).configs(dev.cna.api.Topics.DLQ_CONFIG));
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
