package dev.cna.core.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cna generate} on the real default model. */
class GenerateCommandTest {
    @Test
    void theCapitalOfFranceIsParis() {
        CliRun o = CliRun.of("generate", "--prompt", "What is the capital of France?", "--temperature", "0", "--max-tokens", "24");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("Paris"), "reply: " + o.out());
        assertTrue(o.err().matches("(?s).*prompt tokens: \\d+, generated tokens: \\d+, .*tok/s.*"), "stats line: " + o.err());
    }

    @Test
    void aMissingModelIsAClearErrorNotAStackTrace() {
        CliRun o = CliRun.of("generate", "--prompt", "hi", "--model", "/nonexistent/model.gguf");
        assertEquals(1, o.exit());
        assertTrue(o.err().contains("model not found: /nonexistent/model.gguf"), o.err());
        assertTrue(!o.err().contains("\tat "), "no stack trace: " + o.err());
    }
}
