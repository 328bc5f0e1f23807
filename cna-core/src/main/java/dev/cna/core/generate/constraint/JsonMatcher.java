package dev.cna.core.generate.constraint;

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
import java.util.List;
import java.util.Map;

/**
 * Where a UTF-8 byte stream stands in a {@link JsonSchema}: a pushdown automaton over bytes (the shape of
 * llama.cpp's grammar stacks, src/llama-grammar.cpp), immutable, so testing a candidate token is
 * {@code advance(bytes) != null} without disturbing the state. Each configuration is a stack of frames (the value
 * being read on top, the containers around it below); {@code anyOf} keeps one configuration per alternative still
 * alive. Every prefix it accepts can be completed to a valid document (no dead ends: a comma is only accepted when
 * another key or item may follow), and structural whitespace between two tokens is at most one line break and
 * {@link #MAX_WHITESPACE} bytes (llama.cpp's JSON grammar allows a newline and 20 blanks), so a model cannot loop on
 * blanks.
 */
public final class JsonMatcher {
    /** Most structural whitespace bytes in a row (the indentation of a pretty-printed reply fits). */
    public static final int MAX_WHITESPACE = 24;
    /** Most digits in an integer part, a fraction or an exponent (so a number cannot run forever). */
    static final int MAX_DIGITS = 20;

    private record Stack(Frame top, Stack rest) {}

    /** @param whitespace structural whitespace bytes just before; @param newline whether they hold a line feed */
    private record Config(Stack stack, int whitespace, boolean newline) {}

    private final Map<String, SchemaNode> defs;
    private final List<Config> configs;

    private JsonMatcher(Map<String, SchemaNode> defs, List<Config> configs) {
        this.defs = defs;
        this.configs = configs;
    }

    /** The start: optional literal text before the value (e.g. a tool-call tag), the schema's value, text after it. */
    static JsonMatcher start(JsonSchema schema, byte[] prefix, byte[] suffix) {
        Stack stack = null;
        if (suffix.length > 0) {
            stack = new Stack(new Literal(suffix, 0), null);
        }
        stack = new Stack(new Value(schema.root), stack);
        if (prefix.length > 0) {
            stack = new Stack(new Literal(prefix, 0), stack);
        }
        return new JsonMatcher(schema.defs, List.of(new Config(stack, 0, false)));
    }

    /** Whether the document is complete (nothing more may follow). */
    public boolean complete() {
        for (Config c : configs) {
            if (c.stack == null) {
                return true;
            }
        }
        return false;
    }

    /** The state after these bytes, or null when they cannot continue a valid document. */
    public JsonMatcher advance(byte[] bytes) {
        JsonMatcher m = this;
        for (int i = 0; i < bytes.length && m != null; i++) {
            m = m.advance(bytes[i] & 0xFF);
        }
        return m;
    }

    /** The state after one byte (0-255), or null. */
    public JsonMatcher advance(int b) {
        List<Config> next = new ArrayList<>(configs.size());
        for (Config c : configs) {
            if (c.stack == null) {
                continue; // complete: nothing may follow
            }
            boolean structural = isWhitespace(b) && c.stack.top.structural();
            if (structural && (c.whitespace >= MAX_WHITESPACE || (b == '\n' && c.newline))) {
                continue;
            }
            int whitespace = structural ? c.whitespace + 1 : 0;
            boolean newline = structural && (c.newline || b == '\n');
            List<Stack> out = new ArrayList<>(2);
            step(c.stack, b, out);
            for (Stack s : out) {
                next.add(new Config(s, whitespace, newline));
            }
        }
        return next.isEmpty() ? null : new JsonMatcher(defs, next);
    }

    private void step(Stack stack, int b, List<Stack> out) {
        stack.top.step(this, b, stack.rest, out);
    }

