package dev.cna.core.model;

import dev.cna.core.runtime.BackendOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Broken model files fail with a message naming the file, the tensor at fault (if any) and the reason. */
class BadModelFileTest {
    @TempDir
    Path dir;

    // ---- GGUF ----

    @Test
    void truncatedGgufNamesTheFirstTensorThatNoLongerFits() throws IOException {
        Path gguf = SyntheticModels.Spec.llama().write(dir).gguf();
        truncate(gguf, Files.size(gguf) - 1000); // cuts into output.weight, the last tensor
        assertFails(() -> ModelLoader.open(gguf), gguf, "tensor " + TensorNames.OUTPUT, "truncated");
    }

    @Test
    void ggufTruncatedInsideTheHeader() throws IOException {
        Path gguf = SyntheticModels.Spec.llama().write(dir).gguf();
        truncate(gguf, 100);
        assertFails(() -> ModelLoader.open(gguf), gguf, null, "truncated inside the header");
    }

    @Test
    void ggufWithAnUnknownTensorTypeId() throws IOException {
        Path gguf = SyntheticModels.Spec.llama().write(dir).gguf();
        setTensorTypeId(gguf, TensorNames.attnQ(0), 99);
        assertFails(() -> ModelLoader.open(gguf), gguf, "tensor " + TensorNames.attnQ(0), "unknown tensor type id 99");
    }

    @Test
    void ggufWithAKnownTypeWeCannotDequantize() throws IOException {
        Path gguf = SyntheticModels.Spec.llama().write(dir).gguf();
        setTensorTypeId(gguf, TensorNames.attnQ(0), 9); // Q8_1: a real ggml type (activations only), smaller than the f32 data
        try (WeightSource source = ModelLoader.open(gguf)) {
            assertFails(() -> source.tensor(TensorNames.attnQ(0)), gguf, "tensor " + TensorNames.attnQ(0), "Q8_1 is not supported");
        }
    }

    @Test
    void everyBackendNamesTheFileTheTensorAndTheReasonForATypeItCannotRun() throws IOException {
        Path gguf = SyntheticModels.Spec.llama().write(dir).gguf();
        setTensorTypeId(gguf, TensorNames.ffnDown(1), 9); // Q8_1
        try (WeightSource source = ModelLoader.open(gguf)) {
            assertFails(() -> BackendOptions.cpu().load(source), gguf, "tensor " + TensorNames.ffnDown(1),
                    "tensor type Q8_1 has no kernel");
            assertFails(() -> BackendOptions.torch().load(source), gguf, "tensor " + TensorNames.ffnDown(1),
                    "Q8_1 is not supported");
        }
    }

    @Test
    void ggufWithAnUnsupportedArchitecture() throws IOException {
        Path gguf = SyntheticModels.Spec.llama().write(dir).gguf();
        replaceAfter(gguf, "general.architecture", "llama", "bloom"); // a llama.cpp architecture we do not run
        assertFails(() -> ModelLoader.open(gguf), gguf, null, "unsupported architecture 'bloom'");
    }

    // ---- Hugging Face directories ----

