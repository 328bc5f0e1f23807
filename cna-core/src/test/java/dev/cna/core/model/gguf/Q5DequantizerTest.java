package dev.cna.core.model.gguf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Q5_0 and Q5_1, checked bit for bit against gguf-py 0.19.0 (an implementation independent of ours, following
 * ggml-quants.c). The fixtures are inline (block bytes and expected f32 values, base64 little-endian): two blocks
 * each from {@code gguf.quants.quantize} of seeded random normal data, then two blocks of random bytes whose f16
 * scale fields were set to finite values, so every bit of qh and qs matters. Made by:
 * <pre>
 * rng = np.random.default_rng(20261130)
 * for qt, scale_offs in ((T.Q5_0, [0]), (T.Q5_1, [0, 2])):
 *     bs, ts = gguf.GGML_QUANT_SIZES[qt]
 *     q = quantize((rng.normal(0, 1, 64) * 0.7).astype(np.float32), qt).view(np.uint8).ravel()
 *     r = rng.integers(0, 256, size=2 * ts, dtype=np.uint8)
 *     for b in range(2):
 *         for o in scale_offs:
 *             r[b*ts+o:b*ts+o+2] = np.frombuffer(np.float16(rng.uniform(-0.5, 0.5)).tobytes(), dtype=np.uint8)
 *     raw = np.concatenate([q, r]); vals = dequantize(raw, qt).astype('&lt;f4').ravel()
 * </pre>
 */
class Q5DequantizerTest {
    private static final String Q5_0_BLOCKS =
            "ma5/bYsfomfcIPQCgOtEXBNWsrHViQkwyuPOY9ABTWGO5igEYBTO2rtCCZC+Ma40GHZLDbeJjEw3Ggjf7xVBLPPOaK2ARsmaRESD"
            + "phZ6cQEAQf8uelQO7w==";
    private static final String Q5_0_VALUES =
            "ACBTvgC8OL8AWJ6/AAAAgAAg074AIFO+AAAAgAD0Az8AINO+ACDTPgBYnr4AWB6/ALy4PwAg070A9AO/ALw4PwD0g78AWB6/AFie"
            + "PgAgU74AINM9ACDTPwAgUz8AvLi/ACDTvgD0A78AINO9APQDvwAmkb8A9AM/AFiePgAgUz8AIAHAACABPgCwwb4AIAE+ACCBvgBo"
            + "ob8AIIE/ACABPwAAAAAAIAE/ACCBvgCwQb8AaCG/ACCBPgBEkT8AAAAAALDBvgAAAAAAIAE/ALBBPwAggb8AIIG+ACCBPgAAAAAA"
            + "sEE/ACABPgAgAb8AsMG+AGghvwAgAT8AAAAAAPhhvwCwZb8ATBVAAMigPwC4zj8AwDe/ANAJQAC4zr8AsOU/AMC3vwDAN74ARCxA"
            + "AKj8vwDANz4A0AlAAEwVwADAt74A0AnAAMA3wACwZb8AwLc/AMC3PwDQCcAATBXAAEQswADAN8AATBVAAMggQABELMAAwDc/AMC3"
            + "PgBELEAAwDe/AMCBPwDAgT8AkIw/AEBYPwBAWD8AwAE/ADCiPwAArb0AAK0/AACtvQAwor8AAC0+AMABPwDAgT8AYJe/AACtPQAA"
            + "rb4AwIE/AAAtPwBAWL8AMKI/AKBCPwBgF78AAACAAACtPwAArb4AAK09AAAtvgBgF78A4G0/AACtPwBgl78=";
    private static final String Q5_1_BLOCKS =
            "yS+fv3eWgyYf0eLtBNLBWewCt/52CL7j5iy8u5h+bArDuxJSAvciIsdMkS60wLH9xC4yMq4nSjJg7KYp5EchrwE3bF44RYapPC7f"
            + "rdyv++8yYYZhmqJ8E4vBhDgAGIVD";
    private static final String Q5_1_VALUES =
            "AM7uPwCQJj4AkJE+ANilvgAQBz8AkJE+AJAmPgB8T78AIOS+AJCRPgB8ZD8AIE++AFhFPwCgbr8AIE++ANjPPgCQJj4Aqs8/ACBP"
            + "vgAgT74A4PO/ANilvgAg5L4ANCY/ACBPvgAAKD0AhrA/ACClvQDihr8AACg9ADQRvwAgT74AuDy/AMD/vQBQUL8AYNI+AGDSPgCw"
            + "3L4AUFC/AGDSPgCw3L4AkJY/ADCrPgAoqj8AYBA/AACEPgAwqz4AAOc8AABGvQDA/70AMKs+APgjPwCAd78A9LM/AGDSPgBQUL8A"
            + "AEa9AGAQPwBQjr4AYNI+AMD/vQAARr0AwP+9AKA5PgBARj4A1ElAADwhQACINUAA0B0/AAAoQABAmT4AIF5AAND+PwAAKEAA1ElA"
            + "ADjWPwAIhT8AeBpAAPBTPwCQkj8A8FM/AFxXQAAYoD8ALAZAADjWPwDQHT8ALAZAABigPwBARj4A8AxAAPBTPwDgOD8A8AxAALQT"
            + "QAAIhT8AGKA/ACDTPQAAujsASQNAADrIPwA5HEAAINM9ALEoQAAq4T8AdSJAADrIPwCi7T8AwQ9AAOC7vQDBD0AAaMo+ACrhPwAq"
            + "4T8ASQNAAAQwPwBJA0AA/RVAADkcQACFCUAAOsg/AMEPQACxKEAAwQ9AACrhPwDgu70AOsg/AMEPQACi7T8=";

