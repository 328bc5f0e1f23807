package dev.cna.core.generate.constraint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.generate.constraint.SchemaNode.AnyNode;
import dev.cna.core.generate.constraint.SchemaNode.AnyOfNode;
import dev.cna.core.generate.constraint.SchemaNode.ArrayNode;
import dev.cna.core.generate.constraint.SchemaNode.LiteralNode;
import dev.cna.core.generate.constraint.SchemaNode.NumberNode;
import dev.cna.core.generate.constraint.SchemaNode.ObjectNode;
import dev.cna.core.generate.constraint.SchemaNode.Property;
import dev.cna.core.generate.constraint.SchemaNode.RefNode;
import dev.cna.core.generate.constraint.SchemaNode.StringNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema compiled to what {@link JsonMatcher} enforces byte by byte. The subset (as llama.cpp's
 * json-schema-to-grammar and OpenAI's structured outputs support it): {@code type} (object, array, string, number,
 * integer, boolean, null, or a list of them), {@code properties}, {@code required}, {@code additionalProperties}
 * (false, true or a schema; absent means false when {@code properties} is given, as in llama.cpp, else true),
 * {@code items}, {@code minItems}, {@code maxItems}, {@code minLength}, {@code maxLength} (of strings, in code
 * points), {@code enum}, {@code const}, {@code anyOf} (and {@code oneOf},
 * enforced as anyOf), local {@code $ref} into {@code $defs}/{@code definitions}. Annotations ({@code title},
 * {@code description}, {@code default}, {@code examples}, {@code $schema}, {@code $id}, {@code $comment}) are
 * ignored. Every other keyword is refused with {@link UnsupportedSchemaException} naming it. The root must be an
 * object schema, so the end of the value is unambiguous.
 */
