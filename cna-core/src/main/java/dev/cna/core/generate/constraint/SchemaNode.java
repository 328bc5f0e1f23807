package dev.cna.core.generate.constraint;

import java.util.List;

/** A compiled JSON schema: what one JSON value may be. Built by {@link JsonSchema}, matched by {@link JsonMatcher}. */
sealed interface SchemaNode {

    /**
     * An object whose keys are the declared properties (each at most once, in any order) and, when
     * {@code additional} is not null, any other key with a value of that schema.
     *
     * @param requiredMask bit i set when properties[i] is required
     */
    record ObjectNode(List<Property> properties, long requiredMask, SchemaNode additional) implements SchemaNode {}

    /** @param key the name as it appears between the quotes of a JSON key (escaped, UTF-8) */
    record Property(String name, byte[] key, SchemaNode value) {}

    record ArrayNode(SchemaNode items, int minItems, int maxItems) implements SchemaNode {}

    /** A string of minLength to maxLength characters (Unicode code points; an escape counts as one). */
    record StringNode(int minLength, int maxLength) implements SchemaNode {}

    record NumberNode(boolean integer) implements SchemaNode {}

    /** Exactly these bytes: a const or enum value, true, false, null. */
    record LiteralNode(byte[] json) implements SchemaNode {}

    record AnyOfNode(List<SchemaNode> options) implements SchemaNode {}

    /** Any JSON value. */
    record AnyNode() implements SchemaNode {}

    /** A local reference ({@code #/$defs/name}), resolved when a value starts, so recursive schemas work. */
    record RefNode(String ref) implements SchemaNode {}
}
