package dev.cna.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.generate.Logprobs;
import dev.cna.core.generate.Sampler;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.steer.SteeringPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code cna score --tokens 1,2,3 [--tokens 4,5 ...]}: teacher-forced log-probabilities of token sequences, each run
 * alone through the model ({@code Backend.logitsAtEveryPosition}), optionally steered. Prints one JSON line per
 * sequence, {@code {"tokens": [ids], "logprobs": [null, natural logs...], "argmax": [null, the most likely id at each position...]}}: what a served model's echoed logprobs
 * should equal.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Teacher-forced log-probability of every token of a sequence (JSON on stdout).")
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--tokens", description = "Token ids, comma-separated, taken as they are (repeatable: one sequence each).")
    List<String> sequences;

    @Option(names = "--text", description = "Raw text instead of ids, tokenized as a prompt (BOS added when the model wants one).")
    String text;

    @Option(names = "--circuit", paramLabel = "FILE=MULTIPLIER",
            description = "Steer with a circuit at every position (repeatable; factors compose).")
    Map<Path, Float> circuits = new LinkedHashMap<>();

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws IOException {
        if ((sequences == null) == (text == null)) {
            System.err.println("give exactly one of --tokens and --text");
            return 2;
        }
        try (LoadedModel m = modelOptions.load();
             NeuronScaling steering = SteeringPlan.hook(List.of(GenerateCommand.plan(circuits, m)), m.config())) {
            List<int[]> all = text != null ? List.of(m.tokenizer().encodePrompt(text))
                    : sequences.stream().map(s -> Arrays.stream(s.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray()).toList();
            ObjectMapper json = new ObjectMapper();
            for (int[] ids : all) {
                float[][] logits = m.backend().logitsAtEveryPosition(ids, steering);
                ObjectNode out = json.createObjectNode();
                ArrayNode idList = out.putArray("tokens");
                Arrays.stream(ids).forEach(idList::add);
                ArrayNode logprobs = out.putArray("logprobs");
                ArrayNode argmax = out.putArray("argmax");
                logprobs.addNull();
                argmax.addNull();
                for (int i = 1; i < ids.length; i++) {
                    logprobs.add(Logprobs.of(logits[i - 1], ids[i], 0).logprob());
                    argmax.add(Sampler.argMax(logits[i - 1]));
                }
                System.out.println(json.writeValueAsString(out));
            }
        }
        return 0;
    }
}
