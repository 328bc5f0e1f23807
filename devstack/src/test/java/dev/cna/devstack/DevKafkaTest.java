package dev.cna.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.network.ListenerName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DevKafkaTest {

    static DevKafka kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = DevKafka.startTemporary();
        System.out.println("DevKafka (temp dir, free port) started in " + kafka.startupMillis() + " ms");
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            Path dir = kafka.dataDir();
            kafka.close();
            assertFalse(Files.exists(dir), "temp data dir is deleted on close");
        }
    }

    @Test
    void compactedTopicRoundTrip() throws Exception {
        String bs = kafka.bootstrapServers();
        assertTrue(bs.startsWith("localhost:"), bs);
        KafkaTestClients.createTopic(bs, "cna.circuits", Map.of("cleanup.policy", "compact"));
        try (Admin admin = KafkaTestClients.admin(bs)) {
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "cna.circuits");
            Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
            assertEquals("compact", cfg.get("cleanup.policy").value());
        }
        KafkaTestClients.produce(bs, "cna.circuits", "refusal", "{\"version\":1}");
        List<ConsumerRecord<String, String>> got = KafkaTestClients.consume(bs, "cna.circuits", 1);
        assertEquals(1, got.size());
        assertEquals("refusal", got.get(0).key());
        assertEquals("{\"version\":1}", got.get(0).value());
    }

    @Test
    void listensOnlyOnLoopback() throws Exception {
        int brokerPort = kafka.port();
        int controllerPort = kafka.controller().socketServer().boundPort(new ListenerName(DevKafka.CONTROLLER_LISTENER));
        for (int port : new int[] {brokerPort, controllerPort}) {
            // Reachable on 127.0.0.1 ...
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            }
            // ... and on no other address of this machine.
            for (InetAddress addr : nonLoopbackAddresses()) {
                try (Socket s = new Socket()) {
                    assertThrows(IOException.class, () -> s.connect(new InetSocketAddress(addr, port), 2000),
                            "port " + port + " must not accept connections on " + addr);
                }
            }
            // The kernel's view: every listening socket on this port is bound to 127.0.0.1.
            List<String> listening = listeningAddresses(port);
            assertFalse(listening.isEmpty(), "port " + port + " listening");
            // 127.0.0.1 in /proc/net/tcp, or ::ffff:127.0.0.1 (a JVM on a dual-stack socket) in tcp6.
            List<String> loopback = List.of("0100007F", "0000000000000000FFFF00000100007F");
            assertTrue(loopback.containsAll(listening),
                    "port " + port + " bound only to 127.0.0.1 (hex, /proc/net/tcp*): " + listening);
        }
    }

    private static List<InetAddress> nonLoopbackAddresses() throws IOException {
        List<InetAddress> out = new ArrayList<>();
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp()) {
                continue;
            }
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (!a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    out.add(a);
                }
            }
        }
        return out;
    }

    /** Local addresses (hex, as in /proc/net/tcp) of LISTEN sockets on the port, IPv4 and IPv6. */
    private static List<String> listeningAddresses(int port) throws IOException {
        List<String> out = new ArrayList<>();
        String hexPort = String.format(Locale.ROOT, "%04X", port);
        for (String f : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path p = Path.of(f);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length < 4 || !cols[1].contains(":")) {
                    continue;
                }
                String[] local = cols[1].split(":");
                if (local[1].equals(hexPort) && cols[3].equals("0A")) { // 0A = LISTEN
                    out.add(local[0]);
                }
            }
        }
        return out;
    }
}
