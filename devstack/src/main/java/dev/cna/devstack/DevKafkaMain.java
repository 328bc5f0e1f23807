package dev.cna.devstack;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Standalone broker for {@code ./cna up}:
 * {@code java -cp devstack/target/classes:devstack/target/lib/* dev.cna.devstack.DevKafkaMain --port 9092 --data .cna/kafka}.
 * Prints {@code kafka ready on localhost:PORT} once clients can connect and runs until
 * SIGTERM/SIGINT; the shutdown hook stops the broker cleanly.
 */
public final class DevKafkaMain {

    private DevKafkaMain() {
    }

    public static void main(String[] args) throws Exception {
        int port = 9092;
        int controllerPort = 0;
        Path data = null;
        boolean verbose = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
                case "--controller-port" -> controllerPort = Integer.parseInt(value(args, ++i, "--controller-port"));
                case "--data" -> data = Path.of(value(args, ++i, "--data"));
                case "--verbose" -> verbose = true;
                case "-h", "--help" -> {
                    System.out.println(usage());
                    return;
                }
                default -> {
                    System.err.println("unknown argument: " + args[i] + "\n" + usage());
                    System.exit(2);
                }
            }
        }
        if (!verbose && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            // Set before the first logger exists: slf4j-simple reads this once.
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }

        DevKafka kafka;
        try {
            kafka = DevKafka.builder()
                    .port(port)
                    .controllerPort(controllerPort)
                    .dataDir(data)
                    .quiet(!verbose)
                    .build();
            PlatformTopics.create(kafka.bootstrapServers());
        } catch (Exception e) {
            System.err.println("kafka failed to start: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                kafka.close();
                System.out.println("kafka stopped");
            } catch (Throwable t) {
                System.err.println("kafka shutdown failed: " + t);
            } finally {
                stopped.countDown();
            }
        }, "devkafka-shutdown"));

        System.out.println("kafka ready on " + kafka.bootstrapServers()
                + " (data " + kafka.dataDir() + (data == null ? ", temporary" : "")
                + ", started in " + kafka.startupMillis() + " ms)");
        System.out.flush();
        stopped.await();
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println(flag + " needs a value\n" + usage());
            System.exit(2);
        }
        return args[i];
    }

    private static String usage() {
        return "usage: DevKafkaMain [--port 9092] [--data DIR] [--controller-port N] [--verbose]\n"
                + "  --port 0 picks a free port; without --data a temp dir is used and deleted on exit";
    }
}
