package dev.cna.core.cli;

import picocli.CommandLine.Option;

/**
 * The sampling options every generating command takes. Each command has its own defaults (generate samples like
 * llama.cpp's CLI; eval decodes greedily unless told otherwise), so an option left out stays null here.
 */
final class SamplingOptions {
    /** A command's defaults for the options left out. */
    record Defaults(float temperature, int topK, float topP, long seed) {}

    @Option(names = "--temperature", description = "Sampling temperature, 0 to 2; 0 = greedy (generate: 0.7, eval: 0).")
    Float temperature;

    @Option(names = "--top-k", description = "Sample from the k most likely tokens; 0 = all (generate: 40, eval: 0).")
    Integer topK;

    @Option(names = "--top-p", description = "Nucleus sampling mass, (0, 1] (generate: 0.95, eval: 1).")
    Float topP;

    @Option(names = "--seed", description = "Sampling seed; eval's reply j of prompt i uses SEED + i * samples + j (generate: 42, eval: 0).")
    Long seed;

    float temperature(Defaults d) {
        return temperature != null ? temperature : d.temperature();
    }

    int topK(Defaults d) {
        return topK != null ? topK : d.topK();
    }

    float topP(Defaults d) {
        return topP != null ? topP : d.topP();
    }

    long seed(Defaults d) {
        return seed != null ? seed : d.seed();
    }
}
