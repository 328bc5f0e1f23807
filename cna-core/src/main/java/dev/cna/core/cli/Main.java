package dev.cna.core.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cna} command line. */
@Command(name = "cna", mixinStandardHelpOptions = true, version = "cna 0.1.0",
        description = "CNA Steering Platform: find the neurons that carry a behavior, and steer generation with them.",
        subcommands = {GenerateCommand.class, AttributeCommand.class, EvalCommand.class, ModelCommand.class, ScoreCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // Bad input prints the reason, not a stack trace.
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("cna: " + e.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
