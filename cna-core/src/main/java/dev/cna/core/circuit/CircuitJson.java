package dev.cna.core.circuit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** Reads and writes {@link Circuit}s as {@code cna.circuit/v1} JSON (field names as in docs/design.md section 3). */
public final class CircuitJson {
    // Strict reading: every field present (source may be null), no unknown fields, no "30" for 30 or 30.5 for 30.
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    private CircuitJson() {}

    public static String write(Circuit circuit) {
        try {
            return MAPPER.writeValueAsString(circuit);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a valid circuit always serializes", e);
        }
    }

    /** Parses and validates a circuit; the message of the exception says which field is wrong and why. */
    public static Circuit read(String json) {
        try {
            return MAPPER.readValue(json, Circuit.class);
        } catch (ValueInstantiationException e) {
            // A record constructor rejected the value: its message is the explanation.
            Throwable reason = e.getCause() != null ? e.getCause() : e;
            String why = reason.getMessage() != null ? reason.getMessage() : reason.toString();
            throw new InvalidCircuitException("invalid circuit" + at(e) + ": " + why, e);
        } catch (JsonMappingException e) {
            throw new InvalidCircuitException("invalid circuit" + at(e) + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new InvalidCircuitException("circuit is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The JSON path of a mapping error, e.g. " at neurons[3].layer", or "" at the top level. */
    private static String at(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.length() == 0 ? "" : " at " + path;
    }
}
