package dev.cna.devstack;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/**
 * The platform's three topics with their policies (DESIGN.md, Kafka), created on the dev broker so that
 * every service finds them at start-up, whichever starts first.
 */
public final class PlatformTopics {
    public static final String PROMPT_PAIRS = "cna.prompt-pairs";
    public static final String CIRCUITS = "cna.circuits";
    public static final String DLQ = "cna.prompt-pairs.dlq";

    private PlatformTopics() {}

    /** Creates the topics that do not exist yet. */
    public static void create(String bootstrap) throws InterruptedException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<NewTopic> topics = List.of(
                    new NewTopic(PROMPT_PAIRS, Optional.of(1), Optional.empty())
                            .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, "-1")),
                    new NewTopic(CIRCUITS, Optional.of(1), Optional.empty())
                            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                    new NewTopic(DLQ, Optional.of(1), Optional.empty()));
            for (var created : admin.createTopics(topics).values().values()) {
                try {
                    created.get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create the platform topics", e.getCause());
                    }
                }
            }
        }
    }
}
