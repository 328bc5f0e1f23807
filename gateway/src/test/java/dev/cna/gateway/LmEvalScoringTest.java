package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static dev.cna.gateway.Platform.JSON;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * lm-evaluation-harness's {@code local-completions} loglikelihood request, sent exactly as its
 * {@code LocalCompletionsAPI._create_payload(generate=False)} builds it (lm_eval/models/openai_completions.py: model,
 * prompt = a batch of token-id lists, temperature 0, max_tokens 1, logprobs 1, seed 1234, echo true), and the older
 * form with max_tokens 0, read as its {@code parse_logprobs} reads the answer (choices sorted by index,
 * {@code sum(token_logprobs[ctxlen:-1])}, greedy when every token's logprob is its position's best). The
 * log-likelihoods must equal the engine's own teacher-forced ones ({@code cna score}, each sequence alone through
 * {@code Backend.logitsAtEveryPosition} in another process) within 1e-3, unsteered and steered (the circuit in the base URL's query, the one place lm-eval lets a user add it).
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class LmEvalScoringTest {
    private static final List<String[]> PAIRS = List.of(
            new String[] {"The capital of France is", " Paris"},
            new String[] {"Question: What color is the sky on a clear day?\nAnswer:", " blue"},
            new String[] {"One, two, three,", " four, five"});

    @Test
    void lmEvalLoglikelihoodRequestsScoreAsTheEngineDoesSteeredAndNot() throws Exception {
        List<List<Integer>> sequences = new ArrayList<>();
        List<Integer> contextLengths = new ArrayList<>();
        for (String[] pair : PAIRS) {
            List<Integer> context = ids(pair[0]);
            List<Integer> whole = ids(pair[0] + pair[1]);
            assertEquals(context, whole.subList(0, context.size()), "the continuation starts a new token: " + pair[1]);
            sequences.add(whole);
            contextLengths.add(context.size());
        }
        String name = "lmeval-" + System.nanoTime();
        String circuit = Platform.circuit(name, 1, 5, 25, 143);
        Platform.publish(name, 1, circuit);
        Path circuitFile = Files.createTempFile("lmeval-circuit", ".json");
        Files.writeString(circuitFile, circuit);

        double[][] unsteered = reference(sequences, contextLengths, null);
        double[][] steered = reference(sequences, contextLengths, circuitFile + "=0");
        boolean moved = false;
        for (int maxTokens : new int[] {1, 0}) {
            ObjectNode body = JSON.createObjectNode().put("model", "cna");
            ArrayNode prompt = body.putArray("prompt");
            for (List<Integer> s : sequences) {
                ArrayNode one = prompt.addArray();
                s.forEach(one::add);
            }
            body.put("temperature", 0).put("max_tokens", maxTokens).put("logprobs", 1).put("seed", 1234).put("echo", true);
            assertLogLikelihoods("/v1/completions", body, contextLengths, maxTokens, unsteered, "unsteered, max_tokens " + maxTokens);
            // steered as lm-eval can be: the same body, the circuit in the base URL's query
            assertLogLikelihoods("/v1/completions?steering=" + name + ":0", body, contextLengths, maxTokens, steered,
                    "steered, max_tokens " + maxTokens);
        }
        for (int i = 0; i < PAIRS.size(); i++) {
            moved |= Math.abs(unsteered[i][0] - steered[i][0]) > 1e-2;
        }
        assertTrue(moved, "ablating the circuit changes some log-likelihood");
    }

    /** The answer read as lm-eval's parse_logprobs does; compared with {log-likelihood, is-greedy} per pair. */
    private static void assertLogLikelihoods(String path, ObjectNode body, List<Integer> contextLengths, int maxTokens, double[][] expected,
                                             String what) throws IOException {
        var r = given().header("Authorization", "Bearer " + CHAT_KEY).contentType("application/json").body(body.toString())
                .post(path);
        assertEquals(200, r.statusCode(), r.asString());
        JsonNode answer = JSON.readTree(r.asString());
        assertEquals("text_completion", answer.get("object").asText());
        List<JsonNode> choices = StreamSupport.stream(answer.get("choices").spliterator(), false)
                .sorted(Comparator.comparingInt(c -> c.get("index").asInt())).toList();
        assertEquals(contextLengths.size(), choices.size());
        for (int i = 0; i < choices.size(); i++) {
            JsonNode logprobs = choices.get(i).get("logprobs");
            JsonNode tokenLogprobs = logprobs.get("token_logprobs");
            int end = tokenLogprobs.size() - maxTokens; // [ctxlen:-1] with one generated token, [ctxlen:] with none
            assertTrue(tokenLogprobs.get(0).isNull(), "the first prompt token has no logprob");
            double sum = 0;
            boolean greedy = true;
            for (int t = contextLengths.get(i); t < end; t++) {
                double lp = tokenLogprobs.get(t).asDouble();
                sum += lp;
                double best = Double.NEGATIVE_INFINITY;
                for (JsonNode v : logprobs.get("top_logprobs").get(t)) {
                    best = Math.max(best, v.asDouble());
                }
                greedy &= lp == best;
            }
            assertEquals(expected[i][0], sum, 1e-3, what + ", pair " + i);
            assertEquals(expected[i][1] == 1, greedy, what + ", pair " + i + " is-greedy");
            assertEquals(logprobs.get("tokens").size(), logprobs.get("text_offset").size());
        }
    }

    /** The token ids of a text as steering-service tokenizes a prompt (its own /score). */
    private static List<Integer> ids(String text) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("prompts").add(text);
        var r = given().contentType("application/json").body(body.toString()).post(Platform.steeringUrl() + "/score");
        assertEquals(200, r.statusCode(), r.asString());
        List<Integer> ids = new ArrayList<>();
        JSON.readTree(r.asString()).at("/results/0/tokens").forEach(t -> ids.add(t.get("token").asInt()));
        return ids;
    }

    /**
     * {log-likelihood of the continuation, 1 if every continuation token is the argmax} per sequence from {@code cna
     * score}, run on the classpath of the packaged steering-service (cna-core and its dependencies).
     */
    private static double[][] reference(List<List<Integer>> sequences, List<Integer> contextLengths, String circuit)
            throws IOException, InterruptedException {
        String classpath = Path.of("..", "steering-service", "target", "quarkus-app", "lib", "main").toAbsolutePath() + File.separator + "*";
        List<String> command = new ArrayList<>(List.of("java", "-Xmx1g", "--add-modules", "jdk.incubator.vector",
                "-Dai.djl.offline=true", "-cp", classpath, "dev.cna.core.cli.Main", "score"));
        for (List<Integer> s : sequences) {
            command.add("--tokens");
            command.add(String.join(",", s.stream().map(String::valueOf).toList()));
        }
        if (circuit != null) {
            command.add("--circuit");
            command.add(circuit);
        }
        Path out = Files.createTempFile("cna-score", ".jsonl");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "cna score did not finish");
        assertEquals(0, p.exitValue(), "cna score failed");
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("{")).toList();
        assertEquals(sequences.size(), lines.size(), String.join("\n", lines));
        double[][] result = new double[sequences.size()][];
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = JSON.readTree(lines.get(i));
            double sum = 0;
            boolean greedy = true;
            for (int t = contextLengths.get(i); t < line.get("logprobs").size(); t++) {
                sum += line.get("logprobs").get(t).asDouble();
                greedy &= line.get("argmax").get(t).asInt() == line.get("tokens").get(t).asInt();
            }
            result[i] = new double[] {sum, greedy ? 1 : 0};
        }
        return result;
    }
}
