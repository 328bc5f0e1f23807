package dev.cna.core.circuit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.cna.core.attribution.CircuitSelector;
import dev.cna.core.attribution.SelectionOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CircuitJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Circuit.Model MODEL = new Circuit.Model("SmolLM2-135M-Instruct", "ab".repeat(32), 6, 16);
    private static JsonSchema schema;

    @BeforeAll
    static void loadSchema() throws IOException {
        Path file = Path.of("..", "docs", "schemas", "circuit.v1.schema.json"); // tests run in cna-core/
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        try (InputStream in = Files.newInputStream(file)) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in, config);
        }
    }

    @Test
    void writtenCircuitsRoundTripAndMatchTheSchema() throws IOException {
        for (Circuit circuit : List.of(contrastive(), manual())) {
            String json = CircuitJson.write(circuit);
            assertEquals(circuit, CircuitJson.read(json));
            assertEquals(Set.of(), schema.validate(JSON.readTree(json)), json);
        }
    }

    @Test
    void fieldNamesAreThoseOfTheDesign() throws IOException {
        JsonNode json = JSON.readTree(CircuitJson.write(contrastive()));
        assertEquals(List.of("schema", "name", "version", "model", "method", "neurons", "stats", "createdAt", "source"), names(json));
        assertEquals(List.of("id", "fingerprint", "layers", "intermediateSize"), names(json.get("model")));
        assertEquals(List.of("layer", "index", "delta"), names(json.get("neurons").get(0)));
        assertEquals(List.of("positiveCount", "negativeCount", "topK", "excludedLayers", "blacklistedCount"), names(json.get("stats")));
        assertEquals(List.of("topic", "partition", "offset"), names(json.get("source")));
        assertEquals("cna.circuit/v1", json.get("schema").asText());
        assertEquals("contrastive", json.get("method").asText());
        assertEquals("2026-11-24T10:15:30Z", json.get("createdAt").asText());
        assertTrue(JSON.readTree(CircuitJson.write(manual())).get("source").isNull());
    }

    @Test
    void deltasSurviveBitForBit() {
        Circuit circuit = contrastive();
        Circuit read = CircuitJson.read(CircuitJson.write(circuit));
        for (int k = 0; k < circuit.neurons().size(); k++) {
            assertEquals(Double.doubleToLongBits(circuit.neurons().get(k).delta()), Double.doubleToLongBits(read.neurons().get(k).delta()));
        }
    }

    /** Broken documents: how to break a valid one, what the reader must say, and whether the schema alone catches it. */
    static Stream<Arguments> invalidDocuments() {
        return Stream.of(
                broken("wrong schema tag", d -> d.put("schema", "cna.circuit/v2"), "schema must be \"cna.circuit/v1\"", true),
                broken("empty name", d -> d.put("name", ""), "name must be", true),
                broken("name with a slash", d -> d.put("name", "a/b"), "name must be", true),
                broken("version 0", d -> d.put("version", 0), "version must be at least 1", true),
                broken("missing model", d -> d.remove("model"), "'model'", true),
                broken("unknown field", d -> d.put("colour", "red"), "colour", true),
                broken("unknown method", d -> d.put("method", "guess"), "guess", true),
                broken("layers as a string", d -> model(d).put("layers", "6"), "model.layers", true),
                broken("fractional index", d -> neuron(d, 0).put("index", 1.5), "neurons[0].index", true),
                broken("short fingerprint", d -> model(d).put("fingerprint", "abc"), "fingerprint must be 64", true),
                broken("empty neurons", d -> d.putArray("neurons"), "neurons must be a non-empty list", true),
                broken("no date", d -> d.put("createdAt", "yesterday"), "createdAt must be an ISO-8601", true),
                broken("source without offset", d -> ((ObjectNode) d.get("source")).remove("offset"), "source", true),
                broken("negative delta count", d -> stats(d).put("positiveCount", -1), "stats counts must be non-negative", true),
                broken("not JSON", null, "not valid JSON", false),
                // Rules a JSON Schema cannot express; the reader checks them.
                broken("layer beyond the model", d -> neuron(d, 0).put("layer", 6), "neurons[0] (6, ", false),
                broken("index beyond the model", d -> neuron(d, 1).put("index", 16), "outside the model's 6 x 16", false),
                broken("neuron in an excluded layer", d -> neuron(d, 0).put("layer", 1), "excluded layer 1", false),
                broken("unsorted neurons", d -> swapFirstTwoNeurons(d), "must be sorted by |delta| descending", false),
                broken("duplicate neuron", d -> ((ArrayNode) d.get("neurons")).insert(1, neuron(d, 0).deepCopy()), "appears twice", false),
                broken("same neuron with two deltas", d -> neuron(d, 3).put("layer", 3).put("index", 2), "neurons[3] (3, 2) appears twice", false),
                broken("more neurons than topK", d -> stats(d).put("topK", 2), "exceed stats.topK 2", false),
                broken("excluded layer beyond the model", d -> ((ArrayNode) stats(d).get("excludedLayers")).add(9), "excludedLayers has layer 9", false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidDocuments")
    void invalidDocumentsAreRejectedWithAClearMessage(String what, Consumer<ObjectNode> breakIt, String message, boolean schemaCatchesIt)
            throws IOException {
        String json;
        if (breakIt == null) {
            json = "{\"schema\": \"cna.circuit/v1\", ";
        } else {
            ObjectNode document = (ObjectNode) JSON.readTree(CircuitJson.write(contrastive()));
            breakIt.accept(document);
            json = JSON.writeValueAsString(document);
            Set<ValidationMessage> errors = schema.validate(JSON.readTree(json));
            assertEquals(schemaCatchesIt, !errors.isEmpty(), what + ": schema said " + errors);
        }
        String finalJson = json;
        InvalidCircuitException e = assertThrows(InvalidCircuitException.class, () -> CircuitJson.read(finalJson));
        assertTrue(e.getMessage().contains(message), what + ": expected '" + message + "' in: " + e.getMessage());
    }

    @Test
    void sameSelectionComparesNeuronsAndRanksOnly() {
        Circuit circuit = contrastive();
        List<CircuitNeuron> neurons = circuit.neurons();

        List<CircuitNeuron> otherDeltas = neurons.stream().map(n -> new CircuitNeuron(n.layer(), n.index(), n.delta() * 1.01)).toList();
        assertTrue(circuit.sameSelection(withNeurons(circuit, otherDeltas, 2)), "new deltas and version, same ranking");

        List<CircuitNeuron> swapped = new ArrayList<>(neurons);
        swapped.set(0, new CircuitNeuron(neurons.get(1).layer(), neurons.get(1).index(), 5.0));
        swapped.set(1, new CircuitNeuron(neurons.get(0).layer(), neurons.get(0).index(), 4.9));
        assertFalse(circuit.sameSelection(withNeurons(circuit, sorted(swapped), 2)), "ranks changed");

        List<CircuitNeuron> replaced = new ArrayList<>(neurons);
        replaced.set(neurons.size() - 1, new CircuitNeuron(5, 15, neurons.get(neurons.size() - 1).delta()));
        assertFalse(circuit.sameSelection(withNeurons(circuit, sorted(replaced), 2)), "set changed");

        assertFalse(circuit.sameSelection(withNeurons(circuit, neurons.subList(0, 2), 2)), "circuit shrank");

        Circuit otherModel = new Circuit(Circuit.SCHEMA, circuit.name(), 2, new Circuit.Model("x", "cd".repeat(32), 6, 16),
                circuit.method(), neurons, circuit.stats(), circuit.createdAt(), null);
        assertFalse(circuit.sameSelection(otherModel), "another model");
    }

    @Test
    void contrastiveCircuitCarriesTheSelectionStats() {
        Circuit circuit = contrastive();
        assertEquals(new Circuit.Stats(8, 7, 4, List.of(0, 1, 4), 1), circuit.stats());
        assertEquals(Circuit.Method.CONTRASTIVE, circuit.method());
        assertEquals(4, circuit.neurons().size());
        assertEquals(new Neuron(3, 2), circuit.neurons().get(0).neuron());
    }

    /** A circuit selected from a synthetic delta: layers 0, 1 excluded by default, layer 4 not recorded, (2, 9) blacklisted. */
    private static Circuit contrastive() {
        double[][] delta = new double[6][];
        for (int layer : List.of(0, 1, 2, 3, 5)) {
            delta[layer] = new double[16];
            for (int i = 0; i < 16; i++) {
                delta[layer][i] = Math.sin(layer * 16 + i) * 0.1; // small background
            }
        }
        delta[0][0] = 50;          // excluded layer
        delta[2][9] = 30;          // blacklisted
        delta[3][2] = -7.25;
        delta[5][0] = 1.0 / 3;
        delta[2][4] = 2.5;
        delta[5][12] = -1.125;
        CircuitSelector.Selection selection = CircuitSelector.select(delta,
                new SelectionOptions(4, SelectionOptions.DEFAULT_EXCLUDE_LAYERS, true), Set.of(new Neuron(2, 9)));
        return Circuit.contrastive("refusal", 1, MODEL, selection, 8, 7, Instant.parse("2026-11-24T10:15:30Z"),
                new Circuit.Source("cna.prompt-pairs", 3, 1234));
    }

    private static Circuit manual() {
        return new Circuit(Circuit.SCHEMA, "french.v2", 7, MODEL, Circuit.Method.MANUAL,
                List.of(new CircuitNeuron(0, 1, 1), new CircuitNeuron(5, 3, -1), new CircuitNeuron(2, 0, 0.5)),
                new Circuit.Stats(0, 0, 3, List.of(), 0), "2026-11-24T11:00:00+01:00", null);
    }

    private static Circuit withNeurons(Circuit c, List<CircuitNeuron> neurons, long version) {
        return new Circuit(c.schema(), c.name(), version, c.model(), c.method(), neurons, c.stats(), c.createdAt(), c.source());
    }

    private static List<CircuitNeuron> sorted(List<CircuitNeuron> neurons) {
        return neurons.stream().sorted(CircuitNeuron.RANKING).toList();
    }

    private static Arguments broken(String what, Consumer<ObjectNode> breakIt, String message, boolean schemaCatchesIt) {
        return Arguments.of(what, breakIt, message, schemaCatchesIt);
    }

    private static ObjectNode model(ObjectNode d) {
        return (ObjectNode) d.get("model");
    }

    private static ObjectNode stats(ObjectNode d) {
        return (ObjectNode) d.get("stats");
    }

    private static ObjectNode neuron(ObjectNode d, int k) {
        return (ObjectNode) d.get("neurons").get(k);
    }

    private static void swapFirstTwoNeurons(ObjectNode d) {
        ArrayNode neurons = (ArrayNode) d.get("neurons");
        JsonNode first = neurons.remove(0);
        neurons.insert(1, first);
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
