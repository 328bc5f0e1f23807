package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.PromptPairEvent;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Turns the body of {@code POST /api/features/{name}/pairs} (one object or a list of them) into events, checking
 * everything the schema and attribution-service's EventParser check that the gateway can know: all but the
 * prompt length in tokens and the model's layer count.
 */
@ApplicationScoped
public class PairsRequestParser {
    /** The feature (circuit) name, as in the schema and cna-core's Circuit.NAME. */
    public static final Pattern FEATURE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** A character the schema's {@code \S} matches: not JSON Schema (ECMAScript) white space. */
    private static final Pattern NON_SPACE = Pattern.compile(
            "[^\\t\\n\\x0B\\f\\r \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF]");
    /** Fields the gateway sets itself; a request that sends them would silently lose them. */
    private static final Set<String> GATEWAY_FIELDS = Set.of("schema", "id", "producedAt");
    /** A reset takes nothing but its type. */
    private static final Set<String> PAIRS_ONLY = Set.of("positive", "negative", "chatTemplate", "options");
    private static final Set<String> OPTIONS = Set.of("topK", "excludeLayers");

    private final GatewayConfig config;
    private final ObjectMapper json;

    PairsRequestParser(GatewayConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
    }

    public static void checkFeature(String feature) {
        if (!FEATURE.matcher(feature).matches()) {
            throw ProblemException.invalid("feature name must match " + FEATURE.pattern());
        }
    }

    /** The events of the body; a body that is not JSON throws what {@link JsonExceptionMapper} answers. */
    public List<PromptPairEvent> parse(String feature, String text) throws JsonProcessingException {
        checkFeature(feature);
        JsonNode body = json.readTree(text);
        if (!(body.isObject() || body.isArray())) {
            throw ProblemException.invalid("the body must be a JSON object or a list of them");
        }
        if (body.isArray() && body.isEmpty()) {
            throw ProblemException.invalid("the list of events is empty");
        }
        String producedAt = Instant.now().toString();
        List<PromptPairEvent> events = new ArrayList<>();
        int prompts = 0;
        for (JsonNode node : body.isArray() ? body : List.of(body)) {
            String where = body.isArray() ? "[" + events.size() + "]: " : "";
            try {
                PromptPairEvent event = event(feature, node, producedAt);
                events.add(event);
                // a reset counts as one, so a list of resets is bounded too
                prompts += event.positive() == null ? 1 : event.positive().size() + event.negative().size();
            } catch (ProblemException e) {
                throw ProblemException.invalid(where + e.getMessage());
            }
        }
        if (prompts > config.maxPrompts()) {
            throw ProblemException.invalid(prompts + " prompts in one request; at most " + config.maxPrompts()
                    + " (cna.gateway.max-prompts)");
        }
        return events;
    }

    private PromptPairEvent event(String feature, JsonNode node, String producedAt) {
        if (!node.isObject()) {
            throw ProblemException.invalid("an event must be a JSON object");
        }
        for (String field : GATEWAY_FIELDS) {
            if (node.has(field)) {
                throw ProblemException.invalid(field + " is set by the gateway; leave it out");
            }
        }
        if (node.has("feature") && !feature.equals(node.get("feature").textValue())) {
            throw ProblemException.invalid("feature in the body differs from the path");
        }
        JsonNode type = node.path("type");
        String id = UUID.randomUUID().toString();
        if (type.isMissingNode() || "pairs".equals(type.textValue())) {
            return new PromptPairEvent(PromptPairEvent.SCHEMA, id, PromptPairEvent.Type.PAIRS, feature, prompts(node, "positive"),
                    prompts(node, "negative"), chatTemplate(node), options(node.get("options")), producedAt);
        }
        if (!"reset".equals(type.textValue())) {
            throw ProblemException.invalid("type must be \"pairs\" or \"reset\"");
        }
        for (String field : PAIRS_ONLY) {
            if (node.has(field)) {
                throw ProblemException.invalid("a reset takes no " + field);
            }
        }
        return new PromptPairEvent(PromptPairEvent.SCHEMA, id, PromptPairEvent.Type.RESET, feature, null, null, null, null,
                producedAt);
    }

    private List<String> prompts(JsonNode node, String field) {
        JsonNode list = node.get(field);
        if (list == null || !list.isArray()) {
            throw ProblemException.invalid(field + " must be a list of prompts");
        }
        if (list.isEmpty()) {
            throw ProblemException.invalid(field + " is empty");
        }
        List<String> out = new ArrayList<>(list.size());
        for (JsonNode p : list) {
            String at = field + "[" + out.size() + "]";
            if (!p.isTextual()) {
                throw ProblemException.invalid(at + " must be a string");
            }
            String prompt = p.textValue();
            // both senses of blank: the schema's (\S) and attribution-service's (String.isBlank)
            if (prompt.isBlank() || !NON_SPACE.matcher(prompt).find()) {
                throw ProblemException.invalid(at + " is an empty prompt");
            }
            if (prompt.length() > config.maxPromptChars()) {
                throw ProblemException.invalid(at + " has " + prompt.length() + " chars; at most "
                        + config.maxPromptChars() + " (cna.gateway.max-prompt-chars)");
            }
            out.add(prompt);
        }
        return out;
    }

    private static Boolean chatTemplate(JsonNode node) {
        JsonNode value = node.get("chatTemplate");
        if (value == null) {
            return null;
        }
        if (!value.isBoolean()) {
            throw ProblemException.invalid("chatTemplate must be true or false");
        }
        return value.booleanValue();
    }

    private static PromptPairEvent.Options options(JsonNode options) {
        if (options == null || options.isNull()) {
            return null;
        }
        if (!options.isObject()) {
            throw ProblemException.invalid("options must be an object");
        }
        for (Iterator<String> names = options.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!OPTIONS.contains(name)) {
                throw ProblemException.invalid("unknown option \"" + name + "\" (known: topK, excludeLayers)");
            }
        }
        Integer topK = null;
        if (options.has("topK")) {
            JsonNode k = options.get("topK");
            if (!k.isIntegralNumber() || !k.canConvertToInt() || k.intValue() < 1) {
                throw ProblemException.invalid("option topK must be a positive integer");
            }
            topK = k.intValue();
        }
        List<Integer> excludeLayers = null;
        if (options.has("excludeLayers")) {
            JsonNode layers = options.get("excludeLayers");
            if (!layers.isArray()) {
                throw ProblemException.invalid("option excludeLayers must be a list of layers");
            }
            excludeLayers = new ArrayList<>();
            Set<Integer> seen = new HashSet<>();
            for (JsonNode l : layers) {
                if (!l.isIntegralNumber() || !l.canConvertToInt() || l.intValue() < 0) {
                    throw ProblemException.invalid("option excludeLayers must hold layer numbers >= 0");
                }
                if (!seen.add(l.intValue())) {
                    throw ProblemException.invalid("option excludeLayers lists layer " + l.intValue() + " twice");
                }
                excludeLayers.add(l.intValue());
            }
        }
        return new PromptPairEvent.Options(topK, excludeLayers);
    }
}
