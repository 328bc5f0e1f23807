package dev.cna.core.tokenizer;

import com.hubspot.jinjava.Jinjava;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Python's str methods that chat templates call and Java's String lacks or spells differently, plus
 * {@code dict.get(key, default)} and indexing a string; everything else falls through to Jinjava.
 */
final class PythonStringMethods extends ELResolver {
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
