package dev.cna.core.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cna generate} on the real default model. */
class GenerateCommandTest {
    private record Output(int exit, String out, String err) {}

    private static Output run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new Output(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void theCapitalOfFranceIsParis() {
        Output o = run("generate", "--prompt", "What is the capital of France?", "--temperature", "0", "--max-tokens", "24");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("Paris"), "reply: " + o.out());
        assertTrue(o.err().matches("(?s).*prompt tokens: \\d+, generated tokens: \\d+, .*tok/s.*"), "stats line: " + o.err());
    }

    @Test
    void aMissingModelIsAClearErrorNotAStackTrace() {
        Output o = run("generate", "--prompt", "hi", "--model", "/nonexistent/model.gguf");
        assertEquals(1, o.exit());
        assertTrue(o.err().contains("model not found: /nonexistent/model.gguf"), o.err());
        assertTrue(!o.err().contains("\tat "), "no stack trace: " + o.err());
    }
}
