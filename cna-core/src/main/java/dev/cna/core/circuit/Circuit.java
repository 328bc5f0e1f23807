package dev.cna.core.circuit;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cna.core.attribution.CircuitSelector;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A circuit definition, the value of the {@code cna.circuits} topic (docs/design.md section 3; JSON Schema in
 * docs/schemas/circuit.v1.schema.json). Every instance is valid: the constructor checks the schema tag, the
 * name, the neurons against the model's shape and excluded layers, and the neuron order.
 *
 * @param version   monotonic per name
 * @param neurons   sorted by {@link CircuitNeuron#RANKING}: |delta| descending, ties by (layer, index)
 * @param createdAt ISO-8601 date-time with offset, e.g. {@code 2026-11-24T10:15:30Z}
 * @param source    the prompt-pair event that produced this version, or null (e.g. a manual circuit)
 */
public record Circuit(String schema, String name, long version, Model model, Method method, List<CircuitNeuron> neurons,
                      Stats stats, String createdAt, Source source) {
    public static final String SCHEMA = "cna.circuit/v1";
    /** Names are Kafka keys, URL path segments and file names: keep them plain. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern FINGERPRINT = Pattern.compile("[0-9a-f]{64}");

    public enum Method {
        @JsonProperty("contrastive") CONTRASTIVE,
        @JsonProperty("relp") RELP,
        @JsonProperty("manual") MANUAL
    }

    /** The model a circuit belongs to; steering refuses circuits with another fingerprint. */
    public record Model(String id, String fingerprint, int layers, int intermediateSize) {
        public Model {
            require(id != null && !id.isBlank(), "model.id must be a non-empty string");
            require(fingerprint != null && FINGERPRINT.matcher(fingerprint).matches(),
                    "model.fingerprint must be 64 lowercase hex digits (sha256), got " + fingerprint);
            require(layers > 0, "model.layers must be positive, got " + layers);
            require(intermediateSize > 0, "model.intermediateSize must be positive, got " + intermediateSize);
        }
    }

    /**
     * How the circuit was found.
     *
     * @param excludedLayers   layers that were not ranked, ascending
     * @param blacklistedCount neurons of the top-k that the universal-neuron blacklist replaced
     */
    public record Stats(long positiveCount, long negativeCount, int topK, List<Integer> excludedLayers, int blacklistedCount) {
        public Stats {
            require(positiveCount >= 0 && negativeCount >= 0,
                    "stats counts must be non-negative, got " + positiveCount + " and " + negativeCount);
            require(topK > 0, "stats.topK must be positive, got " + topK);
            require(excludedLayers != null && excludedLayers.stream().noneMatch(Objects::isNull),
                    "stats.excludedLayers must be a list of layer numbers");
            excludedLayers = List.copyOf(excludedLayers);
            for (int k = 1; k < excludedLayers.size(); k++) {
                require(excludedLayers.get(k - 1) < excludedLayers.get(k),
                        "stats.excludedLayers must be strictly ascending, got " + excludedLayers);
            }
            require(blacklistedCount >= 0 && blacklistedCount <= topK,
                    "stats.blacklistedCount must be between 0 and topK, got " + blacklistedCount);
        }
    }

    /** Where in Kafka the last event that contributed to this version came from. */
    public record Source(String topic, int partition, long offset) {
        public Source {
            require(topic != null && !topic.isBlank(), "source.topic must be a non-empty string");
            require(partition >= 0 && offset >= 0, "source.partition and source.offset must be non-negative");
        }
    }

    public Circuit {
        require(SCHEMA.equals(schema), "schema must be \"" + SCHEMA + "\", got " + (schema == null ? "null" : "\"" + schema + "\""));
        require(name != null && NAME.matcher(name).matches(),
                "name must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit, got \"" + name + "\"");
        require(version >= 1, "version must be at least 1, got " + version);
        require(model != null, "model is required");
        require(method != null, "method is required (contrastive, relp or manual)");
        require(stats != null, "stats is required");
        require(neurons != null && !neurons.isEmpty(), "neurons must be a non-empty list");
        require(neurons.stream().noneMatch(Objects::isNull), "neurons must not contain null");
        neurons = List.copyOf(neurons);
        require(createdAt != null, "createdAt is required");
        try {
            DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(createdAt);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("createdAt must be an ISO-8601 date-time with offset, got \"" + createdAt + "\"");
        }
        for (int layer : stats.excludedLayers()) {
            require(layer >= 0 && layer < model.layers(), "stats.excludedLayers has layer " + layer + ", outside the model's "
                    + model.layers() + " layers");
        }
        Set<Neuron> seen = new HashSet<>();
        for (int k = 0; k < neurons.size(); k++) {
            CircuitNeuron n = neurons.get(k);
            require(n.layer() < model.layers() && n.index() < model.intermediateSize(), "neurons[" + k + "] " + n.neuron()
                    + " is outside the model's " + model.layers() + " x " + model.intermediateSize() + " neurons");
            require(!stats.excludedLayers().contains(n.layer()), "neurons[" + k + "] " + n.neuron() + " is in excluded layer " + n.layer());
            require(seen.add(n.neuron()), "neurons[" + k + "] " + n.neuron() + " appears twice");
            if (k > 0) {
                CircuitNeuron previous = neurons.get(k - 1);
                require(CircuitNeuron.RANKING.compare(previous, n) < 0, "neurons must be sorted by |delta| descending, ties by "
                        + "(layer, index): neurons[" + k + "] " + n + " must come before neurons[" + (k - 1) + "] " + previous);
            }
        }
        require(neurons.size() <= stats.topK(), neurons.size() + " neurons exceed stats.topK " + stats.topK());
    }

    /** A contrastive circuit from a selection. */
    public static Circuit contrastive(String name, long version, Model model, CircuitSelector.Selection selection,
                                      long positiveCount, long negativeCount, Instant createdAt, Source source) {
        Stats stats = new Stats(positiveCount, negativeCount, selection.topK(), List.copyOf(selection.excludedLayers()),
                selection.blacklistedCount());
        return new Circuit(SCHEMA, name, version, model, Method.CONTRASTIVE, selection.neurons(), stats, createdAt.toString(), source);
    }

    /**
     * True when both circuits name the same neurons of the same model (fingerprint) in the same rank order,
     * whatever their deltas, versions or other metadata: the attribution service publishes a new version only
     * when this turns false.
     */
    public boolean sameSelection(Circuit other) {
        if (!model.fingerprint().equals(other.model.fingerprint()) || neurons.size() != other.neurons.size()) {
            return false;
        }
        for (int k = 0; k < neurons.size(); k++) {
            if (!neurons.get(k).neuron().equals(other.neurons.get(k).neuron())) {
                return false;
            }
        }
        return true;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
