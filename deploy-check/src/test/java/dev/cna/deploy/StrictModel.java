package dev.cna.deploy;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reads rendered manifests into the typed models of fabric8 (Kubernetes) and Strimzi, and finds what those models
 * did not know. Both collect unknown fields in an {@code additionalProperties} map instead of failing, so a typo
 * such as {@code initialDelaySecond} would pass a plain deserialization: {@link #unknownFields} walks the whole
 * object graph and reports every such field with its path.
 */
final class StrictModel {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** The only apiVersion/kind pairs the deployment may use, each with its model class. */
    private static final Map<String, Class<? extends HasMetadata>> MODELS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
            Map.entry("kafka.strimzi.io/v1/Kafka", Kafka.class),
            Map.entry("kafka.strimzi.io/v1/KafkaNodePool", KafkaNodePool.class),
            Map.entry("kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class));

    private StrictModel() {}

    /** Every YAML document of a multi-document stream, typed; an unknown apiVersion/kind fails. */
    static List<HasMetadata> readAll(String yaml) throws IOException {
        List<HasMetadata> objects = new ArrayList<>();
        for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml).readAll()) {
            if (doc == null || doc.isNull()) {
                continue;
            }
            String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
            Class<? extends HasMetadata> model = MODELS.get(type);
            if (model == null) {
                throw new IllegalArgumentException("no model for " + type + " (" + doc.path("metadata").path("name").asText()
                        + "); known: " + MODELS.keySet());
            }
            objects.add(YAML.treeToValue(doc, model));
        }
        return objects;
    }

    /** The paths of every field the models did not know, anywhere below {@code root}. */
    static List<String> unknownFields(Object root) {
        List<String> found = new ArrayList<>();
        walk(root, "", found);
        return found;
    }

    private static void walk(Object value, String path, List<String> found) {
        if (value == null || value instanceof CharSequence || value instanceof Number || value instanceof Boolean
                || value instanceof Enum<?>) {
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, found));
            return;
        }
        if (value instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                walk(item, path + "[" + i++ + "]", found);
            }
            return;
        }
        additionalProperties(value).keySet().forEach(k -> found.add(path + "." + k));
        BeanDescription bean = YAML.getSerializationConfig().introspect(YAML.constructType(value.getClass()));
        for (BeanPropertyDefinition property : bean.findProperties()) {
            if (property.hasGetter()) {
                walk(property.getGetter().getValue(value), path + "." + property.getName(), found);
            }
        }
    }

    /** fabric8 and Strimzi model classes both expose their unknown fields as getAdditionalProperties(). */
    private static Map<?, ?> additionalProperties(Object model) {
        try {
            Object extra = model.getClass().getMethod("getAdditionalProperties").invoke(model);
            return extra == null ? Map.of() : (Map<?, ?>) extra;
        } catch (NoSuchMethodException e) {
            return Map.of();
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read the unknown fields of " + model.getClass().getName(), e);
        }
    }
}
