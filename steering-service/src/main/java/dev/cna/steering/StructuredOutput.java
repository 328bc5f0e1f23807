package dev.cna.steering;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.api.GenerateRequest;
import dev.cna.api.ToolCallSyntax;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.generate.constraint.JsonSchema;
import dev.cna.core.generate.constraint.TokenConstraint;
import dev.cna.core.generate.constraint.UnsupportedSchemaException;
import dev.cna.core.tokenizer.ChatMessage;
import dev.cna.core.tokenizer.ChatTemplate;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.regex.Pattern;

/**
 * The structured side of {@code POST /generate}: {@code json_schema} (the reply is a document of the schema) and
 * {@code tools} / {@code tool_choice} (tool definitions rendered by the model's own chat template; a required or
 * named choice enforced as one {@link ToolCallSyntax} block calling a tool with arguments of its parameters' schema).
 * Refusals are 400 problems that name the field and the reason.
 */
final class StructuredOutput {
    static final int MAX_TOOLS = 32;
    /** OpenAI's rule for function names. */
    static final Pattern TOOL_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<ChatTemplate, Boolean> TOOL_TEMPLATES = Collections.synchronizedMap(new WeakHashMap<>());

    private StructuredOutput() {}

    /** What the request asks of the tools, resolved. */
    private enum Choice { NONE, AUTO, REQUIRED, NAMED }

    /** Checks the structured fields' shapes (before the model is asked anything). */
    static void validate(GenerateRequest request) {
        List<Map<String, Object>> tools = request.tools();
        if (tools != null) {
            if (request.messages() == null) {
                throw ProblemException.badRequest("tools need messages (a chat), not a raw prompt");
            }
            if (tools.size() > MAX_TOOLS) {
                throw ProblemException.badRequest("tools takes at most " + MAX_TOOLS + " functions, got " + tools.size());
            }
            Set<String> names = new HashSet<>();
            for (int i = 0; i < tools.size(); i++) {
                JsonNode tool = JSON.valueToTree(tools.get(i));
                JsonNode function = tool.path("function");
                if (!"function".equals(tool.path("type").textValue()) || !TOOL_NAME.matcher(function.path("name").asText("")).matches()) {
                    throw ProblemException.badRequest("tools[" + i + "] must be {\"type\": \"function\", \"function\": "
                            + "{\"name\": NAME, \"parameters\": SCHEMA}} with a name of " + TOOL_NAME.pattern());
                }
                if (function.has("parameters") && !function.get("parameters").isObject()) {
                    throw ProblemException.badRequest("tools[" + i + "].function.parameters must be a JSON schema object");
                }
                if (!names.add(function.get("name").textValue())) {
                    throw ProblemException.badRequest("tools[" + i + "]: the function " + function.get("name").textValue()
                            + " is named twice");
                }
            }
        }
        Choice choice = choice(request);
        if (request.jsonSchema() != null && choice != Choice.NONE) {
            throw ProblemException.badRequest("json_schema and tools cannot be combined (unless tool_choice is none)");
        }
        if (request.messages() != null) {
            for (int i = 0; i < request.messages().size(); i++) {
                List<GenerateRequest.ToolCall> calls = request.messages().get(i).toolCalls();
                for (int c = 0; calls != null && c < calls.size(); c++) {
                    GenerateRequest.ToolCall call = calls.get(c);
                    if (call == null || call.function() == null || call.function().name() == null
                            || !arguments(call.function().arguments()).isObject()) {
                        throw ProblemException.badRequest("messages[" + i + "].tool_calls[" + c + "] needs a function "
                                + "name and arguments that are a JSON object's text");
                    }
                }
            }
        }
    }

    private static Choice choice(GenerateRequest request) {
        Object choice = request.toolChoice();
        if (request.tools() == null || request.tools().isEmpty()) {
            if (choice != null && !"none".equals(choice)) {
                throw ProblemException.badRequest("tool_choice needs tools");
            }
            return Choice.NONE;
        }
        if (choice == null || "auto".equals(choice)) {
            return Choice.AUTO;
        }
        if ("none".equals(choice)) {
            return Choice.NONE;
        }
        if ("required".equals(choice)) {
            return Choice.REQUIRED;
        }
        String named = namedFunction(choice);
        if (named == null) {
            throw ProblemException.badRequest("tool_choice must be none, auto, required or {\"type\": \"function\", "
                    + "\"function\": {\"name\": NAME}}");
        }
        if (tool(request, named) == null) {
            throw ProblemException.badRequest("tool_choice names the function " + named + ", which is not in tools");
        }
        return Choice.NAMED;
    }

