package dev.cna.core.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * One turn of a conversation: a role ("system", "user", "assistant", "tool", ...) and its text, and for tool use what
 * the chat template reads: an assistant turn's calls ({@code [{"type": "function", "function": {"name", "arguments":
 * {...}}}]}, arguments as an object, as transformers' templates expect) and a tool turn's call id.
 *
 * @param content    the text; may be null on an assistant turn with tool calls
 * @param toolCalls  null when the turn made none
 * @param toolCallId null unless a tool turn names its call
 */
public record ChatMessage(String role, String content, List<Map<String, Object>> toolCalls, String toolCallId) {
    public ChatMessage(String role, String content) {
        this(role, content, null, null);
    }
}
