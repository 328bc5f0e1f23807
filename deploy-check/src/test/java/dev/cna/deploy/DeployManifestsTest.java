package dev.cna.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.kafka.listener.GenericKafkaListener;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.nodepool.ProcessRoles;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Renders each overlay of deploy/ with Kustomize and checks every object against the Kubernetes (fabric8) and
 * Strimzi models, then the platform's own rules: hardened and sized containers, Quarkus probes, Services, budgets
 * and the autoscaler on real pods, network paths of docs/design.md only, the Kafka topics' policies, the model init step
 * and the gateway's keys.
 */
class DeployManifestsTest {
    /** The services and the HTTP port each listens on (their application.properties). */
    private static final Map<String, Integer> APPS = Map.of("attribution-service", 8081, "steering-service", 8082, "gateway", 8080);
    private static final Set<String> MODEL_APPS = Set.of("attribution-service", "steering-service");
    private static final String PART_OF = "app.kubernetes.io/part-of";
    private static final String NAME = "app.kubernetes.io/name";

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyObjectMatchesItsModel(String name) {
        Overlay overlay = Overlay.of(name);
        for (HasMetadata o : overlay.objects()) {
            String what = name + " " + o.getKind() + " " + o.getMetadata().getName();
            assertEquals(List.of(), StrictModel.unknownFields(o), what + ": fields the model does not know");
            assertFalse(isBlank(o.getMetadata().getName()), what + ": no name");
            if (!o.getKind().equals("Namespace")) {
                assertEquals(overlay.namespace(), o.getMetadata().getNamespace(), what + ": namespace");
            }
        }
        assertEquals(APPS.keySet(), names(overlay.all(Deployment.class)), name + ": Deployments");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void containersAreHardenedAndSized(String name) {
        for (Deployment d : Overlay.of(name).all(Deployment.class)) {
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), d.getMetadata().getName() + ": no API token");
            Set<String> volumes = pod.getVolumes().stream().map(Volume::getName).collect(Collectors.toSet());
            for (Container c : allContainers(pod)) {
                String what = name + " " + d.getMetadata().getName() + "/" + c.getName();
                assertTrue(c.getImage() != null && c.getImage().matches("[^:@\\s]+(:[\\w.-]+|@sha256:[0-9a-f]{64})")
                        && !c.getImage().endsWith(":latest"), what + ": image with a pinned tag, got " + c.getImage());
                assertNonRoot(pod.getSecurityContext(), c.getSecurityContext(), what);
                SecurityContext sc = c.getSecurityContext();
                assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), what + ": readOnlyRootFilesystem");
                assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), what + ": allowPrivilegeEscalation");
                assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), what + ": capabilities drop ALL");
                assertSized(c, what);
                for (VolumeMount m : c.getVolumeMounts()) {
                    assertTrue(volumes.contains(m.getName()), what + ": mounts the undefined volume " + m.getName());
                }
                assertTrue(writableEmptyDir(pod, c, "/tmp"), what + ": a writable emptyDir at /tmp");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void servicesHaveQuarkusProbesAndListenInCluster(String name) {
        for (Deployment d : Overlay.of(name).all(Deployment.class)) {
            String app = d.getMetadata().getName();
            Container c = appContainer(d);
            String what = name + " " + app;
            assertEquals(APPS.get(app), c.getPorts().get(0).getContainerPort(), what + ": port");
            assertProbe(c, c.getStartupProbe(), Set.of("/q/health/live", "/q/health/ready"), what + " startupProbe");
            assertProbe(c, c.getLivenessProbe(), Set.of("/q/health/live"), what + " livenessProbe");
            assertProbe(c, c.getReadinessProbe(), Set.of("/q/health/ready"), what + " readinessProbe");
            assertEquals("0.0.0.0", env(c).get("QUARKUS_HTTP_HOST"), what + ": QUARKUS_HTTP_HOST");
            assertTrue(selects(d.getSpec().getSelector(), podLabels(d)), what + ": selector matches its own pods");
            assertEquals("cna", podLabels(d).get(PART_OF), what + ": pods carry " + PART_OF + "=cna");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void servicesBudgetsAndAutoscalerPointAtRealPods(String name) {
        Overlay overlay = Overlay.of(name);
        for (String app : APPS.keySet()) {
            Deployment d = overlay.deployment(app);
            Service s = overlay.get(Service.class, app);
            assertEquals(Map.of(NAME, app), s.getSpec().getSelector(), name + " Service " + app + ": selector");
            assertTrue(podLabels(d).entrySet().containsAll(s.getSpec().getSelector().entrySet()), name + " Service " + app + " selects no pod");
            ServicePort port = s.getSpec().getPorts().get(0);
            assertEquals(APPS.get(app), port.getPort(), name + " Service " + app + ": port");
            assertEquals(APPS.get(app), containerPort(appContainer(d), port.getTargetPort()), name + " Service " + app + ": targetPort");
        }
        for (PodDisruptionBudget pdb : overlay.all(PodDisruptionBudget.class)) {
            List<Deployment> covered = overlay.all(Deployment.class).stream()
                    .filter(d -> selects(pdb.getSpec().getSelector(), podLabels(d))).toList();
            assertEquals(1, covered.size(), name + " PDB " + pdb.getMetadata().getName() + " covers one Deployment");
            // A budget must never block a node drain, whatever the replica count.
            assertEquals(new IntOrString(1), pdb.getSpec().getMaxUnavailable(), name + " PDB " + pdb.getMetadata().getName());
            assertNull(pdb.getSpec().getMinAvailable(), name + " PDB " + pdb.getMetadata().getName());
        }
        assertEquals(Set.of("gateway", "steering-service", "attribution-service"), names(overlay.all(PodDisruptionBudget.class)),
                name + ": PDBs");

        HorizontalPodAutoscaler hpa = overlay.get(HorizontalPodAutoscaler.class, "steering-service");
        assertEquals("Deployment", hpa.getSpec().getScaleTargetRef().getKind(), name + ": HPA target kind");
        Deployment steering = overlay.deployment(hpa.getSpec().getScaleTargetRef().getName());
        assertNull(steering.getSpec().getReplicas(), name + ": the HPA owns steering-service's replicas");
        assertTrue(hpa.getSpec().getMinReplicas() >= 1 && hpa.getSpec().getMinReplicas() <= hpa.getSpec().getMaxReplicas(),
                name + ": HPA min <= max");
        MetricSpec metric = hpa.getSpec().getMetrics().get(0);
        assertEquals("cpu", metric.getResource().getName(), name + ": HPA on CPU");
        assertNotNull(appContainer(steering).getResources().getRequests().get("cpu"), name + ": utilization needs a CPU request");
        assertEquals(Set.of("steering-service"), names(overlay.all(HorizontalPodAutoscaler.class)), name + ": HPAs");

        // Kafka Streams: the replicas share the partitions; prod keeps one up through a disruption (the PDB).
        Deployment attribution = overlay.deployment("attribution-service");
        assertTrue(attribution.getSpec().getReplicas() >= (name.equals("prod") ? 2 : 1), name + ": attribution-service replicas");
        assertEquals("RollingUpdate", attribution.getSpec().getStrategy().getType(), name + ": one attribution-service at a time");
        assertEquals(new IntOrString(0), attribution.getSpec().getStrategy().getRollingUpdate().getMaxSurge(),
                name + ": no surge (a surge pod would take partitions only to give them back)");
        Container app = appContainer(attribution);
        assertEquals("status.podIP", app.getEnv().stream().filter(e -> e.getName().equals("CNA_ATTRIBUTION_ADVERTISED_HOST"))
                .findFirst().orElseThrow().getValueFrom().getFieldRef().getFieldPath(), name + ": advertises its pod IP for /features");
        String stateDir = env(app).get("CNA_ATTRIBUTION_STATE_DIR");
        assertTrue(writableEmptyDir(attribution.getSpec().getTemplate().getSpec(), app, stateDir), name + ": state on a writable volume");
        assertNotNull(volume(attribution.getSpec().getTemplate().getSpec(), "state").getEmptyDir().getSizeLimit(),
                name + ": the state volume is sized");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void networkPoliciesAllowOnlyTheDesignedPaths(String name) {
        Overlay overlay = Overlay.of(name);
        List<NetworkPolicy> policies = overlay.all(NetworkPolicy.class);
        Kafka kafka = overlay.all(Kafka.class).get(0);
        int kafkaPort = plainListener(kafka).getPort();
        Map<String, String> broker = Map.of("strimzi.io/cluster", kafka.getMetadata().getName(), "strimzi.io/broker-role", "true");

        assertTrue(policies.stream().anyMatch(p -> selects(p.getSpec().getPodSelector(), Map.of())
                        && p.getSpec().getPolicyTypes().equals(List.of("Ingress")) && p.getSpec().getIngress().isEmpty()),
                name + ": a default-deny ingress policy for every pod");
        for (String app : APPS.keySet()) {
            Map<String, String> pod = podLabels(overlay.deployment(app));
            List<NetworkPolicy> mine = policies.stream().filter(p -> selects(p.getSpec().getPodSelector(), pod)).toList();
            assertTrue(mine.stream().anyMatch(p -> p.getSpec().getPolicyTypes().contains("Egress") && p.getSpec().getEgress().isEmpty()),
                    name + " " + app + ": egress denied by default");
            assertTrue(egress(mine).anyMatch(r -> allowsPort(r.getPorts(), "UDP", 53)), name + " " + app + ": DNS allowed");
            NetworkPolicy own = mine.stream().filter(p -> Map.of(NAME, app).equals(p.getSpec().getPodSelector().getMatchLabels()))
                    .findFirst().orElseThrow(() -> new AssertionError(name + ": no NetworkPolicy for " + app));
            assertEquals(List.of("Ingress", "Egress"), own.getSpec().getPolicyTypes(), name + " " + app + ": policy types");
            assertTrue(reaches(mine, broker, kafkaPort), name + " " + app + ": reaches the brokers on " + kafkaPort);
            // Who may connect: anyone to the gateway, only the gateway to the two services.
            List<NetworkPolicyIngressRule> ingress = mine.stream().flatMap(p -> p.getSpec().getIngress().stream()).toList();
            assertFalse(ingress.isEmpty(), name + " " + app + ": reachable on its port");
            for (NetworkPolicyIngressRule rule : ingress) {
                assertTrue(rule.getPorts().size() == 1 && allowsPort(rule.getPorts(), "TCP", APPS.get(app)),
                        name + " " + app + ": ingress only on its HTTP port");
                if (app.equals("gateway")) {
                    assertTrue(rule.getFrom().isEmpty(), name + ": the gateway is open to clients");
                } else if (app.equals("attribution-service")) {
                    assertEquals(Set.of(Map.of(NAME, "gateway"), Map.of(NAME, app)), rule.getFrom().stream()
                                    .map(f -> f.getPodSelector().getMatchLabels()).collect(Collectors.toSet()),
                            name + " " + app + ": from the gateway and the other replicas (interactive queries)");
                } else {
                    assertEquals(List.of(Map.of(NAME, "gateway")), rule.getFrom().stream()
                                    .map(f -> f.getPodSelector().getMatchLabels()).toList(), name + " " + app + ": only from the gateway");
                }
            }
        }
        List<NetworkPolicy> gateway = policies.stream()
                .filter(p -> selects(p.getSpec().getPodSelector(), podLabels(overlay.deployment("gateway")))).toList();
        for (String service : MODEL_APPS) {
            assertTrue(reaches(gateway, podLabels(overlay.deployment(service)), APPS.get(service)), name + ": gateway -> " + service);
        }
        Map<String, String> attribution = podLabels(overlay.deployment("attribution-service"));
        assertTrue(reaches(policies.stream().filter(p -> selects(p.getSpec().getPodSelector(), attribution)).toList(), attribution,
                APPS.get("attribution-service")), name + ": attribution-service -> its other replicas");
        // Strimzi turns the listener's peers into the brokers' ingress policy: exactly the platform's pods.
        assertEquals(List.of(Map.of(PART_OF, "cna")), plainListener(kafka).getNetworkPolicyPeers().stream()
                .map(p -> p.getPodSelector().getMatchLabels()).toList(), name + ": Kafka listener peers");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void kafkaAndTopicsFollowTheDesign(String name) {
        Overlay overlay = Overlay.of(name);
        List<Kafka> clusters = overlay.all(Kafka.class);
        assertEquals(1, clusters.size(), name + ": one Kafka");
        Kafka kafka = clusters.get(0);
        String cluster = kafka.getMetadata().getName();
        List<KafkaNodePool> pools = overlay.all(KafkaNodePool.class);
        pools.forEach(p -> assertEquals(cluster, p.getMetadata().getLabels().get("strimzi.io/cluster"), name + ": node pool cluster"));
        assertTrue(pools.stream().anyMatch(p -> p.getSpec().getRoles().contains(ProcessRoles.CONTROLLER)), name + ": KRaft controllers");
        int brokers = pools.stream().filter(p -> p.getSpec().getRoles().contains(ProcessRoles.BROKER))
                .mapToInt(p -> p.getSpec().getReplicas()).sum();
        Map<String, Object> config = kafka.getSpec().getKafka().getConfig();
        int replication = intConfig(config, "default.replication.factor");
        int minIsr = intConfig(config, "min.insync.replicas");
        assertTrue(1 <= minIsr && minIsr <= replication && replication <= brokers,
                name + ": min.insync.replicas " + minIsr + " <= replication " + replication + " <= brokers " + brokers);
        assertTrue(intConfig(config, "offsets.topic.replication.factor") <= brokers, name + ": offsets topic fits the brokers");
        assertEquals("false", String.valueOf(config.get("auto.create.topics.enable")), name + ": topics only as KafkaTopics");
        assertNotNull(kafka.getSpec().getEntityOperator().getTopicOperator(), name + ": the topic operator runs");

        String bootstrap = cluster + "-kafka-bootstrap:" + plainListener(kafka).getPort();
        for (Deployment d : overlay.all(Deployment.class)) {
            assertEquals(bootstrap, env(appContainer(d)).get("KAFKA_BOOTSTRAP_SERVERS"), name + " " + d.getMetadata().getName());
        }
        assertEquals("false", env(appContainer(overlay.deployment("attribution-service"))).get("CNA_ATTRIBUTION_CREATE_TOPICS"),
                name + ": attribution leaves the topics to Strimzi");

        Map<String, KafkaTopic> topics = overlay.all(KafkaTopic.class).stream()
                .collect(Collectors.toMap(t -> Optional.ofNullable(t.getSpec().getTopicName()).orElse(t.getMetadata().getName()), t -> t));
        Set<String> changelogs = Set.of("attribution-features", "attribution-sums", "attribution-pending", "attribution-event-ids")
                .stream().map(store -> "cna-attribution-" + store + "-changelog").collect(Collectors.toSet());
        Set<String> expected = new java.util.HashSet<>(Set.of("cna.prompt-pairs", "cna.circuits", "cna.prompt-pairs.dlq"));
        expected.addAll(changelogs);
        assertEquals(expected, topics.keySet(), name + ": topics (the platform's and attribution-service's changelogs)");
        for (String changelog : changelogs) {
            // Kafka Streams refuses to start when a changelog's partitions differ from its input topic's
            assertEquals(topics.get("cna.prompt-pairs").getSpec().getPartitions(), topics.get(changelog).getSpec().getPartitions(),
                    name + " " + changelog + ": partitions");
            assertTrue(String.valueOf(topics.get(changelog).getSpec().getConfig().get("cleanup.policy")).startsWith("compact"),
                    name + " " + changelog + ": compacted");
        }
        for (KafkaTopic t : topics.values()) {
            assertEquals(cluster, t.getMetadata().getLabels().get("strimzi.io/cluster"), name + " topic " + t.getMetadata().getName());
            assertTrue(t.getSpec().getPartitions() != null && t.getSpec().getPartitions() >= 1, name + " topic " + t.getMetadata().getName());
            assertTrue(t.getSpec().getReplicas() == null || t.getSpec().getReplicas() <= brokers, name + " topic " + t.getMetadata().getName());
        }
        assertTopicConfig(topics.get("cna.prompt-pairs"), Map.of("cleanup.policy", "delete", "retention.ms", "-1"));
        assertTopicConfig(topics.get("cna.circuits"), Map.of("cleanup.policy", "compact"));
        assertTopicConfig(topics.get("cna.prompt-pairs.dlq"), Map.of("cleanup.policy", "delete", "retention.ms", "-1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void modelServicesFetchAndReadTheModel(String name) throws IOException {
        Overlay overlay = Overlay.of(name);
        String script = Files.readString(Overlay.DEPLOY.resolve("base/fetch_model.py"), StandardCharsets.UTF_8);
        for (Deployment d : overlay.all(Deployment.class)) {
            String app = d.getMetadata().getName();
            assertEquals(MODEL_APPS.contains(app), "true".equals(d.getMetadata().getLabels().get("cna.dev/model")),
                    name + " " + app + ": cna.dev/model label");
        }
        for (String app : MODEL_APPS) {
            String what = name + " " + app;
            PodSpec pod = overlay.deployment(app).getSpec().getTemplate().getSpec();
            Container c = appContainer(overlay.deployment(app));
            Map<String, String> env = env(c);

            Container init = pod.getInitContainers().stream().filter(i -> i.getName().equals("fetch-model")).findFirst()
                    .orElseThrow(() -> new AssertionError(what + ": no fetch-model init container"));
            String catalogName = env(init).getOrDefault("MODEL", "default");
            Matcher file = Pattern.compile("(?m)^ +\"" + Pattern.quote(catalogName) + "\": Model\\(\"([^\"]+)\"").matcher(script);
            assertTrue(file.find(), what + ": fetch_model.py's catalog has MODEL=" + catalogName);
            Path model = Path.of(env.get("CNA_MODEL"));
            assertEquals(file.group(1), model.getFileName().toString(), what + ": CNA_MODEL is the file fetch_model.py extracts");
            VolumeMount models = mountAt(c, model.getParent().toString())
                    .orElseThrow(() -> new AssertionError(what + ": nothing mounted at " + model.getParent()));
            assertEquals(Boolean.TRUE, models.getReadOnly(), what + ": the model volume is read-only for the service");

            String modelDir = env(init).get("MODEL_DIR");
            VolumeMount target = mountAt(init, modelDir).orElseThrow(() -> new AssertionError(what + ": init writes nowhere"));
            assertEquals(models.getName(), target.getName(), what + ": init fills the volume the service reads");
            assertFalse(Boolean.TRUE.equals(target.getReadOnly()), what + ": init can write the model volume");
            Path scriptPath = Path.of(init.getCommand().get(init.getCommand().size() - 1));
            VolumeMount scripts = mountAt(init, scriptPath.getParent().toString())
                    .orElseThrow(() -> new AssertionError(what + ": " + scriptPath + " is not mounted"));
            String configMap = volume(pod, scripts.getName()).getConfigMap().getName();
            assertEquals(script, overlay.get(ConfigMap.class, configMap).getData().get(scriptPath.getFileName().toString()),
                    what + ": the init step runs deploy/base/fetch_model.py");

            assertTrue(env.get("JAVA_TOOL_OPTIONS").contains("-Dai.djl.offline=true"), what + ": DJL offline");
            for (String dir : List.of("DJL_CACHE_DIR", "ENGINE_CACHE_DIR", "CNA_HOME")) {
                assertTrue(writableEmptyDir(pod, c, env.get(dir)), what + ": " + dir + "=" + env.get(dir) + " on a writable emptyDir");
            }

            Volume volume = volume(pod, models.getName());
            if (name.equals("prod")) {
                assertNotNull(volume.getPersistentVolumeClaim(), what + ": the model volume is a PVC");
                assertNull(volume.getEmptyDir(), what + ": the model volume is only a PVC");
                PersistentVolumeClaim pvc = overlay.get(PersistentVolumeClaim.class, volume.getPersistentVolumeClaim().getClaimName());
                assertEquals(List.of("ReadWriteMany"), pvc.getSpec().getAccessModes(), what + ": every replica, any node");
            } else {
                assertNotNull(volume.getEmptyDir(), what + ": the model volume is an emptyDir");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void gatewayKeysComeFromASecret(String name) {
        Overlay overlay = Overlay.of(name);
        EnvVar keys = appContainer(overlay.deployment("gateway")).getEnv().stream()
                .filter(e -> e.getName().equals("CNA_GATEWAY_KEYS")).findFirst()
                .orElseThrow(() -> new AssertionError(name + ": the gateway has no CNA_GATEWAY_KEYS"));
        assertNull(keys.getValue(), name + ": keys never inline");
        SecretKeySelector ref = keys.getValueFrom().getSecretKeyRef();
        assertNotNull(ref, name + ": CNA_GATEWAY_KEYS from a Secret");
        if (name.equals("prod")) {
            assertEquals(List.of(), overlay.all(Secret.class), "prod: no Secret in the repository");
            assertEquals("cna-gateway-keys", ref.getName(), "prod: the Secret deploy/README.md tells to create");
        } else {
            Secret secret = overlay.get(Secret.class, ref.getName());
            String value = secret.getStringData() != null && secret.getStringData().containsKey(ref.getKey())
                    ? secret.getStringData().get(ref.getKey())
                    : new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())), StandardCharsets.UTF_8);
            assertTrue(value.matches("[^\\s:,]+:(chat|admin)(\\+(chat|admin))*(,[^\\s:,]+:(chat|admin)(\\+(chat|admin))*)*"),
                    name + ": CNA_GATEWAY_KEYS is KEY:role+role,KEY:role");
        }
    }

    /** The strictness itself: a misspelled field, deep in a Kubernetes or a Strimzi object, is found. */
    @Test
    void unknownFieldsAreFound() throws IOException {
        List<HasMetadata> objects = StrictModel.readAll("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  template:
                    spec:
                      containers:
                        - name: c
                          readinessProbe: {httpGet: {path: /q/health/ready, port: 8080}, initialDelaySecond: 5}
                ---
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaTopic
                metadata: {name: t}
                spec: {partition: 3}
                """);
        assertEquals(List.of(".spec.template.spec.containers[0].readinessProbe.initialDelaySecond"),
                StrictModel.unknownFields(objects.get(0)));
        assertEquals(List.of(".spec.partition"), StrictModel.unknownFields(objects.get(1)));
        assertThrows(IllegalArgumentException.class,
                () -> StrictModel.readAll("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"));
    }

    private static void assertNonRoot(PodSecurityContext pod, SecurityContext container, String what) {
        Boolean nonRoot = container != null && container.getRunAsNonRoot() != null ? container.getRunAsNonRoot()
                : pod == null ? null : pod.getRunAsNonRoot();
        Long user = container != null && container.getRunAsUser() != null ? container.getRunAsUser()
                : pod == null ? null : pod.getRunAsUser();
        assertEquals(Boolean.TRUE, nonRoot, what + ": runAsNonRoot");
        // A numeric user lets the kubelet check runAsNonRoot before the image runs.
        assertTrue(user != null && user > 0, what + ": runAsUser > 0");
    }

    private static void assertSized(Container c, String what) {
        Map<String, Quantity> requests = c.getResources().getRequests();
        Map<String, Quantity> limits = c.getResources().getLimits();
        for (String resource : List.of("cpu", "memory")) {
            assertNotNull(requests.get(resource), what + ": requests." + resource);
            assertNotNull(limits.get(resource), what + ": limits." + resource);
            assertTrue(requests.get(resource).getNumericalAmount().compareTo(limits.get(resource).getNumericalAmount()) <= 0,
                    what + ": " + resource + " request <= limit");
        }
        // Memory is not compressible: a limit above the request would be an OOM kill under node pressure.
        assertEquals(requests.get("memory"), limits.get("memory"), what + ": memory request = limit");
    }

    private static void assertProbe(Container c, Probe probe, Set<String> paths, String what) {
        assertNotNull(probe, what);
        HTTPGetAction get = probe.getHttpGet();
        assertNotNull(get, what + ": an HTTP probe");
        assertTrue(paths.contains(get.getPath()), what + ": path " + get.getPath() + " not in " + paths);
        assertEquals(c.getPorts().get(0).getContainerPort(), containerPort(c, get.getPort()), what + ": port");
    }

    private static void assertTopicConfig(KafkaTopic topic, Map<String, String> expected) {
        expected.forEach((k, v) -> assertEquals(v, String.valueOf(topic.getSpec().getConfig().get(k)),
                topic.getMetadata().getName() + " " + k));
    }

    private static GenericKafkaListener plainListener(Kafka kafka) {
        List<GenericKafkaListener> listeners = kafka.getSpec().getKafka().getListeners().stream()
                .filter(l -> !Boolean.TRUE.equals(l.isTls())).toList();
        assertEquals(1, listeners.size(), "one plain listener");
        return listeners.get(0);
    }

    private static int intConfig(Map<String, Object> config, String key) {
        assertNotNull(config.get(key), "Kafka config " + key);
        return Integer.parseInt(String.valueOf(config.get(key)));
    }

    /** Whether the policies let these pods reach pods with {@code target} labels on TCP {@code port}. */
    private static boolean reaches(List<NetworkPolicy> policies, Map<String, String> target, int port) {
        return egress(policies).anyMatch(r -> allowsPort(r.getPorts(), "TCP", port)
                && r.getTo().stream().anyMatch(peer -> samePod(peer, target)));
    }

    private static boolean samePod(NetworkPolicyPeer peer, Map<String, String> target) {
        return peer.getNamespaceSelector() == null && peer.getIpBlock() == null && selects(peer.getPodSelector(), target);
    }

    private static Stream<NetworkPolicyEgressRule> egress(List<NetworkPolicy> policies) {
        return policies.stream().flatMap(p -> p.getSpec().getEgress().stream());
    }

    private static boolean allowsPort(List<NetworkPolicyPort> ports, String protocol, int port) {
        return ports.stream().anyMatch(p -> Objects.requireNonNullElse(p.getProtocol(), "TCP").equals(protocol)
                && p.getPort() != null && Objects.equals(p.getPort().getIntVal(), port));
    }

    /** matchLabels only: the manifests use no matchExpressions, and a check that ignored them would be wrong. */
    private static boolean selects(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        assertTrue(selector.getMatchExpressions().isEmpty(), "matchExpressions are not checked: use matchLabels");
        Map<String, String> match = Objects.requireNonNullElse(selector.getMatchLabels(), Map.of());
        return labels.entrySet().containsAll(match.entrySet());
    }

    private static Map<String, String> podLabels(Deployment d) {
        return d.getSpec().getTemplate().getMetadata().getLabels();
    }

    private static Container appContainer(Deployment d) {
        List<Container> containers = d.getSpec().getTemplate().getSpec().getContainers();
        assertEquals(1, containers.size(), d.getMetadata().getName() + ": one container");
        return containers.get(0);
    }

    private static List<Container> allContainers(PodSpec pod) {
        List<Container> all = new ArrayList<>(pod.getInitContainers());
        all.addAll(pod.getContainers());
        return all;
    }

    private static Map<String, String> env(Container c) {
        return c.getEnv().stream().filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    /** The container port a probe or Service port refers to, by number or by name. */
    private static Integer containerPort(Container c, IntOrString port) {
        if (port.getStrVal() == null) {
            return port.getIntVal();
        }
        return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).map(p -> p.getContainerPort())
                .findFirst().orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + port.getStrVal()));
    }

    /** The mount whose path is {@code dir} or the deepest one above it. */
    private static Optional<VolumeMount> mountAt(Container c, String dir) {
        Predicate<VolumeMount> covers = m -> dir != null && (dir.equals(m.getMountPath()) || dir.startsWith(m.getMountPath() + "/"));
        return c.getVolumeMounts().stream().filter(covers)
                .max((a, b) -> Integer.compare(a.getMountPath().length(), b.getMountPath().length()));
    }

    private static boolean writableEmptyDir(PodSpec pod, Container c, String dir) {
        return mountAt(c, dir).filter(m -> !Boolean.TRUE.equals(m.getReadOnly()))
                .map(m -> volume(pod, m.getName()).getEmptyDir() != null).orElse(false);
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseGet(() -> fail("no volume " + name));
    }

    private static Set<String> names(List<? extends HasMetadata> objects) {
        return objects.stream().map(o -> o.getMetadata().getName()).collect(Collectors.toSet());
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
