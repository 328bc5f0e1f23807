package dev.cna.core.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/** transformers' tojson: {@code json.dumps(x, ensure_ascii=False, indent=indent)}. */
final class JinjaToJson implements Filter {
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
