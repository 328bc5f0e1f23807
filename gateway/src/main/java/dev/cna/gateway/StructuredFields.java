package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.GenerateRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's structured-output and tool fields of a chat body onto steering-service's: {@code response_format}
 * ({@code text}; {@code json_object} = the schema {@code {"type": "object"}}; {@code json_schema} = its
 * {@code schema}) to {@code json_schema}, {@code tools} and {@code tool_choice} as they are, and the tool side of
 * messages ({@code tool_calls} of assistant turns, {@code tool_call_id} of tool turns). The gateway checks shapes;
 * steering-service checks what depends on the model and the schema subset, and its 400 comes back with the reason.
 */
final class StructuredFields {
    private static final Map<String, Object> ANY_OBJECT = Map.of("type", "object");

    private StructuredFields() {}

    /** The request with the body's response_format, tools and tool_choice. */
    static GenerateRequest read(JsonNode body, GenerateRequest generate, ObjectMapper json) {
        for (String legacy : List.of("functions", "function_call")) {
            if (body.hasNonNull(legacy)) {
                throw ProblemException.invalid(legacy + " is OpenAI's deprecated form: send tools and tool_choice");
            }
        }
        JsonNode parallel = body.get("parallel_tool_calls");
        if (parallel != null && !parallel.isNull() && !parallel.isBoolean()) {
            throw ProblemException.invalid("parallel_tool_calls must be true or false");
        }
        List<Map<String, Object>> tools = null;
        JsonNode list = body.get("tools");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw ProblemException.invalid("tools must be a list of {\"type\": \"function\", \"function\": {...}}");
            }
            tools = new ArrayList<>();
            for (JsonNode tool : list) {
                if (!tool.isObject()) {
                    throw ProblemException.invalid("tools must be a list of {\"type\": \"function\", \"function\": {...}}");
                }
                tools.add(json.convertValue(tool, Map.class));
            }
        }
        JsonNode choice = body.get("tool_choice");
        Object toolChoice = null;
        if (choice != null && !choice.isNull()) {
            if (!choice.isTextual() && !choice.isObject()) {
                throw ProblemException.invalid("tool_choice must be none, auto, required or {\"type\": \"function\", "
                        + "\"function\": {\"name\": NAME}}");
            }
            toolChoice = choice.isTextual() ? choice.textValue() : json.convertValue(choice, Map.class);
        }
        return generate.withStructure(schema(body.get("response_format"), json), tools, toolChoice);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> schema(JsonNode format, ObjectMapper json) {
        if (format == null || format.isNull()) {
            return null;
        }
        String type = format.path("type").textValue();
        if ("text".equals(type)) {
            return null;
        }
        if ("json_object".equals(type)) {
            return ANY_OBJECT;
        }
        if (!"json_schema".equals(type)) {
            throw ProblemException.invalid("response_format.type must be text, json_object or json_schema");
        }
        JsonNode spec = format.path("json_schema");
        if (!spec.isObject() || !spec.path("name").isTextual()) {
            throw ProblemException.invalid("response_format.json_schema must be {\"name\": NAME, \"schema\": SCHEMA, "
                    + "\"strict\": BOOLEAN}");
        }
        if (spec.has("strict") && !spec.get("strict").isBoolean() && !spec.get("strict").isNull()) {
            throw ProblemException.invalid("response_format.json_schema.strict must be true or false");
        }
        JsonNode schema = spec.get("schema");
        if (schema == null || schema.isNull()) {
            return ANY_OBJECT;
        }
        if (!schema.isObject()) {
            throw ProblemException.invalid("response_format.json_schema.schema must be a JSON schema object");
        }
        return json.convertValue(schema, Map.class);
    }

    /** A chat turn with its tool calls (assistant) or the call it answers (tool). */
    static GenerateRequest.Message message(JsonNode m, String role, String content, String at) {
        JsonNode calls = m.get("tool_calls");
        List<GenerateRequest.ToolCall> toolCalls = null;
        if (calls != null && !calls.isNull()) {
            if (!"assistant".equals(role) || !calls.isArray()) {
                throw ProblemException.invalid(at + ".tool_calls must be a list, on an assistant message");
            }
            toolCalls = new ArrayList<>();
            for (JsonNode call : calls) {
                JsonNode function = call.path("function");
                if (!function.path("name").isTextual() || !function.path("arguments").isTextual()) {
                    throw ProblemException.invalid(at + ".tool_calls[" + toolCalls.size() + "] must be {\"id\": ID, "
                            + "\"type\": \"function\", \"function\": {\"name\": NAME, \"arguments\": JSON_TEXT}}");
                }
                toolCalls.add(new GenerateRequest.ToolCall(call.path("id").textValue(), "function",
                        new GenerateRequest.FunctionCall(function.get("name").textValue(), function.get("arguments").textValue())));
            }
        }
        JsonNode id = m.get("tool_call_id");
        if ("tool".equals(role) && (id == null || !id.isTextual())) {
            throw ProblemException.invalid(at + ".tool_call_id must be the id of the call this tool message answers");
        }
        return new GenerateRequest.Message(role, content, toolCalls, "tool".equals(role) ? id.textValue() : null);
    }
}
