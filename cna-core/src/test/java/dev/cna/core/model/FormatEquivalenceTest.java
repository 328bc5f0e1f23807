package dev.cna.core.model;

import dev.cna.core.model.gguf.GgmlType;
import dev.cna.core.model.gguf.GgufWeights;
import dev.cna.core.model.hf.HfWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The same synthetic weights read from GGUF and from a Hugging Face directory come out the same. */
class FormatEquivalenceTest {
    @TempDir
    Path dir;

    static Stream<Arguments> specs() {
        SyntheticModels.Spec llama = SyntheticModels.Spec.llama();
        SyntheticModels.Spec qwen2 = SyntheticModels.Spec.qwen2();
        return Stream.of(
                Arguments.of("llama", llama),
                Arguments.of("llama, tied head, llama3 rope", llama.withTiedEmbeddings(true).withLlama3RopeScaling()),
                Arguments.of("llama, 3 shards", llama.withHfShards(3)),
                Arguments.of("mistral", SyntheticModels.Spec.mistral()),
                Arguments.of("qwen2", qwen2),
                Arguments.of("qwen2, untied head, 2 shards", qwen2.withTiedEmbeddings(false).withHfShards(2)),
                Arguments.of("llama, BF16 safetensors", llama.withHfDtype("BF16")),
                Arguments.of("qwen2, F16 safetensors, 2 shards", qwen2.withHfDtype("F16").withHfShards(2)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void everyCanonicalTensorIsTheSameInBothFormats(String label, SyntheticModels.Spec spec) {
        SyntheticModels.Model model = spec.write(dir);
        try (WeightSource gguf = ModelLoader.open(model.gguf()); WeightSource hf = ModelLoader.open(model.hfDir())) {
            assertInstanceOf(GgufWeights.class, gguf);
            assertInstanceOf(HfWeights.class, hf);
            assertEquals(spec.config(), hf.config());
            assertEquals(ggufView(spec.config()), gguf.config());

            for (HostTensor original : model.weights().values()) {
                String name = original.name();
                assertTrue(gguf.has(name) && hf.has(name), name + " present in both");
                HostTensor fromGguf = gguf.tensor(name);
                HostTensor fromHf = hf.tensor(name);
                assertEquals(name, fromHf.name());
                assertArrayEquals(original.shape(), fromGguf.shape(), name + " GGUF shape");
                assertArrayEquals(original.shape(), fromHf.shape(), name + " safetensors shape");
                // the GGUF holds f32 here, so it must return the originals bit for bit (q/k rows un-permuted)
                assertArrayEquals(original.data(), fromGguf.data(), name + " from GGUF");
                assertWithinStorageRounding(spec.hfDtype(), fromGguf.data(), fromHf.data(), name);
            }
            assertEquals(!spec.tiedEmbeddings(), gguf.has(TensorNames.OUTPUT));
            assertEquals(!spec.tiedEmbeddings(), hf.has(TensorNames.OUTPUT));
            assertFalse(hf.has(TensorNames.ROPE_FREQS), "Hugging Face scaling lives in config.json");
            assertEquals(spec.llama3RopeScaling(), gguf.has(TensorNames.ROPE_FREQS));
            if (spec.llama3RopeScaling()) {
                assertRopeFreqsMatchConfig(gguf.tensor(TensorNames.ROPE_FREQS), hf.config());
            }
        }
    }

    @Test
    void quantizedGgufTensorsStayWithinTheirRoundingOfTheOriginals() {
        SyntheticModels.Model model = SyntheticModels.Spec.llama()
                .withGgufType(TensorNames.attnQ(0), GgmlType.Q8_0)
                .withGgufType(TensorNames.attnK(1), GgmlType.Q8_0)
                .withGgufType(TensorNames.ffnDown(2), GgmlType.F16)
                .write(dir);
        try (WeightSource gguf = ModelLoader.open(model.gguf())) {
            for (String name : new String[] {TensorNames.attnQ(0), TensorNames.attnK(1)}) {
                float[] original = model.weight(name).data();
                float[] loaded = gguf.tensor(name).data();
                boolean anyDifferent = false;
                for (int b = 0; b < original.length / 32; b++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(original[b * 32 + j]));
                    }
                    // half a quantization step, plus the f16 rounding of the scale times the largest code
                    float bound = amax / 127 * (0.5f + 127f / 2048) + amax * 1e-6f;
                    for (int j = 0; j < 32; j++) {
                        int i = b * 32 + j;
                        if (Math.abs(original[i] - loaded[i]) > bound) {
                            fail(name + "[" + i + "]: " + loaded[i] + " is not within " + bound + " of " + original[i]
                                    + " (rows in the wrong order?)");
                        }
                        anyDifferent |= original[i] != loaded[i];
                    }
                }
                assertTrue(anyDifferent, name + " should really have been quantized");
            }
            assertWithinStorageRounding("F16", model.weight(TensorNames.ffnDown(2)).data(),
                    gguf.tensor(TensorNames.ffnDown(2)).data(), TensorNames.ffnDown(2));
        }
    }

    @Test
    void tokenizerSpecsAgreeOnTemplateAndEndOfSequence() {
        for (SyntheticModels.Spec spec : new SyntheticModels.Spec[] {SyntheticModels.Spec.llama(), SyntheticModels.Spec.qwen2()}) {
            SyntheticModels.Model model = spec.write(dir.resolve(spec.architecture()));
            try (WeightSource gguf = ModelLoader.open(model.gguf()); WeightSource hf = ModelLoader.open(model.hfDir())) {
                assertEquals(SyntheticModels.CHAT_TEMPLATE, hf.tokenizerSpec().chatTemplate());
                assertEquals(gguf.tokenizerSpec().chatTemplate(), hf.tokenizerSpec().chatTemplate());
                assertEquals("<|im_end|>", hf.tokenizerSpec().stopTokens().get(0));
                assertEquals(gguf.tokenizerSpec().stopTokens().get(0), hf.tokenizerSpec().stopTokens().get(0));
                assertFalse(hf.tokenizerSpec().addBos());
            }
        }
    }

    /** GGUF files name mistral "llama" (llama.cpp's converter does) and carry llama3 scaling as a tensor. */
    private static ModelConfig ggufView(ModelConfig c) {
        String arch = c.architecture().equals("mistral") ? "llama" : c.architecture();
        return new ModelConfig(arch, c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.layers(), c.heads(),
                c.kvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), null, c.contextLength(), c.attentionBias(),
                c.tiedEmbeddings());
    }