    @Test
    void q5_0MatchesGgufPyBitForBit() {
        assertBitExact(GgmlType.Q5_0, Q5_0_BLOCKS, Q5_0_VALUES);
    }

    @Test
    void q5_1MatchesGgufPyBitForBit() {
        assertBitExact(GgmlType.Q5_1, Q5_1_BLOCKS, Q5_1_VALUES);
    }

    /** The layout read literally from block_q5_0 / dequantize_row_q5_0, on blocks where each value is known. */
    @Test
    void fifthBitOfValueJIsBitJOfQh() {
        Random random = new Random(5);
        for (GgmlType type : new GgmlType[] {GgmlType.Q5_0, GgmlType.Q5_1}) {
            boolean withMin = type == GgmlType.Q5_1;
            int[] q = new int[32];
            for (int j = 0; j < 32; j++) {
                q[j] = random.nextInt(32);
            }
            ByteBuffer block = ByteBuffer.allocate(type.bytesPerBlock).order(ByteOrder.LITTLE_ENDIAN);
            block.putShort(0, (short) 0x3C00); // d = 1
            if (withMin) {
                block.putShort(2, (short) 0xC000); // m = -2
            }
            int qh = 0;
            for (int j = 0; j < 32; j++) {
                qh |= (q[j] >>> 4) << j;
            }
            int at = withMin ? 4 : 2;
            block.putInt(at, qh);
            for (int j = 0; j < 16; j++) {
                block.put(at + 4 + j, (byte) ((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4)));
            }
            float[] out = new float[32];
            Dequantizer.dequantize(type, block, out);
            for (int j = 0; j < 32; j++) {
                assertEquals(withMin ? q[j] - 2f : q[j] - 16f, out[j], type + " value " + j);
            }
        }
    }

    private static void assertBitExact(GgmlType type, String blocksBase64, String valuesBase64) {
        byte[] blocks = Base64.getDecoder().decode(blocksBase64);
        ByteBuffer expected = ByteBuffer.wrap(Base64.getDecoder().decode(valuesBase64)).order(ByteOrder.LITTLE_ENDIAN);
        int n = expected.capacity() / 4;
        assertEquals(type.bytesFor(n), blocks.length, "block bytes for " + n + " values");
        float[] actual = new float[n];
        Dequantizer.dequantize(type, ByteBuffer.wrap(blocks).order(ByteOrder.LITTLE_ENDIAN), actual);
        for (int i = 0; i < n; i++) {
            int want = expected.getInt(4 * i);
            int got = Float.floatToRawIntBits(actual[i]);
            if (want != got) {
                fail(String.format("%s value %d: expected %s (0x%08x), got %s (0x%08x)",
                        type, i, Float.intBitsToFloat(want), want, Float.intBitsToFloat(got), got));
            }
        }
    }
}
