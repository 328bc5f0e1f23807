package dev.cna.core.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.lang.reflect.Array;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A model's own Jinja chat template (the {@code chat_template} of Hugging Face's tokenizer_config.json or
 * {@code tokenizer.chat_template} of a GGUF file), rendered the way transformers' apply_chat_template renders
 * it: trim_blocks and lstrip_blocks on, {@code raise_exception} and {@code strftime_now} defined, {@code tojson}
 * as Python's json.dumps, and the Python string methods templates call ({@code .strip()}, {@code .split()},
 * {@code .startswith()}, ...) available on strings.
 */
public final class ChatTemplate {
    private static final Jinjava JINJAVA = createEngine();
    /** Jinjava ignores the right-hand trim of {@code -#}}; the template is rewritten to trim that whitespace itself. */
    private static final Pattern COMMENT_RIGHT_TRIM = Pattern.compile("-#}\\s*");

    private final String template;
    private final String bosToken;
    private final String eosToken;

    /**
     * @param template the Jinja source, or null when the model has none ({@link #render} then fails)
     * @param bosToken the text bound to {@code bos_token}, or null
     * @param eosToken the text bound to {@code eos_token}, or null
     */
    public ChatTemplate(String template, String bosToken, String eosToken) {
        this.template = template == null ? null : COMMENT_RIGHT_TRIM.matcher(template).replaceAll("#}");
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    public boolean isPresent() {
        return template != null;
    }

    /**
     * The conversation as the model's prompt text.
     *
     * @throws IllegalStateException    when the model has no template, or the template cannot be rendered
     * @throws IllegalArgumentException when the template rejects the conversation (its raise_exception)
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (template == null) {
            throw new IllegalStateException("this model has no chat template: send the prompt as raw text "
                    + "(raw mode, no chat formatting) instead");
        }
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", m.role());
            msg.put("content", m.content());
            msgs.add(msg);
        }
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("messages", msgs);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        if (bosToken != null) {
            bindings.put("bos_token", bosToken);
        }
        if (eosToken != null) {
            bindings.put("eos_token", eosToken);
        }
        // Templates test "strftime_now is defined" before calling it; a function alone is not a defined name.
        bindings.put("strftime_now", Boolean.TRUE);

        RenderResult result = JINJAVA.renderForResult(template, bindings);
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() != TemplateError.ErrorType.FATAL) {
                continue; // warnings are jinja2's silent undefined values
            }
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof RaisedByTemplate raised) {
                    throw raised;
                }
            }
            throw new IllegalStateException("the chat template cannot be rendered: line " + error.getLineno() + ": "
                    + error.getMessage(), error.getException());
        }
        return result.getOutput();
    }

    private static Jinjava createEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        LegacyOverrides jinja2Semantics = LegacyOverrides.newBuilder()
                .withUseTrimmingForNotesAndExpressions(true) // {{- x -}} and {#- c #} trim as in jinja2
                .withParseWhitespaceControlStrictly(true)
                .withUseNaturalOperatorPrecedence(true)
                .withUsePyishObjectMapper(true) // lists and dicts print as Python prints them
                .withIterateOverMapKeys(true)
                .withKeepNullableLoopValues(true)
                .withEvaluateMapKeys(true)
                .build();
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false) // message text is data, never template code
                .withLegacyOverrides(jinja2Semantics)
                .withElResolver(resolver)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new ToJson());
        return jinjava;
    }

    /** The template's way to refuse a conversation (transformers defines the same function). */
    public static String raiseException(String message) {
        throw new RaisedByTemplate(message);
    }

    /** Python's {@code datetime.now().strftime(format)} for the common directives. */
    public static String strftimeNow(String format) {
        LocalDateTime now = LocalDateTime.now();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char directive = format.charAt(++i);
            String pattern = switch (directive) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                case 'j' -> "DDD";
                default -> null;
            };
            if (pattern != null) {
                out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(now));
            } else if (directive == '%') {
                out.append('%');
            } else {
                out.append('%').append(directive);
            }
        }
        return out.toString();
    }

    /** What raise_exception throws, told apart from Jinjava's own failures. */
    private static final class RaisedByTemplate extends IllegalArgumentException {
        RaisedByTemplate(String message) {
            super(message);
        }
    }

    /** transformers' tojson: {@code json.dumps(x, ensure_ascii=False, indent=indent)}. */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            StringBuilder out = new StringBuilder();
            write(out, var, indent == null ? null : Integer.parseInt(indent.toString()), 0);
            return out.toString();
        }

        private static void write(StringBuilder out, Object v, Integer indent, int depth) {
            if (v == null) {
                out.append("null");
            } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
                out.append(v);
            } else if (v instanceof Number n) {
                double d = n.doubleValue();
                out.append(d == Math.rint(d) && Math.abs(d) < 1e16 ? (long) d + ".0" : Double.toString(d));
            } else if (v instanceof Map<?, ?> map) {
                List<Object> items = new ArrayList<>(map.entrySet());
                writeContainer(out, items, '{', '}', indent, depth, (o, e) -> {
                    Map.Entry<?, ?> entry = (Map.Entry<?, ?>) e;
                    string(o, String.valueOf(entry.getKey()));
                    o.append(": ");
                    write(o, entry.getValue(), indent, depth + 1);
                });
            } else if (v instanceof Iterable<?> || v.getClass().isArray()) {
                List<Object> items = new ArrayList<>();
                if (v instanceof Iterable<?> it) {
                    it.forEach(items::add);
                } else {
                    for (int i = 0; i < Array.getLength(v); i++) {
                        items.add(Array.get(v, i));
                    }
                }
                writeContainer(out, items, '[', ']', indent, depth, (o, e) -> write(o, e, indent, depth + 1));
            } else {
                string(out, v.toString());
            }
        }

        private static void writeContainer(StringBuilder out, List<Object> items, char open, char close,
                                           Integer indent, int depth,
                                           BiConsumer<StringBuilder, Object> item) {
            out.append(open);
            if (!items.isEmpty()) {
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) {
                        out.append(indent == null ? ", " : ",");
                    }
                    if (indent != null) {
                        out.append('\n').append(" ".repeat(indent * (depth + 1)));
                    }
                    item.accept(out, items.get(i));
                }
                if (indent != null) {
                    out.append('\n').append(" ".repeat(indent * depth));
                }
            }
            out.append(close);
        }

        private static void string(StringBuilder out, String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }

    /**
     * Python's str methods that chat templates call and Java's String lacks or spells differently, plus
     * {@code dict.get(key, default)} and indexing a string; everything else falls through to Jinjava.
     */
    private static final class PythonMethods extends ELResolver {
        private static final Object NOT_HANDLED = new Object();
        private static final Pattern INDEX = Pattern.compile("-?\\d{1,9}");

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            Object[] args = params == null ? new Object[0] : params;
            Object result;
            if (base instanceof String s && method instanceof String name) {
                result = stringMethod(s, name, args);
            } else if (base instanceof Map<?, ?> map && "get".equals(method) && args.length == 2) {
                result = map.containsKey(args[0]) ? map.get(args[0]) : args[1];
            } else {
                return null;
            }
            if (result != NOT_HANDLED) {
                context.setPropertyResolved(true);
                return result;
            }
            return null;
        }

        /** {@code s[i]}; Jinjava hands the index over as a string ("0", "-1"). */
        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            if (base instanceof String s && property != null && INDEX.matcher(property.toString()).matches()) {
                int[] cps = s.codePoints().toArray();
                int index = Integer.parseInt(property.toString());
                int i = index < 0 ? cps.length + index : index;
                if (i >= 0 && i < cps.length) {
                    context.setPropertyResolved(true);
                    return new String(cps, i, 1);
                }
            }
            return null;
        }

        private static Object stringMethod(String s, String name, Object[] args) {
            String a0 = args.length > 0 && args[0] != null ? args[0].toString() : null;
            return switch (name) {
                case "strip" -> strip(s, a0, true, true);
                case "lstrip" -> strip(s, a0, true, false);
                case "rstrip" -> strip(s, a0, false, true);
                case "startswith" -> anyAffix(args[0], s::startsWith);
                case "endswith" -> anyAffix(args[0], s::endsWith);
                case "split" -> split(s, a0, args.length > 1 ? ((Number) args[1]).intValue() : -1);
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "capitalize" -> s.isEmpty() ? s
                        : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                case "replace" -> s.replace(a0, args[1].toString());
                case "find" -> s.indexOf(a0);
                case "join" -> {
                    List<String> parts = new ArrayList<>();
                    ((Iterable<?>) args[0]).forEach(p -> parts.add(String.valueOf(p)));
                    yield String.join(s, parts);
                }
                default -> NOT_HANDLED;
            };
        }

        private static boolean isPythonSpace(int c) {
            return Character.isWhitespace(c) || Character.isSpaceChar(c);
        }

        /** str.strip/lstrip/rstrip: whitespace, or the given characters. */
        private static String strip(String s, String chars, boolean left, boolean right) {
            Predicate<Character> strippable = c -> chars == null ? isPythonSpace(c) : chars.indexOf(c) >= 0;
            int start = 0;
            int end = s.length();
            while (left && start < end && strippable.test(s.charAt(start))) {
                start++;
            }
            while (right && end > start && strippable.test(s.charAt(end - 1))) {
                end--;
            }
            return s.substring(start, end);
        }

        /** str.startswith/endswith take one affix or a tuple of them. */
        private static boolean anyAffix(Object affixes, Predicate<String> test) {
            if (affixes instanceof Iterable<?> many) {
                for (Object a : many) {
                    if (test.test(a.toString())) {
                        return true;
                    }
                }
                return false;
            }
            return test.test(affixes.toString());
        }

        /** str.split: on runs of whitespace without a separator, else on each separator; maxsplit < 0 is all. */
        private static List<String> split(String s, String sep, int maxSplit) {
            List<String> parts = new ArrayList<>();
            if (sep == null) {
                int i = 0;
                while (i < s.length()) {
                    while (i < s.length() && isPythonSpace(s.charAt(i))) {
                        i++;
                    }
                    if (i == s.length()) {
                        break;
                    }
                    if (maxSplit >= 0 && parts.size() == maxSplit) {
                        parts.add(strip(s.substring(i), null, false, true));
                        break;
                    }
                    int j = i;
                    while (j < s.length() && !isPythonSpace(s.charAt(j))) {
                        j++;
                    }
                    parts.add(s.substring(i, j));
                    i = j;
                }
                return parts;
            }
            int from = 0;
            int at = s.indexOf(sep);
            while (at >= 0 && (maxSplit < 0 || parts.size() < maxSplit)) {
                parts.add(s.substring(from, at));
                from = at + sep.length();
                at = s.indexOf(sep, from);
            }
            parts.add(s.substring(from));
            return parts;
        }

        private static String title(String s) {
            StringBuilder out = new StringBuilder(s.length());
            boolean previousCased = false;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                out.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
                previousCased = Character.isLetter(c);
            }
            return out.toString();
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
            // read-only: assignments go to Jinjava's own resolver
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return false;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return null;
        }
    }
}
