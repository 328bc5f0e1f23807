package dev.cna.core.cli;

import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.generate.Generation;
import dev.cna.core.generate.Generator;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.ChatMessage;
import dev.cna.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    @Option(names = "--max-tokens", defaultValue = "256", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    private static final SamplingOptions.Defaults DEFAULTS = new SamplingOptions.Defaults(0.7f, 40, 0.95f, 42);

    @Option(names = "--stop", description = "A stop string (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--circuit", paramLabel = "FILE=MULTIPLIER",
            description = "Steer with a circuit: 0 ablates, 1 changes nothing, >1 amplifies (repeatable; factors compose).")
    Map<Path, Float> circuits = new LinkedHashMap<>();

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws IOException {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        SamplingParams params = new SamplingParams(sampling.temperature(DEFAULTS), sampling.topK(DEFAULTS),
                sampling.topP(DEFAULTS), sampling.seed(DEFAULTS), maxTokens, stop);
        try (LoadedModel m = modelOptions.load();
             NeuronScaling steering = SteeringPlan.hook(List.of(plan(circuits, m)), m.config())) {
            Tokenizer tokenizer = m.tokenizer();
            String text = raw ? prompt : tokenizer.formatChat(messages(), true);
            int[] tokens = tokenizer.encodePrompt(text);
            Generation g = new Generator(m.backend(), tokenizer).generate(List.of(tokens), List.of(params), steering,
                    (row, token, piece) -> {
                        out.print(piece);
                        out.flush();
                        return true;
                    }).get(0);
            out.println();
            System.err.printf("prompt tokens: %d, generated tokens: %d, prefill: %.1f tok/s, decode: %.1f tok/s, finish: %s, backend: %s%n",
                    g.promptTokens(), g.tokens().length, g.promptTokens() * 1e9 / g.prefillNanos(),
                    g.decodeTokensPerSecond(), g.finishReason().name().toLowerCase(), m.backend().name());
        }
        return 0;
    }

    /** The composed plan of --circuit FILE=MULTIPLIER options, compiled for the loaded model. */
    static SteeringPlan plan(Map<Path, Float> circuits, LoadedModel m) throws IOException {
        List<CircuitStrength> strengths = new ArrayList<>();
        for (Map.Entry<Path, Float> e : circuits.entrySet()) {
            strengths.add(new CircuitStrength(CircuitJson.read(Files.readString(e.getKey())), e.getValue()));
        }
        return SteeringPlan.compile(strengths, m.config(), m.fingerprint());
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
