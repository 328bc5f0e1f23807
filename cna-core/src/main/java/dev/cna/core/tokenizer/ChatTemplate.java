package dev.cna.core.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
        return render(messages, null, addGenerationPrompt);
    }

    /**
     * The conversation with tool definitions as the model's prompt text.
     *
     * @param tools OpenAI function tools bound to the template's {@code tools}, or null for none
     * @throws IllegalStateException    when the model has no template, or the template cannot be rendered
     * @throws IllegalArgumentException when the template rejects the conversation (its raise_exception)
     */
    public String render(List<ChatMessage> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt) {
        if (template == null) {
            throw new IllegalStateException("this model has no chat template: send the prompt as raw text "
                    + "(raw mode, no chat formatting) instead");
        }
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", m.role());
            msg.put("content", m.content());
            if (m.toolCalls() != null) {
                msg.put("tool_calls", m.toolCalls());
            }
            if (m.toolCallId() != null) {
                msg.put("tool_call_id", m.toolCallId());
            }
            msgs.add(msg);
        }
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("messages", msgs);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        if (tools != null) {
            bindings.put("tools", tools);
        }
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

    /**
     * Whether the template renders tool definitions: a probe tool's name shows up in the prompt (templates without
     * tool support ignore {@code tools}).
     */
    public boolean supportsTools() {
        if (template == null) {
            return false;
        }
        Map<String, Object> probe = Map.of("type", "function", "function",
                Map.of("name", TOOL_PROBE, "description", "", "parameters", Map.of("type", "object")));
        try {
            return render(List.of(new ChatMessage("user", "")), List.of(probe), true).contains(TOOL_PROBE);
        } catch (RuntimeException e) {
            return false; // a template that fails on tools does not support them
        }
    }

    private static final String TOOL_PROBE = "cna_tool_probe_7f3a";

    private static Jinjava createEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
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
        jinjava.getGlobalContext().registerFilter(new JinjaToJson());
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
}
