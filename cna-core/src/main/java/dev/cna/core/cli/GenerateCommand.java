package dev.cna.core.cli;

import dev.cna.core.generate.Generation;
import dev.cna.core.generate.Generator;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Transformer;
import dev.cna.core.runtime.WeightStorage;
import dev.cna.core.tokenizer.ChatMessage;
import dev.cna.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code cna generate --prompt TEXT}: streams the reply to stdout and one stats line to stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate a reply, streamed to stdout.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--prompt", required = true, description = "The user message (or the raw text with --raw).")
    String prompt;

    @Option(names = "--system", description = "A system message (chat mode).")
    String system;

    @Option(names = "--raw", description = "Feed the prompt as is, without the chat template (base models).")
    boolean raw;

    @Option(names = "--model", defaultValue = "default", description = "default, hf:ORG/NAME or a path (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.7", description = "0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "0 keeps all tokens (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "Nucleus cut (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", description = "A stop string (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--weights", defaultValue = "F32", description = "Weight storage: F32, BF16 or F16 (default: ${DEFAULT-VALUE}).")
    WeightStorage weights;

    @Override
    public Integer call() {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        SamplingParams params = new SamplingParams(temperature, topK, topP, seed, maxTokens, stop);
        try (WeightSource source = ModelLoader.open(new ModelSpec(model).existingPath());
             Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Transformer transformer = Transformer.load(source, weights)) {
            String text = raw ? prompt : tokenizer.formatChat(messages(), true);
            int[] tokens = tokenizer.encodePrompt(text);
            Generation g = new Generator(transformer, tokenizer).generate(List.of(tokens), List.of(params), null,
                    (row, token, piece) -> {
                        out.print(piece);
                        out.flush();
                        return true;
                    }).get(0);
            out.println();
            System.err.printf("prompt tokens: %d, generated tokens: %d, prefill: %.1f tok/s, decode: %.1f tok/s, finish: %s%n",
                    g.promptTokens(), g.tokens().length, g.promptTokens() * 1e9 / g.prefillNanos(),
                    g.decodeTokensPerSecond(), g.finishReason().name().toLowerCase());
        }
        return 0;
    }

    private List<ChatMessage> messages() {
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(new ChatMessage("system", system));
        }
        messages.add(new ChatMessage("user", prompt));
        return messages;
    }
}
