package dev.cna.devstack;

import dev.cna.api.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/**
 * The platform's three topics with their policies ({@link Topics}, DESIGN.md, Kafka), created on the dev broker so
 * that every service finds them at start-up, whichever starts first. One partition each on this single node.
 */
public final class PlatformTopics {
    public static final String PROMPT_PAIRS = Topics.PROMPT_PAIRS;
    public static final String CIRCUITS = Topics.CIRCUITS;
    public static final String DLQ = Topics.DLQ;

    private PlatformTopics() {}

    /** Creates the topics that do not exist yet. */
    public static void create(String bootstrap) throws InterruptedException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<NewTopic> topics = Topics.CONFIGS.entrySet().stream()
                    .map(t -> new NewTopic(t.getKey(), Optional.of(1), Optional.empty()).configs(t.getValue()))
                    .toList();
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
