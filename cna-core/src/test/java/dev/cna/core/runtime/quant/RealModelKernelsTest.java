package dev.cna.core.runtime.quant;

import dev.cna.core.model.ModelStore;
import dev.cna.core.model.gguf.GgmlType;
import dev.cna.core.model.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernels on the default model's own tensors (SmolLM2-135M-Instruct Q4_1: Q4_1 projections, the Q8_0 token
 * embedding that is also the output head, F32 norms), mapped from the file as the engine will use them, against
 * Dequantizer and an f32 dot, to the tolerance of {@link QuantizedMatrixTest}.
 */
class RealModelKernelsTest {
    private static GgufFile gguf;

    @BeforeAll
    static void open() {
        if (!Files.exists(ModelStore.defaultModel())) {
            fail("the default model is missing at " + ModelStore.defaultModel() + ": run ./cna model pull");
        }
        gguf = GgufFile.open(ModelStore.defaultModel());
    }

    @AfterAll
    static void close() {
        if (gguf != null) {
            gguf.close();
        }
    }

    @Test
    void oneTensorOfEveryTypeInTheFileAgreesWithDequantizer() {
        List<GgufFile.TensorInfo> picked = new ArrayList<>();
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        for (GgufFile.TensorInfo t : gguf.tensors().values()) {
            // the first 2-D tensor of each type; 1-D only for a type that has no 2-D tensor (F32: the norms)
            if (!seen.contains(t.type()) && t.dims().length == 2) {
                seen.add(t.type());
                picked.add(t);
            }
        }
        for (GgufFile.TensorInfo t : gguf.tensors().values()) {
            if (!seen.contains(t.type())) {
                seen.add(t.type());
                picked.add(t);
            }
        }
        assertTrue(seen.containsAll(EnumSet.of(GgmlType.Q4_1, GgmlType.Q8_0, GgmlType.F32)), "types in the file: " + seen);

        Random random = new Random(135);
        Workers pool = new Workers(2, "test");
        try {
            for (GgufFile.TensorInfo t : picked) {
                QuantizedMatrix m = QuantizedMatrix.of(gguf, t);
                int rows = m.rows(), cols = m.cols();
                assertEquals(t.bytes(), m.bytes(), t.name());
                assertTrue(m.data().isDirect(), "mapped, not loaded");

                ByteBuffer raw = gguf.rawData(t);
                float[] all = new float[rows * cols];
                dev.cna.core.model.gguf.Dequantizer.dequantize(t.type(), raw.order(ByteOrder.LITTLE_ENDIAN), all);
                float[][] xs = {QuantizedMatrixTest.gaussian(cols, random), QuantizedMatrixTest.gaussian(cols, random),
                        QuantizedMatrixTest.gaussian(cols, random)};
                float[][] reference = new float[xs.length][rows];
                double[][] scale = new double[xs.length][rows];
                for (int b = 0; b < xs.length; b++) {
                    for (int r = 0; r < rows; r++) {
                        float sum = 0;
                        double abs = 0;
                        for (int k = 0; k < cols; k++) {
                            float p = all[r * cols + k] * xs[b][k];
                            sum += p;
                            abs += Math.abs(p);
                        }
                        reference[b][r] = sum;
                        scale[b][r] = abs;
                    }
                }
                String what = t.name() + " " + t.type() + " " + rows + "x" + cols;
                float[] out = new float[rows];
                m.matVec(xs[0], out);
                double worst = QuantizedMatrixTest.assertClose(what + " matVec", reference[0], scale[0], out);
                float[] parallel = new float[rows];
                m.matVecParallel(xs[0], parallel, pool);
                assertArrayEquals(out, parallel, what + " parallel");
                float[][] outs = new float[xs.length][rows];
                m.matMulParallel(xs, outs, pool);
                for (int b = 0; b < xs.length; b++) {
                    worst = Math.max(worst, QuantizedMatrixTest.assertClose(what + " matMul row " + b, reference[b], scale[b], outs[b]));
                }
                float[] row = new float[cols];
                m.row(rows - 1, row);
                for (int k = 0; k < cols; k++) {
                    assertEquals(all[(rows - 1) * cols + k], row[k], what + " last row");
                }
                System.out.printf("%s: largest |kernel - reference| / sum|w x| = %.2e%n", what, worst);
            }
        } finally {
            pool.close();
        }
    }
}
