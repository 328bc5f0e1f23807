package dev.cna.core.cli;

import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.CircuitSelector;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.ContrastiveAttribution;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.circuit.CircuitPlot;
import dev.cna.core.circuit.Neuron;
import dev.cna.core.eval.PromptSets;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.LoadedModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code cna attribute}: a circuit from positive and negative prompt files (contrastive, docs/method.md section 2), or
 * from one prompt and a target token (RelP, section 4). Writes the circuit JSON and a PNG picture of it.
 */
@Command(name = "attribute", mixinStandardHelpOptions = true,
        description = "Find the circuit of a behavior: contrastive (--positive/--negative) or RelP (--prompt/--target).")
final class AttributeCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    static final class Mode {
        @ArgGroup(exclusive = false)
        Contrastive contrastive;
        @ArgGroup(exclusive = false)
        Relp relp;
    }

    static final class Contrastive {
        @Option(names = "--positive", required = true, description = "Prompts showing the behavior (one per line, or JSONL).")
        Path positive;
        @Option(names = "--negative", required = true, description = "Prompts not showing it.")
        Path negative;
    }

    static final class Relp {
        @Option(names = "--prompt", required = true, description = "The prompt (RelP mode).")
        String prompt;
        @Option(names = "--target", required = true, description = "The target token text, e.g. \" Paris\".")
        String target;
        @Option(names = "--counterfactual", description = "A token whose logit is subtracted from the target's.")
        String counterfactual;
    }

    @Option(names = "--top-k", defaultValue = "200", description = "Neurons in the circuit (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--exclude-layers", split = ",", defaultValue = "0,1", description = "Layers not ranked (default: ${DEFAULT-VALUE}).")
    List<Integer> excludeLayers;

    @Option(names = "--no-blacklist", description = "Keep universal neurons (docs/method.md section 3) in the ranking.")
    boolean noBlacklist;

    @Option(names = "--raw", description = "Prompts as raw text, without the chat template (base models).")
    boolean raw;

    @Option(names = "--name", defaultValue = "circuit", description = "Circuit name (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--out", description = "Circuit JSON file (default: NAME.circuit.json); a PNG picture goes beside it.")
    Path out;

    @Option(names = "--batch-size", defaultValue = "16", description = "Prompts per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Mixin
    ModelOptions modelOptions;

    @Override
    public Integer call() throws Exception {
        SelectionOptions options = new SelectionOptions(topK, new HashSet<>(excludeLayers), !noBlacklist);
        // RelP differentiates through the forward pass: only the torch backend has autograd
        try (LoadedModel m = mode.relp != null ? modelOptions.load(BackendOptions.Kind.TORCH) : modelOptions.load()) {
            try {
                options.checkFor(m.config().layers(), m.config().intermediateSize());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--top-k/--exclude-layers: " + e.getMessage(), e);
            }
            ActivationCollector collector = new ActivationCollector(m.backend(), m.tokenizer(), batchSize);
            ContrastiveAttribution attribution = new ContrastiveAttribution(collector, m.config(), m.id(), m.fingerprint());
            Circuit circuit = mode.contrastive != null ? contrastive(attribution, options) : relp(m, collector, attribution, options);
            Path file = out != null ? out : Path.of(name + ".circuit.json");
            Files.writeString(file, CircuitJson.write(circuit));
            Path png = file.resolveSibling(file.getFileName().toString().replaceAll("\\.json$", "") + ".png");
            CircuitPlot.write(circuit, png);
            System.err.printf("circuit %s: %d neurons (%.2f%% of %d), %d blacklisted neurons skipped; wrote %s and %s%n",
                    circuit.name(), circuit.neurons().size(), 100.0 * circuit.neurons().size() / m.config().neurons(),
                    m.config().neurons(), circuit.stats().blacklistedCount(), file, png);
            circuit.neurons().stream().limit(10).forEach(n ->
                    System.err.printf("  layer %2d neuron %4d  delta %+.4f%n", n.layer(), n.index(), n.delta()));
        }
        return 0;
    }

    private Circuit contrastive(ContrastiveAttribution attribution, SelectionOptions options) {
        List<String> positive = PromptSets.read(mode.contrastive.positive);
        List<String> negative = PromptSets.read(mode.contrastive.negative);
        int total = positive.size() + negative.size();
        ContrastiveAccumulator sums = attribution.newAccumulator(options);
        long start = System.nanoTime();
        attribution.accumulate(sums, positive, negative, !raw, done ->
                System.err.printf("\rattribution: %d/%d prompts", done, total));
        System.err.printf("\rattribution: %d prompts in %.1f s%n", total, (System.nanoTime() - start) / 1e9);
        return attribution.circuit(name, 1, sums, options, null);
    }

    private Circuit relp(LoadedModel m, ActivationCollector collector, ContrastiveAttribution attribution, SelectionOptions options) {
        int[] tokens = collector.promptTokens(mode.relp.prompt, !raw);
        int target = singleToken(m, mode.relp.target);
        int counterfactual = mode.relp.counterfactual == null ? -1 : singleToken(m, mode.relp.counterfactual);
        float[][] relevance = m.backend().relevance(tokens, target, counterfactual);
        double[][] scores = new double[relevance.length][];
        for (int l = 0; l < relevance.length; l++) {
            scores[l] = new double[relevance[l].length];
            for (int i = 0; i < relevance[l].length; i++) {
                scores[l][i] = relevance[l][i];
            }
        }
        Set<Neuron> blacklist = options.useBlacklist() ? attribution.blacklist() : Set.of();
        CircuitSelector.Selection selection = CircuitSelector.select(scores, options, blacklist);
        Circuit.Stats stats = new Circuit.Stats(1, counterfactual < 0 ? 0 : 1, selection.topK(),
                List.copyOf(selection.excludedLayers()), selection.blacklistedCount());
        List<CircuitNeuron> neurons = selection.neurons();
        return new Circuit(Circuit.SCHEMA, name, 1, attribution.model(), Circuit.Method.RELP, neurons, stats,
                Instant.now().toString(), null);
    }

    private static int singleToken(LoadedModel m, String text) {
        int[] ids = m.tokenizer().encode(text);
        if (ids.length != 1) {
            throw new IllegalArgumentException("'" + text + "' is " + ids.length + " tokens; the target must be one token");
        }
        return ids[0];
    }
}
