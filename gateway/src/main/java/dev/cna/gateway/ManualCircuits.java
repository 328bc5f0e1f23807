package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.cna.api.ProblemType;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Saves a hand-made circuit ({@code method: manual}, e.g. edited in the web UI) as the next version of its name on
 * {@code cna.circuits}. Checks what steering-service would otherwise drop silently: the schema
 * (docs/schemas/circuit.v1.schema.json), the served model's fingerprint and shape, neurons inside it, unique, at most
 * {@code stats.topK}; and that the name is not a feature attribution-service keeps (its versions would collide).
 * Saves are serialized in this gateway so two of them do not take the same version (replicas can still race: the
 * registry then keeps the first and refuses the other as not newer).
 */
@ApplicationScoped
public class ManualCircuits {
    /** The schema on the classpath (the gateway's pom copies docs/schemas/circuit.v1.schema.json there). */
    static final String SCHEMA = "/schemas/circuit.v1.schema.json";
    /** Schema errors named in a 400's detail; the rest are counted. */
    private static final int ERRORS_SHOWN = 5;

    private final ObjectMapper json;
    private final SteeringClient steering;
    private final AttributionFeatures attribution;
    private final CircuitPublisher publisher;
    private final JsonSchema schema;

    ManualCircuits(ObjectMapper json, SteeringClient steering, AttributionFeatures attribution, CircuitPublisher publisher) {
        this.json = json;
        this.steering = steering;
        this.attribution = attribution;
        this.publisher = publisher;
        try (InputStream in = ManualCircuits.class.getResourceAsStream(SCHEMA)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA + " is not on the classpath");
            }
            this.schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Checks {@code body} and publishes it as version (registry's + 1, or 1). Blocking: call it off the event loop.
     *
     * @param body a {@code cna.circuit/v1} document without {@code version} (the gateway assigns it); {@code schema},
     *             {@code createdAt} (now) and {@code source} (null) may be left out
     * @return where Kafka wrote it
     * @throws ProblemException 400 bad document or foreign model, 409 a feature of attribution-service, 503 a service
     *                          or Kafka unreachable
     * @throws JsonProcessingException the body is not JSON (400 invalid-json)
     */
    public synchronized PublishedCircuit save(String name, String body) throws JsonProcessingException {
        PairsRequestParser.checkFeature(name);
        JsonNode parsed = json.readTree(body);
        if (!(parsed instanceof ObjectNode circuit)) {
            throw ProblemException.invalid("the body must be a cna.circuit/v1 object");
        }
        if (circuit.has("version")) {
            throw ProblemException.invalid("version: leave it out, the gateway publishes the next version");
        }
        if (!circuit.has("schema")) {
            circuit.put("schema", "cna.circuit/v1");
        }
        if (!circuit.has("createdAt")) {
            circuit.put("createdAt", Instant.now().toString());
        }
        if (!circuit.has("source")) {
            circuit.putNull("source");
        }
        circuit.put("version", 1); // a placeholder for the schema check; the real one needs the registry
        checkSchema(circuit);
        if (!name.equals(circuit.get("name").asText())) {
            throw ProblemException.invalid("name: " + circuit.get("name").asText() + " is not the path's " + name);
        }
        if (!"manual".equals(circuit.get("method").asText())) {
            throw ProblemException.invalid("method: only manual circuits are saved here (attribution-service makes the others)");
        }
        checkNeurons(circuit, servedModel());
        if (attribution.find(name).filter(feature -> feature.path("events").asLong() > 0).isPresent()) {
            throw new ProblemException(ProblemType.CONFLICT, "attribution-service keeps the feature " + name
                    + " (GET /api/features/" + name + "): save the edited circuit under another name");
        }
        long version = registryVersion(name) + 1;
        circuit.put("version", version);
        PublishedCircuit published = publisher.publish(name, version, circuit.toString());
        Log.infof("published manual circuit %s v%d (%d neurons)", name, version, circuit.get("neurons").size());
        return published;
    }

    private void checkSchema(ObjectNode circuit) {
        Set<ValidationMessage> errors = schema.validate(circuit);
        if (!errors.isEmpty()) {
            String shown = errors.stream().map(ValidationMessage::getMessage).sorted().limit(ERRORS_SHOWN)
                    .collect(Collectors.joining("; "));
            int more = errors.size() - ERRORS_SHOWN;
            throw ProblemException.invalid("not a cna.circuit/v1 document: " + shown + (more > 0 ? " (and " + more + " more)" : ""));
        }
    }

    /** steering-service's {@code GET /status} model: id, fingerprint, layers, intermediateSize. */
    private JsonNode servedModel() {
        return read(steering.get("/status").await().indefinitely()).path("model");
    }

    /**
     * The model must be the served one; neurons inside it, outside the excluded layers, each once, at most
     * {@code stats.topK}. Sorts them as the schema orders them (|delta| descending, ties by layer then index), so a
     * client need not.
     */
    private static void checkNeurons(ObjectNode circuit, JsonNode served) {
        JsonNode model = circuit.get("model");
        if (!model.get("fingerprint").asText().equals(served.path("fingerprint").asText())) {
            throw ProblemException.invalid("model.fingerprint: not the model steering-service serves ("
                    + served.path("id").asText() + ", " + served.path("fingerprint").asText() + ")");
        }
        int layers = served.path("layers").asInt();
        int size = served.path("intermediateSize").asInt();
        if (model.get("layers").asInt() != layers || model.get("intermediateSize").asInt() != size) {
            throw ProblemException.invalid("model: layers and intermediateSize must be the served model's, " + layers + " and " + size);
        }
        Set<Integer> excluded = new HashSet<>();
        circuit.get("stats").get("excludedLayers").forEach(l -> excluded.add(l.asInt()));
        if (excluded.stream().anyMatch(l -> l >= layers)) {
            throw ProblemException.invalid("stats.excludedLayers: layers are 0 to " + (layers - 1));
        }
        List<JsonNode> neurons = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (JsonNode n : circuit.get("neurons")) {
            int layer = n.get("layer").asInt();
            int index = n.get("index").asInt();
            String at = "neurons: layer " + layer + " index " + index;
            if (layer >= layers || index >= size) {
                throw ProblemException.invalid(at + " is outside the model (" + layers + " layers x " + size + ")");
            }
            if (excluded.contains(layer)) {
                throw ProblemException.invalid(at + " is in an excluded layer");
            }
            if (!seen.add((long) layer * size + index)) {
                throw ProblemException.invalid(at + " is listed twice");
            }
            neurons.add(n);
        }
        int topK = circuit.get("stats").get("topK").asInt();
        if (neurons.size() > topK) {
            throw ProblemException.invalid("stats.topK: " + topK + " is below the " + neurons.size() + " neurons");
        }
        neurons.sort(Comparator.<JsonNode>comparingDouble(n -> -Math.abs(n.get("delta").asDouble()))
                .thenComparingInt(n -> n.get("layer").asInt()).thenComparingInt(n -> n.get("index").asInt()));
        ArrayNode sorted = circuit.putArray("neurons");
        neurons.forEach(sorted::add);
    }

    /** The version steering-service's registry holds now, 0 when it has none. */
    private long registryVersion(String name) {
        try {
            return read(steering.get("/circuits/" + name).await().indefinitely()).path("version").asLong();
        } catch (ProblemException e) {
            if (e.problem().status() == 404) {
                return 0;
            }
            throw e;
        }
    }

    private JsonNode read(String body) {
        try {
            return json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service answered something other than JSON");
        }
    }
}
