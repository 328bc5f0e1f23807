package dev.cna.api;

/**
 * How a model writes a tool call in its reply, as steering-service enforces it ({@code tool_choice} required or
 * named) and the gateway reads it back into OpenAI {@code tool_calls}: the Hermes / Qwen2.5 convention, whose chat
 * templates render calls the same way: {@code <tool_call>\n{"name": NAME, "arguments": {...}}\n</tool_call>}, one
 * block per call.
 */
public final class ToolCallSyntax {
    public static final String OPEN = "<tool_call>";
    public static final String CLOSE = "</tool_call>";

    private ToolCallSyntax() {}
}