    static boolean isWhitespace(int b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    private interface Frame {
        void step(JsonMatcher m, int b, Stack rest, List<Stack> out);

        /** Whether whitespace here is between tokens (limited), not content of a string. */
        default boolean structural() {
            return true;
        }
    }

    /** A value of the node is expected: leading whitespace, then its first byte picks the frame. */
    private record Value(SchemaNode node) implements Frame {
        @Override
        public void step(JsonMatcher m, int b, Stack rest, List<Stack> out) {
            if (isWhitespace(b)) {
                out.add(new Stack(this, rest));
                return;
            }
            m.begin(node, b, rest, out, 0);
        }
    }

    private void begin(SchemaNode node, int b, Stack rest, List<Stack> out, int hops) {
        if (node instanceof RefNode ref) {
            if (hops <= defs.size()) {
                begin(defs.get(ref.ref()), b, rest, out, hops + 1);
            }
        } else if (node instanceof AnyOfNode any) {
            any.options().forEach(o -> begin(o, b, rest, out, hops));
        } else if (node instanceof ObjectNode o) {
            if (b == '{') {
                out.add(new Stack(new ObjectFrame(o, 0, ObjectFrame.OPEN, null, null, 0), rest));
            }
        } else if (node instanceof ArrayNode a) {
            if (b == '[') {
                out.add(new Stack(new ArrayFrame(a, 0, ArrayFrame.OPEN), rest));
            }
        } else if (node instanceof StringNode string) {
            if (b == '"') {
                out.add(new Stack(new StringFrame(string, 0, 0), rest));
            }
        } else if (node instanceof NumberNode n) {
            new NumberFrame(n.integer(), NumberFrame.START, 0).step(this, b, rest, out);
        } else if (node instanceof LiteralNode l) {
            new Literal(l.json(), 0).step(this, b, rest, out);
        } else { // AnyNode: the first byte says which kind of value
            SchemaNode kind = switch (b) {
                case '{' -> JsonSchema.ANY_OBJECT;
                case '[' -> ANY_ARRAY;
                case '"' -> ANY_STRING;
                case 't' -> new LiteralNode(TRUE);
                case 'f' -> new LiteralNode(FALSE);
                case 'n' -> new LiteralNode(NULL);
                default -> new NumberNode(false);
            };
            begin(kind, b, rest, out, hops);
        }
    }

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final StringNode ANY_STRING = new StringNode(0, JsonSchema.UNBOUNDED);
    private static final ArrayNode ANY_ARRAY = new ArrayNode(JsonSchema.ANY, 0, JsonSchema.UNBOUNDED);

    /** Exact bytes; popped after the last one. */
    private record Literal(byte[] bytes, int at) implements Frame {
        @Override
        public void step(JsonMatcher m, int b, Stack rest, List<Stack> out) {
            if ((bytes[at] & 0xFF) != b) {
                return;
            }
            out.add(at + 1 == bytes.length ? rest : new Stack(new Literal(bytes, at + 1), rest));
        }

        @Override
        public boolean structural() {
            return false;
        }
    }

    /**
     * The byte scanner of a JSON string's content: RFC 8259 escapes and well-formed UTF-8, no control characters.
     * States: 0 plain, 1 after a backslash, 2-5 hex digits of \\u left (5 = four), 6-8 UTF-8 continuation bytes left.
     */
    static final int STRING_END = -2;

    static int stringStep(int state, int b) {
        if (state == 0) {
            if (b == '"') {
                return STRING_END;
            }
            if (b == '\\') {
                return 1;
            }
            if (b < 0x20 || b == 0x7F) {
                return -1;
            }
            if (b < 0x80) {
                return 0;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                return 6;
            }
            if (b >= 0xE0 && b <= 0xEF) {
                return 7;
            }
            if (b >= 0xF0 && b <= 0xF4) {
                return 8;
            }
            return -1;
        }
        if (state == 1) {
            return switch (b) {
                case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> 0;
                case 'u' -> 5;
                default -> -1;
            };
        }
        if (state <= 5) {
            boolean hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            return hex ? (state == 2 ? 0 : state - 1) : -1;
        }
        if (b < 0x80 || b > 0xBF) {
            return -1;
        }
        return state == 6 ? 0 : state - 1;
    }

    /** @param length characters so far; one more starts at every byte read in the plain state */
    private record StringFrame(StringNode node, int state, int length) implements Frame {
        @Override
        public void step(JsonMatcher m, int b, Stack rest, List<Stack> out) {
            int next = stringStep(state, b);
            if (next == STRING_END) {
                if (length >= node.minLength()) {
                    out.add(rest);
                }
            } else if (next >= 0) {
                int chars = state == 0 ? length + 1 : length;
                if (chars <= node.maxLength()) {
                    out.add(new Stack(new StringFrame(node, next, chars), rest));
                }
            }
        }

        @Override
        public boolean structural() {
            return false;
        }
    }

    /** A number (RFC 8259 grammar); it ends at the first byte that cannot continue it, which goes to the frame below. */
    private record NumberFrame(boolean integer, int phase, int digits) implements Frame {
        static final int START = 0, MINUS = 1, ZERO = 2, INT = 3, DOT = 4, FRAC = 5, EXP = 6, EXP_SIGN = 7, EXP_DIGITS = 8;

        @Override
        public void step(JsonMatcher m, int b, Stack rest, List<Stack> out) {
            boolean digit = b >= '0' && b <= '9';
            int next = switch (phase) {
                case START -> b == '-' ? MINUS : b == '0' ? ZERO : digit ? INT : -1;
                case MINUS -> b == '0' ? ZERO : digit ? INT : -1;
                case ZERO, INT -> digit && phase == INT ? INT : b == '.' && !integer ? DOT
                        : (b == 'e' || b == 'E') && !integer ? EXP : -2;
                case DOT, FRAC -> digit ? FRAC : phase == FRAC && (b == 'e' || b == 'E') ? EXP : phase == FRAC ? -2 : -1;
                case EXP -> b == '+' || b == '-' ? EXP_SIGN : digit ? EXP_DIGITS : -1;
                case EXP_SIGN -> digit ? EXP_DIGITS : -1;
                default -> digit ? EXP_DIGITS : -2;
            };
            if (next == -2) { // the number is complete: the byte belongs to the frame below
                if (rest != null) {
                    m.step(rest, b, out);
                }
                return;
            }
            if (next < 0) {
                return;
            }
            int run = next == phase ? digits + 1 : (digit ? 1 : 0);
            if (run <= MAX_DIGITS) {
                out.add(new Stack(new NumberFrame(integer, next, run), rest));
            }
        }
    }

    /**
     * Inside an object. Declared keys are matched against the properties not yet seen (a key that no property
     * starts with is refused at its first wrong byte); other keys only when {@code additional} allows them.
     *
     * @param seen    bit i set once properties[i] was written
     * @param key     the key's bytes so far (phase KEY), or null
     * @param pending the value's schema once the key is closed (phase COLON)
     * @param scan    {@link #stringStep} state of a free-form key
     */
    private record ObjectFrame(ObjectNode node, long seen, int phase, byte[] key, SchemaNode pending, int scan)
            implements Frame {
        static final int OPEN = 0, KEY = 1, COLON = 2, NEXT = 3, COMMA = 4;

        @Override
        public void step(JsonMatcher m, int b, Stack rest, List<Stack> out) {
            switch (phase) {
                case OPEN, COMMA -> {
                    if (isWhitespace(b)) {
                        out.add(new Stack(this, rest));
                    } else if (b == '"') {
                        out.add(new Stack(new ObjectFrame(node, seen, KEY, new byte[0], null, 0), rest));
                    } else if (b == '}' && phase == OPEN && canClose()) {
                        out.add(rest);
                    }
                }
                case KEY -> key(b, rest, out);
                case COLON -> {
                    if (isWhitespace(b)) {
                        out.add(new Stack(this, rest));
                    } else if (b == ':') {
                        Stack after = new Stack(new ObjectFrame(node, seen, NEXT, null, null, 0), rest);
                        out.add(new Stack(new Value(pending), after));
                    }
                }
                default -> { // NEXT
                    if (isWhitespace(b)) {
                        out.add(new Stack(this, rest));
                    } else if (b == ',' && canContinue()) {
                        out.add(new Stack(new ObjectFrame(node, seen, COMMA, null, null, 0), rest));
                    } else if (b == '}' && canClose()) {
                        out.add(rest);
                    }
                }
            }
        }

        @Override
        public boolean structural() {
            return phase != KEY;
        }

        private void key(int b, Stack rest, List<Stack> out) {
            int next = stringStep(scan, b);
            if (next == -1) {
                return;
            }
            if (next == STRING_END) {
                for (int i = 0; i < node.properties().size(); i++) {
                    if (Arrays.equals(node.properties().get(i).key(), key)) {
                        if ((seen & (1L << i)) == 0) {
                            out.add(new Stack(new ObjectFrame(node, seen | (1L << i), COLON, null,
                                    node.properties().get(i).value(), 0), rest));
                        }
                        return; // a declared key twice is refused
                    }
                }
                if (node.additional() != null) {
                    out.add(new Stack(new ObjectFrame(node, seen, COLON, null, node.additional(), 0), rest));
                }
                return;
            }
            byte[] longer = Arrays.copyOf(key, key.length + 1);
            longer[key.length] = (byte) b;
            if (node.additional() != null || startsSomeUnseenKey(longer)) {
                out.add(new Stack(new ObjectFrame(node, seen, KEY, longer, null, next), rest));
            }
        }

        private boolean startsSomeUnseenKey(byte[] prefix) {
            List<Property> props = node.properties();
            for (int i = 0; i < props.size(); i++) {
                byte[] k = props.get(i).key();
                if ((seen & (1L << i)) == 0 && k.length >= prefix.length
                        && Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length)) {
                    return true;
                }
            }
            return false;
        }

        private boolean canClose() {
            return (seen & node.requiredMask()) == node.requiredMask();
        }

        private boolean canContinue() {
            return node.additional() != null || Long.bitCount(seen) < node.properties().size();
        }
    }

    /** Inside an array: items of one schema, between minItems and maxItems of them. */
    private record ArrayFrame(ArrayNode node, int count, int phase) implements Frame {
        static final int OPEN = 0, NEXT = 1, ITEM = 2;

        @Override
        public void step(JsonMatcher m, int b, Stack rest, List<Stack> out) {
            if (isWhitespace(b)) {
                out.add(new Stack(this, rest));
                return;
            }
            if (phase == NEXT) {
                if (b == ',' && count < node.maxItems()) {
                    out.add(new Stack(new ArrayFrame(node, count, ITEM), rest));
                } else if (b == ']' && count >= node.minItems()) {
                    out.add(rest);
                }
                return;
            }
            if (b == ']' && phase == OPEN && node.minItems() == 0) {
                out.add(rest);
                return;
            }
            if (phase == OPEN && node.maxItems() == 0) {
                return;
            }
            Stack after = new Stack(new ArrayFrame(node, count + 1, NEXT), rest);
            m.begin(node.items(), b, after, out, 0);
        }
    }
}
