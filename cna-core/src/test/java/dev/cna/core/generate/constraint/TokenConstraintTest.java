package dev.cna.core.generate.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.cna.core.generate.FinishReason;
import dev.cna.core.generate.Generation;
import dev.cna.core.generate.Generator;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Constrained sampling on a synthetic model whose weights are random: left alone it writes byte noise, so every valid
 * document it produces is the constraint's doing. The replies are checked by an independent validator (networknt).
 */
class TokenConstraintTest {
    @TempDir
    static Path dir;
    private static WeightSource source;
    private static Backend model;
    private static Tokenizer tokenizer;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String SCHEMA = """
            {"type":"object","properties":{
              "ok":{"type":"boolean"},"n":{"type":"integer"},"color":{"enum":["red","green"]},
              "items":{"type":"array","items":{"type":"number"},"maxItems":3}},
             "required":["ok","n","color","items"],"additionalProperties":false}""";

    @BeforeAll
    static void load() {
        source = ModelLoader.open(SyntheticModels.Spec.llama().write(dir).gguf());
        model = TorchBackend.load(source, WeightStorage.F32);
        tokenizer = Tokenizer.create(source.tokenizerSpec());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
        source.close();
    }

    @Test
    void randomModelWritesValidDocuments() throws Exception {
        JsonNode schemaJson = JSON.readTree(SCHEMA);
        TokenConstraint constraint = TokenConstraint.json(JsonSchema.compile(schemaJson), tokenizer);
        var validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaJson);
        List<int[]> prompts = new ArrayList<>();
        List<SamplingParams> params = new ArrayList<>();
        for (int seed = 0; seed < 8; seed++) {
            prompts.add(tokenizer.encode("the cat " + seed));
            // greedy once, then hot sampling: the unconstrained draw is mostly invalid, so the mask does the work
            params.add(new SamplingParams(seed == 0 ? 0 : 1.5f, 0, 1, seed, 1000, List.of()).withConstraint(constraint));
        }
        List<Generation> replies = new Generator(model, tokenizer).generate(prompts, params, null, null);
        for (Generation g : replies) {
            assertEquals(FinishReason.STOP, g.finishReason(), g.text());
            JsonNode parsed = JSON.readTree(g.text());
            assertEquals(Set.of(), validator.validate(parsed), g.text());
        }
        Generation free = new Generator(model, tokenizer).generate(List.of(prompts.get(1)),
                List.of(new SamplingParams(1.5f, 0, 1, 1, 60, List.of())), null, null).get(0);
        assertFalse(free.text().startsWith("{\""), "the unconstrained model does not write JSON: " + free.text());
    }

    @Test
    void stopOnlyWhenComplete() throws Exception {
        TokenConstraint constraint = TokenConstraint.json(JsonSchema.anyObject(), tokenizer);
        TokenConstraint.Row row = constraint.start();
        int eos = tokenizer.eosId();
        assertFalse(row.allows(eos));
        boolean[] first = row.allowed();
        int allowed = 0;
        for (int id = 0; id < first.length; id++) {
            if (first[id]) {
                allowed++;
                byte[] b = tokenizer.tokenBytes().bytes(id);
                assertTrue(b[0] == '{' || b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r', "token " + id);
            }
        }
        assertTrue(allowed >= 1);
        for (int id : tokenizer.encode("{\"a\": 1}")) {
            assertTrue(row.allows(id));
            row.accept(id);
        }
        assertTrue(row.complete());
        boolean[] after = row.allowed();
        for (int id = 0; id < after.length; id++) {
            assertEquals(id == eos || contains(tokenizer.stopIds(), id), after[id], "token " + id);
        }
    }

    private static boolean contains(int[] ids, int id) {
        for (int i : ids) {
            if (i == id) {
                return true;
            }
        }
        return false;
    }
}