    private static String namedFunction(Object choice) {
        JsonNode node = JSON.valueToTree(choice);
        return "function".equals(node.path("type").textValue()) ? node.path("function").path("name").textValue() : null;
    }

    private static JsonNode tool(GenerateRequest request, String name) {
        for (Map<String, Object> t : request.tools()) {
            JsonNode function = JSON.valueToTree(t).path("function");
            if (name.equals(function.path("name").textValue())) {
                return function;
            }
        }
        return null;
    }

    /** One turn for the chat template: tool calls with their arguments as objects (what templates expect). */
    static ChatMessage chatMessage(GenerateRequest.Message m) {
        List<Map<String, Object>> calls = null;
        if (m.toolCalls() != null) {
            calls = new ArrayList<>();
            for (GenerateRequest.ToolCall call : m.toolCalls()) {
                Map<String, Object> args = JSON.convertValue(arguments(call.function().arguments()), Map.class);
                calls.add(Map.of("id", call.id() == null ? "" : call.id(), "type", "function",
                        "function", Map.of("name", call.function().name(), "arguments", args)));
            }
        }
        return new ChatMessage(m.role(), m.content(), calls, m.toolCallId());
    }

    private static JsonNode arguments(String text) {
        if (text == null) {
            return JSON.missingNode();
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return JSON.missingNode();
        }
    }

    /** The prompt text of a validated chat request: with its tools when they are offered. */
    static String render(GenerateRequest request, List<ChatMessage> messages, Tokenizer tokenizer) {
        ChatTemplate template = tokenizer.chatTemplate();
        if (choice(request) == Choice.NONE) {
            return template.render(messages, true);
        }
        if (!TOOL_TEMPLATES.computeIfAbsent(template, StructuredOutput::rendersToolCalls)) {
            throw ProblemException.badRequest("tools: this model's chat template does not support tools (it does not "
                    + "render tool definitions and " + ToolCallSyntax.OPEN + " calls); use a tool-capable model such as "
                    + "Qwen2.5-Instruct");
        }
        return template.render(messages, request.tools(), true);
    }

    /** Whether the template renders tools and writes calls as {@link ToolCallSyntax} blocks. */
    private static boolean rendersToolCalls(ChatTemplate template) {
        if (!template.supportsTools()) {
            return false;
        }
        Map<String, Object> call = Map.of("type", "function", "function", Map.of("name", "probe", "arguments", Map.of()));
        try {
            String text = template.render(List.of(new ChatMessage("user", "q"),
                    new ChatMessage("assistant", null, List.of(call), null)), true);
            return text.contains(ToolCallSyntax.OPEN) && text.contains(ToolCallSyntax.CLOSE);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The sampling settings with the reply constrained by json_schema, or to a tool call for a required choice. */
    static SamplingParams constrain(GenerateRequest request, SamplingParams params, Tokenizer tokenizer) {
        if (request.jsonSchema() != null) {
            return params.withConstraint(TokenConstraint.json(compile(JSON.valueToTree(request.jsonSchema()), "json_schema"),
                    tokenizer));
        }
        Choice choice = choice(request);
        if (choice != Choice.REQUIRED && choice != Choice.NAMED) {
            return params;
        }
        String named = choice == Choice.NAMED ? namedFunction(request.toolChoice()) : null;
        ArrayNode calls = JSON.createArrayNode();
        for (Map<String, Object> t : request.tools()) {
            JsonNode function = JSON.valueToTree(t).path("function");
            String name = function.path("name").textValue();
            if (named != null && !named.equals(name)) {
                continue;
            }
            ObjectNode call = calls.addObject().put("type", "object").put("additionalProperties", false);
            call.putObject("properties").set("name", JSON.createObjectNode().put("const", name));
            ((ObjectNode) call.get("properties")).set("arguments",
                    function.has("parameters") ? function.get("parameters") : JSON.createObjectNode().put("type", "object"));
            call.putArray("required").add("name").add("arguments");
        }
        ObjectNode schema = JSON.createObjectNode();
        schema.set("anyOf", calls);
        return params.withConstraint(TokenConstraint.wrapped(ToolCallSyntax.OPEN + "\n",
                compile(schema, "tools[].function.parameters"), "\n" + ToolCallSyntax.CLOSE, tokenizer));
    }

    private static JsonSchema compile(JsonNode schema, String field) {
        try {
            return JsonSchema.compile(schema);
        } catch (UnsupportedSchemaException e) {
            throw ProblemException.badRequest(field + ": " + e.getMessage());
        }
    }
}
