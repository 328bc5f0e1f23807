package dev.cna.attribution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.PromptPairEvent;
import dev.cna.core.circuit.Circuit;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parses and checks one record of cna.prompt-pairs; everything but prompt length (needs the tokenizer) and the
 * combination of an event's options with the feature's current ones ({@link #checkOptions}, needs the state).
 */
public final class EventParser {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> OPTIONS = Set.of("topK", "excludeLayers");

    private final int layers;
    private final int intermediateSize;

    /** A parser for events of a model of {@code layers} x {@code intermediateSize} MLP neurons. */
    public EventParser(int layers, int intermediateSize) {
        this.layers = layers;
        this.intermediateSize = intermediateSize;
    }

    public PromptPairEvent parse(String key, String value) throws BadEventException {
        if (value == null) {
            throw new BadEventException(ErrorClass.INVALID_JSON, "null value (tombstone) is not an event");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(value);
        } catch (JsonProcessingException e) {
            throw new BadEventException(ErrorClass.INVALID_JSON, "not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new BadEventException(ErrorClass.INVALID_JSON, "the event must be a JSON object");
        }
        JsonNode schema = root.get("schema");
        if (schema == null || !PromptPairEvent.SCHEMA.equals(schema.asText(null))) {
            throw new BadEventException(ErrorClass.SCHEMA_VERSION, "schema must be \"" + PromptPairEvent.SCHEMA + "\", got "
                    + (schema == null ? "none" : schema.toString()));
        }
        String id = requiredString(root, "id");
        String feature = requiredString(root, "feature");
        if (!Circuit.NAME.matcher(feature).matches()) {
            throw new BadEventException(ErrorClass.INVALID_JSON, "feature \"" + feature + "\" is not a valid name "
                    + Circuit.NAME.pattern());
        }
        if (!feature.equals(key)) {
            throw new BadEventException(ErrorClass.KEY_MISMATCH, "record key " + (key == null ? "null" : "\"" + key + "\"")
                    + " differs from feature \"" + feature + "\"");
        }
        PromptPairEvent.Type type = switch (root.path("type").asText("pairs")) {
            case "pairs" -> PromptPairEvent.Type.PAIRS;
            case "reset" -> PromptPairEvent.Type.RESET;
            default -> throw new BadEventException(ErrorClass.INVALID_JSON, "type must be \"pairs\" or \"reset\", got "
                    + root.get("type"));
        };
        String producedAt = root.hasNonNull("producedAt") ? root.get("producedAt").asText() : null;
        if (type == PromptPairEvent.Type.RESET) {
            return new PromptPairEvent(id, type, feature, List.of(), List.of(), true, null, null, producedAt);
        }
        List<String> positive = prompts(root, "positive");
        List<String> negative = prompts(root, "negative");
        boolean chatTemplate = true;
        if (root.has("chatTemplate")) {
            if (!root.get("chatTemplate").isBoolean()) {
                throw new BadEventException(ErrorClass.INVALID_JSON, "chatTemplate must be true or false");
            }
            chatTemplate = root.get("chatTemplate").booleanValue();
        }
        Integer topK = null;
        Set<Integer> excludeLayers = null;
        JsonNode options = root.get("options");
        if (options != null && !options.isNull()) {
            if (!options.isObject()) {
                throw new BadEventException(ErrorClass.INVALID_JSON, "options must be an object");
            }
            for (Iterator<String> names = options.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!OPTIONS.contains(name)) {
                    throw new BadEventException(ErrorClass.UNKNOWN_OPTION, "unknown option \"" + name + "\" (known: topK, excludeLayers)");
                }
            }
            if (options.has("topK")) {
                JsonNode k = options.get("topK");
                long neurons = (long) layers * intermediateSize;
                if (!k.isIntegralNumber() || !k.canConvertToLong() || k.longValue() < 1) {
                    throw new BadEventException(ErrorClass.INVALID_OPTION, "option topK must be an integer from 1 to "
                            + neurons + ", got " + k);
                }
                if (k.longValue() > neurons) {
                    throw new BadEventException(ErrorClass.INVALID_OPTION, "option topK " + k + " is more than the " + neurons
                            + " neurons of the model (" + layers + " layers x " + intermediateSize + ")");
                }
                topK = k.intValue();
            }
            if (options.has("excludeLayers")) {
                JsonNode ex = options.get("excludeLayers");
                if (!ex.isArray()) {
                    throw new BadEventException(ErrorClass.INVALID_OPTION, "option excludeLayers must be a list of layers");
                }
                excludeLayers = new TreeSet<>();
                for (JsonNode l : ex) {
                    if (!l.isIntegralNumber() || !l.canConvertToInt() || l.intValue() < 0 || l.intValue() >= layers) {
                        throw new BadEventException(ErrorClass.INVALID_OPTION, "option excludeLayers has " + l
                                + ", not a layer of the model (0.." + (layers - 1) + ")");
                    }
                    excludeLayers.add(l.intValue());
                }
            }
            if (excludeLayers != null) {
                checkOptions(topK == null ? 1 : topK, excludeLayers);
            } // else topK is checked against the feature's excluded layers when the event is applied
        }
        return new PromptPairEvent(id, type, feature, positive, negative, chatTemplate, topK, excludeLayers, producedAt);
    }

    /**
     * Checks a combination of options against the model: every excluded layer is a layer of the model, at least one
     * layer is left, and topK is at most the neurons of the included layers (layers x intermediateSize minus the
     * excluded layers').
     */
    public void checkOptions(int topK, Set<Integer> excludeLayers) throws BadEventException {
        long included = 0;
        for (int layer = 0; layer < layers; layer++) {
            if (!excludeLayers.contains(layer)) {
                included++;
            }
        }
        for (int layer : excludeLayers) {
            if (layer < 0 || layer >= layers) {
                throw new BadEventException(ErrorClass.INVALID_OPTION, "option excludeLayers has " + layer
                        + ", not a layer of the model (0.." + (layers - 1) + ")");
            }
        }
        if (included == 0) {
            throw new BadEventException(ErrorClass.INVALID_OPTION, "option excludeLayers excludes every layer of the model ("
                    + layers + ")");
        }
        long neurons = included * intermediateSize;
        if (topK < 1 || topK > neurons) {
            throw new BadEventException(ErrorClass.INVALID_OPTION, "option topK " + topK + " is more than the " + neurons
                    + " neurons of the included layers (" + included + " of " + layers + " layers x " + intermediateSize
                    + ", excludeLayers " + new TreeSet<>(excludeLayers) + "): use 1.." + neurons);
        }
    }

    private static String requiredString(JsonNode root, String field) throws BadEventException {
        JsonNode n = root.get(field);
        if (n == null || !n.isTextual() || n.asText().isBlank()) {
            throw new BadEventException(ErrorClass.INVALID_JSON, field + " must be a non-empty string");
        }
        return n.asText();
    }

    private static List<String> prompts(JsonNode root, String field) throws BadEventException {
        JsonNode n = root.get(field);
        if (n == null || !n.isArray()) {
            throw new BadEventException(ErrorClass.INVALID_JSON, field + " must be a list of prompts");
        }
        if (n.isEmpty()) {
            throw new BadEventException(ErrorClass.EMPTY_LIST, field + " is empty");
        }
        List<String> out = new ArrayList<>(n.size());
        for (JsonNode p : n) {
            if (!p.isTextual()) {
                throw new BadEventException(ErrorClass.INVALID_JSON, field + " must hold strings, got " + p.getNodeType());
            }
            if (p.asText().isBlank()) {
                throw new BadEventException(ErrorClass.EMPTY_LIST, field + "[" + out.size() + "] is an empty prompt");
            }
            out.add(p.asText());
        }
        return List.copyOf(out);
    }
}
