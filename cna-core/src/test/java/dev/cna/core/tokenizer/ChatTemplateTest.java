package dev.cna.core.tokenizer;

import dev.cna.core.model.gguf.GgufTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.gguf.GgufFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Chat templates rendered by {@link ChatTemplate} against jinja2 rendering them as transformers does (fixture made
 * by tools/fixtures/tokenizer_fixtures.py): the default model's own template, Llama 3.2, Qwen2.5, Mistral v0.3,
 * and a template of Python string methods.
 */
class ChatTemplateTest {
    static JsonNode chat;
    static Map<String, String> templates = new HashMap<>();

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/fixtures/tokenizer/smollm2.json")) {
            chat = new ObjectMapper().readTree(in).get("chat");
        }
        if (!Files.exists(ModelStore.defaultModel())) {
            fail("the default model is missing at " + ModelStore.defaultModel() + ": run ./cna model pull");
        }
        try (GgufFile gguf = GgufFile.open(ModelStore.defaultModel())) {
            templates.put("smollm2", GgufTokenizer.fromGguf(gguf).chatTemplate());
        }
        for (String name : List.of("llama-3.2", "qwen2.5", "mistral-v0.3", "python-methods")) {
            String resource = "/fixtures/tokenizer/templates/" + name + ".jinja";
            try (InputStream in = ChatTemplateTest.class.getResourceAsStream(resource)) {
                templates.put(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void defaultModelTemplateRendersAsJinja2() {
        assertCases("smollm2", 10);
    }

    @Test
    void llama32TemplateRendersAsJinja2() {
        assertCases("llama-3.2", 10);
    }

    @Test
    void qwen25TemplateRendersAsJinja2() {
        assertCases("qwen2.5", 10);
    }

    /** Tool definitions, assistant tool calls and tool results, against jinja2 (tools/fixtures/tool_template_fixtures.py). */
    @Test
    @SuppressWarnings("unchecked")
    void qwen25TemplateRendersToolsAsJinja2() throws IOException {
        JsonNode fixture;
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/fixtures/tokenizer/qwen2.5-tools.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        ObjectMapper json = new ObjectMapper();
        List<Map<String, Object>> tools = new ArrayList<>();
        fixture.get("tools").forEach(t -> tools.add(json.convertValue(t, Map.class)));
        ChatTemplate template = new ChatTemplate(templates.get("qwen2.5"), null, "<|im_end|>");
        assertTrue(template.supportsTools());
        assertEquals(false, new ChatTemplate(templates.get("smollm2"), null, null).supportsTools());
        int count = 0;
        for (JsonNode c : fixture.get("cases")) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : fixture.get("conversations").get(c.get("conversation").asText())) {
                List<Map<String, Object>> calls = null;
                if (m.has("tool_calls")) {
                    calls = new ArrayList<>();
                    for (JsonNode call : m.get("tool_calls")) {
                        calls.add(json.convertValue(call, Map.class));
                    }
                }
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").isNull() ? null : m.get("content").asText(),
                        calls, m.path("tool_call_id").textValue()));
            }
            assertEquals(c.get("expected").asText(), template.render(messages, tools, true), c.get("conversation").asText());
            count++;
        }
        assertEquals(3, count);
    }

    @Test
    void mistralTemplateRendersAsJinja2AndRejectsWhatItRejects() {
        assertCases("mistral-v0.3", 10);
    }

    @Test
    void pythonStringMethodsAndToJsonBehaveAsInPython() {
        assertCases("python-methods", 10);
    }

    @Test
    void renderErrorsAreClear() {
        ChatTemplate broken = new ChatTemplate("{% for m in messages %}{{ m.content }", null, null);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> broken.render(List.of(new ChatMessage("user", "x")), false));
        assertTrue(e.getMessage().startsWith("the chat template cannot be rendered"), e.getMessage());

        ChatTemplate raising =
                new ChatTemplate("{{ raise_exception('no ' + messages[0].role + ' here') }}", null, null);
        IllegalArgumentException raised = assertThrows(IllegalArgumentException.class,
                () -> raising.render(List.of(new ChatMessage("tool", "x")), false));
        assertEquals("no tool here", raised.getMessage());
    }

    @Test
    void messageTextIsNeverInterpretedAsTemplateCode() {
        String out = new ChatTemplate("{{ messages[0].content }}", null, null)
                .render(List.of(new ChatMessage("user", "{{ 7 * 6 }} {% raw %}")), false);
        assertEquals("{{ 7 * 6 }} {% raw %}", out);
    }

    /** Renders every fixture case of one template, which must number at least {@code min}. */
    private static void assertCases(String name, int min) {
        String bos = chat.get("bos_token").get(name).isNull() ? null : chat.get("bos_token").get(name).asText();
        String eos = chat.get("eos_token").get(name).isNull() ? null : chat.get("eos_token").get(name).asText();
        ChatTemplate template = new ChatTemplate(templates.get(name), bos, eos);
        // jinja2's strftime_now left a marker; ours writes the date (format "%d %b %Y" in these templates).
        String today = LocalDate.now().format(DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH));
        int count = 0;
        for (JsonNode c : chat.get("cases")) {
            if (!c.get("template").asText().equals(name)) {
                continue;
            }
            count++;
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : chat.get("conversations").get(c.get("conversation").asText())) {
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            boolean addGenerationPrompt = c.get("add_generation_prompt").asBoolean();
            String what = name + " / " + c.get("conversation").asText() + " / add_generation_prompt="
                    + addGenerationPrompt;
            if (c.has("error")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> template.render(messages, addGenerationPrompt), what);
                assertEquals(c.get("error").asText(), e.getMessage(), what);
            } else {
                String expected = c.get("expected").asText().replace("STRFTIME[%d %b %Y]", today);
                assertEquals(expected, template.render(messages, addGenerationPrompt), what);
            }
        }
        assertTrue(count >= min, name + ": only " + count + " fixture cases");
    }
}
