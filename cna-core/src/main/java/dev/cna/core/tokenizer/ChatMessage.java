package dev.cna.core.tokenizer;

/** One turn of a conversation: a role ("system", "user", "assistant", ...) and its text. */
public record ChatMessage(String role, String content) {}