public final class JsonSchema {
    /** Most schema nodes (a bound on the work a request can ask for). */
    public static final int MAX_NODES = 2_000;
    /** Most declared properties per object. */
    public static final int MAX_PROPERTIES = 64;
    public static final int MAX_DEPTH = 32;
    static final int UNBOUNDED = Integer.MAX_VALUE;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "$defs", "definitions", "deprecated", "readOnly", "writeOnly");
    private static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "minLength", "maxLength", "enum", "const", "anyOf", "oneOf", "$ref");
    static final SchemaNode ANY = new AnyNode();
    static final ObjectNode ANY_OBJECT = new ObjectNode(List.of(), 0, ANY);

    final SchemaNode root;
    final Map<String, SchemaNode> defs;
    private final Set<String> refs = new HashSet<>();
    private int nodes;

    private JsonSchema(SchemaNode root, Map<String, SchemaNode> defs) {
        this.root = root;
        this.defs = defs;
    }

    /** Any JSON object (OpenAI's {@code response_format: json_object}). */
    public static JsonSchema anyObject() {
        return new JsonSchema(ANY_OBJECT, Map.of());
    }

    /**
     * @throws UnsupportedSchemaException naming the keyword this subset cannot enforce, or the limit exceeded
     */
    public static JsonSchema compile(JsonNode schema) {
        JsonSchema compiled = new JsonSchema(null, new HashMap<>());
        for (String section : List.of("$defs", "definitions")) {
            Iterator<Map.Entry<String, JsonNode>> it = schema.path(section).fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> def = it.next();
                compiled.defs.put("#/" + section + "/" + def.getKey(), compiled.node(def.getValue(), "#/" + section + "/" + def.getKey(), 1));
            }
        }
        SchemaNode root = compiled.node(schema, "#", 0);
        for (String ref : compiled.refs) {
            if (!compiled.defs.containsKey(ref)) {
                throw new UnsupportedSchemaException("$ref", "$ref " + ref + " does not point into this schema's $defs");
            }
        }
        if (!isObject(root, compiled.defs, 0)) {
            throw new UnsupportedSchemaException("type", "the root of the schema must be an object (type object, or an "
                    + "anyOf of objects)");
        }
        return new JsonSchema(root, Map.copyOf(compiled.defs));
    }

    /** Whether every value of the node is an object, so its end is its closing brace. */
    private static boolean isObject(SchemaNode node, Map<String, SchemaNode> defs, int depth) {
        if (depth > MAX_DEPTH) {
            return false; // references that only lead to each other
        }
        for (int hops = 0; node instanceof RefNode ref && hops <= defs.size(); hops++) {
            node = defs.get(ref.ref());
        }
        if (node instanceof AnyOfNode any) {
            return any.options().stream().allMatch(o -> isObject(o, defs, depth + 1));
        }
        return node instanceof ObjectNode;
    }

    private SchemaNode node(JsonNode schema, String at, int depth) {
        if (++nodes > MAX_NODES) {
            throw new UnsupportedSchemaException("size", "the schema has more than " + MAX_NODES + " subschemas");
        }
        if (depth > MAX_DEPTH) {
            throw new UnsupportedSchemaException("depth", "the schema nests deeper than " + MAX_DEPTH + " levels");
        }
        if (schema.isBoolean()) {
            if (!schema.asBoolean()) {
                throw new UnsupportedSchemaException("false", at + ": the schema false allows no value");
            }
            return ANY;
        }
        if (!schema.isObject()) {
            throw new UnsupportedSchemaException("schema", at + " must be a JSON object (a schema)");
        }
        Iterator<String> names = schema.fieldNames();
        while (names.hasNext()) {
            String keyword = names.next();
            if (!SUPPORTED.contains(keyword) && !ANNOTATIONS.contains(keyword)) {
                throw new UnsupportedSchemaException(keyword, at + ": the keyword '" + keyword + "' is not supported "
                        + "(supported: " + String.join(", ", SUPPORTED.stream().sorted().toList()) + ")");
            }
        }
        if (schema.has("$ref")) {
            if (hasOtherThanAnnotations(schema, "$ref")) {
                throw new UnsupportedSchemaException("$ref", at + ": $ref beside other keywords is not supported");
            }
            String ref = schema.get("$ref").asText();
            if (!ref.startsWith("#/$defs/") && !ref.startsWith("#/definitions/")) {
                throw new UnsupportedSchemaException("$ref", at + ": only local references into $defs are supported, got "
                        + ref);
            }
            refs.add(ref);
            return new RefNode(ref);
        }
        if (schema.has("const")) {
            return literal(schema.get("const"));
        }
        if (schema.has("enum")) {
            JsonNode values = schema.get("enum");
            if (!values.isArray() || values.isEmpty()) {
                throw new UnsupportedSchemaException("enum", at + ": enum must be a non-empty array");
            }
            List<SchemaNode> options = new ArrayList<>();
            values.forEach(v -> options.add(literal(v)));
            return options.size() == 1 ? options.get(0) : new AnyOfNode(options);
        }
        for (String keyword : List.of("anyOf", "oneOf")) {
            if (schema.has(keyword)) {
                JsonNode list = schema.get(keyword);
                if (!list.isArray() || list.isEmpty()) {
                    throw new UnsupportedSchemaException(keyword, at + ": " + keyword + " must be a non-empty array");
                }
                if (schema.has("type")) {
                    throw new UnsupportedSchemaException(keyword, at + ": " + keyword + " beside type is not supported");
                }
                List<SchemaNode> options = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    options.add(node(list.get(i), at + "/" + keyword + "/" + i, depth + 1));
                }
                return new AnyOfNode(options);
            }
        }
        JsonNode type = schema.get("type");
        if (type == null) {
            if (schema.has("properties") || schema.has("additionalProperties")) {
                return object(schema, at, depth);
            }
            if (schema.has("items")) {
                return array(schema, at, depth);
            }
            return ANY;
        }
        if (type.isArray()) {
            List<SchemaNode> options = new ArrayList<>();
            for (JsonNode t : type) {
                options.add(typed(t.asText(), schema, at, depth));
            }
            return options.size() == 1 ? options.get(0) : new AnyOfNode(options);
        }
        return typed(type.asText(), schema, at, depth);
    }

    private static boolean hasOtherThanAnnotations(JsonNode schema, String except) {
        Iterator<String> names = schema.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (!n.equals(except) && !ANNOTATIONS.contains(n)) {
                return true;
            }
        }
        return false;
    }

    private SchemaNode typed(String type, JsonNode schema, String at, int depth) {
        return switch (type) {
            case "object" -> object(schema, at, depth);
            case "array" -> array(schema, at, depth);
            case "string" -> string(schema, at);
            case "number" -> new NumberNode(false);
            case "integer" -> new NumberNode(true);
            case "boolean" -> new AnyOfNode(List.of(literal("true"), literal("false")));
            case "null" -> literal("null");
            default -> throw new UnsupportedSchemaException("type", at + ": unknown type '" + type + "'");
        };
    }

    private SchemaNode object(JsonNode schema, String at, int depth) {
        JsonNode props = schema.path("properties");
        List<Property> properties = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = props.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> p = it.next();
            if (properties.size() == MAX_PROPERTIES) {
                throw new UnsupportedSchemaException("properties", at + ": more than " + MAX_PROPERTIES + " properties");
            }
            byte[] quoted = json(p.getKey());
            byte[] key = Arrays.copyOfRange(quoted, 1, quoted.length - 1);
            properties.add(new Property(p.getKey(), key, node(p.getValue(), at + "/properties/" + p.getKey(), depth + 1)));
        }
        long required = 0;
        for (JsonNode r : schema.path("required")) {
            int i = indexOf(properties, r.asText());
            if (i < 0) {
                throw new UnsupportedSchemaException("required", at + ": required names '" + r.asText()
                        + "', which is not in properties");
            }
            required |= 1L << i;
        }
        JsonNode extra = schema.get("additionalProperties");
        SchemaNode additional;
        if (extra == null) {
            additional = props.isEmpty() ? ANY : null;
        } else if (extra.isBoolean()) {
            additional = extra.asBoolean() ? ANY : null;
        } else {
            additional = node(extra, at + "/additionalProperties", depth + 1);
        }
        return new ObjectNode(List.copyOf(properties), required, additional);
    }

    private static int indexOf(List<Property> properties, String name) {
        for (int i = 0; i < properties.size(); i++) {
            if (properties.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static SchemaNode string(JsonNode schema, String at) {
        int min = schema.path("minLength").asInt(0);
        int max = schema.has("maxLength") ? schema.get("maxLength").asInt() : UNBOUNDED;
        if (min < 0 || max < min) {
            throw new UnsupportedSchemaException("maxLength", at + ": minLength " + min + " and maxLength " + max
                    + " allow no string");
        }
        return new StringNode(min, max);
    }

    private SchemaNode array(JsonNode schema, String at, int depth) {
        SchemaNode items = schema.has("items") ? node(schema.get("items"), at + "/items", depth + 1) : ANY;
        int min = schema.path("minItems").asInt(0);
        int max = schema.has("maxItems") ? schema.get("maxItems").asInt() : UNBOUNDED;
        if (min < 0 || max < min) {
            throw new UnsupportedSchemaException("maxItems", at + ": minItems " + min + " and maxItems " + max
                    + " allow no array");
        }
        return new ArrayNode(items, min, max);
    }

    private static LiteralNode literal(JsonNode value) {
        try {
            return literal(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON value always serializes", e);
        }
    }

    private static LiteralNode literal(String json) {
        return new LiteralNode(json.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] json(String text) {
        try {
            return JSON.writeValueAsBytes(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a string always serializes", e);
        }
    }
}