    /** F32 exactly; F16 and BF16 within half a unit in the last place of their mantissa (10 and 7 bits). */
    private static void assertWithinStorageRounding(String dtype, float[] exact, float[] stored, String name) {
        assertEquals(exact.length, stored.length, name + " length");
        if (dtype.equals("F32")) {
            assertArrayEquals(exact, stored, name + " from safetensors");
            return;
        }
        double relative = dtype.equals("F16") ? 0x1p-11 : 0x1p-8;
        double absolute = dtype.equals("F16") ? 0x1p-25 : 0; // f16 subnormals have a fixed step of 2^-24
        boolean anyDifferent = false;
        for (int i = 0; i < exact.length; i++) {
            double error = Math.abs((double) exact[i] - stored[i]);
            if (error > Math.abs(exact[i]) * relative + absolute) {
                fail(name + "[" + i + "]: " + stored[i] + " is not a " + dtype + " rounding of " + exact[i]);
            }
            anyDifferent |= exact[i] != stored[i];
        }
        assertTrue(anyDifferent, name + " should really be stored as " + dtype);
    }

    /** rope_freqs holds, per frequency, the divisor that turns the plain rope frequency into the llama3-scaled one. */
    private static void assertRopeFreqsMatchConfig(HostTensor ropeFreqs, ModelConfig config) {
        ModelConfig.RopeScaling s = config.ropeScaling();
        int half = config.headDim() / 2;
        assertArrayEquals(new int[] {half}, ropeFreqs.shape());
        boolean sawUnscaled = false;
        boolean sawFullyScaled = false;
        boolean sawBlend = false;
        for (int i = 0; i < half; i++) {
            double frequency = Math.pow(config.ropeTheta(), -2.0 * i / config.headDim());
            double wavelength = 2 * Math.PI / frequency;
            double scaled;
            if (wavelength < s.originalContextLength() / s.highFreqFactor()) {
                scaled = frequency;
                sawUnscaled = true;
            } else if (wavelength > s.originalContextLength() / s.lowFreqFactor()) {
                scaled = frequency / s.factor();
                sawFullyScaled = true;
            } else {
                double smooth = (s.originalContextLength() / wavelength - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * frequency / s.factor() + smooth * frequency;
                sawBlend = true;
            }
            double divisor = ropeFreqs.data()[i];
            assertEquals(scaled, frequency / divisor, scaled * 1e-6, "rope frequency " + i);
        }
        assertTrue(sawUnscaled && sawFullyScaled && sawBlend, "the synthetic spec should exercise all three bands");
    }
}
