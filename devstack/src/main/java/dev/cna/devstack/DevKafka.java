package dev.cna.devstack;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.stream.Stream;

import kafka.server.BrokerServer;
import kafka.server.ControllerServer;
import kafka.server.FaultHandlerFactory;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.server.SharedServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.BrokerState;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.raft.QuorumConfig;
import org.apache.kafka.server.ServerSocketFactory;
import org.apache.kafka.server.common.MetadataVersion;
import org.apache.kafka.server.fault.FaultHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import scala.Tuple2;

/**
 * An embedded single-node KRaft Kafka broker (combined broker + controller) for local runs
 * ({@code ./cna up}) and tests.
 *
 * <p>It is assembled from the same parts as Kafka's own {@code KafkaRaftServer}, not from
 * {@code KafkaClusterTestKit}: the test kit pre-binds its listener sockets on the wildcard
 * address with random ports, so it can neither listen only on 127.0.0.1 nor on a fixed port.
 * Both listeners (clients and the KRaft controller) bind to 127.0.0.1 only.
 *
 * <p>With a data directory the broker keeps its topics and records across restarts (the
 * directory is formatted on first use only); without one it uses a temp directory that is
 * deleted on {@link #close()}.
 */
public final class DevKafka implements AutoCloseable {

    public static final String HOST = "127.0.0.1";
    static final String BROKER_LISTENER = "PLAINTEXT";
    static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final int NODE_ID = 1;

