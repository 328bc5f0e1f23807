package dev.cna.core.model.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks every supported ggml type against values dequantized by gguf-py (fixtures written by
 * tools/fixtures/dequant_fixtures.py). The comparison is bit-exact for every type: our code performs the
 * same float operations in the same order as ggml and gguf-py ((d * scale) * q - dmin * min), and Java
 * float arithmetic is IEEE single precision without fused multiply-add.
 */
class DequantizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K"})
    void matchesGgufPyBitForBit(GgmlType type) throws IOException {
        JsonNode fixture = fixture(type);
        assertEquals(type.id, fixture.get("typeId").asInt(), "fixture type id");
        byte[] blocks = Base64.getDecoder().decode(fixture.get("blocksBase64").asText());
        ByteBuffer expected = ByteBuffer.wrap(Base64.getDecoder().decode(fixture.get("expectedF32Base64").asText()))
                .order(ByteOrder.LITTLE_ENDIAN);
        int n = fixture.get("values").asInt();
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

    @Test
    void kQuantFixturesExerciseEverySixBitScaleAndMin() throws IOException {
        // Sub-blocks 4..7 take their scales from three different bytes; random bytes make all of them matter.
        byte[] blocks = Base64.getDecoder().decode(fixture(GgmlType.Q4_K).get("blocksBase64").asText());
        int highBitsSet = 0;
        for (int j = 0; j < 8; j++) {
            highBitsSet += (blocks[4 + j] & 0xC0) != 0 ? 1 : 0;
        }
        assertTrue(highBitsSet >= 4, "the fixture should set top bits of the packed scales, got " + highBitsSet);
    }

    @Test
    void halfToFloatHandlesSubnormalsAndSpecials() {
        assertEquals(0x1p-24f, Dequantizer.halfToFloat((short) 0x0001));
        assertEquals(-0x1p-14f, Dequantizer.halfToFloat((short) 0x8400));
        assertEquals(65504f, Dequantizer.halfToFloat((short) 0x7BFF));
        assertEquals(Float.NEGATIVE_INFINITY, Dequantizer.halfToFloat((short) 0xFC00));
        assertTrue(Float.isNaN(Dequantizer.halfToFloat((short) 0x7E00)));
        assertEquals(0x80000000, Float.floatToRawIntBits(Dequantizer.halfToFloat((short) 0x8000)));
    }

    @Test
    void unsupportedTypeNamesItselfAndTheSupportedOnes() {
        var e = assertThrows(UnsupportedOperationException.class,
                () -> Dequantizer.dequantize(GgmlType.Q2_K, ByteBuffer.allocate(84), new float[256]));
        assertTrue(e.getMessage().contains("Q2_K") && e.getMessage().contains("Q6_K"), e.getMessage());
    }

    private static JsonNode fixture(GgmlType type) throws IOException {
        String resource = "/fixtures/dequant/" + type + ".json";
        try (InputStream in = DequantizerTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "missing fixture " + resource + " (run tools/fixtures/dequant_fixtures.py)");
            return JSON.readTree(in);
        }
    }
}
