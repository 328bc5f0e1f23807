package dev.cna.gateway;

import dev.cna.devstack.DevKafka;
import dev.cna.devstack.PlatformTopics;
import dev.cna.devstack.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Quarkus test resource: the platform behind the gateway, all real. A single-node Kafka (devstack, temp dir,
 * platform topics created), steering-service and attribution-service as child JVMs from their packaged
 * quarkus-apps ({@code MODULE/target/quarkus-app}, built before the gateway in the reactor), loading the default
 * model from {@code ${CNA_HOME:-~/.cache/cna}/models} ({@code ./cna model pull}). Ready once both answer
 * {@code /q/health/ready} UP (up to 3 minutes). Gives the app {@code cna.steering.url}, {@code cna.attribution.url}
 * and {@code kafka.bootstrap.servers}, and the tests the services' process ids as {@code cna.stack.steering-pid} and
 * {@code cna.stack.attribution-pid} (not under {@code cna.steering.}: the gateway's config mapping of that prefix
 * refuses keys it does not know); each service's output goes to {@code target/MODULE.log}.
 *
 * <pre>
 * &#64;QuarkusTest
 * &#64;WithTestResource(SteeringStack.class)   // classes with the same resources share one stack
 * class MyTest { ... }
 * </pre>
 *
 * A test that needs steering-service configured otherwise uses a subclass (its own stack, so the classes on the
 * default one keep sharing it): {@link #SteeringStack(Map, boolean)} gives steering-service's extra properties and
 * whether attribution-service runs too.
 */
public class SteeringStack implements QuarkusTestResourceLifecycleManager {
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    /**
     * steering-service's max_tokens in every stack (the service's default is 1024): a test that waits for something to
     * happen during a stream (a swap, a queued request) asks for a stream longer than any machine makes in the wait,
     * and closes it once done.
     */
    static final int MAX_TOKENS = 8192;

    private final Map<String, String> steeringProperties;
    private final boolean withAttribution;
    private final Map<String, String> serviceProperties;

    /** The default stack: steering-service as configured in its application.properties, and attribution-service. */
    public SteeringStack() {
        this(Map.of(), true);
    }

    /**
     * @param steeringProperties system properties for steering-service, e.g. {@code cna.steering.max-batch}
     * @param withAttribution    whether attribution-service runs too (its URL is then given to the gateway)
     */
    protected SteeringStack(Map<String, String> steeringProperties, boolean withAttribution) {
        this(steeringProperties, withAttribution, Map.of());
    }

    /** @param serviceProperties system properties for both model services, e.g. {@code cna.model} */
    protected SteeringStack(Map<String, String> steeringProperties, boolean withAttribution, Map<String, String> serviceProperties) {
        this.steeringProperties = Map.copyOf(steeringProperties);
        this.withAttribution = withAttribution;
        this.serviceProperties = Map.copyOf(serviceProperties);
    }

    private DevKafka kafka;
    private final List<ServiceProcess> services = new ArrayList<>();

    @Override
    public Map<String, String> start() {
        try {
            kafka = DevKafka.startTemporary();
            PlatformTopics.create(kafka.bootstrapServers());
            String bootstrap = "kafka.bootstrap.servers=" + kafka.bootstrapServers();
            List<String> steeringArgs = new ArrayList<>(List.of(bootstrap, "cna.steering.max-tokens=" + MAX_TOKENS));
            serviceProperties.forEach((key, value) -> steeringArgs.add(key + "=" + value));
            steeringProperties.forEach((key, value) -> steeringArgs.add(key + "=" + value));
            ServiceProcess steering = ServiceProcess.start("steering-service", steeringArgs.toArray(String[]::new));
            services.add(steering);
            Map<String, String> config = new HashMap<>(Map.of("cna.steering.url", steering.url(),
                    "cna.stack.steering-pid", Long.toString(steering.process().pid()),
                    "kafka.bootstrap.servers", kafka.bootstrapServers(), "quarkus.kafka.devservices.enabled", "false"));
            if (withAttribution) {
                List<String> attributionArgs = new ArrayList<>(List.of(bootstrap, "cna.attribution.create-topics=false"));
                serviceProperties.forEach((key, value) -> attributionArgs.add(key + "=" + value));
                ServiceProcess attribution = ServiceProcess.start("attribution-service", attributionArgs.toArray(String[]::new));
                services.add(attribution);
                config.put("cna.attribution.url", attribution.url());
                config.put("cna.stack.attribution-pid", Long.toString(attribution.process().pid()));
            }
            for (ServiceProcess service : services) {
                service.awaitReady(READY_TIMEOUT);
            }
            return config;
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("the platform stack did not start (" + e.getMessage() + "); see target/*.log", e);
        }
    }

    @Override
    public void stop() {
        services.forEach(ServiceProcess::stop);
        services.clear();
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }
}