    private final Path dataDir;
    private final boolean tempDir;
    private final SharedServer shared;
    private final ControllerServer controller;
    private final BrokerServer broker;
    private final int port;
    private final long startupMillis;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DevKafka(Builder b) throws Exception {
        long t0 = System.nanoTime();
        if (b.quiet) {
            quietLogging();
        }
        this.tempDir = b.dataDir == null;
        this.dataDir = tempDir ? Files.createTempDirectory("devkafka-") : b.dataDir.toAbsolutePath();
        Files.createDirectories(dataDir);
        Logger log = LoggerFactory.getLogger(DevKafka.class);
        int controllerPort = b.controllerPort > 0 ? b.controllerPort : freePort();

        Map<String, Object> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", Integer.toString(NODE_ID));
        props.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + b.port + ","
                + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
        // Advertise the loopback address too; port 0 is replaced by the bound port.
        props.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + b.port);
        props.put("listener.security.protocol.map",
                BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("inter.broker.listener.name", BROKER_LISTENER);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        // Static quorum: the controller port may change between restarts on the same data dir.
        props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        props.put("log.dirs", dataDir.toString());
        props.put("metadata.log.dir", dataDir.toString());
        // Single node: every internal topic has one replica.
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        // The log cleaner (compacted topics) would otherwise reserve 128 MB for its offset map.
        props.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 * 1024 * 1024));
        props.putAll(b.extra);
        KafkaConfig config = new KafkaConfig(props, false);

        format(config, dataDir);

        Tuple2<MetaPropertiesEnsemble, BootstrapMetadata> init =
                KafkaRaftServer.initializeLogDirs(config, log, "[DevKafka] ");
        SharedServer sharedServer = new SharedServer(
                config,
                init._1(),
                Time.SYSTEM,
                new Metrics(),
                CompletableFuture.completedFuture(
                        QuorumConfig.parseVoterConnections(config.quorumConfig().voters())),
                QuorumConfig.parseBootstrapServers(config.quorumConfig().bootstrapServers()),
                new LoggingFaultHandlerFactory(),
                ServerSocketFactory.INSTANCE);
        ControllerServer c = null;
        BrokerServer br = null;
        try {
            c = new ControllerServer(sharedServer, KafkaRaftServer.configSchema(), init._2());
            br = new BrokerServer(sharedServer);
            // Same order as KafkaRaftServer: controller first, then broker. BrokerServer.startup
            // returns once the controller has unfenced the broker.
            c.startup();
            br.startup();
            // After a restart on old data the broker can still be in RECOVERY when startup returns: give it time.
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (br.brokerState() != BrokerState.RUNNING && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (br.brokerState() != BrokerState.RUNNING) {
                throw new IllegalStateException("broker not running after startup: " + br.brokerState());
            }
        } catch (Throwable e) {
            if (br != null) {
                try { br.shutdown(); } catch (Throwable s) { e.addSuppressed(s); }
            }
            if (c != null) {
                try { c.shutdown(); } catch (Throwable s) { e.addSuppressed(s); }
            } else {
                try { sharedServer.stopForController(); } catch (Throwable s) { e.addSuppressed(s); }
            }
            if (tempDir) {
                deleteRecursively(dataDir);
            }
            throw e;
        }
        this.shared = sharedServer;
        this.controller = c;
        this.broker = br;
        this.port = br.boundPort(new ListenerName(BROKER_LISTENER));
        this.startupMillis = (System.nanoTime() - t0) / 1_000_000;
        log.info("DevKafka ready on {} (data {}, started in {} ms)", bootstrapServers(), dataDir, startupMillis);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A broker on a free port with a temp data dir (deleted on close). */
    public static DevKafka startTemporary() throws Exception {
        return builder().build();
    }

    /** {@code localhost:PORT}: the broker listens (and advertises) on 127.0.0.1 only. */
    public String bootstrapServers() {
        return "localhost:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public long startupMillis() {
        return startupMillis;
    }

    /** The underlying broker, for tests that need to inspect it. */
    BrokerServer broker() {
        return broker;
    }

    ControllerServer controller() {
        return controller;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // Same order as KafkaRaftServer.shutdown: broker first (controlled shutdown needs the
        // controller), then the controller.
        try {
            broker.shutdown();
            broker.awaitShutdown();
        } finally {
            try {
                controller.shutdown();
                controller.awaitShutdown();
            } finally {
                if (tempDir) {
                    deleteRecursively(dataDir);
                }
            }
        }
    }

    public static final class Builder {
        private Path dataDir;
        private int port;
        private int controllerPort;
        private boolean quiet = true;
        private final Map<String, Object> extra = new HashMap<>();

        /** Keep topics and records here across restarts; null (default) = temp dir. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** Client listener port on 127.0.0.1; 0 (default) = a free port. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port);
            }
            this.port = port;
            return this;
        }

        /** KRaft controller listener port on 127.0.0.1; 0 (default) = a free port. */
        public Builder controllerPort(int controllerPort) {
            this.controllerPort = controllerPort;
            return this;
        }

        /** Lower Kafka's loggers to WARN (default true). */
        public Builder quiet(boolean quiet) {
            this.quiet = quiet;
            return this;
        }

        /** An extra broker config property (overrides the defaults above). */
        public Builder config(String key, Object value) {
            extra.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        public DevKafka build() throws Exception {
            return new DevKafka(this);
        }
    }

    /** Formats the directory on first use; an already formatted one is left as it is. */
    private static void format(KafkaConfig config, Path dir) throws Exception {
        if (Files.exists(dir.resolve("meta.properties"))) {
            // Keep its cluster id (the Formatter refuses a different one even when told to
            // ignore formatted directories).
            return;
        }
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .setDirectories(List.of(dir.toString()))
                .setMetadataLogDirectory(dir.toString())
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setControllerListenerName(CONTROLLER_LISTENER)
                .setIgnoreFormatted(true);
        formatter.run();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
            return s.getLocalPort();
        }
    }

    /** Logs every start "Performing controller activation..." at WARN: routine here. */
    private static final String QUORUM_CONTROLLER = "org.apache.kafka.controller.QuorumController";

    private static final String[] KAFKA_LOGGERS = {
        "kafka", "org.apache.kafka", "state.change.logger", QUORUM_CONTROLLER
    };

    /**
     * Kafka logs a lot at INFO (it prints its whole config several times). Lower it to WARN
     * unless the user configured it: slf4j-simple (standalone) reads system properties,
     * JBoss LogManager (Quarkus tests) and plain java.util.logging read JUL levels.
     */
    static void quietLogging() {
        for (String name : KAFKA_LOGGERS) {
            String key = "org.slf4j.simpleLogger.log." + name;
            if (System.getProperty(key) == null) {
                System.setProperty(key, name.equals(QUORUM_CONTROLLER) ? "error" : "warn");
            }
            java.util.logging.Logger jul = java.util.logging.Logger.getLogger(name);
            if (jul.getLevel() == null) {
                jul.setLevel(name.equals(QUORUM_CONTROLLER) ? Level.SEVERE : Level.WARNING);
                QUIETED.add(jul); // keep a strong reference, JUL holds loggers weakly
            }
        }
    }

    private static final List<java.util.logging.Logger> QUIETED =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Logs faults instead of halting the JVM (Kafka's standard fatal handler calls
     * Exit.halt, which would kill a test JVM that embeds the broker).
     */
    private static final class LoggingFaultHandlerFactory implements FaultHandlerFactory {
        @Override
        public FaultHandler build(String name, boolean fatal, Runnable action) {
            Logger log = LoggerFactory.getLogger(DevKafka.class);
            return (message, cause) -> {
                log.error("{} fault in {}: {}", fatal ? "fatal" : "non-fatal", name, message, cause);
                try {
                    action.run();
                } catch (Throwable t) {
                    log.error("fault handler action for {} failed", name, t);
                }
                return new RuntimeException(message, cause);
            };
        }
    }
}
