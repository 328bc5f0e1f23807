package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.ToolCallSyntax;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Reads a reply's tool calls as its text streams in: {@link ToolCallSyntax} blocks ({@code <tool_call>{"name",
 * "arguments"}</tool_call>}, as Qwen2.5's and Hermes' templates write them) become OpenAI tool calls, the rest stays
 * content. Text that may be the start of a block, and whitespace that may only separate blocks, is held back until
 * it is known to be content. A block that is not a JSON object with a string {@code name} stays content, as written.
 * One instance per reply.
 */
final class ToolCallStream {
    /** Content text, or a complete tool call. */
    record Piece(String content, OpenAi.ToolCall call) {}

    private final ObjectMapper json;
    private final StringBuilder pending = new StringBuilder();
    private boolean inCall;
    private int calls;

    ToolCallStream(ObjectMapper json) {
        this.json = json;
    }

    /** How many tool calls were read so far. */
    int calls() {
        return calls;
    }

    /** The pieces this text completes. */
    List<Piece> push(String text) {
        pending.append(text);
        List<Piece> out = new ArrayList<>(1);
        while (true) {
            if (inCall) {
                int close = pending.indexOf(ToolCallSyntax.CLOSE);
                if (close < 0) {
                    return out;
                }
                String body = pending.substring(0, close);
                pending.delete(0, close + ToolCallSyntax.CLOSE.length());
                inCall = false;
                OpenAi.ToolCall call = parse(body);
                if (call != null) {
                    out.add(new Piece(null, call));
                } else {
                    content(ToolCallSyntax.OPEN + body + ToolCallSyntax.CLOSE, out);
                }
                continue;
            }
            int open = pending.indexOf(ToolCallSyntax.OPEN);
            if (open >= 0) {
                content(pending.substring(0, open).stripTrailing(), out); // the line break before a block is not text
                pending.delete(0, open + ToolCallSyntax.OPEN.length());
                inCall = true;
                continue;
            }
            int cut = pending.length() - partialOpen();
            while (cut > 0 && Character.isWhitespace(pending.charAt(cut - 1))) {
                cut--;
            }
            content(pending.substring(0, cut), out);
            pending.delete(0, cut);
            return out;
        }
    }

    /** What is left at the end of the reply: an unclosed block or held-back text, as content. */
    List<Piece> finish() {
        String rest = (inCall ? ToolCallSyntax.OPEN : "") + pending;
        pending.setLength(0);
        inCall = false;
        List<Piece> out = new ArrayList<>(1);
        content(rest, out);
        return out;
    }

    /** Content, except whitespace around tool calls (what separates blocks is not text for the user). */
    private void content(String text, List<Piece> out) {
        if (!text.isEmpty() && !(calls > 0 && text.isBlank())) {
            out.add(new Piece(text, null));
        }
    }

    /** The length of the longest end of the pending text that starts the open tag. */
    private int partialOpen() {
        for (int n = Math.min(pending.length(), ToolCallSyntax.OPEN.length() - 1); n > 0; n--) {
            if (pending.substring(pending.length() - n).equals(ToolCallSyntax.OPEN.substring(0, n))) {
                return n;
            }
        }
        return 0;
    }

    private OpenAi.ToolCall parse(String body) {
        JsonNode call;
        try {
            call = json.readTree(body.strip());
        } catch (JsonProcessingException e) {
            return null;
        }
        if (call == null || !call.isObject() || !call.path("name").isTextual()) {
            return null;
        }
        JsonNode args = call.path("arguments");
        String arguments = args.isTextual() ? args.textValue() : args.isMissingNode() ? "{}" : args.toString();
        String id = "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        return new OpenAi.ToolCall(calls++, id, "function", new OpenAi.FunctionCall(call.get("name").textValue(), arguments));
    }
}