    @Test
    void truncatedSafetensorsNamesTheTensorWhoseDataIsCut() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Path file = hf.resolve("model.safetensors");
        truncate(file, Files.size(file) - 1000); // lm_head.weight is written last
        assertFails(() -> ModelLoader.open(hf), file, "tensor lm_head.weight", "truncated");
    }

    @Test
    void safetensorsShorterThanItsHeader() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Path file = hf.resolve("model.safetensors");
        truncate(file, 200);
        assertFails(() -> ModelLoader.open(hf), file, null, "truncated: the header needs");
    }

    @Test
    void safetensorsWithABrokenHeader() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Path file = hf.resolve("model.safetensors");
        replaceAfter(file, "model.embed_tokens.weight", "\"dtype\":", "\"dtype\"!");
        assertFails(() -> ModelLoader.open(hf), file, null, "header is not valid JSON");
    }

    @Test
    void safetensorsWithAnUnsupportedDtype() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Path file = hf.resolve("model.safetensors");
        replaceAfter(file, "\"model.norm.weight\"", "F32", "I32"); // same size, so only the dtype is wrong
        assertFails(() -> ModelLoader.open(hf), file, "tensor model.norm.weight", "dtype I32 is not supported");
    }

    @Test
    void safetensorsMissingATensorTheConfigCallsFor() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Path file = hf.resolve("model.safetensors");
        replaceAfter(file, "model.layers.1.mlp.up_proj.weight", "weight", "wei_ht");
        assertFails(() -> ModelLoader.open(hf), file, "tensor model.layers.1.mlp.up_proj.weight", "not found");
    }

    @Test
    void tensorShapeThatContradictsConfigJson() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        replaceAfter(hf.resolve("config.json"), "intermediate_size", "96", "80");
        assertFails(() -> ModelLoader.open(hf), hf.resolve("model.safetensors"),
                "tensor model.layers.0.mlp.gate_proj.weight", "shape [96, 64] does not match config.json, which implies [80, 64]");
    }

    @Test
    void missingShardNamedInTheIndex() throws IOException {
        Path hf = SyntheticModels.Spec.qwen2().withHfShards(2).write(dir).hfDir();
        Path shard = hf.resolve("model-00002-of-00002.safetensors");
        Files.delete(shard);
        assertFails(() -> ModelLoader.open(hf), shard, null, "does not exist");
    }

    @Test
    void unknownHuggingFaceArchitecture() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        replaceAfter(hf.resolve("config.json"), "architectures", "LlamaForCausalLM", "GPTJForCausalLMx");
        assertFails(() -> ModelLoader.open(hf), hf.resolve("config.json"), null, "unsupported architecture 'GPTJForCausalLMx'");
    }

    @Test
    void unsupportedRopeScalingType() throws IOException {
        Path hf = SyntheticModels.Spec.llama().withLlama3RopeScaling().write(dir).hfDir();
        replaceAfter(hf.resolve("config.json"), "rope_type", "llama3", "yarn__");
        assertFails(() -> ModelLoader.open(hf), hf.resolve("config.json"), null, "rope scaling type 'yarn__' is not supported");
    }

    @Test
    void directoryWithoutWeights() throws IOException {
        Path hf = SyntheticModels.Spec.llama().write(dir).hfDir();
        Files.delete(hf.resolve("model.safetensors"));
        assertFails(() -> ModelLoader.open(hf), hf, null, "has neither model.safetensors nor model.safetensors.index.json");
    }

    @Test
    void pathsThatAreNoModelAtAll() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a model");
        assertFails(() -> ModelLoader.open(text), text, null, "not a model");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertFails(() -> ModelLoader.open(empty), empty, null, "no config.json");
        Path missing = dir.resolve("missing.gguf");
        assertFails(() -> ModelLoader.open(missing), missing, null, "no such file");
    }

    // ---- helpers ----

    private static void assertFails(Executable action, Path file, String tensorPart, String reason) {
        ModelFormatException e = assertThrows(ModelFormatException.class, action);
        String message = e.getMessage();
        if (tensorPart != null) {
            assertTrue(message.startsWith(file + ": " + tensorPart + ": "), "names " + file + " and " + tensorPart + ": " + message);
        } else {
            assertTrue(message.startsWith(file + ": ") && !message.startsWith(file + ": tensor "),
                    "names " + file + " and no tensor: " + message);
        }
        assertTrue(message.contains(reason), "gives the reason '" + reason + "': " + message);
    }

    private static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    /** Replaces the first {@code from} after {@code anchor} with {@code to} of the same length, in place. */
    private static void replaceAfter(Path file, String anchor, String from, String to) throws IOException {
        assertTrue(from.length() == to.length(), "same-length patch keeps every offset valid");
        byte[] bytes = Files.readAllBytes(file);
        int at = indexOf(bytes, from.getBytes(StandardCharsets.UTF_8), indexOf(bytes, anchor.getBytes(StandardCharsets.UTF_8), 0));
        byte[] replacement = to.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(replacement, 0, bytes, at, replacement.length);
        Files.write(file, bytes);
    }

    /** Overwrites the ggml type id in a GGUF tensor-table entry: name, n_dims (u32), dims (u64 each), type (u32). */
    private static void setTensorTypeId(Path gguf, String tensor, int typeId) throws IOException {
        byte[] bytes = Files.readAllBytes(gguf);
        int nameEnd = indexOf(bytes, tensor.getBytes(StandardCharsets.UTF_8), 0) + tensor.length();
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int dims = buf.getInt(nameEnd);
        buf.putInt(nameEnd + 4 + 8 * dims, typeId);
        Files.write(gguf, bytes);
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        fail("pattern " + new String(needle, StandardCharsets.UTF_8) + " not found");
        return -1;
    }
}
